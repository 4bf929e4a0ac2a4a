/* bench_copy.c: the C side of tools/bench-io. Generates transfer-event
 * rows (chain_id, block_number, block_hash, tx_hash, log_index, from, to,
 * value numeric(78,0)) and either streams them through rw_pg_copy_binary
 * or writes the same rows as a binary COPY file for psql \copy.
 *
 * Usage: bench_copy copy URL ROWS [CHUNK]
 *                                   prints "rows=N seconds=S rows_per_s=R"
 *        bench_copy file PATH ROWS  writes the binary COPY file */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "pg.h"
#include "u256.h"

#define COPY_SQL                                                                                   \
	"COPY transfer_bench (chain_id, block_number, block_hash, tx_hash, log_index, \"from\","   \
	" \"to\", value) FROM STDIN (FORMAT binary)"

struct gen {
	long next;
	long total;
};

/* Fills n bytes (a multiple of 4) with pseudo-random data from seed. */
static void fill(uint8_t *out, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	for (size_t i = 0; i < n; i += 4) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(out + i, &x, 4);
	}
}

/* Appends row i. */
static int put_row(struct rw_buf *b, long i)
{
	uint8_t bh[32], th[32], from[20], to[20];
	fill(bh, sizeof(bh), (uint64_t)(i / 50));
	fill(th, sizeof(th), (uint64_t)i + 7);
	fill(from, sizeof(from), (uint64_t)(i % 1000) + 11);
	fill(to, sizeof(to), (uint64_t)(i % 777) + 13);
	/* value: i * 10^18 + i, a realistic 18-decimal token amount */
	rw_u256 v = rw_u256_from_u64((uint64_t)i), e18 = rw_u256_from_u64(1000000000000000000ull);
	rw_u256 add = rw_u256_from_u64((uint64_t)i);
	if (rw_u256_mul(&v, &v, &e18) < 0 || rw_u256_add(&v, &v, &add) < 0)
		return RW_ERANGE;
	int rc = rw_pg_copy_row(b, 8);
	rc = rc ? rc : rw_pg_copy_int8(b, 1);
	rc = rc ? rc : rw_pg_copy_int8(b, 18000000 + i / 50);
	rc = rc ? rc : rw_pg_copy_bytea(b, bh, sizeof(bh));
	rc = rc ? rc : rw_pg_copy_bytea(b, th, sizeof(th));
	rc = rc ? rc : rw_pg_copy_int4(b, (int32_t)(i % 50));
	rc = rc ? rc : rw_pg_copy_bytea(b, from, sizeof(from));
	rc = rc ? rc : rw_pg_copy_bytea(b, to, sizeof(to));
	rc = rc ? rc : rw_pg_copy_numeric_u256(b, &v);
	return rc;
}

static int produce(struct rw_buf *out, void *arg)
{
	struct gen *g = arg;
	for (int k = 0; k < 512 && g->next < g->total; k++, g->next++) {
		int rc = put_row(out, g->next);
		if (rc < 0)
			return rc;
	}
	return g->next < g->total;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct run {
	int done;
	int failed;
	double end;
	char rows[32];
};

static void on_reply(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct run *r = arg;
	r->end = now();
	r->done = 1;
	if (reply->error) {
		fprintf(stderr, "bench_copy: COPY failed: %s\n", reply->error->message);
		r->failed = 1;
	} else {
		snprintf(r->rows, sizeof(r->rows), "%s", PQcmdTuples(reply->results[0]));
	}
	rw_pg_close(pg, NULL, NULL);
}

static int connected_flag;

static void on_event(struct rw_pg *pg, enum rw_pg_event ev, const struct rw_pg_error *err,
		     void *arg)
{
	(void)pg;
	(void)arg;
	if (ev == RW_PG_EV_CONNECTED)
		connected_flag = 1;
	if (ev == RW_PG_EV_CONNECT_FAILED)
		fprintf(stderr, "bench_copy: %s\n", err->message);
}

static int bench_copy(const char *url, long rows, size_t chunk)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rw_pg *pg;
	char msg[256];
	struct rw_pg_config cfg = {
		.conninfo = url, .copy_chunk = chunk, .on_event = on_event, .fail_when_down = 1
	};
	if (rw_pg_open(&pg, &loop, &cfg, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "bench_copy: %s\n", msg);
		return 1;
	}
	while (!connected_flag)
		if (uv_run(&loop, UV_RUN_ONCE) == 0)
			break;
	struct gen g = { 0, rows };
	struct run r = { 0 };
	double start = now();
	if (rw_pg_copy_binary(pg, COPY_SQL, produce, &g, on_reply, &r) < 0)
		return 1;
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0 || r.failed || !r.done)
		return 1;
	double s = r.end - start;
	printf("rows=%s seconds=%.3f rows_per_s=%.0f\n", r.rows, s, (double)rows / s);
	return 0;
}

static int write_file(const char *path, long rows)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "bench_copy: %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct rw_buf b;
	rw_buf_init(&b, (size_t)64 << 20);
	int rc = rw_pg_copy_header(&b);
	struct gen g = { 0, rows };
	int more = 1;
	while (rc == 0 && more) {
		more = produce(&b, &g);
		if (more < 0)
			rc = more;
		if (rc == 0 && !more)
			rc = rw_pg_copy_trailer(&b);
		if (rc == 0 && fwrite(b.p, 1, b.len, f) != b.len)
			rc = RW_EIO;
		b.len = 0;
	}
	rw_buf_free(&b);
	if (fclose(f) != 0 || rc < 0) {
		fprintf(stderr, "bench_copy: cannot write %s: %s\n", path, rw_strerror(rc));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 5 ||
	    (strcmp(argv[1], "copy") != 0 && strcmp(argv[1], "file") != 0)) {
		fprintf(stderr,
			"usage: bench_copy copy URL ROWS [CHUNK] | bench_copy file PATH ROWS\n");
		return 2;
	}
	long rows = strtol(argv[3], NULL, 10);
	if (rows <= 0)
		return 2;
	if (strcmp(argv[1], "copy") == 0)
		return bench_copy(argv[2], rows, argc == 5 ? strtoul(argv[4], NULL, 10) : 0);
	return write_file(argv[2], rows);
}
