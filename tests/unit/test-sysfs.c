/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sysfs.c: rooted reads and writes, the write hook, the EBUSY backoff. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sysfs.h"
#include "util.h"
#include "test-util.h"

typedef struct Env {
	char *root;
	Sysfs fs;
} Env;

static int setup(void **state)
{
	Env *e = calloc(1, sizeof(*e));
	e->root = tu_mkdtemp();
	tu_sysfs_open(e->root, &e->fs);
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

static void test_open(void **state)
{
	Env *e = *state;
	Sysfs fs;
	char path[PATH_MAX];

	/* Production defaults of the EBUSY backoff. */
	assert_int_equal(sysfs_open(e->root, &fs), 0);
	assert_true(fs.root_fd >= 0);
	assert_null(fs.write_hook);
	assert_int_equal(fs.busy_retries, 12);
	assert_int_equal(fs.busy_sleep_us, 2000);
	assert_int_equal(fs.n_writes, 0);
	sysfs_close(&fs);
	assert_int_equal(fs.root_fd, -1);
	sysfs_close(&fs); /* idempotent */

	snprintf(path, sizeof(path), "%s/missing", e->root);
	assert_int_equal(sysfs_open(path, &fs), -ENOENT);
	tu_write(e->root, "file", "x");
	snprintf(path, sizeof(path), "%s/file", e->root);
	assert_int_equal(sysfs_open(path, &fs), -ENOTDIR);
}

static void test_read(void **state)
{
	Env *e = *state;
	char buf[64];
	uint64_t u;
	int64_t s;

	tu_write(e->root, "a/b/str", "paddr\n");
	assert_int_equal(sysfs_read_str(&e->fs, buf, sizeof(buf), "a/%s/str", "b"), 0);
	assert_string_equal(buf, "paddr");
	/* A leading slash still means "under the root". */
	assert_int_equal(sysfs_read_str(&e->fs, buf, sizeof(buf), "/a/b/str"), 0);
	assert_string_equal(buf, "paddr");
	/* Multi-line values keep their inner newlines, lose the last. */
	tu_write(e->root, "ops", "vaddr\nfvaddr\npaddr\n");
	assert_int_equal(sysfs_read_str(&e->fs, buf, sizeof(buf), "ops"), 0);
	assert_string_equal(buf, "vaddr\nfvaddr\npaddr");
	/* Too small a buffer is an error, not a silently shorter value. */
	strcpy(buf, "untouched");
	assert_int_equal(sysfs_read_str(&e->fs, buf, 4, "ops"), -EOVERFLOW);
	assert_string_equal(buf, "untouched");
	tu_write_bytes(e->root, "empty", "", 0);
	assert_int_equal(sysfs_read_str(&e->fs, buf, sizeof(buf), "empty"), 0);
	assert_string_equal(buf, "");

	tu_write(e->root, "n", "18446744073709551615\n");
	assert_int_equal(sysfs_read_u64(&e->fs, &u, "n"), 0);
	assert_true(u == UINT64_MAX);
	tu_write(e->root, "n", "0\n");
	assert_int_equal(sysfs_read_u64(&e->fs, &u, "n"), 0);
	assert_true(u == 0);
	tu_write(e->root, "neg", "-1\n");
	assert_int_equal(sysfs_read_s64(&e->fs, &s, "neg"), 0);
	assert_true(s == -1);

	/* Errors leave the output untouched. */
	u = 77;
	s = 77;
	assert_int_equal(sysfs_read_u64(&e->fs, &u, "neg"), -EINVAL);
	tu_write(e->root, "garbage", "12abc\n");
	assert_int_equal(sysfs_read_u64(&e->fs, &u, "garbage"), -EINVAL);
	assert_int_equal(sysfs_read_s64(&e->fs, &s, "garbage"), -EINVAL);
	assert_int_equal(sysfs_read_u64(&e->fs, &u, "empty"), -EINVAL);
	assert_int_equal(sysfs_read_s64(&e->fs, &s, "empty"), -EINVAL);
	/* Decimal only: the kernel prints %lu. */
	tu_write(e->root, "hex", "0x10\n");
	assert_int_equal(sysfs_read_u64(&e->fs, &u, "hex"), -EINVAL);
	tu_write(e->root, "big", "18446744073709551616\n");
	assert_int_equal(sysfs_read_u64(&e->fs, &u, "big"), -ERANGE);
	assert_int_equal(sysfs_read_u64(&e->fs, &u, "missing"), -ENOENT);
	assert_int_equal(sysfs_read_s64(&e->fs, &s, "missing"), -ENOENT);
	assert_int_equal(sysfs_read_str(&e->fs, buf, sizeof(buf), "a"), -EISDIR);
	assert_true(u == 77);
	assert_true(s == 77);

	assert_true(sysfs_exists(&e->fs, "a/b"));
	assert_true(sysfs_exists(&e->fs, "a/b/str"));
	assert_false(sysfs_exists(&e->fs, "a/c"));

	/* A path longer than PATH_MAX is refused, not truncated to another
	 * file. */
	char *longname = malloc(PATH_MAX + 10);
	memset(longname, 'x', PATH_MAX + 9);
	longname[PATH_MAX + 9] = '\0';
	assert_int_equal(sysfs_read_u64(&e->fs, &u, "%s", longname), -ENAMETOOLONG);
	assert_int_equal(sysfs_write_str(&e->fs, "1", "%s", longname), -ENAMETOOLONG);
	assert_false(sysfs_exists(&e->fs, "%s", longname));
	free(longname);
}

static void test_read_overflow(void **state)
{
	Env *e = *state;
	char buf[64], big[128];
	uint64_t u = 77;

	/* 64 zeros and a 5: 65 bytes, one more than sysfs_read_u64()'s
	 * buffer holds. Cut at the buffer it would read as 0. */
	memset(big, '0', 64);
	snprintf(big + 64, sizeof(big) - 64, "5\n");
	tu_write(e->root, "long", "%s", big);
	assert_int_equal(sysfs_read_u64(&e->fs, &u, "long"), -EOVERFLOW);
	assert_true(u == 77);
	/* A value that fills the buffer exactly (63 bytes and the NUL) is
	 * read whole, with or without its newline; one byte more is an
	 * overflow. */
	memset(big, '7', 63);
	big[63] = '\0';
	tu_write(e->root, "exact", "%s", big);
	assert_int_equal(sysfs_read_str(&e->fs, buf, sizeof(buf), "exact"), 0);
	assert_string_equal(buf, big);
	tu_write(e->root, "exact", "%s\n", big);
	assert_int_equal(sysfs_read_str(&e->fs, buf, sizeof(buf), "exact"), 0);
	assert_string_equal(buf, big);
	tu_write(e->root, "over", "%s7", big);
	assert_int_equal(sysfs_read_str(&e->fs, buf, sizeof(buf), "over"), -EOVERFLOW);
	tu_write(e->root, "over", "%s7\n", big);
	assert_int_equal(sysfs_read_str(&e->fs, buf, sizeof(buf), "over"), -EOVERFLOW);
	/* Size 1 holds only the NUL: an empty value fits, anything else not. */
	tu_write_bytes(e->root, "empty", "", 0);
	assert_int_equal(sysfs_read_str(&e->fs, buf, 1, "empty"), 0);
	assert_string_equal(buf, "");
	tu_write(e->root, "nl", "\n");
	assert_int_equal(sysfs_read_str(&e->fs, buf, 1, "nl"), 0);
	assert_string_equal(buf, "");
	assert_int_equal(sysfs_read_str(&e->fs, buf, 1, "exact"), -EOVERFLOW);
}

static void test_read_short(void **state)
{
	Env *e = *state;
	char path[PATH_MAX];
	uint64_t u = 0;

	/* A read that returns part of the value (here a FIFO written in two
	 * pieces) is continued to the end of file, not parsed as is. */
	snprintf(path, sizeof(path), "%s/fifo", e->root);
	assert_int_equal(mkfifo(path, 0600), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_WRONLY);
		if (fd < 0 || write(fd, "12", 2) != 2)
			_exit(1);
		usleep(50000);
		_exit(write(fd, "34\n", 3) == 3 ? 0 : 1);
	}
	int r = sysfs_read_u64(&e->fs, &u, "fifo");
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(r, 0);
	assert_true(u == 1234);
}

