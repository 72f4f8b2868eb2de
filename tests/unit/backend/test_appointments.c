/* The appointments module's pure readers (be/appointments.h): the person key of a phone
 * in every usual Russian writing (the per-person limit counts by it), and the bodies of
 * a hold, a booking by the desk, a confirmation, a cancellation, a transition and a
 * reschedule — each refusal naming its field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "be/appointments.h"

#define OFFICE "0f000000-0000-4000-8000-00000000000a"
#define SECRET "0123456789abcdef0123456789abcdef"

/* mutant appointments.phone-key-country: 8 and 7 are the same person */
static void test_phone_key(void **state)
{
    (void)state;
    static const char *const same[] = {"+7 (912) 345-67-89", "8 912 345 67 89", "89123456789",
                                       "9123456789", "7-912-345-67-89"};
    char key[BE_APPT_PERSON_KEY_MAX + 1];
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        assert_int_equal(be_appointment_phone_key(same[i], key, sizeof key), 0);
        assert_string_equal(key, "tel:79123456789");
    }
    static const char *const bad[] = {"",           "12345",        "+1 212 555 0100 1",
                                      "912345678",  "79123456789a", "+7 912 345 67 890",
                                      "69123456789"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(be_appointment_phone_key(bad[i], key, sizeof key), CF_EFIELD_RANGE);
    char small[8];
    assert_int_equal(be_appointment_phone_key("9123456789", small, sizeof small), CF_EFIELD_RANGE);
}

static int take(const char *body, enum be_appointment_source source, struct be_appointment_take *t,
                struct cf_error_detail *d)
{
    memset(d, 0, sizeof *d);
    return be_appointment_take_read(body, strlen(body), source, t, d);
}

static void test_hold_and_booking(void **state)
{
    (void)state;
    struct be_appointment_take t;
    struct cf_error_detail d;
    assert_int_equal(take("{\"office_id\":\"" OFFICE "\",\"start\":\"2026-12-07T09:00:00+03:00\","
                          "\"kind\":\"aid_return\"}",
                          BE_APPT_PUBLIC, &t, &d),
                     0);
    assert_string_equal(t.kind, "aid_return");
    assert_string_equal(t.person_key, "");
    /* the citizen names no person in a hold: the page confirms it */
    assert_int_not_equal(take("{\"office_id\":\"" OFFICE "\",\"start\":\"2026-12-07T09:00:00Z\","
                              "\"kind\":\"consultation\",\"phone\":\"9123456789\"}",
                              BE_APPT_PUBLIC, &t, &d),
                         0);
    assert_string_equal(d.field, "phone");
    assert_int_not_equal(take("{\"start\":\"2026-12-07T09:00:00Z\",\"kind\":\"consultation\"}",
                              BE_APPT_PUBLIC, &t, &d),
                         0);
    assert_string_equal(d.field, "office_id");
    assert_int_not_equal(take("{\"office_id\":\"" OFFICE "\",\"start\":\"2026-12-07\","
                              "\"kind\":\"consultation\"}",
                              BE_APPT_PUBLIC, &t, &d),
                         0);
    assert_string_equal(d.field, "start");
    assert_int_not_equal(take("{\"office_id\":\"" OFFICE "\",\"start\":\"2026-12-07T09:00:00Z\","
                              "\"kind\":\"haircut\"}",
                              BE_APPT_PUBLIC, &t, &d),
                         0);
    assert_string_equal(d.field, "kind");

    /* the desk: the person is required; person_id wins over the phone for the limit */
    assert_int_equal(take("{\"start\":\"2026-12-07T09:00:00Z\",\"kind\":\"home_survey\","
                          "\"person_name\":\"Иванова Анна\",\"phone\":\"8 912 345 67 89\"}",
                          BE_APPT_STAFF, &t, &d),
                     0);
    assert_string_equal(t.office_id, "");
    assert_string_equal(t.person_key, "tel:79123456789");
    assert_int_equal(take("{\"start\":\"2026-12-07T09:00:00Z\",\"kind\":\"home_survey\","
                          "\"person_name\":\"Иванова Анна\",\"phone\":\"8 912 345 67 89\","
                          "\"person_id\":\"0F000000-0000-4000-8000-0000000000AA\"}",
                          BE_APPT_STAFF, &t, &d),
                     0);
    assert_string_equal(t.person_key, "person:0f000000-0000-4000-8000-0000000000aa");
    assert_int_not_equal(take("{\"start\":\"2026-12-07T09:00:00Z\",\"kind\":\"home_survey\","
                              "\"phone\":\"8 912 345 67 89\"}",
                              BE_APPT_STAFF, &t, &d),
                         0);
    assert_string_equal(d.field, "person_name");
    assert_int_not_equal(take("{\"start\":\"2026-12-07T09:00:00Z\",\"kind\":\"home_survey\","
                              "\"person_name\":\"Иванова\",\"phone\":\"8 912 345\"}",
                              BE_APPT_STAFF, &t, &d),
                         0);
    assert_string_equal(d.field, "phone");
    /* an empty phone is no phone: the booking would name nobody (fuzz.request_body;
     * mutant appointments.empty-phone) */
    assert_int_not_equal(take("{\"start\":\"2026-12-07T09:00:00Z\",\"kind\":\"home_survey\","
                              "\"person_name\":\"Иванова\",\"phone\":\"\"}",
                              BE_APPT_STAFF, &t, &d),
                         0);
    assert_string_equal(d.field, "phone");
    assert_int_not_equal(take("{not json", BE_APPT_STAFF, &t, &d), 0);
}

