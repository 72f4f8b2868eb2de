/* Query strings of GET requests (be/query.h): the values as decoded, every refusal with
 * its code and the parameter it names (unknown, repeated, bad %-escape, too long, a
 * control character, a query over the cap), and the RFC 3339 time check the list
 * filters use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "be/query.h"

/* The parameters of one test: state (16 bytes), limit (8), from (40), flag (4). */
struct params {
    char state[16], limit[8], from[40], flag[4];
    struct be_query_param list[4];
};

static void params_init(struct params *p)
{
    memset(p, 'x', sizeof *p); /* stale values must be cleared by the parser */
    p->list[0] = (struct be_query_param){"state", p->state, sizeof p->state};
    p->list[1] = (struct be_query_param){"limit", p->limit, sizeof p->limit};
    p->list[2] = (struct be_query_param){"from", p->from, sizeof p->from};
    p->list[3] = (struct be_query_param){"flag", p->flag, sizeof p->flag};
}

static int parse(struct params *p, const char *query, struct cf_error_detail *d)
{
    params_init(p);
    memset(d, 0, sizeof *d);
    return be_query_parse(query, p->list, 4, d);
}

/* query must be refused with code, naming field, the message holding `says`. */
static void expect_refused(const char *query, int code, const char *field, const char *says)
{
    struct params p;
    struct cf_error_detail d;
    int rc = parse(&p, query, &d);
    if (rc != code)
        fail_msg("'%s': returned %d, want %d", query, rc, code);
    assert_int_equal(d.code, code);
    assert_string_equal(d.field, field);
    if (!strstr(d.message, says))
        fail_msg("'%s': message '%s' does not say '%s'", query, d.message, says);
}

static void test_values(void **state)
{
    (void)state;
    struct params p;
    struct cf_error_detail d;
    assert_int_equal(parse(&p, "state=ended&limit=50", &d), 0);
    assert_string_equal(p.state, "ended");
    assert_string_equal(p.limit, "50");
    assert_string_equal(p.from, ""); /* absent: empty, not the stale bytes */
    assert_string_equal(p.flag, "");
    /* Order does not matter; '+' is a space; %-escapes in either case. */
    assert_int_equal(parse(&p, "from=2026-11-22T09%3a00%3A00%2B03:00&state=a+b%21", &d), 0);
    assert_string_equal(p.from, "2026-11-22T09:00:00+03:00");
    assert_string_equal(p.state, "a b!");
    /* UTF-8 passes byte for byte. */
    assert_int_equal(parse(&p, "state=%D0%B4%D0%B0", &d), 0);
    assert_string_equal(p.state, "да");
}

static void test_empty_and_odd_shapes(void **state)
{
    (void)state;
    struct params p;
    struct cf_error_detail d;
    assert_int_equal(parse(&p, NULL, &d), 0);
    assert_string_equal(p.state, "");
    assert_string_equal(p.flag, "");
    assert_int_equal(parse(&p, "", &d), 0);
    assert_string_equal(p.limit, "");
    /* Empty pieces are skipped; a name without '=' has the empty value. */
    assert_int_equal(parse(&p, "&state=a&&limit=1&", &d), 0);
    assert_string_equal(p.state, "a");
    assert_string_equal(p.limit, "1");
    assert_int_equal(parse(&p, "flag&state=", &d), 0);
    assert_string_equal(p.flag, "");
    assert_string_equal(p.state, "");
    /* A value may hold '='. */
    assert_int_equal(parse(&p, "state=a=b", &d), 0);
    assert_string_equal(p.state, "a=b");
}

static void test_unknown_and_repeated(void **state)
{
    (void)state;
    expect_refused("state=ended&mood=ok", CF_EFIELD_UNKNOWN, "", "'mood'");
    expect_refused("stat=ended", CF_EFIELD_UNKNOWN, "", "'stat'");
    expect_refused("states=ended", CF_EFIELD_UNKNOWN, "", "'states'");
    expect_refused("=1", CF_EFIELD_UNKNOWN, "", "unknown query parameter");
    expect_refused("limit=1&state=a&limit=2", CF_EFIELD_RANGE, "limit", "given twice");
    expect_refused("flag&flag", CF_EFIELD_RANGE, "flag", "given twice");
}

