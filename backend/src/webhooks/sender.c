/* The webhook sender (see be/webhooks.h): one background thread of `carefactd serve`
 * with its own database connection (scoped to every provider) and one libcurl handle.
 * Each round it leases the due deliveries (webhook_claim in sql/0016: the oldest pending
 * one per subscription and subject, so a subject's changes go out one at a time in feed
 * order), POSTs each signed, and records the outcome (webhook_record: delivered, or the
 * back-off and the failure count that may disable the subscription). Any number of
 * carefactd instances may send: a lease keeps a delivery to one sender.
 *
 * A 2xx reply to the delivery of an application's export may carry the central system's
 * answer (be/exchange.h): it is recorded before the attempt is.
 *
 * NOTE: at least once, never at most once: a delivery is recorded after its answer came,
 * so a process that dies between the two sends it again (the same id, the same body)
 * when its lease has passed; receivers deduplicate by X-Carefact-Delivery. */
#include "be/webhooks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "be/exchange.h"
#include "be/log.h"
#include "cf/codec.h"
#include "sql/sender_sql.h"

#define CLAIM_BATCH 20
/* A lease is the attempt's timeout and this: time enough to record the outcome. A sender
 * that dies mid-attempt holds its deliveries this long at most; a record slower than this
 * lets another sender send again (a duplicate with the same id, which at least once
 * allows). */
#define LEASE_MARGIN_MS 5000
#define FAILED_SUBSCRIPTIONS_MAX CLAIM_BATCH

int be_webhook_sign(const char *secret, long long timestamp_s, const char *body, size_t body_len,
                    char out[BE_WEBHOOK_SIGNATURE_MAX])
{
    char prefix[32];
    int prefix_len = snprintf(prefix, sizeof prefix, "%lld.", timestamp_s);
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    int rc = -1;
    /* HMAC over prefix then body without copying the body. */
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *mctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t n = 0;
    if (!mctx || prefix_len <= 0 ||
        !EVP_MAC_init(mctx, (const unsigned char *)secret, strlen(secret), params) ||
        !EVP_MAC_update(mctx, (const unsigned char *)prefix, (size_t)prefix_len) ||
        !EVP_MAC_update(mctx, (const unsigned char *)body, body_len) ||
        !EVP_MAC_final(mctx, mac, &n, sizeof mac) || n != 32)
        goto out;
    mac_len = (unsigned int)n;
    memcpy(out, "v1=", 3);
    rc = cf_hex_encode(mac, mac_len, out + 3, BE_WEBHOOK_SIGNATURE_MAX - 3) ? -1 : 0;
out:
    EVP_MAC_CTX_free(mctx);
    EVP_MAC_free(hmac);
    return rc;
}

/* ==== The thread ==== */

static struct {
    pthread_t thread;
    bool running;
    atomic_bool stop;
    const struct be_config *config;
} sender;

/* The receiver's reply, kept up to REPLY_KEEP bytes (the rest is read and dropped): it
 * may carry the central system's answer to an exported application (be/exchange.h). */
#define REPLY_KEEP (16u * 1024)
struct reply {
    char text[REPLY_KEEP + 1];
    size_t len;
    bool cut;
};

static size_t keep_reply(char *data, size_t size, size_t n, void *user)
{
    struct reply *r = user;
    size_t take = size * n;
    if (take > REPLY_KEEP - r->len) {
        take = REPLY_KEEP - r->len;
        r->cut = true;
    }
    memcpy(r->text + r->len, data, take);
    r->len += take;
    r->text[r->len] = '\0';
    return size * n;
}

