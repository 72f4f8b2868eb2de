/* Applications (issue 15): the citizen's form and status page (public), the front
 * office's intake, the journal's search and one application with its journal, and the
 * one way an application changes state (POST .../transitions, the SQL function
 * application_move, which holds the legal transitions and who may make them).
 *
 * Who sees what is row-level security (sql/0019_applications.sql): the front office its
 * office's applications, the back office its region's, oversight all; an insert outside
 * the caller's office fails the policy. The applicant's secret code is shown once, when
 * the application is filed; only its SHA-256 is kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "be/applications.h"
#include "be/audit.h"
#include "be/auth.h"
#include "be/db.h"
#include "be/query.h"
#include "be/reply.h"
#include "be/throttle.h"
#include "cf/json.h"
#include "cf/uuid.h"
#include "sql/applications_sql.h"

#define FORM_MAX_BYTES (16u * 1024)
#define FORM_MAX_VALUES 64
/* a transition with the largest programme: 32 services, 16 rules of 7 days, 32 codes */
#define MOVE_MAX_VALUES 1024

static const char *const channels[] = {"web", "office", "phone", "post", "terminal", NULL};
static const char *const categories[] = {"elderly", "disabled", "disabled_child",
                                         "family",  "other",    NULL};
static const char *const purposes[] = {
    "home_care", "rehab_aid", "rehab_course", "day_centre", "palliative", "other", NULL};
static const char *const states[] = {"draft",     "submitted",  "returned", "resubmitted",
                                     "verified",  "assessment", "approved", "refused",
                                     "withdrawn", NULL};

static bool one_of(const char *value, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(value, list[i]) == 0)
            return true;
    return false;
}

/* ==== Reading bodies (pure) ==== */

/* A required one-of field: present, a string, in list; else an error naming the list. */
static int get_choice(const cJSON *body, const char *name, const char *const *list,
                      const char *list_text, bool required, char *out, size_t size,
                      struct cf_error_detail *d)
{
    int rc = cf_json_get_string(body, name, "", required, size - 1, out, size, d);
    if (!rc && (out[0] || required) && !one_of(out, list))
        rc = cf_error_set(d, CF_EFIELD_RANGE, name, "%s must be one of %s", name, list_text);
    return rc;
}

/* "YYYY-MM-DD", a real day from 1900 on. */
static bool date_valid(const char *date)
{
    int y, m, dd;
    char extra;
    if (strlen(date) != 10 || sscanf(date, "%4d-%2d-%2d%c", &y, &m, &dd, &extra) != 3 ||
        date[4] != '-' || date[7] != '-' || strspn(date, "0123456789-") != 10)
        return false;
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(y < 1900 || m < 1 || m > 12 || dd < 1 || dd > days[m - 1] ||
             (m == 2 && dd == 29 && !leap));
}

/* A real day, not after today ("YYYY-MM-DD" too). */
static bool birth_date_valid(const char *date, const char *today)
{
    return date_valid(date) && strcmp(date, today) <= 0;
}

int be_application_read(const char *text, size_t len, enum be_application_source source,
                        const char *today, struct be_application_form *f, struct cf_error_detail *d)
{
    static const char *const office_fields[] = {"office_id",
                                                "channel",
                                                "applicant_name",
                                                "applicant_birth_date",
                                                "applicant_phone",
                                                "applicant_address",
                                                "representative_name",
                                                "representative_relation",
                                                "category",
                                                "purpose",
                                                "details",
                                                "complete",
                                                "consent",
                                                NULL};
    /* the public form: no channel (it is "web") and no completeness (the office's mark) */
    static const char *const public_fields[] = {"office_id",
                                                "applicant_name",
                                                "applicant_birth_date",
                                                "applicant_phone",
                                                "applicant_address",
                                                "representative_name",
                                                "representative_relation",
                                                "category",
                                                "purpose",
                                                "details",
                                                "consent",
                                                NULL};
    cJSON *body = NULL;
    memset(f, 0, sizeof *f);
    int rc = cf_json_parse_capped(text ? text : "", len, FORM_MAX_BYTES, FORM_MAX_VALUES, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, source == BE_APP_PUBLIC ? public_fields : office_fields, "",
                                  d);
    uint8_t id[CF_UUID_LEN];
    if (!rc)
        rc = cf_json_get_string(body, "office_id", "", source == BE_APP_PUBLIC,
                                sizeof f->office_id - 1, f->office_id, sizeof f->office_id, d);
    if (!rc && f->office_id[0] && cf_uuid_from_text(f->office_id, id))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "office_id", "office_id must be an office's id");
    if (!rc && source == BE_APP_PUBLIC)
        snprintf(f->channel, sizeof f->channel, "web");
    else if (!rc) {
        rc = get_choice(body, "channel", channels, "office, phone, post", true, f->channel,
                        sizeof f->channel, d);
        if (!rc && (strcmp(f->channel, "web") == 0 || strcmp(f->channel, "terminal") == 0))
            rc = cf_error_set(d, CF_EFIELD_RANGE, "channel",
                              "channel must be one of office, phone, post");
    }
    if (!rc)
        rc = cf_json_get_text(body, "applicant_name", "", true, BE_APP_NAME_MAX,
                              "the applicant's full name", f->applicant_name,
                              sizeof f->applicant_name, d);
    if (!rc)
        rc = cf_json_get_string(body, "applicant_birth_date", "", true, 10, f->applicant_birth_date,
                                sizeof f->applicant_birth_date, d);
    if (!rc && !birth_date_valid(f->applicant_birth_date, today))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "applicant_birth_date",
                          "applicant_birth_date must be a date like 1948-03-15, not in the future");
    if (!rc)
        rc = cf_json_get_string(body, "applicant_phone", "", false, BE_APP_PHONE_MAX,
                                f->applicant_phone, sizeof f->applicant_phone, d);
    if (!rc && strspn(f->applicant_phone, "0123456789 +()-") != strlen(f->applicant_phone))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "applicant_phone",
                          "applicant_phone may hold digits, spaces and + ( ) - only");
    if (!rc)
        rc = cf_json_get_text(body, "applicant_address", "", true, BE_APP_ADDRESS_MAX,
                              "the address where services are needed", f->applicant_address,
                              sizeof f->applicant_address, d);
    if (!rc)
        rc = cf_json_get_text(body, "representative_name", "", false, BE_APP_NAME_MAX,
                              "the representative's full name", f->representative_name,
                              sizeof f->representative_name, d);
    if (!rc)
        rc = cf_json_get_text(body, "representative_relation", "", false, BE_APP_RELATION_MAX,
                              "who the representative is to the applicant",
                              f->representative_relation, sizeof f->representative_relation, d);
    if (!rc)
        rc = get_choice(body, "category", categories,
                        "elderly, disabled, disabled_child, family, other", true, f->category,
                        sizeof f->category, d);
    if (!rc)
        rc = get_choice(body, "purpose", purposes,
                        "home_care, rehab_aid, rehab_course, day_centre, palliative, other", true,
                        f->purpose, sizeof f->purpose, d);
    if (!rc)
        rc = cf_json_get_text(body, "details", "", false, BE_APP_DETAILS_MAX,
                              "what is needed, in the applicant's words", f->details,
                              sizeof f->details, d);
    if (!rc && source == BE_APP_OFFICE) {
        const cJSON *complete = cJSON_GetObjectItemCaseSensitive(body, "complete");
        if (complete && !cJSON_IsBool(complete))
            rc = cf_error_set(d, CF_EFIELD_TYPE, "complete", "complete must be true or false");
        f->complete = cJSON_IsTrue(complete);
    }
    if (!rc && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "consent")))
        rc = cf_error_set(d, CF_EFIELD_MISSING, "consent",
                          "consent must be true: an application is taken only with consent to "
                          "the processing of personal data");
    cJSON_Delete(body);
    return rc;
}

