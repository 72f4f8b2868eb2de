/* Integration test of the payment register (issue 6) against a real carefactd and a
 * private PostgreSQL. Visits are seeded as REAL signed event batches from an enrolled
 * terminal, so the totals the API answers are compared with a computation made
 * independently in SQL from the raw events table (start and end events, their card
 * tokens against the active card bindings, the end's services × the catalogue's
 * tariffs, the local month), not from the visits the server rebuilt. Also: the reason
 * of each excluded visit, the CSV bytes, the state machine and its refusals, scopes,
 * the audit log, an approved register unchanged by a late event and by corrections
 * (refused by its triggers too), and the late visit in the next month's draft. */
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

#include "cf/uuid.h"
#include "api_check.h"
#include "harness.h"
#include "sample_events.h"
#include "terminal.h"

#define PROVIDER "00000000-0000-4000-8000-000000000002"
#define OTHER_PROVIDER "00000000-0000-4000-8000-000000000003"
#define WORKER "20212223-2425-2627-2829-2a2b2c2d2e2f"
#define RECIPIENT "30313233-3435-3637-3839-3a3b3c3d3e3f"
#define GOOD_CARD "AAECAwQFBgcICQoLDA0ODw"
#define FOREIGN_CARD "BBECAwQFBgcICQoLDA0ODw" /* bound to nobody */
#define OCT "2026-10." PROVIDER
#define NOV "2026-11." PROVIDER

/* Visits of October 2026 (Moscow time) unless said otherwise. */
#define V_PAID "41000000-0000-4000-8000-000000000001" /* HH-05 x1 + MED.02 x2 */
#define V_EDGE "41000000-0000-4000-8000-000000000002" /* 1 Oct 00:30 MSK = 30 Sep UTC */
#define V_START_BAD "41000000-0000-4000-8000-000000000003"
#define V_END_BAD "41000000-0000-4000-8000-000000000004"
#define V_OPEN "41000000-0000-4000-8000-000000000005" /* started, never ended (yet) */
#define V_CANCELLED "41000000-0000-4000-8000-000000000006"
#define V_DISPUTED "41000000-0000-4000-8000-000000000008"
#define V_MUST_FIX "41000000-0000-4000-8000-000000000009"
#define V_NOVEMBER "41000000-0000-4000-8000-00000000000a" /* 31 Oct 22:30 UTC = 1 Nov MSK */
#define V_LATE "41000000-0000-4000-8000-00000000000b" /* October, uploaded after approval */

#define T_OCT10 INT64_C(1791622800000) /* 2026-10-10T09:00:00Z */
#define T_EDGE INT64_C(1790803800000) /* 2026-09-30T21:30:00Z */
#define T_NOV INT64_C(1793485800000) /* 2026-10-31T22:30:00Z */
#define T_OCT20 INT64_C(1792483200000) /* 2026-10-20T08:00:00Z */

static struct cf_harness harness;
static struct cf_session manager, other_manager, authority;

static const char seed_sql[] =
    "INSERT INTO regions VALUES ('00000000-0000-4000-8000-000000000001', 'Тестовая область', "
    "  decode(repeat('ab', 32), 'hex'));"
    "INSERT INTO providers VALUES ('" PROVIDER "', '00000000-0000-4000-8000-000000000001', "
    "  'КЦСОН Тестовый'), ('" OTHER_PROVIDER "', '00000000-0000-4000-8000-000000000001', "
    "  'КЦСОН Другой');"
    "INSERT INTO workers VALUES ('" WORKER "', '" PROVIDER "', 'Иванова; Анна \"Старшая\"');"
    "INSERT INTO recipients (id, provider_id, full_name) VALUES ('" RECIPIENT "', "
    "  '" PROVIDER "', 'Петров Пётр Петрович');"
    "INSERT INTO card_bindings (recipient_id, token, method, scheme, last4, status) VALUES "
    "  ('" RECIPIENT "', '" GOOD_CARD "', 'emv', 'mir', '5678', 'active');"
    /* a card confirms only while the recipient holds a certificate (sql/0010) */
    "INSERT INTO certificates (id, recipient_id, number, valid_from, valid_to) VALUES "
    "  ('32000000-0000-4000-8000-000000000001', '" RECIPIENT "', 'ИППСУ-1', '2020-01-01', "
    "   '2099-12-31');"
    "INSERT INTO services VALUES ('HH-01', 'Уборка жилого помещения', 'household', 'home', 30, "
    "  25000), ('MED.02', 'Измерение давления', 'medical', 'home', 15, 9000), "
    "  ('HH-05', 'Генеральная уборка', 'household', 'home', 120, 123450);";

