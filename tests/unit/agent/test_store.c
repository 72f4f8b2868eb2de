/* Unit tests of the agent's store (ag/store.h) on real SQLite files in a temporary
 * folder: seq and chain assignment, acknowledgement and rewind, reopening, the
 * identity, a damaged or foreign file answered with a clear error, a full disk
 * (a page quota) that leaves nothing half-written, two processes appending to one
 * chain, and the visit and reference indexes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "ag/store.h"
#include "agent_test.h"
#include "cf/uuid.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    return ag_test_temp_store("store", dir, sizeof dir, path, sizeof path);
}

static int teardown(void **state)
{
    (void)state;
    return ag_test_remove_dir(dir);
}

static void fill_uuid(uint8_t out[CF_UUID_LEN], uint8_t byte)
{
    memset(out, byte, CF_UUID_LEN);
}

static struct ag_identity test_identity(void)
{
    struct ag_identity id;
    memset(&id, 0, sizeof id);
    fill_uuid(id.device_id, 0xD1);
    fill_uuid(id.worker_id, 0xA1);
    fill_uuid(id.provider_id, 0xB1);
    assert_int_equal(cf_ed25519_generate(id.private_key, id.public_key), 0);
    memset(id.token_key, 0x42, 32);
    id.token_key_len = 32;
    snprintf(id.server_url, sizeof id.server_url, "http://127.0.0.1:1");
    id.enrolled_ms = 1790000000000;
    return id;
}

static struct ag_store *open_enrolled(void)
{
    struct ag_store *s = NULL;
    struct cf_error_detail d = {0};
    assert_int_equal(ag_store_open(path, &s, &d), 0);
    struct ag_identity id = test_identity();
    assert_int_equal(ag_store_identity_set(s, &id), 0);
    return s;
}

static uint64_t last_seq(struct ag_store *s)
{
    struct ag_queue_stats st;
    assert_int_equal(ag_store_queue_stats(s, &st), 0);
    return st.last_seq;
}

/* ==== Appending and the chain ==== */

static void test_new_store_is_private_and_stamped(void **state)
{
    (void)state;
    struct ag_store *s = NULL;
    assert_int_equal(ag_store_open(path, &s, NULL), 0);
    ag_store_close(s);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), AG_STORE_APPLICATION_ID);
    sqlite3_finalize(stmt);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

