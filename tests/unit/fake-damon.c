/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake-damon.h"
#include "util.h"
#include "test-util.h"

#define ADMIN "sys/kernel/mm/damon/admin"
#define STAT_ENABLED "sys/module/damon_stat/parameters/enabled"

const FakeDamonShape FAKE_DAMON_6_10 = {
	.name = "6.10",
	.legacy_filters = true,
};
const FakeDamonShape FAKE_DAMON_6_12 = {
	.name = "6.12",
	.target_nid = true,
	.legacy_filters = true,
};
const FakeDamonShape FAKE_DAMON_7_3 = {
	.name = "7.3",
	.target_nid = true,
	.filter_allow = true,
	.layered_filters = true,
	.legacy_filters = true,
	.goal_nid = true,
	.goal_tuner = true,
	.node_metrics = true,
};
const FakeDamonShape FAKE_DAMON_7_X_NO_LEGACY = {
	.name = "7.x without filters/",
	.target_nid = true,
	.filter_allow = true,
	.layered_filters = true,
	.goal_nid = true,
	.goal_tuner = true,
	.node_metrics = true,
};

/* snprintf for paths, failing the test instead of truncating. */
static void pathf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pathf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < size);
}

/* --- files -------------------------------------------------------------- */

static void put(FakeDamon *f, const char *rel, const char *value)
{
	tu_write(f->root, rel, "%s\n", value);
}

static void putf(FakeDamon *f, const char *dir, const char *name, const char *value)
{
	char p[PATH_MAX];
	pathf(p, sizeof(p), "%s/%s", dir, name);
	put(f, p, value);
}

static const char *get(FakeDamon *f, const char *rel)
{
	return tu_read(f->root, rel);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Removes the numbered children of DIR (root-relative). */
static void remove_children(FakeDamon *f, const char *dir)
{
	char abs[PATH_MAX];
	pathf(abs, sizeof(abs), "%s/%s", f->root, dir);
	DIR *d = opendir(abs);
	if (!d)
		return;
	struct dirent *de;
	char *names[1024];
	size_t n = 0;
	while ((de = readdir(d)) && n < 1024)
		if (all_digits(de->d_name))
			names[n++] = strdup(de->d_name);
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		char p[PATH_MAX];
		pathf(p, sizeof(p), "%s/%s", abs, names[i]);
		nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(names[i]);
	}
}

/* --- default children, as the kernel creates them ------------------------ */

static void mk_kdamond(FakeDamon *f, const char *d)
{
	putf(f, d, "state", "off");
	putf(f, d, "pid", "-1");
	putf(f, d, "contexts/nr_contexts", "0");
	if (f->shape->goal_tuner)
		putf(f, d, "refresh_ms", "0");
}

static void mk_context(FakeDamon *f, const char *d)
{
	putf(f, d, "avail_operations", "vaddr\nfvaddr\npaddr");
	putf(f, d, "operations", "vaddr");
	putf(f, d, "monitoring_attrs/intervals/sample_us", "5000");
	putf(f, d, "monitoring_attrs/intervals/aggr_us", "100000");
	putf(f, d, "monitoring_attrs/intervals/update_us", "60000000");
	putf(f, d, "monitoring_attrs/nr_regions/min", "10");
	putf(f, d, "monitoring_attrs/nr_regions/max", "1000");
	putf(f, d, "targets/nr_targets", "0");
	putf(f, d, "schemes/nr_schemes", "0");
	if (f->shape->goal_tuner) {
		putf(f, d, "addr_unit", "1");
		putf(f, d, "pause", "N");
	}
}

static void mk_target(FakeDamon *f, const char *d)
{
	putf(f, d, "pid_target", "0");
	putf(f, d, "regions/nr_regions", "0");
	if (f->shape->goal_tuner)
		putf(f, d, "obsolete_target", "N");
}

static void mk_region(FakeDamon *f, const char *d)
{
	putf(f, d, "start", "0");
	putf(f, d, "end", "0");
}

