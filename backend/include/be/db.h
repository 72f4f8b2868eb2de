/* PostgreSQL access: one connection per worker thread, re-made after the server
 * restarts; migrations; small helpers for parameterised queries. */
#ifndef BE_DB_H
#define BE_DB_H

#include <stdio.h>

#include <libpq-fe.h>

/* This thread's connection to conninfo, connecting (or reconnecting when the last
 * one broke) as needed. NULL when the database cannot be reached. Borrowed: freed
 * by be_db_thread_exit. */
PGconn *be_db_thread_conn(const char *conninfo);
void be_db_thread_exit(void);

/* Apply sql_dir/NNNN_*.sql in order, each in its own transaction, under an advisory
 * lock, recording each in schema_migrations. Progress goes to log. Returns 0 or -1
 * (the reason printed to log). */
int be_db_migrate(const char *conninfo, const char *sql_dir, FILE *log);

/* Run a command expecting no rows (BEGIN, COMMIT...). Returns 0 or -1. */
int be_db_exec(PGconn *db, const char *sql);

/* The database epoch (36-char text) into out; returns 0 or -1. */
int be_db_epoch(PGconn *db, char out[37]);

#endif
