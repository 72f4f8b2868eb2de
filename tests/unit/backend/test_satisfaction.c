/* The satisfaction module's pure reader (be/satisfaction.h): a citizen's answers with
 * the appointment's secret, a staff follow-up naming exactly one subject and its
 * purpose; the answers re-printed compactly as stored, each refusal naming its field
 * (answers.<code> for a bad answer). The Wilson interval and the statuses are SQL rules
 * (sql/0026_satisfaction.sql), checked at their exact cases against a database by
 * integration.backend.satisfaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "be/satisfaction.h"

#define SECRET "00112233445566778899aabbccddeeff"
#define VISIT "6ea0a5a9-4d5d-0fb6-fe8c-fb3a5e7ba5c0"

static int read_body(const char *body, enum be_survey_source source, struct be_survey_answer *s,
                     struct cf_error_detail *d)
{
    memset(d, 0, sizeof *d);
    return be_survey_answer_read(body, strlen(body), source, s, d);
}

static void test_public(void **state)
{
    (void)state;
    struct be_survey_answer s;
    struct cf_error_detail d;
    assert_int_equal(read_body("{\"secret\":\"" SECRET "\",\"instrument\":\"public_service\","
                               "\"version\":1,\"answers\":{ \"overall\" : 5, "
                               "\"informed\": \"partly\", \"recommend\":\"no\"}}",
                               BE_SURVEY_PUBLIC, &s, &d),
                     0);
    assert_string_equal(s.answers, "{\"overall\":5,\"informed\":\"partly\",\"recommend\":\"no\"}");
    assert_string_equal(s.purpose, "after_visit");
    assert_string_equal(s.instrument, "public_service");
    assert_int_equal(s.version, 1);
    assert_string_equal(s.visit_id, "");
    /* the secret is required and must be the booking's kind of secret */
    assert_int_not_equal(read_body("{\"instrument\":\"public_service\",\"version\":1,"
                                   "\"answers\":{}}",
                                   BE_SURVEY_PUBLIC, &s, &d),
                         0);
    assert_string_equal(d.field, "secret");
    assert_int_not_equal(read_body("{\"secret\":\"00112233445566778899AABBCCDDEEFF\","
                                   "\"instrument\":\"public_service\",\"version\":1,"
                                   "\"answers\":{}}",
                                   BE_SURVEY_PUBLIC, &s, &d),
                         0);
    assert_string_equal(d.field, "secret");
    /* a citizen names no visit and no purpose */
    assert_int_not_equal(read_body("{\"secret\":\"" SECRET "\",\"purpose\":\"sample\","
                                   "\"instrument\":\"public_service\",\"version\":1,"
                                   "\"answers\":{}}",
                                   BE_SURVEY_PUBLIC, &s, &d),
                         0);
    assert_string_equal(d.field, "purpose");
}

