/* Integration tests of device enrolment and signed event ingest against the real
 * carefactd and a private PostgreSQL: acknowledgements, replays, tampering, gaps,
 * bad seals, bad input (each a problem+json with its type and field, nothing stored
 * partially, the server still serving), late and out-of-order arrival, and the
 * visit rebuilt from its events (state, duration, expected time, flags). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "cf/batch.h"
#include "cf/uuid.h"
#include "api_check.h"
#include "harness.h"
#include "sample_events.h"
#include "terminal.h"

#define WORKER "20212223-2425-2627-2829-2a2b2c2d2e2f"
#define RECIPIENT "30313233-3435-3637-3839-3a3b3c3d3e3f"
#define VISIT "40414243-4445-4647-4849-4a4b4c4d4e4f"

static struct cf_harness harness;

static const char seed_sql[] =
    "INSERT INTO regions VALUES ('00000000-0000-4000-8000-000000000001', 'Тестовая область', "
    "  decode(repeat('ab', 32), 'hex'));"
    "INSERT INTO providers VALUES ('00000000-0000-4000-8000-000000000002', "
    "  '00000000-0000-4000-8000-000000000001', 'КЦСОН Тестовый');"
    "INSERT INTO workers VALUES ('" WORKER "', '00000000-0000-4000-8000-000000000002', "
    "  'Иванова Анна');"
    "INSERT INTO recipients (id, provider_id, full_name) VALUES ('" RECIPIENT "', "
    "  '00000000-0000-4000-8000-000000000002', 'Петров Пётр Петрович');"
    "INSERT INTO card_bindings (recipient_id, token, method, scheme, last4, status) VALUES "
    "  ('" RECIPIENT "', 'AAECAwQFBgcICQoLDA0ODw', 'emv', 'mir', '5678', 'active');"
    /* a card confirms only while the recipient holds a certificate (sql/0010) */
    "INSERT INTO certificates (id, recipient_id, number, valid_from, valid_to) VALUES "
    "  ('32000000-0000-4000-8000-000000000001', '" RECIPIENT "', 'ИППСУ-1', '2020-01-01', "
    "   '2099-12-31');"
    "INSERT INTO services VALUES ('HH-01', 'Уборка жилого помещения', 'household', 'home', 30, "
    "  25000), ('MED.02', 'Измерение давления', 'medical', 'home', 15, 9000);";

static int group_setup(void **state)
{
    (void)state;
    /* Visits are read back as the authority (every provider). */
    if (cf_harness_start(&harness, NULL) || cf_harness_sql(&harness, seed_sql) ||
        cf_harness_as_authority(&harness))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cf_harness_stop(&harness);
    return 0;
}

/* ==== Helpers ==== */

static long event_count(struct cf_terminal *dev)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE device_id = '%s'", dev->id_text);
    return cf_harness_sql_long(&harness, sql);
}

/* The sample visit (HH-01 x1 + MED.02 x2: 60 min expected) of `minutes` as visit_id. */
static void visit_events(struct cf_event ev[3], const char *visit_id, int64_t minutes)
{
    sample_visit(ev, minutes);
    for (int i = 0; i < 3; i++)
        assert_int_equal(cf_uuid_from_text(visit_id, ev[i].visit_id), 0);
}

/* ==== Tests ==== */

