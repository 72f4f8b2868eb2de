/* Strict readers of JSON objects from outside (cJSON underneath), shared by the
 * event decoder and the backend's request bodies so every body is checked the same
 * way: unknown or repeated fields refused, integers integral and in range, strings
 * bounded. Each failure fills *detail with the field path ("prefix.name") and a
 * sentence a person can act on, and returns a CF_EFIELD_... code. */
#ifndef CF_JSON_H
#define CF_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cf/error.h"
#include "cf/event.h"

/* object must be a JSON object whose field names are all in allowed
 * (NULL-terminated), none given twice. path names the object ("" = the body). */
int cf_json_check_fields(const cJSON *object, const char *const *allowed, const char *path,
                         struct cf_error_detail *detail);

/* Integer field within [min, max] (both clamped to +-CF_JSON_INT_MAX); absent and
 * not required -> *out = 0. A non-number or a fraction is CF_EFIELD_TYPE, outside
 * the range CF_EFIELD_RANGE. */
int cf_json_get_int(const cJSON *object, const char *name, const char *path, bool required,
                    int64_t min, int64_t max, int64_t *out, struct cf_error_detail *detail);

/* String field of at most max_len bytes copied into out (NUL-terminated);
 * absent and not required -> "". */
int cf_json_get_string(const cJSON *object, const char *name, const char *path, bool required,
                       size_t max_len, char *out, size_t out_size, struct cf_error_detail *detail);

/* A person's text (cf/text.h: strict UTF-8, no control character but newline) of at
 * most max_chars characters, copied into out (out_size must hold 4 bytes per
 * character); required means present and not blank. Absent and not required -> "".
 * what says in the message what the text is for ("say why the visit is corrected"). */
int cf_json_get_text(const cJSON *object, const char *name, const char *path, bool required,
                     size_t max_chars, const char *what, char *out, size_t out_size,
                     struct cf_error_detail *detail);

/* UUID text field; absent and not required -> nil UUID. */
int cf_json_get_uuid(const cJSON *object, const char *name, const char *path, bool required,
                     uint8_t out[CF_UUID_LEN], struct cf_error_detail *detail);

/* Hex field of exactly len bytes (len <= 64); absent and not required -> zeros. */
int cf_json_get_hex(const cJSON *object, const char *name, const char *path, bool required,
                    uint8_t *out, size_t len, struct cf_error_detail *detail);

/* Largest magnitude of an integer read or written as a JSON number: 10^15 - 1.
 * A JSON number is a double, exact only up to 2^53; and cJSON prints a double with
 * 15 significant digits whenever that reads back within its relative tolerance, so
 * 9007190925474099 comes out as 9.0071909254741e+15. Below 10^15 both are exact. */
#define CF_JSON_INT_MAX INT64_C(999999999999999)

/* Deepest nesting of objects and arrays any body may have. cJSON recurses once per
 * level (its own limit is 1000); no carefact body needs more than a handful. */
#define CF_JSON_MAX_DEPTH 32

/* Parse a whole body of len bytes (text need not be NUL-terminated; cap max_len).
 * Returns 0, or CF_ETOOBIG over the cap, or CF_EJSON when it is not exactly one
 * JSON value (trailing data included), is nested deeper than CF_JSON_MAX_DEPTH,
 * holds a raw control character (anywhere but JSON whitespace) or a \u0000 escape.
 * detail->field is "" for these whole-body errors. Caller frees *out with
 * cJSON_Delete; *out is NULL on error. */
int cf_json_parse(const char *text, size_t len, size_t max_len, cJSON **out,
                  struct cf_error_detail *detail);

/* cf_json_parse with a cap on the number of values as well (CF_ETOOBIG above it),
 * checked before any tree is built: cJSON spends ~80 bytes of heap per value, so a
 * body of small values ("[1,1,1,...") would otherwise cost 40 times its size. */
int cf_json_parse_capped(const char *text, size_t len, size_t max_len, size_t max_values,
                         cJSON **out, struct cf_error_detail *detail);

#endif