static void test_answers(void **state)
{
    (void)state;
    static const struct {
        const char *answers, *field;
    } bad[] = {
        {"{\"overall\":6}", "answers.overall"},
        {"{\"overall\":0}", "answers.overall"},
        {"{\"overall\":4.5}", "answers.overall"},
        {"{\"overall\":\"5\"}", "answers.overall"},
        {"{\"informed\":\"maybe\"}", "answers.informed"},
        {"{\"informed\":null}", "answers.informed"},
        {"{\"overall\":5,\"overall\":4}", "answers.overall"},
        {"{\"Overall\":5}", "answers"},
        {"{\"\":5}", "answers"},
        {"[5]", "answers"},
        {"5", "answers"},
    };
    char body[400];
    struct be_survey_answer s;
    struct cf_error_detail d;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(body, sizeof body,
                 "{\"secret\":\"" SECRET "\",\"instrument\":\"public_service\",\"version\":1,"
                 "\"answers\":%s}",
                 bad[i].answers);
        assert_int_not_equal(read_body(body, BE_SURVEY_PUBLIC, &s, &d), 0);
        assert_string_equal(d.field, bad[i].field);
        assert_true(d.message[0] != '\0');
    }
    /* more questions than any instrument has */
    size_t n = (size_t)snprintf(body, sizeof body,
                                "{\"secret\":\"" SECRET "\",\"instrument\":\"x\",\"version\":1,"
                                "\"answers\":{");
    for (int i = 0; i <= BE_SURVEY_ANSWERS_MAX; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s\"q%c%c\":1", i ? "," : "",
                              'a' + i / 26, 'a' + i % 26);
    snprintf(body + n, sizeof body - n, "}}");
    assert_int_not_equal(read_body(body, BE_SURVEY_PUBLIC, &s, &d), 0);
    assert_string_equal(d.field, "answers");
    assert_int_not_equal(read_body("{\"secret\":\"" SECRET "\",\"instrument\":\"public_service\","
                                   "\"version\":0,\"answers\":{}}",
                                   BE_SURVEY_PUBLIC, &s, &d),
                         0);
    assert_string_equal(d.field, "version");
    assert_int_not_equal(read_body("{\"secret\":\"" SECRET "\",\"instrument\":\"Public\","
                                   "\"version\":1,\"answers\":{}}",
                                   BE_SURVEY_PUBLIC, &s, &d),
                         0);
    assert_string_equal(d.field, "instrument");
}

static void test_staff(void **state)
{
    (void)state;
    struct be_survey_answer s;
    struct cf_error_detail d;
    assert_int_equal(read_body("{\"visit_id\":\"6EA0A5A9-4D5D-0FB6-FE8C-FB3A5E7BA5C0\","
                               "\"purpose\":\"sample\",\"instrument\":\"visit_rating\","
                               "\"version\":1,\"answers\":{\"rating\":3}}",
                               BE_SURVEY_STAFF, &s, &d),
                     0);
    assert_string_equal(s.visit_id, VISIT); /* canonical */
    assert_string_equal(s.appointment_id, "");
    assert_string_equal(s.purpose, "sample");
    /* exactly one subject */
    assert_int_not_equal(read_body("{\"purpose\":\"sample\",\"instrument\":\"visit_rating\","
                                   "\"version\":1,\"answers\":{\"rating\":3}}",
                                   BE_SURVEY_STAFF, &s, &d),
                         0);
    assert_string_equal(d.field, "visit_id");
    assert_int_not_equal(read_body("{\"visit_id\":\"" VISIT "\",\"appointment_id\":\"" VISIT
                                   "\",\"purpose\":\"sample\",\"instrument\":\"visit_rating\","
                                   "\"version\":1,\"answers\":{\"rating\":3}}",
                                   BE_SURVEY_STAFF, &s, &d),
                         0);
    assert_string_equal(d.field, "visit_id");
    assert_int_not_equal(read_body("{\"visit_id\":\"nope\",\"purpose\":\"sample\","
                                   "\"instrument\":\"visit_rating\",\"version\":1,"
                                   "\"answers\":{\"rating\":3}}",
                                   BE_SURVEY_STAFF, &s, &d),
                         0);
    assert_string_equal(d.field, "visit_id");
    assert_int_not_equal(read_body("{\"visit_id\":\"" VISIT "\",\"purpose\":\"gossip\","
                                   "\"instrument\":\"visit_rating\",\"version\":1,"
                                   "\"answers\":{\"rating\":3}}",
                                   BE_SURVEY_STAFF, &s, &d),
                         0);
    assert_string_equal(d.field, "purpose");
    /* staff give no secret */
    assert_int_not_equal(read_body("{\"secret\":\"" SECRET "\",\"visit_id\":\"" VISIT
                                   "\",\"purpose\":\"sample\",\"instrument\":\"visit_rating\","
                                   "\"version\":1,\"answers\":{\"rating\":3}}",
                                   BE_SURVEY_STAFF, &s, &d),
                         0);
    assert_string_equal(d.field, "secret");
    assert_int_not_equal(be_survey_answer_read(NULL, 0, BE_SURVEY_STAFF, &s, &d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_public),
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_staff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
