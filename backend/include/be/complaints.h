/* Complaints and the provider comparison (issue 16): the register of complaints (opened
 * by a low rating with a comment — automatically, by sql/0027's trigger on visits —, the
 * citizen's public page, the phone desk, a follow-up call), their answers and state
 * changes (open -> answered -> closed, reopen: one SQL function, complaint_move), overdue
 * answers, trend alerts per worker and provider, and the citizens' public comparison of a
 * region's providers (satisfaction with its Wilson lower bound, card-confirmed share,
 * punctuality). The rules are in sql/0027_complaints.sql; see backend/README.md,
 * "Complaints". */
#ifndef BE_COMPLAINTS_H
#define BE_COMPLAINTS_H

#include <stddef.h>

#include "be/router.h"
#include "cf/error.h"

#define BE_COMPLAINT_TEXT_MAX 4000 /* characters: the complaint and the answer */
#define BE_COMPLAINT_NAME_MAX 200 /* characters */
#define BE_COMPLAINT_PHONE_MAX 40 /* bytes */
#define BE_COMPLAINT_CAUSE_MAX 32 /* bytes: [a-z_] */
#define BE_COMPLAINT_SECRET_HEX 32 /* an appointment's secret */
#define BE_COMPLAINT_CODE_DIGITS 10 /* an application's code */
/* A visit is punctual when it started within this many minutes of its plan's start
 * (early or late): the comparison page's punctuality. */
#define BE_COMPARE_PUNCTUAL_MINUTES 15

/* Who opens it: a person signed in (the phone desk, a follow-up call) or the citizen's
 * public page. */
enum be_complaint_channel { BE_COMPLAINT_STAFF, BE_COMPLAINT_PUBLIC };

/* A new complaint.
 * staff:  {"source": "phone" | "follow_up", "cause", "text", one of "visit_id" or
 *          "provider_id" (then "worker_id" optional), "person_name", "phone" (optional)}
 * public: {"about": "office", "appointment_id", "secret", "cause", "text", "phone"?} or
 *         {"about": "home", "number", "code", "visit_date"? (YYYY-MM-DD), "cause", "text",
 *          "phone"?}
 * Fields not given are "". */
struct be_complaint_new {
    char source[12];
    char about[8];
    char cause[BE_COMPLAINT_CAUSE_MAX + 1];
    char text[BE_COMPLAINT_TEXT_MAX * 4 + 1];
    char person_name[BE_COMPLAINT_NAME_MAX * 4 + 1];
    char phone[BE_COMPLAINT_PHONE_MAX + 1];
    char visit_id[40], provider_id[40], worker_id[40], appointment_id[40];
    char secret[BE_COMPLAINT_SECRET_HEX + 1];
    char number[24];
    char code[BE_COMPLAINT_CODE_DIGITS + 1];
    char visit_date[11];
};

/* Read and check a new complaint's body (text of len bytes, borrowed, may be NULL):
 * unknown fields refused, each field checked (ids canonical lower-case uuids). Returns 0
 * or a CF_E... code with *d naming the field. Pure. */
int be_complaint_new_read(const char *text, size_t len, enum be_complaint_channel channel,
                          struct be_complaint_new *out, struct cf_error_detail *d);

/* A transition {"to": "answered" | "closed" | "open", "answer" (required, not blank, for
 * answered), "cause" (optional, with the answer)}. Pure. */
struct be_complaint_move {
    char to[12];
    char answer[BE_COMPLAINT_TEXT_MAX * 4 + 1];
    char cause[BE_COMPLAINT_CAUSE_MAX + 1];
};
int be_complaint_move_read(const char *text, size_t len, struct be_complaint_move *out,
                           struct cf_error_detail *d);

/* The citizen's look-up of their complaint {"number", "code"}: the number as said on the
 * phone or printed ("Ж-000042", "ж-42", "Ж000042", "42": the letter and the dash optional,
 * 1 to 12 digits) is read into its canonical form (sql/0033 complaint_number: "Ж-" and
 * at least 6 digits); the code is BE_COMPLAINT_CODE_DIGITS digits. Pure. */
#define BE_COMPLAINT_NUMBER_MAX 24 /* bytes of the canonical number */
struct be_complaint_lookup {
    char number[BE_COMPLAINT_NUMBER_MAX + 1];
    char code[BE_COMPLAINT_CODE_DIGITS + 1];
};
int be_complaint_lookup_read(const char *text, size_t len, struct be_complaint_lookup *out,
                             struct cf_error_detail *d);

/* The canonical complaint number of what a person typed (see above) into out; 0, or
 * CF_EFIELD_RANGE when it is not one. Pure. */
int be_complaint_number_canonical(const char *typed, char out[BE_COMPLAINT_NUMBER_MAX + 1]);

extern const struct be_module be_complaints_module;

#endif