/* ==== The programme of an approval (pure) ==== */

static bool service_code_valid(const char *code)
{
    size_t n = strlen(code);
    return n >= 1 && n <= 32 &&
           strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* An array of 1..max items at path, else an error naming it. */
static int get_array(const cJSON *parent, const char *name, const char *path, int max,
                     const cJSON **out, struct cf_error_detail *d)
{
    char field[96];
    snprintf(field, sizeof field, "%s.%s", path, name);
    *out = cJSON_GetObjectItemCaseSensitive(parent, name);
    if (!*out)
        return cf_error_set(d, CF_EFIELD_MISSING, field, "%s is required", field);
    if (!cJSON_IsArray(*out) || cJSON_GetArraySize(*out) < 1 || cJSON_GetArraySize(*out) > max)
        return cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be a list of 1 to %d items", field,
                            max);
    return 0;
}

/* Does services (the programme's, already read) hold code? */
static bool has_service(const cJSON *services, const char *code, const cJSON *before)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, services)
    {
        if (s == before)
            break;
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(s, "code");
        if (cJSON_IsString(c) && strcmp(c->valuestring, code) == 0)
            return true;
    }
    return false;
}

static int read_programme_services(const cJSON *services, struct cf_error_detail *d)
{
    static const char *const allowed[] = {"code", "volume", "period", NULL};
    static const char *const periods[] = {"month", "year", NULL};
    int i = 0, rc = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, services)
    {
        char path[64], field[96], code[40], period[8];
        int64_t volume;
        snprintf(path, sizeof path, "programme.services[%d]", i++);
        snprintf(field, sizeof field, "%s.code", path);
        rc = cf_json_check_fields(s, allowed, path, d);
        if (!rc)
            rc = cf_json_get_string(s, "code", path, true, 32, code, sizeof code, d);
        if (!rc && !service_code_valid(code))
            rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be a code of the catalogue",
                              field);
        if (!rc && has_service(services, code, s))
            rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s names a service twice", field);
        if (!rc)
            rc = cf_json_get_int(s, "volume", path, true, 1, 10000, &volume, d);
        if (!rc) {
            char *dot = strrchr(field, '.');
            snprintf(dot, sizeof field - (size_t)(dot - field), ".period");
            rc = cf_json_get_string(s, "period", path, true, sizeof period - 1, period,
                                    sizeof period, d);
            if (!rc && !one_of(period, periods))
                rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be month or year", field);
        }
        if (rc)
            break;
    }
    return rc;
}

/* "HH:MM", 00:00 to 23:59. */
static bool time_valid(const char *t)
{
    return strlen(t) == 5 && strspn(t, "0123456789") == 2 && t[2] == ':' &&
           strspn(t + 3, "0123456789") == 2 && (t[0] - '0') * 10 + (t[1] - '0') < 24 && t[3] < '6';
}

