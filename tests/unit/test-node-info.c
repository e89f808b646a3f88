/* SPDX-License-Identifier: GPL-2.0-or-later */
/* node-info.c (per-node meminfo) and runstate.c (what this dtierd owns). */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "node-info.h"
#include "runstate.h"
#include "test-util.h"

#define KIB 1024ULL

static void test_meminfo_parse(void **state)
{
	NodeMeminfo m = { 1, 2 };

	const char *text = "Node 1 MemTotal:        1048576 kB\n"
			   "Node 1 MemFree:          262144 kB\n"
			   "Node 1 MemUsed:          786432 kB\n"
			   "Node 1 Active:             1000 kB\n"
			   "Node 1 AnonPages:         40960 kB\n"
			   "Node 1 Shmem:              8192 kB\n"
			   "Node 1 ShmemPmdMapped:     2048 kB\n"
			   "Node 1 AnonHugePages:     30720 kB\n"
			   "Node 1 ShmemHugePages:     4096 kB\n"
			   "Node 1 HugePages_Total:     0\n";
	assert_int_equal(node_meminfo_parse(text, 1, &m), 0);
	assert_true(m.total_bytes == 1048576 * KIB);
	assert_true(m.free_bytes == 262144 * KIB);
	/* The transparent huge pages of anonymous and shmem memory (not
	 * ShmemPmdMapped, a subset) and what they are part of. */
	assert_true(m.anon_bytes == (40960 + 8192) * KIB);
	assert_true(m.anon_thp_bytes == (30720 + 4096) * KIB);

	/* Lines of another node do not count: "Node 1" must not match
	 * "Node 11" either. */
	const char *eleven = "Node 11 MemTotal:       2097152 kB\n"
			     "Node 11 MemFree:        1 kB\n"
			     "Node 1 MemTotal:        4096 kB\n";
	assert_int_equal(node_meminfo_parse(eleven, 1, &m), 0);
	assert_true(m.total_bytes == 4096 * KIB);
	assert_true(m.free_bytes == 0);
	assert_int_equal(node_meminfo_parse(eleven, 11, &m), 0);
	assert_true(m.total_bytes == 2097152 * KIB);
	assert_true(m.free_bytes == 1 * KIB);

	/* No MemTotal for the node: -EINVAL, output untouched. */
	m = (NodeMeminfo){ 1, 2 };
	assert_int_equal(node_meminfo_parse(text, 0, &m), -EINVAL);
	assert_int_equal(node_meminfo_parse("", 1, &m), -EINVAL);
	assert_int_equal(node_meminfo_parse("Node 1 MemFree: 5 kB\n", 1, &m), -EINVAL);
	assert_int_equal(node_meminfo_parse("Node 1 MemTotal: lots\n", 1, &m), -EINVAL);
	assert_true(m.total_bytes == 1 && m.free_bytes == 2);

	/* A memory-less node (CPU-only or not yet onlined CXL) has 0 kB. */
	assert_int_equal(node_meminfo_parse("Node 2 MemTotal: 0 kB\nNode 2 MemFree: 0 kB\n", 2, &m), 0);
	assert_true(m.total_bytes == 0);
}

static void test_meminfo_read(void **state)
{
	Sysfs fs;
	NodeMeminfo m;

	assert_int_equal(sysfs_open(tu_fixture("node-map-two-nodes"), &fs), 0);
	assert_int_equal(node_meminfo_read(&fs, 0, &m), 0);
	assert_true(m.total_bytes == 1179648 * KIB);
	assert_true(m.free_bytes == 786432 * KIB);
	assert_int_equal(node_meminfo_read(&fs, 1, &m), 0);
	assert_true(m.total_bytes == 917504 * KIB);
	assert_true(m.free_bytes == 917000 * KIB);
	assert_int_equal(node_meminfo_read(&fs, 2, &m), -ENOENT);
	sysfs_close(&fs);

	char *root = tu_mkdtemp();
	tu_sysfs_open(root, &fs);
	tu_write(root, "sys/devices/system/node/node3/meminfo", "garbage\n");
	assert_int_equal(node_meminfo_read(&fs, 3, &m), -EINVAL);
	tu_write(root, "sys/devices/system/node/node3/meminfo", "Node 3 MemTotal: 8 kB\n");
	assert_int_equal(node_meminfo_read(&fs, 3, &m), 0);
	assert_true(m.total_bytes == 8 * KIB);
	sysfs_close(&fs);
	tu_rmtree(root);
}

