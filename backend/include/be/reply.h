/* Replies: JSON, text, downloads and RFC 7807 problems, written through the request's
 * transport. Every answer of carefactd goes out through these. */
#ifndef BE_REPLY_H
#define BE_REPLY_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "be/request.h"
#include "cf/error.h"

#define BE_PROBLEM_BASE "https://carefact.example/problems/"

/* Send JSON (takes ownership of body and frees it; NULL is answered 503). */
void be_reply_json(struct be_request *req, int status, cJSON *body);

/* Send text with the given content type. */
void be_reply_text(struct be_request *req, int status, const char *content_type, const char *text);

/* Send body (len bytes, borrowed) as a 200 download: Content-Disposition attachment
 * with filename ([A-Za-z0-9._-], 1..100 bytes; anything else is answered 503 and
 * nothing is sent as the file). */
void be_reply_attachment(struct be_request *req, const char *content_type, const char *filename,
                         const char *body, size_t len);

/* Send body (len bytes, borrowed) with extra_headers (each "Name: value\r\n", built by
 * the caller from checked values only: nothing a client sent goes in unescaped; may be
 * NULL): an application's document with its own Content-Disposition and security
 * headers, the printable form. */
void be_reply_with_headers(struct be_request *req, int status, const char *content_type,
                           const char *extra_headers, const char *body, size_t len);

/* RFC 7807 problem: type is the stable short name ("validation", "tampering"...),
 * published as https://carefact.example/problems/<type>; field may be NULL.
 * extra (may be NULL, taken) adds members such as expected_seq. */
void be_reply_problem(struct be_request *req, int status, const char *type, const char *title,
                      const char *detail, const char *field, cJSON *extra);

/* A validation failure from firmware-shared as a 4xx problem (400 for malformed
 * JSON, 413 for a body over the cap, 422 otherwise). */
void be_reply_invalid(struct be_request *req, const struct cf_error_detail *detail);

/* A query-string failure (be_query_parse, or a check of a value): 400 `validation`
 * naming the parameter. */
void be_reply_query_invalid(struct be_request *req, const struct cf_error_detail *detail);

/* The server's own fault that is neither the client's nor the database's (a crypto
 * or random-number failure, out of memory): logged as an error with what, answered
 * 503 `unavailable` (nothing was stored; the client may retry). Not counted as a
 * database error. */
void be_reply_server_fault(struct be_request *req, const char *what);

#endif
