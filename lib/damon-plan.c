/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "damon-plan.h"
#include "util.h"

#define MIB ((uint64_t)1024 * 1024)

/* The tier nodes' memory ranges, sorted: DAMON regions must be sorted and
 * non-overlapping. Adjacent ranges merge. */
static int build_regions(const Config *c, const NodeMap *map, DamonPlan *p)
{
	p->n_regions = 0;
	for (size_t r = 0; r < map->n; r++) {
		const NodeRange *nr = &map->ranges[r];
		if (config_tier_index(c, nr->node) < 0)
			continue;
		if (p->n_regions && p->regions[p->n_regions - 1].end == nr->start) {
			p->regions[p->n_regions - 1].end = nr->end;
			continue;
		}
		if (p->n_regions == DAMON_MAX_REGIONS)
			return -E2BIG;
		p->regions[p->n_regions++] = (DamonRange){ nr->start, nr->end };
	}
	return p->n_regions ? 0 : -ENOENT;
}

/* Address filters restricting a scheme to SRC's memory: reject every part of
 * the monitored span that is not on SRC. On 6.12 (no `allow` file) an addr
 * filter with matching=Y rejects its range; an allowing filter over SRC's
 * own range made the scheme apply nothing (docs/kernel-interface.md). */
static int build_rejects(const NodeMap *map, const DamonPlan *p, int src, DamonScheme *s)
{
	uint64_t lo = p->regions[0].start, hi = p->regions[p->n_regions - 1].end;
	uint64_t cur = lo;

	s->n_reject = 0;
	for (size_t r = 0; r < map->n; r++) {
		const NodeRange *nr = &map->ranges[r];
		if (nr->node != src || nr->end <= lo || nr->start >= hi)
			continue;
		if (nr->start > cur) {
			if (s->n_reject == DAMON_MAX_FILTERS)
				return -EMLINK;
			s->reject[s->n_reject++] = (DamonRange){ cur, nr->start };
		}
		cur = MAX(cur, nr->end);
	}
	if (cur < hi) {
		if (s->n_reject == DAMON_MAX_FILTERS)
			return -EMLINK;
		s->reject[s->n_reject++] = (DamonRange){ cur, hi };
	}
	return 0;
}

/* An armed pair's charge window (see damon_plan_build). */
static unsigned armed_window_ms(const Config *c)
{
	return MAX(c->interval_ms / 2, MAX(c->monitor.aggr_us / 1000, 1u));
}

void damon_plan_ctl_params(const Config *c, CtlParams *ret)
{
	*ret = (CtlParams){
		.n = c->n_tiers,
		.deadband_bp = c->migration.deadband_bp,
		.max_bytes_per_tick = (uint64_t)c->migration.max_mib_per_s * MIB * c->interval_ms / 1000,
		.hold_ms = c->migration.hold_s * 1000,
		.kernel_goals = c->measure.kernel_metric,
	};
	for (size_t i = 0; i < c->n_tiers; i++) {
		ret->node[i] = c->tiers[i].node;
		ret->target_bp[i] = c->tiers[i].hot_share_bp;
	}
}

/* measure.source = "levels": per tier node, one stat scheme per nr_accesses
 * level, restricted to the node by the pairs' address filters. DAMON's
 * bytes per pass of the scheme at level k (its sz_tried's growth over the
 * pulse's passes) is B(>= k), the bytes of the node's
 * regions with nr_accesses >= k; summed over the levels, the weight of a
 * region is its nr_accesses (metric_levels_hot). With aggr/sample levels
 * or fewer, one per value (exact); above that DAMON_MAX_LEVELS spread
 * evenly from the hot threshold to the maximum; fewer with many tiers, so
 * that every scheme fits in DAMON_MAX_SCHEMES. "auto" is the levels:
 * their counters answer on every kernel (manager.c). */
