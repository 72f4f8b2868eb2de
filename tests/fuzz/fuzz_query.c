/* Fuzz target: the query string of a GET request (?state=ended&limit=50) through
 * carefactd's strict parser, with the parameters of the visit list, and the time
 * values through the RFC 3339 check. Accepted values must fit their buffers; every
 * refusal must be one of the documented codes with a message naming the parameter. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "be/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > BE_QUERY_MAX * 2)
        return 0;
    char *query = malloc(size + 1);
    if (!query)
        return 0;
    memcpy(query, data, size);
    query[size] = '\0';
    char provider[40], state[16], from[40], to[40], limit[8], cursor[64];
    struct be_query_param params[] = {
        {"provider", provider, sizeof provider},
        {"state", state, sizeof state},
        {"from", from, sizeof from},
        {"to", to, sizeof to},
        {"limit", limit, sizeof limit},
        {"cursor", cursor, sizeof cursor},
    };
    size_t count = sizeof params / sizeof params[0];
    struct cf_error_detail detail = {0};
    int rc = be_query_parse(query, params, count, &detail);
    if (rc == 0) {
        for (size_t i = 0; i < count; i++) {
            size_t len = strnlen(params[i].value, params[i].size);
            if (len == params[i].size)
                abort(); /* not terminated inside its buffer */
            for (size_t k = 0; k < len; k++)
                if ((unsigned char)params[i].value[k] < 0x20)
                    abort(); /* control characters are refused */
        }
        (void)be_time_text_valid(from);
        (void)be_time_text_valid(to);
    } else if ((rc != CF_EFIELD_UNKNOWN && rc != CF_EFIELD_RANGE && rc != CF_EMALFORM &&
                rc != CF_ETOOBIG) ||
               !detail.message[0]) {
        abort();
    }
    (void)be_time_text_valid(query);
    free(query);
    return 0;
}
