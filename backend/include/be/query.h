/* Query strings of GET requests (?state=ended&limit=50): strict, like the JSON
 * bodies -- an unknown or repeated parameter, a bad %-escape or an over-long value is
 * an error naming the parameter, never silently ignored. Pure code (no civetweb). */
#ifndef BE_QUERY_H
#define BE_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "cf/error.h"

#define BE_QUERY_MAX 2048 /* bytes of query string accepted */
#define BE_QUERY_PARAMS_MAX 16

/* One parameter as the caller wants it: name, destination and its size (value
 * length at most size - 1 after %-decoding; '+' means space). */
struct be_query_param {
    const char *name;
    char *value; /* receives the decoded value, "" when absent */
    size_t size;
};

/* Fill every params[i].value from query (may be NULL or ""; borrowed). Returns 0, or
 * CF_EFIELD_UNKNOWN (a name not in params), CF_EFIELD_RANGE (repeated, too long, or
 * a value holding a control character), CF_EMALFORM (a bad %-escape), CF_ETOOBIG
 * (query over BE_QUERY_MAX), with *detail naming the parameter. */
int be_query_parse(const char *query, struct be_query_param *params, size_t count,
                   struct cf_error_detail *detail);

/* RFC 3339 date-time ("2026-11-22T09:00:00Z", "...09:00:00.5+03:00") or full-date
 * ("2026-11-22", meaning midnight UTC), years 1970..9999, fields in range. */
bool be_time_text_valid(const char *text);

/* A keyset cursor as the lists' next_cursor gives it, "MICROSECONDS_UUID" (the sort
 * time since the epoch, signed, at most 18 digits; the row's id): its parts into us
 * (at least 21 bytes) and id (37 bytes, canonical). False when it is anything else. */
#define BE_CURSOR_US_SIZE 24
bool be_cursor_split(const char *cursor, char us[BE_CURSOR_US_SIZE], char id[37]);

#endif
