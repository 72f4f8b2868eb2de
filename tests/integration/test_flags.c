/* Integration test of every visit flag at its boundary, from real events (issues 13 and
 * 19): visits are built as a terminal builds them, signed and uploaded through carefactd
 * by enrolled test terminals (tests/support/terminal.h), and rebuilt by the server --
 * no visit row is written by the test. Checked, each at and just past its threshold:
 * early_leave (duration = ratio x expected is not early, one second less is), overtime
 * (likewise), low_rating (low_rating_max and one more), abandoned (just before and after
 * abandoned_after), and the integrity flags overlap (touching intervals are not an
 * overlap, one millisecond more is; across two terminals; a late end clears it; an
 * out-of-order neighbour re-judges), far_from_address (the reported accuracy straddling
 * the region's threshold, the end position too, no position, an address without
 * coordinates, a region's own threshold) and impossible_travel (likewise, and a late
 * previous visit). Each time the exception queue and the figures are compared with the
 * flags the visits carry; a rebuild (a late rating) and a correction of the services
 * keep the integrity flags. */
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
#define W_RULES "23000000-0000-4000-8000-000000000001"
#define W_AB1 "23000000-0000-4000-8000-000000000002"
#define W_AB2 "23000000-0000-4000-8000-000000000003"
#define W_OVERLAP "23000000-0000-4000-8000-000000000004"
#define W_FAR "23000000-0000-4000-8000-000000000005"
#define W_TRAVEL "23000000-0000-4000-8000-000000000006"
#define R_A "33000000-0000-4000-8000-000000000001" /* at HOME_A */
#define R_B "33000000-0000-4000-8000-000000000002" /* at HOME_B, ~10 km north */
#define R_NOGEO "33000000-0000-4000-8000-000000000003" /* no coordinates */
#define HOME_A_LAT 557558000
#define HOME_A_LON 376173000
#define HOME_B_LAT (HOME_A_LAT + 900000)
#define TOKEN "AAECAwQFBgcICQoLDA0ODw" /* sample_event's card, bound to every recipient */

#define BASE_MS INT64_C(1795338000000) /* 2026-11-22T09:00:00Z */
#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define PERIOD "from=2026-11-01&to=2027-01-01"

static struct cf_harness harness;

static const char seed_sql[] =
    "INSERT INTO regions (id, name, token_key) VALUES ('" REGION "', 'Тестовая область', "
    "  decode(repeat('ab', 32), 'hex'));"
    "INSERT INTO providers VALUES ('" PROVIDER "', '" REGION "', 'КЦСОН Тестовый');"
    "INSERT INTO workers VALUES ('" W_RULES "', '" PROVIDER "', 'Правилова Анна'), "
    "  ('" W_AB1 "', '" PROVIDER "', 'Брошенная Бэла'), "
    "  ('" W_AB2 "', '" PROVIDER "', 'Идущая Вера'), "
    "  ('" W_OVERLAP "', '" PROVIDER "', 'Двойная Галина'), "
    "  ('" W_FAR "', '" PROVIDER "', 'Далёкая Дарья'), "
    "  ('" W_TRAVEL "', '" PROVIDER "', 'Быстрая Елена');"
    "INSERT INTO recipients (id, provider_id, full_name, lat_e7, lon_e7) VALUES "
    "  ('" R_A "', '" PROVIDER "', 'Петров Пётр', 557558000, 376173000), "
    "  ('" R_B "', '" PROVIDER "', 'Сидоров Семён', 558458000, 376173000), "
    "  ('" R_NOGEO "', '" PROVIDER "', 'Безадресная Зоя', NULL, NULL);"
    "INSERT INTO card_bindings (recipient_id, token, method, scheme, last4, status) "
    "  SELECT id, '" TOKEN "', 'emv', 'mir', '5678', 'active' FROM recipients;"
    "INSERT INTO services VALUES ('HH-01', 'Уборка жилого помещения', 'household', 'home', "
    "  30, 25000);";

/* ==== Building visits from events ==== */

struct position {
    bool present;
    int32_t lat_e7, lon_e7, accuracy_m;
};

