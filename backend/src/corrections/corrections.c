/* Corrections of visits (issue 6): POST and GET /api/v1/visits/{id}/corrections.
 *
 * The events a terminal signed are the facts and are never changed. A person who may
 * (the visit's provider's manager, the authority, an administrator) corrects the
 * visit's services or its disputed mark with a reason; the correction is a row of
 * visit_corrections (append-only, sql/0008_corrections.sql) holding the value before
 * it, and the same transaction writes the audit log. What the visit is after its
 * corrections is the view visit_effective, which the visit JSON, the register and the
 * recipient's statement (statement.c) read. The corrector is the signed-in login,
 * never a name from the body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be/auth.h"
#include "be/corrections.h"
#include "be/db.h"
#include "be/reply.h"
#include "be/audit.h"
#include "cf/json.h"
#include "cf/uuid.h"
#include "sql/corrections_sql.h"

#define SERVICES_MAX 32
#define QUANTITY_MAX 100
#define BODY_MAX_BYTES (64u * 1024)
#define BODY_MAX_VALUES 512

struct correction {
    char visit[CF_UUID_TEXT_LEN + 1];
    struct be_correction_body body;
    /* the transaction's outcome: */
    long *position; /* the first unknown service's position */
    PGresult **stored; /* the stored row */
    int refusal; /* an enum correction_refusal, 0 when stored */
};

/* ==== Reading the body ==== */

/* One {code, quantity} of value[i], appended to out. */
static int read_service(const cJSON *item, size_t i, cJSON *out, struct cf_error_detail *d)
{
    static const char *const allowed[] = {"code", "quantity", NULL};
    char path[32], code_path[40], code[CF_SERVICE_CODE_MAX + 1];
    int64_t quantity = 0;
    snprintf(path, sizeof path, "value[%zu]", i);
    snprintf(code_path, sizeof code_path, "%s.code", path);
    int rc = cf_json_check_fields(item, allowed, path, d);
    if (!rc)
        rc =
            cf_json_get_string(item, "code", path, true, CF_SERVICE_CODE_MAX, code, sizeof code, d);
    if (!rc && (!code[0] || strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                         "0123456789._-") != strlen(code)))
        rc = cf_error_set(d, CF_EFIELD_RANGE, code_path, "%s must be a catalogue code", code_path);
    if (!rc)
        rc = cf_json_get_int(item, "quantity", path, true, 1, QUANTITY_MAX, &quantity, d);
    if (rc)
        return rc;
    const cJSON *seen;
    cJSON_ArrayForEach(seen, out)
    {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(seen, "code")->valuestring, code) == 0)
            return cf_error_set(d, CF_EFIELD_RANGE, path,
                                "%s: service %s is listed twice; give it once with its quantity",
                                path, code);
    }
    cJSON *service = cJSON_CreateObject();
    if (!service || !cJSON_AddStringToObject(service, "code", code) ||
        !cJSON_AddNumberToObject(service, "quantity", (double)quantity)) {
        cJSON_Delete(service);
        return cf_error_set(d, CF_ENOMEM, "", "out of memory");
    }
    cJSON_AddItemToArray(out, service);
    return 0;
}

