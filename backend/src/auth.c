/* Authentication of people and the one authorisation check of every route (see
 * be/auth.h): scrypt passwords, session cookies stored as SHA-256, the CSRF header,
 * login back-off, the per-request row-level-security scope, and the audit log. */
#include "be/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "be/log.h"
#include "be/query.h"
#include "be/server.h"
#include "cf/batch.h"
#include "cf/codec.h"
#include "cf/uuid.h"
#include "be/db.h"
#include "cf/json.h"

#define SCRYPT_N 16384u
#define SCRYPT_R 8u
#define SCRYPT_P 1u
#define SALT_LEN 16
#define KEY_LEN 32
#define TOKEN_LEN 32
#define LOCK_AFTER 3 /* failures before each further one locks the login for a while */
#define LOCK_MAX_S 900 /* longest lock: 15 minutes */
/* How far a device's signed time may be from the server's. Wide, because terminals'
 * clocks drift by hours (the agent measures and reports the skew); the signature
 * proves who asks, and replaying a captured request within the window (over TLS)
 * repeats an idempotent upload or a read. */
#define BE_DEVICE_CLOCK_WINDOW_MS (12LL * 3600 * 1000)

/* ==== Passwords ==== */

static int scrypt_key(const char *password, const uint8_t *salt, unsigned long n, unsigned long r,
                      unsigned long p, uint8_t key[KEY_LEN])
{
    if (n > (1u << 20) || r > 32 || p > 4)
        return CF_EINVAL;
    return EVP_PBE_scrypt(password, strlen(password), salt, SALT_LEN, n, r, p, 64u << 20, key,
                          KEY_LEN) == 1
               ? 0
               : CF_ECRYPTO;
}

int be_password_hash(const char *password, char *out, size_t out_size)
{
    uint8_t salt[SALT_LEN], key[KEY_LEN];
    char salt_hex[2 * SALT_LEN + 1], key_hex[2 * KEY_LEN + 1];
    if (RAND_bytes(salt, sizeof salt) != 1 ||
        scrypt_key(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, key))
        return CF_ECRYPTO;
    cf_hex_encode(salt, sizeof salt, salt_hex, sizeof salt_hex);
    cf_hex_encode(key, sizeof key, key_hex, sizeof key_hex);
    OPENSSL_cleanse(key, sizeof key);
    int n = snprintf(out, out_size, "scrypt$%u$%u$%u$%s$%s", SCRYPT_N, SCRYPT_R, SCRYPT_P, salt_hex,
                     key_hex);
    return n > 0 && (size_t)n < out_size ? 0 : CF_ENOSPACE;
}

static bool read_ulong(const char **p, unsigned long *out)
{
    char *end = NULL;
    unsigned long v = strtoul(*p, &end, 10);
    if (end == *p || *end != '$')
        return false;
    *out = v;
    *p = end + 1;
    return true;
}

bool be_password_verify(const char *password, const char *stored)
{
    unsigned long n, r, p;
    uint8_t salt[SALT_LEN], want[KEY_LEN], got[KEY_LEN];
    size_t len;
    const char *s = stored;
    if (strncmp(s, "scrypt$", 7) != 0)
        return false;
    s += 7;
    if (!read_ulong(&s, &n) || !read_ulong(&s, &r) || !read_ulong(&s, &p) ||
        strlen(s) != 2 * SALT_LEN + 1 + 2 * KEY_LEN || s[2 * SALT_LEN] != '$' ||
        cf_hex_decode(s, 2 * SALT_LEN, salt, sizeof salt, &len) ||
        cf_hex_decode(s + 2 * SALT_LEN + 1, 2 * KEY_LEN, want, sizeof want, &len) ||
        scrypt_key(password, salt, n, r, p, got))
        return false;
    bool same = CRYPTO_memcmp(want, got, KEY_LEN) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return same;
}

/* ==== Sessions ==== */

static void sha256_hex(const char *text, char out[2 * SHA256_DIGEST_LENGTH + 1])
{
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)text, strlen(text), digest);
    cf_hex_encode(digest, sizeof digest, out, 2 * SHA256_DIGEST_LENGTH + 1);
}

