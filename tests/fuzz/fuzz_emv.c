/* libFuzzer target for the EMV card read (cf/emv.h): the fuzz input is the card.
 * Each transceive call hands out the next chunk of the input as the card's
 * answer (one length byte, then that many bytes); when the input runs out the
 * link fails. Whatever the answers, cf_emv_read must end with a clean code, and
 * on success the PAN is 12..19 digits and the expiry month 0..12; on error the
 * card is all zeros.
 *
 * Seeds (corpus/emv): the answers of recorded cards of tests/data/emv/devnied
 * (Apache-2.0) and of synthetic cards of tools/gen-card (gen_*: Mir, UnionPay,
 * Maestro over eight records) in the order this reader asks for them, length-prefixed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cf/emv.h"

struct fuzz_card {
    const uint8_t *data;
    size_t size;
    size_t pos;
};

static int fuzz_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                           size_t resp_size, size_t *resp_len)
{
    struct fuzz_card *card = ctx;
    if (!cmd || cmd_len < 4 || cmd_len > 261 || resp_size < 258)
        abort(); /* the reader must only send well-formed short APDUs */
    if (card->pos >= card->size)
        return CF_ECOMM;
    size_t n = card->data[card->pos++];
    if (n > card->size - card->pos)
        n = card->size - card->pos;
    memcpy(resp, card->data + card->pos, n);
    card->pos += n;
    *resp_len = n;
    return 0;
}

static int known_code(int rc)
{
    return rc == 0 || rc == CF_ECARD_LOCKED || rc == CF_ECARD_UNKNOWN || rc == CF_ENOT_PAYMENT ||
           rc == CF_ENO_PAN || rc == CF_ECOMM;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_card source = {data, size, 0};
    struct cf_emv_card card;
    memset(&card, 0xA5, sizeof card);
    int rc = cf_emv_read(fuzz_transceive, &source, NULL, &card);
    if (!known_code(rc))
        abort();
    if (rc == 0) {
        size_t len = strnlen(card.pan, sizeof card.pan);
        if (len < 12 || len > 19)
            abort();
        for (size_t i = 0; i < len; i++)
            if (card.pan[i] < '0' || card.pan[i] > '9')
                abort();
        if (card.expiry_month < 0 || card.expiry_month > 12 || card.aid_len < 5 ||
            card.aid_len > 16 || card.label[sizeof card.label - 1] != '\0')
            abort();
        if (card.scheme == CF_SCHEME_UNKNOWN)
            abort();
    } else {
        static const struct cf_emv_card zero;
        if (memcmp(&card, &zero, sizeof card) != 0)
            abort();
    }
    cf_emv_card_wipe(&card);
    return 0;
}
