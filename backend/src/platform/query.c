/* Strict query-string parsing and time validation (see be/query.h). */
#include "be/query.h"

#include <string.h>

#include "cf/codec.h"
#include "cf/uuid.h"

/* %-decode src[0..len) into out (size bytes). Returns 0, CF_EMALFORM or
 * CF_EFIELD_RANGE (too long, or a decoded control character). */
static int decode(const char *src, size_t len, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)src[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (len - i < 3)
                return CF_EMALFORM;
            int h = cf_hex_digit(src[i + 1]), l = cf_hex_digit(src[i + 2]);
            if (h < 0 || l < 0)
                return CF_EMALFORM;
            c = h * 16 + l;
            i += 2;
        }
        if (c < 0x20 || c == 0x7f)
            return CF_EFIELD_RANGE;
        if (o + 1 >= size)
            return CF_EFIELD_RANGE;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

int be_query_parse(const char *query, struct be_query_param *params, size_t count,
                   struct cf_error_detail *d)
{
    bool seen[BE_QUERY_PARAMS_MAX] = {false};
    if (count > BE_QUERY_PARAMS_MAX)
        return CF_EINVAL;
    for (size_t i = 0; i < count; i++)
        params[i].value[0] = '\0';
    if (!query)
        return 0;
    if (strlen(query) > BE_QUERY_MAX)
        return cf_error_set(d, CF_ETOOBIG, "", "the query string is longer than %d bytes",
                            BE_QUERY_MAX);
    for (const char *p = query; *p;) {
        size_t len = strcspn(p, "&");
        if (len == 0) { /* "a=1&&b=2": an empty piece is harmless */
            p += 1;
            continue;
        }
        size_t name_len = strcspn(p, "=&");
        const char *value = p + name_len + (p[name_len] == '=');
        size_t value_len = len - (size_t)(value - p);
        size_t k = count;
        for (size_t i = 0; i < count; i++)
            if (strlen(params[i].name) == name_len && !strncmp(params[i].name, p, name_len))
                k = i;
        if (k == count)
            return cf_error_set(d, CF_EFIELD_UNKNOWN, "", "unknown query parameter '%.*s'",
                                (int)(name_len > 40 ? 40 : name_len), p);
        if (seen[k])
            return cf_error_set(d, CF_EFIELD_RANGE, params[k].name,
                                "query parameter %s is given twice", params[k].name);
        seen[k] = true;
        int rc = decode(value, value_len, params[k].value, params[k].size);
        if (rc == CF_EMALFORM)
            return cf_error_set(d, rc, params[k].name, "query parameter %s has a bad %%-escape",
                                params[k].name);
        if (rc)
            return cf_error_set(d, rc, params[k].name,
                                "query parameter %s is too long or holds a control character",
                                params[k].name);
        p += len + (p[len] == '&');
    }
    return 0;
}

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

bool be_time_text_valid(const char *t)
{
    size_t len = strlen(t);
    if (len < 10 || t[4] != '-' || t[7] != '-')
        return false;
    int year = digits(t, 4), month = digits(t + 5, 2), day = digits(t + 8, 2);
    if (year < 1970 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return false;
    if (len == 10)
        return true;
    const char *p = t + 10;
    if (strlen(p) < 9 || p[0] != 'T' || p[3] != ':' || p[6] != ':')
        return false;
    int hour = digits(p + 1, 2), minute = digits(p + 4, 2), second = digits(p + 7, 2);
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60)
        return false;
    p += 9;
    if (*p == '.') {
        size_t n = strspn(p + 1, "0123456789");
        if (n == 0 || n > 9)
            return false;
        p += 1 + n;
    }
    if (strcmp(p, "Z") == 0)
        return true;
    if ((p[0] != '+' && p[0] != '-') || strlen(p) != 6 || p[3] != ':')
        return false;
    int oh = digits(p + 1, 2), om = digits(p + 4, 2);
    return oh >= 0 && oh <= 23 && om >= 0 && om <= 59;
}

bool be_cursor_split(const char *cursor, char us[BE_CURSOR_US_SIZE], char id[37])
{
    const char *sep = strchr(cursor, '_');
    uint8_t bytes[CF_UUID_LEN];
    size_t n = sep ? (size_t)(sep - cursor) : 0, sign = cursor[0] == '-';
    if (n <= sign || n - sign > 18 || n >= BE_CURSOR_US_SIZE ||
        strspn(cursor + sign, "0123456789") != n - sign || cf_uuid_from_text(sep + 1, bytes))
        return false;
    memcpy(us, cursor, n);
    us[n] = '\0';
    cf_uuid_to_text(bytes, id);
    return true;
}
