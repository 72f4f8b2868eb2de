/* Upload batches: parsing and validating a batch body, building and serialising
 * one on the device, and the Ed25519 seal over (device id, last seq, last digest).
 *
 * A batch that parses here is internally consistent: consecutive seqs, each event
 * chained to the one before it, the seal naming the last event. What it chains to
 * on the server and whether the signature verifies are checked by the caller, which
 * holds the device's last digest and public key. */
#include "cf/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cf/codec.h"
#include "cf/json.h"
#include "cf/uuid.h"

#define SEAL_DOMAIN "carefact.seal.v1"
#define SEAL_MESSAGE_LEN (sizeof SEAL_DOMAIN + CF_UUID_LEN + 8 + CF_DIGEST_LEN)

/* ==== Seal ==== */

int cf_ed25519_generate(uint8_t private_key[CF_ED25519_KEY_LEN],
                        uint8_t public_key[CF_ED25519_KEY_LEN])
{
    int rc = CF_ECRYPTO;
    size_t len = CF_ED25519_KEY_LEN;
    if (RAND_bytes(private_key, CF_ED25519_KEY_LEN) != 1)
        return CF_ECRYPTO;
    EVP_PKEY *key =
        EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, private_key, CF_ED25519_KEY_LEN);
    if (key && EVP_PKEY_get_raw_public_key(key, public_key, &len) == 1 && len == CF_ED25519_KEY_LEN)
        rc = 0;
    EVP_PKEY_free(key);
    if (rc)
        ERR_clear_error();
    return rc;
}

static void seal_message(const uint8_t device_id[CF_UUID_LEN], uint64_t last_seq,
                         const uint8_t last_digest[CF_DIGEST_LEN], uint8_t out[SEAL_MESSAGE_LEN])
{
    size_t o = 0;
    memcpy(out, SEAL_DOMAIN, sizeof SEAL_DOMAIN); /* includes NUL */
    o += sizeof SEAL_DOMAIN;
    memcpy(out + o, device_id, CF_UUID_LEN);
    o += CF_UUID_LEN;
    for (int i = 7; i >= 0; i--)
        out[o++] = (uint8_t)(last_seq >> (8 * i));
    memcpy(out + o, last_digest, CF_DIGEST_LEN);
}

int cf_seal_sign(const uint8_t private_key[CF_ED25519_KEY_LEN],
                 const uint8_t device_id[CF_UUID_LEN], uint64_t last_seq,
                 const uint8_t last_digest[CF_DIGEST_LEN], uint8_t signature[CF_ED25519_SIG_LEN])
{
    uint8_t message[SEAL_MESSAGE_LEN];
    size_t sig_len = CF_ED25519_SIG_LEN;
    int rc = CF_ECRYPTO;
    seal_message(device_id, last_seq, last_digest, message);
    EVP_PKEY *key =
        EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, private_key, CF_ED25519_KEY_LEN);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (key && md && EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1 &&
        EVP_DigestSign(md, signature, &sig_len, message, sizeof message) == 1 &&
        sig_len == CF_ED25519_SIG_LEN)
        rc = 0;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    if (rc)
        ERR_clear_error();
    return rc;
}

int cf_seal_verify(const uint8_t public_key[CF_ED25519_KEY_LEN], const struct cf_batch *batch)
{
    uint8_t message[SEAL_MESSAGE_LEN];
    int rc = CF_ESEAL;
    seal_message(batch->device_id, batch->seal.last_seq, batch->seal.last_digest, message);
    EVP_PKEY *key =
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key, CF_ED25519_KEY_LEN);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        rc = CF_ENOMEM;
    else if (key && EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestVerify(md, batch->seal.signature, CF_ED25519_SIG_LEN, message,
                              sizeof message) == 1)
        rc = 0;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    /* A forged seal is expected input, not an OpenSSL fault: leave no error behind on
     * this thread's queue for an unrelated TLS call to trip over. */
    if (rc)
        ERR_clear_error();
    return rc;
}

/* ==== Batch ==== */

void cf_batch_cleanup(struct cf_batch *batch)
{
    if (!batch)
        return;
    free(batch->events);
    free(batch->digests);
    memset(batch, 0, sizeof *batch);
}

