/* Fuzz target: the server's answers as the agent's sync reads them (agent/src/sync.c):
 * the acknowledgement or problem of an uploaded batch, the reference list and the
 * reference records fetched. The input is up to eight answers separated by NUL bytes,
 * each "<status>\n<body>" (a text without a status line is a 200 with that body); the
 * sync of a fresh store holding two events is run against a fake server that hands them
 * out in turn (upload, list, fetch, ...) and then fails like a lost network.
 *
 * Whatever the answers, the sync must end with a code and a message, must never take
 * an acknowledgement beyond the events it sent, and everything it stored as reference
 * data must be a record the agent's own check accepts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ag/reference.h"
#include "ag/store.h"
#include "ag/sync.h"
#include "ag/transport.h"
#include "cf/batch.h"
#include "cf/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ANSWERS_MAX 8
#define EVENTS 2
#define EPOCH "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

struct fake_server {
    struct ag_transport base; /* first: the ops table */
    const char *status_text[ANSWERS_MAX];
    size_t count, next;
};

/* The next answer, or a lost network when there is none left. */
static int next_answer(struct ag_transport *t, struct ag_reply *reply, char *error,
                       size_t error_size)
{
    struct fake_server *f = (struct fake_server *)t;
    memset(reply, 0, sizeof *reply);
    if (f->next >= f->count) {
        snprintf(error, error_size, "fuzz: no more answers");
        return CF_ENETWORK;
    }
    const char *text = f->status_text[f->next++];
    long status = 200;
    const char *body = text;
    char *end = NULL;
    long parsed = strtol(text, &end, 10);
    if (end != text && *end == '\n' && parsed >= 100 && parsed <= 599) {
        status = parsed;
        body = end + 1;
    }
    reply->status = status;
    reply->body = strdup(body);
    if (!reply->body)
        return CF_ENOMEM;
    reply->body_len = strlen(body);
    return 0;
}

static int fake_send_batch(struct ag_transport *t, const char *json, struct ag_reply *reply,
                           char *error, size_t error_size)
{
    (void)json;
    return next_answer(t, reply, error, error_size);
}

static int fake_list(struct ag_transport *t, struct ag_reply *reply, char *error, size_t error_size)
{
    return next_answer(t, reply, error, error_size);
}

static void fake_free(struct ag_transport *t)
{
    (void)t;
}

static const struct ag_transport_ops fake_ops = {
    .enroll = fake_send_batch,
    .send_batch = fake_send_batch,
    .reference_list = fake_list,
    .reference_fetch = fake_send_batch,
    .free = fake_free,
};

/* ==== A fresh store per input ==== */

static char dir[64];
static struct ag_identity identity;

static void remove_dir(void)
{
    char path[128];
    const char *files[] = {"agent.db", "agent.db-wal", "agent.db-shm", "agent.db-journal"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static int once(void)
{
    if (dir[0])
        return 0;
    /* tmpfs when there is one: the store syncs every commit. */
    snprintf(dir, sizeof dir, "%s/fuzz-agent-answers.XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    atexit(remove_dir);
    memset(identity.device_id, 0xD1, sizeof identity.device_id);
    memset(identity.worker_id, 0xA1, sizeof identity.worker_id);
    memset(identity.provider_id, 0xB1, sizeof identity.provider_id);
    identity.token_key_len = 32;
    snprintf(identity.server_url, sizeof identity.server_url, "http://127.0.0.1:1");
    return cf_ed25519_generate(identity.private_key, identity.public_key);
}

static struct ag_store *fresh_store(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/agent.db", dir);
    remove_dir();
    if (mkdir(dir, 0700) != 0)
        abort();
    struct ag_store *store = NULL;
    if (ag_store_open(path, &store, NULL) || ag_store_identity_set(store, &identity) ||
        ag_store_mark_acked(store, 0, EPOCH))
        abort();
    for (int i = 0; i < EVENTS; i++) {
        struct cf_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = CF_EV_VISIT_ATTEMPT;
        memset(ev.worker_id, 0xA1, sizeof ev.worker_id);
        memset(ev.recipient_id, 0xC1, sizeof ev.recipient_id);
        memset(ev.boot_id, 0xE1, sizeof ev.boot_id);
        ev.wall_ms = 1790000000000 + i;
        ev.mono_ms = 1000 + i;
        ev.reason = CF_REASON_NOBODY_HOME;
        if (ag_store_append(store, &ev, NULL, NULL))
            abort();
    }
    return store;
}

/* Every stored reference record must pass the agent's own check. */
static int check_record(void *ctx, const char *id, const char *body, uint64_t basis_seq)
{
    const char *kind = ctx;
    (void)basis_seq;
    cJSON *json = cJSON_Parse(body);
    if (!json)
        abort();
    char tokens[AG_MAX_CARDS][CF_TOKEN_TEXT_LEN + 1];
    size_t count = 0;
    struct cf_error_detail d = {0};
    if (ag_reference_check(kind, id, json, tokens, &count, &d) != 0)
        abort();
    cJSON_Delete(json);
    return 0;
}

static void check_outcome(struct ag_store *store, int rc, const struct ag_sync_report *rep)
{
    if (rc > 0 || rc != rep->error)
        abort();
    if (rc && !rep->message[0])
        abort(); /* the worker is always told why */
    if (memchr(rep->message, '\0', sizeof rep->message) == NULL ||
        memchr(rep->detail, '\0', sizeof rep->detail) == NULL ||
        memchr(rep->ref_problem, '\0', sizeof rep->ref_problem) == NULL)
        abort();
    struct ag_queue_stats q;
    if (ag_store_queue_stats(store, &q))
        abort();
    if (rep->acked_seq > EVENTS || q.acked_seq > EVENTS)
        abort(); /* an acknowledgement of events never sent was taken */
    static const char *const kinds[] = {"recipient", "service", "plan"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (ag_store_ref_each(store, kinds[i], check_record, (void *)kinds[i]))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536 || once())
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct fake_server server = {.base.ops = &fake_ops};
    for (size_t at = 0; at <= size && server.count < ANSWERS_MAX;) {
        server.status_text[server.count++] = text + at;
        at += strlen(text + at) + 1;
    }
    struct ag_store *store = fresh_store();
    struct ag_sync_options opt = {.transport = &server.base};
    struct ag_sync_report rep;
    memset(&rep, 0, sizeof rep);
    int rc = ag_sync_run(store, &opt, &rep);
    check_outcome(store, rc, &rep);
    ag_store_close(store);
    free(text);
    return 0;
}
