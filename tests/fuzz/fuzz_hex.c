/* fuzz_hex.c: the hex decoders must never crash, and a decode followed by
 * an encode must give the input back (lowercased). The uint256 text parsers
 * likewise: any value they accept, formatted and parsed again, is equal. */
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "u256.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless text[0..n) parses (with parse) to exactly v. */
static void expect_u256(int (*parse)(rw_u256 *, const char *, size_t), const char *text, size_t n,
			const rw_u256 *v)
{
	rw_u256 w;
	if (strlen(text) != n || parse(&w, text, n) != 0 || rw_u256_cmp(&w, v) != 0)
		abort();
}

/* Skips leading zeros of a decimal number, keeping its last digit. */
static size_t dec_zeros(const char *s, size_t size)
{
	size_t z = 0;
	while (z + 1 < size && s[z] == '0')
		z++;
	return z;
}

/* uint256 text: decimal, hex, quantities and token amounts round trip. */
static void check_u256(const char *s, size_t size)
{
	char dec[RW_U256_DEC_MAX], hex[RW_U256_HEX_MAX], units[RW_U256_DEC_MAX + 1];
	rw_u256 v;
	if (rw_u256_parse(&v, s, size) == 0) {
		expect_u256(rw_u256_parse, dec, rw_u256_format_dec(dec, &v), &v);
		size_t k = rw_u256_format_hex(hex, &v);
		expect_u256(rw_u256_parse, hex, k, &v);
		expect_u256(rw_u256_parse_quantity, hex, k, &v);
	}
	/* Canonical texts come back unchanged. */
	if (rw_u256_parse_dec(&v, s, size) == 0) {
		size_t z = dec_zeros(s, size);
		size_t k = rw_u256_format_dec(dec, &v);
		if (k != size - z || memcmp(dec, s + z, k) != 0)
			abort();
	}
	if (rw_u256_parse_quantity(&v, s, size) == 0) {
		size_t k = rw_u256_format_hex(hex, &v);
		if (k != size || strncasecmp(hex, s, size) != 0)
			abort();
	}
	static const unsigned decimals[] = { 0, 6, 18, 77 };
	for (size_t i = 0; i < sizeof(decimals) / sizeof(decimals[0]); i++) {
		if (rw_u256_parse_units(&v, s, size, decimals[i]) != 0)
			continue;
		int k = rw_u256_format_units(units, &v, decimals[i]);
		if (k < 0)
			abort();
		rw_u256 w;
		if (strlen(units) != (size_t)k ||
		    rw_u256_parse_units(&w, units, (size_t)k, decimals[i]) != 0 ||
		    rw_u256_cmp(&w, &v) != 0)
			abort();
	}
}

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
	check_u256(s, size);
	return 0;
}
