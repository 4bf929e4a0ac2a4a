/* cmd_db.c: placeholder until the command lands. */
#include "cmd.h"

int rw_cmd_db(struct rw_cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	rw_cli_err(cli, "'db' is not implemented yet");
	return RW_EXIT_FAIL;
}
