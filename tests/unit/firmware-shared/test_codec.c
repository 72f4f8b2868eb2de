/* Unit tests for hex and base64url (cf/codec.h): RFC 4648 vectors and the strict
 * refusals a decoder of outside text must make. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cf/codec.h"
#include "cf/error.h"

static void test_hex_roundtrip(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0x00, 0x9f, 0xa0, 0xff};
    char text[9];
    assert_int_equal(cf_hex_encode(bytes, sizeof bytes, text, sizeof text), 0);
    assert_string_equal(text, "009fa0ff");
    uint8_t back[4];
    size_t n = 0;
    assert_int_equal(cf_hex_decode("009FA0ff", 8, back, sizeof back, &n), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(back, bytes, 4);
}

static void test_hex_refuses_bad_text(void **state)
{
    (void)state;
    uint8_t out[4];
    size_t n;
    assert_int_equal(cf_hex_decode("abc", 3, out, sizeof out, &n), CF_EMALFORM);
    assert_int_equal(cf_hex_decode("zz", 2, out, sizeof out, &n), CF_EMALFORM);
    assert_int_equal(cf_hex_decode("0011223344", 10, out, sizeof out, &n), CF_ENOSPACE);
    char small[4];
    assert_int_equal(cf_hex_encode((const uint8_t *)"ab", 2, small, sizeof small), CF_ENOSPACE);
}

/* RFC 4648 test vectors, base64url without padding. */
static void test_base64url_vectors(void **state)
{
    (void)state;
    static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *coded[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char text[16];
        size_t len = strlen(plain[i]);
        assert_int_equal(cf_base64url_len(len), strlen(coded[i]));
        assert_int_equal(cf_base64url_encode((const uint8_t *)plain[i], len, text, sizeof text), 0);
        assert_string_equal(text, coded[i]);
        uint8_t back[16];
        size_t n = 99;
        assert_int_equal(cf_base64url_decode(coded[i], strlen(coded[i]), back, sizeof back, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(back, plain[i], len);
    }
    const uint8_t high[] = {0xfb, 0xff};
    char text[8];
    assert_int_equal(cf_base64url_encode(high, 2, text, sizeof text), 0);
    assert_string_equal(text, "-_8");
}

static void test_base64url_refuses_bad_text(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t n;
    assert_int_equal(cf_base64url_decode("Zg==", 4, out, sizeof out, &n), CF_EMALFORM);
    assert_int_equal(cf_base64url_decode("Z", 1, out, sizeof out, &n), CF_EMALFORM);
    /* A length of 4k + 1 cannot be base64, even when the lone character is 'A' with
     * no bits set (mutant codec.base64-length). */
    assert_int_equal(cf_base64url_decode("A", 1, out, sizeof out, &n), CF_EMALFORM);
    assert_int_equal(cf_base64url_decode("AAAAA", 5, out, sizeof out, &n), CF_EMALFORM);
    assert_int_equal(cf_base64url_decode("Zm+v", 4, out, sizeof out, &n), CF_EMALFORM);
    /* "Zh" decodes to 'f' with non-zero spare bits: not canonical. */
    assert_int_equal(cf_base64url_decode("Zh", 2, out, sizeof out, &n), CF_EMALFORM);
    assert_int_equal(cf_base64url_decode("Zm9vYmFy", 8, out, 5, &n), CF_ENOSPACE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex_roundtrip),
        cmocka_unit_test(test_hex_refuses_bad_text),
        cmocka_unit_test(test_base64url_vectors),
        cmocka_unit_test(test_base64url_refuses_bad_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
