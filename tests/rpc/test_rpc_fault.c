/* test_rpc_fault.c: the JSON-RPC client against tests/rpc/faultserver.mjs:
 * batching, concurrency and rate caps, keep-alive, failover, backoff,
 * timeouts, truncated and oversized bodies, wrong ids, gzip, error
 * classification end to end, cancellation and clean shutdown.
 *
 * Usage: test_rpc_fault NODE FAULTSERVER.mjs
 * Every test closes its client and checks uv_loop_close() == 0. Timing is
 * never asserted; only counts and order. */
#include "../unit/testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "rpc.h"
#include "rpctest.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static char *node_path, *server_path;
static pid_t server_pid = -1, tls_pid = -1;
static char base[64];
static char tls_base[64]; /* "" when openssl could not make a certificate */
static char tls_dir[64], tls_cert[128], tls_key[128];

struct fx {
	uv_loop_t loop;
	struct rw_rpc *rpc;
};

/* Fast backoff so that retries do not slow the suite. */
static const struct rw_rpc_opts fast = { .backoff_base_ms = 5, .backoff_cap_ms = 50 };

static void fx_init(struct fx *f, const struct rw_rpc_opts *o)
{
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(rw_rpc_new(&f->rpc, &f->loop, o ? o : &fast), 0);
}

static int add_ep(struct fx *f, const char *path, unsigned conc, double rps, uint64_t timeout)
{
	char url[512];
	snprintf(url, sizeof(url), "%s%s", base, path);
	struct rw_rpc_endpoint_opts e = {
		.url = url, .max_concurrency = conc, .max_rps = rps, .timeout_ms = timeout
	};
	int i = rw_rpc_add_endpoint(f->rpc, &e);
	assert_true(i >= 0);
	return i;
}

static void fx_done(struct fx *f)
{
	assert_int_equal(rt_close_all(&f->loop, f->rpc), 0);
}

static void call(struct fx *f, const char *method, json_t *params, struct rt_got *g)
{
	memset(g, 0, sizeof(*g));
	assert_int_equal(rw_rpc_call(f->rpc, method, params, rt_collect, g), 0);
}

/* One call, run to completion. */
static void call_run(struct fx *f, const char *method, json_t *params, struct rt_got *g)
{
	call(f, method, params, g);
	assert_int_equal(rt_run_until(&f->loop, g, 1), 0);
	assert_int_equal(g->calls, 1);
	assert_int_equal(g->n, 1);
}

/* Asks a server for its counters under key (a separate client on a
 * separate loop). Returns the "hits", "maxActive", "conns" or "h2" field. */
