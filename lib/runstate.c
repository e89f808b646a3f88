/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "runstate.h"
#include "util.h"

/* DIR must be a directory (not a symlink to one) that only root or we can
 * write: anyone else could plant a state file naming their kdamond. */
static int check_dir(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	return 0;
}

int runstate_write(const char *dir, const RunState *s)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	int r;

	if (mkdir(dir, 0755) == 0) {
		/* 0755 whatever the umask: status.json in it is for any user
		 * (dtierctl), as under systemd's RuntimeDirectory=. */
		if (chmod(dir, 0755) < 0)
			return -errno;
	} else if (errno != EEXIST)
		return -errno;
	r = check_dir(dir);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(tmp, sizeof(tmp), "%s/.state.tmp", dir);
	/* A temp file left by a crash is ours to replace; a symlink there is
	 * removed, never followed. */
	if (unlink(tmp) < 0 && errno != ENOENT)
		return -errno;
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	char buf[512];
	int n = snprintf(buf, sizeof(buf),
			 "# written by dtierd: the DAMON state this instance owns\n"
			 "[dtierd]\npid = %d\nkdamond = %d\nkdamond_pid = %lld\ncreated_kdamonds = %d\n"
			 "damon_stat_taken = %d\ndigest = %llu\nreloads = %lu\nreload_ok = %d\n",
			 (int)s->pid, s->kdamond, (long long)s->kdamond_pid, s->created_kdamonds,
			 s->damon_stat_taken, (unsigned long long)s->digest, s->reloads, s->reload_ok);
	ssize_t w = write(fd, buf, (size_t)n);
	if (w != n || fsync(fd) < 0) {
		r = w < 0 ? -errno : -EIO;
		unlink(tmp);
		return r;
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	return 0;
}

typedef struct Ctx {
	RunState s;
	bool ok;
	bool bad;
} Ctx;

/* Parses V into [LO, HI]; marks the context bad otherwise. */
static long long in_range(Ctx *c, const char *v, long long lo, long long hi)
{
	long long x;
	if (parse_s64(v, &x) < 0 || x < lo || x > hi) {
		c->bad = true;
		return lo;
	}
	return x;
}

static int kv(void *user, const char *section, const char *name, const char *value)
{
	Ctx *c = user;

	if (strcmp(section, "dtierd") != 0)
		return 1;
	c->ok = true;
	if (strcmp(name, "pid") == 0)
		c->s.pid = (pid_t)in_range(c, value, 0, INT_MAX);
	else if (strcmp(name, "kdamond") == 0)
		c->s.kdamond = (int)in_range(c, value, -1, 1023);
	else if (strcmp(name, "kdamond_pid") == 0)
		c->s.kdamond_pid = in_range(c, value, -1, INT_MAX);
	else if (strcmp(name, "created_kdamonds") == 0)
		c->s.created_kdamonds = in_range(c, value, 0, 1);
	else if (strcmp(name, "damon_stat_taken") == 0)
		c->s.damon_stat_taken = in_range(c, value, 0, 1);
	else if (strcmp(name, "reloads") == 0)
		c->s.reloads = (unsigned long)in_range(c, value, 0, LLONG_MAX);
	else if (strcmp(name, "reload_ok") == 0)
		c->s.reload_ok = in_range(c, value, 0, 1);
	else if (strcmp(name, "digest") == 0) {
		unsigned long long d;
		if (parse_u64(value, 10, &d) < 0)
			c->bad = true;
		else
			c->s.digest = d;
	}
	return 1;
}

int runstate_parse(const char *text, RunState *ret)
{
	Ctx c = { .s = { .kdamond = -1, .kdamond_pid = -1 } };

	if (ini_parse_string(text, kv, &c) != 0 || !c.ok || c.bad)
		return -EINVAL;
	*ret = c.s;
	return 0;
}

int runstate_read(const char *dir, RunState *ret)
{
	char path[PATH_MAX], text[1024];
	struct stat st;
	int r;

	r = check_dir(dir);
	if (r < 0)
		return r == -ENOTDIR ? -EPERM : r;
	snprintf(path, sizeof(path), "%s/state", dir);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()))
		return -EPERM;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	if (n < 0)
		return -errno;
	/* What dtierd writes is far below this; anything longer is not it. */
	if ((size_t)n == sizeof(text) - 1)
		return -EINVAL;
	text[n] = '\0';
	return runstate_parse(text, ret);
}

int runstate_remove(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/state", dir);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
