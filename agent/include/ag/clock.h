/* The terminal's sense of time for events: the wall clock (UTC ms, which a person
 * or the network may move), the monotonic clock since boot (CLOCK_BOOTTIME, which
 * nobody can move and which keeps counting through suspend) and the boot id that
 * names the monotonic clock's epoch. A visit's duration is trusted only when its
 * start and end share a boot id.
 *
 * Test hooks (documented, read on every call): CAREFACT_BOOT_ID=<uuid> replaces
 * /proc/sys/kernel/random/boot_id (a "reboot"); CAREFACT_WALL_OFFSET_MS=N moves the
 * wall clock by N ms (a clock set wrong); CAREFACT_MONO_OFFSET_MS=N adds N ms to
 * the monotonic clock (time passing, used with the wall offset). */
#ifndef AG_CLOCK_H
#define AG_CLOCK_H

#include <stdint.h>

#include "cf/event.h"

struct ag_moment {
    int64_t wall_ms; /* UTC ms since the epoch */
    int64_t mono_ms; /* ms since boot */
    uint8_t boot_id[CF_UUID_LEN];
};

/* Read the clocks now. Returns 0, or CF_EINVAL when no boot id can be read (no
 * /proc and no CAREFACT_BOOT_ID) or an override is malformed. */
int ag_moment_now(struct ag_moment *out);

/* Wall clock alone (with the wall offset hook), UTC ms. */
int64_t ag_wall_now_ms(void);

/* Local calendar date of a UTC time as "YYYY-MM-DD" (out: 11 bytes), in the
 * terminal's time zone: certificates are valid per calendar day. */
void ag_local_date(int64_t wall_ms, char out[11]);

/* "HH:MM" local time of a UTC time (out: 6 bytes). */
void ag_local_time(int64_t wall_ms, char out[6]);

/* Russian duration text, e.g. "2 ч 05 мин", "45 с", "3 дн 4 ч" (out: 32 bytes). */
void ag_duration_text(int64_t ms, char out[32]);

/* Parse an RFC 3339 time "2026-05-01T09:00:00(.123)?(Z|+03:00)" into UTC ms.
 * Returns 0 or CF_EMALFORM. */
int ag_parse_time(const char *text, int64_t *out_ms);

/* Parse a calendar date "YYYY-MM-DD" (checked: month 1..12, day within the month).
 * Returns 0 or CF_EMALFORM. */
int ag_parse_date(const char *text);

#endif
