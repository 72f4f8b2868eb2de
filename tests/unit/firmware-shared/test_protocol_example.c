/* The worked example of api/PROTOCOL.md, checked against the project's own code.
 *
 * The example's bytes live in the document, in fenced blocks named after the
 * opening fence ("```hex event-1-canonical"). This test reads api/PROTOCOL.md (found
 * through CF_SOURCE_DIR, which ctest sets), builds the same events, batch and
 * requests from the fixed inputs below with firmware-shared, and checks that the
 * encoder, the digest, the seal, the batch JSON and the request signatures give
 * exactly the document's bytes -- and, the other way round, that the document's bytes
 * alone (SHA-256 and Ed25519 over them, parsing the documented body) give the
 * documented digests and signatures. So the document cannot drift from the code.
 *
 * Run with --print, the binary writes the blocks to stdout in the document's form:
 * that is how the example was made (by this code, not by hand). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "cf/batch.h"
#include "cf/codec.h"
#include "cf/token.h"
#include "cf/uuid.h"

/* ==== The example's inputs ==== */

#define EX_DEVICE "01939f2a-6b10-7c4e-9a01-000000000d01"
#define EX_WORKER "01939f2a-6b10-7c4e-9a01-000000000a01"
#define EX_RECIPIENT "01939f2a-6b10-7c4e-9a01-000000000b01"
#define EX_VISIT "01939f2a-6b10-7c4e-9a01-000000000c01"
#define EX_PLAN "01939f2a-6b10-7c4e-9a01-000000000f01"
#define EX_BOOT "01939f2a-6b10-7c4e-9a01-000000000e01"
#define EX_TOKEN_KEY_HEX "00112233445566778899aabbccddeeff"
#define EX_PAN "2202200000000004"
#define EX_COMMENT "Спасибо!"
#define EX_REQUEST_TIME INT64_C(1790003200000)
#define EX_EVENT_COUNT 3

static const char *const events_path = "/api/v1/devices/" EX_DEVICE "/events";
static const char *const reference_path = "/api/v1/devices/" EX_DEVICE "/reference";

/* The device key: the Ed25519 private key (RFC 8032 seed) 00 01 02 ... 1f. */
static void example_seed(uint8_t seed[CF_ED25519_KEY_LEN])
{
    for (int i = 0; i < CF_ED25519_KEY_LEN; i++)
        seed[i] = (uint8_t)i;
}

static void uuid(const char *text, uint8_t out[CF_UUID_LEN])
{
    assert_int_equal(cf_uuid_from_text(text, out), 0);
}

static void example_token(char token[CF_TOKEN_TEXT_LEN + 1])
{
    uint8_t key[16];
    size_t n = 0;
    assert_int_equal(cf_hex_decode(EX_TOKEN_KEY_HEX, 32, key, sizeof key, &n), 0);
    assert_int_equal(cf_token_from_pan(key, n, EX_PAN, token), 0);
}

/* visit.started (planned, with a position), visit.ended (two services, no position),
 * visit.rated (rating and a Cyrillic comment): seq 1..3, chained from the genesis. */
static void example_events(struct cf_event ev[EX_EVENT_COUNT])
{
    char token[CF_TOKEN_TEXT_LEN + 1];
    example_token(token);
    memset(ev, 0, EX_EVENT_COUNT * sizeof *ev);
    for (int i = 0; i < EX_EVENT_COUNT; i++) {
        uuid(EX_DEVICE, ev[i].device_id);
        ev[i].seq = (uint64_t)i + 1;
        uuid(EX_VISIT, ev[i].visit_id);
        uuid(EX_WORKER, ev[i].worker_id);
        uuid(EX_BOOT, ev[i].boot_id);
    }
    ev[0].kind = CF_EV_VISIT_STARTED;
    uuid(EX_RECIPIENT, ev[0].recipient_id);
    uuid(EX_PLAN, ev[0].plan_id);
    ev[0].wall_ms = INT64_C(1790000000000);
    ev[0].mono_ms = 3600000;
    ev[0].card.method = CF_CARD_EMV;
    memcpy(ev[0].card.token, token, sizeof token);
    memcpy(ev[0].card.scheme, "mir", 4);
    memcpy(ev[0].card.last4, "0004", 5);
    ev[0].location = (struct cf_location){true, 557558000, 376173000, 12};

    ev[1].kind = CF_EV_VISIT_ENDED;
    uuid(EX_RECIPIENT, ev[1].recipient_id);
    uuid(EX_PLAN, ev[1].plan_id);
    ev[1].wall_ms = INT64_C(1790003120000);
    ev[1].mono_ms = 6720000;
    ev[1].card = ev[0].card;
    ev[1].service_count = 2;
    memcpy(ev[1].services[0].code, "HH-01", 6);
    ev[1].services[0].quantity = 1;
    memcpy(ev[1].services[1].code, "MED.02", 7);
    ev[1].services[1].quantity = 2;

    ev[2].kind = CF_EV_VISIT_RATED;
    ev[2].wall_ms = INT64_C(1790003180000);
    ev[2].mono_ms = 6780000;
    ev[2].rating = 5;
    memcpy(ev[2].comment, EX_COMMENT, sizeof EX_COMMENT);

    for (int i = 1; i < EX_EVENT_COUNT; i++)
        assert_int_equal(cf_event_digest(&ev[i - 1], ev[i].prev_digest), 0);
    for (int i = 0; i < EX_EVENT_COUNT; i++)
        assert_int_equal(cf_event_validate(&ev[i], NULL), 0);
}

