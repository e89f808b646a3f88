/* SPDX-License-Identifier: GPL-2.0-or-later */
/* damon-plan.c: the plan, pair map and parameters built from a config and
 * the node map of the two-node fixture tree. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "damon-plan.h"
#include "test-util.h"

#define MIB (1ULL << 20)
#define BLK (128 * MIB) /* the fixture's block size */

static Config *conf(const char *text)
{
	ConfigErrors errs = { 0 };
	Config *c = NULL;
	int r = config_load_string("t.conf", text, &c, &errs);
	for (size_t i = 0; i < errs.n; i++)
		print_error("%s\n", errs.msg[i]);
	config_errors_clear(&errs);
	assert_int_equal(r, 0);
	return c;
}

#define BASE                                                                               \
	"monitor = { sample_us = 5000; aggr_us = 100000; min_regions = 10; max_regions = 1000; };\n" \
	"hot = { min_access_percent = 25; min_age_ms = 1000; };\n"

static const char *const TWO =
	"interval_ms = 1000;\n" BASE
	"migration = { max_mib_per_s = 256; deadband_bp = 150; hold_s = 10; };\n"
	"tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n";

static void load_map(NodeMap *map)
{
	Sysfs fs;
	tu_sysfs_open(tu_fixture("node-map-two-nodes"), &fs);
	assert_int_equal(node_map_load(&fs, map), 0);
	sysfs_close(&fs);
}

static void test_plan_two_nodes(void **state)
{
	Config *c = conf(TWO);
	NodeMap map;
	DamonSetup x;
	size_t bad = 99;

	load_map(&map);
	assert_int_equal(damon_plan_build(c, &map, &x, &bad), 0);

	/* Blocks [0,10) and [11,16) merge where adjacent; [20,21) apart. */
	const DamonPlan *p = &x.plan;
	assert_int_equal(p->n_regions, 3);
	assert_true(p->regions[0].start == 0 && p->regions[0].end == 10 * BLK);
	assert_true(p->regions[1].start == 11 * BLK && p->regions[1].end == 16 * BLK);
	assert_true(p->regions[2].start == 20 * BLK && p->regions[2].end == 21 * BLK);
	assert_true(p->sample_us == 5000 && p->aggr_us == 100000);

	/* Scheme 0 measures: stat, no quota, no filters, armed. Then the
	 * level schemes of measure.source = "auto" (test_plan_levels), the
	 * pairs and the pulse: a scheme that splits a region hides its tail
	 * from every later one in that pass, so the measurement comes before
	 * the pairs' quotas cut the regions they migrate. */
	assert_int_equal(p->levels_first, 1);
	assert_int_equal(x.act.pairs_first, 1 + 2 * 16);
	assert_int_equal(x.act.pairs_end, 3 + 2 * 16);
	assert_int_equal(p->pulse, 3 + 2 * 16);
	assert_int_equal(p->n_schemes, 4 + 2 * 16);
	assert_string_equal(p->schemes[0].action, "stat");
	assert_true(p->schemes[0].armed && p->schemes[0].quota_bytes == 0 && p->schemes[0].n_reject == 0);
	assert_int_equal(p->schemes[0].nr_accesses_min, 5); /* 25 % of 20 samples */
	assert_int_equal(p->schemes[0].age_min, 10);        /* 1000 ms / 100 ms */

	/* 0 -> 1 is the first pair, 1 -> 0 the second; disarmed, one page,
	 * goal met. */
	assert_int_equal(x.act.pair_scheme[0][1], x.act.pairs_first);
	assert_int_equal(x.act.pair_scheme[1][0], x.act.pairs_first + 1);
	assert_int_equal(x.act.pair_scheme[0][0], -1);
	const DamonScheme *s01 = &p->schemes[x.act.pairs_first], *s10 = &p->schemes[x.act.pairs_first + 1];
	assert_string_equal(s01->action, "migrate_hot");
	assert_int_equal(s01->target_nid, 1);
	assert_false(s01->armed);
	assert_true(s01->quota_bytes == 4096 && s01->reset_ms == 100);
	assert_true(s01->goal && s01->goal_target == 4000 && s01->goal_current == 8000);
	/* No priority under a quota: the destination's own hot regions would
	 * set the score threshold above the source's lukewarm ones. */
	for (size_t i = 1; i < p->n_schemes; i++)
		assert_true(p->schemes[i].weight_sz == 0 && p->schemes[i].weight_nr_accesses == 0 &&
			    p->schemes[i].weight_age == 0);

	/* 0 -> 1 rejects everything not on node 0: [8,20) blocks. */
	assert_int_equal(s01->n_reject, 1);
	assert_true(s01->reject[0].start == 8 * BLK && s01->reject[0].end == 20 * BLK);
	/* 1 -> 0 rejects [0,8), the offline block 10 and [16,21). */
	assert_int_equal(s10->n_reject, 3);
	assert_true(s10->reject[0].start == 0 && s10->reject[0].end == 8 * BLK);
	assert_true(s10->reject[1].start == 10 * BLK && s10->reject[1].end == 11 * BLK);
	assert_true(s10->reject[2].start == 16 * BLK && s10->reject[2].end == 21 * BLK);

	/* Parameters: the controller's and the actuation's. */
	assert_int_equal(x.ctl.n, 2);
	assert_int_equal(x.ctl.target_bp[0], 6000);
	assert_int_equal(x.ctl.deadband_bp, 150);
	assert_int_equal(x.ctl.hold_ms, 10000);
	assert_true(x.ctl.max_bytes_per_tick == 256 * MIB);
	/* Disarmed: one aggregation per charge window; armed: half an
	 * interval, and the speed cap over it. */
	assert_true(x.act.window_ms == 100 && x.act.interval_ms == 1000);
	assert_true(x.act.armed_window_ms == 500);
	assert_true(x.act.window_cap_bytes == 256 * MIB / 2);
	/* Goals only with the temporal tuner. */
	damon_plan_fit_kernel(&x.plan, &(DamonFeatures){ .temporal = false });
	for (size_t i = 1; i < x.plan.n_schemes; i++)
		assert_false(x.plan.schemes[i].goal);
	damon_plan_fit_kernel(&x.plan, &(DamonFeatures){ .temporal = true });
	for (size_t i = 0; i < x.plan.n_schemes; i++)
		assert_int_equal(x.plan.schemes[i].goal, i >= x.act.pairs_first && i < x.act.pairs_end);
	/* Last, the pulse: stat, every region (nr_accesses and age from 0),
	 * armed, no goal, no filters; with the levels ("auto"), no quota, so
	 * that it tries every byte in every pass. */
	const DamonScheme *pu = &p->schemes[p->pulse];
	assert_string_equal(pu->action, "stat");
	assert_true(pu->armed && pu->nr_accesses_min == 0 && pu->age_min == 0 && pu->sz_min == 4096);
	assert_true(pu->quota_bytes == 0);
	assert_false(pu->goal);
	assert_int_equal(pu->n_reject, 0);

	node_map_free(&map);
	config_free(c);
}

