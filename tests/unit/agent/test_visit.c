/* Unit tests of the visit workflow (ag/visit.h) over a real store in a temporary
 * folder, with reference records as the server sends them: identification by card
 * offline, the checks a worker meets (unknown card, another recipient's card, a
 * guardian's card, a visit still open, services the certificate does not allow or
 * whose volume is used up), the events each step appends, durations from the
 * monotonic clock or flagged across a reboot, cancellation, door attempts and card
 * binding. Card data is given as the reader returns it; reading itself is tested
 * end to end through libnfc (tests/e2e). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ag/reference.h"
#include "ag/visit.h"
#include "agent_test.h"
#include "cf/uuid.h"

#define RCP_A "aaaaaaaa-0000-4000-8000-000000000001"
#define RCP_B "bbbbbbbb-0000-4000-8000-000000000002"
#define RCP_C "cccccccc-0000-4000-8000-000000000003"
#define PLAN_A "dddddddd-0000-4000-8000-00000000000a"
#define TOKEN_A "tokenAAAAAAAAAAAAAAAAA"
#define TOKEN_B "tokenBBBBBBBBBBBBBBBBA"
#define TOKEN_G "tokenGGGGGGGGGGGGGGGGA" /* guardian of B and C */
#define TOKEN_X "tokenXXXXXXXXXXXXXXXXA" /* nobody's */

static char dir[64], path[128];
static struct ag_store *store;
static const int64_t T0 = 1790000000000; /* wall ms of the first tap */

static struct ag_moment at(int64_t wall_ms, int64_t mono_ms, uint8_t boot)
{
    struct ag_moment m;
    memset(&m, 0, sizeof m);
    m.wall_ms = wall_ms;
    m.mono_ms = mono_ms;
    memset(m.boot_id, boot, CF_UUID_LEN);
    return m;
}

static struct cf_card_assurance card(const char *token)
{
    struct cf_card_assurance c;
    memset(&c, 0, sizeof c);
    c.method = CF_CARD_UID;
    snprintf(c.token, sizeof c.token, "%s", token);
    return c;
}

static void uuid(const char *text, uint8_t out[CF_UUID_LEN])
{
    assert_int_equal(cf_uuid_from_text(text, out), 0);
}

/* A recipient body as reference_items() builds it, certificate over T0's year. */
static void recipient_body(char *out, size_t size, const char *id, const char *name,
                           const char *tokens_json, const char *valid_to, long shop_left)
{
    char year[11];
    ag_local_date(T0, year);
    year[4] = '\0';
    snprintf(out, size,
             "{\"id\":\"%s\",\"full_name\":\"%s\",\"address\":\"ул. Ленина, д. 1\","
             "\"lat_e7\":592201500,\"lon_e7\":398902100,\"cards\":%s,"
             "\"certificates\":[{\"id\":\"eeeeeeee-0000-4000-8000-000000000001\","
             "\"number\":\"ИППСУ-1\",\"valid_from\":\"%s-01-01\",\"valid_to\":\"%s\","
             "\"services\":[{\"code\":\"HH-SHOP\",\"volume\":8,\"period\":\"month\","
             "\"remaining\":%ld},{\"code\":\"MED-BP\",\"volume\":8,\"period\":\"month\","
             "\"remaining\":1}]}]}",
             id, name, tokens_json, year, valid_to, shop_left);
}

static void put_recipient(const char *id, const char *name, const char *cards_json,
                          const char (*tokens)[CF_TOKEN_TEXT_LEN + 1], size_t ntokens,
                          const char *valid_to, long shop_left, uint64_t basis)
{
    char body[2048];
    recipient_body(body, sizeof body, id, name, cards_json, valid_to, shop_left);
    /* The body must pass the same check the sync applies. */
    cJSON *json = cJSON_Parse(body);
    char checked[AG_MAX_CARDS][CF_TOKEN_TEXT_LEN + 1];
    size_t n = 0;
    assert_int_equal(ag_reference_check("recipient", id, json, checked, &n, NULL), 0);
    assert_int_equal(n, ntokens);
    cJSON_Delete(json);
    struct ag_ref_record r = {.key = {"recipient", "", "0000000000000001"},
                              .body = body,
                              .tokens = tokens,
                              .token_count = ntokens};
    snprintf(r.key.id, sizeof r.key.id, "%s", id);
    assert_int_equal(ag_store_ref_apply(store, &r, 1, NULL, 0, basis), 0);
}

