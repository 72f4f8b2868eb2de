/* The complaints module's pure readers (be/complaints.h): a complaint from the desk (a
 * visit alone, or a provider and maybe its worker), from the citizen's page (an office
 * visit by the booking's id and secret, a home visit by the application's number and
 * code), and a transition (the answer's text required to answer) — each refusal naming
 * its field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "be/complaints.h"

#define PROVIDER "00000000-0000-4000-8000-000000000002"
#define VISIT "40414243-4445-4647-4849-4a4b4c4d4e4f"
#define SECRET "0123456789abcdef0123456789abcdef"

static struct be_complaint_new c;
static struct be_complaint_move m;
static struct cf_error_detail d;

static int staff(const char *body)
{
    memset(&d, 0, sizeof d);
    return be_complaint_new_read(body, strlen(body), BE_COMPLAINT_STAFF, &c, &d);
}

static int public_page(const char *body)
{
    memset(&d, 0, sizeof d);
    return be_complaint_new_read(body, strlen(body), BE_COMPLAINT_PUBLIC, &c, &d);
}

static int move(const char *body)
{
    memset(&d, 0, sizeof d);
    return be_complaint_move_read(body, strlen(body), &m, &d);
}

static void refused(int rc, const char *field)
{
    assert_int_not_equal(rc, 0);
    assert_string_equal(d.field, field);
    assert_true(d.message[0] != '\0');
}

static void test_staff(void **state)
{
    (void)state;
    assert_int_equal(staff("{\"source\":\"phone\",\"cause\":\"rudeness\",\"text\":\"Нагрубила\","
                           "\"provider_id\":\"" PROVIDER "\",\"phone\":\"+7 912 000-00-00\"}"),
                     0);
    assert_string_equal(c.provider_id, PROVIDER);
    assert_string_equal(c.source, "phone");
    /* an id in capitals comes out canonical */
    assert_int_equal(staff("{\"source\":\"follow_up\",\"cause\":\"other\",\"text\":\"x\","
                           "\"visit_id\":\"40414243-4445-4647-4849-4A4B4C4D4E4F\"}"),
                     0);
    assert_string_equal(c.visit_id, VISIT);
    refused(staff("{\"source\":\"public\",\"cause\":\"other\",\"text\":\"x\",\"visit_id\":\"" VISIT
                  "\"}"),
            "source");
    refused(staff("{\"source\":\"phone\",\"cause\":\"Other\",\"text\":\"x\",\"visit_id\":\"" VISIT
                  "\"}"),
            "cause");
    refused(staff("{\"source\":\"phone\",\"cause\":\"other\",\"text\":\"  \",\"visit_id\":\"" VISIT
                  "\"}"),
            "text");
    refused(staff("{\"source\":\"phone\",\"cause\":\"other\",\"text\":\"x\"}"), "visit_id");
    refused(staff("{\"source\":\"phone\",\"cause\":\"other\",\"text\":\"x\",\"visit_id\":\"" VISIT
                  "\",\"provider_id\":\"" PROVIDER "\"}"),
            "provider_id");
    refused(staff("{\"source\":\"phone\",\"cause\":\"other\",\"text\":\"x\",\"visit_id\":\"v\"}"),
            "visit_id");
    refused(
        staff("{\"source\":\"phone\",\"cause\":\"other\",\"text\":\"x\",\"provider_id\":\"" PROVIDER
              "\",\"phone\":\"call me\"}"),
        "phone");
    refused(
        staff("{\"source\":\"phone\",\"cause\":\"other\",\"text\":\"x\",\"provider_id\":\"" PROVIDER
              "\",\"secret\":\"" SECRET "\"}"),
        "secret");
}

