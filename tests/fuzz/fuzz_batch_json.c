/* Fuzz target: a whole upload body through cf_batch_from_json (the first thing the
 * server does with a device's bytes). An accepted batch must be internally chained
 * and its seal must name its last event. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cf/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cf_batch batch;
    struct cf_error_detail detail;
    if (cf_batch_from_json((const char *)data, size, &batch, &detail) == 0) {
        if (batch.count == 0 || batch.seal.last_seq != batch.events[batch.count - 1].seq)
            abort();
        for (size_t i = 1; i < batch.count; i++)
            if (memcmp(batch.events[i].prev_digest, batch.digests[i - 1], CF_DIGEST_LEN) != 0)
                abort();
        cf_batch_cleanup(&batch);
    } else if (batch.events || batch.count) {
        abort(); /* a refused batch must leave nothing behind */
    }
    return 0;
}
