/* The agent's acts (ag/acts.h): the bodies built from the worker's forms are canonical and
 * checked by the server's rules before anything is stored; the applicant's code is never
 * in the body, only its SHA-256; the receipt's form (api/PROTOCOL.md 4.6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ag/acts.h"

static void test_receipt(void **state)
{
    (void)state;
    uint8_t device[CF_UUID_LEN] = {0x01, 0x93, 0x9f, 0x2a, 0x6b, 0x10};
    char receipt[AG_RECEIPT_MAX];
    ag_receipt(device, 4, receipt);
    assert_string_equal(receipt, "01939F2A-4");
    ag_receipt(device, 123456789012345ULL, receipt);
    assert_string_equal(receipt, "01939F2A-123456789012345");
}

static void test_application_body(void **state)
{
    (void)state;
    static char body[CF_ACT_BODY_MAX + 1];
    struct cf_error_detail d = {0};
    struct ag_application_form f = {.applicant_name = "Петрова Анна",
                                    .applicant_birth = "1941-03-08",
                                    .applicant_address = "ул. Лесная, 3",
                                    .category = "elderly",
                                    .purpose = "rehab_aid",
                                    .consent = true};
    assert_int_equal(ag_application_body(&f, "1234567890", body, &d), 0);
    /* canonical, the default consent text's version, the code's SHA-256 and never the code */
    assert_string_equal(
        body, "{\"applicant_address\":\"ул. Лесная, 3\",\"applicant_birth\":\"1941-03-08\","
              "\"applicant_name\":\"Петрова Анна\",\"category\":\"elderly\",\"code_sha256\":"
              "\"c775e7b757ede630cd0aa1113bd102661ab38829ca52a6422ab782862f268646\","
              "\"complete\":false,\"consent\":true,\"consent_version\":\"" AG_CONSENT_VERSION
              "\",\"purpose\":\"rehab_aid\"}");
    assert_null(strstr(body, "1234567890"));
    f.consent = false;
    assert_int_equal(ag_application_body(&f, "1234567890", body, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "body.consent");
    f.consent = true;
    f.applicant_birth = "08.03.1941";
    assert_int_equal(ag_application_body(&f, "1234567890", body, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "body.applicant_birth");
    f.applicant_birth = NULL;
    assert_int_equal(ag_application_body(&f, "1234567890", body, &d), CF_EFIELD_MISSING);
    assert_string_equal(d.field, "body.applicant_birth");
}

static void test_act_bodies(void **state)
{
    (void)state;
    static char body[CF_ACT_BODY_MAX + 1];
    struct cf_error_detail d = {0};
    struct ag_survey_form s = {.target = {.filing_seq = 3}, .findings = "ф"};
    assert_int_equal(ag_survey_body(&s, body, &d), CF_EFIELD_MISSING);
    assert_string_equal(d.field, "body.living_conditions");
    s.living_conditions = "Дом";
    s.services[s.service_count++] = "Уборка";
    assert_int_equal(ag_survey_body(&s, body, &d), 0);
    assert_string_equal(body, "{\"application_seq\":\"3\",\"findings\":\"ф\",\"living_conditions\":"
                              "\"Дом\",\"recommended_services\":[\"Уборка\"]}");
    struct ag_aid_form a = {.target = {.application_number = "2026-000123"},
                            .aid_kind = "Ходунки",
                            .inventory_number = "ТСР-1",
                            .returned = true};
    assert_int_equal(ag_aid_body(&a, body, &d), 0);
    assert_non_null(strstr(body, "\"direction\":\"returned\""));
    struct ag_answers_form q = {.visit_id = "40414243-4445-4647-4849-4a4b4c4d4e4f"};
    assert_int_equal(ag_answers_body(&q, body, &d), CF_EFIELD_MISSING); /* no answer */
    q.codes[0] = "rating";
    q.values[0] = "5";
    q.count = 1;
    assert_int_equal(ag_answers_body(&q, body, &d), 0);
    assert_string_equal(body, "{\"a_rating\":\"5\",\"instrument\":\"visit_rating\",\"version\":"
                              "\"1\",\"visit_id\":\"40414243-4445-4647-4849-4a4b4c4d4e4f\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_receipt),
        cmocka_unit_test(test_application_body),
        cmocka_unit_test(test_act_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
