/* Mobile brigade trips (issue 16): the office plans a trip (a day, settlements with
 * times, members, partner organisations), books people on it, announces it — which
 * publishes it on the public page and queues an SMS to everyone booked — and marks it
 * done or cancels it. The trip's day lists its appointments and the applications taken
 * on it. Terminals of its worker members receive it with their reference data
 * (sql/0031 trip_reference_items).
 *
 * The rules are the database's (sql/0031_trips.sql): one function saves a trip
 * (trip_save), one changes its state (trip_move, over trip_transitions, refusing an
 * announcement fewer than the region's trip_notice_days ahead), one decides where an
 * appointment fits (trip_appointment_refusal). Who sees a trip is row-level security:
 * its office's front office, its region's back office, oversight, the provider whose
 * workers go. The C reads bodies strictly, answers, and audits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "be/audit.h"
#include "be/auth.h"
#include "be/db.h"
#include "be/query.h"
#include "be/reply.h"
#include "be/trips.h"
#include "cf/json.h"
#include "cf/uuid.h"
#include "sql/trips_sql.h"

#define BODY_MAX_BYTES (64u * 1024)
#define BODY_MAX_VALUES 512
#define SMALL_BODY_MAX_BYTES (16u * 1024)
#define SMALL_BODY_MAX_VALUES 32

#define ROLE_TEXT(who) be_role_name((who).role)

/* ==== Reading bodies (pure) ==== */

static bool canonical_uuid(char *text)
{
    uint8_t id[CF_UUID_LEN];
    if (cf_uuid_from_text(text, id))
        return false;
    cf_uuid_to_text(id, text);
    return true;
}

/* "HH:MM" (00:00..23:59, or 24:00 when may_end_day) into minutes after midnight. */
static bool clock_minutes(const char *text, bool may_end_day, int *minutes)
{
    if (strlen(text) != 5 || text[2] != ':')
        return false;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (text[i] < '0' || text[i] > '9'))
            return false;
    int h = (text[0] - '0') * 10 + (text[1] - '0');
    int m = (text[3] - '0') * 10 + (text[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && (m != 0 || !may_end_day)))
        return false;
    *minutes = h * 60 + m;
    return true;
}

static int get_clock(const cJSON *obj, const char *name, const char *path, bool may_end_day,
                     int *minutes, struct cf_error_detail *d)
{
    char text[8], field[48];
    int rc = cf_json_get_string(obj, name, path, true, 5, text, sizeof text, d);
    snprintf(field, sizeof field, "%s.%s", path, name);
    if (!rc && !clock_minutes(text, may_end_day, minutes))
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be a local time like 09:30", field);
    return rc;
}

/* An array field of at least min and at most max entries; absent reads as empty. */
static int get_array(const cJSON *body, const char *name, size_t min, size_t max, const cJSON **out,
                     struct cf_error_detail *d)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, name);
    *out = NULL;
    if (!item && min == 0)
        return 0;
    if (!item)
        return cf_error_set(d, CF_EFIELD_MISSING, name, "%s is required", name);
    if (!cJSON_IsArray(item))
        return cf_error_set(d, CF_EFIELD_TYPE, name, "%s must be an array", name);
    size_t n = (size_t)cJSON_GetArraySize(item);
    if (n < min || n > max)
        return cf_error_set(d, CF_EFIELD_RANGE, name, "%s must hold %zu to %zu entries", name, min,
                            max);
    *out = item;
    return 0;
}

