/* Unit tests for UUIDs and time helpers (cf/uuid.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cf/uuid.h"

static void test_text_round_trip(void **state)
{
    (void)state;
    uint8_t id[16], back[16];
    char text[37];
    assert_int_equal(cf_uuid_from_text("0190A6E4-7b1c-7d3e-8f00-1234567890ab", id), 0);
    cf_uuid_to_text(id, text);
    assert_string_equal(text, "0190a6e4-7b1c-7d3e-8f00-1234567890ab");
    assert_int_equal(cf_uuid_from_text(text, back), 0);
    assert_memory_equal(id, back, 16);
    assert_false(cf_uuid_is_nil(id));
    memset(id, 0, 16);
    assert_true(cf_uuid_is_nil(id));
}

static void test_bad_text(void **state)
{
    (void)state;
    uint8_t id[16];
    assert_int_equal(cf_uuid_from_text("0190a6e4-7b1c-7d3e-8f00-1234567890a", id), CF_EMALFORM);
    assert_int_equal(cf_uuid_from_text("0190a6e4-7b1c-7d3e-8f00-1234567890abc", id), CF_EMALFORM);
    assert_int_equal(cf_uuid_from_text("0190a6e47b1c-7d3e-8f00-1234567890abcd", id), CF_EMALFORM);
    assert_int_equal(cf_uuid_from_text("0190a6e4-7b1c-7d3e-8f00-1234567890ag", id), CF_EMALFORM);
    assert_int_equal(cf_uuid_from_text("", id), CF_EMALFORM);
    assert_int_equal(cf_uuid_from_text(NULL, id), CF_EMALFORM);
    assert_int_equal(cf_uuid_from_text("{190a6e4-7b1c-7d3e-8f00-1234567890ab", id), CF_EMALFORM);
    assert_int_equal(cf_uuid_from_text("0190a6e4-7b1c-7d3e-8f00+1234567890ab", id), CF_EMALFORM);
    assert_int_equal(cf_uuid_from_text("0190a6e4-7b1c-7d3e-8f0-01234567890ab", id), CF_EMALFORM);
    assert_int_equal(cf_uuid_from_text(" 190a6e4-7b1c-7d3e-8f00-1234567890ab", id), CF_EMALFORM);
    /* A failed parse leaves the output as it was. */
    memset(id, 0x5a, sizeof id);
    assert_int_equal(cf_uuid_from_text("0190a6e4-7b1c-7d3e-8f00-1234567890ax", id), CF_EMALFORM);
    for (size_t i = 0; i < sizeof id; i++)
        assert_int_equal(id[i], 0x5a);
}

static void test_versions_and_order(void **state)
{
    (void)state;
    uint8_t a[16], b[16], c[16];
    assert_int_equal(cf_uuid_v4(a), 0);
    assert_int_equal(a[6] >> 4, 4);
    assert_int_equal(a[8] & 0xc0, 0x80);
    assert_int_equal(cf_uuid_v7(INT64_C(1795338000000), b), 0);
    assert_int_equal(cf_uuid_v7(INT64_C(1795338000001), c), 0);
    assert_int_equal(b[6] >> 4, 7);
    assert_int_equal(b[8] & 0xc0, 0x80);
    /* The first 48 bits are the time, big-endian: later ids sort after. */
    const uint8_t want[6] = {0x01, 0xa2, 0x02, 0x7b, 0xd6, 0x80}; /* 1795338000000 */
    assert_memory_equal(b, want, 6);
    assert_true(memcmp(b, c, 16) < 0);
    assert_int_equal(cf_uuid_v7(-1, c), CF_EINVAL);
    assert_int_equal(cf_uuid_v7(INT64_C(0x1000000000000), c), CF_EINVAL); /* 2^48 */
    assert_int_equal(cf_uuid_v7(INT64_C(0xffffffffffff), c), 0);
    assert_memory_equal(c, "\xff\xff\xff\xff\xff\xff", 6);

    /* Text order follows time order too (what a database index on the text sees), and
     * random bits differ between two ids of the same millisecond. */
    char t1[37], t2[37];
    for (int64_t ms = INT64_C(1795338000000); ms < INT64_C(1795338000000) + 300; ms += 7) {
        assert_int_equal(cf_uuid_v7(ms, b), 0);
        assert_int_equal(cf_uuid_v7(ms + 1 + ms % 5, c), 0);
        cf_uuid_to_text(b, t1);
        cf_uuid_to_text(c, t2);
        assert_true(strcmp(t1, t2) < 0);
        assert_int_equal(t1[14], '7');
        assert_true(strchr("89ab", t1[19]) != NULL);
    }
    assert_int_equal(cf_uuid_v7(INT64_C(1795338000000), b), 0);
    assert_int_equal(cf_uuid_v7(INT64_C(1795338000000), c), 0);
    assert_memory_equal(b, c, 6);
    assert_memory_not_equal(b + 6, c + 6, 10);
    assert_int_equal(cf_uuid_v4(c), 0);
    assert_memory_not_equal(a, c, 16);
}

