/* The HTTP edge and the database layer of carefactd against the real server: a
 * request is refused by its route's roles and body cap before its body is read (the
 * answer comes while the body has not even been sent), a device route is refused from
 * its head when the device is unknown, and a value the database cannot take (a bad
 * cursor, a time zone offset out of range) is a 400 naming the parameter, not a 503
 * counted as a database error. A request whose body framing is ambiguous (request
 * smuggling) is refused and its connection closed; metrics count every status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "api_check.h"
#include "harness.h"

static struct cf_harness harness;

static int group_setup(void **state)
{
    (void)state;
    return cf_harness_start(&harness, NULL) || cf_harness_as_authority(&harness) ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cf_harness_stop(&harness);
    return 0;
}

/* Send head (a request's head, without its body) and wait up to 5 s for the answer's
 * status line; the body the head announces is never sent. Returns the status, or -1
 * when no answer came in time (the server waits for the body). */
static long head_only(const char *head, char *answer, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)harness.port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(write(fd, head, strlen(head)), (ssize_t)strlen(head));
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    long status = -1;
    size_t len = 0;
    answer[0] = '\0';
    while (len + 1 < size && poll(&pfd, 1, 5000) == 1) {
        ssize_t n = read(fd, answer + len, size - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        answer[len] = '\0';
        if (strstr(answer, "\r\n\r\n") && strstr(answer, "}"))
            break;
    }
    if (strncmp(answer, "HTTP/1.1 ", 9) == 0)
        status = strtol(answer + 9, NULL, 10);
    close(fd);
    return status;
}

static double db_errors(void)
{
    struct cf_http_reply reply;
    assert_int_equal(cf_http(&harness, "GET", "/metrics", NULL, 0, &reply), 0);
    const char *line = strstr(reply.body, "\ncarefact_db_errors_total ");
    double n = line ? strtod(line + strlen("\ncarefact_db_errors_total "), NULL) : -1;
    cf_http_reply_cleanup(&reply);
    return n;
}

/* ==== Before the body ==== */

static void test_roles_before_body(void **state)
{
    (void)state;
    char answer[2048];
    /* A megabyte announced to a people's route without a session: 401 at once. */
    long status = head_only("GET /api/v1/visits HTTP/1.1\r\nHost: x\r\nContent-Type: "
                            "application/json\r\nContent-Length: 1048576\r\n\r\n",
                            answer, sizeof answer);
    if (status != 401)
        fail_msg("want 401 before the body, got %ld: %s", status, answer);
    assert_non_null(strstr(answer, "unauthenticated"));
}

static void test_body_cap_before_body(void **state)
{
    (void)state;
    char answer[2048];
    /* Login takes a few KiB: 100 kB announced is refused before it is sent. */
    long status = head_only("POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: "
                            "application/json\r\nContent-Length: 100000\r\n\r\n",
                            answer, sizeof answer);
    if (status != 413)
        fail_msg("want 413 before the body, got %ld: %s", status, answer);
    assert_non_null(strstr(answer, "too-large"));
    /* the same through curl: a body just over the cap */
    char *big = calloc(1, 5000);
    assert_non_null(big);
    memset(big, 'x', 4999);
    cJSON *p = cf_api_json(&harness, "POST", "/api/v1/session", big, 413);
    cf_api_expect_problem(p, "too-large", NULL);
    free(big);
}

static void test_device_head_before_body(void **state)
{
    (void)state;
    char answer[2048], head[1024];
    const char *device = "7e57ab1e-0000-4000-8000-000000000001";
    long long now_ms = (long long)time(NULL) * 1000;
    snprintf(head, sizeof head,
             "POST /api/v1/devices/%s/events HTTP/1.1\r\nHost: x\r\nContent-Type: "
             "application/json\r\nContent-Length: 4000000\r\nX-Carefact-Device: %s\r\n"
             "X-Carefact-Time: %lld\r\nX-Carefact-Signature: AAAA\r\n\r\n",
             device, device, now_ms);
    long status = head_only(head, answer, sizeof answer);
    if (status != 404)
        fail_msg("want 404 before the body, got %ld: %s", status, answer);
    assert_non_null(strstr(answer, "unknown-device"));
}

