/* The card side of issue 14, end to end without a reader: synthetic cards certified by
 * carefact-gen-card's --oda step (tools/emv-pki), answering through the live card
 * (gc_oda.h) as pn532-sim does, read by firmware-shared's cf_emv_read_proof with the
 * event's challenge, and the proof checked by the verifier the server uses (cf/oda.h),
 * which puts the PAN of the ICC certificate back into the masked static data.
 * Each method gives its kind and verifies as dynamic (SDA static); each negative card
 * fails with its reason; a recording of a signing card (no live line) never verifies;
 * the static data in the proof never holds the PAN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cf/emv.h"
#include "cf/event.h"
#include "cf/oda.h"
#include "emv_pki.h"
#include "gc_oda.h"
#include "gen_card.h"

#define TEXT_MAX (64u * 1024u)

static const struct cf_oda_date today = {2026, 12};

struct fixture {
    EVP_PKEY *ca, *issuer, *icc;
    struct cf_oda_ca_key ca_keys[3];
    char dir[64];
};

static struct fixture fx;

static int setup(void **state)
{
    (void)state;
    /* Issuer 1152 and card 1024 under a CA of 1408 bits, as carefact-gen-card makes them. */
    if (pki_key_generate(1408, &fx.ca) || pki_key_generate(1152, &fx.issuer) ||
        pki_key_generate(1024, &fx.icc))
        return -1;
    static const uint8_t rids[3][5] = {{0xA0, 0x00, 0x00, 0x06, 0x58},
                                       {0xA0, 0x00, 0x00, 0x00, 0x03},
                                       {0xA0, 0x00, 0x00, 0x00, 0x04}};
    for (int i = 0; i < 3; i++) {
        char line[PKI_CA_LINE_MAX];
        if (pki_ca_line(fx.ca, rids[i], 0x92, line, sizeof line) ||
            cf_oda_ca_key_parse(line, strlen(line), &fx.ca_keys[i], NULL) != 1)
            return -1;
    }
    snprintf(fx.dir, sizeof fx.dir, "/tmp/cf-gen-card-oda-XXXXXX");
    if (!mkdtemp(fx.dir))
        return -1;
    char path[128];
    snprintf(path, sizeof path, "%s/card.icc.pem", fx.dir);
    return pki_key_write(fx.icc, path) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/card.icc.pem", fx.dir);
    unlink(path);
    rmdir(fx.dir);
    EVP_PKEY_free(fx.ca);
    EVP_PKEY_free(fx.issuer);
    EVP_PKEY_free(fx.icc);
    return 0;
}

struct read_result {
    struct cf_card_proof proof;
    char pan[20];
    char note[128];
    int rc;
};

/* Build the card, render it (with or without its live line), read it with challenge. */
static void read_card(enum gc_scheme scheme, const char *layout, enum gc_oda_kind kind,
                      const struct gc_oda_faults *faults, bool live, int taps,
                      const uint8_t challenges[][4], struct read_result *results)
{
    struct gc_options options = {.scheme = scheme, .seed = 14};
    struct cf_error_detail d = {0};
    gc_layout_default(&options.layout);
    if (layout)
        assert_int_equal(gc_layout_parse(layout, &options.layout, &d), 0);
    struct gc_card *card = calloc(1, sizeof *card);
    char *text = malloc(TEXT_MAX);
    assert_non_null(card);
    assert_non_null(text);
    assert_int_equal(gc_card_build(&options, card, &d), 0);
    struct gc_oda_options oda = {.kind = kind,
                                 .ca = fx.ca,
                                 .issuer = fx.issuer,
                                 .icc = fx.icc,
                                 .ca_index = 0x92,
                                 .key_name = "card.icc.pem"};
    if (faults)
        oda.faults = *faults;
    int rc = gc_card_add_oda(card, &oda, &d);
    if (rc)
        fail_msg("gc_card_add_oda: %s", d.message);
    if (!live)
        card->live[0] = '\0';
    size_t len = 0;
    assert_int_equal(gc_card_render(card, NULL, text, TEXT_MAX, &len), 0);
    struct gc_live_card lc = {0};
    assert_int_equal(cf_transcript_parse(text, len, &lc.transcript, &d), 0);
    assert_int_equal(gc_live_load(text, len, fx.dir, &lc.live, &d), 0);
    assert_true(live == (lc.live != NULL) || kind == GC_ODA_SDA);
    for (int t = 0; t < taps; t++) {
        struct cf_emv_terminal terminal;
        struct cf_emv_card emv;
        cf_emv_terminal_defaults(&terminal, INT64_C(1796000000000));
        memcpy(terminal.unpredictable, challenges[t], 4);
        cf_transcript_reset(&lc.transcript);
        gc_live_reset(lc.live);
        results[t].rc =
            cf_emv_read_proof(gc_live_transceive, &lc, &terminal, &emv, &results[t].proof,
                              results[t].note, sizeof results[t].note);
        snprintf(results[t].pan, sizeof results[t].pan, "%s", emv.pan);
        assert_string_equal(emv.pan, card->pan);
        cf_emv_card_wipe(&emv);
    }
    gc_live_free(lc.live);
    cf_transcript_cleanup(&lc.transcript);
    free(text);
    free(card);
}

