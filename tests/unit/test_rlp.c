/* test_rlp.c: RLP encoding and strict decoding.
 *
 * The published ethereum/tests vectors (tests/vectors/rlptest.json,
 * rlp_invalid.json), the well-known examples, the long forms at 56, 256
 * and 65536 bytes, every rejection with its error code, the nesting
 * bound, and a randomized encode/decode round trip. */
#include "testlib.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "rlp.h"

/* --- helpers ----------------------------------------------------------- */

static void buf_new(struct rw_buf *b)
{
	rw_buf_init(b, RW_BUF_DEFAULT_MAX);
}

/* Decodes hex text and returns rw_rlp_decode's result on it. */
static int decode_hex(const char *hex)
{
	size_t n;
	uint8_t *in = tl_unhex(hex, &n);
	struct rw_rlp_item item;
	int r = rw_rlp_decode(&item, in, n);
	free(in);
	return r;
}

/* Asserts that n bytes fill, after an expected header, an encoded string
 * of n bytes of value fill; then decodes it back. */
static void check_long_string(size_t n, const char *want_hdr)
{
	uint8_t *p = malloc(n);
	assert_non_null(p);
	memset(p, 0xab, n);
	struct rw_buf b;
	rw_buf_init(&b, n + 16);
	assert_int_equal(rw_rlp_put_bytes(&b, p, n), 0);
	size_t hlen;
	uint8_t *hdr = tl_unhex(want_hdr, &hlen);
	assert_int_equal(b.len, hlen + n);
	assert_memory_equal(b.p, hdr, hlen);
	assert_memory_equal(b.p + hlen, p, n);

	struct rw_rlp_item item;
	assert_int_equal(rw_rlp_decode(&item, b.p, b.len), 0);
	assert_false(item.is_list);
	assert_int_equal(item.len, n);
	assert_ptr_equal(item.p, b.p + hlen);
	/* One byte short is truncated, one more is trailing. */
	assert_int_equal(rw_rlp_decode(&item, b.p, b.len - 1), RW_ETRUNC);
	assert_int_equal(rw_buf_push(&b, 0), 0);
	assert_int_equal(rw_rlp_decode(&item, b.p, b.len), RW_ETRAILING);
	rw_buf_free(&b);
	free(hdr);
	free(p);
}

/* Same for a list whose payload is n one-byte children 0x01. */
static void check_long_list(size_t n, const char *want_hdr)
{
	struct rw_buf b;
	buf_new(&b);
	size_t mark;
	assert_int_equal(rw_rlp_list_begin(&b, &mark), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rw_rlp_put_u64(&b, 1), 0);
	assert_int_equal(rw_rlp_list_end(&b, mark), 0);
	size_t hlen;
	uint8_t *hdr = tl_unhex(want_hdr, &hlen);
	assert_int_equal(b.len, hlen + n);
	assert_memory_equal(b.p, hdr, hlen);

	struct rw_rlp_item item;
	assert_int_equal(rw_rlp_decode(&item, b.p, b.len), 0);
	assert_true(item.is_list);
	assert_int_equal(item.len, n);
	assert_int_equal(rw_rlp_list_count(&item), (int)n);
	assert_int_equal(rw_rlp_decode(&item, b.p, b.len - 1), RW_ETRUNC);
	rw_buf_free(&b);
	free(hdr);
}

/* --- the published vectors --------------------------------------------- */

/* Converts the decimal digits s into minimal big-endian bytes in out (room
 * for 64). Returns the byte count. Independent of u256 on purpose: the
 * "bigint" vector is 2^256 and does not fit. */
static size_t dec_to_be(uint8_t out[64], const char *s)
{
	uint8_t v[64] = { 0 }; /* little-endian */
	for (; *s; s++) {
		assert_true(*s >= '0' && *s <= '9');
		unsigned carry = (unsigned)(*s - '0');
		for (size_t i = 0; i < sizeof(v); i++) {
			unsigned t = v[i] * 10u + carry;
			v[i] = (uint8_t)t;
			carry = t >> 8;
		}
		assert_int_equal(carry, 0);
	}
	size_t n = sizeof(v);
	while (n > 0 && v[n - 1] == 0)
		n--;
	for (size_t i = 0; i < n; i++)
		out[i] = v[n - 1 - i];
	return n;
}

