/* How a card read is shown: stable error names and Russian messages for the
 * worker, the one-line JSON object of `carefact-agent read-card --json`, and the
 * plain text without --json. Pure functions over struct ag_card_read (ag/reader.h):
 * there is no PAN here to show, only the token, scheme, last four digits and expiry. */
#ifndef AG_CARD_OUTPUT_H
#define AG_CARD_OUTPUT_H

#include <stddef.h>

#include "ag/reader.h"

/* Stable machine name of any code ag_reader_* returns: "no_card", "card_removed",
 * "reader_not_found", "reader_not_responding", and cf_error_name's for the CF codes
 * ("card_locked", "unknown_card", "not_payment_card", "card_communication",
 * "no_card_number", ...). Never NULL. */
const char *ag_read_error_name(int code);

/* One Russian sentence for the worker: what happened and what to do. Never NULL. */
const char *ag_read_error_message(int code);

/* "YYYY-MM", or "" when the card gave no valid expiry. out has room for 8 bytes. */
void ag_card_expiry_text(const struct ag_card_read *read, char out[8]);

/* {"method":"emv","scheme":"visa","last4":"9999","expiry":"2015-09","token":"..."}
 * (for a UID card scheme, last4 and expiry are null) into out, NUL-terminated,
 * no newline. Returns 0, CF_ENOSPACE or CF_ENOMEM. */
int ag_card_read_json(const struct ag_card_read *read, char *out, size_t out_size);

/* {"error":"card_locked","message":"..."} likewise. */
int ag_read_error_json(int code, char *out, size_t out_size);

/* Lines for the worker, in Russian, ending with a newline. Returns 0 or CF_ENOSPACE. */
int ag_card_read_text(const struct ag_card_read *read, char *out, size_t out_size);

#endif
