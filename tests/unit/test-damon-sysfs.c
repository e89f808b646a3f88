/* SPDX-License-Identifier: GPL-2.0-or-later */
/* damon-sysfs.c against an emulated DAMON sysfs tree (fake-damon.c) in the
 * shapes of the kernels dtierd was run on (docs/kernel-interface.md): 6.12 and
 * 7.3, plus a 6.10-like tree without migrate_hot and a 7.x tree without the
 * legacy filters/ directory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "damon-sysfs.h"
#include "fake-damon.h"
#include "test-util.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define K0 "kdamonds/0"
#define C0 K0 "/contexts/0"
#define S(i) C0 "/schemes/" #i

typedef struct Env {
	FakeDamon f;
	Damon d;
} Env;

static int setup_shape(void **state, const FakeDamonShape *shape)
{
	Env *e = calloc(1, sizeof(*e));
	fake_damon_init(&e->f, shape);
	*state = e;
	return 0;
}

static int setup_6_12(void **state) { return setup_shape(state, &FAKE_DAMON_6_12); }
static int setup_7_3(void **state) { return setup_shape(state, &FAKE_DAMON_7_3); }
static int setup_6_10(void **state) { return setup_shape(state, &FAKE_DAMON_6_10); }
static int setup_7_x(void **state) { return setup_shape(state, &FAKE_DAMON_7_X_NO_LEGACY); }

static int teardown(void **state)
{
	Env *e = *state;
	fake_damon_free(&e->f);
	free(e);
	return 0;
}

#define expect_file(f, want, ...)                                                                  \
	do {                                                                                       \
		const char *_v = fake_damon_get((f), __VA_ARGS__);                                 \
		if (!_v || strcmp(_v, (want)) != 0) {                                              \
			char _p[512];                                                              \
			snprintf(_p, sizeof(_p), __VA_ARGS__);                                     \
			fail_msg("%s = '%s', want '%s'", _p, _v ? _v : "(missing)", (want));     \
		}                                                                                  \
	} while (0)

/* --- modules, availability, foreign kdamonds ------------------------------ */

static void test_available_and_modules(void **state)
{
	Env *e = *state;

	assert_int_equal(damon_available(&e->f.fs), 0);
	char *empty = tu_mkdtemp();
	Sysfs fs;
	tu_sysfs_open(empty, &fs);
	assert_int_equal(damon_available(&fs), -ENOENT);
	char desc[256];
	assert_int_equal(damon_check_foreign(&fs, desc, sizeof(desc)), -ENOENT);
	Damon d;
	assert_int_equal(damon_create(&d, &fs), -ENOENT);
	assert_int_equal(damon_teardown(&d), 0);
	sysfs_close(&fs);
	tu_rmtree(empty);

	assert_string_equal(damon_module_name(DAMON_MOD_STAT), "damon_stat");
	assert_string_equal(damon_module_name(DAMON_MOD_RECLAIM), "damon_reclaim");
	assert_string_equal(damon_module_name(DAMON_MOD_LRU_SORT), "damon_lru_sort");
	assert_string_equal(damon_module_name(_DAMON_MOD_MAX), "?");

	assert_int_equal(damon_module_enabled(&e->f.fs, DAMON_MOD_STAT), 0);
	assert_int_equal(damon_module_set_enabled(&e->f.fs, DAMON_MOD_STAT, true), 0);
	expect_file(&e->f, "Y", "sys/module/damon_stat/parameters/enabled");
	assert_int_equal(damon_module_enabled(&e->f.fs, DAMON_MOD_STAT), 1);
	assert_int_equal(damon_module_set_enabled(&e->f.fs, DAMON_MOD_STAT, false), 0);
	expect_file(&e->f, "N", "sys/module/damon_stat/parameters/enabled");
	assert_int_equal(damon_module_enabled(&e->f.fs, DAMON_MOD_STAT), 0);
	/* Not built: -ENOENT, and nothing gets created. */
	assert_int_equal(damon_module_enabled(&e->f.fs, DAMON_MOD_RECLAIM), -ENOENT);
	assert_int_equal(damon_module_set_enabled(&e->f.fs, DAMON_MOD_RECLAIM, false), -ENOENT);
	assert_null(fake_damon_get(&e->f, "sys/module/damon_reclaim/parameters/enabled"));
}

