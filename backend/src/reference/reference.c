/* Reference data for terminals, by comparing lists (sql/0006_reference.sql):
 *   GET  /api/v1/devices/{id}/reference        -> every (kind, id, version) it should hold
 *   POST /api/v1/devices/{id}/reference/fetch  -> the bodies of up to 200 of them
 * A device fetches only what differs from its cache and drops what is no longer
 * listed, so a dropped link resumes where it stopped. */
#include <string.h>

#include "be/reference.h"
#include "be/db.h"
#include "be/log.h"
#include "be/reply.h"
#include "cf/json.h"
#include "cf/uuid.h"
#include "sql/reference_sql.h"

#define FETCH_BODY_MAX (64u * 1024) /* up to 200 (kind, id) pairs */

#define FETCH_MAX 200

/* The device must exist and be active; answers the problem itself otherwise. */
static int device_ok(struct be_request *req)
{
    uint8_t id[CF_UUID_LEN];
    if (cf_uuid_from_text(be_param(req, "id"), id)) {
        be_reply_problem(req, 404, "unknown-device", "Unknown device",
                         "The path must name a device by its UUID.", NULL, NULL);
        return 0;
    }
    char text[CF_UUID_TEXT_LEN + 1];
    cf_uuid_to_text(id, text);
    const char *params[1] = {text};
    PGresult *res = be_db_run(req->db, BE_STMT_DEVICE_STATUS, 1, params);
    int ok = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        be_reply_db_error(req, req->db, "reference: device");
    else if (PQntuples(res) == 0)
        be_reply_problem(req, 404, "unknown-device", "Unknown device",
                         "No device is enrolled under this id; enrol the terminal again.", NULL,
                         NULL);
    else if (strcmp(PQgetvalue(res, 0, 0), "active") != 0)
        be_reply_problem(req, 403, "revoked-device", "Device revoked",
                         "This device was revoked by a manager.", NULL, NULL);
    else
        ok = 1;
    PQclear(res);
    return ok;
}

static void reply_query(struct be_request *req, const char *sql, int nparams,
                        const char *const *params, const char *what)
{
    PGresult *res = PQexecParams(req->db, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        be_reply_db_error(req, req->db, what);
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}

static void handle_reference_list(struct be_request *req)
{
    if (!device_ok(req))
        return;
    const char *params[1] = {be_param(req, "id")};
    /* The last sync the dashboard shows; a failure to note it does not refuse the list. */
    PGresult *seen = PQexecParams(req->db, sql_reference_seen, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(seen) != PGRES_COMMAND_OK)
        be_log_str("warn", "reference: last sync not recorded", "error", PQerrorMessage(req->db));
    PQclear(seen);
    reply_query(req, sql_reference_list, 1, params, "reference list");
}

static void handle_reference_fetch(struct be_request *req)
{
    static const char *const allowed[] = {"items", NULL};
    static const char *const item_fields[] = {"kind", "id", NULL};
    struct cf_error_detail detail = {0};
    cJSON *root = NULL;
    if (!device_ok(req))
        return;
    int rc =
        cf_json_parse(req->body ? req->body : "", req->body_len, FETCH_BODY_MAX, &root, &detail);
    if (!rc)
        rc = cf_json_check_fields(root, allowed, "", &detail);
    const cJSON *items = root ? cJSON_GetObjectItemCaseSensitive(root, "items") : NULL;
    if (!rc && !cJSON_IsArray(items))
        rc = cf_error_set(&detail, CF_EFIELD_TYPE, "items", "items must be an array of {kind, id}");
    if (!rc && cJSON_GetArraySize(items) > FETCH_MAX)
        rc = cf_error_set(&detail, CF_EFIELD_RANGE, "items",
                          "items holds more than %d entries: fetch in batches", FETCH_MAX);
    int i = 0;
    for (const cJSON *item = items ? items->child : NULL; !rc && item; item = item->next, i++) {
        char path[32], kind[16], id[64];
        snprintf(path, sizeof path, "items[%d]", i);
        rc = cf_json_check_fields(item, item_fields, path, &detail);
        if (!rc)
            rc = cf_json_get_string(item, "kind", path, true, 15, kind, sizeof kind, &detail);
        if (!rc)
            rc = cf_json_get_string(item, "id", path, true, 63, id, sizeof id, &detail);
        if (!rc && strcmp(kind, "recipient") && strcmp(kind, "service") && strcmp(kind, "plan") &&
            strcmp(kind, "trip") && strcmp(kind, "survey")) {
            char field[48];
            snprintf(field, sizeof field, "%s.kind", path);
            rc = cf_error_set(&detail, CF_EFIELD_RANGE, field,
                              "%s must be recipient, service, plan, trip or survey", field);
        }
    }
    char *wanted = rc ? NULL : cJSON_PrintUnformatted(items);
    cJSON_Delete(root);
    if (rc) {
        be_reply_invalid(req, &detail);
        return;
    }
    const char *params[2] = {be_param(req, "id"), wanted ? wanted : "[]"};
    reply_query(req, sql_reference_fetch, 2, params, "reference fetch");
    cJSON_free(wanted);
}

static const struct be_route routes[] = {
    {"GET", "/api/v1/devices/{id}/reference", handle_reference_list, true, BE_DEVICE, BE_BODY_NONE},
    {"POST", "/api/v1/devices/{id}/reference/fetch", handle_reference_fetch, true, BE_DEVICE,
     FETCH_BODY_MAX},
};
const struct be_module be_reference_module = BE_MODULE("reference", routes);