static void test_enrollment_codes(void **state)
{
    (void)state;
    struct cf_terminal dev;
    cf_terminal_enrol(&harness, WORKER, &dev); /* 201 for WORKER */
    assert_int_equal(strlen(dev.token_key_hex), 64);
    /* Reusing the code, an unknown code and an expired one are refused. */
    char code[32], body[256];
    const char *args[] = {"enroll-code", "--worker", WORKER, NULL};
    assert_int_equal(cf_harness_carefactd(&harness, args, code, sizeof code), 0);
    snprintf(body, sizeof body,
             "{\"code\":\"%s\",\"public_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
             code);
    cJSON_Delete(cf_api_json(&harness, "POST", "/api/v1/devices", body, 201));
    cJSON *again = cf_api_json(&harness, "POST", "/api/v1/devices", body, 403);
    assert_non_null(strstr(cf_json_str(again, "detail"), "already used"));
    cf_api_expect_problem(again, "enrollment-code", "code");
    cf_api_expect_problem(cf_api_json(&harness, "POST", "/api/v1/devices",
                                      "{\"code\":\"NOSUCHCODE22\",\"public_key\":"
                                      "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
                                      403),
                          "enrollment-code", "code");
    assert_int_equal(cf_harness_carefactd(&harness, args, code, sizeof code), 0);
    assert_int_equal(cf_harness_sql(&harness, "UPDATE enrollment_codes SET expires_at = now() - "
                                              "interval '1 minute' WHERE used_at IS NULL"),
                     0);
    snprintf(body, sizeof body,
             "{\"code\":\"%s\",\"public_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
             code);
    cJSON *expired = cf_api_json(&harness, "POST", "/api/v1/devices", body, 403);
    assert_non_null(strstr(cf_json_str(expired, "detail"), "expired"));
    cf_api_expect_problem(expired, "enrollment-code", "code");
    cf_api_expect_problem(cf_api_json(&harness, "POST", "/api/v1/devices",
                                      "{\"code\":\"X\",\"public_key\":\"short\"}", 422),
                          "validation", "public_key");
    cf_api_expect_problem(cf_api_json(&harness, "POST", "/api/v1/devices", "{\"code\":\"X\"}", 422),
                          "validation", "public_key");
}

static void test_visit_upload_replay_and_rebuild(void **state)
{
    (void)state;
    struct cf_terminal dev;
    struct cf_event ev[3];
    cJSON *reply;
    cf_terminal_enrol(&harness, WORKER, &dev);
    visit_events(ev, VISIT, 50);
    for (int i = 0; i < 3; i++)
        cf_terminal_chain(&dev, &ev[i]);
    char *json = cf_terminal_batch(&dev, ev, 3);
    reply = cf_terminal_send(&harness, &dev, json, 200);
    assert_int_equal(cf_json_long(reply, "acked_seq"), 3);
    assert_int_equal(cf_json_num(reply, "stored"), 3);
    assert_int_equal(strlen(cf_json_str(reply, "epoch")), 36);
    assert_true(cf_json_num(reply, "server_time_ms") > 1.7e12);
    cJSON_Delete(reply);

    /* The visit as a manager sees it. */
    cJSON *visit = cf_api_json(&harness, "GET", "/api/v1/visits/" VISIT, NULL, 200);
    assert_string_equal(cf_json_str(visit, "state"), "rated");
    assert_int_equal(cf_json_num(visit, "duration_s"), 50 * 60);
    assert_int_equal(cf_json_num(visit, "expected_minutes"), 30 + 2 * 15);
    assert_int_equal(cf_json_num(visit, "rating"), 5);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(visit, "start_confirmed")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(visit, "end_confirmed")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(visit, "flags")), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(visit, "events")), 3);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(visit, "services")), 2);
    cJSON_Delete(visit);

    /* A replay changes nothing and gets the same acknowledgement. */
    reply = cf_terminal_send(&harness, &dev, json, 200);
    assert_int_equal(cf_json_long(reply, "acked_seq"), 3);
    assert_int_equal(cf_json_num(reply, "stored"), 0);
    cJSON_Delete(reply);
    assert_int_equal(event_count(&dev), 3);
    free(json);

    /* A lost acknowledgement then a larger batch: events 2..4 (2..3 held, 4 new). */
    struct cf_event more[3] = {ev[1], ev[2], ev[2]};
    sample_event(&more[2], CF_EV_VISIT_ATTEMPT);
    cf_terminal_chain(&dev, &more[2]);
    json = cf_terminal_batch(&dev, more, 3);
    reply = cf_terminal_send(&harness, &dev, json, 200);
    assert_int_equal(cf_json_long(reply, "acked_seq"), 4);
    assert_int_equal(cf_json_num(reply, "stored"), 1);
    cJSON_Delete(reply);
    free(json);
    assert_int_equal(event_count(&dev), 4);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM door_attempts"), 1);
}

