/* Device request signatures (see be/device_auth.h). The head of a request is checked
 * against the device's row before the body is read; the signature, which covers the
 * body, after. */
#include "be/device_auth.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "be/db.h"
#include "be/reply.h"
#include "cf/batch.h"
#include "cf/codec.h"
#include "cf/uuid.h"
#include "sql/device_auth_sql.h"

static bool refused(struct be_request *req, int status, const char *type, const char *title,
                    const char *detail)
{
    be_reply_problem(req, status, type, title, detail, NULL, NULL);
    return false;
}

/* The signed time of the request's headers, or false when absent or malformed. */
static bool signed_time(const struct be_request *req, long long *t)
{
    const char *text = be_request_header(req, CF_REQUEST_HDR_TIME);
    char *end = NULL;
    if (!text)
        return false;
    *t = strtoll(text, &end, 10);
    return end && !*end && end != text;
}

/* "PATH?QUERY" as signed, into out. */
static bool signed_path(const struct be_request *req, char *out, size_t size)
{
    int n = snprintf(out, size, "%s%s%s", req->path, req->query ? "?" : "",
                     req->query ? req->query : "");
    return n >= 0 && (size_t)n < size;
}

static void copy_value(char *dst, size_t size, const PGresult *res, int col)
{
    snprintf(dst, size, "%s", PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col));
}

bool be_device_check_head(struct be_request *req)
{
    const char *device = be_request_header(req, CF_REQUEST_HDR_DEVICE);
    const char *sig = be_request_header(req, CF_REQUEST_HDR_SIGNATURE);
    uint8_t id[CF_UUID_LEN];
    char id_text[CF_UUID_TEXT_LEN + 1], path[CF_REQUEST_PATH_MAX + 1];
    long long t = 0;
    if (!device || !sig || !be_request_header(req, CF_REQUEST_HDR_TIME) ||
        cf_uuid_from_text(device, id))
        return refused(req, 401, "device-unauthenticated", "Unsigned device request",
                       "Device routes need the headers " CF_REQUEST_HDR_DEVICE
                       ", " CF_REQUEST_HDR_TIME " and " CF_REQUEST_HDR_SIGNATURE ".");
    cf_uuid_to_text(id, id_text);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long now_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (!signed_time(req, &t) || llabs(t - now_ms) > BE_DEVICE_CLOCK_WINDOW_MS)
        return refused(req, 401, "device-unauthenticated", "Request time out of range",
                       "The signed time is not a Unix time in milliseconds close to "
                       "the server's clock (see the Date header).");
    if (strcmp(id_text, be_param(req, "id")) != 0)
        return refused(req, 403, "device-mismatch", "Not this device's path",
                       "A device may use only its own /devices/{id}/ routes.");
    if (!signed_path(req, path, sizeof path))
        return refused(req, 401, "device-unauthenticated", "Path too long",
                       "The signed path is longer than the server accepts.");
    /* The lookup itself may see every provider's devices; the handler then only its own. */
    if (be_db_set_scope(req->db, "*", "*", "")) {
        be_reply_db_error(req, req->db, "authorisation scope");
        return false;
    }
    const char *params[1] = {id_text};
    PGresult *res = PQexecParams(req->db, sql_device_lookup, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK)) {
        PQclear(res);
        be_reply_db_error(req, req->db, "device lookup");
        return false;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        return refused(req, 404, "unknown-device", "Unknown device",
                       "No device with this id is enrolled; enrol the terminal.");
    }
    size_t key_len = 0;
    const char *key_hex = PQgetvalue(res, 0, 0);
    bool key_ok = cf_hex_decode(key_hex, strlen(key_hex), req->device_key, sizeof req->device_key,
                                &key_len) == 0 &&
                  key_len == sizeof req->device_key;
    bool revoked = strcmp(PQgetvalue(res, 0, 1), "active") != 0;
    snprintf(req->who.device, sizeof req->who.device, "%s", id_text);
    copy_value(req->who.provider, sizeof req->who.provider, res, 2);
    copy_value(req->who.worker, sizeof req->who.worker, res, 3);
    PQclear(res);
    if (!key_ok)
        return refused(req, 401, "device-unauthenticated", "Signature does not verify",
                       "The request is not signed by the key enrolled for this device.");
    /* NOTE: refused before the body is read, signed or not: a revoked terminal's
     * uploads are never read. That it is revoked is no secret from whoever knows the
     * device's id (the terminal itself). */
    if (revoked)
        return refused(req, 403, "revoked-device", "Device revoked",
                       "This terminal has been revoked; enrol it again.");
    return true;
}

bool be_device_verify(struct be_request *req)
{
    const char *sig = be_request_header(req, CF_REQUEST_HDR_SIGNATURE);
    char path[CF_REQUEST_PATH_MAX + 1];
    long long t = 0;
    bool verified = sig && signed_time(req, &t) && signed_path(req, path, sizeof path) &&
                    cf_request_verify(req->device_key, req->who.device, req->method, path,
                                      req->body, req->body ? req->body_len : 0, t, sig) == 0;
    if (!verified)
        return refused(req, 401, "device-unauthenticated", "Signature does not verify",
                       "The request is not signed by the key enrolled for this device.");
    req->who.role = BE_DEVICE;
    if (be_db_set_scope(req->db, req->who.provider, "", "")) {
        be_reply_db_error(req, req->db, "authorisation scope");
        return false;
    }
    return true;
}
