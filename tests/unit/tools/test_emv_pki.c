/* Unit tests for EMV offline data authentication: the issuing side (tools/emv-pki) against
 * the verifying side (firmware-shared cf/oda.h). Round trips for every kind (DDA, fDDA,
 * CDA dynamic; SDA and a card without ODA static), each negative card with its specific
 * reason, tampering with each signed piece, the CA key line parser, and that the PAN
 * comes back only in the caller's result. Keys are made once per run (exponent 3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cf/codec.h"
#include "cf/error.h"
#include "cf/oda.h"
#include "emv_pki.h"

static const uint8_t challenge[4] = {0xC4, 0x11, 0x0E, 0x57};
static const struct cf_oda_date today = {2026, 12};

struct fixture {
    EVP_PKEY *ca, *issuer, *icc;
    struct cf_oda_ca_key ca_key;
    struct pki_card card;
    struct pki_proof proof;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof f);
    if (pki_key_generate(1408, &f.ca) || pki_key_generate(1152, &f.issuer) ||
        pki_key_generate(1024, &f.icc))
        return -1;
    char line[PKI_CA_LINE_MAX];
    static const uint8_t rid[5] = {0xA0, 0x00, 0x00, 0x06, 0x58};
    if (pki_ca_line(f.ca, rid, 0x92, line, sizeof line) ||
        cf_oda_ca_key_parse(line, strlen(line), &f.ca_key, NULL) != 1)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY_free(f->ca);
    EVP_PKEY_free(f->issuer);
    EVP_PKEY_free(f->icc);
    return 0;
}

/* A fresh good card before every test. */
static int reset(void **state)
{
    struct fixture *f = *state;
    memset(&f->card, 0, sizeof f->card);
    f->card.ca = f->ca;
    f->card.issuer = f->issuer;
    f->card.icc = f->icc;
    memcpy(f->card.rid, f->ca_key.rid, 5);
    f->card.ca_index = 0x92;
    memcpy(f->card.aid, "\xA0\x00\x00\x06\x58\x10\x10", 7);
    f->card.aid_len = 7;
    snprintf(f->card.pan, sizeof f->card.pan, "%s", "2200123456789019");
    snprintf(f->card.expiry, sizeof f->card.expiry, "%s", "1230");
    return 0;
}

static enum cf_oda_reason verify_with(struct fixture *f, const uint8_t un[4],
                                      struct cf_oda_result *result)
{
    struct cf_oda_proof view;
    pki_proof_view(&f->proof, &view);
    assert_int_equal(cf_oda_verify(&view, &f->ca_key, 1, un, today, result), 0);
    return result->reason;
}

static enum cf_oda_reason prove(struct fixture *f, enum cf_oda_kind kind,
                                struct cf_oda_result *result)
{
    assert_int_equal(pki_card_proof(&f->card, kind, challenge, 7, &f->proof), 0);
    return verify_with(f, challenge, result);
}

/* ==== Round trips ==== */

static void check_dynamic(void **state, enum cf_oda_kind kind)
{
    struct fixture *f = *state;
    struct cf_oda_result r;
    assert_int_equal(prove(f, kind, &r), CF_ODA_OK);
    assert_int_equal(r.level, CF_ODA_LEVEL_DYNAMIC);
    assert_string_equal(r.pan, "2200123456789019");
    assert_true(r.has_sdad_digest);
    /* the remainders are used: the keys are longer than the certificates' room */
    assert_int_equal(f->proof.issuer_rem.len, 144 - (176 - 36));
    assert_int_equal(f->proof.icc_rem.len, 128 - (144 - 42));
    cf_oda_result_wipe(&r);
    assert_string_equal(r.pan, "");
}

static void test_dda(void **state)
{
    check_dynamic(state, CF_ODA_KIND_DDA);
}
static void test_fdda(void **state)
{
    check_dynamic(state, CF_ODA_KIND_FDDA);
}
static void test_cda(void **state)
{
    check_dynamic(state, CF_ODA_KIND_CDA);
}

