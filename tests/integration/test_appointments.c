/* Integration test of appointments (issue 16) against a real carefactd and a private
 * PostgreSQL: free slots, a hold confirmed and cancelled with its secret; ONE slot
 * booked from 50 concurrent clients (threads over loopback) gives exactly one success
 * and 49 409 problems; a hold past its end stops counting; closures and holidays refuse
 * booking; the per-person limit across phone spellings; the state machine's illegal
 * moves are 409; rescheduling links the old appointment to the new; the front office
 * sees only its own office; the day's figures (waiting and service times) against an
 * independent computation; an office closure moves the day's appointments and tells
 * each person through the outbox, no message lost or taken twice across a crash of
 * carefactd in the middle of a send (a local SMS gateway receiver records them). */
#include <math.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <errno.h>
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
#include "sample_events.h"
#include "terminal.h"

#define REGION "00000000-0000-4000-8000-000000000001"
#define OFFICE_A "0f000000-0000-4000-8000-00000000000a" /* two desks */
#define OFFICE_B "0f000000-0000-4000-8000-00000000000b" /* another office */
#define OFFICE_C "0f000000-0000-4000-8000-00000000000c" /* one desk: the race */
#define PASSWORD "correct horse battery"
#define CLIENTS 50

static struct cf_harness harness;
static struct cf_session intake_a, intake_b, lead_b, admin;

/* ==== A local SMS gateway: records every request, answers 200 ==== */

#define RECEIVED_MAX 64
static struct {
    int fd, port;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int count;
    char keys[RECEIVED_MAX][64]; /* Idempotency-Key of each request */
    char bodies[RECEIVED_MAX][1024];
    int first; /* the request hold_first holds: the first one from here */
    bool hold_first; /* keep that request waiting until released */
    bool released;
} gateway = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

static void gateway_take(int conn)
{
    char request[4096];
    size_t got = 0;
    const char *end = NULL;
    while (got < sizeof request - 1) {
        ssize_t n = read(conn, request + got, sizeof request - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        request[got] = '\0';
        end = strstr(request, "\r\n\r\n");
        const char *length = strstr(request, "Content-Length: ");
        if (end && length && got >= (size_t)(end + 4 - request) + strtoul(length + 16, NULL, 10))
            break;
    }
    if (!end)
        return;
    const char *key = strstr(request, "Idempotency-Key: ");
    pthread_mutex_lock(&gateway.lock);
    int i = gateway.count < RECEIVED_MAX ? gateway.count++ : RECEIVED_MAX - 1;
    snprintf(gateway.keys[i], sizeof gateway.keys[i], "%.*s",
             key ? (int)strcspn(key + 17, "\r\n") : 0, key ? key + 17 : "");
    snprintf(gateway.bodies[i], sizeof gateway.bodies[i], "%s", end + 4);
    pthread_cond_broadcast(&gateway.changed);
    while (i == gateway.first && gateway.hold_first && !gateway.released)
        pthread_cond_wait(&gateway.changed, &gateway.lock);
    pthread_mutex_unlock(&gateway.lock);
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    ssize_t w = write(conn, ok, sizeof ok - 1);
    (void)w;
}

static void *gateway_main(void *arg)
{
    (void)arg;
    for (;;) {
        int conn = accept(gateway.fd, NULL, NULL);
        if (conn < 0)
            return NULL;
        gateway_take(conn);
        close(conn);
    }
}

static int gateway_start(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    gateway.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (gateway.fd < 0 || bind(gateway.fd, (struct sockaddr *)&addr, sizeof addr) ||
        listen(gateway.fd, 16) || getsockname(gateway.fd, (struct sockaddr *)&addr, &len))
        return -1;
    gateway.port = ntohs(addr.sin_port);
    return pthread_create(&gateway.thread, NULL, gateway_main, NULL) ? -1 : 0;
}

static char sms_url[80];
#define HOLD_CAP 3 /* live holds one client address may have (public-holds-per-address) */
static const char *serve_args[] = {
    "--sms-url", sms_url, "--outbox-interval-ms", "200", "--public-holds-per-address", "3", NULL};

/* Offices open every day 09:00-12:00 local (Moscow) in 30-minute slots, so the tests
 * never meet a weekend. */
static const char seed_sql[] =
    "INSERT INTO regions VALUES ('" REGION "', 'Тестовая область', decode(repeat('ab', 32), "
    "  'hex'));"
    "INSERT INTO offices (id, region_id, kind, name) VALUES "
    "  ('" OFFICE_A "', '" REGION "', 'mfc', 'МФЦ Центральный'),"
    "  ('" OFFICE_B "', '" REGION "', 'office', 'Соцзащита, ул. Ленина'),"
    "  ('" OFFICE_C "', '" REGION "', 'community', 'Общественный пункт');"
    "INSERT INTO office_booking (office_id, seats, slot_minutes) VALUES "
    "  ('" OFFICE_A "', 2, 30), ('" OFFICE_B "', 1, 30), ('" OFFICE_C "', 1, 30);"
    "INSERT INTO office_hours SELECT o, d, '09:00', '12:00' FROM generate_series(1, 7) d, "
    "  unnest(ARRAY['" OFFICE_A "', '" OFFICE_B "', '" OFFICE_C "']::uuid[]) o;";

static int group_setup(void **state)
{
    (void)state;
    if (gateway_start())
        return -1;
    snprintf(sms_url, sizeof sms_url, "http://127.0.0.1:%d/sms", gateway.port);
    if (cf_harness_start(&harness, serve_args) || cf_harness_sql(&harness, seed_sql))
        return -1;
    if (cf_harness_staff_account(&harness, "intake-a", "intake", OFFICE_A, PASSWORD) ||
        cf_harness_staff_account(&harness, "intake-b", "intake", OFFICE_B, PASSWORD) ||
        cf_harness_staff_account(&harness, "lead-b", "intake_lead", OFFICE_B, PASSWORD) ||
        cf_harness_login(&harness, "intake-a", PASSWORD, &intake_a) ||
        cf_harness_login(&harness, "intake-b", PASSWORD, &intake_b) ||
        cf_harness_login(&harness, "lead-b", PASSWORD, &lead_b) ||
        cf_harness_account(&harness, "admin-t", "admin", NULL, NULL, PASSWORD) ||
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
    char *value = cf_harness_sql_value(&harness, sql);
    assert_non_null(value);
    snprintf(out, 11, "%s", value);
    free(value);
}

/* The start of slot i (0 = 09:00, 30 minutes each) of a local date, RFC 3339. */
static void slot_start(const char *date, int i, char out[40])
{
    snprintf(out, 40, "%sT%02d:%02d:00+03:00", date, 9 + i / 2, (i % 2) * 30);
}

static cJSON *slots(const char *office, const char *date)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/public/offices/%s/slots?date=%s", office, date);
    return as(NULL, "GET", path, NULL, 200);
}

/* Free seats of the slot starting at start (its UTC text compared by instant), or -1
 * when it is not listed. */
static long free_at(const char *office, const char *date, int i)
{
    cJSON *s = slots(office, date);
    char start[40], sql[200];
    slot_start(date, i, start);
    long found = -1;
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(s, "items"))
    {
        snprintf(sql, sizeof sql, "SELECT '%s'::timestamptz = '%s'::timestamptz",
                 cf_json_str(item, "start"), start);
        char *same = cf_harness_sql_value(&harness, sql);
        if (same && strcmp(same, "t") == 0)
            found = cf_json_long(item, "free");
        free(same);
    }
    cJSON_Delete(s);
    return found;
}

static cJSON *hold(const char *office, const char *start, long want)
{
    char body[300];
    snprintf(body, sizeof body, "{\"office_id\":\"%s\",\"start\":\"%s\",\"kind\":\"consultation\"}",
             office, start);
    return as(NULL, "POST", "/api/v1/public/appointments", body, want);
}

/* The desk books for a caller: the new appointment's id into id (when want is 201). */
static cJSON *book(struct cf_session *who, const char *start, const char *phone, long want)
{
    char body[400];
    snprintf(body, sizeof body,
             "{\"start\":\"%s\",\"kind\":\"document_check\",\"person_name\":\"Петров Иван\","
             "\"phone\":\"%s\"}",
             start, phone);
    return as(who, "POST", "/api/v1/appointments", body, want);
}

static void book_id(const char *start, const char *phone, char id[40])
{
    cJSON *r = book(&intake_a, start, phone, 201);
    const cJSON *a = cJSON_GetObjectItem(r, "appointment");
    assert_string_equal(cf_json_str(a, "state"), "booked");
    assert_string_equal(cf_json_str(a, "channel"), "phone");
    snprintf(id, 40, "%s", cf_json_str(a, "id"));
    cJSON_Delete(r);
}

