/* cmd_db.c: `runway db migrate` and `runway db status`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "config.h"
#include "migrate.h"
#include "pg.h"

static const char usage_db[] =
	"Usage: runway db migrate|status [--migrations DIR]\n"
	"\n"
	"Manage the database schema.\n"
	"\n"
	"Subcommands:\n"
	"  migrate   apply every pending migration, in order, each in its own\n"
	"            transaction (concurrent migrators wait for each other)\n"
	"  status    list applied and pending migrations\n"
	"\n"
	"Run 'runway db SUBCOMMAND --help' for a subcommand's options.\n";

static const char usage_migrate[] =
	"Usage: runway db migrate [--migrations DIR] [--database-url URL] [--json]\n"
	"\n"
	"Apply every pending migration (migrations/NNNN_name.sql) in order. Each\n"
	"runs in its own transaction together with its row in runway_migrations;\n"
	"a migration that fails is rolled back and stops the run. An applied\n"
	"migration whose file changed, or one applied that has no file here\n"
	"(a newer runway migrated this database), is refused before anything runs.\n"
	"\n"
	"Options:\n"
	"  --migrations DIR      migrations directory (env RUNWAY_MIGRATIONS;\n"
	"                        default " RUNWAY_SOURCE_ROOT "/migrations)\n"
	"  --database-url URL    PostgreSQL connection string (env\n"
	"                        RUNWAY_DATABASE_URL; else libpq's PG* variables)\n"
	"  --json                print {\"applied\": [...], \"count\": N}\n"
	"\n"
	"Exit status: 0 ok (also when nothing was pending), 1 failure, 2 usage.\n";

static const char usage_status[] =
	"Usage: runway db status [--migrations DIR] [--database-url URL] [--json]\n"
	"\n"
	"List every migration with its state: applied, pending, changed (applied,\n"
	"but the file differs now) or unknown (applied, no file here).\n"
	"\n"
	"Options:\n"
	"  --migrations DIR      migrations directory (env RUNWAY_MIGRATIONS;\n"
	"                        default " RUNWAY_SOURCE_ROOT "/migrations)\n"
	"  --database-url URL    PostgreSQL connection string (env\n"
	"                        RUNWAY_DATABASE_URL; else libpq's PG* variables)\n"
	"  --json                print {\"applied\": N, \"pending\": N, \"migrations\": [...]}\n"
	"\n"
	"Exit status: 0 when the schema is consistent (pending migrations are\n"
	"fine), 1 when a migration changed or is unknown or on any failure,\n"
	"2 usage error.\n";

struct db_opts {
	const char *dir;
};

/* Parses the subcommand's options. Returns 0, 1 after printing help, or
 * RW_EXIT_USAGE (negated) after a usage error. */
static int parse_opts(struct rw_cli *cli, int argc, char **argv, const char *help,
		      struct db_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if (rw_cli_is_help(argv[i])) {
			fputs(help, stdout);
			return 1;
		}
		if ((r = rw_cli_opt_value(cli, argc, argv, &i, "migrations", &v)) != 0) {
			if (r < 0)
				return -RW_EXIT_USAGE;
			o->dir = v;
			continue;
		}
		rw_cli_usage(cli, "db %s: unexpected argument '%s'", argv[0], argv[i]);
		return -RW_EXIT_USAGE;
	}
	if (!o->dir) {
		const char *env = getenv("RUNWAY_MIGRATIONS");
		o->dir = env && env[0] ? env : RUNWAY_SOURCE_ROOT "/migrations";
	}
	return 0;
}

static int open_migrator(struct rw_cli *cli, struct rw_migrate *m, const char *dir)
{
	if (rw_migrate_open(m, rw_pg_conninfo(cli->database_url), dir) < 0) {
		rw_cli_err(cli, "%s", m->err);
		rw_migrate_close(m);
		return RW_EXIT_FAIL;
	}
	return RW_EXIT_OK;
}

struct applied_log {
	struct rw_cli *cli;
	json_t *list;
};

static void on_applied(const struct rw_migration *e, void *arg)
{
	struct applied_log *log = arg;
	if (log->list) {
		json_array_append_new(log->list, json_pack("{s:i, s:s, s:s, s:s}", "version",
							   (int)e->version, "name", e->name, "file",
							   e->file, "checksum", e->checksum));
		return;
	}
	printf("applied %s\n", e->file);
	fflush(stdout);
}

static int print_json(json_t *j)
{
	if (!j)
		return RW_EXIT_FAIL;
	int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	fputc('\n', stdout);
	return rc == 0 ? RW_EXIT_OK : RW_EXIT_FAIL;
}

