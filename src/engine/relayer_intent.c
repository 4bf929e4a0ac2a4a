/* relayer_intent.c: taking queued intents. The oldest queued intents (as
 * many as the in-flight cap leaves room for) get a gas estimate (or one
 * eth_call at a known bound: the filer's, or the highest earlier estimate
 * of the same function); a revert
 * at estimation fails the intent with its decoded reason and nothing is
 * sent (or, while the signer's own transactions are in flight and may be
 * what it waits for, it is tried again later); the others are signed with
 * consecutive nonces from next_nonce and stored, nonce and bytes, by
 * rw_relayer_assign in one transaction, before the broadcast step. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hex.h"
#include "relayer_int.h"

void rw_relayer_intents_clear(struct rw_relayer *rl)
{
	for (size_t i = 0; i < rl->n_intents; i++)
		free(rl->intents[i].data);
	free(rl->intents);
	rl->intents = NULL;
	rl->n_intents = 0;
}

/* ---- take ---------------------------------------------------------------- */

static const char sql_take[] =
	"SELECT id, key, encode(target, 'hex'), value, encode(calldata, 'hex'), estimate_failures, "
	"gas_hint "
	"FROM relayer_intent WHERE chain_id = $1::bigint AND state = 'queued' "
	"AND (signer IS NULL OR signer = $2::bytea) AND (not_before IS NULL OR not_before <= "
	"now()) "
	"ORDER BY id LIMIT $3::integer";

static int read_intent(struct rl_intent *it, const PGresult *res, int row)
{
	int64_t fails;
	memset(it, 0, sizeof(*it));
	const char *key = rw_relayer_cell(res, row, 1);
	const char *data = rw_relayer_cell(res, row, 4);
	if (rw_relayer_cell_i64(&it->id, res, row, 0) < 0 || !key || !data ||
	    rw_relayer_cell_hex(it->target, 20, res, row, 2) < 0 ||
	    rw_relayer_cell_u256(&it->value, res, row, 3) < 0 ||
	    rw_relayer_cell_i64(&fails, res, row, 5) < 0)
		return RW_EINVAL;
	int64_t hint = 0;
	if (!PQgetisnull(res, row, 6) &&
	    (rw_relayer_cell_i64(&hint, res, row, 6) < 0 || hint < 21000))
		return RW_EINVAL;
	it->gas_hint = (uint64_t)hint;
	snprintf(it->key, sizeof(it->key), "%s", key);
	it->estimate_failures = (unsigned)fails;
	size_t len = strlen(data) / 2;
	it->data = malloc(len ? len : 1);
	if (!it->data)
		return RW_ENOMEM;
	if (rw_hex_decode_fixed(it->data, len, data, strlen(data), RW_HEX_PREFIX_FORBIDDEN) < 0)
		return RW_EINVAL;
	it->data_len = len;
	return 0;
}

/* Whether the call of intent id failed at its filer's gas limit before. */
static int unhinted(const struct rw_relayer *rl, int64_t id)
{
	size_t n = rl->unhinted_next < RL_UNHINTED_MAX ? rl->unhinted_next : RL_UNHINTED_MAX;
	for (size_t i = 0; i < n; i++)
		if (rl->unhinted[i] == id)
			return 1;
	return 0;
}

/* The learned slot of the function intent it calls, or NULL (no
 * selector: a plain transfer or fallback call is always estimated). */
static struct rl_learned *learned_slot(struct rw_relayer *rl, const struct rl_intent *it)
{
	if (it->data_len < 4)
		return NULL;
	for (size_t i = 0; i < RL_LEARNED_MAX; i++) {
		struct rl_learned *l = &rl->learned[i];
		if (l->gas && memcmp(l->target, it->target, 20) == 0 &&
		    memcmp(l->selector, it->data, 4) == 0)
			return l;
	}
	return NULL;
}

/* Remembers an estimate (the node's figure, before the margin) of the
 * function intent it calls: the highest one seen is kept. */
static void learn(struct rw_relayer *rl, const struct rl_intent *it, uint64_t gas)
{
	if (it->data_len < 4 || gas == 0)
		return;
	struct rl_learned *l = learned_slot(rl, it);
	if (!l) {
		l = &rl->learned[rl->learned_next++ % RL_LEARNED_MAX];
		memcpy(l->target, it->target, 20);
		memcpy(l->selector, it->data, 4);
		l->gas = 0;
	}
	if (gas > l->gas)
		l->gas = gas;
}

