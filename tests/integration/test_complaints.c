/* Integration test of complaints and the provider comparison (issue 16) against a real
 * carefactd and a private PostgreSQL: a signed rating of 2 with a comment opens a
 * complaint in the upload's own transaction, the same day, due 5 working days later (the
 * test counts the days itself, and a holiday the region's calendar adds moves it); a
 * low rating without words, or a 3 with words, opens none; the state machine's illegal
 * moves are 409; a manager sees only their provider's complaints (row-level security:
 * the list has no provider filter in C); the phone desk's complaints; the citizen's
 * complaint about an office visit (the booking's secret) and a home visit (the
 * application's number and code), throttled per address; the trend alerts at their
 * thresholds; the public comparison against figures the test computes from its own
 * list of visits (Wilson's bound by its own formula). */
#include <math.h>
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
#include "cf/uuid.h"
#include "harness.h"
#include "sample_events.h"
#include "terminal.h"

#define REGION "00000000-0000-4000-8000-000000000001"
#define REGION_2 "00000000-0000-4000-8000-0000000000f2"
#define PROVIDER_A "00000000-0000-4000-8000-000000000002"
#define PROVIDER_B "00000000-0000-4000-8000-000000000003"
#define PROVIDER_C "00000000-0000-4000-8000-000000000004" /* another region */
#define WORKER "20212223-2425-2627-2829-2a2b2c2d2e2f" /* sample_event's, of A */
#define WORKER_A2 "00000000-0000-4000-8000-0000000000a2"
#define WORKER_B "00000000-0000-4000-8000-0000000000b1"
#define RECIPIENT "30313233-3435-3637-3839-3a3b3c3d3e3f"
#define OFFICE "0f000000-0000-4000-8000-00000000000a"
#define APPOINTMENT "0a000000-0000-4000-8000-000000000001"
#define SECRET "0123456789abcdef0123456789abcdef"
#define APP_NUMBER "2026-000777"
#define APP_CODE "1234567890"
#define PASSWORD "correct horse battery"

static struct cf_harness harness;
static struct cf_session manager_a, manager_b, authority;

static const char seed_sql[] =
    "INSERT INTO regions VALUES ('" REGION "', 'Тестовая область', decode(repeat('ab', 32), "
    "  'hex'));"
    "INSERT INTO regions VALUES ('" REGION_2 "', 'Другая область', decode(repeat('cd', 32), "
    "  'hex'));"
    "INSERT INTO providers VALUES ('" PROVIDER_A "', '" REGION "', 'КЦСОН Альфа'),"
    "  ('" PROVIDER_B "', '" REGION "', 'КЦСОН Бета'), ('" PROVIDER_C "', '" REGION_2 "', "
    "  'КЦСОН Гамма');"
    "INSERT INTO workers VALUES ('" WORKER "', '" PROVIDER_A "', 'Иванова Анна'),"
    "  ('" WORKER_A2 "', '" PROVIDER_A "', 'Смирнова Ольга'),"
    "  ('" WORKER_B "', '" PROVIDER_B "', 'Кузнецов Иван');"
    "INSERT INTO recipients (id, provider_id, full_name) VALUES ('" RECIPIENT "', "
    "  '" PROVIDER_A "', 'Петров Пётр Петрович');"
    "INSERT INTO offices (id, region_id, kind, name) VALUES "
    "  ('" OFFICE "', '" REGION "', 'mfc', 'МФЦ Центральный');"
    "INSERT INTO office_booking (office_id) VALUES ('" OFFICE "');"
    "INSERT INTO appointments (id, office_id, region_id, seat, during, kind, state, channel, "
    "  person_key, person_name, phone, secret_hash, created_by, booked_at) VALUES "
    "  ('" APPOINTMENT "', '" OFFICE "', '" REGION "', 1, tstzrange(now() - interval '2 hours', "
    "  now() - interval '90 minutes'), 'consultation', 'served', 'web', 'tel:79123456789', "
    "  'Сидорова Мария', '+79123456789', sha256(convert_to('" SECRET "', 'UTF8')), 'citizen', "
    "  now() - interval '1 day');"
    "INSERT INTO applications (number, region_id, office_id, channel, applicant_name, "
    "  applicant_birth, applicant_address, category, purpose, consent_at, state, code_hash, "
    "  created_by, recipient_id) VALUES ('" APP_NUMBER "', '" REGION "', '" OFFICE "', 'web', "
    "  'Петров Пётр Петрович', '1940-01-01', 'ул. Ленина, 1', 'elderly', 'home_care', now(), "
    "  'approved', sha256(convert_to('" APP_CODE "', 'UTF8')), 'citizen', '" RECIPIENT "');";

