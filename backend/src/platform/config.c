/* carefactd configuration: defaults, then the config file (--config FILE, lines
 * "key = value", '#' comments), then environment variables (CAREFACT_DB, ...), then
 * command-line flags. Every value is checked; a bad one stops start-up with a
 * message naming it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be/config.h"

void be_config_defaults(struct be_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->listen, sizeof c->listen, "127.0.0.1:8080");
    snprintf(c->sql_dir, sizeof c->sql_dir, "%s", BE_DEFAULT_SQL_DIR);
    c->threads = 16;
    c->body_max = BE_BODY_MAX_DEFAULT;
    c->header_timeout_ms = 5000;
    c->body_timeout_ms = 10000;
    c->body_min_rate = 1024;
    c->address_connections = -1;
    c->address_streams = -1;
    c->webhook_backoff_ms = 10000;
    c->webhook_backoff_max_ms = 600000;
    c->webhook_disable_after = 20;
    c->webhook_timeout_ms = 10000;
    c->webhook_poll_ms = 1000;
    c->outbox_interval_ms = 5000;
    c->public_holds_per_address = 5;
    c->compare_cache_s = 300;
}

int be_config_address_connections(const struct be_config *c)
{
    if (c->address_connections >= 0)
        return (int)c->address_connections;
    /* NOTE: never below 6, the connections a browser opens to one host at once: a
     * lower cap would turn a dashboard's parallel requests into 429s. */
    return c->threads / 2 > BE_ADDRESS_CONNECTIONS_MIN ? c->threads / 2
                                                       : BE_ADDRESS_CONNECTIONS_MIN;
}

int be_config_address_streams(const struct be_config *c)
{
    if (c->address_streams >= 0)
        return (int)c->address_streams;
    int connections = be_config_address_connections(c);
    if (connections == 0)
        return c->threads / 2 > 0 ? c->threads / 2 : 1;
    return connections > 2 ? connections - 2 : 1;
}

static int set_text(char *dst, size_t size, const char *value, const char *key, char *err,
                    size_t err_size)
{
    if (strlen(value) >= size) {
        snprintf(err, err_size, "%s is too long (at most %zu characters)", key, size - 1);
        return -1;
    }
    snprintf(dst, size, "%s", value);
    return 0;
}

/* An IP address as text into its bytes (4 or 16): the length, or 0 when it is none. */
static size_t ip_bytes(const char *text, size_t len, unsigned char out[16])
{
    char buf[INET6_ADDRSTRLEN];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, out) == 1)
        return 4;
    return inet_pton(AF_INET6, buf, out) == 1 ? 16 : 0;
}

/* A comma-separated list of addresses (blanks around each trimmed) into ips/lens, at most
 * max: the count, -1 at an entry that is not an address (its text into *bad, *bad_len),
 * or -2 when there are more than max. */
static int address_list(const char *list, unsigned char ips[][16], size_t *lens, int max,
                        const char **bad, size_t *bad_len)
{
    int count = 0;
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (count == max)
            return -2;
        if (!(lens[count] = ip_bytes(a, (size_t)(b - a), ips[count]))) {
            *bad = a;
            *bad_len = (size_t)(b - a);
            return -1;
        }
        count++;
        p = *end ? end + 1 : end;
    }
    return count;
}

static int set_proxies(struct be_config *c, const char *value, char *err, size_t err_size)
{
    unsigned char ips[BE_TRUSTED_PROXIES_MAX][16];
    size_t lens[BE_TRUSTED_PROXIES_MAX], bad_len = 0;
    const char *bad = NULL;
    int count = address_list(value, ips, lens, BE_TRUSTED_PROXIES_MAX, &bad, &bad_len);
    if (count == -1) {
        snprintf(err, err_size,
                 "trusted-proxies must be IP addresses separated by commas; '%.*s' is not one",
                 (int)(bad_len > 60 ? 60 : bad_len), bad);
        return -1;
    }
    if (count < 0) {
        snprintf(err, err_size, "trusted-proxies holds at most %d addresses",
                 BE_TRUSTED_PROXIES_MAX);
        return -1;
    }
    return set_text(c->trusted_proxies, sizeof c->trusted_proxies, value, "trusted-proxies", err,
                    err_size);
}

bool be_config_proxy_trusted(const struct be_config *c, const char *addr)
{
    unsigned char ip[16], ips[BE_TRUSTED_PROXIES_MAX][16];
    size_t n, lens[BE_TRUSTED_PROXIES_MAX], bad_len = 0;
    const char *bad = NULL;
    if (!c || !c->trusted_proxies[0] || !addr || !(n = ip_bytes(addr, strlen(addr), ip)))
        return false;
    int count = address_list(c->trusted_proxies, ips, lens, BE_TRUSTED_PROXIES_MAX, &bad, &bad_len);
    for (int i = 0; i < count; i++)
        if (lens[i] == n && memcmp(ips[i], ip, n) == 0)
            return true;
    return false;
}

