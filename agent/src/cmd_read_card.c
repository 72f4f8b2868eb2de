/* `carefact-agent read-card`: read the card on the reader once and print who it is
 * (its token, scheme, last four digits, expiry), as one JSON object for scripts or
 * as Russian text for the worker. Every argument is checked before the reader is
 * touched; the token key is wiped before the process exits. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag/card_output.h"
#include "ag/commands.h"
#include "ag/reader.h"
#include "cf/codec.h"
#include "cf/token.h"

#define WAIT_DEFAULT_S 10
#define WAIT_MAX_S 600
#define DEVICE_MAX 1023

static const char read_card_usage[] =
    "usage: carefact-agent read-card --device CONNSTRING --token-key-hex HEX\n"
    "                                [--wait SECONDS] [--json] [--proof]\n"
    "  --device CONNSTRING  libnfc reader, e.g. pn532_uart:/dev/ttyUSB0 (default: the\n"
    "                       LIBNFC_DEVICE environment variable)\n"
    "  --token-key-hex HEX  regional card token key, 16..64 bytes as 32..128 hex digits\n"
    "  --wait SECONDS       how long to wait for a card, 1..600 (default 10)\n"
    "  --json               print one JSON object instead of text\n"
    "  --proof              also ask an EMV card for its proof (offline data\n"
    "                       authentication over a random challenge; what a visit does)\n"
    "                       and add \"proof\" (its kind) and \"proof_note\" to the JSON\n";

struct read_card_args {
    const char *device;
    uint8_t key[CF_TOKEN_KEY_MAX];
    size_t key_len;
    int wait_s;
    bool json;
    bool proof;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int
usage_error(bool json, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    fprintf(stderr, "carefact-agent read-card: %s\n%s", message, read_card_usage);
    if (json) {
        /* cJSON escapes what the message quotes from the command line. */
        cJSON *obj = cJSON_CreateObject();
        char *text = NULL;
        if (obj && cJSON_AddStringToObject(obj, "error", "invalid_argument") &&
            cJSON_AddStringToObject(obj, "message", message))
            text = cJSON_PrintUnformatted(obj);
        if (text)
            printf("%s\n", text);
        cJSON_free(text);
        cJSON_Delete(obj);
    }
    return AG_EXIT_USAGE;
}

static bool printable(const char *text)
{
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7F)
            return false;
    return true;
}

static int parse_device(struct read_card_args *a, const char *value, const char *source)
{
    size_t len = strlen(value);
    if (len == 0 || len > DEVICE_MAX || !printable(value))
        return usage_error(a->json,
                           "%s must be a libnfc connstring of 1..%d printable characters "
                           "without spaces, e.g. pn532_uart:/dev/ttyUSB0",
                           source, DEVICE_MAX);
    a->device = value;
    return 0;
}

static int parse_key(struct read_card_args *a, const char *value)
{
    size_t len = strlen(value);
    if (len < 2 * CF_TOKEN_KEY_MIN || len > 2 * CF_TOKEN_KEY_MAX || len % 2)
        return usage_error(a->json,
                           "--token-key-hex must be %d..%d hex digits (a %d..%d-byte key), "
                           "got %zu characters",
                           2 * CF_TOKEN_KEY_MIN, 2 * CF_TOKEN_KEY_MAX, CF_TOKEN_KEY_MIN,
                           CF_TOKEN_KEY_MAX, len);
    if (cf_hex_decode(value, len, a->key, sizeof a->key, &a->key_len))
        return usage_error(a->json, "--token-key-hex must contain only hex digits 0-9 a-f");
    return 0;
}

static int parse_wait(struct read_card_args *a, const char *value)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end != '\0' || v < 1 || v > WAIT_MAX_S)
        return usage_error(a->json, "--wait must be a whole number of seconds, 1..%d", WAIT_MAX_S);
    a->wait_s = (int)v;
    return 0;
}