#define AT(lat, lon, acc) ((struct position){true, (lat), (lon), (acc)})
#define AT_A AT(HOME_A_LAT, HOME_A_LON, 10)
#define AT_B AT(HOME_B_LAT, HOME_A_LON, 10)
#define NOWHERE ((struct position){false, 0, 0, 0})

struct visit {
    const char *id;
    const char *worker;
    const char *recipient;
    int64_t start_ms; /* wall clock of the start */
    int64_t duration_ms; /* start to end on the monotonic (and wall) clock */
    struct position at_start, at_end;
};

static void uuid_of(const char *text, uint8_t out[CF_UUID_LEN])
{
    assert_int_equal(cf_uuid_from_text(text, out), 0);
}

/* One event of v: sample_event's, with v's ids, times and positions. */
static void visit_event(struct cf_event *ev, enum cf_event_kind kind, const struct visit *v,
                        int64_t at_ms)
{
    sample_event(ev, kind);
    uuid_of(v->id, ev->visit_id);
    uuid_of(v->worker, ev->worker_id);
    if (kind != CF_EV_VISIT_RATED)
        uuid_of(v->recipient, ev->recipient_id);
    ev->wall_ms = at_ms;
    ev->mono_ms = 5000000 + (at_ms - BASE_MS); /* one boot since before BASE_MS - 5000 s */
    if (kind == CF_EV_VISIT_ENDED) {
        ev->service_count = 1; /* HH-01 x1: 30 minutes expected */
        ev->services[0].quantity = 1;
        memcpy(ev->services[0].code, "HH-01", 6);
    }
    const struct position *p = kind == CF_EV_VISIT_STARTED ? &v->at_start : &v->at_end;
    if (kind == CF_EV_VISIT_STARTED || kind == CF_EV_VISIT_ENDED) {
        ev->location.present = p->present;
        ev->location.lat_e7 = p->present ? p->lat_e7 : 0;
        ev->location.lon_e7 = p->present ? p->lon_e7 : 0;
        ev->location.accuracy_m = p->present ? p->accuracy_m : 0;
    }
}

static void upload_start(struct cf_terminal *t, const struct visit *v)
{
    struct cf_event ev;
    visit_event(&ev, CF_EV_VISIT_STARTED, v, v->start_ms);
    cf_terminal_upload(&harness, t, &ev, 1);
}

static void upload_end(struct cf_terminal *t, const struct visit *v)
{
    struct cf_event ev;
    visit_event(&ev, CF_EV_VISIT_ENDED, v, v->start_ms + v->duration_ms);
    cf_terminal_upload(&harness, t, &ev, 1);
}

static void upload_rating(struct cf_terminal *t, const struct visit *v, int rating)
{
    struct cf_event ev;
    visit_event(&ev, CF_EV_VISIT_RATED, v, v->start_ms + v->duration_ms + 30000);
    ev.rating = rating;
    cf_terminal_upload(&harness, t, &ev, 1);
}

/* Start and end in one batch. */
static void upload_visit(struct cf_terminal *t, const struct visit *v)
{
    struct cf_event ev[2];
    visit_event(&ev[0], CF_EV_VISIT_STARTED, v, v->start_ms);
    visit_event(&ev[1], CF_EV_VISIT_ENDED, v, v->start_ms + v->duration_ms);
    cf_terminal_upload(&harness, t, ev, 2);
}

/* ==== Reading what the server says ==== */

static char *printed(const cJSON *item)
{
    char *text = cJSON_PrintUnformatted(item);
    assert_non_null(text);
    return text;
}

/* The visit's flags as the API shows them equal want (a JSON array as printed). */
static void expect_flags(const char *visit, const char *want)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/visits/%s", visit);
    cJSON *v = cf_api_json(&harness, "GET", path, NULL, 200);
    char *got = printed(cJSON_GetObjectItemCaseSensitive(v, "flags"));
    if (strcmp(got, want) != 0) {
        char *all = printed(v);
        fail_msg("visit %s: flags %s, want %s (%s)", visit, got, want, all);
    }
    cJSON_free(got);
    cJSON_Delete(v);
}

