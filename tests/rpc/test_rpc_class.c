/* test_rpc_class.c: the pure half of the JSON-RPC client: every row of
 * the message table against a real provider message, suggested ranges,
 * revert decoding, response validation and the checked hex readers. */
#include "../unit/testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jscan.h"
#include "rpc_class.h"

/* One provider message and what it must classify as. span is max_span;
 * from/to count only when has_range. */
struct msg_case {
	const char *who;
	long long code;
	const char *msg;
	enum rw_rpc_class cls;
	int has_range;
	uint64_t from, to, span;
};

static const struct msg_case cases[] = {
	/* reverts */
	{ "geth", 3, "execution reverted: boom", RW_RPC_REVERTED, 0, 0, 0, 0 },
	{ "besu", -32000, "Execution reverted", RW_RPC_REVERTED, 0, 0, 0, 0 },
	{ "geth, reason mentions funds", 3, "execution reverted: insufficient funds",
	  RW_RPC_REVERTED, 0, 0, 0, 0 },
	{ "openethereum", -32015, "VM execution error.", RW_RPC_REVERTED, 0, 0, 0, 0 },
	{ "hardhat", -32603,
	  "VM Exception while processing transaction: reverted with reason string 'nope'",
	  RW_RPC_REVERTED, 0, 0, 0, 0 },
	{ "ganache", -32000, "VM Exception while processing transaction: revert", RW_RPC_REVERTED,
	  0, 0, 0, 0 },

	/* nonces */
	{ "geth", -32000, "nonce too low", RW_RPC_NONCE_TOO_LOW, 0, 0, 0, 0 },
	{ "geth (estimate)", -32000,
	  "err: nonce too low: address 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266, tx: 1 state: 2 "
	  "(supplied gas 21000)",
	  RW_RPC_NONCE_TOO_LOW, 0, 0, 0, 0 },
	{ "anvil", -32003, "nonce too low", RW_RPC_NONCE_TOO_LOW, 0, 0, 0, 0 },
	{ "besu", -32000, "Nonce too low", RW_RPC_NONCE_TOO_LOW, 0, 0, 0, 0 },
	{ "openethereum", -32010, "Transaction nonce is too low. Try incrementing the nonce.",
	  RW_RPC_NONCE_TOO_LOW, 0, 0, 0, 0 },
	{ "nethermind", -32010, "OldNonce, Current nonce: 5, nonce of rejected tx: 3",
	  RW_RPC_NONCE_TOO_LOW, 0, 0, 0, 0 },
	{ "geth nonce too high is not too low", -32000, "nonce too high", RW_RPC_OTHER, 0, 0, 0,
	  0 },

	/* replacements */
	{ "geth", -32000, "replacement transaction underpriced", RW_RPC_UNDERPRICED, 0, 0, 0, 0 },
	{ "besu", -32000, "Replacement transaction underpriced", RW_RPC_UNDERPRICED, 0, 0, 0, 0 },
	{ "nethermind", -32010, "FeeTooLowToCompete", RW_RPC_UNDERPRICED, 0, 0, 0, 0 },
	{ "nethermind", -32010, "ReplacementNotAllowed", RW_RPC_UNDERPRICED, 0, 0, 0, 0 },
	{ "openethereum", -32010,
	  "Transaction gas price is too low. There is another transaction with same nonce in the "
	  "queue. Try increasing the gas price or incrementing the nonce.",
	  RW_RPC_UNDERPRICED, 0, 0, 0, 0 },
	{ "geth underpriced (not a replacement)", -32000, "transaction underpriced", RW_RPC_OTHER,
	  0, 0, 0, 0 },

	/* already known */
	{ "geth", -32000, "already known", RW_RPC_ALREADY_KNOWN, 0, 0, 0, 0 },
	{ "nethermind", -32010, "AlreadyKnown", RW_RPC_ALREADY_KNOWN, 0, 0, 0, 0 },
	{ "geth (old)", -32000,
	  "known transaction: 0x6d8ae58e3d5d8e0ac3aa6c1d0ebdc7eb4bd4d4f2b5a16af0a1b8d4a4f1d37c2e",
	  RW_RPC_ALREADY_KNOWN, 0, 0, 0, 0 },
	{ "besu", -32000, "Known transaction", RW_RPC_ALREADY_KNOWN, 0, 0, 0, 0 },
	{ "openethereum", -32010, "Transaction with the same hash was already imported.",
	  RW_RPC_ALREADY_KNOWN, 0, 0, 0, 0 },

	/* funds */
	{ "geth", -32000, "insufficient funds for gas * price + value", RW_RPC_INSUFFICIENT_FUNDS,
	  0, 0, 0, 0 },
	{ "anvil", -32003, "Insufficient funds for gas * price + value", RW_RPC_INSUFFICIENT_FUNDS,
	  0, 0, 0, 0 },
	{ "nethermind", -32010,
	  "InsufficientFunds, Account balance: 3020000000000000000, cumulative cost: "
	  "5809177184380485770",
	  RW_RPC_INSUFFICIENT_FUNDS, 0, 0, 0, 0 },
	{ "besu", -32004, "Upfront cost exceeds account balance", RW_RPC_INSUFFICIENT_FUNDS, 0, 0,
	  0, 0 },
	{ "erigon", -32000, "sender doesn't have enough funds to send tx",
	  RW_RPC_INSUFFICIENT_FUNDS, 0, 0, 0, 0 },

	/* eth_getLogs limits */
	{ "alchemy", -32602,
	  "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block "
	  "range and no limit on the response size, or you can request any block range with a cap "
	  "of 10K logs in the response. Based on your parameters and the response size limit, "
	  "this block range should work: [0x0, 0xd043b8]",
	  RW_RPC_RANGE_TOO_LARGE, 1, 0, 0xd043b8, 0xd043b9 },
	{ "alchemy", -32600,
	  "You can make eth_getLogs requests with up to a 500 block range. Based on your "
	  "parameters, this block range should work: [0x1a30dfd, 0x1a30ff0]",
	  RW_RPC_RANGE_TOO_LARGE, 1, 0x1a30dfd, 0x1a30ff0, 500 },
	{ "infura", -32005,
	  "query returned more than 10000 results. Try with this block range [0xBDE5F8, "
	  "0x102DBCC].",
	  RW_RPC_RANGE_TOO_LARGE, 1, 0xbde5f8, 0x102dbcc, 0x102dbcc - 0xbde5f8 + 1 },
	{ "reth", -32602, "query exceeds max results 20000, retry with the range 25766988-25775072",
	  RW_RPC_RANGE_TOO_LARGE, 1, 25766988, 25775072, 25775072 - 25766988 + 1 },
	{ "thirdweb", -32005,
	  "Log response size exceeded. Maximum allowed number of requested blocks is 112",
	  RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 112 },
	{ "alchemy (no hint)", -32602, "Log response size exceeded.", RW_RPC_RANGE_TOO_LARGE, 0, 0,
	  0, 0 },
	{ "infura (no hint)", -32005, "query returned more than 10000 results",
	  RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 0 },
	{ "llamarpc", -32602, "query exceeds max results 20000", RW_RPC_RANGE_TOO_LARGE, 0, 0, 0,
	  0 },
	{ "arbitrum", -32000, "logs matched by query exceeds limit of 10000",
	  RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 0 },
	{ "infura (range)", -32602, "range 1000000 exceeds limit of 10000", RW_RPC_RANGE_TOO_LARGE,
	  0, 0, 0, 10000 },
	{ "quicknode", -32614, "eth_getLogs is limited to a 10,000 range", RW_RPC_RANGE_TOO_LARGE,
	  0, 0, 0, 10000 },
	{ "quicknode", -32614, "eth_getLogs and eth_newFilter are limited to a 10,000 blocks range",
	  RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 10000 },
	{ "blockpi", -32000, "eth_getLogs is limited to 1024 block range", RW_RPC_RANGE_TOO_LARGE,
	  0, 0, 0, 1024 },
	{ "ankr", -32600, "block range is too wide", RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 0 },
	{ "moonbeam", -32603, "block range is too wide (maximum 1024)", RW_RPC_RANGE_TOO_LARGE, 0,
	  0, 0, 1024 },
	{ "bsc", -32000, "exceed maximum block range: 5000", RW_RPC_RANGE_TOO_LARGE, 0, 0, 0,
	  5000 },
	{ "publicnode", -32701, "maximum block range: 50000", RW_RPC_RANGE_TOO_LARGE, 0, 0, 0,
	  50000 },
	{ "reth", -32602, "query exceeds max block range 5000", RW_RPC_RANGE_TOO_LARGE, 0, 0, 0,
	  5000 },
	{ "morph", -32000,
	  "block range is larger than max block range, block range = 5120, max block range = 5000",
	  RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 5000 },
	{ "coinbase", -32614, "please limit the query to at most 1000 blocks",
	  RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 1000 },
	{ "tenderly", -32602, "range 9009594 is bigger than range limit 2000",
	  RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 2000 },
	{ "scroll", -32000, "block range is bigger than maxBlockRange", RW_RPC_RANGE_TOO_LARGE, 0,
	  0, 0, 0 },
	{ "optimism", -32000, "Block range is too large", RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 0 },
	{ "merkle", -32000, "eth_getLogs range is too large, max is 10k blocks",
	  RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 10000 },
	{ "base", -32000, "block range too large", RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 0 },
	{ "sei", -32000, "block range too large (2001), maximum allowed is 2000 blocks",
	  RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 2000 },
	{ "candle", -32600, "block range too high", RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 0 },
	{ "cloudflare", -32047, "Max range: 3500", RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 3500 },
	{ "avalanche", -32000,
	  "requested too many blocks from 0 to 16777216, maximum is set to 2048",
	  RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 2048 },
	{ "chainstack", -32000, "Block range limit exceeded.", RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 0 },
	{ "blastapi", -32000, "eth_getLogs exceeds the range allowed for your plan (5000 > 500).",
	  RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 500 },
	{ "swell", -32000, "block range greater than 10000 max", RW_RPC_RANGE_TOO_LARGE, 0, 0, 0,
	  10000 },
	{ "somnia", -32000, "block range exceeds 1000", RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 1000 },
	{ "ankr (tac)", -32600, "maximum [from, to] blocks distance: 100000",
	  RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 100000 },
	{ "harmony", -32000, "query must be smaller than size 1024", RW_RPC_RANGE_TOO_LARGE, 0, 0,
	  0, 1024 },
	{ "1rpc", -32000, "response size should not greater than 10000000 bytes",
	  RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 0 },
	{ "optimism", -32000, "backend response too large", RW_RPC_RANGE_TOO_LARGE, 0, 0, 0, 0 },

	/* rate limits */
	{ "infura", -32005, "daily request count exceeded, request rate limited",
	  RW_RPC_RATE_LIMITED, 0, 0, 0, 0 },
	{ "infura", -32005, "project ID request rate exceeded", RW_RPC_RATE_LIMITED, 0, 0, 0, 0 },
	{ "alchemy", 429,
	  "Your app has exceeded its compute units per second capacity. If you have retries "
	  "enabled, you can safely ignore this message. If not, check out "
	  "https://docs.alchemy.com/reference/throughput",
	  RW_RPC_RATE_LIMITED, 0, 0, 0, 0 },
	{ "blockscout", -32000, "Too many requests. Increase limits now at dev.blockscout.com",
	  RW_RPC_RATE_LIMITED, 0, 0, 0, 0 },
	{ "base proxy", -32000,
	  "429 Too Many Requests: {\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32016,\"message\":"
	  "\"over rate limit\"},\"id\":2239375}",
	  RW_RPC_RATE_LIMITED, 0, 0, 0, 0 },
	{ "base", -32016, "over rate limit", RW_RPC_RATE_LIMITED, 0, 0, 0, 0 },
	{ "generic", -32000, "rate limit exceeded", RW_RPC_RATE_LIMITED, 0, 0, 0, 0 },

	/* codes when no message matches */
	{ "code 3", 3, "", RW_RPC_REVERTED, 0, 0, 0, 0 },
	{ "code -32005", -32005, "limit exceeded", RW_RPC_RATE_LIMITED, 0, 0, 0, 0 },
	{ "code 429", 429, "slow down", RW_RPC_RATE_LIMITED, 0, 0, 0, 0 },
	{ "other", -32000, "header not found", RW_RPC_OTHER, 0, 0, 0, 0 },
	{ "other", -32601, "the method eth_foo does not exist/is not available", RW_RPC_OTHER, 0, 0,
	  0, 0 },
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* Every case classifies as expected, and every table row is exercised by
 * at least one real message. */
static void table_rows(void **state)
{
	(void)state;
	size_t nrows = rw_rpc_class_rows();
	int *hit = calloc(nrows, sizeof(int));
	assert_non_null(hit);
	for (size_t i = 0; i < N_CASES; i++) {
		const struct msg_case *c = &cases[i];
		struct rw_rpc_range r;
		int row;
		enum rw_rpc_class cls = rw_rpc_classify(&r, &row, c->code, c->msg, strlen(c->msg));
		if (cls != c->cls || r.has_range != c->has_range || r.max_span != c->span ||
		    (c->has_range && (r.from != c->from || r.to != c->to)))
			fail_msg("%s: \"%s\": got %s range %d [%llu, %llu] span %llu; want %s "
				 "range %d [%llu, %llu] span %llu",
				 c->who, c->msg, rw_rpc_class_name(cls), r.has_range,
				 (unsigned long long)r.from, (unsigned long long)r.to,
				 (unsigned long long)r.max_span, rw_rpc_class_name(c->cls),
				 c->has_range, (unsigned long long)c->from,
				 (unsigned long long)c->to, (unsigned long long)c->span);
		if (row >= 0) {
			assert_true((size_t)row < nrows);
			assert_int_equal(rw_rpc_class_row_class((size_t)row), cls);
			hit[row]++;
		}
	}
	for (size_t i = 0; i < nrows; i++)
		if (!hit[i])
			fail_msg("table row %zu \"%s\" has no test message", i,
				 rw_rpc_class_row_pattern(i));
	free(hit);
	assert_null(rw_rpc_class_row_pattern(nrows));
	assert_int_equal(rw_rpc_class_row_class(nrows), RW_RPC_OTHER);
}

static void classify_edges(void **state)
{
	(void)state;
	struct rw_rpc_range r;
	int row;
	/* Not NUL-terminated, and only the given length counts. */
	const char text[] = "nonce too lowXXXX";
	assert_int_equal(rw_rpc_classify(&r, &row, 0, text, 13), RW_RPC_NONCE_TOO_LOW);
	assert_int_equal(rw_rpc_classify(&r, &row, 0, text, 12), RW_RPC_OTHER);
	assert_int_equal(row, -1);
	assert_int_equal(rw_rpc_classify(NULL, NULL, 0, NULL, 5), RW_RPC_OTHER);
	/* Malformed suggestions give no range. */
	const char *bad[] = {
		"Try with this block range [0x10, 0x1]",                /* reversed */
		"Try with this block range [0x10 0x20]",                /* no comma */
		"Try with this block range [0x, 0x20]",                 /* no digits */
		"Try with this block range [0x10, 0x20",                /* unterminated */
		"Try with this block range (0x10, 0x20)",               /* wrong brackets */
		"Try with this block range [0x11111111111111111, 0x2]", /* > 64 bits */
		"retry with the range 200-100",
		"retry with the range -100",
		"retry with the range 99999999999999999999-1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rw_rpc_classify(&r, NULL, 0, bad[i], strlen(bad[i])),
				 RW_RPC_RANGE_TOO_LARGE);
		assert_int_equal(r.has_range, 0);
	}
	/* Separators and suffixes. */
	const char *m = "eth_getLogs is limited to a 1.000 range";
	rw_rpc_classify(&r, NULL, 0, m, strlen(m));
	assert_int_equal(r.max_span, 1000);
	m = "eth_getLogs is limited to a 10,00 range";
	rw_rpc_classify(&r, NULL, 0, m, strlen(m));
	assert_int_equal(r.max_span, 10);
	m = "range too large, retry in 10m0s";
	rw_rpc_classify(&r, NULL, 0, m, strlen(m));
	assert_int_equal(r.max_span, 0);
	/* A full 64-bit suggested range does not overflow the span. */
	m = "Try with this block range [0x0, 0xffffffffffffffff]";
	rw_rpc_classify(&r, NULL, 0, m, strlen(m));
	assert_int_equal(r.has_range, 1);
	assert_true(r.max_span == UINT64_MAX);
	/* Only the first RW_RPC_CLASSIFY_MAX bytes are searched. */
	size_t big = RW_RPC_CLASSIFY_MAX + 100;
	char *s = malloc(big);
	assert_non_null(s);
	memset(s, 'a', big);
	memcpy(s + RW_RPC_CLASSIFY_MAX + 10, "nonce too low", 13);
	assert_int_equal(rw_rpc_classify(&r, NULL, 0, s, big), RW_RPC_OTHER);
	memcpy(s + 10, "already known", 13);
	assert_int_equal(rw_rpc_classify(&r, NULL, 0, s, big), RW_RPC_ALREADY_KNOWN);
	free(s);
	assert_string_equal(rw_rpc_class_name(RW_RPC_RATE_LIMITED), "rate-limited");
	assert_string_equal(rw_rpc_class_name((enum rw_rpc_class)99), "unknown");
	assert_true(rw_rpc_class_retryable(RW_RPC_TIMEOUT));
	assert_false(rw_rpc_class_retryable(RW_RPC_REVERTED));
	assert_false(rw_rpc_class_retryable(RW_RPC_NONCE_TOO_LOW));
}

