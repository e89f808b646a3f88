/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tried-regions.c: region directories are read in numeric order whatever
 * their names (docs/kernel-interface.md), and broken ones are errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test-util.h"
#include "tried-regions.h"

#define DIR "sys/kernel/mm/damon/admin/kdamonds/0/contexts/0/schemes/0/tried_regions"

typedef struct Env {
	char *root;
	Sysfs fs;
} Env;

static int setup(void **state)
{
	Env *e = calloc(1, sizeof(*e));
	e->root = tu_mkdtemp();
	tu_sysfs_open(e->root, &e->fs);
	tu_mkdirs(e->root, DIR);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	Env *e = *state;
	sysfs_close(&e->fs);
	tu_rmtree(e->root);
	free(e);
	return 0;
}

static void put_region(Env *e, const char *name, uint64_t start, uint64_t end, unsigned acc, unsigned age)
{
	char p[512];
	snprintf(p, sizeof(p), DIR "/%s/start", name);
	tu_write(e->root, p, "%llu\n", (unsigned long long)start);
	snprintf(p, sizeof(p), DIR "/%s/end", name);
	tu_write(e->root, p, "%llu\n", (unsigned long long)end);
	snprintf(p, sizeof(p), DIR "/%s/nr_accesses", name);
	tu_write(e->root, p, "%u\n", acc);
	snprintf(p, sizeof(p), DIR "/%s/age", name);
	tu_write(e->root, p, "%u\n", age);
	/* 6.14+ also has sz_filter_passed: ignored. */
	snprintf(p, sizeof(p), DIR "/%s/sz_filter_passed", name);
	tu_write(e->root, p, "0\n");
}

static void test_numeric_order(void **state)
{
	Env *e = *state;
	RegionList l = { 0 };

	/* Created out of order; names as 6.14-7.1 and 6.2-6.13 produce them.
	 * Lexicographic order would be 1, 101, 17, 3, 5. */
	put_region(e, "17", 0x40000000, 0x48000000, 20, 3);
	put_region(e, "3", 0x10000000, 0x18000000, 5, 1);
	put_region(e, "101", 0x50000000, 0x50001000, 1, 4294967295u);
	put_region(e, "1", 0x1000, 0x200000, 0, 0);
	put_region(e, "5", 0x20000000, 0x30000000, 12, 100);
	tu_write(e->root, DIR "/total_bytes", "%llu\n", 0x8000000ULL * 2 + 0x1000 + 0x1ff000 + 0x10000000);

	assert_int_equal(tried_regions_read(&e->fs, DIR, TRIED_ALL, &l), 0);
	assert_int_equal(l.n, 5);
	static const Region want[] = {
		{ 0x1000, 0x200000, 0, 0 },
		{ 0x10000000, 0x18000000, 5, 1 },
		{ 0x20000000, 0x30000000, 12, 100 },
		{ 0x40000000, 0x48000000, 20, 3 },
		{ 0x50000000, 0x50001000, 1, 4294967295u },
	};
	for (size_t i = 0; i < 5; i++) {
		assert_true(l.v[i].start == want[i].start);
		assert_true(l.v[i].end == want[i].end);
		assert_int_equal(l.v[i].nr_accesses, want[i].nr_accesses);
		assert_int_equal(l.v[i].age, want[i].age);
	}
	assert_true(l.total_bytes == 0x8000000ULL * 2 + 0x1000 + 0x1ff000 + 0x10000000);
	region_list_free(&l);
	assert_null(l.v);
	assert_int_equal(l.n, 0);

	/* A leading slash is the same directory. */
	assert_int_equal(tried_regions_read(&e->fs, "/" DIR, TRIED_ALL, &l), 0);
	assert_int_equal(l.n, 5);
	region_list_free(&l);
}

static void test_many(void **state)
{
	Env *e = *state;
	RegionList l = { 0 };
	char name[16];

	/* More than the first allocation (64), in reverse creation order. */
	for (int i = 299; i >= 0; i--) {
		snprintf(name, sizeof(name), "%d", 2 * i + 1);
		put_region(e, name, (uint64_t)i << 21, ((uint64_t)i + 1) << 21, (unsigned)i % 21, (unsigned)i);
	}
	assert_int_equal(tried_regions_read(&e->fs, DIR, TRIED_ALL, &l), 0);
	assert_int_equal(l.n, 300);
	for (size_t i = 0; i < 300; i++) {
		assert_true(l.v[i].start == (uint64_t)i << 21);
		assert_int_equal(l.v[i].age, i);
	}
	/* No total_bytes (before 6.6): 0. */
	assert_true(l.total_bytes == 0);
	region_list_free(&l);
}

static void test_empty(void **state)
{
	Env *e = *state;
	RegionList l = { .n = 99 };

	tu_write(e->root, DIR "/total_bytes", "0\n");
	assert_int_equal(tried_regions_read(&e->fs, DIR, TRIED_ALL, &l), 0);
	assert_int_equal(l.n, 0);
	assert_true(l.total_bytes == 0);
	region_list_free(&l);
	/* Non-numeric entries are not regions. */
	tu_write(e->root, DIR "/x1/start", "0\n");
	tu_mkdirs(e->root, DIR "/.hidden");
	assert_int_equal(tried_regions_read(&e->fs, DIR, TRIED_ALL, &l), 0);
	assert_int_equal(l.n, 0);
	region_list_free(&l);
}

