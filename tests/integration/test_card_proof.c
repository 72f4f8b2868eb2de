/* Integration test of the card proof (issue 14): visits uploaded as signed batches whose
 * start and end events carry EMV offline data authentication made by the test PKI
 * (tools/emv-pki) for each event's challenge, verified by carefactd against a test CA made
 * here into the build tree and passed with --emv-ca-keys. Checked: DDA, fDDA and CDA come
 * out dynamic at both ends; each negative card its own failure, a must-fix exception
 * (card_proof_failed in the queue, the visit out of the register) and never a refused
 * upload; SDA, a card without ODA material and an agent without proofs static; a UID card
 * uid; a replayed SDAD reused_signature; a proof over another event's challenge
 * challenge_mismatch; a terminal with the token key, the tokens and the public CA keys but
 * no card cannot make a dynamic visit; a region requiring dynamic excludes static visits
 * from the register with the reason; the figures' share of dynamic proofs; served events
 * withhold the proof and are still checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "api_check.h"
#include "cf/codec.h"
#include "cf/token.h"
#include "emv_pki.h"
#include "harness.h"
#include "sample_events.h"
#include "terminal.h"

#define REGION "00000000-0000-4000-8000-000000000001"
#define PROVIDER "00000000-0000-4000-8000-000000000002"
#define WORKER "24000000-0000-4000-8000-000000000001"
#define RECIPIENT "34000000-0000-4000-8000-000000000001"
#define NOV "2026-11." PROVIDER
#define PAN "2200123456789019"
#define OTHER_PAN "2200123456780002" /* a real card of the same issuer, not the recipient's */
#define UID_HEX "04D30099"
#define BASE_MS INT64_C(1795338000000) /* 2026-11-22T09:00:00Z */

static struct cf_harness harness;
static struct cf_terminal term;
static EVP_PKEY *ca, *issuer, *icc;
static char card_token[CF_TOKEN_TEXT_LEN + 1], uid_token[CF_TOKEN_TEXT_LEN + 1];
static unsigned visit_number;

static const uint8_t token_key[32] = {
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab};

/* ==== The test CA ==== */

/* Keys made now; the CA line written into the build tree for --emv-ca-keys. */
static int make_pki(char *path, size_t path_size)
{
    static const uint8_t rid[5] = {0xA0, 0x00, 0x00, 0x06, 0x58};
    char line[PKI_CA_LINE_MAX];
    const char *dir = getenv("CF_BINARY_DIR");
    snprintf(path, path_size, "%s/test-card-proof", dir ? dir : ".");
    mkdir(path, 0700);
    snprintf(path + strlen(path), path_size - strlen(path), "/emv-ca-keys");
    if (pki_key_generate(1408, &ca) || pki_key_generate(1152, &issuer) ||
        pki_key_generate(1024, &icc) || pki_ca_line(ca, rid, 0x92, line, sizeof line))
        return -1;
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "# test CA made by test_card_proof\n%s\n", line);
    return fclose(f);
}

static void good_card(struct pki_card *card)
{
    memset(card, 0, sizeof *card);
    card->ca = ca;
    card->issuer = issuer;
    card->icc = icc;
    memcpy(card->rid, "\xA0\x00\x00\x06\x58", 5);
    card->ca_index = 0x92;
    memcpy(card->aid, "\xA0\x00\x00\x06\x58\x10\x10", 7);
    card->aid_len = 7;
    snprintf(card->pan, sizeof card->pan, "%s", PAN);
    snprintf(card->expiry, sizeof card->expiry, "1230");
}

/* ==== Events with proofs ==== */

static void put_bytes(struct cf_proof_bytes *dst, const struct pki_bytes *src)
{
    memcpy(dst->data, src->data, src->len);
    dst->len = src->len;
}

