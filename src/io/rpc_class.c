/* rpc_class.c: JSON-RPC error classification, revert decoding, response
 * parsing and checked hex readers. Pure: no I/O, no clocks. */
#include "rpc_class.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "hex.h"
#include "jscan.h"

/* ---------------------------------------------------------------------
 * Classes
 */

static const char *const class_names[] = {
	[RW_RPC_OK] = "ok",
	[RW_RPC_TRANSPORT] = "transport",
	[RW_RPC_TIMEOUT] = "timeout",
	[RW_RPC_RATE_LIMITED] = "rate-limited",
	[RW_RPC_RANGE_TOO_LARGE] = "range-too-large",
	[RW_RPC_REVERTED] = "reverted",
	[RW_RPC_NONCE_TOO_LOW] = "nonce-too-low",
	[RW_RPC_UNDERPRICED] = "replacement-underpriced",
	[RW_RPC_ALREADY_KNOWN] = "already-known",
	[RW_RPC_INSUFFICIENT_FUNDS] = "insufficient-funds",
	[RW_RPC_BAD_RESPONSE] = "bad-response",
	[RW_RPC_CANCELLED] = "cancelled",
	[RW_RPC_OTHER] = "other",
};

const char *rw_rpc_class_name(enum rw_rpc_class cls)
{
	if ((unsigned)cls >= sizeof(class_names) / sizeof(class_names[0]))
		return "unknown";
	return class_names[cls];
}

int rw_rpc_class_retryable(enum rw_rpc_class cls)
{
	return cls == RW_RPC_TRANSPORT || cls == RW_RPC_TIMEOUT || cls == RW_RPC_RATE_LIMITED ||
	       cls == RW_RPC_BAD_RESPONSE;
}

/* ---------------------------------------------------------------------
 * Text scanning helpers (bounded, case-insensitive)
 */

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(int c)
{
	return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'z');
}

/* Returns the offset just past the first case-insensitive occurrence of
 * needle in s[0..n), or -1. */
static long find_ci(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	if (k == 0 || k > n)
		return -1;
	for (size_t i = 0; i + k <= n; i++) {
		size_t j = 0;
		while (j < k && lower((unsigned char)s[i + j]) == lower((unsigned char)needle[j]))
			j++;
		if (j == k)
			return (long)(i + k);
	}
	return -1;
}

