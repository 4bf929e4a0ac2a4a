/* relayer_sync.c: the first steps of a round: what the chain says (head,
 * finalized block, nonce counts, balance, fee market, chain id) and what
 * PostgreSQL holds (rw_relayer_sync, the attempts of every open nonce, the
 * nonce gaps, the operators' open requests, the intent counts). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hex.h"
#include "relayer_int.h"

/* Intent counts are read at most this often. */
#define COUNTS_EVERY_MS 5000

/* ---- the chain ---------------------------------------------------------- */

enum {
	C_HEAD,
	C_FINALIZED,
	C_LATEST,
	C_PENDING,
	C_BALANCE,
	C_FEE_HISTORY,
	C_GAS_PRICE,
	C_TOP,
	C_CHAIN_ID,
	C_N
};

static double u256_double(const rw_u256 *v)
{
	double d = 0;
	for (int i = 3; i >= 0; i--)
		d = d * 18446744073709551616.0 + (double)v->w[i];
	return d;
}

/* The fees of a new transaction now; reports a base fee above the cap
 * once per episode. */
static void market_update(struct rw_relayer *rl, const json_t *history, const json_t *gas_price)
{
	rl->market_ok = rw_relayer_market_parse(&rl->market, history, gas_price) == 0 &&
			(history || gas_price);
	rl->fees_ok = rl->bump_ok = 0;
	if (!rl->market_ok)
		return;
	int r = rw_relayer_fees_new(&rl->fees, &rl->market, &rl->p.opts);
	rl->fees_ok = r == 0;
	rl->bump_ok = r == 0 || r == RW_ERANGE;
	if (r == RW_ERANGE && !rl->fee_cap_reported) {
		char base[RW_U256_DEC_MAX], cap[RW_U256_DEC_MAX];
		rw_u256_format_dec(base, rl->market.has_base_fee && !rl->p.opts.legacy
						 ? &rl->market.base_fee
						 : &rl->market.gas_price);
		rw_u256_format_dec(cap, &rl->p.opts.fee_cap);
		rw_relayer_say(
			rl, RW_RELAYER_WARN,
			"fees %s wei are above the fee cap %s wei: no new transactions until "
			"they fall; intents stay queued",
			base, cap);
		rl->fee_cap_reported = 1;
	} else if (r == 0 && rl->fee_cap_reported) {
		rw_relayer_say(rl, RW_RELAYER_INFO, "fees are under the cap again");
		rl->fee_cap_reported = 0;
	}
}

static int check_chain_id(struct rw_relayer *rl, const struct rw_rpc_result *res)
{
	if (rl->chain_ok)
		return 0;
	uint64_t id = 0;
	if (res->cls != RW_RPC_OK || rw_rpc_get_quantity_u64(&id, res->result) < 0) {
		rw_relayer_rpc_failed(rl, "eth_chainId", res);
		return RW_EIO;
	}
	if (id != rl->chain_id) {
		char *ep = rw_config_mask(res->endpoint);
		rw_relayer_say(rl, RW_RELAYER_ERROR,
			       "endpoint %s is chain %" PRIu64 ", not %" PRIu64
			       ": nothing is signed or sent until the configuration is fixed",
			       ep ? ep : "?", id, rl->chain_id);
		free(ep);
		return RW_EINVAL;
	}
	rl->chain_ok = 1;
	return 0;
}

static int read_u64(struct rw_relayer *rl, uint64_t *ret, const struct rw_rpc_result *res,
		    const char *what)
{
	if (res->cls == RW_RPC_OK && rw_rpc_get_quantity_u64(ret, res->result) == 0)
		return 0;
	rw_relayer_rpc_failed(rl, what, res);
	return RW_EIO;
}

