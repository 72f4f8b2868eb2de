/* The applications' exchange with the region's central system (see be/exchange.h):
 * exports of the decided applications, their documents, and the central system's
 * answers by the API. (An answer in a webhook reply is read by be_answer_in_reply and
 * recorded by the webhook sender, webhooks/sender.c.)
 *
 * Who may: the back office (caseworker, its region by row-level security) and the admin
 * export and record answers; oversight reads the exports too. */
#include "be/exchange.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "be/audit.h"
#include "be/db.h"
#include "be/reply.h"
#include "cf/json.h"
#include "cf/uuid.h"
#include "sql/exchange_sql.h"

#define EXPORT_BODY_MAX_VALUES 8
#define ANSWER_BODY_MAX_VALUES 8
/* A receiver's reply is read up to this (webhooks/sender.c keeps no more). */
#define REPLY_MAX_BYTES (16u * 1024)
#define REPLY_MAX_VALUES 64

/* ==== Reading bodies (pure) ==== */

int be_export_read(const char *text, size_t len, struct be_export_request *out,
                   struct cf_error_detail *d)
{
    static const char *const fields[] = {"region_id", "limit", NULL};
    cJSON *body = NULL;
    uint8_t id[CF_UUID_LEN];
    int64_t limit = 0;
    memset(out, 0, sizeof *out);
    int rc = cf_json_parse_capped(text ? text : "", len, BE_BODY_SMALL, EXPORT_BODY_MAX_VALUES,
                                  &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, fields, "", d);
    if (!rc)
        rc = cf_json_get_string(body, "region_id", "", false, sizeof out->region_id - 1,
                                out->region_id, sizeof out->region_id, d);
    if (!rc && out->region_id[0]) {
        if (cf_uuid_from_text(out->region_id, id))
            rc = cf_error_set(d, CF_EFIELD_RANGE, "region_id", "region_id must be a region's id");
        else
            cf_uuid_to_text(id, out->region_id);
    }
    if (!rc)
        rc = cf_json_get_int(body, "limit", "", false, 1, BE_EXPORT_LIMIT_MAX, &limit, d);
    out->limit = limit ? (long)limit : BE_EXPORT_LIMIT_DEFAULT;
    cJSON_Delete(body);
    return rc;
}

int be_answer_from_json(const cJSON *object, const char *path, struct be_answer *out,
                        struct cf_error_detail *d)
{
    static const char *const fields[] = {"outcome", "reference", "note", NULL};
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(object))
        return cf_error_set(d, CF_EFIELD_TYPE, path[0] ? path : "",
                            "%s must be an object: {\"outcome\", \"reference\", \"note\"}",
                            path[0] ? path : "the body");
    int rc = cf_json_check_fields(object, fields, path, d);
    if (!rc)
        rc = cf_json_get_string(object, "outcome", path, true, sizeof out->outcome - 1,
                                out->outcome, sizeof out->outcome, d);
    if (!rc && strcmp(out->outcome, "accepted") != 0 && strcmp(out->outcome, "rejected") != 0) {
        char field[64];
        snprintf(field, sizeof field, "%s%soutcome", path, path[0] ? "." : "");
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be accepted or rejected", field);
    }
    if (!rc)
        rc = cf_json_get_text(object, "reference", path, false, BE_ANSWER_REFERENCE_MAX,
                              "the central system's number of the case", out->reference,
                              sizeof out->reference, d);
    /* a rejection says why: the back office has to act on it */
    if (!rc)
        rc = cf_json_get_text(object, "note", path, strcmp(out->outcome, "rejected") == 0,
                              BE_ANSWER_NOTE_MAX, "why the central system rejected it", out->note,
                              sizeof out->note, d);
    return rc;
}

