/* Test harness (see harness.h). Paths come from ctest's environment:
 * CF_SOURCE_DIR (tools/pg) and CF_BINARY_DIR (backend/carefactd). */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libpq-fe.h>

#include "cf/batch.h"

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
        port = ntohs(addr.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Run a command, capture the first line of stdout. */
static int run_capture(char *const argv[], char *out, size_t out_size)
{
    int pipefd[2];
    if (pipe(pipefd))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        close(pipefd[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pipefd[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < out_size && (r = read(pipefd[0], out + n, out_size - 1 - n)) > 0)
        n += (size_t)r;
    char drain[256];
    while (read(pipefd[0], drain, sizeof drain) > 0)
        ;
    close(pipefd[0]);
    out[n] = '\0';
    out[strcspn(out, "\n")] = '\0';
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int cf_harness_carefactd(struct cf_harness *h, const char *const *args, char *out, size_t out_size)
{
    char bin[512];
    char *argv[24];
    size_t n = 0;
    snprintf(bin, sizeof bin, "%s/backend/carefactd", env_or("CF_BINARY_DIR", "."));
    argv[n++] = bin;
    for (size_t i = 0; args[i] && n < 20; i++)
        argv[n++] = (char *)args[i];
    argv[n++] = "--db";
    argv[n++] = h->conninfo;
    argv[n] = NULL;
    char scratch[256];
    return run_capture(argv, out ? out : scratch, out ? out_size : sizeof scratch);
}

int cf_harness_start_server(struct cf_harness *h, const char *const *extra_args)
{
    char bin[512], listen[32];
    char *argv[32];
    size_t n = 0;
    h->port = free_port();
    snprintf(listen, sizeof listen, "127.0.0.1:%d", h->port);
    snprintf(h->base_url, sizeof h->base_url, "http://%s", listen);
    snprintf(bin, sizeof bin, "%s/backend/carefactd", env_or("CF_BINARY_DIR", "."));
    argv[n++] = bin;
    argv[n++] = "serve";
    argv[n++] = "--db";
    argv[n++] = h->app_conninfo;
    argv[n++] = "--listen";
    argv[n++] = listen;
    argv[n++] = "--threads";
    argv[n++] = "4";
    for (size_t i = 0; extra_args && extra_args[i] && n < 30; i++)
        argv[n++] = (char *)extra_args[i];
    argv[n] = NULL;
    h->server = fork();
    if (h->server == 0) {
        char log[128];
        snprintf(log, sizeof log, "%s/carefactd.log", h->pg_dir);
        FILE *f = freopen(log, "a", stderr);
        (void)f;
        execv(bin, argv);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        struct cf_http_reply reply;
        if (cf_http(h, "GET", "/healthz", NULL, 0, &reply) == 0 && reply.status == 200) {
            cf_http_reply_cleanup(&reply);
            return 0;
        }
        cf_http_reply_cleanup(&reply);
        usleep(50000);
    }
    fprintf(stderr, "harness: carefactd did not become healthy (log in %s)\n", h->pg_dir);
    return -1;
}

void cf_harness_stop_server(struct cf_harness *h)
{
    if (h->server > 0) {
        kill(h->server, SIGTERM);
        waitpid(h->server, NULL, 0);
        h->server = 0;
    }
}

int cf_harness_start(struct cf_harness *h, const char *const *extra_args)
{
    char pg[512], owner[24];
    memset(h, 0, sizeof *h);
    snprintf(h->pg_dir, sizeof h->pg_dir, "/tmp/cfit.XXXXXX");
    if (!mkdtemp(h->pg_dir))
        return -1;
    snprintf(pg, sizeof pg, "%s/tools/pg", env_or("CF_SOURCE_DIR", "."));
    snprintf(owner, sizeof owner, "%d", (int)getpid());
    char *argv[] = {pg, "start", h->pg_dir, "--owner-pid", owner, NULL};
    if (run_capture(argv, h->conninfo, sizeof h->conninfo) || !h->conninfo[0]) {
        fprintf(stderr, "harness: tools/pg start failed\n");
        return -1;
    }
    /* libpq takes the last of repeated keywords: the same cluster, the server's role. */
    snprintf(h->app_conninfo, sizeof h->app_conninfo, "%s user=carefact_app", h->conninfo);
    const char *migrate[] = {"migrate", NULL};
    if (cf_harness_carefactd(h, migrate, NULL, 0)) {
        fprintf(stderr, "harness: migrate failed\n");
        return -1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cf_harness_start_server(h, extra_args);
}

void cf_harness_stop(struct cf_harness *h)
{
    char pg[512];
    cf_harness_stop_server(h);
    snprintf(pg, sizeof pg, "%s/tools/pg", env_or("CF_SOURCE_DIR", "."));
    char out[64], log[128];
    /* Keep the server's log beside the test (the working folder) as an artifact. */
    snprintf(log, sizeof log, "%s/carefactd.log", h->pg_dir);
    char *cp[] = {"/bin/cp", log, "carefactd-last.log", NULL};
    if (h->pg_dir[0])
        run_capture(cp, out, sizeof out);
    char *argv[] = {pg, "destroy", h->pg_dir, NULL};
    if (h->pg_dir[0])
        run_capture(argv, out, sizeof out);
}

int cf_harness_pg(struct cf_harness *h, const char *action)
{
    char pg[512], out[256];
    snprintf(pg, sizeof pg, "%s/tools/pg", env_or("CF_SOURCE_DIR", "."));
    char *argv[] = {pg, (char *)action, h->pg_dir, NULL};
    return run_capture(argv, out, sizeof out);
}

/* ==== SQL ==== */

static PGresult *query(struct cf_harness *h, const char *sql, PGconn **db)
{
    *db = PQconnectdb(h->conninfo);
    if (PQstatus(*db) != CONNECTION_OK) {
        fprintf(stderr, "harness: %s", PQerrorMessage(*db));
        return NULL;
    }
    PGresult *res = PQexec(*db, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "harness: SQL failed: %s\n%s\n", PQerrorMessage(*db), sql);
        PQclear(res);
        return NULL;
    }
    return res;
}

int cf_harness_sql(struct cf_harness *h, const char *sql)
{
    PGconn *db;
    PGresult *res = query(h, sql, &db);
    PQclear(res);
    PQfinish(db);
    return res ? 0 : -1;
}

char *cf_harness_sql_value(struct cf_harness *h, const char *sql)
{
    PGconn *db;
    PGresult *res = query(h, sql, &db);
    char *value = NULL;
    if (res)
        value = strdup(PQntuples(res) && PQnfields(res) ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    PQfinish(db);
    return value;
}

long cf_harness_sql_long(struct cf_harness *h, const char *sql)
{
    char *value = cf_harness_sql_value(h, sql);
    long n = value ? strtol(value, NULL, 10) : -1;
    free(value);
    return n;
}

/* ==== HTTP ==== */

struct sink {
    char *buf;
    size_t len;
};

static size_t on_data(char *data, size_t size, size_t count, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * count;
    char *grown = realloc(s->buf, s->len + n + 1);
    if (!grown)
        return 0;
    memcpy(grown + s->len, data, n);
    s->buf = grown;
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

void cf_harness_device_key(struct cf_harness *h, const char *id, const unsigned char key[32])
{
    if (h->device_count >= CF_HARNESS_DEVICES)
        return;
    struct cf_harness_device *d = &h->devices[h->device_count++];
    snprintf(d->id, sizeof d->id, "%s", id);
    memcpy(d->key, key, sizeof d->key);
}

void cf_harness_device_forget(struct cf_harness *h, const char *id)
{
    size_t kept = 0;
    for (size_t i = 0; i < h->device_count; i++)
        if (strcmp(h->devices[i].id, id) != 0)
            h->devices[kept++] = h->devices[i];
    h->device_count = kept;
}

/* The three signature headers for a device route of a registered device; -1 when
 * the path is not one (the request goes unsigned). */
static int sign_device_request(const struct cf_harness *h, const char *method, const char *path,
                               const char *body, size_t body_len, char out[3][160])
{
    static const char prefix[] = "/api/v1/devices/";
    if (strncmp(path, prefix, sizeof prefix - 1) != 0)
        return -1;
    const char *id = path + sizeof prefix - 1;
    size_t id_len = strcspn(id, "/?");
    for (size_t i = 0; i < h->device_count; i++) {
        const struct cf_harness_device *d = &h->devices[i];
        if (strlen(d->id) != id_len || strncmp(d->id, id, id_len) != 0)
            continue;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
        char sig[CF_REQUEST_SIG_TEXT_LEN + 1];
        if (cf_request_sign(d->key, d->id, method, path, body, body ? body_len : 0, ms, sig))
            return -1;
        snprintf(out[0], 160, CF_REQUEST_HDR_DEVICE ": %s", d->id);
        snprintf(out[1], 160, CF_REQUEST_HDR_TIME ": %lld", (long long)ms);
        snprintf(out[2], 160, CF_REQUEST_HDR_SIGNATURE ": %s", sig);
        return 0;
    }
    return -1;
}

static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
    struct cf_http_reply *reply = userdata;
    size_t n = size * count;
    size_t used = strlen(reply->headers);
    if (used + n < sizeof reply->headers) {
        memcpy(reply->headers + used, data, n);
        reply->headers[used + n] = '\0';
    }
    static const char name[] = "set-cookie:";
    if (!reply->set_cookie[0] && n > sizeof name - 1 &&
        strncasecmp(data, name, sizeof name - 1) == 0) {
        size_t skip = sizeof name - 1;
        while (skip < n && data[skip] == ' ')
            skip++;
        size_t len = n - skip;
        while (len && (data[skip + len - 1] == '\r' || data[skip + len - 1] == '\n'))
            len--;
        if (len >= sizeof reply->set_cookie)
            len = sizeof reply->set_cookie - 1;
        memcpy(reply->set_cookie, data + skip, len);
        reply->set_cookie[len] = '\0';
    }
    static const char disposition[] = "content-disposition:";
    if (n > sizeof disposition - 1 && strncasecmp(data, disposition, sizeof disposition - 1) == 0) {
        size_t skip = sizeof disposition - 1;
        while (skip < n && data[skip] == ' ')
            skip++;
        size_t len = n - skip;
        while (len && (data[skip + len - 1] == '\r' || data[skip + len - 1] == '\n'))
            len--;
        if (len >= sizeof reply->content_disposition)
            len = sizeof reply->content_disposition - 1;
        memcpy(reply->content_disposition, data + skip, len);
        reply->content_disposition[len] = '\0';
    }
    static const char etag[] = "etag:";
    if (n > sizeof etag - 1 && strncasecmp(data, etag, sizeof etag - 1) == 0) {
        size_t skip = sizeof etag - 1;
        while (skip < n && data[skip] == ' ')
            skip++;
        size_t len = n - skip;
        while (len && (data[skip + len - 1] == '\r' || data[skip + len - 1] == '\n'))
            len--;
        if (len >= sizeof reply->etag)
            len = sizeof reply->etag - 1;
        memcpy(reply->etag, data + skip, len);
        reply->etag[len] = '\0';
    }
    static const char retry[] = "retry-after:";
    if (n > sizeof retry - 1 && strncasecmp(data, retry, sizeof retry - 1) == 0) {
        size_t skip = sizeof retry - 1;
        while (skip < n && data[skip] == ' ')
            skip++;
        size_t len = n - skip;
        while (len && (data[skip + len - 1] == '\r' || data[skip + len - 1] == '\n'))
            len--;
        if (len >= sizeof reply->retry_after)
            len = sizeof reply->retry_after - 1;
        memcpy(reply->retry_after, data + skip, len);
        reply->retry_after[len] = '\0';
    }
    return n;
}

int cf_http(struct cf_harness *h, const char *method, const char *path, const char *body,
            size_t body_len, struct cf_http_reply *reply)
{
    return cf_http_with(h, method, path, body, body_len, NULL, reply);
}

int cf_http_with(struct cf_harness *h, const char *method, const char *path, const char *body,
                 size_t body_len, const char *const *extra, struct cf_http_reply *reply)
{
    char url[512];
    struct sink sink = {0};
    memset(reply, 0, sizeof *reply);
    CURL *curl = curl_easy_init();
    if (!curl)
        return -1;
    snprintf(url, sizeof url, "%s%s", h->base_url, path);
    /* JSON unless the caller names another content type (a refusal to check). */
    bool typed = false;
    for (size_t i = 0; extra && extra[i]; i++)
        typed = typed || strncasecmp(extra[i], "Content-Type:", 13) == 0;
    struct curl_slist *headers =
        typed ? NULL : curl_slist_append(NULL, "Content-Type: application/json");
    for (size_t i = 0; extra && extra[i]; i++)
        headers = curl_slist_append(headers, extra[i]);
    char cookie[200], csrf[120];
    char signed_headers[3][160];
    if (sign_device_request(h, method, path, body, body_len, signed_headers) == 0)
        for (int i = 0; i < 3; i++)
            headers = curl_slist_append(headers, signed_headers[i]);
    if (h->session) {
        snprintf(cookie, sizeof cookie, "Cookie: %s", h->session->cookie);
        snprintf(csrf, sizeof csrf, "X-CSRF-Token: %s", h->session->csrf);
        headers = curl_slist_append(headers, cookie);
        headers = curl_slist_append(headers, csrf);
    }
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, reply);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) {
        char *type = NULL;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
        curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
        snprintf(reply->content_type, sizeof reply->content_type, "%s", type ? type : "");
        reply->body = sink.buf ? sink.buf : strdup("");
        reply->body_len = sink.len;
        cf_contract_note(method, path, reply);
    } else {
        free(sink.buf);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return rc == CURLE_OK ? 0 : -1;
}

/* With CF_CONTRACT_LOG set, append the exchange as one JSON line for the contract
 * check (tests/contract/validate.mjs). */
void cf_contract_note(const char *method, const char *path, const struct cf_http_reply *reply)
{
    const char *file = getenv("CF_CONTRACT_LOG");
    if (!file || !*file)
        return;
    cJSON *line = cJSON_CreateObject();
    cJSON_AddStringToObject(line, "method", method);
    cJSON_AddStringToObject(line, "path", path);
    cJSON_AddNumberToObject(line, "status", (double)reply->status);
    cJSON_AddStringToObject(line, "content_type", reply->content_type);
    cJSON_AddStringToObject(line, "body", reply->body ? reply->body : "");
    char *text = cJSON_PrintUnformatted(line);
    /* one line at a time: a test's threads record too (concurrent exports, bookings),
     * and two long lines written at once would interleave */
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&lock);
    FILE *f = fopen(file, "a");
    if (f && text)
        fprintf(f, "%s\n", text);
    if (f)
        fclose(f);
    pthread_mutex_unlock(&lock);
    free(text);
    cJSON_Delete(line);
}

void cf_http_reply_cleanup(struct cf_http_reply *reply)
{
    free(reply->body);
    reply->body = NULL;
}

/* ==== Accounts and sessions ==== */

/* `carefactd user add` with the options that are not NULL. */
static int account_add(struct cf_harness *h, const char *login, const char *role,
                       const char *provider, const char *worker, const char *office,
                       const char *password)
{
    char bin[512];
    snprintf(bin, sizeof bin, "%s/backend/carefactd", env_or("CF_BINARY_DIR", "."));
    int fds[2];
    if (pipe(fds))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[0], 0);
        close(fds[0]);
        close(fds[1]);
        char *argv[16];
        size_t n = 0;
        argv[n++] = bin;
        argv[n++] = "user";
        argv[n++] = "add";
        argv[n++] = "--db";
        argv[n++] = h->conninfo;
        argv[n++] = "--role";
        argv[n++] = (char *)role;
        if (provider) {
            argv[n++] = "--provider";
            argv[n++] = (char *)provider;
        }
        if (worker) {
            argv[n++] = "--worker";
            argv[n++] = (char *)worker;
        }
        if (office) {
            argv[n++] = "--office";
            argv[n++] = (char *)office;
        }
        argv[n++] = (char *)login;
        argv[n] = NULL;
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 1);
        execv(bin, argv);
        _exit(127);
    }
    close(fds[0]);
    ssize_t w = write(fds[1], password, strlen(password));
    w += write(fds[1], "\n", 1);
    close(fds[1]);
    int status = 0;
    waitpid(pid, &status, 0);
    return w > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int cf_harness_account(struct cf_harness *h, const char *login, const char *role,
                       const char *provider, const char *worker, const char *password)
{
    return account_add(h, login, role, provider, worker, NULL, password);
}

int cf_harness_staff_account(struct cf_harness *h, const char *login, const char *role,
                             const char *office, const char *password)
{
    return account_add(h, login, role, NULL, NULL, office, password);
}

int cf_harness_login(struct cf_harness *h, const char *login, const char *password,
                     struct cf_session *out)
{
    char body[512];
    struct cf_http_reply reply;
    const struct cf_session *saved = h->session;
    memset(out, 0, sizeof *out);
    snprintf(body, sizeof body, "{\"login\":\"%s\",\"password\":\"%s\"}", login, password);
    h->session = NULL;
    int rc = cf_http(h, "POST", "/api/v1/session", body, strlen(body), &reply);
    h->session = saved;
    if (rc || reply.status != 201) {
        fprintf(stderr, "harness: login %s: %ld %s\n", login, reply.status,
                reply.body ? reply.body : "");
        cf_http_reply_cleanup(&reply);
        return -1;
    }
    cJSON *json = cJSON_Parse(reply.body);
    const cJSON *csrf = cJSON_GetObjectItemCaseSensitive(json, "csrf_token");
    size_t n = strcspn(reply.set_cookie, ";");
    if (cJSON_IsString(csrf) && n < sizeof out->cookie) {
        memcpy(out->cookie, reply.set_cookie, n);
        out->cookie[n] = '\0';
        snprintf(out->csrf, sizeof out->csrf, "%s", csrf->valuestring);
    }
    cJSON_Delete(json);
    cf_http_reply_cleanup(&reply);
    return out->cookie[0] ? 0 : -1;
}

int cf_harness_as_authority(struct cf_harness *h)
{
    static struct cf_session authority;
    static const char password[] = "harness-authority-password";
    char *exists = cf_harness_sql_value(h, "SELECT count(*) FROM users WHERE login = "
                                           "'harness-authority'");
    int rc = exists && strcmp(exists, "0") == 0
                 ? cf_harness_account(h, "harness-authority", "authority", NULL, NULL, password)
                 : 0;
    free(exists);
    if (!rc)
        rc = cf_harness_login(h, "harness-authority", password, &authority);
    h->session = rc ? NULL : &authority;
    return rc;
}
