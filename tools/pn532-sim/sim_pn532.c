/* PN532 command layer of the emulator (see sim_pn532.h). One function per command,
 * each building the answer data (command code + 1 first) the way libnfc 1.8's
 * pn53x.c reads it; frames, faults and timing are handled around them in
 * handle_frame. Status bytes never set bit 0x80: libnfc aborts the process on it. */
#include "sim_pn532.h"

#include <stdarg.h>
#include <string.h>

/* ==== Command codes and status bytes (PN532 user manual) ==== */

enum {
    CMD_DIAGNOSE = 0x00,
    CMD_GET_FIRMWARE_VERSION = 0x02,
    CMD_GET_GENERAL_STATUS = 0x04,
    CMD_READ_REGISTER = 0x06,
    CMD_WRITE_REGISTER = 0x08,
    CMD_SET_PARAMETERS = 0x12,
    CMD_SAM_CONFIGURATION = 0x14,
    CMD_POWER_DOWN = 0x16,
    CMD_RF_CONFIGURATION = 0x32,
    CMD_IN_DATA_EXCHANGE = 0x40,
    CMD_IN_COMMUNICATE_THRU = 0x42,
    CMD_IN_DESELECT = 0x44,
    CMD_IN_LIST_PASSIVE_TARGET = 0x4A,
    CMD_IN_RELEASE = 0x52,
    CMD_IN_SELECT = 0x54,
    CMD_IN_AUTO_POLL = 0x60,
};

enum {
    STATUS_OK = 0x00,
    STATUS_TIMEOUT = 0x01, /* the target did not answer (taken away) */
    STATUS_BUFFER_OVERFLOW = 0x09,
    STATUS_BAD_COMMAND = 0x27, /* not acceptable in the current context */
};

#define PARAM_AUTO_RATS 0x10
#define BRTY_ISO14443A_106 0x00
#define BRTY_MAX 0x08
#define PTT_GENERIC_106 0x00
#define PTT_MIFARE 0x10
#define PTT_ISO14443_4A 0x20

/* Firmware identity: IC PN532, version 1.6, supports ISO 14443A, B and ISO 18092. */
static const uint8_t firmware_version[] = {0x32, 0x01, 0x06, 0x07};

/* What a command handler decided. */
enum outcome {
    ANSWER, /* answer[0..answer_len) is the reply data */
    SYNTAX_ERROR, /* the chip answers with an error frame */
    WAIT, /* no card yet: keep the command and answer when one comes */
};

struct reply {
    uint8_t data[SIM_FRAME_MAX_DATA];
    size_t len;
};

