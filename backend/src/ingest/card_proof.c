/* The server's verdict on one event's card proof (see be/card_proof.h). The PAN the ODA
 * verifier recovers lives in one stack buffer for the length of one token derivation and
 * is wiped on every path; nothing of the proof but the verdict, the CA index and the
 * SDAD's digest is kept. */
#include "be/card_proof.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cf/error.h"
#include "cf/token.h"

/* The event's proof kinds and the verifier's are the same numbers (the canonical encoding's). */
_Static_assert((int)CF_PROOF_NONE == (int)CF_ODA_KIND_NONE &&
                   (int)CF_PROOF_SDA == (int)CF_ODA_KIND_SDA &&
                   (int)CF_PROOF_DDA == (int)CF_ODA_KIND_DDA &&
                   (int)CF_PROOF_FDDA == (int)CF_ODA_KIND_FDDA &&
                   (int)CF_PROOF_CDA == (int)CF_ODA_KIND_CDA,
               "proof kinds must match");

static struct cf_oda_bytes view(const uint8_t *data, size_t len)
{
    return (struct cf_oda_bytes){data, len};
}

static void proof_view(const struct cf_card_proof *p, struct cf_oda_proof *v)
{
    memset(v, 0, sizeof *v);
    v->kind = (enum cf_oda_kind)p->kind; /* the same numbers (PROOF14) */
    v->aid = view(p->aid.data, p->aid.len);
    v->ca_index = view(p->ca_index.data, p->ca_index.len);
    v->issuer_cert = view(p->issuer_cert.data, p->issuer_cert.len);
    v->issuer_exp = view(p->issuer_exp.data, p->issuer_exp.len);
    v->issuer_rem = view(p->issuer_rem.data, p->issuer_rem.len);
    v->icc_cert = view(p->icc_cert.data, p->icc_cert.len);
    v->icc_exp = view(p->icc_exp.data, p->icc_exp.len);
    v->icc_rem = view(p->icc_rem.data, p->icc_rem.len);
    v->static_data = view(p->static_data.data, p->static_data.len);
    v->ssad = view(p->ssad.data, p->ssad.len);
    v->sdad = view(p->sdad.data, p->sdad.len);
    v->ddol = view(p->ddol.data, p->ddol.len);
    v->terminal_data = view(p->terminal_data.data, p->terminal_data.len);
    v->tx_data = view(p->tx_data.data, p->tx_data.len);
}

/* The digest of the event as version 1 (without its proof): what the stored row is
 * checked against when the event is served (the proof is not stored). */
static int body_digest(const struct cf_event *event, uint8_t out[CF_DIGEST_LEN])
{
    struct cf_event *copy = malloc(sizeof *copy);
    if (!copy)
        return CF_ENOMEM;
    memcpy(copy, event, sizeof *copy);
    memset(&copy->card.proof, 0, sizeof copy->card.proof);
    copy->card.proof.kind = CF_PROOF_ABSENT;
    int rc = cf_event_digest(copy, out);
    OPENSSL_cleanse(copy, sizeof *copy);
    free(copy);
    return rc;
}

/* The month the certificates must still be valid in: the event's (UTC). */
static struct cf_oda_date event_month(int64_t wall_ms)
{
    time_t t = (time_t)(wall_ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return (struct cf_oda_date){9999, 12};
    return (struct cf_oda_date){tm.tm_year + 1900, tm.tm_mon + 1};
}

static void fail(struct be_card_verdict *out, enum cf_oda_reason reason)
{
    out->level = "none";
    out->failure = cf_oda_reason_name(reason);
}

int be_card_proof_judge(const struct cf_event *event, const struct cf_oda_ca_key *keys,
                        size_t count, const uint8_t *token_key, size_t token_key_len,
                        struct be_card_verdict *out)
{
    memset(out, 0, sizeof *out);
    out->ca_index = -1;
    const struct cf_card_proof *proof = &event->card.proof;
    if (event->card.method != CF_CARD_EMV || proof->kind == CF_PROOF_ABSENT)
        return 0;
    out->present = true;
    out->kind = cf_proof_kind_name(proof->kind);
    out->level = "static";
    if (proof->ca_index.len == 1)
        out->ca_index = proof->ca_index.data[0];
    int rc = body_digest(event, out->body_digest);
    if (rc)
        return rc;
    uint8_t challenge[CF_CHALLENGE_LEN];
    rc = cf_card_challenge(event->device_id, event->seq, event->prev_digest, event->visit_id,
                           challenge);
    if (rc)
        return rc;
    struct cf_oda_proof view;
    struct cf_oda_result result;
    proof_view(proof, &view);
    rc = cf_oda_verify(&view, keys, count, challenge, event_month(event->wall_ms), &result);
    if (rc) {
        cf_oda_result_wipe(&result);
        return rc;
    }
    out->has_sdad_digest = result.has_sdad_digest;
    memcpy(out->sdad_digest, result.sdad_digest, sizeof out->sdad_digest);
    if (result.reason != CF_ODA_OK) {
        fail(out, result.reason);
    } else {
        out->level = cf_oda_level_name(result.level);
        if (result.pan[0]) {
            /* NOTE: the PAN exists only here, between recovery and this comparison. */
            char token[CF_TOKEN_TEXT_LEN + 1];
            rc = cf_token_from_pan(token_key, token_key_len, result.pan, token);
            if (rc == 0 && strcmp(token, event->card.token) != 0)
                fail(out, CF_ODA_TOKEN_MISMATCH);
            if (rc == CF_EINVAL) { /* a PAN the token rule refuses */
                rc = 0;
                fail(out, CF_ODA_MALFORMED);
            }
            OPENSSL_cleanse(token, sizeof token);
        }
    }
    cf_oda_result_wipe(&result);
    return rc;
}

void be_card_proof_reused(struct be_card_verdict *verdict)
{
    fail(verdict, CF_ODA_REUSED_SIGNATURE);
}
