/* test_relayer_unit.c: the relayer's pure parts: the bump rule, the fees of
 * new transactions and replacements, the fee market from eth_feeHistory,
 * gas limits, and revert reasons (with the custom errors of abi/). */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "err.h"
#include "hex.h"
#include "relayer.h"
#include "relayer_int.h"
#include "rpc_class.h"

#define GWEI 1000000000ull

static rw_u256 u(uint64_t v)
{
	return rw_u256_from_u64(v);
}

static uint64_t low(const rw_u256 *v)
{
	uint64_t r = 0;
	assert_int_equal(rw_u256_to_u64(&r, v), 0);
	return r;
}

static void test_bump_min(void **state)
{
	struct {
		uint64_t old, want;
	} cases[] = { { 0, 1 },     { 1, 3 },     { 10, 12 },
		      { 100, 111 }, { 101, 113 }, { 1000000000, 1100000001 },
		      { 7, 9 } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rw_u256 o = u(cases[i].old), r;
		assert_int_equal(rw_relayer_bump_min(&r, &o), 0);
		assert_int_equal(low(&r), cases[i].want);
	}
	rw_u256 max, r = u(42);
	memset(&max, 0xff, sizeof(max));
	assert_int_equal(rw_relayer_bump_min(&r, &max), RW_ERANGE);
	assert_int_equal(low(&r), 42); /* untouched */
}

static struct rw_relayer_opts opts(uint64_t cap, uint64_t min_tip)
{
	struct rw_relayer_opts o;
	rw_relayer_opts_default(&o, NULL);
	o.fee_cap = u(cap);
	o.min_tip = u(min_tip);
	return o;
}

/* rw_relayer_fees_ahead: the max fee leaves room for 9/8 a full block,
 * rounded up at each step, capped; the tip, a legacy price and blocks 0
 * as rw_relayer_fees_new. */
static void test_fees_ahead(void **state)
{
	struct rw_relayer_market m = { .has_base_fee = 1, .base_fee = u(1000), .tip = u(0) };
	struct rw_relayer_opts o = opts(500 * GWEI, 7);
	struct rw_relayer_fees f, g;
	assert_int_equal(rw_relayer_fees_new(&g, &m, &o), 0);
	assert_int_equal(rw_relayer_fees_ahead(&f, &m, &o, 0), 0);
	assert_int_equal(low(&f.max_fee), low(&g.max_fee)); /* 2 * 1000 + 7 */
	assert_int_equal(low(&f.max_fee), 2007);
	/* an independent computation: 2000 * (9/8)^k, each step rounded up */
	uint64_t want = 2000;
	for (uint64_t k = 1; k <= 20; k++) {
		want = (want * 9 + 7) / 8;
		assert_int_equal(rw_relayer_fees_ahead(&f, &m, &o, k), 0);
		assert_int_equal(f.type, 2);
		assert_int_equal(low(&f.tip), 7);
		assert_int_equal(low(&f.max_fee), want + 7);
	}
	/* past RW_RELAYER_AHEAD_MAX blocks: as many as that */
	assert_int_equal(rw_relayer_fees_ahead(&g, &m, &o, RW_RELAYER_AHEAD_MAX), 0);
	assert_int_equal(rw_relayer_fees_ahead(&f, &m, &o, 1000000), 0);
	assert_int_equal(rw_u256_cmp(&f.max_fee, &g.max_fee), 0);
	/* capped */
	m.base_fee = u(10 * GWEI);
	o.fee_cap = u(30 * GWEI);
	assert_int_equal(rw_relayer_fees_ahead(&f, &m, &o, 10), 0);
	assert_int_equal(low(&f.max_fee), 30 * GWEI);
	/* the base fee above the cap: RW_ERANGE, as rw_relayer_fees_new */
	m.base_fee = u(31 * GWEI);
	assert_int_equal(rw_relayer_fees_ahead(&f, &m, &o, 3), RW_ERANGE);
	assert_int_equal(low(&f.max_fee), 30 * GWEI);
	/* legacy: unchanged */
	struct rw_relayer_market l = { .has_base_fee = 0, .gas_price = u(2 * GWEI) };
	o = opts(500 * GWEI, GWEI);
	assert_int_equal(rw_relayer_fees_ahead(&f, &l, &o, 10), 0);
	assert_int_equal(f.type, 0);
	assert_int_equal(low(&f.gas_price), 2 * GWEI);
	(void)state;
}

