/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <numaif.h>
#include <math.h>
#include <numa.h>
#include <string.h>

#include "node-locate.h"
#include "util.h"

typedef struct PieceCtx {
	PaddrLocator *l;
	uint64_t total_pages;  /* online pages of the range */
	uint64_t budget;       /* 0 = exact, NODE_LOCATE_SPAN_ONLY, else entries */
	uint64_t chunks;       /* to spread over the pieces */
	uint64_t cost;         /* entries per chunk */
	uint64_t at;           /* online pages of the pieces before this one */
	double u;              /* systematic allocation offset in [0, 1) */
	uint64_t sampled_pages, sampled_mig; /* pieces read, and their migratable pages */
	uint64_t unsampled[NODE_MAX];        /* pages of pieces that got no chunk, by node */
	NodeBytes *out;
} PieceCtx;

static int paddr_span(void *userdata, uint64_t start, uint64_t end, int node)
{
	PieceCtx *c = userdata;

	if (node < 0 || node >= NODE_MAX)
		return 0;
	uint64_t page = c->l->page_size;

	c->out->span_bytes[node] += end - start;
	c->total_pages += (end - start + page - 1) / page;
	return 0;
}

static int paddr_piece(void *userdata, uint64_t start, uint64_t end, int node)
{
	PieceCtx *c = userdata;
	uint64_t page = c->l->page_size, s = start / page, e = (end + page - 1) / page;

	if (node < 0 || node >= NODE_MAX)
		return 0;
	if (!c->l->kpf) {
		c->out->bytes[node] += end - start;
		return 0;
	}
	/* The range's chunks go to its pieces by systematic allocation: a
	 * piece of p pages gets floor or ceil of chunks * p / total, and all of
	 * them add up to the range's chunks. */
	uint64_t budget = 0, n = 0;
	if (c->budget) {
		double per = (double)c->chunks / (double)c->total_pages;
		n = (uint64_t)(floor((double)(c->at + e - s) * per + c->u) - floor((double)c->at * per + c->u));
		c->at += e - s;
		if (n == 0) {
			c->unsampled[node] += e - s;
			return 0;
		}
		budget = n * c->cost;
	}
	KpfCount k;
	int r = kpageflags_count(c->l->kpf, s, e, budget, &k);
	if (r < 0)
		return r;
	c->out->bytes[node] += k.migratable * page;
	c->out->thp_bytes += k.thp * page;
	c->out->err_bytes += k.err_pages * page;
	c->out->pages_read += k.pages_read;
	c->sampled_pages += e - s;
	c->sampled_mig += k.migratable;
	if (k.sampled) {
		c->out->chunks += k.chunks;
		/* Successive differences: memory is alike over long runs, and
		 * one chunk per stratum gains from it; the plain variance of the
		 * chunks ignored that and overstated the error 2-3x (bench/). */
		c->out->ss_frac += k.sum_d2 / 2;
		c->out->ss_dof += k.chunks - 1;
	}
	return 0;
}

static int paddr_count(NodeLocator *base, uint64_t start, uint64_t end, uint64_t budget_pages, NodeBytes *out)
{
	PaddrLocator *l = (PaddrLocator *)base;
	PieceCtx c = { .l = l, .budget = budget_pages, .out = out };
	int r;

	if (end <= start)
		return 0;
	/* First the pieces' sizes: the online pages the chunks go to. */
	r = node_map_split(l->map, start, end, paddr_span, &c);
	if (r < 0 || budget_pages == NODE_LOCATE_SPAN_ONLY || c.total_pages == 0)
		return r;
	if (budget_pages && l->kpf) {
		c.cost = kpageflags_chunk_cost(l->kpf);
		c.chunks = MAX(budget_pages / c.cost, 1u);
		c.u = (double)(kpageflags_rand(l->kpf) >> 11) / 9007199254740992.0;
		/* Cheaper to read it all than to sample it. */
		if (c.total_pages <= c.chunks * c.cost)
			c.budget = 0;
	}
	r = node_map_split(l->map, start, end, paddr_piece, &c);
	if (r < 0)
		return r;
	/* Pieces that got no chunk (a small piece of a range over several
	 * nodes, or beside a hole) take the range's measured fraction. */
	for (size_t k = 0; k < NODE_MAX; k++)
		if (c.unsampled[k] && c.sampled_pages)
			out->bytes[k] += (uint64_t)((double)c.unsampled[k] * (double)c.sampled_mig /
						    (double)c.sampled_pages + 0.5) * l->page_size;
	return 0;
}

static uint64_t paddr_chunk_cost(NodeLocator *base)
{
	return kpageflags_chunk_cost(((PaddrLocator *)base)->kpf);
}

static uint64_t paddr_rand(NodeLocator *base)
{
	return kpageflags_rand(((PaddrLocator *)base)->kpf);
}

void paddr_locator_init(PaddrLocator *l, const NodeMap *map, Kpf *kpf)
{
	*l = (PaddrLocator){ .base = { .name = "paddr", .count_range = paddr_count },
			     .map = map,
			     .kpf = kpf,
			     .page_size = system_page_size() };
	l->base.data = l;
	if (kpf) {
		l->base.chunk_cost = paddr_chunk_cost;
		l->base.rand = paddr_rand;
	}
}

#define VADDR_BATCH 1024

static int vaddr_count(NodeLocator *base, uint64_t start, uint64_t end, uint64_t budget_pages, NodeBytes *out)
{
	VaddrLocator *l = (VaddrLocator *)base;
	void *pages[VADDR_BATCH];
	int status[VADDR_BATCH];
	uint64_t page = l->page_size;

	start &= ~(page - 1);
	if (end <= start)
		return 0;
	uint64_t npages = (end - start + page - 1) / page;
	/* Over budget: query every stride-th page and let it stand for the
	 * pages between. */
	uint64_t stride = (budget_pages && npages > budget_pages) ? (npages + budget_pages - 1) / budget_pages : 1;

	for (uint64_t i = 0; i < npages;) {
		unsigned long cnt = 0;
		for (; cnt < VADDR_BATCH && i < npages; i += stride)
			pages[cnt++] = (void *)(uintptr_t)(start + i * page);
		/* nodes = NULL: report each page's node in status[], move nothing. */
		long r = numa_move_pages(l->pid, cnt, pages, NULL, status, 0);
		if (r < 0)
			return -errno;
		out->pages_read += cnt;
		for (unsigned long j = 0; j < cnt; j++)
			if (status[j] >= 0 && status[j] < NODE_MAX)
				out->bytes[status[j]] += page * stride;
	}
	return 0;
}

void vaddr_locator_init(VaddrLocator *l, pid_t pid)
{
	*l = (VaddrLocator){ .base = { .name = "vaddr", .count_range = vaddr_count },
			     .pid = pid,
			     .page_size = system_page_size() };
	l->base.data = l;
}