static size_t skip_spaces(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* Parses a decimal count at s[*pos] (a digit): "5000", "10,000",
 * "10.000", "2K", "10k". Thousands separators count only when exactly
 * three digits follow. Returns 0 and advances *pos, or -1 on overflow. */
static int parse_count(const char *s, size_t n, size_t *pos, uint64_t *ret)
{
	size_t i = *pos;
	uint64_t v = 0;
	for (;;) {
		while (i < n && is_digit(s[i])) {
			if (v > (UINT64_MAX - 9) / 10)
				return -1;
			v = v * 10 + (uint64_t)(s[i] - '0');
			i++;
		}
		if (i + 3 < n && (s[i] == ',' || s[i] == '.') && is_digit(s[i + 1]) &&
		    is_digit(s[i + 2]) && is_digit(s[i + 3]) &&
		    (i + 4 == n || !is_digit(s[i + 4]))) {
			i++;
			continue;
		}
		break;
	}
	if (i < n && (s[i] == 'k' || s[i] == 'K') && (i + 1 == n || !is_alnum(s[i + 1]))) {
		if (v > UINT64_MAX / 1000)
			return -1;
		v *= 1000;
		i++;
	}
	*pos = i;
	*ret = v;
	return 0;
}

/* Parses "0x" + 1..16 hex digits at s[*pos]. Returns 0 or -1. */
static int parse_hex_u64(const char *s, size_t n, size_t *pos, uint64_t *ret)
{
	size_t i = *pos;
	if (i + 2 >= n || s[i] != '0' || lower(s[i + 1]) != 'x')
		return -1;
	i += 2;
	uint64_t v = 0;
	size_t digits = 0;
	int d;
	while (i < n && (d = rw_hex_digit(s[i])) >= 0) {
		if (++digits > 16)
			return -1;
		v = v << 4 | (uint64_t)d;
		i++;
	}
	if (digits == 0)
		return -1;
	*pos = i;
	*ret = v;
	return 0;
}

/* ---------------------------------------------------------------------
 * Range parsers. Each reads the message from `at` (just past the match)
 * and fills r; returning without filling leaves "no suggestion".
 */

static void set_pair(struct rw_rpc_range *r, uint64_t from, uint64_t to)
{
	if (from > to)
		return;
	r->has_range = 1;
	r->from = from;
	r->to = to;
	r->max_span = to - from == UINT64_MAX ? UINT64_MAX : to - from + 1;
}

/* "[0x1, 0x2]" */
static void range_hex_pair(struct rw_rpc_range *r, const char *s, size_t n, size_t at)
{
	uint64_t a, b;
	size_t i = skip_spaces(s, n, at);
	if (i >= n || s[i] != '[')
		return;
	i = skip_spaces(s, n, i + 1);
	if (parse_hex_u64(s, n, &i, &a) < 0)
		return;
	i = skip_spaces(s, n, i);
	if (i >= n || s[i] != ',')
		return;
	i = skip_spaces(s, n, i + 1);
	if (parse_hex_u64(s, n, &i, &b) < 0)
		return;
	i = skip_spaces(s, n, i);
	if (i >= n || s[i] != ']')
		return;
	set_pair(r, a, b);
}

/* "100-200" */
static void range_dec_pair(struct rw_rpc_range *r, const char *s, size_t n, size_t at)
{
	uint64_t a = 0, b = 0;
	size_t i = skip_spaces(s, n, at), start = i;
	while (i < n && is_digit(s[i])) {
		if (a > (UINT64_MAX - 9) / 10)
			return;
		a = a * 10 + (uint64_t)(s[i++] - '0');
	}
	if (i == start || i >= n || s[i] != '-')
		return;
	start = ++i;
	while (i < n && is_digit(s[i])) {
		if (b > (UINT64_MAX - 9) / 10)
			return;
		b = b * 10 + (uint64_t)(s[i++] - '0');
	}
	if (i == start)
		return;
	set_pair(r, a, b);
}

/* The first number within a few characters after the match:
 * "limited to a 10,000 range", "maximum block range: 5000". */
static void range_span_after(struct rw_rpc_range *r, const char *s, size_t n, size_t at)
{
	size_t stop = at + 40 < n ? at + 40 : n;
	for (size_t i = at; i < stop; i++) {
		if (!is_digit(s[i]))
			continue;
		uint64_t v;
		if (parse_count(s, n, &i, &v) == 0 && v > 0)
			r->max_span = v;
		return;
	}
}

/* The last standalone number in the whole message:
 * "range 1000000 exceeds limit of 10000", "(5000 > 500)". */
static void range_span_last(struct rw_rpc_range *r, const char *s, size_t n, size_t at)
{
	(void)at;
	uint64_t last = 0;
	size_t i = 0;
	while (i < n) {
		if (!is_digit(s[i]) || (i > 0 && is_alnum(s[i - 1]))) {
			i++;
			continue;
		}
		uint64_t v;
		if (parse_count(s, n, &i, &v) < 0) {
			while (i < n && is_digit(s[i]))
				i++;
			continue;
		}
		if (i == n || !is_alnum(s[i]))
			last = v;
		while (i < n && is_alnum(s[i]))
			i++;
	}
	if (last > 0)
		r->max_span = last;
}

/* ---------------------------------------------------------------------
 * The message table. Order matters: the first match wins, so a revert
 * whose reason mentions funds stays a revert, and rows that parse a
 * suggestion come before rows of the same provider that do not.
 */

typedef void (*range_fn)(struct rw_rpc_range *r, const char *s, size_t n, size_t at);

struct class_row {
	const char *pattern; /* case-insensitive substring */
	const char *also;    /* a second substring that must occur too, or NULL */
	enum rw_rpc_class cls;
	range_fn range;     /* suggestion parser, or NULL */
	const char *source; /* who sends it (documentation only) */
};

static const struct class_row rows[] = {
	/* Reverts first: revert reasons are free text. */
	{ "execution reverted", NULL, RW_RPC_REVERTED, NULL, "geth, erigon, reth, besu, anvil" },
	{ "vm execution error", NULL, RW_RPC_REVERTED, NULL, "openethereum, nethermind" },
	{ "vm exception while processing transaction: revert", NULL, RW_RPC_REVERTED, NULL,
	  "ganache, hardhat" },

	{ "nonce too low", NULL, RW_RPC_NONCE_TOO_LOW, NULL, "geth, erigon, reth, besu, anvil" },
	{ "nonce is too low", NULL, RW_RPC_NONCE_TOO_LOW, NULL, "openethereum" },
	{ "oldnonce", NULL, RW_RPC_NONCE_TOO_LOW, NULL, "nethermind" },

	{ "replacement transaction underpriced", NULL, RW_RPC_UNDERPRICED, NULL,
	  "geth, erigon, reth, besu, anvil" },
	{ "feetoolowtocompete", NULL, RW_RPC_UNDERPRICED, NULL, "nethermind" },
	{ "replacementnotallowed", NULL, RW_RPC_UNDERPRICED, NULL, "nethermind" },
	{ "another transaction with same nonce", NULL, RW_RPC_UNDERPRICED, NULL, "openethereum" },

	{ "already known", NULL, RW_RPC_ALREADY_KNOWN, NULL, "geth, erigon, reth" },
	{ "alreadyknown", NULL, RW_RPC_ALREADY_KNOWN, NULL, "nethermind" },
	{ "known transaction", NULL, RW_RPC_ALREADY_KNOWN, NULL, "geth (old), besu" },
	{ "already imported", NULL, RW_RPC_ALREADY_KNOWN, NULL, "openethereum, anvil" },

	{ "insufficient funds", NULL, RW_RPC_INSUFFICIENT_FUNDS, NULL,
	  "geth, anvil, openethereum" },
	{ "insufficientfunds", NULL, RW_RPC_INSUFFICIENT_FUNDS, NULL, "nethermind" },
	{ "upfront cost exceeds account balance", NULL, RW_RPC_INSUFFICIENT_FUNDS, NULL, "besu" },
	{ "sender doesn't have enough funds", NULL, RW_RPC_INSUFFICIENT_FUNDS, NULL,
	  "geth (old), erigon" },

	/* eth_getLogs limits: explicit suggestions first. */
	{ "this block range should work:", NULL, RW_RPC_RANGE_TOO_LARGE, range_hex_pair,
	  "alchemy" },
	{ "try with this block range", NULL, RW_RPC_RANGE_TOO_LARGE, range_hex_pair,
	  "infura, zksync" },
	{ "retry with the range", NULL, RW_RPC_RANGE_TOO_LARGE, range_dec_pair, "reth, base" },
	{ "maximum allowed number of requested blocks is", NULL, RW_RPC_RANGE_TOO_LARGE,
	  range_span_after, "thirdweb" },
	{ "log response size exceeded", NULL, RW_RPC_RANGE_TOO_LARGE, NULL, "alchemy, thirdweb" },
	{ "query returned more than", NULL, RW_RPC_RANGE_TOO_LARGE, NULL, "infura, polygon zkevm" },
	{ "query exceeds max results", NULL, RW_RPC_RANGE_TOO_LARGE, NULL, "reth, llamarpc, ankr" },
	{ "logs matched by query exceeds limit", NULL, RW_RPC_RANGE_TOO_LARGE, NULL, "arbitrum" },
	{ "exceeds limit of", "range", RW_RPC_RANGE_TOO_LARGE, range_span_last, "infura" },
	{ "limited to", "range", RW_RPC_RANGE_TOO_LARGE, range_span_after,
	  "quicknode, 1rpc, blast, blockpi" },
	{ "block range is too wide", NULL, RW_RPC_RANGE_TOO_LARGE, range_span_after,
	  "ankr, moonbeam" },
	{ "maximum block range", NULL, RW_RPC_RANGE_TOO_LARGE, range_span_after,
	  "bsc and other geth forks, publicnode" },
	{ "max block range", NULL, RW_RPC_RANGE_TOO_LARGE, range_span_last,
	  "reth, hyperliquid, morph" },
	{ "please limit the query to at most", NULL, RW_RPC_RANGE_TOO_LARGE, range_span_after,
	  "coinbase" },
	{ "bigger than range limit", NULL, RW_RPC_RANGE_TOO_LARGE, range_span_last, "tenderly" },
	{ "bigger than maxblockrange", NULL, RW_RPC_RANGE_TOO_LARGE, NULL, "scroll" },
	{ "range is too large", NULL, RW_RPC_RANGE_TOO_LARGE, range_span_last,
	  "optimism, etherlink, merkle" },
	{ "range too large", NULL, RW_RPC_RANGE_TOO_LARGE, range_span_last, "base, sei" },
	{ "block range too high", NULL, RW_RPC_RANGE_TOO_LARGE, NULL, "candle" },
	{ "max range:", NULL, RW_RPC_RANGE_TOO_LARGE, range_span_after, "cloudflare" },
	{ "requested too many blocks", NULL, RW_RPC_RANGE_TOO_LARGE, range_span_last, "avalanche" },
	{ "block range limit exceeded", NULL, RW_RPC_RANGE_TOO_LARGE, NULL, "chainstack" },
	{ "exceeds the range allowed for your plan", NULL, RW_RPC_RANGE_TOO_LARGE, range_span_last,
	  "blastapi" },
	{ "block range greater than", NULL, RW_RPC_RANGE_TOO_LARGE, range_span_after, "swell" },
	{ "block range exceeds", NULL, RW_RPC_RANGE_TOO_LARGE, range_span_after, "somnia" },
	{ "blocks distance", NULL, RW_RPC_RANGE_TOO_LARGE, range_span_after, "ankr (tac)" },
	{ "query must be smaller than size", NULL, RW_RPC_RANGE_TOO_LARGE, range_span_after,
	  "harmony" },
	{ "response size should not greater than", NULL, RW_RPC_RANGE_TOO_LARGE, NULL, "1rpc" },
	{ "backend response too large", NULL, RW_RPC_RANGE_TOO_LARGE, NULL, "optimism" },

	/* Rate limits. */
	{ "daily request count exceeded", NULL, RW_RPC_RATE_LIMITED, NULL, "infura" },
	{ "request rate exceeded", NULL, RW_RPC_RATE_LIMITED, NULL, "infura" },
	{ "compute units per second", NULL, RW_RPC_RATE_LIMITED, NULL, "alchemy" },
	{ "too many requests", NULL, RW_RPC_RATE_LIMITED, NULL, "http 429 text, ankr, blockscout" },
	{ "rate limit", NULL, RW_RPC_RATE_LIMITED, NULL, "generic, base, cloudflare, llamarpc" },
};

#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

/* Codes used when no message row matches. */
static const struct {
	long long code;
	enum rw_rpc_class cls;
} code_rows[] = {
	{ 3, RW_RPC_REVERTED },          /* geth: execution reverted with data */
	{ 429, RW_RPC_RATE_LIMITED },    /* alchemy inside batches */
	{ -32005, RW_RPC_RATE_LIMITED }, /* EIP-1474 limit exceeded */
	{ -32016, RW_RPC_RATE_LIMITED }, /* "over rate limit" */
};

size_t rw_rpc_class_rows(void)
{
	return N_ROWS;
}

const char *rw_rpc_class_row_pattern(size_t i)
{
	return i < N_ROWS ? rows[i].pattern : NULL;
}

enum rw_rpc_class rw_rpc_class_row_class(size_t i)
{
	return i < N_ROWS ? rows[i].cls : RW_RPC_OTHER;
}

/* Returns the first row matching s[0..n) and the end of its match. */
static int match_row(const char *s, size_t n, size_t *ret_at)
{
	for (size_t i = 0; i < N_ROWS; i++) {
		long at = find_ci(s, n, rows[i].pattern);
		if (at < 0)
			continue;
		if (rows[i].also && find_ci(s, n, rows[i].also) < 0)
			continue;
		*ret_at = (size_t)at;
		return (int)i;
	}
	return -1;
}

enum rw_rpc_class rw_rpc_classify(struct rw_rpc_range *ret_range, int *ret_row, long long code,
				  const char *msg, size_t len)
{
	struct rw_rpc_range range = { 0 };
	enum rw_rpc_class cls = RW_RPC_OTHER;
	size_t at = 0;
	if (!msg)
		len = 0;
	if (len > RW_RPC_CLASSIFY_MAX)
		len = RW_RPC_CLASSIFY_MAX;
	int row = len ? match_row(msg, len, &at) : -1;
	if (row >= 0) {
		cls = rows[row].cls;
		if (rows[row].range)
			rows[row].range(&range, msg, len, at);
	} else {
		for (size_t i = 0; i < sizeof(code_rows) / sizeof(code_rows[0]); i++)
			if (code_rows[i].code == code)
				cls = code_rows[i].cls;
	}
	if (ret_range)
		*ret_range = range;
	if (ret_row)
		*ret_row = row;
	return cls;
}

/* ---------------------------------------------------------------------
 * Revert data
 */

static const uint8_t sel_error[4] = { 0x08, 0xc3, 0x79, 0xa0 };
static const uint8_t sel_panic[4] = { 0x4e, 0x48, 0x7b, 0x71 };

/* Reads a 32-byte word that must hold a value below 2^32. */
static int word_small(const uint8_t *w, size_t *ret)
{
	for (size_t i = 0; i < 28; i++)
		if (w[i])
			return -1;
	*ret = (size_t)w[28] << 24 | (size_t)w[29] << 16 | (size_t)w[30] << 8 | w[31];
	return 0;
}

/* Error(string): selector, offset word, then at the offset a length word
 * and the bytes. Returns 0 and sets the reason, or -1. */
static int decode_error_string(struct rw_rpc_revert *r, const uint8_t *body, size_t n)
{
	size_t off, len;
	if (n < 64 || word_small(body, &off) < 0)
		return -1;
	if (off > n - 32 || word_small(body + off, &len) < 0)
		return -1;
	if (len > n - off - 32)
		return -1;
	r->reason = (const char *)body + off + 32;
	r->reason_len = len;
	return 0;
}

void rw_rpc_decode_revert(struct rw_rpc_revert *ret, const uint8_t *data, size_t n)
{
	memset(ret, 0, sizeof(*ret));
	ret->data = data;
	ret->len = n;
	if (n == 0) {
		ret->kind = RW_RPC_REVERT_EMPTY;
		return;
	}
	ret->kind = RW_RPC_REVERT_RAW;
	memcpy(ret->selector, data, n < 4 ? n : 4);
	if (n < 4)
		return;
	if (memcmp(data, sel_error, 4) == 0) {
		if (decode_error_string(ret, data + 4, n - 4) == 0)
			ret->kind = RW_RPC_REVERT_ERROR;
		return;
	}
	if (memcmp(data, sel_panic, 4) == 0) {
		if (n == 36 && rw_u256_from_be(&ret->panic, data + 4, 32) == 0)
			ret->kind = RW_RPC_REVERT_PANIC;
		return;
	}
	ret->kind = RW_RPC_REVERT_CUSTOM;
}

/* ---------------------------------------------------------------------
 * Results
 */

void rw_rpc_result_init(struct rw_rpc_result *r, enum rw_rpc_class cls)
{
	memset(r, 0, sizeof(*r));
	r->cls = cls;
	r->message = "";
	rw_buf_init(&r->revert_, RW_BUF_DEFAULT_MAX);
}

void rw_rpc_result_clear(struct rw_rpc_result *r)
{
	rw_buf_free(&r->revert_);
	rw_rpc_result_init(r, RW_RPC_OTHER);
}

void rw_rpc_result_move(struct rw_rpc_result *dst, struct rw_rpc_result *src)
{
	*dst = *src;
	if (src->message >= src->detail_ && src->message < src->detail_ + sizeof(src->detail_))
		dst->message = dst->detail_ + (src->message - src->detail_);
	rw_rpc_result_init(src, RW_RPC_OTHER);
}

void rw_rpc_result_set(struct rw_rpc_result *r, enum rw_rpc_class cls, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->detail_, sizeof(r->detail_), fmt, ap);
	va_end(ap);
	r->cls = cls;
	r->message = r->detail_;
	r->result = NULL;
	r->raw = NULL;
	r->raw_len = 0;
	r->data = NULL;
	r->code = 0;
}

