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
#define PROVIDER_2 "00000000-0000-4000-8000-000000000003"
#define WORKER_1 "00000000-0000-4000-8000-0000000000a1" /* of PROVIDER */
#define WORKER_2 "00000000-0000-4000-8000-0000000000a2" /* of PROVIDER_2 */
#define PASSWORD "correct horse battery"

static struct cf_harness harness;
static struct cf_session intake_a, lead_a, intake_b, caseworker, manager, manager_2;
static char holiday[11]; /* the first weekday after today, made a holiday */

static const char seed_sql[] =
    "INSERT INTO regions VALUES ('" REGION "', 'Тестовая область', decode(repeat('ab', 32), "
    "  'hex'));"
    "INSERT INTO providers VALUES ('" PROVIDER "', '" REGION "', 'КЦСОН Тестовый');"
    "INSERT INTO offices (id, region_id, kind, name) VALUES "
    "  ('" OFFICE_A "', '" REGION "', 'mfc', 'МФЦ Центральный'),"
    "  ('" OFFICE_B "', '" REGION "', 'authorised', 'Уполномоченный, д. Луговая'),"
    "  ('" BACK "', '" REGION "', 'back_office', 'Департамент соцзащиты');"
    "INSERT INTO providers VALUES ('" PROVIDER_2 "', '" REGION "', 'КЦСОН Второй');"
    "INSERT INTO workers (id, provider_id, full_name) VALUES "
    "  ('" WORKER_1 "', '" PROVIDER "', 'Иванова Анна'),"
    "  ('" WORKER_2 "', '" PROVIDER_2 "', 'Петрова Ольга');"
    "INSERT INTO services (code, name, category, form, norm_minutes, tariff_kopecks) VALUES "
    "  ('HH-SHOP', 'Покупка продуктов', 'household', 'home', 30, 15000),"
    "  ('HH-CLEAN', 'Уборка', 'household', 'home', 45, 20000);";

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

/* The public routes are throttled per client address (here always 127.0.0.1): each test
 * starts with a fresh budget. */
