/* The recipient's statement (issue 6): GET /api/v1/recipients/{id}/statement?month=
 * YYYY-MM, what a recipient or their guardian reads about one month: each visit with
 * its date, worker, what was done (the services after corrections, with their
 * catalogue names), how long, whether their own card confirmed it at start and end
 * (and whose: recipient or guardian), the rating, and every correction in plain
 * terms (from, to, why, who, when). Plain JSON; the dashboard prints it in Russian.
 *
 * The month is the local month of the region's time zone (regions.timezone); its
 * bounds become two timestamptz values so the visits come off visits_recipient_sort.
 * It reads visit_effective, so it shows what the register pays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be/auth.h"
#include "be/corrections.h"
#include "be/query.h"
#include "be/reply.h"
#include "be/db.h"
#include "cf/uuid.h"
#include "sql/statement_sql.h"

/* YYYY-MM, year 2000..2099, month 01..12. */
static bool month_valid(const char *s)
{
    if (strlen(s) != 7 || s[4] != '-' || strspn(s, "0123456789") != 4 ||
        strspn(s + 5, "0123456789") != 2)
        return false;
    char *year_end = NULL, *month_end = NULL;
    long year = strtol(s, &year_end, 10), month = strtol(s + 5, &month_end, 10);
    return year_end == s + 4 && *month_end == '\0' && year >= 2000 && year <= 2099 && month >= 1 &&
           month <= 12;
}

void be_handle_recipient_statement(struct be_request *req)
{
    uint8_t id[CF_UUID_LEN];
    char text[CF_UUID_TEXT_LEN + 1], month[16];
    struct be_query_param params[] = {{"month", month, sizeof month}};
    struct cf_error_detail d = {0};
    if (cf_uuid_from_text(be_param(req, "id"), id)) {
        be_reply_problem(req, 404, "not-found", "No such recipient",
                         "The path must name a recipient by their UUID.", NULL, NULL);
        return;
    }
    cf_uuid_to_text(id, text);
    if (be_query_parse(req->query, params, 1, &d) == 0 && !month_valid(month))
        (void)cf_error_set(&d, CF_EFIELD_RANGE, "month", "month must be a month like 2026-11");
    if (d.code) {
        be_reply_problem(req, 400, "validation", "A query parameter is not valid", d.message,
                         d.field, NULL);
        return;
    }
    const char *values[3] = {text, be_auth_provider_scope(req), month};
    PGresult *res = PQexecParams(req->db, sql_statement, 3, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        be_reply_db_error(req, req->db, "statement");
    else if (PQntuples(res) == 0)
        be_reply_problem(req, 404, "not-found", "No such recipient",
                         "No recipient you may see has this id.", NULL, NULL);
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}
