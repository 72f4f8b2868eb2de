/* The agent's card reader: identifies the recipient from their own card through
 * libnfc (a PN532, an ACR122 or the tools/pn532-sim emulator, by connstring).
 *
 * A read waits for an ISO 14443 type A or B card, runs firmware-shared's EMV read
 * (cf/emv.h) over nfc_initiator_transceive_bytes and derives the card token
 * (cf/token.h) from the PAN; a type A card without ISO 14443-4 (SAK bit 0x20 clear:
 * MIFARE Classic, Ultralight, many social and transport cards) is identified by its
 * UID instead, with the weaker method "uid". The PAN never leaves this module: it is
 * turned into the token and wiped before ag_reader_read_card returns, and libnfc's
 * byte-level debug log (which would print APDUs) is switched off.
 *
 * This header and reader.c are the only places that know libnfc. */
#ifndef AG_READER_H
#define AG_READER_H

#include <stddef.h>
#include <stdint.h>

#include "cf/error.h"
#include "cf/event.h"

/* Reader outcomes that are not card data errors are CF_ENO_CARD, CF_ECARD_REMOVED,
 * CF_EREADER_NOT_FOUND and CF_EREADER_STOPPED (cf/error.h, the one numbering);
 * card errors are CF_ECARD_LOCKED, CF_ECARD_UNKNOWN, CF_ENOT_PAYMENT, CF_ENO_PAN,
 * CF_ECOMM. */

/* Timing. A read is bounded: wait_ms for a card, then AG_READ_BUDGET_MS for the
 * card's answers, then closing the reader (libnfc's own timeouts, about 1.5 s when
 * the reader is silent). */
#define AG_POLL_INTERVAL_MS 50 /* pause between two polls of an empty field */
#define AG_APDU_TIMEOUT_MS 1500 /* one command APDU and its answer */
#define AG_READ_BUDGET_MS 10000 /* all APDUs of one identification */
#define AG_REPOLL_MS 600 /* after a failed exchange: is the card still there? */
#define AG_WAIT_MS_MAX 600000

struct ag_reader; /* opaque: the libnfc context and device */

/* The result of one identification. card.method is CF_CARD_EMV (token from the PAN,
 * scheme, last4 set) or CF_CARD_UID (token from the UID; scheme and last4 ""). */
struct ag_card_read {
    struct cf_card_assurance card; /* card.proof: when a challenge was given (emv) */
    char proof_note[128]; /* why the proof is not dynamic (English, no PAN); "" if it is */
    int expiry_year; /* e.g. 2027; 0 when the card gives none or method is uid */
    int expiry_month; /* 1..12; 0 likewise */
};

/* Open the reader named by connstring (borrowed, e.g. "pn532_uart:/dev/pts/3") and
 * make it an initiator. *out receives a reader to release with ag_reader_close.
 * Returns 0, CF_EINVAL (NULL or over-long connstring), CF_ENOMEM,
 * CF_EREADER_NOT_FOUND (libnfc cannot open it: no such device, or it does not
 * answer), or CF_EREADER_STOPPED (it opened but refused the initiator set-up). */
int ag_reader_open(const char *connstring, struct ag_reader **out);

/* Release the reader (field off, chip to power-down). Accepts NULL. */
void ag_reader_close(struct ag_reader *reader);

/* Wait up to wait_ms (1..AG_WAIT_MS_MAX) for a card and identify it. token_key
 * (borrowed) is the regional token key, CF_TOKEN_KEY_MIN..CF_TOKEN_KEY_MAX bytes.
 * challenge (NULL: none, a random unpredictable number and no proof) is the event's
 * card challenge (cf_card_challenge): an EMV card is then asked for its proof over it
 * (cf_emv_read_proof) into out->card.proof; the proof never makes the read fail.
 * Returns 0 with *out filled, or with *out zeroed:
 *   CF_ENO_CARD, CF_ECARD_REMOVED, CF_EREADER_STOPPED,
 *   CF_ECARD_LOCKED, CF_ECARD_UNKNOWN, CF_ENOT_PAYMENT, CF_ENO_PAN,
 *   CF_ECOMM (the card answered malformed data),
 *   CF_EINVAL (bad arguments), CF_ECRYPTO. */
int ag_reader_read_card(struct ag_reader *reader, const uint8_t *token_key, size_t key_len,
                        int wait_ms, const uint8_t *challenge, struct ag_card_read *out);

#endif
