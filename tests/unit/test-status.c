/* SPDX-License-Identifier: GPL-2.0-or-later */
/* status.c: the published status (JSON writer, strict reader, atomic
 * write) and the migration accounting window. */
#include <dirent.h>
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "status.h"
#include "test-util.h"

#define MIB (1024ULL * 1024)
#define GIB (1024 * MIB)

/* The status behind tests/fixtures/status-sample/status.json (and the
 * golden dtierd.prom beside it): two nodes, node 0 clamped, both pairs. */
static void sample(DtierdStatus *st)
{
	memset(st, 0, sizeof(*st));
	st->written_realtime_ms = 1764604800123ULL;
	st->written_monotonic_ms = 987654321ULL;
	st->pid = 4242;
	st->kdamond = 0;
	st->kdamond_pid = 4243;
	st->interval_ms = 1000;
	st->goal_tuner = STATUS_TUNER_TEMPORAL;
	st->metric = STATUS_METRIC_USERSPACE;
	st->filter = STATUS_FILTER_CORE;
	st->n_nodes = 2;
	st->nodes[0] = (StatusNode){ .node = 0, .capacity_bytes = 2 * GIB, .hot_bytes = 448 * MIB,
				     .share_bp = 6812, .target_bp = 7000, .configured_bp = 8000, .clamped = true };
	snprintf(st->nodes[0].clamp_reason, STATUS_TEXT_MAX,
		 "node 0 holds at most 70.0 %% of the hot memory (\"free\" 1.4 GiB)");
	st->nodes[1] = (StatusNode){ .node = 1, .capacity_bytes = 4 * GIB, .hot_bytes = 210 * MIB,
				     .share_bp = 3188, .target_bp = 3000, .configured_bp = 2000 };
	st->n_pairs = 2;
	st->pairs[0] = (StatusPair){ .from = 0, .to = 1, .scheme = 1, .tried_bytes = 3 * GIB,
				     .applied_bytes = 64 * MIB, .quota_bytes = 256 * MIB,
				     .migrated_total_bytes = 96 * MIB, .migrated_last_minute_bytes = 0 };
	st->pairs[1] = (StatusPair){ .from = 1, .to = 0, .scheme = 2, .tried_bytes = 5 * GIB,
				     .applied_bytes = 300 * MIB, .quota_bytes = 128 * MIB,
				     .migrated_total_bytes = 1 * GIB, .migrated_last_minute_bytes = 12 * MIB };
	st->measurement.cpu_us_median = 1830;
	st->measurement.cpu_us_max = 12055;
	st->measurement.cpu_us_last = 2210;
	st->measurement.err_bp = 35;
	st->measurement.pages_read = 65536;
	st->measurement.source = STATUS_SOURCE_LEVELS;
	st->errors_total = 3;
	snprintf(st->last_error, STATUS_TEXT_MAX, "kpageflags: short read\tat pfn 0x1000\n, ignoring");
}

static char *to_json(const DtierdStatus *st)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	assert_int_equal(status_to_json(st, f), 0);
	fclose(f);
	return buf;
}

static void test_golden(void **state)
{
	DtierdStatus *st = malloc(sizeof(*st)), *back = malloc(sizeof(*back));
	char path[PATH_MAX];

	sample(st);
	char *json = to_json(st);
	snprintf(path, sizeof(path), "%s/status.json", tu_fixture("status-sample"));
	const char *want = tu_read(tu_fixture("status-sample"), "status.json");
	assert_non_null(want);
	/* tu_read strips the trailing newline. */
	size_t n = strlen(json);
	assert_true(n > 0 && json[n - 1] == '\n');
	json[n - 1] = '\0';
	assert_string_equal(json, want);

	/* The reader gives back what the writer wrote. */
	assert_int_equal(status_read(path, back), 0);
	assert_memory_equal(back, st, sizeof(*st));
	free(json);
	free(st);
	free(back);
}

/* Removes LINE (which must be there) from TEXT. */
static void drop_line(char *text, const char *line)
{
	char *at = strstr(text, line);
	size_t n = strlen(line);

	assert_non_null(at);
	memmove(at, at + n, strlen(at + n) + 1);
}

