/* Integration test of the applications' exchange with the central system (issue 20, with
 * issue 15) against a real carefactd and a private PostgreSQL: an export takes the
 * region's decided applications not yet exported, once (concurrent exports never take
 * one twice), its document can be fetched again, the central system's answer is recorded
 * once (a retry is harmless, a different answer refused), each step is journalled; and
 * applications in the change feed, scoped like the applications themselves. (The answer
 * in a webhook's reply: integration.backend.webhooks.) */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "api_check.h"
#include "harness.h"

#define REGION "00000000-0000-4000-8000-000000000001"
#define REGION_B "00000000-0000-4000-8000-0000000000f1"
#define PROVIDER "00000000-0000-4000-8000-000000000002"
#define OFFICE_A "0f000000-0000-4000-8000-00000000000a"
#define BACK "0f000000-0000-4000-8000-0000000000bb"
#define BACK_B "0f000000-0000-4000-8000-0000000000fb"
#define PASSWORD "correct horse battery"

static struct cf_harness harness;
static struct cf_session caseworker, caseworker_b, intake, admin, authority, manager;

static const char seed_sql[] =
    "INSERT INTO regions VALUES ('" REGION "', 'Тестовая область', decode(repeat('ab', 32), "
    "  'hex')), ('" REGION_B "', 'Другая область', decode(repeat('cd', 32), 'hex'));"
    "INSERT INTO providers VALUES ('" PROVIDER "', '" REGION "', 'КЦСОН Тестовый');"
    "INSERT INTO offices (id, region_id, kind, name) VALUES "
    "  ('" OFFICE_A "', '" REGION "', 'mfc', 'МФЦ Центральный'),"
    "  ('" BACK "', '" REGION "', 'back_office', 'Департамент'),"
    "  ('" BACK_B "', '" REGION_B "', 'back_office', 'Другой департамент');";

/* Application number 2026-8nnnnn of office in state, decided `order` seconds from now
 * when decided (the export's order), made in SQL: the exchange starts from a decision
 * (the way to one is integration.backend.applications'). */
static void application(int n, const char *office, const char *region, const char *state, int order)
{
    char decided_at[64] = "NULL", sql[1000];
    if (strcmp(state, "approved") == 0 || strcmp(state, "refused") == 0)
        snprintf(decided_at, sizeof decided_at, "now() + interval '%d seconds'", order);
    snprintf(sql, sizeof sql,
             "INSERT INTO applications (number, region_id, office_id, channel, applicant_name, "
             "applicant_birth, applicant_address, category, purpose, consent_at, state, "
             "code_hash, submitted_at, decided_at, reason, created_by) VALUES "
             "('2026-8%05d', '%s', '%s', 'office', 'Заявитель %d', '1940-01-01', "
             "'д. Луговая, %d', 'elderly', 'home_care', now(), '%s', sha256('%d'), now(), "
             "%s, '%s', 'test')",
             n, region, office, n, n, state, n, decided_at,
             strcmp(state, "refused") == 0 ? "не наш случай" : "");
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
}

static char *id_of(int n)
{
    char sql[120];
    snprintf(sql, sizeof sql, "SELECT id FROM applications WHERE number = '2026-8%05d'", n);
    char *id = cf_harness_sql_value(&harness, sql);
    assert_non_null(id);
    assert_int_equal(strlen(id), 36);
    return id;
}

static cJSON *as(struct cf_session *who, const char *method, const char *path, const char *body,
                 long want)
{
    harness.session = who;
    cJSON *out = cf_api_json(&harness, method, path, body, want);
    harness.session = NULL;
    return out;
}

static int group_setup(void **state)
{
    (void)state;
    if (cf_harness_start(&harness, NULL) || cf_harness_sql(&harness, seed_sql) ||
        cf_harness_staff_account(&harness, "x-caseworker", "caseworker", BACK, PASSWORD) ||
        cf_harness_staff_account(&harness, "x-caseworker-b", "caseworker", BACK_B, PASSWORD) ||
        cf_harness_staff_account(&harness, "x-intake", "intake", OFFICE_A, PASSWORD) ||
        cf_harness_account(&harness, "x-admin", "admin", NULL, NULL, PASSWORD) ||
        cf_harness_account(&harness, "x-authority", "authority", NULL, NULL, PASSWORD) ||
        cf_harness_account(&harness, "x-manager", "manager", PROVIDER, NULL, PASSWORD) ||
        cf_harness_login(&harness, "x-caseworker", PASSWORD, &caseworker) ||
        cf_harness_login(&harness, "x-caseworker-b", PASSWORD, &caseworker_b) ||
        cf_harness_login(&harness, "x-intake", PASSWORD, &intake) ||
        cf_harness_login(&harness, "x-admin", PASSWORD, &admin) ||
        cf_harness_login(&harness, "x-authority", PASSWORD, &authority) ||
        cf_harness_login(&harness, "x-manager", PASSWORD, &manager))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cf_harness_stop(&harness);
    return 0;
}

