/* Device enrolment (see be/devices.h): codes are short enough to type on a
 * terminal, stored only as SHA-256, usable once, and expire. */
#include "be/devices.h"

#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

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
        e->refusal = "This enrolment code has expired; ask your manager for a new one.";
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

static const struct be_route routes[] = {
    {"POST", "/api/v1/devices", handle_enroll, true, BE_PUBLIC, ENROLL_BODY_MAX},
};
const struct be_module be_devices_module = BE_MODULE("devices", routes);
