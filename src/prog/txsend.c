/* txsend.c: sign, send and see through transactions from the CLI (see
 * txsend.h). */
#include "txsend.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "hex.h"
#include "key.h"
#include "tx.h"

/* Polls for a receipt after "nonce too low" before concluding that
 * another transaction holds the nonce. */
#define NONCE_TAKEN_POLLS 4

void rw_txsend_opts(struct rw_relayer_opts *o, uint64_t chain_id,
		    const struct rw_config_chain *chain)
{
	struct rw_config_chain c;
	memset(&c, 0, sizeof(c));
	c.chain_id = chain_id;
	rw_relayer_opts_default(o, chain ? chain : &c);
	if (!chain)
		return;
	const struct rw_config_relayer *rl = &chain->relayer;
	if (rl->fee_cap.src != RW_CONFIG_DEFAULT)
		o->fee_cap = rl->fee_cap.v;
	if (rl->min_tip.src != RW_CONFIG_DEFAULT)
		o->min_tip = rl->min_tip.v;
	if (rl->legacy.src != RW_CONFIG_DEFAULT)
		o->legacy = rl->legacy.v != 0;
	if (rl->rebroadcast_ms.src != RW_CONFIG_DEFAULT)
		o->rebroadcast_ms = rl->rebroadcast_ms.v;
}

/* Formats wei as "N wei (G gwei)". */
static void fmt_wei(char *out, size_t n, const rw_u256 *wei)
{
	char dec[RW_U256_DEC_MAX], gwei[RW_U256_DEC_MAX + 1];
	rw_u256_format_dec(dec, wei);
	rw_u256_format_units(gwei, wei, 9);
	snprintf(out, n, "%s wei (%s gwei)", dec, gwei);
}

int rw_txsend_fees(struct rw_relayer_fees *ret, struct rw_rpcsync *s,
		   const struct rw_relayer_opts *o, struct rw_rpcsync_err *err)
{
	char blocks[24];
	rw_hex_format_u64(blocks, o->fee_blocks ? o->fee_blocks : 10);
	json_t *history = NULL, *price = NULL;
	/* A node without eth_feeHistory (pre-London) prices by gas price. */
	if (!o->legacy &&
	    rw_rpcsync_call(s, "eth_feeHistory",
			    json_pack("[s,s,[i]]", blocks, "latest",
				      (int)(o->tip_percentile ? o->tip_percentile : 50)),
			    &history, err) < 0)
		history = NULL;
	if (rw_rpcsync_call(s, "eth_gasPrice", json_array(), &price, err) < 0) {
		json_decref(history);
		return -1;
	}
	struct rw_relayer_market m;
	int r = rw_relayer_market_parse(&m, history, price);
	json_decref(history);
	json_decref(price);
	if (r < 0) {
		rw_rpcsync_err_set(err, RW_RPC_BAD_RESPONSE,
				   "the node's eth_feeHistory or eth_gasPrice answer is malformed");
		return -1;
	}
	r = rw_relayer_fees_new(ret, &m, o);
	if (r == RW_ERANGE) {
		char fee[200], cap[200];
		fmt_wei(fee, sizeof(fee),
			m.has_base_fee && !o->legacy ? &m.base_fee : &m.gas_price);
		fmt_wei(cap, sizeof(cap), &o->fee_cap);
		rw_rpcsync_err_set(
			err, RW_RPC_OTHER,
			"the chain's %s %s is above the fee cap %s: nothing sent; wait for fees "
			"to fall or raise the cap (--fee-cap)",
			m.has_base_fee && !o->legacy ? "base fee" : "gas price", fee, cap);
		return -1;
	}
	return 0;
}

/* eth_getTransactionCount of from at tag. */
static int tx_count(uint64_t *ret, struct rw_rpcsync *s, const char *from, const char *tag,
		    struct rw_rpcsync_err *err)
{
	json_t *res;
	if (rw_rpcsync_call(s, "eth_getTransactionCount", json_pack("[s,s]", from, tag), &res,
			    err) < 0)
		return -1;
	int r = rw_rpc_get_quantity_u64(ret, res);
	json_decref(res);
	if (r < 0) {
		rw_rpcsync_err_set(err, RW_RPC_BAD_RESPONSE,
				   "eth_getTransactionCount(%s) is malformed", tag);
		return -1;
	}
	return 0;
}

int rw_txsend_nonce(uint64_t *ret, struct rw_rpcsync *s, const uint8_t from[20],
		    struct rw_rpcsync_err *err)
{
	char a[43];
	rw_addr_checksum(a, from);
	uint64_t latest, pending;
	if (tx_count(&latest, s, a, "latest", err) < 0 ||
	    tx_count(&pending, s, a, "pending", err) < 0)
		return -1;
	if (pending > latest) {
		char which[64];
		if (pending - latest == 1)
			snprintf(which, sizeof(which), "nonce %" PRIu64, latest);
		else
			snprintf(which, sizeof(which), "nonces %" PRIu64 " to %" PRIu64, latest,
				 pending - 1);
		rw_rpcsync_err_set(
			err, RW_RPC_OTHER,
			"%s has transactions pending (%s): an earlier run may still be waiting to "
			"be mined; nothing sent. Wait until they are mined or dropped, then check "
			"the runway before trying again",
			a, which);
		return -1;
	}
	*ret = latest;
	return 0;
}

