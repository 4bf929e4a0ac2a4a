/* relayer.h: the settlement relayer. It signs and submits the transactions
 * that intents (migrations/0010_relayer.sql) ask for and sees each one
 * through to a confirmed receipt, exactly once per intent, across crashes,
 * node faults, fee spikes and reorgs. src/engine/RELAYER.md is the design
 * (states, transitions, invariants, the crash-safety argument);
 * relayer_int.h the inner workings.
 *
 * Lifetimes
 * - One struct rw_relayer per (chain, signer), on the program's loop. It
 *   borrows the chain's configuration, one rw_rpc (reads: heads, receipts,
 *   nonces, fees, estimates) and one rw_pg; all three must outlive it. It
 *   owns one rw_rpc per configured endpoint of the chain for broadcasts (a
 *   transaction goes to every endpoint), a timer, and the secret key (on a
 *   locked page that core dumps leave out, wiped when freed).
 * - rw_relayer_stop stops its rounds, closes its timer and its broadcast
 *   clients, and calls on_stopped when they are closed. Requests it
 *   abandoned in the borrowed rpc and pg clients may still be queued: close
 *   those next (their cancellations are absorbed), and only then
 *   rw_relayer_free. Nothing is lost by abandoning: every step's outcome is
 *   in PostgreSQL before the next external action, and the next start
 *   resumes from there.
 * - Everything runs on the loop thread; no function here blocks, except
 *   rw_relayer_key_load (file reads and the key derivation) and
 *   rw_relayer_errors_load (file reads), meant for the program's start.
 *
 * Logging: one line per event worth knowing, on standard error, through
 * rw_relayer_log ("2025-01-02T03:04:05.678Z WARN [mainnet relayer] ...").
 * The reports an operator acts on are also rows of relayer_event. */
#ifndef RW_RELAYER_H
#define RW_RELAYER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "buf.h"
#include "pg.h"
#include "rpc.h"
#include "rwconfig.h"
#include "u256.h"

struct rw_relayer;
struct rw_relayer_errors;

/* Points of a round where the test hook is called (RELAYER.md, "Crash
 * points"): each names the moment after one durable or external step and
 * before the next. */
enum rw_relayer_step {
	RW_RELAYER_STEP_ROUND,     /* a round ended */
	RW_RELAYER_STEP_ASSIGNED,  /* new transactions committed, not yet broadcast */
	RW_RELAYER_STEP_REPLACED,  /* fee bumps committed, not yet broadcast */
	RW_RELAYER_STEP_FILLED,    /* gap fillers committed, not yet broadcast */
	RW_RELAYER_STEP_BROADCAST, /* broadcasts answered, results not yet stored */
	RW_RELAYER_STEP_SENT,      /* broadcast results stored */
	RW_RELAYER_STEP_RECEIPTS,  /* receipts fetched, not yet stored */
	RW_RELAYER_STEP_MINED,     /* receipts and confirmations stored */
	RW_RELAYER_STEP_STEERED,   /* operators' requests carried out and committed, their
				    * replacements not yet broadcast */
	RW_RELAYER_STEP_COUNT
};

/* Returns a short static name of a step ("assigned"), or "?". */
const char *rw_relayer_step_name(enum rw_relayer_step step);

/* Tuning. Start from rw_relayer_opts_default, which fills every field.
 * Zero numbers given to rw_relayer_new take those defaults too, except
 * where zero is a meaningful value: confirmations, min_tip, warn_balance,
 * gas_margin_pct and legacy are taken as given. */
struct rw_relayer_opts {
	unsigned max_inflight;      /* transactions signed and not mined, per signer (64) */
	rw_u256 fee_cap;            /* hard cap on max fee (gas price) per gas, wei (by chain id) */
	rw_u256 min_tip;            /* least priority fee per gas, wei (by chain id) */
	unsigned tip_percentile;    /* eth_feeHistory reward percentile, 1..99 (50) */
	unsigned fee_blocks;        /* blocks of eth_feeHistory, 1..1024 (10) */
	unsigned base_fee_pct;      /* max fee = next base fee * pct / 100 + tip, >= 100 (200) */
	unsigned gas_margin_pct;    /* gas limit = estimate * (100 + pct) / 100 (25) */
	uint64_t stuck_blocks;      /* unmined for this many blocks since its broadcast... (3) */
	uint64_t stuck_ms;          /* ... and this long: stuck, bump it (60000) */
	uint64_t rebroadcast_ms;    /* the same bytes again after this long (15000) */
	uint64_t poll_ms;           /* period of a round (the chain's poll_interval_ms) */
	uint64_t gap_grace_ms;      /* a nonce gap seen this long is filled (10000) */
	uint64_t confirmations;     /* depth of "confirmed" (the chain's confirmations) */
	uint64_t settle_depth;      /* without a finalized tag, stop tracking a receipt this deep
				      * (the chain's reorg_window) */
	rw_u256 warn_balance;       /* status low below this balance, wei (0: by days only) */
	unsigned warn_days;         /* status low when the balance lasts fewer days (7) */
	unsigned estimate_retries;  /* estimation reverts while in flight before failing (5) */
	uint64_t estimate_retry_ms; /* wait before estimating such an intent again (5000) */
	int legacy;                 /* 1: gas price transactions even where a base fee exists */
	void (*on_step)(enum rw_relayer_step step, void *arg); /* test hook, or NULL */
	void *step_arg;
};

