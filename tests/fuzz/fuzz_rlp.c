/* fuzz_rlp.c: RLP strict decoding.
 *
 * Whatever rw_rlp_decode accepts must re-encode to exactly the input
 * bytes (the decoder accepts only canonical encodings), and every string
 * that reads as an integer must re-encode from that integer to the same
 * bytes. Anything else is a finding and aborts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks that the integer readings of the string item, whose encoding is
 * enc[0..n), encode back to enc. */
static void check_ints(const struct rw_rlp_item *item, const uint8_t *enc, size_t n)
{
	struct rw_buf b;
	uint64_t v;
	rw_u256 u;
	rw_buf_init(&b, n + 16);
	int r64 = rw_rlp_get_u64(&v, item);
	int r256 = rw_rlp_get_u256(&u, item);
	if (r64 == 0 &&
	    (r256 != 0 || rw_rlp_put_u64(&b, v) < 0 || b.len != n || memcmp(b.p, enc, n) != 0))
		abort();
	b.len = 0;
	if (r256 == 0 && (rw_rlp_put_u256(&b, &u) < 0 || b.len != n || memcmp(b.p, enc, n) != 0))
		abort();
	rw_buf_free(&b);
}

/* Re-encodes item into b, checking the integers of every string. */
static void reencode(struct rw_buf *b, const struct rw_rlp_item *item)
{
	if (!item->is_list) {
		if (rw_rlp_put_bytes(b, item->p, item->len) < 0)
			abort();
		return;
	}
	size_t mark;
	struct rw_rlp_iter it;
	struct rw_rlp_item child;
	int r, count = 0;
	if (rw_rlp_list_begin(b, &mark) < 0 || rw_rlp_iter_init(&it, item) < 0)
		abort();
	for (;;) {
		const uint8_t *start = it.p;
		if ((r = rw_rlp_iter_next(&it, &child)) <= 0)
			break;
		if (!child.is_list)
			check_ints(&child, start, (size_t)(it.p - start));
		reencode(b, &child);
		count++;
	}
	if (r != 0 || rw_rlp_list_count(item) != count || rw_rlp_list_end(b, mark) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rw_rlp_item item, first;
	size_t used;
	int r = rw_rlp_decode(&item, data, size);
	int rp = rw_rlp_decode_prefix(&first, &used, data, size);
	if (rp == 0 && (used > size || first.len > size || first.p < data ||
			(size_t)(first.p - data) > size - first.len))
		abort();
	if (r < 0)
		return 0;
	if (rp != 0 || used != size)
		abort();

	struct rw_buf b;
	rw_buf_init(&b, size + 16);
	reencode(&b, &item);
	if (b.len != size || memcmp(b.p, data, size) != 0)
		abort();
	rw_buf_free(&b);
	if (!item.is_list)
		check_ints(&item, data, size);
	return 0;
}
