/* indexer_reorg.c: checking the stored tip against the chain, walking the
 * stored headers back to the common ancestor, and the rewind transaction.
 * The design is in indexer_int.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hex.h"
#include "indexer_int.h"

static const char sql_walk[] =
	"SELECT number, encode(hash, 'hex'), encode(parent_hash, 'hex'), timestamp "
	"FROM indexer_block WHERE chain_id = $1::bigint AND number <= $2::bigint "
	"ORDER BY number DESC LIMIT $3::bigint";

static const char sql_rewind[] = "SELECT rw_indexer_rewind($1::bigint, $2::bigint)";

static const char sql_head[] =
	"INSERT INTO chain_head (chain_id, head_number, head_hash, head_timestamp, confirmations) "
	"VALUES ($1::bigint, $2::bigint, decode($3, 'hex'), $4::bigint, $5::integer) "
	"ON CONFLICT (chain_id) DO UPDATE SET head_number = EXCLUDED.head_number, "
	"head_hash = EXCLUDED.head_hash, head_timestamp = EXCLUDED.head_timestamp, "
	"confirmations = EXCLUDED.confirmations, updated_at = now()";

static const char sql_head_drop[] = "DELETE FROM chain_head WHERE chain_id = $1::bigint";

/* The generation a request was made in. */
struct req {
	struct rw_indexer *ix;
	uint64_t gen;
};

static struct req *req_new(struct rw_indexer *ix)
{
	struct req *q = malloc(sizeof(*q));
	if (q) {
		q->ix = ix;
		q->gen = ix->gen;
	}
	return q;
}

/* Frees q; returns ix when its answer still matters, else NULL. */
static struct rw_indexer *req_end(struct req *q)
{
	struct rw_indexer *ix = q->ix;
	uint64_t gen = q->gen;
	free(q);
	ix->step_busy = 0;
	if (ix->state >= IX_S_STOPPING)
		return NULL;
	if (gen != ix->gen) {
		rw_indexer_step(ix);
		return NULL;
	}
	return ix;
}

static int get_row(struct ix_hdr *h, const PGresult *res, int i)
{
	const char *num = PQgetvalue(res, i, 0), *ts = PQgetvalue(res, i, 3);
	char *e1, *e2;
	h->number = strtoull(num, &e1, 10);
	h->timestamp = strtoull(ts, &e2, 10);
	if (*e1 || *e2 || !*num || !*ts)
		return RW_EINVAL;
	if (rw_hex_decode_fixed(h->hash, 32, PQgetvalue(res, i, 1), 64, RW_HEX_PREFIX_FORBIDDEN) ||
	    rw_hex_decode_fixed(h->parent, 32, PQgetvalue(res, i, 2), 64, RW_HEX_PREFIX_FORBIDDEN))
		return RW_EINVAL;
	return 0;
}

static void pg_line(char *out, size_t n, const struct rw_pg_error *e)
{
	snprintf(out, n, "%s%s%s", e->sqlstate[0] ? e->sqlstate : "", e->sqlstate[0] ? " " : "",
		 e->message);
}

/* ---- the stored tip ----------------------------------------------------- */

static void on_verify(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata)
{
	struct rw_indexer *ix = req_end(udata);
	(void)rpc;
	(void)n;
	if (!ix)
		return;
	if (res[0].cls != RW_RPC_OK) {
		rw_indexer_rpc_failed(ix, "checking the stored tip", &res[0]);
		rw_indexer_step_retry(ix);
		return;
	}
	const struct ix_hdr *tip = rw_indexer_ring_get(&ix->ring, (uint64_t)ix->high_water);
	struct ix_hdr h;
	int on_chain = !json_is_null(res[0].result) &&
		       rw_indexer_parse_header(&h, res[0].result) == 0 && tip &&
		       memcmp(h.hash, tip->hash, 32) == 0;
	if (!on_chain) {
		snprintf(ix->walk.why, sizeof(ix->walk.why),
			 "the stored tip, block %" PRId64 ", is not on the chain", ix->high_water);
		rw_indexer_walk_begin(ix);
		return;
	}
	rw_indexer_run(ix);
}

int rw_indexer_verify(struct rw_indexer *ix)
{
	if (ix->high_water < 0) {
		rw_indexer_run(ix);
		return 0;
	}
	struct req *q = req_new(ix);
	if (!q)
		return RW_ENOMEM;
	int rc = rw_rpc_call(ix->p.rpc, "eth_getBlockByNumber",
			     rw_indexer_block_params((uint64_t)ix->high_water, NULL), on_verify, q);
	if (rc < 0) {
		free(q);
		return rc;
	}
	ix->step_busy = 1;
	return 0;
}

