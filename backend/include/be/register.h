/* The monthly payment register (issue 6): per provider per month, the visits paid
 * (confirmed by the recipient's card at start and end, ended, not disputed, no open
 * must-fix) with Σ tariff × quantity in kopecks, the visits excluded with their reason,
 * and its states draft → submitted → approved (or returned to draft). The rules live in
 * sql/0009_register.sql; backend/README.md, "Payment register", describes them.
 * A register's id is "<YYYY-MM>.<provider uuid>". */
#ifndef BE_REGISTER_H
#define BE_REGISTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "be/buf.h"
#include "be/request.h"
#include "be/router.h"
#include "cf/error.h"

#define BE_REGISTER_ID_MAX 44 /* "YYYY-MM." + 36 */
#define BE_REGISTER_CSV_MAX (32u << 20) /* cap of one CSV export */

/* "YYYY-MM" (years 2000..9999, months 01..12) into "YYYY-MM-01" (out: 11 bytes).
 * Returns true when valid. Pure. */
bool be_register_month_parse(const char *text, char out[11]);

/* "<YYYY-MM>.<uuid>" into the month's first day ("YYYY-MM-01") and the provider's
 * canonical (lower-case) UUID text (37 bytes). Returns true when valid. Pure. */
bool be_register_id_parse(const char *id, char month[11], char provider[37]);

#define BE_REGISTER_DOC_MAX (256u << 20) /* cap of one register document (JSON) */

/* One row of a register: an included line (one service of a paid visit) or an
 * excluded visit, as the database hands it over. Strings are borrowed (valid while
 * the caller's rows are) and NULL when the value is null; the fixed arrays are the
 * row's own. */
struct be_register_row {
    bool included;
    const char *visit_id;
    char visit_at[40]; /* ISO 8601 as PostgreSQL's JSON writes it, "…T05:05:00+00:00" */
    char local_date[11]; /* "YYYY-MM-DD" in the region's time zone */
    char local_time[6]; /* "HH:MM" there */
    const char *worker_id, *worker_name, *recipient_id, *recipient_name;
    bool late;
    char original_month[8]; /* "YYYY-MM", "" when unknown */
    /* included lines only: */
    const char *service_code, *service_name;
    int64_t quantity, tariff_kopecks, amount_kopecks;
    /* excluded visits only: */
    const char *reason;
};

struct be_register_totals {
    int64_t included_count; /* distinct visits among the included lines */
    int64_t excluded_count;
    int64_t total_kopecks;
};

/* The register's head (strings borrowed; NULL is null in the document). */
struct be_register_head {
    const char *id, *provider_id, *provider_name, *month, *state;
    const char *submitted_at, *submitted_by, *approved_at, *approved_by;
    const char *returned_at, *returned_by, *returned_reason;
    struct be_register_totals totals;
};

/* The totals of rows (n of them, ordered as the register is: an included visit's
 * lines next to each other). Returns 0, or CF_ETOOBIG when the sum of the amounts does
 * not fit in 64 bits (no register can be that large: its lines are corrupt). Pure. */
int be_register_totals_of(const struct be_register_row *rows, size_t n,
                          struct be_register_totals *out);

/* The register document, GET /api/v1/registers/{id} (api/openapi.yaml `Register`):
 * head and totals, then "included" (the included rows, in order) and "excluded", as
 * compact JSON appended to out. Returns 0, or CF_ETOOBIG / CF_ENOMEM from be_buf (out
 * holds a partial text the caller discards). Pure. */
int be_register_json(const struct be_register_head *head, const struct be_register_row *rows,
                     size_t n, struct be_buf *out);

/* The register (its totals, n rows) as a CSV for a Russian-locale spreadsheet,
 * appended to out: UTF-8 with BOM, ';' separator, CRLF, Russian headers, roubles
 * "1234,50", fields quoted when they hold ';', '"', CR or LF, text that a spreadsheet
 * would read as a formula (= + - @ at the start) prefixed with an apostrophe, the
 * included lines, a final «Итого» line, then the excluded visits with their reason in
 * Russian. Returns 0, or CF_ETOOBIG / CF_ENOMEM (from be_buf; out holds a partial text
 * the caller discards). Pure (no database, no civetweb). */
int be_register_csv(const struct be_register_totals *totals, const struct be_register_row *rows,
                    size_t n, struct be_buf *out);

/* A whole number's text (out: 24 bytes), written by hand: a register has three numbers
 * a line, and snprintf's machinery costs more than the rest of the line. Pure. */
void be_register_int_text(int64_t value, char out[24]);

/* Roubles text of kopecks: 123450 -> "1234,50", -5 -> "-0,05" (out: 32 bytes). */
void be_register_roubles(int64_t kopecks, char out[32]);

#define BE_REGISTER_REASON_MAX 2000 /* characters of the reason a register is returned for */

/* The body of submit / approve (nothing, or {}) or of return (wants_reason:
 * {"reason": "..."}, a person's text, required) — text of len bytes, borrowed, may be
 * NULL. The reason goes into reason (size bytes, 4 per character). Returns 0, or a
 * CF_E... code with *d naming the field. Pure. */
int be_register_body_read(const char *text, size_t len, bool wants_reason, char *reason,
                          size_t size, struct cf_error_detail *d);

extern const struct be_module be_register_module; /* /api/v1/registers... */

#endif
