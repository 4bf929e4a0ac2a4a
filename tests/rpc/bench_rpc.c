/* bench_rpc.c: the JSON-RPC half of tools/bench-io. Measures rw_rpc
 * against one endpoint (anvil) on one libuv loop, in three phases, each
 * followed by a ceiling measured in the same run without the client:
 *
 *   sequential  eth_blockNumber, one call in flight. Ceiling: as many
 *               POSTs of the same body with curl's easy interface on one
 *               reused connection.
 *   concurrent  eth_blockNumber, C calls in flight (the endpoint's
 *               max_concurrency is C, no rps cap). Ceiling: as many POSTs
 *               through a bare curl multi handle (curl_multi_poll, no
 *               libuv), C easy handles, each re-added when it finishes.
 *   batched     JSON arrays of B eth_getBlockByNumber(n, false), blocks
 *               0..B-1 (wrapped to the chain's length), one batch in
 *               flight. Ceiling: the same array POSTed with the easy
 *               interface on one reused connection.
 *
 * The ceilings send the client's headers and curl options (JSON content
 * type, Accept-Encoding) and skip what the client adds: building and
 * parsing JSON, endpoint choice, the libuv glue. The ratio client/ceiling
 * is therefore the client's overhead relative to the node.
 *
 * In each phase the client and its ceiling, after an untimed warm-up of
 * a tenth of the count each (at least one), run in turn R times on the
 * same connections (so that both see the same moments of a busy
 * machine); the shortest run of each counts. Times are CLOCK_MONOTONIC from the first send to the last
 * answer. The batched phase also times json_loadb alone over the last
 * ceiling response, as many times, to show how much of the gap is JSON
 * parsing.
 *
 * Every answer is checked (client: class OK, a non-null result, one HTTP
 * request each; ceiling: HTTP 200, one "result" per call, no "error", no
 * null result); one bad answer makes the exit status 1. Figures are
 * printed, never compared with a target.
 *
 * When the chain has fewer than B blocks, anvil_mine is asked for the
 * rest (ignored when the node does not know it).
 *
 * Usage: bench_rpc URL [--sequential N] [--concurrent N] [--inflight C]
 *                      [--batches N] [--batch-size B] [--runs R]
 *   defaults 2000, 20000, 32, 200, 100, 3; a count of 0 skips its phase.
 * Exit status: 0, 1 (a failed call or setup), 2 (usage). */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "rpc.h"

#define BODY_MAX     ((size_t)64 << 20) /* ceiling responses */
#define TIMEOUT_MS   30000
#define INFLIGHT_MAX 1024
#define COUNT_MAX    ((size_t)100000000) /* calls per phase */

static const char block_number_body[] =
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\",\"params\":[]}";

struct opts {
	const char *url;
	size_t sequential;
	size_t concurrent;
	size_t inflight;
	size_t batches;
	size_t batch_size;
	size_t runs;
};

/* One run of the client (client_run): total requests, each one
 * eth_blockNumber (batch == 0) or a batch of batch blocks. */
struct run {
	struct rw_rpc *rpc;
	uint64_t span; /* blocks 0..span-1 exist */
	size_t total;
	size_t batch;
	struct rw_rpc_req *reqs; /* batch slots, or NULL */
	size_t sent;
	size_t done;
	size_t bad;    /* requests with an item that failed */
	int stop;      /* a send failed: send no more */
	double end;    /* when the last answer came */
	char why[256]; /* the first failure */
};

/* Returns CLOCK_MONOTONIC in seconds. */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses a count into *ret. Returns 0, or -1 when s is not a whole number
 * in [0, max]. */
static int parse_count(size_t *ret, const char *s, size_t max)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end != '\0' || v > max)
		return -1;
	*ret = (size_t)v;
	return 0;
}

/* Records the first failure of r. */
static void run_fail(struct run *r, const char *what, const char *detail)
{
	if (r->why[0] == '\0')
		snprintf(r->why, sizeof(r->why), "%s%s%s", what, detail ? ": " : "",
			 detail ? detail : "");
}

static void on_answer(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata);

/* Queues r's next request. Returns 0, or -1 (r->why says why; nothing was
 * queued). */
