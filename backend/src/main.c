/* carefactd: the carefact backend. Subcommands: serve, migrate, enroll-code, routes.
 * Settings come from --config FILE, CAREFACT_* environment variables and flags, in
 * that order of precedence (flags win). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be/applications.h"
#include "be/config.h"
#include "be/db.h"
#include "be/demo.h"
#include "be/devices.h"
#include "be/router.h"
#include "be/http.h"
#include "be/outbox.h"
#include "be/session.h"
#include "be/tls.h"
#include "be/webhooks.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: carefactd COMMAND [OPTIONS]\n"
            "  serve        --db CONNINFO [--db-read CONNINFO] [--listen HOST:PORT] [--threads N]\n"
            "               [--tls-cert PEM --tls-key PEM] [--sql-dir DIR] [--body-max BYTES]\n"
            "               [--header-timeout-ms MS] [--body-timeout-ms MS]\n"
            "               [--body-min-rate BYTES_PER_S] [--address-connections N]\n"
            "               [--address-streams N] [--emv-ca-keys FILE]\n"
            "               [--sms-url URL [--outbox-interval-ms MS]]\n"
            "               [--public-holds-per-address N] [--compare-cache-s S]\n"
            "               [--config FILE]\n"
            "  migrate      --db CONNINFO [--sql-dir DIR]\n"
            "  enroll-code  --db CONNINFO --worker ID [--ttl-minutes N]   one-time device code\n"
            "  demo-data    --db CONNINFO --token-key-hex HEX   load the demo region\n"
            "  plan-visits  --db CONNINFO   plans of every running programme, 14 days ahead\n"
            "               (daily; re-runnable)\n"
            "  routes       print the HTTP routes served\n"
            "  user add     --db CONNINFO --role ROLE [--provider ID] [--worker ID] LOGIN\n"
            "               (password on stdin)\n"
            "  user disable --db CONNINFO LOGIN\n"
            "Environment: CAREFACT_DB, CAREFACT_DB_READ, CAREFACT_LISTEN, CAREFACT_THREADS, "
            "CAREFACT_SQL_DIR,\n"
            "CAREFACT_TLS_CERT, CAREFACT_TLS_KEY, CAREFACT_BODY_MAX, CAREFACT_HEADER_TIMEOUT_MS,\n"
            "CAREFACT_BODY_TIMEOUT_MS, CAREFACT_BODY_MIN_RATE, CAREFACT_ADDRESS_CONNECTIONS,\n"
            "CAREFACT_ADDRESS_STREAMS, CAREFACT_EMV_CA_KEYS.\n");
}

/* Parse --key value flags into config (and the enroll-code extras). */
static int parse_flags(int argc, char **argv, struct be_config *config, const char **extra_arg,
                       const char **ttl)
{
    char err[512];
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            if (be_config_load_file(config, argv[++i], err, sizeof err))
                goto bad;
            continue;
        }
        if (strcmp(argv[i], "--migrate") == 0) {
            config->migrate = true;
            continue;
        }
        if (strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
            snprintf(err, sizeof err, "'%.40s' needs a value or is not an option", argv[i]);
            goto bad;
        }
        const char *key = argv[i] + 2, *value = argv[++i];
        if (strcmp(key, "worker") == 0 || strcmp(key, "token-key-hex") == 0)
            *extra_arg = value; /* the one extra argument of enroll-code / demo-data */
        else if (strcmp(key, "ttl-minutes") == 0)
            *ttl = value;
        else if (be_config_set(config, key, value, err, sizeof err))
            goto bad;
    }
    return 0;
bad:
    fprintf(stderr, "carefactd: %s\n", err);
    return -1;
}

