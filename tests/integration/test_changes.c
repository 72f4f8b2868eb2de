/* The change feed, GET /api/v1/changes (issue 20): every change in commit order with a
 * cursor the consumer stores.
 *
 * The main case: 8 writers commit 25 transactions each, out of order on purpose — each
 * waits a random while before COMMIT and, at COMMIT, after the change has taken its
 * position, waits again (a deferred trigger of the test's own, fired after
 * changes_seal), and every fifth rolls back — while a consumer reads the feed 7 at a time
 * and "crashes" at random points: it forgets the page it was handling and starts again
 * from the cursor it stored after the last change it handled. In the end it must have
 * handled every committed change exactly once, none rolled back, positions increasing,
 * each subject's changes in the order its writer committed them. Without the feed lock
 * of changes_seal a later position commits first and the consumer skips the earlier one
 * (tests/mutants: changes.seal_lock).
 *
 * Also: what the real paths write (an uploaded visit, a correction, a register), the
 * manager's feed is their provider's only, a bad cursor or limit is 400, a worker 403; the
 * retention: changes past the region's days go oldest first, held by a pending webhook
 * delivery, and a cursor below them is 410 (sql/0037). */
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <libpq-fe.h>

#include "api_check.h"
#include "harness.h"
#include "sample_events.h"
#include "terminal.h"

#define REGION "00000000-0000-4000-8000-000000000001"
#define PROVIDER "00000000-0000-4000-8000-000000000002"
#define OTHER_PROVIDER "00000000-0000-4000-8000-000000000003"
#define WORKER "20212223-2425-2627-2829-2a2b2c2d2e2f" /* sample_event's worker */
#define RECIPIENT "30313233-3435-3637-3839-3a3b3c3d3e3f"
#define VISIT "40414243-4445-4647-4849-4a4b4c4d4e4f"
#define PASSWORD "correct horse battery"

#define WRITERS 8
#define TRANSACTIONS 25

static struct cf_harness harness;
static struct cf_session authority, manager, worker;

/* Certificate w of the writers: "c0000000-0000-4000-8000-0000000000ww", recipient
 * "b0000000-...-ww"; even writers' recipients are PROVIDER's, odd ones OTHER_PROVIDER's. */
static const char seed_sql[] =
    "INSERT INTO regions VALUES ('" REGION "', 'Тестовая область', decode(repeat('ab', 32), "
    "  'hex'));"
    "INSERT INTO providers VALUES ('" PROVIDER "', '" REGION "', 'КЦСОН Первый'), "
    "  ('" OTHER_PROVIDER "', '" REGION "', 'КЦСОН Второй');"
    "INSERT INTO workers VALUES ('" WORKER "', '" PROVIDER "', 'Иванова Анна');"
    "INSERT INTO recipients (id, provider_id, full_name) VALUES ('" RECIPIENT "', "
    "  '" PROVIDER "', 'Петров Пётр Петрович');"
    "INSERT INTO recipients (id, provider_id, full_name) SELECT "
    "  format('b0000000-0000-4000-8000-0000000000%s', to_char(w, 'FM00'))::uuid, "
    "  CASE WHEN w % 2 = 0 THEN '" PROVIDER "'::uuid ELSE '" OTHER_PROVIDER "'::uuid END, "
    "  'Получатель ' || w FROM generate_series(0, 7) w;"
    "INSERT INTO certificates (id, recipient_id, number, valid_from, valid_to) SELECT "
    "  format('c0000000-0000-4000-8000-0000000000%s', to_char(w, 'FM00'))::uuid, "
    "  format('b0000000-0000-4000-8000-0000000000%s', to_char(w, 'FM00'))::uuid, "
    "  'start', '2026-01-01', '2026-12-31' FROM generate_series(0, 7) w;"
    /* The test's pause at COMMIT, after changes_seal (deferred triggers fire in the
     * order their rows were written, and the pause row is written last). */
    "CREATE TABLE feed_test_pause (ms integer NOT NULL);"
    "CREATE FUNCTION feed_test_pause() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "  PERFORM pg_sleep(NEW.ms / 1000.0); RETURN NULL; END $$;"
    "CREATE CONSTRAINT TRIGGER feed_test_pause AFTER INSERT ON feed_test_pause "
    "  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION feed_test_pause();";

