/* The operational routes (see be/ops.h): /healthz asks the database for a round trip,
 * /metrics renders this process's counters. */
#include "be/ops.h"

#include <stdlib.h>

#include "be/db.h"
#include "be/metrics.h"
#include "be/reply.h"

static void handle_healthz(struct be_request *req)
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

static void route_name(const void *ctx, size_t i, const char **method, const char **pattern)
{
    const struct be_route *route = be_route_at(ctx, i);
    *method = route ? route->method : "";
    *pattern = route ? route->pattern : "";
}

static void handle_metrics(struct be_request *req)
{
    char *text = be_metrics_render(be_route_count(req->routes), route_name, req->routes);
    if (!text) {
        be_reply_problem(req, 503, "unavailable", "Metrics unavailable", "Out of memory.", NULL,
                         NULL);
        return;
    }
    be_reply_text(req, 200, "text/plain; version=0.0.4", text);
    free(text);
}

static const struct be_route routes[] = {
    {"GET", "/healthz", handle_healthz, false, BE_PUBLIC, BE_BODY_NONE},
    {"GET", "/metrics", handle_metrics, false, BE_PUBLIC, BE_BODY_NONE},
};
const struct be_module be_ops_module = BE_MODULE("ops", routes);
