/* relayq.h: what `runway intents` (cmd_intents.c) and `runway tx
 * list|show|bump|cancel` (cmd_txqueue.c) share: the database connection,
 * queries that return one JSON document built in SQL, error reporting with
 * the right exit code, tables, ages and fees in words, and waiting for an
 * operator's request to be carried out.
 *
 * Every rule lives in SQL (migrations/0010_relayer.sql, 0023_relayer_steer
 * .sql): these commands call the same functions a web console would and
 * print what they return. */
#ifndef RW_RELAYQ_H
#define RW_RELAYQ_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cli.h"
#include "pgsync.h"
#include "rwconfig.h"

/* A command's connection. */
struct rw_relayq {
	struct rw_cli *cli;
	struct rw_config *cfg; /* --config, when given */
	struct rw_pgsync db;
	int db_open;
};

/* Loads --config when given and connects (--database-url,
 * $RUNWAY_DATABASE_URL, the configuration's database_url, libpq's PG*).
 * Returns 0, or RW_EXIT_FAIL after the message. Call rw_relayq_close in
 * either case. */
int rw_relayq_open(struct rw_relayq *q, struct rw_cli *cli);

/* Closes the connection and frees the configuration. */
void rw_relayq_close(struct rw_relayq *q);

/* Prints a failed statement (message, detail, hint) and returns its exit
 * code: RW_EXIT_USAGE for a malformed or ambiguous argument (22023), else
 * RW_EXIT_FAIL. */
int rw_relayq_fail(struct rw_relayq *q, const struct rw_pgsync_err *e);

/* Runs a statement returning one row of one column of JSON text and parses
 * it. The statement is the concatenation of sql's pieces (NULL-terminated:
 * long queries are built of fragments, each under C's 4095-byte literal
 * limit). Returns 0 with *ret the value (NULL when there was no row or a
 * SQL NULL), or an exit code after the message.
 * Out: ret (json_decref it). */
int rw_relayq_json(json_t **ret, struct rw_relayq *q, const char *const *sql, int n,
		   const char *const *params);

/* Runs a statement for its effect or its first cell. Returns 0 with a
 * malloc'd copy of row 0, column 0 in *ret (NULL when none; ret may be
 * NULL), or an exit code after the message. */
int rw_relayq_exec(char **ret, struct rw_relayq *q, const char *sql, int n,
		   const char *const *params);

/* Resolves --chain ID|NAME to the decimal chain id the database knows.
 * Returns 0, or an exit code after the message (an unknown chain names the
 * known ones). Out: out (24 bytes). */
int rw_relayq_chain(char out[24], struct rw_relayq *q, const char *arg);

/* Prints j on standard output, indented. Returns RW_EXIT_OK, or
 * RW_EXIT_FAIL when standard output fails. */
int rw_relayq_print_json(const json_t *j);

/* Rewrites every 0x-hex address of j (values of keys "signer" and "target",
 * at any depth) in its EIP-55 form. */
void rw_relayq_checksum(json_t *j);

/* The string at key of object o; "" when it is missing or not a string. */
const char *rw_relayq_str(const json_t *o, const char *key);

/* Writes an age in seconds as a short text ("45s", "12m", "3h", "2d"). */
const char *rw_relayq_age(char *out, size_t n, json_int_t seconds);

/* Writes wei (decimal text) in gwei, exactly, without trailing zeros
 * ("1500000000" -> "1.5 gwei", "7" -> "0.000000007 gwei"). */
const char *rw_relayq_gwei(char *out, size_t n, const char *wei);

/* Writes the fee fields of a transaction object (type, gas_price or
 * max_fee_per_gas and max_priority_fee_per_gas) in words ("max fee 3
 * gwei, tip 1 gwei", "gas price 2 gwei"). */
const char *rw_relayq_fees(char *out, size_t n, const json_t *tx);

/* ---- SQL fragments the queries share ---- */

/* A timestamp column as ISO 8601 UTC text (NULL stays NULL). */
#define RW_RELAYQ_TS(x) "to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

// clang-format off

/* The fields of one attempt t (relayer_tx) with its receipt r
 * (relayer_receipt, left joined), as json_build_object arguments. Fees and
 * amounts are decimal text (uint256). */
