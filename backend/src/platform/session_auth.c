/* The session lookup of the authorisation check (see be/session_auth.h): the cookie,
 * its token's SHA-256, the user it belongs to. */
#include "be/session_auth.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "be/db.h"
#include "cf/codec.h"
#include "sql/session_auth_sql.h"

void be_session_hash(const char *token, char out[BE_SESSION_HASH_HEX])
{
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), digest);
    cf_hex_encode(digest, sizeof digest, out, BE_SESSION_HASH_HEX);
}

/* The value of our cookie in the Cookie header, copied into out; false when absent
 * or malformed (the token is base64url of BE_SESSION_TOKEN_LEN bytes). */
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
            if (vlen != cf_base64url_len(BE_SESSION_TOKEN_LEN) || vlen >= out_size)
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

static void copy_field(char *dst, size_t size, PGresult *res, int col)
{
    snprintf(dst, size, "%s", PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col));
}

bool be_session_cookie_hash(const struct be_request *req, char out[BE_SESSION_HASH_HEX])
{
    char token[64];
    if (!session_cookie(req, token, sizeof token))
        return false;
    be_session_hash(token, out);
    return true;
}

int be_session_load(struct be_request *req)
{
    char hash[BE_SESSION_HASH_HEX];
    if (!be_session_cookie_hash(req, hash))
        return 0;
    const char *params[1] = {hash};
    PGresult *res = PQexecParams(req->db, sql_session_load, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK)) {
        PQclear(res);
        return -1;
    }
    int found = PQntuples(res) == 1;
    if (found) {
        struct be_principal *w = &req->who;
        copy_field(w->user_id, sizeof w->user_id, res, 0);
        copy_field(w->login, sizeof w->login, res, 1);
        w->role = be_role_bit(PQgetvalue(res, 0, 2));
        copy_field(w->provider, sizeof w->provider, res, 3);
        copy_field(w->worker, sizeof w->worker, res, 4);
        copy_field(w->csrf, sizeof w->csrf, res, 5);
        copy_field(w->office, sizeof w->office, res, 6);
        copy_field(w->region, sizeof w->region, res, 7);
    }
    PQclear(res);
    return found;
}
