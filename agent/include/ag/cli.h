/* Plumbing shared by the agent's subcommands (store, sync, visit, terminal):
 * option parsing against a table, opening the store named by --store or
 * CAREFACT_AGENT_STORE, reading the card through the reader with the region's
 * token key, and printing outcomes as Russian text or as one JSON object.
 * Exit statuses are ag/commands.h's: 0 done, 1 failed (reason printed), 2 usage. */
#ifndef AG_CLI_H
#define AG_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "ag/store.h"
#include "cf/error.h"
#include "cf/event.h"

#define AG_OPT_MAX_VALUES CF_MAX_SERVICES
#define AG_CARD_WAIT_DEFAULT_S 30

struct ag_option {
    const char *name; /* "--store" */
    bool takes_value;
    bool repeatable;
    size_t count; /* times given */
    const char *values[AG_OPT_MAX_VALUES]; /* borrowed from argv */
};

/* What a command knows about itself for messages. */
struct ag_cli {
    const char *command; /* "visit start" */
    const char *usage; /* full usage text */
    bool json; /* --json was given */
};

/* Parse argv[1..argc) against opts (n entries). "--json" sets cli->json when the
 * table has it. Prints the problem and the usage and returns AG_EXIT_USAGE on an
 * unknown, repeated or value-less option; 0 otherwise. "--help" prints the usage
 * and returns -1 (the caller exits 0). */
int ag_cli_parse(struct ag_cli *cli, int argc, char **argv, struct ag_option *opts, size_t n);

/* The first value of option name (NULL when not given) / whether it was given. */
const char *ag_cli_value(const struct ag_option *opts, size_t n, const char *name);
const struct ag_option *ag_cli_option(const struct ag_option *opts, size_t n, const char *name);

/* Print "carefact-agent COMMAND: message" and the usage (or a JSON error with name
 * "invalid_argument"); returns AG_EXIT_USAGE. */
int ag_cli_usage_error(const struct ag_cli *cli, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Print the outcome code (Russian sentence, plus detail's English when it says
 * more) on stderr, or {"error","message","detail","field"} on stdout with --json.
 * Returns AG_EXIT_FAILED. */
int ag_cli_fail(const struct ag_cli *cli, int code, const struct cf_error_detail *detail);

/* Open the store: value of --store, else CAREFACT_AGENT_STORE. Prints the problem
 * and returns the exit status (AG_EXIT_USAGE: no path; AG_EXIT_FAILED) or 0. */
int ag_cli_open_store(const struct ag_cli *cli, const char *store_opt, struct ag_store **out);

/* Parse a UUID option value. Returns 0 or AG_EXIT_USAGE (printed). */
int ag_cli_uuid(const struct ag_cli *cli, const char *option, const char *value,
                uint8_t out[CF_UUID_LEN]);

/* --lat DEG --lon DEG --accuracy M (all three or none) into *out. */
int ag_cli_location(const struct ag_cli *cli, const char *lat, const char *lon,
                    const char *accuracy, struct cf_location *out);

/* An integer option within [min, max]. */
int ag_cli_long(const struct ag_cli *cli, const char *option, const char *value, long min, long max,
                long *out);

/* Read the card on the reader: device is --device's value (NULL: LIBNFC_DEVICE),
 * wait_s seconds (0: default). The token key comes from the store's identity.
 * challenge (NULL: none) is the card challenge of the event the card will confirm
 * (ag_card_challenge): an EMV card's proof over it lands in out->proof.
 * prompt (Russian) goes to stderr first. Returns 0, AG_EXIT_USAGE (no reader
 * named) or AG_EXIT_FAILED (printed: no card, reader, not enrolled...). */
int ag_cli_read_card(const struct ag_cli *cli, struct ag_store *store, const char *device,
                     long wait_s, const char *prompt, const uint8_t *challenge,
                     struct cf_card_assurance *out);

/* Print obj as one line on stdout and free it. Returns AG_EXIT_OK, or
 * AG_EXIT_FAILED when obj is NULL (out of memory). */
int ag_cli_print_json(cJSON *obj);

/* Text helpers for the worker. */
const char *ag_reason_text(enum cf_reason reason); /* "никого нет дома", ... */
const char *ag_actor_text(enum cf_actor actor);

#endif
