/* Integration test of satisfaction (issue 16) against a real carefactd and a private
 * PostgreSQL: the Wilson rule's exact cases (20 perfect ratings: lower bound 83.9 %; 72
 * are not enough, 73 show 95 %); three providers seeded so that one has met the
 * target, one has not and one has too few answers, whose bounds this test computes
 * itself (Wilson score interval, z = 1.959964) and compares with the server's; the
 * coverage flag below 80 %; low ratings followed up within 2 working days; the
 * reproducible follow-up sample (5 %, at least 30 per provider and month), its answers
 * and the courtesy-bias flag; the citizen's answers on the public page with the
 * appointment's secret; managers held to their provider. */
#include <math.h>
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
#include <curl/curl.h>

#include "api_check.h"
#include "harness.h"

#define REGION "00000000-0000-4000-8000-000000000001"
#define P_MET "00000000-0000-4000-8000-0000000000a1"
#define P_NOT "00000000-0000-4000-8000-0000000000a2"
#define P_FEW "00000000-0000-4000-8000-0000000000a3"
#define OFFICE "0f000000-0000-4000-8000-00000000000a"
#define SERVED "0a000000-0000-4000-8000-000000000001" /* a served appointment */
#define BOOKED "0a000000-0000-4000-8000-000000000002" /* not served yet */
#define SECRET "00112233445566778899aabbccddeeff"
#define PASSWORD "correct horse battery"

static struct cf_harness harness;
static struct cf_session authority, manager_not;

/* Visits of October 2026 (Moscow), ids derived from the provider and a number:
 * P_MET: 80 rated 5 (the first 20 with services S1 and S2) and 10 ended unrated, S1;
 * P_NOT: 30 rated 5, 10 rated 2 (Friday 9 October), 20 ended unrated, S1;
 * P_FEW: 20 rated 5, S2. */