static int batch_alloc(struct cf_batch *batch, size_t count)
{
    batch->events = calloc(count, sizeof *batch->events);
    batch->digests = calloc(count, sizeof *batch->digests);
    if (!batch->events || !batch->digests) {
        cf_batch_cleanup(batch);
        return CF_ENOMEM;
    }
    batch->count = count;
    return 0;
}

/* Consecutive seqs and each prev equal to the digest before it; fills digests. */
static int batch_check_chain(struct cf_batch *batch, struct cf_error_detail *d)
{
    for (size_t i = 0; i < batch->count; i++) {
        const struct cf_event *ev = &batch->events[i];
        char field[48];
        int rc = cf_event_digest(ev, batch->digests[i]);
        if (rc)
            return rc;
        if (i == 0)
            continue;
        if (ev->seq != batch->events[i - 1].seq + 1) {
            snprintf(field, sizeof field, "events[%zu].seq", i);
            return cf_error_set(d, CF_ECHAIN, field,
                                "%s is %llu but must be %llu: events of a batch are consecutive",
                                field, (unsigned long long)ev->seq,
                                (unsigned long long)(batch->events[i - 1].seq + 1));
        }
        if (memcmp(ev->prev_digest, batch->digests[i - 1], CF_DIGEST_LEN) != 0) {
            snprintf(field, sizeof field, "events[%zu].prev", i);
            return cf_error_set(d, CF_ECHAIN, field, "%s is not the digest of the event before it",
                                field);
        }
    }
    return 0;
}

static int seal_from_json(const cJSON *root, struct cf_seal *seal, struct cf_error_detail *d)
{
    static const char *const allowed[] = {"last_seq", "last_digest", "signature", NULL};
    char sig_text[96];
    int64_t last_seq = 0;
    size_t n = 0;
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, "seal");
    if (!obj)
        return cf_error_set(d, CF_EFIELD_MISSING, "seal", "seal is required");
    int rc = cf_json_check_fields(obj, allowed, "seal", d);
    if (!rc)
        rc = cf_json_get_int(obj, "last_seq", "seal", true, 1, CF_JSON_INT_MAX, &last_seq, d);
    if (!rc)
        rc = cf_json_get_hex(obj, "last_digest", "seal", true, seal->last_digest, CF_DIGEST_LEN, d);
    if (!rc)
        rc = cf_json_get_string(obj, "signature", "seal", true, 86, sig_text, sizeof sig_text, d);
    if (rc)
        return rc;
    if (cf_base64url_decode(sig_text, strlen(sig_text), seal->signature, CF_ED25519_SIG_LEN, &n) ||
        n != CF_ED25519_SIG_LEN)
        return cf_error_set(d, CF_EFIELD_RANGE, "seal.signature",
                            "seal.signature must be 86 base64url characters (64 bytes)");
    seal->last_seq = (uint64_t)last_seq;
    return 0;
}

static int events_from_json(const cJSON *root, struct cf_batch *batch, struct cf_error_detail *d)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "events");
    if (!arr)
        return cf_error_set(d, CF_EFIELD_MISSING, "events", "events is required");
    if (!cJSON_IsArray(arr))
        return cf_error_set(d, CF_EFIELD_TYPE, "events", "events must be an array");
    size_t count = 0;
    for (const cJSON *item = arr->child; item; item = item->next)
        if (++count > CF_BATCH_MAX_EVENTS)
            return cf_error_set(d, CF_EFIELD_RANGE, "events",
                                "a batch holds at most %d events: send smaller batches",
                                CF_BATCH_MAX_EVENTS);
    if (count == 0)
        return cf_error_set(d, CF_EFIELD_RANGE, "events", "events must not be empty");
    int rc = batch_alloc(batch, count);
    size_t i = 0;
    for (const cJSON *item = arr->child; item && !rc; item = item->next, i++) {
        char path[32];
        snprintf(path, sizeof path, "events[%zu]", i);
        rc = cf_event_from_json(item, batch->device_id, path, &batch->events[i], d);
    }
    return rc;
}

