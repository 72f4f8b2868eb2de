/* Integration tests of visit ownership and payment (issue 13) against the real carefactd
 * and a private PostgreSQL, with signed events from test terminals: a visit belongs to
 * the terminal that opened it (another provider's terminal or a colleague's naming it
 * is refused with 409 visit-owned-elsewhere, nothing stored, audited; never a 5xx, and
 * the refused terminal can still upload), a visit is rated once (a second rating is
 * stored but changes nothing and flags the visit rating_amended), a card confirms only
 * for a recipient of the visit's provider with a certificate valid that day, a visit to
 * an unknown recipient is never paid, and a forked chain (seq = held + 1, wrong prev,
 * properly signed) is refused as tampering (issue 19), and two terminals racing to open
 * one new visit cannot both get it. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "cf/uuid.h"
#include "api_check.h"
#include "harness.h"
#include "sample_events.h"
#include "terminal.h"

#define PROVIDER "00000000-0000-4000-8000-000000000002"
#define OTHER_PROVIDER "00000000-0000-4000-8000-000000000003"
#define WORKER "20212223-2425-2627-2829-2a2b2c2d2e2f" /* the sample events' worker */
#define COLLEAGUE "21000000-0000-4000-8000-000000000001" /* same provider */
#define STRANGER "21000000-0000-4000-8000-000000000002" /* the other provider */
#define RECIPIENT "30313233-3435-3637-3839-3a3b3c3d3e3f" /* the sample events' recipient */
#define OTHER_RECIPIENT "31000000-0000-4000-8000-000000000001" /* of the other provider */
#define GOOD_CARD "AAECAwQFBgcICQoLDA0ODw" /* the sample events' card, bound to RECIPIENT */
#define OTHER_CARD "CCECAwQFBgcICQoLDA0ODw" /* bound to OTHER_RECIPIENT */
#define NOV "2026-11." PROVIDER /* the sample events are of 22 November 2026 */

static struct cf_harness harness;

static const char seed_sql[] =
    "INSERT INTO regions VALUES ('00000000-0000-4000-8000-000000000001', 'Тестовая область', "
    "  decode(repeat('ab', 32), 'hex'));"
    "INSERT INTO providers VALUES ('" PROVIDER "', '00000000-0000-4000-8000-000000000001', "
    "  'КЦСОН Тестовый'), ('" OTHER_PROVIDER "', '00000000-0000-4000-8000-000000000001', "
    "  'КЦСОН Другой');"
    "INSERT INTO workers VALUES ('" WORKER "', '" PROVIDER "', 'Иванова Анна'), "
    "  ('" COLLEAGUE "', '" PROVIDER "', 'Смирнова Ольга'), "
    "  ('" STRANGER "', '" OTHER_PROVIDER "', 'Козлов Игорь');"
    "INSERT INTO recipients (id, provider_id, full_name) VALUES "
    "  ('" RECIPIENT "', '" PROVIDER "', 'Петров Пётр Петрович'), "
    "  ('" OTHER_RECIPIENT "', '" OTHER_PROVIDER "', 'Сидоров Семён Семёнович');"
    "INSERT INTO card_bindings (recipient_id, token, method, scheme, last4, status) VALUES "
    "  ('" RECIPIENT "', '" GOOD_CARD "', 'emv', 'mir', '5678', 'active'), "
    "  ('" OTHER_RECIPIENT "', '" OTHER_CARD "', 'emv', 'mir', '1111', 'active');"
    /* RECIPIENT's certificate covers 2026 only; OTHER_RECIPIENT's is valid too */
    "INSERT INTO certificates (id, recipient_id, number, valid_from, valid_to) VALUES "
    "  ('32000000-0000-4000-8000-000000000001', '" RECIPIENT "', 'ИППСУ-1', '2026-01-01', "
    "   '2026-12-31'), ('32000000-0000-4000-8000-000000000002', '" OTHER_RECIPIENT "', "
    "   'ИППСУ-2', '2026-01-01', '2026-12-31');"
    "INSERT INTO services VALUES ('HH-01', 'Уборка жилого помещения', 'household', 'home', 30, "
    "  25000), ('MED.02', 'Измерение давления', 'medical', 'home', 15, 9000);";