static void test_time_format(void **state)
{
    (void)state;
    char text[32];
    assert_int_equal(cf_time_format_utc(0, text, sizeof text), 0);
    assert_string_equal(text, "1970-01-01T00:00:00.000Z");
    assert_int_equal(cf_time_format_utc(INT64_C(1795338000123), text, sizeof text), 0);
    assert_string_equal(text, "2026-11-22T09:00:00.123Z");
    assert_int_equal(cf_time_format_utc(INT64_C(951782400000), text, sizeof text), 0);
    assert_string_equal(text, "2000-02-29T00:00:00.000Z");
    assert_int_equal(cf_time_format_utc(-1, text, sizeof text), CF_EINVAL);
    assert_int_equal(cf_time_format_utc(INT64_C(1709251199999), text, sizeof text), 0);
    assert_string_equal(text, "2024-02-29T23:59:59.999Z"); /* leap day */
    assert_int_equal(cf_time_format_utc(INT64_C(4107542400000), text, sizeof text), 0);
    assert_string_equal(text, "2100-03-01T00:00:00.000Z"); /* 2100 is no leap year */
    assert_int_equal(cf_time_format_utc(INT64_C(4133980799999), text, sizeof text), 0);
    assert_string_equal(text, "2100-12-31T23:59:59.999Z");
    assert_int_equal(cf_time_format_utc(INT64_C(253402300799999), text, sizeof text), 0);
    assert_string_equal(text, "9999-12-31T23:59:59.999Z");
    assert_int_equal(cf_time_format_utc(INT64_C(253402300800000), text, sizeof text), CF_EINVAL);
    assert_int_equal(cf_time_format_utc(INT64_C(1795338000123), text, 25), 0); /* exact fit */
    assert_int_equal(strlen(text), 24);
    assert_int_equal(cf_time_format_utc(INT64_C(1795338000123), text, 24), CF_EINVAL);
    int year = 0, month = 0, day = 0;
    cf_time_civil_date(INT64_C(1795338000123), &year, &month, &day);
    assert_int_equal(year * 10000 + month * 100 + day, 20261122);
    cf_time_civil_date(-1, &year, &month, &day); /* one ms before the epoch */
    assert_int_equal(year * 10000 + month * 100 + day, 19691231);
    assert_int_equal(cf_time_format_utc(0, text, 10), CF_EINVAL);
    assert_true(cf_time_now_ms() > INT64_C(1700000000000));
    int64_t m1 = cf_time_mono_ms(), m2 = cf_time_mono_ms();
    assert_true(m2 >= m1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_round_trip),
        cmocka_unit_test(test_bad_text),
        cmocka_unit_test(test_versions_and_order),
        cmocka_unit_test(test_time_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
