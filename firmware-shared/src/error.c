/* Names and descriptions for the shared CF_E... codes (see cf/error.h). */
#include "cf/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct error_entry {
    int code;
    const char *name;
    const char *text;
};

static const struct error_entry errors[] = {
    {CF_OK, "ok", "success"},
    {CF_ENOMEM, "out_of_memory", "out of memory"},
    {CF_EINVAL, "invalid_argument", "invalid argument"},
    {CF_ETRUNC, "truncated", "input is truncated"},
    {CF_EMALFORM, "malformed", "input is malformed"},
    {CF_ETOOBIG, "too_big", "input exceeds the size limit"},
    {CF_ENOSPACE, "no_space", "output buffer too small"},
    {CF_ECARD_LOCKED, "card_locked", "the card or its application is blocked"},
    {CF_ECARD_UNKNOWN, "unknown_card", "the card offers no known application"},
    {CF_ENOT_PAYMENT, "not_payment_card", "the card is not a payment card"},
    {CF_ECOMM, "card_communication", "communication with the card failed"},
    {CF_ENO_PAN, "no_card_number", "the card application holds no card number"},
    {CF_ENO_CARD, "no_card", "no card was presented"},
    {CF_ECARD_REMOVED, "card_removed", "the card was taken away during the read"},
    {CF_EREADER_NOT_FOUND, "reader_not_found", "the card reader was not found"},
    {CF_EREADER_STOPPED, "reader_not_responding", "the card reader stopped answering"},
    {CF_EJSON, "malformed_json", "the body is not valid JSON"},
    {CF_EFIELD_MISSING, "field_missing", "a required field is missing"},
    {CF_EFIELD_TYPE, "field_type", "a field has the wrong type"},
    {CF_EFIELD_RANGE, "field_range", "a field value is out of range"},
    {CF_EKIND, "unknown_kind", "unknown event kind"},
    {CF_ECHAIN, "chain_broken", "the event does not continue the device's chain"},
    {CF_ESEAL, "bad_seal", "the batch seal does not verify"},
    {CF_EDIGEST, "digest_mismatch", "the event digest does not match its content"},
    {CF_ECRYPTO, "crypto_failure", "a cryptographic operation failed"},
    {CF_EFIELD_UNKNOWN, "field_unknown", "the object has a field this version does not know"},
    {CF_ESTORE_FULL, "store_full", "no space left on the device for the store"},
    {CF_ESTORE_DAMAGED, "store_damaged", "the store file is damaged"},
    {CF_ESTORE_FOREIGN, "store_foreign", "the file is not a carefact agent store"},
    {CF_ESTORE_VERSION, "store_version", "the store was made by a newer agent"},
    {CF_ESTORE_IO, "store_io", "the store cannot be opened, read or written"},
    {CF_ESTORE_BUSY, "store_busy", "another process holds the store"},
    {CF_ENOT_ENROLLED, "not_enrolled", "the terminal is not enrolled"},
    {CF_EENROLLED, "already_enrolled", "the terminal is already enrolled"},
    {CF_EUNKNOWN_CARD, "card_unrecognized", "the card is bound to no known recipient"},
    {CF_EVISIT_OPEN, "visit_in_progress", "a visit is in progress"},
    {CF_ENO_VISIT, "no_visit", "no such visit"},
    {CF_EVISIT_STATE, "visit_state", "the visit does not allow this step"},
    {CF_ESERVICE_NOT_ALLOWED, "service_not_allowed", "the certificate does not allow the service"},
    {CF_EUNKNOWN_RECIPIENT, "unknown_recipient", "no such recipient"},
    {CF_EUNKNOWN_PLAN, "unknown_plan", "no such planned visit"},
    {CF_ECARD_OTHER, "card_other_recipient", "the card belongs to another recipient"},
    {CF_ECARD_AMBIGUOUS, "card_ambiguous", "the card acts for several recipients"},
    {CF_ENETWORK, "network", "the server could not be reached"},
    {CF_ETLS, "tls", "the server's certificate is not from the pinned CA"},
    {CF_EDEVICE_REFUSED, "device_refused", "the server refuses this device"},
    {CF_ECONFLICT, "conflict",
     "the server refused the events (different ones held, or a visit of another terminal)"},
    {CF_EBAD_ANSWER, "bad_answer", "the answer is not the protocol's"},
    {CF_ESERVER, "server_unavailable", "the server is unavailable"},
    {CF_EREJECTED, "rejected", "the server refuses the data"},
    {CF_EBACKOFF, "backoff", "automatic sync is not due yet"},
    {CF_EPRUNED, "events_pruned", "the server needs events the device no longer keeps"},
};

static const struct error_entry *find_entry(int code)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].code == code)
            return &errors[i];
    return NULL;
}

const char *cf_strerror(int code)
{
    const struct error_entry *e = find_entry(code);
    return e ? e->text : "unknown error";
}

const char *cf_error_name(int code)
{
    const struct error_entry *e = find_entry(code);
    return e ? e->name : "unknown_error";
}

int cf_error_set(struct cf_error_detail *detail, int code, const char *field, const char *fmt, ...)
{
    if (!detail)
        return code;
    detail->code = code;
    snprintf(detail->field, sizeof detail->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail->message, sizeof detail->message, fmt, ap);
    va_end(ap);
    return code;
}
