/* The card number inside a proof's static data (api/PROTOCOL.md 4.5): the terminal
 * masks the value of every PAN object (5A) before the event is written, the verifier
 * puts the PAN recovered from the ICC certificate back before hashing. Both walk the
 * static data the same way (this file), so they agree on which bytes are the PAN. */
#include <string.h>

#include "cf/event.h"
#include "cf/tlv.h"

#define PAN_TAG 0x5A
#define PAN_BYTES_MIN 6 /* 12 digits */
#define PAN_BYTES_MAX 10 /* 19 digits and an F */

typedef void (*pan_fn)(uint8_t *value, size_t len, void *ctx);

/* Every 5A of 6..10 bytes, walking data from its start as BER-TLV and descending into
 * constructed objects; the walk of a level ends at its first byte that does not parse
 * (the static data ends with the 9F4A-listed values, which are not TLV). */
static void walk(uint8_t *data, size_t len, int depth, pan_fn fn, void *ctx)
{
    size_t offset = 0;
    struct cf_tlv tlv;
    while (cf_tlv_next(data, len, &offset, &tlv) == 1) {
        uint8_t *value = data + (tlv.value - data);
        if (tlv.constructed && depth < CF_TLV_MAX_DEPTH)
            walk(value, tlv.length, depth + 1, fn, ctx);
        else if (tlv.tag == PAN_TAG && tlv.length >= PAN_BYTES_MIN && tlv.length <= PAN_BYTES_MAX)
            fn(value, tlv.length, ctx);
    }
}

static void mask(uint8_t *value, size_t len, void *ctx)
{
    memset(value, 0xFF, len);
    (*(int *)ctx)++;
}

int cf_static_data_mask_pan(uint8_t *data, size_t len)
{
    int count = 0;
    if (!data)
        return len ? CF_EINVAL : 0;
    walk(data, len, 1, mask, &count);
    return count;
}

struct unmask {
    const char *pan;
    size_t digits;
    int count;
    bool misfit;
};

static void unmask(uint8_t *value, size_t len, void *ctx)
{
    struct unmask *u = ctx;
    for (size_t i = 0; i < len; i++)
        if (value[i] != 0xFF)
            return; /* not masked: left for the verifier to compare */
    if ((u->digits + 1) / 2 > len) {
        u->misfit = true;
        return;
    }
    for (size_t i = 0; i < 2 * len; i++) {
        unsigned nib = i < u->digits ? (unsigned)(u->pan[i] - '0') : 0xF;
        if (i % 2 == 0)
            value[i / 2] = (uint8_t)(nib << 4);
        else
            value[i / 2] |= (uint8_t)nib;
    }
    u->count++;
}

int cf_static_data_unmask_pan(uint8_t *data, size_t len, const char *pan)
{
    if ((!data && len) || !pan)
        return CF_EINVAL;
    size_t digits = strlen(pan);
    if (digits < 12 || digits > 19 || strspn(pan, "0123456789") != digits)
        return CF_EINVAL;
    struct unmask u = {pan, digits, 0, false};
    if (data)
        walk(data, len, 1, unmask, &u);
    return u.misfit ? CF_EMALFORM : u.count;
}

static bool contains(const uint8_t *data, size_t len, const uint8_t *needle, size_t n)
{
    for (size_t i = 0; n && i + n <= len; i++)
        if (memcmp(data + i, needle, n) == 0)
            return true;
    return false;
}

bool cf_static_data_holds_pan(const uint8_t *data, size_t len, const char *pan)
{
    size_t digits = pan ? strlen(pan) : 0;
    if (!data || digits < 12 || digits > 19)
        return false;
    uint8_t bcd[10], shifted[10];
    size_t whole = digits / 2; /* bytes of two digits each */
    for (size_t i = 0; i < whole; i++)
        bcd[i] = (uint8_t)((pan[2 * i] - '0') << 4 | (pan[2 * i + 1] - '0'));
    /* the same digits one nibble later (a PAN after an odd number of digits) */
    size_t whole_shifted = (digits - 1) / 2;
    for (size_t i = 0; i < whole_shifted; i++)
        shifted[i] = (uint8_t)((pan[2 * i + 1] - '0') << 4 | (pan[2 * i + 2] - '0'));
    return contains(data, len, bcd, whole) || contains(data, len, shifted, whole_shifted) ||
           contains(data, len, (const uint8_t *)pan, digits);
}
