/* scheduler.c: the daily-charge scheduler's cycles (scheduler.h is the
 * contract, migrations/0022_scheduler.sql the rules). */
#include "scheduler.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "metric.h"

_Static_assert((int)RW_SCHEDULER_DEBUG == (int)RW_LOG_DEBUG &&
		       (int)RW_SCHEDULER_ERROR == (int)RW_LOG_ERROR,
	       "log levels line up with engine/log.h");

/* The statements of a cycle, in job order. */
enum { ST_FILE, ST_BACKLOG, ST_RECONCILE, ST_EXPIRE, ST_COUNT };

static const char sql_file[] =
	"SELECT f.key, f.action, rw_hex(f.contract), f.instances, f.reasons, f.gas, "
	"array_to_string(f.claims, ' ') FROM rw_scheduler_file($1::bigint, $2::integer, "
	"$3::bigint, $4::bigint, $5::integer, $6::bigint) f";
/* Rows of an evaluation left for the next calls (migration 0029). */
static const char sql_backlog[] =
	"SELECT EXISTS (SELECT 1 FROM scheduler_backlog WHERE chain_id = $1::bigint)";
static const char sql_reconcile[] =
	"SELECT completed, flagged, expired, waiting FROM rw_topup_reconcile($1::bigint)";
static const char sql_expire[] = "SELECT rw_topup_expire($1::bigint)";

static const char *const st_names[ST_COUNT] = { "rw_scheduler_file", "scheduler_backlog",
						"rw_topup_reconcile", "rw_topup_expire" };

struct rw_scheduler {
	uv_loop_t *loop;
	struct rw_scheduler_params p;
	char name[RW_CONFIG_NAME_MAX + 1];
	char chain_id[24];
	char channel[48];
	uv_timer_t *timer;
	int timer_open;
	int started;
	int stopping;
	int stopped_called;
	int busy;             /* a cycle's job is in flight */
	uint64_t started_ms;  /* loop time the cycle in flight was submitted */
	char last_error[768]; /* the last failure, to log a new one once */
	int again;            /* a notification came during the cycle */
	uint64_t last_end_ms; /* loop time the last cycle came back */
	uint64_t gap_ms;      /* the least time from it to the next (rw_scheduler_gap_ms) */
	void (*on_stopped)(void *arg);
	void *stopped_arg;
	struct rw_scheduler_stats st;
};

/* ---- logging ------------------------------------------------------------- */

