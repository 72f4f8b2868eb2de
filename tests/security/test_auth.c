/* Security tests of people's accounts against the real carefactd (serving as the
 * non-owner role carefact_app) and a private PostgreSQL with the demo data: login
 * cookie and logout, CSRF refusal, login lock after repeated failures, session expiry,
 * disabled accounts, row-level security and the append-only audit log in the
 * database itself, and the role x route matrix over every route `carefactd routes`
 * prints (no session, an expired one and each role; no body ever carries another
 * provider's data). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "cf/batch.h"
#include "harness.h"
#include "terminal.h"

#define PASSWORD "correct-horse-battery"
#define DEMO_KEY "000102030405060708090a0b0c0d0e0f"
#define P1 "md5('demo:provider:1')::uuid"
#define P2 "md5('demo:provider:2')::uuid"

static struct cf_harness harness;
static char provider1[40], provider2[40], worker1[40];

static void sql_text(const char *sql, char *out, size_t size)
{
    char *v = cf_harness_sql_value(&harness, sql);
    assert_non_null(v);
    snprintf(out, size, "%s", v);
    free(v);
}

static int group_setup(void **state)
{
    (void)state;
    const char *demo[] = {"demo-data", "--token-key-hex", DEMO_KEY, NULL};
    if (cf_harness_start(&harness, NULL) || cf_harness_carefactd(&harness, demo, NULL, 0))
        return -1;
    sql_text("SELECT " P1, provider1, sizeof provider1);
    sql_text("SELECT " P2, provider2, sizeof provider2);
    sql_text("SELECT md5('demo:worker:1')::uuid", worker1, sizeof worker1);
    if (cf_harness_account(&harness, "admin1", "admin", NULL, NULL, PASSWORD) ||
        cf_harness_account(&harness, "auth1", "authority", NULL, NULL, PASSWORD) ||
        cf_harness_account(&harness, "mgr1", "manager", provider1, NULL, PASSWORD) ||
        cf_harness_account(&harness, "wrk1", "worker", provider1, worker1, PASSWORD))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cf_harness_stop(&harness);
    return 0;
}

/* One request with an optional session (csrf: send its X-CSRF-Token). */
static long call(const struct cf_session *s, bool csrf, const char *method, const char *path,
                 const char *body, struct cf_http_reply *reply)
{
    char cookie[200], token[120];
    const char *headers[3] = {NULL, NULL, NULL};
    size_t n = 0;
    if (s) {
        snprintf(cookie, sizeof cookie, "Cookie: %s", s->cookie);
        headers[n++] = cookie;
        if (csrf) {
            snprintf(token, sizeof token, "X-CSRF-Token: %s", s->csrf);
            headers[n++] = token;
        }
    }
    harness.session = NULL;
    assert_int_equal(
        cf_http_with(&harness, method, path, body, body ? strlen(body) : 0, headers, reply), 0);
    return reply->status;
}

static long status_of(const struct cf_session *s, bool csrf, const char *method, const char *path,
                      const char *body, const char *want_type)
{
    struct cf_http_reply reply;
    long status = call(s, csrf, method, path, body, &reply);
    if (want_type && !strstr(reply.body, want_type))
        fail_msg("%s %s: want problem %s, got %ld %s", method, path, want_type, status, reply.body);
    cf_http_reply_cleanup(&reply);
    return status;
}

static void forget_failures(void);

static void login(const char *who, struct cf_session *s)
{
    assert_int_equal(cf_harness_login(&harness, who, PASSWORD, s), 0);
}

/* ==== Sessions ==== */

