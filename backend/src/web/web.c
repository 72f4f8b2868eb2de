/* The manager dashboard, server side: static files from the web folder (no build
 * step: plain HTML, CSS and JavaScript modules) and the live event stream of
 * server-sent events fed by PostgreSQL LISTEN/NOTIFY. It writes its own heads
 * (be_request_write), because it needs response headers (validators, a streamed
 * body) that the JSON reply helpers do not write. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "be/log.h"
#include "be/web.h"
#include "be/reply.h"
#include "be/db.h"

#ifndef BE_DEFAULT_WEB_DIR
#define BE_DEFAULT_WEB_DIR "/usr/share/carefact/web"
#endif

#define WEB_FILE_MAX (2u << 20) /* no dashboard file is near this; a cap, not a budget */
#define WEB_NAME_MAX 64

/* ==== Static files ==== */

const char *be_web_dir(void)
{
    const char *dir = getenv("CAREFACT_WEB_DIR");
    return dir && dir[0] ? dir : BE_DEFAULT_WEB_DIR;
}

/* The content type for a file name, or NULL when the name is not one we serve:
 * [a-z0-9_-]+ then one dot and a known extension. No '/', no "..", no hidden file,
 * so the name can never leave the web folder whatever the URL decoding did. */
static const char *content_type_of(const char *name)
{
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {"html", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"svg", "image/svg+xml"},
        {"json", "application/json"},
    };
    size_t stem = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-");
    if (stem == 0 || name[stem] != '.' || strlen(name) >= WEB_NAME_MAX)
        return NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(name + stem + 1, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

/* Read dir/name (a regular file, not a symlink, at most WEB_FILE_MAX bytes).
 * Returns 0 with *out (caller frees) or a negative CF_E code. */
static int read_web_file(const char *name, char **out, size_t *len, struct stat *st)
{
    char path[1200];
    char *data = NULL;
    int rc = CF_EINVAL;
    *out = NULL;
    if (snprintf(path, sizeof path, "%s/%s", be_web_dir(), name) >= (int)sizeof path)
        return CF_ETOOBIG;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return CF_EINVAL;
    if (fstat(fd, st) || !S_ISREG(st->st_mode))
        goto out;
    rc = CF_ETOOBIG;
    if ((unsigned long long)st->st_size > WEB_FILE_MAX)
        goto out;
    rc = CF_ENOMEM;
    data = malloc((size_t)st->st_size + 1);
    if (!data)
        goto out;
    size_t got = 0;
    while (got < (size_t)st->st_size) {
        ssize_t n = read(fd, data + got, (size_t)st->st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        rc = CF_ETRUNC;
        if (n <= 0)
            goto out;
        got += (size_t)n;
    }
    *out = data;
    *len = got;
    data = NULL;
    rc = 0;
out:
    free(data);
    close(fd);
    return rc;
}

/* NOTE: no-cache (not no-store): the browser keeps the file but asks each time with
 * If-None-Match, so a new carefactd version is seen at once (the files have no
 * hashed names, there being no build step) and an unchanged file costs a 304. */
static void serve_file(struct be_request *req, const char *name)
{
    const char *type = content_type_of(name);
    char *data = NULL;
    size_t len = 0;
    struct stat st;
    if (!type || read_web_file(name, &data, &len, &st)) {
        be_reply_problem(req, 404, "not-found", "Not found",
                         "No such file of the dashboard; open / to start.", NULL, NULL);
        return;
    }
    char etag[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx-%lx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec, (unsigned long)st.st_mtim.tv_nsec);
    const char *match = be_request_header(req, "If-None-Match");
    bool fresh = match && strcmp(match, etag) == 0;
    req->status = fresh ? 304 : 200;
    /* A 304 has no body and names no length (it would be read as the file's). */
    char length[48] = "";
    if (!fresh)
        snprintf(length, sizeof length, "Content-Length: %zu\r\n", len);
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\n%sETag: %s\r\n"
                     "Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n"
                     "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "
                     "frame-ancestors 'none'\r\nReferrer-Policy: no-referrer\r\n\r\n",
                     fresh ? "304 Not Modified" : "200 OK", type, length, etag);
    if (n > 0 && (size_t)n < sizeof head)
        be_request_write(req, head, (size_t)n);
    if (!fresh)
        be_request_write(req, data, len);
    free(data);
}

static void handle_web_index(struct be_request *req)
{
    serve_file(req, "index.html");
}

static void handle_web_asset(struct be_request *req)
{
    serve_file(req, be_param(req, "id"));
}

/* ==== Live event stream ==== */

static atomic_int streams_open;

/* Streams open per person and per client address: neither one person nor one address
 * (a browser opening tabs, a script) may take every slot. A key without a free row here
 * (more than STREAM_KEYS people and addresses streaming, past any real thread count) is
 * refused like one over its cap. Keys are "u:" + user id and "a:" + address. */
#define STREAM_KEYS 128
static struct {
    char key[64];
    int open;
} stream_keys[STREAM_KEYS];
static pthread_mutex_t stream_keys_lock = PTHREAD_MUTEX_INITIALIZER;

/* Take (delta 1) or give back (delta -1) one of key's stream slots. false when key
 * already holds cap. */
static bool stream_slot(const char *key, int delta, int cap)
{
    bool ok = false;
    pthread_mutex_lock(&stream_keys_lock);
    int found = -1, free_row = -1;
    for (int i = 0; i < STREAM_KEYS && found < 0; i++) {
        if (stream_keys[i].open > 0 && strcmp(stream_keys[i].key, key) == 0)
            found = i;
        else if (stream_keys[i].open == 0 && free_row < 0)
            free_row = i;
    }
    if (delta < 0 && found >= 0) {
        stream_keys[found].open--;
        ok = true;
    } else if (delta > 0 && found >= 0 && stream_keys[found].open < cap) {
        stream_keys[found].open++;
        ok = true;
    } else if (delta > 0 && found < 0 && free_row >= 0) {
        snprintf(stream_keys[free_row].key, sizeof stream_keys[free_row].key, "%s", key);
        stream_keys[free_row].open = 1;
        ok = true;
    }
    pthread_mutex_unlock(&stream_keys_lock);
    return ok;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool stream_write(struct be_request *req, const char *text)
{
    size_t len = strlen(text);
    return be_request_write(req, text, len) == (int)len;
}

/* Is this notification (ingest's JSON: device, stored, provider, worker) for the
 * subscriber? Oversight roles see every provider's; anyone else only their provider's,
 * and a worker only their own terminals'. A payload that names no provider is for the
 * oversight roles only. */
static bool notification_for(const struct be_principal *who, const cJSON *note)
{
    if (who->role & BE_OVERSIGHT)
        return true;
    const char *provider =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(note, "provider_id"));
    if (!provider || !who->provider[0] || strcmp(provider, who->provider) != 0)
        return false;
    if (!(who->role & BE_WORKER))
        return true;
    const char *worker = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(note, "worker_id"));
    return worker && who->worker[0] && strcmp(worker, who->worker) == 0;
}

