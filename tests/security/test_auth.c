/* Security tests of people's accounts against the real carefactd (serving as the
 * non-owner role carefact_app) and a private PostgreSQL with the demo data: login
 * cookie and logout, CSRF refusal, login lock after repeated failures, session expiry,
 * disabled accounts, row-level security and the append-only audit log in the
 * database itself, and the role x route matrix over every route `carefactd routes`
 * prints (anonymous, an expired session, a device and each role, each with a resource
 * its provider can see: exactly 401/403 when refused, the route's success status when
 * allowed; no body ever carries another provider's data). Its exchanges are recorded
 * for the contract check. */
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

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "cf/batch.h"
#include "cf/codec.h"
#include "harness.h"
#include "sample_events.h"
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
    char office[40], back[40];
    sql_text("SELECT md5('demo:office:1')::uuid", office, sizeof office);
    sql_text("SELECT md5('demo:office:back')::uuid", back, sizeof back);
    if (cf_harness_staff_account(&harness, "intake1", "intake", office, PASSWORD) ||
        cf_harness_staff_account(&harness, "lead1", "intake_lead", office, PASSWORD) ||
        cf_harness_staff_account(&harness, "case1", "caseworker", back, PASSWORD))
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
/* The Content-Type of the next call's body when it is not JSON (a document), or NULL. */
static const char *call_content_type;

