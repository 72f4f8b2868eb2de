/* The trips module's pure readers (be/trips.h): a trip (settlements in the order visited,
 * each leaving after it arrives and none arriving before the one before leaves; members
 * each one id, none twice; named partners), a transition, and a booking on a trip (a home
 * survey or an aid hand-over, in a settlement, for a person with a phone) — each refusal
 * naming its field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "be/trips.h"

#define WORKER "0c000000-0000-4000-8000-0000000000c1"

static struct be_trip t;
static struct cf_error_detail d;

static int trip(const char *body)
{
    memset(&d, 0, sizeof d);
    return be_trip_read(body, strlen(body), &t, &d);
}

/* A trip with these settlements (a JSON array's inside) and members. */
static int trip_with(const char *settlements, const char *members)
{
    char body[2048];
    snprintf(body, sizeof body,
             "{\"day\":\"2026-12-12\",\"title\":\"Выезд\",\"settlements\":[%s],\"members\":[%s]}",
             settlements, members);
    return trip(body);
}

static void test_trip_accepted(void **state)
{
    (void)state;
    assert_int_equal(trip_with("{\"name\":\"д. Ивановка\",\"place\":\"у магазина\",\"arrives\":"
                               "\"10:00\",\"leaves\":\"12:00\"},{\"name\":\"с. Алёхово\","
                               "\"arrives\":\"12:00\",\"leaves\":\"24:00\"}",
                               "{\"worker_id\":\"0C000000-0000-4000-8000-0000000000C1\","
                               "\"duty\":\"соцработник\"}"),
                     0);
    assert_int_equal(t.settlement_count, 2);
    assert_int_equal(t.settlements[0].arrives, 600);
    assert_int_equal(t.settlements[1].leaves, 1440);
    assert_int_equal(t.slot_minutes, 30);
    assert_string_equal(t.members[0].worker_id, WORKER); /* canonical */
    assert_string_equal(t.settlements[0].place, "у магазина");
}

static void test_trip_refused(void **state)
{
    (void)state;
    /* mutant trips.order-unchecked: the next settlement arrives before the last is left */
    assert_int_not_equal(trip_with("{\"name\":\"a\",\"arrives\":\"10:00\",\"leaves\":\"12:00\"},"
                                   "{\"name\":\"b\",\"arrives\":\"11:59\",\"leaves\":\"13:00\"}",
                                   ""),
                         0);
    assert_string_equal(d.field, "settlements[1].arrives");
    assert_int_not_equal(
        trip_with("{\"name\":\"a\",\"arrives\":\"12:00\",\"leaves\":\"12:00\"}", ""), 0);
    assert_string_equal(d.field, "settlements[0].leaves");
    assert_int_not_equal(
        trip_with("{\"name\":\"a\",\"arrives\":\"24:00\",\"leaves\":\"24:00\"}", ""), 0);
    assert_string_equal(d.field, "settlements[0].arrives");
    assert_int_not_equal(trip_with("", ""), 0);
    assert_string_equal(d.field, "settlements");
    assert_int_not_equal(trip_with("{\"name\":\"a\",\"arrives\":\"10:00\",\"leaves\":\"12:00\"}",
                                   "{\"worker_id\":\"" WORKER "\"},{\"worker_id\":\"" WORKER "\"}"),
                         0);
    assert_string_equal(d.field, "members[1]");
    assert_int_not_equal(trip_with("{\"name\":\"a\",\"arrives\":\"10:00\",\"leaves\":\"12:00\"}",
                                   "{\"worker_id\":\"" WORKER "\",\"user_id\":\"" WORKER "\"}"),
                         0);
    assert_string_equal(d.field, "members[0]");
    assert_int_not_equal(trip("{\"day\":\"2026-13-12\",\"title\":\"x\",\"settlements\":[]}"), 0);
    assert_string_equal(d.field, "day");
    assert_int_not_equal(trip("{\"day\":\"2026-12-12\",\"title\":\" \",\"settlements\":[]}"), 0);
    assert_string_equal(d.field, "title");
    assert_int_not_equal(trip("{\"day\":\"2026-12-12\",\"title\":\"x\",\"slot_minutes\":5,"
                              "\"settlements\":[]}"),
                         0);
    assert_string_equal(d.field, "slot_minutes");
    assert_int_not_equal(trip("{\"day\":\"2026-12-12\",\"title\":\"x\",\"crew\":[]}"), 0);
    assert_string_equal(d.field, "crew");
}

static void test_move_and_booking(void **state)
{
    (void)state;
    struct be_trip_move m;
    struct be_trip_booking b;
    const char *cancel = "{\"to\":\"cancelled\",\"reason\":\"Паводок\"}";
    assert_int_equal(be_trip_move_read(cancel, strlen(cancel), &m, &d), 0);
    assert_string_equal(m.to, "cancelled");
    const char *planned = "{\"to\":\"planned\"}";
    assert_int_not_equal(be_trip_move_read(planned, strlen(planned), &m, &d), 0);
    assert_string_equal(d.field, "to");
    const char *booking = "{\"settlement\":2,\"start\":\"2026-12-12T13:30:00+03:00\","
                          "\"kind\":\"aid_handover\",\"person_name\":\"Смирнова Вера\","
                          "\"phone\":\"8 (912) 345-67-89\"}";
    assert_int_equal(be_trip_booking_read(booking, strlen(booking), &b, &d), 0);
    assert_string_equal(b.person_key, "tel:79123456789");
    assert_int_equal(b.settlement, 2);
    const char *office_kind =
        "{\"settlement\":1,\"start\":\"2026-12-12T13:30:00+03:00\","
        "\"kind\":\"consultation\",\"person_name\":\"x\",\"phone\":\"+79123456789\"}";
    assert_int_not_equal(be_trip_booking_read(office_kind, strlen(office_kind), &b, &d), 0);
    assert_string_equal(d.field, "kind");
    const char *far = "{\"settlement\":13,\"start\":\"2026-12-12T13:30:00+03:00\","
                      "\"kind\":\"home_survey\",\"person_name\":\"x\",\"phone\":\"+79123456789\"}";
    assert_int_not_equal(be_trip_booking_read(far, strlen(far), &b, &d), 0);
    assert_string_equal(d.field, "settlement");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trip_accepted),
        cmocka_unit_test(test_trip_refused),
        cmocka_unit_test(test_move_and_booking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