/* ==== Body framing (request smuggling) ==== */

/* Send bytes as they are, then read until the server closes the connection (or 5 s
 * pass). Returns true when it closed; answer gets everything that came. */
static bool exchange_raw(const char *bytes, char *answer, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)harness.port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(write(fd, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    size_t len = 0;
    bool closed = false;
    answer[0] = '\0';
    while (len + 1 < size && poll(&pfd, 1, 5000) == 1) {
        ssize_t n = read(fd, answer + len, size - 1 - len);
        if (n <= 0) {
            closed = true;
            break;
        }
        len += (size_t)n;
        answer[len] = '\0';
    }
    close(fd);
    return closed;
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* /healthz requests served so far, from /metrics. */
static long healthz_count(void)
{
    struct cf_http_reply reply;
    assert_int_equal(cf_http(&harness, "GET", "/metrics", NULL, 0, &reply), 0);
    const char *key = "route=\"/healthz\",status=\"200\"} ";
    const char *line = strstr(reply.body, key);
    long n = line ? strtol(line + strlen(key), NULL, 10) : 0;
    cf_http_reply_cleanup(&reply);
    return n;
}

/* Each head below carries a second request (GET /healthz) where a reader of the other
 * framing would see the end of the first one's body. The server must answer the first
 * with one 400 problem, say Connection: close, close, and never run the second. */
static void expect_refused_framing(const char *request)
{
    char answer[8192];
    long before = healthz_count();
    bool closed = exchange_raw(request, answer, sizeof answer);
    if (strncmp(answer, "HTTP/1.1 400 ", 13) != 0 || count_of(answer, "HTTP/1.") != 1 ||
        !strstr(answer, "application/problem+json") || !strstr(answer, "bad-framing") ||
        !strstr(answer, "Connection: close") || !closed)
        fail_msg("want one 400 bad-framing with Connection: close, then the connection "
                 "closed (closed: %d), got:\n%s\nfor:\n%s",
                 closed, answer, request);
    assert_int_equal(healthz_count(), before); /* the smuggled request never ran */
}

static void test_ambiguous_framing_is_refused(void **state)
{
    (void)state;
    /* Content-Length and chunked: civetweb read the chunks (an empty body) and then ran
     * the rest as a request; a proxy reading 43 bytes would not have. */
    expect_refused_framing("POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: "
                           "application/json\r\nContent-Length: 43\r\nTransfer-Encoding: "
                           "chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    /* The same with the headers the other way round. */
    expect_refused_framing("POST /api/v1/session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                           "chunked\r\nContent-Length: 43\r\n\r\n0\r\n\r\n"
                           "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    /* Two Content-Lengths that disagree: civetweb took the first. */
    expect_refused_framing("POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: "
                           "application/json\r\nContent-Length: 0\r\nContent-Length: 38\r\n\r\n"
                           "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    /* A Content-Length that is not a plain number (civetweb read "0"). */
    expect_refused_framing("POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: "
                           "application/json\r\nContent-Length: 0, 38\r\n\r\n"
                           "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    /* A Transfer-Encoding other than chunked: civetweb ignored "identity" and used the
     * Content-Length. */
    expect_refused_framing("POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: "
                           "application/json\r\nTransfer-Encoding: identity\r\n"
                           "Content-Length: 0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    /* Two Transfer-Encodings (the second unread by civetweb). */
    expect_refused_framing("POST /api/v1/session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                           "chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n"
                           "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");

    /* Still served: a plain chunked body, and two requests on one connection. */
    char answer[8192];
    long before = healthz_count();
    (void)exchange_raw("POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: "
                       "application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n"
                       "0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                       answer, sizeof answer);
    if (count_of(answer, "HTTP/1.1 ") != 2 || strstr(answer, "bad-framing") ||
        !strstr(answer, "HTTP/1.1 200 "))
        fail_msg("want the login's answer then the 200 of /healthz, got:\n%s", answer);
    assert_int_equal(healthz_count(), before + 1);
}

/* ==== Metrics: every status under its own code ==== */

/* The ETag of GET path, from a raw exchange. */
static void etag_of(const char *path, char *etag, size_t size)
{
    char request[256], answer[65536];
    snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
             path);
    (void)exchange_raw(request, answer, sizeof answer);
    const char *at = strstr(answer, "ETag: ");
    assert_non_null(at);
    at += strlen("ETag: ");
    size_t len = strcspn(at, "\r\n");
    assert_true(len < size);
    memcpy(etag, at, len);
    etag[len] = '\0';
}

static void test_metrics_count_every_status(void **state)
{
    (void)state;
    /* a 304: a dashboard file the browser holds already */
    char etag[128], header[200];
    etag_of("/web/app.js", etag, sizeof etag);
    snprintf(header, sizeof header, "If-None-Match: %s", etag);
    const char *headers[] = {header, NULL};
    struct cf_http_reply reply;
    assert_int_equal(cf_http_with(&harness, "GET", "/web/app.js", NULL, 0, headers, &reply), 0);
    assert_int_equal(reply.status, 304);
    cf_http_reply_cleanup(&reply);
    /* a 429: wrong passwords for one account until it is locked */
    assert_int_equal(
        cf_harness_account(&harness, "metrics-locked", "authority", NULL, NULL, "right password 1"),
        0);
    const struct cf_session *session = harness.session;
    harness.session = NULL;
    long status = 0;
    for (int i = 0; i < 30 && status != 429; i++) {
        static const char wrong[] = "{\"login\":\"metrics-locked\",\"password\":\"wrong\"}";
        assert_int_equal(
            cf_http(&harness, "POST", "/api/v1/session", wrong, sizeof wrong - 1, &reply), 0);
        status = reply.status;
        cf_http_reply_cleanup(&reply);
    }
    harness.session = session;
    assert_int_equal(status, 429);

    /* NOTE: a request is counted after its answer is written, so the client can ask for
     * /metrics (on another thread) a moment before the last answer is counted: look a few
     * times. */
    bool counted = false;
    for (int i = 0; i < 40 && !counted; i++) {
        if (i)
            usleep(50000);
        assert_int_equal(cf_http(&harness, "GET", "/metrics", NULL, 0, &reply), 0);
        counted = strstr(reply.body, "route=\"/api/v1/session\",status=\"429\"}") &&
                  strstr(reply.body, "route=\"/web/{id}\",status=\"304\"}");
        if (!counted)
            cf_http_reply_cleanup(&reply);
    }
    if (!counted)
        fail_msg("no 429 for the session route or no 304 for the dashboard's files counted");
    const char *zero = strstr(reply.body, "status=\"0\"}");
    if (zero)
        fail_msg("a request is counted under status 0: ...%.120s",
                 (size_t)(zero - reply.body) > 100 ? zero - 100 : reply.body);
    cf_http_reply_cleanup(&reply);
}

/* ==== Values the database refuses ==== */

static void test_bad_values_are_400(void **state)
{
    (void)state;
    double before = db_errors();
    assert_true(before >= 0);
    cJSON *p =
        cf_api_json(&harness, "GET",
                    "/api/v1/visits?cursor=1-2-3_3f2a0000-0000-4000-8000-000000000001", NULL, 400);
    cf_api_expect_problem(p, "validation", "cursor");
    /* PostgreSQL takes offsets up to 15:59: this one passes our syntax check and is
     * refused by the database (SQLSTATE class 22). */
    p = cf_api_json(&harness, "GET", "/api/v1/visits?from=1970-01-01T00:00:00-23:59", NULL, 400);
    cf_api_expect_problem(p, "validation", "from");
    p = cf_api_json(&harness, "GET", "/api/v1/figures?group=day&to=2026-01-01T00:00:00%2B23:59",
                    NULL, 400);
    cf_api_expect_problem(p, "validation", "to");
    assert_true(db_errors() == before);
    /* a cursor that is one still works */
    cJSON_Delete(cf_api_json(&harness, "GET",
                             "/api/v1/visits?cursor=-5_3f2a0000-0000-4000-8000-000000000001", NULL,
                             200));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles_before_body),
        cmocka_unit_test(test_body_cap_before_body),
        cmocka_unit_test(test_device_head_before_body),
        cmocka_unit_test(test_bad_values_are_400),
        cmocka_unit_test(test_ambiguous_framing_is_refused),
        cmocka_unit_test(test_metrics_count_every_status),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
