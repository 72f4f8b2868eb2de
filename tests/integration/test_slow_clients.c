/* carefactd alone (no proxy in front) against clients that hold connections: idle
 * sockets, request bodies trickling in, one address or person holding live streams.
 * The offenders come from other loopback addresses (127.0.0.2-4; all of 127/8 is this
 * machine) than the harness's requests (127.0.0.1), as they would from other hosts.
 * Each time /healthz and a device upload must still answer at once, and the offenders
 * must be answered (429 or 408 problem+json) and closed within the configured
 * deadlines, the refusals counted in /metrics. Once every thread holds a connection,
 * answers close their connections so clients take turns. The server runs with its default 16
 * threads (so 8 connections per address) and short deadlines to keep the test short. */
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
#include "sample_events.h"
#include "terminal.h"

#define WORKER "20212223-2425-2627-2829-2a2b2c2d2e2f"
#define OFFENDERS 20
#define PER_ADDRESS 8 /* threads/2 with the default 16 threads */
#define HEADER_MS 2000
#define BODY_MS 3000

static struct cf_harness harness;
static struct cf_terminal terminal;

static const char seed_sql[] =
    "INSERT INTO regions VALUES ('00000000-0000-4000-8000-000000000001', 'Тестовая область', "
    "  decode(repeat('ab', 32), 'hex'));"
    "INSERT INTO providers VALUES ('00000000-0000-4000-8000-000000000002', "
    "  '00000000-0000-4000-8000-000000000001', 'КЦСОН Тестовый');"
    "INSERT INTO workers VALUES ('" WORKER "', '00000000-0000-4000-8000-000000000002', "
    "  'Иванова Анна');";

static const char *const serve_args[] = {"--threads",
                                         "16",
                                         "--header-timeout-ms",
                                         "2000",
                                         "--body-timeout-ms",
                                         "3000",
                                         "--body-min-rate",
                                         "1024",
                                         NULL};

static int group_setup(void **state)
{
    (void)state;
    if (cf_harness_start(&harness, serve_args) || cf_harness_sql(&harness, seed_sql))
        return -1;
    cf_terminal_enrol(&harness, WORKER, &terminal);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cf_harness_stop(&harness);
    return 0;
}

/* ==== Helpers ==== */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A TCP connection to the server from the loopback address source. */
static int connect_from(const char *source)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in local = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, source, &local.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&local, sizeof local), 0);
    struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons((uint16_t)harness.port)};
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&server, sizeof server), 0);
    return fd;
}

/* Read what fd receives for up to seconds, into answer; true when the server closed
 * the connection (end of stream or reset) in that time. */
static bool read_until_closed(int fd, double seconds, char *answer, size_t size)
{
    size_t len = strlen(answer);
    double deadline = now_s() + seconds;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    while (now_s() < deadline) {
        int ms = (int)((deadline - now_s()) * 1000) + 1;
        if (poll(&pfd, 1, ms) != 1)
            continue;
        char chunk[2048];
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n <= 0)
            return true;
        size_t take = (size_t)n < size - 1 - len ? (size_t)n : size - 1 - len;
        memcpy(answer + len, chunk, take);
        len += take;
        answer[len] = '\0';
    }
    return false;
}

/* /healthz answers 200 within a second, and so does a device upload (a fresh visit
 * acknowledged), while the offenders hold their connections. */
static void expect_service(const char *when)
{
    double started = now_s();
    struct cf_http_reply reply;
    assert_int_equal(cf_http(&harness, "GET", "/healthz", NULL, 0, &reply), 0);
    double healthz_s = now_s() - started;
    if (reply.status != 200 || healthz_s > 1.0)
        fail_msg("%s: /healthz answered %ld in %.3f s", when, reply.status, healthz_s);
    cf_http_reply_cleanup(&reply);
    struct cf_event ev[3];
    sample_visit(ev, 60);
    static uint8_t visit_seed = 0x60;
    for (int i = 0; i < 3; i++) {
        sample_fill_id(ev[i].visit_id, visit_seed);
        sample_fill_id(ev[i].worker_id, 0x20);
    }
    visit_seed++;
    started = now_s();
    cf_terminal_upload(&harness, &terminal, ev, 3); /* asserts 200 and the acknowledgement */
    double upload_s = now_s() - started;
    if (upload_s > 1.0)
        fail_msg("%s: the device upload took %.3f s", when, upload_s);
}