static void test_errors(void **state)
{
	Env *e = *state;
	RegionList l = { .n = 99 };

	/* No such directory. */
	assert_int_equal(tried_regions_read(&e->fs, DIR "/../../7/tried_regions", TRIED_ALL, &l), -ENOENT);
	assert_int_equal(l.n, 99);

	/* A region missing a file: -EIO (the kernel always writes all four). */
	put_region(e, "1", 0, 4096, 1, 1);
	put_region(e, "3", 4096, 8192, 1, 1);
	tu_unlink(e->root, DIR "/3/age");
	assert_int_equal(tried_regions_read(&e->fs, DIR, TRIED_ALL, &l), -EIO);
	assert_int_equal(l.n, 99);
	/* Without the age, the age file is not opened at all: read as 0. */
	assert_int_equal(tried_regions_read(&e->fs, DIR, TRIED_NO_AGE, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].age, 0);
	assert_int_equal(l.v[1].nr_accesses, 1);
	assert_true(l.v[1].start == 4096 && l.v[1].end == 8192);
	region_list_free(&l);
	l.n = 99;
	tu_unlink(e->root, DIR "/3/nr_accesses");
	assert_int_equal(tried_regions_read(&e->fs, DIR, TRIED_NO_AGE, &l), -EIO);
	assert_int_equal(l.n, 99);
	put_region(e, "3", 4096, 8192, 1, 1);
	assert_int_equal(tried_regions_read(&e->fs, DIR, TRIED_ALL, &l), 0);
	assert_int_equal(l.n, 2);
	region_list_free(&l);
	l.n = 99;

	/* Garbage. */
	tu_write(e->root, DIR "/3/nr_accesses", "many\n");
	assert_int_equal(tried_regions_read(&e->fs, DIR, TRIED_ALL, &l), -EINVAL);
	tu_write(e->root, DIR "/3/nr_accesses", "-1\n");
	assert_int_equal(tried_regions_read(&e->fs, DIR, TRIED_ALL, &l), -EINVAL);
	tu_write(e->root, DIR "/3/nr_accesses", "\n");
	assert_int_equal(tried_regions_read(&e->fs, DIR, TRIED_ALL, &l), -EINVAL);
	/* More than the kernel's unsigned int can hold. */
	tu_write(e->root, DIR "/3/nr_accesses", "4294967296\n");
	assert_int_equal(tried_regions_read(&e->fs, DIR, TRIED_ALL, &l), -EINVAL);
	tu_write(e->root, DIR "/3/nr_accesses", "1\n");
	tu_write(e->root, DIR "/3/age", "4294967296\n");
	assert_int_equal(tried_regions_read(&e->fs, DIR, TRIED_ALL, &l), -EINVAL);
	tu_write(e->root, DIR "/3/age", "1\n");
	tu_write(e->root, DIR "/3/start", "0x1000\n");
	assert_int_equal(tried_regions_read(&e->fs, DIR, TRIED_ALL, &l), -EINVAL);
	tu_write(e->root, DIR "/3/start", "4096\n");

	/* end < start. An empty region (end == start) is valid. */
	tu_write(e->root, DIR "/3/end", "4095\n");
	assert_int_equal(tried_regions_read(&e->fs, DIR, TRIED_ALL, &l), -EINVAL);
	assert_int_equal(l.n, 99);
	tu_write(e->root, DIR "/3/end", "4096\n");
	assert_int_equal(tried_regions_read(&e->fs, DIR, TRIED_ALL, &l), 0);
	assert_int_equal(l.n, 2);
	region_list_free(&l);

	/* A region name that is a file, not a directory: its fields are
	 * missing. */
	tu_write(e->root, DIR "/9", "x\n");
	l.n = 99;
	assert_true(tried_regions_read(&e->fs, DIR, TRIED_ALL, &l) < 0);
	assert_int_equal(l.n, 99);
}

static void test_append(void **state)
{
	RegionList l = { 0 };
	for (uint32_t i = 0; i < 1000; i++) {
		Region r = { .start = i, .end = i + 1, .nr_accesses = i, .age = 2 * i };
		assert_int_equal(region_list_append(&l, &r), 0);
	}
	assert_int_equal(l.n, 1000);
	assert_true(l.cap >= 1000);
	assert_int_equal(l.v[999].age, 1998);
	region_list_free(&l);
	region_list_free(&l);
}

/* Sorted by start; overlap only where a region starts before the one
 * below it ends (adjacent regions touch, they do not overlap). */
static void test_sort_overlaps(void **state)
{
	RegionList l = { 0 };
	const Region in[] = { { .start = 8192, .end = 12288 }, { .start = 0, .end = 4096 },
			      { .start = 4096, .end = 8192 } };

	(void)state;
	assert_false(region_list_sort_overlaps(&l));
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(region_list_append(&l, &in[i]), 0);
	assert_false(region_list_sort_overlaps(&l));
	for (size_t i = 0; i < 3; i++)
		assert_true(l.v[i].start == 4096 * i && l.v[i].end == 4096 * (i + 1));
	/* The same region twice, as 7.3 once listed thousands. */
	assert_int_equal(region_list_append(&l, &in[1]), 0);
	assert_true(region_list_sort_overlaps(&l));
	region_list_free(&l);
	const Region part[] = { { .start = 0, .end = 8192 }, { .start = 4096, .end = 12288 } };
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(region_list_append(&l, &part[i]), 0);
	assert_true(region_list_sort_overlaps(&l));
	region_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_numeric_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_sort_overlaps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
