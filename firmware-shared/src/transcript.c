/* EMV card transcripts (see cf/transcript.h): a strict line parser for the
 * "send:" / "resp:" format of tests/data/emv, and a replay matcher that
 * answers command APDUs as the recorded card did. Used as the card by the unit
 * tests and by the PN532 emulator. */
#include "cf/transcript.h"

#include "cf/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Short APDUs only (contactless EMV): 5 header bytes + 255 data + Le, and 256
 * data bytes + SW1 SW2 in an answer. */
#define TRANSCRIPT_MAX_COMMAND 261
#define TRANSCRIPT_MAX_RESPONSE 258

struct line_parser {
    struct cf_transcript *out;
    size_t capacity; /* allocated steps */
    bool pending_send; /* a "send:" waits for its "resp:" */
    size_t pending_line;
    uint8_t *command; /* of the pending send (owned until stored) */
    size_t command_len;
    bool wildcard;
};

/* Decode hex with blanks ignored into a fresh allocation (*out NULL when empty). */
static int decode_hex(const char *text, size_t len, size_t cap, size_t line_no, const char *what,
                      uint8_t **out, size_t *out_len, struct cf_error_detail *detail)
{
    uint8_t buf[TRANSCRIPT_MAX_RESPONSE > TRANSCRIPT_MAX_COMMAND ? TRANSCRIPT_MAX_RESPONSE
                                                                 : TRANSCRIPT_MAX_COMMAND];
    size_t n = 0;
    int high = -1;
    char field[32];
    snprintf(field, sizeof field, "line %zu", line_no);
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == ' ' || c == '\t')
            continue;
        int v = cf_hex_digit(c);
        if (v < 0)
            return cf_error_set(detail, CF_EMALFORM, field,
                                "line %zu: character 0x%02X is not a hex digit in %s", line_no,
                                (unsigned)(unsigned char)c, what);
        if (high < 0) {
            high = v;
            continue;
        }
        if (n >= cap)
            return cf_error_set(detail, CF_ETOOBIG, field, "line %zu: %s is longer than %zu bytes",
                                line_no, what, cap);
        buf[n++] = (uint8_t)(high << 4 | v);
        high = -1;
    }
    if (high >= 0)
        return cf_error_set(detail, CF_EMALFORM, field, "line %zu: odd number of hex digits in %s",
                            line_no, what);
    *out = NULL;
    *out_len = n;
    if (n == 0)
        return 0;
    *out = malloc(n);
    if (!*out)
        return cf_error_set(detail, CF_ENOMEM, field, "line %zu: out of memory", line_no);
    memcpy(*out, buf, n);
    return 0;
}

static int store_step(struct line_parser *lp, uint8_t *response, size_t response_len,
                      size_t line_no, struct cf_error_detail *detail)
{
    struct cf_transcript *t = lp->out;
    char field[32];
    snprintf(field, sizeof field, "line %zu", line_no);
    if (t->count >= CF_TRANSCRIPT_MAX_STEPS) {
        free(response);
        return cf_error_set(detail, CF_ETOOBIG, field, "line %zu: more than %u steps", line_no,
                            (unsigned)CF_TRANSCRIPT_MAX_STEPS);
    }
    if (t->count == lp->capacity) {
        size_t capacity = lp->capacity ? lp->capacity * 2 : 16;
        if (capacity > CF_TRANSCRIPT_MAX_STEPS)
            capacity = CF_TRANSCRIPT_MAX_STEPS;
        struct cf_transcript_step *steps = realloc(t->steps, capacity * sizeof *steps);
        if (!steps) {
            free(response);
            return cf_error_set(detail, CF_ENOMEM, field, "line %zu: out of memory", line_no);
        }
        t->steps = steps;
        lp->capacity = capacity;
    }
    struct cf_transcript_step *step = &t->steps[t->count++];
    step->command = lp->wildcard ? NULL : lp->command;
    step->command_len = lp->wildcard ? 0 : lp->command_len;
    step->response = response;
    step->response_len = response_len;
    step->used = false;
    lp->command = NULL;
    lp->command_len = 0;
    lp->pending_send = false;
    return 0;
}

