/* libFuzzer target for the card transcript parser (cf/transcript.h): arbitrary
 * text must parse or fail with a line-numbered error, never crash or leak; a
 * parsed transcript must hold well-formed steps and answer commands within the
 * output buffer.
 *
 * Seeds (corpus/transcript): three devnied recordings (Apache-2.0, see
 * tests/data/emv/devnied), two small hand-written files and two synthetic cards of
 * tools/gen-card (gen_*: Mir with long lengths and track 2 only, UnionPay with a
 * format 1 GPO over five records).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cf/transcript.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cf_transcript t;
    struct cf_error_detail detail;
    memset(&detail, 0, sizeof detail);
    int rc = cf_transcript_parse((const char *)data, size, &t, &detail);
    if (rc) {
        if (t.steps || t.count || detail.code != rc || detail.message[0] == '\0')
            abort();
        if (rc != CF_EMALFORM && rc != CF_ETOOBIG && rc != CF_ENOMEM)
            abort();
        return 0;
    }
    for (size_t i = 0; i < t.count; i++) {
        const struct cf_transcript_step *s = &t.steps[i];
        if (s->response_len < 2 || s->response_len > 258 || s->used)
            abort();
        if (s->command ? (s->command_len < 4 || s->command_len > 261) : s->command_len != 0)
            abort();
    }
    /* Replay each recorded command, a GPO and a READ RECORD. */
    uint8_t out[258];
    static const uint8_t gpo[] = {0x80, 0xA8, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00};
    static const uint8_t read[] = {0x00, 0xB2, 0x01, 0x0C, 0x00};
    for (size_t i = 0; i < t.count && i < 64; i++) {
        if (!t.steps[i].command)
            continue;
        long n =
            cf_transcript_answer(&t, t.steps[i].command, t.steps[i].command_len, out, sizeof out);
        if (n < 2 || n > (long)sizeof out)
            abort();
    }
    long n = cf_transcript_answer(&t, gpo, sizeof gpo, out, sizeof out);
    if (n < 2)
        abort();
    n = cf_transcript_answer(&t, read, sizeof read, out, sizeof out);
    if (n < 2)
        abort();
    cf_transcript_reset(&t);
    cf_transcript_cleanup(&t);
    return 0;
}
