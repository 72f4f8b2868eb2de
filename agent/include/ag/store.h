/* The agent's durable store: one SQLite file (WAL, synchronous=FULL, mode 0600) that
 * holds everything the terminal knows -- the event queue (the device's hash chain),
 * the reference cache (recipients with card tokens, certificates and volumes, the
 * catalogue, plans), the device identity (Ed25519 key, worker, region token key,
 * server URL, pinned CA), the sync state, and a small index of the visits the
 * events describe (so `visit end` knows what `visit start` began).
 *
 * Invariants:
 *  - ag_store_append assigns seq = last + 1 and prev = last digest and commits the
 *    event, the new chain head and the visit index in ONE transaction: when it
 *    returns 0 the event survives a power cut; when it fails nothing of it remains.
 *  - Events are never rewritten. "acked" is set only by ag_store_mark_acked (called
 *    on a parsed acknowledgement) and cleared only by ag_store_rewind (the server
 *    lost events: a restored database).
 *  - No side files of our own: all state is in this one database (SQLite's own -wal
 *    and -shm files get the database file's mode).
 *
 * A store is used by one thread at a time; several processes may open the same file
 * (SQLite's locking serialises writers, with a 5 s busy timeout).
 *
 * Errors: besides CF_EINVAL / CF_ENOMEM, every function may return CF_ESTORE_FULL
 * (no space: "нет места на устройстве"), CF_ESTORE_DAMAGED, CF_ESTORE_IO or
 * CF_ESTORE_BUSY; where a cf_error_detail is taken it receives an English sentence
 * naming what is wrong. */
#ifndef AG_STORE_H
#define AG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf/batch.h"
#include "cf/error.h"
#include "cf/event.h"

#define AG_STORE_APPLICATION_ID 0x43464147 /* "CFAG" in the database header */
#define AG_STORE_SCHEMA_VERSION 1 /* PRAGMA user_version */
#define AG_SERVER_URL_MAX 511
#define AG_CA_PEM_MAX 65536
#define AG_REF_KIND_MAX 11
#define AG_REF_ID_MAX 63
#define AG_REF_VERSION_MAX 16
#define AG_REF_BODY_MAX 65536 /* bytes of one reference record's JSON */
#define AG_EPOCH_TEXT_MAX 36

struct ag_store; /* opaque: the SQLite connection */

/* ==== Opening and checking ==== */

/* Open the store at path (borrowed), creating it (mode 0600) when it does not exist
 * or is empty. An existing file is validated: SQLite header, application_id and
 * user_version, the expected tables and columns, PRAGMA quick_check; a file with
 * wider permissions is narrowed to 0600. *out receives a store to release with
 * ag_store_close. Returns 0, CF_ESTORE_DAMAGED (not a database, failed checks,
 * missing tables), CF_ESTORE_FOREIGN (another application's database),
 * CF_ESTORE_VERSION (made by a newer agent), CF_ESTORE_IO, CF_ESTORE_FULL,
 * CF_ESTORE_BUSY, CF_ENOMEM, CF_EINVAL. */
int ag_store_open(const char *path, struct ag_store **out, struct cf_error_detail *detail);

/* Close; accepts NULL. */
void ag_store_close(struct ag_store *store);

/* Cap the database at max_pages pages (PRAGMA max_page_count, this connection):
 * a quota for the store's share of the terminal's flash, and how tests make the
 * disk "full". Returns 0 or a store error. */
int ag_store_limit_pages(struct ag_store *store, long max_pages);

struct ag_verify_report {
    uint64_t events; /* events checked */
    uint64_t first_seq, last_seq; /* kept range (first > 1 after pruning) */
    uint64_t bad_seq; /* first event that failed, 0 if none */
};

/* Full check on demand: PRAGMA integrity_check, then the whole chain -- seqs
 * consecutive, every payload a valid event whose recomputed digest equals the
 * stored one, each prev equal to the digest before it, the chain head equal to
 * the last event. Returns 0, CF_ESTORE_DAMAGED (the file) or CF_ECHAIN (an event;
 * report->bad_seq names it and detail says why). */
int ag_store_verify(struct ag_store *store, struct ag_verify_report *report,
                    struct cf_error_detail *detail);

/* ==== Identity ==== */

struct ag_identity {
    uint8_t device_id[CF_UUID_LEN];
    uint8_t private_key[CF_ED25519_KEY_LEN];
    uint8_t public_key[CF_ED25519_KEY_LEN];
    uint8_t worker_id[CF_UUID_LEN];
    uint8_t provider_id[CF_UUID_LEN];
    uint8_t token_key[64]; /* regional card token key */
    size_t token_key_len; /* 16..64 */
    char server_url[AG_SERVER_URL_MAX + 1]; /* "https://host:port" (no trailing /) */
    char ca_pem[AG_CA_PEM_MAX + 1]; /* pinned CA certificate(s), PEM; "" for http */
    int64_t enrolled_ms;
};

