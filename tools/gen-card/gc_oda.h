/* Offline data authentication on synthetic cards (carefact-gen-card --oda): the build
 * step that certifies a card with tools/emv-pki, and the live card that signs the
 * terminal's unpredictable number in tools/pn532-sim and in the unit tests.
 *
 * Build (gc_card_add_oda): the AIP gets the method's bit (SDA 40, DDA 20, fDDA 20,
 * CDA 01); every record of the layout becomes signed (the AFL counts it), so the static
 * data holds the PAN record; a record of SFI 3 gets the CA index 8F, the issuer
 * certificate 90 / 9F32 / 92 and 9F4A = 82 (the AIP is signed too), another the ICC
 * certificate 9F46 / 9F47 / 9F48 and the DDOL 9F49 = 9F37 04 (or, for SDA, the SSAD
 * 93); fDDA adds 9F69 and a 9F4B to the GPO answer (signed over the UN 00000000: what a
 * recording would hold; the live card replaces it). The card's "# live:" line names
 * the method, the ICC key file and the faults, for the live card.
 *
 * Live (struct gc_live): answers INTERNAL AUTHENTICATE (DDA), GET PROCESSING OPTIONS
 * (fDDA: the transcript's answer with a fresh 9F4B) and GENERATE AC with CDA requested
 * with signatures by the ICC key over what the terminal sent; every other command is
 * the transcript's. A transcript without a "# live:" line (every public recording)
 * only replays, so it can never sign a new challenge. */
#ifndef GC_ODA_H
#define GC_ODA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "cf/error.h"
#include "cf/transcript.h"
#include "gen_card.h"

enum gc_oda_kind {
    GC_ODA_NONE = 0,
    GC_ODA_SDA,
    GC_ODA_DDA,
    GC_ODA_FDDA,
    GC_ODA_CDA,
};

/* The negative cards' knobs. */
struct gc_oda_faults {
    bool issuer_expired; /* the issuer certificate expired in 01/20 */
    bool pan_mismatch; /* the issuer certificate's issuer id is not the PAN's IIN */
    bool wrong_ca_index; /* 8F names the index one above the CA key that signed */
    bool ignore_challenge; /* the live card signs the UN 00000000 whatever it is sent */
    bool replay; /* the live card signs once and answers that same SDAD ever after */
};

struct gc_oda_options {
    enum gc_oda_kind kind;
    EVP_PKEY *ca, *issuer, *icc; /* borrowed; RSA exponent 3 (emv_pki.h) */
    uint8_t ca_index;
    struct gc_oda_faults faults;
    const char *key_name; /* the ICC key's file name for the live line, relative to
                             the transcript's folder */
};

/* "sda", "dda", "fdda", "cda" <-> kind; parse returns 0 or CF_EINVAL. */
int gc_oda_kind_parse(const char *name, enum gc_oda_kind *kind);
const char *gc_oda_kind_name(enum gc_oda_kind kind);
/* A fault by name ("issuer_expired", "pan_mismatch", "wrong_ca_index",
 * "ignore_challenge", "replay"): 0 or CF_EINVAL. */
int gc_oda_fault_parse(const char *name, struct gc_oda_faults *faults);

/* Certify the built card (gc_card_build) as the options say and call gc_card_finish.
 * fDDA needs the layout's gpo=2 and pdol=yes (the UN reaches the card in the PDOL).
 * Returns 0, or CF_EINVAL with *detail (may be NULL) saying why, CF_ETOOBIG (the card's
 * lists are full) or CF_ECRYPTO. */
int gc_card_add_oda(struct gc_card *card, const struct gc_oda_options *options,
                    struct cf_error_detail *detail);

/* ==== The live card ==== */

struct gc_live;

/* The live card of a transcript text (its "# live:" line; the key file is read from
 * dir, the transcript's folder). *out is NULL when the text has no such line (a
 * replay-only card). Returns 0, CF_EMALFORM (a bad line) or CF_ECRYPTO (the key file
 * cannot be read) with *detail (may be NULL) saying why. */
int gc_live_load(const char *text, size_t len, const char *dir, struct gc_live **out,
                 struct cf_error_detail *detail);
void gc_live_free(struct gc_live *live);

/* The card was powered up and selected again: forget the GPO's PDOL data. */
void gc_live_reset(struct gc_live *live);

/* Answer one APDU: the signing commands live, anything else from the transcript (which
 * is borrowed). Returns the answer length (>= 2, SW1 SW2 last), CF_ENOSPACE or
 * CF_EINVAL, as cf_transcript_answer. */
long gc_live_answer(struct gc_live *live, struct cf_transcript *transcript, const uint8_t *apdu,
                    size_t apdu_len, uint8_t *out, size_t out_size);

/* A cf_transceive_fn over a live card: ctx is a struct gc_live_card. */
struct gc_live_card {
    struct cf_transcript transcript;
    struct gc_live *live; /* NULL: replay only */
};
int gc_live_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                       size_t resp_size, size_t *resp_len);

#endif
