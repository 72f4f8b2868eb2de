/* Unit tests for the event model (cf/event.h): the canonical encoding against a
 * byte layout built independently here, a pinned digest, sensitivity of the digest
 * to every field, per-kind validation (code and field of each refusal), names and
 * the chain check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
    for (int kind = CF_EV_VISIT_STARTED; kind <= CF_EV_APPOINTMENT_CHECKED_IN; kind++) {
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

/* A small event written out byte by byte, as a reader of cf/event.h would: a door
 * attempt with no card, no location, no services. */
static const uint8_t small_attempt_encoding[] = {
    0x01, /* version */
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, /* device_id */
    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, /* */
    0,    0,    0,    0,    0,    0,    0,    5, /* seq 5 */
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, /* prev_digest: 32 x ab */
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, /* */
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, /* */
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, /* */
    0,    0,    0,    0,    0,    0,    0,    5, /* kind: visit.attempt = 5 */
    0,    0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, /* visit_id: none */
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, /* worker_id */
    0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, /* */
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, /* recipient_id */
    0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, /* */
    0,    0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, /* plan_id: none */
    0,    0,    0x01, 0xa2, 0x02, 0x7b, 0xd6, 0x80, /* wall_ms 1795338000000 */
    0,    0,    0,    0,    0,    0x4c, 0x4b, 0x40, /* mono_ms 5000000 */
    0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, /* boot_id */
    0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, /* */
    0,    0,    0,    0,    0,    0,    0,    0, /* card.method: none */
    0,    0,    0,    0, /* card.token "" */
    0,    0,    0,    0, /* card.scheme "" */
    0,    0,    0,    0, /* card.last4 "" */
    0, /* location.present */
    0,    0,    0,    0,    0,    0,    0,    0, /* lat_e7 */
    0,    0,    0,    0,    0,    0,    0,    0, /* lon_e7 */
    0,    0,    0,    0,    0,    0,    0,    0, /* accuracy_m */
    0,    0,    0,    0, /* service count */
    0,    0,    0,    0,    0,    0,    0,    0, /* rating */
    0,    0,    0,    0, /* comment "" */
    0,    0,    0,    0,    0,    0,    0,    1, /* reason: nobody_home = 1 */
    0,    0,    0,    0,    0,    0,    0,    0, /* cancelled_by: none */
};

static void test_small_event_known_answer(void **state)
{
    (void)state;
    struct cf_event ev;
    sample_event(&ev, CF_EV_VISIT_ATTEMPT);
    ev.seq = 5;
    memset(ev.prev_digest, 0xab, sizeof ev.prev_digest);
    uint8_t got[512];
    assert_int_equal(cf_event_encode(&ev, got, sizeof got), (long)sizeof small_attempt_encoding);
    assert_memory_equal(got, small_attempt_encoding, sizeof small_attempt_encoding);

    /* The digest, computed here with OpenSSL from the bytes above. */
    uint8_t msg[sizeof "carefact.event.v1" + sizeof small_attempt_encoding];
    memcpy(msg, "carefact.event.v1", sizeof "carefact.event.v1"); /* with its NUL */
    memcpy(msg + sizeof "carefact.event.v1", small_attempt_encoding, sizeof small_attempt_encoding);
    uint8_t want[32], digest[32];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(msg, sizeof msg, want, &n, EVP_sha256(), NULL), 1);
    assert_int_equal(n, 32);
    assert_int_equal(cf_event_digest(&ev, digest), 0);
    assert_memory_equal(digest, want, 32);
}

