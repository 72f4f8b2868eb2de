/* UUIDs and time helpers (see cf/uuid.h). UUIDs are 16 bytes inside carefact and
 * text only at the edges; v7 ones sort by creation time, which keeps database
 * indexes on device-made ids append-mostly. */
#include "cf/uuid.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "cf/codec.h"
#include "cf/error.h"

static void set_version_variant(uint8_t out[CF_UUID_LEN], unsigned version)
{
    out[6] = (uint8_t)((out[6] & 0x0f) | (version << 4));
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

int cf_uuid_v4(uint8_t out[CF_UUID_LEN])
{
    if (RAND_bytes(out, CF_UUID_LEN) != 1)
        return CF_ECRYPTO;
    set_version_variant(out, 4);
    return 0;
}

int cf_uuid_v7(int64_t unix_ms, uint8_t out[CF_UUID_LEN])
{
    if (unix_ms < 0 || unix_ms > INT64_C(0xffffffffffff))
        return CF_EINVAL;
    if (RAND_bytes(out + 6, CF_UUID_LEN - 6) != 1)
        return CF_ECRYPTO;
    uint64_t ms = (uint64_t)unix_ms;
    for (int i = 5; i >= 0; i--) {
        out[i] = (uint8_t)(ms & 0xff);
        ms >>= 8;
    }
    set_version_variant(out, 7);
    return 0;
}

void cf_uuid_to_text(const uint8_t uuid[CF_UUID_LEN], char out[CF_UUID_TEXT_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < CF_UUID_LEN; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = digits[uuid[i] >> 4];
        out[o++] = digits[uuid[i] & 0x0f];
    }
    out[o] = '\0';
}

int cf_uuid_from_text(const char *text, uint8_t out[CF_UUID_LEN])
{
    static const size_t groups[5][2] = {{0, 8}, {9, 4}, {14, 4}, {19, 4}, {24, 12}};
    if (!text || strnlen(text, CF_UUID_TEXT_LEN + 1) != CF_UUID_TEXT_LEN)
        return CF_EMALFORM;
    if (text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-')
        return CF_EMALFORM;
    uint8_t bytes[CF_UUID_LEN];
    size_t o = 0;
    for (size_t g = 0; g < 5; g++) {
        size_t n = 0;
        if (cf_hex_decode(text + groups[g][0], groups[g][1], bytes + o, sizeof bytes - o, &n))
            return CF_EMALFORM;
        o += n;
    }
    memcpy(out, bytes, CF_UUID_LEN);
    return 0;
}

bool cf_uuid_is_nil(const uint8_t uuid[CF_UUID_LEN])
{
    for (size_t i = 0; i < CF_UUID_LEN; i++)
        if (uuid[i])
            return false;
    return true;
}

static int64_t clock_ms(clockid_t clock)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cf_time_now_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

int64_t cf_time_mono_ms(void)
{
#ifdef CLOCK_BOOTTIME
    return clock_ms(CLOCK_BOOTTIME);
#else
    return clock_ms(CLOCK_MONOTONIC);
#endif
}

/* Civil date from days since 1970-01-01 (H. Hinnant's algorithm): no gmtime, no
 * shared static state. */
static void civil_from_days(int64_t days, int *year, int *month, int *day)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = (int)(yoe + era * 400 + (*month <= 2));
}

void cf_time_civil_date(int64_t unix_ms, int *year, int *month, int *day)
{
    int64_t days = unix_ms / 86400000 - (unix_ms % 86400000 < 0);
    civil_from_days(days, year, month, day);
}

int cf_time_format_utc(int64_t unix_ms, char *out, size_t out_size)
{
    /* 9999-12-31T23:59:59.999Z */
    if (unix_ms < 0 || unix_ms > INT64_C(253402300799999) || out_size < 25)
        return CF_EINVAL;
    int64_t days = unix_ms / 86400000;
    int64_t in_day = unix_ms % 86400000;
    int year, month, day;
    civil_from_days(days, &year, &month, &day);
    snprintf(out, out_size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, month, day,
             (int)(in_day / 3600000), (int)(in_day / 60000 % 60), (int)(in_day / 1000 % 60),
             (int)(in_day % 1000));
    return 0;
}
