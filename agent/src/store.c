/* The agent's store (see ag/store.h): opening and validating the one SQLite file,
 * the device identity, the event queue with its hash chain, and the sync state.
 * The visit index and the reference cache are in store_index.c (which this file
 * calls, never the reverse); the SQLite plumbing both use is store_sqlite.c. Every
 * write is one explicit transaction, so a full disk or a damaged file is an answer,
 * never a crash. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ag/clock.h"
#include "store_index.h"
#include "store_sqlite.h"

#define PATH_MAX_LEN 4095
#define BUSY_TIMEOUT_MS 5000

/* ==== Schema ==== */

/* NOTE: changing a table is a schema change: bump AG_STORE_SCHEMA_VERSION and add a
 * migration from the previous version in open_existing(). */
static const char schema_sql[] =
    "CREATE TABLE meta ("
    " singleton INTEGER PRIMARY KEY CHECK (singleton = 1),"
    " last_seq INTEGER NOT NULL DEFAULT 0,"
    " last_digest BLOB NOT NULL DEFAULT (zeroblob(32)),"
    " acked_seq INTEGER NOT NULL DEFAULT 0,"
    " epoch TEXT NOT NULL DEFAULT '',"
    " last_sync_ms INTEGER NOT NULL DEFAULT 0,"
    " last_attempt_ms INTEGER NOT NULL DEFAULT 0,"
    " skew_known INTEGER NOT NULL DEFAULT 0,"
    " skew_ms INTEGER NOT NULL DEFAULT 0,"
    " failures INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_ms INTEGER NOT NULL DEFAULT 0,"
    " last_error INTEGER NOT NULL DEFAULT 0,"
    " last_message TEXT NOT NULL DEFAULT '',"
    " held INTEGER NOT NULL DEFAULT 0,"
    " reference_ms INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO meta (singleton) VALUES (1);"
    "CREATE TABLE identity ("
    " singleton INTEGER PRIMARY KEY CHECK (singleton = 1),"
    " device_id BLOB NOT NULL, private_key BLOB NOT NULL, public_key BLOB NOT NULL,"
    " worker_id BLOB NOT NULL, provider_id BLOB NOT NULL, token_key BLOB NOT NULL,"
    " server_url TEXT NOT NULL, ca_pem TEXT NOT NULL, enrolled_ms INTEGER NOT NULL);"
    "CREATE TABLE events ("
    " seq INTEGER PRIMARY KEY CHECK (seq >= 1),"
    " digest BLOB NOT NULL CHECK (length(digest) = 32),"
    " kind TEXT NOT NULL,"
    " visit_id BLOB,"
    " payload TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " acked INTEGER NOT NULL DEFAULT 0 CHECK (acked IN (0, 1)));"
    "CREATE INDEX events_waiting ON events (seq) WHERE acked = 0;"
    "CREATE TABLE reference ("
    " kind TEXT NOT NULL, id TEXT NOT NULL, version TEXT NOT NULL, body TEXT NOT NULL,"
    " basis_seq INTEGER NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID;"
    "CREATE TABLE reference_cards ("
    " token TEXT NOT NULL, recipient_id TEXT NOT NULL,"
    " PRIMARY KEY (token, recipient_id)) WITHOUT ROWID;"
    "CREATE INDEX reference_cards_recipient ON reference_cards (recipient_id);"
    "CREATE TABLE visits ("
    " visit_id BLOB PRIMARY KEY, recipient_id BLOB, plan_id BLOB,"
    " state INTEGER NOT NULL,"
    " started_wall_ms INTEGER NOT NULL DEFAULT 0, started_mono_ms INTEGER NOT NULL DEFAULT 0,"
    " start_boot_id BLOB, start_token TEXT NOT NULL DEFAULT '',"
    " ended_wall_ms INTEGER NOT NULL DEFAULT 0, ended_mono_ms INTEGER NOT NULL DEFAULT 0,"
    " end_boot_id BLOB, rating INTEGER NOT NULL DEFAULT 0, reason INTEGER NOT NULL DEFAULT 0,"
    " updated_wall_ms INTEGER NOT NULL, last_seq INTEGER NOT NULL);"
    "CREATE INDEX visits_state ON visits (state, updated_wall_ms);"
    "CREATE INDEX visits_plan ON visits (plan_id) WHERE plan_id IS NOT NULL;"
    "CREATE TABLE visit_services ("
    " visit_id BLOB NOT NULL, recipient_id BLOB NOT NULL, code TEXT NOT NULL,"
    " quantity INTEGER NOT NULL, ended_seq INTEGER NOT NULL,"
    " PRIMARY KEY (visit_id, code)) WITHOUT ROWID;"
    "CREATE INDEX visit_services_recipient ON visit_services (recipient_id, code);";

