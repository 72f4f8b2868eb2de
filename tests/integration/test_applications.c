/* Integration test of applications (issue 15) against a real carefactd and a private
 * PostgreSQL: the citizen's form and status page, the front office's intake, check and
 * return with a reason, the back office's assessment and decision, the legal
 * transitions and who may make them, deadlines in the region's working days (a holiday
 * moves them), the journal, who sees which office's applications, and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "api_check.h"
#include "harness.h"

#define REGION "00000000-0000-4000-8000-000000000001"
#define PROVIDER "00000000-0000-4000-8000-000000000002"
#define OFFICE_A "0f000000-0000-4000-8000-00000000000a" /* a multifunctional centre */
#define OFFICE_B "0f000000-0000-4000-8000-00000000000b" /* a village's authorised person */
#define BACK "0f000000-0000-4000-8000-0000000000bb" /* the department */
#define PASSWORD "correct horse battery"

static struct cf_harness harness;
static struct cf_session intake_a, lead_a, intake_b, caseworker, manager;
static char holiday[11]; /* the first weekday after today, made a holiday */

static const char seed_sql[] =
    "INSERT INTO regions VALUES ('" REGION "', 'Тестовая область', decode(repeat('ab', 32), "
    "  'hex'));"
    "INSERT INTO providers VALUES ('" PROVIDER "', '" REGION "', 'КЦСОН Тестовый');"
    "INSERT INTO offices (id, region_id, kind, name) VALUES "
    "  ('" OFFICE_A "', '" REGION "', 'mfc', 'МФЦ Центральный'),"
    "  ('" OFFICE_B "', '" REGION "', 'authorised', 'Уполномоченный, д. Луговая'),"
    "  ('" BACK "', '" REGION "', 'back_office', 'Департамент соцзащиты');";

static void sign_in(const char *login, const char *role, const char *office, struct cf_session *out)
{
    if (office)
        assert_int_equal(cf_harness_staff_account(&harness, login, role, office, PASSWORD), 0);
    else
        assert_int_equal(cf_harness_account(&harness, login, role, PROVIDER, NULL, PASSWORD), 0);
    assert_int_equal(cf_harness_login(&harness, login, PASSWORD, out), 0);
}

/* The region's date today (Europe/Moscow, the default) and the next weekday after it. */
static void region_today(struct tm *out)
{
    time_t now = time(NULL) + 3 * 3600; /* Moscow is UTC+3 all year */
    gmtime_r(&now, out);
}

static void date_text(const struct tm *t, char out[11])
{
    strftime(out, 11, "%Y-%m-%d", t);
}

/* n working days after today (Monday to Friday, the holiday not counted), computed here
 * independently of the server's working_days_add. */
static void working_days_after_today(int n, char out[11])
{
    struct tm t;
    region_today(&t);
    t.tm_hour = 12;
    while (n > 0) {
        t.tm_mday++;
        time_t next = timegm(&t);
        gmtime_r(&next, &t);
        char text[11];
        date_text(&t, text);
        if (t.tm_wday != 0 && t.tm_wday != 6 && strcmp(text, holiday) != 0)
            n--;
    }
    date_text(&t, out);
}

static int group_setup(void **state)
{
    (void)state;
    if (cf_harness_start(&harness, NULL) || cf_harness_sql(&harness, seed_sql))
        return -1;
    struct tm t;
    region_today(&t);
    t.tm_hour = 12;
    do {
        t.tm_mday++;
        time_t next = timegm(&t);
        gmtime_r(&next, &t);
    } while (t.tm_wday == 0 || t.tm_wday == 6);
    date_text(&t, holiday);
    char sql[300];
    snprintf(sql, sizeof sql,
             "INSERT INTO calendar_days (region_id, day, working, note) VALUES ('" REGION
             "', '%s', false, 'праздник')",
             holiday);
    return cf_harness_sql(&harness, sql);
}

static int group_teardown(void **state)
{
    (void)state;
    cf_harness_stop(&harness);
    return 0;
}