static void attach_proof(struct cf_event *ev, const struct pki_proof *p)
{
    struct cf_card_proof *q = &ev->card.proof;
    memset(q, 0, sizeof *q);
    q->kind = (enum cf_proof_kind)p->kind;
    put_bytes(&q->aid, &p->aid);
    put_bytes(&q->aip, &p->aip);
    if (p->kind == CF_ODA_KIND_NONE)
        return;
    put_bytes(&q->ca_index, &p->ca_index);
    put_bytes(&q->issuer_cert, &p->issuer_cert);
    put_bytes(&q->issuer_exp, &p->issuer_exp);
    put_bytes(&q->issuer_rem, &p->issuer_rem);
    put_bytes(&q->icc_cert, &p->icc_cert);
    put_bytes(&q->icc_exp, &p->icc_exp);
    put_bytes(&q->icc_rem, &p->icc_rem);
    memcpy(q->static_data.data, p->static_data, p->static_len);
    q->static_data.len = p->static_len;
    put_bytes(&q->ssad, &p->ssad);
    put_bytes(&q->sdad, &p->sdad);
    put_bytes(&q->ddol, &p->ddol);
    put_bytes(&q->terminal_data, &p->terminal_data);
    put_bytes(&q->tx_data, &p->tx_data);
}

/* The challenge of the next event term will chain (seq and prev as cf_terminal_chain
 * will set them), shifted by skew events for a proof over another event's challenge. */
static void next_challenge(const struct cf_event *ev, uint64_t skew, uint8_t out[4])
{
    assert_int_equal(
        cf_card_challenge(term.id, term.last_seq + 1 + skew, term.last_digest, ev->visit_id, out),
        0);
}

/* How one end of a visit is confirmed. */
struct confirm {
    enum { BY_PROOF, BY_EMV_NO_PROOF, BY_UID } how;
    enum cf_oda_kind kind;
    struct pki_faults faults;
    const char *pan; /* NULL: PAN */
    uint64_t skew; /* sign another event's challenge */
    const struct pki_proof *replay; /* send this recorded proof as is */
};

#define DYN(k) ((struct confirm){BY_PROOF, (k), {0}, NULL, 0, NULL})

static struct pki_proof last_proof; /* the proof of the last event sent (to replay) */

static void confirm_event(struct cf_event *ev, const struct confirm *c)
{
    ev->card.method = CF_CARD_EMV;
    memcpy(ev->card.token, card_token, sizeof card_token);
    if (c->how == BY_UID) {
        ev->card.method = CF_CARD_UID;
        memcpy(ev->card.token, uid_token, sizeof uid_token);
        ev->card.scheme[0] = '\0';
        ev->card.last4[0] = '\0';
        return;
    }
    if (c->how == BY_EMV_NO_PROOF)
        return;
    static struct pki_proof proof;
    if (c->replay) {
        proof = *c->replay;
    } else {
        struct pki_card card;
        uint8_t challenge[4];
        good_card(&card);
        card.faults = c->faults;
        if (c->pan)
            snprintf(card.pan, sizeof card.pan, "%s", c->pan);
        next_challenge(ev, c->skew, challenge);
        assert_int_equal(pki_card_proof(&card, c->kind, challenge, visit_number, &proof), 0);
    }
    attach_proof(ev, &proof);
    last_proof = proof;
}

/* Upload a visit (start, then end) confirmed as given; returns its id (static storage
 * per call, caller copies). */
static const char *upload_visit(const struct confirm *start, const struct confirm *end)
{
    static char id[CF_UUID_TEXT_LEN + 1];
    struct cf_event *ev = malloc(sizeof *ev);
    assert_non_null(ev);
    visit_number++;
    snprintf(id, sizeof id, "74000000-0000-4000-8000-aaaa%08u", visit_number);
    for (int i = 0; i < 2; i++) {
        sample_event(ev, i == 0 ? CF_EV_VISIT_STARTED : CF_EV_VISIT_ENDED);
        assert_int_equal(cf_uuid_from_text(id, ev->visit_id), 0);
        assert_int_equal(cf_uuid_from_text(WORKER, ev->worker_id), 0);
        assert_int_equal(cf_uuid_from_text(RECIPIENT, ev->recipient_id), 0);
        ev->wall_ms = BASE_MS + (int64_t)visit_number * 7200000 + i * 3600000;
        ev->mono_ms = 5000000 + (int64_t)visit_number * 7200000 + i * 3600000;
        confirm_event(ev, i == 0 ? start : end);
        cf_terminal_upload(&harness, &term, ev, 1); /* a failed proof is never refused */
    }
    free(ev);
    return id;
}

