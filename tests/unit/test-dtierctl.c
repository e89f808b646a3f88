/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The built dtierctl against temp run dirs holding hand-written status
 * files: fresh, stale, a dead pid, garbage, none; output and exit codes.
 * Usage: test-dtierctl PATH-TO-DTIERCTL */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "status.h"
#include "test-util.h"

static const char *dtierctl;

typedef struct Run {
	int status;
	char *out, *err;
} Run;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	int c;
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

/* Runs dtierctl with the NULL-terminated arguments; stdout and stderr go
 * to files in ROOT. */
static Run run(const char *root, ...)
{
	char *argv[16];
	char out[PATH_MAX], err[PATH_MAX];
	va_list ap;
	size_t n = 0;

	argv[n++] = (char *)dtierctl;
	va_start(ap, root);
	for (char *a; (a = va_arg(ap, char *)) && n + 1 < 16;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	snprintf(out, sizeof(out), "%s/out", root);
	snprintf(err, sizeof(err), "%s/err", root);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		execv(dtierctl, argv);
		_exit(127);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return (Run){ .status = WEXITSTATUS(st), .out = slurp(out), .err = slurp(err) };
}

static void run_free(Run *r)
{
	free(r->out);
	free(r->err);
}

static uint64_t clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The golden sample, made current: our own pid (alive), written AGE_MS ago. */
static DtierdStatus *sample(int pid, uint64_t age_ms)
{
	char path[PATH_MAX];
	DtierdStatus *st = malloc(sizeof(*st));

	snprintf(path, sizeof(path), "%s/status.json", tu_fixture("status-sample"));
	assert_int_equal(status_read(path, st), 0);
	st->pid = pid;
	st->written_monotonic_ms = clock_ms(CLOCK_MONOTONIC) - age_ms;
	st->written_realtime_ms = clock_ms(CLOCK_REALTIME) - age_ms;
	return st;
}

static void expect_in(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("'%s' not in:\n%s", needle, text);
}

static void test_fresh(void **state)
{
	char *root = tu_mkdtemp();
	DtierdStatus *st = sample(getpid(), 200), *back = malloc(sizeof(*st));

	/* The sample's source is "levels" (the key's non-default value, for
	 * the file format's test); the 65536 pages read are a regions one's. */
	st->measurement.source = STATUS_SOURCE_REGIONS;
	assert_int_equal(status_write(root, st), 0);
	Run r = run(root, "--run-dir", root, "status", NULL);
	assert_int_equal(r.status, 0);
	char line[128];
	snprintf(line, sizeof(line), "dtierd is running (pid %d), status updated 0.", getpid());
	expect_in(r.out, line);
	expect_in(r.out, "every 1.0 s\n");
	expect_in(r.out, "features: goal tuner temporal, metric userspace, filters core; kdamond 0 (pid 4243)\n");
	/* Per node: capacity, hot, share vs target (clamped: *), configured,
	 * moved in (1 -> 0: 1 GiB total, 12 MiB in the last minute) and out. */
	expect_in(r.out, "   0     2.0 GiB   448.0 MiB   68.1%   70.0%*  80.0%  1.0 GiB / 12.0 MiB      96.0 MiB / 0 B\n");
	expect_in(r.out, "   1     4.0 GiB   210.0 MiB   31.8%   30.0%   20.0%  96.0 MiB / 0 B          1.0 GiB / 12.0 MiB\n");
	expect_in(r.out, "* node 0: target clamped from 80.0% to 70.0%: node 0 holds at most 70.0 % of the hot memory "
			 "(\"free\" 1.4 GiB)\n");
	/* Per scheme. */
	expect_in(r.out, "     1  0 -> 1         3.0 GiB    64.0 MiB   256.0 MiB     96.0 MiB         0 B\n");
	expect_in(r.out, "     2  1 -> 0         5.0 GiB   300.0 MiB   128.0 MiB      1.0 GiB    12.0 MiB\n");
	expect_in(r.out, "measurement: 2.210 ms CPU the last interval, 1.830 ms median of the last minute, 12.055 ms max; "
			 "error bound +-0.35%; from tried regions, 65536 pages read\n");
	/* Control characters from the file reach the terminal as escapes. */
	expect_in(r.out, "errors: 3, last: kpageflags: short read\\tat pfn 0x1000\\n, ignoring\n");
	assert_string_equal(r.err, "");
	run_free(&r);

	/* --json: the same status back, nothing else on stdout; options
	 * after the command work too. */
	r = run(root, "status", "--json", "--run-dir", root, NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(status_parse(r.out, back), 0);
	assert_memory_equal(back, st, sizeof(*st));
	assert_string_equal(r.err, "");
	run_free(&r);

	/* An unclamped, quiet, exact status: no clamp lines, no error bound. */
	st->nodes[0].clamped = false;
	st->n_pairs = 0;
	st->measurement.err_bp = 0;
	st->errors_total = 0;
	st->last_error[0] = '\0';
	assert_int_equal(status_write(root, st), 0);
	r = run(root, "--run-dir", root, "status", NULL);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.out, "clamped"));
	assert_null(strstr(r.out, "scheme"));
	expect_in(r.out, "error bound none (every page read)");
	expect_in(r.out, "errors: 0\n");
	run_free(&r);

	/* Measured by level schemes: no pages read, and that says so. */
	st->measurement.source = STATUS_SOURCE_LEVELS;
	st->measurement.pages_read = 0;
	assert_int_equal(status_write(root, st), 0);
	r = run(root, "--run-dir", root, "status", NULL);
	assert_int_equal(r.status, 0);
	expect_in(r.out, "error bound none (a level per access count); from level schemes\n");
	assert_null(strstr(r.out, "pages read"));
	run_free(&r);

	free(st);
	free(back);
	tu_rmtree(root);
}

