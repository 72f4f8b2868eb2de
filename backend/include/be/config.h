/* carefactd's settings (struct be_config) and how they are loaded: defaults, a
 * `key = value` file, CAREFACT_* environment variables; flags are set by main.c through
 * be_config_set. Pure code: no database, no JSON, no civetweb. */
#ifndef BE_CONFIG_H
#define BE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cf/oda.h"

#define BE_BODY_MAX_DEFAULT (8u << 20) /* matches CF_BATCH_MAX_JSON */
#define BE_CA_KEYS_MAX 64 /* EMV CA public keys (--emv-ca-keys): every scheme's live keys fit */

struct be_config {
    char db[1024]; /* libpq connection string (CAREFACT_DB) */
    /* libpq connection string of the heavy read-only routes (visit lists, figures;
     * CAREFACT_DB_READ); "" = db. A deployment with a hot standby points it at the
     * standby (target_session_attrs=prefer-standby): those answers may lag the primary
     * by what the standby has not replayed yet. */
    char db_read[1024];
    char listen[128]; /* host:port (CAREFACT_LISTEN), default 127.0.0.1:8080 */
    char sql_dir[1024]; /* migrations folder (CAREFACT_SQL_DIR) */
    char tls_cert[1024]; /* PEM certificate chain for HTTPS (CAREFACT_TLS_CERT); "" = HTTP */
    char tls_key[1024]; /* PEM private key (CAREFACT_TLS_KEY); "" = inside tls_cert */
    int threads; /* civetweb worker threads (CAREFACT_THREADS), default 16 */
    size_t body_max; /* body cap of the upload routes (BE_BODY_CONFIG) in bytes */
    /* Slow and idle clients (backend/README "Failures"): the request head must arrive
     * within header_timeout_ms of the connection's turn (CAREFACT_HEADER_TIMEOUT_MS,
     * default 5000; also the longest a single read or write may wait); a body must
     * arrive by body_timeout_ms plus one second per body_min_rate bytes received
     * (CAREFACT_BODY_TIMEOUT_MS, default 10000; CAREFACT_BODY_MIN_RATE, default 1024). */
    long header_timeout_ms;
    long body_timeout_ms;
    long body_min_rate;
    /* Connections one client address may hold at once (CAREFACT_ADDRESS_CONNECTIONS);
     * -1 (the default) means threads/2 but at least BE_ADDRESS_CONNECTIONS_MIN, 0 means
     * no cap (a benchmark's many terminals on one loopback address). Beyond it a
     * connection is answered 429 and closed. */
    long address_connections;
    /* Live dashboard streams one client address may hold (CAREFACT_ADDRESS_STREAMS);
     * -1 (the default): its connection cap less two, so that its ordinary requests keep
     * two connections (6 with 16 threads). A person holds at most
     * BE_WEB_STREAMS_PER_USER, the server threads/2. */
    long address_streams;
    bool migrate; /* apply migrations at start-up */
    char emv_ca_keys[1024]; /* EMV CA public key file (CAREFACT_EMV_CA_KEYS); "" = none */
    /* The keys of that file, read by be_config_load_ca_keys at start-up: without them
     * every EMV proof fails unknown_ca_key (visits stay, at level none). */
    struct cf_oda_ca_key ca_keys[BE_CA_KEYS_MAX];
    size_t ca_key_count;
    /* Webhooks (be/webhooks.h): the back-off after the n-th failure in a row is
     * webhook_backoff_ms * 2^(n-1), at most webhook_backoff_max_ms; a subscription is
     * disabled after webhook_disable_after failures in a row. Tests shorten the schedule
     * (milliseconds instead of seconds) rather than wait: these are the clock they
     * control. */
    long webhook_backoff_ms; /* CAREFACT_WEBHOOK_BACKOFF_MS, default 10,000 */
    long webhook_backoff_max_ms; /* CAREFACT_WEBHOOK_BACKOFF_MAX_MS, default 600,000 */
    long webhook_disable_after; /* CAREFACT_WEBHOOK_DISABLE_AFTER, default 20 */
    long webhook_timeout_ms; /* one attempt's limit, CAREFACT_WEBHOOK_TIMEOUT_MS, 10,000 */
    long webhook_poll_ms; /* an idle sender's pause, CAREFACT_WEBHOOK_POLL_MS, 1,000 */
    char sms_url[512]; /* the SMS gateway the outbox sender posts to (CAREFACT_SMS_URL); "" = off */
    /* The reverse proxies in front (CAREFACT_TRUSTED_PROXIES): up to BE_TRUSTED_PROXIES_MAX
     * IP addresses, comma-separated; "" = none (the default: carefactd faces clients).
     * A request from one of them is the client's whose address ends its X-Forwarded-For
     * (what the proxy added), and the per-address connection cap does not apply to them
     * (the proxy caps per client address itself). */
    char trusted_proxies[256];
    long outbox_interval_ms; /* between the sender's passes (CAREFACT_OUTBOX_INTERVAL_MS), 5000 */
    /* Live holds one client address may have on the citizen's booking page at once, in
     * every office (CAREFACT_PUBLIC_HOLDS_PER_ADDRESS, default 5, 1..1000): one more is
     * 429 too-many-holds until the first of them ends. */
    long public_holds_per_address;
    /* Seconds the public comparison of providers keeps each (region, month) answer in
     * memory (CAREFACT_COMPARE_CACHE_S, default 300, 0..3600; 0: every request asks the
     * database — tools/bench-compare measures both). */
    long compare_cache_s;
};