static void mk_scheme(FakeDamon *f, const char *d)
{
	static const char *const zero[] = {
		"apply_interval_us",
		"access_pattern/sz/min", "access_pattern/sz/max",
		"access_pattern/nr_accesses/min", "access_pattern/nr_accesses/max",
		"access_pattern/age/min", "access_pattern/age/max",
		"quotas/ms", "quotas/bytes", "quotas/reset_interval_ms", "quotas/effective_bytes",
		"quotas/weights/sz_permil", "quotas/weights/nr_accesses_permil", "quotas/weights/age_permil",
		"quotas/goals/nr_goals",
		"watermarks/interval_us", "watermarks/high", "watermarks/mid", "watermarks/low",
		"stats/nr_tried", "stats/sz_tried", "stats/nr_applied", "stats/sz_applied", "stats/qt_exceeds",
		"tried_regions/total_bytes",
	};
	putf(f, d, "action", "stat");
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		putf(f, d, zero[i], "0");
	putf(f, d, "watermarks/metric", "none");
	if (f->shape->target_nid)
		putf(f, d, "target_nid", "-1");
	if (f->shape->legacy_filters)
		putf(f, d, "filters/nr_filters", "0");
	if (f->shape->layered_filters) {
		putf(f, d, "core_filters/nr_filters", "0");
		putf(f, d, "ops_filters/nr_filters", "0");
	}
	if (f->shape->goal_tuner) {
		putf(f, d, "quotas/goal_tuner", "consist");
		putf(f, d, "quotas/fail_charge_num", "0");
		putf(f, d, "quotas/fail_charge_denom", "0");
		putf(f, d, "dests/nr_dests", "0");
	}
	if (f->shape->filter_allow)
		putf(f, d, "stats/sz_ops_filter_passed", "0");
}

static void mk_goal(FakeDamon *f, const char *d)
{
	putf(f, d, "target_metric", "user_input");
	putf(f, d, "target_value", "0");
	putf(f, d, "current_value", "0");
	if (f->shape->goal_nid)
		putf(f, d, "nid", "0");
}

static void mk_filter(FakeDamon *f, const char *d)
{
	putf(f, d, "type", "anon");
	putf(f, d, "matching", "N");
	putf(f, d, "memcg_path", "");
	putf(f, d, "addr_start", "0");
	putf(f, d, "addr_end", "0");
	putf(f, d, "damon_target_idx", "0");
	if (f->shape->filter_allow)
		putf(f, d, "allow", "N");
	if (f->shape->layered_filters) {
		putf(f, d, "min", "0");
		putf(f, d, "max", "0");
	}
}

static void mk_dest(FakeDamon *f, const char *d)
{
	putf(f, d, "id", "0");
	putf(f, d, "weight", "0");
}

typedef void (*MakeFn)(FakeDamon *f, const char *dir);

static MakeFn maker_for(const char *nr_name)
{
	static const struct {
		const char *name;
		MakeFn fn;
	} t[] = {
		{ "nr_kdamonds", mk_kdamond }, { "nr_contexts", mk_context }, { "nr_targets", mk_target },
		{ "nr_regions", mk_region },   { "nr_schemes", mk_scheme },   { "nr_goals", mk_goal },
		{ "nr_filters", mk_filter },   { "nr_dests", mk_dest },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i].name, nr_name) == 0)
			return t[i].fn;
	return NULL;
}

/* The kernel's nr_* store: remove all children, create 0..n-1. PATH is the
 * root-relative nr file. */
static void do_nr(FakeDamon *f, const char *path, unsigned n)
{
	char dir[PATH_MAX];
	pathf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	assert_non_null(slash);
	*slash = '\0';
	MakeFn fn = maker_for(slash + 1);
	assert_non_null(fn);
	remove_children(f, dir);
	for (unsigned i = 0; i < n; i++) {
		char c[PATH_MAX];
		pathf(c, sizeof(c), "%s/%u", dir, i);
		tu_mkdirs(f->root, c);
		fn(f, c);
	}
}

/* --- value parsing like the kernel's kstrto*() --------------------------- */

static int kstrtoull0(const char *v, unsigned long long *ret)
{
	char buf[64];
	size_t n = strlen(v);
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, v, n + 1);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n == 0 || buf[0] == '-' || buf[0] == '+' || isspace((unsigned char)buf[0]))
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(buf, &end, 0);
	if (errno)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = x;
	return 0;
}

