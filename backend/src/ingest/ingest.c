/* POST /api/v1/devices/{id}/events: signed batch ingest (DESIGN.md, "The event log").
 *
 * One transaction per batch: lock the device row, verify the seal with the device's
 * key, split the batch into the part the server already holds (it must be the very
 * same events: same digests) and the new part (it must continue the stored chain),
 * load the new events with one COPY, rebuild the visits they touch and move the
 * device's (last seq, last digest) in one more round trip, COMMIT -- and only then
 * answer with the highest seq held. A replayed batch changes nothing and gets the
 * same answer; a different event under a held seq, a new event whose prev is not the
 * digest held (a fork) and an event for a visit another terminal opened are tampering
 * (409 tampering / visit-owned-elsewhere, logged, and recorded in the audit log after
 * the rollback). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be/ingest.h"
#include "be/buf.h"
#include "be/card_proof.h"
#include "be/config.h"
#include "be/db.h"
#include "be/event_row.h"
#include "be/log.h"
#include "be/metrics.h"
#include "be/web.h"
#include "be/reply.h"
#include "cf/batch.h"
#include "cf/codec.h"
#include "cf/token.h"
#include "cf/uuid.h"

#include <openssl/crypto.h>

/* COPY text of at most CF_BATCH_MAX_EVENTS events: the largest valid event (32
 * services, a comment of 1000 characters: at most 4000 bytes, a newline escaped as two)
 * stays under 8 KiB, plus an act's body (at most 8 KiB, a backslash escaped as two). */
#define COPY_MAX ((size_t)CF_BATCH_MAX_EVENTS * (8192 + 2 * CF_BODY_MAX_BYTES))

struct device_row {
    uint8_t worker_id[CF_UUID_LEN];
    uint8_t provider_id[CF_UUID_LEN];
    uint8_t public_key[CF_ED25519_KEY_LEN];
    uint8_t last_digest[CF_DIGEST_LEN];
    uint64_t last_seq;
    bool revoked;
};

/* An answer decided inside the transaction: sent after ROLLBACK / COMMIT. */
struct verdict {
    int status; /* 0: acknowledge */
    const char *type, *title;
    char field[64];
    char detail[300];
    uint64_t expected_seq; /* > 0: added to the problem (sequence-gap) */
    uint64_t tampered_seq; /* > 0: the seq whose content differs (audit) */
    char held_hex[2 * CF_DIGEST_LEN + 1], sent_hex[2 * CF_DIGEST_LEN + 1];
    char visit[CF_UUID_TEXT_LEN + 1], owner[CF_UUID_TEXT_LEN + 1]; /* visit-owned-elsewhere */
};

struct upload {
    const struct cf_batch *batch;
    const struct be_config *config; /* the EMV CA keys */
    struct be_card_verdict *verdicts; /* per new event (from `from`); NULL: no proof */
    char device_id[CF_UUID_TEXT_LEN + 1];
    struct device_row dev;
    struct verdict v;
    uint64_t acked; /* highest seq held after this batch */
    size_t stored; /* events newly stored */
    bool judge; /* visits changed: their integrity is judged after the COMMIT */
    const char *failed_step; /* database step that failed, for the log */
};