static long call(const struct cf_session *s, bool csrf, const char *method, const char *path,
                 const char *body, struct cf_http_reply *reply)
{
    char cookie[200], token[120], type[80];
    const char *headers[4] = {NULL, NULL, NULL, NULL};
    size_t n = 0;
    if (call_content_type) {
        snprintf(type, sizeof type, "Content-Type: %s", call_content_type);
        headers[n++] = type;
    }
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

/* Every route `carefactd routes` prints, called by every kind of caller with a resource
 * the caller's provider can see (a visit, exception, register, recipient and device of
 * provider 1, created here) and a valid body. A caller the table allows must get the
 * route's own success status; any other caller exactly 401 (no session, an expired one,
 * a device on a person's route, a person on a device's route) or 403 (a signed-in
 * person whose role may not). The table below is the specification: it is written
 * here, not read from the server, and the server's list of routes must be exactly its
 * list. */

enum who {
    NOBODY,
    EXPIRED,
    DEVICE,
    ADMIN,
    AUTHORITY,
    MANAGER,
    WORKER,
    INTAKE,
    INTAKE_LEAD,
    CASEWORKER,
    WHO_COUNT
};
static const char *const who_names[WHO_COUNT] = {"anonymous",   "expired",   "device", "admin",
                                                 "authority",   "manager",   "worker", "intake",
                                                 "intake_lead", "caseworker"};
static const char *const who_logins[WHO_COUNT] = {NULL,   "mgr1", NULL,      "admin1", "auth1",
                                                  "mgr1", "wrk1", "intake1", "lead1",  "case1"};
#define A(x) (1u << (x))
#define PEOPLE (A(ADMIN) | A(AUTHORITY) | A(MANAGER) | A(WORKER))
#define STAFF (A(INTAKE) | A(INTAKE_LEAD) | A(CASEWORKER)) /* applications (issue 15) */
#define ANYONE (PEOPLE | STAFF | A(NOBODY) | A(EXPIRED) | A(DEVICE))
#define OVERSEE (A(ADMIN) | A(AUTHORITY) | A(MANAGER))

/* Who may use each route, and what the route answers when it works. */
static const struct route_spec {
    const char *route;
    unsigned allowed;
    long works; /* the status of a working call */
} expected[] = {
    {"GET /healthz", ANYONE, 200},
    {"GET /metrics", ANYONE, 200},
    {"POST /api/v1/session", ANYONE, 201}, /* the password proves */
    {"GET /api/v1/session", PEOPLE | STAFF, 200},
    {"DELETE /api/v1/session", PEOPLE | STAFF, 204},
    {"GET /api/v1/audit", A(ADMIN) | A(AUTHORITY), 200},
    {"POST /api/v1/devices", ANYONE, 201}, /* the one-time code proves */
    {"GET /api/v1/devices", OVERSEE, 200},
    {"POST /api/v1/devices/{id}/revoke", A(ADMIN) | A(MANAGER), 200},
    {"POST /api/v1/workers/{id}/deactivate", A(ADMIN) | A(MANAGER), 200},
    {"POST /api/v1/devices/{id}/events", A(DEVICE), 200},
    {"GET /api/v1/devices/{id}/reference", A(DEVICE), 200},
    {"POST /api/v1/devices/{id}/reference/fetch", A(DEVICE), 200},
    {"GET /api/v1/visits", PEOPLE, 200},
    {"GET /api/v1/visits/{id}", PEOPLE, 200},
    {"GET /", ANYONE, 200}, /* the dashboard page asks for a login */
    {"GET /web/{id}", ANYONE, 200},
    {"GET /api/v1/stream", PEOPLE, 200},
    {"GET /api/v1/live", OVERSEE, 200},
    {"GET /api/v1/exceptions", OVERSEE, 200},
    {"POST /api/v1/exceptions/{id}/resolve", OVERSEE, 200},
    /* corrections (issue 6) */
    {"POST /api/v1/visits/{id}/corrections", OVERSEE, 201},
    {"GET /api/v1/visits/{id}/corrections", PEOPLE, 200},
    {"GET /api/v1/recipients/{id}/statement", OVERSEE, 200},
    /* figures and the payment register (issue 6) */
    {"GET /api/v1/figures", PEOPLE, 200},
    {"GET /api/v1/registers", OVERSEE, 200},
    {"GET /api/v1/registers/{id}", OVERSEE, 200},
    {"GET /api/v1/registers/{id}/export", OVERSEE, 200},
    {"POST /api/v1/registers/{id}/submit", A(ADMIN) | A(MANAGER), 200},
    {"POST /api/v1/registers/{id}/approve", A(ADMIN) | A(AUTHORITY), 200},
    {"POST /api/v1/registers/{id}/return", A(ADMIN) | A(AUTHORITY), 200},
    /* applications (issue 15): the citizen's routes are public; the front office files in
     * its own office; each staff role makes the transitions of its step */
    {"GET /api/v1/offices", ANYONE, 200},
    {"POST /api/v1/public/applications", ANYONE, 201},
    {"POST /api/v1/public/applications/status", ANYONE, 200},
    {"POST /api/v1/applications", A(ADMIN) | A(INTAKE) | A(INTAKE_LEAD), 201},
    {"GET /api/v1/applications", STAFF | A(ADMIN) | A(AUTHORITY), 200},
    {"GET /api/v1/applications/{id}", STAFF | A(ADMIN) | A(AUTHORITY), 200},
    /* what terminals recorded about it (sql/0032): whoever sees the application */
    {"GET /api/v1/applications/{id}/acts", STAFF | A(ADMIN) | A(AUTHORITY), 200},
    {"GET /api/v1/applications/funnel", STAFF | A(ADMIN) | A(AUTHORITY), 200},
    {"POST /api/v1/applications/{id}/transitions", STAFF | A(ADMIN), 200},
    /* an application's documents and its printable form: whoever sees the application
     * reads them; the staff (and the admin) attach and remove */
    {"POST /api/v1/applications/{id}/documents", STAFF | A(ADMIN), 201},
    {"GET /api/v1/applications/{id}/documents", STAFF | A(ADMIN) | A(AUTHORITY), 200},
    {"GET /api/v1/applications/{id}/documents/{doc}", STAFF | A(ADMIN) | A(AUTHORITY), 200},
    {"DELETE /api/v1/applications/{id}/documents/{doc}", STAFF | A(ADMIN), 204},
    {"GET /api/v1/applications/{id}/form", STAFF | A(ADMIN) | A(AUTHORITY), 200},
    /* the change feed and webhooks (issue 20): the feed is scoped like the lists; a
     * subscription carries every provider of its region, so only admin and authority read
     * them, and only the admin (who runs the integrations) makes or enables one */
    {"GET /api/v1/changes", OVERSEE | A(CASEWORKER), 200}, /* the back office: applications */
    {"GET /api/v1/webhooks", A(ADMIN) | A(AUTHORITY), 200},
    {"POST /api/v1/webhooks", A(ADMIN), 201},
    {"POST /api/v1/webhooks/{id}/enable", A(ADMIN), 200},
    {"GET /api/v1/webhooks/{id}/deliveries", A(ADMIN) | A(AUTHORITY), 200},
    /* appointments (issue 16): the citizen's routes are public (a hold's secret proves);
     * the front office of the office works its day; the authority reads */
    {"GET /api/v1/public/offices/{id}/slots", ANYONE, 200},
    {"POST /api/v1/public/appointments", ANYONE, 201},
    {"POST /api/v1/public/appointments/{id}/confirm", ANYONE, 200},
    {"POST /api/v1/public/appointments/{id}/cancel", ANYONE, 200},
    {"POST /api/v1/appointments", A(ADMIN) | A(INTAKE) | A(INTAKE_LEAD), 201},
    {"POST /api/v1/appointments/{id}/transitions", A(ADMIN) | A(INTAKE) | A(INTAKE_LEAD), 200},
    {"POST /api/v1/appointments/{id}/reschedule", A(ADMIN) | A(INTAKE) | A(INTAKE_LEAD), 201},
    {"GET /api/v1/offices/{id}/appointments", A(ADMIN) | A(AUTHORITY) | A(INTAKE) | A(INTAKE_LEAD),
     200},
    {"POST /api/v1/offices/{id}/closures", A(ADMIN) | A(INTAKE_LEAD), 201},
    {"GET /api/v1/offices/{id}/appointments/figures",
     A(ADMIN) | A(AUTHORITY) | A(INTAKE) | A(INTAKE_LEAD), 200},
    /* an office's booking settings and hours: its lead and the admin set them, the
     * authority reads */
    {"GET /api/v1/offices/{id}/booking", A(ADMIN) | A(AUTHORITY) | A(INTAKE_LEAD), 200},
    {"PUT /api/v1/offices/{id}/booking", A(ADMIN) | A(INTAKE_LEAD), 200},
    /* the office's desk terminals: its lead and the admin assign them; the desk decides
     * the card taps that checked nothing in */
    {"PUT /api/v1/offices/{id}/desk-terminals/{device}", A(ADMIN) | A(INTAKE_LEAD), 200},
    {"DELETE /api/v1/offices/{id}/desk-terminals/{device}", A(ADMIN) | A(INTAKE_LEAD), 200},
    {"POST /api/v1/check-in-exceptions/{id}/resolve", A(ADMIN) | A(INTAKE) | A(INTAKE_LEAD), 200},
    /* satisfaction (issue 16): the citizen answers with the appointment's secret; the
     * provider's people and the department read the figures; the follow-up sample is the
     * department's alone (a provider does not call its own); a manager may call back a
     * low rating of their own provider */
    {"GET /api/v1/public/surveys/{instrument}", ANYONE, 200},
    {"POST /api/v1/public/appointments/{id}/survey", ANYONE, 201},
    {"GET /api/v1/satisfaction", OVERSEE, 200},
    {"GET /api/v1/satisfaction/followups", A(ADMIN) | A(AUTHORITY), 200},
    {"POST /api/v1/satisfaction/responses", OVERSEE, 201},
    /* complaints (issue 16): a provider's manager handles its own, admin and authority any;
     * the citizen's page and the comparison of providers are public */
    {"GET /api/v1/complaints", OVERSEE, 200},
    {"POST /api/v1/complaints", OVERSEE, 201},
    {"GET /api/v1/complaints/alerts", OVERSEE, 200},
    {"GET /api/v1/complaints/{id}", OVERSEE, 200},
    {"POST /api/v1/complaints/{id}/transitions", OVERSEE, 200},
    {"POST /api/v1/public/complaints", ANYONE, 201},
    {"POST /api/v1/complaints/{id}/code", OVERSEE, 200},
    {"POST /api/v1/public/complaints/status", ANYONE, 200}, /* the number and code prove */
    {"GET /api/v1/public/comparison", ANYONE, 200},
    /* the programme an approval made: its provider's manager reads and accepts it */
    {"GET /api/v1/applications/{id}/programme-choices", A(ADMIN) | A(CASEWORKER), 200},
    /* the exchange with the central system (issue 20): the back office exports and records
     * answers; oversight reads the exports */
    {"POST /api/v1/application-exports", A(ADMIN) | A(CASEWORKER), 201},
    {"GET /api/v1/application-exports", A(ADMIN) | A(AUTHORITY) | A(CASEWORKER), 200},
    {"GET /api/v1/application-exports/{id}", A(ADMIN) | A(AUTHORITY) | A(CASEWORKER), 200},
    {"POST /api/v1/applications/{id}/answer", A(ADMIN) | A(CASEWORKER), 200},
    {"GET /api/v1/programmes", OVERSEE, 200},
    {"POST /api/v1/programmes/{id}/accept", A(ADMIN) | A(MANAGER), 200},
    /* mobile brigade trips (issue 16): the office's lead plans and announces, its front
     * office books people on them; the back office, oversight and the provider whose
     * workers go read them; the announced ones are public */
    {"GET /api/v1/public/trips", ANYONE, 200},
    {"GET /api/v1/trips", STAFF | OVERSEE, 200},
    {"POST /api/v1/trips", A(ADMIN) | A(INTAKE_LEAD), 201},
    {"GET /api/v1/trips/{id}", STAFF | OVERSEE, 200},
    {"PUT /api/v1/trips/{id}", A(ADMIN) | A(INTAKE_LEAD), 200},
    {"POST /api/v1/trips/{id}/transitions", A(ADMIN) | A(INTAKE_LEAD), 200},
    {"POST /api/v1/trips/{id}/appointments", A(ADMIN) | A(INTAKE) | A(INTAKE_LEAD), 201},
};
#define ROUTE_COUNT (sizeof expected / sizeof expected[0])

static const struct route_spec *spec_of(const char *route)
{
    for (size_t i = 0; i < ROUTE_COUNT; i++)
        if (strcmp(expected[i].route, route) == 0)
            return &expected[i];
    fail_msg("route '%s' is not in the matrix: add who may use it", route);
    return NULL;
}

/* What the matrix works on: provider 1's worker 1, recipient 1 and device, one visit
 * they all may read, and the month the register calls start from. */
static struct {
    struct cf_session sessions[WHO_COUNT];
    struct cf_terminal device;
    char recipient[40], visit[40], first_month[16], office[40];
} m;

/* A new ended visit of worker 1 (provider 1) that left early: its own exception
 * "early_leave.<id>" and a visit a correction may change. Returns the id in out. */
static void fresh_visit(char out[40])
{
    char sql[900];
    sql_text("SELECT gen_random_uuid()", out, 40);
    snprintf(sql, sizeof sql,
             "INSERT INTO visits (id, provider_id, worker_id, recipient_id, state, started_at, "
             "ended_at, sort_at, duration_s, expected_minutes, start_confirmed, end_confirmed, "
             "flags) VALUES ('%s', '%s', '%s', '%s', 'ended', now() - interval '1 hour', "
             "now() - interval '55 minutes', now() - interval '1 hour', 300, 30, true, true, "
             "'{early_leave}')",
             out, provider1, worker1, m.recipient);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
}

/* The month (YYYY-MM) after provider 1's latest submitted or approved register (the
 * first month when there is none): the only month a submit may take next. */
static void next_register_month(char out[16])
{
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT to_char(coalesce(max(month) + interval '1 month', '%s-01'), 'YYYY-MM') "
             "FROM registers WHERE provider_id = '%s' AND state <> 'draft'",
             m.first_month, provider1);
    sql_text(sql, out, 16);
}

/* A submitted register of provider 1, the latest (approve and return take it): the one
 * a refused call left, or the next month submitted. */
static void submitted_register(char out[16])
{
    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT to_char(month, 'YYYY-MM') FROM registers WHERE provider_id = '%s' AND "
             "state <> 'draft' ORDER BY month DESC LIMIT 1",
             provider1);
    char *latest = cf_harness_sql_value(&harness, sql);
    assert_non_null(latest);
    snprintf(sql, sizeof sql,
             "SELECT state FROM registers WHERE provider_id = '%s' AND month = '%s-01'", provider1,
             latest);
    char *state = latest[0] ? cf_harness_sql_value(&harness, sql) : strdup("");
    bool reuse = state && strcmp(state, "submitted") == 0;
    if (reuse)
        snprintf(out, 16, "%s", latest);
    free(latest);
    free(state);
    if (reuse)
        return;
    next_register_month(out);
    snprintf(sql, sizeof sql,
             "INSERT INTO registers (provider_id, month, state, submitted_at, submitted_by) "
             "VALUES ('%s', '%s-01', 'submitted', now(), 'matrix') ON CONFLICT (provider_id, "
             "month) DO UPDATE SET state = 'submitted', submitted_at = now(), "
             "submitted_by = 'matrix'",
             provider1, out);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
}