static void test_tampering_gap_and_bad_seal(void **state)
{
    (void)state;
    struct cf_terminal dev;
    struct cf_event ev[3];
    cJSON *reply;
    cf_terminal_enrol(&harness, WORKER, &dev);
    visit_events(ev, "41414243-4445-4647-4849-4a4b4c4d4e4f", 60);
    for (int i = 0; i < 2; i++)
        cf_terminal_chain(&dev, &ev[i]);
    char *json = cf_terminal_batch(&dev, ev, 2);
    reply = cf_terminal_send(&harness, &dev, json, 200);
    assert_int_equal(cf_json_long(reply, "acked_seq"), 2);
    cJSON_Delete(reply);
    free(json);

    /* Same seq 2, other content (a longer visit), properly signed: tampering. */
    struct cf_terminal forger = dev;
    forger.last_seq = 1;
    cf_event_digest(&ev[0], forger.last_digest);
    struct cf_event altered = ev[1];
    altered.mono_ms += 3600000;
    cf_terminal_chain(&forger, &altered);
    json = cf_terminal_batch(&forger, &altered, 1);
    reply = cf_terminal_send(&harness, &dev, json, 409);
    cf_api_expect_problem(reply, "tampering", "events[0]");
    free(json);

    /* A gap: seq 5 when 2 is held; and the smallest one, seq 4 (only 3 missing). */
    for (uint64_t skip = 2; skip >= 1; skip--) {
        struct cf_terminal ahead = dev;
        ahead.last_seq = 2 + skip;
        struct cf_event late = ev[2];
        cf_terminal_chain(&ahead, &late);
        json = cf_terminal_batch(&ahead, &late, 1);
        reply = cf_terminal_send(&harness, &dev, json, 409);
        assert_int_equal(cf_json_num(reply, "expected_seq"), 3);
        cf_api_expect_problem(reply, "sequence-gap", "events[0].seq");
        free(json);
    }

    /* A batch signed by another key. */
    struct cf_terminal impostor = dev;
    uint8_t pub[32];
    cf_ed25519_generate(impostor.private_key, pub);
    struct cf_event third = ev[2];
    cf_terminal_chain(&impostor, &third);
    json = cf_terminal_batch(&impostor, &third, 1);
    reply = cf_terminal_send(&harness, &dev, json, 422);
    cf_api_expect_problem(reply, "bad-seal", "seal.signature");
    free(json);

    /* Nothing of the refused batches was stored; the visit is unchanged. */
    assert_int_equal(event_count(&dev), 2);
    cJSON *visit = cf_api_json(&harness, "GET",
                               "/api/v1/visits/41414243-4445-4647-4849-4a4b4c4d4e4f", NULL, 200);
    assert_int_equal(cf_json_num(visit, "duration_s"), 3600);
    assert_string_equal(cf_json_str(visit, "state"), "ended");
    cJSON_Delete(visit);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct cf_terminal dev;
    struct cf_event ev;
    cJSON *reply;
    char path[128];
    cf_terminal_enrol(&harness, WORKER, &dev);
    snprintf(path, sizeof path, "/api/v1/devices/%s/events", dev.id_text);
    cf_api_expect_problem(cf_api_json(&harness, "POST", path, "{\"events\":[", 400),
                          "malformed-json", NULL);
    cf_api_expect_problem(cf_api_json(&harness, "POST", path, "{\"device_id\":5}", 422),
                          "validation", "device_id");

    sample_event(&ev, CF_EV_VISIT_STARTED);
    cf_terminal_chain(&dev, &ev);
    char *json = cf_terminal_batch(&dev, &ev, 1);
    /* Wrong type, out of range, unknown field: each names its field. */
    static const struct {
        const char *from, *to, *field;
    } edits[] = {
        {"\"mono_ms\":5000000", "\"mono_ms\":\"5000000\"", "events[0].mono_ms"},
        {"\"accuracy_m\":12", "\"accuracy_m\":-3", "events[0].location.accuracy_m"},
        {"\"mono_ms\":5000000", "\"mono_ms\":5000000,\"mood\":\"ok\"", "events[0].mood"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *at = strstr(json, edits[i].from);
        assert_non_null(at);
        char body[8192];
        snprintf(body, sizeof body, "%.*s%s%s", (int)(at - json), json, edits[i].to,
                 at + strlen(edits[i].from));
        cf_api_expect_problem(cf_api_json(&harness, "POST", path, body, 422), "validation",
                              edits[i].field);
    }

    /* The batch of another device, sent to this device's path. */
    struct cf_terminal other;
    cf_terminal_enrol(&harness, WORKER, &other);
    snprintf(path, sizeof path, "/api/v1/devices/%s/events", other.id_text);
    cf_api_expect_problem(cf_api_json(&harness, "POST", path, json, 422), "validation",
                          "device_id");
    /* A device the server never enrolled. */
    struct cf_terminal ghost = {.last_seq = 0};
    uint8_t ghost_pub[32];
    assert_int_equal(cf_uuid_v4(ghost.id), 0);
    cf_uuid_to_text(ghost.id, ghost.id_text);
    cf_ed25519_generate(ghost.private_key, ghost_pub);
    struct cf_event ghost_ev = ev;
    cf_terminal_chain(&ghost, &ghost_ev);
    char *ghost_json = cf_terminal_batch(&ghost, &ghost_ev, 1);
    cf_harness_device_key(&harness, ghost.id_text, ghost.private_key);
    reply = cf_terminal_send(&harness, &ghost, ghost_json, 404);
    cf_api_expect_problem(reply, "unknown-device", NULL);
    free(ghost_json);
    /* A revoked device. */
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE devices SET status = 'revoked' WHERE id = '%s'", dev.id_text);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    reply = cf_terminal_send(&harness, &dev, json, 403);
    cf_api_expect_problem(reply, "revoked-device", NULL);

    /* A body over the 8 MiB cap. */
    size_t big = (8u << 20) + 100;
    char *huge = malloc(big + 1);
    assert_non_null(huge);
    memset(huge, ' ', big);
    huge[big] = '\0';
    snprintf(path, sizeof path, "/api/v1/devices/%s/events", other.id_text);
    cf_api_expect_problem(cf_api_json(&harness, "POST", path, huge, 413), "too-large", NULL);
    free(huge);
    free(json);
    assert_int_equal(event_count(&dev) + event_count(&other), 0);

    /* Still serving. */
    cJSON_Delete(cf_api_json(&harness, "GET", "/healthz", NULL, 200));
}

/* Start on one terminal, end and rating on another, delivered in both orders: a visit
 * is its opening terminal's (sql/0010), so the other terminal's events are refused
 * (409) whichever arrives first, and the visit must come out the same. */
static void deliver_split_visit(const char *visit_id, int end_first)
{
    struct cf_terminal a, b;
    struct cf_event ev[3];
    cJSON *reply;
    cf_terminal_enrol(&harness, WORKER, &a);
    cf_terminal_enrol(&harness, WORKER, &b);
    visit_events(ev, visit_id, 20);
    uint8_t other_boot[16];
    sample_fill_id(other_boot, 0x60);
    memcpy(ev[1].boot_id, other_boot, 16);
    memcpy(ev[2].boot_id, other_boot, 16);
    /* days after the other visits of WORKER here, and apart: the same worker in two
     * visits at once would be an overlap (sql/0011_integrity_flags.sql) */
    for (int i = 0; i < 3; i++)
        ev[i].wall_ms += (2 + end_first) * INT64_C(86400000);
    cf_terminal_chain(&a, &ev[0]);
    cf_terminal_chain(&b, &ev[1]);
    cf_terminal_chain(&b, &ev[2]);
    char *ja = cf_terminal_batch(&a, ev, 1), *jb = cf_terminal_batch(&b, ev + 1, 2);
    if (end_first) {
        cf_api_expect_problem(cf_terminal_send(&harness, &b, jb, 409), "visit-owned-elsewhere",
                              "events[0].visit_id");
        reply = cf_terminal_send(&harness, &a, ja, 200);
        cJSON_Delete(reply);
    } else {
        reply = cf_terminal_send(&harness, &a, ja, 200);
        cJSON_Delete(reply);
        cf_api_expect_problem(cf_terminal_send(&harness, &b, jb, 409), "visit-owned-elsewhere",
                              "events[0].visit_id");
    }
    assert_int_equal(event_count(&b), 0);
    free(ja);
    free(jb);
}

static void test_order_does_not_matter(void **state)
{
    (void)state;
    deliver_split_visit("42414243-4445-4647-4849-4a4b4c4d4e4f", 0);
    deliver_split_visit("43414243-4445-4647-4849-4a4b4c4d4e4f", 1);
    char *a = cf_harness_sql_value(
        &harness, "SELECT concat_ws('|', state, duration_s, expected_minutes, flags, rating, "
                  "start_confirmed, end_confirmed) FROM visits WHERE id = "
                  "'42414243-4445-4647-4849-4a4b4c4d4e4f'");
    char *b = cf_harness_sql_value(
        &harness, "SELECT concat_ws('|', state, duration_s, expected_minutes, flags, rating, "
                  "start_confirmed, end_confirmed) FROM visits WHERE id = "
                  "'43414243-4445-4647-4849-4a4b4c4d4e4f'");
    assert_non_null(a);
    assert_non_null(b);
    /* only the start counts: the other terminal's end and rating were refused */
    assert_string_equal(a, "started|0|{}|t|f");
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void test_visit_list_filters_and_pages(void **state)
{
    (void)state;
    /* two visits of 20 of 60 minutes: early leave */
    struct cf_terminal dev;
    struct cf_event ev[6];
    cf_terminal_enrol(&harness, WORKER, &dev);
    visit_events(ev, "45414243-4445-4647-4849-4a4b4c4d4e4f", 20);
    visit_events(ev + 3, "46414243-4445-4647-4849-4a4b4c4d4e4f", 20);
    cf_terminal_upload(&harness, &dev, ev, 6);
    cJSON *page =
        cf_api_json(&harness, "GET", "/api/v1/visits?flag=early_leave&limit=1", NULL, 200);
    cJSON *items = cJSON_GetObjectItem(page, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    const char *cursor = cf_json_str(page, "next_cursor");
    assert_true(strlen(cursor) > 0);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/visits?flag=early_leave&limit=1&cursor=%s", cursor);
    cJSON *next = cf_api_json(&harness, "GET", path, NULL, 200);
    cJSON *items2 = cJSON_GetObjectItem(next, "items");
    assert_int_equal(cJSON_GetArraySize(items2), 1);
    assert_string_not_equal(cf_json_str(cJSON_GetArrayItem(items, 0), "id"),
                            cf_json_str(cJSON_GetArrayItem(items2, 0), "id"));
    cJSON_Delete(page);
    cJSON_Delete(next);
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/visits?state=done", NULL, 400),
                          "validation", "state");
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/visits?worker=7", NULL, 400),
                          "validation", "worker");
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/visits/not-a-uuid", NULL, 404),
                          "not-found", NULL);
}

