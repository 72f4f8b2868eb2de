/* Integration test of mobile brigade trips (issue 16) against a real carefactd and a
 * private PostgreSQL: the office's lead plans a trip (settlements with times, a worker
 * and a staff member, partner organisations); the front office books people on it
 * within a settlement's times, one at a time per trip; announcing fewer than the
 * region's notice days ahead is refused, announcing in time publishes the trip on the
 * public page and queues an SMS to each person booked; only a planned trip is edited;
 * cancelling needs a reason and cancels the trip's appointments; the trip's day shows
 * its appointments and the applications taken on it; who sees a trip (another office no,
 * the provider whose workers go yes, another provider no); the terminal of a worker
 * member receives the trip with its reference data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "api_check.h"
#include "harness.h"
#include "terminal.h"

#define REGION "00000000-0000-4000-8000-000000000001"
#define OFFICE_A "0f000000-0000-4000-8000-00000000000a"
#define OFFICE_B "0f000000-0000-4000-8000-00000000000b"
#define PROVIDER_A "0a000000-0000-4000-8000-0000000000a1"
#define PROVIDER_B "0a000000-0000-4000-8000-0000000000b1"
#define WORKER "0c000000-0000-4000-8000-0000000000c1"
#define WORKER_B "0c000000-0000-4000-8000-0000000000c2"
#define PASSWORD "correct horse battery"

static struct cf_harness harness;
static struct cf_session lead_a, intake_a, lead_b, manager_a, manager_b, admin;

static const char seed_sql[] =
    "INSERT INTO regions VALUES ('" REGION "', 'Ленинградская область', decode(repeat('ab', 32), "
    "  'hex'));"
    "INSERT INTO offices (id, region_id, kind, name, address) VALUES "
    "  ('" OFFICE_A "', '" REGION "', 'office', 'КЦСОН Лодейнопольский', 'ул. Гагарина, 1'),"
    "  ('" OFFICE_B "', '" REGION "', 'mfc', 'МФЦ Тихвин', '');"
    "INSERT INTO providers VALUES ('" PROVIDER_A "', '" REGION "', 'КЦСОН Альфа'),"
    "  ('" PROVIDER_B "', '" REGION "', 'КЦСОН Бета');"
    "INSERT INTO workers VALUES ('" WORKER "', '" PROVIDER_A "', 'Иванова Анна'),"
    "  ('" WORKER_B "', '" PROVIDER_B "', 'Петрова Ольга');";

static int group_setup(void **state)
{
    (void)state;
    if (cf_harness_start(&harness, NULL) || cf_harness_sql(&harness, seed_sql))
        return -1;
    if (cf_harness_staff_account(&harness, "lead-a", "intake_lead", OFFICE_A, PASSWORD) ||
        cf_harness_staff_account(&harness, "intake-a", "intake", OFFICE_A, PASSWORD) ||
        cf_harness_staff_account(&harness, "lead-b", "intake_lead", OFFICE_B, PASSWORD) ||
        cf_harness_account(&harness, "manager-a", "manager", PROVIDER_A, NULL, PASSWORD) ||
        cf_harness_account(&harness, "manager-b", "manager", PROVIDER_B, NULL, PASSWORD) ||
        cf_harness_account(&harness, "admin-t", "admin", NULL, NULL, PASSWORD) ||
        cf_harness_login(&harness, "lead-a", PASSWORD, &lead_a) ||
        cf_harness_login(&harness, "intake-a", PASSWORD, &intake_a) ||
        cf_harness_login(&harness, "lead-b", PASSWORD, &lead_b) ||
        cf_harness_login(&harness, "manager-a", PASSWORD, &manager_a) ||
        cf_harness_login(&harness, "manager-b", PASSWORD, &manager_b) ||
        cf_harness_login(&harness, "admin-t", PASSWORD, &admin))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cf_harness_stop(&harness);
    return 0;
}

static cJSON *as(struct cf_session *who, const char *method, const char *path, const char *body,
                 long want)
{
    harness.session = who;
    cJSON *out = cf_api_json(&harness, method, path, body, want);
    harness.session = NULL;
    return out;
}

/* The local date (Moscow) n days from today, as the database computes it. */
static void day_after(int n, char out[11])
{
    char sql[120];
    snprintf(sql, sizeof sql, "SELECT ((now() AT TIME ZONE 'Europe/Moscow')::date + %d)::text", n);
    char *v = cf_harness_sql_value(&harness, sql);
    assert_non_null(v);
    snprintf(out, 11, "%s", v);
    free(v);
}