static void refuse(struct verdict *v, int status, const char *type, const char *title,
                   const char *field, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void refuse(struct verdict *v, int status, const char *type, const char *title,
                   const char *field, const char *fmt, ...)
{
    va_list ap;
    v->status = status;
    v->type = type;
    v->title = title;
    snprintf(v->field, sizeof v->field, "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof v->detail, fmt, ap);
    va_end(ap);
}

/* ==== Steps inside the transaction ==== */

/* The device row, locked FOR UPDATE so two uploads of one device are serialised
 * (also across carefactd instances); uploads of different devices run in parallel. */
static int load_device(PGconn *db, struct upload *up, bool *found)
{
    const char *params[1] = {up->device_id};
    PGresult *res = be_db_run(db, BE_STMT_DEVICE_LOCK, 1, params);
    int rc = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : -1;
    *found = !rc && PQntuples(res) == 1;
    if (*found) {
        struct device_row *d = &up->dev;
        size_t n = 0;
        char *end = NULL;
        d->last_seq = strtoull(PQgetvalue(res, 0, 4), &end, 10);
        d->revoked = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
        if (cf_uuid_from_text(PQgetvalue(res, 0, 0), d->worker_id) ||
            cf_uuid_from_text(PQgetvalue(res, 0, 1), d->provider_id) ||
            cf_hex_decode(PQgetvalue(res, 0, 2), strlen(PQgetvalue(res, 0, 2)), d->public_key,
                          sizeof d->public_key, &n) ||
            n != sizeof d->public_key ||
            cf_hex_decode(PQgetvalue(res, 0, 5), strlen(PQgetvalue(res, 0, 5)), d->last_digest,
                          sizeof d->last_digest, &n) ||
            n != sizeof d->last_digest || !end || *end)
            rc = -1; /* the schema's CHECKs make this impossible; never trust it blindly */
    }
    PQclear(res);
    if (rc)
        up->failed_step = "lock device";
    return rc;
}

/* The events of the batch the server already holds must be the very same ones. */
static int check_held(PGconn *db, struct upload *up)
{
    const struct cf_batch *b = up->batch;
    uint64_t first = b->events[0].seq;
    uint64_t upto = b->seal.last_seq < up->dev.last_seq ? b->seal.last_seq : up->dev.last_seq;
    char from_text[24], to_text[24];
    snprintf(from_text, sizeof from_text, "%" PRIu64, first);
    snprintf(to_text, sizeof to_text, "%" PRIu64, upto);
    const char *params[3] = {up->device_id, from_text, to_text};
    PGresult *res = be_db_run(db, BE_STMT_HELD_DIGESTS, 3, params);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || (uint64_t)PQntuples(res) != upto - first + 1) {
        PQclear(res);
        up->failed_step = "read held events";
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        size_t k = (size_t)i; /* rows come ordered by seq from first */
        char sent[2 * CF_DIGEST_LEN + 1];
        cf_hex_encode(b->digests[k], CF_DIGEST_LEN, sent, sizeof sent);
        if (strcmp(sent, PQgetvalue(res, i, 1)) == 0)
            continue;
        struct verdict *v = &up->v;
        char field[48];
        snprintf(field, sizeof field, "events[%zu]", k);
        refuse(v, 409, "tampering", "An event differs from the one already held", field,
               "The server already holds a different event under seq %" PRIu64
               " from this device; stored events are never rewritten. The refusal is "
               "recorded for review.",
               b->events[k].seq);
        v->tampered_seq = b->events[k].seq;
        snprintf(v->held_hex, sizeof v->held_hex, "%s", PQgetvalue(res, i, 1));
        memcpy(v->sent_hex, sent, sizeof sent);
        break;
    }
    PQclear(res);
    return 0;
}

/* Every new event must be by the worker the device is enrolled for. (Recipients are
 * not checked here: a signed fact about a recipient the server does not know is
 * stored and its visit flagged unknown_recipient; refusing it would stall the
 * terminal's queue for good.) */
static void check_worker(struct upload *up, size_t from)
{
    for (size_t i = from; i < up->batch->count; i++) {
        if (memcmp(up->batch->events[i].worker_id, up->dev.worker_id, CF_UUID_LEN) == 0)
            continue;
        char field[48];
        snprintf(field, sizeof field, "events[%zu].worker_id", i);
        refuse(&up->v, 422, "validation", "A field is not valid", field,
               "%s must be the worker this device is enrolled for; enrol the terminal "
               "again for another worker.",
               field);
        return;
    }
}

/* COPY the new events in; the whole batch goes in one COPY data message. */
static int copy_events(PGconn *db, struct upload *up, size_t from)
{
    struct be_buf rows;
    be_buf_init(&rows, COPY_MAX);
    int rc = 0;
    for (size_t i = from; !rc && i < up->batch->count; i++)
        rc = be_event_copy_row_verdict(&up->batch->events[i], up->batch->digests[i],
                                       up->dev.provider_id,
                                       up->verdicts ? &up->verdicts[i - from] : NULL, &rows);
    if (rc) {
        be_buf_cleanup(&rows);
        up->failed_step = "encode events";
        return -1;
    }
    PGresult *res = PQexec(db, "COPY events (" BE_EVENT_COPY_COLUMNS
                               ", " BE_EVENT_COPY_PROOF_COLUMNS ") FROM STDIN");
    int ok = PQresultStatus(res) == PGRES_COPY_IN;
    PQclear(res);
    if (ok) {
        /* NOTE: once in COPY state the copy must be ended, even when sending failed,
         * or the connection stays stuck in it. */
        ok = PQputCopyData(db, rows.data, (int)rows.len) == 1;
        if (PQputCopyEnd(db, ok ? NULL : "carefactd could not send the rows") != 1)
            ok = 0;
        while ((res = PQgetResult(db)) != NULL) {
            if (PQresultStatus(res) != PGRES_COMMAND_OK)
                ok = 0;
            PQclear(res);
        }
    }
    be_buf_cleanup(&rows);
    if (!ok)
        up->failed_step = "copy events";
    return ok ? 0 : -1;
}

/* ==== Card proofs ==== */

/* The region's token key of the device's provider (hex in the row), for the recovered PANs'
 * tokens. */
static int load_token_key(PGconn *db, struct upload *up, uint8_t *key, size_t *key_len)
{
    char provider[CF_UUID_TEXT_LEN + 1];
    cf_uuid_to_text(up->dev.provider_id, provider);
    const char *params[1] = {provider};
    PGresult *res = PQexecParams(db,
                                 "SELECT encode(r.token_key, 'hex') FROM providers p "
                                 "JOIN regions r ON r.id = p.region_id WHERE p.id = $1::uuid",
                                 1, NULL, params, NULL, NULL, 0);
    int rc = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 ? 0 : -1;
    if (!rc && cf_hex_decode(PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)), key,
                             CF_TOKEN_KEY_MAX, key_len))
        rc = -1;
    PQclear(res);
    if (rc)
        up->failed_step = "read token key";
    return rc;
}