/* A new application of demo office 1 filed on the public form, then put in state (by
 * the owner: the matrix tests who may call, not the workflow). Its id, number and code
 * into the buffers that are not NULL. */
static void fresh_application(const char *state, char id[40], char number[24], char code[16])
{
    char body[600], sql[300];
    struct cf_http_reply reply;
    forget_failures(); /* the public form's budget per address (sql/0020) */
    snprintf(body, sizeof body,
             "{\"office_id\":\"%s\",\"applicant_name\":\"Матрица Заявитель\","
             "\"applicant_birth_date\":\"1940-01-01\",\"applicant_address\":\"д. 1\","
             "\"category\":\"elderly\",\"purpose\":\"home_care\",\"consent\":true}",
             m.office);
    assert_int_equal(call(NULL, false, "POST", "/api/v1/public/applications", body, &reply), 201);
    cJSON *filed = cJSON_Parse(reply.body);
    const cJSON *app = cJSON_GetObjectItem(filed, "application");
    const char *app_id = cJSON_GetObjectItem(app, "id")->valuestring;
    if (id)
        snprintf(id, 40, "%s", app_id);
    if (number)
        snprintf(number, 24, "%s", cJSON_GetObjectItem(app, "number")->valuestring);
    if (code)
        snprintf(code, 16, "%s", cJSON_GetObjectItem(filed, "code")->valuestring);
    snprintf(sql, sizeof sql,
             "UPDATE applications SET state = '%s', decided_at = CASE WHEN '%s' IN ('approved', "
             "'refused') THEN now() END WHERE id = '%s'",
             state, state, app_id);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    cJSON_Delete(filed);
    cf_http_reply_cleanup(&reply);
}

/* The matrix holds many slots from one loopback address: its earlier holds stop
 * counting towards the address's cap (sql/0028), as forget_failures does for the public
 * form's budget. */
static void forget_holds(void)
{
    assert_int_equal(cf_harness_sql(&harness, "UPDATE appointments SET hold_address = NULL"), 0);
}

/* A slot of demo office 1 that can be booked and has no appointment yet (each call its
 * own), as RFC 3339 UTC into start; its local date into date when not NULL. */
static void free_slot(char start[40], char date[11])
{
    char sql[900], both[64];
    snprintf(sql, sizeof sql,
             "SELECT to_char(s.starts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
             "|| ' ' || (s.starts AT TIME ZONE r.timezone)::date FROM regions r, "
             "generate_series(1, 20) d, office_slots('%s', (now() AT TIME ZONE r.timezone)::date "
             "+ d) s WHERE r.id = md5('demo:region')::uuid AND appointment_refusal('%s', "
             "s.starts) IS NULL AND NOT EXISTS (SELECT 1 FROM appointments a WHERE "
             "a.office_id = '%s' AND lower(a.during) = s.starts) ORDER BY s.starts LIMIT 1",
             m.office, m.office, m.office);
    sql_text(sql, both, sizeof both);
    assert_true(strlen(both) == 31);
    snprintf(start, 40, "%.20s", both);
    if (date)
        snprintf(date, 11, "%.10s", both + 21);
}

/* A new appointment of demo office 1: held (through the public route: its secret into
 * secret) or booked for a person of its own phone (by the owner). Its id into id. */
static void fresh_appointment(bool held, char id[40], char secret[40])
{
    static int people;
    char start[40], body[300];
    free_slot(start, NULL);
    if (held) {
        forget_holds();
        struct cf_http_reply reply;
        snprintf(body, sizeof body,
                 "{\"office_id\":\"%s\",\"start\":\"%s\",\"kind\":\"consultation\"}", m.office,
                 start);
        assert_int_equal(call(NULL, false, "POST", "/api/v1/public/appointments", body, &reply),
                         201);
        cJSON *held_json = cJSON_Parse(reply.body);
        const cJSON *held_id =
            cJSON_GetObjectItem(cJSON_GetObjectItem(held_json, "appointment"), "id");
        const cJSON *held_secret = cJSON_GetObjectItem(held_json, "secret");
        assert_true(cJSON_IsString(held_id) && cJSON_IsString(held_secret));
        snprintf(id, 40, "%s", held_id->valuestring);
        snprintf(secret, 40, "%s", held_secret->valuestring);
        cJSON_Delete(held_json);
        cf_http_reply_cleanup(&reply);
        return;
    }
    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT appointment_id FROM appointment_take('%s', '%s', 'consultation', true, "
             "'tel:7950%07d', 'Матрица', '', 'phone', 'matrix', sha256('x'))",
             m.office, start, ++people);
    sql_text(sql, id, 40);
    assert_int_equal(strlen(id), 36);
}

/* One call: the path and body a working call of this route needs, with the resources
 * it changes made for it alone. *session: the session to send (a fresh one for
 * DELETE /api/v1/session). *after: SQL whose value must be "t" after a refused call
 * (nothing changed), "" when nothing to check. */
struct prepared {
    char path[256], body[2048], after[400];
    const char *content_type; /* the body's when not JSON (a document), else NULL */
    struct cf_session own; /* a session made for this call */
    const struct cf_session *session;
    struct cf_terminal device_after; /* the device's chain once the batch is stored */
};

/* Webhooks: a subscription of provider 1's region made for this call alone (disabled, so
 * enabling it is a change; its address refuses connections), or a new one's body. */
static void prepare_webhook(const char *pattern, bool post, char id[120], struct prepared *p)
{
    char sql[600], tag[40];
    sql_text("SELECT gen_random_uuid()", tag, sizeof tag);
    if (strcmp(pattern, "/api/v1/webhooks") == 0 && post) {
        char region[40];
        snprintf(sql, sizeof sql, "SELECT region_id FROM providers WHERE id = '%s'", provider1);
        sql_text(sql, region, sizeof region);
        snprintf(p->body, sizeof p->body,
                 "{\"region_id\":\"%s\",\"url\":\"http://127.0.0.1:9/%s\","
                 "\"events\":[\"visit.changed\"]}",
                 region, tag);
        snprintf(p->after, sizeof p->after,
                 "SELECT count(*) = 0 FROM webhook_subscriptions WHERE url LIKE '%%%s'", tag);
        return;
    }
    snprintf(sql, sizeof sql,
             "INSERT INTO webhook_subscriptions (region_id, url, events, secret, created_by, "
             "enabled) SELECT region_id, 'http://127.0.0.1:9/%s', '{visit.changed}', "
             "repeat('s', 64), 'matrix', false FROM providers WHERE id = '%s' RETURNING id",
             tag, provider1);
    sql_text(sql, id, 40);
    if (strstr(pattern, "/enable")) {
        snprintf(p->body, sizeof p->body, "{\"reason\":\"Приёмник снова работает\"}");
        snprintf(p->after, sizeof p->after,
                 "SELECT NOT enabled FROM webhook_subscriptions WHERE id = '%s'", id);
    }
}

/* Trips (issue 16): a planned trip of the demo office 10 days on, provider 1's (so its
 * manager reads it), made for each call, and the bodies of the calls that change one. */