static void on_chain(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata)
{
	struct rw_relayer *rl = udata;
	if (rw_relayer_back(rl))
		return;
	uint64_t head, latest, pending;
	rw_u256 balance;
	int r = read_u64(rl, &head, &res[C_HEAD], "eth_blockNumber");
	if (r == 0)
		r = read_u64(rl, &latest, &res[C_LATEST], "eth_getTransactionCount(latest)");
	if (r == 0)
		r = read_u64(rl, &pending, &res[C_PENDING], "eth_getTransactionCount(pending)");
	if (r == 0 && (res[C_BALANCE].cls != RW_RPC_OK ||
		       rw_rpc_get_u256(&balance, res[C_BALANCE].result) < 0)) {
		rw_relayer_rpc_failed(rl, "eth_getBalance", &res[C_BALANCE]);
		r = RW_EIO;
	}
	if (r == 0 && n > C_CHAIN_ID)
		r = check_chain_id(rl, &res[C_CHAIN_ID]);
	if (r < 0) {
		rw_relayer_abort(rl);
		return;
	}
	if (latest != rl->latest_nonce || rl->nonce_moved_ms == 0) {
		rl->nonce_moved_block = head; /* the next nonce's turn began */
		rl->nonce_moved_ms = uv_now(rl->loop);
	}
	if (head != rl->head || rl->head_moved_ms == 0)
		rl->head_moved_ms = uv_now(rl->loop);
	rl->head = head;
	rl->latest_nonce = latest;
	rl->pending_nonce = pending;
	rl->balance = balance;
	const struct rw_rpc_result *fin = &res[C_FINALIZED];
	rl->has_finalized = fin->cls == RW_RPC_OK && json_is_object(fin->result) &&
			    rw_rpc_get_quantity_u64(&rl->finalized,
						    json_object_get(fin->result, "number")) == 0;
	const json_t *history =
		res[C_FEE_HISTORY].cls == RW_RPC_OK ? res[C_FEE_HISTORY].result : NULL;
	const json_t *gas_price =
		res[C_GAS_PRICE].cls == RW_RPC_OK ? res[C_GAS_PRICE].result : NULL;
	market_update(rl, history, gas_price);
	/* the block gas limit, for the fees of a backlog (0: unknown) */
	const struct rw_rpc_result *top = &res[C_TOP];
	if (top->cls != RW_RPC_OK || !json_is_object(top->result) ||
	    rw_rpc_get_quantity_u64(&rl->block_gas_limit,
				    json_object_get(top->result, "gasLimit")) < 0)
		rl->block_gas_limit = 0;
	rl->st.head = head;
	rl->st.finalized = rl->has_finalized ? rl->finalized : 0;
	rl->st.chain_nonce = latest;
	rl->st.chain_pending_nonce = pending;
	rl->st.balance = balance;
	rw_relayer_next(rl);
}

int rw_relayer_step_chain(struct rw_relayer *rl)
{
	char blocks[24];
	rw_hex_format_u64(blocks, rl->p.opts.fee_blocks);
	struct rw_rpc_req reqs[C_N] = {
		[C_HEAD] = { "eth_blockNumber", NULL },
		[C_FINALIZED] = { "eth_getBlockByNumber", json_pack("[s,b]", "finalized", 0) },
		[C_LATEST] = { "eth_getTransactionCount",
			       json_pack("[s,s]", rl->addr_hex, "latest") },
		[C_PENDING] = { "eth_getTransactionCount",
				json_pack("[s,s]", rl->addr_hex, "pending") },
		[C_BALANCE] = { "eth_getBalance", json_pack("[s,s]", rl->addr_hex, "latest") },
		[C_FEE_HISTORY] = { "eth_feeHistory", json_pack("[s,s,[i]]", blocks, "latest",
								(int)rl->p.opts.tip_percentile) },
		[C_GAS_PRICE] = { "eth_gasPrice", NULL },
		[C_TOP] = { "eth_getBlockByNumber", json_pack("[s,b]", "latest", 0) },
		[C_CHAIN_ID] = { "eth_chainId", NULL },
	};
	size_t n = rl->chain_ok ? C_CHAIN_ID : C_N;
	int r = rw_relayer_rpc(rl, rl->p.rpc, reqs, n, 1, on_chain, rl);
	if (r < 0) {
		rw_relayer_say(rl, RW_RELAYER_WARN, "cannot query the chain: %s", rw_strerror(r));
		return r;
	}
	return 1;
}

