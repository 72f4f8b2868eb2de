/* Integration test of the manager review API (issue 6) against a real carefactd and
 * a private PostgreSQL: live visits (elapsed vs norm, overdue, abandoned), the
 * exception queue with its filters, and resolving (must_fix / acknowledge for a
 * visit, confirm for a pending card binding, which makes it active), each resolution
 * once and in the audit log. The visits are seeded as rows, as the rebuild leaves
 * them. */
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
#include <libpq-fe.h>

#include "api_check.h"
#include "harness.h"

#define PROVIDER "00000000-0000-4000-8000-000000000002"
#define OTHER_PROVIDER "00000000-0000-4000-8000-000000000003"
#define WORKER "20212223-2425-2627-2829-2a2b2c2d2e2f"
#define RECIPIENT "30313233-3435-3637-3839-3a3b3c3d3e3f"
#define V_LIVE "41000000-0000-4000-8000-000000000001"
#define V_OVERDUE "41000000-0000-4000-8000-000000000002"
#define V_ABANDONED "41000000-0000-4000-8000-000000000003"
#define V_EARLY "41000000-0000-4000-8000-000000000004"
#define V_LOW "41000000-0000-4000-8000-000000000005"
#define V_OTHER "41000000-0000-4000-8000-000000000006"
#define BINDING "51000000-0000-4000-8000-000000000001"

static struct cf_harness harness;

static const char seed_sql[] =
    "INSERT INTO regions VALUES ('00000000-0000-4000-8000-000000000001', 'Тестовая область', "
    "  decode(repeat('ab', 32), 'hex'));"
    "INSERT INTO providers VALUES ('" PROVIDER "', '00000000-0000-4000-8000-000000000001', "
    "  'КЦСОН Тестовый'), ('" OTHER_PROVIDER "', '00000000-0000-4000-8000-000000000001', "
    "  'КЦСОН Другой');"
    "INSERT INTO workers VALUES ('" WORKER "', '" PROVIDER "', 'Иванова Анна');"
    "INSERT INTO recipients (id, provider_id, full_name) VALUES ('" RECIPIENT "', "
    "  '" PROVIDER "', 'Петров Пётр Петрович');"
    "INSERT INTO card_bindings (id, recipient_id, token, method, scheme, last4, status) VALUES "
    "  ('" BINDING "', '" RECIPIENT "', 'AAECAwQFBgcICQoLDA0ODw', 'emv', 'mir', '5678', "
    "  'pending');"
    /* a card confirms only while the recipient holds a certificate (sql/0010) */
    "INSERT INTO certificates (id, recipient_id, number, valid_from, valid_to) VALUES "
    "  ('32000000-0000-4000-8000-000000000001', '" RECIPIENT "', 'ИППСУ-1', '2020-01-01', "
    "   '2099-12-31');"
    /* started 10 min ago of 30: live, neither overdue nor abandoned */
    "INSERT INTO visits (id, provider_id, worker_id, recipient_id, state, started_at, sort_at, "
    "  expected_minutes, start_confirmed) VALUES "
    "  ('" V_LIVE "', '" PROVIDER "', '" WORKER "', '" RECIPIENT "', 'started', "
    "   now() - interval '10 minutes', now() - interval '10 minutes', 30, true),"
    /* started 2 h ago of 30 min (ratio 1.5 = 45 min): overdue */
    "  ('" V_OVERDUE "', '" PROVIDER "', '" WORKER "', '" RECIPIENT "', 'started', "
    "   now() - interval '2 hours', now() - interval '2 hours', 30, true),"
    /* started 13 h ago (threshold 12 h): abandoned */
    "  ('" V_ABANDONED "', '" PROVIDER "', '" WORKER "', '" RECIPIENT "', 'started', "
    "   now() - interval '13 hours', now() - interval '13 hours', 30, true);"
    "INSERT INTO visits (id, provider_id, worker_id, recipient_id, state, started_at, ended_at, "
    "  sort_at, duration_s, expected_minutes, start_confirmed, end_confirmed, rating, flags) "
    "  VALUES ('" V_EARLY "', '" PROVIDER "', '" WORKER "', '" RECIPIENT "', 'ended', "
    "   now() - interval '1 day', now() - interval '1 day' + interval '5 minutes', "
    "   now() - interval '1 day', 300, 30, true, true, NULL, '{early_leave}'),"
    "  ('" V_LOW "', '" PROVIDER "', '" WORKER "', '" RECIPIENT "', 'rated', "
    "   now() - interval '2 days', now() - interval '2 days' + interval '30 minutes', "
    "   now() - interval '2 days', 1800, 30, true, true, 1, '{low_rating}');"
    "INSERT INTO workers VALUES ('22000000-0000-4000-8000-000000000001', '" OTHER_PROVIDER "', "
    "  'Смирнова Ольга');"
    "INSERT INTO visits (id, provider_id, worker_id, state, started_at, ended_at, sort_at, "
    "  duration_s, expected_minutes, flags) VALUES ('" V_OTHER "', '" OTHER_PROVIDER "', "
    "  '22000000-0000-4000-8000-000000000001', 'ended', now() - interval '3 days', "
    "  now() - interval '3 days', now() - interval '3 days', 60, 30, '{card_mismatch}');";

