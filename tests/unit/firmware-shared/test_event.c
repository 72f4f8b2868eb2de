/* Unit tests for the event model (cf/event.h): the canonical encoding against a
 * byte layout built independently here, a pinned digest, sensitivity of the digest
 * to every field, per-kind validation (code and field of each refusal), names and
 * the chain check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "cf/codec.h"
#include "cf/event.h"
#include "sample_events.h"

#define PINNED_ENDED_DIGEST "75f3673e973642270f0a8136a8eeb6dccc3bcec123b5f7c494448452614816f2"

/* ==== Encoding ==== */

struct bytes {
    uint8_t buf[4096];
    size_t len;
};

static void b_raw(struct bytes *b, const void *p, size_t n)
{
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

static void b_be(struct bytes *b, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--)
        b->buf[b->len++] = (uint8_t)(v >> (8 * i));
}

static void b_str(struct bytes *b, const char *s)
{
    b_be(b, strlen(s), 4);
    b_raw(b, s, strlen(s));
}

/* The layout described in cf/event.h, written out field by field. */
static void expected_encoding(const struct cf_event *ev, struct bytes *b)
{
    b->len = 0;
    b_be(b, 1, 1);
    b_raw(b, ev->device_id, 16);
    b_be(b, ev->seq, 8);
    b_raw(b, ev->prev_digest, 32);
    b_be(b, (uint64_t)ev->kind, 8);
    b_raw(b, ev->visit_id, 16);
    b_raw(b, ev->worker_id, 16);
    b_raw(b, ev->recipient_id, 16);
    b_raw(b, ev->plan_id, 16);
    b_be(b, (uint64_t)ev->wall_ms, 8);
    b_be(b, (uint64_t)ev->mono_ms, 8);
    b_raw(b, ev->boot_id, 16);
    b_be(b, (uint64_t)ev->card.method, 8);
    b_str(b, ev->card.token);
    b_str(b, ev->card.scheme);
    b_str(b, ev->card.last4);
    b_be(b, ev->location.present, 1);
    b_be(b, (uint64_t)(int64_t)ev->location.lat_e7, 8);
    b_be(b, (uint64_t)(int64_t)ev->location.lon_e7, 8);
    b_be(b, (uint64_t)(int64_t)ev->location.accuracy_m, 8);
    b_be(b, ev->service_count, 4);
    for (size_t i = 0; i < ev->service_count; i++) {
        b_str(b, ev->services[i].code);
        b_be(b, (uint64_t)(int64_t)ev->services[i].quantity, 8);
    }
    b_be(b, (uint64_t)(int64_t)ev->rating, 8);
    b_str(b, ev->comment);
    b_be(b, (uint64_t)ev->reason, 8);
    b_be(b, (uint64_t)ev->cancelled_by, 8);
}

static void test_encoding_matches_documented_layout(void **state)
{
    (void)state;
    for (int kind = CF_EV_VISIT_STARTED; kind <= CF_EV_CARD_BOUND; kind++) {
        struct cf_event ev;
        sample_event(&ev, (enum cf_event_kind)kind);
        ev.location.lat_e7 = ev.location.present ? -123456789 : 0; /* negative: two's complement */
        struct bytes want;
        expected_encoding(&ev, &want);
        uint8_t got[4096];
        assert_int_equal(cf_event_encode(&ev, NULL, 0), (long)want.len);
        assert_int_equal(cf_event_encode(&ev, got, sizeof got), (long)want.len);
        assert_memory_equal(got, want.buf, want.len);
        assert_int_equal(cf_event_encode(&ev, got, want.len - 1), CF_ENOSPACE);

        /* digest = SHA-256("carefact.event.v1" NUL || encoding) */
        uint8_t msg[4200], want_digest[32], digest[32];
        memcpy(msg, "carefact.event.v1", 18);
        memcpy(msg + 18, want.buf, want.len);
        unsigned int n = 0;
        assert_int_equal(EVP_Digest(msg, 18 + want.len, want_digest, &n, EVP_sha256(), NULL), 1);
        assert_int_equal(cf_event_digest(&ev, digest), 0);
        assert_memory_equal(digest, want_digest, 32);
    }
}

/* Pinned: any change of the layout is a protocol change and must fail here. */
static void test_digest_is_pinned(void **state)
{
    (void)state;
    struct cf_event ev;
    sample_event(&ev, CF_EV_VISIT_ENDED);
    uint8_t digest[32];
    char hex[65];
    assert_int_equal(cf_event_digest(&ev, digest), 0);
    cf_hex_encode(digest, 32, hex, sizeof hex);
    assert_string_equal(hex, PINNED_ENDED_DIGEST);
}

