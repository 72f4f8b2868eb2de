/* Unit tests for batches (cf/batch.h): build -> JSON -> parse round trip, the
 * Ed25519 seal and what breaks it, and every refusal of a bad batch body with its
 * code and field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cf/batch.h"
#include "cf/codec.h"
#include "sample_events.h"

struct fixture {
    uint8_t private_key[32], public_key[32];
    uint8_t device_id[16];
    struct cf_event events[4];
};

/* Four chained events: started, ended, rated, then a door attempt. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    static const enum cf_event_kind kinds[4] = {CF_EV_VISIT_STARTED, CF_EV_VISIT_ENDED,
                                                CF_EV_VISIT_RATED, CF_EV_VISIT_ATTEMPT};
    if (!f || cf_ed25519_generate(f->private_key, f->public_key))
        return -1;
    sample_fill_id(f->device_id, 0x10);
    uint8_t prev[32] = {0};
    for (int i = 0; i < 4; i++) {
        sample_event(&f->events[i], kinds[i]);
        f->events[i].seq = (uint64_t)i + 1;
        f->events[i].mono_ms += i * 60000;
        memcpy(f->events[i].prev_digest, prev, 32);
        if (cf_event_digest(&f->events[i], prev))
            return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static char *build_json(struct fixture *f)
{
    struct cf_batch batch;
    assert_int_equal(cf_batch_build(f->device_id, f->events, 4, f->private_key, &batch), 0);
    char *json = cf_batch_to_json(&batch);
    assert_non_null(json);
    cf_batch_cleanup(&batch);
    return json;
}

static void test_round_trip_and_seal(void **state)
{
    struct fixture *f = *state;
    char *json = build_json(f);
    struct cf_batch batch;
    struct cf_error_detail d = {0};
    assert_int_equal(cf_batch_from_json(json, strlen(json), &batch, &d), 0);
    assert_int_equal(batch.count, 4);
    assert_memory_equal(batch.device_id, f->device_id, 16);
    for (size_t i = 0; i < 4; i++) {
        assert_memory_equal(&batch.events[i], &f->events[i], sizeof f->events[i]);
        uint8_t digest[32];
        assert_int_equal(cf_event_digest(&f->events[i], digest), 0);
        assert_memory_equal(batch.digests[i], digest, 32);
    }
    assert_int_equal(batch.seal.last_seq, 4);
    assert_int_equal(cf_seal_verify(f->public_key, &batch), 0);

    /* What breaks the seal. */
    uint8_t other_private[32], other_public[32];
    assert_int_equal(cf_ed25519_generate(other_private, other_public), 0);
    assert_int_equal(cf_seal_verify(other_public, &batch), CF_ESEAL);
    batch.seal.signature[10] ^= 0x01;
    assert_int_equal(cf_seal_verify(f->public_key, &batch), CF_ESEAL);
    batch.seal.signature[10] ^= 0x01;
    batch.seal.last_seq = 5;
    assert_int_equal(cf_seal_verify(f->public_key, &batch), CF_ESEAL);
    batch.seal.last_seq = 4;
    batch.device_id[0] ^= 1;
    assert_int_equal(cf_seal_verify(f->public_key, &batch), CF_ESEAL);
    cf_batch_cleanup(&batch);
    free(json);
}

static void test_build_refuses_unchained_events(void **state)
{
    struct fixture *f = *state;
    struct cf_batch batch;
    f->events[2].prev_digest[0] ^= 1;
    assert_int_equal(cf_batch_build(f->device_id, f->events, 4, f->private_key, &batch), CF_ECHAIN);
    f->events[2].prev_digest[0] ^= 1;
    assert_int_equal(cf_batch_build(f->device_id, f->events, 0, f->private_key, &batch), CF_EINVAL);
}

/* Replace the first occurrence of from with to in json (both NUL-terminated). */
static char *edit(const char *json, const char *from, const char *to)
{
    const char *at = strstr(json, from);
    assert_non_null(at);
    size_t head = (size_t)(at - json), len = strlen(json) - strlen(from) + strlen(to);
    char *out = malloc(len + 1);
    assert_non_null(out);
    snprintf(out, len + 1, "%.*s%s%s", (int)head, json, to, at + strlen(from));
    return out;
}

/* A syntactically valid seal object (zero digest, zero signature) for hand-made bodies. */
static const char *zero_seal(void)
{
    static char seal[256];
    char sig[87];
    memset(sig, 'A', 86);
    sig[86] = '\0';
    snprintf(seal, sizeof seal,
             "\"seal\":{\"last_seq\":1,\"last_digest\":\"%064d\",\"signature\":\"%s\"}", 0, sig);
    return seal;
}

static void expect_refusal(const char *body, int code, const char *field)
{
    struct cf_batch batch;
    struct cf_error_detail d = {0};
    int rc = cf_batch_from_json(body, strlen(body), &batch, &d);
    if (rc != code || strcmp(d.field, field) != 0)
        fail_msg("got %d %s '%s' (%s), want %d '%s'", rc, cf_error_name(rc), d.field, d.message,
                 code, field);
    assert_true(strlen(d.message) > 10);
    assert_int_equal(batch.count, 0);
    assert_null(batch.events);
}