static int group_setup(void **state)
{
    (void)state;
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

static long event_count(const struct cf_terminal *dev)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE device_id = '%s'", dev->id_text);
    return cf_harness_sql_long(&harness, sql);
}

static long tampering_count(const struct cf_terminal *dev)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit_log WHERE action = 'ingest.tampering' AND subject = '%s'",
             dev->id_text);
    return cf_harness_sql_long(&harness, sql);
}

/* One line of the visit as the database holds it, for exact comparison. */
static char *visit_line(const char *visit_id)
{
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT concat_ws('|', provider_id, worker_id, state, duration_s, rating, comment, "
             "start_confirmed, end_confirmed, flags, service_codes) FROM visits WHERE id = '%s'",
             visit_id);
    char *line = cf_harness_sql_value(&harness, sql);
    assert_non_null(line);
    return line;
}

/* Each visit of WORKER on a day of its own (days after the sample's, within the
 * certificate's year): one worker's visits at the same time would overlap, a flag these
 * tests are not about. day_ms is the current visit's offset from the sample's time. */
static int64_t day_ms;

static void next_day(void)
{
    static int64_t days;
    day_ms = ++days * INT64_C(86400000);
}

/* The sample visit (50 minutes, rated 5) under visit_id, on a day of its own (day_ms),
 * uploaded by dev. */
static void upload_visit(struct cf_terminal *dev, const char *visit_id)
{
    struct cf_event ev[3];
    sample_visit(ev, 50);
    next_day();
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cf_uuid_from_text(visit_id, ev[i].visit_id), 0);
        ev[i].wall_ms += day_ms;
    }
    cf_terminal_upload(&harness, dev, ev, 3);
}

/* Chain ev on a copy of dev, sign it alone and send it: the answer must be 409
 * visit-owned-elsewhere naming events[0].visit_id. dev's chain is not moved (nothing
 * was stored). */
static void expect_refused(struct cf_terminal *dev, struct cf_event *ev)
{
    struct cf_terminal copy = *dev;
    long before = tampering_count(dev), stored = event_count(dev);
    cf_terminal_chain(&copy, ev);
    char *json = cf_terminal_batch(&copy, ev, 1);
    cJSON *reply = cf_terminal_send(&harness, &copy, json, 409);
    assert_non_null(strstr(cf_json_str(reply, "detail"), "another terminal"));
    cf_api_expect_problem(reply, "visit-owned-elsewhere", "events[0].visit_id");
    free(json);
    assert_int_equal(event_count(dev), stored);
    assert_int_equal(tampering_count(dev), before + 1);
}

/* ==== Tests ==== */

/* Another provider's terminal names our visit with an earlier wall clock: 409, not
 * 503, and the terminal is not stuck: its next (own) batch is taken. */
static void test_foreign_provider_event_refused(void **state)
{
    (void)state;
    const char *visit = "45000000-0000-4000-8000-000000000001";
    struct cf_terminal ours, theirs;
    cf_terminal_enrol(&harness, WORKER, &ours);
    cf_terminal_enrol(&harness, STRANGER, &theirs);
    upload_visit(&ours, visit);
    char *before = visit_line(visit);

    struct cf_event cancel;
    sample_event(&cancel, CF_EV_VISIT_CANCELLED);
    assert_int_equal(cf_uuid_from_text(visit, cancel.visit_id), 0);
    assert_int_equal(cf_uuid_from_text(STRANGER, cancel.worker_id), 0);
    cancel.wall_ms -= 3600000; /* an hour before our start */
    expect_refused(&theirs, &cancel);
    /* the same again (the terminal retries its head of queue): the same answer */
    expect_refused(&theirs, &cancel);

    char *after = visit_line(visit);
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* the refused terminal's own visit goes through */
    struct cf_event own[3];
    sample_visit(own, 40);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cf_uuid_from_text("45000000-0000-4000-8000-000000000002", own[i].visit_id),
                         0);
        assert_int_equal(cf_uuid_from_text(STRANGER, own[i].worker_id), 0);
        assert_int_equal(cf_uuid_from_text(OTHER_RECIPIENT, own[i].recipient_id), 0);
    }
    cf_terminal_upload(&harness, &theirs, own, 3);
    assert_int_equal(event_count(&theirs), 3);
}