static int group_setup(void **state)
{
    (void)state;
    if (cf_harness_start(&harness, NULL) || cf_harness_sql(&harness, seed_sql))
        return -1;
    if (cf_harness_account(&harness, "manager-a", "manager", PROVIDER_A, NULL, PASSWORD) ||
        cf_harness_account(&harness, "manager-b", "manager", PROVIDER_B, NULL, PASSWORD) ||
        cf_harness_account(&harness, "authority-c", "authority", NULL, NULL, PASSWORD) ||
        cf_harness_login(&harness, "manager-a", PASSWORD, &manager_a) ||
        cf_harness_login(&harness, "manager-b", PASSWORD, &manager_b) ||
        cf_harness_login(&harness, "authority-c", PASSWORD, &authority))
        return -1;
    return 0;
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

/* ==== The due day, counted apart from the database ==== */

/* Today in Moscow (UTC+3 all year) as a struct tm at noon UTC. */
static struct tm moscow_today(void)
{
    time_t now = time(NULL) + 3 * 3600;
    struct tm tm;
    gmtime_r(&now, &tm);
    tm.tm_hour = 12;
    tm.tm_min = tm.tm_sec = 0;
    return tm;
}

/* The day n working days (Monday to Friday, not skip) after from, as YYYY-MM-DD. */
static void working_days_after(struct tm from, int n, const char *skip, char out[11])
{
    time_t t = timegm(&from);
    while (n > 0) {
        t += 86400;
        struct tm d;
        gmtime_r(&t, &d);
        char text[11];
        strftime(text, sizeof text, "%Y-%m-%d", &d);
        if (d.tm_wday != 0 && d.tm_wday != 6 && strcmp(text, skip) != 0)
            n--;
    }
    struct tm d;
    gmtime_r(&t, &d);
    strftime(out, 11, "%Y-%m-%d", &d);
}

/* ==== Helpers ==== */

/* The complaints a session lists (all states), newest first. */
static cJSON *list(struct cf_session *who, const char *query)
{
    char path[200];
    snprintf(path, sizeof path, "/api/v1/complaints%s", query ? query : "");
    return as(who, "GET", path, NULL, 200);
}

/* How many of the listed complaints concern visit (by visit_id). */
static int count_for_visit(cJSON *answer, const char *visit)
{
    int n = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(answer, "items"))
    {
        if (strcmp(cf_json_str(item, "visit_id"), visit) == 0)
            n++;
    }
    return n;
}

static const cJSON *find_for_visit(cJSON *answer, const char *visit)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(answer, "items"))
    {
        if (strcmp(cf_json_str(item, "visit_id"), visit) == 0)
            return item;
    }
    return NULL;
}

/* A signed visit (seed picks its id 0xSS..) rated rating with comment, uploaded. */
static void upload_rated(uint8_t seed, int rating, const char *comment, char visit[37])
{
    struct cf_terminal terminal;
    struct cf_event ev[3];
    cf_terminal_enrol(&harness, WORKER, &terminal);
    sample_visit(ev, 50);
    for (int i = 0; i < 3; i++)
        sample_fill_id(ev[i].visit_id, seed);
    ev[2].rating = rating;
    snprintf(ev[2].comment, sizeof ev[2].comment, "%s", comment);
    cf_terminal_upload(&harness, &terminal, ev, 3);
    cf_uuid_to_text(ev[0].visit_id, visit);
}

/* ==== The automatic opening ==== */

static void test_low_rating_with_comment_opens_complaint_same_day(void **state)
{
    (void)state;
    char visit[37], quiet[37], three[37], one_word[37], due[11];
    upload_rated(0x61, 2, "Опоздала на час, не помыла пол", visit);
    /* mutants complaints.rating-threshold, .comment-ignored, .insert-not-watched */
    upload_rated(0x62, 1, "", quiet); /* a bare 1: a figure, not a complaint */
    upload_rated(0x63, 3, "Могло быть лучше", three);
    upload_rated(0x64, 1, "   ", one_word); /* blanks are no words */
    cJSON *answer = list(&manager_a, NULL);
    assert_int_equal(count_for_visit(answer, visit), 1);
    assert_int_equal(count_for_visit(answer, quiet), 0);
    assert_int_equal(count_for_visit(answer, three), 0);
    assert_int_equal(count_for_visit(answer, one_word), 0);
    const cJSON *c = find_for_visit(answer, visit);
    assert_string_equal(cf_json_str(c, "source"), "low_rating");
    assert_string_equal(cf_json_str(c, "state"), "open");
    assert_string_equal(cf_json_str(c, "text"), "Опоздала на час, не помыла пол");
    assert_int_equal(cf_json_long(c, "rating"), 2);
    assert_string_equal(cf_json_str(cJSON_GetObjectItem(c, "worker"), "id"), WORKER);
    assert_string_equal(cf_json_str(cJSON_GetObjectItem(c, "provider"), "id"), PROVIDER_A);
    assert_string_equal(cf_json_str(c, "cause"), "unspecified");
    assert_false(cf_json_true(c, "overdue"));
    /* opened today (Moscow), due 5 working days later */
    struct tm today = moscow_today();
    char today_text[11];
    strftime(today_text, sizeof today_text, "%Y-%m-%d", &today);
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT (opened_at AT TIME ZONE 'Europe/Moscow')::date::text FROM complaints "
             "WHERE visit_id = '%s'",
             visit);
    char *opened = cf_harness_sql_value(&harness, sql);
    assert_string_equal(opened, today_text);
    free(opened);
    working_days_after(today, 5, "", due); /* mutant complaints.response-days */
    assert_string_equal(cf_json_str(c, "due"), due);
    assert_int_equal(cf_json_long(answer, "response_days"), 5);
    cJSON_Delete(answer);
    /* the same visit uploaded again (a replayed rating) opens nothing more */
    snprintf(sql, sizeof sql, "UPDATE visits SET comment = comment || '!' WHERE id = '%s'", visit);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM complaints WHERE visit_id = '%s'", visit);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 1);
}

