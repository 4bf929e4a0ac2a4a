/* txsend.h: sign, send and see through transactions from the CLI, one at
 * a time, with the relayer's rules (engine/relayer.h):
 * - fees: eth_feeHistory + eth_gasPrice read by rw_relayer_market_parse,
 *   the fees of a new transaction by rw_relayer_fees_new (EIP-1559 when
 *   the chain has a base fee: tip from the reward percentile, at least
 *   the least tip; max fee = base fee x headroom + tip; both at most the
 *   fee cap). A base fee above the cap is an error: nothing is signed.
 * - gas: eth_estimateGas, plus the relayer's margin (rw_relayer_gas_limit).
 *   An estimate that reverts is an error carrying the decoded reason.
 * - nonces: the chain's count at "latest"; a sender with transactions
 *   still pending is refused (a timed-out earlier run may be among them:
 *   a second transaction would pay twice).
 * - sending: the signed bytes go out once and then again, the same bytes,
 *   every rebroadcast interval until a receipt shows or the time is up;
 *   never a new nonce or new fees for the same action. "already known"
 *   means accepted; "nonce too low" and "underpriced" mean the nonce is
 *   used: ours (its receipt shows up) or another transaction's (an error).
 *
 * Nothing here is stored: a CLI run that times out says which transaction
 * may still be mined, and the next run refuses to stack a second one on a
 * pending nonce. Blocking: every call runs the rpcsync loop until done. */
#ifndef RW_TXSEND_H
#define RW_TXSEND_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "relayer.h"
#include "rpcsync.h"
#include "rwconfig.h"
#include "u256.h"

/* Fills o with the relayer's defaults for chain_id (fee cap and least tip
 * by chain id, headroom, percentile, gas margin, rebroadcast interval),
 * then the settings of a configured chain's relayer section that apply to
 * one transaction (fee_cap, min_tip, legacy, rebroadcast_ms) when chain is
 * not NULL and sets them.
 * Out: o. In: chain_id; chain: the configuration's chain, or NULL. */
void rw_txsend_opts(struct rw_relayer_opts *o, uint64_t chain_id,
		    const struct rw_config_chain *chain);

/* Reads the fee market and computes the fees of a new transaction.
 * Returns 0, or -1 with err filled: the node failed, its answer is
 * malformed, or the base fee (gas price) is above o->fee_cap (the message
 * names both, in wei and gwei).
 * Out: ret. In: s; o: fee_cap, min_tip, base_fee_pct, tip_percentile,
 * fee_blocks, legacy. */
int rw_txsend_fees(struct rw_relayer_fees *ret, struct rw_rpcsync *s,
		   const struct rw_relayer_opts *o, struct rw_rpcsync_err *err);

/* Reads the sender's next nonce (eth_getTransactionCount at "latest").
 * Returns 0, or -1 with err filled: the node failed, or the count at
 * "pending" is higher (transactions of this sender are waiting; the
 * message names the nonces).
 * Out: ret. In: from: the sender. */
int rw_txsend_nonce(uint64_t *ret, struct rw_rpcsync *s, const uint8_t from[20],
		    struct rw_rpcsync_err *err);

/* Estimates the gas of a call from `from` to `to` with data (n bytes)
 * and no value, and adds margin_pct percent (rw_relayer_gas_limit).
 * Returns 0, or -1 with err filled (a revert: err->cls is RW_RPC_REVERTED
 * and the message its decoded reason).
 * Out: ret_gas: the gas limit; ret_estimate (may be NULL): the estimate. */
int rw_txsend_estimate(uint64_t *ret_gas, uint64_t *ret_estimate, struct rw_rpcsync *s,
		       const uint8_t from[20], const uint8_t to[20], const uint8_t *data, size_t n,
		       unsigned margin_pct, struct rw_rpcsync_err *err);

/* The native-token balance of addr (eth_getBalance at "latest"), wei.
 * Returns 0 or -1 with err filled. */
int rw_txsend_balance(rw_u256 *ret, struct rw_rpcsync *s, const uint8_t addr[20],
		      struct rw_rpcsync_err *err);

/* A signed transaction: what it is and its raw bytes. */
struct rw_txsend_tx {
	uint64_t chain_id;
	uint64_t nonce;
	uint64_t gas;
	struct rw_relayer_fees fees;
	uint8_t to[20];
	uint8_t hash[32];
	struct rw_buf raw; /* owned: rw_txsend_tx_free */
};

/* Signs a call (no value) to `to` with data (n bytes): type 2 with
 * fees->max_fee and fees->tip when fees->type is 2, else type 0 (EIP-155)
 * with fees->gas_price. rw_key_init must have run.
 * Returns 0, or a negative RW_E* code (of rw_tx_sign, rw_tx_encode_raw).
 * On failure nothing is owned by ret.
 * Out: ret (release with rw_txsend_tx_free). In: sk: the key, not kept. */
int rw_txsend_sign(struct rw_txsend_tx *ret, uint64_t chain_id, uint64_t nonce,
		   const struct rw_relayer_fees *fees, uint64_t gas, const uint8_t to[20],
		   const uint8_t *data, size_t n, const uint8_t sk[32]);

/* Frees the raw bytes. Accepts a tx whose signing failed. */
void rw_txsend_tx_free(struct rw_txsend_tx *tx);

/* The most a fee of tx may cost: gas x (max fee or gas price), wei.
 * Returns 0 or RW_ERANGE (overflow). */
int rw_txsend_max_cost(rw_u256 *ret, const struct rw_txsend_tx *tx);

/* How long to wait. Zero fields take the defaults shown. */
struct rw_txsend_wait {
	uint64_t timeout_ms;     /* give up after (300000) */
	uint64_t poll_ms;        /* receipt polls (500) */
	uint64_t rebroadcast_ms; /* the same bytes again after (15000) */
};

/* A mined transaction's receipt. */
struct rw_txsend_receipt {
	uint64_t block;
	uint8_t block_hash[32];
	int status; /* 1 success, 0 reverted */
	uint64_t gas_used;
	json_t *logs; /* the receipt's "logs" array, owned: rw_txsend_receipt_free */
};

/* Sends tx (eth_sendRawTransaction) and waits for its receipt, sending
 * the same bytes again every rebroadcast interval (see the top).
 * Returns 0 with the receipt (whatever its status), or -1 with err filled:
 * the node refused the transaction (insufficient funds for gas, another
 * transaction holds the nonce, a revert at submission, any other error),
 * or no receipt came within the timeout (the message gives the hash: it
 * may still be mined, and nothing else was sent).
 * Out: ret (release with rw_txsend_receipt_free). In: w: may be NULL. */
int rw_txsend_send(struct rw_txsend_receipt *ret, struct rw_rpcsync *s,
		   const struct rw_txsend_tx *tx, const struct rw_txsend_wait *w,
		   struct rw_rpcsync_err *err);

/* Frees the logs. Accepts a zeroed receipt. */
void rw_txsend_receipt_free(struct rw_txsend_receipt *r);

#endif
