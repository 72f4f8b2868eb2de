/* The issuing side of EMV offline data authentication for tests (see emv_pki.h): RSA keys
 * with exponent 3, Book 2 certificate and signature blocks, raw RSA private operations
 * (no padding: the blocks carry their own format), and a whole card's proof. */
#include "emv_pki.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "cf/codec.h"
#include "cf/error.h"

#define SHA1_LEN 20

/* ==== Keys ==== */

int pki_key_generate(unsigned bits, EVP_PKEY **out)
{
    if (!out || bits < 512 || bits > 1984 || bits % 8)
        return CF_EINVAL;
    *out = NULL;
    int rc = CF_ECRYPTO;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    BIGNUM *e = BN_new();
    if (!ctx || !e || !BN_set_word(e, 3) || EVP_PKEY_keygen_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) != 1 ||
        EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e) != 1 || EVP_PKEY_keygen(ctx, out) != 1)
        goto out;
    rc = 0;
out:
    BN_free(e);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

int pki_key_write(EVP_PKEY *key, const char *path)
{
    if (!key || !path)
        return CF_EINVAL;
    FILE *f = fopen(path, "wb");
    if (!f)
        return CF_ECRYPTO;
    int ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    return (fclose(f) == 0 && ok == 1) ? 0 : CF_ECRYPTO;
}

int pki_key_read(const char *path, EVP_PKEY **out)
{
    if (!path || !out)
        return CF_EINVAL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return CF_ECRYPTO;
    *out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return *out ? 0 : CF_ECRYPTO;
}

static int bn_param(EVP_PKEY *key, const char *name, uint8_t *out, size_t cap, size_t *len)
{
    BIGNUM *bn = NULL;
    int rc = CF_ECRYPTO;
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1)
        goto out;
    int n = BN_num_bytes(bn);
    if (n <= 0 || (size_t)n > cap) {
        rc = CF_ENOSPACE;
        goto out;
    }
    *len = (size_t)BN_bn2bin(bn, out);
    rc = 0;
out:
    BN_free(bn);
    return rc;
}

int pki_key_public(EVP_PKEY *key, uint8_t *modulus, size_t *modulus_len, uint8_t *exponent,
                   size_t *exponent_len)
{
    if (!key || !modulus || !modulus_len || !exponent || !exponent_len)
        return CF_EINVAL;
    int rc = bn_param(key, OSSL_PKEY_PARAM_RSA_N, modulus, CF_ODA_MODULUS_MAX, modulus_len);
    return rc ? rc
              : bn_param(key, OSSL_PKEY_PARAM_RSA_E, exponent, CF_ODA_EXPONENT_MAX, exponent_len);
}

static void upper_hex(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xF];
    }
    out[2 * len] = '\0';
}

int pki_ca_line(EVP_PKEY *ca, const uint8_t rid[CF_ODA_RID_LEN], uint8_t index, char *line,
                size_t line_size)
{
    uint8_t modulus[CF_ODA_MODULUS_MAX], exponent[CF_ODA_EXPONENT_MAX];
    size_t modulus_len, exponent_len;
    char rid_hex[2 * CF_ODA_RID_LEN + 1], mod_hex[2 * CF_ODA_MODULUS_MAX + 1], exp_hex[8];
    if (!line || !rid)
        return CF_EINVAL;
    int rc = pki_key_public(ca, modulus, &modulus_len, exponent, &exponent_len);
    if (rc)
        return rc;
    upper_hex(rid, CF_ODA_RID_LEN, rid_hex);
    upper_hex(modulus, modulus_len, mod_hex);
    upper_hex(exponent, exponent_len, exp_hex);
    int n = snprintf(line, line_size, "%s %02X %s %s", rid_hex, index, mod_hex, exp_hex);
    return (n < 0 || (size_t)n >= line_size) ? CF_ENOSPACE : 0;
}

/* Raw RSA private operation: block (exactly the modulus length, below the modulus) to
 * signature. */
static int rsa_private(EVP_PKEY *key, const uint8_t *block, size_t len, struct pki_bytes *out)
{
    int rc = CF_ECRYPTO;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
    size_t out_len = sizeof out->data;
    if (!ctx || EVP_PKEY_decrypt_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) != 1 ||
        EVP_PKEY_decrypt(ctx, out->data, &out_len, block, len) != 1)
        goto out;
    out->len = out_len;
    rc = 0;