static void test_wide_permissions_are_narrowed(void **state)
{
    (void)state;
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(chmod(path, 0644), 0);
    struct ag_store *s = NULL;
    assert_int_equal(ag_store_open(path, &s, NULL), 0);
    ag_store_close(s);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_append_needs_identity(void **state)
{
    (void)state;
    struct ag_store *s = NULL;
    assert_int_equal(ag_store_open(path, &s, NULL), 0);
    struct cf_event ev = ag_test_attempt_event(1790000000000);
    struct cf_error_detail d = {0};
    assert_int_equal(ag_store_append(s, &ev, NULL, &d), CF_ENOT_ENROLLED);
    struct ag_identity got;
    assert_int_equal(ag_store_identity_get(s, &got), CF_ENOT_ENROLLED);
    ag_store_close(s);
}

static void test_identity_round_trip_and_once(void **state)
{
    (void)state;
    struct ag_store *s = open_enrolled();
    struct ag_identity want = test_identity(), got;
    assert_int_equal(ag_store_identity_get(s, &got), 0);
    assert_memory_equal(got.device_id, want.device_id, CF_UUID_LEN);
    assert_memory_equal(got.worker_id, want.worker_id, CF_UUID_LEN);
    assert_int_equal(got.token_key_len, 32);
    assert_string_equal(got.server_url, "http://127.0.0.1:1");
    assert_int_equal(ag_store_identity_set(s, &want), CF_EENROLLED);
    ag_store_close(s);
}

static void test_append_assigns_seq_and_chain(void **state)
{
    (void)state;
    struct ag_store *s = open_enrolled();
    uint8_t digests[3][CF_DIGEST_LEN];
    struct cf_event evs[3];
    for (int i = 0; i < 3; i++) {
        evs[i] = ag_test_attempt_event(1790000000000 + i);
        assert_int_equal(ag_store_append(s, &evs[i], digests[i], NULL), 0);
        assert_int_equal(evs[i].seq, (uint64_t)i + 1);
        uint8_t recomputed[CF_DIGEST_LEN];
        assert_int_equal(cf_event_digest(&evs[i], recomputed), 0);
        assert_memory_equal(recomputed, digests[i], CF_DIGEST_LEN);
    }
    uint8_t zero[CF_DIGEST_LEN] = {0};
    assert_memory_equal(evs[0].prev_digest, zero, CF_DIGEST_LEN);
    assert_memory_equal(evs[1].prev_digest, digests[0], CF_DIGEST_LEN);
    assert_memory_equal(evs[2].prev_digest, digests[1], CF_DIGEST_LEN);
    struct ag_identity id = test_identity();
    assert_memory_equal(evs[2].device_id, id.device_id, CF_UUID_LEN);

    struct cf_event loaded[5];
    size_t n = 0;
    assert_int_equal(ag_store_load_events(s, 2, 5, loaded, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_int_equal(loaded[0].seq, 2);
    assert_int_equal(loaded[1].wall_ms, 1790000000002);
    assert_memory_equal(loaded[1].prev_digest, digests[1], CF_DIGEST_LEN);

    struct ag_queue_stats st;
    assert_int_equal(ag_store_queue_stats(s, &st), 0);
    assert_int_equal(st.last_seq, 3);
    assert_int_equal(st.waiting, 3);
    assert_int_equal(st.acked_seq, 0);
    assert_int_equal(st.first_kept_seq, 1);
    assert_true(st.oldest_waiting_ms > 0);
    ag_store_close(s);
}

static void test_invalid_event_writes_nothing(void **state)
{
    (void)state;
    struct ag_store *s = open_enrolled();
    struct cf_event ok = ag_test_attempt_event(1790000000000);
    assert_int_equal(ag_store_append(s, &ok, NULL, NULL), 0);
    struct cf_event bad = ag_test_attempt_event(1790000000001);
    bad.kind = CF_EV_VISIT_RATED;
    fill_uuid(bad.visit_id, 0x77);
    bad.reason = CF_REASON_NONE;
    bad.rating = 9;
    struct cf_error_detail d = {0};
    assert_int_equal(ag_store_append(s, &bad, NULL, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "rating");
    assert_int_equal(last_seq(s), 1);
    struct ag_visit_row row;
    assert_int_equal(ag_store_visit_find(s, AG_FIND_ID, bad.visit_id, &row), CF_ENO_VISIT);
    struct cf_event next = ag_test_attempt_event(1790000000002);
    assert_int_equal(ag_store_append(s, &next, NULL, NULL), 0);
    assert_int_equal(next.seq, 2);
    ag_store_close(s);
}

static void test_reopen_continues_chain(void **state)
{
    (void)state;
    struct ag_store *s = open_enrolled();
    uint8_t digest[CF_DIGEST_LEN];
    for (int i = 0; i < 5; i++) {
        struct cf_event ev = ag_test_attempt_event(1790000000000 + i);
        assert_int_equal(ag_store_append(s, &ev, digest, NULL), 0);
    }
    ag_store_close(s);
    assert_int_equal(ag_store_open(path, &s, NULL), 0);
    struct cf_event ev = ag_test_attempt_event(1790000000100);
    assert_int_equal(ag_store_append(s, &ev, NULL, NULL), 0);
    assert_int_equal(ev.seq, 6);
    assert_memory_equal(ev.prev_digest, digest, CF_DIGEST_LEN);
    struct ag_verify_report report;
    struct cf_error_detail d = {0};
    assert_int_equal(ag_store_verify(s, &report, &d), 0);
    assert_int_equal(report.events, 6);
    assert_int_equal(report.first_seq, 1);
    assert_int_equal(report.last_seq, 6);
    ag_store_close(s);
}

/* ==== Acknowledgement, rewind, pruning ==== */

static void test_mark_acked(void **state)
{
    (void)state;
    struct ag_store *s = open_enrolled();
    for (int i = 0; i < 4; i++) {
        struct cf_event ev = ag_test_attempt_event(1790000000000 + i);
        assert_int_equal(ag_store_append(s, &ev, NULL, NULL), 0);
    }
    const char *epoch = "6f1e2d3c-4b5a-4968-8776-655443322110";
    assert_int_equal(ag_store_mark_acked(s, 3, epoch), 0);
    struct ag_queue_stats st;
    assert_int_equal(ag_store_queue_stats(s, &st), 0);
    assert_int_equal(st.acked_seq, 3);
    assert_int_equal(st.waiting, 1);
    struct ag_sync_state sync;
    assert_int_equal(ag_store_sync_get(s, &sync), 0);
    assert_string_equal(sync.epoch, epoch);
    /* The server cannot acknowledge what was never made, nor move backwards. */
    assert_int_equal(ag_store_mark_acked(s, 5, epoch), CF_EINVAL);
    assert_int_equal(ag_store_mark_acked(s, 2, epoch), CF_EINVAL);
    assert_int_equal(ag_store_queue_stats(s, &st), 0);
    assert_int_equal(st.acked_seq, 3);
    ag_store_close(s);
}

static void test_rewind_and_prune(void **state)
{
    (void)state;
    struct ag_store *s = open_enrolled();
    for (int i = 0; i < 6; i++) {
        struct cf_event ev = ag_test_attempt_event(1790000000000 + i);
        assert_int_equal(ag_store_append(s, &ev, NULL, NULL), 0);
    }
    assert_int_equal(ag_store_mark_acked(s, 6, "e1"), 0);
    /* Restored backup holds up to 4: 5 and 6 go up again. */
    assert_int_equal(ag_store_rewind(s, 4, "e2"), 0);
    struct ag_queue_stats st;
    assert_int_equal(ag_store_queue_stats(s, &st), 0);
    assert_int_equal(st.acked_seq, 4);
    assert_int_equal(st.waiting, 2);
    assert_int_equal(ag_store_mark_acked(s, 6, "e2"), 0);
    /* Prune everything acknowledged (created "before" the far future). */
    uint64_t deleted = 0;
    assert_int_equal(ag_store_prune(s, INT64_MAX, &deleted), 0);
    assert_int_equal(deleted, 5); /* the newest one stays */
    /* The server would now need 3.. but they are gone: a clear refusal. */
    assert_int_equal(ag_store_rewind(s, 2, NULL), CF_EPRUNED);
    /* Holding 5, it needs only 6, which is here. */
    assert_int_equal(ag_store_rewind(s, 5, NULL), 0);
    assert_int_equal(ag_store_mark_acked(s, 6, "e2"), 0);
    /* The chain goes on from the head kept in the metadata. */
    struct cf_event ev = ag_test_attempt_event(1790000000100);
    assert_int_equal(ag_store_append(s, &ev, NULL, NULL), 0);
    assert_int_equal(ev.seq, 7);
    struct ag_verify_report report;
    assert_int_equal(ag_store_verify(s, &report, NULL), 0);
    assert_int_equal(report.first_seq, 6);
    assert_int_equal(report.events, 2);
    ag_store_close(s);
}

/* ==== Damaged and foreign files ==== */

static void write_file(const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void test_garbage_file_is_damaged(void **state)
{
    (void)state;
    char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 131 + 7);
    write_file(junk, sizeof junk);
    struct ag_store *s = NULL;
    struct cf_error_detail d = {0};
    assert_int_equal(ag_store_open(path, &s, &d), CF_ESTORE_DAMAGED);
    assert_null(s);
    assert_non_null(strstr(d.message, "not a SQLite database"));
}

static void test_foreign_and_newer_database(void **state)
{
    (void)state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE photos (id INTEGER)", NULL, NULL, NULL), 0);
    sqlite3_close(db);
    struct ag_store *s = NULL;
    struct cf_error_detail d = {0};
    assert_int_equal(ag_store_open(path, &s, &d), CF_ESTORE_FOREIGN);
    assert_non_null(strstr(d.message, "not a carefact agent store"));

    unlink(path);
    assert_int_equal(ag_store_open(path, &s, NULL), 0);
    ag_store_close(s);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), 0);
    sqlite3_close(db);
    memset(&d, 0, sizeof d);
    assert_int_equal(ag_store_open(path, &s, &d), CF_ESTORE_VERSION);
    assert_non_null(strstr(d.message, "99"));
}

static void test_missing_table_is_damaged(void **state)
{
    (void)state;
    struct ag_store *s = NULL;
    assert_int_equal(ag_store_open(path, &s, NULL), 0);
    ag_store_close(s);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE visits", NULL, NULL, NULL), 0);
    sqlite3_close(db);
    struct cf_error_detail d = {0};
    assert_int_equal(ag_store_open(path, &s, &d), CF_ESTORE_DAMAGED);
    assert_string_equal(d.field, "visits");
}

/* Overwrite the middle of a store that holds many events: the open (quick_check)
 * or the full verification must say the file is damaged. */
static void test_corrupt_pages_are_detected(void **state)
{
    (void)state;
    struct ag_store *s = open_enrolled();
    for (int i = 0; i < 300; i++) {
        struct cf_event ev = ag_test_attempt_event(1790000000000 + i);
        snprintf(ev.comment, sizeof ev.comment, "%0200d", i);
        assert_int_equal(ag_store_append(s, &ev, NULL, NULL), 0);
    }
    ag_store_close(s); /* checkpoints the WAL into the main file */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 64 * 1024);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    char junk[4096];
    memset(junk, 0xA5, sizeof junk);
    assert_int_equal(fseek(f, st.st_size / 2 / 4096 * 4096, SEEK_SET), 0);
    assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
    struct cf_error_detail d = {0};
    int rc = ag_store_open(path, &s, &d);
    if (rc == 0) {
        struct ag_verify_report report;
        rc = ag_store_verify(s, &report, &d);
        ag_store_close(s);
    }
    assert_int_equal(rc, CF_ESTORE_DAMAGED);
    assert_true(d.message[0] != '\0');
}

static void test_tampered_payload_breaks_chain(void **state)
{
    (void)state;
    struct ag_store *s = open_enrolled();
    for (int i = 0; i < 5; i++) {
        struct cf_event ev = ag_test_attempt_event(1790000000000 + i);
        assert_int_equal(ag_store_append(s, &ev, NULL, NULL), 0);
    }
    ag_store_close(s);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE events SET payload = replace(payload, "
                                  "'nobody_home', 'refused') WHERE seq = 3",
                                  NULL, NULL, NULL),
                     0);
    sqlite3_close(db);
    assert_int_equal(ag_store_open(path, &s, NULL), 0);
    struct ag_verify_report report;
    struct cf_error_detail d = {0};
    assert_int_equal(ag_store_verify(s, &report, &d), CF_ECHAIN);
    assert_int_equal(report.bad_seq, 3);
    assert_non_null(strstr(d.message, "event 3"));
    struct cf_event loaded[5];
    size_t n = 0;
    memset(&d, 0, sizeof d);
    assert_int_equal(ag_store_load_events(s, 1, 5, loaded, &n, &d), CF_ESTORE_DAMAGED);
    assert_int_equal(n, 2); /* 1 and 2 were fine, 3 is not sent */
    ag_store_close(s);
}