/* Reads the taken intents (res may be NULL: none). An intent without the
 * filer's gas limit whose function was estimated before is checked at
 * that estimate (learned_slot); one whose check failed at its hint
 * (unhinted) is estimated. */
static void take_read(struct rw_relayer *rl, const PGresult *res)
{
	rw_relayer_intents_clear(rl);
	int n = res ? PQntuples(res) : 0;
	if (n <= 0)
		return;
	rl->intents = calloc((size_t)n, sizeof(*rl->intents));
	for (int i = 0; rl->intents && i < n; i++) {
		if (read_intent(&rl->intents[rl->n_intents], res, i) < 0) {
			free(rl->intents[rl->n_intents].data);
			rw_relayer_say(rl, RW_RELAYER_ERROR, "queued intent row %d does not read",
				       i);
			continue;
		}
		struct rl_intent *in = &rl->intents[rl->n_intents];
		if (unhinted(rl, in->id)) {
			in->gas_hint = 0;
		} else if (!in->gas_hint) {
			const struct rl_learned *l = learned_slot(rl, in);
			in->gas_hint = l ? l->gas : 0;
			in->learned = l != NULL;
		}
		rl->n_intents++;
	}
}

/* Keeps the first n taken intents (the oldest). */
static void intents_keep(struct rw_relayer *rl, size_t n)
{
	if (n >= rl->n_intents)
		return;
	for (size_t i = n; i < rl->n_intents; i++)
		free(rl->intents[i].data);
	rl->n_intents = n;
}

/* The room under the in-flight cap for new nonces with inflight nonces in
 * flight (at most RL_TAKE_MAX), or 0 when nothing new is signed now (no
 * chain id match yet, fees unknown or above the cap, an operator's
 * pause). */
static uint64_t room(const struct rw_relayer *rl, uint64_t inflight)
{
	if (!rl->chain_ok || !rl->fees_ok || rl->paused || inflight >= rl->p.opts.max_inflight)
		return 0;
	uint64_t n = rl->p.opts.max_inflight - inflight;
	return n > RL_TAKE_MAX ? RL_TAKE_MAX : n;
}

/* Waits for the early take (see rw_relayer_take_early), then keeps what
 * the room under the cap takes now that the receipts are stored. */
int rw_relayer_step_take(struct rw_relayer *rl)
{
	if (rl->est_state == RL_EST_TAKING)
		return 1; /* on_take moves on */
	intents_keep(rl, (size_t)room(rl, rl->inflight));
	if (rl->n_intents == 0)
		rl->funds_short = 0; /* nothing waits for money */
	return 0;
}

/* ---- estimate ------------------------------------------------------------------ */

/* What one answer says of an intent's gas: an estimate (eth_estimateGas,
 * remembered for its function), or, for an intent with a gas hint, the
 * call at that gas (eth_call): it runs (the filer's hint is the limit; a
 * learned estimate gets the margin, as an estimate does: the call needs
 * at most that much), reverts at the filer's hint (as an estimate that
 * reverts), or fails otherwise (out of gas at the hint: the filer's bound
 * was wrong, or this call needs more than the function's earlier ones; any
 * failure at a learned hint: the intent stays queued and is estimated from
 * the next round on, which comes at once). */