/* A front-office move that must answer want (a problem of type problem naming field). */
static void move(const char *id, const char *to, const char *reason, long want, const char *problem,
                 const char *field)
{
    char path[120], body[300];
    snprintf(path, sizeof path, "/api/v1/appointments/%s/transitions", id);
    if (reason)
        snprintf(body, sizeof body, "{\"to\":\"%s\",\"reason\":\"%s\"}", to, reason);
    else if (strcmp(to, "checked_in") == 0) /* the desk says how it knew the person */
        snprintf(body, sizeof body, "{\"to\":\"%s\",\"identified_by\":\"passport\"}", to);
    else
        snprintf(body, sizeof body, "{\"to\":\"%s\"}", to);
    cJSON *r = as(&intake_a, "POST", path, body, want);
    if (problem)
        cf_api_expect_problem(r, problem, field);
    else {
        assert_string_equal(cf_json_str(cJSON_GetObjectItem(r, "appointment"), "state"), to);
        cJSON_Delete(r);
    }
}

/* ==== The citizen: slots, hold, confirm, cancel ==== */

static void test_hold_confirm_cancel(void **state)
{
    (void)state;
    char date[11], start[40], path[160], body[400];
    day_after(1, date);
    cJSON *s = slots(OFFICE_A, date);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "items")), 6);
    assert_int_equal(cf_json_long(s, "slot_minutes"), 30);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(s, "closed")));
    cJSON_Delete(s);
    assert_int_equal(free_at(OFFICE_A, date, 0), 2);

    slot_start(date, 0, start);
    cJSON *held = hold(OFFICE_A, start, 201);
    const cJSON *a = cJSON_GetObjectItem(held, "appointment");
    char id[40], secret[40];
    snprintf(id, sizeof id, "%s", cf_json_str(a, "id"));
    snprintf(secret, sizeof secret, "%s", cf_json_str(held, "secret"));
    assert_string_equal(cf_json_str(a, "state"), "held");
    assert_int_equal(strlen(secret), 32);
    assert_true(cf_json_str(a, "hold_until")[0]);
    cJSON_Delete(held);
    assert_int_equal(free_at(OFFICE_A, date, 0), 1);
    /* only the secret's hash is kept */
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM appointments WHERE encode(secret_hash, 'hex') = '%s'", secret);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 0);

    /* a wrong secret is the same 404 as an unknown appointment */
    snprintf(path, sizeof path, "/api/v1/public/appointments/%s/confirm", id);
    snprintf(body, sizeof body,
             "{\"secret\":\"%032d\",\"person_name\":\"Сидорова Мария\",\"phone\":\"+7 900 "
             "111-22-33\"}",
             0);
    cf_api_expect_problem(as(NULL, "POST", path, body, 404), "not-found", NULL);
    snprintf(body, sizeof body,
             "{\"secret\":\"%s\",\"person_name\":\"Сидорова Мария\",\"phone\":\"900-11\"}", secret);
    cf_api_expect_problem(as(NULL, "POST", path, body, 422), "validation", "phone");
    snprintf(body, sizeof body,
             "{\"secret\":\"%s\",\"person_name\":\"Сидорова Мария\",\"phone\":\"+7 "
             "900 111-22-33\"}",
             secret);
    cJSON *booked = as(NULL, "POST", path, body, 200);
    a = cJSON_GetObjectItem(booked, "appointment");
    assert_string_equal(cf_json_str(a, "state"), "booked");
    assert_string_equal(cf_json_str(a, "person_name"), "Сидорова Мария");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(a, "hold_until")));
    cJSON_Delete(booked);
    snprintf(sql, sizeof sql, "SELECT person_key FROM appointments WHERE id = '%s'", id);
    char *key = cf_harness_sql_value(&harness, sql);
    assert_string_equal(key, "tel:79001112233");
    free(key);
    /* confirmed twice: not a hold any more */
    cf_api_expect_problem(as(NULL, "POST", path, body, 409), "illegal-transition", "to");

    /* the citizen cancels with the secret; the slot is free again */
    snprintf(path, sizeof path, "/api/v1/public/appointments/%s/cancel", id);
    snprintf(body, sizeof body, "{\"secret\":\"%032d\"}", 7);
    cf_api_expect_problem(as(NULL, "POST", path, body, 404), "not-found", NULL);
    snprintf(body, sizeof body, "{\"secret\":\"%s\"}", secret);
    cJSON *cancelled = as(NULL, "POST", path, body, 200);
    a = cJSON_GetObjectItem(cancelled, "appointment");
    assert_string_equal(cf_json_str(a, "state"), "cancelled");
    assert_string_equal(cf_json_str(a, "reason"), "Отменено по просьбе заявителя");
    cJSON_Delete(cancelled);
    assert_int_equal(free_at(OFFICE_A, date, 0), 2);
    cf_api_expect_problem(as(NULL, "POST", path, body, 409), "illegal-transition", "to");
}

/* ==== 50 clients, one slot ==== */

struct racer {
    const char *url, *body;
    char from[32]; /* the client's own loopback address ("host!127.0.0.N"), or "" */
    pthread_barrier_t *start;
    long status;
    char type[96];
};

static size_t keep_body(char *data, size_t size, size_t count, void *userdata)
{
    struct racer *r = userdata;
    size_t n = size * count;
    char chunk[1024];
    snprintf(chunk, sizeof chunk, "%.*s", (int)(n < sizeof chunk ? n : sizeof chunk - 1), data);
    const char *t = strstr(chunk, "problems/");
    if (t && !r->type[0])
        snprintf(r->type, sizeof r->type, "%.*s", (int)strcspn(t + 9, "\""), t + 9);
    return n;
}

static void *race(void *arg)
{
    struct racer *r = arg;
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, r->url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    if (r->from[0])
        curl_easy_setopt(curl, CURLOPT_INTERFACE, r->from);
    pthread_barrier_wait(r->start);
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return NULL;
}

static void test_fifty_clients_one_slot(void **state)
{
    (void)state;
    char date[11], start[40], url[200], body[300], sql[800];
    day_after(2, date);
    slot_start(date, 3, start);
    snprintf(url, sizeof url, "%s/api/v1/public/appointments", harness.base_url);
    snprintf(body, sizeof body, "{\"office_id\":\"%s\",\"start\":\"%s\",\"kind\":\"consultation\"}",
             OFFICE_C, start);
    static struct racer racers[CLIENTS];
    pthread_t threads[CLIENTS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, CLIENTS);
    for (int i = 0; i < CLIENTS; i++) {
        /* fifty citizens, each from an address of its own (127.0.0.2 ...): the cap of
         * holds per address is not what refuses them */
        racers[i] = (struct racer){.url = url, .body = body, .start = &go};
        snprintf(racers[i].from, sizeof racers[i].from, "host!127.0.0.%d", i + 2);
        assert_int_equal(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
    }
    int won = 0, lost = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(threads[i], NULL);
        if (racers[i].status == 201)
            won++;
        else if (racers[i].status == 409 && strcmp(racers[i].type, "slot-taken") == 0)
            lost++;
        else
            fail_msg("client %d: %ld %s", i, racers[i].status, racers[i].type);
    }
    pthread_barrier_destroy(&go);
    printf("50 clients, one slot: %d held it, %d were refused 409 slot-taken\n", won, lost);
    assert_int_equal(won, 1);
    assert_int_equal(lost, CLIENTS - 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM appointments WHERE office_id = '%s' AND lower(during) = '%s'",
             OFFICE_C, start);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 1);
    assert_int_equal(free_at(OFFICE_C, date, 3), 0);
    /* the database refuses a second live appointment of that seat even to the owner */
    snprintf(sql, sizeof sql,
             "INSERT INTO appointments (office_id, region_id, seat, during, kind, state, channel, "
             "secret_hash, created_by) VALUES ('%s', '%s', 1, tstzrange('%s', '%s'::timestamptz "
             "+ interval '10 minutes'), 'consultation', 'booked', 'desk', sha256('x'), 'test')",
             OFFICE_C, REGION, start, start);
    assert_int_equal(cf_harness_sql(&harness, sql), -1);
}

/* ==== Holds expire ==== */

static void test_hold_expires(void **state)
{
    (void)state;
    char date[11], start[40], sql[300], path[160], body[300];
    day_after(3, date);
    slot_start(date, 1, start);
    cJSON *held = hold(OFFICE_C, start, 201);
    char id[40], secret[40];
    snprintf(id, sizeof id, "%s", cf_json_str(cJSON_GetObjectItem(held, "appointment"), "id"));
    snprintf(secret, sizeof secret, "%s", cf_json_str(held, "secret"));
    cJSON_Delete(held);
    cf_api_expect_problem(hold(OFFICE_C, start, 409), "slot-taken", "start");
    /* 15 minutes pass */
    snprintf(sql, sizeof sql,
             "UPDATE appointments SET hold_until = now() - interval '1 second' WHERE id = '%s'",
             id);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    assert_int_equal(free_at(OFFICE_C, date, 1), 1); /* no longer counted */
    snprintf(path, sizeof path, "/api/v1/public/appointments/%s/confirm", id);
    snprintf(body, sizeof body,
             "{\"secret\":\"%s\",\"person_name\":\"Опоздавший\",\"phone\":\"89001112244\"}",
             secret);
    cf_api_expect_problem(as(NULL, "POST", path, body, 409), "hold-expired", NULL);
    /* someone else takes the slot: the expired hold is swept first */
    cJSON *again = hold(OFFICE_C, start, 201);
    cJSON_Delete(again);
    snprintf(sql, sizeof sql, "SELECT state FROM appointments WHERE id = '%s'", id);
    char *st = cf_harness_sql_value(&harness, sql);
    assert_string_equal(st, "expired");
    free(st);
}

