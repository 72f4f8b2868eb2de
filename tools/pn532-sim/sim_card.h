/* The card in the emulated reader's field: what it answers to anticollision (ATQA,
 * SAK, UID, ATS) and to APDUs.
 *
 * Three models: an EMV contactless card replaying a transcript (firmware-shared's
 * cf/transcript.h, format of tests/data/emv/README.md), a UID-only card (MIFARE
 * Classic SAK 08, Ultralight SAK 00, or any SAK: with bit 20 set it is an ISO 14443-4
 * card with no application, answering every APDU as an empty card would), and no card.
 * A card is "activated" each time the reader selects it: the transcript starts over,
 * as a real card resets its applications when it is powered up and selected again. */
#ifndef SIM_CARD_H
#define SIM_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf/error.h"
#include "cf/transcript.h"
#include "gc_oda.h"

#define SIM_CARD_UID_MAX 10
#define SIM_CARD_ATS_MAX 32 /* ATS bytes after the length byte TL */
#define SIM_CARD_APDU_MAX 261 /* longest command APDU accepted */
#define SIM_CARD_RESPONSE_MAX 258 /* 256 data bytes + SW1 SW2 */

enum sim_card_kind {
    SIM_CARD_NONE = 0,
    SIM_CARD_EMV, /* transcript replay, ISO 14443-4 */
    SIM_CARD_UID, /* UID only; ISO 14443-4 without applications when sak & 0x20 */
};

struct sim_card {
    enum sim_card_kind kind;
    uint8_t uid[SIM_CARD_UID_MAX];
    size_t uid_len; /* 4, 7 or 10 */
    uint8_t atqa[2]; /* SENS_RES as the PN532 reports it: 00 04 / 00 44 / 00 84 */
    uint8_t sak;
    uint8_t ats[SIM_CARD_ATS_MAX]; /* without TL; used when sak & 0x20 */
    size_t ats_len;
    struct cf_transcript transcript; /* owned; empty for UID cards */
    struct gc_live *live; /* owned; a card that signs (the transcript's "# live:" line,
                             tools/gen-card/gc_oda.h), NULL for one that only replays */
    char source[256]; /* transcript path, for status lines; "" otherwise */
};

/* Defaults for a card given without --uid / --ats: a 4-byte random-looking UID and
 * the ATS "78 80 70 02" (TL 05) of a typical bank card. */
extern const uint8_t sim_card_default_uid[4];
extern const uint8_t sim_card_default_ats[4];

/* An empty field. */
void sim_card_init(struct sim_card *card);

/* Free the transcript and empty the field. Accepts NULL. */
void sim_card_cleanup(struct sim_card *card);

/* Put an EMV card described by the transcript file at path into the field (replacing
 * any card). uid/ats may be NULL for the defaults. Returns 0, or CF_EINVAL (bad UID
 * length 4/7/10, ATS over SIM_CARD_ATS_MAX), CF_ETOOBIG (file over
 * CF_TRANSCRIPT_MAX_TEXT), CF_EMALFORM (unreadable file or bad transcript) with
 * *detail saying why. On error the field keeps its previous card. A transcript with a
 * "# live:" line (carefact-gen-card --oda) becomes a live card: it signs INTERNAL
 * AUTHENTICATE, GPO (fDDA) and GENERATE AC (CDA) with the ICC key the line names, read
 * from the transcript's folder (CF_ECRYPTO when it cannot be read). */
int sim_card_load_transcript(struct sim_card *card, const char *path, const uint8_t *uid,
                             size_t uid_len, const uint8_t *ats, size_t ats_len,
                             struct cf_error_detail *detail);

/* Put a UID-only card into the field. Returns 0 or CF_EINVAL (UID not 4/7/10 bytes). */
int sim_card_set_uid(struct sim_card *card, const uint8_t *uid, size_t uid_len, uint8_t sak);

/* Take the card away (the field is empty afterwards). */
void sim_card_remove(struct sim_card *card);

bool sim_card_present(const struct sim_card *card);

/* True when the card speaks ISO 14443-4 (SAK bit 20). */
bool sim_card_iso_dep(const struct sim_card *card);

/* The card was powered and selected again: replay starts over. */
void sim_card_activate(struct sim_card *card);

/* TargetData of InListPassiveTarget for this card as target tg: Tg, ATQA (2), SAK,
 * NFCIDLength, NFCID1, then, when with_ats and the card is ISO 14443-4, the ATS
 * starting with its length byte TL. Returns 0, CF_EINVAL (no card) or CF_ENOSPACE. */
int sim_card_target_data(const struct sim_card *card, uint8_t tg, bool with_ats, uint8_t *out,
                         size_t out_size, size_t *out_len);

/* Answer one command APDU (ISO 14443-4 cards). Returns the response length (>= 2,
 * ending in SW1 SW2), or CF_EINVAL when the card is not ISO 14443-4 or absent,
 * CF_ENOSPACE when out_size is under SIM_CARD_RESPONSE_MAX. */
long sim_card_apdu(struct sim_card *card, const uint8_t *apdu, size_t apdu_len, uint8_t *out,
                   size_t out_size);

/* A raw (non-ISO-DEP) frame to a UID-only card, as InCommunicateThru sends it. Only
 * the Ultralight READ (30 page) is answered: 16 bytes of memory whose first pages hold
 * the UID. Returns the answer length, or 0 when the card stays silent. */
size_t sim_card_raw(const struct sim_card *card, const uint8_t *frame, size_t frame_len,
                    uint8_t *out, size_t out_size);

/* "emv", "uid" or "none". */
const char *sim_card_kind_name(enum sim_card_kind kind);

#endif
