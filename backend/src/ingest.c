/* POST /api/v1/devices/{id}/events: signed batch ingest.
 *
 * One transaction per batch: lock the device row, split the batch into the part the
 * server already holds (it must be identical: same digests) and the new part (it must
 * continue the stored chain), verify the seal, insert the new events with one
 * statement, rebuild the visits they touch, move the device's (last seq, last digest),
 * COMMIT -- and only then answer with the highest seq held. A replayed batch changes
 * nothing and gets the same answer; a different event under a held seq is tampering. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be/db.h"
#include "be/log.h"
#include "be/metrics.h"
#include "be/server.h"
#include "cf/batch.h"
#include "cf/codec.h"
#include "cf/uuid.h"

struct device_row {
    char worker_id[CF_UUID_TEXT_LEN + 1];
    char provider_id[CF_UUID_TEXT_LEN + 1];
    uint8_t public_key[32];
    uint8_t last_digest[CF_DIGEST_LEN];
    uint64_t last_seq;
    bool revoked;
};

/* An answer decided inside the transaction: sent after ROLLBACK / COMMIT. */
struct verdict {
    int status; /* 0: acknowledge */
    const char *type, *title;
    char field[64];
    char detail[300];
    long long expected_seq; /* > 0: added to the problem */
};

static void refuse(struct verdict *v, int status, const char *type, const char *title,
                   const char *field, const char *detail)
{
    v->status = status;
    v->type = type;
    v->title = title;
    snprintf(v->field, sizeof v->field, "%s", field ? field : "");
    snprintf(v->detail, sizeof v->detail, "%s", detail);
}

static int load_device(PGconn *db, const char *device_id, struct device_row *row, bool *found)
{
    const char *params[1] = {device_id};
    PGresult *res = PQexecParams(
        db,
        "SELECT d.worker_id, w.provider_id, encode(d.public_key, 'hex'), d.status = 'revoked', "
        "d.last_seq, encode(d.last_digest, 'hex') FROM devices d JOIN workers w ON w.id = "
        "d.worker_id WHERE d.id = $1::uuid FOR UPDATE OF d",
        1, NULL, params, NULL, NULL, 0);
    int rc = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : -1;
    *found = !rc && PQntuples(res) == 1;
    if (*found) {
        snprintf(row->worker_id, sizeof row->worker_id, "%s", PQgetvalue(res, 0, 0));
        snprintf(row->provider_id, sizeof row->provider_id, "%s", PQgetvalue(res, 0, 1));
        cf_hex_decode(PQgetvalue(res, 0, 2), 64, row->public_key, 32, NULL);
        row->revoked = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
        row->last_seq = strtoull(PQgetvalue(res, 0, 4), NULL, 10);
        cf_hex_decode(PQgetvalue(res, 0, 5), 64, row->last_digest, 32, NULL);
    }
    PQclear(res);
    return rc;
}

/* The events of the batch the server already holds must be the very same ones. */
static int check_held(PGconn *db, const char *device_id, const struct cf_batch *batch,
                      uint64_t held_last, struct verdict *v)
{
    char first[24], last[24];
    uint64_t upto = batch->seal.last_seq < held_last ? batch->seal.last_seq : held_last;
    snprintf(first, sizeof first, "%llu", (unsigned long long)batch->events[0].seq);
    snprintf(last, sizeof last, "%llu", (unsigned long long)upto);
    const char *params[3] = {device_id, first, last};
    PGresult *res =
        PQexecParams(db,
                     "SELECT seq, encode(digest, 'hex') FROM events WHERE device_id "
                     "= $1::uuid AND seq BETWEEN $2::bigint AND $3::bigint ORDER BY seq",
                     3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        uint64_t seq = strtoull(PQgetvalue(res, i, 0), NULL, 10);
        size_t k = (size_t)(seq - batch->events[0].seq);
        char hex[65];
        cf_hex_encode(batch->digests[k], CF_DIGEST_LEN, hex, sizeof hex);
        if (strcmp(hex, PQgetvalue(res, i, 1)) != 0) {
            char detail[200];
            snprintf(detail, sizeof detail,
                     "The server already holds a different event under seq %llu; events are "
                     "never rewritten. This is logged for review.",
                     (unsigned long long)seq);
            refuse(v, 409, "tampering", "An event differs from the one already held", "events",
                   detail);
            break;
        }
    }
    PQclear(res);
    return 0;
}

