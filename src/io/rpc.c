/* rpc.c: the JSON-RPC client: libcurl's multi interface on libuv,
 * endpoints with health, limits, backoff and failover. The design is in
 * rpc.h; parsing and classification are in rpc_class.c. */
#include "rpc.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "err.h"

#define DEFAULT_MAX_ATTEMPTS    4
#define DEFAULT_BACKOFF_BASE_MS 100
#define DEFAULT_BACKOFF_CAP_MS  10000
#define DEFAULT_CONCURRENCY     8
#define DEFAULT_TIMEOUT_MS      30000
#define CONNECT_TIMEOUT_MS      10000
#define RETRY_AFTER_CAP_MS      60000
#define MIN_RPS                 0.2 /* an adaptive limit never goes below this */
#define EWMA_ALPHA              0.2
#define ERR_HALF_LIFE_MS        30000 /* an idle endpoint's failures fade, so it is probed again */
#define MAX_ATTEMPTS_CAP        100
#define PARSE_OFFLOAD_BYTES     (256 * 1024)  /* larger bodies are parsed off the loop */
#define RECV_BUFFER             (256L * 1024) /* libcurl's receive buffer per transfer */

struct endpoint {
	size_t index;
	char *url;
	char *ca_file; /* or NULL */
	unsigned max_conc;
	double max_rps; /* configured cap, 0: none */
	uint64_t timeout_ms;
	unsigned inflight;
	/* Token bucket; rate 0 means no limit. */
	double rate;
	double tokens;
	uint64_t refill_ms;
	double throttled_at; /* observed rate at the first 429 when no cap is configured */
	/* Requests started per one-second window, to size a first limit. */
	uint64_t win_start_ms;
	unsigned win_count;
	unsigned prev_count;
	/* Health. */
	double lat_ms;
	double err;
	uint64_t err_ms; /* when err was last updated */
	unsigned fails;
	uint64_t backoff_until_ms;
	uint64_t n_requests, n_ok, n_failures, n_limited;
};

struct item {
	char *method;
	json_t *params;
	uint64_t id;
	int done;
};

struct attempt;

struct request {
	struct request *next; /* queue link */
	rw_rpc_cb cb;
	void *udata;
	int as_batch;
	uint64_t timeout_ms;
	unsigned max_attempts;
	unsigned attempts;
	uint64_t tried; /* bit i: endpoint i was tried */
	size_t n;
	size_t pending;
	struct item *items;
	struct rw_rpc_result *res; /* n results, handed to cb */
	json_t **roots;            /* parsed bodies that res borrow from */
	size_t nroots;
	int raw;               /* raw mode (rpc.h) */
	size_t max_response;   /* body ceiling */
	struct rw_buf *bodies; /* raw mode: the bodies that res borrow from */
	size_t nbodies;
};

/* One HTTP request. It stays on the in-flight list from start until its
 * results are concluded, parsing on the thread pool included. */
struct attempt {
	struct attempt *next, *prev; /* in-flight list */
	struct rw_rpc *rpc;
	struct request *req; /* NULL once rw_rpc_close cancelled it mid-parse */
	struct endpoint *ep;
	CURL *easy;
	char *body;
	struct rw_buf in;
	int write_err;      /* RW_ETOOBIG or RW_ENOMEM from the write callback */
	uint64_t announced; /* Content-Length, 0: none (seen at the first write) */
	int as_batch;
	int raw; /* the request's raw mode: keep the body for the results */
	size_t n;
	size_t *idx;   /* items sent, as indexes into req->items */
	uint64_t *ids; /* and their ids */
	uint64_t started_ms;
	/* Filled when the transfer ends. */
	long status;
	long retry_after_s;
	uint64_t latency_ms;
	int too_big;
	int parsing; /* queued on the thread pool */
	uv_work_t work;
	struct rw_rpc_result *tmp; /* n results */
	json_t *root;
	char errbuf[CURL_ERROR_SIZE];
};

struct sock {
	uv_poll_t poll;
	struct sock *next, *prev;
	struct rw_rpc *rpc;
	curl_socket_t fd;
	int closing;
};

struct rw_rpc {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t curl_timer;
	uv_timer_t pump_timer;
	struct curl_slist *headers;
	struct endpoint *eps[RW_RPC_MAX_ENDPOINTS];
	size_t neps;
	struct request *queue_head, *queue_tail;
	struct attempt *inflight;
	struct sock *socks;
	size_t pending;
	uint64_t next_id;
	uint64_t rng;
	size_t max_response;
	unsigned max_attempts;
	uint64_t backoff_base_ms;
	uint64_t backoff_cap_ms;
	int depth;     /* > 0 while running inside one of our loop callbacks */
	int closing;   /* rw_rpc_close was called */
	int torn_down; /* transfers stopped, handles closing */
	unsigned open_handles;
	unsigned works; /* parses queued on the thread pool */
	rw_rpc_closed_cb on_closed;
	void *closed_udata;
};

static void pump(struct rw_rpc *rpc);
static void on_pump(uv_timer_t *t);
static void teardown(struct rw_rpc *rpc);

/* ---------------------------------------------------------------------
 * Small helpers
 */

