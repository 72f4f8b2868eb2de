/* Applications (issue 15): a person's request for social services from filing to a
 * decision — the citizen's public form and status page, the front office's intake and
 * check, the back office's assessment and decision, each change of state journalled.
 * The rules (legal transitions, who may make them, deadlines in working days, who sees
 * what) are in sql/0019_applications.sql; see backend/README.md, "Applications". */
#ifndef BE_APPLICATIONS_H
#define BE_APPLICATIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "be/router.h"
#include "cf/error.h"

#define BE_APP_NAME_MAX 200 /* characters */
#define BE_APP_ADDRESS_MAX 300
#define BE_APP_PHONE_MAX 40
#define BE_APP_RELATION_MAX 100
#define BE_APP_DETAILS_MAX 2000
#define BE_APP_REASON_MAX 1000
#define BE_APP_CODE_DIGITS 10 /* the applicant's secret code */

/* The form of an application, as the citizen's page or the front office sends it:
 * {"office_id", "channel", "applicant_name", "applicant_birth_date", "applicant_phone",
 *  "applicant_address", "representative_name", "representative_relation", "category",
 *  "purpose", "details", "complete", "consent"}. */
struct be_application_form {
    char office_id[40]; /* "" when the body leaves it out (the front office: its own) */
    char channel[16]; /* web | office | phone | post | terminal */
    char applicant_name[BE_APP_NAME_MAX * 4 + 1];
    char applicant_birth_date[11]; /* YYYY-MM-DD */
    char applicant_phone[BE_APP_PHONE_MAX + 1];
    char applicant_address[BE_APP_ADDRESS_MAX * 4 + 1];
    char representative_name[BE_APP_NAME_MAX * 4 + 1];
    char representative_relation[BE_APP_RELATION_MAX * 4 + 1];
    char category[24];
    char purpose[24];
    char details[BE_APP_DETAILS_MAX * 4 + 1];
    bool complete;
};

/* Who sends the form: the citizen on the public page (channel is always "web", no
 * "complete", "channel" refused) or the front office (channel office, phone or post;
 * "complete" allowed). */
enum be_application_source { BE_APP_PUBLIC, BE_APP_OFFICE };

/* Read and check the form (text of len bytes, borrowed, may be NULL): an object of the
 * fields above and nothing else; names, address, relation and details a person's text
 * (cf/text.h); applicant_name, applicant_birth_date (a real date, not in the future
 * against today, "YYYY-MM-DD"), applicant_address, category, purpose required; phone
 * digits, spaces and "+()-"; "consent" must be true (an application is never taken
 * without consent to the processing of personal data). Returns 0 or a CF_E... code with
 * *d naming the field. Pure. */
int be_application_read(const char *text, size_t len, enum be_application_source source,
                        const char *today, struct be_application_form *out,
                        struct cf_error_detail *d);

#define BE_PROGRAMME_SERVICES_MAX 32 /* services of one programme */
#define BE_PROGRAMME_RULES_MAX 16 /* plan rules of one programme */

/* The body of a transition: {"to": state, "reason": text (optional here; the database
 * says when a reason is required), "programme": {...} (with "to": "approved" and only
 * then, required)}. The programme, checked in shape, is kept as compact JSON text in
 * out->programme (heap: release with be_application_move_cleanup; NULL without one):
 *   {"provider_id": uuid, "valid_from": date, "valid_to": date (not before valid_from),
 *    "services": [1..32 of {"code": catalogue code, "volume": 1..10000,
 *                           "period": "month" | "year"}, each code once],
 *    "rules": [1..16 of {"worker_id": uuid, "weekdays": [1..7 of 1 (Monday) .. 7, each
 *               once], "time": "HH:MM", "services": [1..32 of the programme's codes]}]}
 * Whether the provider, codes and workers exist is the database's
 * (application_approve). Returns 0 or a CF_E... code with *d naming the field
 * ("programme.rules[0].weekdays[2]"). Pure. */
struct be_application_move {
    char to[16];
    char reason[BE_APP_REASON_MAX * 4 + 1];
    char *programme;
};
int be_application_move_read(const char *text, size_t len, struct be_application_move *out,
                             struct cf_error_detail *d);
void be_application_move_cleanup(struct be_application_move *m);

/* The body of the public status lookup: {"number": "2026-000123" or a receipt "01939F2A-4", "code":
 * ten digits}. Pure. */
struct be_application_lookup {
    char number[32]; /* a number, or a terminal's receipt (8 + 1 + up to 15) */
    char code[BE_APP_CODE_DIGITS + 1];
};
int be_application_lookup_read(const char *text, size_t len, struct be_application_lookup *out,
                               struct cf_error_detail *d);

/* carefactd plan-visits: connect to conninfo (as the owner) and make the visit plans of
 * every running programme through the horizon (plans_generate_all, sql/0020: today and
 * the 13 days after, in each region; re-runnable, nothing made twice). Run daily (cron,
 * a systemd timer): the approval itself makes only the first 14 days. Returns 0 with
 * *added the plans made, or -1 with a sentence in error. */
int be_plans_generate(const char *conninfo, long *added, char *error, size_t error_size);

extern const struct be_module be_applications_module;

/* The funnel (applications/funnel.c): is month "YYYY-MM" (year from 2000, month 01..12)?
 * Pure. */
bool be_funnel_month_valid(const char *month);
/* GET /api/v1/applications/funnel?month=YYYY-MM[&office=]: the funnel per office of the
 * applications filed that month and all of them together (application_funnel in
 * sql/0025_application_funnel.sql), in the caller's scope. A route of the applications
 * module. */
void be_applications_handle_funnel(struct be_request *req);

#endif