/* ---- reverts ---- */

static void revert_error_string(void **state)
{
	(void)state;
	size_t n;
	uint8_t *d = tl_unhex("08c379a0"
			      "0000000000000000000000000000000000000000000000000000000000000020"
			      "0000000000000000000000000000000000000000000000000000000000000004"
			      "626f6f6d00000000000000000000000000000000000000000000000000000000",
			      &n);
	struct rw_rpc_revert r;
	rw_rpc_decode_revert(&r, d, n);
	assert_int_equal(r.kind, RW_RPC_REVERT_ERROR);
	assert_int_equal(r.reason_len, 4);
	assert_memory_equal(r.reason, "boom", 4);
	assert_ptr_equal(r.data, d);
	assert_int_equal(r.len, n);
	tl_assert_hex(r.selector, 4, "08c379a0");
	/* Length past the end, offset past the end, dirty high bytes: RAW. */
	d[4 + 32 + 31] = 0x40;
	rw_rpc_decode_revert(&r, d, n);
	assert_int_equal(r.kind, RW_RPC_REVERT_RAW);
	d[4 + 32 + 31] = 0x04;
	d[4 + 31] = 0x60;
	rw_rpc_decode_revert(&r, d, n);
	assert_int_equal(r.kind, RW_RPC_REVERT_RAW);
	d[4 + 31] = 0x20;
	d[4] = 0x01;
	rw_rpc_decode_revert(&r, d, n);
	assert_int_equal(r.kind, RW_RPC_REVERT_RAW);
	d[4] = 0;
	rw_rpc_decode_revert(&r, d, 4 + 40);
	assert_int_equal(r.kind, RW_RPC_REVERT_RAW);
	/* Empty reason string. */
	d[4 + 32 + 31] = 0;
	rw_rpc_decode_revert(&r, d, 4 + 64);
	assert_int_equal(r.kind, RW_RPC_REVERT_ERROR);
	assert_int_equal(r.reason_len, 0);
	free(d);
}

