/* Integration test of the applications' funnel (issue 15) against a real carefactd and a
 * private PostgreSQL: applications taken through their states on the API (approved,
 * returned and resubmitted, refused, withdrawn, left submitted or as a draft) in two
 * offices, their filings dated back to known days of the previous month (as the owner:
 * the journal is append-only), the approvals' recipients visited by a terminal's signed
 * events (the real ingest: card at both ends, at the start only, a second later visit),
 * then GET /api/v1/applications/funnel compared with counts, medians and p90s computed
 * here from what the test made. The applications' marks (filed_at, verified_at) are
 * their journal's first rows. Who sees which office; bad input. */
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
#include "harness.h"
#include "sample_events.h"
#include "terminal.h"

#define REGION "00000000-0000-4000-8000-000000000001"
#define PROVIDER "00000000-0000-4000-8000-000000000002"
#define OFFICE_A "0f000000-0000-4000-8000-00000000000a"
#define OFFICE_B "0f000000-0000-4000-8000-00000000000b"
#define BACK "0f000000-0000-4000-8000-0000000000bb"
#define WORKER "00000000-0000-4000-8000-0000000000a1"
#define PASSWORD "correct horse battery"
#define MSK_S (3 * 3600) /* Europe/Moscow, the region's zone (the default): UTC+3 all year */
#define DAY_S 86400

static struct cf_harness harness;
static struct cf_session intake_a, lead_a, intake_b, lead_b, caseworker;

static const char seed_sql[] =
    "INSERT INTO regions VALUES ('" REGION "', 'Тестовая область', decode(repeat('ab', 32), "
    "  'hex'));"
    "INSERT INTO providers VALUES ('" PROVIDER "', '" REGION "', 'КЦСОН Тестовый');"
    "INSERT INTO offices (id, region_id, kind, name) VALUES "
    "  ('" OFFICE_A "', '" REGION "', 'mfc', 'МФЦ Центральный'),"
    "  ('" OFFICE_B "', '" REGION "', 'authorised', 'Уполномоченный, д. Луговая'),"
    "  ('" BACK "', '" REGION "', 'back_office', 'Департамент соцзащиты');"
    "INSERT INTO workers (id, provider_id, full_name) VALUES "
    "  ('" WORKER "', '" PROVIDER "', 'Иванова Анна');"
    "INSERT INTO services (code, name, category, form, norm_minutes, tariff_kopecks) VALUES "
    "  ('HH-01', 'Покупка продуктов', 'household', 'home', 30, 15000);";

static const char office_form[] =
    "{\"channel\":\"office\",\"applicant_name\":\"Кузнецов Пётр Семёнович\","
    "\"applicant_birth_date\":\"1950-02-28\",\"applicant_address\":\"д. Луговая, д. 1\","
    "\"category\":\"elderly\",\"purpose\":\"home_care\",\"complete\":true,\"consent\":true}";

/* How an application goes, and what the test expects of it. */
enum path { APPROVE, REWORK_APPROVE, REFUSE, WITHDRAW, REWORK_TWICE, SUBMIT, DRAFT };
enum visit_kind { NO_VISIT, CARD_BOTH, CARD_START_ONLY };

static struct app {
    const char *office;
    enum path path;
    int day; /* filed on this day of the previous month (local), at 12:00 (the 1st: 01:00) */
    enum visit_kind visit;
    int visit_after_days; /* the visit's start: this many days after the filing, 10:00 local */
    bool second_visit; /* and a later one, a day after the first */
    /* filled by the test */
    char id[40], recipient[40];
    time_t filed_s;
} apps[] = {
    /* the days to the first visit: office A 1, 2, 3, 10 (median 2.5, p90 7.9), the
     * region 1, 2, 3, 4, 10 (p90 7.6), continuous (mutants funnel.percentile-discrete,
     * funnel.p90-discrete); the third filed, returned, resubmitted: counted once, its wait
     * from the first filing (mutant funnel.filed-at-resubmission); the fifth visited with
     * the card at the start only (mutant funnel.start-only-visit) */
    {OFFICE_A, APPROVE, 10, CARD_BOTH, 1, false, "", "", 0},
    {OFFICE_A, APPROVE, 10, CARD_BOTH, 2, false, "", "", 0},
    {OFFICE_A, REWORK_APPROVE, 10, CARD_BOTH, 3, false, "", "", 0},
    {OFFICE_A, APPROVE, 11, CARD_BOTH, 10, true, "", "", 0},
    {OFFICE_A, APPROVE, 11, CARD_START_ONLY, 2, false, "", "", 0},
    {OFFICE_A, APPROVE, 12, NO_VISIT, 0, false, "", "", 0},
    {OFFICE_A, REFUSE, 12, NO_VISIT, 0, false, "", "", 0},
    {OFFICE_A, WITHDRAW, 12, NO_VISIT, 0, false, "", "", 0},
    {OFFICE_A, DRAFT, 12, NO_VISIT, 0, false, "", "", 0},
    {OFFICE_B, APPROVE, 13, CARD_BOTH, 4, false, "", "", 0},
    {OFFICE_B, REWORK_TWICE, 13, NO_VISIT, 0, false, "", "", 0},
    {OFFICE_B, SUBMIT, 14, NO_VISIT, 0, false, "", "", 0},
    /* filed at 01:00 local on the 1st: the previous day in UTC (mutant funnel.local-month) */
    {OFFICE_B, SUBMIT, 1, NO_VISIT, 0, false, "", "", 0},
};
#define APP_COUNT (sizeof apps / sizeof apps[0])