static void view(const struct cf_card_proof *p, struct cf_oda_proof *v)
{
    memset(v, 0, sizeof *v);
    v->kind = (enum cf_oda_kind)p->kind;
#define V(f) v->f = (struct cf_oda_bytes){p->f.data, p->f.len}
    V(aid);
    V(ca_index);
    V(issuer_cert);
    V(issuer_exp);
    V(issuer_rem);
    V(icc_cert);
    V(icc_exp);
    V(icc_rem);
    V(static_data);
    V(ssad);
    V(sdad);
    V(ddol);
    V(terminal_data);
    V(tx_data);
#undef V
}

/* The server's part: cf_oda_verify over the proof as the event carries it. */
static enum cf_oda_reason verify(struct read_result *r, const uint8_t challenge[4],
                                 enum cf_oda_level *level)
{
    struct cf_card_proof *copy = malloc(sizeof *copy);
    assert_non_null(copy);
    *copy = r->proof;
    /* No PAN in the clear inside the proof: masked in 5A, nowhere else. */
    assert_false(cf_static_data_holds_pan(copy->static_data.data, copy->static_data.len, r->pan));
    /* ... and the verifier puts it back itself from the ICC certificate (SDA: it cannot,
     * and judges the card static). */
    struct cf_oda_proof v;
    struct cf_oda_result result;
    view(copy, &v);
    assert_int_equal(cf_oda_verify(&v, fx.ca_keys, 3, challenge, today, &result), 0);
    *level = result.level;
    enum cf_oda_reason reason = result.reason;
    cf_oda_result_wipe(&result);
    free(copy);
    return reason;
}

static const uint8_t un1[2][4] = {{0x8E, 0x80, 0xA7, 0xB0}, {0x11, 0x22, 0x33, 0x44}};

static void expect_dynamic(enum gc_scheme scheme, const char *layout, enum gc_oda_kind kind,
                           enum cf_proof_kind want)
{
    struct read_result r[1];
    enum cf_oda_level level;
    read_card(scheme, layout, kind, NULL, true, 1, un1, r);
    assert_int_equal(r[0].rc, 0);
    if (r[0].proof.kind != want)
        fail_msg("kind %d, want %d (%s)", r[0].proof.kind, want, r[0].note);
    struct cf_event *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    /* What the reader gives is a proof the event model accepts. */
    ev->card.method = CF_CARD_EMV;
    ev->card.proof = r[0].proof;
    struct cf_error_detail d = {0};
    snprintf(ev->card.token, sizeof ev->card.token, "AAECAwQFBgcICQoLDA0ODw");
    snprintf(ev->card.scheme, sizeof ev->card.scheme, "mir");
    snprintf(ev->card.last4, sizeof ev->card.last4, "0000");
    ev->kind = CF_EV_CARD_BOUND;
    ev->seq = 1;
    ev->wall_ms = INT64_C(1796000000000);
    memset(ev->worker_id, 1, 16);
    memset(ev->boot_id, 2, 16);
    memset(ev->recipient_id, 3, 16);
    if (cf_event_validate(ev, &d))
        fail_msg("%s: %s", d.field, d.message);
    free(ev);
    enum cf_oda_reason reason = verify(&r[0], un1[0], &level);
    if (reason != CF_ODA_OK)
        fail_msg("verification: %s", cf_oda_reason_name(reason));
    assert_int_equal(level, want == CF_PROOF_SDA ? CF_ODA_LEVEL_STATIC : CF_ODA_LEVEL_DYNAMIC);
    /* Another event's challenge: the same signature does not confirm it (SDA signs no
     * challenge: it is static whatever the event). */
    if (want != CF_PROOF_SDA)
        assert_int_equal(verify(&r[0], un1[1], &level), CF_ODA_CHALLENGE_MISMATCH);
}

