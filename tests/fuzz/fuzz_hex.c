/* fuzz_hex.c: the hex decoders must never crash, and a decode followed by
 * an encode must give the input back (lowercased). */
#include <stdlib.h>
#include <string.h>

#include "hex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct rw_buf b;
	rw_buf_init(&b, 1 << 20);
	int n = rw_hex_decode_buf(&b, s, size, RW_HEX_PREFIX_OPTIONAL);
	if (n >= 0) {
		char *enc = rw_hex_encode_alloc(b.p, b.len);
		if (!enc)
			abort();
		size_t skip = size >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 2 : 0;
		if (strlen(enc + 2) != size - skip ||
		    strncasecmp(enc + 2, s + skip, size - skip) != 0)
			abort();
		free(enc);
	}
	rw_buf_free(&b);
	uint8_t addr[20];
	(void)rw_hex_decode_fixed(addr, sizeof(addr), s, size, RW_HEX_PREFIX_REQUIRED);
	uint64_t q;
	if (rw_hex_quantity_u64(&q, s, size) == 0) {
		char out[19];
		size_t k = rw_hex_format_u64(out, q);
		if (k != size || strncasecmp(out, s, size) != 0)
			abort();
	}
	return 0;
}
