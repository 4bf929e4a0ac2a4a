/* test_rpc_anvil.c: the JSON-RPC client against a real anvil: chain id,
 * block number, a batch of blocks checked field by field, reverts
 * (Error, Panic, custom, empty) and transaction-pool errors classified
 * from the node's own messages.
 *
 * Usage: test_rpc_anvil ANVIL. Exits 77 (skipped) when ANVIL is missing. */
#include "../unit/testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "hex.h"
#include "rpc.h"
#include "rpctest.h"

static char *anvil_path;
static pid_t anvil_pid = -1;
static char url[64];

/* anvil's first dev account (unlocked for eth_sendTransaction). */
#define DEV0 "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
#define DEV1 "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

struct fx {
	uv_loop_t loop;
	struct rw_rpc *rpc;
};

static void fx_init(struct fx *f)
{
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(rw_rpc_new(&f->rpc, &f->loop, NULL), 0);
	struct rw_rpc_endpoint_opts e = { .url = url, .timeout_ms = 20000 };
	assert_int_equal(rw_rpc_add_endpoint(f->rpc, &e), 0);
}

static void fx_done(struct fx *f)
{
	assert_int_equal(rt_close_all(&f->loop, f->rpc), 0);
}

static void call_run(struct fx *f, const char *method, json_t *params, struct rt_got *g)
{
	memset(g, 0, sizeof(*g));
	assert_int_equal(rw_rpc_call(f->rpc, method, params, rt_collect, g), 0);
	assert_int_equal(rt_run_until(&f->loop, g, 1), 0);
	assert_int_equal(g->calls, 1);
}