/* The value of our cookie in the Cookie header, copied into out; false when absent
 * or malformed (the token is base64url of TOKEN_LEN bytes). */
static bool session_cookie(const struct be_request *req, char *out, size_t out_size)
{
    const char *header = be_request_header(req, "Cookie");
    const size_t name_len = sizeof BE_SESSION_COOKIE - 1;
    for (const char *c = header; c && *c;) {
        while (*c == ' ' || *c == ';')
            c++;
        size_t len = strcspn(c, ";");
        if (len > name_len && strncmp(c, BE_SESSION_COOKIE "=", name_len + 1) == 0) {
            size_t vlen = len - name_len - 1;
            if (vlen != cf_base64url_len(TOKEN_LEN) || vlen >= out_size)
                return false;
            memcpy(out, c + name_len + 1, vlen);
            out[vlen] = '\0';
            return strspn(out,
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
                   vlen;
        }
        c += len;
    }
    return false;
}

static unsigned role_bit(const char *role)
{
    if (strcmp(role, "admin") == 0)
        return BE_ADMIN;
    if (strcmp(role, "authority") == 0)
        return BE_AUTHORITY;
    if (strcmp(role, "manager") == 0)
        return BE_MANAGER;
    if (strcmp(role, "worker") == 0)
        return BE_WORKER;
    return 0;
}

static const char *role_name(unsigned role)
{
    switch (role) {
    case BE_ADMIN:
        return "admin";
    case BE_AUTHORITY:
        return "authority";
    case BE_MANAGER:
        return "manager";
    case BE_WORKER:
        return "worker";
    case BE_DEVICE:
        return "device";
    default:
        return "anonymous";
    }
}

static void copy_field(char *dst, size_t size, PGresult *res, int col)
{
    snprintf(dst, size, "%s", PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col));
}