/* measure.source = "levels": after scheme 0, one stat scheme per node and
 * nr_accesses level, restricted to the node like the pair from it. */
static void test_plan_levels(void **state)
{
	NodeMap map;
	DamonSetup x, plain;
	size_t bad = 99;
	char text[1024];

	load_map(&map);
	snprintf(text, sizeof(text), "%smeasure = { source = \"regions\"; };\n", TWO);
	Config *c = conf(text);
	assert_int_equal(damon_plan_build(c, &map, &plain, &bad), 0);
	assert_int_equal(plain.plan.n_levels, 0);
	assert_int_equal(plain.plan.n_schemes, 4);
	/* Without levels: scheme 0, the pairs, the pulse. */
	assert_int_equal(plain.act.pairs_first, 1);
	assert_int_equal(plain.plan.pulse, 3);
	config_free(c);

	snprintf(text, sizeof(text), "%smeasure = { source = \"levels\"; };\n", TWO);
	c = conf(text);
	assert_int_equal(damon_plan_build(c, &map, &x, &bad), 0);
	const DamonPlan *p = &x.plan;
	/* Hot from 5 of 20 samples: levels 5, 6, ..., 20, one per value. */
	assert_int_equal(p->n_levels, 16);
	assert_int_equal(p->levels_first, 1);
	assert_int_equal(p->n_schemes, 4 + 2 * 16);
	for (size_t j = 0; j < p->n_levels; j++)
		assert_int_equal(p->level_nr[j], 5 + j);
	for (size_t t = 0; t < 2; t++)
		for (size_t j = 0; j < p->n_levels; j++) {
			const DamonScheme *sc = &p->schemes[p->levels_first + t * p->n_levels + j];
			/* Node t's filters are those of the pair out of it. */
			const DamonScheme *pair = &p->schemes[x.act.pair_scheme[t][1 - t]];
			assert_string_equal(sc->action, "stat");
			assert_true(sc->armed && sc->quota_bytes == 0 && !sc->goal);
			assert_int_equal(sc->nr_accesses_min, p->level_nr[j]);
			assert_int_equal(sc->age_min, 10);
			assert_int_equal(sc->n_reject, pair->n_reject);
			assert_memory_equal(sc->reject, pair->reject, pair->n_reject * sizeof(pair->reject[0]));
		}
	/* Goals go to the pairs only; the pairs follow the levels, the pulse
	 * the pairs. */
	damon_plan_fit_kernel(&x.plan, &(DamonFeatures){ .temporal = true });
	for (size_t i = 0; i < x.plan.n_schemes; i++)
		assert_int_equal(x.plan.schemes[i].goal, i >= x.act.pairs_first && i < x.act.pairs_end);
	assert_int_equal(x.act.pairs_first, p->levels_first + 2 * p->n_levels);
	assert_int_equal(x.act.pairs_end - x.act.pairs_first, plain.act.pairs_end - plain.act.pairs_first);
	assert_int_equal(x.plan.pulse, x.act.pairs_end);
	/* The pulse counts the passes: with levels it has no quota. */
	assert_int_equal(x.plan.schemes[x.plan.pulse].quota_bytes, 0);
	assert_int_not_equal(plain.plan.schemes[plain.plan.pulse].quota_bytes, 0);
	config_free(c);

	/* "auto" (the default) is the levels, on every kernel. */
	c = conf(TWO);
	assert_int_equal(c->measure.source, CONFIG_SOURCE_AUTO);
	assert_int_equal(damon_plan_build(c, &map, &x, &bad), 0);
	damon_plan_fit_kernel(&x.plan, &(DamonFeatures){ .temporal = false });
	assert_int_equal(x.plan.n_levels, 16);
	assert_int_equal(x.plan.n_schemes, 4 + 2 * 16);
	assert_int_equal(x.plan.pulse, x.plan.n_schemes - 1);
	config_free(c);

	/* A finer sampling than levels: 20 spread from the threshold. */
	snprintf(text, sizeof(text),
		 "monitor = { sample_us = 1000; aggr_us = 100000; };\nhot = { min_access_percent = 5; };\n"
		 "migration = { max_mib_per_s = 256; };\nmeasure = { source = \"levels\"; };\n"
		 "tiers = ( { node = 0; hot_share_bp = 6000; }, { node = 1; hot_share_bp = 4000; } );\n");
	c = conf(text);
	assert_int_equal(damon_plan_build(c, &map, &x, &bad), 0);
	assert_int_equal(x.plan.n_levels, DAMON_MAX_LEVELS);
	assert_int_equal(x.plan.level_nr[0], 5); /* 5 % of 100 */
	for (size_t j = 1; j < x.plan.n_levels; j++)
		assert_true(x.plan.level_nr[j] > x.plan.level_nr[j - 1] && x.plan.level_nr[j] <= 100);
	config_free(c);
	node_map_free(&map);
}

