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
#include "cf/codec.h"
#include "be/auth.h"
#include "cf/batch.h"
#include "cf/uuid.h"
#include "sql/visits_sql.h"

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
        "SELECT " BE_EVENT_SELECT ", e.received_at, encode(e.card_body_digest, 'hex'), "
        "e.card_proof_kind, e.card_proof_level, e.card_proof_failure FROM events e "
        "WHERE e.visit_key = $1::uuid "
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
        /* An event that came with a card proof is stored without it (the certificates
         * hold the card number): its row is checked against the digest of the event
         * without the proof, kept at ingest; the signed digest stays in `digest`. */
        const char *body_hex =
            PQgetisnull(res, i, BE_EV_COLUMNS + 1) ? NULL : PQgetvalue(res, i, BE_EV_COLUMNS + 1);
        uint8_t body[CF_DIGEST_LEN];
        size_t body_len = 0;
        bool verified =
            body_hex
                ? cf_hex_decode(body_hex, strlen(body_hex), body, sizeof body, &body_len) == 0 &&
                      body_len == CF_DIGEST_LEN && memcmp(body, actual, CF_DIGEST_LEN) == 0
                : memcmp(stored, actual, CF_DIGEST_LEN) == 0;
        if (body_hex) {
            cJSON *card = cJSON_GetObjectItemCaseSensitive(json, "card");
            cJSON *proof = card ? cJSON_AddObjectToObject(card, "proof") : NULL;
            if (proof) {
                cJSON_AddStringToObject(proof, "kind", PQgetvalue(res, i, BE_EV_COLUMNS + 2));
                cJSON_AddStringToObject(proof, "level", PQgetvalue(res, i, BE_EV_COLUMNS + 3));
                if (!PQgetisnull(res, i, BE_EV_COLUMNS + 4))
                    cJSON_AddStringToObject(proof, "failure",
                                            PQgetvalue(res, i, BE_EV_COLUMNS + 4));
                cJSON_AddBoolToObject(proof, "withheld", true);
            }
        }
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
    PGresult *res = PQexecParams(req->db, sql_visit_get, 3, NULL, params, NULL, NULL, 0);
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
static const char *const visit_flags[] = {"early_leave",    "overtime",         "clock_uncertain",
                                          "card_mismatch",  "low_rating",       "unknown_recipient",
                                          "overlap",        "far_from_address", "impossible_travel",
                                          "rating_amended", "card_proof_failed"};

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
    char cursor_us[BE_CURSOR_US_SIZE], cursor_id[CF_UUID_TEXT_LEN + 1];
};

/* The cursor is the last row's "<sort time in us since 1970>_<id>": a whole number
 * (a '-' only in front: times before 1970) that a bigint holds, then a UUID. */
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
    if (f->flag[0] && !one_of(f->flag, visit_flags, sizeof visit_flags / sizeof visit_flags[0]))
        return cf_error_set(d, CF_EFIELD_RANGE, "flag",
                            "flag must be one of early_leave, overtime, clock_uncertain, "
                            "card_mismatch, low_rating, unknown_recipient, overlap, "
                            "far_from_address, impossible_travel, rating_amended, "
                            "card_proof_failed");
    if (f->from[0] && !be_time_text_valid(f->from))
        return cf_error_set(d, CF_EFIELD_RANGE, "from",
                            "from must be a time like 2026-11-22T09:00:00Z or a date like "
                            "2026-11-22");
    if (f->to[0] && !be_time_text_valid(f->to))
        return cf_error_set(d, CF_EFIELD_RANGE, "to",
                            "to must be a time like 2026-11-22T18:00:00Z or a date like "
                            "2026-11-23");
    if (f->cursor[0] && !be_cursor_split(f->cursor, f->cursor_us, f->cursor_id))
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
    PGresult *res = PQexecParams(req->db, sql_visit_list, 12, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        be_db_name_field(req, names, params, 12);
        be_reply_db_error(req, req->db, "visit list");
    } else
        be_reply_json(req, 200, parse_row_json(res, 0));
    PQclear(res);
}

static const struct be_route routes[] = {
    {"GET", "/api/v1/visits", handle_visit_list, BE_DB_READ, BE_PEOPLE, BE_BODY_NONE},
    {"GET", "/api/v1/visits/{id}", handle_visit_get, true, BE_PEOPLE, BE_BODY_NONE},
};
const struct be_module be_visits_module = BE_MODULE("visits", routes);