static void test_sda_is_static(void **state)
{
    struct fixture *f = *state;
    struct cf_oda_result r;
    assert_int_equal(prove(f, CF_ODA_KIND_SDA, &r), CF_ODA_OK);
    assert_int_equal(r.level, CF_ODA_LEVEL_STATIC);
    assert_string_equal(r.pan, "2200123456789019");
    assert_false(r.has_sdad_digest);
    /* a changed byte of the static data breaks the SSAD */
    f->proof.static_data[f->proof.static_len - 1] ^= 1;
    assert_int_equal(verify_with(f, challenge, &r), CF_ODA_BAD_SIGNATURE);
}

static void test_no_oda_is_static(void **state)
{
    struct fixture *f = *state;
    struct cf_oda_result r;
    assert_int_equal(prove(f, CF_ODA_KIND_NONE, &r), CF_ODA_OK);
    assert_int_equal(r.level, CF_ODA_LEVEL_STATIC);
    assert_string_equal(r.pan, "");
}

/* A 19-digit PAN (odd length: F padding in 5A) round-trips too. */
static void test_long_pan(void **state)
{
    struct fixture *f = *state;
    struct cf_oda_result r;
    snprintf(f->card.pan, sizeof f->card.pan, "%s", "2200123456789012345");
    assert_int_equal(prove(f, CF_ODA_KIND_FDDA, &r), CF_ODA_OK);
    assert_string_equal(r.pan, "2200123456789012345");
}

/* A proof signed again for another challenge (the card's next tap) verifies for it. */
static void test_resign(void **state)
{
    struct fixture *f = *state;
    struct cf_oda_result r;
    static const uint8_t next[4] = {1, 2, 3, 4};
    assert_int_equal(prove(f, CF_ODA_KIND_CDA, &r), CF_ODA_OK);
    assert_int_equal(pki_proof_resign(&f->card, next, 8, &f->proof), 0);
    assert_int_equal(verify_with(f, next, &r), CF_ODA_OK);
    assert_int_equal(verify_with(f, challenge, &r), CF_ODA_CHALLENGE_MISMATCH);
}

/* ==== Negative cards: each its reason ==== */

static void test_issuer_expired(void **state)
{
    struct fixture *f = *state;
    struct cf_oda_result r;
    f->card.faults.issuer_expired = true;
    assert_int_equal(prove(f, CF_ODA_KIND_DDA, &r), CF_ODA_EXPIRED);
    assert_int_equal(r.level, CF_ODA_LEVEL_NONE);
    f->card.faults.issuer_expired = false;
    f->card.faults.icc_expired = true;
    assert_int_equal(prove(f, CF_ODA_KIND_CDA, &r), CF_ODA_EXPIRED);
    /* SDA with an expired issuer certificate */
    f->card.faults.icc_expired = false;
    f->card.faults.issuer_expired = true;
    assert_int_equal(prove(f, CF_ODA_KIND_SDA, &r), CF_ODA_EXPIRED);
}

/* Valid through the end of the expiry month, not a month more (mutant oda.expiry-month). */
static void test_expiry_month_edge(void **state)
{
    struct fixture *f = *state;
    struct cf_oda_result r;
    snprintf(f->card.expiry, sizeof f->card.expiry, "%s", "1226");
    assert_int_equal(prove(f, CF_ODA_KIND_DDA, &r), CF_ODA_OK);
    snprintf(f->card.expiry, sizeof f->card.expiry, "%s", "1126");
    assert_int_equal(prove(f, CF_ODA_KIND_DDA, &r), CF_ODA_EXPIRED);
}

/* mutant oda.issuer-id-unchecked */
static void test_pan_mismatch(void **state)
{
    struct fixture *f = *state;
    struct cf_oda_result r;
    f->card.faults.pan_mismatch = true;
    assert_int_equal(prove(f, CF_ODA_KIND_FDDA, &r), CF_ODA_PAN_MISMATCH);
    assert_int_equal(prove(f, CF_ODA_KIND_SDA, &r), CF_ODA_PAN_MISMATCH);
}

/* The 5A in the static data must be the certified PAN: the ICC certificate hashes the
 * static data, so swap in a certificate issued over other static data to get past it. */
