/* test_pg.c: the non-blocking PostgreSQL client against a real server
 * (run under tests/pg/with-pg): connect and close with uv_loop_close() ==
 * 0, bad URL and dead port, prepared statements, a pipelined batch of
 * 1000 statements, transaction atomicity, numeric(78,0) round trips,
 * binary COPY of 100k rows, COPY through a tiny socket buffer,
 * LISTEN/NOTIFY, reconnect after a server restart mid-batch, close with
 * work queued. */
#include "testlib.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "err.h"
#include "pg.h"
#include "pgtest.h"
#include "u256.h"

static const char u256_max[] =
	"115792089237316195423570985008687907853269984665640564039457584007913129639935";

static char *db_url;

struct ctx {
	uv_loop_t loop;
	struct rw_pg *pg;
	int connected;
	int lost;
	int connect_failed;
	int closed;
	char event_msg[512];
};

static void on_event(struct rw_pg *pg, enum rw_pg_event ev, const struct rw_pg_error *err,
		     void *arg)
{
	(void)pg;
	struct ctx *c = arg;
	if (ev == RW_PG_EV_CONNECTED)
		c->connected++;
	if (ev == RW_PG_EV_LOST)
		c->lost++;
	if (ev == RW_PG_EV_CONNECT_FAILED)
		c->connect_failed++;
	if (err && ev != RW_PG_EV_NOTICE)
		snprintf(c->event_msg, sizeof(c->event_msg), "%s", err->message);
}

static void open_with(struct ctx *c, struct rw_pg_config *cfg)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(uv_loop_init(&c->loop), 0);
	cfg->on_event = on_event;
	cfg->arg = c;
	char msg[256] = "";
	if (rw_pg_open(&c->pg, &c->loop, cfg, msg, sizeof(msg)) != 0)
		fail_msg("rw_pg_open: %s", msg);
}

static void open_db(struct ctx *c)
{
	struct rw_pg_config cfg = { .conninfo = db_url, .backoff_max_ms = 1000 };
	open_with(c, &cfg);
}

static void on_closed(void *arg)
{
	((struct ctx *)arg)->closed = 1;
}

static void close_db(struct ctx *c)
{
	rw_pg_close(c->pg, on_closed, c);
	rw_pg_close(c->pg, on_closed, c); /* a second close is a no-op */
	pt_loop_finish(&c->loop);
	assert_int_equal(c->closed, 1);
}

/* What a job's callback saw. */
struct box {
	int calls;
	int failed;
	enum rw_pg_errkind kind;
	char sqlstate[6];
	char message[512];
	size_t statement;
	size_t n;
	PGresult *res[8]; /* the first results, taken */
	int ok_results;   /* results with a success status */
};

static void on_reply(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	(void)pg;
	struct box *b = arg;
	b->calls++;
	b->n = reply->n;
	if (reply->error) {
		b->failed = 1;
		b->kind = reply->error->kind;
		snprintf(b->sqlstate, sizeof(b->sqlstate), "%s", reply->error->sqlstate);
		snprintf(b->message, sizeof(b->message), "%s", reply->error->message);
		b->statement = reply->error->statement;
	}
	for (size_t i = 0; i < reply->n; i++) {
		ExecStatusType st =
			reply->results[i] ? PQresultStatus(reply->results[i]) : PGRES_FATAL_ERROR;
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
			b->ok_results++;
		if (i < 8)
			b->res[i] = rw_pg_reply_take(reply, i);
	}
}

static void box_free(struct box *b)
{
	for (int i = 0; i < 8; i++)
		PQclear(b->res[i]);
	memset(b, 0, sizeof(*b));
}

/* Runs one statement and waits for its reply. */
static void run_sql(struct ctx *c, const char *sql, struct box *b)
{
	memset(b, 0, sizeof(*b));
	assert_int_equal(rw_pg_exec(c->pg, sql, on_reply, b), 0);
	pt_run_until(&c->loop, &b->calls, 30);
	assert_int_equal(b->calls, 1);
}

static void run_ok(struct ctx *c, const char *sql)
{
	struct box b;
	run_sql(c, sql, &b);
	if (b.failed)
		fail_msg("%s: %s", sql, b.message);
	box_free(&b);
}

static long long query_int(struct ctx *c, const char *sql)
{
	struct box b;
	run_sql(c, sql, &b);
	if (b.failed)
		fail_msg("%s: %s", sql, b.message);
	long long v = atoll(PQgetvalue(b.res[0], 0, 0));
	box_free(&b);
	return v;
}