static int kstrtoint0(const char *v, long long *ret)
{
	unsigned long long u;
	int r;

	if (v[0] == '-') {
		r = kstrtoull0(v + 1, &u);
		if (r < 0)
			return r;
		if (u > 2147483648ULL)
			return -ERANGE;
		*ret = -(long long)u;
		return 0;
	}
	r = kstrtoull0(v, &u);
	if (r < 0)
		return r;
	if (u > 2147483647ULL)
		return -ERANGE;
	*ret = (long long)u;
	return 0;
}

static bool kstrtobool_ok(const char *v)
{
	switch (v[0]) {
	case 'y': case 'Y': case '1': case 'n': case 'N': case '0':
		return true;
	case 'o': case 'O':
		return v[1] == 'n' || v[1] == 'N' || v[1] == 'f' || v[1] == 'F';
	default:
		return false;
	}
}

static bool word_in(const char *v, const char *const *words)
{
	size_t n = strlen(v);
	if (n > 0 && v[n - 1] == '\n')
		n--;
	for (; *words; words++)
		if (strlen(*words) == n && strncmp(*words, v, n) == 0)
			return true;
	return false;
}

static int check_keyword(FakeDamon *f, const char *path, const char *base, const char *v)
{
	const FakeDamonShape *s = f->shape;

	if (strcmp(base, "operations") == 0) {
		static const char *const w[] = { "vaddr", "fvaddr", "paddr", NULL };
		return word_in(v, w) ? 0 : -EINVAL;
	}
	if (strcmp(base, "action") == 0) {
		static const char *const w[] = { "willneed", "cold", "pageout", "hugepage", "nohugepage",
						 "lru_prio", "lru_deprio", "stat", NULL };
		static const char *const m[] = { "migrate_hot", "migrate_cold", NULL };
		return word_in(v, w) || (s->target_nid && word_in(v, m)) ? 0 : -EINVAL;
	}
	if (strcmp(base, "goal_tuner") == 0) {
		static const char *const w[] = { "consist", "temporal", NULL };
		return word_in(v, w) ? 0 : -EINVAL;
	}
	if (strcmp(base, "target_metric") == 0) {
		static const char *const w[] = { "user_input", "some_mem_psi_us", NULL };
		static const char *const n[] = { "node_mem_used_bp", "node_mem_free_bp", "node_eligible_mem_bp", NULL };
		return word_in(v, w) || (s->node_metrics && word_in(v, n)) ? 0 : -EINVAL;
	}
	if (strcmp(base, "type") == 0) {
		/* The layer is the grandparent: .../<layer>/<F>/type. */
		char dir[PATH_MAX];
		pathf(dir, sizeof(dir), "%s", path);
		*strrchr(dir, '/') = '\0';
		*strrchr(dir, '/') = '\0';
		const char *layer = strrchr(dir, '/') + 1;
		static const char *const core[] = { "addr", "target", NULL };
		static const char *const ops_old[] = { "anon", "memcg", "young", NULL };
		static const char *const ops_new[] = { "hugepage_size", "unmapped", "active", NULL };
		if (strcmp(layer, "core_filters") == 0)
			return word_in(v, core) ? 0 : -EINVAL;
		if (strcmp(layer, "ops_filters") == 0)
			return word_in(v, ops_old) || word_in(v, ops_new) ? 0 : -EINVAL;
		return word_in(v, core) || word_in(v, ops_old) || (s->layered_filters && word_in(v, ops_new))
			       ? 0 : -EINVAL;
	}
	if (strcmp(base, "matching") == 0 || strcmp(base, "allow") == 0 || strcmp(base, "enabled") == 0 ||
	    strcmp(base, "obsolete_target") == 0 || strcmp(base, "pause") == 0)
		return kstrtobool_ok(v) ? 0 : -EINVAL;
	if (strcmp(base, "memcg_path") == 0 || strcmp(base, "path") == 0)
		return 0;
	if (strcmp(base, "target_nid") == 0 || strcmp(base, "nid") == 0 || strcmp(base, "pid_target") == 0 ||
	    strcmp(base, "damon_target_idx") == 0) {
		long long x;
		return kstrtoint0(v, &x);
	}
	unsigned long long u;
	return kstrtoull0(v, &u);
}

/* --- state ---------------------------------------------------------------- */

