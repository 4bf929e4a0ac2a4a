/* pg.c: PostgreSQL client on the libuv loop (the design is in pg.h).
 *
 * States: WAITING (timer armed: first attempt or backoff) -> CONNECTING
 * (PQconnectPoll on the poll handle, timer as the attempt's timeout) ->
 * READY (pipeline mode; the poll handle always watches readable, writable
 * too while libpq holds unsent output) -> back to WAITING on a loss;
 * CLOSING from any state.
 *
 * Jobs move from the pending list (not sent) to the flying list (sent,
 * results awaited, in order). The head of the flying list receives every
 * result libpq returns. A sequential job (one with a COPY step) is alone
 * in the flying list and runs outside pipeline mode.
 *
 * Re-entrancy: user callbacks may submit jobs or close pg. All I/O runs in
 * drive(), which is not re-entered (a nested call asks it to loop again)
 * and stops as soon as the state is not READY. pg's memory is freed only
 * in the last handle's close callback, so it stays valid while any of its
 * functions is on the stack. */
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define DEFAULT_BACKOFF_MIN     100
#define DEFAULT_BACKOFF_MAX     10000
#define DEFAULT_CONNECT_TIMEOUT 10000
#define DEFAULT_COPY_CHUNK      ((size_t)1 << 20)
#define COPY_ROW_MAX            ((size_t)64 << 20)
#define CHANNEL_MAX             63
/* COPY chunks sent per turn of the loop before yielding to other handles. */
#define COPY_CHUNKS_PER_TURN 4

enum state { S_WAITING, S_CONNECTING, S_READY, S_CLOSING };

enum step_kind { STEP_SQL, STEP_PREPARED, STEP_PREPARE, STEP_COPY };

/* One statement of a job, in one allocation with its copied arguments. */
struct step {
	enum step_kind kind;
	char *text; /* SQL; the statement name for PREPARED and PREPARE */
	char *sql;  /* PREPARE: the statement's SQL */
	int nparams;
	const char **values;
	int *lengths;
	int *formats;
	Oid *types; /* PREPARE: NULL or nparams types */
	int result_format;
	rw_pg_copy_fn rows; /* COPY from a producer */
	void *rows_arg;
	const uint8_t *data; /* COPY from a buffer */
	size_t data_len;
};

enum job_kind { JOB_USER, JOB_PREP_FIRST, JOB_PREP_AGAIN, JOB_LISTEN, JOB_INTERNAL };

/* Phases of a sequential job. */
enum phase { PH_BEGIN, PH_STEPS, PH_END, PH_DONE };

struct prep {
	struct prep *next;
	char *name;
	char *sql;
	int nparams;
	Oid *types;
	int queued; /* its first preparation is not sent yet */
};

struct listener {
	struct listener *next;
	char *channel;
	rw_pg_notify_fn cb;
	void *arg;
};

struct rw_pg_job {
	struct rw_pg_job *next;
	enum job_kind kind;
	int tx;
	int sequential;
	struct step **steps;
	size_t n, cap;
	PGresult **results;
	size_t cur;   /* the step whose result is awaited */
	int have;     /* cur's result came; the NULL that ends it is awaited */
	size_t syncs; /* pipeline: PGRES_PIPELINE_SYNC results still awaited */
	enum phase phase;
	int failed;
	int sticky; /* a client error that a later LOST must not replace */
	struct rw_pg_error err;
	char *errmem;
	struct prep *prep; /* JOB_PREP_FIRST */
	rw_pg_reply_fn cb;
	void *arg;
};

enum copy_state { COPY_NONE, COPY_STREAMING, COPY_ENDING, COPY_WAITING };

struct rw_pg {
	uv_loop_t *loop;
	struct rw_pg_config cfg;
	char *conninfo;
	PGconn *conn;
	enum state state;
	uv_timer_t timer;
	uv_poll_t *poll;
	int poll_fd;
	int poll_events;
	int handles; /* open handles: the timer and any poll handles */
	unsigned attempt;
	uint64_t rng;
	int pipeline;
	int want_write;
	struct rw_pg_job *pend_head, *pend_tail;
	struct rw_pg_job *fly_head, *fly_tail;
	struct prep *preps;
	struct listener *listeners;
	enum copy_state copy;
	struct rw_buf copy_buf;
	int copy_more;
	int copy_trailer;
	int copy_abort;
	size_t copy_off;
	int copy_budget; /* chunks left in this turn */
	int driving;
	int redrive;
	void (*close_cb)(void *arg);
	void *close_arg;
	char server[256];
};

static void drive(struct rw_pg *pg, int readable, int writable);
static void conn_lost(struct rw_pg *pg, const char *why, const char *sqlstate);
static void on_poll(uv_poll_t *h, int status, int events);

/* ---- small helpers ---- */

const char *rw_pg_conninfo(const char *conninfo)
{
	if (conninfo && conninfo[0])
		return conninfo;
	const char *env = getenv("RUNWAY_DATABASE_URL");
	if (env && env[0])
		return env;
	return NULL;
}