static const cJSON *exchange_of(const cJSON *application)
{
    return cJSON_GetObjectItem(application, "exchange");
}

static void answer(const char *id, const char *body, long want, const char *problem,
                   const char *field)
{
    char path[120];
    snprintf(path, sizeof path, "/api/v1/applications/%s/answer", id);
    cJSON *res = as(&caseworker, "POST", path, body, want);
    if (problem)
        cf_api_expect_problem(res, problem, field);
    else
        cJSON_Delete(res);
}

static void test_export_and_answer(void **state)
{
    (void)state;
    /* region A: two approved, one refused (decided in the order 2, 1, 3), one still in
     * assessment, one of the front office decided; region B: one approved */
    application(1, OFFICE_A, REGION, "approved", 20);
    application(2, BACK, REGION, "approved", 10);
    application(3, BACK, REGION, "refused", 30);
    application(4, BACK, REGION, "assessment", 0);
    application(5, BACK_B, REGION_B, "approved", 5);

    /* Who may. */
    cf_api_expect_problem(as(&intake, "POST", "/api/v1/application-exports", "{}", 403),
                          "forbidden", NULL);
    cf_api_expect_problem(as(&authority, "POST", "/api/v1/application-exports", "{}", 403),
                          "forbidden", NULL);
    cf_api_expect_problem(as(&admin, "POST", "/api/v1/application-exports", "{}", 422),
                          "validation", "region_id");
    cf_api_expect_problem(as(&caseworker, "POST", "/api/v1/application-exports",
                             "{\"region_id\":\"" REGION_B "\"}", 403),
                          "forbidden", "region_id");
    cf_api_expect_problem(
        as(&caseworker, "POST", "/api/v1/application-exports", "{\"limit\":0}", 422), "validation",
        "limit");

    /* The export: region A's three decisions, oldest decision first, and nothing else. */
    cJSON *doc = as(&caseworker, "POST", "/api/v1/application-exports", "{}", 201);
    char export_id[40];
    snprintf(export_id, sizeof export_id, "%s", cf_json_str(doc, "id"));
    assert_int_equal(cf_json_long(doc, "application_count"), 3);
    const cJSON *apps = cJSON_GetObjectItem(doc, "applications");
    assert_int_equal(cJSON_GetArraySize(apps), 3);
    static const char *const order[] = {"2026-800002", "2026-800001", "2026-800003"};
    for (int i = 0; i < 3; i++) {
        const cJSON *a = cJSON_GetArrayItem(apps, i);
        assert_string_equal(cf_json_str(a, "number"), order[i]);
        assert_string_equal(cf_json_str(exchange_of(a), "state"), "exported");
        assert_string_equal(cf_json_str(exchange_of(a), "export_id"), export_id);
        assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(a, "applicant"), "name"));
    }
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(apps, 2), "decision"), "refused");
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(apps, 2), "reason"), "не наш случай");
    cJSON_Delete(doc);

    /* Nothing waits now; the document can be fetched again, by oversight too, not by
     * another region's back office. */
    cf_api_expect_problem(as(&caseworker, "POST", "/api/v1/application-exports", "{}", 409),
                          "nothing-to-export", NULL);
    char path[160];
    snprintf(path, sizeof path, "/api/v1/application-exports/%s", export_id);
    doc = as(&authority, "GET", path, NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "applications")), 3);
    cJSON_Delete(doc);
    cf_api_expect_problem(as(&caseworker_b, "GET", path, NULL, 404), "not-found", NULL);
    cf_api_expect_problem(
        as(&caseworker, "GET", "/api/v1/application-exports/not-an-id", NULL, 404), "not-found",
        NULL);
    cJSON *list = as(&caseworker_b, "GET", "/api/v1/application-exports", NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(list, "items")), 0);
    cJSON_Delete(list);

    /* Answers. */
    char *id1 = id_of(1), *id3 = id_of(3), *id4 = id_of(4), *id5 = id_of(5);
    answer(id4, "{\"outcome\":\"accepted\"}", 409, "not-exported", NULL);
    answer(id5, "{\"outcome\":\"accepted\"}", 404, "not-found", NULL);
    answer(id3, "{\"outcome\":\"rejected\"}", 422, "validation", "note");
    answer(id3, "{\"outcome\":\"maybe\"}", 422, "validation", "outcome");
    answer(id1, "{\"outcome\":\"accepted\",\"reference\":\"ЦР-77\",\"extra\":1}", 422, "validation",
           "extra");
    snprintf(path, sizeof path, "/api/v1/applications/%s/answer", id1);
    const char accepted[] = "{\"outcome\":\"accepted\",\"reference\":\" ЦР-77 \"}";
    cJSON *got = as(&caseworker, "POST", path, accepted, 200);
    assert_string_equal(cf_json_str(exchange_of(got), "state"), "answer_received");
    const cJSON *ans = cJSON_GetObjectItem(exchange_of(got), "answer");
    assert_string_equal(cf_json_str(ans, "reference"), "ЦР-77");
    assert_string_equal(cf_json_str(ans, "via"), "api");
    cJSON_Delete(got);
    /* a retry of the same answer changes nothing; a different one is refused */
    cJSON_Delete(as(&caseworker, "POST", path, accepted, 200));
    answer(id1, "{\"outcome\":\"rejected\",\"note\":\"передумали\"}", 409, "answered-before", NULL);
    answer(id3, "{\"outcome\":\"rejected\",\"note\":\"нет в регистре\"}", 200, NULL, NULL);

    /* The application shows it; the journal reads decision → exported → answer. */
    snprintf(path, sizeof path, "/api/v1/applications/%s", id1);
    got = as(&caseworker, "GET", path, NULL, 200);
    const cJSON *a = cJSON_GetObjectItem(got, "application");
    assert_string_equal(cf_json_str(a, "state"), "approved"); /* the decision stands */
    assert_string_equal(cf_json_str(exchange_of(a), "state"), "answer_received");
    const cJSON *journal = cJSON_GetObjectItem(got, "journal");
    int n = cJSON_GetArraySize(journal);
    assert_true(n >= 2);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(journal, n - 2), "to"), "exported");
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(journal, n - 1), "to"), "answer_received");
    cJSON_Delete(got);
    list = as(&caseworker, "GET", "/api/v1/application-exports", NULL, 200);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(list, "items"), 0);
    assert_int_equal(cf_json_long(first, "application_count"), 3);
    assert_int_equal(cf_json_long(first, "answered_count"), 2);
    cJSON_Delete(list);
    /* audited */
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM audit_log WHERE action "
                                                   "IN ('application.export', "
                                                   "'application.answer')"),
                     3);
    free(id1);
    free(id3);
    free(id4);
    free(id5);
}

