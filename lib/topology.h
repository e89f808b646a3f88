/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The machine's NUMA topology as the kernel describes it, under a root:
 *   sys/devices/system/node/node<N>/cpulist    "0-3,8" (empty: CPU-less)
 *   sys/devices/system/node/node<N>/distance   "10 20": to each node, in
 *                                              ascending node order
 *   sys/devices/system/node/node<N>/meminfo    MemTotal, MemFree (node-info.h)
 *   memory blocks (node-map.h)                 physical ranges per node
 *   sys/devices/virtual/memory_tiering/memory_tier<T>/nodelist
 *                                              the kernel's memory tiers (6.1+;
 *                                              lower T = faster, DRAM is 4)
 * For `dtierd --show-topology` and for a default tier layout when the
 * configuration names no tiers. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "node-map.h"
#include "sysfs.h"

#define TOPOLOGY_MAX_NODES 64
#define TOPOLOGY_MAX_TIERS 32
#define TOPOLOGY_LIST_MAX 128
#define TOPOLOGY_MSG_MAX 320
#define TOPOLOGY_MAX_WARNINGS 16
/* Node ids the list parser accepts (the kernel's MAX_NUMNODES limit). */
#define TOPOLOGY_NODE_ID_MAX 1023

typedef struct TopologyNode {
	int node;
	char cpulist[TOPOLOGY_LIST_MAX]; /* as the kernel wrote it */
	unsigned n_cpus;
	uint64_t mem_total_bytes;
	uint64_t mem_free_bytes;
	uint64_t online_block_bytes; /* from the memory-block map */
	int tier;                    /* memory tier id, -1 if none/unknown */
	unsigned distance[TOPOLOGY_MAX_NODES]; /* to nodes[i]; 0 if unknown */
} TopologyNode;

typedef struct TopologyTier {
	int id;
	char nodelist[TOPOLOGY_LIST_MAX];
} TopologyTier;

typedef struct Topology {
	size_t n_nodes;
	TopologyNode nodes[TOPOLOGY_MAX_NODES]; /* ascending node id */
	bool have_distances;
	size_t n_tiers;
	TopologyTier tiers[TOPOLOGY_MAX_TIERS]; /* ascending tier id */
	bool have_map;
	NodeMap map;
} Topology;

typedef struct TopologyWarnings {
	size_t n;
	char msg[TOPOLOGY_MAX_WARNINGS][TOPOLOGY_MSG_MAX];
} TopologyWarnings;

/* Parses a kernel list ("0-3,8,10-11", empty or "\n" = none), calling FN for
 * each range [lo, hi]. Returns 0, -EINVAL, or FN's negative value. */
typedef int (*TopologyRangeFn)(void *userdata, unsigned lo, unsigned hi);
int topology_parse_list(const char *s, TopologyRangeFn fn, void *userdata);
/* Number of entries in a list. Returns 0 or -EINVAL. */
int topology_list_count(const char *s, unsigned *ret);
/* Whether ID is in the list (false also for an unparsable list). */
bool topology_list_contains(const char *s, unsigned id);

/* Reads the topology. Missing memory tiers or memory blocks are not errors
 * (have_map false, n_tiers 0); a node directory without meminfo or cpulist
 * is. Returns 0 and a new Topology in *RET, -ENOENT if there is no node
 * directory, -E2BIG beyond TOPOLOGY_MAX_NODES, -EINVAL on unparsable
 * content, or another -errno. */
int topology_load(const Sysfs *fs, Topology **ret);
void topology_free(Topology *t);

/* Node NODE, or NULL if the topology has no such node. */
const TopologyNode *topology_node(const Topology *t, int node);

/* Memory nodes: MemTotal > 0. */
bool topology_node_has_memory(const TopologyNode *n);

/* Warnings for a topology dtierd cannot tier: fewer than two memory nodes,
 * every memory node in one memory tier. Pure. */
void topology_check(const Topology *t, TopologyWarnings *ret);

/* The tier layout for a configuration without `tiers`: the fast tier is the
 * memory nodes with CPUs, the slow tier the CPU-less ones; the target is as
 * much hot memory on the fast tier as it holds: fast nodes share 10000 bp
 * in proportion to their MemTotal (largest remainder, the sum is exactly
 * 10000), slow nodes get 0. Cross-checks the split against the memory
 * tiers and the distances and adds a warning for each disagreement to
 * *RET_WARNINGS (which is always filled). Pure.
 * Returns 0 with RET_TIERS[0..*RET_N) in node order; -ENODEV if there are
 * fewer than two memory nodes; -EINVAL if the memory nodes are all with or
 * all without CPUs (nothing tells fast from slow); -E2BIG for more memory
 * nodes than CONFIG_MAX_TIERS. */
int topology_default_tiers(const Topology *t, TierConfig ret_tiers[CONFIG_MAX_TIERS], size_t *ret_n,
			   TopologyWarnings *ret_warnings);

/* Prints the nodes (memory, free, physical ranges, CPUs), the distance
 * table, the memory tiers, the default tier layout and every warning, for
 * people. Pure apart from F. Returns 0 or -EIO. */
int topology_print(FILE *f, const Topology *t);