static char month_text[8]; /* the previous month, YYYY-MM */
static time_t month_start_s; /* its first day 00:00 local, as UTC seconds */

static cJSON *as(struct cf_session *who, const char *method, const char *path, const char *body,
                 long want)
{
    harness.session = who;
    cJSON *out = cf_api_json(&harness, method, path, body, want);
    harness.session = NULL;
    return out;
}

static void sign_in(const char *login, const char *role, const char *office, struct cf_session *out)
{
    assert_int_equal(cf_harness_staff_account(&harness, login, role, office, PASSWORD), 0);
    assert_int_equal(cf_harness_login(&harness, login, PASSWORD, out), 0);
}

static int group_setup(void **state)
{
    (void)state;
    if (cf_harness_start(&harness, NULL) || cf_harness_sql(&harness, seed_sql))
        return -1;
    /* the previous month of the region's today */
    time_t now = time(NULL) + MSK_S;
    struct tm t;
    gmtime_r(&now, &t);
    t.tm_mday = 1;
    t.tm_hour = t.tm_min = t.tm_sec = 0;
    t.tm_mon -= 1;
    month_start_s = timegm(&t) - MSK_S;
    time_t local = month_start_s + MSK_S;
    gmtime_r(&local, &t);
    strftime(month_text, sizeof month_text, "%Y-%m", &t);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cf_harness_stop(&harness);
    return 0;
}

static void move(struct cf_session *who, const char *id, const char *to, const char *reason)
{
    char path[120], body[2000];
    snprintf(path, sizeof path, "/api/v1/applications/%s/transitions", id);
    if (strcmp(to, "approved") == 0) {
        /* a term from before the previous month, so its visits are certified */
        char from[11], until[11];
        time_t a = month_start_s - 5 * DAY_S + MSK_S, b = month_start_s + 400 * DAY_S;
        struct tm t;
        gmtime_r(&a, &t);
        strftime(from, sizeof from, "%Y-%m-%d", &t);
        gmtime_r(&b, &t);
        strftime(until, sizeof until, "%Y-%m-%d", &t);
        snprintf(body, sizeof body,
                 "{\"to\":\"approved\",\"programme\":{\"provider_id\":\"" PROVIDER
                 "\",\"valid_from\":\"%s\",\"valid_to\":\"%s\",\"services\":[{\"code\":"
                 "\"HH-01\",\"volume\":12,\"period\":\"month\"}],\"rules\":[{\"worker_id\":"
                 "\"" WORKER "\",\"weekdays\":[1,3,5],\"time\":\"10:00\",\"services\":"
                 "[\"HH-01\"]}]}}",
                 from, until);
    } else if (reason) {
        snprintf(body, sizeof body, "{\"to\":\"%s\",\"reason\":\"%s\"}", to, reason);
    } else {
        snprintf(body, sizeof body, "{\"to\":\"%s\"}", to);
    }
    cJSON *res = as(who, "POST", path, body, 200);
    assert_string_equal(cf_json_str(cJSON_GetObjectItem(res, "application"), "state"), to);
    cJSON_Delete(res);
}

/* File a through its path on the API; then date its filing back (the owner may: the
 * append-only trigger is off for that one statement's transaction). */