/* ---------------------------------------------------------------------
 * Response parsing
 */

/* Finds revert hex in error.data: a string ("0x..", or "Reverted 0x.."
 * from openethereum and nethermind) or an object whose "data" (or
 * "originalError"."data") is one. */
static const char *revert_hex(json_t *data, size_t *ret_len)
{
	if (json_is_object(data)) {
		json_t *d = json_object_get(data, "data");
		if (!json_is_string(d))
			d = json_object_get(json_object_get(data, "originalError"), "data");
		data = d;
	}
	if (!json_is_string(data))
		return NULL;
	const char *s = json_string_value(data);
	size_t n = json_string_length(data);
	if (n >= 9 && strncasecmp(s, "reverted ", 9) == 0) {
		s += 9;
		n -= 9;
	}
	*ret_len = n;
	return s;
}

static void decode_revert_into(struct rw_rpc_result *r)
{
	size_t n;
	const char *s = revert_hex(r->data, &n);
	if (!s || n < 2)
		return;
	if (rw_hex_decode_buf(&r->revert_, s, n, RW_HEX_PREFIX_REQUIRED) < 0) {
		rw_buf_free(&r->revert_);
		return;
	}
	rw_rpc_decode_revert(&r->revert, r->revert_.p, r->revert_.len);
}

