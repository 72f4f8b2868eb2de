/* Unit tests of device request signatures (cf/batch.h, "Request signatures"): the
 * signature is an Ed25519 signature of exactly the documented message, checked here
 * with OpenSSL directly, and verification refuses a request that differs in any one
 * part -- method, path, body, time or device -- or carries a mangled signature. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "cf/batch.h"
#include "cf/codec.h"
#include "cf/error.h"

#define DEVICE "0190a6e4-7b1c-7d3e-8f00-1234567890ab"
#define OTHER_DEVICE "0190a6e4-7b1c-7d3e-8f00-1234567890ac"
#define PATH "/api/v1/devices/" DEVICE "/batches?x=1"
#define BODY "{\"events\":[]}"
#define TIME_MS INT64_C(1790000000123)
/* SHA-256 of BODY, as `printf '%s' '{"events":[]}' | sha256sum` prints it. */
#define BODY_SHA256 "24de1c4a19c43ad41b013f13dcd858c17b0daa7f33a53f19913e5b11366d1c2e"

struct keys {
    uint8_t private_key[CF_ED25519_KEY_LEN], public_key[CF_ED25519_KEY_LEN];
    char sig[CF_REQUEST_SIG_TEXT_LEN + 1];
};

static int setup(void **state)
{
    static struct keys k;
    if (cf_ed25519_generate(k.private_key, k.public_key) ||
        cf_request_sign(k.private_key, DEVICE, "POST", PATH, BODY, strlen(BODY), TIME_MS, k.sig))
        return -1;
    *state = &k;
    return 0;
}

static int verify(const struct keys *k, const char *device, const char *method, const char *path,
                  const char *body, int64_t time_ms, const char *sig)
{
    return cf_request_verify(k->public_key, device, method, path, body, strlen(body), time_ms, sig);
}

/* The signature is over the documented message, every part of it, the time too. */
static void test_signature_covers_the_documented_message(void **state)
{
    const struct keys *k = *state;
    char message[512], body_hex[65];
    uint8_t digest[32], sig[CF_ED25519_SIG_LEN];
    size_t sig_len = 0;
    unsigned int digest_len = 0;
    assert_int_equal(strlen(k->sig), CF_REQUEST_SIG_TEXT_LEN);
    assert_int_equal(EVP_Digest(BODY, strlen(BODY), digest, &digest_len, EVP_sha256(), NULL), 1);
    assert_int_equal(cf_hex_encode(digest, sizeof digest, body_hex, sizeof body_hex), 0);
    snprintf(message, sizeof message, "carefact-request-v1\nPOST\n%s\n%s\n%lld\n%s", PATH, body_hex,
             (long long)TIME_MS, DEVICE);
    assert_int_equal(cf_base64url_decode(k->sig, strlen(k->sig), sig, sizeof sig, &sig_len), 0);
    assert_int_equal(sig_len, sizeof sig);
    EVP_PKEY *key =
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->public_key, CF_ED25519_KEY_LEN);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_non_null(key);
    assert_non_null(md);
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, NULL, NULL, key), 1);
    assert_int_equal(
        EVP_DigestVerify(md, sig, sizeof sig, (const uint8_t *)message, strlen(message)), 1);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
}

static void test_body_digest_is_sha256(void **state)
{
    (void)state;
    uint8_t digest[32];
    char hex[65];
    unsigned int len = 0;
    assert_int_equal(EVP_Digest(BODY, strlen(BODY), digest, &len, EVP_sha256(), NULL), 1);
    assert_int_equal(cf_hex_encode(digest, sizeof digest, hex, sizeof hex), 0);
    assert_string_equal(hex, BODY_SHA256);
}

/* Any one part changed and the signature no longer holds: a captured request cannot
 * be replayed later (mutant reqsig.time-unsigned), elsewhere or by another device. */
static void test_each_part_is_bound(void **state)
{
    const struct keys *k = *state;
    assert_int_equal(verify(k, DEVICE, "POST", PATH, BODY, TIME_MS, k->sig), 0);
    assert_int_equal(verify(k, DEVICE, "POST", PATH, BODY, TIME_MS + 1, k->sig), CF_ESEAL);
    assert_int_equal(verify(k, DEVICE, "POST", PATH, BODY, TIME_MS + 60000, k->sig), CF_ESEAL);
    assert_int_equal(verify(k, DEVICE, "PUT", PATH, BODY, TIME_MS, k->sig), CF_ESEAL);
    assert_int_equal(verify(k, DEVICE, "POST", PATH "2", BODY, TIME_MS, k->sig), CF_ESEAL);
    assert_int_equal(verify(k, DEVICE, "POST", PATH, "{\"events\":[ ]}", TIME_MS, k->sig),
                     CF_ESEAL);
    assert_int_equal(verify(k, OTHER_DEVICE, "POST", PATH, BODY, TIME_MS, k->sig), CF_ESEAL);
}

static void test_mangled_signatures_are_refused(void **state)
{
    const struct keys *k = *state;
    char sig[CF_REQUEST_SIG_TEXT_LEN + 2];
    snprintf(sig, sizeof sig, "%s", k->sig);
    sig[10] = sig[10] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(k, DEVICE, "POST", PATH, BODY, TIME_MS, sig), CF_ESEAL);
    snprintf(sig, sizeof sig, "%.85s", k->sig); /* one character short */
    assert_int_equal(verify(k, DEVICE, "POST", PATH, BODY, TIME_MS, sig), CF_ESEAL);
    assert_int_equal(verify(k, DEVICE, "POST", PATH, BODY, TIME_MS, ""), CF_ESEAL);
    assert_int_equal(verify(k, DEVICE, "POST", PATH, BODY, TIME_MS, "!!!!"), CF_ESEAL);
    assert_int_equal(
        cf_request_verify(k->public_key, DEVICE, "POST", PATH, BODY, strlen(BODY), TIME_MS, NULL),
        CF_ESEAL);
    /* Another key's signature of the same request. */
    uint8_t priv[CF_ED25519_KEY_LEN], pub[CF_ED25519_KEY_LEN];
    assert_int_equal(cf_ed25519_generate(priv, pub), 0);
    assert_int_equal(cf_request_sign(priv, DEVICE, "POST", PATH, BODY, strlen(BODY), TIME_MS, sig),
                     0);
    assert_int_equal(verify(k, DEVICE, "POST", PATH, BODY, TIME_MS, sig), CF_ESEAL);
}

static void test_caps(void **state)
{
    const struct keys *k = *state;
    static char long_path[CF_REQUEST_PATH_MAX + 2];
    char sig[CF_REQUEST_SIG_TEXT_LEN + 1];
    memset(long_path, 'a', CF_REQUEST_PATH_MAX + 1);
    long_path[0] = '/';
    assert_int_equal(cf_request_sign(k->private_key, DEVICE, "GET", long_path, "", 0, TIME_MS, sig),
                     CF_ETOOBIG);
    long_path[CF_REQUEST_PATH_MAX] = '\0'; /* exactly the cap */
    assert_int_equal(cf_request_sign(k->private_key, DEVICE, "GET", long_path, "", 0, TIME_MS, sig),
                     0);
    assert_int_equal(
        cf_request_verify(k->public_key, DEVICE, "GET", long_path, "", 0, TIME_MS, sig), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_covers_the_documented_message),
        cmocka_unit_test(test_body_digest_is_sha256),
        cmocka_unit_test(test_each_part_is_bound),
        cmocka_unit_test(test_mangled_signatures_are_refused),
        cmocka_unit_test(test_caps),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