static int compare_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The values of field in items[] of GET path, sorted and joined with ','; caller frees. */
static char *ids_of(const char *path, const char *field)
{
    cJSON *list = cf_api_json(&harness, "GET", path, NULL, 200);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
    assert_true(cJSON_IsArray(items));
    int n = cJSON_GetArraySize(items);
    char **ids = calloc((size_t)n + 1, sizeof *ids);
    assert_non_null(ids);
    for (int i = 0; i < n; i++)
        ids[i] = (char *)cf_json_str(cJSON_GetArrayItem(items, i), field);
    qsort(ids, (size_t)n, sizeof *ids, compare_text);
    size_t len = 1, at = 0;
    for (int i = 0; i < n; i++)
        len += strlen(ids[i]) + 1;
    char *out = calloc(len, 1);
    assert_non_null(out);
    for (int i = 0; i < n; i++)
        at += (size_t)snprintf(out + at, len - at, "%s%s", i ? "," : "", ids[i]);
    free(ids);
    cJSON_Delete(list);
    return out;
}

/* The visits flagged kind (the visit list's flag filter), the exception queue's
 * exceptions of that kind (open and resolved) and want (ids sorted, ',') are the same
 * set. */
static void expect_flagged(const char *kind, const char *want)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/visits?flag=%s&limit=500", kind);
    char *listed = ids_of(path, "id");
    snprintf(path, sizeof path, "/api/v1/exceptions?kind=%s&status=all", kind);
    char *queued = ids_of(path, "subject_id");
    if (strcmp(listed, want) != 0)
        fail_msg("visits flagged %s: %s, want %s", kind, listed, want);
    if (strcmp(queued, want) != 0)
        fail_msg("exception queue, kind %s: %s, want %s", kind, queued, want);
    free(listed);
    free(queued);
}

/* The figures of one worker over PERIOD (group=worker): the only item. Caller frees. */
static cJSON *worker_figures(const char *worker)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/figures?group=worker&%s&worker=%s", PERIOD, worker);
    cJSON *f = cf_api_json(&harness, "GET", path, NULL, 200);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(f, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    cJSON *item = cJSON_DetachItemFromArray((cJSON *)items, 0);
    cJSON_Delete(f);
    return item;
}

static double num(const cJSON *obj, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsNumber(item))
        fail_msg("%s is not a number", name);
    return item->valuedouble;
}

/* The worker's figures count what their visits' flags say: each integrity count, and
 * early_leave_share / overtime_share / low_ratings against the ended visits' flags
 * (the visit list, read here independently). */
static void expect_figures_match_flags(const char *worker)
{
    char path[160];
    static const char *const states[] = {"ended", "rated", "started"};
    long ended = 0, early = 0, over = 0, low = 0, overlap = 0, far = 0, travel = 0;
    for (size_t s = 0; s < 3; s++) {
        snprintf(path, sizeof path, "/api/v1/visits?worker=%s&limit=500&state=%s", worker,
                 states[s]);
        cJSON *list = cf_api_json(&harness, "GET", path, NULL, 200);
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(list, "items"))
        {
            bool is_ended = s < 2;
            ended += is_ended;
            const cJSON *f;
            cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(v, "flags"))
            {
                early += is_ended && strcmp(f->valuestring, "early_leave") == 0;
                over += is_ended && strcmp(f->valuestring, "overtime") == 0;
                low += strcmp(f->valuestring, "low_rating") == 0;
                overlap += strcmp(f->valuestring, "overlap") == 0;
                far += strcmp(f->valuestring, "far_from_address") == 0;
                travel += strcmp(f->valuestring, "impossible_travel") == 0;
            }
        }
        cJSON_Delete(list);
    }
    cJSON *fig = worker_figures(worker);
    assert_int_equal((long)num(fig, "ended"), ended);
    if (ended) {
        assert_true(fabs(num(fig, "early_leave_share") - (double)early / (double)ended) < 1e-9);
        assert_true(fabs(num(fig, "overtime_share") - (double)over / (double)ended) < 1e-9);
    }
    assert_int_equal((long)num(fig, "low_ratings"), low);
    assert_int_equal((long)num(fig, "overlaps"), overlap);
    assert_int_equal((long)num(fig, "far_from_address"), far);
    assert_int_equal((long)num(fig, "impossible_travel"), travel);
    cJSON_Delete(fig);
}

