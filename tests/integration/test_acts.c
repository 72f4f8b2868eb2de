/* Integration test of acts recorded offline on a terminal (issues 15 and 16; api/PROTOCOL.md
 * 4.6 and 11.3) against a real carefactd and a private PostgreSQL: a terminal uploads two
 * applications filed in a village, a home-survey act naming the first by its filing event,
 * an aid handed over by card naming the second, an act naming a number nobody has; the
 * batch uploaded again changes nothing (exactly once); the applications are submitted with
 * the terminal's journal rows, the applicant reads the status by the receipt and the code
 * the terminal made; staff read the acts (another office 404, the app role without a scope
 * sees none); a bad body is refused with its field and the reason, and stores nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <openssl/sha.h>

#include "api_check.h"
#include "cf/codec.h"
#include "harness.h"
#include "sample_events.h"
#include "terminal.h"

#define REGION "00000000-0000-4000-8000-000000000001"
#define PROVIDER "00000000-0000-4000-8000-0000000000b1"
#define WORKER "00000000-0000-4000-8000-0000000000a1"
#define OFFICE_A "0f000000-0000-4000-8000-00000000000a" /* the first front office by name */
#define OFFICE_B "0f000000-0000-4000-8000-00000000000b"
#define BACK "0f000000-0000-4000-8000-0000000000ff"
#define TRIP "7a000000-0000-4000-8000-000000000001"
#define UNKNOWN_TRIP "7a000000-0000-4000-8000-0000000000ff"
#define PASSWORD "correct horse battery"
#define CODE_1 "1234567890"
#define CODE_2 "5555544444"

static struct cf_harness harness;
static struct cf_session intake_a, intake_b;

static const char seed_sql[] =
    "INSERT INTO regions VALUES ('" REGION "', 'Тестовая область', decode(repeat('ab', 32), "
    "  'hex'));"
    "INSERT INTO providers VALUES ('" PROVIDER "', '" REGION "', 'КЦСОН Тестовый');"
    "INSERT INTO offices (id, region_id, kind, name) VALUES "
    "  ('" OFFICE_A "', '" REGION "', 'office', 'А. Отдел соцзащиты'),"
    "  ('" OFFICE_B "', '" REGION "', 'authorised', 'Б. Уполномоченный, д. Луговая'),"
    "  ('" BACK "', '" REGION "', 'back_office', 'Департамент');"
    "INSERT INTO workers (id, provider_id, full_name) VALUES "
    "  ('" WORKER "', '" PROVIDER "', 'Бригада Иванова');"
    "INSERT INTO trips (id, region_id, office_id, provider_id, day, title, created_by) VALUES "
    "  ('" TRIP "', '" REGION "', '" OFFICE_B "', '" PROVIDER "', current_date, "
    "   'Выезд в Луговую', 'test');";