static void test_check_foreign(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;
	char desc[256] = "";

	/* No kdamond at all. */
	assert_int_equal(damon_check_foreign(&f->fs, desc, sizeof(desc)), 0);
	/* Empty stopped kdamonds: someone made them, not free. */
	fake_damon_set_nr(f, "kdamonds/nr_kdamonds", 2);
	assert_int_equal(damon_check_foreign(&f->fs, desc, sizeof(desc)), -EEXIST);
	assert_non_null(strstr(desc, "2 empty stopped kdamond(s)"));

	/* Someone runs kdamond 1. */
	fake_damon_set_nr(f, "kdamonds/1/contexts/nr_contexts", 1);
	fake_damon_put(f, "kdamonds/1/contexts/0/operations", "paddr");
	fake_damon_put(f, "kdamonds/1/state", "on");
	fake_damon_put(f, "kdamonds/1/pid", "777");
	assert_int_equal(damon_check_foreign(&f->fs, desc, sizeof(desc)), -EEXIST);
	assert_non_null(strstr(desc, "kdamond 1"));
	assert_non_null(strstr(desc, "running"));
	assert_non_null(strstr(desc, "777"));
	assert_non_null(strstr(desc, "paddr"));
	/* ...and creating is refused without writing anything. */
	assert_int_equal(damon_create(&e->d, &f->fs), -EEXIST);
	assert_int_equal(f->n_log, 0);
	assert_int_equal(damon_teardown(&e->d), 0);
	assert_int_equal(f->n_log, 0);

	/* Configured but off (someone's staged setup): also not ours. */
	fake_damon_put(f, "kdamonds/1/state", "off");
	fake_damon_put(f, "kdamonds/1/pid", "-1");
	fake_damon_set_nr(f, "kdamonds/1/contexts/nr_contexts", 0);
	fake_damon_set_nr(f, "kdamonds/0/contexts/nr_contexts", 1);
	desc[0] = '\0';
	assert_int_equal(damon_check_foreign(&f->fs, desc, sizeof(desc)), -EEXIST);
	assert_non_null(strstr(desc, "kdamond 0"));
	assert_non_null(strstr(desc, "configured"));
	assert_non_null(strstr(desc, "vaddr")); /* the default operations */
	assert_null(strstr(desc, "is running"));
	assert_int_equal(damon_create(&e->d, &f->fs), -EEXIST);
	assert_int_equal(f->n_log, 0);

	/* A running kdamond whose context was removed under it. */
	fake_damon_set_nr(f, "kdamonds/0/contexts/nr_contexts", 0);
	fake_damon_put(f, "kdamonds/0/state", "on");
	fake_damon_put(f, "kdamonds/0/pid", "778");
	assert_int_equal(damon_check_foreign(&f->fs, desc, sizeof(desc)), -EEXIST);
	assert_non_null(strstr(desc, "kdamond 0 is running"));

	/* A small description buffer is not overrun. */
	char small[8];
	assert_int_equal(damon_check_foreign(&f->fs, small, sizeof(small)), -EEXIST);
	assert_int_equal(strlen(small), 7);
}

/* --- create + feature probe ----------------------------------------------- */

static void create_ok(Env *e)
{
	int r = damon_create(&e->d, &e->f.fs);
	if (r < 0)
		fail_msg("damon_create on %s: %s", e->f.shape->name, strerror(-r));
}

static void check_probe_left_clean(Env *e)
{
	FakeDamon *f = &e->f;

	/* The probe ran on our own stopped kdamond and put back what it
	 * tried: one context, one target, one default stat scheme. */
	assert_string_equal(e->d.dir, "sys/kernel/mm/damon/admin/kdamonds/0");
	assert_int_equal(e->d.kd, 0);
	assert_true(e->d.staged);
	assert_false(e->d.started);
	expect_file(f, "off", K0 "/state");
	expect_file(f, "1", K0 "/contexts/nr_contexts");
	expect_file(f, "stat", S(0) "/action");
	expect_file(f, "0", S(0) "/quotas/goals/nr_goals");
	if (f->shape->goal_tuner)
		expect_file(f, "consist", S(0) "/quotas/goal_tuner");
	if (f->shape->legacy_filters)
		expect_file(f, "0", S(0) "/filters/nr_filters");
	/* nr_kdamonds went 0 -> 1 once, before anything else. */
	assert_true(e->d.created_kdamonds);
	assert_int_equal(fake_damon_log_count(f, 0, "kdamonds/nr_kdamonds"), 1);
	assert_int_equal(fake_damon_log_find(f, 0, "kdamonds/nr_kdamonds", "1"), 0);
	expect_file(f, "1", "kdamonds/nr_kdamonds");
}

static void test_create_6_12(void **state)
{
	Env *e = *state;
	char what[128] = "";

	create_ok(e);
	check_probe_left_clean(e);
	const DamonFeatures *ft = &e->d.feat;
	assert_true(ft->paddr);
	assert_true(ft->migrate);
	assert_true(ft->goals);
	assert_true(ft->goal_metric);
	assert_true(ft->tried_regions);
	assert_false(ft->temporal);
	assert_false(ft->eligible_metric);
	assert_false(ft->core_filters);
	assert_false(ft->filter_allow);
	assert_int_equal(damon_require_features(ft, what, sizeof(what)), 0);
}

static void test_create_7_3(void **state)
{
	Env *e = *state;
	char what[128] = "";

	create_ok(e);
	check_probe_left_clean(e);
	const DamonFeatures *ft = &e->d.feat;
	assert_true(ft->paddr && ft->migrate && ft->goals && ft->goal_metric && ft->tried_regions);
	assert_true(ft->temporal);
	assert_true(ft->eligible_metric);
	assert_true(ft->core_filters);
	assert_true(ft->filter_allow);
	assert_int_equal(damon_require_features(ft, what, sizeof(what)), 0);
	/* The temporal probe was a write, then restored. */
	assert_true(fake_damon_log_find(&e->f, 0, "quotas/goal_tuner", "temporal") >= 0);
	/* So was the metric's: on the staged kdamond, not by version. */
	assert_true(fake_damon_log_find(&e->f, 0, "goals/0/target_metric", "node_eligible_mem_bp") >= 0);
}

