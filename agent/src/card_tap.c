/* One card tap (see ag/card_tap.h): the reader opened, one identification with the
 * region's token key, the reader closed; the key and the raw read wiped. */
#include "ag/card_tap.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "ag/reader.h"

int ag_card_tap_key(const char *device, const uint8_t *key, size_t key_len, int wait_ms,
                    const uint8_t *challenge, struct cf_card_assurance *out)
{
    struct ag_reader *reader = NULL;
    struct ag_card_read read;
    memset(out, 0, sizeof *out);
    memset(&read, 0, sizeof read);
    int rc = ag_reader_open(device, &reader);
    if (!rc)
        rc = ag_reader_read_card(reader, key, key_len, wait_ms, challenge, &read);
    if (!rc)
        *out = read.card;
    ag_reader_close(reader);
    OPENSSL_cleanse(&read, sizeof read);
    return rc;
}

int ag_card_tap(struct ag_store *store, const char *device, int wait_ms, const uint8_t *challenge,
                struct cf_card_assurance *out)
{
    memset(out, 0, sizeof *out);
    struct ag_identity *id = malloc(sizeof *id);
    int rc = id ? ag_store_identity_get(store, id) : CF_ENOMEM;
    if (!rc)
        rc = ag_card_tap_key(device, id->token_key, id->token_key_len, wait_ms, challenge, out);
    ag_identity_wipe(id);
    free(id);
    return rc;
}
