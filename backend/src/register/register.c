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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be/auth.h"
#include "be/buf.h"
#include "be/db.h"
#include "be/log.h"
#include "be/query.h"
#include "be/register.h"
#include "be/reply.h"
#include "be/audit.h"
#include "cf/json.h"
#include "cf/uuid.h"
#include "sql/register_sql.h"

#define BODY_MAX_BYTES (16u * 1024)
#define BODY_MAX_VALUES 16

/* ==== Documents ==== */

/* The document is read as rows (two statements in one REPEATABLE READ READ ONLY
 * transaction, so head and lines are one view of the data) and written in C
 * (register_doc.c, register_csv.c): building 42,000 lines of JSON in SQL with
 * jsonb_agg, sorting it, then parsing and printing it again with cJSON took 3.4 s of
 * a large provider's month; see backend/README.md, "Performance". The statements are
 * in register.sql; the columns of register_head and register_lines: */

enum head_col {
    HEAD_ID,
    HEAD_PROVIDER_ID,
    HEAD_PROVIDER_NAME,
    HEAD_MONTH,
    HEAD_STATE,
    HEAD_INCLUDED_COUNT,
    HEAD_EXCLUDED_COUNT,
    HEAD_TOTAL,
    HEAD_SUBMITTED_AT,
    HEAD_SUBMITTED_BY,
    HEAD_APPROVED_AT,
    HEAD_APPROVED_BY,
    HEAD_RETURNED_AT,
    HEAD_RETURNED_BY,
    HEAD_RETURNED_REASON
};

enum line_col {
    LINE_INCLUDED,
    LINE_VISIT_ID,
    LINE_VISIT_AT,
    LINE_LOCAL,
    LINE_WORKER_ID,
    LINE_WORKER_NAME,
    LINE_RECIPIENT_ID,
    LINE_RECIPIENT_NAME,
    LINE_LATE,
    LINE_ORIGINAL_MONTH,
    LINE_SERVICE_CODE,
    LINE_SERVICE_NAME,
    LINE_QUANTITY,
    LINE_TARIFF,
    LINE_AMOUNT,
    LINE_REASON
};

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
    if (!be_register_id_parse(be_param(req, "id"), ref->month, ref->provider) ||
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

/* A register read as rows: the results own the strings the head and rows borrow. */
struct register_doc {
    PGresult *head_res, *lines_res;
    struct be_register_head head;
    struct be_register_row *rows;
    size_t n;
};

static void register_doc_cleanup(struct register_doc *doc)
{
    free(doc->rows);
    PQclear(doc->lines_res);
    PQclear(doc->head_res);
    memset(doc, 0, sizeof *doc);
}

static const char *value_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* A whole number column (NULL counts as 0 where the rows have none). */
static int read_int(const PGresult *res, int row, int col, int64_t *out)
{
    *out = 0;
    if (PQgetisnull(res, row, col))
        return 0;
    const char *text = PQgetvalue(res, row, col);
    char *end = NULL;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno || end == text || *end)
        return CF_EFIELD_TYPE;
    *out = value;
    return 0;
}