static uint64_t rng_next(struct rw_rpc *rpc)
{
	uint64_t x = rpc->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rpc->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static double ewma(double old, double sample)
{
	return old + EWMA_ALPHA * (sample - old);
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

/* Called on entry to and exit from every loop callback, so that a close
 * requested from a user callback waits until curl is not on the stack. */
static void enter(struct rw_rpc *rpc)
{
	rpc->depth++;
}

static void leave(struct rw_rpc *rpc)
{
	if (--rpc->depth == 0 && rpc->closing && !rpc->torn_down)
		teardown(rpc);
}

/* ---------------------------------------------------------------------
 * Endpoints: token bucket, backoff, health
 */

static double burst(const struct endpoint *ep)
{
	return ep->rate < 1.0 ? 1.0 : ep->rate;
}

static void refill(struct endpoint *ep, uint64_t now)
{
	if (ep->rate > 0 && now > ep->refill_ms) {
		ep->tokens += (double)(now - ep->refill_ms) * ep->rate / 1000.0;
		if (ep->tokens > burst(ep))
			ep->tokens = burst(ep);
	}
	ep->refill_ms = now;
}

/* Milliseconds until the bucket holds one token. */
static uint64_t token_wait_ms(const struct endpoint *ep)
{
	double ms = (1.0 - ep->tokens) * 1000.0 / ep->rate;
	return ms < 1.0 ? 1 : (uint64_t)ms + 1;
}

static void count_start(struct endpoint *ep, uint64_t now, size_t cost)
{
	if (now - ep->win_start_ms >= 1000) {
		ep->prev_count = now - ep->win_start_ms < 2000 ? ep->win_count : 0;
		ep->win_count = 0;
		ep->win_start_ms = now;
	}
	ep->win_count += (unsigned)cost;
	if (ep->rate > 0)
		ep->tokens -= (double)cost;
	ep->n_requests++;
	ep->inflight++;
}

static double observed_rps(const struct endpoint *ep)
{
	unsigned n = ep->win_count > ep->prev_count ? ep->win_count : ep->prev_count;
	return n ? (double)n : 1.0;
}

/* A rate-limit answer: halve the rate (starting from what we were sending
 * when no cap is configured). */
static void throttle(struct endpoint *ep)
{
	int had_limit = ep->rate > 0;
	double base = had_limit ? ep->rate : observed_rps(ep);
	if (ep->max_rps <= 0 && ep->throttled_at <= 0)
		ep->throttled_at = base;
	ep->rate = base / 2 < MIN_RPS ? MIN_RPS : base / 2;
	if (!had_limit)
		ep->tokens = 1.0; /* a fresh bucket; the backoff already pauses */
	else if (ep->tokens > burst(ep))
		ep->tokens = burst(ep);
}

/* A good answer: raise an adaptive limit slowly. */
static void recover(struct endpoint *ep)
{
	if (ep->rate <= 0)
		return;
	double step = ep->rate * 0.01;
	ep->rate += step < 0.1 ? 0.1 : step;
	if (ep->max_rps > 0 && ep->rate >= ep->max_rps) {
		ep->rate = ep->max_rps;
	} else if (ep->max_rps <= 0 && ep->rate >= 2 * ep->throttled_at) {
		ep->rate = 0;
		ep->throttled_at = 0;
	}
}

/* Full-jitter exponential backoff, at least retry_after_s when given. */
static void back_off(struct rw_rpc *rpc, struct endpoint *ep, uint64_t now, long retry_after_s)
{
	if (ep->fails < 63)
		ep->fails++;
	unsigned shift = ep->fails - 1 < 20 ? ep->fails - 1 : 20;
	uint64_t ceiling = min_u64(rpc->backoff_base_ms << shift, rpc->backoff_cap_ms);
	uint64_t delay = rng_next(rpc) % (ceiling + 1);
	if (retry_after_s > 0) {
		uint64_t ra = min_u64((uint64_t)retry_after_s * 1000, RETRY_AFTER_CAP_MS);
		if (ra > delay)
			delay = ra;
	}
	ep->backoff_until_ms = now + delay;
}

/* Halves ep->err for every ERR_HALF_LIFE_MS since it was last updated. */
static void decay_err(struct endpoint *ep, uint64_t now)
{
	while (ep->err > 1e-6 && now - ep->err_ms >= ERR_HALF_LIFE_MS) {
		ep->err /= 2;
		ep->err_ms += ERR_HALF_LIFE_MS;
	}
}

static void note_err(struct endpoint *ep, uint64_t now, double sample)
{
	decay_err(ep, now);
	ep->err = ewma(ep->err, sample);
	ep->err_ms = now;
}

/* Lower is better: latency, inflated by recent failures and by load. */
static double score(const struct endpoint *ep)
{
	return (ep->lat_ms + 10.0) * (1.0 + 20.0 * ep->err) *
	       (1.0 + (double)ep->inflight / (double)ep->max_conc);
}

/* Returns the endpoint rq should use now, or NULL; lowers *wake to when
 * a blocked endpoint frees up by time (backoff or tokens). */
static struct endpoint *pick(struct rw_rpc *rpc, const struct request *rq, uint64_t now,
			     uint64_t *wake)
{
	struct endpoint *best = NULL;
	int best_tried = 0;
	double best_score = 0;
	for (size_t i = 0; i < rpc->neps; i++) {
		struct endpoint *ep = rpc->eps[i];
		if (ep->inflight >= ep->max_conc)
			continue;
		if (now < ep->backoff_until_ms) {
			*wake = min_u64(*wake, ep->backoff_until_ms);
			continue;
		}
		refill(ep, now);
		if (ep->rate > 0 && ep->tokens < 1.0) {
			*wake = min_u64(*wake, now + token_wait_ms(ep));
			continue;
		}
		int tried = (int)(rq->tried >> i & 1);
		decay_err(ep, now);
		double s = score(ep);
		if (!best || tried < best_tried || (tried == best_tried && s < best_score)) {
			best = ep;
			best_tried = tried;
			best_score = s;
		}
	}
	return best;
}

/* Updates the endpoint after an answer (or a failure to get one). */
static void feedback(struct rw_rpc *rpc, struct endpoint *ep, const struct rw_rpc_result *r,
		     size_t n, uint64_t latency_ms, long retry_after_s, int too_big)
{
	uint64_t now = uv_now(rpc->loop);
	int limited = 0, failed = 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].cls == RW_RPC_RATE_LIMITED)
			limited = 1;
		else if (r[i].cls == RW_RPC_TRANSPORT || r[i].cls == RW_RPC_TIMEOUT ||
			 r[i].cls == RW_RPC_BAD_RESPONSE)
			failed = 1;
	}
	if (too_big) /* the endpoint worked; the answer was just too large */
		failed = 0;
	if (limited) {
		ep->n_limited++;
		note_err(ep, now, 1.0);
		throttle(ep);
		back_off(rpc, ep, now, retry_after_s);
	} else if (failed) {
		ep->n_failures++;
		note_err(ep, now, 1.0);
		back_off(rpc, ep, now, retry_after_s);
	} else {
		ep->n_ok++;
		note_err(ep, now, 0.0);
		if (!too_big)
			ep->lat_ms = ep->n_ok == 1 ? (double)latency_ms
						   : ewma(ep->lat_ms, (double)latency_ms);
		ep->fails = 0;
		recover(ep);
	}
}