static long long count_at(const char *server, const char *ca, const char *key, const char *field)
{
	struct fx f;
	struct rt_got g;
	char url[128];
	fx_init(&f, NULL);
	snprintf(url, sizeof(url), "%s/ok?key=_count", server);
	struct rw_rpc_endpoint_opts e = { .url = url, .ca_file = ca };
	assert_int_equal(rw_rpc_add_endpoint(f.rpc, &e), 0);
	call_run(&f, "count", json_pack("[s]", key), &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	json_t *v = json_object_get(g.items[0].result, field);
	assert_true(json_is_integer(v));
	long long n = json_integer_value(v);
	rt_got_free(&g);
	fx_done(&f);
	return n;
}

static long long server_count(const char *key, const char *field)
{
	return count_at(base, NULL, key, field);
}

static void assert_msg_has(const struct rt_item *it, const char *part)
{
	if (!strstr(it->message, part))
		fail_msg("message \"%s\" lacks \"%s\"", it->message, part);
}

/* ---- the happy paths ---- */

static void ok_single(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	fx_init(&f, NULL);
	add_ep(&f, "/ok", 0, 0, 0);
	call_run(&f, "echo", json_pack("[i, s]", 1, "a"), &g);
	struct rt_item *it = &g.items[0];
	assert_int_equal(it->cls, RW_RPC_OK);
	assert_int_equal(it->attempts, 1);
	assert_int_equal(it->http_status, 200);
	assert_string_equal(it->message, "");
	assert_true(strstr(it->endpoint, "/ok") != NULL);
	json_t *want = json_pack("[i, s]", 1, "a");
	assert_true(json_equal(it->result, want));
	json_decref(want);
	rt_got_free(&g);
	/* params NULL is sent as []. */
	call_run(&f, "echo", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	assert_int_equal(json_array_size(g.items[0].result), 0);
	assert_true(json_is_array(g.items[0].result));
	rt_got_free(&g);
	assert_int_equal(rw_rpc_pending(f.rpc), 0);
	fx_done(&f);
}

static void batch_100(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g = { 0 };
	struct rw_rpc_req reqs[100];
	fx_init(&f, NULL);
	add_ep(&f, "/ok?key=batch100", 0, 0, 0);
	for (int i = 0; i < 100; i++) {
		reqs[i].method = "echo";
		reqs[i].params = json_pack("[i]", i);
	}
	assert_int_equal(rw_rpc_batch(f.rpc, reqs, 100, rt_collect, &g), 0);
	assert_int_equal(rw_rpc_pending(f.rpc), 1);
	assert_int_equal(rt_run_until(&f.loop, &g, 1), 0);
	assert_int_equal(g.n, 100);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(g.items[i].cls, RW_RPC_OK);
		assert_int_equal(json_integer_value(json_array_get(g.items[i].result, 0)), i);
	}
	rt_got_free(&g);
	fx_done(&f);
	/* One HTTP request carried all 100 (the server answered in reverse). */
	assert_int_equal(server_count("batch100", "hits"), 1);
}

static void concurrency_cap(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g[12];
	fx_init(&f, NULL);
	add_ep(&f, "/slow?ms=30&key=conc", 3, 0, 0);
	for (int i = 0; i < 12; i++)
		call(&f, "echo", NULL, &g[i]);
	assert_int_equal(rw_rpc_pending(f.rpc), 12);
	assert_int_equal(rt_run_until(&f.loop, g, 12), 0);
	for (int i = 0; i < 12; i++) {
		assert_int_equal(g[i].items[0].cls, RW_RPC_OK);
		rt_got_free(&g[i]);
	}
	/* FIFO: callbacks ran in the order the calls were made. */
	for (int i = 1; i < 12; i++)
		assert_true(g[i].order > g[i - 1].order);
	fx_done(&f);
	assert_int_equal(server_count("conc", "hits"), 12);
	long long max = server_count("conc", "maxActive");
	assert_true(max >= 1 && max <= 3);
	/* Three connections at most, reused (keep-alive). */
	assert_true(server_count("conc", "conns") <= 3);
}

static void keepalive(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	fx_init(&f, NULL);
	add_ep(&f, "/ok?key=ka", 1, 0, 0);
	for (int i = 0; i < 10; i++) {
		call_run(&f, "echo", NULL, &g);
		assert_int_equal(g.items[0].cls, RW_RPC_OK);
		rt_got_free(&g);
	}
	fx_done(&f);
	assert_int_equal(server_count("ka", "hits"), 10);
	assert_int_equal(server_count("ka", "conns"), 1);
}

/* A cap of 5 requests per second lets 5 start at once, not 12. */
static void rps_cap(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g[12];
	fx_init(&f, NULL);
	add_ep(&f, "/ok", 100, 5, 0);
	for (int i = 0; i < 12; i++)
		call(&f, "echo", NULL, &g[i]);
	uv_run(&f.loop, UV_RUN_NOWAIT);
	struct rw_rpc_endpoint_stats st;
	assert_int_equal(rw_rpc_endpoint_stats(&st, f.rpc, 0), 0);
	assert_int_equal(st.requests, 5);
	assert_int_equal(rt_run_until(&f.loop, g, 12), 0);
	for (int i = 0; i < 12; i++) {
		assert_int_equal(g[i].items[0].cls, RW_RPC_OK);
		rt_got_free(&g[i]);
	}
	assert_int_equal(rw_rpc_endpoint_stats(&st, f.rpc, 0), 0);
	assert_int_equal(st.requests, 12);
	assert_true(st.rps_limit == 5.0);
	fx_done(&f);
}

/* ---- failover, retries, backoff ---- */

static void failover_dead(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	char dead[64];
	int port = rt_free_port();
	assert_true(port > 0);
	fx_init(&f, NULL);
	snprintf(dead, sizeof(dead), "http://127.0.0.1:%d/", port);
	struct rw_rpc_endpoint_opts e = { .url = dead };
	assert_int_equal(rw_rpc_add_endpoint(f.rpc, &e), 0);
	add_ep(&f, "/ok", 0, 0, 0);
	call_run(&f, "echo", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	assert_int_equal(g.items[0].attempts, 2);
	assert_true(strstr(g.items[0].endpoint, "/ok") != NULL);
	rt_got_free(&g);
	struct rw_rpc_endpoint_stats st;
	assert_int_equal(rw_rpc_endpoint_stats(&st, f.rpc, 0), 0);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.failures, 1);
	assert_true(st.error_rate > 0);
	/* The next calls avoid the dead endpoint. */
	for (int i = 0; i < 5; i++) {
		call_run(&f, "echo", NULL, &g);
		assert_int_equal(g.items[0].attempts, 1);
		rt_got_free(&g);
	}
	assert_int_equal(rw_rpc_endpoint_stats(&st, f.rpc, 0), 0);
	assert_int_equal(st.requests, 1);
	assert_int_equal(rw_rpc_endpoint_stats(&st, f.rpc, 2), RW_ENOTFOUND);
	fx_done(&f);
}

static void backoff_429(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	fx_init(&f, NULL);
	add_ep(&f, "/status?code=429&ra=0&n=2&key=r429", 0, 40, 0);
	call_run(&f, "echo", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	assert_int_equal(g.items[0].attempts, 3);
	rt_got_free(&g);
	struct rw_rpc_endpoint_stats st;
	assert_int_equal(rw_rpc_endpoint_stats(&st, f.rpc, 0), 0);
	assert_int_equal(st.rate_limited, 2);
	assert_int_equal(st.ok, 1);
	/* Halved twice (40 -> 10), then one slow step back up. */
	assert_true(st.rps_limit > 10.0 && st.rps_limit < 11.0);
	/* Successes raise it again, slowly, never past the cap. */
	for (int i = 0; i < 40; i++) {
		call_run(&f, "echo", NULL, &g);
		rt_got_free(&g);
	}
	double before = st.rps_limit;
	assert_int_equal(rw_rpc_endpoint_stats(&st, f.rpc, 0), 0);
	assert_true(st.rps_limit > before && st.rps_limit <= 40.0);
	fx_done(&f);
	assert_int_equal(server_count("r429", "hits"), 43);
}

/* After a 429 the healthy endpoint takes the traffic. */
static void failover_429(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	fx_init(&f, NULL);
	add_ep(&f, "/status?code=429&ra=0&key=f429", 0, 0, 0);
	add_ep(&f, "/ok?key=f429ok", 0, 0, 0);
	for (int i = 0; i < 20; i++) {
		call_run(&f, "echo", NULL, &g);
		assert_int_equal(g.items[0].cls, RW_RPC_OK);
		assert_int_equal(g.items[0].attempts, i == 0 ? 2 : 1);
		rt_got_free(&g);
	}
	fx_done(&f);
	assert_int_equal(server_count("f429", "hits"), 1);
	assert_int_equal(server_count("f429ok", "hits"), 20);
}

/* ---- faults, each in tree mode and in raw mode ----
 *
 * One table: a fault the server injects, the request, and what the
 * callback must see. Every case runs twice, with results as trees and as
 * raw text (RW_RPC_RAW_CHECKED): the classification, attempts and
 * messages must not depend on the mode. The server's counter key is the
 * case's name and the mode ("ceiling-raw"), so the runs do not see each
 * other's traffic. */

/* One request of a case: params as JSON text ({key}: the key), or NULL. */
struct fault_req {
	const char *method;
	const char *params;
};

/* One fault case (see above). */
struct fault {
	const char *name;
	const char *path;          /* the endpoint after base ({key}: the key); NULL: a dead port */
	const char *then;          /* a second endpoint after base, or NULL */
	uint64_t timeout_ms;       /* the endpoints' (0: the default) */
	double max_rps;            /* the first endpoint's (0: no cap) */
	struct rw_rpc_opts client; /* nonzero fields override `fast` */
	struct rw_rpc_send_opts send; /* raw is set by the mode */
	struct fault_req reqs[3];     /* up to the first without a method; a batch when 2+ */
	/* What every item shows; 0 and NULL fields are not checked. */
	enum rw_rpc_class cls;
	unsigned attempts;
	int http_status;
	long long code;
	const char *message;  /* exactly */
	const char *has[2];   /* parts of the message */
	const char *endpoint; /* a part of the endpoint's URL */
	long long hits;       /* HTTP requests the server counted under the key */
	/* More checks, before the client is closed; or NULL. */
	void (*check)(struct fx *f, const struct rt_got *g, const char *key, int raw);
};

/* Copies tmpl to out with every "{key}" replaced by key. */
static void with_key(char *out, size_t n, const char *tmpl, const char *key)
{
	size_t w = 0;
	for (const char *p = tmpl; *p; p++) {
		if (strncmp(p, "{key}", 5) == 0) {
			w += (size_t)snprintf(out + w, n - w, "%s", key);
			p += 4;
		} else if (w + 1 < n) {
			out[w++] = *p;
		}
		assert_true(w + 1 < n);
	}
	out[w] = '\0';
}

/* An RW_RPC_OK item's result as a tree: its own in tree mode; in raw mode
 * (where result is NULL) its text, parsed. Free with json_decref. */
static json_t *item_result(const struct rt_item *it, int raw)
{
	assert_int_equal(it->cls, RW_RPC_OK);
	if (!raw) {
		assert_non_null(it->result);
		assert_null(it->raw);
		return json_incref(it->result);
	}
	assert_null(it->result);
	assert_non_null(it->raw);
	json_error_t e;
	json_t *v = json_loadb(it->raw, it->raw_len, JSON_DECODE_ANY, &e);
	if (!v)
		fail_msg("raw result is not JSON: %s", e.text);
	return v;
}

/* Runs case c on a client of its own, in tree mode (raw 0) or raw mode
 * (raw 1), and checks what its callback saw, then what the server
 * counted. Fails the current test at the first difference. */
static void fault_run(const struct fault *c, int raw)
{
	struct fx f;
	struct rt_got g = { 0 };
	char key[64], path[400], params[128];
	struct rw_rpc_req reqs[3];
	size_t n = 0;
	snprintf(key, sizeof(key), "%s-%s", c->name, raw ? "raw" : "tree");
	struct rw_rpc_opts o = fast;
	if (c->client.max_attempts)
		o.max_attempts = c->client.max_attempts;
	if (c->client.max_response)
		o.max_response = c->client.max_response;
	if (c->client.backoff_base_ms)
		o.backoff_base_ms = c->client.backoff_base_ms;
	if (c->client.backoff_cap_ms)
		o.backoff_cap_ms = c->client.backoff_cap_ms;
	fx_init(&f, &o);
	if (c->path) {
		with_key(path, sizeof(path), c->path, key);
		add_ep(&f, path, 0, c->max_rps, c->timeout_ms);
	} else {
		char url[64];
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/", rt_free_port());
		struct rw_rpc_endpoint_opts e = { .url = url, .timeout_ms = c->timeout_ms };
		assert_int_equal(rw_rpc_add_endpoint(f.rpc, &e), 0);
	}
	if (c->then)
		add_ep(&f, c->then, 0, 0, c->timeout_ms);
	for (; n < NELEM(c->reqs) && c->reqs[n].method; n++) {
		reqs[n].method = c->reqs[n].method;
		reqs[n].params = NULL;
		if (c->reqs[n].params) {
			json_error_t e;
			with_key(params, sizeof(params), c->reqs[n].params, key);
			reqs[n].params = json_loads(params, 0, &e);
			assert_non_null(reqs[n].params);
		}
	}
	struct rw_rpc_send_opts so = c->send;
	so.raw = raw ? RW_RPC_RAW_CHECKED : RW_RPC_TREE;
	assert_int_equal(rw_rpc_send(f.rpc, &so, reqs, n, rt_collect, &g), 0);
	assert_int_equal(rt_run_until(&f.loop, &g, 1), 0);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.n, n);
	for (size_t i = 0; i < n; i++) {
		const struct rt_item *it = &g.items[i];
		if (it->cls != c->cls)
			fail_msg("%s item %zu: class %d, not %d (%s)", key, i, (int)it->cls,
				 (int)c->cls, it->message);
		if (c->cls == RW_RPC_OK) {
			json_decref(item_result(it, raw));
		} else {
			assert_null(it->result);
			assert_null(it->raw);
		}
		if (c->attempts)
			assert_int_equal(it->attempts, c->attempts);
		if (c->http_status)
			assert_int_equal(it->http_status, c->http_status);
		if (c->code)
			assert_int_equal(it->code, c->code);
		if (c->message)
			assert_string_equal(it->message, c->message);
		for (size_t k = 0; k < NELEM(c->has) && c->has[k]; k++)
			assert_msg_has(it, c->has[k]);
		if (c->endpoint)
			assert_non_null(strstr(it->endpoint, c->endpoint));
	}
	if (c->check)
		c->check(&f, &g, key, raw);
	rt_got_free(&g);
	fx_done(&f);
	if (c->hits)
		assert_int_equal(server_count(key, "hits"), c->hits);
}

/* Stats of the client's first endpoint. */
static struct rw_rpc_endpoint_stats ep_stats(struct fx *f)
{
	struct rw_rpc_endpoint_stats st;
	assert_int_equal(rw_rpc_endpoint_stats(&st, f->rpc, 0), 0);
	return st;
}

/* A retried item's first failure is counted, then its success. */
static void check_retry_500(struct fx *f, const struct rt_got *g, const char *key, int raw)
{
	struct rw_rpc_endpoint_stats st = ep_stats(f);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.ok, 1);
}