/* ---- the walk back ------------------------------------------------------ */

void rw_indexer_walk_begin(struct rw_indexer *ix)
{
	struct ix_walk *w = &ix->walk;
	free(w->page);
	w->page = NULL;
	w->n_page = 0;
	w->found = 0;
	w->deepest = -1;
	if (ix->high_water < 0) {
		rw_indexer_say(ix, RW_INDEXER_WARN, "reorg suspected (%s), but no header is stored",
			       w->why);
		ix->state = IX_S_LOAD;
		rw_indexer_step(ix);
		return;
	}
	w->old_tip = (uint64_t)ix->high_water;
	w->below = w->old_tip;
	rw_indexer_say(ix, RW_INDEXER_WARN, "reorg: %s; looking for the common ancestor", w->why);
	ix->state = IX_S_WALK_DB;
	rw_indexer_step(ix);
}

static void on_walk_db(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_indexer *ix = req_end(arg);
	(void)pg;
	if (!ix)
		return;
	struct ix_walk *w = &ix->walk;
	if (reply->error) {
		char m[512];
		pg_line(m, sizeof(m), reply->error);
		rw_indexer_say(ix, RW_INDEXER_ERROR, "reorg: reading stored headers failed: %s", m);
		rw_indexer_step_retry(ix);
		return;
	}
	const PGresult *res = reply->results[0];
	int n = PQntuples(res);
	free(w->page);
	w->page = calloc((size_t)n + 1, sizeof(*w->page));
	w->n_page = 0;
	if (!w->page) {
		rw_indexer_step_retry(ix);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (get_row(&w->page[i], res, i) < 0) {
			rw_indexer_step_retry(ix);
			return;
		}
	}
	w->n_page = (size_t)n;
	ix->backoff_ms = 0;
	ix->state = n ? IX_S_WALK_RPC : IX_S_REWIND;
	rw_indexer_step(ix);
}

int rw_indexer_walk_db(struct rw_indexer *ix)
{
	char below[24], lim[24];
	snprintf(below, sizeof(below), "%" PRIu64, ix->walk.below);
	snprintf(lim, sizeof(lim), "%d", IX_WALK_PAGE);
	const char *v[] = { ix->chain_id, below, lim };
	struct rw_pg_job *job = rw_pg_job_new(0);
	struct req *q = req_new(ix);
	int rc = job && q ? rw_pg_job_sql(job, sql_walk, 3, v, NULL, NULL, 0) : RW_ENOMEM;
	if (rc == 0)
		rc = rw_pg_submit(ix->p.pg, job, on_walk_db, q);
	else
		rw_pg_job_free(job);
	if (rc < 0) {
		free(q);
		return rc;
	}
	ix->step_busy = 1;
	return 0;
}

static void on_walk_rpc(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata)
{
	struct rw_indexer *ix = req_end(udata);
	(void)rpc;
	if (!ix)
		return;
	struct ix_walk *w = &ix->walk;
	for (size_t i = 0; i < n; i++) {
		if (res[i].cls != RW_RPC_OK) {
			rw_indexer_rpc_failed(ix, "reorg: reading the chain's headers", &res[i]);
			rw_indexer_step_retry(ix);
			return;
		}
	}
	for (size_t i = 0; i < n && i < w->n_page; i++) {
		struct ix_hdr h;
		if (json_is_null(res[i].result))
			continue;
		if (rw_indexer_parse_header(&h, res[i].result) < 0) {
			rw_indexer_say(ix, RW_INDEXER_WARN,
				       "reorg: a header is malformed; retrying");
			rw_indexer_step_retry(ix);
			return;
		}
		if (h.number == w->page[i].number && memcmp(h.hash, w->page[i].hash, 32) == 0) {
			w->found = 1;
			w->ancestor = w->page[i];
			break;
		}
	}
	ix->backoff_ms = 0;
	if (!w->found) {
		uint64_t low = w->page[w->n_page - 1].number;
		w->deepest = (int64_t)low;
		if (low > 0) {
			w->below = low - 1;
			ix->state = IX_S_WALK_DB;
			rw_indexer_step(ix);
			return;
		}
	}
	ix->state = IX_S_REWIND;
	rw_indexer_step(ix);
}

int rw_indexer_walk_rpc(struct rw_indexer *ix)
{
	struct ix_walk *w = &ix->walk;
	struct rw_rpc_req reqs[IX_WALK_PAGE];
	for (size_t i = 0; i < w->n_page; i++) {
		reqs[i].method = "eth_getBlockByNumber";
		reqs[i].params = rw_indexer_block_params(w->page[i].number, NULL);
	}
	struct req *q = req_new(ix);
	if (!q) {
		for (size_t i = 0; i < w->n_page; i++)
			json_decref(reqs[i].params);
		return RW_ENOMEM;
	}
	struct rw_rpc_send_opts o = { .as_batch = 1 };
	int rc = rw_rpc_send(ix->p.rpc, &o, reqs, w->n_page, on_walk_rpc, q);
	if (rc < 0) {
		free(q);
		return rc;
	}
	ix->step_busy = 1;
	return 0;
}

