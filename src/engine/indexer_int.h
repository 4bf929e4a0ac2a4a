/* indexer_int.h: the inside of the indexer, shared by indexer.c (life cycle,
 * lanes, planning, polling, metrics), indexer_fetch.c (eth_getLogs and
 * headers, decoding logs into COPY rows), indexer_write.c (every SQL job)
 * and indexer_reorg.c (finding the common ancestor and rewinding). Not a
 * public header: only those four files include it.
 *
 * Design
 *
 * Sources and lanes. Every source (indexer_source + indexer_cursor) has a
 * cursor next_block. Sources with the same cursor form a lane; a lane
 * fetches block ranges for all its sources at once and advances their
 * cursors together. The highest lane whose cursor is not beyond the head is
 * the top lane: it follows the head (lanes above it hold sources that start
 * in the future and wait for it). A lower lane (a factory child found
 * mid-backfill, a source added to the configuration, a token that must
 * re-read history for a new watched address) chases the lane above it,
 * bounded by that lane's committed cursor; when both sit at the same cursor
 * with nothing in flight they merge. A lane is held (plans nothing) while
 * the lane below can close the gap within one round of ranges, so that short
 * gaps close at once; a lane far behind is not waited for: live indexing
 * goes on while history is filled in.
 *
 * Ranges. A lane plans contiguous ranges [from, to] and fetches up to
 * max_inflight of them in parallel, each an rw_rpc batch: one eth_getLogs per
 * filter (plain sources by address and topic 0; tokens watched only for
 * watched addresses by topic 1 and topic 2 filters, two queries), plus, near
 * the head ("window" ranges: the last reorg_window blocks), every block's
 * header in the same batch; far from the head the last block's header (so
 * that a node behind its peers is not taken for an empty range) and then a
 * second batch with the headers of the other blocks that hold logs (views
 * take event times from them). The span adapts to the node: a lane starts
 * with IX_FIRST_SPAN blocks and one range in flight (slow start); each answer
 * sets the span to about IX_TARGET_BYTES of eth_getLogs text, growing at most
 * IX_GROWTH times per answer and shrinking at once; a range-too-large error
 * splits the range (at the range the node suggests, else within the span it
 * names, else in half), and so does an answer over its ceiling (see Memory;
 * in proportion to its announced size). Window ranges are at most the span too.
 * Answers come in rpc's delimited raw mode: no JSON tree, the logs are read
 * in place with codec/jscan, checked as they are read (block hash equals the
 * header's, no duplicate log index, every field well formed, malformed JSON
 * named with the endpoint and the byte) and decoded at once into binary COPY
 * rows, one buffer per event table; the answer is dropped. Ranges commit
 * strictly in order per lane, one transaction at a time per chain; ready
 * ranges next to each other merge into one commit (up to IX_COMMIT_BYTES of
 * rows, their buffers sent in one COPY per table without copying).
 *
 * Exactly once. A range commits in one transaction job whose first
 * statement is the cursor guard: UPDATE indexer_cursor SET next_block =
 * to + 1 for the lane's sources WHERE next_block = from, failing the whole
 * transaction (a text-to-integer cast error, SQLSTATE 22P02, message
 * "runway cursor guard: ...") unless every source matched. A transaction
 * replayed after a lost connection that had in fact committed therefore
 * fails and writes nothing; a lost commit of unknown outcome, and any
 * failed guard, make the indexer reload every cursor from the database and
 * plan again from there. Rows of a range that starts above the highest
 * stored header (high_water) are new by construction (a row is only ever
 * written together with its block's header) and go by binary COPY straight
 * into the event tables; rows of a range at or below it (a lower lane, a
 * re-read) go by COPY into a temporary staging table, then INSERT ... ON
 * CONFLICT DO NOTHING (a direct COPY that meets a stored row, which should
 * not happen, is retried that way). Headers written through staging are
 * checked against the stored ones (a mismatch fails the transaction: a
 * reorg is under way).
 *
 * Factories. The Marketplace's ValidatorNodeProviderCreated row, inserted
 * with its range, makes SQL (a trigger of migration 0002) insert the child
 * source (cursor = its block), its provider_info and its watched addresses.
 * The same transaction lowers the cursor of every watched-only token to the
 * start of any watched address it added (rows whose added_at is the
 * transaction's now()), so those tokens re-read that history. After such a
 * commit the indexer drops its in-flight work and reloads: the child and the
 * tokens form a lower lane that catches up while the top lane goes on.
 *
 * Reorgs. A window range's first parent hash must equal the stored hash of
 * the block below it; the head poll (latest + finalized headers in one
 * batch) compares the head with the stored header of the same height (and a
 * head that stays below the stored tip for IX_HEAD_BEHIND_POLLS polls is a
 * shorter chain); at start the stored tip is compared with the chain. On a
 * mismatch the
 * indexer drops its in-flight work, waits for the commit in flight, walks
 * the stored headers downwards comparing them with the chain's until one
 * matches (the common ancestor), calls rw_indexer_rewind(chain, ancestor +
 * 1) with the new chain_head in one transaction, reloads and re-indexes. A
 * reorg deeper than reorg_window is logged as an ERROR; when no stored
 * header matches, everything from the deepest stored header up is rewound.
 *
 * Malformed logs (wrong topic count, dirty words, text that is not UTF-8
 * or holds NUL) are logged with chain, block, transaction and log index and
 * skipped; the schema has no table for them.
 *
 * Memory, whatever the range. Answers in flight: their expected size (span
 * times the bytes per block of the last answer) stays under
 * IX_FETCH_BUDGET, and each answer of a range of several blocks under twice
 * its expected size (at least IX_MIN_RESPONSE, at most
 * IX_RANGE_MAX_RESPONSE; an answer over it splits its range in proportion),
 * so together under twice the budget (a single block gets the rpc client's
 * ceiling: it cannot be split); rows fetched and not yet committed: under
 * mem_budget (no new range is planned above it); a range whose rows outgrow
 * a buffer's ceiling is split.
 *
 * Lifetimes. A range whose rpc request is out is referenced by that
 * request's callback: when its lane is dropped it moves to the dead list and
 * is freed by the callback. The range being committed is referenced by the
 * pg job: it is never freed before the job's callback. Every other async
 * step (poll, setup, load, reorg) carries the generation it was started in;
 * a callback of an older generation only accounts and returns. */