static int send_next(struct run *r)
{
	int rc;
	if (r->batch == 0) {
		rc = rw_rpc_call(r->rpc, "eth_blockNumber", NULL, on_answer, r);
	} else {
		for (size_t j = 0; j < r->batch; j++) {
			char hex[24];
			snprintf(hex, sizeof(hex), "0x%" PRIx64, (uint64_t)j % r->span);
			r->reqs[j].method = "eth_getBlockByNumber";
			r->reqs[j].params = json_pack("[sb]", hex, 0);
			if (!r->reqs[j].params) {
				for (size_t k = 0; k < j; k++)
					json_decref(r->reqs[k].params);
				run_fail(r, "send", "out of memory");
				return -1;
			}
		}
		rc = rw_rpc_send(r->rpc, NULL, r->reqs, r->batch, on_answer, r);
	}
	if (rc < 0) {
		run_fail(r, "send", rw_strerror(rc));
		return -1;
	}
	r->sent++;
	return 0;
}

/* rw_rpc_cb: checks one answer, sends the next request while any are
 * left. */
static void on_answer(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata)
{
	(void)rpc;
	struct run *r = udata;
	int ok = 1;
	for (size_t i = 0; i < n; i++) {
		if (res[i].cls != RW_RPC_OK) {
			run_fail(r, rw_rpc_class_name(res[i].cls), res[i].message);
			ok = 0;
		} else if (!res[i].result || json_is_null(res[i].result)) {
			run_fail(r, "null result", NULL);
			ok = 0;
		} else if (res[i].attempts != 1) {
			run_fail(r, "answered after a retry", NULL);
			ok = 0;
		}
	}
	r->bad += !ok;
	r->done++;
	if (r->done == r->total)
		r->end = now();
	else if (!r->stop && r->sent < r->total && send_next(r) < 0)
		r->stop = 1;
}

/* Runs total requests with inflight in flight, batch blocks each (0: one
 * eth_blockNumber). Returns 0 with *ret_s the seconds taken, or -1 with a
 * message on stderr. */
static int client_run(double *ret_s, uv_loop_t *loop, struct rw_rpc *rpc, uint64_t span,
		      size_t total, size_t inflight, size_t batch)
{
	struct run r = { .rpc = rpc, .span = span, .total = total, .batch = batch };
	if (batch) {
		r.reqs = calloc(batch, sizeof(*r.reqs));
		if (!r.reqs) {
			fprintf(stderr, "bench_rpc: out of memory\n");
			return -1;
		}
	}
	double start = now();
	while (r.sent < inflight && r.sent < total && !r.stop)
		if (send_next(&r) < 0)
			r.stop = 1;
	while (r.done < r.sent) {
		if (uv_run(loop, UV_RUN_ONCE) == 0 && r.done < r.sent) {
			run_fail(&r, "the loop ran dry", NULL);
			break;
		}
	}
	free(r.reqs);
	if (r.done != total || r.bad) {
		fprintf(stderr, "bench_rpc: %zu of %zu requests failed or were not sent: %s\n",
			total - (r.done - r.bad), total, r.why[0] ? r.why : "?");
		return -1;
	}
	*ret_s = r.end - start;
	return 0;
}

/* Returns the warm-up count for a run of total. */
static size_t warm_count(size_t total)
{
	return total / 10 ? total / 10 : 1;
}

/* Keeps in *best the shorter of *best and s (*best < 0: none yet). */
static void keep_best(double *best, double s)
{
	if (*best < 0 || s < *best)
		*best = s;
}

/* The result of one synchronous call, for setup. */
struct one {
	int done;
	enum rw_rpc_class cls;
	json_t *result; /* a reference, or NULL */
	char message[256];
};

static void on_one(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata)
{
	(void)rpc;
	(void)n;
	struct one *o = udata;
	o->done = 1;
	o->cls = res[0].cls;
	o->result = res[0].result ? json_incref(res[0].result) : NULL;
	snprintf(o->message, sizeof(o->message), "%s", res[0].message);
}

/* Calls method(params) and runs the loop until it is answered. Returns 0
 * with *ret a reference to the result (json_decref it), or -1 with a
 * message on stderr unless quiet.
 * In: params: stolen (NULL for []). */