static void prepare_trip(const char *method, const char *pattern, bool post, char id[120],
                         char query[80], struct prepared *p)
{
    static int trips;
    char sql[900], day[11];
    const char *settlements = "[{\"name\":\"д. Матрица\",\"place\":\"\",\"arrives\":\"10:00\","
                              "\"leaves\":\"12:00\"}]";
    sql_text("SELECT ((now() AT TIME ZONE 'Europe/Moscow')::date + 10)::text", day, sizeof day);
    if (strcmp(pattern, "/api/v1/public/trips") == 0) {
        char region[40];
        snprintf(sql, sizeof sql, "SELECT region_id FROM providers WHERE id = '%s'", provider1);
        sql_text(sql, region, sizeof region);
        snprintf(query, 80, "?region=%s", region);
        return;
    }
    if (strcmp(pattern, "/api/v1/trips") == 0) {
        if (post) {
            snprintf(p->body, sizeof p->body,
                     "{\"office_id\":\"%s\",\"day\":\"%s\",\"title\":\"Матрица %d\","
                     "\"settlements\":%s}",
                     m.office, day, ++trips, settlements);
            snprintf(p->after, sizeof p->after,
                     "SELECT count(*) = 0 FROM trips WHERE title = 'Матрица %d'", trips);
        }
        return;
    }
    snprintf(sql, sizeof sql,
             "SELECT trip_id FROM trip_save(NULL, '%s', '%s', '%s', 'Матрица', '', 30, '%s', "
             "'[]', '[]', 'matrix', 'admin')",
             m.office, provider1, day, settlements);
    sql_text(sql, id, 40);
    if (strstr(pattern, "/transitions")) {
        snprintf(p->body, sizeof p->body, "{\"to\":\"announced\"}");
        snprintf(p->after, sizeof p->after, "SELECT state = 'planned' FROM trips WHERE id = '%s'",
                 id);
    } else if (strstr(pattern, "/appointments")) {
        snprintf(p->body, sizeof p->body,
                 "{\"settlement\":1,\"start\":\"%sT10:00:00+03:00\",\"kind\":\"home_survey\","
                 "\"person_name\":\"Матрица\",\"phone\":\"+7953%07d\"}",
                 day, ++trips);
        snprintf(p->after, sizeof p->after,
                 "SELECT count(*) = 0 FROM appointments WHERE trip_id = '%s'", id);
    } else if (strcmp(method, "PUT") == 0) {
        snprintf(p->body, sizeof p->body,
                 "{\"day\":\"%s\",\"title\":\"Матрица изменена\",\"settlements\":%s}", day,
                 settlements);
        snprintf(p->after, sizeof p->after, "SELECT title = 'Матрица' FROM trips WHERE id = '%s'",
                 id);
    }
}