out:
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

static int sha1(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, const uint8_t *c,
                size_t c_len, const uint8_t *d, size_t d_len, uint8_t out[SHA1_LEN])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha1(), NULL) == 1 &&
             EVP_DigestUpdate(md, a, a_len) == 1 && (!b_len || EVP_DigestUpdate(md, b, b_len)) &&
             (!c_len || EVP_DigestUpdate(md, c, c_len)) &&
             (!d_len || EVP_DigestUpdate(md, d, d_len)) && EVP_DigestFinal_ex(md, out, NULL);
    EVP_MD_CTX_free(md);
    return ok ? 0 : CF_ECRYPTO;
}

/* Digits as BCD, padded with F to bytes. */
static int bcd_pad(const char *digits, uint8_t *out, size_t bytes)
{
    size_t n = strlen(digits);
    if (n > bytes * 2)
        return CF_EINVAL;
    memset(out, 0xFF, bytes);
    for (size_t i = 0; i < n; i++) {
        if (digits[i] < '0' || digits[i] > '9')
            return CF_EINVAL;
        uint8_t d = (uint8_t)(digits[i] - '0');
        out[i / 2] = (i % 2 == 0) ? (uint8_t)((d << 4) | 0x0F) : (uint8_t)((out[i / 2] & 0xF0) | d);
    }
    return 0;
}

static int expiry_bcd(const char *mmyy, uint8_t out[2])
{
    if (!mmyy || strlen(mmyy) != 4)
        return CF_EINVAL;
    for (int i = 0; i < 4; i++)
        if (mmyy[i] < '0' || mmyy[i] > '9')
            return CF_EINVAL;
    out[0] = (uint8_t)(((mmyy[0] - '0') << 4) | (mmyy[1] - '0'));
    out[1] = (uint8_t)(((mmyy[2] - '0') << 4) | (mmyy[3] - '0'));
    return 0;
}

/* ==== Certificates and signatures ==== */

/* Formats 02 / 04: header, format, id, expiry, serial, algorithms, key length, exponent
 * length, leftmost key digits (BB-padded), hash, trailer; remainder and exponent beside. */
static int issue_certificate(EVP_PKEY *signer, EVP_PKEY *subject, uint8_t format, const uint8_t *id,
                             size_t id_len, const char *expiry, const uint8_t *static_data,
                             size_t static_len, struct pki_certificate *out)
{
    uint8_t signer_mod[CF_ODA_MODULUS_MAX], signer_exp[CF_ODA_EXPONENT_MAX];
    uint8_t key[CF_ODA_MODULUS_MAX], key_exp[CF_ODA_EXPONENT_MAX];
    uint8_t block[CF_ODA_MODULUS_MAX];
    size_t n, signer_exp_len, key_len, key_exp_len;
    int rc = pki_key_public(signer, signer_mod, &n, signer_exp, &signer_exp_len);
    if (!rc)
        rc = pki_key_public(subject, key, &key_len, key_exp, &key_exp_len);
    if (rc)
        return rc;
    size_t fixed = 2 + id_len + 2 + 3 + 4;
    size_t room = n - fixed - SHA1_LEN - 1;
    if (key_len > n)
        return CF_EINVAL;
    memset(out, 0, sizeof *out);
    block[0] = 0x6A;
    block[1] = format;
    memcpy(block + 2, id, id_len);
    rc = expiry_bcd(expiry, block + 2 + id_len);
    if (rc)
        return rc;
    memcpy(block + 2 + id_len + 2, "\x00\x00\x01", 3); /* serial number */
    block[2 + id_len + 5] = 0x01; /* SHA-1 */
    block[2 + id_len + 6] = 0x01; /* RSA */
    block[2 + id_len + 7] = (uint8_t)key_len;
    block[2 + id_len + 8] = (uint8_t)key_exp_len;
    size_t digits = key_len < room ? key_len : room;
    memset(block + fixed, 0xBB, room);
    memcpy(block + fixed, key, digits);
    out->rem.len = key_len - digits;
    memcpy(out->rem.data, key + digits, out->rem.len);
    memcpy(out->exp.data, key_exp, key_exp_len);
    out->exp.len = key_exp_len;
    rc = sha1(block + 1, n - 1 - SHA1_LEN - 1, out->rem.data, out->rem.len, out->exp.data,
              out->exp.len, static_data, static_len, block + n - 1 - SHA1_LEN);
    block[n - 1] = 0xBC;
    if (!rc)
        rc = rsa_private(signer, block, n, &out->cert);
    OPENSSL_cleanse(block, sizeof block);
    return rc;
}

