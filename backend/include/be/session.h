/* People's accounts (the accounts module): login with back-off, a new session (a
 * random token in the cookie, its SHA-256 stored), who am I, logout; and the CLI's
 * accounts (`carefactd user`, demo accounts, users.c). See backend/README.md,
 * "Authorisation". */
#ifndef BE_SESSION_H
#define BE_SESSION_H

#include <stdio.h>

#include "be/request.h"
#include "be/router.h"

#include "be/session_auth.h" /* the cookie, its lifetime */

/* `carefactd user add|disable ...` (argv as main got it). Returns an exit code. */
int be_user_main(int argc, char **argv, const char *db_default);

/* demo-data's manager and authority accounts (fresh passwords, printed to out). */
int be_demo_accounts(const char *conninfo, FILE *out);

extern const struct be_module be_accounts_module; /* /api/v1/session */

#endif
