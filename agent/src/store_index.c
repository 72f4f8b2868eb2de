/* The store's two indexes over data it holds (see ag/store.h): the visit index,
 * kept in step with the event queue inside each append's transaction, and the
 * reference cache (recipients, catalogue, plans) with its card-token index, each
 * refresh applied in one transaction. It stands on store_sqlite.c and calls nothing
 * of store.c: store.c calls it (ag_store_index_event, store_index.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "store_index.h"
#include "store_sqlite.h"

/* ==== Visit index ==== */

static int index_started(struct ag_store *s, const struct cf_event *ev)
{
    sqlite3_stmt *stmt = NULL;
    int rc = ag_store_prepare(
        s,
        "INSERT INTO visits (visit_id, recipient_id, plan_id, state, started_wall_ms, "
        "started_mono_ms, start_boot_id, start_token, updated_wall_ms, last_seq) "
        "VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?4, ?8) ON CONFLICT (visit_id) DO UPDATE SET "
        "started_wall_ms = ?4, started_mono_ms = ?5, start_boot_id = ?6, start_token = ?7, "
        "updated_wall_ms = ?4, last_seq = ?8",
        &stmt);
    if (rc)
        return rc;
    ag_store_bind_uuid(stmt, 1, ev->visit_id);
    ag_store_bind_uuid(stmt, 2, ev->recipient_id);
    ag_store_bind_uuid(stmt, 3, ev->plan_id);
    sqlite3_bind_int64(stmt, 4, ev->wall_ms);
    sqlite3_bind_int64(stmt, 5, ev->mono_ms);
    ag_store_bind_uuid(stmt, 6, ev->boot_id);
    sqlite3_bind_text(stmt, 7, ev->card.token, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 8, (sqlite3_int64)ev->seq);
    return ag_store_step_done(s, stmt, "index visit start");
}