/* value for field, checked and printed canonically into c->value. */
static int read_value(const cJSON *body, struct be_correction_body *c, struct cf_error_detail *d)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(body, "value");
    cJSON *canonical = NULL;
    int rc = 0;
    if (!value)
        return cf_error_set(d, CF_EFIELD_MISSING, "value", "value is required");
    if (strcmp(c->field, "disputed") == 0) {
        if (!cJSON_IsBool(value))
            return cf_error_set(d, CF_EFIELD_TYPE, "value",
                                "value must be true or false for field disputed");
        canonical = cJSON_CreateBool(cJSON_IsTrue(value));
    } else {
        if (!cJSON_IsArray(value))
            return cf_error_set(d, CF_EFIELD_TYPE, "value",
                                "value must be an array of {code, quantity} for field services");
        if (cJSON_GetArraySize(value) > SERVICES_MAX)
            return cf_error_set(d, CF_EFIELD_RANGE, "value", "value lists at most %d services",
                                SERVICES_MAX);
        canonical = cJSON_CreateArray();
        size_t i = 0;
        const cJSON *item;
        cJSON_ArrayForEach(item, value)
        {
            if (!canonical || (rc = read_service(item, i++, canonical, d)) != 0)
                break;
        }
    }
    if (!rc && canonical)
        c->value = cJSON_PrintUnformatted(canonical);
    cJSON_Delete(canonical);
    if (!rc && !c->value)
        rc = cf_error_set(d, CF_ENOMEM, "", "out of memory");
    return rc;
}

int be_correction_read(const char *text, size_t len, struct be_correction_body *c,
                       struct cf_error_detail *d)
{
    static const char *const allowed[] = {"field", "value", "reason", NULL};
    cJSON *body = NULL;
    memset(c, 0, sizeof *c);
    int rc = cf_json_parse_capped(text ? text : "", len, BODY_MAX_BYTES, BODY_MAX_VALUES, &body, d);
    if (!rc) /* also refuses anything but an object */
        rc = cf_json_check_fields(body, allowed, "", d);
    if (!rc)
        rc = cf_json_get_string(body, "field", "", true, sizeof c->field - 1, c->field,
                                sizeof c->field, d);
    if (!rc && strcmp(c->field, "services") && strcmp(c->field, "disputed"))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "field", "field must be services or disputed");
    if (!rc)
        rc = read_value(body, c, d);
    if (!rc)
        rc = cf_json_get_text(body, "reason", "", true, BE_CORRECTION_REASON_MAX,
                              "say why the visit is corrected", c->reason, sizeof c->reason, d);
    cJSON_Delete(body);
    if (rc)
        be_correction_body_cleanup(c);
    return rc;
}

void be_correction_body_cleanup(struct be_correction_body *c)
{
    if (!c)
        return;
    cJSON_free(c->value);
    c->value = NULL;
}

/* ==== Storing ==== */

/* The outcomes of one attempt, besides success (0) and a database error (-1). */
enum correction_refusal {
    REFUSE_NOT_FOUND = 1,
    REFUSE_PLANNED,
    REFUSE_UNKNOWN_CODE,
    REFUSE_NO_CHANGE,
    REFUSE_REGISTER_CLOSED,
};

/* Is visit_id in a payment register waiting for the department's decision? The
 * department approves exactly what was submitted, so such a visit is frozen: the caller
 * answers 409 register-closed, and the department returns the register for the fix.
 * After approval a correction is recorded and counts from then on: an excluded visit
 * that becomes payable lands in the next open register as late, a paid one is never
 * paid again (backend/README.md, "Payment register"). Run inside the correction's
 * transaction. NOTE: the provider's row is share-locked first: register_submit takes
 * it FOR UPDATE, so a submit and this correction are serialised — either the
 * correction commits before the snapshot is taken (and is in it), or it sees the
 * register submitted. Returns 1 when frozen, 0 when not, -1 on a database error. */
static int visit_in_submitted_register(struct be_request *req, const char *visit_id,
                                       const char *provider)
{
    const char *params[1] = {visit_id};
    const char *lock[1] = {provider};
    PGresult *res = PQexecParams(req->db, sql_provider_share_lock, 1, NULL, lock, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return -1;
    }
    PQclear(res);
    res = PQexecParams(req->db, sql_visit_in_submitted_register, 1, NULL, params, NULL, NULL, 0);
    int rc = PQresultStatus(res) != PGRES_TUPLES_OK ? -1 : PQntuples(res) > 0;
    PQclear(res);
    return rc;
}

