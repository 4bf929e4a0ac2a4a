/* relayer_confirm.c: receipts. Every attempt of every open nonce is looked
 * up by hash each round (broadcast answers are hints; the chain is the
 * truth): a new receipt makes its attempt the mined one, a vanished or
 * moved receipt is a reorg, depth makes it confirmed and the finalized
 * block final. A nonce the chain has used (by its count at the
 * confirmation depth) while none of our attempts has a receipt, asked of
 * one node in one batch, was used by another sender: its intent gets a
 * new nonce. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hex.h"
#include "relayer_int.h"

/* ---- receipts ---------------------------------------------------------- */

static int read_receipt(struct rl_receipt *ret, const json_t *o)
{
	uint64_t status = 1;
	const json_t *st = json_object_get(o, "status");
	if (rw_rpc_get_quantity_u64(&ret->block, json_object_get(o, "blockNumber")) < 0 ||
	    rw_rpc_get_data32(ret->block_hash, json_object_get(o, "blockHash")) < 0 ||
	    rw_rpc_get_quantity_u64(&ret->gas_used, json_object_get(o, "gasUsed")) < 0 ||
	    (st && rw_rpc_get_quantity_u64(&status, st) < 0) || status > 1)
		return RW_EINVAL;
	ret->status = (int)status;
	const json_t *egp = json_object_get(o, "effectiveGasPrice");
	ret->effective_gas_price = rw_u256_from_u64(0);
	if (egp && rw_rpc_get_u256(&ret->effective_gas_price, egp) < 0)
		return RW_EINVAL;
	return 0;
}

/* Marks t with what one eth_getTransactionReceipt answer says. */
static void take_receipt(struct rw_relayer *rl, struct rl_tx *t, const struct rw_rpc_result *res)
{
	t->seen = RL_SEEN_UNKNOWN;
	if (res->cls != RW_RPC_OK) {
		rw_relayer_rpc_failed(rl, "eth_getTransactionReceipt", res);
		return;
	}
	if (json_is_null(res->result)) {
		t->seen = RL_SEEN_ABSENT;
		return;
	}
	if (!json_is_object(res->result) || read_receipt(&t->rc, res->result) < 0) {
		char h[67];
		rw_hex_encode(h, t->hash, 32, 1);
		rw_relayer_say(rl, RW_RELAYER_WARN, "the receipt of %s does not read; ignored", h);
		return;
	}
	t->seen = RL_SEEN_PRESENT;
}

/* What one eth_getBlockByNumber answer says of t's stored receipt: the
 * block at its height still has the stored hash (the receipt stands:
 * present, as stored), or not (unknown this round; the next round reads
 * the receipts again). */
static void take_block(struct rw_relayer *rl, struct rl_tx *t, const struct rw_rpc_result *res)
{
	uint8_t hash[32];
	t->seen = RL_SEEN_UNKNOWN;
	if (res->cls != RW_RPC_OK) {
		rw_relayer_rpc_failed(rl, "eth_getBlockByNumber", res);
		return;
	}
	if (json_is_object(res->result) &&
	    rw_rpc_get_data32(hash, json_object_get(res->result, "hash")) == 0 &&
	    memcmp(hash, t->rc_block_hash, 32) == 0) {
		t->seen = RL_SEEN_PRESENT;
		t->rc.block = (uint64_t)t->rc_block;
		memcpy(t->rc.block_hash, t->rc_block_hash, 32);
		return;
	}
	/* another block at that height, none, or an answer that does not read */
	rl->full_receipts = 1;
	rl->again = 1;
}

/* Answers [off, off + n) of the receipts step: t->answer says which is
 * about attempt t. Attempts of one block share its answer: it is read (and
 * a failure counted and logged) once, for the first of them, and holds for
 * the others that stored the same block hash. */
static void on_receipts_part(struct rw_relayer *rl, void *udata, size_t off,
			     const struct rw_rpc_result *res, size_t n)
{
	(void)udata;
	const struct rl_tx *first = NULL; /* the attempt that read the last block answer */
	for (size_t i = 0; i < rl->n_txs; i++) {
		struct rl_tx *t = &rl->txs[i];
		if (t->asked == RL_ASK_NONE || t->answer < off || t->answer - off >= n)
			continue;
		if (t->asked == RL_ASK_RECEIPT) {
			take_receipt(rl, t, &res[t->answer - off]);
		} else if (first && first->answer == t->answer &&
			   memcmp(first->rc_block_hash, t->rc_block_hash, 32) == 0) {
			t->seen = first->seen;
			if (t->seen == RL_SEEN_PRESENT) {
				t->rc.block = (uint64_t)t->rc_block;
				memcpy(t->rc.block_hash, t->rc_block_hash, 32);
			}
		} else {
			take_block(rl, t, &res[t->answer - off]);
			first = t;
		}
	}
}