/* The phone desk; a holiday in the region's calendar moves the due day. */
static void test_phone_complaint_and_holiday(void **state)
{
    (void)state;
    struct tm today = moscow_today();
    char first[11], due[11], sql[200];
    working_days_after(today, 1, "", first); /* the next working day: made a holiday */
    snprintf(sql, sizeof sql,
             "INSERT INTO calendar_days VALUES ('" REGION "', '%s', false, 'тест')", first);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    cJSON *c = as(&manager_a, "POST", "/api/v1/complaints",
                  "{\"source\":\"phone\",\"cause\":\"rudeness\",\"text\":\"Нагрубила по "
                  "телефону\",\"provider_id\":\"" PROVIDER_A "\",\"worker_id\":\"" WORKER_A2
                  "\",\"person_name\":\"Петров П.П.\",\"phone\":\"+7 912 000-00-00\"}",
                  201);
    working_days_after(today, 5, first, due);
    assert_string_equal(cf_json_str(c, "due"), due);
    assert_string_equal(cf_json_str(c, "source"), "phone");
    assert_string_equal(cf_json_str(c, "cause_label"), "Грубость, неуважение");
    assert_string_equal(cf_json_str(c, "opened_by"), "manager-a");
    cJSON_Delete(c);
    snprintf(sql, sizeof sql, "DELETE FROM calendar_days WHERE day = '%s'", first);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    /* refusals */
    cf_api_expect_problem(as(&manager_a, "POST", "/api/v1/complaints",
                             "{\"source\":\"phone\",\"cause\":\"nonsense\",\"text\":\"x\","
                             "\"provider_id\":\"" PROVIDER_A "\"}",
                             422),
                          "validation", "cause");
    cf_api_expect_problem(as(&manager_a, "POST", "/api/v1/complaints",
                             "{\"source\":\"phone\",\"cause\":\"other\",\"text\":\"x\","
                             "\"provider_id\":\"" PROVIDER_A "\",\"worker_id\":\"" WORKER_B "\"}",
                             422),
                          "validation", "worker_id");
    cf_api_expect_problem(as(&manager_a, "POST", "/api/v1/complaints",
                             "{\"source\":\"public\",\"cause\":\"other\",\"text\":\"x\","
                             "\"provider_id\":\"" PROVIDER_A "\"}",
                             422),
                          "validation", "source");
    cf_api_expect_problem(as(&manager_a, "POST", "/api/v1/complaints",
                             "{\"source\":\"phone\",\"cause\":\"other\",\"text\":\"x\"}", 422),
                          "validation", "visit_id");
}

/* ==== Transitions ==== */

static void test_transitions(void **state)
{
    (void)state;
    cJSON *c = as(&manager_a, "POST", "/api/v1/complaints",
                  "{\"source\":\"follow_up\",\"cause\":\"lateness\",\"text\":\"Опаздывает "
                  "каждый раз\",\"provider_id\":\"" PROVIDER_A "\"}",
                  201);
    char path[120];
    snprintf(path, sizeof path, "/api/v1/complaints/%s/transitions", cf_json_str(c, "id"));
    cJSON_Delete(c);
    cf_api_expect_problem(as(&manager_a, "POST", path, "{\"to\":\"closed\"}", 409),
                          "illegal-transition", "to");
    cf_api_expect_problem(as(&manager_a, "POST", path, "{\"to\":\"open\"}", 409),
                          "illegal-transition", "to");
    cf_api_expect_problem(as(&manager_a, "POST", path, "{\"to\":\"answered\"}", 422), "validation",
                          "answer");
    cf_api_expect_problem(as(&manager_a, "POST", path,
                             "{\"to\":\"answered\",\"answer\":\"Да\",\"cause\":\"nope\"}", 422),
                          "validation", "cause");
    c = as(&manager_a, "POST", path,
           "{\"to\":\"answered\",\"answer\":\"Работнику сделано замечание, график изменён.\","
           "\"cause\":\"lateness\"}",
           200);
    assert_string_equal(cf_json_str(c, "state"), "answered");
    assert_string_equal(cf_json_str(c, "answered_by"), "manager-a");
    assert_string_equal(cf_json_str(c, "answer"), "Работнику сделано замечание, график изменён.");
    cJSON_Delete(c);
    cf_api_expect_problem(
        as(&manager_a, "POST", path, "{\"to\":\"answered\",\"answer\":\"ещё\"}", 409),
        "illegal-transition", "to");
    c = as(&manager_a, "POST", path, "{\"to\":\"closed\"}", 200);
    assert_string_equal(cf_json_str(c, "state"), "closed");
    cJSON_Delete(c);
    c = as(&manager_a, "POST", path, "{\"to\":\"open\"}", 200);
    assert_string_equal(cf_json_str(c, "state"), "open");
    assert_int_equal(cf_json_long(c, "reopened"), 1);
    cJSON_Delete(c);
    cf_api_expect_problem(as(&manager_a, "POST", path, "{\"to\":\"open\"}", 409),
                          "illegal-transition", "to");
    cf_api_expect_problem(as(&manager_a, "POST",
                             "/api/v1/complaints/00000000-0000-4000-8000-00000000dead/transitions",
                             "{\"to\":\"closed\"}", 404),
                          "not-found", NULL);
    cf_api_expect_problem(as(&manager_a, "POST", path, "{\"to\":\"deleted\"}", 422), "validation",
                          "to");
}

/* Overdue: open past its due day; an answered one is not. */
static void test_overdue(void **state)
{
    (void)state;
    cJSON *c = as(&manager_a, "POST", "/api/v1/complaints",
                  "{\"source\":\"phone\",\"cause\":\"quality\",\"text\":\"Давно\","
                  "\"provider_id\":\"" PROVIDER_A "\"}",
                  201);
    char sql[200], id[40];
    snprintf(id, sizeof id, "%s", cf_json_str(c, "id"));
    cJSON_Delete(c);
    snprintf(sql, sizeof sql,
             "UPDATE complaints SET due = (now() AT TIME ZONE 'Europe/Moscow')::date - 1 "
             "WHERE id = '%s'",
             id);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    cJSON *answer = list(&manager_a, "?overdue=true");
    const cJSON *item;
    bool seen = false;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(answer, "items"))
    {
        assert_true(cf_json_true(item, "overdue"));
        seen = seen || strcmp(cf_json_str(item, "id"), id) == 0;
    }
    assert_true(seen);
    cJSON_Delete(answer);
    /* due today is not overdue yet (mutant complaints.overdue-on-due-day) */
    snprintf(sql, sizeof sql,
             "UPDATE complaints SET due = (now() AT TIME ZONE 'Europe/Moscow')::date "
             "WHERE id = '%s'",
             id);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    char path[80];
    snprintf(path, sizeof path, "/api/v1/complaints/%s", id);
    c = as(&manager_a, "GET", path, NULL, 200);
    assert_false(cf_json_true(c, "overdue"));
    cJSON_Delete(c);
}