/* A text that may explain an error whose message matched nothing:
 * error.data as a string, or its "message", "payload" or "details". */
static json_t *data_text(json_t *data)
{
	static const char *const keys[] = { "message", "payload", "details", "reason" };
	if (json_is_string(data))
		return data;
	for (size_t i = 0; json_is_object(data) && i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(data, keys[i]);
		if (json_is_string(v))
			return v;
	}
	return NULL;
}

/* Fills r from a checked response object (exactly one of result/error). */
static void fill_item(struct rw_rpc_result *r, json_t *o, int http_status)
{
	json_t *res = json_object_get(o, "result");
	r->http_status = http_status;
	if (res) {
		r->cls = RW_RPC_OK;
		r->result = res;
		r->message = "";
		return;
	}
	json_t *err = json_object_get(o, "error");
	json_t *msg = json_object_get(err, "message");
	r->code = json_integer_value(json_object_get(err, "code"));
	r->message = json_string_value(msg);
	r->data = json_object_get(err, "data");
	int row;
	r->cls = rw_rpc_classify(&r->range, &row, r->code, r->message, json_string_length(msg));
	if (row < 0) {
		json_t *t = data_text(r->data);
		int row2 = -1;
		enum rw_rpc_class c2 = RW_RPC_OTHER;
		if (t)
			c2 = rw_rpc_classify(&r->range, &row2, r->code, json_string_value(t),
					     json_string_length(t));
		if (row2 >= 0)
			r->cls = c2;
	}
	if (r->cls == RW_RPC_OTHER && http_status == 429)
		r->cls = RW_RPC_RATE_LIMITED;
	if (r->cls == RW_RPC_REVERTED)
		decode_revert_into(r);
}

