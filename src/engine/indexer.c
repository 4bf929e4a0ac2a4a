/* indexer.c: the indexer's life cycle, lanes, planning, head polling,
 * progress and metrics. The design is in indexer_int.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "hex.h"
#include "indexer_int.h"
#include "log.h"
#include "metric.h"

/* ---- logging (engine/log.c) ------------------------------------------ */

_Static_assert((int)RW_INDEXER_DEBUG == (int)RW_LOG_DEBUG &&
		       (int)RW_INDEXER_ERROR == (int)RW_LOG_ERROR,
	       "log levels line up with engine/log.h");

static void vlog(const char *chain, enum rw_indexer_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vlog(const char *chain, enum rw_indexer_level level, const char *fmt, va_list ap)
{
	rw_logv(chain, (enum rw_log_level)level, fmt, ap);
}

void rw_indexer_log(const char *chain, enum rw_indexer_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(chain, level, fmt, ap);
	va_end(ap);
}

void rw_indexer_log_level(enum rw_indexer_level level)
{
	rw_log_set_level((enum rw_log_level)level);
}

void rw_indexer_say(const struct rw_indexer *ix, enum rw_indexer_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(ix->name, level, fmt, ap);
	va_end(ap);
}

uint64_t rw_indexer_now(const struct rw_indexer *ix)
{
	uv_update_time(ix->loop);
	return uv_now(ix->loop);
}

void rw_indexer_rpc_failed(struct rw_indexer *ix, const char *what, const struct rw_rpc_result *res)
{
	if (res->cls == RW_RPC_CANCELLED)
		return;
	if ((size_t)res->cls < sizeof(ix->st.rpc_errors) / sizeof(ix->st.rpc_errors[0]))
		ix->st.rpc_errors[res->cls]++;
	char *ep = rw_config_mask(res->endpoint);
	rw_indexer_say(ix, RW_INDEXER_WARN, "%s failed: %s (%s%s%s), endpoint %s, %u attempt%s",
		       what, rw_rpc_class_name(res->cls), res->message,
		       res->http_status ? ", HTTP " : "",
		       res->http_status ? (res->http_status >= 500 ? "5xx" : "status") : "",
		       ep ? ep : "?", res->attempts, res->attempts == 1 ? "" : "s");
	free(ep);
}

/* ---- the header ring ---------------------------------------------------- */

void rw_indexer_ring_put(struct ix_ring *ring, const struct ix_hdr *h)
{
	if (!ring->cap)
		return;
	size_t i = (size_t)(h->number & (ring->cap - 1));
	ring->v[i] = *h;
	ring->used[i] = 1;
}

const struct ix_hdr *rw_indexer_ring_get(const struct ix_ring *ring, uint64_t number)
{
	if (!ring->cap)
		return NULL;
	size_t i = (size_t)(number & (ring->cap - 1));
	return ring->used[i] && ring->v[i].number == number ? &ring->v[i] : NULL;
}

void rw_indexer_ring_clear(struct ix_ring *ring)
{
	if (ring->cap)
		memset(ring->used, 0, ring->cap);
}

static int ring_init(struct ix_ring *ring, uint64_t window)
{
	size_t cap = 64;
	while (cap < window + 64 && cap < ((size_t)1 << 20))
		cap <<= 1;
	ring->v = calloc(cap, sizeof(*ring->v));
	ring->used = calloc(cap, 1);
	if (!ring->v || !ring->used)
		return RW_ENOMEM;
	ring->cap = cap;
	return 0;
}

/* ---- ranges ------------------------------------------------------------- */

void rw_indexer_range_reset(struct ix_range *r)
{
	struct rw_indexer *ix = r->ix;
	if (r->rows) {
		for (size_t i = 0; i < ix->p.map->n_events; i++) {
			rw_buf_release(&r->rows[i].buf);
			for (size_t k = 0; k < r->rows[i].n_more; k++)
				rw_buf_release(&r->rows[i].more[k]);
			free(r->rows[i].more);
			r->rows[i].more = NULL;
			r->rows[i].n_more = 0;
			r->rows[i].n = 0;
		}
	}
	free(r->hdrs);
	r->hdrs = NULL;
	r->n_hdrs = 0;
	free(r->need);
	r->need = NULL;
	rw_buf_release(&r->hdr_rows);
	r->n_need = r->need_sent = 0;
	r->last_needed = 0;
	r->n_logs = r->n_rejects = 0;
	r->discovers = 0;
	ix->mem_held -= r->bytes;
	r->bytes = 0;
	ix->fetch_bytes -= r->expect;
	r->expect = 0;
}

void rw_indexer_range_free(struct ix_range *r)
{
	if (!r)
		return;
	rw_indexer_range_reset(r);
	free(r->rows);
	free(r);
}

void rw_indexer_range_unlink(struct ix_range *r)
{
	struct ix_lane *lane = r->lane;
	if (r->prev)
		r->prev->next = r->next;
	else
		lane->first = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		lane->last = r->prev;
	r->prev = r->next = NULL;
	lane->n_ranges--;
}

struct ix_range *rw_indexer_range_new(struct ix_lane *lane, uint64_t from, uint64_t to, int window)
{
	struct rw_indexer *ix = lane->ix;
	struct ix_range *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->rows = calloc(ix->p.map->n_events ? ix->p.map->n_events : 1, sizeof(*r->rows));
	if (!r->rows) {
		free(r);
		return NULL;
	}
	for (size_t i = 0; i < ix->p.map->n_events; i++)
		rw_buf_init(&r->rows[i].buf, IX_RANGE_ROWS_MAX);
	rw_buf_init(&r->hdr_rows, IX_RANGE_ROWS_MAX);
	r->ix = ix;
	r->lane = lane;
	r->from = from;
	r->to = to;
	r->window = window;
	r->state = IX_R_NEW;
	return r;
}

void rw_indexer_range_insert(struct ix_lane *lane, struct ix_range *pos, struct ix_range *r)
{
	r->lane = lane;
	r->prev = pos;
	r->next = pos ? pos->next : lane->first;
	if (r->next)
		r->next->prev = r;
	else
		lane->last = r;
	if (pos)
		pos->next = r;
	else
		lane->first = r;
	lane->n_ranges++;
}

/* Drops a range that is not being committed: freed now, or moved to the
 * dead list when its rpc request is out. */
static void range_drop(struct ix_range *r)
{
	struct rw_indexer *ix = r->ix;
	rw_indexer_range_unlink(r);
	r->lane = NULL;
	if (r->busy) {
		rw_indexer_range_reset(r);
		r->next = ix->dead;
		if (ix->dead)
			ix->dead->prev = r;
		ix->dead = r;
		return;
	}
	rw_indexer_range_free(r);
}

/* ---- lanes -------------------------------------------------------------- */

void rw_indexer_lane_free(struct ix_lane *lane)
{
	if (!lane)
		return;
	for (size_t i = 0; i < lane->n_q; i++)
		json_decref(lane->q[i].filter);
	free(lane->q);
	free(lane->plain.v);
	free(lane->watched.v);
	free(lane->src);
	free(lane->ids);
	free(lane);
}

static int cmp_src_addr(const void *a, const void *b)
{
	const struct ix_source *x = *(const struct ix_source *const *)a;
	const struct ix_source *y = *(const struct ix_source *const *)b;
	int c = memcmp(x->addr, y->addr, 20);
	return c ? c : (x->id < y->id ? -1 : x->id > y->id);
}

/* Fills a lane's derived parts from its sources: address sets, the id list
 * and the eth_getLogs filters. */
static int lane_derive(struct ix_lane *lane)
{
	size_t np = 0, nw = 0;
	for (size_t i = 0; i < lane->n_src; i++)
		lane->src[i]->watched ? nw++ : np++;
	lane->plain.v = calloc(np + 1, sizeof(*lane->plain.v));
	lane->watched.v = calloc(nw + 1, sizeof(*lane->watched.v));
	size_t idlen = 3 + lane->n_src * 21;
	lane->ids = malloc(idlen);
	if (!lane->plain.v || !lane->watched.v || !lane->ids)
		return RW_ENOMEM;
	size_t o = 0;
	lane->ids[o++] = '{';
	for (size_t i = 0; i < lane->n_src; i++) {
		struct ix_source *s = lane->src[i];
		if (s->watched)
			lane->watched.v[lane->watched.n++] = s;
		else
			lane->plain.v[lane->plain.n++] = s;
		o += (size_t)snprintf(lane->ids + o, idlen - o, "%s%" PRId64, i ? "," : "", s->id);
	}
	lane->ids[o++] = '}';
	lane->ids[o] = 0;
	qsort(lane->plain.v, lane->plain.n, sizeof(*lane->plain.v), cmp_src_addr);
	qsort(lane->watched.v, lane->watched.n, sizeof(*lane->watched.v), cmp_src_addr);
	return rw_indexer_lane_queries(lane);
}

static struct ix_lane *lane_new(struct rw_indexer *ix, struct ix_source **src, size_t n,
				uint64_t cursor)
{
	struct ix_lane *lane = calloc(1, sizeof(*lane));
	if (!lane)
		return NULL;
	lane->ix = ix;
	lane->src = malloc(n * sizeof(*lane->src));
	if (!lane->src) {
		free(lane);
		return NULL;
	}
	memcpy(lane->src, src, n * sizeof(*src));
	lane->n_src = n;
	lane->committed = lane->plan_next = cursor;
	lane->span = ix->ch->max_block_range.v ? ix->ch->max_block_range.v : 2000;
	if (lane->span > IX_FIRST_SPAN)
		lane->span = IX_FIRST_SPAN; /* slow start: the answers' size sets the pace */
	lane->span_cap = IX_MAX_SPAN;
	if (lane_derive(lane) < 0) {
		rw_indexer_lane_free(lane);
		return NULL;
	}
	return lane;
}

static int cmp_src_next(const void *a, const void *b)
{
	const struct ix_source *x = *(const struct ix_source *const *)a;
	const struct ix_source *y = *(const struct ix_source *const *)b;
	if (x->next != y->next)
		return x->next < y->next ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void lanes_drop_all(struct rw_indexer *ix);

int rw_indexer_lanes_build(struct rw_indexer *ix)
{
	lanes_drop_all(ix);
	struct ix_source **v = calloc(ix->n_src + 1, sizeof(*v));
	if (!v)
		return RW_ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < ix->n_src; i++)
		if (ix->src[i].indexed)
			v[n++] = &ix->src[i];
	qsort(v, n, sizeof(*v), cmp_src_next);
	size_t groups = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || v[i]->next != v[i - 1]->next)
			groups++;
	ix->lanes = calloc(groups + 1, sizeof(*ix->lanes));
	if (!ix->lanes) {
		free(v);
		return RW_ENOMEM;
	}
	ix->n_lanes = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && v[j]->next == v[i]->next)
			j++;
		struct ix_lane *lane = lane_new(ix, v + i, j - i, v[i]->next);
		if (!lane) {
			free(v);
			return RW_ENOMEM;
		}
		ix->lanes[ix->n_lanes++] = lane;
		i = j;
	}
	free(v);
	ix->st.lanes = ix->n_lanes;
	ix->st.sources = n;
	return 0;
}

