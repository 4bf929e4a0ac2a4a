/* pg.h: PostgreSQL client on the libuv loop: non-blocking libpq, pipeline
 * mode, prepared statements, binary COPY, LISTEN/NOTIFY, reconnect.
 *
 * Design
 * - One struct rw_pg is one connection bound to one uv_loop_t. It connects
 *   with PQconnectStartParams (the connection string may be a URL or
 *   key=value list; NULL means libpq's PG* variables) and drives
 *   PQconnectPoll from a uv_poll_t, re-reading PQsocket after every step
 *   (libpq may switch sockets while trying hosts). When connected it is
 *   non-blocking and in pipeline mode.
 * - Work is a queue of jobs. A job is a list of statements (SQL text with
 *   text or binary parameters, or a prepared statement) and one callback
 *   that receives every PGresult, or one error. Jobs run in submission
 *   order; several jobs are in the pipeline at once.
 *     - A batch job (default) ends each statement with a Sync: every
 *       statement is its own transaction and fails on its own.
 *     - A transaction job (RW_PG_TX) ends with one Sync: PostgreSQL runs
 *       the whole job as one implicit transaction, so the callback sees all
 *       or nothing. (No BEGIN/COMMIT is sent: in a pipeline, an error after
 *       an explicit BEGIN would leave the session in an aborted block.)
 *     - A job with a COPY step cannot be pipelined (libpq forbids COPY in
 *       pipeline mode): it waits for the pipeline to drain, leaves pipeline
 *       mode and runs its steps one by one (BEGIN ... COMMIT, or ROLLBACK
 *       on error, for a transaction job), then pipelining resumes.
 *   uint256 values are numeric(78,0): pass and read them as decimal text
 *   (or the binary numeric encoder below), never as a double.
 * - COPY ... FROM STDIN (FORMAT binary) is streamed: a row producer fills
 *   a chunk (1 MiB by default) that goes out with PQputCopyData; the next
 *   chunk is produced only when the socket has taken the last one, so
 *   memory stays bounded whatever the row count. After a few chunks the
 *   COPY yields to the loop, so other handles are not starved.
 * - TCP keepalives default to 30 s idle, 10 s interval, 3 probes, so a
 *   server that vanishes is noticed; the connection string may override.
 * - LISTEN: rw_pg_listen registers a channel; notifications are delivered
 *   as PQnotifies yields them. Channels are LISTENed again after a
 *   reconnect (notifications sent while disconnected are lost).
 * - Reconnect: when the connection is lost, every job already sent to the
 *   server fails once with RW_PG_ERR_LOST. Such a job's effects are all or
 *   nothing (a transaction job's commit may or may not have happened when
 *   the loss came after it was sent; its owner retries the whole
 *   transaction, which must therefore be idempotent by its keys). Jobs not
 *   yet sent stay queued. Then it reconnects with jittered exponential
 *   backoff (100 ms doubling to 10 s), prepares the registered statements
 *   again, LISTENs again and resumes the queue.
 * - Every callback runs on the loop thread. A submitted job's callback is
 *   called exactly once: with its results, a server error, LOST, CONNECT
 *   (fail_when_down) or CLOSED (rw_pg_close). A function that returns an
 *   error never calls the callback.
 * - Handles are freed only in their close callbacks: rw_pg_close(pg, cb)
 *   fails what is left, closes the handles and calls cb when the memory is
 *   gone; after it the loop has nothing of pg left (uv_loop_close == 0).
 * - Errors carry the SQLSTATE and the server's primary message, detail and
 *   hint. Connection errors name host:port, never the password.
 */
#ifndef RW_PG_H
#define RW_PG_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <uv.h>

#include "buf.h"
#include "u256.h"

struct rw_pg;
struct rw_pg_job;

/* ---- connection strings ---- */

/* Returns the connection string to use: conninfo when it is non-NULL and
 * not empty, else $RUNWAY_DATABASE_URL when set and not empty, else NULL,
 * which tells libpq to use its PG* variables and defaults. Borrowed. */
const char *rw_pg_conninfo(const char *conninfo);

