/* Integration test of visit corrections and the recipient's statement (issue 6)
 * against a real carefactd and a private PostgreSQL. One visit comes from a real
 * enrolled device (signed events: the facts), the others are seeded as rows, as the
 * rebuild leaves them. Checked: strict validation with the culprit field; 201 with
 * the stored row and previous values; the history oldest first; the visit and the
 * list showing the effective services and the disputed mark while the events keep
 * their digests; append-only for carefactd's role; scope (another provider 404, a
 * worker 403 / own visits only); the audit log; the statement in the local month
 * with the corrections in plain terms; and must-fix closed by a correction. */
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
#include "sample_events.h"
#include "terminal.h"

#define PROVIDER "00000000-0000-4000-8000-000000000002"
#define OTHER_PROVIDER "00000000-0000-4000-8000-000000000003"
#define WORKER "20212223-2425-2627-2829-2a2b2c2d2e2f"
#define WORKER2 "21000000-0000-4000-8000-000000000002"
#define OTHER_WORKER "22000000-0000-4000-8000-000000000001"
#define RECIPIENT "30313233-3435-3637-3839-3a3b3c3d3e3f"
#define OTHER_RECIPIENT "32000000-0000-4000-8000-000000000001"
#define VISIT "40414243-4445-4647-4849-4a4b4c4d4e4f" /* from the device */
#define V_EARLY "41000000-0000-4000-8000-000000000004"
#define V_WORKER2 "41000000-0000-4000-8000-000000000007"
#define V_DECEMBER "41000000-0000-4000-8000-000000000008"
#define V_OTHER "41000000-0000-4000-8000-000000000006"
#define PLAN "61000000-0000-4000-8000-000000000001"
#define PASSWORD "correct horse battery"

static struct cf_harness harness;
static struct cf_session manager, other_manager, worker;
static const struct cf_session *authority;
static char *events_before; /* the visit's events as first served */

static const char seed_sql[] =
    "INSERT INTO regions VALUES ('00000000-0000-4000-8000-000000000001', 'Тестовая область', "
    "  decode(repeat('ab', 32), 'hex'));"
    "INSERT INTO providers VALUES ('" PROVIDER "', '00000000-0000-4000-8000-000000000001', "
    "  'КЦСОН Тестовый'), ('" OTHER_PROVIDER "', '00000000-0000-4000-8000-000000000001', "
    "  'КЦСОН Другой');"
    "INSERT INTO workers VALUES ('" WORKER "', '" PROVIDER "', 'Иванова Анна'), "
    "  ('" WORKER2 "', '" PROVIDER "', 'Сидорова Мария'), "
    "  ('" OTHER_WORKER "', '" OTHER_PROVIDER "', 'Смирнова Ольга');"
    "INSERT INTO recipients (id, provider_id, full_name) VALUES ('" RECIPIENT "', "
    "  '" PROVIDER "', 'Петров Пётр Петрович'), ('" OTHER_RECIPIENT "', '" OTHER_PROVIDER "', "
    "  'Кузнецова Вера');"
    "INSERT INTO card_bindings (recipient_id, token, method, scheme, last4, status) VALUES "
    "  ('" RECIPIENT "', 'AAECAwQFBgcICQoLDA0ODw', 'emv', 'mir', '5678', 'active');"
    /* a card confirms only while the recipient holds a certificate (sql/0010) */
    "INSERT INTO certificates (id, recipient_id, number, valid_from, valid_to) VALUES "
    "  ('32000000-0000-4000-8000-000000000001', '" RECIPIENT "', 'ИППСУ-1', '2020-01-01', "
    "   '2099-12-31');"
    "INSERT INTO services VALUES ('HH-01', 'Уборка жилого помещения', 'household', 'home', 30, "
    "  25000), ('MED.02', 'Измерение давления', 'medical', 'home', 15, 9000), "
    "  ('SOC.03', 'Покупка продуктов', 'household', 'home', 20, 12000);"
    /* 2026-10-31T21:30Z is 1 November 00:30 in Moscow: in the November statement */
    "INSERT INTO visits (id, provider_id, worker_id, recipient_id, state, started_at, ended_at, "
    "  sort_at, duration_s, expected_minutes, start_confirmed, end_confirmed, flags, "
    "  service_codes, service_quantities) VALUES "
    "  ('" V_EARLY "', '" PROVIDER "', '" WORKER "', '" RECIPIENT "', 'ended', "
    "   '2026-10-31T21:30:00Z', '2026-10-31T21:35:00Z', '2026-10-31T21:30:00Z', 300, 30, "
    "   true, true, '{early_leave}', '{HH-01}', '{1}'),"
    "  ('" V_WORKER2 "', '" PROVIDER "', '" WORKER2 "', '" RECIPIENT "', 'ended', "
    "   '2026-11-10T08:00:00Z', '2026-11-10T08:30:00Z', '2026-11-10T08:00:00Z', 1800, 30, "
    "   true, false, '{}', '{HH-01}', '{1}'),"
    /* 2026-11-30T22:30Z is 1 December 01:30 in Moscow: not in November */
    "  ('" V_DECEMBER "', '" PROVIDER "', '" WORKER "', '" RECIPIENT "', 'ended', "
    "   '2026-11-30T22:30:00Z', '2026-11-30T23:00:00Z', '2026-11-30T22:30:00Z', 1800, 30, "
    "   true, true, '{}', '{HH-01}', '{1}'),"
    "  ('" V_OTHER "', '" OTHER_PROVIDER "', '" OTHER_WORKER "', '" OTHER_RECIPIENT "', "
    "   'ended', '2026-11-12T08:00:00Z', '2026-11-12T08:30:00Z', '2026-11-12T08:00:00Z', "
    "   1800, 30, true, true, '{}', '{HH-01}', '{1}');"
    "INSERT INTO visit_plans (id, provider_id, worker_id, recipient_id, planned_start, "
    "  service_codes) VALUES ('" PLAN "', '" PROVIDER "', '" WORKER "', '" RECIPIENT "', "
    "  '2026-11-25T08:00:00Z', '{HH-01}');";