static void test_create_6_10(void **state)
{
	Env *e = *state;
	char what[128] = "";

	/* No target_nid: no migrate_hot. dtierd cannot work and says which
	 * kernel it needs. */
	create_ok(e);
	assert_false(e->d.feat.migrate);
	assert_true(e->d.feat.goals);
	assert_int_equal(damon_require_features(&e->d.feat, what, sizeof(what)), -EOPNOTSUPP);
	assert_non_null(strstr(what, "migrate_hot"));
	assert_non_null(strstr(what, "6.11"));
	/* It must not have tried to write a target_nid that is not there. */
	assert_int_equal(fake_damon_log_count(&e->f, 0, "/target_nid"), 0);
	assert_int_equal(damon_teardown(&e->d), 0);
	expect_file(&e->f, "0", "kdamonds/nr_kdamonds");
}

static void test_require_features(void **state)
{
	DamonFeatures all = { .paddr = true, .migrate = true, .goals = true, .goal_metric = true,
			      .tried_regions = true };
	DamonFeatures f;
	char what[128];

	assert_int_equal(damon_require_features(&all, what, sizeof(what)), 0);
	f = all;
	f.paddr = false;
	assert_int_equal(damon_require_features(&f, what, sizeof(what)), -EOPNOTSUPP);
	assert_non_null(strstr(what, "paddr"));
	f = all;
	f.tried_regions = false;
	assert_int_equal(damon_require_features(&f, what, sizeof(what)), -EOPNOTSUPP);
	assert_non_null(strstr(what, "6.2"));
	f = all;
	f.goals = false;
	assert_int_equal(damon_require_features(&f, what, sizeof(what)), -EOPNOTSUPP);
	assert_non_null(strstr(what, "user_input"));
	f = all;
	f.migrate = false;
	assert_int_equal(damon_require_features(&f, what, sizeof(what)), -EOPNOTSUPP);
	assert_non_null(strstr(what, "6.11"));
	/* Optional ones are not required. */
	f = all;
	f.temporal = f.core_filters = f.filter_allow = false;
	assert_int_equal(damon_require_features(&f, what, sizeof(what)), 0);
}

static void test_create_refuses_empty_kdamond(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	/* An empty stopped kdamond 0 exists: someone else's, never reused
	 * (its owner's next write would land in dtierd's kdamond). */
	fake_damon_set_nr(f, "kdamonds/nr_kdamonds", 1);
	assert_int_equal(damon_create(&e->d, &f->fs), -EEXIST);
	assert_int_equal(f->n_log, 0);
	assert_int_equal(damon_teardown(&e->d), 0);
	assert_int_equal(f->n_log, 0);
}

/* --- staging -------------------------------------------------------------- */

static DamonPlan small_plan(void)
{
	DamonPlan p = { .sample_us = 5000, .aggr_us = 100000, .min_regions = 10, .max_regions = 1000 };

	p.n_regions = 2;
	p.regions[0] = (DamonRange){ 0, GIB };
	p.regions[1] = (DamonRange){ GIB, 3 * GIB };
	p.n_schemes = 3;
	/* 0: the measurement query. */
	p.schemes[0] = (DamonScheme){ .action = "stat", .target_nid = -1, .sz_min = 4096, .nr_accesses_min = 1,
				      .armed = true };
	/* 1: node 1 -> node 0, armed, rejecting what is not on node 1. */
	p.schemes[1] = (DamonScheme){ .action = "migrate_hot", .target_nid = 0, .sz_min = 4096,
				      .nr_accesses_min = 2, .age_min = 3, .armed = true, .quota_bytes = 16 * MIB,
				      .reset_ms = 1000, .weight_sz = 7, .weight_nr_accesses = 1000, .weight_age = 500,
				      .goal = true, .goal_target = 6000, .goal_current = 12000,
				      .n_reject = 1, .reject = { { 0, GIB } } };
	/* 2: node 0 -> node 1, disarmed, two reject ranges. */
	p.schemes[2] = (DamonScheme){ .action = "migrate_hot", .target_nid = 1, .sz_min = 4096,
				      .nr_accesses_min = 2, .armed = false, .quota_bytes = 8 * MIB,
				      .reset_ms = 1000, .goal = true, .goal_target = 4000, .goal_current = 8000,
				      .n_reject = 2, .reject = { { GIB, 3 * GIB }, { 3 * GIB, 4 * GIB } } };
	return p;
}

static void check_pattern(FakeDamon *f, int i, const char *sz_min, const char *acc_min, const char *age_min)
{
	expect_file(f, sz_min, C0 "/schemes/%d/access_pattern/sz/min", i);
	expect_file(f, "18446744073709551615", C0 "/schemes/%d/access_pattern/sz/max", i);
	expect_file(f, acc_min, C0 "/schemes/%d/access_pattern/nr_accesses/min", i);
	/* The kernel keeps these as unsigned int: never more than 2^32 - 1. */
	expect_file(f, "4294967295", C0 "/schemes/%d/access_pattern/nr_accesses/max", i);
	expect_file(f, age_min, C0 "/schemes/%d/access_pattern/age/min", i);
	expect_file(f, "4294967295", C0 "/schemes/%d/access_pattern/age/max", i);
}