static bool read_bool(const PGresult *res, int row, int col)
{
    return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

/* timestamptz text (TimeZone UTC, DateStyle ISO: "2026-05-01 05:05:00+00") as
 * PostgreSQL's JSON writes it ("2026-05-01T05:05:00+00:00"), which the document
 * served before. Anything else is kept as it came. */
static void iso_instant(const char *text, char out[40])
{
    size_t len = strlen(text);
    const char *sign = len > 19 ? strpbrk(text + 19, "+-") : NULL;
    if (len < 20 || len > 35 || text[10] != ' ' || !sign) {
        snprintf(out, 40, "%s", text);
        return;
    }
    /* len <= 35: the result fits out */
    memcpy(out, text, len + 1);
    out[10] = 'T';
    if (strlen(sign) == 3)
        memcpy(out + len, ":00", 4);
}

/* The first len bytes of text (at least len long) as out's text (size > len). */
static void copy_prefix(char *out, const char *text, size_t len)
{
    memcpy(out, text, len);
    out[len] = '\0';
}

/* One row of sql_register_lines. */
static int read_row(const PGresult *res, int i, struct be_register_row *row)
{
    memset(row, 0, sizeof *row);
    row->included = read_bool(res, i, LINE_INCLUDED);
    row->visit_id = value_or_null(res, i, LINE_VISIT_ID);
    const char *at = value_or_null(res, i, LINE_VISIT_AT);
    if (at)
        iso_instant(at, row->visit_at);
    /* the local timestamp, "2026-05-01 08:05:00[.frac]": its date and HH:MM */
    const char *local = value_or_null(res, i, LINE_LOCAL);
    if (local && strlen(local) >= 16 && local[10] == ' ') {
        copy_prefix(row->local_date, local, 10);
        copy_prefix(row->local_time, local + 11, 5);
    }
    row->worker_id = value_or_null(res, i, LINE_WORKER_ID);
    row->worker_name = value_or_null(res, i, LINE_WORKER_NAME);
    row->recipient_id = value_or_null(res, i, LINE_RECIPIENT_ID);
    row->recipient_name = value_or_null(res, i, LINE_RECIPIENT_NAME);
    row->late = read_bool(res, i, LINE_LATE);
    const char *month = value_or_null(res, i, LINE_ORIGINAL_MONTH);
    if (month && strlen(month) >= 7)
        copy_prefix(row->original_month, month, 7);
    row->service_code = value_or_null(res, i, LINE_SERVICE_CODE);
    row->service_name = value_or_null(res, i, LINE_SERVICE_NAME);
    row->reason = value_or_null(res, i, LINE_REASON);
    int rc = read_int(res, i, LINE_QUANTITY, &row->quantity);
    if (!rc)
        rc = read_int(res, i, LINE_TARIFF, &row->tariff_kopecks);
    if (!rc)
        rc = read_int(res, i, LINE_AMOUNT, &row->amount_kopecks);
    return rc;
}

static void read_head(struct register_doc *doc)
{
    const PGresult *res = doc->head_res;
    struct be_register_head *head = &doc->head;
    head->id = value_or_null(res, 0, HEAD_ID);
    head->provider_id = value_or_null(res, 0, HEAD_PROVIDER_ID);
    head->provider_name = value_or_null(res, 0, HEAD_PROVIDER_NAME);
    head->month = value_or_null(res, 0, HEAD_MONTH);
    head->state = value_or_null(res, 0, HEAD_STATE);
    head->submitted_at = value_or_null(res, 0, HEAD_SUBMITTED_AT);
    head->submitted_by = value_or_null(res, 0, HEAD_SUBMITTED_BY);
    head->approved_at = value_or_null(res, 0, HEAD_APPROVED_AT);
    head->approved_by = value_or_null(res, 0, HEAD_APPROVED_BY);
    head->returned_at = value_or_null(res, 0, HEAD_RETURNED_AT);
    head->returned_by = value_or_null(res, 0, HEAD_RETURNED_BY);
    head->returned_reason = value_or_null(res, 0, HEAD_RETURNED_REASON);
}

/* A stored register's totals are its row's, written when it was submitted; they must
 * be its lines' too. If not, something changed a snapshot that never changes: the
 * stored figures are served (they are what was submitted) and the disagreement is
 * logged as an error, never passed over. */
static int settle_totals(const struct register_ref *ref, struct register_doc *doc)
{
    struct be_register_totals lines;
    int rc = be_register_totals_of(doc->rows, doc->n, &lines);
    if (rc)
        return rc;
    if (PQgetisnull(doc->head_res, 0, HEAD_TOTAL)) { /* a draft: its rows' */
        doc->head.totals = lines;
        return 0;
    }
    struct be_register_totals *stored = &doc->head.totals;
    if (read_int(doc->head_res, 0, HEAD_INCLUDED_COUNT, &stored->included_count) ||
        read_int(doc->head_res, 0, HEAD_EXCLUDED_COUNT, &stored->excluded_count) ||
        read_int(doc->head_res, 0, HEAD_TOTAL, &stored->total_kopecks))
        return CF_EFIELD_TYPE;
    if (memcmp(stored, &lines, sizeof lines) != 0) {
        cJSON *fields = cJSON_CreateObject();
        if (fields) {
            cJSON_AddStringToObject(fields, "register", ref->id);
            cJSON_AddNumberToObject(fields, "stored_included_count",
                                    (double)stored->included_count);
            cJSON_AddNumberToObject(fields, "lines_included_count", (double)lines.included_count);
            cJSON_AddNumberToObject(fields, "stored_excluded_count",
                                    (double)stored->excluded_count);
            cJSON_AddNumberToObject(fields, "lines_excluded_count", (double)lines.excluded_count);
            cJSON_AddNumberToObject(fields, "stored_total_kopecks", (double)stored->total_kopecks);
            cJSON_AddNumberToObject(fields, "lines_total_kopecks", (double)lines.total_kopecks);
        }
        be_log("error", "stored register totals disagree with its lines", fields);
    }
    return 0;
}

static PGresult *query_rows(PGconn *db, const char *sql, const char *const *values)
{
    PGresult *res = PQexecParams(db, sql, 2, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return NULL;
    }
    return res;
}

/* The rows of doc's lines_res into doc->rows: 0, or -1 (memory, or a row that is not
 * what sql_register_lines returns). */
static int read_rows(struct register_doc *doc)
{
    read_head(doc);
    int n = PQntuples(doc->lines_res);
    doc->rows = calloc(n ? (size_t)n : 1, sizeof *doc->rows);
    if (!doc->rows)
        return -1;
    for (int i = 0; i < n; i++)
        if (read_row(doc->lines_res, i, &doc->rows[doc->n++]))
            return -1;
    return 0;
}

struct document_query {
    const struct register_ref *ref;
    struct register_doc *doc;
    bool missing; /* no register visible by this id */
};

/* The head and rows in one snapshot. work_mem: the 42,000 lines of a large provider's
 * month (15 MB) are sorted in memory instead of on disk (0.2 s). */
static int document_tx(struct be_request *req, void *ctx)
{
    struct document_query *q = ctx;
    const char *values[2] = {q->ref->month, q->ref->provider};
    if (be_db_exec(req->db, "SET LOCAL work_mem = '64MB'; SET LOCAL DateStyle = 'ISO'"))
        return BE_TX_FAILED;
    q->doc->head_res = query_rows(req->db, sql_register_head, values);
    if (!q->doc->head_res)
        return BE_TX_FAILED;
    q->missing = PQntuples(q->doc->head_res) == 0;
    if (q->missing)
        return BE_TX_ROLLBACK;
    q->doc->lines_res = query_rows(req->db, sql_register_lines, values);
    return q->doc->lines_res ? BE_TX_COMMIT : BE_TX_FAILED;
}

/* The register as rows: 0 (doc filled; register_doc_cleanup), 1 (not visible), -1
 * (answered: the database, or a row that is not what sql_register_lines returns). */
static int load_document(struct be_request *req, const struct register_ref *ref,
                         struct register_doc *doc)
{
    memset(doc, 0, sizeof *doc);
    struct document_query q = {.ref = ref, .doc = doc};
    int rc = be_db_transaction(req, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "register",
                               document_tx, &q);
    if (rc == BE_TX_FAILED)
        return -1;
    if (q.missing)
        return 1;
    if (rc == BE_TX_ROLLBACK) { /* not reached: a body rolls back only when missing */
        be_reply_db_error(req, req->db, "register");
        return -1;
    }
    if (read_rows(doc) || settle_totals(ref, doc)) {
        be_reply_db_error(req, req->db, "register rows");
        return -1;
    }
    return 0;
}

/* The document's JSON into out (capped): 0, or a CF_E… code from be_buf. */
static int write_document(const struct register_doc *doc, struct be_buf *out)
{
    be_buf_init(out, BE_REGISTER_DOC_MAX);
    /* ~560 bytes a line: one allocation instead of growing through 17 copies */
    size_t guess = 4096 + doc->n * 600;
    int rc = be_buf_reserve(out, guess < BE_REGISTER_DOC_MAX ? guess : BE_REGISTER_DOC_MAX - 1);
    return rc ? rc : be_register_json(&doc->head, doc->rows, doc->n, out);
}

static void reply_too_big(struct be_request *req, int rc, const char *what)
{
    be_reply_problem(req, 503, "unavailable", "The register could not be built",
                     rc == CF_ETOOBIG ? what : "Out of memory; try again.", NULL, NULL);
}

/* ==== Reads ==== */

static void handle_register_list(struct be_request *req)
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
    if (query_text(req->db, sql_register_list, 2, values, &text))
        be_reply_db_error(req, req->db, "register list");
    else
        be_reply_json(req, 200, cJSON_Parse(text));
    free(text);
}

