/* carefact-agentd: the touch UI's local daemon (serve.c), a program of its own so it
 * links only what it uses; `carefact-agent serve ARGS` runs it with the same ARGS. */
#include "ag/visit_commands.h"

int main(int argc, char **argv)
{
    return ag_cmd_serve(argc, argv);
}