static int read_programme_rule(const cJSON *rule, const char *path, const cJSON *services,
                               struct cf_error_detail *d)
{
    static const char *const allowed[] = {"worker_id", "weekdays", "time", "services", NULL};
    uint8_t worker[CF_UUID_LEN];
    char field[96], time_text[8];
    const cJSON *days = NULL, *codes = NULL, *item;
    int rc = cf_json_check_fields(rule, allowed, path, d);
    if (!rc)
        rc = cf_json_get_uuid(rule, "worker_id", path, true, worker, d);
    if (!rc)
        rc = get_array(rule, "weekdays", path, 7, &days, d);
    unsigned seen = 0;
    int j = 0;
    cJSON_ArrayForEach(item, days)
    {
        if (rc)
            break;
        snprintf(field, sizeof field, "%s.weekdays[%d]", path, j++);
        double value = cJSON_IsNumber(item) ? item->valuedouble : 0;
        int day = value >= 1 && value <= 7 ? (int)value : 0;
        if (day == 0 || value != day || (seen & (1u << day)))
            rc = cf_error_set(d, CF_EFIELD_RANGE, field,
                              "%s must be a weekday 1 (Monday) to 7 (Sunday), each once", field);
        seen |= 1u << (day & 7);
    }
    if (!rc)
        rc = cf_json_get_string(rule, "time", path, true, 5, time_text, sizeof time_text, d);
    snprintf(field, sizeof field, "%s.time", path);
    if (!rc && !time_valid(time_text))
        rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be a local time like 09:30", field);
    if (!rc)
        rc = get_array(rule, "services", path, BE_PROGRAMME_SERVICES_MAX, &codes, d);
    j = 0;
    cJSON_ArrayForEach(item, codes)
    {
        if (rc)
            break;
        snprintf(field, sizeof field, "%s.services[%d]", path, j++);
        if (!cJSON_IsString(item) || !has_service(services, item->valuestring, NULL))
            rc = cf_error_set(d, CF_EFIELD_RANGE, field,
                              "%s must be one of the programme's services", field);
    }
    return rc;
}

/* The programme of an approval (see be/applications.h): 0 or an error naming a field. */
static int read_programme(const cJSON *programme, struct cf_error_detail *d)
{
    static const char *const allowed[] = {"provider_id", "valid_from", "valid_to",
                                          "services",    "rules",      NULL};
    uint8_t provider[CF_UUID_LEN];
    char from[12], to[12];
    const cJSON *services = NULL, *rules = NULL, *rule;
    int rc = cf_json_check_fields(programme, allowed, "programme", d);
    if (!rc)
        rc = cf_json_get_uuid(programme, "provider_id", "programme", true, provider, d);
    if (!rc)
        rc = cf_json_get_string(programme, "valid_from", "programme", true, 10, from, sizeof from,
                                d);
    if (!rc && !date_valid(from))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "programme.valid_from",
                          "programme.valid_from must be a date like 2026-12-01");
    if (!rc)
        rc = cf_json_get_string(programme, "valid_to", "programme", true, 10, to, sizeof to, d);
    if (!rc && !date_valid(to))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "programme.valid_to",
                          "programme.valid_to must be a date like 2027-11-30");
    if (!rc && strcmp(to, from) < 0)
        rc = cf_error_set(d, CF_EFIELD_RANGE, "programme.valid_to",
                          "programme.valid_to must not be before programme.valid_from");
    if (!rc)
        rc = get_array(programme, "services", "programme", BE_PROGRAMME_SERVICES_MAX, &services, d);
    if (!rc)
        rc = read_programme_services(services, d);
    if (!rc)
        rc = get_array(programme, "rules", "programme", BE_PROGRAMME_RULES_MAX, &rules, d);
    int i = 0;
    cJSON_ArrayForEach(rule, rules)
    {
        if (rc)
            break;
        char path[48];
        snprintf(path, sizeof path, "programme.rules[%d]", i++);
        rc = read_programme_rule(rule, path, services, d);
    }
    return rc;
}

void be_application_move_cleanup(struct be_application_move *m)
{
    if (m) {
        free(m->programme);
        m->programme = NULL;
    }
}

int be_application_move_read(const char *text, size_t len, struct be_application_move *m,
                             struct cf_error_detail *d)
{
    static const char *const allowed[] = {"to", "reason", "programme", NULL};
    cJSON *body = NULL;
    memset(m, 0, sizeof *m);
    int rc = cf_json_parse_capped(text ? text : "", len, FORM_MAX_BYTES, MOVE_MAX_VALUES, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, allowed, "", d);
    if (!rc)
        rc = get_choice(body, "to", states,
                        "submitted, returned, resubmitted, verified, assessment, approved, "
                        "refused, withdrawn",
                        true, m->to, sizeof m->to, d);
    if (!rc && strcmp(m->to, "draft") == 0)
        rc = cf_error_set(d, CF_EFIELD_RANGE, "to", "an application never goes back to draft");
    if (!rc)
        rc = cf_json_get_text(body, "reason", "", false, BE_APP_REASON_MAX,
                              "why (the applicant reads it)", m->reason, sizeof m->reason, d);
    const cJSON *programme = rc ? NULL : cJSON_GetObjectItemCaseSensitive(body, "programme");
    bool approval = !rc && strcmp(m->to, "approved") == 0;
    if (approval && !programme)
        rc = cf_error_set(d, CF_EFIELD_MISSING, "programme",
                          "programme is required: an approval decides the provider, the "
                          "services, the term and the plan rules");
    else if (!rc && programme && !approval)
        rc = cf_error_set(d, CF_EFIELD_RANGE, "programme",
                          "programme goes only with an approval (to: approved)");
    else if (approval)
        rc = read_programme(programme, d);
    if (!rc && approval) {
        m->programme = cJSON_PrintUnformatted(programme);
        if (!m->programme)
            rc = cf_error_set(d, CF_ENOMEM, "", "out of memory");
    }
    cJSON_Delete(body);
    return rc;
}

static bool lookup_number_valid(const char *number)
{
    return strlen(number) >= 11 && number[4] == '-' && strspn(number, "0123456789") == 4 &&
           strspn(number + 5, "0123456789") == strlen(number + 5);
}

