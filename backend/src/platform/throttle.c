/* The citizen's routes' throttle per client address (see be/throttle.h). */
#include "be/throttle.h"

#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "be/db.h"
#include "be/reply.h"
#include "sql/throttle_sql.h"

bool be_public_throttled(struct be_request *req, const char *kind, int after, int forget_s)
{
    char after_text[12], forget_text[12], max_text[12];
    snprintf(after_text, sizeof after_text, "%d", after);
    snprintf(forget_text, sizeof forget_text, "%d", forget_s);
    snprintf(max_text, sizeof max_text, "%d", BE_PUBLIC_LOCK_MAX_S);
    const char *params[5] = {kind, be_request_remote_addr(req), after_text, forget_text, max_text};
    PGresult *res = PQexecParams(req->db, sql_public_attempt, 5, NULL, params, NULL, NULL, 0);
    long wait_s = -1;
    if (be_db_check(req, res, PGRES_TUPLES_OK) && PQntuples(res) == 1) {
        char *end = NULL;
        wait_s = strtol(PQgetvalue(res, 0, 0), &end, 10);
        if (!end || *end != '\0' || wait_s < 0)
            wait_s = -1;
    }
    PQclear(res);
    if (wait_s < 0) {
        be_reply_db_error(req, req->db, "public throttle");
        return true;
    }
    if (wait_s == 0)
        return false;
    char detail[200];
    snprintf(detail, sizeof detail, "Too many requests from here; try again in %ld s.", wait_s);
    cJSON *extra = cJSON_CreateObject();
    if (extra)
        cJSON_AddNumberToObject(extra, "retry_after_s", (double)wait_s);
    be_reply_problem(req, 429, "rate-limited", "Too many requests", detail, NULL, extra);
    return true;
}