/* Section 13.8: event 1 again, now with a DDA proof, so it encodes as version 2. The
 * proof's certificate and signature bytes are short placeholders of the right kind
 * (the example shows the encoding; real ones are 64..248 bytes and verify). The DDOL is
 * the default 9F37 04, so the terminal data is the challenge itself. */
static void example_proof_event(struct cf_event *out, uint8_t challenge[CF_CHALLENGE_LEN])
{
    struct cf_event ev[EX_EVENT_COUNT];
    example_events(ev);
    *out = ev[0];
    assert_int_equal(
        cf_card_challenge(out->device_id, out->seq, out->prev_digest, out->visit_id, challenge), 0);
    static const struct {
        const char *name, *hex;
    } fields[] = {
        {"aid", "a0000006581010"},
        {"aip", "3800"},
        {"ca_index", "f1"},
        {"issuer_cert", "6a02220220ffff12290000010101b0bc"},
        {"issuer_exp", "03"},
        {"issuer_rem", "c0ffee"},
        {"icc_cert", "6a04220220000000000004ffff1229bc"},
        {"icc_exp", "03"},
        {"icc_rem", ""},
        {"static_data", "5f24032912319f0702ff003800"},
        {"ssad", ""},
        {"sdad", "6a0501049a3c5e77000000000000bc"},
        {"ddol", "9f3704"},
        {"terminal_data", ""},
        {"tx_data", ""},
    };
    struct cf_card_proof *p = &out->card.proof;
    p->kind = CF_PROOF_DDA;
    for (size_t i = 0; i < CF_PROOF_FIELDS; i++) {
        uint8_t *data;
        size_t *len, cap;
        assert_string_equal(cf_card_proof_field_mut(p, i, &data, &len, &cap), fields[i].name);
        assert_int_equal(cf_hex_decode(fields[i].hex, strlen(fields[i].hex), data, cap, len), 0);
    }
    memcpy(p->terminal_data.data, challenge, CF_CHALLENGE_LEN);
    p->terminal_data.len = CF_CHALLENGE_LEN;
    assert_int_equal(cf_event_validate(out, NULL), 0);
}

/* 13.9: an act (version 3): application.filed as seq 4, after the three events of 13.3,
 * with a body of one of every kind of value. */
#define EX_ACT_BODY                                                                                                \
    "{\"applicant_address\":\"д. Заречье, ул. Лесная, 3\",\"applicant_birth\":\"1941-03-08\","     \
    "\"applicant_name\":\"Петрова Анна Ивановна\",\"category\":\"elderly\",\"code_sha256\":"    \
    "\"4c2a1a8f0e6c5b3a2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c\",\"complete\":true,"                      \
    "\"consent\":true,\"consent_version\":\"2026-01\",\"note\":\"Нужна коляска\\nи поручни\"," \
    "\"purpose\":\"rehab_aid\",\"settlement\":\"Заречье\"}"

static void example_act_event(struct cf_event *out)
{
    struct cf_event ev[EX_EVENT_COUNT];
    example_events(ev);
    memset(out, 0, sizeof *out);
    memcpy(out->device_id, ev[2].device_id, CF_UUID_LEN);
    out->seq = 4;
    assert_int_equal(cf_event_digest(&ev[2], out->prev_digest), 0);
    out->kind = CF_EV_APPLICATION_FILED;
    memcpy(out->worker_id, ev[2].worker_id, CF_UUID_LEN);
    memcpy(out->boot_id, ev[2].boot_id, CF_UUID_LEN);
    out->wall_ms = ev[2].wall_ms + 3600000;
    out->mono_ms = ev[2].mono_ms + 3600000;
    snprintf(out->body, sizeof out->body, "%s", EX_ACT_BODY);
    assert_int_equal(cf_event_validate(out, NULL), 0);
}

/* "carefact.card-challenge.v1" NUL || device id || seq (8) || prev || visit id. */
static size_t challenge_input(const struct cf_event *ev, uint8_t out[128])
{
    static const char domain[] = "carefact.card-challenge.v1";
    size_t o = sizeof domain;
    memcpy(out, domain, sizeof domain);
    memcpy(out + o, ev->device_id, CF_UUID_LEN);
    o += CF_UUID_LEN;
    for (int i = 7; i >= 0; i--)
        out[o++] = (uint8_t)(ev->seq >> (8 * i));
    memcpy(out + o, ev->prev_digest, CF_DIGEST_LEN);
    o += CF_DIGEST_LEN;
    memcpy(out + o, ev->visit_id, CF_UUID_LEN);
    return o + CF_UUID_LEN;
}