/* Refusals for rate make a limit where none was configured. */
static void check_rate_limited(struct fx *f, const struct rt_got *g, const char *key, int raw)
{
	struct rw_rpc_endpoint_stats st = ep_stats(f);
	assert_int_equal(st.rate_limited, 2);
	assert_true(st.rps_limit > 0);
}

/* Retry-After is honoured: the endpoint's backoff is at least that long. */
static void check_retry_after(struct fx *f, const struct rt_got *g, const char *key, int raw)
{
	struct rw_rpc_endpoint_stats st = ep_stats(f);
	assert_true(st.backoff_ms > 500 && st.backoff_ms <= 1000);
}

/* A dead port: no HTTP status at all. */
static void check_dead(struct fx *f, const struct rt_got *g, const char *key, int raw)
{
	assert_int_equal(g->items[0].http_status, 0);
}

/* Both timed-out attempts count as failures. */
static void check_timeouts(struct fx *f, const struct rt_got *g, const char *key, int raw)
{
	assert_int_equal(ep_stats(f).failures, 2);
}

/* The size the server announced for 4 MiB of "ab":
 * {"jsonrpc":"2.0","id":0,"result":"..."} is 4 MiB and 36 bytes. */
static void check_announced(struct fx *f, const struct rt_got *g, const char *key, int raw)
{
	assert_int_equal(g->items[0].body_size, (4 << 20) + 36);
}

