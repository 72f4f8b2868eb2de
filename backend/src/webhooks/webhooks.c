/* Webhook subscriptions and their delivery log (see be/webhooks.h): the admin makes a
 * subscription for a region (URL, kinds of change; the server makes the secret and shows
 * it once) and enables one the sender disabled after repeated failures; admin and
 * authority list them and read each one's deliveries with every attempt. Changes made by
 * a person are audited in their transaction. The sender is sender.c. */
#include "be/webhooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/rand.h>

#include "be/audit.h"
#include "be/db.h"
#include "be/query.h"
#include "be/reply.h"
#include "cf/codec.h"
#include "cf/json.h"
#include "cf/uuid.h"
#include "sql/webhooks_sql.h"

#define URL_MAX 2000
#define REASON_MAX_CHARS 500

static const char *const event_kinds[] = {"visit.changed",        "correction.created",
                                          "register.changed",     "certificate.changed",
                                          "card_binding.changed", "application.changed"};
#define EVENT_KINDS (sizeof event_kinds / sizeof event_kinds[0])

int be_webhook_url_valid(const char *url)
{
    size_t len = strlen(url), scheme = 0;
    if (strncmp(url, "http://", 7) == 0)
        scheme = 7;
    else if (strncmp(url, "https://", 8) == 0)
        scheme = 8;
    if (!scheme || len <= scheme || len > URL_MAX || url[scheme] == '/')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= ' ' || c == 0x7f)
            return 0;
    }
    return 1;
}

/* ==== GET /api/v1/webhooks ==== */

static void handle_list(struct be_request *req)
{
    PGresult *res = PQexecParams(req->db, sql_subscription_list, 0, NULL, NULL, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        be_reply_db_error(req, req->db, "webhook list");
    } else {
        cJSON *body = cJSON_CreateObject();
        cJSON *list = cJSON_Parse(PQgetvalue(res, 0, 0));
        if (body && list)
            cJSON_AddItemToObject(body, "subscriptions", list);
        else
            cJSON_Delete(list);
        be_reply_json(req, 200, body);
    }
    PQclear(res);
}

/* ==== POST /api/v1/webhooks ==== */

struct subscription {
    char region[CF_UUID_TEXT_LEN + 1];
    char url[URL_MAX + 1];
    char events[160]; /* a text[] literal: {visit.changed,register.changed} */
    cJSON *event_list; /* the kinds as given (taken into the answer) */
    char secret[65];
    bool region_unknown;
    cJSON *reply;
};

/* {"region_id", "url", "events": [kinds]}: each kind known, none twice. 422 itself. */
static int read_events(const cJSON *body, struct subscription *s, struct cf_error_detail *d)
{
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(body, "events");
    if (!cJSON_IsArray(events) || cJSON_GetArraySize(events) < 1 ||
        cJSON_GetArraySize(events) > (int)EVENT_KINDS)
        return cf_error_set(d, CF_EFIELD_TYPE, "events",
                            "events must be a list of 1 to %zu kinds of change", EVENT_KINDS);
    size_t at = snprintf(s->events, sizeof s->events, "{");
    unsigned seen = 0;
    int i = 0;
    for (const cJSON *e = events->child; e; e = e->next, i++) {
        size_t k = 0;
        while (k < EVENT_KINDS &&
               !(cJSON_IsString(e) && strcmp(e->valuestring, event_kinds[k]) == 0))
            k++;
        char field[32];
        snprintf(field, sizeof field, "events[%d]", i);
        if (k == EVENT_KINDS)
            return cf_error_set(d, CF_EFIELD_RANGE, field,
                                "%s must be one of visit.changed, correction.created, "
                                "register.changed, certificate.changed, card_binding.changed, "
                                "application.changed",
                                field);
        if (seen & (1u << k))
            return cf_error_set(d, CF_EFIELD_RANGE, field, "%s names a kind already given", field);
        seen |= 1u << k;
        at += snprintf(s->events + at, sizeof s->events - at, "%s%s", i ? "," : "", event_kinds[k]);
    }
    snprintf(s->events + at, sizeof s->events - at, "}");
    s->event_list = cJSON_Duplicate(events, true);
    return s->event_list ? 0 : cf_error_set(d, CF_ENOMEM, "", "out of memory");
}

