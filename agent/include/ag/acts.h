/* Acts the terminal records offline (api/PROTOCOL.md 4.6): an application taken in a
 * village, a home-survey act, an aid handed over or returned with the recipient's card.
 * Each is one signed event of the chain with a body; the server turns it into an
 * application or an act when it is synced. The forms hold borrowed strings (NULL or ""
 * when not given); the body is built here, canonical, and checked by the same rules the
 * server applies (cf_act_body_check) before anything is stored. */
#ifndef AG_ACTS_H
#define AG_ACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ag/clock.h"
#include "ag/store.h"
#include "cf/act.h"
#include "cf/event.h"

#define AG_APP_CODE_DIGITS 10 /* the applicant's secret code, as the server's */
#define AG_RECEIPT_MAX 32
#define AG_CONSENT_VERSION "2026-01" /* the consent text the terminal reads out */

struct ag_application_form {
    const char *applicant_name, *applicant_birth, *applicant_address, *applicant_phone;
    const char *representative_name, *representative_relation, *settlement;
    const char *category, *purpose, *consent_version, *note, *office_id, *trip_id;
    bool consent, complete;
};

/* Which application an act is about: its number, or the seq of this terminal's
 * application.filed (filing_seq > 0). */
struct ag_act_target {
    const char *application_number;
    uint64_t filing_seq;
};

struct ag_survey_form {
    struct ag_act_target target;
    const char *living_conditions, *needs, *findings, *trip_id;
    const char *services[CF_ACT_ARRAY_MAX];
    size_t service_count;
};

struct ag_aid_form {
    struct ag_act_target target;
    const char *aid_kind, *inventory_number, *note, *trip_id;
    bool returned; /* false: handed over */
};

/* A recipient's answers to a satisfaction instrument after a visit (survey.answered). */
struct ag_answers_form {
    const char *visit_id, *instrument, *version, *trip_id;
    const char *codes[CF_ACT_ARRAY_MAX], *values[CF_ACT_ARRAY_MAX]; /* question code, answer */
    size_t count;
};

struct ag_act_result {
    uint64_t seq; /* the event appended */
    char receipt[AG_RECEIPT_MAX]; /* application.filed: "01939F2A-4" */
    char code[AG_APP_CODE_DIGITS + 1]; /* application.filed: shown once, never stored */
};

/* The canonical body of each form into body (CF_ACT_BODY_MAX + 1 bytes), checked by the
 * kind's rules as the next event of a chain (seq: any above the filing named). The code's
 * SHA-256 goes into an application's body. Returns 0, or CF_EFIELD_* / CF_ETOOBIG with
 * *d naming "body.<member>", or CF_ENOMEM. */
int ag_application_body(const struct ag_application_form *form, const char *code, char *body,
                        struct cf_error_detail *d);
int ag_survey_body(const struct ag_survey_form *form, char *body, struct cf_error_detail *d);
int ag_aid_body(const struct ag_aid_form *form, char *body, struct cf_error_detail *d);
int ag_answers_body(const struct ag_answers_form *form, char *body, struct cf_error_detail *d);

/* Append the act: application.filed (a fresh code made here, its receipt), or
 * home_survey.recorded, or aid.handed_over with card (read with this event's challenge,
 * ag_card_challenge with no visit id). Returns 0 with *out filled, the body's refusals as
 * above, CF_EINVAL (a hand-over without a card), CF_ECRYPTO (no random code) or a store
 * error (CF_ENOT_ENROLLED...). */
int ag_application_file(struct ag_store *store, const struct ag_application_form *form,
                        const struct ag_moment *moment, struct ag_act_result *out,
                        struct cf_error_detail *d);
int ag_survey_record(struct ag_store *store, const struct ag_survey_form *form,
                     const struct ag_moment *moment, struct ag_act_result *out,
                     struct cf_error_detail *d);
int ag_answers_record(struct ag_store *store, const struct ag_answers_form *form,
                      const struct ag_moment *moment, struct ag_act_result *out,
                      struct cf_error_detail *d);
int ag_aid_record(struct ag_store *store, const struct ag_aid_form *form,
                  const struct cf_card_assurance *card, const struct ag_moment *moment,
                  struct ag_act_result *out, struct cf_error_detail *d);

/* The receipt reference of an application filed as seq on device_id (api/PROTOCOL.md
 * 4.6): the first 8 hex digits of the device id in upper case, '-', the seq. */
void ag_receipt(const uint8_t device_id[CF_UUID_LEN], uint64_t seq, char out[AG_RECEIPT_MAX]);

#endif
