/* test_pg_codec.c: the binary COPY encoders and PostgreSQL's binary
 * numeric, without a server. The numeric vectors are what PostgreSQL 15's
 * numeric_send returns for the same text. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pg.h"
#include "u256.h"

static const char *const numeric_vectors[][2] = {
	{ "0", "0000000000000000" },
	{ "1", "00010000000000000001" },
	{ "-1", "00010000400000000001" },
	{ "9999", "0001000000000000270f" },
	{ "10000", "00010001000000000001" },
	{ "12345678", "000200010000000004d2162e" },
	{ "0.5", "0001ffff000000011388" },
	{ "-12.50", "0002000040000002000c1388" },
	{ "100000000", "00010002000000000001" },
	{ "0.0001", "0001ffff000000040001" },
	{ "0.00001", "0001fffe0000000503e8" },
	{ "1.000", "00010000000000030001" },
	{ "007", "00010000000000000007" },
	{ "-0", "0000000000000000" },
	{ "115792089237316195423570985008687907853269984665640564039457584007913129639935",
	  "0014001300000000000b16a0037c0e931833108b1bba13901adf03110cc5267619a40234018a167e0fa7"
	  "23ab0b9326cf" },
};

static void numeric_matches_postgres(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(numeric_vectors) / sizeof(numeric_vectors[0]); i++) {
		const char *text = numeric_vectors[i][0];
		uint8_t out[600];
		int n = rw_pg_numeric_encode(out, sizeof(out), text, strlen(text));
		assert_true(n > 0);
		tl_assert_hex(out, (size_t)n, numeric_vectors[i][1]);
	}
}

static void numeric_decodes_postgres(void **state)
{
	(void)state;
	/* decoding gives the canonical text: no leading zeros, no "-0" */
	for (size_t i = 0; i < sizeof(numeric_vectors) / sizeof(numeric_vectors[0]); i++) {
		size_t len;
		uint8_t *bin = tl_unhex(numeric_vectors[i][1], &len);
		char text[RW_PG_NUMERIC_TEXT_MAX];
		int n = rw_pg_numeric_decode(text, sizeof(text), bin, len);
		assert_true(n > 0);
		const char *want = numeric_vectors[i][0];
		if (strcmp(want, "007") == 0)
			want = "7";
		if (strcmp(want, "-0") == 0)
			want = "0";
		assert_string_equal(text, want);
		free(bin);
	}
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random uint256 values of every magnitude, and the edges, round-trip. */
static void numeric_u256_round_trip(void **state)
{
	(void)state;
	for (int i = 0; i < 20000; i++) {
		rw_u256 v = { { rnd(), rnd(), rnd(), rnd() } };
		int bits = i % 257;
		for (int w = 0; w < 4; w++) {
			int lo = w * 64;
			if (bits <= lo)
				v.w[w] = 0;
			else if (bits < lo + 64)
				v.w[w] &= ((uint64_t)1 << (bits - lo)) - 1;
		}
		if (i == 1)
			v = (rw_u256){ { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX } };
		if (i == 2) { /* 10^76: trailing zero digits */
			char p76[78];
			memset(p76, '0', 77);
			p76[0] = '1';
			p76[77] = '\0';
			assert_int_equal(rw_u256_parse_dec(&v, p76, 77), 0);
		}
		char dec[RW_U256_DEC_MAX], back[RW_PG_NUMERIC_TEXT_MAX];
		size_t dl = rw_u256_format_dec(dec, &v);
		uint8_t bin[600];
		int n = rw_pg_numeric_encode(bin, sizeof(bin), dec, dl);
		assert_true(n >= 8);
		assert_int_equal(rw_pg_numeric_decode(back, sizeof(back), bin, (size_t)n), (int)dl);
		assert_string_equal(back, dec);
		/* the direct uint256 encoder gives the same bytes */
		struct rw_buf fb;
		rw_buf_init(&fb, 1024);
		assert_int_equal(rw_pg_copy_numeric_u256(&fb, &v), 0);
		assert_int_equal(fb.len, 4 + (size_t)n);
		assert_memory_equal(fb.p + 4, bin, (size_t)n);
		rw_buf_free(&fb);
	}
}

static void numeric_refuses_bad_text(void **state)
{
	(void)state;
	static const char *const bad[] = { "",    "-",    "+1",   " 1",  "1 ",  "1.",   ".5",
					   "1e5", "0x10", "1..2", "--1", "NaN", "1,000" };
	uint8_t out[600];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rw_pg_numeric_encode(out, sizeof(out), bad[i], strlen(bad[i])),
				 RW_EINVAL);
	char big[1002];
	memset(big, '9', 1001);
	big[1001] = '\0';
	assert_int_equal(rw_pg_numeric_encode(out, sizeof(out), big, 1001), RW_ERANGE);
	assert_true(rw_pg_numeric_encode(out, sizeof(out), big, 1000) > 0);
	assert_int_equal(rw_pg_numeric_encode(out, 8, "12345", 5), RW_ERANGE); /* no room */
	/* decoder: NaN, bad digits, wrong length */
	size_t len;
	uint8_t *nan = tl_unhex("000000000000c0000000", &len);
	char text[64];
	assert_int_equal(rw_pg_numeric_decode(text, sizeof(text), nan, 8), RW_EINVAL);
	free(nan);
	uint8_t *digit = tl_unhex("00010000000000002710", &len); /* digit 10000 */
	assert_int_equal(rw_pg_numeric_decode(text, sizeof(text), digit, len), RW_EINVAL);
	assert_int_equal(rw_pg_numeric_decode(text, sizeof(text), digit, len - 1), RW_EINVAL);
	free(digit);
	uint8_t *one = tl_unhex("00010000000000000001", &len);
	assert_int_equal(rw_pg_numeric_decode(text, 1, one, len), RW_ETOOBIG);
	free(one);
}

