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

/* A batch whose item is rate-limited: only that item is sent again. */
static void batch_partial_retry(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g = { 0 };
	fx_init(&f, NULL);
	add_ep(&f, "/ok", 0, 0, 0);
	struct rw_rpc_req reqs[3] = { { "echo", json_pack("[i]", 0) },
				      { "flaky", json_pack("[s]", "flaky1") },
				      { "echo", json_pack("[i]", 2) } };
	assert_int_equal(rw_rpc_batch(f.rpc, reqs, 3, rt_collect, &g), 0);
	assert_int_equal(rt_run_until(&f.loop, &g, 1), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(g.items[i].cls, RW_RPC_OK);
	assert_int_equal(g.items[0].attempts, 1);
	assert_int_equal(g.items[1].attempts, 2);
	assert_int_equal(g.items[2].attempts, 1);
	assert_int_equal(json_integer_value(json_array_get(g.items[2].result, 0)), 2);
	struct rw_rpc_endpoint_stats st;
	assert_int_equal(rw_rpc_endpoint_stats(&st, f.rpc, 0), 0);
	assert_int_equal(st.requests, 2);
	assert_int_equal(st.rate_limited, 1);
	rt_got_free(&g);
	fx_done(&f);
	assert_int_equal(server_count("flaky1", "hits"), 2);
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

static void dead_only(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	char dead[64];
	fx_init(&f, NULL);
	snprintf(dead, sizeof(dead), "http://127.0.0.1:%d/", rt_free_port());
	struct rw_rpc_endpoint_opts e = { .url = dead };
	assert_int_equal(rw_rpc_add_endpoint(f.rpc, &e), 0);
	call_run(&f, "echo", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_TRANSPORT);
	assert_int_equal(g.items[0].attempts, 4);
	assert_int_equal(g.items[0].http_status, 0);
	assert_msg_has(&g.items[0], "onnect");
	rt_got_free(&g);
	fx_done(&f);
}

static void retry_500(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	fx_init(&f, NULL);
	add_ep(&f, "/status?code=500&n=1&key=r500", 0, 0, 0);
	call_run(&f, "echo", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	assert_int_equal(g.items[0].attempts, 2);
	rt_got_free(&g);
	struct rw_rpc_endpoint_stats st;
	assert_int_equal(rw_rpc_endpoint_stats(&st, f.rpc, 0), 0);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.ok, 1);
	fx_done(&f);
	assert_int_equal(server_count("r500", "hits"), 2);
}

static void status_500_forever(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	struct rw_rpc_opts o = fast;
	o.max_attempts = 3;
	fx_init(&f, &o);
	add_ep(&f, "/status?code=503&key=r503&body=upstream%20down", 0, 0, 0);
	call_run(&f, "echo", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_TRANSPORT);
	assert_int_equal(g.items[0].attempts, 3);
	assert_int_equal(g.items[0].http_status, 503);
	assert_string_equal(g.items[0].message, "HTTP 503: upstream down");
	rt_got_free(&g);
	fx_done(&f);
	assert_int_equal(server_count("r503", "hits"), 3);
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

static void rate_limited_forever(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	struct rw_rpc_opts o = fast;
	o.max_attempts = 2;
	fx_init(&f, &o);
	add_ep(&f, "/status?code=429&key=r429f&body=Too%20Many%20Requests", 0, 0, 0);
	call_run(&f, "echo", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_RATE_LIMITED);
	assert_int_equal(g.items[0].attempts, 2);
	assert_int_equal(g.items[0].http_status, 429);
	rt_got_free(&g);
	struct rw_rpc_endpoint_stats st;
	assert_int_equal(rw_rpc_endpoint_stats(&st, f.rpc, 0), 0);
	assert_int_equal(st.rate_limited, 2);
	assert_true(st.rps_limit > 0); /* a limit now exists where none was configured */
	fx_done(&f);
	assert_int_equal(server_count("r429f", "hits"), 2);
}

/* Retry-After is honoured: the endpoint's backoff is at least that long. */
static void retry_after(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	fx_init(&f, NULL);
	add_ep(&f, "/status?code=429&ra=1&key=rra", 0, 0, 0);
	struct rw_rpc_send_opts so = { .max_attempts = 1 };
	struct rw_rpc_req req = { "echo", NULL };
	memset(&g, 0, sizeof(g));
	assert_int_equal(rw_rpc_send(f.rpc, &so, &req, 1, rt_collect, &g), 0);
	assert_int_equal(rt_run_until(&f.loop, &g, 1), 0);
	assert_int_equal(g.items[0].cls, RW_RPC_RATE_LIMITED);
	assert_int_equal(g.items[0].attempts, 1);
	rt_got_free(&g);
	struct rw_rpc_endpoint_stats st;
	assert_int_equal(rw_rpc_endpoint_stats(&st, f.rpc, 0), 0);
	assert_true(st.backoff_ms > 500 && st.backoff_ms <= 1000);
	fx_done(&f);
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

static void rate_limit_json(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	struct rw_rpc_opts o = fast;
	o.max_attempts = 3;
	fx_init(&f, &o);
	add_ep(&f,
	       "/rpcerror?code=-32005&key=rlj&msg=daily%20request%20count%20exceeded,%20request%20"
	       "rate%20limited",
	       0, 1000, 0);
	call_run(&f, "eth_blockNumber", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_RATE_LIMITED);
	assert_int_equal(g.items[0].code, -32005);
	assert_int_equal(g.items[0].attempts, 3);
	assert_string_equal(g.items[0].message,
			    "daily request count exceeded, request rate limited");
	rt_got_free(&g);
	fx_done(&f);
}

/* ---- timeouts and broken bodies ---- */

static void timeout_endpoint(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	struct rw_rpc_opts o = fast;
	o.max_attempts = 2;
	fx_init(&f, &o);
	add_ep(&f, "/slow?ms=3000&key=tmo", 0, 0, 150);
	call_run(&f, "echo", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_TIMEOUT);
	assert_int_equal(g.items[0].attempts, 2);
	assert_msg_has(&g.items[0], "imeout");
	rt_got_free(&g);
	struct rw_rpc_endpoint_stats st;
	assert_int_equal(rw_rpc_endpoint_stats(&st, f.rpc, 0), 0);
	assert_int_equal(st.failures, 2);
	fx_done(&f);
}

static void timeout_per_request(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g = { 0 };
	fx_init(&f, NULL);
	add_ep(&f, "/slow?ms=3000", 0, 0, 60000);
	struct rw_rpc_send_opts so = { .timeout_ms = 100, .max_attempts = 1 };
	struct rw_rpc_req req = { "echo", NULL };
	assert_int_equal(rw_rpc_send(f.rpc, &so, &req, 1, rt_collect, &g), 0);
	assert_int_equal(rt_run_until(&f.loop, &g, 1), 0);
	assert_int_equal(g.items[0].cls, RW_RPC_TIMEOUT);
	assert_int_equal(g.items[0].attempts, 1);
	rt_got_free(&g);
	fx_done(&f);
}

static void truncated_body(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	struct rw_rpc_opts o = fast;
	o.max_attempts = 2;
	fx_init(&f, &o);
	add_ep(&f, "/truncated", 0, 0, 0);
	call_run(&f, "echo", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_TRANSPORT);
	assert_int_equal(g.items[0].attempts, 2);
	rt_got_free(&g);
	fx_done(&f);
}

static void closed_connection(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	struct rw_rpc_opts o = fast;
	o.max_attempts = 2;
	fx_init(&f, &o);
	add_ep(&f, "/closed", 0, 0, 0);
	add_ep(&f, "/ok", 0, 0, 0);
	call_run(&f, "echo", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	assert_int_equal(g.items[0].attempts, 2);
	rt_got_free(&g);
	fx_done(&f);
}

static void wrong_id(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	struct rw_rpc_opts o = fast;
	o.max_attempts = 2;
	fx_init(&f, &o);
	add_ep(&f, "/wrongid", 0, 0, 0);
	call_run(&f, "echo", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_BAD_RESPONSE);
	assert_int_equal(g.items[0].attempts, 2);
	assert_msg_has(&g.items[0], "id mismatch");
	rt_got_free(&g);
	/* A batch with shifted ids is refused as a whole. */
	struct rw_rpc_req reqs[2] = { { "echo", NULL }, { "echo", NULL } };
	memset(&g, 0, sizeof(g));
	assert_int_equal(rw_rpc_batch(f.rpc, reqs, 2, rt_collect, &g), 0);
	assert_int_equal(rt_run_until(&f.loop, &g, 1), 0);
	assert_int_equal(g.items[0].cls, RW_RPC_BAD_RESPONSE);
	assert_int_equal(g.items[1].cls, RW_RPC_BAD_RESPONSE);
	rt_got_free(&g);
	fx_done(&f);
}

static void garbage_body(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	struct rw_rpc_opts o = fast;
	o.max_attempts = 1;
	fx_init(&f, &o);
	add_ep(&f, "/garbage", 0, 0, 0);
	call_run(&f, "echo", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_BAD_RESPONSE);
	assert_msg_has(&g.items[0], "not JSON");
	rt_got_free(&g);
	fx_done(&f);
}

static void ceiling(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	struct rw_rpc_opts o = fast;
	o.max_response = 1 << 20;
	fx_init(&f, &o);
	add_ep(&f, "/huge?mb=4&key=ceil", 0, 0, 0);
	call_run(&f, "echo", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_TRANSPORT);
	assert_string_equal(g.items[0].message, "response larger than 1048576 bytes");
	assert_int_equal(g.items[0].attempts, 1); /* not retried */
	rt_got_free(&g);
	/* Just under the ceiling passes. */
	fx_done(&f);
	o.max_response = (4 << 20) + 100;
	fx_init(&f, &o);
	add_ep(&f, "/huge?mb=4", 0, 0, 0);
	call_run(&f, "echo", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	assert_int_equal(json_string_length(g.items[0].result), 4 << 20);
	rt_got_free(&g);
	fx_done(&f);
}

/* Tens of MB of logs in one answer. */
static void big_logs(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	fx_init(&f, NULL);
	add_ep(&f, "/ok", 0, 0, 60000);
	call_run(&f, "logs", json_pack("[i]", 60000), &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	assert_int_equal(json_array_size(g.items[0].result), 60000);
	json_t *last = json_array_get(g.items[0].result, 59999);
	uint64_t idx;
	assert_int_equal(rw_rpc_get_quantity_u64(&idx, json_object_get(last, "logIndex")), 0);
	assert_int_equal(idx, 59999);
	uint8_t h[32];
	assert_int_equal(rw_rpc_get_data32(h, json_object_get(last, "transactionHash")), 0);
	rt_got_free(&g);
	fx_done(&f);
}

static void gzip_body(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	fx_init(&f, NULL);
	add_ep(&f, "/gzip", 0, 0, 0);
	call_run(&f, "echo", json_pack("[s]", "compressed"), &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	assert_string_equal(json_string_value(json_array_get(g.items[0].result, 0)), "compressed");
	rt_got_free(&g);
	fx_done(&f);
}

/* ---- raw mode ---- */

/* Sends n requests in raw mode (a batch when n > 1; max_response) and runs
 * them to their callback. */
static void raw_send(struct fx *f, struct rw_rpc_req *reqs, size_t n, size_t max_response,
		     struct rt_got *g)
{
	memset(g, 0, sizeof(*g));
	struct rw_rpc_send_opts o = { .raw = 1, .max_response = max_response };
	assert_int_equal(rw_rpc_send(f->rpc, &o, reqs, n, rt_collect, g), 0);
	assert_int_equal(rt_run_until(&f->loop, g, 1), 0);
	assert_int_equal(g->calls, 1);
	assert_int_equal(g->n, n);
}

/* Tens of MB of logs as text; an item retried in a second HTTP request
 * (another body) next to items answered by the first: every text is
 * valid when the callback runs. */
static void raw_logs_and_retry(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	fx_init(&f, NULL);
	add_ep(&f, "/ok", 0, 0, 60000);
	struct rw_rpc_req reqs[3] = { { "logs", json_pack("[i]", 60000) },
				      { "flaky", json_pack("[s]", "rawflaky") },
				      { "echo", json_pack("[i]", 2) } };
	raw_send(&f, reqs, 3, 0, &g);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(g.items[i].cls, RW_RPC_OK);
		assert_null(g.items[i].result);
		assert_non_null(g.items[i].raw);
	}
	assert_int_equal(g.items[1].attempts, 2);
	assert_string_equal(g.items[1].raw, "\"0x1\"");
	assert_string_equal(g.items[2].raw, "[2]");
	json_error_t e;
	json_t *logs = json_loadb(g.items[0].raw, g.items[0].raw_len, 0, &e);
	assert_int_equal(json_array_size(logs), 60000);
	uint64_t idx;
	assert_int_equal(rw_rpc_get_quantity_u64(
				 &idx, json_object_get(json_array_get(logs, 59999), "logIndex")),
			 0);
	assert_int_equal(idx, 59999);
	json_decref(logs);
	rt_got_free(&g);
	fx_done(&f);
}

/* Results that are not JSON: a bad response naming the endpoint and where
 * the text broke, retried like any bad response; nothing half-read. */
static void raw_malformed(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	struct rw_rpc_opts o = fast;
	o.max_attempts = 2;
	fx_init(&f, &o);
	add_ep(&f, "/badjson?key=rawbad", 0, 0, 0);
	struct rw_rpc_req reqs[2] = { { "eth_getLogs", NULL }, { "echo", json_pack("[i]", 1) } };
	raw_send(&f, reqs, 2, 0, &g);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(g.items[i].cls, RW_RPC_BAD_RESPONSE);
		assert_null(g.items[i].raw);
		assert_msg_has(&g.items[i], "malformed response: not JSON (byte ");
		assert_msg_has(&g.items[i], "unexpected character");
		assert_non_null(strstr(g.items[i].endpoint, "/badjson"));
		assert_int_equal(g.items[i].attempts, 2);
	}
	rt_got_free(&g);
	fx_done(&f);
	assert_int_equal(server_count("rawbad", "hits"), 2);
}

/* A request's own ceiling: over it, a transport failure that says the
 * size the server announced (0 when it announced none), not retried; the
 * client's ceiling still holds for other requests. */
static void raw_ceiling(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	fx_init(&f, NULL);
	add_ep(&f, "/huge?mb=4&key=rawceil", 0, 0, 0);
	struct rw_rpc_req req = { "echo", NULL };
	raw_send(&f, &req, 1, 1 << 20, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_TRANSPORT);
	assert_string_equal(g.items[0].message, "response larger than 1048576 bytes");
	assert_int_equal(g.items[0].attempts, 1);
	/* {"jsonrpc":"2.0","id":0,"result":"..."}: 4 MiB and 36 bytes */
	assert_int_equal(g.items[0].body_size, (4 << 20) + 36);
	rt_got_free(&g);
	req.params = NULL;
	raw_send(&f, &req, 1, 0, &g); /* the client's ceiling (256 MiB) */
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	assert_int_equal(g.items[0].raw_len, (4 << 20) + 2);
	rt_got_free(&g);
	fx_done(&f);

	fx_init(&f, NULL);
	add_ep(&f, "/huge?mb=4&chunked=1", 0, 0, 0);
	raw_send(&f, &req, 1, 1 << 20, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_TRANSPORT);
	assert_string_equal(g.items[0].message, "response larger than 1048576 bytes");
	assert_int_equal(g.items[0].body_size, 0); /* not announced */
	rt_got_free(&g);
	fx_done(&f);
}

/* ---- classification end to end ---- */

static void range_error(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	fx_init(&f, NULL);
	add_ep(&f,
	       "/rpcerror?code=-32602&key=rng&msg=Log%20response%20size%20exceeded.%20this%20block%"
	       "20"
	       "range%20should%20work:%20%5B0x10,%200x20%5D",
	       0, 0, 0);
	call_run(&f, "eth_getLogs", NULL, &g);
	struct rt_item *it = &g.items[0];
	assert_int_equal(it->cls, RW_RPC_RANGE_TOO_LARGE);
	assert_int_equal(it->attempts, 1); /* never retried */
	assert_int_equal(it->range.has_range, 1);
	assert_int_equal(it->range.from, 0x10);
	assert_int_equal(it->range.to, 0x20);
	assert_int_equal(it->range.max_span, 17);
	rt_got_free(&g);
	fx_done(&f);
	/* QuickNode answers with HTTP 413 and a JSON-RPC error. */
	fx_init(&f, NULL);
	add_ep(&f,
	       "/rpcerror?http=413&code=-32614&msg=eth_getLogs%20is%20limited%20to%20a%2010,000%"
	       "20range",
	       0, 0, 0);
	call_run(&f, "eth_getLogs", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_RANGE_TOO_LARGE);
	assert_int_equal(g.items[0].http_status, 413);
	assert_int_equal(g.items[0].range.max_span, 10000);
	rt_got_free(&g);
	fx_done(&f);
}

static void revert_error(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	fx_init(&f, NULL);
	add_ep(&f,
	       "/rpcerror?code=3&key=rev&msg=execution%20reverted:%20boom&data=0x08c379a0"
	       "0000000000000000000000000000000000000000000000000000000000000020"
	       "0000000000000000000000000000000000000000000000000000000000000004"
	       "626f6f6d00000000000000000000000000000000000000000000000000000000",
	       0, 0, 0);
	call_run(&f, "eth_call", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_REVERTED);
	assert_int_equal(g.items[0].attempts, 1);
	assert_int_equal(g.items[0].revert_kind, RW_RPC_REVERT_ERROR);
	assert_string_equal(g.items[0].reason, "boom");
	rt_got_free(&g);
	fx_done(&f);
	assert_int_equal(server_count("rev", "hits"), 1);
}

static void nonce_error(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	fx_init(&f, NULL);
	add_ep(&f, "/rpcerror?code=-32000&key=nonce&msg=nonce%20too%20low", 0, 0, 0);
	add_ep(&f, "/ok", 0, 0, 0);
	call_run(&f, "eth_sendRawTransaction", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_NONCE_TOO_LOW);
	assert_int_equal(g.items[0].attempts, 1); /* goes to the caller, not to /ok */
	rt_got_free(&g);
	fx_done(&f);
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
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ok_single),
		cmocka_unit_test(batch_100),
		cmocka_unit_test(batch_partial_retry),
		cmocka_unit_test(concurrency_cap),
		cmocka_unit_test(keepalive),
		cmocka_unit_test(rps_cap),
		cmocka_unit_test(failover_dead),
		cmocka_unit_test(dead_only),
		cmocka_unit_test(retry_500),
		cmocka_unit_test(status_500_forever),
		cmocka_unit_test(backoff_429),
		cmocka_unit_test(rate_limited_forever),
		cmocka_unit_test(retry_after),
		cmocka_unit_test(failover_429),
		cmocka_unit_test(rate_limit_json),
		cmocka_unit_test(timeout_endpoint),
		cmocka_unit_test(timeout_per_request),
		cmocka_unit_test(truncated_body),
		cmocka_unit_test(closed_connection),
		cmocka_unit_test(wrong_id),
		cmocka_unit_test(garbage_body),
		cmocka_unit_test(ceiling),
		cmocka_unit_test(big_logs),
		cmocka_unit_test(gzip_body),
		cmocka_unit_test(raw_logs_and_retry),
		cmocka_unit_test(raw_malformed),
		cmocka_unit_test(raw_ceiling),
		cmocka_unit_test(range_error),
		cmocka_unit_test(revert_error),
		cmocka_unit_test(nonce_error),
		cmocka_unit_test(cancel_on_close),
		cmocka_unit_test(close_in_callback),
		cmocka_unit_test(close_unused),
		cmocka_unit_test(close_while_parsing),
		cmocka_unit_test(api_errors),
		cmocka_unit_test(after_close_errors),
		cmocka_unit_test(h2_single),
		cmocka_unit_test(h2_multiplex),
		cmocka_unit_test(tls_verify),
	};
	return cmocka_run_group_tests(tests, start_server, stop_server);
}
