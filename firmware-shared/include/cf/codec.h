/* Text codecs at the edges: hex and base64url (RFC 4648 section 5, no padding).
 *
 * Inside carefact identifiers, digests and keys are bytes; these helpers turn them
 * into text for JSON, logs and the database and back, strictly: decoders reject any
 * character outside the alphabet, odd lengths and non-canonical trailing bits. */
#ifndef CF_CODEC_H
#define CF_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* Value of one hex digit (either case), or -1 for any other character. */
int cf_hex_digit(char c);

/* Lower-case hex of len bytes into out (room for 2*len+1, NUL-terminated).
 * Returns 0, or CF_ENOSPACE when out_size is too small. */
int cf_hex_encode(const uint8_t *in, size_t len, char *out, size_t out_size);

/* Decode hex text (either case, exactly text_len characters; spaces not allowed)
 * into out. *out_len receives the byte count. Returns 0, CF_EMALFORM for an odd
 * length or a non-hex character, CF_ENOSPACE when out_size is too small. */
int cf_hex_decode(const char *text, size_t text_len, uint8_t *out, size_t out_size,
                  size_t *out_len);

/* Length of the base64url text (without NUL) for len bytes. */
size_t cf_base64url_len(size_t len);

/* base64url without padding, NUL-terminated. Returns 0 or CF_ENOSPACE. */
int cf_base64url_encode(const uint8_t *in, size_t len, char *out, size_t out_size);

/* Strict base64url decode (no padding, no whitespace, canonical final bits).
 * Returns 0, CF_EMALFORM, or CF_ENOSPACE. */
int cf_base64url_decode(const char *text, size_t text_len, uint8_t *out, size_t out_size,
                        size_t *out_len);

#endif