static void connect_and_close(void **state)
{
	(void)state;
	struct ctx c;
	open_db(&c);
	struct box b;
	run_sql(&c, "SELECT 41 + 1", &b);
	assert_false(b.failed);
	assert_string_equal(PQgetvalue(b.res[0], 0, 0), "42");
	box_free(&b);
	assert_int_equal(c.connected, 1);
	assert_true(rw_pg_is_ready(c.pg));
	assert_non_null(strstr(rw_pg_server(c.pg), "127.0.0.1:"));
	close_db(&c);

	/* closing before the first attempt ran */
	open_db(&c);
	close_db(&c);
	assert_int_equal(c.connected, 0);

	/* two hosts, the first dead: libpq replaces the socket while
	 * connecting (often under the same number), the poll must follow */
	const char *real = strrchr(pt_url(), ':'); /* ":PORT/runway" */
	char url[256];
	snprintf(url, sizeof(url), "postgresql://postgres@127.0.0.1:%d,127.0.0.1%.*s/pgclient",
		 pt_free_port(), (int)(strchr(real, '/') - real), real);
	struct rw_pg_config two = { .conninfo = url };
	open_with(&c, &two);
	run_sql(&c, "SELECT current_database()", &b);
	assert_false(b.failed);
	assert_string_equal(PQgetvalue(b.res[0], 0, 0), "pgclient");
	box_free(&b);
	close_db(&c);
}

static void bad_url_and_dead_port(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct rw_pg *pg = NULL;
	char msg[256];
	struct rw_pg_config cfg = { .conninfo = "postgresql://u:hunter2@[bad" };
	assert_int_equal(rw_pg_open(&pg, &loop, &cfg, msg, sizeof(msg)), RW_EINVAL);
	assert_null(pg);
	assert_non_null(strstr(msg, "bad database connection string"));
	assert_null(strstr(msg, "hunter2"));
	assert_int_equal(uv_loop_close(&loop), 0);

	/* nothing listens on the port: the job fails with CONNECT naming it */
	char url[128], where[64];
	int port = pt_free_port();
	snprintf(url, sizeof(url), "postgresql://postgres:hunter2@127.0.0.1:%d/runway", port);
	snprintf(where, sizeof(where), "127.0.0.1:%d", port);
	struct ctx c;
	struct rw_pg_config dead = { .conninfo = url, .fail_when_down = 1, .backoff_min_ms = 50 };
	open_with(&c, &dead);
	struct box b = { 0 };
	assert_int_equal(rw_pg_exec(c.pg, "SELECT 1", on_reply, &b), 0);
	pt_run_until(&c.loop, &b.calls, 30);
	assert_int_equal(b.kind, RW_PG_ERR_CONNECT);
	assert_non_null(strstr(b.message, where));
	assert_null(strstr(b.message, "hunter2"));
	assert_true(c.connect_failed >= 1);
	assert_non_null(strstr(c.event_msg, where));
	/* it keeps retrying: a later job waits for the next attempt */
	struct box later = { 0 };
	assert_int_equal(rw_pg_exec(c.pg, "SELECT 1", on_reply, &later), 0);
	pt_run_until(&c.loop, &later.calls, 30);
	assert_int_equal(later.kind, RW_PG_ERR_CONNECT);
	assert_true(c.connect_failed >= 2);
	close_db(&c);

	/* without fail_when_down, queued jobs wait and fail CLOSED on close */
	struct rw_pg_config wait = { .conninfo = url, .backoff_min_ms = 50 };
	open_with(&c, &wait);
	memset(&b, 0, sizeof(b));
	assert_int_equal(rw_pg_exec(c.pg, "SELECT 1", on_reply, &b), 0);
	while (c.connect_failed < 2)
		uv_run(&c.loop, UV_RUN_ONCE);
	assert_int_equal(b.calls, 0);
	close_db(&c);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.kind, RW_PG_ERR_CLOSED);
}

