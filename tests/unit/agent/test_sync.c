/* Unit tests of the agent's sync logic (ag/sync.h) over a real store and an
 * in-memory server behind the transport interface (ag/transport.h): a batch answered
 * 413 is halved until it fits, and a single event still too large stops with a clear
 * error and nothing dropped; a 409 sequence-gap rewinds the queue and re-sends (not
 * when it asks for what was sent, and not more than three times in a run); a new
 * database epoch that holds less makes the agent upload again what it lacks; 503 and
 * network failures back off with a growing, capped delay while a refusal holds the
 * sync for a person; nothing is marked acknowledged before the answer is parsed; the
 * clock skew is the server's clock minus the device's; the reference cache follows
 * the server's list (new, changed and dropped records).
 * The in-memory server checks every batch as carefactd would (cf_batch_from_json,
 * the seal against the device key, consecutive seqs) and answers as it would
 * (backend/src/ingest.c). The real HTTP path is tested end to end in
 * tests/e2e/agent_visit.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ag/messages.h"
#include "ag/store.h"
#include "ag/sync.h"
#include "ag/transport.h"
#include "agent_test.h"
#include "cf/batch.h"
#include "cf/error.h"
#include "cf/uuid.h"

#define EPOCH_A "0a0a0a0a-0a0a-4a0a-8a0a-0a0a0a0a0a0a"
#define EPOCH_B "0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b"
#define MAX_LOG 64

/* ==== The in-memory server ==== */

struct sent_batch {
    uint64_t first, count;
    long status;
};

struct fake_server {
    struct ag_transport base; /* first: the ops table */
    struct ag_store *store; /* the terminal's, to see what it marked while we answer */
    uint8_t public_key[CF_ED25519_KEY_LEN];
    uint64_t held; /* the server holds seqs 1..held */
    char epoch[AG_EPOCH_TEXT_MAX + 1];
    size_t max_events; /* a batch of more events is answered 413 (0: no limit) */
    bool too_large_always; /* even a single event is answered 413 */
    /* The next `failing` exchanges fail: with fail_rc (a transport failure) when it is
     * set, else with the status fail_status. */
    int failing;
    int fail_rc;
    long fail_status;
    const char *fail_body; /* NULL: a problem of type "test" */
    const char *fail_bodies[8]; /* if set: the bodies of the failures, in turn */
    size_t fail_bodies_used;
    /* A new database that answers an upload beyond what it holds with a plain
     * acknowledgement of what it holds, not a sequence-gap. */
    bool ack_what_it_holds;
    const char *ack_body; /* non-NULL: the body of every 200 instead of a real ack */
    /* Reference data: the list and the fetch answers (200), and what was asked. */
    const char *ref_list, *ref_items;
    int ref_lists, ref_fetches;
    char ref_request[512];
    int exchanges;
    size_t logged;
    struct sent_batch log[MAX_LOG];
};

static char *dup_text(const char *text)
{
    char *copy = malloc(strlen(text) + 1);
    assert_non_null(copy);
    memcpy(copy, text, strlen(text) + 1);
    return copy;
}

static void answer(struct ag_reply *reply, long status, const char *body)
{
    reply->status = status;
    reply->body = dup_text(body);
    reply->body_len = strlen(body);
    reply->sent_ms = reply->received_ms = 0;
}

/* A failure planned by the test: 1 when it was used (the answer is set or rc is). */
static int planned_failure(struct fake_server *f, struct ag_reply *reply, int *rc, char *error,
                           size_t error_size)
{
    if (f->failing <= 0)
        return 0;
    f->failing--;
    if (f->fail_rc) {
        snprintf(error, error_size, "fake: connection refused");
        *rc = f->fail_rc;
    } else {
        char body[160];
        snprintf(body, sizeof body, "{\"type\":\"https://carefact/problems/test\",\"status\":%ld}",
                 f->fail_status);
        const char *next = f->fail_bodies_used < 8 ? f->fail_bodies[f->fail_bodies_used] : NULL;
        if (next)
            f->fail_bodies_used++;
        answer(reply, f->fail_status, next ? next : f->fail_body ? f->fail_body : body);
        *rc = 0;
    }
    return 1;
}

