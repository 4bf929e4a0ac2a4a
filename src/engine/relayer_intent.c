/* relayer_intent.c: taking queued intents. The oldest queued intents (as
 * many as the in-flight cap leaves room for) get a gas estimate; a revert
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
	"SELECT id, key, encode(target, 'hex'), value, encode(calldata, 'hex'), estimate_failures "
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

static void on_take(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_relayer *rl = arg;
	if (rw_relayer_back(rl))
		return;
	const PGresult *res = reply->n ? reply->results[0] : NULL;
	if (reply->error || !res) {
		rw_relayer_pg_failed(rl, "reading queued intents", reply);
		rw_relayer_next(rl);
		return;
	}
	int n = PQntuples(res);
	rl->intents = calloc(n > 0 ? (size_t)n : 1, sizeof(*rl->intents));
	for (int i = 0; rl->intents && i < n; i++) {
		if (read_intent(&rl->intents[rl->n_intents], res, i) < 0) {
			free(rl->intents[rl->n_intents].data);
			rw_relayer_say(rl, RW_RELAYER_ERROR, "queued intent row %d does not read",
				       i);
			continue;
		}
		rl->n_intents++;
	}
	if (rl->n_intents == 0)
		rl->funds_short = 0; /* nothing waits for money */
	rw_relayer_next(rl);
}

int rw_relayer_step_take(struct rw_relayer *rl)
{
	rw_relayer_intents_clear(rl);
	if (!rl->chain_ok || !rl->fees_ok || rl->paused || rl->inflight >= rl->p.opts.max_inflight)
		return 0;
	uint64_t room = rl->p.opts.max_inflight - rl->inflight;
	if (room > RL_TAKE_MAX)
		room = RL_TAKE_MAX;
	rl->take_limit = room;
	struct rw_pg_job *job = rw_pg_job_new(0);
	if (!job)
		return RW_ENOMEM;
	struct rl_args a = { 0 };
	rw_relayer_arg_u64(&a, rl->chain_id);
	rw_relayer_arg_text(&a, rl->addr_bytea);
	rw_relayer_arg_u64(&a, room);
	int r = rw_relayer_job_add(job, sql_take, &a);
	if (r < 0) {
		rw_pg_job_free(job);
		return r;
	}
	r = rw_relayer_submit(rl, job, on_take);
	return r < 0 ? r : 1;
}

/* ---- estimate ------------------------------------------------------------------ */