static cJSON *as(struct cf_session *who, const char *method, const char *path, const char *body,
                 long want)
{
    harness.session = who;
    cJSON *out = cf_api_json(&harness, method, path, body, want);
    harness.session = NULL;
    return out;
}

static const char citizen_form[] =
    "{\"office_id\":\"" OFFICE_A "\",\"applicant_name\":\"Сидорова Мария Ивановна\","
    "\"applicant_birth_date\":\"1941-05-09\",\"applicant_phone\":\"+7 (900) 123-45-67\","
    "\"applicant_address\":\"г. Тестовск, ул. Садовая, д. 5, кв. 2\","
    "\"representative_name\":\"Сидоров Иван Петрович\",\"representative_relation\":\"сын\","
    "\"category\":\"elderly\",\"purpose\":\"home_care\","
    "\"details\":\"Нужна помощь с покупками и уборкой\",\"consent\":true}";

static const char office_form[] =
    "{\"channel\":\"office\",\"applicant_name\":\"Кузнецов Пётр Семёнович\","
    "\"applicant_birth_date\":\"1950-02-28\",\"applicant_address\":\"д. Луговая, д. 1\","
    "\"category\":\"disabled\",\"purpose\":\"rehab_aid\",\"details\":\"Кресло-коляска\","
    "\"complete\":true,\"consent\":true}";

static void move(struct cf_session *who, const char *id, const char *to, const char *reason,
                 long want, const char *problem, const char *field)
{
    char path[120], body[400];
    snprintf(path, sizeof path, "/api/v1/applications/%s/transitions", id);
    if (reason)
        snprintf(body, sizeof body, "{\"to\":\"%s\",\"reason\":\"%s\"}", to, reason);
    else
        snprintf(body, sizeof body, "{\"to\":\"%s\"}", to);
    cJSON *res = as(who, "POST", path, body, want);
    if (problem)
        cf_api_expect_problem(res, problem, field);
    else {
        assert_string_equal(cf_json_str(cJSON_GetObjectItem(res, "application"), "state"), to);
        cJSON_Delete(res);
    }
}

static cJSON *status_of(const char *number, const char *code, long want)
{
    char body[200];
    snprintf(body, sizeof body, "{\"number\":\"%s\",\"code\":\"%s\"}", number, code);
    return as(NULL, "POST", "/api/v1/public/applications/status", body, want);
}

/* The citizen files at home, reads the status page; the front office returns it with a
 * reason the citizen then reads; resubmitted, checked, forwarded, assessed, approved. */
