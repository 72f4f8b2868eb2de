/* The home visit, as a library the command line and the terminal UI share: start
 * (the recipient's card identifies them from the reference cache, offline), end
 * (services the certificate allows; another card is recorded, not blocked), rating,
 * door attempt, cancellation, card binding. Each step checks what the worker can
 * fix (wrong plan, unknown card, a service not allowed, a visit still open) and
 * then appends exactly one event to the store; the event is durable when the call
 * returns 0.
 *
 * The card is an input here (struct cf_card_assurance, as ag_reader_read_card gives
 * it); the caller reads it. Time is an input too (struct ag_moment), so a visit's
 * clocks are the ones of the moment the recipient tapped. */
#ifndef AG_VISIT_H
#define AG_VISIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ag/clock.h"
#include "ag/reference.h"
#include "ag/store.h"
#include "cf/uuid.h"

/* A visit still "started" this long after its start is abandoned (the backend's
 * default threshold): it no longer blocks the next start. */
#define AG_VISIT_ABANDON_MS (12 * 3600 * 1000LL)
#define AG_MAX_CANDIDATES 8

/* A service the recipient may still receive. */
struct ag_available {
    char code[CF_SERVICE_CODE_MAX + 1];
    char name[AG_NAME_MAX + 1]; /* from the catalogue; the code when unknown */
    long volume; /* per period */
    long remaining; /* after the visits this terminal recorded since the record came */
    int norm_minutes; /* 0 when the catalogue lacks it */
};

/* What the worker sees about a recipient. */
struct ag_recipient_view {
    struct ag_recipient recipient;
    bool certificate_valid; /* a certificate covers today */
    char certificate_number[AG_CERT_NUMBER_MAX + 1];
    char valid_from[AG_DATE_LEN + 1], valid_to[AG_DATE_LEN + 1]; /* of that certificate */
    size_t available_count;
    struct ag_available available[CF_MAX_SERVICES];
};

/* What one step did. */
struct ag_visit_result {
    enum cf_event_kind kind; /* the event appended (CF_EV_NONE: none) */
    uint64_t seq;
    uint8_t visit_id[CF_UUID_LEN];
    bool have_view;
    struct ag_recipient_view view; /* start, end, attempt, bind */
    bool card_matches; /* start, end: the card is one of the recipient's */
    int64_t duration_ms; /* end: from the monotonic clock when the boot is the same */
    bool clock_uncertain; /* end: start and end on different boots */
    int64_t since_start_ms; /* cancel of a started visit */
    size_t candidate_count; /* CF_ECARD_AMBIGUOUS / CF_ECARD_OTHER: who the card is */
    char candidates[AG_MAX_CANDIDATES][AG_NAME_MAX + 1];
    char candidate_ids[AG_MAX_CANDIDATES][CF_UUID_TEXT_LEN + 1];
};

struct ag_visit_start {
    const uint8_t *visit_id; /* NULL: made now; else the id the card's challenge was made
                                with (ag_card_challenge) */
    const uint8_t *plan_id; /* NULL, or a planned visit from the cache */
    const uint8_t *recipient_id; /* NULL, or the recipient chosen (unplanned visit) */
    struct cf_card_assurance card; /* required */
    /* The worker saw that the card is another recipient's and starts the visit with it
     * anyway: recorded with that card (the backend flags card_mismatch), not refused. */
    bool accept_other_card;
    struct cf_location location;
    struct ag_moment moment;
};

/* The card challenge (api/PROTOCOL.md 4.5) of the next event this store appends, for
 * visit_id (NULL: none, as card.bound): read the card with it, then append at once.
 * When the chain moves in between (another process appended), the proof no longer
 * matches its event and the server says challenge_mismatch. Returns 0 or a store error. */
int ag_card_challenge(struct ag_store *store, const uint8_t *visit_id,
                      uint8_t challenge[CF_CHALLENGE_LEN]);

/* The visit an end would close: visit_id when given, else the visit in progress.
 * Returns 0 with out filled, CF_ENO_VISIT or a store error. */
int ag_visit_end_target(struct ag_store *store, const uint8_t *visit_id, int64_t now_ms,
                        uint8_t out[CF_UUID_LEN]);

/* Start a visit. Returns 0 (visit.started appended) or:
 *   CF_EUNKNOWN_CARD  the card identifies nobody: card.unrecognized was appended
 *                     (result->seq, without the card's proof: it was made for the
 *                     visit.started) -- the worker may bind the card;
 *   CF_ECARD_OTHER    the card belongs to someone else than the plan's / chosen
 *                     recipient (result->candidates says who); nothing appended --
 *                     unless accept_other_card, when the visit starts with that card
 *                     (result->card_matches false);
 *   CF_ECARD_AMBIGUOUS a guardian's card for several recipients and none chosen;
 *   CF_EVISIT_OPEN    a visit is in progress (result->visit_id);
 *   CF_EUNKNOWN_PLAN, CF_EUNKNOWN_RECIPIENT, CF_EVISIT_STATE (the plan is done or
 *   cancelled), CF_ENOT_ENROLLED, CF_EINVAL (no card), store errors. */
