/* Unit tests for the PN532 emulator's command layer (tools/pn532-sim/sim_pn532.h):
 * the answers libnfc 1.8 depends on, byte for byte, and the behaviour the e2e tests
 * can only observe from outside: faults arming at the right APDU, host ACK aborting a
 * delayed answer, NACK resending, a waiting poll answered when a card is placed, and
 * removal after N APDUs. Frames are built with the frame codec and fed as bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sim_card.h"
#include "sim_frame.h"
#include "sim_pn532.h"

/* Everything the chip wrote, and the frames decoded from it. */
struct host {
    uint8_t wire[8192];
    size_t len;
};

struct fixture {
    struct host host;
    struct sim_card card;
    struct sim_pn532 chip;
};

static void capture(void *ctx, const uint8_t *bytes, size_t len)
{
    struct host *h = ctx;
    assert_true(h->len + len <= sizeof h->wire);
    memcpy(h->wire + h->len, bytes, len);
    h->len += len;
}

static int setup(void **state)
{
    static struct fixture fx;
    memset(&fx, 0, sizeof fx);
    sim_card_init(&fx.card);
    sim_pn532_init(&fx.chip, &fx.card, capture, &fx.host, NULL, false);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    sim_card_cleanup(&fx->card);
    return 0;
}

/* Send one host command (TFI D4 + data) at time now. */
static void send_command(struct fixture *fx, const uint8_t *data, size_t len, int64_t now)
{
    uint8_t wire[SIM_FRAME_MAX_WIRE];
    size_t wire_len = 0;
    assert_int_equal(sim_frame_encode(SIM_TFI_HOST, data, len, wire, sizeof wire, &wire_len), 0);
    sim_pn532_input(&fx->chip, wire, wire_len, now);
}

/* Pop the next frame the chip wrote; returns the decode result. */
static int next_frame(struct fixture *fx, struct sim_frame *f)
{
    size_t used = 0;
    int rc = sim_frame_decode(fx->host.wire, fx->host.len, f, &used);
    memmove(fx->host.wire, fx->host.wire + used, fx->host.len - used);
    fx->host.len -= used;
    return rc;
}

/* Expect ACK then an answer whose data is expected[0..len). */
static void expect_answer(struct fixture *fx, const uint8_t *expected, size_t len)
{
    struct sim_frame f;
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(f.kind, SIM_FRAME_ACK);
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(f.kind, SIM_FRAME_INFO);
    assert_int_equal(f.tfi, SIM_TFI_CHIP);
    assert_int_equal(f.len, len);
    assert_memory_equal(f.data, expected, len);
}

static void expect_nothing(struct fixture *fx)
{
    struct sim_frame f;
    assert_int_equal(next_frame(fx, &f), CF_ETRUNC);
}

#define SEND(fx, now, ...)                                                                         \
    do {                                                                                           \
        const uint8_t cmd_[] = {__VA_ARGS__};                                                      \
        send_command(fx, cmd_, sizeof cmd_, now);                                                  \
    } while (0)
#define EXPECT(fx, ...)                                                                            \
    do {                                                                                           \
        const uint8_t ans_[] = {__VA_ARGS__};                                                      \
        expect_answer(fx, ans_, sizeof ans_);                                                      \
    } while (0)

static void put_uid_card(struct fixture *fx, uint8_t sak)
{
    const uint8_t uid[] = {0x01, 0xA2, 0xB3, 0xC4};
    assert_int_equal(sim_card_set_uid(&fx->card, uid, sizeof uid, sak), 0);
    sim_pn532_card_changed(&fx->chip, 0);
}

static void test_open_sequence(void **state)
{
    struct fixture *fx = *state;
    /* The wake-up preamble before SAMConfiguration is skipped. */
    const uint8_t wakeup[16] = {0x55, 0x55};
    sim_pn532_input(&fx->chip, wakeup, sizeof wakeup, 0);
    SEND(fx, 0, 0x14, 0x01);
    EXPECT(fx, 0x15);
    SEND(fx, 0, 0x00, 0x00, 'l', 'i', 'b', 'n', 'f', 'c');
    EXPECT(fx, 0x01, 0x00, 'l', 'i', 'b', 'n', 'f', 'c');
    SEND(fx, 0, 0x02);
    EXPECT(fx, 0x03, 0x32, 0x01, 0x06, 0x07);
    SEND(fx, 0, 0x12, 0x14);
    EXPECT(fx, 0x13);
    assert_int_equal(fx->chip.parameters, 0x14);
}

static void test_registers(void **state)
{
    struct fixture *fx = *state;
    SEND(fx, 0, 0x08, 0x63, 0x02, 0x80, 0x63, 0x03, 0x80);
    EXPECT(fx, 0x09);
    SEND(fx, 0, 0x06, 0x63, 0x02, 0x63, 0x03, 0x63, 0x3C, 0x12, 0x34);
    EXPECT(fx, 0x07, 0x80, 0x80, 0x10, 0x00); /* one byte each, no status byte */
    SEND(fx, 0, 0x06, 0x63); /* half an address */
    struct sim_frame f;
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(f.kind, SIM_FRAME_ACK);
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(f.kind, SIM_FRAME_ERROR);
}