/* A trip body on day n days ahead: two settlements, the worker, the lead, two partners. */
static void trip_body(int n, const char *title, char *out, size_t size)
{
    char day[11];
    char *lead = cf_harness_sql_value(&harness, "SELECT id FROM users WHERE login = 'lead-a'");
    assert_non_null(lead);
    day_after(n, day);
    snprintf(out, size,
             "{\"day\":\"%s\",\"title\":\"%s\",\"provider_id\":\"" PROVIDER_A "\","
             "\"booking_info\":\"Запись по телефону 8 813 64 2-11-11\",\"slot_minutes\":30,"
             "\"settlements\":[{\"name\":\"д. Ивановка\",\"place\":\"у магазина\","
             "\"arrives\":\"10:00\",\"leaves\":\"12:00\"},{\"name\":\"с. Алёхово\","
             "\"arrives\":\"13:00\",\"leaves\":\"15:00\"}],"
             "\"members\":[{\"worker_id\":\"" WORKER "\",\"duty\":\"соцработник\"},"
             "{\"user_id\":\"%s\",\"duty\":\"приём заявлений\"}],"
             "\"partners\":[{\"name\":\"Лодейнопольская ЦРБ\",\"activity\":\"флюорография\"},"
             "{\"name\":\"Социальный фонд\",\"activity\":\"консультации по пенсиям\"}]}",
             day, title, lead);
    free(lead);
}

static void create_trip(int n, const char *title, char id[40])
{
    char body[2048];
    trip_body(n, title, body, sizeof body);
    cJSON *trip = as(&lead_a, "POST", "/api/v1/trips", body, 201);
    assert_string_equal(cf_json_str(trip, "state"), "planned");
    assert_string_equal(cf_json_str(trip, "office_id"), OFFICE_A);
    snprintf(id, 40, "%s", cf_json_str(trip, "id"));
    cJSON_Delete(trip);
}

/* A booking body at local time hhmm of the day n days ahead in settlement s. */
static void booking_body(int n, int s, const char *hhmm, const char *kind, const char *phone,
                         char *out, size_t size)
{
    char day[11];
    day_after(n, day);
    snprintf(out, size,
             "{\"settlement\":%d,\"start\":\"%sT%s:00+03:00\",\"kind\":\"%s\","
             "\"person_name\":\"Смирнова Вера Ивановна\",\"phone\":\"%s\"}",
             s, day, hhmm, kind, phone);
}

static void book(const char *trip, int n, int s, const char *hhmm, const char *phone, long want,
                 const char *problem, const char *field)
{
    char path[96], body[512];
    snprintf(path, sizeof path, "/api/v1/trips/%s/appointments", trip);
    booking_body(n, s, hhmm, "home_survey", phone, body, sizeof body);
    cJSON *answer = as(&intake_a, "POST", path, body, want);
    if (problem)
        cf_api_expect_problem(answer, problem, field);
    else
        cJSON_Delete(answer);
}

static void move(const char *trip, const char *body, long want, const char *problem,
                 const char *field)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/trips/%s/transitions", trip);
    cJSON *answer = as(&lead_a, "POST", path, body, want);
    if (problem)
        cf_api_expect_problem(answer, problem, field);
    else
        cJSON_Delete(answer);
}