/* ==== Helpers ==== */

static struct cf_terminal terminal;

static cJSON *request_as(const struct cf_session *who, const char *method, const char *path,
                         const char *body, long want)
{
    harness.session = who;
    return cf_api_json(&harness, method, path, body, want);
}

static void set_services(struct cf_event *ev, const char *code, int quantity, const char *code2,
                         int quantity2)
{
    ev->service_count = code2 ? 2 : 1;
    snprintf(ev->services[0].code, sizeof ev->services[0].code, "%s", code);
    ev->services[0].quantity = (uint32_t)quantity;
    if (code2) {
        snprintf(ev->services[1].code, sizeof ev->services[1].code, "%s", code2);
        ev->services[1].quantity = (uint32_t)quantity2;
    }
}

/* A visit's events into ev (returns how many): a start at `at` with start_card, and
 * unless end_card is NULL an end 50 minutes later with end_card and HH-01 x1. */
static size_t visit(struct cf_event *ev, const char *visit_id, int64_t at, const char *start_card,
                    const char *end_card)
{
    sample_event(&ev[0], CF_EV_VISIT_STARTED);
    assert_int_equal(cf_uuid_from_text(visit_id, ev[0].visit_id), 0);
    ev[0].wall_ms = at;
    ev[0].mono_ms = 1000000 + (at / 1000) % 100000000;
    memcpy(ev[0].card.token, start_card, CF_TOKEN_TEXT_LEN + 1);
    if (!end_card)
        return 1;
    sample_event(&ev[1], CF_EV_VISIT_ENDED);
    memcpy(ev[1].visit_id, ev[0].visit_id, CF_UUID_LEN);
    ev[1].wall_ms = at + 50 * 60000;
    ev[1].mono_ms = ev[0].mono_ms + 50 * 60000;
    memcpy(ev[1].card.token, end_card, CF_TOKEN_TEXT_LEN + 1);
    set_services(&ev[1], "HH-01", 1, NULL, 0);
    return 2;
}

static void seed_visits(void)
{
    struct cf_event ev[24];
    size_t n = 0;
    n += visit(ev + n, V_PAID, T_OCT10, GOOD_CARD, GOOD_CARD);
    set_services(&ev[n - 1], "HH-05", 1, "MED.02", 2); /* 1234,50 + 2 x 90,00 */
    n += visit(ev + n, V_EDGE, T_EDGE, GOOD_CARD, GOOD_CARD);
    sample_event(&ev[n], CF_EV_VISIT_RATED); /* rated: still paid */
    assert_int_equal(cf_uuid_from_text(V_EDGE, ev[n].visit_id), 0);
    ev[n].wall_ms = T_EDGE + 51 * 60000;
    ev[n++].mono_ms = 1;
    n += visit(ev + n, V_START_BAD, T_OCT10 + 3600000, FOREIGN_CARD, GOOD_CARD);
    n += visit(ev + n, V_END_BAD, T_OCT10 + 2 * 3600000, GOOD_CARD, FOREIGN_CARD);
    n += visit(ev + n, V_OPEN, T_OCT10 + 3 * 3600000, GOOD_CARD, NULL);
    sample_event(&ev[n], CF_EV_VISIT_CANCELLED);
    assert_int_equal(cf_uuid_from_text(V_CANCELLED, ev[n].visit_id), 0);
    ev[n++].wall_ms = T_OCT10 + 4 * 3600000;
    sample_event(&ev[n], CF_EV_VISIT_ATTEMPT); /* its visit id derives from (device, seq) */
    ev[n++].wall_ms = T_OCT10 + 5 * 3600000;
    n += visit(ev + n, V_DISPUTED, T_OCT10 + 6 * 3600000, GOOD_CARD, GOOD_CARD);
    n += visit(ev + n, V_MUST_FIX, T_OCT10 + 7 * 3600000, GOOD_CARD, GOOD_CARD);
    n += visit(ev + n, V_NOVEMBER, T_NOV, GOOD_CARD, GOOD_CARD);
    cf_terminal_upload(&harness, &terminal, ev, n);
    /* the holds a person puts on visits (what the corrections and review APIs write) */
    assert_int_equal(
        cf_harness_sql(&harness,
                       "INSERT INTO visit_corrections (visit_id, provider_id, field, value, "
                       "previous, reason, corrected_by) VALUES ('" V_DISPUTED "', '" PROVIDER
                       "', 'disputed', 'true', 'false', 'Получатель оспаривает визит', "
                       "'manager:test');"
                       "INSERT INTO exception_resolutions (kind, subject_id, action, resolved_by) "
                       "VALUES ('early_leave', '" V_MUST_FIX "', 'must_fix', 'test')"),
        0);
}

