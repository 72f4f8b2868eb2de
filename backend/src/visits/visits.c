/* Read API for visits: GET /api/v1/visits (filters, keyset pagination) and
 * GET /api/v1/visits/{id} with the events it was rebuilt from.
 *
 * A plan no visit has started yet is listed as a visit in state "planned" (its id is
 * the plan's), so a manager sees the whole day; it disappears from the list the
 * moment a visit of that plan exists. Visits are turned into JSON by PostgreSQL; a
 * visit's events are read back column by column and printed by firmware-shared's
 * encoder, with their digest recomputed and compared with the one stored. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be/visits.h"
#include "be/event_row.h"
#include "be/log.h"
#include "be/query.h"
#include "be/reply.h"
#include "be/db.h"
#include "be/auth.h"
#include "cf/batch.h"
#include "cf/uuid.h"

#define LOCATION_JSON(prefix)                                                                      \
    "CASE WHEN v." prefix "_lat_e7 IS NULL THEN NULL ELSE json_build_object('lat_e7', v." prefix   \
    "_lat_e7, 'lon_e7', v." prefix "_lon_e7, 'accuracy_m', v." prefix "_accuracy_m) END"

#define START_LOCATION_JSON LOCATION_JSON("start")
#define END_LOCATION_JSON LOCATION_JSON("end")

/* The visit after its corrections (sql/0008_corrections.sql: the view visit_effective,
 * which is what v must be read from); services and expected_minutes stay the facts. */
#define CORRECTED_JSON                                                                             \
    "'disputed', v.disputed, 'corrected', v.corrected, 'must_fix_open', v.must_fix_open, "         \
    "'effective_expected_minutes', v.effective_expected_minutes, 'effective_services', "           \
    "coalesce((SELECT json_agg(json_build_object('code', s.code, 'quantity', s.quantity) ORDER "   \
    "BY s.n) FROM unnest(v.effective_service_codes, v.effective_service_quantities) WITH "         \
    "ORDINALITY s(code, quantity, n)), '[]')"

#define VISIT_JSON                                                                                 \
    "json_build_object('id', v.id, 'provider_id', v.provider_id, 'worker_id', v.worker_id, "       \
    "'worker_name', (SELECT w.full_name FROM workers w WHERE w.id = v.worker_id), "                \
    "'recipient_id', v.recipient_id, 'recipient_name', (SELECT r.full_name FROM recipients r "     \
    "WHERE r.id = v.recipient_id), 'plan_id', v.plan_id, 'state', v.state, "                       \
    "'planned_start', (SELECT pl.planned_start FROM visit_plans pl WHERE pl.id = v.plan_id), "     \
    "'started_at', v.started_at, 'ended_at', v.ended_at, 'duration_s', v.duration_s, "             \
    "'expected_minutes', v.expected_minutes, 'start_confirmed', v.start_confirmed, "               \
    "'end_confirmed', v.end_confirmed, 'start_confirmer', v.start_confirmer, "                     \
    "'end_confirmer', v.end_confirmer, 'rating', v.rating, 'comment', v.comment, "                 \
    "'reason', v.reason, 'cancelled_by', v.cancelled_by, 'flags', to_json(v.flags), "              \
    "'start_location', " START_LOCATION_JSON ", 'end_location', " END_LOCATION_JSON ", "           \
    "'updated_at', v.updated_at, 'services', coalesce((SELECT json_agg(json_build_object("         \
    "'code', s.code, 'quantity', s.quantity) ORDER BY s.n) FROM unnest(v.service_codes, "          \
    "v.service_quantities) WITH ORDINALITY s(code, quantity, n)), '[]'), " CORRECTED_JSON ")"

/* A plan not started yet, shaped as a visit. */
#define PLAN_JSON                                                                                  \
    "json_build_object('id', pl.id, 'provider_id', pl.provider_id, 'worker_id', pl.worker_id, "    \
    "'worker_name', (SELECT w.full_name FROM workers w WHERE w.id = pl.worker_id), "               \
    "'recipient_id', pl.recipient_id, 'recipient_name', (SELECT r.full_name FROM recipients r "    \
    "WHERE r.id = pl.recipient_id), 'plan_id', pl.id, 'state', 'planned', "                        \
    "'planned_start', pl.planned_start, 'started_at', NULL, 'ended_at', NULL, "                    \
    "'duration_s', NULL, 'expected_minutes', (SELECT coalesce(sum(sv.norm_minutes), 0) FROM "      \
    "services sv WHERE sv.code = ANY (pl.service_codes)), 'start_confirmed', false, "              \
    "'end_confirmed', false, 'start_confirmer', NULL, 'end_confirmer', NULL, 'rating', NULL, "     \
    "'comment', NULL, 'reason', NULL, 'cancelled_by', NULL, 'flags', '[]'::json, "                 \
    "'start_location', NULL, 'end_location', NULL, 'updated_at', NULL, 'services', '[]'::json, "   \
    "'disputed', false, 'corrected', false, 'must_fix_open', false, "                              \
    "'effective_expected_minutes', (SELECT coalesce(sum(sv.norm_minutes), 0) FROM services sv "    \
    "WHERE sv.code = ANY (pl.service_codes)), 'effective_services', '[]'::json)"