static void example_public_key(uint8_t public_key[CF_ED25519_KEY_LEN])
{
    uint8_t seed[CF_ED25519_KEY_LEN];
    size_t len = CF_ED25519_KEY_LEN;
    example_seed(seed);
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof seed);
    assert_non_null(key);
    assert_int_equal(EVP_PKEY_get_raw_public_key(key, public_key, &len), 1);
    EVP_PKEY_free(key);
}

/* Ed25519 by the example key over any bytes: deterministic, so equal signatures
 * mean equal messages. */
static void raw_sign(const uint8_t *message, size_t len, uint8_t sig[CF_ED25519_SIG_LEN])
{
    uint8_t seed[CF_ED25519_KEY_LEN];
    size_t sig_len = CF_ED25519_SIG_LEN;
    example_seed(seed);
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof seed);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_non_null(key);
    assert_non_null(md);
    assert_int_equal(EVP_DigestSignInit(md, NULL, NULL, NULL, key), 1);
    assert_int_equal(EVP_DigestSign(md, sig, &sig_len, message, len), 1);
    assert_int_equal(sig_len, CF_ED25519_SIG_LEN);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
}

static char *example_batch_json(struct cf_batch *batch)
{
    struct cf_event ev[EX_EVENT_COUNT];
    uint8_t seed[CF_ED25519_KEY_LEN], device[CF_UUID_LEN];
    example_events(ev);
    example_seed(seed);
    uuid(EX_DEVICE, device);
    assert_int_equal(cf_batch_build(device, ev, EX_EVENT_COUNT, seed, batch), 0);
    char *json = cf_batch_to_json(batch);
    assert_non_null(json);
    return json;
}

/* "carefact.seal.v1" NUL || device id || last seq (8, big-endian) || last digest. */
static size_t seal_message(const uint8_t device[CF_UUID_LEN], uint64_t last_seq,
                           const uint8_t digest[CF_DIGEST_LEN], uint8_t out[128])
{
    static const char domain[] = "carefact.seal.v1";
    size_t o = sizeof domain;
    memcpy(out, domain, sizeof domain);
    memcpy(out + o, device, CF_UUID_LEN);
    o += CF_UUID_LEN;
    for (int i = 7; i >= 0; i--)
        out[o++] = (uint8_t)(last_seq >> (8 * i));
    memcpy(out + o, digest, CF_DIGEST_LEN);
    return o + CF_DIGEST_LEN;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    uint8_t d[SHA256_DIGEST_LENGTH];
    SHA256(len ? data : (const void *)"", len, d);
    assert_int_equal(cf_hex_encode(d, sizeof d, out, 65), 0);
}

/* ==== Reading api/PROTOCOL.md ==== */

static char *doc_text;

static char *read_doc(void)
{
    const char *dir = getenv("CF_SOURCE_DIR");
    char path[4096];
    if (!dir || !dir[0]) {
        fprintf(stderr, "CF_SOURCE_DIR is not set: run this test through ctest\n");
        return NULL;
    }
    snprintf(path, sizeof path, "%s/api/PROTOCOL.md", dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    char *text = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size > 0 && size < (16L << 20) && fseek(f, 0, SEEK_SET) == 0 &&
            (text = malloc((size_t)size + 1)) != NULL) {
            if (fread(text, 1, (size_t)size, f) == (size_t)size) {
                text[size] = '\0';
            } else {
                free(text);
                text = NULL;
            }
        }
    }
    fclose(f);
    return text;
}

/* The body of the fenced block opened by "```<kind> <name>" on a line of its own,
 * without the fences and without the last newline (caller frees). Fails the test when
 * the block is missing or given twice. */
static char *doc_block(const char *kind, const char *name)
{
    char fence[128];
    snprintf(fence, sizeof fence, "\n```%s %s\n", kind, name);
    const char *start = strstr(doc_text, fence);
    if (!start)
        fail_msg("api/PROTOCOL.md has no block ```%s %s", kind, name);
    if (strstr(start + 1, fence))
        fail_msg("api/PROTOCOL.md has the block ```%s %s twice", kind, name);
    start += strlen(fence);
    const char *end = strstr(start - 1, "\n```");
    assert_non_null(end);
    size_t len = end >= start ? (size_t)(end - start) : 0;
    char *out = malloc(len + 1);
    assert_non_null(out);
    memcpy(out, start, len);
    out[len] = '\0';
    return out;
}

/* A hex block: on each line the text before '#' is hex digits and spaces. Returns
 * the byte count; the bytes go to out. */
static size_t doc_hex(const char *name, uint8_t *out, size_t out_size)
{
    char *block = doc_block("hex", name);
    size_t n = 0;
    int high = -1;
    bool comment = false;
    for (const char *c = block; *c; c++) {
        if (*c == '\n') {
            comment = false;
            continue;
        }
        if (comment || *c == ' ')
            continue;
        if (*c == '#') {
            comment = true;
            continue;
        }
        int v = cf_hex_digit(*c);
        if (v < 0 || (*c >= 'A' && *c <= 'F'))
            fail_msg("block %s: '%c' is not a lower-case hex digit", name, *c);
        if (high < 0) {
            high = v;
            continue;
        }
        if (n == out_size)
            fail_msg("block %s holds more than %zu bytes", name, out_size);
        out[n++] = (uint8_t)(high << 4 | v);
        high = -1;
    }
    if (high >= 0)
        fail_msg("block %s has an odd number of hex digits", name);
    free(block);
    return n;
}