static void test_citizen_to_decision(void **state)
{
    (void)state;
    sign_in("intake-a", "intake", OFFICE_A, &intake_a);
    sign_in("lead-a", "intake_lead", OFFICE_A, &lead_a);
    sign_in("caseworker", "caseworker", BACK, &caseworker);

    cJSON *offices = as(NULL, "GET", "/api/v1/offices", NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(offices, "items")), 3);
    cJSON_Delete(offices);

    cJSON *filed = as(NULL, "POST", "/api/v1/public/applications", citizen_form, 201);
    const cJSON *app = cJSON_GetObjectItem(filed, "application");
    char id[40], number[24], code[16], due[11];
    snprintf(id, sizeof id, "%s", cf_json_str(app, "id"));
    snprintf(number, sizeof number, "%s", cf_json_str(app, "number"));
    snprintf(code, sizeof code, "%s", cf_json_str(filed, "code"));
    assert_int_equal(strlen(code), 10);
    assert_string_equal(cf_json_str(app, "state"), "submitted");
    assert_string_equal(cf_json_str(app, "channel"), "web");
    working_days_after_today(5, due);
    assert_string_equal(cf_json_str(app, "decision_due"), due);
    cJSON_Delete(filed);
    /* only the code's hash is kept */
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM applications WHERE encode(code_hash, 'hex') LIKE '%%%s%%'",
             code);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 0);

    cJSON *st = status_of(number, code, 200);
    assert_string_equal(cf_json_str(st, "state"), "submitted");
    assert_string_equal(cf_json_str(st, "decision_due"), due);
    assert_null(cJSON_GetObjectItem(st, "applicant_name")); /* no personal data echoed */
    cJSON_Delete(st);
    /* a wrong code and a wrong number answer alike */
    char wrong[16];
    snprintf(wrong, sizeof wrong, "%s", code);
    wrong[0] = wrong[0] == '9' ? '0' : (char)(wrong[0] + 1);
    cf_api_expect_problem(status_of(number, wrong, 404), "not-found", NULL);
    cf_api_expect_problem(status_of("2026-999999", code, 404), "not-found", NULL);

    /* the intake may not verify; the lead returns it, a reason is required */
    move(&intake_a, id, "verified", NULL, 403, "forbidden", "to");
    move(&lead_a, id, "returned", NULL, 422, "validation", "reason");
    move(&lead_a, id, "returned", "Нет копии паспорта", 200, NULL, NULL);
    st = status_of(number, code, 200);
    assert_string_equal(cf_json_str(st, "state"), "returned");
    assert_string_equal(cf_json_str(st, "reason"), "Нет копии паспорта");
    cJSON_Delete(st);

    move(&intake_a, id, "resubmitted", NULL, 200, NULL, NULL);
    move(&lead_a, id, "verified", NULL, 200, NULL, NULL);
    move(&caseworker, id, "approved", NULL, 409, "illegal-transition", "to");
    move(&caseworker, id, "assessment", NULL, 200, NULL, NULL);
    move(&caseworker, id, "approved", NULL, 200, NULL, NULL);
    move(&caseworker, id, "returned", "поздно", 409, "illegal-transition", "to");

    char path[100];
    snprintf(path, sizeof path, "/api/v1/applications/%s", id);
    cJSON *full = as(&caseworker, "GET", path, NULL, 200);
    app = cJSON_GetObjectItem(full, "application");
    assert_string_equal(cf_json_str(app, "state"), "approved");
    assert_int_equal(cf_json_long(app, "returns"), 1);
    char programme_due[11];
    working_days_after_today(10, programme_due);
    assert_string_equal(cf_json_str(app, "programme_due"), programme_due);
    /* the journal: filed, submitted, returned (with its reason), resubmitted, verified,
     * assessment, approved — who did each */
    static const char *const want[][3] = {{"draft", "applicant", ""},
                                          {"submitted", "applicant", ""},
                                          {"returned", "lead-a", "Нет копии паспорта"},
                                          {"resubmitted", "intake-a", ""},
                                          {"verified", "lead-a", ""},
                                          {"assessment", "caseworker", ""},
                                          {"approved", "caseworker", ""}};
    const cJSON *journal = cJSON_GetObjectItem(full, "journal");
    assert_int_equal(cJSON_GetArraySize(journal), 7);
    for (int i = 0; i < 7; i++) {
        const cJSON *row = cJSON_GetArrayItem(journal, i);
        assert_string_equal(cf_json_str(row, "to"), want[i][0]);
        assert_string_equal(cf_json_str(row, "actor"), want[i][1]);
        assert_string_equal(cf_json_str(row, "reason"), want[i][2]);
    }
    cJSON_Delete(full);
    /* the journal is append-only, even for the database's owner */
    snprintf(sql, sizeof sql,
             "UPDATE application_journal SET reason = 'x' WHERE application_id = '%s'", id);
    assert_int_not_equal(cf_harness_sql(&harness, sql), 0);
}

/* The front office takes one in at its own office; another office's staff never see
 * it; the back office sees the whole region; a manager has no application routes. */
