/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Where do the bytes of an address range live? One interface, two
 * implementations, so the metric does not care where an address came from:
 *  - physical addresses (DAMON paddr regions): the memory-block node map, and
 *    /proc/kpageflags to count only memory DAMON can migrate;
 *  - virtual addresses of a process (per-process targets): move_pages(2)
 *    with nodes = NULL, which reports each page's node without moving it. */

#include <stdint.h>
#include <sys/types.h>

#include "kpageflags.h"
#include "node-map.h"

#define NODE_MAX 64

typedef struct NodeBytes {
	uint64_t bytes[NODE_MAX]; /* by node id */
	uint64_t err_bytes;       /* ~95 % bound of the sampling error */
	uint64_t pages_read;      /* work done, for the budget and debug logs */
	uint64_t thp_bytes;       /* of bytes[], in transparent huge pages (0 when not known) */
	/* Filled by locators with chunk_cost (see NodeLocator): */
	uint64_t span_bytes[NODE_MAX]; /* bytes of the range on each node, counted or not */
	uint64_t chunks;               /* sample chunks read; 0 when counted exactly */
	double ss_frac;                /* half the sum of squared differences between successive
					* chunks' migratable fractions within a piece */
	uint64_t ss_dof;               /* its degrees of freedom: sum of (chunks - 1) per piece */
} NodeBytes;

/* BUDGET_PAGES value asking only for span_bytes: nothing is read. */
#define NODE_LOCATE_SPAN_ONLY UINT64_MAX

typedef struct NodeLocator NodeLocator;
struct NodeLocator {
	const char *name;
	/* Adds to OUT the bytes of [start, end) found on each node, reading at
	 * most about BUDGET_PAGES page entries (0 = no limit). Returns 0 or
	 * -errno. */
	int (*count_range)(NodeLocator *l, uint64_t start, uint64_t end, uint64_t budget_pages, NodeBytes *out);
	void *data;
	/* Optional (NULL when not supported), for a metric that shares one
	 * budget over many ranges: the entries one sample chunk costs (a
	 * budget of N times that reads N chunks of the range, spread over its
	 * node pieces), NODE_LOCATE_SPAN_ONLY, and span_bytes/chunks/ss_*. */
	uint64_t (*chunk_cost)(NodeLocator *l);
	/* Optional: a uniform 64-bit random number. */
	uint64_t (*rand)(NodeLocator *l);
};

typedef struct PaddrLocator {
	NodeLocator base;
	const NodeMap *map;
	Kpf *kpf; /* NULL: count every byte of online memory */
	uint64_t page_size; /* bytes per page frame, one kpageflags entry each */
} PaddrLocator;

typedef struct VaddrLocator {
	NodeLocator base;
	pid_t pid; /* 0 = this process */
	uint64_t page_size; /* the unit move_pages(2) reports in */
} VaddrLocator;

/* Both take the system's page size (system_page_size()); a test that
 * feeds a kpageflags file laid out for another may set page_size after. */
void paddr_locator_init(PaddrLocator *l, const NodeMap *map, Kpf *kpf);
void vaddr_locator_init(VaddrLocator *l, pid_t pid);

static inline int node_locate_count(NodeLocator *l, uint64_t start, uint64_t end, uint64_t budget_pages,
				    NodeBytes *out)
{
	return l->count_range(l, start, end, budget_pages, out);
}
