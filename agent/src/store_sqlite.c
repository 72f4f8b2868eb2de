/* The SQLite plumbing under the store (see store_sqlite.h): SQLite's result codes
 * turned into the one CF_E... numbering, statements prepared and stepped, and the
 * transaction pair every write goes through. The lowest layer of the store: it
 * calls nothing of store.c or store_index.c. */
#include "store_sqlite.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int ag_store_sqlite_error(struct ag_store *s, int rc, const char *what,
                          struct cf_error_detail *detail)
{
    const char *msg = s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    int sys = s && s->db ? sqlite3_system_errno(s->db) : 0;
    int code;
    switch (rc & 0xff) {
    case SQLITE_FULL:
        code = CF_ESTORE_FULL;
        break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_SCHEMA:
        code = CF_ESTORE_DAMAGED;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = CF_ESTORE_BUSY;
        break;
    case SQLITE_NOMEM:
        code = CF_ENOMEM;
        break;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_ERROR:
        /* Our own statements break no constraint and name no missing table unless
         * the file was changed behind our back. */
        code = CF_ESTORE_DAMAGED;
        break;
    default:
        /* A write that failed for want of space may surface as an I/O error. */
        code = sys == ENOSPC || sys == EDQUOT ? CF_ESTORE_FULL : CF_ESTORE_IO;
        break;
    }
    if (s)
        snprintf(s->last_error, sizeof s->last_error, "%s: %s", what, msg);
    if (detail && detail->code == 0)
        cf_error_set(detail, code, "", "%s: %s", what, msg);
    return code;
}

int ag_store_prepare(struct ag_store *s, const char *sql, sqlite3_stmt **stmt)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, stmt, NULL);
    if (rc != SQLITE_OK) {
        *stmt = NULL;
        return ag_store_sqlite_error(s, rc, "prepare", NULL);
    }
    return 0;
}

int ag_store_step_done(struct ag_store *s, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    int result = rc == SQLITE_DONE ? 0 : ag_store_sqlite_error(s, rc, what, NULL);
    sqlite3_finalize(stmt);
    return result;
}

int ag_store_exec(struct ag_store *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : ag_store_sqlite_error(s, rc, what, NULL);
}

int ag_store_begin(struct ag_store *s)
{
    return ag_store_exec(s, "BEGIN IMMEDIATE", "begin");
}

int ag_store_finish(struct ag_store *s, int rc)
{
    if (!rc)
        rc = ag_store_exec(s, "COMMIT", "commit");
    /* A failed COMMIT may leave the transaction open (or SQLite may have rolled it
     * back already); either way nothing of it must remain. */
    if (rc && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int ag_store_bind_uuid(sqlite3_stmt *stmt, int index, const uint8_t uuid[CF_UUID_LEN])
{
    static const uint8_t nil[CF_UUID_LEN];
    if (!uuid || memcmp(uuid, nil, CF_UUID_LEN) == 0)
        return sqlite3_bind_null(stmt, index);
    return sqlite3_bind_blob(stmt, index, uuid, CF_UUID_LEN, SQLITE_TRANSIENT);
}

int ag_store_column_uuid(sqlite3_stmt *stmt, int column, uint8_t out[CF_UUID_LEN])
{
    memset(out, 0, CF_UUID_LEN);
    if (sqlite3_column_type(stmt, column) == SQLITE_NULL)
        return 0;
    const void *blob = sqlite3_column_blob(stmt, column);
    if (sqlite3_column_bytes(stmt, column) != CF_UUID_LEN || !blob)
        return CF_ESTORE_DAMAGED;
    memcpy(out, blob, CF_UUID_LEN);
    return 0;
}