static int group_setup(void **state)
{
    (void)state;
    if (cf_harness_start(&harness, NULL) || cf_harness_sql(&harness, seed_sql) ||
        cf_harness_account(&harness, "reg-manager", "manager", PROVIDER, NULL,
                           "manager-password-1") ||
        cf_harness_account(&harness, "reg-other", "manager", OTHER_PROVIDER, NULL,
                           "manager-password-2") ||
        cf_harness_account(&harness, "reg-authority", "authority", NULL, NULL,
                           "authority-password") ||
        cf_harness_login(&harness, "reg-manager", "manager-password-1", &manager) ||
        cf_harness_login(&harness, "reg-other", "manager-password-2", &other_manager) ||
        cf_harness_login(&harness, "reg-authority", "authority-password", &authority))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cf_harness_stop(&harness);
    return 0;
}

/* The October 2026 register computed from the raw events alone: the earliest start
 * and end event of each visit, both cards actively bound to the visit's recipient,
 * no cancellation, its local month from the start, not disputed (latest disputed
 * correction) and no must-fix without a correction since; Σ quantity × tariff. */
static const char independent_sql[] =
    "WITH s AS (SELECT DISTINCT ON (visit_key) visit_key, card_token, recipient_id, wall_time "
    "  FROM events WHERE kind = 'visit.started' ORDER BY visit_key, wall_time, device_id, seq), "
    "e AS (SELECT DISTINCT ON (visit_key) visit_key, card_token, recipient_id, service_codes, "
    "  service_quantities FROM events WHERE kind = 'visit.ended' "
    "  ORDER BY visit_key, wall_time, device_id, seq), "
    "paid AS (SELECT s.visit_key, e.service_codes, e.service_quantities FROM s JOIN e USING "
    "  (visit_key) WHERE EXISTS (SELECT 1 FROM card_bindings b WHERE b.token = s.card_token "
    "  AND b.recipient_id = s.recipient_id AND b.status = 'active') AND EXISTS (SELECT 1 FROM "
    "  card_bindings b WHERE b.token = e.card_token AND b.recipient_id = e.recipient_id AND "
    "  b.status = 'active') AND date_trunc('month', s.wall_time AT TIME ZONE 'Europe/Moscow') "
    "  = '%s' AND NOT coalesce((SELECT c.value = 'true' FROM visit_corrections c WHERE "
    "  c.visit_id = s.visit_key AND c.field = 'disputed' ORDER BY c.id DESC LIMIT 1), false) "
    "  AND NOT EXISTS (SELECT 1 FROM exception_resolutions r WHERE r.subject_id = s.visit_key "
    "  AND r.action = 'must_fix' AND NOT EXISTS (SELECT 1 FROM visit_corrections c WHERE "
    "  c.visit_id = s.visit_key AND c.corrected_at > r.resolved_at)) %s) "
    "SELECT count(DISTINCT p.visit_key) || ' ' || coalesce(sum(u.q * sv.tariff_kopecks), 0) "
    "FROM paid p LEFT JOIN LATERAL unnest(p.service_codes, p.service_quantities) u(code, q) ON "
    "true LEFT JOIN services sv ON sv.code = u.code";

static void independent_totals(const char *month, const char *extra, long *count, long *total)
{
    char sql[sizeof independent_sql + 256];
    snprintf(sql, sizeof sql, independent_sql, month, extra);
    char *value = cf_harness_sql_value(&harness, sql);
    assert_non_null(value);
    assert_int_equal(sscanf(value, "%ld %ld", count, total), 2);
    free(value);
}