static void test_dda_mir(void **state)
{
    (void)state;
    expect_dynamic(GC_SCHEME_MIR, NULL, GC_ODA_DDA, CF_PROOF_DDA);
}

static void test_dda_format1_long_lengths(void **state)
{
    (void)state;
    expect_dynamic(GC_SCHEME_MIR, "gpo=1,pdol=no,records=4,lengths=long", GC_ODA_DDA, CF_PROOF_DDA);
}

static void test_fdda_visa(void **state)
{
    (void)state;
    expect_dynamic(GC_SCHEME_VISA, NULL, GC_ODA_FDDA, CF_PROOF_FDDA);
}

static void test_cda_mastercard(void **state)
{
    (void)state;
    expect_dynamic(GC_SCHEME_MASTERCARD, "records=3", GC_ODA_CDA, CF_PROOF_CDA);
}

static void test_cda_without_pdol(void **state)
{
    (void)state;
    expect_dynamic(GC_SCHEME_MASTERCARD, "pdol=no,gpo=1", GC_ODA_CDA, CF_PROOF_CDA);
}

static void test_sda(void **state)
{
    (void)state;
    expect_dynamic(GC_SCHEME_MIR, NULL, GC_ODA_SDA, CF_PROOF_SDA);
}

static void expect_failure(enum gc_scheme scheme, enum gc_oda_kind kind,
                           struct gc_oda_faults faults, enum cf_oda_reason want)
{
    struct read_result r[1];
    enum cf_oda_level level;
    read_card(scheme, NULL, kind, &faults, true, 1, un1, r);
    assert_int_equal(r[0].rc, 0);
    enum cf_oda_reason reason = verify(&r[0], un1[0], &level);
    if (reason != want)
        fail_msg("verification: %s, want %s", cf_oda_reason_name(reason), cf_oda_reason_name(want));
}

static void test_negative_cards(void **state)
{
    (void)state;
    expect_failure(GC_SCHEME_MIR, GC_ODA_DDA, (struct gc_oda_faults){.issuer_expired = true},
                   CF_ODA_EXPIRED);
    expect_failure(GC_SCHEME_MIR, GC_ODA_DDA, (struct gc_oda_faults){.pan_mismatch = true},
                   CF_ODA_PAN_MISMATCH);
    expect_failure(GC_SCHEME_VISA, GC_ODA_FDDA, (struct gc_oda_faults){.wrong_ca_index = true},
                   CF_ODA_UNKNOWN_CA_KEY);
    expect_failure(GC_SCHEME_MIR, GC_ODA_DDA, (struct gc_oda_faults){.ignore_challenge = true},
                   CF_ODA_BAD_SIGNATURE);
    expect_failure(GC_SCHEME_VISA, GC_ODA_FDDA, (struct gc_oda_faults){.ignore_challenge = true},
                   CF_ODA_BAD_SIGNATURE);
    expect_failure(GC_SCHEME_MASTERCARD, GC_ODA_CDA,
                   (struct gc_oda_faults){.ignore_challenge = true}, CF_ODA_BAD_SIGNATURE);
}

/* A replaying card: the first tap signs, every later one answers the same SDAD. */
static void test_replayed_sdad(void **state)
{
    (void)state;
    struct gc_oda_faults faults = {.replay = true};
    struct read_result r[2];
    enum cf_oda_level level;
    read_card(GC_SCHEME_MIR, NULL, GC_ODA_DDA, &faults, true, 2, un1, r);
    assert_int_equal(verify(&r[0], un1[0], &level), CF_ODA_OK);
    assert_int_equal(level, CF_ODA_LEVEL_DYNAMIC);
    assert_int_equal(r[1].proof.sdad.len, r[0].proof.sdad.len);
    assert_memory_equal(r[1].proof.sdad.data, r[0].proof.sdad.data, r[0].proof.sdad.len);
    assert_int_equal(verify(&r[1], un1[1], &level), CF_ODA_BAD_SIGNATURE);
}

