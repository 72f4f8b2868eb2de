/* Rendering of card reads and their errors (see ag/card_output.h). JSON goes
 * through cJSON so messages are escaped correctly; the worker's texts are Russian
 * and say what to do next, not what went wrong inside. */
#include "ag/card_output.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cf/error.h"

struct read_error {
    int code;
    const char *name; /* NULL: cf_error_name's */
    const char *message;
};

static const struct read_error read_errors[] = {
    {CF_ENO_CARD, NULL, "Карта не приложена. Приложите карту к считывателю и повторите."},
    {CF_ECARD_REMOVED, NULL,
     "Карту убрали до конца чтения. Приложите карту снова и держите её, пока не появится "
     "результат."},
    {CF_EREADER_NOT_FOUND, NULL,
     "Считыватель не найден. Проверьте, что он подключён, и повторите."},
    {CF_EREADER_STOPPED, NULL, "Считыватель перестал отвечать. Переподключите его и повторите."},
    {CF_ECARD_LOCKED, NULL, "Карта заблокирована. Попросите получателя приложить другую карту."},
    {CF_ECARD_UNKNOWN, NULL,
     "Карта не распознана: на ней нет платёжного приложения. Приложите банковскую карту "
     "получателя."},
    {CF_ENOT_PAYMENT, NULL, "Это не банковская карта. Приложите банковскую карту получателя."},
    {CF_ENO_PAN, NULL, "С карты не удалось прочитать номер. Приложите другую карту получателя."},
    {CF_ECOMM, NULL, "Карта ответила с ошибкой. Приложите карту снова."},
};

static const struct read_error *find_error(int code)
{
    for (size_t i = 0; i < sizeof read_errors / sizeof read_errors[0]; i++)
        if (read_errors[i].code == code)
            return &read_errors[i];
    return NULL;
}

const char *ag_read_error_name(int code)
{
    const struct read_error *e = find_error(code);
    return e && e->name ? e->name : cf_error_name(code);
}

const char *ag_read_error_message(int code)
{
    const struct read_error *e = find_error(code);
    return e ? e->message : "Не удалось прочитать карту. Повторите попытку.";
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
        {"mir", "Мир"},         {"visa", "Visa"},         {"mastercard", "Mastercard"},
        {"maestro", "Maestro"}, {"unionpay", "UnionPay"}, {"amex", "American Express"},
        {"jcb", "JCB"},         {"interac", "Interac"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(scheme, names[i].name) == 0)
            return names[i].display;
    return "банковская карта";
}

int ag_card_read_text(const struct ag_card_read *read, char *out, size_t out_size)
{
    int n;
    if (read->card.method == CF_CARD_EMV) {
        char validity[64] = "";
        if (read->expiry_month)
            snprintf(validity, sizeof validity, ", действует до %02d/%04d", read->expiry_month,
                     read->expiry_year);
        n = snprintf(out, out_size, "Карта прочитана: %s •••• %s%s.\nТокен карты: %s\n",
                     scheme_display(read->card.scheme), read->card.last4, validity,
                     read->card.token);
    } else {
        n = snprintf(out, out_size,
                     "Карта прочитана по номеру чипа (не банковская карта, подтверждение "
                     "слабее).\nТокен карты: %s\n",
                     read->card.token);
    }
    return n < 0 || (size_t)n >= out_size ? CF_ENOSPACE : 0;
}