/* cpu_us_last came after format 1: a file an older dtierd wrote (still
 * running through an upgrade) reads, with 0; a key that was always there
 * is still required. */
static void test_optional_key(void **state)
{
	DtierdStatus *st = malloc(sizeof(*st));
	char *json = strdup(tu_read(tu_fixture("status-sample"), "status.json"));

	drop_line(json, "    \"cpu_us_last\": 2210,\n");
	assert_int_equal(status_parse(json, st), 0);
	assert_true(st->measurement.cpu_us_last == 0);
	assert_true(st->measurement.cpu_us_max == 12055);
	drop_line(json, "    \"cpu_us_max\": 12055,\n");
	assert_int_equal(status_parse(json, st), -EINVAL);
	free(json);
	free(st);
}

static void test_roundtrip_extremes(void **state)
{
	DtierdStatus *st = calloc(1, sizeof(*st)), *back = malloc(sizeof(*back));

	/* Full tables, the largest numbers, -1 where allowed, every byte a
	 * string may hold escaped and not. */
	st->pid = 4194304;
	st->kdamond = -1;
	st->kdamond_pid = -1;
	st->interval_ms = 3600000;
	st->goal_tuner = STATUS_TUNER_CONSIST;
	st->metric = STATUS_METRIC_KERNEL;
	st->filter = STATUS_FILTER_LEGACY;
	st->written_realtime_ms = UINT64_MAX;
	st->n_nodes = STATUS_MAX_NODES;
	for (size_t i = 0; i < STATUS_MAX_NODES; i++) {
		st->nodes[i] = (StatusNode){ .node = 1023 - (int)i, .capacity_bytes = UINT64_MAX, .share_bp = 10000 };
		memset(st->nodes[i].clamp_reason, 'x', STATUS_TEXT_MAX - 1);
	}
	st->n_pairs = STATUS_MAX_PAIRS;
	for (size_t i = 0; i < STATUS_MAX_PAIRS; i++)
		st->pairs[i] = (StatusPair){ .from = (int)i, .to = (int)i + 1, .scheme = 65535,
					     .migrated_total_bytes = UINT64_MAX - i };
	/* Bytes 1..127 (control characters escaped), then UTF-8 "é"s to the
	 * end of the buffer. */
	for (int i = 0; i < 127; i++)
		st->last_error[i] = (char)(i + 1);
	for (int i = 127; i + 2 < STATUS_TEXT_MAX; i += 2) {
		st->last_error[i] = (char)0xc3;
		st->last_error[i + 1] = (char)0xa9;
	}

	char *json = to_json(st);
	assert_int_equal(status_parse(json, back), 0);
	assert_memory_equal(back, st, sizeof(*st));
	free(json);
	free(st);
	free(back);
}

/* Replaces the first occurrence of FROM in the golden text with TO. */
static char *edit(const char *from, const char *to)
{
	const char *g = tu_read(tu_fixture("status-sample"), "status.json");
	assert_non_null(g);
	const char *at = strstr(g, from);
	assert_non_null(at);
	size_t n = strlen(g) - strlen(from) + strlen(to) + 1;
	char *s = malloc(n);
	snprintf(s, n, "%.*s%s%s", (int)(at - g), g, to, at + strlen(from));
	return s;
}

static void expect_parse(const char *from, const char *to, int want)
{
	DtierdStatus *st = malloc(sizeof(*st));
	char *s = edit(from, to);

	st->pid = 77;
	int r = status_parse(s, st);
	if (r != want)
		fail_msg("'%s' -> '%s': got %d, want %d", from, to, r, want);
	if (r < 0)
		assert_int_equal(st->pid, 77); /* untouched on failure */
	free(s);
	free(st);
}