static void test_refusals(void **state)
{
    struct fixture *f = *state;
    char *json = build_json(f);
    static const struct {
        const char *from, *to;
        int code;
        const char *field;
    } cases[] = {
        {"{\"events\"", "{\"events\"}", CF_EJSON, ""},
        {"\"seq\":1,", "\"seq\":\"1\",", CF_EFIELD_TYPE, "events[0].seq"},
        {"\"seq\":1,", "\"seq\":1.5,", CF_EFIELD_TYPE, "events[0].seq"},
        {"\"seq\":1,", "", CF_EFIELD_MISSING, "events[0].seq"},
        {"\"kind\":\"visit.ended\"", "\"kind\":\"visit.done\"", CF_EKIND, "events[1].kind"},
        {"\"rating\":5", "\"rating\":7", CF_EFIELD_RANGE, "events[2].rating"},
        {"\"rating\":5", "\"rating\":5,\"mood\":1", CF_EFIELD_UNKNOWN, "events[2].mood"},
        {"\"rating\":5", "\"rating\":5,\"rating\":4", CF_EFIELD_UNKNOWN, "events[2].rating"},
        {"\"method\":\"emv\"", "\"method\":\"pin\"", CF_EFIELD_RANGE, "events[0].card.method"},
        {"\"last4\":\"5678\"", "\"last4\":\"56789\"", CF_EFIELD_RANGE, "events[0].card.last4"},
        {"\"code\":\"HH-01\"", "\"code\":\"HH 01\"", CF_EFIELD_RANGE, "events[1].services[0].code"},
        {"\"lat_e7\":557558000", "\"lat_e7\":957558000", CF_EFIELD_RANGE,
         "events[0].location.lat_e7"},
        {"\"device_id\":\"10", "\"device_id\":\"zz", CF_EFIELD_RANGE, "device_id"},
        {"\"signature\":\"", "\"signature\":\"AA", CF_EFIELD_RANGE, "seal.signature"},
        {"\"last_seq\":4", "\"last_seq\":3", CF_ESEAL, "seal.last_seq"},
        {"\"reason\":\"nobody_home\"", "\"reason\":\"sleeping\"", CF_EFIELD_RANGE,
         "events[3].reason"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *body = edit(json, cases[i].from, cases[i].to);
        expect_refusal(body, cases[i].code, cases[i].field);
        free(body);
    }

    /* A gap inside the batch (the claimed digest dropped so the seq check is reached). */
    uint8_t digest[32];
    char claimed[80], hex[65];
    assert_int_equal(cf_event_digest(&f->events[1], digest), 0);
    cf_hex_encode(digest, 32, hex, sizeof hex);
    snprintf(claimed, sizeof claimed, ",\"digest\":\"%s\"", hex);
    char *no_digest = edit(json, claimed, "");
    char *gap = edit(no_digest, "\"seq\":2,", "\"seq\":3,");
    expect_refusal(gap, CF_ECHAIN, "events[1].seq");
    free(gap);
    free(no_digest);

    /* A changed event keeps its claimed digest: the digest check names it. */
    char *tampered = edit(json, "\"mono_ms\":5060000", "\"mono_ms\":5060001");
    expect_refusal(tampered, CF_EDIGEST, "events[1].digest");
    free(tampered);

    expect_refusal("[1,2,3]", CF_EFIELD_TYPE, "");
    char empty[512];
    snprintf(empty, sizeof empty,
             "{\"device_id\":\"10111213-1415-1617-1819-1a1b1c1d1e1f\",\"events\":[],%s}",
             zero_seal());
    expect_refusal(empty, CF_EFIELD_RANGE, "events");
    expect_refusal("{} trailing", CF_EJSON, "");
    free(json);
}

static void test_caps(void **state)
{
    (void)state;
    /* Over the byte cap: refused before parsing. */
    size_t big = CF_BATCH_MAX_JSON + 1;
    char *body = malloc(big + 1);
    assert_non_null(body);
    memset(body, ' ', big);
    body[big] = '\0';
    expect_refusal(body, CF_ETOOBIG, "");
    free(body);

    /* Over the event cap. */
    size_t n = CF_BATCH_MAX_EVENTS + 1, size = 64 + n * 3;
    body = malloc(size);
    assert_non_null(body);
    size_t o = (size_t)snprintf(body, size, "{\"events\":[");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(body + o, size - o, "%s{}", i ? "," : "");
    snprintf(body + o, size - o, "]}");
    expect_refusal(body, CF_EFIELD_MISSING, "device_id");
    char head[512];
    snprintf(head, sizeof head,
             "{\"device_id\":\"10111213-1415-1617-1819-1a1b1c1d1e1f\",%s,\"events\"", zero_seal());
    char *with_id = edit(body, "{\"events\"", head);
    expect_refusal(with_id, CF_EFIELD_RANGE, "events");
    free(with_id);
    free(body);

    /* Deep nesting is refused, not a stack overflow. */
    size_t depth = 100000;
    body = malloc(depth + 1);
    assert_non_null(body);
    memset(body, '[', depth);
    body[depth] = '\0';
    expect_refusal(body, CF_EJSON, "");
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_and_seal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_refuses_unchained_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test(test_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