static void on_receipts_done(struct rw_relayer *rl, void *udata, int live)
{
	(void)udata;
	if (!live)
		return;
	rw_relayer_hook(rl, RW_RELAYER_STEP_RECEIPTS);
	rw_relayer_take_early(rl);
	rw_relayer_next(rl);
}

static const struct rl_split_ops receipts_ops = { on_receipts_part, on_receipts_done };

static void hash_hex(char out[67], const uint8_t h[32])
{
	rw_hex_encode(out, h, 32, 1);
}

/* What to ask about t: an attempt with a stored receipt, whether its
 * block still stands (by hash; its receipt itself when a block changed
 * since, see take_block); any other, its receipt, but only when its nonce
 * is below the chain's count of the signer's mined transactions (the chain
 * step's `latest`): at a nonce the chain has not used yet there is no
 * receipt at that head (a busy relayer's flight is mostly such attempts;
 * one mined since the count was read is seen next round). */
static enum rl_ask what_to_ask(const struct rw_relayer *rl, const struct rl_tx *t, int full)
{
	if (t->rc_block >= 0)
		return full ? RL_ASK_RECEIPT : RL_ASK_BLOCK;
	return t->nonce < rl->latest_nonce ? RL_ASK_RECEIPT : RL_ASK_NONE;
}

int rw_relayer_step_receipts(struct rw_relayer *rl)
{
	int full = rl->full_receipts;
	rl->full_receipts = 0;
	/* one request per receipt, one per block (attempts come in nonce
	 * order, so those mined in one block are neighbours) */
	size_t n = 0;
	int64_t last_block = -1;
	size_t last_answer = 0;
	for (size_t i = 0; i < rl->n_txs; i++) {
		struct rl_tx *t = &rl->txs[i];
		t->asked = what_to_ask(rl, t, full);
		t->seen = t->asked == RL_ASK_NONE ? RL_SEEN_ABSENT : RL_SEEN_UNKNOWN;
		if (t->asked == RL_ASK_BLOCK && t->rc_block == last_block) {
			t->answer = last_answer;
			continue;
		}
		if (t->asked == RL_ASK_BLOCK) {
			last_block = t->rc_block;
			last_answer = n;
		}
		if (t->asked != RL_ASK_NONE)
			t->answer = n++;
	}
	rl->n_receipts_asked = n;
	if (n == 0) {
		rw_relayer_take_early(rl);
		return 0;
	}
	struct rw_rpc_req *reqs = calloc(n, sizeof(*reqs));
	if (!reqs)
		return RW_ENOMEM;
	for (size_t i = 0, k = 0; i < rl->n_txs; i++) {
		const struct rl_tx *t = &rl->txs[i];
		if (t->asked == RL_ASK_NONE || t->answer != k)
			continue; /* nothing asked, or its block is asked already */
		if (t->asked == RL_ASK_RECEIPT) {
			char h[67];
			hash_hex(h, t->hash);
			reqs[k].method = "eth_getTransactionReceipt";
			reqs[k].params = json_pack("[s]", h);
		} else {
			char b[24];
			rw_hex_format_u64(b, (uint64_t)t->rc_block);
			reqs[k].method = "eth_getBlockByNumber";
			reqs[k].params = json_pack("[s,b]", b, 0);
		}
		k++;
	}
	int r = rw_relayer_rpc_split(rl, rl->p.rpc, reqs, n, &receipts_ops, NULL);
	free(reqs);
	if (r < 0) {
		rw_relayer_say(rl, RW_RELAYER_WARN, "cannot ask for receipts: %s", rw_strerror(r));
		return r;
	}
	return 1;
}

/* ---- what the receipts change --------------------------------------------- */

static const char sql_mined[] =
	"SELECT k, answer FROM rw_relayer_mined_many($1::bytea[], $2::bigint[], $3::bytea[], "
	"$4::smallint[], $5::bigint[], $6::numeric[], $7::bigint, $8::bigint)";