static int call_sync(json_t **ret, uv_loop_t *loop, struct rw_rpc *rpc, const char *method,
		     json_t *params, int quiet)
{
	struct one o = { 0 };
	int rc = rw_rpc_call(rpc, method, params, on_one, &o);
	if (rc < 0) {
		fprintf(stderr, "bench_rpc: %s: %s\n", method, rw_strerror(rc));
		return -1;
	}
	while (!o.done)
		if (uv_run(loop, UV_RUN_ONCE) == 0 && !o.done)
			break;
	if (!o.done || o.cls != RW_RPC_OK || !o.result) {
		if (!quiet)
			fprintf(stderr, "bench_rpc: %s: %s %s\n", method,
				o.done ? rw_rpc_class_name(o.cls) : "no answer", o.message);
		json_decref(o.result);
		return -1;
	}
	*ret = o.result;
	return 0;
}

/* Reads the chain's head block number. Returns 0 or -1. */
static int head_block(uint64_t *ret, uv_loop_t *loop, struct rw_rpc *rpc)
{
	json_t *v;
	if (call_sync(&v, loop, rpc, "eth_blockNumber", NULL, 0) < 0)
		return -1;
	int rc = rw_rpc_get_quantity_u64(ret, v);
	json_decref(v);
	if (rc < 0) {
		fprintf(stderr, "bench_rpc: eth_blockNumber: not a quantity\n");
		return -1;
	}
	return 0;
}

/* Makes sure blocks 0..want-1 exist if the node lets us mine them.
 * Returns 0 with *ret_span the number of blocks there are (>= 1), or -1. */
static int prepare_chain(uint64_t *ret_span, uv_loop_t *loop, struct rw_rpc *rpc, size_t want)
{
	uint64_t head;
	if (head_block(&head, loop, rpc) < 0)
		return -1;
	if (head + 1 < want) {
		char hex[24];
		json_t *v;
		snprintf(hex, sizeof(hex), "0x%" PRIx64, (uint64_t)want - (head + 1));
		if (call_sync(&v, loop, rpc, "anvil_mine", json_pack("[s]", hex), 1) == 0)
			json_decref(v);
		if (head_block(&head, loop, rpc) < 0)
			return -1;
	}
	*ret_span = head + 1;
	return 0;
}

static void on_closed(void *udata)
{
	*(int *)udata = 1;
}

/* Closes rpc and loop. Returns 0, or -1 when something was left. */
static int client_close(uv_loop_t *loop, struct rw_rpc *rpc)
{
	int closed = 0;
	if (rw_rpc_close(rpc, on_closed, &closed) != 0)
		return -1;
	uv_run(loop, UV_RUN_DEFAULT);
	int rc = uv_loop_close(loop);
	if (!closed || rc != 0) {
		fprintf(stderr, "bench_rpc: the client did not close cleanly\n");
		return -1;
	}
	return 0;
}

/* CURLOPT_WRITEFUNCTION: appends to a struct rw_buf (0, an error, when
 * it would pass its ceiling). */
static size_t on_body(char *p, size_t size, size_t n, void *udata)
{
	return rw_buf_append(udata, p, size * n) < 0 ? 0 : size * n;
}

/* Sets e up to POST body to url, the response going to sink, with the
 * options rw_rpc uses that matter on plain HTTP. Returns 0 or -1. */
static int easy_setup(CURL *e, const char *url, const char *body, struct curl_slist *headers,
		      struct rw_buf *sink)
{
	int bad = 0;
	bad |= curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body)) !=
	       CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, body) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)sink) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)sink) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
	return bad ? -1 : 0;
}

/* Counts the occurrences of s (NUL-terminated) in p[0..n). */
static size_t count_in(const uint8_t *p, size_t n, const char *s)
{
	size_t c = 0, m = strlen(s);
	const uint8_t *end = p + n;
	while (p && p < end) {
		const uint8_t *hit = memmem(p, (size_t)(end - p), s, m);
		if (!hit)
			break;
		c++;
		p = hit + m;
	}
	return c;
}