/* ==== Logging ==== */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
log_line(const struct sim_pn532 *chip, const char *fmt, ...)
{
    if (!chip->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("pn532-sim: ", chip->log);
    vfprintf(chip->log, fmt, ap);
    fputc('\n', chip->log);
    fflush(chip->log);
    va_end(ap);
}

static void log_bytes(const struct sim_pn532 *chip, const char *what, const uint8_t *bytes,
                      size_t len)
{
    if (!chip->log || !chip->verbose)
        return;
    fprintf(chip->log, "pn532-sim: %s", what);
    for (size_t i = 0; i < len; i++)
        fprintf(chip->log, " %02X", bytes[i]);
    fputc('\n', chip->log);
    fflush(chip->log);
}

const char *sim_fault_name(enum sim_fault_kind kind)
{
    switch (kind) {
    case SIM_FAULT_CHECKSUM:
        return "checksum";
    case SIM_FAULT_ERROR_FRAME:
        return "error-frame";
    case SIM_FAULT_SLOW:
        return "slow";
    case SIM_FAULT_SILENCE:
        return "silence";
    case SIM_FAULT_NONE:
        break;
    }
    return "none";
}

/* ==== Set-up ==== */

void sim_pn532_init(struct sim_pn532 *chip, struct sim_card *card, sim_write_fn write,
                    void *write_ctx, FILE *log, bool verbose)
{
    memset(chip, 0, sizeof *chip);
    chip->card = card;
    chip->write = write;
    chip->write_ctx = write_ctx;
    chip->log = log;
    chip->verbose = verbose;
    chip->retry_passive = 0xFF; /* the chip's power-on default: try forever */
    chip->remove_after = -1;
    /* A few CIU registers have non-zero reset values libnfc may read back. */
    chip->reg_ciu[0x01] = 0x3B; /* Mode */
    chip->reg_ciu[0x05] = 0x00; /* TxAuto */
    chip->reg_ciu[0x3C] = 0x10; /* Control: initiator */
}

static void send_bytes(struct sim_pn532 *chip, const uint8_t *bytes, size_t len)
{
    log_bytes(chip, "->", bytes, len);
    chip->write(chip->write_ctx, bytes, len);
}

/* ==== Chip commands ==== */

static enum outcome cmd_diagnose(struct sim_pn532 *chip, const uint8_t *cmd, size_t len,
                                 struct reply *r)
{
    if (len < 2)
        return SYNTAX_ERROR;
    if (cmd[1] == 0x00) { /* communication line test: echo NumTst and the data */
        memcpy(r->data + 1, cmd + 1, len - 1);
        r->len = len;
        return ANSWER;
    }
    if (cmd[1] == 0x06) { /* card presence */
        bool present = chip->target_active && sim_card_present(chip->card);
        r->data[1] = present ? STATUS_OK : STATUS_TIMEOUT;
        r->len = 2;
        return ANSWER;
    }
    return SYNTAX_ERROR;
}

static enum outcome cmd_general_status(struct sim_pn532 *chip, struct reply *r)
{
    size_t n = 1;
    r->data[n++] = STATUS_OK; /* last error */
    r->data[n++] = chip->field_on ? 1 : 0;
    if (chip->target_active && sim_card_present(chip->card)) {
        r->data[n++] = 1; /* NbTg */
        r->data[n++] = 1; /* Tg */
        r->data[n++] = 0; /* BrRx 106 kbps */
        r->data[n++] = 0; /* BrTx 106 kbps */
        r->data[n++] = 0; /* modulation: ISO 14443A / MIFARE */
    } else {
        r->data[n++] = 0;
    }
    r->data[n++] = 0; /* SAM status */
    r->len = n;
    return ANSWER;
}

static uint8_t *register_slot(struct sim_pn532 *chip, uint8_t high, uint8_t low)
{
    if (high == 0x63)
        return &chip->reg_ciu[low];
    if (high == 0xFF)
        return &chip->reg_sfr[low];
    return NULL; /* other addresses read as 00 and ignore writes */
}

static enum outcome cmd_read_register(struct sim_pn532 *chip, const uint8_t *cmd, size_t len,
                                      struct reply *r)
{
    size_t count = (len - 1) / 2;
    if (count == 0 || (len - 1) % 2 != 0)
        return SYNTAX_ERROR;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *slot = register_slot(chip, cmd[1 + 2 * i], cmd[2 + 2 * i]);
        r->data[1 + i] = slot ? *slot : 0x00; /* PN532: one byte each, no status */
    }
    r->len = 1 + count;
    return ANSWER;
}

static enum outcome cmd_write_register(struct sim_pn532 *chip, const uint8_t *cmd, size_t len,
                                       struct reply *r)
{
    size_t count = (len - 1) / 3;
    if (count == 0 || (len - 1) % 3 != 0)
        return SYNTAX_ERROR;
    for (size_t i = 0; i < count; i++) {
        uint8_t *slot = register_slot(chip, cmd[1 + 3 * i], cmd[2 + 3 * i]);
        if (slot)
            *slot = cmd[3 + 3 * i];
    }
    r->len = 1;
    return ANSWER;
}

/* The target leaves the reader's hands: field off, released, or card gone. */
static void drop_target(struct sim_pn532 *chip)
{
    chip->target_listed = false;
    chip->target_active = false;
}

