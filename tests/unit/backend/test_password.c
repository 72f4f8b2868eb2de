/* People's passwords (be_password_hash, be_password_verify): the stored form, a round
 * trip, a wrong password, hashes made elsewhere (Python's hashlib.scrypt) still
 * verifying, malformed stored strings, and scrypt parameters out of the accepted range
 * refused even when the key in them is right. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "be/auth.h"
#include "cf/codec.h"
#include "cf/error.h"

#define HASH_LEN (sizeof "scrypt$16384$8$1$" - 1 + 32 + 1 + 64)

/* The stored form of password under salt with these parameters, the key made here
 * with OpenSSL directly (not by the code under test). */
static void stored_form(const char *password, const uint8_t salt[16], uint64_t n, uint64_t r,
                        uint64_t p, char *out, size_t size)
{
    uint8_t key[32];
    char salt_hex[33], key_hex[65];
    assert_int_equal(
        EVP_PBE_scrypt(password, strlen(password), salt, 16, n, r, p, 256u << 20, key, sizeof key),
        1);
    cf_hex_encode(salt, 16, salt_hex, sizeof salt_hex);
    cf_hex_encode(key, sizeof key, key_hex, sizeof key_hex);
    snprintf(out, size, "scrypt$%llu$%llu$%llu$%s$%s", (unsigned long long)n, (unsigned long long)r,
             (unsigned long long)p, salt_hex, key_hex);
}

static void test_round_trip(void **state)
{
    (void)state;
    char stored[HASH_LEN + 1], again[HASH_LEN + 1];
    assert_int_equal(be_password_hash("correct horse battery", stored, sizeof stored), 0);
    assert_int_equal(strlen(stored), HASH_LEN);
    assert_memory_equal(stored, "scrypt$16384$8$1$", 17);
    assert_int_equal(stored[17 + 32], '$');
    assert_int_equal(strspn(stored + 17, "0123456789abcdef"), 32);
    assert_int_equal(strspn(stored + 17 + 33, "0123456789abcdef"), 64);
    assert_true(be_password_verify("correct horse battery", stored));
    assert_false(be_password_verify("correct horse batterY", stored));
    assert_false(be_password_verify("correct horse battery ", stored));
    assert_false(be_password_verify("", stored));
    /* A fresh salt each time: the same password never stores the same text. */
    assert_int_equal(be_password_hash("correct horse battery", again, sizeof again), 0);
    assert_string_not_equal(stored, again);
    assert_true(be_password_verify("correct horse battery", again));
    /* Any bytes: UTF-8, the longest allowed. */
    char longest[BE_PASSWORD_MAX + 1];
    memset(longest, 'p', BE_PASSWORD_MAX);
    longest[BE_PASSWORD_MAX] = '\0';
    assert_int_equal(be_password_hash(longest, stored, sizeof stored), 0);
    assert_true(be_password_verify(longest, stored));
    longest[BE_PASSWORD_MAX - 1] = 'q';
    assert_false(be_password_verify(longest, stored));
    assert_int_equal(be_password_hash("пароль Ёлка", stored, sizeof stored), 0);
    assert_true(be_password_verify("пароль Ёлка", stored));
    assert_false(be_password_verify("пароль Елка", stored));
}

static void test_output_size(void **state)
{
    (void)state;
    char stored[HASH_LEN + 1];
    assert_int_equal(be_password_hash("correct horse battery", stored, HASH_LEN), CF_ENOSPACE);
    assert_int_equal(be_password_hash("correct horse battery", stored, HASH_LEN + 1), 0);
}

/* Hashes made by another scrypt (Python's hashlib.scrypt), as a database keeps them. */
static void test_known_hashes(void **state)
{
    (void)state;
    static const char standard[] =
        "scrypt$16384$8$1$000102030405060708090a0b0c0d0e0f$"
        "d7590aca2c9801cf06eeba772a69dc31ce3862591d96522ac4e6bba6ad1f31a5";
    assert_true(be_password_verify("correct horse battery staple", standard));
    assert_false(be_password_verify("correct horse battery", standard));
    /* The parameters are read from the stored text, not assumed. */
    static const char cheap[] = "scrypt$1024$1$1$101112131415161718191a1b1c1d1e1f$"
                                "d99353c25a2992898b584d5b0d0574e0075e876155c8f64911e8f781d463f9a7";
    assert_true(be_password_verify("пароль-Ёлка", cheap));
    /* Hex in either case. */
    static const char upper[] = "scrypt$1024$1$1$101112131415161718191A1B1C1D1E1F$"
                                "D99353C25A2992898B584D5B0D0574E0075E876155C8F64911E8F781D463F9A7";
    assert_true(be_password_verify("пароль-Ёлка", upper));
}

