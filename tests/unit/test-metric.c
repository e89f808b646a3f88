/* SPDX-License-Identifier: GPL-2.0-or-later */
/* metric.c: hot bytes per tier node from DAMON's tried regions, and their
 * shares in basis points. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metric.h"
#include "test-util.h"
#include "util.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

static void check_shares(const uint64_t *bytes, size_t n, const uint32_t *want)
{
	uint32_t bp[CONFIG_MAX_TIERS];
	uint32_t sum = 0;

	memset(bp, 0xff, sizeof(bp));
	metric_shares_bp(bytes, n, bp);
	for (size_t i = 0; i < n; i++) {
		if (want && bp[i] != want[i])
			fail_msg("share %zu = %u, want %u", i, bp[i], want[i]);
		sum += bp[i];
	}
	if (!want)
		assert_int_equal(sum, 10000);
}

static void test_shares(void **state)
{
	check_shares((uint64_t[]){ 600, 400 }, 2, (uint32_t[]){ 6000, 4000 });
	/* Largest remainders get the leftover points; ties go to the first. */
	check_shares((uint64_t[]){ 2, 1 }, 2, (uint32_t[]){ 6667, 3333 });
	check_shares((uint64_t[]){ 1, 2 }, 2, (uint32_t[]){ 3333, 6667 });
	check_shares((uint64_t[]){ 1, 1, 1 }, 3, (uint32_t[]){ 3334, 3333, 3333 });
	check_shares((uint64_t[]){ 1, 1, 1, 1, 1, 1, 1 }, 7,
		     (uint32_t[]){ 1429, 1429, 1429, 1429, 1428, 1428, 1428 });
	check_shares((uint64_t[]){ 5, 0 }, 2, (uint32_t[]){ 10000, 0 });
	check_shares((uint64_t[]){ 1, 100000 }, 2, (uint32_t[]){ 0, 10000 });
	check_shares((uint64_t[]){ 1, 19999 }, 2, (uint32_t[]){ 1, 9999 }); /* 0.5 bp rounds up */
	/* Zero total: all 0 (not a division by zero). */
	check_shares((uint64_t[]){ 0, 0, 0 }, 3, (uint32_t[]){ 0, 0, 0 });
	/* Totals beyond 64 bits. */
	check_shares((uint64_t[]){ UINT64_MAX, UINT64_MAX }, 2, (uint32_t[]){ 5000, 5000 });
	check_shares((uint64_t[]){ UINT64_MAX, UINT64_MAX, UINT64_MAX, 1 }, 4, NULL);
	check_shares((uint64_t[]){ 123 }, 1, (uint32_t[]){ 10000 });

	/* Random vectors: always exactly 10000, each share within one point
	 * of the exact value. */
	uint64_t s = 1;
	for (int t = 0; t < 2000; t++) {
		uint64_t b[CONFIG_MAX_TIERS];
		uint32_t bp[CONFIG_MAX_TIERS];
		size_t n = 2 + (size_t)(t % 7);
		double total = 0;
		for (size_t i = 0; i < n; i++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			b[i] = (s >> 11) >> (s % 40);
			total += (double)b[i];
		}
		if (total == 0)
			continue;
		metric_shares_bp(b, n, bp);
		uint32_t sum = 0;
		for (size_t i = 0; i < n; i++) {
			double exact = 10000.0 * (double)b[i] / total;
			assert_true(bp[i] + 1.0001 > exact && bp[i] < exact + 1.0001);
			sum += bp[i];
		}
		assert_int_equal(sum, 10000);
	}
}

/* A locator over two fake nodes: [0, 1 GiB) is node 0, [1, 2 GiB) node 1,
 * everything else on no node. Records its calls. */
typedef struct FakeLoc {
	NodeLocator base;
	size_t n_calls;
	struct {
		uint64_t start, end, budget;
	} calls[16];
	uint64_t fail_start; /* return -EIO for a range starting here */
} FakeLoc;

static int fake_count(NodeLocator *l, uint64_t start, uint64_t end, uint64_t budget, NodeBytes *out)
{
	FakeLoc *f = l->data;
	assert_true(f->n_calls < 16);
	f->calls[f->n_calls].start = start;
	f->calls[f->n_calls].end = end;
	f->calls[f->n_calls].budget = budget;
	f->n_calls++;
	if (f->fail_start && start == f->fail_start)
		return -EIO;
	for (int node = 0; node < 2; node++) {
		uint64_t s = MAX(start, (uint64_t)node * GIB), e = MIN(end, ((uint64_t)node + 1) * GIB);
		if (e > s)
			out->bytes[node] += e - s;
	}
	out->pages_read += (end - start) / 4096;
	out->err_bytes += 4096;
	return 0;
}

static void fake_init(FakeLoc *f)
{
	*f = (FakeLoc){ .base = { .name = "fake", .count_range = fake_count } };
	f->base.data = f;
}