static int nr_of(FakeDamon *f, const char *dir, const char *rel)
{
	char p[PATH_MAX];
	pathf(p, sizeof(p), "%s/%s", dir, rel);
	const char *v = get(f, p);
	return v ? atoi(v) : -1;
}

/* Scheme S of kdamond KD is a stat scheme every region matches, under a
 * size quota (a new scheme directory's defaults have none). */
static bool catch_all_stat(FakeDamon *f, const char *kd, int s)
{
	char p[PATH_MAX];
	pathf(p, sizeof(p), "%s/contexts/0/schemes/%d/action", kd, s);
	const char *v = get(f, p);
	bool stat = v && strcmp(v, "stat") == 0;
	pathf(p, sizeof(p), "%s/contexts/0/schemes/%d/access_pattern/nr_accesses/min", kd, s);
	v = get(f, p);
	bool all = v && atoi(v) == 0;
	pathf(p, sizeof(p), "%s/contexts/0/schemes/%d/quotas/bytes", kd, s);
	v = get(f, p);
	return stat && all && v && atoi(v) > 0;
}

/* What runs is what was staged at "on" or the last commit. */
static void note_pulses(FakeDamon *f, const char *kd)
{
	int ns = nr_of(f, kd, "contexts/0/schemes/nr_schemes");
	f->pulse_mask = 0;
	for (int s = 0; s < ns && s < 32; s++)
		if (catch_all_stat(f, kd, s))
			f->pulse_mask |= 1u << s;
}

static void update_tried(FakeDamon *f, const char *kd)
{
	int ns = nr_of(f, kd, "contexts/0/schemes/nr_schemes");
	for (int s = 0; s < ns; s++) {
		char dir[PATH_MAX];
		pathf(dir, sizeof(dir), "%s/contexts/0/schemes/%d/tried_regions", kd, s);
		remove_children(f, dir);
		uint64_t total = 0;
		/* Named like 6.14-7.1 do: 1, 3, 5, ... (docs/kernel-interface.md). */
		for (size_t i = 0; s == 0 && !f->tried_unanswered && i < f->n_tried; i++) {
			char r[PATH_MAX + 32], v[32];
			pathf(r, sizeof(r), "%s/%zu", dir, 2 * i + 1);
			snprintf(v, sizeof(v), "%llu", (unsigned long long)f->tried[i].start);
			putf(f, r, "start", v);
			snprintf(v, sizeof(v), "%llu", (unsigned long long)f->tried[i].end);
			putf(f, r, "end", v);
			snprintf(v, sizeof(v), "%u", f->tried[i].nr_accesses);
			putf(f, r, "nr_accesses", v);
			snprintf(v, sizeof(v), "%u", f->tried[i].age);
			putf(f, r, "age", v);
			total += f->tried[i].end - f->tried[i].start;
		}
		char v[32];
		snprintf(v, sizeof(v), "%llu", (unsigned long long)total);
		putf(f, dir, "total_bytes", v);
	}
}

/* A u64 file of scheme S (0 if absent). */
static uint64_t scheme_u64(FakeDamon *f, const char *kd, int s, const char *rel)
{
	char p[PATH_MAX];
	pathf(p, sizeof(p), "%s/contexts/0/schemes/%d/%s", kd, s, rel);
	const char *v = get(f, p);
	return v ? strtoull(v, NULL, 0) : 0;
}

/* What scheme S of kdamond KD tries in one pass: the bytes of the tried
 * regions its nr_accesses/min admits, less what its address filters
 * (matching, reject) cut out (DAMON splits a region at a filter's edges),
 * and how many regions. A stat scheme with neither threshold nor quota
 * tries every monitored byte. */