static const cJSON *find_visit(const cJSON *doc, const char *list, const char *visit_id)
{
    const cJSON *line;
    cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(doc, list))
    {
        if (strcmp(cf_json_str(line, "visit_id"), visit_id) == 0)
            return line;
    }
    return NULL;
}

static const char *reason_of(const cJSON *doc, const char *visit_id)
{
    const cJSON *line = find_visit(doc, "excluded", visit_id);
    return line ? cf_json_str(line, "reason") : "(not excluded)";
}

static long audit_count(const char *action)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit_log WHERE action = '%s' AND subject = '" OCT "'", action);
    return cf_harness_sql_long(&harness, sql);
}

/* ==== Tests ==== */

static void test_draft_matches_events(void **state)
{
    (void)state;
    cf_terminal_enrol(&harness, WORKER, &terminal);
    seed_visits();
    long count, total;
    independent_totals("2026-10-01", "", &count, &total);
    assert_int_equal(count, 2); /* V_PAID and V_EDGE */
    assert_int_equal(total, 123450 + 2 * 9000 + 25000);

    cJSON *list = request_as(&authority, "GET", "/api/v1/registers?month=2026-10", NULL, 200);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
    assert_int_equal(cJSON_GetArraySize(items), 2); /* both providers, drafts not stored */
    const cJSON *other = cJSON_GetArrayItem(items, 0); /* by name: «Другой» first */
    assert_string_equal(cf_json_str(other, "provider_id"), OTHER_PROVIDER);
    assert_int_equal(cf_json_long(other, "total_kopecks"), 0);
    const cJSON *mine = cJSON_GetArrayItem(items, 1);
    assert_string_equal(cf_json_str(mine, "id"), OCT);
    assert_string_equal(cf_json_str(mine, "provider_name"), "КЦСОН Тестовый");
    assert_string_equal(cf_json_str(mine, "month"), "2026-10");
    assert_string_equal(cf_json_str(mine, "state"), "draft");
    assert_int_equal(cf_json_long(mine, "included_count"), count);
    assert_int_equal(cf_json_long(mine, "total_kopecks"), total);
    assert_int_equal(cf_json_long(mine, "excluded_count"), 7);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(mine, "submitted_at")));
    cJSON_Delete(list);

    cJSON *doc = request_as(&authority, "GET", "/api/v1/registers/" OCT, NULL, 200);
    assert_int_equal(cf_json_long(doc, "total_kopecks"), total);
    assert_string_equal(reason_of(doc, V_START_BAD), "start_not_confirmed");
    assert_string_equal(reason_of(doc, V_END_BAD), "end_not_confirmed");
    assert_string_equal(reason_of(doc, V_OPEN), "not_ended");
    assert_string_equal(reason_of(doc, V_CANCELLED), "cancelled");
    assert_string_equal(reason_of(doc, V_DISPUTED), "disputed");
    assert_string_equal(reason_of(doc, V_MUST_FIX), "must_fix");
    const cJSON *line;
    int attempts = 0, lines = 0;
    cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(doc, "excluded"))
    {
        attempts += strcmp(cf_json_str(line, "reason"), "attempted") == 0;
    }
    assert_int_equal(attempts, 1);
    long sum = 0;
    cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(doc, "included"))
    {
        lines++;
        sum += cf_json_long(line, "amount_kopecks");
        assert_int_equal(cf_json_long(line, "amount_kopecks"),
                         cf_json_long(line, "quantity") * cf_json_long(line, "tariff_kopecks"));
        assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(line, "late")));
    }
    assert_int_equal(lines, 3);
    assert_int_equal(sum, total);
    /* the region's month: 30 Sep 21:30 UTC is 1 October in Moscow, 31 Oct 22:30 UTC is
     * 1 November */
    line = find_visit(doc, "included", V_EDGE);
    assert_non_null(line);
    assert_string_equal(cf_json_str(line, "local_date"), "2026-10-01");
    assert_string_equal(cf_json_str(line, "local_time"), "00:30");
    assert_null(find_visit(doc, "included", V_NOVEMBER));
    line = find_visit(doc, "included", V_PAID);
    assert_string_equal(cf_json_str(line, "service_code"), "HH-05");
    assert_string_equal(cf_json_str(line, "service_name"), "Генеральная уборка");
    assert_string_equal(cf_json_str(line, "recipient_name"), "Петров Пётр Петрович");
    cJSON_Delete(doc);

    cJSON *nov = request_as(&authority, "GET", "/api/v1/registers/" NOV, NULL, 200);
    assert_non_null(find_visit(nov, "included", V_NOVEMBER));
    assert_int_equal(cf_json_long(nov, "included_count"), 1);
    cJSON_Delete(nov);
}

