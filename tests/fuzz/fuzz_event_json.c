/* Fuzz target: one event object through cf_event_from_json. Whatever decodes must
 * survive the round trip to_json -> from_json unchanged, with the same digest, so
 * the device and the server can never disagree about an accepted event. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cf/batch.h"
#include "cf/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t device[CF_UUID_LEN] = {1, 2,  3,  4,  5,  6,  7,  8,
                                                9, 10, 11, 12, 13, 14, 15, 16};
    cJSON *root = NULL;
    struct cf_error_detail detail;
    if (cf_json_parse((const char *)data, size, 1 << 16, &root, &detail))
        return 0;
    struct cf_event *ev = malloc(sizeof *ev), *again = malloc(sizeof *again);
    if (ev && again && cf_event_from_json(root, device, "", ev, &detail) == 0) {
        uint8_t d1[CF_DIGEST_LEN], d2[CF_DIGEST_LEN];
        cJSON *out = cf_event_to_json(ev);
        if (!out)
            abort();
        if (cf_event_from_json(out, device, "", again, &detail) != 0)
            abort();
        if (cf_event_digest(ev, d1) || cf_event_digest(again, d2) || memcmp(d1, d2, sizeof d1) != 0)
            abort();
        cJSON_Delete(out);
    }
    free(ev);
    free(again);
    cJSON_Delete(root);
    return 0;
}
