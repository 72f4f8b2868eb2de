/* Security tests of terminals and the live stream against the real carefactd and a
 * private PostgreSQL with the demo data (issue 13): a deactivated worker's terminals are
 * revoked and refused (reference and upload), a manager revokes their own provider's
 * devices only (audited), the device list shows the last sync, the live stream carries
 * only the subscriber's provider's notifications (a worker only their own), and one
 * person cannot take every stream slot. */
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
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "cf/uuid.h"
#include "harness.h"
#include "sample_events.h"
#include "terminal.h"

#define PASSWORD "correct-horse-battery"
#define DEMO_KEY "000102030405060708090a0b0c0d0e0f"
#define P1 "md5('demo:provider:1')::uuid"
#define P2 "md5('demo:provider:2')::uuid"

static struct cf_harness harness;
static char worker1[40], worker2[40], worker3[40], worker4[40];

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
    /* Streams hold a server thread each: room for several at once, the default 8 slots. */
    const char *serve[] = {"--threads", "16", NULL};
    if (cf_harness_start(&harness, serve) || cf_harness_carefactd(&harness, demo, NULL, 0))
        return -1;
    sql_text("SELECT md5('demo:worker:1')::uuid", worker1, sizeof worker1);
    sql_text("SELECT md5('demo:worker:2')::uuid", worker2, sizeof worker2);
    sql_text("SELECT md5('demo:worker:3')::uuid", worker3, sizeof worker3);
    sql_text("SELECT md5('demo:worker:4')::uuid", worker4, sizeof worker4);
    char p1[40], p2[40];
    sql_text("SELECT " P1, p1, sizeof p1);
    sql_text("SELECT " P2, p2, sizeof p2);
    if (cf_harness_account(&harness, "admin1", "admin", NULL, NULL, PASSWORD) ||
        cf_harness_account(&harness, "auth1", "authority", NULL, NULL, PASSWORD) ||
        cf_harness_account(&harness, "mgr1", "manager", p1, NULL, PASSWORD) ||
        cf_harness_account(&harness, "mgr2", "manager", p2, NULL, PASSWORD) ||
        cf_harness_account(&harness, "wrk1", "worker", p1, worker1, PASSWORD) ||
        cf_harness_account(&harness, "wrk3", "worker", p1, worker3, PASSWORD) ||
        cf_harness_account(&harness, "wrk4", "worker", p2, worker4, PASSWORD) ||
        cf_harness_account(&harness, "mgr2b", "manager", p2, NULL, PASSWORD))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cf_harness_stop(&harness);
    return 0;
}

/* ==== Helpers ==== */

/* A request as s (csrf sent); returns the status, the body in reply. */
static long as(const struct cf_session *s, const char *method, const char *path, const char *body,
               struct cf_http_reply *reply)
{
    char cookie[200], token[120];
    snprintf(cookie, sizeof cookie, "Cookie: %s", s->cookie);
    snprintf(token, sizeof token, "X-CSRF-Token: %s", s->csrf);
    const char *headers[] = {cookie, token, NULL};
    harness.session = NULL;
    assert_int_equal(
        cf_http_with(&harness, method, path, body, body ? strlen(body) : 0, headers, reply), 0);
    return reply->status;
}

static long status_as(const struct cf_session *s, const char *method, const char *path,
                      const char *body, const char *want)
{
    struct cf_http_reply reply;
    long st = as(s, method, path, body, &reply);
    if (want && !strstr(reply.body, want))
        fail_msg("%s %s: want %s, got %ld %s", method, path, want, st, reply.body);
    cf_http_reply_cleanup(&reply);
    return st;
}

static void login(const char *who, struct cf_session *s)
{
    assert_int_equal(cf_harness_login(&harness, who, PASSWORD, s), 0);
}

/* The terminal's GET reference (signed by the harness); returns the status. */
static long reference(struct cf_terminal *t, const char *want)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/devices/%s/reference", t->id_text);
    struct cf_http_reply reply;
    harness.session = NULL;
    assert_int_equal(cf_http(&harness, "GET", path, NULL, 0, &reply), 0);
    long st = reply.status;
    if (want && !strstr(reply.body, want))
        fail_msg("reference: want %s, got %ld %s", want, st, reply.body);
    cf_http_reply_cleanup(&reply);
    return st;
}

/* One event of t's worker (a card no one holds), now: an upload that stores 1. */
static void one_event(struct cf_terminal *t, const char *worker, struct cf_event *ev)
{
    sample_event(ev, CF_EV_CARD_UNRECOGNIZED);
    assert_int_equal(cf_uuid_from_text(worker, ev->worker_id), 0);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ev->wall_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    ev->mono_ms = 1000 + (int64_t)t->last_seq * 1000;
}

static void upload_one(struct cf_terminal *t, const char *worker)
{
    struct cf_event ev;
    one_event(t, worker, &ev);
    cf_terminal_upload(&harness, t, &ev, 1);
}

/* ==== Deactivated workers and revoked devices ==== */