static int index_services(struct ag_store *s, const struct cf_event *ev)
{
    for (size_t i = 0; i < ev->service_count; i++) {
        sqlite3_stmt *stmt = NULL;
        int rc = ag_store_prepare(s,
                                  "INSERT OR REPLACE INTO visit_services (visit_id, recipient_id, "
                                  "code, quantity, ended_seq) VALUES (?, ?, ?, ?, ?)",
                                  &stmt);
        if (rc)
            return rc;
        ag_store_bind_uuid(stmt, 1, ev->visit_id);
        ag_store_bind_uuid(stmt, 2, ev->recipient_id);
        sqlite3_bind_text(stmt, 3, ev->services[i].code, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(stmt, 4, ev->services[i].quantity);
        sqlite3_bind_int64(stmt, 5, (sqlite3_int64)ev->seq);
        rc = ag_store_step_done(s, stmt, "index services");
        if (rc)
            return rc;
    }
    return 0;
}

static int index_ended(struct ag_store *s, const struct cf_event *ev)
{
    sqlite3_stmt *stmt = NULL;
    int rc = ag_store_prepare(
        s,
        "INSERT INTO visits (visit_id, recipient_id, plan_id, state, ended_wall_ms, "
        "ended_mono_ms, end_boot_id, updated_wall_ms, last_seq) "
        "VALUES (?1, ?2, ?3, 2, ?4, ?5, ?6, ?4, ?7) ON CONFLICT (visit_id) DO UPDATE SET "
        "state = 2, ended_wall_ms = ?4, ended_mono_ms = ?5, end_boot_id = ?6, "
        "updated_wall_ms = ?4, last_seq = ?7",
        &stmt);
    if (rc)
        return rc;
    ag_store_bind_uuid(stmt, 1, ev->visit_id);
    ag_store_bind_uuid(stmt, 2, ev->recipient_id);
    ag_store_bind_uuid(stmt, 3, ev->plan_id);
    sqlite3_bind_int64(stmt, 4, ev->wall_ms);
    sqlite3_bind_int64(stmt, 5, ev->mono_ms);
    ag_store_bind_uuid(stmt, 6, ev->boot_id);
    sqlite3_bind_int64(stmt, 7, (sqlite3_int64)ev->seq);
    rc = ag_store_step_done(s, stmt, "index visit end");
    return rc ? rc : index_services(s, ev);
}

/* Rated and cancelled: a state change of a known visit (or, for a cancelled
 * planned visit that never started, a new row). */
static int index_change(struct ag_store *s, const struct cf_event *ev, enum ag_visit_state state)
{
    sqlite3_stmt *stmt = NULL;
    int rc = ag_store_prepare(
        s,
        "INSERT INTO visits (visit_id, recipient_id, plan_id, state, rating, reason, "
        "updated_wall_ms, last_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
        "ON CONFLICT (visit_id) DO UPDATE SET state = ?4, rating = ?5, "
        "reason = ?6, updated_wall_ms = ?7, last_seq = ?8",
        &stmt);
    if (rc)
        return rc;
    ag_store_bind_uuid(stmt, 1, ev->visit_id);
    ag_store_bind_uuid(stmt, 2, ev->recipient_id);
    ag_store_bind_uuid(stmt, 3, ev->plan_id);
    sqlite3_bind_int(stmt, 4, (int)state);
    sqlite3_bind_int(stmt, 5, ev->rating);
    sqlite3_bind_int(stmt, 6, (int)ev->reason);
    sqlite3_bind_int64(stmt, 7, ev->wall_ms);
    sqlite3_bind_int64(stmt, 8, (sqlite3_int64)ev->seq);
    return ag_store_step_done(s, stmt, "index visit change");
}

/* A door attempt has no visit id on the wire; the index gives it a local key so
 * the plan shows "not at home" on the terminal. */
static int index_attempt(struct ag_store *s, const struct cf_event *ev)
{
    struct cf_event row = *ev;
    if (RAND_bytes(row.visit_id, CF_UUID_LEN) != 1)
        return CF_ECRYPTO;
    return index_change(s, &row, AG_VISIT_ATTEMPT);
}

int ag_store_index_event(struct ag_store *s, const struct cf_event *ev)
{
    switch (ev->kind) {
    case CF_EV_VISIT_STARTED:
        return index_started(s, ev);
    case CF_EV_VISIT_ENDED:
        return index_ended(s, ev);
    case CF_EV_VISIT_RATED:
        return index_change(s, ev, AG_VISIT_RATED);
    case CF_EV_VISIT_CANCELLED:
        return index_change(s, ev, AG_VISIT_CANCELLED);
    case CF_EV_VISIT_ATTEMPT:
        return index_attempt(s, ev);
    default:
        return 0; /* card.* events describe no visit */
    }
}

#define VISIT_COLUMNS                                                                              \
    "visit_id, recipient_id, plan_id, state, started_wall_ms, started_mono_ms, start_boot_id, "    \
    "start_token, ended_wall_ms, ended_mono_ms, end_boot_id, rating, reason, updated_wall_ms, "    \
    "last_seq"

static int read_visit_row(sqlite3_stmt *stmt, struct ag_visit_row *out)
{
    memset(out, 0, sizeof *out);
    int rc = ag_store_column_uuid(stmt, 0, out->visit_id);
    if (!rc)
        rc = ag_store_column_uuid(stmt, 1, out->recipient_id);
    if (!rc)
        rc = ag_store_column_uuid(stmt, 2, out->plan_id);
    if (!rc)
        rc = ag_store_column_uuid(stmt, 6, out->start_boot_id);
    if (!rc)
        rc = ag_store_column_uuid(stmt, 10, out->end_boot_id);
    int state = sqlite3_column_int(stmt, 3), reason = sqlite3_column_int(stmt, 12);
    const char *token = (const char *)sqlite3_column_text(stmt, 7);
    if (!rc && (state < AG_VISIT_STARTED || state > AG_VISIT_ATTEMPT || reason < 0 ||
                reason > CF_REASON_OTHER || !token || strlen(token) > CF_TOKEN_TEXT_LEN))
        rc = CF_ESTORE_DAMAGED;
    if (rc)
        return rc;
    out->state = (enum ag_visit_state)state;
    out->started_wall_ms = sqlite3_column_int64(stmt, 4);
    out->started_mono_ms = sqlite3_column_int64(stmt, 5);
    memcpy(out->start_token, token, strlen(token) + 1);
    out->ended_wall_ms = sqlite3_column_int64(stmt, 8);
    out->ended_mono_ms = sqlite3_column_int64(stmt, 9);
    out->rating = sqlite3_column_int(stmt, 11);
    out->reason = (enum cf_reason)reason;
    out->updated_wall_ms = sqlite3_column_int64(stmt, 13);
    out->last_seq = (uint64_t)sqlite3_column_int64(stmt, 14);
    return 0;
}

int ag_store_visit_find(struct ag_store *store, enum ag_visit_find how, const uint8_t *key,
                        struct ag_visit_row *out)
{
    static const char *const queries[] = {
        [AG_FIND_ID] = "SELECT " VISIT_COLUMNS " FROM visits WHERE visit_id = ?",
        [AG_FIND_OPEN] = "SELECT " VISIT_COLUMNS " FROM visits WHERE state = 1 "
                         "ORDER BY last_seq DESC LIMIT 1",
        [AG_FIND_UNRATED] = "SELECT " VISIT_COLUMNS " FROM visits WHERE state = 2 "
                            "ORDER BY last_seq DESC LIMIT 1",
        [AG_FIND_PLAN] = "SELECT " VISIT_COLUMNS " FROM visits WHERE plan_id = ? "
                         "ORDER BY last_seq DESC LIMIT 1",
    };
    sqlite3_stmt *stmt = NULL;
    if ((unsigned)how > AG_FIND_PLAN || ((how == AG_FIND_ID || how == AG_FIND_PLAN) && !key))
        return CF_EINVAL;
    int rc = ag_store_prepare(store, queries[how], &stmt);
    if (rc)
        return rc;
    if (how == AG_FIND_ID || how == AG_FIND_PLAN)
        sqlite3_bind_blob(stmt, 1, key, CF_UUID_LEN, SQLITE_TRANSIENT);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        rc = read_visit_row(stmt, out);
    else if (step == SQLITE_DONE)
        rc = CF_ENO_VISIT;
    else
        rc = ag_store_sqlite_error(store, step, "find visit", NULL);
    sqlite3_finalize(stmt);
    return rc;
}

int ag_store_visits_since(struct ag_store *store, int64_t since_wall_ms, struct ag_visit_row *out,
                          size_t max, size_t *count)
{
    sqlite3_stmt *stmt = NULL;
    *count = 0;
    int rc = ag_store_prepare(store,
                              "SELECT " VISIT_COLUMNS " FROM visits WHERE updated_wall_ms >= ? "
                              "ORDER BY last_seq DESC LIMIT ?",
                              &stmt);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, since_wall_ms);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)max);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW && *count < max) {
        rc = read_visit_row(stmt, &out[*count]);
        if (!rc)
            (*count)++;
    }
    if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = ag_store_sqlite_error(store, step, "list visits", NULL);
    sqlite3_finalize(stmt);
    return rc;
}