/* rw_relayer_stuck_next over queues of nonces, lowest first: each row is
 * (current, own) per nonce and the bumps wanted. */
static void test_stuck_next(void **state)
{
	static const struct {
		const char
			*queue; /* per nonce: '.' mined, 'w' current not stuck, 's' current stuck */
		const char *want; /* per nonce: 'b' bumped, '-' not */
	} cases[] = {
		{ "s", "b" },       { "w", "-" },
		{ "sss", "bbb" },   /* a fee spike: the whole queue */
		{ "wss", "---" },   /* behind one being mined: waiting */
		{ "sws", "b--" },   /* behind a waiting one, however old */
		{ ".s.s", "-b-b" }, /* mined nonces do not hold anyone */
		{ "..ws", "----" }, { "", "" },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		int waiting = 0;
		for (size_t k = 0; cases[c].queue[k]; k++) {
			char q = cases[c].queue[k];
			int got = rw_relayer_stuck_next(&waiting, q != '.', q == 's');
			assert_int_equal(got, cases[c].want[k] == 'b');
		}
	}
	(void)state;
}

static void test_fees_new(void **state)
{
	struct rw_relayer_market m = { .has_base_fee = 1, .base_fee = u(10 * GWEI), .tip = u(0) };
	struct rw_relayer_opts o = opts(500 * GWEI, GWEI);
	struct rw_relayer_fees f;
	assert_int_equal(rw_relayer_fees_new(&f, &m, &o), 0);
	assert_int_equal(f.type, 2);
	assert_int_equal(low(&f.tip), GWEI);          /* max(market 0, least 1 gwei) */
	assert_int_equal(low(&f.max_fee), 21 * GWEI); /* 2 * base + tip */
	m.tip = u(3 * GWEI);
	o.base_fee_pct = 150;
	assert_int_equal(rw_relayer_fees_new(&f, &m, &o), 0);
	assert_int_equal(low(&f.tip), 3 * GWEI);
	assert_int_equal(low(&f.max_fee), 18 * GWEI); /* 1.5 * base + tip */
	o.fee_cap = u(15 * GWEI);
	assert_int_equal(rw_relayer_fees_new(&f, &m, &o), 0);
	assert_int_equal(low(&f.max_fee), 15 * GWEI); /* capped */
	m.base_fee = u(16 * GWEI);
	assert_int_equal(rw_relayer_fees_new(&f, &m, &o), RW_ERANGE); /* base fee above the cap */
	assert_int_equal(low(&f.max_fee), 15 * GWEI);                 /* what a bump may bid */
	assert_int_equal(low(&f.tip), 3 * GWEI);
	/* legacy: no base fee, or forced */
	struct rw_relayer_market l = { .has_base_fee = 0, .gas_price = u(2 * GWEI) };
	o = opts(500 * GWEI, GWEI);
	assert_int_equal(rw_relayer_fees_new(&f, &l, &o), 0);
	assert_int_equal(f.type, 0);
	assert_int_equal(low(&f.gas_price), 2 * GWEI);
	l.gas_price = u(GWEI / 2);
	assert_int_equal(rw_relayer_fees_new(&f, &l, &o), 0);
	assert_int_equal(low(&f.gas_price), GWEI); /* at least the least tip */
	o.fee_cap = u(GWEI / 4);
	l.gas_price = u(GWEI / 2);
	assert_int_equal(rw_relayer_fees_new(&f, &l, &o), RW_ERANGE);
	assert_int_equal(low(&f.gas_price), GWEI / 4);
	o = opts(500 * GWEI, GWEI);
	o.legacy = 1;
	m.gas_price = u(7 * GWEI);
	assert_int_equal(rw_relayer_fees_new(&f, &m, &o), 0);
	assert_int_equal(f.type, 0);
	assert_int_equal(low(&f.gas_price), 7 * GWEI);
}