/* ---------------------------------------------------------------------
 * Queue and requests
 */

static void queue_push_tail(struct rw_rpc *rpc, struct request *rq)
{
	rq->next = NULL;
	if (rpc->queue_tail)
		rpc->queue_tail->next = rq;
	else
		rpc->queue_head = rq;
	rpc->queue_tail = rq;
}

static void queue_push_head(struct rw_rpc *rpc, struct request *rq)
{
	rq->next = rpc->queue_head;
	rpc->queue_head = rq;
	if (!rpc->queue_tail)
		rpc->queue_tail = rq;
}

static struct request *queue_pop(struct rw_rpc *rpc)
{
	struct request *rq = rpc->queue_head;
	if (rq) {
		rpc->queue_head = rq->next;
		if (!rpc->queue_head)
			rpc->queue_tail = NULL;
		rq->next = NULL;
	}
	return rq;
}

static void request_free(struct request *rq)
{
	if (!rq)
		return;
	for (size_t i = 0; rq->items && i < rq->n; i++) {
		free(rq->items[i].method);
		json_decref(rq->items[i].params);
	}
	for (size_t i = 0; rq->res && i < rq->n; i++)
		rw_rpc_result_clear(&rq->res[i]);
	for (size_t i = 0; i < rq->nroots; i++)
		json_decref(rq->roots[i]);
	for (size_t i = 0; i < rq->nbodies; i++)
		rw_buf_release(&rq->bodies[i]);
	free(rq->items);
	free(rq->res);
	free(rq->roots);
	free(rq->bodies);
	free(rq);
}

/* Hands the results to the caller and frees the request. */
static void complete(struct rw_rpc *rpc, struct request *rq)
{
	rpc->pending--;
	rq->cb(rpc, rq->res, rq->n, rq->udata);
	request_free(rq);
}

/* Ends every item still pending with cls and text, then completes. */
static void fail_request(struct rw_rpc *rpc, struct request *rq, enum rw_rpc_class cls,
			 const char *text)
{
	for (size_t i = 0; i < rq->n; i++) {
		if (rq->items[i].done)
			continue;
		rw_rpc_result_clear(&rq->res[i]);
		rw_rpc_result_set(&rq->res[i], cls, "%s", text);
		rq->res[i].attempts = rq->attempts;
		rq->items[i].done = 1;
	}
	rq->pending = 0;
	complete(rpc, rq);
}

static void steal_params(const struct rw_rpc_req *reqs, size_t n)
{
	for (size_t i = 0; reqs && i < n; i++)
		json_decref(reqs[i].params);
}

/* Builds a request. Takes the params in every case. Returns NULL on
 * allocation failure. */
static struct request *request_new(struct rw_rpc *rpc, const struct rw_rpc_send_opts *opts,
				   const struct rw_rpc_req *reqs, size_t n)
{
	struct request *rq = calloc(1, sizeof(*rq));
	if (!rq) {
		steal_params(reqs, n);
		return NULL;
	}
	rq->n = n;
	rq->as_batch = n > 1 || (opts && opts->as_batch);
	rq->timeout_ms = opts ? opts->timeout_ms : 0;
	rq->max_attempts = opts && opts->max_attempts ? opts->max_attempts : rpc->max_attempts;
	if (rq->max_attempts > MAX_ATTEMPTS_CAP)
		rq->max_attempts = MAX_ATTEMPTS_CAP;
	rq->items = calloc(n, sizeof(*rq->items));
	rq->res = calloc(n, sizeof(*rq->res));
	rq->roots = calloc(rq->max_attempts, sizeof(*rq->roots));
	rq->raw = opts ? opts->raw : RW_RPC_TREE;
	rq->max_response = opts && opts->max_response ? opts->max_response : rpc->max_response;
	if (rq->raw)
		rq->bodies = calloc(rq->max_attempts, sizeof(*rq->bodies));
	int ok = rq->items && rq->res && rq->roots && (!rq->raw || rq->bodies);
	for (size_t i = 0; i < n; i++) {
		if (rq->items) {
			rq->items[i].params = reqs[i].params ? reqs[i].params : json_array();
			rq->items[i].method = dup_str(reqs[i].method);
			rq->items[i].id = rpc->next_id++;
			ok = ok && rq->items[i].params && rq->items[i].method;
		} else {
			json_decref(reqs[i].params);
		}
		if (rq->res)
			rw_rpc_result_init(&rq->res[i], RW_RPC_CANCELLED);
	}
	if (!ok) {
		request_free(rq);
		return NULL;
	}
	rq->pending = n;
	return rq;
}