static const char sql_unmined[] = "SELECT rw_relayer_unmined($1::bytea, $2)";
static const char sql_settle[] = "SELECT rw_relayer_settle($1::bigint, $2::bytea, $3::bigint, "
				 "$4::bigint, $5::bigint)";

/* Every new or moved receipt of the round in one statement: row k is the
 * k-th change that is not an unmined one. A new receipt already at the
 * confirmation depth (the chain step's head) is settled in the same
 * statement (migrations/0027_relayer_mined_deep.sql). */
static int add_mined(struct rw_relayer *rl, struct rw_pg_job *job)
{
	struct rl_arr hashes = { 0 }, blocks = { 0 }, block_hashes = { 0 }, statuses = { 0 },
		      gas = { 0 }, prices = { 0 };
	for (size_t i = 0; i < rl->n_changes; i++) {
		if (rl->changes[i].unmined)
			continue;
		const struct rl_tx *t = &rl->txs[rl->changes[i].tx];
		rw_relayer_arr_bytea(&hashes, t->hash, 32);
		rw_relayer_arr_u64(&blocks, t->rc.block);
		rw_relayer_arr_bytea(&block_hashes, t->rc.block_hash, 32);
		rw_relayer_arr_u64(&statuses, (uint64_t)t->rc.status);
		rw_relayer_arr_u64(&gas, t->rc.gas_used);
		rw_relayer_arr_u256(&prices, &t->rc.effective_gas_price);
	}
	struct rl_args a = { 0 };
	rw_relayer_arg_arr(&a, &hashes);
	rw_relayer_arg_arr(&a, &blocks);
	rw_relayer_arg_arr(&a, &block_hashes);
	rw_relayer_arg_arr(&a, &statuses);
	rw_relayer_arg_arr(&a, &gas);
	rw_relayer_arg_arr(&a, &prices);
	rw_relayer_arg_u64(&a, rl->head);
	rw_relayer_arg_u64(&a, rl->p.opts.confirmations);
	return rw_relayer_job_add(job, sql_mined, &a);
}

static int add_unmined(struct rw_pg_job *job, const struct rl_tx *t)
{
	struct rl_args a = { 0 };
	rw_relayer_arg_bytea(&a, t->hash, 32);
	rw_relayer_arg_text(&a, "no receipt any more: its block was reorged out");
	return rw_relayer_job_add(job, sql_unmined, &a);
}

static int add_suspect(struct rw_relayer *rl, uint64_t nonce)
{
	uint64_t *v = realloc(rl->suspects, (rl->n_suspects + 1) * sizeof(*v));
	if (!v)
		return RW_ENOMEM;
	rl->suspects = v;
	rl->suspects[rl->n_suspects++] = nonce;
	return 0;
}

/* Decides one nonce's attempts [i, j): the attempt with a receipt is the
 * mined one; a stored receipt without one now was reorged out; no receipt
 * at all below the chain's count makes the nonce a suspect. Adds what
 * changes to rl->changes. */
static int decide(struct rw_relayer *rl, size_t i, size_t j)
{
	struct rl_change *ch = rl->changes;
	size_t *n_ch = &rl->n_changes;
	size_t present = j, stored = j;
	int unknown = 0;
	for (size_t k = i; k < j; k++) {
		const struct rl_tx *t = &rl->txs[k];
		if (t->seen == RL_SEEN_PRESENT && present == j)
			present = k;
		if (t->rc_block >= 0)
			stored = k;
		unknown |= t->seen == RL_SEEN_UNKNOWN;
	}
	if (present < j) {
		const struct rl_tx *t = &rl->txs[present];
		if (present == stored && (uint64_t)t->rc_block == t->rc.block &&
		    memcmp(t->rc_block_hash, t->rc.block_hash, 32) == 0)
			return 0;
		ch[(*n_ch)++] = (struct rl_change){ present, 0 };
		return 0;
	}
	if (unknown)
		return 0;
	if (stored < j) {
		ch[(*n_ch)++] = (struct rl_change){ stored, 1 };
		return 0;
	}
	if (rl->txs[i].nonce < rl->latest_nonce)
		return add_suspect(rl, rl->txs[i].nonce);
	return 0;
}

