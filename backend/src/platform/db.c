/* PostgreSQL edge of carefactd: per-thread connections with their prepared
 * statements and epoch, the row-level-security scope, how a failed statement is
 * answered, and the one transaction helper (see be/db.h). Migrations are in migrate.c. */
#include "be/db.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "be/log.h"
#include "be/metrics.h"
#include "be/reply.h"
#include "sql/db_sql.h"

struct statement {
    const char *name;
    const char *sql;
    int nparams;
};

static const struct statement statements[BE_STMT_COUNT] = {
    [BE_STMT_DEVICE_LOCK] = {"be_device_lock", sql_device_lock, 1},
    [BE_STMT_HELD_DIGESTS] = {"be_held_digests", sql_held_digests, 3},
    [BE_STMT_INGEST_FINISH] = {"be_ingest_finish", sql_ingest_finish, 4},
    [BE_STMT_DEVICE_STATUS] = {"be_device_status", sql_device_status, 1},
    [BE_STMT_AUDIT] = {"be_audit", sql_audit, 5},
    [BE_STMT_SDAD_REUSE] = {"be_sdad_reuse", sql_sdad_reuse, 4},
    [BE_STMT_INTEGRITY_LOCK] = {"be_integrity_lock", sql_integrity_lock, 1},
    [BE_STMT_INTEGRITY_DRAIN] = {"be_integrity_drain", sql_integrity_drain, 1},
    [BE_STMT_INTEGRITY_UNLOCK] = {"be_integrity_unlock", sql_integrity_unlock, 1},
    [BE_STMT_INTEGRITY_PENDING] = {"be_integrity_pending", sql_integrity_pending, 1},
    [BE_STMT_CARD_CHECK_INS] = {"be_card_check_ins", sql_card_check_ins, 3},
    [BE_STMT_TERMINAL_ACTS] = {"be_terminal_acts", sql_terminal_acts, 3},
};

/* One connection per worker thread, with what was read from it at connect. */
struct thread_db {
    PGconn *conn;
    char epoch[40];
    char schema[128];
};
static _Thread_local struct thread_db tdb, tdb_read;

/* NOTE: a connection the database closed (a restart) still says CONNECTION_OK until
 * a query fails on it. Between requests our connections are idle, so the server has
 * nothing to say: anything readable -- EOF, or its "terminating connection" goodbye --
 * means the connection is gone, and it is re-dialled before a request depends on it. */
