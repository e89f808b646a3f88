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
	uint32_t share_bp[CONFIG_MAX_TIERS];  /* sums to 10000 when total > 0 */
	uint64_t total;                       /* hot bytes on tier nodes */
	uint64_t err_bytes;                   /* sampling error bound of the total */
	uint64_t pages_read;
	size_t n_regions;                     /* eligible regions used */
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
 * (0 = exact). DAMON samples one random page of a region per sample
 * interval, so nr_accesses / max_nr_accesses is the fraction of the region
 * found accessed. A region counts all its migratable bytes unless that
 * fraction shows (at ~95 %) that part of them is cold; then it counts the
 * accessed bytes (size * nr_accesses / max). Accessed pages are always
 * migratable (DAMON's paddr access check skips non-LRU folios), so free
 * frames in a region do not dilute it: after a migration the hot pages left
 * on a node sit among the frees the migrated ones left, read low, and
 * counting only whole regions above a threshold missed them (the page audit
 * of the VM tests found 2.4 MiB of a 64 MiB hot set on node 2 outside the
 * counted regions, and no cold or foreign pages inside them: the 6-point
 * "CPU node above the truth" of 6.12 was the other nodes counted short).
 * Returns 0 or -errno. */
int metric_hot_share(const RegionList *regions, const HotPattern *pattern, NodeLocator *loc,
		     uint64_t budget_pages, const int *nodes, size_t n_nodes, HotShare *ret);

/* Shares in bp of BYTES[0..n), largest-remainder rounding so they sum to
 * exactly 10000 (all 0 when the total is 0). Pure. */
void metric_shares_bp(const uint64_t *bytes, size_t n, uint32_t *ret_bp);