static int group_setup(void **state)
{
    (void)state;
    if (cf_harness_start(&harness, NULL) || cf_harness_sql(&harness, seed_sql))
        return -1;
    if (cf_harness_staff_account(&harness, "intake-a", "intake", OFFICE_A, PASSWORD) ||
        cf_harness_staff_account(&harness, "intake-b", "intake", OFFICE_B, PASSWORD) ||
        cf_harness_login(&harness, "intake-a", PASSWORD, &intake_a) ||
        cf_harness_login(&harness, "intake-b", PASSWORD, &intake_b))
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

static void code_hash(const char *code, char hex[65])
{
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256((const uint8_t *)code, strlen(code), digest);
    assert_int_equal(cf_hex_encode(digest, sizeof digest, hex, 65), 0);
}

/* An act event of the test terminal's worker with body (canonical text). */
static void act(struct cf_event *ev, enum cf_event_kind kind, const char *body, int minute)
{
    sample_event(ev, kind);
    assert_int_equal(cf_uuid_from_text(WORKER, ev->worker_id), 0);
    memset(ev->recipient_id, 0, sizeof ev->recipient_id);
    ev->wall_ms = INT64_C(1795338000000) + minute * 60000;
    ev->mono_ms = 5000000 + minute * 60000;
    snprintf(ev->body, sizeof ev->body, "%s", body);
    ev->seq = 99; /* checked as a later event: the upload chains it (its seq, its prev) */
    struct cf_error_detail d = {0};
    if (cf_event_validate(ev, &d))
        fail_msg("the test's own act is invalid: %s (%s)", d.message, d.field);
}

static void filing(struct cf_event *ev, const char *name, const char *code, bool trip, int minute)
{
    char hash[65], body[1024];
    code_hash(code, hash);
    snprintf(body, sizeof body,
             "{\"applicant_address\":\"ул. Лесная, 3\",\"applicant_birth\":\"1941-03-08\","
             "\"applicant_name\":\"%s\",\"applicant_phone\":\"+79005550101\",\"category\":"
             "\"elderly\",\"code_sha256\":\"%s\",\"complete\":true,\"consent\":true,"
             "\"consent_version\":\"2026-01\",\"note\":\"Нужна коляска\",\"purpose\":"
             "\"rehab_aid\",\"settlement\":\"Заречье\"%s}",
             name, hash, trip ? ",\"trip_id\":\"" TRIP "\"" : "");
    act(ev, CF_EV_APPLICATION_FILED, body, minute);
}

static long count(const char *sql)
{
    return cf_harness_sql_long(&harness, sql);
}

static char *value(const char *sql)
{
    char *v = cf_harness_sql_value(&harness, sql);
    assert_non_null(v);
    return v;
}

/* The test's SQL runs as the owner (no row-level security); app_count as carefact_app
 * with the scope a request of no one would have (none). */
static char *owner_value(const char *query)
{
    return value(query);
}

static long app_count(const char *query)
{
    PGconn *db = PQconnectdb(harness.app_conninfo);
    assert_int_equal(PQstatus(db), CONNECTION_OK);
    PGresult *res = PQexec(db, query);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    PQfinish(db);
    return n;
}

/* mutant acts.apply-twice, acts.journal-actor, acts.receipt */
static void test_brigade_day(void **state)
{
    (void)state;
    struct cf_terminal t;
    cf_terminal_enrol(&harness, WORKER, &t);
    struct cf_event ev[5];
    filing(&ev[0], "Петрова Анна Ивановна", CODE_1, true, 0);
    filing(&ev[1], "Сидоров Пётр", CODE_2, false, 20);
    act(&ev[2], CF_EV_HOME_SURVEY_RECORDED,
        "{\"application_seq\":\"1\",\"findings\":\"Нуждается в помощи по дому\","
        "\"living_conditions\":\"Частный дом, печное отопление\",\"needs\":\"Уборка\","
        "\"recommended_services\":[\"Уборка\",\"Покупка продуктов\"],\"trip_id\":\"" TRIP "\"}",
        40);
    act(&ev[3], CF_EV_AID_HANDED_OVER,
        "{\"aid_kind\":\"Кресло-коляска\",\"application_seq\":\"2\",\"direction\":"
        "\"handed_over\",\"inventory_number\":\"ТСР-000417\"}",
        60);
    act(&ev[4], CF_EV_HOME_SURVEY_RECORDED,
        "{\"application_number\":\"1999-000001\",\"findings\":\"ф\",\"living_conditions\":\"д\","
        "\"trip_id\":\"" UNKNOWN_TRIP "\"}",
        80);
    cf_terminal_upload(&harness, &t, ev, 5);

    /* the same batch again: acknowledged, nothing stored, nothing made twice */
    char *batch = cf_terminal_batch(&t, ev, 5);
    cJSON *again = cf_terminal_send(&harness, &t, batch, 200);
    assert_int_equal(cf_json_long(again, "stored"), 0);
    assert_int_equal(cf_json_long(again, "acked_seq"), 5);
    cJSON_Delete(again);
    free(batch);

    char *v = owner_value("SELECT count(*) || '/' || count(*) FILTER (WHERE channel = 'terminal' "
                          "AND state = 'submitted' AND office_id = '" OFFICE_A
                          "' AND decision_due IS NOT NULL) FROM applications");
    assert_string_equal(v, "2/2");
    free(v);
    v = owner_value("SELECT string_agg(kind || ':' || coalesce(card_level, '-') || ':' || "
                    "(application_id IS NOT NULL), ',' ORDER BY seq) FROM application_acts");
    assert_string_equal(v, "home_survey:-:true,aid_handover:static:true,home_survey:-:false");
    free(v);
    /* a trip carefact knows is linked; an unknown one links nothing and refuses nothing */
    v = owner_value("SELECT string_agg(coalesce((trip_id = '" TRIP "')::text, '-'), ',' ORDER BY "
                    "seq) FROM application_acts");
    assert_string_equal(v, "true,-,-");
    free(v);
    /* the filing's journal: draft and submitted by the terminal's worker, then the act */
    v = owner_value(
        "SELECT string_agg(coalesce(j.from_state, '-') || '>' || j.to_state || ' ' || j.actor || "
        "' ' || j.actor_role || ' ' || (j.office_id = '" OFFICE_A "') || ' ' || "
        "(j.act_id IS NOT NULL), '; ' ORDER BY j.id) FROM application_journal j JOIN "
        "applications a ON a.id = j.application_id WHERE a.filing_seq = 1");
    assert_string_equal(
        v, "->draft worker:" WORKER " terminal true false; draft>submitted worker:" WORKER
           " terminal true false; submitted>submitted worker:" WORKER " terminal true true");
    free(v);
    /* the fields the terminal signed, with its trip and receipt */
    char receipt[24], sql[400];
    snprintf(receipt, sizeof receipt, "%.8s-1", t.id_text);
    for (char *c = receipt; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    snprintf(sql, sizeof sql,
             "SELECT receipt = '%s' AND trip_id = '" TRIP "' AND settlement = 'Заречье' AND "
             "consent_version = '2026-01' AND details = 'Нужна коляска' AND complete AND "
             "applicant_birth = '1941-03-08' FROM applications WHERE filing_seq = 1",
             receipt);
    v = owner_value(sql);
    assert_string_equal(v, "t");
    free(v);

    /* the applicant reads the status by the receipt and the code the terminal made */
    char body[200];
    snprintf(body, sizeof body, "{\"number\":\"%s\",\"code\":\"" CODE_1 "\"}", receipt);
    cJSON *status = as(NULL, "POST", "/api/v1/public/applications/status", body, 200);
    assert_string_equal(cf_json_str(status, "state"), "submitted");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(status, "journal")), 2);
    char number[24];
    snprintf(number, sizeof number, "%s", cf_json_str(status, "number"));
    cJSON_Delete(status);
    snprintf(body, sizeof body, "{\"number\":\"%s\",\"code\":\"" CODE_2 "\"}", receipt);
    cf_api_expect_problem(as(NULL, "POST", "/api/v1/public/applications/status", body, 404),
                          "not-found", NULL);
    snprintf(body, sizeof body, "{\"number\":\"%s\",\"code\":\"" CODE_1 "\"}", number);
    cJSON_Delete(as(NULL, "POST", "/api/v1/public/applications/status", body, 200));
    /* the receipt as a person types it: lower case is the same receipt */
    snprintf(body, sizeof body, "{\"number\":\"%.8s-1\",\"code\":\"" CODE_1 "\"}", t.id_text);
    cJSON_Delete(as(NULL, "POST", "/api/v1/public/applications/status", body, 200));
    /* neither a number nor a receipt: refused, naming the field */
    cf_api_expect_problem(as(NULL, "POST", "/api/v1/public/applications/status",
                             "{\"number\":\"01939F2A-04\",\"code\":\"" CODE_1 "\"}", 422),
                          "validation", "number");

    /* staff read the acts: the office's own, another office's 404 */
    char *id = owner_value("SELECT id FROM applications WHERE filing_seq = 1");
    char path[120];
    snprintf(path, sizeof path, "/api/v1/applications/%s/acts", id);
    cJSON *acts = as(&intake_a, "GET", path, NULL, 200);
    cJSON *items = cJSON_GetObjectItem(acts, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    cJSON *first = cJSON_GetArrayItem(items, 0);
    assert_string_equal(cf_json_str(first, "kind"), "home_survey");
    assert_string_equal(cf_json_str(first, "trip_id"), TRIP);
    assert_string_equal(cf_json_str(cJSON_GetObjectItem(first, "body"), "findings"),
                        "Нуждается в помощи по дому");
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(first, "body"), "application_seq"));
    cJSON_Delete(acts);
    cf_api_expect_problem(as(&intake_b, "GET", path, NULL, 404), "not-found", NULL);
    snprintf(path, sizeof path, "/api/v1/applications/%s", id);
    cJSON *app = as(&intake_a, "GET", path, NULL, 200);
    assert_string_equal(
        cf_json_str(cJSON_GetObjectItem(cJSON_GetObjectItem(app, "application"), "terminal"),
                    "receipt"),
        receipt);
    cJSON_Delete(app);
    free(id);
    id = owner_value("SELECT id FROM applications WHERE filing_seq = 2");
    snprintf(path, sizeof path, "/api/v1/applications/%s/acts", id);
    acts = as(&intake_a, "GET", path, NULL, 200);
    first = cJSON_GetArrayItem(cJSON_GetObjectItem(acts, "items"), 0);
    assert_string_equal(cf_json_str(first, "kind"), "aid_handover");
    assert_string_equal(cf_json_str(first, "direction"), "handed_over");
    assert_string_equal(cf_json_str(first, "card_level"), "static");
    cJSON_Delete(acts);
    free(id);
    snprintf(path, sizeof path, "/api/v1/applications/%s/acts",
             "00000000-0000-4000-8000-00000000dead");
    cf_api_expect_problem(as(&intake_a, "GET", path, NULL, 404), "not-found", NULL);
    /* row-level security: without a scope the app role sees no act */
    assert_int_equal(count("SELECT count(*) FROM application_acts"), 3);
    /* acts are no visits: nothing rebuilt from them, no integrity work queued */
    assert_int_equal(count("SELECT count(*) FROM visits"), 0);
    assert_int_equal(app_count("SELECT count(*) FROM application_acts"), 0);
    assert_int_equal(app_count("SELECT count(*) FROM applications"), 0);
}

