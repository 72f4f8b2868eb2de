/* Readers of reference records (see ag/reference.h): recipients, catalogue services,
 * plans, trips and surveys from the JSON bodies the server builds. Every string is
 * bounded, every number range-checked and every date parsed; a field the reader does not know is
 * ignored so a newer server does not break an older terminal, but a known field
 * with the wrong type or size is refused with its path. */
#include "ag/reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag/clock.h"
#include "cf/codec.h"
#include "cf/json.h"
#include "cf/uuid.h"

/* ==== Field readers (nullable where the server may send null) ==== */

/* "path.name" (or "name" at the top); a path too long for out is cut, which only
 * shortens an error message. */
static void field_path(char *out, size_t size, const char *path, const char *name)
{
    int n = snprintf(out, size, "%s%s%s", path, path[0] ? "." : "", name);
    if (n < 0 && size)
        out[0] = '\0';
}

static const cJSON *get(const cJSON *obj, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* The server writes null for an absent value: null and absent read alike here, then
 * firmware-shared's strict readers take over. Returns true when the field is
 * there; a required one missing sets CF_EFIELD_MISSING in *rc. */
static bool present_value(const cJSON *obj, const char *name, const char *path, bool required,
                          int *rc, struct cf_error_detail *d)
{
    const cJSON *item = get(obj, name);
    *rc = 0;
    if (item && !cJSON_IsNull(item))
        return true;
    if (required) {
        char field[96];
        field_path(field, sizeof field, path, name);
        *rc = cf_error_set(d, CF_EFIELD_MISSING, field, "%s is required", field);
    }
    return false;
}

/* A string of at most max bytes; null or absent -> "" unless required. */
static int read_string(const cJSON *obj, const char *name, const char *path, bool required,
                       size_t max, char *out, size_t out_size, struct cf_error_detail *d)
{
    int rc;
    out[0] = '\0';
    if (!present_value(obj, name, path, required, &rc, d))
        return rc;
    return cf_json_get_string(obj, name, path, true, max, out, out_size, d);
}

/* A whole number within [min, max]; null or absent -> 0 and *present false. */
static int read_int(const cJSON *obj, const char *name, const char *path, bool required,
                    int64_t min, int64_t max, int64_t *out, bool *present,
                    struct cf_error_detail *d)
{
    int rc;
    *out = 0;
    if (present)
        *present = false;
    if (!present_value(obj, name, path, required, &rc, d))
        return rc;
    rc = cf_json_get_int(obj, name, path, true, min, max, out, d);
    if (!rc && present)
        *present = true;
    return rc;
}

static int read_uuid(const cJSON *obj, const char *name, const char *path, uint8_t out[CF_UUID_LEN],
                     struct cf_error_detail *d)
{
    char text[CF_UUID_TEXT_LEN + 1], field[96];
    int rc = read_string(obj, name, path, true, CF_UUID_TEXT_LEN, text, sizeof text, d);
    field_path(field, sizeof field, path, name);
    if (!rc && cf_uuid_from_text(text, out))
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be a UUID", field);
    return rc;
}

static int read_date(const cJSON *obj, const char *name, const char *path, bool required,
                     char out[AG_DATE_LEN + 1], struct cf_error_detail *d)
{
    char field[96];
    int rc = read_string(obj, name, path, required, AG_DATE_LEN, out, AG_DATE_LEN + 1, d);
    field_path(field, sizeof field, path, name);
    if (!rc && out[0] && ag_parse_date(out))
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be a date YYYY-MM-DD", field);
    return rc;
}

/* An array field: absent or null reads as empty; more than max entries is refused. */
static int read_array(const cJSON *obj, const char *name, const char *path, size_t max,
                      const cJSON **out, struct cf_error_detail *d)
{
    char field[96];
    const cJSON *item = get(obj, name);
    field_path(field, sizeof field, path, name);
    *out = NULL;
    if (!item || cJSON_IsNull(item))
        return 0;
    if (!cJSON_IsArray(item))
        return cf_error_set(d, CF_EFIELD_TYPE, field, "%s must be an array", field);
    if ((size_t)cJSON_GetArraySize(item) > max)
        return cf_error_set(d, CF_EFIELD_RANGE, field, "%s holds more than %zu entries", field,
                            max);
    *out = item;
    return 0;
}

static int need_object(const cJSON *obj, const char *path, struct cf_error_detail *d)
{
    if (!cJSON_IsObject(obj))
        return cf_error_set(d, CF_EFIELD_TYPE, path[0] ? path : "body", "%s must be an object",
                            path[0] ? path : "body");
    return 0;
}

/* ==== Recipients ==== */

static int read_card(const cJSON *obj, const char *path, struct ag_card_binding *out,
                     struct cf_error_detail *d)
{
    char method[8], holder[16], scheme[CF_SCHEME_MAX + 1], field[96];
    uint8_t raw[16];
    size_t raw_len = 0;
    int rc = need_object(obj, path, d);
    if (!rc)
        rc = read_string(obj, "token", path, true, CF_TOKEN_TEXT_LEN, out->token, sizeof out->token,
                         d);
    field_path(field, sizeof field, path, "token");
    if (!rc && (strlen(out->token) != CF_TOKEN_TEXT_LEN ||
                cf_base64url_decode(out->token, CF_TOKEN_TEXT_LEN, raw, sizeof raw, &raw_len)))
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be 22 base64url characters", field);
    if (!rc)
        rc = read_string(obj, "method", path, true, 7, method, sizeof method, d);
    if (!rc && cf_card_method_from_name(method, &out->method)) {
        field_path(field, sizeof field, path, "method");
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be emv or uid", field);
    }
    if (!rc)
        rc = read_string(obj, "scheme", path, false, CF_SCHEME_MAX, scheme, sizeof scheme, d);
    if (!rc)
        rc = read_string(obj, "last4", path, false, 4, out->last4, sizeof out->last4, d);
    if (!rc)
        rc = read_string(obj, "holder", path, false, 15, holder, sizeof holder, d);
    if (!rc)
        out->guardian = strcmp(holder, "guardian") == 0;
    if (!rc)
        rc = read_date(obj, "valid_from", path, false, out->valid_from, d);
    if (!rc)
        rc = read_date(obj, "valid_to", path, false, out->valid_to, d);
    return rc;
}

static int read_cert_service(const cJSON *obj, const char *path, struct ag_cert_service *out,
                             struct cf_error_detail *d)
{
    char period[8], field[96];
    int64_t v = 0;
    int rc = need_object(obj, path, d);
    if (!rc)
        rc = read_string(obj, "code", path, true, CF_SERVICE_CODE_MAX, out->code, sizeof out->code,
                         d);
    if (!rc)
        rc = read_int(obj, "volume", path, true, 0, 100000, &v, NULL, d);
    out->volume = (long)v;
    if (!rc)
        rc = read_int(obj, "remaining", path, false, -100000, 100000, &v, NULL, d);
    out->remaining = (long)v;
    if (!rc)
        rc = read_string(obj, "period", path, true, 7, period, sizeof period, d);
    if (!rc && strcmp(period, "month") && strcmp(period, "year")) {
        field_path(field, sizeof field, path, "period");
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be month or year", field);
    }
    out->yearly = !rc && strcmp(period, "year") == 0;
    return rc;
}

static int read_certificate(const cJSON *obj, const char *path, struct ag_certificate *out,
                            struct cf_error_detail *d)
{
    const cJSON *services = NULL;
    char field[96];
    int rc = need_object(obj, path, d);
    if (!rc)
        rc = read_string(obj, "number", path, false, AG_CERT_NUMBER_MAX, out->number,
                         sizeof out->number, d);
    if (!rc)
        rc = read_date(obj, "valid_from", path, true, out->valid_from, d);
    if (!rc)
        rc = read_date(obj, "valid_to", path, true, out->valid_to, d);
    if (!rc)
        rc = read_array(obj, "services", path, CF_MAX_SERVICES, &services, d);
    size_t i = 0;
    for (const cJSON *s = services ? services->child : NULL; !rc && s; s = s->next, i++) {
        snprintf(field, sizeof field, "%s.services[%zu]", path, i);
        rc = read_cert_service(s, field, &out->services[i], d);
    }
    out->service_count = rc ? 0 : i;
    return rc;
}

int ag_recipient_from_json(const cJSON *body, struct ag_recipient *out, struct cf_error_detail *d)
{
    const cJSON *cards = NULL, *certs = NULL;
    char path[48];
    int64_t lat = 0, lon = 0;
    bool has_lat = false, has_lon = false;
    memset(out, 0, sizeof *out);
    int rc = need_object(body, "", d);
    if (!rc)
        rc = read_uuid(body, "id", "", out->id, d);
    if (!rc)
        rc = read_string(body, "full_name", "", true, AG_NAME_MAX, out->full_name,
                         sizeof out->full_name, d);
    if (!rc)
        rc = read_string(body, "address", "", false, AG_ADDRESS_MAX, out->address,
                         sizeof out->address, d);
    if (!rc)
        rc = read_int(body, "lat_e7", "", false, -900000000, 900000000, &lat, &has_lat, d);
    if (!rc)
        rc = read_int(body, "lon_e7", "", false, -1800000000, 1800000000, &lon, &has_lon, d);
    out->has_location = has_lat && has_lon;
    out->lat_e7 = (int32_t)lat;
    out->lon_e7 = (int32_t)lon;
    if (!rc)
        rc = read_array(body, "cards", "", AG_MAX_CARDS, &cards, d);
    for (const cJSON *c = cards ? cards->child : NULL; !rc && c; c = c->next) {
        snprintf(path, sizeof path, "cards[%zu]", out->card_count);
        rc = read_card(c, path, &out->cards[out->card_count], d);
        out->card_count++;
    }
    if (!rc)
        rc = read_array(body, "certificates", "", AG_MAX_CERTIFICATES, &certs, d);
    for (const cJSON *c = certs ? certs->child : NULL; !rc && c; c = c->next) {
        snprintf(path, sizeof path, "certificates[%zu]", out->certificate_count);
        rc = read_certificate(c, path, &out->certificates[out->certificate_count], d);
        out->certificate_count++;
    }
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ==== Services and plans ==== */

int ag_service_from_json(const cJSON *body, struct ag_service *out, struct cf_error_detail *d)
{
    int64_t norm = 0, tariff = 0;
    memset(out, 0, sizeof *out);
    int rc = need_object(body, "", d);
    if (!rc)
        rc = read_string(body, "code", "", true, CF_SERVICE_CODE_MAX, out->code, sizeof out->code,
                         d);
    if (!rc)
        rc = read_string(body, "name", "", true, AG_NAME_MAX, out->name, sizeof out->name, d);
    if (!rc)
        rc = read_string(body, "category", "", false, sizeof out->category - 1, out->category,
                         sizeof out->category, d);
    if (!rc)
        rc = read_int(body, "norm_minutes", "", true, 1, 24 * 60, &norm, NULL, d);
    if (!rc)
        rc =
            read_int(body, "tariff_kopecks", "", false, 0, INT64_C(100000000000), &tariff, NULL, d);
    out->norm_minutes = (int)norm;
    out->tariff_kopecks = tariff;
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

int ag_plan_from_json(const cJSON *body, struct ag_plan *out, struct cf_error_detail *d)
{
    const cJSON *codes = NULL;
    char start[48];
    memset(out, 0, sizeof *out);
    int rc = need_object(body, "", d);
    if (!rc)
        rc = read_uuid(body, "id", "", out->id, d);
    if (!rc)
        rc = read_uuid(body, "recipient_id", "", out->recipient_id, d);
    if (!rc)
        rc = read_string(body, "planned_start", "", true, sizeof start - 1, start, sizeof start, d);
    if (!rc && ag_parse_time(start, &out->planned_start_ms))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "planned_start",
                          "planned_start must be a time like 2026-05-01T09:00:00+03:00");
    if (!rc)
        rc = read_array(body, "service_codes", "", AG_MAX_PLAN_SERVICES, &codes, d);
    for (const cJSON *c = codes ? codes->child : NULL; !rc && c; c = c->next) {
        char field[48];
        snprintf(field, sizeof field, "service_codes[%zu]", out->service_count);
        size_t len = cJSON_IsString(c) && c->valuestring ? strlen(c->valuestring) : 0;
        if (len == 0 || len > CF_SERVICE_CODE_MAX)
            rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be a service code", field);
        else
            memcpy(out->service_codes[out->service_count++], c->valuestring, len + 1);
    }
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ==== Trips ==== */

/* "HH:MM" of a settlement or an appointment. */
static int read_clock(const cJSON *obj, const char *name, const char *path, char out[6],
                      struct cf_error_detail *d)
{
    char field[96];
    int rc = read_string(obj, name, path, true, 5, out, 6, d);
    field_path(field, sizeof field, path, name);
    if (!rc && (strlen(out) != 5 || out[2] != ':' || strspn(out, "0123456789:") != 5))
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be a local time like 09:30", field);
    return rc;
}

static int read_trip_settlement(const cJSON *obj, const char *path, struct ag_trip_settlement *s,
                                struct cf_error_detail *d)
{
    int64_t position = 0;
    int rc = need_object(obj, path, d);
    if (!rc)
        rc = read_int(obj, "position", path, true, 1, 30, &position, NULL, d);
    s->position = (int)position;
    if (!rc)
        rc = read_string(obj, "name", path, true, AG_NAME_MAX, s->name, sizeof s->name, d);
    if (!rc)
        rc = read_string(obj, "place", path, false, AG_ADDRESS_MAX, s->place, sizeof s->place, d);
    if (!rc)
        rc = read_clock(obj, "arrives", path, s->arrives, d);
    if (!rc)
        rc = read_clock(obj, "leaves", path, s->leaves, d);
    return rc;
}

static int read_trip_partner(const cJSON *obj, const char *path, struct ag_trip_partner *p,
                             struct cf_error_detail *d)
{
    int rc = need_object(obj, path, d);
    if (!rc)
        rc = read_string(obj, "name", path, true, AG_NAME_MAX, p->name, sizeof p->name, d);
    if (!rc)
        rc = read_string(obj, "activity", path, false, AG_ADDRESS_MAX, p->activity,
                         sizeof p->activity, d);
    return rc;
}

static int read_trip_appointment(const cJSON *obj, const char *path, struct ag_trip_appointment *a,
                                 struct cf_error_detail *d)
{
    int64_t settlement = 0;
    char field[96];
    int rc = need_object(obj, path, d);
    if (!rc)
        rc = read_int(obj, "settlement", path, true, 1, 30, &settlement, NULL, d);
    a->settlement = (int)settlement;
    if (!rc)
        rc = read_clock(obj, "time", path, a->time, d);
    if (!rc)
        rc = read_string(obj, "kind", path, true, sizeof a->kind - 1, a->kind, sizeof a->kind, d);
    if (!rc && strcmp(a->kind, "home_survey") && strcmp(a->kind, "aid_handover")) {
        field_path(field, sizeof field, path, "kind");
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be home_survey or aid_handover",
                          field);
    }
    if (!rc)
        rc = read_string(obj, "person_name", path, false, AG_NAME_MAX, a->person_name,
                         sizeof a->person_name, d);
    if (!rc)
        rc = read_string(obj, "phone", path, false, sizeof a->phone - 1, a->phone, sizeof a->phone,
                         d);
    return rc;
}

/* The lists of a trip: settlements, partners, appointments, each entry checked. */
static int read_trip_lists(const cJSON *body, struct ag_trip *t, struct cf_error_detail *d)
{
    const cJSON *list = NULL;
    char path[48];
    int rc = read_array(body, "settlements", "", AG_TRIP_SETTLEMENTS_MAX, &list, d);
    for (const cJSON *c = list ? list->child : NULL; !rc && c; c = c->next) {
        snprintf(path, sizeof path, "settlements[%zu]", t->settlement_count);
        rc = read_trip_settlement(c, path, &t->settlements[t->settlement_count++], d);
    }
    if (!rc)
        rc = read_array(body, "partners", "", AG_TRIP_PARTNERS_MAX, &list, d);
    for (const cJSON *c = list ? list->child : NULL; !rc && c; c = c->next) {
        snprintf(path, sizeof path, "partners[%zu]", t->partner_count);
        rc = read_trip_partner(c, path, &t->partners[t->partner_count++], d);
    }
    if (!rc)
        rc = read_array(body, "appointments", "", AG_TRIP_APPOINTMENTS_MAX, &list, d);
    for (const cJSON *c = list ? list->child : NULL; !rc && c; c = c->next) {
        snprintf(path, sizeof path, "appointments[%zu]", t->appointment_count);
        rc = read_trip_appointment(c, path, &t->appointments[t->appointment_count++], d);
    }
    return rc;
}

int ag_trip_from_json(const cJSON *body, struct ag_trip *out, struct cf_error_detail *d)
{
    memset(out, 0, sizeof *out);
    int rc = need_object(body, "", d);
    if (!rc)
        rc = read_uuid(body, "id", "", out->id, d);
    if (!rc)
        rc = read_date(body, "day", "", true, out->day, d);
    if (!rc)
        rc = read_string(body, "title", "", true, AG_NAME_MAX, out->title, sizeof out->title, d);
    if (!rc)
        rc = read_string(body, "state", "", false, sizeof out->state - 1, out->state,
                         sizeof out->state, d);
    if (!rc)
        rc =
            read_string(body, "office", "", false, AG_NAME_MAX, out->office, sizeof out->office, d);
    if (!rc)
        rc = read_string(body, "booking_info", "", false, AG_ADDRESS_MAX, out->booking_info,
                         sizeof out->booking_info, d);
    if (!rc)
        rc = read_trip_lists(body, out, d);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ==== Surveys ==== */

static const char *const question_kinds[] = {"scale5", "choice3", "yes_no"};

const char *ag_question_kind_name(enum ag_question_kind kind)
{
    return (size_t)kind < sizeof question_kinds / sizeof question_kinds[0] ? question_kinds[kind]
                                                                           : "?";
}

/* A name of the instrument or a question: [a-z_]{1,max} (sql/0026's checks). */
static int read_code(const cJSON *obj, const char *name, const char *path, size_t max, char *out,
                     size_t out_size, struct cf_error_detail *d)
{
    char field[96];
    int rc = read_string(obj, name, path, true, max, out, out_size, d);
    field_path(field, sizeof field, path, name);
    if (!rc && (!out[0] || strspn(out, "abcdefghijklmnopqrstuvwxyz_") != strlen(out)))
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be lower-case letters and _", field);
    return rc;
}

static int read_question(const cJSON *obj, const char *path, struct ag_survey_question *q,
                         struct cf_error_detail *d)
{
    int64_t position = 0;
    char kind[16], field[96];
    const cJSON *required = NULL;
    int rc = need_object(obj, path, d);
    if (!rc)
        rc = read_int(obj, "position", path, true, 1, 1000, &position, NULL, d);
    q->position = (int)position;
    if (!rc)
        rc = read_code(obj, "code", path, AG_SURVEY_CODE_MAX, q->code, sizeof q->code, d);
    if (!rc)
        rc = read_string(obj, "kind", path, true, sizeof kind - 1, kind, sizeof kind, d);
    size_t k = 0;
    while (!rc && k < sizeof question_kinds / sizeof question_kinds[0] &&
           strcmp(kind, question_kinds[k]) != 0)
        k++;
    field_path(field, sizeof field, path, "kind");
    if (!rc && k == sizeof question_kinds / sizeof question_kinds[0])
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be scale5, choice3 or yes_no", field);
    q->kind = (enum ag_question_kind)k;
    if (!rc)
        rc = read_string(obj, "text", path, true, AG_SURVEY_TEXT_MAX, q->text, sizeof q->text, d);
    if (!rc && !q->text[0]) {
        field_path(field, sizeof field, path, "text");
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s is empty", field);
    }
    if (!rc && (required = get(obj, "required")) != NULL && !cJSON_IsBool(required)) {
        field_path(field, sizeof field, path, "required");
        rc = cf_error_set(d, CF_EFIELD_TYPE, field, "%s must be true or false", field);
    }
    q->required = !required || cJSON_IsTrue(required); /* absent: required, as 0026's default */
    return rc;
}

/* Codes once each, positions rising: the order the screens ask them in. */
static int check_questions(const struct ag_survey *s, struct cf_error_detail *d)
{
    for (size_t i = 1; i < s->question_count; i++) {
        if (s->questions[i].position <= s->questions[i - 1].position)
            return cf_error_set(d, CF_EFIELD_RANGE, "questions",
                                "questions must come in rising positions");
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->questions[i].code, s->questions[j].code) == 0)
                return cf_error_set(d, CF_EFIELD_RANGE, "questions", "question %s is there twice",
                                    s->questions[i].code);
    }
    return 0;
}

int ag_survey_from_json(const cJSON *body, struct ag_survey *out, struct cf_error_detail *d)
{
    int64_t version = 0;
    const cJSON *list = NULL;
    char path[32];
    memset(out, 0, sizeof *out);
    int rc = need_object(body, "", d);
    if (!rc)
        rc = read_code(body, "instrument", "", AG_SURVEY_ID_MAX, out->instrument,
                       sizeof out->instrument, d);
    if (!rc)
        rc = read_int(body, "version", "", true, 1, 1000000, &version, NULL, d);
    out->version = (int)version;
    if (!rc)
        rc = read_string(body, "name", "", false, AG_NAME_MAX, out->name, sizeof out->name, d);
    if (!rc)
        rc = read_array(body, "questions", "", AG_SURVEY_QUESTIONS_MAX, &list, d);
    if (!rc && (!list || !list->child))
        rc = cf_error_set(d, CF_EFIELD_MISSING, "questions", "a survey needs its questions");
    for (const cJSON *c = list ? list->child : NULL; !rc && c; c = c->next) {
        snprintf(path, sizeof path, "questions[%zu]", out->question_count);
        rc = read_question(c, path, &out->questions[out->question_count++], d);
    }
    if (!rc)
        rc = check_questions(out, d);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

static bool answer_valid(enum ag_question_kind kind, const char *value)
{
    static const char *const scale5[] = {"1", "2", "3", "4", "5", NULL};
    static const char *const choice3[] = {"fully", "partly", "no", NULL};
    static const char *const yes_no[] = {"yes", "no", NULL};
    const char *const *allowed = kind == AG_QUESTION_SCALE5    ? scale5
                                 : kind == AG_QUESTION_CHOICE3 ? choice3
                                                               : yes_no;
    for (size_t i = 0; value && allowed[i]; i++)
        if (strcmp(value, allowed[i]) == 0)
            return true;
    return false;
}

int ag_survey_answers_check(const struct ag_survey *s, const char *const codes[],
                            const char *const values[], size_t count, struct cf_error_detail *d)
{
    bool answered[AG_SURVEY_QUESTIONS_MAX] = {false};
    for (size_t i = 0; i < count; i++) {
        size_t q = 0;
        while (q < s->question_count && strcmp(codes[i], s->questions[q].code) != 0)
            q++;
        if (q == s->question_count)
            return cf_error_set(d, CF_EFIELD_RANGE, codes[i], "%.32s is not a question of %s",
                                codes[i], s->instrument);
        if (answered[q])
            return cf_error_set(d, CF_EFIELD_RANGE, codes[i], "%s is answered twice", codes[i]);
        if (!answer_valid(s->questions[q].kind, values[i]))
            return cf_error_set(d, CF_EFIELD_RANGE, codes[i], "%s takes an answer of %s", codes[i],
                                ag_question_kind_name(s->questions[q].kind));
        answered[q] = true;
    }
    for (size_t q = 0; q < s->question_count; q++)
        if (s->questions[q].required && !answered[q])
            return cf_error_set(d, CF_EFIELD_MISSING, s->questions[q].code, "%s is not answered",
                                s->questions[q].code);
    return 0;
}

/* ==== From stored text ==== */

#define PARSE_TEXT(fn, type)                                                                       \
    int fn##_parse(const char *text, type *out, struct cf_error_detail *d)                         \
    {                                                                                              \
        cJSON *body = text ? cJSON_Parse(text) : NULL;                                             \
        if (!body)                                                                                 \
            return cf_error_set(d, CF_EJSON, "body", "the stored record is not JSON");             \
        int rc = fn##_from_json(body, out, d);                                                     \
        cJSON_Delete(body);                                                                        \
        return rc;                                                                                 \
    }

PARSE_TEXT(ag_recipient, struct ag_recipient)
PARSE_TEXT(ag_service, struct ag_service)
PARSE_TEXT(ag_plan, struct ag_plan)
PARSE_TEXT(ag_trip, struct ag_trip)
PARSE_TEXT(ag_survey, struct ag_survey)

/* ==== Checking a record from the server ==== */

int ag_reference_check(const char *kind, const char *id, const cJSON *body,
                       char tokens[][CF_TOKEN_TEXT_LEN + 1], size_t *token_count,
                       struct cf_error_detail *d)
{
    char own[CF_UUID_TEXT_LEN + 1];
    *token_count = 0;
    if (strcmp(kind, "recipient") == 0) {
        struct ag_recipient *r = malloc(sizeof *r); /* ~20 KiB: not on the stack */
        if (!r)
            return CF_ENOMEM;
        int rc = ag_recipient_from_json(body, r, d);
        if (!rc) {
            cf_uuid_to_text(r->id, own);
            if (strcmp(own, id) != 0)
                rc = cf_error_set(d, CF_EFIELD_RANGE, "id", "the body's id %s is not the record's",
                                  own);
        }
        for (size_t i = 0; !rc && i < r->card_count; i++)
            memcpy(tokens[(*token_count)++], r->cards[i].token, CF_TOKEN_TEXT_LEN + 1);
        free(r);
        return rc;
    }
    if (strcmp(kind, "service") == 0) {
        struct ag_service s;
        int rc = ag_service_from_json(body, &s, d);
        if (!rc && strcmp(s.code, id) != 0)
            rc = cf_error_set(d, CF_EFIELD_RANGE, "code", "the body's code is not the record's");
        return rc;
    }
    if (strcmp(kind, "plan") == 0) {
        struct ag_plan p;
        int rc = ag_plan_from_json(body, &p, d);
        cf_uuid_to_text(p.id, own);
        if (!rc && strcmp(own, id) != 0)
            rc = cf_error_set(d, CF_EFIELD_RANGE, "id", "the body's id is not the record's");
        return rc;
    }
    if (strcmp(kind, "trip") == 0) {
        struct ag_trip *t = malloc(sizeof *t); /* ~40 KiB: not on the stack */
        if (!t)
            return CF_ENOMEM;
        int rc = ag_trip_from_json(body, t, d);
        cf_uuid_to_text(t->id, own);
        if (!rc && strcmp(own, id) != 0)
            rc = cf_error_set(d, CF_EFIELD_RANGE, "id", "the body's id is not the record's");
        free(t);
        return rc;
    }
    if (strcmp(kind, "survey") == 0) {
        struct ag_survey *s = malloc(sizeof *s); /* ~35 KiB: not on the stack */
        if (!s)
            return CF_ENOMEM;
        int rc = ag_survey_from_json(body, s, d);
        if (!rc && strcmp(s->instrument, id) != 0)
            rc = cf_error_set(d, CF_EFIELD_RANGE, "instrument",
                              "the body's instrument is not the record's");
        free(s);
        return rc;
    }
    return cf_error_set(d, CF_EKIND, "kind", "unknown reference kind '%.20s'", kind);
}

bool ag_date_within(const char *date, const char *from, const char *to)
{
    if (from && from[0] && strcmp(date, from) < 0)
        return false;
    if (to && to[0] && strcmp(date, to) > 0)
        return false;
    return true;
}
