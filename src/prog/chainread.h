/* chainread.h: typed chain reads for the CLI (eth_call + ABI decode):
 * ERC-20 metadata, balances and allowances, ValidatorNodeProvider terms
 * and costs; fields of logs and blocks. */
#ifndef RW_CHAINREAD_H
#define RW_CHAINREAD_H

#include <stdint.h>

#include <jansson.h>

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
/* rw_chainread_u256 at block `block` (a tag such as "latest", or a
 * 0x-QUANTITY block number). */
int rw_chainread_u256_at(struct rw_rpcsync *s, const uint8_t to[20], const char *sig,
			 const rw_u256 *arg_u256, const uint8_t *arg_addr, const char *block,
			 rw_u256 *ret, struct rw_rpcsync_err *err);
int rw_chainread_address(struct rw_rpcsync *s, const uint8_t to[20], const char *sig,
			 uint8_t ret[20], struct rw_rpcsync_err *err);

/* Calls a view function `sig` without arguments that returns a bool
 * (e.g. "paused()"); *ret is 0 or 1. A word other than 0 or 1 is
 * malformed. Returns 0 or -1 with err filled. */
int rw_chainread_bool(struct rw_rpcsync *s, const uint8_t to[20], const char *sig, int *ret,
		      struct rw_rpcsync_err *err);

/* Reads an ERC-20 allowance(owner, spender). Returns 0 or -1 with err
 * filled. */
int rw_chainread_allowance(struct rw_rpcsync *s, const uint8_t token[20], const uint8_t owner[20],
			   const uint8_t spender[20], rw_u256 *ret, struct rw_rpcsync_err *err);

/* Reads decimals() (required, <= 77) and symbol() (optional). */
int rw_chainread_token(struct rw_rpcsync *s, const uint8_t token[20], struct rw_token_info *ret,
		       struct rw_rpcsync_err *err);

/* Reads token(), payee() and price(). */
int rw_chainread_provider(struct rw_rpcsync *s, const uint8_t provider[20],
			  struct rw_provider_info *ret, struct rw_rpcsync_err *err);

/* The exact cost of `seconds` of runway on provider p: seconds x price,
 * checked against the contract's own cost(uint256). Returns 0, or -1 with
 * err filled: the product overflows uint256 (the provider would revert),
 * cost() fails, or the two differ ("refusing to guess"); each message
 * names the provider and the seconds. */
int rw_chainread_cost(struct rw_rpcsync *s, const struct rw_provider_info *p, uint64_t seconds,
		      rw_u256 *ret, struct rw_rpcsync_err *err);

/* ---- logs and blocks ---- */

/* Finds the first log of logs (a receipt's or eth_getLogs' array) emitted
 * by address with topic0 and, when topic1 is not NULL, that second topic,
 * whose logIndex is above after (-1: any). Returns the log (borrowed from
 * logs) or NULL.
 * In: topic0, topic1: 32 bytes each. */
const json_t *rw_chainread_find_log(const json_t *logs, const uint8_t address[20],
				    const uint8_t topic0[32], const uint8_t *topic1, int64_t after);

/* Reads a log's logIndex. Returns it, or -1 when missing or malformed. */
int64_t rw_chainread_log_index(const json_t *log);

/* Reads topic i of a log as 32 bytes. Returns 0 or RW_EINVAL. */
int rw_chainread_log_topic(uint8_t ret[32], const json_t *log, size_t i);

/* Reads word i of a log's data as a uint256. Returns 0 or RW_EINVAL. */
int rw_chainread_log_word(rw_u256 *ret, const json_t *log, size_t i);

/* Reads a block's number and timestamp (eth_getBlockByNumber of tag: a tag
 * such as "latest" or a 0x-QUANTITY). Returns 0 or -1 with err filled (a
 * missing block included).
 * Out: ret_number (may be NULL), ret_time. */
int rw_chainread_block(uint64_t *ret_number, uint64_t *ret_time, struct rw_rpcsync *s,
		       const char *tag, struct rw_rpcsync_err *err);

#endif