/* Logs the answer of one change. */
static void log_change(struct rw_relayer *rl, const struct rl_tx *t, const struct rl_change *c,
		       const char *answer)
{
	char h[67], b[67], cancel[RL_KEY_MAX + 32];
	hash_hex(h, t->hash);
	snprintf(cancel, sizeof(cancel), "the no-op cancelling %s", t->key);
	const char *who = t->kind == RL_KIND_CANCEL ? cancel : t->key[0] ? t->key : "gap filler";
	if (c->unmined) {
		rl->st.reorged++;
		rw_relayer_say(rl, RW_RELAYER_WARN,
			       "nonce %" PRIu64 ": %s (%s) is no longer in block %" PRId64
			       ": reorged out; pending again",
			       t->nonce, h, who, t->rc_block);
		return;
	}
	hash_hex(b, t->rc.block_hash);
	if (strcmp(answer, "mined") == 0) {
		rl->st.mined++;
		rw_relayer_say(rl, t->rc.status ? RW_RELAYER_INFO : RW_RELAYER_WARN,
			       "nonce %" PRIu64 ": %s (%s, attempt %u) mined in block %" PRIu64
			       "%s",
			       t->nonce, h, who, t->attempt, t->rc.block,
			       t->rc.status ? "" : ", REVERTED (status 0)");
	} else if (strcmp(answer, "moved") == 0) {
		rl->st.reorged++;
		rw_relayer_say(rl, RW_RELAYER_WARN,
			       "nonce %" PRIu64 ": %s (%s) moved to block %" PRIu64
			       " (%s): a reorg",
			       t->nonce, h, who, t->rc.block, b);
	} else if (strcmp(answer, "conflict") == 0) {
		rw_relayer_say(rl, RW_RELAYER_ERROR,
			       "nonce %" PRIu64
			       ": %s (%s) is mined although its nonce was taken for "
			       "used by another sender: a reorg deeper than the confirmation "
			       "depth; check this intent by hand",
			       t->nonce, h, who);
	}
}

/* Applies to the loaded attempts what rw_relayer_mined did for attempt
 * tx when it answered mined, moved or same: tx is the mined attempt of
 * its nonce, with this round's receipt, and the nonce's other current or
 * mined attempts are replaced. Returns 1, or 0 for any other answer (the
 * attempts are then read again). */
static int apply_mined(struct rw_relayer *rl, size_t tx, const char *answer)
{
	if (strcmp(answer, "mined") != 0 && strcmp(answer, "moved") != 0 &&
	    strcmp(answer, "same") != 0)
		return 0;
	struct rl_tx *t = &rl->txs[tx];
	size_t i = tx, j = tx + 1; /* the nonce's attempts, loaded in nonce order */
	while (i > 0 && rl->txs[i - 1].nonce == t->nonce)
		i--;
	while (j < rl->n_txs && rl->txs[j].nonce == t->nonce)
		j++;
	for (size_t k = i; k < j; k++) {
		struct rl_tx *o = &rl->txs[k];
		if (k != tx &&
		    (o->state == RL_TX_SIGNED || o->state == RL_TX_SENT || o->state == RL_TX_MINED))
			o->state = RL_TX_REPLACED;
	}
	t->state = RL_TX_MINED;
	t->rc_block = (int64_t)t->rc.block;
	memcpy(t->rc_block_hash, t->rc.block_hash, 32);
	return 1;
}

/* The current attempts among the loaded ones. */
static void count_inflight(struct rw_relayer *rl)
{
	uint64_t n = 0;
	for (size_t i = 0; i < rl->n_txs; i++)
		n += rl->txs[i].state == RL_TX_SIGNED || rl->txs[i].state == RL_TX_SENT;
	rl->inflight = rl->st.inflight = n;
}