/* ---- PostgreSQL ------------------------------------------------------------ */

static const char sql_sync[] =
	"SELECT next_nonce, raised_from, paused, spend_per_day, status, inflight "
	"FROM rw_relayer_sync($1::bigint, $2, $3::bytea, $4::bigint, $5::bigint, $6::bigint, "
	"$7::bigint, $8::numeric, $9)";

/* The attempts of every open nonce: one with a current attempt, or a mined
 * one not yet final (or, without a finalized tag, above the settle
 * depth); a nonce whose receipt is confirmed only when $4 (every
 * RL_RECHECK_MS: its receipt is asked again for reorgs, a reorg that deep
 * being an error to report, not a step of the normal path). The open nonces are found first, once, each half through its own
 * partial index (relayer_tx_one_current; relayer_receipt_open, bounded by
 * block number), so a round costs what is open, never the signer's whole
 * history; then their attempts by (chain, signer, nonce). Each lookup of
 * relayer_tx is a LATERAL subquery behind OFFSET 0, so it can only be an
 * index lookup by hash or by (chain, signer, nonce): on young tables, whose
 * statistics say "one row", the planner otherwise joins by scanning the
 * signer's whole history once per open nonce. */
static const char sql_txs[] =
	"WITH open AS MATERIALIZED ("
	"SELECT nonce FROM relayer_tx WHERE chain_id = $1::bigint AND signer = $2::bytea "
	"AND state IN ('signed', 'sent') "
	"UNION "
	"SELECT o.nonce FROM relayer_receipt orc CROSS JOIN LATERAL ("
	"SELECT x.nonce, x.chain_id, x.signer, x.state FROM relayer_tx x "
	"WHERE x.hash = orc.tx_hash OFFSET 0) o "
	"WHERE orc.chain_id = $1::bigint AND NOT orc.final AND orc.block_number > $3::bigint "
	"AND (NOT orc.confirmed OR $4::boolean) "
	"AND o.chain_id = $1::bigint AND o.signer = $2::bytea AND o.state = 'mined') "
	"SELECT t.id, coalesce(t.intent_id, 0), coalesce(i.key, ''), t.nonce, t.attempt, t.state, "
	"t.type, coalesce(t.gas_price, 0), coalesce(t.max_fee_per_gas, 0), "
	"coalesce(t.max_priority_fee_per_gas, 0), t.gas_limit, "
	"CASE WHEN t.kind = 'intent' THEN i.value ELSE 0 END, "
	"encode(t.hash, 'hex'), "
	"CASE WHEN t.state IN ('signed', 'sent') THEN encode(t.raw, 'hex') ELSE '' END, "
	"coalesce((extract(epoch FROM now() - t.sent_at) * 1000)::bigint, -1), "
	"coalesce((extract(epoch FROM now() - t.last_sent_at) * 1000)::bigint, -1), "
	"coalesce(t.sent_block, -1), coalesce(r.block_number, -1), "
	"coalesce(encode(r.block_hash, 'hex'), ''), t.kind "
	"FROM open CROSS JOIN LATERAL (SELECT x.* FROM relayer_tx x WHERE x.chain_id = $1::bigint "
	"AND x.signer = $2::bytea AND x.nonce = open.nonce OFFSET 0) t "
	"LEFT JOIN relayer_intent i ON i.id = t.intent_id "
	"LEFT JOIN relayer_receipt r ON r.tx_hash = t.hash "
	"WHERE t.state <> 'lost' "
	"ORDER BY t.nonce, t.attempt LIMIT " RW_RELAYER_STR(RL_LOAD_MAX);

/* The operators' open requests for this signer, oldest first. */
static const char sql_requests[] =
	"SELECT id, kind, nonce FROM relayer_request "
	"WHERE chain_id = $1::bigint AND signer = $2::bytea AND state = 'requested' "
	"ORDER BY id LIMIT " RW_RELAYER_STR(RL_STEER_MAX);

