/* The route table of carefactd and the small operational handlers (/healthz,
 * /metrics). `carefactd routes` prints this table; a test compares it with the
 * paths of api/openapi.yaml so the contract and the server cannot drift apart. */
#include <stdlib.h>

#include "be/corrections.h"
#include "be/db.h"
#include "be/figures.h"
#include "be/metrics.h"
#include "be/register.h"
#include "be/review.h"
#include "be/server.h"
#include "be/web.h"

const struct be_route be_routes[] = {
    {"GET", "/healthz", be_handle_healthz, false, BE_PUBLIC},
    {"GET", "/metrics", be_handle_metrics, false, BE_PUBLIC},
    {"POST", "/api/v1/session", be_handle_session_create, true, BE_PUBLIC},
    {"GET", "/api/v1/session", be_handle_session_get, true, BE_PEOPLE},
    {"DELETE", "/api/v1/session", be_handle_session_delete, true, BE_PEOPLE},
    {"GET", "/api/v1/audit", be_handle_audit_list, true, BE_OVERSIGHT},
    {"POST", "/api/v1/devices", be_handle_enroll, true, BE_PUBLIC},
    {"POST", "/api/v1/devices/{id}/events", be_handle_upload, true, BE_DEVICE},
    {"GET", "/api/v1/devices/{id}/reference", be_handle_reference_list, true, BE_DEVICE},
    {"POST", "/api/v1/devices/{id}/reference/fetch", be_handle_reference_fetch, true, BE_DEVICE},
    {"GET", "/api/v1/visits", be_handle_visit_list, true, BE_PEOPLE},
    {"GET", "/api/v1/visits/{id}", be_handle_visit_get, true, BE_PEOPLE},
    {"GET", "/", be_handle_web_index, false, BE_PUBLIC},
    {"GET", "/web/{id}", be_handle_web_asset, false, BE_PUBLIC},
    {"GET", "/api/v1/stream", be_handle_stream, true, BE_PEOPLE}, /* db: the session check */
    {"GET", "/api/v1/live", be_handle_live, true, BE_OVERSIGHT | BE_MANAGER},
    {"GET", "/api/v1/exceptions", be_handle_exception_list, true, BE_OVERSIGHT | BE_MANAGER},
    {"POST", "/api/v1/exceptions/{id}/resolve", be_handle_exception_resolve, true,
     BE_OVERSIGHT | BE_MANAGER},
    /* Figures (issue 6): a worker sees only their own. */
    {"GET", "/api/v1/figures", be_handle_figures, true, BE_PEOPLE},
    /* Payment register (issue 6): the provider's manager submits (an admin may too), the
     * department (authority, admin) approves or returns. */
    {"GET", "/api/v1/registers", be_handle_register_list, true, BE_OVERSIGHT | BE_MANAGER},
    {"GET", "/api/v1/registers/{id}", be_handle_register_get, true, BE_OVERSIGHT | BE_MANAGER},
    {"GET", "/api/v1/registers/{id}/export", be_handle_register_export, true,
     BE_OVERSIGHT | BE_MANAGER},
    {"POST", "/api/v1/registers/{id}/submit", be_handle_register_submit, true,
     BE_MANAGER | BE_ADMIN},
    {"POST", "/api/v1/registers/{id}/approve", be_handle_register_approve, true, BE_OVERSIGHT},
    {"POST", "/api/v1/registers/{id}/return", be_handle_register_return, true, BE_OVERSIGHT},
    /* Corrections and the recipient's statement (corrections.c, statement.c) */
    {"POST", "/api/v1/visits/{id}/corrections", be_handle_correction_create, true,
     BE_OVERSIGHT | BE_MANAGER},
    {"GET", "/api/v1/visits/{id}/corrections", be_handle_correction_list, true, BE_PEOPLE},
    {"GET", "/api/v1/recipients/{id}/statement", be_handle_recipient_statement, true,
     BE_OVERSIGHT | BE_MANAGER},
};
const size_t be_route_count = sizeof be_routes / sizeof be_routes[0];

void be_handle_healthz(struct be_request *req)
{
    /* A round trip, not just a cached connection: the database must answer now. */
    PGconn *db = be_db_thread_conn(req->config->db);
    if (!db || be_db_exec(db, "SELECT 1")) {
        be_reply_db_error(req, db, "healthz");
        return;
    }
    cJSON *body = cJSON_CreateObject();
    if (body) {
        cJSON_AddStringToObject(body, "status", "ok");
        cJSON_AddStringToObject(body, "database", "ok");
        cJSON_AddStringToObject(body, "epoch", be_db_epoch(db));
        cJSON_AddStringToObject(body, "schema", be_db_schema(db));
    }
    be_reply_json(req, 200, body);
}

void be_handle_metrics(struct be_request *req)
{
    char *text = be_metrics_render();
    if (!text) {
        be_reply_problem(req, 503, "unavailable", "Metrics unavailable", "Out of memory.", NULL,
                         NULL);
        return;
    }
    be_reply_text(req, 200, "text/plain; version=0.0.4", text);
    free(text);
}
