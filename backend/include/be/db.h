/* PostgreSQL access: one connection per worker thread (made on first use, re-made
 * after the database restarts), the statements carefactd prepares on each
 * connection, the database epoch, and migrations. A connection is only a cache:
 * nothing in it is state another carefactd instance would need. */
#ifndef BE_DB_H
#define BE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "be/request.h"

/* Statements prepared on every connection (the hot paths; queries whose best plan
 * depends on which filters are given are sent with PQexecParams instead, so they
 * are always planned for their actual parameters). */
enum be_stmt {
    BE_STMT_DEVICE_LOCK, /* $1 device -> worker, provider, key hex, revoked, last seq/digest */
    BE_STMT_HELD_DIGESTS, /* $1 device, $2 first, $3 last -> seq, digest hex */
    BE_STMT_INGEST_FINISH, /* $1 device, $2 after, $3 last seq, $4 last digest hex ->
                            * visits, refused seq, refused visit, owner device */
    BE_STMT_DEVICE_STATUS, /* $1 device -> status */
    BE_STMT_AUDIT, /* $1 actor, $2 action, $3 subject, $4 reason, $5 details json */
    BE_STMT_SDAD_REUSE, /* $1 SDAD digests (hex text[]), $2 accepted (boolean[]), $3 seqs,
                         * $4 device -> the digests already accepted for another event */
    BE_STMT_INTEGRITY_LOCK, /* $1 worker -> whether its drain lock was taken */
    BE_STMT_INTEGRITY_DRAIN, /* $1 worker -> uploads whose integrity was judged */
    BE_STMT_INTEGRITY_UNLOCK, /* $1 worker -> unlocked */
    BE_STMT_INTEGRITY_PENDING, /* $1 worker -> whether uploads wait to be judged */
    BE_STMT_CARD_CHECK_INS, /* $1 device, $2 after, $3 last seq -> appointments checked in */
    BE_STMT_TERMINAL_ACTS, /* $1 device, $2 after, $3 last seq -> act events applied */
    BE_STMT_COUNT
};

/* This thread's connection to conninfo, connecting (or re-connecting when the last
 * one broke) as needed; the session is set to UTC with every statement prepared.
 * NULL when the database cannot be reached or the schema is not migrated (logged).
 * Borrowed: freed by be_db_thread_exit. */
PGconn *be_db_thread_conn(const char *conninfo);
/* The same for the heavy read-only routes' connection (config db-read, BE_DB_READ): a
 * second connection of this thread, kept apart from the first. */
PGconn *be_db_thread_conn_read(const char *conninfo);
/* Closes both of this thread's connections. */
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

/* Set this connection's row-level-security scope: carefact.provider ("*" every
 * provider, else one provider's UUID, "" none), carefact.office ("*" every office's
 * applications, else one office's UUID, "" none) and carefact.region (a region's UUID:
 * its applications, "" none). Returns 0 or -1. */
int be_db_set_scope(PGconn *db, const char *provider, const char *office, const char *region);

/* ==== Failures and transactions ==== */

/* The HTTP status a failed statement is answered with, from its SQLSTATE: 400 for
 * class 22 (a data exception: a bad timestamp, uuid or number, out of range — the
 * client's input), else 503 (the database; the client may retry). Pure. */
int be_db_status_of(const char *sqlstate);

/* The name among names[0..n) whose value values[i] (non-empty) the server's message
 * quotes ('... "1-2-3"'), or NULL. names[i] may be NULL (not a request parameter). Pure. */
const char *be_db_field_of(const char *message, const char *const *names, const char *const *values,
                           size_t n);

/* Did res (may be NULL) end with status want? If not, its SQLSTATE and message are
 * kept in req->db_failure for be_reply_db_error (the first failure is kept). */
bool be_db_check(struct be_request *req, const PGresult *res, ExecStatusType want);

/* After a failed statement that was given the request's parameters: name in
 * req->db_failure the parameter its message quotes (see be_db_field_of). */
void be_db_name_field(struct be_request *req, const char *const *names, const char *const *values,
                      size_t n);

/* Answer a database failure: a data exception (be_db_status_of: 400) is a
 * `validation` problem naming the parameter; anything else is logged with the
 * server's message (req->db_failure, else PQerrorMessage(db)), counted and answered
 * 503 `unavailable` (the client may retry; nothing was stored). db may be NULL (no
 * connection). Never a 500 for the client's input. */
void be_reply_db_error(struct be_request *req, PGconn *db, const char *what);

/* What a transaction body returns. */
enum be_tx_result {
    BE_TX_FAILED = -1, /* a statement failed (be_db_check recorded it, or PQerrorMessage) */
    BE_TX_COMMIT = 0, /* keep what was done */
    BE_TX_ROLLBACK = 1, /* nothing to keep: the answer was decided inside (404, 409...) */
};

/* Run body(req, ctx) in one transaction on req->db, begun with begin (NULL: "BEGIN";
 * e.g. "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"). One exit: BE_TX_COMMIT
 * commits; BE_TX_ROLLBACK rolls back; BE_TX_FAILED (or a failed BEGIN/COMMIT) is
 * answered with be_reply_db_error(req, db, what) — logged with the server's message
 * BEFORE the rollback clears it — then rolled back. Returns BE_TX_COMMIT (committed:
 * the caller answers, after COMMIT returned), BE_TX_ROLLBACK (the caller or body
 * answers), or BE_TX_FAILED (already answered). */
int be_db_transaction(struct be_request *req, const char *begin, const char *what,
                      int (*body)(struct be_request *req, void *ctx), void *ctx);

#endif