static cJSON *parse_row_json(PGresult *res, int row)
{
    return cJSON_Parse(PQgetvalue(res, row, 0));
}

/* ==== One visit ==== */

/* The events of visit id (of its own provider) as JSON, each with device_id,
 * received_at and whether its stored digest still matches its content. */
static int visit_events(struct be_request *req, const char *id, const char *provider, cJSON *out)
{
    const char *params[2] = {id, provider};
    PGresult *res = PQexecParams(
        req->db,
        "SELECT " BE_EVENT_SELECT ", e.received_at FROM events e WHERE e.visit_key = $1::uuid "
        "AND e.provider_id = $2::uuid ORDER BY e.wall_time, e.device_id, e.seq",
        2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return -1;
    }
    struct cf_event *ev = malloc(sizeof *ev);
    int rc = ev ? 0 : -1;
    for (int i = 0; !rc && i < PQntuples(res); i++) {
        const char *values[BE_EV_COLUMNS];
        uint8_t stored[CF_DIGEST_LEN], actual[CF_DIGEST_LEN];
        struct cf_error_detail d = {0};
        for (int c = 0; c < BE_EV_COLUMNS; c++)
            values[c] = PQgetisnull(res, i, c) ? NULL : PQgetvalue(res, i, c);
        cJSON *json = NULL;
        if (be_event_from_row(values, ev, stored, &d) == 0 && cf_event_digest(ev, actual) == 0)
            json = cf_event_to_json(ev);
        if (!json) {
            be_log_str("error", "a stored event cannot be read back", "detail", d.message);
            continue;
        }
        bool verified = memcmp(stored, actual, CF_DIGEST_LEN) == 0;
        if (!verified)
            be_log_str("error", "a stored event no longer matches its digest", "device",
                       values[BE_EV_DEVICE_ID]);
        cJSON_AddStringToObject(json, "device_id", values[BE_EV_DEVICE_ID]);
        cJSON_AddStringToObject(json, "received_at", PQgetvalue(res, i, BE_EV_COLUMNS));
        cJSON_AddBoolToObject(json, "verified", verified);
        cJSON_AddItemToArray(out, json);
    }
    free(ev);
    PQclear(res);
    return rc;
}

static void handle_visit_get(struct be_request *req)
{
    uint8_t id[CF_UUID_LEN];
    if (cf_uuid_from_text(be_param(req, "id"), id)) {
        be_reply_problem(req, 404, "not-found", "No such visit",
                         "The path must name a visit by its UUID.", NULL, NULL);
        return;
    }
    char text[CF_UUID_TEXT_LEN + 1];
    cf_uuid_to_text(id, text);
    /* Another provider's (or, for a worker, another worker's) visit does not exist. */
    const char *params[3] = {text, be_auth_provider_scope(req), req->who.worker};
    PGresult *res = PQexecParams(
        req->db,
        "SELECT " VISIT_JSON "::text, v.provider_id FROM visit_effective v WHERE v.id = $1::uuid "
        "AND ($2 = '' OR v.provider_id = $2::uuid) AND ($3 = '' OR v.worker_id = $3::uuid) "
        "UNION ALL SELECT " PLAN_JSON "::text, pl.provider_id FROM visit_plans pl "
        "WHERE pl.id = $1::uuid AND ($2 = '' OR pl.provider_id = $2::uuid) "
        "AND ($3 = '' OR pl.worker_id = $3::uuid) AND NOT EXISTS (SELECT 1 FROM visits x "
        "WHERE x.id = pl.id) AND NOT EXISTS (SELECT 1 FROM visits x WHERE x.plan_id = pl.id)",
        3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        be_reply_db_error(req, req->db, "visit get");
        PQclear(res);
        return;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        be_reply_problem(req, 404, "not-found", "No such visit",
                         "No visit has this id (yet: a visit appears when its first event "
                         "arrives).",
                         NULL, NULL);
        return;
    }
    cJSON *visit = parse_row_json(res, 0);
    cJSON *events = visit ? cJSON_AddArrayToObject(visit, "events") : NULL;
    int rc = events ? visit_events(req, text, PQgetvalue(res, 0, 1), events) : -1;
    PQclear(res);
    if (rc) {
        cJSON_Delete(visit);
        be_reply_db_error(req, req->db, "visit events");
        return;
    }
    be_reply_json(req, 200, visit);
}

/* ==== List ==== */

