/* pn532-sim: a PN532 NFC reader on a pseudo-terminal, for tests and demos without
 * hardware. It prints the pty's slave path as its first stdout line, speaks the
 * PN532 UART protocol there (sim_pn532.c) so libnfc's own pn532_uart driver can use
 * it, and takes control commands on stdin (put a card down, take it away, inject
 * faults), answering each with one line "ok ..." or "error ...". */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cf/codec.h"
#include "cf/error.h"
#include "sim_card.h"
#include "sim_pn532.h"

#define CONTROL_LINE_MAX 4096
#define MAX_WORDS 16

static const char usage[] =
    "usage: pn532-sim [--transcript FILE [--uid HEX] [--ats HEX]] [--uid HEX --sak HEX]\n"
    "                 [--verbose]\n"
    "  --transcript FILE  an EMV card replaying FILE is in the field\n"
    "  --uid HEX          the card's UID (4, 7 or 10 bytes)\n"
    "  --ats HEX          the card's ATS without its length byte (EMV card)\n"
    "  --sak HEX          a UID-only card with this SAK (08 MIFARE Classic, 00 Ultralight)\n"
    "  --verbose          log every frame to stderr\n"
    "Without a card option the field is empty. Control commands on stdin, one per line:\n"
    "  card transcript FILE [uid HEX] [ats HEX] | card uid HEX sak HEX | remove |\n"
    "  remove-after N | fault checksum|error-frame|silence|slow MS|none [at-apdu N]\n"
    "  [count N] | status | quit\n";

struct sim {
    int master; /* pty master: the emulated UART */
    int slave; /* kept open so the pty survives between host sessions */
    struct sim_card card;
    struct sim_pn532 chip;
    char line[CONTROL_LINE_MAX];
    size_t line_len;
    bool line_overflow;
    bool quit;
};

static int signal_pipe[2] = {-1, -1};