/* Fills o with the defaults for chain: fee cap and least tip by chain id
 * (RELAYER.md, "Fees"), poll interval, confirmations and settle depth
 * from the chain's configuration, the rest as documented above. */
void rw_relayer_opts_default(struct rw_relayer_opts *o, const struct rw_config_chain *chain);

/* What a relayer borrows. */
struct rw_relayer_params {
	const struct rw_config_chain *chain;    /* outlives the relayer */
	struct rw_rpc *rpc;                     /* reads; outlives the relayer */
	struct rw_pg *pg;                       /* outlives the relayer */
	const struct rw_relayer_errors *errors; /* custom error names, or NULL; outlives it */
	struct rw_relayer_opts opts;            /* copied */
};

/* Creates a relayer for one chain and the key sk (copied to a locked page;
 * wipe your copy). It does nothing until rw_relayer_start. Returns 0,
 * RW_EINVAL (a NULL or inconsistent parameter), RW_ECRYPTO (sk is not a
 * valid key; rw_key_init must have run), RW_EIO (a broadcast client could
 * not start) or RW_ENOMEM.
 * Out: ret: the relayer. In: loop; p: copied; sk: the secret key. */
int rw_relayer_new(struct rw_relayer **ret, uv_loop_t *loop, const struct rw_relayer_params *p,
		   const uint8_t sk[32]);

/* Starts the rounds: the first registers the signer, checks the node's
 * chain id, and sends again every transaction in flight (same bytes).
 * Listens on channel rw_relayer_<chain_id> so that a filed intent starts a
 * round at once, and on rw_indexed_<chain_id> (the indexer's commits) so
 * that, while nonces are open, a new block is looked at at once. Errors of
 * nodes or the database are logged and retried at the next round; none
 * stops the relayer. Returns 0, or RW_EINVAL when already started or
 * stopping. */
int rw_relayer_start(struct rw_relayer *rl);

/* Stops (see Lifetimes). on_stopped(arg) runs from the loop, never from
 * inside this call. Returns 0, or RW_EINVAL when already stopping.
 * In: on_stopped: may be NULL. */
int rw_relayer_stop(struct rw_relayer *rl, void (*on_stopped)(void *arg), void *arg);

/* Frees a relayer whose stop has completed and whose borrowed rpc and pg
 * clients have closed. Wipes the key. Accepts NULL. Returns NULL. */
struct rw_relayer *rw_relayer_free(struct rw_relayer *rl);

/* Writes the signer's address (20 bytes). */
void rw_relayer_address(uint8_t ret[20], const struct rw_relayer *rl);

/* Numbers for logs, tests and the metrics page. */
struct rw_relayer_stats {
	uint64_t rounds;
	uint64_t head;                /* latest block (0: unknown yet) */
	uint64_t finalized;           /* the node's finalized block (0: none or unknown) */
	uint64_t local_nonce;         /* next_nonce in PostgreSQL */
	uint64_t chain_nonce;         /* eth_getTransactionCount(latest) */
	uint64_t chain_pending_nonce; /* eth_getTransactionCount(pending) */
	rw_u256 balance;              /* gas balance, wei */
	rw_u256 spend_per_day;        /* gas spent per day, last 7 days, wei */
	double balance_days;          /* balance / spend_per_day (-1: no spending yet) */
	int status;                   /* 0 ok, 1 low, 2 cannot pay */
	uint64_t inflight;            /* current attempts signed or sent */
	uint64_t intents[8];          /* by state, in the order of rw_relayer_intent_state_name */
	double oldest_unconfirmed_s;  /* age of the oldest queued/pending/mined intent (0: none) */
	uint64_t signed_txs;          /* transactions signed since start (new nonces) */
	uint64_t broadcasts;          /* eth_sendRawTransaction answers since start */
	uint64_t bumps;               /* replacements since start */
	uint64_t fillers;             /* gap fillers since start */
	uint64_t mined;               /* receipts recorded */
	uint64_t reorged;             /* receipts undone by a reorg */
	uint64_t nonce_taken;         /* nonces found used by another sender */
	uint64_t estimate_reverts;    /* estimations that reverted */
	uint64_t learned_misses;      /* calls at a learned gas figure that failed (estimated
					 instead; not in errors[]) */
	uint64_t resent_lost;         /* attempts sent again because the node's pending count
					 stopped below them (it had lost them) */
	uint64_t requests_done;       /* operators' bump and cancel requests carried out */
	uint64_t requests_refused;    /* operators' requests refused (the reason is stored) */
	uint64_t db_errors;           /* failed database jobs */
	uint64_t errors[RW_RPC_OTHER + 1]; /* failed requests and broadcasts by class */
};

