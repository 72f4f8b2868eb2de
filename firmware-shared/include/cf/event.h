/* The event model: every fact a terminal records, its canonical binary encoding,
 * its SHA-256 digest and the per-device hash chain.
 *
 * Each device numbers its events 1, 2, 3... with no gaps; each event carries the
 * digest of the one before (32 zero bytes for seq 1). The digest is SHA-256 over
 * "carefact.event.v1" NUL followed by the canonical encoding below -- never over JSON
 * text -- and is computed by this same code on the device and on the server.
 *
 * Canonical encoding (version 1): one version byte 0x01, then every field in the
 * order of struct cf_event, for every kind (fields that do not apply are encoded
 * empty / zero), so one encoder serves all kinds and no field can be moved between
 * kinds unnoticed:
 *   integers   8 bytes big-endian (two's complement for signed); this includes the
 *              enums kind, card.method, reason, cancelled_by (their numeric values)
 *   uuids      16 bytes; prev_digest 32 bytes
 *   strings    4-byte big-endian length, then the bytes (no NUL)
 *   card       method, token, scheme, last4
 *   location   1 byte present flag (0/1), then lat_e7, lon_e7, accuracy_m as integers
 *              (encoded even when absent: zero)
 *   services   4-byte big-endian count, then for each: code as a string, quantity
 *              as integer
 * i.e. 01 | device_id | seq | prev_digest | kind | visit_id | worker_id |
 * recipient_id | plan_id | wall_ms | mono_ms | boot_id | card | location | services |
 * rating | comment | reason | cancelled_by.
 * The exact byte layout is fixed by cf_event_encode and pinned by a unit test with
 * a known digest; changing it is a protocol change. */
#ifndef CF_EVENT_H
#define CF_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf/error.h"

#define CF_DIGEST_LEN 32
#define CF_UUID_LEN 16
#define CF_TOKEN_TEXT_LEN 22 /* base64url of 16 bytes, no padding */
#define CF_MAX_SERVICES 32
#define CF_SERVICE_CODE_MAX 32 /* bytes, excluding NUL */
#define CF_SERVICE_QUANTITY_MAX 100
/* A comment is at most 1000 characters (Unicode code points of valid UTF-8), as
 * api/openapi.yaml's maxLength says; the bytes follow from it: a code point takes at
 * most 4 bytes of UTF-8, so 4000 bytes is the bound of every buffer. */
#define CF_COMMENT_MAX_CHARS 1000
#define CF_COMMENT_MAX_BYTES (4 * CF_COMMENT_MAX_CHARS) /* excluding NUL */
#define CF_SCHEME_MAX 15
#define CF_BATCH_MAX_EVENTS 1000 /* hard cap on events in one upload */

enum cf_event_kind {
    CF_EV_NONE = 0,
    CF_EV_VISIT_STARTED = 1, /* "visit.started" */
    CF_EV_VISIT_ENDED = 2, /* "visit.ended" */
    CF_EV_VISIT_RATED = 3, /* "visit.rated" */
    CF_EV_VISIT_CANCELLED = 4, /* "visit.cancelled" */
    CF_EV_VISIT_ATTEMPT = 5, /* "visit.attempt": at the door, no service given */
    CF_EV_CARD_UNRECOGNIZED = 6, /* "card.unrecognized" */
    CF_EV_CARD_BOUND = 7, /* "card.bound": new card for a recipient, pending */
};

enum cf_card_method {
    CF_CARD_NONE = 0, /* "" : no card presented */
    CF_CARD_EMV = 1, /* "emv": PAN-derived token from a bank card */
    CF_CARD_UID = 2, /* "uid": UID-derived token, weaker assurance */
};

/* Why a visit did not happen (cancellation or door attempt). */
enum cf_reason {
    CF_REASON_NONE = 0,
    CF_REASON_NOBODY_HOME = 1, /* "nobody_home" */
    CF_REASON_REFUSED = 2, /* "refused" */
    CF_REASON_IN_HOSPITAL = 3, /* "in_hospital" */
    CF_REASON_WORKER_ILL = 4, /* "worker_ill" */
    CF_REASON_OTHER = 5, /* "other" */
};

/* Who cancelled. */
enum cf_actor {
    CF_ACTOR_NONE = 0,
    CF_ACTOR_WORKER = 1, /* "worker" */
    CF_ACTOR_RECIPIENT = 2, /* "recipient" */
    CF_ACTOR_PROVIDER = 3, /* "provider" */
};

struct cf_card_assurance {
    enum cf_card_method method;
    char token[CF_TOKEN_TEXT_LEN + 1]; /* base64url card token; "" when method NONE */
    char scheme[CF_SCHEME_MAX + 1]; /* "mir", "visa", "mastercard", "maestro",
                                       "unionpay", "amex", "jcb", "interac", "other"
                                       (cf_scheme_name, never "unknown"), or "" for
                                       uid cards */
    char last4[5]; /* last four PAN digits; "" for uid cards */
};

struct cf_location {
    bool present;
    int32_t lat_e7; /* degrees * 1e7, -900000000..900000000 */
    int32_t lon_e7; /* degrees * 1e7, -1800000000..1800000000 */
    int32_t accuracy_m; /* metres, 0..100000 */
};