static int setup(void **state)
{
    (void)state;
    if (ag_test_temp_store("visit", dir, sizeof dir, path, sizeof path) ||
        ag_store_open(path, &store, NULL))
        return -1;
    struct ag_identity id;
    memset(&id, 0, sizeof id);
    memset(id.device_id, 0xD1, CF_UUID_LEN);
    memset(id.worker_id, 0xA1, CF_UUID_LEN);
    id.token_key_len = 32;
    if (cf_ed25519_generate(id.private_key, id.public_key) || ag_store_identity_set(store, &id))
        return -1;
    char year[11];
    ag_local_date(T0, year);
    char end_of_year[16];
    snprintf(end_of_year, sizeof end_of_year, "%.4s-12-31", year);
    const char ta[1][CF_TOKEN_TEXT_LEN + 1] = {TOKEN_A};
    const char tb[2][CF_TOKEN_TEXT_LEN + 1] = {TOKEN_B, TOKEN_G};
    const char tc[1][CF_TOKEN_TEXT_LEN + 1] = {TOKEN_G};
    put_recipient(RCP_A, "Иванов Иван Петрович",
                  "[{\"token\":\"" TOKEN_A "\",\"method\":\"uid\",\"scheme\":\"\",\"last4\":\"\","
                  "\"holder\":\"recipient\",\"valid_from\":null,\"valid_to\":null}]",
                  ta, 1, end_of_year, 8, 0);
    put_recipient(RCP_B, "Петрова Анна Ивановна",
                  "[{\"token\":\"" TOKEN_B "\",\"method\":\"uid\"},{\"token\":\"" TOKEN_G
                  "\",\"method\":\"uid\",\"holder\":\"guardian\"}]",
                  tb, 2, end_of_year, 8, 0);
    /* C's certificate ended last year. */
    char expired[32];
    char *year_end = NULL;
    long this_year = strtol(year, &year_end, 10);
    assert_true(year_end == year + 4 && this_year > 1970 && this_year <= 9999);
    snprintf(expired, sizeof expired, "%04ld-12-31", this_year - 1);
    put_recipient(RCP_C, "Сидоров Николай", "[{\"token\":\"" TOKEN_G "\",\"method\":\"uid\"}]", tc,
                  1, expired, 8, 0);
    /* Catalogue and a plan for A. */
    struct ag_ref_record more[2] = {
        {.key = {"service", "HH-SHOP", "0000000000000001"},
         .body = "{\"code\":\"HH-SHOP\",\"name\":\"Покупка продуктов\",\"category\":\"household\","
                 "\"form\":\"home\",\"norm_minutes\":40,\"tariff_kopecks\":28000}"},
        {.key = {"plan", PLAN_A, "0000000000000001"},
         .body =
             "{\"id\":\"" PLAN_A "\",\"recipient_id\":\"" RCP_A "\","
             "\"planned_start\":\"2026-09-21T09:00:00+03:00\",\"service_codes\":[\"HH-SHOP\"]}"},
    };
    return ag_store_ref_apply(store, more, 2, NULL, 0, 0);
}

static int teardown(void **state)
{
    (void)state;
    ag_store_close(store);
    store = NULL;
    return ag_test_remove_dir(dir);
}

static struct cf_event last_event(void)
{
    struct ag_queue_stats st;
    assert_int_equal(ag_store_queue_stats(store, &st), 0);
    struct cf_event ev;
    size_t n = 0;
    assert_int_equal(ag_store_load_events(store, st.last_seq, 1, &ev, &n, NULL), 0);
    assert_int_equal(n, 1);
    return ev;
}

static uint64_t event_count(void)
{
    struct ag_queue_stats st;
    assert_int_equal(ag_store_queue_stats(store, &st), 0);
    return st.last_seq;
}

static struct ag_visit_result start_by_card(const char *token, int64_t wall, int64_t mono)
{
    struct ag_visit_start req = {.card = card(token), .moment = at(wall, mono, 0xE1)};
    struct ag_visit_result r;
    assert_int_equal(ag_visit_start(store, &req, &r, NULL), 0);
    return r;
}

/* ==== Start ==== */

