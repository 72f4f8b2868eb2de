/* Card reader over libnfc (see ag/reader.h): the agent's only libnfc code. It polls
 * for a card, runs firmware-shared's EMV read through nfc_initiator_transceive_bytes,
 * falls back to the UID for cards without ISO 14443-4, and turns libnfc's error
 * codes into the agent's few distinct outcomes. Every wait is bounded by a deadline
 * so a silent or garbling reader cannot hold the agent. */
#include "ag/reader.h"

#include <nfc/nfc.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cf/emv.h"
#include "cf/token.h"

struct ag_reader {
    nfc_context *context;
    nfc_device *device;
    /* Set by the transceive callback for the read in progress. */
    int last_nfc_error; /* libnfc code of the last failed exchange; 0 = the card's fault */
    int64_t read_deadline_ms;
};

/* A card found in the field. */
struct found_card {
    bool type_a;
    uint8_t sak;
    uint8_t uid[10];
    size_t uid_len;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0) {
        /* EINTR: sleep the rest */
    }
}

/* ==== Opening and closing ==== */

int ag_reader_open(const char *connstring, struct ag_reader **out)
{
    *out = NULL;
    if (!connstring || !connstring[0] || strlen(connstring) >= NFC_BUFSIZE_CONNSTRING)
        return CF_EINVAL;
    struct ag_reader *reader = calloc(1, sizeof *reader);
    if (!reader)
        return CF_ENOMEM;
    int rc = 0;
    /* NOTE: libnfc's debug log (level 3) prints every byte exchanged with the card,
     * PAN included. Errors only (level 1), whatever the environment or libnfc.conf
     * say: the PAN must never reach a log. The environment wins over the file. */
    if (setenv("LIBNFC_LOG_LEVEL", "1", 1)) {
        rc = CF_ENOMEM;
        goto out;
    }
    nfc_init(&reader->context);
    if (!reader->context) {
        rc = CF_ENOMEM;
        goto out;
    }
    reader->device = nfc_open(reader->context, connstring);
    if (!reader->device) {
        rc = CF_EREADER_NOT_FOUND;
        goto out;
    }
    if (nfc_initiator_init(reader->device) < 0 ||
        /* One poll at a time: the chip must answer "no card" instead of waiting. */
        nfc_device_set_property_bool(reader->device, NP_INFINITE_SELECT, false) < 0) {
        rc = CF_EREADER_STOPPED;
        goto out;
    }
    *out = reader;
    reader = NULL;
out:
    ag_reader_close(reader);
    return rc;
}

void ag_reader_close(struct ag_reader *reader)
{
    if (!reader)
        return;
    if (reader->device)
        nfc_close(reader->device);
    if (reader->context)
        nfc_exit(reader->context);
    free(reader);
}

/* ==== Waiting for a card ==== */

/* libnfc failures that mean the reader itself misbehaves (no answer, garbage), as
 * opposed to the card not answering (NFC_ERFTRANS). */
static bool reader_fault(int nfc_error)
{
    return nfc_error < 0 && nfc_error != NFC_ERFTRANS;
}

/* One poll of each modulation. Returns 1 found, 0 empty field, or a libnfc error. */
static int poll_once(struct ag_reader *reader, struct found_card *found)
{
    static const nfc_modulation type_a = {.nmt = NMT_ISO14443A, .nbr = NBR_106};
    static const nfc_modulation type_b = {.nmt = NMT_ISO14443B, .nbr = NBR_106};
    nfc_target target;
    memset(found, 0, sizeof *found);
    int res = nfc_initiator_select_passive_target(reader->device, type_a, NULL, 0, &target);
    if (res > 0) {
        const nfc_iso14443a_info *a = &target.nti.nai;
        found->type_a = true;
        found->sak = a->btSak;
        found->uid_len = a->szUidLen <= sizeof found->uid ? a->szUidLen : sizeof found->uid;
        memcpy(found->uid, a->abtUid, found->uid_len);
        return 1;
    }
    if (res < 0)
        return res;
    res = nfc_initiator_select_passive_target(reader->device, type_b, NULL, 0, &target);
    if (res > 0) {
        found->type_a = false;
        memcpy(found->uid, target.nti.nbi.abtPupi, 4); /* the PUPI */
        found->uid_len = 4;
        return 1;
    }
    return res;
}

/* Poll until a card is found or deadline_ms. A reader failing three polls in a row,
 * or failing the last poll before the deadline, has stopped answering; one garbled
 * answer in between is forgiven. */
static int wait_for_card(struct ag_reader *reader, int64_t deadline_ms, struct found_card *found)
{
    int failures = 0;
    for (;;) {
        int res = poll_once(reader, found);
        if (res > 0)
            return 0;
        failures = res < 0 ? failures + 1 : 0;
        int64_t left = deadline_ms - mono_ms();
        if (failures >= 3 || (failures > 0 && left <= 0))
            return CF_EREADER_STOPPED;
        if (left <= 0)
            return CF_ENO_CARD;
        sleep_ms(left < AG_POLL_INTERVAL_MS ? left : AG_POLL_INTERVAL_MS);
    }
}

/* ==== Reading ==== */

/* cf_transceive_fn over libnfc. Any failure is CF_ECOMM for the EMV code; the
 * libnfc reason stays in the reader for the caller to classify. */
