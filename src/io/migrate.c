/* migrate.c: schema migrations (see migrate.h for the rules). */
#include "migrate.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "err.h"
#include "pg.h"

/* A migration file larger than this is refused (a mistake, not a schema). */
#define FILE_MAX ((size_t)16 << 20)

static const char create_table_sql[] =
	"CREATE TABLE IF NOT EXISTS runway_migrations ("
	" version integer PRIMARY KEY CHECK (version > 0),"
	" name text NOT NULL,"
	" checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),"
	" applied_at timestamptz NOT NULL DEFAULT now())";

static const char select_sql[] =
	"SELECT version, name, checksum,"
	" to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	" FROM runway_migrations ORDER BY version";

static void set_err(struct rw_migrate *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct rw_migrate *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->err, sizeof(m->err), fmt, ap);
	va_end(ap);
}

static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

const char *rw_migration_state_name(enum rw_migration_state s)
{
	switch (s) {
	case RW_MIGRATION_PENDING: return "pending";
	case RW_MIGRATION_APPLIED: return "applied";
	case RW_MIGRATION_CHANGED: return "changed";
	case RW_MIGRATION_UNKNOWN: return "unknown";
	}
	return "unknown";
}

int rw_migrate_open(struct rw_migrate *m, const char *conninfo, const char *dir)
{
	m->dir = dir;
	m->err[0] = '\0';
	if (rw_pg_conninfo_check(conninfo, m->err, sizeof(m->err)) < 0)
		return RW_EINVAL;
	const char *keys[] = { "dbname", "fallback_application_name", NULL };
	const char *vals[] = { conninfo, "runway-migrate", NULL };
	PGconn *conn = PQconnectdbParams(keys, vals, 1);
	if (!conn) {
		set_err(m, "cannot connect to PostgreSQL: out of memory");
		return RW_ENOMEM;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		char msg[768];
		const char *host = PQhost(conn), *port = PQport(conn);
		rw_pg_message_line(msg, sizeof(msg), PQerrorMessage(conn));
		set_err(m, "cannot connect to PostgreSQL at %s:%s: %s",
			host && host[0] ? host : "(default)", port && port[0] ? port : "5432", msg);
		PQfinish(conn);
		return RW_EIO;
	}
	PQsetNoticeProcessor(conn, ignore_notice, NULL);
	m->conn = conn;
	return 0;
}

void rw_migrate_close(struct rw_migrate *m)
{
	if (m->conn)
		PQfinish(m->conn);
	m->conn = NULL;
}

void rw_migration_list_free(struct rw_migration_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Appends a zeroed entry; returns it or NULL when out of memory. */
static struct rw_migration *list_add(struct rw_migration_list *l, size_t *cap)
{
	if (l->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct rw_migration *v = realloc(l->v, nc * sizeof(*v));
		if (!v)
			return NULL;
		l->v = v;
		*cap = nc;
	}
	struct rw_migration *e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

/* Parses "NNNN_name.sql" into version and name. Returns 0 or RW_EINVAL. */
static int parse_file_name(const char *fname, unsigned *ret_version, char *ret_name)
{
	size_t len = strlen(fname);
	if (len < 10 || len > RW_MIGRATE_NAME_MAX + 9 || strcmp(fname + len - 4, ".sql") != 0)
		return RW_EINVAL;
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		if (fname[i] < '0' || fname[i] > '9')
			return RW_EINVAL;
		v = v * 10 + (unsigned)(fname[i] - '0');
	}
	if (fname[4] != '_' || v == 0)
		return RW_EINVAL;
	size_t nlen = len - 9;
	for (size_t i = 0; i < nlen; i++) {
		char c = fname[5 + i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return RW_EINVAL;
	}
	*ret_version = v;
	memcpy(ret_name, fname + 5, nlen);
	ret_name[nlen] = '\0';
	return 0;
}

static void sha256_hex(char out[65], const void *p, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const char digits[] = "0123456789abcdef";
	if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		out[0] = '\0';
		return;
	}
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[64] = '\0';
}

/* Reads dir/fname into a NUL-terminated heap buffer. Returns 0, RW_EIO,
 * RW_ETOOBIG or RW_ENOMEM (m->err set). */
static int read_file(struct rw_migrate *m, const char *fname, char **ret, size_t *ret_len)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", m->dir, fname) >= sizeof(path)) {
		set_err(m, "migration path too long: %s/%s", m->dir, fname);
		return RW_EINVAL;
	}
	FILE *f = fopen(path, "rb");
	if (!f) {
		set_err(m, "cannot read migration %s: %s", path, strerror(errno));
		return RW_EIO;
	}
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int rc = buf ? 0 : RW_ENOMEM;
	while (rc == 0) {
		if (len + 1 >= cap) {
			if (cap > FILE_MAX) {
				set_err(m, "migration %s is larger than %zu bytes", path, FILE_MAX);
				rc = RW_ETOOBIG;
				break;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				rc = RW_ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + len, 1, cap - 1 - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f)) {
				set_err(m, "cannot read migration %s: %s", path, strerror(errno));
				rc = RW_EIO;
			}
			break;
		}
	}
	fclose(f);
	if (rc == RW_ENOMEM)
		set_err(m, "out of memory reading migration %s", path);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int cmp_version(const void *a, const void *b)
{
	const struct rw_migration *x = a, *y = b;
	return (x->version > y->version) - (x->version < y->version);
}

