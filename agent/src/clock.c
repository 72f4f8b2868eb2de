/* The terminal's clocks for events (see ag/clock.h): wall, monotonic since boot and
 * the boot id, plus the few time texts the worker sees. The test hooks are read on
 * every call so a test can "move the clock" or "reboot" between two commands. */
#include "ag/clock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ag/messages.h"
#include "cf/uuid.h"

#define BOOT_ID_FILE "/proc/sys/kernel/random/boot_id"

/* An integer from the environment; absent -> 0. Malformed -> CF_EINVAL. */
static int env_offset(const char *name, int64_t *out)
{
    const char *text = getenv(name);
    *out = 0;
    if (!text || !*text)
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    /* A century either way is plenty for a test and keeps sums far from overflow. */
    if (errno || end == text || *end || v < -INT64_C(3155760000000) || v > INT64_C(3155760000000))
        return CF_EINVAL;
    *out = v;
    return 0;
}

int64_t ag_wall_now_ms(void)
{
    int64_t offset = 0;
    env_offset("CAREFACT_WALL_OFFSET_MS", &offset);
    return cf_time_now_ms() + offset;
}

static int read_boot_id(uint8_t out[CF_UUID_LEN])
{
    const char *env = getenv("CAREFACT_BOOT_ID");
    if (env && *env)
        return cf_uuid_from_text(env, out) ? CF_EINVAL : 0;
    char text[64] = {0};
    FILE *f = fopen(BOOT_ID_FILE, "r");
    if (!f)
        return CF_EINVAL;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    text[strcspn(text, "\r\n")] = '\0';
    return cf_uuid_from_text(text, out) ? CF_EINVAL : 0;
}

int ag_moment_now(struct ag_moment *out)
{
    int64_t wall_offset = 0, mono_offset = 0;
    memset(out, 0, sizeof *out);
    if (env_offset("CAREFACT_WALL_OFFSET_MS", &wall_offset) ||
        env_offset("CAREFACT_MONO_OFFSET_MS", &mono_offset))
        return CF_EINVAL;
    int rc = read_boot_id(out->boot_id);
    if (rc)
        return rc;
    out->wall_ms = cf_time_now_ms() + wall_offset;
    /* cf_time_mono_ms is CLOCK_BOOTTIME: it keeps counting while the terminal is
     * suspended, so a visit with the terminal asleep in a pocket still lasts as long
     * as it really did. */
    out->mono_ms = cf_time_mono_ms() + mono_offset;
    if (out->mono_ms < 0)
        out->mono_ms = 0;
    return 0;
}

static void local_tm(int64_t wall_ms, struct tm *tm)
{
    time_t t = (time_t)(wall_ms / 1000 - (wall_ms % 1000 < 0));
    if (!localtime_r(&t, tm))
        memset(tm, 0, sizeof *tm);
}

void ag_local_date(int64_t wall_ms, char out[11])
{
    struct tm tm;
    local_tm(wall_ms, &tm);
    char text[40];
    snprintf(text, sizeof text, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    snprintf(out, 11, "%.10s", text);
}

void ag_local_time(int64_t wall_ms, char out[6])
{
    struct tm tm;
    local_tm(wall_ms, &tm);
    char text[32];
    snprintf(text, sizeof text, "%02d:%02d", tm.tm_hour, tm.tm_min);
    snprintf(out, 6, "%.5s", text);
}

void ag_duration_text(int64_t ms, char out[32])
{
    const char *sign = ms < 0 ? "-" : "";
    int64_t s = ms < 0 ? -(ms / 1000) : ms / 1000;
    if (s < 60)
        snprintf(out, 32, AG_MSG_DURATION_S, sign, (long long)s);
    else if (s < 3600)
        snprintf(out, 32, AG_MSG_DURATION_MIN, sign, (long long)(s / 60));
    else if (s < 86400)
        snprintf(out, 32, AG_MSG_DURATION_H_MIN, sign, (long long)(s / 3600),
                 (long long)(s % 3600 / 60));
    else
        snprintf(out, 32, AG_MSG_DURATION_D_H, sign, (long long)(s / 86400),
                 (long long)(s % 86400 / 3600));
}

/* Fixed-width decimal field; returns -1 when a character is not a digit. */
static int digits(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_ymd(const char *t, int *y, int *m, int *d)
{
    if (strlen(t) < 10 || t[4] != '-' || t[7] != '-')
        return CF_EMALFORM;
    *y = digits(t, 4);
    *m = digits(t + 5, 2);
    *d = digits(t + 8, 2);
    if (*y < 1970 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
        return CF_EMALFORM;
    return 0;
}

int ag_parse_date(const char *text)
{
    int y, m, d;
    if (!text || strlen(text) != 10)
        return CF_EMALFORM;
    return parse_ymd(text, &y, &m, &d);
}

int ag_parse_time(const char *text, int64_t *out_ms)
{
    int y, m, d;
    if (!text || parse_ymd(text, &y, &m, &d) || (text[10] != 'T' && text[10] != ' '))
        return CF_EMALFORM;
    const char *p = text + 11;
    if (strlen(p) < 8 || p[2] != ':' || p[5] != ':')
        return CF_EMALFORM;
    int hh = digits(p, 2), mm = digits(p + 3, 2), ss = digits(p + 6, 2);
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
        return CF_EMALFORM;
    p += 8;
    int ms = 0;
    if (*p == '.') {
        int scale = 100, n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 3) {
                ms += (*p - '0') * scale;
                scale /= 10;
            }
        if (n == 0 || n > 9)
            return CF_EMALFORM;
    }
    int64_t offset_min = 0;
    if (*p == 'Z' && p[1] == '\0') {
        offset_min = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh = digits(p + 1, 2), om = digits(p + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return CF_EMALFORM;
        offset_min = (*p == '-' ? -1 : 1) * (oh * 60 + om);
    } else {
        return CF_EMALFORM;
    }
    int64_t seconds = days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
    *out_ms = (seconds - offset_min * 60) * 1000 + ms;
    return 0;
}