static int group_setup(void **state)
{
    (void)state;
    /* The review routes are for signed-in people: the harness signs in as an authority,
     * who is then the person recorded as resolving exceptions. */
    if (cf_harness_start(&harness, NULL) || cf_harness_sql(&harness, seed_sql) ||
        cf_harness_as_authority(&harness))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cf_harness_stop(&harness);
    return 0;
}

static const cJSON *find_item(const cJSON *list, const char *id)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(list, "items"))
    {
        if (strcmp(cf_json_str(item, "id"), id) == 0)
            return item;
    }
    return NULL;
}

static int count_items(const cJSON *list)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(list, "items"));
}

static void test_live(void **state)
{
    (void)state;
    cJSON *live = cf_api_json(&harness, "GET", "/api/v1/live?provider=" PROVIDER, NULL, 200);
    assert_int_equal(count_items(live), 3); /* the ended ones are not live */
    const cJSON *v = find_item(live, V_LIVE);
    assert_non_null(v);
    assert_true(cf_json_num(v, "elapsed_s") >= 600 && cf_json_num(v, "elapsed_s") < 900);
    assert_int_equal((int)cf_json_num(v, "expected_minutes"), 30);
    assert_false(cf_json_true(v, "overdue"));
    assert_false(cf_json_true(v, "abandoned"));
    assert_string_equal(cf_json_str(v, "worker_name"), "Иванова Анна");
    v = find_item(live, V_OVERDUE);
    assert_true(cf_json_true(v, "overdue"));
    assert_false(cf_json_true(v, "abandoned"));
    v = find_item(live, V_ABANDONED);
    assert_true(cf_json_true(v, "abandoned"));
    /* longest running first */
    assert_string_equal(
        cf_json_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(live, "items"), 0), "id"),
        V_ABANDONED);
    cJSON_Delete(live);
    live = cf_api_json(&harness, "GET", "/api/v1/live?provider=" OTHER_PROVIDER, NULL, 200);
    assert_int_equal(count_items(live), 0);
    cJSON_Delete(live);
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/live?provider=nope", NULL, 400),
                          "validation", "provider");
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/live?worker=" WORKER, NULL, 400),
                          "validation", NULL);
}

static void test_exception_queue(void **state)
{
    (void)state;
    cJSON *q = cf_api_json(&harness, "GET", "/api/v1/exceptions?provider=" PROVIDER, NULL, 200);
    /* early leave, low rating, abandoned, pending card: not the other provider's mismatch */
    assert_int_equal(count_items(q), 4);
    const cJSON *e = find_item(q, "early_leave." V_EARLY);
    assert_non_null(e);
    assert_string_equal(cf_json_str(e, "status"), "open");
    assert_int_equal((int)cf_json_num(cJSON_GetObjectItemCaseSensitive(e, "detail"), "duration_s"),
                     300);
    e = find_item(q, "low_rating." V_LOW);
    assert_int_equal((int)cf_json_num(cJSON_GetObjectItemCaseSensitive(e, "detail"), "rating"), 1);
    assert_non_null(find_item(q, "abandoned." V_ABANDONED));
    e = find_item(q, "card_binding." BINDING);
    assert_non_null(e);
    assert_string_equal(cf_json_str(cJSON_GetObjectItemCaseSensitive(e, "detail"), "last4"),
                        "5678");
    assert_null(find_item(q, "abandoned." V_OVERDUE)); /* 2 h is not abandoned */
    cJSON_Delete(q);

    q = cf_api_json(&harness, "GET", "/api/v1/exceptions?kind=card_mismatch", NULL, 200);
    assert_int_equal(count_items(q), 1);
    assert_non_null(find_item(q, "card_mismatch." V_OTHER));
    cJSON_Delete(q);
    q = cf_api_json(&harness, "GET", "/api/v1/exceptions", NULL, 200);
    assert_int_equal(count_items(q), 5);
    cJSON_Delete(q);

    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/exceptions?kind=late", NULL, 400),
                          "validation", "kind");
    cf_api_expect_problem(
        cf_api_json(&harness, "GET", "/api/v1/exceptions?status=closed", NULL, 400), "validation",
        "status");
    cf_api_expect_problem(
        cf_api_json(&harness, "GET", "/api/v1/exceptions?kind=a&kind=b", NULL, 400), "validation",
        "kind");
}