/* Adds the file fname to l when it is a migration. Returns 0 (added or
 * ignored) or a negative code with m->err set. */
static int scan_one(struct rw_migrate *m, struct rw_migration_list *l, size_t *cap,
		    const char *fname)
{
	size_t len = strlen(fname);
	if (len < 4 || strcmp(fname + len - 4, ".sql") != 0)
		return 0;
	unsigned version;
	char name[RW_MIGRATE_NAME_MAX + 1];
	if (parse_file_name(fname, &version, name) < 0) {
		set_err(m,
			"bad migration file name '%s' in %s: expected NNNN_name.sql "
			"(four digits from 0001, then [a-z0-9_])",
			fname, m->dir);
		return RW_EINVAL;
	}
	char *text;
	size_t tlen;
	int rc = read_file(m, fname, &text, &tlen);
	if (rc < 0)
		return rc;
	struct rw_migration *e = list_add(l, cap);
	if (!e) {
		free(text);
		set_err(m, "out of memory");
		return RW_ENOMEM;
	}
	e->version = version;
	memcpy(e->name, name, strlen(name) + 1);
	memcpy(e->file, fname, len + 1);
	sha256_hex(e->checksum, text, tlen);
	free(text);
	e->state = RW_MIGRATION_PENDING;
	return 0;
}

int rw_migrate_scan(struct rw_migrate *m, struct rw_migration_list *ret)
{
	struct rw_migration_list l = { 0 };
	size_t cap = 0;
	int rc = 0;
	DIR *d = opendir(m->dir);
	if (!d) {
		set_err(m, "cannot open the migrations directory %s: %s", m->dir, strerror(errno));
		return RW_EIO;
	}
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL)
		rc = scan_one(m, &l, &cap, de->d_name);
	closedir(d);
	if (rc == 0 && l.n > 1) {
		qsort(l.v, l.n, sizeof(l.v[0]), cmp_version);
		for (size_t i = 1; i < l.n; i++) {
			if (l.v[i].version == l.v[i - 1].version) {
				set_err(m, "two migrations numbered %04u in %s: %s and %s",
					l.v[i].version, m->dir, l.v[i - 1].file, l.v[i].file);
				rc = RW_EINVAL;
				break;
			}
		}
	}
	if (rc < 0) {
		rw_migration_list_free(&l);
		return rc;
	}
	*ret = l;
	return (int)l.n;
}

/* Sets m->err from a failed result (or the connection) with a prefix. */
static void set_pg_err(struct rw_migrate *m, const PGresult *res, const char *what)
{
	char msg[768];
	if (res && PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
		const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
		snprintf(msg, sizeof(msg), "%s (SQLSTATE %s)%s%s%s%s",
			 PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY), state ? state : "?",
			 detail ? "; detail: " : "", detail ? detail : "", hint ? "; hint: " : "",
			 hint ? hint : "");
	} else {
		rw_pg_message_line(msg, sizeof(msg), PQerrorMessage(m->conn));
	}
	set_err(m, "%s: %s", what, msg);
}

/* Runs one command that returns no rows. Returns 0 or RW_EIO. */
static int exec_cmd(struct rw_migrate *m, const char *sql, const char *what)
{
	PGresult *res = PQexec(m->conn, sql);
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		set_pg_err(m, res, what);
		PQclear(res);
		return RW_EIO;
	}
	PQclear(res);
	return 0;
}

/* Stores 1 in *ret when runway_migrations exists. Returns 0 or RW_EIO. */
static int table_exists(struct rw_migrate *m, int *ret)
{
	PGresult *res = PQexec(m->conn, "SELECT to_regclass('runway_migrations') IS NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		set_pg_err(m, res, "cannot read the migrations table");
		PQclear(res);
		return RW_EIO;
	}
	*ret = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return 0;
}

/* Finds version in the sorted list l, or NULL. */
static struct rw_migration *find_version(struct rw_migration_list *l, unsigned version)
{
	struct rw_migration key = { .version = version };
	return bsearch(&key, l->v, l->n, sizeof(l->v[0]), cmp_version);
}

/* Copies at most n-1 bytes of s into out with a NUL. */
static void copy_str(char *out, size_t n, const char *s)
{
	size_t len = strlen(s);
	if (len >= n)
		len = n - 1;
	memcpy(out, s, len);
	out[len] = '\0';
}