static void test_deactivated_worker_is_revoked(void **state)
{
    (void)state;
    struct cf_terminal t;
    cf_terminal_enrol(&harness, worker2, &t);
    assert_int_equal(reference(&t, NULL), 200);
    upload_one(&t, worker2);
    struct cf_session m1, m2, w1;
    login("mgr1", &m1);
    login("mgr2", &m2);
    login("wrk1", &w1);
    char path[160];
    snprintf(path, sizeof path, "/api/v1/workers/%s/deactivate", worker2);
    /* Another provider's manager and a worker may not; a reason is required. */
    assert_int_equal(status_as(&m2, "POST", path, "{\"reason\":\"x\"}", "/forbidden"), 403);
    assert_int_equal(status_as(&w1, "POST", path, "{\"reason\":\"x\"}", "/forbidden"), 403);
    assert_int_equal(status_as(&m1, "POST", path, "{}", "reason"), 422);
    assert_int_equal(status_as(&m1, "POST", path, "{\"reason\":\"Уволена 1 декабря\"}", NULL), 200);
    /* The terminal gets nothing more, and what it sends is not read. */
    assert_int_equal(reference(&t, "/revoked-device"), 403);
    struct cf_event ev;
    one_event(&t, worker2, &ev);
    cf_terminal_chain(&t, &ev);
    char *json = cf_terminal_batch(&t, &ev, 1);
    cJSON_Delete(cf_terminal_send(&harness, &t, json, 403));
    free(json);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit_log WHERE action = 'worker.deactivate' AND subject = "
             "'worker:%s' AND reason = 'Уволена 1 декабря'",
             worker2);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM devices WHERE worker_id = '%s' AND status = 'active'", worker2);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 0);
    /* No new terminal for a deactivated worker either. */
    const char *args[] = {"enroll-code", "--worker", worker2, NULL};
    assert_int_not_equal(cf_harness_carefactd(&harness, args, NULL, 0), 0);
}

static void test_device_revoke_and_list(void **state)
{
    (void)state;
    struct cf_terminal t, other;
    cf_terminal_enrol(&harness, worker1, &t);
    cf_terminal_enrol(&harness, worker4, &other);
    assert_int_equal(reference(&t, NULL), 200); /* its last sync */
    struct cf_session m1, m2, w1, adm;
    login("mgr1", &m1);
    login("mgr2", &m2);
    login("wrk1", &w1);
    login("admin1", &adm);
    /* The list: a manager sees their provider's devices with worker and last sync. */
    struct cf_http_reply reply;
    assert_int_equal(as(&m1, "GET", "/api/v1/devices", NULL, &reply), 200);
    cJSON *list = cJSON_Parse(reply.body);
    cf_http_reply_cleanup(&reply);
    assert_non_null(list);
    cJSON *items = cJSON_GetObjectItem(list, "devices"), *mine = NULL, *it;
    assert_true(cJSON_IsArray(items));
    cJSON_ArrayForEach(it, items)
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(it, "id"));
        assert_non_null(id);
        assert_string_not_equal(id, other.id_text);
        if (strcmp(id, t.id_text) == 0)
            mine = it;
    }
    assert_non_null(mine);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(mine, "status")), "active");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(mine, "worker_id")), worker1);
    assert_non_null(cJSON_GetStringValue(cJSON_GetObjectItem(mine, "worker_name")));
    assert_non_null(cJSON_GetStringValue(cJSON_GetObjectItem(mine, "enrolled_at")));
    assert_non_null(cJSON_GetStringValue(cJSON_GetObjectItem(mine, "last_sync_at")));
    cJSON_Delete(list);
    assert_int_equal(status_as(&w1, "GET", "/api/v1/devices", NULL, "/forbidden"), 403);

    char path[160], unknown[160];
    snprintf(path, sizeof path, "/api/v1/devices/%s/revoke", t.id_text);
    snprintf(unknown, sizeof unknown, "/api/v1/devices/%s/revoke",
             "00000000-0000-4000-8000-000000000000");
    const char reason[] = "{\"reason\":\"Терминал утерян\"}";
    assert_int_equal(status_as(&m2, "POST", path, reason, "/forbidden"), 403);
    assert_int_equal(status_as(&w1, "POST", path, reason, "/forbidden"), 403);
    assert_int_equal(status_as(&m1, "POST", unknown, reason, "/not-found"), 404);
    assert_int_equal(status_as(&m1, "POST", path, "{}", "reason"), 422);
    assert_int_equal(reference(&t, NULL), 200); /* nothing changed yet */
    assert_int_equal(status_as(&m1, "POST", path, reason, "\"revoked\""), 200);
    assert_int_equal(reference(&t, "/revoked-device"), 403);
    assert_int_equal(reference(&other, NULL), 200);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit_log WHERE action = 'device.revoke' AND subject = "
             "'device:%s' AND reason = 'Терминал утерян' AND actor LIKE '%%mgr1%%'",
             t.id_text);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 1);
    /* An admin revokes any provider's device. */
    snprintf(path, sizeof path, "/api/v1/devices/%s/revoke", other.id_text);
    assert_int_equal(status_as(&adm, "POST", path, reason, NULL), 200);
    assert_int_equal(reference(&other, "/revoked-device"), 403);
}