static void prepared_round_trip(void **state)
{
	(void)state;
	struct ctx c;
	open_db(&c);
	run_ok(&c, "DROP TABLE IF EXISTS prep_t");
	run_ok(&c, "CREATE TABLE prep_t (id bigint PRIMARY KEY, note text, amount numeric(78,0))");
	struct box pb = { 0 };
	assert_int_equal(rw_pg_prepare(c.pg, "prep_ins",
				       "INSERT INTO prep_t VALUES ($1, $2, $3) RETURNING id * 2", 3,
				       NULL, on_reply, &pb),
			 0);
	assert_int_equal(rw_pg_prepare(c.pg, "prep_ins", "SELECT 1", 0, NULL, NULL, NULL),
			 RW_EINVAL);
	pt_run_until(&c.loop, &pb.calls, 30);
	assert_false(pb.failed);
	box_free(&pb);

	struct rw_pg_job *job = rw_pg_job_new(0);
	const char *v1[] = { "7", "seven", u256_max };
	assert_int_equal(rw_pg_job_prepared(job, "prep_ins", 3, v1, NULL, NULL, 0), 0);
	/* a binary int8 parameter, NULL note, binary result */
	uint8_t be8[8] = { 0, 0, 0, 0, 0, 0, 0, 9 };
	const char *v2[] = { (const char *)be8, NULL, "0" };
	int len2[] = { 8, 0, 0 }, fmt2[] = { 1, 0, 0 };
	assert_int_equal(rw_pg_job_prepared(job, "prep_ins", 3, v2, len2, fmt2, 1), 0);
	struct box b = { 0 };
	assert_int_equal(rw_pg_submit(c.pg, job, on_reply, &b), 0);
	pt_run_until(&c.loop, &b.calls, 30);
	if (b.failed)
		fail_msg("%s", b.message);
	assert_string_equal(PQgetvalue(b.res[0], 0, 0), "14");
	assert_int_equal(PQgetlength(b.res[1], 0, 0), 8);
	assert_int_equal((uint8_t)PQgetvalue(b.res[1], 0, 0)[7], 18);
	box_free(&b);
	assert_int_equal(query_int(&c, "SELECT count(*) FROM prep_t WHERE note IS NULL"), 1);

	/* a bad statement: the first preparation fails and unregisters it */
	assert_int_equal(rw_pg_prepare(c.pg, "prep_bad", "SELEC 1", 0, NULL, on_reply, &pb), 0);
	pt_run_until(&c.loop, &pb.calls, 30);
	assert_int_equal(pb.kind, RW_PG_ERR_SERVER);
	assert_string_equal(pb.sqlstate, "42601");
	box_free(&pb);
	assert_int_equal(rw_pg_prepare(c.pg, "prep_bad", "SELECT 1", 0, NULL, NULL, NULL), 0);

	/* bad arguments are refused before anything is queued */
	job = rw_pg_job_new(0);
	assert_int_equal(rw_pg_job_sql(job, NULL, 0, NULL, NULL, NULL, 0), RW_EINVAL);
	assert_int_equal(rw_pg_job_sql(job, "SELECT $1", 1, NULL, NULL, NULL, 0), RW_EINVAL);
	int bin[] = { 1 };
	const char *vb[] = { "x" };
	assert_int_equal(rw_pg_job_sql(job, "SELECT $1", 1, vb, NULL, bin, 0), RW_EINVAL);
	assert_int_equal(rw_pg_submit(c.pg, job, on_reply, &b), RW_EINVAL); /* empty: freed */
	close_db(&c);
}

static void pipeline_batch_1000(void **state)
{
	(void)state;
	struct ctx c;
	open_db(&c);
	run_ok(&c, "DROP TABLE IF EXISTS batch_t");
	run_ok(&c, "CREATE TABLE batch_t (i int PRIMARY KEY)");
	struct rw_pg_job *job = rw_pg_job_new(0);
	for (int i = 0; i < 1000; i++) {
		char v[16];
		snprintf(v, sizeof(v), "%d", i == 500 ? 499 : i); /* 500 repeats 499 */
		const char *vals[] = { v };
		assert_int_equal(rw_pg_job_sql(job, "INSERT INTO batch_t VALUES ($1)", 1, vals,
					       NULL, NULL, 0),
				 0);
	}
	/* several jobs in the pipeline at once; replies come in order */
	struct box b = { 0 }, after[10];
	memset(after, 0, sizeof(after));
	assert_int_equal(rw_pg_submit(c.pg, job, on_reply, &b), 0);
	for (int k = 0; k < 10; k++) {
		char sql[64];
		snprintf(sql, sizeof(sql), "SELECT %d", k);
		assert_int_equal(rw_pg_exec(c.pg, sql, on_reply, &after[k]), 0);
	}
	pt_run_until(&c.loop, &after[9].calls, 60);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.n, 1000);
	/* a batch: statements are independent; the duplicate alone failed */
	assert_int_equal(b.kind, RW_PG_ERR_SERVER);
	assert_string_equal(b.sqlstate, "23505");
	assert_int_equal(b.statement, 500);
	assert_int_equal(b.ok_results, 999);
	box_free(&b);
	for (int k = 0; k < 10; k++) {
		char want[8];
		snprintf(want, sizeof(want), "%d", k);
		assert_string_equal(PQgetvalue(after[k].res[0], 0, 0), want);
		box_free(&after[k]);
	}
	assert_int_equal(query_int(&c, "SELECT count(*) FROM batch_t"), 999);
	close_db(&c);
}

