/* Satisfaction you can prove (issue 16): survey answers — on the public page after an
 * office visit (the appointment's secret proves), by the department's or the
 * provider's phone follow-up — and the figures per provider × service × month and per
 * channel: the share satisfied with its 95 % Wilson interval and the status against
 * the 95 % target, coverage, would-recommend, low ratings followed up in time, and the
 * courtesy-bias check against an independent follow-up sample. The rules are SQL
 * functions in sql/0026_satisfaction.sql; see backend/README.md, "Satisfaction". */
#ifndef BE_SATISFACTION_H
#define BE_SATISFACTION_H

#include <stddef.h>

#include "be/router.h"
#include "cf/error.h"

#define BE_SURVEY_ANSWERS_MAX 32 /* questions one answer may name */
#define BE_SURVEY_ANSWERS_TEXT 1024 /* bytes of the answers as compact JSON */
#define BE_SURVEY_SECRET_HEX 32 /* the appointment's secret (be/appointments.h) */

/* One response as a body gives it. The public page: {"secret", "instrument",
 * "version", "answers"}; the staff follow-up: {"visit_id" | "appointment_id",
 * "purpose" (sample | low_rating | after_visit), "instrument", "version", "answers"}.
 * answers is an object of question codes ([a-z_]{1,32}) to an integer 1-5 or one of
 * the strings fully, partly, no, yes; whether each fits its question is the
 * database's check (survey_answers_check), which names the question. */
struct be_survey_answer {
    char secret[BE_SURVEY_SECRET_HEX + 1];
    char visit_id[40], appointment_id[40]; /* canonical uuid text, or "" */
    char purpose[16];
    char instrument[41];
    long version;
    char answers[BE_SURVEY_ANSWERS_TEXT]; /* the answers object, compact JSON */
};

enum be_survey_source { BE_SURVEY_PUBLIC, BE_SURVEY_STAFF };

/* Read and check a response body (text of len bytes, borrowed, may be NULL): unknown
 * fields refused, each field checked, the answers re-serialised compactly into
 * out->answers. Returns 0 or a CF_E... code with *d naming the field ("answers.waiting"
 * for a bad answer). Pure. */
int be_survey_answer_read(const char *text, size_t len, enum be_survey_source source,
                          struct be_survey_answer *out, struct cf_error_detail *d);

extern const struct be_module be_satisfaction_module;

#endif