static void prepare(const char *method, const char *pattern, enum who w, struct prepared *p)
{
    char id[120] = "", query[80] = "", doc[40] = "", device[40] = "";
    memset(p, 0, sizeof *p);
    p->session = (w == NOBODY || w == DEVICE) ? NULL : &m.sessions[w];
    bool post = strcmp(method, "POST") == 0;
    if (strcmp(pattern, "/api/v1/devices/{id}/revoke") == 0) {
        struct cf_terminal spare; /* a terminal of worker 1 made for this call alone */
        enrol_device(&spare);
        snprintf(id, sizeof id, "%s", spare.id_text);
        snprintf(p->body, sizeof p->body, "{\"reason\":\"Терминал утерян\"}");
        snprintf(p->after, sizeof p->after, "SELECT status = 'active' FROM devices WHERE id = '%s'",
                 spare.id_text);
    } else if (strcmp(pattern, "/api/v1/workers/{id}/deactivate") == 0) {
        sql_text("SELECT gen_random_uuid()", id, 40); /* a worker of provider 1 for this call */
        char sql[300];
        snprintf(sql, sizeof sql,
                 "INSERT INTO workers (id, provider_id, full_name) VALUES ('%s', '%s', "
                 "'Матрица Работник')",
                 id, provider1);
        assert_int_equal(cf_harness_sql(&harness, sql), 0);
        snprintf(p->body, sizeof p->body, "{\"reason\":\"Уволен\"}");
        snprintf(p->after, sizeof p->after, "SELECT active FROM workers WHERE id = '%s'", id);
    } else if (strncmp(pattern, "/api/v1/devices/{id}", 20) == 0) {
        snprintf(id, sizeof id, "%s", m.device.id_text);
    } else if (strcmp(pattern, "/web/{id}") == 0) {
        snprintf(id, sizeof id, "app.js");
    } else if (strcmp(pattern, "/api/v1/recipients/{id}/statement") == 0) {
        snprintf(id, sizeof id, "%s", m.recipient);
        snprintf(query, sizeof query, "?month=%.7s", m.first_month);
    } else if (strcmp(pattern, "/api/v1/exceptions/{id}/resolve") == 0) {
        char visit[40];
        fresh_visit(visit);
        snprintf(id, sizeof id, "early_leave.%s", visit);
        snprintf(p->body, sizeof p->body, "{\"action\":\"must_fix\",\"note\":\"матрица\"}");
        snprintf(p->after, sizeof p->after,
                 "SELECT count(*) = 0 FROM exception_resolutions WHERE subject_id = '%s'", visit);
    } else if (strcmp(pattern, "/api/v1/visits/{id}/corrections") == 0 && post) {
        fresh_visit(id);
        snprintf(p->body, sizeof p->body,
                 "{\"field\":\"disputed\",\"value\":true,\"reason\":\"Получатель оспаривает\"}");
        snprintf(p->after, sizeof p->after,
                 "SELECT count(*) = 0 FROM visit_corrections WHERE visit_id = '%s'", id);
    } else if (strncmp(pattern, "/api/v1/visits/{id}", 19) == 0) {
        snprintf(id, sizeof id, "%s", m.visit);
    } else if (strstr(pattern, "/registers/{id}/")) {
        char month[16];
        if (strstr(pattern, "/submit"))
            next_register_month(month);
        else if (strstr(pattern, "/export") == NULL)
            submitted_register(month);
        else
            snprintf(month, sizeof month, "%.7s", m.first_month);
        snprintf(id, sizeof id, "%s.%s", month, provider1);
        if (strstr(pattern, "/return"))
            snprintf(p->body, sizeof p->body, "{\"reason\":\"Проверьте визиты\"}");
        else if (post)
            snprintf(p->body, sizeof p->body, "{}");
        if (post)
            snprintf(p->after, sizeof p->after,
                     "SELECT coalesce((SELECT state FROM registers WHERE provider_id = '%s' AND "
                     "month = '%s-01'), 'draft') = '%s'",
                     provider1, month, strstr(pattern, "/submit") ? "draft" : "submitted");
    } else if (strncmp(pattern, "/api/v1/webhooks", 16) == 0) {
        prepare_webhook(pattern, post, id, p);
    } else if (strcmp(pattern, "/api/v1/registers") == 0) {
        snprintf(query, sizeof query, "?month=%.7s", m.first_month);
    } else if (strcmp(pattern, "/api/v1/figures") == 0) {
        snprintf(query, sizeof query, "?group=worker");
    } else if (strcmp(pattern, "/api/v1/registers/{id}") == 0) {
        snprintf(id, sizeof id, "%.7s.%s", m.first_month, provider1);
    } else if (strncmp(pattern, "/api/v1/applications/{id}/documents", 35) == 0 ||
               strcmp(pattern, "/api/v1/applications/{id}/form") == 0) {
        /* a draft of demo office 1 with one document, both made for this call */
        static int documents;
        char sql[600];
        fresh_application("draft", id, NULL, NULL);
        snprintf(sql, sizeof sql,
                 "INSERT INTO application_documents (application_id, kind, file_name, "
                 "media_type, size, sha256, content, uploaded_by) SELECT '%s', 'other', "
                 "'m.pdf', 'application/pdf', octet_length(c), sha256(c), c, 'matrix' FROM "
                 "convert_to(E'%%PDF-1.4\\n%%%%EOF\\n', 'UTF8') c RETURNING id",
                 id);
        sql_text(sql, doc, sizeof doc);
        if (post) {
            snprintf(query, sizeof query, "?kind=passport&name=matrix.pdf");
            snprintf(p->body, sizeof p->body, "%%PDF-1.4\n%% matrix %d\n%%%%EOF\n", ++documents);
            p->content_type = "application/pdf";
            snprintf(p->after, sizeof p->after,
                     "SELECT count(*) = 1 FROM application_documents WHERE application_id = '%s'",
                     id);
        } else if (strcmp(method, "DELETE") == 0) {
            snprintf(p->after, sizeof p->after,
                     "SELECT count(*) = 1 FROM application_documents WHERE id = '%s'", doc);
        }
    } else if (strcmp(pattern, "/api/v1/applications/funnel") == 0) {
        snprintf(query, sizeof query, "?month=%.7s", m.first_month);
    } else if (strcmp(pattern, "/api/v1/applications/{id}") == 0 ||
               strcmp(pattern, "/api/v1/applications/{id}/acts") == 0 ||
               strcmp(pattern, "/api/v1/applications/{id}/programme-choices") == 0) {
        fresh_application("submitted", id, NULL, NULL);
    } else if (strcmp(pattern, "/api/v1/applications/{id}/transitions") == 0) {
        /* each role's own step: the intake submits a draft, the lead verifies, the
         * caseworker takes a verified one for assessment (admin: any) */
        const char *from = w == INTAKE ? "draft" : w == CASEWORKER ? "verified" : "submitted";
        const char *to = w == INTAKE ? "submitted" : w == CASEWORKER ? "assessment" : "verified";
        fresh_application(from, id, NULL, NULL);
        snprintf(p->body, sizeof p->body, "{\"to\":\"%s\"}", to);
        snprintf(p->after, sizeof p->after, "SELECT state = '%s' FROM applications WHERE id = '%s'",
                 from, id);
    } else if (strcmp(pattern, "/api/v1/application-exports") == 0 && post) {
        /* a decision of its own waiting: the working call exports it (with whatever else
         * waits in the region); a refused one leaves it waiting */
        char application[40], region[40], sql[200];
        fresh_application("approved", application, NULL, NULL);
        snprintf(sql, sizeof sql, "SELECT region_id FROM offices WHERE id = '%s'", m.office);
        sql_text(sql, region, sizeof region);
        snprintf(p->body, sizeof p->body, "{\"region_id\":\"%s\"}", region);
        snprintf(p->after, sizeof p->after,
                 "SELECT export_id IS NULL FROM applications WHERE id = '%s'", application);
    } else if (strcmp(pattern, "/api/v1/application-exports/{id}") == 0 ||
               strcmp(pattern, "/api/v1/applications/{id}/answer") == 0) {
        /* an approved application exported (by the owner: the export itself is
         * integration.backend.exchange's) */
        char application[40], sql[700];
        fresh_application("approved", application, NULL, NULL);
        snprintf(sql, sizeof sql,
                 "WITH e AS (INSERT INTO application_exports (region_id, application_count, "
                 "created_by) SELECT region_id, 1, 'matrix' FROM applications WHERE id = '%s' "
                 "RETURNING id) UPDATE applications a SET export_id = e.id, exported_at = now() "
                 "FROM e WHERE a.id = '%s' RETURNING e.id",
                 application, application);
        sql_text(sql, id, 40);
        if (post) {
            snprintf(id, sizeof id, "%s", application);
            snprintf(p->body, sizeof p->body, "{\"outcome\":\"accepted\"}");
            snprintf(p->after, sizeof p->after,
                     "SELECT answered_at IS NULL FROM applications WHERE id = '%s'", application);
        }
    } else if (strcmp(pattern, "/api/v1/programmes/{id}/accept") == 0) {
        /* a programme of provider 1 made for this call (by the owner: the approval itself
         * is integration.backend.applications') */
        char application[40], sql[1200];
        fresh_application("approved", application, NULL, NULL);
        snprintf(sql, sizeof sql,
                 "WITH r AS (INSERT INTO recipients (id, provider_id, full_name) VALUES "
                 "(gen_random_uuid(), '%s', 'Матрица Получатель') RETURNING id), "
                 "c AS (INSERT INTO certificates (id, recipient_id, number, valid_from, valid_to) "
                 "SELECT gen_random_uuid(), r.id, 'M-' || r.id, current_date, current_date + 90 "
                 "FROM r RETURNING id, recipient_id) "
                 "INSERT INTO programmes (application_id, provider_id, recipient_id, "
                 "certificate_id, valid_from, valid_to, created_by) SELECT '%s', '%s', "
                 "c.recipient_id, c.id, current_date, current_date + 90, 'matrix' FROM c "
                 "RETURNING id",
                 provider1, application, provider1);
        sql_text(sql, id, 40);
        snprintf(p->body, sizeof p->body, "{}");
        snprintf(p->after, sizeof p->after,
                 "SELECT accepted_at IS NULL FROM programmes WHERE id = '%s'", id);
    } else if (strcmp(pattern, "/api/v1/public/applications/status") == 0) {
        char number[24], code[16];
        fresh_application("submitted", NULL, number, code);
        snprintf(p->body, sizeof p->body, "{\"number\":\"%s\",\"code\":\"%s\"}", number, code);
    } else if (strcmp(pattern, "/api/v1/public/applications") == 0 ||
               (strcmp(pattern, "/api/v1/applications") == 0 && post)) {
        static int filed;
        forget_failures(); /* the public form's budget per address (sql/0020) */
        char office[64] = "";
        if (w == ADMIN || strstr(pattern, "/public/"))
            snprintf(office, sizeof office, "\"office_id\":\"%s\",", m.office);
        snprintf(p->body, sizeof p->body,
                 "{%s%s\"applicant_name\":\"Матрица %d\",\"applicant_birth_date\":\"1940-01-01\","
                 "\"applicant_address\":\"д. 1\",\"category\":\"elderly\","
                 "\"purpose\":\"home_care\",\"consent\":true}",
                 office, strstr(pattern, "/public/") ? "" : "\"channel\":\"office\",", ++filed);
        snprintf(p->after, sizeof p->after,
                 "SELECT count(*) = 0 FROM applications WHERE applicant_name = 'Матрица %d'",
                 filed);
    }
    /* appointments (issue 16) */
    static int callers;
    if (strcmp(pattern, "/api/v1/public/appointments/{id}/survey") == 0) {
        /* a served appointment with its secret, made for this call */
        char secret[40], sql[300];
        forget_failures(); /* the public survey's budget per address */
        fresh_appointment(true, id, secret);
        snprintf(sql, sizeof sql,
                 "UPDATE appointments SET state = 'served', hold_until = NULL WHERE id = '%s'", id);
        assert_int_equal(cf_harness_sql(&harness, sql), 0);
        snprintf(p->body, sizeof p->body,
                 "{\"secret\":\"%s\",\"instrument\":\"public_service\",\"version\":1,"
                 "\"answers\":{\"overall\":5,\"informed\":\"fully\",\"premises\":4,"
                 "\"competence\":5,\"politeness\":5,\"waiting\":4,\"recommend\":\"yes\"}}",
                 secret);
        snprintf(p->after, sizeof p->after,
                 "SELECT count(*) = 0 FROM survey_responses WHERE appointment_id = '%s'", id);
    } else if (strcmp(pattern, "/api/v1/satisfaction") == 0 ||
               strcmp(pattern, "/api/v1/satisfaction/followups") == 0) {
        snprintf(query, sizeof query, "?month=%.7s", m.first_month);
    } else if (strcmp(pattern, "/api/v1/satisfaction/responses") == 0) {
        char visit[40];
        fresh_visit(visit);
        snprintf(p->body, sizeof p->body,
                 "{\"visit_id\":\"%s\",\"purpose\":\"low_rating\",\"instrument\":"
                 "\"visit_rating\",\"version\":1,\"answers\":{\"rating\":4}}",
                 visit);
        snprintf(p->after, sizeof p->after,
                 "SELECT count(*) = 0 FROM survey_responses WHERE visit_id = '%s'", visit);
    } else if (strcmp(pattern, "/api/v1/public/offices/{id}/slots") == 0 ||
               strncmp(pattern, "/api/v1/offices/{id}/appointments", 33) == 0) {
        char date[11], start[40];
        free_slot(start, date);
        snprintf(id, sizeof id, "%s", m.office);
        snprintf(query, sizeof query, "?date=%s", date);
    } else if (strcmp(pattern, "/api/v1/offices/{id}/booking") == 0) {
        /* the demo office's own settings and hours (the other calls' slots stay), each
         * allowed call with its own grace period */
        snprintf(id, sizeof id, "%s", m.office);
        if (!post && strcmp(method, "PUT") == 0) {
            char grace[12];
            sql_text(
                "SELECT grace_minutes FROM office_booking WHERE office_id = md5('demo:office:1')"
                "::uuid",
                grace, sizeof grace);
            snprintf(p->body, sizeof p->body,
                     "{\"seats\":3,\"slot_minutes\":15,\"horizon_days\":30,\"person_limit\":2,"
                     "\"hold_minutes\":15,\"grace_minutes\":%d,\"hours\":["
                     "{\"weekday\":1,\"opens\":\"08:00\",\"closes\":\"20:00\"},"
                     "{\"weekday\":2,\"opens\":\"08:00\",\"closes\":\"20:00\"},"
                     "{\"weekday\":3,\"opens\":\"08:00\",\"closes\":\"20:00\"},"
                     "{\"weekday\":4,\"opens\":\"08:00\",\"closes\":\"20:00\"},"
                     "{\"weekday\":5,\"opens\":\"08:00\",\"closes\":\"20:00\"},"
                     "{\"weekday\":6,\"opens\":\"08:00\",\"closes\":\"17:00\"}]}",
                     20 + (int)w);
            snprintf(p->after, sizeof p->after,
                     "SELECT grace_minutes = %s FROM office_booking WHERE office_id = '%s'", grace,
                     m.office);
        }
    } else if (strcmp(pattern, "/api/v1/public/appointments") == 0 ||
               strcmp(pattern, "/api/v1/appointments") == 0) {
        char start[40];
        forget_holds();
        free_slot(start, NULL);
        if (strstr(pattern, "/public/"))
            snprintf(p->body, sizeof p->body,
                     "{\"office_id\":\"%s\",\"start\":\"%s\",\"kind\":\"consultation\"}", m.office,
                     start);
        else
            snprintf(p->body, sizeof p->body,
                     "{\"office_id\":\"%s\",\"start\":\"%s\",\"kind\":\"consultation\","
                     "\"person_name\":\"Матрица\",\"phone\":\"+7951%07d\"}",
                     m.office, start, ++callers);
        snprintf(p->after, sizeof p->after,
                 "SELECT count(*) = 0 FROM appointments WHERE lower(during) = '%s'", start);
    } else if (strcmp(pattern, "/api/v1/offices/{id}/closures") == 0) {
        /* a day 25 days on, closed again by each allowed call (no appointment there);
         * a refused call leaves the closures the allowed callers before it made */
        char day[11];
        int closures = 0;
        for (int v = 0; v < (int)w; v++)
            closures += (spec_of("POST /api/v1/offices/{id}/closures")->allowed & A(v)) != 0;
        sql_text("SELECT ((now() AT TIME ZONE 'Europe/Moscow')::date + 25)::text", day, sizeof day);
        snprintf(id, sizeof id, "%s", m.office);
        snprintf(p->body, sizeof p->body,
                 "{\"from\":\"%s\",\"to\":\"%s\",\"reason\":\"Матрица: санитарный день\"}", day,
                 day);
        snprintf(p->after, sizeof p->after,
                 "SELECT count(*) = %d FROM office_closures WHERE reason LIKE 'Матрица%%'",
                 closures);
    } else if (strncmp(pattern, "/api/v1/public/appointments/{id}/", 33) == 0) {
        char secret[40];
        fresh_appointment(true, id, secret);
        if (strstr(pattern, "/confirm"))
            snprintf(p->body, sizeof p->body,
                     "{\"secret\":\"%s\",\"person_name\":\"Матрица\",\"phone\":\"+7952%07d\"}",
                     secret, ++callers);
        else
            snprintf(p->body, sizeof p->body, "{\"secret\":\"%s\"}", secret);
    } else if (strncmp(pattern, "/api/v1/appointments/{id}/", 26) == 0) {
        fresh_appointment(false, id, NULL);
        if (strstr(pattern, "/transitions"))
            snprintf(p->body, sizeof p->body,
                     "{\"to\":\"checked_in\",\"identified_by\":\"passport\"}");
        else {
            char start[40];
            free_slot(start, NULL);
            snprintf(p->body, sizeof p->body, "{\"start\":\"%s\"}", start);
        }
        snprintf(p->after, sizeof p->after,
                 "SELECT state = 'booked' FROM appointments WHERE id = '%s'", id);
    }
    /* desk terminals and their check-in exceptions (issue 16, sql/0033) */
    if (strncmp(pattern, "/api/v1/offices/{id}/desk-terminals/", 36) == 0) {
        char sql[400];
        /* a terminal of worker 1 made for this call; for a removal, already the desk */
        snprintf(sql, sizeof sql,
                 "INSERT INTO devices (id, worker_id, public_key) VALUES (gen_random_uuid(), '%s', "
                 "decode(repeat('ab', 32), 'hex')) RETURNING id",
                 worker1);
        sql_text(sql, device, sizeof device);
        snprintf(id, sizeof id, "%s", m.office);
        bool put = strcmp(method, "PUT") == 0;
        if (!put) {
            snprintf(sql, sizeof sql,
                     "INSERT INTO desk_terminals (device_id, office_id, region_id, assigned_by) "
                     "SELECT '%s', id, region_id, 'matrix' FROM offices WHERE id = '%s'",
                     device, m.office);
            assert_int_equal(cf_harness_sql(&harness, sql), 0);
        }
        snprintf(p->after, sizeof p->after,
                 "SELECT count(*) = %d FROM desk_terminals WHERE device_id = '%s'", put ? 0 : 1,
                 device);
    } else if (strcmp(pattern, "/api/v1/check-in-exceptions/{id}/resolve") == 0) {
        char sql[500];
        snprintf(sql, sizeof sql,
                 "INSERT INTO desk_check_in_exceptions (office_id, region_id, device_id, seq, "
                 "reason, tapped_at) SELECT id, region_id, gen_random_uuid(), 1, 'no_appointment', "
                 "now() FROM offices WHERE id = '%s' RETURNING id",
                 m.office);
        sql_text(sql, id, 40);
        snprintf(p->body, sizeof p->body, "{\"resolution\":\"dismissed\"}");
        snprintf(p->after, sizeof p->after,
                 "SELECT resolution IS NULL FROM desk_check_in_exceptions WHERE id = '%s'", id);
    }
    /* complaints (issue 16) */
    static int complaints;
    if (strcmp(pattern, "/api/v1/complaints") == 0 && post) {
        snprintf(p->body, sizeof p->body,
                 "{\"source\":\"phone\",\"cause\":\"other\",\"text\":\"Матрица %d\","
                 "\"provider_id\":\"%s\"}",
                 ++complaints, provider1);
        snprintf(p->after, sizeof p->after,
                 "SELECT count(*) = 0 FROM complaints WHERE body = 'Матрица %d'", complaints);
    } else if (strncmp(pattern, "/api/v1/complaints/{id}", 23) == 0) {
        char sql[400];
        snprintf(sql, sizeof sql,
                 "INSERT INTO complaints (region_id, provider_id, source, cause, body, opened_by, "
                 "due) SELECT region_id, id, 'phone', 'other', 'Матрица', 'matrix', "
                 "current_date + 5 FROM providers WHERE id = '%s' RETURNING id",
                 provider1);
        sql_text(sql, id, 40);
        if (post && strstr(pattern, "/code")) {
            snprintf(p->after, sizeof p->after,
                     "SELECT code_hash IS NULL FROM complaints WHERE id = '%s'", id);
        } else if (post) {
            snprintf(p->body, sizeof p->body, "{\"to\":\"answered\",\"answer\":\"Ответ\"}");
            snprintf(p->after, sizeof p->after,
                     "SELECT state = 'open' FROM complaints WHERE id = '%s'", id);
        }
    } else if (strcmp(pattern, "/api/v1/public/complaints/status") == 0) {
        char sql[500], number[40];
        forget_failures(); /* the status page's budget per address */
        snprintf(sql, sizeof sql,
                 "INSERT INTO complaints (region_id, provider_id, source, cause, body, opened_by, "
                 "due, code_hash) SELECT region_id, id, 'phone', 'other', 'Матрица', 'matrix', "
                 "current_date + 5, sha256('0123456789') FROM providers WHERE id = '%s' "
                 "RETURNING number",
                 provider1);
        sql_text(sql, number, sizeof number);
        snprintf(p->body, sizeof p->body, "{\"number\":\"%s\",\"code\":\"0123456789\"}", number);
    } else if (strcmp(pattern, "/api/v1/public/complaints") == 0) {
        char secret[40], appointment[40];
        forget_failures(); /* the public page's budget per address (sql/0020) */
        fresh_appointment(true, appointment, secret);
        snprintf(p->body, sizeof p->body,
                 "{\"about\":\"office\",\"appointment_id\":\"%s\",\"secret\":\"%s\","
                 "\"cause\":\"office_waiting\",\"text\":\"Матрица: долго ждали\"}",
                 appointment, secret);
    }
    if (strstr(pattern, "/trips"))
        prepare_trip(method, pattern, post, id, query, p);
    char *brace = strstr(pattern, "{id}");
    if (strcmp(pattern, "/api/v1/public/surveys/{instrument}") == 0)
        snprintf(p->path, sizeof p->path, "/api/v1/public/surveys/public_service");
    else if (brace)
        snprintf(p->path, sizeof p->path, "%.*s%s%s%s", (int)(brace - pattern), pattern, id,
                 brace + 4, query);
    else
        snprintf(p->path, sizeof p->path, "%s%s", pattern, query);
    char *dev = strstr(p->path, "{device}");
    if (dev) {
        char rest[256];
        snprintf(rest, sizeof rest, "%s", dev + 8);
        snprintf(dev, sizeof p->path - (size_t)(dev - p->path), "%s%s", device, rest);
    }
    char *second = strstr(p->path, "{doc}");
    if (second) {
        char rest[256];
        snprintf(rest, sizeof rest, "%s", second + 5);
        snprintf(second, sizeof p->path - (size_t)(second - p->path), "%s%s", doc, rest);
    }

    if (strcmp(pattern, "/api/v1/session") == 0 && post) {
        snprintf(p->body, sizeof p->body, "{\"login\":\"%s\",\"password\":\"" PASSWORD "\"}",
                 who_logins[w] ? who_logins[w] : "mgr1");
    } else if (strcmp(pattern, "/api/v1/session") == 0 && strcmp(method, "DELETE") == 0) {
        if (who_logins[w] && w != EXPIRED) { /* log out a session made for this call */
            login(who_logins[w], &p->own);
            p->session = &p->own;
        }
    } else if (strcmp(pattern, "/api/v1/devices") == 0 && post) {
        char code[32], key[64];
        uint8_t priv[CF_ED25519_KEY_LEN], pub[CF_ED25519_KEY_LEN];
        const char *args[] = {"enroll-code", "--worker", worker1, NULL};
        assert_int_equal(cf_harness_carefactd(&harness, args, code, sizeof code), 0);
        assert_int_equal(cf_ed25519_generate(priv, pub), 0);
        assert_int_equal(cf_base64url_encode(pub, sizeof pub, key, sizeof key), 0);
        snprintf(p->body, sizeof p->body, "{\"code\":\"%s\",\"public_key\":\"%s\"}", code, key);
    } else if (strcmp(pattern, "/api/v1/devices/{id}/events") == 0) {
        /* One attempt at recipient 1's door, chained on the device's copy: only a stored
         * batch moves the device's chain on. */
        struct cf_event ev;
        sample_event(&ev, CF_EV_VISIT_ATTEMPT);
        assert_int_equal(cf_uuid_from_text(worker1, ev.worker_id), 0);
        assert_int_equal(cf_uuid_from_text(m.recipient, ev.recipient_id), 0);
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        ev.wall_ms = (int64_t)now.tv_sec * 1000;
        p->device_after = m.device;
        cf_terminal_chain(&p->device_after, &ev);
        char *batch = cf_terminal_batch(&p->device_after, &ev, 1);
        snprintf(p->body, sizeof p->body, "%s", batch);
        assert_true(strlen(batch) < sizeof p->body);
        free(batch);
        snprintf(p->after, sizeof p->after,
                 "SELECT count(*) = %llu FROM events WHERE device_id = '%s'",
                 (unsigned long long)m.device.last_seq, m.device.id_text);
    } else if (strcmp(pattern, "/api/v1/devices/{id}/reference/fetch") == 0) {
        snprintf(p->body, sizeof p->body,
                 "{\"items\":[{\"kind\":\"service\",\"id\":\"HH-SHOP\"}]}");
    }
}

