/* chainread.h: typed contract reads for the CLI (eth_call + ABI decode):
 * ERC-20 metadata and ValidatorNodeProvider terms. */
#ifndef RW_CHAINREAD_H
#define RW_CHAINREAD_H

#include <stdint.h>

#include "rpcsync.h"
#include "u256.h"

/* An ERC-20 token's metadata. symbol is "" when the token has none. */
struct rw_token_info {
	uint8_t address[20];
	unsigned decimals;
	char symbol[33];
};

/* A ValidatorNodeProvider's immutable terms. */
struct rw_provider_info {
	uint8_t address[20];
	uint8_t token[20];
	uint8_t payee[20];
	rw_u256 price; /* base units per second */
};

/* Calls a view function `sig` (e.g. "price()") with no arguments, or with
 * one uint256/address argument when arg_u256/arg_addr is non-NULL, and
 * decodes a single uint256 (ret_u256) or address (ret_addr) result.
 * Returns 0 or -1 with err filled. */
int rw_chainread_u256(struct rw_rpcsync *s, const uint8_t to[20], const char *sig,
		      const rw_u256 *arg_u256, const uint8_t *arg_addr, rw_u256 *ret,
		      struct rw_rpcsync_err *err);
int rw_chainread_address(struct rw_rpcsync *s, const uint8_t to[20], const char *sig,
			 uint8_t ret[20], struct rw_rpcsync_err *err);

/* Reads decimals() (required, <= 77) and symbol() (optional). */
int rw_chainread_token(struct rw_rpcsync *s, const uint8_t token[20], struct rw_token_info *ret,
		       struct rw_rpcsync_err *err);

/* Reads token(), payee() and price(). */
int rw_chainread_provider(struct rw_rpcsync *s, const uint8_t provider[20],
			  struct rw_provider_info *ret, struct rw_rpcsync_err *err);

#endif
