/* Events <-> rows of the events table (see be/event_row.h). The COPY side writes
 * PostgreSQL's text format by hand because it is the cheapest way to load a batch:
 * no JSON for the database to parse, no per-event statement. The read side is its
 * exact inverse, so a stored event re-encodes to the digest the device signed. */
#include "be/event_row.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf/codec.h"
#include "cf/uuid.h"

/* ==== COPY text format ==== */

static int put(struct be_buf *out, const char *text)
{
    return be_buf_puts(out, text);
}

/* Text with COPY's escapes: backslash, and every control character as \xHH (the
 * validator allows only newline in a comment, but the format must hold anything). */
static int put_text(struct be_buf *out, const char *text)
{
    int rc = 0;
    const char *run = text;
    for (const char *c = text; !rc && *c; c++) {
        unsigned char byte = (unsigned char)*c;
        if (byte != '\\' && byte >= 0x20)
            continue;
        rc = be_buf_append(out, run, (size_t)(c - run));
        if (!rc)
            rc = byte == '\\' ? put(out, "\\\\") : be_buf_printf(out, "\\x%02x", byte);
        run = c + 1;
    }
    return rc ? rc : put(out, run);
}

static int put_uuid(struct be_buf *out, const uint8_t uuid[CF_UUID_LEN], bool nil_is_null)
{
    char text[CF_UUID_TEXT_LEN + 1];
    if (nil_is_null && cf_uuid_is_nil(uuid))
        return put(out, "\\N");
    cf_uuid_to_text(uuid, text);
    return be_buf_append(out, text, CF_UUID_TEXT_LEN);
}

static bool code_is_plain(const char *code)
{
    if (!*code)
        return false;
    for (const char *c = code; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '_' || *c == '-'))
            return false;
    return true;
}

/* Array literals {"A","B"} and {1,2}. Codes are always quoted: an unquoted NULL
 * would be read as an SQL NULL element. */
static int put_services(struct be_buf *out, const struct cf_event *ev)
{
    int rc = 0;
    if (ev->service_count == 0)
        return put(out, "\\N\t\\N");
    if (ev->service_count > CF_MAX_SERVICES)
        return CF_EINVAL;
    for (size_t i = 0; !rc && i < ev->service_count; i++) {
        if (!code_is_plain(ev->services[i].code))
            return CF_EINVAL;
        rc = be_buf_printf(out, "%s\"%s\"", i ? "," : "{", ev->services[i].code);
    }
    for (size_t i = 0; !rc && i < ev->service_count; i++)
        rc = be_buf_printf(out, "%s%" PRId32, i ? "," : "}\t{", ev->services[i].quantity);
    return rc ? rc : put(out, "}");
}

static int put_name(struct be_buf *out, const char *name, bool empty_is_null)
{
    if (!name)
        return CF_EINVAL;
    if (empty_is_null && !*name)
        return put(out, "\\N");
    return put_text(out, name);
}