/* The result: a string of 4 MiB. */
static void check_4mib(struct fx *f, const struct rt_got *g, const char *key, int raw)
{
	json_t *v = item_result(&g->items[0], raw);
	assert_int_equal(json_string_length(v), 4 << 20);
	if (raw)
		assert_int_equal(g->items[0].raw_len, (4 << 20) + 2);
	json_decref(v);
}

/* The request's ceiling was its own: the next request on the client, in
 * the same mode, has the client's (256 MiB) and passes. */
static void check_request_ceiling(struct fx *f, const struct rt_got *g, const char *key, int raw)
{
	check_announced(f, g, key, raw);
	struct rt_got g2 = { 0 };
	struct rw_rpc_send_opts so = { .raw = raw ? RW_RPC_RAW_CHECKED : RW_RPC_TREE };
	struct rw_rpc_req req = { "echo", NULL };
	assert_int_equal(rw_rpc_send(f->rpc, &so, &req, 1, rt_collect, &g2), 0);
	assert_int_equal(rt_run_until(&f->loop, &g2, 1), 0);
	check_4mib(f, &g2, key, raw);
	rt_got_free(&g2);
}

/* A chunked answer announces no size. */
static void check_unannounced(struct fx *f, const struct rt_got *g, const char *key, int raw)
{
	assert_int_equal(g->items[0].body_size, 0);
}

/* Log 59999 of 60000, with its fields readable. */
static void assert_logs(json_t *logs)
{
	assert_int_equal(json_array_size(logs), 60000);
	json_t *last = json_array_get(logs, 59999);
	uint64_t idx;
	assert_int_equal(rw_rpc_get_quantity_u64(&idx, json_object_get(last, "logIndex")), 0);
	assert_int_equal(idx, 59999);
	uint8_t h[32];
	assert_int_equal(rw_rpc_get_data32(h, json_object_get(last, "transactionHash")), 0);
}

/* The result: 60000 logs (assert_logs). */
static void check_logs(struct fx *f, const struct rt_got *g, const char *key, int raw)
{
	json_t *logs = item_result(&g->items[0], raw);
	assert_logs(logs);
	json_decref(logs);
}

/* Only the rate-limited item is sent again, in a second HTTP request
 * (another body), next to items answered by the first: every result is
 * valid when the callback runs. */
static void check_batch_retry(struct fx *f, const struct rt_got *g, const char *key, int raw)
{
	assert_int_equal(g->items[0].attempts, 1);
	assert_int_equal(g->items[1].attempts, 2);
	assert_int_equal(g->items[2].attempts, 1);
	json_t *logs = item_result(&g->items[0], raw);
	assert_logs(logs);
	json_decref(logs);
	json_t *v = item_result(&g->items[1], raw);
	assert_string_equal(json_string_value(v), "0x1");
	json_decref(v);
	v = item_result(&g->items[2], raw);
	assert_int_equal(json_integer_value(json_array_get(v, 0)), 2);
	json_decref(v);
	if (raw) {
		assert_string_equal(g->items[1].raw, "\"0x1\"");
		assert_string_equal(g->items[2].raw, "[2]");
	}
	struct rw_rpc_endpoint_stats st = ep_stats(f);
	assert_int_equal(st.requests, 2);
	assert_int_equal(st.rate_limited, 1);
	char flaky[80];
	snprintf(flaky, sizeof(flaky), "%s.flaky", key);
	assert_int_equal(server_count(flaky, "hits"), 2);
}

/* The echo came through the compressed body. */
static void check_gzip(struct fx *f, const struct rt_got *g, const char *key, int raw)
{
	json_t *v = item_result(&g->items[0], raw);
	assert_string_equal(json_string_value(json_array_get(v, 0)), "compressed");
	json_decref(v);
}

/* Raw mode says why the text broke (jscan's reason); tree mode only where. */
static void check_malformed(struct fx *f, const struct rt_got *g, const char *key, int raw)
{
	for (size_t i = 0; raw && i < g->n; i++)
		assert_msg_has(&g->items[i], "unexpected character");
}

/* "[0x10, 0x20]" in the message is the range that should work. */
static void check_range(struct fx *f, const struct rt_got *g, const char *key, int raw)
{
	const struct rt_item *it = &g->items[0];
	assert_int_equal(it->range.has_range, 1);
	assert_int_equal(it->range.from, 0x10);
	assert_int_equal(it->range.to, 0x20);
	assert_int_equal(it->range.max_span, 17);
}