static long metric(const char *key)
{
    struct cf_http_reply reply;
    assert_int_equal(cf_http(&harness, "GET", "/metrics", NULL, 0, &reply), 0);
    const char *line = strstr(reply.body, key);
    long n = line ? strtol(line + strlen(key), NULL, 10) : -1;
    cf_http_reply_cleanup(&reply);
    return n;
}

#define REFUSED_CAP "carefact_connections_refused_total{reason=\"address-cap\"} "
#define REFUSED_IDLE "carefact_connections_refused_total{reason=\"no-request\"} "
#define REFUSED_SLOW "carefact_connections_refused_total{reason=\"slow-body\"} "

static bool is_problem(const char *answer, const char *status_line, const char *type)
{
    return strncmp(answer, status_line, strlen(status_line)) == 0 &&
           strstr(answer, "Content-Type: application/problem+json") && strstr(answer, type);
}

/* Of the OFFENDERS connections, the ones over the cap were answered 429 and closed at
 * once; the rest are returned in held[] (count in *held_count). */
static void split_refused(const int fds[OFFENDERS], int held[OFFENDERS], int *held_count)
{
    char answers[OFFENDERS][1024];
    bool closed[OFFENDERS] = {false};
    memset(answers, 0, sizeof answers);
    double until = now_s() + 0.5;
    while (now_s() < until)
        for (int i = 0; i < OFFENDERS; i++)
            if (!closed[i])
                closed[i] = read_until_closed(fds[i], 0.01, answers[i], sizeof answers[i]);
    int refused = 0;
    *held_count = 0;
    for (int i = 0; i < OFFENDERS; i++) {
        if (closed[i] && is_problem(answers[i], "HTTP/1.1 429 ", "too-many-connections")) {
            refused++;
            close(fds[i]);
        } else if (answers[i][0] == '\0' && !closed[i]) {
            held[(*held_count)++] = fds[i];
        } else {
            fail_msg("connection %d: neither held nor refused (closed %d): %s", i, closed[i],
                     answers[i]);
        }
    }
    if (refused != OFFENDERS - PER_ADDRESS || *held_count != PER_ADDRESS)
        fail_msg("want %d refused and %d held, got %d and %d", OFFENDERS - PER_ADDRESS, PER_ADDRESS,
                 refused, *held_count);
}

/* ==== Idle sockets ==== */

/* Twenty connections that never send a byte: 8 are held until the header deadline,
 * 12 are answered 429 at once; the service answers throughout. */
static void test_idle_sockets(void **state)
{
    (void)state;
    long cap_before = metric(REFUSED_CAP), idle_before = metric(REFUSED_IDLE);
    int fds[OFFENDERS], held[OFFENDERS], held_count = 0;
    double opened = now_s();
    for (int i = 0; i < OFFENDERS; i++)
        fds[i] = connect_from("127.0.0.2");
    split_refused(fds, held, &held_count);
    expect_service("20 idle sockets open");
    for (int i = 0; i < held_count; i++) {
        char answer[256] = "";
        double left = opened + (HEADER_MS + 2000) / 1000.0 - now_s();
        if (!read_until_closed(held[i], left > 0 ? left : 0.1, answer, sizeof answer))
            fail_msg("an idle connection was still open %.1f s after it opened", now_s() - opened);
        assert_string_equal(answer, ""); /* closed without an answer: no request came */
        close(held[i]);
    }
    assert_true(metric(REFUSED_CAP) - cap_before >= OFFENDERS - PER_ADDRESS);
    assert_true(metric(REFUSED_IDLE) - idle_before >= PER_ADDRESS);
    expect_service("after the idle sockets");
}

/* ==== Slow bodies ==== */

/* Twenty logins whose 1000-byte body comes one byte every 300 ms: 12 refused 429 at
 * once, 8 answered 408 too-slow once the body's deadline passed, and closed. */