int pki_issue_issuer(EVP_PKEY *ca, EVP_PKEY *issuer, const char *issuer_id, const char *expiry,
                     struct pki_certificate *out)
{
    uint8_t id[4];
    if (!ca || !issuer || !issuer_id || !out || strlen(issuer_id) < 3 || bcd_pad(issuer_id, id, 4))
        return CF_EINVAL;
    return issue_certificate(ca, issuer, 0x02, id, 4, expiry, NULL, 0, out);
}

int pki_issue_icc(EVP_PKEY *issuer, EVP_PKEY *icc, const char *pan, const char *expiry,
                  const uint8_t *static_data, size_t static_len, struct pki_certificate *out)
{
    uint8_t id[10];
    if (!issuer || !icc || !pan || !out || strlen(pan) < 12 || bcd_pad(pan, id, 10))
        return CF_EINVAL;
    return issue_certificate(issuer, icc, 0x04, id, 10, expiry, static_data, static_len, out);
}

/* Formats 03 / 05: header, format, hash algorithm, head (format-specific), BB padding,
 * hash over format .. padding ‖ extra, trailer. */
static int sign_block(EVP_PKEY *signer, uint8_t format, const uint8_t *head, size_t head_len,
                      const uint8_t *extra, size_t extra_len, struct pki_bytes *out)
{
    uint8_t mod[CF_ODA_MODULUS_MAX], exp[CF_ODA_EXPONENT_MAX], block[CF_ODA_MODULUS_MAX];
    size_t n, exp_len;
    int rc = pki_key_public(signer, mod, &n, exp, &exp_len);
    if (rc)
        return rc;
    if (3 + head_len + SHA1_LEN + 1 > n)
        return CF_EINVAL;
    block[0] = 0x6A;
    block[1] = format;
    block[2] = 0x01;
    memcpy(block + 3, head, head_len);
    memset(block + 3 + head_len, 0xBB, n - 3 - head_len - SHA1_LEN - 1);
    rc = sha1(block + 1, n - 1 - SHA1_LEN - 1, extra, extra_len, NULL, 0, NULL, 0,
              block + n - 1 - SHA1_LEN);
    block[n - 1] = 0xBC;
    if (!rc)
        rc = rsa_private(signer, block, n, out);
    return rc;
}

int pki_sign_ssad(EVP_PKEY *issuer, const uint8_t dac[2], const uint8_t *static_data,
                  size_t static_len, struct pki_bytes *out)
{
    if (!issuer || !dac || !out)
        return CF_EINVAL;
    return sign_block(issuer, 0x03, dac, 2, static_data, static_len, out);
}

int pki_sign_sdad(EVP_PKEY *icc, const uint8_t *icc_dynamic, size_t icc_dynamic_len,
                  const uint8_t *terminal_data, size_t terminal_len, struct pki_bytes *out)
{
    uint8_t head[256];
    if (!icc || !icc_dynamic || !out || icc_dynamic_len > 255)
        return CF_EINVAL;
    head[0] = (uint8_t)icc_dynamic_len;
    memcpy(head + 1, icc_dynamic, icc_dynamic_len);
    return sign_block(icc, 0x05, head, 1 + icc_dynamic_len, terminal_data, terminal_len, out);
}

/* ==== A whole card ==== */

static void put(struct pki_bytes *b, const void *data, size_t len)
{
    memcpy(b->data, data, len);
    b->len = len;
}

/* Static data: one SFI-1 record's contents (template excluded, Book 3 10.3): 5A PAN,
 * 5F24 expiry, 9F07 usage control. */
static int card_static_data(const struct pki_card *card, struct pki_proof *out)
{
    uint8_t pan_bcd[10];
    size_t pan_bytes = (strlen(card->pan) + 1) / 2;
    int rc = bcd_pad(card->pan, pan_bcd, pan_bytes);
    if (rc)
        return rc;
    uint8_t *p = out->static_data;
    *p++ = 0x5A;
    *p++ = (uint8_t)pan_bytes;
    memcpy(p, pan_bcd, pan_bytes);
    p += pan_bytes;
    static const uint8_t rest[] = {0x5F, 0x24, 0x03, 0x30, 0x12, 0x31,
                                   0x9F, 0x07, 0x02, 0xFF, 0x00};
    memcpy(p, rest, sizeof rest);
    p += sizeof rest;
    out->static_len = (size_t)(p - out->static_data);
    return 0;
}