static uint64_t pass_bytes(FakeDamon *f, const char *kd, int s, uint64_t *ret_nr)
{
	const char *fdir = f->shape->legacy_filters ? "filters" : "core_filters";
	uint64_t nr_min = scheme_u64(f, kd, s, "access_pattern/nr_accesses/min"), total = 0;
	char rel[128];

	*ret_nr = 0;
	if (nr_min == 0 && scheme_u64(f, kd, s, "quotas/bytes") == 0) {
		char p[PATH_MAX + 64];
		pathf(p, sizeof(p), "%s/contexts/0/targets/0/regions/nr_regions", kd);
		const char *v = get(f, p);
		int n = v ? atoi(v) : 0;
		for (int i = 0; i < n; i++) {
			char rel_r[64];
			snprintf(rel_r, sizeof(rel_r), "../../targets/0/regions/%d/start", i);
			uint64_t a = scheme_u64(f, kd, s, rel_r);
			snprintf(rel_r, sizeof(rel_r), "../../targets/0/regions/%d/end", i);
			total += scheme_u64(f, kd, s, rel_r) - a;
			++*ret_nr;
		}
		return total;
	}
	snprintf(rel, sizeof(rel), "%s/nr_filters", fdir);
	int nf = (int)scheme_u64(f, kd, s, rel);
	for (size_t i = 0; !f->tried_unanswered && i < f->n_tried; i++) {
		if (f->tried[i].nr_accesses < nr_min)
			continue;
		uint64_t bytes = f->tried[i].end - f->tried[i].start;
		for (int k = 0; k < nf; k++) {
			snprintf(rel, sizeof(rel), "%s/%d/addr_start", fdir, k);
			uint64_t a = MAX(scheme_u64(f, kd, s, rel), f->tried[i].start);
			snprintf(rel, sizeof(rel), "%s/%d/addr_end", fdir, k);
			uint64_t b = MIN(scheme_u64(f, kd, s, rel), f->tried[i].end);
			bytes -= b > a ? b - a : 0;
		}
		total += bytes;
		*ret_nr += bytes > 0;
	}
	return total;
}

/* update_schemes_tried_bytes: each scheme's total_bytes, what it tries in
 * a pass. */
static void update_tried_bytes(FakeDamon *f, const char *kd)
{
	int ns = nr_of(f, kd, "contexts/0/schemes/nr_schemes");

	for (int s = 0; s < ns; s++) {
		char dir[PATH_MAX], v[32];
		uint64_t nr, total = pass_bytes(f, kd, s, &nr);
		pathf(dir, sizeof(dir), "%s/contexts/0/schemes/%d/tried_regions", kd, s);
		remove_children(f, dir);
		snprintf(v, sizeof(v), "%llu", (unsigned long long)total);
		putf(f, dir, "total_bytes", v);
	}
}

/* update_schemes_stats: passes_per_update more passes (none while the
 * apply stalls), then every scheme's counters. */
static void update_stats(FakeDamon *f, const char *kd)
{
	int ns = nr_of(f, kd, "contexts/0/schemes/nr_schemes");

	for (int s = 0; s < ns && s < FAKE_MAX_SCHEMES; s++) {
		char d[PATH_MAX + 32], val[32];
		if (!f->apply_stalled && f->passes_per_update) {
			uint64_t nr, bytes = pass_bytes(f, kd, s, &nr);
			f->sz_tried[s] += f->passes_per_update * bytes;
			f->nr_tried[s] += f->passes_per_update * nr;
		} else if (!f->apply_stalled && s < 32 && (f->pulse_mask & 1u << s))
			f->sz_tried[s] += 4096;
		pathf(d, sizeof(d), "%s/contexts/0/schemes/%d/stats", kd, s);
		snprintf(val, sizeof(val), "%llu", (unsigned long long)f->sz_applied[s]);
		putf(f, d, "sz_applied", val);
		snprintf(val, sizeof(val), "%llu", (unsigned long long)f->sz_tried[s]);
		putf(f, d, "sz_tried", val);
		snprintf(val, sizeof(val), "%llu", (unsigned long long)f->nr_tried[s]);
		putf(f, d, "nr_tried", val);
	}
}