static int read_hook(void *userdata, const char *path)
{
	unsigned *busy = userdata;
	(void)path;
	if (*busy) {
		--*busy;
		return -EBUSY;
	}
	return 0;
}

static void test_read_hook(void **state)
{
	Env *e = *state;
	unsigned busy = 1;
	char buf[16];
	uint64_t u = 77;

	/* DAMON's state and pid handlers take a trylock and return EBUSY
	 * to reads too: the error reaches the caller, the output is not
	 * written, and the next read goes through. */
	e->fs.read_hook = read_hook;
	e->fs.hook_data = &busy;
	tu_write(e->root, "state", "on\n");
	tu_write(e->root, "n", "5\n");
	assert_int_equal(sysfs_read_u64(&e->fs, &u, "n"), -EBUSY);
	assert_true(u == 77);
	assert_int_equal(sysfs_read_u64(&e->fs, &u, "n"), 0);
	assert_true(u == 5);
	busy = 1;
	assert_int_equal(sysfs_read_str(&e->fs, buf, sizeof(buf), "state"), -EBUSY);
	assert_int_equal(sysfs_read_str(&e->fs, buf, sizeof(buf), "state"), 0);
	assert_string_equal(buf, "on");
}

/* A file read every interval stays open and is re-read in place. */
static void test_read_kept(void **state)
{
	Env *e = *state;
	char buf[64];
	uint64_t u = 0;

	/* Not on sysfs: read afresh each time, nothing kept. */
	tu_write(e->root, "s/sz_tried", "4096\n");
	assert_int_equal(sysfs_read_u64_kept(&e->fs, &u, "s/sz_tried"), 0);
	assert_true(u == 4096);
	assert_int_equal(sysfs_kept_count(&e->fs), 0);

	/* Kept: a value rewritten in place (as sysfs shows a new one) is
	 * read new, through the one kept file. */
	e->fs.keep_any_fs = true;
	for (unsigned i = 0; i < 100; i++) {
		tu_write(e->root, "s/sz_tried", "%u\n", 1000 + i);
		assert_int_equal(sysfs_read_u64_kept(&e->fs, &u, "/s/sz_tried"), 0);
		assert_true(u == 1000 + i);
	}
	assert_int_equal(sysfs_kept_count(&e->fs), 1);

	/* A kept file whose read fails is opened again, and the error of
	 * that fresh read is what the caller gets; once readable, the same
	 * slot keeps it (no second entry). */
	tu_write(e->root, "s/sz_tried", "%070d\n", 5);
	assert_int_equal(sysfs_read_u64_kept(&e->fs, &u, "s/sz_tried"), -EOVERFLOW);
	tu_write(e->root, "s/sz_tried", "7\n");
	assert_int_equal(sysfs_read_u64_kept(&e->fs, &u, "s/sz_tried"), 0);
	assert_true(u == 7);
	assert_int_equal(sysfs_kept_count(&e->fs), 1);
	assert_int_equal(sysfs_read_u64_kept(&e->fs, &u, "s/gone"), -ENOENT);

	/* The read hook still sees (and may fail) every read. */
	unsigned busy = 1;
	e->fs.read_hook = read_hook;
	e->fs.hook_data = &busy;
	assert_int_equal(sysfs_read_u64_kept(&e->fs, &u, "s/sz_tried"), -EBUSY);
	e->fs.read_hook = NULL;

	/* More files than the table holds are all still read right. */
	for (unsigned i = 0; i < SYSFS_KEPT_MAX + 20; i++) {
		char rel[32];
		snprintf(rel, sizeof(rel), "many/f%u", i);
		tu_write(e->root, rel, "%u\n", i);
		assert_int_equal(sysfs_read_u64_kept(&e->fs, &u, "many/f%u", i), 0);
		assert_true(u == i);
	}
	assert_int_equal(sysfs_kept_count(&e->fs), SYSFS_KEPT_MAX);
	assert_int_equal(sysfs_read_str_kept(&e->fs, buf, sizeof(buf), "many/f%u", SYSFS_KEPT_MAX + 3), 0);
	assert_string_equal(buf, "259");
}