static void test_login_cookie_and_logout(void **state)
{
    (void)state;
    struct cf_http_reply reply;
    const char body[] = "{\"login\":\"mgr1\",\"password\":\"" PASSWORD "\"}";
    assert_int_equal(call(NULL, false, "POST", "/api/v1/session", body, &reply), 201);
    /* The browser must not hand the token to scripts or other sites. */
    assert_non_null(strstr(reply.set_cookie, "cf_session="));
    assert_non_null(strstr(reply.set_cookie, "HttpOnly"));
    assert_non_null(strstr(reply.set_cookie, "SameSite=Strict"));
    assert_null(strstr(reply.set_cookie, "Secure")); /* plain HTTP on loopback */
    assert_non_null(strstr(reply.body, "\"role\":\"manager\""));
    cf_http_reply_cleanup(&reply);
    /* Only the token's hash is stored. */
    struct cf_session s;
    login("mgr1", &s);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM sessions WHERE encode(token_hash, 'hex') = '%s'",
             strchr(s.cookie, '=') + 1);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 0);
    assert_int_equal(status_of(&s, false, "GET", "/api/v1/session", NULL, NULL), 200);
    assert_int_equal(status_of(&s, false, "DELETE", "/api/v1/session", NULL, "/csrf"), 403);
    assert_int_equal(status_of(&s, true, "DELETE", "/api/v1/session", NULL, NULL), 204);
    assert_int_equal(status_of(&s, false, "GET", "/api/v1/visits", NULL, "/unauthenticated"), 401);
}

static void test_csrf_wrong_token(void **state)
{
    (void)state;
    struct cf_session s;
    login("auth1", &s);
    struct cf_session forged = s;
    forged.csrf[0] = forged.csrf[0] == 'a' ? 'b' : 'a';
    assert_int_equal(status_of(&forged, true, "DELETE", "/api/v1/session", NULL, "/csrf"), 403);
    /* The session is still there: the forged request changed nothing. */
    assert_int_equal(status_of(&s, false, "GET", "/api/v1/session", NULL, NULL), 200);
}

static void test_login_lock(void **state)
{
    (void)state;
    forget_failures();
    assert_int_equal(cf_harness_account(&harness, "lockme", "authority", NULL, NULL, PASSWORD), 0);
    const char wrong[] = "{\"login\":\"lockme\",\"password\":\"not-the-password\"}";
    const char right[] = "{\"login\":\"lockme\",\"password\":\"" PASSWORD "\"}";
    for (int i = 0; i < 3; i++)
        assert_int_equal(status_of(NULL, false, "POST", "/api/v1/session", wrong, "/login-failed"),
                         401);
    /* Locked now: even the right password is not looked at. */
    assert_int_equal(status_of(NULL, false, "POST", "/api/v1/session", right, "/login-locked"),
                     429);
    /* An unknown login is answered like a wrong password. */
    assert_int_equal(status_of(NULL, false, "POST", "/api/v1/session",
                               "{\"login\":\"nobody\",\"password\":\"x\"}", "/login-failed"),
                     401);
    /* Each further failure doubles the lock. */
    cf_harness_sql(&harness, "UPDATE login_throttle SET locked_until = NULL");
    assert_int_equal(status_of(NULL, false, "POST", "/api/v1/session", wrong, "/login-failed"),
                     401);
    assert_true(cf_harness_sql_long(&harness,
                                    "SELECT max(extract(epoch FROM locked_until - now())) "
                                    "FROM login_throttle") >= 1);
    cf_harness_sql(&harness, "UPDATE login_throttle SET locked_until = NULL");
    assert_int_equal(status_of(NULL, false, "POST", "/api/v1/session", right, NULL), 201);
    /* The login's failures are forgotten; the address keeps its own count. */
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT sum(failures) FROM login_throttle WHERE key IN "
                                         "(login_throttle_key('account', 'lockme', ''), "
                                         "login_throttle_key('pair', 'lockme', '127.0.0.1'))"),
                     0);
    forget_failures();
}

static void test_expired_session(void **state)
{
    (void)state;
    struct cf_session s;
    login("mgr1", &s);
    assert_int_equal(status_of(&s, false, "GET", "/api/v1/visits", NULL, NULL), 200);
    cf_harness_sql(&harness, "UPDATE sessions SET expires_at = now() - interval '1 second'");
    assert_int_equal(status_of(&s, false, "GET", "/api/v1/visits", NULL, "/unauthenticated"), 401);
}