/* One line without its end-of-line: comment stripped, then blank, send or resp. */
static int parse_line(struct line_parser *lp, const char *text, size_t len, size_t line_no,
                      struct cf_error_detail *detail)
{
    const char *hash = memchr(text, '#', len);
    if (hash)
        len = (size_t)(hash - text);
    size_t start = 0;
    while (start < len && (text[start] == ' ' || text[start] == '\t' || text[start] == '\r'))
        start++;
    while (len > start && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r'))
        len--;
    if (start == len)
        return 0;
    text += start;
    len -= start;
    char field[32];
    snprintf(field, sizeof field, "line %zu", line_no);
    bool is_send = len >= 5 && memcmp(text, "send:", 5) == 0;
    bool is_resp = len >= 5 && memcmp(text, "resp:", 5) == 0;
    if (!is_send && !is_resp)
        return cf_error_set(detail, CF_EMALFORM, field,
                            "line %zu: expected \"send:\", \"resp:\" or a # comment", line_no);
    if (is_send) {
        if (lp->pending_send)
            return cf_error_set(detail, CF_EMALFORM, field,
                                "line %zu: \"send:\" follows the \"send:\" of line %zu, which has "
                                "no \"resp:\"",
                                line_no, lp->pending_line);
        int rc = decode_hex(text + 5, len - 5, TRANSCRIPT_MAX_COMMAND, line_no, "the command",
                            &lp->command, &lp->command_len, detail);
        if (rc)
            return rc;
        if (lp->command_len > 0 && lp->command_len < 4) {
            free(lp->command);
            lp->command = NULL;
            return cf_error_set(detail, CF_EMALFORM, field,
                                "line %zu: a command APDU has at least 4 bytes", line_no);
        }
        lp->wildcard = lp->command_len == 0;
        lp->pending_send = true;
        lp->pending_line = line_no;
        return 0;
    }
    if (!lp->pending_send)
        return cf_error_set(detail, CF_EMALFORM, field,
                            "line %zu: \"resp:\" without a \"send:\" before it", line_no);
    uint8_t *response;
    size_t response_len;
    int rc = decode_hex(text + 5, len - 5, TRANSCRIPT_MAX_RESPONSE, line_no, "the response",
                        &response, &response_len, detail);
    if (rc)
        return rc;
    if (response_len < 2) {
        free(response);
        return cf_error_set(detail, CF_EMALFORM, field,
                            "line %zu: a response needs at least SW1 SW2 (2 bytes)", line_no);
    }
    return store_step(lp, response, response_len, line_no, detail);
}

int cf_transcript_parse(const char *text, size_t len, struct cf_transcript *out,
                        struct cf_error_detail *detail)
{
    if (!out || (!text && len))
        return cf_error_set(detail, CF_EINVAL, "", "no transcript text or no output");
    out->steps = NULL;
    out->count = 0;
    if (len > CF_TRANSCRIPT_MAX_TEXT)
        return cf_error_set(detail, CF_ETOOBIG, "", "transcript is larger than %u bytes",
                            (unsigned)CF_TRANSCRIPT_MAX_TEXT);
    struct line_parser lp = {.out = out};
    int rc = 0;
    size_t line_no = 1;
    size_t pos = 0;
    while (pos < len) {
        const char *eol = memchr(text + pos, '\n', len - pos);
        size_t line_len = eol ? (size_t)(eol - (text + pos)) : len - pos;
        rc = parse_line(&lp, text + pos, line_len, line_no, detail);
        if (rc)
            goto out;
        pos += line_len + (eol ? 1 : 0);
        line_no++;
    }
    if (lp.pending_send) {
        char field[32];
        snprintf(field, sizeof field, "line %zu", lp.pending_line);
        rc = cf_error_set(detail, CF_EMALFORM, field,
                          "line %zu: \"send:\" without a \"resp:\" after it", lp.pending_line);
    }
out:
    free(lp.command);
    if (rc)
        cf_transcript_cleanup(out);
    return rc;
}

void cf_transcript_cleanup(struct cf_transcript *transcript)
{
    if (!transcript)
        return;
    for (size_t i = 0; i < transcript->count; i++) {
        free(transcript->steps[i].command);
        free(transcript->steps[i].response);
    }
    free(transcript->steps);
    transcript->steps = NULL;
    transcript->count = 0;
}

void cf_transcript_reset(struct cf_transcript *transcript)
{
    if (!transcript)
        return;
    for (size_t i = 0; i < transcript->count; i++)
        transcript->steps[i].used = false;
}

/* The commands an empty "send:" stands for: GET PROCESSING OPTIONS and READ
 * RECORD, whose bytes depend on the terminal (PDOL data) or on the AFL the card
 * gave. Never SELECT: a wildcard answering every SELECT would invent
 * applications the recording does not show. */
static bool wildcard_matches(const uint8_t *apdu, size_t apdu_len)
{
    if (apdu_len < 4)
        return false;
    bool gpo = apdu[0] == 0x80 && apdu[1] == 0xA8;
    bool read_record = apdu[0] == 0x00 && apdu[1] == 0xB2;
    return gpo || read_record;
}

static long put_answer(const uint8_t *answer, size_t len, uint8_t *out, size_t out_size)
{
    if (len > out_size)
        return CF_ENOSPACE;
    memcpy(out, answer, len);
    return (long)len;
}

long cf_transcript_answer(struct cf_transcript *transcript, const uint8_t *apdu, size_t apdu_len,
                          uint8_t *out, size_t out_size)
{
    if (!transcript || (!apdu && apdu_len) || !out)
        return CF_EINVAL;
    for (size_t i = 0; i < transcript->count; i++) {
        struct cf_transcript_step *step = &transcript->steps[i];
        if (step->used)
            continue;
        bool match = step->command ? step->command_len == apdu_len &&
                                         memcmp(step->command, apdu, apdu_len) == 0
                                   : wildcard_matches(apdu, apdu_len);
        if (!match)
            continue;
        long n = put_answer(step->response, step->response_len, out, out_size);
        if (n >= 0)
            step->used = true;
        return n;
    }
    static const uint8_t not_found[2] = {0x6A, 0x82};
    static const uint8_t unknown_ins[2] = {0x6D, 0x00};
    bool select_or_read = apdu_len >= 2 && (apdu[1] == 0xA4 || apdu[1] == 0xB2);
    return put_answer(select_or_read ? not_found : unknown_ins, 2, out, out_size);
}

int cf_transcript_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                             size_t resp_size, size_t *resp_len)
{
    if (!resp_len)
        return CF_EINVAL;
    long n = cf_transcript_answer(ctx, cmd, cmd_len, resp, resp_size);
    if (n < 0)
        return (int)n;
    *resp_len = (size_t)n;
    return 0;
}