/* ==== Who sees what ==== */

static void test_row_level_security(void **state)
{
    (void)state;
    cJSON *c = as(&manager_b, "POST", "/api/v1/complaints",
                  "{\"source\":\"phone\",\"cause\":\"other\",\"text\":\"Про Бету\","
                  "\"provider_id\":\"" PROVIDER_B "\"}",
                  201);
    char b_id[40], path[120];
    snprintf(b_id, sizeof b_id, "%s", cf_json_str(c, "id"));
    cJSON_Delete(c);
    /* manager A sees none of B's, manager B none of A's; the authority both */
    cJSON *a_list = list(&manager_a, "?limit=200");
    cJSON *b_list = list(&manager_b, "?limit=200");
    cJSON *all = list(&authority, "?limit=200");
    const cJSON *item;
    int a_n = 0, b_n = 0;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(a_list, "items"))
    {
        assert_string_equal(cf_json_str(cJSON_GetObjectItem(item, "provider"), "id"), PROVIDER_A);
        a_n++;
    }
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(b_list, "items"))
    {
        assert_string_equal(cf_json_str(cJSON_GetObjectItem(item, "provider"), "id"), PROVIDER_B);
        b_n++;
    }
    assert_true(a_n >= 1 && b_n == 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(all, "items")), a_n + b_n);
    cJSON_Delete(a_list);
    cJSON_Delete(b_list);
    cJSON_Delete(all);
    snprintf(path, sizeof path, "/api/v1/complaints/%s", b_id);
    cf_api_expect_problem(as(&manager_a, "GET", path, NULL, 404), "not-found", NULL);
    snprintf(path, sizeof path, "/api/v1/complaints/%s/transitions", b_id);
    cf_api_expect_problem(
        as(&manager_a, "POST", path, "{\"to\":\"answered\",\"answer\":\"Чужая\"}", 404),
        "not-found", NULL);
    cf_api_expect_problem(
        as(&manager_a, "GET", "/api/v1/complaints?provider=" PROVIDER_B, NULL, 403), "forbidden",
        "provider");
    cf_api_expect_problem(as(&manager_a, "POST", "/api/v1/complaints",
                             "{\"source\":\"phone\",\"cause\":\"other\",\"text\":\"x\","
                             "\"provider_id\":\"" PROVIDER_B "\"}",
                             403),
                          "forbidden", "provider_id");
    /* a visit of A named by B's manager: not one B may see */
    char visit[37];
    cJSON *a_any = list(&manager_a, "?limit=200");
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(a_any, "items"))
    {
        if (cf_json_str(item, "visit_id")[0])
            snprintf(visit, sizeof visit, "%s", cf_json_str(item, "visit_id"));
    }
    cJSON_Delete(a_any);
    char body[300];
    snprintf(body, sizeof body,
             "{\"source\":\"phone\",\"cause\":\"other\",\"text\":\"x\",\"visit_id\":\"%s\"}",
             visit);
    cf_api_expect_problem(as(&manager_b, "POST", "/api/v1/complaints", body, 422), "validation",
                          "visit_id");
}

/* ==== The citizen's page ==== */

static char public_number[32], public_code[16], public_id[40];

