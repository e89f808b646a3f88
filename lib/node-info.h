/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Per-node facts: memory size and free memory from
 * sys/devices/system/node/node<N>/meminfo ("Node 0 MemFree:  123 kB" lines,
 * read with inih), and the topology from libnuma (which reads the real /sys
 * only, so it is used when the root is "/"). */

#include <stdbool.h>
#include <stdint.h>

#include "sysfs.h"

typedef struct NodeMeminfo {
	uint64_t total_bytes;
	uint64_t free_bytes;
	/* Anonymous and shmem memory, and of it in transparent huge pages
	 * (AnonPages + Shmem, AnonHugePages + ShmemHugePages). */
	uint64_t anon_bytes, anon_thp_bytes;
} NodeMeminfo;

/* Parses meminfo text of NODE. Returns 0 or -EINVAL (no MemTotal). */
int node_meminfo_parse(const char *text, int node, NodeMeminfo *ret);
/* Reads it from the root. Returns 0, -ENOENT (no such node) or -errno. */
int node_meminfo_read(const Sysfs *fs, int node, NodeMeminfo *ret);

typedef struct NodeTopology {
	bool has_cpus;
	uint64_t size_bytes;
} NodeTopology;

/* Topology of NODE through libnuma. Returns 0, -ENOSYS if libnuma reports
 * no NUMA support, or -ENOENT if the node does not exist. */
int node_topology_libnuma(int node, NodeTopology *ret);