static void transaction_atomic(void **state)
{
	(void)state;
	struct ctx c;
	open_db(&c);
	run_ok(&c, "DROP TABLE IF EXISTS tx_t");
	run_ok(&c, "CREATE TABLE tx_t (i int PRIMARY KEY)");
	struct rw_pg_job *job = rw_pg_job_new(RW_PG_TX);
	assert_int_equal(rw_pg_job_sql(job, "INSERT INTO tx_t VALUES (1)", 0, NULL, NULL, NULL, 0),
			 0);
	assert_int_equal(rw_pg_job_sql(job, "INSERT INTO tx_t VALUES (2)", 0, NULL, NULL, NULL, 0),
			 0);
	assert_int_equal(rw_pg_job_sql(job, "SELECT 1 / 0", 0, NULL, NULL, NULL, 0), 0);
	assert_int_equal(rw_pg_job_sql(job, "INSERT INTO tx_t VALUES (4)", 0, NULL, NULL, NULL, 0),
			 0);
	struct box b = { 0 }, next = { 0 };
	assert_int_equal(rw_pg_submit(c.pg, job, on_reply, &b), 0);
	/* the session is clean for the next job in the pipeline */
	assert_int_equal(rw_pg_exec(c.pg, "INSERT INTO tx_t VALUES (10)", on_reply, &next), 0);
	pt_run_until(&c.loop, &next.calls, 30);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.kind, RW_PG_ERR_SERVER);
	assert_string_equal(b.sqlstate, "22012");
	assert_int_equal(b.statement, 2);
	assert_non_null(strstr(b.message, "division by zero"));
	assert_null(b.res[3]); /* skipped */
	assert_false(next.failed);
	box_free(&b);
	box_free(&next);
	assert_int_equal(query_int(&c, "SELECT count(*) FROM tx_t"), 1); /* only 10 */

	job = rw_pg_job_new(RW_PG_TX);
	for (int i = 1; i <= 3; i++) {
		char v[8];
		snprintf(v, sizeof(v), "%d", i);
		const char *vals[] = { v };
		assert_int_equal(
			rw_pg_job_sql(job, "INSERT INTO tx_t VALUES ($1)", 1, vals, NULL, NULL, 0),
			0);
	}
	assert_int_equal(rw_pg_submit(c.pg, job, on_reply, &b), 0);
	pt_run_until(&c.loop, &b.calls, 30);
	assert_false(b.failed);
	box_free(&b);
	assert_int_equal(query_int(&c, "SELECT count(*) FROM tx_t"), 4);

	/* deferred constraint: the failure comes at the implicit commit */
	run_ok(&c, "DROP TABLE IF EXISTS tx_d");
	run_ok(&c, "CREATE TABLE tx_d (i int UNIQUE DEFERRABLE INITIALLY DEFERRED)");
	job = rw_pg_job_new(RW_PG_TX);
	assert_int_equal(rw_pg_job_sql(job, "INSERT INTO tx_d VALUES (1)", 0, NULL, NULL, NULL, 0),
			 0);
	assert_int_equal(rw_pg_job_sql(job, "INSERT INTO tx_d VALUES (1)", 0, NULL, NULL, NULL, 0),
			 0);
	assert_int_equal(rw_pg_submit(c.pg, job, on_reply, &b), 0);
	pt_run_until(&c.loop, &b.calls, 30);
	assert_int_equal(b.kind, RW_PG_ERR_SERVER);
	assert_string_equal(b.sqlstate, "23505");
	box_free(&b);
	assert_int_equal(query_int(&c, "SELECT count(*) FROM tx_d"), 0);
	close_db(&c);
}

/* COPY producer state: rows [next, total) of a transfer-like table. */
struct rows {
	long next;
	long total;
	long fail_at; /* return RW_EINVAL at this row (-1: never) */
	long dup_at;  /* repeat row 0's key at this row (-1: never) */
	int calls;
};

static void fill_hash(uint8_t out[32], long i, int salt)
{
	for (int k = 0; k < 32; k++)
		out[k] = (uint8_t)((i >> (8 * (k % 8))) ^ (k * 31) ^ salt);
}

static int produce_rows(struct rw_buf *out, void *arg)
{
	struct rows *r = arg;
	r->calls++;
	for (int k = 0; k < 256 && r->next < r->total; k++, r->next++) {
		long i = r->next;
		if (i == r->fail_at)
			return RW_EINVAL;
		long key = i == r->dup_at ? 0 : i;
		uint8_t bh[32], th[32], from[20], to[20];
		fill_hash(bh, key / 100, 1);
		fill_hash(th, key, 2);
		memcpy(from, th, 20);
		memcpy(to, bh, 20);
		char value[32];
		int vl = snprintf(value, sizeof(value), "%ld000000000000000000", i);
		int rc = rw_pg_copy_row(out, 8);
		rc = rc ? rc : rw_pg_copy_int8(out, 1);
		rc = rc ? rc : rw_pg_copy_int8(out, key / 100);
		rc = rc ? rc : rw_pg_copy_bytea(out, bh, 32);
		rc = rc ? rc : rw_pg_copy_bytea(out, th, 32);
		rc = rc ? rc : rw_pg_copy_int4(out, (int32_t)key);
		rc = rc ? rc : rw_pg_copy_bytea(out, from, 20);
		rc = rc ? rc : rw_pg_copy_bytea(out, to, 20);
		rc = rc ? rc : rw_pg_copy_numeric(out, value, (size_t)vl);
		if (rc < 0)
			return rc;
	}
	return r->next < r->total;
}

static const char copy_sql[] =
	"COPY copy_t (chain_id, block_number, block_hash, tx_hash, log_index, \"from\", \"to\","
	" value) FROM STDIN (FORMAT binary)";