static void test_every_field_changes_digest(void **state)
{
    (void)state;
    struct cf_event base, ev;
    uint8_t d0[32], d1[32];
    sample_event(&base, CF_EV_VISIT_ENDED);
    assert_int_equal(cf_event_digest(&base, d0), 0);
#define MUTATE(stmt)                                                                               \
    do {                                                                                           \
        ev = base;                                                                                 \
        stmt;                                                                                      \
        assert_int_equal(cf_event_digest(&ev, d1), 0);                                             \
        assert_memory_not_equal(d0, d1, 32);                                                       \
    } while (0)
    MUTATE(ev.device_id[15] ^= 1);
    MUTATE(ev.seq++);
    MUTATE(ev.prev_digest[0] ^= 1);
    MUTATE(ev.kind = CF_EV_VISIT_STARTED);
    MUTATE(ev.visit_id[0] ^= 1);
    MUTATE(ev.worker_id[0] ^= 1);
    MUTATE(ev.recipient_id[0] ^= 1);
    MUTATE(ev.plan_id[0] ^= 1);
    MUTATE(ev.wall_ms++);
    MUTATE(ev.mono_ms++);
    MUTATE(ev.boot_id[0] ^= 1);
    MUTATE(ev.card.method = CF_CARD_UID);
    MUTATE(ev.card.token[0] = 'B');
    MUTATE(memcpy(ev.card.scheme, "visa", 5));
    MUTATE(ev.card.last4[3] = '9');
    MUTATE(ev.location.present = false);
    MUTATE(ev.location.lat_e7++);
    MUTATE(ev.location.lon_e7++);
    MUTATE(ev.location.accuracy_m++);
    MUTATE(ev.service_count = 1);
    MUTATE(ev.services[0].code[0] = 'X');
    MUTATE(ev.services[1].quantity = 3);
    MUTATE(ev.rating = 4);
    MUTATE(memcpy(ev.comment, "x", 2));
    MUTATE(ev.reason = CF_REASON_OTHER);
    MUTATE(ev.cancelled_by = CF_ACTOR_RECIPIENT);
    /* Moving bytes between adjacent strings must not collide (length prefixes). */
    MUTATE((memcpy(ev.card.scheme, "mi", 3), memcpy(ev.card.last4, "r567", 5)));
#undef MUTATE
}

/* ==== Validation ==== */

static void test_all_sample_kinds_are_valid(void **state)
{
    (void)state;
    for (int kind = CF_EV_VISIT_STARTED; kind <= CF_EV_CARD_BOUND; kind++) {
        struct cf_event ev;
        struct cf_error_detail d = {0};
        sample_event(&ev, (enum cf_event_kind)kind);
        assert_int_equal(cf_event_validate(&ev, &d), 0);
    }
}

struct refusal {
    enum cf_event_kind kind;
    void (*mutate)(struct cf_event *ev);
    int code;
    const char *field;
};

static void no_worker(struct cf_event *ev)
{
    memset(ev->worker_id, 0, 16);
}
static void no_visit(struct cf_event *ev)
{
    memset(ev->visit_id, 0, 16);
}
static void no_recipient(struct cf_event *ev)
{
    memset(ev->recipient_id, 0, 16);
}
static void no_boot(struct cf_event *ev)
{
    memset(ev->boot_id, 0, 16);
}
static void seq_zero(struct cf_event *ev)
{
    ev->seq = 0;
}
static void bad_kind(struct cf_event *ev)
{
    ev->kind = (enum cf_event_kind)42;
}
static void wall_1990(struct cf_event *ev)
{
    ev->wall_ms = INT64_C(631152000000);
}
static void mono_negative(struct cf_event *ev)
{
    ev->mono_ms = -1;
}
static void rating_six(struct cf_event *ev)
{
    ev->rating = 6;
}
static void rating_zero(struct cf_event *ev)
{
    ev->rating = 0;
}
static void rating_on_start(struct cf_event *ev)
{
    ev->rating = 3;
}
static void no_reason(struct cf_event *ev)
{
    ev->reason = CF_REASON_NONE;
}
static void no_canceller(struct cf_event *ev)
{
    ev->cancelled_by = CF_ACTOR_NONE;
}
static void reason_on_end(struct cf_event *ev)
{
    ev->reason = CF_REASON_OTHER;
}
static void no_card(struct cf_event *ev)
{
    memset(&ev->card, 0, sizeof ev->card);
}
static void short_token(struct cf_event *ev)
{
    ev->card.token[5] = '\0';
}
static void bad_token_char(struct cf_event *ev)
{
    ev->card.token[3] = '+';
}
static void bad_last4(struct cf_event *ev)
{
    memcpy(ev->card.last4, "12a4", 5);
}
static void bad_scheme(struct cf_event *ev)
{
    memcpy(ev->card.scheme, "diners", 7);
}
static void uid_with_last4(struct cf_event *ev)
{
    ev->card.method = CF_CARD_UID;
}
static void lat_too_big(struct cf_event *ev)
{
    ev->location.lat_e7 = 900000001;
}
static void lon_too_small(struct cf_event *ev)
{
    ev->location.lon_e7 = -1800000001;
}
static void accuracy_negative(struct cf_event *ev)
{
    ev->location.accuracy_m = -1;
}
static void service_code_bad(struct cf_event *ev)
{
    memcpy(ev->services[1].code, "a b", 4);
}
static void service_quantity_zero(struct cf_event *ev)
{
    ev->services[0].quantity = 0;
}
static void service_duplicate(struct cf_event *ev)
{
    ev->services[1] = ev->services[0];
}
static void services_on_start(struct cf_event *ev)
{
    ev->service_count = 1;
    memcpy(ev->services[0].code, "HH-01", 6);
    ev->services[0].quantity = 1;
}
static void comment_control(struct cf_event *ev)
{
    memcpy(ev->comment, "a\x07", 3);
}
static void comment_bad_utf8(struct cf_event *ev)
{
    memcpy(ev->comment, "\xd0", 2);
}
static void comment_overlong(struct cf_event *ev)
{
    memcpy(ev->comment, "\xc0\xaf", 3);
}

