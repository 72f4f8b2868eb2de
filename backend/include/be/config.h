/* carefactd's settings (struct be_config) and how they are loaded: defaults, a
 * `key = value` file, CAREFACT_* environment variables; flags are set by main.c through
 * be_config_set. Pure code: no database, no JSON, no civetweb. */
#ifndef BE_CONFIG_H
#define BE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define BE_BODY_MAX_DEFAULT (8u << 20) /* matches CF_BATCH_MAX_JSON */

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
    bool migrate; /* apply migrations at start-up */
};

void be_config_defaults(struct be_config *config);

/* Set one setting by name ("db", "db-read", "listen", "threads", "sql-dir", "tls-cert",
 * "tls-key", "body-max", "migrate"). Returns 0, or -1 with a message in err. */
int be_config_set(struct be_config *config, const char *key, const char *value, char *err,
                  size_t err_size);
/* `key = value` lines (blank lines and '#' comments skipped) from a file, or from an
 * open stream named name in messages. Returns 0, or -1 with "NAME line N: ..." in
 * err; a line over 2048 bytes or holding a NUL byte is refused. */
int be_config_load_file(struct be_config *config, const char *path, char *err, size_t err_size);
int be_config_load_stream(struct be_config *config, FILE *stream, const char *name, char *err,
                          size_t err_size);
int be_config_load_env(struct be_config *config, char *err, size_t err_size);

#endif