static void test_resolve(void **state)
{
    (void)state;
    /* bad input: never a 500, never a change */
    /* who resolves is the signed-in person, never a name in the body */
    cf_api_expect_problem(cf_api_json(&harness, "POST",
                                      "/api/v1/exceptions/early_leave." V_EARLY "/resolve",
                                      "{\"action\":\"must_fix\",\"resolved_by\":\"Кто-то\"}", 422),
                          "validation", "resolved_by");
    cf_api_expect_problem(cf_api_json(&harness, "POST",
                                      "/api/v1/exceptions/early_leave." V_EARLY "/resolve",
                                      "{\"action\":\"confirm\"}", 422),
                          "validation", "action");
    cf_api_expect_problem(cf_api_json(&harness, "POST",
                                      "/api/v1/exceptions/early_leave." V_EARLY "/resolve",
                                      "{\"action\":\"must_fix\",\"who\":1}", 422),
                          "validation", "who");
    cf_api_expect_problem(cf_api_json(&harness, "POST",
                                      "/api/v1/exceptions/early_leave." V_EARLY "/resolve",
                                      "{not json", 400),
                          "malformed-json", NULL);
    cf_api_expect_problem(cf_api_json(&harness, "POST",
                                      "/api/v1/exceptions/early_leave." V_LOW "/resolve",
                                      "{\"action\":\"must_fix\"}", 404),
                          "not-found", NULL);
    cf_api_expect_problem(cf_api_json(&harness, "POST", "/api/v1/exceptions/nonsense/resolve",
                                      "{\"action\":\"must_fix\"}", 404),
                          "not-found", NULL);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM audit_log WHERE action = "
                                                   "'exception.resolve'"),
                     0);

    cJSON *e =
        cf_api_json(&harness, "POST", "/api/v1/exceptions/early_leave." V_EARLY "/resolve",
                    "{\"action\":\"must_fix\",\"note\":\"Визит 5 минут при норме 30\"}", 200);
    assert_string_equal(cf_json_str(e, "status"), "resolved");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "resolution");
    assert_string_equal(cf_json_str(r, "action"), "must_fix");
    assert_string_equal(cf_json_str(r, "resolved_by"), "harness-authority");
    cJSON_Delete(e);
    cf_api_expect_problem(cf_api_json(&harness, "POST",
                                      "/api/v1/exceptions/early_leave." V_EARLY "/resolve",
                                      "{\"action\":\"acknowledge\"}", 409),
                          "already-resolved", NULL);

    /* the queue: no longer open, listed as resolved */
    cJSON *q = cf_api_json(&harness, "GET", "/api/v1/exceptions?provider=" PROVIDER, NULL, 200);
    assert_null(find_item(q, "early_leave." V_EARLY));
    cJSON_Delete(q);
    q = cf_api_json(&harness, "GET", "/api/v1/exceptions?status=resolved", NULL, 200);
    assert_int_equal(count_items(q), 1);
    assert_non_null(find_item(q, "early_leave." V_EARLY));
    cJSON_Delete(q);

    /* a pending card: confirming makes it active */
    e = cf_api_json(&harness, "POST", "/api/v1/exceptions/card_binding." BINDING "/resolve",
                    "{\"action\":\"confirm\"}", 200);
    cJSON_Delete(e);
    char *status =
        cf_harness_sql_value(&harness, "SELECT status FROM card_bindings WHERE id = '" BINDING "'");
    assert_string_equal(status, "active");
    free(status);
    q = cf_api_json(&harness, "GET", "/api/v1/exceptions?kind=card_binding&status=all", NULL, 200);
    assert_int_equal(count_items(q), 1);
    assert_string_equal(cf_json_str(find_item(q, "card_binding." BINDING), "status"), "resolved");
    cJSON_Delete(q);

    /* the audit log has who, what and why, and cannot be changed */
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM audit_log WHERE action = "
                                                   "'exception.resolve'"),
                     2);
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT count(*) FROM audit_log WHERE actor = "
                                         "'authority:harness-authority' AND subject = "
                                         "'early_leave." V_EARLY "' AND reason = 'Визит 5 минут "
                                         "при норме 30' AND details->>'action' = 'must_fix'"),
                     1);
    assert_int_not_equal(cf_harness_sql(&harness, "DELETE FROM audit_log"), 0);
}