#ifndef RW_INDEXER_INT_H
#define RW_INDEXER_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "indexer.h"

/* Limits and defaults. */
#define IX_DEFAULT_INFLIGHT     6
#define IX_MAX_INFLIGHT         64
#define IX_MAX_RANGES           256 /* ranges of a lane, fetched or waiting for their commit */
#define IX_DEFAULT_MEM          ((size_t)32 << 20)
#define IX_DEFAULT_PROGRESS_MS  10000
#define IX_DEFAULT_WINDOW_BATCH 32
#define IX_MAX_SPAN             ((uint64_t)1 << 20) /* blocks per eth_getLogs, whatever grows */
#define IX_FILTER_CHUNK         500                 /* addresses or topics per filter list */
#define IX_HEADER_BATCH         500                 /* headers per batch request */
#define IX_FIRST_SPAN           4                 /* blocks of a lane's first range (slow start) */
#define IX_GROWTH               4                 /* the span grows at most this much per answer */
#define IX_TARGET_BYTES         ((size_t)1 << 20) /* eth_getLogs answer per range the span adapts to */
#define IX_FETCH_BUDGET         ((size_t)16 << 20) /* expected answer bytes in flight, all lanes */
#define IX_RANGE_MAX_RESPONSE   ((size_t)16 << 20) /* answer ceiling of a range of several blocks */
#define IX_MIN_RESPONSE         ((size_t)1 << 20)  /* the least answer ceiling of a range */
#define IX_COMMIT_BYTES         ((size_t)8 << 20)  /* rows of ready ranges merged into one commit */
#define IX_RANGE_ROWS_MAX       ((size_t)256 << 20) /* bytes of one table's rows in one range */
#define IX_BACKOFF_MIN_MS       500
#define IX_BACKOFF_MAX_MS       30000
#define IX_WALK_PAGE            64  /* stored headers compared per walk-back step */
#define IX_HEAD_BEHIND_POLLS    2   /* polls with the head below the stored tip before a rewind */
#define IX_PRUNE_EVERY          256 /* blocks between prunes of old headers */

/* The factory event whose rows add sources (by a trigger, in SQL). */
#define IX_FACTORY_KIND  "Marketplace"
#define IX_FACTORY_EVENT "ValidatorNodeProviderCreated"
#define IX_FACTORY_CHILD "provider" /* the parameter naming the new contract */

/* What the guard statement's failure says (see the design). */
#define IX_GUARD_TAG "runway cursor guard"
#define IX_HDR_TAG   "runway header check"

struct rw_indexer;
struct ix_lane;

/* A block header. */
struct ix_hdr {
	uint64_t number;
	uint64_t timestamp;
	uint8_t hash[32];
	uint8_t parent[32];
};