/* Returns 0 when conninfo (a URL or key=value list; NULL is fine) parses,
 * else RW_EINVAL with a message in msg (n bytes) that quotes nothing from
 * the string, so no password can leak into it. */
int rw_pg_conninfo_check(const char *conninfo, char *msg, size_t n);

/* Copies a libpq message into out (n bytes) on one line: its trailing
 * newline is dropped and inner newlines become "; ". */
void rw_pg_message_line(char *out, size_t n, const char *msg);

/* ---- errors and replies ---- */

enum rw_pg_errkind {
	RW_PG_ERR_SERVER = 1, /* a statement failed: sqlstate, message, detail, hint */
	RW_PG_ERR_LOST,       /* the connection was lost after the job was sent */
	RW_PG_ERR_CONNECT,    /* cannot connect (fail_when_down) */
	RW_PG_ERR_CLOSED,     /* rw_pg_close was called before the job finished */
	RW_PG_ERR_CLIENT      /* refused before the server saw it (libpq, COPY producer) */
};

struct rw_pg_error {
	enum rw_pg_errkind kind;
	int code;            /* RW_EIO for SERVER/LOST/CONNECT/CLOSED; else the RW_E* cause */
	char sqlstate[6];    /* five characters for SERVER (and some LOST), else "" */
	const char *message; /* primary message, one line; never NULL */
	const char *detail;  /* or NULL */
	const char *hint;    /* or NULL */
	size_t statement;    /* SERVER: index of the statement that failed */
};

/* What a job's callback receives. results[i] belongs to statement i (in
 * the order they were added): NULL when it did not run (skipped after an
 * earlier error in a transaction job, or the job failed as a whole).
 * results[] and error live until the callback returns; to keep a PGresult,
 * take it with rw_pg_reply_take. */
struct rw_pg_reply {
	const struct rw_pg_error *error; /* NULL when every statement succeeded */
	size_t n;                        /* statements in the job */
	PGresult *const *results;
};

typedef void (*rw_pg_reply_fn)(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg);

/* Returns results[i] and removes it from the reply, so it survives the
 * callback; the caller then owns it (PQclear). Returns NULL when i is out
 * of range or there is no result. Call only inside the callback. */
PGresult *rw_pg_reply_take(const struct rw_pg_reply *reply, size_t i);

/* ---- the connection ---- */

enum rw_pg_event {
	RW_PG_EV_CONNECTED,      /* ready; err NULL */
	RW_PG_EV_CONNECT_FAILED, /* an attempt failed; err says why; a retry follows */
	RW_PG_EV_LOST,           /* the connection was lost; a reconnect follows */
	RW_PG_EV_PREPARE_FAILED, /* re-preparing a statement after reconnect failed */
	RW_PG_EV_NOTICE          /* a server notice or warning; err->message holds it */
};

typedef void (*rw_pg_event_fn)(struct rw_pg *pg, enum rw_pg_event ev, const struct rw_pg_error *err,
			       void *arg);

struct rw_pg_config {
	const char *conninfo;        /* URL or key=value; NULL: RUNWAY_DATABASE_URL, else PG* */
	unsigned backoff_min_ms;     /* first reconnect delay; 0 means 100 */
	unsigned backoff_max_ms;     /* ceiling; 0 means 10000 */
	unsigned connect_timeout_ms; /* one attempt; 0 means 10000 */
	size_t copy_chunk;           /* COPY chunk size; 0 means 1 MiB */
	int fail_when_down;          /* when an attempt fails, fail queued jobs (CONNECT) */
	rw_pg_event_fn on_event;     /* optional */
	void *arg;                   /* for on_event */
};

/* Creates a connection on loop and starts connecting. Returns 0 and stores
 * it in *ret, RW_EINVAL when the connection string does not parse (msg
 * says why, quoting nothing from it), or RW_ENOMEM. The config is copied.
 *   msg, n: optional buffer for the failure message */
int rw_pg_open(struct rw_pg **ret, uv_loop_t *loop, const struct rw_pg_config *cfg, char *msg,
	       size_t n);

/* Fails every queued and in-flight job with RW_PG_ERR_CLOSED, closes the
 * connection and the handles, frees pg and then calls cb(arg) (cb may be
 * NULL). May be called from any callback of pg; pg must not be used after.
 * Calling it twice is a no-op. */