int ag_store_services_used(struct ag_store *store, const uint8_t recipient_id[CF_UUID_LEN],
                           const char *code, uint64_t after_seq, long *quantity)
{
    sqlite3_stmt *stmt = NULL;
    *quantity = 0;
    int rc = ag_store_prepare(store,
                              "SELECT coalesce(sum(quantity), 0) FROM visit_services WHERE "
                              "recipient_id = ? AND code = ? AND ended_seq > ?",
                              &stmt);
    if (rc)
        return rc;
    sqlite3_bind_blob(stmt, 1, recipient_id, CF_UUID_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)after_seq);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        *quantity = (long)sqlite3_column_int64(stmt, 0);
    else
        rc = ag_store_sqlite_error(store, step, "services used", NULL);
    sqlite3_finalize(stmt);
    return rc;
}

/* ==== Reference cache ==== */

static int copy_key_field(const unsigned char *text, char *out, size_t out_size)
{
    if (!text || strlen((const char *)text) >= out_size)
        return CF_ESTORE_DAMAGED;
    memcpy(out, text, strlen((const char *)text) + 1);
    return 0;
}

int ag_store_ref_keys(struct ag_store *store, struct ag_ref_key **out, size_t *count)
{
    sqlite3_stmt *stmt = NULL;
    struct ag_ref_key *keys = NULL;
    size_t n = 0, cap = 0;
    *out = NULL;
    *count = 0;
    int rc =
        ag_store_prepare(store, "SELECT kind, id, version FROM reference ORDER BY kind, id", &stmt);
    if (rc)
        return rc;
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == cap) {
            size_t grown = cap ? cap * 2 : 64;
            struct ag_ref_key *bigger = realloc(keys, grown * sizeof *keys);
            if (!bigger) {
                rc = CF_ENOMEM;
                break;
            }
            keys = bigger;
            cap = grown;
        }
        rc = copy_key_field(sqlite3_column_text(stmt, 0), keys[n].kind, sizeof keys[n].kind);
        if (!rc)
            rc = copy_key_field(sqlite3_column_text(stmt, 1), keys[n].id, sizeof keys[n].id);
        if (!rc)
            rc = copy_key_field(sqlite3_column_text(stmt, 2), keys[n].version,
                                sizeof keys[n].version);
        n++;
    }
    if (!rc && step != SQLITE_DONE)
        rc = ag_store_sqlite_error(store, step, "reference keys", NULL);
    sqlite3_finalize(stmt);
    if (rc) {
        free(keys);
        return rc;
    }
    *out = keys;
    *count = n;
    return 0;
}