static const char seed_sql[] =
    "INSERT INTO regions VALUES ('" REGION "', 'Тестовая область', decode(repeat('ab', 32), "
    "  'hex'));"
    "INSERT INTO providers VALUES ('" P_MET "', '" REGION "', 'А: Забота'), "
    "  ('" P_NOT "', '" REGION "', 'Б: Участие'), ('" P_FEW "', '" REGION "', 'В: Милосердие');"
    "INSERT INTO workers SELECT md5(p::text)::uuid, p, 'Работник' FROM unnest(ARRAY['" P_MET
    "', '" P_NOT "', '" P_FEW "']::uuid[]) p;"
    "INSERT INTO services (code, name, category, form, norm_minutes, tariff_kopecks) VALUES "
    "  ('S1', 'Уборка', 'household', 'home', 30, 10000), "
    "  ('S2', 'Покупки', 'household', 'home', 60, 20000);"
    "CREATE FUNCTION pg_temp.v(p uuid, n int, state text, rating int, at timestamptz, "
    "  codes text[]) RETURNS void LANGUAGE sql AS $$ "
    "  INSERT INTO visits (id, provider_id, worker_id, state, started_at, ended_at, sort_at, "
    "    duration_s, rating, service_codes, service_quantities) "
    "  VALUES (md5(p::text || n)::uuid, p, md5(p::text)::uuid, state, at, at + interval "
    "    '30 min', at, 1800, rating, codes, array_fill(1, ARRAY[cardinality(codes)])) $$;"
    "SELECT pg_temp.v('" P_MET "', n, 'rated', 5, '2026-10-05 10:00+03'::timestamptz "
    "  + n * interval '1 min', CASE WHEN n <= 20 THEN '{S1,S2}' ELSE '{S1}' END::text[]) "
    "  FROM generate_series(1, 80) n;"
    "SELECT pg_temp.v('" P_MET "', n, 'ended', NULL, '2026-10-06 10:00+03'::timestamptz "
    "  + n * interval '1 min', '{S1}') FROM generate_series(81, 90) n;"
    "SELECT pg_temp.v('" P_NOT "', n, 'rated', CASE WHEN n <= 30 THEN 5 ELSE 2 END, "
    "  '2026-10-09 10:00+03'::timestamptz + n * interval '1 min', '{S1}') "
    "  FROM generate_series(1, 40) n;"
    "SELECT pg_temp.v('" P_NOT "', n, 'ended', NULL, '2026-10-12 10:00+03'::timestamptz "
    "  + n * interval '1 min', '{S1}') FROM generate_series(41, 60) n;"
    "SELECT pg_temp.v('" P_FEW "', n, 'rated', 5, '2026-10-20 10:00+03'::timestamptz "
    "  + n * interval '1 min', '{S2}') FROM generate_series(1, 20) n;"
    /* a visit of September and a cancelled one: neither counts in October */
    "SELECT pg_temp.v('" P_FEW "', 99, 'rated', 1, '2026-09-30 23:30+03', '{S2}');"
    "SELECT pg_temp.v('" P_FEW "', 98, 'cancelled', NULL, '2026-10-21 10:00+03', '{}');"
    /* low ratings of P_NOT (Friday 9 October) followed up: 3 on Monday, 1 on Tuesday
     * evening (the second working day: in time), 1 on Wednesday (late) */
    "INSERT INTO survey_responses (instrument_id, version, channel, purpose, visit_id, "
    "  provider_id, region_id, subject_month, subject_day, service_codes, visit_rating, "
    "  answers, satisfied, created_by, created_at) "
    "SELECT 'public_service', 1, 'phone', 'low_rating', md5('" P_NOT "' || n)::uuid, '" P_NOT
    "', '" REGION "', '2026-10-01', '2026-10-09', '{S1}', 2, '{\"overall\": 3}', false, "
    "  'test', "
    "  CASE WHEN n <= 33 THEN '2026-10-12 12:00+03' WHEN n = 34 THEN '2026-10-13 20:00+03' "
    "       ELSE '2026-10-14 10:00+03' END::timestamptz FROM generate_series(31, 35) n;"
    /* the office and two appointments of the citizen */
    "INSERT INTO offices (id, region_id, kind, name) VALUES ('" OFFICE "', '" REGION
    "', 'mfc', 'МФЦ Центральный');"
    "INSERT INTO office_booking (office_id) VALUES ('" OFFICE "');"
    "INSERT INTO appointments (id, office_id, region_id, seat, during, kind, state, channel, "
    "  secret_hash, created_by) VALUES "
    "  ('" SERVED "', '" OFFICE "', '" REGION "', 1, tstzrange('2026-10-07 10:00+03', "
    "   '2026-10-07 10:15+03'), 'consultation', 'served', 'web', sha256('" SECRET "'), 'test'),"
    "  ('" BOOKED "', '" OFFICE "', '" REGION "', 1, tstzrange('2026-10-08 10:00+03', "
    "   '2026-10-08 10:15+03'), 'consultation', 'booked', 'web', sha256('" SECRET "'), 'test');";

static int group_setup(void **state)
{
    (void)state;
    if (cf_harness_start(&harness, NULL) || cf_harness_sql(&harness, seed_sql))
        return -1;
    if (cf_harness_account(&harness, "authority-s", "authority", NULL, NULL, PASSWORD) ||
        cf_harness_account(&harness, "manager-not", "manager", P_NOT, NULL, PASSWORD) ||
        cf_harness_login(&harness, "authority-s", PASSWORD, &authority) ||
        cf_harness_login(&harness, "manager-not", PASSWORD, &manager_not))
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

/* ==== The rule, computed here independently ==== */

static void wilson(double yes, double n, double *lower, double *upper)
{
    const double z = 1.959964;
    if (n <= 0) {
        *lower = 0;
        *upper = 1;
        return;
    }
    double p = yes / n, centre = p + z * z / (2 * n);
    double spread = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n));
    *lower = fmax(0, (centre - spread) / (1 + z * z / n));
    *upper = fmin(1, (centre + spread) / (1 + z * z / n));
}

