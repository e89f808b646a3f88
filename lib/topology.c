/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "node-info.h"
#include "topology.h"
#include "util.h"

#define NODE_DIR "sys/devices/system/node"
#define TIER_DIR "sys/devices/virtual/memory_tiering"

int topology_parse_list(const char *s, TopologyRangeFn fn, void *userdata)
{
	const char *p = s;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '\n')
		return 0;
	for (;;) {
		unsigned long lo, hi;
		char *end;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		lo = strtoul(p, &end, 10);
		if (errno || lo > INT32_MAX)
			return -EINVAL;
		hi = lo;
		p = end;
		if (*p == '-') {
			p++;
			if (*p < '0' || *p > '9')
				return -EINVAL;
			hi = strtoul(p, &end, 10);
			if (errno || hi > INT32_MAX || hi < lo)
				return -EINVAL;
			p = end;
		}
		int r = fn(userdata, (unsigned)lo, (unsigned)hi);
		if (r < 0)
			return r;
		if (*p == ',') {
			p++;
			continue;
		}
		while (*p == '\n' || *p == ' ')
			p++;
		return *p == '\0' ? 0 : -EINVAL;
	}
}

static int count_cb(void *userdata, unsigned lo, unsigned hi)
{
	*(unsigned *)userdata += hi - lo + 1;
	return 0;
}

int topology_list_count(const char *s, unsigned *ret)
{
	unsigned n = 0;
	int r = topology_parse_list(s, count_cb, &n);
	if (r < 0)
		return r;
	*ret = n;
	return 0;
}

typedef struct Contains {
	unsigned id;
	bool found;
} Contains;

static int contains_cb(void *userdata, unsigned lo, unsigned hi)
{
	Contains *c = userdata;
	if (c->id >= lo && c->id <= hi)
		c->found = true;
	return 0;
}

bool topology_list_contains(const char *s, unsigned id)
{
	Contains c = { .id = id };
	return topology_parse_list(s, contains_cb, &c) == 0 && c.found;
}

void topology_free(Topology *t)
{
	if (!t)
		return;
	node_map_free(&t->map);
	free(t);
}
DEFINE_CLEANUP(Topology *, topology_free)

const TopologyNode *topology_node(const Topology *t, int node)
{
	for (size_t i = 0; i < t->n_nodes; i++)
		if (t->nodes[i].node == node)
			return &t->nodes[i];
	return NULL;
}

bool topology_node_has_memory(const TopologyNode *n)
{
	return n->mem_total_bytes > 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return x < y ? -1 : x > y;
}

/* Directory entries PREFIX<number> under REL, sorted. -ENOENT if REL is
 * missing. */
static int list_numbered(const Sysfs *fs, const char *rel, const char *prefix, int *ids, size_t max,
			 size_t *ret_n)
{
	size_t n = 0, plen = strlen(prefix);
	int fd = openat(fs->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		unsigned long long id;
		if (strncmp(de->d_name, prefix, plen) != 0 || parse_u64(de->d_name + plen, 10, &id) < 0 ||
		    id > TOPOLOGY_NODE_ID_MAX)
			continue;
		if (n >= max)
			return -E2BIG;
		ids[n++] = (int)id;
	}
	if (n > 0)
		qsort(ids, n, sizeof(*ids), cmp_int);
	*ret_n = n;
	return 0;
}

static int parse_distances(const char *s, unsigned *out, size_t max, size_t *ret_n)
{
	size_t n = 0;
	const char *p = s;

	for (;;) {
		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		char *end;
		errno = 0;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || errno || v > 255 || (*end && *end != ' ' && *end != '\n'))
			return -EINVAL;
		if (n >= max)
			return -EINVAL;
		out[n++] = (unsigned)v;
		p = end;
	}
	*ret_n = n;
	return 0;
}

