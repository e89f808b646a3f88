/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "sysfs.h"
#include "util.h"

/* An open-addressed table of the kept files. A slot keeps its path once
 * taken, so that probing stays intact; its fd is -1 after a failed read
 * until the next read opens the file again. */
typedef struct {
	char *path;
	int fd;
} KeptSlot;

struct SysfsKept {
	KeptSlot slot[SYSFS_KEPT_MAX];
	size_t n;
};

int sysfs_open(const char *root, Sysfs *ret)
{
	SysfsKept *kept = calloc(1, sizeof(*kept));
	if (!kept)
		return -ENOMEM;
	int fd = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(kept);
		return -errno;
	}
	*ret = (Sysfs){
		.root_fd = fd,
		.busy_retries = 12,
		.busy_sleep_us = 2000,
		.kept = kept,
	};
	return 0;
}

void sysfs_close(Sysfs *fs)
{
	if (fs->kept) {
		for (size_t i = 0; i < SYSFS_KEPT_MAX; i++) {
			if (fs->kept->slot[i].path && fs->kept->slot[i].fd >= 0)
				close(fs->kept->slot[i].fd);
			free(fs->kept->slot[i].path);
		}
		free(fs->kept);
		fs->kept = NULL;
	}
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

/* Reads FD to end of file into BUF of SIZE, from offset 0 if POSITIONAL
 * (pread: a kept file), else from where it stands (read: a fresh one, which
 * may be a pipe). A sysfs attribute comes whole in the first read, but a
 * regular file or a pipe may come in pieces. A value cut at the buffer
 * would parse as another number ("000...05" as 0), so it is an error: room
 * for the value, its newline and one byte more tells "fits" from "was
 * cut". */
static int read_value(int fd, bool positional, char *buf, size_t size)
{
	_cleanup_free_ char *tmp = malloc(size + 1);
	if (!tmp)
		return -ENOMEM;
	size_t n = 0;
	for (;;) {
		ssize_t k = positional ? pread(fd, tmp + n, size + 1 - n, (off_t)n) : read(fd, tmp + n, size + 1 - n);
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
	return read_value(fd, false, buf, size);
}

/* PATH's slot: the one that holds it, else the first free one on its probe
 * sequence, else NULL (the table is full: the file is not kept). */
static KeptSlot *kept_slot(SysfsKept *k, const char *path)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *c = path; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	for (size_t i = 0; i < SYSFS_KEPT_MAX; i++) {
		KeptSlot *s = &k->slot[(h + i) % SYSFS_KEPT_MAX];
		if (!s->path || strcmp(s->path, path) == 0)
			return s;
	}
	return NULL;
}

/* Keep FD in slot S for PATH? Only a sysfs attribute re-reads afresh. */
static bool kept_take(const Sysfs *fs, KeptSlot *s, const char *path, int fd)
{
	struct statfs st;

	if (!s || (!fs->keep_any_fs && (fstatfs(fd, &st) < 0 || st.f_type != SYSFS_MAGIC)))
		return false;
	if (!s->path) {
		s->path = strdup(path);
		if (!s->path)
			return false;
		fs->kept->n++;
	}
	s->fd = fd;
	return true;
}

static int read_kept(const Sysfs *fs, const char *path, char *buf, size_t size)
{
	if (!fs->kept)
		return read_at(fs, path, buf, size);
	if (fs->read_hook) {
		int r = fs->read_hook(fs->hook_data, path);
		if (r < 0)
			return r;
	}
	KeptSlot *s = kept_slot(fs->kept, path);
	if (s && s->path && s->fd >= 0) {
		if (read_value(s->fd, true, buf, size) == 0)
			return 0;
		/* Removed (-ENODEV), or anything else: an open tells. */
		close(s->fd);
		s->fd = -1;
	}
	int fd = openat(fs->root_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = read_value(fd, true, buf, size);
	if (r < 0 || !kept_take(fs, s, path, fd))
		close(fd);
	return r;
}

/* Reads the file at FMT, AP (kept open if KEPT) into BUF of SIZE. */
static int vread(const Sysfs *fs, bool kept, char *buf, size_t size, const char *fmt, va_list ap)
{
	char path[PATH_MAX];
	int r = vpath(path, sizeof(path), fmt, ap);
	if (r < 0)
		return r;
	return kept ? read_kept(fs, path, buf, size) : read_at(fs, path, buf, size);
}

static int vread_u64(const Sysfs *fs, bool kept, uint64_t *ret, const char *fmt, va_list ap)
{
	char buf[64];
	unsigned long long v;
	int r = vread(fs, kept, buf, sizeof(buf), fmt, ap);
	if (r < 0)
		return r;
	r = parse_u64(buf, 10, &v);
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

int sysfs_read_u64_kept(const Sysfs *fs, uint64_t *ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = vread_u64(fs, true, ret, fmt, ap);
	va_end(ap);
	return r;
}

int sysfs_read_str_kept(const Sysfs *fs, char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = vread(fs, true, buf, size, fmt, ap);
	va_end(ap);
	return r;
}

size_t sysfs_kept_count(const Sysfs *fs)
{
	return fs->kept ? fs->kept->n : 0;
}

int sysfs_read_str(const Sysfs *fs, char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = vread(fs, false, buf, size, fmt, ap);
	va_end(ap);
	return r;
}

int sysfs_read_u64(const Sysfs *fs, uint64_t *ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = vread_u64(fs, false, ret, fmt, ap);
	va_end(ap);
	return r;
}

int sysfs_read_s64(const Sysfs *fs, int64_t *ret, const char *fmt, ...)
{
	char buf[64];
	long long v;
	va_list ap;

	va_start(ap, fmt);
	int r = vread(fs, false, buf, sizeof(buf), fmt, ap);
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