/* Merges lane li into lane li + 1 (both hold no range, same cursor). */
static int lanes_merge(struct rw_indexer *ix, size_t li)
{
	struct ix_lane *a = ix->lanes[li], *b = ix->lanes[li + 1];
	size_t n = a->n_src + b->n_src;
	struct ix_source **v = malloc(n * sizeof(*v));
	if (!v)
		return RW_ENOMEM;
	memcpy(v, b->src, b->n_src * sizeof(*v));
	memcpy(v + b->n_src, a->src, a->n_src * sizeof(*v));
	struct ix_lane *m = lane_new(ix, v, n, b->committed);
	free(v);
	if (!m)
		return RW_ENOMEM;
	m->span = a->span < b->span ? a->span : b->span;
	m->span_cap = a->span_cap < b->span_cap ? a->span_cap : b->span_cap;
	m->bpb = a->bpb > b->bpb ? a->bpb : b->bpb;
	rw_indexer_say(ix, RW_INDEXER_INFO,
		       "lane of %zu source%s caught up at block %" PRIu64 " and joined %zu other%s",
		       a->n_src, a->n_src == 1 ? "" : "s", a->committed, b->n_src,
		       b->n_src == 1 ? "" : "s");
	rw_indexer_lane_free(a);
	rw_indexer_lane_free(b);
	ix->lanes[li + 1] = m;
	memmove(ix->lanes + li, ix->lanes + li + 1, (ix->n_lanes - li - 1) * sizeof(*ix->lanes));
	ix->n_lanes--;
	ix->st.lanes = ix->n_lanes;
	return 0;
}