/* Store the identity once. Returns 0, CF_EENROLLED (there is one already: the
 * chain belongs to that device id), CF_EINVAL (token key length, URL or PEM too
 * long), or a store error. */
int ag_store_identity_set(struct ag_store *store, const struct ag_identity *identity);

/* Read it into *out (caller's storage; wipe with ag_identity_wipe). Returns 0,
 * CF_ENOT_ENROLLED, CF_ESTORE_DAMAGED (a field has the wrong size). */
int ag_store_identity_get(struct ag_store *store, struct ag_identity *out);

/* Zero the identity's secrets (OPENSSL_cleanse). Accepts NULL. */
void ag_identity_wipe(struct ag_identity *identity);

/* ==== The event queue ==== */

/* Append one event. The store fills device_id (from the identity), seq and
 * prev_digest into *event, validates it (cf_event_validate), computes its digest
 * (cf_event_digest) and commits it with the new chain head and the visit index in
 * one BEGIN IMMEDIATE transaction. digest_out (may be NULL) receives the digest.
 * Returns 0 (durable), CF_ENOT_ENROLLED, a CF_EFIELD_... / CF_EKIND code from
 * validation (detail names the field), or a store error; on any error nothing
 * was written. */
int ag_store_append(struct ag_store *store, struct cf_event *event,
                    uint8_t digest_out[CF_DIGEST_LEN], struct cf_error_detail *detail);

/* The chain head (the newest event's seq and digest; 0 and 32 zero bytes when there is
 * none) and the device id: what the next event is chained to, and its card challenge
 * is made of. Returns 0, CF_ENOT_ENROLLED or a store error. */
int ag_store_head(struct ag_store *store, uint64_t *seq, uint8_t digest[CF_DIGEST_LEN],
                  uint8_t device_id[CF_UUID_LEN]);

struct ag_queue_stats {
    uint64_t last_seq; /* chain head: the newest event's seq (0 = none) */
    uint64_t acked_seq; /* highest seq the server acknowledged */
    uint64_t waiting; /* events not yet acknowledged */
    int64_t oldest_waiting_ms; /* created time of the oldest waiting event, 0 if none */
    uint64_t first_kept_seq; /* lowest seq still in the store, 0 if none */
};

int ag_store_queue_stats(struct ag_store *store, struct ag_queue_stats *out);

/* Load up to max events with seq >= from_seq, in order, into out (caller's array
 * of max). Each payload is decoded with cf_event_from_json and its digest checked
 * against the stored one: a mismatch is CF_ESTORE_DAMAGED. *count receives how
 * many were loaded (fewer at the end of the queue). */
int ag_store_load_events(struct ag_store *store, uint64_t from_seq, size_t max,
                         struct cf_event *out, size_t *count, struct cf_error_detail *detail);

/* The server acknowledged every event up to acked_seq in database epoch epoch (text
 * UUID, borrowed): mark them, remember the epoch, in one transaction. acked_seq
 * must not exceed the chain head (CF_EINVAL: the server claims events this device
 * never made) and never moves the acknowledged seq backwards (that is a rewind). */
int ag_store_mark_acked(struct ag_store *store, uint64_t acked_seq, const char *epoch);

/* The server holds only up to server_seq (a database restored from a backup): mark
 * every later event unacknowledged so it is uploaded again, and set the acked seq
 * and epoch (epoch may be NULL: keep it). Returns 0, or CF_EPRUNED when events the
 * server needs (server_seq + 1 ...) were already pruned from this store. */
int ag_store_rewind(struct ag_store *store, uint64_t server_seq, const char *epoch);

/* Delete acknowledged events created before before_ms, except the newest event
 * (sync replays it to ask the server what it holds; the chain head also stays in
 * the store's metadata, so the chain goes on). *deleted may be NULL. */
int ag_store_prune(struct ag_store *store, int64_t before_ms, uint64_t *deleted);

/* ==== Sync state ==== */

struct ag_sync_state {
    uint64_t acked_seq; /* read-only here: see mark_acked / rewind */
    char epoch[AG_EPOCH_TEXT_MAX + 1]; /* read-only here; "" before the first sync */
    int64_t last_sync_ms; /* last sync that completed (device clock), 0 = never */
    int64_t last_attempt_ms;
    bool skew_known;
    int64_t skew_ms; /* server clock minus device clock */
    int failures; /* consecutive failed syncs (back-off exponent) */
    int64_t next_attempt_ms; /* automatic sync not before this (device clock) */
    int last_error; /* CF_E... of the last failed sync, 0 after a success */
    char last_message[256]; /* what the worker was told about it (Russian) */
    bool held; /* a refusal a person must look at: no automatic retry */
    int64_t reference_ms; /* last complete reference refresh */
};

int ag_store_sync_get(struct ag_store *store, struct ag_sync_state *out);

/* Write every field but acked_seq and epoch. */
int ag_store_sync_put(struct ag_store *store, const struct ag_sync_state *state);