static int copy_fields(const struct cf_event *ev, const uint8_t digest[CF_DIGEST_LEN],
                       const uint8_t provider_id[CF_UUID_LEN], struct be_buf *out)
{
    char hex[2 * CF_DIGEST_LEN + 1], when[40];
    const char *kind = cf_event_kind_name(ev->kind);
    if (!kind || cf_time_format_utc(ev->wall_ms, when, sizeof when))
        return CF_EINVAL;
    cf_hex_encode(digest, CF_DIGEST_LEN, hex, sizeof hex);
    int rc = put_uuid(out, ev->device_id, false);
    if (!rc)
        rc = be_buf_printf(out, "\t%" PRIu64 "\t\\\\x%s\t%s\t", ev->seq, hex, kind);
    if (!rc)
        rc = put_uuid(out, ev->visit_id, true);
    if (!rc)
        rc = put(out, "\t");
    if (!rc)
        rc = put_uuid(out, ev->worker_id, false);
    if (!rc)
        rc = put(out, "\t");
    if (!rc)
        rc = put_uuid(out, provider_id, false);
    if (!rc)
        rc = put(out, "\t");
    if (!rc)
        rc = put_uuid(out, ev->recipient_id, true);
    if (!rc)
        rc = put(out, "\t");
    if (!rc)
        rc = put_uuid(out, ev->plan_id, true);
    if (!rc)
        rc = be_buf_printf(out, "\t%s\t%" PRId64 "\t", when, ev->mono_ms);
    if (!rc)
        rc = put_uuid(out, ev->boot_id, false);
    if (!rc && ev->card.method == CF_CARD_NONE)
        rc = put(out, "\t\\N\t\\N\t\\N\t\\N");
    else if (!rc) {
        rc = be_buf_printf(out, "\t%s\t", cf_card_method_name(ev->card.method));
        if (!rc)
            rc = put_text(out, ev->card.token);
        if (!rc)
            rc = put(out, "\t");
        if (!rc)
            rc = put_text(out, ev->card.scheme);
        if (!rc)
            rc = put(out, "\t");
        if (!rc)
            rc = put_text(out, ev->card.last4);
    }
    if (!rc && ev->location.present)
        rc = be_buf_printf(out, "\t%" PRId32 "\t%" PRId32 "\t%" PRId32 "\t", ev->location.lat_e7,
                           ev->location.lon_e7, ev->location.accuracy_m);
    else if (!rc)
        rc = put(out, "\t\\N\t\\N\t\\N\t");
    if (!rc)
        rc = put_services(out, ev);
    if (!rc)
        rc = ev->rating ? be_buf_printf(out, "\t%" PRId32 "\t", ev->rating) : put(out, "\t\\N\t");
    if (!rc)
        rc = put_name(out, ev->comment, true);
    if (!rc)
        rc = put(out, "\t");
    if (!rc)
        rc = ev->reason == CF_REASON_NONE ? put(out, "\\N")
                                          : put_name(out, cf_reason_name(ev->reason), false);
    if (!rc)
        rc = put(out, "\t");
    if (!rc)
        rc = ev->cancelled_by == CF_ACTOR_NONE
                 ? put(out, "\\N")
                 : put_name(out, cf_actor_name(ev->cancelled_by), false);
    return rc;
}

int be_event_copy_row(const struct cf_event *ev, const uint8_t digest[CF_DIGEST_LEN],
                      const uint8_t provider_id[CF_UUID_LEN], struct be_buf *out)
{
    int rc = copy_fields(ev, digest, provider_id, out);
    return rc ? rc : put(out, "\n");
}

static int put_verdict(const struct be_card_verdict *v, struct be_buf *out)
{
    char sdad[2 * 32 + 1], body[2 * CF_DIGEST_LEN + 1], index[8];
    cf_hex_encode(v->body_digest, CF_DIGEST_LEN, body, sizeof body);
    if (v->has_sdad_digest)
        cf_hex_encode(v->sdad_digest, sizeof v->sdad_digest, sdad, sizeof sdad);
    snprintf(index, sizeof index, "%d", v->ca_index);
    return be_buf_printf(out, "\t%s\t%s\t%s\t%s\t%s%s\t\\\\x%s", v->kind, v->level,
                         v->failure ? v->failure : "\\N", v->ca_index >= 0 ? index : "\\N",
                         v->has_sdad_digest ? "\\\\x" : "\\N", v->has_sdad_digest ? sdad : "",
                         body);
}

int be_event_copy_row_verdict(const struct cf_event *ev, const uint8_t digest[CF_DIGEST_LEN],
                              const uint8_t provider_id[CF_UUID_LEN],
                              const struct be_card_verdict *v, struct be_buf *out)
{
    int rc = copy_fields(ev, digest, provider_id, out);
    if (rc)
        return rc;
    if (!v || !v->present)
        rc = put(out, "\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N");
    else
        rc = put_verdict(v, out);
    if (!rc) /* act_body: the act's canonical text, verbatim (its digest is recomputed) */
        rc = put(out, "\t");
    if (!rc)
        rc = put_name(out, ev->body, true);
    return rc ? rc : put(out, "\n");
}