/* "start_level/start_failure/end_level/end_failure/flags" of a visit, from the API. */
static char *levels(const char *visit)
{
    char path[400];
    snprintf(path, sizeof path, "/api/v1/visits/%s", visit);
    cJSON *v = cf_api_json(&harness, "GET", path, NULL, 200);
    char *flags = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(v, "flags"));
    char *out = malloc(400);
    const cJSON *sf = cJSON_GetObjectItemCaseSensitive(v, "start_proof_failure");
    const cJSON *ef = cJSON_GetObjectItemCaseSensitive(v, "end_proof_failure");
    snprintf(out, 400, "%s/%s/%s/%s/%s", cf_json_str(v, "start_level"),
             cJSON_IsString(sf) ? sf->valuestring : "", cf_json_str(v, "end_level"),
             cJSON_IsString(ef) ? ef->valuestring : "", flags);
    /* every served event is still checked, the proof withheld */
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(v, "events"))
    {
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "verified")));
        const cJSON *proof =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "card"), "proof");
        if (proof) {
            assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(proof, "withheld")));
            assert_null(cJSON_GetObjectItemCaseSensitive(proof, "sdad"));
            assert_null(cJSON_GetObjectItemCaseSensitive(proof, "icc_cert"));
        }
    }
    free(flags);
    cJSON_Delete(v);
    return out;
}

static void expect_levels(const char *visit, const char *want)
{
    char *got = levels(visit);
    assert_string_equal(got, want);
    free(got);
}

/* Whether the exception queue lists card_proof_failed for the visit, open. */
static bool proof_exception_open(const char *visit)
{
    char want[400];
    snprintf(want, sizeof want, "card_proof_failed.%s", visit);
    cJSON *list =
        cf_api_json(&harness, "GET", "/api/v1/exceptions?kind=card_proof_failed", NULL, 200);
    bool found = false;
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(list, "items"))
    {
        if (strcmp(cf_json_str(item, "id"), want) == 0)
            found = strcmp(cf_json_str(item, "status"), "open") == 0;
    }
    cJSON_Delete(list);
    return found;
}

static const char *excluded_reason(const cJSON *doc, const char *visit)
{
    const cJSON *line;
    cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(doc, "excluded"))
    {
        if (strcmp(cf_json_str(line, "visit_id"), visit) == 0)
            return cf_json_str(line, "reason");
    }
    return NULL;
}

static bool included(const cJSON *doc, const char *visit)
{
    const cJSON *line;
    cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(doc, "included"))
    {
        if (strcmp(cf_json_str(line, "visit_id"), visit) == 0)
            return true;
    }
    return false;
}

/* ==== Tests ==== */

static char dynamic_visit[CF_UUID_TEXT_LEN + 1];

static void test_dynamic_at_both_ends(void **state)
{
    (void)state;
    static const enum cf_oda_kind kinds[][2] = {{CF_ODA_KIND_DDA, CF_ODA_KIND_DDA},
                                                {CF_ODA_KIND_FDDA, CF_ODA_KIND_FDDA},
                                                {CF_ODA_KIND_CDA, CF_ODA_KIND_CDA},
                                                {CF_ODA_KIND_FDDA, CF_ODA_KIND_CDA}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        struct confirm s = DYN(kinds[i][0]), e = DYN(kinds[i][1]);
        const char *id = upload_visit(&s, &e);
        expect_levels(id, "dynamic//dynamic//[]");
        snprintf(dynamic_visit, sizeof dynamic_visit, "%s", id);
    }
    cJSON *doc = cf_api_json(&harness, "GET", "/api/v1/registers/" NOV, NULL, 200);
    assert_true(included(doc, dynamic_visit));
    cJSON_Delete(doc);
}

/* Each negative card at the start (a good dynamic end): its reason, the flag, the
 * exception, the register's exclusion. */