/* A colleague's terminal (same provider) rates or ends a visit it did not open: refused
 * and audited exactly like a foreign provider's; the visit is unchanged. */
static void test_colleague_event_refused(void **state)
{
    (void)state;
    const char *visit = "46000000-0000-4000-8000-000000000001";
    struct cf_terminal ours, colleague;
    cf_terminal_enrol(&harness, WORKER, &ours);
    cf_terminal_enrol(&harness, COLLEAGUE, &colleague);
    upload_visit(&ours, visit);
    char *before = visit_line(visit);

    struct cf_event rate, end;
    sample_event(&rate, CF_EV_VISIT_RATED);
    assert_int_equal(cf_uuid_from_text(visit, rate.visit_id), 0);
    assert_int_equal(cf_uuid_from_text(COLLEAGUE, rate.worker_id), 0);
    rate.rating = 1;
    snprintf(rate.comment, sizeof rate.comment, "%s", "Плохо");
    rate.wall_ms += 3600000;
    expect_refused(&colleague, &rate);

    sample_event(&end, CF_EV_VISIT_ENDED); /* back-dated: 5 minutes after the start */
    assert_int_equal(cf_uuid_from_text(visit, end.visit_id), 0);
    assert_int_equal(cf_uuid_from_text(COLLEAGUE, end.worker_id), 0);
    end.wall_ms += 5 * 60000;
    end.mono_ms += 5 * 60000;
    end.service_count = 1;
    expect_refused(&colleague, &end);

    char *after = visit_line(visit);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

/* Out of order across terminals: a colleague's end of a visit the server has not seen
 * opened arrives first. It cannot open the visit (only a start, a cancellation or a door
 * attempt opens one), so it is refused; the real start, arriving later, is taken and the
 * visit is its terminal's. */
static void test_close_before_open_refused(void **state)
{
    (void)state;
    const char *visit = "47000000-0000-4000-8000-000000000001";
    struct cf_terminal ours, colleague;
    cf_terminal_enrol(&harness, WORKER, &ours);
    cf_terminal_enrol(&harness, COLLEAGUE, &colleague);
    struct cf_event end;
    sample_event(&end, CF_EV_VISIT_ENDED);
    assert_int_equal(cf_uuid_from_text(visit, end.visit_id), 0);
    assert_int_equal(cf_uuid_from_text(COLLEAGUE, end.worker_id), 0);
    end.wall_ms += 20 * 60000;
    expect_refused(&colleague, &end);
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT count(*) FROM visits WHERE id = '47000000-0000-"
                                         "4000-8000-000000000001'"),
                     0);

    upload_visit(&ours, visit);
    char *line = visit_line(visit);
    assert_string_equal(line, PROVIDER "|" WORKER "|rated|3000|5|Спасибо, всё сделано|t|t|{}|"
                                       "{HH-01,MED.02}");
    free(line);
    /* and the colleague's end, sent again now, is still refused */
    expect_refused(&colleague, &end);
}

/* A second rating from the owner's terminal is stored (refusing it would block the
 * terminal's queue) but the first rating stands and the visit is flagged. */
static void test_second_rating_flagged(void **state)
{
    (void)state;
    const char *visit = "48000000-0000-4000-8000-000000000001";
    struct cf_terminal ours;
    cf_terminal_enrol(&harness, WORKER, &ours);
    upload_visit(&ours, visit);
    struct cf_event again;
    sample_event(&again, CF_EV_VISIT_RATED);
    assert_int_equal(cf_uuid_from_text(visit, again.visit_id), 0);
    again.rating = 1;
    snprintf(again.comment, sizeof again.comment, "%s", "Передумал");
    again.wall_ms += day_ms + 2 * 3600000;
    cf_terminal_upload(&harness, &ours, &again, 1);
    assert_int_equal(event_count(&ours), 4);
    char *line = visit_line(visit);
    assert_string_equal(line, PROVIDER "|" WORKER "|rated|3000|5|Спасибо, всё сделано|t|t|"
                                       "{rating_amended}|{HH-01,MED.02}");
    free(line);
    /* the list filters by the new flag */
    cJSON *page = cf_api_json(&harness, "GET", "/api/v1/visits?flag=rating_amended", NULL, 200);
    cJSON *items = cJSON_GetObjectItem(page, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(items, 0), "id"), visit);
    cJSON_Delete(page);
}

