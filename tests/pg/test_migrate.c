/* test_migrate.c: migrations against a real PostgreSQL: apply from empty,
 * idempotence, checksum refusal, unknown applied migrations, bad files,
 * failing and transaction-ending migrations, concurrent migrators, and the
 * `runway db` CLI (argv[1] is the runway binary). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "err.h"
#include "migrate.h"
#include "pgtest.h"

static const char *runway_bin;
static char last_err[4096]; /* the standard error of the last run_cli */

static const char m1[] = "CREATE TABLE account (id bigint PRIMARY KEY, name text NOT NULL);\n";
static const char m2[] =
	"ALTER TABLE account ADD COLUMN balance numeric(78,0) NOT NULL DEFAULT 0;\n"
	"CREATE INDEX account_name ON account (name);\n";
static const char m3[] = "CREATE TABLE invoice (n bigint PRIMARY KEY);\n";

static void open_ok(struct rw_migrate *m, const char *url, const char *dir)
{
	memset(m, 0, sizeof(*m));
	if (rw_migrate_open(m, url, dir) != 0)
		fail_msg("rw_migrate_open: %s", m->err);
}

static int count_rows(const char *url, const char *table)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	char *v = pt_query1(url, sql);
	int n = atoi(v);
	free(v);
	return n;
}

static void apply_idempotent_check(void **state)
{
	(void)state;
	char *url = pt_fresh_db("mig_basic");
	char *dir = pt_tmpdir();
	pt_write(dir, "0001_account.sql", m1);
	pt_write(dir, "0002_balance.sql", m2);
	pt_write(dir, "README", "not a migration");
	struct rw_migrate m;
	open_ok(&m, url, dir);

	assert_int_equal(rw_migrate_check(&m), RW_EINVAL); /* no schema yet */
	assert_non_null(strstr(m.err, "runway db migrate"));
	struct rw_migration_list l;
	assert_int_equal(rw_migrate_status(&m, &l), 2);
	assert_int_equal(l.v[0].state, RW_MIGRATION_PENDING);
	assert_string_equal(l.v[1].file, "0002_balance.sql");
	rw_migration_list_free(&l);

	assert_int_equal(rw_migrate_apply(&m), 2);
	assert_int_equal(rw_migrate_apply(&m), 0); /* idempotent */
	assert_int_equal(rw_migrate_check(&m), 0);
	assert_int_equal(count_rows(url, "runway_migrations"), 2);
	assert_int_equal(count_rows(url, "account"), 0);

	assert_int_equal(rw_migrate_status(&m, &l), 2);
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(l.v[i].state, RW_MIGRATION_APPLIED);
		assert_string_equal(l.v[i].checksum, l.v[i].applied_checksum);
		assert_int_equal(strlen(l.v[i].checksum), 64);
		assert_true(l.v[i].applied_at[0] != '\0');
	}
	rw_migration_list_free(&l);

	/* a new migration: check says pending, migrate applies just it */
	pt_write(dir, "0005_invoice.sql", m3); /* gaps are allowed */
	assert_int_equal(rw_migrate_check(&m), RW_EINVAL);
	assert_non_null(strstr(m.err, "pending"));
	assert_non_null(strstr(m.err, "0005_invoice.sql"));
	assert_int_equal(rw_migrate_apply(&m), 1);
	assert_int_equal(rw_migrate_check(&m), 0);

	/* a pending migration numbered below an applied one is refused */
	pt_write(dir, "0003_late.sql", "CREATE TABLE late (x int);");
	assert_int_equal(rw_migrate_apply(&m), RW_EINVAL);
	assert_non_null(strstr(m.err, "0003_late.sql"));
	assert_non_null(strstr(m.err, "renumber"));
	rw_migrate_close(&m);
	pt_rmrf(dir);
	free(dir);
	free(url);
}