/* Recordings: no live line. DDA and CDA cards cannot answer the signing command (the
 * proof is none); fDDA replays the recorded 9F4B, which never verifies. */
static void test_recordings_never_dynamic(void **state)
{
    (void)state;
    struct read_result r[1];
    enum cf_oda_level level;
    read_card(GC_SCHEME_MIR, NULL, GC_ODA_DDA, NULL, false, 1, un1, r);
    assert_int_equal(r[0].rc, 0);
    assert_int_equal(r[0].proof.kind, CF_PROOF_NONE);
    assert_true(r[0].note[0] != '\0');
    read_card(GC_SCHEME_MASTERCARD, NULL, GC_ODA_CDA, NULL, false, 1, un1, r);
    assert_int_equal(r[0].proof.kind, CF_PROOF_NONE);
    read_card(GC_SCHEME_VISA, NULL, GC_ODA_FDDA, NULL, false, 1, un1, r);
    assert_int_equal(r[0].proof.kind, CF_PROOF_FDDA);
    assert_int_equal(verify(&r[0], un1[0], &level), CF_ODA_BAD_SIGNATURE);
}

/* A card whose signing answer goes wrong: the card is still identified, the proof is
 * none with a note. mode: 1 the link fails, 2 a truncated TLV, 3 90 00 alone, 4 another
 * template, 5 6A 82. */
struct broken {
    struct gc_live_card *card;
    int mode;
};

static int broken_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                             size_t resp_size, size_t *resp_len)
{
    struct broken *b = ctx;
    bool signing =
        cmd_len >= 2 && ((cmd[0] == 0x00 && cmd[1] == 0x88) || (cmd[0] == 0x80 && cmd[1] == 0xAE));
    if (!signing)
        return gc_live_transceive(b->card, cmd, cmd_len, resp, resp_size, resp_len);
    static const uint8_t truncated[] = {0x80, 0x81, 0x80, 0x6A, 0x05, 0x90, 0x00};
    static const uint8_t bare[] = {0x90, 0x00};
    static const uint8_t other[] = {0x70, 0x03, 0x5A, 0x01, 0x22, 0x90, 0x00};
    static const uint8_t refused[] = {0x6A, 0x82};
    const uint8_t *answer = b->mode == 2   ? truncated
                            : b->mode == 3 ? bare
                            : b->mode == 4 ? other
                                           : refused;
    size_t n = b->mode == 2 ? sizeof truncated : b->mode == 4 ? sizeof other : 2;
    if (b->mode == 1)
        return CF_ECOMM;
    memcpy(resp, answer, n);
    *resp_len = n;
    return 0;
}

static void test_broken_signing_answers(void **state)
{
    (void)state;
    for (int kind = GC_ODA_DDA; kind <= GC_ODA_CDA; kind += GC_ODA_CDA - GC_ODA_DDA) {
        struct gc_options options = {.scheme = GC_SCHEME_MIR, .seed = 14};
        struct cf_error_detail d = {0};
        gc_layout_default(&options.layout);
        struct gc_card *card = calloc(1, sizeof *card);
        char *text = malloc(TEXT_MAX);
        size_t len = 0;
        assert_int_equal(gc_card_build(&options, card, &d), 0);
        struct gc_oda_options oda = {.kind = (enum gc_oda_kind)kind,
                                     .ca = fx.ca,
                                     .issuer = fx.issuer,
                                     .icc = fx.icc,
                                     .ca_index = 0x92,
                                     .key_name = "card.icc.pem"};
        assert_int_equal(gc_card_add_oda(card, &oda, &d), 0);
        assert_int_equal(gc_card_render(card, NULL, text, TEXT_MAX, &len), 0);
        struct gc_live_card lc = {0};
        assert_int_equal(cf_transcript_parse(text, len, &lc.transcript, &d), 0);
        assert_int_equal(gc_live_load(text, len, fx.dir, &lc.live, &d), 0);
        for (int mode = 1; mode <= 5; mode++) {
            struct broken b = {&lc, mode};
            struct cf_emv_card emv;
            struct cf_card_proof *proof = malloc(sizeof *proof);
            char note[128];
            cf_transcript_reset(&lc.transcript);
            int rc = cf_emv_read_proof(broken_transceive, &b, NULL, &emv, proof, note, 128);
            if (rc)
                fail_msg("kind %d mode %d: identification failed %d", kind, mode, rc);
            assert_string_equal(emv.pan, card->pan);
            assert_int_equal(proof->kind, CF_PROOF_NONE);
            assert_true(note[0] != '\0');
            cf_emv_card_wipe(&emv);
            free(proof);
        }
        gc_live_free(lc.live);
        cf_transcript_cleanup(&lc.transcript);
        free(text);
        free(card);
    }
}