static void test_start_identifies_by_card_offline(void **state)
{
    (void)state;
    struct ag_visit_start req = {.card = card(TOKEN_A), .moment = at(T0, 5000, 0xE1)};
    req.location = (struct cf_location){true, 592201000, 398902000, 15};
    struct ag_visit_result r;
    assert_int_equal(ag_visit_start(store, &req, &r, NULL), 0);
    assert_int_equal(r.kind, CF_EV_VISIT_STARTED);
    assert_int_equal(r.seq, 1);
    assert_true(r.have_view);
    assert_string_equal(r.view.recipient.full_name, "Иванов Иван Петрович");
    assert_true(r.view.certificate_valid);
    assert_string_equal(r.view.certificate_number, "ИППСУ-1");
    assert_int_equal(r.view.available_count, 2);
    assert_string_equal(r.view.available[0].code, "HH-SHOP");
    assert_string_equal(r.view.available[0].name, "Покупка продуктов");
    assert_int_equal(r.view.available[0].remaining, 8);
    assert_int_equal(r.view.available[0].norm_minutes, 40);
    assert_string_equal(r.view.available[1].name, "MED-BP"); /* not in the catalogue */

    struct cf_event ev = last_event();
    uint8_t a[CF_UUID_LEN];
    uuid(RCP_A, a);
    assert_int_equal(ev.kind, CF_EV_VISIT_STARTED);
    assert_memory_equal(ev.recipient_id, a, CF_UUID_LEN);
    assert_memory_equal(ev.visit_id, r.visit_id, CF_UUID_LEN);
    assert_string_equal(ev.card.token, TOKEN_A);
    assert_int_equal(ev.wall_ms, T0);
    assert_int_equal(ev.mono_ms, 5000);
    assert_true(ev.location.present);
    assert_int_equal(ev.location.accuracy_m, 15);
    assert_true(cf_uuid_is_nil(ev.plan_id));
}

static void test_second_start_while_open_is_refused(void **state)
{
    (void)state;
    struct ag_visit_result first = start_by_card(TOKEN_A, T0, 5000);
    struct ag_visit_start req = {.card = card(TOKEN_B), .moment = at(T0 + 60000, 65000, 0xE1)};
    struct ag_visit_result r;
    struct cf_error_detail d = {0};
    assert_int_equal(ag_visit_start(store, &req, &r, &d), CF_EVISIT_OPEN);
    assert_memory_equal(r.visit_id, first.visit_id, CF_UUID_LEN);
    assert_int_equal(event_count(), 1);
    /* Twelve hours later the forgotten visit no longer blocks. */
    req.moment = at(T0 + AG_VISIT_ABANDON_MS + 1, 5000 + AG_VISIT_ABANDON_MS + 1, 0xE1);
    assert_int_equal(ag_visit_start(store, &req, &r, NULL), 0);
}

static void test_unknown_card_is_recorded_and_refused(void **state)
{
    (void)state;
    struct ag_visit_start req = {.card = card(TOKEN_X), .moment = at(T0, 5000, 0xE1)};
    struct ag_visit_result r;
    struct cf_error_detail d = {0};
    assert_int_equal(ag_visit_start(store, &req, &r, &d), CF_EUNKNOWN_CARD);
    assert_int_equal(r.seq, 1);
    struct cf_event ev = last_event();
    assert_int_equal(ev.kind, CF_EV_CARD_UNRECOGNIZED);
    assert_string_equal(ev.card.token, TOKEN_X);
    assert_true(cf_uuid_is_nil(ev.recipient_id));
    assert_true(cf_uuid_is_nil(ev.visit_id));
    struct ag_visit_row row;
    assert_int_equal(ag_store_visit_find(store, AG_FIND_OPEN, NULL, &row), CF_ENO_VISIT);
}

static void test_plan_with_another_recipients_card(void **state)
{
    (void)state;
    uint8_t plan[CF_UUID_LEN];
    uuid(PLAN_A, plan);
    struct ag_visit_start req = {
        .plan_id = plan, .card = card(TOKEN_B), .moment = at(T0, 5000, 0xE1)};
    struct ag_visit_result r;
    struct cf_error_detail d = {0};
    assert_int_equal(ag_visit_start(store, &req, &r, &d), CF_ECARD_OTHER);
    assert_int_equal(r.candidate_count, 1);
    assert_string_equal(r.candidates[0], "Петрова Анна Ивановна");
    assert_int_equal(event_count(), 0);
    /* The right card starts the planned visit. */
    req.card = card(TOKEN_A);
    assert_int_equal(ag_visit_start(store, &req, &r, NULL), 0);
    struct cf_event ev = last_event();
    assert_memory_equal(ev.plan_id, plan, CF_UUID_LEN);
    /* And the plan cannot start twice. */
    assert_int_equal(ag_visit_start(store, &req, &r, NULL), CF_EVISIT_OPEN);
}

/* The worker saw whose card it is and starts anyway: the visit is recorded with that
 * card (the backend flags card_mismatch), never dropped. */
