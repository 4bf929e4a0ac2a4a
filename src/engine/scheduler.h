/* scheduler.h: the daily-charge scheduler. Per chain it asks PostgreSQL,
 * every poll cycle, to file what billing needs next: the charges of
 * instances whose period has begun and the refills of short reserves, as
 * batch intents for the chain's relayer (rw_scheduler_file,
 * migrations/0022_scheduler.sql, where every rule lives), and it completes
 * and expires top-up sessions (rw_topup_reconcile, rw_topup_expire,
 * migrations/0020_topup.sql).
 *
 * Cycles
 * - A cycle is one pg job of three statements, each its own transaction:
 *   rw_scheduler_file (all of one cycle's batches and claims, or none),
 *   rw_topup_reconcile, rw_topup_expire. A cycle runs every poll interval of
 *   the chain and at once after the indexer commits (the trigger on
 *   indexer_cursor notifies rw_indexed_<chain_id>, which the scheduler
 *   listens on), one at a time. One that filed max_batches batches, or
 *   left scheduler_backlog (a burst, filed a call's worth at a time:
 *   migrations 0029, 0033), is followed by another at once; otherwise
 *   cycles are at least RW_SCHEDULER_MIN_GAP_MS apart (after a cycle that
 *   filed nothing, at least its own length: such cycles take at most half
 *   of the time).
 * - A dead database fails the cycle (logged once per outage, counted); the
 *   next cycle tries again. Nothing is kept in memory between cycles: the
 *   claims in PostgreSQL are the state.
 *
 * Lifetimes
 * - One struct rw_scheduler per chain, on the program's loop. It borrows
 *   the chain's configuration and one rw_pg; both must outlive it.
 * - rw_scheduler_stop closes its timer and calls on_stopped from the loop.
 *   A cycle in flight is abandoned, not awaited: each of its statements
 *   commits whole or not at all, and its callback (results, or CLOSED when
 *   the pg client closes) is absorbed. Close the pg client next, and only
 *   then rw_scheduler_free.
 * - Everything runs on the loop thread; no function here blocks.
 *
 * Logging: one line per batch filed, per top-up completion or expiry and
 * per database outage, on standard error ("... INFO [mainnet scheduler]
 * filed charge:1:batch:7 ..."). */
#ifndef RW_SCHEDULER_H
#define RW_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"
#include "pg.h"
#include "rwconfig.h"

/* Cycles are at least this far apart (notifications come with every
 * indexer commit), except the next call of a burst (rw_scheduler_more),
 * which follows at once. */
#define RW_SCHEDULER_MIN_GAP_MS 100

/* The least time between the end of a cycle that took `took` ms and filed
 * `batches` batches and the start of the next: RW_SCHEDULER_MIN_GAP_MS, or,
 * after a cycle that filed nothing, its own length, so that cycles that
 * find nothing take at most half of the database's time (the indexer
 * notifies every commit: while the chain mines a burst of charges, the due
 * view over every instance ran back to back, 0.25-0.5 s each at 10,000
 * instances). */
uint64_t rw_scheduler_gap_ms(uint64_t took, int batches);

/* Whether more may be due right after a cycle that filed `batches` batches
 * with `max_batches` allowed: a full call, or some filed while rows of the
 * burst wait in scheduler_backlog (backlog_left; the call that evaluated
 * files at most 20 batches, migration 0029; one that evaluated part of a
 * burst leaves the backlog empty, 0033). Returns 1 or 0. */
int rw_scheduler_more(int batches, unsigned max_batches, int backlog_left);

/* A Balance contract whose mirror trails the chain head by more blocks than
 * this is skipped (its state is too old to act on: a backfill). */
#define RW_SCHEDULER_MAX_LAG 32

struct rw_scheduler;

/* What a scheduler borrows and how it batches; zero numbers take the
 * chain's configuration (chains[].scheduler, poll_interval_ms). */
struct rw_scheduler_params {
	const struct rw_config_chain *chain; /* outlives the scheduler */
	struct rw_pg *pg;                    /* outlives the scheduler */
	unsigned batch_size;                 /* instances per call, 1..1000 */
	uint64_t batch_gas;                  /* estimated gas per call, 100000..100000000 */
	uint64_t refill_every;               /* seconds of chain time, 60..31536000 */
	unsigned max_batches;                /* batch intents per cycle, 1..1000 */
	uint64_t poll_ms;                    /* period of a cycle */
};

/* Log levels (the same values as the indexer's and the relayer's). */
enum rw_scheduler_level {
	RW_SCHEDULER_DEBUG,
	RW_SCHEDULER_INFO,
	RW_SCHEDULER_WARN,
	RW_SCHEDULER_ERROR
};

/* Writes one log line tagged "<chain> scheduler" (no tag when chain is
 * NULL). */
void rw_scheduler_log(const char *chain, enum rw_scheduler_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Creates a scheduler for one chain; it does nothing until
 * rw_scheduler_start. Returns 0, RW_EINVAL (a NULL parameter, or a number
 * out of the ranges above) or RW_ENOMEM; on success it holds one uv timer.
 * Out: ret. In: loop: the program's loop; p: copied. */
int rw_scheduler_new(struct rw_scheduler **ret, uv_loop_t *loop,
		     const struct rw_scheduler_params *p);

/* Starts the cycles: listens on rw_indexed_<chain_id> and runs the first
 * cycle at once. Returns 0, or RW_EINVAL when already started or stopping. */
int rw_scheduler_start(struct rw_scheduler *s);

/* Stops (see Lifetimes). on_stopped(arg) runs from the loop, never from
 * inside this call. Returns 0, or RW_EINVAL when already stopping.
 * In: on_stopped: may be NULL. */
int rw_scheduler_stop(struct rw_scheduler *s, void (*on_stopped)(void *arg), void *arg);

/* Frees a scheduler whose stop has completed and whose pg client has
 * closed. Accepts NULL. Returns NULL. */
struct rw_scheduler *rw_scheduler_free(struct rw_scheduler *s);

/* Numbers for logs, tests and the metrics page. */
struct rw_scheduler_stats {
	uint64_t cycles;           /* cycles whose job came back */
	uint64_t failed_cycles;    /* cycles with a failed statement */
	uint64_t charge_batches;   /* charge intents filed */
	uint64_t charge_instances; /* charge claims filed */
	uint64_t refill_batches;   /* refill intents filed */
	uint64_t refill_instances; /* refill claims filed */
	uint64_t topups_completed; /* top-up sessions completed */
	uint64_t topups_expired;   /* top-up sessions expired */
	uint64_t topups_flagged;   /* support flags raised */
	int db_down;               /* the last cycle failed */
};

/* Fills *ret. Never fails. */
void rw_scheduler_get_stats(struct rw_scheduler_stats *ret, const struct rw_scheduler *s);

/* Appends this chain's metrics to out in the Prometheus text format (the
 * # HELP and # TYPE lines only when header is nonzero). Returns 0,
 * RW_ETOOBIG or RW_ENOMEM. */
int rw_scheduler_metrics(struct rw_buf *out, const struct rw_scheduler *s, int header);

#endif
