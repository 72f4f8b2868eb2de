/* civetweb edge of carefactd: starts the server, refuses a request whose body framing
 * is ambiguous, hands each other request to the router (be/router.h) through a
 * be_transport over civetweb's connection, logs one JSON line per request and records
 * metrics. SIGTERM drains: mg_stop returns after the requests in flight have been
 * answered. */
#include <ctype.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>

#include "be/db.h"
#include "be/log.h"
#include "be/metrics.h"
#include "be/reply.h"
#include "be/router.h"
#include "be/http.h"
#include "be/tls.h"
#include "be/upkeep.h"

/* ==== The transport (civetweb) ==== */

static const char *conn_header(void *conn, const char *name)
{
    return mg_get_header(conn, name);
}

static bool conn_is_tls(void *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    return ri && ri->is_ssl;
}

static int conn_write(void *conn, const void *data, size_t len)
{
    return mg_write(conn, data, len);
}

static int conn_read(void *conn, void *buf, size_t len)
{
    return mg_read(conn, buf, len);
}

static long long conn_content_length(void *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    return ri && ri->content_length >= 0 ? ri->content_length : -1;
}

static const char *conn_remote_addr(void *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    return ri ? ri->remote_addr : NULL;
}

static const struct be_transport civetweb_transport = {
    .header = conn_header,
    .is_tls = conn_is_tls,
    .write = conn_write,
    .read = conn_read,
    .content_length = conn_content_length,
    .remote_addr = conn_remote_addr,
};

/* ==== Body framing ==== */

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* Why the request's body framing is ambiguous, or NULL when it is not. civetweb 1.15
 * lets Transfer-Encoding: chunked win over a Content-Length and reads the first of two
 * Content-Lengths: a proxy in front that reads the other one sees a different end of
 * the body, and the rest runs here as a second request (request smuggling). So any
 * doubt is refused (RFC 9112, 6.3): a Transfer-Encoding other than one `chunked`, one
 * together with a Content-Length, Content-Lengths that disagree, a Content-Length that
 * is not a plain number. */
static const char *framing_doubt(const struct mg_request_info *ri)
{
    const char *length = NULL;
    int encodings = 0;
    bool chunked = false;
    for (int i = 0; i < ri->num_headers; i++) {
        const char *name = ri->http_headers[i].name, *value = ri->http_headers[i].value;
        if (!name || !value)
            continue;
        if (strcasecmp(name, "Transfer-Encoding") == 0) {
            encodings++;
            chunked = strcasecmp(value, "chunked") == 0;
        } else if (strcasecmp(name, "Content-Length") == 0) {
            if (!all_digits(value))
                return "Content-Length is not a number of bytes.";
            if (length && strcmp(length, value) != 0)
                return "Two Content-Length headers disagree.";
            length = value;
        }
    }
    if (encodings > 1 || (encodings == 1 && !chunked))
        return "The only Transfer-Encoding accepted is one `chunked`.";
    if (encodings && length)
        return "Content-Length and Transfer-Encoding must not come together.";
    return NULL;
}

/* Answer 400 and close the connection, so that no byte after this head is ever read
 * as a request. */
static void refuse_framing(struct mg_connection *conn, struct be_request *req, const char *why)
{
    mg_disable_connection_keep_alive(conn);
    req->close_connection = true;
    be_reply_problem(req, 400, "bad-framing", "The body's length is ambiguous", why, NULL, NULL);
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
                             .io = &civetweb_transport,
                             .conn = conn};
    size_t route_index = (size_t)-1;
    const char *doubt = framing_doubt(ri);
    if (doubt)
        refuse_framing(conn, &req, doubt);
    else if (atomic_load(&draining))
        be_reply_problem(&req, 503, "unavailable", "The server is shutting down",
                         "This instance is stopping; send the request again (to another "
                         "instance).",
                         NULL, NULL);
    else
        be_dispatch(&be_route_table, &req, &route_index);
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
    /* sleep() returns early on the signal; at worst the check comes a second late. The
     * upkeep runs here, at start and every BE_UPKEEP_PERIOD_S seconds. */
    for (int tick = 0; !stop_requested; tick++) {
        if (tick % BE_UPKEEP_PERIOD_S == 0)
            be_upkeep_pass(config->db);
        sleep(1);
    }
    be_upkeep_close();
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