static void assert_doc_hex(const char *name, const uint8_t *expected, size_t len)
{
    uint8_t got[4096];
    size_t n = doc_hex(name, got, sizeof got);
    if (n != len || memcmp(got, expected, len) != 0) {
        for (size_t i = 0; i < len && i < n; i++)
            if (got[i] != expected[i])
                fail_msg("block %s differs from the code at byte %zu: document %02x, code %02x",
                         name, i, got[i], expected[i]);
        fail_msg("block %s holds %zu bytes, the code makes %zu", name, n, len);
    }
}

static void assert_doc_text(const char *kind, const char *name, const char *expected)
{
    char *block = doc_block(kind, name);
    if (strcmp(block, expected) != 0)
        fail_msg("block %s %s differs from the code:\ndocument: %s\ncode:     %s", kind, name,
                 block, expected);
    free(block);
}

/* ==== Checks ==== */

static void test_key_and_token(void **state)
{
    (void)state;
    uint8_t seed[CF_ED25519_KEY_LEN], pub[CF_ED25519_KEY_LEN];
    char pub_text[64], token[CF_TOKEN_TEXT_LEN + 1];
    example_seed(seed);
    example_public_key(pub);
    assert_doc_hex("device-private-key", seed, sizeof seed);
    assert_doc_hex("device-public-key", pub, sizeof pub);
    assert_int_equal(cf_base64url_encode(pub, sizeof pub, pub_text, sizeof pub_text), 0);
    assert_doc_text("text", "device-public-key-base64url", pub_text);
    example_token(token);
    assert_doc_text("text", "card-token", token);
}

static void check_event_named(const struct cf_event *ev, const char *number, const char *domain)
{
    char name[48];
    uint8_t bytes[4096], digest[CF_DIGEST_LEN], doc[4096], doc_digest[CF_DIGEST_LEN];
    long len = cf_event_encode(ev, bytes, sizeof bytes);
    assert_true(len > 0);
    snprintf(name, sizeof name, "event-%s-canonical", number);
    assert_doc_hex(name, bytes, (size_t)len);
    assert_int_equal(cf_event_digest(ev, digest), 0);
    snprintf(name, sizeof name, "event-%s-digest", number);
    assert_doc_hex(name, digest, sizeof digest);

    /* From the document's bytes alone: SHA-256 over the domain and the encoding. */
    snprintf(name, sizeof name, "event-%s-canonical", number);
    size_t n = doc_hex(name, doc, sizeof doc);
    snprintf(name, sizeof name, "event-%s-digest", number);
    assert_int_equal(doc_hex(name, doc_digest, sizeof doc_digest), CF_DIGEST_LEN);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int out_len = 0;
    assert_non_null(md);
    assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(md, domain, strlen(domain) + 1), 1);
    assert_int_equal(EVP_DigestUpdate(md, doc, n), 1);
    assert_int_equal(EVP_DigestFinal_ex(md, digest, &out_len), 1);
    EVP_MD_CTX_free(md);
    assert_memory_equal(digest, doc_digest, CF_DIGEST_LEN);
}

static void check_event(const struct cf_event *ev, int number)
{
    char n[16];
    snprintf(n, sizeof n, "%d", number);
    check_event_named(ev, n, "carefact.event.v1");
}

static void test_events(void **state)
{
    (void)state;
    struct cf_event ev[EX_EVENT_COUNT];
    uint8_t domain[] = "carefact.event.v1";
    example_events(ev);
    assert_doc_hex("digest-domain", domain, sizeof domain);
    for (int i = 0; i < EX_EVENT_COUNT; i++)
        check_event(&ev[i], i + 1);
    /* The chain, as the document states it: each prev is the digest before it. */
    uint8_t d[CF_DIGEST_LEN];
    assert_int_equal(doc_hex("event-1-digest", d, sizeof d), CF_DIGEST_LEN);
    assert_memory_equal(ev[1].prev_digest, d, CF_DIGEST_LEN);
    assert_int_equal(doc_hex("event-2-digest", d, sizeof d), CF_DIGEST_LEN);
    assert_memory_equal(ev[2].prev_digest, d, CF_DIGEST_LEN);
}

/* 13.8: the challenge and an event with a proof (version 2), from the code and from
 * the document's bytes alone; the document's JSON parses to the same digest. */