struct cf_service_done {
    char code[CF_SERVICE_CODE_MAX + 1]; /* catalogue code, [A-Za-z0-9._-]+ */
    int32_t quantity; /* 1..CF_SERVICE_QUANTITY_MAX */
};

struct cf_event {
    uint8_t device_id[CF_UUID_LEN];
    uint64_t seq; /* 1, 2, 3... per device */
    uint8_t prev_digest[CF_DIGEST_LEN];
    enum cf_event_kind kind;
    uint8_t visit_id[CF_UUID_LEN]; /* made on the device; zero for card.* kinds
                                      unless the card was read inside a visit */
    uint8_t worker_id[CF_UUID_LEN];
    uint8_t recipient_id[CF_UUID_LEN]; /* zero when unknown (card.unrecognized) */
    uint8_t plan_id[CF_UUID_LEN]; /* planned visit, zero when unplanned */
    int64_t wall_ms; /* device wall clock, UTC ms since epoch */
    int64_t mono_ms; /* device monotonic clock, ms */
    uint8_t boot_id[CF_UUID_LEN]; /* identifies the monotonic clock's epoch */
    struct cf_card_assurance card;
    struct cf_location location;
    size_t service_count;
    struct cf_service_done services[CF_MAX_SERVICES];
    int32_t rating; /* 1..5 for visit.rated, else 0 */
    char comment[CF_COMMENT_MAX_BYTES + 1]; /* UTF-8, may be "" */
    enum cf_reason reason; /* visit.cancelled, visit.attempt */
    enum cf_actor cancelled_by; /* visit.cancelled */
};

/* Kind <-> wire name ("visit.started", ...). Unknown name -> CF_EV_NONE;
 * unknown kind -> NULL. Same pattern for methods, reasons and actors. */
const char *cf_event_kind_name(enum cf_event_kind kind);
enum cf_event_kind cf_event_kind_from_name(const char *name);
const char *cf_card_method_name(enum cf_card_method method);
int cf_card_method_from_name(const char *name, enum cf_card_method *out); /* 0/CF_EFIELD_RANGE */
const char *cf_reason_name(enum cf_reason reason);
int cf_reason_from_name(const char *name, enum cf_reason *out);
const char *cf_actor_name(enum cf_actor actor);
int cf_actor_from_name(const char *name, enum cf_actor *out);

/* Check a recipient's comment: valid UTF-8 without control characters but newline,
 * at most CF_COMMENT_MAX_CHARS characters. comment: borrowed, NUL-terminated. Returns 0
 * or CF_EFIELD_RANGE with d (may be NULL) naming the field "comment". */
int cf_event_check_comment(const char *comment, struct cf_error_detail *d);

/* Check the semantic rules of one event. Every kind: seq 1..10^15-1, wall_ms in the
 * years 2000..2100, mono_ms 0..10^15-1 (the integers JSON carries exactly: see
 * CF_JSON_INT_MAX in cf/json.h), worker_id and boot_id set, location (when present)
 * in range, comment at most 1000 characters of valid UTF-8 without control characters
 * except newline (cf_event_check_comment).
 * Per kind:
 *   visit.started, visit.ended  visit_id, recipient_id and a card
 *   visit.ended                 may carry 1..32 services: code [A-Za-z0-9._-]{1,32},
 *                               quantity 1..100, no code twice (no other kind may)
 *   visit.rated                 visit_id, rating 1..5 (no other kind may rate)
 *   visit.cancelled             visit_id, reason and cancelled_by
 *   visit.attempt               recipient_id and reason
 *   card.unrecognized           a card
 *   card.bound                  recipient_id and a card
 * reason only on cancelled/attempt, cancelled_by only on cancelled. A card: method
 * emv|uid, token 22 base64url characters (16 bytes); emv: last4 four digits and a
 * known scheme; uid: last4 and scheme empty; no card: all of it empty.
 * Returns 0, or CF_EKIND, CF_EFIELD_MISSING (a required field is empty) or
 * CF_EFIELD_RANGE with *detail (may be NULL) naming the field ("card.token",
 * "services[2].quantity"), or CF_EINVAL for a string not NUL-terminated. */
int cf_event_validate(const struct cf_event *event, struct cf_error_detail *detail);

/* Canonical encoding into out (see above). Returns the encoded length (> 0), or
 * CF_ENOSPACE when out_size is too small, or CF_EINVAL for service_count over
 * CF_MAX_SERVICES; with out == NULL returns the size needed. The event need not be
 * valid: encode and digest work on any struct. */
long cf_event_encode(const struct cf_event *event, uint8_t *out, size_t out_size);

/* SHA-256("carefact.event.v1" NUL || canonical encoding). Returns 0, CF_EINVAL (as
 * encode), CF_ENOMEM or CF_ECRYPTO. */
int cf_event_digest(const struct cf_event *event, uint8_t digest[CF_DIGEST_LEN]);

/* Chain check: event must be seq = prev_seq + 1 with prev_digest equal to
 * prev_digest_expected (for seq 1: prev_seq 0 and 32 zero bytes).
 * Returns 0, CF_ECHAIN, or CF_EINVAL for a NULL argument. */
int cf_event_chain_check(const struct cf_event *event, uint64_t prev_seq,
                         const uint8_t prev_digest_expected[CF_DIGEST_LEN]);

#endif
