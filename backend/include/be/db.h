/* PostgreSQL access: one connection per worker thread (made on first use, re-made
 * after the database restarts), the statements carefactd prepares on each
 * connection, the database epoch, and migrations. A connection is only a cache:
 * nothing in it is state another carefactd instance would need. */
#ifndef BE_DB_H
#define BE_DB_H

#include <stdio.h>

#include <libpq-fe.h>

/* Statements prepared on every connection (the hot paths; queries whose best plan
 * depends on which filters are given are sent with PQexecParams instead, so they
 * are always planned for their actual parameters). */
enum be_stmt {
    BE_STMT_DEVICE_LOCK, /* $1 device -> worker, provider, key hex, revoked, last seq/digest */
    BE_STMT_HELD_DIGESTS, /* $1 device, $2 first, $3 last -> seq, digest hex */
    BE_STMT_INGEST_FINISH, /* $1 device, $2 after, $3 last seq, $4 last digest hex */
    BE_STMT_DEVICE_STATUS, /* $1 device -> status */
    BE_STMT_AUDIT, /* $1 actor, $2 action, $3 subject, $4 reason, $5 details json */
    BE_STMT_COUNT
};

/* This thread's connection to conninfo, connecting (or re-connecting when the last
 * one broke) as needed; the session is set to UTC with every statement prepared.
 * NULL when the database cannot be reached or the schema is not migrated (logged).
 * Borrowed: freed by be_db_thread_exit. */
PGconn *be_db_thread_conn(const char *conninfo);
void be_db_thread_exit(void);

/* Execute a prepared statement on this thread's connection db. Caller PQclears. */
PGresult *be_db_run(PGconn *db, enum be_stmt stmt, int nparams, const char *const *params);

/* Run a command expecting no rows or some rows (BEGIN, COMMIT...). Returns 0 or -1. */
int be_db_exec(PGconn *db, const char *sql);

/* The database epoch of this thread's connection (36-char UUID text, see
 * sql/0001_platform.sql), read once per connection. */
const char *be_db_epoch(const PGconn *db);

/* The name of the newest migration applied ("" before any), read at connect. */
const char *be_db_schema(const PGconn *db);

/* Whether conninfo's role may serve: it must be subject to row-level security, so a
 * superuser, a role with BYPASSRLS, and the owner of any table or view in the public
 * schema (or a member of the owner's role) are refused. Returns 0 when it may serve,
 * -1 with a message naming the role and what to use instead in err (also when the
 * database cannot be reached). */
int be_db_check_serving_role(const char *conninfo, char *err, size_t err_size);

/* Apply sql_dir/NNNN_*.sql in order, each in its own transaction, under an advisory
 * lock, recording each in schema_migrations. Progress goes to log. Returns 0 or -1
 * (the reason printed to log). */
int be_db_migrate(const char *conninfo, const char *sql_dir, FILE *log);

#endif