static void add(RegionList *l, uint64_t start, uint64_t end, uint32_t acc, uint32_t age)
{
	Region r = { start, end, acc, age };
	assert_int_equal(region_list_append(l, &r), 0);
}

static void test_hot_share_fake(void **state)
{
	RegionList l = { 0 };
	FakeLoc loc;
	HotShare h;
	const HotPattern pat = { .min_nr_accesses = 3, .min_age = 2 };

	add(&l, 0, 128 * MIB, 10, 5);                         /* hot, node 0 */
	add(&l, 128 * MIB, 192 * MIB, 2, 100);                /* too few accesses */
	add(&l, 192 * MIB, 256 * MIB, 20, 1);                 /* too young */
	add(&l, GIB - 32 * MIB, GIB + 96 * MIB, 3, 2);        /* hot, at both limits, on both nodes */
	add(&l, GIB + 512 * MIB, GIB + 512 * MIB, 20, 20);    /* empty */
	add(&l, 3 * GIB, 3 * GIB + 64 * MIB, 20, 20);         /* hot, on no tier node */

	fake_init(&loc);
	const int nodes[] = { 1, 0, 5 };
	assert_int_equal(metric_hot_share(&l, &pat, &loc.base, 0, nodes, 3, &h), 0);
	/* Only the matching, non-empty regions are looked up, whole; the
	 * locator splits them by node. */
	assert_int_equal(loc.n_calls, 3);
	assert_true(loc.calls[0].start == 0 && loc.calls[0].end == 128 * MIB);
	assert_true(loc.calls[1].start == GIB - 32 * MIB && loc.calls[1].end == GIB + 96 * MIB);
	assert_true(loc.calls[2].start == 3 * GIB);
	for (size_t i = 0; i < 3; i++)
		assert_true(loc.calls[i].budget == 0);
	assert_int_equal(h.n_regions, 3);
	/* In the caller's node order. */
	assert_int_equal(h.n, 3);
	assert_int_equal(h.node[0], 1);
	assert_int_equal(h.node[1], 0);
	assert_int_equal(h.node[2], 5);
	assert_true(h.hot_bytes[0] == 96 * MIB);
	assert_true(h.hot_bytes[1] == 160 * MIB);
	assert_true(h.hot_bytes[2] == 0);
	assert_true(h.total == 256 * MIB);
	assert_int_equal(h.share_bp[0], 3750);
	assert_int_equal(h.share_bp[1], 6250);
	assert_int_equal(h.share_bp[2], 0);
	/* Three regions' independent errors of one page each: sqrt(3) pages. */
	assert_true(h.err_bytes == 7095);
	assert_true(h.pages_read == (128 + 128 + 64) * MIB / 4096);

	/* A budget below the eligible pages is shared by region size, at
	 * least 1 each: 81920 eligible pages, 1000 budget. */
	fake_init(&loc);
	assert_int_equal(metric_hot_share(&l, &pat, &loc.base, 1000, nodes, 2, &h), 0);
	assert_int_equal(loc.n_calls, 3);
	assert_true(loc.calls[0].budget == 400);
	assert_true(loc.calls[1].budget == 400);
	assert_true(loc.calls[2].budget == 200);
	fake_init(&loc);
	assert_int_equal(metric_hot_share(&l, &pat, &loc.base, 1, nodes, 2, &h), 0);
	for (size_t i = 0; i < 3; i++)
		assert_true(loc.calls[i].budget == 1);
	/* A budget that covers everything: exact. */
	fake_init(&loc);
	assert_int_equal(metric_hot_share(&l, &pat, &loc.base, 81920, nodes, 2, &h), 0);
	for (size_t i = 0; i < 3; i++)
		assert_true(loc.calls[i].budget == 0);

	/* Nothing hot: zero shares, not an error. */
	const HotPattern strict = { .min_nr_accesses = 1000 };
	fake_init(&loc);
	assert_int_equal(metric_hot_share(&l, &strict, &loc.base, 0, nodes, 2, &h), 0);
	assert_int_equal(loc.n_calls, 0);
	assert_true(h.total == 0);
	assert_int_equal(h.share_bp[0], 0);
	assert_int_equal(h.share_bp[1], 0);
	assert_int_equal(h.n_regions, 0);

	/* Locator errors are returned; more nodes than tiers is -EINVAL. */
	fake_init(&loc);
	loc.fail_start = GIB - 32 * MIB;
	h.n = 77;
	assert_int_equal(metric_hot_share(&l, &pat, &loc.base, 0, nodes, 2, &h), -EIO);
	assert_int_equal(h.n, 77);
	const int many[CONFIG_MAX_TIERS + 1] = { 0 };
	assert_int_equal(metric_hot_share(&l, &pat, &loc.base, 0, many, CONFIG_MAX_TIERS + 1, &h), -EINVAL);
	region_list_free(&l);
}