static void test_plan_started_with_another_card_when_the_worker_says_so(void **state)
{
    (void)state;
    uint8_t plan[CF_UUID_LEN];
    uuid(PLAN_A, plan);
    struct ag_visit_start req = {.plan_id = plan,
                                 .card = card(TOKEN_B),
                                 .accept_other_card = true,
                                 .moment = at(T0, 5000, 0xE1)};
    struct ag_visit_result r;
    assert_int_equal(ag_visit_start(store, &req, &r, NULL), 0);
    assert_false(r.card_matches);
    struct cf_event ev = last_event();
    assert_int_equal(ev.kind, CF_EV_VISIT_STARTED);
    assert_string_equal(ev.card.token, TOKEN_B);
    assert_memory_equal(ev.plan_id, plan, CF_UUID_LEN);
    struct ag_visit_row row;
    assert_int_equal(ag_store_visit_find(store, AG_FIND_OPEN, NULL, &row), 0);
}

static void test_guardian_card_needs_a_choice(void **state)
{
    (void)state;
    struct ag_visit_start req = {.card = card(TOKEN_G), .moment = at(T0, 5000, 0xE1)};
    struct ag_visit_result r;
    assert_int_equal(ag_visit_start(store, &req, &r, NULL), CF_ECARD_AMBIGUOUS);
    assert_int_equal(r.candidate_count, 2);
    assert_int_equal(event_count(), 0);
    uint8_t b[CF_UUID_LEN];
    uuid(RCP_B, b);
    req.recipient_id = b;
    assert_int_equal(ag_visit_start(store, &req, &r, NULL), 0);
    assert_string_equal(r.view.recipient.full_name, "Петрова Анна Ивановна");
}

static void test_unknown_plan_and_recipient(void **state)
{
    (void)state;
    uint8_t nobody[CF_UUID_LEN];
    uuid("99999999-0000-4000-8000-000000000009", nobody);
    struct ag_visit_start req = {
        .plan_id = nobody, .card = card(TOKEN_A), .moment = at(T0, 5000, 0xE1)};
    struct ag_visit_result r;
    assert_int_equal(ag_visit_start(store, &req, &r, NULL), CF_EUNKNOWN_PLAN);
    req.plan_id = NULL;
    req.recipient_id = nobody;
    assert_int_equal(ag_visit_start(store, &req, &r, NULL), CF_EUNKNOWN_RECIPIENT);
    assert_int_equal(event_count(), 0);
}

/* ==== End, rating ==== */

static void test_end_checks_services_and_measures(void **state)
{
    (void)state;
    start_by_card(TOKEN_A, T0, 5000);
    struct ag_visit_end req = {.card = card(TOKEN_A),
                               .moment = at(T0 + 2400000, 5000 + 2400000, 0xE1)};
    req.service_count = 1;
    snprintf(req.services[0].code, sizeof req.services[0].code, "HH-CLEAN");
    req.services[0].quantity = 1;
    struct ag_visit_result r;
    struct cf_error_detail d = {0};
    assert_int_equal(ag_visit_end(store, &req, &r, &d), CF_ESERVICE_NOT_ALLOWED);
    assert_string_equal(d.field, "HH-CLEAN");
    snprintf(req.services[0].code, sizeof req.services[0].code, "MED-BP");
    req.services[0].quantity = 2; /* only 1 left */
    memset(&d, 0, sizeof d);
    assert_int_equal(ag_visit_end(store, &req, &r, &d), CF_ESERVICE_NOT_ALLOWED);
    assert_non_null(strstr(d.message, "1 left"));
    assert_int_equal(event_count(), 1);

    req.service_count = 2;
    req.services[0].quantity = 1;
    snprintf(req.services[1].code, sizeof req.services[1].code, "HH-SHOP");
    req.services[1].quantity = 2;
    assert_int_equal(ag_visit_end(store, &req, &r, NULL), 0);
    assert_true(r.card_matches);
    assert_false(r.clock_uncertain);
    assert_int_equal(r.duration_ms, 2400000);
    struct cf_event ev = last_event();
    assert_int_equal(ev.kind, CF_EV_VISIT_ENDED);
    assert_int_equal(ev.service_count, 2);
    assert_string_equal(ev.services[1].code, "HH-SHOP");

    /* What is left now counts this visit until the server's data says so. */
    uint8_t a[CF_UUID_LEN];
    uuid(RCP_A, a);
    struct ag_recipient_view v;
    assert_int_equal(ag_recipient_view(store, a, T0 + 2400000, &v), 0);
    assert_int_equal(v.available[0].remaining, 6);
    assert_int_equal(v.available[1].remaining, 0);
    /* A refreshed record (fetched after the server acknowledged the end) is the truth. */
    const char ta[1][CF_TOKEN_TEXT_LEN + 1] = {TOKEN_A};
    char year[11], end_of_year[16];
    ag_local_date(T0, year);
    snprintf(end_of_year, sizeof end_of_year, "%.4s-12-31", year);
    put_recipient(RCP_A, "Иванов Иван Петрович", "[{\"token\":\"" TOKEN_A "\",\"method\":\"uid\"}]",
                  ta, 1, end_of_year, 5, ev.seq);
    assert_int_equal(ag_recipient_view(store, a, T0 + 2400000, &v), 0);
    assert_int_equal(v.available[0].remaining, 5);
}