static void take_estimate(struct rw_relayer *rl, struct rl_intent *it,
			  const struct rw_rpc_result *res)
{
	uint64_t gas;
	if (it->gas_hint && res->cls == RW_RPC_OK) {
		it->estimated = 1;
		it->gas_limit =
			it->learned ? rw_relayer_gas_limit(it->gas_hint, rl->p.opts.gas_margin_pct)
				    : it->gas_hint;
		return;
	}
	/* a learned hint never decides alone: whatever else its call answers
	 * (a revert too: some nodes report running out of gas as one), the
	 * estimate does */
	if (it->learned || (it->gas_hint && res->cls == RW_RPC_OTHER)) {
		if (it->learned)
			rl->st.learned_misses++; /* expected now and then: not an error */
		else
			rl->st.errors[res->cls]++;
		rl->unhinted[rl->unhinted_next++ % RL_UNHINTED_MAX] = it->id;
		rl->again = 1;
		rw_relayer_say(rl, it->learned ? RW_RELAYER_DEBUG : RW_RELAYER_WARN,
			       "%s: the call fails at %s %" PRIu64 " (%s): estimating it instead",
			       it->key,
			       it->learned ? "the gas of earlier estimates of its function"
					   : "the filer's gas limit",
			       it->gas_hint, res->message);
		return;
	}
	if (res->cls == RW_RPC_OK && rw_rpc_get_quantity_u64(&gas, res->result) == 0) {
		it->estimated = 1;
		it->gas_limit = rw_relayer_gas_limit(gas, rl->p.opts.gas_margin_pct);
		learn(rl, it, gas);
		return;
	}
	if (res->cls == RW_RPC_REVERTED) {
		it->estimated = -1;
		rl->st.estimate_reverts++;
		rl->st.errors[RW_RPC_REVERTED]++;
		rw_relayer_revert_reason(it->reason, sizeof(it->reason), rl->p.errors, &res->revert,
					 res->message);
		return;
	}
	if (res->cls == RW_RPC_INSUFFICIENT_FUNDS) {
		rl->st.errors[res->cls]++;
		rl->funds_short = 1;
		rw_relayer_say(rl, RW_RELAYER_WARN,
			       "%s: the signer cannot pay for it (%s); it stays queued", it->key,
			       res->message);
		return;
	}
	rw_relayer_rpc_failed(rl, "eth_estimateGas", res);
}

/* The estimates of one round, which may answer while other steps run: they
 * count only for the round that asked, and only the estimate step waits
 * for them. */
struct rl_estimate {
	struct rw_relayer *rl;
	uint64_t round;
	size_t n;
};

/* Whether the estimates e asked for still count. */
static int estimate_current(const struct rl_estimate *e)
{
	const struct rw_relayer *rl = e->rl;
	return e->round == rl->round_seq && rl->round_active && rl->est_state == RL_EST_RUNNING;
}

static void on_estimate_part(struct rw_relayer *rl, void *udata, size_t off,
			     const struct rw_rpc_result *res, size_t n)
{
	struct rl_estimate *e = udata;
	if (!estimate_current(e))
		return;
	for (size_t i = 0; i < n && off + i < e->n && off + i < rl->n_intents; i++)
		take_estimate(rl, &rl->intents[off + i], &res[i]);
}

static void on_estimate_done(struct rw_relayer *rl, void *udata, int live)
{
	struct rl_estimate *e = udata;
	int current = live && estimate_current(e);
	free(e);
	if (!current)
		return;
	rl->est_state = RL_EST_DONE;
	if (rl->step == RL_ESTIMATE)
		rw_relayer_next(rl);
}

static const struct rl_split_ops estimate_ops = { on_estimate_part, on_estimate_done };

static json_t *estimate_params(const struct rw_relayer *rl, const struct rl_intent *it)
{
	char to[43], value[RW_U256_HEX_MAX];
	rw_hex_encode(to, it->target, 20, 1);
	rw_u256_format_hex(value, &it->value);
	char *data = rw_hex_encode_alloc(it->data, it->data_len);
	if (!data)
		return NULL;
	json_t *p = json_pack("[{s:s,s:s,s:s,s:s},s]", "from", rl->addr_hex, "to", to, "value",
			      value, "data", data, "latest");
	free(data);
	if (p && it->gas_hint) {
		char gas[24];
		rw_hex_format_u64(gas, it->gas_hint);
		json_object_set_new(json_array_get(p, 0), "gas", json_string(gas));
	}
	return p;
}

/* Asks for the estimates of the taken intents. Returns 1 when they are on
 * their way, 0 when there is nothing to ask or the request failed (logged;
 * the intents wait for another round). */