/* Returns the name of intent state i (0..7: queued, pending, mined,
 * confirmed, final, reverted, failed, cancelled), or NULL. */
const char *rw_relayer_intent_state_name(size_t i);

/* Fills *ret. Never fails. */
void rw_relayer_get_stats(struct rw_relayer_stats *ret, const struct rw_relayer *rl);

/* Appends this relayer's metrics to out in the Prometheus text format (no
 * HELP/TYPE lines when header is 0, so that several chains share a page).
 * Returns 0, RW_ETOOBIG or RW_ENOMEM. */
int rw_relayer_metrics(struct rw_buf *out, const struct rw_relayer *rl, int header);

/* Log levels. */
enum rw_relayer_level { RW_RELAYER_DEBUG, RW_RELAYER_INFO, RW_RELAYER_WARN, RW_RELAYER_ERROR };

/* Writes one line to standard error: an UTC timestamp with milliseconds,
 * the level, "[chain relayer]" when chain is not NULL, and the message. */
void rw_relayer_log(const char *chain, enum rw_relayer_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sets the lowest level rw_relayer_log prints (default INFO). */
void rw_relayer_log_level(enum rw_relayer_level level);

/* ---- the key (relayer_key.c) ---- */

/* Loads the relayer's key of a chain's configuration: reads the keystore
 * v3 file (it must not be accessible by group or others) and decrypts it
 * with the passphrase from passphrase_file (its first line, without the
 * line end) or the environment variable passphrase_env. The passphrase is
 * wiped after use. Blocks for the key derivation (about a second).
 * Returns 0; RW_EINVAL (no relayer configured, no passphrase), RW_EPERM,
 * RW_EIO, RW_EMAC (wrong passphrase) or another code of
 * rw_keystore_decrypt. On failure err holds one line naming the file and
 * the reason, never a secret.
 * Out: ret_sk: the key (wipe it after use). */
int rw_relayer_key_load(uint8_t ret_sk[32], const struct rw_config_relayer *rl, char *err,
			size_t errlen);

/* ---- revert reasons (relayer_revert.c) ---- */

/* Reads every custom error of the ABI files (*.json with an "abi" array,
 * as abi/ holds them) in dir. Returns 0, RW_EIO (dir unreadable) or
 * RW_ENOMEM; files that do not parse are skipped.
 * Out: ret: the table (rw_relayer_errors_free it). */
int rw_relayer_errors_load(struct rw_relayer_errors **ret, const char *dir);

/* Frees a table. Accepts NULL. Returns NULL. */
struct rw_relayer_errors *rw_relayer_errors_free(struct rw_relayer_errors *e);

/* Writes a one-line reason for a revert into out (n bytes, NUL-terminated,
 * cut when longer): Error(string) gives its text in quotes, Panic its code
 * and meaning, a custom error of the table its name and decoded arguments
 * ("InsufficientAllowance(owner=0x..., allowance=0, needed=5)"), an unknown
 * one its selector; without revert data, the node's message.
 * Returns the length written.
 * In: errors: may be NULL; rv: the decoded revert; message: the node's. */
size_t rw_relayer_revert_reason(char *out, size_t n, const struct rw_relayer_errors *errors,
				const struct rw_rpc_revert *rv, const char *message);

/* ---- fees (relayer_fees.c, pure) ---- */

/* The fee fields of a transaction: type 0 uses gas_price, type 2 max_fee
 * and tip. */
struct rw_relayer_fees {
	int type;
	rw_u256 gas_price;
	rw_u256 max_fee;
	rw_u256 tip;
};

/* What the chain's fee market looks like. */
struct rw_relayer_market {
	int has_base_fee;  /* the chain reports base fees (EIP-1559) */
	rw_u256 base_fee;  /* the next block's base fee */
	rw_u256 tip;       /* the reward percentile over recent non-empty blocks */
	rw_u256 gas_price; /* eth_gasPrice */
};

/* Reads an eth_feeHistory result (may be NULL: no base fee) and an
 * eth_gasPrice result (may be NULL: 0). The next base fee is the last entry
 * of baseFeePerGas; a chain whose base fees are all zero (before London:
 * nodes report zeros) has none. The tip is the median over blocks with gas
 * used of reward[i][0]. Returns 0 or RW_EINVAL (malformed).
 * Out: ret. In: history, gas_price: borrowed JSON. */
int rw_relayer_market_parse(struct rw_relayer_market *ret, const json_t *history,
			    const json_t *gas_price);

/* The fees of a new transaction: type 2 when the market has a base fee and
 * legacy is 0: tip = max(market tip, min_tip), max fee = base fee *
 * base_fee_pct / 100 + tip, both at most fee_cap; else type 0 with gas
 * price max(market gas price, min_tip) at most fee_cap. Returns 0, or
 * RW_ERANGE when the base fee (or gas price) alone is above the cap: no new
 * transaction can be included now; ret then holds those fees at the cap,
 * what a replacement may still bid.
 * Out: ret. In: m: the market; o: min_tip, fee_cap, base_fee_pct, legacy. */
int rw_relayer_fees_new(struct rw_relayer_fees *ret, const struct rw_relayer_market *m,
			const struct rw_relayer_opts *o);

/* Walks a signer's nonces lowest first: whether the next one is stuck.
 * current: it has a transaction in flight (not mined); own: that
 * transaction is, by itself, stuck (not mined stuck_blocks blocks and
 * stuck_ms after its broadcast). A nonce is stuck when it is current, own,
 * and no lower current nonce waits unstuck: a transaction behind one of
 * ours that is still being mined waits for it (however long it has been
 * out, a node cannot mine it first), one behind a stuck one (a fee spike
 * prices out the whole queue) is stuck too. *waiting starts at 0 and
 * carries the walk. */
int rw_relayer_stuck_next(int *waiting, int current, int own);

/* The most blocks rw_relayer_fees_ahead leaves room for. */
#define RW_RELAYER_AHEAD_MAX 64

/* The fees of a new transaction that waits behind `blocks` full blocks of
 * the signer's own transactions (a dev chain fills one block after the
 * other with them, and the base fee rises by up to 1/8 a full block):
 * rw_relayer_fees_new's fees with a type 2 max fee of base fee *
 * base_fee_pct / 100 * (9/8)^blocks (rounded up at each step, blocks at
 * most RW_RELAYER_AHEAD_MAX) + tip, at most fee_cap. blocks 0, or a type 0
 * (legacy) transaction: rw_relayer_fees_new's. Returns what
 * rw_relayer_fees_new returns.
 * Out: ret. In: m, o: as for rw_relayer_fees_new. */
int rw_relayer_fees_ahead(struct rw_relayer_fees *ret, const struct rw_relayer_market *m,
			  const struct rw_relayer_opts *o, uint64_t blocks);

/* *ret = ceil(old * 1.1) + 1, the least value of a fee field of a
 * replacement. Returns 0 or RW_ERANGE (overflow). */
int rw_relayer_bump_min(rw_u256 *ret, const rw_u256 *old);

/* The fees of a replacement: every field the larger of bump_min(highest so
 * far) and the market's (market may be NULL: unknown); a max fee below the
 * tip is raised to it; a field above fee_cap is lowered to the cap when
 * the bump minimum still fits under it. Returns 0, or RW_ERANGE when the
 * bump minimum is above the cap (no replacement possible: send the same
 * bytes again and wait).
 * Out: ret (ret->type = highest->type).
 * In: highest: per field, the highest of the earlier attempts; market: the
 *     fees a new transaction would get, of the same type, or NULL;
 *     fee_cap: the cap. */
int rw_relayer_fees_bump(struct rw_relayer_fees *ret, const struct rw_relayer_fees *highest,
			 const struct rw_relayer_fees *market, const rw_u256 *fee_cap);

/* Returns the gas limit for an estimate: estimate * (100 + margin_pct) /
 * 100, at least 21000, at most 2^53 (saturating). */
uint64_t rw_relayer_gas_limit(uint64_t estimate, unsigned margin_pct);

#endif
