/* EMV contactless read over an abstract transceive function.
 *
 * The agent plugs libnfc's nfc_initiator_transceive_bytes in; tests plug in a
 * transcript replay (cf/transcript.h). The flow: SELECT PPSE "2PAY.SYS.DDF01"; pick
 * the application by priority (Mir, Visa, Mastercard, Maestro, UnionPay, others);
 * when PPSE fails, SELECT by known (partial) AIDs; GET PROCESSING OPTIONS with the
 * PDOL filled from struct cf_emv_terminal (format 1 tag 80 and format 2 tag 77;
 * retried with an empty PDOL "83 00" when the card answers 67 00); READ RECORD over
 * the AFL; status words 61 xx (GET RESPONSE) and 6C xx (resend with Le) handled;
 * 62 85 accepted as success. PAN from 5A, else track 2 equivalent 57, else track 2
 * data 9F6B, else track 1 56 (the first source holding 12..19 digits: a masked or
 * garbled source is skipped). Expiry: 5F24, else 57, else 9F6B, else 56 — each
 * only when its month is 1..12; YY is read as 20YY.
 *
 * Selection order: the applications listed by PPSE "2PAY.SYS.DDF01" (or, when it
 * lists none, by the contact directory "1PAY.SYS.DDF01"), by scheme preference
 * Mir, Visa, Mastercard, Maestro, UnionPay, Amex / JCB / Interac, CB (domestic,
 * always co-badged: the international application wins), unknown AIDs last;
 * within one scheme by priority indicator 87, then directory order. When no
 * listed application can be selected: partial selection by each known RID (P2 00
 * then 02 "next"), then each known full AID. Caps: 200 transceive calls per read,
 * 8 GET RESPONSE and 2 resends per command, 32 READ RECORD per application.
 *
 * The PAN exists only in struct cf_emv_card, in the caller's memory; the caller
 * derives a token (cf/token.h) and wipes the card with cf_emv_card_wipe. */
#ifndef CF_EMV_H
#define CF_EMV_H

#include <stddef.h>
#include <stdint.h>

#include "cf/error.h"
#include "cf/event.h"

/* Send one command APDU and receive the response APDU (data + SW1 SW2).
 * Returns 0, or a negative CF_E code (CF_ECOMM when the link failed: the read
 * stops and returns that code). resp_size is at least 258. */
typedef int (*cf_transceive_fn)(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                size_t resp_size, size_t *resp_len);

enum cf_scheme {
    CF_SCHEME_UNKNOWN = 0,
    CF_SCHEME_MIR,
    CF_SCHEME_VISA,
    CF_SCHEME_MASTERCARD,
    CF_SCHEME_MAESTRO,
    CF_SCHEME_UNIONPAY,
    CF_SCHEME_AMEX,
    CF_SCHEME_JCB,
    CF_SCHEME_INTERAC,
    CF_SCHEME_OTHER, /* an EMV payment application we do not name */
};

/* "mir", "visa", "mastercard", "maestro", "unionpay", "amex", "jcb", "interac",
 * "other", "unknown". Never NULL. */
const char *cf_scheme_name(enum cf_scheme scheme);

/* Terminal values used to fill the PDOL (9F66 TTQ, 9F02 amount, 9F1A country,
 * 5F2A currency, 9A date, 9C type, 9F37 unpredictable number, 95 TVR, ...). */
struct cf_emv_terminal {
    uint8_t ttq[4]; /* 9F66 terminal transaction qualifiers */
    uint64_t amount_minor; /* 9F02, 0 = identification only */
    uint16_t country_code; /* 9F1A, ISO 3166 numeric (643 = Russia) */
    uint16_t currency_code; /* 5F2A, ISO 4217 numeric (643 = rouble) */
    int year, month, day; /* 9A transaction date */
    uint8_t unpredictable[4]; /* 9F37, the caller supplies randomness */
};

