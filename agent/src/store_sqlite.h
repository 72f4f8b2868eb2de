/* The bottom layer of the store, shared by store.c and store_index.c: the store's
 * struct and the SQLite helpers that turn SQLite's result codes into the one CF_E...
 * numbering. Not a public header: only the store's own files include it.
 * Layering: store.c -> store_index.c -> store_sqlite.c; nothing here calls up. */
#ifndef AG_STORE_SQLITE_H
#define AG_STORE_SQLITE_H

#include <sqlite3.h>
#include <stdbool.h>

#include "ag/store.h"

struct ag_store {
    sqlite3 *db;
    bool have_device; /* device_id below is valid (the store is enrolled) */
    uint8_t device_id[CF_UUID_LEN];
    char last_error[256]; /* what SQLite said about the last failure */
};

/* Map a SQLite result code (rc, extended or not) to a CF_E... code and fill detail
 * with what failed (what: a few words) and SQLite's own message. */
int ag_store_sqlite_error(struct ag_store *s, int rc, const char *what,
                          struct cf_error_detail *detail);

/* Prepare sql; 0 or a mapped error. */
int ag_store_prepare(struct ag_store *s, const char *sql, sqlite3_stmt **stmt);

/* Step a statement that returns no row (SQLITE_DONE), then finalize it. */
int ag_store_step_done(struct ag_store *s, sqlite3_stmt *stmt, const char *what);

/* Run SQL without results (sqlite3_exec); 0 or a mapped error. */
int ag_store_exec(struct ag_store *s, const char *sql, const char *what);

/* BEGIN IMMEDIATE: the write lock now, so the transaction cannot fail half-way
 * for want of it. */
int ag_store_begin(struct ag_store *s);

/* COMMIT when rc is 0, else (or when COMMIT fails) ROLLBACK; returns rc or the
 * COMMIT error. NOTE: when this returns 0 the transaction is on disk. */
int ag_store_finish(struct ag_store *s, int rc);

/* Bind 16 bytes, or NULL for the nil UUID. */
int ag_store_bind_uuid(sqlite3_stmt *stmt, int index, const uint8_t uuid[CF_UUID_LEN]);

/* Copy a 16-byte BLOB column into out (zeros for NULL). Returns 0 or
 * CF_ESTORE_DAMAGED for a blob of another size. */
int ag_store_column_uuid(sqlite3_stmt *stmt, int column, uint8_t out[CF_UUID_LEN]);

#endif
