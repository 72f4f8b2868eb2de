/* The audit log (see be/audit.h): one row per change a person made, written in the
 * change's transaction; read by the authority and admin. */
#include "be/audit.h"

#include <stdio.h>
#include <stdlib.h>

#include "be/db.h"
#include "be/log.h"
#include "be/query.h"
#include "be/reply.h"
#include "sql/audit_sql.h"

int be_audit(struct be_request *req, const char *action, const char *subject, const char *reason,
             const char *details_json)
{
    char actor[160];
    snprintf(actor, sizeof actor, "%s:%s", be_role_name(req->who.role),
             req->who.login[0] ? req->who.login : req->who.device);
    const char *params[5] = {actor, action, subject, reason ? reason : "",
                             details_json ? details_json : "{}"};
    PGresult *res = be_db_run(req->db, BE_STMT_AUDIT, 5, params);
    int ok = be_db_check(req, res, PGRES_COMMAND_OK);
    if (!ok)
        be_log_str("error", "cannot write audit_log", "error", PQerrorMessage(req->db));
    PQclear(res);
    return ok ? 0 : -1;
}

/* ==== GET /api/v1/audit ==== */

/* GET /api/v1/audit?limit=N&before=ID: newest first. */
static void handle_audit_list(struct be_request *req)
{
    char limit[8] = "", before[24] = "";
    struct be_query_param params[] = {{"limit", limit, sizeof limit},
                                      {"before", before, sizeof before}};
    struct cf_error_detail d = {0};
    char *end = NULL;
    if (be_query_parse(req->query, params, 2, &d)) {
        be_reply_query_invalid(req, &d);
        return;
    }
    long n = limit[0] ? strtol(limit, &end, 10) : 100;
    if (limit[0] && (*end || n < 1 || n > 1000)) {
        be_reply_problem(req, 400, "validation", "A query parameter is not valid",
                         "limit must be 1 to 1000", "limit", NULL);
        return;
    }
    long long b = before[0] ? strtoll(before, &end, 10) : 0;
    if (before[0] && (*end || b < 1)) {
        be_reply_problem(req, 400, "validation", "A query parameter is not valid",
                         "before must be the id of an audit entry", "before", NULL);
        return;
    }
    char nt[16];
    snprintf(nt, sizeof nt, "%ld", n);
    const char *values[2] = {nt, before};
    PGresult *res = PQexecParams(req->db, sql_audit_list, 2, NULL, values, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1)
        be_reply_db_error(req, req->db, "audit list");
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}

static const struct be_route routes[] = {
    {"GET", "/api/v1/audit", handle_audit_list, true, BE_OVERSIGHT, BE_BODY_NONE},
};
const struct be_module be_audit_module = BE_MODULE("audit", routes);
