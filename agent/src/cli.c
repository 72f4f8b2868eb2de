/* Shared plumbing of the agent's subcommands (see ag/cli.h): option tables, the
 * store path, the card read with the enrolled region's key, and the two output
 * forms -- Russian text for a person, one JSON object for scripts and tests. */
#include "ag/cli.h"

#include <errno.h>
#include <math.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag/card_tap.h"
#include "ag/commands.h"
#include "ag/messages.h"
#include "ag/reader.h"
#include "cf/uuid.h"

#define DEVICE_MAX 1023

/* ==== Options ==== */

static struct ag_option *find(struct ag_option *opts, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(opts[i].name, name) == 0)
            return &opts[i];
    return NULL;
}

int ag_cli_parse(struct ag_cli *cli, int argc, char **argv, struct ag_option *opts, size_t n)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(cli->usage, stdout);
            return -1;
        }
        if (strcmp(argv[i], "--json") == 0 && find(opts, n, "--json"))
            cli->json = true; /* known first, so usage errors come out as JSON */
    }
    for (int i = 1; i < argc; i++) {
        struct ag_option *o = find(opts, n, argv[i]);
        if (!o)
            return ag_cli_usage_error(cli, "unknown argument '%.64s'", argv[i]);
        if (o->count && !o->repeatable)
            return ag_cli_usage_error(cli, "%s is given twice", o->name);
        if (o->count >= AG_OPT_MAX_VALUES)
            return ag_cli_usage_error(cli, "%s is given more than %d times", o->name,
                                      AG_OPT_MAX_VALUES);
        if (o->takes_value) {
            if (i + 1 >= argc)
                return ag_cli_usage_error(cli, "%s needs a value", o->name);
            o->values[o->count] = argv[++i];
        }
        o->count++;
    }
    return 0;
}

const struct ag_option *ag_cli_option(const struct ag_option *opts, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(opts[i].name, name) == 0)
            return opts[i].count ? &opts[i] : NULL;
    return NULL;
}

const char *ag_cli_value(const struct ag_option *opts, size_t n, const char *name)
{
    const struct ag_option *o = ag_cli_option(opts, n, name);
    return o && o->takes_value ? o->values[0] : NULL;
}

/* ==== Output ==== */

int ag_cli_print_json(cJSON *obj)
{
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    if (!text) {
        fprintf(stderr, "carefact-agent: out of memory\n");
        return AG_EXIT_FAILED;
    }
    printf("%s\n", text);
    fflush(stdout);
    cJSON_free(text);
    return AG_EXIT_OK;
}

static void print_error_json(const char *name, const char *message, const char *detail,
                             const char *field)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj) {
        cJSON_AddStringToObject(obj, "error", name);
        cJSON_AddStringToObject(obj, "message", message);
        if (detail && detail[0])
            cJSON_AddStringToObject(obj, "detail", detail);
        if (field && field[0])
            cJSON_AddStringToObject(obj, "field", field);
    }
    ag_cli_print_json(obj);
}

int ag_cli_usage_error(const struct ag_cli *cli, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    fprintf(stderr, "carefact-agent %s: %s\n%s", cli->command, message, cli->usage);
    if (cli->json)
        print_error_json("invalid_argument", message, NULL, NULL);
    return AG_EXIT_USAGE;
}

int ag_cli_fail(const struct ag_cli *cli, int code, const struct cf_error_detail *detail)
{
    const char *message = ag_message(code);
    const char *more = detail && detail->message[0] ? detail->message : "";
    if (cli->json) {
        print_error_json(cf_error_name(code), message, more, detail ? detail->field : NULL);
    } else if (more[0]) {
        fprintf(stderr, "%s\n(%s)\n", message, more);
    } else {
        fprintf(stderr, "%s\n", message);
    }
    return AG_EXIT_FAILED;
}

/* ==== Store ==== */

int ag_cli_open_store(const struct ag_cli *cli, const char *store_opt, struct ag_store **out)
{
    const char *path = store_opt;
    if (!path || !path[0])
        path = getenv("CAREFACT_AGENT_STORE");
    if (!path || !path[0])
        return ag_cli_usage_error(cli, "no store: give --store FILE or set CAREFACT_AGENT_STORE");
    struct cf_error_detail d = {0};
    int rc = ag_store_open(path, out, &d);
    return rc ? ag_cli_fail(cli, rc, &d) : 0;
}