/* The frame for one notification, or false when it is not the subscriber's. What is sent
 * is the device and the count only, as before (the page re-reads what it shows). */
static bool notification_frame(const struct be_principal *who, const char *payload, char *frame,
                               size_t size)
{
    cJSON *note = cJSON_Parse(payload);
    const cJSON *device = cJSON_GetObjectItemCaseSensitive(note, "device_id");
    const cJSON *stored = cJSON_GetObjectItemCaseSensitive(note, "stored");
    bool ok = cJSON_IsString(device) && cJSON_IsNumber(stored) && notification_for(who, note);
    /* The payload is ingest's own small JSON; anything longer is not forwarded. */
    if (ok) {
        int n = snprintf(frame, size,
                         "event: events\ndata: {\"device_id\":\"%.64s\",\"stored\":%lld}\n\n",
                         device->valuestring, (long long)stored->valuedouble);
        ok = n > 0 && (size_t)n < size;
    }
    cJSON_Delete(note);
    return ok;
}

/* Forward every notification waiting on listener that is the subscriber's. false when
 * the browser left or the database connection broke (the browser reconnects either way). */
static bool forward_notifications(PGconn *listener, struct be_request *req)
{
    if (!PQconsumeInput(listener))
        return false;
    PGnotify *note;
    bool ok = true;
    while ((note = PQnotifies(listener)) != NULL) {
        char frame[512];
        if (ok && notification_frame(&req->who, note->extra, frame, sizeof frame))
            ok = stream_write(req, frame);
        PQfreemem(note);
    }
    return ok;
}

/* NOTE: civetweb gives a handler no socket to poll, so a browser that left is only
 * noticed when a write fails (the second after its FIN): the keep-alive every 2 s
 * frees the thread within a few seconds. */