/* The SDADs of this batch already accepted for another event (card_sdads), and the
 * accepted ones recorded: one statement. A signature twice in the batch is a reuse too
 * (the later one). NOTE: a concurrent upload of the same SDAD waits on the unique key
 * and then finds it: exactly one event gets it. */
static int check_reuse(PGconn *db, struct upload *up, size_t n, uint64_t first_seq)
{
    struct be_buf digests, accepted, seqs;
    be_buf_init(&digests, n * 68 + 4);
    be_buf_init(&accepted, n * 2 + 4);
    be_buf_init(&seqs, n * 22 + 4);
    int rc =
        be_buf_printf(&digests, "{") || be_buf_printf(&accepted, "{") || be_buf_printf(&seqs, "{");
    size_t listed = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        struct be_card_verdict *v = &up->verdicts[i];
        if (!v->present || !v->has_sdad_digest)
            continue;
        bool twice = false;
        for (size_t j = 0; j < i && !twice; j++)
            twice = up->verdicts[j].has_sdad_digest &&
                    memcmp(up->verdicts[j].sdad_digest, v->sdad_digest, 32) == 0;
        if (twice) {
            be_card_proof_reused(v);
            continue;
        }
        char hex[65];
        cf_hex_encode(v->sdad_digest, 32, hex, sizeof hex);
        const char *sep = listed++ ? "," : "";
        rc = be_buf_printf(&digests, "%s%s", sep, hex) ||
             be_buf_printf(&accepted, "%s%s", sep, v->failure ? "f" : "t") ||
             be_buf_printf(&seqs, "%s%" PRIu64, sep, first_seq + i);
    }
    if (!rc)
        rc = be_buf_printf(&digests, "}") || be_buf_printf(&accepted, "}") ||
             be_buf_printf(&seqs, "}");
    if (!rc && listed) {
        const char *params[4] = {digests.data, accepted.data, seqs.data, up->device_id};
        PGresult *res = be_db_run(db, BE_STMT_SDAD_REUSE, 4, params);
        rc = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : -1;
        for (int r = 0; !rc && r < PQntuples(res); r++) {
            for (size_t i = 0; i < n; i++) {
                struct be_card_verdict *v = &up->verdicts[i];
                char hex[65];
                if (!v->present || !v->has_sdad_digest)
                    continue;
                cf_hex_encode(v->sdad_digest, 32, hex, sizeof hex);
                if (strcmp(hex, PQgetvalue(res, r, 0)) == 0)
                    be_card_proof_reused(v);
            }
        }
        PQclear(res);
    }
    be_buf_cleanup(&digests);
    be_buf_cleanup(&accepted);
    be_buf_cleanup(&seqs);
    if (rc)
        up->failed_step = "check card signatures";
    return rc ? -1 : 0;
}

