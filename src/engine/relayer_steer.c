/* relayer_steer.c: operators' requests (relayer_request,
 * migrations/0023_relayer_steer.sql). An operator asks, through SQL
 * (rw_tx_request: `runway tx bump|cancel`), for a nonce's current attempt
 * to be replaced now: with bumped fees (bump), or with a no-op
 * self-transfer that cancels its intent (cancel). The CLI never signs; the
 * load step reads this signer's open requests and this step decides each
 * one against the attempts just loaded and the fee market: the
 * replacement's every fee field is at least ceil(old * 1.1) + 1 of the
 * highest earlier attempt and at least the market, under the fee cap. What
 * it can do it signs; the replacements and every request's outcome (done,
 * or refused with a reason) are stored in one transaction, before the
 * broadcast step sends them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hex.h"
#include "relayer_int.h"

static const uint8_t no_data[1] = { 0 };

void rw_relayer_requests_read(struct rw_relayer *rl, const PGresult *res)
{
	rl->n_reqs = 0;
	for (int i = 0; i < PQntuples(res) && rl->n_reqs < RL_STEER_MAX; i++) {
		struct rl_request *q = &rl->reqs[rl->n_reqs];
		int64_t nonce;
		const char *kind = rw_relayer_cell(res, i, 1);
		memset(q, 0, sizeof(*q));
		if (rw_relayer_cell_i64(&q->id, res, i, 0) < 0 || !kind ||
		    rw_relayer_cell_i64(&nonce, res, i, 2) < 0 || nonce < 0) {
			rw_relayer_say(rl, RW_RELAYER_ERROR, "relayer_request row %d does not read",
				       i);
			continue;
		}
		q->cancel = strcmp(kind, "cancel") == 0;
		q->nonce = (uint64_t)nonce;
		rl->n_reqs++;
	}
}

/* The loaded attempts of nonce: [*ret_i, *ret_j). Returns 0 when it has
 * none (not an open nonce). */
static int nonce_range(size_t *ret_i, size_t *ret_j, const struct rw_relayer *rl, uint64_t nonce)
{
	size_t i = 0;
	while (i < rl->n_txs && rl->txs[i].nonce != nonce)
		i++;
	if (i == rl->n_txs)
		return 0;
	size_t j = i;
	while (j < rl->n_txs && rl->txs[j].nonce == nonce)
		j++;
	*ret_i = i;
	*ret_j = j;
	return 1;
}

/* The least fees a replacement of hi needs, in words, for a refusal. */
static void least_text(char *out, size_t n, const struct rw_relayer_fees *hi)
{
	struct rw_relayer_fees least = *hi;
	(void)rw_relayer_bump_min(&least.gas_price, &hi->gas_price);
	(void)rw_relayer_bump_min(&least.max_fee, &hi->max_fee);
	(void)rw_relayer_bump_min(&least.tip, &hi->tip);
	rw_relayer_fees_text(out, n, &least);
}

/* Decides request q: signs its replacement (q->prev_id, q->item) or leaves
 * it refused (q->reason, or "" for SQL to say why: not an open nonce, no
 * current attempt, the wrong kind of attempt). Returns 0 or an error of
 * signing or memory. */
static int steer_one(struct rw_relayer *rl, struct rl_request *q)
{
	size_t i, j;
	q->prev_id = 0;
	q->reason[0] = '\0';
	if (!nonce_range(&i, &j, rl, q->nonce))
		return 0;
	const struct rl_tx *cur = rw_relayer_current(rl, i, j);
	if (!cur || (q->cancel && cur->kind != RL_KIND_INTENT))
		return 0;
	struct rw_relayer_fees hi, nf;
	rw_relayer_highest_fees(&hi, rl, i, j);
	const struct rw_relayer_fees *market = rl->bump_ok ? &rl->fees : NULL;
	if (rw_relayer_fees_bump(&nf, &hi, market, &rl->p.opts.fee_cap) < 0) {
		char least[200], cap[RW_U256_DEC_MAX];
		least_text(least, sizeof(least), &hi);
		rw_u256_format_dec(cap, &rl->p.opts.fee_cap);
		snprintf(q->reason, sizeof(q->reason),
			 "the replacement would need %s wei (the highest attempt's + 10%% + 1), "
			 "above "
			 "the fee cap of %s wei: nothing was replaced",
			 least, cap);
		return 0;
	}
	rw_u256 zero = rw_u256_from_u64(0), cost;
	uint64_t gas = q->cancel ? 21000 : cur->gas_limit;
	rw_relayer_cost(&cost, gas, &nf, q->cancel ? &zero : &cur->value);
	if (rw_u256_cmp(&cost, &rl->balance) > 0) {
		char c[RW_U256_DEC_MAX], b[RW_U256_DEC_MAX];
		rw_u256_format_dec(c, &cost);
		rw_u256_format_dec(b, &rl->balance);
		snprintf(
			q->reason, sizeof(q->reason),
			"the signer's balance of %s wei cannot pay the replacement (up to %s wei): "
			"fund it and ask again",
			b, c);
		return 0;
	}
	struct rl_signed s;
	int r = q->cancel ? rw_relayer_sign(&s, rl, cur->nonce, &nf, 21000, rl->addr, &zero,
					    no_data, 0)
			  : rw_relayer_resign(&s, rl, cur->raw, cur->raw_len, &nf);
	if (r < 0)
		return r;
	r = rw_relayer_item_add(rl, cur->id, cur->nonce, 0, &s, &nf, gas);
	if (r < 0)
		return r;
	q->prev_id = cur->id;
	q->item = rl->n_items - 1;
	return 0;
}

