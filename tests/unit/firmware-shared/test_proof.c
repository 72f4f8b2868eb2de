/* Unit tests for the card proof inside an event (cf/event.h, api/PROTOCOL.md 4.5 and 5):
 * the challenge against an independent SHA-256, the version 2 encoding against a layout
 * built here, version 1 unchanged for events without a proof, the JSON round trip of
 * every kind and the refusals of bad proofs (code and field). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "cf/batch.h"
#include "cf/codec.h"
#include "cf/event.h"
#include "sample_events.h"

/* test_event.c pins the same event's digest: a proof-less event is version 1. */
#define PINNED_ENDED_DIGEST "75f3673e973642270f0a8136a8eeb6dccc3bcec123b5f7c494448452614816f2"

static const enum cf_proof_kind all_kinds[] = {CF_PROOF_NONE, CF_PROOF_SDA, CF_PROOF_DDA,
                                               CF_PROOF_FDDA, CF_PROOF_CDA};
#define KIND_COUNT (sizeof all_kinds / sizeof all_kinds[0])

static struct cf_event *proof_event(enum cf_event_kind kind, enum cf_proof_kind proof)
{
    struct cf_event *ev = malloc(sizeof *ev);
    assert_non_null(ev);
    sample_event(ev, kind);
    sample_proof(&ev->card.proof, proof);
    return ev;
}

/* Equal proofs: same kind, same bytes in every field (what lies past a length is not
 * part of the value). */
static void assert_proof_equal(const struct cf_card_proof *a, const struct cf_card_proof *b)
{
    assert_int_equal(a->kind, b->kind);
    for (size_t i = 0; i < CF_PROOF_FIELDS; i++) {
        const uint8_t *da, *db;
        size_t la, lb, cap;
        const char *name = cf_card_proof_field(a, i, &da, &la, &cap);
        cf_card_proof_field(b, i, &db, &lb, &cap);
        if (la != lb || memcmp(da, db, la) != 0)
            fail_msg("proof field %s differs", name);
    }
}

/* ==== Challenge ==== */

static void test_challenge_known_answer(void **state)
{
    (void)state;
    uint8_t device[16], visit[16], prev[32], got[4], input[128], want[SHA256_DIGEST_LENGTH];
    sample_fill_id(device, 0x10);
    sample_fill_id(visit, 0x40);
    for (int i = 0; i < 32; i++)
        prev[i] = (uint8_t)(0xa0 + i);
    size_t n = 0;
    memcpy(input, "carefact.card-challenge.v1", 27); /* with its NUL */
    n += 27;
    memcpy(input + n, device, 16);
    n += 16;
    static const uint8_t seq_be[8] = {0, 0, 0, 0, 0, 0, 0x01, 0x2c}; /* 300 */
    memcpy(input + n, seq_be, 8);
    n += 8;
    memcpy(input + n, prev, 32);
    n += 32;
    memcpy(input + n, visit, 16);
    n += 16;
    SHA256(input, n, want);
    assert_int_equal(cf_card_challenge(device, 300, prev, visit, got), 0);
    assert_memory_equal(got, want, 4);

    /* Every input moves it. */
    uint8_t other[4];
    assert_int_equal(cf_card_challenge(device, 301, prev, visit, other), 0);
    assert_memory_not_equal(got, other, 4);
    prev[31] ^= 1;
    assert_int_equal(cf_card_challenge(device, 300, prev, visit, other), 0);
    assert_memory_not_equal(got, other, 4);
    prev[31] ^= 1;
    visit[0] ^= 1;
    assert_int_equal(cf_card_challenge(device, 300, prev, visit, other), 0);
    assert_memory_not_equal(got, other, 4);
    visit[0] ^= 1;
    device[15] ^= 1;
    assert_int_equal(cf_card_challenge(device, 300, prev, visit, other), 0);
    assert_memory_not_equal(got, other, 4);
    assert_int_equal(cf_card_challenge(NULL, 300, prev, visit, other), CF_EINVAL);
}

/* ==== Encoding ==== */

static void test_no_proof_is_version_1(void **state)
{
    (void)state;
    struct cf_event *ev = proof_event(CF_EV_VISIT_ENDED, CF_PROOF_ABSENT);
    uint8_t buf[8192], digest[32];
    char hex[65];
    long len = cf_event_encode(ev, buf, sizeof buf);
    assert_true(len > 0);
    assert_int_equal(buf[0], 1);
    assert_int_equal(cf_event_digest(ev, digest), 0);
    assert_int_equal(cf_hex_encode(digest, 32, hex, sizeof hex), 0);
    assert_string_equal(hex, PINNED_ENDED_DIGEST);
    free(ev);
}