/* ==== Concurrent exports ==== */

#define RACERS 4
#define WAITING 40

struct racer {
    struct cf_session *who;
    long taken;
    long status;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct cf_harness mine = harness; /* its own copy: the session pointer is per thread */
    mine.session = r->who;
    struct cf_http_reply reply = {0};
    static const char body[] = "{\"limit\":15}";
    if (cf_http(&mine, "POST", "/api/v1/application-exports", body, sizeof body - 1, &reply) == 0) {
        r->status = reply.status;
        cJSON *doc = reply.status == 201 ? cJSON_Parse(reply.body) : NULL;
        r->taken = doc ? cf_json_long(doc, "application_count") : 0;
        cJSON_Delete(doc);
    }
    cf_http_reply_cleanup(&reply);
    return NULL;
}

/* Four exports at once over forty waiting decisions: each decision in exactly one. */
static void test_concurrent_exports_take_each_once(void **state)
{
    (void)state;
    for (int i = 0; i < WAITING; i++)
        application(100 + i, BACK, REGION, i % 3 ? "approved" : "refused", i);
    struct racer racers[RACERS];
    pthread_t threads[RACERS];
    for (int i = 0; i < RACERS; i++) {
        racers[i] = (struct racer){.who = &caseworker};
        assert_int_equal(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
    }
    long taken = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(threads[i], NULL);
        assert_true(racers[i].status == 201 || racers[i].status == 409);
        taken += racers[i].taken;
    }
    /* 15 + 15 + 10, or fewer each and the rest for one more export */
    cJSON *rest = as(&caseworker, "POST", "/api/v1/application-exports", "{\"limit\":1000}",
                     taken == WAITING ? 409 : 201);
    if (taken < WAITING)
        taken += cf_json_long(rest, "application_count");
    cJSON_Delete(rest);
    assert_int_equal(taken, WAITING);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM applications WHERE "
                                                   "number >= '2026-800100' AND export_id IS NULL"),
                     0);
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT count(*) FROM application_journal j JOIN "
                                         "applications a ON a.id = j.application_id WHERE "
                                         "a.number >= '2026-800100' AND j.to_state = 'exported'"),
                     WAITING);
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT coalesce(sum(application_count), 0) FROM "
                                         "application_exports e WHERE EXISTS (SELECT 1 FROM "
                                         "applications a WHERE a.export_id = e.id AND a.number >= "
                                         "'2026-800100')"),
                     WAITING);
}

