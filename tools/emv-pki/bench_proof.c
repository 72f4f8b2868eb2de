/* carefact-bench-proof: what carefactd pays per event to judge a card proof (issue 14),
 * against the floor of the same work: the RSA public operations themselves. For each
 * kind (DDA, fDDA, CDA; SDA) it makes N events with real proofs (tools/emv-pki keys:
 * CA 1408 bits, issuer 1152, card 1024, exponent 3) and times, event by event:
 *   judge  be_card_proof_judge as ingest runs it: the challenge recomputed, the chain
 *          verified (cf_oda_verify), the PAN's token derived and compared, the digest of
 *          the event without its proof;
 *   rsa    only the RSA recoveries the chain needs (3 for dynamic kinds, 2 for SDA): no
 *          verifier can do less, so judge / rsa is the overhead of everything else.
 * Prints one line per kind: "proof <kind>: judge p50=<us> p95=<us> rsa p50=<us> p95=<us>
 * events=<n>", the database's share (the reuse check) being measured by tools/bench-ingest.
 *
 *   carefact-bench-proof [--events N]   (default 2000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "be/card_proof.h"
#include "cf/token.h"
#include "emv_pki.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, by_value);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static void put(struct cf_proof_bytes *dst, const struct pki_bytes *src)
{
    memcpy(dst->data, src->data, src->len);
    dst->len = src->len;
}

static void attach(struct cf_event *ev, const struct pki_proof *p)
{
    struct cf_card_proof *q = &ev->card.proof;
    memset(q, 0, sizeof *q);
    q->kind = (enum cf_proof_kind)p->kind;
    put(&q->aid, &p->aid);
    put(&q->aip, &p->aip);
    put(&q->ca_index, &p->ca_index);
    put(&q->issuer_cert, &p->issuer_cert);
    put(&q->issuer_exp, &p->issuer_exp);
    put(&q->issuer_rem, &p->issuer_rem);
    put(&q->icc_cert, &p->icc_cert);
    put(&q->icc_exp, &p->icc_exp);
    put(&q->icc_rem, &p->icc_rem);
    memcpy(q->static_data.data, p->static_data, p->static_len);
    q->static_data.len = p->static_len;
    put(&q->ssad, &p->ssad);
    put(&q->sdad, &p->sdad);
    put(&q->ddol, &p->ddol);
    put(&q->terminal_data, &p->terminal_data);
    put(&q->tx_data, &p->tx_data);
}

/* A public key as the verifier holds it once recovered. */
struct public_key {
    uint8_t mod[CF_ODA_MODULUS_MAX], exp[CF_ODA_EXPONENT_MAX];
    size_t mod_len, exp_len;
};

/* The RSA recoveries alone, with the keys (public parts) known in advance. */
static void rsa_floor(const struct pki_proof *p, const struct public_key keys[3])
{
    uint8_t out[CF_ODA_MODULUS_MAX];
    const struct public_key *ca = &keys[0], *issuer = &keys[1], *icc = &keys[2];
    cf_oda_rsa_recover(ca->mod, ca->mod_len, ca->exp, ca->exp_len, p->issuer_cert.data,
                       p->issuer_cert.len, out);
    if (p->kind == CF_ODA_KIND_SDA) {
        cf_oda_rsa_recover(issuer->mod, issuer->mod_len, issuer->exp, issuer->exp_len, p->ssad.data,
                           p->ssad.len, out);
        return;
    }
    cf_oda_rsa_recover(issuer->mod, issuer->mod_len, issuer->exp, issuer->exp_len, p->icc_cert.data,
                       p->icc_cert.len, out);
    cf_oda_rsa_recover(icc->mod, icc->mod_len, icc->exp, icc->exp_len, p->sdad.data, p->sdad.len,
                       out);
}