/* ==== Closures, holidays, the horizon ==== */

static void test_closures_refuse(void **state)
{
    (void)state;
    char date[11], holiday[11], far[11], start[40], sql[400];
    day_after(4, date);
    day_after(5, holiday);
    day_after(31, far);
    snprintf(sql, sizeof sql,
             "INSERT INTO office_closures (office_id, days, reason) VALUES ('%s', "
             "daterange('%s', '%s', '[]'), 'Ремонт помещения');"
             "INSERT INTO calendar_days VALUES ('%s', '%s', false, 'Праздник')",
             OFFICE_A, date, date, REGION, holiday);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    cJSON *s = slots(OFFICE_A, date);
    assert_string_equal(cf_json_str(s, "closed"), "Ремонт помещения");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "items")), 0);
    cJSON_Delete(s);
    slot_start(date, 0, start);
    cf_api_expect_problem(hold(OFFICE_A, start, 409), "office-closed", "start");
    cf_api_expect_problem(book(&intake_a, start, "+79001110000", 409), "office-closed", "start");
    s = slots(OFFICE_A, holiday);
    assert_string_equal(cf_json_str(s, "closed"), "Праздник");
    cJSON_Delete(s);
    slot_start(holiday, 2, start);
    cf_api_expect_problem(hold(OFFICE_A, start, 409), "office-closed", "start");
    /* the office B is not closed that day */
    slot_start(date, 0, start);
    cJSON_Delete(hold(OFFICE_B, start, 201));
    /* 30 days ahead is the horizon */
    slot_start(far, 0, start);
    cf_api_expect_problem(hold(OFFICE_A, start, 422), "validation", "start");
    s = slots(OFFICE_A, far);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "items")), 0);
    cJSON_Delete(s);
    /* not a slot's start; before opening */
    snprintf(start, sizeof start, "%sT09:10:00+03:00", holiday);
    day_after(6, date);
    snprintf(start, sizeof start, "%sT09:10:00+03:00", date);
    cf_api_expect_problem(hold(OFFICE_A, start, 422), "validation", "start");
    snprintf(start, sizeof start, "%sT08:30:00+03:00", date);
    cf_api_expect_problem(hold(OFFICE_A, start, 422), "validation", "start");
    /* in the past */
    day_after(-1, date);
    slot_start(date, 0, start);
    cf_api_expect_problem(hold(OFFICE_A, start, 422), "validation", "start");
}

/* ==== The per-person limit ==== */

static void test_person_limit(void **state)
{
    (void)state;
    char date[11], start[40], id[40];
    day_after(7, date);
    slot_start(date, 0, start);
    book_id(start, "+7 (912) 345-67-89", id);
    slot_start(date, 1, start);
    book_id(start, "8 912 345 67 89", id);
    slot_start(date, 2, start);
    cf_api_expect_problem(book(&intake_a, start, "9123456789", 409), "person-limit", "phone");
    /* one cancelled: a place again */
    move(id, "cancelled", "Перенесено на другой месяц", 200, NULL, NULL);
    book_id(start, "9123456789", id);
    cf_api_expect_problem(book(&intake_a, start, "12345", 422), "validation", "phone");
}

/* ==== The state machine ==== */

static void test_state_machine(void **state)
{
    (void)state;
    char date[11], start[40], id[40], other[40], path[160], sql[300];
    day_after(8, date);
    slot_start(date, 0, start);
    book_id(start, "+79000000001", id);
    move(id, "served", NULL, 409, "illegal-transition", "to");
    move(id, "in_service", NULL, 409, "illegal-transition", "to");
    move(id, "left_unserved", NULL, 409, "illegal-transition", "to");
    move(id, "no_show", NULL, 409, "too-early", "to");
    move(id, "cancelled", NULL, 422, "validation", "reason");
    move(id, "checked_in", NULL, 200, NULL, NULL);
    move(id, "checked_in", NULL, 409, "illegal-transition", "to");
    move(id, "cancelled", "Передумал", 409, "illegal-transition", "to");
    move(id, "in_service", NULL, 200, NULL, NULL);
    move(id, "served", NULL, 200, NULL, NULL);
    move(id, "left_unserved", NULL, 409, "illegal-transition", "to");
    move(id, "cancelled", "Поздно", 409, "illegal-transition", "to");

    /* a no-show once the grace period (15 minutes after the start) has passed */
    slot_start(date, 1, start);
    book_id(start, "+79000000002", other);
    snprintf(sql, sizeof sql,
             "UPDATE appointments SET during = tstzrange(now() - interval '16 minutes', now() + "
             "interval '14 minutes') WHERE id = '%s'",
             other);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    move(other, "no_show", NULL, 200, NULL, NULL);
    move(other, "checked_in", NULL, 409, "illegal-transition", "to");

    /* rescheduling: a new appointment, the old one linked to it, the secret kept */
    slot_start(date, 2, start);
    book_id(start, "+79000000003", id);
    slot_start(date, 4, start);
    snprintf(path, sizeof path, "/api/v1/appointments/%s/reschedule", id);
    char body[120];
    snprintf(body, sizeof body, "{\"start\":\"%s\"}", start);
    cJSON *moved = as(&intake_a, "POST", path, body, 201);
    const cJSON *a = cJSON_GetObjectItem(moved, "appointment");
    snprintf(other, sizeof other, "%s", cf_json_str(a, "id"));
    assert_string_equal(cf_json_str(a, "state"), "booked");
    assert_string_equal(cf_json_str(a, "person_name"), "Петров Иван");
    cJSON_Delete(moved);
    snprintf(sql, sizeof sql,
             "SELECT state || ' ' || rescheduled_to || ' ' || (secret_hash = (SELECT secret_hash "
             "FROM appointments WHERE id = '%s')) FROM appointments WHERE id = '%s'",
             other, id);
    char *old = cf_harness_sql_value(&harness, sql);
    char want[120];
    snprintf(want, sizeof want, "rescheduled %s true", other);
    assert_string_equal(old, want);
    free(old);
    /* the old one cannot move again; a full slot refuses and nothing changes */
    cf_api_expect_problem(as(&intake_a, "POST", path, body, 409), "illegal-transition", "to");
    slot_start(date, 5, start);
    book_id(start, "+79000000004", id); /* both desks at 11:30 */
    book_id(start, "+79000000007", id);
    snprintf(path, sizeof path, "/api/v1/appointments/%s/reschedule", other);
    snprintf(body, sizeof body, "{\"start\":\"%s\"}", start);
    cf_api_expect_problem(as(&intake_a, "POST", path, body, 409), "slot-taken", "start");
    snprintf(sql, sizeof sql, "SELECT state FROM appointments WHERE id = '%s'", other);
    char *still = cf_harness_sql_value(&harness, sql);
    assert_string_equal(still, "booked");
    free(still);
}

/* ==== Offices see their own ==== */

static void test_own_office_only(void **state)
{
    (void)state;
    char date[11], start[40], id[40], path[200], body[300];
    day_after(9, date);
    slot_start(date, 0, start);
    book_id(start, "+79000000005", id);
    snprintf(path, sizeof path, "/api/v1/offices/%s/appointments?date=%s", OFFICE_A, date);
    cJSON *day = as(&intake_a, "GET", path, NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(day, "items")), 1);
    cJSON_Delete(day);
    cf_api_expect_problem(as(&intake_b, "GET", path, NULL, 403), "forbidden", NULL);
    snprintf(path, sizeof path, "/api/v1/appointments/%s/transitions", id);
    cf_api_expect_problem(
        as(&intake_b, "POST", path, "{\"to\":\"checked_in\",\"identified_by\":\"passport\"}", 404),
        "not-found", NULL);
    snprintf(body, sizeof body,
             "{\"office_id\":\"%s\",\"start\":\"%s\",\"kind\":\"consultation\","
             "\"person_name\":\"Чужой\",\"phone\":\"+79000000006\"}",
             OFFICE_A, start);
    cf_api_expect_problem(as(&intake_b, "POST", "/api/v1/appointments", body, 403), "forbidden",
                          "office_id");
    /* bad input */
    snprintf(path, sizeof path, "/api/v1/offices/%s/appointments?date=tomorrow", OFFICE_A);
    cf_api_expect_problem(as(&intake_a, "GET", path, NULL, 400), "validation", "date");
    snprintf(path, sizeof path, "/api/v1/public/offices/%s/slots?date=2026-13-01", OFFICE_A);
    cf_api_expect_problem(as(NULL, "GET", path, NULL, 400), "validation", "date");
    snprintf(path, sizeof path, "/api/v1/public/offices/%s/slots?date=%s",
             "0f000000-0000-4000-8000-0000000000ff", date);
    cf_api_expect_problem(as(NULL, "GET", path, NULL, 404), "not-found", NULL);
    cf_api_expect_problem(as(NULL, "POST", "/api/v1/public/appointments",
                             "{\"office_id\":\"" OFFICE_A "\",\"start\":\"x\",\"kind\":\"x\"}",
                             422),
                          "validation", "start");
    cf_api_expect_problem(as(NULL, "POST", "/api/v1/public/appointments", "{not json", 400),
                          "malformed-json", NULL);
}