static void throttle_reset(void)
{
    assert_int_equal(cf_harness_sql(&harness, "DELETE FROM login_throttle"), 0);
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

/* The date n days after the region's today. */
static void date_after_today(int n, char out[11])
{
    struct tm t;
    region_today(&t);
    t.tm_hour = 12;
    t.tm_mday += n;
    time_t then = timegm(&t);
    gmtime_r(&then, &t);
    date_text(&t, out);
}

/* An approval's body: provider, term, the first service's code (the other is
 * HH-CLEAN) and the first rule's worker (the other is WORKER_1). Two rules: Monday,
 * Wednesday, Friday at 10:00 (the first service) and the other days at 14:30 (both):
 * every day of the term has one plan, so a plan outside the term shows. */
static void approval_body(char *out, size_t size, const char *provider, const char *from,
                          const char *to, const char *service, const char *worker)
{
    snprintf(out, size,
             "{\"to\":\"approved\",\"programme\":{\"provider_id\":\"%s\",\"valid_from\":\"%s\","
             "\"valid_to\":\"%s\",\"services\":[{\"code\":\"%s\",\"volume\":12,\"period\":"
             "\"month\"},{\"code\":\"HH-CLEAN\",\"volume\":4,\"period\":\"month\"}],"
             "\"rules\":[{\"worker_id\":\"%s\",\"weekdays\":[1,3,5],\"time\":\"10:00\","
             "\"services\":[\"%s\"]},{\"worker_id\":\"" WORKER_1 "\",\"weekdays\":[2,4,6,7],"
             "\"time\":\"14:30\",\"services\":[\"HH-CLEAN\",\"%s\"]}]}}",
             provider, from, to, service, worker, service, service);
}

static void approve(struct cf_session *who, const char *id, const char *body, long want,
                    const char *problem, const char *field)
{
    char path[120];
    snprintf(path, sizeof path, "/api/v1/applications/%s/transitions", id);
    cJSON *res = as(who, "POST", path, body, want);
    if (problem)
        cf_api_expect_problem(res, problem, field);
    else {
        assert_string_equal(cf_json_str(cJSON_GetObjectItem(res, "application"), "state"),
                            "approved");
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
    throttle_reset();
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

    /* what each role may do next: the lead verifies, returns or withdraws; the intake
     * only withdraws */
    char path[100];
    snprintf(path, sizeof path, "/api/v1/applications/%s", id);
    cJSON *next = as(&lead_a, "GET", path, NULL, 200);
    const cJSON *steps = cJSON_GetObjectItem(next, "transitions");
    assert_int_equal(cJSON_GetArraySize(steps), 3);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(steps, 0), "to"), "returned");
    assert_true(cf_json_true(cJSON_GetArrayItem(steps, 0), "reason_required"));
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(steps, 1), "to"), "verified");
    cJSON_Delete(next);
    next = as(&intake_a, "GET", path, NULL, 200);
    steps = cJSON_GetObjectItem(next, "transitions");
    assert_int_equal(cJSON_GetArraySize(steps), 1);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(steps, 0), "to"), "withdrawn");
    cJSON_Delete(next);

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
    char approval[1500], from[11], to[11];
    date_after_today(0, from);
    date_after_today(365, to);
    approval_body(approval, sizeof approval, PROVIDER, from, to, "HH-SHOP", WORKER_1);
    approve(&caseworker, id, approval, 409, "illegal-transition", "to");
    move(&caseworker, id, "assessment", NULL, 200, NULL, NULL);
    /* an approval without its programme decides nothing */
    move(&caseworker, id, "approved", NULL, 422, "validation", "programme");
    approve(&caseworker, id, approval, 200, NULL, NULL);
    move(&caseworker, id, "returned", "поздно", 409, "illegal-transition", "to");

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
    throttle_reset();
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

/* Count, independently of the server, the plans the rules of approval_body make from
 * day `from_offset` (days after today) through the 14 days' horizon or the term's end
 * (`to_offset`): one a day; with mwf, only those of the first rule (Monday, Wednesday,
 * Friday). */
static long expected_plans(int from_offset, int to_offset, bool mwf)
{
    long n = 0;
    for (int day = from_offset; day <= 13 && day <= to_offset; day++) {
        struct tm t;
        region_today(&t);
        t.tm_hour = 12;
        t.tm_mday += day;
        time_t then = timegm(&t);
        gmtime_r(&then, &t);
        if (!mwf || t.tm_wday == 1 || t.tm_wday == 3 || t.tm_wday == 5)
            n++;
    }
    return n;
}

static long count(const char *sql_format, const char *arg)
{
    char sql[400];
    snprintf(sql, sizeof sql, sql_format, arg);
    return cf_harness_sql_long(&harness, sql);
}

/* An application taken in at office A and moved to assessment; its id into out. */
static void application_in_assessment(char out[40])
{
    cJSON *filed = as(&intake_a, "POST", "/api/v1/applications", office_form, 201);
    snprintf(out, 40, "%s", cf_json_str(cJSON_GetObjectItem(filed, "application"), "id"));
    cJSON_Delete(filed);
    move(&intake_a, out, "submitted", NULL, 200, NULL, NULL);
    move(&lead_a, out, "verified", NULL, 200, NULL, NULL);
    move(&caseworker, out, "assessment", NULL, 200, NULL, NULL);
}

/* The approval's one transaction: a bad programme is a 422 naming the field and
 * creates nothing; a good one creates exactly one recipient, one certificate with its
 * services, the rules and the plans of the next 14 days within the term, recorded on
 * the application; a second approval is refused; generating again adds nothing. The
 * provider's manager sees and accepts it (once, journalled); another provider's
 * manager neither sees nor accepts it. Renewal is flagged 30 days before the end. */
