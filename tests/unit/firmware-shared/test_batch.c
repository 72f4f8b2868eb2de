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
#include <openssl/err.h>

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

/* Field by field, so a failure names the field that did not survive. */
static void assert_events_equal(const struct cf_event *a, const struct cf_event *b)
{
    assert_memory_equal(a->device_id, b->device_id, 16);
    assert_int_equal(a->seq, b->seq);
    assert_memory_equal(a->prev_digest, b->prev_digest, 32);
    assert_int_equal(a->kind, b->kind);
    assert_memory_equal(a->visit_id, b->visit_id, 16);
    assert_memory_equal(a->worker_id, b->worker_id, 16);
    assert_memory_equal(a->recipient_id, b->recipient_id, 16);
    assert_memory_equal(a->plan_id, b->plan_id, 16);
    assert_int_equal(a->wall_ms, b->wall_ms);
    assert_int_equal(a->mono_ms, b->mono_ms);
    assert_memory_equal(a->boot_id, b->boot_id, 16);
    assert_int_equal(a->card.method, b->card.method);
    assert_string_equal(a->card.token, b->card.token);
    assert_string_equal(a->card.scheme, b->card.scheme);
    assert_string_equal(a->card.last4, b->card.last4);
    assert_int_equal(a->location.present, b->location.present);
    assert_int_equal(a->location.lat_e7, b->location.lat_e7);
    assert_int_equal(a->location.lon_e7, b->location.lon_e7);
    assert_int_equal(a->location.accuracy_m, b->location.accuracy_m);
    assert_int_equal(a->service_count, b->service_count);
    for (size_t i = 0; i < a->service_count; i++) {
        assert_string_equal(a->services[i].code, b->services[i].code);
        assert_int_equal(a->services[i].quantity, b->services[i].quantity);
    }
    assert_int_equal(a->rating, b->rating);
    assert_string_equal(a->comment, b->comment);
    assert_int_equal(a->reason, b->reason);
    assert_int_equal(a->cancelled_by, b->cancelled_by);
}

static char *edit(const char *json, const char *from, const char *to);
static void expect_refusal(const char *body, int code, const char *field);
static void expect_refusal_len(const char *body, size_t len, int code, const char *field);