/* Set the row-level-security scope of this connection for this request. */
static int set_scope(struct be_request *req, const char *scope)
{
    const char *params[1] = {scope};
    PGresult *res = PQexecParams(req->db, "SELECT set_config('carefact.provider', $1, false)", 1,
                                 NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    return ok ? 0 : -1;
}

/* Look the session cookie up: 1 found (req->who filled), 0 none/expired, -1 db error. */
static int load_session(struct be_request *req)
{
    char token[64], hash[65];
    if (!session_cookie(req, token, sizeof token))
        return 0;
    sha256_hex(token, hash);
    const char *params[1] = {hash};
    PGresult *res = PQexecParams(
        req->db,
        "SELECT u.id, u.login, u.role, u.provider_id, u.worker_id, s.csrf FROM sessions s "
        "JOIN users u ON u.id = s.user_id WHERE s.token_hash = decode($1, 'hex') "
        "AND s.expires_at > now() AND u.disabled_at IS NULL",
        1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return -1;
    }
    int found = PQntuples(res) == 1;
    if (found) {
        struct be_principal *w = &req->who;
        copy_field(w->user_id, sizeof w->user_id, res, 0);
        copy_field(w->login, sizeof w->login, res, 1);
        w->role = role_bit(PQgetvalue(res, 0, 2));
        copy_field(w->provider, sizeof w->provider, res, 3);
        copy_field(w->worker, sizeof w->worker, res, 4);
        copy_field(w->csrf, sizeof w->csrf, res, 5);
    }
    PQclear(res);
    return found;
}

static bool state_changing(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* ==== Devices ==== */

static bool device_refused(struct be_request *req, int status, const char *type, const char *title,
                           const char *detail)
{
    be_reply_problem(req, status, type, title, detail, NULL, NULL);
    return false;
}

/* A device route: the request must be signed (cf_request_sign) by the active device
 * named in the path, within BE_DEVICE_CLOCK_WINDOW_MS of the server's clock. */
static bool device_authorise(struct be_request *req)
{
    const char *device = be_request_header(req, CF_REQUEST_HDR_DEVICE);
    const char *time_text = be_request_header(req, CF_REQUEST_HDR_TIME);
    const char *sig = be_request_header(req, CF_REQUEST_HDR_SIGNATURE);
    uint8_t id[CF_UUID_LEN], key[CF_ED25519_KEY_LEN];
    char id_text[CF_UUID_TEXT_LEN + 1], path[CF_REQUEST_PATH_MAX + 1];
    char *end = NULL;
    if (!device || !time_text || !sig || cf_uuid_from_text(device, id))
        return device_refused(req, 401, "device-unauthenticated", "Unsigned device request",
                              "Device routes need the headers " CF_REQUEST_HDR_DEVICE
                              ", " CF_REQUEST_HDR_TIME " and " CF_REQUEST_HDR_SIGNATURE ".");
    cf_uuid_to_text(id, id_text);
    long long t = strtoll(time_text, &end, 10);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long now_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (!end || *end || end == time_text || llabs(t - now_ms) > BE_DEVICE_CLOCK_WINDOW_MS)
        return device_refused(req, 401, "device-unauthenticated", "Request time out of range",
                              "The signed time is not a Unix time in milliseconds close to "
                              "the server's clock (see the Date header).");
    if (strcmp(id_text, req->param) != 0)
        return device_refused(req, 403, "device-mismatch", "Not this device's path",
                              "A device may use only its own /devices/{id}/ routes.");
    int n = snprintf(path, sizeof path, "%s%s%s", req->path, req->query ? "?" : "",
                     req->query ? req->query : "");
    if (n < 0 || (size_t)n >= sizeof path)
        return device_refused(req, 401, "device-unauthenticated", "Path too long",
                              "The signed path is longer than the server accepts.");
    /* The lookup itself may see every provider's devices; the handler then only its own. */
    if (set_scope(req, "*")) {
        be_reply_db_error(req, req->db, "authorisation scope");
        return false;
    }
    const char *params[1] = {id_text};
    PGresult *res = PQexecParams(req->db,
                                 "SELECT encode(d.public_key, 'hex'), d.status, w.provider_id, "
                                 "d.worker_id FROM devices d JOIN workers w ON w.id = "
                                 "d.worker_id WHERE d.id = $1::uuid",
                                 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        be_reply_db_error(req, req->db, "device lookup");
        return false;
    }
    size_t key_len = 0;
    bool known = PQntuples(res) == 1 &&
                 cf_hex_decode(PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)), key,
                               sizeof key, &key_len) == 0 &&
                 key_len == sizeof key;
    bool verified = known && cf_request_verify(key, id_text, req->method, path, req->body,
                                               req->body ? req->body_len : 0, t, sig) == 0;
    bool revoked = verified && strcmp(PQgetvalue(res, 0, 1), "active") != 0;
    bool unknown = PQntuples(res) == 0;
    if (verified) {
        req->who.role = BE_DEVICE;
        snprintf(req->who.device, sizeof req->who.device, "%s", id_text);
        copy_field(req->who.provider, sizeof req->who.provider, res, 2);
        copy_field(req->who.worker, sizeof req->who.worker, res, 3);
    }
    PQclear(res);
    if (unknown)
        return device_refused(req, 404, "unknown-device", "Unknown device",
                              "No device with this id is enrolled; enrol the terminal.");
    if (!verified)
        return device_refused(req, 401, "device-unauthenticated", "Signature does not verify",
                              "The request is not signed by the key enrolled for this device.");
    if (revoked)
        return device_refused(req, 403, "revoked-device", "Device revoked",
                              "This terminal has been revoked; enrol it again.");
    if (set_scope(req, req->who.provider)) {
        be_reply_db_error(req, req->db, "authorisation scope");
        return false;
    }
    return true;
}