/* The columns each table must have, in order: what open() checks. */
static const struct {
    const char *table;
    const char *columns;
} expected_tables[] = {
    {"meta", "singleton,last_seq,last_digest,acked_seq,epoch,last_sync_ms,last_attempt_ms,"
             "skew_known,skew_ms,failures,next_attempt_ms,last_error,last_message,held,"
             "reference_ms"},
    {"identity", "singleton,device_id,private_key,public_key,worker_id,provider_id,token_key,"
                 "server_url,ca_pem,enrolled_ms"},
    {"events", "seq,digest,kind,visit_id,payload,created_ms,acked"},
    {"reference", "kind,id,version,body,basis_seq"},
    {"reference_cards", "token,recipient_id"},
    {"visits", "visit_id,recipient_id,plan_id,state,started_wall_ms,started_mono_ms,"
               "start_boot_id,start_token,ended_wall_ms,ended_mono_ms,end_boot_id,rating,"
               "reason,updated_wall_ms,last_seq"},
    {"visit_services", "visit_id,recipient_id,code,quantity,ended_seq"},
};

/* Copy a BLOB column of exactly len bytes. */
static int column_bytes(sqlite3_stmt *stmt, int column, uint8_t *out, size_t len)
{
    const void *blob = sqlite3_column_blob(stmt, column);
    if (!blob || (size_t)sqlite3_column_bytes(stmt, column) != len)
        return CF_ESTORE_DAMAGED;
    memcpy(out, blob, len);
    return 0;
}