static void test_disabled_user_and_audit(void **state)
{
    (void)state;
    struct cf_session s, authority;
    assert_int_equal(cf_harness_account(&harness, "leaver", "manager", provider2, NULL, PASSWORD),
                     0);
    login("leaver", &s);
    const char *args[] = {"user", "disable", "leaver", NULL};
    assert_int_equal(cf_harness_carefactd(&harness, args, NULL, 0), 0);
    assert_int_equal(status_of(&s, false, "GET", "/api/v1/visits", NULL, "/unauthenticated"), 401);
    assert_int_equal(status_of(NULL, false, "POST", "/api/v1/session",
                               "{\"login\":\"leaver\",\"password\":\"" PASSWORD "\"}",
                               "/login-failed"),
                     401);
    /* The authority reads who did it; a manager may not read the audit log. */
    login("auth1", &authority);
    struct cf_http_reply reply;
    assert_int_equal(call(&authority, false, "GET", "/api/v1/audit?limit=5", NULL, &reply), 200);
    assert_non_null(strstr(reply.body, "\"action\":\"user.disable\""));
    assert_non_null(strstr(reply.body, "\"subject\":\"user:leaver\""));
    cf_http_reply_cleanup(&reply);
    struct cf_session m;
    login("mgr1", &m);
    assert_int_equal(status_of(&m, false, "GET", "/api/v1/audit", NULL, "/forbidden"), 403);
}

/* ==== Login under attack (issue 13) ==== */

/* A login POST sent from the loopback address `from` (the whole of 127.0.0.0/8 is this
 * host, so 127.0.0.2 reaches the server on 127.0.0.1 as another client), with the given
 * Content-Type and extra headers (NULL-terminated, may be NULL). Returns the status;
 * *seconds (may be NULL) is how long the answer took. */
static long raw_login(const char *from, const char *content_type, const char *const *extra,
                      const char *body, double *seconds)
{
    char url[128], ct[128];
    snprintf(url, sizeof url, "%s/api/v1/session", harness.base_url);
    snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
    struct curl_slist *headers = curl_slist_append(NULL, ct);
    for (size_t i = 0; extra && extra[i]; i++)
        headers = curl_slist_append(headers, extra[i]);
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_INTERFACE, from);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    FILE *sink = fopen("/dev/null", "w");
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long status = -1;
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (seconds)
        *seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fclose(sink);
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    return status;
}

static long login_from(const char *from, const char *login_name, const char *password)
{
    char body[200];
    snprintf(body, sizeof body, "{\"login\":\"%s\",\"password\":\"%s\"}", login_name, password);
    return raw_login(from, "application/json", NULL, body, NULL);
}

/* Every failure forgotten: each test starts with a clean slate. */
static void forget_failures(void)
{
    assert_int_equal(cf_harness_sql(&harness, "DELETE FROM login_throttle"), 0);
}

struct parallel_login {
    pthread_t thread;
    long status;
};

static void *parallel_login_run(void *arg)
{
    struct parallel_login *p = arg;
    p->status = login_from("127.0.0.1", "racer", "not-the-password");
    return NULL;
}

/* 30 wrong passwords at once test at most 3: the attempt is taken before the work. */
static void test_parallel_wrong_logins(void **state)
{
    (void)state;
    forget_failures();
    assert_int_equal(cf_harness_account(&harness, "racer", "authority", NULL, NULL, PASSWORD), 0);
    enum { N = 30 };
    struct parallel_login p[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&p[i].thread, NULL, parallel_login_run, &p[i]), 0);
    int failed = 0, locked = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(p[i].thread, NULL);
        failed += p[i].status == 401;
        locked += p[i].status == 429;
    }
    print_message("30 parallel wrong logins: %d answered 401 (password tested), %d 429\n", failed,
                  locked);
    assert_int_equal(failed + locked, N);
    assert_true(failed <= 3);
    forget_failures();
}

