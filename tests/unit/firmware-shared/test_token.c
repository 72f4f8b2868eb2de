/* Unit tests for card tokens (cf/token.h): known answers computed outside this
 * code with the openssl command line, the "uid:" + upper-case hex rule, and the
 * refusals of bad keys, PANs and UIDs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cf/error.h"
#include "cf/token.h"

/* Key 00 01 02 ... 1F (32 bytes). */
static const uint8_t key32[32] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
                                  0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
                                  0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};

/* Every expected token below was computed with (OpenSSL 3.0 CLI, coreutils):
 *
 *   K=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
 *   printf '%s' "$MESSAGE" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$K -binary \
 *     | head -c 16 | base64 | tr '+/' '-_' | tr -d '='
 *
 * e.g. for 2200123456789019 the full MAC is
 * 2810335ceb2b11ba6fcfcbe4c9b3435c0d377d9a505f30b80c0d614ae0190931. */
static void test_pan_known_answers(void **state)
{
    (void)state;
    char token[CF_TOKEN_TEXT_LEN + 1];
    assert_int_equal(cf_token_from_pan(key32, sizeof key32, "2200123456789019", token), 0);
    assert_string_equal(token, "KBAzXOsrEbpvz8vkybNDXA");
    assert_int_equal(strlen(token), CF_TOKEN_TEXT_LEN);
    assert_int_equal(cf_token_from_pan(key32, sizeof key32, "4111111111111111", token), 0);
    assert_string_equal(token, "BiIkEgE4KkWRL7IoKLP32w");
}

/* Shortest PAN with the shortest key, longest PAN with the longest key:
 *   K=6b65792d6b65792d6b65792d6b65792d ("key-key-key-key-"), MESSAGE=220012345678
 *   K=ab repeated 64 times,                                  MESSAGE=2200123456789012345 */
static void test_length_limits_known_answers(void **state)
{
    (void)state;
    char token[CF_TOKEN_TEXT_LEN + 1];
    const uint8_t *key16 = (const uint8_t *)"key-key-key-key-";
    assert_int_equal(cf_token_from_pan(key16, 16, "220012345678", token), 0);
    assert_string_equal(token, "61xeMncOli2Xaqis_q9lbQ");
    uint8_t key64[64];
    memset(key64, 0xab, sizeof key64);
    assert_int_equal(cf_token_from_pan(key64, sizeof key64, "2200123456789012345", token), 0);
    assert_string_equal(token, "SeUEUR88rMhyv8puXKvxnQ");
}

/* MESSAGE=uid:04A1B2C3D4E5F6 and MESSAGE=uid:DEADBEEF with the 32-byte key. */
static void test_uid_known_answers(void **state)
{
    (void)state;
    char token[CF_TOKEN_TEXT_LEN + 1];
    static const uint8_t uid7[7] = {0x04, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6};
    assert_int_equal(cf_token_from_uid(key32, sizeof key32, uid7, sizeof uid7, token), 0);
    assert_string_equal(token, "NR23XRqmfUO39ofatNknbA");
    static const uint8_t uid4[4] = {0xde, 0xad, 0xbe, 0xef};
    assert_int_equal(cf_token_from_uid(key32, sizeof key32, uid4, sizeof uid4, token), 0);
    assert_string_equal(token, "2mXX43acOkDzm64O8TdEFQ");
}

/* The "uid:" prefix keeps a UID whose hex is all digits apart from the PAN of
 * the same digits (upper-case hex itself is pinned by the known answers above:
 * 04A1B2C3D4E5F6 has letters). */
static void test_uid_and_pan_do_not_collide(void **state)
{
    (void)state;
    char from_uid[CF_TOKEN_TEXT_LEN + 1];
    char from_pan[CF_TOKEN_TEXT_LEN + 1];
    static const uint8_t uid[6] = {0x22, 0x00, 0x12, 0x34, 0x56, 0x78};
    assert_int_equal(cf_token_from_uid(key32, sizeof key32, uid, sizeof uid, from_uid), 0);
    assert_int_equal(cf_token_from_pan(key32, sizeof key32, "220012345678", from_pan), 0);
    assert_string_not_equal(from_uid, from_pan);
}

static void test_different_keys_give_different_tokens(void **state)
{
    (void)state;
    char a[CF_TOKEN_TEXT_LEN + 1];
    char b[CF_TOKEN_TEXT_LEN + 1];
    uint8_t other[32];
    memcpy(other, key32, sizeof other);
    other[31] ^= 0x01;
    assert_int_equal(cf_token_from_pan(key32, sizeof key32, "2200123456789019", a), 0);
    assert_int_equal(cf_token_from_pan(other, sizeof other, "2200123456789019", b), 0);
    assert_string_not_equal(a, b);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    char token[CF_TOKEN_TEXT_LEN + 1];
    uint8_t key65[65] = {0};
    static const char *bad_pans[] = {
        "",
        "22001234567", /* 11 digits */
        "22001234567890123456", /* 20 digits */
        "2200 1234 5678 9019", /* spaces */
        "220012345678901A", /* not a digit */
        "-2200123456789019",
    };
    for (size_t i = 0; i < sizeof bad_pans / sizeof bad_pans[0]; i++) {
        memset(token, 'X', sizeof token);
        assert_int_equal(cf_token_from_pan(key32, sizeof key32, bad_pans[i], token), CF_EINVAL);
        assert_string_equal(token, "");
    }
    assert_int_equal(cf_token_from_pan(key32, 15, "2200123456789019", token), CF_EINVAL);
    assert_int_equal(cf_token_from_pan(key65, 65, "2200123456789019", token), CF_EINVAL);
    assert_int_equal(cf_token_from_pan(NULL, 32, "2200123456789019", token), CF_EINVAL);
    assert_int_equal(cf_token_from_pan(key32, 32, NULL, token), CF_EINVAL);
    assert_int_equal(cf_token_from_pan(key32, 32, "2200123456789019", NULL), CF_EINVAL);

    static const uint8_t uid[11] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    assert_int_equal(cf_token_from_uid(key32, 32, uid, 3, token), CF_EINVAL);
    assert_int_equal(cf_token_from_uid(key32, 32, uid, 11, token), CF_EINVAL);
    assert_int_equal(cf_token_from_uid(key32, 32, NULL, 4, token), CF_EINVAL);
    assert_int_equal(cf_token_from_uid(key32, 15, uid, 4, token), CF_EINVAL);
    assert_int_equal(cf_token_from_uid(key32, 32, uid, 10, token), 0);
    assert_int_equal(strlen(token), CF_TOKEN_TEXT_LEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pan_known_answers),
        cmocka_unit_test(test_length_limits_known_answers),
        cmocka_unit_test(test_uid_known_answers),
        cmocka_unit_test(test_uid_and_pan_do_not_collide),
        cmocka_unit_test(test_different_keys_give_different_tokens),
        cmocka_unit_test(test_bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
