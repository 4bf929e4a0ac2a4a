/* test_buf.c: the growable buffer keeps its ceiling and its contents. */
#include "testlib.h"

#include <string.h>

#include "buf.h"
#include "err.h"

static void ceiling(void **state)
{
	(void)state;
	struct rw_buf b;
	rw_buf_init(&b, 10);
	assert_int_equal(rw_buf_append(&b, "0123456789", 10), 0);
	assert_int_equal(rw_buf_push(&b, 'x'), RW_ETOOBIG);
	assert_int_equal(b.len, 10);
	assert_int_equal(rw_buf_reserve(&b, SIZE_MAX), RW_ETOOBIG);
	assert_memory_equal(b.p, "0123456789", 10);
	rw_buf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	rw_buf_free(&b); /* twice is fine */
}

static void grow_and_insert(void **state)
{
	(void)state;
	struct rw_buf b;
	rw_buf_init(&b, RW_BUF_DEFAULT_MAX);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(rw_buf_push(&b, (uint8_t)i), 0);
	assert_int_equal(rw_buf_insert(&b, 0, "ab", 2), 0);
	assert_int_equal(rw_buf_insert(&b, b.len, "yz", 2), 0);
	assert_int_equal(rw_buf_insert(&b, b.len + 1, "!", 1), RW_EINVAL);
	assert_int_equal(b.len, 1004);
	assert_memory_equal(b.p, "ab", 2);
	assert_memory_equal(b.p + 1002, "yz", 2);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(b.p[2 + i], (uint8_t)i);
	assert_int_equal(rw_buf_zeros(&b, 3), 0);
	assert_int_equal(b.p[1006], 0);
	rw_buf_free(&b);
}

static void release(void **state)
{
	(void)state;
	struct rw_buf b;
	rw_buf_init(&b, 100);
	assert_int_equal(rw_buf_append(&b, "public", 6), 0);
	rw_buf_release(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 100);
	assert_int_equal(rw_buf_append(&b, "again", 5), 0); /* usable after */
	assert_memory_equal(b.p, "again", 5);
	rw_buf_release(&b);
	rw_buf_release(&b); /* twice is fine */
}

static void wipe(void **state)
{
	(void)state;
	uint8_t secret[32];
	memset(secret, 0xaa, sizeof(secret));
	rw_wipe(secret, sizeof(secret));
	for (size_t i = 0; i < sizeof(secret); i++)
		assert_int_equal(secret[i], 0);
	rw_wipe(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ceiling),
		cmocka_unit_test(grow_and_insert),
		cmocka_unit_test(release),
		cmocka_unit_test(wipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
