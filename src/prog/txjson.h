/* txjson.h: transactions as JSON objects with the field names of the
 * Ethereum JSON-RPC transaction object (type, chainId, nonce, gas,
 * gasPrice, maxFeePerGas, maxPriorityFeePerGas, to, value, data/input,
 * accessList, v, r, s, yParity, hash, from). */
#ifndef RW_TXJSON_H
#define RW_TXJSON_H

#include <stddef.h>

#include <jansson.h>

#include "tx.h"

/* Builds an unsigned transaction from a JSON object. Quantities may be
 * 0x-hex strings, decimal strings or non-negative JSON integers. The type
 * is taken from "type" or inferred (maxFeePerGas: 2; accessList: 1; else
 * 0). chainId (>= 1), nonce and gas are required, and the fee fields of
 * the type; value defaults to 0, data/input to empty ("data" and "input"
 * must agree when both are given), to absent or null is a contract
 * creation. Unknown fields are refused (so a misspelled field is never
 * silently ignored); "from" is accepted and returned in ret_from for the
 * caller to check against its key.
 * Returns 0, or -1 with a message naming the field in err (errlen bytes).
 * Out: ret: the transaction (its data and access list are heap memory:
 *      release with rw_tx_free); ret_from/ret_has_from: the "from" field.
 * In:  obj: the JSON object. */
int rw_txjson_parse(struct rw_tx *ret, uint8_t ret_from[20], int *ret_has_from, const json_t *obj,
		    char *err, size_t errlen);

/* Builds the JSON object of a signed transaction: its fields (quantities
 * as 0x-hex QUANTITY strings, addresses in EIP-55 form, input as 0x-hex),
 * v, r, s, yParity (types 1 and 2), hash and from. Returns a new
 * reference, or NULL when out of memory or the tx cannot be encoded. */
json_t *rw_txjson_build(const struct rw_tx *tx, const uint8_t hash[32], const uint8_t from[20]);

#endif
