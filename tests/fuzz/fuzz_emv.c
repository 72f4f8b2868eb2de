/* libFuzzer target for the EMV card read (cf/emv.h): the fuzz input is the card.
 * Each transceive call hands out the next chunk of the input as the card's
 * answer (one length byte, then that many bytes); when the input runs out the
 * link fails. Whatever the answers, cf_emv_read must end with a clean code, and
 * on success the PAN is 12..19 digits and the expiry month 0..12; on error the
 * card is all zeros.
 *
 * Seeds (corpus/emv): the answers of recorded cards of tests/data/emv/devnied
 * (Apache-2.0) and of synthetic cards of tools/gen-card (gen_*: Mir, UnionPay,
 * Maestro over eight records) in the order this reader asks for them, length-prefixed;
 * gen_oda_*: synthetic cards of gen-card --oda (SDA, DDA, fDDA, CDA, small test keys)
 * as the proof read asks them, the signing answer included.
 *
 * The same input is read a second time with a proof asked for (cf_emv_read_proof): the
 * same code and card; on success a proof that the event model accepts (or none at all),
 * whose static data never holds the PAN; on error the proof all zeros.
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

/* The read with a proof over the same answers. */
static void check_proof_read(const uint8_t *data, size_t size, int rc_plain,
                             const struct cf_emv_card *plain)
{
    struct fuzz_card source = {data, size, 0};
    struct cf_emv_card card;
    struct cf_event *ev = calloc(1, sizeof *ev);
    char note[128];
    if (!ev)
        abort();
    memset(&card, 0xA5, sizeof card);
    memset(&ev->card.proof, 0xA5, sizeof ev->card.proof);
    int rc = cf_emv_read_proof(fuzz_transceive, &source, NULL, &card, &ev->card.proof, note,
                               sizeof note);
    if (!known_code(rc))
        abort();
    if (rc == 0) {
        /* The proof's extra commands come after the PAN: the identification is the
         * plain read's whenever that one succeeded. */
        if (rc_plain == 0 && strcmp(card.pan, plain->pan) != 0)
            abort();
        const struct cf_card_proof *p = &ev->card.proof;
        if (cf_static_data_holds_pan(p->static_data.data, p->static_data.len, card.pan))
            abort();
        if (p->kind != CF_PROOF_ABSENT) {
            struct cf_error_detail d = {0};
            ev->kind = CF_EV_CARD_BOUND;
            ev->seq = 1;
            ev->wall_ms = INT64_C(1796000000000);
            memset(ev->worker_id, 1, sizeof ev->worker_id);
            memset(ev->boot_id, 2, sizeof ev->boot_id);
            memset(ev->recipient_id, 3, sizeof ev->recipient_id);
            ev->card.method = CF_CARD_EMV;
            memcpy(ev->card.token, "AAECAwQFBgcICQoLDA0ODw", 23);
            memcpy(ev->card.scheme, "mir", 4);
            memcpy(ev->card.last4, "1234", 5);
            if (cf_event_validate(ev, &d) != 0)
                abort();
        }
        if (memchr(note, '\0', sizeof note) == NULL)
            abort();
    } else {
        static const struct cf_card_proof zero;
        if (memcmp(&ev->card.proof, &zero, sizeof zero) != 0)
            abort();
    }
    cf_emv_card_wipe(&card);
    free(ev);
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
    check_proof_read(data, size, rc, &card);
    cf_emv_card_wipe(&card);
    return 0;
}
