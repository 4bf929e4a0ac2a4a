/* rpc_class.h: the pure half of the JSON-RPC client. No I/O, no clocks.
 *
 * - Error classification: a JSON-RPC error (code, message) becomes one
 *   value of enum rw_rpc_class that callers switch on. The provider
 *   messages live in one table (rpc_class.c), tried in order; the first
 *   row whose pattern occurs in the message (case-insensitive) wins; a
 *   row may also parse the block range the provider suggests. Codes are
 *   a fallback when no row matches.
 * - Revert data: Error(string), Panic(uint256) and custom errors decoded
 *   by hand with bounds checks.
 * - Response parsing: one HTTP body becomes n struct rw_rpc_result, after
 *   checking that it is a JSON-RPC 2.0 response to exactly those ids.
 *   A malformed body is a result of class RW_RPC_BAD_RESPONSE, never a
 *   crash.
 * - Checked readers for the hex fields of results.
 */
#ifndef RW_RPC_CLASS_H
#define RW_RPC_CLASS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "u256.h"

/* What happened to one request. Callers switch on this. */
enum rw_rpc_class {
	RW_RPC_OK = 0,             /* result holds the answer */
	RW_RPC_TRANSPORT,          /* connection failed, HTTP error, body over the ceiling */
	RW_RPC_TIMEOUT,            /* no complete answer within the timeout */
	RW_RPC_RATE_LIMITED,       /* HTTP 429 or a provider rate-limit error */
	RW_RPC_RANGE_TOO_LARGE,    /* eth_getLogs range or result too large; see range */
	RW_RPC_REVERTED,           /* execution reverted; see revert */
	RW_RPC_NONCE_TOO_LOW,      /* nonce already used */
	RW_RPC_UNDERPRICED,        /* replacement transaction underpriced */
	RW_RPC_ALREADY_KNOWN,      /* the node already has this transaction */
	RW_RPC_INSUFFICIENT_FUNDS, /* sender cannot pay gas * price + value */
	RW_RPC_BAD_RESPONSE, /* the endpoint answered something that is not a valid response */
	RW_RPC_CANCELLED,    /* the client was closed before an answer */
	RW_RPC_OTHER         /* any other JSON-RPC error */
};

/* Returns a short static name for a class ("rate-limited"); never NULL. */
const char *rw_rpc_class_name(enum rw_rpc_class cls);

/* Returns 1 when a request that ended with cls may be sent again to
 * another endpoint (transport, timeout, rate-limited, bad response),
 * else 0. */
int rw_rpc_class_retryable(enum rw_rpc_class cls);

/* The block range a provider suggests in a range-too-large error.
 * has_range: the message named an exact range [from, to] (inclusive).
 * max_span: the most blocks per request the message allows (to - from + 1
 * when has_range), 0 when the message gives no number. */
struct rw_rpc_range {
	int has_range;
	uint64_t from;
	uint64_t to;
	uint64_t max_span;
};

/* Messages longer than this are classified by their first bytes only. */
#define RW_RPC_CLASSIFY_MAX 4096

/* Classifies a JSON-RPC error. Returns the class: the first table row
 * whose pattern occurs in msg (case-insensitive), else a class from the
 * code (3: reverted; 429, -32005, -32016: rate-limited), else
 * RW_RPC_OTHER. Never fails.
 * Out: ret_range (may be NULL): zeroed, then filled by the row's range
 *      parser; ret_row (may be NULL): the table row that matched, or -1.
 * In: code: error.code; msg, len: error.message (need not be
 *     NUL-terminated; only the first RW_RPC_CLASSIFY_MAX bytes count). */
enum rw_rpc_class rw_rpc_classify(struct rw_rpc_range *ret_range, int *ret_row, long long code,
				  const char *msg, size_t len);

/* Returns the number of rows in the message table. */
size_t rw_rpc_class_rows(void);

/* Returns the pattern of table row i (i < rw_rpc_class_rows()), or NULL. */
const char *rw_rpc_class_row_pattern(size_t i);

