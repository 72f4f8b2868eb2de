/* Unit tests for the PN532 emulator's frame codec (tools/pn532-sim/sim_frame.h): the
 * exact bytes libnfc 1.8 sends and expects, checksums, the extended form, and the
 * refusals and resynchronisation a stream decoder of outside bytes must get right. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim_frame.h"

/* libnfc's Diagnose communication test, as pn53x_check_communication builds it. */
static const uint8_t diagnose_frame[] = {0x00, 0x00, 0xFF, 0x09, 0xF7, 0xD4, 0x00, 0x00,
                                         0x6C, 0x69, 0x62, 0x6E, 0x66, 0x63, 0xBE, 0x00};

static void test_decodes_libnfc_command(void **state)
{
    (void)state;
    struct sim_frame f;
    size_t used = 0;
    assert_int_equal(sim_frame_decode(diagnose_frame, sizeof diagnose_frame, &f, &used), 0);
    assert_int_equal(f.kind, SIM_FRAME_INFO);
    assert_false(f.extended);
    assert_int_equal(f.tfi, SIM_TFI_HOST);
    assert_int_equal(f.len, 8);
    assert_memory_equal(f.data, "\x00\x00libnfc", 8);
    /* The postamble is left for the next call, which skips it as junk. */
    assert_int_equal(used, sizeof diagnose_frame - 1);
}

static void test_skips_wakeup_preamble(void **state)
{
    (void)state;
    /* pn532_uart_wakeup: 55 55 and fourteen 00, then SAMConfiguration (D4 14 01). */
    uint8_t stream[16 + 9] = {0x55, 0x55};
    const uint8_t sam[] = {0x00, 0x00, 0xFF, 0x03, 0xFD, 0xD4, 0x14, 0x01, 0x17};
    memcpy(stream + 16, sam, sizeof sam);
    struct sim_frame f;
    size_t used = 0;
    assert_int_equal(sim_frame_decode(stream, sizeof stream, &f, &used), 0);
    assert_int_equal(f.kind, SIM_FRAME_INFO);
    assert_int_equal(f.len, 2);
    assert_int_equal(f.data[0], 0x14);
    assert_int_equal(f.data[1], 0x01);
    assert_int_equal(used, sizeof stream);
}

static void test_fixed_frames(void **state)
{
    (void)state;
    uint8_t buf[SIM_FRAME_ERROR_LEN];
    struct sim_frame f;
    size_t used = 0;

    assert_int_equal(sim_frame_encode_ack(buf), 6);
    assert_memory_equal(buf, "\x00\x00\xFF\x00\xFF\x00", 6);
    assert_int_equal(sim_frame_decode(buf, 6, &f, &used), 0);
    assert_int_equal(f.kind, SIM_FRAME_ACK);

    assert_int_equal(sim_frame_encode_nack(buf), 6);
    assert_memory_equal(buf, "\x00\x00\xFF\xFF\x00\x00", 6);
    assert_int_equal(sim_frame_decode(buf, 6, &f, &used), 0);
    assert_int_equal(f.kind, SIM_FRAME_NACK);

    /* libnfc's pn53x_error_frame, byte for byte. */
    assert_int_equal(sim_frame_encode_error(buf), 8);
    assert_memory_equal(buf, "\x00\x00\xFF\x01\xFF\x7F\x81\x00", 8);
    assert_int_equal(sim_frame_decode(buf, 8, &f, &used), 0);
    assert_int_equal(f.kind, SIM_FRAME_ERROR);
    assert_int_equal(used, 7);
}

static void test_encodes_firmware_answer(void **state)
{
    (void)state;
    /* GetFirmwareVersion answer: D5 03 32 01 06 07; LEN 06, LCS FA, DCS E8. */
    const uint8_t data[] = {0x03, 0x32, 0x01, 0x06, 0x07};
    const uint8_t expected[] = {0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03,
                                0x32, 0x01, 0x06, 0x07, 0xE8, 0x00};
    uint8_t out[SIM_FRAME_MAX_WIRE];
    size_t len = 0;
    assert_int_equal(sim_frame_encode(SIM_TFI_CHIP, data, sizeof data, out, sizeof out, &len), 0);
    assert_int_equal(len, sizeof expected);
    assert_memory_equal(out, expected, sizeof expected);
}