/* One integer from a single-row query (a PRAGMA or a SELECT). */
static int query_int64(struct ag_store *s, const char *sql, int64_t *out, struct cf_error_detail *d)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(stmt, 0);
        rc = 0;
    } else {
        rc = ag_store_sqlite_error(s, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, sql, d);
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* ==== Opening ==== */

/* Make sure the file exists as a regular file with mode 0600 before SQLite opens
 * it (SQLite would create it with the process umask). *empty: size 0. */
static int prepare_file(const char *path, bool *empty, struct cf_error_detail *d)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        int code = errno == ENOSPC || errno == EDQUOT ? CF_ESTORE_FULL : CF_ESTORE_IO;
        return cf_error_set(d, code, "", "cannot open the store %s: %s", path, strerror(errno));
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = cf_error_set(d, CF_ESTORE_IO, "", "cannot stat %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = cf_error_set(d, CF_ESTORE_IO, "", "%s is not a regular file", path);
    else if ((st.st_mode & 077) && fchmod(fd, 0600) != 0)
        rc = cf_error_set(d, CF_ESTORE_IO, "", "cannot make %s private (chmod 600): %s", path,
                          strerror(errno));
    *empty = !rc && st.st_size == 0;
    close(fd);
    return rc;
}

static int create_schema(struct ag_store *s, struct cf_error_detail *d)
{
    char pragmas[128];
    int rc = ag_store_begin(s);
    if (!rc && sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
        rc = ag_store_sqlite_error(s, sqlite3_errcode(s->db), "create the store's tables", d);
    snprintf(pragmas, sizeof pragmas, "PRAGMA application_id = %d; PRAGMA user_version = %d",
             AG_STORE_APPLICATION_ID, AG_STORE_SCHEMA_VERSION);
    if (!rc)
        rc = ag_store_exec(s, pragmas, "stamp the store");
    return ag_store_finish(s, rc);
}

/* Compare the tables and their columns with what this version expects. */
static int check_schema(struct ag_store *s, struct cf_error_detail *d)
{
    for (size_t t = 0; t < sizeof expected_tables / sizeof expected_tables[0]; t++) {
        char sql[96], columns[512] = "";
        size_t used = 0;
        sqlite3_stmt *stmt = NULL;
        snprintf(sql, sizeof sql, "SELECT name FROM pragma_table_info('%s') ORDER BY cid",
                 expected_tables[t].table);
        int rc = ag_store_prepare(s, sql, &stmt);
        if (rc)
            return cf_error_set(d, rc, "", "cannot read the store's tables");
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(stmt, 0);
            int n = snprintf(columns + used, sizeof columns - used, "%s%s", used ? "," : "",
                             name ? name : "");
            if (n < 0 || (size_t)n >= sizeof columns - used)
                break;
            used += (size_t)n;
        }
        sqlite3_finalize(stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return ag_store_sqlite_error(s, rc, "read the store's tables", d);
        if (strcmp(columns, expected_tables[t].columns) != 0)
            return cf_error_set(d, CF_ESTORE_DAMAGED, expected_tables[t].table,
                                "table %s is missing or has other columns than expected",
                                expected_tables[t].table);
    }
    int64_t rows = 0;
    int rc = query_int64(s, "SELECT count(*) FROM meta", &rows, d);
    if (!rc && rows != 1)
        rc = cf_error_set(d, CF_ESTORE_DAMAGED, "meta", "the store's metadata row is missing");
    return rc;
}

static int quick_check(struct ag_store *s, const char *pragma, struct cf_error_detail *d)
{
    sqlite3_stmt *stmt = NULL;
    int rc = ag_store_prepare(s, pragma, &stmt);
    if (rc)
        return cf_error_set(d, rc == CF_ESTORE_DAMAGED ? rc : CF_ESTORE_DAMAGED, "",
                            "the store cannot be checked: %s", sqlite3_errmsg(s->db));
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const char *verdict = (const char *)sqlite3_column_text(stmt, 0);
        if (verdict && strcmp(verdict, "ok") == 0)
            rc = 0;
        else
            rc = cf_error_set(d, CF_ESTORE_DAMAGED, "", "integrity check failed: %.200s",
                              verdict ? verdict : "?");
    } else {
        rc = ag_store_sqlite_error(s, rc, "integrity check", d);
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int load_device_id(struct ag_store *s)
{
    sqlite3_stmt *stmt = NULL;
    int rc = ag_store_prepare(s, "SELECT device_id FROM identity", &stmt);
    if (rc)
        return rc;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        rc = column_bytes(stmt, 0, s->device_id, CF_UUID_LEN);
        s->have_device = rc == 0;
    } else {
        rc = rc == SQLITE_DONE ? 0 : ag_store_sqlite_error(s, rc, "read identity", NULL);
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* Settings of the connection: WAL with a full sync at every commit. */
static int configure(struct ag_store *s, struct cf_error_detail *d)
{
    sqlite3_stmt *stmt = NULL;
    int rc = ag_store_prepare(s, "PRAGMA journal_mode = WAL", &stmt);
    if (rc)
        return cf_error_set(d, rc, "", "cannot set the journal mode: %s", sqlite3_errmsg(s->db));
    rc = sqlite3_step(stmt);
    const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
    bool wal = mode && strcmp(mode, "wal") == 0;
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW)
        return ag_store_sqlite_error(s, rc, "set WAL mode", d);
    if (!wal)
        return cf_error_set(d, CF_ESTORE_IO, "", "the file system does not support WAL mode");
    /* NOTE: synchronous=FULL in WAL mode syncs the WAL at every COMMIT: that is what
     * makes ag_store_append durable when it returns. */
    return ag_store_exec(s, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = OFF",
                         "set synchronous");
}

static int open_existing(struct ag_store *s, struct cf_error_detail *d)
{
    int64_t app = 0, version = 0, tables = 0;
    int rc = query_int64(s, "PRAGMA application_id", &app, d);
    if (!rc)
        rc = query_int64(s, "PRAGMA user_version", &version, d);
    if (!rc)
        rc = query_int64(s, "SELECT count(*) FROM sqlite_master", &tables, d);
    if (rc == CF_ESTORE_DAMAGED)
        return cf_error_set(d, rc, "", "the file is not a SQLite database (%s)", s->last_error);
    if (rc)
        return rc;
    if (app == 0 && version == 0 && tables == 0)
        return 1; /* a new store: a crash before its schema committed leaves this too */
    if (app != AG_STORE_APPLICATION_ID)
        return cf_error_set(d, CF_ESTORE_FOREIGN, "",
                            "the file is a database, but not a carefact agent store "
                            "(application_id %lld)",
                            (long long)app);
    if (version > AG_STORE_SCHEMA_VERSION)
        return cf_error_set(d, CF_ESTORE_VERSION, "",
                            "the store has schema version %lld; this agent knows up to %d",
                            (long long)version, AG_STORE_SCHEMA_VERSION);
    if (version < 1)
        return cf_error_set(d, CF_ESTORE_DAMAGED, "", "the store's schema version is missing");
    return 0;
}

int ag_store_open(const char *path, struct ag_store **out, struct cf_error_detail *detail)
{
    struct cf_error_detail scratch = {0};
    struct cf_error_detail *d = detail ? detail : &scratch;
    memset(d, 0, sizeof *d);
    *out = NULL;
    if (!path || !path[0] || strlen(path) > PATH_MAX_LEN)
        return cf_error_set(d, CF_EINVAL, "", "the store path is empty or too long");
    bool empty = false;
    int rc = prepare_file(path, &empty, d);
    if (rc)
        return rc;
    struct ag_store *s = calloc(1, sizeof *s);
    if (!s)
        return cf_error_set(d, CF_ENOMEM, "", "out of memory");
    int src = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE, NULL);
    if (src != SQLITE_OK) {
        rc = ag_store_sqlite_error(s, src, "open the store", d);
        goto out;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    rc = empty ? 1 : open_existing(s, d);
    if (rc < 0)
        goto out;
    bool fresh = rc == 1;
    rc = configure(s, d);
    if (!rc && fresh)
        rc = create_schema(s, d);
    if (!rc)
        rc = check_schema(s, d);
    if (!rc && !fresh)
        rc = quick_check(s, "PRAGMA quick_check(1)", d);
    if (!rc)
        rc = load_device_id(s);
    if (rc && !d->code)
        cf_error_set(d, rc, "", "the store could not be opened");
out:
    if (rc) {
        ag_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void ag_store_close(struct ag_store *store)
{
    if (!store)
        return;
    if (store->db)
        sqlite3_close_v2(store->db);
    OPENSSL_cleanse(store, sizeof *store);
    free(store);
}

int ag_store_limit_pages(struct ag_store *store, long max_pages)
{
    char sql[64];
    int64_t got = 0;
    if (!store || max_pages < 1)
        return CF_EINVAL;
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %ld", max_pages);
    return query_int64(store, sql, &got, NULL);
}

/* ==== Identity ==== */

int ag_store_identity_set(struct ag_store *store, const struct ag_identity *id)
{
    if (!store || !id || id->token_key_len < 16 || id->token_key_len > sizeof id->token_key ||
        !memchr(id->server_url, '\0', sizeof id->server_url) ||
        !memchr(id->ca_pem, '\0', sizeof id->ca_pem))
        return CF_EINVAL;
    int rc = ag_store_begin(store);
    int64_t rows = 0;
    if (!rc)
        rc = query_int64(store, "SELECT count(*) FROM identity", &rows, NULL);
    if (!rc && rows)
        rc = CF_EENROLLED;
    sqlite3_stmt *stmt = NULL;
    if (!rc)
        rc = ag_store_prepare(store,
                              "INSERT INTO identity (singleton, device_id, private_key, "
                              "public_key, worker_id, provider_id, token_key, server_url, ca_pem, "
                              "enrolled_ms) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              &stmt);
    if (!rc) {
        sqlite3_bind_blob(stmt, 1, id->device_id, CF_UUID_LEN, SQLITE_TRANSIENT);
        sqlite3_bind_blob(stmt, 2, id->private_key, CF_ED25519_KEY_LEN, SQLITE_TRANSIENT);
        sqlite3_bind_blob(stmt, 3, id->public_key, CF_ED25519_KEY_LEN, SQLITE_TRANSIENT);
        sqlite3_bind_blob(stmt, 4, id->worker_id, CF_UUID_LEN, SQLITE_TRANSIENT);
        sqlite3_bind_blob(stmt, 5, id->provider_id, CF_UUID_LEN, SQLITE_TRANSIENT);
        sqlite3_bind_blob(stmt, 6, id->token_key, (int)id->token_key_len, SQLITE_TRANSIENT);
        sqlite3_bind_text(stmt, 7, id->server_url, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(stmt, 8, id->ca_pem, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(stmt, 9, id->enrolled_ms);
        rc = ag_store_step_done(store, stmt, "store the identity");
    }
    rc = ag_store_finish(store, rc);
    if (!rc) {
        memcpy(store->device_id, id->device_id, CF_UUID_LEN);
        store->have_device = true;
    }
    return rc;
}

static int copy_text(sqlite3_stmt *stmt, int column, char *out, size_t out_size)
{
    const char *text = (const char *)sqlite3_column_text(stmt, column);
    size_t len = (size_t)sqlite3_column_bytes(stmt, column);
    if (!text || len >= out_size)
        return CF_ESTORE_DAMAGED;
    memcpy(out, text, len);
    out[len] = '\0';
    return 0;
}

int ag_store_identity_get(struct ag_store *store, struct ag_identity *out)
{
    sqlite3_stmt *stmt = NULL;
    memset(out, 0, sizeof *out);
    int rc = ag_store_prepare(store,
                              "SELECT device_id, private_key, public_key, worker_id, provider_id, "
                              "token_key, server_url, ca_pem, enrolled_ms FROM identity",
                              &stmt);
    if (rc)
        return rc;
    int step = sqlite3_step(stmt);
    if (step == SQLITE_DONE) {
        rc = CF_ENOT_ENROLLED;
    } else if (step != SQLITE_ROW) {
        rc = ag_store_sqlite_error(store, step, "read identity", NULL);
    } else {
        int key_len = sqlite3_column_bytes(stmt, 5);
        rc = column_bytes(stmt, 0, out->device_id, CF_UUID_LEN);
        if (!rc)
            rc = column_bytes(stmt, 1, out->private_key, CF_ED25519_KEY_LEN);
        if (!rc)
            rc = column_bytes(stmt, 2, out->public_key, CF_ED25519_KEY_LEN);
        if (!rc)
            rc = column_bytes(stmt, 3, out->worker_id, CF_UUID_LEN);
        if (!rc)
            rc = column_bytes(stmt, 4, out->provider_id, CF_UUID_LEN);
        if (!rc && (key_len < 16 || key_len > (int)sizeof out->token_key))
            rc = CF_ESTORE_DAMAGED;
        if (!rc) {
            rc = column_bytes(stmt, 5, out->token_key, (size_t)key_len);
            out->token_key_len = (size_t)key_len;
        }
        if (!rc)
            rc = copy_text(stmt, 6, out->server_url, sizeof out->server_url);
        if (!rc)
            rc = copy_text(stmt, 7, out->ca_pem, sizeof out->ca_pem);
        out->enrolled_ms = sqlite3_column_int64(stmt, 8);
    }
    sqlite3_finalize(stmt);
    if (rc)
        ag_identity_wipe(out);
    return rc;
}

void ag_identity_wipe(struct ag_identity *identity)
{
    if (identity)
        OPENSSL_cleanse(identity, sizeof *identity);
}

/* ==== Appending ==== */

static int read_head(struct ag_store *s, uint64_t *seq, uint8_t digest[CF_DIGEST_LEN])
{
    sqlite3_stmt *stmt = NULL;
    int rc = ag_store_prepare(s, "SELECT last_seq, last_digest FROM meta", &stmt);
    if (rc)
        return rc;
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        sqlite3_int64 v = sqlite3_column_int64(stmt, 0);
        rc = v < 0 ? CF_ESTORE_DAMAGED : column_bytes(stmt, 1, digest, CF_DIGEST_LEN);
        *seq = (uint64_t)v;
    } else {
        rc = ag_store_sqlite_error(s, step == SQLITE_DONE ? SQLITE_CORRUPT : step, "chain head",
                                   NULL);
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int insert_event(struct ag_store *s, const struct cf_event *ev,
                        const uint8_t digest[CF_DIGEST_LEN], const char *payload)
{
    sqlite3_stmt *stmt = NULL;
    int rc = ag_store_prepare(s,
                              "INSERT INTO events (seq, digest, kind, visit_id, payload, "
                              "created_ms, acked) VALUES (?, ?, ?, ?, ?, ?, 0)",
                              &stmt);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)ev->seq);
    sqlite3_bind_blob(stmt, 2, digest, CF_DIGEST_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 3, cf_event_kind_name(ev->kind), -1, SQLITE_STATIC);
    ag_store_bind_uuid(stmt, 4, ev->visit_id);
    sqlite3_bind_text(stmt, 5, payload, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 6, ag_wall_now_ms());
    rc = ag_store_step_done(s, stmt, "insert event");
    if (rc)
        return rc;
    rc = ag_store_prepare(s, "UPDATE meta SET last_seq = ?, last_digest = ?", &stmt);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)ev->seq);
    sqlite3_bind_blob(stmt, 2, digest, CF_DIGEST_LEN, SQLITE_TRANSIENT);
    return ag_store_step_done(s, stmt, "move chain head");
}

static char *event_payload(const struct cf_event *ev)
{
    cJSON *obj = cf_event_to_json(ev);
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    return text;
}

int ag_store_append(struct ag_store *store, struct cf_event *event,
                    uint8_t digest_out[CF_DIGEST_LEN], struct cf_error_detail *detail)
{
    uint8_t digest[CF_DIGEST_LEN];
    char *payload = NULL;
    if (!store || !event)
        return CF_EINVAL;
    store->last_error[0] = '\0';
    if (!store->have_device)
        return cf_error_set(detail, CF_ENOT_ENROLLED, "", "the terminal is not enrolled");
    /* NOTE: seq and prev are read and the event committed under one write lock
     * (BEGIN IMMEDIATE), so two processes appending at once still form one chain. */
    int rc = ag_store_begin(store);
    uint64_t last = 0;
    if (!rc)
        rc = read_head(store, &last, event->prev_digest);
    if (!rc) {
        memcpy(event->device_id, store->device_id, CF_UUID_LEN);
        event->seq = last + 1;
        rc = cf_event_validate(event, detail);
    }
    if (!rc)
        rc = cf_event_digest(event, digest);
    if (!rc && !(payload = event_payload(event)))
        rc = CF_ENOMEM;
    if (!rc)
        rc = insert_event(store, event, digest, payload);
    if (!rc)
        rc = ag_store_index_event(store, event);
    rc = ag_store_finish(store, rc);
    free(payload);
    if (rc) {
        if (detail && !detail->code)
            cf_error_set(detail, rc, "", "%s",
                         store->last_error[0] ? store->last_error : cf_strerror(rc));
        return rc;
    }
    if (digest_out)
        memcpy(digest_out, digest, CF_DIGEST_LEN);
    return 0;
}

int ag_store_head(struct ag_store *store, uint64_t *seq, uint8_t digest[CF_DIGEST_LEN],
                  uint8_t device_id[CF_UUID_LEN])
{
    if (!store || !seq || !digest || !device_id)
        return CF_EINVAL;
    if (!store->have_device)
        return CF_ENOT_ENROLLED;
    memcpy(device_id, store->device_id, CF_UUID_LEN);
    return read_head(store, seq, digest);
}

/* ==== Reading the queue ==== */

int ag_store_queue_stats(struct ag_store *store, struct ag_queue_stats *out)
{
    sqlite3_stmt *stmt = NULL;
    memset(out, 0, sizeof *out);
    int rc = ag_store_prepare(store,
                              "SELECT m.last_seq, m.acked_seq, "
                              " (SELECT count(*) FROM events WHERE acked = 0),"
                              " (SELECT created_ms FROM events WHERE acked = 0 ORDER BY seq "
                              "  LIMIT 1),"
                              " (SELECT min(seq) FROM events) FROM meta m",
                              &stmt);
    if (rc)
        return rc;
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        out->last_seq = (uint64_t)sqlite3_column_int64(stmt, 0);
        out->acked_seq = (uint64_t)sqlite3_column_int64(stmt, 1);
        out->waiting = (uint64_t)sqlite3_column_int64(stmt, 2);
        out->oldest_waiting_ms = sqlite3_column_int64(stmt, 3);
        out->first_kept_seq = (uint64_t)sqlite3_column_int64(stmt, 4);
    } else {
        rc = ag_store_sqlite_error(store, step == SQLITE_DONE ? SQLITE_CORRUPT : step,
                                   "queue stats", NULL);
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* Decode one stored row into *ev and check it against its stored seq and digest. */
static int decode_row(struct ag_store *s, sqlite3_stmt *stmt, struct cf_event *ev,
                      uint8_t digest[CF_DIGEST_LEN], struct cf_error_detail *d)
{
    uint64_t seq = (uint64_t)sqlite3_column_int64(stmt, 0);
    uint8_t stored[CF_DIGEST_LEN];
    const char *payload = (const char *)sqlite3_column_text(stmt, 2);
    int len = sqlite3_column_bytes(stmt, 2);
    if (column_bytes(stmt, 1, stored, CF_DIGEST_LEN) || !payload)
        return cf_error_set(d, CF_ESTORE_DAMAGED, "events",
                            "event %llu has no valid digest or payload", (unsigned long long)seq);
    cJSON *obj = cJSON_ParseWithLength(payload, (size_t)len);
    struct cf_error_detail inner = {0};
    int rc = obj ? cf_event_from_json(obj, s->device_id, "payload", ev, &inner) : CF_EJSON;
    cJSON_Delete(obj);
    if (!rc && ev->seq != seq)
        rc = CF_ECHAIN;
    if (!rc)
        rc = cf_event_digest(ev, digest);
    if (!rc && memcmp(digest, stored, CF_DIGEST_LEN) != 0)
        rc = CF_EDIGEST;
    if (rc)
        return cf_error_set(d, CF_ESTORE_DAMAGED, "events",
                            "event %llu in the store is damaged (%s%s%s)", (unsigned long long)seq,
                            cf_error_name(rc), inner.field[0] ? ": " : "", inner.field);
    return 0;
}

int ag_store_load_events(struct ag_store *store, uint64_t from_seq, size_t max,
                         struct cf_event *out, size_t *count, struct cf_error_detail *detail)
{
    sqlite3_stmt *stmt = NULL;
    *count = 0;
    if (!store->have_device)
        return CF_ENOT_ENROLLED;
    int rc = ag_store_prepare(store,
                              "SELECT seq, digest, payload FROM events WHERE seq >= ? ORDER BY "
                              "seq LIMIT ?",
                              &stmt);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)from_seq);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)max);
    int step = SQLITE_DONE;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW && *count < max) {
        uint8_t digest[CF_DIGEST_LEN];
        rc = decode_row(store, stmt, &out[*count], digest, detail);
        if (rc)
            break;
        (*count)++;
    }
    if (!rc && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = ag_store_sqlite_error(store, step, "load events", detail);
    sqlite3_finalize(stmt);
    return rc;
}

/* ==== Acknowledgement ==== */

int ag_store_mark_acked(struct ag_store *store, uint64_t acked_seq, const char *epoch)
{
    uint8_t head_digest[CF_DIGEST_LEN];
    uint64_t head = 0;
    if (!epoch || strlen(epoch) > AG_EPOCH_TEXT_MAX)
        return CF_EINVAL;
    int rc = ag_store_begin(store);
    int64_t current = 0;
    if (!rc)
        rc = read_head(store, &head, head_digest);
    if (!rc)
        rc = query_int64(store, "SELECT acked_seq FROM meta", &current, NULL);
    if (!rc && (acked_seq > head || acked_seq < (uint64_t)current))
        rc = CF_EINVAL;
    sqlite3_stmt *stmt = NULL;
    if (!rc)
        rc = ag_store_prepare(store, "UPDATE events SET acked = 1 WHERE seq <= ? AND acked = 0",
                              &stmt);
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, (sqlite3_int64)acked_seq);
        rc = ag_store_step_done(store, stmt, "mark acknowledged");
    }
    if (!rc)
        rc = ag_store_prepare(store, "UPDATE meta SET acked_seq = ?, epoch = ?", &stmt);
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, (sqlite3_int64)acked_seq);
        sqlite3_bind_text(stmt, 2, epoch, -1, SQLITE_TRANSIENT);
        rc = ag_store_step_done(store, stmt, "record acknowledgement");
    }
    return ag_store_finish(store, rc);
}