/* On the real sysfs (read-only, harmless files): a kept attribute is kept,
 * and a pread() at offset 0 runs its show() again. */
static void test_read_kept_real_sysfs(void **state)
{
	(void)state;
	Sysfs fs;
	char a[4096], b[4096];

	if (access("/sys/devices/system/node/node0/meminfo", R_OK) < 0)
		skip();
	assert_int_equal(sysfs_open("/", &fs), 0);
	assert_int_equal(sysfs_read_str_kept(&fs, a, sizeof(a), "sys/devices/system/node/node0/meminfo"), 0);
	assert_int_equal(sysfs_read_str_kept(&fs, b, sizeof(b), "sys/devices/system/node/node0/meminfo"), 0);
	assert_int_equal(sysfs_kept_count(&fs), 1);
	assert_non_null(strstr(a, "MemTotal"));
	assert_non_null(strstr(b, "MemTotal"));
	/* MemTotal comes first and does not change between the two. */
	assert_memory_equal(a, b, (size_t)(strchr(a, '\n') - a));
	sysfs_close(&fs);
}

static void test_write(void **state)
{
	Env *e = *state;

	tu_write(e->root, "v", "old value that is long\n");
	assert_int_equal(sysfs_write_str(&e->fs, "on", "v"), 0);
	/* Exactly the value: no newline added, nothing of the old left. */
	assert_string_equal(tu_read(e->root, "v"), "on");
	assert_int_equal(e->fs.n_writes, 1);
	/* Never creates files: a missing attribute is an error. */
	assert_int_equal(sysfs_write_str(&e->fs, "1", "nope"), -ENOENT);
	assert_false(tu_exists(e->root, "nope"));
	assert_int_equal(sysfs_write_str(&e->fs, "1", "nodir/nope"), -ENOENT);
	tu_mkdirs(e->root, "dir");
	assert_int_equal(sysfs_write_str(&e->fs, "1", "dir"), -EISDIR);
	assert_int_equal(e->fs.n_writes, 1);

	/* Decimal with no leading zeros: the kernel parses base 0, where
	 * "010" would be 8. */
	static const struct {
		uint64_t v;
		const char *want;
	} u[] = {
		{ 0, "0" }, { 8, "8" }, { 10, "10" }, { 4096, "4096" }, { 4294967295ULL, "4294967295" },
		{ UINT64_MAX, "18446744073709551615" },
	};
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		assert_int_equal(sysfs_write_u64(&e->fs, u[i].v, "/v"), 0);
		assert_string_equal(tu_read(e->root, "v"), u[i].want);
	}
	assert_int_equal(sysfs_write_s64(&e->fs, -1, "v"), 0);
	assert_string_equal(tu_read(e->root, "v"), "-1");
	assert_int_equal(sysfs_write_s64(&e->fs, INT64_MIN, "v"), 0);
	assert_string_equal(tu_read(e->root, "v"), "-9223372036854775808");
	assert_int_equal(sysfs_write_u64(&e->fs, 1, "missing"), -ENOENT);
	assert_int_equal(sysfs_write_s64(&e->fs, 1, "missing"), -ENOENT);
}

