/* The recipient taps their card: the reader named by a connstring is opened, one card
 * is identified with the region's token key from the store's identity, and the reader
 * is closed again. The command line, the text terminal and the daemon (serve.c) all
 * read cards through this one function. */
#ifndef AG_CARD_TAP_H
#define AG_CARD_TAP_H

#include <stddef.h>
#include <stdint.h>

#include "ag/store.h"
#include "cf/event.h"

/* Wait up to wait_ms (1..AG_WAIT_MS_MAX) for a card on device (a libnfc connstring,
 * borrowed) and identify it; with a challenge (CF_CHALLENGE_LEN bytes: that of the event
 * the card confirms, ag_card_challenge), the card's proof over it comes in out->proof
 * (NULL: no proof is asked for). Returns 0 with *out filled, or with *out zeroed:
 * CF_ENOT_ENROLLED (no token key yet), CF_ENOMEM, and ag_reader_open's and
 * ag_reader_read_card's outcomes (CF_ENO_CARD when nobody tapped). */
int ag_card_tap(struct ag_store *store, const char *device, int wait_ms, const uint8_t *challenge,
                struct cf_card_assurance *out);

/* The same with the token key given (key_len bytes, borrowed): the daemon reads the
 * key once, so a card wait never holds its store. */
int ag_card_tap_key(const char *device, const uint8_t *key, size_t key_len, int wait_ms,
                    const uint8_t *challenge, struct cf_card_assurance *out);

#endif
