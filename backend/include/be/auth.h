/* Who is calling, and may they use this route: people by session cookie (scrypt
 * passwords, hashed opaque tokens, CSRF header, login back-off), and the one check
 * every route goes through (be_auth_authorise, called by the dispatcher with the
 * route's roles mask). See backend/README.md, "Authorisation". */
#ifndef BE_AUTH_H
#define BE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct be_request;

/* Roles, as bits of a route's `roles` mask. BE_PUBLIC: no identity needed (health,
 * login, enrolment by one-time code). BE_DEVICE: an enrolled terminal. */
enum be_role {
    BE_ADMIN = 1u << 0,
    BE_AUTHORITY = 1u << 1,
    BE_MANAGER = 1u << 2,
    BE_WORKER = 1u << 3,
    BE_DEVICE = 1u << 4,
    BE_PUBLIC = 1u << 5,
};
#define BE_PEOPLE (BE_ADMIN | BE_AUTHORITY | BE_MANAGER | BE_WORKER)
#define BE_OVERSIGHT (BE_ADMIN | BE_AUTHORITY) /* every provider */

#define BE_SESSION_COOKIE "cf_session"
#define BE_SESSION_TTL_S (8 * 3600)
#define BE_PASSWORD_MIN 10
#define BE_PASSWORD_MAX 256
#define BE_LOGIN_MAX 64
#define BE_UUID_TEXT 37

/* The caller of one request, filled by be_auth_authorise. provider is "" for
 * admin/authority (every provider); worker is set for workers and devices. */
struct be_principal {
    unsigned role; /* one BE_* bit; 0 = anonymous */
    char user_id[BE_UUID_TEXT];
    char login[BE_LOGIN_MAX + 1];
    char provider[BE_UUID_TEXT];
    char worker[BE_UUID_TEXT];
    char device[BE_UUID_TEXT];
    char csrf[65];
};

/* Identify the caller and check them against the route's roles mask; set the
 * database's carefact.provider for row-level security. Returns true when the handler
 * may run; otherwise the 401/403 problem has been sent. */
bool be_auth_authorise(struct be_request *req, unsigned roles);

/* The provider filter a handler must apply for this caller: "" = every provider
 * (admin, authority), else the caller's provider. */
const char *be_auth_provider_scope(const struct be_request *req);

/* scrypt (N=2^14, r=8, p=1, 16-byte random salt, 32-byte key) as
 * "scrypt$N$r$p$salthex$keyhex". Returns 0 or CF_ECRYPTO/CF_ENOSPACE. */
int be_password_hash(const char *password, char *out, size_t out_size);
/* Does password match the stored hash (constant-time compare)? */
bool be_password_verify(const char *password, const char *stored);

/* Handlers of /api/v1/session (login, who am I, logout) and /api/v1/audit. */
void be_handle_session_create(struct be_request *req);
void be_handle_session_get(struct be_request *req);
void be_handle_session_delete(struct be_request *req);
void be_handle_audit_list(struct be_request *req);

/* Append one row to audit_log as the request's caller. Returns 0 or -1 (logged). */
int be_audit(struct be_request *req, const char *action, const char *subject, const char *reason,
             const char *details_json);

/* `carefactd user add|disable ...` (argv as main got it). Returns an exit code. */
int be_user_main(int argc, char **argv, const char *db_default);

/* demo-data's manager and authority accounts (fresh passwords, printed to out). */
int be_demo_accounts(const char *conninfo, FILE *out);

#endif