/* ---------------------------------------------------------------------
 * Attempts: one HTTP request for the pending items of a request
 */

static void attempt_free(struct attempt *at)
{
	if (!at)
		return;
	for (size_t j = 0; at->tmp && j < at->n; j++)
		rw_rpc_result_clear(&at->tmp[j]);
	free(at->tmp);
	json_decref(at->root);
	if (at->easy)
		curl_easy_cleanup(at->easy);
	free(at->body);
	rw_buf_release(&at->in);
	free(at->idx);
	free(at->ids);
	free(at);
}

static void inflight_add(struct rw_rpc *rpc, struct attempt *at)
{
	at->prev = NULL;
	at->next = rpc->inflight;
	if (rpc->inflight)
		rpc->inflight->prev = at;
	rpc->inflight = at;
}

static void inflight_remove(struct rw_rpc *rpc, struct attempt *at)
{
	if (at->prev)
		at->prev->next = at->next;
	else
		rpc->inflight = at->next;
	if (at->next)
		at->next->prev = at->prev;
	at->next = at->prev = NULL;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *udata)
{
	struct attempt *at = udata;
	size_t n = size * nmemb;
	curl_off_t cl = -1;
	int r = 0;
	if (!at->in.cap &&
	    curl_easy_getinfo(at->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
	    cl > 0) {
		/* the whole body at once: no copies while it grows; over the
		 * ceiling it stops here (RW_ETOOBIG), its size noted */
		at->announced = (uint64_t)cl;
		r = (uint64_t)cl > at->in.max ? RW_ETOOBIG : rw_buf_reserve(&at->in, (size_t)cl);
	}
	if (r == 0)
		r = rw_buf_append(&at->in, p, n);
	if (r < 0) {
		at->write_err = r;
		return 0; /* anything but n aborts the transfer */
	}
	return n;
}

static json_t *item_json(const struct item *it)
{
	return json_pack("{s:s, s:I, s:s, s:O}", "jsonrpc", "2.0", "id", (json_int_t)it->id,
			 "method", it->method, "params", it->params);
}

/* Serialises the pending items of rq into at->body; fills at->idx/ids. */
static int build_body(struct attempt *at, const struct request *rq)
{
	at->idx = malloc(rq->pending * sizeof(*at->idx));
	at->ids = malloc(rq->pending * sizeof(*at->ids));
	if (!at->idx || !at->ids)
		return RW_ENOMEM;
	json_t *root = rq->as_batch ? json_array() : NULL;
	if (rq->as_batch && !root)
		return RW_ENOMEM;
	for (size_t i = 0; i < rq->n; i++) {
		if (rq->items[i].done)
			continue;
		json_t *o = item_json(&rq->items[i]);
		if (!o || (root && json_array_append_new(root, o) < 0)) {
			json_decref(root);
			return RW_ENOMEM;
		}
		if (!root)
			root = o;
		at->idx[at->n] = i;
		at->ids[at->n] = rq->items[i].id;
		at->n++;
	}
	at->body = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return at->body ? 0 : RW_ENOMEM;
}

static int setup_easy(struct rw_rpc *rpc, struct attempt *at, uint64_t timeout_ms)
{
	CURL *e = curl_easy_init();
	if (!e)
		return RW_ENOMEM;
	at->easy = e;
	int bad = 0;
	bad |= curl_easy_setopt(e, CURLOPT_URL, at->ep->url) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)at) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(at->body)) !=
	       CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, at->body) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, rpc->headers) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)at) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, at->errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
				(long)min_u64(timeout_ms, CONNECT_TIMEOUT_MS)) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
	/* large answers come in fewer reads and write callbacks */
	bad |= curl_easy_setopt(e, CURLOPT_BUFFERSIZE, RECV_BUFFER) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "runway/" RUNWAY_VERSION) != CURLE_OK;
	if (at->ep->ca_file)
		bad |= curl_easy_setopt(e, CURLOPT_CAINFO, at->ep->ca_file) != CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
#else
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
	       CURLE_OK;
#endif
	return bad ? RW_EIO : 0;
}

/* Starts one HTTP request for rq on ep. On failure rq is completed with
 * RW_RPC_TRANSPORT (its callback runs). */
static void start_attempt(struct rw_rpc *rpc, struct request *rq, struct endpoint *ep, uint64_t now)
{
	struct attempt *at = calloc(1, sizeof(*at));
	int r = at ? 0 : RW_ENOMEM;
	if (at) {
		at->rpc = rpc;
		at->req = rq;
		at->ep = ep;
		at->as_batch = rq->as_batch;
		at->raw = rq->raw;
		at->started_ms = now;
		rw_buf_init(&at->in, rq->max_response);
		r = build_body(at, rq);
	}
	if (r == 0)
		r = setup_easy(rpc, at, rq->timeout_ms ? rq->timeout_ms : ep->timeout_ms);
	if (r == 0 && curl_multi_add_handle(rpc->multi, at->easy) != CURLM_OK)
		r = RW_EIO;
	if (r < 0) {
		attempt_free(at);
		fail_request(rpc, rq, RW_RPC_TRANSPORT,
			     r == RW_ENOMEM ? "cannot start request: out of memory"
					    : "cannot start request: libcurl refused the options");
		return;
	}
	rq->attempts++;
	rq->tried |= (uint64_t)1 << ep->index;
	count_start(ep, now, at->n);
	inflight_add(rpc, at);
}

