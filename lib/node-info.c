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

/* inih splits "Node 0 MemFree:       1234 kB" at the ':' into name "Node 0
 * MemFree" and value "1234 kB". */
static int meminfo_kv(void *user, const char *section, const char *name, const char *value)
{
	MeminfoCtx *c = user;
	char want_total[48], want_free[48];
	unsigned long long kb;
	char *end;

	snprintf(want_total, sizeof(want_total), "Node %d MemTotal", c->node);
	snprintf(want_free, sizeof(want_free), "Node %d MemFree", c->node);
	errno = 0;
	kb = strtoull(value, &end, 10);
	if (errno || end == value)
		return 1;
	if (strcmp(name, want_total) == 0) {
		c->m.total_bytes = kb * 1024;
		c->have_total = true;
	} else if (strcmp(name, want_free) == 0) {
		c->m.free_bytes = kb * 1024;
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
	char path[96];
	MeminfoCtx c = { .node = node };

	snprintf(path, sizeof(path), "sys/devices/system/node/node%d/meminfo", node);
	int fd = openat(fs->root_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(fd, "re");
	if (!f) {
		int r = -errno;
		close(fd);
		return r;
	}
	int r = ini_parse_file(f, meminfo_kv, &c);
	fclose(f);
	if (r < 0 || !c.have_total)
		return -EINVAL;
	*ret = c.m;
	return 0;
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
