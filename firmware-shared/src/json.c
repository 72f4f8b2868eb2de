/* Strict readers of JSON from outside (see cf/json.h), over cJSON.
 *
 * cJSON is lenient where we must not be (it keeps a \u0000 inside a string, so the
 * C string silently ends early; it takes any byte below 0x20 as whitespace) and it
 * recurses once per nesting level. So every body is first scanned once, flat, and
 * refused early when it is deeper, larger or stranger than any real body can be;
 * only then does cJSON build a tree, whose size the scan has already bounded. */
#include "cf/json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cf/codec.h"
#include "cf/text.h"
#include "cf/uuid.h"

/* ==== Paths ==== */

/* Copy of a field name from the input, safe to show in a message or a log: at most
 * 40 bytes, anything but printable ASCII replaced by '?'. */
static void printable_name(char *out, size_t size, const char *name)
{
    size_t o = 0;
    for (size_t i = 0; name && name[i] && o + 1 < size && i < 40; i++) {
        unsigned char c = (unsigned char)name[i];
        out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (size)
        out[o] = '\0';
}

/* Field path "prefix.name" for error details. */
static void path_join(char *out, size_t size, const char *prefix, const char *name)
{
    if (prefix && prefix[0])
        snprintf(out, size, "%s.%s", prefix, name);
    else
        snprintf(out, size, "%s", name);
}

/* ==== Readers ==== */

int cf_json_check_fields(const cJSON *object, const char *const *allowed, const char *path,
                         struct cf_error_detail *d)
{
    char field[96], name[48];
    if (!cJSON_IsObject(object))
        return cf_error_set(d, CF_EFIELD_TYPE, path, "%s must be a JSON object",
                            path && path[0] ? path : "the body");
    for (const cJSON *item = object->child; item; item = item->next) {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = item->string && strcmp(item->string, allowed[i]) == 0;
        printable_name(name, sizeof name, item->string ? item->string : "?");
        path_join(field, sizeof field, path, name);
        if (!known)
            return cf_error_set(d, CF_EFIELD_UNKNOWN, field,
                                "%s is not a field this version knows: check its spelling", field);
        /* Only known names get here, so this loop is bounded by the allowed list. */
        for (const cJSON *other = object->child; other != item; other = other->next)
            if (strcmp(other->string, item->string) == 0)
                return cf_error_set(d, CF_EFIELD_UNKNOWN, field,
                                    "%s is given twice: give each field once", field);
    }
    return 0;
}

int cf_json_get_int(const cJSON *object, const char *name, const char *path, bool required,
                    int64_t min, int64_t max, int64_t *out, struct cf_error_detail *d)
{
    char field[96];
    path_join(field, sizeof field, path, name);
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    if (!item) {
        if (required)
            return cf_error_set(d, CF_EFIELD_MISSING, field, "%s is required", field);
        *out = 0;
        return 0;
    }
    if (min < -CF_JSON_INT_MAX)
        min = -CF_JSON_INT_MAX;
    if (max > CF_JSON_INT_MAX)
        max = CF_JSON_INT_MAX;
    double v = item->valuedouble;
    if (!cJSON_IsNumber(item) || !isfinite(v) || floor(v) != v)
        return cf_error_set(d, CF_EFIELD_TYPE, field, "%s must be a whole number", field);
    /* Past the clamped range a double may not hold the number the sender wrote (2^53),
     * or cJSON may not print it back exactly (10^15): see CF_JSON_INT_MAX. */
    if (v < (double)min || v > (double)max)
        return cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be between %lld and %lld", field,
                            (long long)min, (long long)max);
    *out = (int64_t)v;
    return 0;
}

int cf_json_get_string(const cJSON *object, const char *name, const char *path, bool required,
                       size_t max_len, char *out, size_t out_size, struct cf_error_detail *d)
{
    char field[96];
    path_join(field, sizeof field, path, name);
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    if (!item) {
        if (required)
            return cf_error_set(d, CF_EFIELD_MISSING, field, "%s is required", field);
        if (out_size)
            out[0] = '\0';
        return 0;
    }
    if (!cJSON_IsString(item) || !item->valuestring)
        return cf_error_set(d, CF_EFIELD_TYPE, field, "%s must be a string", field);
    size_t len = strlen(item->valuestring);
    if (len > max_len || len >= out_size)
        return cf_error_set(d, CF_EFIELD_RANGE, field, "%s is longer than %zu bytes", field,
                            max_len);
    memcpy(out, item->valuestring, len + 1);
    return 0;
}

int cf_json_get_text(const cJSON *object, const char *name, const char *path, bool required,
                     size_t max_chars, const char *what, char *out, size_t out_size,
                     struct cf_error_detail *d)
{
    char field[96];
    path_join(field, sizeof field, path, name);
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    if (!item && required)
        return cf_error_set(d, CF_EFIELD_MISSING, field, "%s is required: %s", field, what);
    int rc = cf_json_get_string(object, name, path, required, out_size - 1, out, out_size, d);
    if (rc == CF_EFIELD_RANGE)
        return cf_error_set(d, CF_EFIELD_RANGE, field, "%s is at most %zu characters", field,
                            max_chars);
    if (rc)
        return rc;
    long chars = cf_text_chars(out);
    if (chars < 0)
        rc = cf_error_set(d, CF_EFIELD_RANGE, field,
                          "%s must be plain text (UTF-8, no control characters but newlines)",
                          field);
    else if ((size_t)chars > max_chars)
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s is at most %zu characters", field,
                          max_chars);
    else if (required && cf_text_blank(out))
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must not be empty: %s", field, what);
    if (rc)
        out[0] = '\0';
    return rc;
}

