/* Unit tests for card transcripts (cf/transcript.h): the line format (comments,
 * blanks, empty send), errors that name their line, the replay matcher's order
 * and its answers to unrecorded commands, reset, and the transceive adapter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cf/error.h"
#include "cf/transcript.h"

static void parse_ok(const char *text, struct cf_transcript *t)
{
    struct cf_error_detail detail = {0};
    int rc = cf_transcript_parse(text, strlen(text), t, &detail);
    if (rc)
        fail_msg("unexpected parse error %d: %s", rc, detail.message);
}

static void expect_error(const char *text, int code, const char *line, const char *words)
{
    struct cf_transcript t = {(void *)1, 99};
    struct cf_error_detail detail = {0};
    assert_int_equal(cf_transcript_parse(text, strlen(text), &t, &detail), code);
    assert_int_equal(detail.code, code);
    assert_string_equal(detail.field, line);
    if (!strstr(detail.message, words))
        fail_msg("message \"%s\" does not say \"%s\"", detail.message, words);
    assert_null(t.steps);
    assert_int_equal(t.count, 0);
}

static long answer(struct cf_transcript *t, const uint8_t *apdu, size_t len, uint8_t *out)
{
    return cf_transcript_answer(t, apdu, len, out, 258);
}

static void test_parse_format(void **state)
{
    (void)state;
    static const char text[] = "# a comment line\n"
                               "\n"
                               "   send: 00 A4 04 00 02 3F 00 00   \r\n"
                               "resp:6F00 9000 # comment after hex\n"
                               "send:\n"
                               "resp: 80 02 19 80 90 00\n"
                               "\t# indented comment\n"
                               "send: 00b2010c00\n"
                               "resp: 6A 83"; /* no final newline */
    struct cf_transcript t;
    parse_ok(text, &t);
    assert_int_equal(t.count, 3);
    static const uint8_t select[] = {0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00, 0x00};
    assert_int_equal(t.steps[0].command_len, sizeof select);
    assert_memory_equal(t.steps[0].command, select, sizeof select);
    static const uint8_t fci[] = {0x6F, 0x00, 0x90, 0x00};
    assert_int_equal(t.steps[0].response_len, sizeof fci);
    assert_memory_equal(t.steps[0].response, fci, sizeof fci);
    assert_null(t.steps[1].command); /* empty send: any GPO */
    assert_int_equal(t.steps[1].command_len, 0);
    assert_int_equal(t.steps[1].response_len, 6);
    static const uint8_t read[] = {0x00, 0xB2, 0x01, 0x0C, 0x00};
    assert_memory_equal(t.steps[2].command, read, sizeof read);
    assert_int_equal(t.steps[2].response[0], 0x6A);
    assert_false(t.steps[2].used);
    cf_transcript_cleanup(&t);
    assert_null(t.steps);
    assert_int_equal(t.count, 0);
    cf_transcript_cleanup(&t); /* twice is fine */
    cf_transcript_cleanup(NULL);
}

static void test_parse_empty_text(void **state)
{
    (void)state;
    struct cf_transcript t;
    parse_ok("# nothing but a comment\n\n", &t);
    assert_int_equal(t.count, 0);
    cf_transcript_cleanup(&t);
    assert_int_equal(cf_transcript_parse("", 0, &t, NULL), 0);
    assert_int_equal(t.count, 0);
}

/* Not NUL-terminated: only len bytes are read. */
static void test_parse_respects_length(void **state)
{
    (void)state;
    static const char text[] = "send: 00 B2 01 0C 00\nresp: 90 00\nGARBAGE";
    struct cf_transcript t;
    size_t len = strlen(text) - strlen("GARBAGE");
    char *exact = malloc(len);
    assert_non_null(exact);
    memcpy(exact, text, len);
    assert_int_equal(cf_transcript_parse(exact, len, &t, NULL), 0);
    assert_int_equal(t.count, 1);
    cf_transcript_cleanup(&t);
    free(exact);
}

