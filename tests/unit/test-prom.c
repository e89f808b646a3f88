/* SPDX-License-Identifier: GPL-2.0-or-later */
/* prom.c: the node_exporter textfile. With --write DIR, writes the sample
 * status's file into DIR and exits (for test-promtool.sh). */
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

#include "prom.h"
#include "test-util.h"

/* The golden status (test-status.c checks it is the hand-made sample). */
static DtierdStatus *sample(void)
{
	char path[PATH_MAX];
	DtierdStatus *st = malloc(sizeof(*st));

	snprintf(path, sizeof(path), "%s/status.json", tu_fixture("status-sample"));
	assert_int_equal(status_read(path, st), 0);
	return st;
}

static char *render(const DtierdStatus *st)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	assert_int_equal(st ? prom_to_text(st, f) : prom_to_text_stopped(f), 0);
	fclose(f);
	/* tu_read() strips the final newline; so does this. */
	assert_true(n > 0 && buf[n - 1] == '\n');
	buf[n - 1] = '\0';
	return buf;
}

static void test_golden(void **state)
{
	DtierdStatus *st = sample();
	char *text = render(st);

	assert_string_equal(text, tu_read(tu_fixture("status-sample"), "dtierd.prom"));
	free(text);
	free(st);
}

static void test_shapes(void **state)
{
	DtierdStatus *st = sample();

	/* Every family has HELP and TYPE; no sample line without a family. */
	char *text = render(st);
	char *save = NULL, *family = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			family = line + 7;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0)
			continue;
		assert_non_null(family);
		assert_true(strncmp(line, "dtierd_", 7) == 0);
	}
	free(text);

	/* Ratios are exact from basis points, at both ends. */
	st->nodes[0].share_bp = 10000;
	st->nodes[1].share_bp = 0;
	st->n_pairs = 0;
	text = render(st);
	assert_non_null(strstr(text, "dtierd_hot_share_ratio{node=\"0\"} 1.0000\n"));
	assert_non_null(strstr(text, "dtierd_hot_share_ratio{node=\"1\"} 0.0000\n"));
	/* No pairs: the families stay, without samples. */
	assert_non_null(strstr(text, "# TYPE dtierd_migrated_bytes_total counter\n# HELP"));
	assert_null(strstr(text, "from=\""));
	free(text);

	text = render(NULL);
	assert_string_equal(text, "# HELP dtierd_up 1 while dtierd runs and publishes its status, 0 after it stopped.\n"
				  "# TYPE dtierd_up gauge\n"
				  "dtierd_up 0");
	free(text);
	free(st);
}

static void test_write(void **state)
{
	char *root = tu_mkdtemp();
	char dir[PATH_MAX];
	DtierdStatus *st = sample();

	assert_int_equal(prom_write(root, st), 0);
	char *text = render(st);
	assert_string_equal(tu_read(root, "dtierd.prom"), text);
	free(text);
	/* Stopped: replaced by dtierd_up 0 alone. */
	assert_int_equal(prom_write(root, NULL), 0);
	assert_non_null(strstr(tu_read(root, "dtierd.prom"), "dtierd_up 0"));
	assert_null(strstr(tu_read(root, "dtierd.prom"), "dtierd_hot_bytes"));
	char tmp[64];
	snprintf(tmp, sizeof(tmp), ".dtierd.prom.%ld.tmp", (long)getpid());
	assert_false(tu_exists(root, tmp));

	snprintf(dir, sizeof(dir), "%s/dtierd.prom", root);
	assert_int_equal(prom_write(dir, st), -ENOTDIR);
	snprintf(dir, sizeof(dir), "%s/none", root);
	assert_int_equal(prom_write(dir, st), -ENOENT);
	free(st);
	tu_rmtree(root);
}

/* The config's prometheus_textfile: any NAME.prom in an existing
 * directory, readable by node_exporter whatever dtierd's umask. */
static void test_write_file(void **state)
{
	char *root = tu_mkdtemp();
	char path[PATH_MAX];
	struct stat sb;
	DtierdStatus *st = sample();

	snprintf(path, sizeof(path), "%s/dtierd-node0.prom", root);
	mode_t old = umask(077);
	assert_int_equal(prom_write_file(path, st), 0);
	umask(old);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);
	char *text = render(st);
	assert_string_equal(tu_read(root, "dtierd-node0.prom"), text);
	free(text);
	assert_int_equal(prom_write_file(path, NULL), 0);
	assert_non_null(strstr(tu_read(root, "dtierd-node0.prom"), "dtierd_up 0"));

	snprintf(path, sizeof(path), "%s/none/dtierd.prom", root);
	assert_int_equal(prom_write_file(path, st), -ENOENT);
	snprintf(path, sizeof(path), "%s/", root);
	assert_int_equal(prom_write_file(path, st), -EINVAL);
	assert_int_equal(prom_write_file("dtierd.prom", st), -EINVAL);
	free(st);
	tu_rmtree(root);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write") == 0) {
		char path[PATH_MAX];
		DtierdStatus *st = malloc(sizeof(*st));
		snprintf(path, sizeof(path), "%s/status.json", tu_fixture("status-sample"));
		int r = st ? status_read(path, st) : -ENOMEM;
		if (r >= 0)
			r = prom_write(argv[2], st);
		free(st);
		if (r < 0)
			fprintf(stderr, "test-prom: %s\n", strerror(-r));
		return r < 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_write_file),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