/* GET /api/v1/stream as a person: the head and the first event only (the stream itself
 * lasts 25 s), over a plain socket. Returns the status; the content type must be
 * text/event-stream and the first event "ready". */
static long stream_head(const struct cf_session *s, struct cf_http_reply *reply)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)harness.port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    struct timeval tv = {.tv_sec = 30};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char request[400];
    int n =
        snprintf(request, sizeof request,
                 "GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n\r\n", s->cookie);
    assert_int_equal(write(fd, request, (size_t)n), n);
    static char head[4096];
    size_t got = 0;
    while (got < sizeof head - 1 && !strstr(head, "event: ready\ndata: {}\n\n")) {
        ssize_t r = read(fd, head + got, sizeof head - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        head[got] = '\0';
    }
    close(fd);
    memset(reply, 0, sizeof *reply);
    long status = 0;
    if (sscanf(head, "HTTP/1.1 %ld", &status) != 1)
        fail_msg("GET /api/v1/stream: no status line: %s", head);
    reply->status = status;
    const char *ct = strstr(head, "Content-Type: ");
    if (ct)
        snprintf(reply->content_type, sizeof reply->content_type, "%.*s",
                 (int)strcspn(ct + 14, "\r\n"), ct + 14);
    const char *body = strstr(head, "\r\n\r\n");
    reply->body = strdup(body ? body + 4 : "");
    cf_contract_note("GET", "/api/v1/stream", reply);
    return status;
}

