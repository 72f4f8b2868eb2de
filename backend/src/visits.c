/* Read API for visits: GET /api/v1/visits (filters, keyset pagination) and
 * GET /api/v1/visits/{id} with the events it was rebuilt from. Rows are turned into
 * JSON by PostgreSQL (json_build_object), one round trip per request. */
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "be/server.h"
#include "cf/uuid.h"

#define VISIT_JSON                                                                                 \
    "json_build_object('id', v.id, 'provider_id', v.provider_id, 'worker_id', v.worker_id, "       \
    "'recipient_id', v.recipient_id, 'plan_id', v.plan_id, 'state', v.state, "                     \
    "'started_at', v.started_at, 'ended_at', v.ended_at, 'duration_s', v.duration_s, "             \
    "'expected_minutes', v.expected_minutes, 'start_confirmed', v.start_confirmed, "               \
    "'end_confirmed', v.end_confirmed, 'rating', v.rating, 'comment', v.comment, "                 \
    "'cancel_reason', v.cancel_reason, 'cancelled_by', v.cancelled_by, 'flags', v.flags, "         \
    "'services', coalesce((SELECT json_agg(json_build_object('code', s.service_code, "             \
    "'quantity', s.quantity) ORDER BY s.service_code) FROM visit_services s "                      \
    "WHERE s.visit_id = v.id), '[]'))"

static void reply_raw_json(struct be_request *req, PGresult *res)
{
    cJSON *body = cJSON_Parse(PQgetvalue(res, 0, 0));
    be_reply_json(req, 200, body);
}