static void test_parse_errors_name_their_line(void **state)
{
    (void)state;
    expect_error("send: 00 A4 04 00\nresp: 90 0G\n", CF_EMALFORM, "line 2", "not a hex digit");
    expect_error("# c\nsend: 00 A4 04 00 0\nresp: 90 00\n", CF_EMALFORM, "line 2", "odd number");
    expect_error("resp: 90 00\n", CF_EMALFORM, "line 1", "without a \"send:\"");
    expect_error("send: 00 B2 01 0C 00\n\nsend: 00 B2 02 0C 00\nresp: 90 00\n", CF_EMALFORM,
                 "line 3", "line 1");
    expect_error("send: 00 B2 01 0C 00\nresp: 90 00\nsend: 00 B2 02 0C 00\n", CF_EMALFORM, "line 3",
                 "without a \"resp:\"");
    expect_error("send: 00 B2 01 0C 00\nresp: 90\n", CF_EMALFORM, "line 2", "SW1 SW2");
    expect_error("send: 00 B2 01 0C 00\nresp:\n", CF_EMALFORM, "line 2", "SW1 SW2");
    expect_error("send: 00 B2\nresp: 90 00\n", CF_EMALFORM, "line 1", "at least 4 bytes");
    expect_error("send: 00 B2 01 0C 00\nreply: 90 00\n", CF_EMALFORM, "line 2", "expected");
    expect_error("send: 00 B2 01 0C 00\nResp: 90 00\n", CF_EMALFORM, "line 2", "expected");
}

static void test_parse_caps(void **state)
{
    (void)state;
    /* A response of 259 bytes (over 256 data + SW). */
    size_t cap = 64 + 3 * 259;
    char *text = malloc(cap);
    assert_non_null(text);
    int n = snprintf(text, cap, "send: 00 B2 01 0C 00\nresp:");
    for (int i = 0; i < 259; i++)
        n += snprintf(text + n, cap - (size_t)n, " 00");
    expect_error(text, CF_ETOOBIG, "line 2", "longer than 258");
    free(text);

    /* Over CF_TRANSCRIPT_MAX_TEXT: refused before anything is read. */
    struct cf_transcript t;
    struct cf_error_detail detail = {0};
    static const char small[] = "#";
    assert_int_equal(cf_transcript_parse(small, (size_t)CF_TRANSCRIPT_MAX_TEXT + 1, &t, &detail),
                     CF_ETOOBIG);

    /* More than CF_TRANSCRIPT_MAX_STEPS steps. */
    static const char pair[] = "send: 00 B2 01 0C 00\nresp: 90 00\n";
    size_t steps = (size_t)CF_TRANSCRIPT_MAX_STEPS + 1;
    size_t len = steps * (sizeof pair - 1);
    char *many = malloc(len + 1);
    assert_non_null(many);
    for (size_t i = 0; i < steps; i++)
        memcpy(many + i * (sizeof pair - 1), pair, sizeof pair - 1);
    many[len] = '\0';
    char line[32];
    snprintf(line, sizeof line, "line %zu", 2 * steps);
    expect_error(many, CF_ETOOBIG, line, "more than");
    /* Exactly the cap is fine. */
    assert_int_equal(cf_transcript_parse(many, len - (sizeof pair - 1), &t, NULL), 0);
    assert_int_equal(t.count, CF_TRANSCRIPT_MAX_STEPS);
    cf_transcript_cleanup(&t);
    free(many);
}

/* The first unused matching step answers, in file order; the same command gets
 * the next recorded answer the second time. */
static void test_matching_order(void **state)
{
    (void)state;
    static const char text[] = "send: 00 B2 01 0C 00\n"
                               "resp: 6C 10\n"
                               "send: 00 B2 02 0C 00\n"
                               "resp: 70 00 90 00\n"
                               "send: 00 B2 01 0C 00\n"
                               "resp: 70 01 AA 90 00\n";
    struct cf_transcript t;
    parse_ok(text, &t);
    static const uint8_t read1[] = {0x00, 0xB2, 0x01, 0x0C, 0x00};
    static const uint8_t read2[] = {0x00, 0xB2, 0x02, 0x0C, 0x00};
    uint8_t out[258];
    assert_int_equal(answer(&t, read1, sizeof read1, out), 2);
    assert_int_equal(out[0], 0x6C);
    assert_int_equal(answer(&t, read1, sizeof read1, out), 5);
    assert_int_equal(out[2], 0xAA);
    assert_int_equal(answer(&t, read2, sizeof read2, out), 4);
    assert_true(t.steps[0].used && t.steps[1].used && t.steps[2].used);
    /* All used: a READ RECORD nothing answers is "record not found". */
    assert_int_equal(answer(&t, read1, sizeof read1, out), 2);
    assert_int_equal(out[0], 0x6A);
    assert_int_equal(out[1], 0x82);
    cf_transcript_cleanup(&t);
}

