/* Events as rows of the events table (be/event_row.h): the COPY text line an event
 * is stored with (exact bytes, escapes, NULLs), the way back from the row a SELECT
 * reads to the very event the device signed (its digest recomputed), and what each
 * side refuses. PostgreSQL's part in between -- reading the COPY text, bytea in hex,
 * the timestamp as ms, arrays as comma-separated text -- is done here by hand, as
 * BE_EVENT_SELECT asks the database to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "be/event_row.h"
#include "cf/codec.h"
#include "cf/uuid.h"
#include "sample_events.h"

#define PROVIDER "00000000-0000-4000-8000-000000000002"
#define COPY_COLUMNS 25 /* the columns of BE_EVENT_COPY_COLUMNS */
#define VALUE_MAX (CF_COMMENT_MAX_BYTES + 16) /* the longest field: a comment */

/* One row as the SELECT hands it to be_event_from_row. */
struct row {
    char text[BE_EV_COLUMNS][VALUE_MAX];
    const char *values[BE_EV_COLUMNS];
};

static uint8_t provider[CF_UUID_LEN];

static int setup(void **state)
{
    (void)state;
    return cf_uuid_from_text(PROVIDER, provider);
}

/* The COPY line of ev (caller frees with be_buf_cleanup); digest is ev's. */
static void copy_row(const struct cf_event *ev, uint8_t digest[CF_DIGEST_LEN], struct be_buf *out)
{
    assert_int_equal(cf_event_digest(ev, digest), 0);
    be_buf_init(out, 1u << 20);
    assert_int_equal(be_event_copy_row(ev, digest, provider, out), 0);
}

/* Split a COPY text line into its fields as PostgreSQL reads them: "\N" is NULL
 * (fields[i] NULL), "\\" a backslash, "\xHH" the byte HH. */
static void copy_fields(const char *line, char text[COPY_COLUMNS][VALUE_MAX],
                        const char *fields[COPY_COLUMNS])
{
    size_t len = strlen(line);
    assert_true(len > 0 && line[len - 1] == '\n');
    const char *p = line;
    for (int col = 0; col < COPY_COLUMNS; col++) {
        size_t field_len = strcspn(p, "\t\n");
        assert_true(col < COPY_COLUMNS - 1 ? p[field_len] == '\t' : p[field_len] == '\n');
        size_t o = 0;
        fields[col] = text[col];
        if (field_len == 2 && memcmp(p, "\\N", 2) == 0)
            fields[col] = NULL;
        for (size_t i = 0; fields[col] && i < field_len; i++) {
            assert_true(o + 1 < VALUE_MAX);
            if (p[i] != '\\') {
                text[col][o++] = p[i];
            } else if (p[i + 1] == '\\') {
                text[col][o++] = '\\';
                i++;
            } else {
                uint8_t byte;
                size_t n;
                assert_int_equal(p[i + 1], 'x');
                assert_int_equal(cf_hex_decode(p + i + 2, 2, &byte, 1, &n), 0);
                text[col][o++] = (char)byte;
                i += 3;
            }
        }
        text[col][o] = '\0';
        p += field_len + 1;
    }
    assert_int_equal(*p, '\0'); /* one line, nothing after it */
}

/* "2026-11-22T09:00:00.000Z" as Unix ms. */
static long long utc_ms(const char *text)
{
    struct tm tm = {0};
    int ms = 0;
    assert_int_equal(sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon,
                            &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms),
                     7);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm) * 1000 + ms;
}

/* array_to_string('{"A","B"}', ',') and of '{1,2}'. */
static void array_text(const char *literal, char *out)
{
    size_t len = strlen(literal), o = 0;
    assert_true(len >= 2 && literal[0] == '{' && literal[len - 1] == '}');
    for (size_t i = 1; i + 1 < len; i++)
        if (literal[i] != '"')
            out[o++] = literal[i];
    out[o] = '\0';
}

/* The row a SELECT of BE_EVENT_SELECT returns for the event stored with line; prev is
 * the previous event's digest (NULL for seq 1). */
