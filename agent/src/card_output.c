/* Rendering of card reads and their errors (see ag/card_output.h). JSON goes
 * through cJSON so messages are escaped correctly; the worker's texts are Russian
 * and say what to do next, not what went wrong inside. */
#include "ag/card_output.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ag/messages.h"
#include "cf/error.h"

/* The codes a card read ends with; their sentences are in the one table
 * (ag/messages.h), their names cf_error_name's. */
static const int read_errors[] = {
    CF_ENO_CARD,      CF_ECARD_REMOVED, CF_EREADER_NOT_FOUND, CF_EREADER_STOPPED, CF_ECARD_LOCKED,
    CF_ECARD_UNKNOWN, CF_ENOT_PAYMENT,  CF_ENO_PAN,           CF_ECOMM,
};

static bool is_read_error(int code)
{
    for (size_t i = 0; i < sizeof read_errors / sizeof read_errors[0]; i++)
        if (read_errors[i] == code)
            return true;
    return false;
}

const char *ag_read_error_name(int code)
{
    return cf_error_name(code);
}

const char *ag_read_error_message(int code)
{
    return is_read_error(code) ? ag_message(code) : AG_MSG_READ_FAILED;
}

void ag_card_expiry_text(const struct ag_card_read *read, char out[8])
{
    out[0] = '\0';
    if (read->expiry_year >= 2000 && read->expiry_year <= 2099 && read->expiry_month >= 1 &&
        read->expiry_month <= 12)
        snprintf(out, 8, "%04d-%02d", read->expiry_year, read->expiry_month);
}

/* Print obj unformatted into out and free it. */
static int print_json(cJSON *obj, char *out, size_t out_size)
{
    if (!obj)
        return CF_ENOMEM;
    int rc =
        cJSON_PrintPreallocated(obj, out, (int)(out_size > 0x7fffffff ? 0x7fffffff : out_size), 0)
            ? 0
            : CF_ENOSPACE;
    cJSON_Delete(obj);
    return rc;
}

/* cJSON has no "add if" helper: a string, or null when text is empty. */
static cJSON *string_or_null(const char *text)
{
    return text[0] ? cJSON_CreateString(text) : cJSON_CreateNull();
}

int ag_card_read_json(const struct ag_card_read *read, char *out, size_t out_size)
{
    char expiry[8];
    ag_card_expiry_text(read, expiry);
    bool emv = read->card.method == CF_CARD_EMV;
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return CF_ENOMEM;
    if (!cJSON_AddStringToObject(obj, "method", emv ? "emv" : "uid") ||
        !cJSON_AddItemToObject(obj, "scheme", string_or_null(emv ? read->card.scheme : "")) ||
        !cJSON_AddItemToObject(obj, "last4", string_or_null(emv ? read->card.last4 : "")) ||
        !cJSON_AddItemToObject(obj, "expiry", string_or_null(expiry)) ||
        !cJSON_AddStringToObject(obj, "token", read->card.token)) {
        cJSON_Delete(obj);
        return CF_ENOMEM;
    }
    return print_json(obj, out, out_size);
}

int ag_read_error_json(int code, char *out, size_t out_size)
{
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return CF_ENOMEM;
    if (!cJSON_AddStringToObject(obj, "error", ag_read_error_name(code)) ||
        !cJSON_AddStringToObject(obj, "message", ag_read_error_message(code))) {
        cJSON_Delete(obj);
        return CF_ENOMEM;
    }
    return print_json(obj, out, out_size);
}

/* How the scheme is named to a Russian-speaking worker. */
static const char *scheme_display(const char *scheme)
{
    static const struct {
        const char *name, *display;
    } names[] = {
        {"mir", AG_MSG_CARD_SCHEME_MIR},
        {"visa", "Visa"},
        {"mastercard", "Mastercard"},
        {"maestro", "Maestro"},
        {"unionpay", "UnionPay"},
        {"amex", "American Express"},
        {"jcb", "JCB"},
        {"interac", "Interac"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(scheme, names[i].name) == 0)
            return names[i].display;
    return AG_MSG_CARD_BANK;
}

int ag_card_read_text(const struct ag_card_read *read, char *out, size_t out_size)
{
    int n;
    if (read->card.method == CF_CARD_EMV) {
        char validity[64] = "";
        if (read->expiry_month)
            snprintf(validity, sizeof validity, AG_MSG_CARD_VALID_UNTIL, read->expiry_month,
                     read->expiry_year);
        n = snprintf(out, out_size, AG_MSG_CARD_READ_EMV, scheme_display(read->card.scheme),
                     read->card.last4, validity, read->card.token);
    } else {
        n = snprintf(out, out_size, AG_MSG_CARD_READ_UID, read->card.token);
    }
    return n < 0 || (size_t)n >= out_size ? CF_ENOSPACE : 0;
}
