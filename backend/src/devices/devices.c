/* Terminals (see be/devices.h): enrolment with one-time codes (short enough to type on a
 * terminal, stored only as SHA-256, usable once, and expire); the list of a provider's
 * terminals with their last sync; revoking one; deactivating a worker, which revokes all
 * of theirs. Each change made by a person is audited in its transaction. */
#include "be/devices.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "be/audit.h"
#include "be/auth.h"
#include "be/db.h"
#include "be/reply.h"
#include "cf/codec.h"
#include "cf/json.h"
#include "cf/uuid.h"
#include "sql/devices_sql.h"

/* No 0/O, 1/I: a worker reads the code off a screen or a paper. */
#define ENROLL_BODY_MAX 4096

static const char code_alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

static int code_hash_hex(const char *code, char out[65])
{
    uint8_t digest[32];
    unsigned int n = 0;
    if (EVP_Digest(code, strlen(code), digest, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return -1;
    return cf_hex_encode(digest, 32, out, 65) ? -1 : 0;
}

int be_enroll_code_issue(const char *conninfo, const char *worker_id, int ttl_minutes, char *code,
                         char *error, size_t error_size)
{
    uint8_t random[BE_ENROLL_CODE_LEN], id[CF_UUID_LEN];
    char hash[65], ttl[16];
    int rc = -1;
    if (cf_uuid_from_text(worker_id, id)) {
        snprintf(error, error_size, "--worker must be a worker's UUID, got '%.40s'", worker_id);
        return -1;
    }
    if (ttl_minutes < 1 || ttl_minutes > 10080) {
        snprintf(error, error_size, "--ttl-minutes must be between 1 and 10080 (a week)");
        return -1;
    }
    if (RAND_bytes(random, sizeof random) != 1)
        return -1;
    for (size_t i = 0; i < BE_ENROLL_CODE_LEN; i++)
        code[i] = code_alphabet[random[i] % 32];
    code[BE_ENROLL_CODE_LEN] = '\0';
    snprintf(ttl, sizeof ttl, "%d", ttl_minutes);
    if (code_hash_hex(code, hash))
        return -1;
    PGconn *db = PQconnectdb(conninfo);
    if (PQstatus(db) != CONNECTION_OK) {
        snprintf(error, error_size, "cannot connect to the database: %s", PQerrorMessage(db));
        goto out;
    }
    const char *params[3] = {hash, worker_id, ttl};
    PGresult *res = PQexecParams(db, sql_code_issue, 3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        snprintf(error, error_size, "database error: %s", PQerrorMessage(db));
    else if (strcmp(PQcmdTuples(res), "1") != 0)
        snprintf(error, error_size, "no active worker with id %s", worker_id);
    else
        rc = 0;
    PQclear(res);
out:
    PQfinish(db);
    return rc;
}

/* ==== POST /api/v1/devices ==== */

static void reply_code_problem(struct be_request *req, const char *detail)
{
    be_reply_problem(req, 403, "enrollment-code", "The enrolment code is not valid", detail, "code",
                     NULL);
}

struct enrolment {
    char hash[65]; /* SHA-256 of the code */
    char device_id[CF_UUID_TEXT_LEN + 1];
    char key_hex[65];
    const char *refusal; /* why the code is refused, NULL when used */
    cJSON *reply; /* the answer, filled inside the transaction */
};

/* Claim the code (locked) and store the device. */
static int enrol_tx(struct be_request *req, void *ctx)
{
    struct enrolment *e = ctx;
    const char *p1[1] = {e->hash};
    PGresult *res = PQexecParams(req->db, sql_code_claim, 1, NULL, p1, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK)) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    if (PQntuples(res) != 1)
        e->refusal = "No such enrolment code: check it, or ask your manager for a new one.";
    else if (strcmp(PQgetvalue(res, 0, 3), "t") == 0)
        e->refusal = "This enrolment code was already used; ask your manager for a new one.";
    else if (strcmp(PQgetvalue(res, 0, 4), "t") == 0)
        e->refusal = "This enrolment code has expired (or its worker was deactivated); ask your "
                     "manager for a new one.";
    if (e->refusal) {
        PQclear(res);
        return BE_TX_ROLLBACK;
    }
    e->reply = cJSON_CreateObject();
    if (e->reply) {
        cJSON_AddStringToObject(e->reply, "device_id", e->device_id);
        cJSON_AddStringToObject(e->reply, "worker_id", PQgetvalue(res, 0, 0));
        cJSON_AddStringToObject(e->reply, "provider_id", PQgetvalue(res, 0, 1));
        cJSON_AddStringToObject(e->reply, "token_key_hex", PQgetvalue(res, 0, 2));
    }
    const char *p2[4] = {e->device_id, PQgetvalue(res, 0, 0), e->key_hex, e->hash};
    PGresult *ins = PQexecParams(req->db, sql_device_insert, 4, NULL, p2, NULL, NULL, 0);
    bool ok = be_db_check(req, ins, PGRES_COMMAND_OK);
    PQclear(ins);
    PQclear(res);
    return ok ? BE_TX_COMMIT : BE_TX_FAILED;
}

static void enroll(struct be_request *req, const char *code, const char *key_text)
{
    struct enrolment e = {0};
    uint8_t key[32], id[CF_UUID_LEN];
    size_t key_len = 0;
    if (cf_base64url_decode(key_text, strlen(key_text), key, sizeof key, &key_len) ||
        key_len != 32) {
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "public_key must be the device's Ed25519 public key: 43 base64url "
                         "characters (32 bytes)",
                         "public_key", NULL);
        return;
    }
    /* The server's own failure (hashing, random numbers), not the database's. */
    if (code_hash_hex(code, e.hash) || cf_uuid_v4(id)) {
        be_reply_server_fault(req, "enroll: crypto");
        return;
    }
    cf_uuid_to_text(id, e.device_id);
    cf_hex_encode(key, 32, e.key_hex, sizeof e.key_hex);
    int rc = be_db_transaction(req, NULL, "enroll", enrol_tx, &e);
    if (rc == BE_TX_ROLLBACK) {
        reply_code_problem(req, e.refusal);
    } else if (rc == BE_TX_COMMIT) { /* NOTE: the answer is sent only after COMMIT returned */
        if (e.reply)
            cJSON_AddStringToObject(e.reply, "epoch", be_db_epoch(req->db));
        be_reply_json(req, 201, e.reply);
        return;
    }
    cJSON_Delete(e.reply);
}

static void handle_enroll(struct be_request *req)
{
    static const char *const allowed[] = {"code", "public_key", NULL};
    struct cf_error_detail detail = {0};
    char code[BE_ENROLL_CODE_LEN + 1], key[64];
    cJSON *root = NULL;
    int rc =
        cf_json_parse(req->body ? req->body : "", req->body_len, ENROLL_BODY_MAX, &root, &detail);
    if (!rc)
        rc = cf_json_check_fields(root, allowed, "", &detail);
    if (!rc)
        rc = cf_json_get_string(root, "code", "", true, BE_ENROLL_CODE_LEN, code, sizeof code,
                                &detail);
    if (!rc)
        rc = cf_json_get_string(root, "public_key", "", true, 43, key, sizeof key, &detail);
    cJSON_Delete(root);
    if (rc) {
        be_reply_invalid(req, &detail);
        return;
    }
    enroll(req, code, key);
}

/* ==== The terminals of a provider: list, revoke, deactivate a worker ==== */

#define REASON_BODY_MAX 4096
#define REASON_MAX_CHARS 500

static void handle_device_list(struct be_request *req)
{
    const char *params[1] = {be_auth_provider_scope(req)};
    PGresult *res = PQexecParams(req->db, sql_device_list, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        be_reply_db_error(req, req->db, "device list");
    } else {
        cJSON *body = cJSON_CreateObject();
        cJSON *list = cJSON_Parse(PQgetvalue(res, 0, 0));
        if (body && list)
            cJSON_AddItemToObject(body, "devices", list);
        else
            cJSON_Delete(list);
        be_reply_json(req, 200, body);
    }
    PQclear(res);
}

/* A person's change to a terminal or a worker: the record, why, and what came of it. */
struct deactivation {
    const char *id; /* the device or worker (borrowed from the path) */
    char reason[REASON_MAX_CHARS * 4 + 1];
    int outcome; /* 404, 403 or 0 (done) */
    bool already; /* the device was revoked / the worker inactive before */
    long devices; /* a worker's: terminals revoked */
};

/* {"reason": "..."} (required, a person's text). Answers 422 itself. */
static bool read_reason(struct be_request *req, struct deactivation *x)
{
    static const char *const allowed[] = {"reason", NULL};
    struct cf_error_detail d = {0};
    cJSON *body = NULL;
    int rc = cf_json_parse(req->body ? req->body : "", req->body_len, REASON_BODY_MAX, &body, &d);
    if (!rc)
        rc = cf_json_check_fields(body, allowed, "", &d);
    if (!rc)
        rc = cf_json_get_text(body, "reason", "", true, REASON_MAX_CHARS, "say why", x->reason,
                              sizeof x->reason, &d);
    cJSON_Delete(body);
    if (rc)
        be_reply_invalid(req, &d);
    return !rc;
}

/* Find the record under every provider (find: its provider in column 0, a flag in 1),
 * then: unknown 404, another provider's for a manager 403 (the route says so: a manager
 * is told the terminal is not theirs), else the scope narrowed back to the caller's.
 * Returns BE_TX_COMMIT to go on, BE_TX_ROLLBACK (x->outcome) or BE_TX_FAILED. */
static int find_in_scope(struct be_request *req, const char *find, struct deactivation *x,
                         const char *flag_true)
{
    const char *scope = be_auth_provider_scope(req);
    if (be_db_set_scope(req->db, "*", "", ""))
        return BE_TX_FAILED;
    const char *params[1] = {x->id};
    PGresult *res = PQexecParams(req->db, find, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK)) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    if (PQntuples(res) != 1)
        x->outcome = 404;
    else if (scope[0] && strcmp(scope, PQgetvalue(res, 0, 0)) != 0)
        x->outcome = 403;
    else
        x->already = strcmp(PQgetvalue(res, 0, 1), flag_true) != 0;
    PQclear(res);
    if (x->outcome)
        return BE_TX_ROLLBACK;
    return be_db_set_scope(req->db, scope[0] ? scope : "*", "", "") ? BE_TX_FAILED : BE_TX_COMMIT;
}