static void handle_register_get(struct be_request *req)
{
    struct register_ref ref;
    if (!read_ref(req, &ref))
        return;
    if (req->query && req->query[0]) {
        be_reply_problem(req, 400, "validation", "A query parameter is not valid",
                         "This path takes no query parameters.", NULL, NULL);
        return;
    }
    struct register_doc doc;
    int rc = load_document(req, &ref, &doc);
    if (rc < 0) {
        /* answered */
    } else if (rc > 0) {
        reply_no_register(req);
    } else {
        struct be_buf json;
        rc = write_document(&doc, &json);
        if (rc)
            reply_too_big(req, rc, "The register is larger than one document may be.");
        else
            be_reply_text(req, 200, "application/json", json.data);
        be_buf_cleanup(&json);
    }
    register_doc_cleanup(&doc);
}

static void handle_register_export(struct be_request *req)
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
    struct register_doc doc;
    rc = load_document(req, &ref, &doc);
    if (rc) {
        if (rc > 0) /* < 0: answered */
            reply_no_register(req);
        register_doc_cleanup(&doc);
        return;
    }
    char filename[96];
    snprintf(filename, sizeof filename, "register-%.7s-%s.%s", ref.month, ref.provider, format);
    struct be_buf out;
    if (strcmp(format, "json") == 0) {
        rc = write_document(&doc, &out);
    } else {
        be_buf_init(&out, BE_REGISTER_CSV_MAX);
        size_t guess = 4096 + doc.n * 200; /* ~170 bytes a line */
        rc = be_buf_reserve(&out, guess < BE_REGISTER_CSV_MAX ? guess : BE_REGISTER_CSV_MAX - 1);
        if (!rc)
            rc = be_register_csv(&doc.head.totals, doc.rows, doc.n, &out);
    }
    if (rc == 0)
        be_reply_attachment(
            req, strcmp(format, "json") == 0 ? "application/json" : "text/csv; charset=utf-8",
            filename, out.data, out.len);
    else
        reply_too_big(req, rc,
                      strcmp(format, "json") == 0
                          ? "The register is larger than one document may be."
                          : "The register is larger than one CSV export may be; use format=json.");
    be_buf_cleanup(&out);
    register_doc_cleanup(&doc);
}