static void test_approval_programme_plans(void **state)
{
    (void)state;
    throttle_reset();
    assert_int_equal(
        cf_harness_account(&harness, "manager-2", "manager", PROVIDER_2, NULL, PASSWORD), 0);
    assert_int_equal(cf_harness_login(&harness, "manager-2", PASSWORD, &manager_2), 0);
    char id[40], body[1500], from[11], to[11], today[11], path[120];
    application_in_assessment(id);
    date_after_today(0, today);
    date_after_today(2, from); /* the term starts the day after tomorrow */
    date_after_today(9, to); /* and ends before the horizon */
    static const char *const totals =
        "SELECT (SELECT count(*) FROM recipients) * 1000000 + (SELECT count(*) FROM "
        "certificates) * 10000 + (SELECT count(*) FROM visit_plans) * 10 + (SELECT count(*) "
        "FROM programmes)%s";
    long before = count(totals, "");

    /* what the form offers: the region's providers with their active workers, the
     * catalogue */
    snprintf(path, sizeof path, "/api/v1/applications/%s/programme-choices", id);
    cJSON *choices = as(&caseworker, "GET", path, NULL, 200);
    const cJSON *providers = cJSON_GetObjectItem(choices, "providers");
    assert_int_equal(cJSON_GetArraySize(providers), 2);
    assert_string_equal(
        cf_json_str(
            cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(providers, 1), "workers"), 0),
            "id"),
        WORKER_1); /* КЦСОН Тестовый after КЦСОН Второй */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(choices, "services")), 2);
    cJSON_Delete(choices);
    cf_api_expect_problem(as(&intake_a, "GET", path, NULL, 403), "forbidden", NULL);
    cf_api_expect_problem(
        as(&caseworker, "GET",
           "/api/v1/applications/0f000000-0000-4000-8000-000000000001/programme-choices", NULL,
           404),
        "not-found", NULL);

    /* bad programmes: each a 422 naming the field, nothing created, still in assessment */
    approval_body(body, sizeof body, PROVIDER, from, to, "NO-SUCH", WORKER_1);
    approve(&caseworker, id, body, 422, "validation", "programme.services[0].code");
    approval_body(body, sizeof body, PROVIDER, from, to, "HH-SHOP", WORKER_2);
    approve(&caseworker, id, body, 422, "validation", "programme.rules[0].worker_id");
    approval_body(body, sizeof body, PROVIDER, to, from, "HH-SHOP", WORKER_1);
    approve(&caseworker, id, body, 422, "validation", "programme.valid_to");
    approval_body(body, sizeof body, REGION, from, to, "HH-SHOP", WORKER_1);
    approve(&caseworker, id, body, 422, "validation", "programme.provider_id");
    approval_body(body, sizeof body, PROVIDER, from, to, "HH-SHOP", WORKER_1);
    char *at = strstr(body, "[1,3,5]");
    memcpy(at, "[1,3,3]", 7);
    approve(&caseworker, id, body, 422, "validation", "programme.rules[0].weekdays[2]");
    approval_body(body, sizeof body, PROVIDER, from, to, "HH-SHOP", WORKER_1);
    at = strstr(body, "\"10:00\"");
    memcpy(at, "\"24:00\"", 7);
    approve(&caseworker, id, body, 422, "validation", "programme.rules[0].time");
    assert_int_equal(count(totals, ""), before);
    assert_int_equal(count("SELECT count(*) FROM applications WHERE id = '%s' AND state = "
                           "'assessment' AND recipient_id IS NULL",
                           id),
                     1);
    /* only the caseworker approves */
    approval_body(body, sizeof body, PROVIDER, from, to, "HH-SHOP", WORKER_1);
    approve(&lead_a, id, body, 403, "forbidden", "to");

    approve(&caseworker, id, body, 200, NULL, NULL);
    long plans = expected_plans(2, 9, false); /* mutant programmes.plans-before-term */
    assert_int_equal(plans, 8);
    assert_int_equal(count(totals, ""), before + 1000000 + 10000 + plans * 10 + 1);
    assert_int_equal(count("SELECT count(*) FROM recipients r JOIN applications a ON "
                           "a.recipient_id = r.id WHERE a.id = '%s' AND r.full_name = "
                           "a.applicant_name AND r.address = a.applicant_address",
                           id),
                     1);
    assert_int_equal(count("SELECT count(*) FROM certificates c JOIN applications a ON "
                           "a.certificate_id = c.id AND c.recipient_id = a.recipient_id AND "
                           "c.number = a.number WHERE a.id = '%s'",
                           id),
                     1);
    assert_int_equal(count("SELECT count(*) FROM certificate_services cs JOIN applications a "
                           "ON a.certificate_id = cs.certificate_id WHERE a.id = '%s'",
                           id),
                     2);
    /* every plan at its rule's local time, within the term, of the recipient */
    assert_int_equal(
        count("SELECT count(*) FROM visit_plans p JOIN applications a ON "
              "a.recipient_id = p.recipient_id WHERE a.id = '%s' AND "
              "to_char(p.planned_start AT TIME ZONE 'Europe/Moscow', 'HH24:MI') IN "
              "('10:00', '14:30') AND (p.planned_start AT TIME ZONE "
              "'Europe/Moscow')::date - (now() AT TIME ZONE 'Europe/Moscow')::date BETWEEN 2 AND 9",
              id),
        plans);
    /* each on its rule's weekdays */
    assert_int_equal(count("SELECT count(*) FROM visit_plans p JOIN applications a ON "
                           "a.recipient_id = p.recipient_id WHERE a.id = '%s' AND "
                           "extract(isodow FROM p.planned_start AT TIME ZONE 'Europe/Moscow') "
                           "IN (1, 3, 5) AND p.service_codes = '{HH-SHOP}'",
                           id),
                     expected_plans(2, 9, true));
    /* the application records what it made; the caseworker sees the programme */
    snprintf(path, sizeof path, "/api/v1/applications/%s", id);
    cJSON *full = as(&caseworker, "GET", path, NULL, 200);
    const cJSON *app = cJSON_GetObjectItem(full, "application");
    const cJSON *programme = cJSON_GetObjectItem(app, "programme");
    assert_non_null(cf_json_str(app, "recipient_id"));
    assert_non_null(cf_json_str(app, "certificate_id"));
    assert_string_equal(cf_json_str(programme, "valid_to"), to);
    assert_true(cf_json_true(programme, "renewal_due")); /* it ends within 30 days */
    char programme_id[40];
    snprintf(programme_id, sizeof programme_id, "%s", cf_json_str(programme, "id"));
    cJSON_Delete(full);

    /* a second approval is impossible; generating again adds nothing */
    approve(&caseworker, id, body, 409, "illegal-transition", "to");
    char out[80];
    const char *const generate[] = {"plan-visits", NULL};
    assert_int_equal(cf_harness_carefactd(&harness, generate, out, sizeof out), 0);
    assert_string_equal(out, "0 visit plans added");
    assert_int_equal(count(totals, ""), before + 1000000 + 10000 + plans * 10 + 1);
    /* plans dropped from the horizon come back from the daily run, once */
    assert_int_equal(count("WITH x AS (DELETE FROM visit_plans p USING applications a WHERE a.id = "
                           "'%s' AND p.recipient_id = a.recipient_id RETURNING 1) "
                           "SELECT count(*) FROM x",
                           id),
                     plans);
    assert_int_equal(cf_harness_carefactd(&harness, generate, out, sizeof out), 0);
    char want[40];
    snprintf(want, sizeof want, "%ld visit plans added", plans);
    assert_string_equal(out, want);

    /* the provider's manager sees it; another provider's manager does not */
    cJSON *list = as(&manager, "GET", "/api/v1/programmes?accepted=false", NULL, 200);
    const cJSON *item = NULL, *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(list, "items"))
    {
        if (strcmp(cf_json_str(it, "id"), programme_id) == 0)
            item = it;
    }
    assert_non_null(item);
    assert_int_equal(cf_json_long(item, "plans"), plans);
    assert_string_equal(cf_json_str(cJSON_GetObjectItem(item, "recipient"), "full_name"),
                        "Кузнецов Пётр Семёнович");
    assert_int_equal(cJSON_GetArraySize(
                         cJSON_GetObjectItem(cJSON_GetObjectItem(item, "certificate"), "services")),
                     2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(item, "rules")), 2);
    assert_true(cf_json_true(item, "renewal_due"));
    cJSON_Delete(list);
    list = as(&manager_2, "GET", "/api/v1/programmes", NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(list, "items")), 0);
    cJSON_Delete(list);
    snprintf(path, sizeof path, "/api/v1/programmes/%s/accept", programme_id);
    cf_api_expect_problem(as(&manager_2, "POST", path, NULL, 404), "not-found", NULL);
    cf_api_expect_problem(as(&caseworker, "POST", path, NULL, 403), "forbidden", NULL);
    cf_api_expect_problem(as(&manager, "POST", path, "{\"note\":1}", 422), "validation", "note");
    cJSON *accepted = as(&manager, "POST", path, "{}", 200);
    assert_string_equal(cf_json_str(accepted, "accepted_by"), "manager");
    cJSON_Delete(accepted);
    cf_api_expect_problem(as(&manager, "POST", path, NULL, 409), "programme-accepted", NULL);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'programme.accept' AND "
                           "subject = '%s'",
                           programme_id),
                     1);
    cf_api_expect_problem(as(&manager, "GET", "/api/v1/programmes?accepted=maybe", NULL, 400),
                          "validation", "accepted");

    /* renewal: from 30 days before the end, not 31 */
    for (int days = 30; days <= 31; days++) {
        char sql[200], end[11];
        date_after_today(days, end);
        snprintf(sql, sizeof sql, "UPDATE programmes SET valid_to = '%s' WHERE id = '%s'", end,
                 programme_id);
        assert_int_equal(cf_harness_sql(&harness, sql), 0);
        snprintf(path, sizeof path, "/api/v1/applications/%s", id);
        full = as(&caseworker, "GET", path, NULL, 200);
        programme = cJSON_GetObjectItem(cJSON_GetObjectItem(full, "application"), "programme");
        assert_int_equal(cf_json_true(programme, "renewal_due"), days == 30);
        cJSON_Delete(full);
    }
    (void)today;
}

