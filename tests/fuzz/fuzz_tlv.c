/* libFuzzer target for BER-TLV (cf/tlv.h): arbitrary bytes through the level
 * iterator, the depth-first search and the DOL parser. Every result must point
 * inside the input; a violated bound aborts (and the sanitizers catch any read
 * past the end on the way).
 *
 * Seeds (corpus/tlv): answers of the devnied recordings (Apache-2.0) without SW.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cf/tlv.h"

static void check_inside(const uint8_t *data, size_t size, const struct cf_tlv *tlv)
{
    if (tlv->value < data || tlv->value > data + size ||
        tlv->length > (size_t)(data + size - tlv->value))
        abort();
}

/* Walk every level, as the EMV code does with templates. */
static void walk(const uint8_t *data, size_t size, const uint8_t *base, size_t base_size,
                 unsigned depth)
{
    size_t offset = 0;
    struct cf_tlv tlv;
    int rc;
    while ((rc = cf_tlv_next(data, size, &offset, &tlv)) == 1) {
        check_inside(base, base_size, &tlv);
        if (offset > size)
            abort();
        if (tlv.constructed && depth < CF_TLV_MAX_DEPTH)
            walk(tlv.value, tlv.length, base, base_size, depth + 1);
    }
    if (rc > 1 || (rc == 0 && offset != size))
        abort();
}

static int count_entry(void *ctx, uint32_t tag, size_t length)
{
    (void)tag;
    size_t *total = ctx;
    *total += length;
    return *total > 100000 ? CF_ETOOBIG : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    walk(data, size, data, size, 1);

    static const uint32_t tags[] = {0x5A, 0x57, 0x9F6B, 0x56, 0x5F24, 0x94, 0xBF0C, 0x4F, 0x9F38};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        struct cf_tlv found;
        int rc = cf_tlv_find(data, size, tags[i], &found);
        if (rc == 1) {
            check_inside(data, size, &found);
            if (found.tag != tags[i])
                abort();
        } else if (rc != 0 && rc != CF_ETRUNC && rc != CF_EMALFORM) {
            abort();
        }
    }

    size_t total = 0;
    int rc = cf_dol_parse(data, size, count_entry, &total);
    if (rc != 0 && rc != CF_ETRUNC && rc != CF_EMALFORM && rc != CF_ETOOBIG)
        abort();
    return 0;
}