/* Fills tmp[] for a transfer that ended without a complete body. */
static void transport_results(struct rw_rpc *rpc, const struct attempt *at,
			      struct rw_rpc_result *tmp, CURLcode rc, int *too_big)
{
	char text[sizeof(tmp->detail_)];
	enum rw_rpc_class cls = RW_RPC_TRANSPORT;
	uint64_t size = 0;
	if (at->write_err == RW_ETOOBIG || rc == CURLE_FILESIZE_EXCEEDED) {
		size = at->announced;
		snprintf(text, sizeof(text), "response larger than %zu bytes", at->in.max);
		*too_big = 1;
	} else if (at->write_err == RW_ENOMEM) {
		snprintf(text, sizeof(text), "out of memory reading the response");
	} else {
		if (rc == CURLE_OPERATION_TIMEDOUT)
			cls = RW_RPC_TIMEOUT;
		int k = snprintf(text, sizeof(text), "%s%s%s", curl_easy_strerror(rc),
				 at->errbuf[0] ? ": " : "", at->errbuf);
		if (k >= (int)sizeof(text))
			memcpy(text + sizeof(text) - 4, "...", 4);
	}
	for (size_t j = 0; j < at->n; j++) {
		rw_rpc_result_init(&tmp[j], cls);
		rw_rpc_result_set(&tmp[j], cls, "%s", text);
		tmp[j].body_size = size;
	}
}

/* Moves the attempt's results into the request and decides, per item,
 * whether it is final. */
static void settle_items(struct request *rq, const struct attempt *at, struct rw_rpc_result *tmp,
			 int too_big)
{
	for (size_t j = 0; j < at->n; j++) {
		size_t i = at->idx[j];
		tmp[j].endpoint = at->ep->url;
		tmp[j].attempts = rq->attempts;
		rw_rpc_result_clear(&rq->res[i]);
		rw_rpc_result_move(&rq->res[i], &tmp[j]);
		if (!rw_rpc_class_retryable(rq->res[i].cls) || too_big ||
		    rq->attempts >= rq->max_attempts) {
			rq->items[i].done = 1;
			rq->pending--;
		}
	}
}

/* Hands an attempt's results to its request: endpoint health, per-item
 * decisions, then completion or a retry. Frees the attempt. */
static void conclude(struct rw_rpc *rpc, struct attempt *at)
{
	struct request *rq = at->req;
	inflight_remove(rpc, at);
	for (size_t j = 0; j < at->n; j++)
		at->tmp[j].http_status = (int)at->status;
	feedback(rpc, at->ep, at->tmp, at->n, at->latency_ms, at->retry_after_s, at->too_big);
	if (at->root) {
		rq->roots[rq->nroots++] = at->root;
		at->root = NULL;
	}
	if (rq->raw && at->in.p) {
		/* the results point into it */
		rq->bodies[rq->nbodies++] = at->in;
		rw_buf_init(&at->in, 0);
	}
	settle_items(rq, at, at->tmp, at->too_big);
	attempt_free(at);
	if (rq->pending == 0)
		complete(rpc, rq);
	else
		queue_push_head(rpc, rq);
}

static void maybe_finish_close(struct rw_rpc *rpc);

/* Parses the body into at->tmp (raw mode or a tree). Touches only the
 * attempt and what it borrows from its request. */
static void parse_body(struct attempt *at)
{
	int (*parse)(json_t **, struct rw_rpc_result *, const uint64_t *, size_t, int, const char *,
		     size_t, int) = rw_rpc_parse_response;
	if (at->raw == RW_RPC_RAW_DELIMITED)
		parse = rw_rpc_parse_delimited;
	else if (at->raw)
		parse = rw_rpc_parse_raw;
	(void)parse(&at->root, at->tmp, at->ids, at->n, at->as_batch, (const char *)at->in.p,
		    at->in.len, (int)at->status);
}

/* Thread pool: parse a large body. Touches only the attempt. */
static void parse_work(uv_work_t *w)
{
	parse_body(w->data);
}

/* Loop: the parse is done; conclude, or drop it when the client closed. */
static void parse_done(uv_work_t *w, int status)
{
	(void)status; /* never UV_ECANCELED: parses are not cancelled */
	struct attempt *at = w->data;
	struct rw_rpc *rpc = at->rpc;
	rpc->works--;
	if (!at->req) {
		attempt_free(at);
		maybe_finish_close(rpc);
		return;
	}
	if (!at->raw)
		rw_buf_release(&at->in);
	enter(rpc);
	conclude(rpc, at);
	if (!rpc->closing)
		pump(rpc);
	leave(rpc);
}

/* A transfer ended: collect its outcome, parse the body here or on the
 * thread pool, then conclude. */
