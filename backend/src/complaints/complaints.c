/* Complaints and the provider comparison (issue 16). The register: a low rating with a
 * comment opens a complaint by itself (sql/0027's trigger on visits, in the upload's
 * transaction); the phone desk and a follow-up call open one here (a manager for their
 * provider, admin and authority for any); the citizen's page opens one about an office
 * visit (the appointment's id and secret) or a home visit (the application's number and
 * code), throttled per client address as the applications' public routes. Answering,
 * closing and reopening go through complaint_move over the table of legal transitions.
 * The comparison of a region's providers is public and read-only.
 *
 * Who sees what is row-level security (a manager their provider's; sql/0027); a filter
 * naming another provider is a 403 here first. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "be/audit.h"
#include "be/auth.h"
#include "be/complaints.h"
#include "be/db.h"
#include "be/query.h"
#include "be/reply.h"
#include "be/throttle.h"
#include "cf/json.h"
#include "cf/uuid.h"
#include "sql/complaints_sql.h"

#define BODY_MAX_BYTES (16u * 1024)
#define BODY_MAX_VALUES 32
#define LIST_LIMIT_MAX 200

/* Per client address, as the applications' public filing (sql/0020 public_attempt). */
#define PUBLIC_COMPLAINT_AFTER 10 /* complaints from one address before each further waits */
#define PUBLIC_COMPLAINT_FORGET_S 3600
/* The citizen's look-ups of a complaint by number and code, a wrong code included (as the
 * applications' status page: sql/0020 public_attempt). */
#define PUBLIC_STATUS_AFTER 20
#define PUBLIC_STATUS_FORGET_S 900

static const char *const staff_sources[] = {"phone", "follow_up", NULL};
static const char *const moves[] = {"answered", "closed", "open", NULL};
static const char *const states[] = {"open", "answered", "closed", NULL};

static bool one_of(const char *value, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(value, list[i]) == 0)
            return true;
    return false;
}

/* ==== Reading bodies (pure) ==== */

static int get_id(const cJSON *body, const char *name, bool required, char out[40],
                  struct cf_error_detail *d)
{
    uint8_t id[CF_UUID_LEN];
    int rc = cf_json_get_string(body, name, "", required, 39, out, 40, d);
    if (!rc && out[0]) {
        if (cf_uuid_from_text(out, id))
            return cf_error_set(d, CF_EFIELD_RANGE, name, "%s must be an id like 3f2a...-...",
                                name);
        cf_uuid_to_text(id, out);
    }
    return rc;
}

static int get_cause(const cJSON *body, char out[BE_COMPLAINT_CAUSE_MAX + 1], bool required,
                     struct cf_error_detail *d)
{
    int rc = cf_json_get_string(body, "cause", "", required, BE_COMPLAINT_CAUSE_MAX, out,
                                BE_COMPLAINT_CAUSE_MAX + 1, d);
    if (!rc && (required || out[0]) &&
        (!out[0] || strspn(out, "abcdefghijklmnopqrstuvwxyz_") != strlen(out)))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "cause",
                          "cause must be one of the causes' codes, like lateness");
    return rc;
}

/* What every new complaint names: cause, text, and the person's phone (optional). */
static int get_common(const cJSON *body, struct be_complaint_new *c, struct cf_error_detail *d)
{
    int rc = get_cause(body, c->cause, true, d);
    if (!rc)
        rc = cf_json_get_text(body, "text", "", true, BE_COMPLAINT_TEXT_MAX,
                              "what happened (the provider reads it)", c->text, sizeof c->text, d);
    if (!rc)
        rc = cf_json_get_string(body, "phone", "", false, BE_COMPLAINT_PHONE_MAX, c->phone,
                                sizeof c->phone, d);
    if (!rc && strspn(c->phone, "0123456789 +()-") != strlen(c->phone))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "phone",
                          "phone must be a phone number, like +7 912 345-67-89");
    return rc;
}