int topology_load(const Sysfs *fs, Topology **ret)
{
	int ids[TOPOLOGY_MAX_NODES];
	size_t n;
	int r;

	r = list_numbered(fs, NODE_DIR, "node", ids, ELEMENTSOF(ids), &n);
	if (r < 0)
		return r;
	if (n == 0)
		return -ENOENT;

	_cleanup_(topology_freep) Topology *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->n_nodes = n;
	t->have_distances = true;
	for (size_t i = 0; i < n; i++) {
		TopologyNode *nd = &t->nodes[i];
		NodeMeminfo mi;
		char buf[1024];
		size_t nd_dist;

		nd->node = ids[i];
		nd->tier = -1;
		r = sysfs_read_str(fs, nd->cpulist, sizeof(nd->cpulist), NODE_DIR "/node%d/cpulist", ids[i]);
		if (r < 0)
			return r;
		r = topology_list_count(nd->cpulist, &nd->n_cpus);
		if (r < 0)
			return r;
		r = node_meminfo_read(fs, ids[i], &mi);
		if (r < 0)
			return r;
		nd->mem_total_bytes = mi.total_bytes;
		nd->mem_free_bytes = mi.free_bytes;
		/* The row lists the distance to every online node in order;
		 * anything else (a node offlined between the reads) makes the
		 * table unusable, not the topology. */
		r = sysfs_read_str(fs, buf, sizeof(buf), NODE_DIR "/node%d/distance", ids[i]);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r < 0 || parse_distances(buf, nd->distance, ELEMENTSOF(nd->distance), &nd_dist) < 0 ||
		    nd_dist != n)
			t->have_distances = false;
	}
	if (!t->have_distances)
		for (size_t i = 0; i < n; i++)
			memset(t->nodes[i].distance, 0, sizeof(t->nodes[i].distance));

	r = node_map_load(fs, &t->map);
	if (r == 0) {
		t->have_map = true;
		for (size_t i = 0; i < n; i++)
			t->nodes[i].online_block_bytes = node_map_node_bytes(&t->map, t->nodes[i].node);
	} else if (r != -ENOENT) {
		return r;
	}

	int tids[TOPOLOGY_MAX_TIERS];
	size_t nt = 0;
	r = list_numbered(fs, TIER_DIR, "memory_tier", tids, ELEMENTSOF(tids), &nt);
	if (r < 0 && r != -ENOENT)
		return r;
	for (size_t i = 0; i < nt; i++) {
		TopologyTier *tt = &t->tiers[t->n_tiers++];
		unsigned cnt;

		tt->id = tids[i];
		r = sysfs_read_str(fs, tt->nodelist, sizeof(tt->nodelist), TIER_DIR "/memory_tier%d/nodelist", tids[i]);
		if (r < 0)
			return r;
		r = topology_list_count(tt->nodelist, &cnt);
		if (r < 0)
			return r;
		for (size_t j = 0; j < n; j++)
			if (t->nodes[j].tier < 0 && topology_list_contains(tt->nodelist, (unsigned)t->nodes[j].node))
				t->nodes[j].tier = tt->id;
	}
	*ret = TAKE_PTR(t);
	return 0;
}

