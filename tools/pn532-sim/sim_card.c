/* Card models of the PN532 emulator (see sim_card.h): anticollision data for
 * InListPassiveTarget and answers to APDUs. EMV answers come from firmware-shared's
 * transcript replay; this file only reads the transcript file and keeps the card's
 * identity (UID, ATQA, SAK, ATS). */
#include "sim_card.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t sim_card_default_uid[4] = {0x08, 0x5A, 0x1C, 0x33};
const uint8_t sim_card_default_ats[4] = {0x78, 0x80, 0x70, 0x02};

void sim_card_init(struct sim_card *card)
{
    memset(card, 0, sizeof *card);
    card->kind = SIM_CARD_NONE;
}

void sim_card_cleanup(struct sim_card *card)
{
    if (!card)
        return;
    cf_transcript_cleanup(&card->transcript);
    gc_live_free(card->live);
    sim_card_init(card);
}

void sim_card_remove(struct sim_card *card)
{
    sim_card_cleanup(card);
}

bool sim_card_present(const struct sim_card *card)
{
    return card->kind != SIM_CARD_NONE;
}

bool sim_card_iso_dep(const struct sim_card *card)
{
    return sim_card_present(card) && (card->sak & 0x20);
}

const char *sim_card_kind_name(enum sim_card_kind kind)
{
    switch (kind) {
    case SIM_CARD_EMV:
        return "emv";
    case SIM_CARD_UID:
        return "uid";
    case SIM_CARD_NONE:
        break;
    }
    return "none";
}

static bool uid_length_ok(size_t uid_len)
{
    return uid_len == 4 || uid_len == 7 || uid_len == 10;
}

/* Identity fields shared by both card models. ATQA bit 6/7 of its second byte tells
 * the UID size (single, double, triple), bit 2 the bit-frame anticollision. */
static void set_identity(struct sim_card *card, const uint8_t *uid, size_t uid_len, uint8_t sak)
{
    memcpy(card->uid, uid, uid_len);
    card->uid_len = uid_len;
    card->sak = sak;
    card->atqa[0] = 0x00;
    card->atqa[1] = uid_len == 4 ? 0x04 : uid_len == 7 ? 0x44 : 0x84;
}

/* Read a whole text file, at most CF_TRANSCRIPT_MAX_TEXT bytes. *text is malloc'ed
 * (caller frees). */
static int read_file(const char *path, char **text, size_t *len, struct cf_error_detail *detail)
{
    int rc = 0;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cf_error_set(detail, CF_EMALFORM, "transcript", "cannot open %s: %s", path,
                            strerror(errno));
    buf = malloc(CF_TRANSCRIPT_MAX_TEXT + 1);
    if (!buf) {
        rc = cf_error_set(detail, CF_ENOMEM, "transcript", "out of memory");
        goto out;
    }
    size_t n = fread(buf, 1, CF_TRANSCRIPT_MAX_TEXT + 1, f);
    if (ferror(f)) {
        rc = cf_error_set(detail, CF_EMALFORM, "transcript", "cannot read %s", path);
        goto out;
    }
    if (n > CF_TRANSCRIPT_MAX_TEXT) {
        rc = cf_error_set(detail, CF_ETOOBIG, "transcript", "%s is over %u bytes", path,
                          CF_TRANSCRIPT_MAX_TEXT);
        goto out;
    }
    *text = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return rc;
}

int sim_card_load_transcript(struct sim_card *card, const char *path, const uint8_t *uid,
                             size_t uid_len, const uint8_t *ats, size_t ats_len,
                             struct cf_error_detail *detail)
{
    char *text = NULL;
    size_t text_len = 0;
    struct cf_transcript transcript = {0};
    if (!uid) {
        uid = sim_card_default_uid;
        uid_len = sizeof sim_card_default_uid;
    }
    if (!ats) {
        ats = sim_card_default_ats;
        ats_len = sizeof sim_card_default_ats;
    }
    if (!uid_length_ok(uid_len))
        return cf_error_set(detail, CF_EINVAL, "uid", "a UID has 4, 7 or 10 bytes, not %zu",
                            uid_len);
    if (ats_len > SIM_CARD_ATS_MAX)
        return cf_error_set(detail, CF_EINVAL, "ats", "an ATS has at most %d bytes, not %zu",
                            SIM_CARD_ATS_MAX, ats_len);
    int rc = read_file(path, &text, &text_len, detail);
    if (rc)
        return rc;
    rc = cf_transcript_parse(text, text_len, &transcript, detail);
    struct gc_live *live = NULL;
    if (!rc) {
        char dir[sizeof card->source];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, sizeof dir, ".");
        rc = gc_live_load(text, text_len, dir, &live, detail);
        if (rc)
            cf_transcript_cleanup(&transcript);
    }
    free(text);
    if (rc)
        return rc;

    sim_card_cleanup(card);
    card->kind = SIM_CARD_EMV;
    /* SAK 20: ISO 14443-4 only, as contactless bank cards answer. */
    set_identity(card, uid, uid_len, 0x20);
    memcpy(card->ats, ats, ats_len);
    card->ats_len = ats_len;
    card->transcript = transcript;
    card->live = live;
    snprintf(card->source, sizeof card->source, "%s", path);
    return 0;
}