static void on_receipts_written(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_relayer *rl = arg;
	if (rw_relayer_back(rl))
		return;
	if (reply->error) {
		rw_relayer_pg_failed(rl, "storing receipts", reply);
		rw_relayer_abort(rl);
		return;
	}
	/* results: rw_relayer_mined_many's rows (when a receipt is new or
	 * moved), one result per unmined change, then settle */
	size_t mined = 0;
	for (size_t i = 0; i < rl->n_changes; i++)
		mined += !rl->changes[i].unmined;
	size_t res = mined ? 1 : 0, row = 0;
	int reload = 0;
	for (size_t i = 0; i < rl->n_changes; i++) {
		const char *answer;
		if (rl->changes[i].unmined)
			answer = res < reply->n ? rw_relayer_cell(reply->results[res++], 0, 0)
						: NULL;
		else
			answer =
				reply->n ? rw_relayer_cell(reply->results[0], (int)row++, 1) : NULL;
		log_change(rl, &rl->txs[rl->changes[i].tx], &rl->changes[i], answer ? answer : "?");
		if (rl->changes[i].unmined || !answer ||
		    !apply_mined(rl, rl->changes[i].tx, answer))
			reload = 1;
	}
	/* what the database did is known, except after a reorg or a conflict */
	rl->receipts_changed = reload;
	if (!reload)
		count_inflight(rl);
	/* receipts came in while others are still in flight: the node is
	 * mining them now (a dev chain mines on arrival), look again at once
	 * rather than a poll interval later (a chain with slow blocks costs one
	 * more round per block) */
	if (mined && (reload || rl->inflight > 0))
		rl->again = 1;
	rw_relayer_hook(rl, RW_RELAYER_STEP_MINED);
	rw_relayer_next(rl);
}

static int add_settle(struct rw_relayer *rl, struct rw_pg_job *job)
{
	struct rl_args a = { 0 };
	rw_relayer_arg_u64(&a, rl->chain_id);
	rw_relayer_arg_text(&a, rl->addr_bytea);
	rw_relayer_arg_u64(&a, rl->head);
	rw_relayer_arg_u64(&a, rl->p.opts.confirmations);
	if (rl->has_finalized)
		rw_relayer_arg_u64(&a, rl->finalized);
	else
		rw_relayer_arg_null(&a);
	return rw_relayer_job_add(job, sql_settle, &a);
}

int rw_relayer_step_receipts_write(struct rw_relayer *rl)
{
	rl->receipts_changed = 0;
	rl->n_changes = 0;
	free(rl->changes);
	rl->changes = calloc(rl->n_txs ? rl->n_txs : 1, sizeof(*rl->changes));
	struct rw_pg_job *job = rw_pg_job_new(RW_PG_TX);
	if (!rl->changes || !job) {
		rw_pg_job_free(job);
		return RW_ENOMEM;
	}
	int r = 0;
	for (size_t i = 0; r == 0 && i < rl->n_txs;) {
		size_t j = i + 1;
		while (j < rl->n_txs && rl->txs[j].nonce == rl->txs[i].nonce)
			j++;
		r = decide(rl, i, j);
		i = j;
	}
	size_t mined = 0;
	for (size_t i = 0; i < rl->n_changes; i++)
		mined += !rl->changes[i].unmined;
	if (r == 0 && mined)
		r = add_mined(rl, job);
	for (size_t i = 0; r == 0 && i < rl->n_changes; i++)
		if (rl->changes[i].unmined)
			r = add_unmined(job, &rl->txs[rl->changes[i].tx]);
	if (r == 0)
		r = add_settle(rl, job);
	if (r < 0) {
		rw_pg_job_free(job);
		return r;
	}
	r = rw_relayer_submit(rl, job, on_receipts_written);
	return r < 0 ? r : 1;
}

/* ---- nonces used by another sender ------------------------------------------ */

static int is_suspect(const struct rw_relayer *rl, uint64_t nonce)
{
	for (size_t i = 0; i < rl->n_suspects; i++)
		if (rl->suspects[i] == nonce)
			return 1;
	return 0;
}

static void on_lost_check(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n,
			  void *udata)
{
	struct rw_relayer *rl = udata;
	if (rw_relayer_back(rl))
		return;
	if (res[0].cls != RW_RPC_OK ||
	    rw_rpc_get_quantity_u64(&rl->count_at_depth, res[0].result) < 0) {
		rw_relayer_rpc_failed(rl, "eth_getTransactionCount at depth", &res[0]);
		rw_relayer_next(rl);
		return;
	}
	/* a suspect is lost when the count at depth covers it and, in the same
	 * answer, none of its attempts has a receipt */
	for (size_t s = 0; s < rl->n_suspects; s++) {
		uint64_t nonce = rl->suspects[s];
		int clear = nonce < rl->count_at_depth;
		size_t k = 1;
		for (size_t i = 0; i < rl->n_txs; i++) {
			if (!is_suspect(rl, rl->txs[i].nonce))
				continue;
			if (rl->txs[i].nonce == nonce && k < n &&
			    (res[k].cls != RW_RPC_OK || !json_is_null(res[k].result)))
				clear = 0;
			k++;
		}
		if (!clear)
			continue;
		uint64_t *v = realloc(rl->lost, (rl->n_lost + 1) * sizeof(*v));
		if (!v)
			break;
		rl->lost = v;
		rl->lost[rl->n_lost++] = nonce;
	}
	rw_relayer_next(rl);
}