static void test_confirm_cancel_move(void **state)
{
    (void)state;
    struct be_appointment_public p;
    struct cf_error_detail d = {0};
    const char confirm[] =
        "{\"secret\":\"" SECRET "\",\"person_name\":\"Петров Пётр\",\"phone\":\"+79123456789\"}";
    assert_int_equal(be_appointment_public_read(confirm, strlen(confirm), BE_APPT_CONFIRM, &p, &d),
                     0);
    assert_string_equal(p.person_key, "tel:79123456789");
    const char short_secret[] = "{\"secret\":\"0123\"}";
    assert_int_not_equal(
        be_appointment_public_read(short_secret, strlen(short_secret), BE_APPT_CANCEL, &p, &d), 0);
    assert_string_equal(d.field, "secret");
    const char cancel[] = "{\"secret\":\"" SECRET "\",\"reason\":\"Заболела\"}";
    assert_int_equal(be_appointment_public_read(cancel, strlen(cancel), BE_APPT_CANCEL, &p, &d), 0);
    assert_string_equal(p.reason, "Заболела");
    /* a confirmation without the person is refused */
    assert_int_not_equal(
        be_appointment_public_read(cancel, strlen(cancel), BE_APPT_CONFIRM, &p, &d), 0);

    struct be_appointment_move m;
    const char served[] = "{\"to\":\"served\"}";
    assert_int_equal(be_appointment_move_read(served, strlen(served), &m, &d), 0);
    const char booked[] = "{\"to\":\"booked\"}"; /* only a hold's confirmation books */
    assert_int_not_equal(be_appointment_move_read(booked, strlen(booked), &m, &d), 0);
    assert_string_equal(d.field, "to");

    /* a check-in at the desk says how the person was identified (mutant
     * appointments.check-in-digits-optional) */
    const char bare[] = "{\"to\":\"checked_in\"}";
    assert_int_not_equal(be_appointment_move_read(bare, strlen(bare), &m, &d), 0);
    assert_string_equal(d.field, "identified_by");
    const char passport[] = "{\"to\":\"checked_in\",\"identified_by\":\"passport\"}";
    assert_int_equal(be_appointment_move_read(passport, strlen(passport), &m, &d), 0);
    assert_string_equal(m.identified_by, "passport");
    assert_string_equal(m.document_digits, "");
    const char digits[] = "{\"to\":\"checked_in\",\"identified_by\":\"document_digits\",\"document_"
                          "digits\":\"0042\"}";
    assert_int_equal(be_appointment_move_read(digits, strlen(digits), &m, &d), 0);
    assert_string_equal(m.document_digits, "0042");
    const char no_digits[] = "{\"to\":\"checked_in\",\"identified_by\":\"document_digits\"}";
    assert_int_not_equal(be_appointment_move_read(no_digits, strlen(no_digits), &m, &d), 0);
    assert_string_equal(d.field, "document_digits");
    const char three[] =
        "{\"to\":\"checked_in\",\"identified_by\":\"document_digits\",\"document_digits\":\"123\"}";
    assert_int_not_equal(be_appointment_move_read(three, strlen(three), &m, &d), 0);
    assert_string_equal(d.field, "document_digits");
    const char letters[] = "{\"to\":\"checked_in\",\"identified_by\":\"document_digits\","
                           "\"document_digits\":\"12a4\"}";
    assert_int_not_equal(be_appointment_move_read(letters, strlen(letters), &m, &d), 0);
    const char card[] = "{\"to\":\"checked_in\",\"identified_by\":\"card\"}";
    assert_int_not_equal(be_appointment_move_read(card, strlen(card), &m, &d), 0);
    assert_string_equal(d.field, "identified_by");
    const char stray[] = "{\"to\":\"served\",\"identified_by\":\"passport\"}";
    assert_int_not_equal(be_appointment_move_read(stray, strlen(stray), &m, &d), 0);
    assert_string_equal(d.field, "identified_by");
    const char stray_digits[] =
        "{\"to\":\"checked_in\",\"identified_by\":\"known_to_staff\",\"document_digits\":\"1234\"}";
    assert_int_not_equal(be_appointment_move_read(stray_digits, strlen(stray_digits), &m, &d), 0);
    assert_string_equal(d.field, "document_digits");

    struct be_desk_exception_resolve r;
    const char accepted[] = "{\"resolution\":\"accepted\",\"note\":\"Окно 2\"}";
    assert_int_equal(be_desk_exception_resolve_read(accepted, strlen(accepted), &r, &d), 0);
    assert_string_equal(r.resolution, "accepted");
    assert_string_equal(r.note, "Окно 2");
    const char maybe[] = "{\"resolution\":\"maybe\"}";
    assert_int_not_equal(be_desk_exception_resolve_read(maybe, strlen(maybe), &r, &d), 0);
    assert_string_equal(d.field, "resolution");
    const char none[] = "{}";
    assert_int_not_equal(be_desk_exception_resolve_read(none, strlen(none), &r, &d), 0);
    assert_string_equal(d.field, "resolution");

    char start[40];
    const char later[] = "{\"start\":\"2026-12-08T10:00:00+03:00\"}";
    assert_int_equal(be_appointment_start_read(later, strlen(later), start, &d), 0);
    assert_string_equal(start, "2026-12-08T10:00:00+03:00");
    const char extra[] = "{\"start\":\"2026-12-08T10:00:00+03:00\",\"seat\":2}";
    assert_int_not_equal(be_appointment_start_read(extra, strlen(extra), start, &d), 0);
    assert_string_equal(d.field, "seat");
}

