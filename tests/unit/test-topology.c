/* SPDX-License-Identifier: GPL-2.0-or-later */
/* topology.c: nodes, distances, memory tiers from fixture trees; the
 * default tier layout (pure, on hand-made topologies too); the printer
 * against golden output. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test-util.h"
#include "topology.h"

#define MIB (1024ULL * 1024)
#define GIB (1024 * MIB)

static Topology *load(const char *fixture)
{
	Sysfs fs;
	Topology *t = NULL;

	tu_sysfs_open(tu_fixture(fixture), &fs);
	assert_int_equal(topology_load(&fs, &t), 0);
	sysfs_close(&fs);
	return t;
}

static int find_warning(const TopologyWarnings *w, const char *needle)
{
	for (size_t i = 0; i < w->n; i++)
		if (strstr(w->msg[i], needle))
			return (int)i;
	return -1;
}

static void test_lists(void **state)
{
	unsigned n = 99;

	assert_int_equal(topology_list_count("0-3,8,10-11\n", &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(topology_list_count("\n", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(topology_list_count("", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(topology_list_count("5", &n), 0);
	assert_int_equal(n, 1);
	n = 99;
	assert_int_equal(topology_list_count("3-1", &n), -EINVAL);
	assert_int_equal(topology_list_count("1,", &n), -EINVAL);
	assert_int_equal(topology_list_count("a", &n), -EINVAL);
	assert_int_equal(topology_list_count("1-", &n), -EINVAL);
	assert_int_equal(topology_list_count("1 2", &n), -EINVAL);
	assert_int_equal(topology_list_count("99999999999", &n), -EINVAL);
	assert_int_equal(n, 99);
	assert_true(topology_list_contains("0-1,4", 1));
	assert_true(topology_list_contains("0-1,4", 4));
	assert_false(topology_list_contains("0-1,4", 2));
	assert_false(topology_list_contains("", 0));
	assert_false(topology_list_contains("x", 0));
}

static void test_dram_cxl(void **state)
{
	Topology *t = load("topology-dram-cxl");
	TierConfig tiers[CONFIG_MAX_TIERS];
	TopologyWarnings w;
	size_t n = 0;

	assert_int_equal(t->n_nodes, 2);
	assert_int_equal(t->nodes[0].node, 0);
	assert_string_equal(t->nodes[0].cpulist, "0-3");
	assert_int_equal(t->nodes[0].n_cpus, 4);
	assert_true(t->nodes[0].mem_total_bytes == 1 * GIB);
	assert_true(t->nodes[0].mem_free_bytes == 512 * MIB);
	assert_true(t->nodes[0].online_block_bytes == 1 * GIB);
	assert_int_equal(t->nodes[0].tier, 4);
	assert_int_equal(t->nodes[1].n_cpus, 0);
	assert_string_equal(t->nodes[1].cpulist, "");
	assert_true(t->nodes[1].mem_total_bytes == 2 * GIB);
	assert_int_equal(t->nodes[1].tier, 22);
	assert_true(t->have_distances);
	assert_int_equal(t->nodes[0].distance[1], 20);
	assert_int_equal(t->nodes[1].distance[1], 10);
	assert_int_equal(t->n_tiers, 2);
	assert_int_equal(t->tiers[0].id, 4);
	assert_int_equal(t->tiers[1].id, 22);
	assert_true(t->have_map);
	assert_int_equal(t->map.n, 2);
	assert_true(t->map.ranges[1].start == 2 * GIB && t->map.ranges[1].end == 4 * GIB);

	topology_check(t, &w);
	assert_int_equal(w.n, 0);
	assert_int_equal(topology_default_tiers(t, tiers, &n, &w), 0);
	assert_int_equal(w.n, 0);
	assert_int_equal(n, 2);
	assert_int_equal(tiers[0].node, 0);
	assert_int_equal(tiers[0].hot_share_bp, 10000);
	assert_int_equal(tiers[1].node, 1);
	assert_int_equal(tiers[1].hot_share_bp, 0);
	topology_free(t);
}

static void test_three_nodes(void **state)
{
	Topology *t = load("topology-three-nodes");
	TierConfig tiers[CONFIG_MAX_TIERS];
	TopologyWarnings w;
	size_t n = 0;

	assert_int_equal(t->n_nodes, 3);
	assert_int_equal(t->nodes[1].tier, 4);
	assert_int_equal(t->nodes[2].tier, 22);
	assert_int_equal(t->nodes[2].distance[0], 24);
	assert_int_equal(topology_default_tiers(t, tiers, &n, &w), 0);
	assert_int_equal(w.n, 0);
	assert_int_equal(n, 3);
	/* 2:1 by size; 6666.67 + 3333.33: the leftover point to node 0. */
	assert_int_equal(tiers[0].hot_share_bp, 6667);
	assert_int_equal(tiers[1].hot_share_bp, 3333);
	assert_int_equal(tiers[2].hot_share_bp, 0);
	topology_free(t);
}

