/* The agent's HTTP client: the only libcurl code. One connection (kept alive across
 * requests) to the server named at enrolment, HTTPS verified against the pinned CA
 * only (the system's CAs are not consulted), plain HTTP only to a loopback address.
 * No redirects are followed (a captive portal's 302 is an answer, not a server),
 * every answer is read up to a hard cap, every request has a deadline. */
#ifndef AG_HTTP_H
#define AG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf/batch.h"
#include "cf/uuid.h"

#define AG_HTTP_CONNECT_TIMEOUT_MS 10000
#define AG_HTTP_TIMEOUT_MS 60000

struct ag_http; /* opaque: the curl handle and its settings */

struct ag_http_reply {
    long status; /* HTTP status of the answer */
    char content_type[128]; /* "" when absent */
    char *body; /* NUL-terminated; free with ag_http_reply_cleanup */
    size_t body_len;
    int64_t date_ms; /* the Date header as UTC ms, 0 when absent */
    int64_t sent_ms, received_ms; /* device wall clock around the exchange */
};

/* Check a server URL: "https://host[:port]" or, for a loopback host (127.0.0.0/8,
 * ::1, localhost), "http://...". No path, query, user or fragment. Returns 0 or
 * CF_EINVAL with a sentence in error (English). */
int ag_http_check_url(const char *url, bool *https, char *error, size_t error_size);

/* base_url and ca_pem are copied; ca_pem "" is allowed only for http. max_body caps
 * every answer (CF_ETOOBIG above it). Returns 0, CF_EINVAL, CF_ENOMEM. */
int ag_http_new(const char *base_url, const char *ca_pem, size_t max_body, struct ag_http **out);
void ag_http_free(struct ag_http *http);

/* Sign every following request as this enrolled device (cf_request_sign: method,
 * path, body digest, time, device id), so the backend knows who asks. */
void ag_http_sign_as(struct ag_http *http, const uint8_t device_id[CF_UUID_LEN],
                     const uint8_t private_key[CF_ED25519_KEY_LEN]);

/* One request: method "GET" or "POST" (body JSON, may be NULL for GET) to base_url
 * + path. Returns 0 when an HTTP answer came (any status: the caller decides), or
 * CF_ENETWORK (no connection, timeout, connection dropped before the answer was
 * complete), CF_ETLS (certificate not from the pinned CA, or TLS failure),
 * CF_ETOOBIG, CF_ENOMEM. error receives curl's own words. */
int ag_http_request(struct ag_http *http, const char *method, const char *path, const char *body,
                    size_t body_len, struct ag_http_reply *reply, char *error, size_t error_size);

void ag_http_reply_cleanup(struct ag_http_reply *reply);

#endif