static int drop_record(struct ag_store *s, const struct ag_ref_key *key)
{
    sqlite3_stmt *stmt = NULL;
    int rc = ag_store_prepare(s, "DELETE FROM reference WHERE kind = ? AND id = ?", &stmt);
    if (rc)
        return rc;
    sqlite3_bind_text(stmt, 1, key->kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, key->id, -1, SQLITE_TRANSIENT);
    rc = ag_store_step_done(s, stmt, "drop reference record");
    if (rc || strcmp(key->kind, "recipient") != 0)
        return rc;
    rc = ag_store_prepare(s, "DELETE FROM reference_cards WHERE recipient_id = ?", &stmt);
    if (rc)
        return rc;
    sqlite3_bind_text(stmt, 1, key->id, -1, SQLITE_TRANSIENT);
    return ag_store_step_done(s, stmt, "drop card index");
}

static int put_record(struct ag_store *s, const struct ag_ref_record *r, uint64_t basis_seq)
{
    sqlite3_stmt *stmt = NULL;
    if (!r->body || strlen(r->body) > AG_REF_BODY_MAX)
        return CF_EINVAL;
    int rc = drop_record(s, &r->key);
    if (!rc)
        rc = ag_store_prepare(s,
                              "INSERT INTO reference (kind, id, version, body, basis_seq) "
                              "VALUES (?, ?, ?, ?, ?)",
                              &stmt);
    if (rc)
        return rc;
    sqlite3_bind_text(stmt, 1, r->key.kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, r->key.id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 3, r->key.version, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 4, r->body, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 5, (sqlite3_int64)basis_seq);
    rc = ag_store_step_done(s, stmt, "store reference record");
    for (size_t i = 0; !rc && i < r->token_count; i++) {
        rc = ag_store_prepare(s,
                              "INSERT OR IGNORE INTO reference_cards (token, recipient_id) "
                              "VALUES (?, ?)",
                              &stmt);
        if (rc)
            break;
        sqlite3_bind_text(stmt, 1, r->tokens[i], -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(stmt, 2, r->key.id, -1, SQLITE_TRANSIENT);
        rc = ag_store_step_done(s, stmt, "index card");
    }
    return rc;
}

int ag_store_ref_apply(struct ag_store *store, const struct ag_ref_record *put, size_t nput,
                       const struct ag_ref_key *drop, size_t ndrop, uint64_t basis_seq)
{
    int rc = ag_store_begin(store);
    for (size_t i = 0; !rc && i < ndrop; i++)
        rc = drop_record(store, &drop[i]);
    for (size_t i = 0; !rc && i < nput; i++)
        rc = put_record(store, &put[i], basis_seq);
    return ag_store_finish(store, rc);
}

int ag_store_ref_get(struct ag_store *store, const char *kind, const char *id, char **body,
                     uint64_t *basis_seq)
{
    sqlite3_stmt *stmt = NULL;
    *body = NULL;
    int rc = ag_store_prepare(
        store, "SELECT body, basis_seq FROM reference WHERE kind = ? AND id = ?", &stmt);
    if (rc)
        return rc;
    sqlite3_bind_text(stmt, 1, kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, id, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(stmt, 0);
        *body = text ? strdup(text) : NULL;
        if (!*body)
            rc = CF_ENOMEM;
        if (basis_seq)
            *basis_seq = (uint64_t)sqlite3_column_int64(stmt, 1);
    } else if (step != SQLITE_DONE) {
        rc = ag_store_sqlite_error(store, step, "read reference record", NULL);
    }
    sqlite3_finalize(stmt);
    return rc;
}

int ag_store_ref_by_token(struct ag_store *store, const char *token, char ids[][AG_REF_ID_MAX + 1],
                          size_t max, size_t *count)
{
    sqlite3_stmt *stmt = NULL;
    *count = 0;
    int rc = ag_store_prepare(store,
                              "SELECT c.recipient_id FROM reference_cards c JOIN reference r ON "
                              "r.kind = 'recipient' AND r.id = c.recipient_id WHERE c.token = ? "
                              "ORDER BY c.recipient_id",
                              &stmt);
    if (rc)
        return rc;
    sqlite3_bind_text(stmt, 1, token, -1, SQLITE_TRANSIENT);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*count < max)
            rc = copy_key_field(sqlite3_column_text(stmt, 0), ids[*count], AG_REF_ID_MAX + 1);
        (*count)++;
    }
    if (!rc && step != SQLITE_DONE)
        rc = ag_store_sqlite_error(store, step, "find card", NULL);
    sqlite3_finalize(stmt);
    return rc;
}

