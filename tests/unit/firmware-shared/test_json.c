/* Unit tests for the strict JSON readers (cf/json.h) that every body from outside
 * goes through: what the pre-scan refuses before cJSON builds a tree, integers at
 * the 10^15 edge, strings, UUIDs, hex, unknown and repeated fields, and a person's
 * text (UTF-8 checked, counted in characters, not blank when required). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cf/json.h"
#include "cf/text.h"

static cJSON *parse_ok(const char *text)
{
    cJSON *root = NULL;
    struct cf_error_detail d = {0};
    if (cf_json_parse(text, strlen(text), 4096, &root, &d) != 0)
        fail_msg("'%s' refused: %s", text, d.message);
    return root;
}

static void expect_parse_error(const char *text, size_t len, int code, const char *in_message)
{
    cJSON *root = (cJSON *)1;
    struct cf_error_detail d = {0};
    int rc = cf_json_parse(text, len, 4096, &root, &d);
    if (rc != code || !strstr(d.message, in_message))
        fail_msg("got %d '%s', want %d with '%s'", rc, d.message, code, in_message);
    assert_null(root);
    assert_string_equal(d.field, "");
    assert_int_equal(d.code, code);
}

static void test_parse_refusals(void **state)
{
    (void)state;
    expect_parse_error("{\"a\":1} x", 9, CF_EJSON, "after its JSON value");
    /* Whatever follows, a bracket or a second value too (mutant json.trailing-data). */
    expect_parse_error("{\"a\":1}}", 8, CF_EJSON, "after its JSON value (byte 7)");
    expect_parse_error("{\"a\":1}\n{\"a\":2}", 15, CF_EJSON, "after its JSON value (byte 8)");
    expect_parse_error("{\"a\":", 5, CF_EJSON, "not valid JSON");
    expect_parse_error("", 0, CF_EJSON, "not valid JSON");
    expect_parse_error("{\"a\":\"x\\u0000y\"}", 16, CF_EJSON, "\\u0000");
    /* cJSON decodes a \u without four hex digits as NUL: a phone "\u/..." arrived as ""
     * (fuzz.request_body). Each spelling is refused, the last at the end of the text. */
    expect_parse_error("{\"a\":\"\\u/123 4\"}", 16, CF_EJSON, "without four hex digits (byte 6)");
    expect_parse_error("{\"a\":\"x\\u12g4\"}", 15, CF_EJSON, "without four hex digits");
    expect_parse_error("{\"a\":\"\\u12", 10, CF_EJSON, "without four hex digits");
    expect_parse_error("{\"a\":\"x\ny\"}", 11, CF_EJSON, "control character");
    expect_parse_error("{\"a\":\"x\0y\"}", 11, CF_EJSON, "control character");
    expect_parse_error("{\"a\":1}\0", 8, CF_EJSON, "control character");
    expect_parse_error("{\x01\"a\":1}", 8, CF_EJSON, "control character");
    expect_parse_error("{\"a\":1}", 7000, CF_ETOOBIG, "larger than 4096 bytes");

    char deep[80];
    memset(deep, '{', sizeof deep);
    expect_parse_error(deep, sizeof deep, CF_EJSON, "nested deeper than 32 levels");

    cJSON *root = NULL;
    struct cf_error_detail d = {0};
    assert_int_equal(cf_json_parse_capped("[1,2,3]", 7, 100, 3, &root, &d), CF_ETOOBIG);
    assert_null(root);
    assert_int_equal(cf_json_parse_capped("[1,2,3]", 7, 100, 4, &root, &d), 0);
    assert_int_equal(cJSON_GetArraySize(root), 3);
    cJSON_Delete(root);
}

static void test_parse_accepts_what_is_only_escaped(void **state)
{
    (void)state;
    /* Escaped quotes, backslashes and brackets inside strings are text, not structure;
     * an escaped \u0000 spelled with an escaped backslash is not a NUL. */
    cJSON *root =
        parse_ok(" {\"a\":\"[[{\\\"\\\\\",\"b\":\"\\\\u0000\",\"c\":\"\\u00e9\\u00C9\\n\"}\r\n");
    assert_string_equal(cJSON_GetObjectItem(root, "a")->valuestring, "[[{\"\\");
    assert_string_equal(cJSON_GetObjectItem(root, "b")->valuestring, "\\u0000");
    assert_string_equal(cJSON_GetObjectItem(root, "c")->valuestring, "\xc3\xa9\xc3\x89\n");
    cJSON_Delete(root);
    /* Exactly 32 levels. */
    char text[65];
    memset(text, '[', 32);
    memset(text + 32, ']', 32);
    text[64] = '\0';
    root = parse_ok(text);
    cJSON_Delete(root);
    /* One level more is refused: the cap is exact (mutant json.depth). */
    char deeper[67];
    memset(deeper, '[', 33);
    memset(deeper + 33, ']', 33);
    expect_parse_error(deeper, 66, CF_EJSON, "nested deeper than 32 levels (byte 32)");
}

