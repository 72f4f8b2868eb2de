/* Error codes shared by every carefact component.
 *
 * A function that can fail returns int: 0 on success or one negative CF_E... code
 * from this single enum (libuv style). Components add their own codes here rather
 * than inventing a second numbering, so a code means the same thing everywhere. */
#ifndef CF_ERROR_H
#define CF_ERROR_H

#include <stddef.h>

enum cf_error {
    CF_OK = 0,
    CF_ENOMEM = -1, /* allocation failed */
    CF_EINVAL = -2, /* bad argument from the caller (programmer error) */
    CF_ETRUNC = -3, /* input ends before the structure it announces */
    CF_EMALFORM = -4, /* input is not well-formed (bad TLV, bad hex, ...) */
    CF_ETOOBIG = -5, /* input exceeds a hard cap */
    CF_ENOSPACE = -6, /* caller's output buffer is too small */

    /* Card reading (EMV and UID). */
    CF_ECARD_LOCKED = -20, /* card or application blocked (69 85 / 6A 81 / 62 83) */
    CF_ECARD_UNKNOWN = -21, /* card answers, but offers no application we know */
    CF_ENOT_PAYMENT = -22, /* an application was selected but it is not EMV payment */
    CF_ECOMM = -23, /* transceive failed or the card answered nonsense */
    CF_ENO_PAN = -24, /* payment application read, but no PAN found */
    CF_ENO_CARD = -25, /* no card came within the wait */
    CF_ECARD_REMOVED = -26, /* the card left the field before the read finished */
    CF_EREADER_NOT_FOUND = -27, /* the reader cannot be opened or never answered */
    CF_EREADER_STOPPED = -28, /* the reader stopped answering, or answers garbled */

    /* Event model, JSON and signatures. */
    CF_EJSON = -40, /* body is not valid JSON */
    CF_EFIELD_MISSING = -41,
    CF_EFIELD_TYPE = -42,
    CF_EFIELD_RANGE = -43, /* value out of range or too long */
    CF_EKIND = -44, /* unknown event kind */
    CF_ECHAIN = -45, /* prev digest / seq does not continue the chain */
    CF_ESEAL = -46, /* batch seal signature does not verify */
    CF_EDIGEST = -47, /* digest given by the device differs from the recomputed one */
    CF_ECRYPTO = -48, /* OpenSSL failed for a reason that is not bad input */
    CF_EFIELD_UNKNOWN = -49, /* a field this version does not know */
};

/* Short English description of a CF_E... code; never NULL. */
const char *cf_strerror(int code);

/* Stable machine-readable name of a code ("card_locked", "field_missing", ...),
 * used in agent JSON output and API problem types; never NULL. */
const char *cf_error_name(int code);

/* Detail of a validation failure: which field, and a sentence a person can act on.
 * Decoders fill it when they return an error; callers own the storage. */
struct cf_error_detail {
    int code; /* the CF_E... code also returned */
    char field[96]; /* JSON-pointer-like path, e.g. "events[3].rating"; "" if none */
    char message[256]; /* English sentence naming the field and what is expected */
};

/* Fill *detail (may be NULL: then nothing happens) and return code. */
int cf_error_set(struct cf_error_detail *detail, int code, const char *field, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