static void lanes_drop_all(struct rw_indexer *ix)
{
	for (size_t i = 0; i < ix->n_lanes; i++) {
		struct ix_lane *lane = ix->lanes[i];
		while (lane->first) {
			struct ix_range *r = lane->first;
			if (r == ix->committing) {
				rw_indexer_range_unlink(r);
				r->lane = NULL;
			} else {
				range_drop(r);
			}
		}
		rw_indexer_lane_free(lane);
	}
	free(ix->lanes);
	ix->lanes = NULL;
	ix->n_lanes = 0;
	ix->st.lanes = 0;
	ix->st.ranges_inflight = 0;
}

/* ---- timers and steps --------------------------------------------------- */

static void on_kick(uv_timer_t *t);

static void arm_kick(struct rw_indexer *ix, uint64_t due)
{
	if (ix->state >= IX_S_STOPPING)
		return;
	uint64_t now = rw_indexer_now(ix);
	if (ix->kick_due && ix->kick_due <= due)
		return;
	ix->kick_due = due;
	(void)uv_timer_start(&ix->kick_timer, on_kick, due > now ? due - now : 0, 0);
}

static void next_backoff(uint64_t *b)
{
	*b = *b ? *b * 2 : IX_BACKOFF_MIN_MS;
	if (*b > IX_BACKOFF_MAX_MS)
		*b = IX_BACKOFF_MAX_MS;
}

void rw_indexer_step_retry(struct rw_indexer *ix)
{
	next_backoff(&ix->backoff_ms);
	ix->step_due = rw_indexer_now(ix) + ix->backoff_ms;
	arm_kick(ix, ix->step_due);
}

void rw_indexer_step(struct rw_indexer *ix)
{
	if (ix->step_busy || ix->state >= IX_S_STOPPING)
		return;
	if (ix->step_due && ix->step_due > rw_indexer_now(ix)) {
		arm_kick(ix, ix->step_due);
		return;
	}
	ix->step_due = 0;
	int r = 0;
	switch (ix->state) {
	case IX_S_CALLS: r = rw_indexer_calls(ix); break;
	case IX_S_UPSERT: r = rw_indexer_upsert(ix); break;
	case IX_S_LOAD: r = rw_indexer_load(ix); break;
	case IX_S_VERIFY: r = rw_indexer_verify(ix); break;
	case IX_S_WALK_DB: r = rw_indexer_walk_db(ix); break;
	case IX_S_WALK_RPC: r = rw_indexer_walk_rpc(ix); break;
	case IX_S_REWIND: r = rw_indexer_rewind(ix); break;
	default: return;
	}
	if (r < 0) {
		rw_indexer_say(ix, RW_INDEXER_ERROR, "cannot start a request: %s; retrying",
			       rw_strerror(r));
		rw_indexer_step_retry(ix);
	}
}

static void finish_stop(struct rw_indexer *ix);

static void run_after(struct rw_indexer *ix, enum ix_after after)
{
	switch (after) {
	case IX_AFTER_NONE: return;
	case IX_AFTER_STOP: finish_stop(ix); return;
	case IX_AFTER_LOAD:
		ix->state = IX_S_LOAD;
		rw_indexer_step(ix);
		return;
	case IX_AFTER_REORG: rw_indexer_walk_begin(ix); return;
	}
}

void rw_indexer_quiesce(struct rw_indexer *ix, enum ix_after after, const char *why)
{
	ix->gen++;
	lanes_drop_all(ix);
	if (after == IX_AFTER_REORG && why)
		snprintf(ix->walk.why, sizeof(ix->walk.why), "%s", why);
	if (after > ix->after)
		ix->after = after;
	if (ix->committing) {
		if (ix->state < IX_S_STOPPING)
			ix->state = IX_S_DRAIN;
		return;
	}
	enum ix_after a = ix->after;
	ix->after = IX_AFTER_NONE;
	run_after(ix, a);
}

/* ---- commits ------------------------------------------------------------ */

static void committed_ok(struct rw_indexer *ix, struct ix_range *r)
{
	struct ix_lane *lane = r->lane;
	rw_indexer_range_unlink(r);
	lane->committed = r->to + 1;
	for (size_t i = 0; i < lane->n_src; i++)
		lane->src[i]->next = r->to + 1;
	for (size_t i = 0; i < r->n_hdrs; i++) {
		rw_indexer_ring_put(&ix->ring, &r->hdrs[i]);
		if ((int64_t)r->hdrs[i].number > ix->high_water)
			ix->high_water = (int64_t)r->hdrs[i].number;
	}
	ix->st.blocks += r->to - r->from + 1;
	ix->st.logs += r->n_logs;
	ix->st.commits++;
	uint64_t now = rw_indexer_now(ix);
	rw_indexer_say(ix, RW_INDEXER_DEBUG,
		       "committed blocks %" PRIu64 "-%" PRIu64
		       "%s: %zu rows, %zu headers; fetch %" PRIu64 " ms, wait %" PRIu64
		       " ms, commit %" PRIu64 " ms; span %" PRIu64,
		       r->from, r->to, r->staged ? " (staged)" : "", r->n_logs, r->n_hdrs,
		       r->ready_ms - r->started_ms, r->commit_ms - r->ready_ms, now - r->commit_ms,
		       lane->span);
	ix->db_backoff_ms = 0;
	if (r->window && ix->high_water >= 0 &&
	    (uint64_t)ix->high_water >= ix->last_prune + IX_PRUNE_EVERY + ix->ch->reorg_window.v) {
		uint64_t keep = (uint64_t)ix->high_water - ix->ch->reorg_window.v;
		ix->last_prune = keep;
		rw_indexer_prune(ix, keep);
	}
}