static void revert_panic_custom_empty(void **state)
{
	(void)state;
	size_t n;
	uint8_t *d = tl_unhex("4e487b71"
			      "0000000000000000000000000000000000000000000000000000000000000011",
			      &n);
	struct rw_rpc_revert r;
	rw_rpc_decode_revert(&r, d, n);
	assert_int_equal(r.kind, RW_RPC_REVERT_PANIC);
	uint64_t code;
	assert_int_equal(rw_u256_to_u64(&code, &r.panic), 0);
	assert_int_equal(code, 0x11);
	rw_rpc_decode_revert(&r, d, n - 1);
	assert_int_equal(r.kind, RW_RPC_REVERT_RAW);
	free(d);

	/* error InsufficientBalance(uint256 available, uint256 required) */
	d = tl_unhex("cf479181"
		     "0000000000000000000000000000000000000000000000000000000000000001"
		     "0000000000000000000000000000000000000000000000000000000000000002",
		     &n);
	rw_rpc_decode_revert(&r, d, n);
	assert_int_equal(r.kind, RW_RPC_REVERT_CUSTOM);
	tl_assert_hex(r.selector, 4, "cf479181");
	assert_int_equal(r.len, 68);
	rw_rpc_decode_revert(&r, d, 4);
	assert_int_equal(r.kind, RW_RPC_REVERT_CUSTOM);
	rw_rpc_decode_revert(&r, d, 2);
	assert_int_equal(r.kind, RW_RPC_REVERT_RAW);
	tl_assert_hex(r.selector, 4, "cf470000");
	free(d);

	rw_rpc_decode_revert(&r, NULL, 0);
	assert_int_equal(r.kind, RW_RPC_REVERT_EMPTY);
}