static int query_one(PGconn *db, const char *sql, int n, const char *const *params, PGresult **out)
{
    *out = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(*out) == PGRES_TUPLES_OK)
        return PQntuples(*out) > 0 ? 0 : 1;
    PQclear(*out);
    *out = NULL;
    return -1;
}

/* Lock the visit's row (two corrections of one visit are serialised, so each one's
 * previous is the value the other left) and find its provider. */
static int lock_visit(struct be_request *req, const struct correction *c, char *provider,
                      size_t size)
{
    const char *params[2] = {c->visit, be_auth_provider_scope(req)};
    PGresult *res;
    int rc = query_one(req->db, sql_visit_lock, 2, params, &res);
    if (rc == 0)
        snprintf(provider, size, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (rc != 1)
        return rc;
    rc = query_one(req->db, sql_plan_exists, 2, params, &res);
    PQclear(res);
    return rc < 0 ? -1 : rc == 0 ? REFUSE_PLANNED : REFUSE_NOT_FOUND;
}

/* 1-based position of the first code not in the catalogue (0: all known). */
static int unknown_code(PGconn *db, const char *value, long *position)
{
    const char *params[1] = {value};
    PGresult *res;
    int rc = query_one(db, sql_unknown_code, 1, params, &res);
    char *end = NULL;
    if (rc == 0)
        *position = strtol(PQgetvalue(res, 0, 0), &end, 10);
    if (rc == 0 && (end == PQgetvalue(res, 0, 0) || *end || *position < 0))
        rc = -1;
    PQclear(res);
    return rc ? -1 : 0;
}

static int audit_correction(struct be_request *req, const struct correction *c)
{
    cJSON *details = cJSON_CreateObject();
    cJSON *value = cJSON_Parse(c->body.value);
    char *text = NULL;
    if (details && value && cJSON_AddStringToObject(details, "field", c->body.field)) {
        cJSON_AddItemToObject(details, "value", value);
        value = NULL;
        text = cJSON_PrintUnformatted(details);
    }
    int rc = text ? be_audit(req, "visit.correct", c->visit, c->body.reason, text) : -1;
    cJSON_free(text);
    cJSON_Delete(value);
    cJSON_Delete(details);
    return rc;
}

/* Within the caller's transaction. Returns 0 with *stored (the row as JSON text,
 * PQclear it), a refusal, or -1 on a database error. *position: see unknown_code. */
static int store_correction(struct be_request *req, const struct correction *c, long *position,
                            PGresult **stored)
{
    char provider[CF_UUID_TEXT_LEN + 1];
    PGresult *res = NULL;
    int rc = lock_visit(req, c, provider, sizeof provider);
    if (rc)
        return rc;
    if (strcmp(c->body.field, "services") == 0) {
        if (unknown_code(req->db, c->body.value, position))
            return -1;
        if (*position)
            return REFUSE_UNKNOWN_CODE;
    }
    rc = visit_in_submitted_register(req, c->visit, provider);
    if (rc)
        return rc < 0 ? -1 : REFUSE_REGISTER_CLOSED;
    const char *cur[3] = {c->visit, c->body.field, c->body.value};
    if (query_one(req->db, sql_correction_current, 3, cur, &res))
        return -1; /* the row is locked: it cannot have gone */
    if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
        PQclear(res);
        return REFUSE_NO_CHANGE;
    }
    const char *ins[7] = {
        c->visit,       provider,      c->body.field, c->body.value, PQgetvalue(res, 0, 0),
        c->body.reason, req->who.login};
    rc = query_one(req->db, sql_correction_insert, 7, ins, stored);
    PQclear(res);
    if (rc)
        return -1;
    return audit_correction(req, c) ? -1 : 0;
}