static int revoke_tx(struct be_request *req, void *ctx)
{
    struct deactivation *x = ctx;
    int rc = find_in_scope(req, sql_device_find, x, "active");
    if (rc != BE_TX_COMMIT || x->already)
        return rc == BE_TX_COMMIT ? BE_TX_ROLLBACK : rc;
    const char *params[1] = {x->id};
    PGresult *res = PQexecParams(req->db, sql_device_revoke, 1, NULL, params, NULL, NULL, 0);
    bool ok = be_db_check(req, res, PGRES_COMMAND_OK);
    PQclear(res);
    char subject[64];
    snprintf(subject, sizeof subject, "device:%s", x->id);
    return ok && !be_audit(req, "device.revoke", subject, x->reason, NULL) ? BE_TX_COMMIT
                                                                           : BE_TX_FAILED;
}

static int deactivate_tx(struct be_request *req, void *ctx)
{
    struct deactivation *x = ctx;
    int rc = find_in_scope(req, sql_worker_find, x, "t");
    if (rc != BE_TX_COMMIT || x->already)
        return rc == BE_TX_COMMIT ? BE_TX_ROLLBACK : rc;
    const char *params[1] = {x->id};
    PGresult *res = PQexecParams(req->db, sql_worker_deactivate, 1, NULL, params, NULL, NULL, 0);
    bool ok = be_db_check(req, res, PGRES_TUPLES_OK) && PQntuples(res) == 1;
    if (ok)
        x->devices = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    char subject[64], details[64];
    snprintf(subject, sizeof subject, "worker:%s", x->id);
    snprintf(details, sizeof details, "{\"devices_revoked\": %ld}", x->devices);
    return ok && !be_audit(req, "worker.deactivate", subject, x->reason, details) ? BE_TX_COMMIT
                                                                                  : BE_TX_FAILED;
}

