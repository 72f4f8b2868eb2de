/* The body of an act event (see cf/act.h): its canonical text and its rules per kind.
 * The canonical text is what version 3 of the event encoding hashes, so the writer here
 * is the definition: members sorted by name, no whitespace, only ", \ and newline
 * escaped. A decoder canonicalises what it receives; cf_act_body_parse accepts only text
 * that is canonical already (what the store and the database hold). */
#include "cf/act.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf/event.h"
#include "cf/text.h"

/* ==== Canonical text ==== */

struct out {
    char *buf;
    size_t size, pos;
    bool over;
};

static void put(struct out *o, const char *s, size_t len)
{
    if (o->over || o->size - o->pos <= len) { /* keep a byte for the NUL */
        o->over = true;
        return;
    }
    memcpy(o->buf + o->pos, s, len);
    o->pos += len;
    o->buf[o->pos] = '\0';
}

static void put_string(struct out *o, const char *s)
{
    put(o, "\"", 1);
    for (const char *c = s; *c; c++) {
        if (*c == '"')
            put(o, "\\\"", 2);
        else if (*c == '\\')
            put(o, "\\\\", 2);
        else if (*c == '\n')
            put(o, "\\n", 2);
        else
            put(o, c, 1);
    }
    put(o, "\"", 1);
}

static bool name_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len < 1 || len > CF_ACT_NAME_MAX)
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return false;
    return true;
}

