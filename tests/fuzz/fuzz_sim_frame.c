/* libFuzzer target for the PN532 emulator's frame decoder (tools/pn532-sim/
 * sim_frame.h): the input is a byte stream as it would arrive on the pseudo-terminal.
 * It is decoded frame by frame the way the emulator does; every information frame
 * must re-encode and decode to the same data, and the decoder must always make
 * progress or ask for more bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim_frame.h"

static void check_roundtrip(const struct sim_frame *f)
{
    uint8_t wire[SIM_FRAME_MAX_WIRE];
    size_t wire_len = 0;
    if (sim_frame_encode(f->tfi, f->data, f->len, wire, sizeof wire, &wire_len) != 0)
        abort(); /* a decoded frame is always within the encoder's limits */
    struct sim_frame again;
    size_t used = 0;
    if (sim_frame_decode(wire, wire_len, &again, &used) != 0)
        abort();
    if (again.kind != SIM_FRAME_INFO || again.tfi != f->tfi || again.len != f->len ||
        memcmp(again.data, f->data, f->len) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    while (pos < size) {
        static struct sim_frame f;
        size_t used = 0;
        int rc = sim_frame_decode(data + pos, size - pos, &f, &used);
        if (used > size - pos)
            abort();
        if (rc == CF_ETRUNC)
            break;
        if (used == 0)
            abort(); /* a decoded or refused frame always consumes bytes */
        if (rc == 0 && f.kind == SIM_FRAME_INFO)
            check_roundtrip(&f);
        pos += used;
    }
    return 0;
}
