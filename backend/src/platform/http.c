/* civetweb edge of carefactd: starts the server, refuses a request whose body framing
 * is ambiguous, hands each other request to the router (be/router.h) through a
 * be_transport over civetweb's connection, logs one JSON line per request and records
 * metrics. It keeps a few slow or idle clients from holding every worker thread: a
 * header deadline (civetweb's request_timeout_ms), a body progress deadline and a cap
 * of connections per client address (ours: civetweb 1.15 has neither). SIGTERM drains:
 * mg_stop returns after the requests in flight have been answered. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
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

static int conn_read(void *conn, void *buf, size_t len);
struct conn_state;
static void unwatch_body(struct conn_state *state);

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

/* ==== Connection limits ==== */

/* What we keep of one connection (civetweb's connection user data): its address, for
 * the per-address cap, and the progress of the body being read. */
struct conn_state {
    char addr[48];
    bool refused; /* over its address's cap: answered 429, never served */
    bool counted; /* holds one of its address's slots */
    unsigned requests; /* request heads received */
    /* The body being read, watched by body_watchdog (fields under watch_lock). */
    int watch_row; /* -1 when not watched */
    double body_started; /* the first read of this request's body */
    long long body_declared; /* Content-Length, -1 when chunked */
    unsigned long long body_received;
    bool body_late; /* the body missed its deadline: the connection closes */
    char peer[48]; /* the connection's two ends, to find its socket */
    int peer_port, local_port;
};

/* Open connections per address. A worker thread holds one connection at a time, so
 * there are never more than `threads` (at most 512) open ones to count. */
#define ADDRESS_ROWS 512
static struct {
    char addr[48];
    int open;
} address_rows[ADDRESS_ROWS];
static pthread_mutex_t address_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct be_config *limits; /* the served config; set before mg_start */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Take one slot of addr (delta 1: false when it holds cap already) or give it back. */
static bool address_slot(const char *addr, int delta, int cap)
{
    bool ok = false;
    pthread_mutex_lock(&address_lock);
    int found = -1, free_row = -1;
    for (int i = 0; i < ADDRESS_ROWS && found < 0; i++) {
        if (address_rows[i].open > 0 && strcmp(address_rows[i].addr, addr) == 0)
            found = i;
        else if (address_rows[i].open == 0 && free_row < 0)
            free_row = i;
    }
    if (delta < 0 && found >= 0) {
        address_rows[found].open--;
        ok = true;
    } else if (delta > 0 && found >= 0 && address_rows[found].open < cap) {
        address_rows[found].open++;
        ok = true;
    } else if (delta > 0 && found < 0 && free_row >= 0) {
        snprintf(address_rows[free_row].addr, sizeof address_rows[free_row].addr, "%s", addr);
        address_rows[free_row].open = 1;
        ok = true;
    }
    pthread_mutex_unlock(&address_lock);
    return ok;
}

static bool same_endpoint(const struct sockaddr_storage *sa, const char *addr, int port)
{
    char text[INET6_ADDRSTRLEN];
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        return ntohs(in->sin_port) == port &&
               inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) && strcmp(text, addr) == 0;
    }
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        return ntohs(in6->sin6_port) == port &&
               inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text) && strcmp(text, addr) == 0;
    }
    return false;
}

/* The socket of a connection, found by its two ends among the process's descriptors.
 * NOTE: civetweb 1.15 gives a callback no socket, and a refused connection must not
 * keep its worker waiting for a head it will never serve; the 4-tuple of a live TCP
 * socket is unique, so the match is exact. -1 when not found. */
static int connection_socket(const char *peer, int peer_port, int local_port)
{
    DIR *fds = opendir("/proc/self/fd");
    if (!fds)
        return -1;
    int found = -1;
    struct dirent *entry;
    while (found < 0 && (entry = readdir(fds)) != NULL) {
        char *end = NULL;
        long fd = strtol(entry->d_name, &end, 10);
        if (end == entry->d_name || *end || fd < 0 || fd == dirfd(fds))
            continue;
        struct sockaddr_storage peer_end, local;
        socklen_t peer_len = sizeof peer_end, local_len = sizeof local;
        if (getpeername((int)fd, (struct sockaddr *)&peer_end, &peer_len) == 0 &&
            getsockname((int)fd, (struct sockaddr *)&local, &local_len) == 0 &&
            same_endpoint(&peer_end, peer, peer_port) &&
            ntohs(((const struct sockaddr_in *)&local)->sin_port) == local_port)
            found = (int)fd;
    }
    closedir(fds);
    return found;
}

/* Answer 429 at once and end the connection: the worker's wait for a head returns as
 * soon as the socket is shut down, and begin_request refuses whatever head was already
 * buffered. */