/* The trip as planned, what its day shows, and the bodies refused. */
static void test_plan_and_day(void **state)
{
    (void)state;
    char id[40], path[96], body[2048];
    create_trip(10, "Выезд в Ивановку", id);
    snprintf(path, sizeof path, "/api/v1/trips/%s", id);
    cJSON *trip = as(&lead_a, "GET", path, NULL, 200);
    const cJSON *settlements = cJSON_GetObjectItem(trip, "settlements");
    assert_int_equal(cJSON_GetArraySize(settlements), 2);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(settlements, 1), "arrives"), "13:00");
    const cJSON *members = cJSON_GetObjectItem(trip, "members");
    assert_int_equal(cJSON_GetArraySize(members), 2);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(members, 0), "worker_name"), "Иванова Анна");
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(members, 1), "login"), "lead-a");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(trip, "partners")), 2);
    const cJSON *journal = cJSON_GetObjectItem(trip, "journal");
    assert_int_equal(cJSON_GetArraySize(journal), 1);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(journal, 0), "change"), "created");
    cJSON_Delete(trip);

    /* settlements out of order: the reader names the field */
    trip_body(10, "Плохой", body, sizeof body);
    char *second = strstr(body, "\"arrives\":\"13:00\"");
    assert_non_null(second);
    memcpy(second, "\"arrives\":\"11:00\"", 17);
    cf_api_expect_problem(as(&lead_a, "POST", "/api/v1/trips", body, 422), "validation",
                          "settlements[1].arrives");
    /* a worker of another provider than the trip's */
    trip_body(10, "Чужой", body, sizeof body);
    char *worker = strstr(body, WORKER);
    memcpy(worker, WORKER_B, strlen(WORKER_B));
    cf_api_expect_problem(as(&lead_a, "POST", "/api/v1/trips", body, 422), "validation",
                          "members[0]");
    /* a day that has passed */
    trip_body(-1, "Вчера", body, sizeof body);
    cf_api_expect_problem(as(&lead_a, "POST", "/api/v1/trips", body, 422), "validation", "day");
    /* another office's lead names this office: 403; and does not see the trip */
    trip_body(10, "Не свой", body, sizeof body);
    char with_office[2200];
    snprintf(with_office, sizeof with_office, "{\"office_id\":\"" OFFICE_A "\",%s", body + 1);
    cf_api_expect_problem(as(&lead_b, "POST", "/api/v1/trips", with_office, 403), "forbidden",
                          "office_id");
    cf_api_expect_problem(as(&lead_b, "GET", path, NULL, 404), "not-found", NULL);
    /* another office's lead can neither edit it nor move it: not there */
    cf_api_expect_problem(as(&lead_b, "PUT", path, body, 404), "not-found", NULL);
    char moves[128];
    snprintf(moves, sizeof moves, "%s/transitions", path);
    cf_api_expect_problem(as(&lead_b, "POST", moves, "{\"to\":\"announced\"}", 404), "not-found",
                          NULL);
    /* the provider whose worker goes sees it; another provider does not */
    cJSON *list = as(&manager_a, "GET", "/api/v1/trips", NULL, 200);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(list, "trips")) >= 1);
    cJSON_Delete(list);
    list = as(&manager_b, "GET", "/api/v1/trips", NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(list, "trips")), 0);
    cJSON_Delete(list);
    cf_api_expect_problem(as(&lead_a, "GET", "/api/v1/trips?state=open", NULL, 400), "validation",
                          "state");

    /* an edit while planned: one settlement less, journalled */
    trip_body(11, "Выезд в Ивановку", body, sizeof body);
    char *cut = strstr(body, ",{\"name\":\"с. Алёхово\"");
    char *rest = strstr(body, "],\"members\"");
    memmove(cut, rest, strlen(rest) + 1);
    cf_api_expect_problem(as(&lead_a, "PUT", path, "{\"day\":\"2026-12-12\"}", 422), "validation",
                          "title");
    trip = as(&lead_a, "PUT", path, body, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(trip, "settlements")), 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(trip, "journal")), 2);
    cJSON_Delete(trip);
}

/* Booking on a trip: within a settlement's times, one at a time, home surveys and
 * hand-overs only; the day lists them and the applications taken on the trip. */
static void test_bookings_and_applications(void **state)
{
    (void)state;
    char id[40], path[96], body[512];
    create_trip(10, "Выезд в Алёхово", id);
    book(id, 10, 1, "10:00", "+7 912 345-67-89", 201, NULL, NULL);
    book(id, 10, 1, "10:00", "+7 912 345-67-80", 409, "slot-taken", "start");
    book(id, 10, 2, "13:30", "8 912 345 67 81", 201, NULL, NULL);
    book(id, 10, 1, "11:45", "+7 912 345-67-82", 422, "validation", "start"); /* ends 12:15 */
    book(id, 10, 2, "10:30", "+7 912 345-67-82", 422, "validation", "start"); /* not there */
    book(id, 10, 3, "10:30", "+7 912 345-67-82", 422, "validation", "settlement");
    book(id, 11, 1, "10:30", "+7 912 345-67-82", 422, "validation", "start"); /* another day */
    snprintf(path, sizeof path, "/api/v1/trips/%s/appointments", id);
    booking_body(10, 1, "10:30", "document_check", "+79123456782", body, sizeof body);
    cf_api_expect_problem(as(&intake_a, "POST", path, body, 422), "validation", "kind");
    cf_api_expect_problem(as(&lead_b, "POST", path, body, 422), "validation", "kind");
    booking_body(10, 1, "10:30", "aid_handover", "+79123456782", body, sizeof body);
    cf_api_expect_problem(as(&lead_b, "POST", path, body, 404), "not-found", NULL);
    /* the office's own desks are untouched: the trip's seat is its own */
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM appointments "
                                                   "WHERE trip_id IS NOT NULL AND seat <= 50"),
                     0);
    /* an application taken on the trip (the terminal's filing names it) */
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO applications (number, region_id, office_id, channel, applicant_name, "
             "applicant_birth, applicant_address, category, purpose, consent_at, code_hash, "
             "created_by, trip_id) VALUES ('2026-900001', '" REGION "', '" OFFICE_A "', "
             "'terminal', 'Кузнецов Иван', '1941-02-03', 'д. Ивановка, 5', 'elderly', "
             "'rehab_aid', now(), sha256('x'), 'terminal', '%s')",
             id);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    snprintf(path, sizeof path, "/api/v1/trips/%s", id);
    cJSON *trip = as(&intake_a, "GET", path, NULL, 200);
    const cJSON *appointments = cJSON_GetObjectItem(trip, "appointments");
    assert_int_equal(cJSON_GetArraySize(appointments), 2);
    assert_int_equal(cf_json_long(cJSON_GetArrayItem(appointments, 1), "settlement"), 2);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(appointments, 0), "kind"), "home_survey");
    const cJSON *applications = cJSON_GetObjectItem(trip, "applications");
    assert_int_equal(cJSON_GetArraySize(applications), 1);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(applications, 0), "number"), "2026-900001");
    cJSON_Delete(trip);
    /* removing a settlement that has appointments is refused */
    trip_body(10, "Выезд в Алёхово", body, sizeof body);
    char big[2048];
    trip_body(10, "Выезд в Алёхово", big, sizeof big);
    char *cut = strstr(big, ",{\"name\":\"с. Алёхово\"");
    char *rest = strstr(big, "],\"members\"");
    memmove(cut, rest, strlen(rest) + 1);
    cf_api_expect_problem(as(&lead_a, "PUT", path, big, 409), "trip-settlement-booked",
                          "settlements");
}

