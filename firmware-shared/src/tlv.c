/* BER-TLV parsing as EMV uses it (see cf/tlv.h). Every byte comes from a card, so
 * each step checks the bytes it needs are there before reading them; results
 * point into the caller's buffer and nothing is allocated or copied. */
#include "cf/tlv.h"

#include <string.h>

#define TLV_MAX_TAG_BYTES 4
#define TLV_MAX_LENGTH_BYTES 3

/* Tag at data[*pos]: the first byte, plus subsequent bytes when its low five bits
 * are all ones, each with bit 8 set while another follows. */
static int parse_tag(const uint8_t *data, size_t len, size_t *pos, uint32_t *tag, bool *constructed)
{
    size_t p = *pos;
    if (p >= len)
        return CF_ETRUNC;
    uint32_t value = data[p];
    *constructed = (data[p] & 0x20) != 0;
    bool more = (data[p] & 0x1F) == 0x1F;
    p++;
    for (unsigned count = 1; more; count++) {
        if (count >= TLV_MAX_TAG_BYTES)
            return CF_EMALFORM;
        if (p >= len)
            return CF_ETRUNC;
        /* X.690 8.1.2.4.2: the first subsequent byte may not be 80 (a tag
         * number with a leading zero group has a shorter encoding). */
        if (count == 1 && data[p] == 0x80)
            return CF_EMALFORM;
        more = (data[p] & 0x80) != 0;
        value = (value << 8) | data[p];
        p++;
    }
    *tag = value;
    *pos = p;
    return 0;
}

/* Length at data[*pos]: short form 00..7F, long form 81..83 followed by one to
 * three big-endian bytes. 80 (indefinite) and 84.. are refused. */
static int parse_length(const uint8_t *data, size_t len, size_t *pos, size_t *length)
{
    size_t p = *pos;
    if (p >= len)
        return CF_ETRUNC;
    uint8_t first = data[p++];
    if (first < 0x80) {
        *length = first;
        *pos = p;
        return 0;
    }
    size_t count = first & 0x7F;
    if (count == 0 || count > TLV_MAX_LENGTH_BYTES)
        return CF_EMALFORM;
    if (count > len - p)
        return CF_ETRUNC;
    size_t value = 0;
    for (size_t i = 0; i < count; i++)
        value = (value << 8) | data[p++];
    *length = value;
    *pos = p;
    return 0;
}

int cf_tlv_parse_one(const uint8_t *data, size_t len, size_t *offset, struct cf_tlv *out)
{
    if (!data || !offset || !out || *offset > len)
        return CF_EINVAL;
    size_t p = *offset;
    uint32_t tag;
    bool constructed;
    size_t length;
    int rc = parse_tag(data, len, &p, &tag, &constructed);
    if (rc)
        return rc;
    rc = parse_length(data, len, &p, &length);
    if (rc)
        return rc;
    if (length > len - p)
        return CF_ETRUNC;
    out->tag = tag;
    out->constructed = constructed;
    out->value = data + p;
    out->length = length;
    *offset = p + length;
    return 0;
}

int cf_tlv_next(const uint8_t *data, size_t len, size_t *offset, struct cf_tlv *out)
{
    if (!data || !offset || !out || *offset > len)
        return CF_EINVAL;
    size_t p = *offset;
    while (p < len && (data[p] == 0x00 || data[p] == 0xFF))
        p++;
    *offset = p;
    if (p == len)
        return 0;
    int rc = cf_tlv_parse_one(data, len, offset, out);
    return rc ? rc : 1;
}

static int find_at_depth(const uint8_t *data, size_t len, uint32_t tag, struct cf_tlv *out,
                         unsigned depth)
{
    if (depth > CF_TLV_MAX_DEPTH)
        return CF_EMALFORM;
    size_t offset = 0;
    struct cf_tlv tlv;
    int rc;
    while ((rc = cf_tlv_next(data, len, &offset, &tlv)) == 1) {
        if (tlv.tag == tag) {
            *out = tlv;
            return 1;
        }
        if (tlv.constructed && tlv.length > 0) {
            rc = find_at_depth(tlv.value, tlv.length, tag, out, depth + 1);
            if (rc)
                return rc;
        }
    }
    return rc;
}

int cf_tlv_find(const uint8_t *data, size_t len, uint32_t tag, struct cf_tlv *out)
{
    if ((!data && len) || !out)
        return CF_EINVAL;
    if (len == 0)
        return 0;
    return find_at_depth(data, len, tag, out, 1);
}

int cf_dol_parse(const uint8_t *dol, size_t len, cf_dol_entry_fn fn, void *ctx)
{
    if ((!dol && len) || !fn)
        return CF_EINVAL;
    size_t p = 0;
    while (p < len) {
        uint32_t tag;
        bool constructed;
        size_t length;
        int rc = parse_tag(dol, len, &p, &tag, &constructed);
        if (rc)
            return rc;
        rc = parse_length(dol, len, &p, &length);
        if (rc)
            return rc;
        rc = fn(ctx, tag, length);
        if (rc)
            return rc;
    }
    return 0;
}