static enum outcome cmd_rf_configuration(struct sim_pn532 *chip, const uint8_t *cmd, size_t len,
                                         struct reply *r)
{
    if (len < 3)
        return SYNTAX_ERROR;
    size_t values = len - 2;
    switch (cmd[1]) {
    case 0x01: /* RF field */
        if (values != 1)
            return SYNTAX_ERROR;
        chip->field_on = cmd[2] & 0x01;
        if (!chip->field_on)
            drop_target(chip); /* an unpowered card forgets its state */
        break;
    case 0x02: /* various timings */
        if (values != 3)
            return SYNTAX_ERROR;
        break;
    case 0x04: /* MaxRtyCOM */
        if (values != 1)
            return SYNTAX_ERROR;
        break;
    case 0x05: /* MxRtyATR, MxRtyPSL, MxRtyPassiveActivation */
        if (values != 3)
            return SYNTAX_ERROR;
        chip->retry_passive = cmd[4];
        break;
    case 0x0A: /* analog settings, accepted and ignored */
        if (values != 11)
            return SYNTAX_ERROR;
        break;
    case 0x0B:
        if (values != 8)
            return SYNTAX_ERROR;
        break;
    case 0x0C:
        if (values != 3)
            return SYNTAX_ERROR;
        break;
    case 0x0D:
        if (values != 9)
            return SYNTAX_ERROR;
        break;
    default:
        return SYNTAX_ERROR;
    }
    r->len = 1;
    return ANSWER;
}

/* ==== Target commands ==== */

/* The UID in its cascaded form (88 + 3 bytes per cascade level but the last), as
 * libnfc passes it to InListPassiveTarget to select one card. */
static size_t cascaded_uid(const struct sim_card *card, uint8_t out[12])
{
    const uint8_t *u = card->uid;
    if (card->uid_len == 4) {
        memcpy(out, u, 4);
        return 4;
    }
    out[0] = 0x88;
    memcpy(out + 1, u, 3);
    if (card->uid_len == 7) {
        memcpy(out + 4, u + 3, 4);
        return 8;
    }
    out[4] = 0x88;
    memcpy(out + 5, u + 3, 3);
    memcpy(out + 8, u + 6, 4);
    return 12;
}

static bool card_matches(const struct sim_card *card, const uint8_t *wanted, size_t wanted_len)
{
    if (!sim_card_present(card))
        return false;
    if (wanted_len == 0)
        return true;
    uint8_t cascaded[12];
    size_t n = cascaded_uid(card, cascaded);
    return n == wanted_len && memcmp(cascaded, wanted, n) == 0;
}

/* Select the card as Tg 1 and put its TargetData at r->data[at]. */
static enum outcome select_card(struct sim_pn532 *chip, bool with_ats, struct reply *r, size_t at)
{
    size_t n = 0;
    int rc = sim_card_target_data(chip->card, 1, with_ats, r->data + at, sizeof r->data - at, &n);
    if (rc)
        return SYNTAX_ERROR; /* cannot happen: the card is present and small */
    sim_card_activate(chip->card);
    chip->field_on = true;
    chip->target_listed = true;
    chip->target_active = true;
    r->len = at + n;
    log_line(chip, "card selected (%s, SAK %02X)", sim_card_kind_name(chip->card->kind),
             chip->card->sak);
    return ANSWER;
}

static enum outcome cmd_list_passive(struct sim_pn532 *chip, const uint8_t *cmd, size_t len,
                                     bool final, struct reply *r)
{
    if (len < 3 || cmd[1] < 1 || cmd[1] > 2 || cmd[2] > BRTY_MAX)
        return SYNTAX_ERROR;
    chip->field_on = true; /* the chip switches the field on to poll */
    drop_target(chip);
    if (cmd[2] == BRTY_ISO14443A_106 && card_matches(chip->card, cmd + 3, len - 3)) {
        r->data[1] = 1; /* NbTg */
        return select_card(chip, chip->parameters & PARAM_AUTO_RATS, r, 2);
    }
    /* Only type A cards are emulated. With endless retries the chip keeps polling. */
    if (chip->retry_passive == 0xFF && !final)
        return WAIT;
    r->data[1] = 0;
    r->len = 2;
    return ANSWER;
}

