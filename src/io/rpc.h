/* rpc.h: JSON-RPC 2.0 over HTTP(S) on the program's libuv loop.
 *
 * Design
 * - One struct rw_rpc per chain, bound to one uv_loop_t. It owns a libcurl
 *   multi handle driven by the loop: CURLMOPT_SOCKETFUNCTION keeps one
 *   uv_poll_t per socket curl names, CURLMOPT_TIMERFUNCTION one uv_timer_t;
 *   poll errors reach curl as CURL_CSELECT_ERR; finished transfers are
 *   drained after every curl_multi_socket_action. Connections are reused
 *   from the multi's cache (keep-alive); HTTP/2 is used over TLS when the
 *   server offers it (multiplexed), HTTP/1.1 otherwise; bodies may be
 *   gzip/deflate/br encoded.
 * - Endpoints (URL, concurrency cap, requests-per-second cap, timeout) are
 *   chosen per HTTP request by health: an EWMA of latency and of failures,
 *   the load, and a preference for endpoints this request has not tried;
 *   failures fade with a 30 s half-life so that a shunned endpoint is
 *   probed again.
 *   Each endpoint has a token bucket (a batch of n costs n tokens; it may
 *   start with one token and leaves the bucket in debt). HTTP 429 or a
 *   rate-limit error halves the endpoint's rate; failures back it off for
 *   a full-jitter exponential delay (base 100 ms, cap 10 s, at least any
 *   Retry-After up to 60 s); successes clear the backoff and raise the
 *   rate again by 1% (at least 0.1 rps) at a time.
 * - Requests wait in a FIFO queue while every endpoint is at a limit. A
 *   request whose items failed with a retryable class (transport, timeout,
 *   rate-limited, bad response) is sent again, for those items only, up
 *   to max_attempts HTTP requests in all; other errors (reverts, nonce,
 *   funds...) go straight to the caller. A body over the ceiling (the
 *   client's, or the request's max_response) is RW_RPC_TRANSPORT "response
 *   larger than N bytes" (body_size: the size the server announced, when
 *   it did) and is not retried.
 * - Bodies accumulate in a struct rw_buf with a ceiling (sized at once from
 *   Content-Length when the server sends one) and are parsed once, at the
 *   end, by json_loadb (linear in the size), or in raw mode scanned by
 *   jscan; bodies of 256 KiB and more are parsed on libuv's thread pool.
 * - Lifetimes: every uv handle is freed in its close callback; the client
 *   itself after the last one, then on_closed runs. After that the loop
 *   has nothing of the client left and uv_loop_close() returns 0.
 * - Callbacks run from the loop only, never from inside the function that
 *   queued the request. A function that returns an error never calls its
 *   callback; a function that returns 0 calls it exactly once.
 * - Not thread-safe: use a client from its loop's thread only.
 */
#ifndef RW_RPC_H
#define RW_RPC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "rpc_class.h"

struct rw_rpc;

/* Default ceiling for one response body: 256 MiB. */
#define RW_RPC_DEFAULT_MAX_RESPONSE ((size_t)256 << 20)
/* Most endpoints per client. */
#define RW_RPC_MAX_ENDPOINTS 32
/* Most requests in one batch. */
#define RW_RPC_MAX_BATCH 10000

/* Client options; zero fields take the defaults shown. */
struct rw_rpc_opts {
	size_t max_response;      /* body ceiling in bytes (RW_RPC_DEFAULT_MAX_RESPONSE) */
	unsigned max_attempts;    /* HTTP requests per request, all endpoints (4; at most 100) */
	uint64_t backoff_base_ms; /* first backoff step (100) */
	uint64_t backoff_cap_ms;  /* longest backoff (10000) */
};

/* One endpoint; zero fields take the defaults shown. */
struct rw_rpc_endpoint_opts {
	const char *url;          /* http:// or https:// (copied) */
	unsigned max_concurrency; /* HTTP requests in flight (8) */
	double max_rps;           /* HTTP requests per second, batch items counted (0: no cap) */
	uint64_t timeout_ms;      /* whole HTTP request (30000) */
	const char
		*ca_file; /* PEM file of CAs to trust instead of the system's (copied), or NULL */
};

/* Per-request options; zero fields take the client's or endpoint's. */
struct rw_rpc_send_opts {
	int as_batch;          /* send as a JSON array even when n == 1 */
	uint64_t timeout_ms;   /* per HTTP request, overrides the endpoint's */
	unsigned max_attempts; /* overrides the client's */
	int raw;               /* RW_RPC_RAW_CHECKED or _DELIMITED: results as text (below) */
	size_t max_response;   /* body ceiling of this request's answers (the client's) */
};

/* rw_rpc_send_opts.raw: how results come (see rw_rpc_cb). */
enum { RW_RPC_TREE = 0, RW_RPC_RAW_CHECKED = 1, RW_RPC_RAW_DELIMITED = 2 };

