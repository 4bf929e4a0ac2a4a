/* relayer_int.h: the inner workings of the relayer, shared by its files.
 * Not for other modules: use relayer.h.
 *
 * A round is a fixed sequence of steps (relayer.c drives it); each step
 * either starts one asynchronous operation (an rpc batch, a pg job, or the
 * broadcasts) and returns 1, or has nothing to do and returns 0, or fails
 * and returns a negative code (the round ends; the next one starts after
 * poll_ms). The callback of the operation reads what it needs from its
 * answer and calls rw_relayer_next. Only one step runs at a time, so a
 * round sees one consistent plan; rounds never overlap.
 *
 *   step             file              does
 *   chain            relayer_sync.c    one batch: head, finalized, nonces,
 *                                      balance, fee history, gas price,
 *                                      chain id
 *   load             relayer_sync.c    rw_relayer_sync, then the attempts of
 *                                      every open nonce, the gaps, the
 *                                      operators' open requests, the counts
 *   receipts         relayer_confirm.c a receipt for every loaded attempt
 *   receipts_write   relayer_confirm.c rw_relayer_mined / unmined / settle in
 *                                      one transaction
 *   reload           relayer_sync.c    the attempts again, when receipts
 *                                      changed them
 *   lost_check       relayer_confirm.c count at the confirmation depth and the
 *                                      receipts of every attempt of suspect
 *                                      nonces, in one batch (one node)
 *   lost_write       relayer_confirm.c rw_relayer_lost
 *   steer            relayer_steer.c   carry out operators' requests: sign
 *                                      and store bumps and cancel no-ops,
 *                                      or refuse them, in one transaction
 *   fill             relayer_submit.c  sign and store no-op fillers for gaps
 *   bump             relayer_submit.c  sign and store replacements of stuck
 *                                      attempts
 *   take             relayer_intent.c  as many queued intents as the cap
 *                                      leaves room for (read as soon as
 *                                      the receipts are known)
 *   estimate         relayer_intent.c  eth_estimateGas for them (asked as
 *                                      soon as the receipts are known; this
 *                                      step waits for the answers)
 *   assign           relayer_intent.c  sign them with new nonces; store
 *                                      them in chunks, one after the other
 *   broadcast        relayer_submit.c  every send of the round to every
 *                                      endpoint, each chunk of new ones as
 *                                      soon as it is stored
 *   sent_write       relayer_submit.c  the answers (rw_relayer_sent_many):
 *                                      most were stored during the
 *                                      broadcast, batch by batch; not
 *                                      waited for
 *
 * Every step that stores (receipts_write, lost_write, steer, fill, bump,
 * assign, sent_write) is one PostgreSQL transaction; what is signed is stored
 * before the broadcast step sends it. */
#ifndef RW_RELAYER_INT_H
#define RW_RELAYER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "relayer.h"

/* A macro's value as a string literal. */
#define RW_RELAYER_STR_(x) #x
#define RW_RELAYER_STR(x)  RW_RELAYER_STR_(x)

/* Limits. */
#define RL_LOAD_MAX      4096 /* attempts loaded per round */
#define RL_GAPS_MAX      64   /* gaps looked at per round */
#define RL_TAKE_MAX      1024 /* intents taken per round */
#define RL_BUMP_MAX      64   /* replacements per round */
#define RL_KEY_MAX       201  /* an intent key and its NUL */
#define RL_ARGS_MAX      16   /* parameters of one statement */
#define RL_REASON_MAX    512  /* a revert reason */
#define RL_STEER_MAX     16   /* operators' requests carried out per round */
#define RL_BCAST_CHUNK   100  /* transactions per broadcast batch */
#define RL_ASSIGN_CHUNK  100  /* signed transactions stored per transaction */
#define RL_RECHECK_MS    1000 /* confirmed receipts are asked again this often */
#define RL_SPLIT_PARTS   4    /* batches sent at once by rw_relayer_rpc_split */
#define RL_UNHINTED_MAX  256  /* intents whose gas_hint failed, remembered */
#define RL_LEARNED_MAX   32   /* functions whose estimates are remembered */
#define RL_SPLIT_MIN     64   /* requests per batch at least */
#define RL_INTENT_STATES 8

/* The steps of a round, in order. */
enum rl_step {
	RL_CHAIN,
	RL_LOAD,
	RL_RECEIPTS,
	RL_RECEIPTS_WRITE,
	RL_RELOAD,
	RL_LOST_CHECK,
	RL_LOST_WRITE,
	RL_STEER,
	RL_FILL,
	RL_BUMP,
	RL_TAKE,
	RL_ESTIMATE,
	RL_ASSIGN,
	RL_BROADCAST,
	RL_SENT_WRITE,
	RL_STEPS
};