bool be_auth_authorise(struct be_request *req, unsigned roles)
{
    memset(&req->who, 0, sizeof req->who);
    if (roles & BE_DEVICE)
        return device_authorise(req);
    if (roles & BE_PUBLIC) {
        /* Public routes carry their own proof (a one-time code, a password). */
        if (req->db && set_scope(req, "*")) {
            be_reply_db_error(req, req->db, "authorisation scope");
            return false;
        }
        return true;
    }
    /* The connection keeps the last request's scope: reading the session needs all. */
    int found = req->db && !set_scope(req, "*") ? load_session(req) : -1;
    if (found < 0) {
        be_reply_db_error(req, req->db, "session");
        return false;
    }
    if (!found) {
        be_reply_problem(req, 401, "unauthenticated", "Sign in first",
                         "This route needs a session: POST /api/v1/session with login and "
                         "password (an expired session must sign in again).",
                         NULL, NULL);
        return false;
    }
    if (!(roles & req->who.role)) {
        be_reply_problem(req, 403, "forbidden", "Not allowed for your role",
                         "Your account's role may not use this route.", NULL, NULL);
        return false;
    }
    const char *csrf = be_request_header(req, "X-CSRF-Token");
    if (state_changing(req->method) &&
        (!csrf || strlen(csrf) != strlen(req->who.csrf) ||
         CRYPTO_memcmp(csrf, req->who.csrf, strlen(req->who.csrf)) != 0)) {
        be_reply_problem(req, 403, "csrf", "Missing or wrong X-CSRF-Token",
                         "Every state-changing request must carry the csrf_token of the "
                         "session (from POST or GET /api/v1/session) in X-CSRF-Token.",
                         NULL, NULL);
        return false;
    }
    if (set_scope(req, req->who.role & BE_OVERSIGHT ? "*" : req->who.provider)) {
        be_reply_db_error(req, req->db, "authorisation scope");
        return false;
    }
    return true;
}

const char *be_auth_provider_scope(const struct be_request *req)
{
    return req->who.role & BE_OVERSIGHT ? "" : req->who.provider;
}

/* ==== Audit ==== */

int be_audit(struct be_request *req, const char *action, const char *subject, const char *reason,
             const char *details_json)
{
    char actor[160];
    snprintf(actor, sizeof actor, "%s:%s", role_name(req->who.role),
             req->who.login[0] ? req->who.login : req->who.device);
    const char *params[5] = {actor, action, subject, reason ? reason : "",
                             details_json ? details_json : "{}"};
    PGresult *res = be_db_run(req->db, BE_STMT_AUDIT, 5, params);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        be_log_str("error", "cannot write audit_log", "error", PQerrorMessage(req->db));
    PQclear(res);
    return ok ? 0 : -1;
}

/* ==== Routes ==== */

static cJSON *session_json(const struct be_principal *w, const char *expires_at)
{
    cJSON *body = cJSON_CreateObject();
    cJSON *user = body ? cJSON_AddObjectToObject(body, "user") : NULL;
    if (!user) {
        cJSON_Delete(body);
        return NULL;
    }
    cJSON_AddStringToObject(user, "id", w->user_id);
    cJSON_AddStringToObject(user, "login", w->login);
    cJSON_AddStringToObject(user, "role", role_name(w->role));
    if (w->provider[0])
        cJSON_AddStringToObject(user, "provider_id", w->provider);
    else
        cJSON_AddNullToObject(user, "provider_id");
    cJSON_AddStringToObject(body, "csrf_token", w->csrf);
    if (expires_at)
        cJSON_AddStringToObject(body, "expires_at", expires_at);
    return body;
}

static void login_failed(struct be_request *req)
{
    be_reply_problem(req, 401, "login-failed", "Wrong login or password",
                     "The login or the password is wrong, or the account is disabled.", NULL, NULL);
}

/* Record a failed attempt: from the LOCK_AFTER-th on, the login is locked for a
 * doubling time (1 s, 2 s, 4 s ... up to LOCK_MAX_S). */