/* Checks the shape of one response object. Returns NULL when it is well
 * formed, else why not. *ret_has_id: it carries a non-null id, in *ret_id. */
static const char *check_object(json_t *o, int *ret_has_id, uint64_t *ret_id)
{
	if (!json_is_object(o))
		return "response is not an object";
	json_t *v = json_object_get(o, "jsonrpc");
	if (!json_is_string(v) || json_string_length(v) != 3 ||
	    memcmp(json_string_value(v), "2.0", 3) != 0)
		return "missing or wrong \"jsonrpc\" (want \"2.0\")";
	json_t *res = json_object_get(o, "result"), *err = json_object_get(o, "error");
	if (res && err)
		return "response has both result and error";
	if (!res && !err)
		return "response has neither result nor error";
	if (err) {
		if (!json_is_object(err))
			return "error is not an object";
		if (!json_is_integer(json_object_get(err, "code")))
			return "error.code is not an integer";
		if (!json_is_string(json_object_get(err, "message")))
			return "error.message is not a string";
	}
	json_t *id = json_object_get(o, "id");
	if (!id || json_is_null(id)) {
		if (!err)
			return "result without id";
		*ret_has_id = 0;
		return NULL;
	}
	if (!json_is_integer(id) || json_integer_value(id) < 0)
		return "id is not a non-negative integer";
	*ret_has_id = 1;
	*ret_id = (uint64_t)json_integer_value(id);
	return NULL;
}