static const cJSON *find_excluded(const cJSON *doc, const char *visit_id)
{
    const cJSON *line;
    cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(doc, "excluded"))
    {
        if (strcmp(cf_json_str(line, "visit_id"), visit_id) == 0)
            return line;
    }
    return NULL;
}

static bool is_included(const cJSON *doc, const char *visit_id)
{
    const cJSON *line;
    cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(doc, "included"))
    {
        if (strcmp(cf_json_str(line, "visit_id"), visit_id) == 0)
            return true;
    }
    return false;
}

/* A visit to another provider's recipient with that recipient's real card: flagged
 * unknown_recipient, not card-confirmed, never paid. A visit to our recipient on a day
 * their certificate does not cover: the card does not confirm it. */
static void test_foreign_recipient_not_paid(void **state)
{
    (void)state;
    const char *foreign = "49000000-0000-4000-8000-000000000001";
    const char *paid = "49000000-0000-4000-8000-000000000002";
    const char *uncertified = "49000000-0000-4000-8000-000000000003";
    struct cf_terminal ours;
    cf_terminal_enrol(&harness, WORKER, &ours);
    struct cf_event ev[9];
    next_day();
    for (int v = 0; v < 3; v++) {
        sample_visit(ev + 3 * v, 50);
        for (int i = 3 * v; i < 3 * v + 3; i++) {
            assert_int_equal(cf_uuid_from_text(v == 0   ? foreign
                                               : v == 1 ? paid
                                                        : uncertified,
                                               ev[i].visit_id),
                             0);
            ev[i].wall_ms += day_ms + v * 2 * 3600000;
            if (v == 2) /* a year later: 2027, the certificate ended with 2026 */
                ev[i].wall_ms += INT64_C(365) * 86400000;
        }
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(cf_uuid_from_text(OTHER_RECIPIENT, ev[i].recipient_id), 0);
        memcpy(ev[i].card.token, OTHER_CARD, CF_TOKEN_TEXT_LEN + 1);
    }
    cf_terminal_upload(&harness, &ours, ev, 9);
    /* The verdict must not depend on who rebuilds: the authority confirming a card (scope
     * every provider) rebuilds too, as does an operator after a threshold change. */
    assert_int_equal(cf_harness_sql(&harness, "SELECT rebuild_visits(ARRAY['49000000-0000-4000-"
                                              "8000-000000000001','49000000-0000-4000-8000-"
                                              "000000000003']::uuid[])"),
                     0);

    char *line = visit_line(foreign);
    assert_string_equal(line, PROVIDER "|" WORKER "|rated|3000|5|Спасибо, всё сделано|f|f|"
                                       "{card_mismatch,unknown_recipient}|{HH-01,MED.02}");
    free(line);
    line = visit_line(uncertified);
    assert_string_equal(line, PROVIDER "|" WORKER "|rated|3000|5|Спасибо, всё сделано|f|f|"
                                       "{}|{HH-01,MED.02}");
    free(line);

    cJSON *doc = cf_api_json(&harness, "GET", "/api/v1/registers/" NOV, NULL, 200);
    assert_false(is_included(doc, foreign));
    const cJSON *excluded = find_excluded(doc, foreign);
    assert_non_null(excluded);
    assert_string_equal(cf_json_str(excluded, "reason"), "unknown_recipient");
    assert_true(is_included(doc, paid));
    cJSON_Delete(doc);
}

/* Issue 19: the fork. seq = held + 1, properly signed, but prev is not the digest held
 * for seq - 1: 409 tampering on events[0].prev, nothing stored, audited. */
