/* cmd_tx.c: placeholder until the command lands. */
#include "cmd.h"

int rw_cmd_tx(struct rw_cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	rw_cli_err(cli, "'tx' is not implemented yet");
	return RW_EXIT_FAIL;
}