/* Judge every new event's card proof (be/card_proof.h), then the reuse of signatures.
 * A failed proof is a verdict stored with the event, never a refusal of the batch. */
static int judge_proofs(PGconn *db, struct upload *up, size_t from)
{
    size_t n = up->batch->count - from;
    bool any = false;
    for (size_t i = from; i < up->batch->count && !any; i++)
        any = up->batch->events[i].card.method == CF_CARD_EMV &&
              up->batch->events[i].card.proof.kind != CF_PROOF_ABSENT;
    if (!any)
        return 0;
    uint8_t key[CF_TOKEN_KEY_MAX];
    size_t key_len = 0;
    up->verdicts = calloc(n, sizeof *up->verdicts);
    if (!up->verdicts) {
        up->failed_step = "judge card proofs";
        return -1;
    }
    int rc = load_token_key(db, up, key, &key_len);
    for (size_t i = 0; !rc && i < n; i++) {
        rc = be_card_proof_judge(&up->batch->events[from + i], up->config->ca_keys,
                                 up->config->ca_key_count, key, key_len, &up->verdicts[i]);
        if (rc)
            up->failed_step = "judge card proofs";
    }
    OPENSSL_cleanse(key, sizeof key);
    if (!rc)
        rc = check_reuse(db, up, n, up->batch->events[from].seq);
    return rc ? -1 : 0;
}

/* A new event names a visit this device did not open (ingest_finish, sql/0010): the
 * batch is refused as a whole and audited as tampering. The same answer for a terminal
 * of another provider and a colleague's: ownership is by device. -1 if the row does not
 * name one of the batch's new events (never trust it blindly). */
static int refuse_foreign_visit(struct upload *up, const PGresult *res, uint64_t from_seq)
{
    struct verdict *v = &up->v;
    char *end = NULL;
    uint64_t seq = strtoull(PQgetvalue(res, 0, 1), &end, 10);
    if (!end || *end || seq < from_seq || seq > up->batch->seal.last_seq)
        return -1;
    char field[48];
    snprintf(field, sizeof field, "events[%" PRIu64 "].visit_id", seq - from_seq);
    snprintf(v->visit, sizeof v->visit, "%s", PQgetvalue(res, 0, 2));
    snprintf(v->owner, sizeof v->owner, "%s", PQgetvalue(res, 0, 3));
    refuse(v, 409, "visit-owned-elsewhere", "The visit belongs to another terminal", field,
           "Visit %s was opened on another terminal (or never opened on this one): a visit's "
           "events come only from the terminal that opened it. Nothing of the batch was "
           "stored; the refusal is recorded for review.",
           v->visit);
    v->tampered_seq = seq;
    return 0;
}

/* Does the upload store a new event of this kind (a card tapped at an office's desk,
 * an act with a body)? */
static bool has_new(const struct upload *up, bool (*match)(const struct cf_event *))
{
    for (size_t i = 0; i < up->batch->count; i++)
        if (match(&up->batch->events[i]) && up->batch->events[i].seq > up->dev.last_seq)
            return true;
    return false;
}

static bool is_check_in(const struct cf_event *ev)
{
    return ev->kind == CF_EV_APPOINTMENT_CHECKED_IN;
}

static bool is_act(const struct cf_event *ev)
{
    return ev->body[0] != '\0';
}

