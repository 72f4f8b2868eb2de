/* EMV offline data authentication, verifying side (see cf/oda.h): CA key lines, raw RSA
 * recovery, the Book 2 certificate formats 02 (issuer) and 04 (ICC), signed static data
 * (03) and signed dynamic data (05) for DDA, fDDA and CDA. Every recovered block is wiped
 * before return; only the PAN leaves, in the caller's result. */
#include "cf/oda.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "cf/codec.h"
#include "cf/event.h"
#include "cf/tlv.h"

#define ODA_HEADER 0x6A
#define ODA_TRAILER 0xBC
#define ODA_PAD 0xBB
#define ODA_HASH_SHA1 0x01
#define ODA_PK_RSA 0x01
#define ODA_FORMAT_ISSUER 0x02
#define ODA_FORMAT_SSAD 0x03
#define ODA_FORMAT_ICC 0x04
#define ODA_FORMAT_SDAD 0x05
#define ODA_SHA1_LEN 20
#define ODA_STATIC_DATA_MAX 2048
#define ODA_FIELD_MAX 1024
#define ODA_TAG_PAN 0x5A
#define ODA_TAG_UN 0x9F37

/* ==== Names ==== */

const char *cf_oda_level_name(enum cf_oda_level level)
{
    switch (level) {
    case CF_ODA_LEVEL_DYNAMIC:
        return "dynamic";
    case CF_ODA_LEVEL_STATIC:
        return "static";
    case CF_ODA_LEVEL_UID:
        return "uid";
    case CF_ODA_LEVEL_NONE:
        break;
    }
    return "none";
}