static int group_setup(void **state)
{
    (void)state;
    if (cf_harness_start(&harness, NULL) || cf_harness_sql(&harness, seed_sql) ||
        cf_harness_account(&harness, "feed-authority", "authority", NULL, NULL, PASSWORD) ||
        cf_harness_account(&harness, "feed-manager", "manager", PROVIDER, NULL, PASSWORD) ||
        cf_harness_account(&harness, "feed-worker", "worker", PROVIDER, WORKER, PASSWORD) ||
        cf_harness_login(&harness, "feed-authority", PASSWORD, &authority) ||
        cf_harness_login(&harness, "feed-manager", PASSWORD, &manager) ||
        cf_harness_login(&harness, "feed-worker", PASSWORD, &worker))
        return -1;
    harness.session = &authority;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cf_harness_stop(&harness);
    return 0;
}

/* ==== Reading the feed ==== */

/* One page after cursor (as the current session): the body, the status checked 200. */
static cJSON *page(const char *cursor, int limit)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/changes?limit=%d%s%s", limit, cursor[0] ? "&cursor=" : "",
             cursor);
    return cf_api_json(&harness, "GET", path, NULL, 200);
}

static long long cursor_position(const char *cursor)
{
    assert_true(strncmp(cursor, "c1.", 3) == 0);
    return strtoll(cursor + 3, NULL, 10);
}

/* Every change after cursor, as (kind subject_id) lines into out. */
static void read_all(const char *cursor, char *out, size_t size)
{
    char at[64];
    snprintf(at, sizeof at, "%s", cursor);
    size_t used = 0;
    out[0] = '\0';
    for (;;) {
        cJSON *body = page(at, 50);
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(body, "changes"))
        {
            used += (size_t)snprintf(out + used, size - used, "%s %s\n", cf_json_str(c, "kind"),
                                     cf_json_str(c, "subject_id"));
            assert_true(used < size);
        }
        snprintf(at, sizeof at, "%s", cf_json_str(body, "next_cursor"));
        bool more = cf_json_true(body, "more");
        cJSON_Delete(body);
        if (!more)
            return;
    }
}

/* ==== Concurrent writers ==== */

struct writer {
    int index;
    int committed[TRANSACTIONS]; /* the numbers committed, in commit order */
    int committed_count;
    unsigned seed;
};

static void writer_sql(PGconn *db, const char *sql)
{
    PGresult *res = PQexec(db, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "writer: %s: %s\n", sql, PQerrorMessage(db));
        abort();
    }
    PQclear(res);
}

static atomic_int writers_done;

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    PGconn *db = PQconnectdb(harness.conninfo);
    if (PQstatus(db) != CONNECTION_OK)
        abort();
    for (int i = 0; i < TRANSACTIONS; i++) {
        char sql[512];
        writer_sql(db, "BEGIN");
        /* Take an xid early, from another table's change, so that xid order and commit
         * order disagree as well. */
        if (i % 3 == 0)
            writer_sql(db, "SELECT pg_current_xact_id()");
        snprintf(sql, sizeof sql,
                 "UPDATE certificates SET number = 'w%d-%02d', version = version + 1 "
                 "WHERE id = 'c0000000-0000-4000-8000-0000000000%02d'",
                 w->index, i, w->index);
        writer_sql(db, sql);
        snprintf(sql, sizeof sql, "SELECT pg_sleep(%d / 1000.0)", (int)(rand_r(&w->seed) % 15));
        writer_sql(db, sql);
        if (i % 5 == 4) {
            writer_sql(db, "ROLLBACK");
            continue;
        }
        snprintf(sql, sizeof sql, "INSERT INTO feed_test_pause VALUES (%d)",
                 (int)(rand_r(&w->seed) % 25));
        writer_sql(db, sql);
        writer_sql(db, "COMMIT");
        w->committed[w->committed_count++] = i;
    }
    PQfinish(db);
    atomic_fetch_add(&writers_done, 1);
    return NULL;
}

/* What the consumer handled: per writer, the numbers in the order seen. */
struct consumer {
    char stored_cursor[64]; /* what it keeps across a crash */
    int seen[WRITERS][TRANSACTIONS];
    int seen_count[WRITERS];
    long long last_position;
    int crashes;
    int handled;
    unsigned seed;
};

/* Handle one change: record it and store its cursor (in that order: a crash between
 * the two would hand it again, which is the consumer's side of at-least-once; the
 * test's crashes come only between changes). */