static void put_len(uint8_t *out, size_t *n, size_t len)
{
    out[(*n)++] = (uint8_t)(len >> 24);
    out[(*n)++] = (uint8_t)(len >> 16);
    out[(*n)++] = (uint8_t)(len >> 8);
    out[(*n)++] = (uint8_t)len;
}

/* Version 2 = version 1's bytes with 02 in front, then the kind and the 15 fields. */
static void test_version_2_layout(void **state)
{
    (void)state;
    for (size_t k = 0; k < KIND_COUNT; k++) {
        struct cf_event *ev = proof_event(CF_EV_VISIT_STARTED, all_kinds[k]);
        struct cf_event *plain = proof_event(CF_EV_VISIT_STARTED, CF_PROOF_ABSENT);
        static uint8_t v1[8192], v2[32768], want[32768];
        long l1 = cf_event_encode(plain, v1, sizeof v1);
        long l2 = cf_event_encode(ev, v2, sizeof v2);
        assert_true(l1 > 0 && l2 > l1);
        size_t n = 0;
        memcpy(want, v1, (size_t)l1);
        want[0] = 2;
        n = (size_t)l1;
        memset(want + n, 0, 7);
        want[n + 7] = (uint8_t)all_kinds[k];
        n += 8;
        const struct cf_card_proof *p = &ev->card.proof;
        const struct cf_proof_bytes *fields[] = {&p->aid,         &p->aip,        &p->ca_index,
                                                 &p->issuer_cert, &p->issuer_exp, &p->issuer_rem,
                                                 &p->icc_cert,    &p->icc_exp,    &p->icc_rem};
        for (size_t i = 0; i < 9; i++) {
            put_len(want, &n, fields[i]->len);
            memcpy(want + n, fields[i]->data, fields[i]->len);
            n += fields[i]->len;
        }
        put_len(want, &n, p->static_data.len);
        memcpy(want + n, p->static_data.data, p->static_data.len);
        n += p->static_data.len;
        const struct cf_proof_bytes *rest[] = {&p->ssad, &p->sdad, &p->ddol, &p->terminal_data,
                                               &p->tx_data};
        for (size_t i = 0; i < 5; i++) {
            put_len(want, &n, rest[i]->len);
            memcpy(want + n, rest[i]->data, rest[i]->len);
            n += rest[i]->len;
        }
        assert_int_equal((size_t)l2, n);
        assert_memory_equal(v2, want, n);

        /* The digest: SHA-256 over "carefact.event.v2" NUL and these bytes. */
        static uint8_t msg[32768 + 32];
        uint8_t d_want[32], d_got[32];
        memcpy(msg, "carefact.event.v2", 18);
        memcpy(msg + 18, want, n);
        SHA256(msg, n + 18, d_want);
        assert_int_equal(cf_event_digest(ev, d_got), 0);
        assert_memory_equal(d_got, d_want, 32);
        assert_int_equal(cf_event_validate(ev, NULL), 0);
        free(ev);
        free(plain);
    }
}

static void test_every_proof_field_changes_digest(void **state)
{
    (void)state;
    struct cf_event *ev = proof_event(CF_EV_VISIT_STARTED, CF_PROOF_CDA);
    uint8_t base[32], d[32];
    assert_int_equal(cf_event_digest(ev, base), 0);
    for (size_t i = 0; i < CF_PROOF_FIELDS; i++) {
        uint8_t *data;
        size_t *len, cap;
        assert_non_null(cf_card_proof_field_mut(&ev->card.proof, i, &data, &len, &cap));
        size_t saved = *len;
        *len = saved + 1; /* one byte more (a zero, or the pattern's next) */
        assert_int_equal(cf_event_digest(ev, d), 0);
        assert_memory_not_equal(base, d, 32);
        *len = saved;
    }
    ev->card.proof.kind = CF_PROOF_DDA;
    assert_int_equal(cf_event_digest(ev, d), 0);
    assert_memory_not_equal(base, d, 32);
    /* Bytes moved from one field to the next change the encoding (length prefixes). */
    ev->card.proof.kind = CF_PROOF_CDA;
    ev->card.proof.icc_rem.len = 1;
    ev->card.proof.icc_rem.data[0] = ev->card.proof.icc_exp.data[0];
    ev->card.proof.icc_exp.len = 0;
    assert_int_equal(cf_event_digest(ev, d), 0);
    assert_memory_not_equal(base, d, 32);
    free(ev);
}