/* ==== Helpers ==== */

static const cJSON *json_get(const cJSON *obj, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* The JSON of item as printed, to compare values ("[{...}]", "true"). */
static void expect_json(const cJSON *item, const char *want)
{
    char *text = cJSON_PrintUnformatted(item);
    assert_non_null(text);
    assert_string_equal(text, want);
    cJSON_free(text);
}

static void correct_refused(const char *visit, const char *body, long status, const char *type,
                            const char *field)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/visits/%s/corrections", visit);
    cf_api_expect_problem(cf_api_json(&harness, "POST", path, body, status), type, field);
}

static cJSON *correct(const char *visit, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/visits/%s/corrections", visit);
    return cf_api_json(&harness, "POST", path, body, 201);
}

static long corrections_stored(void)
{
    return cf_harness_sql_long(&harness, "SELECT count(*) FROM visit_corrections");
}

/* Enrol a terminal for WORKER and upload VISIT: started (card), ended after 50 min with
 * HH-01 x1 + MED.02 x2 (60 min expected), rated 5; 2026-11-22 09:00Z. */
static void upload_visit(void)
{
    struct cf_terminal terminal;
    struct cf_event ev[3];
    cf_terminal_enrol(&harness, WORKER, &terminal);
    sample_visit(ev, 50);
    cf_terminal_upload(&harness, &terminal, ev, 3);
}

