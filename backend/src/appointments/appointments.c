/* Appointments (issue 16): the citizen's free slots, hold, confirmation and
 * cancellation (public: the hold's secret proves who may confirm or cancel), the front
 * office's booking for a caller on the phone, its state changes (one SQL function,
 * appointment_move, over the table of legal transitions), rescheduling, an office's day
 * and its figures.
 *
 * Double booking is refused by the database's exclusion constraint, not by a check
 * here: appointment_take tries the seats in turn and the constraint decides between
 * concurrent takers. Who sees what is row-level security (the front office its office;
 * sql/0021_appointments.sql); a staff call naming another office is a 403 here first.
 * The hold's secret is returned once; only its SHA-256 is kept. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "be/appointments.h"
#include "be/audit.h"
#include "be/auth.h"
#include "be/db.h"
#include "be/query.h"
#include "be/reply.h"
#include "cf/json.h"
#include "cf/uuid.h"
#include "sql/appointments_sql.h"

#define BODY_MAX_BYTES (16u * 1024)
#define BODY_MAX_VALUES 32

static const char *const kinds[] = {"document_check", "consultation", "home_survey",
                                    "aid_handover",   "aid_return",   NULL};
/* the states the front office moves an appointment to */
static const char *const staff_moves[] = {"checked_in", "in_service", "served", "left_unserved",
                                          "no_show",    "cancelled",  NULL};

/* how the desk identified a person it checks in by hand (sql/0033 check_in_identified) */
static const char *const identifications[] = {"passport", "document_digits", "known_to_staff",
                                              NULL};

static bool one_of(const char *value, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(value, list[i]) == 0)
            return true;
    return false;
}

/* ==== Reading bodies (pure) ==== */

int be_appointment_phone_key(const char *phone, char *out, size_t out_size)
{
    char digits[24];
    size_t n = 0;
    for (const char *p = phone; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n + 1 >= sizeof digits)
                return CF_EFIELD_RANGE;
            digits[n++] = *p;
        } else if (!strchr(" +()-", *p)) {
            return CF_EFIELD_RANGE;
        }
    }
    digits[n] = '\0';
    const char *national; /* the 10 digits after the country code */
    if (n == 10)
        national = digits;
    else if (n == 11 && (digits[0] == '7' || digits[0] == '8'))
        national = digits + 1;
    else
        return CF_EFIELD_RANGE;
    int written = snprintf(out, out_size, "tel:7%s", national);
    return written > 0 && (size_t)written < out_size ? 0 : CF_EFIELD_RANGE;
}

/* The person's phone, required and not empty: it is how the office reaches them and
 * the key their per-person limit counts by. */
static int get_phone(const cJSON *body, char *phone, size_t phone_size, char *key, size_t key_size,
                     struct cf_error_detail *d)
{
    int rc = cf_json_get_string(body, "phone", "", true, BE_APPT_PHONE_MAX, phone, phone_size, d);
    if (!rc && be_appointment_phone_key(phone, key, key_size))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "phone",
                          "phone must be a Russian phone number, like +7 912 345-67-89");
    return rc;
}

static int get_start(const cJSON *body, char start[40], struct cf_error_detail *d)
{
    int rc = cf_json_get_string(body, "start", "", true, 39, start, 40, d);
    if (!rc && (!be_time_text_valid(start) || !strchr(start, 'T')))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "start",
                          "start must be a slot's start as the slots list gives it, like "
                          "2026-12-07T09:00:00+03:00");
    return rc;
}

int be_appointment_take_read(const char *text, size_t len, enum be_appointment_source source,
                             struct be_appointment_take *t, struct cf_error_detail *d)
{
    static const char *const public_fields[] = {"office_id", "start", "kind", NULL};
    static const char *const staff_fields[] = {"office_id", "start",     "kind", "person_name",
                                               "phone",     "person_id", NULL};
    cJSON *body = NULL;
    uint8_t id[CF_UUID_LEN];
    memset(t, 0, sizeof *t);
    int rc = cf_json_parse_capped(text ? text : "", len, BODY_MAX_BYTES, BODY_MAX_VALUES, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, source == BE_APPT_PUBLIC ? public_fields : staff_fields, "",
                                  d);
    if (!rc)
        rc = cf_json_get_string(body, "office_id", "", source == BE_APPT_PUBLIC,
                                sizeof t->office_id - 1, t->office_id, sizeof t->office_id, d);
    if (!rc && t->office_id[0] && cf_uuid_from_text(t->office_id, id))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "office_id", "office_id must be an office's id");
    if (!rc)
        rc = get_start(body, t->start, d);
    if (!rc)
        rc = cf_json_get_string(body, "kind", "", true, sizeof t->kind - 1, t->kind, sizeof t->kind,
                                d);
    if (!rc && !one_of(t->kind, kinds))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "kind",
                          "kind must be one of document_check, consultation, home_survey, "
                          "aid_handover, aid_return");
    if (!rc && source == BE_APPT_STAFF) {
        rc = cf_json_get_text(body, "person_name", "", true, BE_APPT_NAME_MAX,
                              "the person's full name", t->person_name, sizeof t->person_name, d);
        if (!rc)
            rc = get_phone(body, t->phone, sizeof t->phone, t->person_key, sizeof t->person_key, d);
        if (!rc)
            rc = cf_json_get_string(body, "person_id", "", false, sizeof t->person_id - 1,
                                    t->person_id, sizeof t->person_id, d);
        if (!rc && t->person_id[0]) {
            if (cf_uuid_from_text(t->person_id, id))
                rc = cf_error_set(d, CF_EFIELD_RANGE, "person_id",
                                  "person_id must be a recipient's id");
            else {
                char canonical[CF_UUID_TEXT_LEN + 1];
                cf_uuid_to_text(id, canonical);
                snprintf(t->person_key, sizeof t->person_key, "person:%s", canonical);
            }
        }
    }
    cJSON_Delete(body);
    return rc;
}

