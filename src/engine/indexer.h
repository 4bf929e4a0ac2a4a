/* indexer.h: the chain indexer: follows one chain and mirrors the events of
 * the event map into PostgreSQL, exactly once, surviving reorgs and
 * restarts (src/engine/INDEXER.md is the design; indexer_int.h the inner
 * workings).
 *
 * Lifetimes
 * - One struct rw_indexer per chain, on the program's loop. It borrows the
 *   chain's configuration, the event map, one rw_rpc and one rw_pg; all
 *   four must outlive it.
 * - rw_indexer_stop finishes or abandons what is in flight (never half a
 *   transaction: every write is one transaction job) and stops its timers;
 *   on_stopped then runs. Requests it abandoned may still be queued in the
 *   rpc and pg clients: close those next (rw_rpc_close, rw_pg_close), whose
 *   cancellations the indexer absorbs, and only then rw_indexer_free.
 * - Everything runs on the loop thread; no function here blocks.
 *
 * Logging: one line per event worth knowing, on standard error, through
 * rw_indexer_log ("2025-01-02T03:04:05.678Z INFO [mainnet] caught up ..."). */
#ifndef RW_INDEXER_H
#define RW_INDEXER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"
#include "eventmap.h"
#include "pg.h"
#include "rpc.h"
#include "rwconfig.h"

struct rw_indexer;

/* What an indexer borrows and how hard it may push; zero numbers take the
 * defaults shown. */
struct rw_indexer_params {
	const struct rw_config_chain *chain; /* the chain (outlives the indexer) */
	const struct rw_eventmap *map;       /* the event map (outlives it) */
	struct rw_rpc *rpc;                  /* the chain's JSON-RPC client */
	struct rw_pg *pg;                    /* a PostgreSQL connection for this chain */
	unsigned max_inflight;               /* ranges fetched ahead per lane (6, at most 64) */
	size_t mem_budget;                   /* bytes of fetched, uncommitted rows (32 MiB) */
	unsigned progress_ms;                /* period of the progress log line (10000) */
	unsigned window_batch;               /* blocks per request near the head (32) */
};

/* Log levels. */
enum rw_indexer_level { RW_INDEXER_DEBUG, RW_INDEXER_INFO, RW_INDEXER_WARN, RW_INDEXER_ERROR };

/* Writes one line to standard error: an UTC timestamp with milliseconds, the
 * level, "[chain]" when chain is not NULL, and the message.
 * In: chain: a chain name or NULL; fmt: printf format. */
void rw_indexer_log(const char *chain, enum rw_indexer_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sets the lowest level rw_indexer_log prints (default INFO). */
void rw_indexer_log_level(enum rw_indexer_level level);

/* Creates an indexer for one chain; it does nothing until rw_indexer_start.
 * Returns 0, RW_EINVAL (a NULL or inconsistent parameter) or RW_ENOMEM; on
 * success it holds three uv timers (closed by rw_indexer_stop).
 * Out: ret: the indexer. In: loop: the program's loop; p: copied. */
int rw_indexer_new(struct rw_indexer **ret, uv_loop_t *loop, const struct rw_indexer_params *p);

/* Starts indexing: writes the chain's configured contracts, tokens and
 * watched addresses (upsert), loads sources and cursors, checks the stored
 * head against the chain (a reorg while stopped), then backfills and follows
 * the head until stopped. Errors of the node or the database are logged and
 * retried with backoff; none stops the indexer. Call the chain-id check
 * before this (the indexer trusts its rpc client to be the chain's).
 * Returns 0, or RW_EINVAL when already started or stopping. */
int rw_indexer_start(struct rw_indexer *ix);

/* Stops: no new requests; a commit in flight is awaited (it commits whole or
 * not at all); fetched rows not yet committed are dropped; timers closed.
 * Then on_stopped(arg) runs from the loop (never from inside this call).
 * Returns 0, or RW_EINVAL when already stopping.
 * In: on_stopped: may be NULL. */
int rw_indexer_stop(struct rw_indexer *ix, void (*on_stopped)(void *arg), void *arg);

/* Frees an indexer whose stop has completed and whose rpc and pg clients
 * have closed (their callbacks ran). Accepts NULL. Returns NULL. */
struct rw_indexer *rw_indexer_free(struct rw_indexer *ix);

/* Numbers for logs, tests and the metrics page. */
struct rw_indexer_stats {
	uint64_t head;           /* latest block the node reported (0: unknown yet) */
	uint64_t next_block;     /* first block not indexed by the most advanced lane */
	uint64_t min_next_block; /* first block not indexed by the least advanced lane */
	uint64_t finalized;      /* the node's finalized block (0: unknown) */
	uint64_t blocks;         /* blocks committed (all lanes) since start */
	uint64_t logs;           /* rows written since start */
	uint64_t rejects;        /* malformed logs skipped */
	uint64_t commits;        /* transactions committed */
	uint64_t db_errors;      /* failed database jobs */
	uint64_t rpc_errors[RW_RPC_OTHER + 1]; /* failed requests by class, after rpc's retries */
	uint64_t reorgs;                       /* reorgs handled */
	uint64_t reorg_last_depth;
	uint64_t reorg_max_depth;
	size_t lanes;           /* groups of sources with one cursor */
	size_t sources;         /* sources indexed */
	size_t ranges_inflight; /* ranges fetched or being fetched */
	size_t mem_held;        /* bytes of rows waiting for their commit */
	int caught_up;          /* every source is indexed up to the head */
};

/* Fills *ret. Never fails. */
void rw_indexer_get_stats(struct rw_indexer_stats *ret, const struct rw_indexer *ix);

/* Appends this chain's metrics to out in the Prometheus text format (no
 * HELP/TYPE lines when header is 0, so that several chains can share one
 * page). Returns 0, RW_ETOOBIG or RW_ENOMEM.
 * In: header: nonzero to write the # HELP and # TYPE lines. */
int rw_indexer_metrics(struct rw_buf *out, const struct rw_indexer *ix, int header);

#endif
