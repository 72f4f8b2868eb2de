/* The outbox sender: a thread of `carefactd serve` that sends the due messages of the
 * outbox through a transport (the HTTP SMS gateway adapter here; tests run a local
 * receiver) and marks each sent in the transaction that claimed it.
 *
 * No message is lost: a row stays pending until the COMMIT that marks it sent. None is
 * taken twice: the claim is FOR UPDATE SKIP LOCKED (two instances never hold one row),
 * and the one window left — the gateway answered, then carefactd died before COMMIT —
 * resends the message under the same id, which the gateway drops as a repeat
 * (Idempotency-Key). The transaction is open while a pass sends, at most `limit`
 * messages of a 10-second timeout each. Before each pass it writes the reminders due
 * (appointment_remind: the day before, from 10:00 local time). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "be/db.h"
#include "be/log.h"
#include "be/outbox.h"
#include "sql/outbox_sql.h"

#define PASS_LIMIT 20

/* ==== The HTTP SMS gateway adapter ==== */

char *be_sms_json(const struct be_sms *msg)
{
    cJSON *body = cJSON_CreateObject();
    char *text = NULL;
    if (body && cJSON_AddStringToObject(body, "id", msg->id) &&
        cJSON_AddStringToObject(body, "phone", msg->phone) &&
        cJSON_AddStringToObject(body, "text", msg->text))
        text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    return text;
}

static size_t discard(char *data, size_t size, size_t count, void *userdata)
{
    (void)data;
    (void)userdata;
    return size * count;
}

static int http_send(void *ctx, const struct be_sms *msg, char *err, size_t err_size)
{
    const char *url = ctx;
    char key[96];
    int rc = -1;
    long status = 0;
    char *body = be_sms_json(msg);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    snprintf(key, sizeof key, "Idempotency-Key: carefact-outbox-%s", msg->id);
    struct curl_slist *more = headers ? curl_slist_append(headers, key) : NULL;
    if (!body || !curl || !more) {
        snprintf(err, err_size, "out of memory");
        goto out;
    }
    headers = more;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
        snprintf(err, err_size, "gateway: %s", curl_easy_strerror(code));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        snprintf(err, err_size, "gateway answered %ld", status);
        goto out;
    }
    rc = 0;
out:
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(body);
    return rc;
}

void be_sms_http_transport(struct be_sms_transport *t, const char *url)
{
    t->send = http_send;
    t->ctx = (void *)url;
}

/* ==== One pass ==== */

static bool run(PGconn *db, const char *sql, int n, const char *const *params, ExecStatusType want)
{
    PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    bool ok = PQresultStatus(res) == want;
    if (!ok)
        be_log_str("error", "outbox: statement failed", "error", PQerrorMessage(db));
    PQclear(res);
    return ok;
}

int be_outbox_pass(PGconn *db, const struct be_sms_transport *t, int limit)
{
    char limit_text[16];
    snprintf(limit_text, sizeof limit_text, "%d", limit);
    /* the day-before reminders due now join the queue first (once each: the outbox's
     * unique key); if that fails (logged by run), what is queued still goes out */
    (void)run(db, sql_outbox_remind, 0, NULL, PGRES_TUPLES_OK);
    if (be_db_exec(db, "BEGIN"))
        return -1;
    const char *params[1] = {limit_text};
    PGresult *due = PQexecParams(db, sql_outbox_claim, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(due) != PGRES_TUPLES_OK) {
        be_log_str("error", "outbox: claim failed", "error", PQerrorMessage(db));
        PQclear(due);
        be_db_exec(db, "ROLLBACK");
        return -1;
    }
    int sent = 0;
    bool ok = true;
    for (int i = 0; ok && i < PQntuples(due); i++) {
        struct be_sms msg = {PQgetvalue(due, i, 0), PQgetvalue(due, i, 1), PQgetvalue(due, i, 2)};
        char err[300] = "";
        if (t->send(t->ctx, &msg, err, sizeof err) == 0) {
            const char *one[1] = {msg.id};
            ok = run(db, sql_outbox_sent, 1, one, PGRES_COMMAND_OK);
            sent += ok;
        } else {
            const char *two[2] = {msg.id, err};
            be_log_str("warn", "outbox: not sent", "error", err);
            ok = run(db, sql_outbox_retry, 2, two, PGRES_COMMAND_OK);
        }
    }
    PQclear(due);
    /* NOTE: a message counts as sent only once this COMMIT returns; before it, a crash
     * leaves it pending and it is sent again under the same id. */
    if (!ok || be_db_exec(db, "COMMIT")) {
        be_db_exec(db, "ROLLBACK");
        return -1;
    }
    return sent;
}

/* ==== The thread ==== */

static struct {
    pthread_t thread;
    atomic_bool stop;
    bool running;
    const char *conninfo;
    struct be_sms_transport transport;
    int interval_ms;
} sender;

static PGconn *connect_scoped(const char *conninfo)
{
    PGconn *db = PQconnectdb(conninfo);
    if (PQstatus(db) != CONNECTION_OK || be_db_exec(db, "SET TimeZone = 'UTC'") ||
        be_db_set_scope(db, "*", "*", "")) {
        be_log_str("warn", "outbox: no database connection", "error", PQerrorMessage(db));
        PQfinish(db);
        return NULL;
    }
    return db;
}

static void *sender_main(void *arg)
{
    (void)arg;
    PGconn *db = NULL;
    while (!atomic_load(&sender.stop)) {
        if (!db || PQstatus(db) != CONNECTION_OK) {
            PQfinish(db);
            db = connect_scoped(sender.conninfo);
        }
        if (db && be_outbox_pass(db, &sender.transport, PASS_LIMIT) < 0 &&
            PQstatus(db) != CONNECTION_OK) {
            PQfinish(db);
            db = NULL;
        }
        for (int waited = 0; waited < sender.interval_ms && !atomic_load(&sender.stop);
             waited += 50) {
            struct timespec step = {0, 50 * 1000000L};
            nanosleep(&step, NULL);
        }
    }
    PQfinish(db);
    return NULL;
}

int be_outbox_start(const char *conninfo, const char *url, int interval_ms)
{
    sender.conninfo = conninfo;
    sender.interval_ms = interval_ms;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    be_sms_http_transport(&sender.transport, url);
    atomic_store(&sender.stop, false);
    if (pthread_create(&sender.thread, NULL, sender_main, NULL) != 0)
        return -1;
    sender.running = true;
    be_log_str("info", "outbox: sender started", "gateway", url);
    return 0;
}

void be_outbox_stop(void)
{
    if (!sender.running)
        return;
    atomic_store(&sender.stop, true);
    pthread_join(sender.thread, NULL);
    sender.running = false;
}