static void test_negative_cards(void **state)
{
    (void)state;
    struct {
        struct confirm start;
        const char *reason;
    } cases[] = {
        {{BY_PROOF, CF_ODA_KIND_DDA, {.issuer_expired = true}, NULL, 0, NULL}, "expired"},
        {{BY_PROOF, CF_ODA_KIND_FDDA, {.icc_expired = true}, NULL, 0, NULL}, "expired"},
        {{BY_PROOF, CF_ODA_KIND_CDA, {.pan_mismatch = true}, NULL, 0, NULL}, "pan_mismatch"},
        {{BY_PROOF, CF_ODA_KIND_DDA, {.wrong_ca_index = true}, NULL, 0, NULL}, "unknown_ca_key"},
        {{BY_PROOF, CF_ODA_KIND_FDDA, {.ignore_challenge = true}, NULL, 0, NULL}, "bad_signature"},
        {{BY_PROOF, CF_ODA_KIND_DDA, {.corrupt_issuer_cert = true}, NULL, 0, NULL},
         "bad_issuer_certificate"},
        {{BY_PROOF, CF_ODA_KIND_CDA, {.corrupt_icc_cert = true}, NULL, 0, NULL},
         "bad_icc_certificate"},
        /* a genuine card, but not the one whose token the event claims (mutant
         * proof.token-unchecked) */
        {{BY_PROOF, CF_ODA_KIND_FDDA, {0}, OTHER_PAN, 0, NULL}, "token_mismatch"},
        /* a genuine signature over another event's challenge */
        {{BY_PROOF, CF_ODA_KIND_DDA, {0}, NULL, 1, NULL}, "challenge_mismatch"},
    };
    cJSON *doc = NULL;
    char ids[sizeof cases / sizeof cases[0]][CF_UUID_TEXT_LEN + 1];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct confirm end = DYN(CF_ODA_KIND_FDDA);
        snprintf(ids[i], sizeof ids[i], "%s", upload_visit(&cases[i].start, &end));
        char want[200];
        snprintf(want, sizeof want, "none/%s/dynamic//[\"card_proof_failed\"]", cases[i].reason);
        expect_levels(ids[i], want);
        assert_true(proof_exception_open(ids[i]));
    }
    doc = cf_api_json(&harness, "GET", "/api/v1/registers/" NOV, NULL, 200);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *reason = excluded_reason(doc, ids[i]);
        assert_non_null(reason);
        assert_string_equal(reason, "proof_failed");
    }
    cJSON_Delete(doc);
    /* the failure at the end is the end's */
    struct confirm s = DYN(CF_ODA_KIND_DDA);
    struct confirm e = {BY_PROOF, CF_ODA_KIND_CDA, {.issuer_expired = true}, NULL, 0, NULL};
    expect_levels(upload_visit(&s, &e), "dynamic//none/expired/[\"card_proof_failed\"]");
}

static void test_static_uid_levels(void **state)
{
    (void)state;
    struct confirm sda = DYN(CF_ODA_KIND_SDA), none = DYN(CF_ODA_KIND_NONE);
    struct confirm legacy = {BY_EMV_NO_PROOF, 0, {0}, NULL, 0, NULL};
    struct confirm uid = {BY_UID, 0, {0}, NULL, 0, NULL};
    expect_levels(upload_visit(&sda, &sda), "static//static//[]");
    expect_levels(upload_visit(&none, &none), "static//static//[]");
    expect_levels(upload_visit(&legacy, &legacy), "static//static//[]");
    expect_levels(upload_visit(&uid, &uid), "uid//uid//[]");
    /* an SDA card of another PAN: the token tells */
    struct confirm other = {BY_PROOF, CF_ODA_KIND_SDA, {0}, OTHER_PAN, 0, NULL};
    expect_levels(upload_visit(&other, &sda),
                  "none/token_mismatch/static//[\"card_proof_failed\"]");
}

/* A recorded dynamic proof sent again in another event: reused_signature (mutant
 * proof.sdad-reuse-unseen), in a later batch or twice in one. */