static void log_batch(struct fake_server *f, uint64_t first, uint64_t count, long status)
{
    if (f->logged < MAX_LOG)
        f->log[f->logged++] = (struct sent_batch){first, count, status};
}

static void ack(struct fake_server *f, struct ag_reply *reply)
{
    char body[256];
    if (f->ack_body) {
        answer(reply, 200, f->ack_body);
        return;
    }
    snprintf(body, sizeof body,
             "{\"acked_seq\":%llu,\"epoch\":\"%s\",\"server_time_ms\":1790000000000,"
             "\"stored\":0}",
             (unsigned long long)f->held, f->epoch);
    answer(reply, 200, body);
    /* Sent 9 s before the server's clock, answered 2 s later: the server is 9 s ahead of
     * the device's clock at the middle of the exchange. */
    reply->sent_ms = INT64_C(1789999990000);
    reply->received_ms = INT64_C(1789999992000);
}

static int fake_send_batch(struct ag_transport *t, const char *batch_json, struct ag_reply *reply,
                           char *error, size_t error_size)
{
    struct fake_server *f = (struct fake_server *)t;
    struct cf_batch batch;
    struct cf_error_detail d = {0};
    struct ag_queue_stats q;
    int rc = 0;
    memset(reply, 0, sizeof *reply);
    f->exchanges++;
    if (planned_failure(f, reply, &rc, error, error_size))
        return rc;
    assert_int_equal(cf_batch_from_json(batch_json, strlen(batch_json), &batch, &d), 0);
    assert_int_equal(cf_seal_verify(f->public_key, &batch), 0);
    uint64_t first = batch.events[0].seq, count = batch.count;
    cf_batch_cleanup(&batch);
    /* While the answer is on its way, nothing of this batch may be marked sent. */
    assert_int_equal(ag_store_queue_stats(f->store, &q), 0);
    assert_true(q.waiting == 0 || q.acked_seq < first);
    if (f->too_large_always || (f->max_events && count > f->max_events)) {
        log_batch(f, first, count, 413);
        answer(reply, 413, "{\"type\":\"https://carefact/problems/too-large\",\"status\":413}");
    } else if (first > f->held + 1 && !f->ack_what_it_holds) {
        char body[200];
        snprintf(body, sizeof body,
                 "{\"type\":\"https://carefact/problems/sequence-gap\",\"status\":409,"
                 "\"expected_seq\":%llu}",
                 (unsigned long long)f->held + 1);
        log_batch(f, first, count, 409);
        answer(reply, 409, body);
    } else {
        if (first <= f->held + 1 && first + count - 1 > f->held)
            f->held = first + count - 1;
        log_batch(f, first, count, 200);
        ack(f, reply);
    }
    return 0;
}

static int fake_reference_list(struct ag_transport *t, struct ag_reply *reply, char *error,
                               size_t error_size)
{
    struct fake_server *f = (struct fake_server *)t;
    (void)error;
    (void)error_size;
    if (!f->ref_list)
        fail_msg("the reference list was asked for in a test that skips it");
    memset(reply, 0, sizeof *reply);
    f->ref_lists++;
    answer(reply, 200, f->ref_list);
    return 0;
}

static int fake_reference_fetch(struct ag_transport *t, const char *json, struct ag_reply *reply,
                                char *error, size_t error_size)
{
    struct fake_server *f = (struct fake_server *)t;
    (void)error;
    (void)error_size;
    if (!f->ref_items)
        fail_msg("reference records were fetched in a test that skips them");
    memset(reply, 0, sizeof *reply);
    f->ref_fetches++;
    snprintf(f->ref_request, sizeof f->ref_request, "%s", json);
    answer(reply, 200, f->ref_items);
    return 0;
}

static int fake_unused_body(struct ag_transport *t, const char *json, struct ag_reply *reply,
                            char *error, size_t error_size)
{
    (void)t;
    (void)json;
    (void)reply;
    (void)error;
    (void)error_size;
    fail_msg("these tests do not enrol");
    return CF_EINVAL;
}

static void fake_free(struct ag_transport *t)
{
    (void)t; /* on the test's stack */
}

static const struct ag_transport_ops fake_ops = {
    .enroll = fake_unused_body,
    .send_batch = fake_send_batch,
    .reference_list = fake_reference_list,
    .reference_fetch = fake_reference_fetch,
    .free = fake_free,
};

