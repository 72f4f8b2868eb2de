/* The payment register as a CSV file for a Russian-locale spreadsheet (Excel,
 * LibreOffice with the default Russian settings): UTF-8 with a BOM (else Excel reads
 * it as Windows-1251), ';' between fields (',' is the decimal separator there), CRLF
 * line ends, amounts in roubles with a comma. Pure code over the register's rows
 * (struct be_register_row, as register.c reads them), so it is unit-tested without a
 * database; also the register id and month parsers and the rows' totals. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "be/register.h"
#include "cf/error.h"
#include "cf/uuid.h"

/* ==== Ids ==== */

bool be_register_month_parse(const char *text, char out[11])
{
    if (strlen(text) != 7 || text[4] != '-')
        return false;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (text[i] < '0' || text[i] > '9'))
            return false;
    int year =
        (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + text[3] - '0';
    int month = (text[5] - '0') * 10 + text[6] - '0';
    if (year < 2000 || month < 1 || month > 12)
        return false;
    memcpy(out, text, 7);
    memcpy(out + 7, "-01", 4);
    return true;
}

bool be_register_id_parse(const char *id, char month[11], char provider[37])
{
    char head[8];
    uint8_t uuid[CF_UUID_LEN];
    if (strlen(id) != BE_REGISTER_ID_MAX || id[7] != '.')
        return false;
    memcpy(head, id, 7);
    head[7] = '\0';
    if (!be_register_month_parse(head, month) || cf_uuid_from_text(id + 8, uuid))
        return false;
    cf_uuid_to_text(uuid, provider);
    return true;
}

/* ==== CSV ==== */

void be_register_roubles(int64_t kopecks, char out[32])
{
    /* NOTE: no thousands separator: a spreadsheet would take "1 234,50" as text. */
    uint64_t abs = kopecks < 0 ? (uint64_t)0 - (uint64_t)kopecks : (uint64_t)kopecks;
    /* by hand, right to left: three of these a line, and snprintf costs more than the
     * rest of the line */
    char digits[32], *p = digits + sizeof digits;
    *--p = '\0';
    *--p = (char)('0' + abs % 10);
    *--p = (char)('0' + abs / 10 % 10);
    *--p = ',';
    abs /= 100;
    do {
        *--p = (char)('0' + abs % 10);
        abs /= 10;
    } while (abs);
    if (kopecks < 0)
        *--p = '-';
    memcpy(out, p, (size_t)(digits + sizeof digits - p));
}

