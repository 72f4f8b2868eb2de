/* Checks that the HTTP API tests share (cmocka): one request with the status it must
 * answer, the JSON members read back, and the shape of an RFC 7807 problem. Each
 * failed check fails the running cmocka test with the request and the body. */
#ifndef CF_TEST_API_CHECK_H
#define CF_TEST_API_CHECK_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "harness.h"

/* One request (body may be NULL) that must answer `want`; an error status must come as
 * application/problem+json. Returns the parsed body (caller frees with cJSON_Delete). */
cJSON *cf_api_json(struct cf_harness *h, const char *method, const char *path, const char *body,
                   long want);

/* A problem (taken, freed here) of type ".../problems/<type>", naming `field` when not
 * NULL, with a detail a person can act on. */
void cf_api_expect_problem(cJSON *problem, const char *type, const char *field);

/* Members of obj (borrowed): the string ("" when absent or not a string), the number
 * (-1 when absent or not a number), whether it is JSON true. */
const char *cf_json_str(const cJSON *obj, const char *name);
double cf_json_num(const cJSON *obj, const char *name);
long cf_json_long(const cJSON *obj, const char *name);
bool cf_json_true(const cJSON *obj, const char *name);

#endif