static const char *const visit_states[] = {"planned", "started",   "ended",
                                           "rated",   "cancelled", "attempted"};
static const char *const visit_flags[] = {"early_leave",   "overtime",   "clock_uncertain",
                                          "card_mismatch", "low_rating", "unknown_recipient"};

static bool one_of(const char *value, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(value, list[i]) == 0)
            return true;
    return false;
}

struct visit_filter {
    char provider[64], worker[64], recipient[64], state[16], flag[32];
    char from[48], to[48], cursor[80], limit[8];
    char cursor_us[24], cursor_id[CF_UUID_TEXT_LEN + 1];
};

/* The cursor is the last row's "<sort time in us since 1970>_<id>": a whole number
 * (a '-' only in front: times before 1970) that a bigint holds, then a UUID. */
static bool split_cursor(struct visit_filter *f)
{
    const char *us = f->cursor, *sep = strchr(us, '_');
    uint8_t id[CF_UUID_LEN];
    size_t n = sep ? (size_t)(sep - us) : 0, sign = us[0] == '-';
    if (n <= sign || n - sign > 18 || n >= sizeof f->cursor_us ||
        strspn(us + sign, "0123456789") != n - sign || cf_uuid_from_text(sep + 1, id))
        return false;
    memcpy(f->cursor_us, us, n);
    f->cursor_us[n] = '\0';
    cf_uuid_to_text(id, f->cursor_id);
    return true;
}

/* Parse and check every parameter; on error *detail names it. */
static int read_filter(const char *query, struct visit_filter *f, struct cf_error_detail *d)
{
    struct be_query_param params[] = {
        {"provider", f->provider, sizeof f->provider},
        {"worker", f->worker, sizeof f->worker},
        {"recipient", f->recipient, sizeof f->recipient},
        {"state", f->state, sizeof f->state},
        {"flag", f->flag, sizeof f->flag},
        {"from", f->from, sizeof f->from},
        {"to", f->to, sizeof f->to},
        {"cursor", f->cursor, sizeof f->cursor},
        {"limit", f->limit, sizeof f->limit},
    };
    memset(f, 0, sizeof *f);
    int rc = be_query_parse(query, params, sizeof params / sizeof params[0], d);
    if (rc)
        return rc;
    uint8_t id[CF_UUID_LEN];
    for (size_t i = 0; i < 3; i++)
        if (params[i].value[0] && cf_uuid_from_text(params[i].value, id))
            return cf_error_set(d, CF_EFIELD_RANGE, params[i].name,
                                "%s must be a UUID like 3f2a...-...", params[i].name);
    if (f->state[0] && !one_of(f->state, visit_states, 6))
        return cf_error_set(d, CF_EFIELD_RANGE, "state",
                            "state must be one of planned, started, ended, rated, cancelled, "
                            "attempted");
    if (f->flag[0] && !one_of(f->flag, visit_flags, 6))
        return cf_error_set(d, CF_EFIELD_RANGE, "flag",
                            "flag must be one of early_leave, overtime, clock_uncertain, "
                            "card_mismatch, low_rating, unknown_recipient");
    if (f->from[0] && !be_time_text_valid(f->from))
        return cf_error_set(d, CF_EFIELD_RANGE, "from",
                            "from must be a time like 2026-11-22T09:00:00Z or a date like "
                            "2026-11-22");
    if (f->to[0] && !be_time_text_valid(f->to))
        return cf_error_set(d, CF_EFIELD_RANGE, "to",
                            "to must be a time like 2026-11-22T18:00:00Z or a date like "
                            "2026-11-23");
    if (f->cursor[0] && !split_cursor(f))
        return cf_error_set(d, CF_EFIELD_RANGE, "cursor",
                            "cursor must be the next_cursor of the previous page, unchanged");
    if (f->limit[0]) {
        char *end = NULL;
        long limit = strtol(f->limit, &end, 10);
        if (*end || end == f->limit || limit < 1 || limit > 500)
            return cf_error_set(d, CF_EFIELD_RANGE, "limit", "limit must be 1 to 500");
    }
    return 0;
}

/* Keyset pagination over (sort time DESC, id DESC): visits sort by their start (or
 * end, cancellation, attempt), plans by their planned start. Each half is limited
 * on its own (each walks an index: visits_*_sort, visit_plans_*_start), then merged.
 * "No visit of this plan" is two NOT EXISTS, not one with an OR: the OR cannot use
 * visits_plan and the primary key and read every visit once per plan on the page. */
