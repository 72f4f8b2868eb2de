/* Subcommands of carefact-agent. Each takes the arguments after its own name
 * (argv[0] is the subcommand name) and returns the process exit status: 0 success,
 * 1 the operation failed (the reason is printed), 2 bad arguments. main.c lists them
 * in its dispatch table with a one-line help. */
#ifndef AG_COMMANDS_H
#define AG_COMMANDS_H

#define AG_EXIT_OK 0
#define AG_EXIT_FAILED 1
#define AG_EXIT_USAGE 2

/* read-card --device CONNSTRING --token-key-hex HEX [--wait SECONDS] [--json]:
 * wait for a card, identify it, print the result (JSON or Russian text). */
int ag_cmd_read_card(int argc, char **argv);

/* The acts a brigade records offline (cmd_acts.c, api/PROTOCOL.md 4.6): apply (an
 * application), act home-survey, aid hand-over|return (with the recipient's card). */
int ag_cmd_apply(int argc, char **argv);
int ag_cmd_act(int argc, char **argv);
int ag_cmd_aid(int argc, char **argv);
int ag_cmd_survey(int argc, char **argv); /* survey answer: survey.answered */

#endif