static double median(double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A known login and an unknown one answer the same statuses in the same order, and
 * take the same time. */
static void test_unknown_login_same_as_known(void **state)
{
    (void)state;
    forget_failures();
    assert_int_equal(cf_harness_account(&harness, "known1", "authority", NULL, NULL, PASSWORD), 0);
    long known[6], unknown[6];
    for (int i = 0; i < 6; i++) {
        known[i] = login_from("127.0.0.3", "known1", "wrong-password");
        unknown[i] = login_from("127.0.0.3", "unknown1", "wrong-password");
    }
    for (int i = 0; i < 6; i++) {
        if (known[i] != unknown[i])
            fail_msg("attempt %d: known login %ld, unknown login %ld", i + 1, known[i], unknown[i]);
    }
    assert_int_equal(known[0], 401);
    assert_int_equal(known[5], 429);
    /* Time: the same scrypt work either way (the slate cleared before each try). */
    enum { TRIES = 20 };
    double tk[TRIES], tu[TRIES];
    for (int i = 0; i < TRIES; i++) {
        forget_failures();
        assert_int_equal(raw_login("127.0.0.3", "application/json", NULL,
                                   "{\"login\":\"known1\",\"password\":\"wrong\"}", &tk[i]),
                         401);
        assert_int_equal(raw_login("127.0.0.3", "application/json", NULL,
                                   "{\"login\":\"unknown1\",\"password\":\"wrong\"}", &tu[i]),
                         401);
    }
    double mk = median(tk, TRIES), mu = median(tu, TRIES);
    print_message("median login time: known-wrong %.1f ms, unknown %.1f ms\n", mk * 1e3, mu * 1e3);
    assert_true(mu > mk * 0.6 && mu < mk * 1.6);
    forget_failures();
}

/* A stranger's failures from one address do not lock the account's owner out at another. */
static void test_stranger_cannot_lock_out(void **state)
{
    (void)state;
    forget_failures();
    assert_int_equal(cf_harness_account(&harness, "victim", "authority", NULL, NULL, PASSWORD), 0);
    for (int i = 0; i < 13; i++) {
        long st = login_from("127.0.0.2", "victim", "guess");
        assert_true(st == 401 || st == 429);
    }
    /* The stranger's address is held back, even with the right password ... */
    assert_int_equal(login_from("127.0.0.2", "victim", PASSWORD), 429);
    /* ... the owner's is not. */
    assert_int_equal(login_from("127.0.0.1", "victim", PASSWORD), 201);
    forget_failures();
}

/* A cross-site form cannot sign a victim in: JSON only, and no other site's Origin. */
static void test_login_content_type_and_origin(void **state)
{
    (void)state;
    forget_failures();
    const char body[] = "{\"login\":\"mgr1\",\"password\":\"" PASSWORD "\"}";
    assert_int_equal(raw_login("127.0.0.1", "text/plain", NULL, body, NULL), 415);
    assert_int_equal(raw_login("127.0.0.1", "application/x-www-form-urlencoded", NULL, body, NULL),
                     415);
    const char *evil[] = {"Origin: https://evil.example", NULL};
    assert_int_equal(raw_login("127.0.0.1", "application/json", evil, body, NULL), 403);
    const char *cross[] = {"Sec-Fetch-Site: cross-site", NULL};
    assert_int_equal(raw_login("127.0.0.1", "application/json", cross, body, NULL), 403);
    char own[128];
    snprintf(own, sizeof own, "Origin: %s", harness.base_url);
    const char *same[] = {own, "Sec-Fetch-Site: same-origin", NULL};
    assert_int_equal(raw_login("127.0.0.1", "application/json; charset=utf-8", same, body, NULL),
                     201);
    assert_int_equal(raw_login("127.0.0.1", "application/json", NULL, body, NULL), 201);
}

/* ==== In the database itself ==== */

static long app_count(PGconn *db, const char *scope, const char *sql)
{
    const char *params[1] = {scope};
    PQclear(PQexecParams(db, "SELECT set_config('carefact.provider', $1, false)", 1, NULL, params,
                         NULL, NULL, 0));
    PGresult *res = PQexec(db, sql);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

static void test_database_enforces_scope_and_audit(void **state)
{
    (void)state;
    PGconn *db = PQconnectdb(harness.app_conninfo);
    assert_int_equal(PQstatus(db), CONNECTION_OK);
    /* A manager's scope: the other provider's rows do not exist, even unfiltered. */
    const char other[] = "SELECT count(*) FROM recipients WHERE provider_id = " P2;
    const char plans[] = "SELECT count(*) FROM visit_plans WHERE provider_id = " P2;
    assert_int_equal(app_count(db, provider1, other), 0);
    assert_int_equal(app_count(db, provider1, plans), 0);
    assert_true(app_count(db, provider1, "SELECT count(*) FROM recipients") > 0);
    /* No scope set: nothing at all. */
    assert_int_equal(app_count(db, "", "SELECT count(*) FROM recipients"), 0);
    assert_true(app_count(db, "*", other) > 0);
    /* The server's role cannot rewrite history. */
    PGresult *res = PQexec(db, "UPDATE audit_log SET reason = 'x'");
    assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
    assert_non_null(strstr(PQresultErrorMessage(res), "permission denied"));
    PQclear(res);
    res = PQexec(db, "DELETE FROM audit_log");
    assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
    PQclear(res);
    res = PQexec(db, "INSERT INTO audit_log (actor, action, subject) VALUES ('t', 't', 't')");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(db);
}

/* ==== Devices ==== */

/* A terminal enrolled for worker1 whose requests this test signs by hand (claiming
 * other ids, at other times), so cf_http must not sign them itself. */
static void enrol_device(struct cf_terminal *t)
{
    cf_terminal_enrol(&harness, worker1, t);
    cf_harness_device_forget(&harness, t->id_text);
}

static char *last_signed_body; /* the body of signed_call's last answer */

/* A request signed by key as claimed_id (the headers), sent to path. */
static long signed_call(const uint8_t key[32], const char *claimed_id, const char *method,
                        const char *path, const char *body, const char *sent_body,
                        long long skew_ms, const char *want_type)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000 + skew_ms;
    char sig[CF_REQUEST_SIG_TEXT_LEN + 1], h1[160], h2[160], h3[160];
    assert_int_equal(
        cf_request_sign(key, claimed_id, method, path, body, body ? strlen(body) : 0, ms, sig), 0);
    snprintf(h1, sizeof h1, CF_REQUEST_HDR_DEVICE ": %s", claimed_id);
    snprintf(h2, sizeof h2, CF_REQUEST_HDR_TIME ": %lld", ms);
    snprintf(h3, sizeof h3, CF_REQUEST_HDR_SIGNATURE ": %s", sig);
    const char *headers[] = {h1, h2, h3, NULL};
    struct cf_http_reply reply;
    harness.session = NULL;
    assert_int_equal(cf_http_with(&harness, method, path, sent_body,
                                  sent_body ? strlen(sent_body) : 0, headers, &reply),
                     0);
    long status = reply.status;
    if (want_type && !strstr(reply.body, want_type))
        fail_msg("%s %s: want %s, got %ld %s", method, path, want_type, status, reply.body);
    free(last_signed_body);
    last_signed_body = reply.body; /* kept for the caller's checks */
    reply.body = NULL;
    cf_http_reply_cleanup(&reply);
    return status;
}

static void test_device_signatures(void **state)
{
    (void)state;
    struct cf_terminal a, b;
    enrol_device(&a);
    enrol_device(&b);
    char path_a[128], path_b[128];
    snprintf(path_a, sizeof path_a, "/api/v1/devices/%s/reference", a.id_text);
    snprintf(path_b, sizeof path_b, "/api/v1/devices/%s/reference", b.id_text);
    /* Signed by its own key: served, and only its provider's records. */
    assert_int_equal(signed_call(a.private_key, a.id_text, "GET", path_a, NULL, NULL, 0, NULL),
                     200);
    char mine[40], foreign[40];
    sql_text("SELECT id FROM recipients WHERE provider_id = " P1 " LIMIT 1", mine, sizeof mine);
    sql_text("SELECT id FROM recipients WHERE provider_id = " P2 " LIMIT 1", foreign,
             sizeof foreign);
    assert_non_null(strstr(last_signed_body, mine));
    assert_null(strstr(last_signed_body, foreign));
    /* Unsigned. */
    assert_int_equal(status_of(NULL, false, "GET", path_a, NULL, "/device-unauthenticated"), 401);
    /* Device a using device b's id: its key is not b's. */
    assert_int_equal(signed_call(a.private_key, b.id_text, "GET", path_b, NULL, NULL, 0,
                                 "/device-unauthenticated"),
                     401);
    /* Device a, honestly itself, on b's path. */
    assert_int_equal(
        signed_call(a.private_key, a.id_text, "GET", path_b, NULL, NULL, 0, "/device-mismatch"),
        403);
    /* The body is not the one signed. */
    char fetch[160];
    snprintf(fetch, sizeof fetch, "/api/v1/devices/%s/reference/fetch", a.id_text);
    assert_int_equal(signed_call(a.private_key, a.id_text, "POST", fetch, "{\"items\":[]}",
                                 "{\"items\":[{\"kind\":\"service\",\"id\":\"HH-SHOP\"}]}", 0,
                                 "/device-unauthenticated"),
                     401);
    /* A signature from a day ago. */
    assert_int_equal(signed_call(a.private_key, a.id_text, "GET", path_a, NULL, NULL,
                                 -24LL * 3600 * 1000, "/device-unauthenticated"),
                     401);
    /* Revoked: refused at its very next request. */
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE devices SET status = 'revoked' WHERE id = '%s'", a.id_text);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    assert_int_equal(
        signed_call(a.private_key, a.id_text, "GET", path_a, NULL, NULL, 0, "/revoked-device"),
        403);
    assert_int_equal(signed_call(b.private_key, b.id_text, "GET", path_b, NULL, NULL, 0, NULL),
                     200);
}