/* A terminal's receipt (api/PROTOCOL.md 4.6): 8 hex digits of the device id, '-', the
 * filing event's seq (1..15 digits, no leading zero). Written in upper case in place, as
 * the database keeps it; false when number is not one. */
static bool lookup_receipt(char *number)
{
    size_t seq_len = strlen(number) > 9 ? strlen(number) - 9 : 0;
    if (seq_len < 1 || seq_len > 15 || number[8] != '-' ||
        strspn(number, "0123456789abcdefABCDEF") != 8 ||
        strspn(number + 9, "0123456789") != seq_len || number[9] == '0')
        return false;
    for (char *c = number; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    return true;
}

int be_application_lookup_read(const char *text, size_t len, struct be_application_lookup *l,
                               struct cf_error_detail *d)
{
    static const char *const allowed[] = {"number", "code", NULL};
    cJSON *body = NULL;
    memset(l, 0, sizeof *l);
    int rc = cf_json_parse_capped(text ? text : "", len, FORM_MAX_BYTES, 8, &body, d);
    if (!rc)
        rc = cf_json_check_fields(body, allowed, "", d);
    if (!rc)
        rc = cf_json_get_string(body, "number", "", true, sizeof l->number - 1, l->number,
                                sizeof l->number, d);
    if (!rc && !lookup_number_valid(l->number) && !lookup_receipt(l->number))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "number",
                          "number must be the application's number, like 2026-000123, or the "
                          "receipt a terminal printed, like 01939F2A-4");
    if (!rc)
        rc = cf_json_get_string(body, "code", "", true, BE_APP_CODE_DIGITS, l->code, sizeof l->code,
                                d);
    if (!rc && (strlen(l->code) != BE_APP_CODE_DIGITS ||
                strspn(l->code, "0123456789") != BE_APP_CODE_DIGITS))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "code",
                          "code must be the %d digits given when the application was filed",
                          BE_APP_CODE_DIGITS);
    cJSON_Delete(body);
    return rc;
}

/* ==== Throttling the public routes ==== */

/* Per client address (the TCP peer, as the login throttle: X-Forwarded-For is never
 * believed), by the login throttle's rows (sql/0020 public_attempt). */
#define PUBLIC_FILE_AFTER 10 /* filings from one address before each further one waits */
#define PUBLIC_FILE_FORGET_S 3600
#define PUBLIC_STATUS_AFTER 20 /* status lookups (a wrong code included) */
#define PUBLIC_STATUS_FORGET_S 900

/* ==== Codes ==== */

/* A fresh secret code of BE_APP_CODE_DIGITS decimal digits (unbiased). 0 or -1. */
static int new_code(char code[BE_APP_CODE_DIGITS + 1])
{
    size_t n = 0;
    while (n < BE_APP_CODE_DIGITS) {
        unsigned char bytes[16];
        if (RAND_bytes(bytes, sizeof bytes) != 1)
            return -1;
        for (size_t i = 0; i < sizeof bytes && n < BE_APP_CODE_DIGITS; i++)
            if (bytes[i] < 250) /* 250 = 25 x 10: no digit more likely than another */
                code[n++] = (char)('0' + bytes[i] % 10);
        OPENSSL_cleanse(bytes, sizeof bytes);
    }
    code[n] = '\0';
    return 0;
}

static void code_hash_hex(const char *code, char hex[2 * SHA256_DIGEST_LENGTH + 1])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)code, strlen(code), digest);
    for (size_t i = 0; i < sizeof digest; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

/* Today's date (UTC) as YYYY-MM-DD: the bound of a birth date. */
static void today_text(char out[11])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* ==== Filing ==== */

struct filing {
    struct be_application_form form;
    const char *actor, *role;
    char code[BE_APP_CODE_DIGITS + 1];
    char id[CF_UUID_TEXT_LEN + 1], number[24];
    bool submit; /* the public form is submitted at once */
    bool no_office;
};

static int filing_tx(struct be_request *req, void *ctx)
{
    struct filing *x = ctx;
    char hash[2 * SHA256_DIGEST_LENGTH + 1];
    code_hash_hex(x->code, hash);
    const struct be_application_form *f = &x->form;
    const char *params[15] = {f->office_id,
                              f->channel,
                              f->applicant_name,
                              f->applicant_birth_date,
                              f->applicant_phone,
                              f->applicant_address,
                              f->representative_name,
                              f->representative_relation,
                              f->category,
                              f->purpose,
                              f->details,
                              f->complete ? "t" : "f",
                              hash,
                              x->actor,
                              x->role};
    PGresult *res = PQexecParams(req->db, sql_application_insert, 15, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK)) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        x->no_office = true;
        return BE_TX_ROLLBACK;
    }
    snprintf(x->id, sizeof x->id, "%s", PQgetvalue(res, 0, 0));
    snprintf(x->number, sizeof x->number, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    const char *first[3] = {x->id, x->actor, x->role};
    res = PQexecParams(req->db, sql_application_journal_first, 3, NULL, first, NULL, NULL, 0);
    bool journalled = be_db_check(req, res, PGRES_COMMAND_OK);
    PQclear(res);
    if (!journalled)
        return BE_TX_FAILED;
    if (x->submit) {
        const char *move[6] = {x->id, "submitted", x->actor, x->role, f->office_id, ""};
        res = PQexecParams(req->db, sql_application_move, 6, NULL, move, NULL, NULL, 0);
        bool moved =
            be_db_check(req, res, PGRES_TUPLES_OK) && strcmp(PQgetvalue(res, 0, 0), "moved") == 0;
        PQclear(res);
        if (!moved)
            return BE_TX_FAILED;
    }
    return be_audit(req, "application.file", x->id, "", NULL) ? BE_TX_FAILED : BE_TX_COMMIT;
}