/* ---- response parsing ---- */

/* The response tests run twice: with rw_rpc_parse_response, then with
 * rw_rpc_parse_raw (raw mode), whose results are read back into trees so
 * that every check holds for both, and whose raw text is checked to be
 * exactly a JSON value (the same value jansson finds). */
static int raw_mode;

struct parsed {
	json_t *root;
	struct rw_rpc_result res[8];
	json_t *trees[8]; /* raw mode: each OK result's text, parsed */
	size_t n;
	int rc;
};

static void parse(struct parsed *p, const uint64_t *ids, size_t n, int batch, const char *body,
		  int status)
{
	assert_true(n <= 8);
	p->n = n;
	memset(p->trees, 0, sizeof(p->trees));
	if (!raw_mode) {
		p->rc = rw_rpc_parse_response(&p->root, p->res, ids, n, batch, body, strlen(body),
					      status);
		return;
	}
	p->rc = rw_rpc_parse_raw(&p->root, p->res, ids, n, batch, body, strlen(body), status);
	for (size_t i = 0; i < n; i++) {
		if (p->res[i].cls != RW_RPC_OK) {
			assert_null(p->res[i].raw);
			continue;
		}
		assert_null(p->res[i].result);
		assert_non_null(p->res[i].raw);
		/* a value from its first byte to its last, inside the body */
		assert_true(p->res[i].raw >= body &&
			    p->res[i].raw + p->res[i].raw_len <= body + strlen(body));
		assert_true(p->res[i].raw_len > 0 && p->res[i].raw[0] != ' ' &&
			    p->res[i].raw[p->res[i].raw_len - 1] != ' ');
		json_error_t e;
		p->trees[i] = json_loadb(p->res[i].raw, p->res[i].raw_len, JSON_DECODE_ANY, &e);
		assert_non_null(p->trees[i]);
		p->res[i].result = p->trees[i];
	}
}