static void test_not_running(void **state)
{
	char *root = tu_mkdtemp();
	char dir[PATH_MAX];

	/* No status file; no run dir at all. */
	Run r = run(root, "--run-dir", root, "status", NULL);
	assert_int_equal(r.status, 3);
	expect_in(r.out, "dtierd is not running (no ");
	run_free(&r);
	snprintf(dir, sizeof(dir), "%s/none", root);
	r = run(root, "--run-dir", dir, "status", "--json", NULL);
	assert_int_equal(r.status, 3);
	assert_string_equal(r.out, "");
	expect_in(r.err, "dtierd is not running (no ");
	run_free(&r);

	/* A status whose pid is gone (a child that exited and was reaped). */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	DtierdStatus *st = sample(pid, 1000);
	assert_int_equal(status_write(root, st), 0);
	r = run(root, "--run-dir", root, "status", NULL);
	assert_int_equal(r.status, 3);
	char line[128];
	snprintf(line, sizeof(line), "dtierd is not running: pid %d of %s/status.json is gone", pid, root);
	expect_in(r.out, line);
	expect_in(r.out, "is gone; its last status is from 1.");
	expect_in(r.out, " s ago:\nfeatures: ");
	expect_in(r.out, "* node 0: target clamped");
	run_free(&r);
	/* --json: the last status on stdout, the verdict on stderr. */
	r = run(root, "--run-dir", root, "status", "--json", NULL);
	assert_int_equal(r.status, 3);
	expect_in(r.err, "is gone");
	expect_in(r.out, "\"pid\": ");
	run_free(&r);
	free(st);
	tu_rmtree(root);
}

static void test_stale(void **state)
{
	char *root = tu_mkdtemp();

	/* 3 intervals + 5 s = 8 s is the limit. */
	DtierdStatus *st = sample(getpid(), 7000);
	assert_int_equal(status_write(root, st), 0);
	Run r = run(root, "--run-dir", root, "status", NULL);
	assert_int_equal(r.status, 0);
	run_free(&r);
	free(st);

	st = sample(getpid(), 9000);
	assert_int_equal(status_write(root, st), 0);
	r = run(root, "--run-dir", root, "status", NULL);
	assert_int_equal(r.status, 4);
	char line[160];
	snprintf(line, sizeof(line), "dtierd (pid %d) is stale: %s/status.json is 9.", getpid(), root);
	expect_in(r.out, line);
	expect_in(r.out, "updated every 1.0 s; dtierd may be hung");
	expect_in(r.out, "   0     2.0 GiB");
	run_free(&r);
	free(st);

	/* A long interval stretches the limit: 3 x 60 s + 5 s. */
	st = sample(getpid(), 120000);
	st->interval_ms = 60000;
	assert_int_equal(status_write(root, st), 0);
	r = run(root, "--run-dir", root, "status", NULL);
	assert_int_equal(r.status, 0);
	expect_in(r.out, "status updated 120 s ago, every 60 s\n");
	run_free(&r);
	free(st);
	tu_rmtree(root);
}

