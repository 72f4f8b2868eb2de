/* BER-TLV as EMV uses it: multi-byte tags (first byte low bits 1F, continuation
 * bit 80), constructed values (bit 20 of the first tag byte), short and long-form
 * lengths (81 xx, 82 xx xx). Strict: a length that runs past the buffer, an
 * indefinite length (80), more than 4 tag bytes or a long form over 3 bytes is an
 * error, never a read past the end. No allocation: results point into the input. */
#ifndef CF_TLV_H
#define CF_TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf/error.h"

#define CF_TLV_MAX_DEPTH 8

struct cf_tlv {
    uint32_t tag; /* tag bytes big-endian, e.g. 0x9F38, 0xBF0C, 0x5A */
    bool constructed;
    const uint8_t *value; /* points into the parsed buffer (borrowed) */
    size_t length;
};

/* Parse one TLV at data[*offset]; on success advances *offset past it.
 * EMV pads with 00 / FF bytes between objects: the caller skips those (see
 * cf_tlv_next). Returns 0, CF_ETRUNC or CF_EMALFORM. */
int cf_tlv_parse_one(const uint8_t *data, size_t len, size_t *offset, struct cf_tlv *out);

/* Iterate the TLVs of one level, skipping 00/FF padding. Returns 1 when *out was
 * filled, 0 at the end, or a negative CF_E code. */
int cf_tlv_next(const uint8_t *data, size_t len, size_t *offset, struct cf_tlv *out);

/* Depth-first search for tag inside data (descending into constructed values, at
 * most CF_TLV_MAX_DEPTH levels; the top level is level 1). Returns 1 found (the
 * first match in document order), 0 not found, or a negative code when the data is
 * malformed on the way (CF_ETRUNC / CF_EMALFORM; nesting deeper than the limit is
 * CF_EMALFORM). 00/FF padding between objects is skipped at every level. */
int cf_tlv_find(const uint8_t *data, size_t len, uint32_t tag, struct cf_tlv *out);

/* Parse a DOL (PDOL, CDOL: tag + length pairs with no values). Calls fn for each
 * entry in order; returns 0, CF_ETRUNC / CF_EMALFORM (fn has then been called for
 * the entries before the bad one), or the first nonzero value fn returned (which
 * stops the walk). */
typedef int (*cf_dol_entry_fn)(void *ctx, uint32_t tag, size_t length);
int cf_dol_parse(const uint8_t *dol, size_t len, cf_dol_entry_fn fn, void *ctx);

#endif
