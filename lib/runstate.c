/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "runstate.h"
#include "util.h"

int runstate_write(const char *dir, const RunState *s)
{
	char tmp[512], path[512];

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(tmp, sizeof(tmp), "%s/.state.tmp", dir);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f,
		"# written by dtierd: the DAMON state this instance owns\n"
		"[dtierd]\npid = %d\nkdamond = %d\nkdamond_pid = %lld\ncreated_kdamonds = %d\ndamon_stat_taken = %d\n"
		"reloads = %lu\nreload_ok = %d\n",
		(int)s->pid, s->kdamond, (long long)s->kdamond_pid, s->created_kdamonds, s->damon_stat_taken,
		s->reloads, s->reload_ok);
	if (fflush(f) != 0 || ferror(f)) {
		int r = -errno;
		fclose(f);
		unlink(tmp);
		return r ? r : -EIO;
	}
	fclose(f);
	if (rename(tmp, path) < 0) {
		int r = -errno;
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

static int kv(void *user, const char *section, const char *name, const char *value)
{
	Ctx *c = user;
	long long v;

	if (strcmp(section, "dtierd") != 0)
		return 1;
	if (parse_s64(value, &v) < 0) {
		c->bad = true;
		return 1;
	}
	c->ok = true;
	if (strcmp(name, "pid") == 0)
		c->s.pid = (pid_t)v;
	else if (strcmp(name, "kdamond") == 0)
		c->s.kdamond = (int)v;
	else if (strcmp(name, "kdamond_pid") == 0)
		c->s.kdamond_pid = v;
	else if (strcmp(name, "created_kdamonds") == 0)
		c->s.created_kdamonds = v != 0;
	else if (strcmp(name, "damon_stat_taken") == 0)
		c->s.damon_stat_taken = v != 0;
	else if (strcmp(name, "reloads") == 0)
		c->s.reloads = (unsigned long)v;
	else if (strcmp(name, "reload_ok") == 0)
		c->s.reload_ok = v != 0;
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
	char path[512];
	Ctx c = { .s = { .kdamond = -1, .kdamond_pid = -1 } };

	snprintf(path, sizeof(path), "%s/state", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	int r = ini_parse_file(f, kv, &c);
	fclose(f);
	if (r != 0 || !c.ok || c.bad)
		return -EINVAL;
	*ret = c.s;
	return 0;
}

int runstate_remove(const char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/state", dir);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