static void test_round_trip_and_seal(void **state)
{
    struct fixture *f = *state;
    /* Exercise the optional parts too: a plan id, a uid card on the door attempt. */
    sample_fill_id(f->events[0].plan_id, 0x60);
    f->events[3].card.method = CF_CARD_UID;
    memcpy(f->events[3].card.token, "_-_-AAECAwQFBgcICQoLDA", CF_TOKEN_TEXT_LEN + 1);
    uint8_t prev[32] = {0};
    for (int i = 0; i < 4; i++) {
        memcpy(f->events[i].prev_digest, prev, 32);
        assert_int_equal(cf_event_digest(&f->events[i], prev), 0);
    }
    char *json = build_json(f);
    struct cf_batch batch;
    struct cf_error_detail d = {0};
    assert_int_equal(cf_batch_from_json(json, strlen(json), &batch, &d), 0);
    assert_int_equal(batch.count, 4);
    assert_memory_equal(batch.device_id, f->device_id, 16);
    for (size_t i = 0; i < 4; i++) {
        assert_events_equal(&batch.events[i], &f->events[i]);
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
    batch.device_id[0] ^= 1;
    batch.seal.last_digest[31] ^= 0x80;
    assert_int_equal(cf_seal_verify(f->public_key, &batch), CF_ESEAL);
    batch.seal.last_digest[31] ^= 0x80;
    assert_int_equal(cf_seal_verify(f->public_key, &batch), 0); /* all restored */
    /* A refused seal is expected input: nothing left on OpenSSL's error queue. */
    assert_int_equal(ERR_peek_error(), 0);

    /* Serialising the parsed batch again gives the same text, byte for byte. */
    char *again = cf_batch_to_json(&batch);
    assert_non_null(again);
    assert_string_equal(again, json);
    free(again);
    cf_batch_cleanup(&batch);
    cf_batch_cleanup(&batch); /* twice is harmless */
    cf_batch_cleanup(NULL);
    free(json);
}

/* Digest of an event as lower-case hex. */
static void digest_hex(const struct cf_event *ev, char hex[65])
{
    uint8_t digest[32];
    assert_int_equal(cf_event_digest(ev, digest), 0);
    cf_hex_encode(digest, 32, hex, 65);
}

/* json without the "digest" member of the given event. */
static char *drop_digest(const char *json, const struct cf_event *ev)
{
    char hex[65], member[80];
    digest_hex(ev, hex);
    snprintf(member, sizeof member, ",\"digest\":\"%s\"", hex);
    return edit(json, member, "");
}

/* A changed event is caught whichever way it is smuggled in: its own claimed digest,
 * the next event's prev, the seal's last digest, or at last the signature. */
static void test_changed_event_is_caught(void **state)
{
    struct fixture *f = *state;
    char *json = build_json(f);

    char *changed = edit(json, "\"reason\":\"nobody_home\"", "\"reason\":\"refused\"");
    expect_refusal(changed, CF_EDIGEST, "events[3].digest");

    char *middle = drop_digest(json, &f->events[1]);
    char *middle_changed = edit(middle, "\"quantity\":2", "\"quantity\":3");
    expect_refusal(middle_changed, CF_ECHAIN, "events[2].prev");

    char *last = drop_digest(changed, &f->events[3]);
    expect_refusal(last, CF_ESEAL, "seal.last_digest");

    /* The sender also rewrites seal.last_digest: the body is consistent, but the
     * device never signed it. */
    struct cf_event forged = f->events[3];
    forged.reason = CF_REASON_REFUSED;
    char old_hex[65], new_hex[65];
    digest_hex(&f->events[3], old_hex);
    digest_hex(&forged, new_hex);
    char *resealed = edit(last, old_hex, new_hex);
    struct cf_batch batch;
    struct cf_error_detail d = {0};
    assert_int_equal(cf_batch_from_json(resealed, strlen(resealed), &batch, &d), 0);
    assert_int_equal(batch.events[3].reason, CF_REASON_REFUSED);
    assert_int_equal(cf_seal_verify(f->public_key, &batch), CF_ESEAL);
    cf_batch_cleanup(&batch);

    free(resealed);
    free(last);
    free(middle_changed);
    free(middle);
    free(changed);
    free(json);
}

static void test_build_refuses_unchained_events(void **state)
{
    struct fixture *f = *state;
    struct cf_batch batch;
    /* Every link is checked, the first one too, also when the broken event is the
     * last one, so no later link notices it (mutant batch.prev-chain). */
    for (size_t i = 1; i < 4; i++) {
        f->events[i].prev_digest[0] ^= 1;
        for (size_t count = i + 1; count <= 4; count++)
            assert_int_equal(cf_batch_build(f->device_id, f->events, count, f->private_key, &batch),
                             CF_ECHAIN);
        f->events[i].prev_digest[0] ^= 1;
    }
    assert_int_equal(cf_batch_build(f->device_id, f->events, 4, f->private_key, &batch), 0);
    cf_batch_cleanup(&batch);
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

static void expect_refusal_len(const char *body, size_t len, int code, const char *field)
{
    struct cf_batch batch;
    struct cf_error_detail d = {0};
    int rc = cf_batch_from_json(body, len, &batch, &d);
    if (rc != code || strcmp(d.field, field) != 0)
        fail_msg("got %d %s '%s' (%s), want %d '%s'", rc, cf_error_name(rc), d.field, d.message,
                 code, field);
    assert_true(strlen(d.message) > 10);
    assert_int_equal(d.code, rc);
    assert_int_equal(batch.count, 0);
    assert_null(batch.events);
    assert_null(batch.digests);
}

static void expect_refusal(const char *body, int code, const char *field)
{
    expect_refusal_len(body, strlen(body), code, field);
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
        /* Types. */
        {"\"rating\":5", "\"rating\":\"5\"", CF_EFIELD_TYPE, "events[2].rating"},
        {"\"rating\":5", "\"rating\":5.5", CF_EFIELD_TYPE, "events[2].rating"},
        {"\"rating\":5", "\"rating\":null", CF_EFIELD_TYPE, "events[2].rating"},
        {"\"rating\":5", "\"rating\":true", CF_EFIELD_TYPE, "events[2].rating"},
        {"\"comment\":\"Спасибо, всё сделано\"", "\"comment\":5", CF_EFIELD_TYPE,
         "events[2].comment"},
        {"\"card\":{\"method\":\"emv\",\"token\":\"AAECAwQFBgcICQoLDA0ODw\",\"scheme\":\"mir\","
         "\"last4\":\"5678\"}",
         "\"card\":\"emv\"", CF_EFIELD_TYPE, "events[0].card"},
        {"\"location\":{\"lat_e7\":557558000,\"lon_e7\":376173000,\"accuracy_m\":12}",
         "\"location\":[557558000,376173000]", CF_EFIELD_TYPE, "events[0].location"},
        {"\"services\":[{\"code\":\"HH-01\",\"quantity\":1},{\"code\":\"MED.02\",\"quantity\":2}]",
         "\"services\":{\"HH-01\":1}", CF_EFIELD_TYPE, "events[1].services"},
        {"\"method\":\"emv\"", "\"method\":1", CF_EFIELD_TYPE, "events[0].card.method"},
        {"\"visit_id\":\"40414243-4445-4647-4849-4a4b4c4d4e4f\"", "\"visit_id\":16", CF_EFIELD_TYPE,
         "events[0].visit_id"},
        {"\"services\":[{", "\"services\":[7,{", CF_EFIELD_TYPE, "events[1].services[0]"},
        /* Missing. */
        {"\"kind\":\"visit.started\",", "", CF_EFIELD_MISSING, "events[0].kind"},
        {"\"prev\":\"0000", "\"prex\":\"0000", CF_EFIELD_UNKNOWN, "events[0].prex"},
        {"\"wall_ms\":1795338000000,", "", CF_EFIELD_MISSING, "events[0].wall_ms"},
        {"\"boot_id\":", "\"boot\":", CF_EFIELD_UNKNOWN, "events[0].boot"},
        {"\"method\":\"emv\",", "", CF_EFIELD_MISSING, "events[0].card.method"},
        {"\"rating\":5,", "", CF_EFIELD_MISSING, "events[2].rating"},
        /* Ranges and lengths. */
        {"\"seq\":1,", "\"seq\":9007199254740993,", CF_EFIELD_RANGE, "events[0].seq"},
        {"\"seq\":1,", "\"seq\":-1,", CF_EFIELD_RANGE, "events[0].seq"},
        {"\"wall_ms\":1795338000000", "\"wall_ms\":1e300", CF_EFIELD_RANGE, "events[0].wall_ms"},
        {"\"wall_ms\":1795338000000", "\"wall_ms\":4133980800000", CF_EFIELD_RANGE,
         "events[0].wall_ms"},
        {"\"mono_ms\":5000000", "\"mono_ms\":-5", CF_EFIELD_RANGE, "events[0].mono_ms"},
        {"\"token\":\"AAECAwQFBgcICQoLDA0ODw\"", "\"token\":\"AAECAwQFBgcICQoLDA0OD\"",
         CF_EFIELD_RANGE, "events[0].card.token"},
        {"\"token\":\"AAECAwQFBgcICQoLDA0ODw\"", "\"token\":\"AAECAwQFBgcICQoLDA0ODw=\"",
         CF_EFIELD_RANGE, "events[0].card.token"},
        {"\"scheme\":\"mir\"", "\"scheme\":\"diners\"", CF_EFIELD_RANGE, "events[0].card.scheme"},
        {"\"rating\":5", "\"rating\":0", CF_EFIELD_RANGE, "events[2].rating"},
        {"\"quantity\":2", "\"quantity\":101", CF_EFIELD_RANGE, "events[1].services[1].quantity"},
        {"\"code\":\"MED.02\"", "\"code\":\"HH-01\"", CF_EFIELD_RANGE,
         "events[1].services[1].code"},
        {"\"accuracy_m\":12", "\"accuracy_m\":100001", CF_EFIELD_RANGE,
         "events[0].location.accuracy_m"},
        {"\"prev\":\"0000", "\"prev\":\"00", CF_EFIELD_RANGE, "events[0].prev"},
        {"\"prev\":\"0000", "\"prev\":\"zz00", CF_EFIELD_RANGE, "events[0].prev"},
        {"\"kind\":\"visit.ended\"", "\"kind\":\"visit.ended\\n\"", CF_EKIND, "events[1].kind"},
        /* Unknown or repeated fields anywhere. */
        {"\"device_id\"", "\"devise_id\":1,\"device_id\"", CF_EFIELD_UNKNOWN, "devise_id"},
        {"\"last4\":\"5678\"", "\"last4\":\"5678\",\"pan\":\"1\"", CF_EFIELD_UNKNOWN,
         "events[0].card.pan"},
        {"\"accuracy_m\":12", "\"accuracy_m\":12,\"alt\":1", CF_EFIELD_UNKNOWN,
         "events[0].location.alt"},
        {"\"quantity\":1", "\"quantity\":1,\"minutes\":5", CF_EFIELD_UNKNOWN,
         "events[1].services[0].minutes"},
        {"\"last_seq\"", "\"first_seq\":1,\"last_seq\"", CF_EFIELD_UNKNOWN, "seal.first_seq"},
        {"\"seq\":1,", "\"seq\":1,\"seq\":1,", CF_EFIELD_UNKNOWN, "events[0].seq"},
        {"\"seq\":1,", "\"se\\nq\":1,", CF_EFIELD_UNKNOWN, "events[0].se?q"},
        /* What cJSON alone would let through. */
        {"\"comment\":\"", "\"comment\":\"\\u0000", CF_EJSON, ""},
        {"\"comment\":\"", "\"comment\":\"\t", CF_EJSON, ""},
        {"{\"events\"", "{\x01\"events\"", CF_EJSON, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *body = edit(json, cases[i].from, cases[i].to);
        expect_refusal(body, cases[i].code, cases[i].field);
        free(body);
    }

    /* A gap inside the batch (the claimed digest dropped so the seq check is reached). */
    char *no_digest = drop_digest(json, &f->events[1]);
    char *gap = edit(no_digest, "\"seq\":2,", "\"seq\":3,");
    expect_refusal(gap, CF_ECHAIN, "events[1].seq");
    free(gap);
    free(no_digest);

    /* A changed event keeps its claimed digest: the digest check names it. */
    char *tampered = edit(json, "\"mono_ms\":5060000", "\"mono_ms\":5060001");
    expect_refusal(tampered, CF_EDIGEST, "events[1].digest");
    free(tampered);

    /* Hand-made bodies for what an edit of a good body cannot reach. */
    static const char id[] = "\"device_id\":\"10111213-1415-1617-1819-1a1b1c1d1e1f\"";
    char body[1024];
    snprintf(body, sizeof body, "{%s,\"events\":{},%s}", id, zero_seal());
    expect_refusal(body, CF_EFIELD_TYPE, "events");
    snprintf(body, sizeof body, "{%s,\"events\":[1],%s}", id, zero_seal());
    expect_refusal(body, CF_EFIELD_TYPE, "events[0]");
    snprintf(body, sizeof body, "{%s,\"events\":[{}],\"seal\":[]}", id);
    expect_refusal(body, CF_EFIELD_TYPE, "seal");
    snprintf(body, sizeof body, "{%s,\"events\":[{}]}", id);
    expect_refusal(body, CF_EFIELD_MISSING, "seal");
    snprintf(body, sizeof body, "{%s,%s}", id, zero_seal());
    expect_refusal(body, CF_EFIELD_MISSING, "events");
    snprintf(body, sizeof body, "{%s,\"events\":[{\"seq\":1}],%s}", id, zero_seal());
    expect_refusal(body, CF_EFIELD_MISSING, "events[0].kind");
    expect_refusal("[1,2,3]", CF_EFIELD_TYPE, "");
    expect_refusal("", CF_EJSON, "");
    expect_refusal("{\"device_id\":", CF_EJSON, "");
    expect_refusal("{}\n\r\t ", CF_EFIELD_MISSING, "device_id"); /* trailing whitespace is fine */

    /* A body is len bytes, not a C string: a NUL after it is data after the value. */
    struct cf_batch batch;
    struct cf_error_detail d = {0};
    assert_int_equal(cf_batch_from_json("{}\0", 3, &batch, &d), CF_EJSON);

    /* The brief's example path: a bad token in the fourth event. */
    char *fourth =
        edit(json, "\"reason\":\"nobody_home\"",
             "\"card\":{\"method\":\"uid\",\"token\":\"AAEC\"},\"reason\":\"nobody_home\"");
    expect_refusal(fourth, CF_EFIELD_RANGE, "events[3].card.token");
    free(fourth);

    /* Broken internal chain: the third event does not point at the second. */
    char hex[65];
    digest_hex(&f->events[1], hex);
    char prev_member[80];
    snprintf(prev_member, sizeof prev_member, "\"prev\":\"%s\"", hex);
    char *unclaimed = drop_digest(json, &f->events[2]);
    char *forked =
        edit(unclaimed, prev_member,
             "\"prev\":\"00000000000000000000000000000000000000000000000000000000000000ff\"");
    expect_refusal(forked, CF_ECHAIN, "events[2].prev");
    free(forked);
    free(unclaimed);
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

    /* Deep nesting is refused before cJSON recurses, not a stack overflow. */
    size_t depth = 100000;
    body = malloc(2 * depth + 1);
    assert_non_null(body);
    memset(body, '[', depth);
    body[depth] = '\0';
    struct cf_batch batch;
    struct cf_error_detail d = {0};
    assert_int_equal(cf_batch_from_json(body, depth, &batch, &d), CF_EJSON);
    assert_non_null(strstr(d.message, "nested deeper than 32 levels"));
    /* 32 levels are still JSON (then refused for not being an object); 33 are not. */
    memset(body, '[', 32);
    memset(body + 32, ']', 32);
    expect_refusal_len(body, 64, CF_EFIELD_TYPE, "");
    memset(body, '[', 33);
    memset(body + 33, ']', 33);
    expect_refusal_len(body, 66, CF_EJSON, "");
    free(body);

    /* Many tiny values: refused before cJSON spends ~80 bytes on each. */
    size_t values = CF_BATCH_MAX_JSON_VALUES + 1;
    body = malloc(2 * values + 2);
    assert_non_null(body);
    body[0] = '[';
    for (size_t i = 0; i < values; i++)
        memcpy(body + 1 + 2 * i, i + 1 < values ? "0," : "0]", 2);
    expect_refusal_len(body, 2 * values + 1, CF_ETOOBIG, "");
    free(body);
}

/* The largest batch a device can send (1000 events, each with 32 services of the
 * longest codes, a comment of 1000 four-byte characters, a card and a location) is within every
 * cap. */
static void test_largest_batch_is_accepted(void **state)
{
    struct fixture *f = *state;
    struct cf_event *events = calloc(CF_BATCH_MAX_EVENTS, sizeof *events);
    assert_non_null(events);
    uint8_t prev[32] = {0};
    for (size_t i = 0; i < CF_BATCH_MAX_EVENTS; i++) {
        struct cf_event *ev = &events[i];
        sample_event(ev, CF_EV_VISIT_ENDED);
        ev->seq = 1000000 + i;
        sample_fill_id(ev->plan_id, 0x60);
        ev->service_count = CF_MAX_SERVICES;
        for (int k = 0; k < CF_MAX_SERVICES; k++) {
            snprintf(ev->services[k].code, sizeof ev->services[k].code, "%032d", k);
            ev->services[k].quantity = CF_SERVICE_QUANTITY_MAX;
        }
        for (size_t b = 0; b + 4 <= CF_COMMENT_MAX_BYTES; b += 4)
            memcpy(ev->comment + b, "😀", 4); /* 1000 characters, 4000 bytes */
        ev->location.lat_e7 = -899999999;
        ev->location.lon_e7 = -1799999999;
        ev->location.accuracy_m = 100000;
        memcpy(ev->prev_digest, prev, 32);
        assert_int_equal(cf_event_validate(ev, NULL), 0);
        assert_int_equal(cf_event_digest(ev, prev), 0);
    }
    struct cf_batch built, parsed;
    struct cf_error_detail d = {0};
    assert_int_equal(
        cf_batch_build(f->device_id, events, CF_BATCH_MAX_EVENTS, f->private_key, &built), 0);
    char *json = cf_batch_to_json(&built);
    assert_non_null(json);
    assert_true(strlen(json) < CF_BATCH_MAX_JSON);
    if (cf_batch_from_json(json, strlen(json), &parsed, &d) != 0)
        fail_msg("largest batch refused: %s %s", d.field, d.message);
    assert_int_equal(parsed.count, CF_BATCH_MAX_EVENTS);
    assert_events_equal(&parsed.events[999], &built.events[999]);
    assert_int_equal(cf_seal_verify(f->public_key, &parsed), 0);
    cf_batch_cleanup(&parsed);
    cf_batch_cleanup(&built);
    free(json);
    free(events);
}

/* Regression (fuzz_event_json): seq 9007190925474099 was accepted, then printed by
 * cJSON as 9.0071909254741e+15, a different number. Integers are now capped at
 * 10^15-1, which cJSON prints exactly, and to_json refuses what it cannot print. */
static void test_large_integers_are_exact(void **state)
{
    struct fixture *f = *state;
    struct cf_event events[2];
    uint8_t prev[32] = {0};
    for (int i = 0; i < 2; i++) {
        sample_event(&events[i], CF_EV_VISIT_STARTED);
        events[i].seq = UINT64_C(999999999999998) + (uint64_t)i;
        events[i].mono_ms = INT64_C(999999999999999);
        memcpy(events[i].prev_digest, prev, 32);
        assert_int_equal(cf_event_digest(&events[i], prev), 0);
    }
    struct cf_batch built, parsed;
    struct cf_error_detail d = {0};
    assert_int_equal(cf_batch_build(f->device_id, events, 2, f->private_key, &built), 0);
    char *json = cf_batch_to_json(&built);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"seq\":999999999999999,"));
    assert_non_null(strstr(json, "\"last_seq\":999999999999999,"));
    assert_non_null(strstr(json, "\"mono_ms\":999999999999999,"));
    assert_int_equal(cf_batch_from_json(json, strlen(json), &parsed, &d), 0);
    assert_events_equal(&parsed.events[1], &events[1]);
    assert_int_equal(cf_seal_verify(f->public_key, &parsed), 0);
    cf_batch_cleanup(&parsed);
    free(json);

    /* What cJSON cannot print exactly is not printed at all. */
    events[1].seq = UINT64_C(1000000000000000);
    assert_null(cf_event_to_json(&events[1]));
    built.seal.last_seq = UINT64_C(1000000000000000);
    assert_null(cf_batch_to_json(&built));
    cf_batch_cleanup(&built);

    /* The input the fuzzer found is refused with the reason. */
    static const char found[] =
        "{\"seq\":9.007190925474099e+15,\"kind\":\"visit.started\",\"prev\":\"eeeeeeeeeeeeeeeeeeee"
        "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
        "eee"
        "eeee\"}";
    cJSON *root = cJSON_Parse(found);
    struct cf_event ev;
    assert_non_null(root);
    assert_int_equal(cf_event_from_json(root, f->device_id, "", &ev, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "seq");
    assert_non_null(strstr(d.message, "999999999999999"));
    cJSON_Delete(root);
}

/* An event's comment read from JSON: 1000 characters pass whatever their bytes (2000
 * for Cyrillic), 1001 are refused naming the field with its path. */
static void test_comment_from_json_counts_characters(void **state)
{
    struct fixture *f = *state;
    struct cf_event ev = f->events[2], back;
    struct cf_error_detail d = {0};
    for (int n = CF_COMMENT_MAX_CHARS; n <= CF_COMMENT_MAX_CHARS + 1; n++) {
        for (int i = 0; i < n; i++)
            memcpy(ev.comment + 2 * i, "я", 2);
        ev.comment[2 * n] = '\0';
        cJSON *json = cf_event_to_json(&ev);
        assert_non_null(json);
        memset(&d, 0, sizeof d);
        int rc = cf_event_from_json(json, f->device_id, "events[2]", &back, &d);
        cJSON_Delete(json);
        if (n == CF_COMMENT_MAX_CHARS) {
            if (rc)
                fail_msg("1000 Cyrillic characters refused: %s %s", d.field, d.message);
            assert_int_equal(strlen(back.comment), 2000);
            assert_string_equal(back.comment, ev.comment);
        } else {
            assert_int_equal(rc, CF_EFIELD_RANGE);
            assert_string_equal(d.field, "events[2].comment");
            assert_non_null(strstr(d.message, "at most 1000 characters"));
        }
    }
}

/* Fields that do not apply may also be sent holding their empty value. */
static void test_empty_values_are_accepted(void **state)
{
    struct fixture *f = *state;
    char *json = build_json(f);
    char *body =
        edit(json, "\"seq\":1,",
             "\"seq\":1,\"rating\":0,\"comment\":\"\",\"reason\":\"\",\"cancelled_by\":\"\","
             "\"services\":[],\"plan_id\":\"00000000-0000-0000-0000-000000000000\",");
    struct cf_batch batch;
    struct cf_error_detail d = {0};
    if (cf_batch_from_json(body, strlen(body), &batch, &d) != 0)
        fail_msg("refused: %s %s", d.field, d.message);
    assert_events_equal(&batch.events[0], &f->events[0]); /* and its claimed digest held */
    cf_batch_cleanup(&batch);
    free(body);
    /* But an object that does not apply is not "empty": a location must be a fix. */
    body = edit(json, "\"reason\":\"nobody_home\"", "\"location\":{},\"reason\":\"nobody_home\"");
    expect_refusal(body, CF_EFIELD_MISSING, "events[3].location.lat_e7");
    free(body);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_and_seal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_refuses_unchained_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test(test_caps),
        cmocka_unit_test_setup_teardown(test_changed_event_is_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(test_largest_batch_is_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_values_are_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comment_from_json_counts_characters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_integers_are_exact, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