static int group_setup(void **state)
{
    (void)state;
    if (cf_harness_start(&harness, NULL) || cf_harness_sql(&harness, seed_sql) ||
        cf_harness_as_authority(&harness) ||
        cf_harness_account(&harness, "mgr1", "manager", PROVIDER, NULL, PASSWORD) ||
        cf_harness_account(&harness, "mgr2", "manager", OTHER_PROVIDER, NULL, PASSWORD) ||
        cf_harness_account(&harness, "wrk1", "worker", PROVIDER, WORKER, PASSWORD) ||
        cf_harness_login(&harness, "mgr1", PASSWORD, &manager) ||
        cf_harness_login(&harness, "mgr2", PASSWORD, &other_manager) ||
        cf_harness_login(&harness, "wrk1", PASSWORD, &worker))
        return -1;
    authority = harness.session;
    upload_visit();
    cJSON *visit = cf_api_json(&harness, "GET", "/api/v1/visits/" VISIT, NULL, 200);
    events_before = cJSON_PrintUnformatted(json_get(visit, "events"));
    cJSON_Delete(visit);
    harness.session = &manager;
    return events_before ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    cJSON_free(events_before);
    cf_harness_stop(&harness);
    return 0;
}

/* ==== Tests ==== */

static void test_validation(void **state)
{
    (void)state;
    harness.session = &manager;
    const char *services = "\"field\":\"services\",\"reason\":\"Ошибка\",\"value\":";
    char body[16384];
    correct_refused(VISIT, "{\"field\":\"disputed\",\"value\":true,\"reason\":\"x\",\"by\":\"me\"}",
                    422, "validation", "by");
    correct_refused(VISIT, "{\"field\":\"rating\",\"value\":1,\"reason\":\"x\"}", 422, "validation",
                    "field");
    correct_refused(VISIT, "{\"value\":true,\"reason\":\"x\"}", 422, "validation", "field");
    correct_refused(VISIT, "{\"field\":\"disputed\",\"reason\":\"x\"}", 422, "validation", "value");
    correct_refused(VISIT, "{\"field\":\"disputed\",\"value\":\"yes\",\"reason\":\"x\"}", 422,
                    "validation", "value");
    correct_refused(VISIT, "{\"field\":\"disputed\",\"value\":true}", 422, "validation", "reason");
    correct_refused(VISIT, "{\"field\":\"disputed\",\"value\":true,\"reason\":\" \\t\\n\"}", 422,
                    "validation", "reason");
    correct_refused(VISIT, "{\"field\":\"disputed\",\"value\":true,\"reason\":7}", 422,
                    "validation", "reason");
    /* 2001 characters (4002 bytes) is one too many */
    int n = snprintf(body, sizeof body, "{\"field\":\"disputed\",\"value\":true,\"reason\":\"");
    for (int i = 0; i < 2001; i++)
        n += snprintf(body + n, sizeof body - (size_t)n, "ж");
    snprintf(body + n, sizeof body - (size_t)n, "\"}");
    correct_refused(VISIT, body, 422, "validation", "reason");

    snprintf(body, sizeof body, "{%s{}}", services);
    correct_refused(VISIT, body, 422, "validation", "value");
    snprintf(body, sizeof body, "{%s[{\"code\":\"HH-01\",\"quantity\":0}]}", services);
    correct_refused(VISIT, body, 422, "validation", "value[0].quantity");
    snprintf(body, sizeof body,
             "{%s[{\"code\":\"HH-01\",\"quantity\":1},{\"code\":\"MED.02\",\"quantity\":101}]}",
             services);
    correct_refused(VISIT, body, 422, "validation", "value[1].quantity");
    snprintf(body, sizeof body, "{%s[{\"code\":\"HH-01\",\"quantity\":1.5}]}", services);
    correct_refused(VISIT, body, 422, "validation", "value[0].quantity");
    snprintf(body, sizeof body, "{%s[{\"code\":\"HH-01\",\"quantity\":1,\"unit\":\"h\"}]}",
             services);
    correct_refused(VISIT, body, 422, "validation", "value[0].unit");
    snprintf(body, sizeof body, "{%s[{\"code\":\"HH 01\",\"quantity\":1}]}", services);
    correct_refused(VISIT, body, 422, "validation", "value[0].code");
    snprintf(body, sizeof body, "{%s[{\"quantity\":1}]}", services);
    correct_refused(VISIT, body, 422, "validation", "value[0].code");
    snprintf(body, sizeof body,
             "{%s[{\"code\":\"HH-01\",\"quantity\":1},{\"code\":\"HH-01\",\"quantity\":2}]}",
             services);
    correct_refused(VISIT, body, 422, "validation", "value[1]");
    snprintf(body, sizeof body,
             "{%s[{\"code\":\"HH-01\",\"quantity\":1},{\"code\":\"NOPE\",\"quantity\":1}]}",
             services);
    correct_refused(VISIT, body, 422, "validation", "value[1].code");
    n = snprintf(body, sizeof body, "{%s[", services);
    for (int i = 0; i < 33; i++)
        n += snprintf(body + n, sizeof body - (size_t)n, "%s{\"code\":\"C%d\",\"quantity\":1}",
                      i ? "," : "", i);
    snprintf(body + n, sizeof body - (size_t)n, "]}");
    correct_refused(VISIT, body, 422, "validation", "value");
    correct_refused(VISIT, "{not json", 400, "malformed-json", NULL);
    correct_refused(VISIT, "[]", 422, "validation", NULL);

    /* the visit must be one to correct */
    const char *disputed = "{\"field\":\"disputed\",\"value\":true,\"reason\":\"Жалоба\"}";
    correct_refused("not-a-uuid", disputed, 404, "not-found", NULL);
    correct_refused("49000000-0000-4000-8000-000000000000", disputed, 404, "not-found", NULL);
    correct_refused(PLAN, disputed, 409, "planned-visit", NULL);
    /* the same value as now: not a correction (services in another order are the same) */
    correct_refused(VISIT, "{\"field\":\"disputed\",\"value\":false,\"reason\":\"Нет\"}", 409,
                    "no-change", NULL);
    snprintf(body, sizeof body,
             "{%s[{\"code\":\"MED.02\",\"quantity\":2},{\"code\":\"HH-01\",\"quantity\":1}]}",
             services);
    correct_refused(VISIT, body, 409, "no-change", NULL);

    assert_int_equal(corrections_stored(), 0);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM audit_log WHERE action = "
                                                   "'visit.correct'"),
                     0);
}

