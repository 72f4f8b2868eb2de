/* Payment register API (issue 6): GET /api/v1/registers?month= (one register per
 * provider in the caller's scope, drafts computed live), GET /api/v1/registers/{id}
 * (with its included lines and excluded visits), GET …/{id}/export?format=csv|json,
 * and the state changes POST …/{id}/submit, …/approve, …/return.
 *
 * What is paid and why not is decided in SQL (register_compute in
 * sql/0009_register.sql, over visit_effective); the state changes are SQL functions
 * that lock the provider and snapshot the lines. Here: ids and bodies validated
 * strictly, the caller's scope (another provider's register is a 404 for a manager),
 * each change with its audit row in one transaction, the person being the signed-in
 * user (req->who), and the replies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be/auth.h"
#include "be/buf.h"
#include "be/db.h"
#include "be/query.h"
#include "be/register.h"
#include "cf/json.h"
#include "cf/uuid.h"

#define BODY_MAX_BYTES (16u * 1024)
#define BODY_MAX_VALUES 16

/* ==== Documents ==== */

/* The register's head for provider p (joined with registers r and, for a draft, the
 * live totals t) in month $1. */
#define HEAD_JSON                                                                                  \
    "json_build_object('id', to_char($1::date, 'YYYY-MM') || '.' || p.id, 'provider_id', p.id, "   \
    "'provider_name', p.name, 'month', to_char($1::date, 'YYYY-MM'), 'state', "                    \
    "coalesce(r.state, 'draft'), 'included_count', coalesce(t.included_count, "                    \
    "r.included_count), 'excluded_count', coalesce(t.excluded_count, r.excluded_count), "          \
    "'total_kopecks', coalesce(t.total_kopecks, r.total_kopecks), 'submitted_at', "                \
    "r.submitted_at, 'submitted_by', r.submitted_by, 'approved_at', r.approved_at, "               \
    "'approved_by', r.approved_by, 'returned_at', r.returned_at, 'returned_by', r.returned_by, "   \
    "'returned_reason', r.returned_reason)"

/* A stored (submitted/approved) register's totals come from its row; a draft's are
 * computed (the one-time filter skips the computation for stored ones). */
#define HEAD_FROM                                                                                  \
    "FROM providers p JOIN regions rg ON rg.id = p.region_id "                                     \
    "LEFT JOIN registers r ON r.provider_id = p.id AND r.month = $1::date "                        \
    "LEFT JOIN LATERAL (SELECT * FROM register_totals(p.id, $1::date) "                            \
    "WHERE coalesce(r.state, 'draft') = 'draft') t ON true "

/* $1 month (YYYY-MM-01), $2 provider or '' (row-level security scopes it further). */
static const char list_sql[] =
    "SELECT json_build_object('items', coalesce(json_agg(h.j ORDER BY h.name, h.id), "
    "'[]'))::text FROM (SELECT p.name, p.id, " HEAD_JSON " AS j " HEAD_FROM
    "WHERE ($2 = '' OR p.id = $2::uuid)) h";

#define VISIT_JSON                                                                                 \
    "'visit_id', i.visit_id, 'visit_at', i.visit_at, 'local_date', to_char(i.visit_at AT TIME "    \
    "ZONE h.timezone, 'YYYY-MM-DD'), 'local_time', to_char(i.visit_at AT TIME ZONE h.timezone, "   \
    "'HH24:MI'), 'worker_id', i.worker_id, 'worker_name', w.full_name, 'recipient_id', "           \
    "i.recipient_id, 'recipient_name', rc.full_name, 'late', i.late, 'original_month', "           \
    "to_char(i.original_month, 'YYYY-MM')"

/* $1 month, $2 provider: the whole document, or no row (no such provider for the caller).
 * Stored lines and computed ones are a UNION: a stored register has no computed part
 * (the filter on h.stored) and a draft no stored lines (returning deletes them). */