static int read_settlement(const cJSON *item, const char *path,
                           const struct be_trip_settlement *before, struct be_trip_settlement *s,
                           struct cf_error_detail *d)
{
    static const char *const fields[] = {"name", "place", "arrives", "leaves", NULL};
    char field[48];
    int rc = cf_json_check_fields(item, fields, path, d);
    if (!rc)
        rc = cf_json_get_text(item, "name", path, true, BE_TRIP_NAME_MAX, "the settlement's name",
                              s->name, sizeof s->name, d);
    if (!rc)
        rc = cf_json_get_text(item, "place", path, false, BE_TRIP_PLACE_MAX,
                              "where people come in the settlement", s->place, sizeof s->place, d);
    if (!rc)
        rc = get_clock(item, "arrives", path, false, &s->arrives, d);
    if (!rc)
        rc = get_clock(item, "leaves", path, true, &s->leaves, d);
    snprintf(field, sizeof field, "%s.leaves", path);
    if (!rc && s->leaves <= s->arrives)
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be after arrives", field);
    snprintf(field, sizeof field, "%s.arrives", path);
    if (!rc && before && s->arrives < before->leaves)
        rc = cf_error_set(d, CF_EFIELD_RANGE, field,
                          "%s must not be before the previous settlement is left", field);
    return rc;
}

static int read_member(const cJSON *item, const char *path, struct be_trip_member *m,
                       struct cf_error_detail *d)
{
    static const char *const fields[] = {"user_id", "worker_id", "duty", NULL};
    char field[48];
    int rc = cf_json_check_fields(item, fields, path, d);
    if (!rc)
        rc = cf_json_get_string(item, "user_id", path, false, 36, m->user_id, sizeof m->user_id, d);
    if (!rc)
        rc = cf_json_get_string(item, "worker_id", path, false, 36, m->worker_id,
                                sizeof m->worker_id, d);
    if (!rc && (m->user_id[0] != '\0') == (m->worker_id[0] != '\0'))
        rc = cf_error_set(d, CF_EFIELD_RANGE, path, "%s must name either user_id or worker_id",
                          path);
    snprintf(field, sizeof field, "%s.%s", path, m->user_id[0] ? "user_id" : "worker_id");
    if (!rc && !canonical_uuid(m->user_id[0] ? m->user_id : m->worker_id))
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be an id", field);
    if (!rc)
        rc = cf_json_get_text(item, "duty", path, false, BE_TRIP_DUTY_MAX,
                              "what the member does on the trip", m->duty, sizeof m->duty, d);
    return rc;
}

static int read_partner(const cJSON *item, const char *path, struct be_trip_partner *p,
                        struct cf_error_detail *d)
{
    static const char *const fields[] = {"name", "activity", NULL};
    int rc = cf_json_check_fields(item, fields, path, d);
    if (!rc)
        rc = cf_json_get_text(item, "name", path, true, BE_TRIP_NAME_MAX,
                              "the partner organisation's name", p->name, sizeof p->name, d);
    if (!rc)
        rc = cf_json_get_text(item, "activity", path, false, BE_TRIP_PLACE_MAX,
                              "what the partner does on the trip", p->activity, sizeof p->activity,
                              d);
    return rc;
}

static bool same_member(const struct be_trip_member *a, const struct be_trip_member *b)
{
    return strcmp(a->user_id, b->user_id) == 0 && strcmp(a->worker_id, b->worker_id) == 0;
}

/* The lists of a trip body, each entry checked (settlements in order, members once). */
static int read_lists(const cJSON *body, struct be_trip *t, struct cf_error_detail *d)
{
    const cJSON *list = NULL;
    char path[32];
    int rc = get_array(body, "settlements", 1, BE_TRIP_SETTLEMENTS_MAX, &list, d);
    for (const cJSON *it = list ? list->child : NULL; !rc && it; it = it->next) {
        size_t i = t->settlement_count++;
        snprintf(path, sizeof path, "settlements[%zu]", i);
        rc = read_settlement(it, path, i ? &t->settlements[i - 1] : NULL, &t->settlements[i], d);
    }
    if (!rc)
        rc = get_array(body, "members", 0, BE_TRIP_MEMBERS_MAX, &list, d);
    for (const cJSON *it = list ? list->child : NULL; !rc && it; it = it->next) {
        size_t i = t->member_count++;
        snprintf(path, sizeof path, "members[%zu]", i);
        rc = read_member(it, path, &t->members[i], d);
        for (size_t j = 0; !rc && j < i; j++)
            if (same_member(&t->members[j], &t->members[i]))
                rc = cf_error_set(d, CF_EFIELD_RANGE, path, "%s names a member given before", path);
    }
    if (!rc)
        rc = get_array(body, "partners", 0, BE_TRIP_PARTNERS_MAX, &list, d);
    for (const cJSON *it = list ? list->child : NULL; !rc && it; it = it->next) {
        size_t i = t->partner_count++;
        snprintf(path, sizeof path, "partners[%zu]", i);
        rc = read_partner(it, path, &t->partners[i], d);
    }
    return rc;
}