/* The round's take and estimates: not begun, intents being read,
 * estimates asked (they may answer while other steps run), answered (or
 * nothing to ask). */
enum rl_est { RL_EST_NONE, RL_EST_TAKING, RL_EST_RUNNING, RL_EST_DONE };

enum rl_tx_state { RL_TX_SIGNED, RL_TX_SENT, RL_TX_MINED, RL_TX_REPLACED, RL_TX_LOST };

/* What an attempt is (relayer_tx.kind): an intent's call, a no-op that
 * closes a gap, or a no-op that cancels an intent at its nonce. */
enum rl_tx_kind { RL_KIND_INTENT, RL_KIND_FILLER, RL_KIND_CANCEL };

/* What this round learned of one attempt's receipt. */
enum rl_seen { RL_SEEN_UNKNOWN = 0, RL_SEEN_ABSENT, RL_SEEN_PRESENT };

/* What the receipts step asks about an attempt: nothing (its nonce is not
 * used yet), its receipt, or (a receipt is stored) the hash of the stored
 * receipt's block, which says the receipt still stands without reading it
 * again (a receipt can carry hundreds of logs). */
enum rl_ask { RL_ASK_NONE = 0, RL_ASK_RECEIPT, RL_ASK_BLOCK };

/* A receipt as the node gave it. */
struct rl_receipt {
	uint64_t block;
	uint8_t block_hash[32];
	int status;
	uint64_t gas_used;
	rw_u256 effective_gas_price;
};

/* One attempt at an open nonce, as the load step read it. */
struct rl_tx {
	int64_t id;
	int64_t intent_id; /* 0: a filler */
	enum rl_tx_kind kind;
	char key[RL_KEY_MAX];
	uint64_t nonce;
	unsigned attempt;
	enum rl_tx_state state;
	struct rw_relayer_fees fees;
	uint64_t gas_limit;
	rw_u256 value;
	uint8_t hash[32];
	uint8_t *raw;
	size_t raw_len;
	int64_t sent_age_ms;      /* since the first broadcast; -1: never */
	int64_t last_sent_age_ms; /* since the last broadcast; -1: never */
	int64_t sent_block;       /* block at the first broadcast; -1: never */
	int64_t rc_block;         /* stored receipt's block; -1: none */
	uint8_t rc_block_hash[32];
	/* this round */
	enum rl_ask asked; /* what was asked of the node about it */
	size_t answer;     /* which answer of the receipts step is about it */
	enum rl_seen seen;
	struct rl_receipt rc;
};

/* A statement of the receipts job: which attempt, mined or unmined. */
struct rl_change {
	size_t tx; /* index in txs */
	int unmined;
};

/* One transaction to broadcast this round. */
struct rl_send {
	int64_t id;
	uint64_t nonce;
	uint8_t hash[32];
	char *raw_hex; /* "0x..." */
	int best;      /* the best answer so far, see relayer_submit.c */
	enum rw_rpc_class cls;
	char message[160];
	unsigned answers;
};

/* A signed transaction. */
struct rl_signed {
	uint8_t *raw;
	size_t raw_len;
	uint8_t hash[32];
};

/* Something signed in this step and not yet stored: what it is for (an
 * attempt id it replaces, an intent id, or 0 for a filler), its nonce and
 * bytes. */
struct rl_item {
	int64_t ref;
	uint64_t nonce;
	size_t intent; /* index in intents (assign step) */
	uint8_t *raw;
	size_t raw_len;
	uint8_t hash[32];
	struct rw_relayer_fees fees;
	uint64_t gas;
};

/* The highest gas estimate seen for calls of one function. */
struct rl_learned {
	uint8_t target[20];
	uint8_t selector[4];
	uint64_t gas; /* 0: an empty slot */
};

/* A queued intent taken this round. */
struct rl_intent {
	int64_t id;
	char key[RL_KEY_MAX];
	uint8_t target[20];
	rw_u256 value;
	uint8_t *data;
	size_t data_len;
	unsigned estimate_failures;
	uint64_t gas_hint; /* the gas of the eth_call check (0: none, estimate) */
	int learned;       /* gas_hint is a learned estimate (rl_learned), not the filer's */
	/* estimate step */
	int estimated; /* 1 gas known, -1 reverted, 0 not known */
	uint64_t gas_limit;
	char reason[RL_REASON_MAX];
};