static void finish_attempt(struct rw_rpc *rpc, struct attempt *at, CURLcode rc)
{
	curl_off_t retry_after = 0;
	(void)curl_easy_getinfo(at->easy, CURLINFO_RESPONSE_CODE, &at->status);
	(void)curl_easy_getinfo(at->easy, CURLINFO_RETRY_AFTER, &retry_after);
	(void)curl_multi_remove_handle(rpc->multi, at->easy);
	at->retry_after_s = retry_after > 0 && retry_after < 86400 ? (long)retry_after : 0;
	at->latency_ms = uv_now(rpc->loop) - at->started_ms;
	at->ep->inflight--;
	at->tmp = calloc(at->n, sizeof(*at->tmp));
	if (!at->tmp) {
		struct request *rq = at->req;
		inflight_remove(rpc, at);
		attempt_free(at);
		fail_request(rpc, rq, RW_RPC_TRANSPORT, "out of memory");
		return;
	}
	if (rc == CURLE_OK && !at->write_err) {
		if (at->in.len >= PARSE_OFFLOAD_BYTES) {
			at->work.data = at;
			if (uv_queue_work(rpc->loop, &at->work, parse_work, parse_done) == 0) {
				at->parsing = 1;
				rpc->works++;
				return;
			}
		}
		parse_body(at);
	} else {
		transport_results(rpc, at, at->tmp, rc, &at->too_big);
	}
	if (!at->raw || rc != CURLE_OK || at->write_err)
		rw_buf_release(&at->in); /* a tree is independent of the body */
	conclude(rpc, at);
}