static void test_plan_errors(void **state)
{
	NodeMap map;
	DamonSetup x;
	size_t bad = 99;

	load_map(&map);
	/* A tier node without memory: named by its index. */
	Config *c = conf("interval_ms = 1000;\n" BASE "migration = { max_mib_per_s = 256; };\n"
			 "tiers = ( { node = 0; hot_share_bp = 5000; }, { node = 3; hot_share_bp = 5000; } );\n");
	assert_int_equal(damon_plan_build(c, &map, &x, &bad), -ENOENT);
	assert_int_equal(bad, 1);
	config_free(c);

	/* More separate ranges than DAMON_MAX_REGIONS. */
	NodeMap frag = { .block_size = BLK, .n = 2 * DAMON_MAX_REGIONS + 2 };
	frag.ranges = calloc(frag.n, sizeof(*frag.ranges));
	for (size_t i = 0; i < frag.n; i++)
		frag.ranges[i] = (NodeRange){ 2 * i * BLK, (2 * i + 1) * BLK, (int)(i % 2) };
	c = conf(TWO);
	assert_int_equal(damon_plan_build(c, &frag, &x, &bad), -E2BIG);

	/* Interleaved nodes in few regions: too many filters. */
	frag.n = 2 * DAMON_MAX_FILTERS + 4;
	for (size_t i = 0; i < frag.n; i++)
		frag.ranges[i] = (NodeRange){ i * BLK, (i + 1) * BLK, (int)(i % 2) };
	assert_int_equal(damon_plan_build(c, &frag, &x, &bad), -EMLINK);
	free(frag.ranges);
	config_free(c);
	node_map_free(&map);
}

static void test_ctl_params(void **state)
{
	Config *c = conf("interval_ms = 500;\n" BASE "migration = { max_mib_per_s = 100; hold_s = 3; };\n"
			 "tiers = ( { node = 1; hot_share_bp = 7000; }, { node = 0; hot_share_bp = 3000; } );\n");
	CtlParams p;

	damon_plan_ctl_params(c, &p);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.node[0], 1);
	assert_int_equal(p.target_bp[0], 7000);
	assert_true(p.max_bytes_per_tick == 50 * MIB);
	assert_int_equal(p.hold_ms, 3000);
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_two_nodes),
		cmocka_unit_test(test_plan_levels),
		cmocka_unit_test(test_plan_errors),
		cmocka_unit_test(test_ctl_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