/* Adds request q's statement to job: its replacement, or its refusal. */
static int add_statement(struct rw_relayer *rl, struct rw_pg_job *job, const struct rl_request *q)
{
	struct rl_args a = { 0 };
	rw_relayer_arg_i64(&a, q->id);
	if (!q->prev_id) {
		if (q->reason[0])
			rw_relayer_arg_text(&a, q->reason);
		else
			rw_relayer_arg_null(&a);
		return rw_relayer_job_add(
			job, "SELECT tx_id, message FROM rw_relayer_steer_refuse($1::bigint, $2)",
			&a);
	}
	const struct rl_item *it = &rl->items[q->item];
	rw_relayer_arg_i64(&a, q->prev_id);
	rw_relayer_arg_fees(&a, &it->fees);
	rw_relayer_arg_bytea(&a, it->raw, it->raw_len);
	rw_relayer_arg_bytea(&a, it->hash, 32);
	return rw_relayer_job_add(job,
				  q->cancel ? "SELECT tx_id, message FROM rw_relayer_steer_cancel("
					      "$1::bigint, $2::bigint, $3::smallint, $4::numeric, "
					      "$5::numeric, $6::numeric, $7::bytea, $8::bytea)"
					    : "SELECT tx_id, message FROM rw_relayer_steer_bump("
					      "$1::bigint, $2::bigint, $3::smallint, $4::numeric, "
					      "$5::numeric, $6::numeric, $7::bytea, $8::bytea)",
				  &a);
}

/* The attempt a stored replacement superseded is no longer current in this
 * round's picture: the bump and broadcast steps leave its nonce alone. */
static void mark_replaced(struct rw_relayer *rl, int64_t id)
{
	for (size_t i = 0; i < rl->n_txs; i++)
		if (rl->txs[i].id == id)
			rl->txs[i].state = RL_TX_REPLACED;
}

/* Logs, counts and queues one request's outcome. */
static void outcome(struct rw_relayer *rl, const struct rl_request *q, const PGresult *res)
{
	int64_t tx_id = 0;
	const char *msg = rw_relayer_cell(res, 0, 1);
	const char *what = q->cancel ? "cancel" : "bump";
	if (!msg)
		return; /* not open any more: carried out meanwhile (another relayer on this key) */
	if (q->prev_id && rw_relayer_cell_i64(&tx_id, res, 0, 0) == 0) {
		const struct rl_item *it = &rl->items[q->item];
		rl->st.requests_done++;
		rw_relayer_say(rl, RW_RELAYER_WARN, "operator's %s request #%" PRId64 ": %s", what,
			       q->id, msg);
		(void)rw_relayer_send_add(rl, tx_id, it->nonce, it->hash, it->raw, it->raw_len);
		mark_replaced(rl, q->prev_id);
		return;
	}
	rl->st.requests_refused++;
	rw_relayer_say(rl, RW_RELAYER_WARN,
		       "operator's %s request #%" PRId64 " (nonce %" PRIu64 ") refused: %s", what,
		       q->id, q->nonce, msg);
}

static void on_steered(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_relayer *rl = arg;
	if (rw_relayer_back(rl))
		return;
	if (reply->error) {
		rw_relayer_pg_failed(rl, "storing operators' requests", reply);
		rw_relayer_items_clear(rl);
		rw_relayer_next(rl);
		return;
	}
	for (size_t k = 0; k < rl->n_reqs && k < reply->n; k++)
		outcome(rl, &rl->reqs[k], reply->results[k]);
	rl->n_reqs = 0;
	rw_relayer_items_clear(rl);
	rw_relayer_hook(rl, RW_RELAYER_STEP_STEERED);
	rw_relayer_next(rl);
}

int rw_relayer_step_steer(struct rw_relayer *rl)
{
	rw_relayer_items_clear(rl);
	if (!rl->chain_ok || rl->n_reqs == 0)
		return 0;
	struct rw_pg_job *job = rw_pg_job_new(RW_PG_TX);
	if (!job)
		return RW_ENOMEM;
	int r = 0;
	for (size_t k = 0; r == 0 && k < rl->n_reqs; k++)
		r = steer_one(rl, &rl->reqs[k]);
	for (size_t k = 0; r == 0 && k < rl->n_reqs; k++)
		r = add_statement(rl, job, &rl->reqs[k]);
	if (r < 0) {
		rw_pg_job_free(job);
		rw_relayer_items_clear(rl);
		return r;
	}
	r = rw_relayer_submit(rl, job, on_steered);
	return r < 0 ? r : 1;
}