static int do_state(FakeDamon *f, const char *path, const char *v)
{
	static const char *const cmds[] = { "commit", "commit_schemes_quota_goals", "update_schemes_stats",
					    "update_schemes_tried_regions", "update_schemes_tried_bytes",
					    "clear_schemes_tried_regions", "update_schemes_effective_quotas",
					    "update_tuned_intervals", NULL };
	static const char *const on[] = { "on", NULL }, *const off[] = { "off", NULL };
	char kd[PATH_MAX];
	pathf(kd, sizeof(kd), "%s", path);
	*strrchr(kd, '/') = '\0';
	const char *cur = get(f, path);
	bool running = cur && strcmp(cur, "on") == 0;
	int nctx = nr_of(f, kd, "contexts/nr_contexts");

	if (word_in(v, on)) {
		if (running)
			return -EBUSY;
		/* DAMON_STAT starts its context exclusively. */
		const char *st = get(f, STAT_ENABLED);
		if (st && st[0] == 'Y')
			return -EBUSY;
		if (nctx != 1)
			return -EINVAL;
		const char *k = strrchr(kd, '/') + 1;
		char pid[32];
		snprintf(pid, sizeof(pid), "%d", 4242 + atoi(k));
		putf(f, kd, "pid", pid);
		note_pulses(f, kd);
		return 0;
	}
	if (word_in(v, off)) {
		if (!running)
			return -EINVAL;
		putf(f, kd, "pid", "-1");
		return 0;
	}
	if (!word_in(v, cmds))
		return -EINVAL;
	if (!running || nctx != 1)
		return -EINVAL;
	if (strncmp(v, "commit_schemes_quota_goals", 26) == 0)
		f->n_goal_commits++;
	else if (strncmp(v, "commit", 6) == 0) {
		f->n_commits++;
		note_pulses(f, kd);
	}
	else if (strncmp(v, "update_schemes_stats", 20) == 0) {
		update_stats(f, kd);
	} else if (strncmp(v, "update_schemes_tried_regions", 28) == 0) {
		update_tried(f, kd);
	} else if (strncmp(v, "update_schemes_tried_bytes", 26) == 0) {
		update_tried_bytes(f, kd);
	}
	/* The write about to happen stores the keyword; put "on" back later. */
	snprintf(f->pending_state, sizeof(f->pending_state), "%s", path);
	return 0;
}

void fake_damon_settle(FakeDamon *f)
{
	if (f->pending_state[0]) {
		put(f, f->pending_state, "on");
		f->pending_state[0] = '\0';
	}
}