static void stage_and_check(Env *e)
{
	FakeDamon *f = &e->f;
	const bool v73 = f->shape->goal_tuner;
	const char *fl = f->shape->legacy_filters ? "filters" : "core_filters";
	DamonPlan plan = small_plan();
	char failed[256] = "";

	create_ok(e);
	size_t from = f->n_log;
	int r = damon_stage(&e->d, &plan, failed, sizeof(failed));
	if (r < 0)
		fail_msg("damon_stage on %s: %s at %s", f->shape->name, strerror(-r), failed);
	assert_string_equal(failed, "");

	/* Context. */
	expect_file(f, "paddr", C0 "/operations");
	expect_file(f, "5000", C0 "/monitoring_attrs/intervals/sample_us");
	expect_file(f, "100000", C0 "/monitoring_attrs/intervals/aggr_us");
	expect_file(f, "10", C0 "/monitoring_attrs/nr_regions/min");
	expect_file(f, "1000", C0 "/monitoring_attrs/nr_regions/max");
	/* Target: explicit regions (paddr has no default). */
	expect_file(f, "1", C0 "/targets/nr_targets");
	expect_file(f, "2", C0 "/targets/0/regions/nr_regions");
	expect_file(f, "0", C0 "/targets/0/regions/0/start");
	expect_file(f, "1073741824", C0 "/targets/0/regions/0/end");
	expect_file(f, "1073741824", C0 "/targets/0/regions/1/start");
	expect_file(f, "3221225472", C0 "/targets/0/regions/1/end");
	assert_false(fake_damon_has(f, C0 "/targets/0/regions/2"));

	expect_file(f, "3", C0 "/schemes/nr_schemes");
	assert_false(fake_damon_has(f, C0 "/schemes/3"));

	/* Scheme 0: stat, no target node, no quota, no goal, no filter. */
	expect_file(f, "stat", S(0) "/action");
	expect_file(f, "-1", S(0) "/target_nid");
	check_pattern(f, 0, "4096", "1", "0");
	expect_file(f, "0", S(0) "/quotas/bytes");
	expect_file(f, "0", S(0) "/quotas/reset_interval_ms");
	expect_file(f, "0", S(0) "/quotas/goals/nr_goals");
	expect_file(f, "0", C0 "/schemes/0/%s/nr_filters", fl);
	if (v73)
		expect_file(f, "consist", S(0) "/quotas/goal_tuner");

	/* Scheme 1: armed migrate_hot to node 0. */
	expect_file(f, "migrate_hot", S(1) "/action");
	expect_file(f, "0", S(1) "/target_nid");
	check_pattern(f, 1, "4096", "2", "3");
	expect_file(f, "16777216", S(1) "/quotas/bytes");
	expect_file(f, "1000", S(1) "/quotas/reset_interval_ms");
	expect_file(f, "7", S(1) "/quotas/weights/sz_permil");
	expect_file(f, "1000", S(1) "/quotas/weights/nr_accesses_permil");
	expect_file(f, "500", S(1) "/quotas/weights/age_permil");
	expect_file(f, "1", S(1) "/quotas/goals/nr_goals");
	expect_file(f, "user_input", S(1) "/quotas/goals/0/target_metric");
	expect_file(f, "6000", S(1) "/quotas/goals/0/target_value");
	expect_file(f, "12000", S(1) "/quotas/goals/0/current_value");
	if (v73)
		expect_file(f, "temporal", S(1) "/quotas/goal_tuner");
	else
		assert_false(fake_damon_has(f, S(1) "/quotas/goal_tuner"));
	expect_file(f, "1", C0 "/schemes/1/%s/nr_filters", fl);
	expect_file(f, "addr", C0 "/schemes/1/%s/0/type", fl);
	expect_file(f, "Y", C0 "/schemes/1/%s/0/matching", fl);
	expect_file(f, "0", C0 "/schemes/1/%s/0/addr_start", fl);
	expect_file(f, "1073741824", C0 "/schemes/1/%s/0/addr_end", fl);
	if (f->shape->filter_allow) {
		expect_file(f, "N", C0 "/schemes/1/%s/0/allow", fl);
		assert_true(fake_damon_log_find(f, from, "/allow", "N") >= 0);
	} else {
		/* 6.12: no allow file; matching=Y alone rejects. */
		assert_false(fake_damon_has(f, C0 "/schemes/1/%s/0/allow", fl));
		assert_int_equal(fake_damon_log_count(f, from, "/allow"), 0);
	}

	/* Scheme 2: disarmed — a pattern no region matches (nr_accesses
	 * never exceeds aggr/sample), the quota still written. */
	expect_file(f, "migrate_hot", S(2) "/action");
	expect_file(f, "1", S(2) "/target_nid");
	check_pattern(f, 2, "4096", "4294967295", "0");
	expect_file(f, "8388608", S(2) "/quotas/bytes");
	expect_file(f, "4000", S(2) "/quotas/goals/0/target_value");
	expect_file(f, "8000", S(2) "/quotas/goals/0/current_value");
	expect_file(f, "2", C0 "/schemes/2/%s/nr_filters", fl);
	expect_file(f, "1073741824", C0 "/schemes/2/%s/0/addr_start", fl);
	expect_file(f, "3221225472", C0 "/schemes/2/%s/0/addr_end", fl);
	expect_file(f, "addr", C0 "/schemes/2/%s/1/type", fl);
	expect_file(f, "Y", C0 "/schemes/2/%s/1/matching", fl);
	expect_file(f, "3221225472", C0 "/schemes/2/%s/1/addr_start", fl);
	expect_file(f, "4294967296", C0 "/schemes/2/%s/1/addr_end", fl);

	/* Order: no nr_* write after a write below a child it recreates. */
	fake_damon_assert_no_wipe(f, from);
	/* nr_kdamonds is never written by staging; the kdamond stays off. */
	assert_int_equal(fake_damon_log_count(f, from, "nr_kdamonds"), 0);
	assert_int_equal(fake_damon_log_count(f, from, "/state"), 0);
	assert_int_equal(fake_damon_log_count(f, from, "nr_contexts"), 0);
	/* Each nr_* file comes before the children it sizes. */
	assert_true(fake_damon_log_find(f, from, "/schemes/nr_schemes", "3") <
		    fake_damon_log_find(f, from, "/schemes/2/action", NULL));
	assert_true(fake_damon_log_find(f, from, "/regions/nr_regions", "2") <
		    fake_damon_log_find(f, from, "/regions/1/end", NULL));
	assert_true(fake_damon_log_find(f, from, "/schemes/1/quotas/goals/nr_goals", "1") <
		    fake_damon_log_find(f, from, "/schemes/1/quotas/goals/0/target_value", NULL));
	char nrf[64], last[64];
	snprintf(nrf, sizeof(nrf), "/schemes/2/%s/nr_filters", fl);
	snprintf(last, sizeof(last), "/schemes/2/%s/1/addr_end", fl);
	assert_true(fake_damon_log_find(f, from, nrf, "2") >= 0);
	assert_true(fake_damon_log_find(f, from, nrf, "2") < fake_damon_log_find(f, from, last, NULL));

	/* Staging twice (a reload) gives the same tree. */
	plan.schemes[2].armed = true;
	assert_int_equal(damon_stage(&e->d, &plan, NULL, 0), 0);
	check_pattern(f, 2, "4096", "2", "0");
	expect_file(f, "2", C0 "/schemes/2/%s/nr_filters", fl);
}

