/* bench_sign.c: the relayer's signing rate against libsecp256k1's own (the
 * ceiling), in one run. Run by tools/bench-relayer; not a test.
 *
 * "Ours" is what the relayer does per transaction (relayer_key.c, finish):
 * rw_tx_sign (signing payload, keccak, RFC 6979 recoverable signature),
 * rw_tx_encode_raw and rw_tx_hash, for an EIP-1559 call with 68 bytes of
 * calldata and a fresh nonce each time. "Ceiling" is
 * secp256k1_ecdsa_sign_recoverable alone on precomputed hashes, with a
 * context of its own, randomized the same way. The two are interleaved,
 * round by round, and the best round of each is reported, so that a busy
 * machine slows both alike.
 *
 * Usage: bench_sign [--count N] [--rounds R]
 * Prints one line per figure and a last line
 *   "signing: ours N/s ceiling M/s ratio P%". Exit 0, 1 on failure. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "buf.h"
#include "key.h"
#include "keccak.h"
#include "tx.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A fixed test key (not secret: benchmark only). */
static const uint8_t SK[32] = { 0x4c, 0x08, 0x83, 0xa6, 0x91, 0x02, 0x93, 0x7d, 0x62, 0x31, 0x47,
				0x1b, 0x5d, 0xbb, 0x62, 0x04, 0xfe, 0x51, 0x29, 0x61, 0x70, 0x82,
				0x79, 0x2a, 0xe4, 0x68, 0xd0, 0x1a, 0x3f, 0x36, 0x23, 0x18 };

/* Signs n relayer-shaped transactions the relayer's way. Returns the
 * seconds taken, or -1 on a failure. */
static double run_ours(unsigned n, uint64_t nonce0)
{
	uint8_t data[68];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	struct rw_buf raw;
	rw_buf_init(&raw, RW_BUF_DEFAULT_MAX);
	double t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		struct rw_tx tx;
		memset(&tx, 0, sizeof(tx));
		tx.type = RW_TX_DYNAMIC_FEE;
		tx.chain_id = 31337;
		tx.nonce = nonce0 + i;
		tx.gas = 120000;
		tx.max_fee_per_gas = rw_u256_from_u64(30000000000ull + i);
		tx.max_priority_fee_per_gas = rw_u256_from_u64(1500000000ull);
		tx.has_to = 1;
		memset(tx.to, 0xab, 20);
		tx.data = data;
		tx.data_len = sizeof(data);
		uint8_t hash[32];
		raw.len = 0;
		if (rw_tx_sign(&tx, SK) < 0 || rw_tx_encode_raw(&raw, &tx) < 0 ||
		    rw_tx_hash(hash, &tx) < 0) {
			rw_buf_free(&raw);
			return -1;
		}
	}
	double t = now_s() - t0;
	rw_buf_free(&raw);
	return t;
}

/* Signs n precomputed hashes with libsecp256k1 alone. Returns seconds or -1. */
static double run_ceiling(const secp256k1_context *ctx, unsigned n, const uint8_t *hashes)
{
	double t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		secp256k1_ecdsa_recoverable_signature sig;
		if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, hashes + 32 * (size_t)i, SK, NULL,
						      NULL))
			return -1;
	}
	return now_s() - t0;
}

/* Parses a positive count option value. Returns 0 or -1. */
static int parse_count(unsigned *ret, const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v == 0 || v > 10000000)
		return -1;
	*ret = (unsigned)v;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned count = 20000, rounds = 5;
	for (int i = 1; i < argc; i++) {
		unsigned *dst = strcmp(argv[i], "--count") == 0    ? &count
				: strcmp(argv[i], "--rounds") == 0 ? &rounds
								   : NULL;
		if (!dst || i + 1 >= argc || parse_count(dst, argv[++i]) < 0) {
			fprintf(stderr, "usage: bench_sign [--count N] [--rounds R] (N, R > 0)\n");
			return 2;
		}
	}
	if (rw_key_init() < 0) {
		fprintf(stderr, "bench_sign: no secp256k1 context (randomness?)\n");
		return 1;
	}
	secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	uint8_t seed[32];
	rw_keccak256(seed, (const uint8_t *)"bench_sign", 10);
	uint8_t *hashes = malloc(32 * (size_t)count);
	if (!ctx || !hashes || !secp256k1_context_randomize(ctx, seed)) {
		fprintf(stderr, "bench_sign: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < count; i++)
		rw_keccak256(hashes + 32 * (size_t)i, (const uint8_t *)&i, sizeof(i));

	double best_ours = 1e300, best_ceil = 1e300;
	for (unsigned r = 0; r < rounds; r++) {
		double c = run_ceiling(ctx, count, hashes);
		double o = run_ours(count, (uint64_t)r * count);
		if (c < 0 || o < 0) {
			fprintf(stderr, "bench_sign: signing failed in round %u\n", r);
			return 1;
		}
		printf("round %u: ours %.0f/s ceiling %.0f/s\n", r + 1, count / o, count / c);
		if (o < best_ours)
			best_ours = o;
		if (c < best_ceil)
			best_ceil = c;
	}
	double ours = count / best_ours, ceil = count / best_ceil;
	printf("signing: ours %.0f/s ceiling %.0f/s ratio %.1f%% (%u signatures x %u rounds, best "
	       "round)\n",
	       ours, ceil, 100.0 * ours / ceil, count, rounds);
	free(hashes);
	secp256k1_context_destroy(ctx);
	rw_key_cleanup();
	return 0;
}
