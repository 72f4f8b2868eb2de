/* The survey's reference record (ag/reference.h, issues 16, 17): the reader takes the body
 * sql/0035's survey_reference_items builds and refuses a malformed one with its field; the
 * answers check is the server's rule (sql/0026 survey_answers_check), so a refused answer
 * never becomes a signed event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ag/reference.h"

/* As the server sends public_service version 1 (three of its eight questions). */
static const char survey_json[] =
    "{\"instrument\":\"public_service\",\"version\":1,"
    "\"name\":\"Оценка качества предоставления услуги\",\"questions\":["
    "{\"position\":1,\"code\":\"overall\",\"kind\":\"scale5\","
    "\"text\":\"Насколько вы удовлетворены качеством услуги в целом?\",\"required\":true},"
    "{\"position\":2,\"code\":\"informed\",\"kind\":\"choice3\","
    "\"text\":\"Получили ли вы полную информацию?\",\"required\":true},"
    "{\"position\":7,\"code\":\"eform\",\"kind\":\"choice3\","
    "\"text\":\"Удобно ли было подать заявление в электронной форме?\",\"required\":false},"
    "{\"position\":8,\"code\":\"recommend\",\"kind\":\"yes_no\","
    "\"text\":\"Порекомендуете ли вы эту организацию?\",\"required\":true,\"new\":1}]}";

static struct ag_survey survey;

static int read_survey(const char *text, struct cf_error_detail *d)
{
    memset(d, 0, sizeof *d);
    return ag_survey_parse(text, &survey, d);
}

static void test_survey_read(void **state)
{
    (void)state;
    struct cf_error_detail d;
    assert_int_equal(read_survey(survey_json, &d), 0);
    assert_string_equal(survey.instrument, "public_service");
    assert_int_equal(survey.version, 1);
    assert_string_equal(survey.name, "Оценка качества предоставления услуги");
    assert_int_equal(survey.question_count, 4);
    assert_string_equal(survey.questions[0].code, "overall");
    assert_int_equal(survey.questions[0].kind, AG_QUESTION_SCALE5);
    assert_true(survey.questions[0].required);
    assert_int_equal(survey.questions[1].kind, AG_QUESTION_CHOICE3);
    assert_false(survey.questions[2].required);
    assert_int_equal(survey.questions[2].position, 7);
    assert_int_equal(survey.questions[3].kind, AG_QUESTION_YES_NO);
    assert_string_equal(ag_question_kind_name(AG_QUESTION_YES_NO), "yes_no");
    assert_string_equal(survey.questions[1].text, "Получили ли вы полную информацию?");
}

/* Each way a record can be wrong, refused with the field it names. */
static void test_survey_refused(void **state)
{
    (void)state;
    static const struct {
        const char *from, *to, *field;
        int rc;
    } cases[] = {
        {"\"kind\":\"yes_no\"", "\"kind\":\"stars\"", "questions[3].kind", CF_EFIELD_RANGE},
        {"\"code\":\"informed\"", "\"code\":\"Informed\"", "questions[1].code", CF_EFIELD_RANGE},
        {"\"code\":\"informed\"", "\"code\":\"overall\"", "questions", CF_EFIELD_RANGE},
        {"\"position\":7", "\"position\":1", "questions", CF_EFIELD_RANGE},
        {"\"version\":1", "\"version\":0", "version", CF_EFIELD_RANGE},
        {"\"instrument\":\"public_service\",", "", "instrument", CF_EFIELD_MISSING},
        {"\"required\":false", "\"required\":\"no\"", "questions[2].required", CF_EFIELD_TYPE},
        {"\"text\":\"Получили ли вы полную информацию?\"", "\"text\":\"\"", "questions[1].text",
         CF_EFIELD_RANGE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[sizeof survey_json + 64];
        const char *at = strstr(survey_json, cases[i].from);
        assert_non_null(at);
        snprintf(text, sizeof text, "%.*s%s%s", (int)(at - survey_json), survey_json, cases[i].to,
                 at + strlen(cases[i].from));
        struct cf_error_detail d;
        assert_int_equal(read_survey(text, &d), cases[i].rc);
        assert_string_equal(d.field, cases[i].field);
        assert_int_equal(survey.question_count, 0); /* nothing half-read is left */
    }
    struct cf_error_detail d;
    assert_int_equal(read_survey("{\"instrument\":\"x\",\"version\":1,\"questions\":[]}", &d),
                     CF_EFIELD_MISSING);
    assert_int_equal(read_survey("not json", &d), CF_EJSON);
}

/* The sync's check: the record's id is the instrument. */
static void test_survey_reference_check(void **state)
{
    (void)state;
    cJSON *body = cJSON_Parse(survey_json);
    char tokens[AG_MAX_CARDS][CF_TOKEN_TEXT_LEN + 1];
    size_t n = 9;
    assert_int_equal(ag_reference_check("survey", "public_service", body, tokens, &n, NULL), 0);
    assert_int_equal(n, 0);
    struct cf_error_detail d = {0};
    assert_int_equal(ag_reference_check("survey", "visit_rating", body, tokens, &n, &d),
                     CF_EFIELD_RANGE);
    assert_string_equal(d.field, "instrument");
    cJSON_Delete(body);
}

static int check(const char *const codes[], const char *const values[], size_t count,
                 struct cf_error_detail *d)
{
    memset(d, 0, sizeof *d);
    return ag_survey_answers_check(&survey, codes, values, count, d);
}

/* mutant reference.survey-answer-kind: an answer outside its question's scale is refused
 * on the terminal, never signed. */
static void test_survey_answers(void **state)
{
    (void)state;
    struct cf_error_detail d;
    assert_int_equal(read_survey(survey_json, &d), 0);
    const char *codes[] = {"overall", "informed", "recommend", "eform"};
    const char *values[] = {"5", "fully", "yes", "partly"};
    assert_int_equal(check(codes, values, 3, &d), 0); /* the optional one left out */
    assert_int_equal(check(codes, values, 4, &d), 0);

    const char *bad_scale[] = {"6", "fully", "yes"};
    assert_int_equal(check(codes, bad_scale, 3, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "overall");
    const char *bad_choice[] = {"5", "yes", "yes"};
    assert_int_equal(check(codes, bad_choice, 3, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "informed");
    const char *bad_yes_no[] = {"5", "fully", "fully"};
    assert_int_equal(check(codes, bad_yes_no, 3, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "recommend");

    assert_int_equal(check(codes, values, 2, &d), CF_EFIELD_MISSING);
    assert_string_equal(d.field, "recommend");
    const char *unknown[] = {"overall", "informed", "recommend", "rating"};
    assert_int_equal(check(unknown, values, 4, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "rating");
    const char *twice[] = {"overall", "informed", "recommend", "overall"};
    const char *twice_values[] = {"5", "fully", "yes", "1"};
    assert_int_equal(check(twice, twice_values, 4, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "overall");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_survey_read),
        cmocka_unit_test(test_survey_refused),
        cmocka_unit_test(test_survey_reference_check),
        cmocka_unit_test(test_survey_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