static void set_all(struct rw_rpc_result *out, size_t n, enum rw_rpc_class cls, int http_status,
		    const char *text)
{
	for (size_t i = 0; i < n; i++) {
		rw_rpc_result_clear(&out[i]);
		rw_rpc_result_set(&out[i], cls, "%s", text);
		out[i].http_status = http_status;
	}
}

static void fill_all(struct rw_rpc_result *out, size_t n, json_t *o, int http_status)
{
	for (size_t i = 0; i < n; i++)
		fill_item(&out[i], o, http_status);
}

static int parse_single(struct rw_rpc_result *out, json_t *root, uint64_t id, int http_status)
{
	int has_id = 0;
	uint64_t got = 0;
	char text[128];
	const char *why = check_object(root, &has_id, &got);
	if (why) {
		snprintf(text, sizeof(text), "malformed response: %s", why);
		set_all(out, 1, RW_RPC_BAD_RESPONSE, http_status, text);
		return RW_EINVAL;
	}
	if (has_id && got != id) {
		snprintf(text, sizeof(text),
			 "malformed response: id mismatch (sent %llu, got %llu)",
			 (unsigned long long)id, (unsigned long long)got);
		set_all(out, 1, RW_RPC_BAD_RESPONSE, http_status, text);
		return RW_EINVAL;
	}
	fill_item(&out[0], root, http_status);
	return 0;
}

struct id_slot {
	uint64_t id;
	size_t idx;
};