static void roundtrip(size_t data_len, bool want_extended)
{
    uint8_t data[SIM_FRAME_MAX_DATA];
    for (size_t i = 0; i < data_len; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    uint8_t wire[SIM_FRAME_MAX_WIRE];
    size_t wire_len = 0;
    assert_int_equal(sim_frame_encode(SIM_TFI_CHIP, data, data_len, wire, sizeof wire, &wire_len),
                     0);
    assert_int_equal(wire_len, data_len + (want_extended ? 11 : 8));
    if (want_extended) {
        assert_int_equal(wire[3], 0xFF);
        assert_int_equal(wire[4], 0xFF);
        assert_int_equal((wire[5] << 8) | wire[6], data_len + 1);
    } else {
        assert_int_equal(wire[3], data_len + 1);
    }
    struct sim_frame f;
    size_t used = 0;
    assert_int_equal(sim_frame_decode(wire, wire_len, &f, &used), 0);
    assert_int_equal(f.kind, SIM_FRAME_INFO);
    assert_int_equal(f.extended, want_extended);
    assert_int_equal(f.tfi, SIM_TFI_CHIP);
    assert_int_equal(f.len, data_len);
    assert_memory_equal(f.data, data, data_len);
}

/* An answer to InDataExchange is D5 41 status + R-APDU: over 252 APDU bytes it no
 * longer fits LEN <= 255 and must go extended. */
static void test_normal_extended_boundary(void **state)
{
    (void)state;
    roundtrip(1, false);
    roundtrip(SIM_FRAME_NORMAL_MAX_DATA, false);
    roundtrip(SIM_FRAME_NORMAL_MAX_DATA + 1, true);
    roundtrip(2 + 258, true); /* 41 status + 256 data bytes + SW1 SW2 */
    roundtrip(SIM_FRAME_MAX_DATA, true);
}

static void test_encode_limits(void **state)
{
    (void)state;
    uint8_t data[SIM_FRAME_MAX_DATA + 1] = {0};
    uint8_t out[SIM_FRAME_MAX_WIRE];
    size_t len = 0;
    assert_int_equal(sim_frame_encode(SIM_TFI_CHIP, data, sizeof data, out, sizeof out, &len),
                     CF_ETOOBIG);
    assert_int_equal(sim_frame_encode(SIM_TFI_CHIP, data, 10, out, 17, &len), CF_ENOSPACE);
    assert_int_equal(sim_frame_encode(SIM_TFI_CHIP, data, 10, out, 18, &len), 0);
}

static void test_truncated_input_waits(void **state)
{
    (void)state;
    struct sim_frame f;
    for (size_t cut = 0; cut < sizeof diagnose_frame - 1; cut++) {
        size_t used = 99;
        assert_int_equal(sim_frame_decode(diagnose_frame, cut, &f, &used), CF_ETRUNC);
        /* Nothing from the start code on may be dropped while waiting. */
        assert_true(used <= 1);
    }
    /* Pure junk is dropped, except a last 00 that may begin a start code. */
    const uint8_t junk[] = {0x55, 0x55, 0x12, 0x00};
    size_t used = 0;
    assert_int_equal(sim_frame_decode(junk, sizeof junk, &f, &used), CF_ETRUNC);
    assert_int_equal(used, 3);
}

static void test_bad_checksums_are_refused(void **state)
{
    (void)state;
    struct sim_frame f;
    size_t used = 0;
    uint8_t frame[sizeof diagnose_frame];

    memcpy(frame, diagnose_frame, sizeof frame);
    frame[14] ^= 0x01; /* DCS */
    assert_int_equal(sim_frame_decode(frame, sizeof frame, &f, &used), CF_EMALFORM);
    assert_int_equal(used, 3); /* through the start code, to resync */

    memcpy(frame, diagnose_frame, sizeof frame);
    frame[4] = 0xF8; /* LCS */
    assert_int_equal(sim_frame_decode(frame, sizeof frame, &f, &used), CF_EMALFORM);

    memcpy(frame, diagnose_frame, sizeof frame);
    frame[5] = 0xD6; /* unknown TFI, DCS fixed so only the TFI is wrong */
    frame[14] = (uint8_t)(frame[14] - 2);
    assert_int_equal(sim_frame_decode(frame, sizeof frame, &f, &used), CF_EMALFORM);

    const uint8_t bad_error[] = {0x00, 0x00, 0xFF, 0x02, 0xFE, 0x7F, 0x00, 0x81, 0x00};
    assert_int_equal(sim_frame_decode(bad_error, sizeof bad_error, &f, &used), CF_EMALFORM);

    const uint8_t len_zero[] = {0x00, 0x00, 0xFF, 0x00, 0x00, 0x00};
    assert_int_equal(sim_frame_decode(len_zero, sizeof len_zero, &f, &used), CF_EMALFORM);
}

static void test_extended_refusals(void **state)
{
    (void)state;
    struct sim_frame f;
    size_t used = 0;
    /* LEN 0x0200 (511 bytes) is over the PN532's limit. */
    const uint8_t too_big[] = {0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x02, 0x00, 0xFE, 0xD4};
    assert_int_equal(sim_frame_decode(too_big, sizeof too_big, &f, &used), CF_ETOOBIG);
    assert_int_equal(used, 3);
    const uint8_t bad_lcs[] = {0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x00, 0xD4};
    assert_int_equal(sim_frame_decode(bad_lcs, sizeof bad_lcs, &f, &used), CF_EMALFORM);
    const uint8_t len_zero[] = {0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0xD4};
    assert_int_equal(sim_frame_decode(len_zero, sizeof len_zero, &f, &used), CF_EMALFORM);
}

/* A broken frame followed by a good one: dropping what the decoder says and decoding
 * again finds the good frame. */
static void test_resync_after_garbage(void **state)
{
    (void)state;
    uint8_t stream[64];
    size_t n = 0;
    const uint8_t broken[] = {0x00, 0x00, 0xFF, 0x05, 0x00, 0x01};
    memcpy(stream, broken, sizeof broken);
    n += sizeof broken;
    memcpy(stream + n, diagnose_frame, sizeof diagnose_frame);
    n += sizeof diagnose_frame;

    size_t pos = 0, frames = 0, errors = 0;
    for (;;) {
        struct sim_frame f;
        size_t used = 0;
        int rc = sim_frame_decode(stream + pos, n - pos, &f, &used);
        pos += used;
        if (rc == CF_ETRUNC)
            break;
        if (rc == 0) {
            frames++;
            assert_int_equal(f.data[0], 0x00);
            assert_int_equal(f.len, 8);
        } else {
            errors++;
        }
    }
    assert_int_equal(frames, 1);
    assert_int_equal(errors, 1);
    assert_true(pos >= n - 1);
}

static void test_checksum_helper(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0xD5, 0x03, 0x32, 0x01, 0x06, 0x07};
    assert_int_equal(sim_frame_checksum(bytes, sizeof bytes), 0xE8);
    assert_int_equal(sim_frame_checksum(bytes, 0), 0x00);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decodes_libnfc_command),
        cmocka_unit_test(test_skips_wakeup_preamble),
        cmocka_unit_test(test_fixed_frames),
        cmocka_unit_test(test_encodes_firmware_answer),
        cmocka_unit_test(test_normal_extended_boundary),
        cmocka_unit_test(test_encode_limits),
        cmocka_unit_test(test_truncated_input_waits),
        cmocka_unit_test(test_bad_checksums_are_refused),
        cmocka_unit_test(test_extended_refusals),
        cmocka_unit_test(test_resync_after_garbage),
        cmocka_unit_test(test_checksum_helper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