static int set_long(long *dst, const char *value, long min, long max, const char *key, char *err,
                    size_t err_size)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || !end || *end || end == value || v < min || v > max) {
        snprintf(err, err_size, "%s must be a whole number from %ld to %ld, not '%.40s'", key, min,
                 max, value);
        return -1;
    }
    *dst = v;
    return 0;
}

int be_config_set(struct be_config *c, const char *key, const char *value, char *err,
                  size_t err_size)
{
    long n = 0;
    if (strcmp(key, "db") == 0)
        return set_text(c->db, sizeof c->db, value, key, err, err_size);
    if (strcmp(key, "db-read") == 0)
        return set_text(c->db_read, sizeof c->db_read, value, key, err, err_size);
    if (strcmp(key, "listen") == 0)
        return set_text(c->listen, sizeof c->listen, value, key, err, err_size);
    if (strcmp(key, "sql-dir") == 0)
        return set_text(c->sql_dir, sizeof c->sql_dir, value, key, err, err_size);
    if (strcmp(key, "tls-cert") == 0)
        return set_text(c->tls_cert, sizeof c->tls_cert, value, key, err, err_size);
    if (strcmp(key, "tls-key") == 0)
        return set_text(c->tls_key, sizeof c->tls_key, value, key, err, err_size);
    if (strcmp(key, "threads") == 0) {
        if (set_long(&n, value, 1, 512, key, err, err_size))
            return -1;
        c->threads = (int)n;
        return 0;
    }
    if (strcmp(key, "body-max") == 0) {
        if (set_long(&n, value, 1024, 64L << 20, key, err, err_size))
            return -1;
        c->body_max = (size_t)n;
        return 0;
    }
    if (strcmp(key, "sms-url") == 0) {
        if (value[0] && strncmp(value, "http://", 7) && strncmp(value, "https://", 8)) {
            snprintf(err, err_size, "sms-url must be an http:// or https:// address");
            return -1;
        }
        return set_text(c->sms_url, sizeof c->sms_url, value, key, err, err_size);
    }
    if (strcmp(key, "trusted-proxies") == 0)
        return set_proxies(c, value, err, err_size);
    if (strcmp(key, "emv-ca-keys") == 0)
        return set_text(c->emv_ca_keys, sizeof c->emv_ca_keys, value, key, err, err_size);
    static const struct {
        const char *key;
        long min, max;
        size_t offset;
    } numbers[] = {
        {"header-timeout-ms", 100, 600000, offsetof(struct be_config, header_timeout_ms)},
        {"body-timeout-ms", 100, 3600000, offsetof(struct be_config, body_timeout_ms)},
        {"body-min-rate", 0, 1L << 30, offsetof(struct be_config, body_min_rate)},
        {"address-connections", 0, 512, offsetof(struct be_config, address_connections)},
        {"address-streams", 1, 512, offsetof(struct be_config, address_streams)},
        {"webhook-backoff-ms", 1, 86400000L, offsetof(struct be_config, webhook_backoff_ms)},
        {"webhook-backoff-max-ms", 1, 86400000L,
         offsetof(struct be_config, webhook_backoff_max_ms)},
        {"webhook-disable-after", 1, 1000, offsetof(struct be_config, webhook_disable_after)},
        {"webhook-timeout-ms", 100, 120000, offsetof(struct be_config, webhook_timeout_ms)},
        {"webhook-poll-ms", 10, 60000, offsetof(struct be_config, webhook_poll_ms)},
        {"outbox-interval-ms", 50, 3600000, offsetof(struct be_config, outbox_interval_ms)},
        {"public-holds-per-address", 1, 1000, offsetof(struct be_config, public_holds_per_address)},
        {"compare-cache-s", 0, 3600, offsetof(struct be_config, compare_cache_s)},
    };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        if (strcmp(key, numbers[i].key) != 0)
            continue;
        if (set_long(&n, value, numbers[i].min, numbers[i].max, key, err, err_size))
            return -1;
        *(long *)(void *)((char *)c + numbers[i].offset) = n;
        return 0;
    }
    if (strcmp(key, "migrate") == 0) {
        if (strcmp(value, "true") && strcmp(value, "false")) {
            snprintf(err, err_size, "migrate must be true or false");
            return -1;
        }
        c->migrate = strcmp(value, "true") == 0;
        return 0;
    }
    snprintf(err, err_size, "unknown setting '%.40s'", key);
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        s[--len] = '\0';
    return s;
}

#define CONFIG_LINE_MAX 2048 /* bytes of one line, newline included */

int be_config_load_stream(struct be_config *c, FILE *f, const char *name, char *err,
                          size_t err_size)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int number = 0, rc = 0;
    while (!rc && (n = getline(&line, &cap, f)) >= 0) {
        number++;
        if (n > CONFIG_LINE_MAX) {
            snprintf(err, err_size, "%s line %d: longer than %d bytes", name, number,
                     CONFIG_LINE_MAX);
            rc = -1;
            break;
        }
        if (strlen(line) != (size_t)n) {
            snprintf(err, err_size, "%s line %d: holds a NUL byte", name, number);
            rc = -1;
            break;
        }
        char *text = trim(line);
        if (!*text || *text == '#')
            continue;
        char *eq = strchr(text, '=');
        if (!eq) {
            snprintf(err, err_size, "%s line %d: expected 'key = value'", name, number);
            rc = -1;
            break;
        }
        *eq = '\0';
        char inner[256];
        rc = be_config_set(c, trim(text), trim(eq + 1), inner, sizeof inner);
        if (rc)
            snprintf(err, err_size, "%s line %d: %s", name, number, inner);
    }
    free(line);
    return rc;
}