int ag_store_rewind(struct ag_store *store, uint64_t server_seq, const char *epoch)
{
    if (epoch && strlen(epoch) > AG_EPOCH_TEXT_MAX)
        return CF_EINVAL;
    int rc = ag_store_begin(store);
    int64_t first = 0, last = 0;
    if (!rc)
        rc = query_int64(store, "SELECT coalesce(min(seq), 0) FROM events", &first, NULL);
    if (!rc)
        rc = query_int64(store, "SELECT last_seq FROM meta", &last, NULL);
    if (!rc && server_seq > (uint64_t)last)
        rc = CF_EINVAL;
    /* The server needs server_seq + 1 onwards; they must all still be here. */
    if (!rc && server_seq < (uint64_t)last && (first == 0 || (uint64_t)first > server_seq + 1))
        rc = CF_EPRUNED;
    sqlite3_stmt *stmt = NULL;
    if (!rc)
        rc = ag_store_prepare(store, "UPDATE events SET acked = 0 WHERE seq > ? AND acked = 1",
                              &stmt);
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, (sqlite3_int64)server_seq);
        rc = ag_store_step_done(store, stmt, "mark for re-upload");
    }
    if (!rc)
        rc = ag_store_prepare(store, "UPDATE meta SET acked_seq = ?, epoch = coalesce(?, epoch)",
                              &stmt);
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, (sqlite3_int64)server_seq);
        if (epoch)
            sqlite3_bind_text(stmt, 2, epoch, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(stmt, 2);
        rc = ag_store_step_done(store, stmt, "rewind");
    }
    return ag_store_finish(store, rc);
}