int be_appointment_public_read(const char *text, size_t len, enum be_appointment_public_kind kind,
                               struct be_appointment_public *p, struct cf_error_detail *d)
{
    static const char *const confirm_fields[] = {"secret", "person_name", "phone", NULL};
    static const char *const cancel_fields[] = {"secret", "reason", NULL};
    cJSON *body = NULL;
    memset(p, 0, sizeof *p);
    int rc = cf_json_parse_capped(text ? text : "", len, BODY_MAX_BYTES, BODY_MAX_VALUES, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, kind == BE_APPT_CONFIRM ? confirm_fields : cancel_fields,
                                  "", d);
    if (!rc)
        rc = cf_json_get_string(body, "secret", "", true, BE_APPT_SECRET_HEX, p->secret,
                                sizeof p->secret, d);
    if (!rc && (strlen(p->secret) != BE_APPT_SECRET_HEX ||
                strspn(p->secret, "0123456789abcdef") != BE_APPT_SECRET_HEX))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "secret",
                          "secret must be the secret the hold was answered with");
    if (!rc && kind == BE_APPT_CONFIRM) {
        rc = cf_json_get_text(body, "person_name", "", true, BE_APPT_NAME_MAX, "your full name",
                              p->person_name, sizeof p->person_name, d);
        if (!rc)
            rc = get_phone(body, p->phone, sizeof p->phone, p->person_key, sizeof p->person_key, d);
    } else if (!rc) {
        rc = cf_json_get_text(body, "reason", "", false, BE_APPT_REASON_MAX,
                              "why (the office reads it)", p->reason, sizeof p->reason, d);
    }
    cJSON_Delete(body);
    return rc;
}

int be_appointment_move_read(const char *text, size_t len, struct be_appointment_move *m,
                             struct cf_error_detail *d)
{
    static const char *const allowed[] = {"to", "reason", "identified_by", "document_digits", NULL};
    cJSON *body = NULL;
    memset(m, 0, sizeof *m);
    int rc = cf_json_parse_capped(text ? text : "", len, BODY_MAX_BYTES, 8, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, allowed, "", d);
    if (!rc)
        rc = cf_json_get_string(body, "to", "", true, sizeof m->to - 1, m->to, sizeof m->to, d);
    if (!rc && !one_of(m->to, staff_moves))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "to",
                          "to must be one of checked_in, in_service, served, left_unserved, "
                          "no_show, cancelled");
    if (!rc)
        rc = cf_json_get_text(body, "reason", "", false, BE_APPT_REASON_MAX,
                              "why (the person reads it)", m->reason, sizeof m->reason, d);
    bool check_in = strcmp(m->to, "checked_in") == 0;
    if (!rc)
        rc = cf_json_get_string(body, "identified_by", "", check_in, sizeof m->identified_by - 1,
                                m->identified_by, sizeof m->identified_by, d);
    if (!rc && (check_in ? !one_of(m->identified_by, identifications) : m->identified_by[0]))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "identified_by",
                          check_in ? "identified_by must be passport, document_digits or "
                                     "known_to_staff: how the desk knew the person"
                                   : "identified_by goes only with to checked_in");
    if (!rc)
        rc = cf_json_get_string(body, "document_digits", "", false, BE_APPT_DOC_DIGITS,
                                m->document_digits, sizeof m->document_digits, d);
    bool by_digits = strcmp(m->identified_by, "document_digits") == 0;
    if (!rc && (by_digits ? strlen(m->document_digits) != BE_APPT_DOC_DIGITS ||
                                strspn(m->document_digits, "0123456789") != BE_APPT_DOC_DIGITS
                          : m->document_digits[0] != '\0'))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "document_digits",
                          by_digits ? "document_digits must be the last 4 digits of the "
                                      "document's number"
                                    : "document_digits goes only with identified_by "
                                      "document_digits");
    cJSON_Delete(body);
    return rc;
}

int be_desk_exception_resolve_read(const char *text, size_t len,
                                   struct be_desk_exception_resolve *r, struct cf_error_detail *d)
{
    static const char *const allowed[] = {"resolution", "note", NULL};
    static const char *const resolutions[] = {"accepted", "dismissed", NULL};
    cJSON *body = NULL;
    memset(r, 0, sizeof *r);
    int rc = cf_json_parse_capped(text ? text : "", len, BODY_MAX_BYTES, 8, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, allowed, "", d);
    if (!rc)
        rc = cf_json_get_string(body, "resolution", "", true, sizeof r->resolution - 1,
                                r->resolution, sizeof r->resolution, d);
    if (!rc && !one_of(r->resolution, resolutions))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "resolution",
                          "resolution must be accepted (check the person in as the card said) "
                          "or dismissed");
    if (!rc)
        rc = cf_json_get_text(body, "note", "", false, BE_APPT_REASON_MAX, "what was decided",
                              r->note, sizeof r->note, d);
    cJSON_Delete(body);
    return rc;
}

int be_appointment_start_read(const char *text, size_t len, char start[40],
                              struct cf_error_detail *d)
{
    static const char *const allowed[] = {"start", NULL};
    cJSON *body = NULL;
    start[0] = '\0';
    int rc = cf_json_parse_capped(text ? text : "", len, BODY_MAX_BYTES, 4, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, allowed, "", d);
    if (!rc)
        rc = get_start(body, start, d);
    cJSON_Delete(body);
    return rc;
}

/* "YYYY-MM-DD" as days since the epoch; false when it is not a real date. */
static bool day_number(const char *date, long *days)
{
    struct tm tm = {0};
    if (strlen(date) != 10 || !be_time_text_valid(date) ||
        sscanf(date, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_hour = 12;
    *days = (long)(timegm(&tm) / 86400);
    return true;
}

int be_office_closure_read(const char *text, size_t len, const char *today,
                           struct be_office_closure *c, struct cf_error_detail *d)
{
    static const char *const allowed[] = {"from", "to", "reason", NULL};
    cJSON *body = NULL;
    long from = 0, to = 0, now = 0;
    memset(c, 0, sizeof *c);
    int rc = cf_json_parse_capped(text ? text : "", len, BODY_MAX_BYTES, 8, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, allowed, "", d);
    if (!rc)
        rc = cf_json_get_string(body, "from", "", true, 10, c->from, sizeof c->from, d);
    if (!rc && (!day_number(c->from, &from) || !day_number(today, &now) || from < now))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "from",
                          "from must be a day like 2026-12-07, today or later");
    if (!rc)
        rc = cf_json_get_string(body, "to", "", true, 10, c->to, sizeof c->to, d);
    if (!rc && (!day_number(c->to, &to) || to < from || to - from >= BE_APPT_CLOSURE_DAYS_MAX))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "to",
                          "to must be a day from `from` on, at most 31 days in all");
    if (!rc)
        rc = cf_json_get_text(body, "reason", "", true, BE_APPT_CLOSURE_REASON_MAX,
                              "why the office is closed (people are told)", c->reason,
                              sizeof c->reason, d);
    cJSON_Delete(body);
    return rc;
}