static void test_parse_errors(void **state)
{
	DtierdStatus *st = malloc(sizeof(*st));

	/* Not JSON, not ours. */
	assert_int_equal(status_parse("", st), -EINVAL);
	assert_int_equal(status_parse("garbage", st), -EINVAL);
	assert_int_equal(status_parse("{}", st), -EINVAL);
	assert_int_equal(status_parse("[1, 2]", st), -EINVAL);
	assert_int_equal(status_parse("{\"format\": 1}", st), -EINVAL);
	free(st);

	expect_parse("\"format\": 1", "\"format\": 2", -ERANGE);
	/* Ranges: bp, node ids, pids, intervals. */
	expect_parse("\"share_bp\": 6812", "\"share_bp\": 10001", -ERANGE);
	expect_parse("\"share_bp\": 6812", "\"share_bp\": 10000", 0);
	expect_parse("\"node\": 1", "\"node\": 1024", -ERANGE);
	expect_parse("\"node\": 1", "\"node\": -1", -ERANGE);
	expect_parse("\"pid\": 4242", "\"pid\": 0", -ERANGE);
	expect_parse("\"pid\": 4243", "\"pid\": -1", 0);
	expect_parse("\"pid\": 4243", "\"pid\": -2", -ERANGE);
	expect_parse("\"interval_ms\": 1000", "\"interval_ms\": 99", -ERANGE);
	expect_parse("\"err_bp\": 35", "\"err_bp\": 10001", -ERANGE);
	expect_parse("\"errors_total\": 3", "\"errors_total\": 18446744073709551615", 0);
	expect_parse("\"errors_total\": 3", "\"errors_total\": 18446744073709551616", -ERANGE);
	expect_parse("\"errors_total\": 3", "\"errors_total\": 99999999999999999999999", -ERANGE);
	/* Types: fractions, exponents, leading zeros, strings for numbers,
	 * numbers for booleans, unknown enum values. */
	expect_parse("\"errors_total\": 3", "\"errors_total\": 3.0", -EINVAL);
	expect_parse("\"errors_total\": 3", "\"errors_total\": 3e2", -EINVAL);
	expect_parse("\"errors_total\": 3", "\"errors_total\": 03", -EINVAL);
	expect_parse("\"errors_total\": 3", "\"errors_total\": \"3\"", -EINVAL);
	expect_parse("\"clamped\": true", "\"clamped\": 1", -EINVAL);
	expect_parse("\"goal_tuner\": \"temporal\"", "\"goal_tuner\": \"fast\"", -EINVAL);
	expect_parse("\"metric\": \"userspace\"", "\"metric\": \"userspacexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
		     -EINVAL);
	/* A key missing, twice, or renamed (then it is missing). */
	expect_parse("\"hot_bytes\": 469762048,", "", -EINVAL);
	expect_parse("\"hot_bytes\": 469762048,", "\"hot_bytes\": 1, \"hot_bytes\": 2,", -EINVAL);
	expect_parse("\"last_error\"", "\"last_errors\"", -EINVAL);
	/* Unknown keys anywhere are skipped, whatever their value. */
	expect_parse("\"errors_total\": 3,",
		     "\"new\": {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\", {}], \"b\": []}, \"errors_total\": 3,",
		     0);
	/* Syntax: trailing garbage, a missing comma, a bad escape, control
	 * characters in strings, an unterminated string. */
	expect_parse("\"last_error\"", "\"last_error\" ", 0);
	expect_parse("\"errors_total\": 3,", "\"errors_total\": 3", -EINVAL);
	expect_parse("kpageflags", "kpage\\xflags", -EINVAL);
	expect_parse("kpageflags", "kpage\001flags", -EINVAL);
	expect_parse("kpageflags", "kpage\\u0000flags", -EINVAL);
	expect_parse("kpageflags", "kpage\\ud800flags", -EINVAL);
	expect_parse("kpageflags", "kpage\\u00e9\\/flags", 0);
	expect_parse(", ignoring\"", ", ignoring", -EINVAL); /* unterminated */
	expect_parse("\"nodes\": [", "\"nodes\": [[", -EINVAL);
	/* Too many nodes. */
	char nodes[8192] = "\"nodes\": [";
	for (int i = 0; i <= STATUS_MAX_NODES; i++)
		strcat(nodes, "{\"node\": 0, \"capacity_bytes\": 0, \"hot_bytes\": 0, \"share_bp\": 0, "
			      "\"target_bp\": 0, \"configured_bp\": 0, \"clamped\": false, \"clamp_reason\": \"\"}, ");
	expect_parse("\"nodes\": [", nodes, -ERANGE);
	/* A string longer than the struct holds. */
	char longs[STATUS_TEXT_MAX + 32];
	memset(longs, 'y', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	expect_parse("kpageflags", longs, -ERANGE);
	/* Nesting deeper than any status: refused, not a stack overflow. */
	char deep[256] = "\"deep\": ";
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	strcat(deep, "1");
	for (int i = 0; i < 40; i++)
		strcat(deep, "]");
	strcat(deep, ", \"errors_total\": 3,");
	expect_parse("\"errors_total\": 3,", deep, -EINVAL);
}

static void test_write_read(void **state)
{
	char *root = tu_mkdtemp();
	char dir[PATH_MAX], path[PATH_MAX];
	DtierdStatus *st = malloc(sizeof(*st)), *back = malloc(sizeof(*back));

	sample(st);
	snprintf(path, sizeof(path), "%s/status.json", root);
	assert_int_equal(status_read(path, back), -ENOENT);
	mode_t old = umask(077); /* as under the unit's UMask=0077 */
	assert_int_equal(status_write(root, st), 0);
	umask(old);
	assert_int_equal(status_read(path, back), 0);
	assert_memory_equal(back, st, sizeof(*st));
	/* Only the file: no temp left behind. */
	DIR *d = opendir(root);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	assert_int_equal(n, 1);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);

	/* Replaced, not appended to. */
	st->pid = 1;
	st->n_pairs = 0;
	assert_int_equal(status_write(root, st), 0);
	assert_int_equal(status_read(path, back), 0);
	assert_int_equal(back->pid, 1);
	assert_int_equal(back->n_pairs, 0);

	/* A temp file left by a crashed writer with our pid is replaced. */
	char tmp[64];
	snprintf(tmp, sizeof(tmp), ".status.json.%ld.tmp", (long)getpid());
	tu_write(root, tmp, "half a status");
	assert_int_equal(status_write(root, st), 0);
	assert_false(tu_exists(root, tmp));
	/* ... but not followed if it is a symlink planted there. */
	tu_mkdirs(root, "elsewhere");
	tu_symlink(root, tmp, "elsewhere/victim");
	assert_int_equal(status_write(root, st), 0);
	assert_false(tu_exists(root, "elsewhere/victim"));

	/* The directory must be a directory, and not a symlink to one. */
	snprintf(dir, sizeof(dir), "%s/status.json", root);
	assert_int_equal(status_write(dir, st), -ENOTDIR);
	tu_symlink(root, "link", "elsewhere");
	snprintf(dir, sizeof(dir), "%s/link", root);
	assert_int_equal(status_write(dir, st), -ENOTDIR);
	snprintf(dir, sizeof(dir), "%s/missing", root);
	assert_int_equal(status_write(dir, st), -ENOENT);

	/* Reader errors: a directory, garbage, a NUL byte, too big. */
	snprintf(dir, sizeof(dir), "%s/elsewhere", root);
	assert_int_equal(status_read(dir, back), -EINVAL);
	tu_write(root, "garbage.json", "not json\n");
	snprintf(path, sizeof(path), "%s/garbage.json", root);
	assert_int_equal(status_read(path, back), -EINVAL);
	tu_write_bytes(root, "nul.json", "{\0}", 3);
	snprintf(path, sizeof(path), "%s/nul.json", root);
	assert_int_equal(status_read(path, back), -EINVAL);
	snprintf(path, sizeof(path), "%s/big.json", root);
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 2 * 1024 * 1024), 0);
	close(fd);
	assert_int_equal(status_read(path, back), -EFBIG);

	free(st);
	free(back);
	tu_rmtree(root);
}

