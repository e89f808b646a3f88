/* SPDX-License-Identifier: GPL-2.0-or-later */
/* node-locate.c, virtual-address side: move_pages(2) with nodes = NULL on
 * this test's own memory. Skipped (exit 77) where libnuma says there is no
 * NUMA or move_pages is not allowed (containers, seccomp). The physical
 * side (PaddrLocator) is covered by test-metric.c, apart from its page
 * size, here. */
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "node-locate.h"
#include "test-util.h"
#include "util.h"

#define NPAGES 256

static bool usable;
static long page;

static uint64_t total(const NodeBytes *nb)
{
	uint64_t t = 0;
	for (int i = 0; i < NODE_MAX; i++)
		t += nb->bytes[i];
	return t;
}

/* The node this process's memory lands on (the only node on a one-node
 * host; with several, wherever the kernel placed the first page). */
static int node_of(void *p)
{
	int status = -1;
	void *pages[1] = { p };
	assert_int_equal(numa_move_pages(0, 1, pages, NULL, &status, 0), 0);
	return status;
}

static char *map_half_faulted(void)
{
	char *m = mmap(NULL, NPAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	/* 4 KiB pages only: a THP would fault in all of them at once. */
	(void)madvise(m, NPAGES * page, MADV_NOHUGEPAGE);
	/* Fault in the first half by writing (a read maps the shared zero
	 * page, which is on no node). */
	for (int i = 0; i < NPAGES / 2; i++)
		m[(size_t)i * page] = 1;
	return m;
}

static void test_faulted_half(void **state)
{
	if (!usable)
		skip();
	VaddrLocator loc;
	NodeBytes nb;
	char *m = map_half_faulted();
	uint64_t start = (uint64_t)(uintptr_t)m, end = start + NPAGES * page;
	int node = node_of(m);

	assert_true(node >= 0 && node < NODE_MAX);
	if (numa_max_node() == 0)
		assert_int_equal(node, 0);

	vaddr_locator_init(&loc, 0);
	assert_string_equal(loc.base.name, "vaddr");
	memset(&nb, 0, sizeof(nb));
	assert_int_equal(node_locate_count(&loc.base, start, end, 0, &nb), 0);
	/* Exactly the faulted half, all on one node; the rest on none. */
	assert_true(total(&nb) == (uint64_t)NPAGES / 2 * page);
	if (numa_max_node() == 0)
		assert_true(nb.bytes[0] == (uint64_t)NPAGES / 2 * page);
	assert_true(nb.pages_read == NPAGES);
	assert_true(nb.err_bytes == 0);

	/* Adds to what is there (regions accumulate). */
	assert_int_equal(node_locate_count(&loc.base, start, start + 10 * page, 0, &nb), 0);
	assert_true(total(&nb) == (uint64_t)(NPAGES / 2 + 10) * page);

	/* Only the unfaulted half: nothing. An unaligned start is rounded
	 * down to its page. */
	memset(&nb, 0, sizeof(nb));
	assert_int_equal(node_locate_count(&loc.base, start + NPAGES / 2 * page + 100, end, 0, &nb), 0);
	assert_true(total(&nb) == 0);
	memset(&nb, 0, sizeof(nb));
	assert_int_equal(node_locate_count(&loc.base, start + 100, start + page, 0, &nb), 0);
	assert_true(total(&nb) == (uint64_t)page);
	/* Empty range. */
	memset(&nb, 0, sizeof(nb));
	assert_int_equal(node_locate_count(&loc.base, end, end, 0, &nb), 0);
	assert_true(nb.pages_read == 0);

	/* pid = getpid() is the same process. */
	vaddr_locator_init(&loc, getpid());
	memset(&nb, 0, sizeof(nb));
	assert_int_equal(node_locate_count(&loc.base, start, end, 0, &nb), 0);
	assert_true(total(&nb) == (uint64_t)NPAGES / 2 * page);
	munmap(m, NPAGES * page);
}

static void test_budget_stride(void **state)
{
	if (!usable)
		skip();
	VaddrLocator loc;
	NodeBytes nb;
	char *m = map_half_faulted();
	uint64_t start = (uint64_t)(uintptr_t)m, end = start + NPAGES * page;

	vaddr_locator_init(&loc, 0);
	/* Budget 16 of 256 pages: every 16th page stands for 16. The
	 * faulted half is contiguous, so the estimate is exact here. */
	memset(&nb, 0, sizeof(nb));
	assert_int_equal(node_locate_count(&loc.base, start, end, 16, &nb), 0);
	assert_true(nb.pages_read <= 16);
	assert_true(total(&nb) == (uint64_t)NPAGES / 2 * page);

	/* A budget that does not divide the range: within a stride of the
	 * truth, reading no more than the budget. */
	for (uint64_t budget = 3; budget < 200; budget += 7) {
		memset(&nb, 0, sizeof(nb));
		assert_int_equal(node_locate_count(&loc.base, start, end, budget, &nb), 0);
		uint64_t stride = (NPAGES + budget - 1) / budget;
		assert_true(nb.pages_read <= budget);
		int64_t diff = (int64_t)total(&nb) - (int64_t)(NPAGES / 2 * page);
		if (llabs(diff) > (long long)(stride * page))
			fail_msg("budget %llu: %lld bytes off, stride %llu pages", (unsigned long long)budget,
				 (long long)diff, (unsigned long long)stride);
	}

	/* More pages than one move_pages batch (1024): batches add up. */
	size_t big = 3000;
	char *b = mmap(NULL, big * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(b != MAP_FAILED);
	(void)madvise(b, big * page, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < big; i += 3)
		b[i * page] = 1;
	memset(&nb, 0, sizeof(nb));
	assert_int_equal(node_locate_count(&loc.base, (uintptr_t)b, (uintptr_t)b + big * page, 0, &nb), 0);
	assert_true(total(&nb) == big / 3 * (uint64_t)page);
	assert_true(nb.pages_read == big);
	munmap(b, big * page);
	munmap(m, NPAGES * page);
}

static void test_errors(void **state)
{
	if (!usable)
		skip();
	VaddrLocator loc;
	NodeBytes nb;
	char *m = map_half_faulted();

	/* No such process. */
	vaddr_locator_init(&loc, 0x3fffffff);
	memset(&nb, 0, sizeof(nb));
	assert_int_equal(node_locate_count(&loc.base, (uintptr_t)m, (uintptr_t)m + page, 0, &nb), -ESRCH);
	/* Unmapped addresses are not an error: they are on no node. */
	vaddr_locator_init(&loc, 0);
	munmap(m, NPAGES * page);
	memset(&nb, 0, sizeof(nb));
	assert_int_equal(node_locate_count(&loc.base, (uintptr_t)m, (uintptr_t)m + NPAGES * page, 0, &nb), 0);
	assert_true(total(&nb) == 0);
}

/* Both locators count in the system's pages; PaddrLocator's pfns (one
 * kpageflags entry each) follow page_size, here 64 KiB as on ppc64 or
 * arm64 with 64 KiB pages. */
static void test_page_size(void **state)
{
	(void)state;
	PaddrLocator pl;
	VaddrLocator vl;
	NodeMap map;
	Kpf kpf;
	Sysfs fs;
	NodeBytes nb = { 0 };
	char *root = tu_mkdtemp();
	const uint64_t mib = 1 << 20, pg = 65536, per_block = mib / pg;

	vaddr_locator_init(&vl, 0);
	assert_true(vl.page_size == (uint64_t)page);
	assert_true(system_page_size() == (uint64_t)page);

	/* Two 1 MiB blocks: block 0 on node 0, block 1 on node 1. */
	tu_write(root, "sys/devices/system/memory/block_size_bytes", "100000\n");
	for (int b = 0; b < 2; b++) {
		char rel[128], target[64];
		snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%d/state", b);
		tu_write(root, rel, "online\n");
		snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/memory%d", b, b);
		snprintf(target, sizeof(target), "../../memory/memory%d", b);
		tu_symlink(root, rel, target);
	}
	/* 16 entries per block: node 0 all LRU, node 1 its first half. */
	uint64_t flags[32];
	for (size_t i = 0; i < ELEMENTSOF(flags); i++)
		flags[i] = i < per_block * 3 / 2 ? 1ULL << KPF_LRU : 1ULL << KPF_BUDDY;
	tu_write_bytes(root, "proc/kpageflags", flags, sizeof(flags));
	tu_sysfs_open(root, &fs);
	assert_int_equal(node_map_load(&fs, &map), 0);
	assert_int_equal(kpageflags_open(&fs, 1, &kpf), 0);

	paddr_locator_init(&pl, &map, &kpf);
	assert_true(pl.page_size == (uint64_t)page);
	pl.page_size = pg;
	assert_int_equal(node_locate_count(&pl.base, 0, 2 * mib, 0, &nb), 0);
	assert_true(nb.bytes[0] == mib);
	assert_true(nb.bytes[1] == mib / 2);
	assert_true(nb.pages_read == 2 * per_block);
	/* A range that ends inside a page counts that page. */
	memset(&nb, 0, sizeof(nb));
	assert_int_equal(node_locate_count(&pl.base, mib, mib + 1, 0, &nb), 0);
	assert_true(nb.bytes[1] == pg);

	kpageflags_close(&kpf);
	node_map_free(&map);
	sysfs_close(&fs);
	tu_rmtree(root);
}

int main(void)
{
	page = sysconf(_SC_PAGESIZE);
	if (numa_available() < 0) {
		fprintf(stderr, "libnuma: no NUMA support here, skipping\n");
	} else {
		/* move_pages may be filtered (seccomp) or unimplemented. */
		int status = -1;
		void *p = malloc((size_t)page);
		memset(p, 1, (size_t)page);
		void *pages[1] = { (void *)((uintptr_t)p & ~((uintptr_t)page - 1)) };
		if (numa_move_pages(0, 1, pages, NULL, &status, 0) < 0)
			fprintf(stderr, "move_pages: %s, skipping\n", strerror(errno));
		else
			usable = true;
		free(p);
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_faulted_half),
		cmocka_unit_test(test_budget_stride),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_page_size),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	return usable || r ? r : 77;
}