static void copy_100k(void **state)
{
	(void)state;
	struct ctx c;
	open_db(&c);
	run_ok(&c, "DROP TABLE IF EXISTS copy_t");
	run_ok(&c, "CREATE TABLE copy_t (chain_id bigint, block_number bigint, block_hash bytea,"
		   " tx_hash bytea, log_index int, \"from\" bytea, \"to\" bytea,"
		   " value numeric(78,0), PRIMARY KEY (chain_id, tx_hash, log_index))");
	struct rows r = { .total = 100000, .fail_at = -1, .dup_at = -1 };
	struct box b = { 0 }, after = { 0 };
	assert_int_equal(rw_pg_copy_binary(c.pg, copy_sql, produce_rows, &r, on_reply, &b), 0);
	/* a job queued behind the COPY runs after it, in pipeline mode again */
	assert_int_equal(rw_pg_exec(c.pg, "SELECT count(*) FROM copy_t", on_reply, &after), 0);
	pt_run_until(&c.loop, &after.calls, 120);
	if (b.failed)
		fail_msg("COPY: %s", b.message);
	assert_string_equal(PQcmdTuples(b.res[0]), "100000");
	assert_string_equal(PQgetvalue(after.res[0], 0, 0), "100000");
	box_free(&b);
	box_free(&after);
	assert_true(r.calls > 100000 / 256);
	assert_int_equal(query_int(&c, "SELECT sum(log_index) FROM copy_t"), 4999950000LL);
	assert_int_equal(query_int(&c, "SELECT count(*) FROM copy_t WHERE value = "
				       "(log_index::numeric * 1000000000000000000)"),
			 100000);

	/* the producer aborts: CLIENT error with its code, nothing kept */
	run_ok(&c, "TRUNCATE copy_t");
	struct rows bad = { .total = 50000, .fail_at = 30000, .dup_at = -1 };
	assert_int_equal(rw_pg_copy_binary(c.pg, copy_sql, produce_rows, &bad, on_reply, &b), 0);
	pt_run_until(&c.loop, &b.calls, 60);
	assert_int_equal(b.kind, RW_PG_ERR_CLIENT);
	assert_non_null(strstr(b.message, "producer"));
	box_free(&b);
	assert_int_equal(query_int(&c, "SELECT count(*) FROM copy_t"), 0);

	/* a row the server refuses (duplicate key): SERVER error */
	struct rows dup = { .total = 20000, .fail_at = -1, .dup_at = 15000 };
	assert_int_equal(rw_pg_copy_binary(c.pg, copy_sql, produce_rows, &dup, on_reply, &b), 0);
	pt_run_until(&c.loop, &b.calls, 60);
	assert_int_equal(b.kind, RW_PG_ERR_SERVER);
	assert_string_equal(b.sqlstate, "23505");
	box_free(&b);
	assert_int_equal(query_int(&c, "SELECT count(*) FROM copy_t"), 0);

	/* COPY and a cursor update in one transaction; then one that fails
	 * after its COPY: the COPY is rolled back with it */
	run_ok(&c, "CREATE TABLE IF NOT EXISTS cursor_t (id int PRIMARY KEY, block bigint)");
	run_ok(&c, "INSERT INTO cursor_t VALUES (1, 0) ON CONFLICT DO NOTHING");
	struct rows ok = { .total = 1000, .fail_at = -1, .dup_at = -1 };
	struct rw_pg_job *job = rw_pg_job_new(RW_PG_TX);
	assert_int_equal(rw_pg_job_copy(job, copy_sql, produce_rows, &ok), 0);
	assert_int_equal(rw_pg_job_sql(job, "UPDATE cursor_t SET block = 9 WHERE id = 1", 0, NULL,
				       NULL, NULL, 0),
			 0);
	assert_int_equal(rw_pg_submit(c.pg, job, on_reply, &b), 0);
	pt_run_until(&c.loop, &b.calls, 60);
	assert_false(b.failed);
	box_free(&b);
	assert_int_equal(query_int(&c, "SELECT count(*) FROM copy_t"), 1000);
	struct rows more = { .next = 1000, .total = 2000, .fail_at = -1, .dup_at = -1 };
	job = rw_pg_job_new(RW_PG_TX);
	assert_int_equal(rw_pg_job_copy(job, copy_sql, produce_rows, &more), 0);
	assert_int_equal(
		rw_pg_job_sql(job, "UPDATE cursor_t SET block = 1 / 0", 0, NULL, NULL, NULL, 0), 0);
	assert_int_equal(rw_pg_submit(c.pg, job, on_reply, &b), 0);
	pt_run_until(&c.loop, &b.calls, 60);
	assert_string_equal(b.sqlstate, "22012");
	assert_int_equal(b.statement, 1);
	box_free(&b);
	assert_int_equal(query_int(&c, "SELECT count(*) FROM copy_t"), 1000);
	assert_int_equal(query_int(&c, "SELECT block FROM cursor_t WHERE id = 1"), 9);
	close_db(&c);
}

/* Shrinks the send buffer of the process's TCP connections (the client's
 * one connection): every COPY chunk then takes many partial writes, so
 * the socket keeps turning from full to drained while a chunk is out. */
static void shrink_sndbuf(void)
{
	int found = 0;
	for (int fd = 3; fd < 1024; fd++) {
		struct sockaddr_storage a;
		socklen_t len = sizeof(a);
		if (getpeername(fd, (struct sockaddr *)&a, &len) != 0 || a.ss_family != AF_INET)
			continue;
		int size = 4096;
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0);
		found++;
	}
	assert_int_equal(found, 1);
}

