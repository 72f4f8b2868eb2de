/* Fuzz target: a carefactd configuration file (`key = value` lines). Any text must be
 * either accepted with every setting within its bounds, or refused with a message
 * naming the line -- never a crash or a setting silently cut short.
 *
 * The target checks exactly that against its own small model of the format (written
 * from be/config.h, not from config.c): lines end at '\n'; blank lines and '#'
 * comments are skipped; a line over 2048 bytes, holding a NUL, without '=', with an
 * unknown key or a value out of bounds is refused. Then:
 * - the model finds a bad line  <=>  the loader refuses, and the loader's message is
 *   "fuzz.conf line N: ..." with N the model's first bad line;
 * - accepted: every setting is the last value the text gave it, byte for byte for the
 *   texts (nothing cut short), as a number for the numbers, and the defaults for the
 *   rest -- all within their bounds. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LINE_MAX_BYTES 2048

enum kind { TEXT, NUMBER, FLAG, URL, LONG, ADDRESSES };

/* The settings be/config.h names, their bounds and where they land. */
struct setting {
    const char *key;
    enum kind kind;
    size_t capacity; /* TEXT, URL: the field's size, NUL included */
    long min, max; /* NUMBER, LONG */
    size_t offset; /* TEXT, URL, LONG past the first eight: where in struct be_config */
    const char *value; /* the last value the text gave (points into the copy), or NULL */
    size_t value_len;
};

#define SETTING_COUNT 25

static void settings_init(struct setting *s, const struct be_config *c)
{
#define AT(field) offsetof(struct be_config, field)
    const struct setting table[] = {
        {"db", TEXT, sizeof c->db, 0, 0, 0, NULL, 0},
        {"listen", TEXT, sizeof c->listen, 0, 0, 0, NULL, 0},
        {"sql-dir", TEXT, sizeof c->sql_dir, 0, 0, 0, NULL, 0},
        {"tls-cert", TEXT, sizeof c->tls_cert, 0, 0, 0, NULL, 0},
        {"tls-key", TEXT, sizeof c->tls_key, 0, 0, 0, NULL, 0},
        {"threads", NUMBER, 0, 1, 512, 0, NULL, 0},
        {"body-max", NUMBER, 0, 1024, 64L << 20, 0, NULL, 0},
        {"migrate", FLAG, 0, 0, 0, 0, NULL, 0},
        /* the settings issues 14, 16, 18 and 20 added */
        {"db-read", TEXT, sizeof c->db_read, 0, 0, AT(db_read), NULL, 0},
        {"emv-ca-keys", TEXT, sizeof c->emv_ca_keys, 0, 0, AT(emv_ca_keys), NULL, 0},
        {"sms-url", URL, sizeof c->sms_url, 0, 0, AT(sms_url), NULL, 0},
        {"header-timeout-ms", LONG, 0, 100, 600000, AT(header_timeout_ms), NULL, 0},
        {"body-timeout-ms", LONG, 0, 100, 3600000, AT(body_timeout_ms), NULL, 0},
        {"body-min-rate", LONG, 0, 0, 1L << 30, AT(body_min_rate), NULL, 0},
        {"address-connections", LONG, 0, 0, 512, AT(address_connections), NULL, 0},
        {"address-streams", LONG, 0, 1, 512, AT(address_streams), NULL, 0},
        {"webhook-backoff-ms", LONG, 0, 1, 86400000L, AT(webhook_backoff_ms), NULL, 0},
        {"webhook-backoff-max-ms", LONG, 0, 1, 86400000L, AT(webhook_backoff_max_ms), NULL, 0},
        {"webhook-disable-after", LONG, 0, 1, 1000, AT(webhook_disable_after), NULL, 0},
        {"webhook-timeout-ms", LONG, 0, 100, 120000, AT(webhook_timeout_ms), NULL, 0},
        {"webhook-poll-ms", LONG, 0, 10, 60000, AT(webhook_poll_ms), NULL, 0},
        {"outbox-interval-ms", LONG, 0, 50, 3600000, AT(outbox_interval_ms), NULL, 0},
        {"trusted-proxies", ADDRESSES, sizeof c->trusted_proxies, 0, 8, AT(trusted_proxies), NULL,
         0},
        {"public-holds-per-address", LONG, 0, 1, 1000, AT(public_holds_per_address), NULL, 0},
        {"compare-cache-s", LONG, 0, 0, 3600, AT(compare_cache_s), NULL, 0},
    };
#undef AT
    _Static_assert(sizeof table / sizeof table[0] == SETTING_COUNT, "SETTING_COUNT");
    memcpy(s, table, sizeof table);
}
#define FIRST_ADDED 8 /* settings[FIRST_ADDED...] are checked through their offsets */