static void test_write_errors(void **state)
{
	Env *e = *state;

	/* A write error is returned as is (ENOSPC from /dev/full). */
	if (access("/dev/full", W_OK) == 0) {
		tu_symlink(e->root, "full", "/dev/full");
		assert_int_equal(sysfs_write_str(&e->fs, "1", "full"), -ENOSPC);
	}

	/* A short write is -EIO: provoke one with RLIMIT_FSIZE (the write
	 * is cut at the limit instead of failing). */
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
	tu_write_bytes(e->root, "short", "", 0);
	lim = old;
	lim.rlim_cur = 4;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int r = sysfs_write_str(&e->fs, "123456", "short");
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_sig);
	assert_int_equal(r, -EIO);
	assert_string_equal(tu_read(e->root, "short"), "1234");
}

typedef struct Hook {
	unsigned busy;   /* fail this many times with EBUSY */
	int other;       /* then, if non-zero, fail with this */
	unsigned calls;
	char path[256], value[64];
} Hook;

static int hook(void *userdata, const char *path, const char *value)
{
	Hook *h = userdata;
	h->calls++;
	snprintf(h->path, sizeof(h->path), "%s", path);
	snprintf(h->value, sizeof(h->value), "%s", value);
	if (h->busy) {
		h->busy--;
		return -EBUSY;
	}
	return h->other;
}