static void handle(struct consumer *c, const cJSON *change)
{
    const char *cursor = cf_json_str(change, "cursor");
    long long position = cursor_position(cursor);
    assert_true(position > c->last_position); /* increasing: nothing repeated */
    c->last_position = position;
    const char *subject = cf_json_str(change, "subject_id");
    if (strcmp(cf_json_str(change, "kind"), "certificate.changed") == 0 &&
        strncmp(subject, "c0000000-", 9) == 0) {
        int w = (int)strtol(subject + strlen(subject) - 2, NULL, 10);
        const char *number = cf_json_str(cJSON_GetObjectItem(change, "data"), "number");
        int n = -1;
        assert_int_equal(sscanf(number, "w%*d-%d", &n), 1);
        assert_true(w >= 0 && w < WRITERS && c->seen_count[w] < TRANSACTIONS);
        c->seen[w][c->seen_count[w]++] = n;
    }
    c->handled++;
    snprintf(c->stored_cursor, sizeof c->stored_cursor, "%s", cursor);
}

/* One poll: a page from the stored cursor, handled change by change; now and then a
 * crash in the middle (the rest of the page is forgotten). Returns the page's size. */
static int poll_once(struct consumer *c)
{
    cJSON *body = page(c->stored_cursor, 7);
    const cJSON *list = cJSON_GetObjectItem(body, "changes");
    int n = cJSON_GetArraySize(list), crash_at = n;
    if (n > 0 && rand_r(&c->seed) % 4 == 0) {
        crash_at = (int)(rand_r(&c->seed) % (unsigned)n);
        c->crashes++;
    }
    for (int i = 0; i < crash_at; i++)
        handle(c, cJSON_GetArrayItem(list, i));
    if (crash_at == n && n == 0) /* an empty page still says where the feed is */
        assert_true(cursor_position(cf_json_str(body, "next_cursor")) ==
                    (c->stored_cursor[0] ? cursor_position(c->stored_cursor) : 0));
    cJSON_Delete(body);
    return n;
}

static void test_concurrent_writers_consumer_restarting(void **state)
{
    (void)state;
    harness.session = &authority;
    struct consumer consumer = {.seed = 20};
    /* Start after what the seed wrote. */
    char seeded[16384];
    read_all("", seeded, sizeof seeded);
    cJSON *head = page("", 1000);
    snprintf(consumer.stored_cursor, sizeof consumer.stored_cursor, "%s",
             cf_json_str(head, "next_cursor"));
    consumer.last_position = cursor_position(consumer.stored_cursor);
    cJSON_Delete(head);

    pthread_t threads[WRITERS];
    static struct writer writers[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        writers[w] = (struct writer){.index = w, .seed = (unsigned)(w * 7919 + 1)};
        assert_int_equal(pthread_create(&threads[w], NULL, writer_main, &writers[w]), 0);
    }
    /* Read while they write; then once more after the last has committed. */
    int polls = 0;
    while (atomic_load(&writers_done) < WRITERS) {
        polls++;
        if (!poll_once(&consumer)) {
            struct timespec pause = {0, 2 * 1000000L};
            nanosleep(&pause, NULL);
        }
    }
    for (int w = 0; w < WRITERS; w++)
        pthread_join(threads[w], NULL);
    while (poll_once(&consumer))
        polls++;
    printf("feed: %d changes handled in %d polls, %d crashes\n", consumer.handled, polls,
           consumer.crashes);
    assert_true(consumer.crashes > 0);
    for (int w = 0; w < WRITERS; w++) {
        /* Exactly what was committed, in commit order; nothing rolled back. */
        assert_int_equal(consumer.seen_count[w], writers[w].committed_count);
        assert_int_equal(writers[w].committed_count, TRANSACTIONS - TRANSACTIONS / 5);
        for (int i = 0; i < consumer.seen_count[w]; i++)
            assert_int_equal(consumer.seen[w][i], writers[w].committed[i]);
    }
}

/* ==== What the real paths write ==== */

static bool feed_has(const char *all, const char *line)
{
    return strstr(all, line) != NULL;
}