static void build(struct app *a)
{
    bool at_a = strcmp(a->office, OFFICE_A) == 0;
    struct cf_session *intake = at_a ? &intake_a : &intake_b, *lead = at_a ? &lead_a : &lead_b;
    cJSON *filed = as(intake, "POST", "/api/v1/applications", office_form, 201);
    snprintf(a->id, sizeof a->id, "%s",
             cf_json_str(cJSON_GetObjectItem(filed, "application"), "id"));
    cJSON_Delete(filed);
    if (a->path == DRAFT)
        return;
    move(intake, a->id, "submitted", NULL);
    if (a->path == REWORK_APPROVE || a->path == REWORK_TWICE) {
        move(lead, a->id, "returned", "Нет справки о составе семьи");
        move(intake, a->id, "resubmitted", NULL);
    }
    if (a->path == REWORK_TWICE)
        move(lead, a->id, "returned", "Справка без печати");
    if (a->path == WITHDRAW)
        move(intake, a->id, "withdrawn", "Заявитель передумал");
    if (a->path == APPROVE || a->path == REWORK_APPROVE || a->path == REFUSE) {
        move(lead, a->id, "verified", NULL);
        move(&caseworker, a->id, "assessment", NULL);
        if (a->path == REFUSE)
            move(&caseworker, a->id, "refused", "Не относится к категории получателей");
        else
            move(&caseworker, a->id, "approved", NULL);
    }
    /* the application's marks are its journal's first 'submitted' and 'verified' rows,
     * not a resubmission (mutant funnel.filed-at-resubmission) */
    char sql[900];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM applications a WHERE a.id = '%s' AND a.filed_at = "
             "(SELECT at FROM application_journal WHERE application_id = a.id AND to_state = "
             "'submitted') AND a.verified_at IS NOT DISTINCT FROM (SELECT min(at) FROM "
             "application_journal WHERE application_id = a.id AND to_state = 'verified')",
             a->id);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 1);
    /* then dated back: the journal's row and the application's mark */
    a->filed_s = month_start_s + (a->day - 1) * DAY_S + (a->day == 1 ? 1 : 12) * 3600;
    snprintf(sql, sizeof sql,
             "BEGIN; ALTER TABLE application_journal DISABLE TRIGGER "
             "application_journal_append_only; UPDATE application_journal SET at = "
             "to_timestamp(%lld) WHERE application_id = '%s' AND to_state = 'submitted'; "
             "ALTER TABLE application_journal ENABLE TRIGGER application_journal_append_only; "
             "UPDATE applications SET filed_at = to_timestamp(%lld) WHERE id = '%s'; COMMIT",
             (long long)a->filed_s, a->id, (long long)a->filed_s, a->id);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    if (a->path == APPROVE || a->path == REWORK_APPROVE) {
        snprintf(sql, sizeof sql, "SELECT recipient_id FROM applications WHERE id = '%s'", a->id);
        char *r = cf_harness_sql_value(&harness, sql);
        assert_non_null(r);
        assert_int_equal(strlen(r), 36);
        snprintf(a->recipient, sizeof a->recipient, "%s", r);
        free(r);
    }
}

/* The card of app number i's recipient: a token of its own, bound as an active card. */
static void token_of(size_t i, char out[CF_TOKEN_TEXT_LEN + 1])
{
    snprintf(out, CF_TOKEN_TEXT_LEN + 1, "%02zuECAwQFBgcICQoLDA0ODw", i);
}

/* One visit of app i (by the terminal t), started at start_s: 45 minutes, the card at the
 * start and (card_at_end) at the end, else another card there. */
static void play_visit(struct cf_terminal *t, size_t i, time_t start_s, bool card_at_end,
                       uint8_t visit_seed)
{
    struct cf_event ev[2];
    sample_event(&ev[0], CF_EV_VISIT_STARTED);
    sample_event(&ev[1], CF_EV_VISIT_ENDED);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(cf_uuid_from_text(WORKER, ev[k].worker_id), 0);
        assert_int_equal(cf_uuid_from_text(apps[i].recipient, ev[k].recipient_id), 0);
        sample_fill_id(ev[k].visit_id, visit_seed);
        token_of(i, ev[k].card.token);
        ev[k].wall_ms = ((int64_t)start_s + k * 45 * 60) * 1000;
        /* one boot since long before: monotonic time follows the wall clock */
        ev[k].mono_ms = ev[k].wall_ms - ((int64_t)month_start_s - 90 * DAY_S) * 1000;
    }
    ev[1].service_count = 1;
    memcpy(ev[1].services[0].code, "HH-01", 6);
    ev[1].services[0].quantity = 1;
    if (!card_at_end) /* a card the recipient never bound: the end is not confirmed */
        memcpy(ev[1].card.token, "zzECAwQFBgcICQoLDA0ODw", CF_TOKEN_TEXT_LEN + 1);
    cf_terminal_upload(&harness, t, ev, 2);
}

/* ==== The expected figures, computed here ==== */

