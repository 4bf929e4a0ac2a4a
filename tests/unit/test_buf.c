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

/* Formatted appends: longer than any fixed line, exact at the ceiling's
 * edge (one spare byte), unchanged when refused. */
static void appendf(void **state)
{
	(void)state;
	struct rw_buf b;
	rw_buf_init(&b, 4096);
	assert_int_equal(rw_buf_appendf(&b, "%s=%d;", "a", 42), 0);
	char big[2000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(rw_buf_appendf(&b, "[%s]", big), 0);
	assert_int_equal(b.len, 5 + 2 + 1999);
	assert_memory_equal(b.p, "a=42;[x", 7);
	assert_int_equal(b.p[b.len - 1], ']');
	size_t before = b.len;
	assert_int_equal(rw_buf_appendf(&b, "%s%s", big, big), RW_ETOOBIG);
	assert_int_equal(b.len, before);
	rw_buf_free(&b);

	rw_buf_init(&b, 4);
	assert_int_equal(rw_buf_appendf(&b, "%d", 123), 0); /* 3 bytes and the spare */
	assert_int_equal(rw_buf_appendf(&b, "%d", 4), RW_ETOOBIG);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.p, "123", 3);
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
		cmocka_unit_test(ceiling), cmocka_unit_test(grow_and_insert),
		cmocka_unit_test(appendf), cmocka_unit_test(release),
		cmocka_unit_test(wipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