bool be_office_slot_minutes_ok(int minutes)
{
    return minutes >= 5 && minutes <= 240 && (60 % minutes == 0 || minutes % 15 == 0);
}

/* "HH:MM" (00:00..23:59, or "24:00" when may_end_day) as minutes after midnight; false
 * when it is not one. */
static bool clock_minutes(const char *text, bool may_end_day, int *minutes)
{
    if (strlen(text) != 5 || text[2] != ':' || strspn(text, "0123456789:") != 5 ||
        strchr(text + 3, ':'))
        return false;
    int hours = (text[0] - '0') * 10 + (text[1] - '0');
    int mins = (text[3] - '0') * 10 + (text[4] - '0');
    if (mins > 59 || hours > 24 || (hours == 24 && (mins != 0 || !may_end_day)))
        return false;
    *minutes = hours * 60 + mins;
    return true;
}

static int read_period(const cJSON *item, size_t i, int slot_minutes, struct be_office_period *p,
                       struct cf_error_detail *d)
{
    static const char *const allowed[] = {"weekday", "opens", "closes", NULL};
    char path[24], field[40], opens[8], closes[8];
    int64_t weekday = 0;
    snprintf(path, sizeof path, "hours[%zu]", i);
    int rc = cf_json_check_fields(item, allowed, path, d);
    if (!rc)
        rc = cf_json_get_int(item, "weekday", path, true, 1, 7, &weekday, d);
    if (!rc)
        rc = cf_json_get_string(item, "opens", path, true, 5, opens, sizeof opens, d);
    snprintf(field, sizeof field, "%s.opens", path);
    if (!rc && !clock_minutes(opens, false, &p->opens))
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be a time like 09:00", field);
    if (!rc)
        rc = cf_json_get_string(item, "closes", path, true, 5, closes, sizeof closes, d);
    snprintf(field, sizeof field, "%s.closes", path);
    if (!rc && (!clock_minutes(closes, true, &p->closes) || p->closes <= p->opens))
        rc = cf_error_set(d, CF_EFIELD_RANGE, field,
                          "%s must be a time like 13:00 (or 24:00), after opens", field);
    if (!rc && (p->closes - p->opens) % slot_minutes != 0)
        rc = cf_error_set(d, CF_EFIELD_RANGE, path,
                          "%s must be a whole number of %d-minute slots (%s to %s is not)", path,
                          slot_minutes, opens, closes);
    p->weekday = (int)weekday;
    return rc;
}

int be_office_booking_read(const char *text, size_t len, struct be_office_booking *b,
                           struct cf_error_detail *d)
{
    static const char *const allowed[] = {
        "seats",        "slot_minutes",  "horizon_days", "person_limit",
        "hold_minutes", "grace_minutes", "hours",        NULL};
    static const struct {
        const char *name;
        int64_t min, max;
        size_t offset;
    } numbers[] = {
        {"seats", 1, 50, offsetof(struct be_office_booking, seats)},
        {"slot_minutes", 5, 240, offsetof(struct be_office_booking, slot_minutes)},
        {"horizon_days", 1, 90, offsetof(struct be_office_booking, horizon_days)},
        {"person_limit", 1, 20, offsetof(struct be_office_booking, person_limit)},
        {"hold_minutes", 1, 60, offsetof(struct be_office_booking, hold_minutes)},
        {"grace_minutes", 0, 120, offsetof(struct be_office_booking, grace_minutes)},
    };
    cJSON *body = NULL;
    memset(b, 0, sizeof *b);
    int rc = cf_json_parse_capped(text ? text : "", len, BODY_MAX_BYTES,
                                  16 + 4 * BE_OFFICE_PERIODS_MAX, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, allowed, "", d);
    for (size_t i = 0; !rc && i < sizeof numbers / sizeof numbers[0]; i++) {
        int64_t v = 0;
        rc =
            cf_json_get_int(body, numbers[i].name, "", true, numbers[i].min, numbers[i].max, &v, d);
        *(int *)(void *)((char *)b + numbers[i].offset) = (int)v;
    }
    if (!rc && !be_office_slot_minutes_ok(b->slot_minutes))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "slot_minutes",
                          "slot_minutes must divide an hour (5, 6, 10, 12, 15, 20, 30, 60) or be "
                          "whole quarter hours (45, 75, 90 ... 240)");
    const cJSON *hours = body ? cJSON_GetObjectItemCaseSensitive(body, "hours") : NULL;
    if (!rc && !cJSON_IsArray(hours))
        rc = cf_error_set(d, hours ? CF_EFIELD_TYPE : CF_EFIELD_MISSING, "hours",
                          "hours must be a list of opening periods, like [{\"weekday\":1,"
                          "\"opens\":\"09:00\",\"closes\":\"13:00\"}]");
    if (!rc && (size_t)cJSON_GetArraySize(hours) > BE_OFFICE_PERIODS_MAX)
        rc = cf_error_set(d, CF_EFIELD_RANGE, "hours", "hours holds at most %d periods",
                          BE_OFFICE_PERIODS_MAX);
    const cJSON *item;
    if (!rc)
        cJSON_ArrayForEach(item, hours)
        {
            struct be_office_period *p = &b->periods[b->period_count];
            rc = read_period(item, b->period_count, b->slot_minutes, p, d);
            for (size_t j = 0; !rc && j < b->period_count; j++) {
                const struct be_office_period *q = &b->periods[j];
                if (q->weekday == p->weekday && q->opens < p->closes && p->opens < q->closes)
                    rc = cf_error_set(d, CF_EFIELD_RANGE, "hours",
                                      "hours[%zu] overlaps hours[%zu] on the same weekday",
                                      b->period_count, j);
            }
            if (rc)
                break;
            b->period_count++;
        }
    cJSON_Delete(body);
    return rc;
}

/* ==== Answers ==== */

static void reply_not_found(struct be_request *req)
{
    be_reply_problem(req, 404, "not-found", "No such appointment",
                     "No appointment you may see has this id (or the secret is not its own).", NULL,
                     NULL);
}

/* A refusal of appointment_take, appointment_move, appointment_confirm or
 * appointment_reschedule as its problem; from is the state the appointment was in. */