/* Run tx on {id}, answer 404/403/200 (an already revoked device or inactive worker is
 * answered 200 as it stands: the request's aim holds; nothing is audited again). */
static void deactivate(struct be_request *req, const char *what,
                       int (*tx)(struct be_request *, void *))
{
    struct deactivation x = {.id = be_param(req, "id")};
    uint8_t id[CF_UUID_LEN];
    if (cf_uuid_from_text(x.id, id)) {
        x.outcome = 404;
    } else {
        if (!read_reason(req, &x))
            return;
        int rc = be_db_transaction(req, NULL, what, tx, &x);
        if (rc == BE_TX_FAILED)
            return;
    }
    bool device = tx == revoke_tx;
    if (x.outcome == 404) {
        be_reply_problem(req, 404, "not-found", device ? "No such device" : "No such worker",
                         device ? "No terminal has this id." : "No worker has this id.", NULL,
                         NULL);
        return;
    }
    if (x.outcome == 403) {
        be_reply_problem(req, 403, "forbidden", "Not your provider's",
                         device ? "This terminal belongs to another provider's worker."
                                : "This worker belongs to another provider.",
                         NULL, NULL);
        return;
    }
    cJSON *body = cJSON_CreateObject();
    if (body && device) {
        cJSON_AddStringToObject(body, "id", x.id);
        cJSON_AddStringToObject(body, "status", "revoked");
    } else if (body) {
        cJSON_AddStringToObject(body, "id", x.id);
        cJSON_AddBoolToObject(body, "active", false);
        cJSON_AddNumberToObject(body, "devices_revoked", (double)x.devices);
    }
    be_reply_json(req, 200, body);
}

static void handle_device_revoke(struct be_request *req)
{
    deactivate(req, "device revoke", revoke_tx);
}

static void handle_worker_deactivate(struct be_request *req)
{
    deactivate(req, "worker deactivate", deactivate_tx);
}

static const struct be_route routes[] = {
    {"POST", "/api/v1/devices", handle_enroll, true, BE_PUBLIC, ENROLL_BODY_MAX},
    {"GET", "/api/v1/devices", handle_device_list, true, BE_OVERSIGHT | BE_MANAGER, BE_BODY_NONE},
    {"POST", "/api/v1/devices/{id}/revoke", handle_device_revoke, true, BE_ADMIN | BE_MANAGER,
     REASON_BODY_MAX},
    {"POST", "/api/v1/workers/{id}/deactivate", handle_worker_deactivate, true,
     BE_ADMIN | BE_MANAGER, REASON_BODY_MAX},
};
const struct be_module be_devices_module = BE_MODULE("devices", routes);