static void test_runstate_roundtrip(void **state)
{
	char *root = tu_mkdtemp();
	char dir[PATH_MAX];
	RunState s = { .pid = 1234, .kdamond = 2, .kdamond_pid = 98765, .created_kdamonds = true,
		       .damon_stat_taken = true, .reloads = 7, .reload_ok = true };
	RunState r;

	/* The run dir is created, 0755 under the unit's UMask=0077: dtierctl
	 * run by any user reads status.json in it. */
	snprintf(dir, sizeof(dir), "%s/run-dtierd", root);
	mode_t old = umask(077);
	assert_int_equal(runstate_write(dir, &s), 0);
	umask(old);
	struct stat sb;
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0755);
	assert_true(tu_exists(root, "run-dtierd/state"));
	assert_false(tu_exists(root, "run-dtierd/.state.tmp"));
	assert_int_equal(runstate_read(dir, &r), 0);
	assert_int_equal(r.pid, 1234);
	assert_int_equal(r.kdamond, 2);
	assert_true(r.kdamond_pid == 98765);
	assert_true(r.created_kdamonds);
	assert_true(r.damon_stat_taken);
	/* `dtierd --reload` waits for reloads to grow and reads reload_ok. */
	assert_true(r.reloads == 7);
	assert_true(r.reload_ok);

	/* Rewritten in place: the new values replace the old. */
	s = (RunState){ .pid = 1, .kdamond = 0, .kdamond_pid = -1 };
	assert_int_equal(runstate_write(dir, &s), 0);
	assert_int_equal(runstate_read(dir, &r), 0);
	assert_int_equal(r.pid, 1);
	assert_int_equal(r.kdamond, 0);
	assert_true(r.kdamond_pid == -1);
	assert_false(r.created_kdamonds);
	assert_false(r.damon_stat_taken);
	assert_true(r.reloads == 0);
	assert_false(r.reload_ok);

	/* The file is what runstate_parse() reads. */
	assert_int_equal(runstate_parse(tu_read(root, "run-dtierd/state"), &r), 0);
	assert_int_equal(r.pid, 1);

	assert_int_equal(runstate_remove(dir), 0);
	assert_false(tu_exists(root, "run-dtierd/state"));
	assert_int_equal(runstate_read(dir, &r), -ENOENT);
	/* Removing what is not there is fine (cleanup after cleanup). */
	assert_int_equal(runstate_remove(dir), 0);

	/* A run dir whose parent is missing: the error, nothing left. */
	snprintf(dir, sizeof(dir), "%s/no/such/dir", root);
	assert_int_equal(runstate_write(dir, &s), -ENOENT);
	tu_rmtree(root);
}

static void test_runstate_parse(void **state)
{
	RunState r = { .pid = 77 };

	/* Keys left out take "nothing owned" values. */
	assert_int_equal(runstate_parse("[dtierd]\npid = 5\n", &r), 0);
	assert_int_equal(r.pid, 5);
	assert_int_equal(r.kdamond, -1);
	assert_true(r.kdamond_pid == -1);
	assert_false(r.created_kdamonds);
	assert_false(r.damon_stat_taken);
	/* Comments, unknown keys and other sections are ignored. */
	assert_int_equal(runstate_parse("# c\n[other]\npid = x\n[dtierd]\nkdamond = 3\nfuture = 1\n", &r), 0);
	assert_int_equal(r.kdamond, 3);

	r = (RunState){ .pid = 77 };
	assert_int_equal(runstate_parse("[dtierd]\npid = abc\n", &r), -EINVAL);
	assert_int_equal(runstate_parse("[dtierd]\nkdamond = 1x\n", &r), -EINVAL);
	assert_int_equal(runstate_parse("[dtierd]\npid\n", &r), -EINVAL);
	assert_int_equal(runstate_parse("garbage\n", &r), -EINVAL);
	assert_int_equal(runstate_parse("", &r), -EINVAL);
	assert_int_equal(runstate_parse("[other]\npid = 1\n", &r), -EINVAL);
	assert_int_equal(r.pid, 77);

	char *root = tu_mkdtemp();
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", root);
	tu_write(root, "state", "[dtierd]\npid = 12\nkdamond = zero\n");
	assert_int_equal(runstate_read(dir, &r), -EINVAL);
	tu_write(root, "state", "\n");
	assert_int_equal(runstate_read(dir, &r), -EINVAL);
	assert_int_equal(r.pid, 77);
	tu_rmtree(root);
}

/* What is read back is range-checked; the file and its directory must be
 * plain, and root's or ours. */
static void test_runstate_safety(void **state)
{
	char *root = tu_mkdtemp();
	char dir[PATH_MAX], p[PATH_MAX + 16];
	RunState s = { .pid = 42, .kdamond = 0, .kdamond_pid = 4242, .digest = 0xfedcba9876543210ULL };
	RunState r;

	assert_int_equal(runstate_parse("[dtierd]\npid = 4294967297\n", &r), -EINVAL);
	assert_int_equal(runstate_parse("[dtierd]\npid = -5\n", &r), -EINVAL);
	assert_int_equal(runstate_parse("[dtierd]\nkdamond = 100000\n", &r), -EINVAL);
	assert_int_equal(runstate_parse("[dtierd]\ncreated_kdamonds = 2\n", &r), -EINVAL);
	assert_int_equal(runstate_parse("[dtierd]\nkdamond_pid = -2\n", &r), -EINVAL);

	snprintf(dir, sizeof(dir), "%s/run", root);
	assert_int_equal(runstate_write(dir, &s), 0);
	assert_int_equal(runstate_read(dir, &r), 0);
	assert_true(r.digest == 0xfedcba9876543210ULL);

	/* A symlink as the file: not followed, on reading or writing. */
	snprintf(p, sizeof(p), "%s/state", dir);
	assert_int_equal(unlink(p), 0);
	tu_symlink(root, "run/state", "../elsewhere");
	assert_int_equal(runstate_read(dir, &r), -EPERM);
	/* A planted temp file symlink is replaced, never written through. */
	tu_symlink(root, "run/.state.tmp", "../victim");
	assert_int_equal(runstate_write(dir, &s), 0);
	assert_false(tu_exists(root, "victim"));
	assert_int_equal(runstate_read(dir, &r), 0);

	/* A world-writable run dir: anyone could have planted the record. */
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(runstate_read(dir, &r), -EPERM);
	assert_int_equal(runstate_write(dir, &s), -EPERM);
	assert_int_equal(chmod(dir, 0755), 0);

	/* A symlink as the directory. */
	tu_symlink(root, "run-link", "run");
	snprintf(dir, sizeof(dir), "%s/run-link", root);
	assert_int_equal(runstate_read(dir, &r), -EPERM);
	assert_int_equal(runstate_write(dir, &s), -ENOTDIR);
	tu_rmtree(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meminfo_parse),
		cmocka_unit_test(test_meminfo_read),
		cmocka_unit_test(test_runstate_roundtrip),
		cmocka_unit_test(test_runstate_parse),
		cmocka_unit_test(test_runstate_safety),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