/* A 1 MiB-block node map: node 0 = blocks 0-3, node 1 = blocks 4-7 and 9,
 * block 8 absent; kpageflags for PFNs 0..2559 (10 MiB). */
typedef struct PEnv {
	char *root;
	Sysfs fs;
	NodeMap map;
	Kpf kpf;
} PEnv;

#define NODE "sys/devices/system/node"
#define BLK 256 /* pages per block */

static int penv_setup(void **state)
{
	PEnv *e = calloc(1, sizeof(*e));
	char p[128];

	e->root = tu_mkdtemp();
	tu_write(e->root, "sys/devices/system/memory/block_size_bytes", "100000\n");
	for (int b = 0; b < 10; b++) {
		if (b == 8)
			continue;
		snprintf(p, sizeof(p), "sys/devices/system/memory/memory%d/state", b);
		tu_write(e->root, p, "online\n");
		snprintf(p, sizeof(p), NODE "/node%d/memory%d", b < 4 ? 0 : 1, b);
		char target[64];
		snprintf(target, sizeof(target), "../../memory/memory%d", b);
		tu_symlink(e->root, p, target);
	}
	tu_sysfs_open(e->root, &e->fs);
	assert_int_equal(node_map_load(&e->fs, &e->map), 0);
	assert_int_equal(e->map.n, 3);

	/* Node 0: blocks 0-2 all LRU, block 3 every other page.
	 * Node 1: block 4 first half LRU; a THP (LRU on its head only) over
	 * blocks 5-6; block 7 free; block 9 the first 100 pages LRU. */
	uint64_t *f = calloc(10 * BLK, sizeof(*f));
	for (int i = 0; i < 10 * BLK; i++) {
		int b = i / BLK, o = i % BLK;
		uint64_t lru = 1ULL << KPF_LRU, v = 1ULL << KPF_BUDDY;
		if (b < 3 || (b == 3 && o % 2 == 0) || (b == 4 && o < 128) || (b == 9 && o < 100))
			v = lru;
		else if (b == 5 || b == 6)
			v = i == 5 * BLK ? (lru | 1ULL << KPF_COMPOUND_HEAD | 1ULL << 22 /* THP */)
					 : 1ULL << KPF_COMPOUND_TAIL;
		else if (b == 8)
			v = 1ULL << KPF_NOPAGE;
		f[i] = v;
	}
	tu_write_bytes(e->root, "proc/kpageflags", f, 10 * BLK * sizeof(*f));
	free(f);
	assert_int_equal(kpageflags_open(&e->fs, 5, &e->kpf), 0);
	*state = e;
	return 0;
}

static int penv_teardown(void **state)
{
	PEnv *e = *state;
	kpageflags_close(&e->kpf);
	node_map_free(&e->map);
	sysfs_close(&e->fs);
	tu_rmtree(e->root);
	free(e);
	return 0;
}

static void test_hot_share_paddr_all_bytes(void **state)
{
	PEnv *e = *state;
	PaddrLocator loc;
	RegionList l = { 0 };
	HotShare h;
	const HotPattern pat = { .min_nr_accesses = 1 };
	const int nodes[] = { 0, 1 };

	/* kpf NULL: every online byte counts; holes do not. */
	paddr_locator_init(&loc, &e->map, NULL);
	add(&l, 3 * MIB + MIB / 2, 9 * MIB + MIB / 2, 5, 0);
	add(&l, 0, MIB, 0, 0); /* cold */
	assert_int_equal(metric_hot_share(&l, &pat, &loc.base, 0, nodes, 2, &h), 0);
	assert_true(h.hot_bytes[0] == MIB / 2);
	assert_true(h.hot_bytes[1] == 4 * MIB + MIB / 2);
	assert_int_equal(h.share_bp[0], 1000);
	assert_int_equal(h.share_bp[1], 9000);
	assert_true(h.err_bytes == 0);
	assert_true(h.pages_read == 0);
	assert_true(h.region_bytes[0] == MIB / 2 && h.region_bytes[1] == 4 * MIB + MIB / 2);

	/* Accessed in 5 of 20 samples: a quarter of the region's 6 MiB span
	 * is hot, 1.5 of its 5 MiB migratable; the region bytes (what a
	 * migrate_hot scheme moves) stay all 5. */
	const HotPattern part = { .min_nr_accesses = 1, .max_nr_accesses = 20 };
	assert_int_equal(metric_hot_share(&l, &part, &loc.base, 0, nodes, 2, &h), 0);
	assert_true(h.region_bytes[0] == MIB / 2 && h.region_bytes[1] == 4 * MIB + MIB / 2);
	assert_true(h.hot_bytes[0] == (MIB / 2) * 3 / 10 && h.hot_bytes[1] == (4 * MIB + MIB / 2) * 3 / 10);
	region_list_free(&l);

	/* A region only in the hole and one past the end of memory. */
	add(&l, 8 * MIB, 9 * MIB, 5, 0);
	add(&l, 64 * MIB, 65 * MIB, 5, 0);
	assert_int_equal(metric_hot_share(&l, &pat, &loc.base, 0, nodes, 2, &h), 0);
	assert_true(h.total == 0);
	assert_int_equal(h.n_regions, 2);
	region_list_free(&l);
}