/* One more statement of the upload's transaction over its new events ($1 device, $2 the
 * seq held before, $3 the last seq). */
static int run_step(PGconn *db, struct upload *up, enum be_stmt stmt, const char *const params[3],
                    const char *step)
{
    PGresult *res = be_db_run(db, stmt, 3, params);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (!ok)
        up->failed_step = step;
    return ok ? 0 : -1;
}

/* Check ownership, rebuild the touched visits, record card bindings, move the chain
 * head: one round trip; then the appointments its card taps at a desk check in (sql/0028)
 * and its acts become applications and acts (sql/0032), a round trip each only when
 * there are any. A refusal leaves up->v set (the caller rolls
 * back). */
static int finish(PGconn *db, struct upload *up)
{
    char after[24], last[24], digest[2 * CF_DIGEST_LEN + 1];
    snprintf(after, sizeof after, "%" PRIu64, up->dev.last_seq);
    snprintf(last, sizeof last, "%" PRIu64, up->batch->seal.last_seq);
    cf_hex_encode(up->batch->seal.last_digest, CF_DIGEST_LEN, digest, sizeof digest);
    const char *params[4] = {up->device_id, after, last, digest};
    PGresult *res = be_db_run(db, BE_STMT_INGEST_FINISH, 4, params);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) == 4;
    if (ok && !PQgetisnull(res, 0, 1))
        ok = refuse_foreign_visit(up, res, up->batch->events[0].seq) == 0;
    up->judge = ok && strcmp(PQgetvalue(res, 0, 0), "0") != 0;
    PQclear(res);
    if (!ok)
        up->failed_step = "rebuild visits";
    if (!ok)
        return -1;
    /* NOTE: after ingest_finish, in the same transaction: the events are stored and their
     * card proofs judged; a refusal above rolls the check-ins and the acts back with them,
     * and a replay stores no event, so neither runs twice for one event */
    if (!up->v.status && has_new(up, is_check_in) &&
        run_step(db, up, BE_STMT_CARD_CHECK_INS, params, "appointment check-ins"))
        return -1;
    if (!up->v.status && has_new(up, is_act) &&
        run_step(db, up, BE_STMT_TERMINAL_ACTS, params, "terminal acts"))
        return -1;
    return 0;
}

/* Everything between BEGIN and COMMIT/ROLLBACK. Returns -1 on a database error;
 * otherwise 0 with up->v saying what to answer. */
static int ingest_tx(PGconn *db, struct upload *up)
{
    const struct cf_batch *b = up->batch;
    struct verdict *v = &up->v;
    bool found = false;
    if (load_device(db, up, &found))
        return -1;
    if (!found) {
        refuse(v, 404, "unknown-device", "Unknown device", NULL,
               "No device is enrolled under this id; enrol the terminal again.");
        return 0;
    }
    if (up->dev.revoked) {
        refuse(v, 403, "revoked-device", "Device revoked", NULL,
               "This device was revoked by a manager; its uploads are refused.");
        return 0;
    }
    /* The seal first: an unsigned batch learns nothing about what the server holds. */
    if (cf_seal_verify(up->dev.public_key, b)) {
        refuse(v, 422, "bad-seal", "The batch seal does not verify", "seal.signature",
               "The signature does not match this device's key and the batch's last event; "
               "the batch must be signed by the key registered at enrolment.");
        return 0;
    }
    uint64_t first = b->events[0].seq, held = up->dev.last_seq;
    up->acked = held;
    if (first > held + 1) {
        refuse(v, 409, "sequence-gap", "Events are missing before this batch", "events[0].seq",
               "The batch starts at seq %" PRIu64 " but the server holds events up to %" PRIu64
               "; send the events from seq %" PRIu64 " on.",
               first, held, held + 1);
        v->expected_seq = held + 1;
        return 0;
    }
    if (first <= held && check_held(db, up))
        return -1;
    if (v->status || b->seal.last_seq <= held)
        return 0; /* refused, or a pure replay: nothing to store */
    size_t from = (size_t)(held + 1 - first);
    if (from == 0 && memcmp(b->events[0].prev_digest, up->dev.last_digest, CF_DIGEST_LEN) != 0) {
        refuse(v, 409, "tampering", "The batch does not continue the device's chain",
               "events[0].prev",
               "prev of seq %" PRIu64 " is not the digest of the last event the server holds "
               "from this device. The refusal is recorded for review.",
               first);
        v->tampered_seq = first;
        cf_hex_encode(up->dev.last_digest, CF_DIGEST_LEN, v->held_hex, sizeof v->held_hex);
        cf_hex_encode(b->events[0].prev_digest, CF_DIGEST_LEN, v->sent_hex, sizeof v->sent_hex);
        return 0;
    }
    check_worker(up, from);
    if (v->status)
        return 0;
    if (judge_proofs(db, up, from) || copy_events(db, up, from) || finish(db, up))
        return -1;
    if (v->status)
        return 0; /* a visit of another terminal: rolled back */
    up->acked = b->seal.last_seq;
    up->stored = b->count - from;
    return 0;
}