static int by_name(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

static int check_value(const cJSON *v, const char *field, struct cf_error_detail *d)
{
    if (cJSON_IsBool(v))
        return 0;
    if (cJSON_IsString(v)) {
        if (cf_text_chars(v->valuestring) < 0)
            return cf_error_set(d, CF_EFIELD_RANGE, field,
                                "%s must be UTF-8 text without control characters", field);
        return 0;
    }
    if (!cJSON_IsArray(v))
        return cf_error_set(d, CF_EFIELD_TYPE, field,
                            "%s must be a string, true, false or an array of strings", field);
    int n = 0;
    for (const cJSON *item = v->child; item; item = item->next, n++) {
        if (n >= CF_ACT_ARRAY_MAX)
            return cf_error_set(d, CF_EFIELD_RANGE, field, "%s holds at most %d strings", field,
                                CF_ACT_ARRAY_MAX);
        if (!cJSON_IsString(item))
            return cf_error_set(d, CF_EFIELD_TYPE, field, "%s must hold strings only", field);
        if (cf_text_chars(item->valuestring) < 0)
            return cf_error_set(d, CF_EFIELD_RANGE, field,
                                "%s must hold UTF-8 text without control characters", field);
    }
    return 0;
}

static void put_value(struct out *o, const cJSON *v)
{
    if (cJSON_IsTrue(v))
        put(o, "true", 4);
    else if (cJSON_IsFalse(v))
        put(o, "false", 5);
    else if (cJSON_IsString(v))
        put_string(o, v->valuestring);
    else {
        put(o, "[", 1);
        for (const cJSON *item = v->child; item; item = item->next) {
            put_string(o, item->valuestring);
            if (item->next)
                put(o, ",", 1);
        }
        put(o, "]", 1);
    }
}

int cf_act_body_canonical(const cJSON *obj, const char *path, char *out, size_t out_size,
                          struct cf_error_detail *d)
{
    char field[96];
    const char *p = path ? path : "body";
    if (!cJSON_IsObject(obj))
        return cf_error_set(d, CF_EFIELD_TYPE, p, "%s must be an object", p);
    size_t n = 0;
    for (const cJSON *m = obj->child; m; m = m->next)
        n++;
    if (n > CF_ACT_BODY_MAX / 4) /* "a":"" is 6 bytes: more members cannot fit */
        return cf_error_set(d, CF_ETOOBIG, p, "%s is over %d bytes", p, CF_ACT_BODY_MAX);
    const cJSON **members = calloc(n ? n : 1, sizeof *members);
    if (!members)
        return CF_ENOMEM;
    int rc = 0;
    size_t i = 0;
    for (const cJSON *m = obj->child; m && !rc; m = m->next, i++) {
        members[i] = m;
        if (!name_valid(m->string))
            rc = cf_error_set(d, CF_EFIELD_RANGE, p,
                              "%s: a member's name must be 1-32 characters of a-z 0-9 _", p);
        else {
            snprintf(field, sizeof field, "%s.%s", p, m->string);
            rc = check_value(m, field, d);
        }
    }
    if (!rc)
        qsort(members, n, sizeof *members, by_name);
    for (i = 1; !rc && i < n; i++)
        if (strcmp(members[i - 1]->string, members[i]->string) == 0) {
            snprintf(field, sizeof field, "%s.%s", p, members[i]->string);
            rc = cf_error_set(d, CF_EFIELD_RANGE, field, "%s is given twice", field);
        }
    struct out o = {.buf = out,
                    .size = out_size < CF_ACT_BODY_MAX + 1 ? out_size : CF_ACT_BODY_MAX + 1};
    if (!rc && out_size)
        out[0] = '\0';
    if (!rc) {
        put(&o, "{", 1);
        for (i = 0; i < n; i++) {
            put_string(&o, members[i]->string);
            put(&o, ":", 1);
            put_value(&o, members[i]);
            if (i + 1 < n)
                put(&o, ",", 1);
        }
        put(&o, "}", 1);
        if (o.over)
            rc = cf_error_set(d, CF_EFIELD_RANGE, p, "%s is over %d bytes as canonical text", p,
                              CF_ACT_BODY_MAX);
    }
    free(members);
    return rc;
}

cJSON *cf_act_body_parse(const char *text)
{
    if (!text || strlen(text) > CF_ACT_BODY_MAX)
        return NULL;
    cJSON *obj = cJSON_ParseWithLength(text, strlen(text));
    char *again = obj ? malloc(CF_ACT_BODY_MAX + 1) : NULL;
    bool same = again &&
                cf_act_body_canonical(obj, "body", again, CF_ACT_BODY_MAX + 1, NULL) == 0 &&
                strcmp(again, text) == 0;
    free(again);
    if (!same) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

/* ==== Rules per kind ==== */

enum member_type {
    M_TEXT,
    M_BOOL,
    M_TRUE,
    M_ARRAY,
    M_DATE,
    M_UUID,
    M_HEX64,
    M_CHOICE,
    M_NUMBER,
    M_SEQ,
    M_CODE, /* [a-z0-9_]{1,32} */
    M_VERSION, /* 1..999999, no leading zero */
};

struct member_rule {
    const char *name;
    enum member_type type;
    bool required;
    int max_chars; /* M_TEXT, M_ARRAY items: 1..max (or 0..max when optional) */
    const char *const *choices; /* M_CHOICE */
};

static const char *const categories[] = {"elderly", "disabled", "disabled_child",
                                         "family",  "other",    NULL};
static const char *const purposes[] = {
    "home_care", "rehab_aid", "rehab_course", "day_centre", "palliative", "other", NULL};
static const char *const directions[] = {"handed_over", "returned", NULL};

static const struct member_rule filed_rules[] = {
    {"applicant_name", M_TEXT, true, 200, NULL},
    {"applicant_birth", M_DATE, true, 0, NULL},
    {"applicant_address", M_TEXT, true, 300, NULL},
    {"applicant_phone", M_TEXT, false, 40, NULL},
    {"representative_name", M_TEXT, false, 200, NULL},
    {"representative_relation", M_TEXT, false, 100, NULL},
    {"settlement", M_TEXT, false, 200, NULL},
    {"category", M_CHOICE, true, 0, categories},
    {"purpose", M_CHOICE, true, 0, purposes},
    {"consent", M_TRUE, true, 0, NULL},
    {"consent_version", M_TEXT, true, 32, NULL},
    {"complete", M_BOOL, true, 0, NULL},
    {"code_sha256", M_HEX64, true, 0, NULL},
    {"note", M_TEXT, false, 2000, NULL},
    {"office_id", M_UUID, false, 0, NULL},
    {"trip_id", M_UUID, false, 0, NULL},
    {NULL, 0, false, 0, NULL},
};

static const struct member_rule survey_rules[] = {
    {"application_number", M_NUMBER, false, 0, NULL},
    {"application_seq", M_SEQ, false, 0, NULL},
    {"living_conditions", M_TEXT, true, 2000, NULL},
    {"needs", M_TEXT, false, 2000, NULL},
    {"findings", M_TEXT, true, 2000, NULL},
    {"recommended_services", M_ARRAY, false, 200, NULL},
    {"trip_id", M_UUID, false, 0, NULL},
    {NULL, 0, false, 0, NULL},
};

static const struct member_rule aid_rules[] = {
    {"application_number", M_NUMBER, false, 0, NULL},
    {"application_seq", M_SEQ, false, 0, NULL},
    {"aid_kind", M_TEXT, true, 100, NULL},
    {"inventory_number", M_TEXT, true, 64, NULL},
    {"direction", M_CHOICE, true, 0, directions},
    {"note", M_TEXT, false, 2000, NULL},
    {"trip_id", M_UUID, false, 0, NULL},
    {NULL, 0, false, 0, NULL},
};

/* survey.answered: the instrument and its version, the visit answered about (a visit this
 * terminal ended), and one member "a_<question code>" per answer, its value as text
 * ("5", "fully", "yes"): at least one. */
static const struct member_rule answered_rules[] = {
    {"instrument", M_CODE, true, 0, NULL},
    {"version", M_VERSION, true, 0, NULL},
    {"visit_id", M_UUID, true, 0, NULL},
    {"trip_id", M_UUID, false, 0, NULL},
    {NULL, 0, false, 0, NULL},
};
#define ANSWER_PREFIX "a_"
#define ANSWER_MAX_CHARS 16

static const struct member_rule *rules_of(int kind)
{
    switch (kind) {
    case CF_EV_APPLICATION_FILED:
        return filed_rules;
    case CF_EV_HOME_SURVEY_RECORDED:
        return survey_rules;
    case CF_EV_AID_HANDED_OVER:
        return aid_rules;
    case CF_EV_SURVEY_ANSWERED:
        return answered_rules;
    default:
        return NULL;
    }
}

int cf_act_kind(int kind)
{
    return rules_of(kind) != NULL;
}

static bool all_of(const char *s, const char *set, size_t len)
{
    return strlen(s) == len && strspn(s, set) == len;
}

static bool date_valid(const char *s)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0'), dd = (s[8] - '0') * 10 + (s[9] - '0');
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return y >= 1900 && y <= 2100 && m >= 1 && m <= 12 && dd >= 1 && dd <= days[m - 1] &&
           !(m == 2 && dd == 29 && !leap);
}

static bool uuid_text_valid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]) || !s[i])
            return false;
    }
    return strcmp(s, "00000000-0000-0000-0000-000000000000") != 0;
}

