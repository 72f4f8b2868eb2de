/* People's sessions (the accounts module): login with back-off, the session cookie
 * (a random token whose SHA-256 is stored), who am I, logout; and the CLI's accounts
 * (`carefactd user`, demo accounts, users.c). See backend/README.md, "Authorisation". */
#ifndef BE_SESSION_H
#define BE_SESSION_H

#include <stdio.h>

#include "be/request.h"
#include "be/router.h"

#define BE_SESSION_COOKIE "cf_session"
#define BE_SESSION_TTL_S (8 * 3600)

/* Look the request's session cookie up (the connection's scope must see every
 * user): 1 found (req->who filled), 0 none or expired, -1 a database error
 * (recorded in req->db_failure). */
int be_session_load(struct be_request *req);

/* `carefactd user add|disable ...` (argv as main got it). Returns an exit code. */
int be_user_main(int argc, char **argv, const char *db_default);

/* demo-data's manager and authority accounts (fresh passwords, printed to out). */
int be_demo_accounts(const char *conninfo, FILE *out);

extern const struct be_module be_accounts_module; /* /api/v1/session */

#endif
