/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "damon-sysfs.h"
#include "util.h"

#define KDAMONDS DAMON_ADMIN "/kdamonds"
/* The largest value the kernel keeps for nr_accesses/age (stored as unsigned
 * int: larger sysfs values are silently truncated). */
#define U32_MAXV 4294967295ULL

static const char *const module_names[_DAMON_MOD_MAX] = {
	[DAMON_MOD_STAT] = "damon_stat",
	[DAMON_MOD_RECLAIM] = "damon_reclaim",
	[DAMON_MOD_LRU_SORT] = "damon_lru_sort",
};

const char *damon_module_name(unsigned mod)
{
	return mod < _DAMON_MOD_MAX ? module_names[mod] : "?";
}

int damon_module_enabled(const Sysfs *fs, unsigned mod)
{
	char buf[16];
	int r = sysfs_read_str(fs, buf, sizeof(buf), "sys/module/%s/parameters/enabled", damon_module_name(mod));
	if (r < 0)
		return r;
	return buf[0] == 'Y' || buf[0] == 'y' || buf[0] == '1';
}

int damon_module_set_enabled(Sysfs *fs, unsigned mod, bool on)
{
	return sysfs_write_str(fs, on ? "Y" : "N", "sys/module/%s/parameters/enabled", damon_module_name(mod));
}

int damon_available(const Sysfs *fs)
{
	return sysfs_exists(fs, KDAMONDS "/nr_kdamonds") ? 0 : -ENOENT;
}

int damon_check_foreign(const Sysfs *fs, char *desc, size_t size)
{
	uint64_t nr;
	char path[256], ops[32];
	int r;

	r = sysfs_read_u64(fs, &nr, KDAMONDS "/nr_kdamonds");
	if (r < 0)
		return r;
	for (uint64_t k = 0; k < nr; k++) {
		uint64_t nctx = 0;
		int64_t pid = -1;

		snprintf(path, sizeof(path), KDAMONDS "/%" PRIu64, k);
		r = sysfs_read_s64_retry(fs, &pid, "%s/pid", path); /* -1: stopped */
		if (r < 0)
			return r;
		(void)sysfs_read_u64(fs, &nctx, KDAMONDS "/%" PRIu64 "/contexts/nr_contexts", k);
		ops[0] = '\0';
		if (nctx > 0)
			(void)sysfs_read_str(fs, ops, sizeof(ops), KDAMONDS "/%" PRIu64 "/contexts/0/operations", k);
		if (pid >= 0) {
			snprintf(desc, size,
				 "kdamond %" PRIu64 " is running (pid %" PRId64 ", operations %s) and was not started by dtierd",
				 k, pid, ops[0] ? ops : "?");
			return -EEXIST;
		}
		if (nctx > 0) {
			snprintf(desc, size, "kdamond %" PRIu64 " is configured (operations %s) but not running; it was not set up by dtierd",
				 k, ops[0] ? ops : "?");
			return -EEXIST;
		}
	}
	if (nr > 0) {
		/* Empty and stopped, but someone made it: reusing it would
		 * make its owner's next write land in dtierd's kdamond. */
		snprintf(desc, size,
			 "%" PRIu64 " empty stopped kdamond(s) exist that dtierd did not create; remove them with "
			 "'echo 0 > /" KDAMONDS "/nr_kdamonds'", nr);
		return -EEXIST;
	}
	return 0;
}

static int probe_keyword(Sysfs *fs, const char *value, const char *restore, const char *path)
{
	int r = sysfs_write_str(fs, value, "%s", path);
	if (r == 0 && restore)
		(void)sysfs_write_str(fs, restore, "%s", path);
	return r;
}