static void test_proof_event(void **state)
{
    (void)state;
    struct cf_event *ev = malloc(sizeof *ev), *back = malloc(sizeof *back);
    uint8_t challenge[CF_CHALLENGE_LEN], input[128], doc_in[128], hash[SHA256_DIGEST_LENGTH];
    uint8_t domain[] = "carefact.event.v2", digest[CF_DIGEST_LEN];
    struct cf_error_detail d = {0};
    assert_non_null(ev);
    assert_non_null(back);
    example_proof_event(ev, challenge);
    assert_doc_hex("challenge-input", input, challenge_input(ev, input));
    assert_doc_hex("challenge", challenge, sizeof challenge);
    size_t n = doc_hex("challenge-input", doc_in, sizeof doc_in);
    SHA256(doc_in, n, hash);
    assert_memory_equal(hash, challenge, CF_CHALLENGE_LEN);
    assert_doc_hex("digest-domain-v2", domain, sizeof domain);
    check_event_named(ev, "v2", "carefact.event.v2");
    cJSON *json = cf_event_to_json(ev);
    char *text = cJSON_PrintUnformatted(json);
    assert_doc_text("json", "event-v2-json", text);
    char *doc = doc_block("json", "event-v2-json");
    cJSON *parsed = cJSON_Parse(doc);
    int rc = cf_event_from_json(parsed, ev->device_id, "", back, &d);
    if (rc)
        fail_msg("the document's event is refused: %s (%s)", d.message, d.field);
    assert_int_equal(cf_event_digest(back, digest), 0);
    assert_int_equal(doc_hex("event-v2-digest", hash, sizeof hash), CF_DIGEST_LEN);
    assert_memory_equal(digest, hash, CF_DIGEST_LEN);
    cJSON_Delete(parsed);
    cJSON_Delete(json);
    free(doc);
    free(text);
    free(back);
    free(ev);
}

/* 13.9: an act (version 3) from the code and from the document's bytes alone; the
 * document's JSON, written with its body's members in another order and with spaces,
 * parses to the same canonical body and digest. */
static void test_act_event(void **state)
{
    (void)state;
    struct cf_event *ev = malloc(sizeof *ev), *back = malloc(sizeof *back);
    uint8_t domain[] = "carefact.event.v3", digest[CF_DIGEST_LEN], doc_digest[CF_DIGEST_LEN];
    struct cf_error_detail d = {0};
    assert_non_null(ev);
    assert_non_null(back);
    example_act_event(ev);
    assert_doc_hex("digest-domain-v3", domain, sizeof domain);
    check_event_named(ev, "v3", "carefact.event.v3");
    assert_doc_text("json", "event-v3-body", ev->body);
    cJSON *json = cf_event_to_json(ev);
    char *text = cJSON_PrintUnformatted(json);
    assert_doc_text("json", "event-v3-json", text);
    char *doc = doc_block("json", "event-v3-json-as-sent");
    cJSON *parsed = cJSON_Parse(doc);
    assert_non_null(parsed);
    int rc = cf_event_from_json(parsed, ev->device_id, "", back, &d);
    if (rc)
        fail_msg("the document's act is refused: %s (%s)", d.message, d.field);
    assert_string_equal(back->body, ev->body);
    assert_int_equal(cf_event_digest(back, digest), 0);
    assert_int_equal(doc_hex("event-v3-digest", doc_digest, sizeof doc_digest), CF_DIGEST_LEN);
    assert_memory_equal(digest, doc_digest, CF_DIGEST_LEN);
    cJSON_Delete(parsed);
    cJSON_Delete(json);
    free(doc);
    free(text);
    free(back);
    free(ev);
}

static void test_seal(void **state)
{
    (void)state;
    struct cf_batch batch;
    uint8_t message[128], doc_msg[128], sig[CF_ED25519_SIG_LEN], pub[CF_ED25519_KEY_LEN];
    char *json = example_batch_json(&batch);
    size_t len =
        seal_message(batch.device_id, batch.seal.last_seq, batch.seal.last_digest, message);
    assert_doc_hex("seal-message", message, len);
    assert_doc_hex("seal-signature", batch.seal.signature, CF_ED25519_SIG_LEN);
    /* The document's message signed with the key gives the document's signature. */
    size_t n = doc_hex("seal-message", doc_msg, sizeof doc_msg);
    raw_sign(doc_msg, n, sig);
    assert_memory_equal(sig, batch.seal.signature, CF_ED25519_SIG_LEN);
    example_public_key(pub);
    assert_int_equal(cf_seal_verify(pub, &batch), 0);
    free(json);
    cf_batch_cleanup(&batch);
}

static void test_batch_body(void **state)
{
    (void)state;
    struct cf_batch built, parsed;
    struct cf_error_detail d = {0};
    char *json = example_batch_json(&built);
    assert_doc_text("json", "batch-body", json);
    /* The document's body, parsed as the server parses it, is the same batch. */
    char *doc = doc_block("json", "batch-body");
    int rc = cf_batch_from_json(doc, strlen(doc), &parsed, &d);
    if (rc)
        fail_msg("the document's batch body is refused: %s (%s)", d.message, d.field);
    assert_int_equal(parsed.count, EX_EVENT_COUNT);
    for (size_t i = 0; i < EX_EVENT_COUNT; i++) {
        assert_memory_equal(parsed.digests[i], built.digests[i], CF_DIGEST_LEN);
        assert_int_equal(cf_event_encode(&parsed.events[i], NULL, 0),
                         cf_event_encode(&built.events[i], NULL, 0));
    }
    assert_memory_equal(parsed.seal.signature, built.seal.signature, CF_ED25519_SIG_LEN);
    cf_batch_cleanup(&parsed);
    cf_batch_cleanup(&built);
    free(doc);
    free(json);
}

