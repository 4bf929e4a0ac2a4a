/* test_keccak.c: keccak-256 against published digests and an independent
 * implementation's digests (tests/vectors/keccak.txt), one-shot and in
 * random pieces across the 136-byte rate boundary. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "keccak.h"

static void digest_is(const char *msg, const char *want)
{
	uint8_t d[32];
	rw_keccak256(d, msg, strlen(msg));
	tl_assert_hex(d, 32, want);
}

/* Published digests: Keccak-256 as Ethereum uses it, not SHA3-256. */
static void published(void **state)
{
	(void)state;
	digest_is("", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
	digest_is("abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
	digest_is("The quick brown fox jumps over the lazy dog",
		  "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
	digest_is("transfer(address,uint256)",
		  "a9059cbb2ab09eb219583f4a59a5d0623ade346d962bcd4e46b11da047c9049b");
	digest_is("Transfer(address,address,uint256)",
		  "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
}

/* SHA3-256("") is a7ffc6f8...; make sure we are not computing that. */
static void not_sha3(void **state)
{
	(void)state;
	uint8_t d[32];
	rw_keccak256(d, "", 0);
	assert_false(d[0] == 0xa7 && d[1] == 0xff);
}

static uint8_t *pattern(size_t n)
{
	uint8_t *b = malloc(n ? n : 1);
	assert_non_null(b);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((i * 7 + n) & 0xff);
	return b;
}

/* Every length 0..300 (so 135, 136, 137, 271, 272, 273 included) and long
 * inputs, each one-shot and fed in pseudo-random pieces. */
static void vectors(void **state)
{
	(void)state;
	char *text = tl_read_vector("keccak.txt", NULL);
	char *lines[512];
	size_t n = tl_lines(text, lines, 512);
	assert_true(n >= 300);
	unsigned seed = 12345;
	int saw_boundary = 0;
	for (size_t i = 0; i < n; i++) {
		char *sp = strchr(lines[i], ' ');
		assert_non_null(sp);
		size_t len = strtoul(lines[i], NULL, 10);
		const char *want = sp + 1;
		uint8_t *in = pattern(len);
		uint8_t d[32];

		rw_keccak256(d, in, len);
		tl_assert_hex(d, 32, want);

		struct rw_keccak k;
		rw_keccak_init(&k);
		size_t off = 0;
		while (off < len) {
			seed = seed * 1103515245u + 12345u;
			size_t step = (seed >> 16) % 300;
			if (step > len - off)
				step = len - off;
			rw_keccak_update(&k, in + off, step);
			off += step;
		}
		rw_keccak_final(&k, d);
		tl_assert_hex(d, 32, want);
		if (len == 135 || len == 136 || len == 137)
			saw_boundary++;
		free(in);
	}
	assert_int_equal(saw_boundary, 3);
	free(text);
}

/* Byte-at-a-time must equal one-shot (exercises the unaligned path). */
static void byte_at_a_time(void **state)
{
	(void)state;
	size_t len = 1000;
	uint8_t *in = pattern(len);
	uint8_t a[32], b[32];
	rw_keccak256(a, in, len);
	struct rw_keccak k;
	rw_keccak_init(&k);
	for (size_t i = 0; i < len; i++)
		rw_keccak_update(&k, in + i, 1);
	rw_keccak_final(&k, b);
	assert_memory_equal(a, b, 32);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(published),
		cmocka_unit_test(not_sha3),
		cmocka_unit_test(vectors),
		cmocka_unit_test(byte_at_a_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