void rw_pg_message_line(char *out, size_t n, const char *msg)
{
	size_t o = 0;
	if (n == 0)
		return;
	for (const char *p = msg ? msg : ""; *p && o + 1 < n; p++) {
		if (*p == '\n') {
			while (p[1] == '\t' || p[1] == ' ')
				p++;
			if (p[1] == '\0')
				break;
			if (o + 3 >= n)
				break;
			out[o++] = ';';
			out[o++] = ' ';
			continue;
		}
		out[o++] = *p == '\t' ? ' ' : *p;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

/* Replaces every quoted part of s (in place) by "...": libpq quotes parts
 * of the connection string, which may hold a password. */
static void redact_quotes(char *s)
{
	char *w = s;
	for (char *r = s; *r;) {
		if (*r != '"') {
			*w++ = *r++;
			continue;
		}
		char *end = strchr(r + 1, '"');
		r = end ? end + 1 : r + strlen(r);
		size_t room = (size_t)(r - w);
		if (room >= 5) {
			memcpy(w, "\"...\"", 5);
			w += 5;
		}
	}
	*w = '\0';
}

int rw_pg_conninfo_check(const char *conninfo, char *msg, size_t n)
{
	if (!conninfo)
		return 0;
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
	if (opts) {
		PQconninfoFree(opts);
		return 0;
	}
	if (msg && n > 0) {
		char line[512];
		rw_pg_message_line(line, sizeof(line), perr ? perr : "out of memory");
		redact_quotes(line);
		snprintf(msg, n, "bad database connection string: %s", line);
	}
	PQfreemem(perr);
	return RW_EINVAL;
}

static char *dupstr(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

/* ---- steps and jobs ---- */

/* Bytes a parameter value takes in the step's copy, or -1 when invalid. */
static long long param_size(const char *v, const int *lengths, const int *formats, int i)
{
	if (!v)
		return 0;
	if (formats && formats[i]) {
		if (!lengths || lengths[i] < 0)
			return -1;
		return lengths[i];
	}
	return (long long)strlen(v) + 1;
}

static struct step *step_new(enum step_kind kind, const char *text, const char *sql, int n,
			     const char *const *values, const int *lengths, const int *formats,
			     const Oid *types)
{
	if (!text || n < 0 || n > RW_PG_MAX_PARAMS || (n > 0 && kind != STEP_PREPARE && !values))
		return NULL;
	size_t nn = (size_t)n, vbytes = 0;
	for (size_t i = 0; kind != STEP_PREPARE && i < nn; i++) {
		long long sz = param_size(values[i], lengths, formats, (int)i);
		if (sz < 0)
			return NULL;
		vbytes += (size_t)sz;
	}
	size_t tlen = strlen(text) + 1, slen = sql ? strlen(sql) + 1 : 0;
	size_t size = sizeof(struct step) + nn * (sizeof(char *) + 2 * sizeof(int) + sizeof(Oid)) +
		      tlen + slen + vbytes;
	struct step *s = calloc(1, size);
	if (!s)
		return NULL;
	char *p = (char *)(s + 1);
	s->kind = kind;
	s->nparams = n;
	if (nn > 0) {
		s->values = (const char **)(void *)p;
		p += nn * sizeof(char *);
		s->lengths = (int *)(void *)p;
		p += nn * sizeof(int);
		s->formats = (int *)(void *)p;
		p += nn * sizeof(int);
		if (types) {
			s->types = (Oid *)(void *)p;
			memcpy(s->types, types, nn * sizeof(Oid));
		}
		p += nn * sizeof(Oid);
	}
	s->text = memcpy(p, text, tlen);
	p += tlen;
	if (sql) {
		s->sql = memcpy(p, sql, slen);
		p += slen;
	}
	for (size_t i = 0; kind != STEP_PREPARE && i < nn; i++) {
		size_t sz = (size_t)param_size(values[i], lengths, formats, (int)i);
		s->formats[i] = formats && formats[i] ? 1 : 0;
		s->lengths[i] = s->formats[i] ? lengths[i] : 0;
		if (!values[i])
			continue;
		s->values[i] = memcpy(p, values[i], sz);
		p += sz;
	}
	return s;
}

struct rw_pg_job *rw_pg_job_new(int flags)
{
	struct rw_pg_job *job = calloc(1, sizeof(*job));
	if (job)
		job->tx = (flags & RW_PG_TX) != 0;
	return job;
}

void rw_pg_job_free(struct rw_pg_job *job)
{
	if (!job)
		return;
	for (size_t i = 0; i < job->n; i++) {
		free(job->steps[i]);
		if (job->results)
			PQclear(job->results[i]);
	}
	free(job->steps);
	free(job->results);
	free(job->errmem);
	free(job);
}

/* Appends s (owned by the job from now on). Returns 0 or a negative code;
 * a NULL s means step_new refused or ran out of memory. */
static int job_add(struct rw_pg_job *job, struct step *s, int invalid)
{
	if (!s)
		return invalid ? RW_EINVAL : RW_ENOMEM;
	if (job->n >= RW_PG_JOB_MAX_STATEMENTS) {
		free(s);
		return RW_EINVAL;
	}
	if (job->n == job->cap) {
		size_t nc = job->cap ? job->cap * 2 : 8;
		struct step **v = realloc(job->steps, nc * sizeof(*v));
		if (!v) {
			free(s);
			return RW_ENOMEM;
		}
		job->steps = v;
		job->cap = nc;
	}
	job->steps[job->n++] = s;
	if (s->kind == STEP_COPY)
		job->sequential = 1;
	return 0;
}

/* Whether step_new would refuse these arguments (so NULL means EINVAL). */
static int args_invalid(const char *text, int n, const char *const *values, const int *lengths,
			const int *formats)
{
	if (!text || n < 0 || n > RW_PG_MAX_PARAMS || (n > 0 && !values))
		return 1;
	for (int i = 0; i < n; i++)
		if (param_size(values[i], lengths, formats, i) < 0)
			return 1;
	return 0;
}

int rw_pg_job_sql(struct rw_pg_job *job, const char *sql, int n, const char *const *values,
		  const int *lengths, const int *formats, int result_format)
{
	struct step *s = step_new(STEP_SQL, sql, NULL, n, values, lengths, formats, NULL);
	if (s)
		s->result_format = result_format ? 1 : 0;
	return job_add(job, s, args_invalid(sql, n, values, lengths, formats));
}

int rw_pg_job_prepared(struct rw_pg_job *job, const char *name, int n, const char *const *values,
		       const int *lengths, const int *formats, int result_format)
{
	struct step *s = step_new(STEP_PREPARED, name, NULL, n, values, lengths, formats, NULL);
	if (s)
		s->result_format = result_format ? 1 : 0;
	return job_add(job, s, args_invalid(name, n, values, lengths, formats));
}

int rw_pg_job_copy(struct rw_pg_job *job, const char *sql, rw_pg_copy_fn rows, void *arg)
{
	if (!sql || !rows)
		return RW_EINVAL;
	struct step *s = step_new(STEP_COPY, sql, NULL, 0, NULL, NULL, NULL, NULL);
	if (s) {
		s->rows = rows;
		s->rows_arg = arg;
	}
	return job_add(job, s, 0);
}

int rw_pg_job_copy_data(struct rw_pg_job *job, const char *sql, const void *data, size_t len)
{
	if (!sql || (!data && len > 0))
		return RW_EINVAL;
	struct step *s = step_new(STEP_COPY, sql, NULL, 0, NULL, NULL, NULL, NULL);
	if (s) {
		s->data = data;
		s->data_len = len;
	}
	return job_add(job, s, 0);
}

/* Records an error on the job. The first error wins, except that force
 * (LOST, CLOSED, CONNECT) replaces a server error, never a sticky one. */
static void job_error(struct rw_pg_job *job, enum rw_pg_errkind kind, int code,
		      const char *sqlstate, const char *msg, const char *detail, const char *hint,
		      size_t stmt, int force)
{
	if (job->failed && (!force || job->sticky))
		return;
	free(job->errmem);
	job->errmem = NULL;
	memset(&job->err, 0, sizeof(job->err));
	job->failed = 1;
	job->err.kind = kind;
	job->err.code = code;
	job->err.statement = stmt;
	if (sqlstate)
		snprintf(job->err.sqlstate, sizeof(job->err.sqlstate), "%s", sqlstate);
	size_t ml = strlen(msg) + 1, dl = detail ? strlen(detail) + 1 : 0;
	size_t hl = hint ? strlen(hint) + 1 : 0;
	char *mem = malloc(ml + dl + hl);
	if (!mem) {
		job->err.message = "out of memory";
		return;
	}
	job->errmem = mem;
	job->err.message = memcpy(mem, msg, ml);
	if (detail)
		job->err.detail = memcpy(mem + ml, detail, dl);
	if (hint)
		job->err.hint = memcpy(mem + ml + dl, hint, hl);
}

static void job_error_from_result(struct rw_pg_job *job, const PGresult *r, size_t stmt)
{
	char line[512];
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	if (!msg) {
		rw_pg_message_line(line, sizeof(line), PQresultErrorMessage(r));
		msg = line[0] ? line : "statement failed";
	}
	job_error(job, RW_PG_ERR_SERVER, RW_EIO, PQresultErrorField(r, PG_DIAG_SQLSTATE), msg,
		  PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL),
		  PQresultErrorField(r, PG_DIAG_MESSAGE_HINT), stmt, 0);
}

static void list_push(struct rw_pg_job **head, struct rw_pg_job **tail, struct rw_pg_job *job)
{
	job->next = NULL;
	if (*tail)
		(*tail)->next = job;
	else
		*head = job;
	*tail = job;
}

static struct rw_pg_job *list_pop(struct rw_pg_job **head, struct rw_pg_job **tail)
{
	struct rw_pg_job *job = *head;
	if (job) {
		*head = job->next;
		if (!*head)
			*tail = NULL;
		job->next = NULL;
	}
	return job;
}

static void emit_event(struct rw_pg *pg, enum rw_pg_event ev, const struct rw_pg_error *err)
{
	if (pg->cfg.on_event)
		pg->cfg.on_event(pg, ev, err, pg->cfg.arg);
}

static void prep_free(struct prep *p)
{
	free(p->name);
	free(p->sql);
	free(p->types);
	free(p);
}

static void prep_unregister(struct rw_pg *pg, struct prep *p)
{
	for (struct prep **pp = &pg->preps; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			prep_free(p);
			return;
		}
	}
}

/* Runs the internal bookkeeping of a finished job. */
static void job_hook(struct rw_pg *pg, struct rw_pg_job *job)
{
	if (job->kind == JOB_PREP_FIRST && job->prep) {
		enum rw_pg_errkind k = job->failed ? job->err.kind : 0;
		if (k == RW_PG_ERR_SERVER || k == RW_PG_ERR_CLIENT)
			prep_unregister(pg, job->prep);
		else
			job->prep->queued = 0;
	} else if (job->kind == JOB_PREP_AGAIN && job->failed &&
		   job->err.kind == RW_PG_ERR_SERVER) {
		emit_event(pg, RW_PG_EV_PREPARE_FAILED, &job->err);
	}
}

/* Calls the job's callback with its outcome and frees it. The job must
 * already be off every list. */
static void job_finish(struct rw_pg *pg, struct rw_pg_job *job)
{
	job_hook(pg, job);
	if (job->cb) {
		struct rw_pg_reply reply = { job->failed ? &job->err : NULL, job->n, job->results };
		job->cb(pg, &reply, job->arg);
	}
	rw_pg_job_free(job);
}

/* Fails every job of a detached list with the given error. */
static void fail_list(struct rw_pg *pg, struct rw_pg_job *list, enum rw_pg_errkind kind,
		      const char *msg, const char *sqlstate)
{
	while (list) {
		struct rw_pg_job *job = list;
		list = job->next;
		job->next = NULL;
		job_error(job, kind, RW_EIO, sqlstate, msg, NULL, NULL, 0, 1);
		job_finish(pg, job);
	}
}

PGresult *rw_pg_reply_take(const struct rw_pg_reply *reply, size_t i)
{
	if (!reply || i >= reply->n || !reply->results)
		return NULL;
	PGresult **v = (PGresult **)(uintptr_t)reply->results;
	PGresult *r = v[i];
	v[i] = NULL;
	return r;
}

/* ---- handles ---- */

static void pg_free(struct rw_pg *pg)
{
	void (*cb)(void *) = pg->close_cb;
	void *arg = pg->close_arg;
	rw_buf_free(&pg->copy_buf);
	free(pg->conninfo);
	free(pg);
	if (cb)
		cb(arg);
}

static void handle_gone(struct rw_pg *pg)
{
	if (--pg->handles == 0 && pg->state == S_CLOSING)
		pg_free(pg);
}

static void on_poll_closed(uv_handle_t *h)
{
	struct rw_pg *pg = h->data;
	free(h);
	handle_gone(pg);
}

static void on_timer_closed(uv_handle_t *h)
{
	handle_gone(h->data);
}

static void poll_release(struct rw_pg *pg)
{
	if (!pg->poll)
		return;
	uv_poll_stop(pg->poll);
	uv_close((uv_handle_t *)pg->poll, on_poll_closed);
	pg->poll = NULL;
	pg->poll_fd = -1;
	pg->poll_events = 0;
}

/* Watches libpq's current socket for events. force restarts the watch
 * even when nothing changed (while connecting, the socket number may stay
 * the same while libpq replaced the socket). Returns 0 or a negative code. */
static int watch(struct rw_pg *pg, int events, int force)
{
	int fd = PQsocket(pg->conn);
	if (pg->poll && pg->poll_fd != fd)
		poll_release(pg);
	if (fd < 0)
		return RW_EIO;
	if (!pg->poll) {
		uv_poll_t *h = malloc(sizeof(*h));
		if (!h)
			return RW_ENOMEM;
		if (uv_poll_init_socket(pg->loop, h, fd) < 0) {
			free(h);
			return RW_EIO;
		}
		h->data = pg;
		pg->handles++;
		pg->poll = h;
		pg->poll_fd = fd;
		force = 1;
	} else if (force) {
		uv_poll_stop(pg->poll);
	}
	if (!force && events == pg->poll_events)
		return 0;
	if (uv_poll_start(pg->poll, events, on_poll) < 0)
		return RW_EIO;
	pg->poll_events = events;
	return 0;
}

/* Drops the connection (if any): the poll handle first, then the socket. */
static void drop_conn(struct rw_pg *pg)
{
	poll_release(pg);
	if (pg->conn)
		PQfinish(pg->conn);
	pg->conn = NULL;
	pg->pipeline = 0;
	pg->want_write = 0;
	pg->copy = COPY_NONE;
	pg->copy_buf.len = 0;
}

static void note_server(struct rw_pg *pg)
{
	const char *host = pg->conn ? PQhost(pg->conn) : NULL;
	const char *port = pg->conn ? PQport(pg->conn) : NULL;
	if (host && host[0])
		snprintf(pg->server, sizeof(pg->server), "%s:%s", host,
			 port && port[0] ? port : "5432");
}

/* ---- connecting ---- */

static uint64_t next_random(struct rw_pg *pg)
{
	pg->rng ^= pg->rng << 13;
	pg->rng ^= pg->rng >> 7;
	pg->rng ^= pg->rng << 17;
	return pg->rng;
}

static void on_timer(uv_timer_t *t);

static void arm_timer(struct rw_pg *pg, uint64_t ms)
{
	uv_timer_stop(&pg->timer);
	uv_timer_start(&pg->timer, on_timer, ms, 0);
}

/* Computes the next backoff delay and arms the timer for a new attempt. */
static void backoff(struct rw_pg *pg)
{
	uint64_t d = (uint64_t)pg->cfg.backoff_min_ms << (pg->attempt < 20 ? pg->attempt : 20);
	if (d > pg->cfg.backoff_max_ms)
		d = pg->cfg.backoff_max_ms;
	d = d / 2 + next_random(pg) % (d / 2 + 1);
	pg->attempt++;
	pg->state = S_WAITING;
	arm_timer(pg, d);
}

static void connect_failed(struct rw_pg *pg, const char *why)
{
	char line[600], msg[900];
	note_server(pg);
	rw_pg_message_line(line, sizeof(line), why);
	snprintf(msg, sizeof(msg), "cannot connect to PostgreSQL at %s: %s", pg->server, line);
	drop_conn(pg);
	backoff(pg);
	struct rw_pg_error err = { .kind = RW_PG_ERR_CONNECT, .code = RW_EIO, .message = msg };
	emit_event(pg, RW_PG_EV_CONNECT_FAILED, &err);
	if (pg->cfg.fail_when_down && pg->state == S_WAITING) {
		struct rw_pg_job *list = pg->pend_head;
		pg->pend_head = pg->pend_tail = NULL;
		fail_list(pg, list, RW_PG_ERR_CONNECT, msg, NULL);
	}
}

static int quote_ident(char *out, size_t n, const char *s)
{
	size_t o = 0;
	if (n < 3)
		return RW_EINVAL;
	out[o++] = '"';
	for (; *s; s++) {
		if (o + 3 >= n)
			return RW_EINVAL;
		if (*s == '"')
			out[o++] = '"';
		out[o++] = *s;
	}
	out[o++] = '"';
	out[o] = '\0';
	return 0;
}

/* A job that LISTENs (or UNLISTENs) on one channel. */
static struct rw_pg_job *listen_job(const char *verb, const char *channel)
{
	char sql[2 * CHANNEL_MAX + 32], q[2 * CHANNEL_MAX + 4];
	if (quote_ident(q, sizeof(q), channel) < 0)
		return NULL;
	snprintf(sql, sizeof(sql), "%s %s", verb, q);
	struct rw_pg_job *job = rw_pg_job_new(0);
	if (job && rw_pg_job_sql(job, sql, 0, NULL, NULL, NULL, 0) < 0) {
		rw_pg_job_free(job);
		return NULL;
	}
	return job;
}

/* Queues, ahead of every pending job, the preparation of the registered
 * statements and the LISTEN of the registered channels. */
static void requeue_registered(struct rw_pg *pg)
{
	struct rw_pg_job *front = NULL, *front_tail = NULL;
	struct rw_pg_job *jp = NULL;
	for (struct prep *p = pg->preps; p; p = p->next) {
		if (p->queued)
			continue;
		if (!jp && !(jp = rw_pg_job_new(0)))
			break;
		jp->kind = JOB_PREP_AGAIN;
		struct step *s = step_new(STEP_PREPARE, p->name, p->sql, p->nparams, NULL, NULL,
					  NULL, p->types);
		(void)job_add(jp, s, 0);
	}
	if (jp && jp->n > 0 && (jp->results = calloc(jp->n, sizeof(PGresult *))) != NULL)
		list_push(&front, &front_tail, jp);
	else
		rw_pg_job_free(jp);
	for (struct listener *l = pg->listeners; l; l = l->next) {
		struct rw_pg_job *jl = listen_job("LISTEN", l->channel);
		if (jl && !(jl->results = calloc(jl->n, sizeof(PGresult *)))) {
			rw_pg_job_free(jl);
			jl = NULL;
		}
		if (!jl)
			continue;
		jl->kind = JOB_INTERNAL;
		list_push(&front, &front_tail, jl);
	}
	if (front) {
		front_tail->next = pg->pend_head;
		pg->pend_head = front;
		if (!pg->pend_tail)
			pg->pend_tail = front_tail;
	}
}

static void on_notice(void *arg, const PGresult *r)
{
	struct rw_pg *pg = arg;
	if (!pg->cfg.on_event || pg->state == S_CLOSING)
		return;
	char line[512];
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	if (!msg) {
		rw_pg_message_line(line, sizeof(line), PQresultErrorMessage(r));
		msg = line;
	}
	struct rw_pg_error err = { .kind = RW_PG_ERR_SERVER,
				   .code = 0,
				   .message = msg,
				   .detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL),
				   .hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT) };
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	if (state)
		snprintf(err.sqlstate, sizeof(err.sqlstate), "%s", state);
	emit_event(pg, RW_PG_EV_NOTICE, &err);
}