static void test_stage(void **state)
{
	stage_and_check(*state);
}

/* measure.metric = "kernel": a pair's goal is the kernel's
 * node_eligible_mem_bp of its destination, and dtierd never writes its
 * current_value, neither at staging nor when the target changes. */
static void test_stage_eligible_goal(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;
	DamonPlan plan = small_plan();

	plan.schemes[1].goal_eligible = true;
	plan.schemes[1].goal_nid = 0;
	create_ok(e);
	assert_int_equal(damon_stage(&e->d, &plan, NULL, 0), 0);
	expect_file(f, "node_eligible_mem_bp", S(1) "/quotas/goals/0/target_metric");
	expect_file(f, "0", S(1) "/quotas/goals/0/nid");
	expect_file(f, "6000", S(1) "/quotas/goals/0/target_value");
	expect_file(f, "0", S(1) "/quotas/goals/0/current_value");
	expect_file(f, "user_input", S(2) "/quotas/goals/0/target_metric");
	assert_int_equal(damon_start(&e->d), 0);
	size_t from = f->n_log;
	assert_int_equal(damon_set_goal(&e->d, 1, 5000, NULL), 0);
	expect_file(f, "5000", S(1) "/quotas/goals/0/target_value");
	assert_true(fake_damon_log_find(f, from, "goals/0/current_value", NULL) < 0);
}

static void test_stage_errors(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;
	DamonPlan plan = small_plan();
	char failed[256] = "";

	create_ok(e);
	/* EBUSY on an nr_* file (the trylock) is retried. */
	snprintf(f->busy_suffix, sizeof(f->busy_suffix), "/schemes/nr_schemes");
	f->busy_left = 2;
	assert_int_equal(damon_stage(&e->d, &plan, failed, sizeof(failed)), 0);
	assert_int_equal(f->busy_hits, 2);
	expect_file(f, "3", C0 "/schemes/nr_schemes");

	/* A value file does not take the lock: EBUSY there is an error,
	 * not retried, and named. */
	snprintf(f->busy_suffix, sizeof(f->busy_suffix), "/schemes/1/action");
	f->busy_left = 5;
	f->busy_hits = 0;
	assert_int_equal(damon_stage(&e->d, &plan, failed, sizeof(failed)), -EBUSY);
	assert_int_equal(f->busy_hits, 1);
	assert_string_equal(failed, "/sys/kernel/mm/damon/admin/" S(1) "/action");
	f->busy_suffix[0] = '\0';

	/* The first failure stops staging: nothing is written after it. */
	snprintf(f->fail_suffix, sizeof(f->fail_suffix), "/schemes/2/target_nid");
	f->fail_errno = EINVAL;
	fake_damon_log_clear(f);
	failed[0] = '\0';
	assert_int_equal(damon_stage(&e->d, &plan, failed, sizeof(failed)), -EINVAL);
	assert_string_equal(failed, "/sys/kernel/mm/damon/admin/" S(2) "/target_nid");
	assert_true(f->n_log > 0);
	assert_non_null(strstr(f->log[f->n_log - 1].path, "schemes/2/action"));
	f->fail_suffix[0] = '\0';

	/* Keywords the kernel rejects come back as its error. */
	plan.schemes[1].action = "migrate_lukewarm";
	assert_int_equal(damon_stage(&e->d, &plan, failed, sizeof(failed)), -EINVAL);
	assert_string_equal(failed, "/sys/kernel/mm/damon/admin/" S(1) "/action");
	/* A NULL path buffer is fine. */
	assert_int_equal(damon_stage(&e->d, &plan, NULL, 0), -EINVAL);
}