int rw_txsend_estimate(uint64_t *ret_gas, uint64_t *ret_estimate, struct rw_rpcsync *s,
		       const uint8_t from[20], const uint8_t to[20], const uint8_t *data, size_t n,
		       unsigned margin_pct, struct rw_rpcsync_err *err)
{
	char f[43], t[43];
	rw_addr_checksum(f, from);
	rw_addr_checksum(t, to);
	char *d = rw_hex_encode_alloc(data, n);
	json_t *params = d ? json_pack("[{s:s, s:s, s:s}]", "from", f, "to", t, "data", d) : NULL;
	free(d);
	if (!params) {
		rw_rpcsync_err_set(err, RW_RPC_OTHER, "out of memory");
		return -1;
	}
	json_t *res;
	if (rw_rpcsync_call(s, "eth_estimateGas", params, &res, err) < 0)
		return -1;
	uint64_t est;
	int r = rw_rpc_get_quantity_u64(&est, res);
	json_decref(res);
	if (r < 0) {
		rw_rpcsync_err_set(err, RW_RPC_BAD_RESPONSE,
				   "eth_estimateGas returned a malformed quantity");
		return -1;
	}
	if (ret_estimate)
		*ret_estimate = est;
	*ret_gas = rw_relayer_gas_limit(est, margin_pct);
	return 0;
}

int rw_txsend_balance(rw_u256 *ret, struct rw_rpcsync *s, const uint8_t addr[20],
		      struct rw_rpcsync_err *err)
{
	char a[43];
	rw_addr_checksum(a, addr);
	json_t *res;
	if (rw_rpcsync_call(s, "eth_getBalance", json_pack("[s,s]", a, "latest"), &res, err) < 0)
		return -1;
	int r = rw_rpc_get_u256(ret, res);
	json_decref(res);
	if (r < 0) {
		rw_rpcsync_err_set(err, RW_RPC_BAD_RESPONSE,
				   "eth_getBalance returned a malformed quantity");
		return -1;
	}
	return 0;
}

int rw_txsend_sign(struct rw_txsend_tx *ret, uint64_t chain_id, uint64_t nonce,
		   const struct rw_relayer_fees *fees, uint64_t gas, const uint8_t to[20],
		   const uint8_t *data, size_t n, const uint8_t sk[32])
{
	struct rw_tx tx;
	memset(&tx, 0, sizeof(tx));
	tx.type = fees->type == 2 ? RW_TX_DYNAMIC_FEE : RW_TX_LEGACY;
	tx.chain_id = chain_id;
	tx.nonce = nonce;
	tx.gas_price = fees->gas_price;
	tx.max_fee_per_gas = fees->max_fee;
	tx.max_priority_fee_per_gas = fees->tip;
	tx.gas = gas;
	tx.has_to = 1;
	memcpy(tx.to, to, 20);
	tx.data = (uint8_t *)data;
	tx.data_len = n;
	memset(ret, 0, sizeof(*ret));
	rw_buf_init(&ret->raw, RW_BUF_DEFAULT_MAX);
	int r = rw_tx_sign(&tx, sk);
	if (r == 0)
		r = rw_tx_encode_raw(&ret->raw, &tx);
	if (r == 0)
		r = rw_tx_hash(ret->hash, &tx);
	rw_wipe(&tx.sig, sizeof(tx.sig));
	if (r < 0) {
		rw_buf_free(&ret->raw);
		return r;
	}
	ret->chain_id = chain_id;
	ret->nonce = nonce;
	ret->gas = gas;
	ret->fees = *fees;
	memcpy(ret->to, to, 20);
	return 0;
}

void rw_txsend_tx_free(struct rw_txsend_tx *tx)
{
	rw_buf_free(&tx->raw);
}

int rw_txsend_max_cost(rw_u256 *ret, const struct rw_txsend_tx *tx)
{
	rw_u256 gas = rw_u256_from_u64(tx->gas);
	return rw_u256_mul(ret, &gas, tx->fees.type == 2 ? &tx->fees.max_fee : &tx->fees.gas_price);
}

/* ---- sending and waiting --------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* What a broadcast answer means. */
enum sent { SENT_OK, SENT_MAYBE, SENT_NONCE_USED, SENT_FAILED };