static void test_csv_export(void **state)
{
    (void)state;
    struct cf_http_reply reply;
    harness.session = &manager;
    assert_int_equal(
        cf_http(&harness, "GET", "/api/v1/registers/" OCT "/export?format=csv", NULL, 0, &reply),
        0);
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.content_type, "text/csv; charset=utf-8");
    assert_string_equal(reply.content_disposition,
                        "attachment; filename=\"register-2026-10-" PROVIDER ".csv\"");
    static const char head[] = "\xEF\xBB\xBF"
                               "Дата;Время;Сотрудник;Получатель;Код услуги;Услуга;Количество;"
                               "Тариф, руб.;Сумма, руб.;Поздний визит за месяц\r\n";
    assert_true(reply.body_len > sizeof head);
    assert_memory_equal(reply.body, head, sizeof head - 1);
    /* the first line: 1 October 00:30, the worker's name quoted (it holds ';' and '"') */
    assert_non_null(strstr(reply.body, "\r\n01.10.2026;00:30;\"Иванова; Анна \"\"Старшая\"\"\";"
                                       "Петров Пётр Петрович;HH-01;Уборка жилого помещения;1;"
                                       "250,00;250,00;\r\n"));
    assert_non_null(strstr(reply.body, ";HH-05;Генеральная уборка;1;1234,50;1234,50;\r\n"));
    assert_non_null(strstr(reply.body, ";MED.02;Измерение давления;2;90,00;180,00;\r\n"));
    assert_non_null(strstr(reply.body, "\r\nИтого;визитов: 2;;;;;;;1664,50;\r\n\r\n"
                                       "Исключённые визиты\r\n"));
    assert_non_null(strstr(reply.body, ";Начало не подтверждено картой получателя;\r\n"));
    assert_non_null(strstr(reply.body, ";Визит оспорен;\r\n"));
    /* every line ends in CRLF: no bare LF */
    for (size_t i = 0; i < reply.body_len; i++)
        if (reply.body[i] == '\n')
            assert_true(i > 0 && reply.body[i - 1] == '\r');
    cf_http_reply_cleanup(&reply);

    assert_int_equal(
        cf_http(&harness, "GET", "/api/v1/registers/" OCT "/export?format=json", NULL, 0, &reply),
        0);
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.content_type, "application/json");
    assert_non_null(strstr(reply.content_disposition, ".json\""));
    cJSON *doc = cJSON_Parse(reply.body);
    assert_int_equal(cf_json_long(doc, "total_kopecks"), 166450);
    cJSON_Delete(doc);
    cf_http_reply_cleanup(&reply);
    cf_api_expect_problem(
        request_as(&manager, "GET", "/api/v1/registers/" OCT "/export?format=xls", NULL, 400),
        "validation", "format");
}

static void test_scope_and_validation(void **state)
{
    (void)state;
    cJSON *list = request_as(&manager, "GET", "/api/v1/registers?month=2026-10", NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(list, "items")), 1);
    cJSON_Delete(list);
    cf_api_expect_problem(request_as(&manager, "GET",
                                     "/api/v1/registers?month=2026-10&provider=" OTHER_PROVIDER,
                                     NULL, 403),
                          "forbidden", "provider");
    /* another provider's register is a 404 for a manager, for reads and changes */
    cf_api_expect_problem(request_as(&other_manager, "GET", "/api/v1/registers/" OCT, NULL, 404),
                          "not-found", NULL);
    cf_api_expect_problem(
        request_as(&other_manager, "GET", "/api/v1/registers/" OCT "/export", NULL, 404),
        "not-found", NULL);
    cf_api_expect_problem(
        request_as(&other_manager, "POST", "/api/v1/registers/" OCT "/submit", NULL, 404),
        "not-found", NULL);
    cf_api_expect_problem(
        request_as(&authority, "GET", "/api/v1/registers?month=2026-13", NULL, 400), "validation",
        "month");
    cf_api_expect_problem(request_as(&authority, "GET", "/api/v1/registers", NULL, 400),
                          "validation", "month");
    cf_api_expect_problem(
        request_as(&authority, "GET", "/api/v1/registers?month=2026-10&x=1", NULL, 400),
        "validation", NULL);
    cf_api_expect_problem(
        request_as(&authority, "GET", "/api/v1/registers/2026-10.nope", NULL, 404), "not-found",
        NULL);
    cf_api_expect_problem(
        request_as(&authority, "GET",
                   "/api/v1/registers/2026-10.00000000-0000-4000-8000-0000000000ff", NULL, 404),
        "not-found", NULL);
}