/* The application as GET /api/v1/applications/{id} gives it, plus the code (shown this
 * once), status 201. */
static void reply_filed(struct be_request *req, struct filing *x)
{
    const char *params[2] = {x->id, x->role};
    PGresult *res = PQexecParams(req->db, sql_application_get, 2, NULL, params, NULL, NULL, 0);
    cJSON *body = NULL;
    if (be_db_check(req, res, PGRES_TUPLES_OK) && PQntuples(res) == 1)
        body = cJSON_Parse(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!body) {
        be_reply_db_error(req, req->db, "application filed");
        return;
    }
    cJSON_AddStringToObject(body, "code", x->code);
    be_reply_json(req, 201, body);
}

static void file_application(struct be_request *req, struct filing *x)
{
    if (new_code(x->code)) {
        be_reply_server_fault(req, "application: random code");
        return;
    }
    int rc = be_db_transaction(req, NULL, "application filing", filing_tx, x);
    if (rc == BE_TX_COMMIT)
        reply_filed(req, x);
    else if (rc == BE_TX_ROLLBACK)
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "There is no such office (a front office files in its own).", "office_id",
                         NULL);
    OPENSSL_cleanse(x->code, sizeof x->code);
}

/* POST /api/v1/public/applications: the citizen's form, submitted at once. */
static void handle_public_file(struct be_request *req)
{
    struct filing x;
    struct cf_error_detail d = {0};
    char today[11];
    memset(&x, 0, sizeof x);
    if (be_public_throttled(req, "file", PUBLIC_FILE_AFTER, PUBLIC_FILE_FORGET_S))
        return;
    today_text(today);
    if (be_application_read(req->body, req->body_len, BE_APP_PUBLIC, today, &x.form, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    x.actor = x.role = "applicant";
    x.submit = true;
    file_application(req, &x);
}

/* POST /api/v1/applications: the front office takes an application in (a draft in its
 * own office; an administrator names the office). */
static void handle_office_file(struct be_request *req)
{
    struct filing x;
    struct cf_error_detail d = {0};
    char today[11];
    memset(&x, 0, sizeof x);
    today_text(today);
    if (be_application_read(req->body, req->body_len, BE_APP_OFFICE, today, &x.form, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    if (req->who.office[0]) {
        if (x.form.office_id[0] && strcmp(x.form.office_id, req->who.office) != 0) {
            be_reply_problem(req, 403, "forbidden", "Not your office",
                             "You may take applications in only in your own office.", "office_id",
                             NULL);
            return;
        }
        snprintf(x.form.office_id, sizeof x.form.office_id, "%s", req->who.office);
    } else if (!x.form.office_id[0]) {
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "office_id is required: name the office that takes the application in.",
                         "office_id", NULL);
        return;
    }
    x.actor = req->who.login;
    x.role = be_role_name(req->who.role);
    file_application(req, &x);
}

/* ==== Reading ==== */

static bool read_id(struct be_request *req, char out[CF_UUID_TEXT_LEN + 1])
{
    uint8_t id[CF_UUID_LEN];
    if (cf_uuid_from_text(be_param(req, "id"), id)) {
        be_reply_problem(req, 404, "not-found", "No such application",
                         "No application you may see has this id.", NULL, NULL);
        return false;
    }
    cf_uuid_to_text(id, out);
    return true;
}

/* The application and its journal as JSON text into *res (PQclear it): 0, 1 when not
 * visible, -1 on a database error. */
static int load(struct be_request *req, const char *id, PGresult **res)
{
    const char *params[2] = {id, be_role_name(req->who.role)};
    *res = PQexecParams(req->db, sql_application_get, 2, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, *res, PGRES_TUPLES_OK))
        return -1;
    return PQntuples(*res) == 1 ? 0 : 1;
}

static void reply_loaded(struct be_request *req, const char *id, int status)
{
    PGresult *res = NULL;
    int rc = load(req, id, &res);
    if (rc < 0)
        be_reply_db_error(req, req->db, "application");
    else if (rc > 0)
        be_reply_problem(req, 404, "not-found", "No such application",
                         "No application you may see has this id.", NULL, NULL);
    else
        be_reply_json(req, status, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}

static void handle_get(struct be_request *req)
{
    char id[CF_UUID_TEXT_LEN + 1];
    if (read_id(req, id))
        reply_loaded(req, id, 200);
}

/* GET /api/v1/applications/{id}/acts: what terminals recorded about it (sql/0032). */
static void handle_acts(struct be_request *req)
{
    char id[CF_UUID_TEXT_LEN + 1];
    if (!read_id(req, id))
        return;
    const char *params[1] = {id};
    PGresult *res = PQexecParams(req->db, sql_application_acts, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1)
        be_reply_db_error(req, req->db, "application acts");
    else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
        be_reply_problem(req, 404, "not-found", "No such application",
                         "No application you may see has this id.", NULL, NULL);
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 1)));
    PQclear(res);
}

struct list_filter {
    char state[16], purpose[24], complete[8], office[40], overdue[8], number[24];
    char cursor[80], cursor_us[BE_CURSOR_US_SIZE], cursor_id[CF_UUID_TEXT_LEN + 1], limit[8];
};