static int read_staff(const cJSON *body, struct be_complaint_new *c, struct cf_error_detail *d)
{
    static const char *const fields[] = {"source",      "cause",       "text",
                                         "visit_id",    "provider_id", "worker_id",
                                         "person_name", "phone",       NULL};
    int rc = cf_json_check_fields(body, fields, "", d);
    if (!rc)
        rc = cf_json_get_string(body, "source", "", true, sizeof c->source - 1, c->source,
                                sizeof c->source, d);
    if (!rc && !one_of(c->source, staff_sources))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "source", "source must be phone or follow_up");
    if (!rc)
        rc = get_common(body, c, d);
    if (!rc)
        rc = get_id(body, "visit_id", false, c->visit_id, d);
    if (!rc)
        rc = get_id(body, "provider_id", false, c->provider_id, d);
    if (!rc)
        rc = get_id(body, "worker_id", false, c->worker_id, d);
    if (!rc && !c->visit_id[0] && !c->provider_id[0])
        rc = cf_error_set(d, CF_EFIELD_MISSING, "visit_id",
                          "name the visit (visit_id) or the provider (provider_id)");
    if (!rc && c->visit_id[0] && (c->provider_id[0] || c->worker_id[0]))
        rc = cf_error_set(d, CF_EFIELD_RANGE, c->provider_id[0] ? "provider_id" : "worker_id",
                          "a visit names its provider and worker: give visit_id alone");
    if (!rc)
        rc = cf_json_get_text(body, "person_name", "", false, BE_COMPLAINT_NAME_MAX,
                              "who complains", c->person_name, sizeof c->person_name, d);
    return rc;
}

static int read_public(const cJSON *body, struct be_complaint_new *c, struct cf_error_detail *d)
{
    static const char *const office_fields[] = {"about", "appointment_id", "secret", "cause",
                                                "text",  "phone",          NULL};
    static const char *const home_fields[] = {"about", "number", "code",  "visit_date",
                                              "cause", "text",   "phone", NULL};
    snprintf(c->source, sizeof c->source, "public");
    int rc = cf_json_get_string(body, "about", "", true, sizeof c->about - 1, c->about,
                                sizeof c->about, d);
    if (!rc && strcmp(c->about, "office") != 0 && strcmp(c->about, "home") != 0)
        rc = cf_error_set(d, CF_EFIELD_RANGE, "about",
                          "about must be office (a visit to an office) or home (a home visit)");
    if (!rc)
        rc = cf_json_check_fields(body, c->about[0] == 'o' ? office_fields : home_fields, "", d);
    if (!rc)
        rc = get_common(body, c, d);
    if (!rc && c->about[0] == 'o') {
        rc = get_id(body, "appointment_id", true, c->appointment_id, d);
        if (!rc)
            rc = cf_json_get_string(body, "secret", "", true, BE_COMPLAINT_SECRET_HEX, c->secret,
                                    sizeof c->secret, d);
        if (!rc && (strlen(c->secret) != BE_COMPLAINT_SECRET_HEX ||
                    strspn(c->secret, "0123456789abcdef") != BE_COMPLAINT_SECRET_HEX))
            rc = cf_error_set(d, CF_EFIELD_RANGE, "secret",
                              "secret must be the secret your booking was answered with");
    } else if (!rc) {
        rc = cf_json_get_string(body, "number", "", true, sizeof c->number - 1, c->number,
                                sizeof c->number, d);
        if (!rc && (strlen(c->number) < 11 || c->number[4] != '-' ||
                    strspn(c->number, "0123456789") != 4 ||
                    strspn(c->number + 5, "0123456789") != strlen(c->number + 5)))
            rc = cf_error_set(d, CF_EFIELD_RANGE, "number",
                              "number must be your application's number, like 2026-000123");
        if (!rc)
            rc = cf_json_get_string(body, "code", "", true, BE_COMPLAINT_CODE_DIGITS, c->code,
                                    sizeof c->code, d);
        if (!rc && (strlen(c->code) != BE_COMPLAINT_CODE_DIGITS ||
                    strspn(c->code, "0123456789") != BE_COMPLAINT_CODE_DIGITS))
            rc = cf_error_set(d, CF_EFIELD_RANGE, "code",
                              "code must be the %d digits given when the application was filed",
                              BE_COMPLAINT_CODE_DIGITS);
        if (!rc)
            rc = cf_json_get_string(body, "visit_date", "", false, 10, c->visit_date,
                                    sizeof c->visit_date, d);
        if (!rc && c->visit_date[0] &&
            (strlen(c->visit_date) != 10 || !be_time_text_valid(c->visit_date)))
            rc = cf_error_set(d, CF_EFIELD_RANGE, "visit_date",
                              "visit_date must be a day like 2026-12-07");
    }
    return rc;
}