static const struct refusal refusals[] = {
    {CF_EV_VISIT_STARTED, no_worker, CF_EFIELD_MISSING, "worker_id"},
    {CF_EV_VISIT_STARTED, no_visit, CF_EFIELD_MISSING, "visit_id"},
    {CF_EV_VISIT_STARTED, no_recipient, CF_EFIELD_MISSING, "recipient_id"},
    {CF_EV_VISIT_STARTED, no_boot, CF_EFIELD_MISSING, "boot_id"},
    {CF_EV_VISIT_STARTED, seq_zero, CF_EFIELD_RANGE, "seq"},
    {CF_EV_VISIT_STARTED, bad_kind, CF_EKIND, "kind"},
    {CF_EV_VISIT_STARTED, wall_1990, CF_EFIELD_RANGE, "wall_ms"},
    {CF_EV_VISIT_STARTED, mono_negative, CF_EFIELD_RANGE, "mono_ms"},
    {CF_EV_VISIT_STARTED, rating_on_start, CF_EFIELD_RANGE, "rating"},
    {CF_EV_VISIT_STARTED, short_token, CF_EFIELD_RANGE, "card.token"},
    {CF_EV_VISIT_STARTED, bad_token_char, CF_EFIELD_RANGE, "card.token"},
    {CF_EV_VISIT_STARTED, bad_last4, CF_EFIELD_RANGE, "card.last4"},
    {CF_EV_VISIT_STARTED, bad_scheme, CF_EFIELD_RANGE, "card.scheme"},
    {CF_EV_VISIT_STARTED, uid_with_last4, CF_EFIELD_RANGE, "card"},
    {CF_EV_VISIT_STARTED, lat_too_big, CF_EFIELD_RANGE, "location.lat_e7"},
    {CF_EV_VISIT_STARTED, lon_too_small, CF_EFIELD_RANGE, "location.lon_e7"},
    {CF_EV_VISIT_STARTED, accuracy_negative, CF_EFIELD_RANGE, "location.accuracy_m"},
    {CF_EV_VISIT_STARTED, services_on_start, CF_EFIELD_RANGE, "services"},
    {CF_EV_VISIT_ENDED, service_code_bad, CF_EFIELD_RANGE, "services[1].code"},
    {CF_EV_VISIT_ENDED, service_quantity_zero, CF_EFIELD_RANGE, "services[0].quantity"},
    {CF_EV_VISIT_ENDED, service_duplicate, CF_EFIELD_RANGE, "services[1].code"},
    {CF_EV_VISIT_ENDED, reason_on_end, CF_EFIELD_RANGE, "reason"},
    {CF_EV_VISIT_RATED, rating_six, CF_EFIELD_RANGE, "rating"},
    {CF_EV_VISIT_RATED, rating_zero, CF_EFIELD_MISSING, "rating"},
    {CF_EV_VISIT_RATED, comment_control, CF_EFIELD_RANGE, "comment"},
    {CF_EV_VISIT_RATED, comment_bad_utf8, CF_EFIELD_RANGE, "comment"},
    {CF_EV_VISIT_RATED, comment_overlong, CF_EFIELD_RANGE, "comment"},
    {CF_EV_VISIT_CANCELLED, no_reason, CF_EFIELD_MISSING, "reason"},
    {CF_EV_VISIT_CANCELLED, no_canceller, CF_EFIELD_MISSING, "cancelled_by"},
    {CF_EV_VISIT_ATTEMPT, no_reason, CF_EFIELD_MISSING, "reason"},
    {CF_EV_VISIT_ATTEMPT, no_recipient, CF_EFIELD_MISSING, "recipient_id"},
    {CF_EV_CARD_UNRECOGNIZED, no_card, CF_EFIELD_MISSING, "card"},
    {CF_EV_CARD_BOUND, no_card, CF_EFIELD_MISSING, "card"},
    {CF_EV_CARD_BOUND, no_recipient, CF_EFIELD_MISSING, "recipient_id"},
};