static const char document_sql[] =
    "WITH h AS (SELECT p.id, rg.timezone, coalesce(r.state, 'draft') <> 'draft' AS "
    "stored, " HEAD_JSON " AS j " HEAD_FROM "WHERE p.id = $2::uuid), "
    "c AS MATERIALIZED (SELECT * FROM register_compute($2::uuid, $1::date) "
    "WHERE NOT coalesce((SELECT stored FROM h), true)), "
    "inc AS (SELECT l.visit_id, l.line_no, l.visit_at, l.worker_id, l.recipient_id, "
    "l.service_code, l.service_name, l.quantity, l.tariff_kopecks, l.amount_kopecks, l.late, "
    "l.original_month FROM register_lines l WHERE l.provider_id = $2::uuid AND l.month = "
    "$1::date UNION ALL SELECT c.visit_id, c.line_no, c.visit_at, c.worker_id, c.recipient_id, "
    "c.service_code, c.service_name, c.quantity, c.tariff_kopecks, c.quantity::bigint * "
    "c.tariff_kopecks, c.late, c.original_month FROM c WHERE c.reason IS NULL), "
    "exc AS (SELECT x.visit_id, x.visit_at, x.worker_id, x.recipient_id, x.reason, x.late, "
    "x.original_month FROM register_excluded x WHERE x.provider_id = $2::uuid AND x.month = "
    "$1::date UNION ALL SELECT c.visit_id, c.visit_at, c.worker_id, c.recipient_id, c.reason, "
    "c.late, c.original_month FROM c WHERE c.reason IS NOT NULL) "
    "SELECT (h.j::jsonb || jsonb_build_object("
    "'included', (SELECT coalesce(jsonb_agg(jsonb_build_object(" VISIT_JSON ", "
    "'service_code', i.service_code, 'service_name', i.service_name, 'quantity', i.quantity, "
    "'tariff_kopecks', i.tariff_kopecks, 'amount_kopecks', i.amount_kopecks) ORDER BY "
    "i.visit_at, i.visit_id, i.line_no), '[]') FROM inc i LEFT JOIN workers w ON w.id = "
    "i.worker_id LEFT JOIN recipients rc ON rc.id = i.recipient_id), "
    "'excluded', (SELECT coalesce(jsonb_agg(jsonb_build_object(" VISIT_JSON ", "
    "'reason', i.reason) ORDER BY i.visit_at, i.visit_id), '[]') FROM exc i "
    "LEFT JOIN workers w ON w.id = i.worker_id LEFT JOIN recipients rc ON rc.id = "
    "i.recipient_id)))::text FROM h";

struct register_ref {
    char id[BE_REGISTER_ID_MAX + 1];
    char month[11]; /* YYYY-MM-01 */
    char provider[37];
};

static void reply_no_register(struct be_request *req)
{
    be_reply_problem(req, 404, "not-found", "No such register",
                     "A register id is <YYYY-MM>.<provider uuid>, as listed by "
                     "/api/v1/registers?month=YYYY-MM.",
                     NULL, NULL);
}

/* The {id} of the path, in the caller's scope: a manager asking for another provider's
 * register hears the same 404 as for one that does not exist. */
static bool read_ref(struct be_request *req, struct register_ref *ref)
{
    const char *scope = be_auth_provider_scope(req);
    if (!be_register_id_parse(req->param, ref->month, ref->provider) ||
        (scope[0] && strcmp(scope, ref->provider) != 0)) {
        reply_no_register(req);
        return false;
    }
    snprintf(ref->id, sizeof ref->id, "%.7s.%s", ref->month, ref->provider);
    return true;
}

/* One query returning one text value: 0 (*out taken, caller frees), 1 (no row), -1. */
static int query_text(PGconn *db, const char *sql, int n, const char *const *values, char **out)
{
    PGresult *res = PQexecParams(db, sql, n, NULL, values, NULL, NULL, 0);
    int rc = PQresultStatus(res) != PGRES_TUPLES_OK ? -1 : PQntuples(res) == 0 ? 1 : 0;
    *out = rc == 0 ? strdup(PQgetvalue(res, 0, 0)) : NULL;
    if (rc == 0 && !*out)
        rc = -1;
    PQclear(res);
    return rc;
}

