/* The one authorisation check every route goes through (be_auth_authorise, called by
 * the dispatcher with the route's roles mask before the body is read, and
 * be_auth_after_body once it has been), and the provider scope handlers filter by.
 * People are identified by session (be/session_auth.h), devices by signature
 * (be/device_auth.h). See backend/README.md, "Authorisation". */
#ifndef BE_AUTH_H
#define BE_AUTH_H

#include <stdbool.h>

#include "be/password.h" /* be_password_hash/verify were declared here */
#include "be/principal.h"
#include "be/request.h"

/* Identify the caller and check them against the route's roles mask; set the
 * database's carefact.provider for row-level security. Runs before the body is read:
 * for a device route it checks all that the request's head and the device's row can
 * tell (headers, time, path, enrolled, not revoked). Returns true when dispatch may go
 * on; otherwise the 401/403/404 problem has been sent. */
bool be_auth_authorise(struct be_request *req, unsigned roles);

/* After the body was read: a device route's signature over the whole request.
 * Returns true when the handler may run (always, for other routes). */
bool be_auth_after_body(struct be_request *req, unsigned roles);

/* The provider filter a handler must apply for this caller: "" = every provider
 * (admin, authority), else the caller's provider. */
const char *be_auth_provider_scope(const struct be_request *req);

/* A provider filter given by the caller (a query parameter; "" = none) checked
 * against their scope: true when allowed; false when it names another provider than
 * a manager's own (then a 403 `forbidden` naming field has been sent). */
bool be_auth_provider_filter(struct be_request *req, const char *provider, const char *field);

#endif