static int build_levels(const Config *c, const NodeMap *map, DamonPlan *p, uint32_t nr_min, uint32_t age_min,
			size_t *ret_bad_tier)
{
	const uint32_t nr_max = (uint32_t)(c->monitor.aggr_us / c->monitor.sample_us);
	const uint32_t span = nr_max >= nr_min ? nr_max - nr_min + 1 : 1;

	if (c->measure.source == CONFIG_SOURCE_REGIONS)
		return 0;
	/* Room for the pairs and the pulse that follow. */
	const size_t after = c->n_tiers * (c->n_tiers - 1) + 1;
	p->n_levels = MIN(MIN(span, (uint32_t)DAMON_MAX_LEVELS), (DAMON_MAX_SCHEMES - p->n_schemes - after) / c->n_tiers);
	for (size_t j = 0; j < p->n_levels; j++)
		p->level_nr[j] = nr_min + (uint32_t)((uint64_t)j * span / p->n_levels);
	p->levels_first = p->n_schemes;
	for (size_t t = 0; t < c->n_tiers; t++)
		for (size_t j = 0; j < p->n_levels; j++) {
			DamonScheme *sc = &p->schemes[p->n_schemes++];
			*sc = (DamonScheme){ .action = "stat", .target_nid = -1, .sz_min = system_page_size(),
					     .nr_accesses_min = p->level_nr[j], .age_min = age_min, .armed = true };
			int r = build_rejects(map, p, c->tiers[t].node, sc);
			if (r < 0) {
				*ret_bad_tier = t;
				return r;
			}
		}
	return 0;
}

/* One migrate_hot scheme per ordered pair of tier nodes, restricted to its
 * source node by address filters, disarmed until the first interval decides
 * its quota (one page, DAMON's smallest region, until then). */
static int build_pairs(const Config *c, const NodeMap *map, DamonPlan *p, ActuateParams *a, uint32_t nr_min,
		       uint32_t age_min, size_t *ret_bad_tier)
{
	const uint64_t page = system_page_size();
	int r;

	a->pairs_first = p->n_schemes;
	for (size_t s = 0; s < c->n_tiers; s++)
		for (size_t d = 0; d < c->n_tiers; d++) {
			a->pair_scheme[s][d] = -1;
			if (s == d)
				continue;
			/* Disarmed until the first interval decides its quota;
			 * the goal reads "met" (current = 2 x target).
			 * No priority among the regions the pattern admits:
			 * every quota weight 0, so under a quota DAMON takes
			 * them in address order, resuming where the last
			 * window stopped. The score threshold a quota sets is
			 * chosen over every admitted region, the ones the
			 * address filters then reject (already on the
			 * destination) included: with weights, node 0's tens
			 * of MiB at 20/20 accesses and a high age set it above
			 * node 1's last, lukewarm hot regions (hot and cold
			 * 4 KiB pages interleaved), which then never move while
			 * dtierd keeps asking (6.12, s18: node 0 at 93-96 % of
			 * a 100 % target for 60 s, 2.9 MiB of hot pages left on
			 * node 1; docs/kernel-interface.md, the sim's
			 * lukewarm-weighted). dtierd's metric counts every
			 * admitted region as hot. */
			DamonScheme *sc = &p->schemes[p->n_schemes];
			*sc = (DamonScheme){
				.action = "migrate_hot",
				.target_nid = c->tiers[d].node,
				.sz_min = page,
				.nr_accesses_min = nr_min,
				.age_min = age_min,
				.armed = false,
				.quota_bytes = page,
				.reset_ms = a->window_ms,
				.weight_sz = 0,
				.weight_nr_accesses = 0,
				.weight_age = 0,
				.goal = true,
				.goal_eligible = c->measure.kernel_metric,
				.goal_nid = c->tiers[d].node,
				.goal_target = MAX(c->tiers[d].hot_share_bp, 1u),
				.goal_current = 2 * MAX(c->tiers[d].hot_share_bp, 1u),
			};
			r = build_rejects(map, p, c->tiers[s].node, sc);
			if (r < 0) {
				*ret_bad_tier = s;
				return r;
			}
			a->pair_scheme[s][d] = (int)p->n_schemes++;
		}
	a->pairs_end = p->n_schemes;
	return 0;
}