static void test_encode_refuses_impossible_service_count(void **state)
{
    (void)state;
    struct cf_event ev;
    uint8_t digest[32];
    sample_event(&ev, CF_EV_VISIT_ENDED);
    ev.service_count = CF_MAX_SERVICES + 1;
    assert_int_equal(cf_event_encode(&ev, NULL, 0), CF_EINVAL);
    assert_int_equal(cf_event_digest(&ev, digest), CF_EINVAL);
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
    for (int kind = CF_EV_VISIT_STARTED; kind <= CF_EV_SURVEY_ANSWERED; kind++) {
        struct cf_event ev;
        struct cf_error_detail d = {0};
        sample_event(&ev, (enum cf_event_kind)kind);
        if (cf_event_validate(&ev, &d))
            fail_msg("%s: %s (%s)", cf_event_kind_name(ev.kind), d.message, d.field);
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
    ev->card.scheme[0] = '\0';
}
static void uid_with_scheme(struct cf_event *ev)
{
    ev->card.method = CF_CARD_UID;
    ev->card.last4[0] = '\0';
}
static void emv_without_scheme(struct cf_event *ev)
{
    ev->card.scheme[0] = '\0';
}
static void emv_without_last4(struct cf_event *ev)
{
    ev->card.last4[0] = '\0';
}
static void bad_method(struct cf_event *ev)
{
    ev->card.method = (enum cf_card_method)3;
}
static void token_without_method(struct cf_event *ev)
{
    ev->card.method = CF_CARD_NONE;
    memcpy(ev->card.token, "AAECAwQFBgcICQoLDA0ODw", CF_TOKEN_TEXT_LEN + 1);
}
static void long_token(struct cf_event *ev)
{
    /* 22 characters whose last one carries bits past the 16th byte. */
    memcpy(ev->card.token, "AAECAwQFBgcICQoLDA0ODx", CF_TOKEN_TEXT_LEN + 1);
}
static void location_values_without_fix(struct cf_event *ev)
{
    ev->location.present = false;
}
static void too_many_services(struct cf_event *ev)
{
    ev->service_count = CF_MAX_SERVICES + 1;
}
static void service_quantity_101(struct cf_event *ev)
{
    ev->services[1].quantity = CF_SERVICE_QUANTITY_MAX + 1;
}
static void service_code_empty(struct cf_event *ev)
{
    ev->services[0].code[0] = '\0';
}
static void wall_2101(struct cf_event *ev)
{
    ev->wall_ms = INT64_C(4133980800000); /* 2101-01-01T00:00:00Z */
}
static void wall_just_before_2000(struct cf_event *ev)
{
    ev->wall_ms = INT64_C(946684799999);
}
static void seq_past_json(struct cf_event *ev)
{
    ev->seq = UINT64_C(1000000000000000); /* 10^15: cJSON could not print it exactly */
}
static void mono_past_json(struct cf_event *ev)
{
    ev->mono_ms = INT64_C(1000000000000000);
}
static void canceller_on_attempt(struct cf_event *ev)
{
    ev->cancelled_by = CF_ACTOR_PROVIDER;
}
static void bad_reason_value(struct cf_event *ev)
{
    ev->reason = (enum cf_reason)9;
}
static void bad_canceller_value(struct cf_event *ev)
{
    ev->cancelled_by = (enum cf_actor)7;
}
static void comment_c1_control(struct cf_event *ev)
{
    memcpy(ev->comment, "a\xc2\x85", 4); /* U+0085 NEXT LINE */
}
static void comment_surrogate(struct cf_event *ev)
{
    memcpy(ev->comment, "\xed\xa0\x80", 4); /* U+D800 */
}
static void comment_past_unicode(struct cf_event *ev)
{
    memcpy(ev->comment, "\xf4\x90\x80\x80", 5); /* U+110000 */
}
static void comment_tab(struct cf_event *ev)
{
    memcpy(ev->comment, "a\tb", 4);
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

static void with_visit(struct cf_event *e)
{
    sample_fill_id(e->visit_id, 0x40); /* a check-in at the desk is not a visit */
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
    {CF_EV_VISIT_STARTED, no_card, CF_EFIELD_MISSING, "card"},
    {CF_EV_VISIT_STARTED, uid_with_last4, CF_EFIELD_RANGE, "card.last4"},
    {CF_EV_VISIT_STARTED, uid_with_scheme, CF_EFIELD_RANGE, "card.scheme"},
    {CF_EV_VISIT_STARTED, emv_without_scheme, CF_EFIELD_RANGE, "card.scheme"},
    {CF_EV_VISIT_STARTED, emv_without_last4, CF_EFIELD_RANGE, "card.last4"},
    {CF_EV_VISIT_STARTED, bad_method, CF_EFIELD_RANGE, "card.method"},
    {CF_EV_VISIT_STARTED, long_token, CF_EFIELD_RANGE, "card.token"},
    {CF_EV_VISIT_STARTED, location_values_without_fix, CF_EFIELD_RANGE, "location"},
    {CF_EV_VISIT_STARTED, wall_2101, CF_EFIELD_RANGE, "wall_ms"},
    {CF_EV_VISIT_STARTED, wall_just_before_2000, CF_EFIELD_RANGE, "wall_ms"},
    {CF_EV_VISIT_STARTED, seq_past_json, CF_EFIELD_RANGE, "seq"},
    {CF_EV_VISIT_STARTED, mono_past_json, CF_EFIELD_RANGE, "mono_ms"},
    {CF_EV_VISIT_STARTED, lat_too_big, CF_EFIELD_RANGE, "location.lat_e7"},
    {CF_EV_VISIT_STARTED, lon_too_small, CF_EFIELD_RANGE, "location.lon_e7"},
    {CF_EV_VISIT_STARTED, accuracy_negative, CF_EFIELD_RANGE, "location.accuracy_m"},
    {CF_EV_VISIT_STARTED, services_on_start, CF_EFIELD_RANGE, "services"},
    {CF_EV_VISIT_ENDED, service_code_bad, CF_EFIELD_RANGE, "services[1].code"},
    {CF_EV_VISIT_ENDED, service_quantity_zero, CF_EFIELD_RANGE, "services[0].quantity"},
    {CF_EV_VISIT_ENDED, service_duplicate, CF_EFIELD_RANGE, "services[1].code"},
    {CF_EV_VISIT_ENDED, reason_on_end, CF_EFIELD_RANGE, "reason"},
    {CF_EV_VISIT_ENDED, no_card, CF_EFIELD_MISSING, "card"},
    {CF_EV_VISIT_ENDED, no_visit, CF_EFIELD_MISSING, "visit_id"},
    {CF_EV_VISIT_ENDED, no_worker, CF_EFIELD_MISSING, "worker_id"},
    {CF_EV_VISIT_ENDED, no_recipient, CF_EFIELD_MISSING, "recipient_id"},
    {CF_EV_VISIT_ENDED, too_many_services, CF_EFIELD_RANGE, "services"},
    {CF_EV_VISIT_ENDED, service_quantity_101, CF_EFIELD_RANGE, "services[1].quantity"},
    {CF_EV_VISIT_ENDED, service_code_empty, CF_EFIELD_RANGE, "services[0].code"},
    {CF_EV_VISIT_ENDED, rating_on_start, CF_EFIELD_RANGE, "rating"},
    {CF_EV_VISIT_RATED, no_visit, CF_EFIELD_MISSING, "visit_id"},
    {CF_EV_VISIT_RATED, services_on_start, CF_EFIELD_RANGE, "services"},
    {CF_EV_VISIT_RATED, comment_c1_control, CF_EFIELD_RANGE, "comment"},
    {CF_EV_VISIT_RATED, comment_surrogate, CF_EFIELD_RANGE, "comment"},
    {CF_EV_VISIT_RATED, comment_past_unicode, CF_EFIELD_RANGE, "comment"},
    {CF_EV_VISIT_RATED, comment_tab, CF_EFIELD_RANGE, "comment"},
    {CF_EV_VISIT_RATED, rating_six, CF_EFIELD_RANGE, "rating"},
    {CF_EV_VISIT_RATED, rating_zero, CF_EFIELD_MISSING, "rating"},
    {CF_EV_VISIT_RATED, comment_control, CF_EFIELD_RANGE, "comment"},
    {CF_EV_VISIT_RATED, comment_bad_utf8, CF_EFIELD_RANGE, "comment"},
    {CF_EV_VISIT_RATED, comment_overlong, CF_EFIELD_RANGE, "comment"},
    {CF_EV_VISIT_CANCELLED, no_reason, CF_EFIELD_MISSING, "reason"},
    {CF_EV_VISIT_CANCELLED, no_canceller, CF_EFIELD_MISSING, "cancelled_by"},
    {CF_EV_VISIT_CANCELLED, no_visit, CF_EFIELD_MISSING, "visit_id"},
    {CF_EV_VISIT_CANCELLED, bad_reason_value, CF_EFIELD_RANGE, "reason"},
    {CF_EV_VISIT_CANCELLED, bad_canceller_value, CF_EFIELD_RANGE, "cancelled_by"},
    {CF_EV_VISIT_ATTEMPT, no_reason, CF_EFIELD_MISSING, "reason"},
    {CF_EV_VISIT_ATTEMPT, no_recipient, CF_EFIELD_MISSING, "recipient_id"},
    {CF_EV_VISIT_ATTEMPT, no_worker, CF_EFIELD_MISSING, "worker_id"},
    {CF_EV_VISIT_ATTEMPT, canceller_on_attempt, CF_EFIELD_RANGE, "cancelled_by"},
    {CF_EV_VISIT_ATTEMPT, token_without_method, CF_EFIELD_RANGE, "card"},
    {CF_EV_CARD_UNRECOGNIZED, short_token, CF_EFIELD_RANGE, "card.token"},
    {CF_EV_CARD_UNRECOGNIZED, no_card, CF_EFIELD_MISSING, "card"},
    {CF_EV_CARD_BOUND, no_card, CF_EFIELD_MISSING, "card"},
    {CF_EV_CARD_BOUND, no_recipient, CF_EFIELD_MISSING, "recipient_id"},
    {CF_EV_APPOINTMENT_CHECKED_IN, no_card, CF_EFIELD_MISSING, "card"},
    {CF_EV_APPOINTMENT_CHECKED_IN, with_visit, CF_EFIELD_RANGE, "visit_id"},
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

/* What the rules must still accept: the edges of each range and the optional parts. */
static void test_edges_are_accepted(void **state)
{
    (void)state;
    struct cf_event ev;
    struct cf_error_detail d = {0};
#define ACCEPT(kind, stmt)                                                                         \
    do {                                                                                           \
        sample_event(&ev, kind);                                                                   \
        stmt;                                                                                      \
        if (cf_event_validate(&ev, &d) != 0)                                                       \
            fail_msg("refused after %s: %s (%s)", #stmt, d.field, d.message);                      \
    } while (0)
    ACCEPT(CF_EV_VISIT_STARTED, ev.wall_ms = INT64_C(946684800000)); /* 2000-01-01 */
    ACCEPT(CF_EV_VISIT_STARTED, ev.wall_ms = INT64_C(4133980799999)); /* end of 2100 */
    ACCEPT(CF_EV_VISIT_STARTED, ev.mono_ms = 0);
    ACCEPT(CF_EV_VISIT_STARTED, ev.seq = UINT64_C(999999999999999));
    ACCEPT(CF_EV_VISIT_STARTED, ev.mono_ms = INT64_C(999999999999999));
    ACCEPT(CF_EV_VISIT_STARTED, uid_with_last4(&ev); ev.card.last4[0] = '\0');
    ACCEPT(CF_EV_VISIT_STARTED, memcpy(ev.card.scheme, "other", 6));
    ACCEPT(CF_EV_VISIT_STARTED, memset(&ev.location, 0, sizeof ev.location));
    ACCEPT(CF_EV_VISIT_STARTED, sample_fill_id(ev.plan_id, 0x60));
    ACCEPT(CF_EV_VISIT_STARTED, (ev.location.lat_e7 = -900000000, ev.location.lon_e7 = 1800000000,
                                 ev.location.accuracy_m = 100000));
    ACCEPT(CF_EV_VISIT_ENDED, ev.service_count = 0);
    ACCEPT(CF_EV_VISIT_ENDED, ev.services[1].quantity = CF_SERVICE_QUANTITY_MAX);
    ACCEPT(CF_EV_VISIT_ENDED, memcpy(ev.services[0].code, "Az09._-", 8));
    ACCEPT(CF_EV_VISIT_ENDED, {
        ev.service_count = CF_MAX_SERVICES;
        for (int i = 0; i < CF_MAX_SERVICES; i++) {
            snprintf(ev.services[i].code, sizeof ev.services[i].code, "%032d", i);
            ev.services[i].quantity = 1;
        }
    });
    ACCEPT(CF_EV_VISIT_RATED, ev.rating = 1);
    ACCEPT(CF_EV_VISIT_RATED,
           memcpy(ev.comment, "Хорошо.\nСпасибо 😀", sizeof "Хорошо.\nСпасибо 😀"));
    ACCEPT(CF_EV_VISIT_RATED, {
        memset(ev.comment, 'x', CF_COMMENT_MAX_CHARS);
        ev.comment[CF_COMMENT_MAX_CHARS] = '\0';
    });
    ACCEPT(CF_EV_VISIT_RATED, memset(ev.recipient_id, 0x30, 16)); /* may name the recipient */
    ACCEPT(CF_EV_CARD_UNRECOGNIZED, sample_fill_id(ev.visit_id, 0x40)); /* read inside a visit */
#undef ACCEPT
}

/* Fill comment with n copies of a character of utf8 (its bytes, NUL-terminated). */
static void repeat(char *comment, size_t size, const char *utf8, size_t n)
{
    size_t len = strlen(utf8);
    assert_true(n * len < size);
    for (size_t i = 0; i < n; i++)
        memcpy(comment + i * len, utf8, len);
    comment[n * len] = '\0';
}

/* The comment's limit is 1000 characters, whatever bytes they take (api/PROTOCOL.md
 * 4.4): 1000 Cyrillic letters (2000 bytes) or emoji (4000 bytes) pass, 1001 do not. */
static void test_comment_limit_is_characters(void **state)
{
    (void)state;
    struct cf_event ev;
    struct cf_error_detail d = {0};
    static const char *const chars[] = {"x", "ж", "€", "😀"};
    for (size_t c = 0; c < 4; c++) {
        sample_event(&ev, CF_EV_VISIT_RATED);
        repeat(ev.comment, sizeof ev.comment, chars[c], CF_COMMENT_MAX_CHARS);
        if (cf_event_validate(&ev, &d) != 0)
            fail_msg("1000 × %s refused: %s", chars[c], d.message);
        uint8_t digest[CF_DIGEST_LEN];
        assert_int_equal(cf_event_digest(&ev, digest), 0);
        repeat(ev.comment, sizeof ev.comment, chars[c], CF_COMMENT_MAX_CHARS + 1 - (c == 3));
        if (c == 3) /* 1001 emoji do not fit the buffer: 1000 and one more letter */
            memcpy(ev.comment + CF_COMMENT_MAX_BYTES - 4, "ab\0", 3);
        memset(&d, 0, sizeof d);
        assert_int_equal(cf_event_validate(&ev, &d), CF_EFIELD_RANGE);
        assert_string_equal(d.field, "comment");
        assert_non_null(strstr(d.message, "at most 1000 characters"));
    }
    assert_int_equal(cf_event_check_comment("", NULL), 0);
    assert_int_equal(cf_event_check_comment("a\tb", NULL), CF_EFIELD_RANGE);
    /* Over the bytes, even if cut inside a character, is too long, not malformed. */
    static char over[CF_COMMENT_MAX_BYTES + 2];
    repeat(over, sizeof over, "ж", CF_COMMENT_MAX_BYTES / 2);
    over[CF_COMMENT_MAX_BYTES] = (char)0xd0;
    over[CF_COMMENT_MAX_BYTES + 1] = '\0';
    assert_int_equal(cf_event_check_comment(over, &d), CF_EFIELD_RANGE);
    assert_non_null(strstr(d.message, "at most 1000 characters"));
}

static void test_unterminated_string_is_a_programmer_error(void **state)
{
    (void)state;
    struct cf_event ev;
    struct cf_error_detail d = {0};
    sample_event(&ev, CF_EV_VISIT_ENDED);
    memset(ev.services[1].code, 'A', sizeof ev.services[1].code);
    assert_int_equal(cf_event_validate(&ev, &d), CF_EINVAL);
    sample_event(&ev, CF_EV_VISIT_RATED);
    memset(ev.comment, 'x', sizeof ev.comment);
    assert_int_equal(cf_event_validate(&ev, &d), CF_EINVAL);
    assert_int_equal(cf_event_validate(NULL, &d), CF_EINVAL);
}

/* ==== Names and chain ==== */

/* The wire names are part of the protocol: pinned one by one, both ways. */
static void test_names_both_ways(void **state)
{
    (void)state;
    static const char *const kinds[] = {
        "visit.started",     "visit.ended",          "visit.rated",    "visit.cancelled",
        "visit.attempt",     "card.unrecognized",    "card.bound",     "appointment.checked_in",
        "application.filed", "home_survey.recorded", "aid.handed_over"};
    for (int kind = CF_EV_VISIT_STARTED; kind <= CF_EV_AID_HANDED_OVER; kind++) {
        assert_string_equal(cf_event_kind_name((enum cf_event_kind)kind), kinds[kind - 1]);
        assert_int_equal(cf_event_kind_from_name(kinds[kind - 1]), kind);
    }
    assert_int_equal(cf_event_kind_from_name("visit.finished"), CF_EV_NONE);
    assert_int_equal(cf_event_kind_from_name("Visit.Started"), CF_EV_NONE);
    assert_int_equal(cf_event_kind_from_name(""), CF_EV_NONE);
    assert_int_equal(cf_event_kind_from_name(NULL), CF_EV_NONE);
    assert_null(cf_event_kind_name(CF_EV_NONE));
    assert_null(cf_event_kind_name((enum cf_event_kind)13));

    static const char *const reasons[] = {"nobody_home", "refused", "in_hospital", "worker_ill",
                                          "other"};
    for (int r = CF_REASON_NOBODY_HOME; r <= CF_REASON_OTHER; r++) {
        enum cf_reason reason = CF_REASON_NONE;
        assert_string_equal(cf_reason_name((enum cf_reason)r), reasons[r - 1]);
        assert_int_equal(cf_reason_from_name(reasons[r - 1], &reason), 0);
        assert_int_equal(reason, r);
    }
    enum cf_reason reason = CF_REASON_NONE;
    assert_int_equal(cf_reason_from_name("bored", &reason), CF_EFIELD_RANGE);
    assert_int_equal(reason, CF_REASON_NONE); /* untouched on error */
    assert_null(cf_reason_name(CF_REASON_NONE));

    static const char *const actors[] = {"worker", "recipient", "provider"};
    for (int a = CF_ACTOR_WORKER; a <= CF_ACTOR_PROVIDER; a++) {
        enum cf_actor actor = CF_ACTOR_NONE;
        assert_string_equal(cf_actor_name((enum cf_actor)a), actors[a - 1]);
        assert_int_equal(cf_actor_from_name(actors[a - 1], &actor), 0);
        assert_int_equal(actor, a);
    }
    enum cf_actor actor;
    assert_int_equal(cf_actor_from_name("manager", &actor), CF_EFIELD_RANGE);
    assert_null(cf_actor_name((enum cf_actor)4));

    enum cf_card_method method;
    assert_string_equal(cf_card_method_name(CF_CARD_EMV), "emv");
    assert_string_equal(cf_card_method_name(CF_CARD_UID), "uid");
    assert_string_equal(cf_card_method_name(CF_CARD_NONE), "");
    assert_null(cf_card_method_name((enum cf_card_method)3));
    assert_int_equal(cf_card_method_from_name("emv", &method), 0);
    assert_int_equal(method, CF_CARD_EMV);
    assert_int_equal(cf_card_method_from_name("uid", &method), 0);
    assert_int_equal(method, CF_CARD_UID);
    assert_int_equal(cf_card_method_from_name("", &method), CF_EFIELD_RANGE);
    assert_int_equal(cf_card_method_from_name("EMV", &method), CF_EFIELD_RANGE);
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
    second.prev_digest[7] ^= 1;
    /* Every byte of prev counts, the first and the last too (mutant chain.prev-digest). */
    for (size_t at = 0; at < 32; at += 31) {
        second.prev_digest[at] ^= 0x80;
        assert_int_equal(cf_event_chain_check(&second, 1, d1), CF_ECHAIN);
        second.prev_digest[at] ^= 0x80;
    }
    assert_int_equal(cf_event_chain_check(&second, 1, d1), 0);
    second.prev_digest[7] ^= 1;
    assert_int_equal(cf_event_chain_check(&first, 0, d1), CF_ECHAIN); /* seq 1 chains to zeros */
    first.seq = 0; /* prev_seq + 1 must not wrap around to 0 */
    assert_int_equal(cf_event_chain_check(&first, UINT64_MAX, zero), CF_ECHAIN);
    assert_int_equal(cf_event_chain_check(NULL, 0, zero), CF_EINVAL);
    assert_int_equal(cf_event_chain_check(&first, 0, NULL), CF_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoding_matches_documented_layout),
        cmocka_unit_test(test_digest_is_pinned),
        cmocka_unit_test(test_small_event_known_answer),
        cmocka_unit_test(test_encode_refuses_impossible_service_count),
        cmocka_unit_test(test_every_field_changes_digest),
        cmocka_unit_test(test_all_sample_kinds_are_valid),
        cmocka_unit_test(test_each_rule_refuses_with_code_and_field),
        cmocka_unit_test(test_edges_are_accepted),
        cmocka_unit_test(test_comment_limit_is_characters),
        cmocka_unit_test(test_unterminated_string_is_a_programmer_error),
        cmocka_unit_test(test_names_both_ways),
        cmocka_unit_test(test_chain_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