static void test_fees_bump(void **state)
{
	struct rw_relayer_fees hi = { .type = 2, .max_fee = u(21 * GWEI), .tip = u(GWEI) };
	struct rw_relayer_fees market = { .type = 2, .max_fee = u(30 * GWEI), .tip = u(GWEI) };
	rw_u256 cap = u(500 * GWEI);
	struct rw_relayer_fees f;
	/* the market wins for the max fee, the rule for the tip */
	assert_int_equal(rw_relayer_fees_bump(&f, &hi, &market, &cap), 0);
	assert_int_equal(f.type, 2);
	assert_int_equal(low(&f.max_fee), 30 * GWEI);
	assert_int_equal(low(&f.tip), 1100000001);
	/* a calm market: the rule for both */
	market.max_fee = u(20 * GWEI);
	assert_int_equal(rw_relayer_fees_bump(&f, &hi, &market, &cap), 0);
	assert_int_equal(low(&f.max_fee), 23100000001ull);
	/* unknown market: the rule */
	assert_int_equal(rw_relayer_fees_bump(&f, &hi, NULL, &cap), 0);
	assert_int_equal(low(&f.max_fee), 23100000001ull);
	/* a market tip above: taken, and the max fee at least the tip */
	market.tip = u(40 * GWEI);
	assert_int_equal(rw_relayer_fees_bump(&f, &hi, &market, &cap), 0);
	assert_int_equal(low(&f.tip), 40 * GWEI);
	assert_int_equal(low(&f.max_fee), 40 * GWEI);
	/* capped: lowered to the cap while the rule fits under it */
	market.tip = u(GWEI);
	market.max_fee = u(100 * GWEI);
	cap = u(50 * GWEI);
	assert_int_equal(rw_relayer_fees_bump(&f, &hi, &market, &cap), 0);
	assert_int_equal(low(&f.max_fee), 50 * GWEI);
	/* the rule itself above the cap: no replacement */
	cap = u(23 * GWEI);
	assert_int_equal(rw_relayer_fees_bump(&f, &hi, &market, &cap), RW_ERANGE);
	/* legacy */
	struct rw_relayer_fees lhi = { .type = 0, .gas_price = u(10 * GWEI) };
	struct rw_relayer_fees lm = { .type = 0, .gas_price = u(5 * GWEI) };
	cap = u(500 * GWEI);
	assert_int_equal(rw_relayer_fees_bump(&f, &lhi, &lm, &cap), 0);
	assert_int_equal(f.type, 0);
	assert_int_equal(low(&f.gas_price), 11000000001ull);
	/* a market of another type is ignored */
	assert_int_equal(rw_relayer_fees_bump(&f, &lhi, &market, &cap), 0);
	assert_int_equal(low(&f.gas_price), 11000000001ull);
}

static void test_market_parse(void **state)
{
	json_error_t e;
	json_t *h = json_loads("{\"baseFeePerGas\":[\"0x3b9aca00\",\"0x77359400\",\"0xb2d05e00\"],"
			       "\"gasUsedRatio\":[0.5,0.0],"
			       "\"reward\":[[\"0x5\"],[\"0x0\"]],\"oldestBlock\":\"0x1\"}",
			       0, &e);
	json_t *gp = json_string("0x64");
	struct rw_relayer_market m;
	assert_int_equal(rw_relayer_market_parse(&m, h, gp), 0);
	assert_int_equal(m.has_base_fee, 1);
	assert_int_equal(low(&m.base_fee), 3 * GWEI); /* the last entry: the next block */
	assert_int_equal(low(&m.tip), 5);             /* the empty block is left out */
	assert_int_equal(low(&m.gas_price), 100);
	json_decref(h);
	/* median of several blocks */
	h = json_loads("{\"baseFeePerGas\":[\"0x1\",\"0x1\",\"0x1\",\"0x1\"],"
		       "\"gasUsedRatio\":[0.1,0.2,0.3],\"reward\":[[\"0x9\"],[\"0x1\"],[\"0x4\"]]}",
		       0, &e);
	assert_int_equal(rw_relayer_market_parse(&m, h, NULL), 0);
	assert_int_equal(low(&m.tip), 4);
	json_decref(h);
	/* all base fees zero: a chain before London */
	h = json_loads("{\"baseFeePerGas\":[\"0x0\",\"0x0\"],\"gasUsedRatio\":[0],"
		       "\"reward\":[[\"0x0\"]]}",
		       0, &e);
	assert_int_equal(rw_relayer_market_parse(&m, h, gp), 0);
	assert_int_equal(m.has_base_fee, 0);
	json_decref(h);
	/* malformed */
	h = json_loads("{\"baseFeePerGas\":[\"0x01\"]}", 0, &e);
	assert_int_equal(rw_relayer_market_parse(&m, h, NULL), RW_EINVAL);
	json_decref(h);
	h = json_loads("{\"baseFeePerGas\":[]}", 0, &e);
	assert_int_equal(rw_relayer_market_parse(&m, h, NULL), RW_EINVAL);
	json_decref(h);
	h = json_loads("{\"baseFeePerGas\":[\"0x1\"],\"gasUsedRatio\":[1],\"reward\":[3]}", 0, &e);
	assert_int_equal(rw_relayer_market_parse(&m, h, NULL), RW_EINVAL);
	json_decref(h);
	json_t *bad = json_integer(5);
	assert_int_equal(rw_relayer_market_parse(&m, NULL, bad), RW_EINVAL);
	json_decref(bad);
	json_decref(gp);
}