/* A row whose digest column is not the digest of its payload is damage, even when the
 * payload itself is consistent (mutant store.damaged-digest): the payload's own
 * "digest" member alone would not notice a payload rewritten along with it. */
static void test_digest_column_must_match_payload(void **state)
{
    (void)state;
    struct ag_store *s = open_enrolled();
    for (int i = 0; i < 4; i++) {
        struct cf_event ev = ag_test_attempt_event(1790000000000 + i);
        assert_int_equal(ag_store_append(s, &ev, NULL, NULL), 0);
    }
    ag_store_close(s);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "UPDATE events SET digest = zeroblob(32) WHERE seq = 3", NULL, NULL, NULL),
        0);
    sqlite3_close(db);
    assert_int_equal(ag_store_open(path, &s, NULL), 0);
    struct cf_event loaded[4];
    size_t n = 0;
    struct cf_error_detail d = {0};
    assert_int_equal(ag_store_load_events(s, 1, 4, loaded, &n, &d), CF_ESTORE_DAMAGED);
    assert_int_equal(n, 2);
    assert_non_null(strstr(d.message, "event 3"));
    assert_non_null(strstr(d.message, cf_error_name(CF_EDIGEST)));
    ag_store_close(s);
}

/* ==== Full disk ==== */

static void test_full_disk_leaves_nothing_half_written(void **state)
{
    (void)state;
    struct ag_store *s = open_enrolled();
    struct cf_event ev = ag_test_attempt_event(1790000000000);
    assert_int_equal(ag_store_append(s, &ev, NULL, NULL), 0);
    sqlite3 *probe = NULL;
    assert_int_equal(sqlite3_open(path, &probe), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(probe, "PRAGMA page_count", -1, &stmt, NULL), 0);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    long pages = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(probe);
    assert_int_equal(ag_store_limit_pages(s, pages + 3), 0);
    int rc = 0, appended = 1;
    struct cf_error_detail d = {0};
    for (int i = 0; i < 200 && rc == 0; i++) {
        struct cf_event big = ag_test_attempt_event(1790000000001 + i);
        memset(big.comment, 'x', CF_COMMENT_MAX_CHARS);
        big.comment[CF_COMMENT_MAX_CHARS] = '\0';
        memset(&d, 0, sizeof d);
        rc = ag_store_append(s, &big, NULL, &d);
        if (rc == 0)
            appended++;
    }
    assert_int_equal(rc, CF_ESTORE_FULL);
    assert_string_equal(cf_error_name(rc), "store_full");
    assert_int_equal(last_seq(s), (uint64_t)appended);
    struct ag_verify_report report;
    assert_int_equal(ag_store_verify(s, &report, NULL), 0);
    assert_int_equal(report.events, (uint64_t)appended);
    /* Room again: work resumes with the next seq. */
    assert_int_equal(ag_store_limit_pages(s, 1000000), 0);
    struct cf_event after = ag_test_attempt_event(1790000009999);
    assert_int_equal(ag_store_append(s, &after, NULL, NULL), 0);
    assert_int_equal(after.seq, (uint64_t)appended + 1);
    ag_store_close(s);
    assert_int_equal(ag_store_open(path, &s, NULL), 0);
    assert_int_equal(ag_store_verify(s, &report, NULL), 0);
    assert_int_equal(report.events, (uint64_t)appended + 1);
    ag_store_close(s);
}