static void take_estimate(struct rw_relayer *rl, struct rl_intent *it,
			  const struct rw_rpc_result *res)
{
	uint64_t gas;
	if (res->cls == RW_RPC_OK && rw_rpc_get_quantity_u64(&gas, res->result) == 0) {
		it->estimated = 1;
		it->gas_limit = rw_relayer_gas_limit(gas, rl->p.opts.gas_margin_pct);
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

static void on_estimate(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata)
{
	struct rw_relayer *rl = udata;
	if (rw_relayer_back(rl))
		return;
	for (size_t i = 0; i < n && i < rl->n_intents; i++)
		take_estimate(rl, &rl->intents[i], &res[i]);
	rw_relayer_next(rl);
}

static json_t *estimate_params(const struct rw_relayer *rl, const struct rl_intent *it)
{
	char to[43], value[RW_U256_HEX_MAX];
	rw_hex_encode(to, it->target, 20, 1);
	rw_u256_format_hex(value, &it->value);
	char *data = rw_hex_encode_alloc(it->data, it->data_len);
	if (!data)
		return NULL;
	json_t *p = json_pack("[{s:s,s:s,s:s,s:s}]", "from", rl->addr_hex, "to", to, "value", value,
			      "data", data);
	free(data);
	return p;
}

int rw_relayer_step_estimate(struct rw_relayer *rl)
{
	if (rl->n_intents == 0)
		return 0;
	struct rw_rpc_req *reqs = calloc(rl->n_intents, sizeof(*reqs));
	if (!reqs)
		return RW_ENOMEM;
	for (size_t i = 0; i < rl->n_intents; i++) {
		reqs[i].method = "eth_estimateGas";
		reqs[i].params = estimate_params(rl, &rl->intents[i]);
	}
	int r = rw_relayer_rpc(rl, rl->p.rpc, reqs, rl->n_intents, 1, on_estimate, rl);
	free(reqs);
	if (r < 0) {
		rw_relayer_say(rl, RW_RELAYER_WARN, "cannot estimate gas: %s", rw_strerror(r));
		return 0;
	}
	return 1;
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

/* The one statement that stores every signed item of the round: row k is
 * items[k - 1] with nonce next_nonce + k - 1 (rw_relayer_assign_many). */
static int add_assign(struct rw_relayer *rl, struct rw_pg_job *job)
{
	struct rl_arr ids = { 0 }, types = { 0 }, prices = { 0 }, fees = { 0 }, tips = { 0 },
		      gas = { 0 }, raws = { 0 }, hashes = { 0 };
	for (size_t i = 0; i < rl->n_items; i++) {
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
	rw_relayer_arg_u64(&a, rl->items[0].nonce);
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

/* Signs the estimated intents, in order, with consecutive nonces from
 * next_nonce, while the balance covers them (items); notes the reverted
 * ones in failed[] (their count in *ret_failed). */
static int plan(struct rw_relayer *rl, size_t *failed, size_t *ret_failed)
{
	rw_u256 left, cost;
	rw_relayer_committed(&cost, rl);
	if (rw_u256_sub(&left, &rl->balance, &cost) < 0)
		left = rw_u256_from_u64(0);
	uint64_t nonce = rl->next_nonce;
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
		rw_relayer_cost(&cost, in->gas_limit, &rl->fees, &in->value);
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
		r = rw_relayer_sign(&s, rl, nonce, &rl->fees, in->gas_limit, in->target, &in->value,
				    in->data, in->data_len);
		if (r == 0) {
			bytes += s.raw_len;
			r = rw_relayer_item_add(rl, in->id, nonce, i, &s, &rl->fees, in->gas_limit);
		}
		nonce++;
	}
	*ret_failed = n_failed;
	return r;
}

/* Reads rw_relayer_assign_many's rows: the stored ones go to the sends;
 * the first refused one is reported and the round runs again (what follows
 * it stays queued and is signed again). */
static size_t take_assigned(struct rw_relayer *rl, const PGresult *res)
{
	size_t k = 0;
	int rows = PQntuples(res);
	for (int i = 0; i < rows && (size_t)i < rl->n_items; i++) {
		const struct rl_item *it = &rl->items[i];
		const char *key = rl->intents[it->intent].key;
		int64_t id;
		if (rw_relayer_cell_i64(&id, res, i, 1) < 0) {
			const char *why = rw_relayer_cell(res, i, 2);
			if (k == (size_t)i)
				rw_relayer_say(rl, RW_RELAYER_WARN,
					       "%s: nonce %" PRIu64 " not stored (%s); %zu intent%s "
					       "signed again in the next round",
					       key, it->nonce, why ? why : "?", rl->n_items - k,
					       rl->n_items - k == 1 ? "" : "s");
			rl->again = 1;
			continue;
		}
		char h[67];
		rw_hex_encode(h, it->hash, 32, 1);
		rw_relayer_say(rl, RW_RELAYER_INFO, "%s: nonce %" PRIu64 ", %s (gas limit %" PRIu64 ")",
			       key, it->nonce, h, it->gas);
		rl->st.signed_txs++;
		rl->inflight++;
		rl->next_nonce = it->nonce + 1;
		(void)rw_relayer_send_add(rl, id, it->nonce, it->hash, it->raw, it->raw_len);
		k++;
	}
	return k;
}

static void on_assigned(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_relayer *rl = arg;
	if (rw_relayer_back(rl))
		return;
	if (reply->error) {
		const char *st = reply->error->sqlstate;
		if (strcmp(st, "RW002") == 0 || strcmp(st, "RW003") == 0 ||
		    strcmp(st, "RW004") == 0)
			rl->again = 1; /* the signer moved under us: read it again */
		rw_relayer_pg_failed(rl, "storing signed transactions", reply);
		rw_relayer_items_clear(rl);
		rw_relayer_next(rl);
		return;
	}
	size_t k = 0;
	if (rl->n_items && reply->n && reply->results[0])
		k = take_assigned(rl, reply->results[0]);
	rl->st.local_nonce = rl->next_nonce;
	rl->st.inflight = rl->inflight;
	if (k && rl->n_intents == rl->take_limit)
		rl->again = 1; /* a full page: more may be queued */
	rw_relayer_items_clear(rl);
	if (k)
		rw_relayer_hook(rl, RW_RELAYER_STEP_ASSIGNED);
	rw_relayer_next(rl);
}

int rw_relayer_step_assign(struct rw_relayer *rl)
{
	rw_relayer_items_clear(rl);
	if (rl->n_intents == 0)
		return 0;
	size_t *failed = calloc(rl->n_intents, sizeof(*failed)), n_failed = 0;
	if (!failed)
		return RW_ENOMEM;
	int r = plan(rl, failed, &n_failed);
	struct rw_pg_job *job = NULL;
	if (r == 0 && (rl->n_items || n_failed) && !(job = rw_pg_job_new(RW_PG_TX)))
		r = RW_ENOMEM;
	/* the assign statement first: its rows are results[0] */
	if (r == 0 && job && rl->n_items)
		r = add_assign(rl, job);
	int waiting = rl->inflight > 0;
	for (size_t i = 0; r == 0 && job && i < n_failed; i++) {
		const struct rl_intent *in = &rl->intents[failed[i]];
		/* an earlier intent of this round, signed, may be what it needs */
		int before = rl->n_items && rl->items[0].intent < failed[i];
		int final = !(waiting || before) ||
			    in->estimate_failures + 1 >= rl->p.opts.estimate_retries;
		r = add_estimate_failed(rl, job, in, final);
	}
	free(failed);
	if (r < 0 || !job) {
		rw_pg_job_free(job);
		rw_relayer_items_clear(rl);
		return r < 0 ? r : 0;
	}
	r = rw_relayer_submit(rl, job, on_assigned);
	return r < 0 ? r : 1;
}