static void test_public_complaints(void **state)
{
    (void)state;
    cJSON *c =
        as(NULL, "POST", "/api/v1/public/complaints",
           "{\"about\":\"office\",\"appointment_id\":\"" APPOINTMENT "\",\"secret\":\"" SECRET
           "\",\"cause\":\"office_waiting\",\"text\":\"Ждала 40 минут после времени "
           "записи\"}",
           201);
    char office_id[40], due[11];
    snprintf(office_id, sizeof office_id, "%s", cf_json_str(c, "id"));
    /* its number and code, shown once: the citizen reads the answer with them */
    snprintf(public_number, sizeof public_number, "%s", cf_json_str(c, "number"));
    snprintf(public_code, sizeof public_code, "%s", cf_json_str(c, "code"));
    snprintf(public_id, sizeof public_id, "%s", office_id);
    assert_int_equal(strncmp(public_number, "Ж-", strlen("Ж-")), 0);
    assert_int_equal(strlen(public_code), 10);
    assert_int_equal(strspn(public_code, "0123456789"), 10);
    working_days_after(moscow_today(), 5, "", due);
    assert_string_equal(cf_json_str(c, "due"), due);
    assert_string_equal(cf_json_str(c, "state"), "open");
    cJSON_Delete(c);
    char path[80];
    snprintf(path, sizeof path, "/api/v1/complaints/%s", office_id);
    /* mutant complaints.office-visible-to-managers */
    cf_api_expect_problem(as(&manager_a, "GET", path, NULL, 404), "not-found", NULL);
    c = as(&authority, "GET", path, NULL, 200);
    assert_string_equal(cf_json_str(cJSON_GetObjectItem(c, "office"), "id"), OFFICE);
    assert_string_equal(cf_json_str(c, "source"), "public");
    assert_string_equal(cf_json_str(c, "opened_by"), "citizen");
    cJSON_Delete(c);
    /* a wrong secret is nothing of theirs */
    cf_api_expect_problem(as(NULL, "POST", "/api/v1/public/complaints",
                             "{\"about\":\"office\",\"appointment_id\":\"" APPOINTMENT
                             "\",\"secret\":\"ffffffffffffffffffffffffffffffff\",\"cause\":"
                             "\"other\",\"text\":\"x\"}",
                             422),
                          "validation", "appointment_id");
    /* a home visit: the application's number and code find the recipient's visit */
    c = as(NULL, "POST", "/api/v1/public/complaints",
           "{\"about\":\"home\",\"number\":\"" APP_NUMBER "\",\"code\":\"" APP_CODE
           "\",\"visit_date\":\"2026-11-22\",\"cause\":\"short_visit\",\"text\":\"Пробыла 10 "
           "минут\"}",
           201);
    snprintf(path, sizeof path, "/api/v1/complaints/%s", cf_json_str(c, "id"));
    cJSON_Delete(c);
    c = as(&manager_a, "GET", path, NULL, 200);
    assert_string_equal(cf_json_str(cJSON_GetObjectItem(c, "provider"), "id"), PROVIDER_A);
    assert_string_equal(cf_json_str(c, "cause"), "short_visit");
    assert_true(cf_json_str(c, "visit_id")[0] != '\0');
    cJSON_Delete(c);
    cf_api_expect_problem(as(NULL, "POST", "/api/v1/public/complaints",
                             "{\"about\":\"home\",\"number\":\"" APP_NUMBER
                             "\",\"code\":\"0000000000\",\"cause\":\"other\",\"text\":\"x\"}",
                             422),
                          "validation", "number");
    cf_api_expect_problem(as(NULL, "POST", "/api/v1/public/complaints",
                             "{\"about\":\"home\",\"number\":\"" APP_NUMBER
                             "\",\"code\":\"" APP_CODE
                             "\",\"visit_date\":\"2026-10-01\",\"cause\":\"other\",\"text\":\"x\"}",
                             422),
                          "validation", "number");
    cf_api_expect_problem(as(NULL, "POST", "/api/v1/public/complaints",
                             "{\"about\":\"shop\",\"cause\":\"other\",\"text\":\"x\"}", 422),
                          "validation", "about");
    /* 10 complaints an hour from one address, then each waits: 6 went above (mutant
     * complaints.public-throttle) */
    for (int i = 0; i < 4; i++)
        cJSON_Delete(as(NULL, "POST", "/api/v1/public/complaints",
                        "{\"about\":\"office\",\"appointment_id\":\"" APPOINTMENT
                        "\",\"secret\":\"" SECRET "\",\"cause\":\"other\",\"text\":\"ещё\"}",
                        201));
    cJSON *problem = as(NULL, "POST", "/api/v1/public/complaints",
                        "{\"about\":\"office\",\"appointment_id\":\"" APPOINTMENT
                        "\",\"secret\":\"" SECRET "\",\"cause\":\"other\",\"text\":\"ещё\"}",
                        429);
    assert_true(cf_json_long(problem, "retry_after_s") >= 1);
    cf_api_expect_problem(problem, "rate-limited", NULL);
}

/* One request with raw body and headers whose status must be want (the edge's answers:
 * malformed JSON 400, not JSON 415, over the route's cap 413). */
static void edge(struct cf_session *who, const char *path, const char *body, size_t len,
                 const char *header, long want)
{
    const char *headers[2] = {header, NULL};
    struct cf_http_reply reply;
    harness.session = who;
    assert_int_equal(
        cf_http_with(&harness, "POST", path, body, len, header ? headers : NULL, &reply), 0);
    harness.session = NULL;
    if (reply.status != want)
        fail_msg("POST %s: %ld, want %ld: %s", path, reply.status, want, reply.body);
    cf_http_reply_cleanup(&reply);
}

/* The three edges of a JSON body route. */
static void edges(struct cf_session *who, const char *path)
{
    size_t big = 20 * 1024;
    char *large = malloc(big + 1);
    assert_non_null(large);
    memset(large, ' ', big);
    large[0] = '{';
    large[big - 1] = '}';
    large[big] = '\0';
    edge(who, path, "{not json", 9, NULL, 400);
    edge(who, path, "{}", 2, "Content-Type: text/plain", 415);
    edge(who, path, large, big, NULL, 413);
    free(large);
}

/* ==== The citizen reads the answer ==== */

static cJSON *status_of(const char *number, const char *code, long want)
{
    char body[160];
    snprintf(body, sizeof body, "{\"number\":\"%s\",\"code\":\"%s\"}", number, code);
    return as(NULL, "POST", "/api/v1/public/complaints/status", body, want);
}