static void parsed_free(struct parsed *p)
{
	for (size_t i = 0; i < p->n; i++) {
		rw_rpc_result_clear(&p->res[i]);
		json_decref(p->trees[i]);
		p->trees[i] = NULL;
	}
	json_decref(p->root);
	p->root = NULL;
}

static void expect_bad(const uint64_t *ids, size_t n, int batch, const char *body, const char *why)
{
	struct parsed p;
	parse(&p, ids, n, batch, body, 200);
	if (p.rc != RW_EINVAL)
		fail_msg("accepted: %s", body);
	assert_null(p.root);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(p.res[i].cls, RW_RPC_BAD_RESPONSE);
		if (!strstr(p.res[i].message, why))
			fail_msg("%s: message \"%s\" lacks \"%s\"", body, p.res[i].message, why);
	}
	parsed_free(&p);
}

static void response_single(void **state)
{
	(void)state;
	uint64_t id = 7;
	struct parsed p;
	parse(&p, &id, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"0x10\"}", 200);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.res[0].cls, RW_RPC_OK);
	uint64_t v;
	assert_int_equal(rw_rpc_get_quantity_u64(&v, p.res[0].result), 0);
	assert_int_equal(v, 16);
	assert_string_equal(p.res[0].message, "");
	parsed_free(&p);

	/* A null result is a result. */
	parse(&p, &id, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":null}", 0);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.res[0].cls, RW_RPC_OK);
	assert_true(json_is_null(p.res[0].result));
	parsed_free(&p);

	/* An error, with revert data. */
	parse(&p, &id, 1, 0,
	      "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":3,\"message\":\"execution "
	      "reverted\",\"data\":\"0x4e487b71000000000000000000000000000000000000000000000000000"
	      "0000000000012\"}}",
	      200);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.res[0].cls, RW_RPC_REVERTED);
	assert_int_equal(p.res[0].code, 3);
	assert_string_equal(p.res[0].message, "execution reverted");
	assert_int_equal(p.res[0].revert.kind, RW_RPC_REVERT_PANIC);
	assert_int_equal(p.res[0].revert.panic.w[0], 0x12);
	/* Moving keeps the revert and the message. */
	struct rw_rpc_result moved;
	rw_rpc_result_init(&moved, RW_RPC_OTHER);
	rw_rpc_result_move(&moved, &p.res[0]);
	assert_int_equal(moved.revert.kind, RW_RPC_REVERT_PANIC);
	assert_int_equal(p.res[0].revert_.p, NULL);
	rw_rpc_result_clear(&moved);
	parsed_free(&p);

	/* Openethereum style "Reverted 0x..", and data as an object. */
	parse(&p, &id, 1, 0,
	      "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32015,\"message\":\"VM execution "
	      "error.\",\"data\":\"Reverted 0x\"}}",
	      200);
	assert_int_equal(p.res[0].cls, RW_RPC_REVERTED);
	assert_int_equal(p.res[0].revert.kind, RW_RPC_REVERT_EMPTY);
	parsed_free(&p);
	parse(&p, &id, 1, 0,
	      "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":3,\"message\":\"execution "
	      "reverted\",\"data\":{\"data\":\"0xdeadbeef01\"}}}",
	      200);
	assert_int_equal(p.res[0].revert.kind, RW_RPC_REVERT_CUSTOM);
	tl_assert_hex(p.res[0].revert.selector, 4, "deadbeef");
	parsed_free(&p);
	/* Malformed revert hex is no revert data, not a failure. */
	parse(&p, &id, 1, 0,
	      "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":3,\"message\":\"execution "
	      "reverted\",\"data\":\"0xabc\"}}",
	      200);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.res[0].cls, RW_RPC_REVERTED);
	assert_int_equal(p.res[0].revert.kind, RW_RPC_REVERT_NONE);
	parsed_free(&p);

	/* anvil puts NUL characters in the messages of custom errors. */
	parse(&p, &id, 1, 0,
	      "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":3,\"message\":\"execution "
	      "reverted: custom error 0xcf479181: \\u0000\\u0007\",\"data\":\"0xcf479181\"}}",
	      200);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.res[0].cls, RW_RPC_REVERTED);
	assert_int_equal(p.res[0].revert.kind, RW_RPC_REVERT_CUSTOM);
	parsed_free(&p);

	/* The message is in error.data (tenderly). */
	parse(&p, &id, 1, 0,
	      "{\"id\":7,\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32602,\"message\":\"invalid "
	      "params\",\"data\":{\"error_id\":\"4ed9\",\"payload\":\"range 9009594 is bigger "
	      "than range limit 2000\"}}}",
	      200);
	assert_int_equal(p.res[0].cls, RW_RPC_RANGE_TOO_LARGE);
	assert_int_equal(p.res[0].range.max_span, 2000);
	parsed_free(&p);

	/* A refusal with a null id answers the request. */
	parse(&p, &id, 1, 0,
	      "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32005,\"message\":\"daily "
	      "request count exceeded, request rate limited\"}}",
	      200);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.res[0].cls, RW_RPC_RATE_LIMITED);
	parsed_free(&p);
}