/* Every new event must be by the device's worker and about the provider's recipients. */
static int check_people(PGconn *db, const struct cf_batch *batch, size_t from,
                        const struct device_row *dev, struct verdict *v)
{
    char *ids = malloc(batch->count * (CF_UUID_TEXT_LEN + 1) + 3);
    if (!ids)
        return -1;
    size_t o = 0;
    ids[o++] = '{';
    for (size_t i = from; i < batch->count; i++) {
        const struct cf_event *ev = &batch->events[i];
        char text[CF_UUID_TEXT_LEN + 1];
        cf_uuid_to_text(ev->worker_id, text);
        if (strcmp(text, dev->worker_id) != 0) {
            char field[48];
            snprintf(field, sizeof field, "events[%zu].worker_id", i);
            refuse(v, 422, "validation", "A field is not valid", field,
                   "worker_id must be the worker this device is enrolled for");
            free(ids);
            return 0;
        }
        if (!cf_uuid_is_nil(ev->recipient_id)) {
            cf_uuid_to_text(ev->recipient_id, text);
            o += (size_t)snprintf(ids + o, CF_UUID_TEXT_LEN + 3, "%s%s", o > 1 ? "," : "", text);
        }
    }
    ids[o++] = '}';
    ids[o] = '\0';
    const char *params[2] = {ids, dev->provider_id};
    PGresult *res = PQexecParams(db,
                                 "SELECT x::text FROM unnest($1::uuid[]) x WHERE NOT EXISTS "
                                 "(SELECT 1 FROM recipients r WHERE r.id = x AND r.provider_id = "
                                 "$2::uuid AND r.deleted_at IS NULL) LIMIT 1",
                                 2, NULL, params, NULL, NULL, 0);
    free(ids);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return -1;
    }
    if (PQntuples(res) == 1) {
        char detail[200];
        snprintf(detail, sizeof detail,
                 "recipient %s is not a recipient of this device's provider; refresh the "
                 "device's reference data",
                 PQgetvalue(res, 0, 0));
        refuse(v, 422, "validation", "A field is not valid", "recipient_id", detail);
    }
    PQclear(res);
    return 0;
}

static char *events_json(const struct cf_batch *batch, size_t from)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = from; arr && i < batch->count; i++) {
        cJSON *ev = cf_event_to_json(&batch->events[i]);
        if (!ev || !cJSON_AddItemToArray(arr, ev)) {
            cJSON_Delete(ev);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    char *text = arr ? cJSON_PrintUnformatted(arr) : NULL;
    cJSON_Delete(arr);
    return text;
}

static const char insert_sql[] =
    "WITH ev AS (SELECT e FROM jsonb_array_elements($2::jsonb) e), "
    "ins AS (INSERT INTO events (device_id, seq, digest, kind, visit_id, worker_id, recipient_id, "
    "  wall_time, mono_ms, boot_id, payload) "
    "  SELECT $1::uuid, (e->>'seq')::bigint, decode(e->>'digest', 'hex'), e->>'kind', "
    "  (e->>'visit_id')::uuid, (e->>'worker_id')::uuid, (e->>'recipient_id')::uuid, "
    "  to_timestamp((e->>'wall_ms')::bigint / 1000.0), (e->>'mono_ms')::bigint, "
    "  (e->>'boot_id')::uuid, e FROM ev RETURNING seq), "
    "att AS (INSERT INTO door_attempts (device_id, seq, worker_id, recipient_id, reason, at) "
    "  SELECT $1::uuid, (e->>'seq')::bigint, (e->>'worker_id')::uuid, "
    "  (e->>'recipient_id')::uuid, e->>'reason', to_timestamp((e->>'wall_ms')::bigint / 1000.0) "
    "  FROM ev WHERE e->>'kind' = 'visit.attempt' AND EXISTS (SELECT 1 FROM ins)) "
    "SELECT count(*) FROM ins";

static const char rebuild_sql[] =
    "SELECT count(rebuild_visit(v)) FROM (SELECT DISTINCT (e->>'visit_id')::uuid v "
    "FROM jsonb_array_elements($1::jsonb) e WHERE e ? 'visit_id') s";

/* Store events[from..] and rebuild their visits; then move the device's chain head. */
static int store_new(PGconn *db, const char *device_id, const struct cf_batch *batch, size_t from)
{
    char *json = events_json(batch, from);
    char seq[24], digest[65];
    if (!json) {
        be_log_str("error", "cannot encode events", "device", device_id);
        return -1;
    }
    const char *p1[2] = {device_id, json};
    PGresult *res = PQexecParams(db, insert_sql, 2, NULL, p1, NULL, NULL, 0);
    int rc = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : -1;
    PQclear(res);
    if (!rc) {
        const char *p2[1] = {json};
        res = PQexecParams(db, rebuild_sql, 1, NULL, p2, NULL, NULL, 0);
        rc = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : -1;
        PQclear(res);
    }
    free(json);
    if (rc)
        return rc;
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)batch->seal.last_seq);
    cf_hex_encode(batch->seal.last_digest, CF_DIGEST_LEN, digest, sizeof digest);
    const char *p3[3] = {device_id, seq, digest};
    res = PQexecParams(db,
                       "UPDATE devices SET last_seq = $2::bigint, last_digest = decode($3, 'hex') "
                       "WHERE id = $1::uuid",
                       3, NULL, p3, NULL, NULL, 0);
    rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
    PQclear(res);
    return rc;
}

/* Everything between BEGIN and COMMIT/ROLLBACK. Returns -1 on a database error;
 * otherwise 0 with *v saying what to answer and *acked the highest seq held. */