static void stored_row(const char *line, const uint8_t *prev, struct row *r)
{
    static char text[COPY_COLUMNS][VALUE_MAX];
    const char *f[COPY_COLUMNS];
    copy_fields(line, text, f);
    assert_string_equal(f[6], PROVIDER); /* provider_id: where the row is stored */
    static const int from_copy[BE_EV_COLUMNS] = {
        [BE_EV_DEVICE_ID] = 0,
        [BE_EV_SEQ] = 1,
        [BE_EV_PREV] = -1,
        [BE_EV_DIGEST] = 2,
        [BE_EV_KIND] = 3,
        [BE_EV_VISIT_ID] = 4,
        [BE_EV_WORKER_ID] = 5,
        [BE_EV_RECIPIENT_ID] = 7,
        [BE_EV_PLAN_ID] = 8,
        [BE_EV_WALL_MS] = 9,
        [BE_EV_MONO_MS] = 10,
        [BE_EV_BOOT_ID] = 11,
        [BE_EV_CARD_METHOD] = 12,
        [BE_EV_CARD_TOKEN] = 13,
        [BE_EV_CARD_SCHEME] = 14,
        [BE_EV_CARD_LAST4] = 15,
        [BE_EV_LAT_E7] = 16,
        [BE_EV_LON_E7] = 17,
        [BE_EV_ACCURACY_M] = 18,
        [BE_EV_SERVICE_CODES] = 19,
        [BE_EV_SERVICE_QUANTITIES] = 20,
        [BE_EV_RATING] = 21,
        [BE_EV_COMMENT] = 22,
        [BE_EV_REASON] = 23,
        [BE_EV_CANCELLED_BY] = 24,
    };
    for (int col = 0; col < BE_EV_COLUMNS; col++) {
        const char *v = from_copy[col] >= 0 ? f[from_copy[col]] : NULL;
        r->values[col] = v ? r->text[col] : NULL;
        if (v)
            snprintf(r->text[col], VALUE_MAX, "%s", v);
    }
    if (prev) {
        cf_hex_encode(prev, CF_DIGEST_LEN, r->text[BE_EV_PREV], VALUE_MAX);
        r->values[BE_EV_PREV] = r->text[BE_EV_PREV];
    }
    /* encode(digest, 'hex'): bytea's text "\x..." without its prefix */
    assert_memory_equal(f[2], "\\x", 2);
    snprintf(r->text[BE_EV_DIGEST], VALUE_MAX, "%s", f[2] + 2);
    snprintf(r->text[BE_EV_WALL_MS], VALUE_MAX, "%lld", utc_ms(f[9]));
    if (f[19])
        array_text(f[19], r->text[BE_EV_SERVICE_CODES]);
    if (f[20])
        array_text(f[20], r->text[BE_EV_SERVICE_QUANTITIES]);
}

