/* Satisfaction (issue 16): survey answers and the figures that prove (or do not) the
 * 95 % target. The citizen answers on the public page after an office visit, with
 * the appointment's secret as proof (throttled per client address like the other
 * public forms); the department calls the independent follow-up sample and a
 * provider's manager or the department calls back low ratings (phone); the terminal's
 * per-visit rating is already on visits. Every rule — which answers fit an instrument,
 * who is sampled, the Wilson interval, the status, coverage, courtesy bias — is a
 * function of sql/0026_satisfaction.sql; this file reads bodies, scopes, answers. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "be/audit.h"
#include "be/auth.h"
#include "be/db.h"
#include "be/query.h"
#include "be/reply.h"
#include "be/throttle.h"
#include "be/satisfaction.h"
#include "cf/json.h"
#include "cf/uuid.h"
#include "sql/satisfaction_sql.h"

#define BODY_MAX_BYTES (8u * 1024)
#define BODY_MAX_VALUES (BE_SURVEY_ANSWERS_MAX + 16)

/* The citizen's answers from one address: a few per visit is normal, a flood is not. */
#define SURVEY_AFTER 20
#define SURVEY_FORGET_S 900

static const char *const purposes[] = {"after_visit", "sample", "low_rating", NULL};
static const char *const channels[] = {"in_person", "phone", "web", "home_visit", NULL};
static const char *const answer_words[] = {"fully", "partly", "no", "yes", NULL};

static bool one_of(const char *value, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(value, list[i]) == 0)
            return true;
    return false;
}

/* ==== Reading bodies (pure) ==== */

static bool code_valid(const char *code)
{
    size_t n = strlen(code);
    if (n < 1 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(code[i] >= 'a' && code[i] <= 'z') && code[i] != '_')
            return false;
    return true;
}

/* The answers object: codes to 1..5 or a known word; re-printed compactly. */
static int read_answers(const cJSON *body, char *out, size_t out_size, struct cf_error_detail *d)
{
    const cJSON *answers = cJSON_GetObjectItemCaseSensitive(body, "answers");
    if (!answers)
        return cf_error_set(d, CF_EFIELD_MISSING, "answers",
                            "answers is required: an object of question codes to answers");
    if (!cJSON_IsObject(answers))
        return cf_error_set(d, CF_EFIELD_TYPE, "answers",
                            "answers must be an object of question codes to answers");
    int count = 0;
    for (const cJSON *a = answers->child; a; a = a->next) {
        char field[48];
        snprintf(field, sizeof field, "answers.%.32s", a->string ? a->string : "");
        if (!a->string || !code_valid(a->string))
            return cf_error_set(d, CF_EFIELD_UNKNOWN, "answers",
                                "answers names a question that is not a code like waiting");
        if (++count > BE_SURVEY_ANSWERS_MAX)
            return cf_error_set(d, CF_EFIELD_RANGE, "answers", "answers names too many questions");
        for (const cJSON *b = answers->child; b != a; b = b->next)
            if (strcmp(b->string, a->string) == 0)
                return cf_error_set(d, CF_EFIELD_RANGE, field, "%s is answered twice", field);
        bool ok = cJSON_IsNumber(a) ? a->valuedouble >= 1 && a->valuedouble <= 5 &&
                                          a->valuedouble == (double)(int)a->valuedouble
                                    : cJSON_IsString(a) && one_of(a->valuestring, answer_words);
        if (!ok)
            return cf_error_set(d, CF_EFIELD_RANGE, field,
                                "%s must be a mark from 1 to 5 or one of fully, partly, no, yes",
                                field);
    }
    char *text = cJSON_PrintUnformatted(answers);
    if (!text)
        return cf_error_set(d, CF_ENOMEM, "answers", "the answers could not be read");
    int rc = 0;
    if (strlen(text) >= out_size)
        rc = cf_error_set(d, CF_ETOOBIG, "answers", "answers is too long");
    else
        snprintf(out, out_size, "%s", text);
    cJSON_free(text);
    return rc;
}

static int read_uuid_field(const cJSON *body, const char *name, char out[40],
                           struct cf_error_detail *d)
{
    uint8_t id[CF_UUID_LEN];
    char text[40];
    int rc = cf_json_get_string(body, name, "", false, 36, text, sizeof text, d);
    out[0] = '\0';
    if (!rc && text[0]) {
        if (cf_uuid_from_text(text, id))
            return cf_error_set(d, CF_EFIELD_RANGE, name, "%s must be an id", name);
        cf_uuid_to_text(id, out);
    }
    return rc;
}