struct expect {
    long submitted, verified, approved, first_visit, returned, returns, refused, withdrawn;
    int days[APP_COUNT];
    long n_days;
};

static int compare_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* The continuous percentile p of the sorted values v[0..n-1]: linear between the two
 * nearest ranks (as PostgreSQL's percentile_cont). */
static double percentile(const int *v, long n, double p)
{
    double pos = p * (double)(n - 1);
    long lo = (long)floor(pos);
    double frac = pos - (double)lo;
    return lo + 1 < n ? v[lo] + frac * (v[lo + 1] - v[lo]) : v[lo];
}

/* The local date of t as a day number. */
static long local_day(time_t t)
{
    return (long)((t + MSK_S) / DAY_S);
}

static void expect_of(const char *office, struct expect *e)
{
    memset(e, 0, sizeof *e);
    for (size_t i = 0; i < APP_COUNT; i++) {
        const struct app *a = &apps[i];
        if ((office && strcmp(a->office, office) != 0) || a->path == DRAFT)
            continue;
        bool approved = a->path == APPROVE || a->path == REWORK_APPROVE;
        e->submitted++;
        e->verified += approved || a->path == REFUSE;
        e->approved += approved;
        e->returned += a->path == REWORK_APPROVE || a->path == REWORK_TWICE;
        e->returns += a->path == REWORK_APPROVE ? 1 : a->path == REWORK_TWICE ? 2 : 0;
        e->refused += a->path == REFUSE;
        e->withdrawn += a->path == WITHDRAW;
        if (a->visit == CARD_BOTH) {
            e->first_visit++;
            time_t visit_s = month_start_s + (a->day - 1 + a->visit_after_days) * DAY_S + 10 * 3600;
            e->days[e->n_days++] = (int)(local_day(visit_s) - local_day(a->filed_s));
        }
    }
    qsort(e->days, (size_t)e->n_days, sizeof e->days[0], compare_int);
}

static void check_counts(const cJSON *row, const struct expect *e)
{
    assert_non_null(row);
    assert_int_equal(cf_json_long(row, "submitted"), e->submitted);
    assert_int_equal(cf_json_long(row, "verified"), e->verified);
    assert_int_equal(cf_json_long(row, "approved"), e->approved);
    assert_int_equal(cf_json_long(row, "first_visit"), e->first_visit);
    assert_int_equal(cf_json_long(row, "returned"), e->returned);
    assert_int_equal(cf_json_long(row, "returns"), e->returns);
    assert_int_equal(cf_json_long(row, "refused"), e->refused);
    assert_int_equal(cf_json_long(row, "withdrawn"), e->withdrawn);
    const cJSON *days = cJSON_GetObjectItem(row, "days_to_first_visit");
    assert_non_null(days);
    assert_int_equal(cf_json_long(days, "count"), e->n_days);
    if (e->n_days == 0) {
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(days, "median")));
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(days, "p90")));
        return;
    }
    double median = percentile(e->days, e->n_days, 0.5), p90 = percentile(e->days, e->n_days, 0.9);
    if (fabs(cf_json_num(days, "median") - median) > 0.051 ||
        fabs(cf_json_num(days, "p90") - p90) > 0.051)
        fail_msg("days to the first visit: median %g p90 %g, expected %g and %g (of %ld)",
                 cf_json_num(days, "median"), cf_json_num(days, "p90"), median, p90, e->n_days);
}

static const cJSON *office_row(const cJSON *funnel, const char *office)
{
    const cJSON *row;
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(funnel, "offices"))
    {
        if (strcmp(cf_json_str(cJSON_GetObjectItem(row, "office"), "id"), office) == 0)
            return row;
    }
    return NULL;
}

static cJSON *funnel(struct cf_session *who, const char *query, long want)
{
    char path[200];
    snprintf(path, sizeof path, "/api/v1/applications/funnel%s", query);
    return as(who, "GET", path, NULL, want);
}

/* The whole story: build, date, visit, then read the funnel as the back office (the
 * region: both offices and the total) and as the front office of A (its office only). */