int be_config_load_file(struct be_config *c, const char *path, char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_size, "cannot open config file %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = be_config_load_stream(c, f, path, err, err_size);
    fclose(f);
    return rc;
}

int be_config_load_env(struct be_config *c, char *err, size_t err_size)
{
    static const char *const vars[][2] = {
        {"CAREFACT_DB", "db"},
        {"CAREFACT_DB_READ", "db-read"},
        {"CAREFACT_LISTEN", "listen"},
        {"CAREFACT_SQL_DIR", "sql-dir"},
        {"CAREFACT_TLS_CERT", "tls-cert"},
        {"CAREFACT_TLS_KEY", "tls-key"},
        {"CAREFACT_THREADS", "threads"},
        {"CAREFACT_BODY_MAX", "body-max"},
        {"CAREFACT_EMV_CA_KEYS", "emv-ca-keys"},
        {"CAREFACT_HEADER_TIMEOUT_MS", "header-timeout-ms"},
        {"CAREFACT_BODY_TIMEOUT_MS", "body-timeout-ms"},
        {"CAREFACT_BODY_MIN_RATE", "body-min-rate"},
        {"CAREFACT_ADDRESS_CONNECTIONS", "address-connections"},
        {"CAREFACT_ADDRESS_STREAMS", "address-streams"},
        {"CAREFACT_WEBHOOK_BACKOFF_MS", "webhook-backoff-ms"},
        {"CAREFACT_WEBHOOK_BACKOFF_MAX_MS", "webhook-backoff-max-ms"},
        {"CAREFACT_WEBHOOK_DISABLE_AFTER", "webhook-disable-after"},
        {"CAREFACT_WEBHOOK_TIMEOUT_MS", "webhook-timeout-ms"},
        {"CAREFACT_WEBHOOK_POLL_MS", "webhook-poll-ms"},
        {"CAREFACT_SMS_URL", "sms-url"},
        {"CAREFACT_TRUSTED_PROXIES", "trusted-proxies"},
        {"CAREFACT_OUTBOX_INTERVAL_MS", "outbox-interval-ms"},
        {"CAREFACT_PUBLIC_HOLDS_PER_ADDRESS", "public-holds-per-address"},
        {"CAREFACT_COMPARE_CACHE_S", "compare-cache-s"},
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *value = getenv(vars[i][0]);
        if (value && be_config_set(c, vars[i][1], value, err, err_size))
            return -1;
    }
    return 0;
}

/* ==== EMV CA public keys ==== */

int be_config_load_ca_keys_stream(struct be_config *c, FILE *f, const char *name, char *err,
                                  size_t err_size)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int number = 0, rc = 0;
    c->ca_key_count = 0;
    while (!rc && (n = getline(&line, &cap, f)) >= 0) {
        struct cf_oda_ca_key key;
        struct cf_error_detail detail = {0};
        number++;
        if (n > CONFIG_LINE_MAX || strlen(line) != (size_t)n) {
            snprintf(err, err_size, "%s line %d: longer than %d bytes or holds a NUL byte", name,
                     number, CONFIG_LINE_MAX);
            rc = -1;
            break;
        }
        int got = cf_oda_ca_key_parse(line, (size_t)n, &key, &detail);
        if (got < 0) {
            snprintf(err, err_size, "%s line %d: %s (expected RID INDEX MODULUS_HEX EXPONENT_HEX)",
                     name, number, detail.message);
            rc = -1;
        } else if (got == 1 && cf_oda_ca_find(c->ca_keys, c->ca_key_count, key.rid, key.index)) {
            snprintf(err, err_size, "%s line %d: this RID and index are listed twice", name,
                     number);
            rc = -1;
        } else if (got == 1 && c->ca_key_count == BE_CA_KEYS_MAX) {
            snprintf(err, err_size, "%s line %d: more than %d keys", name, number, BE_CA_KEYS_MAX);
            rc = -1;
        } else if (got == 1) {
            c->ca_keys[c->ca_key_count++] = key;
        }
    }
    free(line);
    return rc;
}

int be_config_load_ca_keys(struct be_config *c, char *err, size_t err_size)
{
    c->ca_key_count = 0;
    if (!c->emv_ca_keys[0])
        return 0;
    FILE *f = fopen(c->emv_ca_keys, "r");
    if (!f) {
        snprintf(err, err_size, "cannot open the EMV CA key file %s: %s", c->emv_ca_keys,
                 strerror(errno));
        return -1;
    }
    int rc = be_config_load_ca_keys_stream(c, f, c->emv_ca_keys, err, err_size);
    fclose(f);
    return rc;
}