static int ingest_tx(PGconn *db, const char *device_id, const struct cf_batch *batch,
                     struct verdict *v, uint64_t *acked, size_t *stored)
{
    struct device_row dev;
    bool found = false;
    if (load_device(db, device_id, &dev, &found))
        return -1;
    if (!found) {
        refuse(v, 404, "unknown-device", "Unknown device", NULL,
               "No device is enrolled under this id; enrol the terminal again.");
        return 0;
    }
    if (dev.revoked) {
        refuse(v, 403, "revoked-device", "Device revoked", NULL,
               "This device was revoked by a manager; its uploads are refused.");
        return 0;
    }
    if (cf_seal_verify(dev.public_key, batch)) {
        refuse(v, 422, "bad-seal", "The batch seal does not verify", "seal.signature",
               "The signature does not match this device's key and the batch's last event.");
        return 0;
    }
    uint64_t first = batch->events[0].seq;
    *acked = dev.last_seq;
    if (first > dev.last_seq + 1) {
        char detail[160];
        snprintf(
            detail, sizeof detail,
            "The batch starts at seq %llu but the server holds up to %llu; send from seq %llu.",
            (unsigned long long)first, (unsigned long long)dev.last_seq,
            (unsigned long long)(dev.last_seq + 1));
        refuse(v, 409, "sequence-gap", "Events are missing before this batch", "events[0].seq",
               detail);
        v->expected_seq = (long long)(dev.last_seq + 1);
        return 0;
    }
    if (first <= dev.last_seq && check_held(db, device_id, batch, dev.last_seq, v))
        return -1;
    if (v->status || batch->seal.last_seq <= dev.last_seq)
        return 0; /* refused, or a pure replay: nothing to store */
    size_t from = (size_t)(dev.last_seq + 1 - first);
    if (from == 0 && memcmp(batch->events[0].prev_digest, dev.last_digest, CF_DIGEST_LEN) != 0) {
        refuse(v, 409, "tampering", "The batch does not continue the device's chain",
               "events[0].prev",
               "prev is not the digest of the last event the server holds from this device.");
        return 0;
    }
    if (check_people(db, batch, from, &dev, v))
        return -1;
    if (v->status)
        return 0;
    if (store_new(db, device_id, batch, from))
        return -1;
    *acked = batch->seal.last_seq;
    *stored = batch->count - from;
    return 0;
}

static void reply_verdict(struct be_request *req, const struct verdict *v)
{
    cJSON *extra = NULL;
    if (v->expected_seq > 0 && (extra = cJSON_CreateObject()))
        cJSON_AddNumberToObject(extra, "expected_seq", (double)v->expected_seq);
    if (strcmp(v->type, "tampering") == 0)
        be_log_str("warn", "tampering refused", "detail", v->detail);
    be_reply_problem(req, v->status, v->type, v->title, v->detail, v->field, extra);
}

void be_handle_upload(struct be_request *req)
{
    struct cf_batch batch;
    struct cf_error_detail detail = {0};
    uint8_t path_id[CF_UUID_LEN];
    char device_id[CF_UUID_TEXT_LEN + 1], epoch[37];
    if (cf_uuid_from_text(req->param, path_id)) {
        be_reply_problem(req, 404, "unknown-device", "Unknown device",
                         "The path must name a device by its UUID.", NULL, NULL);
        return;
    }
    if (cf_batch_from_json(req->body ? req->body : "", req->body_len, &batch, &detail)) {
        be_reply_invalid(req, &detail);
        return;
    }
    if (memcmp(batch.device_id, path_id, CF_UUID_LEN) != 0) {
        cf_batch_cleanup(&batch);
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "device_id in the body must be the device named in the path", "device_id",
                         NULL);
        return;
    }
    cf_uuid_to_text(path_id, device_id);
    struct verdict v = {0};
    uint64_t acked = 0;
    size_t stored = 0;
    PGconn *db = req->db;
    int rc = be_db_exec(db, "BEGIN");
    if (!rc)
        rc = ingest_tx(db, device_id, &batch, &v, &acked, &stored);
    if (!rc && stored)
        rc = be_db_exec(db, "COMMIT");
    cf_batch_cleanup(&batch);
    if (rc) {
        /* Report before ROLLBACK, which would clear the server's error message. */
        be_reply_db_error(req, db, "ingest");
        be_db_exec(db, "ROLLBACK");
        return;
    }
    if (!stored)
        be_db_exec(db, "ROLLBACK"); /* refused or pure replay: nothing to keep */
    /* NOTE: the acknowledgement is built only after COMMIT returned. */
    if (be_db_epoch(db, epoch)) {
        be_reply_db_error(req, db, "ingest: epoch");
        return;
    }
    if (v.status) {
        reply_verdict(req, &v);
        return;
    }
    be_metrics_events(stored);
    cJSON *body = cJSON_CreateObject();
    if (body) {
        cJSON_AddNumberToObject(body, "acked_seq", (double)acked);
        cJSON_AddStringToObject(body, "epoch", epoch);
        cJSON_AddNumberToObject(body, "server_time_ms", (double)cf_time_now_ms());
        cJSON_AddNumberToObject(body, "stored", (double)stored);
    }
    be_reply_json(req, 200, body);
}
