/* carefact-agent: the worker's terminal program. A dispatcher over subcommands,
 * each implemented in its own file (ag/commands.h); add one by adding a row to the
 * table below. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ag/commands.h"
#include "ag/visit_commands.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help; /* one line for `carefact-agent help` */
};

static int cmd_help(int argc, char **argv);

/* `serve` is carefact-agentd, next to this program: the daemon is a binary of its own
 * that links no HTTP or TLS library (its memory stays small), and runs this program's
 * `sync` for each sync. */
static int cmd_serve(int argc, char **argv)
{
    char path[1024];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
    char *slash = n > 0 ? (path[n] = '\0', strrchr(path, '/')) : NULL;
    if (!slash) {
        fprintf(stderr, "carefact-agent serve: cannot find carefact-agentd\n");
        return AG_EXIT_FAILED;
    }
    snprintf(slash, sizeof path - (size_t)(slash - path), "/carefact-agentd");
    (void)argc;
    argv[0] = path;
    execv(path, argv);
    fprintf(stderr, "carefact-agent serve: cannot run %s\n", path);
    return AG_EXIT_FAILED;
}

static const struct command commands[] = {
    {"read-card", ag_cmd_read_card,
     "read the card on the reader and print its token (--device, --token-key-hex, "
     "--wait, --json)"},
    {"enroll", ag_cmd_enroll, "register this terminal with the server (--server, --code, --ca)"},
    {"sync", ag_cmd_sync, "send waiting events, update the reference data (--auto)"},
    {"status", ag_cmd_status, "events waiting and since when, last sync, clock skew (--verify)"},
    {"visit", ag_cmd_visit, "a step of a home visit: start, end, rate, cancel, attempt"},
    {"card", ag_cmd_card,
     "card bind: bind a new card to a recipient (pending confirmation); card check-in: the "
     "person's card at an office's desk"},
    {"apply", ag_cmd_apply,
     "take an application offline; prints the receipt and the applicant's code"},
    {"act", ag_cmd_act, "act home-survey: record a home-survey act on an application"},
    {"aid", ag_cmd_aid, "aid hand-over|return: a rehabilitation aid, confirmed by card"},
    {"survey", ag_cmd_survey, "survey answer: the recipient's answers after a visit"},
    {"recipients", ag_cmd_recipients, "the recipients, certificates and services held"},
    {"plans", ag_cmd_plans, "today's planned visits and what became of them"},
    {"trip", ag_cmd_trip, "the brigade trips of the next days: settlements, times, bookings"},
    {"terminal", ag_cmd_terminal, "the interactive terminal for the worker (Russian)"},
    {"serve", cmd_serve, "the local daemon behind the touch UI (127.0.0.1, per-start secret)"},
    {"help", cmd_help, "list the commands"},
};

#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void print_commands(FILE *out)
{
    fprintf(out, "usage: carefact-agent COMMAND [ARGS...]\ncommands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "`carefact-agent COMMAND --help` describes a command's arguments.\n");
}

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    print_commands(stdout);
    return AG_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_commands(stderr);
        return AG_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(argc - 1, argv + 1);
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "carefact-agent: unknown command '%.64s'\n", argv[1]);
    print_commands(stderr);
    return AG_EXIT_USAGE;
}