int be_trip_read(const char *text, size_t len, struct be_trip *t, struct cf_error_detail *d)
{
    static const char *const fields[] = {
        "office_id",    "provider_id", "day",     "title",    "booking_info",
        "slot_minutes", "settlements", "members", "partners", NULL};
    cJSON *body = NULL;
    int64_t slot = 30;
    memset(t, 0, sizeof *t);
    int rc = cf_json_parse_capped(text ? text : "", len, BODY_MAX_BYTES, BODY_MAX_VALUES, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, fields, "", d);
    if (!rc)
        rc = cf_json_get_string(body, "office_id", "", false, 36, t->office_id, sizeof t->office_id,
                                d);
    if (!rc && t->office_id[0] && !canonical_uuid(t->office_id))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "office_id", "office_id must be an office's id");
    if (!rc)
        rc = cf_json_get_string(body, "provider_id", "", false, 36, t->provider_id,
                                sizeof t->provider_id, d);
    if (!rc && t->provider_id[0] && !canonical_uuid(t->provider_id))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "provider_id", "provider_id must be a provider's id");
    if (!rc)
        rc = cf_json_get_string(body, "day", "", true, 10, t->day, sizeof t->day, d);
    if (!rc && (strlen(t->day) != 10 || !be_time_text_valid(t->day)))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "day", "day must be a date like 2026-12-12");
    if (!rc)
        rc = cf_json_get_text(body, "title", "", true, BE_TRIP_TITLE_MAX, "the trip's title",
                              t->title, sizeof t->title, d);
    if (!rc)
        rc = cf_json_get_text(body, "booking_info", "", false, BE_TRIP_BOOKING_INFO_MAX,
                              "how people book a visit of the brigade", t->booking_info,
                              sizeof t->booking_info, d);
    if (!rc && cJSON_GetObjectItemCaseSensitive(body, "slot_minutes"))
        rc = cf_json_get_int(body, "slot_minutes", "", true, 10, 240, &slot, d);
    t->slot_minutes = (int)slot;
    if (!rc)
        rc = read_lists(body, t, d);
    cJSON_Delete(body);
    return rc;
}

int be_trip_move_read(const char *text, size_t len, struct be_trip_move *m,
                      struct cf_error_detail *d)
{
    static const char *const fields[] = {"to", "reason", NULL};
    cJSON *body = NULL;
    memset(m, 0, sizeof *m);
    int rc = cf_json_parse_capped(text ? text : "", len, SMALL_BODY_MAX_BYTES,
                                  SMALL_BODY_MAX_VALUES, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, fields, "", d);
    if (!rc)
        rc = cf_json_get_string(body, "to", "", true, sizeof m->to - 1, m->to, sizeof m->to, d);
    if (!rc && strcmp(m->to, "announced") && strcmp(m->to, "done") && strcmp(m->to, "cancelled"))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "to", "to must be announced, done or cancelled");
    if (!rc)
        rc = cf_json_get_text(body, "reason", "", false, BE_TRIP_REASON_MAX,
                              "why the trip is cancelled", m->reason, sizeof m->reason, d);
    cJSON_Delete(body);
    return rc;
}

