/* The change feed (see be/feed.h): GET /api/v1/changes?cursor=&limit=. Reads what
 * sql/0016's triggers wrote, in the order changes_seal numbered it, scoped like the lists
 * (row-level security: admin and authority everything, a manager their provider's, the
 * back office its region's applications, sql/0023). */
#include "be/feed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "be/db.h"
#include "be/query.h"
#include "be/reply.h"
#include "sql/feed_sql.h"

/* A cursor is "c1." and the position in decimal: opaque to consumers (they store and
 * send it back), versioned so its form may change. */
#define CURSOR_PREFIX "c1."
#define FEED_LIMIT_DEFAULT 100
#define FEED_LIMIT_MAX 1000

int be_feed_cursor_parse(const char *text, long long *position)
{
    *position = 0;
    if (!text || !*text)
        return 0;
    size_t prefix = strlen(CURSOR_PREFIX);
    if (strncmp(text, CURSOR_PREFIX, prefix) != 0)
        return -1;
    const char *digits = text + prefix;
    if (*digits < '0' || *digits > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(digits, &end, 10);
    if (errno || !end || *end || v < 0)
        return -1;
    *position = v;
    return 0;
}

void be_feed_cursor_format(long long position, char out[BE_FEED_CURSOR_MAX])
{
    snprintf(out, BE_FEED_CURSOR_MAX, "%s%lld", CURSOR_PREFIX, position);
}

static cJSON *change_json(const PGresult *res, int i)
{
    cJSON *c = cJSON_CreateObject();
    cJSON *data = cJSON_Parse(PQgetvalue(res, i, 7));
    if (!c || !data) {
        cJSON_Delete(c);
        cJSON_Delete(data);
        return NULL;
    }
    char cursor[BE_FEED_CURSOR_MAX];
    be_feed_cursor_format(strtoll(PQgetvalue(res, i, 0), NULL, 10), cursor);
    cJSON_AddStringToObject(c, "cursor", cursor);
    cJSON_AddStringToObject(c, "kind", PQgetvalue(res, i, 1));
    cJSON_AddStringToObject(c, "subject_id", PQgetvalue(res, i, 2));
    cJSON_AddStringToObject(c, "op", PQgetvalue(res, i, 3));
    if (PQgetisnull(res, i, 4)) /* an application's: scoped by office, no provider */
        cJSON_AddNullToObject(c, "provider_id");
    else
        cJSON_AddStringToObject(c, "provider_id", PQgetvalue(res, i, 4));
    cJSON_AddStringToObject(c, "region_id", PQgetvalue(res, i, 5));
    cJSON_AddStringToObject(c, "changed_at", PQgetvalue(res, i, 6));
    cJSON_AddItemToObject(c, "data", data);
    return c;
}

/* {"changes": [...], "next_cursor": "...", "more": bool}: next_cursor is the cursor of
 * the last change given (the one sent when none), so a consumer stores it after it has
 * handled the page and asks again with it. */
static void reply_page(struct be_request *req, const PGresult *res, long long from, long limit)
{
    cJSON *body = cJSON_CreateObject();
    cJSON *list = body ? cJSON_AddArrayToObject(body, "changes") : NULL;
    long long last = from;
    int n = PQntuples(res);
    for (int i = 0; list && i < n; i++) {
        cJSON *c = change_json(res, i);
        if (!c) {
            cJSON_Delete(body);
            be_reply_server_fault(req, "changes: JSON");
            return;
        }
        cJSON_AddItemToArray(list, c);
        last = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    }
    char cursor[BE_FEED_CURSOR_MAX];
    be_feed_cursor_format(last, cursor);
    if (body) {
        cJSON_AddStringToObject(body, "next_cursor", cursor);
        cJSON_AddBoolToObject(body, "more", n == limit);
    }
    be_reply_json(req, 200, body);
}

/* How far the feed's oldest changes were removed (sql/0037): read after the page, so a
 * removal that raced it is seen and the page is not given out with a gap before it. */
static int expired_through(struct be_request *req, long long *through)
{
    PGresult *res = PQexec(req->db, sql_changes_expired_through);
    int ok = be_db_check(req, res, PGRES_TUPLES_OK) && PQntuples(res) == 1;
    if (ok)
        *through = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return ok ? 0 : -1;
}

/* A cursor older than what the feed keeps: the consumer has missed changes, and must read
 * the current state again (the lists) and go on from the oldest change kept. */
static void reply_expired(struct be_request *req, long long through)
{
    char cursor[BE_FEED_CURSOR_MAX];
    be_feed_cursor_format(through, cursor);
    cJSON *extra = cJSON_CreateObject();
    if (extra)
        cJSON_AddStringToObject(extra, "oldest_cursor", cursor);
    be_reply_problem(req, 410, "cursor-expired", "The cursor is older than the changes kept",
                     "The changes after this cursor were removed when they passed the region's "
                     "retention (changes_keep_days). Read the current state again through the "
                     "lists, then go on from oldest_cursor.",
                     "cursor", extra);
}

static void handle_changes(struct be_request *req)
{
    char cursor[BE_FEED_CURSOR_MAX + 8] = "", limit[8] = "";
    struct be_query_param params[] = {{"cursor", cursor, sizeof cursor},
                                      {"limit", limit, sizeof limit}};
    struct cf_error_detail d = {0};
    if (be_query_parse(req->query, params, 2, &d)) {
        be_reply_query_invalid(req, &d);
        return;
    }
    long long from = 0;
    if (be_feed_cursor_parse(cursor, &from)) {
        be_reply_problem(req, 400, "validation", "A query parameter is not valid",
                         "cursor must be a next_cursor this server gave out, or absent to read "
                         "from the beginning",
                         "cursor", NULL);
        return;
    }
    char *end = NULL;
    long n = limit[0] ? strtol(limit, &end, 10) : FEED_LIMIT_DEFAULT;
    if (limit[0] && (*end || n < 1 || n > FEED_LIMIT_MAX)) {
        be_reply_problem(req, 400, "validation", "A query parameter is not valid",
                         "limit must be 1 to 1000", "limit", NULL);
        return;
    }
    char from_text[24], n_text[16];
    snprintf(from_text, sizeof from_text, "%lld", from);
    snprintf(n_text, sizeof n_text, "%ld", n);
    const char *values[2] = {from_text, n_text};
    PGresult *res = PQexecParams(req->db, sql_changes_page, 2, NULL, values, NULL, NULL, 0);
    long long through = 0;
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || expired_through(req, &through))
        be_reply_db_error(req, req->db, "changes");
    else if (from > 0 && from < through)
        reply_expired(req, through);
    else
        reply_page(req, res, from, n);
    PQclear(res);
}

static const struct be_route routes[] = {
    {"GET", "/api/v1/changes", handle_changes, true, BE_OVERSIGHT | BE_MANAGER | BE_CASEWORKER,
     BE_BODY_NONE},
};
const struct be_module be_feed_module = BE_MODULE("feed", routes);
