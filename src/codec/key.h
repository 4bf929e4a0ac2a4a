/* key.h: secp256k1 keys, Ethereum addresses, EIP-55, signing, recovery.
 *
 * One secp256k1 context for the whole process, created and randomized by
 * rw_key_init() before any other call here, destroyed by rw_key_cleanup(). */
#ifndef RW_KEY_H
#define RW_KEY_H

#include <stddef.h>
#include <stdint.h>

/* Creates and randomizes the process-wide context (idempotent). Returns 0
 * or RW_ECRYPTO when no randomness or memory is available. */
int rw_key_init(void);

/* Destroys the context (safe to call when never initialised). */
void rw_key_cleanup(void);

/* A recoverable ECDSA signature: r and s as 32-byte big-endian words, and
 * the recovery id (0 or 1; y parity). s is always low (s <= n/2). */
struct rw_sig {
	uint8_t r[32];
	uint8_t s[32];
	int recid;
};

/* Returns 1 when sk is a valid secret key (0 < sk < n), else 0. */
int rw_key_check(const uint8_t sk[32]);

/* Fills ret_sk with a fresh random valid secret key. Returns 0 or
 * RW_ECRYPTO. */
int rw_key_generate(uint8_t ret_sk[32]);

/* Derives the 20-byte address of sk. Returns 0 or RW_ECRYPTO (invalid key). */
int rw_key_address(uint8_t ret_addr[20], const uint8_t sk[32]);

/* The address of a 64-byte uncompressed public key (X || Y, no 0x04). */
void rw_key_pub_address(uint8_t ret_addr[20], const uint8_t pub[64]);

/* Signs a 32-byte hash (RFC 6979 nonce, low-S). Returns 0 or RW_ECRYPTO
 * (no context, or sk is zero or not below the group order). The signature
 * is not recovered here (that costs three signatures): a key's signing is
 * checked once, when it is loaded, by rw_key_selftest. */
int rw_key_sign(struct rw_sig *ret, const uint8_t hash[32], const uint8_t sk[32]);

/* Known-answer check of a key before use: signs a fixed hash and recovers
 * the signer, which must be sk's own address. Returns 0 or RW_ECRYPTO. */
int rw_key_selftest(const uint8_t sk[32]);

/* Returns 0 when sig is well formed for Ethereum: recid 0 or 1, 0 < r < n,
 * 0 < s <= n/2 (low S, EIP-2); else RW_EINVAL. */
int rw_key_sig_check(const struct rw_sig *sig);

/* Recovers the signer's address from a hash and signature. Rejects r or s
 * of zero or >= n, high s, and recid other than 0/1 with RW_EINVAL;
 * RW_ECRYPTO when recovery fails. */
int rw_key_recover(uint8_t ret_addr[20], const uint8_t hash[32], const struct rw_sig *sig);

/* Writes the EIP-55 mixed-case checksum form "0x..." of addr (43 chars
 * with the NUL) into out. */
void rw_addr_checksum(char out[43], const uint8_t addr[20]);

/* Parses "0x" + 40 hex digits. All-lowercase and all-uppercase digits are
 * accepted; mixed case must match the EIP-55 checksum. Returns 0;
 * RW_EINVAL (malformed); RW_ECHECKSUM (mixed case with a wrong checksum). */
int rw_addr_parse(uint8_t ret[20], const char *s, size_t n);

#endif