static int read_list_filter(const char *query, struct list_filter *f, struct cf_error_detail *d)
{
    struct be_query_param params[] = {
        {"state", f->state, sizeof f->state},          {"purpose", f->purpose, sizeof f->purpose},
        {"complete", f->complete, sizeof f->complete}, {"office", f->office, sizeof f->office},
        {"overdue", f->overdue, sizeof f->overdue},    {"number", f->number, sizeof f->number},
        {"cursor", f->cursor, sizeof f->cursor},       {"limit", f->limit, sizeof f->limit},
    };
    memset(f, 0, sizeof *f);
    int rc = be_query_parse(query, params, sizeof params / sizeof params[0], d);
    uint8_t id[CF_UUID_LEN];
    if (!rc && f->state[0] && !one_of(f->state, states))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "state",
                          "state must be one of draft, submitted, returned, resubmitted, "
                          "verified, assessment, approved, refused, withdrawn");
    if (!rc && f->purpose[0] && !one_of(f->purpose, purposes))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "purpose",
                          "purpose must be one of home_care, rehab_aid, rehab_course, "
                          "day_centre, palliative, other");
    if (!rc && f->complete[0] && strcmp(f->complete, "true") && strcmp(f->complete, "false"))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "complete", "complete must be true or false");
    if (!rc && f->overdue[0] && strcmp(f->overdue, "true"))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "overdue", "overdue must be true (or left out)");
    if (!rc && f->office[0] && cf_uuid_from_text(f->office, id))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "office", "office must be an office's id");
    if (!rc && strspn(f->number, "0123456789-") != strlen(f->number))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "number",
                          "number must be the start of an application's number, like 2026-00");
    if (!rc && f->cursor[0] && !be_cursor_split(f->cursor, f->cursor_us, f->cursor_id))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "cursor",
                          "cursor must be the next_cursor of the previous page, unchanged");
    if (!rc && f->limit[0]) {
        char *end = NULL;
        long limit = strtol(f->limit, &end, 10);
        if (*end || end == f->limit || limit < 1 || limit > 500)
            rc = cf_error_set(d, CF_EFIELD_RANGE, "limit", "limit must be 1 to 500");
    }
    return rc;
}

/* GET /api/v1/applications: the journal's search (row-level security narrows it). */
static void handle_list(struct be_request *req)
{
    struct list_filter f;
    struct cf_error_detail d = {0};
    if (read_list_filter(req->query, &f, &d)) {
        be_reply_query_invalid(req, &d);
        return;
    }
    const char *params[9] = {f.state,
                             f.purpose,
                             f.complete[0] ? (strcmp(f.complete, "true") == 0 ? "t" : "f") : "",
                             f.office,
                             f.overdue[0] ? "t" : "",
                             f.number,
                             f.cursor_us,
                             f.cursor_id,
                             f.limit[0] ? f.limit : "50"};
    PGresult *res = PQexecParams(req->db, sql_application_list, 9, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1)
        be_reply_db_error(req, req->db, "application list");
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}

/* ==== Changing state ==== */

struct moving {
    char id[CF_UUID_TEXT_LEN + 1];
    struct be_application_move body;
    char outcome[16], from[16], field[96], programme[CF_UUID_TEXT_LEN + 1];
};

/* The move, or with a programme the approval (application_approve: the move, then the
 * recipient, certificate, programme, rules and plans), its outcome into x. */
static int move_tx(struct be_request *req, void *ctx)
{
    struct moving *x = ctx;
    const char *params[6] = {x->id,           x->body.programme ? x->body.programme : x->body.to,
                             req->who.login,  be_role_name(req->who.role),
                             req->who.office, x->body.reason};
    PGresult *res =
        PQexecParams(req->db, x->body.programme ? sql_application_approve : sql_application_move,
                     x->body.programme ? 5 : 6, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    snprintf(x->from, sizeof x->from, "%s", PQgetvalue(res, 0, 1));
    if (x->body.programme) {
        snprintf(x->field, sizeof x->field, "%s", PQgetvalue(res, 0, 2));
        snprintf(x->programme, sizeof x->programme, "%s", PQgetvalue(res, 0, 3));
    }
    PQclear(res);
    if (strcmp(x->outcome, "moved") != 0)
        return BE_TX_ROLLBACK;
    char action[48], details[80] = "";
    snprintf(action, sizeof action, "application.%s", x->body.to);
    if (x->programme[0])
        snprintf(details, sizeof details, "{\"programme\":\"%s\"}", x->programme);
    return be_audit(req, action, x->id, x->body.reason, details[0] ? details : NULL) ? BE_TX_FAILED
                                                                                     : BE_TX_COMMIT;
}

static void reply_not_moved(struct be_request *req, const struct moving *x)
{
    char detail[320];
    if (strcmp(x->outcome, "not_found") == 0) {
        be_reply_problem(req, 404, "not-found", "No such application",
                         "No application you may see has this id.", NULL, NULL);
    } else if (strcmp(x->outcome, "role") == 0) {
        snprintf(detail, sizeof detail, "Your role may not move an application from %s to %s.",
                 x->from, x->body.to);
        be_reply_problem(req, 403, "forbidden", "Not allowed for your role", detail, "to", NULL);
    } else if (strcmp(x->outcome, "invalid") == 0) {
        snprintf(detail, sizeof detail,
                 "%s: no such choice (a provider of the application's region, a service of the "
                 "catalogue, an active worker of that provider).",
                 x->field);
        be_reply_problem(req, 422, "validation", "A field is not valid", detail, x->field, NULL);
    } else if (strcmp(x->outcome, "reason") == 0) {
        snprintf(detail, sizeof detail,
                 "Moving an application to %s needs a reason: the applicant reads it.", x->body.to);
        be_reply_problem(req, 422, "validation", "A field is not valid", detail, "reason", NULL);
    } else {
        snprintf(detail, sizeof detail, "An application in state %s cannot move to %s.", x->from,
                 x->body.to);
        be_reply_problem(req, 409, "illegal-transition", "Not a legal transition", detail, "to",
                         NULL);
    }
}

/* POST /api/v1/applications/{id}/transitions: {"to", "reason"}. */
static void handle_move(struct be_request *req)
{
    struct moving x;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (!read_id(req, x.id))
        return;
    if (be_application_move_read(req->body, req->body_len, &x.body, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    int rc = be_db_transaction(req, NULL, "application transition", move_tx, &x);
    be_application_move_cleanup(&x.body);
    if (rc == BE_TX_COMMIT)
        reply_loaded(req, x.id, 200);
    else if (rc == BE_TX_ROLLBACK)
        reply_not_moved(req, &x);
}

/* ==== Public ==== */

/* POST /api/v1/public/applications/status: {"number", "code"} → where it stands. A
 * wrong number and a wrong code get the same 404, so the page tells nobody which
 * numbers exist. */
static void handle_status(struct be_request *req)
{
    struct be_application_lookup l;
    struct cf_error_detail d = {0};
    if (be_public_throttled(req, "status", PUBLIC_STATUS_AFTER, PUBLIC_STATUS_FORGET_S))
        return;
    if (be_application_lookup_read(req->body, req->body_len, &l, &d)) {
        be_reply_invalid(req, &d);
        return;
    }
    char hash[2 * SHA256_DIGEST_LENGTH + 1];
    code_hash_hex(l.code, hash);
    OPENSSL_cleanse(l.code, sizeof l.code);
    const char *params[2] = {l.number, hash};
    PGresult *res = PQexecParams(req->db, sql_application_status, 2, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK))
        be_reply_db_error(req, req->db, "application status");
    else if (PQntuples(res) != 1)
        be_reply_problem(req, 404, "not-found", "No such application",
                         "No application has this number and code; check both.", NULL, NULL);
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 0)));
    PQclear(res);
}