/* Merges one applied row into the list (entries found on disk get their
 * applied fields, others are added as UNKNOWN). Returns 0 or RW_ENOMEM. */
static int merge_row(struct rw_migration_list *l, size_t *cap, size_t ndisk, const PGresult *res,
		     int row)
{
	unsigned version = (unsigned)strtoul(PQgetvalue(res, row, 0), NULL, 10);
	struct rw_migration_list disk = { l->v, ndisk };
	struct rw_migration *e = find_version(&disk, version);
	if (!e) {
		e = list_add(l, cap);
		if (!e)
			return RW_ENOMEM;
		e->version = version;
		copy_str(e->name, sizeof(e->name), PQgetvalue(res, row, 1));
		e->state = RW_MIGRATION_UNKNOWN;
	}
	copy_str(e->applied_checksum, sizeof(e->applied_checksum), PQgetvalue(res, row, 2));
	copy_str(e->applied_at, sizeof(e->applied_at), PQgetvalue(res, row, 3));
	if (e->state != RW_MIGRATION_UNKNOWN) {
		int same = strcmp(e->checksum, e->applied_checksum) == 0 &&
			   strcmp(e->name, PQgetvalue(res, row, 1)) == 0;
		e->state = same ? RW_MIGRATION_APPLIED : RW_MIGRATION_CHANGED;
	}
	return 0;
}

/* Adds the database's applied rows to a scanned list. Returns 0, RW_EIO or
 * RW_ENOMEM. */
static int merge_applied(struct rw_migrate *m, struct rw_migration_list *l)
{
	int exists;
	int rc = table_exists(m, &exists);
	if (rc < 0 || !exists)
		return rc;
	PGresult *res = PQexec(m->conn, select_sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_pg_err(m, res, "cannot read the migrations table");
		PQclear(res);
		return RW_EIO;
	}
	size_t cap = l->n, ndisk = l->n;
	int rows = PQntuples(res);
	for (int i = 0; i < rows && rc == 0; i++)
		rc = merge_row(l, &cap, ndisk, res, i);
	PQclear(res);
	if (rc < 0) {
		set_err(m, "out of memory");
		return rc;
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(l->v[0]), cmp_version);
	return 0;
}

int rw_migrate_status(struct rw_migrate *m, struct rw_migration_list *ret)
{
	struct rw_migration_list l;
	int rc = rw_migrate_scan(m, &l);
	if (rc < 0)
		return rc;
	rc = merge_applied(m, &l);
	if (rc < 0) {
		rw_migration_list_free(&l);
		return rc;
	}
	*ret = l;
	return (int)l.n;
}

/* Sets m->err and returns RW_EINVAL when the list has a changed or unknown
 * migration or a pending one below an applied one; else returns 0. */
static int check_history(struct rw_migrate *m, const struct rw_migration_list *l)
{
	unsigned max_applied = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct rw_migration *e = &l->v[i];
		if (e->state == RW_MIGRATION_CHANGED) {
			set_err(m,
				"migration %s/%s was changed after it was applied "
				"(applied checksum %.12s..., file %.12s...): restore the file and "
				"write a new migration instead",
				m->dir, e->file, e->applied_checksum, e->checksum);
			return RW_EINVAL;
		}
		if (e->state == RW_MIGRATION_UNKNOWN) {
			set_err(m,
				"the database has migration %04u_%s applied but %s has no file for "
				"it: the schema is newer than this runway",
				e->version, e->name, m->dir);
			return RW_EINVAL;
		}
		if (e->state == RW_MIGRATION_APPLIED)
			max_applied = e->version;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct rw_migration *e = &l->v[i];
		if (e->state == RW_MIGRATION_PENDING && e->version < max_applied) {
			set_err(m,
				"migration %s/%s is pending but numbered below %04u, which is "
				"already applied: renumber it after the last applied migration",
				m->dir, e->file, max_applied);
			return RW_EINVAL;
		}
	}
	return 0;
}