/* COPY through a socket that fills and drains all the time: every run
 * ends (a COPY whose socket drained between two flushes, with nothing
 * left watching for writable, used to wait for ever with the server
 * waiting for its data). Its own table, unlogged and without copy_t's key,
 * so the server reads as fast as it can: with copy_t the old code stalled
 * in 2 runs of 3, with this one in 3 of 3. */
static void copy_small_sndbuf(void **state)
{
	(void)state;
	struct ctx c;
	struct rw_pg_config cfg = { .conninfo = db_url, .copy_chunk = 65536 };
	open_with(&c, &cfg);
	run_ok(&c, "DROP TABLE IF EXISTS copy_s");
	run_ok(&c, "CREATE UNLOGGED TABLE copy_s (chain_id bigint, block_number bigint,"
		   " block_hash bytea, tx_hash bytea, log_index int, \"from\" bytea, \"to\" bytea,"
		   " value numeric(78,0))");
	shrink_sndbuf();
	for (int run = 0; run < 20; run++) {
		struct rows r = { .total = 5000, .fail_at = -1, .dup_at = -1 };
		struct box b = { 0 };
		assert_int_equal(
			rw_pg_copy_binary(c.pg,
					  "COPY copy_s (chain_id, block_number, block_hash,"
					  " tx_hash, log_index, \"from\", \"to\", value)"
					  " FROM STDIN (FORMAT binary)",
					  produce_rows, &r, on_reply, &b),
			0);
		pt_run_until(&c.loop, &b.calls, 30);
		if (b.failed)
			fail_msg("COPY run %d: %s", run, b.message);
		assert_string_equal(PQcmdTuples(b.res[0]), "5000");
		box_free(&b);
	}
	assert_int_equal(query_int(&c, "SELECT count(*) FROM copy_s"), 100000);
	close_db(&c);
}

static void numeric_u256_round_trip(void **state)
{
	(void)state;
	struct ctx c;
	open_db(&c);
	run_ok(&c, "DROP TABLE IF EXISTS num_t");
	run_ok(&c, "CREATE TABLE num_t (k int PRIMARY KEY, v numeric(78,0) NOT NULL)");
	/* via a text parameter */
	struct rw_pg_job *job = rw_pg_job_new(0);
	const char *vals[] = { u256_max };
	assert_int_equal(
		rw_pg_job_sql(job, "INSERT INTO num_t VALUES (1, $1)", 1, vals, NULL, NULL, 0), 0);
	assert_int_equal(rw_pg_job_sql(job, "SELECT v::text, v FROM num_t WHERE k = 1", 0, NULL,
				       NULL, NULL, 0),
			 0);
	assert_int_equal(
		rw_pg_job_sql(job, "SELECT v FROM num_t WHERE k = 1", 0, NULL, NULL, NULL, 1), 0);
	struct box b = { 0 };
	assert_int_equal(rw_pg_submit(c.pg, job, on_reply, &b), 0);
	pt_run_until(&c.loop, &b.calls, 30);
	if (b.failed)
		fail_msg("%s", b.message);
	assert_string_equal(PQgetvalue(b.res[1], 0, 0), u256_max);
	assert_string_equal(PQgetvalue(b.res[1], 0, 1), u256_max);
	char text[RW_PG_NUMERIC_TEXT_MAX];
	int n = rw_pg_numeric_decode(text, sizeof(text),
				     (const uint8_t *)PQgetvalue(b.res[2], 0, 0),
				     (size_t)PQgetlength(b.res[2], 0, 0));
	assert_int_equal(n, 78);
	assert_string_equal(text, u256_max);
	box_free(&b);

	/* via binary COPY, with rw_pg_copy_numeric_u256 */
	struct rw_buf rows;
	rw_buf_init(&rows, 1 << 20);
	rw_u256 max = { { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX } };
	rw_u256 zero = rw_u256_from_u64(0), ten = rw_u256_from_u64(10000000000000000000ull);
	const rw_u256 *vs[] = { &max, &zero, &ten };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rw_pg_copy_row(&rows, 2), 0);
		assert_int_equal(rw_pg_copy_int4(&rows, 10 + i), 0);
		assert_int_equal(rw_pg_copy_numeric_u256(&rows, vs[i]), 0);
	}
	job = rw_pg_job_new(0);
	assert_int_equal(rw_pg_job_copy_data(job, "COPY num_t (k, v) FROM STDIN (FORMAT binary)",
					     rows.p, rows.len),
			 0);
	assert_int_equal(rw_pg_job_sql(job,
				       "SELECT string_agg(v::text, ',' ORDER BY k) FROM num_t"
				       " WHERE k >= 10",
				       0, NULL, NULL, NULL, 0),
			 0);
	assert_int_equal(rw_pg_submit(c.pg, job, on_reply, &b), 0);
	pt_run_until(&c.loop, &b.calls, 30);
	if (b.failed)
		fail_msg("%s", b.message);
	char want[256];
	snprintf(want, sizeof(want), "%s,0,10000000000000000000", u256_max);
	assert_string_equal(PQgetvalue(b.res[1], 0, 0), want);
	box_free(&b);
	rw_buf_free(&rows);
	close_db(&c);
}