static void test_correct_and_history(void **state)
{
    (void)state;
    harness.session = &manager;
    cJSON *c = correct(VISIT, "{\"field\":\"services\",\"value\":[{\"code\":\"HH-01\","
                              "\"quantity\":1},{\"code\":\"MED.02\",\"quantity\":1},{\"code\":"
                              "\"SOC.03\",\"quantity\":1}],\"reason\":\"Давление измерили один "
                              "раз, покупку продуктов забыли отметить\"}");
    assert_string_equal(cf_json_str(c, "field"), "services");
    assert_string_equal(cf_json_str(c, "visit_id"), VISIT);
    assert_string_equal(cf_json_str(c, "corrected_by"), "mgr1");
    assert_true(strlen(cf_json_str(c, "corrected_at")) > 10);
    assert_true(cf_json_num(c, "id") > 0);
    expect_json(json_get(c, "value"), "[{\"code\":\"HH-01\",\"quantity\":1},{\"code\":\"MED.02\","
                                      "\"quantity\":1},{\"code\":\"SOC.03\",\"quantity\":1}]");
    expect_json(json_get(c, "previous"),
                "[{\"code\":\"HH-01\",\"quantity\":1},{\"code\":\"MED.02\",\"quantity\":2}]");
    cJSON_Delete(c);

    /* the authority disputes it; a 2000-character reason is within the limit */
    harness.session = authority;
    char body[8192];
    int n = snprintf(body, sizeof body, "{\"field\":\"disputed\",\"value\":true,\"reason\":\"");
    for (int i = 0; i < 2000; i++)
        n += snprintf(body + n, sizeof body - (size_t)n, "ж");
    snprintf(body + n, sizeof body - (size_t)n, "\"}");
    c = correct(VISIT, body);
    expect_json(json_get(c, "previous"), "false");
    assert_string_equal(cf_json_str(c, "corrected_by"), "harness-authority");
    cJSON_Delete(c);
    harness.session = &manager;
    c = correct(VISIT, "{\"field\":\"disputed\",\"value\":false,\"reason\":\"Получатель "
                       "отозвал жалобу\"}");
    expect_json(json_get(c, "previous"), "true");
    cJSON_Delete(c);

    /* the history, oldest first */
    cJSON *h = cf_api_json(&harness, "GET", "/api/v1/visits/" VISIT "/corrections", NULL, 200);
    const cJSON *items = json_get(h, "items");
    assert_int_equal(cJSON_GetArraySize(items), 3);
    const cJSON *first = cJSON_GetArrayItem(items, 0), *second = cJSON_GetArrayItem(items, 1),
                *third = cJSON_GetArrayItem(items, 2);
    assert_string_equal(cf_json_str(first, "field"), "services");
    assert_string_equal(cf_json_str(second, "field"), "disputed");
    assert_string_equal(cf_json_str(third, "field"), "disputed");
    assert_true(cf_json_num(first, "id") < cf_json_num(second, "id"));
    assert_true(cf_json_num(second, "id") < cf_json_num(third, "id"));
    expect_json(json_get(second, "value"), "true");
    expect_json(json_get(third, "previous"), "true");
    assert_string_equal(cf_json_str(third, "reason"), "Получатель отозвал жалобу");
    assert_string_equal(cf_json_str(second, "corrected_by"), "harness-authority");
    assert_true(strcmp(cf_json_str(first, "corrected_at"), cf_json_str(third, "corrected_at")) <=
                0);
    cJSON_Delete(h);

    /* the visit as corrected; its events, the facts, are exactly as before */
    cJSON *v = cf_api_json(&harness, "GET", "/api/v1/visits/" VISIT, NULL, 200);
    assert_string_equal(cf_json_str(v, "worker_name"), "Иванова Анна");
    assert_string_equal(cf_json_str(v, "recipient_name"), "Петров Пётр Петрович");
    assert_true(cf_json_true(v, "corrected"));
    assert_false(cf_json_true(v, "disputed"));
    assert_false(cf_json_true(v, "must_fix_open"));
    assert_int_equal((int)cf_json_num(v, "expected_minutes"), 60);
    assert_int_equal((int)cf_json_num(v, "effective_expected_minutes"), 30 + 15 + 20);
    expect_json(json_get(v, "services"),
                "[{\"code\":\"HH-01\",\"quantity\":1},{\"code\":\"MED.02\",\"quantity\":2}]");
    expect_json(json_get(v, "effective_services"),
                "[{\"code\":\"HH-01\",\"quantity\":1},{\"code\":\"MED.02\",\"quantity\":1},"
                "{\"code\":\"SOC.03\",\"quantity\":1}]");
    char *events = cJSON_PrintUnformatted(json_get(v, "events"));
    assert_string_equal(events, events_before);
    cJSON_free(events);
    const cJSON *ev;
    cJSON_ArrayForEach(ev, json_get(v, "events")) assert_true(cf_json_true(ev, "verified"));
    cJSON_Delete(v);

    /* disputed again: the list shows it, with the effective services */
    c = correct(VISIT, "{\"field\":\"disputed\",\"value\":true,\"reason\":\"Повторная жалоба "
                       "дочери\"}");
    cJSON_Delete(c);
    cJSON *list =
        cf_api_json(&harness, "GET", "/api/v1/visits?recipient=" RECIPIENT "&limit=10", NULL, 200);
    const cJSON *item, *found = NULL;
    cJSON_ArrayForEach(item, json_get(list, "items"))
    {
        if (strcmp(cf_json_str(item, "id"), VISIT) == 0)
            found = item;
        else if (strcmp(cf_json_str(item, "state"), "planned") != 0)
            assert_false(cf_json_true(item, "corrected"));
    }
    assert_non_null(found);
    assert_true(cf_json_true(found, "disputed"));
    assert_true(cf_json_true(found, "corrected"));
    assert_int_equal((int)cf_json_num(found, "effective_expected_minutes"), 65);
    assert_int_equal(cJSON_GetArraySize(json_get(found, "effective_services")), 3);
    cJSON_Delete(list);

    /* each correction is in the audit log, with who, why and what */
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM audit_log WHERE action = "
                                                   "'visit.correct' AND subject = '" VISIT "'"),
                     4);
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT count(*) FROM audit_log WHERE action = "
                                         "'visit.correct' AND actor = 'manager:mgr1' AND reason = "
                                         "'Получатель отозвал жалобу' AND details->>'field' = "
                                         "'disputed' AND details->'value' = 'false'::jsonb"),
                     1);
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT count(*) FROM audit_log WHERE action = "
                                         "'visit.correct' AND details->>'field' = 'services' AND "
                                         "jsonb_array_length(details->'value') = 3"),
                     1);
}