static void chain_id_and_block_number(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	uint64_t v;
	fx_init(&f);
	call_run(&f, "eth_chainId", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	assert_int_equal(rw_rpc_get_quantity_u64(&v, g.items[0].result), 0);
	assert_int_equal(v, 31337);
	rt_got_free(&g);
	call_run(&f, "eth_blockNumber", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	assert_int_equal(rw_rpc_get_quantity_u64(&v, g.items[0].result), 0);
	rt_got_free(&g);
	fx_done(&f);
}

static void batch_blocks(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	fx_init(&f);
	call_run(&f, "anvil_mine", json_pack("[s]", "0x8"), &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	rt_got_free(&g);
	enum { N = 8 };
	struct rw_rpc_req reqs[N];
	for (int i = 0; i < N; i++) {
		char num[20];
		rw_hex_format_u64(num, (uint64_t)i);
		reqs[i].method = "eth_getBlockByNumber";
		reqs[i].params = json_pack("[s, b]", num, 0);
	}
	memset(&g, 0, sizeof(g));
	assert_int_equal(rw_rpc_batch(f.rpc, reqs, N, rt_collect, &g), 0);
	assert_int_equal(rt_run_until(&f.loop, &g, 1), 0);
	assert_int_equal(g.n, N);
	uint8_t prev[32] = { 0 };
	for (int i = 0; i < N; i++) {
		json_t *b = g.items[i].result;
		assert_int_equal(g.items[i].cls, RW_RPC_OK);
		uint64_t num;
		uint8_t hash[32], parent[32];
		assert_int_equal(rw_rpc_get_quantity_u64(&num, json_object_get(b, "number")), 0);
		assert_int_equal(num, (uint64_t)i);
		assert_int_equal(rw_rpc_get_data32(hash, json_object_get(b, "hash")), 0);
		assert_int_equal(rw_rpc_get_data32(parent, json_object_get(b, "parentHash")), 0);
		assert_memory_equal(parent, prev, 32);
		memcpy(prev, hash, 32);
		uint8_t miner[20];
		assert_int_equal(rw_rpc_get_address(miner, json_object_get(b, "miner")), 0);
		rw_u256 gas;
		assert_int_equal(rw_rpc_get_u256(&gas, json_object_get(b, "gasLimit")), 0);
		assert_false(rw_u256_is_zero(&gas));
	}
	rt_got_free(&g);
	fx_done(&f);
}

/* Initcode that reverts with payload (hex, < 256 bytes): CODECOPY the
 * payload after the 12-byte prefix to memory 0, then REVERT(0, len). */
static json_t *revert_call(const char *payload_hex)
{
	size_t len = strlen(payload_hex) / 2;
	char *code = malloc(strlen(payload_hex) + 32);
	assert_non_null(code);
	snprintf(code, strlen(payload_hex) + 32, "0x60%02zx600c60003960%02zx6000fd%s", len, len,
		 payload_hex);
	json_t *p = json_pack("[{s:s, s:s}, s]", "from", DEV0, "data", code, "latest");
	free(code);
	return p;
}

static void reverts(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	fx_init(&f);
	call_run(&f, "eth_call",
		 revert_call("08c379a0"
			     "0000000000000000000000000000000000000000000000000000000000000020"
			     "0000000000000000000000000000000000000000000000000000000000000004"
			     "626f6f6d00000000000000000000000000000000000000000000000000000000"),
		 &g);
	assert_int_equal(g.items[0].cls, RW_RPC_REVERTED);
	assert_int_equal(g.items[0].attempts, 1);
	assert_int_equal(g.items[0].revert_kind, RW_RPC_REVERT_ERROR);
	assert_string_equal(g.items[0].reason, "boom");
	rt_got_free(&g);

	call_run(&f, "eth_call",
		 revert_call("4e487b71"
			     "0000000000000000000000000000000000000000000000000000000000000011"),
		 &g);
	assert_int_equal(g.items[0].cls, RW_RPC_REVERTED);
	assert_int_equal(g.items[0].revert_kind, RW_RPC_REVERT_PANIC);
	assert_int_equal(g.items[0].panic, 0x11);
	rt_got_free(&g);

	call_run(&f, "eth_call",
		 revert_call("cf479181"
			     "0000000000000000000000000000000000000000000000000000000000000007"),
		 &g);
	assert_int_equal(g.items[0].cls, RW_RPC_REVERTED);
	assert_int_equal(g.items[0].revert_kind, RW_RPC_REVERT_CUSTOM);
	rt_got_free(&g);

	call_run(&f, "eth_call", revert_call(""), &g);
	assert_int_equal(g.items[0].cls, RW_RPC_REVERTED);
	assert_int_equal(g.items[0].revert_kind, RW_RPC_REVERT_EMPTY);
	rt_got_free(&g);

	/* estimateGas reverts the same way. */
	json_t *p = revert_call("");
	json_array_remove(p, 1);
	call_run(&f, "eth_estimateGas", p, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_REVERTED);
	rt_got_free(&g);
	fx_done(&f);
}

static void tx_errors(void **state)
{
	(void)state;
	struct fx f;
	struct rt_got g;
	fx_init(&f);
	call_run(&f, "eth_sendTransaction",
		 json_pack("[{s:s, s:s, s:s}]", "from", DEV0, "to", DEV1, "value", "0x1"), &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	uint8_t h[32];
	assert_int_equal(rw_rpc_get_data32(h, g.items[0].result), 0);
	rt_got_free(&g);

	call_run(&f, "eth_sendTransaction",
		 json_pack("[{s:s, s:s, s:s, s:s}]", "from", DEV0, "to", DEV1, "value", "0x1",
			   "nonce", "0x0"),
		 &g);
	assert_int_equal(g.items[0].cls, RW_RPC_NONCE_TOO_LOW);
	assert_int_equal(g.items[0].attempts, 1);
	rt_got_free(&g);

	call_run(&f, "eth_sendTransaction",
		 json_pack("[{s:s, s:s, s:s}]", "from", DEV0, "to", DEV1, "value",
			   "0xffffffffffffffffffffffffffffffffff"),
		 &g);
	assert_int_equal(g.items[0].cls, RW_RPC_INSUFFICIENT_FUNDS);
	rt_got_free(&g);

	call_run(&f, "eth_getLogs",
		 json_pack("[{s:s, s:s}]", "fromBlock", "0x0", "toBlock", "latest"), &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OK);
	assert_true(json_is_array(g.items[0].result));
	rt_got_free(&g);

	call_run(&f, "eth_noSuchMethod", NULL, &g);
	assert_int_equal(g.items[0].cls, RW_RPC_OTHER);
	assert_int_equal(g.items[0].code, -32601);
	rt_got_free(&g);
	fx_done(&f);
}

static int start_anvil(void **state)
{
	(void)state;
	int port = rt_free_port();
	if (port < 0)
		return -1;
	char ps[16];
	snprintf(ps, sizeof(ps), "%d", port);
	char *argv[] = { anvil_path,
			 "--port",
			 ps,
			 "--host",
			 "127.0.0.1",
			 "--silent",
			 "--max-persisted-states",
			 "0",
			 NULL };
	anvil_pid = rt_spawn(argv, NULL);
	if (anvil_pid < 0 || rt_wait_port(port, 30000) < 0) {
		fprintf(stderr, "anvil did not start on port %d\n", port);
		return -1;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	return 0;
}

static int stop_anvil(void **state)
{
	(void)state;
	rt_kill(anvil_pid);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s ANVIL\n", argv[0]);
		return 2;
	}
	anvil_path = argv[1];
	if (access(anvil_path, X_OK) != 0) {
		fprintf(stderr, "skip: no anvil at %s\n", anvil_path);
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chain_id_and_block_number),
		cmocka_unit_test(batch_blocks),
		cmocka_unit_test(reverts),
		cmocka_unit_test(tx_errors),
	};
	return cmocka_run_group_tests(tests, start_anvil, stop_anvil);
}