static void test_offices_see_their_own(void **state)
{
    (void)state;
    sign_in("intake-b", "intake", OFFICE_B, &intake_b);
    sign_in("manager", "manager", NULL, &manager);

    cJSON *filed = as(&intake_a, "POST", "/api/v1/applications", office_form, 201);
    const cJSON *app = cJSON_GetObjectItem(filed, "application");
    char id[40], path[100];
    snprintf(id, sizeof id, "%s", cf_json_str(app, "id"));
    assert_string_equal(cf_json_str(app, "state"), "draft");
    assert_string_equal(cf_json_str(cJSON_GetObjectItem(app, "office"), "id"), OFFICE_A);
    assert_null(cJSON_GetObjectItem(app, "decision_due")->valuestring);
    cJSON_Delete(filed);

    snprintf(path, sizeof path, "/api/v1/applications/%s", id);
    cf_api_expect_problem(as(&intake_b, "GET", path, NULL, 404), "not-found", NULL);
    move(&intake_b, id, "submitted", NULL, 404, "not-found", NULL);
    cJSON *list = as(&intake_b, "GET", "/api/v1/applications", NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(list, "items")), 0);
    cJSON_Delete(list);
    /* filing in another office is refused */
    char body[1200];
    snprintf(body, sizeof body, "{\"office_id\":\"%s\",%s", OFFICE_A, office_form + 1);
    cf_api_expect_problem(as(&intake_b, "POST", "/api/v1/applications", body, 403), "forbidden",
                          "office_id");

    list = as(&caseworker, "GET", "/api/v1/applications?purpose=rehab_aid", NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(list, "items")), 1);
    cJSON_Delete(list);
    list = as(&intake_a, "GET", "/api/v1/applications?state=draft&complete=true", NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(list, "items")), 1);
    cJSON_Delete(list);
    cf_api_expect_problem(as(&manager, "GET", "/api/v1/applications", NULL, 403), "forbidden",
                          NULL);
    /* an intake may withdraw a draft, with a reason */
    move(&intake_a, id, "withdrawn", NULL, 422, "validation", "reason");
    move(&intake_a, id, "withdrawn", "Заявитель передумал", 200, NULL, NULL);
}

/* Overdue: a decision not taken by its due date is in the overdue queue; pages. */
static void test_overdue_and_pages(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        cJSON *filed = as(NULL, "POST", "/api/v1/public/applications", citizen_form, 201);
        cJSON_Delete(filed);
    }
    assert_int_equal(cf_harness_sql(&harness, "UPDATE applications SET decision_due = "
                                              "current_date - 1 WHERE state = 'submitted'"),
                     0);
    cJSON *list = as(&lead_a, "GET", "/api/v1/applications?overdue=true", NULL, 200);
    const cJSON *item;
    int n = 0;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(list, "items"))
    {
        assert_true(cf_json_true(item, "overdue"));
        n++;
    }
    assert_int_equal(n, 3);
    cJSON_Delete(list);
    /* two pages of two; the second continues where the first stopped */
    list = as(&lead_a, "GET", "/api/v1/applications?limit=2", NULL, 200);
    char path[200], first_ids[2][40];
    for (int i = 0; i < 2; i++)
        snprintf(first_ids[i], 40, "%s",
                 cf_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(list, "items"), i), "id"));
    snprintf(path, sizeof path, "/api/v1/applications?limit=2&cursor=%s",
             cf_json_str(list, "next_cursor"));
    cJSON_Delete(list);
    list = as(&lead_a, "GET", path, NULL, 200);
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(list, "items"))
    {
        assert_string_not_equal(cf_json_str(item, "id"), first_ids[0]);
        assert_string_not_equal(cf_json_str(item, "id"), first_ids[1]);
    }
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(list, "items")) >= 1);
    cJSON_Delete(list);
}