/* One indexed source. */
struct ix_source {
	int64_t id;
	uint8_t addr[20];
	char *kind;
	int watched; /* an ERC-20 read only where it touches watched addresses */
	int configured;
	int64_t discovered_by; /* 0: none */
	uint64_t start;
	uint64_t next; /* cursor: first block not indexed */
	int indexed;   /* part of a lane (configured, or found by an indexed factory) */
};

/* One eth_getLogs filter of a lane, without its block bounds. */
struct ix_query {
	json_t *filter; /* {"address": [...], "topics": [...]} */
	int watched;    /* answers for the lane's watched tokens */
};

/* Sources sorted by address, for finding a log's source. */
struct ix_srcset {
	struct ix_source **v;
	size_t n;
};

/* A group of sources with one cursor. */
struct ix_lane {
	struct rw_indexer *ix;
	struct ix_source **src;
	size_t n_src;
	struct ix_srcset plain, watched;
	struct ix_query *q;
	size_t n_q;
	char *ids;          /* "{1,2,3}": the sources' ids as an SQL array literal */
	uint64_t committed; /* every source's cursor */
	uint64_t plan_next; /* first block not yet planned */
	uint64_t span;      /* blocks per range, adapted */
	uint64_t span_cap;  /* the most the node allows (learned) */
	uint64_t bpb;       /* eth_getLogs answer bytes per block (last answer), 0: none yet */
	int held;           /* a lower lane is closing in: plan nothing */
	struct ix_range *first, *last;
	size_t n_ranges;
};

enum ix_rstate {
	IX_R_NEW,     /* planned, not fetched */
	IX_R_LOGS,    /* logs (and window headers) requested */
	IX_R_HEADERS, /* headers of blocks with logs requested */
	IX_R_WAIT,    /* failed; fetched again at retry_at */
	IX_R_READY,   /* rows decoded, waiting for its turn to commit */
	IX_R_COMMIT   /* its transaction is in flight */
};

/* The rows of one event table in one range. */
struct ix_rows {
	struct rw_buf buf; /* binary COPY rows, without header and trailer */
	size_t n;
	/* Merged ranges (rw_indexer_range_absorb) bring their buffers along,
	 * sent after buf in the same COPY, without copying. */
	struct rw_buf *more;
	size_t n_more;
	size_t sent_part, sent_off; /* the COPY producer's place (0: buf) */
};

/* A block number and hash that holds logs (backfill ranges). */
struct ix_blockref {
	uint64_t number;
	uint8_t hash[32];
};

struct ix_range {
	struct rw_indexer *ix;
	struct ix_lane *lane; /* NULL once dropped */
	struct ix_range *prev, *next;
	uint64_t from, to; /* inclusive */
	int window;        /* every header is fetched and stored */
	enum ix_rstate state;
	int busy; /* an rpc request of this range is out */
	uint64_t retry_at;
	unsigned failures;
	struct ix_rows *rows; /* one per map event (map order) */
	size_t n_logs;        /* rows decoded */
	size_t n_rejects;
	struct ix_hdr *hdrs; /* window: every block; else: blocks with logs */
	size_t n_hdrs;
	struct ix_blockref *need; /* blocks whose header is still to fetch */
	size_t n_need, need_sent;
	struct ix_hdr last_hdr; /* backfill: the last block's header, fetched with the logs */
	int last_needed;        /* it holds logs: stored after the fetched headers */
	struct rw_buf hdr_rows; /* headers as COPY rows, built at commit */
	size_t bytes;           /* memory counted in ix->mem_held */
	size_t expect;          /* answer bytes expected, counted in ix->fetch_bytes */
	size_t limit;           /* the answer ceiling of the request out (0: the client's) */
	int discovers;          /* holds a factory row */
	int staged;             /* commit through staging tables (decided at commit) */
	int force_staged;       /* a direct COPY met an existing row: stage from now on */
	uint64_t started_ms;    /* planned */
	uint64_t ready_ms;      /* rows decoded */
	uint64_t commit_ms;     /* transaction submitted */
};

enum ix_state {
	IX_S_NEW,
	IX_S_CALLS,  /* eth_call of contract immutables */
	IX_S_UPSERT, /* configuration rows */
	IX_S_LOAD,   /* sources, cursors, watched addresses, recent headers */
	IX_S_VERIFY, /* stored tip against the chain */
	IX_S_RUN,
	IX_S_WALK_DB,  /* reorg: a page of stored headers */
	IX_S_WALK_RPC, /* reorg: the chain's headers at those heights */
	IX_S_REWIND,   /* reorg: the rewind transaction */
	IX_S_DRAIN,    /* in-flight work dropped; waiting for the commit in flight */
	IX_S_STOPPING,
	IX_S_STOPPED
};