/* GET /api/v1/offices: where applications are taken in and decided. */
static void handle_offices(struct be_request *req)
{
    PGresult *res = PQexec(req->db, sql_office_list);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1)
        be_reply_db_error(req, req->db, "office list");
    else {
        cJSON *body = cJSON_CreateObject();
        cJSON *items = cJSON_Parse(PQgetvalue(res, 0, 0));
        if (body && items)
            cJSON_AddItemToObject(body, "items", items);
        else
            cJSON_Delete(items);
        be_reply_json(req, 200, body);
    }
    PQclear(res);
}

/* ==== Programmes: what an approval decided, for the provider ==== */

/* The programmes in scope as a JSON array (text) into *out (caller frees): 0 or -1. */
static int programme_items(struct be_request *req, const char *accepted, const char *limit,
                           const char *id, char **out)
{
    const char *params[3] = {accepted, limit, id};
    PGresult *res = PQexecParams(req->db, sql_programme_list, 3, NULL, params, NULL, NULL, 0);
    *out = NULL;
    if (be_db_check(req, res, PGRES_TUPLES_OK) && PQntuples(res) == 1)
        *out = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return *out ? 0 : -1;
}

/* GET /api/v1/programmes?accepted=true|false&limit=: the provider's manager sees their
 * provider's (row-level security), oversight every one. */
static void handle_programme_list(struct be_request *req)
{
    char accepted[8] = "", limit[8] = "";
    struct be_query_param params[] = {{"accepted", accepted, sizeof accepted},
                                      {"limit", limit, sizeof limit}};
    struct cf_error_detail d = {0};
    int rc = be_query_parse(req->query, params, 2, &d);
    if (!rc && accepted[0] && strcmp(accepted, "true") && strcmp(accepted, "false"))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "accepted", "accepted must be true or false");
    if (!rc && limit[0]) {
        char *end = NULL;
        long n = strtol(limit, &end, 10);
        if (*end || end == limit || n < 1 || n > 500)
            rc = cf_error_set(&d, CF_EFIELD_RANGE, "limit", "limit must be 1 to 500");
    }
    if (rc) {
        be_reply_query_invalid(req, &d);
        return;
    }
    char *items = NULL;
    if (programme_items(req, accepted[0] ? (accepted[0] == 't' ? "t" : "f") : "",
                        limit[0] ? limit : "100", "", &items)) {
        be_reply_db_error(req, req->db, "programme list");
        return;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON *list = cJSON_Parse(items);
    free(items);
    if (body && list)
        cJSON_AddItemToObject(body, "items", list);
    else
        cJSON_Delete(list);
    be_reply_json(req, 200, body);
}

struct acceptance {
    char id[CF_UUID_TEXT_LEN + 1];
    char accepted_by[BE_APP_NAME_MAX + 1]; /* who had, when refused; "" when not visible */
};

static int accept_tx(struct be_request *req, void *ctx)
{
    struct acceptance *x = ctx;
    const char *params[2] = {x->id, req->who.login};
    PGresult *res = PQexecParams(req->db, sql_programme_accept, 2, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK)) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    bool accepted = PQntuples(res) == 1;
    PQclear(res);
    if (accepted)
        return be_audit(req, "programme.accept", x->id, "", NULL) ? BE_TX_FAILED : BE_TX_COMMIT;
    res = PQexecParams(req->db, sql_programme_accepted, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK)) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    if (PQntuples(res) == 1)
        snprintf(x->accepted_by, sizeof x->accepted_by, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return BE_TX_ROLLBACK;
}

/* POST /api/v1/programmes/{id}/accept (no body, or {}): the provider takes the
 * programme on; once. */
