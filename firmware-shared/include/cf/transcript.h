/* EMV card transcripts (format of tests/data/emv/README.md): alternating
 * "send: <hex>" and "resp: <hex>" lines, '#' comments (anywhere on a line), spaces
 * inside hex ignored, an empty "send:" matching any GET PROCESSING OPTIONS
 * (80 A8 ...) and any READ RECORD (00 B2 ...), never a SELECT. The recordings use
 * an empty send for commands whose bytes depend on the terminal: the GPO (PDOL
 * values) and, in VisaCardPpse3, the READ RECORDs that follow it — the README's
 * expected expiry for that card (5F24, 06/2017) is only reachable that way.
 *
 * Used by the unit tests (as a cf_transceive_fn) and by tools/pn532-sim (as the
 * emulated card). Parsing works on a text buffer: the caller reads the file. */
#ifndef CF_TRANSCRIPT_H
#define CF_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf/error.h"

#define CF_TRANSCRIPT_MAX_TEXT (1u << 20)
#define CF_TRANSCRIPT_MAX_STEPS 4096

struct cf_transcript_step {
    uint8_t *command; /* owned by the transcript; NULL when any GPO matches */
    size_t command_len;
    uint8_t *response; /* owned; includes SW1 SW2 (at least 2 bytes) */
    size_t response_len;
    bool used;
};

struct cf_transcript {
    struct cf_transcript_step *steps; /* owned */
    size_t count;
};

/* Parse text (len bytes, need not be NUL-terminated). On error returns CF_EMALFORM
 * (bad hex, "resp:" without "send:", "send:" without "resp:", response under 2
 * bytes, a command of 1..3 bytes...), CF_ETOOBIG (text over CF_TRANSCRIPT_MAX_TEXT,
 * more than CF_TRANSCRIPT_MAX_STEPS steps, a command over 261 or a response over
 * 258 bytes) or CF_ENOMEM, with *detail (may be NULL) naming the line: field
 * "line 12", message "line 12: ...". *out is left empty on error; on success the
 * caller releases it with cf_transcript_cleanup. */
int cf_transcript_parse(const char *text, size_t len, struct cf_transcript *out,
                        struct cf_error_detail *detail);

/* Free the steps. Accepts NULL and an empty transcript. */
void cf_transcript_cleanup(struct cf_transcript *transcript);

/* Mark every step unused again (the card was taken away and put back). */
void cf_transcript_reset(struct cf_transcript *transcript);

/* Answer one command APDU as the card would: the response of the first unused step
 * in file order whose command matches exactly (an empty one matching any GPO or
 * READ RECORD), marking it used; when nothing matches, 6A 82 for SELECT / READ
 * RECORD and 6D 00 for anything else. Returns the response length, CF_ENOSPACE
 * (out_size too small; the step stays unused) or CF_EINVAL. */
long cf_transcript_answer(struct cf_transcript *transcript, const uint8_t *apdu, size_t apdu_len,
                          uint8_t *out, size_t out_size);

/* A cf_transceive_fn over a struct cf_transcript (ctx). */
int cf_transcript_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                             size_t resp_size, size_t *resp_len);

#endif
