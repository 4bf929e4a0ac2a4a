/* runwayd.c: the runway service. This first version only reports its
 * version and usage; the indexer and relayer engines arrive with later
 * layers. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"Usage: runwayd [options]\n"
	"\n"
	"The runway service: indexes billing events into PostgreSQL and relays\n"
	"the settlement transactions that keep billing moving.\n"
	"\n"
	"Options:\n"
	"  --config FILE         configuration file (JSON)\n"
	"  --database-url URL    PostgreSQL connection string (env RUNWAY_DATABASE_URL)\n"
	"  -h, --help            this help\n"
	"  --version             print the version\n"
	"\n"
	"Exit status: 0 ok, 1 failure, 2 usage error.\n";

int main(int argc, char **argv)
{
	struct rw_cli cli = { .prog = "runwayd" };
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if (rw_cli_is_help(argv[i])) {
			fputs(usage, stdout);
			return RW_EXIT_OK;
		}
		if (strcmp(argv[i], "--version") == 0) {
			rw_cli_version(&cli);
			return RW_EXIT_OK;
		}
		if ((r = rw_cli_opt_value(&cli, argc, argv, &i, "config", &v)) != 0) {
			if (r < 0)
				return RW_EXIT_USAGE;
			cli.config_path = v;
			continue;
		}
		if ((r = rw_cli_opt_value(&cli, argc, argv, &i, "database-url", &v)) != 0) {
			if (r < 0)
				return RW_EXIT_USAGE;
			cli.database_url = v;
			continue;
		}
		return rw_cli_usage(&cli, "unknown option '%s'", argv[i]);
	}
	rw_cli_err(&cli, "the indexer and relayer are not built yet; nothing to run");
	return RW_EXIT_FAIL;
}