static void connected(struct rw_pg *pg)
{
	uv_timer_stop(&pg->timer);
	if (PQsetnonblocking(pg->conn, 1) != 0 || PQenterPipelineMode(pg->conn) != 1) {
		connect_failed(pg, PQerrorMessage(pg->conn));
		return;
	}
	note_server(pg);
	pg->pipeline = 1;
	pg->state = S_READY;
	pg->attempt = 0;
	requeue_registered(pg);
	if (watch(pg, UV_READABLE, 0) < 0) {
		connect_failed(pg, "cannot poll the connection's socket");
		return;
	}
	emit_event(pg, RW_PG_EV_CONNECTED, NULL);
	if (pg->state == S_READY)
		drive(pg, 0, 0);
}

static void connect_step(struct rw_pg *pg)
{
	PostgresPollingStatusType st = PQconnectPoll(pg->conn);
	int rc = 0;
	switch (st) {
	case PGRES_POLLING_READING: rc = watch(pg, UV_READABLE, 1); break;
	case PGRES_POLLING_WRITING: rc = watch(pg, UV_WRITABLE, 1); break;
	case PGRES_POLLING_OK: connected(pg); return;
	default: connect_failed(pg, PQerrorMessage(pg->conn)); return;
	}
	if (rc < 0)
		connect_failed(pg, "cannot poll the connection's socket");
}