/* --- the hook ------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return b <= a && strcmp(s + a - b, suffix) == 0;
}

static const char *admin_rel(const char *path)
{
	size_t n = strlen(ADMIN);
	return strncmp(path, ADMIN "/", n + 1) == 0 ? path + n + 1 : path;
}

static bool read_only(const char *base)
{
	static const char *const ro[] = { "pid", "avail_operations", "effective_bytes", "nr_tried", "sz_tried",
					  "nr_applied", "sz_applied", "qt_exceeds", "total_bytes",
					  "sz_ops_filter_passed", NULL };
	return word_in(base, ro);
}

static int hook(void *userdata, const char *path, const char *value)
{
	FakeDamon *f = userdata;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;

	fake_damon_settle(f);

	if (f->busy_suffix[0] && ends_with(path, f->busy_suffix) && f->busy_left > 0) {
		f->busy_left--;
		f->busy_hits++;
		return -EBUSY;
	}
	if (f->fail_suffix[0] && ends_with(path, f->fail_suffix)) {
		if (f->fail_stops_kdamond && strcmp(base, "state") == 0) {
			/* The kdamond exited just before this write. */
			char kd[PATH_MAX];
			pathf(kd, sizeof(kd), "%s", path);
			*strrchr(kd, '/') = '\0';
			putf(f, kd, "state", "off");
			putf(f, kd, "pid", "-1");
		}
		return -f->fail_errno;
	}

	char abs[PATH_MAX];
	struct stat st;
	pathf(abs, sizeof(abs), "%s/%s", f->root, path);
	if (stat(abs, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return 0; /* the write itself fails with EISDIR */
	if (read_only(base))
		return -EACCES;

	int r;
	if (strcmp(base, "state") == 0 && strncmp(path, ADMIN "/kdamonds/", strlen(ADMIN "/kdamonds/")) == 0) {
		r = do_state(f, path, value);
	} else if (maker_for(base)) {
		long long n;
		r = kstrtoint0(value, &n);
		if (r == 0 && n < 0)
			r = -EINVAL;
		if (r == 0 && strcmp(base, "nr_contexts") == 0 && n > 1)
			r = -EINVAL;
		if (r == 0 && strcmp(base, "nr_kdamonds") == 0) {
			/* EBUSY if any kdamond under it runs. */
			int nk = nr_of(f, ADMIN "/kdamonds", "nr_kdamonds");
			for (int k = 0; k < nk; k++) {
				char p[PATH_MAX];
				pathf(p, sizeof(p), ADMIN "/kdamonds/%d/state", k);
				const char *s = get(f, p);
				if (s && strcmp(s, "on") == 0)
					r = -EBUSY;
			}
		}
		if (r == 0)
			do_nr(f, path, (unsigned)n);
	} else {
		r = check_keyword(f, path, base, value);
	}
	if (r < 0)
		return r;

	if (f->n_log == f->cap_log) {
		f->cap_log = f->cap_log ? 2 * f->cap_log : 256;
		f->log = realloc(f->log, f->cap_log * sizeof(*f->log));
		assert_non_null(f->log);
	}
	f->log[f->n_log++] = (FakeWrite){ .path = strdup(admin_rel(path)), .value = strdup(value) };
	return 0;
}

/* --- setup and queries ---------------------------------------------------- */

void fake_damon_init(FakeDamon *f, const FakeDamonShape *shape)
{
	*f = (FakeDamon){ .shape = shape, .passes_per_update = 1 };
	f->root = tu_mkdtemp();
	put(f, ADMIN "/kdamonds/nr_kdamonds", "0");
	put(f, STAT_ENABLED, "N");
	tu_sysfs_open(f->root, &f->fs);
	f->fs.write_hook = hook;
	f->fs.hook_data = f;
}

void fake_damon_free(FakeDamon *f)
{
	fake_damon_log_clear(f);
	free(f->log);
	sysfs_close(&f->fs);
	tu_rmtree(f->root);
	*f = (FakeDamon){ 0 };
}

void fake_damon_set_nr(FakeDamon *f, const char *rel, unsigned n)
{
	char p[PATH_MAX], v[16];
	pathf(p, sizeof(p), ADMIN "/%s", rel);
	do_nr(f, p, n);
	snprintf(v, sizeof(v), "%u", n);
	put(f, p, v);
}

void fake_damon_put(FakeDamon *f, const char *rel, const char *value)
{
	char p[PATH_MAX];
	if (strncmp(rel, "sys/", 4) == 0)
		pathf(p, sizeof(p), "%s", rel);
	else
		pathf(p, sizeof(p), ADMIN "/%s", rel);
	put(f, p, value);
}

const char *fake_damon_get(FakeDamon *f, const char *fmt, ...)
{
	char rel[PATH_MAX - 64], p[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (strncmp(rel, "sys/", 4) == 0)
		pathf(p, sizeof(p), "%s", rel);
	else
		pathf(p, sizeof(p), ADMIN "/%s", rel);
	return get(f, p);
}

bool fake_damon_has(FakeDamon *f, const char *fmt, ...)
{
	char rel[PATH_MAX - 64], p[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	pathf(p, sizeof(p), ADMIN "/%s", rel);
	return tu_exists(f->root, p);
}

int fake_damon_log_find(const FakeDamon *f, size_t from, const char *suffix, const char *value)
{
	for (size_t i = from; i < f->n_log; i++)
		if (ends_with(f->log[i].path, suffix) && (!value || strcmp(f->log[i].value, value) == 0))
			return (int)i;
	return -1;
}

size_t fake_damon_log_count(const FakeDamon *f, size_t from, const char *suffix)
{
	size_t n = 0;
	for (size_t i = from; i < f->n_log; i++)
		n += ends_with(f->log[i].path, suffix);
	return n;
}

void fake_damon_log_clear(FakeDamon *f)
{
	for (size_t i = 0; i < f->n_log; i++) {
		free(f->log[i].path);
		free(f->log[i].value);
	}
	f->n_log = 0;
}

void fake_damon_assert_no_wipe(const FakeDamon *f, size_t from)
{
	for (size_t j = from; j < f->n_log; j++) {
		const char *p = f->log[j].path, *base = strrchr(p, '/');
		if (!base || strncmp(base + 1, "nr_", 3) != 0)
			continue;
		size_t dlen = (size_t)(base - p);
		for (size_t i = from; i < j; i++) {
			const char *q = f->log[i].path;
			if (strncmp(q, p, dlen) != 0 || q[dlen] != '/' || !isdigit((unsigned char)q[dlen + 1]))
				continue;
			fail_msg("write #%zu %s=%s was wiped by the later write #%zu %s=%s", i, q, f->log[i].value,
				 j, p, f->log[j].value);
		}
	}
}