/* mutant acts.consent-false */
static void test_bad_body_refused(void **state)
{
    (void)state;
    struct cf_terminal t;
    cf_terminal_enrol(&harness, WORKER, &t);
    char hash[65], body[1024];
    code_hash(CODE_1, hash);
    snprintf(body, sizeof body,
             "{\"applicant_address\":\"ул. Лесная, 3\",\"applicant_birth\":\"1941-03-08\","
             "\"applicant_name\":\"Без согласия\",\"category\":\"elderly\",\"code_sha256\":\"%s\","
             "\"complete\":true,\"consent\":false,\"consent_version\":\"2026-01\","
             "\"purpose\":\"rehab_aid\"}",
             hash);
    struct cf_event ev;
    sample_event(&ev, CF_EV_APPLICATION_FILED);
    assert_int_equal(cf_uuid_from_text(WORKER, ev.worker_id), 0);
    snprintf(ev.body, sizeof ev.body, "%s", body);
    cf_terminal_chain(&t, &ev);
    char *batch = cf_terminal_batch(&t, &ev, 1);
    cJSON *problem = cf_terminal_send(&harness, &t, batch, 422);
    assert_non_null(strstr(cf_json_str(problem, "detail"), "consent"));
    cf_api_expect_problem(problem, "validation", "events[0].body.consent");
    free(batch);
    /* a body on a kind that has none */
    struct cf_terminal u;
    cf_terminal_enrol(&harness, WORKER, &u);
    sample_event(&ev, CF_EV_CARD_UNRECOGNIZED);
    assert_int_equal(cf_uuid_from_text(WORKER, ev.worker_id), 0);
    snprintf(ev.body, sizeof ev.body, "{\"a\":\"b\"}");
    cf_terminal_chain(&u, &ev);
    batch = cf_terminal_batch(&u, &ev, 1);
    cf_api_expect_problem(cf_terminal_send(&harness, &u, batch, 422), "validation",
                          "events[0].body");
    free(batch);
    char *v =
        owner_value("SELECT count(*) FROM applications WHERE applicant_name = 'Без согласия'");
    assert_string_equal(v, "0");
    free(v);
}