static void connect_start(struct rw_pg *pg)
{
	/* defaults first: the connection string (expanded from dbname) wins */
	const char *keys[] = { "keepalives_idle", "keepalives_interval",       "keepalives_count",
			       "dbname",          "fallback_application_name", NULL };
	const char *vals[] = { "30", "10", "3", pg->conninfo, "runway", NULL };
	pg->state = S_CONNECTING;
	pg->conn = PQconnectStartParams(keys, vals, 1);
	if (!pg->conn) {
		connect_failed(pg, "out of memory");
		return;
	}
	note_server(pg);
	if (PQstatus(pg->conn) == CONNECTION_BAD) {
		connect_failed(pg, PQerrorMessage(pg->conn));
		return;
	}
	PQsetNoticeReceiver(pg->conn, on_notice, pg);
	arm_timer(pg, pg->cfg.connect_timeout_ms);
	if (watch(pg, UV_WRITABLE, 1) < 0)
		connect_failed(pg, "cannot poll the connection's socket");
}

static void on_timer(uv_timer_t *t)
{
	struct rw_pg *pg = t->data;
	if (pg->state == S_WAITING) {
		connect_start(pg);
	} else if (pg->state == S_CONNECTING) {
		char msg[64];
		snprintf(msg, sizeof(msg), "timeout after %u ms", pg->cfg.connect_timeout_ms);
		connect_failed(pg, msg);
	}
}