static void test_hot_share_paddr_kpageflags(void **state)
{
	PEnv *e = *state;
	PaddrLocator loc;
	RegionList l = { 0 };
	HotShare h;
	const HotPattern pat = { .min_nr_accesses = 1 };
	const int nodes[] = { 0, 1 };

	paddr_locator_init(&loc, &e->map, &e->kpf);
	add(&l, 0, 10 * MIB, 5, 0);
	assert_int_equal(metric_hot_share(&l, &pat, &loc.base, 0, nodes, 2, &h), 0);
	/* Node 0: 3 * 256 + 128 pages; node 1: 128 + 512 (THP) + 100. */
	assert_true(h.hot_bytes[0] == (3 * BLK + 128) * 4096ULL);
	assert_true(h.hot_bytes[1] == (128 + 512 + 100) * 4096ULL);
	/* Of the hot bytes, the THP's are in a huge page. */
	assert_true(h.thp_bytes == 512 * 4096ULL);
	assert_true(h.err_bytes == 0);
	/* Exact: every existing entry read once (holes read too). */
	assert_true(h.pages_read == 9 * BLK);
	region_list_free(&l);

	/* Split at the node boundary: [3.5, 4.5) MiB = the odd half of block
	 * 3 (64 LRU pages) on node 0, the LRU half of block 4 on node 1. */
	add(&l, 3 * MIB + MIB / 2, 4 * MIB + MIB / 2, 5, 0);
	/* Starting inside the THP: its tails count by its head. */
	add(&l, 6 * MIB, 6 * MIB + 40960, 5, 0);
	assert_int_equal(metric_hot_share(&l, &pat, &loc.base, 0, nodes, 2, &h), 0);
	assert_true(h.hot_bytes[0] == 64 * 4096ULL);
	assert_true(h.hot_bytes[1] == (128 + 10) * 4096ULL);
	assert_true(h.thp_bytes == 10 * 4096ULL);
	region_list_free(&l);

	/* With a budget well below the pages: an estimate whose reported
	 * error bound holds the truth. */
	add(&l, 0, 10 * MIB, 5, 0);
	assert_int_equal(metric_hot_share(&l, &pat, &loc.base, 512, nodes, 2, &h), 0);
	uint64_t truth = (3 * BLK + 128 + 128 + 512 + 100) * 4096ULL;
	assert_true(h.pages_read < 9 * BLK);
	assert_true(h.total + h.err_bytes >= truth && h.total <= truth + h.err_bytes);
	region_list_free(&l);
}

/* A region counts what DAMON's samples found accessed (size * nr / max), at
 * most its migratable bytes, split by node in proportion to them. */
static void test_hot_share_weighted_fake(void **state)
{
	RegionList l = { 0 };
	FakeLoc loc;
	HotShare h;
	const HotPattern pat = { .min_nr_accesses = 1, .max_nr_accesses = 20 };
	const int nodes[] = { 0, 1 };

	add(&l, 0, 128 * MIB, 10, 0);                  /* half hot: 64 MiB */
	add(&l, 256 * MIB, 320 * MIB, 20, 0);          /* all hot: 64 MiB */
	add(&l, GIB - 32 * MIB, GIB + 96 * MIB, 5, 0); /* a quarter: 32 MiB, 1:3 */
	add(&l, GIB + 256 * MIB, GIB + 257 * MIB, 25, 0); /* past max: whole */
	fake_init(&loc);
	assert_int_equal(metric_hot_share(&l, &pat, &loc.base, 0, nodes, 2, &h), 0);
	assert_true(h.hot_bytes[0] == 64 * MIB + 64 * MIB + 8 * MIB);
	assert_true(h.hot_bytes[1] == 24 * MIB + 1 * MIB);
	assert_int_equal(h.n_regions, 4);
	region_list_free(&l);

	/* Without max_nr_accesses every matching region counts whole. */
	const HotPattern whole = { .min_nr_accesses = 1 };
	add(&l, 0, 128 * MIB, 10, 0);
	fake_init(&loc);
	assert_int_equal(metric_hot_share(&l, &whole, &loc.base, 0, nodes, 2, &h), 0);
	assert_true(h.hot_bytes[0] == 128 * MIB);
	region_list_free(&l);
}

/* Free pages in a region do not dilute it: block 3 of node 0 is every other
 * page LRU (128 of 256), the rest free. */