/* "2026-000123": four digits, a dash, six to fifteen digits. */
static bool number_valid(const char *s)
{
    size_t len = strlen(s);
    return len >= 11 && len <= 20 && s[4] == '-' && strspn(s, "0123456789") == 4 &&
           strspn(s + 5, "0123456789") == len - 5;
}

/* A seq before the event's own: decimal, no leading zero. */
static bool seq_valid(const char *s, uint64_t before)
{
    if (!s[0] || s[0] == '0' || strlen(s) > 16 || strspn(s, "0123456789") != strlen(s))
        return false;
    uint64_t v = strtoull(s, NULL, 10);
    return v >= 1 && v < before;
}

static int check_member(const struct member_rule *r, const cJSON *v, const struct cf_event *ev,
                        struct cf_error_detail *d)
{
    char f[64];
    snprintf(f, sizeof f, "body.%s", r->name);
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    switch (r->type) {
    case M_BOOL:
    case M_TRUE:
        if (!cJSON_IsBool(v))
            return cf_error_set(d, CF_EFIELD_TYPE, f, "%s must be true or false", f);
        if (r->type == M_TRUE && !cJSON_IsTrue(v))
            return cf_error_set(d, CF_EFIELD_RANGE, f,
                                "%s must be true: an application is never taken without the "
                                "consent to the processing of personal data",
                                f);
        return 0;
    case M_ARRAY:
        if (!cJSON_IsArray(v))
            return cf_error_set(d, CF_EFIELD_TYPE, f, "%s must be an array of strings", f);
        for (const cJSON *item = v->child; item; item = item->next) {
            long chars = cf_text_chars(item->valuestring);
            if (chars < 1 || chars > r->max_chars || cf_text_blank(item->valuestring))
                return cf_error_set(d, CF_EFIELD_RANGE, f, "%s: each entry is 1 to %d characters",
                                    f, r->max_chars);
        }
        return 0;
    default:
        break;
    }
    if (!s)
        return cf_error_set(d, CF_EFIELD_TYPE, f, "%s must be a string", f);
    switch (r->type) {
    case M_TEXT: {
        long chars = cf_text_chars(s);
        if (r->required && cf_text_blank(s))
            return cf_error_set(d, CF_EFIELD_MISSING, f, "%s must not be empty", f);
        if (chars < 0 || chars > r->max_chars)
            return cf_error_set(d, CF_EFIELD_RANGE, f, "%s is at most %d characters", f,
                                r->max_chars);
        return 0;
    }
    case M_DATE:
        return date_valid(s) ? 0
                             : cf_error_set(d, CF_EFIELD_RANGE, f,
                                            "%s must be a date YYYY-MM-DD from 1900", f);
    case M_UUID:
        return uuid_text_valid(s)
                   ? 0
                   : cf_error_set(d, CF_EFIELD_RANGE, f, "%s must be a UUID in lower case", f);
    case M_HEX64:
        return all_of(s, "0123456789abcdef", 64)
                   ? 0
                   : cf_error_set(d, CF_EFIELD_RANGE, f,
                                  "%s must be 64 lower-case hex digits (SHA-256 of the code)", f);
    case M_CHOICE:
        for (const char *const *c = r->choices; *c; c++)
            if (strcmp(*c, s) == 0)
                return 0;
        return cf_error_set(d, CF_EFIELD_RANGE, f, "%s is not one of the allowed values", f);
    case M_NUMBER:
        return number_valid(s) ? 0
                               : cf_error_set(d, CF_EFIELD_RANGE, f,
                                              "%s must be an application's number, like "
                                              "2026-000123",
                                              f);
    case M_CODE:
        return name_valid(s) ? 0
                             : cf_error_set(d, CF_EFIELD_RANGE, f,
                                            "%s must be 1-32 characters of a-z 0-9 _", f);
    case M_VERSION:
        return s[0] != '0' && strlen(s) >= 1 && strlen(s) <= 6 &&
                       strspn(s, "0123456789") == strlen(s)
                   ? 0
                   : cf_error_set(d, CF_EFIELD_RANGE, f, "%s must be a number 1..999999", f);
    case M_SEQ:
        return seq_valid(s, ev->seq)
                   ? 0
                   : cf_error_set(d, CF_EFIELD_RANGE, f,
                                  "%s must be the seq of an earlier event of this terminal", f);
    default:
        return CF_EINVAL;
    }
}

