/* relayer_submit.c: getting transactions into blocks. Gap fillers and fee
 * bumps are signed and stored (one transaction each step) before they are
 * sent; every transaction of the round then goes to every endpoint, and
 * the answers, which are only hints, are stored. Between bumps the same
 * bytes are sent again. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hex.h"
#include "relayer_int.h"

static const uint8_t no_data[1] = { 0 };

static void hash_hex(char out[67], const uint8_t h[32])
{
	rw_hex_encode(out, h, 32, 1);
}

/* The balance left after what is already committed. */
static void spendable(rw_u256 *ret, const struct rw_relayer *rl)
{
	rw_u256 c;
	rw_relayer_committed(&c, rl);
	if (rw_u256_sub(ret, &rl->balance, &c) < 0)
		*ret = rw_u256_from_u64(0);
}

/* ---- gap fillers ---------------------------------------------------------- */

static void on_filled(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_relayer *rl = arg;
	if (rw_relayer_back(rl))
		return;
	if (reply->error) {
		rw_relayer_pg_failed(rl, "storing gap fillers", reply);
		rw_relayer_items_clear(rl);
		rw_relayer_next(rl);
		return;
	}
	for (size_t i = 0; i < rl->n_items; i++) {
		const struct rl_item *it = &rl->items[i];
		int64_t id;
		if (rw_relayer_cell_i64(&id, reply->results[i], 0, 0) < 0)
			continue;
		char h[67];
		hash_hex(h, it->hash);
		rw_relayer_say(rl, RW_RELAYER_WARN,
			       "nonce %" PRIu64 ": gap filled with a no-op self-transfer %s",
			       it->nonce, h);
		rl->st.fillers++;
		(void)rw_relayer_send_add(rl, id, it->nonce, it->hash, it->raw, it->raw_len);
		for (size_t k = 0; k < rl->n_gaps; k++)
			if (rl->gaps[k].nonce == it->nonce)
				rl->gaps[k] = rl->gaps[--rl->n_gaps];
	}
	rw_relayer_items_clear(rl);
	rw_relayer_hook(rl, RW_RELAYER_STEP_FILLED);
	rw_relayer_next(rl);
}

int rw_relayer_step_fill(struct rw_relayer *rl)
{
	rw_relayer_items_clear(rl);
	if (!rl->chain_ok || !rl->fees_ok || rl->n_gaps == 0)
		return 0;
	uint64_t now = uv_now(rl->loop);
	rw_u256 left, cost, zero = rw_u256_from_u64(0);
	spendable(&left, rl);
	struct rw_pg_job *job = NULL;
	int r = 0;
	for (size_t i = 0; r == 0 && i < rl->n_gaps; i++) {
		const struct rl_gap *g = &rl->gaps[i];
		if (now - g->since_ms < rl->p.opts.gap_grace_ms || g->nonce < rl->pending_nonce)
			continue;
		rw_relayer_cost(&cost, 21000, &rl->fees, &zero);
		if (rw_u256_sub(&left, &left, &cost) < 0) {
			rw_relayer_say(rl, RW_RELAYER_WARN,
				       "nonce %" PRIu64 ": cannot pay for a gap filler", g->nonce);
			break;
		}
		struct rl_signed s;
		r = rw_relayer_sign(&s, rl, g->nonce, &rl->fees, 21000, rl->addr, &zero, no_data,
				    0);
		if (r == 0)
			r = rw_relayer_item_add(rl, 0, g->nonce, 0, &s, &rl->fees, 21000);
		if (r == 0 && !job && !(job = rw_pg_job_new(RW_PG_TX)))
			r = RW_ENOMEM;
		if (r < 0)
			break;
		const struct rl_item *it = &rl->items[rl->n_items - 1];
		char why[160];
		snprintf(why, sizeof(why),
			 "no transaction of ours at it for %" PRIu64
			 " ms; the chain's count is %" PRIu64 ", the next nonce %" PRIu64,
			 now - g->since_ms, rl->latest_nonce, rl->next_nonce);
		struct rl_args a = { 0 };
		rw_relayer_arg_u64(&a, rl->chain_id);
		rw_relayer_arg_text(&a, rl->addr_bytea);
		rw_relayer_arg_u64(&a, it->nonce);
		rw_relayer_arg_fees(&a, &it->fees);
		rw_relayer_arg_u64(&a, 21000);
		rw_relayer_arg_bytea(&a, it->raw, it->raw_len);
		rw_relayer_arg_bytea(&a, it->hash, 32);
		rw_relayer_arg_text(&a, why);
		r = rw_relayer_job_add(
			job,
			"SELECT rw_relayer_fill($1::bigint, $2::bytea, $3::bigint, "
			"$4::smallint, $5::numeric, $6::numeric, $7::numeric, $8::bigint, "
			"$9::bytea, $10::bytea, $11)",
			&a);
	}
	if (r < 0 || !job) {
		rw_pg_job_free(job);
		rw_relayer_items_clear(rl);
		return r < 0 ? r : 0;
	}
	r = rw_relayer_submit(rl, job, on_filled);
	return r < 0 ? r : 1;
}

