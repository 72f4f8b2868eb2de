/* The worker's subcommands of carefact-agent beyond reading a card: enrolment,
 * sync and status, the visit steps, card binding, the cached lists, and the
 * interactive terminal. Same contract as ag/commands.h: argv[0] is the subcommand
 * name, the return value is the exit status (0 done, 1 failed, 2 bad arguments). */
#ifndef AG_VISIT_COMMANDS_H
#define AG_VISIT_COMMANDS_H

/* enroll --server URL --code CODE [--ca FILE] [--store FILE] [--json] */
int ag_cmd_enroll(int argc, char **argv);

/* sync [--auto] [--upload-only] [--batch N] [--store FILE] [--json] */
int ag_cmd_sync(int argc, char **argv);

/* status [--verify] [--store FILE] [--json] */
int ag_cmd_status(int argc, char **argv);

/* visit start|end|rate|cancel|attempt ... */
int ag_cmd_visit(int argc, char **argv);

/* card bind --recipient ID ... */
int ag_cmd_card(int argc, char **argv);

/* recipients / plans [--store FILE] [--json] */
int ag_cmd_recipients(int argc, char **argv);
int ag_cmd_plans(int argc, char **argv);
/* The mobile brigade trips held for offline work (cmd_trip.c). */
int ag_cmd_trip(int argc, char **argv);

/* terminal [--device CONNSTRING] [--store FILE]: the interactive Russian UI */
int ag_cmd_terminal(int argc, char **argv);

/* serve [--device CONNSTRING] [--port N] [--secret-file FILE] ...: the local daemon
 * behind the touch UI (agent/ui/); the main of carefact-agentd */
int ag_cmd_serve(int argc, char **argv);

#endif