/* carefactd's own role may add corrections, never change or remove one. */
static void test_append_only(void **state)
{
    (void)state;
    PGconn *db = PQconnectdb(harness.app_conninfo);
    assert_int_equal(PQstatus(db), CONNECTION_OK);
    PGresult *res = PQexec(db, "SELECT set_config('carefact.provider', '*', false)");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    const char *changes[] = {"UPDATE visit_corrections SET reason = 'переписано'",
                             "DELETE FROM visit_corrections", "TRUNCATE visit_corrections"};
    for (size_t i = 0; i < 3; i++) {
        res = PQexec(db, changes[i]);
        assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
        assert_non_null(strstr(PQerrorMessage(db), "permission denied"));
        PQclear(res);
    }
    PQfinish(db);
    /* even the owner meets the trigger */
    assert_int_not_equal(cf_harness_sql(&harness, "DELETE FROM visit_corrections"), 0);
    assert_int_equal(corrections_stored(), 4);
}

static void test_scope(void **state)
{
    (void)state;
    const char *disputed = "{\"field\":\"disputed\",\"value\":false,\"reason\":\"Чужое\"}";
    /* another provider's manager: the visit, its history, the recipient do not exist */
    harness.session = &other_manager;
    correct_refused(VISIT, disputed, 404, "not-found", NULL);
    cf_api_expect_problem(
        cf_api_json(&harness, "GET", "/api/v1/visits/" VISIT "/corrections", NULL, 404),
        "not-found", NULL);
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/visits/" VISIT, NULL, 404),
                          "not-found", NULL);
    cf_api_expect_problem(cf_api_json(&harness, "GET",
                                      "/api/v1/recipients/" RECIPIENT "/statement?month=2026-11",
                                      NULL, 404),
                          "not-found", NULL);
    cJSON *own = cf_api_json(&harness, "GET", "/api/v1/visits/" V_OTHER "/corrections", NULL, 200);
    assert_int_equal(cJSON_GetArraySize(json_get(own, "items")), 0);
    cJSON_Delete(own);
    /* and the other way round */
    harness.session = &manager;
    correct_refused(V_OTHER, disputed, 404, "not-found", NULL);
    cf_api_expect_problem(
        cf_api_json(&harness, "GET", "/api/v1/visits/" V_OTHER "/corrections", NULL, 404),
        "not-found", NULL);
    /* a plan has no corrections yet, but is not missing */
    own = cf_api_json(&harness, "GET", "/api/v1/visits/" PLAN "/corrections", NULL, 200);
    assert_int_equal(cJSON_GetArraySize(json_get(own, "items")), 0);
    cJSON_Delete(own);

    /* a worker reads the history of their own visits and corrects nothing */
    harness.session = &worker;
    correct_refused(VISIT, disputed, 403, "forbidden", NULL);
    own = cf_api_json(&harness, "GET", "/api/v1/visits/" VISIT "/corrections", NULL, 200);
    assert_int_equal(cJSON_GetArraySize(json_get(own, "items")), 4);
    cJSON_Delete(own);
    cf_api_expect_problem(
        cf_api_json(&harness, "GET", "/api/v1/visits/" V_WORKER2 "/corrections", NULL, 404),
        "not-found", NULL);
    cf_api_expect_problem(cf_api_json(&harness, "GET",
                                      "/api/v1/recipients/" RECIPIENT "/statement?month=2026-11",
                                      NULL, 403),
                          "forbidden", NULL);
    /* a state change without the session's CSRF token is refused by the dispatcher */
    char cookie[200];
    snprintf(cookie, sizeof cookie, "Cookie: %s", manager.cookie);
    const char *headers[] = {cookie, NULL};
    struct cf_http_reply reply;
    harness.session = NULL;
    assert_int_equal(cf_http_with(&harness, "POST", "/api/v1/visits/" VISIT "/corrections",
                                  disputed, strlen(disputed), headers, &reply),
                     0);
    assert_int_equal(reply.status, 403);
    cf_api_expect_problem(cJSON_Parse(reply.body), "csrf", NULL);
    cf_http_reply_cleanup(&reply);
    harness.session = &manager;
    assert_int_equal(corrections_stored(), 4);
}