int cf_oda_level_parse(const char *name, enum cf_oda_level *out)
{
    static const enum cf_oda_level all[] = {CF_ODA_LEVEL_NONE, CF_ODA_LEVEL_UID,
                                            CF_ODA_LEVEL_STATIC, CF_ODA_LEVEL_DYNAMIC};
    for (size_t i = 0; name && i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(name, cf_oda_level_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return CF_EINVAL;
}

const char *cf_oda_reason_name(enum cf_oda_reason reason)
{
    switch (reason) {
    case CF_ODA_OK:
        return "";
    case CF_ODA_UNKNOWN_CA_KEY:
        return "unknown_ca_key";
    case CF_ODA_BAD_ISSUER_CERTIFICATE:
        return "bad_issuer_certificate";
    case CF_ODA_BAD_ICC_CERTIFICATE:
        return "bad_icc_certificate";
    case CF_ODA_EXPIRED:
        return "expired";
    case CF_ODA_PAN_MISMATCH:
        return "pan_mismatch";
    case CF_ODA_TOKEN_MISMATCH:
        return "token_mismatch";
    case CF_ODA_BAD_SIGNATURE:
        return "bad_signature";
    case CF_ODA_CHALLENGE_MISMATCH:
        return "challenge_mismatch";
    case CF_ODA_REUSED_SIGNATURE:
        return "reused_signature";
    case CF_ODA_MALFORMED:
        break;
    }
    return "malformed";
}

const char *cf_oda_kind_name(enum cf_oda_kind kind)
{
    switch (kind) {
    case CF_ODA_KIND_NONE:
        return "none";
    case CF_ODA_KIND_SDA:
        return "sda";
    case CF_ODA_KIND_DDA:
        return "dda";
    case CF_ODA_KIND_FDDA:
        return "fdda";
    case CF_ODA_KIND_CDA:
        return "cda";
    }
    return "";
}

/* ==== CA key lines ==== */

static size_t skip_blanks(const char *line, size_t len, size_t at)
{
    while (at < len && (line[at] == ' ' || line[at] == '\t'))
        at++;
    return at;
}

/* Next blank-separated word: [*start, *end). */
static void next_word(const char *line, size_t len, size_t *at, size_t *start, size_t *end)
{
    *start = skip_blanks(line, len, *at);
    size_t i = *start;
    while (i < len && line[i] != ' ' && line[i] != '\t')
        i++;
    *end = i;
    *at = i;
}

static int hex_word(const char *line, size_t start, size_t end, uint8_t *out, size_t cap,
                    size_t *out_len)
{
    if (end == start)
        return CF_EMALFORM;
    return cf_hex_decode(line + start, end - start, out, cap, out_len) ? CF_EMALFORM : 0;
}

int cf_oda_ca_key_parse(const char *line, size_t len, struct cf_oda_ca_key *out,
                        struct cf_error_detail *detail)
{
    if (!line || !out)
        return CF_EINVAL;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    size_t at = skip_blanks(line, len, 0);
    if (at == len || line[at] == '#')
        return 0;
    memset(out, 0, sizeof *out);
    size_t s, e, n = 0;
    uint8_t index[2];
    next_word(line, len, &at, &s, &e);
    if (hex_word(line, s, e, out->rid, sizeof out->rid, &n) || n != CF_ODA_RID_LEN)
        return cf_error_set(detail, CF_EMALFORM, "rid", "RID must be 5 bytes in hex");
    next_word(line, len, &at, &s, &e);
    if (hex_word(line, s, e, index, sizeof index, &n) || n != 1)
        return cf_error_set(detail, CF_EMALFORM, "index", "CA key index must be 1 byte in hex");
    out->index = index[0];
    next_word(line, len, &at, &s, &e);
    if (hex_word(line, s, e, out->modulus, sizeof out->modulus, &out->modulus_len) ||
        out->modulus_len < CF_ODA_MODULUS_MIN || out->modulus[0] == 0)
        return cf_error_set(detail, CF_EMALFORM, "modulus",
                            "modulus must be %d..%d bytes in hex, top byte non-zero",
                            CF_ODA_MODULUS_MIN, CF_ODA_MODULUS_MAX);
    next_word(line, len, &at, &s, &e);
    bool exp_ok =
        hex_word(line, s, e, out->exponent, sizeof out->exponent, &out->exponent_len) == 0 &&
        ((out->exponent_len == 1 && out->exponent[0] == 3) ||
         (out->exponent_len == 3 && out->exponent[0] == 1 && out->exponent[1] == 0 &&
          out->exponent[2] == 1));
    if (!exp_ok)
        return cf_error_set(detail, CF_EMALFORM, "exponent", "exponent must be 03 or 010001");
    if (skip_blanks(line, len, at) != len)
        return cf_error_set(detail, CF_EMALFORM, "", "more than four fields on the line");
    return 1;
}

const struct cf_oda_ca_key *cf_oda_ca_find(const struct cf_oda_ca_key *keys, size_t count,
                                           const uint8_t rid[CF_ODA_RID_LEN], uint8_t index)
{
    for (size_t i = 0; keys && i < count; i++)
        if (keys[i].index == index && memcmp(keys[i].rid, rid, CF_ODA_RID_LEN) == 0)
            return &keys[i];
    return NULL;
}

/* ==== RSA recovery and hashing ==== */

int cf_oda_rsa_recover(const uint8_t *modulus, size_t modulus_len, const uint8_t *exponent,
                       size_t exponent_len, const uint8_t *signature, size_t signature_len,
                       uint8_t *out)
{
    if (!modulus || !exponent || !signature || !out || modulus_len == 0 || exponent_len == 0)
        return CF_EINVAL;
    if (signature_len != modulus_len)
        return CF_EMALFORM;
    int rc = CF_ECRYPTO;
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *n = BN_bin2bn(modulus, (int)modulus_len, NULL);
    BIGNUM *e = BN_bin2bn(exponent, (int)exponent_len, NULL);
    BIGNUM *s = BN_bin2bn(signature, (int)signature_len, NULL);
    BIGNUM *m = BN_new();
    if (!ctx || !n || !e || !s || !m)
        goto out;
    if (BN_is_zero(n) || BN_cmp(s, n) >= 0) {
        rc = CF_EMALFORM;
        goto out;
    }
    if (BN_mod_exp(m, s, e, n, ctx) != 1 || BN_bn2binpad(m, out, (int)modulus_len) < 0)
        goto out;
    rc = 0;
out:
    BN_clear_free(m);
    BN_free(s);
    BN_free(e);
    BN_free(n);
    BN_CTX_free(ctx);
    return rc;
}

/* SHA-1 over up to four pieces (a piece with len 0 is skipped). */
static int sha1_pieces(const struct cf_oda_bytes *pieces, size_t count, uint8_t out[ODA_SHA1_LEN])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = CF_ECRYPTO;
    if (!md || EVP_DigestInit_ex(md, EVP_sha1(), NULL) != 1)
        goto out;
    for (size_t i = 0; i < count; i++)
        if (pieces[i].len && EVP_DigestUpdate(md, pieces[i].data, pieces[i].len) != 1)
            goto out;
    if (EVP_DigestFinal_ex(md, out, NULL) != 1)
        goto out;
    rc = 0;
out:
    EVP_MD_CTX_free(md);
    return rc;
}

/* ==== Certificates ==== */

static int pan_from_bcd(const uint8_t *bcd, size_t len, char out[CF_ODA_PAN_MAX + 1]);

/* A recovered public key: modulus (leftmost digits ‖ remainder) and exponent. */
struct oda_key {
    uint8_t modulus[CF_ODA_MODULUS_MAX];
    size_t modulus_len;
    uint8_t exponent[CF_ODA_EXPONENT_MAX];
    size_t exponent_len;
};

/* The parts of a recovered certificate (formats 02 and 04) we check. */
struct oda_cert {
    uint8_t id[10]; /* issuer identifier (4 bytes) or application PAN (10 bytes) */
    uint8_t expiry[2]; /* MMYY in BCD */
};

/* Shared layout of formats 02 and 04 (Book 2 tables 6 and 14): header, format, id
 * (id_len), expiry 2, serial 3, hash algorithm, key algorithm, key length, exponent length,
 * key or leftmost digits, hash 20, trailer. The hash covers format .. key digits, the
 * remainder, the exponent and (format 04) the static data. Returns 1 when the certificate
 * verifies (key and fields filled), 0 when it does not, or a negative code. */
static int recover_certificate(const struct oda_key *signer, const struct cf_oda_bytes *cert,
                               const struct cf_oda_bytes *rem, const struct cf_oda_bytes *exp,
                               const struct cf_oda_bytes *static_data, uint8_t format,
                               size_t id_len, struct oda_key *key, struct oda_cert *fields)
{
    uint8_t block[CF_ODA_MODULUS_MAX];
    uint8_t hash[ODA_SHA1_LEN];
    uint8_t copy[CF_PROOF_STATIC_MAX];
    char pan[CF_ODA_PAN_MAX + 1] = "";
    size_t n = signer->modulus_len;
    size_t fixed = 2 + id_len + 2 + 3 + 4; /* header .. exponent length */
    size_t digits_len = n - fixed - ODA_SHA1_LEN - 1;
    int rc = cf_oda_rsa_recover(signer->modulus, signer->modulus_len, signer->exponent,
                                signer->exponent_len, cert->data, cert->len, block);
    if (rc == CF_EMALFORM) {
        rc = 0;
        goto out;
    }
    if (rc)
        goto out;
    if (block[0] != ODA_HEADER || block[n - 1] != ODA_TRAILER || block[1] != format ||
        block[2 + id_len + 5] != ODA_HASH_SHA1 || block[2 + id_len + 6] != ODA_PK_RSA)
        goto out;
    /* The terminal masks the PAN (5A) in the static data it sends (api/PROTOCOL.md 4.5):
     * the certified PAN goes back in before the hash, so the hash decides whether the
     * static data is the card's (a masked 5A too short for the PAN does not verify). */
    struct cf_oda_bytes unmasked = static_data ? *static_data : (struct cf_oda_bytes){NULL, 0};
    if (format == ODA_FORMAT_ICC && unmasked.len) {
        bool ok = unmasked.len <= sizeof copy && pan_from_bcd(block + 2, id_len, pan) >= 0;
        if (ok) {
            memcpy(copy, unmasked.data, unmasked.len);
            ok = cf_static_data_unmask_pan(copy, unmasked.len, pan) >= 0;
        }
        if (!ok) {
            rc = 0;
            goto out;
        }
        unmasked.data = copy;
    }
    struct cf_oda_bytes pieces[] = {{block + 1, n - 1 - ODA_SHA1_LEN - 1}, *rem, *exp, unmasked};
    rc = sha1_pieces(pieces, 4, hash);
    if (rc)
        goto out;
    if (CRYPTO_memcmp(hash, block + n - 1 - ODA_SHA1_LEN, ODA_SHA1_LEN) != 0)
        goto out;
    size_t key_len = block[2 + id_len + 7];
    size_t exp_len = block[2 + id_len + 8];
    const uint8_t *digits = block + fixed;
    /* The key is leftmost digits ‖ remainder; the remainder exists exactly when the key
     * is longer than the room for digits, and the unused room is BB padding. */
    if (key_len < CF_ODA_MODULUS_MIN || key_len > CF_ODA_MODULUS_MAX || exp_len != exp->len ||
        exp_len == 0 || exp_len > CF_ODA_EXPONENT_MAX)
        goto out;
    if (key_len <= digits_len) {
        if (rem->len != 0)
            goto out;
        for (size_t i = key_len; i < digits_len; i++)
            if (digits[i] != ODA_PAD)
                goto out;
        memcpy(key->modulus, digits, key_len);
    } else {
        if (rem->len != key_len - digits_len)
            goto out;
        memcpy(key->modulus, digits, digits_len);
        memcpy(key->modulus + digits_len, rem->data, rem->len);
    }
    key->modulus_len = key_len;
    memcpy(key->exponent, exp->data, exp_len);
    key->exponent_len = exp_len;
    memcpy(fields->id, block + 2, id_len);
    memcpy(fields->expiry, block + 2 + id_len, 2);
    rc = 1;
out:
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(copy, sizeof copy);
    OPENSSL_cleanse(pan, sizeof pan);
    return rc;
}

static int bcd_digit_value(uint8_t nibble)
{
    return nibble <= 9 ? nibble : -1;
}

/* MMYY (BCD) is still valid in date's month: certificates expire at the end of MM. EMV
 * years are two digits; 00..49 is 20YY, 50..99 19YY (Book 4). */
static bool expiry_ok(const uint8_t expiry[2], struct cf_oda_date date)
{
    int m1 = bcd_digit_value(expiry[0] >> 4), m2 = bcd_digit_value(expiry[0] & 0xF);
    int y1 = bcd_digit_value(expiry[1] >> 4), y2 = bcd_digit_value(expiry[1] & 0xF);
    if (m1 < 0 || m2 < 0 || y1 < 0 || y2 < 0)
        return false;
    int month = m1 * 10 + m2, yy = y1 * 10 + y2;
    if (month < 1 || month > 12)
        return false;
    int year = yy < 50 ? 2000 + yy : 1900 + yy;
    return year * 12 + month >= date.year * 12 + date.month;
}

/* PAN digits from BCD padded with F (the ICC certificate's 10 bytes, or a 5A value).
 * Returns the digit count, or -1 when the digits are not 12..19 BCD then only F. */
static int pan_from_bcd(const uint8_t *bcd, size_t len, char out[CF_ODA_PAN_MAX + 1])
{
    size_t digits = 0;
    bool ended = false;
    for (size_t i = 0; i < len * 2; i++) {
        uint8_t nib = (i % 2 == 0) ? bcd[i / 2] >> 4 : bcd[i / 2] & 0xF;
        if (nib == 0xF) {
            ended = true;
        } else if (nib > 9 || ended || digits >= CF_ODA_PAN_MAX) {
            out[0] = '\0';
            return -1;
        } else {
            out[digits++] = (char)('0' + nib);
        }
    }
    out[digits] = '\0';
    if (digits < 12) {
        OPENSSL_cleanse(out, CF_ODA_PAN_MAX + 1);
        return -1;
    }
    return (int)digits;
}

/* The issuer identifier (3..8 digits then F padding) is the PAN's leading digits. */
static bool issuer_id_matches(const uint8_t id[4], const char *pan)
{
    size_t digits = 0;
    bool ended = false;
    for (size_t i = 0; i < 8; i++) {
        uint8_t nib = (i % 2 == 0) ? id[i / 2] >> 4 : id[i / 2] & 0xF;
        if (nib == 0xF) {
            ended = true;
            continue;
        }
        if (nib > 9 || ended || pan[digits] != (char)('0' + nib))
            return false;
        digits++;
    }
    return digits >= 3;
}

/* ==== Signed data ==== */

/* Recover a format 03 / 05 block with the signer's key, check header, trailer, format,
 * hash algorithm and the hash over block[1 .. n-22] ‖ extra. Returns 1 verified, 0 not,
 * or a negative code. block is the caller's (wiped by it). */
static int recover_signed(const struct oda_key *signer, const struct cf_oda_bytes *signature,
                          uint8_t format, const struct cf_oda_bytes *extra, uint8_t *block)
{
    uint8_t hash[ODA_SHA1_LEN];
    size_t n = signer->modulus_len;
    int rc = cf_oda_rsa_recover(signer->modulus, signer->modulus_len, signer->exponent,
                                signer->exponent_len, signature->data, signature->len, block);
    if (rc == CF_EMALFORM)
        return 0;
    if (rc)
        return rc;
    if (n < 26 || block[0] != ODA_HEADER || block[n - 1] != ODA_TRAILER || block[1] != format ||
        block[2] != ODA_HASH_SHA1)
        return 0;
    struct cf_oda_bytes pieces[] = {{block + 1, n - 1 - ODA_SHA1_LEN - 1}, *extra};
    rc = sha1_pieces(pieces, 2, hash);
    if (rc)
        return rc;
    return CRYPTO_memcmp(hash, block + n - 1 - ODA_SHA1_LEN, ODA_SHA1_LEN) == 0;
}

struct un_search {
    size_t offset; /* offset of 9F37's value in the DOL-related data */
    size_t at;
    bool found;
};

static int find_un(void *ctx, uint32_t tag, size_t length)
{
    struct un_search *search = ctx;
    if (tag == ODA_TAG_UN && length == CF_ODA_CHALLENGE_LEN && !search->found) {
        search->offset = search->at;
        search->found = true;
    }
    search->at += length;
    return 0;
}

/* Where the terminal's unpredictable number sits in terminal_data; -1 if nowhere. */
static int challenge_offset(const struct cf_oda_proof *proof, size_t *offset)
{
    if (proof->kind != CF_ODA_KIND_DDA) {
        *offset = 0; /* fDDA: UN ‖ amount ‖ currency ‖ 9F69; CDA: UN */
        return proof->terminal_data.len >= CF_ODA_CHALLENGE_LEN ? 0 : -1;
    }
    struct un_search search = {0, 0, false};
    if (cf_dol_parse(proof->ddol.data, proof->ddol.len, find_un, &search) != 0 || !search.found ||
        search.at != proof->terminal_data.len)
        return -1;
    *offset = search.offset;
    return 0;
}

/* The ICC dynamic data of a format 05 block (Book 2 tables 17 and 22): its length byte
 * must fit, and for CDA it is dynamic number length ‖ number ‖ CID ‖ AC (8) ‖ transaction
 * data hash code (20), the hash code being SHA-1(tx_data). Returns 1 good, 0 not. */
static int dynamic_data_ok(const struct cf_oda_proof *proof, const uint8_t *block, size_t n)
{
    size_t ldd = block[3];
    if (ldd > n - 25)
        return 0;
    /* the BB padding between the dynamic data and the hash */
    for (size_t i = 4 + ldd; i < n - 1 - ODA_SHA1_LEN; i++)
        if (block[i] != ODA_PAD)
            return 0;
    const uint8_t *icc = block + 4;
    if (ldd < 1 || icc[0] < 2 || icc[0] > 8 || 1 + (size_t)icc[0] > ldd)
        return 0;
    if (proof->kind != CF_ODA_KIND_CDA)
        return 1;
    size_t at = 1 + (size_t)icc[0];
    if (ldd < at + 1 + 8 + ODA_SHA1_LEN)
        return 0;
    uint8_t hash[ODA_SHA1_LEN];
    struct cf_oda_bytes piece = proof->tx_data;
    if (sha1_pieces(&piece, 1, hash) != 0)
        return 0;
    return CRYPTO_memcmp(hash, icc + at + 1 + 8, ODA_SHA1_LEN) == 0;
}

/* ==== Verification ==== */

static bool field_ok(const struct cf_oda_bytes *b, size_t max)
{
    return b->len <= max && (b->len == 0 || b->data != NULL);
}

/* Shape checks that need no key: the kind's fields are present and within limits. */
static bool proof_well_formed(const struct cf_oda_proof *p)
{
    const struct cf_oda_bytes *all[] = {
        &p->aid,      &p->ca_index,      &p->issuer_cert, &p->issuer_exp, &p->issuer_rem,
        &p->icc_cert, &p->icc_exp,       &p->icc_rem,     &p->ssad,       &p->sdad,
        &p->ddol,     &p->terminal_data, &p->tx_data};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!field_ok(all[i], ODA_FIELD_MAX))
            return false;
    if (!field_ok(&p->static_data, ODA_STATIC_DATA_MAX) || p->aid.len < 5 || p->aid.len > 16)
        return false;
    if (p->kind == CF_ODA_KIND_NONE)
        return true;
    if (p->ca_index.len != 1 || p->issuer_cert.len == 0 || p->issuer_exp.len == 0)
        return false;
    if (p->kind == CF_ODA_KIND_SDA)
        return p->ssad.len > 0;
    if (p->icc_cert.len == 0 || p->icc_exp.len == 0 || p->sdad.len == 0)
        return false;
    if (p->kind == CF_ODA_KIND_DDA && p->ddol.len == 0)
        return false;
    if (p->kind == CF_ODA_KIND_CDA && p->tx_data.len == 0)
        return false;
    return p->kind == CF_ODA_KIND_DDA || p->kind == CF_ODA_KIND_FDDA || p->kind == CF_ODA_KIND_CDA;
}

