/* People's sessions (see be/session.h): login with back-off, a new session (a random
 * token in the cookie, its SHA-256 stored), who am I, logout. The authorisation check
 * reads sessions through be/session_auth.h. */
#include "be/session.h"

#include <stdbool.h>
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

/* Throttling (sql/0012_accounts_devices.sql, login_attempt; backend/README "Authorisation"). */
#define LOCK_AFTER 3 /* failures of one login from one address before each further one locks */
#define ADDRESS_LOCK_AFTER 20 /* failures from one address, any login, before it is locked */
#define ACCOUNT_LOCK_AFTER 10 /* failures of one login, any address (holds back failed ones) */
#define LOCK_MAX_S 900 /* longest lock: 15 minutes */
/* What an unknown login's password is checked against: the same scrypt parameters as
 * every stored hash (be_password_hash), so both take the same time. */
#define DUMMY_HASH                                                                                 \
    "scrypt$16384$8$1$00000000000000000000000000000000$"                                           \
    "0000000000000000000000000000000000000000000000000000000000000000"
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
    if (w->office[0])
        cJSON_AddStringToObject(user, "office_id", w->office);
    else
        cJSON_AddNullToObject(user, "office_id");
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

/* Take one attempt for login from the client's address before any password is looked
 * at (one statement: the attempt is counted and the locks read with the rows locked).
 * Returns the seconds to wait (the attempt refused), 0 to go ahead, -1 on a database
 * error. */
static long take_attempt(struct be_request *req, const char *login)
{
    char after[8], address_after[8], account_after[8], max[8];
    snprintf(after, sizeof after, "%d", LOCK_AFTER);
    snprintf(address_after, sizeof address_after, "%d", ADDRESS_LOCK_AFTER);
    snprintf(account_after, sizeof account_after, "%d", ACCOUNT_LOCK_AFTER);
    snprintf(max, sizeof max, "%d", LOCK_MAX_S);
    const char *params[6] = {
        login, be_request_remote_addr(req), after, address_after, account_after, max};
    PGresult *res = PQexecParams(req->db, sql_login_attempt, 6, NULL, params, NULL, NULL, 0);
    long wait_s = -1;
    if (be_db_check(req, res, PGRES_TUPLES_OK) && PQntuples(res) == 1) {
        char *end = NULL;
        wait_s = strtol(PQgetvalue(res, 0, 0), &end, 10);
        if (!end || *end != '\0' || wait_s < 0)
            wait_s = -1;
    }
    PQclear(res);
    return wait_s;
}

static int note_success(struct be_request *req, const char *login)
{
    char address_after[8];
    snprintf(address_after, sizeof address_after, "%d", ADDRESS_LOCK_AFTER);
    const char *params[3] = {login, be_request_remote_addr(req), address_after};
    PGresult *res = PQexecParams(req->db, sql_login_succeeded, 3, NULL, params, NULL, NULL, 0);
    int ok = be_db_check(req, res, PGRES_TUPLES_OK);
    PQclear(res);
    return ok ? 0 : -1;
}

/* A sign-in sent by a page of another site is refused: Sec-Fetch-Site (sent by every
 * current browser) must be same-origin or none, and an Origin must name this server's
 * host. A client that sends neither (curl, the tests) is not a browser on another site. */
static bool same_origin(const struct be_request *req)
{
    const char *site = be_request_header(req, "Sec-Fetch-Site");
    if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
        return false;
    const char *origin = be_request_header(req, "Origin");
    if (!origin)
        return true;
    const char *host = be_request_header(req, "Host");
    const char *sep = strstr(origin, "://");
    return host && sep && strcmp(sep + 3, host) == 0;
}

static void login_locked(struct be_request *req, long wait_s)
{
    char detail[200];
    snprintf(detail, sizeof detail,
             "Too many wrong passwords for this login from here; try again in %ld s.", wait_s);
    cJSON *extra = cJSON_CreateObject();
    if (extra)
        cJSON_AddNumberToObject(extra, "retry_after_s", (double)wait_s);
    be_reply_problem(req, 429, "login-locked", "Login temporarily locked", detail, NULL, extra);
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
    if (!same_origin(req)) {
        be_reply_problem(req, 403, "cross-site", "Sign in from this site",
                         "A sign-in sent by a page of another site is refused.", NULL, NULL);
        return;
    }
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
    /* NOTE: the attempt is taken before the password is checked, in one statement: N
     * parallel wrong passwords test at most LOCK_AFTER of them. Known and unknown logins
     * go the same way (the throttle is keyed by the login's text, not the account). */
    long wait_s = take_attempt(req, login);
    if (wait_s < 0) {
        be_reply_db_error(req, req->db, "login attempt");
        goto out;
    }
    if (wait_s > 0) { /* locked: the password is not even looked at */
        login_locked(req, wait_s);
        goto out;
    }
    const char *params[1] = {login};
    res = PQexecParams(req->db, sql_login_user, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK)) {
        be_reply_db_error(req, req->db, "login");
        goto out;
    }
    /* The same scrypt work for an unknown login as for a known one. */
    bool known = PQntuples(res) == 1;
    bool right = be_password_verify(password, known ? PQgetvalue(res, 0, 5) : DUMMY_HASH);
    if (!known || !right || strcmp(PQgetvalue(res, 0, 6), "t") == 0) {
        login_failed(req); /* counted already by take_attempt */
        goto out;
    }
    if (note_success(req, login)) {
        be_reply_db_error(req, req->db, "login success");
        goto out;
    }
    struct be_principal *w = &req->who;
    copy_field(w->user_id, sizeof w->user_id, res, 0);
    copy_field(w->login, sizeof w->login, res, 1);
    w->role = be_role_bit(PQgetvalue(res, 0, 2));
    copy_field(w->provider, sizeof w->provider, res, 3);
    copy_field(w->worker, sizeof w->worker, res, 4);
    copy_field(w->office, sizeof w->office, res, 7);
    copy_field(w->region, sizeof w->region, res, 8);
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
    {"GET", "/api/v1/session", handle_session_get, true, BE_PEOPLE | BE_STAFF, BE_BODY_NONE},
    {"DELETE", "/api/v1/session", handle_session_delete, true, BE_PEOPLE | BE_STAFF, BE_BODY_NONE},
};
const struct be_module be_accounts_module = BE_MODULE("accounts", routes);