struct notes {
	int count;
	char channel[80];
	char payload[80];
};

static void on_notify(struct rw_pg *pg, const char *channel, const char *payload, int be_pid,
		      void *arg)
{
	(void)pg;
	(void)be_pid;
	struct notes *n = arg;
	n->count++;
	snprintf(n->channel, sizeof(n->channel), "%s", channel);
	snprintf(n->payload, sizeof(n->payload), "%s", payload);
}

static void listen_notify(void **state)
{
	(void)state;
	struct ctx a, b;
	open_db(&a);
	struct rw_pg_config cfg = { .conninfo = db_url };
	memset(&b, 0, sizeof(b));
	/* two connections on two loops would block each other: share a's */
	b.pg = NULL;
	char msg[128];
	assert_int_equal(rw_pg_open(&b.pg, &a.loop, &cfg, msg, sizeof(msg)), 0);
	struct notes n = { 0 };
	struct box done = { 0 };
	assert_int_equal(rw_pg_listen(a.pg, "billing \"events\"", on_notify, on_reply, &done), 0);
	assert_int_equal(rw_pg_listen(a.pg, "billing \"events\"", on_notify, NULL, &n), RW_EINVAL);
	pt_run_until(&a.loop, &done.calls, 30);
	assert_false(done.failed);
	box_free(&done);
	/* fix the notify callback's argument: done and notify share arg */
	assert_int_equal(rw_pg_unlisten(a.pg, "billing \"events\""), 0);
	assert_int_equal(rw_pg_unlisten(a.pg, "billing \"events\""), RW_ENOTFOUND);
	assert_int_equal(rw_pg_listen(a.pg, "billing \"events\"", on_notify, NULL, &n), 0);
	run_ok(&a, "SELECT 1"); /* the LISTEN is in before this returns */

	struct box sent = { 0 };
	assert_int_equal(rw_pg_exec(b.pg, "SELECT pg_notify('billing \"events\"', 'deposit:42')",
				    on_reply, &sent),
			 0);
	pt_run_until(&a.loop, &n.count, 30);
	assert_string_equal(n.channel, "billing \"events\"");
	assert_string_equal(n.payload, "deposit:42");
	box_free(&sent);
	/* a notification on a channel nobody listens to is ignored */
	assert_int_equal(rw_pg_exec(b.pg, "NOTIFY other, 'x'", on_reply, &sent), 0);
	pt_run_until(&a.loop, &sent.calls, 30);
	box_free(&sent);
	assert_int_equal(n.count, 1);
	rw_pg_close(b.pg, NULL, NULL);
	close_db(&a);
}

struct restart {
	uv_process_t proc;
	int done;
	int64_t status;
};

static void on_restart_exit(uv_process_t *p, int64_t status, int sig)
{
	(void)sig;
	struct restart *r = p->data;
	r->status = status;
	r->done = 1;
	uv_close((uv_handle_t *)p, NULL);
}

static void start_restart(uv_loop_t *loop, struct restart *r)
{
	const char *helper = getenv("RUNWAY_TEST_PG_HELPER");
	assert_non_null(helper);
	char *args[] = { (char *)helper, "ctl", "restart", NULL };
	uv_process_options_t o = { .file = helper, .args = args, .exit_cb = on_restart_exit };
	memset(r, 0, sizeof(*r));
	r->proc.data = r;
	assert_int_equal(uv_spawn(loop, &r->proc, &o), 0);
}

static void on_kick(uv_timer_t *t)
{
	struct restart *r = t->data;
	start_restart(t->loop, r);
	uv_close((uv_handle_t *)t, NULL);
}