static void test_list_passive_target(void **state)
{
    struct fixture *fx = *state;
    SEND(fx, 0, 0x32, 0x05, 0x00, 0x01, 0x02); /* no endless retries */
    EXPECT(fx, 0x33);
    SEND(fx, 0, 0x4A, 0x01, 0x00);
    EXPECT(fx, 0x4B, 0x00); /* empty field */
    put_uid_card(fx, 0x08);
    SEND(fx, 0, 0x4A, 0x01, 0x00);
    EXPECT(fx, 0x4B, 0x01, 0x01, 0x00, 0x04, 0x08, 0x04, 0x01, 0xA2, 0xB3, 0xC4);
    SEND(fx, 0, 0x4A, 0x01, 0x03, 0x00); /* type B: none */
    EXPECT(fx, 0x4B, 0x00);
    SEND(fx, 0, 0x4A, 0x01, 0x00, 0x01, 0xA2, 0xB3, 0xC5); /* another UID wanted */
    EXPECT(fx, 0x4B, 0x00);
}

static void test_ats_with_auto_rats(void **state)
{
    struct fixture *fx = *state;
    SEND(fx, 0, 0x12, 0x14);
    EXPECT(fx, 0x13);
    put_uid_card(fx, 0x20); /* ISO 14443-4, no application */
    SEND(fx, 0, 0x4A, 0x01, 0x00);
    EXPECT(fx, 0x4B, 0x01, 0x01, 0x00, 0x04, 0x20, 0x04, 0x01, 0xA2, 0xB3, 0xC4, 0x05, 0x78, 0x80,
           0x70, 0x02);
    /* SELECT PPSE: the application-less card answers "file not found". */
    SEND(fx, 0, 0x40, 0x01, 0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00, 0x00);
    EXPECT(fx, 0x41, 0x00, 0x6A, 0x82);
    /* Only the listed target answers: Tg 2 was never listed (mutant sim.target-number). */
    SEND(fx, 0, 0x40, 0x02, 0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00, 0x00);
    EXPECT(fx, 0x41, 0x27);
    assert_int_equal(fx->chip.apdus, 1);
}

static void test_data_exchange_states(void **state)
{
    struct fixture *fx = *state;
    SEND(fx, 0, 0x40, 0x01, 0x00, 0xB0, 0x00, 0x00, 0x00);
    EXPECT(fx, 0x41, 0x27); /* nothing selected */
    put_uid_card(fx, 0x20);
    SEND(fx, 0, 0x4A, 0x01, 0x00);
    struct sim_frame f;
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(next_frame(fx, &f), 0);
    sim_pn532_remove_after(&fx->chip, 0, 0); /* taken away */
    SEND(fx, 0, 0x40, 0x01, 0x00, 0xB0, 0x00, 0x00, 0x00);
    EXPECT(fx, 0x41, 0x01); /* the card does not answer: timeout */
}

static void select_iso_dep(struct fixture *fx)
{
    put_uid_card(fx, 0x20);
    SEND(fx, 0, 0x4A, 0x01, 0x00);
    struct sim_frame f;
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(f.data[1], 1);
}

static void test_remove_after(void **state)
{
    struct fixture *fx = *state;
    select_iso_dep(fx);
    sim_pn532_remove_after(&fx->chip, 2, 0);
    for (int i = 0; i < 2; i++) {
        SEND(fx, 0, 0x40, 0x01, 0x00, 0xB2, 0x01, 0x0C, 0x00);
        EXPECT(fx, 0x41, 0x00, 0x6A, 0x82);
    }
    assert_false(sim_card_present(&fx->card));
    SEND(fx, 0, 0x40, 0x01, 0x00, 0xB2, 0x01, 0x0C, 0x00);
    EXPECT(fx, 0x41, 0x01); /* the chip still talks to it: timeout */
    assert_int_equal(fx->chip.apdus, 2);
    SEND(fx, 0, 0x52, 0x00); /* InRelease */
    EXPECT(fx, 0x53, 0x00);
    SEND(fx, 0, 0x40, 0x01, 0x00, 0xB2, 0x01, 0x0C, 0x00);
    EXPECT(fx, 0x41, 0x27); /* nothing selected any more */
}

static void test_fault_checksum_at_apdu(void **state)
{
    struct fixture *fx = *state;
    select_iso_dep(fx);
    struct sim_fault fault = {.kind = SIM_FAULT_CHECKSUM, .at_apdu = 2, .count = 1};
    sim_pn532_set_fault(&fx->chip, &fault);
    SEND(fx, 0, 0x40, 0x01, 0x00, 0xB0, 0x00, 0x00, 0x00);
    EXPECT(fx, 0x41, 0x00, 0x6D, 0x00); /* first APDU untouched */
    SEND(fx, 0, 0x40, 0x01, 0x00, 0xB0, 0x00, 0x00, 0x00);
    struct sim_frame f;
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(f.kind, SIM_FRAME_ACK); /* the ACK stays correct */
    assert_int_equal(next_frame(fx, &f), CF_EMALFORM);
    assert_int_equal(fx->chip.faults_fired, 1);
    assert_int_equal(fx->chip.fault.kind, SIM_FAULT_NONE); /* count 1: used up */
    fx->host.len = 0;
    SEND(fx, 0, 0x40, 0x01, 0x00, 0xB0, 0x00, 0x00, 0x00);
    EXPECT(fx, 0x41, 0x00, 0x6D, 0x00);
}

