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

/* Services JSON (jsonb [{code, quantity}]) with each code's catalogue name. */
#define NAMED_SERVICES(x)                                                                          \
    "(SELECT coalesce(jsonb_agg(jsonb_build_object('code', e.x->>'code', 'name', sv.name, "        \
    "'quantity', (e.x->>'quantity')::integer) ORDER BY e.n), '[]') FROM "                          \
    "jsonb_array_elements(" x ") WITH ORDINALITY e(x, n) LEFT JOIN services sv ON sv.code = "      \
    "e.x->>'code')"
#define PLAIN_VALUE(x) "CASE WHEN c.field = 'services' THEN " NAMED_SERVICES(x) " ELSE " x " END"

#define STATEMENT_VISIT_JSON                                                                       \
    "json_build_object('id', v.id, 'date', to_char(v.sort_at AT TIME ZONE b.timezone, "            \
    "'YYYY-MM-DD'), 'start_time', to_char(v.started_at AT TIME ZONE b.timezone, 'HH24:MI'), "      \
    "'end_time', to_char(v.ended_at AT TIME ZONE b.timezone, 'HH24:MI'), 'started_at', "           \
    "v.started_at, 'ended_at', v.ended_at, 'state', v.state, 'reason', v.reason, "                 \
    "'worker_name', w.full_name, 'services', coalesce((SELECT json_agg(json_build_object("         \
    "'code', s.code, 'name', sv.name, 'quantity', s.quantity) ORDER BY s.n) FROM "                 \
    "unnest(v.effective_service_codes, v.effective_service_quantities) WITH ORDINALITY "           \
    "s(code, quantity, n) LEFT JOIN services sv ON sv.code = s.code), '[]'), "                     \
    "'duration_minutes', round(v.duration_s / 60.0)::integer, 'expected_minutes', "                \
    "v.effective_expected_minutes, 'start_confirmed', v.start_confirmed, 'start_confirmed_by', "   \
    "v.start_confirmer, 'end_confirmed', v.end_confirmed, 'end_confirmed_by', v.end_confirmer, "   \
    "'rating', v.rating, 'comment', v.comment, 'disputed', v.disputed, 'corrected', "              \
    "v.corrected, 'corrections', coalesce((SELECT json_agg(json_build_object('field', c.field, "   \
    "'from', " PLAIN_VALUE("c.previous") ", 'to', " PLAIN_VALUE(                                   \
        "c.value") ", 'reason', "                                                                  \
                   "c.reason, 'corrected_by', c.corrected_by, 'corrected_at', c.corrected_at) "    \
                   "ORDER BY c.id) "                                                               \
                   "FROM visit_corrections c WHERE c.visit_id = v.id), '[]'))"

/* $1 recipient, $2 provider scope ('' = every provider), $3 month YYYY-MM. */
static const char statement_sql[] =
    "WITH b AS (SELECT r.id, r.full_name, r.guardian_name, r.provider_id, p.name AS "
    "provider_name, rg.timezone, (($3 || '-01')::timestamp AT TIME ZONE rg.timezone) AS from_at, "
    "((($3 || '-01')::timestamp + interval '1 month') AT TIME ZONE rg.timezone) AS to_at "
    "FROM recipients r JOIN providers p ON p.id = r.provider_id JOIN regions rg ON rg.id = "
    "p.region_id WHERE r.id = $1::uuid AND ($2 = '' OR r.provider_id = $2::uuid)), "
    "m AS (SELECT v.sort_at, v.id, v.duration_s, " STATEMENT_VISIT_JSON " AS j FROM b "
    "JOIN visit_effective v ON v.recipient_id = b.id AND v.provider_id = b.provider_id "
    "AND v.sort_at >= b.from_at AND v.sort_at < b.to_at JOIN workers w ON w.id = v.worker_id) "
    "SELECT json_build_object('recipient', json_build_object('id', b.id, 'full_name', "
    "b.full_name, 'guardian_name', b.guardian_name), 'provider', json_build_object('id', "
    "b.provider_id, 'name', b.provider_name), 'month', $3, 'timezone', b.timezone, 'from', "
    "b.from_at, 'to', b.to_at, 'visits', coalesce((SELECT json_agg(m.j ORDER BY m.sort_at, "
    "m.id) FROM m), '[]'), 'totals', (SELECT json_build_object('visits', count(*), "
    "'minutes', coalesce(sum(round(m.duration_s / 60.0)), 0)::integer) FROM m))::text FROM b";

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
    PGresult *res = PQexecParams(req->db, statement_sql, 3, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        be_reply_db_error(req, req->db, "statement");
    else if (PQntuples(res) == 0)
        be_reply_problem(req, 404, "not-found", "No such recipient",
                         "No recipient you may see has this id.", NULL, NULL);
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}
