/* Manager review API (issue 6): GET /api/v1/live (visits started and not ended,
 * elapsed against the norm), GET /api/v1/exceptions (the queue a manager works
 * through) and POST /api/v1/exceptions/{id}/resolve.
 *
 * Exceptions are not stored: each is derived from the visits (their flags, or being
 * started longer ago than visit_thresholds.abandoned_after) or from a pending card
 * binding. Its id is "<kind>.<subject uuid>". A resolution is stored once per
 * exception in exception_resolutions and written to the append-only audit_log; the
 * person who resolved it is the signed-in user (be_auth), never a name from the body. */
#include <stdio.h>
#include <string.h>

#include "be/auth.h"
#include "be/db.h"
#include "be/query.h"
#include "be/review.h"
#include "be/reply.h"
#include "be/audit.h"
#include "cf/json.h"
#include "cf/uuid.h"

#define BODY_MAX_BYTES (16u * 1024)
#define BODY_MAX_VALUES 16

static const char *const kinds[] = {"low_rating", "early_leave", "card_mismatch", "abandoned",
                                    "card_binding"};
#define KIND_COUNT (sizeof kinds / sizeof kinds[0])

static bool kind_known(const char *kind)
{
    for (size_t i = 0; i < KIND_COUNT; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return true;
    return false;
}

static void reply_query_problem(struct be_request *req, const struct cf_error_detail *d)
{
    be_reply_problem(req, 400, "validation", "A query parameter is not valid", d->message, d->field,
                     NULL);
}

/* The provider filter (a UUID, made canonical in place: 37 bytes), "" when none. */
static int check_provider(char *provider, struct cf_error_detail *d)
{
    uint8_t id[CF_UUID_LEN];
    if (provider[0] && cf_uuid_from_text(provider, id))
        return cf_error_set(d, CF_EFIELD_RANGE, "provider", "provider must be a UUID");
    if (provider[0])
        cf_uuid_to_text(id, provider);
    return 0;
}

/* The caller's scope on top of the filter (row-level security would hide another
 * provider's rows too; this is the other layer): a manager's filter naming another
 * provider is a 403, no filter becomes their own. Returns false when answered. */
static bool scope_provider(struct be_request *req, char *provider, size_t size)
{
    if (!be_auth_provider_filter(req, provider, "provider"))
        return false;
    const char *scope = be_auth_provider_scope(req);
    if (scope[0])
        snprintf(provider, size, "%s", scope);
    return true;
}

/* ==== Live ==== */

static const char live_sql[] =
    "SELECT json_build_object('items', coalesce(json_agg(json_build_object('id', v.id, "
    "'provider_id', v.provider_id, 'worker_id', v.worker_id, 'worker_name', w.full_name, "
    "'recipient_id', v.recipient_id, 'recipient_name', r.full_name, 'plan_id', v.plan_id, "
    "'started_at', v.started_at, 'elapsed_s', x.elapsed_s, 'expected_minutes', x.expected, "
    "'overdue', x.expected > 0 AND x.elapsed_s > x.expected * 60 * t.overtime_ratio, "
    "'abandoned', v.started_at < now() - t.abandoned_after, 'start_confirmed', "
    "v.start_confirmed, 'flags', to_json(v.flags)) ORDER BY v.started_at, v.id), '[]'))::text "
    "FROM visits v CROSS JOIN visit_thresholds t "
    "JOIN workers w ON w.id = v.worker_id LEFT JOIN recipients r ON r.id = v.recipient_id "
    "CROSS JOIN LATERAL (SELECT greatest(0, extract(epoch FROM now() - v.started_at))::bigint "
    "AS elapsed_s, CASE WHEN v.expected_minutes > 0 THEN v.expected_minutes ELSE coalesce(("
    "SELECT sum(sv.norm_minutes) FROM visit_plans pl JOIN services sv ON sv.code = ANY "
    "(pl.service_codes) WHERE pl.id = v.plan_id), 0) END::integer AS expected) x "
    "WHERE v.state = 'started' AND v.started_at IS NOT NULL "
    "AND ($1 = '' OR v.provider_id = $1::uuid)";

static void handle_live(struct be_request *req)
{
    char provider[64];
    struct be_query_param params[] = {{"provider", provider, sizeof provider}};
    struct cf_error_detail d = {0};
    if (be_query_parse(req->query, params, 1, &d) || check_provider(provider, &d)) {
        reply_query_problem(req, &d);
        return;
    }
    if (!scope_provider(req, provider, sizeof provider))
        return;
    const char *values[1] = {provider};
    PGresult *res = PQexecParams(req->db, live_sql, 1, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        be_reply_db_error(req, req->db, "live visits");
    else /* PostgreSQL's json_build_object text as it is: parsing and printing it again
          * with cJSON cost milliseconds per request at 1,000 live visits (0.5 MB). */
        be_reply_text(req, 200, "application/json", PQgetvalue(res, 0, 0));
    PQclear(res);
}

/* ==== Exceptions ==== */

/* $1 provider or '', $2 kind or '', $3 open/resolved/all, $4 subject or ''.
 * Each of the three sources filters on its own and keeps only its newest 500 (the
 * list's length) before they are merged, so at a million visits no source is read
 * whole: flagged visits walk visits_flagged (a provider) or visits_flagged_all (every
 * provider, sql/0011_scale.sql) newest first; abandoned visits and pending cards are
 * small sets found by index (visits_live, card_bindings_pending) plus the resolved
 * ones, as a union rather than an OR (an OR with EXISTS cannot use an index and read
 * every visit). A source whose kind is not asked for is folded away by the planner
 * ($2 is a constant in the plan of an unnamed statement). */
#define STATUS_IS(kind, subject)                                                                   \
    "($3 = 'all' OR ($3 = 'open') = NOT EXISTS (SELECT 1 FROM exception_resolutions er WHERE "     \
    "er.kind = " kind " AND er.subject_id = " subject ")) "
#define STATUS_FLAGGED STATUS_IS("f.kind", "v.id")
#define STATUS_ABANDONED STATUS_IS("'abandoned'", "v.id")
#define STATUS_BINDING STATUS_IS("'card_binding'", "b.id")
#define EXCEPTIONS_SQL                                                                             \
    "WITH flagged AS (SELECT f.kind, v.id AS subject_id, v.provider_id, v.worker_id, "             \
    "v.recipient_id, v.sort_at AS at, json_build_object('state', v.state, 'rating', v.rating, "    \
    "'comment', v.comment, 'duration_s', v.duration_s, 'expected_minutes', v.expected_minutes) "   \
    "AS detail FROM visits v CROSS JOIN LATERAL unnest(v.flags) f(kind) "                          \
    "WHERE ($2 = '' OR $2 IN ('low_rating', 'early_leave', 'card_mismatch')) "                     \
    "AND cardinality(v.flags) > 0 AND f.kind IN ('low_rating', 'early_leave', 'card_mismatch') "   \
    "AND ($2 = '' OR f.kind = $2) AND ($1 = '' OR v.provider_id = $1::uuid) "                      \
    "AND ($4 = '' OR v.id = $4::uuid) AND " STATUS_FLAGGED                                         \
    "ORDER BY v.sort_at DESC, f.kind || '.' || v.id LIMIT 500), "                                  \
    "abandoned AS (SELECT 'abandoned'::text AS kind, v.id AS subject_id, v.provider_id, "          \
    "v.worker_id, v.recipient_id, v.started_at AS at, json_build_object('started_at', "            \
    "v.started_at) AS detail FROM visits v WHERE ($2 = '' OR $2 = 'abandoned') AND v.id IN ("      \
    "SELECT a.id FROM visits a CROSS JOIN visit_thresholds t WHERE a.state = 'started' AND "       \
    "a.started_at < now() - t.abandoned_after UNION SELECT er.subject_id FROM "                    \
    "exception_resolutions er WHERE er.kind = 'abandoned') AND ($1 = '' OR v.provider_id = "       \
    "$1::uuid) AND ($4 = '' OR v.id = $4::uuid) AND " STATUS_ABANDONED                             \
    "ORDER BY v.started_at DESC, 'abandoned.' || v.id LIMIT 500), "                                \
    "bindings AS (SELECT 'card_binding'::text AS kind, b.id AS subject_id, r.provider_id, "        \
    "NULL::uuid AS worker_id, b.recipient_id, b.created_at AS at, json_build_object('method', "    \
    "b.method, 'scheme', b.scheme, 'last4', b.last4, 'holder', b.holder, 'status', b.status) "     \
    "AS detail FROM card_bindings b JOIN recipients r ON r.id = b.recipient_id "                   \
    "WHERE ($2 = '' OR $2 = 'card_binding') AND b.id IN (SELECT p.id FROM card_bindings p WHERE "  \
    "p.status = 'pending' UNION SELECT er.subject_id FROM exception_resolutions er WHERE "         \
    "er.kind = 'card_binding') AND ($1 = '' OR r.provider_id = $1::uuid) "                         \
    "AND ($4 = '' OR b.id = $4::uuid) AND " STATUS_BINDING                                         \
    "ORDER BY b.created_at DESC, 'card_binding.' || b.id LIMIT 500), "                             \
    "x AS (SELECT * FROM flagged UNION ALL SELECT * FROM abandoned UNION ALL SELECT * FROM "       \
    "bindings) "                                                                                   \
    "SELECT x.kind || '.' || x.subject_id AS id, x.at, json_build_object('id', x.kind || '.' || "  \
    "x.subject_id, 'kind', x.kind, 'subject_id', x.subject_id, 'provider_id', x.provider_id, "     \
    "'worker_id', x.worker_id, 'recipient_id', x.recipient_id, 'at', x.at, 'detail', x.detail, "   \
    "'status', CASE WHEN er.kind IS NULL THEN 'open' ELSE 'resolved' END, 'resolution', "          \
    "CASE WHEN er.kind IS NULL THEN NULL ELSE json_build_object('action', er.action, "             \
    "'resolved_by', er.resolved_by, 'note', er.note, 'resolved_at', er.resolved_at) END) AS j "    \
    "FROM x LEFT JOIN exception_resolutions er ON er.kind = x.kind AND er.subject_id = "           \
    "x.subject_id"

static const char exception_list_sql[] =
    "SELECT json_build_object('items', coalesce(json_agg(j ORDER BY at DESC, id), '[]'))::text "
    "FROM (" EXCEPTIONS_SQL " ORDER BY x.at DESC, 1 LIMIT 500) q";

static void handle_exception_list(struct be_request *req)
{
    char provider[64], kind[32], status[16];
    struct be_query_param params[] = {
        {"provider", provider, sizeof provider},
        {"kind", kind, sizeof kind},
        {"status", status, sizeof status},
    };
    struct cf_error_detail d = {0};
    int rc = be_query_parse(req->query, params, 3, &d);
    if (!rc)
        rc = check_provider(provider, &d);
    if (!rc && kind[0] && !kind_known(kind))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "kind",
                          "kind must be one of low_rating, early_leave, card_mismatch, "
                          "abandoned, card_binding");
    if (!rc && !status[0])
        snprintf(status, sizeof status, "open");
    if (!rc && strcmp(status, "open") && strcmp(status, "resolved") && strcmp(status, "all"))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "status", "status must be open, resolved or all");
    if (rc) {
        reply_query_problem(req, &d);
        return;
    }
    if (!scope_provider(req, provider, sizeof provider))
        return;
    const char *values[4] = {provider, kind, status, ""};
    PGresult *res = PQexecParams(req->db, exception_list_sql, 4, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        be_reply_db_error(req, req->db, "exception list");
    else /* valid JSON from PostgreSQL, sent as it is (see handle_live) */
        be_reply_text(req, 200, "application/json", PQgetvalue(res, 0, 0));
    PQclear(res);
}

/* ==== Resolve ==== */

struct resolution {
    char kind[32];
    char subject[CF_UUID_TEXT_LEN + 1];
    char resolved_by[BE_LOGIN_MAX + 1];
    struct be_resolution_body body;
    const char *const *find; /* one_exception_sql's parameters */
    bool missing; /* no such exception in the caller's scope */
};

/* "<kind>.<uuid>" into kind and canonical subject text. */
static bool split_id(const char *id, struct resolution *r)
{
    const char *dot = strchr(id, '.');
    size_t n = dot ? (size_t)(dot - id) : 0;
    uint8_t uuid[CF_UUID_LEN];
    if (n == 0 || n >= sizeof r->kind || cf_uuid_from_text(dot + 1, uuid))
        return false;
    memcpy(r->kind, id, n);
    r->kind[n] = '\0';
    cf_uuid_to_text(uuid, r->subject);
    return kind_known(r->kind);
}

int be_resolution_read(const char *text, size_t len, const char *kind,
                       struct be_resolution_body *out, struct cf_error_detail *d)
{
    static const char *const allowed[] = {"action", "note", NULL};
    cJSON *body = NULL;
    memset(out, 0, sizeof *out);
    int rc = cf_json_parse_capped(text ? text : "", len, BODY_MAX_BYTES, BODY_MAX_VALUES, &body, d);
    if (!rc) /* also refuses anything but an object */
        rc = cf_json_check_fields(body, allowed, "", d);
    if (!rc)
        rc = cf_json_get_string(body, "action", "", true, sizeof out->action - 1, out->action,
                                sizeof out->action, d);
    if (!rc)
        rc = cf_json_get_text(body, "note", "", false, BE_NOTE_MAX, "", out->note, sizeof out->note,
                              d);
    cJSON_Delete(body);
    if (rc)
        return rc;
    bool binding = strcmp(kind, "card_binding") == 0;
    bool ok = binding ? !strcmp(out->action, "confirm") || !strcmp(out->action, "reject")
                      : !strcmp(out->action, "must_fix") || !strcmp(out->action, "acknowledge");
    if (!ok)
        rc = cf_error_set(d, CF_EFIELD_RANGE, "action",
                          binding ? "a card binding is resolved with confirm or reject"
                                  : "a visit exception is resolved with must_fix or acknowledge");
    return rc;
}

static const char one_exception_sql[] = "SELECT j::text FROM (" EXCEPTIONS_SQL ") q";

/* Within the caller's transaction: record, apply, audit. Returns 0, 1 when already
 * resolved, -1 on a database error. */
static int apply_resolution(struct be_request *req, const struct resolution *r)
{
    PGconn *db = req->db;
    const char *ins[5] = {r->kind, r->subject, r->body.action, r->resolved_by, r->body.note};
    PGresult *res = PQexecParams(
        db,
        "INSERT INTO exception_resolutions (kind, subject_id, action, resolved_by, note) "
        "VALUES ($1, $2::uuid, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1",
        5, NULL, ins, NULL, NULL, 0);
    int rc = PQresultStatus(res) != PGRES_TUPLES_OK ? -1 : PQntuples(res) == 0 ? 1 : 0;
    PQclear(res);
    if (rc)
        return rc;
    if (strcmp(r->kind, "card_binding") == 0) {
        /* A confirmed card now confirms the visits it was read on: rebuild them. */
        const char *upd[2] = {r->subject,
                              strcmp(r->body.action, "confirm") == 0 ? "active" : "revoked"};
        res = PQexecParams(
            db,
            "WITH b AS (UPDATE card_bindings SET status = $2 WHERE id = $1::uuid AND status = "
            "'pending' RETURNING token, recipient_id) SELECT rebuild_visits(coalesce(("
            "SELECT array_agg(DISTINCT e.visit_key) FROM events e JOIN b ON e.recipient_id = "
            "b.recipient_id AND e.card_token = b.token WHERE e.visit_key IS NOT NULL), '{}'))",
            2, NULL, upd, NULL, NULL, 0);
        rc = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : -1;
        PQclear(res);
        if (rc)
            return rc;
    }
    char subject[96];
    snprintf(subject, sizeof subject, "%s.%s", r->kind, r->subject);
    char details[64];
    snprintf(details, sizeof details, "{\"action\": \"%s\"}", r->body.action);
    return be_audit(req, "exception.resolve", subject, r->body.note, details);
}

/* Find the exception (in the caller's scope), record, apply, audit. */
static int resolve_tx(struct be_request *req, void *ctx)
{
    struct resolution *r = ctx;
    PGresult *res = PQexecParams(req->db, one_exception_sql, 4, NULL, r->find, NULL, NULL, 0);
    bool ok = be_db_check(req, res, PGRES_TUPLES_OK);
    r->missing = ok && PQntuples(res) == 0;
    PQclear(res);
    if (!ok)
        return BE_TX_FAILED;
    if (r->missing)
        return BE_TX_ROLLBACK;
    int rc = apply_resolution(req, r);
    return rc < 0 ? BE_TX_FAILED : rc > 0 ? BE_TX_ROLLBACK : BE_TX_COMMIT;
}

static void handle_exception_resolve(struct be_request *req)
{
    struct resolution r;
    struct cf_error_detail d = {0};
    memset(&r, 0, sizeof r);
    if (!split_id(be_param(req, "id"), &r)) {
        be_reply_problem(req, 404, "not-found", "No such exception",
                         "An exception id is <kind>.<uuid>, as listed by /api/v1/exceptions.", NULL,
                         NULL);
        return;
    }
    snprintf(r.resolved_by, sizeof r.resolved_by, "%s", req->who.login);
    if (be_resolution_read(req->body, req->body_len, r.kind, &r.body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    /* Another provider's exception does not exist for a manager (404). */
    const char *find[4] = {be_auth_provider_scope(req), r.kind, "all", r.subject};
    r.find = find;
    int rc = be_db_transaction(req, NULL, "exception resolve", resolve_tx, &r);
    if (rc == BE_TX_ROLLBACK && r.missing)
        be_reply_problem(req, 404, "not-found", "No such exception",
                         "No open or resolved exception has this id.", NULL, NULL);
    else if (rc == BE_TX_ROLLBACK)
        be_reply_problem(req, 409, "already-resolved", "Already resolved",
                         "This exception was resolved before; see its resolution.", NULL, NULL);
    if (rc != BE_TX_COMMIT)
        return;
    PGresult *res = PQexecParams(req->db, one_exception_sql, 4, NULL, find, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1)
        be_reply_db_error(req, req->db, "exception resolve");
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}

static const struct be_route routes[] = {
    {"GET", "/api/v1/live", handle_live, true, BE_OVERSIGHT | BE_MANAGER, BE_BODY_NONE},
    {"GET", "/api/v1/exceptions", handle_exception_list, true, BE_OVERSIGHT | BE_MANAGER,
     BE_BODY_NONE},
    {"POST", "/api/v1/exceptions/{id}/resolve", handle_exception_resolve, true,
     BE_OVERSIGHT | BE_MANAGER, BODY_MAX_BYTES},
};
const struct be_module be_review_module = BE_MODULE("review", routes);