static void vlog(const char *chain, enum rw_scheduler_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vlog(const char *chain, enum rw_scheduler_level level, const char *fmt, va_list ap)
{
	char tag[RW_CONFIG_NAME_MAX + 16];
	if (chain)
		snprintf(tag, sizeof(tag), "%s scheduler", chain);
	rw_logv(chain ? tag : NULL, (enum rw_log_level)level, fmt, ap);
}

void rw_scheduler_log(const char *chain, enum rw_scheduler_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(chain, level, fmt, ap);
	va_end(ap);
}

static void say(const struct rw_scheduler *s, enum rw_scheduler_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(const struct rw_scheduler *s, enum rw_scheduler_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(s->name, level, fmt, ap);
	va_end(ap);
}

/* ---- parameters ------------------------------------------------------------ */

/* Zero numbers take the chain's configuration; returns 0 or RW_EINVAL for
 * a number out of range. */
static int params_complete(struct rw_scheduler_params *p)
{
	const struct rw_config_scheduler *c = &p->chain->scheduler;
	if (!p->batch_size)
		p->batch_size = (unsigned)c->batch_size.v;
	if (!p->batch_gas)
		p->batch_gas = c->batch_gas.v;
	if (!p->refill_every)
		p->refill_every = c->refill_every.v;
	if (!p->max_batches)
		p->max_batches = (unsigned)c->max_batches.v;
	if (!p->poll_ms)
		p->poll_ms = p->chain->poll_interval_ms.v;
	if (p->batch_size < 1 || p->batch_size > 1000 || p->batch_gas < 100000 ||
	    p->batch_gas > 100000000 || p->refill_every < 60 || p->refill_every > 31536000 ||
	    p->max_batches < 1 || p->max_batches > 1000 || p->poll_ms < 1)
		return RW_EINVAL;
	return 0;
}

/* ---- a cycle ------------------------------------------------------------------ */

static void schedule(struct rw_scheduler *s, uint64_t ms);

/* One line per batch filed; the claim keys at debug level. Returns the
 * number of batches. */
static int log_batches(struct rw_scheduler *s, const PGresult *r)
{
	int n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		const char *action = PQgetvalue(r, i, 1);
		uint64_t count = strtoull(PQgetvalue(r, i, 3), NULL, 10);
		int charge = strcmp(action, "charge") == 0;
		if (charge) {
			s->st.charge_batches++;
			s->st.charge_instances += count;
		} else {
			s->st.refill_batches++;
			s->st.refill_instances += count;
		}
		say(s, RW_SCHEDULER_INFO,
		    "filed %s on %s: %s %" PRIu64 " instance%s (%s), estimated gas %s",
		    PQgetvalue(r, i, 0), PQgetvalue(r, i, 2), charge ? "charge" : "refill", count,
		    count == 1 ? "" : "s", PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
		say(s, RW_SCHEDULER_DEBUG, "%s claims %s", PQgetvalue(r, i, 0),
		    PQgetvalue(r, i, 6));
	}
	return n;
}

static void log_topups(struct rw_scheduler *s, const PGresult *rec, const PGresult *exp)
{
	uint64_t done = 0, flagged = 0, expired = 0, waiting = 0;
	if (rec && PQntuples(rec) == 1) {
		done = strtoull(PQgetvalue(rec, 0, 0), NULL, 10);
		flagged = strtoull(PQgetvalue(rec, 0, 1), NULL, 10);
		expired = strtoull(PQgetvalue(rec, 0, 2), NULL, 10);
		waiting = strtoull(PQgetvalue(rec, 0, 3), NULL, 10);
	}
	if (exp && PQntuples(exp) == 1)
		expired += strtoull(PQgetvalue(exp, 0, 0), NULL, 10);
	s->st.topups_completed += done;
	s->st.topups_flagged += flagged;
	s->st.topups_expired += expired;
	if (done || flagged || expired)
		say(s, RW_SCHEDULER_INFO,
		    "top-up sessions: %" PRIu64 " completed, %" PRIu64 " expired, %" PRIu64
		    " support flag%s raised, %" PRIu64 " deposit%s awaiting confirmation",
		    done, expired, flagged, flagged == 1 ? "" : "s", waiting,
		    waiting == 1 ? "" : "s");
}

/* The first statement that failed, in words, into out. Returns 1 when one
 * did (or the whole job failed), else 0. */
static int cycle_error(char *out, size_t n, const struct rw_pg_reply *reply)
{
	for (size_t i = 0; i < reply->n && i < ST_COUNT; i++) {
		const PGresult *r = reply->results[i];
		if (r && PQresultStatus(r) == PGRES_TUPLES_OK)
			continue;
		const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		if (!msg && reply->error) {
			msg = reply->error->message;
			state = reply->error->sqlstate[0] ? reply->error->sqlstate : NULL;
		}
		snprintf(out, n, "%s: %s%s%s", st_names[i], state ? state : "", state ? " " : "",
			 msg ? msg : "no result");
		return 1;
	}
	if (reply->error) {
		snprintf(out, n, "%s", reply->error->message);
		return 1;
	}
	return 0;
}

int rw_scheduler_more(int batches, unsigned max_batches, int backlog_left)
{
	return batches > 0 && ((unsigned)batches >= max_batches || backlog_left);
}

uint64_t rw_scheduler_gap_ms(uint64_t took, int batches)
{
	return batches == 0 && took > RW_SCHEDULER_MIN_GAP_MS ? took : RW_SCHEDULER_MIN_GAP_MS;
}

static void on_cycle(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_scheduler *s = arg;
	(void)pg;
	s->busy = 0;
	if (s->stopping)
		return;
	s->st.cycles++;
	s->last_end_ms = uv_now(s->loop);
	int batches = 0;
	PGresult *const *res = reply->n == ST_COUNT ? reply->results : NULL;
	if (res && res[ST_FILE] && PQresultStatus(res[ST_FILE]) == PGRES_TUPLES_OK)
		batches = log_batches(s, res[ST_FILE]);
	if (res)
		log_topups(s,
			   res[ST_RECONCILE] && PQresultStatus(res[ST_RECONCILE]) == PGRES_TUPLES_OK
				   ? res[ST_RECONCILE]
				   : NULL,
			   res[ST_EXPIRE] && PQresultStatus(res[ST_EXPIRE]) == PGRES_TUPLES_OK
				   ? res[ST_EXPIRE]
				   : NULL);
	char why[768];
	uint64_t took = s->last_end_ms - s->started_ms;
	if (cycle_error(why, sizeof(why), reply)) {
		s->st.failed_cycles++;
		if (!s->st.db_down || strcmp(why, s->last_error) != 0)
			say(s, RW_SCHEDULER_WARN,
			    "cycle failed: %s; trying again every %" PRIu64 " ms", why,
			    s->p.poll_ms);
		else
			say(s, RW_SCHEDULER_DEBUG, "cycle failed again after %" PRIu64 " ms: %s",
			    took, why);
		memcpy(s->last_error, why, sizeof(why));
		s->st.db_down = 1;
		schedule(s, s->p.poll_ms);
		return;
	}
	if (s->st.db_down)
		say(s, RW_SCHEDULER_INFO, "cycles work again");
	s->st.db_down = 0;
	s->last_error[0] = '\0';
	say(s, RW_SCHEDULER_DEBUG, "cycle done in %" PRIu64 " ms: %d batch%s", took, batches,
	    batches == 1 ? "" : "es");
	const char *left = res && res[ST_BACKLOG] && PQntuples(res[ST_BACKLOG]) == 1
				   ? PQgetvalue(res[ST_BACKLOG], 0, 0)
				   : NULL;
	int more = rw_scheduler_more(batches, s->p.max_batches, left && left[0] == 't');
	s->gap_ms = rw_scheduler_gap_ms(took, batches);
	/* more of a burst: at once (the call filed batches, so it moves on);
	 * a notification that came during the cycle: after the gap */
	schedule(s, more       ? 0
		    : s->again ? s->gap_ms
			       : (s->p.poll_ms > s->gap_ms ? s->p.poll_ms : s->gap_ms));
	s->again = 0;
}

/* Builds and submits a cycle's job. Returns 0 or a negative RW_E* code. */
static int cycle_submit(struct rw_scheduler *s)
{
	char size[16], gas[24], every[24], maxb[16], lag[16];
	snprintf(size, sizeof(size), "%u", s->p.batch_size);
	snprintf(gas, sizeof(gas), "%" PRIu64, s->p.batch_gas);
	snprintf(every, sizeof(every), "%" PRIu64, s->p.refill_every);
	snprintf(maxb, sizeof(maxb), "%u", s->p.max_batches);
	snprintf(lag, sizeof(lag), "%d", RW_SCHEDULER_MAX_LAG);
	const char *fv[] = { s->chain_id, size, gas, every, maxb, lag };
	const char *cv[] = { s->chain_id };
	struct rw_pg_job *job = rw_pg_job_new(0);
	if (!job)
		return RW_ENOMEM;
	int r = rw_pg_job_sql(job, sql_file, 6, fv, NULL, NULL, 0);
	if (r == 0)
		r = rw_pg_job_sql(job, sql_backlog, 1, cv, NULL, NULL, 0);
	if (r == 0)
		r = rw_pg_job_sql(job, sql_reconcile, 1, cv, NULL, NULL, 0);
	if (r == 0)
		r = rw_pg_job_sql(job, sql_expire, 1, cv, NULL, NULL, 0);
	if (r < 0) {
		rw_pg_job_free(job);
		return r;
	}
	return rw_pg_submit(s->p.pg, job, on_cycle, s);
}

static void on_timer(uv_timer_t *t)
{
	struct rw_scheduler *s = t->data;
	if (s->stopping || s->busy)
		return;
	s->again = 0;
	int r = cycle_submit(s);
	if (r < 0) {
		say(s, RW_SCHEDULER_WARN, "cannot start a cycle: %s", rw_strerror(r));
		schedule(s, s->p.poll_ms);
		return;
	}
	s->busy = 1;
	s->started_ms = uv_now(s->loop);
}

static void schedule(struct rw_scheduler *s, uint64_t ms)
{
	if (!s->stopping && s->timer_open)
		(void)uv_timer_start(s->timer, on_timer, ms, 0);
}

static void on_notify(struct rw_pg *pg, const char *channel, const char *payload, int be_pid,
		      void *arg)
{
	struct rw_scheduler *s = arg;
	(void)pg;
	(void)channel;
	(void)payload;
	(void)be_pid;
	if (s->stopping)
		return;
	if (s->busy) {
		s->again = 1;
		return;
	}
	uint64_t since = uv_now(s->loop) - s->last_end_ms;
	schedule(s, since >= s->gap_ms ? 0 : s->gap_ms - since);
}

/* ---- life cycle ------------------------------------------------------------------ */

int rw_scheduler_new(struct rw_scheduler **ret, uv_loop_t *loop,
		     const struct rw_scheduler_params *p)
{
	if (!ret || !loop || !p || !p->chain || !p->pg ||
	    strlen(p->chain->name) > RW_CONFIG_NAME_MAX)
		return RW_EINVAL;
	struct rw_scheduler_params q = *p;
	if (params_complete(&q) < 0)
		return RW_EINVAL;
	struct rw_scheduler *s = calloc(1, sizeof(*s));
	if (!s)
		return RW_ENOMEM;
	s->timer = malloc(sizeof(*s->timer));
	if (!s->timer) {
		free(s);
		return RW_ENOMEM;
	}
	s->loop = loop;
	s->p = q;
	s->gap_ms = RW_SCHEDULER_MIN_GAP_MS;
	snprintf(s->name, sizeof(s->name), "%s", q.chain->name);
	snprintf(s->chain_id, sizeof(s->chain_id), "%" PRIu64, q.chain->chain_id);
	snprintf(s->channel, sizeof(s->channel), "rw_indexed_%" PRIu64, q.chain->chain_id);
	uv_timer_init(loop, s->timer);
	s->timer->data = s;
	s->timer_open = 1;
	*ret = s;
	return 0;
}

int rw_scheduler_start(struct rw_scheduler *s)
{
	if (s->started || s->stopping)
		return RW_EINVAL;
	s->started = 1;
	if (rw_pg_listen(s->p.pg, s->channel, on_notify, NULL, s) < 0)
		say(s, RW_SCHEDULER_WARN,
		    "cannot listen on %s: new blocks wait for the next cycle (%" PRIu64 " ms)",
		    s->channel, s->p.poll_ms);
	say(s, RW_SCHEDULER_INFO,
	    "batches of at most %u instances and %" PRIu64 " gas, %u per cycle; refills "
	    "retried every %" PRIu64 " s of chain time and at once after a deposit; a cycle "
	    "every %" PRIu64 " ms and after each indexer commit",
	    s->p.batch_size, s->p.batch_gas, s->p.max_batches, s->p.refill_every, s->p.poll_ms);
	schedule(s, 0);
	return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
	struct rw_scheduler *s = h->data;
	free(h);
	s->timer = NULL;
	s->timer_open = 0;
	if (!s->stopped_called) {
		s->stopped_called = 1;
		if (s->on_stopped)
			s->on_stopped(s->stopped_arg);
	}
}

int rw_scheduler_stop(struct rw_scheduler *s, void (*on_stopped)(void *arg), void *arg)
{
	if (s->stopping)
		return RW_EINVAL;
	s->stopping = 1;
	s->on_stopped = on_stopped;
	s->stopped_arg = arg;
	if (s->started)
		(void)rw_pg_unlisten(s->p.pg, s->channel);
	uv_close((uv_handle_t *)s->timer, on_timer_closed);
	return 0;
}

struct rw_scheduler *rw_scheduler_free(struct rw_scheduler *s)
{
	if (!s)
		return NULL;
	if (s->timer_open) {
		/* never started a stop: the loop still owns the timer */
		s->timer->data = NULL;
		uv_close((uv_handle_t *)s->timer, (uv_close_cb)free);
	}
	free(s);
	return NULL;
}

void rw_scheduler_get_stats(struct rw_scheduler_stats *ret, const struct rw_scheduler *s)
{
	*ret = s->st;
}

/* ---- metrics ------------------------------------------------------------------------ */

int rw_scheduler_metrics(struct rw_buf *out, const struct rw_scheduler *s, int header)
{
	const struct rw_scheduler_stats *st = &s->st;
	int r = rw_metric_head(out, header, "runway_scheduler_cycles_total", "counter",
			       "Scheduler cycles run (failed ones included).");
	if (r == 0)
		r = rw_buf_appendf(out, "runway_scheduler_cycles_total{chain=\"%s\"} %" PRIu64 "\n",
				   s->name, st->cycles);
	if (r == 0)
		r = rw_metric_head(out, header, "runway_scheduler_failed_cycles_total", "counter",
				   "Cycles with a failed statement (a dead database).");
	if (r == 0)
		r = rw_buf_appendf(
			out, "runway_scheduler_failed_cycles_total{chain=\"%s\"} %" PRIu64 "\n",
			s->name, st->failed_cycles);
	if (r == 0)
		r = rw_metric_head(out, header, "runway_scheduler_batches_total", "counter",
				   "Batch intents filed, by action.");
	if (r == 0)
		r = rw_buf_appendf(
			out,
			"runway_scheduler_batches_total{chain=\"%s\",action=\"charge\"} %" PRIu64
			"\nrunway_scheduler_batches_total{chain=\"%s\",action=\"refill\"} %" PRIu64
			"\n",
			s->name, st->charge_batches, s->name, st->refill_batches);
	if (r == 0)
		r = rw_metric_head(out, header, "runway_scheduler_claims_total", "counter",
				   "Instances filed (one claim each), by action.");
	if (r == 0)
		r = rw_buf_appendf(
			out,
			"runway_scheduler_claims_total{chain=\"%s\",action=\"charge\"} %" PRIu64
			"\nrunway_scheduler_claims_total{chain=\"%s\",action=\"refill\"} %" PRIu64
			"\n",
			s->name, st->charge_instances, s->name, st->refill_instances);
	if (r == 0)
		r = rw_metric_head(
			out, header, "runway_scheduler_topups_total", "counter",
			"Top-up sessions completed or expired, and support flags raised.");
	if (r == 0)
		r = rw_buf_appendf(
			out,
			"runway_scheduler_topups_total{chain=\"%s\",outcome=\"completed\"} %" PRIu64
			"\nrunway_scheduler_topups_total{chain=\"%s\",outcome=\"expired\"} %" PRIu64
			"\nrunway_scheduler_topups_total{chain=\"%s\",outcome=\"flagged\"} %" PRIu64
			"\n",
			s->name, st->topups_completed, s->name, st->topups_expired, s->name,
			st->topups_flagged);
	if (r == 0)
		r = rw_metric_head(out, header, "runway_scheduler_db_down", "gauge",
				   "1 when the last cycle failed.");
	if (r == 0)
		r = rw_buf_appendf(out, "runway_scheduler_db_down{chain=\"%s\"} %d\n", s->name,
				   st->db_down);
	return r;
}