/* ==== Live holds per client address ==== */

/* One hold from loopback address from ("127.0.0.N"): the status. */
static long hold_from(const char *from, const char *office, const char *start)
{
    char url[200], body[300];
    snprintf(url, sizeof url, "%s/api/v1/public/appointments", harness.base_url);
    snprintf(body, sizeof body, "{\"office_id\":\"%s\",\"start\":\"%s\",\"kind\":\"consultation\"}",
             office, start);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 1);
    struct racer r = {.url = url, .body = body, .start = &go};
    snprintf(r.from, sizeof r.from, "host!%s", from);
    race(&r);
    pthread_barrier_destroy(&go);
    return r.status;
}

/* mutant appointments.address-cap */
static void test_holds_per_address(void **state)
{
    (void)state;
    char date[11], start[40], body[300], sql[300], ids[HOLD_CAP][40], secret[40] = "";
    day_after(14, date);
    /* the holds this address made in the tests before stop counting: the cap from here */
    assert_int_equal(cf_harness_sql(&harness, "UPDATE appointments SET hold_address = NULL"), 0);
    for (int i = 0; i < HOLD_CAP; i++) { /* in two offices: the cap is the address's */
        slot_start(date, i, start);
        cJSON *held = hold(i % 2 ? OFFICE_B : OFFICE_A, start, 201);
        snprintf(ids[i], sizeof ids[i], "%s",
                 cf_json_str(cJSON_GetObjectItem(held, "appointment"), "id"));
        if (i == 0)
            snprintf(secret, sizeof secret, "%s", cf_json_str(held, "secret"));
        cJSON_Delete(held);
    }
    /* one more from the same address: 429 with when to come back, in the body and the
     * header, and nothing held */
    slot_start(date, HOLD_CAP, start);
    snprintf(body, sizeof body, "{\"office_id\":\"%s\",\"start\":\"%s\",\"kind\":\"consultation\"}",
             OFFICE_A, start);
    struct cf_http_reply reply;
    assert_int_equal(
        cf_http(&harness, "POST", "/api/v1/public/appointments", body, strlen(body), &reply), 0);
    assert_int_equal(reply.status, 429);
    assert_string_equal(reply.content_type, "application/problem+json");
    cJSON *problem = cJSON_Parse(reply.body);
    long retry = cf_json_long(problem, "retry_after_s");
    assert_true(retry >= 1 && retry <= 15 * 60);
    assert_int_equal(strtol(reply.retry_after, NULL, 10), retry);
    cJSON_Delete(problem);
    cf_api_expect_problem(cJSON_Parse(reply.body), "too-many-holds", NULL);
    cf_http_reply_cleanup(&reply);
    assert_int_equal(free_at(OFFICE_A, date, HOLD_CAP), 2);
    /* another address is not held back */
    assert_int_equal(hold_from("127.0.0.200", OFFICE_A, start), 201);
    assert_int_equal(free_at(OFFICE_A, date, HOLD_CAP), 1);
    /* a confirmed hold stops counting: room for one more */
    char path[160];
    snprintf(path, sizeof path, "/api/v1/public/appointments/%s/confirm", ids[0]);
    snprintf(body, sizeof body,
             "{\"secret\":\"%s\",\"person_name\":\"Кузьмина Анна\",\"phone\":\"+79005550101\"}",
             secret);
    cJSON_Delete(as(NULL, "POST", path, body, 200));
    cJSON_Delete(hold(OFFICE_A, start, 201));
    slot_start(date, HOLD_CAP + 1, start);
    cf_api_expect_problem(hold(OFFICE_A, start, 429), "too-many-holds", NULL);
    /* so does a hold past its end */
    snprintf(sql, sizeof sql,
             "UPDATE appointments SET hold_until = now() - interval '1 second' WHERE id = '%s'",
             ids[1]);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    cJSON_Delete(hold(OFFICE_A, start, 201));
    /* only a hash of the address is kept */
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM appointments WHERE "
                                                   "position('127.0.0' IN encode(hold_address, "
                                                   "'escape')) > 0"),
                     0);
    /* the tests after this one hold from this address again */
    assert_int_equal(cf_harness_sql(&harness, "UPDATE appointments SET hold_address = NULL"), 0);
}

/* ==== An office's settings and hours ==== */

#define EVERY_DAY(opens, closes)                                                                   \
    "{\"weekday\":1,\"opens\":\"" opens "\",\"closes\":\"" closes "\"},"                           \
    "{\"weekday\":2,\"opens\":\"" opens "\",\"closes\":\"" closes "\"},"                           \
    "{\"weekday\":3,\"opens\":\"" opens "\",\"closes\":\"" closes "\"},"                           \
    "{\"weekday\":4,\"opens\":\"" opens "\",\"closes\":\"" closes "\"},"                           \
    "{\"weekday\":5,\"opens\":\"" opens "\",\"closes\":\"" closes "\"},"                           \
    "{\"weekday\":6,\"opens\":\"" opens "\",\"closes\":\"" closes "\"},"                           \
    "{\"weekday\":7,\"opens\":\"" opens "\",\"closes\":\"" closes "\"}"

static void put_booking(struct cf_session *who, const char *office, int slot, const char *hours,
                        long want, const char *field)
{
    char path[120], body[2048];
    snprintf(path, sizeof path, "/api/v1/offices/%s/booking", office);
    snprintf(body, sizeof body,
             "{\"seats\":1,\"slot_minutes\":%d,\"horizon_days\":30,\"person_limit\":2,"
             "\"hold_minutes\":15,\"grace_minutes\":15,\"hours\":[%s]}",
             slot, hours);
    cJSON *r = as(who, "PUT", path, body, want);
    if (field) {
        cf_api_expect_problem(r, want == 404 ? "not-found" : "validation", field);
        return;
    }
    if (want == 200) {
        assert_int_equal(cf_json_long(r, "slot_minutes"), slot);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "takes_appointments")));
    }
    cJSON_Delete(r);
}