/* ---- fee bumps --------------------------------------------------------------- */

void rw_relayer_highest_fees(struct rw_relayer_fees *ret, const struct rw_relayer *rl, size_t i,
			     size_t j)
{
	memset(ret, 0, sizeof(*ret));
	ret->type = rl->txs[i].fees.type;
	for (size_t k = i; k < j; k++) {
		const struct rw_relayer_fees *f = &rl->txs[k].fees;
		if (rw_u256_cmp(&f->gas_price, &ret->gas_price) > 0)
			ret->gas_price = f->gas_price;
		if (rw_u256_cmp(&f->max_fee, &ret->max_fee) > 0)
			ret->max_fee = f->max_fee;
		if (rw_u256_cmp(&f->tip, &ret->tip) > 0)
			ret->tip = f->tip;
	}
}

const struct rl_tx *rw_relayer_current(const struct rw_relayer *rl, size_t i, size_t j)
{
	const struct rl_tx *cur = NULL;
	for (size_t k = i; k < j; k++) {
		const struct rl_tx *t = &rl->txs[k];
		if (t->state == RL_TX_MINED || t->state == RL_TX_LOST || t->seen == RL_SEEN_PRESENT)
			return NULL;
		if (t->state == RL_TX_SIGNED || t->state == RL_TX_SENT)
			cur = t;
	}
	return cur;
}

/* Whether t, by itself, is stuck: not mined stuck_ms after its first
 * broadcast and stuck_blocks blocks after it (or, on a chain that has made
 * no block for stuck_ms, none at all: a dev chain that mines only on
 * arrival makes none while it holds one back), and, for the nonce the
 * chain expects next, the chain's count of the signer's transactions has
 * not moved for stuck_blocks blocks or stuck_ms, whichever comes first: a
 * node mines a signer's nonces in order, so while the count moves the
 * queue is being mined and its turn is coming. */
static int stuck(const struct rw_relayer *rl, const struct rl_tx *t)
{
	uint64_t now = uv_now(rl->loop);
	int idle = now - rl->head_moved_ms >= rl->p.opts.stuck_ms;
	if (t->sent_block < 0 || t->sent_age_ms < 0 ||
	    (uint64_t)t->sent_age_ms < rl->p.opts.stuck_ms ||
	    (rl->head < (uint64_t)t->sent_block + rl->p.opts.stuck_blocks && !idle))
		return 0;
	if (t->nonce != rl->latest_nonce)
		return 1;
	return rl->head >= rl->nonce_moved_block + rl->p.opts.stuck_blocks ||
	       now - rl->nonce_moved_ms >= rl->p.opts.stuck_ms;
}

void rw_relayer_fees_text(char *out, size_t n, const struct rw_relayer_fees *f)
{
	char a[RW_U256_DEC_MAX], b[RW_U256_DEC_MAX];
	if (f->type == 0) {
		rw_u256_format_dec(a, &f->gas_price);
		snprintf(out, n, "gas price %s", a);
		return;
	}
	rw_u256_format_dec(a, &f->max_fee);
	rw_u256_format_dec(b, &f->tip);
	snprintf(out, n, "max fee %s, tip %s", a, b);
}

/* Signs a replacement of cur (attempts [i, j)) when it is stuck. Returns
 * 1 when one was added, 0 when not, or an error. */