int ag_store_prune(struct ag_store *store, int64_t before_ms, uint64_t *deleted)
{
    sqlite3_stmt *stmt = NULL;
    int rc = ag_store_begin(store);
    if (!rc)
        rc = ag_store_prepare(store,
                              "DELETE FROM events WHERE acked = 1 AND created_ms < ? AND seq <= "
                              "(SELECT acked_seq FROM meta) AND seq < (SELECT last_seq FROM meta)",
                              &stmt);
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, before_ms);
        rc = ag_store_step_done(store, stmt, "prune");
    }
    if (deleted)
        *deleted = rc ? 0 : (uint64_t)sqlite3_changes(store->db);
    return ag_store_finish(store, rc);
}

/* ==== Verification ==== */

int ag_store_verify(struct ag_store *store, struct ag_verify_report *report,
                    struct cf_error_detail *detail)
{
    struct cf_error_detail scratch = {0};
    struct cf_error_detail *d = detail ? detail : &scratch;
    memset(report, 0, sizeof *report);
    int rc = quick_check(store, "PRAGMA integrity_check(1)", d);
    if (rc)
        return rc;
    struct cf_event *ev = malloc(sizeof *ev);
    sqlite3_stmt *stmt = NULL;
    uint8_t prev[CF_DIGEST_LEN] = {0}, digest[CF_DIGEST_LEN] = {0}, head_digest[CF_DIGEST_LEN];
    uint64_t head = 0, expect = 0;
    if (!ev)
        return CF_ENOMEM;
    rc = read_head(store, &head, head_digest);
    if (!rc)
        rc = ag_store_prepare(store, "SELECT seq, digest, payload FROM events ORDER BY seq", &stmt);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(stmt, 0);
        if (!store->have_device) {
            rc = cf_error_set(d, CF_ECHAIN, "", "events exist but the terminal has no identity");
        } else if (decode_row(store, stmt, ev, digest, d)) {
            rc = CF_ECHAIN;
        } else if (expect && seq != expect) {
            rc =
                cf_error_set(d, CF_ECHAIN, "", "event %llu is missing", (unsigned long long)expect);
        } else if ((expect || seq == 1) && memcmp(ev->prev_digest, prev, CF_DIGEST_LEN) != 0) {
            /* The first kept event after pruning has nothing to compare with. */
            rc = cf_error_set(d, CF_ECHAIN, "",
                              "event %llu does not carry the digest of the one before it",
                              (unsigned long long)seq);
        }
        if (rc) {
            report->bad_seq = seq;
            break;
        }
        if (!report->first_seq)
            report->first_seq = seq;
        report->last_seq = seq;
        report->events++;
        memcpy(prev, digest, CF_DIGEST_LEN);
        expect = seq + 1;
    }
    if (!rc && step != SQLITE_DONE)
        rc = ag_store_sqlite_error(store, step, "read events", d);
    if (!rc && report->events && (report->last_seq != head || memcmp(prev, head_digest, 32)))
        rc = cf_error_set(d, CF_ECHAIN, "", "the chain head (%llu) is not the last event (%llu)",
                          (unsigned long long)head, (unsigned long long)report->last_seq);
    sqlite3_finalize(stmt);
    free(ev);
    if (rc == CF_ECHAIN)
        d->code = CF_ECHAIN;
    return rc;
}