/* A manager sees their own provider only, by the handlers' own filter as well as by
 * row-level security: a filter naming another provider is a 403, another provider's
 * exception a 404. */
/* A manager sees their own provider only, twice over: the handlers scope by provider in
 * C (a filter naming another provider is 403, another provider's exception 404), and
 * row-level security alone, as the role carefactd serves as, shows none of another
 * provider's visits or resolutions (so a missed scope in C still shows nothing). */
static long app_count(const char *scope, const char *sql)
{
    PGconn *db = PQconnectdb(harness.app_conninfo);
    assert_int_equal(PQstatus(db), CONNECTION_OK);
    const char *params[1] = {scope};
    PGresult *res = PQexecParams(db, "SELECT set_config('carefact.provider', $1, false)", 1, NULL,
                                 params, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    res = PQexec(db, sql);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    char *end = NULL;
    long n = strtol(PQgetvalue(res, 0, 0), &end, 10);
    assert_true(end && *end == '\0' && end != PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(db);
    return n;
}

static void test_manager_scope(void **state)
{
    (void)state;
    static struct cf_session manager;
    const struct cf_session *authority = harness.session;
    assert_int_equal(cf_harness_account(&harness, "review-manager", "manager", PROVIDER, NULL,
                                        "review-manager-password"),
                     0);
    assert_int_equal(
        cf_harness_login(&harness, "review-manager", "review-manager-password", &manager), 0);
    harness.session = &manager;
    cJSON *live = cf_api_json(&harness, "GET", "/api/v1/live", NULL, 200);
    assert_int_equal(count_items(live), 3);
    cJSON_Delete(live);
    cf_api_expect_problem(
        cf_api_json(&harness, "GET", "/api/v1/live?provider=" OTHER_PROVIDER, NULL, 403),
        "forbidden", "provider");
    cf_api_expect_problem(
        cf_api_json(&harness, "GET", "/api/v1/exceptions?provider=" OTHER_PROVIDER, NULL, 403),
        "forbidden", "provider");
    cJSON *q = cf_api_json(&harness, "GET", "/api/v1/exceptions?status=all", NULL, 200);
    assert_int_equal(count_items(q), 4);
    assert_null(find_item(q, "card_mismatch." V_OTHER));
    cJSON_Delete(q);
    cJSON_Delete(cf_api_json(&harness, "GET", "/api/v1/live?provider=" PROVIDER, NULL, 200));
    cf_api_expect_problem(cf_api_json(&harness, "POST",
                                      "/api/v1/exceptions/card_mismatch." V_OTHER "/resolve",
                                      "{\"action\":\"acknowledge\"}", 404),
                          "not-found", NULL);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM exception_resolutions "
                                                   "WHERE subject_id = '" V_OTHER "'"),
                     0);
    harness.session = authority;
    /* the database layer on its own */
    assert_int_equal(app_count(PROVIDER, "SELECT count(*) FROM visits WHERE id = '" V_OTHER "'"),
                     0);
    assert_int_equal(app_count("*", "SELECT count(*) FROM visits WHERE id = '" V_OTHER "'"), 1);
    assert_int_equal(
        app_count(PROVIDER, "SELECT count(*) FROM visits WHERE provider_id = '" OTHER_PROVIDER "'"),
        0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live),
        cmocka_unit_test(test_exception_queue),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_manager_scope),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