static void on_signal(int signo)
{
    int saved = errno;
    unsigned char b = (unsigned char)signo;
    if (write(signal_pipe[1], &b, 1) < 0) {
        /* the pipe is full: a signal is already pending, nothing to add */
    }
    errno = saved;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ==== Pseudo-terminal ==== */

static void write_master(void *ctx, const uint8_t *bytes, size_t len)
{
    struct sim *sim = ctx;
    while (len > 0) {
        ssize_t n = write(sim->master, bytes, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            /* EAGAIN: nobody reads the port and its buffer is full; a real UART drops
             * bytes in that case too. */
            fprintf(stderr, "pn532-sim: %zu bytes to the host dropped: %s\n", len, strerror(errno));
            return;
        }
        bytes += n;
        len -= (size_t)n;
    }
}

static int open_pty(struct sim *sim, char *path, size_t path_size)
{
    sim->master = posix_openpt(O_RDWR | O_NOCTTY);
    if (sim->master < 0 || grantpt(sim->master) || unlockpt(sim->master))
        return -1;
    const char *name = ptsname(sim->master);
    if (!name || snprintf(path, path_size, "%s", name) >= (int)path_size)
        return -1;
    sim->slave = open(path, O_RDWR | O_NOCTTY);
    if (sim->slave < 0)
        return -1;
    struct termios tio;
    if (tcgetattr(sim->slave, &tio))
        return -1;
    cfmakeraw(&tio);
    cfsetispeed(&tio, B115200);
    cfsetospeed(&tio, B115200);
    if (tcsetattr(sim->slave, TCSANOW, &tio))
        return -1;
    int flags = fcntl(sim->master, F_GETFL);
    if (flags < 0 || fcntl(sim->master, F_SETFL, flags | O_NONBLOCK))
        return -1;
    return 0;
}

/* ==== Argument parsing shared by the command line and the control channel ==== */

static int parse_hex(const char *text, uint8_t *out, size_t size, size_t *len)
{
    return cf_hex_decode(text, strlen(text), out, size, len);
}

static int parse_ulong(const char *text, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    if (text[0] < '0' || text[0] > '9')
        return -1;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Put a transcript card down; reply holds the answer line. */
static int place_transcript(struct sim *sim, const char *path, const char *uid_hex,
                            const char *ats_hex, char *reply, size_t reply_size)
{
    uint8_t uid[SIM_CARD_UID_MAX], ats[SIM_CARD_ATS_MAX];
    size_t uid_len = 0, ats_len = 0;
    if (uid_hex && parse_hex(uid_hex, uid, sizeof uid, &uid_len)) {
        snprintf(reply, reply_size, "error uid must be 4, 7 or 10 bytes of hex");
        return -1;
    }
    if (ats_hex && parse_hex(ats_hex, ats, sizeof ats, &ats_len)) {
        snprintf(reply, reply_size, "error ats must be at most %d bytes of hex", SIM_CARD_ATS_MAX);
        return -1;
    }
    struct cf_error_detail detail = {0};
    int rc = sim_card_load_transcript(&sim->card, path, uid_hex ? uid : NULL, uid_len,
                                      ats_hex ? ats : NULL, ats_len, &detail);
    if (rc) {
        snprintf(reply, reply_size, "error %s: %s", detail.field[0] ? detail.field : "card",
                 detail.message[0] ? detail.message : cf_strerror(rc));
        return -1;
    }
    char hex[2 * SIM_CARD_UID_MAX + 1];
    cf_hex_encode(sim->card.uid, sim->card.uid_len, hex, sizeof hex);
    snprintf(reply, reply_size, "ok card emv steps %zu uid %s", sim->card.transcript.count, hex);
    return 0;
}

static int place_uid(struct sim *sim, const char *uid_hex, const char *sak_hex, char *reply,
                     size_t reply_size)
{
    uint8_t uid[SIM_CARD_UID_MAX], sak = 0;
    size_t uid_len = 0, sak_len = 0;
    if (parse_hex(uid_hex, uid, sizeof uid, &uid_len) ||
        (uid_len != 4 && uid_len != 7 && uid_len != 10)) {
        snprintf(reply, reply_size, "error uid must be 4, 7 or 10 bytes of hex");
        return -1;
    }
    if (parse_hex(sak_hex, &sak, 1, &sak_len) || sak_len != 1) {
        snprintf(reply, reply_size, "error sak must be one byte of hex, e.g. 08");
        return -1;
    }
    sim_card_set_uid(&sim->card, uid, uid_len, sak);
    snprintf(reply, reply_size, "ok card uid %s sak %02x", uid_hex, sak);
    return 0;
}

/* ==== Control channel ==== */

static size_t split_words(char *line, char *words[MAX_WORDS])
{
    size_t n = 0;
    char *p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (!*p)
            break;
        if (n == MAX_WORDS)
            return MAX_WORDS + 1; /* too many: the caller refuses the line */
        words[n++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
    }
    return n;
}

static void control_card(struct sim *sim, char **w, size_t n, char *reply, size_t size)
{
    if (n >= 3 && strcmp(w[1], "transcript") == 0) {
        const char *uid = NULL, *ats = NULL;
        for (size_t i = 3; i < n; i += 2) {
            if (i + 1 >= n) {
                snprintf(reply, size, "error %s needs a value", w[i]);
                return;
            }
            if (strcmp(w[i], "uid") == 0) {
                uid = w[i + 1];
            } else if (strcmp(w[i], "ats") == 0) {
                ats = w[i + 1];
            } else {
                snprintf(reply, size, "error unknown option %s (uid, ats)", w[i]);
                return;
            }
        }
        if (place_transcript(sim, w[2], uid, ats, reply, size) == 0)
            sim_pn532_card_changed(&sim->chip, now_ms());
        return;
    }
    if (n == 5 && strcmp(w[1], "uid") == 0 && strcmp(w[3], "sak") == 0) {
        if (place_uid(sim, w[2], w[4], reply, size) == 0)
            sim_pn532_card_changed(&sim->chip, now_ms());
        return;
    }
    snprintf(reply, size,
             "error usage: card transcript FILE [uid HEX] [ats HEX] | "
             "card uid HEX sak HEX");
}

static void control_fault(struct sim *sim, char **w, size_t n, char *reply, size_t size)
{
    struct sim_fault fault = {0};
    size_t i = 2;
    if (n < 2)
        goto usage;
    if (strcmp(w[1], "none") == 0) {
        fault.kind = SIM_FAULT_NONE;
    } else if (strcmp(w[1], "checksum") == 0) {
        fault.kind = SIM_FAULT_CHECKSUM;
        fault.count = 1;
    } else if (strcmp(w[1], "error-frame") == 0) {
        fault.kind = SIM_FAULT_ERROR_FRAME;
        fault.count = 1;
    } else if (strcmp(w[1], "silence") == 0) {
        fault.kind = SIM_FAULT_SILENCE;
    } else if (strcmp(w[1], "slow") == 0) {
        unsigned long ms = 0;
        if (n < 3 || parse_ulong(w[2], 600000, &ms) || ms == 0) {
            snprintf(reply, size, "error slow needs milliseconds 1..600000");
            return;
        }
        fault.kind = SIM_FAULT_SLOW;
        fault.slow_ms = (unsigned)ms;
        i = 3;
    } else {
        goto usage;
    }
    for (; i < n; i += 2) {
        unsigned long v = 0;
        if (i + 1 >= n || parse_ulong(w[i + 1], 1000000, &v))
            goto usage;
        if (strcmp(w[i], "at-apdu") == 0 && v >= 1)
            fault.at_apdu = v;
        else if (strcmp(w[i], "count") == 0)
            fault.count = v;
        else
            goto usage;
    }
    sim_pn532_set_fault(&sim->chip, &fault);
    snprintf(reply, size, "ok fault %s", sim_fault_name(fault.kind));
    return;
usage:
    snprintf(reply, size,
             "error usage: fault checksum|error-frame|silence|slow MS|none "
             "[at-apdu N] [count N]");
}

static void control_status(struct sim *sim, char *reply, size_t size)
{
    const struct sim_pn532 *c = &sim->chip;
    snprintf(reply, size,
             "ok card %s field %s selected %s apdus %lu faults-fired %lu fault %s frames %lu "
             "bad-frames %lu",
             sim_card_kind_name(sim->card.kind), c->field_on ? "on" : "off",
             c->target_active ? "yes" : "no", c->apdus, c->faults_fired,
             sim_fault_name(c->fault.kind), c->frames_in, c->bad_frames);
}

static void control_line(struct sim *sim, char *line)
{
    char reply[512];
    char *w[MAX_WORDS];
    size_t n = split_words(line, w);
    if (n == 0) {
        snprintf(reply, sizeof reply, "error empty command");
    } else if (n > MAX_WORDS) {
        snprintf(reply, sizeof reply, "error too many words");
    } else if (strcmp(w[0], "card") == 0) {
        control_card(sim, w, n, reply, sizeof reply);
    } else if (strcmp(w[0], "remove") == 0 && n == 1) {
        sim_pn532_remove_after(&sim->chip, 0, now_ms());
        snprintf(reply, sizeof reply, "ok removed");
    } else if (strcmp(w[0], "remove-after") == 0 && n == 2) {
        unsigned long v = 0;
        if (parse_ulong(w[1], 1000000, &v)) {
            snprintf(reply, sizeof reply, "error remove-after needs a count 0..1000000");
        } else {
            sim_pn532_remove_after(&sim->chip, (long)v, now_ms());
            snprintf(reply, sizeof reply, "ok remove-after %lu", v);
        }
    } else if (strcmp(w[0], "fault") == 0) {
        control_fault(sim, w, n, reply, sizeof reply);
    } else if (strcmp(w[0], "status") == 0 && n == 1) {
        control_status(sim, reply, sizeof reply);
    } else if (strcmp(w[0], "quit") == 0 && n == 1) {
        snprintf(reply, sizeof reply, "ok bye");
        sim->quit = true;
    } else {
        snprintf(reply, sizeof reply,
                 "error unknown command %s (card, remove, remove-after, "
                 "fault, status, quit)",
                 w[0]);
    }
    printf("%s\n", reply);
    fflush(stdout);
}

/* Split stdin bytes into lines; a line over the cap is refused as a whole. */
static void control_input(struct sim *sim, const char *bytes, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = bytes[i];
        if (c == '\n') {
            if (sim->line_overflow) {
                printf("error line longer than %d bytes\n", CONTROL_LINE_MAX - 1);
                fflush(stdout);
            } else {
                if (sim->line_len > 0 && sim->line[sim->line_len - 1] == '\r')
                    sim->line_len--;
                sim->line[sim->line_len] = '\0';
                control_line(sim, sim->line);
            }
            sim->line_len = 0;
            sim->line_overflow = false;
            if (sim->quit)
                return;
        } else if (sim->line_len + 1 < sizeof sim->line) {
            sim->line[sim->line_len++] = c;
        } else {
            sim->line_overflow = true;
        }
    }
}

/* ==== Command line ==== */

static int parse_args(struct sim *sim, int argc, char **argv, bool *verbose)
{
    const char *transcript = NULL, *uid = NULL, *ats = NULL, *sak = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--verbose") == 0) {
            *verbose = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "pn532-sim: %s needs a value\n%s", a, usage);
            return -1;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--transcript") == 0)
            transcript = v;
        else if (strcmp(a, "--uid") == 0)
            uid = v;
        else if (strcmp(a, "--ats") == 0)
            ats = v;
        else if (strcmp(a, "--sak") == 0)
            sak = v;
        else {
            fprintf(stderr, "pn532-sim: unknown option %s\n%s", a, usage);
            return -1;
        }
    }
    char reply[512];
    if (transcript && sak) {
        fprintf(stderr, "pn532-sim: --transcript and --sak exclude each other\n");
        return -1;
    }
    if (transcript) {
        if (place_transcript(sim, transcript, uid, ats, reply, sizeof reply)) {
            fprintf(stderr, "pn532-sim: %s\n", reply + strlen("error "));
            return -1;
        }
    } else if (sak || uid) {
        if (!sak || !uid || ats) {
            fprintf(stderr, "pn532-sim: a UID-only card needs --uid HEX --sak HEX (no --ats)\n");
            return -1;
        }
        if (place_uid(sim, uid, sak, reply, sizeof reply)) {
            fprintf(stderr, "pn532-sim: %s\n", reply + strlen("error "));
            return -1;
        }
    } else if (ats) {
        fprintf(stderr, "pn532-sim: --ats goes with --transcript\n");
        return -1;
    }
    return 0;
}