/* ==== Sync state ==== */

int ag_store_sync_get(struct ag_store *store, struct ag_sync_state *out)
{
    sqlite3_stmt *stmt = NULL;
    memset(out, 0, sizeof *out);
    int rc = ag_store_prepare(store,
                              "SELECT acked_seq, epoch, last_sync_ms, last_attempt_ms, "
                              "skew_known, skew_ms, failures, next_attempt_ms, last_error, "
                              "last_message, held, reference_ms FROM meta",
                              &stmt);
    if (rc)
        return rc;
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        out->acked_seq = (uint64_t)sqlite3_column_int64(stmt, 0);
        rc = copy_text(stmt, 1, out->epoch, sizeof out->epoch);
        out->last_sync_ms = sqlite3_column_int64(stmt, 2);
        out->last_attempt_ms = sqlite3_column_int64(stmt, 3);
        out->skew_known = sqlite3_column_int(stmt, 4) != 0;
        out->skew_ms = sqlite3_column_int64(stmt, 5);
        out->failures = sqlite3_column_int(stmt, 6);
        out->next_attempt_ms = sqlite3_column_int64(stmt, 7);
        out->last_error = sqlite3_column_int(stmt, 8);
        if (!rc)
            rc = copy_text(stmt, 9, out->last_message, sizeof out->last_message);
        out->held = sqlite3_column_int(stmt, 10) != 0;
        out->reference_ms = sqlite3_column_int64(stmt, 11);
    } else {
        rc = ag_store_sqlite_error(store, step == SQLITE_DONE ? SQLITE_CORRUPT : step, "sync state",
                                   NULL);
    }
    sqlite3_finalize(stmt);
    return rc;
}