int be_trip_booking_read(const char *text, size_t len, struct be_trip_booking *b,
                         struct cf_error_detail *d)
{
    static const char *const fields[] = {"settlement", "start",     "kind", "person_name",
                                         "phone",      "person_id", NULL};
    cJSON *body = NULL;
    int64_t settlement = 0;
    memset(b, 0, sizeof *b);
    int rc = cf_json_parse_capped(text ? text : "", len, SMALL_BODY_MAX_BYTES,
                                  SMALL_BODY_MAX_VALUES, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, fields, "", d);
    if (!rc)
        rc = cf_json_get_int(body, "settlement", "", true, 1, BE_TRIP_SETTLEMENTS_MAX, &settlement,
                             d);
    b->settlement = (int)settlement;
    if (!rc)
        rc = cf_json_get_string(body, "start", "", true, sizeof b->start - 1, b->start,
                                sizeof b->start, d);
    if (!rc && (!be_time_text_valid(b->start) || !strchr(b->start, 'T')))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "start",
                          "start must be a time like 2026-12-12T10:30:00+03:00");
    if (!rc)
        rc = cf_json_get_string(body, "kind", "", true, sizeof b->kind - 1, b->kind, sizeof b->kind,
                                d);
    if (!rc && strcmp(b->kind, "home_survey") && strcmp(b->kind, "aid_handover"))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "kind",
                          "kind must be home_survey or aid_handover on a trip");
    if (!rc)
        rc = cf_json_get_text(body, "person_name", "", true, BE_APPT_NAME_MAX,
                              "the person's full name", b->person_name, sizeof b->person_name, d);
    if (!rc)
        rc = cf_json_get_string(body, "phone", "", true, BE_APPT_PHONE_MAX, b->phone,
                                sizeof b->phone, d);
    if (!rc && be_appointment_phone_key(b->phone, b->person_key, sizeof b->person_key))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "phone",
                          "phone must be a Russian phone number, like +7 912 345-67-89");
    if (!rc)
        rc = cf_json_get_string(body, "person_id", "", false, 36, b->person_id, sizeof b->person_id,
                                d);
    if (!rc && b->person_id[0]) {
        if (!canonical_uuid(b->person_id))
            rc =
                cf_error_set(d, CF_EFIELD_RANGE, "person_id", "person_id must be a recipient's id");
        else
            snprintf(b->person_key, sizeof b->person_key, "person:%s", b->person_id);
    }
    cJSON_Delete(body);
    return rc;
}

/* ==== Answers ==== */

static void reply_not_found(struct be_request *req)
{
    be_reply_problem(req, 404, "not-found", "No such trip", "No trip you may see has this id.",
                     NULL, NULL);
}

static bool read_id(struct be_request *req, char out[CF_UUID_TEXT_LEN + 1])
{
    uint8_t id[CF_UUID_LEN];
    if (cf_uuid_from_text(be_param(req, "id"), id)) {
        reply_not_found(req);
        return false;
    }
    cf_uuid_to_text(id, out);
    return true;
}

/* One row, one JSON column, answered with status; no row is 404. */
static void reply_row(struct be_request *req, const char *sql, int n, const char *const *params,
                      int status, const char *what)
{
    PGresult *res = PQexecParams(req->db, sql, n, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK))
        be_reply_db_error(req, req->db, what);
    else if (PQntuples(res) != 1)
        reply_not_found(req);
    else
        be_reply_json(req, status, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}

static void reply_trip(struct be_request *req, const char *id, int status)
{
    const char *params[1] = {id};
    reply_row(req, sql_trip_get, 1, params, status, "trip");
}

/* May the caller change this office's trips? The front office only its own. */
static bool own_office(struct be_request *req, const char *office)
{
    if (!req->who.office[0] || strcmp(req->who.office, "*") == 0 ||
        strcmp(office, req->who.office) == 0)
        return true;
    be_reply_problem(req, 403, "forbidden", "Not your office",
                     "You may plan only your own office's trips.", "office_id", NULL);
    return false;
}

/* ==== Lists and the trip's day ==== */

/* GET /api/v1/trips?from=YYYY-MM-DD&state=: the trips the caller sees, by day. */
static void handle_list(struct be_request *req)
{
    char from[16], state[16];
    struct be_query_param params[] = {{"from", from, sizeof from}, {"state", state, sizeof state}};
    struct cf_error_detail d = {0};
    int rc = be_query_parse(req->query, params, 2, &d);
    if (!rc && from[0] && (strlen(from) != 10 || !be_time_text_valid(from)))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "from", "from must be a date like 2026-12-12");
    if (!rc && state[0] && strcmp(state, "planned") && strcmp(state, "announced") &&
        strcmp(state, "done") && strcmp(state, "cancelled"))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "state",
                          "state must be planned, announced, done or cancelled");
    if (rc) {
        be_reply_query_invalid(req, &d);
        return;
    }
    const char *values[2] = {from, state};
    reply_row(req, sql_trip_list, 2, values, 200, "trips");
}