static void test_fault_error_frame_and_nack(void **state)
{
    struct fixture *fx = *state;
    struct sim_fault fault = {.kind = SIM_FAULT_ERROR_FRAME, .count = 1};
    sim_pn532_set_fault(&fx->chip, &fault);
    SEND(fx, 0, 0x02);
    struct sim_frame f;
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(f.kind, SIM_FRAME_ACK);
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(f.kind, SIM_FRAME_ERROR);
    /* NACK: the chip repeats its last answer, here the error frame. */
    uint8_t nack[SIM_FRAME_ACK_LEN];
    sim_pn532_input(&fx->chip, nack, sim_frame_encode_nack(nack), 0);
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(f.kind, SIM_FRAME_ERROR);
    SEND(fx, 0, 0x02);
    EXPECT(fx, 0x03, 0x32, 0x01, 0x06, 0x07);
}

static void test_fault_silence(void **state)
{
    struct fixture *fx = *state;
    struct sim_fault fault = {.kind = SIM_FAULT_SILENCE};
    sim_pn532_set_fault(&fx->chip, &fault);
    SEND(fx, 0, 0x02);
    SEND(fx, 0, 0x02);
    expect_nothing(fx); /* not even an ACK */
    assert_int_equal(fx->chip.faults_fired, 2);
    struct sim_fault none = {.kind = SIM_FAULT_NONE};
    sim_pn532_set_fault(&fx->chip, &none);
    SEND(fx, 0, 0x02);
    EXPECT(fx, 0x03, 0x32, 0x01, 0x06, 0x07);
}

static void test_fault_slow_and_abort(void **state)
{
    struct fixture *fx = *state;
    struct sim_fault fault = {.kind = SIM_FAULT_SLOW, .slow_ms = 500};
    sim_pn532_set_fault(&fx->chip, &fault);
    SEND(fx, 1000, 0x02);
    struct sim_frame f;
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(f.kind, SIM_FRAME_ACK); /* prompt */
    expect_nothing(fx);
    assert_int_equal(sim_pn532_next_deadline(&fx->chip), 1500);
    sim_pn532_tick(&fx->chip, 1499);
    expect_nothing(fx);
    sim_pn532_tick(&fx->chip, 1500);
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(f.kind, SIM_FRAME_INFO);
    assert_int_equal(f.data[0], 0x03);

    /* The host gives up and ACKs: the delayed answer is never sent. */
    SEND(fx, 2000, 0x02);
    assert_int_equal(next_frame(fx, &f), 0);
    uint8_t ack[SIM_FRAME_ACK_LEN];
    sim_pn532_input(&fx->chip, ack, sim_frame_encode_ack(ack), 2100);
    assert_int_equal(sim_pn532_next_deadline(&fx->chip), -1);
    sim_pn532_tick(&fx->chip, 9999);
    expect_nothing(fx);
}

/* With endless retries (libnfc's default until an app changes it) an empty-field
 * poll waits; placing a card answers it. InAutoPoll gives up after its period. */
static void test_waiting_polls(void **state)
{
    struct fixture *fx = *state;
    SEND(fx, 0, 0x4A, 0x01, 0x00);
    struct sim_frame f;
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(f.kind, SIM_FRAME_ACK);
    expect_nothing(fx);
    assert_int_equal(sim_pn532_next_deadline(&fx->chip), -1);
    put_uid_card(fx, 0x00);
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(f.data[0], 0x4B);
    assert_int_equal(f.data[1], 1);

    sim_pn532_remove_after(&fx->chip, 0, 0);
    SEND(fx, 100, 0x60, 0x02, 0x01, 0x10); /* 2 polls x 150 ms */
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(sim_pn532_next_deadline(&fx->chip), 400);
    sim_pn532_tick(&fx->chip, 400);
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(f.len, 2);
    assert_memory_equal(f.data, "\x61\x00", 2);
}

static void test_unknown_command_gets_error_frame(void **state)
{
    struct fixture *fx = *state;
    SEND(fx, 0, 0x8C, 0x00); /* TgInitAsTarget: not emulated */
    struct sim_frame f;
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(f.kind, SIM_FRAME_ACK);
    assert_int_equal(next_frame(fx, &f), 0);
    assert_int_equal(f.kind, SIM_FRAME_ERROR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_passive_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ats_with_auto_rats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_exchange_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_checksum_at_apdu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_error_frame_and_nack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_silence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_slow_and_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiting_polls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_command_gets_error_frame, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