static void test_replayed_sdad(void **state)
{
    (void)state;
    struct confirm s = DYN(CF_ODA_KIND_FDDA), e = DYN(CF_ODA_KIND_DDA);
    upload_visit(&s, &e);
    struct pki_proof *recorded = malloc(sizeof *recorded);
    assert_non_null(recorded);
    *recorded = last_proof; /* the end's, accepted */
    struct confirm replay = {BY_PROOF, CF_ODA_KIND_DDA, {0}, NULL, 0, recorded};
    struct confirm good = DYN(CF_ODA_KIND_CDA);
    expect_levels(upload_visit(&replay, &good),
                  "none/reused_signature/dynamic//[\"card_proof_failed\"]");
    free(recorded);

    /* twice in one batch: the start's proof copied into the end */
    struct cf_event *two = calloc(2, sizeof *two);
    assert_non_null(two);
    visit_number++;
    char id[CF_UUID_TEXT_LEN + 1];
    snprintf(id, sizeof id, "74000000-0000-4000-8000-aaaa%08u", visit_number);
    for (int i = 0; i < 2; i++) {
        sample_event(&two[i], i == 0 ? CF_EV_VISIT_STARTED : CF_EV_VISIT_ENDED);
        assert_int_equal(cf_uuid_from_text(id, two[i].visit_id), 0);
        assert_int_equal(cf_uuid_from_text(WORKER, two[i].worker_id), 0);
        assert_int_equal(cf_uuid_from_text(RECIPIENT, two[i].recipient_id), 0);
        two[i].wall_ms = BASE_MS + (int64_t)visit_number * 7200000 + i * 3600000;
        two[i].mono_ms = 5000000 + (int64_t)visit_number * 7200000 + i * 3600000;
    }
    struct confirm first = DYN(CF_ODA_KIND_FDDA);
    confirm_event(&two[0], &first);
    two[1].card = two[0].card;
    cf_terminal_upload(&harness, &term, two, 2);
    free(two);
    expect_levels(id, "dynamic//none/reused_signature/[\"card_proof_failed\"]");
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM events WHERE device_id = '%s' "
             "AND card_proof_failure = 'reused_signature'",
             term.id_text);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 2);
}

/* (mutant proof.legacy-emv-dynamic: "no_proof" would come out dynamic.) A terminal given
 * everything a terminal has -- the region's token key, the tokens, the
 * public CA keys, recordings of the card's earlier proofs -- but not the card, forges
 * confirmations every way it can: none comes out dynamic. */
