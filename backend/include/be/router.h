/* Routing: route fragments (one per feature module), the table of modules, matching
 * a path against a pattern with named parameters, and the dispatch of one request —
 * route, body cap, authorisation, body, handler, in that order, so that neither a
 * caller without the route's role nor a body over the route's cap costs the server
 * a read of the body. See backend/README.md, "Dispatch" and "Adding a module". */
#ifndef BE_ROUTER_H
#define BE_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "be/request.h"

/* Body caps of routes (bytes). A body over its route's cap is a 413 before it is
 * read, by its Content-Length or while a chunked body arrives. */
#define BE_BODY_NONE 0u /* GET, DELETE */
#define BE_BODY_SMALL (4u << 10) /* login, enrolment */
#define BE_BODY_FORM (16u << 10) /* a person's small form: resolve, register return */
#define BE_BODY_LARGE (64u << 10) /* corrections, reference fetch */
#define BE_BODY_CONFIG SIZE_MAX /* uploads: the server's --body-max (8 MiB by default) */
/* A route whose body is a file (an application's document), not JSON: its cap is cap
 * bytes and its body must be declared application/pdf, image/jpeg or image/png (415
 * otherwise, unread) -- types a page of another site cannot send without a CORS
 * preflight, like JSON. The handler still checks the bytes (be/documents.h). The
 * top bit of body_max marks it; BE_BODY_CONFIG has every bit set and stays itself. */
#define BE_BODY_FILE_FLAG ((SIZE_MAX >> 1) + 1)
#define BE_BODY_FILE(cap) (BE_BODY_FILE_FLAG | (size_t)(cap))

/* A route's needs_db for a heavy read-only route (lists, figures): served from the
 * config's db-read connection (a hot standby, where a little lag is harmless), or db
 * when db-read is not set. Such a route's handler writes nothing. */
#define BE_DB_READ 2

/* One route: method, pattern ("{name}" = one path segment, read with be_param),
 * handler, whether it needs a database connection, the roles that may call it
 * (BE_MANAGER | BE_AUTHORITY ...; a route without roles is refused to everyone, so
 * authorisation is never left out by accident) and its body cap. */
struct be_route {
    const char *method;
    const char *pattern;
    void (*handle)(struct be_request *req);
    unsigned char needs_db; /* 0 none; true: the primary (db); BE_DB_READ: db-read */
    unsigned roles;
    size_t body_max;
};

/* A feature module's route fragment. */
struct be_module {
    const char *name;
    const struct be_route *routes;
    size_t count;
};
#define BE_MODULE(name_, routes_)                                                                  \
    {                                                                                              \
        name_, routes_, sizeof routes_ / sizeof routes_[0]                                         \
    }

/* The server's routes: its modules in order (routes.c). */
struct be_route_table {
    const struct be_module *const *modules;
    size_t count;
};
extern const struct be_route_table be_route_table;

/* Does path match pattern? Each "{name}" (1..BE_PATH_PARAM_NAME_MAX bytes) matches one
 * non-empty segment of at most BE_PATH_PARAM_MAX bytes without '/', captured into
 * params (at most max of them). Returns the number captured, or -1 when the path does
 * not match (or the pattern has more than max parameters). Pure. */
int be_route_match(const char *pattern, const char *path, struct be_path_param *params, size_t max);

/* The number of routes of table, and route i of them (NULL past the end): the order
 * of `carefactd routes` and of the metrics' route index. */
size_t be_route_count(const struct be_route_table *table);
const struct be_route *be_route_at(const struct be_route_table *table, size_t i);

/* The first route of table for method and path: fills params (*param_count) and
 * *index; NULL when none, with *path_known telling a 405 (the path is served with
 * another method) from a 404. Pure. */
const struct be_route *be_route_find(const struct be_route_table *table, const char *method,
                                     const char *path, struct be_path_param *params,
                                     size_t *param_count, size_t *index, bool *path_known);

/* A route's body cap in bytes under config (BE_BODY_CONFIG: config->body_max). Pure. */
size_t be_route_body_max(const struct be_route *route, const struct be_config *config);

/* Does the route take a file (BE_BODY_FILE) instead of JSON? Pure. */
bool be_route_body_file(const struct be_route *route);

/* Serve req (method, path, query, io and conn set) by table: answers 404/405, 413
 * (before reading), 401/403 (before reading, for people and for devices as far as
 * the device's row tells), reads the body, checks a device's signature over it, then
 * calls the handler. *route_index is the matched route's index, or (size_t)-1. */
void be_dispatch(const struct be_route_table *table, struct be_request *req, size_t *route_index);

#endif