/* A PAN (5A) in the static data must be the certified one (Book 2 6.4 step 6 for the ICC
 * certificate; for SDA it is where the PAN comes from). found: whether there is one. */
static int static_data_pan(const struct cf_oda_bytes *static_data, char pan[CF_ODA_PAN_MAX + 1],
                           bool *found)
{
    struct cf_tlv tlv;
    *found = false;
    pan[0] = '\0';
    if (static_data->len == 0)
        return 0;
    int rc = cf_tlv_find(static_data->data, static_data->len, ODA_TAG_PAN, &tlv);
    if (rc != 1)
        return 0;
    bool masked = true; /* the terminal's mask (all FF): the certified PAN was hashed */
    for (size_t i = 0; i < tlv.length; i++)
        masked = masked && tlv.value[i] == 0xFF;
    if (masked)
        return 0;
    *found = true;
    return pan_from_bcd(tlv.value, tlv.length, pan) < 0 ? -1 : 0;
}

/* Whether the static data's PAN object (5A) is the terminal's mask (all FF). */
static bool static_data_masked(const struct cf_oda_bytes *static_data)
{
    struct cf_tlv tlv;
    if (static_data->len == 0 ||
        cf_tlv_find(static_data->data, static_data->len, ODA_TAG_PAN, &tlv) != 1 || tlv.length == 0)
        return false;
    for (size_t i = 0; i < tlv.length; i++)
        if (tlv.value[i] != 0xFF)
            return false;
    return true;
}

