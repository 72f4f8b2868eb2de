/* Sync with the backend: upload the events waiting in the store as signed batches,
 * then bring the reference data up to date by comparing (kind, id, version) lists.
 *
 * Invariants (see agent/README.md, "Sync"):
 *  - Events are marked synced only on a parsed acknowledgement {"acked_seq",
 *    "epoch", "server_time_ms"} of a 200 answer; anything else (a captive portal's
 *    200 page, a redirect, a cut connection) leaves them waiting.
 *  - Batches of AG_SYNC_BATCH events, halved on 413 down to one event; one event
 *    still refused stops the sync (CF_EREJECTED, held), nothing dropped. 409
 *    sequence-gap with expected_seq (a database restored from a backup) rewinds the
 *    queue and uploads again; a changed epoch makes the next upload overlap the
 *    acknowledged seq so the server says what it holds. 401/403/404, 409 tampering,
 *    400/422 are never retried automatically: the sync is held until a person runs
 *    it again.
 *  - Network and 5xx failures back off exponentially (5 s doubling, with jitter,
 *    capped at AG_SYNC_BACKOFF_MAX_MS); an automatic sync never gives up while events
 *    wait, it only waits.
 *  - Every answer's server time (the acknowledgement's server_time_ms, or the Date
 *    header) against the device clock gives the recorded clock skew.
 *  - Reference records are fetched in batches of AG_SYNC_REF_BATCH, each batch applied
 *    in one store transaction: a dropped link resumes with what is still missing. A
 *    malformed or oversized record is refused (counted, reported), the rest applied;
 *    the old version of that record, if any, stays. */
#ifndef AG_SYNC_H
#define AG_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ag/store.h"
#include "ag/transport.h"

#define AG_SYNC_BATCH 100
#define AG_SYNC_REF_BATCH 100 /* the server takes up to 200 per fetch */
#define AG_SYNC_BACKOFF_BASE_MS 5000
#define AG_SYNC_BACKOFF_MAX_MS 600000 /* 10 minutes */
#define AG_SYNC_INTERVAL_MS 300000 /* automatic sync every 5 minutes when all is well */
#define AG_SYNC_KEEP_ACKED_MS (30LL * 24 * 3600 * 1000) /* acked events kept 30 days */
#define AG_SYNC_MAX_ANSWER (16u << 20) /* cap on one answer body */

struct ag_sync_options {
    bool automatic; /* respect back-off and holds (terminal mode, timers) */
    bool skip_reference; /* upload only */
    size_t batch_max; /* 0: AG_SYNC_BATCH */
    /* Progress lines in Russian for the worker; may be NULL. */
    void (*progress)(void *ctx, const char *line);
    void *progress_ctx;
    /* The server to talk to (borrowed); NULL: HTTPS to the enrolled server with the
     * pinned CA (ag_transport_http_new). The unit tests give an in-memory one. */
    struct ag_transport *transport;
};

struct ag_sync_report {
    int error; /* 0 or the CF_E... that stopped the sync */
    char message[512]; /* Russian, for the worker ("" on success) */
    char detail[512]; /* what the server or the network said (English), may be "" */
    uint64_t uploaded; /* events newly acknowledged in this run */
    uint64_t acked_seq; /* after the run */
    uint64_t waiting; /* events still waiting */
    bool epoch_changed; /* the server's database is not the one we synced with */
    uint64_t reuploaded_from; /* > 0: the queue was rewound to upload from here */
    size_t ref_fetched, ref_dropped, ref_refused;
    char ref_problem[256]; /* first refused record and why (English) */
    bool reference_done;
    bool skew_known;
    int64_t skew_ms; /* server minus device */
    bool held; /* waits for a person */
    int64_t next_attempt_ms; /* automatic sync not before (device wall clock) */
};

/* Run one sync. Returns 0 (report->error 0) or the error also in report->error:
 * CF_ENOT_ENROLLED, CF_EBACKOFF (automatic and not due / held), CF_ENETWORK,
 * CF_ETLS, CF_ESERVER, CF_EBAD_ANSWER, CF_EDEVICE_REFUSED, CF_ECONFLICT,
 * CF_EREJECTED, CF_EPRUNED, store errors. The sync state in the store is updated
 * in every case (attempt time, back-off, hold, skew). */
int ag_sync_run(struct ag_store *store, const struct ag_sync_options *options,
                struct ag_sync_report *report);

/* The back-off before attempt number failures (1, 2, ...): AG_SYNC_BACKOFF_BASE_MS
 * doubling, capped at AG_SYNC_BACKOFF_MAX_MS, then a random jitter taking off up to
 * half. jitter in [0, 1). */
int64_t ag_sync_backoff_ms(int failures, double jitter);

/* A cheap fingerprint of the network interfaces that are up and running (loopback
 * aside), 0 when there are none: a change to a non-zero value means a link came up
 * (the terminal and the daemon then sync at once). */
unsigned long ag_link_signature(void);

#endif