static const char *status_of(double yes, double n)
{
    double lower, upper;
    wilson(yes, n, &lower, &upper);
    return lower >= 0.95 ? "met" : upper < 0.95 ? "not_met" : "not_enough";
}

static double sql_double(const char *sql)
{
    char *value = cf_harness_sql_value(&harness, sql);
    assert_non_null(value);
    double out = strtod(value, NULL);
    free(value);
    return out;
}

static void expect_sql(const char *sql, const char *want)
{
    char *value = cf_harness_sql_value(&harness, sql);
    assert_non_null(value);
    assert_string_equal(value, want);
    free(value);
}

/* The numbers, exactly: 20 perfect ratings give 83.9 %, 73 are the fewest that
 * show 95 %; the statuses at the edges; no answers is not enough. */
static void test_wilson_rule(void **state)
{
    (void)state;
    assert_true(fabs(sql_double("SELECT lower_bound FROM wilson_bounds(20, 20)") - 0.83887) <
                0.00001);
    double lower, upper;
    wilson(20, 20, &lower, &upper);
    assert_true(fabs(lower - 0.83887) < 0.00001);
    expect_sql("SELECT min(n) FROM generate_series(1, 200) n "
               "WHERE (SELECT lower_bound FROM wilson_bounds(n, n)) >= 0.95",
               "73");
    expect_sql("SELECT satisfaction_status(73, 73)", "met");
    expect_sql("SELECT satisfaction_status(72, 72)", "not_enough");
    expect_sql("SELECT satisfaction_status(20, 20)", "not_enough");
    expect_sql("SELECT satisfaction_status(0, 0)", "not_enough");
    /* 85 of 100: the upper bound 0.9068 is below the target */
    expect_sql("SELECT satisfaction_status(85, 100)", "not_met");
    assert_string_equal(status_of(85, 100), "not_met");
    /* 93 of 100: upper 0.9659, not yet shown either way */
    expect_sql("SELECT satisfaction_status(93, 100)", "not_enough");
    for (int n = 1; n <= 120; n += 7)
        for (int yes = 0; yes <= n; yes += 3) {
            char sql[160];
            snprintf(sql, sizeof sql,
                     "SELECT lower_bound || ' ' || upper_bound || ' ' || "
                     "satisfaction_status(%d, %d) FROM wilson_bounds(%d, %d)",
                     yes, n, yes, n);
            char *value = cf_harness_sql_value(&harness, sql);
            assert_non_null(value);
            double l = 0, u = 0;
            char status[16] = "";
            assert_int_equal(sscanf(value, "%lf %lf %15s", &l, &u, status), 3);
            wilson(yes, n, &lower, &upper);
            assert_true(fabs(l - lower) < 1e-9 && fabs(u - upper) < 1e-9);
            assert_string_equal(status, status_of(yes, n));
            free(value);
        }
}

/* The group of (provider or office name, service or NULL, channel) in list. */
static const cJSON *group_of(const cJSON *list, const char *name, const char *service,
                             const char *channel)
{
    const cJSON *g;
    cJSON_ArrayForEach(g, list)
    {
        const cJSON *s = cJSON_GetObjectItem(g, "service");
        bool same_service =
            service ? cJSON_IsString(s) && strcmp(s->valuestring, service) == 0 : cJSON_IsNull(s);
        if (strcmp(cf_json_str(g, "name"), name) == 0 && same_service &&
            strcmp(cf_json_str(g, "channel"), channel) == 0)
            return g;
    }
    fail_msg("no group %s / %s / %s", name, service ? service : "(total)", channel);
    return NULL;
}

/* The server's group against this test's computation of its bounds and status. */
static void expect_group(const cJSON *g, long answers, long satisfied)
{
    double lower, upper;
    wilson((double)satisfied, (double)answers, &lower, &upper);
    assert_int_equal(cf_json_long(g, "answers"), answers);
    assert_int_equal(cf_json_long(g, "satisfied"), satisfied);
    assert_true(fabs(cf_json_num(g, "lower") - lower) < 0.00006);
    assert_true(fabs(cf_json_num(g, "upper") - upper) < 0.00006);
    assert_string_equal(cf_json_str(g, "status"), status_of((double)satisfied, (double)answers));
}