static bool blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* [*start, *end) without leading blanks and trailing blanks, CR and LF. */
static void trim(const char **start, const char **end)
{
    while (*start < *end && blank(**start))
        (*start)++;
    while (*end > *start && (blank((*end)[-1]) || (*end)[-1] == '\r' || (*end)[-1] == '\n'))
        (*end)--;
}

static bool number_ok(const char *value, size_t len, long min, long max, long *out)
{
    char buf[LINE_MAX_BYTES + 1]; /* a value is shorter than its line */
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, value, len);
    buf[len] = '\0';
    char *end = NULL;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Up to max IP addresses separated by commas, blanks around each allowed; "" is none. */
static bool addresses_ok(const char *value, size_t len, long max)
{
    char buf[LINE_MAX_BYTES + 1];
    if (len >= sizeof buf)
        return false;
    memcpy(buf, value, len);
    buf[len] = '\0';
    long count = 0;
    for (char *p = buf; *p;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        const char *a = p, *b = p + strlen(p);
        while (a < b && blank(*a))
            a++;
        while (b > a && blank(b[-1]))
            b--;
        char one[64];
        unsigned char ip[16];
        if (b - a <= 0 || b - a >= (long)sizeof one)
            return false;
        memcpy(one, a, (size_t)(b - a));
        one[b - a] = '\0';
        if (inet_pton(AF_INET, one, ip) != 1 && inet_pton(AF_INET6, one, ip) != 1)
            return false;
        if (++count > max)
            return false;
        p = comma ? comma + 1 : p + strlen(p);
    }
    return true;
}

static bool value_ok(const struct setting *s, const char *value, size_t len)
{
    long ignored;
    switch (s->kind) {
    case TEXT:
        return len < s->capacity;
    case URL: /* empty (off), or an http:// or https:// address */
        return len < s->capacity && (len == 0 || (len >= 7 && memcmp(value, "http://", 7) == 0) ||
                                     (len >= 8 && memcmp(value, "https://", 8) == 0));
    case ADDRESSES:
        return len < s->capacity && addresses_ok(value, len, s->max);
    case NUMBER:
    case LONG:
        return number_ok(value, len, s->min, s->max, &ignored);
    case FLAG:
        return (len == 4 && memcmp(value, "true", 4) == 0) ||
               (len == 5 && memcmp(value, "false", 5) == 0);
    }
    return false;
}

/* One line [line, end) (its '\n' included if any): 0 fine, -1 refused. */
static int model_line(struct setting *settings, const char *line, const char *end)
{
    if (end - line > LINE_MAX_BYTES || memchr(line, '\0', (size_t)(end - line)))
        return -1;
    const char *start = line, *stop = end;
    trim(&start, &stop);
    if (start == stop || *start == '#')
        return 0;
    const char *eq = memchr(start, '=', (size_t)(stop - start));
    if (!eq)
        return -1;
    const char *key = start, *key_end = eq, *value = eq + 1, *value_end = stop;
    trim(&key, &key_end);
    trim(&value, &value_end);
    for (int i = 0; i < SETTING_COUNT; i++) {
        struct setting *s = &settings[i];
        if (strlen(s->key) != (size_t)(key_end - key) || memcmp(s->key, key, strlen(s->key)))
            continue;
        if (!value_ok(s, value, (size_t)(value_end - value)))
            return -1;
        s->value = value;
        s->value_len = (size_t)(value_end - value);
        return 0;
    }
    return -1;
}