static void test_visits_corrections_registers_in_the_feed(void **state)
{
    (void)state;
    harness.session = &authority;
    cJSON *head = page("", 1000);
    char cursor[64];
    snprintf(cursor, sizeof cursor, "%s", cf_json_str(head, "next_cursor"));
    while (cf_json_true(head, "more")) {
        cJSON_Delete(head);
        head = page(cursor, 1000);
        snprintf(cursor, sizeof cursor, "%s", cf_json_str(head, "next_cursor"));
    }
    cJSON_Delete(head);

    struct cf_terminal terminal;
    struct cf_event ev[3];
    cf_terminal_enrol(&harness, WORKER, &terminal);
    sample_visit(ev, 50);
    cf_terminal_upload(&harness, &terminal, ev, 3);
    harness.session = &manager;
    cJSON_Delete(cf_api_json(&harness, "POST", "/api/v1/visits/" VISIT "/corrections",
                             "{\"field\":\"disputed\",\"value\":true,\"reason\":\"Спор\"}", 201));
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT count(*) FROM (SELECT register_submit('" PROVIDER
                                         "', '2025-01-01', 'feed-test') = 'ok' AS ok) s WHERE ok"),
                     1);

    harness.session = &authority;
    static char all[65536];
    read_all(cursor, all, sizeof all);
    /* One visit change for the upload (its three events in one transaction are one
     * change), one for the correction's re-judging if it changed the visit, the
     * correction, the register. */
    assert_true(feed_has(all, "visit.changed " VISIT "\n"));
    assert_true(feed_has(all, "correction.created "));
    assert_true(feed_has(all, "register.changed 2025-01." PROVIDER "\n"));
    /* The manager of the other provider sees none of it; this provider's manager does. */
    harness.session = &manager;
    static char mine[65536];
    read_all(cursor, mine, sizeof mine);
    assert_string_equal(mine, all);
    assert_true(feed_has(mine, "visit.changed " VISIT "\n"));
}

/* An UPDATE of visits that changes nothing is no change; one that changes a visit is one,
 * however many rows the statement wrote (the triggers take the statement's rows at once,
 * sql/0034: mutant changes.visit-unchanged-written). */
static void test_visit_update_without_change(void **state)
{
    (void)state;
    harness.session = &authority;
    cJSON *head = page("", 1000);
    char cursor[64];
    snprintf(cursor, sizeof cursor, "%s", cf_json_str(head, "next_cursor"));
    while (cf_json_true(head, "more")) {
        cJSON_Delete(head);
        head = page(cursor, 1000);
        snprintf(cursor, sizeof cursor, "%s", cf_json_str(head, "next_cursor"));
    }
    cJSON_Delete(head);
    assert_int_equal(
        cf_harness_sql_long(&harness, "SELECT count(*) FROM visits WHERE id = '" VISIT "'"), 1);
    assert_int_equal(cf_harness_sql(&harness, "UPDATE visits SET state = state"), 0);
    static char all[65536];
    read_all(cursor, all, sizeof all);
    assert_string_equal(all, "");
    /* every visit written, one changed */
    assert_int_equal(cf_harness_sql(&harness, "UPDATE visits SET updated_at = updated_at + "
                                              "CASE WHEN id = '" VISIT "' THEN interval "
                                              "'1 second' ELSE interval '0' END"),
                     0);
    read_all(cursor, all, sizeof all);
    assert_string_equal(all, "visit.changed " VISIT "\n");
}

static void test_manager_reads_own_provider_only(void **state)
{
    (void)state;
    static char all[131072], mine[131072];
    harness.session = &authority;
    read_all("", all, sizeof all);
    harness.session = &manager;
    read_all("", mine, sizeof mine);
    /* Writer 1's certificate belongs to the other provider: in the authority's feed, not
     * the manager's; writer 0's in both. */
    assert_true(feed_has(all, "certificate.changed c0000000-0000-4000-8000-000000000001\n"));
    assert_false(feed_has(mine, "certificate.changed c0000000-0000-4000-8000-000000000001\n"));
    assert_true(feed_has(mine, "certificate.changed c0000000-0000-4000-8000-000000000000\n"));
    long other = cf_harness_sql_long(
        &harness, "SELECT count(*) FROM changes WHERE provider_id = '" OTHER_PROVIDER "'");
    assert_true(other > 0);
}

static void test_bad_cursor_limit_and_roles(void **state)
{
    (void)state;
    harness.session = &authority;
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/changes?cursor=12", NULL, 400),
                          "validation", "cursor");
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/changes?cursor=c1.-5", NULL, 400),
                          "validation", "cursor");
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/changes?limit=0", NULL, 400),
                          "validation", "limit");
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/changes?since=1", NULL, 400),
                          "validation", NULL);
    /* A cursor past the end is an empty page that stays where it is. */
    cJSON *end = cf_api_json(&harness, "GET", "/api/v1/changes?cursor=c1.999999999", NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(end, "changes")), 0);
    assert_string_equal(cf_json_str(end, "next_cursor"), "c1.999999999");
    assert_false(cf_json_true(end, "more"));
    cJSON_Delete(end);
    harness.session = &worker;
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/changes", NULL, 403), "forbidden",
                          NULL);
    harness.session = NULL;
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/changes", NULL, 401),
                          "unauthenticated", NULL);
    harness.session = &authority;
}