static void test_public(void **state)
{
    (void)state;
    assert_int_equal(public_page("{\"about\":\"office\",\"appointment_id\":\"" VISIT
                                 "\",\"secret\":\"" SECRET "\",\"cause\":\"office_waiting\","
                                 "\"text\":\"Ждала 40 минут\"}"),
                     0);
    assert_string_equal(c.source, "public");
    assert_string_equal(c.secret, SECRET);
    assert_int_equal(public_page("{\"about\":\"home\",\"number\":\"2026-000777\",\"code\":"
                                 "\"1234567890\",\"visit_date\":\"2026-11-22\",\"cause\":"
                                 "\"short_visit\",\"text\":\"Пробыла 10 минут\"}"),
                     0);
    assert_string_equal(c.number, "2026-000777");
    refused(public_page("{\"about\":\"visit\",\"cause\":\"other\",\"text\":\"x\"}"), "about");
    refused(public_page("{\"about\":\"office\",\"appointment_id\":\"" VISIT "\",\"secret\":\"ABC\","
                        "\"cause\":\"other\",\"text\":\"x\"}"),
            "secret");
    /* a home visit's proof is the application's, not a booking's */
    refused(public_page("{\"about\":\"home\",\"appointment_id\":\"" VISIT "\",\"cause\":\"other\","
                        "\"text\":\"x\"}"),
            "appointment_id");
    refused(public_page("{\"about\":\"home\",\"number\":\"2026-7\",\"code\":\"1234567890\","
                        "\"cause\":\"other\",\"text\":\"x\"}"),
            "number");
    refused(public_page("{\"about\":\"home\",\"number\":\"2026-000777\",\"code\":\"12345\","
                        "\"cause\":\"other\",\"text\":\"x\"}"),
            "code");
    refused(public_page("{\"about\":\"home\",\"number\":\"2026-000777\",\"code\":\"1234567890\","
                        "\"visit_date\":\"2026-13-01\",\"cause\":\"other\",\"text\":\"x\"}"),
            "visit_date");
    refused(public_page("{\"about\":\"office\",\"appointment_id\":\"" VISIT
                        "\",\"secret\":\"" SECRET
                        "\",\"cause\":\"other\",\"text\":\"x\",\"provider_id\":\"" PROVIDER "\"}"),
            "provider_id");
}

static void test_move(void **state)
{
    (void)state;
    assert_int_equal(move("{\"to\":\"answered\",\"answer\":\"Замечание сделано\",\"cause\":"
                          "\"lateness\"}"),
                     0);
    assert_string_equal(m.cause, "lateness");
    assert_int_equal(move("{\"to\":\"closed\"}"), 0);
    assert_int_equal(move("{\"to\":\"open\"}"), 0);
    refused(move("{\"to\":\"answered\"}"), "answer");
    refused(move("{\"to\":\"answered\",\"answer\":\" \"}"), "answer");
    refused(move("{\"to\":\"\"}"), "to");
    refused(move("{\"to\":\"deleted\"}"), "to");
    refused(move("{\"to\":\"closed\",\"cause\":\"Late!\"}"), "cause");
    refused(move("{\"to\":\"closed\",\"by\":\"me\"}"), "by");
}

/* The citizen's look-up: the number as people type it, read into its one form (mutant
 * complaints.number-leading-zeros). */
static void test_lookup(void **state)
{
    (void)state;
    struct be_complaint_lookup l;
    char out[BE_COMPLAINT_NUMBER_MAX + 1];
    static const char *const same[] = {"Ж-000042", "ж-000042", "Ж000042", "42",
                                       "ж-42",     "0000042",  " Ж-42 ",  NULL};
    for (size_t i = 0; same[i]; i++) {
        assert_int_equal(be_complaint_number_canonical(same[i], out), 0);
        assert_string_equal(out, "Ж-000042");
    }
    assert_int_equal(be_complaint_number_canonical("Ж-1234567", out), 0);
    assert_string_equal(out, "Ж-1234567");
    assert_int_equal(be_complaint_number_canonical("0", out), 0);
    assert_string_equal(out, "Ж-000000");
    static const char *const wrong[] = {"",    "Ж-",   "Ж--42",         "2026-000123",
                                        "42a", "Ю-42", "1234567890123", NULL};
    for (size_t i = 0; wrong[i]; i++)
        assert_int_not_equal(be_complaint_number_canonical(wrong[i], out), 0);

    const char good[] = "{\"number\":\"ж-42\",\"code\":\"0123456789\"}";
    memset(&d, 0, sizeof d);
    assert_int_equal(be_complaint_lookup_read(good, strlen(good), &l, &d), 0);
    assert_string_equal(l.number, "Ж-000042");
    assert_string_equal(l.code, "0123456789");
    const char short_code[] = "{\"number\":\"Ж-000042\",\"code\":\"012345678\"}";
    refused(be_complaint_lookup_read(short_code, strlen(short_code), &l, &d), "code");
    const char bad_number[] = "{\"number\":\"abc\",\"code\":\"0123456789\"}";
    refused(be_complaint_lookup_read(bad_number, strlen(bad_number), &l, &d), "number");
    const char extra[] = "{\"number\":\"42\",\"code\":\"0123456789\",\"name\":\"x\"}";
    refused(be_complaint_lookup_read(extra, strlen(extra), &l, &d), "name");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_staff),
        cmocka_unit_test(test_public),
        cmocka_unit_test(test_move),
        cmocka_unit_test(test_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