/* Nonces from the chain's count to next_nonce with no current or mined
 * attempt. */
static const char sql_gaps[] =
	"SELECT g FROM relayer_signer s, "
	"generate_series(s.chain_nonce, s.next_nonce - 1) g "
	"WHERE s.chain_id = $1::bigint AND s.address = $2::bytea AND s.chain_nonce IS NOT NULL "
	"AND NOT EXISTS (SELECT 1 FROM relayer_tx t WHERE t.chain_id = $1::bigint "
	"AND t.signer = $2::bytea AND t.nonce = g AND t.state IN ('signed', 'sent', 'mined')) "
	"ORDER BY g LIMIT " RW_RELAYER_STR(RL_GAPS_MAX);

static const char sql_counts[] =
	"SELECT state, count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
	"FROM relayer_intent WHERE chain_id = $1::bigint AND (signer = $2::bytea OR signer IS "
	"NULL) "
	"GROUP BY state";

enum { S_SYNC, S_TXS, S_GAPS, S_REQUESTS, S_COUNTS };

static const char *status_name(int s)
{
	return s == 2 ? "cannot_pay" : s == 1 ? "low" : "ok";
}

/* ok, low or cannot pay, from the balance, the spending and the last take. */
static int status_now(const struct rw_relayer *rl)
{
	if (rl->funds_short)
		return 2;
	const struct rw_relayer_opts *o = &rl->p.opts;
	if (!rw_u256_is_zero(&o->warn_balance) && rw_u256_cmp(&rl->balance, &o->warn_balance) < 0)
		return 1;
	rw_u256 need, days = rw_u256_from_u64(o->warn_days);
	if (!rw_u256_is_zero(&rl->spend_per_day) &&
	    rw_u256_mul(&need, &rl->spend_per_day, &days) == 0 &&
	    rw_u256_cmp(&rl->balance, &need) < 0)
		return 1;
	return 0;
}

static int add_txs_query(struct rw_relayer *rl, struct rw_pg_job *job)
{
	struct rl_args a = { 0 };
	rw_relayer_arg_u64(&a, rl->chain_id);
	rw_relayer_arg_text(&a, rl->addr_bytea);
	int64_t floor = -1;
	if (!rl->has_finalized)
		floor = rl->head > rl->p.opts.settle_depth
				? (int64_t)(rl->head - rl->p.opts.settle_depth)
				: -1;
	rw_relayer_arg_i64(&a, floor);
	rw_relayer_arg_text(&a, rl->recheck ? "true" : "false");
	int r = rw_relayer_job_add(job, sql_txs, &a);
	if (r == 0) {
		rw_relayer_arg_u64(&a, rl->chain_id);
		rw_relayer_arg_text(&a, rl->addr_bytea);
		r = rw_relayer_job_add(job, sql_gaps, &a);
	}
	return r;
}

static enum rl_tx_kind tx_kind(const char *s)
{
	if (s && strcmp(s, "filler") == 0)
		return RL_KIND_FILLER;
	if (s && strcmp(s, "cancel") == 0)
		return RL_KIND_CANCEL;
	return RL_KIND_INTENT;
}

static enum rl_tx_state tx_state(const char *s)
{
	if (!s)
		return RL_TX_LOST;
	if (strcmp(s, "signed") == 0)
		return RL_TX_SIGNED;
	if (strcmp(s, "sent") == 0)
		return RL_TX_SENT;
	if (strcmp(s, "mined") == 0)
		return RL_TX_MINED;
	if (strcmp(s, "replaced") == 0)
		return RL_TX_REPLACED;
	return RL_TX_LOST;
}

/* Reads one row of sql_txs into t (t->raw allocated; its bytes only for a
 * current attempt, the only kind that is sent, bumped or cancelled). */
