/* keccak.c: Keccak-f[1600] and the keccak-256 sponge (rate 136 bytes).
 *
 * The state is 25 little-endian 64-bit lanes; input bytes are XORed into
 * the lanes in place, so no block buffer is needed. */
#include "keccak.h"

#include <string.h>

#include "buf.h"

static const uint64_t round_consts[24] = {
	0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
	0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
	0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
	0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
	0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
	0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* n in 1..63 (rho never rotates lane 0, whose step is written without). */
static inline uint64_t rotl(uint64_t x, unsigned n)
{
	return x << n | x >> (64 - n);
}

/* Keccak-f[1600], 24 rounds. Each round is written out lane by lane:
 * theta's column parities c and mixers d; theta, rho and pi together into
 * b (lane (x, y) rotated by its rho offset to position (y, 2x + 3y)); chi
 * back into the state; iota. No index arithmetic is left for run time. */
static void keccak_f1600(uint64_t a[25])
{
	uint64_t b[25];
	for (int round = 0; round < 24; round++) {
		uint64_t c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20];
		uint64_t c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21];
		uint64_t c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22];
		uint64_t c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23];
		uint64_t c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24];
		uint64_t d0 = c4 ^ rotl(c1, 1);
		uint64_t d1 = c0 ^ rotl(c2, 1);
		uint64_t d2 = c1 ^ rotl(c3, 1);
		uint64_t d3 = c2 ^ rotl(c4, 1);
		uint64_t d4 = c3 ^ rotl(c0, 1);
		b[0] = a[0] ^ d0;
		b[10] = rotl(a[1] ^ d1, 1);
		b[20] = rotl(a[2] ^ d2, 62);
		b[5] = rotl(a[3] ^ d3, 28);
		b[15] = rotl(a[4] ^ d4, 27);
		b[16] = rotl(a[5] ^ d0, 36);
		b[1] = rotl(a[6] ^ d1, 44);
		b[11] = rotl(a[7] ^ d2, 6);
		b[21] = rotl(a[8] ^ d3, 55);
		b[6] = rotl(a[9] ^ d4, 20);
		b[7] = rotl(a[10] ^ d0, 3);
		b[17] = rotl(a[11] ^ d1, 10);
		b[2] = rotl(a[12] ^ d2, 43);
		b[12] = rotl(a[13] ^ d3, 25);
		b[22] = rotl(a[14] ^ d4, 39);
		b[23] = rotl(a[15] ^ d0, 41);
		b[8] = rotl(a[16] ^ d1, 45);
		b[18] = rotl(a[17] ^ d2, 15);
		b[3] = rotl(a[18] ^ d3, 21);
		b[13] = rotl(a[19] ^ d4, 8);
		b[14] = rotl(a[20] ^ d0, 18);
		b[24] = rotl(a[21] ^ d1, 2);
		b[9] = rotl(a[22] ^ d2, 61);
		b[19] = rotl(a[23] ^ d3, 56);
		b[4] = rotl(a[24] ^ d4, 14);
		for (int y = 0; y < 25; y += 5) {
			a[y + 0] = b[y + 0] ^ (~b[y + 1] & b[y + 2]);
			a[y + 1] = b[y + 1] ^ (~b[y + 2] & b[y + 3]);
			a[y + 2] = b[y + 2] ^ (~b[y + 3] & b[y + 4]);
			a[y + 3] = b[y + 3] ^ (~b[y + 4] & b[y + 0]);
			a[y + 4] = b[y + 4] ^ (~b[y + 0] & b[y + 1]);
		}
		a[0] ^= round_consts[round];
	}
	rw_wipe(b, sizeof(b));
}

static inline void xor_byte(uint64_t a[25], size_t i, uint8_t b)
{
	a[i / 8] ^= (uint64_t)b << (8 * (i % 8));
}

void rw_keccak_init(struct rw_keccak *k)
{
	memset(k, 0, sizeof(*k));
}

void rw_keccak_update(struct rw_keccak *k, const void *p, size_t n)
{
	const uint8_t *in = p;
	while (n) {
		/* Whole aligned lanes go in 8 bytes at a time. */
		if (k->pos % 8 == 0) {
			while (n >= 8 && k->pos < RW_KECCAK256_RATE) {
				uint64_t lane = 0;
				for (int i = 7; i >= 0; i--)
					lane = lane << 8 | in[i];
				k->a[k->pos / 8] ^= lane;
				k->pos += 8;
				in += 8;
				n -= 8;
			}
		}
		if (n && k->pos < RW_KECCAK256_RATE) {
			xor_byte(k->a, k->pos++, *in++);
			n--;
		}
		if (k->pos == RW_KECCAK256_RATE) {
			keccak_f1600(k->a);
			k->pos = 0;
		}
	}
}

void rw_keccak_final(struct rw_keccak *k, uint8_t out[32])
{
	xor_byte(k->a, k->pos, 0x01);
	xor_byte(k->a, RW_KECCAK256_RATE - 1, 0x80);
	keccak_f1600(k->a);
	for (size_t i = 0; i < 32; i++)
		out[i] = (uint8_t)(k->a[i / 8] >> (8 * (i % 8)));
	rw_wipe(k, sizeof(*k));
}

void rw_keccak256(uint8_t out[32], const void *p, size_t n)
{
	struct rw_keccak k;
	rw_keccak_init(&k);
	rw_keccak_update(&k, p, n);
	rw_keccak_final(&k, out);
}