int cf_json_get_uuid(const cJSON *object, const char *name, const char *path, bool required,
                     uint8_t out[CF_UUID_LEN], struct cf_error_detail *d)
{
    char text[CF_UUID_TEXT_LEN + 2];
    memset(out, 0, CF_UUID_LEN);
    if (!required && !cJSON_GetObjectItemCaseSensitive(object, name))
        return 0;
    int rc = cf_json_get_string(object, name, path, required, CF_UUID_TEXT_LEN + 1, text,
                                sizeof text, d);
    if (!rc && cf_uuid_from_text(text, out)) {
        char field[96];
        path_join(field, sizeof field, path, name);
        rc = cf_error_set(d, CF_EFIELD_RANGE, field,
                          "%s must be a UUID like 0190a6e4-7b1c-7d3e-8f00-1234567890ab", field);
    }
    return rc;
}

int cf_json_get_hex(const cJSON *object, const char *name, const char *path, bool required,
                    uint8_t *out, size_t len, struct cf_error_detail *d)
{
    char text[2 * 64 + 2];
    char field[96];
    if (2 * len + 1 > sizeof text)
        return CF_EINVAL;
    memset(out, 0, len);
    if (!required && !cJSON_GetObjectItemCaseSensitive(object, name))
        return 0;
    int rc = cf_json_get_string(object, name, path, required, 2 * len, text, sizeof text, d);
    if (rc)
        return rc;
    size_t n = 0;
    if (strlen(text) != 2 * len || cf_hex_decode(text, 2 * len, out, len, &n) || n != len) {
        memset(out, 0, len);
        path_join(field, sizeof field, path, name);
        return cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be %zu hex digits", field, 2 * len);
    }
    return 0;
}

/* ==== Parsing ==== */

static bool hex4(const char *p)
{
    for (int i = 0; i < 4; i++)
        if (cf_hex_digit(p[i]) < 0)
            return false;
    return true;
}

/* One flat pass over the text before cJSON sees it. Refuses (CF_EJSON) raw control
 * bytes anywhere but JSON whitespace, \u0000 escapes and \u escapes without four hex
 * digits (cJSON decodes those as NUL too: either would cut a C string short without
 * a trace) and nesting deeper than CF_JSON_MAX_DEPTH (cJSON recurses
 * per level); refuses (CF_ETOOBIG) more than max_values values. The value count is
 * an upper bound, 1 + commas + opening brackets outside strings, so the tree cJSON
 * then builds has at most that many nodes. Anything else wrong is left to cJSON. */
static int scan_text(const char *text, size_t len, size_t max_values, struct cf_error_detail *d)
{
    size_t depth = 0, values = 1;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 && (in_string || (c != ' ' && c != '\t' && c != '\n' && c != '\r')))
            return cf_error_set(d, CF_EJSON, "",
                                "the body has a raw control character (byte %zu); inside strings "
                                "write it as an escape such as \\n",
                                i);
        if (in_string) {
            if (c == '"') {
                in_string = false;
            } else if (c == '\\' && i + 1 < len) {
                if (text[i + 1] == 'u') {
                    if (len - i < 6 || !hex4(text + i + 2))
                        return cf_error_set(d, CF_EJSON, "",
                                            "the body has \\u without four hex digits (byte %zu)",
                                            i);
                    if (memcmp(text + i + 2, "0000", 4) == 0)
                        return cf_error_set(d, CF_EJSON, "",
                                            "the body has \\u0000 (byte %zu): strings may not "
                                            "hold NUL characters",
                                            i);
                }
                i++; /* the escaped character cannot end the string */
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > CF_JSON_MAX_DEPTH)
                return cf_error_set(d, CF_EJSON, "",
                                    "the body is nested deeper than %d levels (byte %zu)",
                                    CF_JSON_MAX_DEPTH, i);
            values++;
        } else if (c == ']' || c == '}') {
            depth -= depth > 0;
        } else if (c == ',') {
            values++;
        }
        if (values > max_values)
            return cf_error_set(d, CF_ETOOBIG, "",
                                "the body holds more than %zu JSON values: send less at once",
                                max_values);
    }
    return 0;
}

int cf_json_parse_capped(const char *text, size_t len, size_t max_len, size_t max_values,
                         cJSON **out, struct cf_error_detail *d)
{
    *out = NULL;
    if (!text)
        return CF_EINVAL;
    if (len > max_len)
        return cf_error_set(d, CF_ETOOBIG, "", "the body is larger than %zu bytes", max_len);
    int rc = scan_text(text, len, max_values, d);
    if (rc)
        return rc;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        return cf_error_set(d, CF_EJSON, "", "the body is not valid JSON (error near byte %zu)",
                            at);
    }
    for (size_t i = (size_t)(end - text); i < len; i++) {
        char c = text[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            cJSON_Delete(root);
            return cf_error_set(d, CF_EJSON, "",
                                "the body has data after its JSON value (byte %zu)", i);
        }
    }
    *out = root;
    return 0;
}

int cf_json_parse(const char *text, size_t len, size_t max_len, cJSON **out,
                  struct cf_error_detail *d)
{
    return cf_json_parse_capped(text, len, max_len, SIZE_MAX, out, d);
}