/* ==== Role x route matrix ==== */

enum who { NOBODY, EXPIRED, ADMIN, AUTHORITY, MANAGER, WORKER, WHO_COUNT };
static const char *const who_names[WHO_COUNT] = {"nobody",    "expired", "admin",
                                                 "authority", "manager", "worker"};
#define A(x) (1u << (x))
#define PEOPLE (A(ADMIN) | A(AUTHORITY) | A(MANAGER) | A(WORKER))

/* Who may use each route. Every route `carefactd routes` prints must be here. */
static const struct {
    const char *route;
    unsigned allowed;
} expected[] = {
    {"GET /healthz", PEOPLE | A(NOBODY) | A(EXPIRED)},
    {"GET /metrics", PEOPLE | A(NOBODY) | A(EXPIRED)},
    {"POST /api/v1/session", PEOPLE | A(NOBODY) | A(EXPIRED)},
    {"GET /api/v1/session", PEOPLE},
    {"DELETE /api/v1/session", PEOPLE},
    {"GET /api/v1/audit", A(ADMIN) | A(AUTHORITY)},
    {"POST /api/v1/devices", PEOPLE | A(NOBODY) | A(EXPIRED)}, /* the one-time code proves */
    {"GET /api/v1/devices", A(ADMIN) | A(AUTHORITY) | A(MANAGER)},
    {"POST /api/v1/devices/{id}/revoke", A(ADMIN) | A(MANAGER)},
    {"POST /api/v1/workers/{id}/deactivate", A(ADMIN) | A(MANAGER)},
    {"POST /api/v1/devices/{id}/events", 0},
    {"GET /api/v1/devices/{id}/reference", 0},
    {"POST /api/v1/devices/{id}/reference/fetch", 0},
    {"GET /api/v1/visits", PEOPLE},
    {"GET /api/v1/visits/{id}", PEOPLE},
    {"GET /", PEOPLE | A(NOBODY) | A(EXPIRED)}, /* the dashboard page asks for a login */
    {"GET /web/{id}", PEOPLE | A(NOBODY) | A(EXPIRED)},
    {"GET /api/v1/stream", PEOPLE},
    {"GET /api/v1/live", A(ADMIN) | A(AUTHORITY) | A(MANAGER)},
    {"GET /api/v1/exceptions", A(ADMIN) | A(AUTHORITY) | A(MANAGER)},
    {"POST /api/v1/exceptions/{id}/resolve", A(ADMIN) | A(AUTHORITY) | A(MANAGER)},
    /* corrections (issue 6) */
    {"POST /api/v1/visits/{id}/corrections", A(ADMIN) | A(AUTHORITY) | A(MANAGER)},
    {"GET /api/v1/visits/{id}/corrections", PEOPLE},
    {"GET /api/v1/recipients/{id}/statement", A(ADMIN) | A(AUTHORITY) | A(MANAGER)},
    /* figures and the payment register (issue 6) */
    {"GET /api/v1/figures", PEOPLE},
    {"GET /api/v1/registers", A(ADMIN) | A(AUTHORITY) | A(MANAGER)},
    {"GET /api/v1/registers/{id}", A(ADMIN) | A(AUTHORITY) | A(MANAGER)},
    {"GET /api/v1/registers/{id}/export", A(ADMIN) | A(AUTHORITY) | A(MANAGER)},
    {"POST /api/v1/registers/{id}/submit", A(ADMIN) | A(MANAGER)},
    {"POST /api/v1/registers/{id}/approve", A(ADMIN) | A(AUTHORITY)},
    {"POST /api/v1/registers/{id}/return", A(ADMIN) | A(AUTHORITY)},
};

