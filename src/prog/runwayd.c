/* runwayd.c: the runway service. It refuses to run against a database
 * schema it does not know (rw_migrate_check); the indexer and relayer
 * engines arrive with later layers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "err.h"
#include "migrate.h"
#include "pg.h"

static const char usage[] =
	"Usage: runwayd [options]\n"
	"\n"
	"The runway service: indexes billing events into PostgreSQL and relays\n"
	"the settlement transactions that keep billing moving.\n"
	"\n"
	"Options:\n"
	"  --config FILE         configuration file (JSON)\n"
	"  --database-url URL    PostgreSQL connection string (env RUNWAY_DATABASE_URL;\n"
	"                        else libpq's PG* variables)\n"
	"  --migrations DIR      the migrations this runwayd knows (env RUNWAY_MIGRATIONS;\n"
	"                        default " RUNWAY_SOURCE_ROOT "/migrations)\n"
	"  --check               check the database schema, then exit\n"
	"  -h, --help            this help\n"
	"  --version             print the version\n"
	"\n"
	"Exit status: 0 ok, 1 failure, 2 usage error.\n";

/* Checks that the database schema is exactly the one this build knows.
 * Returns 0, or -1 after printing why and what to do. */
static int check_schema(const struct rw_cli *cli, const char *migrations)
{
	struct rw_migrate m;
	memset(&m, 0, sizeof(m));
	int r = rw_migrate_open(&m, rw_pg_conninfo(cli->database_url), migrations);
	if (r == 0)
		r = rw_migrate_check(&m);
	if (r < 0) {
		rw_cli_err(cli, "database schema check failed: %s", m.err);
		if (r == RW_EINVAL && !strstr(m.err, "runway db"))
			fprintf(stderr, "  hint: run 'runway db status' to see the migrations, and "
					"'runway db migrate' to apply pending ones\n");
	}
	rw_migrate_close(&m);
	return r < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct rw_cli cli = { .prog = "runwayd" };
	const char *migrations = getenv("RUNWAY_MIGRATIONS");
	int check_only = 0;
	cli.database_url = getenv("RUNWAY_DATABASE_URL");
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
		if ((r = rw_cli_opt_value(&cli, argc, argv, &i, "migrations", &v)) != 0) {
			if (r < 0)
				return RW_EXIT_USAGE;
			migrations = v;
			continue;
		}
		if (strcmp(argv[i], "--check") == 0) {
			check_only = 1;
			continue;
		}
		return rw_cli_usage(&cli, "unknown option '%s'", argv[i]);
	}
	if (!migrations || !*migrations)
		migrations = RUNWAY_SOURCE_ROOT "/migrations";
	if (check_schema(&cli, migrations) < 0)
		return RW_EXIT_FAIL;
	if (check_only) {
		fprintf(stderr, "runwayd: database schema is up to date\n");
		return RW_EXIT_OK;
	}
	rw_cli_err(&cli, "the indexer and relayer are not built yet; nothing to run");
	return RW_EXIT_FAIL;
}
