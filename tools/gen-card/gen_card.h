/* Synthetic EMV contactless cards for tests and the demo (carefact-gen-card).
 *
 * A card is built from options (scheme, record layout, seed, optional PAN and expiry)
 * into a model that is plain data: the PPSE directory entry, the application's FCI,
 * the GET PROCESSING OPTIONS answer and the records, each a list of data objects
 * (tag + value). The AFL is derived from the records, so a later step can add records
 * or objects (offline data authentication: issuer and ICC public key certificates,
 * a signed fDDA answer) without touching the rendering. The model is then rendered as
 * a transcript in the format of tests/data/emv/README.md, which tools/pn532-sim and
 * cf_transcript_transceive replay.
 *
 * Determinism: the same options give the same bytes, on every machine (the random
 * values come from splitmix64 over the seed, never from the clock or the system).
 * The PAN is Luhn-valid, 16..19 digits, and starts with an IIN of the scheme. */
#ifndef GC_GEN_CARD_H
#define GC_GEN_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf/error.h"

enum gc_scheme {
    GC_SCHEME_MIR,
    GC_SCHEME_VISA,
    GC_SCHEME_MASTERCARD,
    GC_SCHEME_MAESTRO,
    GC_SCHEME_UNIONPAY,
    GC_SCHEME_COUNT,
};

/* Where the card keeps the PAN and its expiry. */
enum gc_pan_place {
    GC_PAN_RECORD, /* 5A + 5F24 in one of the records */
    GC_PAN_TRACK2, /* only track 2 equivalent data 57, in the GPO answer (format 2) */
};

struct gc_layout {
    enum gc_pan_place pan_place;
    int gpo_format; /* 1: template 80 (AIP || AFL); 2: template 77 with data objects */
    bool pdol; /* the FCI asks for a PDOL (then the GPO command varies per terminal) */
    int records; /* records in the AFL, 1..GC_LAYOUT_RECORDS_MAX */
    bool long_lengths; /* every template length in long form (81 xx), as some cards do */
};

#define GC_LAYOUT_RECORDS_MAX 8

/* The default layout: "pan=record,gpo=2,pdol=yes,records=2,lengths=short". */
void gc_layout_default(struct gc_layout *layout);

/* Parse a comma-separated list of key=value items over the default layout:
 * pan=record|track2, gpo=1|2, pdol=yes|no, records=1..8, lengths=short|long.
 * text is borrowed. Returns 0, or CF_EINVAL with *detail (may be NULL) naming the
 * item; pan=track2 with gpo=1 is refused (format 1 holds only AIP and AFL). */
int gc_layout_parse(const char *text, struct gc_layout *layout, struct cf_error_detail *detail);

/* The layout as gc_layout_parse reads it back, e.g. "pan=record,gpo=2,...".
 * Writes at most size bytes, always NUL-terminated (size > 0). */
void gc_layout_format(const struct gc_layout *layout, char *out, size_t size);

/* "mir", "visa", "mastercard", "maestro", "unionpay" (the agent's scheme names).
 * gc_scheme_parse returns 0 or CF_EINVAL; gc_scheme_name never returns NULL. */
int gc_scheme_parse(const char *name, enum gc_scheme *scheme);
const char *gc_scheme_name(enum gc_scheme scheme);

/* ==== The card model ==== */

#define GC_VALUE_MAX 248 /* room for a 1984-bit RSA certificate (ODA, later) */
#define GC_OBJECTS_MAX 16
#define GC_RECORDS_MAX 16
#define GC_PAN_MAX 19

/* One primitive data object. */
struct gc_object {
    uint32_t tag; /* 1..3 tag bytes big-endian, e.g. 0x5A, 0x5F24, 0x9F38 */
    size_t len;
    uint8_t value[GC_VALUE_MAX];
};

struct gc_object_list {
    size_t count;
    struct gc_object items[GC_OBJECTS_MAX];
};

/* One record of a short file, answered to READ RECORD inside template 70. */
struct gc_record {
    uint8_t sfi; /* 1..30 */
    uint8_t number; /* 1..254; a file's records are numbered without gaps */
    bool signed_by_oda; /* counted in the AFL's fourth byte (none today) */
    struct gc_object_list objects;
};

struct gc_card {
    /* What a correct reader extracts (the test oracle). */
    enum gc_scheme scheme;
    char pan[GC_PAN_MAX + 1];
    int expiry_year; /* e.g. 2029 */
    int expiry_month; /* 1..12 */
    struct gc_layout layout;
    uint64_t seed;

    /* The card's answers, as data. */
    uint8_t aid[16];
    size_t aid_len;
    struct gc_object_list ppse_entry; /* inside 61 of the PPSE directory: 4F, 50, 87 */
    struct gc_object_list fci; /* inside A5 of the application's FCI: 50, 87, 9F38... */
    uint8_t aip[2]; /* application interchange profile */
    struct gc_object_list gpo; /* format 2: inside 77 (82 and 94 are put in by
                                  gc_card_finish); format 1 ignores it */
    size_t record_count;
    struct gc_record records[GC_RECORDS_MAX];
    /* "# live: ..." header line for tools/pn532-sim when the card signs (gc_oda.h);
     * "" for a card that only replays. */
    char live[1024];
};

struct gc_options {
    enum gc_scheme scheme;
    struct gc_layout layout;
    uint64_t seed;
    const char *pan; /* borrowed; NULL: made from the seed */
    int expiry_year, expiry_month; /* 0: made from the seed */
};

/* Build the card of the options into *card (the caller's storage, about 70 KiB:
 * allocate it). Returns 0, or CF_EINVAL with *detail (may be NULL) saying which
 * option is wrong: a PAN that is not 16..19 digits, fails the Luhn check or does not
 * start with an IIN of the scheme; an expiry outside 2000-01..2099-12. */
int gc_card_build(const struct gc_options *options, struct gc_card *card,
                  struct cf_error_detail *detail);

/* Put AIP (82) and the AFL (94) derived from the records into the GPO answer's
 * objects (format 2), replacing earlier ones. gc_card_build calls it; call it again
 * after changing the records. Returns 0 or CF_ETOOBIG (the AFL or a list is full). */
int gc_card_finish(struct gc_card *card);

/* Render the card as a transcript: comments naming the generator, the command line
 * (command_line, borrowed, may be NULL) and what a reader must extract, then
 * SELECT PPSE, SELECT the application, GPO and one READ RECORD per record. The GPO
 * step has an empty "send:" when the card has a PDOL (its bytes depend on the
 * terminal's date and unpredictable number), the exact command otherwise. Writes at
 * most size bytes into out (NUL-terminated) and the length without the NUL into
 * *len. Returns 0, CF_ENOSPACE (out too small), CF_ETOOBIG (a template or answer
 * over the 256 data bytes an APDU carries) or CF_EINVAL. */
int gc_card_render(const struct gc_card *card, const char *command_line, char *out, size_t size,
                   size_t *len);

/* The bytes of record r's objects as they sit inside its template 70 (what offline
 * data authentication hashes for SFI 1..10). Returns 0, CF_EINVAL or CF_ENOSPACE. */
int gc_record_content(const struct gc_card *card, size_t r, uint8_t *out, size_t size, size_t *len);

/* Luhn check of a string of digits (true when valid). */
bool gc_luhn_valid(const char *digits);

#endif