static void test_gas_limit(void **state)
{
	assert_int_equal(rw_relayer_gas_limit(100000, 25), 125000);
	assert_int_equal(rw_relayer_gas_limit(21000, 0), 21000);
	assert_int_equal(rw_relayer_gas_limit(1000, 25), 21000);
	assert_int_equal(rw_relayer_gas_limit(51001, 20), 61201);
	assert_int_equal(rw_relayer_gas_limit(UINT64_MAX, 25), (uint64_t)1 << 53);
}

/* Decodes revert bytes given as hex and formats them. */
static void reason(char *out, size_t n, const struct rw_relayer_errors *errs, const char *hex,
		   const char *message)
{
	size_t len = 0;
	uint8_t *b = hex ? tl_unhex(hex, &len) : NULL;
	struct rw_rpc_revert rv;
	if (hex)
		rw_rpc_decode_revert(&rv, b, len);
	else
		memset(&rv, 0, sizeof(rv));
	rw_relayer_revert_reason(out, n, errs, &rv, message);
	free(b);
}

static void test_revert_reason(void **state)
{
	struct rw_relayer_errors *errs = NULL;
	assert_int_equal(rw_relayer_errors_load(&errs, RUNWAY_SOURCE_ROOT "/abi"), 0);
	char out[512];
	/* Error("nope") */
	reason(out, sizeof(out), errs,
	       "0x08c379a0"
	       "0000000000000000000000000000000000000000000000000000000000000020"
	       "0000000000000000000000000000000000000000000000000000000000000004"
	       "6e6f706500000000000000000000000000000000000000000000000000000000",
	       NULL);
	assert_string_equal(out, "Error(\"nope\")");
	/* Panic(0x11) */
	reason(out, sizeof(out), errs,
	       "0x4e487b71"
	       "0000000000000000000000000000000000000000000000000000000000000011",
	       NULL);
	assert_string_equal(out, "Panic(0x11: arithmetic overflow or underflow)");
	/* TestToken.InsufficientAllowance(owner, spender, allowance, needed) */
	reason(out, sizeof(out), errs,
	       "0x91beda24"
	       "000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266"
	       "00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8"
	       "0000000000000000000000000000000000000000000000000000000000000000"
	       "0000000000000000000000000000000000000000000000000000000000000005",
	       NULL);
	assert_string_equal(
		out, "InsufficientAllowance(owner=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266, "
		     "spender=0x70997970C51812dc3A010C7d01b50e0d17dc79C8, allowance=0, "
		     "needed=5)");
	/* unknown selector */
	reason(out, sizeof(out), errs, "0xdeadbeef01", NULL);
	assert_string_equal(out,
			    "custom error 0xdeadbeef (1 bytes of arguments; not in the ABI files)");
	/* a known error whose arguments do not decode */
	reason(out, sizeof(out), errs, "0x91beda2400", NULL);
	assert_string_equal(out, "InsufficientAllowance(1 bytes of arguments that do not decode)");
	/* revert() */
	reason(out, sizeof(out), errs, "0x", NULL);
	assert_string_equal(out, "reverted without a reason");
	/* no data: the node's message, control characters replaced */
	reason(out, sizeof(out), errs, NULL, "execution reverted\nsomehow");
	assert_string_equal(out, "reverted: execution reverted?somehow");
	/* without a table: the selector */
	reason(out, sizeof(out), NULL, "0x91beda2400", NULL);
	assert_string_equal(out,
			    "custom error 0x91beda24 (1 bytes of arguments; not in the ABI files)");
	/* cut to the buffer */
	reason(out, 12, errs, "0x", NULL);
	assert_string_equal(out, "reverted wi");
	assert_null(rw_relayer_errors_free(errs));
	assert_int_equal(rw_relayer_errors_load(&errs, "/nonexistent/abi"), RW_EIO);
}