/* The model's verdict: 0 accepted, else the first bad line's number. */
static int model(struct setting *settings, const char *text, size_t size)
{
    const char *p = text, *end = text + size;
    int number = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl + 1 : end;
        number++;
        if (model_line(settings, p, line_end))
            return number;
        p = line_end;
    }
    return 0;
}

static void same_text(const struct setting *s, const char *field, size_t field_size,
                      const char *default_value)
{
    if (!memchr(field, '\0', field_size))
        abort(); /* not terminated within its field */
    const char *want = s->value ? s->value : default_value;
    size_t want_len = s->value ? s->value_len : strlen(default_value);
    if (strlen(field) != want_len || memcmp(field, want, want_len) != 0)
        abort(); /* cut short, or not what the text said */
}

static void check_accepted(const struct setting *s, const struct be_config *c,
                           const struct be_config *d)
{
    same_text(&s[0], c->db, sizeof c->db, d->db);
    same_text(&s[1], c->listen, sizeof c->listen, d->listen);
    same_text(&s[2], c->sql_dir, sizeof c->sql_dir, d->sql_dir);
    same_text(&s[3], c->tls_cert, sizeof c->tls_cert, d->tls_cert);
    same_text(&s[4], c->tls_key, sizeof c->tls_key, d->tls_key);
    long threads = d->threads, body_max = (long)d->body_max;
    if (s[5].value && !number_ok(s[5].value, s[5].value_len, 1, 512, &threads))
        abort();
    if (s[6].value && !number_ok(s[6].value, s[6].value_len, 1024, 64L << 20, &body_max))
        abort();
    if (c->threads != threads || c->threads < 1 || c->threads > 512)
        abort();
    if ((long)c->body_max != body_max || c->body_max < 1024 || c->body_max > (64u << 20))
        abort();
    bool migrate = s[7].value ? s[7].value_len == 4 : d->migrate;
    if (c->migrate != migrate)
        abort();
    for (int i = FIRST_ADDED; i < SETTING_COUNT; i++) {
        const char *got = (const char *)c + s[i].offset, *def = (const char *)d + s[i].offset;
        if (s[i].kind != LONG) {
            same_text(&s[i], got, s[i].capacity, def);
            continue;
        }
        long want = *(const long *)(const void *)def, value = *(const long *)(const void *)got;
        if (s[i].value && !number_ok(s[i].value, s[i].value_len, s[i].min, s[i].max, &want))
            abort();
        if (value != want)
            abort();
    }
}

/* "fuzz.conf line N: ..." with N == line. */
static void check_refused(const char *err, int line)
{
    static const char prefix[] = "fuzz.conf line ";
    if (strncmp(err, prefix, sizeof prefix - 1) != 0)
        abort();
    char *end = NULL;
    long n = strtol(err + sizeof prefix - 1, &end, 10);
    if (n != line || !end || end[0] != ':' || end[1] != ' ' || !end[2])
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 65536)
        return 0;
    /* The model keeps pointers into a copy that outlives the stream. */
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data, size);
    FILE *f = fmemopen(text, size, "r");
    if (!f) {
        free(text);
        return 0;
    }
    struct be_config c, defaults;
    char err[512] = "";
    be_config_defaults(&c);
    be_config_defaults(&defaults);
    int rc = be_config_load_stream(&c, f, "fuzz.conf", err, sizeof err);
    fclose(f);
    struct setting settings[SETTING_COUNT];
    settings_init(settings, &defaults);
    int bad_line = model(settings, text, size);
    if ((rc != 0) != (bad_line != 0))
        abort(); /* accepted a bad line, or refused a good file */
    if (rc)
        check_refused(err, bad_line);
    else
        check_accepted(settings, &c, &defaults);
    free(text);
    return 0;
}