/* ---- losing the connection ---- */

/* Frees the pending internal jobs that requeue_registered will queue again. */
static void purge_requeued(struct rw_pg *pg)
{
	struct rw_pg_job *keep = NULL, *keep_tail = NULL, *job;
	while ((job = list_pop(&pg->pend_head, &pg->pend_tail)) != NULL) {
		if (job->kind == JOB_PREP_AGAIN || job->kind == JOB_INTERNAL)
			rw_pg_job_free(job);
		else
			list_push(&keep, &keep_tail, job);
	}
	pg->pend_head = keep;
	pg->pend_tail = keep_tail;
}

static void conn_lost(struct rw_pg *pg, const char *why, const char *sqlstate)
{
	if (pg->state != S_READY)
		return;
	char line[600], msg[700];
	rw_pg_message_line(line, sizeof(line), why);
	snprintf(msg, sizeof(msg), "connection lost: %s", line[0] ? line : "unknown reason");
	drop_conn(pg);
	struct rw_pg_job *flying = pg->fly_head;
	pg->fly_head = pg->fly_tail = NULL;
	purge_requeued(pg);
	pg->attempt = 0;
	backoff(pg);
	struct rw_pg_error err = { .kind = RW_PG_ERR_LOST, .code = RW_EIO, .message = msg };
	if (sqlstate)
		snprintf(err.sqlstate, sizeof(err.sqlstate), "%s", sqlstate);
	emit_event(pg, RW_PG_EV_LOST, &err);
	fail_list(pg, flying, RW_PG_ERR_LOST, msg, sqlstate);
}

/* 1 when r reports that the connection is gone (not a statement error). */
static int is_conn_error(struct rw_pg *pg, const PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_FATAL_ERROR && st != PGRES_BAD_RESPONSE)
		return 0;
	if (PQstatus(pg->conn) == CONNECTION_BAD)
		return 1;
	const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	return s && (strncmp(s, "08", 2) == 0 || strncmp(s, "57P0", 4) == 0);
}

/* ---- sending ---- */

static int send_step(struct rw_pg *pg, const struct step *s)
{
	switch (s->kind) {
	case STEP_SQL:
		return PQsendQueryParams(pg->conn, s->text, s->nparams, NULL, s->values, s->lengths,
					 s->formats, s->result_format);
	case STEP_PREPARED:
		return PQsendQueryPrepared(pg->conn, s->text, s->nparams, s->values, s->lengths,
					   s->formats, s->result_format);
	case STEP_PREPARE: return PQsendPrepare(pg->conn, s->text, s->sql, s->nparams, s->types);
	case STEP_COPY: return PQsendQuery(pg->conn, s->text);
	}
	return 0;
}

/* libpq refused to send part of a job: the connection's state is unknown,
 * so the job fails (CLIENT) and the connection is reset. */
static void send_failed(struct rw_pg *pg, struct rw_pg_job *job)
{
	char line[512];
	rw_pg_message_line(line, sizeof(line), PQerrorMessage(pg->conn));
	if (PQstatus(pg->conn) != CONNECTION_BAD) {
		job_error(job, RW_PG_ERR_CLIENT, RW_EIO, NULL, line, NULL, NULL, job->cur, 1);
		job->sticky = 1;
	}
	conn_lost(pg, line, NULL);
}

static int flush(struct rw_pg *pg)
{
	int r = PQflush(pg->conn);
	if (r < 0) {
		conn_lost(pg, PQerrorMessage(pg->conn), NULL);
		return -1;
	}
	pg->want_write = r == 1;
	return 0;
}

static void pipe_send(struct rw_pg *pg, struct rw_pg_job *job)
{
	job->syncs = job->tx ? 1 : job->n;
	for (size_t i = 0; i < job->n; i++) {
		if (!send_step(pg, job->steps[i]) || (!job->tx && !PQpipelineSync(pg->conn))) {
			send_failed(pg, job);
			return;
		}
	}
	if (job->tx && !PQpipelineSync(pg->conn))
		send_failed(pg, job);
}