static void stream_loop(PGconn *listener, struct be_request *req)
{
    double started = now_s(), keepalive = started + 2;
    struct pollfd pfd = {.fd = PQsocket(listener), .events = POLLIN};
    while (now_s() - started < BE_WEB_STREAM_SECONDS) {
        int n = poll(&pfd, 1, 1000);
        if (n < 0 && errno != EINTR)
            return;
        if (n > 0 && !forward_notifications(listener, req))
            return;
        if (now_s() >= keepalive) {
            if (!stream_write(req, ": keep-alive\n\n"))
                return;
            keepalive = now_s() + 2;
        }
    }
}

/* NOTE: the stream has its own database connection, not the thread's cached one:
 * a LISTEN left on a shared connection would pile notifications up there. */
static void too_many_streams(struct be_request *req, const char *detail)
{
    be_reply_problem(req, 429, "too-many-streams", "Too many live dashboards", detail, NULL, NULL);
}

static void handle_stream(struct be_request *req)
{
    int cap = req->config->threads / 2 > 0 ? req->config->threads / 2 : 1;
    char user_key[64], addr_key[64];
    snprintf(user_key, sizeof user_key, "u:%s", req->who.user_id);
    snprintf(addr_key, sizeof addr_key, "a:%s", be_request_remote_addr(req));
    if (!stream_slot(user_key, 1, BE_WEB_STREAMS_PER_USER)) {
        too_many_streams(req, "You have as many live dashboards open as one person may; close "
                              "one (the page will retry by itself).");
        return;
    }
    if (!stream_slot(addr_key, 1, be_config_address_streams(req->config))) {
        stream_slot(user_key, -1, 0);
        too_many_streams(req, "Your address has as many live dashboards open as one address "
                              "may; close one (the page will retry by itself).");
        return;
    }
    if (atomic_fetch_add(&streams_open, 1) >= cap) {
        atomic_fetch_sub(&streams_open, 1);
        stream_slot(user_key, -1, 0);
        stream_slot(addr_key, -1, 0);
        too_many_streams(req, "Every stream slot of this server is taken; the page will retry "
                              "by itself.");
        return;
    }
    PGconn *listener = PQconnectdb(req->config->db);
    PGresult *res = NULL;
    if (PQstatus(listener) != CONNECTION_OK) {
        be_reply_db_error(req, listener, "stream connect");
        goto out;
    }
    res = PQexec(listener, "LISTEN " BE_WEB_CHANNEL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        be_reply_db_error(req, listener, "listen");
        goto out;
    }
    req->status = 200;
    if (!stream_write(req, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                           "Cache-Control: no-store\r\nConnection: close\r\n"
                           "X-Accel-Buffering: no\r\n\r\n"
                           "retry: 1000\n\nevent: ready\ndata: {}\n\n"))
        goto out;
    stream_loop(listener, req);
out:
    PQclear(res);
    PQfinish(listener);
    atomic_fetch_sub(&streams_open, 1);
    stream_slot(user_key, -1, 0);
    stream_slot(addr_key, -1, 0);
}

void be_web_notify_ingest(PGconn *db, const char *device_id, long long stored)
{
    if (stored <= 0)
        return;
    char count[24];
    snprintf(count, sizeof count, "%lld", stored);
    const char *params[] = {BE_WEB_CHANNEL, device_id, count};
    /* The device's provider and worker go with it: the stream forwards a notification
     * only to those who may see that provider's (or worker's) visits. */
    PGresult *res = PQexecParams(db,
                                 "SELECT pg_notify($1, json_build_object('device_id', d.id, "
                                 "'stored', $3::bigint, 'provider_id', w.provider_id, "
                                 "'worker_id', d.worker_id)::text) "
                                 "FROM devices d JOIN workers w ON w.id = d.worker_id "
                                 "WHERE d.id = $2::uuid",
                                 3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        be_log_str("warn", "live stream notify failed", "error", PQerrorMessage(db));
    PQclear(res);
}

static const struct be_route routes[] = {
    {"GET", "/", handle_web_index, false, BE_PUBLIC, BE_BODY_NONE},
    {"GET", "/web/{id}", handle_web_asset, false, BE_PUBLIC, BE_BODY_NONE},
    {"GET", "/api/v1/stream", handle_stream, true, BE_PEOPLE, BE_BODY_NONE}, /* db: the session */
};
const struct be_module be_web_module = BE_MODULE("web", routes);