static int bump_one(struct rw_relayer *rl, size_t i, size_t j, const struct rl_tx *cur)
{
	struct rw_relayer_fees hi, nf;
	rw_relayer_highest_fees(&hi, rl, i, j);
	const struct rw_relayer_fees *market = rl->bump_ok ? &rl->fees : NULL;
	if (rw_relayer_fees_bump(&nf, &hi, market, &rl->p.opts.fee_cap) < 0) {
		if (cur->attempt == 1 || cur->last_sent_age_ms < 0 ||
		    (uint64_t)cur->last_sent_age_ms >= rl->p.opts.rebroadcast_ms) {
			char h[67];
			hash_hex(h, cur->hash);
			rw_relayer_say(rl, RW_RELAYER_WARN,
				       "nonce %" PRIu64
				       ": %s is stuck and its fees are at the cap; "
				       "sending the same bytes again",
				       cur->nonce, h);
		}
		return 0;
	}
	rw_u256 cost;
	rw_relayer_cost(&cost, cur->gas_limit, &nf, &cur->value);
	if (rw_u256_cmp(&cost, &rl->balance) > 0) {
		rw_relayer_say(rl, RW_RELAYER_WARN,
			       "nonce %" PRIu64 ": stuck, and the balance cannot pay a bump",
			       cur->nonce);
		return 0;
	}
	struct rl_signed s;
	int r = rw_relayer_resign(&s, rl, cur->raw, cur->raw_len, &nf);
	if (r < 0)
		return r;
	r = rw_relayer_item_add(rl, cur->id, cur->nonce, 0, &s, &nf, cur->gas_limit);
	return r < 0 ? r : 1;
}

static void on_bumped(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_relayer *rl = arg;
	if (rw_relayer_back(rl))
		return;
	if (reply->error) {
		rw_relayer_pg_failed(rl, "storing fee bumps", reply);
		rw_relayer_items_clear(rl);
		rw_relayer_next(rl);
		return;
	}
	for (size_t i = 0; i < rl->n_items; i++) {
		const struct rl_item *it = &rl->items[i];
		int64_t id;
		if (rw_relayer_cell_i64(&id, reply->results[i], 0, 0) < 0)
			continue;
		char h[67], f[200];
		hash_hex(h, it->hash);
		rw_relayer_fees_text(f, sizeof(f), &it->fees);
		rw_relayer_say(rl, RW_RELAYER_WARN, "nonce %" PRIu64 ": stuck; replaced by %s (%s)",
			       it->nonce, h, f);
		rl->st.bumps++;
		(void)rw_relayer_send_add(rl, id, it->nonce, it->hash, it->raw, it->raw_len);
	}
	rw_relayer_items_clear(rl);
	rw_relayer_hook(rl, RW_RELAYER_STEP_REPLACED);
	rw_relayer_next(rl);
}

static int add_replace(struct rw_relayer *rl, struct rw_pg_job *job, const struct rl_item *it)
{
	char why[160];
	snprintf(why, sizeof(why),
		 "not mined %" PRIu64 "+ blocks and %" PRIu64 "+ ms after its broadcast",
		 rl->p.opts.stuck_blocks, rl->p.opts.stuck_ms);
	struct rl_args a = { 0 };
	rw_relayer_arg_i64(&a, it->ref);
	rw_relayer_arg_fees(&a, &it->fees);
	rw_relayer_arg_bytea(&a, it->raw, it->raw_len);
	rw_relayer_arg_bytea(&a, it->hash, 32);
	rw_relayer_arg_text(&a, why);
	return rw_relayer_job_add(
		job,
		"SELECT rw_relayer_replace($1::bigint, $2::smallint, $3::numeric, "
		"$4::numeric, $5::numeric, $6::bytea, $7::bytea, $8)",
		&a);
}

int rw_relayer_step_bump(struct rw_relayer *rl)
{
	rw_relayer_items_clear(rl);
	if (!rl->chain_ok)
		return 0;
	/* A transaction behind a lower nonce of ours that is in flight and not
	 * stuck waits for it: however long it has been out, a node cannot mine
	 * it first (a long queue on a dev chain takes seconds to mine, and a
	 * bump of every waiting nonce would gain nothing). Behind a stuck one
	 * (a fee spike prices out the whole queue) it is stuck too. */
	int waiting = 0;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < rl->n_txs && rl->n_items < RL_BUMP_MAX;) {
		size_t j = i + 1;
		while (j < rl->n_txs && rl->txs[j].nonce == rl->txs[i].nonce)
			j++;
		const struct rl_tx *cur = rw_relayer_current(rl, i, j);
		if (rw_relayer_stuck_next(&waiting, cur != NULL, cur && stuck(rl, cur)))
			r = bump_one(rl, i, j, cur);
		i = j;
	}
	if (r < 0 || rl->n_items == 0) {
		rw_relayer_items_clear(rl);
		return r < 0 ? r : 0;
	}
	struct rw_pg_job *job = rw_pg_job_new(RW_PG_TX);
	if (!job)
		return RW_ENOMEM;
	for (size_t k = 0; r >= 0 && k < rl->n_items; k++)
		r = add_replace(rl, job, &rl->items[k]);
	if (r < 0) {
		rw_pg_job_free(job);
		return r;
	}
	r = rw_relayer_submit(rl, job, on_bumped);
	return r < 0 ? r : 1;
}