/* --- start, state EBUSY, commands on a running kdamond -------------------- */

static void test_start_state_ebusy(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;
	DamonPlan plan = small_plan();

	create_ok(e);
	assert_int_equal(damon_stage(&e->d, &plan, NULL, 0), 0);
	assert_int_equal(damon_check_owned(&e->d), -ESRCH);

	/* DAMON_STAT running: `on` is EBUSY (exclusive context) until the
	 * retries run out. */
	fake_damon_put(f, "sys/module/damon_stat/parameters/enabled", "Y");
	assert_int_equal(damon_start(&e->d), -EBUSY);
	assert_false(e->d.started);
	fake_damon_put(f, "sys/module/damon_stat/parameters/enabled", "N");

	/* The sysfs lock busy twice: retried, then on. */
	snprintf(f->busy_suffix, sizeof(f->busy_suffix), K0 "/state");
	f->busy_left = 2;
	assert_int_equal(damon_start(&e->d), 0);
	assert_int_equal(f->busy_hits, 2);
	assert_true(e->d.started);
	expect_file(f, "on", K0 "/state");
	assert_int_equal(damon_check_owned(&e->d), 0);
	assert_true(e->d.pid == 4242);
	/* nr_kdamonds is EBUSY now (a kdamond runs). */
	assert_int_equal(sysfs_write_str(&f->fs, "2", "sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds"), -EBUSY);

	/* Busy longer than the retries: -EBUSY. */
	assert_int_equal(damon_teardown(&e->d), 0);
	create_ok(e);
	assert_int_equal(damon_stage(&e->d, &plan, NULL, 0), 0);
	f->busy_left = f->fs.busy_retries + 1;
	f->busy_hits = 0;
	assert_int_equal(damon_start(&e->d), -EBUSY);
	assert_int_equal(f->busy_hits, f->fs.busy_retries + 1);
	assert_false(e->d.started);
	expect_file(f, "off", K0 "/state");
}

static void test_running_commands(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;
	DamonPlan plan = small_plan();
	uint64_t v;

	create_ok(e);
	assert_int_equal(damon_stage(&e->d, &plan, NULL, 0), 0);
	/* Commands on a stopped kdamond: the kernel's EINVAL. */
	assert_int_equal(damon_commit_goals(&e->d), -EINVAL);
	assert_int_equal(damon_update_stats(&e->d), -EINVAL);
	assert_int_equal(damon_commit(&e->d), -EINVAL);
	assert_int_equal(damon_start(&e->d), 0);

	/* Goal values: written, then one goal commit. */
	assert_int_equal(damon_set_goal(&e->d, 2, 4000, &(uint64_t){ 3999 }), 0);
	expect_file(f, "4000", S(2) "/quotas/goals/0/target_value");
	expect_file(f, "3999", S(2) "/quotas/goals/0/current_value");
	assert_int_equal(damon_commit_goals(&e->d), 0);
	assert_int_equal(f->n_goal_commits, 1);
	assert_int_equal(f->n_commits, 0);
	fake_damon_settle(f);
	/* A scheme without a goal has nothing to set. */
	assert_int_equal(damon_set_goal(&e->d, 0, 1, &(uint64_t){ 1 }), -ENOENT);

	/* Stats. */
	f->sz_applied[1] = 12345;
	f->sz_applied[2] = 77;
	assert_int_equal(damon_update_stats(&e->d), 0);
	fake_damon_settle(f);
	assert_int_equal(damon_read_sz_applied(&e->d, 1, &v), 0);
	assert_true(v == 12345);
	assert_int_equal(damon_read_sz_applied(&e->d, 2, &v), 0);
	assert_true(v == 77);
	assert_int_equal(damon_read_sz_applied(&e->d, 9, &v), -ENOENT);

	/* Tried regions, named 1, 3, 5 by the kernel, read in order. */
	f->n_tried = 3;
	f->tried[0].start = 0;
	f->tried[0].end = 4096;
	f->tried[0].nr_accesses = 20;
	f->tried[1].start = 8192;
	f->tried[1].end = 65536;
	f->tried[1].nr_accesses = 3;
	f->tried[1].age = 7;
	f->tried[2].start = GIB;
	f->tried[2].end = 2 * GIB;
	assert_int_equal(damon_update_tried_regions(&e->d), 0);
	fake_damon_settle(f);
	RegionList l = { 0 };
	assert_int_equal(damon_read_tried_regions(&e->d, 0, TRIED_ALL, &l), 0);
	assert_int_equal(l.n, 3);
	assert_true(l.v[1].start == 8192 && l.v[1].end == 65536);
	assert_int_equal(l.v[1].age, 7);
	assert_true(l.v[2].start == GIB);
	assert_true(l.total_bytes == 4096 + 57344 + GIB);
	region_list_free(&l);

	/* Re-arming values for a commit: pattern and quota only. */
	DamonScheme s = plan.schemes[2];
	s.armed = true;
	s.quota_bytes = 32 * MIB;
	size_t from = f->n_log;
	assert_int_equal(damon_stage_scheme_values(&e->d, 2, &s), 0);
	check_pattern(f, 2, "4096", "2", "0");
	expect_file(f, "33554432", S(2) "/quotas/bytes");
	assert_int_equal(fake_damon_log_count(f, from, "nr_"), 0);
	assert_int_equal(fake_damon_log_count(f, from, "/action"), 0);
	s.armed = false;
	assert_int_equal(damon_stage_scheme_values(&e->d, 2, &s), 0);
	check_pattern(f, 2, "4096", "4294967295", "0");

	/* commit goes to the kernel. (Its read-back of `state` cannot be
	 * emulated: see fake-damon.h.) */
	(void)damon_commit(&e->d);
	assert_int_equal(f->n_commits, 1);
	fake_damon_settle(f);
	assert_int_equal(damon_check_owned(&e->d), 0);
}