static void test_state_machine(void **state)
{
    (void)state;
    /* roles: the department does not submit, a manager does not approve or return */
    cf_api_expect_problem(
        request_as(&authority, "POST", "/api/v1/registers/" OCT "/submit", NULL, 403), "forbidden",
        NULL);
    cf_api_expect_problem(
        request_as(&manager, "POST", "/api/v1/registers/" OCT "/approve", NULL, 403), "forbidden",
        NULL);
    cf_api_expect_problem(
        request_as(&manager, "POST", "/api/v1/registers/" OCT "/return", "{\"reason\":\"x\"}", 403),
        "forbidden", NULL);
    /* a draft cannot be approved; bodies are strict; the current month is not over */
    cf_api_expect_problem(
        request_as(&authority, "POST", "/api/v1/registers/" OCT "/approve", NULL, 409),
        "register-state", NULL);
    cf_api_expect_problem(request_as(&manager, "POST", "/api/v1/registers/" OCT "/submit",
                                     "{\"submitted_by\":\"Кто-то\"}", 422),
                          "validation", "submitted_by");
    cf_api_expect_problem(
        request_as(&manager, "POST", "/api/v1/registers/2026-12." PROVIDER "/submit", NULL, 409),
        "register-month-open", NULL);

    cJSON *head = request_as(&manager, "POST", "/api/v1/registers/" OCT "/submit", "{}", 200);
    assert_string_equal(cf_json_str(head, "state"), "submitted");
    assert_string_equal(cf_json_str(head, "submitted_by"), "reg-manager");
    assert_int_equal(cf_json_long(head, "total_kopecks"), 166450);
    cJSON_Delete(head);
    cf_api_expect_problem(
        request_as(&manager, "POST", "/api/v1/registers/" OCT "/submit", NULL, 409),
        "register-state", NULL);
    /* what was submitted is what the department decides on: its visits are frozen */
    cf_api_expect_problem(
        request_as(&manager, "POST", "/api/v1/visits/" V_PAID "/corrections",
                   "{\"field\":\"disputed\",\"value\":true,\"reason\":\"жалоба\"}", 409),
        "register-closed", NULL);
    /* registers go month after month: not September after October */
    cf_api_expect_problem(
        request_as(&manager, "POST", "/api/v1/registers/2026-09." PROVIDER "/submit", NULL, 409),
        "register-order", NULL);

    /* returning needs a reason */
    cf_api_expect_problem(
        request_as(&authority, "POST", "/api/v1/registers/" OCT "/return", NULL, 422), "validation",
        "reason");
    cf_api_expect_problem(request_as(&authority, "POST", "/api/v1/registers/" OCT "/return",
                                     "{\"reason\":\"  \"}", 422),
                          "validation", "reason");
    cf_api_expect_problem(request_as(&authority, "POST", "/api/v1/registers/" OCT "/return",
                                     "{\"reason\":\"x\",\"by\":\"y\"}", 422),
                          "validation", "by");
    head = request_as(&authority, "POST", "/api/v1/registers/" OCT "/return",
                      "{\"reason\":\"Проверьте визит 10 октября\"}", 200);
    assert_string_equal(cf_json_str(head, "state"), "draft");
    assert_string_equal(cf_json_str(head, "returned_reason"), "Проверьте визит 10 октября");
    assert_string_equal(cf_json_str(head, "returned_by"), "reg-authority");
    assert_int_equal(cf_json_long(head, "total_kopecks"), 166450); /* live again */
    cJSON_Delete(head);
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT count(*) FROM register_lines WHERE month = "
                                         "'2026-10-01'"),
                     0);

    cJSON_Delete(request_as(&manager, "POST", "/api/v1/registers/" OCT "/submit", NULL, 200));
    head = request_as(&authority, "POST", "/api/v1/registers/" OCT "/approve", NULL, 200);
    assert_string_equal(cf_json_str(head, "state"), "approved");
    assert_string_equal(cf_json_str(head, "approved_by"), "reg-authority");
    cJSON_Delete(head);
    cf_api_expect_problem(
        request_as(&authority, "POST", "/api/v1/registers/" OCT "/approve", NULL, 409),
        "register-state", NULL);
    cf_api_expect_problem(request_as(&authority, "POST", "/api/v1/registers/" OCT "/return",
                                     "{\"reason\":\"поздно\"}", 409),
                          "register-state", NULL);

    /* the audit log: who, what, the reason, the totals */
    assert_int_equal(audit_count("register.submit"), 2);
    assert_int_equal(audit_count("register.return"), 1);
    assert_int_equal(audit_count("register.approve"), 1);
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT count(*) FROM audit_log WHERE action = "
                                         "'register.submit' AND actor = 'manager:reg-manager' AND "
                                         "(details->>'total_kopecks')::bigint = 166450"),
                     2);
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT count(*) FROM audit_log WHERE action = "
                                         "'register.return' AND actor = 'authority:reg-authority' "
                                         "AND reason = 'Проверьте визит 10 октября'"),
                     1);
}