/* The database goes away and comes back: carefactd answers 503 problems meanwhile,
 * never crashes, and serves again without being restarted (it re-dials). */
static void test_database_restart(void **state)
{
    (void)state;
    assert_int_equal(cf_harness_pg(&harness, "stop"), 0);
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/healthz", NULL, 503), "unavailable", NULL);
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/visits", NULL, 503), "unavailable",
                          NULL);
    assert_int_equal(cf_harness_pg(&harness, "start"), 0);
    for (int i = 0; i < 4; i++) /* every worker thread's connection re-dials */
        cJSON_Delete(cf_api_json(&harness, "GET", "/api/v1/visits?limit=1", NULL, 200));
    cJSON_Delete(cf_api_json(&harness, "GET", "/healthz", NULL, 200));
}

/* Two carefactd instances on one database (DESIGN: stateless, any number of them):
 * the same batch sent to both at the same moment is stored once and both answer
 * with the same acknowledgement, because the device row lock serialises them. */
struct concurrent_upload {
    struct cf_harness *server;
    const char *path, *body;
    long status;
    double acked;
};

static void *upload_thread(void *arg)
{
    struct concurrent_upload *u = arg;
    struct cf_http_reply reply;
    if (cf_http(u->server, "POST", u->path, u->body, strlen(u->body), &reply) == 0) {
        u->status = reply.status;
        cJSON *json = cJSON_Parse(reply.body);
        u->acked = cf_json_num(json, "acked_seq");
        cJSON_Delete(json);
    }
    cf_http_reply_cleanup(&reply);
    return NULL;
}