/* mutant appointments.sql-hours-overlap */
static void test_office_settings(void **state)
{
    (void)state;
    char path[120], date[11], start[40], sql[600], id[40];
    /* the lead reads the office's settings and hours; another office's is 403, an intake
     * may not */
    snprintf(path, sizeof path, "/api/v1/offices/%s/booking", OFFICE_B);
    cJSON *b = as(&lead_b, "GET", path, NULL, 200);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(b, "takes_appointments")));
    assert_int_equal(cf_json_long(b, "seats"), 1);
    assert_int_equal(cf_json_long(b, "slot_minutes"), 30);
    assert_int_equal(cf_json_long(b, "horizon_days"), 30);
    const cJSON *hours = cJSON_GetObjectItem(b, "hours");
    assert_int_equal(cJSON_GetArraySize(hours), 7);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(hours, 0), "opens"), "09:00");
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(hours, 0), "closes"), "12:00");
    cJSON_Delete(b);
    cJSON_Delete(as(&admin, "GET", path, NULL, 200));
    snprintf(path, sizeof path, "/api/v1/offices/%s/booking", OFFICE_A);
    cf_api_expect_problem(as(&lead_b, "GET", path, NULL, 403), "forbidden", NULL);
    cf_api_expect_problem(as(&intake_a, "GET", path, NULL, 403), "forbidden", NULL);
    put_booking(&lead_b, OFFICE_A, 30, EVERY_DAY("09:00", "12:00"), 403, NULL);
    snprintf(path, sizeof path, "/api/v1/offices/%s/booking",
             "0f000000-0000-4000-8000-0000000000ff");
    cf_api_expect_problem(as(&admin, "GET", path, NULL, 404), "not-found", NULL);
    put_booking(&admin, "0f000000-0000-4000-8000-0000000000ff", 30, "", 404, NULL);
    put_booking(&admin, "not-an-office", 30, "", 404, NULL);

    /* refused: a slot length that does not divide the day sensibly, overlapping
     * periods, a period that is not whole slots, a horizon past 90 days */
    put_booking(&lead_b, OFFICE_B, 25, EVERY_DAY("09:00", "12:00"), 422, "slot_minutes");
    put_booking(&lead_b, OFFICE_B, 30,
                "{\"weekday\":1,\"opens\":\"09:00\",\"closes\":\"12:00\"},"
                "{\"weekday\":1,\"opens\":\"11:30\",\"closes\":\"13:00\"}",
                422, "hours");
    put_booking(&lead_b, OFFICE_B, 20, "{\"weekday\":1,\"opens\":\"09:00\",\"closes\":\"09:30\"}",
                422, "hours[0]");
    snprintf(path, sizeof path, "/api/v1/offices/%s/booking", OFFICE_B);
    cf_api_expect_problem(as(&lead_b, "PUT", path,
                             "{\"seats\":1,\"slot_minutes\":30,\"horizon_days\":91,"
                             "\"person_limit\":2,\"hold_minutes\":15,\"grace_minutes\":15,"
                             "\"hours\":[]}",
                             422),
                          "validation", "horizon_days");
    cf_api_expect_problem(as(&lead_b, "PUT", path, "{not json", 400), "malformed-json", NULL);
    /* the database's own rule refuses the same (its function, called as the owner) */
    snprintf(sql, sizeof sql,
             "SELECT office_booking_set('%s', 1, 30, 30, 2, 15, 15, '[{\"weekday\":1,\"opens\":"
             "\"09:00\",\"closes\":\"12:00\"},{\"weekday\":1,\"opens\":\"11:30\",\"closes\":"
             "\"13:00\"}]')",
             OFFICE_B);
    char *refused = cf_harness_sql_value(&harness, sql);
    assert_string_equal(refused, "hours");
    free(refused);
    snprintf(sql, sizeof sql, "SELECT office_booking_set('%s', 1, 25, 30, 2, 15, 15, '[]')",
             OFFICE_B);
    refused = cf_harness_sql_value(&harness, sql);
    assert_string_equal(refused, "slot_minutes");
    free(refused);

    /* a booking at 09:30-10:00; then 20-minute slots: it keeps its time, the slots that
     * overlap it are full, and the constraint still refuses them */
    day_after(15, date);
    slot_start(date, 1, start);
    cJSON *r = book(&lead_b, start, "+79005550202", 201);
    snprintf(id, sizeof id, "%s", cf_json_str(cJSON_GetObjectItem(r, "appointment"), "id"));
    cJSON_Delete(r);
    put_booking(&lead_b, OFFICE_B, 20, EVERY_DAY("09:00", "12:00"), 200, NULL);
    snprintf(sql, sizeof sql,
             "SELECT during = tstzrange('%s', '%s'::timestamptz + interval '30 minutes') "
             "AND state = 'booked' FROM appointments WHERE id = '%s'",
             start, start, id);
    char *same = cf_harness_sql_value(&harness, sql);
    assert_string_equal(same, "t");
    free(same);
    cJSON *s = slots(OFFICE_B, date);
    assert_int_equal(cf_json_long(s, "slot_minutes"), 20);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "items")), 9);
    static const long want_free[9] = {1, 0, 0, 1, 1, 1, 1, 1, 1}; /* 09:20 and 09:40 overlap */
    for (int i = 0; i < 9; i++)
        assert_int_equal(
            cf_json_long(cJSON_GetArrayItem(cJSON_GetObjectItem(s, "items"), i), "free"),
            want_free[i]);
    cJSON_Delete(s);
    char overlapping[40], after[40];
    snprintf(overlapping, sizeof overlapping, "%sT09:40:00+03:00", date);
    snprintf(after, sizeof after, "%sT10:00:00+03:00", date);
    cf_api_expect_problem(book(&lead_b, overlapping, "+79005550203", 409), "slot-taken", "start");
    r = book(&lead_b, after, "+79005550203", 201);
    snprintf(sql, sizeof sql,
             "SELECT upper(during) - lower(during) = interval '20 minutes' FROM appointments "
             "WHERE id = '%s'",
             cf_json_str(cJSON_GetObjectItem(r, "appointment"), "id"));
    cJSON_Delete(r);
    same = cf_harness_sql_value(&harness, sql);
    assert_string_equal(same, "t");
    free(same);
    /* back as it was (the admin may, for any office); audited */
    put_booking(&admin, OFFICE_B, 30, EVERY_DAY("09:00", "12:00"), 200, NULL);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM audit_log WHERE action "
                                                   "= 'office.booking'"),
                     2);
}

/* ==== Check-in by the person's card at the desk ==== */

#define PROVIDER "b0000000-0000-4000-8000-00000000000b"
#define WORKER "b1000000-0000-4000-8000-00000000000b"
#define PERSON "b2000000-0000-4000-8000-00000000000b" /* a recipient with a card */
#define OTHER "b3000000-0000-4000-8000-00000000000b" /* another, with another card */
#define CARD "Q2hlY2tJbkNhcmRUb2tlbg" /* the person's card token */
#define OTHER_CARD "T3RoZXJDYXJkVG9rZW4xMg"

/* A booked appointment at office A starting in minutes (negative: already begun),
 * inserted as the owner (the slot rules are not what this tests), for person_key. */
static void booked_now(int minutes, const char *person_key, int seat, char id[40])
{
    char sql[800];
    snprintf(sql, sizeof sql,
             "INSERT INTO appointments (office_id, region_id, seat, during, kind, state, channel, "
             "person_key, person_name, secret_hash, created_by, booked_at) VALUES ('" OFFICE_A
             "', '" REGION "', %d, tstzrange(date_trunc('minute', now()) + interval '%d minutes', "
             "date_trunc('minute', now()) + interval '%d minutes'), 'consultation', 'booked', "
             "'phone', '%s', 'Картов Пётр', sha256('x'), 'test', now()) RETURNING id",
             seat, minutes, minutes + 30, person_key);
    char *value = cf_harness_sql_value(&harness, sql);
    assert_non_null(value);
    snprintf(id, 40, "%s", value);
    free(value);
}

/* An appointment.checked_in of card token at wall_ms, as the desk's terminal signs it. */
static void tap(struct cf_terminal *desk, const char *token, int64_t wall_ms)
{
    struct cf_event ev;
    sample_event(&ev, CF_EV_APPOINTMENT_CHECKED_IN);
    assert_int_equal(cf_uuid_from_text(WORKER, ev.worker_id), 0);
    memset(ev.recipient_id, 0, sizeof ev.recipient_id);
    ev.card.method = CF_CARD_EMV;
    snprintf(ev.card.token, sizeof ev.card.token, "%s", token);
    ev.wall_ms = wall_ms;
    ev.mono_ms = 6000000 + desk->last_seq * 1000;
    cf_terminal_upload(&harness, desk, &ev, 1);
}

static char *state_of(const char *id)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT state FROM appointments WHERE id = '%s'", id);
    return cf_harness_sql_value(&harness, sql);
}

static char desk_id[40]; /* the desk terminal of office A (test_check_in_by_card) */

static void desk_call(struct cf_session *who, const char *method, const char *office,
                      const char *device, long want, const char *problem)
{
    char path[200];
    snprintf(path, sizeof path, "/api/v1/offices/%s/desk-terminals/%s", office, device);
    cJSON *r = as(who, method, path, NULL, want);
    if (problem)
        cf_api_expect_problem(r, problem, NULL);
    else
        cJSON_Delete(r);
}

static void desk_put(struct cf_session *who, const char *office, const char *device, long want,
                     const char *problem)
{
    desk_call(who, "PUT", office, device, want, problem);
}

static void desk_delete(struct cf_session *who, const char *office, const char *device, long want,
                        const char *problem)
{
    desk_call(who, "DELETE", office, device, want, problem);
}

/* mutant appointments.check-in-any-card, appointments.check-in-any-time */
static void test_check_in_by_card(void **state)
{
    (void)state;
    assert_int_equal(
        cf_harness_sql(&harness,
                       "INSERT INTO providers VALUES ('" PROVIDER "', '" REGION "', 'КЦСОН');"
                       "INSERT INTO workers VALUES ('" WORKER "', '" PROVIDER "', 'Окно 1');"
                       "INSERT INTO recipients (id, provider_id, full_name) VALUES ('" PERSON
                       "', '" PROVIDER "', 'Картов Пётр'), ('" OTHER "', '" PROVIDER
                       "', 'Другой Иван');"
                       "INSERT INTO card_bindings (recipient_id, token, method, scheme, last4, "
                       "status) VALUES ('" PERSON "', '" CARD "', 'emv', 'mir', '1234', 'active'), "
                       "('" OTHER "', '" OTHER_CARD "', 'emv', 'mir', '4321', 'active');"),
        0);
    struct cf_terminal desk;
    cf_terminal_enrol(&harness, WORKER, &desk);
    snprintf(desk_id, sizeof desk_id, "%s", desk.id_text);
    desk_put(&admin, OFFICE_A, desk.id_text, 200, NULL); /* the office's desk terminal */
    char mine[40], by_phone[40], sql[400];
    booked_now(20, "person:" PERSON, 1, mine);
    booked_now(20, "tel:79005550303", 2, by_phone); /* no card the appointment knows */
    int64_t now_ms = cf_harness_sql_long(&harness, "SELECT (extract(epoch FROM now()) * 1000)"
                                                   "::bigint");

    /* another person's card checks in nobody; the event is stored all the same */
    tap(&desk, OTHER_CARD, now_ms - 60000);
    char *st = state_of(mine);
    assert_string_equal(st, "booked");
    free(st);
    /* a tap three hours before the start is not for this appointment */
    char early[40];
    booked_now(200, "person:" PERSON, 1, early);
    tap(&desk, CARD, now_ms - 30000); /* the one 20 minutes on is nearer: it is checked in */
    st = state_of(early);
    assert_string_equal(st, "booked");
    free(st);
    st = state_of(mine);
    assert_string_equal(st, "checked_in");
    free(st);
    /* at the event's time, with the event and the card's level */
    snprintf(sql, sizeof sql,
             "SELECT (extract(epoch FROM checked_in_at) * 1000)::bigint = %lld AND "
             "check_in_device = '%s' AND check_in_seq = 2 AND check_in_level = 'static' FROM "
             "appointments WHERE id = '%s'",
             (long long)(now_ms - 30000), desk.id_text, mine);
    st = cf_harness_sql_value(&harness, sql);
    assert_string_equal(st, "t");
    free(st);
    st = state_of(by_phone);
    assert_string_equal(st, "booked");
    free(st);
    /* every tap is kept in the terminal's chain, matched or not */
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM events WHERE kind = "
                                                   "'appointment.checked_in'"),
                     2);
    /* the tap that matched nothing at the desk waits for the desk's decision */
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT count(*) FROM desk_check_in_exceptions WHERE "
                                         "reason = 'no_appointment' AND seq = 1"),
                     1);
    /* the desk calls the person: the waiting time runs from the tap */
    char path[120];
    snprintf(path, sizeof path, "/api/v1/appointments/%s/transitions", mine);
    cJSON *called = as(&intake_a, "POST", path, "{\"to\":\"in_service\"}", 200);
    const cJSON *a = cJSON_GetObjectItem(called, "appointment");
    snprintf(sql, sizeof sql,
             "SELECT extract(epoch FROM '%s'::timestamptz - '%s'::timestamptz) >= 30",
             cf_json_str(a, "service_started_at"), cf_json_str(a, "checked_in_at"));
    cJSON_Delete(called);
    st = cf_harness_sql_value(&harness, sql);
    assert_string_equal(st, "t");
    free(st);
    /* a tap after the appointment's end and grace checks nothing in either */
    char late[40];
    booked_now(-60, "person:" PERSON, 2, late);
    tap(&desk, CARD, now_ms);
    st = state_of(late);
    assert_string_equal(st, "booked");
    free(st);
    /* the early one's own time comes: its tap checks it in */
    tap(&desk, CARD, now_ms + 190 * 60000);
    st = state_of(early);
    assert_string_equal(st, "booked"); /* a device clock ahead of the server is not believed */
    free(st);
}