static void test_static_pan_differs(void **state)
{
    struct fixture *f = *state;
    struct cf_oda_result r;
    assert_int_equal(pki_card_proof(&f->card, CF_ODA_KIND_DDA, challenge, 1, &f->proof), 0);
    f->proof.static_data[9] ^= 0x01; /* last PAN digit: 9 -> 8 */
    struct pki_certificate cert;
    assert_int_equal(pki_issue_icc(f->issuer, f->icc, "2200123456789019", "1230",
                                   f->proof.static_data, f->proof.static_len, &cert),
                     0);
    f->proof.icc_cert = cert.cert;
    assert_int_equal(verify_with(f, challenge, &r), CF_ODA_PAN_MISMATCH);
}

static void test_wrong_ca_index(void **state)
{
    struct fixture *f = *state;
    struct cf_oda_result r;
    f->card.faults.wrong_ca_index = true;
    assert_int_equal(prove(f, CF_ODA_KIND_CDA, &r), CF_ODA_UNKNOWN_CA_KEY);
    assert_string_equal(r.pan, "");
    /* and another RID with the right index */
    f->card.faults.wrong_ca_index = false;
    f->card.aid[4] = 0x59;
    assert_int_equal(prove(f, CF_ODA_KIND_CDA, &r), CF_ODA_UNKNOWN_CA_KEY);
}

static void test_ignore_challenge(void **state)
{
    struct fixture *f = *state;
    struct cf_oda_result r;
    f->card.faults.ignore_challenge = true;
    assert_int_equal(prove(f, CF_ODA_KIND_DDA, &r), CF_ODA_BAD_SIGNATURE);
    assert_int_equal(prove(f, CF_ODA_KIND_FDDA, &r), CF_ODA_BAD_SIGNATURE);
    assert_int_equal(prove(f, CF_ODA_KIND_CDA, &r), CF_ODA_BAD_SIGNATURE);
}

/* A good proof for one challenge offered for another event (mutant oda.challenge-unchecked). */
static void test_challenge_mismatch(void **state)
{
    struct fixture *f = *state;
    struct cf_oda_result r;
    static const uint8_t other[4] = {0xC4, 0x11, 0x0E, 0x58};
    assert_int_equal(pki_card_proof(&f->card, CF_ODA_KIND_FDDA, challenge, 1, &f->proof), 0);
    assert_int_equal(verify_with(f, other, &r), CF_ODA_CHALLENGE_MISMATCH);
    /* rewriting the UN in terminal_data to the new challenge breaks the signature */
    memcpy(f->proof.terminal_data.data, other, 4);
    assert_int_equal(verify_with(f, other, &r), CF_ODA_BAD_SIGNATURE);
    /* DDA: the UN is found through the DDOL, wherever it sits */
    assert_int_equal(pki_card_proof(&f->card, CF_ODA_KIND_DDA, challenge, 1, &f->proof), 0);
    assert_int_equal(verify_with(f, other, &r), CF_ODA_CHALLENGE_MISMATCH);
}

/* mutant oda.certificate-hash-skipped */
static void test_corrupt_certificates(void **state)
{
    struct fixture *f = *state;
    struct cf_oda_result r;
    f->card.faults.corrupt_issuer_cert = true;
    assert_int_equal(prove(f, CF_ODA_KIND_DDA, &r), CF_ODA_BAD_ISSUER_CERTIFICATE);
    f->card.faults.corrupt_issuer_cert = false;
    f->card.faults.corrupt_icc_cert = true;
    assert_int_equal(prove(f, CF_ODA_KIND_DDA, &r), CF_ODA_BAD_ICC_CERTIFICATE);
    /* the ICC certificate hashes the static data: changing it breaks the certificate */
    f->card.faults.corrupt_icc_cert = false;
    assert_int_equal(pki_card_proof(&f->card, CF_ODA_KIND_CDA, challenge, 1, &f->proof), 0);
    f->proof.static_data[f->proof.static_len - 1] ^= 1;
    assert_int_equal(verify_with(f, challenge, &r), CF_ODA_BAD_ICC_CERTIFICATE);
    /* a changed remainder or exponent breaks the certificate that hashes it */
    assert_int_equal(pki_card_proof(&f->card, CF_ODA_KIND_CDA, challenge, 1, &f->proof), 0);
    f->proof.issuer_rem.data[0] ^= 1;
    assert_int_equal(verify_with(f, challenge, &r), CF_ODA_BAD_ISSUER_CERTIFICATE);
    f->proof.issuer_rem.data[0] ^= 1;
    f->proof.icc_rem.data[0] ^= 1;
    assert_int_equal(verify_with(f, challenge, &r), CF_ODA_BAD_ICC_CERTIFICATE);
}