int be_survey_answer_read(const char *text, size_t len, enum be_survey_source source,
                          struct be_survey_answer *s, struct cf_error_detail *d)
{
    static const char *const public_fields[] = {"secret", "instrument", "version", "answers", NULL};
    static const char *const staff_fields[] = {
        "visit_id", "appointment_id", "purpose", "instrument", "version", "answers", NULL};
    cJSON *body = NULL;
    int64_t version = 0;
    memset(s, 0, sizeof *s);
    int rc = cf_json_parse_capped(text ? text : "", len, BODY_MAX_BYTES, BODY_MAX_VALUES, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, source == BE_SURVEY_PUBLIC ? public_fields : staff_fields,
                                  "", d);
    if (!rc && source == BE_SURVEY_PUBLIC) {
        rc = cf_json_get_string(body, "secret", "", true, BE_SURVEY_SECRET_HEX, s->secret,
                                sizeof s->secret, d);
        if (!rc && (strlen(s->secret) != BE_SURVEY_SECRET_HEX ||
                    strspn(s->secret, "0123456789abcdef") != BE_SURVEY_SECRET_HEX))
            rc = cf_error_set(d, CF_EFIELD_RANGE, "secret",
                              "secret must be the secret the booking was answered with");
        snprintf(s->purpose, sizeof s->purpose, "after_visit");
    }
    if (!rc && source == BE_SURVEY_STAFF) {
        rc = read_uuid_field(body, "visit_id", s->visit_id, d);
        if (!rc)
            rc = read_uuid_field(body, "appointment_id", s->appointment_id, d);
        if (!rc && !s->visit_id[0] == !s->appointment_id[0])
            rc = cf_error_set(d, CF_EFIELD_MISSING, "visit_id",
                              "name exactly one of visit_id and appointment_id: what the answers "
                              "are about");
        if (!rc)
            rc = cf_json_get_string(body, "purpose", "", true, sizeof s->purpose - 1, s->purpose,
                                    sizeof s->purpose, d);
        if (!rc && !one_of(s->purpose, purposes))
            rc = cf_error_set(d, CF_EFIELD_RANGE, "purpose",
                              "purpose must be one of after_visit, sample, low_rating");
    }
    if (!rc)
        rc = cf_json_get_string(body, "instrument", "", true, sizeof s->instrument - 1,
                                s->instrument, sizeof s->instrument, d);
    if (!rc && !code_valid(s->instrument))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "instrument",
                          "instrument must be a survey's code, like public_service");
    if (!rc)
        rc = cf_json_get_int(body, "version", "", true, 1, 1000, &version, d);
    s->version = (long)version;
    if (!rc)
        rc = read_answers(body, s->answers, sizeof s->answers, d);
    cJSON_Delete(body);
    return rc;
}

/* ==== Answering ==== */

struct recording {
    const struct be_survey_answer *body;
    const char *channel, *actor;
    char outcome[16], id[CF_UUID_TEXT_LEN + 1], field[48];
};