void rw_indexer_commit_done(struct ix_range *r, enum ix_commit outcome, const char *msg)
{
	struct rw_indexer *ix = r->ix;
	ix->committing = NULL;
	if (!r->lane || outcome == IX_C_CLOSED) {
		if (outcome == IX_C_OK)
			ix->st.commits++;
		if (r->lane)
			rw_indexer_range_unlink(r);
		rw_indexer_range_free(r);
		enum ix_after a = ix->after;
		ix->after = IX_AFTER_NONE;
		run_after(ix, a);
		return;
	}
	switch (outcome) {
	case IX_C_OK: {
		int discovers = r->discovers;
		committed_ok(ix, r);
		rw_indexer_range_free(r);
		if (discovers) {
			rw_indexer_say(ix, RW_INDEXER_INFO,
				       "factory log committed: reloading sources to index the new "
				       "contract's history");
			ix->trust_tip = 1;
			rw_indexer_quiesce(ix, IX_AFTER_LOAD, NULL);
			return;
		}
		break;
	}
	case IX_C_GUARD:
		ix->st.db_errors++;
		rw_indexer_say(ix, RW_INDEXER_WARN,
			       "commit of blocks %" PRIu64 "-%" PRIu64 " refused: %s; reloading "
			       "cursors",
			       r->from, r->to, msg);
		rw_indexer_quiesce(ix, IX_AFTER_LOAD, NULL);
		return;
	case IX_C_LOST:
		ix->st.db_errors++;
		rw_indexer_say(ix, RW_INDEXER_WARN,
			       "connection lost while committing blocks %" PRIu64 "-%" PRIu64
			       " (%s); re-reading the cursors before going on",
			       r->from, r->to, msg);
		rw_indexer_quiesce(ix, IX_AFTER_LOAD, NULL);
		return;
	case IX_C_EXISTS:
		ix->st.db_errors++;
		rw_indexer_say(ix, RW_INDEXER_WARN,
			       "blocks %" PRIu64 "-%" PRIu64 " hold rows stored before (%s); "
			       "committing them again through the staging tables",
			       r->from, r->to, msg);
		r->state = IX_R_READY;
		break;
	default:
		ix->st.db_errors++;
		next_backoff(&ix->db_backoff_ms);
		rw_indexer_say(ix, RW_INDEXER_ERROR,
			       "commit of blocks %" PRIu64 "-%" PRIu64 " failed: %s; retrying in "
			       "%" PRIu64 " ms",
			       r->from, r->to, msg, ix->db_backoff_ms);
		r->state = IX_R_READY;
		ix->commit_block_until = rw_indexer_now(ix) + ix->db_backoff_ms;
		arm_kick(ix, ix->commit_block_until);
		break;
	}
	rw_indexer_pump(ix);
}

/* ---- planning ----------------------------------------------------------- */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The lane that follows the head: the highest one whose cursor is not
 * beyond the head (lanes above it wait for sources that start in the
 * future; the head will reach them). */
static size_t top_lane(const struct rw_indexer *ix)
{
	size_t t = 0;
	for (size_t i = 1; i < ix->n_lanes; i++)
		if (!ix->head_known || ix->lanes[i]->committed <= ix->head.number + 1)
			t = i;
	return t;
}

/* Computes the next range of lane li: below the lane above it; for the top
 * lane, backfill ranges up to the unconfirmed window, then window ranges
 * (every header) up to the head. Returns 1 and fills *from, *to, *window,
 * or 0 when the lane cannot plan now. */
static int next_range(struct rw_indexer *ix, size_t li, uint64_t *from, uint64_t *to, int *window)
{
	struct ix_lane *lane = ix->lanes[li];
	uint64_t p = lane->plan_next;
	uint64_t bound = li + 1 < ix->n_lanes ? ix->lanes[li + 1]->committed : UINT64_MAX;
	*from = p;
	*window = 0;
	if (p >= bound)
		return 0;
	if (li != top_lane(ix)) {
		if (!ix->head_known || p > ix->head.number)
			return 0;
		*to = min_u64(min_u64(p + lane->span - 1, bound - 1), ix->head.number);
		return 1;
	}
	if (!ix->head_known || p > ix->head.number)
		return 0;
	uint64_t h = ix->head.number, rw = ix->ch->reorg_window.v;
	uint64_t w = h + 1 > rw ? h + 1 - rw : 0;
	if (p < w) {
		*to = min_u64(min_u64(p + lane->span - 1, w - 1), bound - 1);
		return 1;
	}
	*window = 1;
	*to = min_u64(min_u64(p + min_u64(ix->p.window_batch, lane->span) - 1, h), bound - 1);
	return 1;
}

/* The ranges of lane still being fetched (not ready, not committing). */
static size_t fetching(const struct ix_lane *lane)
{
	size_t n = 0;
	for (const struct ix_range *r = lane->first; r; r = r->next)
		n += r->state != IX_R_READY && r->state != IX_R_COMMIT;
	return n;
}

/* Plans and fetches ranges of lane li: at most max_inflight being fetched;
 * ready ones wait for their commit (and merge into one) as long as their
 * rows stay under mem_budget; the answers expected stay under
 * IX_FETCH_BUDGET. */
static void plan_lane(struct rw_indexer *ix, size_t li)
{
	struct ix_lane *lane = ix->lanes[li];
	while (!lane->held && lane->n_ranges < IX_MAX_RANGES &&
	       fetching(lane) < ix->p.max_inflight) {
		if (lane->n_ranges > 0 && ix->mem_held >= ix->p.mem_budget)
			return;
		/* slow start: one range until an answer tells the size of blocks */
		if (lane->n_ranges > 0 && !lane->bpb)
			return;
		if (ix->fetch_bytes && ix->fetch_bytes + lane->span * lane->bpb > IX_FETCH_BUDGET)
			return;
		uint64_t from, to;
		int window;
		if (!next_range(ix, li, &from, &to, &window))
			return;
		struct ix_range *r = rw_indexer_range_new(lane, from, to, window);
		if (!r)
			return;
		rw_indexer_range_insert(lane, lane->last, r);
		lane->plan_next = to + 1;
		r->started_ms = rw_indexer_now(ix);
		if (rw_indexer_fetch(r) < 0) {
			r->state = IX_R_WAIT;
			r->retry_at = rw_indexer_now(ix) + IX_BACKOFF_MIN_MS;
		}
	}
}