/* The register document: 0 (*doc taken), 1 (not visible), -1 (database). */
static int load_document(struct be_request *req, const struct register_ref *ref, cJSON **doc)
{
    const char *values[2] = {ref->month, ref->provider};
    char *text = NULL;
    int rc = query_text(req->db, document_sql, 2, values, &text);
    *doc = rc == 0 ? cJSON_Parse(text) : NULL;
    free(text);
    return rc == 0 && !*doc ? -1 : rc;
}

/* ==== Reads ==== */

void be_handle_register_list(struct be_request *req)
{
    char month_text[16], provider[64], month[11];
    struct be_query_param params[] = {{"month", month_text, sizeof month_text},
                                      {"provider", provider, sizeof provider}};
    struct cf_error_detail d = {0};
    int rc = be_query_parse(req->query, params, 2, &d);
    if (!rc && !be_register_month_parse(month_text, month))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "month", "month is required, as YYYY-MM");
    uint8_t uuid[CF_UUID_LEN];
    if (!rc && provider[0]) {
        if (cf_uuid_from_text(provider, uuid))
            rc = cf_error_set(&d, CF_EFIELD_RANGE, "provider", "provider must be a UUID");
        else
            cf_uuid_to_text(uuid, provider); /* canonical, as the scope is compared */
    }
    if (rc) {
        be_reply_problem(req, 400, "validation", "A query parameter is not valid", d.message,
                         d.field, NULL);
        return;
    }
    const char *scope = be_auth_provider_scope(req);
    if (scope[0] && provider[0] && strcmp(scope, provider) != 0) {
        be_reply_problem(req, 403, "forbidden", "Not your provider's data",
                         "You may list only your own provider's registers.", "provider", NULL);
        return;
    }
    if (scope[0])
        snprintf(provider, sizeof provider, "%s", scope);
    const char *values[2] = {month, provider};
    char *text = NULL;
    if (query_text(req->db, list_sql, 2, values, &text))
        be_reply_db_error(req, req->db, "register list");
    else
        be_reply_json(req, 200, cJSON_Parse(text));
    free(text);
}

void be_handle_register_get(struct be_request *req)
{
    struct register_ref ref;
    if (!read_ref(req, &ref))
        return;
    if (req->query && req->query[0]) {
        be_reply_problem(req, 400, "validation", "A query parameter is not valid",
                         "This path takes no query parameters.", NULL, NULL);
        return;
    }
    cJSON *doc = NULL;
    int rc = load_document(req, &ref, &doc);
    if (rc < 0)
        be_reply_db_error(req, req->db, "register");
    else if (rc > 0)
        reply_no_register(req);
    else
        be_reply_json(req, 200, doc);
}