/* An empty send answers any GPO and any READ RECORD that no earlier step
 * answers, never a SELECT or anything else. */
static void test_wildcard(void **state)
{
    (void)state;
    static const char text[] = "send:\nresp: 80 02 19 80 90 00\n"
                               "send:\nresp: 70 00 90 00\n";
    struct cf_transcript t;
    parse_ok(text, &t);
    uint8_t out[258];
    static const uint8_t select[] = {0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00, 0x00};
    assert_int_equal(answer(&t, select, sizeof select, out), 2);
    assert_int_equal(out[0], 0x6A);
    assert_int_equal(out[1], 0x82);
    static const uint8_t get_data[] = {0x80, 0xCA, 0x9F, 0x36, 0x00};
    assert_int_equal(answer(&t, get_data, sizeof get_data, out), 2);
    assert_int_equal(out[0], 0x6D);
    assert_int_equal(out[1], 0x00);
    assert_false(t.steps[0].used);
    static const uint8_t gpo[] = {0x80, 0xA8, 0x00, 0x00, 0x04, 0x83, 0x02, 0x12, 0x34, 0x00};
    assert_int_equal(answer(&t, gpo, sizeof gpo, out), 6);
    assert_int_equal(out[0], 0x80);
    static const uint8_t read[] = {0x00, 0xB2, 0x03, 0x14, 0x00};
    assert_int_equal(answer(&t, read, sizeof read, out), 4);
    assert_int_equal(out[0], 0x70);
    /* Both wildcards used: a second GPO is an unknown command. */
    assert_int_equal(answer(&t, gpo, sizeof gpo, out), 2);
    assert_int_equal(out[0], 0x6D);
    cf_transcript_cleanup(&t);
}

static void test_reset_and_small_buffer(void **state)
{
    (void)state;
    struct cf_transcript t;
    parse_ok("send: 00 B2 01 0C 00\nresp: 70 02 5A 00 90 00\n", &t);
    static const uint8_t read[] = {0x00, 0xB2, 0x01, 0x0C, 0x00};
    uint8_t out[258];
    /* Too small: CF_ENOSPACE, and the step stays available. */
    assert_int_equal(cf_transcript_answer(&t, read, sizeof read, out, 3), CF_ENOSPACE);
    assert_false(t.steps[0].used);
    assert_int_equal(answer(&t, read, sizeof read, out), 6);
    assert_int_equal(answer(&t, read, sizeof read, out), 2);
    cf_transcript_reset(&t);
    assert_false(t.steps[0].used);
    assert_int_equal(answer(&t, read, sizeof read, out), 6);
    cf_transcript_reset(NULL);
    cf_transcript_cleanup(&t);
}

static void test_transceive_adapter(void **state)
{
    (void)state;
    struct cf_transcript t;
    parse_ok("send: 00 A4 04 00 02 3F 00 00\nresp: 6F 00 90 00\n", &t);
    static const uint8_t select[] = {0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00, 0x00};
    uint8_t resp[258];
    size_t resp_len = 0;
    assert_int_equal(
        cf_transcript_transceive(&t, select, sizeof select, resp, sizeof resp, &resp_len), 0);
    assert_int_equal(resp_len, 4);
    assert_int_equal(resp[0], 0x6F);
    assert_int_equal(cf_transcript_transceive(&t, select, sizeof select, resp, 1, &resp_len),
                     CF_ENOSPACE);
    assert_int_equal(
        cf_transcript_transceive(NULL, select, sizeof select, resp, sizeof resp, &resp_len),
        CF_EINVAL);
    cf_transcript_cleanup(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format),
        cmocka_unit_test(test_parse_empty_text),
        cmocka_unit_test(test_parse_respects_length),
        cmocka_unit_test(test_parse_errors_name_their_line),
        cmocka_unit_test(test_parse_caps),
        cmocka_unit_test(test_matching_order),
        cmocka_unit_test(test_wildcard),
        cmocka_unit_test(test_reset_and_small_buffer),
        cmocka_unit_test(test_transceive_adapter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
