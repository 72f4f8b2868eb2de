/* libFuzzer target for EMV offline data authentication (cf/oda.h): the fuzz input is a
 * CA key and a card's proof. It is cut into chunks (two length bytes, big-endian, then
 * that many bytes): CA modulus, CA exponent, challenge, kind (one byte), then aid,
 * ca_index, issuer_cert, issuer_exp, issuer_rem, icc_cert, icc_exp, icc_rem, static_data,
 * ssad, sdad, ddol, terminal_data, tx_data; missing chunks are empty. The whole input is
 * also parsed as a CA key line. Whatever the bytes, verification ends with a known
 * reason, a PAN only of 12..19 digits, and a level only when the reason is ok.
 *
 * Seeds (corpus/oda): proofs of the test PKI (tools/emv-pki) for each kind with their CA
 * key, good and negative, made by tests/fuzz/corpus/oda/make_seeds.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cf/oda.h"

struct chunks {
    const uint8_t *data;
    size_t size, pos;
};

static struct cf_oda_bytes next_chunk(struct chunks *c)
{
    struct cf_oda_bytes b = {NULL, 0};
    if (c->size - c->pos < 2) {
        c->pos = c->size;
        return b;
    }
    size_t n = ((size_t)c->data[c->pos] << 8) | c->data[c->pos + 1];
    c->pos += 2;
    if (n > c->size - c->pos)
        n = c->size - c->pos;
    b.data = c->data + c->pos;
    b.len = n;
    c->pos += n;
    return b;
}

static void check_result(const struct cf_oda_result *r)
{
    if (r->reason > CF_ODA_MALFORMED)
        abort();
    if (r->reason != CF_ODA_OK && r->level != CF_ODA_LEVEL_NONE)
        abort();
    if (r->reason == CF_ODA_OK && r->level != CF_ODA_LEVEL_STATIC &&
        r->level != CF_ODA_LEVEL_DYNAMIC)
        abort();
    size_t len = strnlen(r->pan, sizeof r->pan);
    if (len == sizeof r->pan || (len != 0 && (len < 12 || len > 19)))
        abort();
    for (size_t i = 0; i < len; i++)
        if (r->pan[i] < '0' || r->pan[i] > '9')
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cf_oda_ca_key key;
    struct cf_error_detail detail;
    int rc = cf_oda_ca_key_parse((const char *)data, size, &key, &detail);
    if (rc != 0 && rc != 1 && rc != CF_EMALFORM)
        abort();

    struct chunks c = {data, size, 0};
    struct cf_oda_bytes modulus = next_chunk(&c), exponent = next_chunk(&c);
    struct cf_oda_bytes challenge = next_chunk(&c), kind = next_chunk(&c);
    struct cf_oda_proof proof;
    memset(&proof, 0, sizeof proof);
    proof.kind = kind.len ? (enum cf_oda_kind)kind.data[0] : CF_ODA_KIND_NONE;
    struct cf_oda_bytes *fields[] = {&proof.aid,           &proof.ca_index,   &proof.issuer_cert,
                                     &proof.issuer_exp,    &proof.issuer_rem, &proof.icc_cert,
                                     &proof.icc_exp,       &proof.icc_rem,    &proof.static_data,
                                     &proof.ssad,          &proof.sdad,       &proof.ddol,
                                     &proof.terminal_data, &proof.tx_data};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        *fields[i] = next_chunk(&c);

    memset(&key, 0, sizeof key);
    if (modulus.len < CF_ODA_MODULUS_MIN || modulus.len > CF_ODA_MODULUS_MAX || exponent.len == 0 ||
        exponent.len > CF_ODA_EXPONENT_MAX || modulus.data[0] == 0)
        return 0;
    memcpy(key.modulus, modulus.data, modulus.len);
    key.modulus_len = modulus.len;
    memcpy(key.exponent, exponent.data, exponent.len);
    key.exponent_len = exponent.len;
    if (proof.aid.len >= CF_ODA_RID_LEN)
        memcpy(key.rid, proof.aid.data, CF_ODA_RID_LEN);
    key.index = proof.ca_index.len ? proof.ca_index.data[0] : 0;

    uint8_t un[CF_ODA_CHALLENGE_LEN] = {0};
    memcpy(un, challenge.data ? challenge.data : un,
           challenge.len < sizeof un ? challenge.len : sizeof un);
    struct cf_oda_result result;
    rc = cf_oda_verify(&proof, &key, 1, un, (struct cf_oda_date){2026, 12}, &result);
    if (rc != 0 && rc != CF_ECRYPTO && rc != CF_ENOMEM)
        abort();
    check_result(&result);
    cf_oda_result_wipe(&result);
    return 0;
}
