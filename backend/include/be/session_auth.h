/* A person's session as the authorisation check reads it: the cookie cf_session holds
 * a random token, of which only the SHA-256 is stored (table sessions). The accounts
 * module (be/session.h) makes and ends sessions; this is the platform's part. */
#ifndef BE_SESSION_AUTH_H
#define BE_SESSION_AUTH_H

#include <stdbool.h>

#include "be/request.h"

#define BE_SESSION_COOKIE "cf_session"
#define BE_SESSION_TTL_S (8 * 3600)
#define BE_SESSION_TOKEN_LEN 32 /* random bytes of a token (base64url in the cookie) */
#define BE_SESSION_HASH_HEX 65 /* hex SHA-256 and its NUL */

/* The hex SHA-256 of token (NUL-terminated) into out. */
void be_session_hash(const char *token, char out[BE_SESSION_HASH_HEX]);

/* The hex SHA-256 of the token in the request's cf_session cookie into out: true, or
 * false when there is no well-formed one (base64url of BE_SESSION_TOKEN_LEN bytes). */
bool be_session_cookie_hash(const struct be_request *req, char out[BE_SESSION_HASH_HEX]);

/* Look the request's session up (the connection's scope must see every user): 1 found
 * (req->who filled), 0 none or expired, -1 a database error (in req->db_failure). */
int be_session_load(struct be_request *req);

#endif
