/* pgtest.c: helpers for the real-PostgreSQL tests. */
#include "pgtest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *pt_url(void)
{
	const char *u = getenv("RUNWAY_TEST_DATABASE_URL");
	if (!u || !u[0])
		fail_msg("RUNWAY_TEST_DATABASE_URL is not set (run under tests/pg/with-pg)");
	return u;
}

/* The URL of the test server with its database replaced by name. */
static char *url_for(const char *name)
{
	const char *u = pt_url();
	const char *slash = strrchr(u, '/');
	assert_non_null(slash);
	size_t base = (size_t)(slash - u) + 1;
	char *out = malloc(base + strlen(name) + 1);
	assert_non_null(out);
	memcpy(out, u, base);
	strcpy(out + base, name);
	return out;
}

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

PGconn *pt_connect(const char *url)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("cannot connect to %s: %s", url, PQerrorMessage(c));
	PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

static void exec_on(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

char *pt_fresh_db(const char *name)
{
	PGconn *c = pt_connect(pt_url());
	char sql[256];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	exec_on(c, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	exec_on(c, sql);
	PQfinish(c);
	return url_for(name);
}

char *pt_query1(const char *url, const char *sql)
{
	PGconn *c = pt_connect(url);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	char *v = strdup(PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	PQfinish(c);
	return v;
}

void pt_exec(const char *url, const char *sql)
{
	PGconn *c = pt_connect(url);
	exec_on(c, sql);
	PQfinish(c);
}

static void on_deadline(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

void pt_run_until(uv_loop_t *loop, const int *done, double seconds)
{
	uv_timer_t t;
	int expired = 0;
	uv_timer_init(loop, &t);
	t.data = &expired;
	uv_timer_start(&t, on_deadline, (uint64_t)(seconds * 1000), 0);
	while (!*done && !expired)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	if (!*done)
		fail_msg("timed out after %.0f s", seconds);
}

void pt_loop_finish(uv_loop_t *loop)
{
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
}

char *pt_tmpdir(void)
{
	char tmpl[] = "/tmp/runway-pgtest-files.XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

void pt_write(const char *dir, const char *name, const char *text)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

void pt_rmrf(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int pt_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}