static void test_bad_escapes_and_control_characters(void **state)
{
    (void)state;
    expect_refused("state=%zz", CF_EMALFORM, "state", "%-escape");
    expect_refused("state=%4", CF_EMALFORM, "state", "%-escape");
    expect_refused("state=ab%", CF_EMALFORM, "state", "%-escape");
    expect_refused("state=%%41", CF_EMALFORM, "state", "%-escape");
    expect_refused("state=a%0ab", CF_EFIELD_RANGE, "state", "control character");
    expect_refused("state=%00", CF_EFIELD_RANGE, "state", "control character");
    expect_refused("state=%7F", CF_EFIELD_RANGE, "state", "control character");
    expect_refused("state=a\tb", CF_EFIELD_RANGE, "state", "control character");
}

static void test_lengths(void **state)
{
    (void)state;
    struct params p;
    struct cf_error_detail d;
    /* flag holds 3 bytes: 3 decoded bytes fit, 4 do not, however they were written. */
    assert_int_equal(parse(&p, "flag=abc", &d), 0);
    assert_string_equal(p.flag, "abc");
    assert_int_equal(parse(&p, "flag=%61%62%63", &d), 0);
    assert_string_equal(p.flag, "abc");
    expect_refused("flag=abcd", CF_EFIELD_RANGE, "flag", "too long");
    expect_refused("flag=ab%63d", CF_EFIELD_RANGE, "flag", "too long");

    /* The whole query: BE_QUERY_MAX bytes pass the cap, one more does not. */
    char query[BE_QUERY_MAX + 2];
    memset(query, '&', sizeof query - 1);
    query[sizeof query - 1] = '\0';
    memcpy(query, "state=ok", 8);
    expect_refused(query, CF_ETOOBIG, "", "longer than 2048");
    query[BE_QUERY_MAX] = '\0';
    assert_int_equal(parse(&p, query, &d), 0);
    assert_string_equal(p.state, "ok");
}

static void test_too_many_parameters(void **state)
{
    (void)state;
    char values[BE_QUERY_PARAMS_MAX + 1][4];
    struct be_query_param list[BE_QUERY_PARAMS_MAX + 1];
    for (size_t i = 0; i < BE_QUERY_PARAMS_MAX + 1; i++)
        list[i] = (struct be_query_param){"p", values[i], sizeof values[i]};
    assert_int_equal(be_query_parse("", list, BE_QUERY_PARAMS_MAX + 1, NULL), CF_EINVAL);
    assert_int_equal(be_query_parse("", list, BE_QUERY_PARAMS_MAX, NULL), 0);
    /* No detail wanted: still refused. */
    assert_int_equal(be_query_parse("q=1", list, 1, NULL), CF_EFIELD_UNKNOWN);
}

static void test_times(void **state)
{
    (void)state;
    static const char *const valid[] = {
        "2026-11-22",
        "2026-11-22T09:00:00Z",
        "2026-11-22T09:00:00.5Z",
        "2026-11-22T09:00:00.123456789+03:00",
        "2026-11-22T23:59:60-12:30", /* a leap second */
        "1970-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2024-02-29",
        "2000-02-29T00:00:00Z",
    };
    static const char *const invalid[] = {
        "",
        "2026-11",
        "2026-11-22T",
        "2026-11-22 09:00:00Z",
        "2026-11-22T09:00:00", /* no zone */
        "2026-11-22T09:00Z",
        "2026-11-22t09:00:00Z",
        "2026-11-22T09:00:00z",
        "1969-12-31T23:59:59Z",
        "2026-13-01",
        "2026-00-10",
        "2026-11-00",
        "2026-11-31",
        "2025-02-29",
        "1900-02-29",
        "2100-02-29",
        "2026-11-22T24:00:00Z",
        "2026-11-22T09:60:00Z",
        "2026-11-22T09:00:61Z",
        "2026-11-22T09:00:00.Z",
        "2026-11-22T09:00:00.1234567890Z",
        "2026-11-22T09:00:00+3:00",
        "2026-11-22T09:00:00+03:60",
        "2026-11-22T09:00:00+24:00",
        "2026-11-22T09:00:00+0300",
        "2026-11-22T09:00:00Z ",
        "2026-11-22x",
        "2O26-11-22",
        "+026-11-22",
    };
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        if (!be_time_text_valid(valid[i]))
            fail_msg("'%s' refused", valid[i]);
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        if (be_time_text_valid(invalid[i]))
            fail_msg("'%s' accepted", invalid[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_empty_and_odd_shapes),
        cmocka_unit_test(test_unknown_and_repeated),
        cmocka_unit_test(test_bad_escapes_and_control_characters),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_too_many_parameters),
        cmocka_unit_test(test_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