static int idle_socket_alive(PGconn *db)
{
    int fd = PQsocket(db);
    char byte;
    if (fd < 0)
        return 0;
    ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Session settings, prepared statements, epoch and schema version. */
static int setup(PGconn *db, struct thread_db *t)
{
    const char *what = "session settings";
    PGresult *res = PQexec(db, "SET TimeZone = 'UTC'; SET application_name = 'carefactd'");
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    for (int i = 0; ok && i < BE_STMT_COUNT; i++) {
        res = PQprepare(db, statements[i].name, statements[i].sql, statements[i].nparams, NULL);
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        what = statements[i].name;
        PQclear(res);
    }
    if (ok) {
        what = "epoch (is the schema migrated? carefactd migrate)";
        res = PQexec(db, "SELECT database_epoch()::text, "
                         "(SELECT coalesce(max(name), '') FROM schema_migrations)");
        ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
        if (ok) {
            snprintf(t->epoch, sizeof t->epoch, "%s", PQgetvalue(res, 0, 0));
            snprintf(t->schema, sizeof t->schema, "%s", PQgetvalue(res, 0, 1));
        }
        PQclear(res);
    }
    if (!ok) {
        cJSON *fields = cJSON_CreateObject();
        if (fields) {
            cJSON_AddStringToObject(fields, "step", what);
            cJSON_AddStringToObject(fields, "error", PQerrorMessage(db));
        }
        be_log("error", "database session setup failed", fields);
    }
    return ok ? 0 : -1;
}

static void thread_db_close(struct thread_db *t)
{
    PQfinish(t->conn);
    memset(t, 0, sizeof *t);
}

static PGconn *thread_conn(struct thread_db *t, const char *conninfo)
{
    if (t->conn && PQstatus(t->conn) == CONNECTION_OK && idle_socket_alive(t->conn))
        return t->conn;
    /* NOTE: after a database restart (or a failover) the old session is gone, with its
     * prepared statements: dial a new one and set it up again. */
    thread_db_close(t);
    PGconn *db = PQconnectdb(conninfo);
    if (PQstatus(db) != CONNECTION_OK) {
        be_log_str("error", "database connection failed", "error", PQerrorMessage(db));
        PQfinish(db);
        return NULL;
    }
    if (setup(db, t)) {
        PQfinish(db);
        return NULL;
    }
    t->conn = db;
    return db;
}

PGconn *be_db_thread_conn(const char *conninfo)
{
    return thread_conn(&tdb, conninfo);
}

PGconn *be_db_thread_conn_read(const char *conninfo)
{
    return thread_conn(&tdb_read, conninfo);
}

void be_db_thread_exit(void)
{
    thread_db_close(&tdb);
    thread_db_close(&tdb_read);
}

PGresult *be_db_run(PGconn *db, enum be_stmt stmt, int nparams, const char *const *params)
{
    return PQexecPrepared(db, statements[stmt].name, nparams, params, NULL, NULL, 0);
}

int be_db_exec(PGconn *db, const char *sql)
{
    PGresult *res = PQexec(db, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    return ok ? 0 : -1;
}

const char *be_db_epoch(const PGconn *db)
{
    if (db && db == tdb_read.conn)
        return tdb_read.epoch;
    return db && db == tdb.conn ? tdb.epoch : "";
}

const char *be_db_schema(const PGconn *db)
{
    if (db && db == tdb_read.conn)
        return tdb_read.schema;
    return db && db == tdb.conn ? tdb.schema : "";
}

int be_db_set_scope(PGconn *db, const char *provider, const char *office, const char *region)
{
    const char *params[3] = {provider, office, region};
    PGresult *res = PQexecParams(db,
                                 "SELECT set_config('carefact.provider', $1, false), "
                                 "set_config('carefact.office', $2, false), "
                                 "set_config('carefact.region', $3, false)",
                                 3, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    return ok ? 0 : -1;
}

/* ==== Failures ==== */

int be_db_status_of(const char *sqlstate)
{
    return sqlstate && strlen(sqlstate) == 5 && strncmp(sqlstate, "22", 2) == 0 ? 400 : 503;
}

const char *be_db_field_of(const char *message, const char *const *names, const char *const *values,
                           size_t n)
{
    for (size_t i = 0; message && i < n; i++) {
        if (!names[i] || !values[i] || !values[i][0])
            continue;
        /* PostgreSQL quotes the value it could not take: ...: "1-2-3" */
        size_t len = strlen(values[i]);
        for (const char *q = strchr(message, '"'); q; q = strchr(q + 1, '"'))
            if (strncmp(q + 1, values[i], len) == 0 && q[1 + len] == '"')
                return names[i];
    }
    return NULL;
}

bool be_db_check(struct be_request *req, const PGresult *res, ExecStatusType want)
{
    if (res && PQresultStatus(res) == want)
        return true;
    struct be_db_failure *f = &req->db_failure;
    if (f->sqlstate[0] || f->message[0])
        return false; /* the first failure is the one to tell */
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *message = res ? PQresultErrorMessage(res) : NULL;
    snprintf(f->sqlstate, sizeof f->sqlstate, "%s", state ? state : "");
    snprintf(f->message, sizeof f->message, "%s",
             message && message[0] ? message
             : res                 ? "unexpected result status"
                                   : (req->db ? PQerrorMessage(req->db) : "no result"));
    return false;
}

void be_db_name_field(struct be_request *req, const char *const *names, const char *const *values,
                      size_t n)
{
    const char *field = be_db_field_of(req->db_failure.message, names, values, n);
    snprintf(req->db_failure.field, sizeof req->db_failure.field, "%s", field ? field : "");
}

void be_reply_db_error(struct be_request *req, PGconn *db, const char *what)
{
    const struct be_db_failure *f = &req->db_failure;
    const char *message = f->message[0] ? f->message : db ? PQerrorMessage(db) : "no connection";
    cJSON *fields = cJSON_CreateObject();
    if (fields) {
        cJSON_AddStringToObject(fields, "route", req->route ? req->route : "");
        cJSON_AddStringToObject(fields, "what", what);
        if (f->step)
            cJSON_AddStringToObject(fields, "step", f->step);
        cJSON_AddStringToObject(fields, "sqlstate", f->sqlstate);
        cJSON_AddStringToObject(fields, "error", message);
    }
    if (be_db_status_of(f->sqlstate) == 400) {
        /* The client's value, refused by the database: their error, not ours. */
        be_log("info", "database refused a value", fields);
        char detail[300];
        snprintf(detail, sizeof detail,
                 "%s is not a value the server can use (a time, a number or an id out of its "
                 "range or form).",
                 f->field[0] ? f->field : "A value of the request");
        be_reply_problem(req, 400, "validation", "A query parameter is not valid", detail, f->field,
                         NULL);
        return;
    }
    be_log("error", "database error", fields);
    be_metrics_db_error();
    be_reply_problem(req, 503, "unavailable", "The database is not available",
                     "The server could not reach its database; nothing was stored. Try again "
                     "in a moment.",
                     NULL, NULL);
}

/* ==== Transactions ==== */

int be_db_transaction(struct be_request *req, const char *begin, const char *what,
                      int (*body)(struct be_request *req, void *ctx), void *ctx)
{
    PGconn *db = req->db;
    PGresult *res = PQexec(db, begin ? begin : "BEGIN");
    int rc = be_db_check(req, res, PGRES_COMMAND_OK) ? body(req, ctx) : BE_TX_FAILED;
    PQclear(res);
    if (rc == BE_TX_COMMIT) {
        res = PQexec(db, "COMMIT");
        if (!be_db_check(req, res, PGRES_COMMAND_OK))
            rc = BE_TX_FAILED;
        PQclear(res);
        if (rc == BE_TX_COMMIT)
            return rc;
    }
    /* NOTE: answered (and logged) before ROLLBACK, which clears the server's message. */
    if (rc != BE_TX_ROLLBACK)
        be_reply_db_error(req, db, what);
    PQclear(PQexec(db, "ROLLBACK"));
    return rc == BE_TX_ROLLBACK ? BE_TX_ROLLBACK : BE_TX_FAILED;
}

/* ==== The serving role ==== */

/* NOTE: row-level security (sql/0001_platform.sql) is the second of the two layers that
 * keep a manager to their provider; it does not apply to a superuser, a BYPASSRLS role
 * or the tables' owner, so carefactd refuses to serve as one (issue 12). */
int be_db_check_serving_role(const char *conninfo, char *err, size_t err_size)
{
    PGconn *db = PQconnectdb(conninfo);
    PGresult *res = NULL;
    int rc = -1;
    if (PQstatus(db) != CONNECTION_OK) {
        snprintf(err, err_size, "cannot connect to the database: %s", PQerrorMessage(db));
        goto out;
    }
    res = PQexec(db, sql_serving_role);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        snprintf(err, err_size, "cannot read the database role: %s", PQerrorMessage(db));
        goto out;
    }
    const char *role = PQgetvalue(res, 0, 0);
    char why[128] = "";
    if (strcmp(PQgetvalue(res, 0, 1), "t") == 0)
        snprintf(why, sizeof why, "is a superuser");
    else if (strcmp(PQgetvalue(res, 0, 2), "t") == 0)
        snprintf(why, sizeof why, "has BYPASSRLS");
    else if (!PQgetisnull(res, 0, 3))
        snprintf(why, sizeof why, "owns the tables (%s, ...)", PQgetvalue(res, 0, 3));
    if (why[0])
        snprintf(err, err_size,
                 "database role '%s' %s, so row-level security would not apply to it: serve as "
                 "the app role carefact_app (tools/pg conninfo DIR --app); migrate and load "
                 "data as the owner",
                 role, why);
    else
        rc = 0;
out:
    PQclear(res);
    PQfinish(db);
    return rc;
}