/* Certificates signed by the wrong key: an issuer certificate from another CA key with the
 * same index, an ICC certificate from another issuer. */
static void test_foreign_signers(void **state)
{
    struct fixture *f = *state;
    struct cf_oda_result r;
    EVP_PKEY *other = NULL;
    assert_int_equal(pki_key_generate(1408, &other), 0);
    f->card.ca = other;
    assert_int_equal(prove(f, CF_ODA_KIND_DDA, &r), CF_ODA_BAD_ISSUER_CERTIFICATE);
    f->card.ca = f->ca;
    f->card.icc = f->icc;
    /* an SDAD by a key the ICC certificate does not certify */
    EVP_PKEY *other_icc = NULL;
    assert_int_equal(pki_key_generate(1024, &other_icc), 0);
    assert_int_equal(pki_card_proof(&f->card, CF_ODA_KIND_DDA, challenge, 1, &f->proof), 0);
    struct pki_proof *good = malloc(sizeof *good);
    assert_non_null(good);
    *good = f->proof;
    f->card.icc = other_icc;
    assert_int_equal(pki_card_proof(&f->card, CF_ODA_KIND_DDA, challenge, 1, &f->proof), 0);
    good->sdad = f->proof.sdad;
    f->proof = *good;
    free(good);
    assert_int_equal(verify_with(f, challenge, &r), CF_ODA_BAD_SIGNATURE);
    EVP_PKEY_free(other);
    EVP_PKEY_free(other_icc);
}

/* CDA: the transaction data hash code must be SHA-1(tx_data) (mutant oda.cda-hash-code). */
static void test_cda_tx_data(void **state)
{
    struct fixture *f = *state;
    struct cf_oda_result r;
    assert_int_equal(pki_card_proof(&f->card, CF_ODA_KIND_CDA, challenge, 1, &f->proof), 0);
    f->proof.tx_data.data[0] ^= 1;
    assert_int_equal(verify_with(f, challenge, &r), CF_ODA_BAD_SIGNATURE);
}

static void test_malformed(void **state)
{
    struct fixture *f = *state;
    struct cf_oda_result r;
    assert_int_equal(pki_card_proof(&f->card, CF_ODA_KIND_DDA, challenge, 1, &f->proof), 0);
    f->proof.ddol.len = 0;
    assert_int_equal(verify_with(f, challenge, &r), CF_ODA_MALFORMED);
    assert_int_equal(pki_card_proof(&f->card, CF_ODA_KIND_DDA, challenge, 1, &f->proof), 0);
    memcpy(f->proof.ddol.data, "\x9F\x36\x02", 3); /* no 9F37 in the DDOL */
    assert_int_equal(verify_with(f, challenge, &r), CF_ODA_MALFORMED);
    assert_int_equal(pki_card_proof(&f->card, CF_ODA_KIND_FDDA, challenge, 1, &f->proof), 0);
    f->proof.sdad.len--; /* not the key's length */
    assert_int_equal(verify_with(f, challenge, &r), CF_ODA_BAD_SIGNATURE);
    f->proof.kind = (enum cf_oda_kind)9;
    assert_int_equal(verify_with(f, challenge, &r), CF_ODA_MALFORMED);
    assert_int_equal(pki_card_proof(&f->card, CF_ODA_KIND_SDA, challenge, 1, &f->proof), 0);
    f->proof.ssad.len = 0;
    assert_int_equal(verify_with(f, challenge, &r), CF_ODA_MALFORMED);
}

/* ==== CA key lines ==== */