/* ==== Answers ==== */

/* Tampering is logged and recorded durably (after the rollback, in its own
 * autocommitted statement) so a manager can review it. */
static void record_tampering(PGconn *db, const struct upload *up)
{
    const struct verdict *v = &up->v;
    char actor[64], seq[24];
    snprintf(actor, sizeof actor, "device:%s", up->device_id);
    snprintf(seq, sizeof seq, "%" PRIu64, v->tampered_seq);
    cJSON *details = cJSON_CreateObject();
    if (details) {
        cJSON_AddStringToObject(details, "seq", seq);
        cJSON_AddStringToObject(details, "field", v->field);
        cJSON_AddStringToObject(details, "held", v->held_hex);
        cJSON_AddStringToObject(details, "sent", v->sent_hex);
        if (v->visit[0]) {
            cJSON_AddStringToObject(details, "visit", v->visit);
            cJSON_AddStringToObject(details, "owner_device", v->owner);
        }
    }
    char *json = details ? cJSON_PrintUnformatted(details) : NULL;
    if (json) {
        const char *params[5] = {actor, "ingest.tampering", up->device_id, v->detail, json};
        PGresult *res = be_db_run(db, BE_STMT_AUDIT, 5, params);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            be_log_str("error", "cannot record tampering in audit_log", "error",
                       PQerrorMessage(db));
        PQclear(res);
    }
    cJSON_AddStringToObject(details, "device", up->device_id);
    be_log("warn", "tampering refused", details);
    free(json);
}

static void reply_verdict(struct be_request *req, const struct verdict *v)
{
    cJSON *extra = NULL;
    if (v->expected_seq > 0 && (extra = cJSON_CreateObject()))
        cJSON_AddNumberToObject(extra, "expected_seq", (double)v->expected_seq);
    be_reply_problem(req, v->status, v->type, v->title, v->detail, v->field, extra);
}

/* The integrity of the visits the batch changed (sql/0014_growth.sql): judged after the
 * COMMIT, outside the upload's transaction, so one worker's terminals upload side by side
 * and only the judging takes turns. The batch queued its visits in its transaction; the
 * upload that takes the worker's drain lock judges everything queued for the worker
 * (its own batch and those of the worker's other terminals), round after round, then
 * unlocks and looks again: an upload that found the lock taken returns at once, its batch
 * judged by the holder, who looks after unlocking. A sequence of uploads (the tests, a
 * single terminal) is judged before each is acknowledged. What is left -- a failure,
 * a carefactd that died after COMMIT, the rounds or the time used up (so the holder's
 * own answer is not held for its colleagues' judging) -- stays queued for the next
 * upload of the worker or the upkeep (upkeep.c: at start and every few seconds). */
#define JUDGE_ROUNDS 8
#define JUDGE_BUDGET_MS 1000

static int integrity_step(PGconn *db, enum be_stmt stmt, const char *worker)
{
    const char *params[1] = {worker};
    PGresult *res = be_db_run(db, stmt, 1, params);
    int v = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        const char *s = PQgetvalue(res, 0, 0);
        v = strcmp(s, "t") == 0 ? 1 : strcmp(s, "f") == 0 ? 0 : (int)strtol(s, NULL, 10);
    } else {
        be_log_str("warn", "integrity judging left to the upkeep", "error", PQerrorMessage(db));
    }
    PQclear(res);
    return v;
}