static const char *reason_text(const char *reason)
{
    static const char *const names[][2] = {
        {"cancelled", "Визит отменён"},
        {"attempted", "Попытка визита: услуги не оказаны"},
        {"not_ended", "Визит начат, но не завершён"},
        {"unknown_recipient", "Получатель не из списка организации"},
        {"start_not_confirmed", "Начало не подтверждено картой получателя"},
        {"end_not_confirmed", "Окончание не подтверждено картой получателя"},
        {"proof_failed", "Подпись карты не прошла проверку"},
        {"below_policy", "Подтверждение картой ниже уровня, требуемого регионом"},
        {"disputed", "Визит оспорен"},
        {"must_fix", "Требует исправления"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(reason, names[i][0]) == 0)
            return names[i][1];
    return reason;
}

/* One field, then ';' or the line end. Text from people (names) that starts like a
 * formula is prefixed with an apostrophe, which the spreadsheet shows as text. */
static int put_field(struct be_buf *out, const char *text, bool last)
{
    int rc = 0;
    bool formula = text[0] && strchr("=+-@\t\r", text[0]) != NULL;
    bool quote = formula || strpbrk(text, ";\"\r\n") != NULL;
    if (quote)
        rc = be_buf_puts(out, formula ? "\"'" : "\"");
    /* in runs up to and including each quote, which is then doubled */
    for (const char *p = text; !rc && *p;) {
        const char *mark = strchr(p, '"');
        size_t run = mark ? (size_t)(mark - p) + 1 : strlen(p);
        rc = be_buf_append(out, p, run);
        if (!rc && mark)
            rc = be_buf_append(out, "\"", 1);
        p += run;
    }
    if (!rc && quote)
        rc = be_buf_puts(out, "\"");
    if (!rc)
        rc = be_buf_puts(out, last ? "\r\n" : ";");
    return rc;
}

static const char *text_or_empty(const char *text)
{
    return text ? text : "";
}

void be_register_int_text(int64_t value, char out[24])
{
    char digits[24], *p = digits + sizeof digits;
    uint64_t abs = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    *--p = '\0';
    do {
        *--p = (char)('0' + abs % 10);
        abs /= 10;
    } while (abs);
    if (value < 0)
        *--p = '-';
    memcpy(out, p, (size_t)(digits + sizeof digits - p));
}

/* "2026-11-22" -> "22.11.2026", as a Russian spreadsheet reads dates. */
static void local_date(const char *iso, char out[16])
{
    if (strlen(iso) == 10 && iso[4] == '-' && iso[7] == '-')
        memcpy(out,
               (const char[]){iso[8], iso[9], '.', iso[5], iso[6], '.', iso[0], iso[1], iso[2],
                              iso[3], '\0'},
               11);
    else
        out[0] = '\0';
}

static int put_visit_fields(struct be_buf *out, const struct be_register_row *row)
{
    char date[16];
    local_date(row->local_date, date);
    int rc = put_field(out, date, false);
    if (!rc)
        rc = put_field(out, row->local_time, false);
    if (!rc)
        rc = put_field(out, text_or_empty(row->worker_name), false);
    if (!rc)
        rc = put_field(out, text_or_empty(row->recipient_name), false);
    return rc;
}

static const char *late_text(const struct be_register_row *row)
{
    return row->late ? row->original_month : "";
}

static int put_included(struct be_buf *out, const struct be_register_row *row)
{
    char qty[32], tariff_text[32], amount_text[32];
    be_register_int_text(row->quantity, qty);
    be_register_roubles(row->tariff_kopecks, tariff_text);
    be_register_roubles(row->amount_kopecks, amount_text);
    int rc = put_visit_fields(out, row);
    if (!rc)
        rc = put_field(out, text_or_empty(row->service_code), false);
    if (!rc)
        rc = put_field(out, text_or_empty(row->service_name), false);
    if (!rc)
        rc = put_field(out, qty, false);
    if (!rc)
        rc = put_field(out, tariff_text, false);
    if (!rc)
        rc = put_field(out, amount_text, false);
    if (!rc)
        rc = put_field(out, late_text(row), true);
    return rc;
}

static int put_excluded(struct be_buf *out, const struct be_register_row *row)
{
    int rc = put_visit_fields(out, row);
    if (!rc)
        rc = put_field(out, reason_text(text_or_empty(row->reason)), false);
    if (!rc)
        rc = put_field(out, late_text(row), true);
    return rc;
}

int be_register_totals_of(const struct be_register_row *rows, size_t n,
                          struct be_register_totals *out)
{
    const char *last_visit = NULL;
    *out = (struct be_register_totals){0};
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].included) {
            out->excluded_count++;
            continue;
        }
        /* a visit's lines are next to each other (ordered by visit, then line) */
        if (!last_visit || !rows[i].visit_id || strcmp(last_visit, rows[i].visit_id) != 0)
            out->included_count++;
        last_visit = rows[i].visit_id;
        if (__builtin_add_overflow(out->total_kopecks, rows[i].amount_kopecks, &out->total_kopecks))
            return CF_ETOOBIG;
    }
    return 0;
}

int be_register_csv(const struct be_register_totals *totals, const struct be_register_row *rows,
                    size_t n, struct be_buf *out)
{
    int rc = be_buf_puts(out, "\xEF\xBB\xBF"
                              "Дата;Время;Сотрудник;Получатель;Код услуги;Услуга;Количество;"
                              "Тариф, руб.;Сумма, руб.;Поздний визит за месяц\r\n");
    for (size_t i = 0; !rc && i < n; i++)
        if (rows[i].included)
            rc = put_included(out, &rows[i]);
    char total_text[32];
    be_register_roubles(totals->total_kopecks, total_text);
    if (!rc)
        rc = be_buf_printf(out, "Итого;визитов: %" PRId64 ";;;;;;;%s;\r\n\r\n",
                           totals->included_count, total_text);
    if (!rc)
        rc = be_buf_puts(out, "Исключённые визиты\r\n"
                              "Дата;Время;Сотрудник;Получатель;Причина;Поздний визит за месяц\r\n");
    for (size_t i = 0; !rc && i < n; i++)
        if (!rows[i].included)
            rc = put_excluded(out, &rows[i]);
    return rc;
}