int be_answer_read(const char *text, size_t len, struct be_answer *out, struct cf_error_detail *d)
{
    cJSON *body = NULL;
    memset(out, 0, sizeof *out);
    int rc =
        cf_json_parse_capped(text ? text : "", len, BE_BODY_FORM, ANSWER_BODY_MAX_VALUES, &body, d);
    if (!rc)
        rc = be_answer_from_json(body, "", out, d);
    cJSON_Delete(body);
    return rc;
}

int be_answer_in_reply(const char *text, size_t len, struct be_answer *out,
                       struct cf_error_detail *d)
{
    cJSON *body = NULL;
    memset(out, 0, sizeof *out);
    struct cf_error_detail ignored = {0};
    /* a reply that is not JSON, or says nothing of an answer, answers nothing */
    if (!text || !len ||
        cf_json_parse_capped(text, len, REPLY_MAX_BYTES, REPLY_MAX_VALUES, &body, &ignored))
        return 0;
    const cJSON *answer =
        cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body, "answer") : NULL;
    int rc = answer ? (be_answer_from_json(answer, "answer", out, d) ? -1 : 1) : 0;
    cJSON_Delete(body);
    return rc;
}

/* ==== Exports ==== */

static void reply_export_not_found(struct be_request *req)
{
    be_reply_problem(req, 404, "not-found", "No such export", "No export you may see has this id.",
                     NULL, NULL);
}

/* The export's document, status 201 or 200. */
static void reply_document(struct be_request *req, const char *id, int status)
{
    const char *params[1] = {id};
    PGresult *res = PQexecParams(req->db, sql_export_document, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK))
        be_reply_db_error(req, req->db, "export document");
    else if (PQntuples(res) != 1)
        reply_export_not_found(req);
    else
        be_reply_json(req, status, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}

struct exporting {
    struct be_export_request body;
    char outcome[16], id[CF_UUID_TEXT_LEN + 1], taken[16];
};