/* Provider 2's ids that must never be in an answer to a manager or worker of provider 1. */
static void check_no_leak(const char *line, enum who w, const char *body, const char *secrets)
{
    const char *tok = secrets;
    for (const char *end; tok && *tok; tok = end) {
        end = strchr(tok, ' ');
        size_t len = end ? (size_t)(end - tok) : strlen(tok);
        char one[40];
        snprintf(one, sizeof one, "%.*s", (int)len, tok);
        if (strstr(body, one))
            fail_msg("%s as %s: the body holds provider 2's %s", line, who_names[w], one);
        end = end ? end + 1 : NULL;
    }
    if (strstr(body, provider2))
        fail_msg("%s as %s: the body names provider 2", line, who_names[w]);
}

static void matrix_setup(void)
{
    memset(&m, 0, sizeof m);
    login("mgr1", &m.sessions[EXPIRED]);
    cf_harness_sql(&harness, "UPDATE sessions SET expires_at = now() - interval '1 second'");
    for (int w = ADMIN; w < WHO_COUNT; w++)
        login(who_logins[w], &m.sessions[w]);
    enrol_device(&m.device);
    sql_text("SELECT md5('demo:recipient:1')::uuid", m.recipient, sizeof m.recipient);
    sql_text("SELECT md5('demo:office:1')::uuid", m.office, sizeof m.office);
    fresh_visit(m.visit);
    /* Registers from a year ago, month after month: well past, never the open month. */
    sql_text("SELECT to_char(now() - interval '1 year', 'YYYY-MM')", m.first_month,
             sizeof m.first_month);
}