/* An operator's open request (relayer_request), as the load step read it,
 * and what the steer step made of it. */
struct rl_request {
	int64_t id;
	int cancel; /* 0: bump, 1: cancel */
	uint64_t nonce;
	/* the steer step */
	int64_t prev_id;            /* the attempt replaced; 0: refused */
	size_t item;                /* its replacement in items, when prev_id */
	char reason[RL_REASON_MAX]; /* the engine's refusal; "" lets SQL say why */
};

/* A nonce gap and when it was first seen. */
struct rl_gap {
	uint64_t nonce;
	uint64_t since_ms;
};

/* One endpoint's broadcast: the sends go to it in nonce order, in batches
 * of RL_BCAST_CHUNK, one batch at a time; next is the first send not yet
 * offered. */
struct rl_bctx {
	struct rw_relayer *rl;
	size_t endpoint;
	size_t next;
	size_t count; /* sends in the batch in flight */
	int busy;     /* a batch is in flight */
	int dead;     /* a batch could not be sent: the rest wait for a later round */
};

/* Parameters of one statement, as text (the pg job copies them). */
struct rl_args {
	int n;
	int oom;
	char *v[RL_ARGS_MAX];
};

/* A PostgreSQL array literal being built for one statement parameter
 * ({1,NULL,"\\xab"}), so that a round's rows go to one set-based
 * function in one statement. err is the first failure (RW_ENOMEM,
 * RW_ETOOBIG); the parameter is then not added. */
struct rl_arr {
	struct rw_buf b;
	size_t n;
	int err;
};

struct rw_relayer {
	uv_loop_t *loop;
	struct rw_relayer_params p;
	uint64_t chain_id;
	char name[RW_CONFIG_NAME_MAX + 1];
	char channel[48];      /* rw_relayer_<chain>: an intent was filed */
	char head_channel[48]; /* rw_indexed_<chain>: the indexer committed blocks */
	uint8_t *sk;           /* on its own locked page */
	uint8_t addr[20];
	char addr_hex[43];   /* lowercase 0x-hex, for JSON-RPC */
	char addr_bytea[44]; /* "\x..." for SQL */

	struct rw_rpc **bc; /* one broadcast client per endpoint */
	size_t n_bc;
	size_t bc_open;
	uv_timer_t *timer;
	int timer_open;

	int started;
	int stopping;
	void (*on_stopped)(void *arg);
	void *stopped_arg;
	int stopped_called;
	unsigned outstanding; /* callbacks owed by rpc and pg */

	/* the round */
	int round_active;
	int again; /* run another round as soon as this one ends */
	int first_round;
	enum rl_step step;
	uint64_t round_started_ms;
	uint64_t step_t0;            /* uv_hrtime() when the current step began */
	uint64_t round_ns[RL_STEPS]; /* time spent in each step this round */

	/* the chain, from the chain step */
	int chain_ok; /* the node's eth_chainId matched */
	uint64_t head;
	int has_finalized;
	uint64_t finalized;
	uint64_t latest_nonce;
	uint64_t pending_nonce;
	uint64_t block_gas_limit; /* of the latest block; 0: unknown */
	/* intents whose call failed at their gas hint (the filer's or a
	 * learned one): estimated instead from then on (a ring; after a
	 * restart the hint is tried once more) */
	int64_t unhinted[RL_UNHINTED_MAX];
	size_t unhinted_next;
	/* the highest estimate seen per function (target and selector): a new
	 * call of one is checked with eth_call at that gas instead of being
	 * estimated (relayer_intent.c); a ring, the oldest replaced */
	struct rl_learned learned[RL_LEARNED_MAX];
	size_t learned_next;
	uint64_t nonce_moved_block; /* head when latest_nonce last changed (or was first read) */
	uint64_t nonce_moved_ms;    /* uv_now then */
	uint64_t head_moved_ms;     /* uv_now when head last changed (or was first read) */
	rw_u256 balance;
	struct rw_relayer_market market;
	int market_ok;
	struct rw_relayer_fees fees; /* for a new transaction now */
	int fees_ok;                 /* 0: unknown, or the base fee is above the cap */
	int bump_ok;                 /* fees is what a replacement may bid (at the cap) */
	int fee_cap_reported;