/* One request with raw body and headers whose status must be want (the edge's answers:
 * malformed JSON 400, not JSON 415, over the route's cap 413). */
static void edge(struct cf_session *who, const char *path, const char *body, size_t len,
                 const char *header, long want)
{
    const char *headers[2] = {header, NULL};
    struct cf_http_reply reply;
    harness.session = who;
    assert_int_equal(
        cf_http_with(&harness, "POST", path, body, len, header ? headers : NULL, &reply), 0);
    harness.session = NULL;
    if (reply.status != want)
        fail_msg("POST %s: %ld, want %ld: %s", path, reply.status, want, reply.body);
    cf_http_reply_cleanup(&reply);
}

/* The three edges of a JSON body route. */
static void edges(struct cf_session *who, const char *path)
{
    size_t big = 20 * 1024;
    char *large = malloc(big + 1);
    assert_non_null(large);
    memset(large, ' ', big);
    large[0] = '{';
    large[big - 1] = '}';
    large[big] = '\0';
    edge(who, path, "{not json", 9, NULL, 400);
    edge(who, path, "{}", 2, "Content-Type: text/plain", 415);
    edge(who, path, large, big, NULL, 413);
    free(large);
}

/* ==== Which terminals are a desk; people booked by phone ==== */

#define PERSON3 "b4000000-0000-4000-8000-00000000000b"
#define CARD3 "VGhpcmRDYXJkVG9rZW4xMg"

static cJSON *exceptions_of_today(void)
{
    char *today =
        cf_harness_sql_value(&harness, "SELECT (now() AT TIME ZONE 'Europe/Moscow')::date::text");
    char path[160];
    snprintf(path, sizeof path, "/api/v1/offices/%s/appointments?date=%s", OFFICE_A, today);
    free(today);
    return as(&intake_a, "GET", path, NULL, 200);
}

static void resolve(struct cf_session *who, const char *id, const char *body, long want,
                    const char *problem, const char *field)
{
    char path[120];
    snprintf(path, sizeof path, "/api/v1/check-in-exceptions/%s/resolve", id);
    cJSON *r = as(who, "POST", path, body, want);
    if (problem)
        cf_api_expect_problem(r, problem, field);
    else
        cJSON_Delete(r);
}

/* mutant appointments.check-in-any-device */
static void test_desk_terminals(void **state)
{
    (void)state;
    char sql[600], id[40], exception[40];
    assert_int_equal(
        cf_harness_sql(&harness,
                       "INSERT INTO recipients (id, provider_id, full_name) VALUES ('" PERSON3
                       "', '" PROVIDER "', 'Третьяков Олег');"
                       "INSERT INTO card_bindings (recipient_id, token, method, scheme, "
                       "last4, status) VALUES ('" PERSON3 "', '" CARD3
                       "', 'emv', 'mir', '3333', 'active');"),
        0);
    /* assigning: the lead of another office may not, an unknown device is 404, twice is one */
    desk_put(&lead_b, OFFICE_A, desk_id, 403, "forbidden");
    desk_put(&admin, OFFICE_A, "dddddddd-0000-4000-8000-000000000000", 404, "not-found");
    desk_put(&admin, OFFICE_A, desk_id, 200, NULL);
    desk_put(&admin, OFFICE_B, desk_id, 409, "desk-elsewhere");
    char path[200];
    snprintf(path, sizeof path, "/api/v1/offices/%s/booking", OFFICE_A);
    cJSON *booking = as(&admin, "GET", path, NULL, 200);
    const cJSON *desks = cJSON_GetObjectItem(booking, "desk_terminals");
    assert_int_equal(cJSON_GetArraySize(desks), 1);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(desks, 0), "device_id"), desk_id);
    cJSON_Delete(booking);

    /* a worker's handset that is no desk: its tap checks nobody in, it waits for review */
    struct cf_terminal handset;
    cf_terminal_enrol(&harness, WORKER, &handset);
    booked_now(100, "person:" PERSON3, 2, id);
    int64_t now_ms = cf_harness_sql_long(&harness, "SELECT (extract(epoch FROM now()) * 1000)"
                                                   "::bigint");
    tap(&handset, CARD3, now_ms - 10000);
    char *st = state_of(id);
    assert_string_equal(st, "booked");
    free(st);
    snprintf(sql, sizeof sql,
             "SELECT x.id FROM desk_check_in_exceptions x WHERE x.appointment_id = '%s' AND "
             "x.reason = 'not_desk' AND x.device_id = '%s' AND x.office_id = '" OFFICE_A "'",
             id, handset.id_text);
    char *x = cf_harness_sql_value(&harness, sql);
    assert_non_null(x);
    snprintf(exception, sizeof exception, "%s", x);
    free(x);
    cJSON *day = exceptions_of_today();
    const cJSON *items = cJSON_GetObjectItem(day, "exceptions");
    bool listed = false;
    for (int i = 0; i < cJSON_GetArraySize(items); i++)
        listed |= strcmp(cf_json_str(cJSON_GetArrayItem(items, i), "id"), exception) == 0;
    assert_true(listed);
    cJSON_Delete(day);

    /* the desk decides: another office cannot see it; a bad body; accepted checks in */
    resolve(&intake_b, exception, "{\"resolution\":\"accepted\"}", 404, "not-found", NULL);
    char resolve_path[120];
    snprintf(resolve_path, sizeof resolve_path, "/api/v1/check-in-exceptions/%s/resolve",
             exception);
    edges(&intake_a, resolve_path);
    resolve(&intake_a, exception, "{\"resolution\":\"maybe\"}", 422, "validation", "resolution");
    resolve(&intake_a, exception, "{\"resolution\":\"accepted\",\"note\":\"Терминал у окна 2\"}",
            200, NULL, NULL);
    resolve(&intake_a, exception, "{\"resolution\":\"dismissed\"}", 409, "already-resolved", NULL);
    snprintf(sql, sizeof sql,
             "SELECT state || ' ' || check_in_method || ' ' || check_in_by || ' ' || "
             "(check_in_device = '%s') FROM appointments WHERE id = '%s'",
             handset.id_text, id);
    st = cf_harness_sql_value(&harness, sql);
    assert_string_equal(st, "checked_in card intake-a true");
    free(st);

    /* the desk's tap of a card no appointment knows: dismissed, never accepted */
    snprintf(sql, sizeof sql,
             "SELECT id FROM desk_check_in_exceptions WHERE reason = 'no_appointment' AND "
             "device_id = '%s' ORDER BY seq LIMIT 1",
             desk_id);
    x = cf_harness_sql_value(&harness, sql);
    assert_non_null(x);
    resolve(&intake_a, x, "{\"resolution\":\"accepted\"}", 422, "validation", "resolution");
    resolve(&intake_a, x, "{\"resolution\":\"dismissed\"}", 200, NULL, NULL);
    free(x);

    /* removed: it is no desk any more */
    desk_delete(&admin, OFFICE_A, desk_id, 200, NULL);
    desk_delete(&admin, OFFICE_A, desk_id, 404, "not-found");
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM desk_terminals"), 0);
    desk_put(&admin, OFFICE_A, desk_id, 200, NULL); /* the desk again, for what follows */
}

