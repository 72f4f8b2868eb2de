/* UUIDs (16 bytes inside; text "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" at the edges)
 * and time helpers. Randomness comes from OpenSSL's RAND_bytes. */
#ifndef CF_UUID_H
#define CF_UUID_H

#include <stdbool.h>
#include <stdint.h>

#include "cf/event.h"

#define CF_UUID_TEXT_LEN 36

/* Random UUID v4. Returns 0 or CF_ECRYPTO. */
int cf_uuid_v4(uint8_t out[CF_UUID_LEN]);

/* Time-ordered UUID v7 (RFC 9562 section 5.7) for the given UTC ms: 48-bit
 * big-endian ms, version 7, 74 random bits, variant 10. Ids of later milliseconds
 * sort after earlier ones (byte order = text order); within one ms the order is
 * random. Returns 0, CF_EINVAL for unix_ms outside 0..2^48-1, or CF_ECRYPTO. */
int cf_uuid_v7(int64_t unix_ms, uint8_t out[CF_UUID_LEN]);

/* Lower-case text, NUL-terminated (out: CF_UUID_TEXT_LEN + 1). */
void cf_uuid_to_text(const uint8_t uuid[CF_UUID_LEN], char out[CF_UUID_TEXT_LEN + 1]);

/* Parse exactly 36 characters (hyphens at 8, 13, 18, 23; hex either case).
 * Returns 0 or CF_EMALFORM. */
int cf_uuid_from_text(const char *text, uint8_t out[CF_UUID_LEN]);

/* True when all 16 bytes are zero (the "no id" value). */
bool cf_uuid_is_nil(const uint8_t uuid[CF_UUID_LEN]);

/* Wall clock, UTC ms since the epoch (CLOCK_REALTIME). */
int64_t cf_time_now_ms(void);

/* Monotonic clock in ms (CLOCK_MONOTONIC; on the device CLOCK_BOOTTIME where
 * available so a suspended terminal still counts). */
int64_t cf_time_mono_ms(void);

/* Calendar date (UTC) of a time in ms since the epoch (no time_t, no shared state). */
void cf_time_civil_date(int64_t unix_ms, int *year, int *month, int *day);

/* RFC 3339 UTC text "2026-11-22T09:15:00.123Z" for ms; out at least 25 bytes.
 * Returns 0 or CF_EINVAL for a time outside years 1970..9999. */
int cf_time_format_utc(int64_t unix_ms, char *out, size_t out_size);

#endif