int main(int argc, char **argv)
{
    size_t events = 2000;
    if (argc == 3 && strcmp(argv[1], "--events") == 0)
        events = (size_t)strtoul(argv[2], NULL, 10);
    if (events < 10 || events > 1000000) {
        fprintf(stderr, "usage: carefact-bench-proof [--events 10..1000000]\n");
        return 2;
    }
    static const uint8_t key[32] = {0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab};
    struct pki_card card;
    struct cf_oda_ca_key ca_key;
    char line[PKI_CA_LINE_MAX];
    memset(&card, 0, sizeof card);
    if (pki_key_generate(1408, &card.ca) || pki_key_generate(1152, &card.issuer) ||
        pki_key_generate(1024, &card.icc))
        return 1;
    memcpy(card.rid, "\xA0\x00\x00\x06\x58", 5);
    card.ca_index = 0x92;
    memcpy(card.aid, "\xA0\x00\x00\x06\x58\x10\x10", 7);
    card.aid_len = 7;
    snprintf(card.pan, sizeof card.pan, "2200123456789019");
    snprintf(card.expiry, sizeof card.expiry, "1230");
    if (pki_ca_line(card.ca, card.rid, 0x92, line, sizeof line) ||
        cf_oda_ca_key_parse(line, strlen(line), &ca_key, NULL) != 1)
        return 1;
    struct public_key keys[3];
    EVP_PKEY *pkeys[3] = {card.ca, card.issuer, card.icc};
    for (int k = 0; k < 3; k++)
        if (pki_key_public(pkeys[k], keys[k].mod, &keys[k].mod_len, keys[k].exp, &keys[k].exp_len))
            return 1;
    struct cf_event *ev = calloc(1, sizeof *ev);
    struct pki_proof *proof = calloc(1, sizeof *proof);
    double *judge = calloc(events, sizeof *judge), *rsa = calloc(events, sizeof *rsa);
    if (!ev || !proof || !judge || !rsa)
        return 1;
    static const enum cf_oda_kind kinds[] = {CF_ODA_KIND_DDA, CF_ODA_KIND_FDDA, CF_ODA_KIND_CDA,
                                             CF_ODA_KIND_SDA};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        size_t bad = 0;
        for (size_t i = 0; i < events; i++) {
            memset(ev, 0, sizeof *ev);
            ev->kind = CF_EV_VISIT_STARTED;
            ev->seq = i + 1;
            ev->wall_ms = INT64_C(1795338000000);
            memset(ev->device_id, 0x10, sizeof ev->device_id);
            memset(ev->visit_id, (int)(i & 0xff), sizeof ev->visit_id);
            memset(ev->worker_id, 0x20, sizeof ev->worker_id);
            memset(ev->recipient_id, 0x30, sizeof ev->recipient_id);
            memset(ev->boot_id, 0x50, sizeof ev->boot_id);
            ev->card.method = CF_CARD_EMV;
            cf_token_from_pan(key, sizeof key, card.pan, ev->card.token);
            uint8_t challenge[4];
            cf_card_challenge(ev->device_id, ev->seq, ev->prev_digest, ev->visit_id, challenge);
            if (pki_card_proof(&card, kinds[k], challenge, (uint32_t)i, proof))
                return 1;
            attach(ev, proof);
            struct be_card_verdict verdict;
            double t0 = now_us();
            int rc = be_card_proof_judge(ev, &ca_key, 1, key, sizeof key, &verdict);
            double t1 = now_us();
            rsa_floor(proof, keys);
            double t2 = now_us();
            if (rc || verdict.failure)
                bad++;
            judge[i] = t1 - t0;
            rsa[i] = t2 - t1;
        }
        printf(
            "proof %s: judge p50=%.0f p95=%.0f us, rsa floor p50=%.0f p95=%.0f us, events=%zu%s\n",
            cf_oda_kind_name(kinds[k]), pct(judge, events, 0.5), pct(judge, events, 0.95),
            pct(rsa, events, 0.5), pct(rsa, events, 0.95), events,
            bad ? " (SOME FAILED: not a valid run)" : "");
        if (bad)
            return 1;
    }
    free(judge);
    free(rsa);
    free(proof);
    free(ev);
    EVP_PKEY_free(card.ca);
    EVP_PKEY_free(card.issuer);
    EVP_PKEY_free(card.icc);
    return 0;
}