struct oda_work {
    struct oda_key issuer;
    struct oda_key icc;
    struct oda_cert issuer_fields;
    struct oda_cert icc_fields;
    char static_pan[CF_ODA_PAN_MAX + 1];
    uint8_t block[CF_ODA_MODULUS_MAX];
};

static enum cf_oda_reason verify_sda(const struct cf_oda_proof *p, struct oda_work *w,
                                     struct cf_oda_date date, struct cf_oda_result *result, int *rc)
{
    bool found;
    if (static_data_masked(&p->static_data)) {
        /* The terminal masked the PAN and no ICC certificate holds it: the SSAD's hash
         * cannot be checked. SDA proves nothing about the event anyway (a recording
         * replays it), so it counts as a card that cannot sign: static, no PAN. */
        *rc = 0;
        result->level = CF_ODA_LEVEL_STATIC;
        return CF_ODA_OK;
    }
    *rc = recover_signed(&w->issuer, &p->ssad, ODA_FORMAT_SSAD, &p->static_data, w->block);
    if (*rc < 0)
        return CF_ODA_MALFORMED;
    if (*rc == 0)
        return CF_ODA_BAD_SIGNATURE;
    *rc = 0;
    if (static_data_pan(&p->static_data, result->pan, &found) != 0 || !found)
        return CF_ODA_MALFORMED;
    if (!issuer_id_matches(w->issuer_fields.id, result->pan))
        return CF_ODA_PAN_MISMATCH;
    if (!expiry_ok(w->issuer_fields.expiry, date))
        return CF_ODA_EXPIRED;
    result->level = CF_ODA_LEVEL_STATIC;
    return CF_ODA_OK;
}

