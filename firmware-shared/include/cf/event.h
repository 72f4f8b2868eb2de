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
 * a known digest; changing it is a protocol change.
 *
 * Version 2 (issue 14): an event whose card carries an EMV proof (card.proof.kind not
 * CF_PROOF_ABSENT) encodes with version byte 0x02 and is hashed under the domain
 * "carefact.event.v2": the same fields as version 1, then the proof: its kind as an
 * integer, then aid, aip, ca_index, issuer_cert, issuer_exp, issuer_rem, icc_cert,
 * icc_exp, icc_rem, static_data, ssad, sdad, ddol, terminal_data, tx_data, each as a
 * 4-byte big-endian length and the bytes. An event without a proof is exactly version 1,
 * so no existing digest changes.
 *
 * Version 3 (acts, api/PROTOCOL.md 4.6): an event with a body (the act kinds
 * application.filed, home_survey.recorded, aid.handed_over, survey.answered; cf/act.h) encodes with
 * version byte 0x03 and is hashed under "carefact.event.v3": the fields of version 1, then the
 * proof as version 2 writes it (kind 0 and fifteen empty fields when the card gave none),
 * then the body's canonical text as a 4-byte big-endian length and the bytes. Events
 * without a body are versions 1 and 2 as before. */
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
#define CF_BODY_MAX_BYTES 8192 /* an act's body as canonical text (= CF_ACT_BODY_MAX) */

