/* civetweb edge of carefactd: starts the server, routes each request to its handler
 * with the whole body read up to a cap, writes replies (JSON, RFC 7807 problems),
 * logs one JSON line per request and records metrics. SIGTERM drains: mg_stop
 * returns after the requests in flight have been answered. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>

#include "be/buf.h"
#include "be/db.h"
#include "be/log.h"
#include "be/metrics.h"
#include "be/server.h"
#include "be/tls.h"
#include "cf/uuid.h"

#define PROBLEM_BASE "https://carefact.example/problems/"

/* ==== Replies ==== */

static const char *status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

#define SEPARATE_BODY_BYTES (256u * 1024)

/* NOTE: head and body (up to 256 KiB) go out in one write: two small writes on one
 * TCP connection meet Nagle's algorithm and the peer's delayed ACK, which stalls every
 * answer by ~40 ms (tcp_nodelay is set too). Date lets terminals measure their clock
 * skew. */
static void send_reply(struct be_request *req, int status, const char *content_type,
                       const char *extra_headers, const char *body, size_t len)
{
    struct mg_connection *conn = req->transport;
    char date[64];
    struct tm tm;
    time_t now = time(NULL);
    if (!gmtime_r(&now, &tm) || !strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        date[0] = '\0';
    /* A large body (a register: 23 MB) is written after the head instead of being
     * copied behind it: its writes fill whole segments, so Nagle does not hold them. */
    bool separate = len > SEPARATE_BODY_BYTES;
    struct be_buf out;
    be_buf_init(&out, (separate ? 0 : len) + 512);
    req->status = status;
    if (be_buf_printf(&out,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                      "Date: %s\r\nCache-Control: no-store\r\n%s%s%s%s\r\n",
                      status, status_text(status), content_type, len, date,
                      req->set_cookie ? "Set-Cookie: " : "", req->set_cookie ? req->set_cookie : "",
                      req->set_cookie ? "\r\n" : "", extra_headers ? extra_headers : "") ||
        (!separate && be_buf_append(&out, body, len))) {
        be_buf_cleanup(&out);
        mg_printf(conn, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
        req->status = 503;
        return;
    }
    mg_write(conn, out.data, out.len);
    if (separate)
        mg_write(conn, body, len);
    be_buf_cleanup(&out);
}

static void send_body(struct be_request *req, int status, const char *content_type,
                      const char *body, size_t len)
{
    send_reply(req, status, content_type, NULL, body, len);
}

void be_reply_text(struct be_request *req, int status, const char *content_type, const char *text)
{
    send_body(req, status, content_type, text, strlen(text));
}

void be_reply_attachment(struct be_request *req, const char *content_type, const char *filename,
                         const char *body, size_t len)
{
    /* The name goes into a header: anything but a plain name would let a caller's text
     * split the header, so it is refused here rather than trusted. */
    char header[160];
    size_t n = strlen(filename);
    if (n == 0 || n > 100 ||
        strspn(filename, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
            n) {
        be_reply_problem(req, 503, "unavailable", "Cannot name the file",
                         "The export could not be named; try again.", NULL, NULL);
        return;
    }
    snprintf(header, sizeof header, "Content-Disposition: attachment; filename=\"%s\"\r\n",
             filename);
    send_reply(req, 200, content_type, header, body, len);
}

static void reply_cjson(struct be_request *req, int status, const char *type, cJSON *body)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!text) {
        static const char fallback[] = "{\"type\":\"" PROBLEM_BASE "unavailable\",\"title\":"
                                       "\"Out of memory\",\"status\":503}";
        send_body(req, 503, "application/problem+json", fallback, sizeof fallback - 1);
        return;
    }
    send_body(req, status, type, text, strlen(text));
    free(text);
}

void be_reply_json(struct be_request *req, int status, cJSON *body)
{
    reply_cjson(req, status, "application/json", body);
}

void be_reply_problem(struct be_request *req, int status, const char *type, const char *title,
                      const char *detail, const char *field, cJSON *extra)
{
    char uri[128];
    snprintf(uri, sizeof uri, PROBLEM_BASE "%s", type);
    cJSON *body = extra ? extra : cJSON_CreateObject();
    if (body) {
        cJSON_AddStringToObject(body, "type", uri);
        cJSON_AddStringToObject(body, "title", title);
        cJSON_AddNumberToObject(body, "status", status);
        cJSON_AddStringToObject(body, "detail", detail);
        if (field && field[0])
            cJSON_AddStringToObject(body, "field", field);
    }
    if (status != 503)
        be_metrics_rejection(type);
    reply_cjson(req, status, "application/problem+json", body);
}

void be_reply_invalid(struct be_request *req, const struct cf_error_detail *detail)
{
    if (detail->code == CF_EJSON)
        be_reply_problem(req, 400, "malformed-json", "The body is not valid JSON", detail->message,
                         NULL, NULL);
    else if (detail->code == CF_ETOOBIG)
        be_reply_problem(req, 413, "too-large", "The body is too large", detail->message, NULL,
                         NULL);
    else
        be_reply_problem(req, 422, "validation", "A field is not valid", detail->message,
                         detail->field, NULL);
}

void be_reply_db_error(struct be_request *req, PGconn *db, const char *what)
{
    cJSON *fields = cJSON_CreateObject();
    if (fields) {
        cJSON_AddStringToObject(fields, "route", req->route);
        cJSON_AddStringToObject(fields, "what", what);
        cJSON_AddStringToObject(fields, "error", db ? PQerrorMessage(db) : "no connection");
    }
    be_log("error", "database error", fields);
    be_metrics_db_error();
    be_reply_problem(req, 503, "unavailable", "The database is not available",
                     "The server could not reach its database; nothing was stored. Try again "
                     "in a moment.",
                     NULL, NULL);
}

const char *be_request_header(const struct be_request *req, const char *name)
{
    return mg_get_header(req->transport, name);
}

bool be_request_is_tls(const struct be_request *req)
{
    const struct mg_request_info *ri = mg_get_request_info(req->transport);
    return ri && ri->is_ssl;
}

/* ==== Routing ==== */

bool be_route_match(const char *pattern, const char *path, char *param, size_t param_size)
{
    param[0] = '\0';
    while (*pattern && *path) {
        if (strncmp(pattern, "{id}", 4) == 0) {
            size_t n = strcspn(path, "/");
            if (n == 0 || n >= param_size)
                return false;
            memcpy(param, path, n);
            param[n] = '\0';
            path += n;
            pattern += 4;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return *pattern == '\0' && *path == '\0';
}

/* Read the whole body (Content-Length or chunked) up to cap. Returns 0, or 413 when
 * over the cap, or 400 when the connection broke. */
static int read_body(struct mg_connection *conn, size_t cap, char **out, size_t *out_len)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    *out = NULL;
    *out_len = 0;
    if (ri->content_length > 0 && (unsigned long long)ri->content_length > cap)
        return 413;
    size_t size = ri->content_length > 0 ? (size_t)ri->content_length : 16384;
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
            size_t grown = size * 2 > cap + 1 ? cap + 1 : size * 2;
            char *bigger = realloc(buf, grown + 1);
            if (!bigger) {
                free(buf);
                return 413;
            }
            buf = bigger;
            size = grown;
        }
        int n = mg_read(conn, buf + len, size - len);
        if (n < 0) {
            free(buf);
            return 400;
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

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void log_request(const struct be_request *req, const char *path, double seconds)
{
    cJSON *fields = cJSON_CreateObject();
    if (!fields)
        return;
    cJSON_AddStringToObject(fields, "method", req->method);
    cJSON_AddStringToObject(fields, "path", path);
    cJSON_AddStringToObject(fields, "route", req->route);
    cJSON_AddNumberToObject(fields, "status", req->status);
    cJSON_AddNumberToObject(fields, "ms", (double)(long long)(seconds * 1e4) / 10);
    cJSON_AddNumberToObject(fields, "body_bytes", (double)req->body_len);
    be_log("info", "request", fields);
}

static void dispatch(struct be_request *req, const char *path, size_t *route_index)
{
    bool path_known = false;
    for (size_t i = 0; i < be_route_count; i++) {
        char param[BE_PATH_PARAM_MAX + 1];
        if (!be_route_match(be_routes[i].pattern, path, param, sizeof param))
            continue;
        path_known = true;
        if (strcmp(be_routes[i].method, req->method) != 0)
            continue;
        *route_index = i;
        req->route = be_routes[i].pattern;
        memcpy(req->param, param, sizeof param);
        if (be_routes[i].needs_db) {
            req->db = be_db_thread_conn(req->config->db);
            if (!req->db) {
                be_reply_db_error(req, NULL, "connect");
                return;
            }
        }
        if (be_auth_authorise(req, be_routes[i].roles))
            be_routes[i].handle(req);
        return;
    }
    if (path_known)
        be_reply_problem(req, 405, "method-not-allowed", "Method not allowed",
                         "This path does not accept that method; see api/openapi.yaml.", NULL,
                         NULL);
    else
        be_reply_problem(req, 404, "not-found", "Not found",
                         "No such path; the API is described in api/openapi.yaml.", NULL, NULL);
}

static int serve_request(struct mg_connection *conn, void *cbdata);

/* NOTE: civetweb's mg_stop aborts requests whose body is still arriving, so the
 * drain is ours: on SIGTERM new requests get a 503 while the ones in flight finish. */
static atomic_int requests_in_flight;
static atomic_bool draining;

static int handle_request(struct mg_connection *conn, void *cbdata)
{
    atomic_fetch_add(&requests_in_flight, 1);
    int status = serve_request(conn, cbdata);
    atomic_fetch_sub(&requests_in_flight, 1);
    return status;
}

static int serve_request(struct mg_connection *conn, void *cbdata)
{
    const struct be_config *config = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    double started = now_seconds();
    const char *path = ri->local_uri ? ri->local_uri : "/";
    struct be_request req = {.config = config,
                             .method = ri->request_method,
                             .route = "unmatched",
                             .path = path,
                             .query = ri->query_string,
                             .transport = conn};
    size_t route_index = (size_t)-1;
    char *body = NULL;
    int rc = atomic_load(&draining) ? -1 : read_body(conn, config->body_max, &body, &req.body_len);
    if (rc == -1) {
        be_reply_problem(&req, 503, "unavailable", "The server is shutting down",
                         "This instance is stopping; send the request again (to another "
                         "instance).",
                         NULL, NULL);
    } else if (rc == 413) {
        char detail[160];
        snprintf(detail, sizeof detail, "The body is larger than %zu bytes; send smaller batches.",
                 config->body_max);
        be_reply_problem(&req, 413, "too-large", "The body is too large", detail, NULL, NULL);
    } else if (rc) {
        be_reply_problem(&req, 400, "malformed-body", "The body could not be read",
                         "The connection broke while the body was being sent; send it again.", NULL,
                         NULL);
    } else {
        req.body = body;
        dispatch(&req, path, &route_index);
    }
    free(body);
    double seconds = now_seconds() - started;
    be_metrics_request(route_index, req.status, seconds);
    log_request(&req, path, seconds);
    return req.status ? req.status : 500;
}

/* ==== Server ==== */

static void *init_thread(const struct mg_context *ctx, int thread_type)
{
    (void)ctx;
    (void)thread_type;
    return NULL;
}

static void exit_thread(const struct mg_context *ctx, int thread_type, void *thread_pointer)
{
    (void)ctx;
    (void)thread_type;
    (void)thread_pointer;
    be_db_thread_exit();
}

static int log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    be_log_str("warn", "civetweb", "message", message);
    return 1;
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int be_serve(const struct be_config *config)
{
    char threads[16], ports[160];
    snprintf(threads, sizeof threads, "%d", config->threads);
    snprintf(ports, sizeof ports, "%s%s", config->listen, config->tls_cert[0] ? "s" : "");
    const char *options[16];
    size_t o = 0;
    options[o++] = "listening_ports";
    options[o++] = ports;
    options[o++] = "num_threads";
    options[o++] = threads;
    options[o++] = "request_timeout_ms";
    options[o++] = "30000";
    options[o++] = "enable_keep_alive";
    options[o++] = "yes";
    options[o++] = "tcp_nodelay";
    options[o++] = "1";
    options[o] = NULL;

    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.init_thread = init_thread;
    callbacks.exit_thread = exit_thread;
    callbacks.log_message = log_message;
    if (config->tls_cert[0])
        callbacks.init_ssl = be_tls_init_ssl; /* loads --tls-cert / --tls-key itself */
    mg_init_library(config->tls_cert[0] ? MG_FEATURES_SSL : 0);
    struct mg_context *ctx = mg_start(&callbacks, (void *)config, options);
    if (!ctx) {
        be_log_str("error", "cannot listen (address in use or bad TLS files?)", "listen",
                   config->listen);
        mg_exit_library();
        return 1;
    }
    mg_set_request_handler(ctx, "/", handle_request, (void *)config);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    be_log_str("info", "serving", "listen", ports);
    /* sleep() returns early on the signal; at worst the check comes a second late. */
    while (!stop_requested)
        sleep(1);
    be_log_str("info", "stopping: draining requests in flight", "listen", ports);
    atomic_store(&draining, true);
    for (int waited_ms = 0; atomic_load(&requests_in_flight) > 0 && waited_ms < 30000;
         waited_ms += 20) {
        struct timespec pause = {0, 20 * 1000000L};
        nanosleep(&pause, NULL);
    }
    mg_stop(ctx);
    mg_exit_library();
    return 0;
}
