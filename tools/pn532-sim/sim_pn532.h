/* The emulated PN532: turns the host's byte stream into frames (sim_frame.h), runs
 * each command against the chip state (registers, parameters, RF field, selected
 * target) and the card in the field (sim_card.h), and writes ACKs and answers back.
 *
 * The command subset is the one libnfc 1.8's pn532_uart driver uses to open the
 * chip, poll for ISO 14443 cards and exchange APDUs (see README.md). Time is passed
 * in by the caller (monotonic milliseconds) so the layer stays free of clocks and
 * sockets: answers delayed by a "slow" fault or a poll that waits for a card are kept
 * pending, and the caller's event loop calls sim_pn532_tick when
 * sim_pn532_next_deadline says so. */
#ifndef SIM_PN532_H
#define SIM_PN532_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim_card.h"
#include "sim_frame.h"

enum sim_fault_kind {
    SIM_FAULT_NONE = 0,
    SIM_FAULT_CHECKSUM, /* the answer frame's data checksum is wrong */
    SIM_FAULT_ERROR_FRAME, /* an error frame instead of the answer */
    SIM_FAULT_SLOW, /* the answer comes slow_ms late (the ACK is prompt) */
    SIM_FAULT_SILENCE, /* neither ACK nor answer */
};

struct sim_fault {
    enum sim_fault_kind kind;
    unsigned slow_ms;
    /* InDataExchange commands still to come before the fault arms; 0 = armed. With
     * 1 the answer to the next APDU is the first one affected. */
    unsigned long at_apdu;
    /* Commands still to affect once armed; 0 = every one until cleared. */
    unsigned long count;
};

/* Called with each byte string for the host (ACK, answer). */
typedef void (*sim_write_fn)(void *ctx, const uint8_t *bytes, size_t len);

#define SIM_PN532_INPUT_MAX (2 * SIM_FRAME_MAX_WIRE)

struct sim_pn532 {
    struct sim_card *card; /* borrowed: the field; the control channel changes it */
    sim_write_fn write;
    void *write_ctx;
    FILE *log; /* borrowed; NULL for no log */
    bool verbose; /* log every frame, not only events */

    uint8_t input[SIM_PN532_INPUT_MAX];
    size_t input_len;

    /* Chip state. */
    uint8_t reg_ciu[256]; /* 0x63xx */
    uint8_t reg_sfr[256]; /* 0xFFxx */
    uint8_t parameters; /* SetParameters flags */
    uint8_t sam_mode;
    bool field_on;
    uint8_t retry_passive; /* RFConfiguration item 5, MxRtyPassiveActivation */
    bool target_listed; /* Tg 1 known (InListPassiveTarget / InAutoPoll) */
    bool target_active; /* and not deselected or released */

    /* The answer being delayed, and a command waiting for a card. */
    bool pending;
    int64_t pending_due_ms;
    uint8_t pending_frame[SIM_FRAME_MAX_WIRE];
    size_t pending_len;
    bool waiting;
    int64_t waiting_deadline_ms; /* -1: until a card comes or the host aborts */
    uint8_t waiting_command[SIM_FRAME_MAX_DATA];
    size_t waiting_len;

    uint8_t last_answer[SIM_FRAME_MAX_WIRE]; /* resent on NACK */
    size_t last_answer_len;

    struct sim_fault fault;
    long remove_after; /* APDUs until the card is taken away; -1 = off */

    /* Counters for the control channel's status line. */
    unsigned long frames_in, bad_frames, apdus, faults_fired;
};

/* Initialise with the card (borrowed) and the writer. log may be NULL. */
void sim_pn532_init(struct sim_pn532 *chip, struct sim_card *card, sim_write_fn write,
                    void *write_ctx, FILE *log, bool verbose);

/* Bytes from the host. Decodes every complete frame and answers it (through
 * write, now or later). Overlong garbage is dropped. */
void sim_pn532_input(struct sim_pn532 *chip, const uint8_t *bytes, size_t len, int64_t now_ms);

/* The card in the field changed (placed or removed by the control channel). A poll
 * waiting for a card is answered; exchanges with a selected card that left time out
 * (status 01), as on the real chip. */
void sim_pn532_card_changed(struct sim_pn532 *chip, int64_t now_ms);

/* Send what is due at now_ms: a delayed answer, or an empty poll result whose wait
 * ran out. */
void sim_pn532_tick(struct sim_pn532 *chip, int64_t now_ms);

/* The next time sim_pn532_tick has something to do, or -1 for none. */
int64_t sim_pn532_next_deadline(const struct sim_pn532 *chip);

/* Install a fault (replacing the current one); kind NONE clears it. */
void sim_pn532_set_fault(struct sim_pn532 *chip, const struct sim_fault *fault);

/* Take the card away after n more APDUs (n = 0: now); -1 cancels. */
void sim_pn532_remove_after(struct sim_pn532 *chip, long n, int64_t now_ms);

/* "checksum", "error-frame", "slow", "silence", "none". */
const char *sim_fault_name(enum sim_fault_kind kind);

#endif
