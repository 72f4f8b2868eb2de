/* Device request signatures (see cf/batch.h): every HTTP request a terminal sends
 * is signed with its enrolled Ed25519 key over method, path, body digest, time and
 * device id, so the backend knows which device is asking on every request. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "cf/batch.h"
#include "cf/codec.h"
#include "cf/error.h"

#define REQUEST_MESSAGE_MAX (64 + CF_REQUEST_PATH_MAX + 2 * SHA256_DIGEST_LENGTH + 64)

/* "carefact-request-v1\nMETHOD\nPATH\nSHA256(body) hex\nTIME_MS\nDEVICE" */
static int request_message(const char *device_id, const char *method, const char *path,
                           const void *body, size_t body_len, int64_t time_ms, char *out,
                           size_t out_size, size_t *out_len)
{
    uint8_t digest[SHA256_DIGEST_LENGTH];
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    if (strlen(path) > CF_REQUEST_PATH_MAX || strlen(method) > 10 || strlen(device_id) > 40)
        return CF_ETOOBIG;
    SHA256(body_len ? body : (const void *)"", body_len, digest);
    cf_hex_encode(digest, sizeof digest, hex, sizeof hex);
    int n = snprintf(out, out_size, "carefact-request-v1\n%s\n%s\n%s\n%" PRId64 "\n%s", method,
                     path, hex, time_ms, device_id);
    if (n < 0 || (size_t)n >= out_size)
        return CF_ENOSPACE;
    *out_len = (size_t)n;
    return 0;
}

int cf_request_sign(const uint8_t private_key[CF_ED25519_KEY_LEN], const char *device_id,
                    const char *method, const char *path, const void *body, size_t body_len,
                    int64_t time_ms, char signature_b64[CF_REQUEST_SIG_TEXT_LEN + 1])
{
    char message[REQUEST_MESSAGE_MAX];
    uint8_t sig[CF_ED25519_SIG_LEN];
    size_t len = 0, sig_len = sizeof sig;
    int rc = request_message(device_id, method, path, body, body_len, time_ms, message,
                             sizeof message, &len);
    if (rc)
        return rc;
    rc = CF_ECRYPTO;
    EVP_PKEY *key =
        EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, private_key, CF_ED25519_KEY_LEN);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (key && md && EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1 &&
        EVP_DigestSign(md, sig, &sig_len, (const uint8_t *)message, len) == 1 &&
        sig_len == sizeof sig)
        rc = cf_base64url_encode(sig, sizeof sig, signature_b64, CF_REQUEST_SIG_TEXT_LEN + 1);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    if (rc)
        ERR_clear_error();
    return rc;
}

int cf_request_verify(const uint8_t public_key[CF_ED25519_KEY_LEN], const char *device_id,
                      const char *method, const char *path, const void *body, size_t body_len,
                      int64_t time_ms, const char *signature_b64)
{
    char message[REQUEST_MESSAGE_MAX];
    uint8_t sig[CF_ED25519_SIG_LEN];
    size_t len = 0, sig_len = 0;
    if (!signature_b64 ||
        cf_base64url_decode(signature_b64, strlen(signature_b64), sig, sizeof sig, &sig_len) ||
        sig_len != sizeof sig ||
        request_message(device_id, method, path, body, body_len, time_ms, message, sizeof message,
                        &len))
        return CF_ESEAL;
    int rc = CF_ESEAL;
    EVP_PKEY *key =
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key, CF_ED25519_KEY_LEN);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        rc = CF_ENOMEM;
    else if (key && EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestVerify(md, sig, sizeof sig, (const uint8_t *)message, len) == 1)
        rc = 0;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    if (rc)
        ERR_clear_error(); /* a forged signature is input, not an OpenSSL fault */
    return rc;
}