static void test_integers(void **state)
{
    (void)state;
    cJSON *root = parse_ok("{\"max\":999999999999999,\"over\":1000000000000000,\"neg\":-3,"
                           "\"beyond\":9007199254740993,\"frac\":2.5,\"exp\":2e3,\"str\":\"7\","
                           "\"huge\":1e400,\"nul\":null}");
    struct cf_error_detail d = {0};
    int64_t v = 0;
    assert_int_equal(cf_json_get_int(root, "max", "p", true, 0, INT64_MAX, &v, &d), 0);
    assert_int_equal(v, INT64_C(999999999999999));
    assert_int_equal(cf_json_get_int(root, "over", "p", true, 0, INT64_MAX, &v, &d),
                     CF_EFIELD_RANGE);
    assert_string_equal(d.field, "p.over");
    assert_non_null(strstr(d.message, "999999999999999"));
    assert_int_equal(cf_json_get_int(root, "beyond", "p", true, 0, INT64_MAX, &v, &d),
                     CF_EFIELD_RANGE); /* 2^53 + 1 reads as 2^53: refused either way */
    assert_int_equal(cf_json_get_int(root, "neg", "", true, -3, 3, &v, &d), 0);
    assert_int_equal(v, -3);
    assert_int_equal(cf_json_get_int(root, "neg", "", true, 0, 3, &v, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "neg");
    assert_int_equal(cf_json_get_int(root, "frac", "", true, 0, 3, &v, &d), CF_EFIELD_TYPE);
    assert_int_equal(cf_json_get_int(root, "exp", "", true, 0, 3000, &v, &d), 0);
    assert_int_equal(v, 2000);
    assert_int_equal(cf_json_get_int(root, "str", "", true, 0, 9, &v, &d), CF_EFIELD_TYPE);
    assert_int_equal(cf_json_get_int(root, "huge", "", true, 0, 9, &v, &d), CF_EFIELD_TYPE);
    assert_int_equal(cf_json_get_int(root, "nul", "", true, 0, 9, &v, &d), CF_EFIELD_TYPE);
    assert_int_equal(cf_json_get_int(root, "none", "x", true, 0, 9, &v, &d), CF_EFIELD_MISSING);
    assert_string_equal(d.field, "x.none");
    v = 5;
    assert_int_equal(cf_json_get_int(root, "none", "x", false, 0, 9, &v, &d), 0);
    assert_int_equal(v, 0);
    cJSON_Delete(root);
}

static void test_strings_uuids_hex(void **state)
{
    (void)state;
    cJSON *root = parse_ok("{\"s\":\"abcd\",\"n\":1,\"u\":\"0190A6E4-7b1c-7d3e-8f00-1234567890ab\","
                           "\"bad\":\"0190a6e4-7b1c-7d3e-8f00-1234567890a\",\"h\":\"00ff\","
                           "\"odd\":\"0ff\",\"long\":\"00ff00\"}");
    struct cf_error_detail d = {0};
    char text[8];
    assert_int_equal(cf_json_get_string(root, "s", "", true, 4, text, sizeof text, &d), 0);
    assert_string_equal(text, "abcd");
    assert_int_equal(cf_json_get_string(root, "s", "", true, 3, text, sizeof text, &d),
                     CF_EFIELD_RANGE);
    assert_int_equal(cf_json_get_string(root, "s", "", true, 9, text, 4, &d), CF_EFIELD_RANGE);
    assert_int_equal(cf_json_get_string(root, "n", "", true, 9, text, sizeof text, &d),
                     CF_EFIELD_TYPE);
    assert_int_equal(cf_json_get_string(root, "x", "", false, 9, text, sizeof text, &d), 0);
    assert_string_equal(text, "");

    uint8_t id[16];
    static const uint8_t want[16] = {0x01, 0x90, 0xa6, 0xe4, 0x7b, 0x1c, 0x7d, 0x3e,
                                     0x8f, 0x00, 0x12, 0x34, 0x56, 0x78, 0x90, 0xab};
    assert_int_equal(cf_json_get_uuid(root, "u", "", true, id, &d), 0);
    assert_memory_equal(id, want, 16);
    assert_int_equal(cf_json_get_uuid(root, "bad", "e", true, id, &d), CF_EFIELD_RANGE);
    assert_string_equal(d.field, "e.bad");
    assert_int_equal(cf_json_get_uuid(root, "n", "", false, id, &d), CF_EFIELD_TYPE);
    assert_int_equal(cf_json_get_uuid(root, "x", "", false, id, &d), 0);
    static const uint8_t nil[16] = {0};
    assert_memory_equal(id, nil, 16);
    assert_int_equal(cf_json_get_uuid(root, "x", "", true, id, &d), CF_EFIELD_MISSING);

    uint8_t bytes[2];
    assert_int_equal(cf_json_get_hex(root, "h", "", true, bytes, 2, &d), 0);
    assert_int_equal(bytes[0], 0x00);
    assert_int_equal(bytes[1], 0xff);
    assert_int_equal(cf_json_get_hex(root, "odd", "", true, bytes, 2, &d), CF_EFIELD_RANGE);
    assert_int_equal(cf_json_get_hex(root, "long", "", true, bytes, 2, &d), CF_EFIELD_RANGE);
    assert_int_equal(cf_json_get_hex(root, "x", "", false, bytes, 2, &d), 0);
    assert_int_equal(bytes[0] | bytes[1], 0);
    cJSON_Delete(root);
}

static void test_fields(void **state)
{
    (void)state;
    static const char *const allowed[] = {"a", "b", NULL};
    struct cf_error_detail d = {0};
    cJSON *root = parse_ok("{\"a\":1,\"b\":2}");
    assert_int_equal(cf_json_check_fields(root, allowed, "", &d), 0);
    cJSON_Delete(root);

    root = parse_ok("{\"a\":1,\"c\":2}");
    assert_int_equal(cf_json_check_fields(root, allowed, "obj", &d), CF_EFIELD_UNKNOWN);
    assert_string_equal(d.field, "obj.c");
    assert_non_null(strstr(d.message, "check its spelling"));
    cJSON_Delete(root);

    root = parse_ok("{\"a\":1,\"b\":2,\"a\":3}");
    assert_int_equal(cf_json_check_fields(root, allowed, "", &d), CF_EFIELD_UNKNOWN);
    assert_string_equal(d.field, "a");
    assert_non_null(strstr(d.message, "given twice"));
    cJSON_Delete(root);

    /* A name from outside is shown printable and short, whatever it holds. */
    root = parse_ok("{\"x\\ny\\u00e9\\\"\":1}");
    assert_int_equal(cf_json_check_fields(root, allowed, "", &d), CF_EFIELD_UNKNOWN);
    assert_string_equal(d.field, "x?y??\"");
    cJSON_Delete(root);

    root = parse_ok("[1]");
    assert_int_equal(cf_json_check_fields(root, allowed, "", &d), CF_EFIELD_TYPE);
    assert_non_null(strstr(d.message, "the body must be a JSON object"));
    cJSON_Delete(root);
}

static void test_people_text(void **state)
{
    (void)state;
    assert_int_equal(cf_text_chars(""), 0);
    assert_int_equal(cf_text_chars("Спасибо\nвсё хорошо"), 18);
    assert_int_equal(cf_text_chars("emoji \xF0\x9F\x98\x80"), 7);
    assert_int_equal(cf_text_chars("tab\there"), -1); /* control characters */
    assert_int_equal(cf_text_chars("\x7F"), -1);
    assert_int_equal(cf_text_chars("\xC2\x85"), -1); /* C1 (NEL) */
    assert_int_equal(cf_text_chars("\xC0\xAF"), -1); /* overlong '/' */
    assert_int_equal(cf_text_chars("\xED\xA0\x80"), -1); /* a surrogate */
    assert_int_equal(cf_text_chars("\xF4\x90\x80\x80"), -1); /* past U+10FFFF */
    assert_int_equal(cf_text_chars("\xD0"), -1); /* cut short */
    assert_true(cf_text_blank(" \n\t"));
    assert_false(cf_text_blank(" x "));

    char out[4 * 5 + 1];
    struct cf_error_detail d = {0};
    cJSON *body = parse_ok("{\"reason\":\"Забыли\",\"long\":\"шесть!\",\"blank\":\"  \","
                           "\"tab\":\"a\\tb\",\"n\":5}");
    assert_int_equal(cf_json_get_text(body, "reason", "", true, 6, "say why", out, sizeof out, &d),
                     0);
    assert_string_equal(out, "Забыли"); /* 6 characters, 12 bytes */
    assert_int_equal(cf_json_get_text(body, "long", "", true, 5, "say why", out, sizeof out, &d),
                     CF_EFIELD_RANGE);
    assert_string_equal(d.field, "long");
    assert_non_null(strstr(d.message, "at most 5 characters"));
    assert_int_equal(cf_json_get_text(body, "blank", "", true, 5, "say why", out, sizeof out, &d),
                     CF_EFIELD_RANGE);
    assert_non_null(strstr(d.message, "must not be empty: say why"));
    assert_int_equal(cf_json_get_text(body, "blank", "", false, 5, "", out, sizeof out, &d), 0);
    assert_int_equal(cf_json_get_text(body, "tab", "", false, 5, "", out, sizeof out, &d),
                     CF_EFIELD_RANGE);
    assert_non_null(strstr(d.message, "plain text"));
    assert_int_equal(cf_json_get_text(body, "n", "", false, 5, "", out, sizeof out, &d),
                     CF_EFIELD_TYPE);
    assert_int_equal(cf_json_get_text(body, "none", "x", true, 5, "say why", out, sizeof out, &d),
                     CF_EFIELD_MISSING);
    assert_string_equal(d.field, "x.none");
    assert_int_equal(cf_json_get_text(body, "none", "", false, 5, "", out, sizeof out, &d), 0);
    assert_string_equal(out, "");
    cJSON_Delete(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_parse_accepts_what_is_only_escaped),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_strings_uuids_hex),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_people_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
