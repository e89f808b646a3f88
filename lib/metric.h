/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The eligible-memory metric: for each tier node, the bytes of hot
 * (scheme-eligible) memory on it and their share of all hot bytes on the
 * tier nodes, in basis points. The same quantity as the kernel's
 * node_eligible_mem_bp goal metric (7.2+), computed in user space so that it
 * works from 6.11 on. */

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "node-locate.h"
#include "tried-regions.h"

typedef struct HotShare {
	size_t n;                             /* tier nodes */
	int node[CONFIG_MAX_TIERS];
	uint64_t hot_bytes[CONFIG_MAX_TIERS];
	/* Migratable bytes of the matching regions on each node, hot and cold
	 * pages alike: what a migrate_hot scheme with the same pattern moves
	 * along with the hot bytes. */
	uint64_t region_bytes[CONFIG_MAX_TIERS];
	uint32_t share_bp[CONFIG_MAX_TIERS];  /* sums to 10000 when total > 0 */
	uint64_t total;                       /* hot bytes on tier nodes */
	uint64_t err_bytes;                   /* sampling error bound of the total */
	uint64_t pages_read;
	uint64_t thp_bytes;                   /* of total, in transparent huge pages (where counted) */
	size_t n_regions;                     /* eligible regions used */
	size_t n_imputed;                     /* of them, given no sample (over budget) */
	/* kpageflags sample chunks read (0 = exact or not sampled by chunks).
	 * err_bytes was honest on the bench (within 3x of the observed 95 %
	 * error) at >= 4 chunks per region; at 1-2 per region the estimate of
	 * min(accessed, migratable) keeps a bias the bound does not cover
	 * (-230 to -350 bp of the total at 8 192 regions, bench/). */
	uint64_t chunks;
} HotShare;

typedef struct HotPattern {
	uint32_t min_nr_accesses;
	uint32_t min_age;
	/* Samples per aggregation interval (aggr_us / sample_us): a region's
	 * nr_accesses / max_nr_accesses is the fraction of its pages DAMON
	 * found accessed. 0 counts every matching region whole. */
	uint32_t max_nr_accesses;
} HotPattern;

/* Computes the hot share from REGIONS: regions matching PATTERN are split by
 * node and counted with LOC, reading about BUDGET_PAGES entries in all
 * (0 = exact). A region counts its migratable bytes up to the bytes DAMON's
 * samples found accessed (size * nr_accesses / max_nr_accesses): DAMON
 * samples one random page of a region per sample interval, so a region that
 * is 30 % hot pages and 70 % cold ones reads about 6 of 20; counted whole,
 * its cold pages would count as hot. Accessed pages are always migratable
 * (DAMON's paddr access check skips non-LRU folios), so free or slab pages in
 * the region do not dilute the count. (The page audit of the VM tests found
 * no cold or foreign pages in the counted regions of the runs so far; what
 * set 6.12's CPU node above the truth was the other nodes counted short:
 * hot pages left among free frames by migrations, in regions that read low
 * or below a 25 % threshold, and unseen-bytes phantoms in the controller.)
 * Returns 0 or -errno. */
int metric_hot_share(const RegionList *regions, const HotPattern *pattern, NodeLocator *loc,
		     uint64_t budget_pages, const int *nodes, size_t n_nodes, HotShare *ret);

/* measure.source = "levels": what the level schemes tried per apply pass,
 * per tier node t and level j (index t * n + j): BYTES the bytes of node
 * t's regions with nr_accesses >= NR[j] (ascending, NR[0] the hot
 * threshold), as a stat scheme's sz_tried at that level grows by them in
 * a pass, and REGIONS how many regions those were (its nr_tried). */
typedef struct LevelCounts {
	const uint64_t *bytes;
	const uint64_t *regions;
	const uint32_t *nr;
	size_t n;
	uint32_t max_nr;  /* samples per aggregation (aggr_us / sample_us) */
	uint32_t passes;  /* apply passes the counts are the mean of */
} LevelCounts;

/* The hot share from LC for the tier nodes NODES[0..n_nodes). A region
 * counts size * nr_accesses / max_nr, the weighting metric_hot_share()
 * gives it, up to its migratable bytes there; with one level per value of
 * nr_accesses the sum is exact, with fewer a region between two levels
 * counts the middle of its step. err_bytes is two sigma of the total's
 * error, the independent errors of the regions added in quadrature: DAMON's
 * sampling of each region's accessed fraction (one page per sample, so
 * nr_accesses ~ Binomial(max_nr, p) in each of the passes) and, with coarse
 * levels, where in its step a region lies. Pure. */
void metric_levels_hot(const LevelCounts *lc, const int *nodes, size_t n_nodes, HotShare *ret);

/* Shares in bp of BYTES[0..n), largest-remainder rounding so they sum to
 * exactly 10000 (all 0 when the total is 0). Pure. */
void metric_shares_bp(const uint64_t *bytes, size_t n, uint32_t *ret_bp);

/* measure.source = "levels": the level schemes' bytes per DAMON apply pass,
 * from cumulative counters (stats/sz_tried, nr_tried) read at two times.
 * PREV and NOW hold N counters; counter 0 is the pulse's sz_tried, which
 * every pass raises by PASS_BYTES (it tries every monitored byte). Writes
 * each counter's growth per pass to RET (RET[0]: the pulse's). Returns the
 * passes in between (0: DAMON applied no scheme), or -ESTALE when a
 * counter went back or the pulse grew by no near-whole number of passes
 * (the schemes were restarted or replaced). Pure. */
int metric_levels_per_pass(const uint64_t *prev, const uint64_t *now, size_t n, uint64_t pass_bytes,
			   uint64_t *ret);
