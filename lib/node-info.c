/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <ini.h>
#include <numa.h>
#include <stdio.h>
#include <string.h>

#include "node-info.h"
#include "util.h"

typedef struct MeminfoCtx {
	int node;
	NodeMeminfo m;
	bool have_total;
} MeminfoCtx;

/* NAME is "Node NODE FIELD". */
static bool has_field(const char *name, int node, const char *field)
{
	char want[64];

	snprintf(want, sizeof(want), "Node %d %s", node, field);
	return strcmp(name, want) == 0;
}

/* inih splits "Node 0 MemFree:       1234 kB" at the ':' into name "Node 0
 * MemFree" and value "1234 kB". */
static int meminfo_kv(void *user, const char *section, const char *name, const char *value)
{
	MeminfoCtx *c = user;
	unsigned long long kb;
	char *end;

	errno = 0;
	kb = strtoull(value, &end, 10);
	if (errno || end == value)
		return 1;
	if (has_field(name, c->node, "MemTotal")) {
		c->m.total_bytes = kb * 1024;
		c->have_total = true;
	} else if (has_field(name, c->node, "MemFree")) {
		c->m.free_bytes = kb * 1024;
	} else if (has_field(name, c->node, "AnonPages") || has_field(name, c->node, "Shmem")) {
		c->m.anon_bytes += kb * 1024;
	} else if (has_field(name, c->node, "AnonHugePages") || has_field(name, c->node, "ShmemHugePages")) {
		c->m.anon_thp_bytes += kb * 1024;
	}
	return 1;
}

int node_meminfo_parse(const char *text, int node, NodeMeminfo *ret)
{
	MeminfoCtx c = { .node = node };

	if (ini_parse_string(text, meminfo_kv, &c) < 0 || !c.have_total)
		return -EINVAL;
	*ret = c.m;
	return 0;
}

int node_meminfo_read(const Sysfs *fs, int node, NodeMeminfo *ret)
{
	char text[8192];

	/* Read every interval: kept open (sysfs_read_str_kept()). */
	int r = sysfs_read_str_kept(fs, text, sizeof(text), "sys/devices/system/node/node%d/meminfo", node);
	return r < 0 ? r : node_meminfo_parse(text, node, ret);
}

int node_topology_libnuma(int node, NodeTopology *ret)
{
	NodeTopology t = { 0 };

	if (numa_available() < 0)
		return -ENOSYS;
	if (node < 0 || node > numa_max_node())
		return -ENOENT;
	if (!numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned)node) &&
	    !numa_bitmask_isbitset(numa_nodes_ptr, (unsigned)node))
		return -ENOENT;
	long long size = numa_node_size64(node, NULL);
	t.size_bytes = size > 0 ? (uint64_t)size : 0;
	struct bitmask *cpus = numa_allocate_cpumask();
	if (cpus) {
		if (numa_node_to_cpus(node, cpus) == 0)
			t.has_cpus = numa_bitmask_weight(cpus) > 0;
		numa_free_cpumask(cpus);
	}
	*ret = t;
	return 0;
}