/* Reads every finished transfer. Stops when the client starts closing. */
static void drain(struct rw_rpc *rpc)
{
	CURLMsg *m;
	int left;
	while (!rpc->closing && (m = curl_multi_info_read(rpc->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *easy = m->easy_handle;
		CURLcode rc = m->data.result;
		void *priv = NULL;
		(void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&priv);
		finish_attempt(rpc, priv, rc);
	}
	if (!rpc->closing)
		pump(rpc);
}

/* ---------------------------------------------------------------------
 * The loop side: polls, timers, the pump
 */

static void on_handle_closed(uv_handle_t *h);

static void on_sock_closed(uv_handle_t *h)
{
	struct sock *sk = h->data;
	struct rw_rpc *rpc = sk->rpc;
	if (sk->prev)
		sk->prev->next = sk->next;
	else
		rpc->socks = sk->next;
	if (sk->next)
		sk->next->prev = sk->prev;
	free(sk);
	on_handle_closed((uv_handle_t *)&rpc->curl_timer);
}

static void sock_close(struct sock *sk)
{
	if (sk->closing)
		return;
	sk->closing = 1;
	uv_close((uv_handle_t *)&sk->poll, on_sock_closed);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct sock *sk = h->data;
	struct rw_rpc *rpc = sk->rpc;
	int flags = 0;
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	if (rpc->torn_down)
		return;
	enter(rpc);
	int running;
	(void)curl_multi_socket_action(rpc->multi, sk->fd, flags, &running);
	drain(rpc);
	leave(rpc);
}

static struct sock *sock_new(struct rw_rpc *rpc, curl_socket_t fd)
{
	struct sock *sk = calloc(1, sizeof(*sk));
	if (!sk)
		return NULL;
	if (uv_poll_init_socket(rpc->loop, &sk->poll, fd) < 0) {
		free(sk);
		return NULL;
	}
	sk->poll.data = sk;
	sk->rpc = rpc;
	sk->fd = fd;
	sk->next = rpc->socks;
	if (rpc->socks)
		rpc->socks->prev = sk;
	rpc->socks = sk;
	rpc->open_handles++;
	return sk;
}

/* CURLMOPT_SOCKETFUNCTION: keep one uv_poll_t per socket curl names. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	(void)easy;
	struct rw_rpc *rpc = userp;
	struct sock *sk = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (sk) {
			sock_close(sk);
			if (!rpc->torn_down)
				(void)curl_multi_assign(rpc->multi, fd, NULL);
		}
		return 0;
	}
	if (rpc->torn_down)
		return 0;
	if (!sk) {
		sk = sock_new(rpc, fd);
		if (!sk)
			return -1;
		(void)curl_multi_assign(rpc->multi, fd, sk);
	}
	int ev = 0;
	if (what & CURL_POLL_IN)
		ev |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		ev |= UV_WRITABLE;
	return uv_poll_start(&sk->poll, ev, on_poll) < 0 ? -1 : 0;
}

static void on_curl_timeout(uv_timer_t *t)
{
	struct rw_rpc *rpc = t->data;
	if (rpc->torn_down)
		return;
	enter(rpc);
	int running;
	(void)curl_multi_socket_action(rpc->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	drain(rpc);
	leave(rpc);
}

/* CURLMOPT_TIMERFUNCTION: one uv timer; curl is called back from the loop,
 * never from inside this function. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	struct rw_rpc *rpc = userp;
	if (rpc->torn_down)
		return 0;
	if (timeout_ms < 0)
		uv_timer_stop(&rpc->curl_timer);
	else
		uv_timer_start(&rpc->curl_timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
	return 0;
}

/* Starts every queued request an endpoint can take now; arms the pump
 * timer for the earliest time a blocked endpoint frees up. */
static void pump(struct rw_rpc *rpc)
{
	uint64_t now = uv_now(rpc->loop), wake = UINT64_MAX;
	while (rpc->queue_head && !rpc->closing) {
		struct endpoint *ep = pick(rpc, rpc->queue_head, now, &wake);
		if (!ep)
			break;
		start_attempt(rpc, queue_pop(rpc), ep, now);
	}
	if (rpc->closing)
		return;
	if (rpc->queue_head && wake != UINT64_MAX)
		uv_timer_start(&rpc->pump_timer, on_pump, wake > now ? wake - now : 1, 0);
	else
		uv_timer_stop(&rpc->pump_timer);
}

static void on_pump(uv_timer_t *t)
{
	struct rw_rpc *rpc = t->data;
	enter(rpc);
	pump(rpc);
	leave(rpc);
}

/* ---------------------------------------------------------------------
 * Closing
 */

static void finish_close(struct rw_rpc *rpc)
{
	rw_rpc_closed_cb cb = rpc->on_closed;
	void *udata = rpc->closed_udata;
	for (size_t i = 0; i < rpc->neps; i++) {
		free(rpc->eps[i]->url);
		free(rpc->eps[i]->ca_file);
		free(rpc->eps[i]);
	}
	free(rpc);
	curl_global_cleanup();
	if (cb)
		cb(udata);
}

/* The client is freed when its last handle is closed and its last parse
 * has come back from the thread pool. */
static void maybe_finish_close(struct rw_rpc *rpc)
{
	if (rpc->torn_down && rpc->open_handles == 0 && rpc->works == 0)
		finish_close(rpc);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct rw_rpc *rpc = h->data;
	rpc->open_handles--;
	maybe_finish_close(rpc);
}

static void cancel_request(struct rw_rpc *rpc, struct request *rq)
{
	fail_request(rpc, rq, RW_RPC_CANCELLED, "cancelled: the client was closed");
}

/* Stops every transfer, closes every handle, then cancels the requests
 * (their callbacks run last, with the client quiet). */
static void teardown(struct rw_rpc *rpc)
{
	struct request *cancel = NULL;
	rpc->torn_down = 1;
	uv_timer_stop(&rpc->pump_timer);
	while (rpc->inflight) {
		struct attempt *at = rpc->inflight;
		inflight_remove(rpc, at);
		at->req->next = cancel;
		cancel = at->req;
		if (at->parsing) {
			at->req = NULL; /* parse_done frees it */
			continue;
		}
		(void)curl_multi_remove_handle(rpc->multi, at->easy);
		at->ep->inflight--;
		attempt_free(at);
	}
	struct request *rq;
	while ((rq = queue_pop(rpc))) {
		rq->next = cancel;
		cancel = rq;
	}
	(void)curl_multi_cleanup(rpc->multi);
	rpc->multi = NULL;
	curl_slist_free_all(rpc->headers);
	rpc->headers = NULL;
	for (struct sock *sk = rpc->socks; sk; sk = sk->next)
		sock_close(sk);
	uv_close((uv_handle_t *)&rpc->curl_timer, on_handle_closed);
	uv_close((uv_handle_t *)&rpc->pump_timer, on_handle_closed);
	while ((rq = cancel)) {
		cancel = rq->next;
		cancel_request(rpc, rq);
	}
}

int rw_rpc_close(struct rw_rpc *rpc, rw_rpc_closed_cb on_closed, void *udata)
{
	if (!rpc || rpc->closing)
		return RW_EINVAL;
	rpc->closing = 1;
	rpc->on_closed = on_closed;
	rpc->closed_udata = udata;
	if (rpc->depth == 0)
		teardown(rpc);
	return 0;
}

/* ---------------------------------------------------------------------
 * Public API
 */

static void apply_opts(struct rw_rpc *rpc, const struct rw_rpc_opts *o)
{
	rpc->max_response = o && o->max_response ? o->max_response : RW_RPC_DEFAULT_MAX_RESPONSE;
	rpc->max_attempts = o && o->max_attempts ? o->max_attempts : DEFAULT_MAX_ATTEMPTS;
	if (rpc->max_attempts > MAX_ATTEMPTS_CAP)
		rpc->max_attempts = MAX_ATTEMPTS_CAP;
	rpc->backoff_base_ms =
		o && o->backoff_base_ms ? o->backoff_base_ms : DEFAULT_BACKOFF_BASE_MS;
	rpc->backoff_cap_ms = o && o->backoff_cap_ms ? o->backoff_cap_ms : DEFAULT_BACKOFF_CAP_MS;
}

static int setup_multi(struct rw_rpc *rpc)
{
	CURLM *m = rpc->multi;
	int bad = 0;
	bad |= curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_curl_socket) != CURLM_OK;
	bad |= curl_multi_setopt(m, CURLMOPT_SOCKETDATA, (void *)rpc) != CURLM_OK;
	bad |= curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK;
	bad |= curl_multi_setopt(m, CURLMOPT_TIMERDATA, (void *)rpc) != CURLM_OK;
	bad |= curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX) != CURLM_OK;
	return bad ? RW_EIO : 0;
}

static struct curl_slist *make_headers(void)
{
	static const char *const lines[] = { "Content-Type: application/json",
					     "Accept: application/json", "Expect:" };
	struct curl_slist *list = NULL;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct curl_slist *l = curl_slist_append(list, lines[i]);
		if (!l) {
			curl_slist_free_all(list);
			return NULL;
		}
		list = l;
	}
	return list;
}