static void reply_refused(struct be_request *req, const char *outcome, const char *from,
                          const char *to)
{
    char detail[240];
    if (strcmp(outcome, "not_found") == 0)
        reply_not_found(req);
    else if (strcmp(outcome, "no_office") == 0)
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "This office takes no appointments.", "office_id", NULL);
    else if (strcmp(outcome, "not_a_slot") == 0)
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "start is not the start of one of the office's slots that day.", "start",
                         NULL);
    else if (strcmp(outcome, "past") == 0)
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "This slot has already begun.", "start", NULL);
    else if (strcmp(outcome, "beyond_horizon") == 0)
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "Appointments are taken only so many days ahead (see the slots' "
                         "horizon_days).",
                         "start", NULL);
    else if (strcmp(outcome, "closed") == 0)
        be_reply_problem(req, 409, "office-closed", "The office is closed that day",
                         "The office is closed that day: choose another day.", "start", NULL);
    else if (strcmp(outcome, "full") == 0)
        be_reply_problem(req, 409, "slot-taken", "The slot is taken",
                         "Someone else has just taken this slot: choose another.", "start", NULL);
    else if (strcmp(outcome, "limit") == 0)
        be_reply_problem(req, 409, "person-limit", "Too many appointments",
                         "This person already has as many appointments as one may hold; "
                         "cancel one first.",
                         "phone", NULL);
    else if (strcmp(outcome, "expired") == 0)
        be_reply_problem(req, 409, "hold-expired", "The hold has expired",
                         "The 15 minutes to confirm have passed: choose the slot again.", NULL,
                         NULL);
    else if (strcmp(outcome, "reason") == 0) {
        snprintf(detail, sizeof detail,
                 "Moving an appointment to %s needs a reason: the person reads it.", to);
        be_reply_problem(req, 422, "validation", "A field is not valid", detail, "reason", NULL);
    } else if (strcmp(outcome, "identification") == 0)
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "Say how the person was identified: passport, document_digits (with "
                         "the last 4 digits) or known_to_staff.",
                         "identified_by", NULL);
    else if (strcmp(outcome, "too_early") == 0)
        be_reply_problem(req, 409, "too-early", "Too early for a no-show",
                         "A person is a no-show only once the grace period after the start has "
                         "passed.",
                         "to", NULL);
    else {
        snprintf(detail, sizeof detail, "An appointment in state %s cannot move to %s.", from, to);
        be_reply_problem(req, 409, "illegal-transition", "Not a legal transition", detail, "to",
                         NULL);
    }
}

/* 429 too-many-holds: the client's address holds as many live holds as one may; the
 * first of them ends in retry_after_s (also Retry-After). */
static void reply_too_many_holds(struct be_request *req, long retry_after_s)
{
    char detail[240];
    if (retry_after_s < 1)
        retry_after_s = 1;
    snprintf(detail, sizeof detail,
             "Too many slots are held from here at once; confirm or cancel one, or try again in "
             "%ld s.",
             retry_after_s);
    cJSON *extra = cJSON_CreateObject();
    if (extra)
        cJSON_AddNumberToObject(extra, "retry_after_s", (double)retry_after_s);
    be_reply_problem(req, 429, "too-many-holds", "Too many holds", detail, NULL, extra);
}

/* The appointment id as JSON into the answer (status), optionally with the secret. */
static void reply_appointment(struct be_request *req, const char *id, int status,
                              const char *secret)
{
    const char *params[1] = {id};
    PGresult *res = PQexecParams(req->db, sql_appointment_get, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK))
        be_reply_db_error(req, req->db, "appointment");
    else if (PQntuples(res) != 1)
        reply_not_found(req);
    else {
        cJSON *body = cJSON_CreateObject();
        cJSON *appointment = cJSON_Parse(PQgetvalue(res, 0, 0));
        if (body && appointment) {
            cJSON_AddItemToObject(body, "appointment", appointment);
            if (secret)
                cJSON_AddStringToObject(body, "secret", secret);
        } else {
            cJSON_Delete(appointment);
            cJSON_Delete(body);
            body = NULL;
        }
        be_reply_json(req, status, body);
    }
    PQclear(res);
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

static int new_secret(char out[BE_APPT_SECRET_HEX + 1])
{
    unsigned char bytes[BE_APPT_SECRET_HEX / 2];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        return -1;
    for (size_t i = 0; i < sizeof bytes; i++)
        snprintf(out + 2 * i, 3, "%02x", bytes[i]);
    OPENSSL_cleanse(bytes, sizeof bytes);
    return 0;
}

/* ==== Taking a slot ==== */

struct taking {
    struct be_appointment_take body;
    bool booked;
    const char *channel;
    char secret[BE_APPT_SECRET_HEX + 1];
    char outcome[16], id[CF_UUID_TEXT_LEN + 1];
    long retry_after_s; /* an address at its cap of live holds: until its first ends */
};

/* The citizen's hold (sql/0028 appointment_hold): at most public_holds_per_address live
 * holds from one client address (the TCP peer, as the public throttles: X-Forwarded-For
 * is never believed), so one client cannot hold every slot of a day. */
