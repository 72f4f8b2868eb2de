/* PostgreSQL edge of carefactd: per-thread connections with their prepared
 * statements and epoch (see be/db.h). Migrations are in migrate.c. */
#include "be/db.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "be/log.h"

struct statement {
    const char *name;
    const char *sql;
    int nparams;
};

static const struct statement statements[BE_STMT_COUNT] = {
    [BE_STMT_DEVICE_LOCK] = {"be_device_lock",
                             "SELECT d.worker_id, w.provider_id, encode(d.public_key, 'hex'), "
                             "d.status = 'revoked', d.last_seq, encode(d.last_digest, 'hex') "
                             "FROM devices d JOIN workers w ON w.id = d.worker_id "
                             "WHERE d.id = $1::uuid FOR UPDATE OF d",
                             1},
    [BE_STMT_HELD_DIGESTS] = {"be_held_digests",
                              "SELECT seq, encode(digest, 'hex') FROM events WHERE device_id = "
                              "$1::uuid AND seq BETWEEN $2::bigint AND $3::bigint ORDER BY seq",
                              3},
    [BE_STMT_INGEST_FINISH] = {"be_ingest_finish",
                               "SELECT ingest_finish($1::uuid, $2::bigint, $3::bigint, "
                               "decode($4, 'hex'))",
                               4},
    [BE_STMT_DEVICE_STATUS] = {"be_device_status", "SELECT status FROM devices WHERE id = $1::uuid",
                               1},
    [BE_STMT_AUDIT] = {"be_audit",
                       "INSERT INTO audit_log (actor, action, subject, reason, details) "
                       "VALUES ($1, $2, $3, $4, $5::jsonb)",
                       5},
};

/* One connection per worker thread, with what was read from it at connect. */
struct thread_db {
    PGconn *conn;
    char epoch[40];
    char schema[128];
};
static _Thread_local struct thread_db tdb;

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

PGconn *be_db_thread_conn(const char *conninfo)
{
    if (tdb.conn && PQstatus(tdb.conn) == CONNECTION_OK && idle_socket_alive(tdb.conn))
        return tdb.conn;
    /* NOTE: after a database restart the old session is gone, with its prepared
     * statements: dial a new one and set it up again. */
    be_db_thread_exit();
    PGconn *db = PQconnectdb(conninfo);
    if (PQstatus(db) != CONNECTION_OK) {
        be_log_str("error", "database connection failed", "error", PQerrorMessage(db));
        PQfinish(db);
        return NULL;
    }
    if (setup(db, &tdb)) {
        PQfinish(db);
        return NULL;
    }
    tdb.conn = db;
    return db;
}

void be_db_thread_exit(void)
{
    PQfinish(tdb.conn);
    memset(&tdb, 0, sizeof tdb);
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
    return db && db == tdb.conn ? tdb.epoch : "";
}

const char *be_db_schema(const PGconn *db)
{
    return db && db == tdb.conn ? tdb.schema : "";
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
    res = PQexec(db, "SELECT current_user, r.rolsuper, r.rolbypassrls, (SELECT c.relname "
                     "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                     "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') "
                     "AND pg_has_role(current_user, c.relowner, 'USAGE') "
                     "ORDER BY c.relname LIMIT 1) FROM pg_roles r WHERE r.rolname = current_user");
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