/* Overdue: a decision not taken by its due date is in the overdue queue; pages. */
static void test_overdue_and_pages(void **state)
{
    (void)state;
    throttle_reset();
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

    /* By the start of the number (mutants applications.prefix-upper, .prefix-lower): the
     * office's first and last numbers each find themselves alone; a start finds exactly
     * the office's numbers that begin so; a start no number has finds none. */
    char number[24], start[24], sql[300];
    static const char *const ends[] = {"min", "max"};
    for (int e = 0; e < 2; e++) {
        snprintf(sql, sizeof sql,
                 "SELECT %s(number) FROM applications WHERE office_id = '" OFFICE_A "'", ends[e]);
        char *found = cf_harness_sql_value(&harness, sql);
        assert_non_null(found);
        snprintf(number, sizeof number, "%s", found);
        free(found);
        snprintf(path, sizeof path, "/api/v1/applications?number=%s", number);
        list = as(&lead_a, "GET", path, NULL, 200);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(list, "items")), 1);
        assert_string_equal(
            cf_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(list, "items"), 0), "number"),
            number);
        cJSON_Delete(list);
    }
    snprintf(start, sizeof start, "%.*s", (int)strlen(number) - 1, number);
    snprintf(path, sizeof path, "/api/v1/applications?number=%s&limit=100", start);
    list = as(&lead_a, "GET", path, NULL, 200);
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(list, "items"))
    {
        assert_int_equal(strncmp(cf_json_str(item, "number"), start, strlen(start)), 0);
    }
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM applications WHERE office_id = '" OFFICE_A
             "' AND left(number, %zu) = '%s'",
             strlen(start), start);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(list, "items")),
                     cf_harness_sql_long(&harness, sql));
    cJSON_Delete(list);
    list = as(&lead_a, "GET", "/api/v1/applications?number=9", NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(list, "items")), 0);
    cJSON_Delete(list);
}

