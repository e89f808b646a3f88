/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test-util.h"

#define TMP_PREFIX "dtierd-unit."

static char tmp_base[PATH_MAX];

/* TMPDIR, else /dev/shm where it is writable, else /tmp. The fake trees
 * are thousands of small files, and on an ext4 /tmp every create goes
 * through the journal: test-manager took 80 s there (73 s of it in the
 * kernel, 0.5 ms an openat), 5 s on tmpfs, against a 120 s timeout. */
static const char *tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	if (t && t[0] == '/')
		return t;
	return access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
}

char *tu_mkdtemp(void)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/" TMP_PREFIX "XXXXXX", tmpdir()) > 0);
	assert_non_null(mkdtemp(p));
	snprintf(tmp_base, sizeof(tmp_base), "%s", tmpdir());
	return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

void tu_rmtree(char *path)
{
	if (!path)
		return;
	/* Guard against a bug in a test turning this into rm -rf of
	 * something real. */
	const char *slash = strrchr(path, '/');
	assert_non_null(slash);
	assert_int_equal(strncmp(slash + 1, TMP_PREFIX, strlen(TMP_PREFIX)), 0);
	nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
	free(path);
}

static void mkdirs_abs(char *p)
{
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", p, strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", p, strerror(errno));
}

static void join(char *buf, size_t size, const char *root, const char *rel)
{
	assert_non_null(root);
	assert_true(strcmp(root, "/") != 0);
	while (rel[0] == '/')
		rel++;
	assert_true((size_t)snprintf(buf, size, "%s/%s", root, rel) < size);
}

static void mkparent(char *path)
{
	char *s = strrchr(path, '/');
	*s = '\0';
	mkdirs_abs(path);
	*s = '/';
}

void tu_write_bytes(const char *root, const char *rel, const void *data, size_t n)
{
	char path[PATH_MAX];

	join(path, sizeof(path), root, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 && errno == ENOENT) {
		mkparent(path);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	const char *p = data;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			fail_msg("write %s: %s", path, strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	close(fd);
}

void tu_write(const char *root, const char *rel, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	tu_write_bytes(root, rel, text, (size_t)n);
	free(text);
}

void tu_mkdirs(const char *root, const char *rel)
{
	char path[PATH_MAX];

	join(path, sizeof(path), root, rel);
	mkdirs_abs(path);
}

void tu_symlink(const char *root, const char *rel, const char *target)
{
	char path[PATH_MAX];

	join(path, sizeof(path), root, rel);
	mkparent(path);
	if (symlink(target, path) < 0)
		fail_msg("symlink %s: %s", path, strerror(errno));
}

void tu_unlink(const char *root, const char *rel)
{
	char path[PATH_MAX];

	join(path, sizeof(path), root, rel);
	if (unlink(path) < 0)
		fail_msg("unlink %s: %s", path, strerror(errno));
}

const char *tu_read(const char *root, const char *rel)
{
	static char buf[4096];
	char path[PATH_MAX];

	join(path, sizeof(path), root, rel);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

bool tu_exists(const char *root, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	join(path, sizeof(path), root, rel);
	return lstat(path, &st) == 0;
}

void tu_sysfs_open(const char *root, Sysfs *ret)
{
	assert_non_null(root);
	assert_true(strcmp(root, "/") != 0);
	assert_int_equal(sysfs_open(root, ret), 0);
	ret->busy_retries = 3;
	ret->busy_sleep_us = 1;
}

const char *tu_fixtures(void)
{
	const char *f = getenv("FIXTURES");
	if (f && f[0])
		return f;
#ifdef FIXTURES_DIR
	return FIXTURES_DIR;
#else
	fail_msg("FIXTURES is not set");
	return NULL;
#endif
}

const char *tu_fixture(const char *name)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", tu_fixtures(), name);
	return buf;
}

int tu_find_msg(char *const *msgs, size_t n, ...)
{
	for (size_t i = 0; i < n; i++) {
		va_list ap;
		bool all = true;

		va_start(ap, n);
		for (const char *needle = va_arg(ap, const char *); needle; needle = va_arg(ap, const char *))
			if (!strstr(msgs[i], needle))
				all = false;
		va_end(ap);
		if (all)
			return (int)i;
	}
	return -1;
}