/* Returns the class of table row i, or RW_RPC_OTHER when out of range. */
enum rw_rpc_class rw_rpc_class_row_class(size_t i);

/* What a revert carried. */
enum rw_rpc_revert_kind {
	RW_RPC_REVERT_NONE = 0, /* no revert data in the error */
	RW_RPC_REVERT_EMPTY,    /* "0x": revert() with no reason */
	RW_RPC_REVERT_ERROR,    /* Error(string): reason, reason_len */
	RW_RPC_REVERT_PANIC,  /* Panic(uint256): panic (0x11 overflow, 0x12 division by zero...) */
	RW_RPC_REVERT_CUSTOM, /* a custom error: selector, then data + 4 .. data + len */
	RW_RPC_REVERT_RAW     /* 1..3 bytes, or an Error/Panic payload that does not decode */
};

/* A decoded revert. Pointers point into the decoded data (whose owner is
 * stated where the struct is filled); reason is not NUL-terminated. */
struct rw_rpc_revert {
	enum rw_rpc_revert_kind kind;
	uint8_t selector[4];
	const char *reason;
	size_t reason_len;
	rw_u256 panic;
	const uint8_t *data;
	size_t len;
};

/* Decodes revert data. Never fails: data that is not Error(string) or
 * Panic(uint256) is CUSTOM (>= 4 bytes) or RAW. ret->data = data.
 * Out: ret: pointers into data, valid as long as data is.
 * In: data, n: the revert bytes (data may be NULL when n == 0). */
void rw_rpc_decode_revert(struct rw_rpc_revert *ret, const uint8_t *data, size_t n);

/* The outcome of one request, as the client's callback sees it.
 * Everything borrowed is valid during the callback only. */
struct rw_rpc_result {
	enum rw_rpc_class cls;
	json_t *result;  /* RW_RPC_OK: the "result" member (may be JSON null); else NULL */
	const char *raw; /* RW_RPC_OK in raw mode: the result's JSON text, checked; result NULL */
	size_t raw_len;  /* its length in bytes (not NUL-terminated) */
	long long code;  /* JSON-RPC error.code; 0 when no JSON-RPC error object */
	const char *message; /* never NULL; "" for RW_RPC_OK */
	json_t *data;        /* error.data or NULL */
	struct rw_rpc_revert revert;
	struct rw_rpc_range range;
	int http_status;       /* 0 when no HTTP status was received */
	const char *endpoint;  /* URL of the endpoint that answered, or NULL */
	unsigned attempts;     /* HTTP requests made for this request */
	uint64_t body_size;    /* a body refused as too large: its announced size, 0: unknown */
	char detail_[192];     /* private: storage for messages made here */
	struct rw_buf revert_; /* private: decoded revert bytes */
};

/* Initialises r as an empty result of class cls with message "". */
void rw_rpc_result_init(struct rw_rpc_result *r, enum rw_rpc_class cls);

/* Frees what r owns (revert bytes) and re-initialises it as RW_RPC_OTHER.
 * Accepts a result that was only initialised. */
void rw_rpc_result_clear(struct rw_rpc_result *r);

/* Moves src into dst (dst must be cleared or initialised): message and
 * revert pointers that pointed into src now point into dst; src is left
 * initialised and owns nothing. */
void rw_rpc_result_move(struct rw_rpc_result *dst, struct rw_rpc_result *src);

