/* rlp.c: Recursive Length Prefix, canonical encoding and strict decoding.
 *
 * An item starts with one prefix byte:
 *   0x00..0x7f  the byte itself, a one-byte string
 *   0x80..0xb7  a string of 0..55 bytes follows
 *   0xb8..0xbf  1..8 bytes of big-endian length follow, then the string
 *   0xc0..0xf7  a list whose children fill the next 0..55 bytes
 *   0xf8..0xff  1..8 bytes of big-endian length follow, then the children
 * Canonical means the shortest of these: a single byte < 0x80 is itself,
 * the long forms only for payloads of 56 bytes or more, lengths without
 * leading zero bytes. The decoder accepts nothing else. */
#include "rlp.h"

#include <limits.h>

#include "err.h"

/* Prefix bases and the split between the short and the long forms. */
#define RLP_STRING  0x80
#define RLP_LIST    0xc0
#define RLP_SHORT   56
#define RLP_HDR_MAX 9 /* prefix byte + up to 8 length bytes */

/* --- encoding ---------------------------------------------------------- */

/* Writes the minimal big-endian form of v into out (8 bytes of room).
 * Returns the number of bytes (0 for zero). */
static size_t be_min(uint8_t out[8], uint64_t v)
{
	size_t n = 0;
	for (uint64_t t = v; t; t >>= 8)
		n++;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return n;
}

/* Writes the header of an item of kind base (RLP_STRING or RLP_LIST)
 * with a payload of len bytes into hdr. Returns the header length. */
static size_t header(uint8_t hdr[RLP_HDR_MAX], uint8_t base, size_t len)
{
	if (len < RLP_SHORT) {
		hdr[0] = (uint8_t)(base + len);
		return 1;
	}
	size_t k = be_min(hdr + 1, (uint64_t)len);
	hdr[0] = (uint8_t)(base + RLP_SHORT - 1 + k);
	return 1 + k;
}

int rw_rlp_put_bytes(struct rw_buf *b, const uint8_t *p, size_t n)
{
	if (n == 1 && p[0] < RLP_STRING)
		return rw_buf_push(b, p[0]);
	uint8_t hdr[RLP_HDR_MAX];
	size_t k = header(hdr, RLP_STRING, n);
	if (n > SIZE_MAX - k)
		return RW_ETOOBIG;
	/* Reserve once so that the buffer is unchanged on failure. */
	int r = rw_buf_reserve(b, k + n);
	if (r < 0)
		return r;
	(void)rw_buf_append(b, hdr, k);
	(void)rw_buf_append(b, p, n);
	return 0;
}

int rw_rlp_put_u64(struct rw_buf *b, uint64_t v)
{
	uint8_t be[8];
	size_t n = be_min(be, v);
	return rw_rlp_put_bytes(b, be, n);
}

int rw_rlp_put_u256(struct rw_buf *b, const rw_u256 *v)
{
	uint8_t be[32];
	rw_u256_to_be(be, v);
	size_t skip = 0;
	while (skip < sizeof(be) && be[skip] == 0)
		skip++;
	return rw_rlp_put_bytes(b, be + skip, sizeof(be) - skip);
}

int rw_rlp_list_begin(struct rw_buf *b, size_t *ret_mark)
{
	*ret_mark = b->len;
	return 0;
}

int rw_rlp_list_end(struct rw_buf *b, size_t mark)
{
	if (mark > b->len)
		return RW_EINVAL;
	uint8_t hdr[RLP_HDR_MAX];
	size_t k = header(hdr, RLP_LIST, b->len - mark);
	return rw_buf_insert(b, mark, hdr, k);
}

/* --- decoding ---------------------------------------------------------- */

/* Reads the k-byte (1..8) big-endian length of a long form at p, where
 * avail bytes follow the length. Stores it in *ret. Returns 0;
 * RW_ENONCANON for a leading zero or a length that fits the short form;
 * RW_ETRUNC when the length exceeds avail. */
static int long_length(size_t *ret, const uint8_t *p, size_t k, size_t avail)
{
	if (p[0] == 0)
		return RW_ENONCANON;
	uint64_t len = 0;
	for (size_t i = 0; i < k; i++)
		len = len << 8 | p[i];
	if (len < RLP_SHORT)
		return RW_ENONCANON;
	/* Compared in 64 bits: no wrap, even where size_t is narrower. */
	if (len > (uint64_t)avail)
		return RW_ETRUNC;
	*ret = (size_t)len;
	return 0;
}