/* ==== The terminal ==== */

static char dir[64];
static char path[128];
static struct ag_store *store;
static struct fake_server server;

static void fill_uuid(uint8_t out[CF_UUID_LEN], uint8_t byte)
{
    memset(out, byte, CF_UUID_LEN);
}

static int setup(void **state)
{
    (void)state;
    struct ag_identity id;
    if (ag_test_temp_store("sync", dir, sizeof dir, path, sizeof path) ||
        ag_store_open(path, &store, NULL))
        return -1;
    memset(&id, 0, sizeof id);
    fill_uuid(id.device_id, 0xD1);
    fill_uuid(id.worker_id, 0xA1);
    fill_uuid(id.provider_id, 0xB1);
    if (cf_ed25519_generate(id.private_key, id.public_key))
        return -1;
    id.token_key_len = 32;
    snprintf(id.server_url, sizeof id.server_url, "http://127.0.0.1:1");
    memset(&server, 0, sizeof server);
    server.base.ops = &fake_ops;
    server.store = store;
    memcpy(server.public_key, id.public_key, sizeof server.public_key);
    snprintf(server.epoch, sizeof server.epoch, "%s", EPOCH_A);
    /* As enrolment leaves it: nothing acknowledged, the server's epoch known. */
    int rc = ag_store_identity_set(store, &id);
    ag_identity_wipe(&id);
    return rc || ag_store_mark_acked(store, 0, EPOCH_A) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    ag_store_close(store);
    store = NULL;
    unsetenv("CAREFACT_WALL_OFFSET_MS");
    return ag_test_remove_dir(dir);
}

/* Record n door attempts (the smallest valid events). */
static void record_events(int n)
{
    for (int i = 0; i < n; i++) {
        struct cf_event ev = ag_test_attempt_event(1790000000000 + i);
        assert_int_equal(ag_store_append(store, &ev, NULL, NULL), 0);
    }
}

struct progress_lines {
    char text[2048];
};

static void keep_progress(void *ctx, const char *line)
{
    struct progress_lines *p = ctx;
    size_t used = strlen(p->text);
    snprintf(p->text + used, sizeof p->text - used, "%s\n", line);
}

static int sync_upload(size_t batch_max, bool automatic, struct ag_sync_report *rep,
                       struct progress_lines *lines)
{
    struct ag_sync_options opt = {.automatic = automatic,
                                  .skip_reference = true,
                                  .batch_max = batch_max,
                                  .progress = lines ? keep_progress : NULL,
                                  .progress_ctx = lines,
                                  .transport = &server.base};
    return ag_sync_run(store, &opt, rep);
}

static struct ag_queue_stats queue(void)
{
    struct ag_queue_stats q;
    assert_int_equal(ag_store_queue_stats(store, &q), 0);
    return q;
}

static struct ag_sync_state sync_state(void)
{
    struct ag_sync_state st;
    assert_int_equal(ag_store_sync_get(store, &st), 0);
    return st;
}

/* Terminal and server agree: seqs 1..seq held and acknowledged, in epoch. */
static void expect_in_sync(uint64_t seq, const char *epoch)
{
    assert_int_equal(server.held, seq);
    assert_int_equal(queue().acked_seq, seq);
    assert_int_equal(queue().waiting, 0);
    assert_string_equal(sync_state().epoch, epoch);
}

/* ==== 413: halving ==== */

static void test_413_halves_until_it_fits(void **state)
{
    (void)state;
    struct ag_sync_report rep;
    struct progress_lines lines = {""};
    record_events(10);
    server.max_events = 3;
    assert_int_equal(sync_upload(8, false, &rep, &lines), 0);
    assert_int_equal(rep.error, 0);
    /* 8 refused, 4 refused, then batches of 2 until all ten are in. */
    assert_true(server.logged >= 7);
    assert_int_equal(server.log[0].count, 8);
    assert_int_equal(server.log[0].status, 413);
    assert_int_equal(server.log[1].count, 4);
    assert_int_equal(server.log[1].status, 413);
    uint64_t next = 1;
    for (size_t i = 2; i < server.logged; i++) {
        assert_int_equal(server.log[i].status, 200);
        assert_int_equal(server.log[i].first, next);
        assert_true(server.log[i].count <= 2);
        next += server.log[i].count;
    }
    assert_int_equal(next, 11);
    assert_int_equal(server.held, 10);
    assert_int_equal(rep.uploaded, 10);
    assert_int_equal(queue().acked_seq, 10);
    assert_int_equal(queue().waiting, 0);
    assert_non_null(strstr(lines.text, "событий в пакете теперь 4"));
    assert_non_null(strstr(lines.text, "событий в пакете теперь 2"));
}

