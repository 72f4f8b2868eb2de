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

/* Integer field within [min, max]; absent and not required -> *out = 0. */
int cf_json_get_int(const cJSON *object, const char *name, const char *path, bool required,
                    int64_t min, int64_t max, int64_t *out, struct cf_error_detail *detail);

/* String field of at most max_len bytes copied into out (NUL-terminated);
 * absent and not required -> "". */
int cf_json_get_string(const cJSON *object, const char *name, const char *path, bool required,
                       size_t max_len, char *out, size_t out_size, struct cf_error_detail *detail);

/* UUID text field; absent and not required -> nil UUID. */
int cf_json_get_uuid(const cJSON *object, const char *name, const char *path, bool required,
                     uint8_t out[CF_UUID_LEN], struct cf_error_detail *detail);

/* Hex field of exactly len bytes (len <= 64); absent and not required -> zeros. */
int cf_json_get_hex(const cJSON *object, const char *name, const char *path, bool required,
                    uint8_t *out, size_t len, struct cf_error_detail *detail);

/* Parse a whole body of len bytes (cap max_len): CF_ETOOBIG over the cap,
 * CF_EJSON when it is not one JSON value (trailing garbage included). Caller frees
 * *out with cJSON_Delete. */
int cf_json_parse(const char *text, size_t len, size_t max_len, cJSON **out,
                  struct cf_error_detail *detail);

#endif