/* "limited to a 10,000 range": the span that should work. */
static void check_range_10000(struct fx *f, const struct rt_got *g, const char *key, int raw)
{
	assert_int_equal(g->items[0].range.max_span, 10000);
}

/* The revert's Error(string) data, decoded. */
static void check_revert(struct fx *f, const struct rt_got *g, const char *key, int raw)
{
	assert_int_equal(g->items[0].revert_kind, RW_RPC_REVERT_ERROR);
	assert_string_equal(g->items[0].reason, "boom");
}

static const struct fault faults[] = {
	/* transport, status and rate faults */
	{ .name = "dead",
	  .path = NULL,
	  .reqs = { { "echo" } },
	  .cls = RW_RPC_TRANSPORT,
	  .attempts = 4,
	  .has = { "onnect" },
	  .check = check_dead },
	{ .name = "r500",
	  .path = "/status?code=500&n=1&key={key}",
	  .reqs = { { "echo" } },
	  .cls = RW_RPC_OK,
	  .attempts = 2,
	  .hits = 2,
	  .check = check_retry_500 },
	{ .name = "r503",
	  .path = "/status?code=503&key={key}&body=upstream%20down",
	  .client = { .max_attempts = 3 },
	  .reqs = { { "echo" } },
	  .cls = RW_RPC_TRANSPORT,
	  .attempts = 3,
	  .http_status = 503,
	  .message = "HTTP 503: upstream down",
	  .hits = 3 },
	{ .name = "r429f",
	  .path = "/status?code=429&key={key}&body=Too%20Many%20Requests",
	  .client = { .max_attempts = 2 },
	  .reqs = { { "echo" } },
	  .cls = RW_RPC_RATE_LIMITED,
	  .attempts = 2,
	  .http_status = 429,
	  .hits = 2,
	  .check = check_rate_limited },
	{ .name = "rra",
	  .path = "/status?code=429&ra=1&key={key}",
	  .send = { .max_attempts = 1 },
	  .reqs = { { "echo" } },
	  .cls = RW_RPC_RATE_LIMITED,
	  .attempts = 1,
	  .check = check_retry_after },
	{ .name = "rlj",
	  .path = "/rpcerror?code=-32005&key={key}&msg=daily%20request%20count%20exceeded,%20"
		  "request%20rate%20limited",
	  .max_rps = 1000,
	  .client = { .max_attempts = 3 },
	  .reqs = { { "eth_blockNumber", NULL } },
	  .cls = RW_RPC_RATE_LIMITED,
	  .attempts = 3,
	  .code = -32005,
	  .message = "daily request count exceeded, request rate limited" },
	/* timeouts and broken bodies */
	{ .name = "tmo",
	  .path = "/slow?ms=3000&key={key}",
	  .timeout_ms = 150,
	  .client = { .max_attempts = 2 },
	  .reqs = { { "echo" } },
	  .cls = RW_RPC_TIMEOUT,
	  .attempts = 2,
	  .has = { "imeout" },
	  .check = check_timeouts },
	{ .name = "tmo1",
	  .path = "/slow?ms=3000&key={key}",
	  .timeout_ms = 60000,
	  .send = { .timeout_ms = 100, .max_attempts = 1 },
	  .reqs = { { "echo" } },
	  .cls = RW_RPC_TIMEOUT,
	  .attempts = 1 },
	{ .name = "truncated",
	  .path = "/truncated?key={key}",
	  .client = { .max_attempts = 2 },
	  .reqs = { { "echo" } },
	  .cls = RW_RPC_TRANSPORT,
	  .attempts = 2,
	  .hits = 2 },
	{ .name = "closed",
	  .path = "/closed?key={key}",
	  .then = "/ok",
	  .client = { .max_attempts = 2 },
	  .reqs = { { "echo" } },
	  .cls = RW_RPC_OK,
	  .attempts = 2,
	  .endpoint = "/ok",
	  .hits = 1 },
	{ .name = "wrongid",
	  .path = "/wrongid?key={key}",
	  .client = { .max_attempts = 2 },
	  .reqs = { { "echo" } },
	  .cls = RW_RPC_BAD_RESPONSE,
	  .attempts = 2,
	  .has = { "id mismatch" },
	  .hits = 2 },
	/* A batch with shifted ids is refused as a whole. */
	{ .name = "wrongids",
	  .path = "/wrongid?key={key}",
	  .client = { .max_attempts = 2 },
	  .reqs = { { "echo" }, { "echo" } },
	  .cls = RW_RPC_BAD_RESPONSE,
	  .attempts = 2,
	  .has = { "batch answers an id never sent" },
	  .hits = 2 },
	{ .name = "garbage",
	  .path = "/garbage?key={key}",
	  .client = { .max_attempts = 1 },
	  .reqs = { { "echo" } },
	  .cls = RW_RPC_BAD_RESPONSE,
	  .attempts = 1,
	  .has = { "not JSON" },
	  .hits = 1 },
	/* Results that are not JSON: a bad response naming the endpoint and
	 * where the text broke (in raw mode also why), retried like any bad
	 * response. */
	{ .name = "badjson",
	  .path = "/badjson?key={key}",
	  .client = { .max_attempts = 2 },
	  .reqs = { { "eth_getLogs", NULL }, { "echo", "[1]" } },
	  .cls = RW_RPC_BAD_RESPONSE,
	  .attempts = 2,
	  .has = { "malformed response: not JSON (byte " },
	  .endpoint = "/badjson",
	  .hits = 2,
	  .check = check_malformed },
	/* Over a body ceiling (the client's or the request's): a transport
	 * failure that says the size the server announced, not retried. */
	{ .name = "ceiling",
	  .path = "/huge?mb=4&key={key}",
	  .client = { .max_response = 1 << 20 },
	  .reqs = { { "echo" } },
	  .cls = RW_RPC_TRANSPORT,
	  .attempts = 1,
	  .message = "response larger than 1048576 bytes",
	  .hits = 1,
	  .check = check_announced },
	{ .name = "ceiling1",
	  .path = "/huge?mb=4&key={key}",
	  .send = { .max_response = 1 << 20 },
	  .reqs = { { "echo" } },
	  .cls = RW_RPC_TRANSPORT,
	  .attempts = 1,
	  .message = "response larger than 1048576 bytes",
	  .hits = 2,
	  .check = check_request_ceiling },
	{ .name = "ceiling1c",
	  .path = "/huge?mb=4&chunked=1&key={key}",
	  .send = { .max_response = 1 << 20 },
	  .reqs = { { "echo" } },
	  .cls = RW_RPC_TRANSPORT,
	  .attempts = 1,
	  .message = "response larger than 1048576 bytes",
	  .check = check_unannounced },
	/* Just under the client's ceiling passes. */
	{ .name = "under",
	  .path = "/huge?mb=4&key={key}",
	  .client = { .max_response = (4 << 20) + 100 },
	  .reqs = { { "echo" } },
	  .cls = RW_RPC_OK,
	  .attempts = 1,
	  .check = check_4mib },
	/* big answers, compressed answers */
	{ .name = "logs",
	  .path = "/ok?key={key}",
	  .timeout_ms = 60000,
	  .reqs = { { "logs", "[60000]" } },
	  .cls = RW_RPC_OK,
	  .attempts = 1,
	  .check = check_logs },
	{ .name = "retry",
	  .path = "/ok?key={key}",
	  .timeout_ms = 60000,
	  .reqs = { { "logs", "[60000]" }, { "flaky", "[\"{key}.flaky\"]" }, { "echo", "[2]" } },
	  .cls = RW_RPC_OK,
	  .hits = 2,
	  .check = check_batch_retry },
	{ .name = "gzip",
	  .path = "/gzip?key={key}",
	  .reqs = { { "echo", "[\"compressed\"]" } },
	  .cls = RW_RPC_OK,
	  .attempts = 1,
	  .check = check_gzip },
	/* classification end to end: never retried */
	{ .name = "rng",
	  .path = "/rpcerror?code=-32602&key={key}&msg=Log%20response%20size%20exceeded.%20this%20"
		  "block%20range%20should%20work:%20%5B0x10,%200x20%5D",
	  .reqs = { { "eth_getLogs", NULL } },
	  .cls = RW_RPC_RANGE_TOO_LARGE,
	  .attempts = 1,
	  .code = -32602,
	  .hits = 1,
	  .check = check_range },
	/* QuickNode answers with HTTP 413 and a JSON-RPC error. */
	{ .name = "rng413",
	  .path = "/rpcerror?http=413&code=-32614&key={key}&msg=eth_getLogs%20is%20limited%20to%"
		  "20a%2010,000%20range",
	  .reqs = { { "eth_getLogs", NULL } },
	  .cls = RW_RPC_RANGE_TOO_LARGE,
	  .attempts = 1,
	  .http_status = 413,
	  .check = check_range_10000 },
	{ .name = "rev",
	  .path = "/rpcerror?code=3&key={key}&msg=execution%20reverted:%20boom&data=0x08c379a0"
		  "0000000000000000000000000000000000000000000000000000000000000020"
		  "0000000000000000000000000000000000000000000000000000000000000004"
		  "626f6f6d00000000000000000000000000000000000000000000000000000000",
	  .reqs = { { "eth_call", NULL } },
	  .cls = RW_RPC_REVERTED,
	  .attempts = 1,
	  .hits = 1,
	  .check = check_revert },
	/* A nonce error goes to the caller, not to the next endpoint. */
	{ .name = "nonce",
	  .path = "/rpcerror?code=-32000&key={key}&msg=nonce%20too%20low",
	  .then = "/ok",
	  .reqs = { { "eth_sendRawTransaction", NULL } },
	  .cls = RW_RPC_NONCE_TOO_LOW,
	  .attempts = 1,
	  .hits = 1 },
};

