/* carefactd's shared types: the configuration, one request as the handlers see it,
 * and the route table. Handlers are plain functions over struct be_request; only
 * http.c knows civetweb and only db.c knows how connections are made. */
#ifndef BE_SERVER_H
#define BE_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "be/auth.h"
#include "cf/error.h"

#define BE_BODY_MAX_DEFAULT (8u << 20) /* matches CF_BATCH_MAX_JSON */
#define BE_PATH_PARAM_MAX 64

struct be_config {
    char db[1024]; /* libpq connection string (CAREFACT_DB) */
    char listen[128]; /* host:port (CAREFACT_LISTEN), default 127.0.0.1:8080 */
    char sql_dir[1024]; /* migrations folder (CAREFACT_SQL_DIR) */
    char tls_cert[1024]; /* PEM certificate chain for HTTPS (CAREFACT_TLS_CERT); "" = HTTP */
    char tls_key[1024]; /* PEM private key (CAREFACT_TLS_KEY); "" = inside tls_cert */
    int threads; /* civetweb worker threads (CAREFACT_THREADS), default 16 */
    size_t body_max; /* request body cap in bytes */
    bool migrate; /* apply migrations at start-up */
};

struct be_request {
    const struct be_config *config;
    const char *method;
    const char *route; /* the route template, e.g. /api/v1/devices/{id}/events */
    const char *path; /* the path as requested (without the query string) */
    char param[BE_PATH_PARAM_MAX + 1]; /* the {id} of the path, "" when none */
    const char *query; /* query string or NULL */
    const char *body; /* whole body, NUL-terminated, or NULL */
    size_t body_len;
    PGconn *db; /* this thread's connection (borrowed) */
    void *transport; /* http.c's connection */
    int status; /* the status sent, for logs and metrics */
    struct be_principal who; /* the caller (be_auth_authorise) */
    const char *set_cookie; /* a Set-Cookie value to send with the reply, or NULL */
};

/* One route: method, template ({id} = one path segment), handler, and the roles
 * that may call it (be/auth.h: BE_MANAGER | BE_AUTHORITY ...). A route without roles
 * is refused to everyone (403): authorisation is never left out by accident. */
struct be_route {
    const char *method;
    const char *pattern;
    void (*handle)(struct be_request *req);
    bool needs_db;
    unsigned roles;
};

extern const struct be_route be_routes[];
extern const size_t be_route_count;

/* Does path match pattern? One "{id}" segment (1..param_size-1 bytes, no '/') is
 * captured into param (NUL-terminated; "" when the pattern has none). */
bool be_route_match(const char *pattern, const char *path, char *param, size_t param_size);

/* A request header's value (case-insensitive name), or NULL. */
const char *be_request_header(const struct be_request *req, const char *name);

/* Is the request over TLS (cookies get Secure)? */
bool be_request_is_tls(const struct be_request *req);

/* ==== Replies (http.c) ==== */

/* Send JSON (takes ownership of body and frees it). */
void be_reply_json(struct be_request *req, int status, cJSON *body);

/* Send text with the given content type. */
void be_reply_text(struct be_request *req, int status, const char *content_type, const char *text);

/* Send body (len bytes, borrowed) as a 200 download: Content-Disposition attachment
 * with filename ([A-Za-z0-9._-], 1..100 bytes; anything else is answered 503 and
 * nothing is sent as the file). */
void be_reply_attachment(struct be_request *req, const char *content_type, const char *filename,
                         const char *body, size_t len);

/* RFC 7807 problem: type is the stable short name ("validation", "tampering"...),
 * published as https://carefact.example/problems/<type>; field may be NULL.
 * extra (may be NULL, taken) adds members such as expected_seq. */
void be_reply_problem(struct be_request *req, int status, const char *type, const char *title,
                      const char *detail, const char *field, cJSON *extra);

/* A validation failure from firmware-shared as a 4xx problem (400 for malformed
 * JSON, 413 for a body over the cap, 422 otherwise). */
void be_reply_invalid(struct be_request *req, const struct cf_error_detail *detail);

/* A database failure: logged with the server's message, answered 503 (the client
 * may retry), counted. Never a 500 for the client's input. */
void be_reply_db_error(struct be_request *req, PGconn *db, const char *what);

/* ==== Handlers ==== */
void be_handle_healthz(struct be_request *req);
void be_handle_metrics(struct be_request *req);
void be_handle_enroll(struct be_request *req);
void be_handle_upload(struct be_request *req);
void be_handle_reference_list(struct be_request *req);
void be_handle_reference_fetch(struct be_request *req);
void be_handle_visit_get(struct be_request *req);
void be_handle_visit_list(struct be_request *req);

/* Start serving; blocks until SIGTERM/SIGINT, then drains. Returns a process exit code. */
int be_serve(const struct be_config *config);

#endif
