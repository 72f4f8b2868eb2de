/* The act body (cf/act.h, api/PROTOCOL.md 4.6): its canonical text, the refusals of the
 * decoder and of the rules per kind, and version 3 of the encoding (the body is in the
 * digest; events without one keep their digests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cf/act.h"
#include "cf/batch.h"
#include "sample_events.h"

/* The canonical text of a JSON text, or the refusal's code with its field. */
static int canonical(const char *json, char *out, size_t size, struct cf_error_detail *d)
{
    cJSON *obj = cJSON_Parse(json);
    assert_non_null(obj);
    int rc = cf_act_body_canonical(obj, "body", out, size, d);
    cJSON_Delete(obj);
    return rc;
}

static void test_canonical_text(void **state)
{
    (void)state;
    char out[CF_ACT_BODY_MAX + 1];
    struct cf_error_detail d = {0};
    /* members sorted, no whitespace, only ", \ and newline escaped; \u escapes written out */
    assert_int_equal(canonical("{ \"b\" : [\"x\", \"y\\\"\"], \"a\": \"п\\u0440\\/\\\\\\n\","
                               " \"c\": false, \"_\": true }",
                               out, sizeof out, &d),
                     0);
    assert_string_equal(out,
                        "{\"_\":true,\"a\":\"пр/\\\\\\n\",\"b\":[\"x\",\"y\\\"\"],\"c\":false}");
    /* the canonical text parses back; anything else does not */
    cJSON *back = cf_act_body_parse(out);
    assert_non_null(back);
    cJSON_Delete(back);
    assert_null(cf_act_body_parse("{\"b\":\"1\",\"a\":\"2\"}")); /* order */
    assert_null(cf_act_body_parse("{\"a\": \"2\"}")); /* whitespace */
    assert_null(cf_act_body_parse("{\"a\":\"\\u0440\"}")); /* an escape not of the three */
    assert_null(cf_act_body_parse("[\"a\"]"));
    assert_null(cf_act_body_parse("{\"a\":1}"));
    assert_null(cf_act_body_parse(""));
}