static void refuse_connection(struct mg_connection *conn, const struct mg_request_info *ri, int cap)
{
    char body[400], head[200];
    int body_len = snprintf(body, sizeof body,
                            "{\"type\":\"" BE_PROBLEM_BASE "too-many-connections\",\"title\":\"Too "
                            "many connections\",\"status\":429,\"detail\":\"This address already "
                            "holds %d connections, the most one address may; use fewer at "
                            "once.\"}",
                            cap);
    int head_len = snprintf(head, sizeof head,
                            "HTTP/1.1 429 Too Many Requests\r\nContent-Type: "
                            "application/problem+json\r\nContent-Length: %d\r\nRetry-After: "
                            "1\r\nConnection: close\r\n\r\n",
                            body_len);
    (void)mg_write(conn, head, (size_t)head_len);
    (void)mg_write(conn, body, (size_t)body_len);
    int fd = connection_socket(ri->remote_addr, ri->remote_port, ri->server_port);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
    be_metrics_connection_refused("address-cap");
    be_log_str("warn", "connection refused: address over its cap", "addr", ri->remote_addr);
}

/* Where civetweb keeps a connection's mg_request_info, as an offset into its
 * mg_connection, learnt from the first request (-1 until then). NOTE: civetweb 1.15
 * fills in the client's address and port before init_connection, but its
 * mg_get_request_info answers NULL until the head has been read; the offset of the
 * same struct, taken from mg_get_request_info itself, is fixed for the library. Until a
 * first request has been served, connections are not capped. */
static atomic_long request_info_offset = -1;

static const struct mg_request_info *early_request_info(const struct mg_connection *conn)
{
    long offset = atomic_load(&request_info_offset);
    return offset < 0 ? NULL : (const void *)((const char *)conn + offset);
}

static void learn_request_info_offset(const struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    long offset = ri ? (long)((const char *)ri - (const char *)conn) : -1;
    if (offset >= 0 && offset < 65536 && atomic_load(&request_info_offset) < 0)
        atomic_store(&request_info_offset, offset);
}

/* Connections held by worker threads (civetweb makes a connection's object when a worker
 * takes its socket, and a worker keeps it between the requests of a keep-alive client).
 * When every thread holds one, newer clients wait in civetweb's queue while a held
 * client's next request is served at once: a terminal with a backlog uploaded batch after
 * batch while the others waited (200 terminals on 16 threads: batch p50 206 ms, p99
 * 10.5 s). Then every response closes its connection, and the client's next request joins
 * the queue behind those waiting: first come, first served (be_metrics_connections_held
 * counts them). */
static int init_connection(const struct mg_connection *conn, void **conn_data)
{
    be_metrics_connections_held(1);
    struct conn_state *state = calloc(1, sizeof *state);
    *conn_data = state;
    if (!state)
        return 0;
    state->watch_row = -1;
    const struct mg_request_info *ri = early_request_info(conn);
    int cap = be_config_address_connections(limits);
    /* a trusted proxy carries many clients on its connections and caps them itself */
    if (!ri || cap == 0 || be_config_proxy_trusted(limits, ri->remote_addr))
        return 0;
    snprintf(state->addr, sizeof state->addr, "%s", ri->remote_addr);
    state->counted = address_slot(state->addr, 1, cap);
    state->refused = !state->counted;
    if (state->refused) /* civetweb hands the callback a connection it may write to */
        refuse_connection((struct mg_connection *)conn, ri, cap);
    return 0;
}

static int begin_request(struct mg_connection *conn)
{
    learn_request_info_offset(conn);
    struct conn_state *state = mg_get_user_connection_data(conn);
    if (state)
        state->requests++;
    if (state && state->refused) {
        mg_disable_connection_keep_alive(conn);
        return 429; /* already answered; the handler never runs */
    }
    if (be_metrics_connections_held(0) >= limits->threads)
        mg_disable_connection_keep_alive(conn); /* others may be waiting: take turns */
    return 0;
}

static void connection_close(const struct mg_connection *conn)
{
    be_metrics_connections_held(-1);
    struct conn_state *state = mg_get_user_connection_data(conn);
    if (!state)
        return;
    unwatch_body(state);
    if (state->counted)
        address_slot(state->addr, -1, 0);
    if (!state->refused && state->requests == 0)
        be_metrics_connection_refused("no-request");
    free(state);
}

/* ==== The body's progress deadline ==== */

/* A body must arrive by body_timeout_ms after its first read plus one second per
 * body_min_rate bytes of it (its Content-Length, or what came so far of a chunked one).
 * NOTE: civetweb's mg_read returns only once the bytes asked for have come or no byte
 * came for request_timeout_ms, so a body trickling in keeps one read, and its worker,
 * for as long as it trickles. The check therefore cannot live in the reading thread: a
 * watchdog thread shuts the socket's reading side down at the deadline, the read
 * returns, and the request is answered 408 and its connection closed. */
#define WATCH_ROWS 512 /* a body per worker thread at most */
static struct conn_state *watched[WATCH_ROWS];
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool watchdog_stop;