/* Sends what a sequential job needs next (by its phase). */
static void seq_send(struct rw_pg *pg, struct rw_pg_job *job)
{
	int ok = 0;
	switch (job->phase) {
	case PH_BEGIN:
		ok = PQsendQueryParams(pg->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
		break;
	case PH_STEPS: ok = send_step(pg, job->steps[job->cur]); break;
	case PH_END:
		ok = PQsendQueryParams(pg->conn, job->failed ? "ROLLBACK" : "COMMIT", 0, NULL, NULL,
				       NULL, NULL, 0);
		break;
	case PH_DONE: return;
	}
	if (!ok)
		send_failed(pg, job);
}

static int set_pipeline(struct rw_pg *pg, int on)
{
	if (pg->pipeline == on)
		return 0;
	int ok = on ? PQenterPipelineMode(pg->conn) : PQexitPipelineMode(pg->conn);
	if (!ok) {
		conn_lost(pg, PQerrorMessage(pg->conn), NULL);
		return -1;
	}
	pg->pipeline = on;
	return 0;
}

/* Sends pending jobs while the socket keeps up. Returns 1 when it sent. */
static int send_pending(struct rw_pg *pg)
{
	int progress = 0;
	while (pg->state == S_READY && pg->pend_head && !pg->want_write) {
		struct rw_pg_job *job = pg->pend_head;
		if (pg->fly_head && (job->sequential || pg->fly_head->sequential))
			break;
		if (set_pipeline(pg, !job->sequential) < 0)
			break;
		list_pop(&pg->pend_head, &pg->pend_tail);
		list_push(&pg->fly_head, &pg->fly_tail, job);
		if (job->kind == JOB_PREP_FIRST && job->prep)
			job->prep->queued = 0;
		progress = 1;
		if (job->sequential) {
			job->phase = job->tx ? PH_BEGIN : PH_STEPS;
			seq_send(pg, job);
		} else {
			pipe_send(pg, job);
		}
		if (pg->state != S_READY || flush(pg) < 0)
			break;
	}
	return progress;
}

/* ---- COPY ---- */

static void copy_start(struct rw_pg *pg)
{
	pg->copy = COPY_STREAMING;
	pg->copy_buf.len = 0;
	pg->copy_more = 1;
	pg->copy_trailer = 0;
	pg->copy_abort = 0;
	pg->copy_off = 0;
	if (rw_pg_copy_header(&pg->copy_buf) < 0)
		pg->copy_abort = RW_ENOMEM;
}

/* Asks the step for more rows into the chunk. Returns 1 more, 0 done, or
 * a negative code. */
static int produce(struct rw_pg *pg, struct step *s)
{
	if (s->rows)
		return s->rows(&pg->copy_buf, s->rows_arg);
	size_t room = pg->cfg.copy_chunk - pg->copy_buf.len;
	size_t left = s->data_len - pg->copy_off;
	size_t take = left < room ? left : room;
	int rc = rw_buf_append(&pg->copy_buf, s->data + pg->copy_off, take);
	if (rc < 0)
		return rc;
	pg->copy_off += take;
	return pg->copy_off < s->data_len;
}

/* Fills the chunk: rows, then the trailer after the last ones. Returns 0
 * or the producer's (or the buffer's) negative code. */
static int copy_fill(struct rw_pg *pg, struct step *s)
{
	while (pg->copy_more && pg->copy_buf.len < pg->cfg.copy_chunk) {
		int r = produce(pg, s);
		if (r < 0)
			return r;
		pg->copy_more = r > 0;
	}
	if (!pg->copy_more && !pg->copy_trailer) {
		int rc = rw_pg_copy_trailer(&pg->copy_buf);
		if (rc < 0)
			return rc;
		pg->copy_trailer = 1;
	}
	return 0;
}

/* Ends the COPY (or aborts it when copy_abort is set). */
static void copy_end(struct rw_pg *pg)
{
	char msg[128];
	const char *why = NULL;
	if (pg->copy_abort) {
		snprintf(msg, sizeof(msg), "COPY aborted by runway: %s",
			 rw_strerror(pg->copy_abort));
		why = msg;
	}
	int r = PQputCopyEnd(pg->conn, why);
	if (r == 0) {
		pg->want_write = 1;
		return;
	}
	if (r < 0 && PQstatus(pg->conn) == CONNECTION_BAD) {
		conn_lost(pg, PQerrorMessage(pg->conn), NULL);
		return;
	}
	pg->copy = COPY_WAITING;
	pg->copy_buf.len = 0;
	(void)flush(pg);
}

/* Streams the current COPY step while the socket keeps up. Returns 1 when
 * it made progress. */
static int copy_pump(struct rw_pg *pg)
{
	struct rw_pg_job *job = pg->fly_head;
	struct step *s = job->steps[job->cur];
	int progress = 0;
	while (pg->state == S_READY && !pg->want_write &&
	       (pg->copy == COPY_STREAMING || pg->copy == COPY_ENDING)) {
		if (pg->copy == COPY_STREAMING) {
			int rc = pg->copy_abort ? pg->copy_abort : copy_fill(pg, s);
			if (rc < 0 && !job->sticky) {
				pg->copy_abort = rc;
				char msg[128];
				snprintf(msg, sizeof(msg), "COPY row producer failed: %s",
					 rw_strerror(rc));
				job_error(job, RW_PG_ERR_CLIENT, rc, NULL, msg, NULL, NULL,
					  job->cur, 1);
				job->sticky = 1;
			}
		}
		if (pg->copy == COPY_STREAMING && pg->copy_budget <= 0)
			break; /* the rest when writable: others get the loop */
		if (pg->copy == COPY_STREAMING && !pg->copy_abort && pg->copy_buf.len > 0) {
			int r = PQputCopyData(pg->conn, (const char *)pg->copy_buf.p,
					      (int)pg->copy_buf.len);
			if (r == 0) {
				pg->want_write = 1;
				break;
			}
			if (r < 0) {
				if (PQstatus(pg->conn) == CONNECTION_BAD) {
					conn_lost(pg, PQerrorMessage(pg->conn), NULL);
					break;
				}
				pg->copy = COPY_WAITING; /* the server ended it: read its error */
				pg->copy_buf.len = 0;
				break;
			}
			pg->copy_buf.len = 0;
			pg->copy_budget--;
			progress = 1;
		}
		if (pg->copy_abort || (!pg->copy_more && pg->copy_buf.len == 0))
			pg->copy = COPY_ENDING;
		if (pg->copy == COPY_ENDING) {
			copy_end(pg);
			progress = 1;
			break;
		}
		if (flush(pg) < 0)
			break;
	}
	return progress;
}

/* ---- results ---- */

static void pop_finish(struct rw_pg *pg)
{
	struct rw_pg_job *job = list_pop(&pg->fly_head, &pg->fly_tail);
	job_finish(pg, job);
}

/* The NULL (or a next result) ended the current statement's results. */
static void settle(struct rw_pg_job *job)
{
	if (job->have) {
		job->have = 0;
		job->cur++;
	}
}

static void store_result(struct rw_pg_job *job, PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_PIPELINE_ABORTED) {
		PQclear(r);
		r = NULL;
	} else if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE) {
		job_error_from_result(job, r, job->cur);
	}
	if (job->cur < job->n) {
		PQclear(job->results[job->cur]);
		job->results[job->cur] = r;
	} else {
		PQclear(r);
	}
	job->have = 1;
}

static void pipe_on_result(struct rw_pg *pg, struct rw_pg_job *job, PGresult *r)
{
	settle(job);
	if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
		PQclear(r);
		if (job->syncs > 0)
			job->syncs--;
		if (job->syncs == 0)
			pop_finish(pg);
		return;
	}
	if (job->cur >= job->n) {
		/* an error at the Sync itself: the implicit commit failed */
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE)
			job_error_from_result(job, r, job->n - 1);
		PQclear(r);
		return;
	}
	store_result(job, r);
}

static void seq_on_result(struct rw_pg *pg, struct rw_pg_job *job, PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_COPY_IN && job->phase == PH_STEPS &&
	    job->steps[job->cur]->kind == STEP_COPY) {
		PQclear(r);
		copy_start(pg);
		return;
	}
	if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
		PQclear(r);
		job_error(job, RW_PG_ERR_CLIENT, RW_EUNSUPPORTED, NULL,
			  "COPY is only supported as a COPY step (FROM STDIN)", NULL, NULL,
			  job->cur, 1);
		job->sticky = 1;
		conn_lost(pg, "unexpected COPY state; connection reset", NULL);
		return;
	}
	if (job->phase == PH_STEPS) {
		store_result(job, r);
		return;
	}
	if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE)
		job_error_from_result(job, r, job->phase == PH_BEGIN ? 0 : job->n - 1);
	PQclear(r);
	job->have = 1;
}

