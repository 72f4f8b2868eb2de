/* Unit tests for BER-TLV (cf/tlv.h): tag and length forms EMV uses, nesting,
 * padding, DOL lists, and a clear error for every malformed input — never a
 * read past the buffer (the sanitizer build checks that part). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cf/error.h"
#include "cf/tlv.h"

/* Parse exactly the given bytes from a heap copy of their exact size, so ASan
 * catches a read one past the end. */
static int parse_exact(const uint8_t *bytes, size_t len, size_t *offset, struct cf_tlv *out)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, bytes, len);
    int rc = cf_tlv_parse_one(copy, len, offset, out);
    /* value points into copy: callers only look at tag and length here. */
    free(copy);
    return rc;
}

static void test_single_byte_tag_short_length(void **state)
{
    (void)state;
    static const uint8_t data[] = {0x5A, 0x03, 0x22, 0x00, 0x12};
    size_t offset = 0;
    struct cf_tlv tlv;
    assert_int_equal(cf_tlv_parse_one(data, sizeof data, &offset, &tlv), 0);
    assert_int_equal(tlv.tag, 0x5A);
    assert_false(tlv.constructed);
    assert_int_equal(tlv.length, 3);
    assert_ptr_equal(tlv.value, data + 2);
    assert_int_equal(offset, sizeof data);
}

static void test_multi_byte_tags(void **state)
{
    (void)state;
    /* 9F38 (two bytes), BF0C (two bytes, constructed), DF8101 (three bytes). */
    static const uint8_t data[] = {0x9F, 0x38, 0x01, 0xAA, 0xBF, 0x0C,
                                   0x00, 0xDF, 0x81, 0x01, 0x01, 0xBB};
    size_t offset = 0;
    struct cf_tlv tlv;
    assert_int_equal(cf_tlv_parse_one(data, sizeof data, &offset, &tlv), 0);
    assert_int_equal(tlv.tag, 0x9F38);
    assert_false(tlv.constructed);
    assert_int_equal(tlv.value[0], 0xAA);
    assert_int_equal(cf_tlv_parse_one(data, sizeof data, &offset, &tlv), 0);
    assert_int_equal(tlv.tag, 0xBF0C);
    assert_true(tlv.constructed);
    assert_int_equal(tlv.length, 0);
    assert_int_equal(cf_tlv_parse_one(data, sizeof data, &offset, &tlv), 0);
    assert_int_equal(tlv.tag, 0xDF8101);
    assert_int_equal(tlv.value[0], 0xBB);
    assert_int_equal(offset, sizeof data);
    /* Four tag bytes is the most a uint32_t holds. */
    static const uint8_t four[] = {0xDF, 0x81, 0x82, 0x03, 0x00};
    offset = 0;
    assert_int_equal(parse_exact(four, sizeof four, &offset, &tlv), 0);
    assert_int_equal(tlv.tag, 0xDF818203u);
}

static void test_long_form_lengths(void **state)
{
    (void)state;
    /* 81 B9 (185), as VisaCardPpse3's "77 81 B9"; 82 01 2C (300); 83 00 01 00 (256). */
    size_t sizes[] = {185, 300, 256};
    uint8_t headers[][5] = {
        {0x77, 0x81, 0xB9}, {0x70, 0x82, 0x01, 0x2C}, {0x70, 0x83, 0x00, 0x01, 0x00}};
    size_t header_len[] = {3, 4, 5};
    for (size_t i = 0; i < 3; i++) {
        size_t len = header_len[i] + sizes[i];
        uint8_t *data = calloc(1, len);
        assert_non_null(data);
        memcpy(data, headers[i], header_len[i]);
        size_t offset = 0;
        struct cf_tlv tlv;
        assert_int_equal(cf_tlv_parse_one(data, len, &offset, &tlv), 0);
        assert_int_equal(tlv.length, sizes[i]);
        assert_ptr_equal(tlv.value, data + header_len[i]);
        assert_int_equal(offset, len);
        /* One byte short: the value runs past the end. */
        offset = 0;
        assert_int_equal(cf_tlv_parse_one(data, len - 1, &offset, &tlv), CF_ETRUNC);
        assert_int_equal(offset, 0);
        free(data);
    }
}

