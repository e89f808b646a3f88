/* SPDX-License-Identifier: GPL-2.0-or-later */
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

int metric_hot_share(const RegionList *regions, const HotPattern *pattern, NodeLocator *loc,
		     uint64_t budget_pages, const int *nodes, size_t n_nodes, HotShare *ret)
{
	NodeBytes nb;
	HotShare h = { .n = n_nodes };
	uint64_t eligible_pages = 0;

	if (n_nodes > CONFIG_MAX_TIERS)
		return -EINVAL;
	memset(&nb, 0, sizeof(nb));
	for (size_t i = 0; i < regions->n; i++) {
		const Region *r = &regions->v[i];
		if (r->nr_accesses >= pattern->min_nr_accesses && r->age >= pattern->min_age && r->end > r->start)
			eligible_pages += (r->end - r->start) / 4096;
	}
	for (size_t i = 0; i < regions->n; i++) {
		const Region *r = &regions->v[i];
		if (r->nr_accesses < pattern->min_nr_accesses || r->age < pattern->min_age || r->end <= r->start)
			continue;
		uint64_t b = 0;
		if (budget_pages && eligible_pages > budget_pages)
			b = MAX(budget_pages * ((r->end - r->start) / 4096) / eligible_pages, 1u);
		int err = node_locate_count(loc, r->start, r->end, b, &nb);
		if (err < 0)
			return err;
		h.n_regions++;
	}
	for (size_t i = 0; i < n_nodes; i++) {
		h.node[i] = nodes[i];
		if (nodes[i] >= 0 && nodes[i] < NODE_MAX)
			h.hot_bytes[i] = nb.bytes[nodes[i]];
		h.total += h.hot_bytes[i];
	}
	metric_shares_bp(h.hot_bytes, n_nodes, h.share_bp);
	h.err_bytes = nb.err_bytes;
	h.pages_read = nb.pages_read;
	*ret = h;
	return 0;
}