/* Checks one ceiling answer of items calls. Returns 0, or -1 with a
 * message on stderr. */
static int check_raw(CURL *e, CURLcode res, const struct rw_buf *b, size_t items)
{
	long status = 0;
	if (res != CURLE_OK) {
		fprintf(stderr, "bench_rpc: ceiling POST: %s\n", curl_easy_strerror(res));
		return -1;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200 || count_in(b->p, b->len, "\"result\"") != items ||
	    count_in(b->p, b->len, "\"error\"") != 0 ||
	    count_in(b->p, b->len, "\"result\":null") != 0) {
		int shown = b->len < 200 ? (int)b->len : 200;
		fprintf(stderr, "bench_rpc: ceiling POST: HTTP %ld, not %zu results: %.*s\n",
			status, items, shown, shown ? (const char *)b->p : "");
		return -1;
	}
	return 0;
}

/* The ceiling: bare curl, no client, n easy handles POSTing one body of
 * items calls. With m NULL (n == 1) the POSTs go one after another
 * through curl_easy_perform; else through the multi m, n at a time, each
 * handle re-added as it finishes. Connections stay open between runs. */
struct raw {
	CURLM *m;
	CURL **h;
	struct rw_buf *sinks; /* sinks[i]: handle i's last response */
	size_t n;
	size_t items;
};

/* Frees what r holds; r may be half open. */
static void raw_close(struct raw *r)
{
	for (size_t i = 0; r->h && r->sinks && i < r->n; i++) {
		if (r->m && r->h[i])
			curl_multi_remove_handle(r->m, r->h[i]);
		curl_easy_cleanup(r->h[i]);
		rw_buf_free(&r->sinks[i]);
	}
	curl_multi_cleanup(r->m);
	free(r->h);
	free(r->sinks);
	memset(r, 0, sizeof(*r));
}

/* Opens r: n handles POSTing body (items calls) to url, through a multi
 * when multi is nonzero. Returns 0, or -1 with a message on stderr (r
 * closed). */
static int raw_open(struct raw *r, const char *url, struct curl_slist *headers, const char *body,
		    size_t n, size_t items, int multi)
{
	memset(r, 0, sizeof(*r));
	r->n = n;
	r->items = items;
	r->h = calloc(n, sizeof(*r->h));
	r->sinks = calloc(n, sizeof(*r->sinks));
	int rc = r->h && r->sinks ? 0 : -1;
	if (rc == 0 && multi) {
		r->m = curl_multi_init();
		if (!r->m || curl_multi_setopt(r->m, CURLMOPT_MAXCONNECTS, (long)n) != CURLM_OK)
			rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rw_buf_init(&r->sinks[i], BODY_MAX);
		r->h[i] = curl_easy_init();
		if (!r->h[i] || easy_setup(r->h[i], url, body, headers, &r->sinks[i]) < 0)
			rc = -1;
	}
	if (rc < 0) {
		fprintf(stderr, "bench_rpc: cannot set up curl for the ceiling\n");
		raw_close(r);
	}
	return rc;
}

/* Sends count POSTs one after another with curl_easy_perform. Returns 0
 * with *ret_s the seconds taken, or -1. */
static int easy_run(double *ret_s, struct raw *r, size_t count)
{
	double start = now();
	for (size_t i = 0; i < count; i++) {
		r->sinks[0].len = 0;
		CURLcode res = curl_easy_perform(r->h[0]);
		if (check_raw(r->h[0], res, &r->sinks[0], r->items) < 0)
			return -1;
	}
	*ret_s = now() - start;
	return 0;
}

/* Sends count POSTs through r->m, r->n at a time. Returns 0 with *ret_s
 * the seconds taken, or -1. */