/* A case of faults[] in tree mode (state: the case). */
static void fault_tree(void **state)
{
	fault_run(*state, 0);
}

/* A case of faults[] in raw mode (state: the case). */
static void fault_raw(void **state)
{
	fault_run(*state, 1);
}

/* ---- closing ---- */

static void on_close_timer(uv_timer_t *t)
{
	struct rw_rpc *rpc = t->data;
	assert_int_equal(rw_rpc_close(rpc, NULL, NULL), 0);
	assert_int_equal(rw_rpc_close(rpc, NULL, NULL), RW_EINVAL);
	uv_close((uv_handle_t *)t, NULL);
}

static void cancel_on_close(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct rw_rpc *rpc;
	struct rt_got g[4];
	uv_timer_t t;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(rw_rpc_new(&rpc, &loop, &fast), 0);
	char url[128];
	snprintf(url, sizeof(url), "%s/slow?ms=5000", base);
	struct rw_rpc_endpoint_opts e = { .url = url, .max_concurrency = 2 };
	assert_int_equal(rw_rpc_add_endpoint(rpc, &e), 0);
	for (int i = 0; i < 4; i++) {
		memset(&g[i], 0, sizeof(g[i]));
		assert_int_equal(rw_rpc_call(rpc, "echo", NULL, rt_collect, &g[i]), 0);
	}
	uv_timer_init(&loop, &t);
	t.data = rpc;
	uv_timer_start(&t, on_close_timer, 100, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].items[0].cls, RW_RPC_CANCELLED);
		rt_got_free(&g[i]);
	}
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void close_in_callback(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g[3];
	fx_init(&f, NULL);
	add_ep(&f, "/ok", 1, 0, 0);
	for (int i = 0; i < 3; i++)
		call(&f, "echo", NULL, &g[i]);
	g[0].close_in_cb = f.rpc;
	uv_run(&f.loop, UV_RUN_DEFAULT);
	assert_int_equal(g[0].calls, 1);
	assert_int_equal(g[0].items[0].cls, RW_RPC_OK);
	for (int i = 1; i < 3; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].items[0].cls, RW_RPC_CANCELLED);
	}
	for (int i = 0; i < 3; i++)
		rt_got_free(&g[i]);
	assert_int_equal(uv_loop_close(&f.loop), 0);
}