	/* PostgreSQL, from the load step */
	uint64_t next_nonce;
	int paused;
	rw_u256 spend_per_day;
	uint64_t inflight;
	int status; /* 0 ok, 1 low, 2 cannot pay */
	int funds_short;
	struct rl_tx *txs;
	size_t n_txs;
	uint64_t gap_now[RL_GAPS_MAX];
	size_t n_gap_now;
	struct rl_gap gaps[RL_GAPS_MAX];
	size_t n_gaps;
	uint64_t counts_ms;  /* when the intent counts were last read */
	uint64_t recheck_ms; /* when the confirmed receipts were last loaded */
	int recheck;         /* this round loads them (and asks for them) */
	struct rl_request reqs[RL_STEER_MAX];
	size_t n_reqs;

	/* receipts */
	int receipts_changed;
	struct rl_change *changes;
	size_t n_changes;
	uint64_t *suspects;
	size_t n_suspects;
	uint64_t count_at_depth;
	uint64_t *lost;
	size_t n_lost;

	/* sends */
	struct rl_send *sends;
	size_t n_sends;
	size_t n_receipts_asked; /* this round's requests of the receipts step */
	int full_receipts;       /* a stored receipt's block changed: read receipts again */
	size_t cap_sends;
	size_t bcast_pending;

	/* take (read by the load step), estimate */
	struct rl_intent *intents;
	size_t n_intents;
	int est_state;       /* enum rl_est */
	uint64_t round_seq;  /* counts rounds started: the estimates' round */
	uint64_t take_round; /* the round that asked for the queued intents */

	/* signed in the current step, stored by its job */
	struct rl_item *items;
	size_t n_items;
	struct rl_bctx *bctx; /* broadcast contexts, alive until the next broadcast */
	size_t n_bctx;
	int bcast_active;    /* the broadcast step waits for answers or chunks */
	size_t sent_written; /* sends [0, sent_written) have their answers stored */
	int assigning;       /* a chunk of the assign step is being stored */
	size_t assign_from;  /* that chunk: items [assign_from, assign_to) */
	size_t assign_to;

	struct rw_relayer_stats st;
};

/* ---- relayer.c ---- */