static int estimate_start(struct rw_relayer *rl)
{
	if (rl->n_intents == 0)
		return 0;
	struct rw_rpc_req *reqs = calloc(rl->n_intents, sizeof(*reqs));
	struct rl_estimate *e = malloc(sizeof(*e));
	if (!reqs || !e) {
		free(reqs);
		free(e);
		return 0;
	}
	for (size_t i = 0; i < rl->n_intents; i++) {
		/* the filer's gas limit: the call once at it, not an estimate */
		reqs[i].method = rl->intents[i].gas_hint ? "eth_call" : "eth_estimateGas";
		reqs[i].params = estimate_params(rl, &rl->intents[i]);
	}
	*e = (struct rl_estimate){ rl, rl->round_seq, rl->n_intents };
	int r = rw_relayer_rpc_split(rl, rl->p.rpc, reqs, rl->n_intents, &estimate_ops, e);
	free(reqs);
	if (r < 0) {
		free(e);
		rw_relayer_say(rl, RW_RELAYER_WARN, "cannot estimate gas: %s", rw_strerror(r));
		return 0;
	}
	rl->est_state = RL_EST_RUNNING;
	return 1;
}

static void on_take(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_relayer *rl = arg;
	if (rw_relayer_back(rl) || rl->take_round != rl->round_seq || !rl->round_active ||
	    rl->est_state != RL_EST_TAKING)
		return;
	const PGresult *res = reply->n ? reply->results[0] : NULL;
	if (reply->error || !res)
		rw_relayer_pg_failed(rl, "reading queued intents", reply);
	take_read(rl, reply->error ? NULL : res);
	rl->est_state = estimate_start(rl) ? RL_EST_RUNNING : RL_EST_DONE;
	if (rl->step == RL_TAKE)
		rw_relayer_next(rl);
}

void rw_relayer_take_early(struct rw_relayer *rl)
{
	if (rl->est_state != RL_EST_NONE)
		return;
	/* the nonces this round's receipts take out of flight make room */
	uint64_t inflight = 0;
	for (size_t i = 0; i < rl->n_txs;) {
		size_t j = i + 1;
		while (j < rl->n_txs && rl->txs[j].nonce == rl->txs[i].nonce)
			j++;
		int current = 0, mined = 0;
		for (size_t k = i; k < j; k++) {
			current |=
				rl->txs[k].state == RL_TX_SIGNED || rl->txs[k].state == RL_TX_SENT;
			mined |= rl->txs[k].seen == RL_SEEN_PRESENT;
		}
		inflight += current && !mined;
		i = j;
	}
	uint64_t limit = room(rl, inflight);
	if (limit == 0)
		return;
	struct rw_pg_job *job = rw_pg_job_new(0);
	if (!job)
		return;
	struct rl_args a = { 0 };
	rw_relayer_arg_u64(&a, rl->chain_id);
	rw_relayer_arg_text(&a, rl->addr_bytea);
	rw_relayer_arg_u64(&a, limit);
	int r = rw_relayer_job_add(job, sql_take, &a);
	if (r < 0)
		rw_pg_job_free(job);
	else
		r = rw_relayer_submit(rl, job, on_take); /* frees the job on failure */
	if (r < 0) {
		rw_relayer_say(rl, RW_RELAYER_WARN, "cannot read queued intents: %s",
			       rw_strerror(r));
		return;
	}
	rl->take_round = rl->round_seq;
	rl->est_state = RL_EST_TAKING;
}

int rw_relayer_step_estimate(struct rw_relayer *rl)
{
	if (rl->est_state != RL_EST_RUNNING)
		return 0; /* answered, or nothing was taken */
	return 1;         /* on_estimate moves on */
}

/* ---- assign -------------------------------------------------------------------------- */

/* The raw bytes signed per round at most: the rest wait for the next round
 * (keeps one statement's parameters small). */
#define ASSIGN_BYTES_MAX ((size_t)8 << 20)

static const char sql_assign[] =
	"SELECT k, tx_id, refused FROM rw_relayer_assign_many($1::bigint, $2::bytea, $3::bigint, "
	"$4::integer, $5::bigint[], $6::smallint[], $7::numeric[], $8::numeric[], $9::numeric[], "
	"$10::bigint[], $11::bytea[], $12::bytea[])";
static const char sql_estimate_failed[] =
	"SELECT rw_relayer_estimate_failed($1::bigint, $2, $3::boolean, $4::interval)";