static enum cf_oda_reason verify_dynamic(const struct cf_oda_proof *p, struct oda_work *w,
                                         const uint8_t challenge[CF_ODA_CHALLENGE_LEN],
                                         struct cf_oda_date date, struct cf_oda_result *result,
                                         int *rc)
{
    bool found;
    *rc = recover_certificate(&w->issuer, &p->icc_cert, &p->icc_rem, &p->icc_exp, &p->static_data,
                              ODA_FORMAT_ICC, 10, &w->icc, &w->icc_fields);
    if (*rc < 0)
        return CF_ODA_MALFORMED;
    if (*rc == 0 || w->icc.modulus_len > w->issuer.modulus_len)
        return CF_ODA_BAD_ICC_CERTIFICATE;
    *rc = 0;
    if (pan_from_bcd(w->icc_fields.id, 10, result->pan) < 0)
        return CF_ODA_BAD_ICC_CERTIFICATE;
    if (!issuer_id_matches(w->issuer_fields.id, result->pan))
        return CF_ODA_PAN_MISMATCH;
    if (static_data_pan(&p->static_data, w->static_pan, &found) != 0 ||
        (found && strcmp(w->static_pan, result->pan) != 0))
        return CF_ODA_PAN_MISMATCH;
    if (!expiry_ok(w->issuer_fields.expiry, date) || !expiry_ok(w->icc_fields.expiry, date))
        return CF_ODA_EXPIRED;
    size_t offset;
    if (challenge_offset(p, &offset) != 0)
        return CF_ODA_MALFORMED;
    if (CRYPTO_memcmp(p->terminal_data.data + offset, challenge, CF_ODA_CHALLENGE_LEN) != 0)
        return CF_ODA_CHALLENGE_MISMATCH;
    *rc = recover_signed(&w->icc, &p->sdad, ODA_FORMAT_SDAD, &p->terminal_data, w->block);
    if (*rc < 0)
        return CF_ODA_MALFORMED;
    if (*rc == 0 || !dynamic_data_ok(p, w->block, w->icc.modulus_len)) {
        *rc = 0;
        return CF_ODA_BAD_SIGNATURE;
    }
    *rc = 0;
    result->level = CF_ODA_LEVEL_DYNAMIC;
    return CF_ODA_OK;
}