/* mutant appointments.staff-check-in-unidentified */
static void test_staff_check_in(void **state)
{
    (void)state;
    char date[11], start[40], id[40], path[120], sql[300];
    day_after(11, date);
    slot_start(date, 0, start);
    book_id(start, "+79000009001", id);
    snprintf(path, sizeof path, "/api/v1/appointments/%s/transitions", id);
    /* how the desk knew the person is required, and only with a check-in */
    cf_api_expect_problem(as(&intake_a, "POST", path, "{\"to\":\"checked_in\"}", 422), "validation",
                          "identified_by");
    cf_api_expect_problem(
        as(&intake_a, "POST", path, "{\"to\":\"checked_in\",\"identified_by\":\"card\"}", 422),
        "validation", "identified_by");
    cf_api_expect_problem(as(&intake_a, "POST", path,
                             "{\"to\":\"checked_in\",\"identified_by\":\"document_digits\"}", 422),
                          "validation", "document_digits");
    cf_api_expect_problem(as(&intake_a, "POST", path,
                             "{\"to\":\"checked_in\",\"identified_by\":\"passport\","
                             "\"document_digits\":\"1234\"}",
                             422),
                          "validation", "document_digits");
    cf_api_expect_problem(
        as(&intake_a, "POST", path, "{\"to\":\"in_service\",\"identified_by\":\"passport\"}", 422),
        "validation", "identified_by");
    cJSON *r = as(&intake_a, "POST", path,
                  "{\"to\":\"checked_in\",\"identified_by\":\"document_digits\","
                  "\"document_digits\":\"0457\"}",
                  200);
    const cJSON *a = cJSON_GetObjectItem(r, "appointment");
    assert_string_equal(cf_json_str(a, "check_in_method"), "document_digits");
    assert_string_equal(cf_json_str(a, "check_in_by"), "intake-a");
    assert_string_equal(cf_json_str(a, "check_in_document_digits"), "0457");
    cJSON_Delete(r);
    /* the database's own rule, for a caller that skips the route's reader */
    snprintf(sql, sizeof sql,
             "SELECT appointment_staff_check_in('%s', 'known_to_staff', '12', 'x')", id);
    char *outcome = cf_harness_sql_value(&harness, sql);
    assert_string_equal(outcome, "identification");
    free(outcome);
    char other[40];
    book_id(start, "+79000009002", other);
    snprintf(sql, sizeof sql, "SELECT appointment_staff_check_in('%s', 'card', '', 'x')", other);
    outcome = cf_harness_sql_value(&harness, sql);
    assert_string_equal(outcome, "identification"); /* a card is the terminal's, not staff's */
    free(outcome);
    snprintf(sql, sizeof sql, "SELECT state FROM appointments WHERE id = '%s'", other);
    outcome = cf_harness_sql_value(&harness, sql);
    assert_string_equal(outcome, "booked");
    free(outcome);
    /* the day's figures tell the desk's word from the card's proof */
    snprintf(path, sizeof path, "/api/v1/offices/%s/appointments/figures?date=%s", OFFICE_A, date);
    cJSON *f = as(&intake_a, "GET", path, NULL, 200);
    assert_int_equal(cf_json_long(f, "checked_in_staff"), 1);
    assert_int_equal(cf_json_long(f, "checked_in_card"), 0);
    assert_int_equal(cf_json_long(cJSON_GetObjectItem(f, "checked_in_by"), "document_digits"), 1);
    cJSON_Delete(f);
}

/* ==== The day's figures ==== */

static int by_value(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* percentile_disc: the smallest observed value with at least share p at or below it. */
static long percentile(long *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    int rank = (int)ceil(p * n);
    return v[rank < 1 ? 0 : rank - 1];
}

static void test_figures(void **state)
{
    (void)state;
    enum { N = 7 };
    /* seconds waited (check-in to service) and served (service to its end, -1: left
     * unserved after service began) */
    long waits[N] = {180, 420, 720, 1200, 1860, 60, 900};
    long service[N] = {300, 480, 600, -1, 540, 420, 330};
    char date[11], start[40], ids[N + 2][40], sql[800];
    day_after(10, date);
    for (int i = 0; i < N + 2; i++) {
        char phone[20];
        slot_start(date, i / 2, start);
        snprintf(phone, sizeof phone, "+7900100%04d", i);
        book_id(start, phone, ids[i]);
    }
    for (int i = 0; i < N; i++) {
        move(ids[i], "checked_in", NULL, 200, NULL, NULL);
        move(ids[i], "in_service", NULL, 200, NULL, NULL);
        move(ids[i], service[i] < 0 ? "left_unserved" : "served", NULL, 200, NULL, NULL);
        snprintf(sql, sizeof sql,
                 "UPDATE appointments SET checked_in_at = lower(during) - interval '5 minutes', "
                 "service_started_at = lower(during) - interval '5 minutes' + %ld * interval "
                 "'1 second', finished_at = lower(during) - interval '5 minutes' + %ld * "
                 "interval '1 second' WHERE id = '%s'",
                 waits[i], waits[i] + (service[i] < 0 ? 200 : service[i]), ids[i]);
        assert_int_equal(cf_harness_sql(&harness, sql), 0);
    }
    move(ids[N], "cancelled", "Заболел", 200, NULL, NULL);
    move(ids[N + 1], "checked_in", NULL, 200, NULL, NULL); /* still waiting: not counted */

    char path[200];
    snprintf(path, sizeof path, "/api/v1/offices/%s/appointments/figures?date=%s", OFFICE_A, date);
    cJSON *f = as(&intake_a, "GET", path, NULL, 200);
    long w[N], s[N];
    int served = 0, within = 0;
    double service_sum = 0;
    for (int i = 0; i < N; i++) {
        w[i] = waits[i];
        within += waits[i] <= 900;
        if (service[i] >= 0) {
            s[served++] = service[i];
            service_sum += (double)service[i];
        }
    }
    assert_int_equal(cf_json_long(f, "served"), served);
    assert_int_equal(cf_json_long(f, "left_unserved"), N - served);
    assert_int_equal(cf_json_long(f, "cancelled"), 1);
    assert_int_equal(cf_json_long(f, "booked"), N + 2);
    assert_int_equal(cf_json_long(f, "waited"), N);
    long p50 = percentile(w, N, 0.5), p90 = percentile(w, N, 0.9);
    assert_int_equal(cf_json_long(f, "waiting_p50_s"), p50);
    assert_int_equal(cf_json_long(f, "waiting_p90_s"), p90);
    assert_true(fabs(cf_json_num(f, "waiting_within_15min_share") - (double)within / N) < 1e-4);
    assert_int_equal(cf_json_long(f, "service_p50_s"), percentile(s, served, 0.5));
    assert_int_equal(cf_json_long(f, "service_p90_s"), percentile(s, served, 0.9));
    assert_true(fabs(cf_json_num(f, "service_mean_s") - service_sum / served) < 0.06);
    int in_5_10 = 0;
    for (int i = 0; i < served; i++)
        in_5_10 += s[i] >= 300 && s[i] <= 600;
    assert_true(fabs(cf_json_num(f, "service_5_10min_share") - (double)in_5_10 / served) < 1e-4);
    assert_int_equal(cf_json_long(f, "checked_in_staff"), N + 1); /* all by the desk's word */
    assert_int_equal(cf_json_long(f, "checked_in_card"), 0);
    printf("figures: waiting p50 %ld s, p90 %ld s, %d of %d within 15 min\n", p50, p90, within, N);
    cJSON_Delete(f);
}

/* ==== A closure moves the day and tells the people ==== */

static void test_closure_moves_and_tells(void **state)
{
    (void)state;
    char day[11], next[11], start[40], ids[3][40], sql[600], body[300], path[160];
    day_after(12, day);
    day_after(13, next);
    /* office B (one desk): three booked at 09:00, 09:30, 10:00 and a hold at 10:30 of the
     * day it closes; the next day's 09:00 already taken */
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof body,
                 "{\"start\":\"%sT%02d:%02d:00+03:00\",\"kind\":\"aid_handover\","
                 "\"person_name\":\"Закрытие %d\",\"phone\":\"8 900 200-00-0%d\"}",
                 day, 9 + i / 2, (i % 2) * 30, i, i);
        cJSON *r = as(&intake_b, "POST", "/api/v1/appointments", body, 201);
        snprintf(ids[i], sizeof ids[i], "%s",
                 cf_json_str(cJSON_GetObjectItem(r, "appointment"), "id"));
        cJSON_Delete(r);
    }
    slot_start(day, 3, start);
    cJSON_Delete(hold(OFFICE_B, start, 201));
    slot_start(next, 0, start);
    snprintf(body, sizeof body,
             "{\"start\":\"%s\",\"kind\":\"consultation\",\"person_name\":\"Занято\","
             "\"phone\":\"+79002009999\"}",
             start);
    cJSON_Delete(as(&intake_b, "POST", "/api/v1/appointments", body, 201));

    /* a reminder may have gone for tomorrow's booking of an earlier test while it was
     * booked: the messages of this closure are the ones after this point */
    pthread_mutex_lock(&gateway.lock);
    gateway.hold_first = true; /* the next message's answer waits: carefactd dies meanwhile */
    gateway.first = gateway.count;
    pthread_mutex_unlock(&gateway.lock);

    /* only the office's lead (or an admin) closes it; bad input named */
    snprintf(path, sizeof path, "/api/v1/offices/%s/closures", OFFICE_B);
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"reason\":\"Отключение света\"}",
             day, day);
    cf_api_expect_problem(as(&intake_b, "POST", path, body, 403), "forbidden", NULL);
    char bad[200];
    snprintf(bad, sizeof bad, "{\"from\":\"%s\",\"to\":\"%s\",\"reason\":\" \"}", day, day);
    cf_api_expect_problem(as(&lead_b, "POST", path, bad, 422), "validation", "reason");
    snprintf(bad, sizeof bad, "{\"from\":\"%s\",\"to\":\"2020-01-01\",\"reason\":\"x\"}", day);
    cf_api_expect_problem(as(&lead_b, "POST", path, bad, 422), "validation", "to");
    cJSON *closed = as(&lead_b, "POST", path, body, 201);
    assert_int_equal(cf_json_long(closed, "moved"), 3);
    assert_int_equal(cf_json_long(closed, "cancelled"), 0);
    cJSON_Delete(closed);

    /* each moved to the next free slots of the next day (09:30, 10:00, 10:30), linked */
    for (int i = 0; i < 3; i++) {
        snprintf(sql, sizeof sql,
                 "SELECT o.state || ' ' || (lower(n.during) = '%sT%02d:%02d:00+03:00') || ' ' || "
                 "n.person_name FROM appointments o JOIN appointments n ON n.id = "
                 "o.rescheduled_to WHERE o.id = '%s'",
                 next, 9 + (i + 1) / 2, ((i + 1) % 2) * 30, ids[i]);
        char *row = cf_harness_sql_value(&harness, sql);
        char want[80];
        snprintf(want, sizeof want, "rescheduled true Закрытие %d", i);
        assert_string_equal(row, want);
        free(row);
    }
    snprintf(sql, sizeof sql,
             "SELECT state || ' ' || reason FROM appointments WHERE office_id = '" OFFICE_B
             "' AND lower(during) = '%sT10:30:00+03:00'",
             day);
    char *held = cf_harness_sql_value(&harness, sql);
    assert_string_equal(held, "cancelled Отключение света"); /* the hold: nobody to tell */
    free(held);

    /* the sender takes the first message; carefactd dies before its COMMIT (waiting at
     * most 30 s: a sender that sends nothing is a failure, not a hang) */
    pthread_mutex_lock(&gateway.lock);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    while (gateway.count <= gateway.first)
        if (pthread_cond_timedwait(&gateway.changed, &gateway.lock, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&gateway.lock);
            fail_msg("the outbox sender sent no message in 30 s");
        }
    pthread_mutex_unlock(&gateway.lock);
    kill(harness.server, SIGKILL);
    waitpid(harness.server, NULL, 0);
    harness.server = 0;
    pthread_mutex_lock(&gateway.lock);
    gateway.released = true;
    pthread_cond_broadcast(&gateway.changed);
    pthread_mutex_unlock(&gateway.lock);
    assert_int_equal(cf_harness_sql_long(
                         &harness, "SELECT count(*) FROM outbox WHERE kind = 'moved' AND state = "
                                   "'pending'"),
                     3); /* nothing was marked: nothing lost */
    assert_int_equal(cf_harness_start_server(&harness, serve_args), 0);
    for (int tries = 0; tries < 150; tries++) {
        if (cf_harness_sql_long(
                &harness, "SELECT count(*) FROM outbox WHERE kind = 'moved' AND state = 'sent'") ==
            3)
            break;
        usleep(100 * 1000);
    }
    assert_int_equal(
        cf_harness_sql_long(&harness,
                            "SELECT count(*) FROM outbox WHERE kind = 'moved' AND state = 'sent'"),
        3);
    /* every message reached the gateway; the one in flight at the crash came again under
     * its own id (the gateway takes it once); no id twice otherwise */
    pthread_mutex_lock(&gateway.lock);
    int unique = 0, repeats = 0;
    for (int i = gateway.first; i < gateway.count; i++) {
        bool seen = false;
        for (int j = gateway.first; j < i; j++)
            seen = seen || strcmp(gateway.keys[i], gateway.keys[j]) == 0;
        if (seen) {
            repeats++;
            assert_string_equal(gateway.keys[i], gateway.keys[gateway.first]);
        } else {
            unique++;
        }
        assert_true(strncmp(gateway.keys[i], "carefact-outbox-", 16) == 0);
        if (!strstr(gateway.bodies[i], "перенесена"))
            fail_msg("message %d: %s", i, gateway.bodies[i]);
        assert_non_null(strstr(gateway.bodies[i], "+7900200000"));
    }
    printf("outbox: %d messages, %d delivered, %d repeated under the same id after the crash\n", 3,
           unique, repeats);
    assert_int_equal(unique, 3);
    assert_int_equal(repeats, 1);
    pthread_mutex_unlock(&gateway.lock);
}