void be_handle_register_export(struct be_request *req)
{
    struct register_ref ref;
    if (!read_ref(req, &ref))
        return;
    char format[8];
    struct be_query_param params[] = {{"format", format, sizeof format}};
    struct cf_error_detail d = {0};
    int rc = be_query_parse(req->query, params, 1, &d);
    if (!rc && !format[0])
        snprintf(format, sizeof format, "csv");
    if (!rc && strcmp(format, "csv") && strcmp(format, "json"))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "format", "format must be csv or json");
    if (rc) {
        be_reply_problem(req, 400, "validation", "A query parameter is not valid", d.message,
                         d.field, NULL);
        return;
    }
    cJSON *doc = NULL;
    rc = load_document(req, &ref, &doc);
    if (rc) {
        if (rc < 0)
            be_reply_db_error(req, req->db, "register export");
        else
            reply_no_register(req);
        return;
    }
    char filename[96];
    snprintf(filename, sizeof filename, "register-%.7s-%s.%s", ref.month, ref.provider, format);
    if (strcmp(format, "json") == 0) {
        char *text = cJSON_PrintUnformatted(doc);
        if (text)
            be_reply_attachment(req, "application/json", filename, text, strlen(text));
        else
            be_reply_problem(req, 503, "unavailable", "Out of memory",
                             "The export could not be built; try again.", NULL, NULL);
        free(text);
    } else {
        struct be_buf csv;
        be_buf_init(&csv, BE_REGISTER_CSV_MAX);
        rc = be_register_csv(doc, &csv);
        if (rc == 0)
            be_reply_attachment(req, "text/csv; charset=utf-8", filename, csv.data, csv.len);
        else
            be_reply_problem(req, 503, "unavailable", "The export could not be built",
                             rc == CF_ETOOBIG ? "The register is larger than one CSV export "
                                                "may be; use format=json."
                                              : "Out of memory; try again.",
                             NULL, NULL);
        be_buf_cleanup(&csv);
    }
    cJSON_Delete(doc);
}

/* ==== State changes ==== */

enum change { CHANGE_SUBMIT, CHANGE_APPROVE, CHANGE_RETURN };

static const char *const change_action[] = {"register.submit", "register.approve",
                                            "register.return"};
static const char *const change_sql[] = {
    "SELECT register_submit($1::uuid, $2::date, $3)",
    "SELECT register_approve($1::uuid, $2::date, $3)",
    "SELECT register_return($1::uuid, $2::date, $3, $4)",
};

int be_register_body_read(const char *text, size_t len, bool wants_reason, char *reason,
                          size_t size, struct cf_error_detail *d)
{
    static const char *const with_reason[] = {"reason", NULL};
    static const char *const nothing[] = {NULL};
    reason[0] = '\0';
    if (!text || len == 0)
        return wants_reason ? cf_error_set(d, CF_EFIELD_MISSING, "reason",
                                           "a register is returned with {\"reason\": \"...\"}")
                            : 0;
    cJSON *body = NULL;
    int rc = cf_json_parse_capped(text, len, BODY_MAX_BYTES, BODY_MAX_VALUES, &body, d);
    if (!rc && !cJSON_IsObject(body))
        rc = cf_error_set(d, CF_EFIELD_TYPE, "", "the body must be a JSON object");
    if (!rc)
        rc = cf_json_check_fields(body, wants_reason ? with_reason : nothing, "", d);
    if (!rc && wants_reason)
        rc = cf_json_get_text(body, "reason", "", true, BE_REGISTER_REASON_MAX,
                              "say what the provider must correct", reason, size, d);
    cJSON_Delete(body);
    return rc;
}

static const char *state_detail(enum change change, const char *state)
{
    bool approved = strcmp(state, "approved") == 0;
    switch (change) {
    case CHANGE_SUBMIT:
        return approved ? "This register is approved and never changes; a visit that arrives "
                          "late is paid in the next open month's register."
                        : "This register is already submitted; the department approves it or "
                          "returns it to draft.";
    case CHANGE_APPROVE:
        return approved ? "This register is already approved."
                        : "Only a submitted register can be approved; this one is a draft: the "
                          "provider's manager submits it first.";
    case CHANGE_RETURN:
    default:
        return approved ? "An approved register cannot be returned: it never changes."
                        : "Only a submitted register can be returned; this one is a draft.";
    }
}

/* The refusal a state function answered ("state:<s>", "order:<YYYY-MM>", "month-open",
 * "missing") as a problem. */