static void test_garbage(void **state)
{
	char *root = tu_mkdtemp();

	tu_write(root, "status.json", "{\"format\": 1, \"pid\": 12\n");
	Run r = run(root, "--run-dir", root, "status", NULL);
	assert_int_equal(r.status, 1);
	expect_in(r.err, "dtierctl: cannot read ");
	expect_in(r.err, "not a dtierd status file");
	assert_string_equal(r.out, "");
	run_free(&r);
	/* A directory where the file should be. */
	tu_unlink(root, "status.json");
	tu_mkdirs(root, "status.json");
	r = run(root, "--run-dir", root, "status", NULL);
	assert_int_equal(r.status, 1);
	run_free(&r);
	tu_rmtree(root);
}

static void test_config_and_usage(void **state)
{
	char *root = tu_mkdtemp();
	char conf[PATH_MAX];

	/* run_dir from the configuration: the shipped example plus run_dir
	 * (which it leaves at its default). */
	const char *example = getenv("DTIERD_CONF");
	assert_non_null(example);
	char *text = slurp(example);
	assert_null(strstr(text, "\nrun_dir"));
	tu_mkdirs(root, "run");
	snprintf(conf, sizeof(conf), "%s/dtierd.conf", root);
	tu_write(root, "dtierd.conf", "%s\nrun_dir = \"%s/run\";\n", text, root);
	free(text);
	DtierdStatus *st = sample(getpid(), 0);
	char rd[PATH_MAX];
	snprintf(rd, sizeof(rd), "%s/run", root);
	assert_int_equal(status_write(rd, st), 0);
	Run r = run(root, "--config", conf, "status", NULL);
	assert_int_equal(r.status, 0);
	expect_in(r.out, "dtierd is running");
	run_free(&r);
	r = run(root, "status", "-c", conf, "-j", NULL);
	assert_int_equal(r.status, 0);
	expect_in(r.out, "\"format\": 1");
	run_free(&r);
	free(st);

	/* A broken configuration: said, and the default run_dir used. */
	tu_write(root, "bad.conf", "interval_ms = ;\n");
	snprintf(conf, sizeof(conf), "%s/bad.conf", root);
	r = run(root, "--config", conf, "status", NULL);
	expect_in(r.err, "bad.conf:1");
	expect_in(r.err, "is not usable, reading the status from /run/dtierd");
	assert_int_not_equal(r.status, 2);
	run_free(&r);

	/* Usage errors: 2. */
	r = run(root, NULL);
	assert_int_equal(r.status, 2);
	expect_in(r.err, "no command");
	run_free(&r);
	r = run(root, "frobnicate", NULL);
	assert_int_equal(r.status, 2);
	expect_in(r.err, "unknown command 'frobnicate'");
	run_free(&r);
	r = run(root, "status", "extra", NULL);
	assert_int_equal(r.status, 2);
	run_free(&r);
	r = run(root, "--bogus", "status", NULL);
	assert_int_equal(r.status, 2);
	run_free(&r);
	r = run(root, "--help", NULL);
	assert_int_equal(r.status, 0);
	expect_in(r.out, "Usage: dtierctl");
	expect_in(r.out, "3 dtierd is not running");
	run_free(&r);
	r = run(root, "--version", NULL);
	assert_int_equal(r.status, 0);
	expect_in(r.out, "dtierctl ");
	run_free(&r);
	tu_rmtree(root);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test-dtierctl PATH-TO-DTIERCTL\n");
		return 2;
	}
	dtierctl = argv[1];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh),
		cmocka_unit_test(test_not_running),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_config_and_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