static void test_malformed_stored(void **state)
{
    (void)state;
    char good[HASH_LEN + 1], bad[HASH_LEN + 16];
    const uint8_t salt[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    stored_form("pw", salt, 1024, 1, 1, good, sizeof good);
    assert_true(be_password_verify("pw", good));
    const char *salt_at = good + strlen("scrypt$1024$1$1$");
    static const char *const fixed[] = {
        "",
        "scrypt",
        "scrypt$",
        "scrypt$1024$1$1$",
        "scrypt$1024$1$1$$",
        "bcrypt$1024$1$1$0102030405060708090a0b0c0d0e0f10$"
        "0000000000000000000000000000000000000000000000000000000000000000",
        "SCRYPT$1024$1$1$0102030405060708090a0b0c0d0e0f10$"
        "0000000000000000000000000000000000000000000000000000000000000000",
        "$2b$12$abcdefghijklmnopqrstuv",
        "plain text password",
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (be_password_verify("pw", fixed[i]))
            fail_msg("'%s' verified", fixed[i]);

    /* The right key in a spoiled frame. */
    struct {
        const char *fmt;
        size_t cut; /* bytes taken off the end of the key */
    } frames[] = {
        {"scrypt$1024$1$%s", 0}, /* a parameter missing */
        {"scrypt$1024$1$1$1$%s", 0}, /* one too many */
        {"scrypt$1024$x$1$%s", 0}, /* not a number */
        {"scrypt$1024$$1$%s", 0}, /* empty */
        {"scrypt$1024$1$1$%s", 1}, /* key one byte short */
        {"scrypt$1024$1$1$%s0", 0}, /* one character long */
        {"scrypt$1024$1$1$%s$", 0}, /* trailing separator */
        {"scrypt$1024$1$1$x%s", 0}, /* salt one character long */
        {"scrypt$1024$1$1$ %s", 0}, /* a space */
    };
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        snprintf(bad, sizeof bad, frames[i].fmt, salt_at);
        bad[strlen(bad) - 2 * frames[i].cut] = '\0';
        if (be_password_verify("pw", bad))
            fail_msg("'%s' verified", bad);
    }
    /* The separator between salt and key replaced, a non-hex digit in each half. */
    snprintf(bad, sizeof bad, "%s", good);
    char *sep = bad + (salt_at - good) + 32;
    assert_int_equal(*sep, '$');
    *sep = ':';
    assert_false(be_password_verify("pw", bad));
    *sep = '$';
    assert_true(be_password_verify("pw", bad));
    sep[-1] = 'g';
    assert_false(be_password_verify("pw", bad));
    snprintf(bad, sizeof bad, "%s", good);
    bad[strlen(bad) - 1] = 'g';
    assert_false(be_password_verify("pw", bad));
    /* Every byte of the key counts, the last one too. */
    bad[strlen(bad) - 1] = good[strlen(good) - 1] == '0' ? '1' : '0';
    assert_false(be_password_verify("pw", bad));
    snprintf(bad, sizeof bad, "%s", good);
    bad[strlen(bad) - 64] = good[strlen(good) - 64] == '0' ? '1' : '0';
    assert_false(be_password_verify("pw", bad));
    /* The key of another salt. */
    snprintf(bad, sizeof bad, "%s", good);
    bad[salt_at - good] = bad[salt_at - good] == '0' ? '1' : '0';
    assert_false(be_password_verify("pw", bad));
}

/* Parameters past the bounds (N <= 2^20, r <= 32, p <= 4) are refused before any work,
 * even with the key that belongs to them: a stored text must not make a login spend
 * unbounded memory or time. (N = 2^20 itself needs more than the 64 MiB scrypt is
 * allowed, so only N's refusal is checked.) */
static void test_parameters_out_of_range(void **state)
{
    (void)state;
    char stored[HASH_LEN + 16];
    const uint8_t salt[16] = {0};
    stored_form("pw", salt, 16, 32, 1, stored, sizeof stored); /* r at the bound */
    assert_true(be_password_verify("pw", stored));
    stored_form("pw", salt, 16, 33, 1, stored, sizeof stored);
    assert_false(be_password_verify("pw", stored));
    stored_form("pw", salt, 16, 1, 4, stored, sizeof stored); /* p at the bound */
    assert_true(be_password_verify("pw", stored));
    stored_form("pw", salt, 16, 1, 5, stored, sizeof stored);
    assert_false(be_password_verify("pw", stored));
    /* N over its bound (2^21) or one scrypt itself refuses: no key is right. */
    static const char *const impossible[] = {"scrypt$2097152$1$1$",
                                             "scrypt$0$8$1$",
                                             "scrypt$1$8$1$",
                                             "scrypt$1000$8$1$",
                                             "scrypt$16384$0$1$",
                                             "scrypt$16384$8$0$",
                                             "scrypt$18446744073709551616$8$1$",
                                             "scrypt$-16384$8$1$"};
    for (size_t i = 0; i < sizeof impossible / sizeof impossible[0]; i++) {
        snprintf(stored, sizeof stored,
                 "%s00000000000000000000000000000000$"
                 "0000000000000000000000000000000000000000000000000000000000000000",
                 impossible[i]);
        if (be_password_verify("pw", stored))
            fail_msg("'%s' verified", stored);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_output_size),
        cmocka_unit_test(test_known_hashes),
        cmocka_unit_test(test_malformed_stored),
        cmocka_unit_test(test_parameters_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