static void test_413_halves_down_to_one_event(void **state)
{
    (void)state;
    struct ag_sync_report rep;
    record_events(5);
    server.max_events = 1;
    assert_int_equal(sync_upload(0, false, &rep, NULL), 0);
    assert_int_equal(server.log[0].count, 5);
    assert_int_equal(server.held, 5);
    assert_int_equal(queue().waiting, 0);
    server.logged = 0;
    record_events(120);
    /* 100, 50, 25, 12, 6, 3 refused: six halvings in one run are progress, not a
     * server that acknowledges nothing. */
    assert_int_equal(sync_upload(0, false, &rep, NULL), 0);
    size_t refused = 0;
    for (size_t i = 0; i < server.logged; i++)
        refused += server.log[i].status == 413;
    assert_int_equal(refused, 6);
    assert_int_equal(server.held, 125);
    assert_int_equal(queue().waiting, 0);
}

static void test_413_single_event_stops_with_nothing_dropped(void **state)
{
    (void)state;
    struct ag_sync_report rep;
    record_events(2);
    assert_int_equal(sync_upload(0, false, &rep, NULL), 0);
    record_events(3);
    server.logged = 0;
    server.too_large_always = true;
    assert_int_equal(sync_upload(4, false, &rep, NULL), CF_EREJECTED);
    /* 3 waiting events: 3 refused, halved to 1, that one refused too. */
    assert_int_equal(server.logged, 2);
    assert_int_equal(server.log[0].count, 3);
    assert_int_equal(server.log[1].count, 1);
    assert_int_equal(server.log[1].first, 3);
    assert_int_equal(rep.error, CF_EREJECTED);
    assert_string_equal(rep.message, ag_message(CF_EREJECTED));
    assert_non_null(strstr(rep.detail, "event 3 alone is larger than the server accepts"));
    assert_true(rep.held);
    /* Nothing dropped: every event is still in the store, still waiting. */
    assert_int_equal(queue().acked_seq, 2);
    assert_int_equal(queue().waiting, 3);
    struct cf_event events[5];
    size_t n = 0;
    assert_int_equal(ag_store_load_events(store, 1, 5, events, &n, NULL), 0);
    assert_int_equal(n, 5);
    /* Once the server takes it (a person raised the limit), it goes. */
    server.too_large_always = false;
    assert_int_equal(sync_upload(4, false, &rep, NULL), 0);
    assert_int_equal(server.held, 5);
    assert_int_equal(queue().waiting, 0);
}

/* ==== 409 sequence-gap: rewind ==== */

static void test_gap_rewinds_and_resends(void **state)
{
    (void)state;
    struct ag_sync_report rep;
    struct progress_lines lines = {""};
    record_events(6);
    assert_int_equal(sync_upload(0, false, &rep, NULL), 0);
    assert_int_equal(queue().acked_seq, 6);
    /* The server's database is restored from a backup that holds 1..2. */
    server.held = 2;
    server.logged = 0;
    record_events(2);
    assert_int_equal(sync_upload(0, false, &rep, &lines), 0);
    assert_int_equal(server.logged, 2);
    assert_int_equal(server.log[0].first, 7);
    assert_int_equal(server.log[0].status, 409);
    assert_int_equal(server.log[1].first, 3); /* re-sent from where the server stopped */
    assert_int_equal(server.log[1].count, 6);
    assert_int_equal(server.log[1].status, 200);
    assert_int_equal(rep.reuploaded_from, 3);
    assert_true(rep.epoch_changed);
    expect_in_sync(8, EPOCH_A);
    assert_non_null(strstr(lines.text, "только до №2"));
}

