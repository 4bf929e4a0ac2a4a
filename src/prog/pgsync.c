/* pgsync.c: blocking PostgreSQL for CLI commands (see pgsync.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pg.h"
#include "pgsync.h"
#include "rwconfig.h"

static void err_clear(struct rw_pgsync_err *err)
{
	err->sqlstate[0] = '\0';
	err->msg[0] = '\0';
	err->detail[0] = '\0';
	err->hint[0] = '\0';
}

/* Copies a libpq field (may be NULL) into out on one line. */
static void field(char *out, size_t n, const char *v)
{
	if (v)
		rw_pg_message_line(out, n, v);
	else
		out[0] = '\0';
}

static void ignore_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int rw_pgsync_open(struct rw_pgsync *s, const char *conninfo, struct rw_pgsync_err *err)
{
	s->conn = NULL;
	s->server[0] = '\0';
	err_clear(err);
	conninfo = rw_pg_conninfo(conninfo);
	if (rw_pg_conninfo_check(conninfo, err->msg, sizeof(err->msg)) < 0)
		return -1;
	/* connect_timeout first: the connection string may override it. */
	const char *keys[] = { "connect_timeout", "fallback_application_name", "dbname", NULL };
	const char *vals[] = { "10", "runway", conninfo, NULL };
	s->conn = PQconnectdbParams(keys, vals, 1);
	if (!s->conn) {
		snprintf(err->msg, sizeof(err->msg), "cannot connect to PostgreSQL: out of memory");
		return -1;
	}
	const char *host = PQhost(s->conn), *port = PQport(s->conn);
	snprintf(s->server, sizeof(s->server), "%s:%s", host && host[0] ? host : "(default)",
		 port && port[0] ? port : "5432");
	if (PQstatus(s->conn) != CONNECTION_OK) {
		char line[512];
		rw_pg_message_line(line, sizeof(line), PQerrorMessage(s->conn));
		snprintf(err->msg, sizeof(err->msg), "cannot connect to PostgreSQL at %s: %s",
			 s->server, line);
		return -1;
	}
	PQsetNoticeProcessor(s->conn, ignore_notice, NULL);
	return 0;
}

PGresult *rw_pgsync_exec(struct rw_pgsync *s, const char *sql, int n, const char *const *params,
			 struct rw_pgsync_err *err)
{
	err_clear(err);
	PGresult *r = PQexecParams(s->conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return r;
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (state && strlen(state) == 5 && PQstatus(s->conn) == CONNECTION_OK) {
		memcpy(err->sqlstate, state, 6);
		field(err->msg, sizeof(err->msg), PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
		field(err->detail, sizeof(err->detail),
		      PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL));
		field(err->hint, sizeof(err->hint), PQresultErrorField(r, PG_DIAG_MESSAGE_HINT));
	} else {
		char line[512];
		rw_pg_message_line(line, sizeof(line),
				   r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
		snprintf(err->msg, sizeof(err->msg), "PostgreSQL at %s: %s", s->server,
			 line[0] ? line : "the connection failed");
	}
	PQclear(r);
	return NULL;
}

int rw_pgsync_text(char **ret, struct rw_pgsync *s, const struct rw_cli *cli, const char *sql,
		   int n, const char *const *params)
{
	struct rw_pgsync_err err;
	if (ret)
		*ret = NULL;
	PGresult *r = rw_pgsync_exec(s, sql, n, params, &err);
	if (!r)
		return rw_pgsync_fail(cli, &err);
	if (ret && PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0)) {
		*ret = strdup(PQgetvalue(r, 0, 0));
		if (!*ret) {
			PQclear(r);
			rw_cli_err(cli, "out of memory");
			return RW_EXIT_FAIL;
		}
	}
	PQclear(r);
	return 0;
}

void rw_pgsync_close(struct rw_pgsync *s)
{
	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
}

int rw_pgsync_fail(const struct rw_cli *cli, const struct rw_pgsync_err *e)
{
	if (strcmp(e->sqlstate, "22023") == 0)
		return rw_cli_usage(cli, "%s", e->msg);
	rw_cli_err(cli, "%s", e->msg);
	if (e->detail[0])
		rw_cli_err(cli, "detail: %s", e->detail);
	if (e->hint[0])
		rw_cli_err(cli, "hint: %s", e->hint);
	return RW_EXIT_FAIL;
}

int rw_pgsync_connect(struct rw_pgsync *s, int *opened, const struct rw_cli *cli,
		      const struct rw_config *cfg)
{
	const char *conninfo = rw_pg_conninfo(cli->database_url);
	if (!conninfo && cfg)
		conninfo = cfg->database_url.v;
	struct rw_pgsync_err err;
	*opened = 1;
	if (rw_pgsync_open(s, conninfo, &err) < 0)
		return rw_pgsync_fail(cli, &err);
	return 0;
}