static void test_end_with_another_card_is_recorded(void **state)
{
    (void)state;
    start_by_card(TOKEN_A, T0, 5000);
    struct ag_visit_end req = {.card = card(TOKEN_X), .moment = at(T0 + 60000, 65000, 0xE1)};
    struct ag_visit_result r;
    assert_int_equal(ag_visit_end(store, &req, &r, NULL), 0);
    assert_false(r.card_matches);
    struct cf_event ev = last_event();
    assert_int_equal(ev.kind, CF_EV_VISIT_ENDED);
    assert_string_equal(ev.card.token, TOKEN_X);
}

static void test_duration_across_clock_change_and_reboot(void **state)
{
    (void)state;
    /* The wall clock jumps 3 h forward during the visit: the monotonic clock decides. */
    start_by_card(TOKEN_A, T0, 5000);
    struct ag_visit_end req = {.card = card(TOKEN_A),
                               .moment = at(T0 + 3 * 3600000 + 1800000, 5000 + 1800000, 0xE1)};
    struct ag_visit_result r;
    assert_int_equal(ag_visit_end(store, &req, &r, NULL), 0);
    assert_int_equal(r.duration_ms, 1800000);
    assert_false(r.clock_uncertain);
    /* A reboot between start and end: only the wall clock is left, and it is flagged. */
    start_by_card(TOKEN_B, T0 + 4 * 3600000, 4 * 3600000);
    req.card = card(TOKEN_B);
    req.moment = at(T0 + 4 * 3600000 + 900000, 2000, 0xE2);
    assert_int_equal(ag_visit_end(store, &req, &r, NULL), 0);
    assert_true(r.clock_uncertain);
    assert_int_equal(r.duration_ms, 900000);
}