static void checksum_and_unknown_refused(void **state)
{
	(void)state;
	char *url = pt_fresh_db("mig_checksum");
	char *dir = pt_tmpdir();
	pt_write(dir, "0001_account.sql", m1);
	pt_write(dir, "0002_balance.sql", m2);
	struct rw_migrate m;
	open_ok(&m, url, dir);
	assert_int_equal(rw_migrate_apply(&m), 2);

	/* edit an applied migration: refused, naming the file */
	pt_write(dir, "0002_balance.sql",
		 "-- edited\n"
		 "SELECT 1;\n");
	pt_write(dir, "0003_invoice.sql", m3);
	assert_int_equal(rw_migrate_apply(&m), RW_EINVAL);
	assert_non_null(strstr(m.err, "0002_balance.sql"));
	assert_non_null(strstr(m.err, "changed"));
	assert_int_equal(count_rows(url, "runway_migrations"), 2); /* 0003 not applied */
	assert_int_equal(rw_migrate_check(&m), RW_EINVAL);
	assert_non_null(strstr(m.err, "0002_balance.sql"));
	struct rw_migration_list l;
	assert_int_equal(rw_migrate_status(&m, &l), 3);
	assert_int_equal(l.v[1].state, RW_MIGRATION_CHANGED);
	assert_int_equal(l.v[2].state, RW_MIGRATION_PENDING);
	rw_migration_list_free(&l);

	/* restore it; then remove an applied file: schema newer than runway */
	pt_write(dir, "0002_balance.sql", m2);
	assert_int_equal(rw_migrate_apply(&m), 1);
	char path[4200];
	snprintf(path, sizeof(path), "%s/0003_invoice.sql", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rw_migrate_apply(&m), RW_EINVAL);
	assert_non_null(strstr(m.err, "newer"));
	assert_non_null(strstr(m.err, "0003_invoice"));
	assert_int_equal(rw_migrate_check(&m), RW_EINVAL);
	assert_int_equal(rw_migrate_status(&m, &l), 3);
	assert_int_equal(l.v[2].state, RW_MIGRATION_UNKNOWN);
	assert_string_equal(l.v[2].name, "invoice");
	assert_string_equal(l.v[2].file, "");
	rw_migration_list_free(&l);
	rw_migrate_close(&m);
	pt_rmrf(dir);
	free(dir);
	free(url);
}

static void bad_files_refused(void **state)
{
	(void)state;
	char *url = pt_fresh_db("mig_badfiles");
	static const char *const bad[] = { "12_short.sql",  "0001-dash.sql", "0001_Upper.sql",
					   "0000_zero.sql", "0001_.sql",     "abcd_x.sql" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *dir = pt_tmpdir();
		pt_write(dir, bad[i], "SELECT 1;");
		struct rw_migrate m;
		open_ok(&m, url, dir);
		assert_int_equal(rw_migrate_apply(&m), RW_EINVAL);
		if (!strstr(m.err, bad[i]))
			fail_msg("message does not name %s: %s", bad[i], m.err);
		rw_migrate_close(&m);
		pt_rmrf(dir);
		free(dir);
	}
	char *dir = pt_tmpdir();
	pt_write(dir, "0004_a.sql", "SELECT 1;");
	pt_write(dir, "0004_b.sql", "SELECT 1;");
	struct rw_migrate m;
	open_ok(&m, url, dir);
	assert_int_equal(rw_migrate_apply(&m), RW_EINVAL);
	assert_non_null(strstr(m.err, "0004_a.sql"));
	assert_non_null(strstr(m.err, "0004_b.sql"));
	rw_migrate_close(&m);
	pt_rmrf(dir);
	free(dir);

	/* a missing directory */
	open_ok(&m, url, "/nonexistent/runway-migrations");
	assert_int_equal(rw_migrate_apply(&m), RW_EIO);
	assert_non_null(strstr(m.err, "/nonexistent/runway-migrations"));
	rw_migrate_close(&m);
	free(url);
}