static void test_gap_that_asks_for_more_than_sent_is_refused(void **state)
{
    (void)state;
    struct ag_sync_report rep;
    record_events(3);
    /* "Send from 6" for a batch from 1 is not a restored backup: nothing moves. */
    server.failing = 1;
    server.fail_status = 409;
    server.fail_body = "{\"type\":\"https://carefact/problems/sequence-gap\",\"status\":409,"
                       "\"expected_seq\":6}";
    assert_int_equal(sync_upload(0, false, &rep, NULL), CF_EBAD_ANSWER);
    assert_non_null(strstr(rep.detail, "sequence-gap expecting 6 for a batch from 1"));
    assert_int_equal(rep.reuploaded_from, 0);
    assert_int_equal(queue().acked_seq, 0);
    assert_int_equal(queue().waiting, 3);
    /* Nor is "send from 1" for a batch from 1: it asks for what it was sent (mutant
     * sync.gap-same). */
    server.failing = 1;
    server.fail_body = "{\"type\":\"https://carefact/problems/sequence-gap\",\"status\":409,"
                       "\"expected_seq\":1}";
    int before = server.exchanges;
    assert_int_equal(sync_upload(0, false, &rep, NULL), CF_EBAD_ANSWER);
    assert_non_null(strstr(rep.detail, "sequence-gap expecting 1 for a batch from 1"));
    assert_int_equal(server.exchanges, before + 1);
    assert_int_equal(queue().waiting, 3);
}

/* A server that asks for less and less at every answer is not followed down forever:
 * after three rewinds the fourth sequence-gap is a conflict for a person (mutant
 * sync.gap-cap), not a retry. */
static void test_gap_rewinds_are_capped(void **state)
{
    (void)state;
    struct ag_sync_report rep;
    record_events(6);
    assert_int_equal(sync_upload(0, false, &rep, NULL), 0);
    record_events(1);
    server.failing = 4;
    server.fail_status = 409;
    static const char *const bodies[] = {
        "{\"type\":\"https://carefact/problems/sequence-gap\",\"status\":409,\"expected_seq\":6}",
        "{\"type\":\"https://carefact/problems/sequence-gap\",\"status\":409,\"expected_seq\":5}",
        "{\"type\":\"https://carefact/problems/sequence-gap\",\"status\":409,\"expected_seq\":4}",
        "{\"type\":\"https://carefact/problems/sequence-gap\",\"status\":409,\"expected_seq\":3}",
    };
    for (size_t i = 0; i < 4; i++)
        server.fail_bodies[i] = bodies[i];
    int before = server.exchanges;
    assert_int_equal(sync_upload(0, false, &rep, NULL), CF_ECONFLICT);
    assert_int_equal(server.exchanges, before + 4);
    assert_true(rep.held);
    assert_non_null(strstr(rep.detail, "HTTP 409 sequence-gap"));
    assert_int_equal(queue().acked_seq, 3); /* the third rewind held */
}

/* ==== A new database epoch ==== */

static void test_new_epoch_reuploads_what_it_lacks(void **state)
{
    (void)state;
    struct ag_sync_report rep;
    record_events(5);
    assert_int_equal(sync_upload(0, false, &rep, NULL), 0);
    assert_string_equal(sync_state().epoch, EPOCH_A);
    /* A new database (epoch B) that holds only 1..2, and nothing waits on the
     * terminal: the sync replays the newest event, and the answer tells. */
    snprintf(server.epoch, sizeof server.epoch, "%s", EPOCH_B);
    server.held = 2;
    server.logged = 0;
    assert_int_equal(sync_upload(0, false, &rep, NULL), 0);
    assert_int_equal(server.log[0].first, 5);
    assert_int_equal(server.log[0].count, 1);
    assert_true(rep.epoch_changed);
    assert_int_equal(rep.reuploaded_from, 3);
    expect_in_sync(5, EPOCH_B);
}

static void test_new_epoch_acknowledging_less_rewinds(void **state)
{
    (void)state;
    struct ag_sync_report rep;
    record_events(4);
    assert_int_equal(sync_upload(0, false, &rep, NULL), 0);
    /* Epoch B holds 1..1 and acknowledges what it holds instead of a gap. */
    snprintf(server.epoch, sizeof server.epoch, "%s", EPOCH_B);
    server.held = 1;
    server.ack_what_it_holds = true;
    server.logged = 0;
    record_events(1);
    assert_int_equal(sync_upload(0, false, &rep, NULL), 0);
    assert_int_equal(server.log[0].first, 5);
    assert_int_equal(server.log[1].first, 2);
    assert_int_equal(server.log[1].count, 4);
    assert_true(rep.epoch_changed);
    assert_int_equal(rep.reuploaded_from, 2);
    expect_in_sync(5, EPOCH_B);
}