/* Refetches ranges whose retry time has come; returns the earliest retry
 * time still ahead (0: none). */
static uint64_t retry_due(struct rw_indexer *ix)
{
	uint64_t now = rw_indexer_now(ix), next = 0;
	for (size_t li = 0; li < ix->n_lanes; li++) {
		for (struct ix_range *r = ix->lanes[li]->first; r; r = r->next) {
			if (r->state != IX_R_WAIT && r->state != IX_R_NEW)
				continue;
			if (r->retry_at > now) {
				if (!next || r->retry_at < next)
					next = r->retry_at;
				continue;
			}
			if (rw_indexer_fetch(r) < 0) {
				r->state = IX_R_WAIT;
				r->retry_at = now + IX_BACKOFF_MIN_MS;
			}
		}
	}
	return next;
}

/* Checks that a window range continues the stored chain. Returns 0, or -1
 * after starting a reorg. */
static int check_parent(struct rw_indexer *ix, struct ix_range *r)
{
	if (!r->window || r->n_hdrs == 0 || r->from == 0)
		return 0;
	const struct ix_hdr *below = rw_indexer_ring_get(&ix->ring, r->from - 1);
	if (!below || memcmp(below->hash, r->hdrs[0].parent, 32) == 0)
		return 0;
	char a[67], b[67], why[160];
	rw_hex_encode(a, r->hdrs[0].parent, 32, 1);
	rw_hex_encode(b, below->hash, 32, 1);
	snprintf(why, sizeof(why),
		 "block %" PRIu64 " has parent %.18s..., stored block %" PRIu64 " is %.18s...",
		 r->from, a, r->from - 1, b);
	rw_indexer_quiesce(ix, IX_AFTER_REORG, why);
	return -1;
}

static void commit_next(struct rw_indexer *ix)
{
	if (ix->committing || ix->commit_block_until > rw_indexer_now(ix))
		return;
	for (size_t k = ix->n_lanes; k-- > 0;) {
		struct ix_range *r = ix->lanes[k]->first;
		if (!r || r->state != IX_R_READY)
			continue;
		if (check_parent(ix, r) < 0)
			return;
		while (rw_indexer_range_absorb(r) == 1)
			;
		int rc = rw_indexer_commit(r);
		if (rc < 0) {
			rw_indexer_say(ix, RW_INDEXER_ERROR, "cannot submit a commit: %s",
				       rw_strerror(rc));
			ix->commit_block_until = rw_indexer_now(ix) + IX_BACKOFF_MIN_MS;
			arm_kick(ix, ix->commit_block_until);
		}
		return;
	}
}

/* Merges lanes that met. Holds a lane (it plans nothing) while the lane
 * below it can close the gap in one round of ranges: covering a short gap
 * and merging is cheaper than two lanes covering the same blocks. A lane far
 * behind (a new source with a long history) is not waited for: the lanes
 * above it go on, the top one following the head. */
static void merge_lanes(struct rw_indexer *ix)
{
	for (size_t li = 0; li < ix->n_lanes; li++)
		ix->lanes[li]->held = 0;
	for (size_t li = 0; li + 1 < ix->n_lanes;) {
		struct ix_lane *a = ix->lanes[li], *b = ix->lanes[li + 1];
		if (a->committed == b->committed && !a->n_ranges && !b->n_ranges) {
			if (lanes_merge(ix, li) < 0)
				return;
			continue;
		}
		uint64_t reach = a->span * ix->p.max_inflight;
		if (a->plan_next + reach >= b->committed)
			b->held = 1;
		li++;
	}
}

/* Logs "caught up" once per catch-up: when every source has reached the
 * head after a backlog (start, reload, or more than a batch behind). */
static void note_caught_up(struct rw_indexer *ix)
{
	uint64_t low = ix->n_lanes ? ix->lanes[0]->committed : 0;
	int up = ix->head_known && ix->n_lanes && low >= ix->head.number + 1;
	ix->st.caught_up = up;
	if (up && !ix->said_caught_up) {
		rw_indexer_say(ix, RW_INDEXER_INFO,
			       "caught up at block %" PRIu64 " (%zu source%s, %" PRIu64
			       " blocks and %" PRIu64 " rows since start)",
			       ix->head.number, ix->st.sources, ix->st.sources == 1 ? "" : "s",
			       ix->st.blocks, ix->st.logs);
		ix->said_caught_up = 1;
	}
	if (ix->head_known && ix->head.number + 1 > low + ix->p.window_batch)
		ix->said_caught_up = 0;
}

void rw_indexer_pump(struct rw_indexer *ix)
{
	if (ix->state != IX_S_RUN)
		return;
	merge_lanes(ix);
	for (size_t k = ix->n_lanes; k-- > 0;)
		plan_lane(ix, k);
	uint64_t next = retry_due(ix);
	if (next)
		arm_kick(ix, next);
	if (ix->state != IX_S_RUN)
		return;
	commit_next(ix);
	if (ix->state == IX_S_RUN)
		note_caught_up(ix);
	size_t inflight = 0;
	for (size_t k = 0; k < ix->n_lanes; k++)
		inflight += ix->lanes[k]->n_ranges;
	ix->st.ranges_inflight = inflight;
}

/* ---- polling the head --------------------------------------------------- */

static void check_head(struct rw_indexer *ix)
{
	const struct ix_hdr *h = &ix->head;
	const struct ix_hdr *stored = rw_indexer_ring_get(&ix->ring, h->number);
	char why[160];
	if (stored && memcmp(stored->hash, h->hash, 32) != 0) {
		snprintf(why, sizeof(why), "the head block %" PRIu64 " differs from the stored one",
			 h->number);
		rw_indexer_quiesce(ix, IX_AFTER_REORG, why);
		return;
	}
	if (ix->high_water >= 0 && h->number < (uint64_t)ix->high_water) {
		if (++ix->head_behind == 1)
			rw_indexer_say(ix, RW_INDEXER_WARN,
				       "the node's head %" PRIu64
				       " is below the indexed tip %" PRId64,
				       h->number, ix->high_water);
		if (ix->head_behind >= IX_HEAD_BEHIND_POLLS) {
			snprintf(why, sizeof(why),
				 "the head stayed at %" PRIu64 ", below the indexed tip %" PRId64,
				 h->number, ix->high_water);
			ix->head_behind = 0;
			rw_indexer_quiesce(ix, IX_AFTER_REORG, why);
		}
		return;
	}
	ix->head_behind = 0;
}

