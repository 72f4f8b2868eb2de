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
#include "sql/review_sql.h"

#define BODY_MAX_BYTES (16u * 1024)
#define BODY_MAX_VALUES 16

static const char *const kinds[] = {"low_rating",       "early_leave",       "card_mismatch",
                                    "abandoned",        "card_binding",      "overlap",
                                    "far_from_address", "impossible_travel", "card_proof_failed"};
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
    PGresult *res = PQexecParams(req->db, sql_live, 1, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        be_reply_db_error(req, req->db, "live visits");
    else /* PostgreSQL's json_build_object text as it is: parsing and printing it again
          * with cJSON cost milliseconds per request at 1,000 live visits (0.5 MB). */
        be_reply_text(req, 200, "application/json", PQgetvalue(res, 0, 0));
    PQclear(res);
}

/* ==== Exceptions ==== */

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
                          "abandoned, card_binding, overlap, far_from_address, "
                          "impossible_travel, card_proof_failed");
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
    PGresult *res = PQexecParams(req->db, sql_exception_list, 4, NULL, values, NULL, NULL, 0);
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
    const char *const *find; /* sql_one_exception's parameters */
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

/* Within the caller's transaction: record, apply, audit. Returns 0, 1 when already
 * resolved, -1 on a database error. */
static int apply_resolution(struct be_request *req, const struct resolution *r)
{
    PGconn *db = req->db;
    const char *ins[5] = {r->kind, r->subject, r->body.action, r->resolved_by, r->body.note};
    PGresult *res = PQexecParams(db, sql_resolution_insert, 5, NULL, ins, NULL, NULL, 0);
    int rc = PQresultStatus(res) != PGRES_TUPLES_OK ? -1 : PQntuples(res) == 0 ? 1 : 0;
    PQclear(res);
    if (rc)
        return rc;
    if (strcmp(r->kind, "card_binding") == 0) {
        const char *upd[2] = {r->subject,
                              strcmp(r->body.action, "confirm") == 0 ? "active" : "revoked"};
        res = PQexecParams(db, sql_binding_resolve, 2, NULL, upd, NULL, NULL, 0);
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
    PGresult *res = PQexecParams(req->db, sql_one_exception, 4, NULL, r->find, NULL, NULL, 0);
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
    PGresult *res = PQexecParams(req->db, sql_one_exception, 4, NULL, find, NULL, NULL, 0);
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
