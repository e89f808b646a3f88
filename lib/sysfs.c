/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "sysfs.h"
#include "util.h"

int sysfs_open(const char *root, Sysfs *ret)
{
	int fd = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret = (Sysfs){
		.root_fd = fd,
		.busy_retries = 12,
		.busy_sleep_us = 2000,
	};
	return 0;
}

void sysfs_close(Sysfs *fs)
{
	if (fs->root_fd >= 0)
		close(fs->root_fd);
	fs->root_fd = -1;
}

static int vpath(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, size, fmt, ap);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	/* Paths are relative to the root fd; tolerate a leading slash. */
	if (buf[0] == '/')
		memmove(buf, buf + 1, (size_t)n);
	return 0;
}

static int read_at(const Sysfs *fs, const char *path, char *buf, size_t size)
{
	if (fs->read_hook) {
		int r = fs->read_hook(fs->hook_data, path);
		if (r < 0)
			return r;
	}
	_cleanup_close_ int fd = openat(fs->root_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Read to end of file: a sysfs attribute comes whole in the first
	 * read, but a regular file or a pipe may come in pieces. A value cut
	 * at the buffer would parse as another number ("000...05" as 0), so
	 * it is an error: room for the value, its newline and one byte more
	 * tells "fits" from "was cut". */
	_cleanup_free_ char *tmp = malloc(size + 1);
	if (!tmp)
		return -ENOMEM;
	size_t n = 0;
	for (;;) {
		ssize_t k = read(fd, tmp + n, size + 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > size)
			return -EOVERFLOW;
	}
	/* sysfs values end with one newline. */
	while (n > 0 && (tmp[n - 1] == '\n' || tmp[n - 1] == ' '))
		n--;
	if (n >= size)
		return -EOVERFLOW;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return 0;
}

int sysfs_read_str(const Sysfs *fs, char *buf, size_t size, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	int r = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	return read_at(fs, path, buf, size);
}

static int vread_num(const Sysfs *fs, char *buf, size_t size, const char *fmt, va_list ap)
{
	char path[PATH_MAX];
	int r = vpath(path, sizeof(path), fmt, ap);
	if (r < 0)
		return r;
	return read_at(fs, path, buf, size);
}

int sysfs_read_u64(const Sysfs *fs, uint64_t *ret, const char *fmt, ...)
{
	char buf[64];
	unsigned long long v;
	va_list ap;

	va_start(ap, fmt);
	int r = vread_num(fs, buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	r = parse_u64(buf, 10, &v);
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

int sysfs_read_s64(const Sysfs *fs, int64_t *ret, const char *fmt, ...)
{
	char buf[64];
	long long v;
	va_list ap;

	va_start(ap, fmt);
	int r = vread_num(fs, buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	r = parse_s64(buf, &v);
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

bool sysfs_exists(const Sysfs *fs, const char *fmt, ...)
{
	char path[PATH_MAX];
	struct stat st;
	va_list ap;

	va_start(ap, fmt);
	int r = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (r < 0)
		return false;
	return fstatat(fs->root_fd, path, &st, 0) == 0;
}

static int write_at(Sysfs *fs, const char *path, const char *value)
{
	size_t len = strlen(value);

	if (fs->write_hook) {
		int r = fs->write_hook(fs->hook_data, path, value);
		if (r < 0)
			return r;
	}
	/* O_TRUNC is ignored by sysfs but makes temp-root files hold only the
	 * last value, like sysfs attributes do. */
	_cleanup_close_ int fd = openat(fs->root_fd, path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, value, len);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	fs->n_writes++;
	return 0;
}

int sysfs_write_str(Sysfs *fs, const char *value, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	int r = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	return write_at(fs, path, value);
}

int sysfs_write_u64(Sysfs *fs, uint64_t value, const char *fmt, ...)
{
	char path[PATH_MAX], buf[32];
	va_list ap;

	va_start(ap, fmt);
	int r = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	/* Decimal without leading zeros: the kernel parses base 0, where a
	 * leading 0 means octal. */
	snprintf(buf, sizeof(buf), "%" PRIu64, value);
	return write_at(fs, path, buf);
}

int sysfs_write_s64(Sysfs *fs, int64_t value, const char *fmt, ...)
{
	char path[PATH_MAX], buf[32];
	va_list ap;

	va_start(ap, fmt);
	int r = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	snprintf(buf, sizeof(buf), "%" PRId64, value);
	return write_at(fs, path, buf);
}

/* The one EBUSY retry: runs ATTEMPT until it returns anything but -EBUSY
 * or busy_retries ran out, sleeping a doubling busy_sleep_us (at most
 * 100 ms) in between. DAMON's `state`, `nr_*` and `pid` handlers take
 * mutex_trylock() and return EBUSY while another DAMON sysfs command runs. */
static int retry_busy(const Sysfs *fs, int (*attempt)(void *ctx), void *ctx)
{
	unsigned sleep_us = fs->busy_sleep_us;

	for (unsigned i = 0;; i++) {
		int r = attempt(ctx);
		if (r != -EBUSY || i >= fs->busy_retries)
			return r;
		usleep(sleep_us);
		sleep_us = MIN(sleep_us * 2, 100000u);
	}
}

typedef struct WriteOp {
	Sysfs *fs;
	const char *path, *value;
} WriteOp;

static int write_attempt(void *ctx)
{
	WriteOp *w = ctx;
	return write_at(w->fs, w->path, w->value);
}

int sysfs_write_str_retry(Sysfs *fs, const char *value, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	int r = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	WriteOp w = { fs, path, value };
	return retry_busy(fs, write_attempt, &w);
}

typedef struct ReadS64Op {
	const Sysfs *fs;
	const char *path;
	int64_t *ret;
} ReadS64Op;

static int read_s64_attempt(void *ctx)
{
	ReadS64Op *o = ctx;
	return sysfs_read_s64(o->fs, o->ret, "%s", o->path);
}

int sysfs_read_s64_retry(const Sysfs *fs, int64_t *ret, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	int r = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	ReadS64Op o = { fs, path, ret };
	return retry_busy(fs, read_s64_attempt, &o);
}
