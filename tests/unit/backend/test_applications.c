/* The approval's programme as the transition's body reader checks it
 * (be_application_move_read, be/applications.h): a good programme is kept as compact
 * JSON; a programme without an approval, an approval without one, and each wrong field
 * are refused naming the field — the term reversed, a weekday out of range or twice, a
 * time past 23:59, a service twice, a rule's service outside the programme's, a huge
 * number where a weekday goes. Pure: no database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "be/applications.h"

#define GOOD                                                                                       \
    "{\"provider_id\":\"00000000-0000-4000-8000-000000000002\",\"valid_from\":\"2026-12-08\","     \
    "\"valid_to\":\"2027-12-07\",\"services\":[{\"code\":\"HH-SHOP\",\"volume\":12,\"period\":"    \
    "\"month\"},{\"code\":\"HH-CLEAN\",\"volume\":4,\"period\":\"year\"}],\"rules\":[{"            \
    "\"worker_id\":\"00000000-0000-4000-8000-0000000000a1\",\"weekdays\":[1,3,5],\"time\":"        \
    "\"10:00\",\"services\":[\"HH-SHOP\"]}]}"

static int read_move(const char *body, struct be_application_move *m, struct cf_error_detail *d)
{
    memset(d, 0, sizeof *d);
    return be_application_move_read(body, strlen(body), m, d);
}

/* The approval with GOOD where `from` is replaced by `to` must be refused naming field. */
static void expect_refused(const char *from, const char *to, const char *field)
{
    char programme[2048], body[2200];
    const char *at = strstr(GOOD, from);
    assert_non_null(at);
    snprintf(programme, sizeof programme, "%.*s%s%s", (int)(at - GOOD), GOOD, to,
             at + strlen(from));
    snprintf(body, sizeof body, "{\"to\":\"approved\",\"programme\":%s}", programme);
    struct be_application_move m;
    struct cf_error_detail d;
    int rc = read_move(body, &m, &d);
    if (rc == 0 || strcmp(d.field, field) != 0)
        fail_msg("%s -> %s: rc %d field '%s', want '%s'", from, to, rc, d.field, field);
    assert_null(m.programme);
    be_application_move_cleanup(&m);
}

static void test_good_programme(void **state)
{
    (void)state;
    struct be_application_move m;
    struct cf_error_detail d;
    assert_int_equal(read_move("{\"to\":\"approved\",\"programme\":" GOOD "}", &m, &d), 0);
    assert_string_equal(m.to, "approved");
    assert_non_null(m.programme);
    assert_string_equal(m.programme, GOOD); /* compact, as sent */
    be_application_move_cleanup(&m);
    assert_null(m.programme);
    be_application_move_cleanup(NULL);
}

static void test_programme_only_with_approval(void **state)
{
    (void)state;
    struct be_application_move m;
    struct cf_error_detail d;
    assert_int_not_equal(read_move("{\"to\":\"approved\"}", &m, &d), 0);
    assert_string_equal(d.field, "programme");
    assert_int_not_equal(
        read_move("{\"to\":\"refused\",\"reason\":\"x\",\"programme\":" GOOD "}", &m, &d), 0);
    assert_string_equal(d.field, "programme");
    assert_null(m.programme);
    assert_int_equal(read_move("{\"to\":\"refused\",\"reason\":\"Нет права\"}", &m, &d), 0);
    assert_null(m.programme);
}

static void test_wrong_fields(void **state)
{
    (void)state;
    expect_refused("\"valid_to\":\"2027-12-07\"", "\"valid_to\":\"2026-12-07\"",
                   "programme.valid_to");
    expect_refused("\"valid_from\":\"2026-12-08\"", "\"valid_from\":\"2026-02-30\"",
                   "programme.valid_from");
    expect_refused("\"00000000-0000-4000-8000-000000000002\"", "\"p1\"", "programme.provider_id");
    expect_refused("[1,3,5]", "[1,3,8]", "programme.rules[0].weekdays[2]");
    expect_refused("[1,3,5]", "[1,3,3]", "programme.rules[0].weekdays[2]");
    expect_refused("[1,3,5]", "[1,3,9e300]", "programme.rules[0].weekdays[2]");
    expect_refused("[1,3,5]", "[1,3,2.5]", "programme.rules[0].weekdays[2]");
    expect_refused("[1,3,5]", "[]", "programme.rules[0].weekdays");
    expect_refused("\"10:00\"", "\"24:00\"", "programme.rules[0].time");
    expect_refused("\"10:00\"", "\"10:60\"", "programme.rules[0].time");
    expect_refused("[\"HH-SHOP\"]}]", "[\"HH-COOK\"]}]", "programme.rules[0].services[0]");
    expect_refused("\"HH-CLEAN\",\"volume\"", "\"HH-SHOP\",\"volume\"",
                   "programme.services[1].code");
    expect_refused("\"volume\":12", "\"volume\":0", "programme.services[0].volume");
    expect_refused("\"period\":\"year\"", "\"period\":\"week\"", "programme.services[1].period");
    expect_refused("\"valid_from\"", "\"colour\":1,\"valid_from\"", "programme.colour");
}

/* The funnel's month: YYYY-MM, a real month from 2000. */
static void test_funnel_month(void **state)
{
    (void)state;
    static const char *const good[] = {"2000-01", "2026-12", "9999-09"};
    static const char *const bad[] = {"",        "2026",    "2026-1",     "2026-00",
                                      "2026-13", "1999-12", "2026-12-01", "2026/12",
                                      "+026-12", "2026-1x", "2026-12 "};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(be_funnel_month_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (be_funnel_month_valid(bad[i]))
            fail_msg("month '%s' was taken", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_programme),
        cmocka_unit_test(test_programme_only_with_approval),
        cmocka_unit_test(test_wrong_fields),
        cmocka_unit_test(test_funnel_month),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