/* ==== The live stream ==== */

struct stream {
    const struct cf_session *who;
    double seconds;
    long status;
    char content_type[80];
    char text[8192];
    size_t len;
    pthread_t thread;
};

static size_t stream_write(char *data, size_t size, size_t n, void *ctx)
{
    struct stream *s = ctx;
    size_t len = size * n, room = sizeof s->text - 1 - s->len;
    memcpy(s->text + s->len, data, len < room ? len : room);
    s->len += len < room ? len : room;
    s->text[s->len] = '\0';
    return len;
}

static void *stream_run(void *arg)
{
    struct stream *s = arg;
    char url[128], cookie[200];
    snprintf(url, sizeof url, "%s/api/v1/stream", harness.base_url);
    snprintf(cookie, sizeof cookie, "%s", s->who->cookie);
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_COOKIE, cookie);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(s->seconds * 1000));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, stream_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, s);
    curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &s->status);
    char *type = NULL;
    if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type)
        snprintf(s->content_type, sizeof s->content_type, "%s", type);
    curl_easy_cleanup(curl);
    return NULL;
}

static void stream_open(struct stream *s, const struct cf_session *who, double seconds)
{
    memset(s, 0, sizeof *s);
    s->who = who;
    s->seconds = seconds;
    assert_int_equal(pthread_create(&s->thread, NULL, stream_run, s), 0);
}

static void stream_wait_ready(struct stream *s)
{
    for (int i = 0; i < 100 && !strstr(s->text, "event: ready"); i++)
        usleep(50000);
    assert_non_null(strstr(s->text, "event: ready"));
}

static void stream_join(struct stream *s)
{
    pthread_join(s->thread, NULL);
}

static void test_stream_scoped_to_provider(void **state)
{
    (void)state;
    struct cf_terminal t;
    cf_terminal_enrol(&harness, worker3, &t);
    struct cf_session m1, m2, w1, w3, w4, au;
    login("mgr1", &m1);
    login("mgr2", &m2);
    login("wrk1", &w1);
    login("wrk3", &w3);
    login("wrk4", &w4);
    login("auth1", &au);
    struct stream s_m1, s_m2, s_w1, s_w3, s_w4, s_au;
    stream_open(&s_m1, &m1, 3);
    stream_open(&s_m2, &m2, 3);
    stream_open(&s_w1, &w1, 3);
    stream_open(&s_w3, &w3, 3);
    stream_open(&s_w4, &w4, 3);
    stream_open(&s_au, &au, 3);
    struct stream *all[] = {&s_m1, &s_m2, &s_w1, &s_w3, &s_w4, &s_au};
    for (size_t i = 0; i < 6; i++)
        stream_wait_ready(all[i]);
    upload_one(&t, worker3); /* provider 1, worker 3 */
    for (size_t i = 0; i < 6; i++)
        stream_join(all[i]);
    char device[80];
    snprintf(device, sizeof device, "\"device_id\":\"%s\"", t.id_text);
    /* Provider 1's manager, the authority and worker 3 see it ... */
    assert_non_null(strstr(s_m1.text, device));
    assert_non_null(strstr(s_au.text, device));
    assert_non_null(strstr(s_w3.text, device));
    /* ... provider 2's manager and worker, and another worker of provider 1, do not. */
    if (strstr(s_m2.text, "event: events") || strstr(s_w4.text, "event: events") ||
        strstr(s_w1.text, "event: events"))
        fail_msg("a notification reached another provider or worker:\nmgr2: %s\nwrk4: %s\n"
                 "wrk1: %s",
                 s_m2.text, s_w4.text, s_w1.text);
}

static void test_stream_cap_per_user(void **state)
{
    (void)state;
    /* The last test's streams end on the server at its next keep-alive (every 2 s). */
    sleep(5);
    struct cf_session a, b;
    login("admin1", &a);
    login("mgr2b", &b);
    struct stream s1, s2, s3, other;
    stream_open(&s1, &a, 3);
    stream_open(&s2, &a, 3);
    stream_wait_ready(&s1);
    stream_wait_ready(&s2);
    /* The same person's third stream is refused at once; someone else still gets one. */
    stream_open(&s3, &a, 2);
    stream_join(&s3);
    assert_int_equal(s3.status, 429);
    assert_non_null(strstr(s3.text, "/too-many-streams"));
    struct cf_http_reply refused = {.status = s3.status, .body = s3.text, .body_len = s3.len};
    snprintf(refused.content_type, sizeof refused.content_type, "%s", s3.content_type);
    cf_contract_note("GET", "/api/v1/stream", &refused); /* read with curl, not cf_http */
    stream_open(&other, &b, 2);
    stream_join(&other);
    assert_int_equal(other.status, 200);
    assert_non_null(strstr(other.text, "event: ready"));
    stream_join(&s1);
    stream_join(&s2);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deactivated_worker_is_revoked),
        cmocka_unit_test(test_device_revoke_and_list),
        cmocka_unit_test(test_stream_scoped_to_provider),
        cmocka_unit_test(test_stream_cap_per_user),
    };
    int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
    curl_global_cleanup();
    return rc;
}