static int cmp_slot(const void *a, const void *b)
{
	const struct id_slot *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static struct id_slot *find_slot(struct id_slot *slots, size_t n, uint64_t id)
{
	struct id_slot key = { id, 0 };
	return bsearch(&key, slots, n, sizeof(*slots), cmp_slot);
}

/* Matches every element of a batch to its request. Returns NULL, or why
 * the batch is malformed (with *ret_id the id concerned). */
static const char *match_batch(json_t **matched, struct id_slot *slots, const uint64_t *ids,
			       size_t n, json_t *root, unsigned long long *ret_id)
{
	for (size_t i = 0; i < n; i++) {
		slots[i].id = ids[i];
		slots[i].idx = i;
	}
	qsort(slots, n, sizeof(*slots), cmp_slot);
	size_t k;
	json_t *o;
	json_array_foreach(root, k, o)
	{
		int has_id = 0;
		uint64_t id = 0;
		const char *why = check_object(o, &has_id, &id);
		if (why)
			return why;
		if (!has_id)
			return "batch element without id";
		struct id_slot *s = find_slot(slots, n, id);
		*ret_id = id;
		if (!s)
			return "batch answers an id never sent";
		if (matched[s->idx])
			return "batch answers an id twice";
		matched[s->idx] = o;
	}
	for (size_t i = 0; i < n; i++) {
		if (!matched[i]) {
			*ret_id = ids[i];
			return "batch has no answer for an id";
		}
	}
	return NULL;
}

static int parse_batch(struct rw_rpc_result *out, json_t *root, const uint64_t *ids, size_t n,
		       int http_status)
{
	int has_id = 0;
	uint64_t id = 0;
	if (json_is_object(root) && !check_object(root, &has_id, &id) && !has_id) {
		fill_all(out, n, root, http_status); /* a refusal of the whole batch */
		return 0;
	}
	if (!json_is_array(root)) {
		set_all(out, n, RW_RPC_BAD_RESPONSE, http_status,
			"malformed response: batch answer is not an array");
		return RW_EINVAL;
	}
	json_t **matched = calloc(n, sizeof(*matched));
	struct id_slot *slots = malloc(n * sizeof(*slots));
	if (!matched || !slots) {
		free(matched);
		free(slots);
		set_all(out, n, RW_RPC_TRANSPORT, http_status, "out of memory");
		return RW_ENOMEM;
	}
	unsigned long long bad = 0;
	const char *why = match_batch(matched, slots, ids, n, root, &bad);
	if (why) {
		char text[128];
		snprintf(text, sizeof(text), "malformed response: %s (id %llu)", why, bad);
		set_all(out, n, RW_RPC_BAD_RESPONSE, http_status, text);
	} else {
		for (size_t i = 0; i < n; i++)
			fill_item(&out[i], matched[i], http_status);
	}
	free(matched);
	free(slots);
	return why ? RW_EINVAL : 0;
}

/* Copies up to max printable bytes of a body for an error message. */
static void snippet(char *out, size_t max, const char *body, size_t len)
{
	size_t k = 0;
	for (size_t i = 0; i < len && k + 1 < max; i++) {
		unsigned char c = (unsigned char)body[i];
		out[k++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
	}
	out[k] = '\0';
}

static void http_failure(struct rw_rpc_result *out, size_t n, int status, const char *body,
			 size_t len)
{
	char text[64];
	snippet(text, sizeof(text), body, len);
	enum rw_rpc_class cls = RW_RPC_TRANSPORT;
	if (status == 429)
		cls = RW_RPC_RATE_LIMITED;
	else if (status == 408 || status == 504)
		cls = RW_RPC_TIMEOUT;
	for (size_t i = 0; i < n; i++) {
		rw_rpc_result_clear(&out[i]);
		rw_rpc_result_set(&out[i], cls, "HTTP %d%s%s", status, text[0] ? ": " : "", text);
		out[i].http_status = status;
	}
}

int rw_rpc_parse_response(json_t **ret_root, struct rw_rpc_result *out, const uint64_t *ids,
			  size_t n, int batch, const char *body, size_t len, int http_status)
{
	if (n == 0 || (!batch && n != 1))
		return RW_EINVAL;
	*ret_root = NULL;
	for (size_t i = 0; i < n; i++)
		rw_rpc_result_init(&out[i], RW_RPC_BAD_RESPONSE);
	int http_ok = http_status == 0 || (http_status >= 200 && http_status < 300);
	json_error_t jerr;
	json_t *root = len ? json_loadb(body ? body : "", len,
					JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr)
			   : NULL;
	if (!root) {
		if (!http_ok) {
			http_failure(out, n, http_status, body, len);
			return 0;
		}
		char text[64] = "malformed response: empty body";
		if (len)
			snprintf(text, sizeof(text), "malformed response: not JSON (byte %llu)",
				 (unsigned long long)jerr.position);
		set_all(out, n, RW_RPC_BAD_RESPONSE, http_status, text);
		return RW_EINVAL;
	}
	int r = batch ? parse_batch(out, root, ids, n, http_status)
		      : parse_single(out, root, ids[0], http_status);
	if (r == RW_EINVAL && !http_ok) {
		json_decref(root);
		http_failure(out, n, http_status, body, len);
		return 0;
	}
	if (r < 0) {
		json_decref(root);
		return r;
	}
	*ret_root = root;
	return 0;
}

/* ---------------------------------------------------------------------
 * Raw mode: results left as text
 */

/* Where one result value lies in the body. */
struct raw_span {
	size_t off, len;
};

/* The body as a skeleton: every byte copied but the value of each "result"
 * member of a response object (the top object, or an object element of the
 * top array), replaced by its index in spans[]; each replaced value
 * checked by jscan. */
struct skel {
	struct rw_jscan s;
	const char *body;
	struct rw_buf out;
	size_t copied; /* body bytes up to here are in out */
	struct raw_span *spans;
	size_t n, cap;
	int loose; /* results only delimited, not checked */
};

/* Copies the body up to the scanner's position. */
static int skel_copy(struct skel *k)
{
	size_t at = rw_jscan_offset(&k->s);
	int r = rw_buf_append(&k->out, k->body + k->copied, at - k->copied);
	k->copied = at;
	return r;
}

/* Replaces the value that comes next by its span's index. */
static int skel_result(struct skel *k)
{
	if (rw_jscan_peek(&k->s) == RW_J_NONE && k->s.err)
		return k->s.err;
	int r = skel_copy(k);
	const char *p;
	size_t n;
	if (r == 0)
		r = k->loose ? rw_jscan_skip_loose(&k->s, &p, &n) : rw_jscan_skip(&k->s, &p, &n);
	if (r < 0)
		return r;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 8;
		struct raw_span *v = realloc(k->spans, cap * sizeof(*v));
		if (!v)
			return RW_ENOMEM;
		k->spans = v;
		k->cap = cap;
	}
	k->spans[k->n].off = (size_t)(p - k->body);
	k->spans[k->n].len = n;
	char idx[24];
	int w = snprintf(idx, sizeof(idx), "%zu", k->n++);
	k->copied = rw_jscan_offset(&k->s);
	return rw_buf_append(&k->out, idx, (size_t)w);
}

/* One element of the top level: a response object has its results
 * replaced; anything else is checked and copied as it is. */
static int skel_element(struct skel *k)
{
	if (rw_jscan_peek(&k->s) != RW_J_OBJECT)
		return rw_jscan_skip(&k->s, NULL, NULL);
	int r = rw_jscan_enter(&k->s, RW_J_OBJECT);
	const char *key;
	size_t kn;
	while (r == 0 && (r = rw_jscan_next(&k->s, &key, &kn)) == 1) {
		if (kn == 6 && memcmp(key, "result", 6) == 0)
			r = skel_result(k);
		else
			r = rw_jscan_skip(&k->s, NULL, NULL);
	}
	return r;
}

static int skel_build(struct skel *k, const char *body, size_t len, int loose)
{
	memset(k, 0, sizeof(*k));
	k->body = body;
	k->loose = loose;
	rw_jscan_init(&k->s, body, len);
	rw_buf_init(&k->out, 2 * len + 64); /* an index may be longer than its value */
	int r;
	if (rw_jscan_peek(&k->s) == RW_J_ARRAY) {
		r = rw_jscan_enter(&k->s, RW_J_ARRAY);
		while (r == 0 && (r = rw_jscan_next(&k->s, NULL, NULL)) == 1)
			r = skel_element(k);
	} else {
		r = skel_element(k);
	}
	if (r == 0)
		r = rw_jscan_end(&k->s);
	if (r == 0)
		r = rw_buf_append(&k->out, body + k->copied, len - k->copied);
	return r;
}

static void skel_free(struct skel *k)
{
	free(k->spans);
	rw_buf_release(&k->out);
}

static int parse_raw(json_t **ret_root, struct rw_rpc_result *out, const uint64_t *ids, size_t n,
		     int batch, const char *body, size_t len, int http_status, int loose)
{
	if (n == 0 || (!batch && n != 1))
		return RW_EINVAL;
	*ret_root = NULL;
	int http_ok = http_status == 0 || (http_status >= 200 && http_status < 300);
	if (!http_ok) {
		/* an error status: parsed whole (small), unless it carries results */
		int r = rw_rpc_parse_response(ret_root, out, ids, n, batch, body, len, http_status);
		int ok = 0;
		for (size_t i = 0; i < n; i++)
			ok |= out[i].cls == RW_RPC_OK;
		if (!ok)
			return r;
		for (size_t i = 0; i < n; i++)
			rw_rpc_result_clear(&out[i]);
		json_decref(*ret_root);
		*ret_root = NULL;
	}
	struct skel k;
	int r = len ? skel_build(&k, body ? body : "", len, loose) : RW_EINVAL;
	if (r == RW_ENOMEM || r == RW_ETOOBIG) {
		skel_free(&k);
		for (size_t i = 0; i < n; i++)
			rw_rpc_result_init(&out[i], RW_RPC_BAD_RESPONSE);
		set_all(out, n, RW_RPC_TRANSPORT, http_status, "out of memory");
		return RW_ENOMEM;
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			rw_rpc_result_init(&out[i], RW_RPC_BAD_RESPONSE);
		if (!http_ok) {
			if (len)
				skel_free(&k);
			http_failure(out, n, http_status, body, len);
			return 0;
		}
		char text[128] = "malformed response: empty body";
		if (len) {
			snprintf(text, sizeof(text), "malformed response: not JSON (byte %zu: %s)",
				 k.s.err_at, k.s.why ? k.s.why : "?");
			skel_free(&k);
		}
		set_all(out, n, RW_RPC_BAD_RESPONSE, http_status, text);
		return RW_EINVAL;
	}
	r = rw_rpc_parse_response(ret_root, out, ids, n, batch, (const char *)k.out.p, k.out.len,
				  http_status);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (out[i].cls != RW_RPC_OK)
			continue;
		json_int_t x = json_integer_value(out[i].result);
		if (!json_is_integer(out[i].result) || x < 0 || (size_t)x >= k.n)
			abort(); /* every result was replaced by its index */
		out[i].raw = body + k.spans[x].off;
		out[i].raw_len = k.spans[x].len;
		out[i].result = NULL;
	}
	skel_free(&k);
	return r;
}