/* First requested target type the card answers to, or -1. */
static int autopoll_type(const struct sim_card *card, const uint8_t *types, size_t count)
{
    if (!sim_card_present(card))
        return -1;
    for (size_t i = 0; i < count; i++) {
        uint8_t t = types[i];
        if (t == PTT_GENERIC_106 || t == PTT_MIFARE)
            return t;
        if (t == PTT_ISO14443_4A && sim_card_iso_dep(card))
            return t;
    }
    return -1;
}

static enum outcome cmd_auto_poll(struct sim_pn532 *chip, const uint8_t *cmd, size_t len,
                                  bool final, struct reply *r)
{
    if (len < 4 || len > 3 + 15 || cmd[1] == 0 || cmd[2] < 1 || cmd[2] > 0x0F)
        return SYNTAX_ERROR;
    chip->field_on = true;
    drop_target(chip);
    int type = autopoll_type(chip->card, cmd + 3, len - 3);
    if (type >= 0) {
        r->data[1] = 1; /* NbTg */
        r->data[2] = (uint8_t)type;
        enum outcome o = select_card(chip, type == PTT_ISO14443_4A, r, 4);
        r->data[3] = (uint8_t)(r->len - 4); /* AutoPollTargetData length */
        return o;
    }
    if (!final)
        return WAIT;
    r->data[1] = 0;
    r->len = 2;
    return ANSWER;
}

/* The card's answer is ready: the card may now be taken away (remove-after). */
static void count_apdu(struct sim_pn532 *chip)
{
    chip->apdus++;
    if (chip->remove_after > 0 && --chip->remove_after == 0) {
        chip->remove_after = -1;
        /* The chip still holds the target: its next exchange times out (status 01). */
        sim_card_remove(chip->card);
        log_line(chip, "card taken away (remove-after)");
    }
}

static enum outcome cmd_data_exchange(struct sim_pn532 *chip, const uint8_t *cmd, size_t len,
                                      struct reply *r)
{
    if (len < 2)
        return SYNTAX_ERROR;
    r->len = 2;
    if ((cmd[1] & 0x0F) != 1 || !chip->target_active) {
        r->data[1] = STATUS_BAD_COMMAND;
        return ANSWER;
    }
    if (!sim_card_present(chip->card)) {
        r->data[1] = STATUS_TIMEOUT;
        return ANSWER;
    }
    const uint8_t *payload = cmd + 2;
    size_t payload_len = len - 2;
    if (sim_card_iso_dep(chip->card)) {
        if (payload_len == 0 || payload_len > SIM_CARD_APDU_MAX) {
            r->data[1] = STATUS_BUFFER_OVERFLOW;
            return ANSWER;
        }
        long n = sim_card_apdu(chip->card, payload, payload_len, r->data + 2, sizeof r->data - 2);
        if (n < 2) {
            r->data[1] = STATUS_TIMEOUT;
            return ANSWER;
        }
        r->data[1] = STATUS_OK;
        r->len = 2 + (size_t)n;
    } else {
        size_t n = sim_card_raw(chip->card, payload, payload_len, r->data + 2, sizeof r->data - 2);
        r->data[1] = n ? STATUS_OK : STATUS_TIMEOUT;
        r->len = 2 + n;
    }
    count_apdu(chip);
    return ANSWER;
}

static enum outcome cmd_communicate_thru(struct sim_pn532 *chip, const uint8_t *cmd, size_t len,
                                         struct reply *r)
{
    r->len = 2;
    r->data[1] = STATUS_TIMEOUT;
    if (len < 2 || !chip->target_active || !sim_card_present(chip->card))
        return ANSWER;
    uint8_t pcb = cmd[1];
    if (sim_card_iso_dep(chip->card)) {
        /* Only the presence check libnfc makes: an R(NAK) block gets an R(ACK). */
        if (len == 2 && (pcb & 0xE6) == 0xA2) {
            r->data[1] = STATUS_OK;
            r->data[2] = (uint8_t)(0xA2 | (pcb & 0x01));
            r->len = 3;
        }
        return ANSWER;
    }
    size_t n = sim_card_raw(chip->card, cmd + 1, len - 1, r->data + 2, sizeof r->data - 2);
    if (n) {
        r->data[1] = STATUS_OK;
        r->len = 2 + n;
    }
    return ANSWER;
}