/* ==== Two processes, one chain ==== */

static void test_two_processes_one_chain(void **state)
{
    (void)state;
    struct ag_store *s = open_enrolled();
    ag_store_close(s);
    pid_t child = fork();
    assert_true(child >= 0);
    struct ag_store *mine = NULL;
    if (ag_store_open(path, &mine, NULL) != 0)
        _exit(3);
    int failures = 0;
    for (int i = 0; i < 60; i++) {
        struct cf_event ev = ag_test_attempt_event(1790000000000 + i);
        ev.reason = child == 0 ? CF_REASON_REFUSED : CF_REASON_NOBODY_HOME;
        if (ag_store_append(mine, &ev, NULL, NULL) != 0)
            failures++;
    }
    ag_store_close(mine);
    if (child == 0)
        _exit(failures ? 1 : 0);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(failures, 0);
    assert_int_equal(ag_store_open(path, &s, NULL), 0);
    struct ag_verify_report report;
    assert_int_equal(ag_store_verify(s, &report, NULL), 0);
    assert_int_equal(report.events, 120);
    ag_store_close(s);
}

/* ==== Visit index and reference cache ==== */

static void test_visit_index_follows_events(void **state)
{
    (void)state;
    struct ag_store *s = open_enrolled();
    struct cf_event start = ag_test_attempt_event(1790000000000);
    start.kind = CF_EV_VISIT_STARTED;
    start.reason = CF_REASON_NONE;
    fill_uuid(start.visit_id, 0x71);
    start.card.method = CF_CARD_UID;
    snprintf(start.card.token, sizeof start.card.token, "AAECAwQFBgcICQoLDA0ODw");
    assert_int_equal(ag_store_append(s, &start, NULL, NULL), 0);
    struct ag_visit_row row;
    assert_int_equal(ag_store_visit_find(s, AG_FIND_OPEN, NULL, &row), 0);
    assert_memory_equal(row.visit_id, start.visit_id, CF_UUID_LEN);
    assert_int_equal(row.state, AG_VISIT_STARTED);
    assert_string_equal(row.start_token, "AAECAwQFBgcICQoLDA0ODw");
    assert_int_equal(row.started_mono_ms, 1000);

    struct cf_event end = start;
    end.kind = CF_EV_VISIT_ENDED;
    end.wall_ms += 1800000;
    end.mono_ms += 1800000;
    end.service_count = 2;
    snprintf(end.services[0].code, sizeof end.services[0].code, "HH-01");
    end.services[0].quantity = 2;
    snprintf(end.services[1].code, sizeof end.services[1].code, "MED-02");
    end.services[1].quantity = 1;
    assert_int_equal(ag_store_append(s, &end, NULL, NULL), 0);
    assert_int_equal(ag_store_visit_find(s, AG_FIND_OPEN, NULL, &row), CF_ENO_VISIT);
    assert_int_equal(ag_store_visit_find(s, AG_FIND_UNRATED, NULL, &row), 0);
    assert_int_equal(row.ended_mono_ms, 1801000);
    long used = 0;
    assert_int_equal(ag_store_services_used(s, start.recipient_id, "HH-01", 0, &used), 0);
    assert_int_equal(used, 2);
    assert_int_equal(ag_store_services_used(s, start.recipient_id, "HH-01", end.seq, &used), 0);
    assert_int_equal(used, 0);

    struct cf_event rated = start;
    rated.kind = CF_EV_VISIT_RATED;
    rated.card.method = CF_CARD_NONE;
    rated.card.token[0] = '\0';
    rated.rating = 4;
    assert_int_equal(ag_store_append(s, &rated, NULL, NULL), 0);
    assert_int_equal(ag_store_visit_find(s, AG_FIND_ID, start.visit_id, &row), 0);
    assert_int_equal(row.state, AG_VISIT_RATED);
    assert_int_equal(row.rating, 4);
    assert_int_equal(ag_store_visit_find(s, AG_FIND_UNRATED, NULL, &row), CF_ENO_VISIT);
    ag_store_close(s);
}