static void test_malformed_inputs(void **state)
{
    (void)state;
    struct {
        const char *what;
        uint8_t bytes[8];
        size_t len;
        int rc;
    } cases[] = {
        {"empty", {0}, 0, CF_ETRUNC},
        {"tag only", {0x5A}, 1, CF_ETRUNC},
        {"truncated multi-byte tag", {0x9F}, 1, CF_ETRUNC},
        {"truncated tag continuation", {0xDF, 0x81}, 2, CF_ETRUNC},
        {"too many tag bytes", {0xDF, 0x81, 0x82, 0x83, 0x04, 0x00}, 6, CF_EMALFORM},
        {"tag continuation 80 first", {0x9F, 0x80, 0x01, 0x00, 0x00}, 5, CF_EMALFORM},
        {"truncated long length", {0x70, 0x81}, 2, CF_ETRUNC},
        {"truncated two-byte length", {0x70, 0x82, 0x01}, 3, CF_ETRUNC},
        {"indefinite length", {0x70, 0x80, 0x00, 0x00}, 4, CF_EMALFORM},
        {"length of four bytes", {0x70, 0x84, 0x00, 0x00, 0x00, 0x01, 0x00}, 7, CF_EMALFORM},
        {"length FF", {0x70, 0xFF, 0x00}, 3, CF_EMALFORM},
        {"length past end", {0x5A, 0x08, 0x22, 0x00}, 4, CF_ETRUNC},
        {"long length past end", {0x70, 0x81, 0x80, 0x00}, 4, CF_ETRUNC},
        {"huge length", {0x70, 0x83, 0xFF, 0xFF, 0xFF, 0x00}, 6, CF_ETRUNC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t offset = 0;
        struct cf_tlv tlv;
        int rc = parse_exact(cases[i].bytes, cases[i].len, &offset, &tlv);
        if (rc != cases[i].rc)
            fail_msg("%s: got %d, expected %d", cases[i].what, rc, cases[i].rc);
        assert_int_equal(offset, 0);
    }
}

static void test_bad_arguments(void **state)
{
    (void)state;
    static const uint8_t data[] = {0x5A, 0x00};
    size_t offset = 3;
    struct cf_tlv tlv;
    assert_int_equal(cf_tlv_parse_one(data, sizeof data, &offset, &tlv), CF_EINVAL);
    assert_int_equal(cf_tlv_next(data, sizeof data, &offset, &tlv), CF_EINVAL);
    assert_int_equal(cf_tlv_parse_one(NULL, 0, &offset, &tlv), CF_EINVAL);
    assert_int_equal(cf_tlv_find(data, sizeof data, 0x5A, NULL), CF_EINVAL);
    assert_int_equal(cf_tlv_find(NULL, 0, 0x5A, &tlv), 0);
}

/* 00 and FF between objects, before the first and after the last. */
static void test_next_skips_padding(void **state)
{
    (void)state;
    static const uint8_t data[] = {0x00, 0xFF, 0x5A, 0x01, 0x11, 0x00, 0x00,
                                   0x57, 0x01, 0x22, 0xFF, 0xFF, 0x00};
    size_t offset = 0;
    struct cf_tlv tlv;
    assert_int_equal(cf_tlv_next(data, sizeof data, &offset, &tlv), 1);
    assert_int_equal(tlv.tag, 0x5A);
    assert_int_equal(tlv.value[0], 0x11);
    assert_int_equal(cf_tlv_next(data, sizeof data, &offset, &tlv), 1);
    assert_int_equal(tlv.tag, 0x57);
    assert_int_equal(tlv.value[0], 0x22);
    assert_int_equal(cf_tlv_next(data, sizeof data, &offset, &tlv), 0);
    assert_int_equal(offset, sizeof data);
    assert_int_equal(cf_tlv_next(data, sizeof data, &offset, &tlv), 0);
}

/* The PPSE answer of VisaCardPpse: 6F / A5 / BF0C / 61 / 4F, two entries. */
static const uint8_t ppse[] = {
    0x6F, 0x3B, 0x84, 0x0E, 0x32, 0x50, 0x41, 0x59, 0x2E, 0x53, 0x59, 0x53, 0x2E, 0x44, 0x44, 0x46,
    0x30, 0x31, 0xA5, 0x29, 0xBF, 0x0C, 0x26, 0x61, 0x10, 0x4F, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x42,
    0x10, 0x10, 0x50, 0x02, 0x43, 0x42, 0x87, 0x01, 0x01, 0x61, 0x12, 0x4F, 0x07, 0xA0, 0x00, 0x00,
    0x00, 0x03, 0x10, 0x10, 0x50, 0x04, 0x56, 0x49, 0x53, 0x41, 0x87, 0x01, 0x02};

static void test_find_in_nested_templates(void **state)
{
    (void)state;
    struct cf_tlv tlv;
    assert_int_equal(cf_tlv_find(ppse, sizeof ppse, 0x84, &tlv), 1);
    assert_int_equal(tlv.length, 14);
    assert_memory_equal(tlv.value, "2PAY.SYS.DDF01", 14);
    /* Depth 5, the first occurrence in document order. */
    assert_int_equal(cf_tlv_find(ppse, sizeof ppse, 0x4F, &tlv), 1);
    static const uint8_t cb[] = {0xA0, 0x00, 0x00, 0x00, 0x42, 0x10, 0x10};
    assert_memory_equal(tlv.value, cb, sizeof cb);
    assert_int_equal(cf_tlv_find(ppse, sizeof ppse, 0xBF0C, &tlv), 1);
    assert_true(tlv.constructed);
    assert_int_equal(tlv.length, 0x26);
    /* Iterating BF0C's children gives the two 61 entries. */
    size_t offset = 0;
    struct cf_tlv entry;
    unsigned entries = 0;
    int rc;
    while ((rc = cf_tlv_next(tlv.value, tlv.length, &offset, &entry)) == 1) {
        assert_int_equal(entry.tag, 0x61);
        entries++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(entries, 2);
    assert_int_equal(cf_tlv_find(ppse, sizeof ppse, 0x5A, &tlv), 0);
    /* Primitive values are not searched: 9F4B's bytes look like a 70 template. */
    static const uint8_t sdad[] = {0x9F, 0x4B, 0x04, 0x70, 0x02, 0x5A, 0x00};
    assert_int_equal(cf_tlv_find(sdad, sizeof sdad, 0x5A, &tlv), 0);
}

static void test_find_reports_malformed_data(void **state)
{
    (void)state;
    struct cf_tlv tlv;
    /* A template whose child runs past the template (but not past the buffer). */
    static const uint8_t child_past_parent[] = {0x70, 0x03, 0x5A, 0x08, 0x22, 0x9F, 0x36, 0x00};
    assert_int_equal(cf_tlv_find(child_past_parent, sizeof child_past_parent, 0x9F36, &tlv),
                     CF_ETRUNC);
    /* Found before the malformed part: the walk stops at the match. */
    static const uint8_t found_first[] = {0x5A, 0x01, 0x11, 0x70, 0x80};
    assert_int_equal(cf_tlv_find(found_first, sizeof found_first, 0x5A, &tlv), 1);
    assert_int_equal(cf_tlv_find(found_first, sizeof found_first, 0x57, &tlv), CF_EMALFORM);
}

/* Constructed E1 templates nested n deep, an empty 5A in the innermost. */
static size_t nest(uint8_t *out, unsigned depth)
{
    size_t len = 2 + 2 * (depth - 1);
    for (unsigned i = 0; i < depth - 1; i++) {
        out[2 * i] = 0xE1;
        out[2 * i + 1] = (uint8_t)(len - 2 * (i + 1));
    }
    out[len - 2] = 0x5A;
    out[len - 1] = 0x00;
    return len;
}

static void test_depth_limit(void **state)
{
    (void)state;
    uint8_t data[64];
    struct cf_tlv tlv;
    /* The 5A at level CF_TLV_MAX_DEPTH is found; one level deeper is refused. */
    size_t len = nest(data, CF_TLV_MAX_DEPTH);
    assert_int_equal(cf_tlv_find(data, len, 0x5A, &tlv), 1);
    assert_int_equal(tlv.length, 0);
    len = nest(data, CF_TLV_MAX_DEPTH + 1);
    assert_int_equal(cf_tlv_find(data, len, 0x5A, &tlv), CF_EMALFORM);
    /* Depth is not the problem when the tag is not under the deep part. */
    len = nest(data, CF_TLV_MAX_DEPTH);
    assert_int_equal(cf_tlv_find(data, len, 0xE1, &tlv), 1);
}

/* ==== DOL ==== */

struct dol_log {
    uint32_t tags[16];
    size_t lengths[16];
    size_t count;
    int stop_at; /* entry index at which to return an error, -1 never */
};

static int log_entry(void *ctx, uint32_t tag, size_t length)
{
    struct dol_log *log = ctx;
    if ((int)log->count == log->stop_at)
        return CF_ENOSPACE;
    log->tags[log->count] = tag;
    log->lengths[log->count] = length;
    log->count++;
    return 0;
}

static void test_dol_parse(void **state)
{
    (void)state;
    /* VisaCardPpse's PDOL. */
    static const uint8_t pdol[] = {0x9F, 0x66, 0x04, 0x9F, 0x02, 0x06, 0x9F, 0x03,
                                   0x06, 0x9F, 0x1A, 0x02, 0x95, 0x05, 0x5F, 0x2A,
                                   0x02, 0x9A, 0x03, 0x9C, 0x01, 0x9F, 0x37, 0x04};
    static const uint32_t tags[] = {0x9F66, 0x9F02, 0x9F03, 0x9F1A, 0x95,
                                    0x5F2A, 0x9A,   0x9C,   0x9F37};
    static const size_t lengths[] = {4, 6, 6, 2, 5, 2, 3, 1, 4};
    struct dol_log log = {.stop_at = -1};
    assert_int_equal(cf_dol_parse(pdol, sizeof pdol, log_entry, &log), 0);
    assert_int_equal(log.count, 9);
    for (size_t i = 0; i < 9; i++) {
        assert_int_equal(log.tags[i], tags[i]);
        assert_int_equal(log.lengths[i], lengths[i]);
    }
    /* Empty DOL: no call. */
    struct dol_log empty = {.stop_at = -1};
    assert_int_equal(cf_dol_parse(pdol, 0, log_entry, &empty), 0);
    assert_int_equal(empty.count, 0);
}

static void test_dol_errors(void **state)
{
    (void)state;
    struct dol_log log = {.stop_at = -1};
    static const uint8_t missing_length[] = {0x9F, 0x66, 0x04, 0x9F, 0x02};
    assert_int_equal(cf_dol_parse(missing_length, sizeof missing_length, log_entry, &log),
                     CF_ETRUNC);
    assert_int_equal(log.count, 1); /* the entry before the bad one was seen */
    static const uint8_t truncated_tag[] = {0x9F};
    assert_int_equal(cf_dol_parse(truncated_tag, 1, log_entry, &log), CF_ETRUNC);
    static const uint8_t indefinite[] = {0x9F, 0x66, 0x80};
    assert_int_equal(cf_dol_parse(indefinite, sizeof indefinite, log_entry, &log), CF_EMALFORM);
    static const uint8_t long_tag[] = {0xDF, 0x81, 0x82, 0x83, 0x04, 0x01};
    assert_int_equal(cf_dol_parse(long_tag, sizeof long_tag, log_entry, &log), CF_EMALFORM);
    /* The callback's error stops the walk and comes back. */
    static const uint8_t two[] = {0x9F, 0x66, 0x04, 0x9F, 0x02, 0x06};
    struct dol_log stopping = {.stop_at = 1};
    assert_int_equal(cf_dol_parse(two, sizeof two, log_entry, &stopping), CF_ENOSPACE);
    assert_int_equal(stopping.count, 1);
    assert_int_equal(cf_dol_parse(two, sizeof two, NULL, NULL), CF_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_byte_tag_short_length),
        cmocka_unit_test(test_multi_byte_tags),
        cmocka_unit_test(test_long_form_lengths),
        cmocka_unit_test(test_malformed_inputs),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_next_skips_padding),
        cmocka_unit_test(test_find_in_nested_templates),
        cmocka_unit_test(test_find_reports_malformed_data),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_dol_parse),
        cmocka_unit_test(test_dol_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