static int read_subscription(const struct be_request *req, struct subscription *s,
                             struct cf_error_detail *d)
{
    static const char *const allowed[] = {"region_id", "url", "events", NULL};
    uint8_t region[CF_UUID_LEN];
    cJSON *body = NULL;
    int rc = cf_json_parse(req->body ? req->body : "", req->body_len, BE_BODY_SMALL, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, allowed, "", d);
    if (!rc)
        rc = cf_json_get_uuid(body, "region_id", "", true, region, d);
    if (!rc)
        rc = cf_json_get_string(body, "url", "", true, URL_MAX, s->url, sizeof s->url, d);
    if (!rc && !be_webhook_url_valid(s->url))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "url",
                          "url must be an http:// or https:// address without spaces");
    if (!rc)
        rc = read_events(body, s, d);
    if (!rc)
        cf_uuid_to_text(region, s->region);
    cJSON_Delete(body);
    return rc;
}

static int create_tx(struct be_request *req, void *ctx)
{
    struct subscription *s = ctx;
    const char *p1[1] = {s->region};
    PGresult *res = PQexecParams(req->db, sql_region_exists, 1, NULL, p1, NULL, NULL, 0);
    bool ok = be_db_check(req, res, PGRES_TUPLES_OK);
    s->region_unknown = ok && PQntuples(res) == 0;
    PQclear(res);
    if (!ok)
        return BE_TX_FAILED;
    if (s->region_unknown)
        return BE_TX_ROLLBACK;
    const char *p2[5] = {s->region, s->url, s->events, s->secret, req->who.login};
    res = PQexecParams(req->db, sql_subscription_insert, 5, NULL, p2, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    s->reply = cJSON_CreateObject();
    char subject[64];
    snprintf(subject, sizeof subject, "webhook:%s", PQgetvalue(res, 0, 0));
    if (s->reply) {
        cJSON_AddStringToObject(s->reply, "id", PQgetvalue(res, 0, 0));
        cJSON_AddStringToObject(s->reply, "region_id", s->region);
        cJSON_AddStringToObject(s->reply, "url", s->url);
        cJSON_AddItemToObject(s->reply, "events", s->event_list);
        s->event_list = NULL;
        cJSON_AddBoolToObject(s->reply, "enabled", true);
        cJSON_AddStringToObject(s->reply, "secret", s->secret);
        cJSON_AddStringToObject(s->reply, "created_at", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    /* The audit row names the address and kinds, never the secret. */
    cJSON *details = cJSON_CreateObject();
    char *text = NULL;
    if (details && cJSON_AddStringToObject(details, "url", s->url) &&
        cJSON_AddStringToObject(details, "events", s->events))
        text = cJSON_PrintUnformatted(details);
    cJSON_Delete(details);
    int rc =
        text && !be_audit(req, "webhook.create", subject, NULL, text) ? BE_TX_COMMIT : BE_TX_FAILED;
    free(text);
    return rc;
}

static void handle_create(struct be_request *req)
{
    struct subscription s = {0};
    struct cf_error_detail d = {0};
    if (read_subscription(req, &s, &d)) {
        cJSON_Delete(s.event_list);
        be_reply_invalid(req, &d);
        return;
    }
    uint8_t random[32];
    if (RAND_bytes(random, sizeof random) != 1 ||
        cf_hex_encode(random, sizeof random, s.secret, sizeof s.secret)) {
        cJSON_Delete(s.event_list);
        be_reply_server_fault(req, "webhook: secret");
        return;
    }
    int rc = be_db_transaction(req, NULL, "webhook create", create_tx, &s);
    if (rc == BE_TX_ROLLBACK)
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "region_id names no region of this server", "region_id", NULL);
    else if (rc == BE_TX_COMMIT) /* NOTE: answered only after COMMIT returned */
        be_reply_json(req, 201, s.reply), s.reply = NULL;
    cJSON_Delete(s.reply);
    cJSON_Delete(s.event_list);
}

/* ==== POST /api/v1/webhooks/{id}/enable ==== */

struct enabling {
    const char *id;
    char reason[REASON_MAX_CHARS * 4 + 1];
    bool found, was_disabled;
};

static int enable_tx(struct be_request *req, void *ctx)
{
    struct enabling *e = ctx;
    const char *params[1] = {e->id};
    PGresult *res = PQexecParams(req->db, sql_subscription_enable, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK)) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    e->found = PQntuples(res) == 1;
    e->was_disabled = e->found && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!e->was_disabled) /* unknown, or enabled already: nothing to record */
        return BE_TX_ROLLBACK;
    char subject[64];
    snprintf(subject, sizeof subject, "webhook:%s", e->id);
    return be_audit(req, "webhook.enable", subject, e->reason, NULL) ? BE_TX_FAILED : BE_TX_COMMIT;
}

