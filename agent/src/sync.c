/* Sync with the backend (see ag/sync.h for the invariants): signed batches up, the
 * reference data down by comparing lists, and the sync state -- back-off, holds,
 * clock skew -- written back to the store whatever happened. How an exchange
 * travels is the transport's (ag/transport.h: HTTPS in transport_http.c, an
 * in-memory server in the unit tests); here every answer is classified before
 * anything in the store moves.
 * NOTE: nothing is marked acknowledged except on a parsed acknowledgement. */
#include "ag/sync.h"

#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag/clock.h"
#include "ag/messages.h"
#include "ag/reference.h"
#include "ag/transport.h"
#include "cf/batch.h"
#include "cf/json.h"
#include "cf/uuid.h"

#define MAX_GAP_REWINDS 3 /* 409 sequence-gap answers in one run before giving up */
#define MAX_REFERENCE_ITEMS 200000

struct sync_run {
    struct ag_store *store;
    const struct ag_sync_options *opt;
    struct ag_sync_report *rep;
    struct ag_identity *id;
    struct ag_transport *transport; /* the options' (borrowed) or own_transport */
    struct ag_transport *own_transport; /* HTTPS to the enrolled server, freed at the end */
    struct ag_sync_state state;
};

struct problem {
    char type[64]; /* the part after ".../problems/" */
    char detail[300];
    long long expected_seq; /* sequence-gap, 0 otherwise */
};