static enum outcome cmd_target_state(struct sim_pn532 *chip, const uint8_t *cmd, size_t len,
                                     struct reply *r)
{
    if (len != 2)
        return SYNTAX_ERROR;
    r->len = 2;
    r->data[1] = STATUS_OK;
    uint8_t tg = cmd[1];
    if (tg > 1) {
        r->data[1] = STATUS_BAD_COMMAND;
        return ANSWER;
    }
    switch (cmd[0]) {
    case CMD_IN_DESELECT:
        chip->target_active = false;
        break;
    case CMD_IN_RELEASE:
        drop_target(chip);
        break;
    case CMD_IN_SELECT:
        if (!chip->target_listed || tg != 1) {
            r->data[1] = STATUS_BAD_COMMAND;
        } else if (!sim_card_present(chip->card)) {
            r->data[1] = STATUS_TIMEOUT;
        } else {
            sim_card_activate(chip->card);
            chip->target_active = true;
        }
        break;
    }
    return ANSWER;
}

/* Run one host command. final: a waiting poll's time is up, answer "no target". */
static enum outcome run_command(struct sim_pn532 *chip, const uint8_t *cmd, size_t len, bool final,
                                struct reply *r)
{
    r->data[0] = (uint8_t)(cmd[0] + 1);
    r->len = 1;
    switch (cmd[0]) {
    case CMD_DIAGNOSE:
        return cmd_diagnose(chip, cmd, len, r);
    case CMD_GET_FIRMWARE_VERSION:
        memcpy(r->data + 1, firmware_version, sizeof firmware_version);
        r->len = 1 + sizeof firmware_version;
        return ANSWER;
    case CMD_GET_GENERAL_STATUS:
        return cmd_general_status(chip, r);
    case CMD_READ_REGISTER:
        return cmd_read_register(chip, cmd, len, r);
    case CMD_WRITE_REGISTER:
        return cmd_write_register(chip, cmd, len, r);
    case CMD_SET_PARAMETERS:
        if (len != 2)
            return SYNTAX_ERROR;
        chip->parameters = cmd[1];
        return ANSWER;
    case CMD_SAM_CONFIGURATION:
        if (len < 2 || len > 4 || cmd[1] < 1 || cmd[1] > 4)
            return SYNTAX_ERROR;
        chip->sam_mode = cmd[1];
        return ANSWER;
    case CMD_POWER_DOWN:
        if (len < 2 || len > 3)
            return SYNTAX_ERROR;
        chip->field_on = false;
        drop_target(chip);
        r->data[1] = STATUS_OK;
        r->len = 2;
        return ANSWER;
    case CMD_RF_CONFIGURATION:
        return cmd_rf_configuration(chip, cmd, len, r);
    case CMD_IN_LIST_PASSIVE_TARGET:
        return cmd_list_passive(chip, cmd, len, final, r);
    case CMD_IN_AUTO_POLL:
        return cmd_auto_poll(chip, cmd, len, final, r);
    case CMD_IN_DATA_EXCHANGE:
        return cmd_data_exchange(chip, cmd, len, r);
    case CMD_IN_COMMUNICATE_THRU:
        return cmd_communicate_thru(chip, cmd, len, r);
    case CMD_IN_DESELECT:
    case CMD_IN_RELEASE:
    case CMD_IN_SELECT:
        return cmd_target_state(chip, cmd, len, r);
    }
    log_line(chip, "command %02X is not emulated: error frame", cmd[0]);
    return SYNTAX_ERROR;
}

/* ==== Frames, faults, timing ==== */

