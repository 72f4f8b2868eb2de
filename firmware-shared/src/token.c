/* Card tokens (see cf/token.h): HMAC-SHA256 under the regional token key, the
 * first 16 bytes in base64url. This is the only form in which a card number
 * leaves the reader code; every intermediate buffer is wiped before return. */
#include "cf/token.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "cf/codec.h"
#include "cf/error.h"

#define TOKEN_MAC_BYTES 16
#define TOKEN_PAN_MIN 12
#define TOKEN_PAN_MAX 19
#define TOKEN_UID_MIN 4
#define TOKEN_UID_MAX 10

static int hmac_token(const uint8_t *key, size_t key_len, const uint8_t *message,
                      size_t message_len, char out[CF_TOKEN_TEXT_LEN + 1])
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    int rc = CF_ECRYPTO;
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
    if (!ctx)
        goto out;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(ctx, key, key_len, params) != 1 ||
        EVP_MAC_update(ctx, message, message_len) != 1 ||
        EVP_MAC_final(ctx, mac, &mac_len, sizeof mac) != 1 || mac_len < TOKEN_MAC_BYTES)
        goto out;
    if (cf_base64url_encode(mac, TOKEN_MAC_BYTES, out, CF_TOKEN_TEXT_LEN + 1) != 0)
        goto out;
    rc = 0;
out:
    if (rc)
        out[0] = '\0';
    OPENSSL_cleanse(mac, sizeof mac);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);
    return rc;
}

static bool key_ok(const uint8_t *key, size_t key_len)
{
    return key && key_len >= CF_TOKEN_KEY_MIN && key_len <= CF_TOKEN_KEY_MAX;
}

int cf_token_from_pan(const uint8_t *key, size_t key_len, const char *pan,
                      char out[CF_TOKEN_TEXT_LEN + 1])
{
    if (!out)
        return CF_EINVAL;
    out[0] = '\0';
    if (!key_ok(key, key_len) || !pan)
        return CF_EINVAL;
    size_t len = 0;
    while (len <= TOKEN_PAN_MAX && pan[len] >= '0' && pan[len] <= '9')
        len++;
    if (pan[len] != '\0' || len < TOKEN_PAN_MIN || len > TOKEN_PAN_MAX)
        return CF_EINVAL;
    /* The PAN is MACed in place: no copy of it is made here. */
    return hmac_token(key, key_len, (const uint8_t *)pan, len, out);
}

int cf_token_from_uid(const uint8_t *key, size_t key_len, const uint8_t *uid, size_t uid_len,
                      char out[CF_TOKEN_TEXT_LEN + 1])
{
    if (!out)
        return CF_EINVAL;
    out[0] = '\0';
    if (!key_ok(key, key_len) || !uid || uid_len < TOKEN_UID_MIN || uid_len > TOKEN_UID_MAX)
        return CF_EINVAL;
    static const char upper_hex[] = "0123456789ABCDEF";
    char message[4 + 2 * TOKEN_UID_MAX];
    memcpy(message, "uid:", 4);
    for (size_t i = 0; i < uid_len; i++) {
        message[4 + 2 * i] = upper_hex[uid[i] >> 4];
        message[4 + 2 * i + 1] = upper_hex[uid[i] & 0x0F];
    }
    int rc = hmac_token(key, key_len, (const uint8_t *)message, 4 + 2 * uid_len, out);
    OPENSSL_cleanse(message, sizeof message);
    return rc;
}