static int add_estimate_failed(struct rw_relayer *rl, struct rw_pg_job *job,
			       const struct rl_intent *it, int final)
{
	char wait[48];
	snprintf(wait, sizeof(wait), "%" PRIu64 " milliseconds", rl->p.opts.estimate_retry_ms);
	struct rl_args a = { 0 };
	rw_relayer_arg_i64(&a, it->id);
	rw_relayer_arg_text(&a, it->reason);
	rw_relayer_arg_text(&a, final ? "true" : "false");
	rw_relayer_arg_text(&a, wait);
	rw_relayer_say(rl, final ? RW_RELAYER_ERROR : RW_RELAYER_INFO,
		       "%s: %s: gas estimation reverted: %s", it->key,
		       final ? "failed, not sent" : "waiting for the transactions in flight",
		       it->reason);
	return rw_relayer_job_add(job, sql_estimate_failed, &a);
}

/* One fee field per array: the field, or NULL where the type has none. */
static void arr_fee(struct rl_arr *arr, int has, const rw_u256 *v)
{
	if (has)
		rw_relayer_arr_u256(arr, v);
	else
		rw_relayer_arr_null(arr);
}

/* The one statement that stores items [from, to): row k is items[from + k
 * - 1], with its nonce (rw_relayer_assign_many). */
static int add_assign(struct rw_relayer *rl, struct rw_pg_job *job, size_t from, size_t to)
{
	struct rl_arr ids = { 0 }, types = { 0 }, prices = { 0 }, fees = { 0 }, tips = { 0 },
		      gas = { 0 }, raws = { 0 }, hashes = { 0 };
	for (size_t i = from; i < to; i++) {
		const struct rl_item *it = &rl->items[i];
		int legacy = it->fees.type == 0;
		rw_relayer_arr_i64(&ids, rl->intents[it->intent].id);
		rw_relayer_arr_u64(&types, legacy ? 0 : 2);
		arr_fee(&prices, legacy, &it->fees.gas_price);
		arr_fee(&fees, !legacy, &it->fees.max_fee);
		arr_fee(&tips, !legacy, &it->fees.tip);
		rw_relayer_arr_u64(&gas, it->gas);
		rw_relayer_arr_bytea(&raws, it->raw, it->raw_len);
		rw_relayer_arr_bytea(&hashes, it->hash, 32);
	}
	struct rl_args a = { 0 };
	rw_relayer_arg_u64(&a, rl->chain_id);
	rw_relayer_arg_text(&a, rl->addr_bytea);
	rw_relayer_arg_u64(&a, rl->items[from].nonce);
	rw_relayer_arg_u64(&a, rl->p.opts.max_inflight);
	rw_relayer_arg_arr(&a, &ids);
	rw_relayer_arg_arr(&a, &types);
	rw_relayer_arg_arr(&a, &prices);
	rw_relayer_arg_arr(&a, &fees);
	rw_relayer_arg_arr(&a, &tips);
	rw_relayer_arg_arr(&a, &gas);
	rw_relayer_arg_arr(&a, &raws);
	rw_relayer_arg_arr(&a, &hashes);
	return rw_relayer_job_add(job, sql_assign, &a);
}

/* The gas limits of the signer's transactions in flight (current
 * attempts not mined). */
static uint64_t inflight_gas(const struct rw_relayer *rl)
{
	uint64_t g = 0;
	for (size_t i = 0; i < rl->n_txs; i++)
		if (rl->txs[i].state == RL_TX_SIGNED || rl->txs[i].state == RL_TX_SENT)
			g += rl->txs[i].gas_limit;
	return g;
}

/* The fees of a new transaction with `ahead` gas of the signer's own
 * transactions before it: room for the base fee to rise over the full
 * blocks they make (rw_relayer_fees_ahead). */
static void fees_behind(struct rw_relayer_fees *ret, const struct rw_relayer *rl, uint64_t ahead)
{
	uint64_t blocks = rl->block_gas_limit ? ahead / rl->block_gas_limit : 0;
	if (rw_relayer_fees_ahead(ret, &rl->market, &rl->p.opts, blocks) < 0)
		*ret = rl->fees;
}

/* Signs the estimated intents, in order, with consecutive nonces from
 * next_nonce, while the balance covers them (items); notes the reverted
 * ones in failed[] (their count in *ret_failed). */