void rw_pg_close(struct rw_pg *pg, void (*cb)(void *arg), void *arg);

/* Returns 1 when the connection is up and ready, else 0. */
int rw_pg_is_ready(const struct rw_pg *pg);

/* Returns "host:port" of the server (static buffer in pg, valid until the
 * next call). */
const char *rw_pg_server(struct rw_pg *pg);

/* ---- jobs ---- */

#define RW_PG_TX 1 /* rw_pg_job_new flag: run the job as one transaction */

/* Limits: statements per job and parameters per statement. */
#define RW_PG_JOB_MAX_STATEMENTS 100000
#define RW_PG_MAX_PARAMS         65535

/* Returns a new empty job (flags: 0 or RW_PG_TX) or NULL when out of
 * memory. Free it with rw_pg_job_free unless it is submitted. */
struct rw_pg_job *rw_pg_job_new(int flags);

/* Frees a job that was not submitted. Accepts NULL. */
void rw_pg_job_free(struct rw_pg_job *job);

/* Adds one SQL statement with n parameters. Returns 0, RW_EINVAL (n too
 * large, a NULL sql, too many statements) or RW_ENOMEM. The job copies
 * everything it is given.
 *   sql:           one statement ($1..$n placeholders)
 *   values:        n parameter values; values[i] NULL is SQL NULL
 *   lengths:       byte lengths of binary values (NULL: all text)
 *   formats:       0 text, 1 binary per value (NULL: all text)
 *   result_format: 0 text, 1 binary */
int rw_pg_job_sql(struct rw_pg_job *job, const char *sql, int n, const char *const *values,
		  const int *lengths, const int *formats, int result_format);

/* Like rw_pg_job_sql for a statement prepared with rw_pg_prepare. */
int rw_pg_job_prepared(struct rw_pg_job *job, const char *name, int n, const char *const *values,
		       const int *lengths, const int *formats, int result_format);

/* A COPY row producer: appends one or more whole rows to out (use the
 * rw_pg_copy_* encoders; no header or trailer, the job writes those).
 * Returns 1 when more rows follow, 0 when it wrote its last rows, or a
 * negative RW_E* code to abort the COPY (the job fails with CLIENT and
 * that code; nothing of the COPY is kept). It is called again only when
 * out holds less than the chunk size. */
typedef int (*rw_pg_copy_fn)(struct rw_buf *out, void *arg);

/* Adds a COPY ... FROM STDIN (FORMAT binary) step fed by rows(out, arg)
 * (arg must live until the job's callback). The job then runs outside the
 * pipeline (see the design). Returns 0, RW_EINVAL or RW_ENOMEM. */
int rw_pg_job_copy(struct rw_pg_job *job, const char *sql, rw_pg_copy_fn rows, void *arg);

/* Adds a COPY step whose rows are already encoded in data (len bytes,
 * without header or trailer; borrowed until the job's callback). */
int rw_pg_job_copy_data(struct rw_pg_job *job, const char *sql, const void *data, size_t len);

/* Queues job (which pg then owns) and calls cb(pg, reply, arg) once when
 * it finishes. Returns 0, or RW_EINVAL (an empty job, or pg is closing:
 * the job is freed, cb is not called). */
int rw_pg_submit(struct rw_pg *pg, struct rw_pg_job *job, rw_pg_reply_fn cb, void *arg);

/* Convenience: submits one statement without parameters. Same returns as
 * rw_pg_submit, plus RW_ENOMEM. */
int rw_pg_exec(struct rw_pg *pg, const char *sql, rw_pg_reply_fn cb, void *arg);

/* Convenience: submits a job with one binary COPY step fed by rows. */
int rw_pg_copy_binary(struct rw_pg *pg, const char *sql, rw_pg_copy_fn rows, void *rows_arg,
		      rw_pg_reply_fn cb, void *arg);

/* Registers the prepared statement name (sql with nparams parameters;
 * types may be NULL to let the server infer them) and queues its
 * preparation; cb (optional) gets the result of this first preparation.
 * It is prepared again after every reconnect, before any queued job.
 * A failed first preparation unregisters it. Returns 0, RW_EINVAL (name
 * already registered, bad arguments, pg closing) or RW_ENOMEM. */