static void test_hook(void **state)
{
	Env *e = *state;
	Hook h = { 0 };

	e->fs.write_hook = hook;
	e->fs.hook_data = &h;
	tu_write(e->root, "k/state", "off\n");
	/* The hook sees the root-relative path and the value. */
	assert_int_equal(sysfs_write_u64(&e->fs, 42, "/k/%s", "state"), 0);
	assert_int_equal(h.calls, 1);
	assert_string_equal(h.path, "k/state");
	assert_string_equal(h.value, "42");
	/* A hook error fails the write before it happens. */
	h.other = -EINVAL;
	assert_int_equal(sysfs_write_str(&e->fs, "on", "k/state"), -EINVAL);
	assert_string_equal(tu_read(e->root, "k/state"), "42");
	assert_int_equal(e->fs.n_writes, 1);
	/* Plain writes do not retry EBUSY. */
	h = (Hook){ .busy = 1 };
	assert_int_equal(sysfs_write_str(&e->fs, "on", "k/state"), -EBUSY);
	assert_int_equal(h.calls, 1);
}

static void test_retry(void **state)
{
	Env *e = *state;
	Hook h;

	e->fs.write_hook = hook;
	e->fs.hook_data = &h;
	e->fs.busy_retries = 4;
	e->fs.busy_sleep_us = 1;
	tu_write(e->root, "state", "off\n");

	/* Busy k times, k <= retries: succeeds on attempt k + 1. */
	for (unsigned k = 0; k <= 4; k++) {
		h = (Hook){ .busy = k };
		assert_int_equal(sysfs_write_str_retry(&e->fs, "on", "state"), 0);
		assert_int_equal(h.calls, k + 1);
		assert_string_equal(tu_read(e->root, "state"), "on");
		tu_write(e->root, "state", "off\n");
	}
	/* Busy longer than the retries: EBUSY after 1 + retries attempts,
	 * nothing written. */
	h = (Hook){ .busy = 5 };
	unsigned long long writes = e->fs.n_writes;
	assert_int_equal(sysfs_write_str_retry(&e->fs, "on", "state"), -EBUSY);
	assert_int_equal(h.calls, 5);
	assert_string_equal(tu_read(e->root, "state"), "off");
	assert_int_equal(e->fs.n_writes, writes);
	/* busy_retries = 0: a single attempt. */
	e->fs.busy_retries = 0;
	h = (Hook){ .busy = 1 };
	assert_int_equal(sysfs_write_str_retry(&e->fs, "on", "state"), -EBUSY);
	assert_int_equal(h.calls, 1);
	e->fs.busy_retries = 4;
	/* Other errors are returned at once. */
	h = (Hook){ .other = -EINVAL };
	assert_int_equal(sysfs_write_str_retry(&e->fs, "bogus", "state"), -EINVAL);
	assert_int_equal(h.calls, 1);
	h = (Hook){ .busy = 2, .other = -EPERM };
	assert_int_equal(sysfs_write_str_retry(&e->fs, "off", "state"), -EPERM);
	assert_int_equal(h.calls, 3);
	/* A missing file is not retried either. */
	h = (Hook){ 0 };
	assert_int_equal(sysfs_write_str_retry(&e->fs, "on", "missing"), -ENOENT);
	assert_int_equal(h.calls, 1);
}

static void test_retry_backoff_bounded(void **state)
{
	Env *e = *state;
	Hook h = { .busy = 100 };

	/* The sleep doubles from busy_sleep_us and is capped at 100 ms:
	 * 12 retries from 2 ms sleep 2+4+...+64 + 5 x 100 ms ~= 0.63 s. With
	 * 1 us it stays far below a second. */
	e->fs.write_hook = hook;
	e->fs.hook_data = &h;
	e->fs.busy_retries = 12;
	e->fs.busy_sleep_us = 1;
	tu_write(e->root, "state", "off\n");
	unsigned long long t0 = now_ms();
	assert_int_equal(sysfs_write_str_retry(&e->fs, "on", "state"), -EBUSY);
	assert_int_equal(h.calls, 13);
	assert_true(now_ms() - t0 < 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_short, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_kept, setup, teardown),
		cmocka_unit_test(test_read_kept_real_sysfs),
		cmocka_unit_test_setup_teardown(test_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_backoff_bounded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