static int sha256(const uint8_t *data, size_t len, uint8_t out[CF_ODA_SDAD_DIGEST_LEN])
{
    return EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : CF_ECRYPTO;
}

int cf_oda_verify(const struct cf_oda_proof *proof, const struct cf_oda_ca_key *keys, size_t count,
                  const uint8_t challenge[CF_ODA_CHALLENGE_LEN], struct cf_oda_date date,
                  struct cf_oda_result *result)
{
    if (!proof || !challenge || !result || (count && !keys))
        return CF_EINVAL;
    memset(result, 0, sizeof *result);
    result->reason = CF_ODA_MALFORMED;
    if (!proof_well_formed(proof))
        return 0;
    if (proof->kind == CF_ODA_KIND_NONE) {
        result->reason = CF_ODA_OK;
        result->level = CF_ODA_LEVEL_STATIC;
        return 0;
    }
    int rc = 0;
    struct oda_work *w = OPENSSL_zalloc(sizeof *w);
    if (!w)
        return CF_ENOMEM;
    if (proof->sdad.len) {
        rc = sha256(proof->sdad.data, proof->sdad.len, result->sdad_digest);
        if (rc)
            goto out;
        result->has_sdad_digest = true;
    }
    const struct cf_oda_ca_key *ca =
        cf_oda_ca_find(keys, count, proof->aid.data, proof->ca_index.data[0]);
    if (!ca) {
        result->reason = CF_ODA_UNKNOWN_CA_KEY;
        goto out;
    }
    struct oda_key ca_key = {.modulus_len = ca->modulus_len, .exponent_len = ca->exponent_len};
    memcpy(ca_key.modulus, ca->modulus, ca->modulus_len);
    memcpy(ca_key.exponent, ca->exponent, ca->exponent_len);
    rc = recover_certificate(&ca_key, &proof->issuer_cert, &proof->issuer_rem, &proof->issuer_exp,
                             NULL, ODA_FORMAT_ISSUER, 4, &w->issuer, &w->issuer_fields);
    if (rc < 0)
        goto out;
    if (rc == 0 || w->issuer.modulus_len > ca_key.modulus_len) {
        rc = 0;
        result->reason = CF_ODA_BAD_ISSUER_CERTIFICATE;
        goto out;
    }
    if (proof->kind == CF_ODA_KIND_SDA)
        result->reason = verify_sda(proof, w, date, result, &rc);
    else
        result->reason = verify_dynamic(proof, w, challenge, date, result, &rc);
out:
    if (rc) {
        result->reason = CF_ODA_MALFORMED;
        OPENSSL_cleanse(result->pan, sizeof result->pan);
    }
    if (result->reason != CF_ODA_OK)
        result->level = CF_ODA_LEVEL_NONE;
    OPENSSL_clear_free(w, sizeof *w);
    return rc;
}

void cf_oda_result_wipe(struct cf_oda_result *result)
{
    if (result)
        OPENSSL_cleanse(result, sizeof *result);
}