void be_handle_visit_get(struct be_request *req)
{
    uint8_t id[CF_UUID_LEN];
    if (cf_uuid_from_text(req->param, id)) {
        be_reply_problem(req, 404, "not-found", "No such visit",
                         "The path must name a visit by its UUID.", NULL, NULL);
        return;
    }
    const char *params[1] = {req->param};
    PGresult *res = PQexecParams(
        req->db,
        "SELECT (" VISIT_JSON "::jsonb || jsonb_build_object('events', coalesce((SELECT "
        "jsonb_agg(e.payload || jsonb_build_object('device_id', e.device_id, 'received_at', "
        "e.received_at) ORDER BY e.wall_time, e.device_id, e.seq) FROM events e "
        "WHERE e.visit_id = v.id), '[]')))::text FROM visits v WHERE v.id = $1::uuid",
        1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        be_reply_db_error(req, req->db, "visit get");
    else if (PQntuples(res) == 0)
        be_reply_problem(req, 404, "not-found", "No such visit",
                         "No visit has this id (yet: it appears when its first event arrives).",
                         NULL, NULL);
    else
        reply_raw_json(req, res);
    PQclear(res);
}

/* ==== List ==== */

struct visit_filter {
    char provider[40], worker[40], recipient[40], state[16], flag[24];
    char from[40], to[40], cursor[80], limit[8];
};

/* Read one query parameter into out, URL-decoded (values are validated by the
 * caller or by PostgreSQL casts, which fail cleanly). */
static int query_get(const char *query, const char *name, char *out, size_t size)
{
    out[0] = '\0';
    size_t nlen = strlen(name);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            size_t vlen = len - nlen - 1;
            if (vlen >= size || mg_url_decode(p + nlen + 1, (int)vlen, out, (int)size, 1) < 0)
                return -1;
            return 0;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

static const char *check_filter(const char *query, struct visit_filter *f)
{
    static const char *const names[] = {"provider", "worker", "recipient", "state", "flag",
                                        "from",     "to",     "cursor",    "limit"};
    char *fields[] = {f->provider, f->worker, f->recipient, f->state, f->flag,
                      f->from,     f->to,     f->cursor,    f->limit};
    size_t sizes[] = {sizeof f->provider, sizeof f->worker, sizeof f->recipient,
                      sizeof f->state,    sizeof f->flag,   sizeof f->from,
                      sizeof f->to,       sizeof f->cursor, sizeof f->limit};
    uint8_t id[CF_UUID_LEN];
    for (size_t i = 0; i < 9; i++)
        if (query_get(query, names[i], fields[i], sizes[i]))
            return names[i];
    for (size_t i = 0; i < 3; i++)
        if (fields[i][0] && cf_uuid_from_text(fields[i], id))
            return names[i];
    static const char *const states[] = {"", "started", "ended", "rated", "cancelled"};
    bool state_ok = false;
    for (size_t i = 0; i < 5; i++)
        state_ok |= strcmp(f->state, states[i]) == 0;
    if (!state_ok)
        return "state";
    for (const char *c = f->flag; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || *c == '_'))
            return "flag";
    if (f->limit[0]) {
        char *end = NULL;
        long limit = strtol(f->limit, &end, 10);
        if (*end || limit < 1 || limit > 500)
            return "limit";
    }
    return NULL;
}

void be_handle_visit_list(struct be_request *req)
{
    struct visit_filter f;
    const char *bad = check_filter(req->query, &f);
    if (bad) {
        char detail[160];
        snprintf(detail, sizeof detail,
                 "query parameter %s is not valid (ids are UUIDs, state one of started, ended, "
                 "rated, cancelled, limit 1-500)",
                 bad);
        be_reply_problem(req, 400, "validation", "A query parameter is not valid", detail, bad,
                         NULL);
        return;
    }
    const char *params[9] = {f.provider, f.worker, f.recipient,
                             f.state,    f.flag,   f.from,
                             f.to,       f.cursor, f.limit[0] ? f.limit : "50"};
    /* Keyset pagination over (started_at DESC, id DESC): the cursor is the last row's
     * "<started_at in µs since 1970>_<id>", URL-safe and exact; the visits_*_started
     * indexes serve each filter. */
    PGresult *res = PQexecParams(
        req->db,
        "WITH page AS (SELECT v.* FROM visits v WHERE "
        "($1 = '' OR v.provider_id = $1::uuid) AND ($2 = '' OR v.worker_id = $2::uuid) AND "
        "($3 = '' OR v.recipient_id = $3::uuid) AND ($4 = '' OR v.state = $4) AND "
        "($5 = '' OR v.flags @> ARRAY[$5]) AND "
        "($6 = '' OR v.started_at >= $6::timestamptz) AND ($7 = '' OR v.started_at < "
        "$7::timestamptz) AND ($8 = '' OR (v.started_at, v.id) < (timestamptz 'epoch' + "
        "split_part($8, '_', 1)::bigint * interval '1 microsecond', split_part($8, '_', 2)::uuid)) "
        "ORDER BY v.started_at DESC NULLS LAST, v.id DESC LIMIT $9::int) "
        "SELECT json_build_object('items', coalesce((SELECT json_agg(" VISIT_JSON
        " ORDER BY v.started_at DESC NULLS LAST, v.id DESC) FROM page v), '[]'), "
        "'next_cursor', (SELECT CASE WHEN count(*) = $9::int THEN (SELECT (extract(epoch FROM "
        "p.started_at) * 1000000)::bigint || '_' || p.id FROM page p ORDER BY p.started_at ASC "
        "NULLS FIRST, p.id ASC LIMIT 1) END "
        "FROM page))::text",
        9, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        /* A cast failure (bad time or cursor) is the client's input, not an outage. */
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (state && strncmp(state, "22", 2) == 0)
            be_reply_problem(req, 400, "validation", "A query parameter is not valid",
                             "from, to and cursor must be times like 2026-11-22T09:00:00Z (cursor "
                             "as given by next_cursor)",
                             "from", NULL);
        else
            be_reply_db_error(req, req->db, "visit list");
    } else {
        reply_raw_json(req, res);
    }
    PQclear(res);
}