/* Store ev and read it back: the same event, the same digest. */
static void expect_round_trip(const struct cf_event *ev, const uint8_t *prev)
{
    uint8_t digest[CF_DIGEST_LEN], stored[CF_DIGEST_LEN], again[CF_DIGEST_LEN];
    struct be_buf line;
    static struct row r;
    struct cf_event back;
    struct cf_error_detail d = {0};
    if (cf_event_validate(ev, &d)) /* be_event_copy_row's precondition */
        fail_msg("%s: not a valid event: %s", cf_event_kind_name(ev->kind), d.message);
    copy_row(ev, digest, &line);
    stored_row(line.data, prev, &r);
    if (be_event_from_row(r.values, &back, stored, &d))
        fail_msg("%s: refused: %s (%s)", cf_event_kind_name(ev->kind), d.message, line.data);
    be_buf_cleanup(&line);
    assert_memory_equal(stored, digest, CF_DIGEST_LEN);
    assert_int_equal(cf_event_digest(&back, again), 0);
    /* and, readably, the fields one by one */
    assert_memory_equal(back.device_id, ev->device_id, CF_UUID_LEN);
    assert_int_equal(back.seq, ev->seq);
    assert_memory_equal(back.prev_digest, ev->prev_digest, CF_DIGEST_LEN);
    assert_int_equal(back.kind, ev->kind);
    assert_memory_equal(back.visit_id, ev->visit_id, CF_UUID_LEN);
    assert_memory_equal(back.recipient_id, ev->recipient_id, CF_UUID_LEN);
    assert_memory_equal(back.plan_id, ev->plan_id, CF_UUID_LEN);
    assert_int_equal(back.wall_ms, ev->wall_ms);
    assert_int_equal(back.mono_ms, ev->mono_ms);
    assert_int_equal(back.card.method, ev->card.method);
    assert_string_equal(back.card.token, ev->card.token);
    assert_string_equal(back.card.scheme, ev->card.scheme);
    assert_string_equal(back.card.last4, ev->card.last4);
    assert_int_equal(back.location.present, ev->location.present);
    assert_int_equal(back.location.lat_e7, ev->location.lat_e7);
    assert_int_equal(back.location.lon_e7, ev->location.lon_e7);
    assert_int_equal(back.location.accuracy_m, ev->location.accuracy_m);
    assert_int_equal(back.service_count, ev->service_count);
    for (size_t i = 0; i < ev->service_count; i++) {
        assert_string_equal(back.services[i].code, ev->services[i].code);
        assert_int_equal(back.services[i].quantity, ev->services[i].quantity);
    }
    assert_int_equal(back.rating, ev->rating);
    assert_string_equal(back.comment, ev->comment);
    assert_int_equal(back.reason, ev->reason);
    assert_int_equal(back.cancelled_by, ev->cancelled_by);
    assert_memory_equal(again, digest, CF_DIGEST_LEN); /* and every other signed field */
}

/* ==== The COPY line ==== */

/* The verdict's columns after the event's (ingest's COPY, issue 14): all NULL without a
 * proof; with one, kind, level, failure, CA index and the two digests as bytea. */
static void test_copy_verdict_columns(void **state)
{
    (void)state;
    static struct cf_event ev;
    uint8_t digest[CF_DIGEST_LEN] = {0};
    struct be_buf line;
    sample_event(&ev, CF_EV_VISIT_STARTED);
    be_buf_init(&line, 1 << 16);
    assert_int_equal(
        be_event_copy_row_verdict(&ev, digest, (const uint8_t *)"0123456789abcdef", NULL, &line),
        0);
    const char *none = "\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"; /* and no act body */
    assert_string_equal(line.data + line.len - strlen(none), none);
    be_buf_cleanup(&line);

    struct be_card_verdict v = {.present = true,
                                .kind = "cda",
                                .level = "none",
                                .failure = "reused_signature",
                                .ca_index = 146,
                                .has_sdad_digest = true};
    memset(v.sdad_digest, 0xab, sizeof v.sdad_digest);
    memset(v.body_digest, 0x01, sizeof v.body_digest);
    be_buf_init(&line, 1 << 16);
    assert_int_equal(
        be_event_copy_row_verdict(&ev, digest, (const uint8_t *)"0123456789abcdef", &v, &line), 0);
    char want[300];
    snprintf(want, sizeof want, "\tcda\tnone\treused_signature\t146\t\\\\x%s\t\\\\x%s\t\\N\n",
             "abababababababababababababababababababababababababababababababab",
             "0101010101010101010101010101010101010101010101010101010101010101");
    assert_string_equal(line.data + line.len - strlen(want), want);
    be_buf_cleanup(&line);
    /* a proof that holds: no failure, no SDAD (SDA), no CA index */
    v.failure = NULL;
    v.has_sdad_digest = false;
    v.ca_index = -1;
    v.kind = "sda";
    v.level = "static";
    be_buf_init(&line, 1 << 16);
    assert_int_equal(
        be_event_copy_row_verdict(&ev, digest, (const uint8_t *)"0123456789abcdef", &v, &line), 0);
    assert_non_null(strstr(line.data, "\tsda\tstatic\t\\N\t\\N\t\\N\t\\\\x0101"));
    be_buf_cleanup(&line);

    /* an act: its canonical body last, verbatim but for COPY's escape of a backslash */
    sample_event(&ev, CF_EV_HOME_SURVEY_RECORDED);
    be_buf_init(&line, 1 << 16);
    assert_int_equal(
        be_event_copy_row_verdict(&ev, digest, (const uint8_t *)"0123456789abcdef", NULL, &line),
        0);
    const char *act = "\t\\N\t{\"application_number\":\"2026-000001\",\"findings\":\"Нужна "
                      "помощь\\\\nпо дому\",\"living_conditions\":\"Дом\"}\n";
    assert_string_equal(line.data + line.len - strlen(act), act);
    be_buf_cleanup(&line);
}