static void test_two_instances_one_database(void **state)
{
    (void)state;
    struct cf_terminal dev;
    struct cf_event ev[3];
    char path[128];
    cf_terminal_enrol(&harness, WORKER, &dev);
    struct cf_harness second = harness; /* after enrol: it signs for dev too */
    second.server = 0;
    assert_int_equal(cf_harness_start_server(&second, NULL), 0);
    visit_events(ev, "44414243-4445-4647-4849-4a4b4c4d4e4f", 45);
    for (int i = 0; i < 3; i++)
        cf_terminal_chain(&dev, &ev[i]);
    char *json = cf_terminal_batch(&dev, ev, 3);
    snprintf(path, sizeof path, "/api/v1/devices/%s/events", dev.id_text);
    struct concurrent_upload a = {&harness, path, json, 0, 0}, b = {&second, path, json, 0, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, upload_thread, &a);
    pthread_create(&tb, NULL, upload_thread, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    cf_harness_stop_server(&second);
    free(json);
    assert_int_equal(a.status, 200);
    assert_int_equal(b.status, 200);
    assert_int_equal(a.acked, 3);
    assert_int_equal(b.acked, 3);
    assert_int_equal(event_count(&dev), 3);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM visits WHERE id = "
                                                   "'44414243-4445-4647-4849-4a4b4c4d4e4f'"),
                     1);
}