/* eth_sendRawTransaction of tx's bytes; classifies the answer. */
static enum sent broadcast(struct rw_rpcsync *s, const struct rw_txsend_tx *tx,
			   struct rw_rpcsync_err *err)
{
	char *raw = rw_hex_encode_alloc(tx->raw.p, tx->raw.len);
	json_t *params = raw ? json_pack("[s]", raw) : NULL;
	free(raw);
	if (!params) {
		rw_rpcsync_err_set(err, RW_RPC_OTHER, "out of memory");
		return SENT_FAILED;
	}
	json_t *res;
	if (rw_rpcsync_call(s, "eth_sendRawTransaction", params, &res, err) == 0) {
		json_decref(res);
		return SENT_OK;
	}
	switch (err->cls) {
	case RW_RPC_ALREADY_KNOWN: return SENT_OK;
	case RW_RPC_NONCE_TOO_LOW:
	case RW_RPC_UNDERPRICED: return SENT_NONCE_USED;
	case RW_RPC_TRANSPORT:
	case RW_RPC_TIMEOUT:
	case RW_RPC_RATE_LIMITED:
	case RW_RPC_BAD_RESPONSE: return SENT_MAYBE; /* it may have arrived: keep watching */
	default: return SENT_FAILED;
	}
}

/* eth_getTransactionReceipt of tx. Returns 1 with ret filled, 0 when there
 * is none yet, -1 with err filled. */
static int receipt(struct rw_txsend_receipt *ret, struct rw_rpcsync *s, const char *hash,
		   struct rw_rpcsync_err *err)
{
	json_t *res;
	if (rw_rpcsync_call(s, "eth_getTransactionReceipt", json_pack("[s]", hash), &res, err) < 0)
		return err->cls == RW_RPC_TRANSPORT || err->cls == RW_RPC_TIMEOUT ? 0 : -1;
	if (json_is_null(res)) {
		json_decref(res);
		return 0;
	}
	uint64_t status = 2;
	json_t *logs = json_object_get(res, "logs");
	int ok = json_is_object(res) &&
		 rw_rpc_get_quantity_u64(&ret->block, json_object_get(res, "blockNumber")) == 0 &&
		 rw_rpc_get_data32(ret->block_hash, json_object_get(res, "blockHash")) == 0 &&
		 rw_rpc_get_quantity_u64(&ret->gas_used, json_object_get(res, "gasUsed")) == 0 &&
		 rw_rpc_get_quantity_u64(&status, json_object_get(res, "status")) == 0 &&
		 status <= 1 && json_is_array(logs);
	if (!ok) {
		json_decref(res);
		rw_rpcsync_err_set(
			err, RW_RPC_BAD_RESPONSE,
			"the receipt of %s is malformed (blockNumber, blockHash, gasUsed, status, "
			"logs)",
			hash);
		return -1;
	}
	ret->status = (int)status;
	ret->logs = json_incref(logs);
	json_decref(res);
	return 1;
}

int rw_txsend_send(struct rw_txsend_receipt *ret, struct rw_rpcsync *s,
		   const struct rw_txsend_tx *tx, const struct rw_txsend_wait *w,
		   struct rw_rpcsync_err *err)
{
	struct rw_txsend_wait d = { 300000, 500, 15000 };
	if (w) {
		d.timeout_ms = w->timeout_ms ? w->timeout_ms : d.timeout_ms;
		d.poll_ms = w->poll_ms ? w->poll_ms : d.poll_ms;
		d.rebroadcast_ms = w->rebroadcast_ms ? w->rebroadcast_ms : d.rebroadcast_ms;
	}
	char hash[67];
	rw_hex_encode(hash, tx->hash, 32, 1);
	memset(ret, 0, sizeof(*ret));
	uint64_t start = now_ms(), sent_at = start;
	unsigned used_polls = 0;
	enum sent st = broadcast(s, tx, err);
	if (st == SENT_FAILED) {
		char why[sizeof(err->msg)];
		memcpy(why, err->msg, sizeof(why));
		rw_rpcsync_err_set(err, err->cls,
				   "the node refused transaction %s (nonce %" PRIu64 "): %.400s",
				   hash, tx->nonce, why);
		return -1;
	}
	for (;;) {
		int r = receipt(ret, s, hash, err);
		if (r != 0)
			return r > 0 ? 0 : -1;
		if (st == SENT_NONCE_USED && ++used_polls > NONCE_TAKEN_POLLS) {
			rw_rpcsync_err_set(
				err, RW_RPC_NONCE_TOO_LOW,
				"nonce %" PRIu64 " is used by another transaction of the sender, "
				"not %s: nothing more sent; check the runway before trying again",
				tx->nonce, hash);
			return -1;
		}
		uint64_t now = now_ms();
		if (now - start >= d.timeout_ms) {
			rw_rpcsync_err_set(
				err, RW_RPC_TIMEOUT,
				"no receipt for %s (nonce %" PRIu64 ") after %" PRIu64
				" s: it may still be mined; nothing else was sent. Check it before "
				"trying again: a new run refuses while it is pending",
				hash, tx->nonce, d.timeout_ms / 1000);
			return -1;
		}
		sleep_ms(d.poll_ms);
		if (st != SENT_NONCE_USED && now_ms() - sent_at >= d.rebroadcast_ms) {
			sent_at = now_ms();
			enum sent again = broadcast(s, tx, err);
			if (again == SENT_NONCE_USED)
				st = again;
		}
	}
}

void rw_txsend_receipt_free(struct rw_txsend_receipt *r)
{
	json_decref(r->logs);
	r->logs = NULL;
}