static void test_copy_line_exact(void **state)
{
    (void)state;
    struct cf_event ev;
    uint8_t digest[CF_DIGEST_LEN];
    char hex[2 * CF_DIGEST_LEN + 1], want[1024];
    struct be_buf line;
    sample_event(&ev, CF_EV_VISIT_STARTED);
    copy_row(&ev, digest, &line);
    cf_hex_encode(digest, CF_DIGEST_LEN, hex, sizeof hex);
    snprintf(want, sizeof want,
             "10111213-1415-1617-1819-1a1b1c1d1e1f\t1\t\\\\x%s\tvisit.started\t"
             "40414243-4445-4647-4849-4a4b4c4d4e4f\t20212223-2425-2627-2829-2a2b2c2d2e2f\t" PROVIDER
             "\t30313233-3435-3637-3839-3a3b3c3d3e3f\t\\N\t2026-11-22T09:00:00.000Z\t5000000\t"
             "50515253-5455-5657-5859-5a5b5c5d5e5f\temv\tAAECAwQFBgcICQoLDA0ODw\tmir\t5678\t"
             "557558000\t376173000\t12\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n",
             hex);
    assert_string_equal(line.data, want);
    be_buf_cleanup(&line);

    /* The end: services as array literals (codes quoted), no card location when absent. */
    sample_event(&ev, CF_EV_VISIT_ENDED);
    memset(&ev.location, 0, sizeof ev.location);
    copy_row(&ev, digest, &line);
    assert_non_null(strstr(line.data, "\t\\N\t\\N\t\\N\t{\"HH-01\",\"MED.02\"}\t{1,2}\t\\N\t"));
    be_buf_cleanup(&line);

    /* A cancellation: reason and actor by name, no card, no visit services. */
    sample_event(&ev, CF_EV_VISIT_CANCELLED);
    copy_row(&ev, digest, &line);
    const char *tail = "\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\tin_hospital\tworker\n";
    assert_string_equal(line.data + line.len - strlen(tail), tail);
    be_buf_cleanup(&line);
}

static void test_copy_escapes(void **state)
{
    (void)state;
    struct cf_event ev;
    uint8_t digest[CF_DIGEST_LEN];
    struct be_buf line;
    sample_event(&ev, CF_EV_VISIT_RATED);
    snprintf(ev.comment, sizeof ev.comment,
             "a\\b\tc\nd\r\x01\x1f\x7f"
             "е");
    copy_row(&ev, digest, &line);
    /* Backslash doubled, every control character as \xHH; DEL and UTF-8 as they are. */
    assert_non_null(strstr(line.data, "\t5\ta\\\\b\\x09c\\x0ad\\x0d\\x01\\x1f\x7f"
                                      "е\t\\N\t\\N\n"));
    /* Still one line of 25 fields: no raw tab or newline came through. */
    size_t tabs = 0, newlines = 0;
    for (size_t i = 0; i < line.len; i++) {
        tabs += line.data[i] == '\t';
        newlines += line.data[i] == '\n';
    }
    assert_int_equal(tabs, COPY_COLUMNS - 1);
    assert_int_equal(newlines, 1);
    be_buf_cleanup(&line);
    /* What the validator lets through (a newline, backslashes, UTF-8) comes back. */
    snprintf(ev.comment, sizeof ev.comment, "\\N\\\\x09 \\\nвсё «хорошо»\n");
    expect_round_trip(&ev, NULL);
}