/* Version of one reference record in the device's list ("" when not listed). */
static void reference_version(struct cf_terminal *dev, const char *kind, const char *id, char *out,
                              size_t size)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/devices/%s/reference", dev->id_text);
    cJSON *list = cf_api_json(&harness, "GET", path, NULL, 200);
    out[0] = '\0';
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(list, "items"))
    {
        if (!strcmp(cf_json_str(item, "kind"), kind) && !strcmp(cf_json_str(item, "id"), id))
            snprintf(out, size, "%s", cf_json_str(item, "version"));
    }
    cJSON_Delete(list);
}

static void test_reference_by_comparing_lists(void **state)
{
    (void)state;
    struct cf_terminal dev;
    char path[128], v1[32], v2[32], v3[32];
    cf_terminal_enrol(&harness, WORKER, &dev);
    reference_version(&dev, "recipient", RECIPIENT, v1, sizeof v1);
    assert_int_equal(strlen(v1), 16);
    reference_version(&dev, "service", "MED.02", v2, sizeof v2);
    assert_int_equal(strlen(v2), 16);

    snprintf(path, sizeof path, "/api/v1/devices/%s/reference/fetch", dev.id_text);
    cJSON *got = cf_api_json(&harness, "POST", path,
                             "{\"items\":[{\"kind\":\"recipient\",\"id\":\"" RECIPIENT "\"},"
                             "{\"kind\":\"service\",\"id\":\"HH-01\"},"
                             "{\"kind\":\"recipient\",\"id\":\"no-such-id\"}]}",
                             200);
    cJSON *items = cJSON_GetObjectItem(got, "items");
    assert_int_equal(cJSON_GetArraySize(items), 2); /* the unknown id is simply absent */
    cJSON *recipient = cJSON_GetArrayItem(items, 0);
    assert_string_equal(cf_json_str(recipient, "kind"), "recipient");
    assert_string_equal(cf_json_str(recipient, "version"), v1);
    cJSON *body = cJSON_GetObjectItem(recipient, "body");
    assert_string_equal(cf_json_str(body, "full_name"), "Петров Пётр Петрович");
    cJSON *card = cJSON_GetArrayItem(cJSON_GetObjectItem(body, "cards"), 0);
    assert_string_equal(cf_json_str(card, "token"), "AAECAwQFBgcICQoLDA0ODw");
    cJSON *service = cJSON_GetObjectItem(cJSON_GetArrayItem(items, 1), "body");
    assert_int_equal(cf_json_num(service, "norm_minutes"), 30);
    cJSON_Delete(got);

    /* Revoking the card changes the recipient's version; deleting them unlists them. */
    assert_int_equal(cf_harness_sql(&harness, "UPDATE card_bindings SET status = 'revoked'"), 0);
    reference_version(&dev, "recipient", RECIPIENT, v3, sizeof v3);
    assert_int_equal(strlen(v3), 16);
    assert_string_not_equal(v1, v3);
    assert_int_equal(
        cf_harness_sql(&harness,
                       "UPDATE recipients SET deleted_at = now() WHERE id = '" RECIPIENT "'"),
        0);
    reference_version(&dev, "recipient", RECIPIENT, v3, sizeof v3);
    assert_string_equal(v3, "");

    /* Bad requests. */
    cf_api_expect_problem(
        cf_api_json(&harness, "POST", path, "{\"items\":[{\"kind\":\"truck\",\"id\":\"1\"}]}", 422),
        "validation", "items[0].kind");
    cf_api_expect_problem(cf_api_json(&harness, "POST", path, "{\"items\":{}}", 422), "validation",
                          "items");
    char many[16384];
    size_t o = (size_t)snprintf(many, sizeof many, "{\"items\":[");
    for (int i = 0; i < 201; i++)
        o += (size_t)snprintf(many + o, sizeof many - o, "%s{\"kind\":\"plan\",\"id\":\"%d\"}",
                              i ? "," : "", i);
    snprintf(many + o, sizeof many - o, "]}");
    cf_api_expect_problem(cf_api_json(&harness, "POST", path, many, 422), "validation", "items");
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE devices SET status = 'revoked' WHERE id = '%s'", dev.id_text);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    snprintf(path, sizeof path, "/api/v1/devices/%s/reference", dev.id_text);
    cf_api_expect_problem(cf_api_json(&harness, "GET", path, NULL, 403), "revoked-device", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enrollment_codes),
        cmocka_unit_test(test_visit_upload_replay_and_rebuild),
        cmocka_unit_test(test_tampering_gap_and_bad_seal),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_order_does_not_matter),
        cmocka_unit_test(test_visit_list_filters_and_pages),
        cmocka_unit_test(test_two_instances_one_database),
        cmocka_unit_test(test_database_restart),
        cmocka_unit_test(test_reference_by_comparing_lists), /* last: it revokes and deletes */
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
