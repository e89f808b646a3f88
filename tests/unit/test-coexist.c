/* SPDX-License-Identifier: GPL-2.0-or-later */
/* coexist.c: NUMA balancing's tiering mode and demotion, which move the
 * pages dtierd places. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coexist.h"
#include "test-util.h"

static void test_parse(void **state)
{
	int v = 42;

	for (int i = 0; i <= 3; i++) {
		char s[8];
		snprintf(s, sizeof(s), "%d\n", i);
		assert_int_equal(coexist_parse_numa_balancing(s, &v), 0);
		assert_int_equal(v, i);
	}
	v = 42;
	assert_int_equal(coexist_parse_numa_balancing("4", &v), -EINVAL);
	assert_int_equal(coexist_parse_numa_balancing("-1", &v), -EINVAL);
	assert_int_equal(coexist_parse_numa_balancing("", &v), -EINVAL);
	assert_int_equal(coexist_parse_numa_balancing("on", &v), -EINVAL);
	assert_int_equal(v, 42);

	assert_int_equal(coexist_parse_bool("true\n", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(coexist_parse_bool("false", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(coexist_parse_bool("1", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(coexist_parse_bool("off", &v), 0);
	assert_int_equal(v, 0);
	v = 42;
	assert_int_equal(coexist_parse_bool("maybe", &v), -EINVAL);
	assert_int_equal(coexist_parse_bool("", &v), -EINVAL);
	assert_int_equal(coexist_parse_bool("truetruetruetruetrue", &v), -EINVAL);
	assert_int_equal(v, 42);
}

static void test_evaluate(void **state)
{
	Coexist c;

	coexist_evaluate(0, 0, &c);
	assert_int_equal(c.flags, 0);
	assert_int_equal(c.n_msgs, 0);
	/* Absent files are no conflict. */
	coexist_evaluate(-1, -1, &c);
	assert_int_equal(c.flags, 0);
	assert_int_equal(c.numa_balancing, -1);

	/* 2 = tiering mode alone. */
	coexist_evaluate(2, 0, &c);
	assert_int_equal(c.flags, COEXIST_NUMA_BALANCING_TIERING);
	assert_int_equal(c.n_msgs, 1);
	assert_non_null(strstr(c.msgs[0], "memory tiering mode"));
	assert_non_null(strstr(c.msgs[0], "kernel.numa_balancing = 0"));
	/* 1 = normal mode alone. */
	coexist_evaluate(1, 0, &c);
	assert_int_equal(c.flags, COEXIST_NUMA_BALANCING_NORMAL);
	/* Demotion alone. */
	coexist_evaluate(0, 1, &c);
	assert_int_equal(c.flags, COEXIST_DEMOTION);
	assert_non_null(strstr(c.msgs[0], "demotion_enabled"));
}

static void test_fixtures(void **state)
{
	Sysfs fs;
	Coexist c;

	tu_sysfs_open(tu_fixture("coexist-conflicts"), &fs);
	assert_int_equal(coexist_check(&fs, &c), 0);
	assert_int_equal(c.numa_balancing, 3);
	assert_int_equal(c.demotion_enabled, 1);
	assert_int_equal(c.flags, COEXIST_NUMA_BALANCING_TIERING | COEXIST_NUMA_BALANCING_NORMAL | COEXIST_DEMOTION);
	assert_int_equal(c.n_msgs, 3);
	assert_non_null(strstr(c.msgs[0], "tiering"));
	assert_non_null(strstr(c.msgs[1], "node of the CPU"));
	assert_non_null(strstr(c.msgs[2], "demot"));
	sysfs_close(&fs);

	tu_sysfs_open(tu_fixture("coexist-quiet"), &fs);
	assert_int_equal(coexist_check(&fs, &c), 0);
	assert_int_equal(c.numa_balancing, 0);
	assert_int_equal(c.demotion_enabled, 0);
	assert_int_equal(c.flags, 0);
	assert_int_equal(c.n_msgs, 0);
	sysfs_close(&fs);

	/* A kernel without either file: nothing to report. */
	char *root = tu_mkdtemp();
	tu_sysfs_open(root, &fs);
	assert_int_equal(coexist_check(&fs, &c), 0);
	assert_int_equal(c.numa_balancing, -1);
	assert_int_equal(c.demotion_enabled, -1);
	assert_int_equal(c.flags, 0);
	/* Garbage is an error, not "off". */
	tu_write(root, "proc/sys/kernel/numa_balancing", "7\n");
	c.flags = 99;
	assert_int_equal(coexist_check(&fs, &c), -EINVAL);
	assert_int_equal(c.flags, 99);
	tu_write(root, "proc/sys/kernel/numa_balancing", "2\n");
	tu_write(root, "sys/kernel/mm/numa/demotion_enabled", "perhaps\n");
	assert_int_equal(coexist_check(&fs, &c), -EINVAL);
	tu_write(root, "sys/kernel/mm/numa/demotion_enabled", "false\n");
	assert_int_equal(coexist_check(&fs, &c), 0);
	assert_int_equal(c.flags, COEXIST_NUMA_BALANCING_TIERING);
	/* Unreadable (a directory where the file should be): the errno. */
	tu_unlink(root, "sys/kernel/mm/numa/demotion_enabled");
	tu_mkdirs(root, "sys/kernel/mm/numa/demotion_enabled");
	assert_int_equal(coexist_check(&fs, &c), -EISDIR);
	sysfs_close(&fs);
	tu_rmtree(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_evaluate),
		cmocka_unit_test(test_fixtures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