/* ==== State changes ==== */

enum change { CHANGE_SUBMIT, CHANGE_APPROVE, CHANGE_RETURN };

static const char *const change_action[] = {"register.submit", "register.approve",
                                            "register.return"};
static const char *const change_sql[] = {sql_register_submit, sql_register_approve,
                                         sql_register_return};

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
    if (!rc) /* also refuses anything but an object */
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
    rc = query_text(req->db, sql_register_totals_json, 2, key, &details);
    if (!rc)
        rc = be_audit(req, change_action[change], ref->id, reason, details);
    free(details);
    return rc ? -1 : 0;
}

struct change_query {
    enum change change;
    const struct register_ref *ref;
    const char *reason;
    char *why; /* a refusal (caller frees) */
};

static int change_tx(struct be_request *req, void *ctx)
{
    struct change_query *q = ctx;
    int rc = apply_change(req, q->change, q->ref, q->reason, &q->why);
    return rc < 0 ? BE_TX_FAILED : rc > 0 ? BE_TX_ROLLBACK : BE_TX_COMMIT;
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
    struct change_query q = {.change = change, .ref = &ref, .reason = reason};
    int rc = be_db_transaction(req, NULL, change_action[change], change_tx, &q);
    if (rc == BE_TX_ROLLBACK)
        reply_refusal(req, change, q.why);
    free(q.why);
    if (rc != BE_TX_COMMIT)
        return;
    const char *values[2] = {ref.month, ref.provider};
    char *text = NULL;
    if (query_text(req->db, sql_register_list, 2, values, &text)) {
        be_reply_db_error(req, req->db, "register");
        return;
    }
    cJSON *list = cJSON_Parse(text);
    free(text);
    cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
    cJSON *head = cJSON_DetachItemFromArray(items, 0);
    cJSON_Delete(list);
    be_reply_json(req, 200, head);
}

static void handle_register_submit(struct be_request *req)
{
    handle_change(req, CHANGE_SUBMIT);
}

static void handle_register_approve(struct be_request *req)
{
    handle_change(req, CHANGE_APPROVE);
}

static void handle_register_return(struct be_request *req)
{
    handle_change(req, CHANGE_RETURN);
}

/* The reads — the month's list, the document (a month's draft or a decided register) and
 * its export, each one READ ONLY snapshot — come from db-read (the standby) when set
 * (issue 18): a little lag is harmless there, and integration.backend.register serves
 * them from a read-only connection. */
static const struct be_route routes[] = {
    {"GET", "/api/v1/registers", handle_register_list, BE_DB_READ, BE_OVERSIGHT | BE_MANAGER,
     BE_BODY_NONE},
    {"GET", "/api/v1/registers/{id}", handle_register_get, BE_DB_READ, BE_OVERSIGHT | BE_MANAGER,
     BE_BODY_NONE},
    {"GET", "/api/v1/registers/{id}/export", handle_register_export, BE_DB_READ,
     BE_OVERSIGHT | BE_MANAGER, BE_BODY_NONE},
    /* The provider's manager submits (an admin may too), the department (authority,
     * admin) approves or returns. */
    {"POST", "/api/v1/registers/{id}/submit", handle_register_submit, true, BE_MANAGER | BE_ADMIN,
     BODY_MAX_BYTES},
    {"POST", "/api/v1/registers/{id}/approve", handle_register_approve, true, BE_OVERSIGHT,
     BODY_MAX_BYTES},
    {"POST", "/api/v1/registers/{id}/return", handle_register_return, true, BE_OVERSIGHT,
     BODY_MAX_BYTES},
};
const struct be_module be_register_module = BE_MODULE("register", routes);
