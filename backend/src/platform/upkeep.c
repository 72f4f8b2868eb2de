/* The upkeep of a serving carefactd (issue 18), run by be_serve's main thread at start
 * and every BE_UPKEEP_PERIOD_S seconds after, on a connection of its own in scope '*':
 *   - events_partitions_ensure(): the month partitions of events, this month and the
 *     next two (a catalogue look-up a month when none is missing), so an upload never
 *     finds its month without one;
 *   - visit_integrity_drain(): the integrity judgements queued by uploads whose own
 *     judging did not run -- this instance or another died between an upload's COMMIT
 *     and its judging, or the judging failed (sql/0014_growth.sql). The first pass, at
 *     start, is what makes a verdict never lost;
 *   - changes_expire(): the change feed's changes past the region's retention, oldest
 *     first, at most 5,000 a pass (sql/0037_changes_retention.sql).
 * Several instances may run it at once: both functions take their own locks. */
#include "be/upkeep.h"

#include <string.h>

#include <libpq-fe.h>

#include "be/db.h"
#include "be/log.h"
#include "sql/db_sql.h"

static PGconn *conn;

void be_upkeep_pass(const char *conninfo)
{
    if (conn && PQstatus(conn) != CONNECTION_OK)
        be_upkeep_close();
    if (!conn) {
        /* NOTE: a bounded dial (the conninfo's own connect_timeout wins): the upkeep runs
         * on the thread that watches for SIGTERM, which an unreachable host must not hold. */
        const char *const keys[] = {"connect_timeout", "dbname", NULL};
        const char *const values[] = {"5", conninfo, NULL};
        conn = PQconnectdbParams(keys, values, 1);
        if (PQstatus(conn) != CONNECTION_OK ||
            be_db_exec(conn, "SET application_name = 'carefactd upkeep'") ||
            be_db_set_scope(conn, "*", "*", "")) {
            be_log_str("error", "upkeep: cannot connect", "error", PQerrorMessage(conn));
            be_upkeep_close();
            return;
        }
    }
    PGresult *res = PQexec(conn, sql_upkeep);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        be_log_str("error", "upkeep failed (partitions of events, integrity queue, change feed)",
                   "error", PQerrorMessage(conn));
    } else if (PQntuples(res) == 1 && (strcmp(PQgetvalue(res, 0, 0), "0") != 0 ||
                                       strcmp(PQgetvalue(res, 0, 1), "0") != 0 ||
                                       strcmp(PQgetvalue(res, 0, 2), "0") != 0)) {
        cJSON *fields = cJSON_CreateObject();
        if (fields) {
            cJSON_AddStringToObject(fields, "partitions_created", PQgetvalue(res, 0, 0));
            cJSON_AddStringToObject(fields, "integrity_uploads_judged", PQgetvalue(res, 0, 1));
            cJSON_AddStringToObject(fields, "changes_expired", PQgetvalue(res, 0, 2));
        }
        be_log("info", "upkeep", fields);
    }
    PQclear(res);
}

void be_upkeep_close(void)
{
    PQfinish(conn);
    conn = NULL;
}