static void response_single_malformed(void **state)
{
	(void)state;
	uint64_t id = 7;
	expect_bad(&id, 1, 0, "", "empty body");
	expect_bad(&id, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"0x1\"", "not JSON");
	expect_bad(&id, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":1} trailing", "not JSON");
	expect_bad(&id, 1, 0, "[{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":1}]", "not an object");
	expect_bad(&id, 1, 0, "\"0x1\"", "not JSON"); /* no scalars at the top */
	expect_bad(&id, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":8,\"result\":1}", "id mismatch");
	expect_bad(&id, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":\"7\",\"result\":1}", "id is not");
	expect_bad(&id, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":-7,\"result\":1}", "id is not");
	expect_bad(&id, 1, 0, "{\"jsonrpc\":\"2.0\",\"result\":1}", "result without id");
	expect_bad(&id, 1, 0, "{\"jsonrpc\":\"1.0\",\"id\":7,\"result\":1}", "jsonrpc");
	expect_bad(&id, 1, 0, "{\"id\":7,\"result\":1}", "jsonrpc");
	expect_bad(&id, 1, 0, "{\"jsonrpc\":2.0,\"id\":7,\"result\":1}", "jsonrpc");
	expect_bad(&id, 1, 0,
		   "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":1,\"error\":{\"code\":1,"
		   "\"message\":\"x\"}}",
		   "both");
	expect_bad(&id, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":7}", "neither");
	expect_bad(&id, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":\"boom\"}", "not an object");
	expect_bad(&id, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"message\":\"x\"}}",
		   "error.code");
	expect_bad(&id, 1, 0,
		   "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":1.5,\"message\":\"x\"}}",
		   "error.code");
	expect_bad(&id, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":1}}",
		   "error.message");
	expect_bad(&id, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":1,\"result\":2}",
		   "not JSON");

	/* Bad arguments leave out untouched. */
	struct rw_rpc_result r[2];
	json_t *root = (json_t *)1;
	uint64_t ids[2] = { 1, 2 };
	int (*fn)(json_t **, struct rw_rpc_result *, const uint64_t *, size_t, int, const char *,
		  size_t, int) = raw_mode ? rw_rpc_parse_raw : rw_rpc_parse_response;
	assert_int_equal(fn(&root, r, ids, 2, 0, "{}", 2, 200), RW_EINVAL);
	assert_int_equal(fn(&root, r, ids, 0, 1, "{}", 2, 200), RW_EINVAL);
	assert_ptr_equal(root, (json_t *)1);
}

static void response_http_status(void **state)
{
	(void)state;
	uint64_t id = 1;
	struct parsed p;
	parse(&p, &id, 1, 0, "Too Many Requests", 429);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.res[0].cls, RW_RPC_RATE_LIMITED);
	assert_int_equal(p.res[0].http_status, 429);
	assert_string_equal(p.res[0].message, "HTTP 429: Too Many Requests");
	parsed_free(&p);
	parse(&p, &id, 1, 0, "<html>\n<b>bad gateway</b></html>", 502);
	assert_int_equal(p.res[0].cls, RW_RPC_TRANSPORT);
	assert_string_equal(p.res[0].message, "HTTP 502: <html> <b>bad gateway</b></html>");
	parsed_free(&p);
	parse(&p, &id, 1, 0, "", 504);
	assert_int_equal(p.res[0].cls, RW_RPC_TIMEOUT);
	assert_string_equal(p.res[0].message, "HTTP 504");
	parsed_free(&p);
	/* A JSON-RPC error in a non-2xx body is used (quicknode sends 413). */
	parse(&p, &id, 1, 0,
	      "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32614,\"message\":\"eth_getLogs "
	      "is "
	      "limited to a 10,000 range\"}}",
	      413);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.res[0].cls, RW_RPC_RANGE_TOO_LARGE);
	assert_int_equal(p.res[0].range.max_span, 10000);
	assert_int_equal(p.res[0].http_status, 413);
	parsed_free(&p);
	/* An unknown JSON-RPC error under 429 is a rate limit. */
	parse(&p, &id, 1, 0,
	      "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32000,\"message\":\"slow "
	      "down\"}}",
	      429);
	assert_int_equal(p.res[0].cls, RW_RPC_RATE_LIMITED);
	parsed_free(&p);
}