/* ==== Retention (sql/0037) ==== */

static long position_at(int offset)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT position FROM changes ORDER BY position OFFSET %d LIMIT 1",
             offset);
    return cf_harness_sql_long(&harness, sql);
}

/* The oldest change still kept (the first of the feed without a cursor), or -1. */
static long long first_in_feed(void)
{
    cJSON *body = page("", 1);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(body, "changes"), 0);
    long long at = first ? cursor_position(cf_json_str(first, "cursor")) : -1;
    cJSON_Delete(body);
    return at;
}

/* The changes of the feed's first positions, made 91 days old: with the region's 90 days
 * they go oldest first, but not past one with a webhook delivery pending, which stays with
 * every change after it until it is delivered; with 200 days none goes. A cursor below what
 * went is 410 cursor-expired with oldest_cursor (the consumer missed changes); at it, or
 * none, the feed goes on from the oldest kept. Run by hand first (carefactd's upkeep may run
 * the same function meanwhile, so the state is checked, not who removed it), then left to
 * the upkeep. */
static void test_retention(void **state)
{
    (void)state;
    harness.session = &authority;
    long lowest = position_at(0), pinned = position_at(3), aged = position_at(6);
    long after_aged = position_at(7);
    assert_true(lowest > 0 && pinned > lowest + 1 && after_aged > aged);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO webhook_subscriptions (id, region_id, url, events, secret, enabled, "
             "  created_by) VALUES ('e0000000-0000-4000-8000-000000000001', '" REGION "', "
             "  'http://127.0.0.1:9/hook', '{visit.changed}', repeat('s', 32), false, 'test');"
             "INSERT INTO webhook_deliveries (subscription_id, change_id, order_key) "
             "  SELECT 'e0000000-0000-4000-8000-000000000001', id, order_key FROM changes "
             "  WHERE position = %ld;"
             "UPDATE regions SET changes_keep_days = 200;"
             "UPDATE changes SET changed_at = now() - interval '91 days' WHERE position <= %ld",
             pinned, aged);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT changes_expire()"), 0);
    assert_int_equal(first_in_feed(), lowest);

    assert_int_equal(cf_harness_sql(&harness, "UPDATE regions SET changes_keep_days = 90"), 0);
    /* by hand; if the upkeep holds the expiry's lock at that moment, its pass does it */
    for (int i = 0; i < 150; i++) {
        cf_harness_sql_long(&harness, "SELECT changes_expire()");
        if (first_in_feed() == pinned)
            break;
        nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
    }
    assert_int_equal(first_in_feed(), pinned);
    long through = cf_harness_sql_long(&harness, "SELECT through FROM changes_expired");
    assert_int_equal(through, position_at(0) - 1);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM webhook_deliveries d "
                                                   "JOIN changes c ON c.id = d.change_id "
                                                   "WHERE d.status = 'pending'"),
                     1);
    char cursor[64], path[128], oldest[64];
    snprintf(oldest, sizeof oldest, "c1.%ld", through);
    snprintf(path, sizeof path, "/api/v1/changes?cursor=c1.%ld", lowest);
    cJSON *gone = cf_api_json(&harness, "GET", path, NULL, 410);
    assert_string_equal(cf_json_str(gone, "oldest_cursor"), oldest);
    cf_api_expect_problem(gone, "cursor-expired", "cursor");
    snprintf(cursor, sizeof cursor, "c1.%ld", through);
    cJSON *next = page(cursor, 1);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(next, "changes"), 0);
    assert_non_null(first);
    assert_int_equal(cursor_position(cf_json_str(first, "cursor")), pinned);
    cJSON_Delete(next);

    /* delivered: it goes, with the aged changes after it and its delivery; the next stays.
     * Left to carefactd's upkeep this time (every 5 s). */
    assert_int_equal(cf_harness_sql(&harness, "UPDATE webhook_deliveries SET status = "
                                              "'delivered', delivered_at = now()"),
                     0);
    for (int i = 0; i < 150 && first_in_feed() != after_aged; i++)
        nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
    assert_int_equal(first_in_feed(), after_aged);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT through FROM changes_expired"), aged);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM webhook_deliveries"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_writers_consumer_restarting),
        cmocka_unit_test(test_visits_corrections_registers_in_the_feed),
        cmocka_unit_test(test_visit_update_without_change),
        cmocka_unit_test(test_manager_reads_own_provider_only),
        cmocka_unit_test(test_bad_cursor_limit_and_roles),
        cmocka_unit_test(test_retention),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