static void seq_on_null(struct rw_pg *pg, struct rw_pg_job *job)
{
	job->have = 0;
	switch (job->phase) {
	case PH_BEGIN: job->phase = job->failed ? PH_DONE : PH_STEPS; break;
	case PH_STEPS:
		job->cur++;
		if (job->tx && job->failed)
			job->phase = PH_END;
		else if (job->cur >= job->n)
			job->phase = job->tx ? PH_END : PH_DONE;
		break;
	case PH_END: job->phase = PH_DONE; break;
	case PH_DONE: break;
	}
	if (job->phase == PH_DONE)
		pop_finish(pg);
	else
		seq_send(pg, job);
}

/* Hands every complete result libpq has to the flying jobs. Returns 1 when
 * it consumed anything. */
static int read_results(struct rw_pg *pg)
{
	int progress = 0, nulls = 0;
	while (pg->state == S_READY && pg->fly_head &&
	       (pg->copy == COPY_NONE || pg->copy == COPY_WAITING)) {
		if (PQisBusy(pg->conn))
			break;
		struct rw_pg_job *job = pg->fly_head;
		PGresult *r = PQgetResult(pg->conn);
		if (!r) {
			if (!job->have) {
				if (++nulls >= 2)
					break;
				continue;
			}
			nulls = 0;
			progress = 1;
			if (pg->copy == COPY_WAITING)
				pg->copy = COPY_NONE;
			if (job->sequential)
				seq_on_null(pg, job);
			else
				settle(job);
			continue;
		}
		nulls = 0;
		progress = 1;
		if (is_conn_error(pg, r)) {
			char line[512];
			const char *ss = PQresultErrorField(r, PG_DIAG_SQLSTATE);
			char state[6] = "";
			if (ss)
				snprintf(state, sizeof(state), "%s", ss);
			const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
			rw_pg_message_line(line, sizeof(line), m ? m : PQresultErrorMessage(r));
			PQclear(r);
			conn_lost(pg, line, state[0] ? state : NULL);
			break;
		}
		if (job->sequential)
			seq_on_result(pg, job, r);
		else
			pipe_on_result(pg, job, r);
	}
	return progress;
}

static void deliver_notifies(struct rw_pg *pg)
{
	PGnotify *n;
	while (pg->state == S_READY && (n = PQnotifies(pg->conn)) != NULL) {
		for (struct listener *l = pg->listeners; l; l = l->next) {
			if (strcmp(l->channel, n->relname) == 0) {
				l->cb(pg, n->relname, n->extra, n->be_pid, l->arg);
				break;
			}
		}
		PQfreemem(n);
	}
}

static void drive(struct rw_pg *pg, int readable, int writable)
{
	if (pg->driving) {
		pg->redrive = 1;
		return;
	}
	pg->driving = 1;
	if (readable && !PQconsumeInput(pg->conn)) {
		pg->driving = 0;
		conn_lost(pg, PQerrorMessage(pg->conn), NULL);
		return;
	}
	if (writable && flush(pg) < 0) {
		pg->driving = 0;
		return;
	}
	pg->copy_budget = COPY_CHUNKS_PER_TURN;
	int progress;
	do {
		pg->redrive = 0;
		progress = 0;
		deliver_notifies(pg);
		if (pg->state == S_READY)
			progress |= read_results(pg);
		if (pg->state == S_READY && pg->fly_head &&
		    (pg->copy == COPY_STREAMING || pg->copy == COPY_ENDING))
			progress |= copy_pump(pg);
		if (pg->state == S_READY)
			progress |= send_pending(pg);
		if (pg->state == S_READY && flush(pg) < 0)
			break;
	} while (pg->state == S_READY && (progress || pg->redrive));
	/* A COPY with data left is woken by writability, not by the server
	 * (which waits for that data): the last flush above may have drained
	 * the socket after the pump stopped on a full one. */
	int copying = pg->fly_head && (pg->copy == COPY_STREAMING || pg->copy == COPY_ENDING);
	int out = pg->want_write || copying ? UV_WRITABLE : 0;
	if (pg->state == S_READY && watch(pg, UV_READABLE | out, 0))
		conn_lost(pg, "cannot poll the connection's socket", NULL);
	pg->driving = 0;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct rw_pg *pg = h->data;
	if (h != pg->poll)
		return;
	if (pg->state == S_CONNECTING) {
		connect_step(pg);
		return;
	}
	if (pg->state != S_READY)
		return;
	if (status < 0) {
		conn_lost(pg, uv_strerror(status), NULL);
		return;
	}
	drive(pg, (events & UV_READABLE) != 0, (events & UV_WRITABLE) != 0);
}

/* ---- public: connection ---- */

int rw_pg_open(struct rw_pg **ret, uv_loop_t *loop, const struct rw_pg_config *cfg, char *msg,
	       size_t n)
{
	const char *conninfo = rw_pg_conninfo(cfg ? cfg->conninfo : NULL);
	int rc = rw_pg_conninfo_check(conninfo, msg, n);
	if (rc < 0)
		return rc;
	struct rw_pg *pg = calloc(1, sizeof(*pg));
	if (!pg || (conninfo && !(pg->conninfo = dupstr(conninfo)))) {
		free(pg);
		if (msg && n > 0)
			snprintf(msg, n, "out of memory");
		return RW_ENOMEM;
	}
	if (cfg)
		pg->cfg = *cfg;
	pg->cfg.conninfo = NULL;
	if (!pg->cfg.backoff_min_ms)
		pg->cfg.backoff_min_ms = DEFAULT_BACKOFF_MIN;
	if (!pg->cfg.backoff_max_ms)
		pg->cfg.backoff_max_ms = DEFAULT_BACKOFF_MAX;
	if (pg->cfg.backoff_max_ms < pg->cfg.backoff_min_ms)
		pg->cfg.backoff_max_ms = pg->cfg.backoff_min_ms;
	if (!pg->cfg.connect_timeout_ms)
		pg->cfg.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT;
	if (!pg->cfg.copy_chunk)
		pg->cfg.copy_chunk = DEFAULT_COPY_CHUNK;
	pg->loop = loop;
	pg->poll_fd = -1;
	pg->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)pg ^ 0x9e3779b97f4a7c15ull;
	if (!pg->rng)
		pg->rng = 1;
	rw_buf_init(&pg->copy_buf, pg->cfg.copy_chunk + COPY_ROW_MAX);
	snprintf(pg->server, sizeof(pg->server), "%s", "(not connected yet)");
	uv_timer_init(loop, &pg->timer);
	pg->timer.data = pg;
	pg->handles = 1;
	pg->state = S_WAITING;
	arm_timer(pg, 0); /* the first attempt starts on the loop, not in here */
	*ret = pg;
	return 0;
}