static void warn(TopologyWarnings *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(TopologyWarnings *w, const char *fmt, ...)
{
	va_list ap;

	if (w->n >= TOPOLOGY_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(w->msg[w->n++], TOPOLOGY_MSG_MAX, fmt, ap);
	va_end(ap);
}

static size_t memory_nodes(const Topology *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n_nodes; i++)
		n += topology_node_has_memory(&t->nodes[i]);
	return n;
}

void topology_check(const Topology *t, TopologyWarnings *ret)
{
	TopologyWarnings w = { 0 };
	size_t nm = memory_nodes(t);

	if (nm < 2) {
		warn(&w, "only %zu memory node%s: there is nothing to tier between", nm, nm == 1 ? "" : "s");
	} else if (t->n_tiers > 0) {
		int tier = -2;
		bool one = true;
		for (size_t i = 0; i < t->n_nodes; i++) {
			const TopologyNode *n = &t->nodes[i];
			if (!topology_node_has_memory(n))
				continue;
			if (tier == -2)
				tier = n->tier;
			else if (n->tier != tier)
				one = false;
		}
		if (one && tier >= 0)
			warn(&w,
			     "all %zu memory nodes are in one memory tier (memory_tier%d): the kernel sees no "
			     "speed difference between them (no driver set an abstract distance for the slow "
			     "memory); dtierd can still place hot memory by node, but kernel demotion and NUMA "
			     "tiering will not tell the tiers apart",
			     nm, tier);
	}
	*ret = w;
}

static unsigned dist(const Topology *t, size_t i, size_t j)
{
	return t->have_distances ? t->nodes[i].distance[j] : 0;
}

int topology_default_tiers(const Topology *t, TierConfig ret_tiers[CONFIG_MAX_TIERS], size_t *ret_n,
			   TopologyWarnings *ret_warnings)
{
	TopologyWarnings w;
	TierConfig tiers[CONFIG_MAX_TIERS];
	size_t nm = 0, nfast = 0, nslow = 0;
	uint64_t fast_bytes = 0;

	topology_check(t, &w);
	for (size_t i = 0; i < t->n_nodes; i++) {
		const TopologyNode *n = &t->nodes[i];
		if (!topology_node_has_memory(n))
			continue;
		nm++;
		if (n->n_cpus > 0) {
			nfast++;
			fast_bytes += n->mem_total_bytes;
		} else {
			nslow++;
		}
	}
	*ret_warnings = w;
	if (nm < 2)
		return -ENODEV;
	if (nfast == 0 || nslow == 0) {
		warn(ret_warnings,
		     "every memory node %s CPUs: without a CPU-less node there is no slow tier to tell apart; "
		     "name the tiers in the configuration",
		     nfast ? "has" : "lacks");
		return -EINVAL;
	}
	if (nm > CONFIG_MAX_TIERS) {
		warn(ret_warnings, "%zu memory nodes, more than the %d dtierd can tier", nm, CONFIG_MAX_TIERS);
		return -E2BIG;
	}

	/* Cross-checks: the kernel's memory tiers and the firmware's distances
	 * should agree that CPU-less memory is the slower kind. */
	for (size_t i = 0; i < t->n_nodes; i++) {
		const TopologyNode *f = &t->nodes[i];
		if (!topology_node_has_memory(f) || f->n_cpus == 0)
			continue;
		for (size_t j = 0; j < t->n_nodes; j++) {
			const TopologyNode *s = &t->nodes[j];
			if (!topology_node_has_memory(s) || s->n_cpus > 0)
				continue;
			if (f->tier >= 0 && s->tier >= 0 && s->tier < f->tier)
				warn(ret_warnings,
				     "CPU-less node %d is in a faster memory tier (memory_tier%d) than node %d with CPUs "
				     "(memory_tier%d): the kernel disagrees with the default split",
				     s->node, s->tier, f->node, f->tier);
			else if (f->tier >= 0 && s->tier == f->tier && t->n_tiers > 1)
				warn(ret_warnings,
				     "CPU-less node %d and node %d with CPUs are in the same memory tier (memory_tier%d)",
				     s->node, f->node, f->tier);
			if (dist(t, i, j) && dist(t, i, i) && dist(t, i, j) <= dist(t, i, i))
				warn(ret_warnings,
				     "CPU-less node %d is as close to node %d's CPUs as node %d's own memory "
				     "(distance %u <= %u): the firmware reports no slower tier",
				     s->node, f->node, f->node, dist(t, i, j), dist(t, i, i));
		}
	}

	/* Largest remainder: bp_i = 10000 * size_i / fast_bytes, the leftover
	 * basis points to the largest fractions, ties to the lower node. */
	uint64_t rem[CONFIG_MAX_TIERS] = { 0 };
	unsigned sum = 0;
	size_t k = 0;
	for (size_t i = 0; i < t->n_nodes; i++) {
		const TopologyNode *n = &t->nodes[i];
		if (!topology_node_has_memory(n))
			continue;
		tiers[k] = (TierConfig){ .node = n->node, .hot_share_bp = 0 };
		if (n->n_cpus > 0) {
			/* 10000 * bytes fits u64 below 1.8 EB per node. */
			unsigned __int128 x = (unsigned __int128)n->mem_total_bytes * 10000;
			tiers[k].hot_share_bp = (unsigned)(x / fast_bytes);
			rem[k] = (uint64_t)(x % fast_bytes);
			sum += tiers[k].hot_share_bp;
		}
		k++;
	}
	while (sum < 10000) {
		size_t best = SIZE_MAX;
		for (size_t i = 0; i < k; i++) {
			const TopologyNode *n = NULL;
			for (size_t j = 0; j < t->n_nodes; j++)
				if (t->nodes[j].node == tiers[i].node)
					n = &t->nodes[j];
			if (!n || n->n_cpus == 0)
				continue;
			if (best == SIZE_MAX || rem[i] > rem[best])
				best = i;
		}
		tiers[best].hot_share_bp++;
		rem[best] = 0;
		sum++;
	}
	memcpy(ret_tiers, tiers, k * sizeof(*tiers));
	*ret_n = k;
	return 0;
}

static void print_bytes(FILE *f, uint64_t b)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)b;
	size_t u = 0;

	while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		fprintf(f, "%" PRIu64 " B", b);
	else
		fprintf(f, "%.1f %s", v, units[u]);
}