enum cf_event_kind {
    CF_EV_NONE = 0,
    CF_EV_VISIT_STARTED = 1, /* "visit.started" */
    CF_EV_VISIT_ENDED = 2, /* "visit.ended" */
    CF_EV_VISIT_RATED = 3, /* "visit.rated" */
    CF_EV_VISIT_CANCELLED = 4, /* "visit.cancelled" */
    CF_EV_VISIT_ATTEMPT = 5, /* "visit.attempt": at the door, no service given */
    CF_EV_CARD_UNRECOGNIZED = 6, /* "card.unrecognized" */
    CF_EV_CARD_BOUND = 7, /* "card.bound": new card for a recipient, pending */
    /* "appointment.checked_in": the person's card tapped at an office's desk; the server
     * checks in their booked appointment at the event's time (api/PROTOCOL.md 4.2) */
    CF_EV_APPOINTMENT_CHECKED_IN = 8,
    /* The acts (api/PROTOCOL.md 4.6): each carries a body (cf/act.h), no visit_id. */
    CF_EV_APPLICATION_FILED = 9, /* "application.filed": an application taken offline */
    CF_EV_HOME_SURVEY_RECORDED = 10, /* "home_survey.recorded": a home-survey act */
    CF_EV_AID_HANDED_OVER = 11, /* "aid.handed_over": an aid handed over or returned, by card */
    CF_EV_SURVEY_ANSWERED = 12, /* "survey.answered": satisfaction answers after a visit */
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

/* The card's offline data authentication material (api/PROTOCOL.md 4.5): what it proves
 * is checked by the server (cf/oda.h); the terminal only carries it. */
enum cf_proof_kind {
    CF_PROOF_ABSENT = 0, /* no proof object: the event encodes as version 1 */
    CF_PROOF_NONE = 1, /* "none": an EMV card that offers no ODA material */
    CF_PROOF_SDA = 2, /* "sda": signed static application data (93) */
    CF_PROOF_DDA = 3, /* "dda": INTERNAL AUTHENTICATE over the DDOL data */
    CF_PROOF_FDDA = 4, /* "fdda": Visa qVSDC, 9F4B over UN, amount, currency, 9F69 */
    CF_PROOF_CDA = 5, /* "cda": GENERATE AC with CDA requested, never sent online */
};

#define CF_PROOF_FIELD_MAX 1024 /* bytes of every proof field but static_data */
#define CF_PROOF_STATIC_MAX 2048 /* bytes of static_data */
#define CF_CHALLENGE_LEN 4 /* the terminal's unpredictable number 9F37 */

struct cf_proof_bytes {
    size_t len;
    uint8_t data[CF_PROOF_FIELD_MAX];
};

struct cf_proof_static {
    size_t len;
    uint8_t data[CF_PROOF_STATIC_MAX];
};

/* Byte strings exactly as the card sent them (empty: len 0). Which are required for
 * which kind: cf_event_validate (and api/PROTOCOL.md 4.5). */
struct cf_card_proof {
    enum cf_proof_kind kind;
    struct cf_proof_bytes aid; /* 4F / 84 of the selected application, 5..16 bytes */
    struct cf_proof_bytes aip; /* 82, 2 bytes */
    struct cf_proof_bytes ca_index; /* 8F, 1 byte */
    struct cf_proof_bytes issuer_cert; /* 90 */
    struct cf_proof_bytes issuer_exp; /* 9F32 */
    struct cf_proof_bytes issuer_rem; /* 92, may be empty */
    struct cf_proof_bytes icc_cert; /* 9F46 (empty for sda) */
    struct cf_proof_bytes icc_exp; /* 9F47 */
    struct cf_proof_bytes icc_rem; /* 9F48, may be empty */
    struct cf_proof_static static_data; /* the bytes hashed as static data (Book 3 10.3) */
    struct cf_proof_bytes ssad; /* 93, sda only */
    struct cf_proof_bytes sdad; /* 9F4B, dda/fdda/cda */
    struct cf_proof_bytes ddol; /* dda only: the DDOL used */
    struct cf_proof_bytes terminal_data; /* what the card signed besides its own data */
    struct cf_proof_bytes tx_data; /* cda only: PDOL ‖ CDOL1 values ‖ GENERATE AC objects */
};

/* Proof kind <-> wire name ("none", "sda", "dda", "fdda", "cda"); CF_PROOF_ABSENT has
 * no name (NULL). from_name returns 0 or CF_EFIELD_RANGE. */
const char *cf_proof_kind_name(enum cf_proof_kind kind);
int cf_proof_kind_from_name(const char *name, enum cf_proof_kind *out);

/* The proof's byte fields in encoding order (index 0..CF_PROOF_FIELDS-1): wire name,
 * capacity, and the field of proof. NULL for an index out of range. */
#define CF_PROOF_FIELDS 15
const char *cf_card_proof_field(const struct cf_card_proof *proof, size_t index,
                                const uint8_t **data, size_t *len, size_t *cap);
/* The same, writable (for decoders): *data points into proof, *len is its length. */
const char *cf_card_proof_field_mut(struct cf_card_proof *proof, size_t index, uint8_t **data,
                                    size_t **len, size_t *cap);

/* The proof's own rules (what cf_event_validate checks of card.proof, but the card
 * method): its kind known, the fields its kind requires present and the others empty,
 * each within its capacity, aid 5..16, aip 2, ca_index 1, exponents 1..3 bytes. Returns
 * 0 or CF_EFIELD_MISSING / CF_EFIELD_RANGE with *d (may be NULL) naming the field. */
int cf_card_proof_check(const struct cf_card_proof *proof, struct cf_error_detail *d);

/* The challenge a card signs for an event (api/PROTOCOL.md 4.5): the first 4 bytes of
 * SHA-256("carefact.card-challenge.v1" NUL ‖ device_id ‖ seq (8 bytes BE) ‖ prev_digest
 * ‖ visit_id (nil UUID when absent)). The agent computes it for the event it is about
 * to write, before reading the card; the server recomputes it from the received event.
 * Returns 0, CF_EINVAL (NULL argument), CF_ENOMEM or CF_ECRYPTO. */
int cf_card_challenge(const uint8_t device_id[16], uint64_t seq, const uint8_t prev_digest[32],
                      const uint8_t visit_id[16], uint8_t challenge[CF_CHALLENGE_LEN]);

/* The PAN in static data (api/PROTOCOL.md 4.5, src/proof.c). Static data is walked as
 * BER-TLV from its start, into constructed objects, each level up to its first byte that
 * does not parse; every 5A of 6..10 bytes found is a PAN object.
 * mask: overwrite each PAN object's value with FF bytes (the terminal, before the event
 * is written). Returns how many were masked, or CF_EINVAL.
 * unmask: write pan (12..19 digits, BCD, F-padded) into each PAN object whose value is
 * all FF (the verifier, before hashing). Returns how many, CF_EINVAL (bad pan) or
 * CF_EMALFORM (a masked object too short for pan).
 * holds_pan: whether pan's digits appear in data as packed BCD (at either nibble) or as
 * ASCII — what masking the 5A objects does not remove (track data 57, 56, 9F6B). */
int cf_static_data_mask_pan(uint8_t *data, size_t len);
int cf_static_data_unmask_pan(uint8_t *data, size_t len, const char *pan);
bool cf_static_data_holds_pan(const uint8_t *data, size_t len, const char *pan);

struct cf_card_assurance {
    enum cf_card_method method;
    char token[CF_TOKEN_TEXT_LEN + 1]; /* base64url card token; "" when method NONE */
    char scheme[CF_SCHEME_MAX + 1]; /* "mir", "visa", "mastercard", "maestro",
                                       "unionpay", "amex", "jcb", "interac", "other"
                                       (cf_scheme_name, never "unknown"), or "" for
                                       uid cards */
    char last4[5]; /* last four PAN digits; "" for uid cards */
    struct cf_card_proof proof; /* emv only; kind CF_PROOF_ABSENT when none was read */
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
    /* The act's body as canonical text (cf/act.h), "" for every other kind. */
    char body[CF_BODY_MAX_BYTES + 1];
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
 *   appointment.checked_in      a card, and no visit_id (it belongs to no visit)
 *   application.filed,          a body (cf_act_body_check), no visit_id; aid.handed_over
 *   home_survey.recorded,       also a card (the recipient's)
 *   aid.handed_over,
 *   survey.answered
 * reason only on cancelled/attempt, cancelled_by only on cancelled. A card: method
 * emv|uid, token 22 base64url characters (16 bytes); emv: last4 four digits and a
 * known scheme; uid: last4 and scheme empty; no card: all of it empty. A proof only
 * with an emv card, its fields as api/PROTOCOL.md 4.5 requires for its kind ("card.proof.sdad").
 * Returns 0, or CF_EKIND, CF_EFIELD_MISSING (a required field is empty) or
 * CF_EFIELD_RANGE with *detail (may be NULL) naming the field ("card.token",
 * "services[2].quantity"), or CF_EINVAL for a string not NUL-terminated. */
int cf_event_validate(const struct cf_event *event, struct cf_error_detail *detail);

/* Canonical encoding into out (see above). Returns the encoded length (> 0), or
 * CF_ENOSPACE when out_size is too small, or CF_EINVAL for service_count over
 * CF_MAX_SERVICES or a proof field longer than its array; with out == NULL returns the size needed.
 * The event need not be valid: encode and digest work on any struct. */
long cf_event_encode(const struct cf_event *event, uint8_t *out, size_t out_size);

/* SHA-256("carefact.event.v1" NUL || canonical encoding), or "carefact.event.v2" for an
 * event with a proof, "carefact.event.v3" for one with a body. Returns 0, CF_EINVAL (as encode),
 * CF_ENOMEM or CF_ECRYPTO. */
int cf_event_digest(const struct cf_event *event, uint8_t digest[CF_DIGEST_LEN]);

/* Chain check: event must be seq = prev_seq + 1 with prev_digest equal to
 * prev_digest_expected (for seq 1: prev_seq 0 and 32 zero bytes).
 * Returns 0, CF_ECHAIN, or CF_EINVAL for a NULL argument. */
int cf_event_chain_check(const struct cf_event *event, uint64_t prev_seq,
                         const uint8_t prev_digest_expected[CF_DIGEST_LEN]);

#endif