static void test_names(void **state)
{
	assert_string_equal(status_goal_tuner_name(STATUS_TUNER_CONSIST), "consist");
	assert_string_equal(status_goal_tuner_name(STATUS_TUNER_TEMPORAL), "temporal");
	assert_string_equal(status_metric_name(STATUS_METRIC_KERNEL), "kernel");
	assert_string_equal(status_filter_name(STATUS_FILTER_LEGACY), "legacy");
	assert_null(status_filter_name((StatusFilter)7));
}

static void test_previous_total(void **state)
{
	DtierdStatus *st = malloc(sizeof(*st));

	sample(st);
	assert_true(status_previous_total(st, 1, 0) == 1 * GIB);
	assert_true(status_previous_total(st, 0, 1) == 96 * MIB);
	/* A pair the previous instance did not have (a node added). */
	assert_true(status_previous_total(st, 0, 2) == 0);
	assert_true(status_previous_total(NULL, 1, 0) == 0);
	free(st);
}

static void test_window(void **state)
{
	MigrationWindow w = { 0 };

	assert_true(migration_window_last_minute(&w, 5000) == 0);
	/* The first sample counts from 0: the scheme is as new as the window. */
	assert_true(migration_window_add(&w, 1000, 100) == 100);
	/* Once per second, +10 each. */
	for (uint64_t t = 2; t <= 60; t++)
		assert_true(migration_window_add(&w, t * 1000, 100 + (t - 1) * 10) == 100 + (t - 1) * 10);
	assert_true(w.total == 690);
	/* At 61 s the first sample (t = 1 s) leaves the window. */
	assert_true(migration_window_add(&w, 61000, 700) == 600);
	/* Quiet: the window drains without new bytes... */
	assert_true(migration_window_add(&w, 90000, 700) == 310); /* 31..61 s */
	assert_true(migration_window_last_minute(&w, 119000) == 20);
	assert_true(migration_window_last_minute(&w, 120000) == 10);
	assert_true(migration_window_last_minute(&w, 121000) == 0);
	/* ... and samples within one second add up. */
	assert_true(migration_window_add(&w, 200100, 710) == 10);
	assert_true(migration_window_add(&w, 200600, 730) == 30);

	/* A counter reset (scheme recreated on reload): the new counter is
	 * what it applied since then, counted from 0, not a negative delta. */
	assert_true(migration_window_add(&w, 201000, 5) == 35);
	assert_true(migration_window_add(&w, 202000, 25) == 55);
	assert_true(w.total == 700 + 30 + 5 + 20);
	assert_true(w.last_counter == 25);

	/* Time going backwards counts as the newest sample's time. */
	assert_true(migration_window_add(&w, 1000, 35) == 65);
	assert_true(migration_window_last_minute(&w, 0) == 65);

	/* A recreation the caller knows of: the new counter (200) counts in
	 * full although it is above the old one (150). */
	MigrationWindow k = { 0 };
	assert_true(migration_window_add(&k, 0, 100) == 100);
	assert_true(migration_window_add(&k, 1000, 150) == 150);
	migration_window_counter_restarted(&k);
	assert_true(migration_window_add(&k, 2000, 200) == 350);
	assert_true(k.total == 350);

	/* Sparse samples (an interval longer than the window): only the last. */
	MigrationWindow s = { 0 };
	assert_true(migration_window_add(&s, 0, 1000) == 1000);
	assert_true(migration_window_add(&s, 120000, 3000) == 2000);
	assert_true(migration_window_add(&s, 240000, 3000) == 0);
	/* An interval shorter than a second: bytes per bucket accumulate. */
	MigrationWindow f = { 0 };
	uint64_t c = 0;
	for (uint64_t t = 0; t < 120000; t += 100) {
		c += 7;
		migration_window_add(&f, t, c);
	}
	/* 60 full one-second buckets of 10 samples: 60.0..119.9 s. */
	assert_true(migration_window_last_minute(&f, 119900) == 600 * 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_optional_key),
		cmocka_unit_test(test_roundtrip_extremes),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_previous_total),
		cmocka_unit_test(test_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