static void reconnect_after_restart(void **state)
{
	(void)state;
	struct ctx c;
	open_db(&c);
	run_ok(&c, "DROP TABLE IF EXISTS re_t");
	run_ok(&c, "CREATE TABLE re_t (batch int, i int)");
	struct box pb = { 0 };
	assert_int_equal(
		rw_pg_prepare(c.pg, "re_ins",
			      "INSERT INTO re_t SELECT $1::int, g FROM generate_series(1, 10) g", 1,
			      NULL, on_reply, &pb),
		0);
	struct notes n = { 0 };
	assert_int_equal(rw_pg_listen(c.pg, "re_chan", on_notify, NULL, &n), 0);
	pt_run_until(&c.loop, &pb.calls, 30);
	box_free(&pb);

	/* in flight: a transaction that inserts 1000 rows, then waits */
	struct rw_pg_job *job = rw_pg_job_new(RW_PG_TX);
	assert_int_equal(
		rw_pg_job_sql(job, "INSERT INTO re_t SELECT 1, g FROM generate_series(1, 1000) g",
			      0, NULL, NULL, NULL, 0),
		0);
	assert_int_equal(rw_pg_job_sql(job, "SELECT pg_sleep(5)", 0, NULL, NULL, NULL, 0), 0);
	struct box inflight = { 0 }, behind = { 0 };
	assert_int_equal(rw_pg_submit(c.pg, job, on_reply, &inflight), 0);
	const char *v2[] = { "2" };
	job = rw_pg_job_new(RW_PG_TX);
	assert_int_equal(rw_pg_job_prepared(job, "re_ins", 1, v2, NULL, NULL, 0), 0);
	assert_int_equal(rw_pg_submit(c.pg, job, on_reply, &behind), 0);

	/* restart the server (same port) while the batch is in flight */
	struct restart r;
	uv_timer_t kick;
	uv_timer_init(&c.loop, &kick);
	kick.data = &r;
	memset(&r, 0, sizeof(r));
	uv_timer_start(&kick, on_kick, 500, 0);
	pt_run_until(&c.loop, &inflight.calls, 60);
	assert_int_equal(inflight.kind, RW_PG_ERR_LOST);
	assert_non_null(strstr(inflight.message, "connection lost"));
	pt_run_until(&c.loop, &behind.calls, 60);
	assert_int_equal(behind.kind, RW_PG_ERR_LOST);
	assert_int_equal(c.lost, 1);

	/* after the restart: later jobs succeed, with the re-prepared statement */
	pt_run_until(&c.loop, &r.done, 90);
	assert_int_equal(r.status, 0);
	const char *v3[] = { "3" };
	job = rw_pg_job_new(RW_PG_TX);
	assert_int_equal(rw_pg_job_prepared(job, "re_ins", 1, v3, NULL, NULL, 0), 0);
	struct box later = { 0 };
	assert_int_equal(rw_pg_submit(c.pg, job, on_reply, &later), 0);
	pt_run_until(&c.loop, &later.calls, 60);
	if (later.failed)
		fail_msg("after reconnect: %s", later.message);
	box_free(&later);
	assert_int_equal(c.connected, 2);
	assert_int_equal(inflight.calls, 1); /* exactly once */
	assert_int_equal(behind.calls, 1);
	box_free(&inflight);
	box_free(&behind);
	/* nothing half-applied: batch 1 and 2 are gone entirely, 3 is whole */
	assert_int_equal(query_int(&c, "SELECT count(*) FROM re_t WHERE batch = 1"), 0);
	assert_int_equal(query_int(&c, "SELECT count(*) FROM re_t WHERE batch = 2"), 0);
	assert_int_equal(query_int(&c, "SELECT count(*) FROM re_t WHERE batch = 3"), 10);
	/* LISTEN again after the reconnect */
	run_ok(&c, "SELECT pg_notify('re_chan', 'back')");
	pt_run_until(&c.loop, &n.count, 30);
	assert_string_equal(n.payload, "back");
	close_db(&c);
}

static void close_from_callback(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	on_reply(pg, reply, arg);
	rw_pg_close(pg, NULL, NULL);
}

static void close_with_work(void **state)
{
	(void)state;
	struct ctx c;
	open_db(&c);
	run_ok(&c, "SELECT 1");
	struct box slow = { 0 }, queued[5];
	memset(queued, 0, sizeof(queued));
	assert_int_equal(rw_pg_exec(c.pg, "SELECT pg_sleep(10)", on_reply, &slow), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(rw_pg_exec(c.pg, "SELECT 1", on_reply, &queued[i]), 0);
	uv_run(&c.loop, UV_RUN_NOWAIT);
	close_db(&c);
	assert_int_equal(slow.calls, 1);
	assert_int_equal(slow.kind, RW_PG_ERR_CLOSED);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(queued[i].calls, 1);
		assert_int_equal(queued[i].kind, RW_PG_ERR_CLOSED);
	}

	/* close from inside a job's callback, with another job behind it */
	open_db(&c);
	struct box first = { 0 }, second = { 0 };
	assert_int_equal(rw_pg_exec(c.pg, "SELECT 1", close_from_callback, &first), 0);
	assert_int_equal(rw_pg_exec(c.pg, "SELECT 2", on_reply, &second), 0);
	pt_loop_finish(&c.loop);
	assert_int_equal(first.calls, 1);
	assert_false(first.failed);
	assert_int_equal(second.calls, 1);
	assert_int_equal(second.kind, RW_PG_ERR_CLOSED);
	box_free(&first);
	box_free(&second);
}

static int setup(void **state)
{
	(void)state;
	db_url = pt_fresh_db("pgclient");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(db_url);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(connect_and_close),   cmocka_unit_test(bad_url_and_dead_port),
		cmocka_unit_test(prepared_round_trip), cmocka_unit_test(pipeline_batch_1000),
		cmocka_unit_test(transaction_atomic),  cmocka_unit_test(numeric_u256_round_trip),
		cmocka_unit_test(copy_100k),           cmocka_unit_test(copy_small_sndbuf),
		cmocka_unit_test(listen_notify),       cmocka_unit_test(reconnect_after_restart),
		cmocka_unit_test(close_with_work),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