static void test_names(void **state)
{
	assert_string_equal(rw_relayer_step_name(RW_RELAYER_STEP_ASSIGNED), "assigned");
	assert_string_equal(rw_relayer_step_name(RW_RELAYER_STEP_COUNT), "?");
	assert_string_equal(rw_relayer_intent_state_name(0), "queued");
	assert_string_equal(rw_relayer_intent_state_name(7), "cancelled");
	assert_null(rw_relayer_intent_state_name(8));
	struct rw_relayer_opts o;
	rw_relayer_opts_default(&o, NULL);
	assert_int_equal(o.max_inflight, 64);
	assert_int_equal(o.base_fee_pct, 200);
}

/* Array parameters: PostgreSQL array literals, one element per row. */
static void test_arrays(void **state)
{
	struct rl_args a = { 0 };
	struct rl_arr ints = { 0 }, nums = { 0 }, bytes = { 0 }, texts = { 0 }, none = { 0 };
	rw_relayer_arr_i64(&ints, -5);
	rw_relayer_arr_u64(&ints, 18446744073709551615u);
	rw_relayer_arr_null(&ints);
	rw_u256 big;
	memset(&big, 0xff, sizeof(big));
	rw_relayer_arr_u256(&nums, &big);
	const uint8_t b[2] = { 0xab, 0x01 };
	rw_relayer_arr_bytea(&bytes, b, 2);
	rw_relayer_arr_bytea(&bytes, b, 0);
	rw_relayer_arr_text(&texts, "say \"no\" \\ now");
	rw_relayer_arr_text(&texts, "caf\xc3\xa9\n");
	rw_relayer_arg_arr(&a, &ints);
	rw_relayer_arg_arr(&a, &nums);
	rw_relayer_arg_arr(&a, &bytes);
	rw_relayer_arg_arr(&a, &texts);
	rw_relayer_arg_arr(&a, &none);
	assert_int_equal(a.n, 5);
	assert_int_equal(a.oom, 0);
	assert_string_equal(a.v[0], "{-5,18446744073709551615,NULL}");
	assert_string_equal(a.v[1], "{115792089237316195423570985008687907853269984665640564039457"
				    "584007913129639935}");
	assert_string_equal(a.v[2], "{\"\\\\xab01\",\"\\\\x\"}");
	assert_string_equal(a.v[3], "{\"say \\\"no\\\" \\\\ now\",\"caf???\"}");
	assert_string_equal(a.v[4], "{}");
	assert_null(ints.b.p); /* emptied */
	struct rw_pg_job *job = rw_pg_job_new(0);
	assert_non_null(job);
	assert_int_equal(rw_relayer_job_add(job, "SELECT $1, $2, $3, $4, $5", &a), 0);
	assert_int_equal(a.n, 0);

	/* past the ceiling: the parameter is not added, the statement fails */
	struct rl_arr small = { 0 };
	rw_buf_init(&small.b, 8);
	rw_relayer_arr_i64(&small, 1234);
	rw_relayer_arr_i64(&small, 5678);
	assert_int_equal(small.err, RW_ETOOBIG);
	rw_relayer_arr_text(&small, "x");
	rw_relayer_arr_bytea(&small, b, 2);
	assert_int_equal(small.err, RW_ETOOBIG);
	rw_relayer_arg_u64(&a, 7);
	rw_relayer_arg_arr(&a, &small);
	assert_int_equal(a.oom, 1);
	assert_int_equal(rw_relayer_job_add(job, "SELECT $1, $2", &a), RW_ENOMEM);
	assert_int_equal(a.n, 0);
	assert_int_equal(a.oom, 0);
	rw_pg_job_free(job);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bump_min),   cmocka_unit_test(test_fees_new),
		cmocka_unit_test(test_fees_ahead), cmocka_unit_test(test_stuck_next),
		cmocka_unit_test(test_fees_bump),  cmocka_unit_test(test_market_parse),
		cmocka_unit_test(test_gas_limit),  cmocka_unit_test(test_revert_reason),
		cmocka_unit_test(test_names),      cmocka_unit_test(test_arrays),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