/* ==== Small helpers ==== */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
progress(struct sync_run *r, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    if (!r->opt->progress)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    r->opt->progress(r->opt->progress_ctx, line);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
fail(struct sync_run *r, int code, const char *fmt, ...)
{
    va_list ap;
    r->rep->error = code;
    snprintf(r->rep->message, sizeof r->rep->message, "%s", ag_message(code));
    if (fmt) {
        va_start(ap, fmt);
        vsnprintf(r->rep->detail, sizeof r->rep->detail, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* A refusal only a person can resolve: no automatic retry. */
static bool held_error(int code)
{
    return code == CF_EDEVICE_REFUSED || code == CF_ECONFLICT || code == CF_EREJECTED ||
           code == CF_EPRUNED || code == CF_ESTORE_DAMAGED;
}

int64_t ag_sync_backoff_ms(int failures, double jitter)
{
    int64_t delay = AG_SYNC_BACKOFF_BASE_MS;
    for (int i = 1; i < failures && delay < AG_SYNC_BACKOFF_MAX_MS; i++)
        delay *= 2;
    if (delay > AG_SYNC_BACKOFF_MAX_MS)
        delay = AG_SYNC_BACKOFF_MAX_MS;
    if (jitter < 0 || jitter >= 1)
        jitter = 0;
    /* "Equal jitter": at least half the delay, so terminals that lost the link
     * together do not all come back in the same second. */
    return delay - (int64_t)((double)(delay / 2) * jitter);
}

static double random_unit(void)
{
    uint32_t v = 0;
    if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
        return 0.5;
    return (double)v / 4294967296.0;
}

/* Server clock minus device clock, from this answer. */
static void note_skew(struct sync_run *r, const struct ag_reply *reply, int64_t server_ms)
{
    int64_t middle = reply->sent_ms + (reply->received_ms - reply->sent_ms) / 2;
    if (server_ms > 0) {
        r->rep->skew_ms = server_ms - middle;
        r->rep->skew_known = true;
    } else if (reply->date_ms > 0) {
        /* Date has whole seconds: on average the server was half a second further. */
        r->rep->skew_ms = reply->date_ms + 500 - middle;
        r->rep->skew_known = true;
    }
}

static void parse_problem(const struct ag_reply *reply, struct problem *p)
{
    memset(p, 0, sizeof *p);
    cJSON *root = reply->body ? cJSON_ParseWithLength(reply->body, reply->body_len) : NULL;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    const cJSON *detail = cJSON_GetObjectItemCaseSensitive(root, "detail");
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(root, "expected_seq");
    if (cJSON_IsString(type) && type->valuestring) {
        const char *slash = strrchr(type->valuestring, '/');
        snprintf(p->type, sizeof p->type, "%s", slash ? slash + 1 : type->valuestring);
    }
    if (cJSON_IsString(detail) && detail->valuestring)
        snprintf(p->detail, sizeof p->detail, "%s", detail->valuestring);
    if (cJSON_IsNumber(expected) && expected->valuedouble >= 1 &&
        expected->valuedouble <= 9007199254740991.0 &&
        expected->valuedouble == (double)(long long)expected->valuedouble)
        p->expected_seq = (long long)expected->valuedouble;
    cJSON_Delete(root);
}

/* An answer that is not 200: what it means for the sync. */
static int status_failure(struct sync_run *r, const struct ag_reply *reply, const char *what)
{
    struct problem p;
    parse_problem(reply, &p);
    long s = reply->status;
    /* 408 and 429 are the server (or the proxy in front) asking for time: busy, like a
     * 5xx, retried with back-off -- never a bad answer or a refusal to hold. */
    int code = s == 401 || s == 403 || s == 404                 ? CF_EDEVICE_REFUSED
               : s == 409                                       ? CF_ECONFLICT
               : s == 400 || s == 413 || s == 422               ? CF_EREJECTED
               : (s >= 500 && s <= 599) || s == 408 || s == 429 ? CF_ESERVER
                                                                : CF_EBAD_ANSWER;
    return fail(r, code, "%s: HTTP %ld%s%s%s%s", what, s, p.type[0] ? " " : "", p.type,
                p.detail[0] ? ": " : "", p.detail);
}

/* The outcome of one exchange (rc from the transport): a failure recorded, or the
 * skew noted from the answer. An answer too large to take is not the protocol's. */
static int exchanged(struct sync_run *r, int rc, const char *error, const struct ag_reply *reply)
{
    if (rc)
        return fail(r, rc == CF_ETOOBIG ? CF_EBAD_ANSWER : rc, "%s", error);
    note_skew(r, reply, 0);
    return 0;
}

/* ==== Upload ==== */

struct ack {
    uint64_t acked_seq;
    char epoch[AG_EPOCH_TEXT_MAX + 1];
    int64_t server_time_ms;
};

/* A 200 is an acknowledgement only if its body says so. */
static int parse_ack(const struct ag_reply *reply, struct ack *ack, struct cf_error_detail *d)
{
    cJSON *root = NULL;
    int64_t seq = 0;
    uint8_t epoch[CF_UUID_LEN];
    memset(ack, 0, sizeof *ack);
    int rc = cf_json_parse(reply->body, reply->body_len, 4096, &root, d);
    if (!rc && !cJSON_IsObject(root))
        rc = cf_error_set(d, CF_EFIELD_TYPE, "", "the answer is not a JSON object");
    if (!rc)
        rc = cf_json_get_int(root, "acked_seq", "", true, 0, INT64_C(9007199254740991), &seq, d);
    if (!rc)
        rc = cf_json_get_uuid(root, "epoch", "", true, epoch, d);
    if (!rc)
        rc = cf_json_get_int(root, "server_time_ms", "", true, 1, INT64_C(9007199254740991),
                             &ack->server_time_ms, d);
    if (!rc) {
        ack->acked_seq = (uint64_t)seq;
        cf_uuid_to_text(epoch, ack->epoch);
    }
    cJSON_Delete(root);
    return rc;
}

/* Serialise events[0..n) as a signed batch. Returns the JSON (caller frees) or NULL. */
static char *batch_json(struct sync_run *r, const struct cf_event *events, size_t n)
{
    struct cf_batch batch;
    if (cf_batch_build(r->id->device_id, events, n, r->id->private_key, &batch))
        return NULL;
    char *json = cf_batch_to_json(&batch);
    cf_batch_cleanup(&batch);
    return json;
}

/* The server acknowledged up to ack->acked_seq. Moves *from. */
static int take_ack(struct sync_run *r, const struct ack *ack, uint64_t last_seq, uint64_t *from)
{
    struct ag_queue_stats st;
    int rc = ag_store_queue_stats(r->store, &st);
    if (rc)
        return fail(r, rc, "read the queue");
    if (ack->acked_seq > last_seq)
        return fail(r, CF_ECONFLICT,
                    "the server acknowledges seq %llu but this terminal made only %llu",
                    (unsigned long long)ack->acked_seq, (unsigned long long)last_seq);
    bool new_epoch = r->state.epoch[0] && strcmp(r->state.epoch, ack->epoch) != 0;
    if (new_epoch)
        r->rep->epoch_changed = true;
    if (ack->acked_seq < st.acked_seq) {
        /* The server holds less than it once acknowledged: a restored backup. */
        rc = ag_store_rewind(r->store, ack->acked_seq, ack->epoch);
        if (rc)
            return fail(r, rc, "re-upload from %llu", (unsigned long long)ack->acked_seq + 1);
        r->rep->epoch_changed = true;
        r->rep->reuploaded_from = ack->acked_seq + 1;
        progress(r, AG_MSG_SYNC_RESTORED_PROGRESS, (unsigned long long)ack->acked_seq + 1);
    } else {
        rc = ag_store_mark_acked(r->store, ack->acked_seq, ack->epoch);
        if (rc)
            return fail(r, rc, "mark acknowledged");
        r->rep->uploaded += ack->acked_seq - st.acked_seq;
    }
    snprintf(r->state.epoch, sizeof r->state.epoch, "%s", ack->epoch);
    *from = ack->acked_seq + 1;
    return 0;
}

/* 409 sequence-gap: the server holds up to expected - 1, less than we sent from. */
static int take_gap(struct sync_run *r, const struct problem *p, uint64_t from, uint64_t *next)
{
    uint64_t held = (uint64_t)p->expected_seq - 1;
    if (held + 1 >= from)
        return fail(r, CF_EBAD_ANSWER, "sequence-gap expecting %lld for a batch from %llu",
                    p->expected_seq, (unsigned long long)from);
    int rc = ag_store_rewind(r->store, held, NULL);
    if (rc)
        return fail(r, rc, "the server holds up to %llu; events from %llu are needed",
                    (unsigned long long)held, (unsigned long long)held + 1);
    r->rep->epoch_changed = true;
    r->rep->reuploaded_from = held + 1;
    progress(r, AG_MSG_SYNC_GAP_PROGRESS, (unsigned long long)held);
    *next = held + 1;
    return 0;
}

/* Send events[from..] (at most batch) once; *from moves on an acknowledgement. */
static int send_batch(struct sync_run *r, struct cf_event *events, size_t *batch, uint64_t last,
                      uint64_t *from, int *gaps)
{
    char error[256] = "";
    size_t n = 0;
    struct cf_error_detail d = {0};
    int rc = ag_store_load_events(r->store, *from, *batch, events, &n, &d);
    if (rc)
        return fail(r, rc, "%s", d.message);
    if (n == 0 || events[0].seq != *from)
        return fail(r, CF_EPRUNED, "event %llu is no longer in the store",
                    (unsigned long long)*from);
    char *json = batch_json(r, events, n);
    if (!json)
        return fail(r, CF_ENOMEM, "cannot build the batch");
    struct ag_reply reply;
    rc = r->transport->ops->send_batch(r->transport, json, &reply, error, sizeof error);
    free(json);
    rc = exchanged(r, rc, error, &reply);
    if (rc)
        return rc;
    struct ack ack;
    struct problem p;
    parse_problem(&reply, &p);
    bool gap = reply.status == 409 && strcmp(p.type, "sequence-gap") == 0 && p.expected_seq > 0;
    if (reply.status == 200) {
        rc = parse_ack(&reply, &ack, &d);
        if (rc)
            rc = fail(r, CF_EBAD_ANSWER, "a 200 answer that is not an acknowledgement (%s)",
                      d.message);
        if (!rc) {
            note_skew(r, &reply, ack.server_time_ms);
            rc = take_ack(r, &ack, last, from);
        }
    } else if (reply.status == 413 && n > 1) {
        *batch = n / 2;
        progress(r, AG_MSG_SYNC_SMALLER_BATCH_PROGRESS, *batch);
    } else if (reply.status == 413) {
        /* Halving cannot help any more: that one event stays queued for a person. */
        rc = fail(r, CF_EREJECTED,
                  "upload: HTTP 413: event %llu alone is larger than the server accepts",
                  (unsigned long long)*from);
    } else if (gap && ++*gaps <= MAX_GAP_REWINDS) {
        rc = take_gap(r, &p, *from, from);
    } else {
        rc = status_failure(r, &reply, "upload");
    }
    ag_reply_cleanup(&reply);
    return rc;
}

static int upload(struct sync_run *r)
{
    struct ag_queue_stats st;
    int rc = ag_store_queue_stats(r->store, &st);
    if (rc)
        return fail(r, rc, "read the queue");
    if (st.last_seq == 0)
        return 0;
    size_t batch = r->opt->batch_max ? r->opt->batch_max : AG_SYNC_BATCH;
    if (batch > CF_BATCH_MAX_EVENTS)
        batch = CF_BATCH_MAX_EVENTS;
    /* Nothing waits: replay the newest event alone. The server answers what it holds
     * and its epoch, so a restored database is noticed even on a quiet day. */
    uint64_t from = st.waiting ? st.acked_seq + 1 : st.last_seq;
    uint64_t total = st.waiting;
    struct cf_event *events = malloc(batch * sizeof *events);
    if (!events)
        return fail(r, CF_ENOMEM, "batch buffer");
    int gaps = 0, stalls = 0;
    while (!rc && from <= st.last_seq) {
        uint64_t before = from;
        size_t size_before = batch;
        rc = send_batch(r, events, &batch, st.last_seq, &from, &gaps);
        if (rc)
            break;
        /* A 413 that halved the batch is progress (100 takes six halvings to 1). */
        if (from <= before && batch == size_before && ++stalls > 3)
            rc = fail(r, CF_EBAD_ANSWER, "the server acknowledges nothing new");
        if (from > before && total)
            progress(r, AG_MSG_SYNC_SENT_PROGRESS, (unsigned long long)r->rep->uploaded,
                     (unsigned long long)total);
    }
    free(events);
    return rc;
}

/* ==== Reference data ==== */

static int key_compare(const void *a, const void *b)
{
    const struct ag_ref_key *x = a, *y = b;
    int c = strcmp(x->kind, y->kind);
    return c ? c : strcmp(x->id, y->id);
}

static bool known_kind(const char *kind)
{
    return strcmp(kind, "recipient") == 0 || strcmp(kind, "service") == 0 ||
           strcmp(kind, "plan") == 0 || strcmp(kind, "trip") == 0 || strcmp(kind, "survey") == 0;
}

static bool hex16(const char *v)
{
    if (strlen(v) != AG_REF_VERSION_MAX)
        return false;
    for (const char *p = v; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

/* One {kind, id, version} from the server. */
static int read_key(const cJSON *item, const char *path, struct ag_ref_key *key,
                    struct cf_error_detail *d)
{
    int rc = cJSON_IsObject(item) ? 0 : cf_error_set(d, CF_EFIELD_TYPE, path, "not an object");
    if (!rc)
        rc = cf_json_get_string(item, "kind", path, true, AG_REF_KIND_MAX, key->kind,
                                sizeof key->kind, d);
    if (!rc)
        rc = cf_json_get_string(item, "id", path, true, AG_REF_ID_MAX, key->id, sizeof key->id, d);
    if (!rc)
        rc = cf_json_get_string(item, "version", path, true, AG_REF_VERSION_MAX, key->version,
                                sizeof key->version, d);
    if (!rc && (!known_kind(key->kind) || !key->id[0] || !hex16(key->version)))
        rc = cf_error_set(d, CF_EFIELD_RANGE, path, "%s: unknown kind, empty id or bad version",
                          path);
    return rc;
}

/* GET the list; *out sorted by kind and id (caller frees). */
static int fetch_list(struct sync_run *r, struct ag_ref_key **out, size_t *count)
{
    char error[256] = "";
    struct ag_reply reply;
    struct cf_error_detail d = {0};
    *out = NULL;
    *count = 0;
    int rc = r->transport->ops->reference_list(r->transport, &reply, error, sizeof error);
    rc = exchanged(r, rc, error, &reply);
    if (rc)
        return rc;
    if (reply.status != 200) {
        rc = status_failure(r, &reply, "reference list");
        ag_reply_cleanup(&reply);
        return rc;
    }
    cJSON *root = NULL;
    rc = cf_json_parse(reply.body, reply.body_len, AG_SYNC_MAX_ANSWER, &root, &d);
    ag_reply_cleanup(&reply);
    const cJSON *items = root ? cJSON_GetObjectItemCaseSensitive(root, "items") : NULL;
    if (!rc && (!cJSON_IsArray(items) || cJSON_GetArraySize(items) > MAX_REFERENCE_ITEMS))
        rc = cf_error_set(&d, CF_EFIELD_TYPE, "items", "items must be an array of at most %d",
                          MAX_REFERENCE_ITEMS);
    size_t n = rc ? 0 : (size_t)cJSON_GetArraySize(items);
    struct ag_ref_key *keys = n ? calloc(n, sizeof *keys) : NULL;
    if (n && !keys)
        rc = CF_ENOMEM;
    size_t i = 0;
    for (const cJSON *item = items ? items->child : NULL; !rc && item; item = item->next, i++) {
        char field[32];
        snprintf(field, sizeof field, "items[%zu]", i);
        rc = read_key(item, field, &keys[i], &d);
    }
    cJSON_Delete(root);
    if (rc) {
        free(keys);
        return fail(r, CF_EBAD_ANSWER, "reference list: %s", d.message);
    }
    if (n > 1) /* an empty list has no array: qsort must not see NULL */
        qsort(keys, n, sizeof *keys, key_compare);
    *out = keys;
    *count = n;
    return 0;
}

/* Compare the lists: what to drop (held, not listed) and what to fetch (listed,
 * missing or another version). Both arrays come sorted. */
static int diff_lists(const struct ag_ref_key *mine, size_t nmine, const struct ag_ref_key *theirs,
                      size_t ntheirs, struct ag_ref_key **drop, size_t *ndrop,
                      struct ag_ref_key **want, size_t *nwant)
{
    *drop = calloc(nmine + 1, sizeof **drop);
    *want = calloc(ntheirs + 1, sizeof **want);
    *ndrop = *nwant = 0;
    if (!*drop || !*want)
        return CF_ENOMEM;
    size_t i = 0, j = 0;
    while (i < nmine || j < ntheirs) {
        int c = i == nmine ? 1 : j == ntheirs ? -1 : key_compare(&mine[i], &theirs[j]);
        if (c < 0) {
            (*drop)[(*ndrop)++] = mine[i++];
        } else if (c > 0) {
            (*want)[(*nwant)++] = theirs[j++];
        } else {
            if (strcmp(mine[i].version, theirs[j].version) != 0)
                (*want)[(*nwant)++] = theirs[j];
            i++;
            j++;
        }
    }
    return 0;
}

/* Records of one fetch answer, checked; bodies and tokens owned here. */
struct fetched {
    size_t count;
    struct ag_ref_record records[AG_SYNC_REF_BATCH];
    char *bodies[AG_SYNC_REF_BATCH];
    char tokens[AG_SYNC_REF_BATCH][AG_MAX_CARDS][CF_TOKEN_TEXT_LEN + 1];
};

static void fetched_cleanup(struct fetched *f)
{
    for (size_t i = 0; i < f->count; i++)
        free(f->bodies[i]);
    f->count = 0;
}

/* Check one record of the answer; a bad one is refused (counted), not fatal. */
static void take_record(struct sync_run *r, const cJSON *item, size_t index,
                        const struct ag_ref_key *asked, size_t nasked, struct fetched *f)
{
    char path[32];
    struct ag_ref_key key;
    struct cf_error_detail d = {0};
    snprintf(path, sizeof path, "items[%zu]", index);
    int rc = read_key(item, path, &key, &d);
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(item, "body");
    bool was_asked = false;
    for (size_t i = 0; !rc && i < nasked && !was_asked; i++)
        was_asked = strcmp(asked[i].kind, key.kind) == 0 && strcmp(asked[i].id, key.id) == 0;
    if (!rc && (!was_asked || f->count == AG_SYNC_REF_BATCH))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, path, "a record that was not asked for");
    char *text = !rc && body ? cJSON_PrintUnformatted(body) : NULL;
    if (!rc && !text)
        rc = cf_error_set(&d, CF_EFIELD_MISSING, path, "%s has no body", path);
    if (!rc && strlen(text) > AG_REF_BODY_MAX)
        rc = cf_error_set(&d, CF_ETOOBIG, path, "%s %s: the record is larger than %d bytes",
                          key.kind, key.id, AG_REF_BODY_MAX);
    size_t ntokens = 0;
    struct cf_error_detail inner = {0};
    if (!rc && ag_reference_check(key.kind, key.id, body, f->tokens[f->count], &ntokens, &inner))
        rc = cf_error_set(&d, inner.code, path, "%s %s: %s", key.kind, key.id, inner.message);
    if (rc) {
        free(text);
        if (r->rep->ref_refused++ == 0)
            snprintf(r->rep->ref_problem, sizeof r->rep->ref_problem, "%s", d.message);
        return;
    }
    struct ag_ref_record *rec = &f->records[f->count];
    rec->key = key;
    rec->body = text;
    rec->tokens = (const char(*)[CF_TOKEN_TEXT_LEN + 1]) f->tokens[f->count];
    rec->token_count = ntokens;
    f->bodies[f->count++] = text;
}

/* POST .../reference/fetch for want[0..n) and apply what came in one transaction. */
static int fetch_batch(struct sync_run *r, const struct ag_ref_key *want, size_t n,
                       struct fetched *f)
{
    char error[256] = "";
    cJSON *req = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(req, "items");
    for (size_t i = 0; items && i < n; i++) {
        cJSON *item = cJSON_CreateObject();
        if (!item || !cJSON_AddItemToArray(items, item) ||
            !cJSON_AddStringToObject(item, "kind", want[i].kind) ||
            !cJSON_AddStringToObject(item, "id", want[i].id))
            items = NULL;
    }
    char *body = items ? cJSON_PrintUnformatted(req) : NULL;
    cJSON_Delete(req);
    if (!body)
        return fail(r, CF_ENOMEM, "reference request");
    struct ag_reply reply;
    int rc = r->transport->ops->reference_fetch(r->transport, body, &reply, error, sizeof error);
    free(body);
    rc = exchanged(r, rc, error, &reply);
    if (rc)
        return rc;
    if (reply.status != 200) {
        rc = status_failure(r, &reply, "reference fetch");
        ag_reply_cleanup(&reply);
        return rc;
    }
    cJSON *root = cJSON_ParseWithLength(reply.body, reply.body_len);
    ag_reply_cleanup(&reply);
    const cJSON *got = cJSON_GetObjectItemCaseSensitive(root, "items");
    if (!cJSON_IsArray(got)) {
        cJSON_Delete(root);
        return fail(r, CF_EBAD_ANSWER, "reference fetch: the answer has no items array");
    }
    size_t index = 0;
    for (const cJSON *item = got->child; item; item = item->next)
        take_record(r, item, index++, want, n, f);
    cJSON_Delete(root);
    rc = ag_store_ref_apply(r->store, f->records, f->count, NULL, 0, r->state.acked_seq);
    r->rep->ref_fetched += rc ? 0 : f->count;
    fetched_cleanup(f);
    return rc ? fail(r, rc, "store reference records") : 0;
}

static int refresh_reference(struct sync_run *r)
{
    struct ag_ref_key *theirs = NULL, *mine = NULL, *drop = NULL, *want = NULL;
    size_t ntheirs = 0, nmine = 0, ndrop = 0, nwant = 0;
    struct fetched *f = calloc(1, sizeof *f);
    int rc = f ? fetch_list(r, &theirs, &ntheirs) : fail(r, CF_ENOMEM, "reference");
    if (!rc && (rc = ag_store_ref_keys(r->store, &mine, &nmine)) != 0)
        fail(r, rc, "read the reference cache");
    if (!rc && (rc = diff_lists(mine, nmine, theirs, ntheirs, &drop, &ndrop, &want, &nwant)))
        fail(r, rc, "compare reference lists");
    if (!rc && ndrop && (rc = ag_store_ref_apply(r->store, NULL, 0, drop, ndrop, 0)) != 0)
        fail(r, rc, "drop reference records");
    r->rep->ref_dropped = rc ? 0 : ndrop;
    if (!rc && (ndrop || nwant))
        progress(r, AG_MSG_SYNC_REFERENCE_DIFF_PROGRESS, ndrop, nwant);
    if (!rc) {
        struct ag_sync_state now;
        rc = ag_store_sync_get(r->store, &now);
        r->state.acked_seq = now.acked_seq; /* basis of the records fetched now */
    }
    for (size_t i = 0; !rc && i < nwant; i += AG_SYNC_REF_BATCH) {
        size_t n = nwant - i < AG_SYNC_REF_BATCH ? nwant - i : AG_SYNC_REF_BATCH;
        rc = fetch_batch(r, want + i, n, f);
        if (!rc && nwant > AG_SYNC_REF_BATCH)
            progress(r, AG_MSG_SYNC_REFERENCE_PROGRESS, i + n, nwant);
    }
    r->rep->reference_done = rc == 0;
    free(theirs);
    free(mine);
    free(drop);
    free(want);
    free(f);
    return rc;
}

/* ==== The run ==== */

static void record_outcome(struct sync_run *r, int rc, int64_t started_ms)
{
    struct ag_sync_state *st = &r->state;
    int64_t now = ag_wall_now_ms();
    st->last_attempt_ms = started_ms;
    if (r->rep->skew_known) {
        st->skew_known = true;
        st->skew_ms = r->rep->skew_ms;
    }
    if (!rc) {
        st->failures = 0;
        st->last_error = 0;
        st->held = false;
        st->last_sync_ms = now;
        st->next_attempt_ms = now + AG_SYNC_INTERVAL_MS;
        if (r->rep->reference_done)
            st->reference_ms = now;
        snprintf(st->last_message, sizeof st->last_message, "%s",
                 r->rep->ref_refused ? AG_MSG_SYNC_REFERENCE_SOME_REFUSED : "");
        ag_store_prune(r->store, now - AG_SYNC_KEEP_ACKED_MS, NULL);
    } else {
        st->failures = st->failures < 1000 ? st->failures + 1 : st->failures;
        st->last_error = rc;
        st->held = held_error(rc);
        st->next_attempt_ms = now + ag_sync_backoff_ms(st->failures, random_unit());
        snprintf(st->last_message, sizeof st->last_message, "%s", ag_message(rc));
    }
    r->rep->held = st->held;
    r->rep->next_attempt_ms = st->next_attempt_ms;
    ag_store_sync_put(r->store, st);
}

int ag_sync_run(struct ag_store *store, const struct ag_sync_options *options,
                struct ag_sync_report *report)
{
    static const struct ag_sync_options defaults = {0};
    struct sync_run r = {.store = store, .opt = options ? options : &defaults, .rep = report};
    memset(report, 0, sizeof *report);
    r.id = malloc(sizeof *r.id);
    if (!r.id)
        return fail(&r, CF_ENOMEM, NULL);
    int rc = ag_store_identity_get(store, r.id);
    if (!rc)
        rc = ag_store_sync_get(store, &r.state);
    if (rc) {
        fail(&r, rc, NULL);
        goto out;
    }
    int64_t started = ag_wall_now_ms();
    if (r.opt->automatic && (r.state.held || started < r.state.next_attempt_ms)) {
        rc = fail(&r, CF_EBACKOFF, "%s", r.state.held ? r.state.last_message : "not due yet");
        report->held = r.state.held;
        report->next_attempt_ms = r.state.next_attempt_ms;
        goto out;
    }
    r.transport = r.opt->transport;
    if (!r.transport) {
        rc = ag_transport_http_new(r.id->server_url, r.id->ca_pem, AG_SYNC_MAX_ANSWER, r.id,
                                   &r.own_transport);
        if (rc)
            fail(&r, rc, "cannot set up the HTTP client for %s", r.id->server_url);
        r.transport = r.own_transport;
    }
    if (!rc)
        rc = upload(&r);
    if (!rc && !r.opt->skip_reference)
        rc = refresh_reference(&r);
    record_outcome(&r, rc, started);
out:
    if (!report->error && rc)
        fail(&r, rc, NULL);
    struct ag_queue_stats st;
    if (ag_store_queue_stats(store, &st) == 0) {
        report->acked_seq = st.acked_seq;
        report->waiting = st.waiting;
    }
    ag_transport_free(r.own_transport);
    ag_identity_wipe(r.id);
    free(r.id);
    return rc;
}