static double body_deadline(const struct conn_state *state)
{
    double allowed = limits->body_timeout_ms / 1000.0;
    unsigned long long size =
        state->body_declared > 0 ? (unsigned long long)state->body_declared : state->body_received;
    if (limits->body_min_rate > 0)
        allowed += (double)size / limits->body_min_rate;
    return state->body_started + allowed;
}

static void watch_body(struct conn_state *state, const struct mg_request_info *ri)
{
    pthread_mutex_lock(&watch_lock);
    for (int i = 0; i < WATCH_ROWS && state->watch_row < 0; i++)
        if (!watched[i]) {
            watched[i] = state;
            state->watch_row = i;
        }
    state->body_started = now_seconds();
    state->body_declared = ri ? ri->content_length : -1;
    state->body_received = 0;
    snprintf(state->peer, sizeof state->peer, "%s", ri ? ri->remote_addr : "");
    state->peer_port = ri ? ri->remote_port : 0;
    state->local_port = ri ? ri->server_port : 0;
    pthread_mutex_unlock(&watch_lock);
}

static void unwatch_body(struct conn_state *state)
{
    pthread_mutex_lock(&watch_lock);
    if (state->watch_row >= 0)
        watched[state->watch_row] = NULL;
    state->watch_row = -1;
    pthread_mutex_unlock(&watch_lock);
}

/* NOTE: the socket is shut down under watch_lock, so the connection cannot have
 * finished its request (unwatch_body takes the lock) and closed meanwhile; the 4-tuple
 * names its socket exactly. */
static void *body_watchdog(void *unused)
{
    (void)unused;
    while (!atomic_load(&watchdog_stop)) {
        struct timespec pause = {0, 100 * 1000000L};
        nanosleep(&pause, NULL);
        double now = now_seconds();
        pthread_mutex_lock(&watch_lock);
        for (int i = 0; i < WATCH_ROWS; i++) {
            struct conn_state *state = watched[i];
            if (!state || state->body_late || now <= body_deadline(state))
                continue;
            state->body_late = true;
            int fd = connection_socket(state->peer, state->peer_port, state->local_port);
            if (fd >= 0)
                shutdown(fd, SHUT_RD);
            be_metrics_connection_refused("slow-body");
            be_log_str("warn", "body too slow: reading side shut", "addr", state->peer);
        }
        pthread_mutex_unlock(&watch_lock);
    }
    return NULL;
}

static int conn_read(void *conn, void *buf, size_t len)
{
    struct conn_state *state = mg_get_user_connection_data(conn);
    if (!state)
        return mg_read(conn, buf, len);
    if (state->watch_row < 0)
        watch_body(state, mg_get_request_info(conn));
    /* A chunked body is read in pieces, so that its progress counts. */
    if (state->body_declared < 0 && len > 16384)
        len = 16384;
    int n = mg_read(conn, buf, len);
    pthread_mutex_lock(&watch_lock);
    if (n > 0)
        state->body_received += (unsigned long long)n;
    bool late = state->body_late;
    pthread_mutex_unlock(&watch_lock);
    return late ? BE_READ_TOO_SLOW : n;
}

/* Read what is left of the body a handler did not take (a refusal before the body,
 * say) within the body's deadline, so that the connection may serve its next request;
 * a body of more than 64 KiB left unread, or one too slow, closes the connection
 * instead (civetweb would otherwise read the rest itself, for as long as it trickles). */
#define DRAIN_MAX (64 * 1024)
static void finish_body(struct mg_connection *conn)
{
    struct conn_state *state = mg_get_user_connection_data(conn);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (state && state->watch_row < 0 && ri && ri->content_length > DRAIN_MAX) {
        mg_disable_connection_keep_alive(conn);
        return;
    }
    char sink[4096];
    int n = 0;
    for (size_t drained = 0; drained < DRAIN_MAX; drained += (size_t)n)
        if ((n = conn_read(conn, sink, sizeof sink)) <= 0)
            break;
    if (n != 0)
        mg_disable_connection_keep_alive(conn);
    if (state)
        unwatch_body(state);
}

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
    if (!req.close_connection)
        finish_body(conn);
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
    char header_timeout[16];
    snprintf(header_timeout, sizeof header_timeout, "%ld", config->header_timeout_ms);
    options[o++] = "request_timeout_ms";
    options[o++] = header_timeout;
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
    callbacks.init_connection = init_connection;
    callbacks.begin_request = begin_request;
    callbacks.connection_close = connection_close;
    limits = config;
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
    pthread_t watchdog;
    bool watchdog_started = pthread_create(&watchdog, NULL, body_watchdog, NULL) == 0;
    if (!watchdog_started)
        be_log_str("warn", "no body watchdog: slow bodies are not cut short", "listen", ports);
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
    atomic_store(&watchdog_stop, true);
    if (watchdog_started)
        pthread_join(watchdog, NULL);
    mg_exit_library();
    return 0;
}