static const cJSON *statement_visit(const cJSON *statement, const char *id)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, json_get(statement, "visits"))
    {
        if (strcmp(cf_json_str(item, "id"), id) == 0)
            return item;
    }
    return NULL;
}

static void test_statement(void **state)
{
    (void)state;
    harness.session = &manager;
    const char *base = "/api/v1/recipients/" RECIPIENT "/statement";
    char path[160];
    const char *bad[] = {"",
                         "?month=2026-13",
                         "?month=2026-1",
                         "?month=26-11",
                         "?month=2026-11x",
                         "?month=2026-11&month=2026-12",
                         "?year=2026"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, "%s%s", base, bad[i]);
        cJSON *p = cf_api_json(&harness, "GET", path, NULL, 400);
        /* an unknown parameter names no field (be_query_parse) */
        if (strcmp(cf_json_str(p, "field"), i == 6 ? "" : "month") != 0)
            fail_msg("%s: field %s", bad[i], cf_json_str(p, "field"));
        cf_api_expect_problem(p, "validation", NULL);
    }
    cf_api_expect_problem(cf_api_json(&harness, "GET",
                                      "/api/v1/recipients/39000000-0000-4000-8000-000000000000/"
                                      "statement?month=2026-11",
                                      NULL, 404),
                          "not-found", NULL);

    snprintf(path, sizeof path, "%s?month=2026-11", base);
    cJSON *s = cf_api_json(&harness, "GET", path, NULL, 200);
    assert_string_equal(cf_json_str(json_get(s, "recipient"), "full_name"), "Петров Пётр Петрович");
    assert_string_equal(cf_json_str(json_get(s, "provider"), "name"), "КЦСОН Тестовый");
    assert_string_equal(cf_json_str(s, "month"), "2026-11");
    assert_string_equal(cf_json_str(s, "timezone"), "Europe/Moscow");
    /* the local month: 1 Nov 00:30 Moscow is in, 1 Dec 01:30 Moscow is not */
    assert_int_equal(cJSON_GetArraySize(json_get(s, "visits")), 3);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(json_get(s, "visits"), 0), "id"), V_EARLY);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(json_get(s, "visits"), 0), "date"),
                        "2026-11-01");
    assert_null(statement_visit(s, V_DECEMBER));
    assert_int_equal((int)cf_json_num(json_get(s, "totals"), "visits"), 3);
    assert_int_equal((int)cf_json_num(json_get(s, "totals"), "minutes"), 5 + 30 + 50);

    const cJSON *v = statement_visit(s, VISIT);
    assert_non_null(v);
    assert_string_equal(cf_json_str(v, "date"), "2026-11-22");
    assert_string_equal(cf_json_str(v, "start_time"), "12:00"); /* 09:00Z in Moscow */
    assert_string_equal(cf_json_str(v, "worker_name"), "Иванова Анна");
    assert_int_equal((int)cf_json_num(v, "duration_minutes"), 50);
    assert_int_equal((int)cf_json_num(v, "expected_minutes"), 65);
    assert_true(cf_json_true(v, "start_confirmed"));
    assert_true(cf_json_true(v, "end_confirmed"));
    assert_string_equal(cf_json_str(v, "start_confirmed_by"), "recipient");
    assert_string_equal(cf_json_str(v, "end_confirmed_by"), "recipient");
    assert_int_equal((int)cf_json_num(v, "rating"), 5);
    assert_true(cf_json_true(v, "disputed"));
    expect_json(json_get(v, "services"),
                "[{\"code\":\"HH-01\",\"name\":\"Уборка жилого помещения\",\"quantity\":1},"
                "{\"code\":\"MED.02\",\"name\":\"Измерение давления\",\"quantity\":1},"
                "{\"code\":\"SOC.03\",\"name\":\"Покупка продуктов\",\"quantity\":1}]");
    const cJSON *corrections = json_get(v, "corrections");
    assert_int_equal(cJSON_GetArraySize(corrections), 4);
    const cJSON *c = cJSON_GetArrayItem(corrections, 0);
    assert_string_equal(cf_json_str(c, "field"), "services");
    expect_json(json_get(c, "from"),
                "[{\"code\":\"HH-01\",\"name\":\"Уборка жилого помещения\",\"quantity\":1},"
                "{\"code\":\"MED.02\",\"name\":\"Измерение давления\",\"quantity\":2}]");
    assert_int_equal(cJSON_GetArraySize(json_get(c, "to")), 3);
    assert_string_equal(cf_json_str(c, "corrected_by"), "mgr1");
    assert_non_null(strstr(cf_json_str(c, "reason"), "покупку продуктов забыли"));
    c = cJSON_GetArrayItem(corrections, 3);
    assert_string_equal(cf_json_str(c, "field"), "disputed");
    expect_json(json_get(c, "from"), "false");
    expect_json(json_get(c, "to"), "true");
    assert_string_equal(cf_json_str(c, "reason"), "Повторная жалоба дочери");

    v = statement_visit(s, V_WORKER2);
    assert_string_equal(cf_json_str(v, "worker_name"), "Сидорова Мария");
    assert_false(cf_json_true(v, "end_confirmed"));
    assert_int_equal(cJSON_GetArraySize(json_get(v, "corrections")), 0);
    cJSON_Delete(s);

    snprintf(path, sizeof path, "%s?month=2026-12", base);
    s = cf_api_json(&harness, "GET", path, NULL, 200);
    assert_int_equal(cJSON_GetArraySize(json_get(s, "visits")), 1);
    assert_non_null(statement_visit(s, V_DECEMBER));
    cJSON_Delete(s);
}

