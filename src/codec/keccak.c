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

/* Rotation offsets and lane order for the combined rho and pi steps. */
static const unsigned rho[24] = {
	1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44,
};
static const unsigned pi_lane[24] = {
	10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1,
};

static inline uint64_t rotl(uint64_t x, unsigned n)
{
	return x << n | x >> (64 - n);
}

static void keccak_f1600(uint64_t a[25])
{
	for (int round = 0; round < 24; round++) {
		uint64_t c[5], t;
		/* theta */
		for (int x = 0; x < 5; x++)
			c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
		for (int x = 0; x < 5; x++) {
			t = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
			for (int y = 0; y < 25; y += 5)
				a[y + x] ^= t;
		}
		/* rho and pi */
		t = a[1];
		for (int i = 0; i < 24; i++) {
			unsigned j = pi_lane[i];
			uint64_t next = a[j];
			a[j] = rotl(t, rho[i]);
			t = next;
		}
		/* chi */
		for (int y = 0; y < 25; y += 5) {
			for (int x = 0; x < 5; x++)
				c[x] = a[y + x];
			for (int x = 0; x < 5; x++)
				a[y + x] = c[x] ^ (~c[(x + 1) % 5] & c[(x + 2) % 5]);
		}
		/* iota */
		a[0] ^= round_consts[round];
	}
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
