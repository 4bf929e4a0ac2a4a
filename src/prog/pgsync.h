/* pgsync.h: blocking PostgreSQL for CLI commands.
 *
 * A CLI command runs a few statements one after the other, so it uses
 * libpq's blocking calls on one connection instead of the service's
 * non-blocking client (pg.h). The connection string follows the same rule
 * as the service (rw_pg_conninfo: --database-url, else $RUNWAY_DATABASE_URL,
 * else libpq's PG* variables and defaults). Parameters and results are
 * text; uint256 values travel as decimal text, never as a double.
 *
 * Errors are one line each. A connection error names the server as
 * host:port and never the connection string (which may hold a password);
 * a statement error carries the server's SQLSTATE, primary message, detail
 * and hint. */
#ifndef RW_PGSYNC_H
#define RW_PGSYNC_H

#include <libpq-fe.h>

struct rw_pgsync {
	PGconn *conn;
	char server[128]; /* "host:port" once connected, for messages */
};

/* Why a call failed. sqlstate is "" for errors that did not come from the
 * server (connecting, a lost connection, no memory). */
struct rw_pgsync_err {
	char sqlstate[6];
	char msg[768];
	char detail[512]; /* "" when none */
	char hint[256];   /* "" when none */
};

/* Connects. conninfo may be NULL (see above). Returns 0, or -1 with err
 * filled. Always call rw_pgsync_close afterwards. */
int rw_pgsync_open(struct rw_pgsync *s, const char *conninfo, struct rw_pgsync_err *err);

/* Runs one statement with n text parameters (a NULL pointer is SQL NULL).
 * Returns its result (PGRES_TUPLES_OK or PGRES_COMMAND_OK; PQclear it), or
 * NULL with err filled. */
PGresult *rw_pgsync_exec(struct rw_pgsync *s, const char *sql, int n, const char *const *params,
			 struct rw_pgsync_err *err);

struct rw_cli;
struct rw_config;

/* Connects for a CLI command: to --database-url, else $RUNWAY_DATABASE_URL,
 * else cfg's database_url (cfg may be NULL), else libpq's defaults (PG*
 * variables). Returns 0, or the exit code after the message
 * (rw_pgsync_fail). Sets *opened to 1 first: s must be closed after any
 * outcome. */
int rw_pgsync_connect(struct rw_pgsync *s, int *opened, const struct rw_cli *cli,
		      const struct rw_config *cfg);

/* Reports a failure to the user: the message, then its detail and hint
 * lines when the server gave them. A malformed argument caught by SQL
 * (SQLSTATE 22023, invalid_parameter_value) is a usage error (exit 2);
 * anything else exits 1. Returns the exit code. */
int rw_pgsync_fail(const struct rw_cli *cli, const struct rw_pgsync_err *e);

/* Runs one statement for a CLI command, for its effect or its first cell.
 * Returns 0 with a malloc'd copy of row 0, column 0 in *ret (NULL when
 * there is none; ret may be NULL), or the exit code after the message
 * (rw_pgsync_fail, or "out of memory"). */
int rw_pgsync_text(char **ret, struct rw_pgsync *s, const struct rw_cli *cli, const char *sql,
		   int n, const char *const *params);

/* Closes the connection. Accepts a struct whose open failed. */
void rw_pgsync_close(struct rw_pgsync *s);

#endif