static void test_approved_is_frozen_and_late_goes_next(void **state)
{
    (void)state;
    harness.session = &authority;
    struct cf_http_reply before;
    assert_int_equal(cf_http(&harness, "GET", "/api/v1/registers/" OCT, NULL, 0, &before), 0);
    assert_int_equal(before.status, 200);

    /* after approval: a new October visit arrives, the open one ends (confirmed), the
     * disputed one is undisputed, a paid one becomes disputed, a tariff changes */
    struct cf_event ev[4];
    size_t n = visit(ev, V_LATE, T_OCT20, GOOD_CARD, GOOD_CARD);
    sample_event(&ev[n], CF_EV_VISIT_ENDED);
    assert_int_equal(cf_uuid_from_text(V_OPEN, ev[n].visit_id), 0);
    ev[n].wall_ms = T_OCT10 + 3 * 3600000 + 40 * 60000;
    ev[n].mono_ms = 1000000 + ((T_OCT10 + 3 * 3600000) / 1000) % 100000000 + 40 * 60000;
    set_services(&ev[n++], "MED.02", 1, NULL, 0);
    cf_terminal_upload(&harness, &terminal, ev, n);
    /* corrections after approval are recorded (the register does not change) */
    cJSON_Delete(request_as(&manager, "POST", "/api/v1/visits/" V_DISPUTED "/corrections",
                            "{\"field\":\"disputed\",\"value\":false,\"reason\":\"Спор снят\"}",
                            201));
    cJSON_Delete(request_as(&manager, "POST", "/api/v1/visits/" V_PAID "/corrections",
                            "{\"field\":\"disputed\",\"value\":true,"
                            "\"reason\":\"Оспорен после оплаты\"}",
                            201));
    assert_int_equal(
        cf_harness_sql(&harness, "UPDATE services SET tariff_kopecks = 99999 WHERE code = 'HH-05'"),
        0);

    struct cf_http_reply after;
    harness.session = &authority;
    assert_int_equal(cf_http(&harness, "GET", "/api/v1/registers/" OCT, NULL, 0, &after), 0);
    assert_string_equal(after.body, before.body); /* byte for byte */
    cf_http_reply_cleanup(&before);
    cf_http_reply_cleanup(&after);

    /* the database refuses to change it, even to the owner */
    assert_int_not_equal(cf_harness_sql(&harness, "UPDATE registers SET total_kopecks = 0 "
                                                  "WHERE state = 'approved'"),
                         0);
    assert_int_not_equal(cf_harness_sql(&harness, "DELETE FROM registers WHERE state = "
                                                  "'approved'"),
                         0);
    assert_int_not_equal(cf_harness_sql(&harness, "UPDATE register_lines SET quantity = 9"), 0);
    assert_int_not_equal(cf_harness_sql(&harness, "DELETE FROM register_lines"), 0);
    assert_int_not_equal(cf_harness_sql(&harness, "DELETE FROM register_excluded"), 0);
    assert_int_not_equal(cf_harness_sql(&harness, "TRUNCATE register_lines CASCADE"), 0);

    /* November's draft: its own visit, and the late ones with their month */
    cJSON *nov = request_as(&manager, "GET", "/api/v1/registers/" NOV, NULL, 200);
    assert_non_null(find_visit(nov, "included", V_NOVEMBER));
    const char *late[] = {V_LATE, V_OPEN, V_DISPUTED};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *line = find_visit(nov, "included", late[i]);
        if (!line)
            fail_msg("late visit %s not in November's draft", late[i]);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(line, "late")));
        assert_string_equal(cf_json_str(line, "original_month"), "2026-10");
    }
    assert_false(cJSON_IsTrue(
        cJSON_GetObjectItemCaseSensitive(find_visit(nov, "included", V_NOVEMBER), "late")));
    /* paid in October: never again, in neither list; still excluded ones stay in October */
    assert_null(find_visit(nov, "included", V_PAID));
    assert_null(find_visit(nov, "excluded", V_PAID));
    assert_null(find_visit(nov, "excluded", V_START_BAD));
    assert_int_equal(cf_json_long(nov, "included_count"), 4);
    assert_int_equal(cf_json_long(nov, "excluded_count"), 0);
    /* 250 (Nov) + 250 (late) + 90 (the open one's end: MED.02) + 250 (undisputed) */
    assert_int_equal(cf_json_long(nov, "total_kopecks"), 25000 + 25000 + 9000 + 25000);
    cJSON_Delete(nov);
    long count, total;
    independent_totals("2026-11-01", "", &count, &total);
    assert_int_equal(count, 1);
    assert_int_equal(total, 25000);
    independent_totals("2026-10-01",
                       "AND s.visit_key NOT IN (SELECT visit_id FROM register_lines WHERE month = "
                       "'2026-10-01')",
                       &count, &total);
    assert_int_equal(count, 3); /* the three late ones, by the events alone */
    assert_int_equal(total, 25000 + 9000 + 25000);

    /* November submitted: the late lines are snapshotted there, flagged */
    cJSON *head = request_as(&manager, "POST", "/api/v1/registers/" NOV "/submit", NULL, 200);
    assert_int_equal(cf_json_long(head, "total_kopecks"), 84000);
    cJSON_Delete(head);
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT count(*) FROM register_lines WHERE month = "
                                         "'2026-11-01' AND late AND original_month = '2026-10-01'"),
                     3);
    /* October cannot be returned now (approved), nor submitted again */
    cf_api_expect_problem(
        request_as(&manager, "POST", "/api/v1/registers/" OCT "/submit", NULL, 409),
        "register-state", NULL);
}

