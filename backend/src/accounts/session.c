/* People's sessions (see be/session.h): login with back-off, a new session (a random
 * token in the cookie, its SHA-256 stored), who am I, logout. The authorisation check
 * reads sessions through be/session_auth.h. */
#include "be/session.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "be/db.h"
#include "be/log.h"
#include "be/password.h"
#include "be/reply.h"
#include "be/session_auth.h"
#include "cf/codec.h"
#include "cf/json.h"
#include "sql/session_sql.h"

#define LOCK_AFTER 3 /* failures before each further one locks the login for a while */
#define LOCK_MAX_S 900 /* longest lock: 15 minutes */
#define LOGIN_BODY_MAX 4096

static void copy_field(char *dst, size_t size, PGresult *res, int col)
{
    snprintf(dst, size, "%s", PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col));
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
    cJSON_AddStringToObject(user, "role", be_role_name(w->role));
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
    PGresult *res = PQexecParams(req->db, sql_login_failure, 3, NULL, params, NULL, NULL, 0);
    int ok = be_db_check(req, res, PGRES_COMMAND_OK);
    PQclear(res);
    return ok ? 0 : -1;
}

/* Make a session for the user in req->who: a random token (the cookie) whose
 * SHA-256 is stored, and a random CSRF token. Sets req->set_cookie to cookie.
 * Returns 0, -1 on a database error, 1 when no random token could be made. */
static int session_start(struct be_request *req, char *cookie, size_t cookie_size, char *expires_at,
                         size_t expires_size)
{
    uint8_t raw[BE_SESSION_TOKEN_LEN], csrf_raw[32];
    char token[64], hash[BE_SESSION_HASH_HEX], ttl[16];
    if (RAND_bytes(raw, sizeof raw) != 1 || RAND_bytes(csrf_raw, sizeof csrf_raw) != 1 ||
        cf_base64url_encode(raw, sizeof raw, token, sizeof token) ||
        cf_hex_encode(csrf_raw, sizeof csrf_raw, req->who.csrf, sizeof req->who.csrf))
        return 1;
    OPENSSL_cleanse(raw, sizeof raw);
    be_session_hash(token, hash);
    snprintf(ttl, sizeof ttl, "%d", BE_SESSION_TTL_S);
    const char *params[4] = {hash, req->who.user_id, req->who.csrf, ttl};
    PGresult *res = PQexecParams(req->db, sql_session_start, 4, NULL, params, NULL, NULL, 0);
    int ok = be_db_check(req, res, PGRES_TUPLES_OK) && PQntuples(res) == 1;
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

static void handle_session_create(struct be_request *req)
{
    static const char *const allowed[] = {"login", "password", NULL};
    struct cf_error_detail d = {0};
    cJSON *body = NULL;
    PGresult *res = NULL;
    char login[BE_LOGIN_MAX + 1] = "", password[BE_PASSWORD_MAX + 1] = "";
    char cookie[256], expires_at[40];
    int rc = cf_json_parse(req->body ? req->body : "", req->body_len, LOGIN_BODY_MAX, &body, &d);
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
    res = PQexecParams(req->db, sql_login_user, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK)) {
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
    w->role = be_role_bit(PQgetvalue(res, 0, 2));
    copy_field(w->provider, sizeof w->provider, res, 3);
    copy_field(w->worker, sizeof w->worker, res, 4);
    rc = session_start(req, cookie, sizeof cookie, expires_at, sizeof expires_at);
    if (rc > 0) {
        be_reply_server_fault(req, "session: random token");
        goto out;
    }
    if (rc) {
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

static void handle_session_get(struct be_request *req)
{
    be_reply_json(req, 200, session_json(&req->who, NULL));
}

static void handle_session_delete(struct be_request *req)
{
    char hash[BE_SESSION_HASH_HEX];
    if (be_session_cookie_hash(req, hash)) {
        const char *params[1] = {hash};
        PGresult *res = PQexecParams(req->db, sql_session_end, 1, NULL, params, NULL, NULL, 0);
        int ok = be_db_check(req, res, PGRES_COMMAND_OK);
        PQclear(res);
        if (!ok) {
            be_reply_db_error(req, req->db, "logout");
            return;
        }
    }
    req->set_cookie = BE_SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
    be_reply_text(req, 204, "text/plain", "");
}

static const struct be_route routes[] = {
    {"POST", "/api/v1/session", handle_session_create, true, BE_PUBLIC, LOGIN_BODY_MAX},
    {"GET", "/api/v1/session", handle_session_get, true, BE_PEOPLE, BE_BODY_NONE},
    {"DELETE", "/api/v1/session", handle_session_delete, true, BE_PEOPLE, BE_BODY_NONE},
};
const struct be_module be_accounts_module = BE_MODULE("accounts", routes);