static void reply_refusal(struct be_request *req, enum change change, const char *why)
{
    char detail[256];
    if (strncmp(why, "state:", 6) == 0) {
        cJSON *extra = cJSON_CreateObject();
        if (extra)
            cJSON_AddStringToObject(extra, "state", why + 6);
        be_reply_problem(req, 409, "register-state", "The register is not in the right state",
                         state_detail(change, why + 6), NULL, extra);
    } else if (strncmp(why, "order:", 6) == 0) {
        if (change == CHANGE_SUBMIT)
            snprintf(detail, sizeof detail,
                     "Registers are submitted month after month: the provider's latest "
                     "submitted register is %s, so the next one to submit is the month after it.",
                     why + 6);
        else
            snprintf(detail, sizeof detail,
                     "The register of %s, later than this one, is submitted or approved: "
                     "registers are returned latest first.",
                     why + 6);
        be_reply_problem(req, 409, "register-order", "Registers go month after month", detail, NULL,
                         NULL);
    } else if (strcmp(why, "month-open") == 0) {
        be_reply_problem(req, 409, "register-month-open", "The month has not ended",
                         "A register is submitted after the last day of its month (in the "
                         "region's time zone), when all its visits are in.",
                         NULL, NULL);
    } else {
        reply_no_register(req);
    }
}

static void rollback(PGconn *db)
{
    (void)be_db_exec(db, "ROLLBACK");
}

/* Within the caller's transaction: the state function, then the audit row. Returns 0,
 * -1 on a database error, or 1 with *why (caller frees) naming the refusal. */
static int apply_change(struct be_request *req, enum change change, const struct register_ref *ref,
                        const char *reason, char **why)
{
    const char *args[4] = {ref->provider, ref->month, req->who.login, reason};
    int rc = query_text(req->db, change_sql[change], change == CHANGE_RETURN ? 4 : 3, args, why);
    if (rc)
        return -1;
    if (strcmp(*why, "ok") != 0)
        return 1;
    free(*why);
    *why = NULL;
    char *details = NULL;
    const char *key[2] = {ref->provider, ref->month};
    rc = query_text(req->db,
                    "SELECT json_build_object('state', state, 'included_count', included_count, "
                    "'excluded_count', excluded_count, 'total_kopecks', total_kopecks)::text "
                    "FROM registers WHERE provider_id = $1::uuid AND month = $2::date",
                    2, key, &details);
    if (!rc)
        rc = be_audit(req, change_action[change], ref->id, reason, details);
    free(details);
    return rc ? -1 : 0;
}

static void handle_change(struct be_request *req, enum change change)
{
    struct register_ref ref;
    char reason[BE_REGISTER_REASON_MAX * 4 + 1];
    struct cf_error_detail d = {0};
    if (!read_ref(req, &ref))
        return;
    if (be_register_body_read(req->body, req->body_len, change == CHANGE_RETURN, reason,
                              sizeof reason, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    char *why = NULL;
    if (be_db_exec(req->db, "BEGIN"))
        goto db_error;
    int rc = apply_change(req, change, &ref, reason, &why);
    if (rc < 0)
        goto db_error;
    if (rc > 0) {
        rollback(req->db);
        reply_refusal(req, change, why);
        free(why);
        return;
    }
    if (be_db_exec(req->db, "COMMIT"))
        goto db_error;
    const char *values[2] = {ref.month, ref.provider};
    char *text = NULL;
    if (query_text(req->db, list_sql, 2, values, &text)) {
        be_reply_db_error(req, req->db, "register");
        return;
    }
    cJSON *list = cJSON_Parse(text);
    free(text);
    cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
    cJSON *head = cJSON_DetachItemFromArray(items, 0);
    cJSON_Delete(list);
    be_reply_json(req, 200, head);
    return;
db_error:
    be_reply_db_error(req, req->db, change_action[change]);
    free(why);
    rollback(req->db);
}

void be_handle_register_submit(struct be_request *req)
{
    handle_change(req, CHANGE_SUBMIT);
}

void be_handle_register_approve(struct be_request *req)
{
    handle_change(req, CHANGE_APPROVE);
}

void be_handle_register_return(struct be_request *req)
{
    handle_change(req, CHANGE_RETURN);
}