int rw_rpc_parse_raw(json_t **ret_root, struct rw_rpc_result *out, const uint64_t *ids, size_t n,
		     int batch, const char *body, size_t len, int http_status)
{
	return parse_raw(ret_root, out, ids, n, batch, body, len, http_status, 0);
}

int rw_rpc_parse_delimited(json_t **ret_root, struct rw_rpc_result *out, const uint64_t *ids,
			   size_t n, int batch, const char *body, size_t len, int http_status)
{
	return parse_raw(ret_root, out, ids, n, batch, body, len, http_status, 1);
}

/* ---------------------------------------------------------------------
 * Checked readers
 */

int rw_rpc_get_quantity_u64(uint64_t *ret, const json_t *v)
{
	if (!json_is_string(v))
		return RW_EINVAL;
	return rw_hex_quantity_u64(ret, json_string_value(v), json_string_length(v));
}

int rw_rpc_get_u256(rw_u256 *ret, const json_t *v)
{
	if (!json_is_string(v))
		return RW_EINVAL;
	return rw_u256_parse_quantity(ret, json_string_value(v), json_string_length(v));
}

int rw_rpc_get_hex_bytes(struct rw_buf *out, const json_t *v)
{
	if (!json_is_string(v))
		return RW_EINVAL;
	return rw_hex_decode_buf(out, json_string_value(v), json_string_length(v),
				 RW_HEX_PREFIX_REQUIRED);
}

static int get_fixed(uint8_t *out, size_t n, const json_t *v)
{
	if (!json_is_string(v))
		return RW_EINVAL;
	int r = rw_hex_decode_fixed(out, n, json_string_value(v), json_string_length(v),
				    RW_HEX_PREFIX_REQUIRED);
	return r < 0 ? RW_EINVAL : 0;
}

int rw_rpc_get_data32(uint8_t out[32], const json_t *v)
{
	return get_fixed(out, 32, v);
}

int rw_rpc_get_address(uint8_t out[20], const json_t *v)
{
	return get_fixed(out, 20, v);
}