/* A card without ODA: kind none, aid and aip only. */
static void test_card_without_oda(void **state)
{
    (void)state;
    struct gc_options options = {.scheme = GC_SCHEME_MIR, .seed = 3};
    struct cf_error_detail d = {0};
    gc_layout_default(&options.layout);
    struct gc_card *card = calloc(1, sizeof *card);
    char *text = malloc(TEXT_MAX);
    size_t len = 0;
    assert_int_equal(gc_card_build(&options, card, &d), 0);
    assert_int_equal(gc_card_render(card, NULL, text, TEXT_MAX, &len), 0);
    struct gc_live_card lc = {0};
    assert_int_equal(cf_transcript_parse(text, len, &lc.transcript, &d), 0);
    struct cf_emv_card emv;
    struct cf_card_proof *proof = malloc(sizeof *proof);
    char note[128];
    assert_int_equal(cf_emv_read_proof(gc_live_transceive, &lc, NULL, &emv, proof, note, 128), 0);
    assert_int_equal(proof->kind, CF_PROOF_NONE);
    assert_int_equal(proof->aid.len, 7);
    assert_int_equal(proof->aip.len, 2);
    assert_int_equal(proof->static_data.len, 0);
    assert_string_equal(note, "the card offers no offline data authentication");
    cf_emv_card_wipe(&emv);
    cf_transcript_cleanup(&lc.transcript);
    free(proof);
    free(text);
    free(card);
}

/* The static data helpers: masking finds the 5A inside templates and leaves the rest;
 * unmasking puts the same bytes back; the PAN in track data is seen. */
static void test_static_data_mask(void **state)
{
    (void)state;
    uint8_t data[] = {0x70, 0x0E, 0x5A, 0x08, 0x22, 0x00, 0x12, 0x34, 0x56, 0x78, 0x90,
                      0x19, 0x5F, 0x24, 0x01, 0x30, 0x5A, 0x02, 0x41, 0x11, 0x19, 0x80};
    uint8_t orig[sizeof data];
    memcpy(orig, data, sizeof data);
    assert_true(cf_static_data_holds_pan(data, sizeof data, "2200123456789019"));
    assert_int_equal(cf_static_data_mask_pan(data, sizeof data), 1); /* 5A of 2 bytes: no PAN */
    for (int i = 4; i < 12; i++)
        assert_int_equal(data[i], 0xFF);
    assert_false(cf_static_data_holds_pan(data, sizeof data, "2200123456789019"));
    assert_int_equal(data[12], 0x5F);
    assert_int_equal(cf_static_data_unmask_pan(data, sizeof data, "2200123456789019"), 1);
    assert_memory_equal(data, orig, sizeof data);
    /* A PAN longer than a masked 5A holds is refused. */
    cf_static_data_mask_pan(data, sizeof data);
    assert_int_equal(cf_static_data_unmask_pan(data, sizeof data, "22001234567890123"),
                     CF_EMALFORM);
    /* Track 2 (57) holds the PAN: masking 5A does not hide it. */
    uint8_t track[] = {0x57, 0x0A, 0x22, 0x00, 0x12, 0x34, 0x56, 0x78, 0x90, 0x19, 0xD3, 0x01};
    assert_true(cf_static_data_holds_pan(track, sizeof track, "2200123456789019"));
    assert_int_equal(cf_static_data_unmask_pan(track, sizeof track, "12"), CF_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_data_mask),
        cmocka_unit_test(test_dda_mir),
        cmocka_unit_test(test_dda_format1_long_lengths),
        cmocka_unit_test(test_fdda_visa),
        cmocka_unit_test(test_cda_mastercard),
        cmocka_unit_test(test_cda_without_pdol),
        cmocka_unit_test(test_sda),
        cmocka_unit_test(test_negative_cards),
        cmocka_unit_test(test_replayed_sdad),
        cmocka_unit_test(test_recordings_never_dynamic),
        cmocka_unit_test(test_card_without_oda),
        cmocka_unit_test(test_broken_signing_answers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