static void on_poll(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata)
{
	struct rw_indexer *ix = udata;
	(void)rpc;
	ix->poll_busy = 0;
	if (ix->state >= IX_S_STOPPING)
		return;
	struct ix_hdr h;
	if (res[0].cls != RW_RPC_OK) {
		/* once, then about once a minute while it lasts */
		uint64_t every =
			60000 / (ix->ch->poll_interval_ms.v ? ix->ch->poll_interval_ms.v : 1000);
		if (ix->poll_failures++ % (every ? every : 1) == 0)
			rw_indexer_rpc_failed(ix, "head poll", &res[0]);
		else if ((size_t)res[0].cls <= RW_RPC_OTHER)
			ix->st.rpc_errors[res[0].cls]++;
		return;
	}
	if (ix->poll_failures) {
		rw_indexer_say(ix, RW_INDEXER_INFO,
			       "head poll works again after %" PRIu64 " failure%s",
			       ix->poll_failures, ix->poll_failures == 1 ? "" : "s");
		ix->poll_failures = 0;
	}
	if (rw_indexer_parse_header(&h, res[0].result) < 0) {
		ix->st.rpc_errors[RW_RPC_BAD_RESPONSE]++;
		rw_indexer_say(ix, RW_INDEXER_WARN, "head poll: the latest block is not a header");
		return;
	}
	if (n > 1) {
		struct ix_hdr f;
		if (res[1].cls == RW_RPC_OK && rw_indexer_parse_header(&f, res[1].result) == 0) {
			ix->finalized = f.number;
		} else if (res[1].cls == RW_RPC_OK || res[1].cls == RW_RPC_OTHER) {
			ix->finalized_ok = 0;
			rw_indexer_say(
				ix, RW_INDEXER_INFO,
				"the node does not report a finalized block; not asking again");
		}
	}
	ix->st.finalized = ix->finalized;
	int first = !ix->head_known;
	ix->head = h;
	ix->head_known = 1;
	ix->st.head = h.number;
	if (first)
		rw_indexer_say(ix, RW_INDEXER_INFO, "head is block %" PRIu64, h.number);
	if (ix->state == IX_S_RUN)
		check_head(ix);
	rw_indexer_pump(ix);
}

static void poll_send(struct rw_indexer *ix)
{
	if (ix->poll_busy || ix->state >= IX_S_STOPPING)
		return;
	struct rw_rpc_req reqs[2] = {
		{ "eth_getBlockByNumber", rw_indexer_block_params(0, "latest") },
		{ "eth_getBlockByNumber", rw_indexer_block_params(0, "finalized") },
	};
	size_t n = ix->finalized_ok ? 2 : 1;
	if (n == 1)
		json_decref(reqs[1].params);
	struct rw_rpc_send_opts o = { .as_batch = 1 };
	if (rw_rpc_send(ix->p.rpc, &o, reqs, n, on_poll, ix) == 0)
		ix->poll_busy = 1;
}

static void on_poll_timer(uv_timer_t *t)
{
	poll_send(t->data);
}

void rw_indexer_run(struct rw_indexer *ix)
{
	ix->state = IX_S_RUN;
	ix->said_caught_up = 0;
	ix->backoff_ms = 0;
	if (ix->n_lanes) {
		const struct ix_lane *low = ix->lanes[0], *top = ix->lanes[ix->n_lanes - 1];
		if (ix->n_lanes == 1)
			rw_indexer_say(ix, RW_INDEXER_INFO,
				       "indexing %zu source%s from block %" PRIu64, top->n_src,
				       top->n_src == 1 ? "" : "s", top->committed);
		else
			rw_indexer_say(ix, RW_INDEXER_INFO,
				       "indexing %zu sources in %zu lanes: the highest from block "
				       "%" PRIu64 ", the lowest from block %" PRIu64,
				       ix->st.sources, ix->n_lanes, top->committed, low->committed);
	} else {
		rw_indexer_say(ix, RW_INDEXER_WARN,
			       "nothing to index: no configured contract has events in the map");
	}
	poll_send(ix);
	rw_indexer_pump(ix);
}

/* ---- progress ----------------------------------------------------------- */

static uint64_t next_block_top(const struct rw_indexer *ix)
{
	return ix->n_lanes ? ix->lanes[top_lane(ix)]->committed : 0;
}

static void on_progress(uv_timer_t *t)
{
	struct rw_indexer *ix = t->data;
	uint64_t now = rw_indexer_now(ix);
	double dt = (double)(now - ix->prog_ms) / 1000.0;
	uint64_t db = ix->st.blocks - ix->prog_blocks, dl = ix->st.logs - ix->prog_logs;
	ix->prog_ms = now;
	ix->prog_blocks = ix->st.blocks;
	ix->prog_logs = ix->st.logs;
	if (ix->state != IX_S_RUN || (ix->st.caught_up && db == 0) || dt <= 0)
		return;
	uint64_t next = next_block_top(ix);
	uint64_t behind =
		ix->head_known && ix->head.number + 1 > next ? ix->head.number + 1 - next : 0;
	uint64_t errs = 0;
	for (size_t i = 0; i <= RW_RPC_OTHER; i++)
		errs += ix->st.rpc_errors[i];
	rw_indexer_say(ix, RW_INDEXER_INFO,
		       "progress: block %" PRIu64 " of %" PRIu64 " (%" PRIu64
		       " behind), %.1f blocks/s, %.1f logs/s, %zu lane%s, %zu range%s in flight, "
		       "%.1f MiB held, %" PRIu64 " rpc errors, %" PRIu64 " reorgs",
		       next ? next - 1 : 0, ix->head.number, behind, (double)db / dt,
		       (double)dl / dt, ix->n_lanes, ix->n_lanes == 1 ? "" : "s",
		       ix->st.ranges_inflight, ix->st.ranges_inflight == 1 ? "" : "s",
		       (double)ix->mem_held / 1048576.0, errs, ix->st.reorgs);
}