/* --- teardown and adopt --------------------------------------------------- */

static void test_teardown_running(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;
	DamonPlan plan = small_plan();

	create_ok(e);
	assert_int_equal(damon_stage(&e->d, &plan, NULL, 0), 0);
	assert_int_equal(damon_start(&e->d), 0);
	size_t from = f->n_log;
	assert_int_equal(damon_teardown(&e->d), 0);
	/* off, then remove the context, then the kdamond we created (in
	 * that order: nr_kdamonds is EBUSY while anything runs). */
	int off = fake_damon_log_find(f, from, K0 "/state", "off");
	int ctx = fake_damon_log_find(f, from, "contexts/nr_contexts", "0");
	int kd = fake_damon_log_find(f, from, "kdamonds/nr_kdamonds", "0");
	assert_true(off >= 0 && ctx > off && kd > ctx);
	expect_file(f, "0", "kdamonds/nr_kdamonds");
	assert_false(fake_damon_has(f, K0));
	assert_false(e->d.started || e->d.staged || e->d.created_kdamonds);

	/* Twice: nothing more to do. */
	from = f->n_log;
	assert_int_equal(damon_teardown(&e->d), 0);
	assert_int_equal(f->n_log, from);

	/* A zeroed Damon. */
	Damon z = { 0 };
	assert_int_equal(damon_teardown(&z), 0);
	assert_int_equal(f->n_log, from);
}

static void test_teardown_half_built(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;

	/* The probe fails after the kdamond and context were created. */
	snprintf(f->fail_suffix, sizeof(f->fail_suffix), "schemes/nr_schemes");
	f->fail_errno = ENOMEM;
	assert_int_equal(damon_create(&e->d, &f->fs), -ENOMEM);
	assert_true(e->d.created_kdamonds);
	f->fail_suffix[0] = '\0';
	assert_int_equal(damon_teardown(&e->d), 0);
	expect_file(f, "0", "kdamonds/nr_kdamonds");
	assert_false(fake_damon_has(f, K0));

	/* Failing at nr_kdamonds itself: nothing to undo. */
	snprintf(f->fail_suffix, sizeof(f->fail_suffix), "nr_kdamonds");
	f->fail_errno = ENOMEM;
	fake_damon_log_clear(f);
	assert_int_equal(damon_create(&e->d, &f->fs), -ENOMEM);
	assert_false(e->d.created_kdamonds);
	assert_int_equal(damon_teardown(&e->d), 0);
	assert_int_equal(f->n_log, 0);
	f->fail_suffix[0] = '\0';

	/* Staged but never started: no `off` (EINVAL on a never-started
	 * kdamond). */
	create_ok(e);
	DamonPlan plan = small_plan();
	assert_int_equal(damon_stage(&e->d, &plan, NULL, 0), 0);
	size_t from = f->n_log;
	assert_int_equal(damon_teardown(&e->d), 0);
	assert_int_equal(fake_damon_log_count(f, from, "/state"), 0);
	expect_file(f, "0", "kdamonds/nr_kdamonds");
}