static void test_one_node(void **state)
{
	Topology *t = load("topology-one-node");
	TierConfig tiers[CONFIG_MAX_TIERS] = { { 7, 7 } };
	TopologyWarnings w;
	size_t n = 99;

	assert_int_equal(t->n_nodes, 1);
	topology_check(t, &w);
	assert_int_equal(w.n, 1);
	assert_true(find_warning(&w, "nothing to tier") >= 0);
	assert_int_equal(topology_default_tiers(t, tiers, &n, &w), -ENODEV);
	assert_true(find_warning(&w, "only 1 memory node") >= 0);
	assert_int_equal(n, 99);
	assert_int_equal(tiers[0].node, 7);
	topology_free(t);
}

static void test_one_tier(void **state)
{
	Topology *t = load("topology-one-tier");
	TierConfig tiers[CONFIG_MAX_TIERS];
	TopologyWarnings w;
	size_t n = 0;

	/* memory12 is offline: the block map has the hole, MemTotal not. */
	assert_true(t->nodes[1].online_block_bytes == 896 * MIB);
	assert_int_equal(t->nodes[0].tier, 4);
	assert_int_equal(t->nodes[1].tier, 4);
	topology_check(t, &w);
	assert_int_equal(w.n, 1);
	assert_true(find_warning(&w, "one memory tier (memory_tier4)") >= 0);
	/* The CPU split still gives a layout, with the warning. */
	assert_int_equal(topology_default_tiers(t, tiers, &n, &w), 0);
	assert_int_equal(w.n, 1);
	assert_int_equal(n, 2);
	assert_int_equal(tiers[0].hot_share_bp, 10000);
	assert_int_equal(tiers[1].hot_share_bp, 0);
	topology_free(t);
}

static void test_golden_print(void **state)
{
	static const char *const fixtures[] = { "topology-dram-cxl", "topology-three-nodes", "topology-one-node",
						"topology-one-tier" };

	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		Topology *t = load(fixtures[i]);
		char *buf = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&buf, &n);
		assert_int_equal(topology_print(f, t), 0);
		fclose(f);
		assert_true(n > 0 && buf[n - 1] == '\n');
		buf[n - 1] = '\0';
		const char *want = tu_read(tu_fixture(fixtures[i]), "expected-print");
		assert_non_null(want);
		if (strcmp(buf, want) != 0)
			fail_msg("%s: got\n%s\nwant\n%s", fixtures[i], buf, want);
		free(buf);
		topology_free(t);
	}
}

/* A hand-made topology: N nodes; cpus[i] CPUs, mem[i] GiB, tier[i]. */
static Topology *make(size_t n, const unsigned *cpus, const unsigned *mem_gib, const int *tier)
{
	Topology *t = calloc(1, sizeof(*t));
	t->n_nodes = n;
	t->have_distances = true;
	for (size_t i = 0; i < n; i++) {
		t->nodes[i] = (TopologyNode){ .node = (int)i, .n_cpus = cpus[i],
					      .mem_total_bytes = mem_gib[i] * GIB, .tier = tier[i] };
		for (size_t j = 0; j < n; j++)
			t->nodes[i].distance[j] = i == j ? 10 : 20;
	}
	for (size_t i = 0; i < n; i++) {
		bool dup = false;
		for (size_t k = 0; k < t->n_tiers; k++)
			dup |= t->tiers[k].id == tier[i];
		if (!dup && tier[i] >= 0)
			t->tiers[t->n_tiers++].id = tier[i];
	}
	return t;
}