static void failing_migration_rolls_back(void **state)
{
	(void)state;
	char *url = pt_fresh_db("mig_fail");
	char *dir = pt_tmpdir();
	pt_write(dir, "0001_account.sql", m1);
	pt_write(dir, "0002_broken.sql",
		 "CREATE TABLE half (x int);\nINSERT INTO nosuchtable VALUES (1);\n");
	pt_write(dir, "0003_invoice.sql", m3);
	struct rw_migrate m;
	open_ok(&m, url, dir);
	assert_int_equal(rw_migrate_apply(&m), RW_EIO);
	assert_non_null(strstr(m.err, "0002_broken.sql"));
	assert_non_null(strstr(m.err, "42P01"));
	assert_int_equal(count_rows(url, "runway_migrations"), 1); /* 0001 stays */
	char *half = pt_query1(url, "SELECT to_regclass('half') IS NULL");
	assert_string_equal(half, "t"); /* rolled back */
	free(half);

	/* a migration that commits its own transaction is refused */
	pt_write(dir, "0002_broken.sql", "CREATE TABLE half (x int);\nCOMMIT;\n");
	assert_int_equal(rw_migrate_apply(&m), RW_EIO);
	assert_non_null(strstr(m.err, "COMMIT"));
	rw_migrate_close(&m);
	pt_rmrf(dir);
	free(dir);
	free(url);
}

/* Forks a migrator; returns its pid. Its exit status is the number it
 * applied, or 100 on failure. */
static pid_t spawn_migrator(const char *url, const char *dir)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rw_migrate m = { 0 };
		int rc = rw_migrate_open(&m, url, dir);
		if (rc == 0)
			rc = rw_migrate_apply(&m);
		if (rc < 0)
			fprintf(stderr, "migrator %d: %s\n", (int)getpid(), m.err);
		rw_migrate_close(&m);
		_exit(rc < 0 ? 100 : rc);
	}
	return pid;
}

static void concurrent_migrators_serialize(void **state)
{
	(void)state;
	char *url = pt_fresh_db("mig_concurrent");
	char *dir = pt_tmpdir();
	/* slow migrations: without the lock both would run them and fail */
	pt_write(dir, "0001_account.sql",
		 "SELECT pg_sleep(0.4);\n"
		 "CREATE TABLE account (id int);");
	pt_write(dir, "0002_ledger.sql",
		 "SELECT pg_sleep(0.4);\n"
		 "CREATE TABLE ledger (id int);");
	pt_write(dir, "0003_invoice.sql", m3);
	enum { N = 4 };
	pid_t pids[N];
	for (int i = 0; i < N; i++)
		pids[i] = spawn_migrator(url, dir);
	int total = 0;
	for (int i = 0; i < N; i++) {
		int st;
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		assert_true(WEXITSTATUS(st) != 100);
		total += WEXITSTATUS(st);
	}
	assert_int_equal(total, 3); /* each migration applied exactly once */
	assert_int_equal(count_rows(url, "runway_migrations"), 3);
	pt_rmrf(dir);
	free(dir);
	free(url);
}

/* Runs the runway CLI with args (a shell fragment) and RUNWAY_DATABASE_URL
 * set to url; returns its exit code and stores its standard output. */
static int run_cli(const char *url, const char *args, char **ret_out)
{
	char *dir = pt_tmpdir();
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "RUNWAY_DATABASE_URL='%s' '%s' %s >'%s/out' 2>'%s/err'",
		 url ? url : "", runway_bin, args, dir, dir);
	int st = system(cmd);
	assert_true(WIFEXITED(st));
	char path[4200];
	snprintf(path, sizeof(path), "%s/out", dir);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *out = calloc(1, 1 << 16);
	assert_non_null(out);
	size_t got = fread(out, 1, (1 << 16) - 1, f);
	out[got] = '\0';
	fclose(f);
	snprintf(path, sizeof(path), "%s/err", dir);
	f = fopen(path, "rb");
	char *err = last_err;
	err[0] = '\0';
	if (f) {
		size_t e = fread(err, 1, sizeof(last_err) - 1, f);
		err[e] = '\0';
		fclose(f);
	}
	pt_rmrf(dir);
	free(dir);
	if (ret_out)
		*ret_out = out;
	else
		free(out);
	return WEXITSTATUS(st);
}

