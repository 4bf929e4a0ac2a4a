/* test_scheduler_gap.c: the time between scheduler cycles
 * (rw_scheduler_gap_ms, src/engine/scheduler.c): the minimum gap after a
 * cycle that filed something or was short, the cycle's own length after a
 * long one that filed nothing; and whether the next comes at once
 * (rw_scheduler_more: a full call, or a backlog left). */
#include "testlib.h"

#include <stdint.h>

#include "scheduler.h"

static void test_gap(void **state)
{
	(void)state;
	static const struct {
		uint64_t took;
		int batches;
		uint64_t want;
	} cases[] = {
		{ 0, 0, RW_SCHEDULER_MIN_GAP_MS },
		{ 5, 0, RW_SCHEDULER_MIN_GAP_MS },
		{ RW_SCHEDULER_MIN_GAP_MS, 0, RW_SCHEDULER_MIN_GAP_MS },
		{ RW_SCHEDULER_MIN_GAP_MS + 1, 0, RW_SCHEDULER_MIN_GAP_MS + 1 },
		{ 350, 0, 350 },                     /* found nothing: as long again */
		{ 350, 1, RW_SCHEDULER_MIN_GAP_MS }, /* filed some: soon */
		{ 900, 100, RW_SCHEDULER_MIN_GAP_MS },
		{ 86400000, 0, 86400000 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(rw_scheduler_gap_ms(cases[i].took, cases[i].batches),
				 cases[i].want);
}

static void test_more(void **state)
{
	(void)state;
	static const struct {
		int batches;
		unsigned max;
		int left;
		int want;
	} cases[] = {
		{ 0, 100, 0, 0 },   /* nothing filed */
		{ 0, 100, 1, 0 },   /* nothing filed, a stale backlog: the poll decides */
		{ 20, 100, 0, 0 },  /* all that was due */
		{ 20, 100, 1, 1 },  /* the first call of a burst */
		{ 100, 100, 0, 1 }, /* a full call */
		{ 100, 100, 1, 1 }, { 1, 1, 0, 1 }, { 5, 100, 1, 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(rw_scheduler_more(cases[i].batches, cases[i].max, cases[i].left),
				 cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_gap),
					    cmocka_unit_test(test_more) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