static void test_largest_proof_encodes(void **state)
{
    (void)state;
    struct cf_event *ev = proof_event(CF_EV_VISIT_STARTED, CF_PROOF_CDA);
    struct cf_card_proof *p = &ev->card.proof;
    for (size_t i = 2; i < CF_PROOF_FIELDS; i++) {
        uint8_t *data;
        size_t *len, cap;
        cf_card_proof_field_mut(p, i, &data, &len, &cap);
        if (*len) {
            memset(data, 0xee, cap);
            *len = cap;
        }
    }
    p->ca_index.len = 1;
    p->issuer_exp.len = 3;
    p->icc_exp.len = 3;
    uint8_t d[32];
    assert_int_equal(cf_event_validate(ev, NULL), 0);
    assert_int_equal(cf_event_digest(ev, d), 0);
    cJSON *json = cf_event_to_json(ev);
    assert_non_null(json);
    struct cf_event *back = malloc(sizeof *back);
    struct cf_error_detail det = {0};
    assert_non_null(back);
    int rc = cf_event_from_json(json, ev->device_id, "", back, &det);
    if (rc)
        fail_msg("%s: %s", det.field, det.message);
    assert_proof_equal(&back->card.proof, p);
    /* One byte past a field's capacity: encode refuses it (no read past the array). */
    p->static_data.len = CF_PROOF_STATIC_MAX + 1;
    assert_int_equal(cf_event_encode(ev, NULL, 0), CF_EINVAL);
    assert_int_equal(cf_event_digest(ev, d), CF_EINVAL);
    cJSON_Delete(json);
    free(back);
    free(ev);
}

/* ==== JSON ==== */

static void test_json_round_trip(void **state)
{
    (void)state;
    enum cf_event_kind kinds[] = {CF_EV_VISIT_STARTED, CF_EV_VISIT_ENDED, CF_EV_CARD_BOUND};
    for (size_t e = 0; e < 3; e++)
        for (size_t k = 0; k < KIND_COUNT; k++) {
            struct cf_event *ev = proof_event(kinds[e], all_kinds[k]);
            struct cf_event *back = malloc(sizeof *back);
            struct cf_error_detail d = {0};
            uint8_t d1[32], d2[32];
            assert_non_null(back);
            cJSON *json = cf_event_to_json(ev);
            assert_non_null(json);
            char *text = cJSON_PrintUnformatted(json);
            cJSON *again = cJSON_Parse(text);
            int rc = cf_event_from_json(again, ev->device_id, "events[0]", back, &d);
            if (rc)
                fail_msg("%s: %s", d.field, d.message);
            assert_proof_equal(&back->card.proof, &ev->card.proof);
            assert_string_equal(back->card.token, ev->card.token);
            assert_int_equal(cf_event_digest(ev, d1), 0);
            assert_int_equal(cf_event_digest(back, d2), 0);
            assert_memory_equal(d1, d2, 32);
            const cJSON *proof =
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(json, "card"), "proof");
            assert_non_null(proof);
            if (all_kinds[k] == CF_PROOF_NONE)
                assert_int_equal(cJSON_GetArraySize(proof), 3); /* kind, aid, aip */
            free(text);
            cJSON_Delete(json);
            cJSON_Delete(again);
            free(back);
            free(ev);
        }
}

static void test_json_upper_case_hex_and_empty_strings(void **state)
{
    (void)state;
    struct cf_event *ev = proof_event(CF_EV_VISIT_STARTED, CF_PROOF_DDA);
    struct cf_event *back = malloc(sizeof *back);
    struct cf_error_detail d = {0};
    assert_non_null(back);
    cJSON *json = cf_event_to_json(ev);
    cJSON *proof = cJSON_GetObjectItem(cJSON_GetObjectItem(json, "card"), "proof");
    cJSON_ReplaceItemInObject(proof, "aid", cJSON_CreateString("A0000006581010"));
    cJSON_AddStringToObject(proof, "tx_data", "");
    cJSON_DeleteItemFromObject(proof, "issuer_rem");
    cJSON_AddStringToObject(proof, "issuer_rem", "");
    cJSON_DeleteItemFromObject(json, "digest");
    ev->card.proof.issuer_rem.len = 0;
    int rc = cf_event_from_json(json, ev->device_id, "", back, &d);
    if (rc)
        fail_msg("%s: %s", d.field, d.message);
    assert_proof_equal(&back->card.proof, &ev->card.proof);
    cJSON_Delete(json);
    free(back);
    free(ev);
}