int damon_plan_build(const Config *c, const NodeMap *map, DamonSetup *ret, size_t *ret_bad_tier)
{
	DamonSetup x = { 0 };
	DamonPlan *p = &x.plan;
	ActuateParams *a = &x.act;
	uint32_t nr_min = config_hot_min_nr_accesses(c);
	uint32_t age_min = (uint32_t)((uint64_t)c->hot.min_age_ms * 1000 / c->monitor.aggr_us);
	/* DAMON's smallest region. */
	const uint64_t page = system_page_size();
	int r;

	for (size_t i = 0; i < c->n_tiers; i++)
		if (node_map_node_bytes(map, c->tiers[i].node) == 0) {
			*ret_bad_tier = i;
			return -ENOENT;
		}
	r = build_regions(c, map, p);
	if (r < 0)
		return r;

	/* The disarmed schemes' first charge window is one aggregation (on
	 * 6.12 the first window ignores the quota: it must pass while nothing
	 * matches). Armed, a window is half an interval: DAMON charges the
	 * region it split to fit the quota but migrates the whole folio under
	 * it, so 100 ms windows moved at least one 2 MiB folio each, >= 20
	 * MiB/s whatever the quota (6.12, THP, 32 MiB/s cap: the share hunted
	 * 31-97 %); half-interval windows bound the excess to two folios per
	 * interval, and a stop takes effect within half an interval (with
	 * whole-interval windows one seed of the sim's measurement-spike
	 * scenario strayed 5.6 points after converging). */
	a->n = c->n_tiers;
	a->window_ms = MAX(c->monitor.aggr_us / 1000, 1u);
	a->armed_window_ms = armed_window_ms(c);
	a->interval_ms = c->interval_ms;
	a->window_cap_bytes = (uint64_t)c->migration.max_mib_per_s * MIB * a->armed_window_ms / 1000;
	a->kernel_goals = c->measure.kernel_metric;

	p->sample_us = c->monitor.sample_us;
	p->aggr_us = c->monitor.aggr_us;
	p->min_regions = c->monitor.min_regions;
	p->max_regions = c->monitor.max_regions;

	/* Scheme 0: the measurement. stat, hot pattern, no quota, no filters:
	 * its tried_regions are every region that matches the pattern. */
	p->schemes[0] = (DamonScheme){ .action = "stat", .target_nid = -1, .sz_min = page,
				       .nr_accesses_min = nr_min, .age_min = age_min, .armed = true };
	p->n_schemes = 1;
	/* Then the level schemes, the pairs and the pulse, in this order:
	 * DAMON applies the schemes in turn to one region, and a scheme that
	 * splits it (where its quota runs out, at an address filter's edge)
	 * leaves the split-off tail out of every later scheme in that pass
	 * (damon_for_each_region_safe()). Counted after the pairs, the levels
	 * missed the tail of the hot region a pair was migrating: 43-69 MiB
	 * of scheme 0's 65-72 while moving (6.12, s2), node 0 read 3.9 points
	 * above the workload's own report (s20). */
	r = build_levels(c, map, p, nr_min, age_min, ret_bad_tier);
	if (r < 0)
		return r;
	r = build_pairs(c, map, p, a, nr_min, age_min, ret_bad_tier);
	if (r < 0)
		return r;
	/* The pulse: a stat scheme every region matches. Its sz_tried grows
	 * whenever DAMON applied its schemes, hot or not, so an empty
	 * measurement can tell "nothing hot" from "DAMON did not get round to
	 * it" (6.12 at ~1 500 hot regions under TCG: runs of up to four
	 * intervals with no apply pass at all, which scheme 0's own sz_tried
	 * took for a hot set gone). With the level schemes it has no quota:
	 * every pass raises its sz_tried by the monitored bytes, less the
	 * tails the schemes before it split off, which counts the passes the
	 * levels' counters span. With tried regions, one page per window
	 * keeps its own tried regions to about one; last, the region it splits
	 * costs no other scheme its tail. */
	p->pulse = p->n_schemes++;
	p->schemes[p->pulse] = (DamonScheme){ .action = "stat", .target_nid = -1, .sz_min = page, .armed = true,
					      .quota_bytes = c->measure.source == CONFIG_SOURCE_REGIONS ? page : 0,
					      .reset_ms = a->window_ms };
	damon_plan_ctl_params(c, &x.ctl);
	*ret = x;
	return 0;
}

void damon_plan_fit_kernel(DamonPlan *p, const DamonFeatures *f)
{
	for (size_t i = 0; i < p->n_schemes; i++)
		p->schemes[i].goal = f->temporal && p->schemes[i].target_nid >= 0;
}
