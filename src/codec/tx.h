/* tx.h: Ethereum transactions: legacy (with or without EIP-155),
 * EIP-2930 (type 1) and EIP-1559 (type 2). Signing payload and hash,
 * signing, the raw signed bytes, the transaction hash, strict decoding
 * and sender recovery.
 *
 * Encodings:
 *   legacy  rlp([nonce, gasPrice, gas, to, value, data, v, r, s])
 *           signed over rlp([nonce, gasPrice, gas, to, value, data,
 *           chainId, 0, 0]) with v = chainId*2 + 35 + recid (EIP-155), or
 *           over the first six fields with v = 27 + recid when chain_id
 *           is 0 (pre-EIP-155, "unprotected")
 *   type 1  0x01 || rlp([chainId, nonce, gasPrice, gas, to, value, data,
 *           accessList, yParity, r, s]), signed over the same without
 *           the last three
 *   type 2  0x02 || rlp([chainId, nonce, maxPriorityFeePerGas,
 *           maxFeePerGas, gas, to, value, data, accessList, yParity, r,
 *           s]), likewise
 * Integers are minimal big-endian (r and s too: a signature whose r or s
 * starts with a zero byte encodes shorter).
 *
 * Ownership: a struct rw_tx filled by rw_tx_decode owns data,
 * access_list and every tuple's storage_keys (heap, released by
 * rw_tx_free). A caller that builds a struct rw_tx by hand may point
 * those at its own memory; it then must not call rw_tx_free on it. */
#ifndef RW_TX_H
#define RW_TX_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "key.h"
#include "u256.h"

enum rw_tx_type {
	RW_TX_LEGACY = 0,
	RW_TX_ACCESS_LIST = 1, /* EIP-2930 */
	RW_TX_DYNAMIC_FEE = 2  /* EIP-1559 */
};

/* One access list entry: an address and the storage slots it touches. */
struct rw_access_tuple {
	uint8_t address[20];
	uint8_t (*storage_keys)[32];
	size_t storage_keys_len;
};

/* A transaction. Zero-initialise it, then set the fields of its type;
 * fields another type uses are ignored. */
struct rw_tx {
	int type; /* enum rw_tx_type */
	/* For legacy, 0 means pre-EIP-155 (no chain id in the signature). */
	uint64_t chain_id;
	uint64_t nonce;
	rw_u256 gas_price;                /* legacy, type 1 */
	rw_u256 max_priority_fee_per_gas; /* type 2 */
	rw_u256 max_fee_per_gas;          /* type 2 */
	uint64_t gas;
	int has_to; /* 0: contract creation, to is ignored */
	uint8_t to[20];
	rw_u256 value;
	uint8_t *data;
	size_t data_len;
	struct rw_access_tuple *access_list; /* types 1 and 2 only */
	size_t access_list_len;
	int is_signed;
	/* r, s and the recovery id; for legacy the encoded v is derived from
	 * recid and chain_id, for types 1 and 2 the y parity is recid. */
	struct rw_sig sig;
};

/* Appends the bytes that are hashed for signing tx (its is_signed and sig
 * are ignored) to out; see the encodings above. Returns 0;
 * RW_EUNSUPPORTED for a type other than 0, 1, 2; RW_EINVAL for an
 * inconsistent tx (data_len without data, a legacy tx with an access
 * list, storage_keys_len without storage_keys); RW_ETOOBIG or RW_ENOMEM.
 * On failure out is unchanged.
 * Args: out: buffer appended to; tx: the transaction. */
int rw_tx_signing_payload(struct rw_buf *out, const struct rw_tx *tx);

/* Stores keccak-256 of the signing payload in ret. Returns 0 or the
 * errors of rw_tx_signing_payload (RW_ETOOBIG past RW_BUF_DEFAULT_MAX).
 * Args: ret: 32 bytes; tx: the transaction. */
int rw_tx_signing_hash(uint8_t ret[32], const struct rw_tx *tx);

/* Signs tx with sk (RFC 6979, low-S; rw_key_init must have run): fills
 * tx->sig and sets tx->is_signed. Returns 0, the errors of
 * rw_tx_signing_hash, or RW_ECRYPTO (invalid key). On failure tx is
 * unchanged.
 * Args: tx: the transaction, updated; sk: 32-byte secret key. */
int rw_tx_sign(struct rw_tx *tx, const uint8_t sk[32]);

/* Appends the raw signed transaction (what eth_sendRawTransaction takes)
 * to out. Everything it produces, rw_tx_decode accepts. Returns 0;
 * RW_EINVAL when tx is not signed or its signature is malformed (recid
 * not 0/1, r not in [1, n), s not in [1, n/2]) or as for
 * rw_tx_signing_payload; RW_EUNSUPPORTED, RW_ETOOBIG or RW_ENOMEM. On
 * failure out is unchanged.
 * Args: out: buffer appended to; tx: a signed transaction. */
int rw_tx_encode_raw(struct rw_buf *out, const struct rw_tx *tx);

/* Stores the transaction hash, keccak-256 of the raw signed bytes, in
 * ret. Returns 0 or the errors of rw_tx_encode_raw.
 * Args: ret: 32 bytes; tx: a signed transaction. */
int rw_tx_hash(uint8_t ret[32], const struct rw_tx *tx);

/* Decodes raw signed transaction bytes into *ret (signed, owning its
 * data and access list). Strict: exactly one canonical RLP item after
 * the optional type byte, the exact field count of the type, to empty
 * or 20 bytes, minimal integers, r and s at most 32 bytes, r in [1, n),
 * s in [1, n/2] (EIP-2), y parity 0 or 1, legacy v 27/28 or
 * chainId*2 + 35/36 with chainId >= 1. Returns 0; RW_ETRUNC (input ends
 * early, or empty); RW_ETRAILING; RW_ENONCANON (non-canonical RLP or an
 * integer with leading zero bytes); RW_ERANGE (chain id, nonce or gas >=
 * 2^64, a quantity or r/s wider than 32 bytes); RW_EUNSUPPORTED (a type
 * byte 0x00..0x7f other than 0x01, 0x02); RW_EINVAL (anything else
 * malformed); RW_ETOOBIG (nesting); RW_ENOMEM. Memory allocated is
 * bounded by n. On failure *ret is untouched and nothing is allocated.
 * Args: ret: the transaction, released with rw_tx_free; raw, n: bytes. */
int rw_tx_decode(struct rw_tx *ret, const uint8_t *raw, size_t n);

/* Recovers the sender's address of a signed tx (rw_key_init must have
 * run). Returns 0; RW_EINVAL when tx is not signed or its signature is
 * malformed; the errors of rw_tx_signing_hash; RW_ECRYPTO when no key
 * matches the signature.
 * Args: ret: 20 bytes; tx: a signed transaction. */
int rw_tx_sender(uint8_t ret[20], const struct rw_tx *tx);

/* Stores the v value a signed tx carries: 27 + recid (legacy without
 * chain id), chain_id*2 + 35 + recid (legacy, EIP-155), or recid (types 1
 * and 2). Returns 0 or RW_EINVAL (not signed, recid not 0/1).
 * Args: ret: the value; tx: a signed transaction. */
int rw_tx_v(rw_u256 *ret, const struct rw_tx *tx);

/* Frees data, access_list and every tuple's storage_keys, and resets
 * those fields to NULL/0. Accepts NULL and an already freed tx. */
void rw_tx_free(struct rw_tx *tx);

#endif
