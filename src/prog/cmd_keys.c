/* cmd_keys.c: placeholder until the command lands. */
#include "cmd.h"

int rw_cmd_keys(struct rw_cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	rw_cli_err(cli, "'keys' is not implemented yet");
	return RW_EXIT_FAIL;
}