/* Announcing: too late refused (mutant trips.notice-off-by-one); in time, the public
 * page shows the trip and each person booked gets a message; then only cancel or done. */
static void test_announce_publish_cancel(void **state)
{
    (void)state;
    char late[40], id[40], path[96], region_path[96];
    /* the region's notice: 3 days by default; a trip 2 days ahead is too late */
    create_trip(2, "Срочный выезд", late);
    move(late, "{\"to\":\"announced\"}", 409, "trip-notice", "to");
    create_trip(3, "Выезд в Пашозеро", id);
    book(id, 3, 1, "10:00", "+7 912 000-00-01", 201, NULL, NULL);
    book(id, 3, 2, "14:00", "+7 912 000-00-02", 201, NULL, NULL);
    snprintf(region_path, sizeof region_path, "/api/v1/public/trips?region=%s", REGION);
    cJSON *page = cf_api_json(&harness, "GET", region_path, NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "trips")), 0);
    cJSON_Delete(page);

    move(id, "{\"to\":\"done\"}", 409, "illegal-transition", "to");
    move(id, "{\"to\":\"announced\"}", 200, NULL, NULL);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM outbox o JOIN appointments a ON a.id = o.appointment_id "
             "WHERE a.trip_id = '%s' AND o.kind = 'trip' AND o.state = 'pending' "
             "AND o.body LIKE '%%выездная бригада%%'",
             id);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 2);
    /* a booking on an announced trip is told at once */
    book(id, 3, 1, "11:00", "+7 912 000-00-03", 201, NULL, NULL);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 3);

    page = cf_api_json(&harness, "GET", region_path, NULL, 200);
    const cJSON *trips = cJSON_GetObjectItem(page, "trips");
    assert_int_equal(cJSON_GetArraySize(trips), 1);
    assert_string_equal(cf_json_str(cJSON_GetObjectItem(page, "region"), "name"),
                        "Ленинградская область");
    const cJSON *shown = cJSON_GetArrayItem(trips, 0);
    assert_string_equal(cf_json_str(shown, "title"), "Выезд в Пашозеро");
    assert_string_equal(cf_json_str(shown, "booking_info"), "Запись по телефону 8 813 64 2-11-11");
    assert_string_equal(
        cf_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(shown, "settlements"), 0), "arrives"),
        "10:00");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(shown, "partners")), 2);
    assert_null(cJSON_GetObjectItem(shown, "appointments"));
    char *text = cJSON_PrintUnformatted(page);
    assert_null(strstr(text, "Смирнова")); /* nobody's name on the public page */
    free(text);
    cJSON_Delete(page);
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/public/trips?region=x", NULL, 400),
                          "validation", "region");
    /* no region named: the first by name, the only one here */
    page = cf_api_json(&harness, "GET", "/api/v1/public/trips", NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "trips")), 1);
    cJSON_Delete(page);

    /* announced: no more edits; done only on its day; cancelling needs a reason */
    char body[2048];
    trip_body(3, "Другое", body, sizeof body);
    snprintf(path, sizeof path, "/api/v1/trips/%s", id);
    cf_api_expect_problem(as(&lead_a, "PUT", path, body, 409), "trip-not-planned", NULL);
    move(id, "{\"to\":\"done\"}", 409, "too-early", "to");
    move(id, "{\"to\":\"cancelled\"}", 422, "validation", "reason");
    move(id, "{\"to\":\"cancelled\",\"reason\":\"Паводок, дорога закрыта\"}", 200, NULL, NULL);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM appointments WHERE trip_id = '%s' AND state = 'cancelled'", id);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 3);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM outbox o JOIN appointments a ON a.id = o.appointment_id "
             "WHERE a.trip_id = '%s' AND o.kind = 'cancelled' AND o.body LIKE '%%Паводок%%'",
             id);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 3);
    page = cf_api_json(&harness, "GET", region_path, NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "trips")), 0);
    cJSON_Delete(page);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM trip_journal WHERE trip_id = '%s'", id);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 3);
    /* the notice is the region's: 0 days lets the urgent trip be announced */
    assert_int_equal(cf_harness_sql(&harness, "UPDATE regions SET trip_notice_days = 2"), 0);
    move(late, "{\"to\":\"announced\"}", 200, NULL, NULL);
    assert_int_equal(cf_harness_sql(&harness, "UPDATE regions SET trip_notice_days = 3"), 0);
}