static void test_figures(void **state)
{
    (void)state;
    cJSON *f = as(&authority, "GET", "/api/v1/satisfaction?month=2026-10", NULL, 200);
    const cJSON *groups = cJSON_GetObjectItem(f, "groups");
    const cJSON *totals = cJSON_GetObjectItem(f, "totals");
    assert_string_equal(cf_json_str(f, "month"), "2026-10");

    const cJSON *g = group_of(groups, "А: Забота", "S1", "home_visit");
    expect_group(g, 80, 80);
    assert_string_equal(cf_json_str(g, "status"), "met");
    assert_int_equal(cf_json_long(g, "ended"), 90);
    assert_false(cf_json_true(g, "coverage_low")); /* 80 / 90 */
    assert_true(fabs(cf_json_num(g, "coverage") - 0.8889) < 0.00006);
    g = group_of(groups, "А: Забота", "S2", "home_visit"); /* 20 visits with two services */
    expect_group(g, 20, 20);
    assert_string_equal(cf_json_str(g, "status"), "not_enough");
    g = group_of(totals, "А: Забота", NULL, "home_visit"); /* each visit once */
    expect_group(g, 80, 80);
    assert_int_equal(cf_json_long(g, "ended"), 90);

    g = group_of(groups, "Б: Участие", "S1", "home_visit");
    expect_group(g, 40, 30);
    assert_string_equal(cf_json_str(g, "status"), "not_met");
    assert_int_equal(cf_json_long(g, "ended"), 60);
    assert_true(cf_json_true(g, "coverage_low")); /* 40 / 60 */
    assert_int_equal(cf_json_long(g, "low"), 10);
    /* Friday's low ratings: Monday and Tuesday evening in time, Wednesday late */
    assert_int_equal(cf_json_long(g, "low_followed"), 4);

    g = group_of(groups, "В: Милосердие", "S2", "home_visit");
    expect_group(g, 20, 20); /* September's visit and the cancelled one left out */
    assert_string_equal(cf_json_str(g, "status"), "not_enough");
    assert_true(fabs(cf_json_num(g, "lower") - 0.8389) < 0.00006);

    /* the low-rating follow-ups are chosen by their outcome: not a phone figure */
    g = cJSON_GetArrayItem(groups, 0);
    cJSON_ArrayForEach(g, groups) assert_string_not_equal(cf_json_str(g, "channel"), "phone");
    cJSON_Delete(f);

    /* a channel filter */
    f = as(&authority, "GET", "/api/v1/satisfaction?month=2026-10&channel=web", NULL, 200);
    cJSON_ArrayForEach(g, cJSON_GetObjectItem(f, "groups"))
        assert_string_equal(cf_json_str(g, "channel"), "web");
    cJSON_Delete(f);

    /* a manager sees their provider; another's is 403; bad parameters 400 */
    f = as(&manager_not, "GET", "/api/v1/satisfaction?month=2026-10", NULL, 200);
    cJSON_ArrayForEach(g, cJSON_GetObjectItem(f, "groups"))
        assert_string_equal(cf_json_str(g, "provider_id"), P_NOT);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(f, "groups")) > 0);
    cJSON_Delete(f);
    cf_api_expect_problem(
        as(&manager_not, "GET", "/api/v1/satisfaction?month=2026-10&provider=" P_MET, NULL, 403),
        "forbidden", "provider");
    cf_api_expect_problem(as(&authority, "GET", "/api/v1/satisfaction?month=2026-13", NULL, 400),
                          "validation", "month");
    cf_api_expect_problem(as(&authority, "GET", "/api/v1/satisfaction", NULL, 400), "validation",
                          "month");
    cf_api_expect_problem(
        as(&authority, "GET", "/api/v1/satisfaction?month=2026-10&channel=fax", NULL, 400),
        "validation", "channel");
}

