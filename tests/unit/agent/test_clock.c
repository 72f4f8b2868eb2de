/* Unit tests of the agent's clock texts and parsers (ag/clock.h): RFC 3339 times with
 * offsets and fractions, calendar dates with leap years, and the Russian duration
 * text at each unit's boundary. The clocks themselves (boot id, offsets) are covered
 * end to end by e2e.agent.visit.clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ag/clock.h"
#include "cf/error.h"

#define T_2026_05_01_0900Z INT64_C(1777626000000) /* 2026-05-01T09:00:00Z */

static int64_t parsed(const char *text)
{
    int64_t ms = -1;
    if (ag_parse_time(text, &ms) != 0)
        fail_msg("'%s' refused", text);
    return ms;
}

static void test_time_offsets(void **state)
{
    (void)state;
    assert_int_equal(parsed("2026-05-01T09:00:00Z"), T_2026_05_01_0900Z);
    /* The offset is the local time's lead over UTC: 12:00+03:00 is 09:00Z (mutant
     * clock.offset-sign). */
    assert_int_equal(parsed("2026-05-01T12:00:00+03:00"), T_2026_05_01_0900Z);
    assert_int_equal(parsed("2026-05-01T05:30:00-03:30"), T_2026_05_01_0900Z);
    assert_int_equal(parsed("2026-05-01 09:00:00+00:00"), T_2026_05_01_0900Z);
    assert_int_equal(parsed("2026-05-01T09:00:00.5Z"), T_2026_05_01_0900Z + 500);
    assert_int_equal(parsed("2026-05-01T09:00:00.123456Z"), T_2026_05_01_0900Z + 123);
    assert_int_equal(parsed("1970-01-01T00:00:00Z"), 0);
}

static void test_time_refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "2026-05-01T09:00:00",  "2026-05-01T09:00:00+0300", "2026-05-01T24:00:00Z",
        "2026-05-01T09:60:00Z", "2026-05-01T09:00:00.Z",    "2026-13-01T09:00:00Z",
        "2026-02-29T09:00:00Z", "2026-05-01X09:00:00Z",     "2026-05-01T09:00:00+24:00",
        "1969-12-31T23:59:59Z", "2026-05-01T09:00:00Zjunk", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 0;
        if (ag_parse_time(bad[i], &ms) != CF_EMALFORM)
            fail_msg("'%s' accepted", bad[i]);
    }
    int64_t ms = 0;
    assert_int_equal(ag_parse_time(NULL, &ms), CF_EMALFORM);
}

static void test_dates_and_leap_years(void **state)
{
    (void)state;
    assert_int_equal(ag_parse_date("2024-02-29"), 0);
    /* Every 400th year is a leap year, other centuries are not (mutant clock.leap-400). */
    assert_int_equal(ag_parse_date("2000-02-29"), 0);
    assert_int_equal(ag_parse_date("2100-02-29"), CF_EMALFORM);
    assert_int_equal(ag_parse_date("2026-02-29"), CF_EMALFORM);
    assert_int_equal(ag_parse_date("2026-04-31"), CF_EMALFORM);
    assert_int_equal(ag_parse_date("2026-12-31"), 0);
    assert_int_equal(ag_parse_date("2026-00-10"), CF_EMALFORM);
    assert_int_equal(ag_parse_date("2026-01-00"), CF_EMALFORM);
    assert_int_equal(ag_parse_date("2026-1-10"), CF_EMALFORM);
    assert_int_equal(ag_parse_date("2026-01-10T"), CF_EMALFORM);
    assert_int_equal(ag_parse_date(NULL), CF_EMALFORM);
    assert_int_equal(parsed("2000-02-29T00:00:00Z"), INT64_C(951782400000));
    assert_int_equal(parsed("2000-03-01T00:00:00Z"), INT64_C(951868800000));
}

static void expect_duration(int64_t ms, const char *text)
{
    char out[32];
    ag_duration_text(ms, out);
    if (strcmp(out, text) != 0)
        fail_msg("%lld ms: '%s', want '%s'", (long long)ms, out, text);
}

static void test_duration_text_at_each_boundary(void **state)
{
    (void)state;
    expect_duration(0, "0 с");
    expect_duration(59999, "59 с");
    expect_duration(60000, "1 мин");
    expect_duration(3599999, "59 мин");
    /* An hour is shown in hours (mutant clock.duration-hours). */
    expect_duration(3600000, "1 ч 00 мин");
    expect_duration(2 * 3600000 + 5 * 60000, "2 ч 05 мин");
    expect_duration(86399999, "23 ч 59 мин");
    expect_duration(86400000, "1 дн 0 ч");
    expect_duration(3 * 86400000 + 4 * 3600000, "3 дн 4 ч");
    expect_duration(-90000, "-1 мин");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_offsets),
        cmocka_unit_test(test_time_refusals),
        cmocka_unit_test(test_dates_and_leap_years),
        cmocka_unit_test(test_duration_text_at_each_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