static int probe(Damon *d)
{
	DamonFeatures *f = &d->feat;
	Sysfs *fs = d->fs;
	char path[256], ops[128];
	int r;

	*f = (DamonFeatures){ 0 };
	/* Probe on our own stopped kdamond: nr_* writes reset what is below. */
	r = sysfs_write_str_retry(fs, "1", "%s/contexts/nr_contexts", d->dir);
	if (r < 0)
		return r;
	d->staged = true;
	if (sysfs_read_str(fs, ops, sizeof(ops), "%s/contexts/0/avail_operations", d->dir) == 0)
		f->paddr = strstr(ops, "paddr") != NULL;
	/* A context dtierd stages is paddr from its first write on: recovery
	 * tells a half-probed tree of its own from someone's vaddr one. */
	if (f->paddr && (r = sysfs_write_str(fs, "paddr", "%s/contexts/0/operations", d->dir)) < 0)
		return r;
	if ((r = sysfs_write_str_retry(fs, "1", "%s/contexts/0/targets/nr_targets", d->dir)) < 0 ||
	    (r = sysfs_write_str_retry(fs, "1", "%s/contexts/0/schemes/nr_schemes", d->dir)) < 0)
		return r;
	const char *S = path;
	snprintf(path, sizeof(path), "%s/contexts/0/schemes/0", d->dir);
	f->tried_regions = sysfs_exists(fs, "%s/tried_regions", S);
	f->goals = sysfs_exists(fs, "%s/quotas/goals", S);
	f->core_filters = sysfs_exists(fs, "%s/core_filters", S);
	if (sysfs_exists(fs, "%s/target_nid", S)) {
		char p[300];
		snprintf(p, sizeof(p), "%s/action", S);
		f->migrate = probe_keyword(fs, "migrate_hot", "stat", p) == 0;
	}
	if (sysfs_exists(fs, "%s/quotas/goal_tuner", S)) {
		char p[300];
		snprintf(p, sizeof(p), "%s/quotas/goal_tuner", S);
		f->temporal = probe_keyword(fs, "temporal", "consist", p) == 0;
	}
	if (f->goals) {
		r = sysfs_write_str_retry(fs, "1", "%s/quotas/goals/nr_goals", S);
		if (r < 0)
			return r;
		if (sysfs_exists(fs, "%s/quotas/goals/0/target_metric", S)) {
			char p[300];
			snprintf(p, sizeof(p), "%s/quotas/goals/0/target_metric", S);
			f->goal_metric = true;
			/* user_input must be accepted where metrics exist. */
			if (probe_keyword(fs, "user_input", NULL, p) < 0)
				f->goals = false;
			f->eligible_metric = sysfs_exists(fs, "%s/quotas/goals/0/nid", S) &&
					     probe_keyword(fs, "node_eligible_mem_bp", "user_input", p) == 0;
		}
		(void)sysfs_write_str_retry(fs, "0", "%s/quotas/goals/nr_goals", S);
	}
	const char *fdir = sysfs_exists(fs, "%s/filters", S) ? "filters" : f->core_filters ? "core_filters" : NULL;
	if (fdir) {
		if (sysfs_write_str_retry(fs, "1", "%s/%s/nr_filters", S, fdir) == 0) {
			f->filter_allow = sysfs_exists(fs, "%s/%s/0/allow", S, fdir);
			(void)sysfs_write_str_retry(fs, "0", "%s/%s/nr_filters", S, fdir);
		}
	}
	return 0;
}

int damon_require_features(const DamonFeatures *f, char *what, size_t size)
{
	const char *missing = NULL;

	if (!f->paddr)
		missing = "the paddr operations set (CONFIG_DAMON_PADDR)";
	else if (!f->tried_regions)
		missing = "schemes/N/tried_regions (Linux 6.2)";
	else if (!f->goals)
		missing = "quota goals with user_input (Linux 6.8/6.9)";
	else if (!f->migrate)
		missing = "the migrate_hot action and schemes/N/target_nid (Linux 6.11)";
	if (!missing)
		return 0;
	snprintf(what, size, "%s", missing);
	return -EOPNOTSUPP;
}

int damon_create(Damon *d, Sysfs *fs)
{
	char desc[256];
	uint64_t nr;
	int r;

	*d = (Damon){ .fs = fs, .pid = -1 };
	r = damon_check_foreign(fs, desc, sizeof(desc));
	if (r < 0)
		return r;
	r = sysfs_read_u64(fs, &nr, KDAMONDS "/nr_kdamonds");
	if (r < 0)
		return r;
	if (nr != 0)
		return -EEXIST;
	/* No kdamond exists (checked above), so this cannot destroy anyone's;
	 * only now may nr_kdamonds change. */
	r = sysfs_write_str_retry(fs, "1", KDAMONDS "/nr_kdamonds");
	if (r < 0)
		return r;
	d->created_kdamonds = true;
	d->kd = 0;
	snprintf(d->dir, sizeof(d->dir), KDAMONDS "/%u", d->kd);
	return probe(d);
}

