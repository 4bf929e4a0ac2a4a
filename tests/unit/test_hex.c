/* test_hex.c: strict hex decoding and encoding, QUANTITY parsing. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hex.h"

static int fixed(uint8_t *out, size_t n, const char *s, unsigned flags)
{
	return rw_hex_decode_fixed(out, n, s, strlen(s), flags);
}

static void decode_fixed(void **state)
{
	(void)state;
	uint8_t b[4] = { 0 };
	assert_int_equal(fixed(b, 4, "0xdeadBEEF", RW_HEX_PREFIX_REQUIRED), 0);
	tl_assert_hex(b, 4, "deadbeef");
	assert_int_equal(fixed(b, 4, "0X01020304", RW_HEX_PREFIX_REQUIRED), 0);
	tl_assert_hex(b, 4, "01020304");
	assert_int_equal(fixed(b, 4, "a1b2c3d4", RW_HEX_PREFIX_OPTIONAL), 0);
	tl_assert_hex(b, 4, "a1b2c3d4");

	/* Errors leave the output untouched. */
	memset(b, 0x55, 4);
	assert_int_equal(fixed(b, 4, "deadbeef", RW_HEX_PREFIX_REQUIRED), RW_EINVAL);
	assert_int_equal(fixed(b, 4, "0xdeadbeef", RW_HEX_PREFIX_FORBIDDEN), RW_EINVAL);
	assert_int_equal(fixed(b, 4, "0xdeadbeeg", RW_HEX_PREFIX_REQUIRED), RW_EINVAL);
	assert_int_equal(fixed(b, 4, "0xdeadbee", RW_HEX_PREFIX_REQUIRED), RW_ERANGE);
	assert_int_equal(fixed(b, 4, "0xdeadbeef00", RW_HEX_PREFIX_REQUIRED), RW_ERANGE);
	assert_int_equal(fixed(b, 4, "0x", RW_HEX_PREFIX_REQUIRED), RW_ERANGE);
	assert_int_equal(fixed(b, 4, "0x dead bee", RW_HEX_PREFIX_REQUIRED), RW_EINVAL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(b[i], 0x55);
}

static void decode_buf(void **state)
{
	(void)state;
	struct rw_buf b;
	rw_buf_init(&b, 8);
	assert_int_equal(rw_hex_decode_buf(&b, "0x", 2, RW_HEX_PREFIX_REQUIRED), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(rw_hex_decode_buf(&b, "0x0102", 6, RW_HEX_PREFIX_REQUIRED), 2);
	assert_int_equal(rw_hex_decode_buf(&b, "abc", 3, RW_HEX_PREFIX_OPTIONAL), RW_EINVAL);
	assert_int_equal(rw_hex_decode_buf(&b, "0xzz", 4, RW_HEX_PREFIX_OPTIONAL), RW_EINVAL);
	assert_int_equal(b.len, 2);
	/* The ceiling: 2 + 7 > 8. */
	assert_int_equal(rw_hex_decode_buf(&b, "0x01020304050607", 16, RW_HEX_PREFIX_REQUIRED),
			 RW_ETOOBIG);
	assert_int_equal(b.len, 2);
	assert_int_equal(rw_hex_decode_buf(&b, "ffeeddccbbaa", 12, RW_HEX_PREFIX_FORBIDDEN), 6);
	tl_assert_hex(b.p, b.len, "0102ffeeddccbbaa");
	rw_buf_free(&b);
}

static void encode(void **state)
{
	(void)state;
	const uint8_t in[] = { 0x00, 0x0f, 0xf0, 0xff, 0xab };
	char out[2 * sizeof(in) + 3];
	assert_int_equal(rw_hex_encode(out, in, sizeof(in), 1), 12);
	assert_string_equal(out, "0x000ff0ffab");
	assert_int_equal(rw_hex_encode(out, in, sizeof(in), 0), 10);
	assert_string_equal(out, "000ff0ffab");
	assert_int_equal(rw_hex_encode(out, in, 0, 1), 2);
	assert_string_equal(out, "0x");
	char *s = rw_hex_encode_alloc(in, 2);
	assert_string_equal(s, "0x000f");
	free(s);
}

static int qty(uint64_t *v, const char *s)
{
	return rw_hex_quantity_u64(v, s, strlen(s));
}

static void quantity(void **state)
{
	(void)state;
	uint64_t v = 99;
	assert_int_equal(qty(&v, "0x0"), 0);
	assert_int_equal(v, 0);
	assert_int_equal(qty(&v, "0x1a"), 0);
	assert_int_equal(v, 26);
	assert_int_equal(qty(&v, "0xffffffffffffffff"), 0);
	assert_true(v == UINT64_MAX);
	v = 7;
	assert_int_equal(qty(&v, "0x10000000000000000"), RW_ERANGE);
	assert_int_equal(qty(&v, "0x01"), RW_EINVAL);
	assert_int_equal(qty(&v, "0x"), RW_EINVAL);
	assert_int_equal(qty(&v, "1a"), RW_EINVAL);
	assert_int_equal(qty(&v, "0x1g"), RW_EINVAL);
	assert_int_equal(qty(&v, ""), RW_EINVAL);
	assert_int_equal(v, 7);

	char out[19];
	assert_int_equal(rw_hex_format_u64(out, 0), 3);
	assert_string_equal(out, "0x0");
	rw_hex_format_u64(out, UINT64_MAX);
	assert_string_equal(out, "0xffffffffffffffff");
	rw_hex_format_u64(out, 0x1234);
	assert_string_equal(out, "0x1234");
}

static void digits(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++) {
		int d = rw_hex_digit((char)c);
		if (c >= '0' && c <= '9')
			assert_int_equal(d, c - '0');
		else if (c >= 'a' && c <= 'f')
			assert_int_equal(d, c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			assert_int_equal(d, c - 'A' + 10);
		else
			assert_int_equal(d, -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_fixed), cmocka_unit_test(decode_buf),
		cmocka_unit_test(encode),       cmocka_unit_test(quantity),
		cmocka_unit_test(digits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