int be_complaint_new_read(const char *text, size_t len, enum be_complaint_channel channel,
                          struct be_complaint_new *c, struct cf_error_detail *d)
{
    cJSON *body = NULL;
    memset(c, 0, sizeof *c);
    int rc = cf_json_parse_capped(text ? text : "", len, BODY_MAX_BYTES, BODY_MAX_VALUES, &body, d);
    if (!rc)
        rc = channel == BE_COMPLAINT_STAFF ? read_staff(body, c, d) : read_public(body, c, d);
    cJSON_Delete(body);
    return rc;
}

int be_complaint_move_read(const char *text, size_t len, struct be_complaint_move *m,
                           struct cf_error_detail *d)
{
    static const char *const allowed[] = {"to", "answer", "cause", NULL};
    cJSON *body = NULL;
    memset(m, 0, sizeof *m);
    int rc = cf_json_parse_capped(text ? text : "", len, BODY_MAX_BYTES, 8, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, allowed, "", d);
    if (!rc)
        rc = cf_json_get_string(body, "to", "", true, sizeof m->to - 1, m->to, sizeof m->to, d);
    if (!rc && !one_of(m->to, moves))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "to", "to must be one of answered, closed, open");
    if (!rc)
        rc = cf_json_get_text(body, "answer", "", strcmp(m->to, "answered") == 0,
                              BE_COMPLAINT_TEXT_MAX, "the answer to the person", m->answer,
                              sizeof m->answer, d);
    if (!rc)
        rc = get_cause(body, m->cause, false, d);
    cJSON_Delete(body);
    return rc;
}

int be_complaint_number_canonical(const char *typed, char out[BE_COMPLAINT_NUMBER_MAX + 1])
{
    static const char upper[] = "\xd0\x96", lower[] = "\xd0\xb6"; /* Ж, ж */
    const char *p = typed;
    while (*p == ' ')
        p++;
    if (strncmp(p, upper, 2) == 0 || strncmp(p, lower, 2) == 0)
        p += 2;
    if (*p == '-')
        p++;
    size_t digits = strspn(p, "0123456789");
    if (digits == 0 || digits > 12 || strspn(p + digits, " ") != strlen(p + digits))
        return CF_EFIELD_RANGE;
    while (digits > 1 && *p == '0') { /* the number's value, then at least 6 digits */
        p++;
        digits--;
    }
    int pad = digits < 6 ? (int)(6 - digits) : 0;
    int n = snprintf(out, BE_COMPLAINT_NUMBER_MAX + 1, "%s-%.*s%.*s", upper, pad, "000000",
                     (int)digits, p);
    return n > 0 && n <= BE_COMPLAINT_NUMBER_MAX ? 0 : CF_EFIELD_RANGE;
}

int be_complaint_lookup_read(const char *text, size_t len, struct be_complaint_lookup *l,
                             struct cf_error_detail *d)
{
    static const char *const allowed[] = {"number", "code", NULL};
    char typed[40];
    cJSON *body = NULL;
    memset(l, 0, sizeof *l);
    int rc = cf_json_parse_capped(text ? text : "", len, BODY_MAX_BYTES, 4, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, allowed, "", d);
    if (!rc)
        rc = cf_json_get_string(body, "number", "", true, sizeof typed - 1, typed, sizeof typed, d);
    if (!rc && be_complaint_number_canonical(typed, l->number))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "number",
                          "number must be your complaint's number, like Ж-000042");
    if (!rc)
        rc = cf_json_get_string(body, "code", "", true, BE_COMPLAINT_CODE_DIGITS, l->code,
                                sizeof l->code, d);
    if (!rc && (strlen(l->code) != BE_COMPLAINT_CODE_DIGITS ||
                strspn(l->code, "0123456789") != BE_COMPLAINT_CODE_DIGITS))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "code",
                          "code must be the %d digits given when the complaint was filed",
                          BE_COMPLAINT_CODE_DIGITS);
    cJSON_Delete(body);
    return rc;
}

/* ==== Codes ==== */

/* A fresh secret code of BE_COMPLAINT_CODE_DIGITS decimal digits (unbiased). 0 or -1. */
static int new_code(char code[BE_COMPLAINT_CODE_DIGITS + 1])
{
    size_t n = 0;
    while (n < BE_COMPLAINT_CODE_DIGITS) {
        unsigned char bytes[16];
        if (RAND_bytes(bytes, sizeof bytes) != 1)
            return -1;
        for (size_t i = 0; i < sizeof bytes && n < BE_COMPLAINT_CODE_DIGITS; i++)
            if (bytes[i] < 250) /* 250 = 25 x 10: no digit more likely than another */
                code[n++] = (char)('0' + bytes[i] % 10);
        OPENSSL_cleanse(bytes, sizeof bytes);
    }
    code[n] = '\0';
    return 0;
}