static void copy_layout(void **state)
{
	(void)state;
	struct rw_buf b;
	rw_buf_init(&b, 1 << 20);
	assert_int_equal(rw_pg_copy_header(&b), 0);
	tl_assert_hex(b.p, b.len,
		      "5047434f50590aff0d0a00"
		      "00000000"
		      "00000000");
	b.len = 0;
	assert_int_equal(rw_pg_copy_row(&b, 8), 0);
	assert_int_equal(rw_pg_copy_int2(&b, -2), 0);
	assert_int_equal(rw_pg_copy_int4(&b, 0x01020304), 0);
	assert_int_equal(rw_pg_copy_int8(&b, -1), 0);
	assert_int_equal(rw_pg_copy_bool(&b, 7), 0);
	assert_int_equal(rw_pg_copy_bytea(&b, "\x00\xff", 2), 0);
	assert_int_equal(rw_pg_copy_text(&b, "hé", 3), 0);
	assert_int_equal(rw_pg_copy_null(&b), 0);
	assert_int_equal(rw_pg_copy_timestamptz(&b, 946684800000001LL), 0);
	tl_assert_hex(b.p, b.len,
		      "0008"
		      "00000002fffe"
		      "0000000401020304"
		      "00000008ffffffffffffffff"
		      "0000000101"
		      "0000000200ff"
		      "0000000368c3a9"
		      "ffffffff"
		      "000000080000000000000001");
	b.len = 0;
	rw_u256 v = rw_u256_from_u64(10000);
	assert_int_equal(rw_pg_copy_numeric_u256(&b, &v), 0);
	tl_assert_hex(b.p, b.len,
		      "0000000a"
		      "00010001000000000001");
	b.len = 0;
	assert_int_equal(rw_pg_copy_trailer(&b), 0);
	tl_assert_hex(b.p, b.len, "ffff");
	assert_int_equal(rw_pg_copy_row(&b, 1601), RW_EINVAL);
	assert_int_equal(rw_pg_copy_text(&b, "a\0b", 3), RW_EINVAL);
	assert_int_equal(rw_pg_copy_numeric(&b, "x", 1), RW_EINVAL);
	rw_buf_free(&b);

	/* the buffer's ceiling is honoured */
	rw_buf_init(&b, 10);
	assert_int_equal(rw_pg_copy_bytea(&b, "0123456789", 10), RW_ETOOBIG);
	rw_buf_free(&b);
}

static void conninfo_helpers(void **state)
{
	(void)state;
	char msg[256];
	assert_int_equal(rw_pg_conninfo_check(NULL, msg, sizeof(msg)), 0);
	assert_int_equal(rw_pg_conninfo_check("postgresql://u@h:5/db", msg, sizeof(msg)), 0);
	assert_int_equal(rw_pg_conninfo_check("host=h port=5 dbname=x", msg, sizeof(msg)), 0);
	assert_int_equal(rw_pg_conninfo_check("postgresql://u:hunter2@[bad", msg, sizeof(msg)),
			 RW_EINVAL);
	assert_non_null(strstr(msg, "bad database connection string"));
	assert_null(strstr(msg, "hunter2"));
	assert_int_equal(rw_pg_conninfo_check("password=hunter2 nonsense", msg, sizeof(msg)),
			 RW_EINVAL);
	assert_null(strstr(msg, "hunter2"));
	char line[64];
	rw_pg_message_line(line, sizeof(line), "first\n\tsecond\n");
	assert_string_equal(line, "first; second");
	assert_string_equal(rw_pg_conninfo("x"), "x");
	setenv("RUNWAY_DATABASE_URL", "postgresql://env/db", 1);
	assert_string_equal(rw_pg_conninfo(NULL), "postgresql://env/db");
	assert_string_equal(rw_pg_conninfo(""), "postgresql://env/db");
	unsetenv("RUNWAY_DATABASE_URL");
	assert_null(rw_pg_conninfo(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numeric_matches_postgres),
		cmocka_unit_test(numeric_decodes_postgres),
		cmocka_unit_test(numeric_u256_round_trip),
		cmocka_unit_test(numeric_refuses_bad_text),
		cmocka_unit_test(copy_layout),
		cmocka_unit_test(conninfo_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
