/* SPDX-License-Identifier: GPL-2.0-or-later */
/* node-map.c: physical address -> node from memory-block sysfs. The main
 * tree is tests/fixtures/node-map-two-nodes (see its README); error cases
 * build small temp trees. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node-map.h"
#include "test-util.h"
#include "util.h"

#define BS 0x8000000ULL /* 128 MiB */
#define MEM "sys/devices/system/memory"
#define NODE "sys/devices/system/node"

static void load_fixture(NodeMap *m)
{
	Sysfs fs;
	assert_int_equal(sysfs_open(tu_fixture("node-map-two-nodes"), &fs), 0);
	assert_int_equal(node_map_load(&fs, m), 0);
	sysfs_close(&fs);
}

static void test_load_fixture(void **state)
{
	NodeMap m = { 0 };

	load_fixture(&m);
	assert_true(m.block_size == BS);
	/* Sorted, adjacent same-node blocks merged; the offline block 10
	 * and the absent 16..19 split ranges; memory_failure/, the node
	 * list files and the back-links are not blocks. */
	static const NodeRange want[] = {
		{ 0, 8 * BS, 0 },
		{ 8 * BS, 10 * BS, 1 },
		{ 11 * BS, 16 * BS, 1 },
		{ 20 * BS, 21 * BS, 0 },
	};
	assert_int_equal(m.n, 4);
	for (size_t i = 0; i < 4; i++) {
		if (m.ranges[i].start != want[i].start || m.ranges[i].end != want[i].end ||
		    m.ranges[i].node != want[i].node)
			fail_msg("range %zu: [%#llx, %#llx) node %d, want [%#llx, %#llx) node %d", i,
				 (unsigned long long)m.ranges[i].start, (unsigned long long)m.ranges[i].end,
				 m.ranges[i].node, (unsigned long long)want[i].start,
				 (unsigned long long)want[i].end, want[i].node);
	}
	node_map_free(&m);
	assert_int_equal(m.n, 0);
	assert_null(m.ranges);
	node_map_free(&m);
}

static void test_lookup_and_bytes(void **state)
{
	NodeMap m = { 0 };

	load_fixture(&m);
	assert_int_equal(node_map_lookup(&m, 0), 0);
	assert_int_equal(node_map_lookup(&m, 5 * BS + 123), 0);
	assert_int_equal(node_map_lookup(&m, 8 * BS - 1), 0);
	assert_int_equal(node_map_lookup(&m, 8 * BS), 1);
	assert_int_equal(node_map_lookup(&m, 10 * BS - 1), 1);
	assert_int_equal(node_map_lookup(&m, 10 * BS), -ENOENT); /* offline */
	assert_int_equal(node_map_lookup(&m, 11 * BS - 1), -ENOENT);
	assert_int_equal(node_map_lookup(&m, 11 * BS), 1);
	assert_int_equal(node_map_lookup(&m, 12 * BS), 1); /* no state file: online */
	assert_int_equal(node_map_lookup(&m, 16 * BS - 1), 1);
	assert_int_equal(node_map_lookup(&m, 16 * BS), -ENOENT); /* hole */
	assert_int_equal(node_map_lookup(&m, 20 * BS), 0);
	assert_int_equal(node_map_lookup(&m, 21 * BS - 1), 0);
	assert_int_equal(node_map_lookup(&m, 21 * BS), -ENOENT);
	assert_int_equal(node_map_lookup(&m, UINT64_MAX), -ENOENT);

	assert_true(node_map_node_bytes(&m, 0) == 9 * BS);
	assert_true(node_map_node_bytes(&m, 1) == 7 * BS);
	assert_true(node_map_node_bytes(&m, 2) == 0);
	assert_true(node_map_node_bytes(&m, -1) == 0);
	node_map_free(&m);
}

typedef struct Pieces {
	size_t n;
	NodeRange p[16];
	int stop_at; /* return -ECANCELED from this call (1-based), 0 = never */
} Pieces;

static int collect(void *userdata, uint64_t start, uint64_t end, int node)
{
	Pieces *c = userdata;
	assert_true(c->n < 16);
	c->p[c->n++] = (NodeRange){ start, end, node };
	return (int)c->n == c->stop_at ? -ECANCELED : 0;
}

static void expect_pieces(const Pieces *c, const NodeRange *want, size_t n)
{
	assert_int_equal(c->n, n);
	for (size_t i = 0; i < n; i++) {
		assert_true(c->p[i].start == want[i].start);
		assert_true(c->p[i].end == want[i].end);
		assert_int_equal(c->p[i].node, want[i].node);
	}
}