/* mutant complaints.status-without-code, complaints.status-throttle */
static void test_complaint_status(void **state)
{
    (void)state;
    edges(NULL, "/api/v1/public/complaints/status");
    /* open: its state and due day, nothing of who wrote what */
    cJSON *st = status_of(public_number, public_code, 200);
    assert_string_equal(cf_json_str(st, "number"), public_number);
    assert_string_equal(cf_json_str(st, "state"), "open");
    assert_string_equal(cf_json_str(st, "cause_label"), "Долгое ожидание в офисе");
    assert_true(cf_json_str(st, "due")[0] != '\0');
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(st, "answer")));
    assert_null(cJSON_GetObjectItem(st, "text"));
    assert_null(cJSON_GetObjectItem(st, "person_name"));
    assert_null(cJSON_GetObjectItem(st, "phone"));
    cJSON_Delete(st);
    /* a wrong code and an unknown number are the same 404 */
    cf_api_expect_problem(status_of(public_number, "0000000000", 404), "not-found", NULL);
    cf_api_expect_problem(status_of("Ж-999999", public_code, 404), "not-found", NULL);
    cf_api_expect_problem(status_of("abc", public_code, 422), "validation", "number");
    cf_api_expect_problem(status_of(public_number, "123", 422), "validation", "code");
    cJSON_Delete(as(NULL, "POST", "/api/v1/public/complaints/status", "{\"number\":", 400));
    /* answered: the answer shows, to the number typed as people type it */
    char path[120], typed[32];
    snprintf(path, sizeof path, "/api/v1/complaints/%s/transitions", public_id);
    cJSON_Delete(as(&authority, "POST", path,
                    "{\"to\":\"answered\",\"answer\":\"Добавили окно приёма по вторникам\"}", 200));
    snprintf(typed, sizeof typed, "ж%s", public_number + strlen("Ж-"));
    st = status_of(typed, public_code, 200);
    assert_string_equal(cf_json_str(st, "state"), "answered");
    assert_string_equal(cf_json_str(st, "answer"), "Добавили окно приёма по вторникам");
    cJSON_Delete(st);

    /* the phone desk: the code comes with the complaint, to read to the person */
    cJSON *c = as(&manager_a, "POST", "/api/v1/complaints",
                  "{\"source\":\"phone\",\"cause\":\"quality\",\"text\":\"Плохо убрали\","
                  "\"provider_id\":\"" PROVIDER_A "\"}",
                  201);
    char number[32], code[16], id[40];
    snprintf(number, sizeof number, "%s", cf_json_str(c, "number"));
    snprintf(code, sizeof code, "%s", cf_json_str(c, "code"));
    snprintf(id, sizeof id, "%s", cf_json_str(c, "id"));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(c, "has_code")));
    cJSON_Delete(c);
    cJSON_Delete(status_of(number, code, 200));
    /* a new code (the person lost it): the old one stops working; another provider's
     * manager cannot */
    snprintf(path, sizeof path, "/api/v1/complaints/%s/code", id);
    cf_api_expect_problem(as(&manager_b, "POST", path, NULL, 404), "not-found", NULL);
    c = as(&manager_a, "POST", path, NULL, 200);
    assert_string_equal(cf_json_str(c, "number"), number);
    char fresh[16];
    snprintf(fresh, sizeof fresh, "%s", cf_json_str(c, "code"));
    cJSON_Delete(c);
    cf_api_expect_problem(status_of(number, code, 404), "not-found", NULL);
    cJSON_Delete(status_of(number, fresh, 200));
    /* a complaint opened by a low rating has no code: nobody reads it by number alone */
    char *auto_number = cf_harness_sql_value(
        &harness, "SELECT number FROM complaints WHERE source = 'low_rating' LIMIT 1");
    assert_non_null(auto_number);
    char *has =
        cf_harness_sql_value(&harness, "SELECT count(*) FROM complaints WHERE code_hash IS NULL");
    assert_string_not_equal(has, "0");
    free(has);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT complaint_public_status('%s', NULL) IS NULL", auto_number);
    char *none = cf_harness_sql_value(&harness, sql);
    assert_string_equal(none, "t");
    free(none);
    free(auto_number);
    /* 20 look-ups from one address within 15 minutes, then each waits */
    long status = 0;
    int tries = 0;
    char body[160];
    snprintf(body, sizeof body, "{\"number\":\"%s\",\"code\":\"0000000000\"}", number);
    while (status != 429 && tries++ < 25) {
        struct cf_http_reply reply;
        harness.session = NULL;
        assert_int_equal(cf_http(&harness, "POST", "/api/v1/public/complaints/status", body,
                                 strlen(body), &reply),
                         0);
        status = reply.status;
        cf_http_reply_cleanup(&reply);
    }
    assert_int_equal(status, 429);
    assert_true(tries <= 20); /* 10 were above */
}

/* ==== Trend alerts ==== */

static bool has_alert(cJSON *alerts, const char *kind, const char *provider, const char *worker)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(alerts, "items"))
    {
        if (strcmp(cf_json_str(item, "kind"), kind) == 0 &&
            strcmp(cf_json_str(cJSON_GetObjectItem(item, "provider"), "id"), provider) == 0 &&
            (!worker ||
             strcmp(cf_json_str(cJSON_GetObjectItem(item, "worker"), "id"), worker) == 0))
            return true;
    }
    return false;
}