static void test_hot_share_weighted_kpageflags(void **state)
{
	PEnv *e = *state;
	PaddrLocator loc;
	RegionList l = { 0 };
	HotShare h;
	const HotPattern pat = { .min_nr_accesses = 1, .max_nr_accesses = 20 };
	const int nodes[] = { 0, 1 };
	const struct {
		uint32_t nr;
		uint64_t want_pages;
	} cases[] = {
		{ 10, 128 }, /* half the region accessed = all of its LRU pages */
		{ 15, 128 }, /* more than its LRU pages: capped at them */
		{ 5, 64 },   /* a quarter of the region: half its LRU pages */
		{ 1, 12 },   /* 256 / 20 = 12.8 pages */
	};

	paddr_locator_init(&loc, &e->map, &e->kpf);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		add(&l, 3 * MIB, 4 * MIB, cases[i].nr, 0);
		assert_int_equal(metric_hot_share(&l, &pat, &loc.base, 0, nodes, 2, &h), 0);
		if (h.hot_bytes[0] / 4096 != cases[i].want_pages)
			fail_msg("nr_accesses %u: %llu pages, want %llu", cases[i].nr,
				 (unsigned long long)(h.hot_bytes[0] / 4096), (unsigned long long)cases[i].want_pages);
		assert_true(h.hot_bytes[1] == 0);
		region_list_free(&l);
	}
}

/* A 4 GiB machine for the shared budget: two nodes of 16 blocks of 128 MiB,
 * memory in 2 MiB chunks of random kinds (old-kernel THPs, 4 KiB pages with
 * free ones among them, free, slab), REGIONS hot regions over all of it. The
 * truth is the test's own: it knows what it put in each page. */
#define B(n) (1ULL << (n))
#define BIG_PAGES (1u << 20)
#define BIG_REGIONS 1500

typedef struct BigEnv {
	char *root;
	Sysfs fs;
	NodeMap map;
	RegionList regions;
	double truth[2];
} BigEnv;

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 17;
}

static int big_setup(void **state)
{
	BigEnv *e = calloc(1, sizeof(*e));
	char p[128], target[64];
	uint64_t s = 12345;

	e->root = tu_mkdtemp();
	tu_write(e->root, "sys/devices/system/memory/block_size_bytes", "8000000\n");
	for (int b = 0; b < 32; b++) {
		snprintf(p, sizeof(p), "sys/devices/system/memory/memory%d/state", b);
		tu_write(e->root, p, "online\n");
		snprintf(p, sizeof(p), NODE "/node%d/memory%d", b < 16 ? 0 : 1, b);
		snprintf(target, sizeof(target), "../../memory/memory%d", b);
		tu_symlink(e->root, p, target);
	}
	tu_sysfs_open(e->root, &e->fs);
	assert_int_equal(node_map_load(&e->fs, &e->map), 0);

	uint64_t *f = calloc(BIG_PAGES, sizeof(*f));
	uint8_t *mig = calloc(BIG_PAGES, 1);
	for (size_t c = 0; c < BIG_PAGES / 512; c++) {
		uint64_t kind = lcg(&s) % 10, dens = 30 + lcg(&s) % 70;
		for (size_t i = 0; i < 512; i++) {
			size_t q = c * 512 + i;
			if (kind < 3) { /* THP, LRU on the head only */
				f[q] = (i ? B(KPF_COMPOUND_TAIL) : B(KPF_COMPOUND_HEAD) | B(KPF_LRU)) | B(22);
				mig[q] = 1;
			} else if (kind < 8) {
				bool lru = lcg(&s) % 100 < dens;
				f[q] = lru ? B(KPF_LRU) : B(KPF_BUDDY);
				mig[q] = lru;
			} else {
				f[q] = kind == 8 ? B(KPF_BUDDY) : B(KPF_SLAB);
			}
		}
	}
	tu_write_bytes(e->root, "proc/kpageflags", f, BIG_PAGES * sizeof(*f));

	/* Regions of 1-2000 pages in random order of size, all hot. */
	uint64_t at = 0;
	for (size_t i = 0; i < BIG_REGIONS && at < BIG_PAGES; i++) {
		uint64_t len = 1 + lcg(&s) % (2 * BIG_PAGES / BIG_REGIONS);
		if (i == BIG_REGIONS - 1 || at + len > BIG_PAGES)
			len = BIG_PAGES - at;
		uint32_t nr = lcg(&s) % 3 == 0 ? 20 : 5 + (uint32_t)(lcg(&s) % 15);
		add(&e->regions, at * 4096, (at + len) * 4096, nr, 1);
		uint64_t m[2] = { 0 };
		for (uint64_t q = at; q < at + len; q++)
			m[q >= BIG_PAGES / 2] += mig[q];
		double acc = (double)len * nr / 20, total = (double)(m[0] + m[1]);
		double frac = total > 0 && acc < total ? acc / total : 1;
		e->truth[0] += (double)m[0] * 4096 * frac;
		e->truth[1] += (double)m[1] * 4096 * frac;
		at += len;
	}
	free(f);
	free(mig);
	*state = e;
	return 0;
}