static void test_split(void **state)
{
	NodeMap m = { 0 };
	Pieces c;

	load_fixture(&m);

	/* Inside one range: one piece, unchanged. */
	c = (Pieces){ 0 };
	assert_int_equal(node_map_split(&m, 4096, 8192, collect, &c), 0);
	expect_pieces(&c, (NodeRange[]){ { 4096, 8192, 0 } }, 1);

	/* Crossing node 0 -> node 1 and the offline block. */
	c = (Pieces){ 0 };
	assert_int_equal(node_map_split(&m, 7 * BS + 0x100000, 12 * BS + 4096, collect, &c), 0);
	expect_pieces(&c,
		      (NodeRange[]){ { 7 * BS + 0x100000, 8 * BS, 0 },
				     { 8 * BS, 10 * BS, 1 },
				     { 11 * BS, 12 * BS + 4096, 1 } },
		      3);

	/* The whole address space: every range, in order; the holes skipped. */
	c = (Pieces){ 0 };
	assert_int_equal(node_map_split(&m, 0, UINT64_MAX, collect, &c), 0);
	expect_pieces(&c, m.ranges, m.n);

	/* Only holes: nothing. */
	c = (Pieces){ 0 };
	assert_int_equal(node_map_split(&m, 16 * BS, 20 * BS, collect, &c), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(node_map_split(&m, 10 * BS, 11 * BS, collect, &c), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(node_map_split(&m, 21 * BS, 100 * BS, collect, &c), 0);
	assert_int_equal(c.n, 0);

	/* Empty and inverted ranges: nothing. */
	assert_int_equal(node_map_split(&m, 4096, 4096, collect, &c), 0);
	assert_int_equal(node_map_split(&m, 8192, 4096, collect, &c), 0);
	assert_int_equal(c.n, 0);

	/* A negative return stops the walk and is passed on. */
	c = (Pieces){ .stop_at = 2 };
	assert_int_equal(node_map_split(&m, 0, UINT64_MAX, collect, &c), -ECANCELED);
	assert_int_equal(c.n, 2);
	node_map_free(&m);
}

/* Pieces of a query as a linear walk over the ranges finds them. */
typedef struct Sum {
	uint64_t bytes[4];
	size_t n;
	uint64_t last_end;
} Sum;

static int sum_piece(void *userdata, uint64_t start, uint64_t end, int node)
{
	Sum *s = userdata;
	assert_true(start < end);
	assert_true(start >= s->last_end); /* in address order */
	s->last_end = end;
	s->bytes[node] += end - start;
	s->n++;
	return 0;
}

static void test_split_many(void **state)
{
	/* 16 384 ranges (the worst case), nodes interleaved, with
	 * holes: the bisection finds the same pieces as a linear walk. */
	enum { N = 16384 };
	NodeMap m = { .block_size = BS, .n = N, .ranges = calloc(N, sizeof(NodeRange)) };
	uint64_t at = 0, s = 99;
	for (size_t i = 0; i < N; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		at += ((s >> 40) % 3) * BS; /* a hole of 0-2 blocks */
		m.ranges[i] = (NodeRange){ at, at + (1 + (s >> 50) % 4) * BS, (int)(i % 3) };
		at = m.ranges[i].end;
	}
	for (int q = 0; q < 3000; q++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		uint64_t a = (s >> 20) % (at + 4 * BS), len = (s >> 3) % (q % 10 == 0 ? at : 64 * BS);
		Sum got = { 0 };
		uint64_t want[4] = { 0 };
		size_t want_n = 0;
		for (size_t i = 0; i < N; i++) {
			uint64_t ps = MAX(a, m.ranges[i].start), pe = MIN(a + len, m.ranges[i].end);
			if (pe > ps) {
				want[m.ranges[i].node] += pe - ps;
				want_n++;
			}
		}
		assert_int_equal(node_map_split(&m, a, a + len, sum_piece, &got), 0);
		assert_int_equal(got.n, want_n);
		for (int k = 0; k < 3; k++)
			assert_true(got.bytes[k] == want[k]);
	}
	/* Before the first range, after the last, and an empty map. */
	Sum got = { 0 };
	assert_int_equal(node_map_split(&m, at, UINT64_MAX, sum_piece, &got), 0);
	assert_int_equal(got.n, 0);
	node_map_free(&m);
	assert_int_equal(node_map_split(&m, 0, UINT64_MAX, sum_piece, &got), 0);
	assert_int_equal(got.n, 0);
}

static void test_parse_block_size(void **state)
{
	uint64_t v = 7;

	assert_int_equal(node_map_parse_block_size("8000000\n", &v), 0);
	assert_true(v == 0x8000000);
	assert_int_equal(node_map_parse_block_size("80000000", &v), 0);
	assert_true(v == 0x80000000ULL); /* 2 GiB (large x86 machines) */
	assert_int_equal(node_map_parse_block_size("1000", &v), 0);
	assert_true(v == 4096);
	v = 7;
	/* Not hex, not a power of two, smaller than a page, empty. */
	assert_int_equal(node_map_parse_block_size("zz", &v), -EINVAL);
	assert_int_equal(node_map_parse_block_size("8000000 MiB", &v), -EINVAL);
	assert_int_equal(node_map_parse_block_size("3000", &v), -EINVAL);
	assert_int_equal(node_map_parse_block_size("800", &v), -EINVAL);
	assert_int_equal(node_map_parse_block_size("0", &v), -EINVAL);
	assert_int_equal(node_map_parse_block_size("", &v), -EINVAL);
	assert_int_equal(node_map_parse_block_size("-8000000", &v), -EINVAL);
	assert_int_equal(node_map_parse_block_size("10000000000000000", &v), -EINVAL);
	assert_true(v == 7);
}

static void test_plain_dirs(void **state)
{
	/* Links as plain directories, no state files at all, a memory-less
	 * node, blocks of 1 MiB listed out of order. */
	char *root = tu_mkdtemp();
	Sysfs fs;
	NodeMap m = { 0 };

	tu_write(root, MEM "/block_size_bytes", "100000\n");
	tu_mkdirs(root, NODE "/node2");
	tu_mkdirs(root, NODE "/node0/memory3");
	tu_mkdirs(root, NODE "/node0/memory1");
	tu_mkdirs(root, NODE "/node0/memory2");
	tu_mkdirs(root, NODE "/node1/memory4");
	tu_mkdirs(root, NODE "/node0/memory5");
	tu_write(root, NODE "/node0/memory_failure", "x\n");
	tu_write(root, NODE "/node0/memoryX", "x\n");
	tu_write(root, NODE "/nodeX/memory9/x", "x\n");
	tu_sysfs_open(root, &fs);
	assert_int_equal(node_map_load(&fs, &m), 0);
	assert_int_equal(m.n, 3);
	assert_true(m.ranges[0].start == 0x100000 && m.ranges[0].end == 0x400000 && m.ranges[0].node == 0);
	assert_true(m.ranges[1].start == 0x400000 && m.ranges[1].end == 0x500000 && m.ranges[1].node == 1);
	assert_true(m.ranges[2].start == 0x500000 && m.ranges[2].end == 0x600000 && m.ranges[2].node == 0);
	assert_int_equal(node_map_lookup(&m, 0), -ENOENT);
	assert_int_equal(node_map_lookup(&m, 0x9ffff0), -ENOENT);
	assert_true(node_map_node_bytes(&m, 2) == 0);
	node_map_free(&m);

	/* A block linked from two nodes is counted once. */
	tu_mkdirs(root, NODE "/node1/memory3");
	assert_int_equal(node_map_load(&fs, &m), 0);
	assert_true(node_map_node_bytes(&m, 0) + node_map_node_bytes(&m, 1) == 5 * 0x100000);
	int n3 = node_map_lookup(&m, 0x300000);
	assert_true(n3 == 0 || n3 == 1);
	node_map_free(&m);

	/* No block at all: an empty map, not an error. */
	char *empty = tu_mkdtemp();
	Sysfs efs;
	tu_write(empty, MEM "/block_size_bytes", "8000000\n");
	tu_mkdirs(empty, NODE "/node0");
	tu_sysfs_open(empty, &efs);
	assert_int_equal(node_map_load(&efs, &m), 0);
	assert_int_equal(m.n, 0);
	assert_int_equal(node_map_lookup(&m, 0), -ENOENT);
	Pieces c = { 0 };
	assert_int_equal(node_map_split(&m, 0, UINT64_MAX, collect, &c), 0);
	assert_int_equal(c.n, 0);
	node_map_free(&m);
	sysfs_close(&efs);
	tu_rmtree(empty);

	sysfs_close(&fs);
	tu_rmtree(root);
}

static void test_errors(void **state)
{
	char *root = tu_mkdtemp();
	Sysfs fs;
	NodeMap m = { .n = 99 };

	tu_sysfs_open(root, &fs);
	/* No memory-block directory (kernel without CONFIG_MEMORY_HOTPLUG). */
	assert_int_equal(node_map_load(&fs, &m), -ENOENT);
	/* Unparsable block size. */
	tu_write(root, MEM "/block_size_bytes", "128M\n");
	tu_mkdirs(root, NODE "/node0/memory0");
	assert_int_equal(node_map_load(&fs, &m), -EINVAL);
	tu_write(root, MEM "/block_size_bytes", "\n");
	assert_int_equal(node_map_load(&fs, &m), -EINVAL);
	tu_write(root, MEM "/block_size_bytes", "3000\n");
	assert_int_equal(node_map_load(&fs, &m), -EINVAL);
	assert_int_equal(m.n, 99);
	/* Block size but no node directory (kernel without CONFIG_NUMA). */
	char *nonuma = tu_mkdtemp();
	Sysfs fs2;
	tu_write(nonuma, MEM "/block_size_bytes", "8000000\n");
	tu_sysfs_open(nonuma, &fs2);
	assert_int_equal(node_map_load(&fs2, &m), -ENOENT);
	assert_int_equal(m.n, 99);
	sysfs_close(&fs2);
	tu_rmtree(nonuma);
	sysfs_close(&fs);
	tu_rmtree(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_fixture),
		cmocka_unit_test(test_lookup_and_bytes),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_split_many),
		cmocka_unit_test(test_parse_block_size),
		cmocka_unit_test(test_plain_dirs),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