int ag_visit_start(struct ag_store *store, const struct ag_visit_start *request,
                   struct ag_visit_result *result, struct cf_error_detail *detail);

struct ag_visit_end {
    const uint8_t *visit_id; /* NULL: the visit in progress */
    struct cf_card_assurance card; /* required; another card is recorded as such */
    size_t service_count;
    struct cf_service_done services[CF_MAX_SERVICES];
    struct cf_location location;
    struct ag_moment moment;
};

/* End a visit. Returns 0 (visit.ended appended), CF_ENO_VISIT, CF_EVISIT_STATE,
 * CF_ESERVICE_NOT_ALLOWED (detail->field names the code: not in a valid
 * certificate, or more than the volume left), CF_EINVAL, store errors. */
int ag_visit_end(struct ag_store *store, const struct ag_visit_end *request,
                 struct ag_visit_result *result, struct cf_error_detail *detail);

/* Rate a visit 1..5 with an optional comment (cf_event_check_comment: UTF-8 text of at
 * most CF_COMMENT_MAX_CHARS characters; NULL = none). visit_id NULL: the newest ended, unrated
 * visit. Returns 0, CF_ENO_VISIT, CF_EVISIT_STATE (not ended, or rated already), CF_EFIELD_RANGE.
 */
int ag_visit_rate(struct ag_store *store, const uint8_t *visit_id, int rating, const char *comment,
                  const struct ag_moment *moment, struct ag_visit_result *result,
                  struct cf_error_detail *detail);

struct ag_visit_cancel {
    const uint8_t *visit_id; /* a started visit; NULL with plan_id NULL: the open one */
    const uint8_t *plan_id; /* or a planned visit that has not started */
    enum cf_reason reason;
    enum cf_actor cancelled_by;
    struct ag_moment moment;
};

/* Cancel. Returns 0 (visit.cancelled), CF_ENO_VISIT, CF_EUNKNOWN_PLAN,
 * CF_EVISIT_STATE (already ended or cancelled), CF_EFIELD_MISSING (reason, who). */
int ag_visit_cancel(struct ag_store *store, const struct ag_visit_cancel *request,
                    struct ag_visit_result *result, struct cf_error_detail *detail);

struct ag_visit_attempt {
    const uint8_t *plan_id; /* the plan, or */
    const uint8_t *recipient_id; /* the recipient */
    enum cf_reason reason; /* nobody_home, refused, in_hospital, other... */
    struct cf_card_assurance card; /* method NONE, or the recipient confirming */
    struct cf_location location;
    struct ag_moment moment;
};

/* Record a door attempt (no visit happened). Returns 0 (visit.attempt),
 * CF_EUNKNOWN_PLAN, CF_EUNKNOWN_RECIPIENT, CF_EVISIT_STATE (the plan's visit took
 * place or was cancelled), CF_EFIELD_MISSING (reason). */
int ag_visit_attempt(struct ag_store *store, const struct ag_visit_attempt *request,
                     struct ag_visit_result *result, struct cf_error_detail *detail);

/* Bind a new card to a recipient: card.bound, pending until a manager confirms it
 * (the card identifies the recipient only once the confirmed binding comes back in
 * the reference data). Returns 0, CF_EUNKNOWN_RECIPIENT, CF_EINVAL (no card). */
int ag_card_bind(struct ag_store *store, const uint8_t recipient_id[CF_UUID_LEN],
                 const struct cf_card_assurance *card, const struct ag_moment *moment,
                 struct ag_visit_result *result, struct cf_error_detail *detail);

/* The person's card tapped at an office's desk: appointment.checked_in with the card (and
 * its proof, read with ag_card_challenge(store, NULL, ...) as for card.bound). The terminal
 * knows no appointments: the server checks in the booked appointment of the recipient
 * holding that card when the event arrives (sql/0028). Returns 0 (result->seq set),
 * CF_EINVAL (no card) or a store error. */
int ag_card_check_in(struct ag_store *store, const struct cf_card_assurance *card,
                     const struct ag_moment *moment, struct ag_visit_result *result,
                     struct cf_error_detail *detail);

/* The worker's view of a recipient on the date of wall_ms. Returns 0 or
 * CF_EUNKNOWN_RECIPIENT. */
int ag_recipient_view(struct ag_store *store, const uint8_t recipient_id[CF_UUID_LEN],
                      int64_t wall_ms, struct ag_recipient_view *out);

/* Load a plan from the cache: 0 or CF_EUNKNOWN_PLAN. */
int ag_plan_load(struct ag_store *store, const uint8_t plan_id[CF_UUID_LEN], struct ag_plan *out);

#endif