/* ---- broadcasts ------------------------------------------------------------------ */

/* How good a broadcast answer is: the best of every endpoint's counts. */
enum { B_NONE, B_MAYBE_SENT, B_NO_FUNDS, B_MAYBE_MINED, B_ACCEPTED };

static int rank(enum rw_rpc_class cls)
{
	switch (cls) {
	case RW_RPC_OK:
	case RW_RPC_ALREADY_KNOWN: return B_ACCEPTED;
	case RW_RPC_NONCE_TOO_LOW:
	case RW_RPC_UNDERPRICED: return B_MAYBE_MINED;
	case RW_RPC_INSUFFICIENT_FUNDS: return B_NO_FUNDS;
	default: return B_MAYBE_SENT;
	}
}

static int nonce_sent(const struct rw_relayer *rl, uint64_t nonce)
{
	for (size_t i = 0; i < rl->n_sends; i++)
		if (rl->sends[i].nonce == nonce)
			return 1;
	return 0;
}

/* Whether the node has lost cur: sent at least a poll interval ago (so
 * answered before this round's chain read), yet the node's pending count,
 * read this round, stops at or below its nonce: neither mined nor in its
 * pool (evicted, dropped, or a node restarted). Sending the same bytes
 * again is always safe; at worst the answer is "already known". */
static int node_lost(const struct rw_relayer *rl, const struct rl_tx *cur)
{
	return rl->chain_ok && cur->state == RL_TX_SENT && cur->nonce >= rl->pending_nonce &&
	       cur->last_sent_age_ms >= 0 && (uint64_t)cur->last_sent_age_ms >= rl->p.opts.poll_ms;
}

/* Adds the current attempts that are due: never sent, first round after a
 * start (the same bytes again: a node may have lost them), lost by the node
 * (node_lost), or not sent for rebroadcast_ms. */
static int add_resends(struct rw_relayer *rl)
{
	uint64_t lost = 0, lo = 0, hi = 0;
	for (size_t i = 0; i < rl->n_txs;) {
		size_t j = i + 1;
		while (j < rl->n_txs && rl->txs[j].nonce == rl->txs[i].nonce)
			j++;
		const struct rl_tx *cur = rw_relayer_current(rl, i, j);
		i = j;
		if (!cur || nonce_sent(rl, cur->nonce))
			continue;
		int gone = node_lost(rl, cur);
		if (rl->first_round || cur->state == RL_TX_SIGNED || cur->last_sent_age_ms < 0 ||
		    (uint64_t)cur->last_sent_age_ms >= rl->p.opts.rebroadcast_ms || gone) {
			int r = rw_relayer_send_add(rl, cur->id, cur->nonce, cur->hash, cur->raw,
						    cur->raw_len);
			if (r < 0)
				return r;
			if (gone) {
				if (lost++ == 0)
					lo = cur->nonce; /* attempts come in nonce order */
				hi = cur->nonce;
			}
		}
	}
	if (lost) {
		rl->st.resent_lost += lost;
		rw_relayer_say(rl, RW_RELAYER_INFO,
			       "the node's pending count is %" PRIu64 ": it has lost %" PRIu64
			       " of our transactions (nonces %" PRIu64 "-%" PRIu64
			       "); sending the same bytes again",
			       rl->pending_nonce, lost, lo, hi);
	}
	return 0;
}

/* Records one endpoint's answer for a send. */
static void take_answer(struct rw_relayer *rl, struct rl_send *s, const struct rw_rpc_result *res)
{
	s->answers++;
	if (res->cls != RW_RPC_CANCELLED) {
		rl->st.broadcasts++;
		if (res->cls != RW_RPC_OK && (size_t)res->cls <= RW_RPC_OTHER)
			rl->st.errors[res->cls]++;
	}
	int k = rank(res->cls);
	if (k > s->best) {
		s->best = k;
		s->cls = res->cls;
		snprintf(s->message, sizeof(s->message), "%s", res->message);
	}
}