static void test_ca_lines(void **state)
{
    (void)state;
    struct cf_oda_ca_key key;
    struct cf_error_detail detail;
    char mod[2 * 128 + 1];
    memset(mod, 'C', 256);
    mod[256] = '\0';
    char line[600];
    snprintf(line, sizeof line, "A000000003 92 %s 03\r\n", mod);
    assert_int_equal(cf_oda_ca_key_parse(line, strlen(line), &key, &detail), 1);
    assert_int_equal(key.index, 0x92);
    assert_int_equal(key.modulus_len, 128);
    snprintf(line, sizeof line, "\ta000000003\t92 %s 010001", mod);
    assert_int_equal(cf_oda_ca_key_parse(line, strlen(line), &key, &detail), 1);
    assert_int_equal(cf_oda_ca_key_parse("   # comment", 12, &key, &detail), 0);
    assert_int_equal(cf_oda_ca_key_parse("", 0, &key, &detail), 0);
    assert_int_equal(cf_oda_ca_key_parse("A0000000 92 CC 03", 17, &key, &detail), CF_EMALFORM);
    assert_string_equal(detail.field, "rid");
    snprintf(line, sizeof line, "A000000003 92 %s 05", mod);
    assert_int_equal(cf_oda_ca_key_parse(line, strlen(line), &key, &detail), CF_EMALFORM);
    assert_string_equal(detail.field, "exponent");
    snprintf(line, sizeof line, "A000000003 9 %s 03", mod);
    assert_int_equal(cf_oda_ca_key_parse(line, strlen(line), &key, &detail), CF_EMALFORM);
    assert_string_equal(detail.field, "index");
    snprintf(line, sizeof line, "A000000003 92 CCCC 03");
    assert_int_equal(cf_oda_ca_key_parse(line, strlen(line), &key, &detail), CF_EMALFORM);
    assert_string_equal(detail.field, "modulus");
    snprintf(line, sizeof line, "A000000003 92 %s 03 extra", mod);
    assert_int_equal(cf_oda_ca_key_parse(line, strlen(line), &key, &detail), CF_EMALFORM);
}

static void test_names(void **state)
{
    (void)state;
    enum cf_oda_level level;
    assert_string_equal(cf_oda_reason_name(CF_ODA_REUSED_SIGNATURE), "reused_signature");
    assert_string_equal(cf_oda_reason_name(CF_ODA_BAD_ISSUER_CERTIFICATE),
                        "bad_issuer_certificate");
    assert_int_equal(cf_oda_level_parse("dynamic", &level), 0);
    assert_int_equal(level, CF_ODA_LEVEL_DYNAMIC);
    assert_int_equal(cf_oda_level_parse("Dynamic", &level), CF_EINVAL);
    assert_true(CF_ODA_LEVEL_DYNAMIC > CF_ODA_LEVEL_STATIC);
    assert_true(CF_ODA_LEVEL_STATIC > CF_ODA_LEVEL_UID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_dda, reset),
        cmocka_unit_test_setup(test_fdda, reset),
        cmocka_unit_test_setup(test_cda, reset),
        cmocka_unit_test_setup(test_sda_is_static, reset),
        cmocka_unit_test_setup(test_no_oda_is_static, reset),
        cmocka_unit_test_setup(test_long_pan, reset),
        cmocka_unit_test_setup(test_resign, reset),
        cmocka_unit_test_setup(test_issuer_expired, reset),
        cmocka_unit_test_setup(test_expiry_month_edge, reset),
        cmocka_unit_test_setup(test_pan_mismatch, reset),
        cmocka_unit_test_setup(test_static_pan_differs, reset),
        cmocka_unit_test_setup(test_wrong_ca_index, reset),
        cmocka_unit_test_setup(test_ignore_challenge, reset),
        cmocka_unit_test_setup(test_challenge_mismatch, reset),
        cmocka_unit_test_setup(test_corrupt_certificates, reset),
        cmocka_unit_test_setup(test_foreign_signers, reset),
        cmocka_unit_test_setup(test_cda_tx_data, reset),
        cmocka_unit_test_setup(test_malformed, reset),
        cmocka_unit_test(test_ca_lines),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