static void test_slow_bodies(void **state)
{
    (void)state;
    long slow_before = metric(REFUSED_SLOW);
    static const char head[] = "POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: "
                               "application/json\r\nContent-Length: 1000\r\n\r\n{";
    int fds[OFFENDERS], held[OFFENDERS], held_count = 0;
    double opened = now_s();
    for (int i = 0; i < OFFENDERS; i++) {
        fds[i] = connect_from("127.0.0.3");
        assert_int_equal(write(fds[i], head, strlen(head)), (ssize_t)strlen(head));
    }
    split_refused(fds, held, &held_count);
    expect_service("20 slow bodies arriving");
    char answers[OFFENDERS][4096];
    bool closed[OFFENDERS] = {false};
    memset(answers, 0, sizeof answers);
    int open_count = held_count;
    while (open_count > 0 && now_s() - opened < (BODY_MS + HEADER_MS + 3000) / 1000.0) {
        for (int i = 0; i < held_count; i++) {
            if (closed[i])
                continue;
            if (read_until_closed(held[i], 0.3 / held_count, answers[i], sizeof answers[i])) {
                closed[i] = true;
                open_count--;
            } else {
                (void)send(held[i], "\"", 1, MSG_NOSIGNAL); /* one more byte */
            }
        }
    }
    double took = now_s() - opened;
    for (int i = 0; i < held_count; i++) {
        if (!closed[i] || !is_problem(answers[i], "HTTP/1.1 408 ", "too-slow") ||
            !strstr(answers[i], "Connection: close"))
            fail_msg("slow body %d after %.1f s (closed %d): want 408 too-slow, got: %s", i, took,
                     closed[i], answers[i]);
        close(held[i]);
    }
    /* the deadline, not the client, ended them: 3 s + at most one read's wait */
    if (took > (BODY_MS + HEADER_MS + 1000) / 1000.0)
        fail_msg("the slow bodies were closed only after %.1f s", took);
    assert_true(metric(REFUSED_SLOW) - slow_before >= PER_ADDRESS);
    expect_service("after the slow bodies");
}

/* Send a device route an unsigned upload announcing length bytes, then a byte every
 * 300 ms: the answer (401 from the head) and how long until the server closed. */
static double refused_upload(long length, char *answer, size_t size)
{
    char head[512];
    snprintf(head, sizeof head,
             "POST /api/v1/devices/%s/events HTTP/1.1\r\nHost: x\r\nContent-Type: "
             "application/json\r\nContent-Length: %ld\r\n\r\n{",
             terminal.id_text, length);
    int fd = connect_from("127.0.0.3");
    assert_int_equal(write(fd, head, strlen(head)), (ssize_t)strlen(head));
    double opened = now_s();
    bool closed = false;
    answer[0] = '\0';
    while (!closed && now_s() - opened < 15) {
        closed = read_until_closed(fd, 0.3, answer, size);
        if (!closed)
            (void)send(fd, " ", 1, MSG_NOSIGNAL);
    }
    close(fd);
    if (!is_problem(answer, "HTTP/1.1 401 ", "device-unauthenticated") || !closed)
        fail_msg("want 401 then the connection closed; closed %d: %s", closed, answer);
    return now_s() - opened;
}

/* A device route refuses an unsigned upload from its head (401); the body that keeps
 * trickling after the answer does not keep the worker. A small one is read (so the
 * connection could serve another request) until the body's deadline, a large one is
 * not read at all: the connection closes at once. */
static void test_refused_body_not_drained_forever(void **state)
{
    (void)state;
    char answer[4096];
    double took = refused_upload(1000, answer, sizeof answer);
    if (took < BODY_MS / 1000.0 || took > (BODY_MS + HEADER_MS + 1000) / 1000.0)
        fail_msg("a trickling 1000-byte body was cut after %.1f s, not at its deadline", took);
    took = refused_upload(100000, answer, sizeof answer);
    if (took > 1.0)
        fail_msg("a trickling 100000-byte body kept the connection %.1f s", took);
}

/* ==== Live streams ==== */

/* Open GET /api/v1/stream from source with session s; returns the socket once the head
 * of the answer came, its status in *status (the socket is closed unless 200). */