static int big_teardown(void **state)
{
	BigEnv *e = *state;
	region_list_free(&e->regions);
	node_map_free(&e->map);
	sysfs_close(&e->fs);
	tu_rmtree(e->root);
	free(e);
	return 0;
}

static void big_measure(BigEnv *e, uint64_t budget, uint64_t seed, HotShare *h)
{
	const HotPattern pat = { .min_nr_accesses = 5, .max_nr_accesses = 20 };
	const int nodes[] = { 0, 1 };
	PaddrLocator loc;
	Kpf kpf;

	assert_int_equal(kpageflags_open(&e->fs, seed, &kpf), 0);
	paddr_locator_init(&loc, &e->map, &kpf);
	assert_int_equal(metric_hot_share(&e->regions, &pat, &loc.base, budget, nodes, 2, h), 0);
	kpageflags_close(&kpf);
}

/* Exact with no budget, and the budget holds whatever the region count:
 * before issue 10 every piece read >= 128 entries and every region >= 1. */
static void test_budget_shared(void **state)
{
	BigEnv *e = *state;
	HotShare h;
	const double truth = e->truth[0] + e->truth[1];

	big_measure(e, 0, 1, &h);
	assert_true(h.chunks == 0);
	assert_true(fabs((double)h.hot_bytes[0] - e->truth[0]) < 4096 * (double)e->regions.n);
	assert_true(fabs((double)h.hot_bytes[1] - e->truth[1]) < 4096 * (double)e->regions.n);
	assert_true(h.err_bytes == 0);
	assert_int_equal(h.n_imputed, 0);

	/* More chunks than regions: one each at least, none imputed. */
	const uint64_t cost = KPF_SAMPLE_CHUNK + KPF_LOOKBACK_RESERVE;
	big_measure(e, 4 * BIG_REGIONS * cost, 2, &h);
	assert_true(h.pages_read <= 4 * BIG_REGIONS * cost);
	assert_true(h.pages_read >= 2 * BIG_REGIONS * KPF_SAMPLE_CHUNK);
	assert_int_equal(h.n_imputed, 0);
	assert_int_equal(h.n_regions, e->regions.n);
	assert_true(h.chunks >= BIG_REGIONS && h.chunks <= 4 * BIG_REGIONS);
	assert_true(h.err_bytes > 0);
	assert_true(fabs((double)h.total - truth) < 3.0 * (double)h.err_bytes);

	/* Fewer chunks than regions: the budget still holds, the rest are
	 * imputed from their neighbours, and the bound says it is worse. */
	uint64_t err_before = h.err_bytes;
	big_measure(e, 300 * cost, 3, &h);
	assert_true(h.pages_read <= 300 * cost);
	assert_true(h.n_imputed >= e->regions.n - 300);
	assert_true(h.err_bytes > err_before);
	assert_true(fabs((double)h.total - truth) < 3.0 * (double)h.err_bytes);
	/* A budget of one page: one chunk, everything else imputed. */
	big_measure(e, 1, 4, &h);
	assert_true(h.pages_read <= cost);
	assert_int_equal(h.n_imputed, e->regions.n - 1);
}

/* Over seeds, the estimate is unbiased (the min(accessed, migratable) cap's
 * own bias corrected) and the bound is honest: its mean within 3x of the
 * observed ~95 % error (2 * rms), and it holds the truth most of the time. */
static void test_error_bound(void **state)
{
	BigEnv *e = *state;
	enum { SEEDS = 40 };
	const double truth = e->truth[0] + e->truth[1];
	const uint64_t budgets[] = { 3 * BIG_REGIONS * 21, BIG_REGIONS * 21 / 2 };

	for (size_t b = 0; b < 2; b++) {
		double sum = 0, sum2 = 0, bound = 0, share_err = 0;
		unsigned misses = 0;
		for (uint64_t seed = 1; seed <= SEEDS; seed++) {
			HotShare h;
			big_measure(e, budgets[b], seed * 7919, &h);
			double err = (double)h.total - truth;
			sum += err;
			sum2 += err * err;
			bound += (double)h.err_bytes;
			misses += fabs(err) > (double)h.err_bytes;
			share_err = MAX(share_err, fabs(10000.0 * (double)h.hot_bytes[0] / (double)h.total -
							 10000.0 * e->truth[0] / truth));
		}
		double rms = sqrt(sum2 / SEEDS), mean = sum / SEEDS;
		bound /= SEEDS;
		print_message("budget %llu: mean err %+.1f bp, rms %.1f bp, bound %.1f bp, %u misses, share err max %.0f bp\n",
			      (unsigned long long)budgets[b], mean / truth * 1e4, rms / truth * 1e4, bound / truth * 1e4,
			      misses, share_err);
		/* The bound is within 3x of the observed ~95 % error, and any
		 * bias left is inside it. Seen: +67 bp mean error, 79 rms, bound
		 * 110 with the cap's bias corrected (-50, 64, 118 without: these
		 * regions are only 1-4 kinds of 2 MiB memory each, where the
		 * normal approximation of the correction overshoots; on the
		 * bench's 64 MiB-1 GiB regions it takes -125..-310 bp to
		 * within +-20). */
		assert_true(bound < 3 * 2 * rms && bound > 2 * rms / 3);
		assert_true(fabs(mean) < bound);
		assert_true(misses <= SEEDS / 4);
	}
}