static void test_trend_alerts(void **state)
{
    (void)state;
    /* B: one complaint on WORKER_B (from the RLS test), 200 ended visits in 30 days */
    assert_int_equal(
        cf_harness_sql(&harness, "INSERT INTO visits (id, provider_id, worker_id, state, "
                                 "  started_at, ended_at, sort_at) "
                                 "SELECT gen_random_uuid(), '" PROVIDER_B "', '" WORKER_B "', "
                                 "  'ended', now() - i * interval '1 hour', "
                                 "  now() - i * interval '1 hour' + interval '40 minutes', "
                                 "  now() - i * interval '1 hour' FROM generate_series(1, 200) i"),
        0);
    assert_int_equal(cf_harness_sql(&harness,
                                    "UPDATE complaints SET worker_id = '" WORKER_B "' WHERE "
                                    "provider_id = '" PROVIDER_B "'"),
                     0);
    cJSON *alerts = as(&authority, "GET", "/api/v1/complaints/alerts", NULL, 200);
    /* WORKER_B has 1: none yet */
    assert_false(has_alert(alerts, "worker", PROVIDER_B, WORKER_B));
    assert_false(has_alert(alerts, "provider", PROVIDER_B, NULL));
    /* A: many complaints over its few visits in 30 days */
    assert_true(has_alert(alerts, "provider", PROVIDER_A, NULL));
    cJSON_Delete(alerts);
    /* a second one on WORKER_B within 30 days: an alert on the worker */
    cJSON_Delete(as(&manager_b, "POST", "/api/v1/complaints",
                    "{\"source\":\"phone\",\"cause\":\"rudeness\",\"text\":\"Снова\","
                    "\"provider_id\":\"" PROVIDER_B "\",\"worker_id\":\"" WORKER_B "\"}",
                    201));
    alerts = as(&manager_b, "GET", "/api/v1/complaints/alerts", NULL, 200);
    assert_true(
        has_alert(alerts, "worker", PROVIDER_B, WORKER_B)); /* complaints.worker-alert-threshold */
    assert_false(has_alert(alerts, "provider", PROVIDER_B, NULL)); /* 2 of 200 visits */
    assert_false(has_alert(alerts, "provider", PROVIDER_A, NULL)); /* not B's to see */
    cJSON_Delete(alerts);
    /* one older than 30 days does not count */
    assert_int_equal(
        cf_harness_sql(&harness,
                       "UPDATE complaints SET opened_at = now() - interval '31 days' "
                       "WHERE id = (SELECT id FROM complaints WHERE worker_id = '" WORKER_B
                       "' ORDER BY opened_at LIMIT 1)"),
        0);
    alerts = as(&manager_b, "GET", "/api/v1/complaints/alerts", NULL, 200);
    assert_false(has_alert(alerts, "worker", PROVIDER_B, WORKER_B));
    cJSON_Delete(alerts);
}

/* ==== The comparison ==== */

/* The test's own 95 % Wilson lower bound (mutant compare.wilson-term); the seeded visits
 * include unconfirmed ratings (compare.unconfirmed-ratings) and starts exactly 15 minutes
 * from their plans (compare.punctual-boundary). */
static double wilson(double k, double n)
{
    const double z = 1.959964;
    double p = k / n;
    return (p + z * z / (2 * n) - z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))) /
           (1 + z * z / n);
}

/* One visit of October 2026 (Moscow) the test seeds: its provider, whether confirmed at
 * both ends, its rating (0: none), minutes from its plan (NO_PLAN: none). */
#define NO_PLAN 9999
struct seeded {
    const char *provider;
    bool confirmed;
    int rating, late;
};