static void test_copy_refusals(void **state)
{
    (void)state;
    struct cf_event ev;
    uint8_t digest[CF_DIGEST_LEN] = {0};
    struct be_buf line;
    be_buf_init(&line, 1u << 20);
    static const char *const bad_codes[] = {"HH 01", "", "A\"B", "A,B", "{A}", "Ж-1", "A\\B"};
    for (size_t i = 0; i < sizeof bad_codes / sizeof bad_codes[0]; i++) {
        sample_event(&ev, CF_EV_VISIT_ENDED);
        snprintf(ev.services[1].code, sizeof ev.services[1].code, "%s", bad_codes[i]);
        be_buf_reset(&line);
        if (be_event_copy_row(&ev, digest, provider, &line) != CF_EINVAL)
            fail_msg("service code '%s' accepted", bad_codes[i]);
    }
    sample_event(&ev, CF_EV_VISIT_ENDED);
    ev.service_count = CF_MAX_SERVICES + 1;
    assert_int_equal(be_event_copy_row(&ev, digest, provider, &line), CF_EINVAL);

    sample_event(&ev, CF_EV_VISIT_STARTED);
    ev.wall_ms = -1; /* before 1970 */
    assert_int_equal(be_event_copy_row(&ev, digest, provider, &line), CF_EINVAL);
    ev.wall_ms = INT64_C(253402300800000); /* year 10000 */
    assert_int_equal(be_event_copy_row(&ev, digest, provider, &line), CF_EINVAL);
    ev.wall_ms = INT64_C(253402300799999); /* the last ms of 9999 */
    be_buf_reset(&line);
    assert_int_equal(be_event_copy_row(&ev, digest, provider, &line), 0);
    assert_non_null(strstr(line.data, "\t9999-12-31T23:59:59.999Z\t"));

    sample_event(&ev, CF_EV_VISIT_STARTED);
    ev.kind = (enum cf_event_kind)99;
    assert_int_equal(be_event_copy_row(&ev, digest, provider, &line), CF_EINVAL);
    sample_event(&ev, CF_EV_VISIT_CANCELLED);
    ev.reason = (enum cf_reason)42;
    assert_int_equal(be_event_copy_row(&ev, digest, provider, &line), CF_EINVAL);
    sample_event(&ev, CF_EV_VISIT_CANCELLED);
    ev.cancelled_by = (enum cf_actor)42;
    assert_int_equal(be_event_copy_row(&ev, digest, provider, &line), CF_EINVAL);
    be_buf_cleanup(&line);

    /* The buffer's cap is an error, not a cut line. */
    sample_event(&ev, CF_EV_VISIT_STARTED);
    be_buf_init(&line, 100);
    assert_int_equal(be_event_copy_row(&ev, digest, provider, &line), CF_ETOOBIG);
    be_buf_cleanup(&line);
}

/* ==== Back from a row ==== */

static void test_round_trip_every_kind(void **state)
{
    (void)state;
    struct cf_event ev;
    for (int kind = CF_EV_VISIT_STARTED; kind <= CF_EV_APPOINTMENT_CHECKED_IN; kind++) {
        sample_event(&ev, (enum cf_event_kind)kind);
        expect_round_trip(&ev, NULL);
    }
    /* Later in a chain, planned, a UID card, no location, every service slot. */
    uint8_t prev[CF_DIGEST_LEN];
    sample_event(&ev, CF_EV_VISIT_ENDED);
    ev.seq = 7;
    memset(ev.prev_digest, 0xa5, sizeof ev.prev_digest);
    memcpy(prev, ev.prev_digest, sizeof prev);
    sample_fill_id(ev.plan_id, 0x70);
    ev.card.method = CF_CARD_UID;
    ev.card.scheme[0] = '\0';
    ev.card.last4[0] = '\0';
    memset(&ev.location, 0, sizeof ev.location);
    ev.service_count = CF_MAX_SERVICES;
    for (int i = 0; i < CF_MAX_SERVICES; i++) {
        snprintf(ev.services[i].code, sizeof ev.services[i].code, "S.%02d_x-%d", i, i);
        ev.services[i].quantity = i % 2 ? CF_SERVICE_QUANTITY_MAX : 1;
    }
    expect_round_trip(&ev, prev);
    /* Negative coordinates, the clock's first ms, a door attempt refused. */
    sample_event(&ev, CF_EV_VISIT_ATTEMPT);
    ev.location.present = true;
    ev.location.lat_e7 = -900000000;
    ev.location.lon_e7 = -1800000000;
    ev.mono_ms = 0;
    ev.reason = CF_REASON_REFUSED;
    expect_round_trip(&ev, NULL);
    /* The longest comment, all of it escaped. */
    sample_event(&ev, CF_EV_VISIT_RATED);
    memset(ev.comment, '\\', CF_COMMENT_MAX_CHARS);
    ev.comment[CF_COMMENT_MAX_CHARS] = '\0';
    expect_round_trip(&ev, NULL);
    /* The longest in bytes: 1000 characters of 4 bytes. */
    for (size_t b = 0; b < CF_COMMENT_MAX_BYTES; b += 4)
        memcpy(ev.comment + b, "😀", 4);
    ev.comment[CF_COMMENT_MAX_BYTES] = '\0';
    expect_round_trip(&ev, NULL);
}