static void test_terminal_without_card_cannot_make_dynamic(void **state)
{
    (void)state;
    EVP_PKEY *own_ca = NULL, *own_issuer = NULL, *own_icc = NULL;
    assert_int_equal(pki_key_generate(1408, &own_ca), 0);
    assert_int_equal(pki_key_generate(1152, &own_issuer), 0);
    assert_int_equal(pki_key_generate(1024, &own_icc), 0);
    struct pki_proof *recorded = malloc(sizeof *recorded), *forged = malloc(sizeof *forged);
    assert_non_null(recorded);
    assert_non_null(forged);
    /* a recording of a genuine tap */
    struct confirm s = DYN(CF_ODA_KIND_DDA), e = DYN(CF_ODA_KIND_DDA);
    upload_visit(&s, &e);
    *recorded = last_proof;

    struct cf_event *ev = malloc(sizeof *ev);
    assert_non_null(ev);
    const char *ways[] = {"own_pki", "own_pki_ca_index",    "recorded_certs_own_key",
                          "replay",  "replay_rewritten_un", "no_proof",
                          "no_oda"};
    for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
        visit_number++;
        char id[CF_UUID_TEXT_LEN + 1];
        snprintf(id, sizeof id, "74000000-0000-4000-8000-aaaa%08u", visit_number);
        sample_event(ev, CF_EV_VISIT_STARTED);
        assert_int_equal(cf_uuid_from_text(id, ev->visit_id), 0);
        assert_int_equal(cf_uuid_from_text(WORKER, ev->worker_id), 0);
        assert_int_equal(cf_uuid_from_text(RECIPIENT, ev->recipient_id), 0);
        ev->wall_ms = BASE_MS + (int64_t)visit_number * 7200000;
        ev->mono_ms = 5000000 + (int64_t)visit_number * 7200000;
        /* the token: derived from the known PAN with the terminal's own copy of the key */
        uint8_t key[32];
        size_t key_len = 0;
        assert_int_equal(cf_hex_decode(term.token_key_hex, strlen(term.token_key_hex), key,
                                       sizeof key, &key_len),
                         0);
        assert_int_equal(cf_token_from_pan(key, key_len, PAN, ev->card.token), 0);
        uint8_t challenge[4];
        next_challenge(ev, 0, challenge);
        struct pki_card card;
        good_card(&card);
        if (strncmp(ways[w], "own_pki", 7) == 0) {
            card.ca = own_ca;
            card.issuer = own_issuer;
            card.icc = own_icc;
            card.ca_index = strcmp(ways[w], "own_pki") == 0 ? 0x92 : 0x93;
            assert_int_equal(pki_card_proof(&card, CF_ODA_KIND_DDA, challenge, 1, forged), 0);
        } else if (strcmp(ways[w], "recorded_certs_own_key") == 0) {
            card.icc = own_icc; /* the card's certificates, a key the terminal has */
            assert_int_equal(pki_card_proof(&card, CF_ODA_KIND_DDA, challenge, 1, forged), 0);
            struct pki_proof *mine = malloc(sizeof *mine);
            assert_non_null(mine);
            *mine = *forged;
            *forged = *recorded;
            forged->sdad = mine->sdad;
            forged->terminal_data = mine->terminal_data;
            free(mine);
        } else if (strncmp(ways[w], "replay", 6) == 0) {
            *forged = *recorded;
            if (strcmp(ways[w], "replay_rewritten_un") == 0)
                memcpy(forged->terminal_data.data, challenge, 4);
        } else if (strcmp(ways[w], "no_oda") == 0) {
            assert_int_equal(pki_card_proof(&card, CF_ODA_KIND_NONE, challenge, 1, forged), 0);
        }
        if (strcmp(ways[w], "no_proof") != 0)
            attach_proof(ev, forged);
        cf_terminal_upload(&harness, &term, ev, 1);
        /* ended without a proof, so the visit closes (an open one overlaps the next) */
        ev->kind = CF_EV_VISIT_ENDED;
        memset(&ev->card.proof, 0, sizeof ev->card.proof);
        ev->wall_ms += 3600000;
        ev->mono_ms += 3600000;
        cf_terminal_upload(&harness, &term, ev, 1);
        char *got = levels(id);
        print_message("forged %s: %s\n", ways[w], got);
        assert_null(strstr(got, "dynamic"));
        free(got);
    }
    free(ev);
    free(recorded);
    free(forged);
    EVP_PKEY_free(own_ca);
    EVP_PKEY_free(own_issuer);
    EVP_PKEY_free(own_icc);
}

/* The default pays every card that confirmed visits before proofs existed (a social UID
 * card too); a region that requires static drops UID-only visits with below_policy, one
 * that requires dynamic drops static ones too and still pays a dynamic one (mutant
 * proof.payable-boundary); the figures' share of dynamic proofs matches the visits. */