static int record_tx(struct be_request *req, void *ctx)
{
    struct recording *x = ctx;
    char version[12];
    snprintf(version, sizeof version, "%ld", x->body->version);
    const char *params[8] = {x->body->instrument, version,           x->channel,
                             x->body->purpose,    x->body->visit_id, x->body->appointment_id,
                             x->body->answers,    x->actor};
    PGresult *res = PQexecParams(req->db, sql_survey_record, 8, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    snprintf(x->id, sizeof x->id, "%s", PQgetvalue(res, 0, 1));
    snprintf(x->field, sizeof x->field, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    if (strcmp(x->outcome, "recorded") != 0)
        return BE_TX_ROLLBACK;
    if (!req->who.login[0])
        return BE_TX_COMMIT; /* the citizen's own answer: nobody's action to audit */
    char details[96];
    snprintf(details, sizeof details, "{\"purpose\":\"%s\",\"channel\":\"%s\"}", x->body->purpose,
             x->channel);
    return be_audit(req, "survey.record", x->id, "", details) ? BE_TX_FAILED : BE_TX_COMMIT;
}

static void reply_refused(struct be_request *req, const struct recording *x)
{
    char detail[200];
    if (strcmp(x->outcome, "not_found") == 0)
        be_reply_problem(req, 404, "not-found", "Nothing to answer about",
                         "No visit or appointment you may see has this id (or the secret is not "
                         "its own).",
                         NULL, NULL);
    else if (strcmp(x->outcome, "not_served") == 0)
        be_reply_problem(req, 409, "not-served", "Not served yet",
                         "Answers are taken once the visit has ended or the appointment was "
                         "served.",
                         NULL, NULL);
    else if (strcmp(x->outcome, "answered") == 0)
        be_reply_problem(req, 409, "already-answered", "Already answered",
                         "This visit or appointment already has an answer of this kind.", NULL,
                         NULL);
    else if (strcmp(x->outcome, "not_sampled") == 0)
        be_reply_problem(req, 409, "not-sampled", "Not in the follow-up sample",
                         "A sample follow-up is recorded only for a visit of the month's sample "
                         "(GET /api/v1/satisfaction/followups).",
                         "visit_id", NULL);
    else {
        char field[64];
        if (strcmp(x->field, "instrument") == 0)
            snprintf(field, sizeof field, "instrument");
        else
            snprintf(field, sizeof field, "answers.%.32s", x->field);
        snprintf(detail, sizeof detail,
                 strcmp(x->field, "instrument") == 0
                     ? "No such survey or version."
                     : "%s is not a question of this survey, is missing, or is not a valid "
                       "answer to it.",
                 field);
        be_reply_problem(req, 422, "validation", "A field is not valid", detail, field, NULL);
    }
}

static void record(struct be_request *req, struct recording *x)
{
    int rc = be_db_transaction(req, NULL, "survey answer", record_tx, x);
    if (rc == BE_TX_ROLLBACK)
        reply_refused(req, x);
    else if (rc == BE_TX_COMMIT) {
        cJSON *body = cJSON_CreateObject();
        if (body) {
            cJSON_AddStringToObject(body, "id", x->id);
            cJSON_AddStringToObject(body, "channel", x->channel);
            cJSON_AddStringToObject(body, "purpose", x->body->purpose);
        }
        be_reply_json(req, 201, body);
    }
}

/* POST /api/v1/public/appointments/{id}/survey: the citizen's answers after the
 * office visit, the appointment's secret as proof (channel web). */
static void handle_public_answer(struct be_request *req)
{
    struct be_survey_answer body;
    struct recording x;
    struct cf_error_detail d = {0};
    uint8_t id[CF_UUID_LEN];
    memset(&x, 0, sizeof x);
    if (be_public_throttled(req, "survey", SURVEY_AFTER, SURVEY_FORGET_S))
        return;
    if (be_survey_answer_read(req->body, req->body_len, BE_SURVEY_PUBLIC, &body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    snprintf(x.outcome, sizeof x.outcome, "not_found");
    if (cf_uuid_from_text(be_param(req, "id"), id)) {
        reply_refused(req, &x);
        return;
    }
    cf_uuid_to_text(id, body.appointment_id);
    const char *params[2] = {body.appointment_id, body.secret};
    PGresult *res =
        PQexecParams(req->db, sql_survey_appointment_by_secret, 2, NULL, params, NULL, NULL, 0);
    bool ok = be_db_check(req, res, PGRES_TUPLES_OK);
    bool mine = ok && PQntuples(res) == 1;
    PQclear(res);
    OPENSSL_cleanse(body.secret, sizeof body.secret);
    if (!ok)
        be_reply_db_error(req, req->db, "survey appointment");
    else if (!mine)
        reply_refused(req, &x);
    else {
        x.body = &body;
        x.channel = "web";
        x.actor = "citizen";
        record(req, &x);
    }
}

/* POST /api/v1/satisfaction/responses: a phone follow-up recorded by staff. The
 * independent sample is the department's (a provider's manager calling their own
 * sample would not be independent): 403 for a manager. */
static void handle_staff_answer(struct be_request *req)
{
    struct be_survey_answer body;
    struct recording x;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (be_survey_answer_read(req->body, req->body_len, BE_SURVEY_STAFF, &body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    if (strcmp(body.purpose, "sample") == 0 && !(req->who.role & BE_OVERSIGHT)) {
        be_reply_problem(req, 403, "forbidden", "The sample is the department's",
                         "The independent follow-up sample is called by the department, not by "
                         "the provider.",
                         "purpose", NULL);
        return;
    }
    x.body = &body;
    x.channel = "phone";
    x.actor = req->who.login;
    record(req, &x);
}

/* GET /api/v1/public/surveys/{instrument}: the questions of its version in force. */
static void handle_form(struct be_request *req)
{
    const char *instrument = be_param(req, "instrument");
    const char *params[1] = {instrument};
    PGresult *res = NULL;
    if (code_valid(instrument))
        res = PQexecParams(req->db, sql_survey_form, 1, NULL, params, NULL, NULL, 0);
    if (res && !be_db_check(req, res, PGRES_TUPLES_OK))
        be_reply_db_error(req, req->db, "survey form");
    else if (!res || PQntuples(res) != 1)
        be_reply_problem(req, 404, "not-found", "No such survey",
                         "No survey in force has this code.", NULL, NULL);
    else
        be_reply_text(req, 200, "application/json", PQgetvalue(res, 0, 0));
    PQclear(res);
}

/* ==== Figures ==== */

struct figures_query {
    char month[8], provider[40], channel[16];
    char month_day[11]; /* the month's first day */
};

/* ?month=YYYY-MM (required), provider=, channel=; a manager is held to their own
 * provider (another named: 403). Returns false when answered. */
static bool read_figures_query(struct be_request *req, struct figures_query *q, bool channel)
{
    struct cf_error_detail d = {0};
    struct be_query_param params[] = {{"month", q->month, sizeof q->month},
                                      {"provider", q->provider, sizeof q->provider},
                                      {"channel", q->channel, sizeof q->channel}};
    uint8_t id[CF_UUID_LEN];
    memset(q, 0, sizeof *q);
    int rc = be_query_parse(req->query, params, channel ? 3 : 2, &d);
    if (!rc &&
        (strlen(q->month) != 7 || q->month[4] != '-' || !isdigit((unsigned char)q->month[0]) ||
         !isdigit((unsigned char)q->month[1]) || !isdigit((unsigned char)q->month[2]) ||
         !isdigit((unsigned char)q->month[3]) || !isdigit((unsigned char)q->month[5]) ||
         !isdigit((unsigned char)q->month[6]) || strcmp(q->month + 5, "01") < 0 ||
         strcmp(q->month + 5, "12") > 0 || strncmp(q->month, "1970", 4) < 0))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "month", "month must be a month like 2026-11");
    if (!rc && q->provider[0]) {
        if (cf_uuid_from_text(q->provider, id))
            rc = cf_error_set(&d, CF_EFIELD_RANGE, "provider", "provider must be a provider's id");
        else
            cf_uuid_to_text(id, q->provider);
    }
    if (!rc && q->channel[0] && !one_of(q->channel, channels))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "channel",
                          "channel must be one of in_person, phone, web, home_visit");
    if (rc) {
        be_reply_query_invalid(req, &d);
        return false;
    }
    snprintf(q->month_day, sizeof q->month_day, "%s-01", q->month);
    if (!be_auth_provider_filter(req, q->provider, "provider"))
        return false;
    const char *scope = be_auth_provider_scope(req);
    if (scope[0])
        snprintf(q->provider, sizeof q->provider, "%s", scope);
    return true;
}

static void reply_query(struct be_request *req, const char *query, const char *const *params,
                        int count, const char *what)
{
    PGresult *res = PQexecParams(req->db, query, count, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1)
        be_reply_db_error(req, req->db, what);
    else
        be_reply_text(req, 200, "application/json", PQgetvalue(res, 0, 0));
    PQclear(res);
}

/* GET /api/v1/satisfaction?month=&provider=&channel= */
static void handle_figures(struct be_request *req)
{
    struct figures_query q;
    if (!read_figures_query(req, &q, true))
        return;
    const char *params[3] = {q.month_day, q.provider, q.channel};
    reply_query(req, sql_satisfaction_figures, params, 3, "satisfaction figures");
}

/* GET /api/v1/satisfaction/followups?month=&provider= (the department) */
static void handle_followups(struct be_request *req)
{
    struct figures_query q;
    if (!read_figures_query(req, &q, false))
        return;
    const char *params[2] = {q.month_day, q.provider};
    reply_query(req, sql_satisfaction_followups, params, 2, "satisfaction follow-ups");
}

static const struct be_route routes[] = {
    {"GET", "/api/v1/public/surveys/{instrument}", handle_form, true, BE_PUBLIC, BE_BODY_NONE},
    {"POST", "/api/v1/public/appointments/{id}/survey", handle_public_answer, true, BE_PUBLIC,
     BE_BODY_SMALL},
    {"GET", "/api/v1/satisfaction", handle_figures, BE_DB_READ, BE_OVERSIGHT | BE_MANAGER,
     BE_BODY_NONE},
    {"GET", "/api/v1/satisfaction/followups", handle_followups, BE_DB_READ, BE_OVERSIGHT,
     BE_BODY_NONE},
    {"POST", "/api/v1/satisfaction/responses", handle_staff_answer, true, BE_OVERSIGHT | BE_MANAGER,
     BE_BODY_SMALL},
};
const struct be_module be_satisfaction_module = BE_MODULE("satisfaction", routes);