int rw_rlp_decode_prefix(struct rw_rlp_item *ret, size_t *ret_used, const uint8_t *in, size_t n)
{
	if (n == 0)
		return RW_ETRUNC;
	uint8_t b = in[0];
	if (b < RLP_STRING) {
		ret->p = in;
		ret->len = 1;
		ret->is_list = 0;
		*ret_used = 1;
		return 0;
	}
	int is_list = b >= RLP_LIST;
	size_t code = (size_t)(b - (is_list ? RLP_LIST : RLP_STRING));
	size_t hlen, len;
	if (code < RLP_SHORT) {
		hlen = 1;
		len = code;
		if (len > n - hlen)
			return RW_ETRUNC;
		if (!is_list && len == 1 && in[1] < RLP_STRING)
			return RW_ENONCANON;
	} else {
		size_t k = code - (RLP_SHORT - 1);
		if (k > n - 1)
			return RW_ETRUNC;
		hlen = 1 + k;
		int r = long_length(&len, in + 1, k, n - hlen);
		if (r < 0)
			return r;
	}
	ret->p = in + hlen;
	ret->len = len;
	ret->is_list = is_list;
	*ret_used = hlen + len;
	return 0;
}

/* Checks that the children of list fill it exactly, descending into
 * nested lists up to RW_RLP_MAX_DEPTH levels in all. Returns 0 or the
 * first error. */
static int check_children(const struct rw_rlp_item *list, unsigned depth)
{
	if (depth > RW_RLP_MAX_DEPTH)
		return RW_ETOOBIG;
	struct rw_rlp_iter it;
	struct rw_rlp_item child;
	int r;
	(void)rw_rlp_iter_init(&it, list);
	while ((r = rw_rlp_iter_next(&it, &child)) > 0) {
		if (child.is_list && (r = check_children(&child, depth + 1)) < 0)
			return r;
	}
	return r;
}

int rw_rlp_decode(struct rw_rlp_item *ret, const uint8_t *in, size_t n)
{
	struct rw_rlp_item item;
	size_t used;
	int r = rw_rlp_decode_prefix(&item, &used, in, n);
	if (r < 0)
		return r;
	if (used != n)
		return RW_ETRAILING;
	if (item.is_list && (r = check_children(&item, 1)) < 0)
		return r;
	*ret = item;
	return 0;
}

int rw_rlp_iter_init(struct rw_rlp_iter *it, const struct rw_rlp_item *list)
{
	if (!list->is_list)
		return RW_EINVAL;
	it->p = list->p;
	it->end = list->p + list->len;
	return 0;
}

int rw_rlp_iter_next(struct rw_rlp_iter *it, struct rw_rlp_item *ret)
{
	if (it->p == it->end)
		return 0;
	size_t used;
	int r = rw_rlp_decode_prefix(ret, &used, it->p, (size_t)(it->end - it->p));
	if (r < 0)
		return r;
	it->p += used;
	return 1;
}

int rw_rlp_list_count(const struct rw_rlp_item *list)
{
	struct rw_rlp_iter it;
	struct rw_rlp_item child;
	int r = rw_rlp_iter_init(&it, list);
	if (r < 0)
		return r;
	int count = 0;
	while ((r = rw_rlp_iter_next(&it, &child)) > 0) {
		if (count == INT_MAX)
			return RW_ETOOBIG;
		count++;
	}
	return r < 0 ? r : count;
}

/* Checks that it is a string holding a canonical integer of at most max
 * bytes. Returns 0, RW_EINVAL, RW_ENONCANON or RW_ERANGE. */
static int check_int(const struct rw_rlp_item *it, size_t max)
{
	if (it->is_list)
		return RW_EINVAL;
	if (it->len > 0 && it->p[0] == 0)
		return RW_ENONCANON;
	if (it->len > max)
		return RW_ERANGE;
	return 0;
}

int rw_rlp_get_u64(uint64_t *ret, const struct rw_rlp_item *it)
{
	int r = check_int(it, 8);
	if (r < 0)
		return r;
	uint64_t v = 0;
	for (size_t i = 0; i < it->len; i++)
		v = v << 8 | it->p[i];
	*ret = v;
	return 0;
}

int rw_rlp_get_u256(rw_u256 *ret, const struct rw_rlp_item *it)
{
	int r = check_int(it, 32);
	if (r < 0)
		return r;
	return rw_u256_from_be(ret, it->p, it->len);
}