/* ==== Event loop ==== */

static int install_signals(void)
{
    if (pipe(signal_pipe))
        return -1;
    for (int i = 0; i < 2; i++) {
        int flags = fcntl(signal_pipe[i], F_GETFL);
        if (flags < 0 || fcntl(signal_pipe[i], F_SETFL, flags | O_NONBLOCK))
            return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static int poll_timeout(const struct sim *sim)
{
    int64_t next = sim_pn532_next_deadline(&sim->chip);
    if (next < 0)
        return -1;
    int64_t wait = next - now_ms();
    if (wait < 0)
        return 0;
    return wait > INT_MAX ? INT_MAX : (int)wait;
}

/* Runs until quit, EOF on stdin or a signal. Returns the exit status. */
static int run(struct sim *sim)
{
    bool stdin_open = true;
    while (!sim->quit) {
        struct pollfd fds[3] = {
            {.fd = sim->master, .events = POLLIN},
            {.fd = signal_pipe[0], .events = POLLIN},
            {.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
        };
        int ready = poll(fds, 3, poll_timeout(sim));
        if (ready < 0 && errno != EINTR) {
            perror("pn532-sim: poll");
            return 1;
        }
        if (ready > 0 && fds[1].revents)
            return 0; /* SIGTERM / SIGINT */
        if (ready > 0 && (fds[0].revents & POLLIN)) {
            uint8_t buf[1024];
            ssize_t n = read(sim->master, buf, sizeof buf);
            if (n > 0)
                sim_pn532_input(&sim->chip, buf, (size_t)n, now_ms());
        }
        if (ready > 0 && fds[2].revents) {
            char buf[1024];
            ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
            if (n > 0)
                control_input(sim, buf, (size_t)n);
            else if (n == 0 || errno != EINTR)
                return 0; /* EOF: the controlling test is gone */
        }
        sim_pn532_tick(&sim->chip, now_ms());
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct sim sim; /* large (frame buffers): not on the stack */
    bool verbose = false;
    int status = 1;
    sim.master = -1;
    sim.slave = -1;
    sim_card_init(&sim.card);
    if (parse_args(&sim, argc, argv, &verbose))
        goto out;
    if (install_signals()) {
        perror("pn532-sim: signals");
        goto out;
    }
    char path[256];
    if (open_pty(&sim, path, sizeof path)) {
        perror("pn532-sim: pseudo-terminal");
        goto out;
    }
    sim_pn532_init(&sim.chip, &sim.card, write_master, &sim, stderr, verbose);
    printf("%s\n", path);
    fflush(stdout);
    fprintf(stderr, "pn532-sim: listening on %s, card %s\n", path,
            sim_card_kind_name(sim.card.kind));
    status = run(&sim);
out:
    sim_card_cleanup(&sim.card);
    if (sim.slave >= 0)
        close(sim.slave);
    if (sim.master >= 0)
        close(sim.master);
    return status;
}