#define RW_RELAYQ_ATTEMPT_FIELDS \
	"'id', t.id, 'nonce', t.nonce, 'attempt', t.attempt, 'kind', t.kind, " \
	"'state', t.state, 'type', t.type, 'gas_price', t.gas_price::text, " \
	"'max_fee_per_gas', t.max_fee_per_gas::text, " \
	"'max_priority_fee_per_gas', t.max_priority_fee_per_gas::text, " \
	"'gas_limit', t.gas_limit, 'hash', rw_hex(t.hash), 'broadcasts', t.broadcasts, " \
	"'sent_at', " RW_RELAYQ_TS("t.sent_at") ", 'sent_block', t.sent_block, " \
	"'last_sent_at', " RW_RELAYQ_TS("t.last_sent_at") ", " \
	"'last_error_class', t.last_error_class, 'last_error', t.last_error, " \
	"'created_at', " RW_RELAYQ_TS("t.created_at") ", " \
	"'block_number', r.block_number, 'block_hash', rw_hex(r.block_hash), " \
	"'status', r.status, 'gas_used', r.gas_used, " \
	"'effective_gas_price', r.effective_gas_price::text, " \
	"'fee_paid', (r.gas_used * r.effective_gas_price)::text, " \
	"'confirmed', r.confirmed, 'final', r.final"

/* The fields of one request q (relayer_request) with its intent i2, the
 * attempt current when it was filed f and its replacement n, as
 * json_build_object arguments; RW_RELAYQ_REQUEST_FROM joins them. */
#define RW_RELAYQ_REQUEST_FIELDS \
	"'id', q.id, 'kind', q.kind, 'state', q.state, 'chain_id', q.chain_id, " \
	"'signer', rw_hex(q.signer), 'nonce', q.nonce, 'intent', i2.key, " \
	"'intent_state', i2.state, 'from_tx', rw_hex(f.hash), " \
	"'tx', CASE WHEN n.id IS NULL THEN NULL ELSE json_build_object(" \
	"'hash', rw_hex(n.hash), 'attempt', n.attempt, 'kind', n.kind, " \
	"'state', n.state, 'type', n.type, 'gas_price', n.gas_price::text, " \
	"'max_fee_per_gas', n.max_fee_per_gas::text, " \
	"'max_priority_fee_per_gas', n.max_priority_fee_per_gas::text) END, " \
	"'reason', q.reason, 'note', q.note, 'requested_by', q.requested_by, " \
	"'created_at', " RW_RELAYQ_TS("q.created_at") ", " \
	"'done_at', " RW_RELAYQ_TS("q.done_at")
#define RW_RELAYQ_REQUEST_FROM \
	"FROM relayer_request q LEFT JOIN relayer_intent i2 ON i2.id = q.intent_id " \
	"LEFT JOIN relayer_tx f ON f.id = q.from_tx_id " \
	"LEFT JOIN relayer_tx n ON n.id = q.tx_id "

/* One event e (relayer_event) as a JSON object; times with milliseconds. */
#define RW_RELAYQ_EVENT_JSON \
	"json_build_object('id', e.id, 'at', to_char(e.at AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), 'kind', e.kind, 'level', e.level, " \
	"'nonce', e.nonce, 'message', e.message)"

// clang-format on

/* ---- printing ---- */

/* Prints one attempt (RW_RELAYQ_ATTEMPT_FIELDS) on two or three indented
 * lines: state, kind, nonce, fees, gas, hash; broadcasts and the last
 * error; the receipt. */
void rw_relayq_print_attempt(const json_t *a);

/* Prints operators' requests (objects of RW_RELAYQ_REQUEST_FIELDS), one
 * indented line each. */
void rw_relayq_print_requests(const json_t *reqs);

/* Prints events (RW_RELAYQ_EVENT_JSON), one indented line each. */
void rw_relayq_print_events(const json_t *events);

/* A table printed in aligned columns (two spaces apart; the last column is
 * not padded). Cells are copied. At most RW_RELAYQ_COLS columns. */
#define RW_RELAYQ_COLS 12
struct rw_relayq_table {
	size_t cols;
	size_t rows;
	char **cells; /* rows * cols */
	size_t width[RW_RELAYQ_COLS];
	int oom;
};

/* Starts a table with a header row of cols cells. */
void rw_relayq_table_init(struct rw_relayq_table *t, size_t cols, const char *const *header);

/* Adds a row of t->cols cells (NULL prints as "-"). */
void rw_relayq_table_row(struct rw_relayq_table *t, const char *const *cells);

/* Prints the table and frees it. Returns RW_EXIT_OK, or RW_EXIT_FAIL after
 * a message when memory ran out. */
int rw_relayq_table_print(struct rw_relayq_table *t, const struct rw_cli *cli);

/* Listens on channel (a plain identifier). Returns 0 or an exit code after
 * the message. */
int rw_relayq_listen(struct rw_relayq *q, const char *channel);

/* Waits up to ms milliseconds for a notification on a channel listened to
 * (and consumes them all). Returns 0 (notified or timed out) or an exit
 * code after the message when the connection broke. */
int rw_relayq_wait_notify(struct rw_relayq *q, int ms);

/* Milliseconds of a monotonic clock. */
uint64_t rw_relayq_now_ms(void);

#endif