int main(int argc, char **argv)
{
    struct be_config config;
    const char *extra_arg = NULL, *ttl = "1440";
    char err[512] = "";
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    be_config_defaults(&config);
    if (be_config_load_env(&config, err, sizeof err)) {
        fprintf(stderr, "carefactd: %s\n", err);
        return 2;
    }
    if (strcmp(argv[1], "user") == 0)
        return be_user_main(argc, argv, config.db);
    if (parse_flags(argc, argv, &config, &extra_arg, &ttl))
        return 2;
    const char *command = argv[1];
    if (strcmp(command, "routes") == 0) {
        const struct be_route *route;
        for (size_t i = 0; (route = be_route_at(&be_route_table, i)) != NULL; i++)
            printf("%s %s\n", route->method, route->pattern);
        return 0;
    }
    if (!config.db[0]) {
        fprintf(stderr, "carefactd: --db CONNINFO (or CAREFACT_DB) is required\n");
        return 2;
    }
    if (strcmp(command, "migrate") == 0)
        return be_db_migrate(config.db, config.sql_dir, stderr) ? 1 : 0;
    if (strcmp(command, "demo-data") == 0) {
        if (!extra_arg) {
            fprintf(stderr, "carefactd: demo-data needs --token-key-hex HEX\n");
            return 2;
        }
        return be_demo_data_load(config.db, config.sql_dir, extra_arg, stdout) ? 1 : 0;
    }
    if (strcmp(command, "plan-visits") == 0) {
        long added = 0;
        if (be_plans_generate(config.db, &added, err, sizeof err)) {
            fprintf(stderr, "carefactd: %s\n", err);
            return 1;
        }
        printf("%ld visit plans added\n", added);
        return 0;
    }
    if (strcmp(command, "enroll-code") == 0) {
        char code[BE_ENROLL_CODE_LEN + 1];
        long minutes = 0;
        if (!extra_arg) {
            fprintf(stderr, "carefactd: enroll-code needs --worker ID\n");
            return 2;
        }
        char *end = NULL;
        minutes = strtol(ttl, &end, 10);
        if (!end || *end || end == ttl) {
            fprintf(stderr, "carefactd: --ttl-minutes must be a whole number of minutes\n");
            return 2;
        }
        if (be_enroll_code_issue(config.db, extra_arg, (int)minutes, code, err, sizeof err)) {
            fprintf(stderr, "carefactd: %s\n", err);
            return 1;
        }
        printf("%s\n", code);
        return 0;
    }
    if (strcmp(command, "serve") == 0) {
        /* The compatibility libraries must be linked in (see be/tls.h): referencing
         * them here keeps the linker from dropping them as unused. */
        if (config.tls_cert[0] && (!be_ssl_compat_present() || !be_crypto_compat_present() ||
                                   be_tls_check(&config, err, sizeof err))) {
            fprintf(stderr, "carefactd: %s\n", err[0] ? err : "HTTPS: OpenSSL 3 is required");
            return 2;
        }
        if (config.tls_key[0] && !config.tls_cert[0]) {
            fprintf(stderr, "carefactd: --tls-key needs --tls-cert\n");
            return 2;
        }
        /* The serving role is not the owner (be_db_check_serving_role), so it cannot
         * migrate: migrations run as the owner, with `carefactd migrate`. */
        if (config.migrate) {
            fprintf(stderr, "carefactd: serve --migrate is not supported: carefactd serves as "
                            "the app role, which cannot change the schema; run carefactd "
                            "migrate --db OWNER-CONNINFO first\n");
            return 2;
        }
        /* A bad key line stops start-up naming it, rather than every proof failing. */
        if (be_config_load_ca_keys(&config, err, sizeof err)) {
            fprintf(stderr, "carefactd: %s\n", err);
            return 2;
        }
        if (be_db_check_serving_role(config.db, err, sizeof err) ||
            (config.db_read[0] && be_db_check_serving_role(config.db_read, err, sizeof err))) {
            fprintf(stderr, "carefactd: %s\n", err);
            return 1;
        }
        /* The senders run beside the HTTP server and stop after it has drained: the
         * webhooks' always, the outbox's (appointments' messages) when a gateway is set. */
        if (be_webhook_sender_start(&config))
            return 1;
        if (config.sms_url[0] &&
            be_outbox_start(config.db, config.sms_url, (int)config.outbox_interval_ms)) {
            fprintf(stderr, "carefactd: the outbox sender could not start\n");
            be_webhook_sender_stop();
            return 1;
        }
        int rc = be_serve(&config);
        be_outbox_stop();
        be_webhook_sender_stop();
        return rc;
    }
    fprintf(stderr, "carefactd: unknown command '%.40s'\n", command);
    usage(stderr);
    return 2;
}