static void handle_programme_accept(struct be_request *req)
{
    static const char *const allowed[] = {NULL};
    struct acceptance x;
    struct cf_error_detail d = {0};
    uint8_t id[CF_UUID_LEN];
    memset(&x, 0, sizeof x);
    if (cf_uuid_from_text(be_param(req, "id"), id)) {
        be_reply_problem(req, 404, "not-found", "No such programme",
                         "No programme you may see has this id.", NULL, NULL);
        return;
    }
    cf_uuid_to_text(id, x.id);
    if (req->body_len > 0) {
        cJSON *body = NULL;
        int rc = cf_json_parse_capped(req->body, req->body_len, FORM_MAX_BYTES, 8, &body, &d);
        if (!rc)
            rc = cf_json_check_fields(body, allowed, "", &d);
        cJSON_Delete(body);
        if (rc) {
            be_reply_invalid(req, &d);
            return;
        }
    }
    int rc = be_db_transaction(req, NULL, "programme acceptance", accept_tx, &x);
    if (rc == BE_TX_ROLLBACK && !x.accepted_by[0]) {
        be_reply_problem(req, 404, "not-found", "No such programme",
                         "No programme you may see has this id.", NULL, NULL);
    } else if (rc == BE_TX_ROLLBACK) {
        char detail[300];
        snprintf(detail, sizeof detail, "The programme was accepted already, by %s.",
                 x.accepted_by);
        be_reply_problem(req, 409, "programme-accepted", "Accepted already", detail, NULL, NULL);
    } else if (rc == BE_TX_COMMIT) {
        char *items = NULL;
        if (programme_items(req, "", "1", x.id, &items)) {
            be_reply_db_error(req, req->db, "programme");
            return;
        }
        cJSON *list = cJSON_Parse(items);
        free(items);
        be_reply_json(req, 200, cJSON_DetachItemFromArray(list, 0));
        cJSON_Delete(list);
    }
}

struct choices {
    char id[CF_UUID_TEXT_LEN + 1];
    char *json; /* the answer (heap) */
};

/* Every provider for this transaction only (the caseworker sees none otherwise), then
 * those of the application's region. */
static int choices_tx(struct be_request *req, void *ctx)
{
    struct choices *x = ctx;
    PGresult *res = PQexec(req->db, "SELECT set_config('carefact.provider', '*', true)");
    bool scoped = be_db_check(req, res, PGRES_TUPLES_OK);
    PQclear(res);
    if (!scoped)
        return BE_TX_FAILED;
    const char *params[1] = {x->id};
    res = PQexecParams(req->db, sql_programme_choices, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK)) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    if (PQntuples(res) == 1)
        x->json = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return x->json ? BE_TX_COMMIT : BE_TX_ROLLBACK;
}

/* GET /api/v1/applications/{id}/programme-choices: the providers of the application's
 * region with their active workers, and the catalogue — what an approval's programme
 * may name. */
static void handle_programme_choices(struct be_request *req)
{
    struct choices x = {.json = NULL};
    if (!read_id(req, x.id))
        return;
    int rc = be_db_transaction(req, "BEGIN READ ONLY", "programme choices", choices_tx, &x);
    if (rc == BE_TX_COMMIT)
        be_reply_json(req, 200, cJSON_Parse(x.json));
    else if (rc == BE_TX_ROLLBACK)
        be_reply_problem(req, 404, "not-found", "No such application",
                         "No application you may see has this id.", NULL, NULL);
    free(x.json);
}

int be_plans_generate(const char *conninfo, long *added, char *error, size_t error_size)
{
    int rc = -1;
    *added = 0;
    PGconn *db = PQconnectdb(conninfo);
    if (PQstatus(db) != CONNECTION_OK) {
        snprintf(error, error_size, "cannot connect to the database: %s", PQerrorMessage(db));
        PQfinish(db);
        return -1;
    }
    PGresult *res = PQexec(db, sql_plans_generate_all);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        snprintf(error, error_size, "database error: %s", PQerrorMessage(db));
    } else {
        *added = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        rc = 0;
    }
    PQclear(res);
    PQfinish(db);
    return rc;
}

#define STAFF_READ (BE_STAFF | BE_OVERSIGHT)

static const struct be_route routes[] = {
    {"GET", "/api/v1/offices", handle_offices, true, BE_PUBLIC, BE_BODY_NONE},
    {"POST", "/api/v1/public/applications", handle_public_file, true, BE_PUBLIC, FORM_MAX_BYTES},
    {"POST", "/api/v1/public/applications/status", handle_status, true, BE_PUBLIC, BE_BODY_SMALL},
    {"POST", "/api/v1/applications", handle_office_file, true,
     BE_INTAKE | BE_INTAKE_LEAD | BE_ADMIN, FORM_MAX_BYTES},
    {"GET", "/api/v1/applications", handle_list, true, STAFF_READ, BE_BODY_NONE},
    /* before {id}: the first pattern that matches serves (funnel.c) */
    {"GET", "/api/v1/applications/funnel", be_applications_handle_funnel, true, STAFF_READ,
     BE_BODY_NONE},
    {"GET", "/api/v1/applications/{id}", handle_get, true, STAFF_READ, BE_BODY_NONE},
    {"GET", "/api/v1/applications/{id}/acts", handle_acts, true, STAFF_READ, BE_BODY_NONE},
    {"POST", "/api/v1/applications/{id}/transitions", handle_move, true, BE_STAFF | BE_ADMIN,
     BE_BODY_FORM},
    {"GET", "/api/v1/applications/{id}/programme-choices", handle_programme_choices, true,
     BE_CASEWORKER | BE_ADMIN, BE_BODY_NONE},
    /* the provider's manager reads and accepts the programme an approval made */
    {"GET", "/api/v1/programmes", handle_programme_list, true, BE_MANAGER | BE_OVERSIGHT,
     BE_BODY_NONE},
    {"POST", "/api/v1/programmes/{id}/accept", handle_programme_accept, true, BE_MANAGER | BE_ADMIN,
     BE_BODY_SMALL},
};
const struct be_module be_applications_module = BE_MODULE("applications", routes);