static unsigned allowed_for(const char *route)
{
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        if (strcmp(expected[i].route, route) == 0)
            return expected[i].allowed;
    fail_msg("route '%s' is not in the matrix: add who may use it", route);
    return 0;
}

static void test_role_route_matrix(void **state)
{
    (void)state;
    struct cf_session sessions[WHO_COUNT];
    memset(sessions, 0, sizeof sessions);
    login("mgr1", &sessions[EXPIRED]);
    cf_harness_sql(&harness, "UPDATE sessions SET expires_at = now() - interval '1 second'");
    login("admin1", &sessions[ADMIN]);
    login("auth1", &sessions[AUTHORITY]);
    login("mgr1", &sessions[MANAGER]);
    login("wrk1", &sessions[WORKER]);
    /* {id}: another provider's plan (a manager of provider 1 must not see it). */
    char foreign_plan[40], path[256];
    sql_text("SELECT id FROM visit_plans WHERE provider_id = " P2 " LIMIT 1", foreign_plan,
             sizeof foreign_plan);
    /* Everything of provider 2 that could leak: its id, recipients and workers. */
    char *secrets = cf_harness_sql_value(
        &harness, "SELECT string_agg(id::text, ' ') FROM (SELECT id FROM recipients WHERE "
                  "provider_id = " P2 " UNION ALL SELECT id FROM workers WHERE provider_id = " P2
                  " UNION ALL SELECT id FROM visit_plans WHERE provider_id = " P2 ") x");
    assert_non_null(secrets);

    char bin[512], line[256];
    snprintf(bin, sizeof bin, "%s/backend/carefactd routes", getenv("CF_BINARY_DIR"));
    FILE *routes = popen(bin, "r");
    assert_non_null(routes);
    int checked = 0;
    while (fgets(line, sizeof line, routes)) {
        line[strcspn(line, "\n")] = '\0';
        char method[16], pattern[200];
        if (sscanf(line, "%15s %199s", method, pattern) != 2)
            continue;
        unsigned allowed = allowed_for(line);
        const char *id = foreign_plan;
        char *brace = strstr(pattern, "{id}");
        if (brace)
            snprintf(path, sizeof path, "%.*s%s%s", (int)(brace - pattern), pattern, id, brace + 4);
        else
            snprintf(path, sizeof path, "%s", pattern);
        for (int w = 0; w < WHO_COUNT; w++) {
            if (strcmp(method, "DELETE") == 0 && strcmp(pattern, "/api/v1/session") == 0 &&
                w >= ADMIN)
                continue; /* logging out would end the session the rest of the matrix uses */
            if (strcmp(pattern, "/api/v1/stream") == 0 && (allowed & A(w)))
                continue; /* an open stream lasts 25 s: security.web.static_and_stream reads it */
            struct cf_http_reply reply;
            const struct cf_session *s = w == NOBODY ? NULL : &sessions[w];
            long st = call(s, true, method, path, strcmp(method, "GET") ? "{}" : NULL, &reply);
            bool ok = allowed & A(w);
            if (!ok && st != 401 && st != 403 && st != 404)
                fail_msg("%s as %s: %ld, want 401/403/404: %s", line, who_names[w], st, reply.body);
            if (!ok && (w == NOBODY || w == EXPIRED) && st != 401)
                fail_msg("%s as %s: %ld, want 401", line, who_names[w], st);
            if (ok && (st == 401 || st == 403 || st >= 500))
                fail_msg("%s as %s: %ld, but the role may use it: %s", line, who_names[w], st,
                         reply.body);
            if (w == MANAGER || w == WORKER) {
                char *tok = secrets;
                for (char *end; tok && *tok; tok = end) {
                    end = strchr(tok, ' ');
                    size_t len = end ? (size_t)(end - tok) : strlen(tok);
                    char one[40];
                    snprintf(one, sizeof one, "%.*s", (int)len, tok);
                    if (strstr(reply.body, one))
                        fail_msg("%s as %s: the body holds provider 2's %s", line, who_names[w],
                                 one);
                    end = end ? end + 1 : NULL;
                }
                if (strstr(reply.body, provider2))
                    fail_msg("%s as %s: the body names provider 2", line, who_names[w]);
            }
            cf_http_reply_cleanup(&reply);
            checked++;
        }
    }
    pclose(routes);
    free(secrets);
    assert_true(checked >= 60);
    /* The lists really are scoped, not merely empty. */
    struct cf_http_reply reply;
    assert_int_equal(
        call(&sessions[MANAGER], false, "GET", "/api/v1/visits?limit=500", NULL, &reply), 200);
    assert_non_null(strstr(reply.body, provider1));
    cf_http_reply_cleanup(&reply);
    snprintf(path, sizeof path, "/api/v1/visits?provider=%s", provider2);
    assert_int_equal(status_of(&sessions[MANAGER], false, "GET", path, NULL, "/forbidden"), 403);
    assert_int_equal(
        call(&sessions[AUTHORITY], false, "GET", "/api/v1/visits?limit=500", NULL, &reply), 200);
    assert_non_null(strstr(reply.body, provider2));
    cf_http_reply_cleanup(&reply);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_cookie_and_logout),
        cmocka_unit_test(test_csrf_wrong_token),
        cmocka_unit_test(test_login_lock),
        cmocka_unit_test(test_expired_session),
        cmocka_unit_test(test_disabled_user_and_audit),
        cmocka_unit_test(test_parallel_wrong_logins),
        cmocka_unit_test(test_unknown_login_same_as_known),
        cmocka_unit_test(test_stranger_cannot_lock_out),
        cmocka_unit_test(test_login_content_type_and_origin),
        cmocka_unit_test(test_database_enforces_scope_and_audit),
        cmocka_unit_test(test_device_signatures),
        cmocka_unit_test(test_role_route_matrix),
    };
    int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
    curl_global_cleanup();
    return rc;
}