/* ==== The visit index (maintained by ag_store_append) ==== */

enum ag_visit_state {
    AG_VISIT_NONE = 0,
    AG_VISIT_STARTED = 1,
    AG_VISIT_ENDED = 2,
    AG_VISIT_RATED = 3,
    AG_VISIT_CANCELLED = 4,
    AG_VISIT_ATTEMPT = 5, /* a door attempt: no visit happened */
};

struct ag_visit_row {
    uint8_t visit_id[CF_UUID_LEN]; /* for an attempt: a local key, not sent */
    uint8_t recipient_id[CF_UUID_LEN];
    uint8_t plan_id[CF_UUID_LEN];
    enum ag_visit_state state;
    int64_t started_wall_ms, started_mono_ms; /* 0 when it never started */
    uint8_t start_boot_id[CF_UUID_LEN];
    char start_token[CF_TOKEN_TEXT_LEN + 1];
    int64_t ended_wall_ms, ended_mono_ms;
    uint8_t end_boot_id[CF_UUID_LEN];
    int rating; /* 0 = not rated */
    enum cf_reason reason; /* cancelled / attempt */
    int64_t updated_wall_ms;
    uint64_t last_seq; /* the event that last changed it */
};

enum ag_visit_find {
    AG_FIND_ID, /* key = visit id */
    AG_FIND_OPEN, /* the newest started, not ended or cancelled visit; key unused */
    AG_FIND_UNRATED, /* the newest ended, not rated visit; key unused */
    AG_FIND_PLAN, /* the newest row for plan id key */
};

/* Returns 0 with *out filled, or CF_ENO_VISIT. */
int ag_store_visit_find(struct ag_store *store, enum ag_visit_find how, const uint8_t *key,
                        struct ag_visit_row *out);

/* Quantity of service code given to recipient in visits whose end event has
 * seq > after_seq (what the reference data, fetched when after_seq was the acked
 * seq, cannot know yet). */
int ag_store_services_used(struct ag_store *store, const uint8_t recipient_id[CF_UUID_LEN],
                           const char *code, uint64_t after_seq, long *quantity);

/* Visits whose row changed since since_wall_ms, newest first, into out (caller's
 * array of max); *count receives how many. */
int ag_store_visits_since(struct ag_store *store, int64_t since_wall_ms, struct ag_visit_row *out,
                          size_t max, size_t *count);

/* ==== Reference cache ==== */

struct ag_ref_key {
    char kind[AG_REF_KIND_MAX + 1]; /* "recipient", "service", "plan" */
    char id[AG_REF_ID_MAX + 1];
    char version[AG_REF_VERSION_MAX + 1];
};

/* One record to store. body is borrowed, validated JSON text (<= AG_REF_BODY_MAX);
 * for recipients, tokens (borrowed, token_count entries) are the card tokens that
 * identify them, kept in an index for identification by card. */
struct ag_ref_record {
    struct ag_ref_key key;
    const char *body;
    const char (*tokens)[CF_TOKEN_TEXT_LEN + 1];
    size_t token_count;
};

/* Every (kind, id, version) held, sorted by kind then id. *out is malloc'd (caller
 * frees with free(); NULL when count is 0). */
int ag_store_ref_keys(struct ag_store *store, struct ag_ref_key **out, size_t *count);

/* In ONE transaction: drop the records in drop (ndrop), put those in put (nput,
 * replacing same kind+id), each put record stamped with basis_seq (the acked seq
 * when its body was fetched). */
int ag_store_ref_apply(struct ag_store *store, const struct ag_ref_record *put, size_t nput,
                       const struct ag_ref_key *drop, size_t ndrop, uint64_t basis_seq);

/* The body of one record: *body is malloc'd text (caller frees), or NULL when the
 * record is not held. basis_seq may be NULL. */
int ag_store_ref_get(struct ag_store *store, const char *kind, const char *id, char **body,
                     uint64_t *basis_seq);

/* Ids of the recipients a card token identifies (index from ag_store_ref_apply),
 * up to max into ids; *count receives how many there are in all. */
int ag_store_ref_by_token(struct ag_store *store, const char *token, char ids[][AG_REF_ID_MAX + 1],
                          size_t max, size_t *count);

/* Call fn for every record of kind, ordered by id; fn returning non-zero stops the
 * walk and is returned. body and id are valid during the call only. */
int ag_store_ref_each(struct ag_store *store, const char *kind,
                      int (*fn)(void *ctx, const char *id, const char *body, uint64_t basis_seq),
                      void *ctx);

/* Events of kind (e.g. card.bound) as payload JSON, newest first, up to max; fn as
 * above. Used to show pending card bindings. */
int ag_store_events_of_kind(struct ag_store *store, enum cf_event_kind kind, size_t max,
                            int (*fn)(void *ctx, uint64_t seq, const char *payload, bool acked),
                            void *ctx);

#endif
