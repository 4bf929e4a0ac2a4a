/* cmd.h: the runway CLI's commands. Each takes the parsed global options
 * and the arguments after the command word (argv[0] is the command word)
 * and returns an exit code (RW_EXIT_*). */
#ifndef RW_CMD_H
#define RW_CMD_H

#include "cli.h"

int rw_cmd_keys(struct rw_cli *cli, int argc, char **argv);
int rw_cmd_tx(struct rw_cli *cli, int argc, char **argv);
int rw_cmd_db(struct rw_cli *cli, int argc, char **argv);
int rw_cmd_cost(struct rw_cli *cli, int argc, char **argv);
int rw_cmd_topup(struct rw_cli *cli, int argc, char **argv);
int rw_cmd_check(struct rw_cli *cli, int argc, char **argv);
int rw_cmd_extend(struct rw_cli *cli, int argc, char **argv);
int rw_cmd_app(struct rw_cli *cli, int argc, char **argv);
int rw_cmd_instance(struct rw_cli *cli, int argc, char **argv);
int rw_cmd_intents(struct rw_cli *cli, int argc, char **argv);

/* `runway tx list|show|bump|cancel` (cmd_txqueue.c), which rw_cmd_tx
 * dispatches to; argv[1] is the subcommand. */
int rw_cmd_txqueue(struct rw_cli *cli, int argc, char **argv);

#endif