static void reply_refusal(struct be_request *req, int refusal, long position)
{
    char field[48];
    switch (refusal) {
    case REFUSE_NOT_FOUND:
        be_reply_problem(req, 404, "not-found", "No such visit",
                         "No visit you may see has this id.", NULL, NULL);
        break;
    case REFUSE_PLANNED:
        be_reply_problem(req, 409, "planned-visit", "The visit has not happened",
                         "This is a plan no visit has started yet: there is nothing to correct.",
                         NULL, NULL);
        break;
    case REFUSE_UNKNOWN_CODE:
        snprintf(field, sizeof field, "value[%ld].code", position - 1);
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "This service code is not in the catalogue.", field, NULL);
        break;
    case REFUSE_NO_CHANGE:
        be_reply_problem(req, 409, "no-change", "Nothing to correct",
                         "The visit already has this value; a correction must change it.", "value",
                         NULL);
        break;
    default:
        be_reply_problem(req, 409, "register-closed", "The visit is in a submitted register",
                         "The visit is in a payment register waiting for the department's "
                         "approval; ask the department to return it, then correct the visit.",
                         NULL, NULL);
    }
}

static int correction_tx(struct be_request *req, void *ctx)
{
    struct correction *c = ctx;
    int rc = store_correction(req, c, c->position, c->stored);
    c->refusal = rc > 0 ? rc : 0;
    return rc < 0 ? BE_TX_FAILED : rc > 0 ? BE_TX_ROLLBACK : BE_TX_COMMIT;
}

static void handle_correction_create(struct be_request *req)
{
    struct correction c;
    struct cf_error_detail d = {0};
    uint8_t id[CF_UUID_LEN];
    PGresult *stored = NULL;
    long position = 0;
    memset(&c, 0, sizeof c);
    if (cf_uuid_from_text(be_param(req, "id"), id)) {
        reply_refusal(req, REFUSE_NOT_FOUND, 0);
        return;
    }
    cf_uuid_to_text(id, c.visit);
    if (be_correction_read(req->body, req->body_len, &c.body, &d)) {
        be_reply_invalid(req, &d);
        goto out;
    }
    c.position = &position;
    c.stored = &stored;
    int rc = be_db_transaction(req, NULL, "correction", correction_tx, &c);
    if (rc == BE_TX_COMMIT) /* NOTE: the answer is sent only after COMMIT returned */
        be_reply_json(req, 201, cJSON_Parse(PQgetvalue(stored, 0, 0)));
    else if (rc == BE_TX_ROLLBACK)
        reply_refusal(req, c.refusal, position);
out:
    PQclear(stored);
    be_correction_body_cleanup(&c.body);
}

/* ==== History ==== */

static void handle_correction_list(struct be_request *req)
{
    uint8_t id[CF_UUID_LEN];
    char text[CF_UUID_TEXT_LEN + 1];
    if (cf_uuid_from_text(be_param(req, "id"), id)) {
        reply_refusal(req, REFUSE_NOT_FOUND, 0);
        return;
    }
    cf_uuid_to_text(id, text);
    const char *params[3] = {text, be_auth_provider_scope(req), req->who.worker};
    PGresult *res;
    int rc = query_one(req->db, sql_correction_history, 3, params, &res);
    if (rc < 0)
        be_reply_db_error(req, req->db, "correction list");
    else if (rc > 0)
        reply_refusal(req, REFUSE_NOT_FOUND, 0);
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}

static const struct be_route routes[] = {
    {"POST", "/api/v1/visits/{id}/corrections", handle_correction_create, true,
     BE_OVERSIGHT | BE_MANAGER, BODY_MAX_BYTES},
    {"GET", "/api/v1/visits/{id}/corrections", handle_correction_list, true, BE_PEOPLE,
     BE_BODY_NONE},
    /* The recipient's statement (statement.c) */
    {"GET", "/api/v1/recipients/{id}/statement", be_handle_recipient_statement, true,
     BE_OVERSIGHT | BE_MANAGER, BE_BODY_NONE},
};
const struct be_module be_corrections_module = BE_MODULE("corrections", routes);