/* One POST. Returns the HTTP status, or 0 with err filled when no answer came. */
static long post_delivery(CURL *curl, const char *url, const char *id, const char *secret,
                          const char *body, long timeout_ms, struct reply *reply, char *err,
                          size_t err_size)
{
    long long now = (long long)time(NULL);
    char signature[BE_WEBHOOK_SIGNATURE_MAX], h_id[96], h_time[64], h_sig[128];
    if (be_webhook_sign(secret, now, body, strlen(body), signature)) {
        snprintf(err, err_size, "cannot sign (OpenSSL)");
        return 0;
    }
    snprintf(h_id, sizeof h_id, "X-Carefact-Delivery: %s", id);
    snprintf(h_time, sizeof h_time, "X-Carefact-Timestamp: %lld", now);
    snprintf(h_sig, sizeof h_sig, "X-Carefact-Signature: %s", signature);
    struct curl_slist *headers = NULL;
    const char *const lines[] = {"Content-Type: application/json",  h_id, h_time, h_sig, "Expect:",
                                 "User-Agent: carefactd-webhooks/1"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        headers = curl_slist_append(headers, lines[i]);
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    reply->len = 0;
    reply->cut = false;
    reply->text[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_reply);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, reply);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf(err, err_size, "%s", curl_err[0] ? curl_err : curl_easy_strerror(rc));
    curl_slist_free_all(headers);
    return status;
}

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Record one attempt. Returns 1 when the subscription is still enabled, 0 when not,
 * -1 when the database failed (the lease will pass and the delivery be sent again). */
static int record(PGconn *db, const char *id, bool ok, long status, const char *err,
                  long long took_ms)
{
    const struct be_config *c = sender.config;
    char s_status[16], s_took[24], s_base[24], s_max[24], s_after[16];
    snprintf(s_status, sizeof s_status, "%ld", status);
    snprintf(s_took, sizeof s_took, "%lld", took_ms);
    snprintf(s_base, sizeof s_base, "%ld", c->webhook_backoff_ms);
    snprintf(s_max, sizeof s_max, "%ld", c->webhook_backoff_max_ms);
    snprintf(s_after, sizeof s_after, "%ld", c->webhook_disable_after);
    const char *params[8] = {id,
                             ok ? "true" : "false",
                             status ? s_status : NULL,
                             err[0] ? err : NULL,
                             s_took,
                             s_base,
                             s_max,
                             s_after};
    PGresult *res = PQexecParams(db, sql_record, 8, NULL, params, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    else
        be_log_str("error", "webhook: cannot record an attempt", "error", PQerrorMessage(db));
    PQclear(res);
    return rc;
}

static void release(PGconn *db, const char *id)
{
    const char *params[1] = {id};
    PQclear(PQexecParams(db, sql_release, 1, NULL, params, NULL, NULL, 0));
}

/* The central system's answer in a delivered reply, recorded (application_answer_reply,
 * sql/0023). What went wrong with it goes to note (the attempt's log: the delivery itself
 * is delivered either way, a reply is not retried). */
static void take_answer(PGconn *db, const char *id, const struct reply *reply, char *note,
                        size_t note_size)
{
    struct be_answer a;
    struct cf_error_detail d = {0};
    int found = reply->cut ? 0 : be_answer_in_reply(reply->text, reply->len, &a, &d);
    if (found < 0) {
        snprintf(note, note_size, "the answer in the reply was not taken: %.200s", d.message);
        return;
    }
    if (found == 0)
        return;
    const char *params[4] = {id, a.outcome, a.reference, a.note};
    PGresult *res = PQexecParams(db, sql_answer_reply, 4, NULL, params, NULL, NULL, 0);
    const char *outcome = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
                              ? PQgetvalue(res, 0, 0)
                              : NULL;
    if (!outcome)
        snprintf(note, note_size, "the answer in the reply was not recorded: %.200s",
                 PQerrorMessage(db));
    else if (strcmp(outcome, "answered") != 0 && strcmp(outcome, "same") != 0)
        snprintf(note, note_size, "the answer in the reply was not taken: %s", outcome);
    PQclear(res);
}

/* One round: lease, send, record. Returns how many were attempted, or -1 when the
 * database failed. After a subscription's failure its other deliveries of the round are
 * released unsent, so a receiver that is down costs one failure per round, not one per
 * subject waiting. */
static int send_round(PGconn *db, CURL *curl)
{
    const struct be_config *c = sender.config;
    char s_limit[16], s_lease[24];
    snprintf(s_limit, sizeof s_limit, "%d", CLAIM_BATCH);
    snprintf(s_lease, sizeof s_lease, "%ld", c->webhook_timeout_ms + LEASE_MARGIN_MS);
    const char *params[2] = {s_limit, s_lease};
    PGresult *res = PQexecParams(db, sql_claim, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        be_log_str("error", "webhook: cannot claim deliveries", "error", PQerrorMessage(db));
        PQclear(res);
        return -1;
    }
    struct reply reply;
    char failed[FAILED_SUBSCRIPTIONS_MAX][40];
    int failed_count = 0, attempted = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *id = PQgetvalue(res, i, 0), *sub = PQgetvalue(res, i, 1);
        bool skip = atomic_load(&sender.stop);
        for (int f = 0; f < failed_count && !skip; f++)
            skip = strcmp(failed[f], sub) == 0;
        if (skip) {
            release(db, id);
            continue;
        }
        char err[CURL_ERROR_SIZE + 32] = "";
        long long started = now_ms();
        long status =
            post_delivery(curl, PQgetvalue(res, i, 2), id, PQgetvalue(res, i, 3),
                          PQgetvalue(res, i, 4), c->webhook_timeout_ms, &reply, err, sizeof err);
        bool ok = status >= 200 && status <= 299;
        if (!ok && !err[0])
            snprintf(err, sizeof err, "HTTP %ld", status);
        if (ok)
            take_answer(db, id, &reply, err, sizeof err);
        attempted++;
        int enabled = record(db, id, ok, status, err, now_ms() - started);
        if ((!ok || enabled == 0) && failed_count < FAILED_SUBSCRIPTIONS_MAX)
            snprintf(failed[failed_count++], sizeof failed[0], "%s", sub);
    }
    PQclear(res);
    return attempted;
}