static void response_batch(void **state)
{
	(void)state;
	uint64_t ids[3] = { 10, 11, 12 };
	struct parsed p;
	/* Any order; per-item errors. */
	parse(&p, ids, 3, 1,
	      "[{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":\"0xc\"},"
	      "{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":\"0xa\"},"
	      "{\"jsonrpc\":\"2.0\",\"id\":11,\"error\":{\"code\":429,\"message\":\"Your app has "
	      "exceeded its compute units per second capacity.\"}}]",
	      200);
	assert_int_equal(p.rc, 0);
	uint64_t v;
	assert_int_equal(p.res[0].cls, RW_RPC_OK);
	assert_int_equal(rw_rpc_get_quantity_u64(&v, p.res[0].result), 0);
	assert_int_equal(v, 10);
	assert_int_equal(p.res[1].cls, RW_RPC_RATE_LIMITED);
	assert_int_equal(p.res[2].cls, RW_RPC_OK);
	assert_int_equal(rw_rpc_get_quantity_u64(&v, p.res[2].result), 0);
	assert_int_equal(v, 12);
	parsed_free(&p);

	/* A batch of one is still an array. */
	parse(&p, ids, 1, 1, "[{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":true}]", 200);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.res[0].cls, RW_RPC_OK);
	parsed_free(&p);

	/* A lone refusal answers every item. */
	parse(&p, ids, 3, 1,
	      "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":\"batch too large\"}}",
	      200);
	assert_int_equal(p.rc, 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(p.res[i].cls, RW_RPC_OTHER);
		assert_string_equal(p.res[i].message, "batch too large");
	}
	parsed_free(&p);

	const char *a = "{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":1}";
	const char *b = "{\"jsonrpc\":\"2.0\",\"id\":11,\"result\":1}";
	const char *c = "{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":1}";
	char body[512];
	snprintf(body, sizeof(body), "[%s,%s]", a, b);
	expect_bad(ids, 3, 1, body, "no answer for an id (id 12)");
	snprintf(body, sizeof(body), "[%s,%s,%s,%s]", a, b, c, b);
	expect_bad(ids, 3, 1, body, "answers an id twice (id 11)");
	snprintf(body, sizeof(body), "[%s,%s,%s]", a, b,
		 "{\"jsonrpc\":\"2.0\",\"id\":13,\"result\":1}");
	expect_bad(ids, 3, 1, body, "never sent (id 13)");
	snprintf(body, sizeof(body), "[%s,%s,%s]", a, b,
		 "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":1,\"message\":\"x\"}}");
	expect_bad(ids, 3, 1, body, "without id");
	snprintf(body, sizeof(body), "[%s,%s,%s]", a, b, "5");
	expect_bad(ids, 3, 1, body, "not an object");
	snprintf(body, sizeof(body), "[%s,%s,%s]", a, b,
		 "{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":1,\"error\":{\"code\":1,\"message\":"
		 "\"x\"}}");
	expect_bad(ids, 3, 1, body, "both");
	expect_bad(ids, 3, 1, "[]", "no answer");
	expect_bad(ids, 3, 1, a, "not an array");
	expect_bad(ids, 3, 1, "null", "not JSON");
}

/* The same tests in raw mode. */
static void raw_on(void **state)
{
	(void)state;
	raw_mode = 1;
}

static void raw_response_single(void **state)
{
	raw_on(state);
	response_single(state);
}

static void raw_response_single_malformed(void **state)
{
	raw_on(state);
	response_single_malformed(state);
}

static void raw_response_http_status(void **state)
{
	raw_on(state);
	response_http_status(state);
}

static void raw_response_batch(void **state)
{
	raw_on(state);
	response_batch(state);
}

/* What only raw mode does: results left as text (any type, spaces
 * around them left out), only the top members named "result" replaced,
 * malformed text refused with where and why. */
static void raw_text(void **state)
{
	raw_on(state);
	uint64_t ids[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct parsed p;
	parse(&p, ids, 2, 1,
	      "[ {\"jsonrpc\":\"2.0\",\"id\":2,\"result\" :  [ {\"result\":1} , \"]\\\"\" ] } ,"
	      "{\"res\\u0075lt\":{\"a\":[]},\"id\":1,\"jsonrpc\":\"2.0\"}]",
	      200);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.res[0].cls, RW_RPC_OK);
	assert_int_equal(p.res[0].raw_len, strlen("{\"a\":[]}"));
	assert_memory_equal(p.res[0].raw, "{\"a\":[]}", p.res[0].raw_len);
	assert_int_equal(p.res[1].raw_len, strlen("[ {\"result\":1} , \"]\\\"\" ]"));
	assert_memory_equal(p.res[1].raw, "[ {\"result\":1} , \"]\\\"\" ]", p.res[1].raw_len);
	parsed_free(&p);

	/* eight one-byte results: their indexes may be longer than they are */
	char body[1024];
	size_t k = 0;
	body[k++] = '[';
	for (int i = 0; i < 8; i++)
		k += (size_t)snprintf(body + k, sizeof(body) - k,
				      "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":%d}",
				      i ? "," : "", 8 - i, i);
	body[k++] = ']';
	body[k] = '\0';
	parse(&p, ids, 8, 1, body, 200);
	assert_int_equal(p.rc, 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(p.res[i].raw_len, 1);
		assert_int_equal(p.res[i].raw[0], '0' + 7 - i);
	}
	parsed_free(&p);

	/* malformed: the byte and the reason */
	expect_bad(ids, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[1,,2]}",
		   "not JSON (byte 36: unexpected character)");
	expect_bad(ids, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"a\x01\"}",
		   "not JSON (byte 35: control character in a string)");
	expect_bad(ids, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[1]",
		   "unterminated object");
	/* deeper than jscan nests */
	size_t deep = RW_JSCAN_MAX_DEPTH + 2;
	char *t = malloc(64 + 2 * deep);
	assert_non_null(t);
	k = (size_t)sprintf(t, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":");
	memset(t + k, '[', deep);
	memset(t + k + deep, ']', deep);
	strcpy(t + k + 2 * deep, "}");
	expect_bad(ids, 1, 0, t, "nesting too deep");
	free(t);
	/* errors keep their data; a non-2xx body without results is read whole */
	parse(&p, ids, 1, 0, "Too Many Requests", 429);
	assert_int_equal(p.res[0].cls, RW_RPC_RATE_LIMITED);
	parsed_free(&p);
	parse(&p, ids, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[1,2]}", 500);
	assert_int_equal(p.res[0].cls, RW_RPC_OK); /* a result is a result */
	assert_memory_equal(p.res[0].raw, "[1,2]", 5);
	parsed_free(&p);
}