static int hold_tx(struct be_request *req, struct taking *x)
{
    char cap[12];
    snprintf(cap, sizeof cap, "%ld", req->config ? req->config->public_holds_per_address : 5L);
    const char *params[6] = {x->body.office_id,           x->body.start, x->body.kind,
                             be_request_remote_addr(req), cap,           x->secret};
    PGresult *res = PQexecParams(req->db, sql_appointment_hold, 6, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        static const char *const names[6] = {"office_id", "start", "kind"};
        be_db_name_field(req, names, params, 3);
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    snprintf(x->id, sizeof x->id, "%s", PQgetvalue(res, 0, 1));
    x->retry_after_s = strtol(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    /* a hold is nobody's yet: audited when confirmed */
    return strcmp(x->outcome, "taken") == 0 ? BE_TX_COMMIT : BE_TX_ROLLBACK;
}

static int take_tx(struct be_request *req, void *ctx)
{
    struct taking *x = ctx;
    if (!x->booked)
        return hold_tx(req, x);
    const char *actor = req->who.login[0] ? req->who.login : "citizen";
    const char *params[10] = {x->body.office_id,
                              x->body.start,
                              x->body.kind,
                              x->booked ? "t" : "f",
                              x->body.person_key,
                              x->body.person_name,
                              x->body.phone,
                              x->channel,
                              actor,
                              x->secret};
    PGresult *res = PQexecParams(req->db, sql_appointment_take, 10, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        static const char *const names[10] = {"office_id", "start", "kind"};
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

static void take(struct be_request *req, struct taking *x)
{
    if (new_secret(x->secret)) {
        be_reply_server_fault(req, "appointment: random secret");
        return;
    }
    int rc = be_db_transaction(req, NULL, "appointment booking", take_tx, x);
    if (rc == BE_TX_COMMIT)
        reply_appointment(req, x->id, 201, x->booked ? NULL : x->secret);
    else if (rc == BE_TX_ROLLBACK && strcmp(x->outcome, "address_limit") == 0)
        reply_too_many_holds(req, x->retry_after_s);
    else if (rc == BE_TX_ROLLBACK)
        reply_refused(req, x->outcome, "", "");
    OPENSSL_cleanse(x->secret, sizeof x->secret);
}

/* POST /api/v1/public/appointments: the citizen holds a slot for 15 minutes. */
static void handle_hold(struct be_request *req)
{
    struct taking x;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (be_appointment_take_read(req->body, req->body_len, BE_APPT_PUBLIC, &x.body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    x.channel = "web";
    take(req, &x);
}

/* May the caller work on this office's appointments? Staff only in their own office. */
static bool own_office(struct be_request *req, const char *office, const char *field)
{
    if (!req->who.office[0] || strcmp(req->who.office, "*") == 0 ||
        strcmp(office, req->who.office) == 0)
        return true;
    be_reply_problem(req, 403, "forbidden", "Not your office",
                     "You may work only on your own office's appointments.", field, NULL);
    return false;
}

/* POST /api/v1/appointments: the front office books for a caller on the phone. */
static void handle_book(struct be_request *req)
{
    struct taking x;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (be_appointment_take_read(req->body, req->body_len, BE_APPT_STAFF, &x.body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    if (!x.body.office_id[0] && !req->who.office[0]) {
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "office_id is required: name the office of the appointment.", "office_id",
                         NULL);
        return;
    }
    if (!x.body.office_id[0])
        snprintf(x.body.office_id, sizeof x.body.office_id, "%s", req->who.office);
    if (!own_office(req, x.body.office_id, "office_id"))
        return;
    x.booked = true;
    x.channel = "phone";
    take(req, &x);
}

/* ==== Changing state ==== */

struct moving {
    char id[CF_UUID_TEXT_LEN + 1];
    const char *to, *reason, *secret; /* secret: the citizen's (public routes), else NULL */
    const struct be_appointment_public *person; /* a confirmation, else NULL */
    const struct be_appointment_move *check_in; /* a check-in at the desk, else NULL */
    char outcome[16], from[16];
};

static int move_tx(struct be_request *req, void *ctx)
{
    struct moving *x = ctx;
    PGresult *res;
    if (x->secret) { /* the citizen: the secret must be this appointment's */
        const char *check[2] = {x->id, x->secret};
        res = PQexecParams(req->db, sql_appointment_by_secret, 2, NULL, check, NULL, NULL, 0);
        if (!be_db_check(req, res, PGRES_TUPLES_OK)) {
            PQclear(res);
            return BE_TX_FAILED;
        }
        bool mine = PQntuples(res) == 1;
        PQclear(res);
        if (!mine) {
            snprintf(x->outcome, sizeof x->outcome, "not_found");
            return BE_TX_ROLLBACK;
        }
    }
    if (x->person) {
        const char *params[4] = {x->id, x->person->person_key, x->person->person_name,
                                 x->person->phone};
        res = PQexecParams(req->db, sql_appointment_confirm, 4, NULL, params, NULL, NULL, 0);
    } else if (x->check_in) {
        const char *params[4] = {x->id, x->check_in->identified_by, x->check_in->document_digits,
                                 req->who.login};
        res = PQexecParams(req->db, sql_appointment_staff_check_in, 4, NULL, params, NULL, NULL, 0);
    } else {
        const char *params[3] = {x->id, x->to, x->reason};
        res = PQexecParams(req->db, sql_appointment_move, 3, NULL, params, NULL, NULL, 0);
    }
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    snprintf(x->from, sizeof x->from, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    if (strcmp(x->outcome, "moved") != 0)
        return BE_TX_ROLLBACK;
    char action[48];
    snprintf(action, sizeof action, "appointment.%s", x->to);
    return be_audit(req, action, x->id, x->reason, NULL) ? BE_TX_FAILED : BE_TX_COMMIT;
}

static void move(struct be_request *req, struct moving *x)
{
    int rc = be_db_transaction(req, NULL, "appointment change", move_tx, x);
    if (rc == BE_TX_COMMIT)
        reply_appointment(req, x->id, 200, NULL);
    else if (rc == BE_TX_ROLLBACK)
        reply_refused(req, x->outcome, x->from, x->to);
}

/* POST /api/v1/public/appointments/{id}/confirm: the hold becomes a booking. */
static void handle_confirm(struct be_request *req)
{
    struct moving x;
    struct be_appointment_public body;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (!read_id(req, x.id))
        return;
    if (be_appointment_public_read(req->body, req->body_len, BE_APPT_CONFIRM, &body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    x.to = "booked";
    x.reason = "";
    x.secret = body.secret;
    x.person = &body;
    move(req, &x);
    OPENSSL_cleanse(body.secret, sizeof body.secret);
}

/* POST /api/v1/public/appointments/{id}/cancel: the citizen cancels. */
static void handle_public_cancel(struct be_request *req)
{
    struct moving x;
    struct be_appointment_public body;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (!read_id(req, x.id))
        return;
    if (be_appointment_public_read(req->body, req->body_len, BE_APPT_CANCEL, &body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    x.to = "cancelled";
    x.reason = body.reason[0] ? body.reason : "Отменено по просьбе заявителя";
    x.secret = body.secret;
    move(req, &x);
    OPENSSL_cleanse(body.secret, sizeof body.secret);
}

/* POST /api/v1/appointments/{id}/transitions: {"to", "reason"} by the front office. */
static void handle_move(struct be_request *req)
{
    struct moving x;
    struct be_appointment_move body;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (!read_id(req, x.id))
        return;
    if (be_appointment_move_read(req->body, req->body_len, &body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    x.to = body.to;
    x.reason = body.reason;
    if (strcmp(body.to, "checked_in") == 0)
        x.check_in = &body;
    move(req, &x);
}

struct rescheduling {
    char id[CF_UUID_TEXT_LEN + 1], start[40];
    char outcome[16], new_id[CF_UUID_TEXT_LEN + 1], from[16];
};

static int reschedule_tx(struct be_request *req, void *ctx)
{
    struct rescheduling *x = ctx;
    const char *actor = req->who.login;
    const char *params[3] = {x->id, x->start, actor};
    PGresult *res =
        PQexecParams(req->db, sql_appointment_reschedule, 3, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        static const char *const names[2] = {NULL, "start"};
        be_db_name_field(req, names, params, 2);
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    snprintf(x->new_id, sizeof x->new_id, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    if (strcmp(x->outcome, "taken") != 0) {
        /* an illegal move: the state it is in, for the answer */
        const char *one[1] = {x->id};
        res = PQexecParams(req->db, sql_appointment_state, 1, NULL, one, NULL, NULL, 0);
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
            snprintf(x->from, sizeof x->from, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        return BE_TX_ROLLBACK;
    }
    return be_audit(req, "appointment.reschedule", x->id, "", NULL) ? BE_TX_FAILED : BE_TX_COMMIT;
}

/* POST /api/v1/appointments/{id}/reschedule: {"start"} — a new appointment, the old one
 * linked to it. */
static void handle_reschedule(struct be_request *req)
{
    struct rescheduling x;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (!read_id(req, x.id))
        return;
    if (be_appointment_start_read(req->body, req->body_len, x.start, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    int rc = be_db_transaction(req, NULL, "appointment reschedule", reschedule_tx, &x);
    if (rc == BE_TX_COMMIT)
        reply_appointment(req, x.new_id, 201, NULL);
    else if (rc == BE_TX_ROLLBACK)
        reply_refused(req, x.outcome, x.from, "rescheduled");
}

/* ==== Reading: slots, an office's day, its figures ==== */

/* ?date=YYYY-MM-DD (required) into date; false when answered 400. */
static bool read_date(struct be_request *req, char date[11])
{
    struct cf_error_detail d = {0};
    struct be_query_param params[] = {{"date", date, 11}};
    date[0] = '\0';
    int rc = be_query_parse(req->query, params, 1, &d);
    if (!rc && (strlen(date) != 10 || !be_time_text_valid(date)))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "date", "date must be a day like 2026-12-07");
    if (rc) {
        be_reply_query_invalid(req, &d);
        return false;
    }
    return true;
}

/* One office's JSON of query (params: office, date), or 404 when it takes none. */
static void reply_office_query(struct be_request *req, const char *query, const char *what,
                               bool staff)
{
    char office[CF_UUID_TEXT_LEN + 1], date[11];
    uint8_t id[CF_UUID_LEN];
    if (cf_uuid_from_text(be_param(req, "id"), id)) {
        be_reply_problem(req, 404, "not-found", "No such office",
                         "No office taking appointments has this id.", NULL, NULL);
        return;
    }
    cf_uuid_to_text(id, office);
    if (!read_date(req, date) || (staff && !own_office(req, office, NULL)))
        return;
    const char *params[2] = {office, date};
    PGresult *res = PQexecParams(req->db, query, 2, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK))
        be_reply_db_error(req, req->db, what);
    else if (PQntuples(res) != 1)
        be_reply_problem(req, 404, "not-found", "No such office",
                         "No office taking appointments has this id.", NULL, NULL);
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}

/* GET /api/v1/public/offices/{id}/slots?date=: the day's bookable slots, free seats. */
static void handle_slots(struct be_request *req)
{
    reply_office_query(req, sql_appointment_slots, "appointment slots", false);
}

/* GET /api/v1/offices/{id}/appointments?date=: the office's day. */
static void handle_day(struct be_request *req)
{
    reply_office_query(req, sql_appointment_day, "appointment day", true);
}

/* GET /api/v1/offices/{id}/appointments/figures?date=: waiting and service times. */
static void handle_figures(struct be_request *req)
{
    reply_office_query(req, sql_appointment_figures, "appointment figures", true);
}

/* ==== Closures ==== */

struct closing {
    char office[CF_UUID_TEXT_LEN + 1];
    struct be_office_closure body;
    char id[CF_UUID_TEXT_LEN + 1], moved[12], cancelled[12];
};

static int close_tx(struct be_request *req, void *ctx)
{
    struct closing *x = ctx;
    const char *params[5] = {x->office, x->body.from, x->body.to, x->body.reason, req->who.login};
    PGresult *res = PQexecParams(req->db, sql_office_close, 5, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK)) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        return BE_TX_ROLLBACK; /* the office takes no appointments */
    }
    snprintf(x->id, sizeof x->id, "%s", PQgetvalue(res, 0, 0));
    snprintf(x->moved, sizeof x->moved, "%s", PQgetvalue(res, 0, 1));
    snprintf(x->cancelled, sizeof x->cancelled, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    char details[80];
    snprintf(details, sizeof details, "{\"moved\":%s,\"cancelled\":%s}", x->moved, x->cancelled);
    return be_audit(req, "office.close", x->office, x->body.reason, details) ? BE_TX_FAILED
                                                                             : BE_TX_COMMIT;
}

/* POST /api/v1/offices/{id}/closures: {"from", "to", "reason"} — the office closes; its
 * appointments of those days move to the first free slots after (or are cancelled),
 * and each person is told through the outbox, all in one transaction. */
static void handle_close(struct be_request *req)
{
    struct closing x;
    struct cf_error_detail d = {0};
    uint8_t id[CF_UUID_LEN];
    char today[11];
    memset(&x, 0, sizeof x);
    if (cf_uuid_from_text(be_param(req, "id"), id)) {
        be_reply_problem(req, 404, "not-found", "No such office",
                         "No office taking appointments has this id.", NULL, NULL);
        return;
    }
    cf_uuid_to_text(id, x.office);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    if (be_office_closure_read(req->body, req->body_len, today, &x.body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    if (!own_office(req, x.office, NULL))
        return;
    int rc = be_db_transaction(req, NULL, "office closure", close_tx, &x);
    if (rc == BE_TX_ROLLBACK) {
        be_reply_problem(req, 404, "not-found", "No such office",
                         "No office taking appointments has this id.", NULL, NULL);
    } else if (rc == BE_TX_COMMIT) {
        cJSON *body = cJSON_CreateObject();
        if (body) {
            cJSON_AddStringToObject(body, "closure_id", x.id);
            cJSON_AddNumberToObject(body, "moved", (double)strtol(x.moved, NULL, 10));
            cJSON_AddNumberToObject(body, "cancelled", (double)strtol(x.cancelled, NULL, 10));
        }
        be_reply_json(req, 201, body);
    }
}

/* ==== An office's booking settings and hours ==== */

/* The office of the path into office; false when answered 404. */
static bool read_office(struct be_request *req, char office[CF_UUID_TEXT_LEN + 1])
{
    uint8_t id[CF_UUID_LEN];
    if (cf_uuid_from_text(be_param(req, "id"), id)) {
        be_reply_problem(req, 404, "not-found", "No such office", "No office has this id.", NULL,
                         NULL);
        return false;
    }
    cf_uuid_to_text(id, office);
    return true;
}

static void reply_booking(struct be_request *req, const char *office, int status)
{
    const char *params[1] = {office};
    PGresult *res = PQexecParams(req->db, sql_office_booking_get, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK))
        be_reply_db_error(req, req->db, "office booking");
    else if (PQntuples(res) != 1)
        be_reply_problem(req, 404, "not-found", "No such office", "No office has this id.", NULL,
                         NULL);
    else
        be_reply_json(req, status, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}

/* GET /api/v1/offices/{id}/booking: seats, slot length, horizon, limits, weekly hours. */
static void handle_booking_get(struct be_request *req)
{
    char office[CF_UUID_TEXT_LEN + 1];
    if (read_office(req, office) && own_office(req, office, NULL))
        reply_booking(req, office, 200);
}

/* The hours of b as the JSON array office_booking_set takes (caller frees). */
static char *hours_json(const struct be_office_booking *b)
{
    cJSON *hours = cJSON_CreateArray();
    for (size_t i = 0; hours && i < b->period_count; i++) {
        const struct be_office_period *p = &b->periods[i];
        char opens[24], closes[24];
        snprintf(opens, sizeof opens, "%02d:%02d", p->opens / 60, p->opens % 60);
        snprintf(closes, sizeof closes, "%02d:%02d", p->closes / 60, p->closes % 60);
        cJSON *item = cJSON_CreateObject();
        if (!item || !cJSON_AddItemToArray(hours, item) ||
            !cJSON_AddNumberToObject(item, "weekday", p->weekday) ||
            !cJSON_AddStringToObject(item, "opens", opens) ||
            !cJSON_AddStringToObject(item, "closes", closes)) {
            cJSON_Delete(hours);
            hours = NULL;
        }
    }
    char *text = hours ? cJSON_PrintUnformatted(hours) : NULL;
    cJSON_Delete(hours);
    return text;
}

struct booking_setting {
    char office[CF_UUID_TEXT_LEN + 1];
    struct be_office_booking body;
    char *hours; /* JSON */
    char outcome[16];
};

static int booking_set_tx(struct be_request *req, void *ctx)
{
    struct booking_setting *x = ctx;
    char n[6][12];
    const int values[6] = {x->body.seats,        x->body.slot_minutes, x->body.horizon_days,
                           x->body.person_limit, x->body.hold_minutes, x->body.grace_minutes};
    for (int i = 0; i < 6; i++)
        snprintf(n[i], sizeof n[i], "%d", values[i]);
    const char *params[8] = {x->office, n[0], n[1], n[2], n[3], n[4], n[5], x->hours};
    PGresult *res = PQexecParams(req->db, sql_office_booking_set, 8, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (strcmp(x->outcome, "saved") != 0)
        return BE_TX_ROLLBACK;
    char details[200];
    snprintf(details, sizeof details,
             "{\"seats\":%d,\"slot_minutes\":%d,\"horizon_days\":%d,\"person_limit\":%d,"
             "\"hold_minutes\":%d,\"grace_minutes\":%d,\"periods\":%zu}",
             x->body.seats, x->body.slot_minutes, x->body.horizon_days, x->body.person_limit,
             x->body.hold_minutes, x->body.grace_minutes, x->body.period_count);
    return be_audit(req, "office.booking", x->office, "", details) ? BE_TX_FAILED : BE_TX_COMMIT;
}

/* PUT /api/v1/offices/{id}/booking: replace the settings and the weekly hours (an office
 * without them starts taking appointments). Appointments already made keep their times. */
static void handle_booking_put(struct be_request *req)
{
    struct booking_setting x;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (!read_office(req, x.office))
        return;
    if (be_office_booking_read(req->body, req->body_len, &x.body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    if (!own_office(req, x.office, NULL))
        return;
    x.hours = hours_json(&x.body);
    if (!x.hours) {
        be_reply_server_fault(req, "office booking: hours");
        return;
    }
    int rc = be_db_transaction(req, NULL, "office booking", booking_set_tx, &x);
    if (rc == BE_TX_COMMIT)
        reply_booking(req, x.office, 200);
    else if (rc == BE_TX_ROLLBACK && strcmp(x.outcome, "no_office") == 0)
        be_reply_problem(req, 404, "not-found", "No such office", "No office has this id.", NULL,
                         NULL);
    else if (rc == BE_TX_ROLLBACK) /* the database's rule refused what the reader let by */
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "The office's settings break a rule of the database; see the field.",
                         x.outcome, NULL);
    free(x.hours);
}

/* ==== Desk terminals and their check-in exceptions ==== */

struct desk_assignment {
    char office[CF_UUID_TEXT_LEN + 1], device[CF_UUID_TEXT_LEN + 1];
    bool remove;
    char outcome[16];
};

static int desk_tx(struct be_request *req, void *ctx)
{
    struct desk_assignment *x = ctx;
    const char *params[3] = {x->office, x->device, req->who.login};
    PGresult *res =
        PQexecParams(req->db, x->remove ? sql_desk_terminal_remove : sql_desk_terminal_assign,
                     x->remove ? 2 : 3, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (strcmp(x->outcome, x->remove ? "removed" : "assigned") != 0)
        return BE_TX_ROLLBACK;
    char details[80];
    snprintf(details, sizeof details, "{\"device\":\"%s\"}", x->device);
    return be_audit(req, x->remove ? "office.desk_remove" : "office.desk_assign", x->office, "",
                    details)
               ? BE_TX_FAILED
               : BE_TX_COMMIT;
}

/* PUT and DELETE /api/v1/offices/{id}/desk-terminals/{device}: a terminal becomes (stops
 * being) a desk of the office, whose card taps check in its appointments (sql/0033).
 * Answers the office's settings, its desks among them. */
static void desk_change(struct be_request *req, bool remove)
{
    struct desk_assignment x;
    uint8_t id[CF_UUID_LEN];
    memset(&x, 0, sizeof x);
    x.remove = remove;
    if (!read_office(req, x.office))
        return;
    if (cf_uuid_from_text(be_param(req, "device"), id)) {
        be_reply_problem(req, 404, "not-found", "No such terminal",
                         "No enrolled terminal has this id.", NULL, NULL);
        return;
    }
    cf_uuid_to_text(id, x.device);
    if (!own_office(req, x.office, NULL))
        return;
    int rc = be_db_transaction(req, NULL, "desk terminal", desk_tx, &x);
    if (rc == BE_TX_COMMIT)
        reply_booking(req, x.office, 200);
    else if (rc == BE_TX_ROLLBACK && strcmp(x.outcome, "elsewhere") == 0)
        be_reply_problem(req, 409, "desk-elsewhere", "The terminal is another office's desk",
                         "This terminal is the desk of another office: that office removes it "
                         "first.",
                         NULL, NULL);
    else if (rc == BE_TX_ROLLBACK && strcmp(x.outcome, "no_office") == 0)
        be_reply_problem(req, 404, "not-found", "No such office", "No office has this id.", NULL,
                         NULL);
    else if (rc == BE_TX_ROLLBACK)
        be_reply_problem(req, 404, "not-found", "No such terminal",
                         remove ? "This terminal is not a desk of this office."
                                : "No active enrolled terminal has this id.",
                         NULL, NULL);
}

static void handle_desk_put(struct be_request *req)
{
    desk_change(req, false);
}

static void handle_desk_delete(struct be_request *req)
{
    desk_change(req, true);
}

struct resolving {
    char id[CF_UUID_TEXT_LEN + 1];
    struct be_desk_exception_resolve body;
    char outcome[20];
};

static int resolve_tx(struct be_request *req, void *ctx)
{
    struct resolving *x = ctx;
    const char *params[4] = {x->id, x->body.resolution, x->body.note, req->who.login};
    PGresult *res =
        PQexecParams(req->db, sql_desk_exception_resolve, 4, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (strcmp(x->outcome, "resolved") != 0)
        return BE_TX_ROLLBACK;
    char action[48];
    snprintf(action, sizeof action, "appointment.exception_%s", x->body.resolution);
    return be_audit(req, action, x->id, x->body.note, NULL) ? BE_TX_FAILED : BE_TX_COMMIT;
}

static void reply_no_exception(struct be_request *req)
{
    be_reply_problem(req, 404, "not-found", "No such exception",
                     "No check-in exception you may see has this id.", NULL, NULL);
}

/* POST /api/v1/check-in-exceptions/{id}/resolve: {"resolution", "note"} — a card tap
 * that checked nothing in, decided by the desk (sql/0033 desk_exception_resolve). */
static void handle_exception_resolve(struct be_request *req)
{
    struct resolving x;
    struct cf_error_detail d = {0};
    uint8_t id[CF_UUID_LEN];
    memset(&x, 0, sizeof x);
    if (cf_uuid_from_text(be_param(req, "id"), id)) {
        reply_no_exception(req);
        return;
    }
    cf_uuid_to_text(id, x.id);
    if (be_desk_exception_resolve_read(req->body, req->body_len, &x.body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    int rc = be_db_transaction(req, NULL, "check-in exception", resolve_tx, &x);
    if (rc == BE_TX_COMMIT) {
        cJSON *body = cJSON_CreateObject();
        if (body) {
            cJSON_AddStringToObject(body, "id", x.id);
            cJSON_AddStringToObject(body, "resolution", x.body.resolution);
        }
        be_reply_json(req, 200, body);
    } else if (rc == BE_TX_ROLLBACK && strcmp(x.outcome, "not_found") == 0) {
        reply_no_exception(req);
    } else if (rc == BE_TX_ROLLBACK && strcmp(x.outcome, "resolved_already") == 0) {
        be_reply_problem(req, 409, "already-resolved", "Already resolved",
                         "Someone has already decided this exception.", NULL, NULL);
    } else if (rc == BE_TX_ROLLBACK && strcmp(x.outcome, "not_acceptable") == 0) {
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "A tap that matched no appointment cannot be accepted: dismiss it and "
                         "check the person in by hand.",
                         "resolution", NULL);
    } else if (rc == BE_TX_ROLLBACK) {
        char detail[160];
        snprintf(detail, sizeof detail,
                 "The appointment can no longer be checked in (%s): dismiss the exception.",
                 x.outcome);
        be_reply_problem(req, 409, "illegal-transition", "Not a legal transition", detail,
                         "resolution", NULL);
    }
}

#define DESK (BE_INTAKE | BE_INTAKE_LEAD | BE_ADMIN)

static const struct be_route routes[] = {
    {"GET", "/api/v1/public/offices/{id}/slots", handle_slots, true, BE_PUBLIC, BE_BODY_NONE},
    {"POST", "/api/v1/public/appointments", handle_hold, true, BE_PUBLIC, BE_BODY_SMALL},
    {"POST", "/api/v1/public/appointments/{id}/confirm", handle_confirm, true, BE_PUBLIC,
     BE_BODY_SMALL},
    {"POST", "/api/v1/public/appointments/{id}/cancel", handle_public_cancel, true, BE_PUBLIC,
     BE_BODY_SMALL},
    {"POST", "/api/v1/appointments", handle_book, true, DESK, BE_BODY_SMALL},
    {"POST", "/api/v1/appointments/{id}/transitions", handle_move, true, DESK, BE_BODY_SMALL},
    {"POST", "/api/v1/appointments/{id}/reschedule", handle_reschedule, true, DESK, BE_BODY_SMALL},
    {"GET", "/api/v1/offices/{id}/appointments", handle_day, true, DESK | BE_AUTHORITY,
     BE_BODY_NONE},
    {"GET", "/api/v1/offices/{id}/appointments/figures", handle_figures, true, DESK | BE_AUTHORITY,
     BE_BODY_NONE},
    {"POST", "/api/v1/offices/{id}/closures", handle_close, true, BE_INTAKE_LEAD | BE_ADMIN,
     BE_BODY_SMALL},
    {"GET", "/api/v1/offices/{id}/booking", handle_booking_get, true,
     BE_INTAKE_LEAD | BE_ADMIN | BE_AUTHORITY, BE_BODY_NONE},
    {"PUT", "/api/v1/offices/{id}/booking", handle_booking_put, true, BE_INTAKE_LEAD | BE_ADMIN,
     BE_BODY_SMALL},
    {"PUT", "/api/v1/offices/{id}/desk-terminals/{device}", handle_desk_put, true,
     BE_INTAKE_LEAD | BE_ADMIN, BE_BODY_NONE},
    {"DELETE", "/api/v1/offices/{id}/desk-terminals/{device}", handle_desk_delete, true,
     BE_INTAKE_LEAD | BE_ADMIN, BE_BODY_NONE},
    {"POST", "/api/v1/check-in-exceptions/{id}/resolve", handle_exception_resolve, true, DESK,
     BE_BODY_SMALL},
};
const struct be_module be_appointments_module = BE_MODULE("appointments", routes);