static double sql_double(const char *sql)
{
    char *text = cf_harness_sql_value(&harness, sql);
    assert_non_null(text);
    double d = strtod(text, NULL);
    free(text);
    return d;
}

/* ==== The rules of 0005 at their boundaries ==== */

#define V_RATIO "71000000-0000-4000-8000-000000000001"
#define V_EARLY "71000000-0000-4000-8000-000000000002"
#define V_OVER_AT "71000000-0000-4000-8000-000000000003"
#define V_OVER "71000000-0000-4000-8000-000000000004"
#define V_ABANDONED "71000000-0000-4000-8000-000000000005"
#define V_RUNNING "71000000-0000-4000-8000-000000000006"

/* HH-01 x1 expects 30 minutes; the thresholds are 0.8 (early under 1440 s), 1.5 (over
 * after 2700 s), low at 2 or under, abandoned after 12 hours. */
static void test_rules_at_their_boundaries(void **state)
{
    (void)state;
    struct cf_terminal t;
    cf_terminal_enrol(&harness, W_RULES, &t);
    /* hours apart, at the recipient's door: no integrity flag in the way */
    const struct visit ratio = {V_RATIO, W_RULES, R_A, BASE_MS, 1440 * 1000, AT_A, AT_A};
    const struct visit early = {V_EARLY, W_RULES, R_A, BASE_MS + HOUR_MS, 1439999, AT_A, AT_A};
    const struct visit over_at = {V_OVER_AT,   W_RULES, R_A, BASE_MS + 2 * HOUR_MS,
                                  2700 * 1000, AT_A,    AT_A};
    const struct visit over = {V_OVER,      W_RULES, R_A, BASE_MS + 3 * HOUR_MS,
                               2701 * 1000, AT_A,    AT_A};
    upload_visit(&t, &ratio);
    upload_visit(&t, &early);
    upload_visit(&t, &over_at);
    upload_visit(&t, &over);
    upload_rating(&t, &ratio, 2); /* low_rating_max: low */
    upload_rating(&t, &early, 3); /* one more: not low */

    expect_flags(V_RATIO, "[\"low_rating\"]");
    expect_flags(V_EARLY, "[\"early_leave\"]");
    expect_flags(V_OVER_AT, "[]");
    expect_flags(V_OVER, "[\"overtime\"]");
    expect_flagged("early_leave", V_EARLY);
    expect_flagged("low_rating", V_RATIO);
    expect_figures_match_flags(W_RULES);
    cJSON *fig = worker_figures(W_RULES);
    assert_int_equal((long)num(fig, "ended"), 4);
    assert_true(fabs(num(fig, "early_leave_share") - 0.25) < 1e-9);
    assert_true(fabs(num(fig, "overtime_share") - 0.25) < 1e-9);
    assert_int_equal((long)num(fig, "low_ratings"), 1);
    cJSON_Delete(fig);

    /* abandoned: started 12 h + 2 min ago is, 11 h 55 min ago is not (two workers, or
     * the two open visits would overlap) */
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    struct cf_terminal t1, t2;
    cf_terminal_enrol(&harness, W_AB1, &t1);
    cf_terminal_enrol(&harness, W_AB2, &t2);
    const struct visit abandoned = {V_ABANDONED, W_AB1, R_A, now_ms - 12 * HOUR_MS - 2 * MIN_MS,
                                    0,           AT_A,  AT_A};
    const struct visit running = {V_RUNNING, W_AB2, R_A, now_ms - 11 * HOUR_MS - 55 * MIN_MS,
                                  0,         AT_A,  AT_A};
    upload_start(&t1, &abandoned);
    upload_start(&t2, &running);
    char *queued = ids_of("/api/v1/exceptions?kind=abandoned&status=all", "subject_id");
    assert_string_equal(queued, V_ABANDONED);
    free(queued);
    cJSON *live = cf_api_json(&harness, "GET", "/api/v1/live", NULL, 200);
    int seen = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(live, "items"))
    {
        const char *id = cf_json_str(v, "id");
        bool flag = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "abandoned"));
        if (strcmp(id, V_ABANDONED) == 0) {
            assert_true(flag);
            seen++;
        } else if (strcmp(id, V_RUNNING) == 0) {
            assert_false(flag);
            seen++;
        }
    }
    assert_int_equal(seen, 2);
    cJSON_Delete(live);
    expect_flags(V_ABANDONED, "[]");
    expect_flags(V_RUNNING, "[]");
}