int ag_store_ref_each(struct ag_store *store, const char *kind,
                      int (*fn)(void *ctx, const char *id, const char *body, uint64_t basis_seq),
                      void *ctx)
{
    sqlite3_stmt *stmt = NULL;
    int rc = ag_store_prepare(
        store, "SELECT id, body, basis_seq FROM reference WHERE kind = ? ORDER BY id", &stmt);
    if (rc)
        return rc;
    sqlite3_bind_text(stmt, 1, kind, -1, SQLITE_TRANSIENT);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(stmt, 0);
        const char *body = (const char *)sqlite3_column_text(stmt, 1);
        rc = fn(ctx, id ? id : "", body ? body : "", (uint64_t)sqlite3_column_int64(stmt, 2));
    }
    if (!rc && step != SQLITE_DONE)
        rc = ag_store_sqlite_error(store, step, "list reference", NULL);
    sqlite3_finalize(stmt);
    return rc;
}

int ag_store_events_of_kind(struct ag_store *store, enum cf_event_kind kind, size_t max,
                            int (*fn)(void *ctx, uint64_t seq, const char *payload, bool acked),
                            void *ctx)
{
    sqlite3_stmt *stmt = NULL;
    const char *name = cf_event_kind_name(kind);
    if (!name)
        return CF_EINVAL;
    int rc = ag_store_prepare(store,
                              "SELECT seq, payload, acked FROM events WHERE kind = ? ORDER BY seq "
                              "DESC LIMIT ?",
                              &stmt);
    if (rc)
        return rc;
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)max);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *payload = (const char *)sqlite3_column_text(stmt, 1);
        rc = fn(ctx, (uint64_t)sqlite3_column_int64(stmt, 0), payload ? payload : "",
                sqlite3_column_int(stmt, 2) != 0);
    }
    if (!rc && step != SQLITE_DONE)
        rc = ag_store_sqlite_error(store, step, "events of kind", NULL);
    sqlite3_finalize(stmt);
    return rc;
}