/* measure.source = "levels": DAMON's B(>= k) per node and level (built here
 * from random regions, as a stat scheme at level k would total them) give
 * the same hot bytes as weighting each region by nr_accesses / max: exactly
 * with a level per value, within err_bytes with coarser levels. */
static void test_levels_hot(void **state)
{
	enum { MAX_NR = 20, N_REG = 3000 };
	const int nodes[] = { 0, 1 };
	uint64_t size[2][N_REG];
	uint32_t nr[2][N_REG];
	double truth[2] = { 0 };
	uint64_t region[2] = { 0 };

	srand(7);
	for (size_t t = 0; t < 2; t++)
		for (size_t i = 0; i < N_REG; i++) {
			size[t][i] = 4096ULL * (1 + rand() % 512);
			nr[t][i] = (uint32_t)(rand() % (MAX_NR + 1));
			if (nr[t][i] >= 3) { /* the hot threshold: 3 of 20 */
				truth[t] += (double)size[t][i] * nr[t][i] / MAX_NR;
				region[t] += size[t][i];
			}
		}
	const uint32_t fine[] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
	const uint32_t coarse[] = { 3, 7, 11, 15, 19 };
	const struct {
		const uint32_t *nr;
		size_t n;
	} cases[] = { { fine, sizeof(fine) / sizeof(fine[0]) }, { coarse, sizeof(coarse) / sizeof(coarse[0]) } };
	uint64_t bound[2] = { 0 };

	for (size_t c = 0; c < 2; c++) {
		uint64_t level_bytes[2 * 20] = { 0 }, level_regions[2 * 20] = { 0 };
		HotShare h;
		for (size_t t = 0; t < 2; t++)
			for (size_t j = 0; j < cases[c].n; j++)
				for (size_t i = 0; i < N_REG; i++)
					if (nr[t][i] >= cases[c].nr[j]) {
						level_bytes[t * cases[c].n + j] += size[t][i];
						level_regions[t * cases[c].n + j]++;
					}
		LevelCounts lc = { .bytes = level_bytes, .regions = level_regions, .nr = cases[c].nr,
				   .n = cases[c].n, .max_nr = MAX_NR, .passes = 10 };
		metric_levels_hot(&lc, nodes, 2, &h);
		for (size_t t = 0; t < 2; t++) {
			double err = fabs((double)h.hot_bytes[t] - truth[t]);
			assert_true(h.region_bytes[t] == region[t]);
			assert_true(h.hot_bytes[t] <= h.region_bytes[t]);
			if (c == 0)
				assert_true(err <= 1);
			else
				assert_true(err <= (double)h.err_bytes && err > 1);
		}
		/* Sampling alone bounds the fine levels; the coarse ones add
		 * where in its step each region lies. */
		bound[c] = h.err_bytes;
		assert_true(h.err_bytes > 0);
		assert_true(h.total == h.hot_bytes[0] + h.hot_bytes[1]);
		assert_int_equal(h.share_bp[0] + h.share_bp[1], 10000);
		assert_int_equal(h.node[1], 1);
	}
	assert_true(bound[1] > bound[0]);
}

/* Draws nr_accesses as DAMON's sampling of a region counts it: one page per
 * sample, accessed with probability P. */
static uint32_t draw_nr(double p, uint32_t max_nr)
{
	uint32_t nr = 0;
	for (uint32_t s = 0; s < max_nr; s++)
		nr += (double)rand() / ((double)RAND_MAX + 1) < p;
	return nr;
}

/* The levels' error bound against the regions' real accessed bytes, when
 * every pass samples each region afresh: within 3x of the observed error
 * (two sigma over many draws), and it falls with more passes. */