/* Sensible defaults for identification in Russia at the given UTC time:
 * TTQ 36 00 40 00 (contactless EMV, online capable), amount 0, 643/643.
 * unpredictable is left zero: fill it from a CSPRNG. */
void cf_emv_terminal_defaults(struct cf_emv_terminal *terminal, int64_t now_utc_ms);

struct cf_emv_card {
    enum cf_scheme scheme;
    uint8_t aid[16];
    size_t aid_len;
    char label[17]; /* application label (50), printable ASCII, may be "" */
    char pan[20]; /* digits, NUL-terminated: SECRET, wipe after use */
    int expiry_year; /* e.g. 2027; 0 when the card gives none */
    int expiry_month; /* 1..12; 0 when the card gives none */
};

/* Read the card. terminal may be NULL (defaults at time 0 with zero randomness;
 * tests only). transceive and ctx are borrowed for the call; card is the
 * caller's. Returns 0 with *card filled, or:
 *   CF_ECARD_LOCKED   the card or its payment application is blocked (69 85, 6A 81,
 *                     62 83 on an application SELECT or on GPO; not on PPSE),
 *   CF_ECARD_UNKNOWN  PPSE and every known AID fail: no payment application,
 *   CF_ENOT_PAYMENT   an application answered but it is not an EMV payment one
 *                     (no FCI template 6F, or GPO refused / answered with something
 *                     other than 80, 77 or 70 — e.g. a German GeldKarte purse),
 *   CF_ENO_PAN        payment application read but it holds no PAN,
 *   CF_ECOMM          transceive failed, the card answered malformed data (bad
 *                     TLV, bad AFL, PDOL over 252 bytes) or a cap was exceeded,
 *   CF_EINVAL         transceive or card is NULL,
 *   or the negative code the transceive function returned.
 * When several applications fail, the furthest failure is reported (NO_PAN, then
 * LOCKED, then NOT_PAYMENT). On error *card is all zeros. */
int cf_emv_read(cf_transceive_fn transceive, void *ctx, const struct cf_emv_terminal *terminal,
                struct cf_emv_card *card);

/* cf_emv_read, and the card's offline data authentication material as a proof
 * (api/PROTOCOL.md 4.5) over terminal->unpredictable, the challenge (cf_card_challenge).
 * Every record of the AFL is read (not only up to the PAN); the records the AFL signs
 * make the static data (Book 3 10.3: SFI 1..10 without their template 70, 11..30
 * whole; then the AIP when 9F4A lists it), whose 5A values are masked
 * (cf_static_data_mask_pan). Then, by what the card offers: fDDA when 9F4B came with the
 * GPO answer or a record; DDA (AIP 20) with INTERNAL AUTHENTICATE over the DDOL (9F49,
 * else 9F37 04); CDA (AIP 01, CDOL1 8C) with GENERATE AC asking for an ARQC with the CDA
 * signature (P1 90; zero amount, the cryptogram is never sent anywhere) when DDA gives
 * none; SDA (AIP 40, 93). A card that offers none of them, or whose answers do not make
 * a proof (a field missing or too long, a signing command refused, a record signed for
 * ODA missing, the PAN in the static data outside 5A), gives kind CF_PROOF_NONE and a
 * sentence in note (English, never the PAN; may be NULL); a card without an AIP gives
 * no proof (CF_PROOF_ABSENT). The identification never fails because of the proof: the
 * return codes are cf_emv_read's, and a link failure during the signing command too.
 * proof may be NULL (then this is cf_emv_read); on error *proof is zeroed. */
int cf_emv_read_proof(cf_transceive_fn transceive, void *ctx,
                      const struct cf_emv_terminal *terminal, struct cf_emv_card *card,
                      struct cf_card_proof *proof, char *note, size_t note_size);

/* Overwrite the card with zeros (OPENSSL_cleanse). Accepts NULL. */
void cf_emv_card_wipe(struct cf_emv_card *card);

#endif