int sim_card_set_uid(struct sim_card *card, const uint8_t *uid, size_t uid_len, uint8_t sak)
{
    if (!uid_length_ok(uid_len))
        return CF_EINVAL;
    sim_card_cleanup(card);
    card->kind = SIM_CARD_UID;
    set_identity(card, uid, uid_len, sak);
    memcpy(card->ats, sim_card_default_ats, sizeof sim_card_default_ats);
    card->ats_len = sizeof sim_card_default_ats;
    return 0;
}

void sim_card_activate(struct sim_card *card)
{
    if (card->kind == SIM_CARD_EMV) {
        cf_transcript_reset(&card->transcript);
        gc_live_reset(card->live);
    }
}

int sim_card_target_data(const struct sim_card *card, uint8_t tg, bool with_ats, uint8_t *out,
                         size_t out_size, size_t *out_len)
{
    if (!sim_card_present(card))
        return CF_EINVAL;
    bool ats = with_ats && sim_card_iso_dep(card);
    size_t need = 5 + card->uid_len + (ats ? 1 + card->ats_len : 0);
    if (out_size < need)
        return CF_ENOSPACE;
    size_t n = 0;
    out[n++] = tg;
    out[n++] = card->atqa[0];
    out[n++] = card->atqa[1];
    out[n++] = card->sak;
    out[n++] = (uint8_t)card->uid_len;
    memcpy(out + n, card->uid, card->uid_len);
    n += card->uid_len;
    if (ats) {
        out[n++] = (uint8_t)(card->ats_len + 1); /* TL counts itself */
        memcpy(out + n, card->ats, card->ats_len);
        n += card->ats_len;
    }
    *out_len = n;
    return 0;
}

long sim_card_apdu(struct sim_card *card, const uint8_t *apdu, size_t apdu_len, uint8_t *out,
                   size_t out_size)
{
    if (!sim_card_iso_dep(card))
        return CF_EINVAL;
    if (out_size < SIM_CARD_RESPONSE_MAX)
        return CF_ENOSPACE;
    /* A UID card with SAK bit 20 has an empty transcript: every command gets the
     * "not found" / "not supported" status an application-less card gives. */
    return gc_live_answer(card->live, &card->transcript, apdu, apdu_len, out, out_size);
}

size_t sim_card_raw(const struct sim_card *card, const uint8_t *frame, size_t frame_len,
                    uint8_t *out, size_t out_size)
{
    if (card->kind != SIM_CARD_UID || frame_len != 2 || frame[0] != 0x30 || out_size < 16)
        return 0;
    /* Ultralight memory: 16 pages of 4 bytes; pages 0..2 hold the UID with its check
     * bytes (cascade tag 88 in BCC0), the rest reads as zeros. */
    uint8_t memory[64] = {0};
    const uint8_t *u = card->uid;
    if (card->uid_len == 7) {
        memory[0] = u[0];
        memory[1] = u[1];
        memory[2] = u[2];
        memory[3] = (uint8_t)(0x88 ^ u[0] ^ u[1] ^ u[2]);
        memcpy(memory + 4, u + 3, 4);
        memory[8] = (uint8_t)(u[3] ^ u[4] ^ u[5] ^ u[6]);
        memory[9] = 0x48;
    } else {
        memcpy(memory, u, card->uid_len);
    }
    uint8_t page = frame[1];
    if (page >= 16)
        return 0;
    for (size_t i = 0; i < 16; i++)
        out[i] = memory[(page * 4 + i) % sizeof memory]; /* reads wrap around */
    return 16;
}