int rw_relayer_step_lost_check(struct rw_relayer *rl)
{
	rl->n_lost = 0;
	if (rl->n_suspects == 0 || rl->head < rl->p.opts.confirmations)
		return 0;
	size_t n = 1;
	for (size_t i = 0; i < rl->n_txs; i++)
		n += is_suspect(rl, rl->txs[i].nonce);
	struct rw_rpc_req *reqs = calloc(n, sizeof(*reqs));
	if (!reqs)
		return RW_ENOMEM;
	char depth[24];
	rw_hex_format_u64(depth, rl->head - rl->p.opts.confirmations);
	reqs[0].method = "eth_getTransactionCount";
	reqs[0].params = json_pack("[s,s]", rl->addr_hex, depth);
	size_t k = 1;
	for (size_t i = 0; i < rl->n_txs; i++) {
		if (!is_suspect(rl, rl->txs[i].nonce))
			continue;
		char h[67];
		hash_hex(h, rl->txs[i].hash);
		reqs[k].method = "eth_getTransactionReceipt";
		reqs[k++].params = json_pack("[s]", h);
	}
	/* one batch: one node answers the count and the receipts alike */
	int r = rw_relayer_rpc(rl, rl->p.rpc, reqs, n, 1, on_lost_check, rl);
	free(reqs);
	if (r < 0) {
		rw_relayer_say(rl, RW_RELAYER_WARN, "cannot check nonces: %s", rw_strerror(r));
		return 0;
	}
	return 1;
}

static void mark_lost(struct rw_relayer *rl, uint64_t nonce)
{
	for (size_t i = 0; i < rl->n_txs; i++) {
		struct rl_tx *t = &rl->txs[i];
		if (t->nonce != nonce)
			continue;
		if (t->state == RL_TX_SIGNED || t->state == RL_TX_SENT)
			rw_relayer_say(rl, RW_RELAYER_WARN,
				       "nonce %" PRIu64
				       " was used by a transaction that is not ours; "
				       "%s gets a new nonce",
				       nonce, t->key[0] ? t->key : "the gap filler is dropped and");
		t->state = RL_TX_LOST;
	}
}

static void on_lost_written(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_relayer *rl = arg;
	if (rw_relayer_back(rl))
		return;
	if (reply->error) {
		rw_relayer_pg_failed(rl, "recording nonces used by another sender", reply);
		rw_relayer_next(rl);
		return;
	}
	for (size_t i = 0; i < rl->n_lost; i++)
		mark_lost(rl, rl->lost[i]);
	rl->st.nonce_taken += rl->n_lost;
	rw_relayer_next(rl);
}

int rw_relayer_step_lost_write(struct rw_relayer *rl)
{
	if (rl->n_lost == 0)
		return 0;
	struct rw_pg_job *job = rw_pg_job_new(RW_PG_TX);
	if (!job)
		return RW_ENOMEM;
	int r = 0;
	for (size_t i = 0; r == 0 && i < rl->n_lost; i++) {
		struct rl_args a = { 0 };
		rw_relayer_arg_u64(&a, rl->chain_id);
		rw_relayer_arg_text(&a, rl->addr_bytea);
		rw_relayer_arg_u64(&a, rl->lost[i]);
		rw_relayer_arg_u64(&a, rl->count_at_depth);
		rw_relayer_arg_u64(&a, rl->head - rl->p.opts.confirmations);
		r = rw_relayer_job_add(job,
				       "SELECT rw_relayer_lost($1::bigint, $2::bytea, $3::bigint, "
				       "$4::bigint, $5::bigint)",
				       &a);
	}
	if (r < 0) {
		rw_pg_job_free(job);
		return r;
	}
	r = rw_relayer_submit(rl, job, on_lost_written);
	return r < 0 ? r : 1;
}