/* How a commit ended. */
enum ix_commit {
	IX_C_OK,     /* committed */
	IX_C_GUARD,  /* refused by the cursor guard or the header check: reload */
	IX_C_LOST,   /* connection lost: outcome unknown, reload */
	IX_C_EXISTS, /* a direct COPY met stored rows: retried at once, staged */
	IX_C_FAILED, /* another error: retried after a backoff */
	IX_C_CLOSED  /* the connection was closed (stopping) */
};

/* What to do once the commit in flight has returned. */
enum ix_after { IX_AFTER_NONE, IX_AFTER_LOAD, IX_AFTER_REORG, IX_AFTER_STOP };

/* Recent stored headers by height (a small open table). */
struct ix_ring {
	struct ix_hdr *v;
	uint8_t *used;
	size_t cap; /* a power of two */
};

/* The walk back to the common ancestor. */
struct ix_walk {
	uint64_t below;   /* next page: stored headers at or below this height */
	uint64_t old_tip; /* highest stored header when the reorg began */
	struct ix_hdr *page;
	size_t n_page;
	int64_t deepest; /* lowest stored height compared so far, -1: none */
	int found;
	struct ix_hdr ancestor;
	char why[160];
};

/* Immutables read with eth_call for the configuration rows. */
struct ix_immutables {
	int ok;
	uint8_t token[20];
	uint8_t payee[20];
	uint8_t consensus[20];
	char price[RW_U256_DEC_MAX];
	char min_deposit[RW_U256_DEC_MAX];
	char max_balance[RW_U256_DEC_MAX];
	char grace_period[RW_U256_DEC_MAX];
};

struct rw_indexer {
	uv_loop_t *loop;
	struct rw_indexer_params p;
	const struct rw_config_chain *ch;
	const char *name;
	char chain_id[24]; /* decimal text, for SQL parameters */
	enum ix_state state;
	uint64_t gen;

	uv_timer_t poll_timer, kick_timer, progress_timer;
	int timers_open;
	uint64_t kick_due; /* 0: the kick timer is idle */
	uint64_t step_due; /* retry time of the current setup/reorg step, 0: none */
	int step_busy;     /* a request of the current step is out */
	uint64_t backoff_ms;

	/* sources and lanes */
	struct ix_source *src;
	size_t n_src;
	uint8_t (*watched)[20];
	size_t n_watched;
	struct ix_lane **lanes; /* ascending cursor; the last is the top lane */
	size_t n_lanes;
	struct ix_immutables *prov, *bal; /* per configured provider / balance */
	int loaded_once;
	int trust_tip; /* the next load may skip checking the stored tip */

	/* the chain */
	int head_known;
	struct ix_hdr head;
	uint64_t finalized;
	int finalized_ok;     /* 1: the node answers "finalized" (or not asked yet) */
	unsigned head_behind; /* consecutive polls with head below the stored tip */
	struct ix_ring ring;
	int64_t high_water; /* highest stored header, -1: none */
	uint64_t last_prune;
	int poll_busy;
	uint64_t poll_failures; /* consecutive failed head polls */
	int prune_busy;

	/* work */
	struct ix_range *committing;
	struct ix_range *dead; /* dropped ranges whose rpc request is still out */
	enum ix_after after;
	size_t mem_held;
	size_t fetch_bytes; /* answers expected of the ranges in flight */
	struct ix_walk walk;
	uint64_t db_backoff_ms; /* after failed commits */
	uint64_t commit_block_until;

	/* stats */
	struct rw_indexer_stats st;
	uint64_t prog_ms, prog_blocks, prog_logs;
	int said_caught_up;
	unsigned reject_logged;

	void (*on_stopped)(void *arg);
	void *stop_arg;
};

/* ---- indexer.c ---- */