static int plan(struct rw_relayer *rl, size_t *failed, size_t *ret_failed)
{
	rw_u256 left, cost;
	rw_relayer_committed(&cost, rl);
	if (rw_u256_sub(&left, &rl->balance, &cost) < 0)
		left = rw_u256_from_u64(0);
	uint64_t nonce = rl->next_nonce, ahead = inflight_gas(rl);
	size_t bytes = 0, n_failed = 0;
	int r = 0;
	for (size_t i = 0; r == 0 && i < rl->n_intents; i++) {
		struct rl_intent *in = &rl->intents[i];
		if (in->estimated == 0)
			break; /* keep the order: the rest waits for this one */
		if (bytes >= ASSIGN_BYTES_MAX) {
			rl->again = 1; /* enough for one statement: the rest next round */
			break;
		}
		if (in->estimated < 0) {
			failed[n_failed++] = i;
			continue;
		}
		struct rw_relayer_fees fees;
		fees_behind(&fees, rl, ahead);
		rw_relayer_cost(&cost, in->gas_limit, &fees, &in->value);
		if (rw_u256_sub(&left, &left, &cost) < 0) {
			if (!rl->funds_short)
				rw_relayer_say(
					rl, RW_RELAYER_WARN,
					"%s: the gas balance cannot pay for it; it stays queued "
					"until the signer is funded",
					in->key);
			rl->funds_short = 1;
			break;
		}
		rl->funds_short = 0;
		struct rl_signed s;
		r = rw_relayer_sign(&s, rl, nonce, &fees, in->gas_limit, in->target, &in->value,
				    in->data, in->data_len);
		if (r == 0) {
			bytes += s.raw_len;
			r = rw_relayer_item_add(rl, in->id, nonce, i, &s, &fees, in->gas_limit);
		}
		nonce++;
		ahead += in->gas_limit;
	}
	*ret_failed = n_failed;
	return r;
}

/* Reads rw_relayer_assign_many's rows for items [from, to): the stored
 * ones go to the sends; the first refused one is reported and the round
 * runs again (it and every later item stay queued and are signed again).
 * Returns the number stored. */
static size_t take_assigned(struct rw_relayer *rl, const PGresult *res, size_t from, size_t to)
{
	size_t k = 0;
	int rows = PQntuples(res);
	for (int i = 0; i < rows && from + (size_t)i < to; i++) {
		const struct rl_item *it = &rl->items[from + (size_t)i];
		const char *key = rl->intents[it->intent].key;
		int64_t id;
		if (rw_relayer_cell_i64(&id, res, i, 1) < 0) {
			const char *why = rw_relayer_cell(res, i, 2);
			size_t left = rl->n_items - from - k;
			if (k == (size_t)i)
				rw_relayer_say(rl, RW_RELAYER_WARN,
					       "%s: nonce %" PRIu64
					       " not stored (%s); %zu intent%s "
					       "signed again in the next round",
					       key, it->nonce, why ? why : "?", left,
					       left == 1 ? "" : "s");
			rl->again = 1;
			continue;
		}
		char h[67];
		rw_hex_encode(h, it->hash, 32, 1);
		rw_relayer_say(rl, RW_RELAYER_INFO,
			       "%s: nonce %" PRIu64 ", %s (gas limit %" PRIu64 ")", key, it->nonce,
			       h, it->gas);
		rl->st.signed_txs++;
		rl->inflight++;
		rl->next_nonce = it->nonce + 1;
		(void)rw_relayer_send_add(rl, id, it->nonce, it->hash, it->raw, it->raw_len);
		k++;
	}
	rl->st.local_nonce = rl->next_nonce;
	rl->st.inflight = rl->inflight;
	return k;
}

static int assign_next(struct rw_relayer *rl);

/* One chunk's commit: its transactions join the sends (the broadcast step
 * offers them at once), and the next chunk goes to the database while the
 * node takes these. A chunk that fails or stops short ends the chain (the
 * rest were signed for nonces that are not the next ones any more). */