/* The signature string the document spells out, signed by the key, must give the
 * signature cf_request_sign makes for the same request. */
static void check_request(const char *name, const char *method, const char *path, const char *body)
{
    uint8_t seed[CF_ED25519_KEY_LEN], sig[CF_ED25519_SIG_LEN], pub[CF_ED25519_KEY_LEN];
    char field[64], b64[CF_REQUEST_SIG_TEXT_LEN + 1], body_hash[65], expected[2048];
    char sig_hex[2 * CF_ED25519_SIG_LEN + 1];
    size_t body_len = strlen(body);
    example_seed(seed);
    assert_int_equal(
        cf_request_sign(seed, EX_DEVICE, method, path, body, body_len, EX_REQUEST_TIME, b64), 0);
    sha256_hex(body, body_len, body_hash);
    snprintf(expected, sizeof expected, "carefact-request-v1\n%s\n%s\n%s\n%lld\n%s", method, path,
             body_hash, (long long)EX_REQUEST_TIME, EX_DEVICE);
    snprintf(field, sizeof field, "%s-string", name);
    assert_doc_text("text", field, expected);
    char *doc = doc_block("text", field);
    raw_sign((const uint8_t *)doc, strlen(doc), sig);
    free(doc);
    assert_int_equal(cf_hex_encode(sig, sizeof sig, sig_hex, sizeof sig_hex), 0);
    snprintf(field, sizeof field, "%s-signature", name);
    assert_doc_hex(field, sig, sizeof sig);
    snprintf(field, sizeof field, "%s-signature-header", name);
    char *header = doc_block("text", field);
    char want[160];
    snprintf(want, sizeof want, "X-Carefact-Signature: %s", b64);
    if (strstr(header, want) == NULL)
        fail_msg("block text %s does not hold '%s'", field, want);
    free(header);
    uint8_t decoded[CF_ED25519_SIG_LEN];
    size_t n = 0;
    assert_int_equal(cf_base64url_decode(b64, strlen(b64), decoded, sizeof decoded, &n), 0);
    assert_memory_equal(decoded, sig, sizeof sig);
    example_public_key(pub);
    assert_int_equal(
        cf_request_verify(pub, EX_DEVICE, method, path, body, body_len, EX_REQUEST_TIME, b64), 0);
}

static void test_requests(void **state)
{
    (void)state;
    struct cf_batch batch;
    char *json = example_batch_json(&batch);
    check_request("request-upload", "POST", events_path, json);
    check_request("request-reference", "GET", reference_path, "");
    free(json);
    cf_batch_cleanup(&batch);
}

/* ==== --print: the blocks as the document holds them ==== */

static void print_hex_line(const uint8_t *bytes, size_t len, const char *comment)
{
    char hex[2 * 64 + 1];
    size_t done = 0;
    do {
        size_t n = len - done > 32 ? 32 : len - done;
        cf_hex_encode(bytes + done, n, hex, sizeof hex);
        if (done == 0 && comment)
            printf("%-64s  # %s\n", hex, comment);
        else
            printf("%s\n", hex);
        done += n;
    } while (done < len);
}

static void print_u64(uint64_t v, const char *comment)
{
    uint8_t b[8];
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
    print_hex_line(b, 8, comment);
}

static void print_u32(uint32_t v, const char *comment)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    print_hex_line(b, 4, comment);
}

static void print_str(const char *s, const char *what)
{
    char comment[160];
    size_t len = strlen(s);
    snprintf(comment, sizeof comment, "%s: length %zu", what, len);
    print_u32((uint32_t)len, comment);
    if (len) {
        snprintf(comment, sizeof comment, "%s: \"%s\" (UTF-8)", what, s);
        print_hex_line((const uint8_t *)s, len, comment);
    }
}

static void print_id(const uint8_t id[CF_UUID_LEN], const char *what)
{
    char text[CF_UUID_TEXT_LEN + 1], comment[96];
    cf_uuid_to_text(id, text);
    snprintf(comment, sizeof comment, "%s %s", what,
             cf_uuid_is_nil(id) ? "(nil: not given)" : text);
    print_hex_line(id, CF_UUID_LEN, comment);
}

/* Annotated, field by field, in the order of cf_event_encode (the test above checks
 * the result byte for byte against the encoder). */
static void print_proof(const struct cf_card_proof *p)
{
    char c[160];
    snprintf(c, sizeof c, "proof.kind %d = %s", (int)p->kind,
             p->kind ? cf_proof_kind_name(p->kind) : "absent");
    print_u64((uint64_t)p->kind, c);
    for (size_t i = 0; i < CF_PROOF_FIELDS; i++) {
        const uint8_t *data;
        size_t len, cap;
        const char *name = cf_card_proof_field(p, i, &data, &len, &cap);
        snprintf(c, sizeof c, "proof.%s: length %zu", name, len);
        print_u32((uint32_t)len, c);
        if (len) {
            snprintf(c, sizeof c, "proof.%s", name);
            print_hex_line(data, len, c);
        }
    }
}