static int nfc_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                          size_t resp_size, size_t *resp_len)
{
    struct ag_reader *reader = ctx;
    int64_t left = reader->read_deadline_ms - mono_ms();
    if (left <= 0) {
        reader->last_nfc_error = NFC_ETIMEOUT; /* too slow as a whole */
        return CF_ECOMM;
    }
    int timeout = left < AG_APDU_TIMEOUT_MS ? (int)left : AG_APDU_TIMEOUT_MS;
    int n = nfc_initiator_transceive_bytes(reader->device, cmd, cmd_len, resp, resp_size, timeout);
    if (n == NFC_EOVFLOW || (n >= 0 && n < 2)) {
        /* The card's own fault: an answer longer than an R-APDU, or no status word. */
        reader->last_nfc_error = 0;
        return CF_ECOMM;
    }
    if (n < 0) {
        reader->last_nfc_error = n;
        return CF_ECOMM;
    }
    *resp_len = (size_t)n;
    return 0;
}

static int read_uid_card(const struct found_card *found, const uint8_t *key, size_t key_len,
                         struct ag_card_read *out)
{
    int rc = cf_token_from_uid(key, key_len, found->uid, found->uid_len, out->card.token);
    if (rc)
        return rc;
    out->card.method = CF_CARD_UID;
    return 0;
}

/* Run the EMV read and keep only what carefact may keep. The PAN lives in emv for
 * the length of this function and is wiped on every path. */
static int read_emv_card(struct ag_reader *reader, const uint8_t *key, size_t key_len,
                         const uint8_t *challenge, struct ag_card_read *out)
{
    struct cf_emv_terminal terminal;
    struct cf_emv_card emv;
    memset(&emv, 0, sizeof emv);
    cf_emv_terminal_defaults(&terminal, wall_ms());
    if (challenge)
        memcpy(terminal.unpredictable, challenge, sizeof terminal.unpredictable);
    else if (RAND_bytes(terminal.unpredictable, sizeof terminal.unpredictable) != 1)
        return CF_ECRYPTO;
    reader->last_nfc_error = 0;
    int rc = challenge
                 ? cf_emv_read_proof(nfc_transceive, reader, &terminal, &emv, &out->card.proof,
                                     out->proof_note, sizeof out->proof_note)
                 : cf_emv_read(nfc_transceive, reader, &terminal, &emv);
    if (rc)
        goto out;
    rc = cf_token_from_pan(key, key_len, emv.pan, out->card.token);
    if (rc)
        goto out;
    size_t digits = strlen(emv.pan);
    memcpy(out->card.last4, emv.pan + digits - 4, 4); /* cf_token_from_pan checked >= 12 */
    out->card.last4[4] = '\0';
    snprintf(out->card.scheme, sizeof out->card.scheme, "%s", cf_scheme_name(emv.scheme));
    out->card.method = CF_CARD_EMV;
    out->expiry_year = emv.expiry_year;
    out->expiry_month = emv.expiry_month;
out:
    cf_emv_card_wipe(&emv);
    OPENSSL_cleanse(&terminal, sizeof terminal);
    return rc;
}

/* After a failed exchange: power the card down and up again and see whether it is
 * still in the field. Returns 0 (card back, *found refreshed), CF_ECARD_REMOVED or
 * CF_EREADER_STOPPED. */
static int recover_card(struct ag_reader *reader, struct found_card *found)
{
    if (nfc_device_set_property_bool(reader->device, NP_ACTIVATE_FIELD, false) < 0 ||
        nfc_device_set_property_bool(reader->device, NP_ACTIVATE_FIELD, true) < 0)
        return CF_EREADER_STOPPED;
    int64_t deadline = mono_ms() + AG_REPOLL_MS;
    if (deadline > reader->read_deadline_ms)
        deadline = reader->read_deadline_ms;
    int rc = wait_for_card(reader, deadline, found);
    return rc == CF_ENO_CARD ? CF_ECARD_REMOVED : rc;
}

/* Identify the card in *found. A failed exchange (the card or the reader did not
 * answer properly) is tried once more if the card is still there: a card held at
 * the edge of the field, or one garbled frame, should not cost the worker a tap. */
static int identify(struct ag_reader *reader, struct found_card *found, const uint8_t *key,
                    size_t key_len, const uint8_t *challenge, struct ag_card_read *out)
{
    int rc = 0;
    for (int attempt = 1; attempt <= 2; attempt++) {
        if (found->type_a && !(found->sak & 0x20))
            return read_uid_card(found, key, key_len, out);
        rc = read_emv_card(reader, key, key_len, challenge, out);
        if (rc != CF_ECOMM || reader->last_nfc_error == 0)
            return rc; /* a result, or an answer from the card itself */
        int link_error = reader->last_nfc_error;
        if (attempt == 2 || mono_ms() >= reader->read_deadline_ms)
            return reader_fault(link_error) ? CF_EREADER_STOPPED : CF_ECARD_REMOVED;
        rc = recover_card(reader, found);
        if (rc)
            return rc;
    }
    return rc;
}

int ag_reader_read_card(struct ag_reader *reader, const uint8_t *token_key, size_t key_len,
                        int wait_ms, const uint8_t *challenge, struct ag_card_read *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!reader || !token_key || !out || key_len < CF_TOKEN_KEY_MIN || key_len > CF_TOKEN_KEY_MAX ||
        wait_ms < 1 || wait_ms > AG_WAIT_MS_MAX)
        return CF_EINVAL;
    struct found_card found;
    int rc = wait_for_card(reader, mono_ms() + wait_ms, &found);
    if (rc)
        return rc;
    reader->read_deadline_ms = mono_ms() + AG_READ_BUDGET_MS;
    rc = identify(reader, &found, token_key, key_len, challenge, out);
    OPENSSL_cleanse(&found, sizeof found);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}
