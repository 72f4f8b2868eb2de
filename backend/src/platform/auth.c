/* The one authorisation check of every route (see be/auth.h): the caller against the
 * route's roles, before the body is read, and the row-level-security scope of the
 * request. People are identified by session (session_auth.c), devices by signature
 * (device_auth.c). */
#include "be/auth.h"

#include <string.h>

#include <openssl/crypto.h>

#include "be/db.h"
#include "be/device_auth.h"
#include "be/reply.h"
#include "be/session_auth.h"

static bool state_changing(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static bool scope_set(struct be_request *req, const char *provider, const char *office,
                      const char *region)
{
    if (be_db_set_scope(req->db, provider, office, region) == 0)
        return true;
    be_reply_db_error(req, req->db, "authorisation scope");
    return false;
}

bool be_auth_authorise(struct be_request *req, unsigned roles)
{
    memset(&req->who, 0, sizeof req->who);
    if (!roles) { /* a route that names no role is refused to everyone */
        be_reply_problem(req, 403, "forbidden", "Not allowed for your role",
                         "This route is open to no role.", NULL, NULL);
        return false;
    }
    if (roles & BE_DEVICE)
        return be_device_check_head(req);
    if (roles & BE_PUBLIC) /* public routes carry their own proof (a one-time code, a password) */
        return !req->db || scope_set(req, "*", "*", "");
    /* The connection keeps the last request's scope: reading the session needs all. */
    int found = req->db && !be_db_set_scope(req->db, "*", "*", "") ? be_session_load(req) : -1;
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
    /* Oversight sees everything; a provider's people their provider; the front office
     * its office's applications; the back office its region's. */
    if (req->who.role & BE_OVERSIGHT)
        return scope_set(req, "*", "*", "");
    if (req->who.role & BE_CASEWORKER)
        return scope_set(req, "", "", req->who.region);
    if (req->who.role & BE_STAFF)
        return scope_set(req, "", req->who.office, "");
    return scope_set(req, req->who.provider, "", "");
}

bool be_auth_after_body(struct be_request *req, unsigned roles)
{
    return (roles & BE_DEVICE) ? be_device_verify(req) : true;
}

const char *be_auth_provider_scope(const struct be_request *req)
{
    return req->who.role & BE_OVERSIGHT ? "" : req->who.provider;
}

bool be_auth_provider_filter(struct be_request *req, const char *provider, const char *field)
{
    const char *scope = be_auth_provider_scope(req);
    if (!scope[0] || !provider[0] || strcmp(provider, scope) == 0)
        return true;
    be_reply_problem(req, 403, "forbidden", "Not your provider's data",
                     "You may see only your own provider's data.", field, NULL);
    return false;
}