int ag_store_sync_put(struct ag_store *store, const struct ag_sync_state *st)
{
    sqlite3_stmt *stmt = NULL;
    if (!memchr(st->last_message, '\0', sizeof st->last_message))
        return CF_EINVAL;
    int rc = ag_store_begin(store);
    if (!rc)
        rc = ag_store_prepare(store,
                              "UPDATE meta SET last_sync_ms = ?, last_attempt_ms = ?, "
                              "skew_known = ?, skew_ms = ?, failures = ?, next_attempt_ms = ?, "
                              "last_error = ?, last_message = ?, held = ?, reference_ms = ?",
                              &stmt);
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, st->last_sync_ms);
        sqlite3_bind_int64(stmt, 2, st->last_attempt_ms);
        sqlite3_bind_int(stmt, 3, st->skew_known);
        sqlite3_bind_int64(stmt, 4, st->skew_ms);
        sqlite3_bind_int(stmt, 5, st->failures);
        sqlite3_bind_int64(stmt, 6, st->next_attempt_ms);
        sqlite3_bind_int(stmt, 7, st->last_error);
        sqlite3_bind_text(stmt, 8, st->last_message, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(stmt, 9, st->held);
        sqlite3_bind_int64(stmt, 10, st->reference_ms);
        rc = ag_store_step_done(store, stmt, "sync state");
    }
    return ag_store_finish(store, rc);
}
