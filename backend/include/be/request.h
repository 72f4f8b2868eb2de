/* One HTTP request as the handlers see it, with the few things they may ask of the
 * connection (a header, whether it is TLS). The connection itself is behind
 * struct be_transport, which http.c (civetweb) fills: nothing that includes this
 * header knows civetweb, and the router and replies can be tested without it. */
#ifndef BE_REQUEST_H
#define BE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "be/config.h"
#include "be/principal.h"

#define BE_PATH_PARAMS_MAX 4 /* named parameters of one route */
#define BE_PATH_PARAM_NAME_MAX 15 /* bytes of a parameter's name in a pattern */
#define BE_PATH_PARAM_MAX 64 /* bytes of one parameter's value (one path segment) */

/* One "{name}" of a route's pattern with the segment the path had there. */
struct be_path_param {
    char name[BE_PATH_PARAM_NAME_MAX + 1];
    char value[BE_PATH_PARAM_MAX + 1];
};

#define BE_READ_TOO_SLOW (-2)

/* What the server edge provides for one connection (conn is its handle). */
struct be_transport {
    const char *(*header)(void *conn, const char *name); /* NULL when absent */
    bool (*is_tls)(void *conn);
    int (*write)(void *conn, const void *data, size_t len); /* bytes written or -1 */
    /* bytes read, 0 at the end, -1 when the connection broke, BE_READ_TOO_SLOW when
     * the body came slower than the server allows (the connection will be closed) */
    int (*read)(void *conn, void *buf, size_t len);
    long long (*content_length)(void *conn); /* -1 when not given (chunked, none) */
    const char *(*remote_addr)(void *conn); /* the client's IP address as text, or NULL */
};

/* A failed statement as the database described it (be_db_check), for the answer. */
struct be_db_failure {
    char sqlstate[6]; /* "" when none was recorded */
    char field[32]; /* the request parameter the message names, "" when none */
    char message[512];
    const char *step; /* the step that failed, for the log (static text), or NULL */
};

struct be_route_table;

struct be_request {
    const struct be_config *config;
    const struct be_route_table *routes; /* the table this request was routed by */
    const char *method;
    const char *route; /* the route template, e.g. /api/v1/devices/{id}/events */
    const char *path; /* the path as requested (without the query string) */
    struct be_path_param params[BE_PATH_PARAMS_MAX]; /* the route's {name}s, in order */
    size_t param_count;
    const char *query; /* query string or NULL */
    const char *body; /* whole body, NUL-terminated, or NULL */
    size_t body_len;
    struct pg_conn *db; /* this thread's PGconn (borrowed); NULL for routes without one */
    const struct be_transport *io;
    void *conn; /* io's connection handle */
    int status; /* the status sent, for logs and metrics; 0 = nothing sent yet */
    struct be_principal who; /* the caller (be_auth_authorise) */
    unsigned char device_key[32]; /* a device route: the enrolled key (be_device_check_head) */
    const char *set_cookie; /* a Set-Cookie value to send with the reply, or NULL */
    bool close_connection; /* the answer says Connection: close (the edge closes it) */
    struct be_db_failure db_failure;
    /* The client's address a trusted proxy named (be_request_resolve_client); "" when
     * the TCP peer is the client. */
    char client_addr[48];
};

/* The value of the path parameter {name} of the request's route, or "" when the
 * route has none of that name (borrowed: lives as long as req). */
const char *be_param(const struct be_request *req, const char *name);
/* The path parameter {name} as a UUID in canonical text (lowercase) into out: true, or
 * false when it is not a UUID (the caller answers its own 404). */
bool be_param_uuid(const struct be_request *req, const char *name, char out[37]);

/* A request header's value (case-insensitive name), or NULL. */
const char *be_request_header(const struct be_request *req, const char *name);

/* The client's IP address as text, or "" when the transport does not know it
 * (borrowed): the TCP peer, or, when the peer is one of the configured trusted-proxies
 * (be/config.h), the address at the end of its X-Forwarded-For -- the one that proxy
 * added. Anyone else's X-Forwarded-For is ignored. Every per-address rule (the login and
 * public throttles, the stream cap) keys on this. */
const char *be_request_remote_addr(const struct be_request *req);
/* Settle the client's address for be_request_remote_addr (be_dispatch calls it first). */
void be_request_resolve_client(struct be_request *req);
/* Is the request over TLS (cookies get Secure)? */
bool be_request_is_tls(const struct be_request *req);

/* The headers the edge adds to every answer: Strict-Transport-Security under TLS,
 * Connection: close when req->close_connection. Each ends in CRLF; "" when none.
 * Returns a static string. */
const char *be_request_edge_headers(const struct be_request *req);

/* Write raw bytes of the answer (a handler that writes its own head: a file with
 * its ETag, an event stream). A write that starts a head ("HTTP/1.x ...") gets
 * be_request_edge_headers after its status line. Returns the bytes of data written
 * or -1. Set req->status. */
int be_request_write(const struct be_request *req, const void *data, size_t len);

#endif