static void print_event_named(const struct cf_event *ev, const char *number)
{
    char c[160];
    const uint8_t version = ev->body[0] ? 3 : ev->card.proof.kind ? 2 : 1;
    const uint8_t present = ev->location.present;
    printf("```hex event-%s-canonical\n", number);
    print_hex_line(&version, 1,
                   version == 3   ? "version 3 (the event has a body)"
                   : version == 2 ? "version 2 (the event has a proof)"
                                  : "version 1");
    print_id(ev->device_id, "device_id");
    snprintf(c, sizeof c, "seq %llu", (unsigned long long)ev->seq);
    print_u64(ev->seq, c);
    print_hex_line(ev->prev_digest, CF_DIGEST_LEN,
                   ev->seq == 1 ? "prev: 32 zero bytes (genesis)"
                                : "prev: digest of the event before");
    snprintf(c, sizeof c, "kind %d = %s", (int)ev->kind, cf_event_kind_name(ev->kind));
    print_u64((uint64_t)ev->kind, c);
    print_id(ev->visit_id, "visit_id");
    print_id(ev->worker_id, "worker_id");
    print_id(ev->recipient_id, "recipient_id");
    print_id(ev->plan_id, "plan_id");
    snprintf(c, sizeof c, "wall_ms %lld", (long long)ev->wall_ms);
    print_u64((uint64_t)ev->wall_ms, c);
    snprintf(c, sizeof c, "mono_ms %lld", (long long)ev->mono_ms);
    print_u64((uint64_t)ev->mono_ms, c);
    print_id(ev->boot_id, "boot_id");
    snprintf(c, sizeof c, "card.method %d = %s", (int)ev->card.method,
             ev->card.method ? cf_card_method_name(ev->card.method) : "none");
    print_u64((uint64_t)ev->card.method, c);
    print_str(ev->card.token, "card.token");
    print_str(ev->card.scheme, "card.scheme");
    print_str(ev->card.last4, "card.last4");
    print_hex_line(&present, 1, present ? "location present" : "location absent");
    snprintf(c, sizeof c, "location.lat_e7 %d", (int)ev->location.lat_e7);
    print_u64((uint64_t)(int64_t)ev->location.lat_e7, c);
    snprintf(c, sizeof c, "location.lon_e7 %d", (int)ev->location.lon_e7);
    print_u64((uint64_t)(int64_t)ev->location.lon_e7, c);
    snprintf(c, sizeof c, "location.accuracy_m %d", (int)ev->location.accuracy_m);
    print_u64((uint64_t)(int64_t)ev->location.accuracy_m, c);
    snprintf(c, sizeof c, "services: count %zu", ev->service_count);
    print_u32((uint32_t)ev->service_count, c);
    for (size_t i = 0; i < ev->service_count; i++) {
        snprintf(c, sizeof c, "services[%zu].code", i);
        print_str(ev->services[i].code, c);
        snprintf(c, sizeof c, "services[%zu].quantity %d", i, (int)ev->services[i].quantity);
        print_u64((uint64_t)(int64_t)ev->services[i].quantity, c);
    }
    snprintf(c, sizeof c, "rating %d", (int)ev->rating);
    print_u64((uint64_t)(int64_t)ev->rating, c);
    print_str(ev->comment, "comment");
    snprintf(c, sizeof c, "reason %d", (int)ev->reason);
    print_u64((uint64_t)ev->reason, c);
    snprintf(c, sizeof c, "cancelled_by %d", (int)ev->cancelled_by);
    print_u64((uint64_t)ev->cancelled_by, c);
    if (version >= 2)
        print_proof(&ev->card.proof);
    if (version == 3) {
        snprintf(c, sizeof c, "body: length %zu", strlen(ev->body));
        print_u32((uint32_t)strlen(ev->body), c);
        print_hex_line((const uint8_t *)ev->body, strlen(ev->body),
                       "body: the canonical text (event-v3-body)");
    }
    printf("```\n\n");
    uint8_t digest[CF_DIGEST_LEN];
    cf_event_digest(ev, digest);
    printf("```hex event-%s-digest\n", number);
    print_hex_line(digest, CF_DIGEST_LEN, NULL);
    printf("```\n\n");
}

static void print_event(const struct cf_event *ev, int number)
{
    char n[16];
    snprintf(n, sizeof n, "%d", number);
    print_event_named(ev, n);
}

static void print_proof_example(void)
{
    struct cf_event *ev = malloc(sizeof *ev);
    uint8_t challenge[CF_CHALLENGE_LEN], input[128];
    if (!ev)
        return;
    example_proof_event(ev, challenge);
    size_t n = challenge_input(ev, input);
    printf("```hex challenge-input\n");
    print_hex_line(input, sizeof "carefact.card-challenge.v1",
                   "\"carefact.card-challenge.v1\" NUL");
    print_id(ev->device_id, "device_id");
    print_u64(ev->seq, "seq");
    print_hex_line(ev->prev_digest, CF_DIGEST_LEN, "prev");
    print_id(ev->visit_id, "visit_id");
    printf("```\n\n```hex challenge\n");
    (void)n;
    print_hex_line(challenge, sizeof challenge, NULL);
    printf("```\n\n```hex digest-domain-v2\n");
    print_hex_line((const uint8_t *)"carefact.event.v2", sizeof "carefact.event.v2",
                   "\"carefact.event.v2\" NUL");
    printf("```\n\n");
    print_event_named(ev, "v2");
    cJSON *json = cf_event_to_json(ev);
    char *text = cJSON_PrintUnformatted(json);
    printf("```json event-v2-json\n%s\n```\n\n", text);
    free(text);
    cJSON_Delete(json);
    free(ev);
}

