/* Upload batches and their Ed25519 seal, and the JSON form of events.
 *
 * A batch is consecutive events of one device plus a seal: an Ed25519 signature by
 * the device key over
 *   "carefact.seal.v1" NUL || device id (16) || last seq (8, big-endian) || last digest (32).
 *
 * JSON (the body of POST /api/v1/devices/{id}/events):
 *   {"device_id":"<uuid>",
 *    "events":[{"seq":1,"kind":"visit.started","prev":"<hex64>","digest":"<hex64>",
 *               "visit_id":"<uuid>","worker_id":"<uuid>","recipient_id":"<uuid>",
 *               "plan_id":"<uuid>","wall_ms":1790000000000,"mono_ms":123456,
 *               "boot_id":"<uuid>",
 *               "card":{"method":"emv","token":"<22 chars>","scheme":"visa","last4":"1234"},
 *               "location":{"lat_e7":557558000,"lon_e7":376173000,"accuracy_m":12},
 *               "services":[{"code":"SB-01","quantity":1}],
 *               "rating":5,"comment":"...","reason":"nobody_home","cancelled_by":"worker"}, ...],
 *    "seal":{"last_seq":2,"last_digest":"<hex64>","signature":"<base64url of 64 bytes>"}}
 * Fields that do not apply to a kind are omitted on output and, on input, must be
 * absent or hold their empty value: 0 for rating, "" for comment, reason and
 * cancelled_by, the nil UUID for ids, [] for services; the objects card and location
 * have no empty value and must be absent. "digest" is optional on input; when present
 * it must equal the recomputed digest (CF_EDIGEST): it catches encoder disagreements.
 * Unknown or repeated fields are refused (CF_EFIELD_UNKNOWN) so a typo is never
 * silently dropped. Integers must be whole JSON numbers within range, never beyond
 * CF_JSON_INT_MAX (10^15-1) in magnitude: past it a double or cJSON's printing may
 * change the number. */
#ifndef CF_BATCH_H
#define CF_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cf/event.h"

#define CF_ED25519_KEY_LEN 32
#define CF_ED25519_SIG_LEN 64
#define CF_BATCH_MAX_JSON (8u << 20) /* hard cap on a batch body in bytes */
/* Hard cap on JSON values in a batch body (see cf_json_parse_capped): the largest
 * valid event (32 services, every optional field, even empty ones) counts under 125,
 * so 160 per event plus the envelope is never reached by a real batch (a unit test
 * sends the largest one), while a body of tiny values cannot make cJSON allocate 40
 * times its size. */
#define CF_BATCH_MAX_JSON_VALUES ((size_t)CF_BATCH_MAX_EVENTS * 160 + 64)

struct cf_seal {
    uint64_t last_seq;
    uint8_t last_digest[CF_DIGEST_LEN];
    uint8_t signature[CF_ED25519_SIG_LEN];
};

struct cf_batch {
    uint8_t device_id[CF_UUID_LEN];
    size_t count;
    struct cf_event *events; /* owned, count entries, consecutive seqs */
    uint8_t (*digests)[CF_DIGEST_LEN]; /* owned: recomputed digest of each event */
    struct cf_seal seal;
};

/* Ed25519 key pair from the CSPRNG. Returns 0 or CF_ECRYPTO. */
int cf_ed25519_generate(uint8_t private_key[CF_ED25519_KEY_LEN],
                        uint8_t public_key[CF_ED25519_KEY_LEN]);

/* Sign / verify the seal message above (over batch->device_id, batch->seal.last_seq
 * and batch->seal.last_digest; the events themselves are bound to the seal by the
 * chain that cf_batch_from_json checks). sign returns 0 or CF_ECRYPTO; verify returns
 * 0, CF_ESEAL (bad signature or unusable public key) or CF_ENOMEM. Both leave
 * OpenSSL's error queue empty on failure. */
int cf_seal_sign(const uint8_t private_key[CF_ED25519_KEY_LEN],
                 const uint8_t device_id[CF_UUID_LEN], uint64_t last_seq,
                 const uint8_t last_digest[CF_DIGEST_LEN], uint8_t signature[CF_ED25519_SIG_LEN]);
int cf_seal_verify(const uint8_t public_key[CF_ED25519_KEY_LEN], const struct cf_batch *batch);