static const char list_sql[] =
    "WITH v AS (SELECT v.sort_at, v.id, " VISIT_JSON
    " AS j FROM visit_effective v WHERE $11::boolean "
    "AND ($1 = '' OR v.provider_id = $1::uuid) AND ($2 = '' OR v.worker_id = $2::uuid) "
    "AND ($3 = '' OR v.recipient_id = $3::uuid) AND ($4 = '' OR v.state = $4) "
    "AND ($5 = '' OR (v.flags @> ARRAY[$5] AND cardinality(v.flags) > 0)) AND ($6 = '' OR "
    "v.sort_at >= $6::timestamptz) "
    "AND ($7 = '' OR v.sort_at < $7::timestamptz) AND ($8 = '' OR (v.sort_at, v.id) < "
    "(timestamptz 'epoch' + $8::bigint * interval '1 microsecond', $9::text::uuid)) "
    "ORDER BY v.sort_at DESC, v.id DESC LIMIT $10::int), "
    "p AS (SELECT pl.planned_start AS sort_at, pl.id, " PLAN_JSON " AS j FROM visit_plans pl "
    "WHERE $12::boolean AND ($1 = '' OR pl.provider_id = $1::uuid) "
    "AND ($2 = '' OR pl.worker_id = $2::uuid) AND ($3 = '' OR pl.recipient_id = $3::uuid) "
    "AND ($6 = '' OR pl.planned_start >= $6::timestamptz) "
    "AND ($7 = '' OR pl.planned_start < $7::timestamptz) AND ($8 = '' OR "
    "(pl.planned_start, pl.id) < (timestamptz 'epoch' + $8::bigint * interval '1 microsecond', "
    "$9::text::uuid)) AND NOT EXISTS (SELECT FROM visits x WHERE x.plan_id = pl.id) "
    "AND NOT EXISTS (SELECT FROM visits x WHERE x.id = pl.id) "
    "ORDER BY pl.planned_start DESC, pl.id DESC LIMIT $10::int), "
    "page AS (SELECT * FROM (SELECT * FROM v UNION ALL SELECT * FROM p) u "
    "ORDER BY sort_at DESC, id DESC LIMIT $10::int) "
    "SELECT json_build_object('items', coalesce((SELECT json_agg(j ORDER BY sort_at DESC, "
    "id DESC) FROM page), '[]'), 'next_cursor', (SELECT CASE WHEN count(*) = $10::int THEN "
    "(SELECT (extract(epoch FROM q.sort_at) * 1000000)::bigint || '_' || q.id FROM page q "
    "ORDER BY q.sort_at ASC, q.id ASC LIMIT 1) END FROM page))::text";

static void handle_visit_list(struct be_request *req)
{
    struct visit_filter f;
    struct cf_error_detail d = {0};
    if (read_filter(req->query, &f, &d)) {
        be_reply_query_invalid(req, &d);
        return;
    }
    /* A manager sees only their provider, a worker only their own visits. */
    const char *scope = be_auth_provider_scope(req);
    if ((scope[0] && f.provider[0] && strcmp(f.provider, scope) != 0) ||
        (req->who.worker[0] && f.worker[0] && strcmp(f.worker, req->who.worker) != 0)) {
        be_reply_problem(req, 403, "forbidden", "Not your provider's data",
                         "You may list only your own provider's visits (a worker: their own).",
                         "provider", NULL);
        return;
    }
    if (scope[0])
        snprintf(f.provider, sizeof f.provider, "%s", scope);
    if (req->who.worker[0])
        snprintf(f.worker, sizeof f.worker, "%s", req->who.worker);
    bool visits = strcmp(f.state, "planned") != 0;
    bool plans = (!f.state[0] || !visits) && !f.flag[0];
    const char *params[12] = {f.provider,
                              f.worker,
                              f.recipient,
                              f.state,
                              f.flag,
                              f.from,
                              f.to,
                              f.cursor_us,
                              f.cursor_id[0] ? f.cursor_id : "",
                              f.limit[0] ? f.limit : "50",
                              visits ? "t" : "f",
                              plans ? "t" : "f"};
    if (!visits)
        params[3] = ""; /* "planned" is not a state of the visits table */
    /* The parameters' names, for a value the database refuses (a time zone offset
     * beyond its range, say): that is a 400 naming it, not a 503. */
    static const char *const names[12] = {"provider", "worker", "recipient", "state",
                                          "flag",     "from",   "to",        "cursor",
                                          "cursor",   "limit",  NULL,        NULL};
    PGresult *res = PQexecParams(req->db, list_sql, 12, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        be_db_name_field(req, names, params, 12);
        be_reply_db_error(req, req->db, "visit list");
    } else
        be_reply_json(req, 200, parse_row_json(res, 0));
    PQclear(res);
}

static const struct be_route routes[] = {
    {"GET", "/api/v1/visits", handle_visit_list, true, BE_PEOPLE, BE_BODY_NONE},
    {"GET", "/api/v1/visits/{id}", handle_visit_get, true, BE_PEOPLE, BE_BODY_NONE},
};
const struct be_module be_visits_module = BE_MODULE("visits", routes);