static int send_chunk(struct rl_bctx *c);

/* Offers c's endpoint its next batch when it is idle and sends wait. */
static void kick(struct rl_bctx *c)
{
	if (c->busy || c->dead || c->next >= c->rl->n_sends)
		return;
	if (send_chunk(c) == 0)
		c->busy = 1;
	else
		c->dead = 1; /* the rest go unanswered here this round: "maybe sent" */
}

/* Every endpoint has offered every send, and no chunk is being stored. */
static int bcast_done(const struct rw_relayer *rl)
{
	if (rl->assigning)
		return 0;
	for (size_t e = 0; e < rl->n_bc; e++) {
		const struct rl_bctx *c = &rl->bctx[e];
		if (c->busy || (!c->dead && c->next < rl->n_sends))
			return 0;
	}
	return 1;
}

static void bcast_finish(struct rw_relayer *rl)
{
	rl->bcast_active = 0;
	rl->first_round = 0;
	rw_relayer_hook(rl, RW_RELAYER_STEP_BROADCAST);
	rw_relayer_next(rl);
}

void rw_relayer_broadcast_more(struct rw_relayer *rl)
{
	if (!rl->bcast_active)
		return; /* the step has not begun: it offers everything there is */
	for (size_t e = 0; e < rl->n_bc; e++)
		kick(&rl->bctx[e]);
	if (bcast_done(rl))
		bcast_finish(rl);
}

static void on_broadcast(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata)
{
	struct rl_bctx *c = udata;
	struct rw_relayer *rl = c->rl;
	if (rw_relayer_back(rl))
		return;
	for (size_t i = 0; i < n && i < c->count; i++)
		take_answer(rl, &rl->sends[c->next + i], &res[i]);
	c->next += c->count;
	c->busy = 0;
	rw_relayer_sent_progress(rl, 0);
	kick(c);
	if (bcast_done(rl))
		bcast_finish(rl);
}

/* Offers the next batch of sends (in nonce order) to c's endpoint. A node
 * that gets a signer's nonces in order can take each at once; out of
 * order, later ones wait in its queue (a dev node may then never mine
 * them). Returns 0 when the batch is on its way, else RW_*. */
static int send_chunk(struct rl_bctx *c)
{
	struct rw_relayer *rl = c->rl;
	struct rw_rpc_req reqs[RL_BCAST_CHUNK];
	size_t k = rl->n_sends - c->next;
	if (k > RL_BCAST_CHUNK)
		k = RL_BCAST_CHUNK;
	for (size_t i = 0; i < k; i++)
		reqs[i] = (struct rw_rpc_req){ "eth_sendRawTransaction",
					       json_pack("[s]", rl->sends[c->next + i].raw_hex) };
	c->count = k;
	return rw_relayer_rpc(rl, rl->bc[c->endpoint], reqs, k, 1, on_broadcast, c);
}

static int by_nonce(const void *a, const void *b)
{
	const struct rl_send *x = a, *y = b;
	return x->nonce < y->nonce ? -1 : x->nonce > y->nonce;
}

/* Offers every send of the round to every endpoint, in nonce order: the
 * steered, filled, bumped and due ones now, then each chunk of new ones
 * as the assign step's commits bring them (always higher nonces). */
int rw_relayer_step_broadcast(struct rw_relayer *rl)
{
	if (!rl->chain_ok && !rl->assigning)
		return 0;
	int r = add_resends(rl);
	if (r < 0)
		return r;
	if (rl->n_sends > 1)
		qsort(rl->sends, rl->n_sends, sizeof(rl->sends[0]), by_nonce);
	if (rl->n_bc > rl->n_bctx) {
		struct rl_bctx *v = realloc(rl->bctx, rl->n_bc * sizeof(*v));
		if (!v)
			return RW_ENOMEM;
		rl->bctx = v;
		rl->n_bctx = rl->n_bc;
	}
	rl->sent_written = 0;
	for (size_t e = 0; e < rl->n_bc; e++) {
		rl->bctx[e] = (struct rl_bctx){ .rl = rl, .endpoint = e };
		kick(&rl->bctx[e]);
	}
	if (bcast_done(rl)) {
		rl->first_round = 0;
		return 0;
	}
	rl->bcast_active = 1;
	return 1;
}