static int read_tx(struct rl_tx *t, const PGresult *res, int row)
{
	int64_t v[7];
	memset(t, 0, sizeof(*t));
	int r = 0;
	r |= rw_relayer_cell_i64(&t->id, res, row, 0);
	r |= rw_relayer_cell_i64(&t->intent_id, res, row, 1);
	const char *key = rw_relayer_cell(res, row, 2);
	snprintf(t->key, sizeof(t->key), "%s", key ? key : "");
	r |= rw_relayer_cell_i64(&v[0], res, row, 3);
	r |= rw_relayer_cell_i64(&v[1], res, row, 4);
	t->state = tx_state(rw_relayer_cell(res, row, 5));
	t->kind = tx_kind(rw_relayer_cell(res, row, 19));
	r |= rw_relayer_cell_i64(&v[2], res, row, 6);
	r |= rw_relayer_cell_u256(&t->fees.gas_price, res, row, 7);
	r |= rw_relayer_cell_u256(&t->fees.max_fee, res, row, 8);
	r |= rw_relayer_cell_u256(&t->fees.tip, res, row, 9);
	r |= rw_relayer_cell_i64(&v[3], res, row, 10);
	r |= rw_relayer_cell_u256(&t->value, res, row, 11);
	r |= rw_relayer_cell_hex(t->hash, 32, res, row, 12);
	r |= rw_relayer_cell_i64(&t->sent_age_ms, res, row, 14);
	r |= rw_relayer_cell_i64(&t->last_sent_age_ms, res, row, 15);
	r |= rw_relayer_cell_i64(&t->sent_block, res, row, 16);
	r |= rw_relayer_cell_i64(&t->rc_block, res, row, 17);
	if (t->rc_block >= 0)
		r |= rw_relayer_cell_hex(t->rc_block_hash, 32, res, row, 18);
	const char *raw = rw_relayer_cell(res, row, 13);
	if (r || !raw || v[0] < 0 || v[1] < 1 || v[3] < 21000)
		return RW_EINVAL;
	t->nonce = (uint64_t)v[0];
	t->attempt = (unsigned)v[1];
	t->fees.type = (int)v[2];
	t->gas_limit = (uint64_t)v[3];
	size_t len = strlen(raw) / 2;
	t->raw = malloc(len ? len : 1);
	if (!t->raw)
		return RW_ENOMEM;
	if (rw_hex_decode_fixed(t->raw, len, raw, strlen(raw), RW_HEX_PREFIX_FORBIDDEN) < 0) {
		free(t->raw);
		t->raw = NULL;
		return RW_EINVAL;
	}
	t->raw_len = len;
	return 0;
}

static int read_txs(struct rw_relayer *rl, const PGresult *res)
{
	rw_relayer_txs_clear(rl);
	int n = PQntuples(res);
	if (n <= 0)
		return 0;
	rl->txs = calloc((size_t)n, sizeof(*rl->txs));
	if (!rl->txs)
		return RW_ENOMEM;
	for (int i = 0; i < n; i++) {
		int r = read_tx(&rl->txs[rl->n_txs], res, i);
		if (r < 0) {
			rw_relayer_say(rl, RW_RELAYER_ERROR,
				       "relayer_tx row %d does not read back (%s); skipping it", i,
				       rw_strerror(r));
			continue;
		}
		rl->n_txs++;
	}
	uint64_t inflight = 0;
	for (size_t i = 0; i < rl->n_txs; i++)
		if (rl->txs[i].state == RL_TX_SIGNED || rl->txs[i].state == RL_TX_SENT)
			inflight++;
	rl->inflight = rl->st.inflight = inflight;
	return 0;
}

/* The gaps of this round; a gap keeps the time it was first seen. A nonce
 * below the node's pending count has a transaction in its pool that is not
 * ours (another sender's, pending): not a gap, it is left alone. */
