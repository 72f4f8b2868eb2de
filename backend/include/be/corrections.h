/* Corrections of visits (issue 6) and the recipient's monthly statement: handlers
 * over struct be_request, like review.h. The tables and the view they read are in
 * sql/0008_corrections.sql; see backend/README.md, "Corrections". */
#ifndef BE_CORRECTIONS_H
#define BE_CORRECTIONS_H

#include <stddef.h>

#include "be/request.h"
#include "be/router.h"
#include "cf/error.h"

#define BE_CORRECTION_REASON_MAX 2000 /* characters */

/* One correction as the body gives it. */
struct be_correction_body {
    char field[16]; /* "services" | "disputed" */
    char *value; /* canonical JSON of the new value; owned, freed by the cleanup */
    char reason[BE_CORRECTION_REASON_MAX * 4 + 1];
};

/* The body of POST /api/v1/visits/{id}/corrections (text of len bytes, borrowed, may
 * be NULL): {"field", "value", "reason"}, nothing else; services as at most 32
 * {code, quantity} (a catalogue-shaped code, 1..100, each code once), disputed as a
 * boolean, the reason a person's text (cf/text.h), required. Whether the codes are in
 * the catalogue is the database's to say. Returns 0 (free with
 * be_correction_body_cleanup), or a CF_E... code with *d naming the field
 * ("value[1].quantity") and nothing to free. Pure. */
int be_correction_read(const char *text, size_t len, struct be_correction_body *out,
                       struct cf_error_detail *d);
void be_correction_body_cleanup(struct be_correction_body *body);

/* GET /api/v1/recipients/{id}/statement?month=YYYY-MM: what a recipient or guardian
 * reads about one month of their visits (corrections applied and listed). */
void be_handle_recipient_statement(struct be_request *req);

extern const struct be_module be_corrections_module; /* corrections, statement */

#endif