/* Logs a line for this relayer. */
void rw_relayer_say(const struct rw_relayer *rl, enum rw_relayer_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Counts and logs a failed request (not when cancelled). */
void rw_relayer_rpc_failed(struct rw_relayer *rl, const char *what,
			   const struct rw_rpc_result *res);

/* Counts and logs a failed job (not when closed). */
void rw_relayer_pg_failed(struct rw_relayer *rl, const char *what, const struct rw_pg_reply *reply);

/* Calls the test hook. */
void rw_relayer_hook(struct rw_relayer *rl, enum rw_relayer_step step);

/* Sends an rpc request for a step: counts it as outstanding. Returns 0 or
 * the error of rw_rpc_send (params stolen either way). */
int rw_relayer_rpc(struct rw_relayer *rl, struct rw_rpc *rpc, const struct rw_rpc_req *reqs,
		   size_t n, int as_batch, rw_rpc_cb cb, void *udata);

/* What rw_relayer_rpc_split calls back. */
struct rl_split_ops {
	/* the answers res[0, n) of requests [off, off + n), a part at a time
	 * in any order; not called once the relayer is stopping */
	void (*part)(struct rw_relayer *rl, void *udata, size_t off,
		     const struct rw_rpc_result *res, size_t n);
	/* once, after the last part: live 0 when the relayer is stopping
	 * (only free udata then) */
	void (*done)(struct rw_relayer *rl, void *udata, int live);
};

/* Sends reqs[0, n) as up to RL_SPLIT_PARTS JSON-RPC batches of at least
 * RL_SPLIT_MIN requests each, all at once: a node works on batches that
 * arrive on separate connections in parallel, one batch's requests one
 * after the other. A part that cannot be sent is logged and its requests
 * get no answer (part is not called for them). Returns 0 when a part was
 * sent (done will be called), or the first error when none was (done is
 * never called). params are stolen either way. */
int rw_relayer_rpc_split(struct rw_relayer *rl, struct rw_rpc *rpc, const struct rw_rpc_req *reqs,
			 size_t n, const struct rl_split_ops *ops, void *udata);

/* Submits a pg job for a step: counts it as outstanding. Returns 0 or the
 * error of rw_pg_submit (the job is freed either way). */
int rw_relayer_submit(struct rw_relayer *rl, struct rw_pg_job *job, rw_pg_reply_fn cb);

/* In a callback: takes back one outstanding count. Returns 1 when the
 * relayer is stopping (the callback must return at once), else 0. */
int rw_relayer_back(struct rw_relayer *rl);

/* Ends the current step: runs the next steps until one starts an
 * operation, or ends the round. */
void rw_relayer_next(struct rw_relayer *rl);

/* Ends the round now (after an error, already logged). */
void rw_relayer_abort(struct rw_relayer *rl);

/* Statement parameters. */
void rw_relayer_arg_text(struct rl_args *a, const char *s);
void rw_relayer_arg_null(struct rl_args *a);
void rw_relayer_arg_u64(struct rl_args *a, uint64_t v);
void rw_relayer_arg_i64(struct rl_args *a, int64_t v);
void rw_relayer_arg_u256(struct rl_args *a, const rw_u256 *v);
void rw_relayer_arg_bytea(struct rl_args *a, const uint8_t *p, size_t n);
/* The fee parameters of rw_relayer_assign/replace/fill: type, gas price,
 * max fee, tip (NULLs for the fields the type does not use). */
void rw_relayer_arg_fees(struct rl_args *a, const struct rw_relayer_fees *f);
/* Adds sql with a's parameters to job and frees them. Returns 0,
 * RW_ENOMEM or an error of rw_pg_job_sql. */
int rw_relayer_job_add(struct rw_pg_job *job, const char *sql, struct rl_args *a);

/* Array parameters: an element each (element order is the rows' order),
 * then rw_relayer_arg_arr adds the literal as a's next parameter and empties
 * arr (also after an error: a is then marked failed, and
 * rw_relayer_job_add answers with that error). A text element is quoted;
 * bytes outside printable ASCII become '?' (node messages are hints). */
void rw_relayer_arr_i64(struct rl_arr *arr, int64_t v);
void rw_relayer_arr_u64(struct rl_arr *arr, uint64_t v);
void rw_relayer_arr_u256(struct rl_arr *arr, const rw_u256 *v);
void rw_relayer_arr_bytea(struct rl_arr *arr, const uint8_t *p, size_t n);
void rw_relayer_arr_text(struct rl_arr *arr, const char *s);
void rw_relayer_arr_null(struct rl_arr *arr);
void rw_relayer_arg_arr(struct rl_args *a, struct rl_arr *arr);

/* Reads a result cell (NULL when the result is missing or the cell is
 * NULL). */
const char *rw_relayer_cell(const PGresult *res, int row, int col);

/* Parses an integer cell. Returns 0 or RW_EINVAL. */
int rw_relayer_cell_i64(int64_t *ret, const PGresult *res, int row, int col);
/* Parses a numeric cell holding a uint256. Returns 0 or RW_EINVAL. */
int rw_relayer_cell_u256(rw_u256 *ret, const PGresult *res, int row, int col);
/* Decodes a hex cell (encode(x, 'hex')) of exactly n bytes. Returns 0 or
 * RW_EINVAL. */
int rw_relayer_cell_hex(uint8_t *out, size_t n, const PGresult *res, int row, int col);

/* Adds a transaction to this round's sends (once per id). Returns 0 or
 * RW_ENOMEM. */
int rw_relayer_send_add(struct rw_relayer *rl, int64_t id, uint64_t nonce, const uint8_t hash[32],
			const uint8_t *raw, size_t raw_len);

/* The cost a transaction may take from the balance: gas * max fee (or gas
 * price) + value, saturating at 2^256 - 1. */
void rw_relayer_cost(rw_u256 *ret, uint64_t gas, const struct rw_relayer_fees *f,
		     const rw_u256 *value);

/* What the current attempts of open nonces may still take from the
 * balance. */
void rw_relayer_committed(rw_u256 *ret, const struct rw_relayer *rl);

/* Adds a signed transaction to the current step's items; takes s->raw.
 * Returns 0 or RW_ENOMEM (s->raw freed). */
int rw_relayer_item_add(struct rw_relayer *rl, int64_t ref, uint64_t nonce, size_t intent,
			struct rl_signed *s, const struct rw_relayer_fees *fees, uint64_t gas);

/* Frees the current step's items. */
void rw_relayer_items_clear(struct rw_relayer *rl);

/* Frees the loaded attempts. */
void rw_relayer_txs_clear(struct rw_relayer *rl);

/* The current attempt among the loaded attempts [i, j) of one nonce, or
 * NULL when the nonce has a mined attempt, a receipt seen this round, or a
 * lost one, or no attempt is signed or sent (relayer_submit.c). */
const struct rl_tx *rw_relayer_current(const struct rw_relayer *rl, size_t i, size_t j);

/* Per fee field, the highest of the loaded attempts [i, j) of one nonce
 * (relayer_submit.c). */
void rw_relayer_highest_fees(struct rw_relayer_fees *ret, const struct rw_relayer *rl, size_t i,
			     size_t j);

/* Writes "gas price N" or "max fee N, tip M" (wei) into out
 * (relayer_submit.c). */
void rw_relayer_fees_text(char *out, size_t n, const struct rw_relayer_fees *f);

/* Reads the open requests the load step asked for (relayer_steer.c). */
void rw_relayer_requests_read(struct rw_relayer *rl, const PGresult *res);

/* ---- relayer_key.c ---- */

/* A page for the key: locked in memory where allowed, left out of core
 * dumps. Returns NULL when out of memory. */
uint8_t *rw_relayer_key_page(void);

/* Wipes and unmaps a key page. Accepts NULL. */
void rw_relayer_key_page_free(uint8_t *page);

/* Signs a transaction of this relayer: chain id, nonce, fees, gas, to,
 * value, data. Returns 0, or an error of rw_tx_sign / rw_tx_encode_raw.
 * Out: ret (free ret->raw). */
int rw_relayer_sign(struct rl_signed *ret, const struct rw_relayer *rl, uint64_t nonce,
		    const struct rw_relayer_fees *f, uint64_t gas, const uint8_t to[20],
		    const rw_u256 *value, const uint8_t *data, size_t data_len);

/* Signs raw again with other fees (a replacement: same nonce, gas, to,
 * value and data). Returns 0, RW_EINVAL (raw does not decode, another
 * type) or an error of rw_tx_sign. Out: ret (free ret->raw). */
int rw_relayer_resign(struct rl_signed *ret, const struct rw_relayer *rl, const uint8_t *raw,
		      size_t raw_len, const struct rw_relayer_fees *f);

/* ---- the steps ---- */

int rw_relayer_step_chain(struct rw_relayer *rl);          /* relayer_sync.c */
int rw_relayer_step_load(struct rw_relayer *rl);           /* relayer_sync.c */
int rw_relayer_step_reload(struct rw_relayer *rl);         /* relayer_sync.c */
int rw_relayer_step_receipts(struct rw_relayer *rl);       /* relayer_confirm.c */
int rw_relayer_step_receipts_write(struct rw_relayer *rl); /* relayer_confirm.c */
int rw_relayer_step_lost_check(struct rw_relayer *rl);     /* relayer_confirm.c */
int rw_relayer_step_lost_write(struct rw_relayer *rl);     /* relayer_confirm.c */
int rw_relayer_step_steer(struct rw_relayer *rl);          /* relayer_steer.c */
int rw_relayer_step_fill(struct rw_relayer *rl);           /* relayer_submit.c */
int rw_relayer_step_bump(struct rw_relayer *rl);           /* relayer_submit.c */
int rw_relayer_step_broadcast(struct rw_relayer *rl);      /* relayer_submit.c */
int rw_relayer_step_sent_write(struct rw_relayer *rl);     /* relayer_submit.c */
int rw_relayer_step_take(struct rw_relayer *rl);           /* relayer_intent.c */
int rw_relayer_step_estimate(struct rw_relayer *rl);       /* relayer_intent.c */
int rw_relayer_step_assign(struct rw_relayer *rl);         /* relayer_intent.c */

/* Frees this round's taken intents. */
void rw_relayer_intents_clear(struct rw_relayer *rl);

/* When this round's receipts are known: reads as many of the oldest queued
 * intents as the room under the cap will take once they are stored, then
 * asks for their estimates, while the database steps run (the take step
 * waits for the intents, the estimate step for the answers). */
void rw_relayer_take_early(struct rw_relayer *rl);

/* Frees this round's sends. */
void rw_relayer_sends_clear(struct rw_relayer *rl);

/* After a broadcast batch's answers: stores the answers of the sends every
 * endpoint has answered, once RL_BCAST_CHUNK of them wait (all: every one
 * answered so far), in a job not waited for (relayer_submit.c). */
void rw_relayer_sent_progress(struct rw_relayer *rl, int all);

/* After an assign chunk's commit (or failure): offers the new sends to the
 * idle endpoints, and ends the broadcast step when all is offered and
 * answered and no chunk is left (relayer_submit.c). */
void rw_relayer_broadcast_more(struct rw_relayer *rl);

#endif
