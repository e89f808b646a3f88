/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Physical address -> NUMA node, from memory-block sysfs:
 *   sys/devices/system/memory/block_size_bytes  (hex, no 0x)
 *   sys/devices/system/node/node<X>/memory<N>   (block N lies on node X)
 * Block N covers [N * block_size, (N + 1) * block_size). Offline blocks are
 * left out (their pages cannot be monitored or migrated). */

#include <stddef.h>
#include <stdint.h>

#include "sysfs.h"

typedef struct NodeRange {
	uint64_t start, end; /* [start, end) bytes */
	int node;
} NodeRange;

typedef struct NodeMap {
	uint64_t block_size;
	size_t n;            /* ranges, sorted by start, adjacent same-node blocks merged */
	NodeRange *ranges;
} NodeMap;

/* Loads the map. Returns 0, -ENOENT if the memory-block directory is missing
 * (kernel without CONFIG_MEMORY_HOTPLUG), -EINVAL on unparsable content, or
 * another -errno. */
int node_map_load(const Sysfs *fs, NodeMap *ret);
void node_map_free(NodeMap *m);

/* Parses block_size_bytes content (hex). Returns 0 or -EINVAL. */
int node_map_parse_block_size(const char *s, uint64_t *ret);

/* Node of physical address ADDR, or -ENOENT if no online block holds it. */
int node_map_lookup(const NodeMap *m, uint64_t addr);
/* Bytes of online memory on NODE. */
uint64_t node_map_node_bytes(const NodeMap *m, int node);

/* Calls CB for each piece of [start, end) that lies on one node, in address
 * order; pieces on no node are skipped. Stops and returns CB's value if
 * negative, else returns 0. */
typedef int (*NodeMapPieceFn)(void *userdata, uint64_t start, uint64_t end, int node);
int node_map_split(const NodeMap *m, uint64_t start, uint64_t end, NodeMapPieceFn cb, void *userdata);