static void test_each_rule_refuses_with_code_and_field(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        struct cf_event ev;
        struct cf_error_detail d = {0};
        sample_event(&ev, refusals[i].kind);
        refusals[i].mutate(&ev);
        int rc = cf_event_validate(&ev, &d);
        if (rc != refusals[i].code || strcmp(d.field, refusals[i].field) != 0)
            fail_msg("case %zu: got %d '%s' (%s), want %d '%s'", i, rc, d.field, d.message,
                     refusals[i].code, refusals[i].field);
        /* The message names the field, so a person knows what to fix. */
        if (!strstr(d.message, refusals[i].field))
            fail_msg("case %zu: message '%s' does not name '%s'", i, d.message, refusals[i].field);
    }
}

static void test_visit_without_card_is_allowed_but_unconfirmed(void **state)
{
    (void)state;
    /* A worker whose reader fails still records the visit; the backend will not pay
     * it. So started/ended accept "no card", the card.* kinds do not. */
    struct cf_event ev;
    sample_event(&ev, CF_EV_VISIT_ENDED);
    no_card(&ev);
    assert_int_equal(cf_event_validate(&ev, NULL), 0);
}

/* ==== Names and chain ==== */

static void test_names_round_trip(void **state)
{
    (void)state;
    for (int kind = CF_EV_VISIT_STARTED; kind <= CF_EV_CARD_BOUND; kind++)
        assert_int_equal(cf_event_kind_from_name(cf_event_kind_name((enum cf_event_kind)kind)),
                         kind);
    assert_int_equal(cf_event_kind_from_name("visit.finished"), CF_EV_NONE);
    assert_null(cf_event_kind_name(CF_EV_NONE));
    enum cf_reason reason;
    assert_int_equal(cf_reason_from_name("worker_ill", &reason), 0);
    assert_int_equal(reason, CF_REASON_WORKER_ILL);
    assert_int_equal(cf_reason_from_name("bored", &reason), CF_EFIELD_RANGE);
    enum cf_actor actor;
    assert_int_equal(cf_actor_from_name("recipient", &actor), 0);
    assert_int_equal(actor, CF_ACTOR_RECIPIENT);
    enum cf_card_method method;
    assert_int_equal(cf_card_method_from_name("uid", &method), 0);
    assert_int_equal(method, CF_CARD_UID);
    assert_int_equal(cf_card_method_from_name("", &method), CF_EFIELD_RANGE);
}

static void test_chain_check(void **state)
{
    (void)state;
    struct cf_event first, second;
    uint8_t zero[32] = {0}, d1[32];
    sample_event(&first, CF_EV_VISIT_STARTED);
    assert_int_equal(cf_event_chain_check(&first, 0, zero), 0);
    assert_int_equal(cf_event_digest(&first, d1), 0);
    sample_event(&second, CF_EV_VISIT_ENDED);
    second.seq = 2;
    memcpy(second.prev_digest, d1, 32);
    assert_int_equal(cf_event_chain_check(&second, 1, d1), 0);
    assert_int_equal(cf_event_chain_check(&second, 2, d1), CF_ECHAIN); /* replayed seq */
    assert_int_equal(cf_event_chain_check(&second, 0, d1), CF_ECHAIN); /* gap */
    second.prev_digest[7] ^= 1;
    assert_int_equal(cf_event_chain_check(&second, 1, d1), CF_ECHAIN); /* forked chain */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoding_matches_documented_layout),
        cmocka_unit_test(test_digest_is_pinned),
        cmocka_unit_test(test_every_field_changes_digest),
        cmocka_unit_test(test_all_sample_kinds_are_valid),
        cmocka_unit_test(test_each_rule_refuses_with_code_and_field),
        cmocka_unit_test(test_visit_without_card_is_allowed_but_unconfirmed),
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_chain_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