static void read_gaps(struct rw_relayer *rl, const PGresult *res)
{
	struct rl_gap next[RL_GAPS_MAX];
	size_t n = 0;
	uint64_t now = uv_now(rl->loop);
	int rows = PQntuples(res);
	for (int i = 0; i < rows && n < RL_GAPS_MAX; i++) {
		int64_t g;
		if (rw_relayer_cell_i64(&g, res, i, 0) < 0 || g < 0 ||
		    (uint64_t)g < rl->pending_nonce)
			continue;
		next[n].nonce = (uint64_t)g;
		next[n].since_ms = now;
		for (size_t k = 0; k < rl->n_gaps; k++)
			if (rl->gaps[k].nonce == (uint64_t)g)
				next[n].since_ms = rl->gaps[k].since_ms;
		if (next[n].since_ms == now)
			rw_relayer_say(
				rl, RW_RELAYER_WARN,
				"nonce %" PRId64 " is a gap (below the next nonce, no transaction "
				"of ours); filling it unless it closes within %" PRIu64 " ms",
				g, rl->p.opts.gap_grace_ms);
		n++;
	}
	memcpy(rl->gaps, next, n * sizeof(next[0]));
	rl->n_gaps = n;
}

static void read_counts(struct rw_relayer *rl, const PGresult *res)
{
	memset(rl->st.intents, 0, sizeof(rl->st.intents));
	double oldest = 0;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *state = rw_relayer_cell(res, i, 0);
		int64_t n;
		if (!state || rw_relayer_cell_i64(&n, res, i, 1) < 0)
			continue;
		for (size_t k = 0; k < RL_INTENT_STATES; k++) {
			if (strcmp(state, rw_relayer_intent_state_name(k)) != 0)
				continue;
			rl->st.intents[k] = (uint64_t)n;
			const char *age = rw_relayer_cell(res, i, 2);
			double a = age ? strtod(age, NULL) : 0;
			if (k <= 2 && a > oldest)
				oldest = a;
		}
	}
	rl->st.oldest_unconfirmed_s = oldest;
}

/* Reads rw_relayer_sync's row. */
static int read_sync(struct rw_relayer *rl, const PGresult *res)
{
	int64_t next, raised = -1, inflight;
	if (rw_relayer_cell_i64(&next, res, 0, 0) < 0 ||
	    rw_relayer_cell_i64(&inflight, res, 0, 5) < 0 ||
	    rw_relayer_cell_u256(&rl->spend_per_day, res, 0, 3) < 0)
		return RW_EINVAL;
	(void)rw_relayer_cell_i64(&raised, res, 0, 1);
	const char *paused = rw_relayer_cell(res, 0, 2);
	if (raised >= 0)
		rw_relayer_say(rl, RW_RELAYER_WARN,
			       "the chain's nonce (latest %" PRIu64 ", pending %" PRIu64
			       ") is ahead of the local nonce %" PRId64
			       ": another sender uses this key; continuing from %" PRId64,
			       rl->latest_nonce, rl->pending_nonce, raised, next);
	int was_paused = rl->paused;
	rl->paused = paused && paused[0] == 't';
	if (rl->paused != was_paused)
		rw_relayer_say(rl, rl->paused ? RW_RELAYER_WARN : RW_RELAYER_INFO,
			       "signer %s: no new nonces are taken",
			       rl->paused ? "paused by an operator" : "resumed; paused no longer");
	rl->next_nonce = rl->st.local_nonce = (uint64_t)next;
	rl->st.spend_per_day = rl->spend_per_day;
	rl->st.balance_days = rw_u256_is_zero(&rl->spend_per_day)
				      ? -1
				      : u256_double(&rl->balance) / u256_double(&rl->spend_per_day);
	return 0;
}