/* One request of a batch. params is stolen (see rw_rpc_send). */
struct rw_rpc_req {
	const char *method;
	json_t *params;
};

/* Called once per request with its n results (n == 1 for rw_rpc_call),
 * in the order the requests were given. res and everything it borrows
 * (result, raw, message, data, revert, endpoint) are valid during the call
 * only: json_incref what you keep. The callback may call any rw_rpc_*
 * function, rw_rpc_close included.
 *
 * Raw mode (opts->raw RW_RPC_RAW_CHECKED): the answer is checked as
 * rw_rpc_parse_raw does (rpc_class.h) instead of being parsed into a tree:
 * an RW_RPC_OK result comes as res->raw / res->raw_len, the result value's
 * JSON text (checked grammar, any type), and res->result is NULL; errors
 * come as usual. For large answers (eth_getLogs) whose tree would cost
 * several times the body. RW_RPC_RAW_DELIMITED: the same, but the text of
 * a result is only delimited (rw_rpc_parse_delimited), for a caller that
 * checks it as it reads it: malformed text is then the caller's to report
 * (with the endpoint: res->endpoint). The body is kept until the callback
 * returns. */
typedef void (*rw_rpc_cb)(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n,
			  void *udata);

/* Called once when rw_rpc_close has finished and the client is freed. */
typedef void (*rw_rpc_closed_cb)(void *udata);

/* What an endpoint has seen, for logs and tests. */
struct rw_rpc_endpoint_stats {
	uint64_t requests;     /* HTTP requests started */
	uint64_t ok;           /* HTTP requests answered with a valid response */
	uint64_t failures;     /* transport, timeout, bad response */
	uint64_t rate_limited; /* HTTP requests refused for rate */
	unsigned inflight;
	double rps_limit;    /* current adaptive limit, 0: none */
	double latency_ms;   /* EWMA of successful requests */
	double error_rate;   /* EWMA of failures, 0..1 */
	uint64_t backoff_ms; /* time left in backoff, 0: none */
};

/* Creates a client on loop. Returns 0, RW_ENOMEM, or RW_EIO when libcurl
 * or libuv refuse to start. On success the client holds two uv timers: it
 * must be ended with rw_rpc_close and the loop run for its memory to go.
 * Out: ret: the client.
 * In: loop: outlives the client; opts: may be NULL (defaults). */
int rw_rpc_new(struct rw_rpc **ret, uv_loop_t *loop, const struct rw_rpc_opts *opts);

/* Adds an endpoint. Returns its index (>= 0); RW_EINVAL (no URL, not
 * http(s), client closing), RW_ETOOBIG (RW_RPC_MAX_ENDPOINTS reached) or
 * RW_ENOMEM.
 * In: opts: copied (url included). */
int rw_rpc_add_endpoint(struct rw_rpc *rpc, const struct rw_rpc_endpoint_opts *opts);

/* Queues n requests sent together (one HTTP request when n > 1 or
 * opts->as_batch, as a JSON array). Returns 0, and cb runs later exactly
 * once with n results; RW_EINVAL (n == 0, a NULL method, no endpoints,
 * client closing), RW_ETOOBIG (n > RW_RPC_MAX_BATCH) or RW_ENOMEM, and
 * cb never runs.
 * In: reqs: n requests; every params (an array, or NULL for []) is
 *     stolen whatever the return, as json_array_append_new does; method
 *     strings are copied. opts: may be NULL. udata: passed to cb. */
int rw_rpc_send(struct rw_rpc *rpc, const struct rw_rpc_send_opts *opts,
		const struct rw_rpc_req *reqs, size_t n, rw_rpc_cb cb, void *udata);

/* rw_rpc_send of one request, not as a batch. Same returns; params is
 * stolen (NULL for []). */
int rw_rpc_call(struct rw_rpc *rpc, const char *method, json_t *params, rw_rpc_cb cb, void *udata);

/* rw_rpc_send of n requests as one batch, with default options. */
int rw_rpc_batch(struct rw_rpc *rpc, const struct rw_rpc_req *reqs, size_t n, rw_rpc_cb cb,
		 void *udata);

/* Returns the number of requests queued or in flight. */
size_t rw_rpc_pending(const struct rw_rpc *rpc);

/* Fills *ret with endpoint i's counters. Returns 0 or RW_ENOTFOUND. */
int rw_rpc_endpoint_stats(struct rw_rpc_endpoint_stats *ret, const struct rw_rpc *rpc, size_t i);

/* Closes the client: every queued or in-flight request ends with
 * RW_RPC_CANCELLED (its callback runs now, or when the current callback
 * returns), transfers stop, then every handle is closed; when the last
 * close callback has run the client is freed and on_closed(udata) runs.
 * Returns 0, or RW_EINVAL when already closing (on_closed then never
 * runs for this call).
 * In: on_closed: may be NULL. */
int rw_rpc_close(struct rw_rpc *rpc, rw_rpc_closed_cb on_closed, void *udata);

#endif