/* The row of the sample end event (seq 1), to spoil one column at a time. */
static struct row *good_row(void)
{
    static struct row r;
    struct cf_event ev;
    uint8_t digest[CF_DIGEST_LEN];
    struct be_buf line;
    sample_event(&ev, CF_EV_VISIT_ENDED);
    copy_row(&ev, digest, &line);
    stored_row(line.data, NULL, &r);
    be_buf_cleanup(&line);
    return &r;
}

/* Column col holding value (NULL: SQL NULL) must be refused, naming field. */
static void expect_row_refused(int col, const char *value, const char *field)
{
    struct row *r = good_row();
    struct cf_event ev;
    uint8_t digest[CF_DIGEST_LEN];
    struct cf_error_detail d = {0};
    r->values[col] = value;
    int rc = be_event_from_row(r->values, &ev, digest, &d);
    if (rc != CF_EMALFORM)
        fail_msg("column %d = '%s': returned %d, want %d", col, value ? value : "NULL", rc,
                 CF_EMALFORM);
    assert_string_equal(d.field, field);
    assert_non_null(strstr(d.message, field));
    assert_int_equal(be_event_from_row(r->values, &ev, digest, NULL), CF_EMALFORM);
}

static void test_row_refusals(void **state)
{
    (void)state;
    struct cf_event ev;
    uint8_t digest[CF_DIGEST_LEN];
    assert_int_equal(be_event_from_row(good_row()->values, &ev, digest, NULL), 0);

    expect_row_refused(BE_EV_DEVICE_ID, NULL, "device_id");
    expect_row_refused(BE_EV_DEVICE_ID, "10111213", "device_id");
    expect_row_refused(BE_EV_SEQ, NULL, "seq");
    expect_row_refused(BE_EV_SEQ, "0", "seq");
    expect_row_refused(BE_EV_SEQ, "-3", "seq");
    expect_row_refused(BE_EV_SEQ, "1x", "seq");
    expect_row_refused(BE_EV_SEQ, "99999999999999999999", "seq");
    expect_row_refused(BE_EV_PREV, "abcd", "prev");
    expect_row_refused(BE_EV_DIGEST, NULL, "digest");
    expect_row_refused(BE_EV_DIGEST, "zz", "digest");
    expect_row_refused(BE_EV_KIND, NULL, "kind");
    expect_row_refused(BE_EV_KIND, "visit.teleported", "kind");
    expect_row_refused(BE_EV_VISIT_ID, "not-a-uuid", "visit_id");
    expect_row_refused(BE_EV_WORKER_ID, "", "worker_id");
    expect_row_refused(BE_EV_RECIPIENT_ID, "x", "recipient_id");
    expect_row_refused(BE_EV_PLAN_ID, "x", "plan_id");
    expect_row_refused(BE_EV_BOOT_ID, "x", "boot_id");
    expect_row_refused(BE_EV_WALL_MS, NULL, "wall_time");
    expect_row_refused(BE_EV_WALL_MS, "1.5", "wall_time");
    expect_row_refused(BE_EV_MONO_MS, "", "mono_ms");
    expect_row_refused(BE_EV_CARD_METHOD, "nfc", "card_method");
    expect_row_refused(BE_EV_CARD_METHOD, "", "card_method");
    expect_row_refused(BE_EV_CARD_TOKEN, "AAECAwQFBgcICQoLDA0ODwX", "card_token");
    expect_row_refused(BE_EV_CARD_SCHEME, "a-scheme-too-long", "card_scheme");
    expect_row_refused(BE_EV_CARD_LAST4, "12345", "card_last4");
    expect_row_refused(BE_EV_LAT_E7, "55.7", "lat_e7");
    expect_row_refused(BE_EV_LON_E7, NULL, "lat_e7");
    expect_row_refused(BE_EV_ACCURACY_M, "4294967296", "lat_e7");
    expect_row_refused(BE_EV_SERVICE_CODES, NULL, "service_codes");
    expect_row_refused(BE_EV_SERVICE_QUANTITIES, NULL, "service_codes");
    expect_row_refused(BE_EV_SERVICE_QUANTITIES, "1", "service_codes");
    expect_row_refused(BE_EV_SERVICE_QUANTITIES, "1,2,3", "service_codes");
    expect_row_refused(BE_EV_SERVICE_QUANTITIES, "1,0", "service_codes");
    expect_row_refused(BE_EV_SERVICE_QUANTITIES, "1,101", "service_codes");
    expect_row_refused(BE_EV_SERVICE_QUANTITIES, "1,2x", "service_codes");
    expect_row_refused(BE_EV_SERVICE_CODES, "HH-01,,MED.02", "service_codes");
    expect_row_refused(BE_EV_SERVICE_CODES, "HH-01,ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456",
                       "service_codes");
    expect_row_refused(BE_EV_RATING, "0", "rating");
    expect_row_refused(BE_EV_RATING, "6", "rating");
    expect_row_refused(BE_EV_REASON, "bored", "reason");
    expect_row_refused(BE_EV_CANCELLED_BY, "cat", "cancelled_by");
    static char comment[CF_COMMENT_MAX_BYTES + 2];
    memset(comment, 'c', CF_COMMENT_MAX_BYTES + 1);
    expect_row_refused(BE_EV_COMMENT, comment, "comment");
    /* 33 services */
    static char codes[33 * 3], quantities[33 * 2];
    for (int i = 0; i < 33; i++) {
        memcpy(codes + 3 * i, "S1,", 3);
        memcpy(quantities + 2 * i, "1,", 2);
    }
    codes[sizeof codes - 1] = '\0';
    quantities[sizeof quantities - 1] = '\0';
    struct row *r = good_row();
    r->values[BE_EV_SERVICE_CODES] = codes;
    r->values[BE_EV_SERVICE_QUANTITIES] = quantities;
    assert_int_equal(be_event_from_row(r->values, &ev, digest, NULL), CF_EMALFORM);
}

/* A row whose digest is not its content's is read (the caller compares), not refused. */
static void test_row_digest_is_the_callers_check(void **state)
{
    (void)state;
    struct row *r = good_row();
    struct cf_event ev;
    uint8_t stored[CF_DIGEST_LEN], actual[CF_DIGEST_LEN];
    snprintf(r->text[BE_EV_MONO_MS], VALUE_MAX, "5000001"); /* altered in the database */
    assert_int_equal(be_event_from_row(r->values, &ev, stored, NULL), 0);
    assert_int_equal(ev.mono_ms, 5000001);
    assert_int_equal(cf_event_digest(&ev, actual), 0);
    assert_memory_not_equal(actual, stored, CF_DIGEST_LEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_line_exact),
        cmocka_unit_test(test_copy_verdict_columns),
        cmocka_unit_test(test_copy_escapes),
        cmocka_unit_test(test_copy_refusals),
        cmocka_unit_test(test_round_trip_every_kind),
        cmocka_unit_test(test_row_refusals),
        cmocka_unit_test(test_row_digest_is_the_callers_check),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
