/* Corrections of visits (issue 6) and the recipient's monthly statement: handlers
 * over struct be_request, like review.h. The tables and the view they read are in
 * sql/0008_corrections.sql; see backend/README.md, "Corrections". */
#ifndef BE_CORRECTIONS_H
#define BE_CORRECTIONS_H

#include "be/server.h"

/* POST /api/v1/visits/{id}/corrections: one correction (services or disputed) with
 * a reason, by the signed-in person, audited in the same transaction; 201 with the
 * stored row. GET: the visit's corrections, oldest first. */
void be_handle_correction_create(struct be_request *req);
void be_handle_correction_list(struct be_request *req);

/* GET /api/v1/recipients/{id}/statement?month=YYYY-MM: what a recipient or guardian
 * reads about one month of their visits (corrections applied and listed). */
void be_handle_recipient_statement(struct be_request *req);

#endif