static void test_new_epoch_with_nothing_lost_is_recorded(void **state)
{
    (void)state;
    struct ag_sync_report rep;
    record_events(2);
    assert_int_equal(sync_upload(0, false, &rep, NULL), 0);
    assert_false(rep.epoch_changed);
    snprintf(server.epoch, sizeof server.epoch, "%s", EPOCH_B);
    record_events(1);
    assert_int_equal(sync_upload(0, false, &rep, NULL), 0);
    assert_true(rep.epoch_changed);
    assert_int_equal(rep.reuploaded_from, 0);
    expect_in_sync(3, EPOCH_B);
}

/* ==== Back-off and refusals ==== */

static void test_backoff_delay_grows_and_is_capped(void **state)
{
    (void)state;
    int64_t expected = AG_SYNC_BACKOFF_BASE_MS;
    for (int failures = 1; failures <= 12; failures++) {
        assert_int_equal(ag_sync_backoff_ms(failures, 0), expected);
        /* Jitter takes off at most half. */
        assert_true(ag_sync_backoff_ms(failures, 0.999) >= expected / 2);
        assert_true(ag_sync_backoff_ms(failures, 0.999) < expected);
        expected = expected * 2 > AG_SYNC_BACKOFF_MAX_MS ? AG_SYNC_BACKOFF_MAX_MS : expected * 2;
    }
    assert_int_equal(ag_sync_backoff_ms(1000, 0), AG_SYNC_BACKOFF_MAX_MS);
}

/* A run that fails with a retryable error: the state says when to come back. */
static void check_backoff(int failures, int code, struct ag_sync_report *rep)
{
    struct ag_sync_state st = sync_state();
    int64_t delay = ag_sync_backoff_ms(failures, 0);
    assert_int_equal(rep->error, code);
    assert_false(rep->held);
    assert_int_equal(st.failures, failures);
    assert_int_equal(st.last_error, code);
    assert_string_equal(st.last_message, ag_message(code));
    int64_t wait = st.next_attempt_ms - st.last_attempt_ms;
    assert_true(wait >= delay / 2);
    assert_true(wait <= delay + 5000); /* the run itself took a moment */
}

static void test_server_and_network_failures_back_off(void **state)
{
    (void)state;
    struct ag_sync_report rep;
    char offset[32];
    record_events(3);
    server.failing = 1000;
    int64_t moved = 0;
    for (int failures = 1; failures <= 9; failures++) {
        /* Alternate a busy server (503, 429 from a proxy's limit, 408 from a slow link)
         * and a network failure: all are retried later (mutant sync.busy-is-bad-answer). */
        server.fail_rc = failures % 2 ? 0 : CF_ENETWORK;
        server.fail_status = failures % 6 == 1 ? 503 : failures % 6 == 3 ? 429 : 408;
        int code = failures % 2 ? CF_ESERVER : CF_ENETWORK;
        int before = server.exchanges;
        /* An automatic sync before the time is not even tried. */
        if (failures > 1) {
            assert_int_equal(sync_upload(0, true, &rep, NULL), CF_EBACKOFF);
            assert_int_equal(server.exchanges, before);
            /* The clock moves past the next attempt: now it is tried. */
            moved += sync_state().next_attempt_ms - sync_state().last_attempt_ms + 1000;
            snprintf(offset, sizeof offset, "%lld", (long long)moved);
            assert_int_equal(setenv("CAREFACT_WALL_OFFSET_MS", offset, 1), 0);
        }
        assert_int_equal(sync_upload(0, true, &rep, NULL), code);
        assert_int_equal(server.exchanges, before + 1);
        check_backoff(failures, code, &rep);
        assert_int_equal(queue().waiting, 3);
    }
    /* The link comes back: everything goes, the back-off is reset. */
    server.failing = 0;
    moved += AG_SYNC_BACKOFF_MAX_MS + 1000;
    snprintf(offset, sizeof offset, "%lld", (long long)moved);
    assert_int_equal(setenv("CAREFACT_WALL_OFFSET_MS", offset, 1), 0);
    assert_int_equal(sync_upload(0, true, &rep, NULL), 0);
    assert_int_equal(queue().waiting, 0);
    assert_int_equal(sync_state().failures, 0);
    assert_int_equal(sync_state().next_attempt_ms - sync_state().last_sync_ms, AG_SYNC_INTERVAL_MS);
}