/* ==== Reminders the day before ==== */

/* mutant appointments.remind-before-ten */
static void test_reminders(void **state)
{
    (void)state;
    char day[11], before[11], start[40], id[40], other[40], sql[600];
    day_after(6, day);
    day_after(5, before);
    slot_start(day, 2, start);
    book_id(start, "+7 900 300-00-01", id);
    slot_start(day, 3, start);
    book_id(start, "+7 900 300-00-02", other);
    move(other, "cancelled", "Передумала", 200, NULL, NULL);
    /* a booking kept by a person's id with no phone (the desk's, a card check-in's): no
     * reminder, and it stops nobody else's (sql/0030; it used to fail the whole step, and
     * with it every pass of the sender, from 10:00 the day before) */
    snprintf(sql, sizeof sql,
             "INSERT INTO appointments (office_id, region_id, seat, during, kind, state, channel, "
             "person_key, person_name, phone, secret_hash, created_by, booked_at) SELECT "
             "office_id, region_id, seat, tstzrange(lower(during) + interval '7 hours', "
             "upper(during) + interval '7 hours', '[)'), kind, 'booked', 'desk', "
             "'person:b2000000-0000-4000-8000-0000000000ff', 'Без телефона', '', "
             "sha256(gen_random_uuid()::text::bytea), 'test', now() FROM appointments WHERE id "
             "= '%s'",
             id);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    /* 09:59 the day before: not yet; 10:00: written, once; never for a cancelled one */
    static const char *const at[] = {"09:59", "10:00", "18:30"};
    static const long want[] = {0, 1, 1};
    for (int i = 0; i < 3; i++) {
        snprintf(sql, sizeof sql,
                 "SELECT appointment_remind('%s %s'::timestamp AT TIME ZONE 'Europe/Moscow')",
                 before, at[i]);
        assert_int_equal(cf_harness_sql(&harness, sql), 0);
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND appointment_id IN "
                 "('%s', '%s')",
                 id, other);
        assert_int_equal(cf_harness_sql_long(&harness, sql), want[i]);
    }
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM outbox WHERE "
                                                   "kind = 'reminder' AND phone = ''"),
                     0);
    /* the sender delivers it to the normalised number */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND appointment_id = '%s' AND "
             "state = 'sent'",
             id);
    for (int tries = 0; tries < 100 && cf_harness_sql_long(&harness, sql) != 1; tries++)
        usleep(100 * 1000);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 1);
    pthread_mutex_lock(&gateway.lock);
    bool found = false;
    int moved = 0;
    for (int i = 0; i < gateway.count; i++) {
        found = found || (strstr(gateway.bodies[i], "напоминаем о записи") &&
                          strstr(gateway.bodies[i], "+79003000001"));
        moved += strstr(gateway.bodies[i], "перенесена") != NULL;
    }
    pthread_mutex_unlock(&gateway.lock);
    assert_true(found);
    /* mutant outbox.resend-sent: the passes since the closure's messages went (this one
     * included) sent none of them again: 3 and the one repeat of the crash */
    assert_int_equal(moved, 4);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hold_confirm_cancel),
        cmocka_unit_test(test_fifty_clients_one_slot),
        cmocka_unit_test(test_hold_expires),
        cmocka_unit_test(test_closures_refuse),
        cmocka_unit_test(test_person_limit),
        cmocka_unit_test(test_state_machine),
        cmocka_unit_test(test_own_office_only),
        cmocka_unit_test(test_holds_per_address),
        cmocka_unit_test(test_office_settings),
        cmocka_unit_test(test_check_in_by_card),
        cmocka_unit_test(test_desk_terminals),
        cmocka_unit_test(test_staff_check_in),
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_closure_moves_and_tells),
        cmocka_unit_test(test_reminders), /* after the closure: its gateway counts */
    };
    int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
    curl_global_cleanup();
    return rc;
}