static int note_failure(struct be_request *req, const char *user_id)
{
    char after[8], max[8];
    snprintf(after, sizeof after, "%d", LOCK_AFTER);
    snprintf(max, sizeof max, "%d", LOCK_MAX_S);
    const char *params[3] = {user_id, after, max};
    PGresult *res = PQexecParams(
        req->db,
        "UPDATE users SET failed_logins = failed_logins + 1, locked_until = CASE WHEN "
        "failed_logins + 1 >= $2::int THEN now() + least(power(2, least(failed_logins + 1 - "
        "$2::int, 20)), $3::int) * interval '1 second' ELSE locked_until END WHERE id = $1::uuid",
        3, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    return ok ? 0 : -1;
}

/* Make a session for the user in req->who: a random token (the cookie) whose
 * SHA-256 is stored, and a random CSRF token. Sets req->set_cookie to cookie. */
static int session_start(struct be_request *req, char *cookie, size_t cookie_size, char *expires_at,
                         size_t expires_size)
{
    uint8_t raw[TOKEN_LEN], csrf_raw[32];
    char token[64], hash[65], ttl[16];
    if (RAND_bytes(raw, sizeof raw) != 1 || RAND_bytes(csrf_raw, sizeof csrf_raw) != 1 ||
        cf_base64url_encode(raw, sizeof raw, token, sizeof token) ||
        cf_hex_encode(csrf_raw, sizeof csrf_raw, req->who.csrf, sizeof req->who.csrf))
        return -1;
    OPENSSL_cleanse(raw, sizeof raw);
    sha256_hex(token, hash);
    snprintf(ttl, sizeof ttl, "%d", BE_SESSION_TTL_S);
    const char *params[4] = {hash, req->who.user_id, req->who.csrf, ttl};
    PGresult *res = PQexecParams(
        req->db,
        "WITH s AS (INSERT INTO sessions (token_hash, user_id, csrf, expires_at) VALUES "
        "(decode($1, 'hex'), $2::uuid, $3, now() + $4::int * interval '1 second') "
        "RETURNING expires_at), u AS (UPDATE users SET failed_logins = 0, locked_until = NULL "
        "WHERE id = $2::uuid) SELECT to_char(expires_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM s",
        4, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    if (ok)
        snprintf(expires_at, expires_size, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!ok)
        return -1;
    snprintf(cookie, cookie_size,
             BE_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", token,
             BE_SESSION_TTL_S, be_request_is_tls(req) ? "; Secure" : "");
    OPENSSL_cleanse(token, sizeof token);
    req->set_cookie = cookie;
    return 0;
}

void be_handle_session_create(struct be_request *req)
{
    static const char *const allowed[] = {"login", "password", NULL};
    struct cf_error_detail d = {0};
    cJSON *body = NULL;
    PGresult *res = NULL;
    char login[BE_LOGIN_MAX + 1] = "", password[BE_PASSWORD_MAX + 1] = "";
    char cookie[256], expires_at[40];
    int rc = cf_json_parse(req->body ? req->body : "", req->body_len, 4096, &body, &d);
    if (!rc)
        rc = cf_json_check_fields(body, allowed, "", &d);
    if (!rc)
        rc = cf_json_get_string(body, "login", "", true, BE_LOGIN_MAX, login, sizeof login, &d);
    if (!rc)
        rc = cf_json_get_string(body, "password", "", true, BE_PASSWORD_MAX, password,
                                sizeof password, &d);
    if (rc) {
        be_reply_invalid(req, &d);
        goto out;
    }
    const char *params[1] = {login};
    res = PQexecParams(req->db,
                       "SELECT id, login, role, provider_id, worker_id, password_hash, "
                       "disabled_at IS NOT NULL, greatest(0, ceil(extract(epoch FROM "
                       "coalesce(locked_until, now()) - now())))::int FROM users "
                       "WHERE login = $1",
                       1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        be_reply_db_error(req, req->db, "login");
        goto out;
    }
    if (PQntuples(res) != 1) {
        /* The same work as a real check, so timing does not tell which logins exist. */
        be_password_verify(password, "scrypt$16384$8$1$00000000000000000000000000000000$"
                                     "000000000000000000000000000000000000000000000000000000000"
                                     "0000000");
        login_failed(req);
        goto out;
    }
    char *end = NULL;
    long wait_s = strtol(PQgetvalue(res, 0, 7), &end, 10);
    if (end && *end == '\0' && wait_s > 0) {
        /* Locked after repeated failures: the password is not even looked at. */
        char detail[200];
        snprintf(detail, sizeof detail,
                 "Too many wrong passwords for this login; try again in %ld s.", wait_s);
        cJSON *extra = cJSON_CreateObject();
        if (extra)
            cJSON_AddNumberToObject(extra, "retry_after_s", (double)wait_s);
        be_reply_problem(req, 429, "login-locked", "Login temporarily locked", detail, NULL, extra);
        goto out;
    }
    struct be_principal *w = &req->who;
    copy_field(w->user_id, sizeof w->user_id, res, 0);
    if (!be_password_verify(password, PQgetvalue(res, 0, 5)) ||
        strcmp(PQgetvalue(res, 0, 6), "t") == 0) {
        if (note_failure(req, w->user_id)) {
            be_reply_db_error(req, req->db, "login failure");
            goto out;
        }
        memset(w, 0, sizeof *w);
        login_failed(req);
        goto out;
    }
    copy_field(w->login, sizeof w->login, res, 1);
    w->role = role_bit(PQgetvalue(res, 0, 2));
    copy_field(w->provider, sizeof w->provider, res, 3);
    copy_field(w->worker, sizeof w->worker, res, 4);
    if (session_start(req, cookie, sizeof cookie, expires_at, sizeof expires_at)) {
        be_reply_db_error(req, req->db, "session");
        goto out;
    }
    be_log_str("info", "signed in", "login", w->login);
    be_reply_json(req, 201, session_json(w, expires_at));
out:
    OPENSSL_cleanse(password, sizeof password);
    PQclear(res);
    cJSON_Delete(body);
}

void be_handle_session_get(struct be_request *req)
{
    be_reply_json(req, 200, session_json(&req->who, NULL));
}

void be_handle_session_delete(struct be_request *req)
{
    char token[64], hash[65];
    if (session_cookie(req, token, sizeof token)) {
        sha256_hex(token, hash);
        const char *params[1] = {hash};
        PGresult *res =
            PQexecParams(req->db, "DELETE FROM sessions WHERE token_hash = decode($1, 'hex')", 1,
                         NULL, params, NULL, NULL, 0);
        int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (!ok) {
            be_reply_db_error(req, req->db, "logout");
            return;
        }
    }
    req->set_cookie = BE_SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
    be_reply_text(req, 204, "text/plain", "");
}

/* GET /api/v1/audit?limit=N&before=ID: newest first. */
void be_handle_audit_list(struct be_request *req)
{
    char limit[8] = "", before[24] = "";
    struct be_query_param params[] = {{"limit", limit, sizeof limit},
                                      {"before", before, sizeof before}};
    struct cf_error_detail d = {0};
    char *end = NULL;
    if (be_query_parse(req->query, params, 2, &d)) {
        be_reply_problem(req, 400, "validation", "A query parameter is not valid", d.message,
                         d.field, NULL);
        return;
    }
    long n = limit[0] ? strtol(limit, &end, 10) : 100;
    if (limit[0] && (*end || n < 1 || n > 1000)) {
        be_reply_problem(req, 400, "validation", "A query parameter is not valid",
                         "limit must be 1 to 1000", "limit", NULL);
        return;
    }
    long long b = before[0] ? strtoll(before, &end, 10) : 0;
    if (before[0] && (*end || b < 1)) {
        be_reply_problem(req, 400, "validation", "A query parameter is not valid",
                         "before must be the id of an audit entry", "before", NULL);
        return;
    }
    char nt[16];
    snprintf(nt, sizeof nt, "%ld", n);
    const char *values[2] = {nt, before};
    PGresult *res = PQexecParams(
        req->db,
        "SELECT json_build_object('items', coalesce(json_agg(json_build_object('id', a.id, "
        "'at', a.at, 'actor', a.actor, 'action', a.action, 'subject', a.subject, 'reason', "
        "a.reason, 'details', a.details) ORDER BY a.id DESC), '[]'))::text FROM (SELECT * FROM "
        "audit_log WHERE ($2 = '' OR id < $2::bigint) ORDER BY id DESC LIMIT $1::int) a",
        2, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        be_reply_db_error(req, req->db, "audit list");
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}