/* db-read pointing at a read-only connection, as a hot standby is (issue 18): every
 * route served from it answers as before. */
static void test_reads_on_a_read_only_connection(void **state)
{
    (void)state;
    char db_read[400];
    snprintf(db_read, sizeof db_read, "%s options='-c default_transaction_read_only=on'",
             harness.app_conninfo);
    const char *const args[] = {"--db-read", db_read, NULL};
    cf_harness_stop_server(&harness);
    assert_int_equal(cf_harness_start_server(&harness, args), 0);
    cJSON *list = request_as(&manager, "GET", "/api/v1/registers?month=2026-10", NULL, 200);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(list, "items")) >= 1);
    cJSON_Delete(list);
    cJSON *doc = request_as(&manager, "GET", "/api/v1/registers/" OCT, NULL, 200);
    assert_string_equal(cf_json_str(doc, "month"), "2026-10");
    cJSON_Delete(doc);
    struct cf_http_reply reply;
    harness.session = &manager;
    assert_int_equal(
        cf_http(&harness, "GET", "/api/v1/registers/" OCT "/export?format=csv", NULL, 0, &reply),
        0);
    assert_int_equal(reply.status, 200);
    cf_http_reply_cleanup(&reply);
    harness.session = NULL;
    cJSON_Delete(request_as(&manager, "GET", "/api/v1/visits?limit=5", NULL, 200));
    cJSON_Delete(request_as(&manager, "GET", "/api/v1/figures?group=worker", NULL, 200));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_draft_matches_events),
        cmocka_unit_test(test_csv_export),
        cmocka_unit_test(test_scope_and_validation),
        cmocka_unit_test(test_state_machine),
        cmocka_unit_test(test_approved_is_frozen_and_late_goes_next),
        cmocka_unit_test(test_reads_on_a_read_only_connection),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