/* Runs a migration's text inside the open transaction. Returns 0 or RW_EIO. */
static int run_text(struct rw_migrate *m, const struct rw_migration *e, const char *sql)
{
	char what[256];
	snprintf(what, sizeof(what), "migration %s failed", e->file);
	if (!PQsendQuery(m->conn, sql)) {
		set_pg_err(m, NULL, what);
		return RW_EIO;
	}
	int rc = 0;
	PGresult *res;
	while ((res = PQgetResult(m->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);
		if (rc == 0 && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			set_pg_err(m, res, what);
			rc = RW_EIO;
		}
		PQclear(res);
	}
	if (rc == 0 && PQtransactionStatus(m->conn) != PQTRANS_INTRANS) {
		set_err(m,
			"migration %s ends the transaction it runs in (it must not contain "
			"BEGIN, COMMIT or ROLLBACK); it may be partly applied, check the schema",
			e->file);
		rc = RW_EIO;
	}
	return rc;
}

/* Applies one pending migration with its bookkeeping row in one
 * transaction. Returns 0, RW_EIO or RW_EINVAL. */
static int apply_one(struct rw_migrate *m, struct rw_migration *e)
{
	char *sql;
	size_t len;
	int rc = read_file(m, e->file, &sql, &len);
	if (rc < 0)
		return rc;
	char sum[65];
	sha256_hex(sum, sql, len);
	if (strcmp(sum, e->checksum) != 0 || strlen(sql) != len) {
		set_err(m, "migration %s/%s changed while migrating, or holds a NUL byte", m->dir,
			e->file);
		free(sql);
		return RW_EINVAL;
	}
	rc = exec_cmd(m, "BEGIN", "cannot begin a transaction");
	if (rc == 0)
		rc = run_text(m, e, sql);
	free(sql);
	if (rc == 0) {
		char version[16];
		snprintf(version, sizeof(version), "%u", e->version);
		const char *params[] = { version, e->name, e->checksum };
		PGresult *res =
			PQexecParams(m->conn,
				     "INSERT INTO runway_migrations (version, name, checksum)"
				     " VALUES ($1::integer, $2, $3)",
				     3, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			char what[256];
			snprintf(what, sizeof(what), "cannot record migration %s", e->file);
			set_pg_err(m, res, what);
			rc = RW_EIO;
		}
		PQclear(res);
	}
	if (rc == 0) {
		char what[256];
		snprintf(what, sizeof(what), "cannot commit migration %s", e->file);
		rc = exec_cmd(m, "COMMIT", what);
	}
	if (rc < 0 && PQtransactionStatus(m->conn) != PQTRANS_IDLE)
		PQclear(PQexec(m->conn, "ROLLBACK"));
	return rc;
}

static int lock_key(struct rw_migrate *m, const char *fn)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT %s(%lld)", fn, (long long)RW_MIGRATE_LOCK_KEY);
	return exec_cmd(m, sql, "cannot take the migration lock");
}

/* The locked part of rw_migrate_apply. */
static int apply_locked(struct rw_migrate *m)
{
	int rc = exec_cmd(m, create_table_sql, "cannot create the migrations table");
	if (rc < 0)
		return rc;
	struct rw_migration_list l;
	rc = rw_migrate_status(m, &l);
	if (rc < 0)
		return rc;
	rc = check_history(m, &l);
	int applied = 0;
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		if (l.v[i].state != RW_MIGRATION_PENDING)
			continue;
		rc = apply_one(m, &l.v[i]);
		if (rc < 0)
			break;
		l.v[i].state = RW_MIGRATION_APPLIED;
		memcpy(l.v[i].applied_checksum, l.v[i].checksum, sizeof(l.v[i].checksum));
		applied++;
		if (m->on_applied)
			m->on_applied(&l.v[i], m->arg);
	}
	rw_migration_list_free(&l);
	return rc < 0 ? rc : applied;
}

int rw_migrate_apply(struct rw_migrate *m)
{
	struct rw_migration_list l;
	int rc = rw_migrate_scan(m, &l); /* bad files fail before any lock */
	if (rc < 0)
		return rc;
	rw_migration_list_free(&l);
	rc = lock_key(m, "pg_advisory_lock");
	if (rc < 0)
		return rc;
	rc = apply_locked(m);
	if (PQstatus(m->conn) == CONNECTION_OK) {
		char keep[sizeof(m->err)];
		memcpy(keep, m->err, sizeof(keep));
		if (lock_key(m, "pg_advisory_unlock") < 0 && rc >= 0)
			return RW_EIO;
		memcpy(m->err, keep, sizeof(keep));
	}
	return rc;
}

int rw_migrate_check(struct rw_migrate *m)
{
	int exists;
	int rc = table_exists(m, &exists);
	if (rc < 0)
		return rc;
	if (!exists) {
		set_err(m, "the database has no runway schema (no runway_migrations table): "
			   "run 'runway db migrate'");
		return RW_EINVAL;
	}
	struct rw_migration_list l;
	rc = rw_migrate_status(m, &l);
	if (rc < 0)
		return rc;
	rc = check_history(m, &l);
	size_t pending = 0;
	const struct rw_migration *first = NULL;
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		if (l.v[i].state == RW_MIGRATION_PENDING && pending++ == 0)
			first = &l.v[i];
	}
	if (rc == 0 && pending > 0) {
		set_err(m,
			"the database schema is older than this runway: %zu migration(s) pending, "
			"first %s; run 'runway db migrate'",
			pending, first->file);
		rc = RW_EINVAL;
	}
	rw_migration_list_free(&l);
	return rc;
}