/* The bytes a JSON test input stands for: an integer as its minimal
 * big-endian form, "#digits" as a big integer, any other string as its
 * UTF-8 bytes. Returns the length, bytes in out (or points *ret_p at the
 * string). */
static size_t json_bytes(const json_t *j, uint8_t out[64], const uint8_t **ret_p)
{
	if (json_is_integer(j)) {
		uint64_t v = (uint64_t)json_integer_value(j);
		size_t n = 0;
		for (uint64_t t = v; t; t >>= 8)
			n++;
		for (size_t i = 0; i < n; i++)
			out[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
		*ret_p = out;
		return n;
	}
	assert_true(json_is_string(j));
	const char *s = json_string_value(j);
	if (s[0] == '#') {
		*ret_p = out;
		return dec_to_be(out, s + 1);
	}
	*ret_p = (const uint8_t *)s;
	return json_string_length(j);
}

/* Encodes a JSON test input into b. */
static void encode_json(struct rw_buf *b, const json_t *j)
{
	if (json_is_array(j)) {
		size_t mark, i;
		json_t *child;
		assert_int_equal(rw_rlp_list_begin(b, &mark), 0);
		json_array_foreach(j, i, child) encode_json(b, child);
		assert_int_equal(rw_rlp_list_end(b, mark), 0);
		return;
	}
	if (json_is_integer(j)) {
		assert_int_equal(rw_rlp_put_u64(b, (uint64_t)json_integer_value(j)), 0);
		return;
	}
	uint8_t tmp[64];
	const uint8_t *p;
	size_t n = json_bytes(j, tmp, &p);
	assert_int_equal(rw_rlp_put_bytes(b, p, n), 0);
}

/* Asserts that the decoded item equals the JSON test input. */
static void match_json(const struct rw_rlp_item *item, const json_t *j)
{
	if (json_is_array(j)) {
		assert_true(item->is_list);
		assert_int_equal(rw_rlp_list_count(item), (int)json_array_size(j));
		struct rw_rlp_iter it;
		struct rw_rlp_item child;
		assert_int_equal(rw_rlp_iter_init(&it, item), 0);
		for (size_t i = 0; i < json_array_size(j); i++) {
			assert_int_equal(rw_rlp_iter_next(&it, &child), 1);
			match_json(&child, json_array_get(j, i));
		}
		assert_int_equal(rw_rlp_iter_next(&it, &child), 0);
		return;
	}
	assert_false(item->is_list);
	uint8_t tmp[64];
	const uint8_t *p;
	size_t n = json_bytes(j, tmp, &p);
	assert_int_equal(item->len, n);
	if (n)
		assert_memory_equal(item->p, p, n);
	if (json_is_integer(j)) {
		uint64_t v;
		assert_int_equal(rw_rlp_get_u64(&v, item), 0);
		assert_int_equal(v, (uint64_t)json_integer_value(j));
	}
}

static json_t *load_json(const char *name)
{
	size_t len;
	char *text = tl_read_vector(name, &len);
	json_error_t err;
	json_t *root = json_loadb(text, len, JSON_ALLOW_NUL, &err);
	if (!root)
		fail_msg("%s: %s (line %d)", name, err.text, err.line);
	free(text);
	assert_true(json_is_object(root));
	return root;
}

static void published_valid(void **state)
{
	(void)state;
	json_t *root = load_json("rlptest.json");
	const char *name;
	json_t *tc;
	size_t count = 0;
	json_object_foreach(root, name, tc)
	{
		const json_t *in = json_object_get(tc, "in");
		const char *out = json_string_value(json_object_get(tc, "out"));
		assert_non_null(in);
		assert_non_null(out);
		struct rw_buf b;
		buf_new(&b);
		encode_json(&b, in);
		tl_assert_hex(b.p, b.len, out);

		struct rw_rlp_item item;
		assert_int_equal(rw_rlp_decode(&item, b.p, b.len), 0);
		match_json(&item, in);
		rw_buf_free(&b);
		count++;
	}
	assert_int_equal(count, 28);
	json_decref(root);
}

static void published_invalid(void **state)
{
	(void)state;
	json_t *root = load_json("rlp_invalid.json");
	const char *name;
	json_t *tc;
	size_t count = 0;
	json_object_foreach(root, name, tc)
	{
		const char *out = json_string_value(json_object_get(tc, "out"));
		assert_non_null(out);
		int r = decode_hex(out);
		if (r >= 0)
			fail_msg("%s: accepted %s", name, out);
		count++;
	}
	assert_int_equal(count, 17);
	json_decref(root);
}

/* --- the well-known examples -------------------------------------------- */

static void strings(void **state)
{
	(void)state;
	struct rw_buf b;
	buf_new(&b);
	assert_int_equal(rw_rlp_put_bytes(&b, (const uint8_t *)"dog", 3), 0);
	tl_assert_hex(b.p, b.len, "83646f67");
	b.len = 0;
	assert_int_equal(rw_rlp_put_bytes(&b, NULL, 0), 0);
	tl_assert_hex(b.p, b.len, "80");
	b.len = 0;
	const uint8_t one[] = { 0x7f }, big[] = { 0x80 }, zero[] = { 0x00 };
	assert_int_equal(rw_rlp_put_bytes(&b, one, 1), 0);
	assert_int_equal(rw_rlp_put_bytes(&b, big, 1), 0);
	assert_int_equal(rw_rlp_put_bytes(&b, zero, 1), 0);
	tl_assert_hex(b.p, b.len, "7f818000");
	rw_buf_free(&b);
}

static void lists(void **state)
{
	(void)state;
	struct rw_buf b;
	size_t m0, m1, m2, m3, m4;
	buf_new(&b);
	assert_int_equal(rw_rlp_list_begin(&b, &m0), 0);
	assert_int_equal(rw_rlp_put_bytes(&b, (const uint8_t *)"cat", 3), 0);
	assert_int_equal(rw_rlp_put_bytes(&b, (const uint8_t *)"dog", 3), 0);
	assert_int_equal(rw_rlp_list_end(&b, m0), 0);
	tl_assert_hex(b.p, b.len, "c88363617483646f67");

	b.len = 0;
	assert_int_equal(rw_rlp_list_begin(&b, &m0), 0);
	assert_int_equal(rw_rlp_list_end(&b, m0), 0);
	tl_assert_hex(b.p, b.len, "c0");

	/* The set-theoretic three: [ [], [[]], [ [], [[]] ] ]. */
	b.len = 0;
	assert_int_equal(rw_rlp_list_begin(&b, &m0), 0);
	assert_int_equal(rw_rlp_list_begin(&b, &m1), 0);
	assert_int_equal(rw_rlp_list_end(&b, m1), 0);
	assert_int_equal(rw_rlp_list_begin(&b, &m1), 0);
	assert_int_equal(rw_rlp_list_begin(&b, &m2), 0);
	assert_int_equal(rw_rlp_list_end(&b, m2), 0);
	assert_int_equal(rw_rlp_list_end(&b, m1), 0);
	assert_int_equal(rw_rlp_list_begin(&b, &m1), 0);
	assert_int_equal(rw_rlp_list_begin(&b, &m2), 0);
	assert_int_equal(rw_rlp_list_end(&b, m2), 0);
	assert_int_equal(rw_rlp_list_begin(&b, &m3), 0);
	assert_int_equal(rw_rlp_list_begin(&b, &m4), 0);
	assert_int_equal(rw_rlp_list_end(&b, m4), 0);
	assert_int_equal(rw_rlp_list_end(&b, m3), 0);
	assert_int_equal(rw_rlp_list_end(&b, m1), 0);
	assert_int_equal(rw_rlp_list_end(&b, m0), 0);
	tl_assert_hex(b.p, b.len, "c7c0c1c0c3c0c1c0");
	assert_int_equal(decode_hex("c7c0c1c0c3c0c1c0"), 0);

	/* A mark past the end is refused and changes nothing. */
	size_t len = b.len;
	assert_int_equal(rw_rlp_list_end(&b, len + 1), RW_EINVAL);
	assert_int_equal(b.len, len);
	rw_buf_free(&b);
}

static void integers(void **state)
{
	(void)state;
	static const struct {
		uint64_t v;
		const char *hex;
	} cases[] = {
		{ 0, "80" },
		{ 1, "01" },
		{ 15, "0f" },
		{ 127, "7f" },
		{ 128, "8180" },
		{ 255, "81ff" },
		{ 256, "820100" },
		{ 1024, "820400" },
		{ 0xffffff, "83ffffff" },
		{ 0x0100000000000000, "880100000000000000" },
		{ UINT64_MAX, "88ffffffffffffffff" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rw_buf b;
		buf_new(&b);
		assert_int_equal(rw_rlp_put_u64(&b, cases[i].v), 0);
		tl_assert_hex(b.p, b.len, cases[i].hex);

		struct rw_rlp_item item;
		uint64_t v = 12345;
		assert_int_equal(rw_rlp_decode(&item, b.p, b.len), 0);
		assert_int_equal(rw_rlp_get_u64(&v, &item), 0);
		assert_int_equal(v, cases[i].v);

		rw_u256 u = rw_u256_from_u64(cases[i].v), u2;
		b.len = 0;
		assert_int_equal(rw_rlp_put_u256(&b, &u), 0);
		tl_assert_hex(b.p, b.len, cases[i].hex);
		assert_int_equal(rw_rlp_get_u256(&u2, &item), 0);
		assert_int_equal(rw_u256_cmp(&u, &u2), 0);
		rw_buf_free(&b);
	}
}

static void integers_u256(void **state)
{
	(void)state;
	rw_u256 max = { { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX } }, got;
	rw_u256 mid = { { 0, 0, 1, 0 } }; /* 2^128 */
	struct rw_buf b;
	struct rw_rlp_item item;
	buf_new(&b);
	assert_int_equal(rw_rlp_put_u256(&b, &max), 0);
	tl_assert_hex(b.p, b.len,
		      "a0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
	assert_int_equal(rw_rlp_decode(&item, b.p, b.len), 0);
	assert_int_equal(rw_rlp_get_u256(&got, &item), 0);
	assert_int_equal(rw_u256_cmp(&got, &max), 0);
	uint64_t v;
	assert_int_equal(rw_rlp_get_u64(&v, &item), RW_ERANGE);

	b.len = 0;
	assert_int_equal(rw_rlp_put_u256(&b, &mid), 0);
	tl_assert_hex(b.p, b.len,
		      "9101"
		      "00000000000000000000000000000000");
	assert_int_equal(rw_rlp_decode(&item, b.p, b.len), 0);
	assert_int_equal(rw_rlp_get_u256(&got, &item), 0);
	assert_int_equal(rw_u256_cmp(&got, &mid), 0);
	rw_buf_free(&b);

	/* 33 bytes do not fit; 33 bytes with a leading zero are not canonical. */
	size_t n;
	uint8_t *in = tl_unhex(
		"a1010000000000000000000000000000000000000000000000000000000000000000", &n);
	assert_int_equal(rw_rlp_decode(&item, in, n), 0);
	assert_int_equal(rw_rlp_get_u256(&got, &item), RW_ERANGE);
	in[1] = 0;
	assert_int_equal(rw_rlp_decode(&item, in, n), 0);
	assert_int_equal(rw_rlp_get_u256(&got, &item), RW_ENONCANON);
	free(in);
}

/* Strict integers: leading zeros, width, lists. */
static void integer_rejects(void **state)
{
	(void)state;
	static const struct {
		const char *hex;
		int want64;
	} cases[] = {
		{ "00", RW_ENONCANON }, /* zero must be the empty string */
		{ "820001", RW_ENONCANON },
		{ "8900ffffffffffffffff", RW_ENONCANON },
		{ "89010000000000000000", RW_ERANGE },
		{ "c0", RW_EINVAL },
		{ "c101", RW_EINVAL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n;
		uint8_t *in = tl_unhex(cases[i].hex, &n);
		struct rw_rlp_item item;
		uint64_t v = 77;
		rw_u256 u = rw_u256_from_u64(77);
		assert_int_equal(rw_rlp_decode(&item, in, n), 0);
		assert_int_equal(rw_rlp_get_u64(&v, &item), cases[i].want64);
		assert_int_equal(v, 77); /* untouched */
		int want256 = cases[i].want64 == RW_ERANGE ? 0 : cases[i].want64;
		assert_int_equal(rw_rlp_get_u256(&u, &item), want256);
		free(in);
	}
}

/* --- long forms ----------------------------------------------------------- */

static void long_forms(void **state)
{
	(void)state;
	check_long_string(55, "b7");
	check_long_string(56, "b838");
	check_long_string(255, "b8ff");
	check_long_string(256, "b90100");
	check_long_string(65535, "b9ffff");
	check_long_string(65536, "ba010000");
	check_long_string(1 << 24, "bb01000000");
	check_long_list(55, "f7");
	check_long_list(56, "f838");
	check_long_list(255, "f8ff");
	check_long_list(256, "f90100");
	check_long_list(65535, "f9ffff");
	check_long_list(65536, "fa010000");
}

/* --- rejections ---------------------------------------------------------- */

static void rejects(void **state)
{
	(void)state;
	static const struct {
		const char *hex;
		int want;
	} cases[] = {
		/* a single byte < 0x80 written as a string */
		{ "8100", RW_ENONCANON },
		{ "8101", RW_ENONCANON },
		{ "817f", RW_ENONCANON },
		{ "c28100", RW_ENONCANON }, /* inside a list */
		/* long forms for short payloads */
		{ "b800", RW_ENONCANON },
		{ "b801ff", RW_ENONCANON },
		{ "b837" /* + 55 bytes below */, RW_ENONCANON },
		{ "f800", RW_ENONCANON },
		{ "f80180", RW_ENONCANON },
		{ "f803112233", RW_ENONCANON },
		/* leading zeros in the length of the length */
		{ "b90038", RW_ENONCANON },
		{ "f90038", RW_ENONCANON },
		{ "bb00000038", RW_ENONCANON },
		/* truncation */
		{ "", RW_ETRUNC },
		{ "83646f", RW_ETRUNC },
		{ "b8", RW_ETRUNC },
		{ "b838", RW_ETRUNC },
		{ "b901", RW_ETRUNC },
		{ "bf010203", RW_ETRUNC },
		{ "c1", RW_ETRUNC },
		{ "f8", RW_ETRUNC },
		{ "f83800", RW_ETRUNC },
		/* 8-byte lengths far beyond the input: no wrap */
		{ "bfffffffffffffffff00", RW_ETRUNC },
		{ "bffffffffffffffff700", RW_ETRUNC }, /* header + length = 2^64 */
		{ "bf7fffffffffffffff00", RW_ETRUNC },
		{ "ffffffffffffffffff00", RW_ETRUNC },
		{ "fffffffffffffffff7c0", RW_ETRUNC },
		/* children overrunning their list */
		{ "c183", RW_ETRUNC },
		{ "c28363", RW_ETRUNC },
		{ "c2c261", RW_ETRUNC },
		{ "c1b8", RW_ETRUNC },
		/* trailing bytes */
		{ "8000", RW_ETRAILING },
		{ "c0c0", RW_ETRAILING },
		{ "83646f6700", RW_ETRAILING },
		{ "00ff", RW_ETRAILING },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char hex[256];
		snprintf(hex, sizeof(hex), "%s", cases[i].hex);
		if (strcmp(cases[i].hex, "b837") == 0) {
			for (size_t k = 0; k < 55; k++)
				strcat(hex, "61");
		}
		int r = decode_hex(hex);
		if (r != cases[i].want)
			fail_msg("%s: got %d (%s), want %d", cases[i].hex, r, rw_strerror(r),
				 cases[i].want);
	}
}

/* rw_rlp_decode_prefix reads one item and leaves the children alone. */
static void prefix(void **state)
{
	(void)state;
	size_t n, used = 99;
	uint8_t *in = tl_unhex("c28363"
			       "ffff",
			       &n);
	struct rw_rlp_item item;
	assert_int_equal(rw_rlp_decode_prefix(&item, &used, in, n), 0);
	assert_true(item.is_list);
	assert_int_equal(used, 3);
	assert_int_equal(item.len, 2);
	assert_ptr_equal(item.p, in + 1);
	/* The iterator finds the overrunning child. */
	struct rw_rlp_iter it;
	struct rw_rlp_item child;
	assert_int_equal(rw_rlp_iter_init(&it, &item), 0);
	assert_int_equal(rw_rlp_iter_next(&it, &child), RW_ETRUNC);
	assert_int_equal(rw_rlp_list_count(&item), RW_ETRUNC);
	free(in);

	in = tl_unhex("05", &n);
	assert_int_equal(rw_rlp_decode_prefix(&item, &used, in, n), 0);
	assert_false(item.is_list);
	assert_int_equal(used, 1);
	assert_int_equal(item.len, 1);
	assert_ptr_equal(item.p, in);
	assert_int_equal(rw_rlp_iter_init(&it, &item), RW_EINVAL);
	assert_int_equal(rw_rlp_list_count(&item), RW_EINVAL);
	free(in);

	/* Output untouched on failure. */
	in = tl_unhex("8100", &n);
	struct rw_rlp_item keep = { in, 42, 1 };
	item = keep;
	used = 7;
	assert_int_equal(rw_rlp_decode_prefix(&item, &used, in, n), RW_ENONCANON);
	assert_int_equal(rw_rlp_decode(&item, in, n), RW_ENONCANON);
	assert_int_equal(used, 7);
	assert_int_equal(item.len, 42);
	free(in);
}

/* Deep nesting: RW_RLP_MAX_DEPTH levels decode, one more is refused
 * without recursing further. */
static void nesting(void **state)
{
	(void)state;
	for (int extra = 0; extra <= 1; extra++) {
		size_t depth = RW_RLP_MAX_DEPTH + (size_t)extra;
		size_t *marks = malloc(depth * sizeof(*marks));
		assert_non_null(marks);
		struct rw_buf b;
		buf_new(&b);
		for (size_t i = 0; i < depth; i++)
			assert_int_equal(rw_rlp_list_begin(&b, &marks[i]), 0);
		for (size_t i = depth; i-- > 0;)
			assert_int_equal(rw_rlp_list_end(&b, marks[i]), 0);
		struct rw_rlp_item item;
		assert_int_equal(rw_rlp_decode(&item, b.p, b.len), extra ? RW_ETOOBIG : 0);
		rw_buf_free(&b);
		free(marks);
	}

	/* A hostile nest 200000 lists deep, built from the inside out: it is
	 * refused without recursing 200000 times. */
	size_t levels = 200000, cap = levels * 4 + 1, start = cap - 1;
	uint8_t *in = malloc(cap);
	assert_non_null(in);
	in[start] = 0xc0;
	for (size_t i = 1; i < levels; i++) {
		size_t len = cap - start;
		if (len < 56) {
			in[--start] = (uint8_t)(0xc0 + len);
			continue;
		}
		size_t k = 0;
		for (size_t t = len; t; t >>= 8) {
			in[--start] = (uint8_t)t;
			k++;
		}
		in[--start] = (uint8_t)(0xf7 + k);
	}
	struct rw_rlp_item item;
	assert_int_equal(rw_rlp_decode(&item, in + start, cap - start), RW_ETOOBIG);
	free(in);
}

/* The buffer's ceiling is honoured and a refused append changes nothing. */
static void ceiling(void **state)
{
	(void)state;
	struct rw_buf b;
	rw_buf_init(&b, 10);
	uint8_t p[16] = { 0 };
	assert_int_equal(rw_rlp_put_bytes(&b, p, 9), 0);
	assert_int_equal(b.len, 10);
	assert_int_equal(rw_rlp_put_bytes(&b, p, 0), RW_ETOOBIG);
	assert_int_equal(rw_rlp_put_u64(&b, 1), RW_ETOOBIG);
	assert_int_equal(b.len, 10);
	rw_buf_free(&b);

	rw_buf_init(&b, 10);
	assert_int_equal(rw_rlp_put_bytes(&b, p, 10), RW_ETOOBIG);
	assert_int_equal(b.len, 0);
	size_t mark;
	assert_int_equal(rw_rlp_list_begin(&b, &mark), 0);
	assert_int_equal(rw_rlp_put_bytes(&b, p, 8), 0);
	assert_int_equal(rw_rlp_list_end(&b, mark), 0);
	assert_int_equal(b.len, 10);
	rw_buf_free(&b);

	rw_buf_init(&b, 9);
	assert_int_equal(rw_rlp_list_begin(&b, &mark), 0);
	assert_int_equal(rw_rlp_put_bytes(&b, p, 8), 0);
	assert_int_equal(rw_rlp_list_end(&b, mark), RW_ETOOBIG);
	assert_int_equal(b.len, 9);
	rw_buf_free(&b);
}

/* --- randomized round trip ------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

/* Appends a random item (strings of varied lengths, nested lists). */
static void random_item(struct rw_buf *b, int depth)
{
	static const size_t lens[] = { 0, 1, 1, 2, 31, 55, 56, 57, 255, 256, 300 };
	if (depth < 6 && rng() % 3 == 0) {
		size_t mark;
		assert_int_equal(rw_rlp_list_begin(b, &mark), 0);
		for (int k = (int)(rng() % 6); k > 0; k--)
			random_item(b, depth + 1);
		assert_int_equal(rw_rlp_list_end(b, mark), 0);
		return;
	}
	if (rng() % 4 == 0) {
		assert_int_equal(rw_rlp_put_u64(b, rng() >> (rng() % 64)), 0);
		return;
	}
	uint8_t p[300];
	size_t n = lens[rng() % (sizeof(lens) / sizeof(lens[0]))];
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rng() % 3 == 0 ? rng() % 0x80 : rng());
	assert_int_equal(rw_rlp_put_bytes(b, p, n), 0);
}

/* Re-encodes a decoded item into b. */
static void reencode(struct rw_buf *b, const struct rw_rlp_item *item)
{
	if (!item->is_list) {
		assert_int_equal(rw_rlp_put_bytes(b, item->p, item->len), 0);
		return;
	}
	size_t mark;
	struct rw_rlp_iter it;
	struct rw_rlp_item child;
	int r;
	assert_int_equal(rw_rlp_list_begin(b, &mark), 0);
	assert_int_equal(rw_rlp_iter_init(&it, item), 0);
	while ((r = rw_rlp_iter_next(&it, &child)) > 0)
		reencode(b, &child);
	assert_int_equal(r, 0);
	assert_int_equal(rw_rlp_list_end(b, mark), 0);
}

static void round_trip(void **state)
{
	(void)state;
	for (int i = 0; i < 2000; i++) {
		struct rw_buf a, c;
		buf_new(&a);
		buf_new(&c);
		random_item(&a, 0);
		struct rw_rlp_item item;
		assert_int_equal(rw_rlp_decode(&item, a.p, a.len), 0);
		reencode(&c, &item);
		assert_int_equal(a.len, c.len);
		assert_memory_equal(a.p, c.p, a.len);
		/* Every proper prefix is refused. */
		size_t cut = (size_t)(rng() % a.len);
		assert_true(rw_rlp_decode(&item, a.p, cut) < 0);
		rw_buf_free(&a);
		rw_buf_free(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(published_valid), cmocka_unit_test(published_invalid),
		cmocka_unit_test(strings),         cmocka_unit_test(lists),
		cmocka_unit_test(integers),        cmocka_unit_test(integers_u256),
		cmocka_unit_test(integer_rejects), cmocka_unit_test(long_forms),
		cmocka_unit_test(rejects),         cmocka_unit_test(prefix),
		cmocka_unit_test(nesting),         cmocka_unit_test(ceiling),
		cmocka_unit_test(round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