static int export_tx(struct be_request *req, void *ctx)
{
    struct exporting *x = ctx;
    char limit[16];
    snprintf(limit, sizeof limit, "%ld", x->body.limit);
    const char *params[5] = {x->body.region_id, limit, req->who.login, be_role_name(req->who.role),
                             req->who.office};
    PGresult *res = PQexecParams(req->db, sql_export, 5, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    snprintf(x->id, sizeof x->id, "%s", PQgetvalue(res, 0, 1));
    snprintf(x->taken, sizeof x->taken, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    if (strcmp(x->outcome, "exported") != 0)
        return BE_TX_ROLLBACK;
    char details[64];
    snprintf(details, sizeof details, "{\"applications\":%s}", x->taken);
    return be_audit(req, "application.export", x->id, "", details) ? BE_TX_FAILED : BE_TX_COMMIT;
}

/* POST /api/v1/application-exports: {"region_id", "limit"} → 201 and the document. */
static void handle_export(struct be_request *req)
{
    struct exporting x;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (be_export_read(req->body, req->body_len, &x.body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    if (!x.body.region_id[0]) {
        if (!req->who.region[0]) {
            be_reply_problem(req, 422, "validation", "A field is not valid",
                             "region_id is required: name the region whose decisions to export.",
                             "region_id", NULL);
            return;
        }
        snprintf(x.body.region_id, sizeof x.body.region_id, "%s", req->who.region);
    }
    int rc = be_db_transaction(req, NULL, "application export", export_tx, &x);
    if (rc == BE_TX_COMMIT)
        reply_document(req, x.id, 201);
    else if (rc == BE_TX_ROLLBACK && strcmp(x.outcome, "region") == 0)
        be_reply_problem(req, 403, "forbidden", "Not allowed for your role",
                         "You may export only your own region's applications.", "region_id", NULL);
    else if (rc == BE_TX_ROLLBACK)
        be_reply_problem(req, 409, "nothing-to-export", "Nothing to export",
                         "Every decided application of the region has been exported already; "
                         "a decision taken later goes out with the next export.",
                         NULL, NULL);
}

/* GET /api/v1/application-exports/{id}: the document again (a transfer that failed is
 * sent again, never rebuilt). */
static void handle_export_get(struct be_request *req)
{
    char id[CF_UUID_TEXT_LEN + 1];
    if (!be_param_uuid(req, "id", id)) {
        reply_export_not_found(req);
        return;
    }
    reply_document(req, id, 200);
}

/* GET /api/v1/application-exports: {"items": [...]}, newest first. */
static void handle_export_list(struct be_request *req)
{
    PGresult *res = PQexecParams(req->db, sql_export_list, 0, NULL, NULL, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1)
        be_reply_db_error(req, req->db, "export list");
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}

/* ==== Answers ==== */

struct answering {
    char id[CF_UUID_TEXT_LEN + 1];
    struct be_answer body;
    char outcome[24];
};

static int answer_tx(struct be_request *req, void *ctx)
{
    struct answering *x = ctx;
    const char *params[7] = {x->id,          x->body.outcome, x->body.reference,
                             x->body.note,   req->who.login,  be_role_name(req->who.role),
                             req->who.office};
    PGresult *res = PQexecParams(req->db, sql_answer, 7, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (strcmp(x->outcome, "answered") != 0)
        return BE_TX_ROLLBACK;
    char details[48];
    snprintf(details, sizeof details, "{\"outcome\":\"%s\"}", x->body.outcome);
    return be_audit(req, "application.answer", x->id, x->body.note, details) ? BE_TX_FAILED
                                                                             : BE_TX_COMMIT;
}

static void reply_answer_view(struct be_request *req, const char *id)
{
    const char *params[1] = {id};
    PGresult *res = PQexecParams(req->db, sql_answer_view, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1)
        be_reply_db_error(req, req->db, "answer view");
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}

/* POST /api/v1/applications/{id}/answer: {"outcome", "reference", "note"} → 200 and the
 * application's exchange. The same answer again (a retry) is 200 too; a different one
 * is 409: the first stands. */
static void handle_answer(struct be_request *req)
{
    struct answering x;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (!be_param_uuid(req, "id", x.id)) {
        be_reply_problem(req, 404, "not-found", "No such application",
                         "No application you may see has this id.", NULL, NULL);
        return;
    }
    if (be_answer_read(req->body, req->body_len, &x.body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    int rc = be_db_transaction(req, NULL, "application answer", answer_tx, &x);
    if (rc == BE_TX_FAILED)
        return;
    if (rc == BE_TX_COMMIT || strcmp(x.outcome, "same") == 0)
        reply_answer_view(req, x.id);
    else if (strcmp(x.outcome, "not_found") == 0)
        be_reply_problem(req, 404, "not-found", "No such application",
                         "No application you may see has this id.", NULL, NULL);
    else if (strcmp(x.outcome, "not_exported") == 0)
        be_reply_problem(req, 409, "not-exported", "The application has not been exported",
                         "An answer is recorded only for an application that went out in an "
                         "export (POST /api/v1/application-exports).",
                         NULL, NULL);
    else
        be_reply_problem(req, 409, "answered-before", "An answer is on record",
                         "The central system's answer to this application was recorded "
                         "already, and it differs: the first answer stands.",
                         NULL, NULL);
}

static const struct be_route routes[] = {
    {"POST", "/api/v1/application-exports", handle_export, true, BE_CASEWORKER | BE_ADMIN,
     BE_BODY_SMALL},
    {"GET", "/api/v1/application-exports", handle_export_list, true, BE_CASEWORKER | BE_OVERSIGHT,
     BE_BODY_NONE},
    {"GET", "/api/v1/application-exports/{id}", handle_export_get, true,
     BE_CASEWORKER | BE_OVERSIGHT, BE_BODY_NONE},
    {"POST", "/api/v1/applications/{id}/answer", handle_answer, true, BE_CASEWORKER | BE_ADMIN,
     BE_BODY_FORM},
};
const struct be_module be_exchange_module = BE_MODULE("exchange", routes);
