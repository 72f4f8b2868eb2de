/* The register document (GET /api/v1/registers/{id}, api/openapi.yaml `Register`)
 * written from the register's rows straight into a capped buffer: 42,000 lines are
 * 23 MB of JSON, which a cJSON tree (or PostgreSQL's jsonb_agg) would build, sort and
 * print again for nothing. Pure code, so it is unit-tested without a database.
 *
 * NOTE: members are written in the order the document had when PostgreSQL's jsonb
 * built it (shorter names first, then bytewise), so a stored register reads byte for
 * byte as it did before this writer; clients must not depend on the order. */
#include <string.h>

#include "be/register.h"

/* ==== Members ==== */

/* ,"name": — the first member of an object is written without the comma. */
static int put_name(struct be_buf *out, const char *name, bool first)
{
    int rc = first ? 0 : be_buf_append(out, ",", 1);
    if (!rc)
        rc = be_buf_append(out, "\"", 1);
    if (!rc)
        rc = be_buf_puts(out, name);
    if (!rc)
        rc = be_buf_append(out, "\":", 2);
    return rc;
}

static int put_text(struct be_buf *out, const char *name, const char *value)
{
    int rc = put_name(out, name, false);
    return rc ? rc : be_buf_json_string(out, value);
}

/* A row's own text: "" is what a null became when the row was read. */
static int put_own(struct be_buf *out, const char *name, const char *value)
{
    return put_text(out, name, value[0] ? value : NULL);
}

static int put_int(struct be_buf *out, const char *name, int64_t value)
{
    char text[24];
    be_register_int_text(value, text);
    int rc = put_name(out, name, false);
    return rc ? rc : be_buf_puts(out, text);
}

/* ==== Rows ==== */

static int put_row(struct be_buf *out, const struct be_register_row *row)
{
    int rc = be_buf_puts(out, row->late ? "{\"late\":true" : "{\"late\":false");
    if (!rc && row->included)
        rc = put_int(out, "quantity", row->quantity);
    if (!rc && !row->included)
        rc = put_text(out, "reason", row->reason);
    if (!rc)
        rc = put_own(out, "visit_at", row->visit_at);
    if (!rc)
        rc = put_text(out, "visit_id", row->visit_id);
    if (!rc)
        rc = put_text(out, "worker_id", row->worker_id);
    if (!rc)
        rc = put_own(out, "local_date", row->local_date);
    if (!rc)
        rc = put_own(out, "local_time", row->local_time);
    if (!rc)
        rc = put_text(out, "worker_name", row->worker_name);
    if (!rc)
        rc = put_text(out, "recipient_id", row->recipient_id);
    if (row->included) {
        if (!rc)
            rc = put_text(out, "service_code", row->service_code);
        if (!rc)
            rc = put_text(out, "service_name", row->service_name);
        if (!rc)
            rc = put_int(out, "amount_kopecks", row->amount_kopecks);
    }
    if (!rc)
        rc = put_own(out, "original_month", row->original_month);
    if (!rc)
        rc = put_text(out, "recipient_name", row->recipient_name);
    if (!rc && row->included)
        rc = put_int(out, "tariff_kopecks", row->tariff_kopecks);
    if (!rc)
        rc = be_buf_append(out, "}", 1);
    return rc;
}

/* "name":[the rows whose included is as asked] */
static int put_rows(struct be_buf *out, const char *name, bool included,
                    const struct be_register_row *rows, size_t n)
{
    int rc = put_name(out, name, false);
    bool first = true;
    if (!rc)
        rc = be_buf_append(out, "[", 1);
    for (size_t i = 0; !rc && i < n; i++) {
        if (rows[i].included != included)
            continue;
        if (!first)
            rc = be_buf_append(out, ",", 1);
        if (!rc)
            rc = put_row(out, &rows[i]);
        first = false;
    }
    if (!rc)
        rc = be_buf_append(out, "]", 1);
    return rc;
}

/* ==== Document ==== */

int be_register_json(const struct be_register_head *head, const struct be_register_row *rows,
                     size_t n, struct be_buf *out)
{
    int rc = be_buf_append(out, "{", 1);
    if (!rc)
        rc = put_name(out, "id", true);
    if (!rc)
        rc = be_buf_json_string(out, head->id);
    if (!rc)
        rc = put_text(out, "month", head->month);
    if (!rc)
        rc = put_text(out, "state", head->state);
    if (!rc)
        rc = put_rows(out, "excluded", false, rows, n);
    if (!rc)
        rc = put_rows(out, "included", true, rows, n);
    if (!rc)
        rc = put_text(out, "approved_at", head->approved_at);
    if (!rc)
        rc = put_text(out, "approved_by", head->approved_by);
    if (!rc)
        rc = put_text(out, "provider_id", head->provider_id);
    if (!rc)
        rc = put_text(out, "returned_at", head->returned_at);
    if (!rc)
        rc = put_text(out, "returned_by", head->returned_by);
    if (!rc)
        rc = put_text(out, "submitted_at", head->submitted_at);
    if (!rc)
        rc = put_text(out, "submitted_by", head->submitted_by);
    if (!rc)
        rc = put_text(out, "provider_name", head->provider_name);
    if (!rc)
        rc = put_int(out, "total_kopecks", head->totals.total_kopecks);
    if (!rc)
        rc = put_int(out, "excluded_count", head->totals.excluded_count);
    if (!rc)
        rc = put_int(out, "included_count", head->totals.included_count);
    if (!rc)
        rc = put_text(out, "returned_reason", head->returned_reason);
    if (!rc)
        rc = be_buf_append(out, "}", 1);
    return rc;
}