/* ==== Overlap ==== */

#define V_O1 "72000000-0000-4000-8000-000000000001"
#define V_O2 "72000000-0000-4000-8000-000000000002"
#define V_O3 "72000000-0000-4000-8000-000000000003"
#define V_O4 "72000000-0000-4000-8000-000000000004"
#define V_O5 "72000000-0000-4000-8000-000000000005"
#define V_O6 "72000000-0000-4000-8000-000000000006"
#define V_O7 "72000000-0000-4000-8000-000000000007"
#define V_O8 "72000000-0000-4000-8000-000000000008"
#define V_O9 "72000000-0000-4000-8000-000000000009"

/* One worker, two terminals; each day a pair, all at the recipient's door. */
static void test_overlap(void **state)
{
    (void)state;
    struct cf_terminal t1, t2;
    cf_terminal_enrol(&harness, W_OVERLAP, &t1);
    cf_terminal_enrol(&harness, W_OVERLAP, &t2);
    /* day 1: the second starts the very millisecond the first ends: not an overlap */
    const struct visit o1 = {V_O1, W_OVERLAP, R_A, BASE_MS, 30 * MIN_MS, AT_A, AT_A};
    const struct visit o2 = {V_O2, W_OVERLAP, R_A, BASE_MS + 30 * MIN_MS, 30 * MIN_MS, AT_A, AT_A};
    upload_visit(&t1, &o1);
    upload_visit(&t2, &o2);
    expect_flags(V_O1, "[]");
    expect_flags(V_O2, "[]");
    /* day 2: one millisecond earlier: both overlap */
    const struct visit o3 = {V_O3, W_OVERLAP, R_A, BASE_MS + DAY_MS, 30 * MIN_MS, AT_A, AT_A};
    const struct visit o4 = {V_O4,        W_OVERLAP, R_A, BASE_MS + DAY_MS + 30 * MIN_MS - 1,
                             30 * MIN_MS, AT_A,      AT_A};
    upload_visit(&t1, &o3);
    upload_visit(&t2, &o4);
    expect_flags(V_O3, "[\"overlap\"]");
    expect_flags(V_O4, "[\"overlap\"]");
    expect_flagged("overlap", V_O3 "," V_O4);

    /* a rebuild of the visit (a late rating) and a correction of its services keep the
     * integrity flag beside the rule flags */
    upload_rating(&t1, &o3, 1);
    expect_flags(V_O3, "[\"low_rating\",\"overlap\"]");
    cJSON_Delete(cf_api_json(&harness, "POST", "/api/v1/visits/" V_O4 "/corrections",
                             "{\"field\":\"services\",\"reason\":\"Две уборки\",\"value\":"
                             "[{\"code\":\"HH-01\",\"quantity\":2}]}",
                             201));
    expect_flags(V_O4, "[\"early_leave\",\"overlap\"]");

    /* day 3: a visit started and not yet ended is open (until abandoned): the other
     * terminal's visits two and four hours later overlap it, until its end arrives,
     * late, and clears all three (the second is not the next visit of the first: found
     * by the range the first could have reached) */
    const struct visit o5 = {V_O5, W_OVERLAP, R_A, BASE_MS + 2 * DAY_MS, 30 * MIN_MS, AT_A, AT_A};
    const struct visit o6 = {V_O6,        W_OVERLAP, R_A, BASE_MS + 2 * DAY_MS + 2 * HOUR_MS,
                             30 * MIN_MS, AT_A,      AT_A};
    const struct visit o9 = {V_O9,        W_OVERLAP, R_A, BASE_MS + 2 * DAY_MS + 4 * HOUR_MS,
                             30 * MIN_MS, AT_A,      AT_A};
    upload_start(&t1, &o5);
    upload_visit(&t2, &o6);
    upload_visit(&t2, &o9);
    expect_flags(V_O5, "[\"overlap\"]");
    expect_flags(V_O6, "[\"overlap\"]");
    expect_flags(V_O9, "[\"overlap\"]");
    upload_end(&t1, &o5);
    expect_flags(V_O5, "[]");
    expect_flags(V_O6, "[]");
    expect_flags(V_O9, "[]");

    /* day 4: out of order: the later-uploaded visit makes its neighbour an overlap */
    const struct visit o7 = {V_O7, W_OVERLAP, R_A, BASE_MS + 3 * DAY_MS, 30 * MIN_MS, AT_A, AT_A};
    const struct visit o8 = {V_O8,        W_OVERLAP, R_A, BASE_MS + 3 * DAY_MS - 10 * MIN_MS,
                             30 * MIN_MS, AT_A,      AT_A};
    upload_visit(&t2, &o7);
    expect_flags(V_O7, "[]");
    upload_visit(&t1, &o8);
    expect_flags(V_O7, "[\"overlap\"]");
    expect_flags(V_O8, "[\"overlap\"]");

    expect_flagged("overlap", V_O3 "," V_O4 "," V_O7 "," V_O8);
    expect_figures_match_flags(W_OVERLAP);
}