struct refusal {
    const char *what; /* proof member to change */
    const char *value; /* NULL: remove it; "#n": a number */
    int code;
    const char *field;
};

static void test_json_refusals(void **state)
{
    (void)state;
    static const struct refusal cases[] = {
        {"kind", "rsa", CF_EFIELD_RANGE, "events[2].card.proof.kind"},
        {"kind", NULL, CF_EFIELD_MISSING, "events[2].card.proof.kind"},
        {"kind", "#3", CF_EFIELD_TYPE, "events[2].card.proof.kind"},
        {"sdad", "abc", CF_EFIELD_RANGE, "events[2].card.proof.sdad"},
        {"sdad", "zz", CF_EFIELD_RANGE, "events[2].card.proof.sdad"},
        {"sdad", "#1", CF_EFIELD_TYPE, "events[2].card.proof.sdad"},
        {"sdad", NULL, CF_EFIELD_MISSING, "events[2].card.proof.sdad"},
        {"ddol", NULL, CF_EFIELD_MISSING, "events[2].card.proof.ddol"},
        {"terminal_data", NULL, CF_EFIELD_MISSING, "events[2].card.proof.terminal_data"},
        {"icc_cert", NULL, CF_EFIELD_MISSING, "events[2].card.proof.icc_cert"},
        {"ssad", "00", CF_EFIELD_RANGE, "events[2].card.proof.ssad"},
        {"tx_data", "00", CF_EFIELD_RANGE, "events[2].card.proof.tx_data"},
        {"aid", "a000", CF_EFIELD_RANGE, "events[2].card.proof.aid"},
        {"aip", "200000", CF_EFIELD_RANGE, "events[2].card.proof.aip"},
        {"ca_index", "9292", CF_EFIELD_RANGE, "events[2].card.proof.ca_index"},
        {"issuer_exp", "01000100", CF_EFIELD_RANGE, "events[2].card.proof.issuer_exp"},
        {"signature", "00", CF_EFIELD_UNKNOWN, "events[2].card.proof.signature"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct refusal *c = &cases[i];
        struct cf_event *ev = proof_event(CF_EV_VISIT_STARTED, CF_PROOF_DDA);
        struct cf_event *back = malloc(sizeof *back);
        struct cf_error_detail d = {0};
        assert_non_null(back);
        cJSON *json = cf_event_to_json(ev);
        cJSON *proof = cJSON_GetObjectItem(cJSON_GetObjectItem(json, "card"), "proof");
        cJSON_DeleteItemFromObject(proof, c->what);
        if (c->value && c->value[0] == '#') { /* "#N": the number N */
            char *end = NULL;
            long n = strtol(c->value + 1, &end, 10);
            assert_true(end != c->value + 1 && *end == '\0');
            cJSON_AddNumberToObject(proof, c->what, (double)n);
        } else if (c->value)
            cJSON_AddStringToObject(proof, c->what, c->value);
        int rc = cf_event_from_json(json, ev->device_id, "events[2]", back, &d);
        if (rc != c->code || strcmp(d.field, c->field) != 0)
            fail_msg("case %zu (%s): got %d %s (%s), want %d %s", i, c->what, rc, d.field,
                     d.message, c->code, c->field);
        cJSON_Delete(json);
        free(back);
        free(ev);
    }
    /* A long field: over 1024 bytes (2048 hex digits). */
    struct cf_event *ev = proof_event(CF_EV_VISIT_STARTED, CF_PROOF_DDA);
    struct cf_event *back = malloc(sizeof *back);
    struct cf_error_detail d = {0};
    char *big = malloc(2 * 1025 + 1);
    assert_non_null(big);
    assert_non_null(back);
    memset(big, 'a', 2 * 1025);
    big[2 * 1025] = '\0';
    cJSON *json = cf_event_to_json(ev);
    cJSON *proof = cJSON_GetObjectItem(cJSON_GetObjectItem(json, "card"), "proof");
    cJSON_ReplaceItemInObject(proof, "sdad", cJSON_CreateString(big));
    assert_int_equal(cf_event_from_json(json, ev->device_id, "", back, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "card.proof.sdad");
    /* A proof that is not an object. */
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(json, "card"), "proof", cJSON_CreateString("x"));
    assert_int_not_equal(cf_event_from_json(json, ev->device_id, "", back, &d), 0);
    assert_string_equal(d.field, "card.proof");
    cJSON_Delete(json);
    free(big);
    free(back);
    free(ev);
}

/* ==== Validation ==== */

static void test_validation(void **state)
{
    (void)state;
    struct cf_error_detail d = {0};
    struct cf_event *ev = proof_event(CF_EV_VISIT_STARTED, CF_PROOF_SDA);
    assert_int_equal(cf_event_validate(ev, &d), 0);
    /* A uid card cannot carry a proof. */
    ev->card.method = CF_CARD_UID;
    ev->card.scheme[0] = ev->card.last4[0] = '\0';
    assert_int_equal(cf_event_validate(ev, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "card.proof");
    /* Proof values without a kind. */
    sample_event(ev, CF_EV_VISIT_STARTED);
    ev->card.proof.sdad.len = 4;
    assert_int_equal(cf_event_validate(ev, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "card.proof");
    /* An unknown kind number. */
    sample_proof(&ev->card.proof, CF_PROOF_DDA);
    ev->card.proof.kind = (enum cf_proof_kind)9;
    assert_int_equal(cf_event_validate(ev, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "card.proof.kind");
    /* No card at all, but a proof. */
    sample_event(ev, CF_EV_VISIT_RATED);
    ev->card.proof.kind = CF_PROOF_NONE;
    assert_int_equal(cf_event_validate(ev, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "card");
    /* none: kind, aid and aip only. */
    sample_event(ev, CF_EV_CARD_BOUND);
    sample_proof(&ev->card.proof, CF_PROOF_NONE);
    assert_int_equal(cf_event_validate(ev, &d), 0);
    ev->card.proof.ca_index.len = 1;
    assert_int_equal(cf_event_validate(ev, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "card.proof.ca_index");
    ev->card.proof.ca_index.len = 0;
    ev->card.proof.aip.len = 0;
    assert_int_equal(cf_event_validate(ev, &d), CF_EFIELD_MISSING);
    assert_string_equal(d.field, "card.proof.aip");
    /* fdda: terminal_data required, ddol forbidden. */
    sample_proof(&ev->card.proof, CF_PROOF_FDDA);
    assert_int_equal(cf_event_validate(ev, &d), 0);
    ev->card.proof.ddol.len = 3;
    assert_int_equal(cf_event_validate(ev, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "card.proof.ddol");
    /* cda: tx_data required. */
    sample_proof(&ev->card.proof, CF_PROOF_CDA);
    ev->card.proof.tx_data.len = 0;
    assert_int_equal(cf_event_validate(ev, &d), CF_EFIELD_MISSING);
    assert_string_equal(d.field, "card.proof.tx_data");
    free(ev);
}

static void test_names(void **state)
{
    (void)state;
    static const char *const names[] = {"none", "sda", "dda", "fdda", "cda"};
    for (size_t k = 0; k < KIND_COUNT; k++) {
        enum cf_proof_kind back = CF_PROOF_ABSENT;
        assert_string_equal(cf_proof_kind_name(all_kinds[k]), names[k]);
        assert_int_equal(cf_proof_kind_from_name(names[k], &back), 0);
        assert_int_equal(back, all_kinds[k]);
        assert_int_equal((int)all_kinds[k], (int)k + 1); /* the encoding's numbers */
    }
    enum cf_proof_kind out;
    assert_null(cf_proof_kind_name(CF_PROOF_ABSENT));
    assert_int_equal(cf_proof_kind_from_name("", &out), CF_EFIELD_RANGE);
    assert_int_equal(cf_proof_kind_from_name("DDA", &out), CF_EFIELD_RANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_challenge_known_answer),
        cmocka_unit_test(test_no_proof_is_version_1),
        cmocka_unit_test(test_version_2_layout),
        cmocka_unit_test(test_every_proof_field_changes_digest),
        cmocka_unit_test(test_largest_proof_encodes),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_upper_case_hex_and_empty_strings),
        cmocka_unit_test(test_json_refusals),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