static PGconn *connect_db(void)
{
    PGconn *db = PQconnectdb(sender.config->db);
    if (PQstatus(db) == CONNECTION_OK) {
        PGresult *res = PQexec(db, sql_scope);
        bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        PQclear(res);
        if (ok)
            return db;
    }
    PQfinish(db);
    return NULL;
}

/* Sleep ms in short steps, waking early when asked to stop. */
static void pause_ms(long ms)
{
    for (long slept = 0; slept < ms && !atomic_load(&sender.stop); slept += 10) {
        struct timespec step = {0, 10 * 1000000L};
        nanosleep(&step, NULL);
    }
}

static void *sender_main(void *arg)
{
    (void)arg;
    CURL *curl = curl_easy_init();
    PGconn *db = NULL;
    while (curl && !atomic_load(&sender.stop)) {
        if (!db || PQstatus(db) != CONNECTION_OK) {
            PQfinish(db);
            db = connect_db();
            if (!db) {
                pause_ms(sender.config->webhook_poll_ms);
                continue;
            }
        }
        int attempted = send_round(db, curl);
        if (attempted <= 0)
            pause_ms(sender.config->webhook_poll_ms);
    }
    PQfinish(db);
    curl_easy_cleanup(curl);
    return NULL;
}

int be_webhook_sender_start(const struct be_config *config)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        be_log_str("error", "webhook: libcurl does not start", "part", "sender");
        return -1;
    }
    sender.config = config;
    atomic_store(&sender.stop, false);
    if (pthread_create(&sender.thread, NULL, sender_main, NULL)) {
        be_log_str("error", "webhook: cannot start the sender thread", "part", "sender");
        return -1;
    }
    sender.running = true;
    return 0;
}

void be_webhook_sender_stop(void)
{
    if (!sender.running)
        return;
    atomic_store(&sender.stop, true);
    pthread_join(sender.thread, NULL);
    sender.running = false;
}