static int open_stream(const char *source, const struct cf_session *s, long *status)
{
    int fd = connect_from(source);
    char request[512], answer[4096] = "";
    snprintf(request, sizeof request,
             "GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n\r\n", s->cookie);
    assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
    double deadline = now_s() + 3;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    size_t len = 0;
    while (now_s() < deadline && !strstr(answer, "\r\n\r\n") && poll(&pfd, 1, 500) >= 0) {
        if (!(pfd.revents & POLLIN))
            continue;
        ssize_t n = read(fd, answer + len, sizeof answer - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        answer[len] = '\0';
    }
    *status = strncmp(answer, "HTTP/1.1 ", 9) == 0 ? strtol(answer + 9, NULL, 10) : -1;
    if (*status != 200) {
        if (*status == 429 && !strstr(answer, "too-many-streams"))
            fail_msg("a 429 that is not too-many-streams: %s", answer);
        close(fd);
        return -1;
    }
    return fd;
}

/* One person opens 4 streams (2 allowed), then three more people open 2 each from the
 * same address (6 allowed per address with 16 threads: its 8 connections less two for
 * its requests): the rest are 429 too-many-streams, and the service answers with every
 * allowed stream open; another address still streams. */
#define PEOPLE 4
#define ADDRESS_STREAMS 6
static void test_streams(void **state)
{
    (void)state;
    struct cf_session people[PEOPLE];
    for (int i = 0; i < PEOPLE; i++) {
        char login[32];
        snprintf(login, sizeof login, "streamer-%d", i);
        assert_int_equal(
            cf_harness_account(&harness, login, "authority", NULL, NULL, "streamer-password-1"), 0);
        assert_int_equal(cf_harness_login(&harness, login, "streamer-password-1", &people[i]), 0);
    }
    int fds[16], open_count = 0;
    long status;
    for (int i = 0; i < 4; i++) {
        int fd = open_stream("127.0.0.4", &people[0], &status);
        assert_int_equal(status, i < 2 ? 200 : 429); /* per person */
        if (fd >= 0)
            fds[open_count++] = fd;
    }
    for (int p = 1; p < PEOPLE; p++)
        for (int i = 0; i < 2; i++) {
            int fd = open_stream("127.0.0.4", &people[p], &status);
            assert_int_equal(status, open_count < ADDRESS_STREAMS ? 200 : 429); /* per address */
            if (fd >= 0)
                fds[open_count++] = fd;
        }
    assert_int_equal(open_count, ADDRESS_STREAMS);
    int other = open_stream("127.0.0.5", &people[PEOPLE - 1], &status);
    assert_int_equal(status, 200);
    expect_service("streams held");
    close(other);
    for (int i = 0; i < open_count; i++)
        close(fds[i]);
}

/* ==== Behind a trusted proxy ==== */

#define PROXY "127.0.0.3"

/* One failed login sent from source with an X-Forwarded-For header; the answer's status. */
static long login_via(const char *source, const char *forwarded)
{
    static const char body[] = "{\"login\":\"proxied\",\"password\":\"wrong\"}";
    char request[512], answer[2048] = "";
    int n =
        snprintf(request, sizeof request,
                 "POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "X-Forwarded-For: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                 forwarded, sizeof body - 1, body);
    int fd = connect_from(source);
    assert_int_equal(write(fd, request, (size_t)n), n);
    read_until_closed(fd, 5, answer, sizeof answer);
    close(fd);
    return strncmp(answer, "HTTP/1.1 ", 9) == 0 ? strtol(answer + 9, NULL, 10) : -1;
}

/* The failures the login throttle holds for the pair (proxied, address). */
static long failures_of(const char *address)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(sum(failures), 0) FROM login_throttle WHERE key = "
             "login_throttle_key('pair', 'proxied', '%s')",
             address);
    return cf_harness_sql_long(&harness, sql);
}

/* carefactd behind a proxy it trusts (trusted-proxies): a request from the proxy is the
 * client's whose address ends X-Forwarded-For, so the login throttle counts the client,
 * not the proxy; anyone else's X-Forwarded-For is ignored; and the proxy's connections
 * are not capped per address (it caps its clients itself). */