static int multi_run(double *ret_s, struct raw *r, size_t count)
{
	size_t started = 0, done = 0;
	int rc = 0;
	double start = now();
	for (size_t i = 0; rc == 0 && i < r->n && started < count; i++, started++) {
		r->sinks[i].len = 0;
		if (curl_multi_add_handle(r->m, r->h[i]) != CURLM_OK)
			rc = -1;
	}
	while (done < count && rc == 0) {
		int running, left, readded = 0;
		if (curl_multi_perform(r->m, &running) != CURLM_OK)
			rc = -1;
		CURLMsg *msg;
		while (rc == 0 && (msg = curl_multi_info_read(r->m, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			CURL *e = msg->easy_handle;
			CURLcode res = msg->data.result;
			char *priv = NULL;
			curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
			struct rw_buf *sink = (struct rw_buf *)(void *)priv;
			if (check_raw(e, res, sink, r->items) < 0)
				rc = -1;
			done++;
			curl_multi_remove_handle(r->m, e);
			if (rc == 0 && started < count) {
				sink->len = 0;
				if (curl_multi_add_handle(r->m, e) != CURLM_OK)
					rc = -1;
				started++;
				readded = 1;
			}
		}
		if (rc == 0 && done < count && !readded &&
		    curl_multi_poll(r->m, NULL, 0, 1000, NULL) != CURLM_OK)
			rc = -1;
	}
	*ret_s = now() - start;
	for (size_t i = 0; i < r->n; i++)
		curl_multi_remove_handle(r->m, r->h[i]);
	return rc;
}

/* Sends count POSTs through r. Returns 0 with *ret_s, or -1. */
static int raw_run(double *ret_s, struct raw *r, size_t count)
{
	return r->m ? multi_run(ret_s, r, count) : easy_run(ret_s, r, count);
}

/* One phase: the client and the ceiling doing the same work. */
struct phase {
	uv_loop_t *loop;
	struct rw_rpc *rpc;
	uint64_t span;
	size_t count;    /* requests (HTTP requests for batches) per run */
	size_t inflight; /* client requests in flight */
	size_t batch;    /* 0: eth_blockNumber; else blocks per batch */
	struct raw raw;  /* open */
	double client_s; /* shortest client run */
	double raw_s;    /* shortest ceiling run */
};

/* Warms both up, then runs the client and the ceiling in turn runs
 * times, so that both see the same moments of the machine. Returns 0
 * with p->client_s and p->raw_s set, or -1. */
static int phase_run(struct phase *p, size_t runs)
{
	double s;
	size_t warm = warm_count(p->count);
	if (client_run(&s, p->loop, p->rpc, p->span, warm, p->inflight, p->batch) < 0 ||
	    raw_run(&s, &p->raw, warm) < 0)
		return -1;
	p->client_s = p->raw_s = -1;
	for (size_t i = 0; i < runs; i++) {
		if (client_run(&s, p->loop, p->rpc, p->span, p->count, p->inflight, p->batch) < 0)
			return -1;
		keep_best(&p->client_s, s);
		if (raw_run(&s, &p->raw, p->count) < 0)
			return -1;
		keep_best(&p->raw_s, s);
	}
	return 0;
}

/* Returns the batch body: batch eth_getBlockByNumber of blocks j % span,
 * ids 1..batch, as rw_rpc would send it; NULL when out of memory. Free
 * it with free(). */
static char *batch_body(size_t batch, uint64_t span)
{
	json_t *a = json_array();
	for (size_t j = 0; a && j < batch; j++) {
		char hex[24];
		snprintf(hex, sizeof(hex), "0x%" PRIx64, (uint64_t)j % span);
		if (json_array_append_new(a, json_pack("{s:s,s:I,s:s,s:[sb]}", "jsonrpc", "2.0",
						       "id", (json_int_t)(j + 1), "method",
						       "eth_getBlockByNumber", "params", hex, 0)) !=
		    0) {
			json_decref(a);
			return NULL;
		}
	}
	char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return s;
}

/* Parses body count times with json_loadb, runs times. Returns 0 with
 * *ret_s the shortest, or -1 when it does not parse. */
static int parse_bench(double *ret_s, const struct rw_buf *body, size_t count, size_t runs)
{
	double best = -1;
	for (size_t r = 0; r < runs; r++) {
		double start = now();
		for (size_t i = 0; i < count; i++) {
			json_error_t err;
			json_t *v = json_loadb((const char *)body->p, body->len, 0, &err);
			if (!v) {
				fprintf(stderr,
					"bench_rpc: the batch response does not parse: %s\n",
					err.text);
				return -1;
			}
			json_decref(v);
		}
		keep_best(&best, now() - start);
	}
	*ret_s = best;
	return 0;
}

/* Prints one phase's line and its ceiling's. */
static void report(const char *label, size_t calls, double s, double ceil_s, const char *detail)
{
	double rate = (double)calls / s, ceil_rate = (double)calls / ceil_s;
	printf("rpc %s: %zu calls in %.3f s = %.0f calls/s (ceiling %.0f/s, ratio %.2f)\n", label,
	       calls, s, rate, ceil_rate, rate / ceil_rate);
	printf("  ceiling: %s: %.3f s\n", detail, ceil_s);
	fflush(stdout);
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_rpc URL [--sequential N] [--concurrent N] [--inflight C]\n"
			"                     [--batches N] [--batch-size B] [--runs R]\n");
	return 2;
}

/* Parses argv into o. Returns 0 or -1. */
static int parse_args(struct opts *o, int argc, char **argv)
{
	*o = (struct opts){ .sequential = 2000,
			    .concurrent = 20000,
			    .inflight = 32,
			    .batches = 200,
			    .batch_size = 100,
			    .runs = 3 };
	if (argc < 2 || argv[1][0] == '-')
		return -1;
	o->url = argv[1];
	for (int i = 2; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc;
		if (strcmp(argv[i], "--sequential") == 0)
			rc = parse_count(&o->sequential, v, COUNT_MAX);
		else if (strcmp(argv[i], "--concurrent") == 0)
			rc = parse_count(&o->concurrent, v, COUNT_MAX);
		else if (strcmp(argv[i], "--inflight") == 0)
			rc = parse_count(&o->inflight, v, INFLIGHT_MAX);
		else if (strcmp(argv[i], "--batches") == 0)
			rc = parse_count(&o->batches, v, COUNT_MAX / RW_RPC_MAX_BATCH);
		else if (strcmp(argv[i], "--batch-size") == 0)
			rc = parse_count(&o->batch_size, v, RW_RPC_MAX_BATCH);
		else if (strcmp(argv[i], "--runs") == 0)
			rc = parse_count(&o->runs, v, 100);
		else
			rc = -1;
		if (rc < 0)
			return -1;
	}
	return o->inflight && o->batch_size && o->runs ? 0 : -1;
}

/* The sequential phase and its ceiling. Returns 0 or -1. */
static int phase_sequential(const struct opts *o, uv_loop_t *loop, struct rw_rpc *rpc,
			    uint64_t span, struct curl_slist *headers)
{
	char detail[160];
	struct phase p = {
		.loop = loop, .rpc = rpc, .span = span, .count = o->sequential, .inflight = 1
	};
	if (raw_open(&p.raw, o->url, headers, block_number_body, 1, 1, 0) < 0)
		return -1;
	int rc = phase_run(&p, o->runs);
	raw_close(&p.raw);
	if (rc < 0)
		return -1;
	snprintf(detail, sizeof(detail), "%zu POSTs, curl easy, one reused connection",
		 o->sequential);
	report("sequential", o->sequential, p.client_s, p.raw_s, detail);
	return 0;
}

/* The concurrent phase and its ceiling. Returns 0 or -1. */
static int phase_concurrent(const struct opts *o, uv_loop_t *loop, struct rw_rpc *rpc,
			    uint64_t span, struct curl_slist *headers)
{
	char label[64], detail[160];
	struct phase p = { .loop = loop,
			   .rpc = rpc,
			   .span = span,
			   .count = o->concurrent,
			   .inflight = o->inflight };
	if (raw_open(&p.raw, o->url, headers, block_number_body, o->inflight, 1, 1) < 0)
		return -1;
	int rc = phase_run(&p, o->runs);
	raw_close(&p.raw);
	if (rc < 0)
		return -1;
	snprintf(label, sizeof(label), "concurrent (%zu in flight)", o->inflight);
	snprintf(detail, sizeof(detail), "%zu POSTs, bare curl multi, %zu in flight", o->concurrent,
		 o->inflight);
	report(label, o->concurrent, p.client_s, p.raw_s, detail);
	return 0;
}

/* The batched phase, its ceiling, and the time json_loadb alone takes
 * over the ceiling's last response, as many times. Returns 0 or -1. */
static int phase_batched(const struct opts *o, uv_loop_t *loop, struct rw_rpc *rpc, uint64_t span,
			 struct curl_slist *headers)
{
	double parse_s = -1;
	char label[96], detail[160];
	struct phase p = { .loop = loop,
			   .rpc = rpc,
			   .span = span,
			   .count = o->batches,
			   .inflight = 1,
			   .batch = o->batch_size };
	char *body = batch_body(o->batch_size, span);
	if (!body) {
		fprintf(stderr, "bench_rpc: out of memory\n");
		return -1;
	}
	int rc = raw_open(&p.raw, o->url, headers, body, 1, o->batch_size, 0);
	if (rc == 0) {
		rc = phase_run(&p, o->runs);
		if (rc == 0)
			rc = parse_bench(&parse_s, &p.raw.sinks[0], o->batches, o->runs);
		if (rc == 0) {
			uint64_t top = (o->batch_size < span ? (uint64_t)o->batch_size : span) - 1;
			size_t calls = o->batches * o->batch_size;
			snprintf(label, sizeof(label),
				 "batched (%zu batches of %zu, blocks 0..%" PRIu64 ")", o->batches,
				 o->batch_size, top);
			snprintf(detail, sizeof(detail),
				 "%zu batch POSTs, curl easy, one reused connection", o->batches);
			report(label, calls, p.client_s, p.raw_s, detail);
			printf("  json_loadb alone: %zu x %zu bytes in %.3f s; ceiling + parse = "
			       "%.0f calls/s\n",
			       o->batches, p.raw.sinks[0].len, parse_s,
			       (double)calls / (p.raw_s + parse_s));
		}
		raw_close(&p.raw);
	}
	free(body);
	return rc;
}

/* Runs the phases whose counts are not 0. Returns 0 or -1. */
static int bench(const struct opts *o, uv_loop_t *loop, struct rw_rpc *rpc,
		 struct curl_slist *headers)
{
	uint64_t span;
	if (prepare_chain(&span, loop, rpc, o->batches ? o->batch_size : 1) < 0)
		return -1;
	printf("rpc: %s, libcurl %s, best of %zu runs, each after an untimed warm-up of a "
	       "tenth of its count\n",
	       o->url, curl_version_info(CURLVERSION_NOW)->version, o->runs);
	if (o->sequential && phase_sequential(o, loop, rpc, span, headers) < 0)
		return -1;
	if (o->concurrent && phase_concurrent(o, loop, rpc, span, headers) < 0)
		return -1;
	if (o->batches && phase_batched(o, loop, rpc, span, headers) < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse_args(&o, argc, argv) < 0)
		return usage();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	struct curl_slist *headers = NULL;
	const char *lines[] = { "Content-Type: application/json", "Accept: application/json",
				"Expect:" };
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct curl_slist *l = curl_slist_append(headers, lines[i]);
		if (!l) {
			curl_slist_free_all(headers);
			return 1;
		}
		headers = l;
	}

	uv_loop_t loop;
	struct rw_rpc *rpc;
	struct rw_rpc_opts ro = { .max_attempts = 1 };
	struct rw_rpc_endpoint_opts eo = { .url = o.url,
					   .max_concurrency = (unsigned)o.inflight,
					   .timeout_ms = TIMEOUT_MS };
	int rc = 1;
	if (uv_loop_init(&loop) != 0) {
		curl_slist_free_all(headers);
		return 1;
	}
	if (rw_rpc_new(&rpc, &loop, &ro) < 0) {
		fprintf(stderr, "bench_rpc: rw_rpc_new failed\n");
		uv_loop_close(&loop);
	} else {
		int ep = rw_rpc_add_endpoint(rpc, &eo);
		if (ep < 0)
			fprintf(stderr, "bench_rpc: %s: %s\n", o.url, rw_strerror(ep));
		else if (bench(&o, &loop, rpc, headers) == 0)
			rc = 0;
		if (client_close(&loop, rpc) < 0)
			rc = 1;
	}
	curl_slist_free_all(headers);
	curl_global_cleanup();
	return rc;
}