int cf_batch_from_json(const char *text, size_t len, struct cf_batch *out,
                       struct cf_error_detail *d)
{
    static const char *const allowed[] = {"device_id", "events", "seal", NULL};
    cJSON *root = NULL;
    memset(out, 0, sizeof *out);
    int rc = cf_json_parse_capped(text, len, CF_BATCH_MAX_JSON, CF_BATCH_MAX_JSON_VALUES, &root, d);
    if (!rc)
        rc = cf_json_check_fields(root, allowed, "", d);
    if (!rc)
        rc = cf_json_get_uuid(root, "device_id", "", true, out->device_id, d);
    if (!rc)
        rc = seal_from_json(root, &out->seal, d);
    if (!rc)
        rc = events_from_json(root, out, d);
    if (!rc)
        rc = batch_check_chain(out, d);
    if (!rc) {
        size_t last = out->count - 1;
        if (out->seal.last_seq != out->events[last].seq)
            rc = cf_error_set(d, CF_ESEAL, "seal.last_seq",
                              "seal.last_seq must be the seq of the batch's last event (%llu)",
                              (unsigned long long)out->events[last].seq);
        else if (memcmp(out->seal.last_digest, out->digests[last], CF_DIGEST_LEN) != 0)
            rc = cf_error_set(d, CF_ESEAL, "seal.last_digest",
                              "seal.last_digest must be the digest of the batch's last event");
    }
    cJSON_Delete(root);
    if (rc)
        cf_batch_cleanup(out);
    return rc;
}

int cf_batch_build(const uint8_t device_id[CF_UUID_LEN], const struct cf_event *events,
                   size_t count, const uint8_t private_key[CF_ED25519_KEY_LEN],
                   struct cf_batch *out)
{
    memset(out, 0, sizeof *out);
    if (count == 0 || count > CF_BATCH_MAX_EVENTS)
        return CF_EINVAL;
    int rc = batch_alloc(out, count);
    if (rc)
        return rc;
    memcpy(out->device_id, device_id, CF_UUID_LEN);
    for (size_t i = 0; i < count; i++) {
        out->events[i] = events[i];
        memcpy(out->events[i].device_id, device_id, CF_UUID_LEN);
    }
    rc = batch_check_chain(out, NULL);
    if (!rc) {
        out->seal.last_seq = out->events[count - 1].seq;
        memcpy(out->seal.last_digest, out->digests[count - 1], CF_DIGEST_LEN);
        rc = cf_seal_sign(private_key, device_id, out->seal.last_seq, out->seal.last_digest,
                          out->seal.signature);
    }
    if (rc)
        cf_batch_cleanup(out);
    return rc;
}

char *cf_batch_to_json(const struct cf_batch *batch)
{
    char device[CF_UUID_TEXT_LEN + 1], digest[2 * CF_DIGEST_LEN + 1], sig[96];
    char *text = NULL;
    if (batch->seal.last_seq > (uint64_t)CF_JSON_INT_MAX)
        return NULL;
    cf_uuid_to_text(batch->device_id, device);
    if (cf_hex_encode(batch->seal.last_digest, CF_DIGEST_LEN, digest, sizeof digest) ||
        cf_base64url_encode(batch->seal.signature, CF_ED25519_SIG_LEN, sig, sizeof sig))
        return NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *events = root ? cJSON_AddArrayToObject(root, "events") : NULL;
    cJSON *seal = cJSON_CreateObject();
    bool ok = events && seal && cJSON_AddStringToObject(root, "device_id", device) &&
              cJSON_AddNumberToObject(seal, "last_seq", (double)batch->seal.last_seq) &&
              cJSON_AddStringToObject(seal, "last_digest", digest) &&
              cJSON_AddStringToObject(seal, "signature", sig);
    if (ok && cJSON_AddItemToObject(root, "seal", seal))
        seal = NULL; /* now owned by root */
    else
        ok = false;
    for (size_t i = 0; ok && i < batch->count; i++) {
        cJSON *ev = cf_event_to_json(&batch->events[i]);
        ok = ev && cJSON_AddItemToArray(events, ev);
        if (!ok)
            cJSON_Delete(ev);
    }
    if (ok)
        text = cJSON_PrintUnformatted(root);
    cJSON_Delete(seal);
    cJSON_Delete(root);
    return text;
}
