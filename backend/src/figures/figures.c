/* Figures (issue 6): GET /api/v1/figures -- per worker, per service, per provider or
 * per local day over a period: visits, duration against norm, early-leave and overtime
 * shares, ratings, cancellations and door attempts by reason, and the compliance score
 * (the share of ended visits confirmed by card at both ends with no open must-fix).
 *
 * One SQL statement per request over visit_effective (sql/0008_corrections.sql), so a
 * correction of a visit's services changes its expected time, a must-fix resolution
 * takes a visit out of compliance until a correction follows, and row-level security
 * applies as for every read. Early leave, overtime and low rating are the visit's flags,
 * which the rebuild judges on the corrected services (visit_flags,
 * sql/0005_visits.sql): the exception queue reads the same flags, so the two agree. The
 * period is a range of visits.sort_at, so the statement walks visits_provider_sort (one
 * provider) or visits_sort (all); exception_resolutions_must_fix (sql/0007_review.sql)
 * keeps the view's must-fix lookup per visit an index probe. */
#include <stdio.h>
#include <string.h>

#include "be/auth.h"
#include "be/figures.h"
#include "be/query.h"
#include "be/reply.h"
#include "be/db.h"
#include "cf/uuid.h"
#include "sql/figures_sql.h"

struct figures_query {
    char group[16], from[48], to[48], provider[64], worker[64];
};

static int read_query(const char *query, struct figures_query *q, struct cf_error_detail *d)
{
    struct be_query_param params[] = {
        {"group", q->group, sizeof q->group},
        {"from", q->from, sizeof q->from},
        {"to", q->to, sizeof q->to},
        {"provider", q->provider, sizeof q->provider},
        {"worker", q->worker, sizeof q->worker},
    };
    memset(q, 0, sizeof *q);
    int rc = be_query_parse(query, params, sizeof params / sizeof params[0], d);
    if (rc)
        return rc;
    if (strcmp(q->group, "worker") && strcmp(q->group, "service") && strcmp(q->group, "provider") &&
        strcmp(q->group, "day"))
        return cf_error_set(d, q->group[0] ? CF_EFIELD_RANGE : CF_EFIELD_MISSING, "group",
                            "group must be one of worker, service, provider, day");
    if (q->from[0] && !be_time_text_valid(q->from))
        return cf_error_set(d, CF_EFIELD_RANGE, "from",
                            "from must be a time like 2026-11-01T00:00:00+03:00 or a local date "
                            "like 2026-11-01");
    if (q->to[0] && !be_time_text_valid(q->to))
        return cf_error_set(d, CF_EFIELD_RANGE, "to",
                            "to must be a time like 2026-12-01T00:00:00+03:00 or a local date "
                            "like 2026-12-01");
    uint8_t id[CF_UUID_LEN];
    if (q->provider[0] && cf_uuid_from_text(q->provider, id))
        return cf_error_set(d, CF_EFIELD_RANGE, "provider", "provider must be a UUID");
    if (q->worker[0] && cf_uuid_from_text(q->worker, id))
        return cf_error_set(d, CF_EFIELD_RANGE, "worker", "worker must be a UUID");
    return 0;
}

/* A manager is held to their provider and a worker to their own visits: a filter
 * naming another is refused (as in visits.c), no filter means their own. Returns
 * false after answering 403. */
static bool apply_scope(struct be_request *req, struct figures_query *q)
{
    const char *scope = be_auth_provider_scope(req);
    const char *field = NULL;
    if (scope[0] && q->provider[0] && strcmp(q->provider, scope) != 0)
        field = "provider";
    else if (req->who.worker[0] && q->worker[0] && strcmp(q->worker, req->who.worker) != 0)
        field = "worker";
    if (field) {
        be_reply_problem(req, 403, "forbidden", "Not your provider's data",
                         "You may see only your own provider's figures (a worker: their own).",
                         field, NULL);
        return false;
    }
    if (scope[0])
        snprintf(q->provider, sizeof q->provider, "%s", scope);
    if (req->who.worker[0])
        snprintf(q->worker, sizeof q->worker, "%s", req->who.worker);
    return true;
}

static void handle_figures(struct be_request *req)
{
    struct figures_query q;
    struct cf_error_detail d = {0};
    if (read_query(req->query, &q, &d)) {
        be_reply_query_invalid(req, &d);
        return;
    }
    if (!apply_scope(req, &q))
        return;
    const char *values[5] = {q.group, q.from, q.to, q.provider, q.worker};
    static const char *const names[5] = {"group", "from", "to", "provider", "worker"};
    PGresult *res = PQexecParams(req->db, sql_figures, 5, NULL, values, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        be_db_name_field(req, names, values, 5); /* a time the database refuses: 400 */
        be_reply_db_error(req, req->db, "figures");
    } else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
        be_reply_problem(req, 400, "validation", "A query parameter is not valid",
                         "to must be after from (from defaults to the start of the current "
                         "local month, to to now)",
                         "to", NULL);
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}

static const struct be_route routes[] = {
    /* A worker sees only their own. */
    {"GET", "/api/v1/figures", handle_figures, BE_DB_READ, BE_PEOPLE, BE_BODY_NONE},
};
const struct be_module be_figures_module = BE_MODULE("figures", routes);