/* Closing a client that never ran, and one with queued requests. */
static void close_unused(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, NULL);
	fx_done(&f);
	struct rt_got g;
	fx_init(&f, NULL);
	add_ep(&f, "/ok", 0, 0, 0);
	call(&f, "echo", NULL, &g);
	assert_int_equal(rt_close_all(&f.loop, f.rpc), 0);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.items[0].cls, RW_RPC_CANCELLED);
	rt_got_free(&g);
}

/* Closes the client once its only request has left the network but not
 * come back: its body is being parsed on the thread pool. */
static void on_check_parsing(uv_check_t *c)
{
	struct rw_rpc *rpc = c->data;
	struct rw_rpc_endpoint_stats st;
	assert_int_equal(rw_rpc_endpoint_stats(&st, rpc, 0), 0);
	if (st.requests == 1 && st.inflight == 0 && rw_rpc_pending(rpc) == 1) {
		assert_int_equal(rw_rpc_close(rpc, NULL, NULL), 0);
		uv_close((uv_handle_t *)c, NULL);
	}
}

static void close_while_parsing(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	uv_check_t check;
	fx_init(&f, NULL);
	add_ep(&f, "/ok", 0, 0, 60000);
	call(&f, "logs", json_pack("[i]", 40000), &g);
	uv_check_init(&f.loop, &check);
	check.data = f.rpc;
	uv_check_start(&check, on_check_parsing);
	uv_run(&f.loop, UV_RUN_DEFAULT);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.items[0].cls, RW_RPC_CANCELLED);
	rt_got_free(&g);
	assert_int_equal(uv_loop_close(&f.loop), 0);
}

static int never_called;

static void must_not_run(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata)
{
	(void)rpc;
	(void)res;
	(void)n;
	(void)udata;
	never_called++;
}

static void api_errors(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, NULL);
	/* No endpoint yet. */
	assert_int_equal(rw_rpc_call(f.rpc, "x", json_array(), must_not_run, NULL), RW_EINVAL);
	struct rw_rpc_endpoint_opts e = { .url = "ftp://example.com/" };
	assert_int_equal(rw_rpc_add_endpoint(f.rpc, &e), RW_EINVAL);
	e.url = NULL;
	assert_int_equal(rw_rpc_add_endpoint(f.rpc, &e), RW_EINVAL);
	e.url = "http://127.0.0.1:1/";
	e.max_rps = -1;
	assert_int_equal(rw_rpc_add_endpoint(f.rpc, &e), RW_EINVAL);
	add_ep(&f, "/ok", 0, 0, 0);
	assert_int_equal(rw_rpc_call(f.rpc, NULL, json_array(), must_not_run, NULL), RW_EINVAL);
	assert_int_equal(rw_rpc_call(f.rpc, "x", json_string("no"), must_not_run, NULL), RW_EINVAL);
	assert_int_equal(rw_rpc_call(f.rpc, "x", NULL, NULL, NULL), RW_EINVAL);
	assert_int_equal(rw_rpc_batch(f.rpc, NULL, 0, must_not_run, NULL), RW_EINVAL);
	struct rw_rpc_req *many = calloc(RW_RPC_MAX_BATCH + 1, sizeof(*many));
	assert_non_null(many);
	for (size_t i = 0; i <= RW_RPC_MAX_BATCH; i++) {
		many[i].method = "x";
		many[i].params = json_array();
	}
	assert_int_equal(rw_rpc_batch(f.rpc, many, RW_RPC_MAX_BATCH + 1, must_not_run, NULL),
			 RW_ETOOBIG);
	free(many);
	/* Object params (by name) are allowed. */
	struct rt_got g;
	call_run(&f, "echo", json_pack("{s:i}", "a", 1), &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	rt_got_free(&g);
	/* Thirty-two endpoints at most. */
	for (int i = 1; i < RW_RPC_MAX_ENDPOINTS; i++)
		add_ep(&f, "/ok", 0, 0, 0);
	e.url = "http://127.0.0.1:1/";
	e.max_rps = 0;
	assert_int_equal(rw_rpc_add_endpoint(f.rpc, &e), RW_ETOOBIG);
	fx_done(&f);
	assert_int_equal(never_called, 0);
}

