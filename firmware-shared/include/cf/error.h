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

    /* Agent: the local store (agent/include/ag/store.h). */
    CF_ESTORE_FULL = -60, /* no space left on the device for the store */
    CF_ESTORE_DAMAGED = -61, /* the store file is damaged (not a database, failed checks) */
    CF_ESTORE_FOREIGN = -62, /* the file is a database, but not a carefact agent store */
    CF_ESTORE_VERSION = -63, /* the store was made by a newer agent */
    CF_ESTORE_IO = -64, /* the store cannot be opened, read or written */
    CF_ESTORE_BUSY = -65, /* another process holds the store for too long */
    CF_ENOT_ENROLLED = -66, /* the terminal has no identity yet (enrol first) */
    CF_EENROLLED = -67, /* the terminal is enrolled already */

    /* Agent: the visit workflow (agent/include/ag/visit.h). */
    CF_EUNKNOWN_CARD = -70, /* the card is bound to no recipient this terminal knows */
    CF_EVISIT_OPEN = -71, /* a visit is in progress: end or cancel it first */
    CF_ENO_VISIT = -72, /* no such visit (or none in progress) */
    CF_EVISIT_STATE = -73, /* the visit is not in a state that allows this step */
    CF_ESERVICE_NOT_ALLOWED = -74, /* the certificate does not allow the service (or volume) */
    CF_EUNKNOWN_RECIPIENT = -75, /* no such recipient in the terminal's reference data */
    CF_EUNKNOWN_PLAN = -76, /* no such planned visit */
    CF_ECARD_OTHER = -77, /* the card belongs to another recipient than the one chosen */
    CF_ECARD_AMBIGUOUS = -78, /* the card acts for several recipients: choose one */

    /* Agent: sync with the backend (agent/include/ag/sync.h). */
    CF_ENETWORK = -80, /* no connection, or no answer in time */
    CF_ETLS = -81, /* the server's certificate is not from the pinned CA */
    CF_EDEVICE_REFUSED = -82, /* 401/403/404: device revoked or unknown; not retried */
    CF_ECONFLICT =
        -83, /* 409: different events held, or a visit of another terminal; not retried */
    CF_EBAD_ANSWER = -84, /* an answer that is not the protocol's (captive portal...) */
    CF_ESERVER = -85, /* the server is unavailable (5xx): retried with back-off */
    CF_EREJECTED = -86, /* 400/413/422: the server refuses the data; not retried */
    CF_EBACKOFF = -87, /* automatic sync not due yet (back-off) or held for a person */
    CF_EPRUNED = -88, /* the server needs events this device no longer keeps */
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
