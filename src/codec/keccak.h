/* keccak.h: keccak-256 as Ethereum uses it (original Keccak padding 0x01,
 * not the SHA3-256 padding 0x06). */
#ifndef RW_KECCAK_H
#define RW_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define RW_KECCAK256_RATE 136

/* Incremental state. Initialise with rw_keccak_init. */
struct rw_keccak {
	uint64_t a[25];
	size_t pos; /* bytes absorbed into the current block */
};

/* Starts a new keccak-256 computation. */
void rw_keccak_init(struct rw_keccak *k);

/* Absorbs n bytes (p may be NULL when n == 0). */
void rw_keccak_update(struct rw_keccak *k, const void *p, size_t n);

/* Pads, squeezes the 32-byte digest into out and wipes the state. */
void rw_keccak_final(struct rw_keccak *k, uint8_t out[32]);

/* One-shot keccak-256 of n bytes at p into out. */
void rw_keccak256(uint8_t out[32], const void *p, size_t n);

#endif