/* The sample: 5 %, at least 30 (all when fewer), the same on every reading. */
static void test_sample_and_bias(void **state)
{
    (void)state;
    cJSON *a = as(&authority, "GET", "/api/v1/satisfaction/followups?month=2026-10", NULL, 200);
    cJSON *b = as(&authority, "GET", "/api/v1/satisfaction/followups?month=2026-10", NULL, 200);
    char *ta = cJSON_PrintUnformatted(a), *tb = cJSON_PrintUnformatted(b);
    assert_string_equal(ta, tb);
    free(ta);
    free(tb);
    cJSON_Delete(b);
    long per[3] = {0, 0, 0};
    char first_met[40] = "";
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(a, "items"))
    {
        const char *p = cf_json_str(item, "provider_id");
        int i = strcmp(p, P_MET) == 0 ? 0 : strcmp(p, P_NOT) == 0 ? 1 : 2;
        per[i]++;
        assert_false(cf_json_true(item, "answered"));
        if (i == 0 && !first_met[0])
            snprintf(first_met, sizeof first_met, "%s", cf_json_str(item, "visit_id"));
    }
    assert_int_equal(per[0], 30); /* 90 ended: 5 % is 5, at least 30 */
    assert_int_equal(per[1], 30); /* 60 ended */
    assert_int_equal(per[2], 20); /* 20 ended: all of them */
    expect_sql("SELECT count(*) FROM satisfaction_sample('" P_MET "', '2026-10-01')", "30");
    /* 700 ended visits: 5 % (35) is more than 30 */
    expect_sql("SELECT greatest(ceil(satisfaction_sample_share() * 700), "
               "least(satisfaction_sample_min(), 700))",
               "35");

    /* the department calls 10 of P_MET's sample; all of them less than satisfied */
    int called = 0;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(a, "items"))
    {
        if (strcmp(cf_json_str(item, "provider_id"), P_MET) != 0 || called == 10)
            continue;
        char body[400];
        snprintf(body, sizeof body,
                 "{\"visit_id\":\"%s\",\"purpose\":\"sample\",\"instrument\":\"visit_rating\","
                 "\"version\":1,\"answers\":{\"rating\":3}}",
                 cf_json_str(item, "visit_id"));
        cJSON *r = as(&authority, "POST", "/api/v1/satisfaction/responses", body, 201);
        assert_string_equal(cf_json_str(r, "channel"), "phone");
        cJSON_Delete(r);
        called++;
    }
    char body[400];
    snprintf(body, sizeof body,
             "{\"visit_id\":\"%s\",\"purpose\":\"sample\",\"instrument\":\"visit_rating\","
             "\"version\":1,\"answers\":{\"rating\":5}}",
             first_met);
    cf_api_expect_problem(as(&authority, "POST", "/api/v1/satisfaction/responses", body, 409),
                          "already-answered", NULL);
    cf_api_expect_problem(as(&manager_not, "POST", "/api/v1/satisfaction/responses", body, 403),
                          "forbidden", "purpose");
    cJSON_Delete(a);

    /* a visit outside the sample cannot be a sample answer: P_FEW's September visit */
    cf_api_expect_problem(
        as(&authority, "POST", "/api/v1/satisfaction/responses",
           "{\"visit_id\":\"6ea0a5a9-4d5d-0fb6-fe8c-fb3a5e7ba5c0\",\"purpose\":\"sample\","
           "\"instrument\":\"visit_rating\",\"version\":1,\"answers\":{\"rating\":5}}",
           404),
        "not-found", NULL);
    char *outside = cf_harness_sql_value(
        &harness, "SELECT md5('" P_MET "' || n)::uuid FROM generate_series(1, 90) n "
                  "WHERE md5('" P_MET "' || n)::uuid NOT IN (SELECT visit_id FROM "
                  "satisfaction_sample('" P_MET "', '2026-10-01')) ORDER BY n LIMIT 1");
    snprintf(body, sizeof body,
             "{\"visit_id\":\"%s\",\"purpose\":\"sample\",\"instrument\":\"visit_rating\","
             "\"version\":1,\"answers\":{\"rating\":5}}",
             outside);
    cf_api_expect_problem(as(&authority, "POST", "/api/v1/satisfaction/responses", body, 409),
                          "not-sampled", "visit_id");
    free(outside);
    char *september = cf_harness_sql_value(&harness, "SELECT md5('" P_FEW "' || 99)::uuid");
    /* a manager may call back a low rating of their own provider, not another's */
    snprintf(body, sizeof body,
             "{\"visit_id\":\"%s\",\"purpose\":\"low_rating\",\"instrument\":\"public_service\","
             "\"version\":1,\"answers\":{\"overall\":4,\"informed\":\"fully\",\"premises\":4,"
             "\"competence\":4,\"politeness\":5,\"waiting\":4,\"recommend\":\"yes\"}}",
             september);
    cf_api_expect_problem(as(&manager_not, "POST", "/api/v1/satisfaction/responses", body, 404),
                          "not-found", NULL);
    free(september);

    /* courtesy bias: P_MET in visits 100 %, in its follow-up 0 %: flagged */
    cJSON *f = as(&authority, "GET", "/api/v1/satisfaction?month=2026-10", NULL, 200);
    bool seen = false;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(f, "bias"))
    {
        if (strcmp(cf_json_str(item, "provider_id"), P_MET) == 0) {
            seen = true;
            assert_int_equal(cf_json_long(item, "followup_answers"), 10);
            assert_true(cf_json_true(item, "flagged"));
        } else {
            assert_false(cf_json_true(item, "flagged")); /* no follow-up answers yet */
        }
    }
    assert_true(seen);
    /* the sample's answers are a phone figure of their own */
    expect_group(group_of(cJSON_GetObjectItem(f, "totals"), "А: Забота", NULL, "phone"), 10, 0);
    cJSON_Delete(f);
    /* the bias rule at its edge: 5 points exactly is not more than 5 */
    expect_sql("SELECT satisfaction_bias(100, 100, 95, 100)", "f");
    expect_sql("SELECT satisfaction_bias(100, 100, 94, 100)", "t");
    expect_sql("SELECT satisfaction_bias(100, 100, 0, 0)", "f");
}