static void on_load(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_relayer *rl = arg;
	if (rw_relayer_back(rl))
		return;
	const PGresult *sync = reply->n > S_SYNC ? reply->results[S_SYNC] : NULL;
	if (!sync || PQntuples(sync) != 1 || !reply->results[S_TXS] || !reply->results[S_GAPS] ||
	    !reply->results[S_REQUESTS]) {
		rw_relayer_pg_failed(rl, "loading the signer's state", reply);
		rw_relayer_abort(rl);
		return;
	}
	int r = read_sync(rl, sync);
	if (r == 0)
		r = read_txs(rl, reply->results[S_TXS]);
	if (r < 0) {
		rw_relayer_say(rl, RW_RELAYER_ERROR, "the signer's state does not read: %s",
			       rw_strerror(r));
		rw_relayer_abort(rl);
		return;
	}
	read_gaps(rl, reply->results[S_GAPS]);
	rw_relayer_requests_read(rl, reply->results[S_REQUESTS]);
	if (reply->n > S_COUNTS && reply->results[S_COUNTS]) {
		read_counts(rl, reply->results[S_COUNTS]);
		rl->counts_ms = uv_now(rl->loop);
	}
	rw_relayer_next(rl);
}

int rw_relayer_step_load(struct rw_relayer *rl)
{
	int status = status_now(rl);
	if (status != rl->status)
		rw_relayer_say(rl, status == 0 ? RW_RELAYER_INFO : RW_RELAYER_WARN,
			       "gas balance status %s -> %s", status_name(rl->status),
			       status_name(status));
	rl->status = rl->st.status = status;
	uint64_t now = uv_now(rl->loop);
	rl->recheck = rl->recheck_ms == 0 || now - rl->recheck_ms >= RL_RECHECK_MS;
	if (rl->recheck)
		rl->recheck_ms = now;
	struct rw_pg_job *job = rw_pg_job_new(0);
	if (!job)
		return RW_ENOMEM;
	struct rl_args a = { 0 };
	rw_relayer_arg_u64(&a, rl->chain_id);
	rw_relayer_arg_text(&a, rl->name);
	rw_relayer_arg_text(&a, rl->addr_bytea);
	rw_relayer_arg_u64(&a, rl->head);
	if (rl->has_finalized)
		rw_relayer_arg_u64(&a, rl->finalized);
	else
		rw_relayer_arg_null(&a);
	rw_relayer_arg_u64(&a, rl->latest_nonce);
	rw_relayer_arg_u64(&a, rl->pending_nonce);
	rw_relayer_arg_u256(&a, &rl->balance);
	rw_relayer_arg_text(&a, status_name(status));
	int r = rw_relayer_job_add(job, sql_sync, &a);
	if (r == 0)
		r = add_txs_query(rl, job);
	if (r == 0) {
		rw_relayer_arg_u64(&a, rl->chain_id);
		rw_relayer_arg_text(&a, rl->addr_bytea);
		r = rw_relayer_job_add(job, sql_requests, &a);
	}
	if (r == 0 && (rl->counts_ms == 0 || uv_now(rl->loop) - rl->counts_ms >= COUNTS_EVERY_MS)) {
		rw_relayer_arg_u64(&a, rl->chain_id);
		rw_relayer_arg_text(&a, rl->addr_bytea);
		r = rw_relayer_job_add(job, sql_counts, &a);
	}
	if (r < 0) {
		rw_pg_job_free(job);
		return r;
	}
	r = rw_relayer_submit(rl, job, on_load);
	return r < 0 ? r : 1;
}

static void on_reload(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_relayer *rl = arg;
	if (rw_relayer_back(rl))
		return;
	if (reply->error || reply->n < 2) {
		rw_relayer_pg_failed(rl, "reloading the transactions", reply);
		rw_relayer_abort(rl);
		return;
	}
	int r = read_txs(rl, reply->results[0]);
	if (r < 0) {
		rw_relayer_abort(rl);
		return;
	}
	read_gaps(rl, reply->results[1]);
	rw_relayer_next(rl);
}

int rw_relayer_step_reload(struct rw_relayer *rl)
{
	if (!rl->receipts_changed)
		return 0;
	struct rw_pg_job *job = rw_pg_job_new(0);
	if (!job)
		return RW_ENOMEM;
	int r = add_txs_query(rl, job);
	if (r < 0) {
		rw_pg_job_free(job);
		return r;
	}
	r = rw_relayer_submit(rl, job, on_reload);
	return r < 0 ? r : 1;
}