int rw_rpc_new(struct rw_rpc **ret, uv_loop_t *loop, const struct rw_rpc_opts *opts)
{
	if (!ret || !loop)
		return RW_EINVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return RW_EIO;
	struct rw_rpc *rpc = calloc(1, sizeof(*rpc));
	if (!rpc) {
		curl_global_cleanup();
		return RW_ENOMEM;
	}
	rpc->loop = loop;
	apply_opts(rpc, opts);
	json_object_seed(0); /* seed jansson's hash here, before any parse runs on a worker */
	rpc->next_id = 1;
	rpc->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)rpc ^ 0x9E3779B97F4A7C15ULL;
	if (!rpc->rng)
		rpc->rng = 1;
	rpc->multi = curl_multi_init();
	rpc->headers = make_headers();
	int r = rpc->multi && rpc->headers ? setup_multi(rpc) : RW_ENOMEM;
	if (r < 0) {
		if (rpc->multi)
			curl_multi_cleanup(rpc->multi);
		curl_slist_free_all(rpc->headers);
		free(rpc);
		curl_global_cleanup();
		return r;
	}
	/* uv_timer_init cannot fail. */
	(void)uv_timer_init(loop, &rpc->curl_timer);
	(void)uv_timer_init(loop, &rpc->pump_timer);
	rpc->curl_timer.data = rpc;
	rpc->pump_timer.data = rpc;
	rpc->open_handles = 2;
	*ret = rpc;
	return 0;
}

static int is_http_url(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

int rw_rpc_add_endpoint(struct rw_rpc *rpc, const struct rw_rpc_endpoint_opts *o)
{
	if (!rpc || rpc->closing || !o || !o->url || !is_http_url(o->url) || o->max_rps < 0)
		return RW_EINVAL;
	if (rpc->neps >= RW_RPC_MAX_ENDPOINTS)
		return RW_ETOOBIG;
	struct endpoint *ep = calloc(1, sizeof(*ep));
	if (!ep || !(ep->url = dup_str(o->url)) ||
	    (o->ca_file && !(ep->ca_file = dup_str(o->ca_file)))) {
		if (ep)
			free(ep->url);
		free(ep);
		return RW_ENOMEM;
	}
	uint64_t now = uv_now(rpc->loop);
	ep->index = rpc->neps;
	ep->max_conc = o->max_concurrency ? o->max_concurrency : DEFAULT_CONCURRENCY;
	ep->max_rps = o->max_rps;
	ep->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	ep->rate = o->max_rps;
	ep->tokens = ep->rate > 0 ? burst(ep) : 0;
	ep->refill_ms = now;
	ep->win_start_ms = now;
	ep->err_ms = now;
	rpc->eps[rpc->neps++] = ep;
	long conns = 0;
	for (size_t i = 0; i < rpc->neps; i++)
		conns += (long)rpc->eps[i]->max_conc;
	(void)curl_multi_setopt(rpc->multi, CURLMOPT_MAXCONNECTS, conns);
	return (int)ep->index;
}

static int check_send(const struct rw_rpc *rpc, const struct rw_rpc_req *reqs, size_t n,
		      rw_rpc_cb cb)
{
	if (!rpc || rpc->closing || !reqs || n == 0 || !cb || rpc->neps == 0)
		return RW_EINVAL;
	if (n > RW_RPC_MAX_BATCH)
		return RW_ETOOBIG;
	for (size_t i = 0; i < n; i++) {
		if (!reqs[i].method)
			return RW_EINVAL;
		if (reqs[i].params && !json_is_array(reqs[i].params) &&
		    !json_is_object(reqs[i].params))
			return RW_EINVAL;
	}
	return 0;
}

int rw_rpc_send(struct rw_rpc *rpc, const struct rw_rpc_send_opts *opts,
		const struct rw_rpc_req *reqs, size_t n, rw_rpc_cb cb, void *udata)
{
	int r = check_send(rpc, reqs, n, cb);
	if (r < 0) {
		steal_params(reqs, n);
		return r;
	}
	struct request *rq = request_new(rpc, opts, reqs, n);
	if (!rq)
		return RW_ENOMEM;
	rq->cb = cb;
	rq->udata = udata;
	queue_push_tail(rpc, rq);
	rpc->pending++;
	uv_timer_start(&rpc->pump_timer, on_pump, 0, 0);
	return 0;
}

int rw_rpc_call(struct rw_rpc *rpc, const char *method, json_t *params, rw_rpc_cb cb, void *udata)
{
	struct rw_rpc_req req = { method, params };
	return rw_rpc_send(rpc, NULL, &req, 1, cb, udata);
}

int rw_rpc_batch(struct rw_rpc *rpc, const struct rw_rpc_req *reqs, size_t n, rw_rpc_cb cb,
		 void *udata)
{
	struct rw_rpc_send_opts opts = { .as_batch = 1 };
	return rw_rpc_send(rpc, &opts, reqs, n, cb, udata);
}

size_t rw_rpc_pending(const struct rw_rpc *rpc)
{
	return rpc ? rpc->pending : 0;
}

int rw_rpc_endpoint_stats(struct rw_rpc_endpoint_stats *ret, const struct rw_rpc *rpc, size_t i)
{
	if (!rpc || i >= rpc->neps)
		return RW_ENOTFOUND;
	const struct endpoint *ep = rpc->eps[i];
	uint64_t now = uv_now(rpc->loop);
	ret->requests = ep->n_requests;
	ret->ok = ep->n_ok;
	ret->failures = ep->n_failures;
	ret->rate_limited = ep->n_limited;
	ret->inflight = ep->inflight;
	ret->rps_limit = ep->rate;
	ret->latency_ms = ep->lat_ms;
	ret->error_rate = ep->err;
	ret->backoff_ms = ep->backoff_until_ms > now ? ep->backoff_until_ms - now : 0;
	return 0;
}
