/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <numaif.h>
#include <numa.h>
#include <string.h>

#include "node-locate.h"
#include "util.h"

#define PAGE_SZ 4096ULL

typedef struct PieceCtx {
	PaddrLocator *l;
	uint64_t total_pages;
	uint64_t budget;
	NodeBytes *out;
} PieceCtx;

static int paddr_piece(void *userdata, uint64_t start, uint64_t end, int node)
{
	PieceCtx *c = userdata;
	uint64_t s = start / PAGE_SZ, e = (end + PAGE_SZ - 1) / PAGE_SZ;

	if (node < 0 || node >= NODE_MAX)
		return 0;
	if (!c->l->kpf) {
		c->out->bytes[node] += end - start;
		return 0;
	}
	/* Share the budget among the pieces by size. */
	uint64_t budget = 0;
	if (c->budget)
		budget = MAX(c->budget * (e - s) / MAX(c->total_pages, 1u), (uint64_t)KPF_SAMPLE_CHUNK * 2);
	KpfCount k;
	int r = kpageflags_count(c->l->kpf, s, e, budget, &k);
	if (r < 0)
		return r;
	c->out->bytes[node] += k.migratable * PAGE_SZ;
	c->out->err_bytes += k.err_pages * PAGE_SZ;
	c->out->pages_read += k.pages_read;
	return 0;
}

static int paddr_count(NodeLocator *base, uint64_t start, uint64_t end, uint64_t budget_pages, NodeBytes *out)
{
	PaddrLocator *l = (PaddrLocator *)base;
	PieceCtx c = { .l = l, .total_pages = (end - start) / PAGE_SZ, .budget = budget_pages, .out = out };

	if (end <= start)
		return 0;
	return node_map_split(l->map, start, end, paddr_piece, &c);
}

void paddr_locator_init(PaddrLocator *l, const NodeMap *map, Kpf *kpf)
{
	*l = (PaddrLocator){ .base = { .name = "paddr", .count_range = paddr_count }, .map = map, .kpf = kpf };
	l->base.data = l;
}

#define VADDR_BATCH 1024

static int vaddr_count(NodeLocator *base, uint64_t start, uint64_t end, uint64_t budget_pages, NodeBytes *out)
{
	VaddrLocator *l = (VaddrLocator *)base;
	void *pages[VADDR_BATCH];
	int status[VADDR_BATCH];

	start &= ~(PAGE_SZ - 1);
	if (end <= start)
		return 0;
	uint64_t npages = (end - start + PAGE_SZ - 1) / PAGE_SZ;
	/* Over budget: query every stride-th page and let it stand for the
	 * pages between. */
	uint64_t stride = (budget_pages && npages > budget_pages) ? (npages + budget_pages - 1) / budget_pages : 1;

	for (uint64_t i = 0; i < npages;) {
		unsigned long cnt = 0;
		for (; cnt < VADDR_BATCH && i < npages; i += stride)
			pages[cnt++] = (void *)(uintptr_t)(start + i * PAGE_SZ);
		/* nodes = NULL: report each page's node in status[], move nothing. */
		long r = numa_move_pages(l->pid, cnt, pages, NULL, status, 0);
		if (r < 0)
			return -errno;
		out->pages_read += cnt;
		for (unsigned long j = 0; j < cnt; j++)
			if (status[j] >= 0 && status[j] < NODE_MAX)
				out->bytes[status[j]] += PAGE_SZ * stride;
	}
	return 0;
}

void vaddr_locator_init(VaddrLocator *l, pid_t pid)
{
	*l = (VaddrLocator){ .base = { .name = "vaddr", .count_range = vaddr_count }, .pid = pid };
	l->base.data = l;
}