/* ==== Reading a row back ==== */

static int bad(struct cf_error_detail *d, int col, const char *what)
{
    static const char *const names[BE_EV_COLUMNS] = {
        "device_id",   "seq",           "prev",
        "digest",      "kind",          "visit_id",
        "worker_id",   "recipient_id",  "plan_id",
        "wall_time",   "mono_ms",       "boot_id",
        "card_method", "card_token",    "card_scheme",
        "card_last4",  "lat_e7",        "lon_e7",
        "accuracy_m",  "service_codes", "service_quantities",
        "rating",      "comment",       "reason",
        "cancelled_by"};
    return cf_error_set(d, CF_EMALFORM, names[col], "stored event column %s %s", names[col], what);
}

static int read_i64(const char *text, int64_t min, int64_t max, int64_t *out)
{
    char *end = NULL;
    if (!text || !*text)
        return -1;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int read_uuid(const char *text, bool nullable, uint8_t out[CF_UUID_LEN])
{
    if (!text) {
        memset(out, 0, CF_UUID_LEN);
        return nullable ? 0 : -1;
    }
    return cf_uuid_from_text(text, out) ? -1 : 0;
}

static int read_hex32(const char *text, uint8_t out[CF_DIGEST_LEN])
{
    size_t n = 0;
    return cf_hex_decode(text, strlen(text), out, CF_DIGEST_LEN, &n) || n != CF_DIGEST_LEN ? -1 : 0;
}

static int read_string(const char *text, char *out, size_t size)
{
    size_t len = text ? strlen(text) : 0;
    if (len >= size)
        return -1;
    memcpy(out, text ? text : "", len + 1);
    return 0;
}

/* codes "A,B" and quantities "1,2" (array_to_string output) into ev->services. */
static int read_services(const char *codes, const char *quantities, struct cf_event *ev)
{
    ev->service_count = 0;
    if (!codes && !quantities)
        return 0;
    if (!codes || !quantities)
        return -1;
    const char *c = codes, *q = quantities;
    while (*c) {
        if (ev->service_count == CF_MAX_SERVICES)
            return -1;
        struct cf_service_done *s = &ev->services[ev->service_count++];
        size_t len = strcspn(c, ",");
        if (len == 0 || len > CF_SERVICE_CODE_MAX)
            return -1;
        memcpy(s->code, c, len);
        s->code[len] = '\0';
        c += len + (c[len] == ',');
        char *end = NULL;
        errno = 0;
        long n = strtol(q, &end, 10);
        if (errno || end == q || (*end && *end != ',') || n < 1 || n > CF_SERVICE_QUANTITY_MAX)
            return -1;
        s->quantity = (int32_t)n;
        q = *end ? end + 1 : end;
    }
    return *q ? -1 : 0;
}

int be_event_from_row(const char *const v[BE_EV_COLUMNS], struct cf_event *ev,
                      uint8_t stored_digest[CF_DIGEST_LEN], struct cf_error_detail *d)
{
    int64_t n = 0;
    memset(ev, 0, sizeof *ev);
    if (read_uuid(v[BE_EV_DEVICE_ID], false, ev->device_id))
        return bad(d, BE_EV_DEVICE_ID, "is not a UUID");
    if (read_i64(v[BE_EV_SEQ], 1, INT64_MAX, &n))
        return bad(d, BE_EV_SEQ, "is not a positive number");
    ev->seq = (uint64_t)n;
    if (v[BE_EV_PREV] && read_hex32(v[BE_EV_PREV], ev->prev_digest))
        return bad(d, BE_EV_PREV, "is not a digest");
    if (!v[BE_EV_DIGEST] || read_hex32(v[BE_EV_DIGEST], stored_digest))
        return bad(d, BE_EV_DIGEST, "is not a digest");
    ev->kind = v[BE_EV_KIND] ? cf_event_kind_from_name(v[BE_EV_KIND]) : CF_EV_NONE;
    if (ev->kind == CF_EV_NONE)
        return bad(d, BE_EV_KIND, "is not an event kind");
    static const int uuid_cols[] = {BE_EV_VISIT_ID, BE_EV_WORKER_ID, BE_EV_RECIPIENT_ID,
                                    BE_EV_PLAN_ID, BE_EV_BOOT_ID};
    uint8_t *uuid_out[] = {ev->visit_id, ev->worker_id, ev->recipient_id, ev->plan_id, ev->boot_id};
    for (size_t i = 0; i < 5; i++)
        if (read_uuid(v[uuid_cols[i]], true, uuid_out[i]))
            return bad(d, uuid_cols[i], "is not a UUID");
    if (read_i64(v[BE_EV_WALL_MS], INT64_MIN, INT64_MAX, &ev->wall_ms))
        return bad(d, BE_EV_WALL_MS, "is not a time");
    if (read_i64(v[BE_EV_MONO_MS], INT64_MIN, INT64_MAX, &ev->mono_ms))
        return bad(d, BE_EV_MONO_MS, "is not a number");
    if (v[BE_EV_CARD_METHOD]) {
        if (cf_card_method_from_name(v[BE_EV_CARD_METHOD], &ev->card.method) ||
            ev->card.method == CF_CARD_NONE)
            return bad(d, BE_EV_CARD_METHOD, "is not a card method");
        if (read_string(v[BE_EV_CARD_TOKEN], ev->card.token, sizeof ev->card.token))
            return bad(d, BE_EV_CARD_TOKEN, "is too long");
        if (read_string(v[BE_EV_CARD_SCHEME], ev->card.scheme, sizeof ev->card.scheme))
            return bad(d, BE_EV_CARD_SCHEME, "is too long");
        if (read_string(v[BE_EV_CARD_LAST4], ev->card.last4, sizeof ev->card.last4))
            return bad(d, BE_EV_CARD_LAST4, "is too long");
    }
    if (v[BE_EV_LAT_E7]) {
        int64_t lat = 0, lon = 0, acc = 0;
        if (read_i64(v[BE_EV_LAT_E7], INT32_MIN, INT32_MAX, &lat) ||
            read_i64(v[BE_EV_LON_E7], INT32_MIN, INT32_MAX, &lon) ||
            read_i64(v[BE_EV_ACCURACY_M], INT32_MIN, INT32_MAX, &acc))
            return bad(d, BE_EV_LAT_E7, "is not a location");
        ev->location = (struct cf_location){true, (int32_t)lat, (int32_t)lon, (int32_t)acc};
    }
    if (read_services(v[BE_EV_SERVICE_CODES], v[BE_EV_SERVICE_QUANTITIES], ev))
        return bad(d, BE_EV_SERVICE_CODES, "do not match their quantities");
    if (v[BE_EV_RATING]) {
        if (read_i64(v[BE_EV_RATING], 1, 5, &n))
            return bad(d, BE_EV_RATING, "is not 1..5");
        ev->rating = (int32_t)n;
    }
    if (read_string(v[BE_EV_COMMENT], ev->comment, sizeof ev->comment))
        return bad(d, BE_EV_COMMENT, "is too long");
    if (v[BE_EV_REASON] && cf_reason_from_name(v[BE_EV_REASON], &ev->reason))
        return bad(d, BE_EV_REASON, "is not a reason");
    if (v[BE_EV_CANCELLED_BY] && cf_actor_from_name(v[BE_EV_CANCELLED_BY], &ev->cancelled_by))
        return bad(d, BE_EV_CANCELLED_BY, "is not an actor");
    return 0;
}