static void test_refusals_hold_for_a_person(void **state)
{
    (void)state;
    static const struct {
        long status;
        int code;
    } refusals[] = {{401, CF_EDEVICE_REFUSED}, {403, CF_EDEVICE_REFUSED}, {404, CF_EDEVICE_REFUSED},
                    {409, CF_ECONFLICT},       {400, CF_EREJECTED},       {422, CF_EREJECTED}};
    struct ag_sync_report rep;
    record_events(2);
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        server.failing = 1;
        server.fail_rc = 0;
        server.fail_status = refusals[i].status;
        assert_int_equal(sync_upload(0, false, &rep, NULL), refusals[i].code);
        assert_true(rep.held);
        assert_string_equal(rep.message, ag_message(refusals[i].code));
        assert_non_null(strstr(rep.detail, "HTTP"));
        assert_true(sync_state().held);
        /* No automatic retry, however long it waits. */
        int before = server.exchanges;
        assert_int_equal(setenv("CAREFACT_WALL_OFFSET_MS", "86400000", 1), 0);
        assert_int_equal(sync_upload(0, true, &rep, NULL), CF_EBACKOFF);
        assert_true(rep.held);
        assert_int_equal(server.exchanges, before);
        unsetenv("CAREFACT_WALL_OFFSET_MS");
        assert_int_equal(queue().waiting, 2);
    }
    /* A person runs it by hand: it goes, and the hold is lifted. */
    assert_int_equal(sync_upload(0, false, &rep, NULL), 0);
    assert_false(sync_state().held);
    assert_int_equal(queue().waiting, 0);
}

/* ==== Reference data ==== */

#define SERVICE_BODY(minutes)                                                                        \
    "{\"code\":\"HH-CLEAN\",\"form\":\"home\",\"name\":\"Уборка\",\"category\":\"household\"," \
    "\"norm_minutes\":" #minutes ",\"tariff_kopecks\":42000}"
#define SERVICE_KEY(version) "{\"kind\":\"service\",\"id\":\"HH-CLEAN\",\"version\":\"" version "\""

static int sync_reference(struct ag_sync_report *rep)
{
    struct ag_sync_options opt = {.transport = &server.base};
    return ag_sync_run(store, &opt, rep);
}

static void expect_service_minutes(const char *minutes)
{
    char *body = NULL;
    assert_int_equal(ag_store_ref_get(store, "service", "HH-CLEAN", &body, NULL), 0);
    if (!minutes) {
        assert_null(body);
        return;
    }
    assert_non_null(body);
    assert_non_null(strstr(body, minutes));
    free(body);
}

/* The cache follows the server's list: a new record is fetched, an unchanged one is
 * not, one whose version changed is fetched again (mutant sync.reference-version), one
 * no longer listed is dropped. */
static void test_reference_follows_the_list(void **state)
{
    (void)state;
    struct ag_sync_report rep;
    server.ref_list = "{\"items\":[" SERVICE_KEY("0000000000000001") "}]}";
    server.ref_items =
        "{\"items\":[" SERVICE_KEY("0000000000000001") ",\"body\":" SERVICE_BODY(60) "}]}";
    assert_int_equal(sync_reference(&rep), 0);
    assert_int_equal(rep.ref_fetched, 1);
    assert_non_null(strstr(server.ref_request, "\"id\":\"HH-CLEAN\""));
    expect_service_minutes("\"norm_minutes\":60");

    assert_int_equal(sync_reference(&rep), 0);
    assert_int_equal(server.ref_fetches, 1); /* the same version: nothing to fetch */
    assert_int_equal(rep.ref_fetched, 0);

    server.ref_list = "{\"items\":[" SERVICE_KEY("0000000000000002") "}]}";
    server.ref_items =
        "{\"items\":[" SERVICE_KEY("0000000000000002") ",\"body\":" SERVICE_BODY(90) "}]}";
    assert_int_equal(sync_reference(&rep), 0);
    assert_int_equal(server.ref_fetches, 2);
    assert_int_equal(rep.ref_fetched, 1);
    expect_service_minutes("\"norm_minutes\":90");

    server.ref_list = "{\"items\":[]}";
    assert_int_equal(sync_reference(&rep), 0);
    assert_int_equal(server.ref_fetches, 2);
    assert_int_equal(rep.ref_dropped, 1);
    expect_service_minutes(NULL);
    assert_int_equal(server.ref_lists, 4);
}