static int parse_args(int argc, char **argv, struct read_card_args *a)
{
    bool seen_device = false, seen_key = false, seen_wait = false;
    a->wait_s = WAIT_DEFAULT_S;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--json") == 0)
            a->json = true; /* known first, so errors before it come out as JSON */
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--json") == 0)
            continue;
        if (strcmp(opt, "--proof") == 0) {
            a->proof = true;
            continue;
        }
        bool *seen = strcmp(opt, "--device") == 0          ? &seen_device
                     : strcmp(opt, "--token-key-hex") == 0 ? &seen_key
                     : strcmp(opt, "--wait") == 0          ? &seen_wait
                                                           : NULL;
        if (!seen)
            return usage_error(a->json, "unknown argument '%.64s'", opt);
        if (*seen)
            return usage_error(a->json, "%s is given twice", opt);
        if (i + 1 >= argc)
            return usage_error(a->json, "%s needs a value", opt);
        *seen = true;
        const char *value = argv[++i];
        int rc = seen == &seen_device ? parse_device(a, value, "--device")
                 : seen == &seen_key  ? parse_key(a, value)
                                      : parse_wait(a, value);
        if (rc)
            return rc;
    }
    if (!seen_device) {
        const char *env = getenv("LIBNFC_DEVICE");
        if (!env || !env[0])
            return usage_error(a->json, "no reader: give --device CONNSTRING or set "
                                        "LIBNFC_DEVICE");
        int rc = parse_device(a, env, "LIBNFC_DEVICE");
        if (rc)
            return rc;
    }
    if (!seen_key)
        return usage_error(a->json, "--token-key-hex is required");
    return 0;
}

static int print_error(const struct read_card_args *a, int code)
{
    if (a->json) {
        char json[1024];
        if (ag_read_error_json(code, json, sizeof json) == 0)
            printf("%s\n", json);
    } else {
        fprintf(stderr, "%s\n", ag_read_error_message(code));
    }
    fflush(stdout);
    return AG_EXIT_FAILED;
}

static int print_result(const struct read_card_args *a, const struct ag_card_read *read)
{
    char text[1024];
    int rc = a->json ? ag_card_read_json(read, text, sizeof text)
                     : ag_card_read_text(read, text, sizeof text);
    if (rc)
        return print_error(a, rc);
    if (a->json && a->proof) {
        /* The proof's kind ("none".."cda"; null: no proof, a UID card or no AIP). */
        cJSON *obj = cJSON_Parse(text);
        const char *kind = cf_proof_kind_name(read->card.proof.kind);
        char *with = NULL;
        if (obj &&
            cJSON_AddItemToObject(obj, "proof",
                                  kind ? cJSON_CreateString(kind) : cJSON_CreateNull()) &&
            cJSON_AddStringToObject(obj, "proof_note", read->proof_note))
            with = cJSON_PrintUnformatted(obj);
        cJSON_Delete(obj);
        if (!with)
            return print_error(a, CF_ENOMEM);
        snprintf(text, sizeof text, "%s", with);
        cJSON_free(with);
    }
    fputs(text, stdout);
    if (a->json)
        fputc('\n', stdout);
    fflush(stdout); /* the result now, not after the reader is closed */
    return AG_EXIT_OK;
}

int ag_cmd_read_card(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(read_card_usage, stdout);
            return AG_EXIT_OK;
        }
    }
    struct read_card_args args;
    memset(&args, 0, sizeof args);
    struct ag_reader *reader = NULL;
    struct ag_card_read read;
    memset(&read, 0, sizeof read);
    int status = parse_args(argc, argv, &args);
    if (status)
        goto out;
    uint8_t challenge[CF_CHALLENGE_LEN];
    int rc = ag_reader_open(args.device, &reader);
    if (!rc && args.proof && RAND_bytes(challenge, sizeof challenge) != 1)
        rc = CF_ECRYPTO;
    if (!rc)
        rc = ag_reader_read_card(reader, args.key, args.key_len, args.wait_s * 1000,
                                 args.proof ? challenge : NULL, &read);
    status = rc ? print_error(&args, rc) : print_result(&args, &read);
out:
    ag_reader_close(reader);
    OPENSSL_cleanse(&args, sizeof args);
    fflush(stdout);
    return status;
}