/* A visit resolved "must fix" waits for a correction; the correction closes it. */
static void test_must_fix_closed_by_correction(void **state)
{
    (void)state;
    harness.session = &manager;
    cJSON *r = cf_api_json(&harness, "POST", "/api/v1/exceptions/early_leave." V_EARLY "/resolve",
                           "{\"action\":\"must_fix\",\"note\":\"5 минут при норме 30\"}", 200);
    cJSON_Delete(r);
    cJSON *v = cf_api_json(&harness, "GET", "/api/v1/visits/" V_EARLY, NULL, 200);
    assert_true(cf_json_true(v, "must_fix_open"));
    assert_false(cf_json_true(v, "corrected"));
    cJSON_Delete(v);
    cJSON *c = correct(V_EARLY, "{\"field\":\"services\",\"value\":[{\"code\":\"MED.02\","
                                "\"quantity\":1}],\"reason\":\"Сделано только измерение "
                                "давления\"}");
    cJSON_Delete(c);
    v = cf_api_json(&harness, "GET", "/api/v1/visits/" V_EARLY, NULL, 200);
    assert_false(cf_json_true(v, "must_fix_open"));
    assert_true(cf_json_true(v, "corrected"));
    assert_int_equal((int)cf_json_num(v, "effective_expected_minutes"), 15);
    cJSON_Delete(v);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM visit_effective WHERE "
                                                   "id = '" V_EARLY "' AND NOT must_fix_open"),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation),  cmocka_unit_test(test_correct_and_history),
        cmocka_unit_test(test_append_only), cmocka_unit_test(test_scope),
        cmocka_unit_test(test_statement),   cmocka_unit_test(test_must_fix_closed_by_correction),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