/* ==== Far from the address ==== */

#define V_F1 "73000000-0000-4000-8000-000000000001"
#define V_F2 "73000000-0000-4000-8000-000000000002"
#define V_F3 "73000000-0000-4000-8000-000000000003"
#define V_F4 "73000000-0000-4000-8000-000000000004"
#define V_F5 "73000000-0000-4000-8000-000000000005"

/* The region's threshold is 500 m; a position 60000e-7 degrees north of the address is
 * ~667 m away: an accuracy that brings it to 500 m or under is no flag, one metre less
 * is. One visit a day (no travel in the way). */
static void test_far_from_address(void **state)
{
    (void)state;
    struct cf_terminal t;
    cf_terminal_enrol(&harness, W_FAR, &t);
    int32_t lat = HOME_A_LAT + 60000;
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT geo_distance_m(%d, %d, %d, %d)", lat, HOME_A_LON, HOME_A_LAT,
             HOME_A_LON);
    double d = sql_double(sql);
    int32_t acc_in = (int32_t)ceil(d - 500); /* d - acc_in <= 500 */
    assert_true(d - acc_in < 500 - 0.01 && d - (acc_in - 1) > 500 + 0.01);
    const struct visit f1 = {V_F1, W_FAR, R_A, BASE_MS, 30 * MIN_MS, AT(lat, HOME_A_LON, acc_in),
                             AT_A};
    const struct visit f2 = {
        V_F2, W_FAR, R_A, BASE_MS + DAY_MS, 30 * MIN_MS, AT(lat, HOME_A_LON, acc_in - 1), AT_A};
    const struct visit f3 = {
        V_F3, W_FAR, R_A, BASE_MS + 2 * DAY_MS, 30 * MIN_MS, AT_A, AT(lat, HOME_A_LON, acc_in - 1)};
    /* no position at all; a recipient without coordinates (10 km away) */
    const struct visit f4 = {V_F4, W_FAR, R_A, BASE_MS + 3 * DAY_MS, 30 * MIN_MS, NOWHERE, NOWHERE};
    const struct visit f5 = {V_F5, W_FAR, R_NOGEO, BASE_MS + 4 * DAY_MS, 30 * MIN_MS, AT_B, AT_B};
    upload_visit(&t, &f1);
    upload_visit(&t, &f2);
    upload_visit(&t, &f3);
    upload_visit(&t, &f4);
    upload_visit(&t, &f5);
    expect_flags(V_F1, "[]");
    expect_flags(V_F2, "[\"far_from_address\"]");
    expect_flags(V_F3, "[\"far_from_address\"]");
    expect_flags(V_F4, "[]");
    expect_flags(V_F5, "[]");
    expect_flagged("far_from_address", V_F2 "," V_F3);
    expect_figures_match_flags(W_FAR);

    /* the region's own threshold: at 100 m, f1 is far too (once judged again) */
    assert_int_equal(cf_harness_sql(&harness,
                                    "UPDATE regions SET far_from_address_m = 100;"
                                    "SELECT visit_integrity_judge(ARRAY['" V_F1 "'::uuid]);"
                                    "UPDATE regions SET far_from_address_m = 500;"),
                     0);
    expect_flags(V_F1, "[\"far_from_address\"]");
    assert_int_equal(
        cf_harness_sql(&harness, "SELECT visit_integrity_judge(ARRAY['" V_F1 "'::uuid])"), 0);
    expect_flags(V_F1, "[]");
}