static void test_levels_bound(void **state)
{
	enum { MAX_NR = 20, N_REG = 400, SEEDS = 200 };
	const int nodes[] = { 0, 1 };
	uint32_t levels[MAX_NR - 2];
	uint64_t size[2][N_REG];
	double p[2][N_REG], truth = 0;
	(void)state;

	for (uint32_t j = 0; j < MAX_NR - 2; j++)
		levels[j] = 3 + j;
	srand(11);
	for (size_t t = 0; t < 2; t++)
		for (size_t i = 0; i < N_REG; i++) {
			size[t][i] = 4096ULL * (1 + rand() % 512);
			/* Hot enough that no draw falls below the threshold. */
			p[t][i] = 0.5 + 0.5 * rand() / RAND_MAX;
			truth += (double)size[t][i] * p[t][i];
		}
	const uint32_t passes_cases[] = { 1, 10 };
	double bound_mean[2];
	for (size_t pc = 0; pc < 2; pc++) {
		uint32_t passes = passes_cases[pc];
		double sq = 0, bsum = 0;
		for (int seed = 0; seed < SEEDS; seed++) {
			uint64_t bytes[2 * (MAX_NR - 2)] = { 0 }, regions[2 * (MAX_NR - 2)] = { 0 };
			for (uint32_t pass = 0; pass < passes; pass++)
				for (size_t t = 0; t < 2; t++)
					for (size_t i = 0; i < N_REG; i++) {
						uint32_t nr = draw_nr(p[t][i], MAX_NR);
						for (uint32_t j = 0; j < MAX_NR - 2 && nr >= levels[j]; j++) {
							bytes[t * (MAX_NR - 2) + j] += size[t][i];
							regions[t * (MAX_NR - 2) + j]++;
						}
					}
			for (size_t k = 0; k < 2 * (MAX_NR - 2); k++) {
				bytes[k] = (bytes[k] + passes / 2) / passes;
				regions[k] = (regions[k] + passes / 2) / passes;
			}
			LevelCounts lc = { .bytes = bytes, .regions = regions, .nr = levels, .n = MAX_NR - 2,
					   .max_nr = MAX_NR, .passes = passes };
			HotShare h;
			metric_levels_hot(&lc, nodes, 2, &h);
			double e = (double)h.total - truth;
			sq += e * e;
			bsum += (double)h.err_bytes;
		}
		double two_sigma = 2 * sqrt(sq / SEEDS);
		bound_mean[pc] = bsum / SEEDS;
		if (!(bound_mean[pc] < 3 * two_sigma && bound_mean[pc] > two_sigma / 3))
			fail_msg("%u passes: bound %.0f, observed 2 sigma %.0f", passes, bound_mean[pc], two_sigma);
	}
	/* Ten passes average ten samplings: about sqrt(10) less. */
	assert_true(bound_mean[1] * 2 < bound_mean[0]);
}

/* Counters per pass: the pulse counts the passes (2 GiB each), the others
 * grow by what they tried in them. */
static void test_levels_per_pass(void **state)
{
	(void)state;
	const uint64_t T = UINT64_C(2) << 30, M = UINT64_C(1) << 20;
	uint64_t prev[3] = { 5 * T, 100 * M, 7 }, now[3], per[3] = { 0 };

	/* Three passes: 48 MiB and 12 regions a pass. */
	memcpy(now, (uint64_t[]){ 8 * T, 244 * M, 43 }, sizeof(now));
	assert_int_equal(metric_levels_per_pass(prev, now, 3, T, per), 3);
	assert_true(per[0] == T && per[1] == 48 * M && per[2] == 12);
	/* A pass 90 pages short (6.12: tails split off by schemes before the
	 * pulse) is still one pass. */
	now[0] = 6 * T - 90 * 4096;
	assert_int_equal(metric_levels_per_pass(prev, now, 3, T, per), 1);
	assert_true(per[1] == 144 * M);
	/* No pass: nothing measured, nothing written. */
	per[1] = 1;
	memcpy(now, prev, sizeof(now));
	assert_int_equal(metric_levels_per_pass(prev, now, 3, T, per), 0);
	assert_true(per[1] == 1);
	/* Half a pass, or a counter gone back: started over. */
	now[0] = 5 * T + T / 2;
	assert_int_equal(metric_levels_per_pass(prev, now, 3, T, per), -ESTALE);
	memcpy(now, (uint64_t[]){ 6 * T, 99 * M, 9 }, sizeof(now));
	assert_int_equal(metric_levels_per_pass(prev, now, 3, T, per), -ESTALE);
	assert_int_equal(metric_levels_per_pass(prev, now, 3, 0, per), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shares),
		cmocka_unit_test(test_levels_hot),
		cmocka_unit_test(test_levels_bound),
		cmocka_unit_test(test_levels_per_pass),
		cmocka_unit_test(test_hot_share_fake),
		cmocka_unit_test(test_hot_share_weighted_fake),
		cmocka_unit_test_setup_teardown(test_hot_share_weighted_kpageflags, penv_setup, penv_teardown),
		cmocka_unit_test_setup_teardown(test_hot_share_paddr_all_bytes, penv_setup, penv_teardown),
		cmocka_unit_test_setup_teardown(test_hot_share_paddr_kpageflags, penv_setup, penv_teardown),
		cmocka_unit_test_setup_teardown(test_budget_shared, big_setup, big_teardown),
		cmocka_unit_test_setup_teardown(test_error_bound, big_setup, big_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