static void test_comparison(void **state)
{
    (void)state;
    struct seeded v[120];
    int n = 0;
    for (int i = 0; i < 80; i++) /* A: mostly good, punctual */
        v[n++] =
            (struct seeded){PROVIDER_A, i % 10 != 0, i % 8 == 0 ? 3 : 5,
                            i % 4 == 0 ? 16 : (i % 4 == 1 ? -15 : (i % 4 == 2 ? 15 : NO_PLAN))};
    for (int i = 0; i < 40; i++) /* B: fewer, worse */
        v[n++] = (struct seeded){PROVIDER_B, i % 2 == 0, i % 3 == 0 ? 0 : (i % 3 == 1 ? 2 : 4),
                                 i % 2 == 0 ? -20 : 5};
    char sql[1024];
    for (int i = 0; i < n; i++) {
        /* 2026-10-01 00:00 Moscow is 2026-09-30T21:00Z: the first at that instant */
        char plan[120] = "NULL";
        if (v[i].late != NO_PLAN) {
            snprintf(
                sql, sizeof sql,
                "INSERT INTO visit_plans (id, provider_id, worker_id, recipient_id, "
                "planned_start) VALUES ('00000000-0000-4000-8000-%012d', '%s', '%s', '" RECIPIENT
                "', timestamptz '2026-09-30T21:00:00Z' + interval '%d hours')",
                i, v[i].provider, v[i].provider[35] == '2' ? WORKER : WORKER_B, i * 5);
            assert_int_equal(cf_harness_sql(&harness, sql), 0);
            snprintf(plan, sizeof plan, "'00000000-0000-4000-8000-%012d'", i);
        }
        char rating[8] = "NULL";
        if (v[i].rating)
            snprintf(rating, sizeof rating, "%d", v[i].rating);
        snprintf(sql, sizeof sql,
                 "INSERT INTO visits (id, provider_id, worker_id, plan_id, state, started_at, "
                 "ended_at, sort_at, start_confirmed, end_confirmed, rating) "
                 "SELECT gen_random_uuid(), '%s', '%s', %s, '%s', s, s + interval '40 minutes', "
                 "s, %s, %s, %s "
                 "FROM (SELECT timestamptz '2026-09-30T21:00:00Z' + interval '%d hours' + "
                 "%d * interval '1 minute' AS s) t",
                 v[i].provider, v[i].provider[35] == '2' ? WORKER : WORKER_B, plan,
                 v[i].rating ? "rated" : "ended", v[i].confirmed ? "true" : "false",
                 v[i].confirmed ? "true" : "false", rating, i * 5,
                 v[i].late == NO_PLAN ? 0 : v[i].late);
        assert_int_equal(cf_harness_sql(&harness, sql), 0);
    }
    /* outside the month: the first instant of November (Moscow), a September visit */
    assert_int_equal(
        cf_harness_sql(&harness,
                       "INSERT INTO visits (id, provider_id, worker_id, state, started_at, "
                       "ended_at, sort_at, start_confirmed, end_confirmed, rating) VALUES "
                       "(gen_random_uuid(), '" PROVIDER_A "', '" WORKER "', 'rated', "
                       "'2026-10-31T21:00:00Z', '2026-10-31T22:00:00Z', '2026-10-31T21:00:00Z', "
                       "true, true, 1), "
                       "(gen_random_uuid(), '" PROVIDER_A "', '" WORKER "', 'rated', "
                       "'2026-09-30T20:59:00Z', '2026-09-30T22:00:00Z', '2026-09-30T20:59:00Z', "
                       "true, true, 1), "
                       "(gen_random_uuid(), '" PROVIDER_A "', '" WORKER "', 'cancelled', "
                       "NULL, NULL, '2026-10-10T10:00:00Z', false, false, NULL)"),
        0);
    cJSON *cmp =
        as(NULL, "GET", "/api/v1/public/comparison?region=" REGION "&month=2026-10", NULL, 200);
    assert_string_equal(cf_json_str(cmp, "month"), "2026-10");
    assert_int_equal(cf_json_long(cmp, "punctual_minutes"), 15);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cmp, "regions")), 2);
    const cJSON *providers = cJSON_GetObjectItem(cmp, "providers");
    assert_int_equal(cJSON_GetArraySize(providers), 2); /* C is another region's */
    for (int p = 0; p < 2; p++) {
        const char *id = p == 0 ? PROVIDER_A : PROVIDER_B;
        long ended = 0, confirmed = 0, rated = 0, satisfied = 0, planned = 0, punctual = 0;
        for (int i = 0; i < n; i++) {
            if (strcmp(v[i].provider, id) != 0)
                continue;
            ended++;
            if (!v[i].confirmed)
                continue;
            confirmed++;
            rated += v[i].rating > 0;
            satisfied += v[i].rating >= 4;
            planned += v[i].late != NO_PLAN;
            punctual += v[i].late != NO_PLAN && abs(v[i].late) <= 15;
        }
        const cJSON *item = cJSON_GetArrayItem(providers, p);
        assert_string_equal(cf_json_str(item, "id"), id);
        assert_int_equal(cf_json_long(item, "ended"), ended);
        assert_int_equal(cf_json_long(item, "confirmed"), confirmed);
        assert_int_equal(cf_json_long(item, "rated"), rated);
        assert_int_equal(cf_json_long(item, "satisfied"), satisfied);
        assert_int_equal(cf_json_long(item, "planned"), planned);
        assert_int_equal(cf_json_long(item, "punctual"), punctual);
        assert_true(fabs(cf_json_num(item, "satisfied_lower") - wilson(satisfied, rated)) < 1e-4);
        assert_true(fabs(cf_json_num(item, "confirmed_share") - (double)confirmed / ended) < 1e-4);
        assert_true(fabs(cf_json_num(item, "punctual_share") - (double)punctual / planned) < 1e-4);
    }
    cJSON_Delete(cmp);
    /* the known values of the bound, through SQL */
    char *b = cf_harness_sql_value(&harness, "SELECT round(wilson_lower(20, 20)::numeric, 4) || "
                                             "' ' || round(wilson_lower(73, 73)::numeric, 4) || "
                                             "' ' || coalesce(wilson_lower(0, 0)::text, 'null')");
    assert_string_equal(b, "0.8389 0.9500 null");
    free(b);
    /* the other region: its own provider, with nothing that month */
    cmp = as(NULL, "GET", "/api/v1/public/comparison?region=" REGION_2 "&month=2026-10", NULL, 200);
    providers = cJSON_GetObjectItem(cmp, "providers");
    assert_int_equal(cJSON_GetArraySize(providers), 1);
    assert_int_equal(cf_json_long(cJSON_GetArrayItem(providers, 0), "ended"), 0);
    assert_true(
        cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(providers, 0), "satisfied_lower")));
    cJSON_Delete(cmp);
    /* without a month: the last full month */
    cmp = as(NULL, "GET", "/api/v1/public/comparison", NULL, 200);
    char *last = cf_harness_sql_value(
        &harness, "SELECT to_char(date_trunc('month', now() AT TIME ZONE 'Europe/Moscow') - "
                  "interval '1 month', 'YYYY-MM')");
    assert_string_equal(cf_json_str(cmp, "month"), last);
    free(last);
    cJSON_Delete(cmp);
    cf_api_expect_problem(as(NULL, "GET", "/api/v1/public/comparison?month=2026-13", NULL, 400),
                          "validation", "month");
    cf_api_expect_problem(
        as(NULL, "GET", "/api/v1/public/comparison?region=00000000-0000-4000-8000-0000000000ff",
           NULL, 404),
        "not-found", "region");
}

/* Bad input is a 400 problem naming what is wrong, never a 500. */
static void test_bad_input(void **state)
{
    (void)state;
    cf_api_expect_problem(as(&manager_a, "GET", "/api/v1/complaints?state=lost", NULL, 400),
                          "validation", "state");
    cf_api_expect_problem(as(&manager_a, "GET", "/api/v1/complaints?limit=0", NULL, 400),
                          "validation", "limit");
    cJSON_Delete(as(&manager_a, "POST", "/api/v1/complaints", "{\"source\":", 400));
    cJSON_Delete(as(&manager_a, "POST",
                    "/api/v1/complaints/00000000-0000-4000-8000-00000000dead/transitions", "{",
                    400));
    assert_int_equal(cf_harness_sql(&harness, "DELETE FROM login_throttle"), 0);
    cJSON_Delete(as(NULL, "POST", "/api/v1/public/complaints", "[1,", 400));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_low_rating_with_comment_opens_complaint_same_day),
        cmocka_unit_test(test_phone_complaint_and_holiday),
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_overdue),
        cmocka_unit_test(test_row_level_security),
        cmocka_unit_test(test_public_complaints),
        cmocka_unit_test(test_complaint_status),
        cmocka_unit_test(test_trend_alerts),
        cmocka_unit_test(test_comparison),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