/* ==== Impossible travel ==== */

#define V_T1 "74000000-0000-4000-8000-000000000001"
#define V_T2 "74000000-0000-4000-8000-000000000002"
#define V_T3 "74000000-0000-4000-8000-000000000003"
#define V_T4 "74000000-0000-4000-8000-000000000004"
#define V_T5 "74000000-0000-4000-8000-000000000005"
#define V_T6 "74000000-0000-4000-8000-000000000006"

/* From A's door to B's (~10 km) in 290 s: 120 km/h allows 9,666.7 m. With the next
 * start's accuracy bringing the distance to that or under, no flag; one metre less,
 * both visits are flagged. A pair a day. */
static void test_impossible_travel(void **state)
{
    (void)state;
    struct cf_terminal t1, t2;
    cf_terminal_enrol(&harness, W_TRAVEL, &t1);
    cf_terminal_enrol(&harness, W_TRAVEL, &t2);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT geo_distance_m(%d, %d, %d, %d)", HOME_A_LAT, HOME_A_LON,
             HOME_B_LAT, HOME_A_LON);
    double d = sql_double(sql) - 10; /* less the end position's accuracy (AT_A: 10 m) */
    double allowed = 120 / 3.6 * 290;
    int32_t acc_in = (int32_t)ceil(d - allowed);
    assert_true(d - acc_in < allowed - 0.01 && d - (acc_in - 1) > allowed + 0.01);
    const int64_t gap = 290 * 1000;
    const struct visit t1v = {V_T1, W_TRAVEL, R_A, BASE_MS, 30 * MIN_MS, AT_A, AT_A};
    const struct visit t2v = {V_T2,        W_TRAVEL,
                              R_B,         BASE_MS + 30 * MIN_MS + gap,
                              30 * MIN_MS, AT(HOME_B_LAT, HOME_A_LON, acc_in),
                              AT_B};
    const struct visit t3v = {V_T3, W_TRAVEL, R_A, BASE_MS + DAY_MS, 30 * MIN_MS, AT_A, AT_A};
    const struct visit t4v = {V_T4,        W_TRAVEL,
                              R_B,         BASE_MS + DAY_MS + 30 * MIN_MS + gap,
                              30 * MIN_MS, AT(HOME_B_LAT, HOME_A_LON, acc_in - 1),
                              AT_B};
    upload_visit(&t1, &t1v);
    upload_visit(&t1, &t2v);
    upload_visit(&t1, &t3v);
    upload_visit(&t1, &t4v);
    expect_flags(V_T1, "[]");
    expect_flags(V_T2, "[]");
    expect_flags(V_T3, "[\"impossible_travel\"]");
    expect_flags(V_T4, "[\"impossible_travel\"]");

    /* day 3: the next visit first (from the second terminal), the previous one late:
     * the late one's arrival re-judges its neighbour */
    const struct visit t5v = {V_T5, W_TRAVEL, R_A, BASE_MS + 2 * DAY_MS, 30 * MIN_MS, AT_A, AT_A};
    const struct visit t6v = {V_T6,        W_TRAVEL,
                              R_B,         BASE_MS + 2 * DAY_MS + 30 * MIN_MS + gap,
                              30 * MIN_MS, AT(HOME_B_LAT, HOME_A_LON, acc_in - 1),
                              AT_B};
    upload_visit(&t2, &t6v);
    expect_flags(V_T6, "[]");
    upload_visit(&t1, &t5v);
    expect_flags(V_T5, "[\"impossible_travel\"]");
    expect_flags(V_T6, "[\"impossible_travel\"]");

    expect_flagged("impossible_travel", V_T3 "," V_T4 "," V_T5 "," V_T6);
    expect_figures_match_flags(W_TRAVEL);
}

/* ==== Group ==== */

static int group_setup(void **state)
{
    (void)state;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_at_their_boundaries),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_far_from_address),
        cmocka_unit_test(test_impossible_travel),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