/* Give complaint id the code (its SHA-256 kept) and its number into number; false on a
 * database failure or when the caller may not see it (number left ""). */
static bool code_set(struct be_request *req, const char *id, const char *code,
                     char number[BE_COMPLAINT_NUMBER_MAX + 1])
{
    const char *params[2] = {id, code};
    PGresult *res = PQexecParams(req->db, sql_complaint_code_set, 2, NULL, params, NULL, NULL, 0);
    bool ok = be_db_check(req, res, PGRES_TUPLES_OK);
    number[0] = '\0';
    if (ok && PQntuples(res) == 1)
        snprintf(number, BE_COMPLAINT_NUMBER_MAX + 1, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return ok;
}

/* ==== Answers ==== */

static void reply_not_found(struct be_request *req)
{
    be_reply_problem(req, 404, "not-found", "No such complaint",
                     "No complaint you may see has this id.", NULL, NULL);
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

/* One complaint as JSON (status), with its new code when one was just given (shown
 * once), or 404. */
static void reply_complaint(struct be_request *req, const char *id, int status, const char *code)
{
    const char *params[1] = {id};
    PGresult *res = PQexecParams(req->db, sql_complaint_get, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK))
        be_reply_db_error(req, req->db, "complaint");
    else if (PQntuples(res) != 1)
        reply_not_found(req);
    else {
        cJSON *body = cJSON_Parse(PQgetvalue(res, 0, 0));
        if (body && code && !cJSON_AddStringToObject(body, "code", code)) {
            cJSON_Delete(body);
            body = NULL;
        }
        be_reply_json(req, status, body);
    }
    PQclear(res);
}

/* ==== Opening ==== */

struct opening {
    struct be_complaint_new body;
    const char *actor;
    char outcome[20], id[CF_UUID_TEXT_LEN + 1], due[11];
    char code[BE_COMPLAINT_CODE_DIGITS + 1], number[BE_COMPLAINT_NUMBER_MAX + 1];
};

static int open_tx(struct be_request *req, void *ctx)
{
    struct opening *x = ctx;
    const struct be_complaint_new *b = &x->body;
    const char *params[10] = {b->source,         b->cause,       b->text,      b->visit_id,
                              b->appointment_id, b->provider_id, b->worker_id, b->person_name,
                              b->phone,          x->actor};
    PGresult *res = PQexecParams(req->db, sql_complaint_open, 10, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    snprintf(x->id, sizeof x->id, "%s", PQgetvalue(res, 0, 1));
    snprintf(x->due, sizeof x->due, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    if (strcmp(x->outcome, "opened") != 0)
        return BE_TX_ROLLBACK;
    /* the person's number and code: the citizen reads the answer with them */
    if (!code_set(req, x->id, x->code, x->number) || !x->number[0])
        return BE_TX_FAILED;
    if (!req->who.role || req->who.role == BE_PUBLIC)
        return BE_TX_COMMIT; /* the citizen is nobody the audit log can name */
    return be_audit(req, "complaint.open", x->id, "", NULL) ? BE_TX_FAILED : BE_TX_COMMIT;
}

/* Opens x->body; answers 201 with the complaint (staff) or its id and due day (public). */
static void open_complaint(struct be_request *req, struct opening *x, bool public_page)
{
    if (new_code(x->code)) {
        be_reply_server_fault(req, "complaint: random code");
        return;
    }
    int rc = be_db_transaction(req, NULL, "complaint", open_tx, x);
    if (rc == BE_TX_ROLLBACK) {
        char detail[160];
        const char *field = x->outcome;
        if (strcmp(field, "cause") == 0)
            snprintf(detail, sizeof detail, "cause is not one of the causes' codes.");
        else if (public_page)
            snprintf(detail, sizeof detail, "No visit of yours matches what you gave.");
        else
            snprintf(detail, sizeof detail, "%s names nothing you may complain about.", field);
        be_reply_problem(req, 422, "validation", "A field is not valid", detail, field, NULL);
    } else if (rc == BE_TX_COMMIT && !public_page) {
        reply_complaint(req, x->id, 201, x->code); /* the desk reads the code to the person */
    } else if (rc == BE_TX_COMMIT) {
        cJSON *body = cJSON_CreateObject();
        if (body) {
            cJSON_AddStringToObject(body, "id", x->id);
            cJSON_AddStringToObject(body, "number", x->number);
            cJSON_AddStringToObject(body, "code", x->code);
            cJSON_AddStringToObject(body, "state", "open");
            cJSON_AddStringToObject(body, "due", x->due);
        }
        be_reply_json(req, 201, body);
    }
    OPENSSL_cleanse(x->code, sizeof x->code);
}

/* POST /api/v1/complaints: the phone desk or a follow-up call. */
static void handle_create(struct be_request *req)
{
    struct opening x;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (be_complaint_new_read(req->body, req->body_len, BE_COMPLAINT_STAFF, &x.body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    if (x.body.provider_id[0] && !be_auth_provider_filter(req, x.body.provider_id, "provider_id"))
        return;
    x.actor = req->who.login;
    open_complaint(req, &x, false);
}

/* The visit or appointment the citizen's proof names into x->body; false when answered
 * (422: nothing of theirs matches, 503). */
static bool public_target(struct be_request *req, struct opening *x)
{
    struct be_complaint_new *b = &x->body;
    PGresult *res;
    char hash[2 * SHA256_DIGEST_LENGTH + 1];
    const char *field;
    if (b->about[0] == 'o') {
        const char *params[2] = {b->appointment_id, b->secret};
        res = PQexecParams(req->db, sql_appointment_by_secret, 2, NULL, params, NULL, NULL, 0);
        field = "appointment_id";
    } else {
        unsigned char digest[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *)b->code, strlen(b->code), digest);
        for (size_t i = 0; i < sizeof digest; i++)
            snprintf(hash + 2 * i, 3, "%02x", digest[i]);
        const char *params[3] = {b->number, hash, b->visit_date};
        res = PQexecParams(req->db, sql_complaint_home_visit, 3, NULL, params, NULL, NULL, 0);
        field = "number";
    }
    bool found = false;
    if (!be_db_check(req, res, PGRES_TUPLES_OK)) {
        be_reply_db_error(req, req->db, "complaint target");
        PQclear(res);
        return false;
    }
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        found = true;
        if (b->about[0] == 'h')
            snprintf(b->visit_id, sizeof b->visit_id, "%s", PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    if (!found)
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         b->about[0] == 'o'
                             ? "No booking of yours has this id and secret."
                             : "No home visit of yours matches this number, code and day.",
                         field, NULL);
    return found;
}

/* POST /api/v1/public/complaints: the citizen, about an office visit (the booking's id
 * and secret) or a home visit (the application's number and code). */
static void handle_public_create(struct be_request *req)
{
    struct opening x;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (be_public_throttled(req, "complaint", PUBLIC_COMPLAINT_AFTER, PUBLIC_COMPLAINT_FORGET_S))
        return;
    if (be_complaint_new_read(req->body, req->body_len, BE_COMPLAINT_PUBLIC, &x.body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    bool ok = public_target(req, &x);
    OPENSSL_cleanse(x.body.secret, sizeof x.body.secret);
    OPENSSL_cleanse(x.body.code, sizeof x.body.code);
    if (!ok)
        return;
    x.actor = "citizen";
    open_complaint(req, &x, true);
}

/* ==== Changing state ==== */

struct moving {
    char id[CF_UUID_TEXT_LEN + 1];
    struct be_complaint_move body;
    char outcome[16], from[16];
};

static int move_tx(struct be_request *req, void *ctx)
{
    struct moving *x = ctx;
    PGresult *res;
    if (x->body.cause[0]) {
        const char *one[1] = {x->body.cause};
        res = PQexecParams(req->db, sql_complaint_cause_known, 1, NULL, one, NULL, NULL, 0);
        if (!be_db_check(req, res, PGRES_TUPLES_OK)) {
            PQclear(res);
            return BE_TX_FAILED;
        }
        bool known = PQntuples(res) == 1;
        PQclear(res);
        if (!known) {
            snprintf(x->outcome, sizeof x->outcome, "cause");
            return BE_TX_ROLLBACK;
        }
    }
    const char *params[5] = {x->id, x->body.to, x->body.answer, x->body.cause, req->who.login};
    res = PQexecParams(req->db, sql_complaint_move, 5, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    snprintf(x->from, sizeof x->from, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    if (strcmp(x->outcome, "moved") != 0)
        return BE_TX_ROLLBACK;
    char action[40];
    snprintf(action, sizeof action, "complaint.%s",
             strcmp(x->body.to, "open") == 0 ? "reopen" : x->body.to);
    return be_audit(req, action, x->id, x->body.answer, NULL) ? BE_TX_FAILED : BE_TX_COMMIT;
}

/* POST /api/v1/complaints/{id}/transitions: {"to", "answer", "cause"}. */
static void handle_move(struct be_request *req)
{
    struct moving x;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (!read_id(req, x.id))
        return;
    if (be_complaint_move_read(req->body, req->body_len, &x.body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    int rc = be_db_transaction(req, NULL, "complaint change", move_tx, &x);
    if (rc == BE_TX_COMMIT) {
        reply_complaint(req, x.id, 200, NULL);
    } else if (rc == BE_TX_ROLLBACK) {
        char detail[160];
        if (strcmp(x.outcome, "not_found") == 0)
            reply_not_found(req);
        else if (strcmp(x.outcome, "cause") == 0)
            be_reply_problem(req, 422, "validation", "A field is not valid",
                             "cause is not one of the causes' codes.", "cause", NULL);
        else if (strcmp(x.outcome, "answer") == 0)
            be_reply_problem(req, 422, "validation", "A field is not valid",
                             "An answer needs its text: the person reads it.", "answer", NULL);
        else {
            snprintf(detail, sizeof detail, "A complaint in state %s cannot move to %s.", x.from,
                     x.body.to);
            be_reply_problem(req, 409, "illegal-transition", "Not a legal transition", detail, "to",
                             NULL);
        }
    }
}

/* ==== Reading ==== */

/* GET /api/v1/complaints?state=&provider=&worker=&overdue=true&limit=&before= */
static void handle_list(struct be_request *req)
{
    char state[12], provider[40], worker[40], overdue[8], limit[8], before[40];
    struct be_query_param params[] = {
        {"state", state, sizeof state},    {"provider", provider, sizeof provider},
        {"worker", worker, sizeof worker}, {"overdue", overdue, sizeof overdue},
        {"limit", limit, sizeof limit},    {"before", before, sizeof before}};
    struct cf_error_detail d = {0};
    uint8_t id[CF_UUID_LEN];
    long n = 50;
    int rc = be_query_parse(req->query, params, sizeof params / sizeof params[0], &d);
    if (!rc && state[0] && !one_of(state, states))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "state", "state must be open, answered or closed");
    if (!rc && provider[0] && cf_uuid_from_text(provider, id))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "provider", "provider must be a provider's id");
    if (!rc && worker[0] && cf_uuid_from_text(worker, id))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "worker", "worker must be a worker's id");
    if (!rc && overdue[0] && strcmp(overdue, "true") != 0 && strcmp(overdue, "false") != 0)
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "overdue", "overdue must be true or false");
    if (!rc && limit[0]) {
        char *end = NULL;
        n = strtol(limit, &end, 10);
        if (!end || *end || n < 1 || n > LIST_LIMIT_MAX)
            rc =
                cf_error_set(&d, CF_EFIELD_RANGE, "limit", "limit must be 1 to %d", LIST_LIMIT_MAX);
    }
    if (!rc && before[0] && !be_time_text_valid(before))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "before",
                          "before must be a time like 2026-12-07T09:00:00Z");
    if (rc) {
        be_reply_query_invalid(req, &d);
        return;
    }
    if (provider[0] && !be_auth_provider_filter(req, provider, "provider"))
        return;
    char n_text[8];
    snprintf(n_text, sizeof n_text, "%ld", n);
    const char *values[6] = {state,  provider, worker, strcmp(overdue, "true") == 0 ? "t" : "",
                             n_text, before};
    PGresult *res = PQexecParams(req->db, sql_complaint_list, 6, NULL, values, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1)
        be_reply_db_error(req, req->db, "complaint list");
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}

/* GET /api/v1/complaints/{id} */
static void handle_get(struct be_request *req)
{
    char id[CF_UUID_TEXT_LEN + 1];
    if (read_id(req, id))
        reply_complaint(req, id, 200, NULL);
}

struct coding {
    char id[CF_UUID_TEXT_LEN + 1];
    char code[BE_COMPLAINT_CODE_DIGITS + 1], number[BE_COMPLAINT_NUMBER_MAX + 1];
};

static int code_tx(struct be_request *req, void *ctx)
{
    struct coding *x = ctx;
    if (!code_set(req, x->id, x->code, x->number))
        return BE_TX_FAILED;
    if (!x->number[0])
        return BE_TX_ROLLBACK;
    return be_audit(req, "complaint.code", x->id, "", NULL) ? BE_TX_FAILED : BE_TX_COMMIT;
}

/* POST /api/v1/complaints/{id}/code: a new code for the complaint (the old one stops
 * working), answered once, for the desk to read to the person on the phone (a complaint
 * opened by a low rating has none until then). */
static void handle_code(struct be_request *req)
{
    struct coding x;
    memset(&x, 0, sizeof x);
    if (!read_id(req, x.id))
        return;
    if (new_code(x.code)) {
        be_reply_server_fault(req, "complaint: random code");
        return;
    }
    int rc = be_db_transaction(req, NULL, "complaint code", code_tx, &x);
    if (rc == BE_TX_COMMIT) {
        cJSON *body = cJSON_CreateObject();
        if (body) {
            cJSON_AddStringToObject(body, "id", x.id);
            cJSON_AddStringToObject(body, "number", x.number);
            cJSON_AddStringToObject(body, "code", x.code);
        }
        be_reply_json(req, 200, body);
    } else if (rc == BE_TX_ROLLBACK) {
        reply_not_found(req);
    }
    OPENSSL_cleanse(x.code, sizeof x.code);
}

/* POST /api/v1/public/complaints/status: {"number", "code"} -> its state, due day and,
 * once answered, the answer (sql/0033 complaint_public_status). A wrong number and a wrong
 * code get the same 404, so the page tells nobody which numbers exist. */
static void handle_public_status(struct be_request *req)
{
    struct be_complaint_lookup l;
    struct cf_error_detail d = {0};
    if (be_public_throttled(req, "complaint-status", PUBLIC_STATUS_AFTER, PUBLIC_STATUS_FORGET_S))
        return;
    if (be_complaint_lookup_read(req->body, req->body_len, &l, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    const char *params[2] = {l.number, l.code};
    PGresult *res =
        PQexecParams(req->db, sql_complaint_public_status, 2, NULL, params, NULL, NULL, 0);
    OPENSSL_cleanse(l.code, sizeof l.code);
    if (!be_db_check(req, res, PGRES_TUPLES_OK))
        be_reply_db_error(req, req->db, "complaint status");
    else if (PQntuples(res) != 1)
        be_reply_problem(req, 404, "not-found", "No such complaint",
                         "No complaint has this number and code; check both.", NULL, NULL);
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}

/* GET /api/v1/complaints/alerts: the trend alerts (sql/0027 complaint_trend_alerts). */
static void handle_alerts(struct be_request *req)
{
    PGresult *res = PQexecParams(req->db, sql_complaint_alerts, 0, NULL, NULL, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        be_reply_db_error(req, req->db, "complaint alerts");
    } else {
        cJSON *body = cJSON_CreateObject();
        cJSON *items = cJSON_Parse(PQgetvalue(res, 0, 0));
        if (body && items) {
            cJSON_AddItemToObject(body, "items", items);
        } else {
            cJSON_Delete(items);
            cJSON_Delete(body);
            body = NULL;
        }
        be_reply_json(req, 200, body);
    }
    PQclear(res);
}

/* ==== The comparison's cache ==== */

/* The comparison is public (no sign-in, no throttle on a GET) and one answer aggregates a
 * region's month of visits (sql/0033: an index-only scan, ~50 ms at a million visits on a
 * quiet machine): each (region, month) asked is answered from memory for compare-cache-s
 * (default 300) after it was computed, so a crowd of citizens, or someone hammering the
 * page, costs the database one query per region and month every few minutes. A month's
 * figures change only by late uploads and corrections: five minutes late is nothing to a
 * citizen choosing a provider. compare-cache-s 0 turns the cache off. */
#define COMPARE_CACHE_ENTRIES 32

static struct compare_entry {
    char key[48]; /* "region|month" as asked ("" = the defaults) */
    char *json; /* the answer's text, malloc'd; NULL = empty slot */
    time_t at; /* when computed (CLOCK_MONOTONIC seconds) */
} compare_cache[COMPARE_CACHE_ENTRIES];
static pthread_mutex_t compare_lock = PTHREAD_MUTEX_INITIALIZER;

static time_t monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* The cached answer for key, parsed (caller frees), or NULL when none is fresh (younger
 * than ttl_s seconds). */
static cJSON *compare_cached(const char *key, long ttl_s)
{
    cJSON *out = NULL;
    time_t now = monotonic_s();
    pthread_mutex_lock(&compare_lock);
    for (size_t i = 0; i < COMPARE_CACHE_ENTRIES; i++) {
        struct compare_entry *e = &compare_cache[i];
        if (e->json && strcmp(e->key, key) == 0 && now - e->at < ttl_s) {
            out = cJSON_Parse(e->json);
            break;
        }
    }
    pthread_mutex_unlock(&compare_lock);
    return out;
}

/* Keep json (copied) for key, in its own slot, else an empty one, else the oldest. */
static void compare_keep(const char *key, const char *json)
{
    char *copy = strdup(json);
    if (!copy)
        return; /* out of memory: only the cache is lost */
    pthread_mutex_lock(&compare_lock);
    struct compare_entry *slot = &compare_cache[0];
    for (size_t i = 0; i < COMPARE_CACHE_ENTRIES; i++) {
        struct compare_entry *e = &compare_cache[i];
        if (e->json && strcmp(e->key, key) == 0) {
            slot = e;
            break;
        }
        if (!e->json || (slot->json && e->at < slot->at))
            slot = e;
    }
    free(slot->json);
    snprintf(slot->key, sizeof slot->key, "%s", key);
    slot->json = copy;
    slot->at = monotonic_s();
    pthread_mutex_unlock(&compare_lock);
}

/* GET /api/v1/public/comparison?region=&month=YYYY-MM: the region's providers compared. */
static void handle_comparison(struct be_request *req)
{
    char region[40], month[8];
    struct be_query_param params[] = {{"region", region, sizeof region},
                                      {"month", month, sizeof month}};
    struct cf_error_detail d = {0};
    uint8_t id[CF_UUID_LEN];
    int rc = be_query_parse(req->query, params, 2, &d);
    if (!rc && region[0] && cf_uuid_from_text(region, id))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "region", "region must be a region's id");
    if (!rc && month[0]) {
        char day[11];
        snprintf(day, sizeof day, "%s-01", month);
        if (strlen(month) != 7 || month[4] != '-' || !be_time_text_valid(day) ||
            strncmp(month, "2000", 4) < 0)
            rc = cf_error_set(&d, CF_EFIELD_RANGE, "month", "month must be like 2026-11");
    }
    if (rc) {
        be_reply_query_invalid(req, &d);
        return;
    }
    char key[48];
    snprintf(key, sizeof key, "%s|%s", region, month);
    long ttl_s = req->config ? req->config->compare_cache_s : 300;
    cJSON *cached = ttl_s > 0 ? compare_cached(key, ttl_s) : NULL;
    if (cached) {
        be_reply_json(req, 200, cached);
        return;
    }
    char minutes[8];
    snprintf(minutes, sizeof minutes, "%d", BE_COMPARE_PUNCTUAL_MINUTES);
    const char *values[3] = {region, month, minutes};
    PGresult *res = PQexecParams(req->db, sql_provider_comparison, 3, NULL, values, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK))
        be_reply_db_error(req, req->db, "provider comparison");
    else if (PQntuples(res) != 1)
        be_reply_problem(req, 404, "not-found", "No such region", "No region has this id.",
                         "region", NULL);
    else {
        if (ttl_s > 0)
            compare_keep(key, PQgetvalue(res, 0, 0));
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 0)));
    }
    PQclear(res);
}

#define HANDLERS (BE_OVERSIGHT | BE_MANAGER)

static const struct be_route routes[] = {
    {"GET", "/api/v1/complaints", handle_list, true, HANDLERS, BE_BODY_NONE},
    {"POST", "/api/v1/complaints", handle_create, true, HANDLERS, BE_BODY_FORM},
    {"GET", "/api/v1/complaints/alerts", handle_alerts, true, HANDLERS, BE_BODY_NONE},
    {"GET", "/api/v1/complaints/{id}", handle_get, true, HANDLERS, BE_BODY_NONE},
    {"POST", "/api/v1/complaints/{id}/transitions", handle_move, true, HANDLERS, BE_BODY_FORM},
    {"POST", "/api/v1/complaints/{id}/code", handle_code, true, HANDLERS, BE_BODY_NONE},
    {"POST", "/api/v1/public/complaints", handle_public_create, true, BE_PUBLIC, BE_BODY_FORM},
    {"POST", "/api/v1/public/complaints/status", handle_public_status, true, BE_PUBLIC,
     BE_BODY_SMALL},
    {"GET", "/api/v1/public/comparison", handle_comparison, BE_DB_READ, BE_PUBLIC, BE_BODY_NONE},
};
const struct be_module be_complaints_module = BE_MODULE("complaints", routes);
