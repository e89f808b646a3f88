/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <math.h>
#include <string.h>

#include "metric.h"
#include "util.h"

void metric_shares_bp(const uint64_t *bytes, size_t n, uint32_t *ret_bp)
{
	unsigned __int128 total = 0;
	uint64_t rem[CONFIG_MAX_TIERS] = { 0 };
	uint32_t sum = 0;

	for (size_t i = 0; i < n; i++)
		total += bytes[i];
	if (total == 0) {
		memset(ret_bp, 0, n * sizeof(*ret_bp));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned __int128 x = (unsigned __int128)bytes[i] * 10000;
		ret_bp[i] = (uint32_t)(x / total);
		rem[i] = (uint64_t)(x % total);
		sum += ret_bp[i];
	}
	/* Hand the rounding leftovers to the largest remainders. */
	while (sum < 10000) {
		size_t best = 0;
		for (size_t i = 1; i < n; i++)
			if (rem[i] > rem[best])
				best = i;
		ret_bp[best]++;
		rem[best] = 0;
		sum++;
	}
}

static bool region_matches(const Region *r, const HotPattern *p)
{
	return r->nr_accesses >= p->min_nr_accesses && r->age >= p->min_age && r->end > r->start;
}

/* The share of R's migratable bytes that counts as hot: the bytes DAMON saw
 * accessed (a fraction p = nr_accesses / max of the region), at most all of
 * them. Returned as a fraction NUM / DEN of MIGRATABLE.
 *
 * p is a count of max samples, so it is noisy (sd sqrt(p(1-p)/max): 0.11 at
 * p = 0.5 of 20), and capping a noisy value at "all" biases it low: a region
 * whose migratable pages are all hot, among free frames that migrations left
 * behind, read 1.5 MiB short of 28 MiB on 6.12 with THP, putting the other
 * node 2 points above the workload's own report. So a region counts whole
 * whenever its samples do not show, at about 95 % (p + 2 sd), that part of
 * its migratable memory is cold. */
static void region_hot_fraction(const Region *r, const HotPattern *p, uint64_t migratable, uint64_t *ret_num,
				uint64_t *ret_den)
{
	*ret_num = *ret_den = 1;
	if (!p->max_nr_accesses || r->nr_accesses >= p->max_nr_accesses || migratable == 0)
		return;
	double size = (double)(r->end - r->start), pa = (double)r->nr_accesses / p->max_nr_accesses;
	double upper = pa + 2 * sqrt(pa * (1 - pa) / p->max_nr_accesses);
	if (size * upper >= (double)migratable)
		return;
	*ret_num = (uint64_t)(size * pa);
	*ret_den = migratable;
}

static uint64_t scale(uint64_t v, uint64_t num, uint64_t den)
{
	return (uint64_t)((unsigned __int128)v * num / den);
}

int metric_hot_share(const RegionList *regions, const HotPattern *pattern, NodeLocator *loc,
		     uint64_t budget_pages, const int *nodes, size_t n_nodes, HotShare *ret)
{
	HotShare h = { .n = n_nodes };
	uint64_t eligible_pages = 0;
	double err2 = 0;

	if (n_nodes > CONFIG_MAX_TIERS)
		return -EINVAL;
	for (size_t i = 0; i < regions->n; i++)
		if (region_matches(&regions->v[i], pattern))
			eligible_pages += (regions->v[i].end - regions->v[i].start) / 4096;
	for (size_t i = 0; i < regions->n; i++) {
		const Region *r = &regions->v[i];
		NodeBytes nb;
		uint64_t b = 0, migratable = 0, num, den;

		if (!region_matches(r, pattern))
			continue;
		if (budget_pages && eligible_pages > budget_pages)
			b = MAX(budget_pages * ((r->end - r->start) / 4096) / eligible_pages, 1u);
		memset(&nb, 0, sizeof(nb));
		int err = node_locate_count(loc, r->start, r->end, b, &nb);
		if (err < 0)
			return err;
		for (size_t k = 0; k < NODE_MAX; k++)
			migratable += nb.bytes[k];
		region_hot_fraction(r, pattern, migratable, &num, &den);
		for (size_t t = 0; t < n_nodes; t++)
			if (nodes[t] >= 0 && nodes[t] < NODE_MAX)
				h.hot_bytes[t] += scale(nb.bytes[nodes[t]], num, den);
		/* Regions are sampled independently: their errors add in
		 * quadrature. */
		double e = (double)scale(nb.err_bytes, num, den);
		err2 += e * e;
		h.pages_read += nb.pages_read;
		h.n_regions++;
	}
	for (size_t i = 0; i < n_nodes; i++) {
		h.node[i] = nodes[i];
		h.total += h.hot_bytes[i];
	}
	metric_shares_bp(h.hot_bytes, n_nodes, h.share_bp);
	h.err_bytes = (uint64_t)ceil(sqrt(err2));
	*ret = h;
	return 0;
}
