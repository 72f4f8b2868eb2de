/* The server's verdict on an event's card proof (issue 14): the chain verified with the
 * scheme CA keys (firmware-shared cf/oda.h) over the challenge recomputed from the event
 * (cf_card_challenge), the card number recovered in memory only and its token derived with
 * the region's key and compared with the token the event claims. Reuse of a signature
 * across events is decided by ingest against the database (card_sdads). Pure code: no
 * database; the PAN never leaves be_card_proof_judge. */
#ifndef BE_CARD_PROOF_H
#define BE_CARD_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "be/event_row.h"
#include "cf/event.h"
#include "cf/oda.h"

/* Judge event's proof into *out (out->present false when the event carries none: then
 * nothing else is filled). keys: borrowed, count entries. token_key: the region's (16..64
 * bytes, borrowed). The level is dynamic / static on success, none with out->failure set
 * otherwise (token_mismatch when the recovered PAN's token is not the event's). Returns 0
 * (the verdict is in *out), or CF_ENOMEM / CF_ECRYPTO when the server cannot judge now. */
int be_card_proof_judge(const struct cf_event *event, const struct cf_oda_ca_key *keys,
                        size_t count, const uint8_t *token_key, size_t token_key_len,
                        struct be_card_verdict *out);

/* Mark a verdict as a replay of a signature already accepted (reused_signature). */
void be_card_proof_reused(struct be_card_verdict *verdict);

#endif