static void test_funnel(void **state)
{
    (void)state;
    sign_in("intake_a", "intake", OFFICE_A, &intake_a);
    sign_in("lead_a", "intake_lead", OFFICE_A, &lead_a);
    sign_in("intake_b", "intake", OFFICE_B, &intake_b);
    sign_in("lead_b", "intake_lead", OFFICE_B, &lead_b);
    sign_in("case1", "caseworker", BACK, &caseworker);
    for (size_t i = 0; i < APP_COUNT; i++)
        build(&apps[i]);

    /* the cards, then the visits in time order on one terminal of the worker */
    char sql[400];
    for (size_t i = 0; i < APP_COUNT; i++) {
        if (!apps[i].recipient[0])
            continue;
        char token[CF_TOKEN_TEXT_LEN + 1];
        token_of(i, token);
        snprintf(sql, sizeof sql,
                 "INSERT INTO card_bindings (recipient_id, token, method, scheme, last4, status) "
                 "VALUES ('%s', '%s', 'emv', 'mir', '5678', 'active')",
                 apps[i].recipient, token);
        assert_int_equal(cf_harness_sql(&harness, sql), 0);
    }
    struct cf_terminal t;
    cf_terminal_enrol(&harness, WORKER, &t);
    uint8_t seed = 0x40;
    for (int day = 1; day <= 31; day++)
        for (size_t i = 0; i < APP_COUNT; i++) {
            const struct app *a = &apps[i];
            if (a->visit == NO_VISIT || a->day + a->visit_after_days != day)
                continue;
            /* 08:00 + i hours: the worker's visits never overlap; the local date is the
             * one expected */
            time_t start = month_start_s + (day - 1) * DAY_S + (8 + (time_t)i) * 3600;
            play_visit(&t, i, start, a->visit == CARD_BOTH, seed++);
            if (a->second_visit)
                play_visit(&t, i, start + DAY_S, true, seed++);
        }
    /* what ingest made of them: five first visits and a second one confirmed at both
     * ends; the start-only visit not at its end */
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM visits WHERE "
                                                   "start_confirmed AND end_confirmed"),
                     6);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM visits WHERE "
                                                   "start_confirmed AND NOT end_confirmed"),
                     1);

    struct expect e_a, e_b, e_all;
    expect_of(OFFICE_A, &e_a);
    expect_of(OFFICE_B, &e_b);
    expect_of(NULL, &e_all);
    char query[120];
    snprintf(query, sizeof query, "?month=%s", month_text);

    cJSON *f = funnel(&caseworker, query, 200);
    assert_string_equal(cf_json_str(f, "month"), month_text);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f, "offices")), 2);
    check_counts(office_row(f, OFFICE_A), &e_a);
    check_counts(office_row(f, OFFICE_B), &e_b);
    check_counts(cJSON_GetObjectItem(f, "total"), &e_all);
    cJSON_Delete(f);

    /* one office asked for */
    snprintf(query, sizeof query, "?month=%s&office=" OFFICE_B, month_text);
    f = funnel(&caseworker, query, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f, "offices")), 1);
    check_counts(cJSON_GetObjectItem(f, "total"), &e_b);
    cJSON_Delete(f);

    /* the front office counts its own office only, and nothing of another */
    snprintf(query, sizeof query, "?month=%s", month_text);
    f = funnel(&intake_a, query, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f, "offices")), 1);
    check_counts(office_row(f, OFFICE_A), &e_a);
    check_counts(cJSON_GetObjectItem(f, "total"), &e_a);
    cJSON_Delete(f);
    snprintf(query, sizeof query, "?month=%s&office=" OFFICE_B, month_text);
    f = funnel(&intake_a, query, 200);
    struct expect none;
    memset(&none, 0, sizeof none);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f, "offices")), 0);
    check_counts(cJSON_GetObjectItem(f, "total"), &none);
    cJSON_Delete(f);

    /* another month: nothing filed */
    f = funnel(&caseworker, "?month=2001-01", 200);
    check_counts(cJSON_GetObjectItem(f, "total"), &none);
    cJSON_Delete(f);
    /* this month: the journal's other rows (the draft, the resubmissions, the decisions)
     * were written now, yet nothing was filed now */
    time_t now = time(NULL) + MSK_S;
    struct tm t_now;
    gmtime_r(&now, &t_now);
    strftime(query, sizeof query, "?month=%Y-%m", &t_now);
    f = funnel(&caseworker, query, 200);
    check_counts(cJSON_GetObjectItem(f, "total"), &none);
    cJSON_Delete(f);
}

static void test_bad_input(void **state)
{
    (void)state;
    static const struct {
        const char *query, *field;
    } bad[] = {
        {"", "month"},
        {"?month=2026-13", "month"},
        {"?month=2026-1", "month"},
        {"?month=26-12-01", "month"},
        {"?month=1999-12", "month"},
        {"?month=2026-12&office=mfc", "office"},
        {"?month=2026-12&colour=red", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *p = funnel(&caseworker, bad[i].query, 400);
        cf_api_expect_problem(p, "validation", bad[i].field);
    }
    cJSON *p = funnel(NULL, "?month=2026-12", 401);
    cf_api_expect_problem(p, "unauthenticated", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_funnel),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