static void on_kick(uv_timer_t *t)
{
	struct rw_indexer *ix = t->data;
	ix->kick_due = 0;
	if (ix->state >= IX_S_STOPPING)
		return;
	if (ix->state != IX_S_RUN) {
		rw_indexer_step(ix);
		return;
	}
	rw_indexer_pump(ix);
}

/* ---- life cycle --------------------------------------------------------- */

int rw_indexer_new(struct rw_indexer **ret, uv_loop_t *loop, const struct rw_indexer_params *p)
{
	if (!ret || !loop || !p || !p->chain || !p->map || !p->rpc || !p->pg)
		return RW_EINVAL;
	struct rw_indexer *ix = calloc(1, sizeof(*ix));
	if (!ix)
		return RW_ENOMEM;
	ix->loop = loop;
	ix->p = *p;
	if (!ix->p.max_inflight)
		ix->p.max_inflight = IX_DEFAULT_INFLIGHT;
	if (ix->p.max_inflight > IX_MAX_INFLIGHT)
		ix->p.max_inflight = IX_MAX_INFLIGHT;
	if (!ix->p.mem_budget)
		ix->p.mem_budget = IX_DEFAULT_MEM;
	if (!ix->p.progress_ms)
		ix->p.progress_ms = IX_DEFAULT_PROGRESS_MS;
	if (!ix->p.window_batch)
		ix->p.window_batch = IX_DEFAULT_WINDOW_BATCH;
	ix->ch = p->chain;
	ix->name = p->chain->name;
	snprintf(ix->chain_id, sizeof(ix->chain_id), "%" PRIu64, p->chain->chain_id);
	ix->high_water = -1;
	ix->finalized_ok = 1;
	ix->walk.deepest = -1;
	if (ring_init(&ix->ring, p->chain->reorg_window.v) < 0) {
		rw_indexer_free(ix);
		return RW_ENOMEM;
	}
	uv_timer_init(loop, &ix->poll_timer);
	uv_timer_init(loop, &ix->kick_timer);
	uv_timer_init(loop, &ix->progress_timer);
	ix->poll_timer.data = ix->kick_timer.data = ix->progress_timer.data = ix;
	ix->timers_open = 3;
	*ret = ix;
	return 0;
}

int rw_indexer_start(struct rw_indexer *ix)
{
	if (ix->state != IX_S_NEW)
		return RW_EINVAL;
	ix->state = IX_S_CALLS;
	ix->prog_ms = rw_indexer_now(ix);
	rw_indexer_say(ix, RW_INDEXER_INFO,
		       "indexer starting: chain id %s, %zu token%s, %zu provider%s, %zu "
		       "marketplace%s, %zu balance contract%s, confirmations %" PRIu64
		       ", reorg window %" PRIu64 ", poll every %" PRIu64 " ms",
		       ix->chain_id, ix->ch->n_tokens, ix->ch->n_tokens == 1 ? "" : "s",
		       ix->ch->n_providers, ix->ch->n_providers == 1 ? "" : "s",
		       ix->ch->n_marketplaces, ix->ch->n_marketplaces == 1 ? "" : "s",
		       ix->ch->n_balances, ix->ch->n_balances == 1 ? "" : "s",
		       ix->ch->confirmations.v, ix->ch->reorg_window.v, ix->ch->poll_interval_ms.v);
	uint64_t poll = ix->ch->poll_interval_ms.v ? ix->ch->poll_interval_ms.v : 1000;
	(void)uv_timer_start(&ix->poll_timer, on_poll_timer, 0, poll);
	(void)uv_timer_start(&ix->progress_timer, on_progress, ix->p.progress_ms,
			     ix->p.progress_ms);
	arm_kick(ix, rw_indexer_now(ix));
	return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
	struct rw_indexer *ix = h->data;
	if (--ix->timers_open > 0)
		return;
	ix->state = IX_S_STOPPED;
	if (ix->on_stopped)
		ix->on_stopped(ix->stop_arg);
}

static void finish_stop(struct rw_indexer *ix)
{
	ix->state = IX_S_STOPPING;
	uv_close((uv_handle_t *)&ix->poll_timer, on_timer_closed);
	uv_close((uv_handle_t *)&ix->kick_timer, on_timer_closed);
	uv_close((uv_handle_t *)&ix->progress_timer, on_timer_closed);
}

int rw_indexer_stop(struct rw_indexer *ix, void (*on_stopped)(void *arg), void *arg)
{
	if (ix->state >= IX_S_STOPPING || ix->after == IX_AFTER_STOP)
		return RW_EINVAL;
	ix->on_stopped = on_stopped;
	ix->stop_arg = arg;
	uv_timer_stop(&ix->poll_timer);
	uv_timer_stop(&ix->kick_timer);
	uv_timer_stop(&ix->progress_timer);
	if (ix->committing)
		rw_indexer_say(ix, RW_INDEXER_INFO,
			       "stopping: waiting for the commit of blocks %" PRIu64 "-%" PRIu64,
			       ix->committing->from, ix->committing->to);
	ix->state = IX_S_STOPPING;
	ix->gen++;
	lanes_drop_all(ix);
	if (ix->committing) {
		ix->after = IX_AFTER_STOP;
		return 0;
	}
	finish_stop(ix);
	return 0;
}

struct rw_indexer *rw_indexer_free(struct rw_indexer *ix)
{
	if (!ix)
		return NULL;
	lanes_drop_all(ix);
	while (ix->dead) {
		struct ix_range *r = ix->dead;
		ix->dead = r->next;
		rw_indexer_range_free(r);
	}
	if (ix->committing)
		rw_indexer_range_free(ix->committing);
	for (size_t i = 0; i < ix->n_src; i++)
		free(ix->src[i].kind);
	free(ix->src);
	free(ix->watched);
	free(ix->prov);
	free(ix->bal);
	free(ix->ring.v);
	free(ix->ring.used);
	free(ix->walk.page);
	free(ix);
	return NULL;
}

/* ---- stats and metrics -------------------------------------------------- */

