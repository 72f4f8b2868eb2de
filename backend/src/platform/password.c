/* People's passwords (see be/password.h): scrypt through OpenSSL, compared in
 * constant time. */
#include "be/password.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cf/codec.h"
#include "cf/error.h"

#define SCRYPT_N 16384u
#define SCRYPT_R 8u
#define SCRYPT_P 1u
#define SALT_LEN 16
#define KEY_LEN 32

static int scrypt_key(const char *password, const uint8_t *salt, unsigned long n, unsigned long r,
                      unsigned long p, uint8_t key[KEY_LEN])
{
    if (n > (1u << 20) || r > 32 || p > 4)
        return CF_EINVAL;
    return EVP_PBE_scrypt(password, strlen(password), salt, SALT_LEN, n, r, p, 64u << 20, key,
                          KEY_LEN) == 1
               ? 0
               : CF_ECRYPTO;
}

int be_password_hash(const char *password, char *out, size_t out_size)
{
    uint8_t salt[SALT_LEN], key[KEY_LEN];
    char salt_hex[2 * SALT_LEN + 1], key_hex[2 * KEY_LEN + 1];
    if (RAND_bytes(salt, sizeof salt) != 1 ||
        scrypt_key(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, key))
        return CF_ECRYPTO;
    cf_hex_encode(salt, sizeof salt, salt_hex, sizeof salt_hex);
    cf_hex_encode(key, sizeof key, key_hex, sizeof key_hex);
    OPENSSL_cleanse(key, sizeof key);
    int n = snprintf(out, out_size, "scrypt$%u$%u$%u$%s$%s", SCRYPT_N, SCRYPT_R, SCRYPT_P, salt_hex,
                     key_hex);
    return n > 0 && (size_t)n < out_size ? 0 : CF_ENOSPACE;
}

static bool read_ulong(const char **p, unsigned long *out)
{
    char *end = NULL;
    unsigned long v = strtoul(*p, &end, 10);
    if (end == *p || *end != '$')
        return false;
    *out = v;
    *p = end + 1;
    return true;
}

bool be_password_verify(const char *password, const char *stored)
{
    unsigned long n, r, p;
    uint8_t salt[SALT_LEN], want[KEY_LEN], got[KEY_LEN];
    size_t len;
    const char *s = stored;
    if (strncmp(s, "scrypt$", 7) != 0)
        return false;
    s += 7;
    if (!read_ulong(&s, &n) || !read_ulong(&s, &r) || !read_ulong(&s, &p) ||
        strlen(s) != 2 * SALT_LEN + 1 + 2 * KEY_LEN || s[2 * SALT_LEN] != '$' ||
        cf_hex_decode(s, 2 * SALT_LEN, salt, sizeof salt, &len) ||
        cf_hex_decode(s + 2 * SALT_LEN + 1, 2 * KEY_LEN, want, sizeof want, &len) ||
        scrypt_key(password, salt, n, r, p, got))
        return false;
    bool same = CRYPTO_memcmp(want, got, KEY_LEN) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return same;
}