/* ---- what the answers were ----------------------------------------------------------- */

static void log_send(struct rw_relayer *rl, const struct rl_send *s)
{
	char h[67];
	hash_hex(h, s->hash);
	switch (s->best) {
	case B_ACCEPTED:
		rw_relayer_say(rl, RW_RELAYER_DEBUG, "nonce %" PRIu64 ": %s sent", s->nonce, h);
		return;
	case B_MAYBE_MINED:
		rw_relayer_say(rl, RW_RELAYER_INFO,
			       "nonce %" PRIu64 ": %s: %s (%s): maybe mined; checking receipts",
			       s->nonce, h, rw_rpc_class_name(s->cls), s->message);
		rl->again = 1;
		return;
	case B_NO_FUNDS:
		rw_relayer_say(rl, RW_RELAYER_WARN,
			       "nonce %" PRIu64 ": %s: the signer cannot pay for it (%s); no new "
			       "transactions until it is funded",
			       s->nonce, h, s->message);
		rl->funds_short = 1;
		return;
	default:
		rw_relayer_say(rl, RW_RELAYER_WARN,
			       "nonce %" PRIu64 ": %s: %s (%s): maybe sent; sending again later",
			       s->nonce, h, rw_rpc_class_name(s->cls), s->message);
	}
}

/* The answers are stored while the broadcast goes on: the next round's
 * first database job queues behind these on the same connection, so it
 * reads them; a failure only means the same bytes are offered again. */
static void on_sent_written(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_relayer *rl = arg;
	if (rw_relayer_back(rl))
		return;
	if (reply->error)
		rw_relayer_pg_failed(rl, "storing broadcast results", reply);
	rw_relayer_hook(rl, RW_RELAYER_STEP_SENT);
}

/* Stores the answers of sends [rl->sent_written, to) in one statement
 * (rw_relayer_sent_many), not waited for. Returns 0 or an error (logged;
 * those sends stay signed or sent as they were: offered again later). */
static int sent_flush(struct rw_relayer *rl, size_t to)
{
	size_t from = rl->sent_written;
	if (to <= from)
		return 0;
	rl->sent_written = to;
	struct rw_pg_job *job = rw_pg_job_new(0);
	if (!job)
		return RW_ENOMEM;
	struct rl_arr ids = { 0 }, accepted = { 0 }, classes = { 0 }, messages = { 0 };
	for (size_t i = from; i < to; i++) {
		const struct rl_send *s = &rl->sends[i];
		log_send(rl, s);
		rw_relayer_arr_i64(&ids, s->id);
		rw_relayer_arr_text(&accepted, s->best == B_ACCEPTED ? "t" : "f");
		rw_relayer_arr_text(&classes, rw_rpc_class_name(s->cls));
		rw_relayer_arr_text(&messages, s->message);
	}
	struct rl_args a = { 0 };
	rw_relayer_arg_arr(&a, &ids);
	rw_relayer_arg_u64(&a, rl->head);
	rw_relayer_arg_arr(&a, &accepted);
	rw_relayer_arg_arr(&a, &classes);
	rw_relayer_arg_arr(&a, &messages);
	int r = rw_relayer_job_add(job,
				   "SELECT rw_relayer_sent_many($1::bigint[], $2::bigint, "
				   "$3::boolean[], $4::text[], $5::text[])",
				   &a);
	if (r == 0)
		r = rw_relayer_submit(rl, job, on_sent_written);
	else
		rw_pg_job_free(job);
	if (r < 0)
		rw_relayer_say(rl, RW_RELAYER_WARN, "cannot store broadcast results: %s",
			       rw_strerror(r));
	return r;
}

void rw_relayer_sent_progress(struct rw_relayer *rl, int all)
{
	size_t done = rl->n_sends;
	for (size_t e = 0; e < rl->n_bc; e++)
		if (!rl->bctx[e].dead && rl->bctx[e].next < done)
			done = rl->bctx[e].next;
	if (all || done - rl->sent_written >= RL_BCAST_CHUNK)
		(void)sent_flush(rl, done);
}

/* The answers not stored yet (every send was answered by then). */
int rw_relayer_step_sent_write(struct rw_relayer *rl)
{
	(void)sent_flush(rl, rl->n_sends);
	rl->sent_written = 0;
	return 0;
}