static void test_policy_dynamic(void **state)
{
    (void)state;
    struct confirm legacy = {BY_EMV_NO_PROOF, 0, {0}, NULL, 0, NULL};
    struct confirm dyn = DYN(CF_ODA_KIND_CDA);
    struct confirm social = {BY_UID, 0, {0}, NULL, 0, NULL};
    char static_visit[CF_UUID_TEXT_LEN + 1], half[CF_UUID_TEXT_LEN + 1];
    char uid_visit[CF_UUID_TEXT_LEN + 1];
    snprintf(static_visit, sizeof static_visit, "%s", upload_visit(&legacy, &legacy));
    snprintf(half, sizeof half, "%s", upload_visit(&dyn, &legacy));
    snprintf(uid_visit, sizeof uid_visit, "%s", upload_visit(&social, &social));
    cJSON *doc = cf_api_json(&harness, "GET", "/api/v1/registers/" NOV, NULL, 200);
    assert_true(included(doc, static_visit)); /* default policy: every card is paid */
    assert_true(included(doc, uid_visit));
    cJSON_Delete(doc);
    assert_int_equal(cf_harness_sql(&harness, "UPDATE regions SET payable_level = 'static' "
                                              "WHERE id = '" REGION "'"),
                     0);
    doc = cf_api_json(&harness, "GET", "/api/v1/registers/" NOV, NULL, 200);
    assert_string_equal(excluded_reason(doc, uid_visit), "below_policy");
    assert_true(included(doc, static_visit));
    cJSON_Delete(doc);
    assert_int_equal(cf_harness_sql(&harness, "UPDATE regions SET payable_level = 'dynamic' "
                                              "WHERE id = '" REGION "'"),
                     0);
    doc = cf_api_json(&harness, "GET", "/api/v1/registers/" NOV, NULL, 200);
    assert_string_equal(excluded_reason(doc, static_visit), "below_policy");
    assert_string_equal(excluded_reason(doc, half), "below_policy");
    assert_true(included(doc, dynamic_visit));
    cJSON_Delete(doc);
    assert_int_equal(cf_harness_sql(&harness, "UPDATE regions SET payable_level = 'uid' "
                                              "WHERE id = '" REGION "'"),
                     0);

    cJSON *fig = cf_api_json(
        &harness, "GET", "/api/v1/figures?group=provider&from=2026-11-01&to=2027-01-01", NULL, 200);
    const cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(fig, "items"), 0);
    double share = cJSON_GetObjectItemCaseSensitive(item, "dynamic_share")->valuedouble;
    long dyn_count = cf_harness_sql_long(
        &harness, "SELECT count(*) FILTER (WHERE start_level = 'dynamic') + count(*) FILTER "
                  "(WHERE end_level = 'dynamic') FROM visits WHERE state IN ('ended', 'rated')");
    long ended = cf_harness_sql_long(
        &harness, "SELECT count(*) FROM visits WHERE state IN ('ended', 'rated')");
    assert_true(dyn_count > 0);
    assert_true(share > (double)dyn_count / (2.0 * (double)ended) - 1e-9 &&
                share < (double)dyn_count / (2.0 * (double)ended) + 1e-9);
    assert_int_equal((long)cJSON_GetObjectItemCaseSensitive(item, "dynamic_proofs")->valuedouble,
                     dyn_count);
    cJSON_Delete(fig);
}

/* A card bound on the terminal with a card-signed proof: the pending binding keeps the
 * level, and the review queue shows it with the binding. */
static void test_card_bound_level(void **state)
{
    (void)state;
    char other_token[CF_TOKEN_TEXT_LEN + 1];
    assert_int_equal(cf_token_from_pan(token_key, sizeof token_key, OTHER_PAN, other_token), 0);
    struct cf_event *ev = malloc(sizeof *ev);
    assert_non_null(ev);
    sample_event(ev, CF_EV_CARD_BOUND);
    assert_int_equal(cf_uuid_from_text(WORKER, ev->worker_id), 0);
    assert_int_equal(cf_uuid_from_text(RECIPIENT, ev->recipient_id), 0);
    ev->wall_ms = BASE_MS + 3600000;
    struct confirm c = {BY_PROOF, CF_ODA_KIND_FDDA, {0}, OTHER_PAN, 0, NULL};
    confirm_event(ev, &c);
    memcpy(ev->card.token, other_token, sizeof other_token);
    cf_terminal_upload(&harness, &term, ev, 1);
    free(ev);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT proof_level || '/' || coalesce(proof_failure, '') FROM card_bindings "
             "WHERE token = '%s' AND status = 'pending'",
             other_token);
    char *got = cf_harness_sql_value(&harness, sql);
    assert_non_null(got);
    assert_string_equal(got, "dynamic/");
    free(got);
    cJSON *list = cf_api_json(&harness, "GET", "/api/v1/exceptions?kind=card_binding", NULL, 200);
    const cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(list, "items"), 0);
    assert_string_equal(
        cf_json_str(cJSON_GetObjectItemCaseSensitive(item, "detail"), "proof_level"), "dynamic");
    cJSON_Delete(list);
}

/* Nothing of the proof that could give the card number back is stored. */
static void test_nothing_recoverable_stored(void **state)
{
    (void)state;
    long stored = cf_harness_sql_long(
        &harness, "SELECT count(*) FROM events WHERE card_proof_kind IS NOT NULL");
    assert_true(stored > 10);
    /* the only byte columns of a proof are digests */
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT count(*) FROM events WHERE card_proof_kind IS "
                                         "NOT NULL AND (length(card_body_digest) <> 32 OR "
                                         "coalesce(length(card_sdad_digest), 32) <> 32)"),
                     0);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM card_sdads "
                                                   "WHERE length(sdad_digest) <> 32"),
                     0);
}