static void test_role_route_matrix(void **state)
{
    (void)state;
    matrix_setup();
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
    bool served[ROUTE_COUNT] = {false};
    int checked = 0, worked = 0;
    while (fgets(line, sizeof line, routes)) {
        line[strcspn(line, "\n")] = '\0';
        char method[16], pattern[200];
        if (sscanf(line, "%15s %199s", method, pattern) != 2)
            continue;
        const struct route_spec *spec = spec_of(line);
        served[spec - expected] = true;
        bool device_route = spec->allowed == A(DEVICE); /* a terminal's own route */
        for (int w = 0; w < WHO_COUNT; w++) {
            bool ok = spec->allowed & A(w);
            struct prepared p;
            prepare(method, pattern, (enum who)w, &p);
            struct cf_http_reply reply;
            long st;
            if (ok && strcmp(pattern, "/api/v1/stream") == 0) {
                st = stream_head(p.session, &reply);
                if (!strstr(reply.content_type, "text/event-stream") ||
                    !strstr(reply.body, "event: ready"))
                    fail_msg("%s as %s: not an event stream: %s", line, who_names[w], reply.body);
            } else if (w == DEVICE) {
                st = signed_call(m.device.private_key, m.device.id_text, method, p.path,
                                 p.body[0] ? p.body : NULL, p.body[0] ? p.body : NULL, 0, NULL);
                memset(&reply, 0, sizeof reply);
                reply.body = last_signed_body;
                last_signed_body = NULL;
            } else {
                call_content_type = p.content_type;
                st = call(p.session, true, method, p.path, p.body[0] ? p.body : NULL, &reply);
                call_content_type = NULL;
            }
            if (ok) {
                if (st != spec->works)
                    fail_msg("%s as %s (%s): %ld, want %ld: %s", line, who_names[w], p.path, st,
                             spec->works, reply.body);
                if (device_route && w == DEVICE && strstr(pattern, "/events"))
                    m.device = p.device_after; /* stored: the chain moved on */
                worked++;
            } else {
                bool signed_in = w >= ADMIN; /* a person with a live session */
                long want = device_route || !signed_in ? 401 : 403;
                const char *type = device_route  ? "/device-unauthenticated"
                                   : want == 401 ? "/unauthenticated"
                                                 : "/forbidden";
                if (st != want || !strstr(reply.body, type))
                    fail_msg("%s as %s (%s): %ld, want exactly %ld %s: %s", line, who_names[w],
                             p.path, st, want, type, reply.body);
                if (p.after[0]) {
                    char *same = cf_harness_sql_value(&harness, p.after);
                    if (!same || strcmp(same, "t") != 0)
                        fail_msg("%s as %s: refused, yet something changed (%s)", line,
                                 who_names[w], p.after);
                    free(same);
                }
            }
            /* the public comparison of a region's providers names every provider: it is
             * what it is for (issue 16), and it holds no visit, person or worker */
            if ((w == MANAGER || w == WORKER) && strcmp(line, "GET /api/v1/public/comparison") != 0)
                check_no_leak(line, (enum who)w, reply.body ? reply.body : "", secrets);
            cf_http_reply_cleanup(&reply);
            checked++;
        }
    }
    pclose(routes);
    free(secrets);
    for (size_t i = 0; i < ROUTE_COUNT; i++)
        if (!served[i])
            fail_msg("'%s' is in the matrix but carefactd does not serve it", expected[i].route);
    assert_int_equal(checked, (int)(ROUTE_COUNT * WHO_COUNT));
    printf("matrix: %d calls, %d of them allowed and working\n", checked, worked);

    /* The lists really are scoped, not merely empty. */
    struct cf_http_reply reply;
    char path[256];
    assert_int_equal(
        call(&m.sessions[MANAGER], false, "GET", "/api/v1/visits?limit=500", NULL, &reply), 200);
    assert_non_null(strstr(reply.body, provider1));
    cf_http_reply_cleanup(&reply);
    snprintf(path, sizeof path, "/api/v1/visits?provider=%s", provider2);
    assert_int_equal(status_of(&m.sessions[MANAGER], false, "GET", path, NULL, "/forbidden"), 403);
    assert_int_equal(
        call(&m.sessions[AUTHORITY], false, "GET", "/api/v1/visits?limit=500", NULL, &reply), 200);
    assert_non_null(strstr(reply.body, provider2));
    cf_http_reply_cleanup(&reply);
}

/* ==== The documented error statuses ==== */

/* The answers api/openapi.yaml documents besides success and refusal, each produced once
 * so the contract check sees every documented status exchanged (integration.backend.
 * contract lists the few it cannot: 503s, and paths the checks before them answer). */
static void expect_status(const struct cf_session *s, const char *method, const char *path,
                          const char *body, const char *header, long want)
{
    const char *headers[4] = {NULL, NULL, NULL, NULL};
    char cookie[200], token[120];
    size_t n = 0;
    if (s) {
        snprintf(cookie, sizeof cookie, "Cookie: %s", s->cookie);
        snprintf(token, sizeof token, "X-CSRF-Token: %s", s->csrf);
        headers[n++] = cookie;
        headers[n++] = token;
    }
    if (header)
        headers[n++] = header;
    struct cf_http_reply reply;
    harness.session = NULL;
    assert_int_equal(
        cf_http_with(&harness, method, path, body, body ? strlen(body) : 0, headers, &reply), 0);
    if (reply.status != want)
        fail_msg("%s %s: %ld, want %ld: %s", method, path, reply.status, want, reply.body);
    cf_http_reply_cleanup(&reply);
}

/* The ETag of GET path, then the same GET with If-None-Match: 304. */
static void expect_not_modified(const char *path)
{
    struct cf_http_reply reply;
    assert_int_equal(call(NULL, false, "GET", path, NULL, &reply), 200);
    assert_true(reply.etag[0]);
    char header[160];
    snprintf(header, sizeof header, "If-None-Match: %s", reply.etag);
    cf_http_reply_cleanup(&reply);
    expect_status(NULL, "GET", path, NULL, header, 304);
}

static void test_documented_statuses(void **state)
{
    (void)state;
    struct cf_session admin;
    login("admin1", &admin);
    expect_not_modified("/");
    expect_not_modified("/web/app.js");
    expect_status(NULL, "GET", "/web/no-such-file.js", NULL, NULL, 404);
    /* a body sent to a route that takes none: the 4xx the operational routes document */
    expect_status(NULL, "GET", "/healthz", "{}", NULL, 413);
    expect_status(NULL, "GET", "/metrics", "{}", NULL, 413);
    expect_status(NULL, "POST", "/api/v1/session", "{not json", NULL, 400);
    expect_status(NULL, "POST", "/api/v1/session", "{\"login\":\"admin1\"}", NULL, 422);
    expect_status(&admin, "GET", "/api/v1/audit?limit=many", NULL, NULL, 400);
    expect_status(NULL, "POST", "/api/v1/devices", "{not json", NULL, 400);
    /* JSON only, and no cross-site sign-in; a person's device and worker changes alike */
    const char *login_body = "{\"login\":\"admin1\",\"password\":\"" PASSWORD "\"}";
    expect_status(NULL, "POST", "/api/v1/session", login_body, "Content-Type: text/plain", 415);
    expect_status(NULL, "POST", "/api/v1/session", login_body, "Sec-Fetch-Site: cross-site", 403);
    char person_change[200];
    snprintf(person_change, sizeof person_change, "/api/v1/devices/%s/revoke", m.device.id_text);
    expect_status(&admin, "POST", person_change, "{\"reason\":\"x\"}", "Content-Type: text/plain",
                  415);
    snprintf(person_change, sizeof person_change, "/api/v1/workers/%s/deactivate", worker1);
    expect_status(&admin, "POST", person_change, "{\"reason\":\"x\"}", "Content-Type: text/plain",
                  415);
    expect_status(&admin, "POST", "/api/v1/workers/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/deactivate",
                  "{\"reason\":\"x\"}", NULL, 404);

    char path[200], unknown[200];
    snprintf(path, sizeof path, "/api/v1/registers/%.7s.%s", m.first_month, provider1);
    char query[260];
    snprintf(query, sizeof query, "%s?lines=all", path); /* the path takes no query */
    expect_status(&admin, "GET", query, NULL, NULL, 400);
    snprintf(unknown, sizeof unknown, "/api/v1/registers/%.7s.%s", m.first_month,
             "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    static const char *const changes[] = {"submit", "approve", "return"};
    for (size_t i = 0; i < 3; i++) {
        char change[260];
        snprintf(change, sizeof change, "%s/%s", path, changes[i]);
        expect_status(&admin, "POST", change, "{not json", NULL, 400);
        if (i == 0)
            continue;
        expect_status(&admin, "POST", change, "{\"reason\":\"x\",\"by\":\"y\"}", NULL, 422);
        snprintf(change, sizeof change, "%s/%s", unknown, changes[i]);
        expect_status(&admin, "POST", change, i == 2 ? "{\"reason\":\"x\"}" : "{}", NULL, 404);
    }

    /* A correction body over the route's cap: refused before it is read. */
    size_t big = 80 * 1024;
    char *body = malloc(big + 1);
    assert_non_null(body);
    memset(body, ' ', big);
    body[0] = '{';
    body[big - 1] = '}';
    body[big] = '\0';
    snprintf(path, sizeof path, "/api/v1/visits/%s/corrections", m.visit);
    expect_status(&admin, "POST", path, body, NULL, 413);
    free(body);

    /* A device's malformed fetch, then the same device revoked. */
    struct cf_terminal t;
    enrol_device(&t);
    snprintf(path, sizeof path, "/api/v1/devices/%s/reference/fetch", t.id_text);
    assert_int_equal(signed_call(t.private_key, t.id_text, "POST", path, "{not json", "{not json",
                                 0, "/malformed-json"),
                     400);
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE devices SET status = 'revoked' WHERE id = '%s'", t.id_text);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    const char fetch[] = "{\"items\":[{\"kind\":\"service\",\"id\":\"HH-SHOP\"}]}";
    assert_int_equal(
        signed_call(t.private_key, t.id_text, "POST", path, fetch, fetch, 0, "/revoked-device"),
        403);
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
        cmocka_unit_test(test_documented_statuses), /* after the matrix: its visit, month */
    };
    int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
    curl_global_cleanup();
    return rc;
}