static bool fault_armed(const struct sim_pn532 *chip)
{
    return chip->fault.kind != SIM_FAULT_NONE && chip->fault.at_apdu == 0;
}

/* One command was affected by the armed fault. */
static void fault_used(struct sim_pn532 *chip)
{
    chip->faults_fired++;
    log_line(chip, "fault %s injected", sim_fault_name(chip->fault.kind));
    if (chip->fault.count > 0 && --chip->fault.count == 0)
        memset(&chip->fault, 0, sizeof chip->fault);
}

/* Frame the reply (or the error frame), spoil it if a fault says so, and send it now
 * or keep it for later. */
static void deliver(struct sim_pn532 *chip, enum outcome o, const struct reply *r, int64_t now_ms)
{
    uint8_t frame[SIM_FRAME_MAX_WIRE];
    size_t len = 0;
    if (o == SYNTAX_ERROR || (fault_armed(chip) && chip->fault.kind == SIM_FAULT_ERROR_FRAME)) {
        len = sim_frame_encode_error(frame);
    } else if (sim_frame_encode(SIM_TFI_CHIP, r->data, r->len, frame, sizeof frame, &len)) {
        len = sim_frame_encode_error(frame); /* cannot happen: replies are capped */
    } else if (fault_armed(chip) && chip->fault.kind == SIM_FAULT_CHECKSUM) {
        frame[len - 2] ^= 0x5A; /* DCS */
    }
    memcpy(chip->last_answer, frame, len);
    chip->last_answer_len = len;

    int64_t delay = 0;
    if (fault_armed(chip)) {
        if (chip->fault.kind == SIM_FAULT_SLOW)
            delay = chip->fault.slow_ms;
        fault_used(chip);
    }
    if (delay == 0) {
        send_bytes(chip, frame, len);
        return;
    }
    memcpy(chip->pending_frame, frame, len);
    chip->pending_len = len;
    chip->pending_due_ms = now_ms + delay;
    chip->pending = true;
}

static void start_waiting(struct sim_pn532 *chip, const uint8_t *cmd, size_t len, int64_t now_ms)
{
    memcpy(chip->waiting_command, cmd, len);
    chip->waiting_len = len;
    chip->waiting = true;
    chip->waiting_deadline_ms = -1;
    if (cmd[0] == CMD_IN_AUTO_POLL && cmd[1] != 0xFF) /* PollNr x Period x 150 ms */
        chip->waiting_deadline_ms = now_ms + (int64_t)cmd[1] * cmd[2] * 150;
}

static void handle_command(struct sim_pn532 *chip, const struct sim_frame *f, int64_t now_ms)
{
    /* A new command supersedes whatever the chip was still doing. */
    chip->pending = false;
    chip->waiting = false;
    if (f->tfi != SIM_TFI_HOST || f->len == 0) {
        chip->bad_frames++;
        log_line(chip, "frame with TFI %02X and %zu data bytes ignored", f->tfi, f->len);
        return;
    }
    if (f->data[0] == CMD_IN_DATA_EXCHANGE && chip->fault.kind != SIM_FAULT_NONE &&
        chip->fault.at_apdu > 0)
        chip->fault.at_apdu--;
    if (fault_armed(chip) && chip->fault.kind == SIM_FAULT_SILENCE) {
        fault_used(chip);
        return;
    }
    uint8_t ack[SIM_FRAME_ACK_LEN];
    send_bytes(chip, ack, sim_frame_encode_ack(ack));

    struct reply r;
    enum outcome o = run_command(chip, f->data, f->len, false, &r);
    if (o == WAIT) {
        start_waiting(chip, f->data, f->len, now_ms);
        return;
    }
    deliver(chip, o, &r, now_ms);
}