/* ==== The change feed ==== */

static bool feed_has(cJSON *page, const char *kind, const char *number, const char *exchange)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(page, "changes"))
    {
        const cJSON *data = cJSON_GetObjectItem(c, "data");
        if (strcmp(cf_json_str(c, "kind"), kind) != 0 ||
            (number && strcmp(cf_json_str(data, "number"), number) != 0))
            continue;
        const cJSON *ex = cJSON_GetObjectItem(data, "exchange");
        if (!exchange || (cJSON_IsString(ex) && strcmp(ex->valuestring, exchange) == 0))
            return true;
    }
    return false;
}

/* Applications are in the feed, scoped like the applications: oversight sees every one,
 * the back office its region's, a provider's manager none. No personal data in it. */
static void test_feed(void **state)
{
    (void)state;
    cJSON *all = as(&authority, "GET", "/api/v1/changes?limit=1000", NULL, 200);
    assert_true(feed_has(all, "application.changed", "2026-800001", "answer_received"));
    assert_true(feed_has(all, "application.changed", "2026-800001", "exported"));
    assert_true(feed_has(all, "application.changed", "2026-800005", NULL));
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(all, "changes"))
    {
        if (strcmp(cf_json_str(c, "kind"), "application.changed") != 0)
            continue;
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(c, "provider_id")));
        char *text = cJSON_PrintUnformatted(c);
        assert_null(strstr(text, "Заявитель")); /* the applicant's name never */
        assert_null(strstr(text, "Луговая"));
        free(text);
    }
    cJSON_Delete(all);
    cJSON *mine = as(&caseworker, "GET", "/api/v1/changes?limit=1000", NULL, 200);
    assert_true(feed_has(mine, "application.changed", "2026-800001", NULL));
    assert_false(feed_has(mine, "application.changed", "2026-800005", NULL));
    cJSON_Delete(mine);
    cJSON *theirs = as(&manager, "GET", "/api/v1/changes?limit=1000", NULL, 200);
    assert_false(feed_has(theirs, "application.changed", NULL, NULL));
    cJSON_Delete(theirs);
    cf_api_expect_problem(as(&intake, "GET", "/api/v1/changes", NULL, 403), "forbidden", NULL);
}

/* Bodies that are not what the routes read: not JSON, not declared JSON, too large. */
static void test_bad_bodies(void **state)
{
    (void)state;
    char *id = id_of(2), path[120];
    snprintf(path, sizeof path, "/api/v1/applications/%s/answer", id);
    free(id);
    const char *const routes[] = {"/api/v1/application-exports", path};
    static const char *const plain[] = {"Content-Type: text/plain", NULL};
    size_t big = 40 * 1024;
    char *large = malloc(big + 1);
    assert_non_null(large);
    memset(large, ' ', big);
    large[0] = '{';
    large[big - 1] = '}';
    large[big] = '\0';
    for (int i = 0; i < 2; i++) {
        cf_api_expect_problem(as(&caseworker, "POST", routes[i], "{\"limit\":", 400),
                              "malformed-json", NULL);
        harness.session = &caseworker;
        struct cf_http_reply reply = {0};
        assert_int_equal(cf_http_with(&harness, "POST", routes[i], "{}", 2, plain, &reply), 0);
        assert_int_equal(reply.status, 415);
        cf_http_reply_cleanup(&reply);
        assert_int_equal(cf_http(&harness, "POST", routes[i], large, big, &reply), 0);
        assert_int_equal(reply.status, 413);
        cf_http_reply_cleanup(&reply);
        harness.session = NULL;
    }
    free(large);
    cf_api_expect_problem(as(NULL, "GET", "/api/v1/application-exports", NULL, 401),
                          "unauthenticated", NULL);
    cf_api_expect_problem(as(&intake, "GET", "/api/v1/application-exports", NULL, 403), "forbidden",
                          NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_and_answer),
        cmocka_unit_test(test_concurrent_exports_take_each_once),
        cmocka_unit_test(test_feed),
        cmocka_unit_test(test_bad_bodies),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