static void on_assigned(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_relayer *rl = arg;
	if (rw_relayer_back(rl))
		return;
	size_t from = rl->assign_from, to = rl->assign_to, k = 0;
	if (reply->error) {
		const char *st = reply->error->sqlstate;
		if (strcmp(st, "RW002") == 0 || strcmp(st, "RW003") == 0 ||
		    strcmp(st, "RW004") == 0)
			rl->again = 1; /* the signer moved under us: read it again */
		rw_relayer_pg_failed(rl, "storing signed transactions", reply);
	} else if (reply->n && reply->results[0]) {
		k = take_assigned(rl, reply->results[0], from, to);
	}
	if (k) {
		rw_relayer_hook(rl, RW_RELAYER_STEP_ASSIGNED);
		/* new transactions go out: a dev chain mines them on arrival, so
		 * the next round looks for their receipts at once (on a chain with
		 * slow blocks it asks for none: their nonces are not used yet),
		 * and more may be queued */
		rl->again = 1;
	}
	rl->assign_from = to;
	int whole = k == to - from;
	if (!(whole && to < rl->n_items && assign_next(rl) == 0))
		rl->assigning = 0;
	rw_relayer_broadcast_more(rl);
}

/* Submits the next chunk of items, from rl->assign_from (at most
 * RL_ASSIGN_CHUNK), as one transaction. Returns 0 or an error. */
static int assign_next(struct rw_relayer *rl)
{
	size_t from = rl->assign_from, to = from + RL_ASSIGN_CHUNK;
	if (to > rl->n_items)
		to = rl->n_items;
	struct rw_pg_job *job = rw_pg_job_new(RW_PG_TX);
	if (!job)
		return RW_ENOMEM;
	int r = add_assign(rl, job, from, to);
	if (r == 0)
		r = rw_relayer_submit(rl, job, on_assigned);
	else
		rw_pg_job_free(job);
	if (r < 0) {
		rw_relayer_say(rl, RW_RELAYER_ERROR, "cannot store signed transactions: %s",
			       rw_strerror(r));
		return r;
	}
	rl->assign_to = to;
	rl->assigning = 1;
	return 0;
}

static void on_failed_stored(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_relayer *rl = arg;
	if (rw_relayer_back(rl))
		return;
	if (reply->error)
		rw_relayer_pg_failed(rl, "storing estimation failures", reply);
}

/* The reverted estimates of failed[] (indexes in intents), in one job that
 * is not waited for (the intents stay queued when it fails). */
static int store_failed(struct rw_relayer *rl, const size_t *failed, size_t n_failed)
{
	struct rw_pg_job *job = rw_pg_job_new(RW_PG_TX);
	if (!job)
		return RW_ENOMEM;
	int waiting = rl->inflight > 0, r = 0;
	for (size_t i = 0; r == 0 && i < n_failed; i++) {
		const struct rl_intent *in = &rl->intents[failed[i]];
		/* an earlier intent of this round, signed, may be what it needs */
		int before = rl->n_items && rl->items[0].intent < failed[i];
		int final = !(waiting || before) ||
			    in->estimate_failures + 1 >= rl->p.opts.estimate_retries;
		r = add_estimate_failed(rl, job, in, final);
	}
	if (r < 0) {
		rw_pg_job_free(job);
		return r;
	}
	return rw_relayer_submit(rl, job, on_failed_stored);
}

/* Signs the round's intents and stores them in chunks of RL_ASSIGN_CHUNK,
 * one transaction each, one after the other; the broadcast step (which
 * follows at once) sends each chunk when its commit is known, while the
 * database stores the next. Nothing is sent before it is stored. */
int rw_relayer_step_assign(struct rw_relayer *rl)
{
	rw_relayer_items_clear(rl);
	rl->assigning = 0;
	if (rl->n_intents == 0)
		return 0;
	size_t *failed = calloc(rl->n_intents, sizeof(*failed)), n_failed = 0;
	if (!failed)
		return RW_ENOMEM;
	int r = plan(rl, failed, &n_failed);
	if (r == 0 && n_failed)
		r = store_failed(rl, failed, n_failed);
	free(failed);
	rl->assign_from = 0;
	if (r == 0 && rl->n_items)
		r = assign_next(rl);
	if (r < 0)
		rw_relayer_items_clear(rl);
	return r < 0 ? r : 0;
}
