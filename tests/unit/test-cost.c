/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cost.c: CPU time per interval over the last minute, median and max. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cost.h"

static void test_empty(void **state)
{
	CostRing *r = malloc(sizeof(*r));
	CostStats s = { .n = 77 };

	cost_ring_init(r, 0);
	assert_true(r->window_ms == 60000);
	assert_int_equal(cost_ring_stats(r, 1000, &s), -ENODATA);
	assert_int_equal(s.n, 77);
	free(r);
}

static void test_median_max(void **state)
{
	CostRing *r = malloc(sizeof(*r));
	CostStats s;

	cost_ring_init(r, 60000);
	/* One sample: it is the median, the max and the last. */
	cost_ring_add(r, 1000, 2500);
	assert_int_equal(cost_ring_stats(r, 1000, &s), 0);
	assert_int_equal(s.n, 1);
	assert_true(s.median_us == 2500 && s.max_us == 2500 && s.last_us == 2500);
	/* Odd count: the middle one; an outlier moves the max, not the median. */
	cost_ring_add(r, 2000, 900);
	cost_ring_add(r, 3000, 41000);
	assert_int_equal(cost_ring_stats(r, 3000, &s), 0);
	assert_int_equal(s.n, 3);
	assert_true(s.median_us == 2500 && s.max_us == 41000 && s.last_us == 41000);
	/* Even count: the mean of the two middle ones. */
	cost_ring_add(r, 4000, 1000);
	assert_int_equal(cost_ring_stats(r, 4000, &s), 0);
	assert_true(s.median_us == (1000 + 2500) / 2);
	assert_true(s.last_us == 1000);
	free(r);
}

static void test_window(void **state)
{
	CostRing *r = malloc(sizeof(*r));
	CostStats s;

	/* 1 s intervals for two minutes, the first minute expensive. */
	cost_ring_init(r, 60000);
	for (uint64_t t = 1; t <= 120; t++)
		cost_ring_add(r, t * 1000, t <= 60 ? 50000 : 3000 + t);
	assert_int_equal(cost_ring_stats(r, 120000, &s), 0);
	/* (60 s, 120 s]: the cheap minute only. */
	assert_int_equal(s.n, 60);
	assert_true(s.max_us == 3120);
	assert_true(s.median_us == (3090 + 3091) / 2);
	/* An hour later nothing is recent. */
	assert_int_equal(cost_ring_stats(r, 3600000, &s), -ENODATA);
	/* A sample stamped after NOW (a clock read out of order) counts. */
	cost_ring_add(r, 3700000, 7);
	assert_int_equal(cost_ring_stats(r, 3600000, &s), 0);
	assert_int_equal(s.n, 1);
	free(r);
}

static void test_wrap(void **state)
{
	CostRing *r = malloc(sizeof(*r));
	CostStats s;

	/* More samples than the ring holds (100 ms intervals for 2 minutes,
	 * a window of 10 minutes): the newest COST_MAX_SAMPLES stay. */
	cost_ring_init(r, 600000);
	for (uint64_t i = 0; i < 1200; i++)
		cost_ring_add(r, i * 100, i);
	assert_int_equal(r->n, COST_MAX_SAMPLES);
	assert_int_equal(cost_ring_stats(r, 1200 * 100, &s), 0);
	assert_int_equal(s.n, COST_MAX_SAMPLES);
	assert_true(s.max_us == 1199 && s.last_us == 1199);
	assert_true(s.median_us == (899 + 900) / 2);
	free(r);
}

static void test_cpu_clock(void **state)
{
	uint64_t a, b;
	volatile uint64_t x = 0;

	assert_int_equal(cost_cpu_us(&a), 0);
	for (int i = 0; i < 20000000; i++)
		x += (uint64_t)i;
	assert_int_equal(cost_cpu_us(&b), 0);
	assert_true(b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_median_max),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_cpu_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