int topology_print(FILE *f, const Topology *t)
{
	TopologyWarnings w;
	TierConfig tiers[CONFIG_MAX_TIERS];
	size_t nt = 0;

	fprintf(f, "%zu NUMA node%s, %zu with memory\n", t->n_nodes, t->n_nodes == 1 ? "" : "s", memory_nodes(t));
	for (size_t i = 0; i < t->n_nodes; i++) {
		const TopologyNode *n = &t->nodes[i];
		fprintf(f, "node %d: ", n->node);
		if (topology_node_has_memory(n)) {
			print_bytes(f, n->mem_total_bytes);
			fputs(" memory (", f);
			print_bytes(f, n->mem_free_bytes);
			fputs(" free)", f);
		} else {
			fputs("no memory", f);
		}
		if (n->n_cpus > 0)
			fprintf(f, ", %u CPU%s (%s)", n->n_cpus, n->n_cpus == 1 ? "" : "s", n->cpulist);
		else
			fputs(", no CPUs", f);
		if (n->tier >= 0)
			fprintf(f, ", memory_tier%d", n->tier);
		fputc('\n', f);
		if (t->have_map) {
			bool any = false;
			for (size_t r = 0; r < t->map.n; r++) {
				const NodeRange *nr = &t->map.ranges[r];
				if (nr->node != n->node)
					continue;
				fprintf(f, "%s[0x%" PRIx64 ", 0x%" PRIx64 ")", any ? " " : "  physical: ", nr->start, nr->end);
				any = true;
			}
			if (any) {
				fputs(" = ", f);
				print_bytes(f, n->online_block_bytes);
				fputs(" in online memory blocks\n", f);
			}
		}
	}
	if (!t->have_map)
		fputs("physical ranges: unknown (no sys/devices/system/memory: CONFIG_MEMORY_HOTPLUG is off)\n", f);

	if (t->have_distances) {
		fputs("distances:\n      ", f);
		for (size_t j = 0; j < t->n_nodes; j++)
			fprintf(f, " %5d", t->nodes[j].node);
		fputc('\n', f);
		for (size_t i = 0; i < t->n_nodes; i++) {
			fprintf(f, "  %4d", t->nodes[i].node);
			for (size_t j = 0; j < t->n_nodes; j++)
				fprintf(f, " %5u", t->nodes[i].distance[j]);
			fputc('\n', f);
		}
	} else {
		fputs("distances: unknown\n", f);
	}

	if (t->n_tiers > 0) {
		fputs("memory tiers (a lower number is faster):\n", f);
		for (size_t i = 0; i < t->n_tiers; i++)
			fprintf(f, "  memory_tier%d: nodes %s\n", t->tiers[i].id,
				t->tiers[i].nodelist[0] ? t->tiers[i].nodelist : "(none)");
	} else {
		fputs("memory tiers: none (no sys/devices/virtual/memory_tiering)\n", f);
	}

	int r = topology_default_tiers(t, tiers, &nt, &w);
	if (r == 0) {
		fputs("default tiers (when the configuration has no `tiers`):", f);
		for (size_t i = 0; i < nt; i++)
			fprintf(f, "%s node %d hot_share_bp = %u", i ? "," : "", tiers[i].node, tiers[i].hot_share_bp);
		fputc('\n', f);
	} else {
		fputs("default tiers: none (the configuration must name them)\n", f);
	}
	for (size_t i = 0; i < w.n; i++)
		fprintf(f, "warning: %s\n", w.msg[i]);
	return ferror(f) ? -EIO : 0;
}