/* The terminal of a worker member receives the trip with its reference data. */
static void test_terminal_reference(void **state)
{
    (void)state;
    char id[40], path[128], body[256];
    create_trip(1, "Выезд завтра", id);
    book(id, 1, 2, "14:30", "+7 912 000-00-09", 201, NULL, NULL);
    struct cf_terminal t;
    cf_terminal_enrol(&harness, WORKER, &t);
    snprintf(path, sizeof path, "/api/v1/devices/%s/reference", t.id_text);
    cJSON *list = cf_api_json(&harness, "GET", path, NULL, 200);
    int trips = 0;
    bool found = false;
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(list, "items"))
    {
        if (strcmp(cf_json_str(item, "kind"), "trip") == 0) {
            trips++;
            found = found || strcmp(cf_json_str(item, "id"), id) == 0;
        }
    }
    cJSON_Delete(list);
    assert_true(found);
    /* tomorrow's and the urgent one (2 days) are held; those 10 days ahead not yet, the
     * cancelled one never */
    assert_int_equal(trips, 2);
    snprintf(path, sizeof path, "/api/v1/devices/%s/reference/fetch", t.id_text);
    snprintf(body, sizeof body, "{\"items\":[{\"kind\":\"trip\",\"id\":\"%s\"}]}", id);
    cJSON *fetched = cf_api_json(&harness, "POST", path, body, 200);
    const cJSON *trip =
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(fetched, "items"), 0), "body");
    assert_string_equal(cf_json_str(trip, "title"), "Выезд завтра");
    const cJSON *appointments = cJSON_GetObjectItem(trip, "appointments");
    assert_int_equal(cJSON_GetArraySize(appointments), 1);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(appointments, 0), "time"), "14:30");
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(appointments, 0), "person_name"),
                        "Смирнова Вера Ивановна");
    cJSON_Delete(fetched);
    /* the reminder the day before names where the brigade will be, not an office's desk */
    assert_true(cf_harness_sql_long(&harness, "SELECT appointment_remind(((now() AT TIME ZONE "
                                              "'Europe/Moscow')::date + time '11:00') AT TIME ZONE "
                                              "'Europe/Moscow')") >= 1);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM outbox o JOIN appointments a ON a.id = o.appointment_id "
             "WHERE a.trip_id = '%s' AND o.kind = 'reminder' AND o.body LIKE "
             "'%%14:30, выездная бригада, с. Алёхово.'",
             id);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 1);
    /* another provider's worker holds nothing of it */
    struct cf_terminal other;
    cf_terminal_enrol(&harness, WORKER_B, &other);
    snprintf(path, sizeof path, "/api/v1/devices/%s/reference", other.id_text);
    list = cf_api_json(&harness, "GET", path, NULL, 200);
    char *text = cJSON_PrintUnformatted(list);
    assert_null(strstr(text, "\"trip\""));
    free(text);
    cJSON_Delete(list);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_and_day),
        cmocka_unit_test(test_bookings_and_applications),
        cmocka_unit_test(test_announce_publish_cancel),
        cmocka_unit_test(test_terminal_reference),
    };
    int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
    curl_global_cleanup();
    return rc;
}