/* The citizen answers after the office visit with the appointment's secret. */
static void test_public_survey(void **state)
{
    (void)state;
    cJSON *form = as(NULL, "GET", "/api/v1/public/surveys/public_service", NULL, 200);
    assert_int_equal(cf_json_long(form, "version"), 1);
    const cJSON *qs = cJSON_GetObjectItem(form, "questions");
    assert_int_equal(cJSON_GetArraySize(qs), 8);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(qs, 0), "code"), "overall");
    cJSON_Delete(form);
    cf_api_expect_problem(as(NULL, "GET", "/api/v1/public/surveys/nothing", NULL, 404), "not-found",
                          NULL);

    static const char good[] =
        "{\"secret\":\"" SECRET "\",\"instrument\":\"public_service\",\"version\":1,"
        "\"answers\":{\"overall\":5,\"informed\":\"fully\",\"premises\":4,\"competence\":5,"
        "\"politeness\":5,\"waiting\":4,\"recommend\":\"yes\"}}";
    /* the answers checked against the instrument: a required question missing */
    cf_api_expect_problem(as(NULL, "POST", "/api/v1/public/appointments/" SERVED "/survey",
                             "{\"secret\":\"" SECRET "\",\"instrument\":\"public_service\","
                             "\"version\":1,\"answers\":{\"overall\":5}}",
                             422),
                          "validation", "answers.informed");
    cf_api_expect_problem(as(NULL, "POST", "/api/v1/public/appointments/" SERVED "/survey",
                             "{\"secret\":\"" SECRET "\",\"instrument\":\"public_service\","
                             "\"version\":2,\"answers\":{\"overall\":5}}",
                             422),
                          "validation", "instrument");
    cf_api_expect_problem(as(NULL, "POST", "/api/v1/public/appointments/" SERVED "/survey",
                             "{\"secret\":\"" SECRET "\",\"instrument\":\"public_service\","
                             "\"version\":1,\"answers\":{\"overall\":6}}",
                             422),
                          "validation", "answers.overall");
    /* a wrong secret and a visit not yet served */
    cf_api_expect_problem(as(NULL, "POST", "/api/v1/public/appointments/" SERVED "/survey",
                             "{\"secret\":\"ffffffffffffffffffffffffffffffff\","
                             "\"instrument\":\"public_service\",\"version\":1,"
                             "\"answers\":{\"overall\":5}}",
                             404),
                          "not-found", NULL);
    char path[120];
    snprintf(path, sizeof path, "/api/v1/public/appointments/%s/survey", BOOKED);
    cf_api_expect_problem(as(NULL, "POST", path, good, 409), "not-served", NULL);
    cJSON *r = as(NULL, "POST", "/api/v1/public/appointments/" SERVED "/survey", good, 201);
    assert_string_equal(cf_json_str(r, "channel"), "web");
    cJSON_Delete(r);
    cf_api_expect_problem(
        as(NULL, "POST", "/api/v1/public/appointments/" SERVED "/survey", good, 409),
        "already-answered", NULL);
    expect_sql("SELECT satisfied::text || recommend::text FROM survey_responses "
               "WHERE appointment_id = '" SERVED "'",
               "truetrue");

    cJSON *f = as(&authority, "GET", "/api/v1/satisfaction?month=2026-10&channel=web", NULL, 200);
    const cJSON *g =
        group_of(cJSON_GetObjectItem(f, "groups"), "МФЦ Центральный", "consultation", "web");
    expect_group(g, 1, 1);
    assert_true(fabs(cf_json_num(g, "recommend_share") - 1) < 1e-9);
    cJSON_Delete(f);
    /* a body that is not JSON; staff answers checked the same way */
    cf_api_expect_problem(
        as(NULL, "POST", "/api/v1/public/appointments/" SERVED "/survey", "{\"secret\":", 400),
        "malformed-json", NULL);
    cf_api_expect_problem(as(&authority, "POST", "/api/v1/satisfaction/responses",
                             "{\"appointment_id\":\"" SERVED "\",\"purpose\":\"after_visit\","
                             "\"instrument\":\"public_service\",\"version\":1,"
                             "\"answers\":{\"overall\":5,\"informed\":\"maybe\"}}",
                             422),
                          "validation", "answers.informed");
    cf_api_expect_problem(
        as(&authority, "GET", "/api/v1/satisfaction/followups?month=October", NULL, 400),
        "validation", "month");
    /* a manager sees no office's answers */
    f = as(&manager_not, "GET", "/api/v1/satisfaction?month=2026-10&channel=web", NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f, "groups")), 0);
    cJSON_Delete(f);
}

/* The public answers are throttled per client address (last: the address stays locked). */
static void test_public_throttle(void **state)
{
    (void)state;
    long status = 0;
    for (int i = 0; i < 40 && status != 429; i++) {
        struct cf_http_reply reply;
        assert_int_equal(cf_http(&harness, "POST", "/api/v1/public/appointments/" SERVED "/survey",
                                 "{}", 2, &reply),
                         0);
        status = reply.status;
        cf_http_reply_cleanup(&reply);
    }
    assert_int_equal(status, 429);
    cJSON *p = as(NULL, "POST", "/api/v1/public/appointments/" SERVED "/survey", "{}", 429);
    assert_true(cf_json_long(p, "retry_after_s") >= 1);
    cf_api_expect_problem(p, "rate-limited", NULL);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wilson_rule),     cmocka_unit_test(test_figures),
        cmocka_unit_test(test_sample_and_bias), cmocka_unit_test(test_public_survey),
        cmocka_unit_test(test_public_throttle),
    };
    int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
    curl_global_cleanup();
    return rc;
}