static void test_default_disagreements(void **state)
{
	TierConfig tiers[CONFIG_MAX_TIERS];
	TopologyWarnings w;
	size_t n;

	/* The kernel puts the CPU-less node in a faster tier than DRAM. */
	Topology *t = make(2, (unsigned[]){ 4, 0 }, (unsigned[]){ 1, 1 }, (int[]){ 22, 4 });
	assert_int_equal(topology_default_tiers(t, tiers, &n, &w), 0);
	assert_true(find_warning(&w, "CPU-less node 1 is in a faster memory tier") >= 0);
	assert_int_equal(tiers[0].hot_share_bp, 10000);
	free(t);

	/* Three tiers in all, the CPU-less node 2 in DRAM's. */
	t = make(3, (unsigned[]){ 4, 0, 0 }, (unsigned[]){ 1, 1, 1 }, (int[]){ 4, 22, 4 });
	assert_int_equal(topology_default_tiers(t, tiers, &n, &w), 0);
	assert_true(find_warning(&w, "CPU-less node 2 and node 0 with CPUs are in the same memory tier") >= 0);
	free(t);

	/* Distances that call the CPU-less memory local. */
	t = make(2, (unsigned[]){ 4, 0 }, (unsigned[]){ 1, 1 }, (int[]){ 4, 22 });
	t->nodes[0].distance[1] = 10;
	assert_int_equal(topology_default_tiers(t, tiers, &n, &w), 0);
	assert_int_equal(w.n, 1);
	assert_true(find_warning(&w, "as close to node 0's CPUs") >= 0);
	free(t);

	/* Two sockets, no CXL: nothing to tell fast from slow. */
	t = make(2, (unsigned[]){ 4, 4 }, (unsigned[]){ 1, 1 }, (int[]){ 4, 4 });
	assert_int_equal(topology_default_tiers(t, tiers, &n, &w), -EINVAL);
	assert_true(find_warning(&w, "every memory node has CPUs") >= 0);
	free(t);

	/* A memory-less CPU node and a CPU-less memory node are not tiers. */
	t = make(2, (unsigned[]){ 4, 0 }, (unsigned[]){ 0, 1 }, (int[]){ -1, 4 });
	assert_int_equal(topology_default_tiers(t, tiers, &n, &w), -ENODEV);
	free(t);

	/* Too many memory nodes for the config. */
	unsigned cpus[9] = { 1 }, mem[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	int tier[9] = { 4, 22, 22, 22, 22, 22, 22, 22, 22 };
	t = make(9, cpus, mem, tier);
	assert_int_equal(topology_default_tiers(t, tiers, &n, &w), -E2BIG);
	free(t);

	/* Three fast nodes of equal size: 3333 each and the leftover point
	 * to the lowest node; the sum is exactly 10000; memory-less nodes
	 * are left out. */
	t = make(5, (unsigned[]){ 2, 2, 2, 0, 3 }, (unsigned[]){ 1, 1, 1, 8, 0 }, (int[]){ 4, 4, 4, 22, -1 });
	assert_int_equal(topology_default_tiers(t, tiers, &n, &w), 0);
	assert_int_equal(n, 4);
	assert_int_equal(tiers[0].hot_share_bp, 3334);
	assert_int_equal(tiers[1].hot_share_bp, 3333);
	assert_int_equal(tiers[2].hot_share_bp, 3333);
	assert_int_equal(tiers[3].node, 3);
	assert_int_equal(tiers[3].hot_share_bp, 0);
	free(t);

	/* Huge nodes do not overflow the proportion. */
	t = make(3, (unsigned[]){ 1, 1, 0 }, (unsigned[]){ 1, 1, 1 }, (int[]){ 4, 4, 22 });
	t->nodes[0].mem_total_bytes = UINT64_MAX / 2;
	t->nodes[1].mem_total_bytes = UINT64_MAX / 4;
	assert_int_equal(topology_default_tiers(t, tiers, &n, &w), 0);
	assert_int_equal(tiers[0].hot_share_bp + tiers[1].hot_share_bp, 10000);
	assert_int_equal(tiers[0].hot_share_bp, 6667);
	free(t);
}

static void test_load_errors(void **state)
{
	char *root = tu_mkdtemp();
	Topology *t = NULL;
	Sysfs fs;

	tu_sysfs_open(root, &fs);
	/* No node directory at all (CONFIG_NUMA off). */
	assert_int_equal(topology_load(&fs, &t), -ENOENT);
	tu_mkdirs(root, "sys/devices/system/node");
	assert_int_equal(topology_load(&fs, &t), -ENOENT);
	/* A node without cpulist or meminfo. */
	tu_write(root, "sys/devices/system/node/node0/meminfo", "Node 0 MemTotal: 1024 kB\n");
	assert_int_equal(topology_load(&fs, &t), -ENOENT);
	tu_write(root, "sys/devices/system/node/node0/cpulist", "0-x\n");
	assert_int_equal(topology_load(&fs, &t), -EINVAL);
	tu_write(root, "sys/devices/system/node/node0/cpulist", "0\n");
	/* No distance, no memory blocks, no tiers: all optional. */
	assert_int_equal(topology_load(&fs, &t), 0);
	assert_false(t->have_distances);
	assert_false(t->have_map);
	assert_int_equal(t->n_tiers, 0);
	assert_int_equal(t->nodes[0].tier, -1);
	topology_free(t);
	/* A distance row of the wrong length is ignored, not trusted. */
	tu_write(root, "sys/devices/system/node/node0/distance", "10 20\n");
	assert_int_equal(topology_load(&fs, &t), 0);
	assert_false(t->have_distances);
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_int_equal(topology_print(f, t), 0);
	fclose(f);
	assert_non_null(strstr(buf, "distances: unknown"));
	assert_non_null(strstr(buf, "physical ranges: unknown"));
	assert_non_null(strstr(buf, "memory tiers: none"));
	free(buf);
	topology_free(t);
	tu_write(root, "sys/devices/system/node/node0/distance", "10\n");
	/* A tier with a broken nodelist. */
	tu_write(root, "sys/devices/virtual/memory_tiering/memory_tier4/nodelist", "zero\n");
	assert_int_equal(topology_load(&fs, &t), -EINVAL);
	tu_write(root, "sys/devices/virtual/memory_tiering/memory_tier4/nodelist", "0\n");
	assert_int_equal(topology_load(&fs, &t), 0);
	assert_true(t->have_distances);
	assert_int_equal(t->nodes[0].tier, 4);
	topology_free(t);
	sysfs_close(&fs);
	tu_rmtree(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_dram_cxl),
		cmocka_unit_test(test_three_nodes),
		cmocka_unit_test(test_one_node),
		cmocka_unit_test(test_one_tier),
		cmocka_unit_test(test_golden_print),
		cmocka_unit_test(test_default_disagreements),
		cmocka_unit_test(test_load_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