/* GET /api/v1/trips/{id}: the trip's day. */
static void handle_get(struct be_request *req)
{
    char id[CF_UUID_TEXT_LEN + 1];
    if (read_id(req, id))
        reply_trip(req, id, 200);
}

/* GET /api/v1/public/trips?region=: the region's (default: the first by name) announced
 * trips from today on. */
static void handle_public(struct be_request *req)
{
    char region[48];
    struct be_query_param params[] = {{"region", region, sizeof region}};
    struct cf_error_detail d = {0};
    int rc = be_query_parse(req->query, params, 1, &d);
    if (!rc && region[0] && !canonical_uuid(region))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "region", "region must be a region's id");
    if (rc) {
        be_reply_query_invalid(req, &d);
        return;
    }
    const char *values[1] = {region};
    reply_row(req, sql_trip_public, 1, values, 200, "public trips");
}

/* ==== Saving a trip ==== */

static bool add_string(cJSON *obj, const char *name, const char *value)
{
    return cJSON_AddStringToObject(obj, name, value) != NULL;
}

/* The lists of t as the JSON arrays trip_save takes (each caller frees). */
static int lists_json(const struct be_trip *t, char **settlements, char **members, char **partners)
{
    cJSON *s = cJSON_CreateArray(), *m = cJSON_CreateArray(), *p = cJSON_CreateArray();
    bool ok = s && m && p;
    for (size_t i = 0; ok && i < t->settlement_count; i++) {
        const struct be_trip_settlement *x = &t->settlements[i];
        char arrives[8], leaves[8];
        snprintf(arrives, sizeof arrives, "%02d:%02d", (x->arrives / 60) % 100, x->arrives % 60);
        snprintf(leaves, sizeof leaves, "%02d:%02d", (x->leaves / 60) % 100, x->leaves % 60);
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(s, o) && add_string(o, "name", x->name) &&
             add_string(o, "place", x->place) && add_string(o, "arrives", arrives) &&
             add_string(o, "leaves", leaves);
    }
    for (size_t i = 0; ok && i < t->member_count; i++) {
        const struct be_trip_member *x = &t->members[i];
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(m, o) &&
             add_string(o, x->user_id[0] ? "user_id" : "worker_id",
                        x->user_id[0] ? x->user_id : x->worker_id) &&
             add_string(o, "duty", x->duty);
    }
    for (size_t i = 0; ok && i < t->partner_count; i++) {
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(p, o) && add_string(o, "name", t->partners[i].name) &&
             add_string(o, "activity", t->partners[i].activity);
    }
    *settlements = ok ? cJSON_PrintUnformatted(s) : NULL;
    *members = ok ? cJSON_PrintUnformatted(m) : NULL;
    *partners = ok ? cJSON_PrintUnformatted(p) : NULL;
    cJSON_Delete(s);
    cJSON_Delete(m);
    cJSON_Delete(p);
    return *settlements && *members && *partners ? 0 : CF_ENOMEM;
}

struct saving {
    char id[CF_UUID_TEXT_LEN + 1]; /* "" for a new trip; the trip's after saving */
    struct be_trip *body;
    char *settlements, *members, *partners;
    char outcome[16];
    int index;
};