/* Sets r to class cls with a formatted message kept in r. */
void rw_rpc_result_set(struct rw_rpc_result *r, enum rw_rpc_class cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Parses and checks one HTTP response body for n requests.
 *
 * Checks: the body is JSON; a single response (batch == 0, n == 1) is an
 * object, a batch an array; every response has "jsonrpc": "2.0", an
 * integer id, exactly one of result/error; error.code is an integer and
 * error.message a string; in a batch every id of ids is answered exactly
 * once, in any order, and nothing else is. A lone error object with a
 * null or absent id (what proxies send when they refuse a request) is
 * the answer to every request. A non-2xx http_status whose body is not a
 * JSON-RPC error becomes RW_RPC_RATE_LIMITED (429), RW_RPC_TIMEOUT (408,
 * 504) or RW_RPC_TRANSPORT.
 *
 * Returns 0 when out[] was filled from a valid response (items may still
 * carry JSON-RPC errors) or from a non-2xx status; RW_EINVAL when the
 * body is malformed: then every out[i] is RW_RPC_BAD_RESPONSE with a
 * message saying why; RW_ENOMEM (every out[i] is RW_RPC_TRANSPORT).
 * n == 0, or n != 1 without batch, is RW_EINVAL with out untouched.
 * Out: ret_root: the parsed document that out[] borrows from (json_decref
 *      it after use), or NULL; out: n results, initialised here (call
 *      rw_rpc_result_clear on each after use); endpoint and attempts are
 *      left NULL and 0.
 * In: ids: the n request ids, distinct; batch: nonzero when the request
 *     was a JSON array; body, len: the body (need not be NUL-terminated);
 *     http_status: the HTTP status, or 0 when unknown. */
int rw_rpc_parse_response(json_t **ret_root, struct rw_rpc_result *out, const uint64_t *ids,
			  size_t n, int batch, const char *body, size_t len, int http_status);

/* rw_rpc_parse_response for raw mode: the same checks, outcomes and
 * messages, but no tree is built for results. The body is scanned with
 * jscan (codec/jscan.h): every "result" value of a response object is
 * checked as JSON and left in the body, and the rest (the envelope:
 * jsonrpc, id, error) is parsed by jansson as rw_rpc_parse_response does.
 * An RW_RPC_OK result then has raw and raw_len pointing into body, and
 * result NULL: body must outlive out. A malformed body's message says at
 * which byte and why ("malformed response: not JSON (byte 812: unterminated
 * string)"). A non-2xx body without results is parsed whole, as by
 * rw_rpc_parse_response. Nesting deeper than RW_JSCAN_MAX_DEPTH inside a
 * result is malformed here. Same returns and out contract as
 * rw_rpc_parse_response. */
int rw_rpc_parse_raw(json_t **ret_root, struct rw_rpc_result *out, const uint64_t *ids, size_t n,
		     int batch, const char *body, size_t len, int http_status);

/* rw_rpc_parse_raw, but result values are only delimited (jscan's
 * rw_jscan_skip_loose: strings to their closing quote, containers to their
 * matching bracket), not checked: for a caller that reads every result
 * with a checking scanner anyway (the indexer's eth_getLogs), which then
 * meets any malformed text itself. The envelope is checked as always. */
int rw_rpc_parse_delimited(json_t **ret_root, struct rw_rpc_result *out, const uint64_t *ids,
			   size_t n, int batch, const char *body, size_t len, int http_status);

/* Checked readers for hex fields of results. v may be NULL (a missing
 * member): that is RW_EINVAL. Outputs are untouched on failure. */

/* Reads a QUANTITY ("0x0", "0x1a", no leading zeros) that fits 64 bits.
 * Returns 0, RW_EINVAL (not a string, malformed) or RW_ERANGE. */
int rw_rpc_get_quantity_u64(uint64_t *ret, const json_t *v);

/* Reads a QUANTITY of up to 256 bits. Returns 0, RW_EINVAL or RW_ERANGE. */
int rw_rpc_get_u256(rw_u256 *ret, const json_t *v);

/* Appends the bytes of DATA ("0x" + an even number of hex digits) to out.
 * Returns the number of bytes appended, RW_EINVAL, RW_ETOOBIG or
 * RW_ENOMEM. */
int rw_rpc_get_hex_bytes(struct rw_buf *out, const json_t *v);

/* Reads DATA of exactly 32 bytes (a hash, a word). Returns 0 or RW_EINVAL
 * (wrong length included). */
int rw_rpc_get_data32(uint8_t out[32], const json_t *v);

/* Reads DATA of exactly 20 bytes (an address; any letter case). Returns 0
 * or RW_EINVAL. */
int rw_rpc_get_address(uint8_t out[20], const json_t *v);

#endif