/* ==== Values ==== */

int ag_cli_uuid(const struct ag_cli *cli, const char *option, const char *value,
                uint8_t out[CF_UUID_LEN])
{
    if (cf_uuid_from_text(value, out))
        return ag_cli_usage_error(cli, "%s must be a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                                  option);
    return 0;
}

int ag_cli_long(const struct ag_cli *cli, const char *option, const char *value, long min, long max,
                long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < min || v > max)
        return ag_cli_usage_error(cli, "%s must be a whole number from %ld to %ld", option, min,
                                  max);
    *out = v;
    return 0;
}

static int parse_degrees(const char *value, double limit, int32_t *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(value, &end);
    if (errno || end == value || *end || !isfinite(v) || v < -limit || v > limit)
        return -1;
    *out = (int32_t)(v * 1e7 + (v >= 0 ? 0.5 : -0.5)); /* nearest 1e-7 degree */
    return 0;
}

int ag_cli_location(const struct ag_cli *cli, const char *lat, const char *lon,
                    const char *accuracy, struct cf_location *out)
{
    memset(out, 0, sizeof *out);
    if (!lat && !lon && !accuracy)
        return 0;
    if (!lat || !lon || !accuracy)
        return ag_cli_usage_error(cli, "a position needs --lat, --lon and --accuracy together");
    if (parse_degrees(lat, 90, &out->lat_e7))
        return ag_cli_usage_error(cli, "--lat must be degrees from -90 to 90, e.g. 59.2205");
    if (parse_degrees(lon, 180, &out->lon_e7))
        return ag_cli_usage_error(cli, "--lon must be degrees from -180 to 180, e.g. 39.8915");
    long metres = 0;
    int rc = ag_cli_long(cli, "--accuracy", accuracy, 0, 100000, &metres);
    if (rc)
        return rc;
    out->accuracy_m = (int32_t)metres;
    out->present = true;
    return 0;
}

/* ==== Card ==== */

static bool printable(const char *text)
{
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7F)
            return false;
    return true;
}

int ag_cli_read_card(const struct ag_cli *cli, struct ag_store *store, const char *device,
                     long wait_s, const char *prompt, const uint8_t *challenge,
                     struct cf_card_assurance *out)
{
    memset(out, 0, sizeof *out);
    if (!device || !device[0])
        device = getenv("LIBNFC_DEVICE");
    if (!device || !device[0])
        return ag_cli_usage_error(cli, "no reader: give --device CONNSTRING or set LIBNFC_DEVICE");
    if (strlen(device) > DEVICE_MAX || !printable(device))
        return ag_cli_usage_error(cli, "--device must be a libnfc connstring without spaces");
    fprintf(stderr, "%s\n", prompt);
    int rc = ag_card_tap(store, device, (int)(wait_s > 0 ? wait_s : AG_CARD_WAIT_DEFAULT_S) * 1000,
                         challenge, out);
    return rc ? ag_cli_fail(cli, rc, NULL) : AG_EXIT_OK;
}

const char *ag_reason_text(enum cf_reason reason)
{
    switch (reason) {
    case CF_REASON_NOBODY_HOME:
        return AG_MSG_REASON_NOBODY_HOME;
    case CF_REASON_REFUSED:
        return AG_MSG_REASON_REFUSED;
    case CF_REASON_IN_HOSPITAL:
        return AG_MSG_REASON_IN_HOSPITAL;
    case CF_REASON_WORKER_ILL:
        return AG_MSG_REASON_WORKER_ILL;
    case CF_REASON_OTHER:
        return AG_MSG_REASON_OTHER;
    default:
        return "";
    }
}

const char *ag_actor_text(enum cf_actor actor)
{
    switch (actor) {
    case CF_ACTOR_WORKER:
        return AG_MSG_BY_WORKER;
    case CF_ACTOR_RECIPIENT:
        return AG_MSG_BY_RECIPIENT;
    case CF_ACTOR_PROVIDER:
        return AG_MSG_BY_PROVIDER;
    default:
        return "";
    }
}