static int cmd_migrate(struct rw_cli *cli, int argc, char **argv)
{
	struct db_opts o = { 0 };
	int r = parse_opts(cli, argc, argv, usage_migrate, &o);
	if (r != 0)
		return r > 0 ? RW_EXIT_OK : -r;
	struct rw_migrate m = { 0 };
	if (open_migrator(cli, &m, o.dir) != RW_EXIT_OK)
		return RW_EXIT_FAIL;
	struct applied_log log = { cli, cli->json ? json_array() : NULL };
	m.on_applied = on_applied;
	m.arg = &log;
	int n = rw_migrate_apply(&m);
	rw_migrate_close(&m);
	if (n < 0) {
		rw_cli_err(cli, "%s", m.err);
		json_decref(log.list);
		return RW_EXIT_FAIL;
	}
	if (log.list)
		return print_json(json_pack("{s:o, s:i}", "applied", log.list, "count", n));
	if (n == 0)
		printf("schema is up to date\n");
	else
		printf("%d migration%s applied\n", n, n == 1 ? "" : "s");
	return RW_EXIT_OK;
}

static json_t *status_json(const struct rw_migration_list *l, int napplied, int npending)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < l->n; i++) {
		const struct rw_migration *e = &l->v[i];
		json_t *o = json_pack("{s:i, s:s, s:s, s:s}", "version", (int)e->version, "name",
				      e->name, "state", rw_migration_state_name(e->state), "file",
				      e->file);
		if (!o)
			continue;
		json_object_set_new(o, "checksum",
				    e->checksum[0] ? json_string(e->checksum) : json_null());
		json_object_set_new(o, "applied_checksum",
				    e->applied_checksum[0] ? json_string(e->applied_checksum)
							   : json_null());
		json_object_set_new(o, "applied_at",
				    e->applied_at[0] ? json_string(e->applied_at) : json_null());
		json_array_append_new(arr, o);
	}
	return json_pack("{s:i, s:i, s:o}", "applied", napplied, "pending", npending, "migrations",
			 arr);
}

static void status_text(const struct rw_migration_list *l, int napplied, int npending)
{
	printf("%-7s %-8s %-20s %s\n", "VERSION", "STATE", "APPLIED AT", "FILE");
	for (size_t i = 0; i < l->n; i++) {
		const struct rw_migration *e = &l->v[i];
		char file[RW_MIGRATE_NAME_MAX + 32];
		if (e->file[0])
			snprintf(file, sizeof(file), "%s", e->file);
		else
			snprintf(file, sizeof(file), "(%04u_%s.sql, no file)", e->version, e->name);
		printf("%04u    %-8s %-20s %s\n", e->version, rw_migration_state_name(e->state),
		       e->applied_at[0] ? e->applied_at : "-", file);
	}
	printf("%d applied, %d pending\n", napplied, npending);
}

static int cmd_status(struct rw_cli *cli, int argc, char **argv)
{
	struct db_opts o = { 0 };
	int r = parse_opts(cli, argc, argv, usage_status, &o);
	if (r != 0)
		return r > 0 ? RW_EXIT_OK : -r;
	struct rw_migrate m = { 0 };
	if (open_migrator(cli, &m, o.dir) != RW_EXIT_OK)
		return RW_EXIT_FAIL;
	struct rw_migration_list l;
	int n = rw_migrate_status(&m, &l);
	rw_migrate_close(&m);
	if (n < 0) {
		rw_cli_err(cli, "%s", m.err);
		return RW_EXIT_FAIL;
	}
	int napplied = 0, npending = 0, nbad = 0;
	for (size_t i = 0; i < l.n; i++) {
		switch (l.v[i].state) {
		case RW_MIGRATION_APPLIED: napplied++; break;
		case RW_MIGRATION_PENDING: npending++; break;
		default: nbad++; break;
		}
	}
	int rc = RW_EXIT_OK;
	if (cli->json)
		rc = print_json(status_json(&l, napplied, npending));
	else
		status_text(&l, napplied, npending);
	rw_migration_list_free(&l);
	if (nbad > 0) {
		rw_cli_err(cli, "%d applied migration%s changed or unknown here (see the list)",
			   nbad, nbad == 1 ? "" : "s");
		rc = RW_EXIT_FAIL;
	}
	return rc;
}

int rw_cmd_db(struct rw_cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct rw_cli *cli, int argc, char **argv);
	} subs[] = { { "migrate", cmd_migrate }, { "status", cmd_status } };
	size_t i;
	int rc;
	if (!rw_cli_subcommand(&i, &rc, cli, "db", usage_db, subs, sizeof(subs[0]), RW_NELEM(subs),
			       argc, argv))
		return rc;
	return subs[i].run(cli, argc - 1, argv + 1);
}