static void test_forked_chain_refused(void **state)
{
    (void)state;
    struct cf_terminal dev;
    cf_terminal_enrol(&harness, WORKER, &dev);
    upload_visit(&dev, "4a000000-0000-4000-8000-000000000001");
    struct cf_terminal fork = dev;
    memset(fork.last_digest, 0x5a, sizeof fork.last_digest); /* another history */
    struct cf_event next;
    sample_event(&next, CF_EV_VISIT_ATTEMPT);
    cf_terminal_chain(&fork, &next);
    assert_int_equal(next.seq, 4);
    long before = tampering_count(&dev);
    char *json = cf_terminal_batch(&fork, &next, 1);
    cJSON *reply = cf_terminal_send(&harness, &dev, json, 409);
    assert_non_null(strstr(cf_json_str(reply, "detail"), "prev of seq 4"));
    cf_api_expect_problem(reply, "tampering", "events[0].prev");
    free(json);
    assert_int_equal(event_count(&dev), 3);
    assert_int_equal(tampering_count(&dev), before + 1);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT last_seq FROM devices WHERE id = '%s'", dev.id_text);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 3);
    /* the real seq 4 is still taken */
    struct cf_event real;
    sample_event(&real, CF_EV_VISIT_ATTEMPT);
    cf_terminal_upload(&harness, &dev, &real, 1);
    assert_int_equal(event_count(&dev), 4);
}

/* Two terminals open the same new visit at once: exactly one gets it. Terminal A's upload
 * is played by hand inside a transaction kept open (its events stored and ingest_finish
 * run, not yet committed); B's upload of the same visit meanwhile must wait for A's commit
 * (the advisory lock per visit) and then be refused. Without the lock B sees no other
 * device's event (A's are uncommitted) and both would get in. */
struct open_tx {
    char sql[1200];
    int rc;
};

static void *hold_open_tx(void *arg)
{
    struct open_tx *tx = arg;
    tx->rc = cf_harness_sql(&harness, tx->sql);
    return NULL;
}

static void test_racing_openers(void **state)
{
    (void)state;
    const char *visit = "4b000000-0000-4000-8000-000000000001";
    struct cf_terminal a, b;
    cf_terminal_enrol(&harness, WORKER, &a);
    cf_terminal_enrol(&harness, COLLEAGUE, &b);
    struct open_tx tx = {.rc = -1};
    snprintf(tx.sql, sizeof tx.sql,
             "BEGIN;"
             "INSERT INTO events (device_id, seq, digest, kind, visit_id, worker_id, "
             "  recipient_id, wall_time, mono_ms, boot_id, provider_id) VALUES ('%s', 1, "
             "  decode(repeat('11', 32), 'hex'), 'visit.started', '%s', '" WORKER "', "
             "  '" RECIPIENT "', now(), 1000, gen_random_uuid(), '" PROVIDER "');"
             "SELECT * FROM ingest_finish('%s', 0, 1, decode(repeat('11', 32), 'hex'));"
             "SELECT pg_sleep(2);"
             "COMMIT;",
             a.id_text, visit, a.id_text);
    pthread_t holder;
    assert_int_equal(pthread_create(&holder, NULL, hold_open_tx, &tx), 0);
    /* wait until A's transaction has run ingest_finish and sleeps before its COMMIT */
    long held = 0;
    for (int i = 0; i < 250 && held == 0; i++) {
        held = cf_harness_sql_long(&harness, "SELECT count(*) FROM pg_stat_activity WHERE "
                                             "wait_event = 'PgSleep'");
        if (!held)
            nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
    }
    assert_int_equal(held, 1);
    struct cf_event start;
    sample_event(&start, CF_EV_VISIT_STARTED);
    assert_int_equal(cf_uuid_from_text(visit, start.visit_id), 0);
    assert_int_equal(cf_uuid_from_text(COLLEAGUE, start.worker_id), 0);
    expect_refused(&b, &start);
    pthread_join(holder, NULL);
    assert_int_equal(tx.rc, 0);
    char *line = visit_line(visit);
    assert_string_equal(line, PROVIDER "|" WORKER "|started|f|f|{}|{}");
    free(line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_foreign_provider_event_refused),
        cmocka_unit_test(test_colleague_event_refused),
        cmocka_unit_test(test_close_before_open_refused),
        cmocka_unit_test(test_second_rating_flagged),
        cmocka_unit_test(test_foreign_recipient_not_paid),
        cmocka_unit_test(test_forked_chain_refused),
        cmocka_unit_test(test_racing_openers),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
