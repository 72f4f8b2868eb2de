/* Fuzz target: the payment register's parsers and writers. The input is tried as a
 * register id from the URL path ("<YYYY-MM>.<uuid>") and as a month ("YYYY-MM"): an
 * accepted one must come out canonical. Then it is cut into register rows ('\n' between
 * rows, '|' between fields: flags, local date, local time, worker, recipient, service
 * code, service name, reason, "quantity tariff amount") with any bytes in the names, and
 * both writers run over them. The CSV must start with the BOM and end with CRLF, have
 * 9 unquoted separators on every line of the included part (header, lines, «Итого») and
 * 5 in the excluded part, and no field that a spreadsheet would run as a formula; the
 * document must be JSON with as many included and excluded entries as there were rows.
 * Either may only fail with CF_ETOOBIG (the cap). */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "be/register.h"
#include "cf/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ROWS 64
#define ROW_FIELDS 9

static void check_canonical(const char month[11], const char provider[37])
{
    if (strlen(month) != 10 || memcmp(month + 7, "-01", 3) != 0)
        abort();
    for (int i = 0; i < 4; i++)
        if (!isdigit((unsigned char)month[i]))
            abort();
    if (provider && strlen(provider) != 36)
        abort();
    for (size_t i = 0; provider && i < 36; i++)
        if (isupper((unsigned char)provider[i]))
            abort();
}

/* Cut text (modified in place) at sep into at most max pieces; the last keeps the rest. */
static size_t split(char *text, char sep, char **pieces, size_t max)
{
    size_t n = 0;
    while (n < max) {
        pieces[n++] = text;
        char *end = strchr(text, sep);
        if (!end || n == max)
            break;
        *end = '\0';
        text = end + 1;
    }
    return n;
}

static void copy_field(char *out, size_t size, const char *text)
{
    snprintf(out, size, "%s", text);
}

/* One row from "flags|date|time|worker|recipient|code|name|reason|numbers": flags bit 0
 * included, bit 1 late, bit 2 null names. */
static void make_row(char *text, struct be_register_row *row)
{
    char *f[ROW_FIELDS] = {0};
    size_t n = split(text, '|', f, ROW_FIELDS);
    for (size_t i = n; i < ROW_FIELDS; i++)
        f[i] = "";
    unsigned flags = (unsigned char)f[0][0];
    memset(row, 0, sizeof *row);
    row->included = flags & 1;
    row->late = flags & 2;
    row->visit_id = f[0];
    copy_field(row->local_date, sizeof row->local_date, f[1]);
    copy_field(row->local_time, sizeof row->local_time, f[2]);
    copy_field(row->visit_at, sizeof row->visit_at, f[1]);
    copy_field(row->original_month, sizeof row->original_month, f[2]);
    row->worker_name = flags & 4 ? NULL : f[3];
    row->recipient_name = flags & 4 ? NULL : f[4];
    row->worker_id = row->recipient_id = f[0];
    row->service_code = f[5];
    row->service_name = flags & 4 ? NULL : f[6];
    row->reason = f[7];
    char *end = f[8];
    row->quantity = strtoll(end, &end, 10);
    row->tariff_kopecks = strtoll(end, &end, 10);
    row->amount_kopecks = strtoll(end, &end, 10);
}

/* A negative amount the writer put itself ("-5,00" in «Итого»): a number, not a formula. */
static bool is_number(const char *field, size_t len)
{
    size_t i = 1;
    while (i < len && ((field[i] >= '0' && field[i] <= '9') || field[i] == ','))
        i++;
    return field[0] == '-' && i > 1 && i < len && (field[i] == ';' || field[i] == '\r');
}

/* The CSV's lines as a spreadsheet cuts them (CRLF outside quotes), checked. */
static void check_csv(const char *csv, size_t len)
{
    if (len < 5 || memcmp(csv, "\xEF\xBB\xBF", 3) != 0 || memcmp(csv + len - 2, "\r\n", 2) != 0)
        abort();
    int part = 0; /* 0 included, 1 the empty line and title, 2 excluded */
    size_t seps = 0, field_start = 3;
    bool quoted = false;
    for (size_t i = 3; i < len; i++) {
        char c = csv[i];
        if (i == field_start && !quoted) {
            if (c == '"') {
                quoted = true;
                /* a quoted field that starts like a formula is guarded by an apostrophe */
                if (i + 1 < len && strchr("=+-@\t\r", csv[i + 1]) && csv[i + 1] != '\0')
                    abort();
                continue;
            }
            if (strchr("=+-@\t", c) && c != '\0' && !is_number(csv + i, len - i))
                abort();
        }
        if (quoted) {
            if (c == '"' && i + 1 < len && csv[i + 1] == '"')
                i++;
            else if (c == '"')
                quoted = false;
            continue;
        }
        if (c == ';') {
            seps++;
            field_start = i + 1;
        } else if (c == '\r' && i + 1 < len && csv[i + 1] == '\n') {
            if (part == 0 && seps == 0)
                part = 1; /* the empty line after «Итого» */
            else if (part == 1 && seps == 5)
                part = 2; /* the excluded header */
            if ((part == 0 && seps != 9) || (part == 1 && seps != 0) || (part == 2 && seps != 5))
                abort();
            seps = 0;
            field_start = i + 2;
            i++;
        } else if (c == '\n' || c == '\r') {
            abort(); /* a bare line break outside quotes */
        }
    }
    if (quoted || part != 2)
        abort();
}

static void check_document(const char *text, size_t included, size_t excluded)
{
    cJSON *doc = cJSON_Parse(text);
    if (!doc ||
        (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "included")) != included ||
        (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "excluded")) != excluded)
        abort();
    cJSON_Delete(doc);
}

static void fuzz_writers(char *text)
{
    char *lines[MAX_ROWS];
    struct be_register_row rows[MAX_ROWS];
    size_t n = split(text, '\n', lines, MAX_ROWS), included = 0;
    for (size_t i = 0; i < n; i++) {
        make_row(lines[i], &rows[i]);
        included += rows[i].included;
    }
    struct be_register_totals totals;
    if (be_register_totals_of(rows, n, &totals)) /* amounts that overflow: nothing to write */
        return;
    if (totals.excluded_count != (int64_t)(n - included))
        abort();

    struct be_buf out;
    be_buf_init(&out, 1 << 20);
    int rc = be_register_csv(&totals, rows, n, &out);
    if (rc == 0)
        check_csv(out.data, out.len);
    else if (rc != CF_ETOOBIG && rc != CF_ENOMEM)
        abort();
    be_buf_cleanup(&out);

    struct be_register_head head = {
        .id = lines[0], .provider_name = lines[0], .state = "draft", .totals = totals};
    be_buf_init(&out, 1 << 20);
    rc = be_register_json(&head, rows, n, &out);
    if (rc == 0)
        check_document(out.data, included, n - included);
    else if (rc != CF_ETOOBIG && rc != CF_ENOMEM)
        abort();
    be_buf_cleanup(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char month[11], provider[37];
    if (be_register_id_parse(text, month, provider))
        check_canonical(month, provider);
    if (be_register_month_parse(text, month))
        check_canonical(month, NULL);
    fuzz_writers(text);
    free(text);
    return 0;
}