static void test_rating_rules(void **state)
{
    (void)state;
    struct ag_moment m = at(T0 + 100000, 105000, 0xE1);
    struct ag_visit_result r;
    assert_int_equal(ag_visit_rate(store, NULL, 5, NULL, &m, &r, NULL), CF_ENO_VISIT);
    struct ag_visit_result started = start_by_card(TOKEN_A, T0, 5000);
    assert_int_equal(ag_visit_rate(store, started.visit_id, 5, NULL, &m, &r, NULL),
                     CF_EVISIT_STATE);
    struct ag_visit_end end = {.card = card(TOKEN_A), .moment = at(T0 + 60000, 65000, 0xE1)};
    assert_int_equal(ag_visit_end(store, &end, &r, NULL), 0);
    assert_int_equal(ag_visit_rate(store, NULL, 6, NULL, &m, &r, NULL), CF_EFIELD_RANGE);
    /* The comment's limit is 1000 characters: 1001 Cyrillic letters are refused, 1000
     * (2000 bytes) taken whole. */
    static char comment[2 * 1001 + 1];
    for (int i = 0; i < 1001; i++)
        memcpy(comment + 2 * i, "я", 2);
    struct cf_error_detail d = {0};
    assert_int_equal(ag_visit_rate(store, NULL, 2, comment, &m, &r, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "comment");
    assert_non_null(strstr(d.message, "1000 characters"));
    comment[2000] = '\0';
    assert_int_equal(ag_visit_rate(store, NULL, 2, comment, &m, &r, NULL), 0);
    struct cf_event ev = last_event();
    assert_int_equal(ev.kind, CF_EV_VISIT_RATED);
    assert_int_equal(ev.rating, 2);
    assert_string_equal(ev.comment, comment);
    assert_memory_equal(ev.visit_id, started.visit_id, CF_UUID_LEN);
    /* a shorter one on another visit */
    started = start_by_card(TOKEN_A, T0 + 200000, 205000);
    end.moment = at(T0 + 260000, 265000, 0xE1);
    assert_int_equal(ag_visit_end(store, &end, &r, NULL), 0);
    m = at(T0 + 270000, 275000, 0xE1);
    assert_int_equal(ag_visit_rate(store, NULL, 2, "Пришла поздно", &m, &r, NULL), 0);
    ev = last_event();
    assert_string_equal(ev.comment, "Пришла поздно");
    assert_memory_equal(ev.visit_id, started.visit_id, CF_UUID_LEN);
    assert_int_equal(ag_visit_rate(store, started.visit_id, 3, NULL, &m, &r, NULL),
                     CF_EVISIT_STATE);
}

/* ==== Cancellation, attempts, binding ==== */

static void test_cancel_started_and_planned(void **state)
{
    (void)state;
    struct ag_visit_result started = start_by_card(TOKEN_B, T0, 5000);
    struct ag_visit_cancel req = {.reason = CF_REASON_REFUSED,
                                  .cancelled_by = CF_ACTOR_RECIPIENT,
                                  .moment = at(T0 + 300000, 305000, 0xE1)};
    struct ag_visit_result r;
    assert_int_equal(ag_visit_cancel(store, &req, &r, NULL), 0);
    assert_int_equal(r.since_start_ms, 300000);
    assert_memory_equal(r.visit_id, started.visit_id, CF_UUID_LEN);
    struct cf_event ev = last_event();
    assert_int_equal(ev.kind, CF_EV_VISIT_CANCELLED);
    assert_int_equal(ev.reason, CF_REASON_REFUSED);
    assert_int_equal(ev.cancelled_by, CF_ACTOR_RECIPIENT);
    req.visit_id = started.visit_id;
    assert_int_equal(ag_visit_cancel(store, &req, &r, NULL), CF_EVISIT_STATE);

    /* A planned visit cancelled before it started gets a visit id of its own. */
    uint8_t plan[CF_UUID_LEN];
    uuid(PLAN_A, plan);
    struct ag_visit_cancel planned = {.plan_id = plan,
                                      .reason = CF_REASON_WORKER_ILL,
                                      .cancelled_by = CF_ACTOR_WORKER,
                                      .moment = at(T0 + 400000, 405000, 0xE1)};
    assert_int_equal(ag_visit_cancel(store, &planned, &r, NULL), 0);
    ev = last_event();
    assert_memory_equal(ev.plan_id, plan, CF_UUID_LEN);
    assert_false(cf_uuid_is_nil(ev.visit_id));
    assert_int_equal(r.since_start_ms, 0);
    /* Cancelled: the plan can no longer start. */
    struct ag_visit_start start = {
        .plan_id = plan, .card = card(TOKEN_A), .moment = at(T0 + 500000, 505000, 0xE1)};
    assert_int_equal(ag_visit_start(store, &start, &r, NULL), CF_EVISIT_STATE);
}

static void test_attempt_then_visit_later(void **state)
{
    (void)state;
    uint8_t plan[CF_UUID_LEN];
    uuid(PLAN_A, plan);
    struct ag_visit_attempt req = {
        .plan_id = plan, .reason = CF_REASON_NOBODY_HOME, .moment = at(T0, 5000, 0xE1)};
    struct ag_visit_result r;
    assert_int_equal(ag_visit_attempt(store, &req, &r, NULL), 0);
    struct cf_event ev = last_event();
    assert_int_equal(ev.kind, CF_EV_VISIT_ATTEMPT);
    assert_int_equal(ev.reason, CF_REASON_NOBODY_HOME);
    assert_true(cf_uuid_is_nil(ev.visit_id));
    assert_int_equal(ev.card.method, CF_CARD_NONE);
    /* The worker comes back later: the plan can still start. */
    struct ag_visit_start start = {
        .plan_id = plan, .card = card(TOKEN_A), .moment = at(T0 + 7200000, 7205000, 0xE1)};
    assert_int_equal(ag_visit_start(store, &start, &r, NULL), 0);
    assert_int_equal(ag_visit_attempt(store, &req, &r, NULL), CF_EVISIT_STATE);
    /* A refusal at the door confirmed by the recipient's card. */
    uint8_t b[CF_UUID_LEN];
    uuid(RCP_B, b);
    struct ag_visit_attempt refused = {.recipient_id = b,
                                       .reason = CF_REASON_REFUSED,
                                       .card = card(TOKEN_B),
                                       .moment = at(T0 + 8000000, 8005000, 0xE1)};
    assert_int_equal(ag_visit_attempt(store, &refused, &r, NULL), 0);
    assert_true(r.card_matches);
    ev = last_event();
    assert_string_equal(ev.card.token, TOKEN_B);
}

static void test_card_binding_is_pending(void **state)
{
    (void)state;
    uint8_t a[CF_UUID_LEN], nobody[CF_UUID_LEN];
    uuid(RCP_A, a);
    uuid("99999999-0000-4000-8000-000000000009", nobody);
    struct cf_card_assurance c = card(TOKEN_X);
    struct ag_moment m = at(T0, 5000, 0xE1);
    struct ag_visit_result r;
    assert_int_equal(ag_card_bind(store, nobody, &c, &m, &r, NULL), CF_EUNKNOWN_RECIPIENT);
    assert_int_equal(ag_card_bind(store, a, &c, &m, &r, NULL), 0);
    struct cf_event ev = last_event();
    assert_int_equal(ev.kind, CF_EV_CARD_BOUND);
    assert_memory_equal(ev.recipient_id, a, CF_UUID_LEN);
    /* Pending: the card still identifies nobody until a manager confirms it. */
    struct ag_visit_start start = {.card = c, .moment = at(T0 + 1000, 6000, 0xE1)};
    assert_int_equal(ag_visit_start(store, &start, &r, NULL), CF_EUNKNOWN_CARD);
}

/* A card tapped at an office's desk: appointment.checked_in with the card, no visit, no
 * recipient (the server finds the appointment); no card, no event. */
static void test_card_check_in_at_the_desk(void **state)
{
    (void)state;
    struct cf_card_assurance c = card(TOKEN_A);
    struct ag_moment m = at(T0 + 9000000, 9005000, 0xE1);
    struct ag_visit_result r;
    assert_int_equal(ag_card_check_in(store, &c, &m, &r, NULL), 0);
    struct cf_event ev = last_event();
    assert_int_equal(ev.kind, CF_EV_APPOINTMENT_CHECKED_IN);
    assert_int_equal(ev.seq, r.seq);
    assert_string_equal(ev.card.token, TOKEN_A);
    assert_int_equal(ev.wall_ms, T0 + 9000000);
    static const uint8_t nil[CF_UUID_LEN] = {0};
    assert_memory_equal(ev.visit_id, nil, CF_UUID_LEN);
    assert_int_equal(cf_event_validate(&ev, NULL), 0);
    struct cf_card_assurance none;
    memset(&none, 0, sizeof none);
    assert_int_equal(ag_card_check_in(store, &none, &m, &r, NULL), CF_EINVAL);
    assert_int_equal(last_event().seq, ev.seq);
}

/* An EMV card (token as given) with a proof of kind none: aid and aip only. */
static struct cf_card_assurance emv_card_with_proof(const char *token)
{
    struct cf_card_assurance c = card(token);
    static const uint8_t aid[] = {0xA0, 0x00, 0x00, 0x06, 0x58, 0x10, 0x10};
    c.method = CF_CARD_EMV;
    snprintf(c.scheme, sizeof c.scheme, "mir");
    snprintf(c.last4, sizeof c.last4, "0936");
    c.proof.kind = CF_PROOF_NONE;
    memcpy(c.proof.aid.data, aid, sizeof aid);
    c.proof.aid.len = sizeof aid;
    c.proof.aip.len = 2;
    return c;
}

/* The card's proof: the challenge is the next event's, the started visit keeps the visit id
 * the challenge was made with, and the proof stays only on the event it was made for. */
static void test_proof_goes_with_its_event(void **state)
{
    (void)state;
    uint8_t challenge[CF_CHALLENGE_LEN], want[CF_CHALLENGE_LEN], device[CF_UUID_LEN],
        zero[CF_DIGEST_LEN] = {0}, visit[CF_UUID_LEN], a[CF_UUID_LEN];
    memset(device, 0xD1, sizeof device);
    memset(visit, 0x7A, sizeof visit);
    uuid(RCP_A, a);
    assert_int_equal(ag_card_challenge(store, visit, challenge), 0);
    assert_int_equal(cf_card_challenge(device, 1, zero, visit, want), 0);
    assert_memory_equal(challenge, want, CF_CHALLENGE_LEN);

    /* An unknown card: card.unrecognized, without the proof made for the start. */
    struct ag_visit_start req = {
        .visit_id = visit, .card = emv_card_with_proof(TOKEN_X), .moment = at(T0, 5000, 0xE1)};
    struct ag_visit_result r;
    assert_int_equal(ag_visit_start(store, &req, &r, NULL), CF_EUNKNOWN_CARD);
    struct cf_event ev = last_event();
    assert_int_equal(ev.kind, CF_EV_CARD_UNRECOGNIZED);
    assert_int_equal(ev.card.proof.kind, CF_PROOF_ABSENT);

    /* The start: the visit id given, the proof kept; the next challenge follows the chain. */
    uint8_t digest[CF_DIGEST_LEN];
    assert_int_equal(cf_event_digest(&ev, digest), 0);
    assert_int_equal(ag_card_challenge(store, visit, challenge), 0);
    assert_int_equal(cf_card_challenge(device, 2, digest, visit, want), 0);
    assert_memory_equal(challenge, want, CF_CHALLENGE_LEN);
    req.card = emv_card_with_proof(TOKEN_A);
    assert_int_equal(ag_visit_start(store, &req, &r, NULL), 0);
    ev = last_event();
    assert_int_equal(ev.kind, CF_EV_VISIT_STARTED);
    assert_memory_equal(ev.visit_id, visit, CF_UUID_LEN);
    assert_int_equal(ev.card.proof.kind, CF_PROOF_NONE);
    uint8_t ending[CF_UUID_LEN];
    assert_int_equal(ag_visit_end_target(store, NULL, T0 + 1000, ending), 0);
    assert_memory_equal(ending, visit, CF_UUID_LEN);

    /* The end keeps it; a door attempt drops it; a binding keeps it. */
    struct ag_visit_end *end = calloc(1, sizeof *end);
    assert_non_null(end);
    end->card = emv_card_with_proof(TOKEN_A);
    end->moment = at(T0 + 60000, 65000, 0xE1);
    assert_int_equal(ag_visit_end(store, end, &r, NULL), 0);
    free(end);
    assert_int_equal(last_event().card.proof.kind, CF_PROOF_NONE);
    assert_int_equal(ag_visit_end_target(store, NULL, T0 + 70000, ending), CF_ENO_VISIT);
    struct ag_visit_attempt at_door = {.recipient_id = a,
                                       .reason = CF_REASON_REFUSED,
                                       .card = emv_card_with_proof(TOKEN_A),
                                       .moment = at(T0 + 90000, 95000, 0xE1)};
    assert_int_equal(ag_visit_attempt(store, &at_door, &r, NULL), 0);
    ev = last_event();
    assert_int_equal(ev.kind, CF_EV_VISIT_ATTEMPT);
    assert_int_equal(ev.card.method, CF_CARD_EMV);
    assert_int_equal(ev.card.proof.kind, CF_PROOF_ABSENT);
    struct cf_card_assurance c = emv_card_with_proof(TOKEN_X);
    struct ag_moment m = at(T0 + 99000, 99500, 0xE1);
    assert_int_equal(ag_card_bind(store, a, &c, &m, &r, NULL), 0);
    assert_int_equal(last_event().card.proof.kind, CF_PROOF_NONE);
}

static void test_expired_certificate_offers_nothing(void **state)
{
    (void)state;
    uint8_t c[CF_UUID_LEN];
    uuid(RCP_C, c);
    struct ag_visit_start req = {
        .recipient_id = c, .card = card(TOKEN_G), .moment = at(T0, 5000, 0xE1)};
    struct ag_visit_result r;
    assert_int_equal(ag_visit_start(store, &req, &r, NULL), 0);
    assert_false(r.view.certificate_valid);
    assert_int_equal(r.view.available_count, 0);
    struct ag_visit_end end = {.card = card(TOKEN_G), .moment = at(T0 + 60000, 65000, 0xE1)};
    end.service_count = 1;
    snprintf(end.services[0].code, sizeof end.services[0].code, "HH-SHOP");
    end.services[0].quantity = 1;
    assert_int_equal(ag_visit_end(store, &end, &r, NULL), CF_ESERVICE_NOT_ALLOWED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_identifies_by_card_offline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_start_while_open_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_card_is_recorded_and_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_with_another_recipients_card, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_started_with_another_card_when_the_worker_says_so,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_guardian_card_needs_a_choice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_plan_and_recipient, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_checks_services_and_measures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_with_another_card_is_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duration_across_clock_change_and_reboot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rating_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_started_and_planned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attempt_then_visit_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_card_binding_is_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_card_check_in_at_the_desk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proof_goes_with_its_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_certificate_offers_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