/* An office's settings with hours (a JSON array's inside) into b; 0 or the reader's code,
 * d naming the field. */
static int booking(const char *settings, const char *hours, struct be_office_booking *b,
                   struct cf_error_detail *d)
{
    char body[2048];
    snprintf(body, sizeof body, "{%s,\"hours\":[%s]}", settings, hours);
    memset(d, 0, sizeof *d);
    return be_office_booking_read(body, strlen(body), b, d);
}

#define SETTINGS(slot, horizon)                                                                    \
    "\"seats\":2,\"slot_minutes\":" #slot ",\"horizon_days\":" #horizon                            \
    ",\"person_limit\":2,\"hold_minutes\":15,\"grace_minutes\":10"
#define PERIOD(day, opens, closes)                                                                 \
    "{\"weekday\":" #day ",\"opens\":\"" opens "\",\"closes\":\"" closes "\"}"

/* mutant appointments.slot-minutes-any, appointments.hours-overlap */
static void test_office_booking(void **state)
{
    (void)state;
    struct be_office_booking b;
    struct cf_error_detail d;
    /* a lunch break is two periods; 24:00 closes a day */
    assert_int_equal(booking(SETTINGS(20, 90),
                             PERIOD(1, "09:00", "13:00") "," PERIOD(1, "14:00", "18:00") "," PERIOD(
                                 7, "20:00", "24:00"),
                             &b, &d),
                     0);
    assert_int_equal(b.seats, 2);
    assert_int_equal(b.slot_minutes, 20);
    assert_int_equal(b.horizon_days, 90);
    assert_int_equal(b.grace_minutes, 10);
    assert_int_equal(b.period_count, 3);
    assert_int_equal(b.periods[1].weekday, 1);
    assert_int_equal(b.periods[1].opens, 14 * 60);
    assert_int_equal(b.periods[2].closes, 24 * 60);
    assert_int_equal(booking(SETTINGS(15, 30), "", &b, &d), 0); /* open no day */
    assert_int_equal(b.period_count, 0);
    /* slot lengths: those dividing an hour, whole quarter hours; nothing else */
    static const int good[] = {5, 6, 10, 12, 15, 20, 30, 45, 60, 75, 90, 120, 240};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(be_office_slot_minutes_ok(good[i]));
    static const int bad[] = {0, 4, 7, 8, 9, 25, 40, 50, 100, 255, 1440};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(be_office_slot_minutes_ok(bad[i]));
    assert_int_equal(booking(SETTINGS(25, 30), "", &b, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "slot_minutes");
    /* the horizon is 1..90 days */
    assert_int_equal(booking(SETTINGS(15, 91), "", &b, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "horizon_days");
    assert_int_equal(booking(SETTINGS(15, 0), "", &b, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "horizon_days");
    /* overlapping periods of one weekday; the same times on two weekdays are fine */
    assert_int_equal(booking(SETTINGS(15, 30),
                             PERIOD(2, "09:00", "13:00") "," PERIOD(2, "12:00", "14:00"), &b, &d),
                     CF_EFIELD_RANGE);
    assert_string_equal(d.field, "hours");
    assert_int_equal(booking(SETTINGS(15, 30),
                             PERIOD(2, "09:00", "13:00") "," PERIOD(2, "10:00", "11:00"), &b, &d),
                     CF_EFIELD_RANGE);
    assert_int_equal(booking(SETTINGS(15, 30),
                             PERIOD(2, "09:00", "13:00") "," PERIOD(2, "13:00", "14:00"), &b, &d),
                     0);
    assert_int_equal(booking(SETTINGS(15, 30),
                             PERIOD(2, "09:00", "13:00") "," PERIOD(3, "09:00", "13:00"), &b, &d),
                     0);
    /* a period is a whole number of slots, closes after it opens, at real times */
    assert_int_equal(booking(SETTINGS(20, 30), PERIOD(1, "09:00", "09:50"), &b, &d),
                     CF_EFIELD_RANGE);
    assert_string_equal(d.field, "hours[0]");
    assert_int_equal(booking(SETTINGS(15, 30), PERIOD(1, "13:00", "09:00"), &b, &d),
                     CF_EFIELD_RANGE);
    assert_string_equal(d.field, "hours[0].closes");
    assert_int_equal(booking(SETTINGS(15, 30), PERIOD(1, "24:00", "24:00"), &b, &d),
                     CF_EFIELD_RANGE);
    assert_string_equal(d.field, "hours[0].opens");
    assert_int_equal(booking(SETTINGS(15, 30), PERIOD(1, "9:00", "13:00"), &b, &d),
                     CF_EFIELD_RANGE);
    assert_int_equal(booking(SETTINGS(15, 30), PERIOD(1, "09:60", "13:00"), &b, &d),
                     CF_EFIELD_RANGE);
    assert_int_equal(booking(SETTINGS(15, 30), PERIOD(8, "09:00", "13:00"), &b, &d),
                     CF_EFIELD_RANGE);
    assert_string_equal(d.field, "hours[0].weekday");
    /* limits at least 1; every field required; nothing unknown */
    const char no_limit[] =
        "{\"seats\":2,\"slot_minutes\":15,\"horizon_days\":30,\"person_limit\":0,"
        "\"hold_minutes\":15,\"grace_minutes\":10,\"hours\":[]}";
    assert_int_equal(be_office_booking_read(no_limit, strlen(no_limit), &b, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "person_limit");
    const char no_hours[] =
        "{\"seats\":2,\"slot_minutes\":15,\"horizon_days\":30,\"person_limit\":1,"
        "\"hold_minutes\":15,\"grace_minutes\":10}";
    assert_int_not_equal(be_office_booking_read(no_hours, strlen(no_hours), &b, &d), 0);
    assert_string_equal(d.field, "hours");
    assert_int_not_equal(booking(SETTINGS(15, 30) ",\"colour\":1", "", &b, &d), 0);
    assert_string_equal(d.field, "colour");
    /* at most BE_OFFICE_PERIODS_MAX periods */
    char many[4096] = "";
    size_t used = 0;
    for (int i = 0; i <= BE_OFFICE_PERIODS_MAX; i++)
        used += (size_t)snprintf(many + used, sizeof many - used,
                                 "%s{\"weekday\":%d,\"opens\":\"%02d:00\","
                                 "\"closes\":\"%02d:15\"}",
                                 i ? "," : "", 1 + i % 7, i / 7, i / 7);
    assert_int_equal(booking(SETTINGS(15, 30), many, &b, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "hours");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phone_key),
        cmocka_unit_test(test_hold_and_booking),
        cmocka_unit_test(test_confirm_cancel_move),
        cmocka_unit_test(test_office_booking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