static int save_tx(struct be_request *req, void *ctx)
{
    struct saving *x = ctx;
    char slot[12];
    bool created = !x->id[0];
    snprintf(slot, sizeof slot, "%d", x->body->slot_minutes);
    const char *params[12] = {x->id,        x->body->office_id, x->body->provider_id,
                              x->body->day, x->body->title,     x->body->booking_info,
                              slot,         x->settlements,     x->members,
                              x->partners,  req->who.login,     ROLE_TEXT(req->who)};
    PGresult *res = PQexecParams(req->db, sql_trip_save, 12, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        static const char *const names[12] = {NULL, "office_id", "provider_id", "day"};
        be_db_name_field(req, names, params, 4);
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    snprintf(x->id, sizeof x->id, "%s", PQgetvalue(res, 0, 1));
    x->index = (int)strtol(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    if (strcmp(x->outcome, "saved") != 0)
        return BE_TX_ROLLBACK;
    return be_audit(req, created ? "trip.create" : "trip.edit", x->id, "", NULL) ? BE_TX_FAILED
                                                                                 : BE_TX_COMMIT;
}

/* A refusal of trip_save as its problem. */
static void reply_save_refused(struct be_request *req, const struct saving *x)
{
    char field[48], detail[200];
    const char *o = x->outcome;
    if (strcmp(o, "not_found") == 0)
        reply_not_found(req);
    else if (strcmp(o, "not_planned") == 0)
        be_reply_problem(req, 409, "trip-not-planned", "The trip cannot change now",
                         "Only a planned trip is edited: an announced one was told to people.",
                         NULL, NULL);
    else if (strcmp(o, "office") == 0)
        be_reply_problem(req, 422, "validation", "A field is not valid", "No office has this id.",
                         "office_id", NULL);
    else if (strcmp(o, "past") == 0)
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "The day has passed in the region.", "day", NULL);
    else if (strcmp(o, "provider") == 0)
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "The provider is not one of the office's region.", "provider_id", NULL);
    else if (strcmp(o, "order") == 0) {
        snprintf(field, sizeof field, "settlements[%d].arrives", x->index);
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "The settlements' times must follow one another.", field, NULL);
    } else if (strcmp(o, "member") == 0) {
        snprintf(field, sizeof field, "members[%d]", x->index);
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "No active user or worker of the trip's region (and provider) has "
                         "this id.",
                         field, NULL);
    } else {
        snprintf(detail, sizeof detail,
                 "Settlement %d has appointments booked: cancel them before removing it.",
                 x->index);
        be_reply_problem(req, 409, "trip-settlement-booked", "The settlement has appointments",
                         detail, "settlements", NULL);
    }
}

static void save(struct be_request *req, struct saving *x, int status)
{
    if (lists_json(x->body, &x->settlements, &x->members, &x->partners)) {
        be_reply_server_fault(req, "trip: lists");
    } else {
        int rc = be_db_transaction(req, NULL, "trip", save_tx, x);
        if (rc == BE_TX_COMMIT)
            reply_trip(req, x->id, status);
        else if (rc == BE_TX_ROLLBACK)
            reply_save_refused(req, x);
    }
    cJSON_free(x->settlements);
    cJSON_free(x->members);
    cJSON_free(x->partners);
}

/* POST /api/v1/trips: plan a trip (the front office: its own office). */
static void handle_create(struct be_request *req)
{
    struct saving x;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    x.body = malloc(sizeof *x.body);
    if (!x.body) {
        be_reply_server_fault(req, "trip: memory");
        return;
    }
    if (be_trip_read(req->body, req->body_len, x.body, &d)) {
        be_reply_invalid(req, &d);
    } else if (!x.body->office_id[0] && !req->who.office[0]) {
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "office_id is required: name the office that organises the trip.",
                         "office_id", NULL);
    } else {
        if (!x.body->office_id[0])
            snprintf(x.body->office_id, sizeof x.body->office_id, "%s", req->who.office);
        if (own_office(req, x.body->office_id))
            save(req, &x, 201);
    }
    free(x.body);
}

/* PUT /api/v1/trips/{id}: replace a planned trip's fields and lists. */
static void handle_edit(struct be_request *req)
{
    struct saving x;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (!read_id(req, x.id))
        return;
    x.body = malloc(sizeof *x.body);
    if (!x.body) {
        be_reply_server_fault(req, "trip: memory");
        return;
    }
    if (be_trip_read(req->body, req->body_len, x.body, &d))
        be_reply_invalid(req, &d);
    else
        save(req, &x, 200);
    free(x.body);
}

