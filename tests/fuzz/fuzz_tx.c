/* fuzz_tx.c: strict decoding of raw signed transactions.
 *
 * Whatever rw_tx_decode accepts must encode back to exactly the input
 * bytes (one canonical form per transaction), hash to keccak-256 of the
 * input, and yield a signing payload, a v and a sender answer without
 * crashing. Anything else is a finding and aborts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keccak.h"
#include "key.h"
#include "tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		if (rw_key_init() < 0)
			abort();
		ready = 1;
	}
	struct rw_tx tx;
	if (rw_tx_decode(&tx, data, size) < 0)
		return 0;

	struct rw_buf b;
	rw_buf_init(&b, size + 16);
	if (rw_tx_encode_raw(&b, &tx) < 0 || b.len != size || memcmp(b.p, data, size) != 0)
		abort();
	rw_buf_free(&b);

	uint8_t h[32], want[32], addr[20];
	rw_keccak256(want, data, size);
	if (rw_tx_hash(h, &tx) < 0 || memcmp(h, want, 32) != 0)
		abort();
	rw_buf_init(&b, RW_BUF_DEFAULT_MAX);
	if (rw_tx_signing_payload(&b, &tx) < 0 || rw_tx_signing_hash(h, &tx) < 0)
		abort();
	rw_buf_free(&b);
	rw_u256 v;
	if (rw_tx_v(&v, &tx) < 0)
		abort();
	int r = rw_tx_sender(addr, &tx);
	if (r < 0 && r != RW_ECRYPTO && r != RW_EINVAL)
		abort();
	rw_tx_free(&tx);
	return 0;
}