/* survey.answered: the recipient's answers after a visit this terminal ended, recorded
 * once through the satisfaction module (channel home_visit); answers about a visit of
 * another terminal are kept as an event and recorded nowhere.
 * mutant acts.survey-channel, acts.survey-other-device */
static void test_survey_answered(void **state)
{
    (void)state;
    struct cf_terminal t, other;
    cf_terminal_enrol(&harness, WORKER, &t);
    cf_terminal_enrol(&harness, WORKER, &other);
    struct cf_event ev[2], answer;
    sample_event(&ev[0], CF_EV_VISIT_STARTED);
    sample_event(&ev[1], CF_EV_VISIT_ENDED);
    ev[1].wall_ms += 30 * 60000;
    ev[1].mono_ms += 30 * 60000;
    for (int i = 0; i < 2; i++)
        assert_int_equal(cf_uuid_from_text(WORKER, ev[i].worker_id), 0);
    cf_terminal_upload(&harness, &t, ev, 2);
    /* another terminal's answers about that visit: stored, recorded nowhere */
    act(&answer, CF_EV_SURVEY_ANSWERED,
        "{\"a_rating\":\"1\",\"instrument\":\"visit_rating\",\"version\":\"1\","
        "\"visit_id\":\"40414243-4445-4647-4849-4a4b4c4d4e4f\"}",
        40);
    cf_terminal_upload(&harness, &other, &answer, 1);
    assert_int_equal(count("SELECT count(*) FROM survey_responses"), 0);
    /* the terminal that made the visit: recorded, once */
    act(&answer, CF_EV_SURVEY_ANSWERED,
        "{\"a_rating\":\"5\",\"instrument\":\"visit_rating\",\"version\":\"1\","
        "\"visit_id\":\"40414243-4445-4647-4849-4a4b4c4d4e4f\"}",
        35);
    cf_terminal_upload(&harness, &t, &answer, 1);
    char *v =
        value("SELECT count(*) || ' ' || string_agg(channel || ' ' || purpose || ' ' || "
              "satisfied || ' ' || created_by || ' ' || (answers ->> 'rating'), ',') "
              "FROM survey_responses WHERE visit_id = '40414243-4445-4647-4849-4a4b4c4d4e4f'");
    assert_string_equal(v, "1 home_visit after_visit true worker:" WORKER " 5");
    free(v);
    assert_int_equal(count("SELECT count(*) FROM events WHERE kind = 'survey.answered'"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_brigade_day),
        cmocka_unit_test(test_bad_body_refused),
        cmocka_unit_test(test_survey_answered),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