/* Logs for this chain. */
void rw_indexer_say(const struct rw_indexer *ix, enum rw_indexer_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Runs whatever can run now: plans and fetches ranges, commits the next
 * ready one, merges lanes, arms the kick timer for retries. */
void rw_indexer_pump(struct rw_indexer *ix);

/* Drops all in-flight work (a new generation) and, once the commit in
 * flight (if any) has returned, reloads (IX_AFTER_LOAD) or starts a reorg
 * walk (IX_AFTER_REORG). why is logged by the reorg. */
void rw_indexer_quiesce(struct rw_indexer *ix, enum ix_after after, const char *why);

/* Schedules the current setup/reorg step again after a backoff. */
void rw_indexer_step_retry(struct rw_indexer *ix);

/* Runs the current setup/reorg step (state) if it is not busy. */
void rw_indexer_step(struct rw_indexer *ix);

/* Counts a failed rpc request of class cls and logs it (what, endpoint). */
void rw_indexer_rpc_failed(struct rw_indexer *ix, const char *what,
			   const struct rw_rpc_result *res);

/* Builds the lanes from ix->src (after a load). Returns 0 or RW_ENOMEM. */
int rw_indexer_lanes_build(struct rw_indexer *ix);

/* Frees a lane that holds no range. */
void rw_indexer_lane_free(struct ix_lane *lane);

/* Returns a new range of lane (not linked), or NULL when out of memory. */
struct ix_range *rw_indexer_range_new(struct ix_lane *lane, uint64_t from, uint64_t to, int window);

/* Links r into lane after pos (first when pos is NULL). */
void rw_indexer_range_insert(struct ix_lane *lane, struct ix_range *pos, struct ix_range *r);

/* Removes r from its lane's list (r->lane stays set). */
void rw_indexer_range_unlink(struct ix_range *r);

/* Frees a range and its rows, accounting its memory. */
void rw_indexer_range_free(struct ix_range *r);

/* Drops the rows and headers of r (for a refetch). */
void rw_indexer_range_reset(struct ix_range *r);

/* Ring of recent stored headers. */
void rw_indexer_ring_put(struct ix_ring *ring, const struct ix_hdr *h);
const struct ix_hdr *rw_indexer_ring_get(const struct ix_ring *ring, uint64_t number);
void rw_indexer_ring_clear(struct ix_ring *ring);

/* Enters IX_S_RUN after a load: logs, polls, pumps. */
void rw_indexer_run(struct rw_indexer *ix);

/* Milliseconds on the loop clock. */
uint64_t rw_indexer_now(const struct rw_indexer *ix);

/* ---- indexer_fetch.c ---- */

/* Builds the eth_getLogs filters of a lane from its sources and the chain's
 * watched addresses. Returns 0 or RW_ENOMEM. */
int rw_indexer_lane_queries(struct ix_lane *lane);

/* Sends the first request of range r (logs, and window headers). Returns 0
 * or a negative RW_E* code (r is then IX_R_WAIT). */
int rw_indexer_fetch(struct ix_range *r);

/* Merges r->next into r when both are ready to commit, contiguous, of the
 * same kind (window or not), not staged, r discovers nothing, the window
 * headers link, and the rows stay under IX_COMMIT_BYTES: one transaction
 * and one COPY per table for both. Returns 1 when merged (r->next freed), 0
 * when not, RW_ENOMEM (nothing changed). */
int rw_indexer_range_absorb(struct ix_range *r);

/* Parses a header object of eth_getBlockByNumber. Returns 0 or RW_EINVAL. */
int rw_indexer_parse_header(struct ix_hdr *ret, const json_t *v);

/* Builds a [quantity or tag, false] eth_getBlockByNumber request's params. */
json_t *rw_indexer_block_params(uint64_t number, const char *tag);

/* ---- indexer_write.c ---- */

/* Setup: eth_call the immutables of configured providers and balances. */
int rw_indexer_calls(struct rw_indexer *ix);
/* Setup: writes the configuration rows in one transaction. */
int rw_indexer_upsert(struct rw_indexer *ix);
/* Loads sources, cursors, watched addresses and recent headers. */
int rw_indexer_load(struct rw_indexer *ix);
/* Submits the transaction of range r (ix->committing = r). Returns 0 or a
 * negative RW_E* code. */
int rw_indexer_commit(struct ix_range *r);
/* Called by the commit job's callback: the outcome and its message. */
void rw_indexer_commit_done(struct ix_range *r, enum ix_commit outcome, const char *msg);
/* Prunes old headers without rows (a job of its own; errors are logged). */
void rw_indexer_prune(struct rw_indexer *ix, uint64_t keep_from);

/* ---- indexer_reorg.c ---- */

/* Verifies the stored tip against the chain (IX_S_VERIFY). */
int rw_indexer_verify(struct rw_indexer *ix);
/* Starts the walk back (state IX_S_WALK_DB) from the stored tip. */
void rw_indexer_walk_begin(struct rw_indexer *ix);
/* The walk's steps. */
int rw_indexer_walk_db(struct rw_indexer *ix);
int rw_indexer_walk_rpc(struct rw_indexer *ix);
int rw_indexer_rewind(struct rw_indexer *ix);

#endif