/* Delimited raw mode: result text found, not checked; the envelope still
 * is. */
static void delimited_text(void **state)
{
	(void)state;
	uint64_t ids[2] = { 1, 2 };
	struct rw_rpc_result r[2];
	json_t *root = NULL;
	const char *body = "[{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":[1,,2]},"
			   "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":\"}\\\"\"}}]";
	assert_int_equal(rw_rpc_parse_delimited(&root, r, ids, 2, 1, body, strlen(body), 200), 0);
	assert_int_equal(r[0].cls, RW_RPC_OK);
	assert_int_equal(r[0].raw_len, strlen("{\"a\":\"}\\\"\"}"));
	assert_memory_equal(r[0].raw, "{\"a\":\"}\\\"\"}", r[0].raw_len);
	assert_int_equal(r[1].raw_len, 6);
	assert_memory_equal(r[1].raw, "[1,,2]", 6); /* not checked */
	for (int i = 0; i < 2; i++)
		rw_rpc_result_clear(&r[i]);
	json_decref(root);
	/* checked mode refuses the same body */
	assert_int_equal(rw_rpc_parse_raw(&root, r, ids, 2, 1, body, strlen(body), 200), RW_EINVAL);
	for (int i = 0; i < 2; i++)
		rw_rpc_result_clear(&r[i]);
	/* where a result does not end, or the envelope is wrong: bad */
	static const char *const bad[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"abc}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[1}",
		"{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":[1]}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[1]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rw_rpc_parse_delimited(&root, r, ids, 1, 0, bad[i], strlen(bad[i]), 200) !=
		    RW_EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_null(root);
		assert_int_equal(r[0].cls, RW_RPC_BAD_RESPONSE);
		rw_rpc_result_clear(&r[0]);
	}
}

static void readers(void **state)
{
	(void)state;
	json_t *v = json_string("0x1a");
	uint64_t q = 0;
	assert_int_equal(rw_rpc_get_quantity_u64(&q, v), 0);
	assert_int_equal(q, 26);
	json_decref(v);
	const char *badq[] = { "1a", "0x", "0x01", "0xg", "" };
	for (size_t i = 0; i < sizeof(badq) / sizeof(badq[0]); i++) {
		v = json_string(badq[i]);
		q = 99;
		assert_int_equal(rw_rpc_get_quantity_u64(&q, v), RW_EINVAL);
		assert_int_equal(q, 99);
		json_decref(v);
	}
	v = json_string("0x10000000000000000");
	assert_int_equal(rw_rpc_get_quantity_u64(&q, v), RW_ERANGE);
	rw_u256 u;
	assert_int_equal(rw_rpc_get_u256(&u, v), 0);
	assert_int_equal(u.w[1], 1);
	assert_int_equal(u.w[0], 0);
	json_decref(v);
	v = json_integer(5);
	assert_int_equal(rw_rpc_get_quantity_u64(&q, v), RW_EINVAL);
	assert_int_equal(rw_rpc_get_u256(&u, v), RW_EINVAL);
	assert_int_equal(rw_rpc_get_quantity_u64(&q, NULL), RW_EINVAL);
	json_decref(v);

	struct rw_buf b;
	rw_buf_init(&b, 64);
	v = json_string("0xdeadBEEF");
	assert_int_equal(rw_rpc_get_hex_bytes(&b, v), 4);
	tl_assert_hex(b.p, b.len, "deadbeef");
	json_decref(v);
	v = json_string("0xabc");
	assert_int_equal(rw_rpc_get_hex_bytes(&b, v), RW_EINVAL);
	json_decref(v);
	v = json_string("abcd");
	assert_int_equal(rw_rpc_get_hex_bytes(&b, v), RW_EINVAL);
	json_decref(v);
	assert_int_equal(b.len, 4);
	rw_buf_free(&b);

	uint8_t h[32], a[20];
	v = json_string("0x84d622d5eb4a711665a3b4fb82f4577915419519435b56008978f4a5e8dd4f06");
	assert_int_equal(rw_rpc_get_data32(h, v), 0);
	tl_assert_hex(h, 32, "84d622d5eb4a711665a3b4fb82f4577915419519435b56008978f4a5e8dd4f06");
	assert_int_equal(rw_rpc_get_address(a, v), RW_EINVAL);
	json_decref(v);
	v = json_string("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
	assert_int_equal(rw_rpc_get_address(a, v), 0);
	tl_assert_hex(a, 20, "f39fd6e51aad88f6f4ce6ab8827279cfffb92266");
	assert_int_equal(rw_rpc_get_data32(h, v), RW_EINVAL);
	json_decref(v);
	v = json_string("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
	assert_int_equal(rw_rpc_get_address(a, v), RW_EINVAL);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_rows),
		cmocka_unit_test(classify_edges),
		cmocka_unit_test(revert_error_string),
		cmocka_unit_test(revert_panic_custom_empty),
		cmocka_unit_test(response_single),
		cmocka_unit_test(response_single_malformed),
		cmocka_unit_test(response_http_status),
		cmocka_unit_test(response_batch),
		cmocka_unit_test(raw_response_single),
		cmocka_unit_test(raw_response_single_malformed),
		cmocka_unit_test(raw_response_http_status),
		cmocka_unit_test(raw_response_batch),
		cmocka_unit_test(raw_text),
		cmocka_unit_test(delimited_text),
		cmocka_unit_test(readers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