static void judge_integrity(PGconn *db, const struct upload *up)
{
    char worker[CF_UUID_TEXT_LEN + 1];
    cf_uuid_to_text(up->dev.worker_id, worker);
    int64_t until = cf_time_now_ms() + JUDGE_BUDGET_MS;
    for (int lock = 0; lock < 2 && cf_time_now_ms() < until; lock++) {
        if (integrity_step(db, BE_STMT_INTEGRITY_LOCK, worker) != 1)
            return; /* another upload of the worker judges (or the upkeep will) */
        for (int round = 0; round < JUDGE_ROUNDS; round++)
            if (integrity_step(db, BE_STMT_INTEGRITY_DRAIN, worker) <= 0 ||
                cf_time_now_ms() >= until)
                break;
        if (integrity_step(db, BE_STMT_INTEGRITY_UNLOCK, worker) != 1)
            return;
        if (integrity_step(db, BE_STMT_INTEGRITY_PENDING, worker) != 1)
            return;
    }
}

/* Keep the batch only when something new was stored: a refusal or a pure replay
 * rolls back. */
static int upload_tx(struct be_request *req, void *ctx)
{
    struct upload *up = ctx;
    if (ingest_tx(req->db, up)) {
        req->db_failure.step = up->failed_step;
        return BE_TX_FAILED;
    }
    return up->stored ? BE_TX_COMMIT : BE_TX_ROLLBACK;
}

static void handle_upload(struct be_request *req)
{
    struct cf_batch batch;
    struct cf_error_detail detail = {0};
    uint8_t path_id[CF_UUID_LEN];
    if (cf_uuid_from_text(be_param(req, "id"), path_id)) {
        be_reply_problem(req, 404, "unknown-device", "Unknown device",
                         "The path must name a device by its UUID.", NULL, NULL);
        return;
    }
    if (cf_batch_from_json(req->body ? req->body : "", req->body_len, &batch, &detail)) {
        be_reply_invalid(req, &detail);
        return;
    }
    if (memcmp(batch.device_id, path_id, CF_UUID_LEN) != 0) {
        cf_batch_cleanup(&batch);
        be_reply_problem(req, 422, "validation", "A field is not valid",
                         "device_id in the body must be the device named in the path: a batch "
                         "is uploaded by the device that signed it.",
                         "device_id", NULL);
        return;
    }
    struct upload up = {.batch = &batch, .config = req->config};
    cf_uuid_to_text(path_id, up.device_id);
    PGconn *db = req->db;
    int rc = be_db_transaction(req, NULL, "ingest", upload_tx, &up);
    cf_batch_cleanup(&batch);
    free(up.verdicts);
    if (rc == BE_TX_FAILED)
        return; /* answered */
    if (up.v.status) {
        if (up.v.tampered_seq)
            record_tampering(db, &up);
        reply_verdict(req, &up.v);
        return;
    }
    /* NOTE: the acknowledgement is built only after COMMIT returned. */
    if (up.judge)
        judge_integrity(db, &up);
    be_metrics_events(up.stored);
    be_web_notify_ingest(db, up.device_id, (long long)up.stored); /* live dashboards */
    cJSON *body = cJSON_CreateObject();
    if (body) {
        cJSON_AddNumberToObject(body, "acked_seq", (double)up.acked);
        cJSON_AddStringToObject(body, "epoch", be_db_epoch(db));
        cJSON_AddNumberToObject(body, "server_time_ms", (double)cf_time_now_ms());
        cJSON_AddNumberToObject(body, "stored", (double)up.stored);
    }
    be_reply_json(req, 200, body);
}

static const struct be_route routes[] = {
    {"POST", "/api/v1/devices/{id}/events", handle_upload, true, BE_DEVICE, BE_BODY_CONFIG},
};
const struct be_module be_ingest_module = BE_MODULE("ingest", routes);