/* Bad input: a clear 4xx naming the field, nothing stored. */
static void test_bad_input(void **state)
{
    (void)state;
    throttle_reset();
    long before = cf_harness_sql_long(&harness, "SELECT count(*) FROM applications");
    static const struct {
        const char *from, *to, *field;
    } edits[] = {
        {"\"consent\":true", "\"consent\":false", "consent"},
        {"\"1941-05-09\"", "\"2999-01-01\"", "applicant_birth_date"},
        {"\"1941-05-09\"", "\"1941-02-30\"", "applicant_birth_date"},
        {"\"home_care\"", "\"holiday\"", "purpose"},
        {"\"elderly\"", "\"\"", "category"}, /* a required choice left empty */
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
    throttle_reset();
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
    /* the provider's acceptance: its own role, the same edges */
    static const char accept[] = "/api/v1/programmes/0f000000-0000-4000-8000-000000000001/accept";
    expect_status(&manager, "POST", accept, "{not json", 9, NULL, 400);
    expect_status(&manager, "POST", accept, "{}", 2, "Content-Type: text/plain", 415);
    expect_status(&manager, "POST", accept, large, big, NULL, 413);
    free(large);
    expect_status(NULL, "GET", "/api/v1/offices", "{}", 2, NULL, 413);
    /* the front office's form has its own rules: a channel, never "web" */
    cf_api_expect_problem(as(&intake_a, "POST", "/api/v1/applications",
                             "{\"channel\":\"web\",\"applicant_name\":\"X\"}", 422),
                          "validation", "channel");
}

/* The public routes, per client address: the 21st status lookup within 15 minutes and
 * the 11th filing within an hour wait (429 rate-limited, retry_after_s); one page's
 * budget is not the other's; a refused request is not counted; the keys are hashes of
 * the address (no address in the table). */
static void test_public_rate_limit(void **state)
{
    (void)state;
    throttle_reset();
    for (int i = 0; i < 20; i++) /* mutant applications.status-unthrottled */
        cf_api_expect_problem(status_of("2026-999999", "0123456789", 404), "not-found", NULL);
    cJSON *locked = status_of("2026-999999", "0123456789", 429);
    assert_true(cf_json_long(locked, "retry_after_s") >= 1);
    cf_api_expect_problem(locked, "rate-limited", NULL);
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT failures FROM login_throttle WHERE key = "
                                         "sha256(convert_to('public:status 127.0.0.1', 'UTF8'))"),
                     20);
    for (int i = 0; i < 10; i++)
        cJSON_Delete(as(NULL, "POST", "/api/v1/public/applications", citizen_form, 201));
    cJSON *refused = as(NULL, "POST", "/api/v1/public/applications", citizen_form, 429);
    assert_true(cf_json_long(refused, "retry_after_s") >= 1);
    cf_api_expect_problem(refused, "rate-limited", NULL);
    /* the front office is not throttled */
    cJSON_Delete(as(&intake_a, "POST", "/api/v1/applications", office_form, 201));
    throttle_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_citizen_to_decision),
        cmocka_unit_test(test_offices_see_their_own),
        cmocka_unit_test(test_approval_programme_plans),
        cmocka_unit_test(test_overdue_and_pages),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_public_rate_limit),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