static void cli_migrate_and_status(void **state)
{
	(void)state;
	char *url = pt_fresh_db("mig_cli");
	char *dir = pt_tmpdir();
	pt_write(dir, "0001_account.sql", m1);
	pt_write(dir, "0002_balance.sql", m2);
	char args[4200], *out;

	snprintf(args, sizeof(args), "db status --migrations '%s'", dir);
	assert_int_equal(run_cli(url, args, &out), 0);
	assert_non_null(strstr(out, "0 applied, 2 pending"));
	free(out);

	snprintf(args, sizeof(args), "db migrate --migrations '%s'", dir);
	assert_int_equal(run_cli(url, args, &out), 0);
	assert_non_null(strstr(out, "applied 0001_account.sql"));
	assert_non_null(strstr(out, "2 migrations applied"));
	free(out);
	assert_int_equal(run_cli(url, args, &out), 0);
	assert_non_null(strstr(out, "up to date"));
	free(out);

	snprintf(args, sizeof(args), "--json db status --migrations='%s'", dir);
	assert_int_equal(run_cli(url, args, &out), 0);
	json_error_t jerr;
	json_t *j = json_loads(out, 0, &jerr);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "applied")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "pending")), 0);
	json_t *arr = json_object_get(j, "migrations");
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 1), "state")),
			    "applied");
	json_decref(j);
	free(out);

	/* a changed migration: status and migrate fail (1) */
	pt_write(dir, "0001_account.sql", "SELECT 2;");
	snprintf(args, sizeof(args), "db status --migrations '%s'", dir);
	assert_int_equal(run_cli(url, args, &out), 1);
	assert_non_null(strstr(out, "changed"));
	free(out);
	snprintf(args, sizeof(args), "db migrate --migrations '%s'", dir);
	assert_int_equal(run_cli(url, args, NULL), 1);
	assert_non_null(strstr(last_err, "0001_account.sql"));

	/* usage errors (2), help (0), unreachable database (1) */
	assert_int_equal(run_cli(url, "db", NULL), 2);
	assert_int_equal(run_cli(url, "db frobnicate", NULL), 2);
	assert_int_equal(run_cli(url, "db status --bogus", NULL), 2);
	assert_int_equal(run_cli(url, "db migrate --migrations", NULL), 2);
	assert_int_equal(run_cli(url, "db --help", &out), 0);
	assert_non_null(strstr(out, "migrate"));
	free(out);
	assert_int_equal(run_cli(url, "db status --help", &out), 0);
	assert_non_null(strstr(out, "--json"));
	free(out);
	char dead[200];
	snprintf(dead, sizeof(dead), "postgresql://postgres:secret@127.0.0.1:%d/x", pt_free_port());
	snprintf(args, sizeof(args), "--database-url '%s' db status --migrations '%s'", dead, dir);
	assert_int_equal(run_cli(url, args, NULL), 1);
	assert_non_null(strstr(last_err, "127.0.0.1:"));
	assert_null(strstr(last_err, "secret"));
	assert_int_equal(run_cli("postgresql://u:secret@[bad", "db status", NULL), 1);
	assert_non_null(strstr(last_err, "bad database connection string"));
	assert_null(strstr(last_err, "secret"));

	/* the compiled-in default directory: the repository's migrations */
	char *url2 = pt_fresh_db("mig_cli_default");
	assert_int_equal(run_cli(url2, "db migrate", NULL), 0);
	assert_int_equal(count_rows(url2, "chain"), 0);
	assert_int_equal(run_cli(url2, "db status", &out), 0);
	assert_non_null(strstr(out, "0001_init.sql"));
	free(out);
	free(url2);
	pt_rmrf(dir);
	free(dir);
	free(url);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s RUNWAY_BINARY\n", argv[0]);
		return 2;
	}
	runway_bin = argv[1];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(apply_idempotent_check),
		cmocka_unit_test(checksum_and_unknown_refused),
		cmocka_unit_test(bad_files_refused),
		cmocka_unit_test(failing_migration_rolls_back),
		cmocka_unit_test(concurrent_migrators_serialize),
		cmocka_unit_test(cli_migrate_and_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