typedef struct Writer {
	Damon *d;
	char *failed;
	size_t failed_size;
	int r;
} Writer;

/* Writes VALUE to the staged file DIR/REL, remembering the first failure. */
static void w_str(Writer *w, const char *value, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void w_str(Writer *w, const char *value, const char *fmt, ...)
{
	char path[512];
	va_list ap;

	if (w->r < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	/* nr_* files share the trylock: retry EBUSY. Value files do not. */
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	int r = strncmp(base, "nr_", 3) == 0 ? sysfs_write_str_retry(w->d->fs, value, "%s", path)
					     : sysfs_write_str(w->d->fs, value, "%s", path);
	if (r < 0) {
		w->r = r;
		if (w->failed)
			snprintf(w->failed, w->failed_size, "/%s", path);
	}
}

static void w_u64(Writer *w, uint64_t v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void w_u64(Writer *w, uint64_t v, const char *fmt, ...)
{
	char path[512], buf[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	w_str(w, buf, "%s", path);
}

static void write_pattern(Writer *w, const char *S, const DamonScheme *s)
{
	/* A disarmed scheme gets a pattern no region can match (a region's
	 * nr_accesses never exceeds aggr/sample), so its quota's first charge
	 * window passes harmlessly: on 6.12 that first window is not limited
	 * by the quota at all (seen: 203 MiB applied under a 16 MiB cap). */
	uint64_t nr_min = s->armed ? s->nr_accesses_min : U32_MAXV;

	/* Max before min on the way up and min before max on the way down do
	 * not matter: the kernel checks the pattern only at on/commit. */
	w_u64(w, s->sz_min, "%s/access_pattern/sz/min", S);
	w_str(w, "18446744073709551615", "%s/access_pattern/sz/max", S);
	w_u64(w, nr_min, "%s/access_pattern/nr_accesses/min", S);
	w_u64(w, U32_MAXV, "%s/access_pattern/nr_accesses/max", S);
	w_u64(w, s->age_min, "%s/access_pattern/age/min", S);
	w_u64(w, U32_MAXV, "%s/access_pattern/age/max", S);
}

static void write_scheme(Writer *w, const char *S, const DamonScheme *s)
{
	const DamonFeatures *f = &w->d->feat;

	w_str(w, s->action, "%s/action", S);
	if (s->target_nid >= 0)
		w_u64(w, (uint64_t)s->target_nid, "%s/target_nid", S);
	write_pattern(w, S, s);
	w_u64(w, s->quota_bytes, "%s/quotas/bytes", S);
	w_u64(w, s->quota_bytes ? s->reset_ms : 0, "%s/quotas/reset_interval_ms", S);
	w_u64(w, s->weight_sz, "%s/quotas/weights/sz_permil", S);
	w_u64(w, s->weight_nr_accesses, "%s/quotas/weights/nr_accesses_permil", S);
	w_u64(w, s->weight_age, "%s/quotas/weights/age_permil", S);
	if (s->goal) {
		w_str(w, "1", "%s/quotas/goals/nr_goals", S);
		if (s->goal_eligible) {
			w_str(w, "node_eligible_mem_bp", "%s/quotas/goals/0/target_metric", S);
			w_u64(w, (uint64_t)s->goal_nid, "%s/quotas/goals/0/nid", S);
		} else if (f->goal_metric) {
			w_str(w, "user_input", "%s/quotas/goals/0/target_metric", S);
		}
		w_u64(w, s->goal_target, "%s/quotas/goals/0/target_value", S);
		if (!s->goal_eligible)
			w_u64(w, s->goal_current, "%s/quotas/goals/0/current_value", S);
		if (f->temporal)
			w_str(w, "temporal", "%s/quotas/goal_tuner", S);
	}
	if (s->n_reject) {
		const char *fdir = sysfs_exists(w->d->fs, "%s/filters", S) ? "filters" : "core_filters";
		w_u64(w, s->n_reject, "%s/%s/nr_filters", S, fdir);
		for (size_t i = 0; i < s->n_reject; i++) {
			/* matching=Y rejects the range (no allow file on 6.12;
			 * allow=N, the default, means the same on 6.14+). */
			w_str(w, "addr", "%s/%s/%zu/type", S, fdir, i);
			w_str(w, "Y", "%s/%s/%zu/matching", S, fdir, i);
			if (f->filter_allow)
				w_str(w, "N", "%s/%s/%zu/allow", S, fdir, i);
			w_u64(w, s->reject[i].start, "%s/%s/%zu/addr_start", S, fdir, i);
			w_u64(w, s->reject[i].end, "%s/%s/%zu/addr_end", S, fdir, i);
		}
	}
}

int damon_stage(Damon *d, const DamonPlan *p, char *ret_path, size_t path_size)
{
	Writer w = { .d = d, .failed = ret_path, .failed_size = path_size };
	char C[192], S[256];

	snprintf(C, sizeof(C), "%s/contexts/0", d->dir);
	w_str(&w, "paddr", "%s/operations", C);
	w_u64(&w, p->sample_us, "%s/monitoring_attrs/intervals/sample_us", C);
	w_u64(&w, p->aggr_us, "%s/monitoring_attrs/intervals/aggr_us", C);
	/* paddr does not use the update interval; keep the kernel default. */
	w_u64(&w, p->min_regions, "%s/monitoring_attrs/nr_regions/min", C);
	w_u64(&w, p->max_regions, "%s/monitoring_attrs/nr_regions/max", C);
	w_str(&w, "1", "%s/targets/nr_targets", C);
	w_u64(&w, p->n_regions, "%s/targets/0/regions/nr_regions", C);
	for (size_t i = 0; i < p->n_regions; i++) {
		w_u64(&w, p->regions[i].start, "%s/targets/0/regions/%zu/start", C, i);
		w_u64(&w, p->regions[i].end, "%s/targets/0/regions/%zu/end", C, i);
	}
	w_u64(&w, p->n_schemes, "%s/schemes/nr_schemes", C);
	for (size_t i = 0; i < p->n_schemes; i++) {
		snprintf(S, sizeof(S), "%s/schemes/%zu", C, i);
		write_scheme(&w, S, &p->schemes[i]);
	}
	return w.r;
}

static int state_cmd(Damon *d, const char *cmd)
{
	return sysfs_write_str_retry(d->fs, cmd, "%s/state", d->dir);
}

int damon_start(Damon *d)
{
	int r = state_cmd(d, "on");
	if (r < 0)
		return r;
	d->started = true;
	/* The kernel thread's pid is what tells ours from a kdamond someone
	 * else starts at the same index later. */
	return sysfs_read_s64_retry(d->fs, &d->pid, "%s/pid", d->dir);
}

int damon_check_owned(Damon *d)
{
	int64_t pid;
	int r = sysfs_read_s64_retry(d->fs, &pid, "%s/pid", d->dir);
	if (r == -ENOENT)
		return -ESRCH;
	if (r < 0)
		return r;
	if (pid < 0)
		return -ESRCH;
	return d->pid >= 0 && pid == d->pid ? 0 : -EPERM;
}

int damon_stage_scheme_values(Damon *d, size_t i, const DamonScheme *s)
{
	Writer w = { .d = d };
	char S[256];

	snprintf(S, sizeof(S), "%s/contexts/0/schemes/%zu", d->dir, i);
	write_pattern(&w, S, s);
	w_u64(&w, s->quota_bytes, "%s/quotas/bytes", S);
	w_u64(&w, s->quota_bytes ? s->reset_ms : 0, "%s/quotas/reset_interval_ms", S);
	return w.r;
}

int damon_commit(Damon *d)
{
	int r = state_cmd(d, "commit");
	if (r < 0)
		return r;
	/* Before 6.14 (and on 6.14-6.17 without the Sept-2025 fix) a bad
	 * commit is not reported to write(2) but stops the kdamond: look
	 * (pid reads -1 once it stopped). */
	return damon_check_owned(d);
}

int damon_set_goal(Damon *d, size_t scheme, uint64_t target, const uint64_t *current)
{
	char S[256];
	int r;

	snprintf(S, sizeof(S), "%s/contexts/0/schemes/%zu/quotas/goals/0", d->dir, scheme);
	r = sysfs_write_u64(d->fs, target, "%s/target_value", S);
	if (r < 0 || !current)
		return r;
	return sysfs_write_u64(d->fs, *current, "%s/current_value", S);
}

int damon_commit_goals(Damon *d)
{
	return state_cmd(d, "commit_schemes_quota_goals");
}

int damon_update_tried_regions(Damon *d)
{
	return state_cmd(d, "update_schemes_tried_regions");
}

int damon_read_tried_regions(Damon *d, size_t scheme, TriedFields fields, RegionList *ret)
{
	char dir[256];

	snprintf(dir, sizeof(dir), "%s/contexts/0/schemes/%zu/tried_regions", d->dir, scheme);
	return tried_regions_read(d->fs, dir, fields, ret);
}

int damon_update_stats(Damon *d)
{
	return state_cmd(d, "update_schemes_stats");
}

int damon_read_sz_applied(Damon *d, size_t i, uint64_t *ret)
{
	return sysfs_read_u64_kept(d->fs, ret, "%s/contexts/0/schemes/%zu/stats/sz_applied", d->dir, i);
}

int damon_read_sz_tried(Damon *d, size_t i, uint64_t *ret)
{
	return sysfs_read_u64_kept(d->fs, ret, "%s/contexts/0/schemes/%zu/stats/sz_tried", d->dir, i);
}

int damon_read_nr_tried(Damon *d, size_t i, uint64_t *ret)
{
	return sysfs_read_u64_kept(d->fs, ret, "%s/contexts/0/schemes/%zu/stats/nr_tried", d->dir, i);
}

int damon_teardown(Damon *d)
{
	int first = 0, r;

	if (!d->fs || !d->dir[0])
		return 0;
	/* Whatever runs at our index now must be ours before anything is
	 * written: someone may have stopped ours and started theirs. */
	r = damon_check_owned(d);
	if (r == -EPERM || (r == 0 && !d->started))
		return -EPERM;
	if (r == 0) {
		r = state_cmd(d, "off");
		/* EPERM: it had already stopped by itself. Anything else: it
		 * may still run, and removing its context directory now would
		 * leave a running kdamond nobody can address; keep it for
		 * --cleanup to retry. */
		if (r < 0 && r != -EPERM && r != -EINVAL)
			return r;
	} else if (r != -ESRCH) {
		return r;
	}
	d->started = false;
	if (d->staged) {
		r = sysfs_write_str_retry(d->fs, "0", "%s/contexts/nr_contexts", d->dir);
		if (r < 0 && r != -ENOENT)
			first = first ?: r;
		d->staged = false;
	}
	if (d->created_kdamonds) {
		/* Only if ours is still the only one: someone may have added
		 * kdamonds after ours stopped; writing 0 would destroy theirs. */
		uint64_t nr = 0;
		if (sysfs_read_u64(d->fs, &nr, KDAMONDS "/nr_kdamonds") == 0 && nr == 1) {
			r = sysfs_write_str_retry(d->fs, "0", KDAMONDS "/nr_kdamonds");
			if (r < 0)
				first = first ?: r;
		}
		d->created_kdamonds = false;
	}
	return first;
}

/* FNV-1a over "name=value\n" of the files that make the tree's shape. */
static void digest_add(uint64_t *h, const char *name, const char *value)
{
	for (const char *p = name; *p; p++)
		*h = (*h ^ (unsigned char)*p) * 1099511628211ULL;
	*h = (*h ^ '=') * 1099511628211ULL;
	for (const char *p = value; *p; p++)
		*h = (*h ^ (unsigned char)*p) * 1099511628211ULL;
	*h = (*h ^ '\n') * 1099511628211ULL;
}

/* Reads REL under the kdamond into BUF, "" if it cannot be read. */
static const char *tree_get(const Damon *d, char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static const char *tree_get(const Damon *d, char *buf, size_t size, const char *fmt, ...)
{
	char rel[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (sysfs_read_str(d->fs, buf, size, "%s/%s", d->dir, rel) < 0)
		buf[0] = '\0';
	return buf;
}

static uint64_t tree_nr(const Damon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static uint64_t tree_nr(const Damon *d, const char *fmt, ...)
{
	char rel[384];
	uint64_t v = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (sysfs_read_u64(d->fs, &v, "%s/%s", d->dir, rel) < 0)
		return 0;
	return MIN(v, (uint64_t)DAMON_MAX_SCHEMES * DAMON_MAX_FILTERS);
}

/* What dtierd's plan fixes and its ticks never change: operations, the
 * regions, every scheme's action, target node and address filters. */
int damon_digest(Damon *d, uint64_t *ret)
{
	uint64_t h = 14695981039346656037ULL;
	char v[64], name[64];

	if (tree_nr(d, "contexts/nr_contexts") != 1) {
		*ret = DAMON_DIGEST_EMPTY;
		return 0;
	}
	digest_add(&h, "operations", tree_get(d, v, sizeof(v), "contexts/0/operations"));
	uint64_t nreg = tree_nr(d, "contexts/0/targets/0/regions/nr_regions");
	snprintf(name, sizeof(name), "%" PRIu64, nreg);
	digest_add(&h, "nr_regions", name);
	for (uint64_t i = 0; i < nreg; i++) {
		digest_add(&h, "start", tree_get(d, v, sizeof(v), "contexts/0/targets/0/regions/%" PRIu64 "/start", i));
		digest_add(&h, "end", tree_get(d, v, sizeof(v), "contexts/0/targets/0/regions/%" PRIu64 "/end", i));
	}
	uint64_t ns = tree_nr(d, "contexts/0/schemes/nr_schemes");
	snprintf(name, sizeof(name), "%" PRIu64, ns);
	digest_add(&h, "nr_schemes", name);
	for (uint64_t i = 0; i < ns; i++) {
		char S[64];
		snprintf(S, sizeof(S), "contexts/0/schemes/%" PRIu64, i);
		digest_add(&h, "action", tree_get(d, v, sizeof(v), "%s/action", S));
		digest_add(&h, "target_nid", tree_get(d, v, sizeof(v), "%s/target_nid", S));
		const char *fdir = sysfs_exists(d->fs, "%s/%s/filters", d->dir, S) ? "filters" : "core_filters";
		uint64_t nf = tree_nr(d, "%s/%s/nr_filters", S, fdir);
		for (uint64_t j = 0; j < nf; j++) {
			digest_add(&h, "addr_start", tree_get(d, v, sizeof(v), "%s/%s/%" PRIu64 "/addr_start", S, fdir, j));
			digest_add(&h, "addr_end", tree_get(d, v, sizeof(v), "%s/%s/%" PRIu64 "/addr_end", S, fdir, j));
		}
	}
	/* 0 and 1 are reserved. */
	*ret = h > DAMON_DIGEST_EMPTY ? h : h + 2;
	return 0;
}

int damon_adopt(Damon *d, Sysfs *fs, unsigned kd, int64_t kdamond_pid, bool created_kdamonds, uint64_t digest)
{
	char buf[32];
	uint64_t nr, have;
	int64_t pid = -1;
	int r;

	*d = (Damon){ .fs = fs, .kd = kd, .pid = -1 };
	snprintf(d->dir, sizeof(d->dir), KDAMONDS "/%u", kd);
	r = sysfs_read_u64(fs, &nr, KDAMONDS "/nr_kdamonds");
	if (r < 0)
		return r;
	if (kd >= nr)
		return -ENOENT;
	r = sysfs_read_s64_retry(fs, &pid, "%s/pid", d->dir);
	if (r < 0)
		return r;
	/* Running as another thread than recorded: recreated by someone. */
	if (pid >= 0 && kdamond_pid >= 0 && pid != kdamond_pid)
		return -EPERM;
	r = damon_digest(d, &have);
	if (r < 0)
		return r;
	if (digest == DAMON_DIGEST_NONE) {
		/* Crashed before its plan was staged: at most an empty or
		 * half-probed paddr context, and never running. */
		if (pid >= 0)
			return -EPERM;
		if (have != DAMON_DIGEST_EMPTY &&
		    (strcmp(tree_get(d, buf, sizeof(buf), "contexts/0/operations"), "paddr") != 0 ||
		     tree_nr(d, "contexts/0/targets/0/regions/nr_regions") != 0))
			return -EPERM;
	} else if (have != digest) {
		return -EPERM;
	}
	d->staged = true;
	d->started = pid >= 0;
	d->pid = pid;
	d->created_kdamonds = created_kdamonds;
	return 0;
}