void rw_pg_close(struct rw_pg *pg, void (*cb)(void *arg), void *arg)
{
	if (!pg || pg->state == S_CLOSING)
		return;
	pg->close_cb = cb;
	pg->close_arg = arg;
	drop_conn(pg);
	pg->state = S_CLOSING;
	uv_timer_stop(&pg->timer);
	uv_close((uv_handle_t *)&pg->timer, on_timer_closed);
	struct rw_pg_job *flying = pg->fly_head, *pending = pg->pend_head;
	pg->fly_head = pg->fly_tail = pg->pend_head = pg->pend_tail = NULL;
	static const char closed[] = "connection closed (rw_pg_close)";
	fail_list(pg, flying, RW_PG_ERR_CLOSED, closed, NULL);
	fail_list(pg, pending, RW_PG_ERR_CLOSED, closed, NULL);
	while (pg->preps) {
		struct prep *p = pg->preps;
		pg->preps = p->next;
		prep_free(p);
	}
	while (pg->listeners) {
		struct listener *l = pg->listeners;
		pg->listeners = l->next;
		free(l->channel);
		free(l);
	}
}

int rw_pg_is_ready(const struct rw_pg *pg)
{
	return pg && pg->state == S_READY;
}

const char *rw_pg_server(struct rw_pg *pg)
{
	return pg->server;
}

/* ---- public: jobs ---- */

static int enqueue(struct rw_pg *pg, struct rw_pg_job *job, rw_pg_reply_fn cb, void *arg)
{
	job->results = calloc(job->n, sizeof(PGresult *));
	if (!job->results)
		return RW_ENOMEM;
	job->cb = cb;
	job->arg = arg;
	list_push(&pg->pend_head, &pg->pend_tail, job);
	if (pg->state == S_READY)
		drive(pg, 0, 0);
	return 0;
}

int rw_pg_submit(struct rw_pg *pg, struct rw_pg_job *job, rw_pg_reply_fn cb, void *arg)
{
	if (!job)
		return RW_EINVAL;
	if (!pg || pg->state == S_CLOSING || job->n == 0) {
		rw_pg_job_free(job);
		return RW_EINVAL;
	}
	int rc = enqueue(pg, job, cb, arg);
	if (rc < 0)
		rw_pg_job_free(job);
	return rc;
}

int rw_pg_exec(struct rw_pg *pg, const char *sql, rw_pg_reply_fn cb, void *arg)
{
	struct rw_pg_job *job = rw_pg_job_new(0);
	if (!job)
		return RW_ENOMEM;
	int rc = rw_pg_job_sql(job, sql, 0, NULL, NULL, NULL, 0);
	if (rc < 0) {
		rw_pg_job_free(job);
		return rc;
	}
	return rw_pg_submit(pg, job, cb, arg);
}

int rw_pg_copy_binary(struct rw_pg *pg, const char *sql, rw_pg_copy_fn rows, void *rows_arg,
		      rw_pg_reply_fn cb, void *arg)
{
	struct rw_pg_job *job = rw_pg_job_new(0);
	if (!job)
		return RW_ENOMEM;
	int rc = rw_pg_job_copy(job, sql, rows, rows_arg);
	if (rc < 0) {
		rw_pg_job_free(job);
		return rc;
	}
	return rw_pg_submit(pg, job, cb, arg);
}

static struct prep *prep_new(const char *name, const char *sql, int nparams, const Oid *types)
{
	struct prep *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->name = dupstr(name);
	p->sql = dupstr(sql);
	p->nparams = nparams;
	if (types && nparams > 0 && (p->types = malloc((size_t)nparams * sizeof(Oid))) != NULL)
		memcpy(p->types, types, (size_t)nparams * sizeof(Oid));
	if (!p->name || !p->sql || (types && nparams > 0 && !p->types)) {
		prep_free(p);
		return NULL;
	}
	return p;
}

int rw_pg_prepare(struct rw_pg *pg, const char *name, const char *sql, int nparams,
		  const Oid *types, rw_pg_reply_fn cb, void *arg)
{
	if (!pg || pg->state == S_CLOSING || !name || !name[0] || !sql || nparams < 0 ||
	    nparams > RW_PG_MAX_PARAMS)
		return RW_EINVAL;
	for (struct prep *p = pg->preps; p; p = p->next)
		if (strcmp(p->name, name) == 0)
			return RW_EINVAL;
	struct prep *p = prep_new(name, sql, nparams, types);
	struct rw_pg_job *job = rw_pg_job_new(0);
	int rc = p && job ? 0 : RW_ENOMEM;
	if (rc == 0)
		rc = job_add(job,
			     step_new(STEP_PREPARE, name, sql, nparams, NULL, NULL, NULL, types),
			     0);
	if (rc < 0) {
		if (p)
			prep_free(p);
		rw_pg_job_free(job);
		return rc;
	}
	p->queued = 1;
	p->next = pg->preps;
	pg->preps = p;
	job->kind = JOB_PREP_FIRST;
	job->prep = p;
	rc = enqueue(pg, job, cb, arg);
	if (rc < 0) {
		rw_pg_job_free(job);
		prep_unregister(pg, p);
	}
	return rc;
}

/* ---- public: LISTEN ---- */

int rw_pg_listen(struct rw_pg *pg, const char *channel, rw_pg_notify_fn on_notify,
		 rw_pg_reply_fn done, void *arg)
{
	if (!pg || pg->state == S_CLOSING || !channel || !channel[0] ||
	    strlen(channel) > CHANNEL_MAX || !on_notify)
		return RW_EINVAL;
	for (struct listener *l = pg->listeners; l; l = l->next)
		if (strcmp(l->channel, channel) == 0)
			return RW_EINVAL;
	struct listener *l = calloc(1, sizeof(*l));
	struct rw_pg_job *job = listen_job("LISTEN", channel);
	if (!l || !job || !(l->channel = dupstr(channel))) {
		free(l);
		rw_pg_job_free(job);
		return RW_ENOMEM;
	}
	l->cb = on_notify;
	l->arg = arg;
	job->kind = JOB_LISTEN;
	int rc = enqueue(pg, job, done, arg);
	if (rc < 0) {
		free(l->channel);
		free(l);
		rw_pg_job_free(job);
		return rc;
	}
	l->next = pg->listeners;
	pg->listeners = l;
	return 0;
}

int rw_pg_unlisten(struct rw_pg *pg, const char *channel)
{
	if (!pg || !channel)
		return RW_ENOTFOUND;
	for (struct listener **pl = &pg->listeners; *pl; pl = &(*pl)->next) {
		struct listener *l = *pl;
		if (strcmp(l->channel, channel) != 0)
			continue;
		*pl = l->next;
		free(l->channel);
		free(l);
		struct rw_pg_job *job = listen_job("UNLISTEN", channel);
		if (job) {
			job->kind = JOB_INTERNAL;
			if (enqueue(pg, job, NULL, NULL) < 0)
				rw_pg_job_free(job);
		}
		return 0;
	}
	return RW_ENOTFOUND;
}