static void test_canonical_refusals(void **state)
{
    (void)state;
    char out[CF_ACT_BODY_MAX + 1];
    struct cf_error_detail d = {0};
    assert_int_equal(canonical("[1]", out, sizeof out, &d), CF_EFIELD_TYPE);
    assert_int_equal(canonical("{\"a\":1}", out, sizeof out, &d), CF_EFIELD_TYPE);
    assert_string_equal(d.field, "body.a");
    assert_int_equal(canonical("{\"a\":null}", out, sizeof out, &d), CF_EFIELD_TYPE);
    assert_int_equal(canonical("{\"a\":{\"b\":\"c\"}}", out, sizeof out, &d), CF_EFIELD_TYPE);
    assert_int_equal(canonical("{\"a\":[1]}", out, sizeof out, &d), CF_EFIELD_TYPE);
    assert_int_equal(canonical("{\"A\":\"x\"}", out, sizeof out, &d), CF_EFIELD_RANGE);
    assert_int_equal(canonical("{\"a\":\"x\",\"a\":\"y\"}", out, sizeof out, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "body.a");
    assert_non_null(strstr(d.message, "twice"));
    assert_int_equal(canonical("{\"a\":\"\\t\"}", out, sizeof out, &d), CF_EFIELD_RANGE);
    assert_int_equal(canonical("{\"a\":\"\xff\"}", out, sizeof out, &d), CF_EFIELD_RANGE);
    /* the cap: 8192 bytes of canonical text pass, one more does not */
    char *big = malloc(CF_ACT_BODY_MAX + 64);
    assert_non_null(big);
    size_t fill = CF_ACT_BODY_MAX - strlen("{\"a\":\"\"}");
    memcpy(big, "{\"a\":\"", 6);
    memset(big + 6, 'x', fill);
    memcpy(big + 6 + fill, "\"}", 3);
    assert_int_equal(canonical(big, out, sizeof out, &d), 0);
    assert_int_equal(strlen(out), CF_ACT_BODY_MAX);
    memcpy(big + 6 + fill, "x\"}", 4);
    assert_int_equal(canonical(big, out, sizeof out, &d), CF_EFIELD_RANGE);
    assert_non_null(strstr(d.message, "8192"));
    free(big);
}

static int check_body(enum cf_event_kind kind, const char *body, struct cf_error_detail *d)
{
    static struct cf_event ev;
    sample_event(&ev, kind);
    ev.seq = 5;
    snprintf(ev.body, sizeof ev.body, "%s", body);
    return cf_event_validate(&ev, d);
}

#define FILED_BASE                                                                                  \
    "\"applicant_address\":\"д. 3\",\"applicant_birth\":\"1941-03-08\",\"applicant_name\":\"А\"," \
    "\"category\":\"elderly\",\"code_sha256\":"                                                     \
    "\"0000000000000000000000000000000000000000000000000000000000000000\","

static void test_rules_per_kind(void **state)
{
    (void)state;
    struct cf_error_detail d = {0};
    static const struct {
        enum cf_event_kind kind;
        const char *body;
        int code;
        const char *field;
    } cases[] = {
        /* the consent is never false */
        {CF_EV_APPLICATION_FILED,
         "{" FILED_BASE "\"complete\":true,\"consent\":false,\"consent_version\":\"1\","
         "\"purpose\":\"other\"}",
         CF_EFIELD_RANGE, "body.consent"},
        {CF_EV_APPLICATION_FILED,
         "{" FILED_BASE "\"complete\":true,\"consent_version\":\"1\",\"purpose\":\"other\"}",
         CF_EFIELD_MISSING, "body.consent"},
        {CF_EV_APPLICATION_FILED,
         "{" FILED_BASE "\"complete\":true,\"consent\":true,\"consent_version\":\"1\","
         "\"purpose\":\"hairdresser\"}",
         CF_EFIELD_RANGE, "body.purpose"},
        {CF_EV_APPLICATION_FILED,
         "{" FILED_BASE "\"complete\":true,\"consent\":true,\"consent_version\":\"1\","
         "\"purpose\":\"other\",\"salary\":\"1\"}",
         CF_EFIELD_UNKNOWN, "body"},
        {CF_EV_APPLICATION_FILED,
         "{\"applicant_address\":\"д. 3\",\"applicant_birth\":\"1941-02-29\",\"applicant_name\":"
         "\"А\",\"category\":\"elderly\",\"code_sha256\":\"00\",\"complete\":true,\"consent\":true,"
         "\"consent_version\":\"1\",\"purpose\":\"other\"}",
         CF_EFIELD_RANGE, "body.applicant_birth"},
        {CF_EV_APPLICATION_FILED,
         "{" FILED_BASE "\"complete\":\"yes\",\"consent\":true,\"consent_version\":\"1\","
         "\"purpose\":\"other\"}",
         CF_EFIELD_TYPE, "body.complete"},
        {CF_EV_APPLICATION_FILED,
         "{" FILED_BASE "\"complete\":true,\"consent\":true,\"consent_version\":\"1\","
         "\"purpose\":\"other\",\"trip_id\":\"not-a-uuid\"}",
         CF_EFIELD_RANGE, "body.trip_id"},
        /* an act names its application once */
        {CF_EV_HOME_SURVEY_RECORDED, "{\"findings\":\"ф\",\"living_conditions\":\"д\"}",
         CF_EFIELD_MISSING, "body.application_number"},
        {CF_EV_HOME_SURVEY_RECORDED,
         "{\"application_number\":\"2026-000001\",\"application_seq\":\"2\",\"findings\":\"ф\","
         "\"living_conditions\":\"д\"}",
         CF_EFIELD_RANGE, "body.application_number"},
        /* ... by an earlier filing of this terminal */
        {CF_EV_HOME_SURVEY_RECORDED,
         "{\"application_seq\":\"5\",\"findings\":\"ф\",\"living_conditions\":\"д\"}",
         CF_EFIELD_RANGE, "body.application_seq"},
        {CF_EV_HOME_SURVEY_RECORDED,
         "{\"application_seq\":\"04\",\"findings\":\"ф\",\"living_conditions\":\"д\"}",
         CF_EFIELD_RANGE, "body.application_seq"},
        {CF_EV_HOME_SURVEY_RECORDED,
         "{\"application_number\":\"26-1\",\"findings\":\"ф\",\"living_conditions\":\"д\"}",
         CF_EFIELD_RANGE, "body.application_number"},
        {CF_EV_HOME_SURVEY_RECORDED,
         "{\"application_seq\":\"4\",\"findings\":\"  \",\"living_conditions\":\"д\"}",
         CF_EFIELD_MISSING, "body.findings"},
        {CF_EV_AID_HANDED_OVER,
         "{\"aid_kind\":\"Ходунки\",\"application_seq\":\"4\",\"direction\":\"lent\","
         "\"inventory_number\":\"1\"}",
         CF_EFIELD_RANGE, "body.direction"},
        /* a body is on the act kinds only, and never missing there */
        {CF_EV_VISIT_STARTED, "{\"a\":\"b\"}", CF_EFIELD_RANGE, "body"},
        {CF_EV_HOME_SURVEY_RECORDED, "", CF_EFIELD_MISSING, "body"},
        /* survey answers: at least one, each a_<code> with a short text */
        {CF_EV_SURVEY_ANSWERED,
         "{\"instrument\":\"visit_rating\",\"version\":\"1\",\"visit_id\":"
         "\"40414243-4445-4647-4849-4a4b4c4d4e4f\"}",
         CF_EFIELD_MISSING, "body"},
        {CF_EV_SURVEY_ANSWERED,
         "{\"a_rating\":\"\",\"instrument\":\"visit_rating\",\"version\":\"1\","
         "\"visit_id\":\"40414243-4445-4647-4849-4a4b4c4d4e4f\"}",
         CF_EFIELD_RANGE, "body.a_rating"},
        {CF_EV_SURVEY_ANSWERED,
         "{\"a_rating\":\"5\",\"instrument\":\"visit_rating\",\"version\":\"01\","
         "\"visit_id\":\"40414243-4445-4647-4849-4a4b4c4d4e4f\"}",
         CF_EFIELD_RANGE, "body.version"},
        {CF_EV_SURVEY_ANSWERED,
         "{\"a_rating\":\"5\",\"instrument\":\"visit_rating\",\"version\":\"1\"}",
         CF_EFIELD_MISSING, "body.visit_id"},
        /* a stored body that is not canonical */
        {CF_EV_HOME_SURVEY_RECORDED,
         "{\"living_conditions\":\"д\",\"application_seq\":\"4\",\"findings\":\"ф\"}",
         CF_EFIELD_RANGE, "body"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&d, 0, sizeof d);
        int rc = check_body(cases[i].kind, cases[i].body, &d);
        if (rc != cases[i].code || strcmp(d.field, cases[i].field) != 0)
            fail_msg("case %zu: got %d (%s: %s), want %d (%s)", i, rc, d.field, d.message,
                     cases[i].code, cases[i].field);
    }
    /* the good ones */
    assert_int_equal(check_body(CF_EV_HOME_SURVEY_RECORDED,
                                "{\"application_seq\":\"4\",\"findings\":\"ф\","
                                "\"living_conditions\":\"д\",\"recommended_services\":[\"Уборка\"],"
                                "\"trip_id\":\"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\"}",
                                &d),
                     0);
    /* an aid's hand-over needs the recipient's card */
    static struct cf_event ev;
    sample_event(&ev, CF_EV_AID_HANDED_OVER);
    memset(&ev.card, 0, sizeof ev.card);
    ev.location.present = false;
    assert_int_equal(cf_event_validate(&ev, &d), CF_EFIELD_MISSING);
    /* an act belongs to no visit */
    sample_event(&ev, CF_EV_APPLICATION_FILED);
    sample_fill_id(ev.visit_id, 0x40);
    assert_int_equal(cf_event_validate(&ev, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "visit_id");
}

/* Version 3: the body is in the digest, under its own domain; without a body the event is
 * version 1 (or 2) as before. */
static void test_version_3(void **state)
{
    (void)state;
    static struct cf_event ev, other;
    uint8_t a[CF_DIGEST_LEN], b[CF_DIGEST_LEN];
    sample_event(&ev, CF_EV_HOME_SURVEY_RECORDED);
    uint8_t first = 0;
    assert_true(cf_event_encode(&ev, &first, 1) < 0 || first == 3);
    uint8_t *buf = malloc(32768);
    assert_non_null(buf);
    long len = cf_event_encode(&ev, buf, 32768);
    assert_true(len > 0);
    assert_int_equal(buf[0], 3);
    size_t body_len = strlen(ev.body);
    assert_memory_equal(buf + len - (long)body_len, ev.body, body_len);
    free(buf);
    other = ev;
    other.body[strlen(other.body) - 3] ^= 1; /* one bit of the body */
    assert_int_equal(cf_event_digest(&ev, a), 0);
    assert_int_equal(cf_event_digest(&other, b), 0);
    assert_memory_not_equal(a, b, CF_DIGEST_LEN);
    /* the same fields without the body: another version, another digest */
    other = ev;
    other.body[0] = '\0';
    assert_int_equal(cf_event_digest(&other, b), 0);
    assert_memory_not_equal(a, b, CF_DIGEST_LEN);
    /* JSON round trip keeps the digest */
    cJSON *json = cf_event_to_json(&ev);
    assert_non_null(json);
    struct cf_error_detail d = {0};
    assert_int_equal(cf_event_from_json(json, ev.device_id, "events[0]", &other, &d), 0);
    assert_string_equal(other.body, ev.body);
    assert_int_equal(cf_event_digest(&other, b), 0);
    assert_memory_equal(a, b, CF_DIGEST_LEN);
    /* a body refused in JSON names the event's path */
    cJSON_ReplaceItemInObject(json, "body", cJSON_CreateString("text"));
    assert_int_equal(cf_event_from_json(json, ev.device_id, "events[0]", &other, &d),
                     CF_EFIELD_TYPE);
    assert_string_equal(d.field, "events[0].body");
    cJSON_Delete(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_text),
        cmocka_unit_test(test_canonical_refusals),
        cmocka_unit_test(test_rules_per_kind),
        cmocka_unit_test(test_version_3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