/* Bad input: a clear 4xx naming the field, nothing stored. */
static void test_bad_input(void **state)
{
    (void)state;
    long before = cf_harness_sql_long(&harness, "SELECT count(*) FROM applications");
    static const struct {
        const char *from, *to, *field;
    } edits[] = {
        {"\"consent\":true", "\"consent\":false", "consent"},
        {"\"1941-05-09\"", "\"2999-01-01\"", "applicant_birth_date"},
        {"\"1941-05-09\"", "\"1941-02-30\"", "applicant_birth_date"},
        {"\"home_care\"", "\"holiday\"", "purpose"},
        {"\"consent\":true", "\"consent\":true,\"channel\":\"office\"", "channel"},
        {"\"+7 (900) 123-45-67\"", "\"call me\"", "applicant_phone"},
        {"\"" OFFICE_A "\"", "\"not-an-id\"", "office_id"},
        {"\"" OFFICE_A "\"", "\"0f000000-0000-4000-8000-0000000000ff\"", "office_id"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char body[1500];
        const char *at = strstr(citizen_form, edits[i].from);
        assert_non_null(at);
        snprintf(body, sizeof body, "%.*s%s%s", (int)(at - citizen_form), citizen_form, edits[i].to,
                 at + strlen(edits[i].from));
        cf_api_expect_problem(as(NULL, "POST", "/api/v1/public/applications", body, 422),
                              "validation", edits[i].field);
    }
    cf_api_expect_problem(as(NULL, "POST", "/api/v1/public/applications", "{", 400),
                          "malformed-json", NULL);
    cf_api_expect_problem(status_of("2026-000001", "12345", 422), "validation", "code");
    cf_api_expect_problem(as(&lead_a, "GET", "/api/v1/applications?state=lost", NULL, 400),
                          "validation", "state");
    cf_api_expect_problem(as(&lead_a, "GET", "/api/v1/applications?cursor=x", NULL, 400),
                          "validation", "cursor");
    cf_api_expect_problem(
        as(&lead_a, "POST", "/api/v1/applications/0f000000-0000-4000-8000-000000000001/transitions",
           "{\"to\":\"draft\"}", 422),
        "validation", "to");
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM applications"), before);
}

/* One request with extra headers that must answer want (a session when who is set). */
static void expect_status(struct cf_session *who, const char *method, const char *path,
                          const char *body, size_t len, const char *header, long want)
{
    char cookie[200], token[120];
    const char *headers[4] = {NULL, NULL, NULL, NULL};
    size_t n = 0;
    if (who) {
        snprintf(cookie, sizeof cookie, "Cookie: %s", who->cookie);
        snprintf(token, sizeof token, "X-CSRF-Token: %s", who->csrf);
        headers[n++] = cookie;
        headers[n++] = token;
    }
    if (header)
        headers[n++] = header;
    struct cf_http_reply reply;
    harness.session = NULL;
    assert_int_equal(cf_http_with(&harness, method, path, body, len, headers, &reply), 0);
    if (reply.status != want)
        fail_msg("%s %s: %ld, want %ld: %s", method, path, reply.status, want, reply.body);
    cf_http_reply_cleanup(&reply);
}

/* The edge's answers on every application route: malformed JSON 400, not JSON 415, a
 * body over the route's cap 413 before it is read (a GET takes none). */
static void test_edges(void **state)
{
    (void)state;
    static const char *const posts[] = {
        "/api/v1/public/applications", "/api/v1/public/applications/status", "/api/v1/applications",
        "/api/v1/applications/0f000000-0000-4000-8000-000000000001/transitions"};
    size_t big = 20 * 1024;
    char *large = malloc(big + 1);
    assert_non_null(large);
    memset(large, ' ', big);
    large[0] = '{';
    large[big - 1] = '}';
    large[big] = '\0';
    for (size_t i = 0; i < sizeof posts / sizeof posts[0]; i++) {
        struct cf_session *who = strstr(posts[i], "/public/") ? NULL : &lead_a;
        expect_status(who, "POST", posts[i], "{not json", 9, NULL, 400);
        expect_status(who, "POST", posts[i], "{}", 2, "Content-Type: text/plain", 415);
        expect_status(who, "POST", posts[i], large, big, NULL, 413);
    }
    free(large);
    expect_status(NULL, "GET", "/api/v1/offices", "{}", 2, NULL, 413);
    /* the front office's form has its own rules: a channel, never "web" */
    cf_api_expect_problem(as(&intake_a, "POST", "/api/v1/applications",
                             "{\"channel\":\"web\",\"applicant_name\":\"X\"}", 422),
                          "validation", "channel");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_citizen_to_decision),
        cmocka_unit_test(test_offices_see_their_own),
        cmocka_unit_test(test_overdue_and_pages),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
