/* Routing and dispatch (see be/router.h): a request is matched against the modules'
 * route fragments, refused by its route's body cap and roles before its body is read,
 * then read, checked once more (a device's signature covers the body) and handed to
 * its handler. Knows neither civetweb (be_transport) nor any module. */
#include "be/router.h"

#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "be/auth.h"
#include "be/db.h"
#include "be/reply.h"

/* ==== Matching ==== */

int be_route_match(const char *pattern, const char *path, struct be_path_param *params, size_t max)
{
    size_t n = 0;
    while (*pattern && *path) {
        if (*pattern == '{') {
            const char *close = strchr(pattern, '}');
            size_t name_len = close ? (size_t)(close - pattern - 1) : 0;
            size_t value_len = strcspn(path, "/");
            if (name_len == 0 || name_len > BE_PATH_PARAM_NAME_MAX || n == max || value_len == 0 ||
                value_len > BE_PATH_PARAM_MAX)
                return -1;
            memcpy(params[n].name, pattern + 1, name_len);
            params[n].name[name_len] = '\0';
            memcpy(params[n].value, path, value_len);
            params[n].value[value_len] = '\0';
            n++;
            path += value_len;
            pattern = close + 1;
        } else if (*pattern++ != *path++) {
            return -1;
        }
    }
    return *pattern == '\0' && *path == '\0' ? (int)n : -1;
}

size_t be_route_count(const struct be_route_table *table)
{
    size_t n = 0;
    for (size_t m = 0; m < table->count; m++)
        n += table->modules[m]->count;
    return n;
}

const struct be_route *be_route_at(const struct be_route_table *table, size_t i)
{
    for (size_t m = 0; m < table->count; m++) {
        if (i < table->modules[m]->count)
            return &table->modules[m]->routes[i];
        i -= table->modules[m]->count;
    }
    return NULL;
}

const struct be_route *be_route_find(const struct be_route_table *table, const char *method,
                                     const char *path, struct be_path_param *params,
                                     size_t *param_count, size_t *index, bool *path_known)
{
    *path_known = false;
    *param_count = 0;
    const struct be_route *route;
    for (size_t i = 0; (route = be_route_at(table, i)) != NULL; i++) {
        int n = be_route_match(route->pattern, path, params, BE_PATH_PARAMS_MAX);
        if (n < 0)
            continue;
        *path_known = true;
        if (strcmp(route->method, method) != 0)
            continue;
        *param_count = (size_t)n;
        *index = i;
        return route;
    }
    return NULL;
}

size_t be_route_body_max(const struct be_route *route, const struct be_config *config)
{
    if (route->body_max == BE_BODY_CONFIG)
        return config->body_max;
    return route->body_max & ~BE_BODY_FILE_FLAG;
}

bool be_route_body_file(const struct be_route *route)
{
    return route->body_max != BE_BODY_CONFIG && (route->body_max & BE_BODY_FILE_FLAG) != 0;
}

/* ==== Dispatch ==== */

