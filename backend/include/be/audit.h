/* The audit log: a change made by a person is recorded with be_audit in the same
 * transaction; the authority and admin read it with GET /api/v1/audit. */
#ifndef BE_AUDIT_H
#define BE_AUDIT_H

#include "be/request.h"
#include "be/router.h"

/* Append one row to audit_log as the request's caller. Returns 0 or -1 (logged; the
 * failure is in req->db_failure). */
int be_audit(struct be_request *req, const char *action, const char *subject, const char *reason,
             const char *details_json);

extern const struct be_module be_audit_module; /* GET /api/v1/audit */

#endif