static void test_reference_apply_and_lookup(void **state)
{
    (void)state;
    struct ag_store *s = open_enrolled();
    const char tokens_a[2][CF_TOKEN_TEXT_LEN + 1] = {"tokenAAAAAAAAAAAAAAAAA",
                                                     "tokenGGGGGGGGGGGGGGGGG"};
    const char tokens_b[1][CF_TOKEN_TEXT_LEN + 1] = {"tokenGGGGGGGGGGGGGGGGG"};
    struct ag_ref_record put[3] = {
        {.key = {"recipient", "r-a", "0000000000000001"},
         .body = "{\"id\":\"a\"}",
         .tokens = tokens_a,
         .token_count = 2},
        {.key = {"recipient", "r-b", "0000000000000001"},
         .body = "{\"id\":\"b\"}",
         .tokens = tokens_b,
         .token_count = 1},
        {.key = {"service", "HH-01", "00000000000000aa"}, .body = "{\"code\":\"HH-01\"}"},
    };
    assert_int_equal(ag_store_ref_apply(s, put, 3, NULL, 0, 7), 0);
    struct ag_ref_key *keys = NULL;
    size_t n = 0;
    assert_int_equal(ag_store_ref_keys(s, &keys, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(keys[0].id, "r-a");
    assert_string_equal(keys[2].kind, "service");
    char ids[4][AG_REF_ID_MAX + 1];
    assert_int_equal(ag_store_ref_by_token(s, "tokenGGGGGGGGGGGGGGGGG", ids, 4, &n), 0);
    assert_int_equal(n, 2); /* a guardian's card acting for two recipients */
    assert_int_equal(ag_store_ref_by_token(s, "tokenAAAAAAAAAAAAAAAAA", ids, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ids[0], "r-a");
    char *body = NULL;
    uint64_t basis = 0;
    assert_int_equal(ag_store_ref_get(s, "recipient", "r-b", &body, &basis), 0);
    assert_string_equal(body, "{\"id\":\"b\"}");
    assert_int_equal(basis, 7);
    free(body);
    /* Drop r-a: its cards no longer identify anyone. */
    assert_int_equal(ag_store_ref_apply(s, NULL, 0, &keys[0], 1, 8), 0);
    assert_int_equal(ag_store_ref_by_token(s, "tokenAAAAAAAAAAAAAAAAA", ids, 4, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(ag_store_ref_get(s, "recipient", "r-a", &body, NULL), 0);
    assert_null(body);
    free(keys);
    ag_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_store_is_private_and_stamped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wide_permissions_are_narrowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_needs_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_round_trip_and_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_assigns_seq_and_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_event_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_continues_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mark_acked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewind_and_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_file_is_damaged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_and_newer_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_table_is_damaged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_pages_are_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_payload_breaks_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digest_column_must_match_payload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_leaves_nothing_half_written, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_two_processes_one_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visit_index_follows_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reference_apply_and_lookup, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