void be_config_defaults(struct be_config *config);

/* The per-address connection cap in force: address_connections, or threads/2 (at
 * least BE_ADDRESS_CONNECTIONS_MIN, a browser's connections to one host) when it is
 * -1; 0 means no cap. */
#define BE_ADDRESS_CONNECTIONS_MIN 6

/* The per-address stream cap in force: address_streams, or the connection cap less 2
 * (at least 1) when it is -1; with no connection cap, threads/2 (the server's own). */
int be_config_address_streams(const struct be_config *config);
int be_config_address_connections(const struct be_config *config);

#define BE_TRUSTED_PROXIES_MAX 8
/* Whether addr (an IP address as text, as the socket gives it) is one of trusted_proxies
 * (compared as addresses: "::1" is "0:0::1"). Pure. */
bool be_config_proxy_trusted(const struct be_config *config, const char *addr);

/* Set one setting by name ("db", "db-read", "listen", "threads", "sql-dir", "tls-cert",
 * "tls-key", "body-max", "header-timeout-ms", "body-timeout-ms", "body-min-rate",
 * "address-connections", "address-streams", "migrate", "emv-ca-keys", "webhook-backoff-ms",
 * "webhook-backoff-max-ms", "webhook-disable-after", "webhook-timeout-ms", "webhook-poll-ms",
 * "sms-url", "outbox-interval-ms", "public-holds-per-address"). Returns 0, or -1 with a message in
 * err. */
int be_config_set(struct be_config *config, const char *key, const char *value, char *err,
                  size_t err_size);
/* `key = value` lines (blank lines and '#' comments skipped) from a file, or from an
 * open stream named name in messages. Returns 0, or -1 with "NAME line N: ..." in
 * err; a line over 2048 bytes or holding a NUL byte is refused. */
int be_config_load_file(struct be_config *config, const char *path, char *err, size_t err_size);
int be_config_load_stream(struct be_config *config, FILE *stream, const char *name, char *err,
                          size_t err_size);
int be_config_load_env(struct be_config *config, char *err, size_t err_size);

/* Read config->emv_ca_keys (nothing when ""): one `RID INDEX MODULUS_HEX EXPONENT_HEX` per
 * line, '#' comments and blank lines skipped, at most BE_CA_KEYS_MAX keys, no (RID, index)
 * twice. Returns 0, or -1 with "FILE line N: ..." (or why the file cannot be read) in err. */
int be_config_load_ca_keys(struct be_config *config, char *err, size_t err_size);
int be_config_load_ca_keys_stream(struct be_config *config, FILE *stream, const char *name,
                                  char *err, size_t err_size);

#endif