static void print_act_example(void)
{
    struct cf_event *ev = malloc(sizeof *ev);
    if (!ev)
        return;
    example_act_event(ev);
    printf("```json event-v3-body\n%s\n```\n\n```hex digest-domain-v3\n", ev->body);
    print_hex_line((const uint8_t *)"carefact.event.v3", sizeof "carefact.event.v3",
                   "\"carefact.event.v3\" NUL");
    printf("```\n\n");
    print_event_named(ev, "v3");
    cJSON *json = cf_event_to_json(ev);
    char *text = cJSON_PrintUnformatted(json);
    printf("```json event-v3-json\n%s\n```\n\n", text);
    free(text);
    cJSON_Delete(json);
    free(ev);
}

static void print_request(const char *name, const char *method, const char *path, const char *body)
{
    uint8_t seed[CF_ED25519_KEY_LEN], sig[CF_ED25519_SIG_LEN];
    char hash[65], b64[CF_REQUEST_SIG_TEXT_LEN + 1];
    size_t n = 0;
    example_seed(seed);
    sha256_hex(body, strlen(body), hash);
    cf_request_sign(seed, EX_DEVICE, method, path, body, strlen(body), EX_REQUEST_TIME, b64);
    cf_base64url_decode(b64, strlen(b64), sig, sizeof sig, &n);
    printf("```text %s-string\ncarefact-request-v1\n%s\n%s\n%s\n%lld\n%s\n```\n\n", name, method,
           path, hash, (long long)EX_REQUEST_TIME, EX_DEVICE);
    printf("```hex %s-signature\n", name);
    print_hex_line(sig, sizeof sig, NULL);
    printf("```\n\n```text %s-signature-header\n%s %s HTTP/1.1\nX-Carefact-Device: %s\n"
           "X-Carefact-Time: %lld\nX-Carefact-Signature: %s\n```\n\n",
           name, method, path, EX_DEVICE, (long long)EX_REQUEST_TIME, b64);
}

static void print_example(void)
{
    uint8_t seed[CF_ED25519_KEY_LEN], pub[CF_ED25519_KEY_LEN], message[128];
    char text[64], token[CF_TOKEN_TEXT_LEN + 1];
    struct cf_event ev[EX_EVENT_COUNT];
    struct cf_batch batch;
    example_seed(seed);
    example_public_key(pub);
    printf("```hex device-private-key\n");
    print_hex_line(seed, sizeof seed, NULL);
    printf("```\n\n```hex device-public-key\n");
    print_hex_line(pub, sizeof pub, NULL);
    cf_base64url_encode(pub, sizeof pub, text, sizeof text);
    printf("```\n\n```text device-public-key-base64url\n%s\n```\n\n", text);
    example_token(token);
    printf("```text card-token\n%s\n```\n\n", token);
    printf("```hex digest-domain\n");
    print_hex_line((const uint8_t *)"carefact.event.v1", sizeof "carefact.event.v1",
                   "\"carefact.event.v1\" NUL");
    printf("```\n\n");
    example_events(ev);
    for (int i = 0; i < EX_EVENT_COUNT; i++)
        print_event(&ev[i], i + 1);
    char *json = example_batch_json(&batch);
    size_t len =
        seal_message(batch.device_id, batch.seal.last_seq, batch.seal.last_digest, message);
    printf("```hex seal-message\n");
    print_hex_line(message, sizeof "carefact.seal.v1", "\"carefact.seal.v1\" NUL");
    print_id(batch.device_id, "device_id");
    print_u64(batch.seal.last_seq, "last_seq");
    print_hex_line(message + len - CF_DIGEST_LEN, CF_DIGEST_LEN, "last_digest");
    printf("```\n\n```hex seal-signature\n");
    print_hex_line(batch.seal.signature, CF_ED25519_SIG_LEN, NULL);
    printf("```\n\n```json batch-body\n%s\n```\n\n", json);
    print_request("request-upload", "POST", events_path, json);
    print_request("request-reference", "GET", reference_path, "");
    free(json);
    cf_batch_cleanup(&batch);
    print_proof_example();
    print_act_example();
}

static int load_doc(void **state)
{
    (void)state;
    doc_text = read_doc();
    return doc_text ? 0 : -1;
}

static int free_doc(void **state)
{
    (void)state;
    free(doc_text);
    doc_text = NULL;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--print") == 0) {
        print_example();
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_and_token), cmocka_unit_test(test_events),
        cmocka_unit_test(test_seal),          cmocka_unit_test(test_batch_body),
        cmocka_unit_test(test_requests),      cmocka_unit_test(test_proof_event),
        cmocka_unit_test(test_act_event),
    };
    return cmocka_run_group_tests(tests, load_doc, free_doc);
}
