/* runway.c: the runway CLI: `runway [global options] COMMAND [SUBCOMMAND]
 * [options]`. Dispatches to the cmd_*.c files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "key.h"

static const char usage[] =
	"Usage: runway [global options] COMMAND [SUBCOMMAND] [options]\n"
	"\n"
	"The runway command-line tool: keys, offline signing, and (with a node\n"
	"and a database) billing operations.\n"
	"\n"
	"Commands:\n"
	"  keys new|import|address   make, import or show a keystore key\n"
	"  tx sign|decode            sign a transaction offline; decode a raw one\n"
	"  tx list|show|bump|cancel  the relayer's transactions; ask it to bump or\n"
	"                            cancel one (a no-op at its nonce)\n"
	"  intents [list]|show|cancel|retry  the relayer's queue of intents\n"
	"  db migrate|status         apply or list the database schema migrations\n"
	"  cost                      the exact cost of a runway extension\n"
	"  topup quote|create|cancel|list  top-up sessions on a Balance contract\n"
	"  check                     reconcile the mirror against the chain (eth_call)\n"
	"  extend                    buy runway for an application (approve, extendRunway)\n"
	"  app status                an application's runway: until, time left, who funded it\n"
	"  instance create|list|show|stop|set-status  billed instances on a Balance contract\n"
	"\n"
	"Global options (before or after the command):\n"
	"  --config FILE         configuration file\n"
	"  --rpc-url URL         JSON-RPC endpoint (env RUNWAY_RPC_URL)\n"
	"  --database-url URL    PostgreSQL connection string (env RUNWAY_DATABASE_URL)\n"
	"  --json                machine-readable output on standard output\n"
	"  -h, --help            this help; `runway COMMAND --help` for a command\n"
	"  --version             print the version\n"
	"\n"
	"Exit status: 0 ok, 1 failure, 2 usage error.\n";

struct command {
	const char *name;
	int (*run)(struct rw_cli *cli, int argc, char **argv);
};

static const struct command commands[] = {
	{ "keys", rw_cmd_keys },
	{ "tx", rw_cmd_tx },
	{ "db", rw_cmd_db },
	{ "cost", rw_cmd_cost },
	/* top-up sessions (cmd_topup.c) */
	{ "topup", rw_cmd_topup },
	/* mirror against chain (cmd_check.c) */
	{ "check", rw_cmd_check },
	/* runway by hand (cmd_extend.c) and an application's runway (cmd_app.c) */
	{ "extend", rw_cmd_extend },
	{ "app", rw_cmd_app },
	/* billed instances (cmd_instance.c) */
	{ "instance", rw_cmd_instance },
	/* the relayer's queue (cmd_intents.c; tx list|show|bump|cancel: cmd_txqueue.c) */
	{ "intents", rw_cmd_intents },
};

/* Removes the global options from argv (wherever they are) into cli.
 * Returns the new argc, or -1 after a usage error. */
static int take_global_options(struct rw_cli *cli, int argc, char **argv)
{
	int out = 1;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--json") == 0) {
			cli->json = 1;
			continue;
		}
		if ((r = rw_cli_opt_value(cli, argc, argv, &i, "config", &v)) != 0) {
			if (r < 0)
				return -1;
			cli->config_path = v;
			continue;
		}
		if ((r = rw_cli_opt_value(cli, argc, argv, &i, "rpc-url", &v)) != 0) {
			if (r < 0)
				return -1;
			cli->rpc_url = v;
			continue;
		}
		if ((r = rw_cli_opt_value(cli, argc, argv, &i, "database-url", &v)) != 0) {
			if (r < 0)
				return -1;
			cli->database_url = v;
			continue;
		}
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	return out;
}

int main(int argc, char **argv)
{
	struct rw_cli cli = { .prog = "runway" };
	cli.rpc_url = getenv("RUNWAY_RPC_URL");
	cli.database_url = getenv("RUNWAY_DATABASE_URL");

	argc = take_global_options(&cli, argc, argv);
	if (argc < 0)
		return RW_EXIT_USAGE;
	if (argc < 2)
		return rw_cli_usage(&cli, "no command given");
	if (rw_cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return RW_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		rw_cli_version(&cli);
		return RW_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		if (rw_key_init() < 0) {
			rw_cli_err(&cli, "cannot initialise the secp256k1 context");
			return RW_EXIT_FAIL;
		}
		int rc = commands[i].run(&cli, argc - 1, argv + 1);
		rw_key_cleanup();
		return rc;
	}
	return rw_cli_usage(&cli, "unknown command '%s'", argv[1]);
}