static void test_teardown_others(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;
	DamonPlan plan = small_plan();

	/* Our kdamond stopped by itself (pid reads -1): no `off`. */
	create_ok(e);
	assert_int_equal(damon_stage(&e->d, &plan, NULL, 0), 0);
	assert_int_equal(damon_start(&e->d), 0);
	fake_damon_put(f, K0 "/state", "off");
	fake_damon_put(f, K0 "/pid", "-1");
	size_t from = f->n_log;
	assert_int_equal(damon_teardown(&e->d), 0);
	assert_int_equal(fake_damon_log_count(f, from, "/state"), 0);
	expect_file(f, "0", "kdamonds/nr_kdamonds");

	/* `off` racing with the kdamond's own exit: EPERM is fine. */
	create_ok(e);
	assert_int_equal(damon_stage(&e->d, &plan, NULL, 0), 0);
	assert_int_equal(damon_start(&e->d), 0);
	snprintf(f->fail_suffix, sizeof(f->fail_suffix), K0 "/state");
	f->fail_errno = EPERM;
	f->fail_stops_kdamond = true;
	assert_int_equal(damon_teardown(&e->d), 0);
	f->fail_suffix[0] = '\0';
	f->fail_stops_kdamond = false;
	expect_file(f, "0", "kdamonds/nr_kdamonds");

	/* Someone added kdamonds after ours (nr_kdamonds = 2): writing 0
	 * would destroy theirs, so ours stays, emptied. */
	create_ok(e);
	fake_damon_set_nr(f, "kdamonds/nr_kdamonds", 2);
	from = f->n_log;
	assert_int_equal(damon_teardown(&e->d), 0);
	assert_int_equal(fake_damon_log_count(f, from, "nr_kdamonds"), 0);
	expect_file(f, "2", "kdamonds/nr_kdamonds");
	fake_damon_set_nr(f, "kdamonds/nr_kdamonds", 0);

	/* An error on the way is returned, and the rest still done. */
	create_ok(e);
	snprintf(f->fail_suffix, sizeof(f->fail_suffix), "contexts/nr_contexts");
	f->fail_errno = EIO;
	assert_int_equal(damon_teardown(&e->d), -EIO);
	f->fail_suffix[0] = '\0';
	expect_file(f, "0", "kdamonds/nr_kdamonds");
}

static void test_adopt(void **state)
{
	Env *e = *state;
	FakeDamon *f = &e->f;
	DamonPlan plan = small_plan();
	uint64_t digest;
	Damon b;

	/* A previous instance created kdamond 0, staged PLAN, runs it as
	 * pid 4242 and recorded the tree's digest. */
	create_ok(e);
	assert_int_equal(damon_stage(&e->d, &plan, NULL, 0), 0);
	assert_int_equal(damon_digest(&e->d, &digest), 0);
	assert_true(digest > DAMON_DIGEST_EMPTY);
	assert_int_equal(damon_start(&e->d), 0);

	assert_int_equal(damon_adopt(&b, &f->fs, 0, 4241, true, digest), -EPERM);
	assert_int_equal(damon_adopt(&b, &f->fs, 1, 4242, true, digest), -ENOENT);
	/* Another tree at the same index: not ours. */
	assert_int_equal(damon_adopt(&b, &f->fs, 0, 4242, true, digest + 1), -EPERM);
	assert_int_equal(damon_adopt(&b, &f->fs, 0, 4242, true, DAMON_DIGEST_NONE), -EPERM);
	size_t from = f->n_log;
	assert_int_equal(damon_adopt(&b, &f->fs, 0, 4242, true, digest), 0);
	/* Not recorded yet (crash between on and the record): any pid. */
	assert_int_equal(damon_adopt(&b, &f->fs, 0, -1, true, digest), 0);
	assert_int_equal(f->n_log, from); /* adopting writes nothing */
	assert_true(b.started && b.staged && b.created_kdamonds && b.pid == 4242);
	assert_int_equal(damon_teardown(&b), 0);
	expect_file(f, "0", "kdamonds/nr_kdamonds");

	/* Crashed before its plan was staged: a half-probed paddr context,
	 * stopped. Adopted and removed. */
	create_ok(e);
	assert_int_equal(damon_adopt(&b, &f->fs, 0, -1, true, DAMON_DIGEST_NONE), 0);
	assert_false(b.started);
	assert_int_equal(damon_teardown(&b), 0);
	expect_file(f, "0", "kdamonds/nr_kdamonds");

	/* Someone's staged vaddr context where the record points: left alone. */
	fake_damon_set_nr(f, "kdamonds/nr_kdamonds", 1);
	fake_damon_set_nr(f, K0 "/contexts/nr_contexts", 1);
	from = f->n_log;
	assert_int_equal(damon_adopt(&b, &f->fs, 0, -1, true, DAMON_DIGEST_NONE), -EPERM);
	assert_int_equal(damon_adopt(&b, &f->fs, 0, -1, true, digest), -EPERM);
	assert_int_equal(f->n_log, from);
}

int main(void)
{
#define T(fn, shape) cmocka_unit_test_prestate_setup_teardown(fn, setup_##shape, teardown, NULL)
	const struct CMUnitTest tests[] = {
		T(test_available_and_modules, 6_12),
		T(test_check_foreign, 6_12),
		T(test_check_foreign, 7_3),
		T(test_create_6_12, 6_12),
		T(test_create_7_3, 7_3),
		T(test_create_6_10, 6_10),
		cmocka_unit_test(test_require_features),
		T(test_create_refuses_empty_kdamond, 6_12),
		T(test_stage, 6_12),
		T(test_stage, 7_3),
		T(test_stage, 7_x),
		T(test_stage_eligible_goal, 7_3),
		T(test_stage_errors, 6_12),
		T(test_start_state_ebusy, 6_12),
		T(test_start_state_ebusy, 7_3),
		T(test_running_commands, 6_12),
		T(test_running_commands, 7_3),
		T(test_teardown_running, 6_12),
		T(test_teardown_running, 7_3),
		T(test_teardown_half_built, 6_12),
		T(test_teardown_others, 7_3),
		T(test_adopt, 6_12),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
