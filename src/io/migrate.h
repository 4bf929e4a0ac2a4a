/* migrate.h: schema migrations from migrations/NNNN_name.sql.
 *
 * Design
 * - A migration is a file named NNNN_name.sql in the migrations
 *   directory: exactly four decimal digits (0001..9999), an underscore, a
 *   name of [a-z0-9_], ".sql". Other *.sql names, and two files with the
 *   same number, are refused (a typo must not silently skip a migration).
 *   Files not ending in ".sql" (README, editor backups) are ignored.
 *   Gaps in the numbering are allowed (branches may reserve numbers), but
 *   order is strict: a pending migration numbered below one already
 *   applied is refused; renumber it.
 * - The checksum of a migration is the SHA-256 of the file's bytes (hex).
 *   An applied migration whose file changed is an error naming the file:
 *   history is never rewritten, write a new migration instead.
 * - Bookkeeping lives in the table runway_migrations (version, name,
 *   checksum, applied_at), created by this module. Each migration runs in
 *   its own transaction together with its bookkeeping row, so it is
 *   either applied and recorded or neither. Files must not contain
 *   transaction control (BEGIN/COMMIT) nor statements that cannot run in a
 *   transaction block (CREATE INDEX CONCURRENTLY); a file that ends the
 *   transaction is refused and rolled back as far as PostgreSQL allows.
 * - A whole migrate run holds the session advisory lock RW_MIGRATE_LOCK_KEY,
 *   so concurrent migrators serialize: the second one waits, then finds
 *   nothing pending.
 * - A migration recorded in the database with no file on disk means the
 *   schema is newer than this runway: migrate and check refuse it.
 * - This module uses libpq in blocking mode: it runs from the CLI and at
 *   runwayd's start, before the loop. It never prints; messages go to
 *   struct rw_migrate.err.
 */
#ifndef RW_MIGRATE_H
#define RW_MIGRATE_H

#include <stddef.h>

#include <libpq-fe.h>

/* The advisory lock key held while migrating ("runway" in ASCII, then 1). */
#define RW_MIGRATE_LOCK_KEY 0x72756e7761790001LL

/* Longest migration name (the part between "NNNN_" and ".sql"). */
#define RW_MIGRATE_NAME_MAX 100

enum rw_migration_state {
	RW_MIGRATION_PENDING, /* on disk, not applied */
	RW_MIGRATION_APPLIED, /* applied, file unchanged */
	RW_MIGRATION_CHANGED, /* applied, but the file's checksum differs */
	RW_MIGRATION_UNKNOWN  /* applied, no file on disk (schema newer than this runway) */
};

/* One migration as seen on disk and in the database. */
struct rw_migration {
	unsigned version;
	char name[RW_MIGRATE_NAME_MAX + 1];  /* "init" */
	char file[RW_MIGRATE_NAME_MAX + 10]; /* "0001_init.sql"; "" when UNKNOWN */
	char checksum[65];                   /* of the file; "" when UNKNOWN */
	char applied_checksum[65];           /* recorded; "" when PENDING */
	char applied_at[40];                 /* recorded timestamptz text; "" when PENDING */
	enum rw_migration_state state;
};

/* Migrations ordered by version. */
struct rw_migration_list {
	struct rw_migration *v;
	size_t n;
};

/* A migrator: one blocking connection and a migrations directory.
 * Zero-initialise, then rw_migrate_open; always rw_migrate_close. */
struct rw_migrate {
	PGconn *conn;    /* owned; NULL until opened */
	const char *dir; /* borrowed; must outlive the migrator */
	char err[1024];  /* after a failure: what failed, naming the file */
	/* Optional: called after each migration is applied and committed. */
	void (*on_applied)(const struct rw_migration *m, void *arg);
	void *arg;
};

/* Returns the name of a state: "pending", "applied", "changed",
 * "unknown". Never NULL. */
const char *rw_migration_state_name(enum rw_migration_state s);

/* Connects (blocking) to the database and remembers the migrations
 * directory. Returns 0, RW_EINVAL (conninfo does not parse) or RW_EIO (the
 * server cannot be reached; m->err names host:port, never the password).
 * On failure m->conn stays NULL; rw_migrate_close is still safe.
 *   m:        zero-initialised migrator
 *   conninfo: URL or key=value string, NULL for the PG* variables (see
 *             rw_pg_conninfo for the RUNWAY_DATABASE_URL fallback)
 *   dir:      migrations directory (borrowed) */
int rw_migrate_open(struct rw_migrate *m, const char *conninfo, const char *dir);

/* Closes the connection. Accepts a migrator that never opened. */
void rw_migrate_close(struct rw_migrate *m);

/* Reads the migrations directory only (no database). Returns the number of
 * migrations found (>= 0) and stores them in *ret (state PENDING, no
 * applied fields), or RW_EIO (directory or file unreadable), RW_EINVAL (a
 * bad file name or a duplicate number; m->err names it) or RW_ENOMEM.
 * Free *ret with rw_migration_list_free. */
int rw_migrate_scan(struct rw_migrate *m, struct rw_migration_list *ret);

/* Lists every migration on disk and in the database, in version order,
 * with its state. Reads only (no lock, creates nothing). Returns the
 * number of entries, or RW_EIO (database error), RW_EINVAL (bad
 * directory contents) or RW_ENOMEM; m->err says what failed. Changed and
 * unknown migrations are not errors here: they show in their state. */
int rw_migrate_status(struct rw_migrate *m, struct rw_migration_list *ret);

/* Applies every pending migration in order, each in its own transaction
 * with its bookkeeping row, under the advisory lock. Returns the number
 * applied (0: the schema was up to date), or RW_EINVAL when the
 * directory is bad or an applied migration changed, is unknown, or a
 * pending one is numbered below an applied one (nothing is applied then),
 * or RW_EIO when a statement fails (the failing migration is rolled
 * back; earlier ones in this run stay applied). m->err names the file. */
int rw_migrate_apply(struct rw_migrate *m);

/* Checks that the database schema is exactly what this runway knows: every
 * migration on disk applied with a matching checksum, and nothing applied
 * that is not on disk. Returns 0 when it is, RW_EINVAL when it is not
 * (m->err says why: pending, changed or unknown migrations, or no runway
 * schema at all), RW_EIO on a database error. For runwayd's start. */
int rw_migrate_check(struct rw_migrate *m);

/* Frees a list and leaves it empty. Accepts an empty list. */
void rw_migration_list_free(struct rw_migration_list *l);

#endif