/* Is type (a Content-Type header, may be NULL) media, with parameters allowed? */
static bool type_is(const char *type, const char *media)
{
    size_t n = strlen(media);
    if (!type || strncasecmp(type, media, n) != 0)
        return false;
    char next = type[n];
    return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

/* Does a request that carries a body (a length over 0, or chunked) declare it as JSON,
 * the only kind of body a route reads but a file route (BE_BODY_FILE: a PDF, JPEG or
 * PNG)? A form or text/plain body is what a page of another site can send without
 * asking the browser's permission (no CORS preflight); refusing it makes every route
 * out of such a page's reach. */
static bool body_type_ok(const struct be_request *req, long long declared, bool file)
{
    const char *chunked = be_request_header(req, "Transfer-Encoding");
    if (declared == 0 || (declared < 0 && !chunked))
        return true;
    const char *type = be_request_header(req, "Content-Type");
    if (file)
        return type_is(type, "application/pdf") || type_is(type, "image/jpeg") ||
               type_is(type, "image/png");
    return type_is(type, "application/json");
}

/* Read the whole body (Content-Length or chunked) up to cap. Returns 0, or 413 when
 * over the cap (a chunked body: as soon as cap + 1 bytes have arrived), 408 when it
 * arrived too slowly, or 400 when the connection broke. */
static int read_body(struct be_request *req, size_t cap, char **out, size_t *out_len)
{
    long long declared = req->io->content_length(req->conn);
    *out = NULL;
    *out_len = 0;
    if (declared > 0 && (unsigned long long)declared > cap)
        return 413;
    size_t size = declared > 0 ? (size_t)declared : (cap < 16384 ? cap : 16384);
    char *buf = malloc(size + 1);
    size_t len = 0;
    if (!buf)
        return 413;
    for (;;) {
        if (len == size) {
            if (size >= cap + 1) {
                free(buf);
                return 413;
            }
            size_t grown = size * 2 > cap + 1 || size == 0 ? cap + 1 : size * 2;
            char *bigger = realloc(buf, grown + 1);
            if (!bigger) {
                free(buf);
                return 413;
            }
            buf = bigger;
            size = grown;
        }
        int n = req->io->read(req->conn, buf + len, size - len);
        if (n < 0) {
            free(buf);
            return n == BE_READ_TOO_SLOW ? 408 : 400;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > cap) {
        free(buf);
        return 413;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

static void reply_too_large(struct be_request *req, size_t cap)
{
    char detail[160];
    if (cap == 0)
        snprintf(detail, sizeof detail, "This route takes no body.");
    else
        snprintf(detail, sizeof detail, "The body is larger than %zu bytes; send smaller batches.",
                 cap);
    be_reply_problem(req, 413, "too-large", "The body is too large", detail, NULL, NULL);
}

void be_dispatch(const struct be_route_table *table, struct be_request *req, size_t *route_index)
{
    bool path_known = false;
    size_t index = (size_t)-1;
    *route_index = (size_t)-1;
    req->routes = table;
    be_request_resolve_client(req);
    const struct be_route *route = be_route_find(table, req->method, req->path, req->params,
                                                 &req->param_count, &index, &path_known);
    if (!route) {
        if (path_known)
            be_reply_problem(req, 405, "method-not-allowed", "Method not allowed",
                             "This path does not accept that method; see api/openapi.yaml.", NULL,
                             NULL);
        else
            be_reply_problem(req, 404, "not-found", "Not found",
                             "No such path; the API is described in api/openapi.yaml.", NULL, NULL);
        return;
    }
    *route_index = index;
    req->route = route->pattern;
    if (route->needs_db) {
        req->db = route->needs_db == BE_DB_READ && req->config->db_read[0]
                      ? be_db_thread_conn_read(req->config->db_read)
                      : be_db_thread_conn(req->config->db);
        if (!req->db) {
            be_reply_db_error(req, NULL, "connect");
            return;
        }
    }
    /* NOTE: the caller is checked before the body is read: a request without the
     * route's role costs a database lookup, never a read of its body. The role comes
     * first so that a stranger learns nothing of a route (not even its cap). */
    if (!be_auth_authorise(req, route->roles))
        return;
    size_t cap = be_route_body_max(route, req->config);
    long long declared = req->io->content_length(req->conn);
    if (declared > 0 && (unsigned long long)declared > cap) {
        reply_too_large(req, cap);
        return;
    }
    bool file = be_route_body_file(route);
    if (cap > 0 && !body_type_ok(req, declared, file)) {
        if (file)
            be_reply_problem(req, 415, "unsupported-media-type",
                             "The file must be PDF, JPEG or PNG",
                             "Документ принимается только в формате PDF, JPEG или PNG: send it "
                             "with Content-Type application/pdf, image/jpeg or image/png.",
                             NULL, NULL);
        else
            be_reply_problem(req, 415, "unsupported-media-type", "The body must be JSON",
                             "Send the body with Content-Type: application/json.", NULL, NULL);
        return;
    }
    char *body = NULL;
    int rc = read_body(req, cap, &body, &req->body_len);
    if (rc == 413) {
        reply_too_large(req, cap);
    } else if (rc == 408) {
        req->close_connection = true; /* the edge closes it: the rest may never come */
        be_reply_problem(req, 408, "too-slow", "The body came too slowly",
                         "The body did not arrive in time; send it again over a faster "
                         "connection.",
                         NULL, NULL);
    } else if (rc) {
        be_reply_problem(req, 400, "malformed-body", "The body could not be read",
                         "The connection broke while the body was being sent; send it again.", NULL,
                         NULL);
    } else {
        req->body = body;
        if (be_auth_after_body(req, route->roles))
            route->handle(req);
        req->body = NULL;
    }
    free(body);
}