void rw_indexer_get_stats(struct rw_indexer_stats *ret, const struct rw_indexer *ix)
{
	*ret = ix->st;
	ret->next_block = next_block_top(ix);
	ret->min_next_block = ix->n_lanes ? ix->lanes[0]->committed : 0;
	ret->mem_held = ix->mem_held;
}

struct metric {
	const char *name, *type, *help;
};

static const struct metric metrics[] = {
	{ "runway_indexer_head_block", "gauge", "Latest block the node reported." },
	{ "runway_indexer_indexed_block", "gauge", "Last block indexed by the top lane." },
	{ "runway_indexer_blocks_behind", "gauge", "Blocks between the head and the indexed tip." },
	{ "runway_indexer_finalized_block", "gauge", "The node's finalized block (0: unknown)." },
	{ "runway_indexer_caught_up", "gauge", "1 when every source is indexed to the head." },
	{ "runway_indexer_lanes", "gauge",
	  "Groups of sources with one cursor (1 when caught up)." },
	{ "runway_indexer_sources", "gauge", "Contracts indexed." },
	{ "runway_indexer_ranges_inflight", "gauge", "Block ranges fetched or being fetched." },
	{ "runway_indexer_memory_bytes", "gauge", "Bytes of rows waiting for their commit." },
	{ "runway_indexer_blocks_total", "counter", "Blocks committed since start." },
	{ "runway_indexer_logs_total", "counter", "Event rows written since start." },
	{ "runway_indexer_rejected_logs_total", "counter", "Malformed logs skipped." },
	{ "runway_indexer_commits_total", "counter", "Transactions committed." },
	{ "runway_indexer_db_errors_total", "counter", "Failed or refused commits." },
	{ "runway_indexer_reorgs_total", "counter", "Reorgs handled." },
	{ "runway_indexer_reorg_last_depth", "gauge", "Depth of the last reorg in blocks." },
	{ "runway_indexer_reorg_max_depth", "gauge", "Deepest reorg since start." },
	{ "runway_indexer_rpc_errors_total", "counter",
	  "Failed JSON-RPC requests by class, after the client's retries." },
	{ "runway_rpc_requests_total", "counter", "HTTP requests per endpoint." },
	{ "runway_rpc_ok_total", "counter", "Valid answers per endpoint." },
	{ "runway_rpc_failures_total", "counter", "Transport, timeout, bad-response failures." },
	{ "runway_rpc_rate_limited_total", "counter", "Requests refused for rate per endpoint." },
	{ "runway_rpc_latency_ms", "gauge", "EWMA latency of successful requests per endpoint." },
	{ "runway_rpc_inflight", "gauge", "HTTP requests in flight per endpoint." },
};

static int head_lines(struct rw_buf *out, const struct metric *m)
{
	return rw_metric_head(out, 1, m->name, m->type, m->help);
}

static int gauge(struct rw_buf *out, int header, size_t i, const char *chain, uint64_t v)
{
	int r = header ? head_lines(out, &metrics[i]) : 0;
	return r ? r
		 : rw_buf_appendf(out, "%s{chain=\"%s\"} %" PRIu64 "\n", metrics[i].name, chain, v);
}

/* Writes a label value: backslash, quote and newline escaped. */
static void label(char *out, size_t n, const char *s)
{
	size_t o = 0;
	for (; s && *s && o + 3 < n; s++) {
		if (*s == '\\' || *s == '"')
			out[o++] = '\\';
		out[o++] = *s == '\n' ? ' ' : *s;
	}
	out[o] = 0;
}

static int rpc_metrics(struct rw_buf *out, const struct rw_indexer *ix, int header)
{
	const char *chain = ix->name;
	int r = 0;
	if (header)
		r = head_lines(out, &metrics[17]);
	for (size_t c = 1; r == 0 && c <= RW_RPC_OTHER; c++)
		if (c != RW_RPC_CANCELLED)
			r = rw_buf_appendf(out, "%s{chain=\"%s\",class=\"%s\"} %" PRIu64 "\n",
					   metrics[17].name, chain,
					   rw_rpc_class_name((enum rw_rpc_class)c),
					   ix->st.rpc_errors[c]);
	for (size_t m = 18; r == 0 && m < sizeof(metrics) / sizeof(metrics[0]); m++) {
		if (header)
			r = head_lines(out, &metrics[m]);
		for (size_t e = 0; r == 0 && e < ix->ch->n_rpc; e++) {
			struct rw_rpc_endpoint_stats s;
			if (rw_rpc_endpoint_stats(&s, ix->p.rpc, e) < 0)
				continue;
			char *masked = rw_config_mask(ix->ch->rpc[e].url.v);
			char ep[512];
			label(ep, sizeof(ep), masked ? masked : "?");
			free(masked);
			double v = m == 18   ? (double)s.requests
				   : m == 19 ? (double)s.ok
				   : m == 20 ? (double)s.failures
				   : m == 21 ? (double)s.rate_limited
				   : m == 22 ? s.latency_ms
					     : (double)s.inflight;
			r = rw_buf_appendf(out, "%s{chain=\"%s\",endpoint=\"%s\"} %.6g\n",
					   metrics[m].name, chain, ep, v);
		}
	}
	return r;
}

int rw_indexer_metrics(struct rw_buf *out, const struct rw_indexer *ix, int header)
{
	struct rw_indexer_stats s;
	rw_indexer_get_stats(&s, ix);
	uint64_t indexed = s.next_block ? s.next_block - 1 : 0;
	uint64_t behind = s.head > indexed ? s.head - indexed : 0;
	const uint64_t v[] = { s.head,
			       indexed,
			       behind,
			       s.finalized,
			       (uint64_t)s.caught_up,
			       s.lanes,
			       s.sources,
			       s.ranges_inflight,
			       s.mem_held,
			       s.blocks,
			       s.logs,
			       s.rejects,
			       s.commits,
			       s.db_errors,
			       s.reorgs,
			       s.reorg_last_depth,
			       s.reorg_max_depth };
	int r = 0;
	for (size_t i = 0; r == 0 && i < sizeof(v) / sizeof(v[0]); i++)
		r = gauge(out, header, i, ix->name, v[i]);
	return r ? r : rpc_metrics(out, ix, header);
}