static void after_close_errors(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct rw_rpc *rpc;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(rw_rpc_new(&rpc, &loop, NULL), 0);
	struct rw_rpc_endpoint_opts e = { .url = "http://127.0.0.1:1/" };
	assert_int_equal(rw_rpc_add_endpoint(rpc, &e), 0);
	assert_int_equal(rw_rpc_close(rpc, NULL, NULL), 0);
	/* Until the loop runs the client still exists but refuses work. */
	assert_int_equal(rw_rpc_call(rpc, "x", NULL, must_not_run, NULL), RW_EINVAL);
	assert_int_equal(rw_rpc_add_endpoint(rpc, &e), RW_EINVAL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(never_called, 0);
}

/* ---- HTTPS and HTTP/2 ---- */

static void add_tls_ep(struct fx *f, const char *path, unsigned conc, const char *ca)
{
	char url[512];
	snprintf(url, sizeof(url), "%s%s", tls_base, path);
	struct rw_rpc_endpoint_opts e = { .url = url, .max_concurrency = conc, .ca_file = ca };
	assert_true(rw_rpc_add_endpoint(f->rpc, &e) >= 0);
}

static void h2_single(void **state)
{
	(void)state;
	if (!tls_base[0])
		skip();
	struct fx f;
	struct rt_got g;
	fx_init(&f, NULL);
	add_tls_ep(&f, "/ok?key=h2a", 0, tls_cert);
	call_run(&f, "echo", json_pack("[s]", "over h2"), &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	assert_string_equal(json_string_value(json_array_get(g.items[0].result, 0)), "over h2");
	rt_got_free(&g);
	fx_done(&f);
	assert_int_equal(count_at(tls_base, tls_cert, "h2a", "h2"), 1);
}

/* Ten requests at once share one multiplexed HTTP/2 connection. */
static void h2_multiplex(void **state)
{
	(void)state;
	if (!tls_base[0])
		skip();
	struct fx f;
	struct rt_got g[10];
	fx_init(&f, NULL);
	add_tls_ep(&f, "/ok?key=h2m", 10, tls_cert);
	for (int i = 0; i < 10; i++)
		call(&f, "echo", NULL, &g[i]);
	assert_int_equal(rt_run_until(&f.loop, g, 10), 0);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(g[i].items[0].cls, RW_RPC_OK);
		rt_got_free(&g[i]);
	}
	fx_done(&f);
	assert_int_equal(count_at(tls_base, tls_cert, "h2m", "h2"), 10);
	assert_int_equal(count_at(tls_base, tls_cert, "h2m", "conns"), 1);
}

/* Certificates are verified: without the test CA the call fails. */
static void tls_verify(void **state)
{
	(void)state;
	if (!tls_base[0])
		skip();
	struct fx f;
	struct rt_got g;
	struct rw_rpc_opts o = fast;
	o.max_attempts = 1;
	fx_init(&f, &o);
	add_tls_ep(&f, "/ok?key=h2v", 0, NULL);
	call_run(&f, "echo", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_TRANSPORT);
	assert_msg_has(&g.items[0], "certificate");
	rt_got_free(&g);
	fx_done(&f);
	assert_int_equal(count_at(tls_base, tls_cert, "h2v", "hits"), 0);
}

/* ---- the servers ---- */

/* Makes a self-signed certificate for 127.0.0.1 with openssl. */
static int make_cert(void)
{
	snprintf(tls_dir, sizeof(tls_dir), "/tmp/rw-rpc-tls-XXXXXX");
	if (!mkdtemp(tls_dir))
		return -1;
	snprintf(tls_key, sizeof(tls_key), "%s/key.pem", tls_dir);
	snprintf(tls_cert, sizeof(tls_cert), "%s/cert.pem", tls_dir);
	char *argv[] = { "/usr/bin/openssl",
			 "req",
			 "-x509",
			 "-newkey",
			 "ec",
			 "-pkeyopt",
			 "ec_paramgen_curve:prime256v1",
			 "-nodes",
			 "-days",
			 "2",
			 "-subj",
			 "/CN=127.0.0.1",
			 "-addext",
			 "subjectAltName=IP:127.0.0.1",
			 "-keyout",
			 tls_key,
			 "-out",
			 tls_cert,
			 NULL };
	if (access(argv[0], X_OK) != 0)
		return -1;
	pid_t pid = rt_spawn(argv, NULL);
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	return access(tls_cert, R_OK);
}

static pid_t start_one(char *const argv[], char *ret_base, size_t n, const char *scheme)
{
	int out = -1;
	pid_t pid = rt_spawn(argv, &out);
	if (pid < 0)
		return -1;
	char line[32];
	int k = rt_read_line(out, line, sizeof(line), 20000);
	close(out);
	if (k <= 0) {
		fprintf(stderr, "faultserver did not report a port\n");
		rt_kill(pid);
		return -1;
	}
	snprintf(ret_base, n, "%s://127.0.0.1:%s", scheme, line);
	return pid;
}

static int start_server(void **state)
{
	(void)state;
	char *argv[] = { node_path, server_path, "0", NULL };
	server_pid = start_one(argv, base, sizeof(base), "http");
	if (server_pid < 0)
		return -1;
	if (make_cert() == 0) {
		char *targv[] = { node_path, server_path, "0", "--tls", tls_key, tls_cert, NULL };
		tls_pid = start_one(targv, tls_base, sizeof(tls_base), "https");
		if (tls_pid < 0)
			tls_base[0] = '\0';
	} else {
		fprintf(stderr, "no openssl certificate: HTTPS tests skipped\n");
	}
	return 0;
}

static int stop_server(void **state)
{
	(void)state;
	rt_kill(server_pid);
	rt_kill(tls_pid);
	if (tls_dir[0]) {
		unlink(tls_key);
		unlink(tls_cert);
		rmdir(tls_dir);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s NODE FAULTSERVER.mjs\n", argv[0]);
		return 2;
	}
	node_path = argv[1];
	server_path = argv[2];
	static const struct CMUnitTest others[] = {
		cmocka_unit_test(ok_single),       cmocka_unit_test(batch_100),
		cmocka_unit_test(concurrency_cap), cmocka_unit_test(keepalive),
		cmocka_unit_test(rps_cap),         cmocka_unit_test(failover_dead),
		cmocka_unit_test(backoff_429),     cmocka_unit_test(failover_429),
		cmocka_unit_test(cancel_on_close), cmocka_unit_test(close_in_callback),
		cmocka_unit_test(close_unused),    cmocka_unit_test(close_while_parsing),
		cmocka_unit_test(api_errors),      cmocka_unit_test(after_close_errors),
		cmocka_unit_test(h2_single),       cmocka_unit_test(h2_multiplex),
		cmocka_unit_test(tls_verify),
	};
	/* The others, then each fault in tree mode and in raw mode. */
	static struct CMUnitTest tests[NELEM(others) + 2 * NELEM(faults)];
	static char names[2 * NELEM(faults)][48];
	size_t n = 0;
	for (size_t i = 0; i < NELEM(others); i++)
		tests[n++] = others[i];
	for (size_t i = 0; i < 2 * NELEM(faults); i++) {
		const struct fault *c = &faults[i / 2];
		snprintf(names[i], sizeof(names[i]), "fault %s (%s)", c->name,
			 i % 2 ? "raw" : "tree");
		tests[n++] = (struct CMUnitTest){ .name = names[i],
						  .test_func = i % 2 ? fault_raw : fault_tree,
						  .initial_state = (void *)c };
	}
	return _cmocka_run_group_tests("test_rpc_fault", tests, n, start_server, stop_server);
}
