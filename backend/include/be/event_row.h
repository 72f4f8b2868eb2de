/* Events as rows of the events table (sql/0004_devices_events.sql): one column per
 * field of struct cf_event, so a batch is loaded with one COPY and every stored
 * event can be turned back into the exact struct the device signed (and its
 * canonical digest recomputed). Pure code: no database connection here. */
#ifndef BE_EVENT_ROW_H
#define BE_EVENT_ROW_H

#include <stdbool.h>
#include <stdint.h>

#include "be/buf.h"
#include "cf/error.h"
#include "cf/event.h"

/* The column list of the COPY that be_event_copy_row writes lines for. */
#define BE_EVENT_COPY_COLUMNS                                                                      \
    "device_id, seq, digest, kind, visit_id, worker_id, provider_id, recipient_id, plan_id, "      \
    "wall_time, mono_ms, boot_id, card_method, card_token, card_scheme, card_last4, lat_e7, "      \
    "lon_e7, accuracy_m, service_codes, service_quantities, rating, comment, reason, "             \
    "cancelled_by"

/* The columns ingest adds after BE_EVENT_COPY_COLUMNS: the verdict on the event's card
 * proof (sql/0013_card_proof.sql), never the proof itself, then an act's body as its
 * canonical text (sql/0032_terminal_acts.sql; NULL for other kinds). */
#define BE_EVENT_COPY_PROOF_COLUMNS                                                                \
    "card_proof_kind, card_proof_level, card_proof_failure, card_ca_index, card_sdad_digest, "     \
    "card_body_digest, act_body"

/* What the server concluded about one event's card proof. */
struct be_card_verdict {
    bool present; /* the event carried a proof; false: every proof column NULL */
    const char *kind; /* "none", "sda", "dda", "fdda", "cda" (static strings) */
    const char *level; /* "dynamic", "static" or "none" (static strings) */
    const char *failure; /* a reason name, or NULL when the proof holds */
    int ca_index; /* 0..255, or -1 when the proof names none */
    bool has_sdad_digest;
    uint8_t sdad_digest[32];
    uint8_t body_digest[CF_DIGEST_LEN]; /* v1 digest of the event without its proof */
};

/* Append one line of COPY text format (tab-separated, \N for NULL, backslash
 * escapes) for event with its recomputed digest, stored under provider_id. The
 * event must have passed cf_event_validate. Returns 0, CF_EINVAL (a service code
 * outside [A-Za-z0-9._-], a time outside years 1970..9999, an unknown enum value),
 * CF_ETOOBIG or CF_ENOMEM (from the buffer; on error the line may be partly
 * written: reset the buffer). */
int be_event_copy_row(const struct cf_event *event, const uint8_t digest[CF_DIGEST_LEN],
                      const uint8_t provider_id[CF_UUID_LEN], struct be_buf *out);
/* The same line for a COPY of BE_EVENT_COPY_COLUMNS then BE_EVENT_COPY_PROOF_COLUMNS:
 * the verdict's columns (all NULL when !verdict->present), then the act's body (NULL when
 * ""), before the newline. */
int be_event_copy_row_verdict(const struct cf_event *event, const uint8_t digest[CF_DIGEST_LEN],
                              const uint8_t provider_id[CF_UUID_LEN],
                              const struct be_card_verdict *verdict, struct be_buf *out);

/* The select list that reads an event back, for a query over "events e" (column
 * order = enum be_event_col). wall_time comes back as ms, digests as hex, service
 * arrays as comma-separated text, prev as the digest of seq - 1 (NULL for seq 1). */
#define BE_EVENT_SELECT                                                                            \
    "e.device_id, e.seq, (SELECT encode(p.digest, 'hex') FROM events p WHERE p.device_id = "       \
    "e.device_id AND p.seq = e.seq - 1), encode(e.digest, 'hex'), e.kind, e.visit_id, "            \
    "e.worker_id, e.recipient_id, e.plan_id, (extract(epoch FROM e.wall_time) * 1000)::bigint, "   \
    "e.mono_ms, e.boot_id, e.card_method, e.card_token, e.card_scheme, e.card_last4, e.lat_e7, "   \
    "e.lon_e7, e.accuracy_m, array_to_string(e.service_codes, ','), "                              \
    "array_to_string(e.service_quantities, ','), e.rating, e.comment, e.reason, e.cancelled_by"

enum be_event_col {
    BE_EV_DEVICE_ID,
    BE_EV_SEQ,
    BE_EV_PREV,
    BE_EV_DIGEST,
    BE_EV_KIND,
    BE_EV_VISIT_ID,
    BE_EV_WORKER_ID,
    BE_EV_RECIPIENT_ID,
    BE_EV_PLAN_ID,
    BE_EV_WALL_MS,
    BE_EV_MONO_MS,
    BE_EV_BOOT_ID,
    BE_EV_CARD_METHOD,
    BE_EV_CARD_TOKEN,
    BE_EV_CARD_SCHEME,
    BE_EV_CARD_LAST4,
    BE_EV_LAT_E7,
    BE_EV_LON_E7,
    BE_EV_ACCURACY_M,
    BE_EV_SERVICE_CODES,
    BE_EV_SERVICE_QUANTITIES,
    BE_EV_RATING,
    BE_EV_COMMENT,
    BE_EV_REASON,
    BE_EV_CANCELLED_BY,
    BE_EV_COLUMNS
};

/* Rebuild an event from the text values of one row read with BE_EVENT_SELECT
 * (values[i] NULL for SQL NULL; borrowed). *out receives the event, stored_digest
 * the digest the row holds. Returns 0, or CF_EMALFORM / CF_EFIELD_RANGE with
 * *detail (may be NULL) naming the column when a value cannot be an event's. The
 * caller compares stored_digest with cf_event_digest(out) to check integrity. */
int be_event_from_row(const char *const values[BE_EV_COLUMNS], struct cf_event *out,
                      uint8_t stored_digest[CF_DIGEST_LEN], struct cf_error_detail *detail);

#endif