/* ==== Acknowledged only when acknowledged ==== */

static void test_only_a_parsed_ack_marks_events(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        int code;
    } answers[] = {
        {"<html><body>Log in to the Wi-Fi</body></html>", CF_EBAD_ANSWER},
        {"{\"acked_seq\":3,\"server_time_ms\":1790000000000}", CF_EBAD_ANSWER},
        {"{\"acked_seq\":3,\"epoch\":\"" EPOCH_A "\"}", CF_EBAD_ANSWER},
        {"{\"acked_seq\":\"3\",\"epoch\":\"" EPOCH_A "\",\"server_time_ms\":1}", CF_EBAD_ANSWER},
        {"[3]", CF_EBAD_ANSWER},
        {"{\"acked_seq\":9,\"epoch\":\"" EPOCH_A "\",\"server_time_ms\":1790000000000}",
         CF_ECONFLICT},
        /* One more than this terminal made is as wrong as six more (mutant
         * sync.ack-beyond-head). */
        {"{\"acked_seq\":4,\"epoch\":\"" EPOCH_A "\",\"server_time_ms\":1790000000000}",
         CF_ECONFLICT},
    };
    struct ag_sync_report rep;
    record_events(3);
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        server.ack_body = answers[i].body;
        assert_int_equal(sync_upload(0, false, &rep, NULL), answers[i].code);
        assert_int_equal(rep.uploaded, 0);
        assert_int_equal(queue().acked_seq, 0);
        assert_int_equal(queue().waiting, 3);
        /* Refused at the first answer, for what it is, with nothing of it taken: not
         * its epoch either (mutant sync.ack-unparsed: an unparsed "ack" taken as
         * acknowledging nothing, until the stall guard gives up). */
        if (answers[i].code == CF_EBAD_ANSWER)
            assert_non_null(strstr(rep.detail, "not an acknowledgement"));
        assert_int_equal(server.exchanges, (int)i + 1);
        assert_false(rep.epoch_changed);
        assert_string_equal(sync_state().epoch, EPOCH_A);
    }
    server.ack_body = NULL;
    assert_int_equal(sync_upload(0, false, &rep, NULL), 0);
    assert_int_equal(rep.uploaded, 3);
    assert_int_equal(queue().acked_seq, 3);
    /* Server clock minus device clock, not the other way round (mutant sync.skew-sign). */
    assert_true(rep.skew_known);
    assert_int_equal(rep.skew_ms, 9000);
    assert_int_equal(sync_state().skew_ms, 9000);
}

static void test_transport_failure_marks_nothing(void **state)
{
    (void)state;
    struct ag_sync_report rep;
    record_events(2);
    server.failing = 1;
    server.fail_rc = CF_ETLS;
    assert_int_equal(sync_upload(0, false, &rep, NULL), CF_ETLS);
    assert_non_null(strstr(rep.detail, "fake: connection refused"));
    server.failing = 1;
    server.fail_rc = CF_ETOOBIG;
    assert_int_equal(sync_upload(0, false, &rep, NULL), CF_EBAD_ANSWER);
    assert_int_equal(queue().waiting, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_413_halves_until_it_fits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_413_halves_down_to_one_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_413_single_event_stops_with_nothing_dropped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gap_rewinds_and_resends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_rewinds_are_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reference_follows_the_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_that_asks_for_more_than_sent_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_new_epoch_reuploads_what_it_lacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_epoch_acknowledging_less_rewinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_epoch_with_nothing_lost_is_recorded, setup,
                                        teardown),
        cmocka_unit_test(test_backoff_delay_grows_and_is_capped),
        cmocka_unit_test_setup_teardown(test_server_and_network_failures_back_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_hold_for_a_person, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_a_parsed_ack_marks_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transport_failure_marks_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
