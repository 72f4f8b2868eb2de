/* Fuzz target: a whole upload body through cf_batch_from_json (the first thing the
 * server does with a device's bytes). An accepted batch must be internally chained,
 * every event valid, its seal naming its last event, and it must serialise back to a
 * body that parses to the same batch. A refused one must leave nothing behind and
 * say which code and why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cf/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const struct cf_batch *batch)
{
    if (batch->count == 0 || batch->count > CF_BATCH_MAX_EVENTS || !batch->events ||
        !batch->digests || batch->seal.last_seq != batch->events[batch->count - 1].seq ||
        memcmp(batch->seal.last_digest, batch->digests[batch->count - 1], CF_DIGEST_LEN) != 0)
        abort();
    for (size_t i = 0; i < batch->count; i++) {
        uint8_t digest[CF_DIGEST_LEN];
        const struct cf_event *ev = &batch->events[i];
        if (cf_event_validate(ev, NULL) != 0 || cf_event_digest(ev, digest) != 0 ||
            memcmp(digest, batch->digests[i], CF_DIGEST_LEN) != 0 ||
            memcmp(ev->device_id, batch->device_id, CF_UUID_LEN) != 0)
            abort();
        if (i > 0 && (ev->seq != batch->events[i - 1].seq + 1 ||
                      memcmp(ev->prev_digest, batch->digests[i - 1], CF_DIGEST_LEN) != 0))
            abort();
    }
}

static void check_round_trip(const struct cf_batch *batch)
{
    struct cf_batch again;
    struct cf_error_detail detail = {0};
    char *text = cf_batch_to_json(batch);
    if (!text || cf_batch_from_json(text, strlen(text), &again, &detail) != 0)
        abort();
    if (again.count != batch->count ||
        memcmp(again.device_id, batch->device_id, CF_UUID_LEN) != 0 ||
        memcmp(&again.seal, &batch->seal, sizeof again.seal) != 0 ||
        memcmp(again.events, batch->events, batch->count * sizeof *batch->events) != 0 ||
        memcmp(again.digests, batch->digests, batch->count * sizeof *batch->digests) != 0)
        abort();
    char *text2 = cf_batch_to_json(&again);
    if (!text2 || strcmp(text, text2) != 0)
        abort();
    free(text2);
    free(text);
    cf_batch_cleanup(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cf_batch batch;
    struct cf_error_detail detail = {0};
    int rc = cf_batch_from_json((const char *)data, size, &batch, &detail);
    if (rc == 0) {
        check_accepted(&batch);
        check_round_trip(&batch);
        cf_batch_cleanup(&batch);
    } else {
        if (batch.events || batch.digests || batch.count) /* a refusal leaves nothing */
            abort();
        if (rc != CF_ENOMEM && (detail.code != rc || !detail.message[0]))
            abort();
    }
    return 0;
}