/* The PAN scan (tests/security/pan_scan.mjs) over a dump of the database and carefactd's
 * log, with proofs of both cards having flowed: no card number, in any form. */
static void test_pan_scan(void **state)
{
    (void)state;
    const char *src = getenv("CF_SOURCE_DIR");
    char dir[512], cmd[3072];
    snprintf(dir, sizeof dir, "%s/card-proof-scan", harness.pg_dir);
    snprintf(
        cmd, sizeof cmd,
        "set -e; mkdir -p '%s'; cd '%s';"
        "printf 'resp: 70 0A 5A 08 %s 90 00\\nresp: 70 0A 5A 08 %s 90 00\\n' > cards;"
        "d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | head -1);"
        "\"${d:+$d/}pg_dump\" --data-only --inserts '%s' > dump.sql;"
        "grep -q card_sdads dump.sql; grep -q card_proof dump.sql || true;"
        "node '%s/tests/security/pan_scan.mjs' --cards cards --scan dump.sql '%s/carefactd.log'",
        dir, dir, "22 00 12 34 56 78 90 19", "22 00 12 34 56 78 00 02", harness.conninfo,
        src ? src : ".", harness.pg_dir);
    assert_int_equal(system(cmd), 0);
}

/* ==== Setup ==== */

static int group_setup(void **state)
{
    (void)state;
    char path[512], seed[2048];
    if (make_pki(path, sizeof path) ||
        cf_token_from_pan(token_key, sizeof token_key, PAN, card_token) ||
        cf_token_from_uid(token_key, sizeof token_key, (const uint8_t *)"\x04\xD3\x00\x99", 4,
                          uid_token))
        return -1;
    const char *args[] = {"--emv-ca-keys", path, NULL};
    snprintf(seed, sizeof seed,
             "INSERT INTO regions (id, name, token_key) VALUES ('" REGION "', 'Тестовая', "
             "  decode(repeat('ab', 32), 'hex'));"
             "INSERT INTO providers VALUES ('" PROVIDER "', '" REGION "', 'КЦСОН Тестовый');"
             "INSERT INTO workers VALUES ('" WORKER "', '" PROVIDER "', 'Картова Анна');"
             "INSERT INTO recipients (id, provider_id, full_name) VALUES ('" RECIPIENT
             "', '" PROVIDER "', 'Петров Пётр');"
             "INSERT INTO card_bindings (recipient_id, token, method, scheme, last4, status) "
             "VALUES ('" RECIPIENT "', '%s', 'emv', 'mir', '9019', 'active'), "
             "('" RECIPIENT "', '%s', 'uid', '', '', 'active');"
             "INSERT INTO certificates (id, recipient_id, number, valid_from, valid_to) VALUES "
             "('c4100000-0000-4000-8000-00000000000c', '" RECIPIENT "', 'ИППСУ-1', "
             "'2026-01-01', '2026-12-31');"
             "INSERT INTO services VALUES ('HH-01', 'Уборка', 'household', 'home', 30, 25000), "
             "('MED.02', 'Давление', 'medical', 'home', 15, 9000);",
             card_token, uid_token);
    if (cf_harness_start(&harness, args) || cf_harness_sql(&harness, seed) ||
        cf_harness_as_authority(&harness))
        return -1;
    cf_terminal_enrol(&harness, WORKER, &term);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cf_harness_stop(&harness);
    EVP_PKEY_free(ca);
    EVP_PKEY_free(issuer);
    EVP_PKEY_free(icc);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dynamic_at_both_ends),
        cmocka_unit_test(test_negative_cards),
        cmocka_unit_test(test_static_uid_levels),
        cmocka_unit_test(test_replayed_sdad),
        cmocka_unit_test(test_terminal_without_card_cannot_make_dynamic),
        cmocka_unit_test(test_policy_dynamic),
        cmocka_unit_test(test_card_bound_level),
        cmocka_unit_test(test_nothing_recoverable_stored),
        cmocka_unit_test(test_pan_scan),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