int rw_pg_prepare(struct rw_pg *pg, const char *name, const char *sql, int nparams,
		  const Oid *types, rw_pg_reply_fn cb, void *arg);

/* ---- LISTEN/NOTIFY ---- */

/* Called for each notification on a listened channel. channel and payload
 * live until the callback returns. */
typedef void (*rw_pg_notify_fn)(struct rw_pg *pg, const char *channel, const char *payload,
				int be_pid, void *arg);

/* LISTENs on channel (any name; it is quoted as an identifier) and calls
 * on_notify(..., arg) for each notification, also after reconnects. done
 * (optional) gets the result of the first LISTEN, so the caller knows
 * when notifications will arrive. Returns 0, RW_EINVAL (already listening,
 * empty channel, pg closing) or RW_ENOMEM. */
int rw_pg_listen(struct rw_pg *pg, const char *channel, rw_pg_notify_fn on_notify,
		 rw_pg_reply_fn done, void *arg);

/* Stops listening on channel (queues UNLISTEN). Returns 0 or
 * RW_ENOTFOUND. */
int rw_pg_unlisten(struct rw_pg *pg, const char *channel);

/* ---- binary COPY encoding (pure, no I/O) ----
 * Each appends to b and returns 0, RW_ETOOBIG or RW_ENOMEM (the buffer may
 * then hold a partial row: abort the COPY); the value encoders also return
 * RW_EINVAL/RW_ERANGE for values they cannot encode. */

/* The 19-byte file header and the 2-byte trailer (the COPY job writes
 * both itself; these are for building a file, e.g. for psql \copy). */
int rw_pg_copy_header(struct rw_buf *b);
int rw_pg_copy_trailer(struct rw_buf *b);

/* Starts a row of nfields fields (nfields <= 1600). */
int rw_pg_copy_row(struct rw_buf *b, unsigned nfields);

int rw_pg_copy_null(struct rw_buf *b);
int rw_pg_copy_bool(struct rw_buf *b, int v);
int rw_pg_copy_int2(struct rw_buf *b, int16_t v);
int rw_pg_copy_int4(struct rw_buf *b, int32_t v);
int rw_pg_copy_int8(struct rw_buf *b, int64_t v);
/* bytea: n raw bytes (n < 2^30). */
int rw_pg_copy_bytea(struct rw_buf *b, const void *p, size_t n);
/* text/varchar: n bytes of UTF-8 without NUL bytes (n < 2^30). */
int rw_pg_copy_text(struct rw_buf *b, const char *s, size_t n);
/* timestamptz: microseconds since 1970-01-01 UTC. */
int rw_pg_copy_timestamptz(struct rw_buf *b, int64_t unix_us);
/* numeric from decimal text: an optional '-', digits, optionally '.' and
 * digits ("0", "-12.50", "115792...935"), at most 1000 digits in all.
 * RW_EINVAL for anything else. The display scale is the number of
 * fractional digits given. */
int rw_pg_copy_numeric(struct rw_buf *b, const char *s, size_t n);
/* numeric from a uint256. */
int rw_pg_copy_numeric_u256(struct rw_buf *b, const rw_u256 *v);

/* Longest decimal text rw_pg_numeric_decode writes, with its NUL. */
#define RW_PG_NUMERIC_TEXT_MAX 1100

/* Encodes decimal text as the binary numeric value (what numeric_send
 * produces: ndigits, weight, sign, dscale, base-10000 digits), without the
 * COPY field length. Returns the number of bytes written to out (at most
 * 8 + 2 * 252), RW_EINVAL or RW_ERANGE. */
int rw_pg_numeric_encode(uint8_t *out, size_t cap, const char *s, size_t n);

/* Decodes a binary numeric value (n bytes) into decimal text with its
 * display scale. Returns the text length, RW_EINVAL (malformed, NaN or
 * infinity) or RW_ETOOBIG (out too small).
 *   out: at least RW_PG_NUMERIC_TEXT_MAX chars for any value encoded above */
int rw_pg_numeric_decode(char *out, size_t cap, const uint8_t *p, size_t n);

#endif