static void handle_frame(struct sim_pn532 *chip, const struct sim_frame *f, int64_t now_ms)
{
    switch (f->kind) {
    case SIM_FRAME_INFO:
        log_bytes(chip, "<-", f->data, f->len);
        handle_command(chip, f, now_ms);
        break;
    case SIM_FRAME_ACK: /* the host aborts the running command */
        if (chip->pending || chip->waiting)
            log_line(chip, "host ACK: command aborted");
        chip->pending = false;
        chip->waiting = false;
        break;
    case SIM_FRAME_NACK: /* the host asks for the last answer again */
        if (chip->last_answer_len && !chip->pending)
            send_bytes(chip, chip->last_answer, chip->last_answer_len);
        break;
    case SIM_FRAME_ERROR:
        chip->bad_frames++;
        log_line(chip, "error frame from the host ignored");
        break;
    }
}

void sim_pn532_input(struct sim_pn532 *chip, const uint8_t *bytes, size_t len, int64_t now_ms)
{
    while (len > 0) {
        size_t room = sizeof chip->input - chip->input_len;
        size_t take = len < room ? len : room;
        memcpy(chip->input + chip->input_len, bytes, take);
        chip->input_len += take;
        bytes += take;
        len -= take;

        for (;;) {
            struct sim_frame f;
            size_t used = 0;
            int rc = sim_frame_decode(chip->input, chip->input_len, &f, &used);
            if (rc == 0) {
                chip->frames_in++;
                handle_frame(chip, &f, now_ms);
            } else if (rc != CF_ETRUNC) {
                chip->bad_frames++;
                log_line(chip, "broken frame dropped (%s)", cf_error_name(rc));
            }
            memmove(chip->input, chip->input + used, chip->input_len - used);
            chip->input_len -= used;
            if (rc == CF_ETRUNC)
                break;
        }
        if (chip->input_len == sizeof chip->input) {
            /* Cannot happen with a valid start: a frame is at most half the buffer. */
            chip->bad_frames++;
            log_line(chip, "input overflow: %zu bytes dropped", chip->input_len);
            chip->input_len = 0;
        }
    }
}

/* Re-run a waiting poll; final answers "no target" when no card is there. */
static void retry_waiting(struct sim_pn532 *chip, bool final, int64_t now_ms)
{
    struct reply r;
    enum outcome o = run_command(chip, chip->waiting_command, chip->waiting_len, final, &r);
    if (o == WAIT)
        return;
    chip->waiting = false;
    deliver(chip, o, &r, now_ms);
}

void sim_pn532_card_changed(struct sim_pn532 *chip, int64_t now_ms)
{
    /* A card taken away stays the chip's selected target (the chip cannot know);
     * exchanges with it time out. A new card ends a poll waiting for one. */
    if (sim_card_present(chip->card) && chip->waiting)
        retry_waiting(chip, false, now_ms);
}

void sim_pn532_tick(struct sim_pn532 *chip, int64_t now_ms)
{
    if (chip->pending && chip->pending_due_ms <= now_ms) {
        chip->pending = false;
        send_bytes(chip, chip->pending_frame, chip->pending_len);
    }
    if (chip->waiting && chip->waiting_deadline_ms >= 0 && chip->waiting_deadline_ms <= now_ms)
        retry_waiting(chip, true, now_ms);
}

int64_t sim_pn532_next_deadline(const struct sim_pn532 *chip)
{
    int64_t next = -1;
    if (chip->pending)
        next = chip->pending_due_ms;
    if (chip->waiting && chip->waiting_deadline_ms >= 0 &&
        (next < 0 || chip->waiting_deadline_ms < next))
        next = chip->waiting_deadline_ms;
    return next;
}

void sim_pn532_set_fault(struct sim_pn532 *chip, const struct sim_fault *fault)
{
    chip->fault = *fault;
    if (fault->kind == SIM_FAULT_NONE)
        memset(&chip->fault, 0, sizeof chip->fault);
}

void sim_pn532_remove_after(struct sim_pn532 *chip, long n, int64_t now_ms)
{
    if (n == 0) {
        chip->remove_after = -1;
        sim_card_remove(chip->card);
        sim_pn532_card_changed(chip, now_ms);
        return;
    }
    chip->remove_after = n < 0 ? -1 : n;
}