static void test_trusted_proxy(void **state)
{
    (void)state;
    const char *args[16];
    size_t n = 0;
    while (serve_args[n])
        args[n] = serve_args[n], n++;
    args[n++] = "--trusted-proxies";
    args[n++] = PROXY;
    args[n] = NULL;
    cf_harness_stop_server(&harness);
    assert_int_equal(cf_harness_start_server(&harness, args), 0);

    assert_int_equal(login_via(PROXY, "198.51.100.9, 203.0.113.7"), 401);
    assert_int_equal(failures_of("203.0.113.7"), 1); /* the address the proxy added */
    assert_int_equal(failures_of("198.51.100.9"), 0); /* what the client claimed: not believed */
    assert_int_equal(failures_of(PROXY), 0);
    assert_int_equal(login_via("127.0.0.4", "203.0.113.8"), 401); /* not a trusted proxy */
    assert_int_equal(failures_of("127.0.0.4"), 1);
    assert_int_equal(failures_of("203.0.113.8"), 0);
    assert_int_equal(login_via(PROXY, "not-an-address"), 401); /* garbage: the peer's */
    assert_int_equal(failures_of(PROXY), 1);

    /* More connections than one address may hold, from the proxy: none refused. */
    int fds[OFFENDERS];
    for (int i = 0; i < OFFENDERS; i++)
        fds[i] = connect_from(PROXY);
    for (int i = 0; i < OFFENDERS; i++) {
        char answer[256] = "";
        if (read_until_closed(fds[i], 0.05, answer, sizeof answer))
            fail_msg("the trusted proxy's connection %d was refused: %s", i, answer);
    }
    for (int i = 0; i < OFFENDERS; i++)
        close(fds[i]);
    expect_service("behind the trusted proxy");
}

/* ==== Taking turns ==== */

/* One request over a new connection from source; true when the server closed the
 * connection right after the answer, false when it kept it open (keep-alive: civetweb
 * closes an idle one only after its keep_alive_timeout_ms, 500 ms). The answer may wait
 * for a thread first. */
static bool answer_closes(const char *source)
{
    int fd = connect_from(source);
    static const char request[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    assert_int_equal(write(fd, request, sizeof request - 1), (ssize_t)(sizeof request - 1));
    char answer[2048] = "";
    size_t len = 0;
    bool closed = false;
    double deadline = now_s() + 3.0, answered = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    while (!closed && now_s() < deadline && (answered == 0 || now_s() < answered + 0.2)) {
        if (poll(&pfd, 1, 10) != 1)
            continue;
        ssize_t n = read(fd, answer + len, sizeof answer - 1 - len);
        if (n <= 0) {
            closed = true;
        } else {
            len += (size_t)n;
            answer[len] = '\0';
            if (answered == 0)
                answered = now_s();
        }
    }
    close(fd);
    if (strncmp(answer, "HTTP/1.1 200 ", 13) != 0)
        fail_msg("/healthz from %s answered: %s", source, answer);
    return closed;
}

/* Wait until the server's worker threads hold want connections (the one asking counted). */
static void wait_held(long want)
{
    double deadline = now_s() + 1.5;
    long held = -1;
    while ((held = metric("\ncarefact_connections_held ")) != want && now_s() < deadline)
        nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
    if (held != want)
        fail_msg("worker threads hold %ld connections, want %ld", held, want);
}

/* While a thread is free, an answer keeps its connection open (keep-alive). Once every
 * thread holds a connection (here: 15 idle sockets from two addresses, within their caps,
 * and the request's own), the answer closes its connection, so the client's next request
 * queues behind the others instead of being served first (http.c, held connections). */
static void test_turns_when_every_thread_is_held(void **state)
{
    (void)state;
    assert_false(answer_closes("127.0.0.5"));
    int idle[15];
    for (int i = 0; i < 15; i++)
        idle[i] = connect_from(i < PER_ADDRESS ? "127.0.0.2" : "127.0.0.3");
    wait_held(16); /* the idle ones and the harness's asking */
    assert_true(answer_closes("127.0.0.5"));
    for (int i = 0; i < 15; i++)
        close(idle[i]);
    wait_held(1);
    assert_false(answer_closes("127.0.0.5"));
    expect_service("after taking turns");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_sockets),
        cmocka_unit_test(test_slow_bodies),
        cmocka_unit_test(test_refused_body_not_drained_forever),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_trusted_proxy),
        cmocka_unit_test(test_turns_when_every_thread_is_held),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