/* One event to / from a cJSON object. path is the field prefix used in error details
 * (e.g. "events[3]", giving "events[3].card.token"; "" for none). from_json validates
 * fully (types, ranges, lengths, kinds, cf_event_validate, the claimed digest) and
 * fills device_id from the argument; on error *out is zeroed and *detail (may be NULL)
 * names the field. to_json includes the computed "digest"; the caller frees the result
 * with cJSON_Delete; NULL on ENOMEM, for an event of no known kind, or with seq,
 * wall_ms or mono_ms beyond CF_JSON_INT_MAX (never printed inexactly). Whatever
 * from_json accepts, to_json turns into an object from_json decodes to the same
 * struct. */
cJSON *cf_event_to_json(const struct cf_event *event);
int cf_event_from_json(const cJSON *object, const uint8_t device_id[CF_UUID_LEN], const char *path,
                       struct cf_event *out, struct cf_error_detail *detail);

/* Parse and validate a whole body of len bytes (text need not be NUL-terminated):
 * at most CF_BATCH_MAX_JSON bytes and CF_BATCH_MAX_JSON_VALUES values (CF_ETOOBIG),
 * well-formed JSON (CF_EJSON), 1..CF_BATCH_MAX_EVENTS events (CF_EFIELD_RANGE), every
 * event valid, seqs consecutive and each event's prev equal to the recomputed digest
 * of the one before it in the batch (CF_ECHAIN), seal.last_seq and seal.last_digest
 * equal to the last event's (CF_ESEAL). The first event's prev is NOT checked
 * here (the server checks it against what it holds). The signature is not verified
 * here (cf_seal_verify needs the device key). On error *out is empty and *detail
 * names the field. Caller frees with cf_batch_cleanup. */
int cf_batch_from_json(const char *text, size_t len, struct cf_batch *out,
                       struct cf_error_detail *detail);

/* Build a batch from events (copied; their device_id is set to device_id), computing
 * digests and signing the seal. events must be consecutive and chained; they are not
 * validated here (do that with cf_event_validate before queueing them). Returns 0,
 * CF_EINVAL (count 0 or over CF_BATCH_MAX_EVENTS), CF_ECHAIN, CF_ENOMEM, CF_ECRYPTO;
 * on error *out is empty. Caller frees with cf_batch_cleanup. */
int cf_batch_build(const uint8_t device_id[CF_UUID_LEN], const struct cf_event *events,
                   size_t count, const uint8_t private_key[CF_ED25519_KEY_LEN],
                   struct cf_batch *out);

/* Serialise to JSON text (caller frees with free()); NULL on ENOMEM or when an
 * event (or seal.last_seq) cannot be written exactly (see cf_event_to_json). */
char *cf_batch_to_json(const struct cf_batch *batch);

/* Free what the batch owns and zero it. Accepts NULL. */
void cf_batch_cleanup(struct cf_batch *batch);

/* ==== Request signatures ====
 * A device signs every HTTP request with its enrolled key over
 * "carefact-request-v1\nMETHOD\nPATH\nhex SHA-256 of the body\nTIME_MS\nDEVICE_ID"
 * (PATH with its query string as sent; DEVICE_ID as UUID text) and sends
 * CF_REQUEST_HDR_DEVICE, CF_REQUEST_HDR_TIME (Unix ms) and CF_REQUEST_HDR_SIGNATURE
 * (base64url). See backend/README.md, "Device authentication". */
#define CF_REQUEST_HDR_DEVICE "X-Carefact-Device"
#define CF_REQUEST_HDR_TIME "X-Carefact-Time"
#define CF_REQUEST_HDR_SIGNATURE "X-Carefact-Signature"
#define CF_REQUEST_PATH_MAX 1024
#define CF_REQUEST_SIG_TEXT_LEN 86 /* base64url of 64 bytes */

/* Returns 0, CF_ETOOBIG (path over the cap), CF_ECRYPTO. */
int cf_request_sign(const uint8_t private_key[CF_ED25519_KEY_LEN], const char *device_id,
                    const char *method, const char *path, const void *body, size_t body_len,
                    int64_t time_ms, char signature_b64[CF_REQUEST_SIG_TEXT_LEN + 1]);
/* Returns 0 when signature_b64 is that device's signature of this request, else
 * CF_ESEAL (or CF_ENOMEM). */
int cf_request_verify(const uint8_t public_key[CF_ED25519_KEY_LEN], const char *device_id,
                      const char *method, const char *path, const void *body, size_t body_len,
                      int64_t time_ms, const char *signature_b64);

#endif
