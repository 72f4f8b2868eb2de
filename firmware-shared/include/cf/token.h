/* Card tokens: what carefact keeps instead of a card number.
 *
 * token = base64url (no padding) of the first 16 bytes of
 *   HMAC-SHA256(regional token key, PAN as ASCII digits)        for bank cards,
 *   HMAC-SHA256(regional token key, "uid:" + UID in upper hex)  for UID-only cards.
 * The result is CF_TOKEN_TEXT_LEN (22) characters. */
#ifndef CF_TOKEN_H
#define CF_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "cf/event.h"

#define CF_TOKEN_KEY_MIN 16
#define CF_TOKEN_KEY_MAX 64

/* pan: 12..19 ASCII digits (borrowed). out: room for CF_TOKEN_TEXT_LEN + 1.
 * Returns 0, CF_EINVAL (key length outside 16..64 or PAN not 12..19 digits) or
 * CF_ECRYPTO. Internal copies of the PAN are wiped with OPENSSL_cleanse. */
int cf_token_from_pan(const uint8_t *key, size_t key_len, const char *pan,
                      char out[CF_TOKEN_TEXT_LEN + 1]);

/* uid: 4..10 bytes (borrowed). Same returns. */
int cf_token_from_uid(const uint8_t *key, size_t key_len, const uint8_t *uid, size_t uid_len,
                      char out[CF_TOKEN_TEXT_LEN + 1]);

#endif
