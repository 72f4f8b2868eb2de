/* carefactd migrate: applies sql/NNNN_name.sql in name order, each in its own
 * transaction, under a session advisory lock (two instances starting together are
 * safe: the second waits, then finds everything applied), recording each in
 * schema_migrations. A migration that has landed is never edited. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be/db.h"

#define MIGRATIONS_MAX 512
#define MIGRATION_SIZE_MAX (4u << 20)

static int is_migration_name(const char *name)
{
    size_t len = strlen(name);
    if (len < 10 || len > 200 || strcmp(name + len - 4, ".sql") != 0 || name[4] != '_')
        return 0;
    for (int i = 0; i < 4; i++)
        if (name[i] < '0' || name[i] > '9')
            return 0;
    return 1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = malloc(MIGRATION_SIZE_MAX + 1);
    size_t n = text ? fread(text, 1, MIGRATION_SIZE_MAX + 1, f) : 0;
    fclose(f);
    if (!text || n > MIGRATION_SIZE_MAX) {
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

static int apply_one(PGconn *db, const char *dir, const char *name, FILE *log)
{
    const char *params[1] = {name};
    PGresult *res = PQexecParams(db, "SELECT 1 FROM schema_migrations WHERE name = $1", 1, NULL,
                                 params, NULL, NULL, 0);
    int done = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    PQclear(res);
    if (done)
        return 0;
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *sql = read_file(path);
    if (!sql) {
        fprintf(log, "migrate: cannot read %s\n", path);
        return -1;
    }
    int rc = be_db_exec(db, "BEGIN");
    if (!rc) {
        res = PQexec(db, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
            fprintf(log, "migrate: %s failed: %s", name, PQerrorMessage(db));
            rc = -1;
        }
        PQclear(res);
    }
    if (!rc) {
        res = PQexecParams(db, "INSERT INTO schema_migrations (name) VALUES ($1)", 1, NULL, params,
                           NULL, NULL, 0);
        rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
        PQclear(res);
    }
    if (!rc)
        rc = be_db_exec(db, "COMMIT");
    if (rc)
        be_db_exec(db, "ROLLBACK");
    else
        fprintf(log, "migrate: applied %s\n", name);
    free(sql);
    return rc;
}

int be_db_migrate(const char *conninfo, const char *sql_dir, FILE *log)
{
    char *names[MIGRATIONS_MAX];
    size_t count = 0;
    int rc = -1;
    PGconn *db = PQconnectdb(conninfo);
    DIR *dir = opendir(sql_dir);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(log, "migrate: cannot connect: %s", PQerrorMessage(db));
        goto out;
    }
    if (!dir) {
        fprintf(log, "migrate: cannot open the migrations folder %s\n", sql_dir);
        goto out;
    }
    for (struct dirent *entry; (entry = readdir(dir)) && count < MIGRATIONS_MAX;)
        if (is_migration_name(entry->d_name) && (names[count] = strdup(entry->d_name)))
            count++;
    qsort(names, count, sizeof names[0], compare_names);
    /* NOTE: the session-level advisory lock serialises instances starting together;
     * it is released when this connection closes, even if we crash. */
    if (be_db_exec(db, "SET client_min_messages = warning") ||
        be_db_exec(db, "SELECT pg_advisory_lock(7305112026)") ||
        be_db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, "
                       "applied_at timestamptz NOT NULL DEFAULT now())")) {
        fprintf(log, "migrate: %s", PQerrorMessage(db));
        goto out;
    }
    rc = 0;
    for (size_t i = 0; i < count && !rc; i++)
        rc = apply_one(db, sql_dir, names[i], log);
    if (!rc)
        fprintf(log, "migrate: schema is up to date (%zu migrations)\n", count);
out:
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    if (dir)
        closedir(dir);
    PQfinish(db);
    return rc;
}