/* ---- the rewind --------------------------------------------------------- */

/* The first block to delete: above the ancestor, or (none matched) the
 * deepest stored header. */
static uint64_t fork_block(const struct ix_walk *w)
{
	if (w->found)
		return w->ancestor.number + 1;
	return w->deepest >= 0 ? (uint64_t)w->deepest : w->old_tip + 1;
}

static void report(struct rw_indexer *ix, uint64_t removed)
{
	const struct ix_walk *w = &ix->walk;
	uint64_t fork = fork_block(w);
	uint64_t depth = w->old_tip + 1 > fork ? w->old_tip + 1 - fork : 0;
	int deep = depth > ix->ch->reorg_window.v;
	ix->st.reorgs++;
	ix->st.reorg_last_depth = depth;
	if (depth > ix->st.reorg_max_depth)
		ix->st.reorg_max_depth = depth;
	if (w->found) {
		char h[67];
		rw_hex_encode(h, w->ancestor.hash, 32, 1);
		rw_indexer_say(ix, deep ? RW_INDEXER_ERROR : RW_INDEXER_WARN,
			       "reorg%s: depth %" PRIu64 " (blocks %" PRIu64 "-%" PRIu64
			       " replaced), common ancestor %" PRIu64 " %s; %" PRIu64
			       " rows and headers removed; re-indexing from %" PRIu64,
			       deep ? " DEEPER THAN THE REORG WINDOW" : "", depth, fork, w->old_tip,
			       w->ancestor.number, h, removed, fork);
		return;
	}
	rw_indexer_say(ix, RW_INDEXER_ERROR,
		       "reorg DEEPER THAN EVERY STORED HEADER: no stored header down to block "
		       "%" PRId64 " is on the chain; rewound to block %" PRIu64 " (depth at least "
		       "%" PRIu64 ", %" PRIu64 " rows and headers removed); rows below it were "
		       "not checked",
		       w->deepest, fork, depth, removed);
}

static void on_rewind(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_indexer *ix = req_end(arg);
	(void)pg;
	if (!ix)
		return;
	if (reply->error) {
		char m[512];
		pg_line(m, sizeof(m), reply->error);
		rw_indexer_say(ix, RW_INDEXER_ERROR, "reorg: the rewind failed: %s; retrying", m);
		rw_indexer_step_retry(ix);
		return;
	}
	const char *v = PQgetvalue(reply->results[0], 0, 0);
	report(ix, v ? strtoull(v, NULL, 10) : 0);
	rw_indexer_ring_clear(&ix->ring);
	ix->backoff_ms = 0;
	ix->trust_tip = 1; /* the ancestor was just checked */
	ix->state = IX_S_LOAD;
	rw_indexer_step(ix);
}

int rw_indexer_rewind(struct rw_indexer *ix)
{
	struct ix_walk *w = &ix->walk;
	char fork[24], num[24], hash[65], ts[24], conf[24];
	snprintf(fork, sizeof(fork), "%" PRIu64, fork_block(w));
	snprintf(num, sizeof(num), "%" PRIu64, w->ancestor.number);
	rw_hex_encode(hash, w->ancestor.hash, 32, 0);
	snprintf(ts, sizeof(ts), "%" PRIu64, w->ancestor.timestamp);
	snprintf(conf, sizeof(conf), "%" PRIu64, ix->ch->confirmations.v);
	const char *v[] = { ix->chain_id, fork, hash, ts, conf };
	const char *hv[] = { ix->chain_id, num, hash, ts, conf };
	struct rw_pg_job *job = rw_pg_job_new(RW_PG_TX);
	struct req *q = req_new(ix);
	int rc = job && q ? rw_pg_job_sql(job, sql_rewind, 2, v, NULL, NULL, 0) : RW_ENOMEM;
	if (rc == 0)
		rc = w->found ? rw_pg_job_sql(job, sql_head, 5, hv, NULL, NULL, 0)
			      : rw_pg_job_sql(job, sql_head_drop, 1, v, NULL, NULL, 0);
	if (rc == 0)
		rc = rw_pg_submit(ix->p.pg, job, on_rewind, q);
	else
		rw_pg_job_free(job);
	if (rc < 0) {
		free(q);
		return rc;
	}
	ix->step_busy = 1;
	return 0;
}