/* ==== Changing state ==== */

struct moving {
    char id[CF_UUID_TEXT_LEN + 1];
    struct be_trip_move body;
    char outcome[16], from[16];
    long messages;
};

static int move_tx(struct be_request *req, void *ctx)
{
    struct moving *x = ctx;
    const char *params[5] = {x->id, x->body.to, x->body.reason, req->who.login,
                             ROLE_TEXT(req->who)};
    PGresult *res = PQexecParams(req->db, sql_trip_move, 5, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    snprintf(x->from, sizeof x->from, "%s", PQgetvalue(res, 0, 1));
    x->messages = strtol(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    if (strcmp(x->outcome, "moved") != 0)
        return BE_TX_ROLLBACK;
    char action[32], details[48];
    snprintf(action, sizeof action, "trip.%s", x->body.to);
    snprintf(details, sizeof details, "{\"messages\":%ld}", x->messages);
    return be_audit(req, action, x->id, x->body.reason, details) ? BE_TX_FAILED : BE_TX_COMMIT;
}

static void reply_move_refused(struct be_request *req, const struct moving *x)
{
    char detail[200];
    const char *o = x->outcome;
    if (strcmp(o, "not_found") == 0)
        reply_not_found(req);
    else if (strcmp(o, "reason") == 0)
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "Cancelling a trip needs a reason: the people booked read it.", "reason",
                         NULL);
    else if (strcmp(o, "too_late") == 0)
        be_reply_problem(req, 409, "trip-notice", "Too late to announce",
                         "A trip is announced at least the region's notice days before its day "
                         "(3 unless the region says otherwise), so people in the villages hear "
                         "of it: move the trip to a later day.",
                         "to", NULL);
    else if (strcmp(o, "too_early") == 0)
        be_reply_problem(req, 409, "too-early", "Too early", "A trip is done on its day or later.",
                         "to", NULL);
    else {
        snprintf(detail, sizeof detail, "A trip in state %s cannot move to %s.", x->from,
                 x->body.to);
        be_reply_problem(req, 409, "illegal-transition", "Not a legal transition", detail, "to",
                         NULL);
    }
}

/* The office of a trip the caller sees into office ("" when it sees none); false when
 * the query failed (answered). */
static bool trip_office(struct be_request *req, const char *id, char office[CF_UUID_TEXT_LEN + 1])
{
    const char *params[1] = {id};
    PGresult *res = PQexecParams(req->db, sql_trip_office_of, 1, NULL, params, NULL, NULL, 0);
    bool ok = be_db_check(req, res, PGRES_TUPLES_OK);
    office[0] = '\0';
    if (!ok)
        be_reply_db_error(req, req->db, "trip");
    else if (PQntuples(res) == 1)
        snprintf(office, CF_UUID_TEXT_LEN + 1, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return ok;
}

/* POST /api/v1/trips/{id}/transitions: announce, mark done, cancel. */
static void handle_move(struct be_request *req)
{
    struct moving x;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (!read_id(req, x.id))
        return;
    if (be_trip_move_read(req->body, req->body_len, &x.body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    int rc = be_db_transaction(req, NULL, "trip change", move_tx, &x);
    if (rc == BE_TX_COMMIT)
        reply_trip(req, x.id, 200);
    else if (rc == BE_TX_ROLLBACK)
        reply_move_refused(req, &x);
}

/* ==== Booking on a trip ==== */

struct booking {
    char trip[CF_UUID_TEXT_LEN + 1];
    struct be_trip_booking body;
    char outcome[16], id[CF_UUID_TEXT_LEN + 1];
    char secret[33];
};

static int book_tx(struct be_request *req, void *ctx)
{
    struct booking *x = ctx;
    char settlement[12];
    snprintf(settlement, sizeof settlement, "%d", x->body.settlement);
    const char *params[9] = {x->trip,       settlement,         x->body.start,
                             x->body.kind,  x->body.person_key, x->body.person_name,
                             x->body.phone, req->who.login,     x->secret};
    PGresult *res =
        PQexecParams(req->db, sql_trip_appointment_take, 9, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        static const char *const names[9] = {NULL, "settlement", "start"};
        be_db_name_field(req, names, params, 3);
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    snprintf(x->id, sizeof x->id, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    if (strcmp(x->outcome, "taken") != 0)
        return BE_TX_ROLLBACK;
    return be_audit(req, "appointment.book", x->id, "", NULL) ? BE_TX_FAILED : BE_TX_COMMIT;
}

static void reply_book_refused(struct be_request *req, const char *o)
{
    if (strcmp(o, "not_found") == 0)
        reply_not_found(req);
    else if (strcmp(o, "trip_state") == 0)
        be_reply_problem(req, 409, "illegal-transition", "The trip takes no bookings",
                         "Only a planned or announced trip takes bookings.", NULL, NULL);
    else if (strcmp(o, "no_settlement") == 0)
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "The trip has no settlement at this position.", "settlement", NULL);
    else if (strcmp(o, "outside") == 0)
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "start must be on the trip's day, within the settlement's times "
                         "(the whole appointment).",
                         "start", NULL);
    else if (strcmp(o, "past") == 0)
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "This time has already begun.", "start", NULL);
    else if (strcmp(o, "kind") == 0)
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "Only a home survey or an aid hand-over is booked on a trip.", "kind",
                         NULL);
    else
        be_reply_problem(req, 409, "slot-taken", "The time is taken",
                         "The brigade already has an appointment at this time: choose another.",
                         "start", NULL);
}

/* POST /api/v1/trips/{id}/appointments: the front office books a person on the trip. */
static void handle_book(struct be_request *req)
{
    struct booking x;
    struct cf_error_detail d = {0};
    char office[CF_UUID_TEXT_LEN + 1];
    unsigned char raw[16];
    memset(&x, 0, sizeof x);
    if (!read_id(req, x.trip))
        return;
    if (be_trip_booking_read(req->body, req->body_len, &x.body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    if (!trip_office(req, x.trip, office))
        return;
    if (!office[0]) {
        reply_not_found(req);
        return;
    }
    if (!own_office(req, office))
        return;
    /* A desk booking is never confirmed or cancelled by a secret: a random one nobody
     * holds fills the column (appointments.secret_hash is required). */
    if (RAND_bytes(raw, sizeof raw) != 1) {
        be_reply_server_fault(req, "trip booking: random secret");
        return;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(x.secret + 2 * i, 3, "%02x", raw[i]);
    OPENSSL_cleanse(raw, sizeof raw);
    int rc = be_db_transaction(req, NULL, "trip booking", book_tx, &x);
    if (rc == BE_TX_COMMIT)
        reply_trip(req, x.trip, 201);
    else if (rc == BE_TX_ROLLBACK)
        reply_book_refused(req, x.outcome);
}

#define PLANNERS (BE_INTAKE_LEAD | BE_ADMIN)
#define READERS (BE_STAFF | BE_OVERSIGHT | BE_MANAGER)

static const struct be_route routes[] = {
    {"GET", "/api/v1/public/trips", handle_public, true, BE_PUBLIC, BE_BODY_NONE},
    {"GET", "/api/v1/trips", handle_list, true, READERS, BE_BODY_NONE},
    {"POST", "/api/v1/trips", handle_create, true, PLANNERS, BODY_MAX_BYTES},
    {"GET", "/api/v1/trips/{id}", handle_get, true, READERS, BE_BODY_NONE},
    {"PUT", "/api/v1/trips/{id}", handle_edit, true, PLANNERS, BODY_MAX_BYTES},
    {"POST", "/api/v1/trips/{id}/transitions", handle_move, true, PLANNERS, BE_BODY_FORM},
    {"POST", "/api/v1/trips/{id}/appointments", handle_book, true,
     BE_INTAKE | BE_INTAKE_LEAD | BE_ADMIN, BE_BODY_SMALL},
};
const struct be_module be_trips_module = BE_MODULE("trips", routes);
