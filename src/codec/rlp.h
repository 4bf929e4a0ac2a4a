/* rlp.h: Recursive Length Prefix, canonical encoding and strict decoding.
 *
 * Encoding appends to a struct rw_buf. A list is written by remembering
 * the offset where it starts, appending its children, then closing it,
 * which inserts the header in front of the children.
 *
 * Decoding never copies: an item points into the caller's input. Only the
 * canonical encoding of each item is accepted. */
#ifndef RW_RLP_H
#define RW_RLP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "u256.h"

/* --- encoding ---------------------------------------------------------- */

/* Appends a byte string item. Returns 0, RW_ETOOBIG or RW_ENOMEM. */
int rw_rlp_put_bytes(struct rw_buf *b, const uint8_t *p, size_t n);

/* Appends an integer as its minimal big-endian byte string (0 is the
 * empty string 0x80). Same returns. */
int rw_rlp_put_u64(struct rw_buf *b, uint64_t v);
int rw_rlp_put_u256(struct rw_buf *b, const rw_u256 *v);

/* Starts a list: stores the current length in *ret_mark. Returns 0. */
int rw_rlp_list_begin(struct rw_buf *b, size_t *ret_mark);

/* Ends the list started at mark: inserts the list header before the
 * children appended since. Returns 0, RW_EINVAL (bad mark), RW_ETOOBIG or
 * RW_ENOMEM. */
int rw_rlp_list_end(struct rw_buf *b, size_t mark);

/* --- decoding ---------------------------------------------------------- */

/* One decoded item: its payload (the bytes of a string, or the encoded
 * children of a list) and which kind it is. */
struct rw_rlp_item {
	const uint8_t *p;
	size_t len;
	int is_list;
};

/* Decodes the first item at in[0..n) into *ret and stores its total
 * encoded length (header + payload) in *ret_used. Returns 0; RW_ETRUNC
 * when the input ends early; RW_ENONCANON for a single byte < 0x80
 * encoded as a string, a long form used for a payload < 56 bytes, or a
 * length with leading zeros. Children of a list are not checked here. */
int rw_rlp_decode_prefix(struct rw_rlp_item *ret, size_t *ret_used, const uint8_t *in, size_t n);

/* Deepest list nesting rw_rlp_decode accepts (the outermost list is
 * depth 1). Bounds the recursion, so hostile input cannot exhaust the
 * stack. */
#define RW_RLP_MAX_DEPTH 1024

/* Decodes exactly one item filling in[0..n), checking every nested list
 * recursively (children must fill their parent exactly; a child that
 * overruns it is RW_ETRUNC). Returns 0, the errors above, RW_ETRAILING
 * when bytes follow the item, or RW_ETOOBIG when lists nest deeper than
 * RW_RLP_MAX_DEPTH. */
int rw_rlp_decode(struct rw_rlp_item *ret, const uint8_t *in, size_t n);

/* Walks the children of a list item. */
struct rw_rlp_iter {
	const uint8_t *p;
	const uint8_t *end;
};

/* Starts walking the children of list. Returns 0 or RW_EINVAL when list
 * is not a list. */
int rw_rlp_iter_init(struct rw_rlp_iter *it, const struct rw_rlp_item *list);

/* Stores the next child in *ret. Returns 1 when a child was stored, 0 at
 * the end, or a negative error when a child is malformed or overruns the
 * list (RW_ETRUNC). */
int rw_rlp_iter_next(struct rw_rlp_iter *it, struct rw_rlp_item *ret);

/* Counts the children of a list. Returns the count or a negative error. */
int rw_rlp_list_count(const struct rw_rlp_item *list);

/* Reads a string item as a canonical integer (no leading zero bytes; 0 is
 * the empty string). Returns 0; RW_EINVAL for a list; RW_ENONCANON for a
 * leading zero; RW_ERANGE when it does not fit. */
int rw_rlp_get_u64(uint64_t *ret, const struct rw_rlp_item *it);
int rw_rlp_get_u256(rw_u256 *ret, const struct rw_rlp_item *it);

#endif