/* One answer of survey.answered: "a_<code>" with a text of 1..16 characters. */
static int check_answer(const cJSON *m, struct cf_error_detail *d)
{
    char f[64];
    snprintf(f, sizeof f, "body.%s", m->string);
    long chars = cJSON_IsString(m) ? cf_text_chars(m->valuestring) : -1;
    if (!name_valid(m->string + strlen(ANSWER_PREFIX)))
        return cf_error_set(d, CF_EFIELD_RANGE, f, "%s: a_ must be followed by a question's code",
                            f);
    if (chars < 1 || chars > ANSWER_MAX_CHARS || cf_text_blank(m->valuestring))
        return cf_error_set(d, CF_EFIELD_RANGE, f,
                            "%s must be the answer as text of 1 to %d characters (5, fully, yes)",
                            f, ANSWER_MAX_CHARS);
    return 0;
}

static int check_rules(const struct cf_event *ev, const struct member_rule *rules, const cJSON *obj,
                       struct cf_error_detail *d)
{
    int answers = 0;
    for (const cJSON *m = obj->child; m; m = m->next) {
        if (rules == answered_rules &&
            strncmp(m->string, ANSWER_PREFIX, strlen(ANSWER_PREFIX)) == 0) {
            int rc = check_answer(m, d);
            if (rc)
                return rc;
            answers++;
            continue;
        }
        const struct member_rule *r = rules;
        while (r->name && strcmp(r->name, m->string) != 0)
            r++;
        if (!r->name)
            return cf_error_set(d, CF_EFIELD_UNKNOWN, "body",
                                "body holds a member that %s does not know",
                                cf_event_kind_name(ev->kind));
        int rc = check_member(r, m, ev, d);
        if (rc)
            return rc;
    }
    for (const struct member_rule *r = rules; r->name; r++)
        if (r->required && !cJSON_GetObjectItemCaseSensitive(obj, r->name)) {
            char f[64];
            snprintf(f, sizeof f, "body.%s", r->name);
            return cf_error_set(d, CF_EFIELD_MISSING, f, "%s is required for %s", f,
                                cf_event_kind_name(ev->kind));
        }
    if (rules == answered_rules && answers == 0)
        return cf_error_set(d, CF_EFIELD_MISSING, "body",
                            "body holds no answer: give each as a_<question code>");
    if (rules == survey_rules || rules == aid_rules) {
        bool by_number = cJSON_GetObjectItemCaseSensitive(obj, "application_number") != NULL;
        bool by_seq = cJSON_GetObjectItemCaseSensitive(obj, "application_seq") != NULL;
        if (by_number == by_seq)
            return cf_error_set(d, by_number ? CF_EFIELD_RANGE : CF_EFIELD_MISSING,
                                "body.application_number",
                                "name the application once: by application_number, or by "
                                "application_seq (its filing on this terminal)");
    }
    return 0;
}

int cf_act_body_check(const struct cf_event *ev, struct cf_error_detail *d)
{
    const struct member_rule *rules = rules_of(ev->kind);
    if (!memchr(ev->body, '\0', sizeof ev->body))
        return cf_error_set(d, CF_EINVAL, "body", "body is not NUL-terminated");
    if (!rules)
        return ev->body[0] ? cf_error_set(d, CF_EFIELD_RANGE, "body",
                                          "body belongs to application.filed, "
                                          "home_survey.recorded and aid.handed_over only")
                           : 0;
    if (!ev->body[0])
        return cf_error_set(d, CF_EFIELD_MISSING, "body", "body is required for %s",
                            cf_event_kind_name(ev->kind));
    cJSON *obj = cf_act_body_parse(ev->body);
    if (!obj)
        return cf_error_set(d, CF_EFIELD_RANGE, "body",
                            "body is not canonical text (api/PROTOCOL.md 4.6)");
    int rc = check_rules(ev, rules, obj, d);
    cJSON_Delete(obj);
    return rc;
}