static void handle_enable(struct be_request *req)
{
    static const char *const allowed[] = {"reason", NULL};
    struct enabling e = {.id = be_param(req, "id")};
    uint8_t id[CF_UUID_LEN];
    if (!cf_uuid_from_text(e.id, id)) {
        struct cf_error_detail d = {0};
        cJSON *body = NULL;
        int rc = cf_json_parse(req->body ? req->body : "", req->body_len, BE_BODY_FORM, &body, &d);
        if (!rc)
            rc = cf_json_check_fields(body, allowed, "", &d);
        if (!rc)
            rc = cf_json_get_text(body, "reason", "", true, REASON_MAX_CHARS,
                                  "say why the subscription is enabled again", e.reason,
                                  sizeof e.reason, &d);
        cJSON_Delete(body);
        if (rc) {
            be_reply_invalid(req, &d);
            return;
        }
        if (be_db_transaction(req, NULL, "webhook enable", enable_tx, &e) == BE_TX_FAILED)
            return;
    }
    if (!e.found) {
        be_reply_problem(req, 404, "not-found", "No such subscription",
                         "No webhook subscription has this id.", NULL, NULL);
        return;
    }
    cJSON *body = cJSON_CreateObject();
    if (body) {
        cJSON_AddStringToObject(body, "id", e.id);
        cJSON_AddBoolToObject(body, "enabled", true);
        cJSON_AddBoolToObject(body, "was_disabled", e.was_disabled);
    }
    be_reply_json(req, 200, body);
}

/* ==== GET /api/v1/webhooks/{id}/deliveries ==== */

static void handle_deliveries(struct be_request *req)
{
    char limit[8] = "";
    struct be_query_param params[] = {{"limit", limit, sizeof limit}};
    struct cf_error_detail d = {0};
    if (be_query_parse(req->query, params, 1, &d)) {
        be_reply_query_invalid(req, &d);
        return;
    }
    char *end = NULL;
    long n = limit[0] ? strtol(limit, &end, 10) : 100;
    if (limit[0] && (*end || n < 1 || n > 1000)) {
        be_reply_problem(req, 400, "validation", "A query parameter is not valid",
                         "limit must be 1 to 1000", "limit", NULL);
        return;
    }
    const char *id = be_param(req, "id");
    uint8_t raw[CF_UUID_LEN];
    PGresult *res = NULL;
    if (!cf_uuid_from_text(id, raw)) {
        char n_text[16];
        snprintf(n_text, sizeof n_text, "%ld", n);
        const char *values[2] = {id, n_text};
        res = PQexecParams(req->db, sql_delivery_log, 2, NULL, values, NULL, NULL, 0);
        if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
            be_reply_db_error(req, req->db, "webhook deliveries");
            PQclear(res);
            return;
        }
    }
    if (!res || PQgetisnull(res, 0, 0)) {
        be_reply_problem(req, 404, "not-found", "No such subscription",
                         "No webhook subscription has this id.", NULL, NULL);
    } else {
        cJSON *body = cJSON_CreateObject();
        cJSON *list = cJSON_Parse(PQgetvalue(res, 0, 0));
        if (body && list) {
            cJSON_AddStringToObject(body, "subscription_id", id);
            cJSON_AddItemToObject(body, "deliveries", list);
        } else {
            cJSON_Delete(list);
        }
        be_reply_json(req, 200, body);
    }
    PQclear(res);
}

static const struct be_route routes[] = {
    {"GET", "/api/v1/webhooks", handle_list, true, BE_OVERSIGHT, BE_BODY_NONE},
    {"POST", "/api/v1/webhooks", handle_create, true, BE_ADMIN, BE_BODY_SMALL},
    {"POST", "/api/v1/webhooks/{id}/enable", handle_enable, true, BE_ADMIN, BE_BODY_FORM},
    {"GET", "/api/v1/webhooks/{id}/deliveries", handle_deliveries, true, BE_OVERSIGHT,
     BE_BODY_NONE},
};
const struct be_module be_webhooks_module = BE_MODULE("webhooks", routes);