static int card_certificates(const struct pki_card *card, struct pki_proof *out, bool with_icc)
{
    struct pki_certificate *cert = OPENSSL_zalloc(sizeof *cert);
    char issuer_id[9];
    if (!cert)
        return CF_ENOMEM;
    /* the first six digits, or with the fault six digits that are not the PAN's */
    snprintf(issuer_id, sizeof issuer_id, "%.6s", card->pan);
    if (card->faults.pan_mismatch)
        issuer_id[5] = (char)(issuer_id[5] == '9' ? '0' : issuer_id[5] + 1);
    int rc = pki_issue_issuer(card->ca, card->issuer, issuer_id,
                              card->faults.issuer_expired ? "0120" : card->expiry, cert);
    if (rc)
        goto out;
    out->issuer_cert = cert->cert;
    out->issuer_rem = cert->rem;
    out->issuer_exp = cert->exp;
    if (card->faults.corrupt_issuer_cert)
        out->issuer_cert.data[out->issuer_cert.len / 2] ^= 0x01;
    if (!with_icc)
        goto out;
    rc = pki_issue_icc(card->issuer, card->icc, card->pan,
                       card->faults.icc_expired ? "0120" : card->expiry, out->static_data,
                       out->static_len, cert);
    if (rc)
        goto out;
    out->icc_cert = cert->cert;
    out->icc_rem = cert->rem;
    out->icc_exp = cert->exp;
    if (card->faults.corrupt_icc_cert)
        out->icc_cert.data[out->icc_cert.len / 2] ^= 0x01;
out:
    OPENSSL_clear_free(cert, sizeof *cert);
    return rc;
}

/* Terminal data and ICC dynamic data of a dynamic kind; signed_terminal is what the card
 * really hashes (the terminal data, or with ignore_challenge the same with a zero UN). */
static int card_dynamic(const struct pki_card *card, enum cf_oda_kind kind,
                        const uint8_t challenge[4], uint32_t seq, struct pki_proof *out)
{
    uint8_t number[4] = {(uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8),
                         (uint8_t)seq};
    uint8_t dynamic[64];
    size_t dynamic_len = 0;
    dynamic[dynamic_len++] = sizeof number;
    memcpy(dynamic + dynamic_len, number, sizeof number);
    dynamic_len += sizeof number;
    uint8_t *t = out->terminal_data.data;
    memcpy(t, challenge, 4);
    out->terminal_data.len = 4;
    if (kind == CF_ODA_KIND_DDA) {
        put(&out->ddol, "\x9F\x37\x04", 3);
    } else if (kind == CF_ODA_KIND_FDDA) {
        /* UN ‖ amount 9F02 (0) ‖ currency 5F2A (643) ‖ 9F69 */
        static const uint8_t rest[] = {0,    0,    0,    0,    0,    0,    0x06, 0x43,
                                       0x01, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00};
        memcpy(t + 4, rest, sizeof rest);
        out->terminal_data.len += sizeof rest;
    } else {
        /* CDA: tx_data = CDOL1 values (amount, other amount, country, TVR, currency, date,
         * type, UN) ‖ the GENERATE AC answer's 9F27 9F36 9F26 objects. */
        uint8_t *x = out->tx_data.data;
        static const uint8_t cdol_head[] = {0, 0,    0,    0,    0,    0,    0,   0, 0,
                                            0, 0,    0,    0x06, 0x43, 0,    0,   0, 0,
                                            0, 0x06, 0x43, 0x26, 0x12, 0x06, 0x00};
        memcpy(x, cdol_head, sizeof cdol_head);
        memcpy(x + sizeof cdol_head, challenge, 4);
        size_t n = sizeof cdol_head + 4;
        static const uint8_t answer[] = {0x9F, 0x27, 0x01, 0x80, 0x9F, 0x36, 0x02, 0x00, 0x01, 0x9F,
                                         0x26, 0x08, 1,    2,    3,    4,    5,    6,    7,    8};
        memcpy(x + n, answer, sizeof answer);
        out->tx_data.len = n + sizeof answer;
        dynamic[dynamic_len++] = 0x80; /* CID: ARQC */
        memcpy(dynamic + dynamic_len, answer + 12, 8);
        dynamic_len += 8;
        int rc = sha1(out->tx_data.data, out->tx_data.len, NULL, 0, NULL, 0, NULL, 0,
                      dynamic + dynamic_len);
        if (rc)
            return rc;
        dynamic_len += SHA1_LEN;
    }
    uint8_t signed_terminal[PKI_FIELD_MAX];
    memcpy(signed_terminal, t, out->terminal_data.len);
    if (card->faults.ignore_challenge)
        memset(signed_terminal, 0, 4);
    return pki_sign_sdad(card->icc, dynamic, dynamic_len, signed_terminal, out->terminal_data.len,
                         &out->sdad);
}

int pki_card_proof(const struct pki_card *card, enum cf_oda_kind kind,
                   const uint8_t challenge[CF_ODA_CHALLENGE_LEN], uint32_t seq,
                   struct pki_proof *out)
{
    if (!card || !challenge || !out || card->aid_len < 5 || card->aid_len > sizeof card->aid)
        return CF_EINVAL;
    memset(out, 0, sizeof *out);
    out->kind = kind;
    put(&out->aid, card->aid, card->aid_len);
    bool dynamic = kind == CF_ODA_KIND_DDA || kind == CF_ODA_KIND_FDDA || kind == CF_ODA_KIND_CDA;
    /* AIP: SDA 40, DDA 20, CDA 01 (byte 1) */
    uint8_t aip[2] = {kind == CF_ODA_KIND_SDA ? 0x40 : kind == CF_ODA_KIND_CDA ? 0x01 : 0x20, 0x00};
    if (kind == CF_ODA_KIND_NONE)
        aip[0] = 0x00;
    put(&out->aip, aip, 2);
    if (kind == CF_ODA_KIND_NONE)
        return 0;
    if (!card->ca || !card->issuer || (dynamic && !card->icc))
        return CF_EINVAL;
    uint8_t index = (uint8_t)(card->ca_index + (card->faults.wrong_ca_index ? 1 : 0));
    put(&out->ca_index, &index, 1);
    int rc = card_static_data(card, out);
    if (!rc)
        rc = card_certificates(card, out, dynamic);
    if (rc)
        return rc;
    if (kind == CF_ODA_KIND_SDA)
        return pki_sign_ssad(card->issuer, (const uint8_t *)"\xDA\xC1", out->static_data,
                             out->static_len, &out->ssad);
    return card_dynamic(card, kind, challenge, seq, out);
}

int pki_proof_resign(const struct pki_card *card, const uint8_t challenge[CF_ODA_CHALLENGE_LEN],
                     uint32_t seq, struct pki_proof *proof)
{
    if (!card || !challenge || !proof ||
        (proof->kind != CF_ODA_KIND_DDA && proof->kind != CF_ODA_KIND_FDDA &&
         proof->kind != CF_ODA_KIND_CDA))
        return CF_EINVAL;
    memset(&proof->terminal_data, 0, sizeof proof->terminal_data);
    memset(&proof->tx_data, 0, sizeof proof->tx_data);
    memset(&proof->sdad, 0, sizeof proof->sdad);
    return card_dynamic(card, proof->kind, challenge, seq, proof);
}

static struct cf_oda_bytes view(const struct pki_bytes *b)
{
    return (struct cf_oda_bytes){b->data, b->len};
}

void pki_proof_view(const struct pki_proof *p, struct cf_oda_proof *v)
{
    memset(v, 0, sizeof *v);
    v->kind = p->kind;
    v->aid = view(&p->aid);
    v->ca_index = view(&p->ca_index);
    v->issuer_cert = view(&p->issuer_cert);
    v->issuer_exp = view(&p->issuer_exp);
    v->issuer_rem = view(&p->issuer_rem);
    v->icc_cert = view(&p->icc_cert);
    v->icc_exp = view(&p->icc_exp);
    v->icc_rem = view(&p->icc_rem);
    v->static_data = (struct cf_oda_bytes){p->static_data, p->static_len};
    v->ssad = view(&p->ssad);
    v->sdad = view(&p->sdad);
    v->ddol = view(&p->ddol);
    v->terminal_data = view(&p->terminal_data);
    v->tx_data = view(&p->tx_data);
}
