/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
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
 * accessed (a fraction nr_accesses / max of the region), at most all of them.
 * Returned as a fraction NUM / DEN of MIGRATABLE. */
static void region_hot_fraction(const Region *r, const HotPattern *p, uint64_t migratable, uint64_t *ret_num,
				uint64_t *ret_den)
{
	unsigned __int128 accessed;

	*ret_num = *ret_den = 1;
	if (!p->max_nr_accesses || r->nr_accesses >= p->max_nr_accesses || migratable == 0)
		return;
	accessed = (unsigned __int128)(r->end - r->start) * r->nr_accesses / p->max_nr_accesses;
	if (accessed < migratable) {
		*ret_num = (uint64_t)accessed;
		*ret_den = migratable;
	}
}

static uint64_t scale(uint64_t v, uint64_t num, uint64_t den)
{
	return (uint64_t)((unsigned __int128)v * num / den);
}

/* Standard normal cumulative distribution. */
static double phi_cdf(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

/* One eligible region, while a shared budget is spread over all of them. */
typedef struct RegionEst {
	uint64_t span;                     /* online bytes */
	uint64_t mig;                      /* migratable bytes, all nodes (estimate) */
	uint64_t span_t[CONFIG_MAX_TIERS]; /* online bytes on each tier node */
	uint64_t mig_t[CONFIG_MAX_TIERS];  /* migratable bytes on each tier node */
	uint64_t thp;                      /* of mig, in THP (measured regions only) */
	uint64_t chunks;
	enum { EST_EXACT, EST_SAMPLED, EST_IMPUTED } kind;
} RegionEst;

/* Chunks for a region of LEN pages at cumulative position AT of TOTAL, K in
 * all: systematic allocation (floor or ceil of K * len / total, adding up to
 * K), offset U in [0, 1). */
static uint64_t alloc_chunks(uint64_t at, uint64_t len, uint64_t total, uint64_t k, double u)
{
	double per = (double)k / (double)total;
	return (uint64_t)(floor((double)(at + len) * per + u) - floor((double)at * per + u));
}

/* The budgeted path, for locators that sample by chunks (paddr with
 * kpageflags), when the budget is below the eligible pages. The budget is
 * spread as K = budget / chunk cost chunks over all eligible regions by size:
 * one each first when K allows, the rest (or all, when there are more
 * regions than chunks) by systematic allocation. A region that gets no chunk
 * takes the migratable share of the nearest measured region before it (or
 * after it). Before issue 10 every node piece read at least 128 pages and
 * every region at least one, so 8 192 regions read >= 1.05 M entries
 * whatever the budget.
 *
 * The error bound: each region's migratable share is estimated with variance
 * s2 / n * (1 - n * chunk / pages) (s2 the chunk fractions' variance within
 * pieces from successive differences, pooled over all regions), and an
 * imputed one with D (the mean squared difference between neighbouring
 * measured regions' shares, which holds their sampling noise too). A region contributes min(accessed,
 * migratable) bytes, which moves with the migratable estimate only where the
 * cap binds: its variance is weighted by P(cap binds) = Phi((accessed -
 * migratable) / sigma) squared (the delta method on E[min(a, X)]). Regions
 * are sampled independently: the variances add. err_bytes is 2 sigma. */
static int hot_share_budgeted(const RegionList *regions, const HotPattern *pattern, NodeLocator *loc,
			      uint64_t budget_pages, uint64_t eligible_pages, size_t n_eligible, const int *nodes,
			      size_t n_nodes, HotShare *h)
{
	_cleanup_free_ RegionEst *est = calloc(MAX(n_eligible, 1u), sizeof(*est));
	const uint64_t page = system_page_size(); /* the unit of the budget */
	uint64_t cost = MAX(loc->chunk_cost(loc), 1u), k = MAX(budget_pages / cost, 1u), at = 0;
	double u = loc->rand ? (double)(loc->rand(loc) >> 11) / 9007199254740992.0 : 0.5;
	double ss = 0;
	uint64_t dof = 0;
	size_t j = 0;

	if (!est)
		return -ENOMEM;
	bool one_each = k >= n_eligible;
	uint64_t spread = one_each ? k - n_eligible : k;
	for (size_t i = 0; i < regions->n; i++) {
		const Region *r = &regions->v[i];
		if (!region_matches(r, pattern))
			continue;
		uint64_t len = (r->end - r->start) / page;
		uint64_t n = alloc_chunks(at, len, eligible_pages, spread, u) + one_each;
		NodeBytes nb;
		at += len;
		memset(&nb, 0, sizeof(nb));
		int err = node_locate_count(loc, r->start, r->end, n ? n * cost : NODE_LOCATE_SPAN_ONLY, &nb);
		if (err < 0)
			return err;
		RegionEst *e = &est[j++];
		for (size_t q = 0; q < NODE_MAX; q++) {
			e->span += nb.span_bytes[q];
			e->mig += nb.bytes[q];
		}
		for (size_t t = 0; t < n_nodes; t++)
			if (nodes[t] >= 0 && nodes[t] < NODE_MAX) {
				e->span_t[t] = nb.span_bytes[nodes[t]];
				e->mig_t[t] = nb.bytes[nodes[t]];
			}
		e->chunks = nb.chunks;
		e->thp = MIN(nb.thp_bytes, e->mig);
		e->kind = n == 0 ? EST_IMPUTED : nb.chunks ? EST_SAMPLED : EST_EXACT;
		ss += nb.ss_frac;
		dof += nb.ss_dof;
		h->pages_read += nb.pages_read;
		h->chunks += nb.chunks;
	}

	/* D: neighbouring measured regions' shares, squared differences. */
	double d_sum = 0, prev_m = -1;
	uint64_t d_n = 0;
	for (size_t i = 0; i < j; i++) {
		if (est[i].kind == EST_IMPUTED || est[i].span == 0)
			continue;
		double m = (double)est[i].mig / (double)est[i].span;
		if (prev_m >= 0) {
			d_sum += (m - prev_m) * (m - prev_m);
			d_n++;
		}
		prev_m = m;
	}
	/* With nothing to judge by: the largest variance of a share. */
	double dvar = d_n ? d_sum / (double)d_n : 0.25;
	double s2 = dof ? ss / (double)dof : dvar;

	/* Impute, then count. */
	double share = -1, err2 = 0;
	for (size_t i = 0; i < j; i++)
		if (est[i].kind != EST_IMPUTED && est[i].span) {
			share = (double)est[i].mig / (double)est[i].span;
			break;
		}
	for (size_t i = 0, ri = 0; i < regions->n; i++) {
		const Region *r = &regions->v[i];
		if (!region_matches(r, pattern))
			continue;
		RegionEst *e = &est[ri++];
		double var = 0;
		if (e->kind == EST_IMPUTED) {
			double m = share >= 0 ? share : 0;
			e->mig = (uint64_t)((double)e->span * m + 0.5);
			for (size_t t = 0; t < n_nodes; t++)
				e->mig_t[t] = (uint64_t)((double)e->span_t[t] * m + 0.5);
			var = dvar;
			h->n_imputed++;
		} else if (e->span) {
			share = (double)e->mig / (double)e->span;
			if (e->kind == EST_SAMPLED) {
				double f = (double)(e->chunks * KPF_SAMPLE_CHUNK) / ((double)e->span / (double)page);
				/* A share in [0, 1] with mean m spreads at most
				 * m (1 - m): a region all THP or all free has none,
				 * whatever the pool says (the bias correction below
				 * overshot 2.6x on such regions without this). */
				double s2r = MIN(s2, share * (1 - share));
				var = s2r / (double)e->chunks * MAX(1 - f, 0.0);
			}
		}
		uint64_t num, den;
		region_hot_fraction(r, pattern, e->mig, &num, &den);
		for (size_t t = 0; t < n_nodes; t++) {
			h->hot_bytes[t] += scale(e->mig_t[t], num, den);
			h->region_bytes[t] += e->mig_t[t];
		}
		h->thp_bytes += scale(e->thp, num, den);
		if (var > 0) {
			double sigma = sqrt(var) * (double)e->span, g = 1;
			if (pattern->max_nr_accesses && r->nr_accesses < pattern->max_nr_accesses && e->mig) {
				double acc = (double)(r->end - r->start) * r->nr_accesses / pattern->max_nr_accesses;
				double d = (acc - (double)e->mig) / sigma;
				g = phi_cdf(d);
				/* min(accessed, estimate) is low on average where the
				 * cap is near: for X ~ N(m, sigma^2), E[min(a, X)] =
				 * min(a, m) - sigma * (phi(d) - |d| * Phi(-|d|)),
				 * d = (a - m) / sigma. Measured on the bench: -70 to
				 * -310 bp of the total at 8 192 regions without this
				 * (before issue 10 too). Add back the expected gap at
				 * the estimate, split like the region's bytes. */
				double ad = fabs(d);
				double corr = sigma * (exp(-ad * ad / 2) / sqrt(2 * M_PI) - ad * phi_cdf(-ad));
				for (size_t t = 0; t < n_nodes; t++)
					h->hot_bytes[t] += (uint64_t)(corr * (double)e->mig_t[t] / (double)e->mig + 0.5);
			}
			err2 += g * g * sigma * sigma;
		}
		h->n_regions++;
	}
	h->err_bytes = (uint64_t)ceil(2 * sqrt(err2));
	return 0;
}

int metric_hot_share(const RegionList *regions, const HotPattern *pattern, NodeLocator *loc,
		     uint64_t budget_pages, const int *nodes, size_t n_nodes, HotShare *ret)
{
	HotShare h = { .n = n_nodes };
	const uint64_t page = system_page_size(); /* the unit of the budget */
	uint64_t eligible_pages = 0;
	size_t n_eligible = 0;
	double err2 = 0;

	if (n_nodes > CONFIG_MAX_TIERS)
		return -EINVAL;
	for (size_t i = 0; i < regions->n; i++)
		if (region_matches(&regions->v[i], pattern)) {
			eligible_pages += (regions->v[i].end - regions->v[i].start) / page;
			n_eligible++;
		}
	if (loc->chunk_cost && budget_pages && eligible_pages > budget_pages) {
		int err = hot_share_budgeted(regions, pattern, loc, budget_pages, eligible_pages, n_eligible, nodes,
					     n_nodes, &h);
		if (err < 0)
			return err;
		goto done;
	}
	for (size_t i = 0; i < regions->n; i++) {
		const Region *r = &regions->v[i];
		NodeBytes nb;
		uint64_t b = 0, migratable = 0, num, den;

		if (!region_matches(r, pattern))
			continue;
		if (budget_pages && eligible_pages > budget_pages)
			b = MAX(budget_pages * ((r->end - r->start) / page) / eligible_pages, 1u);
		memset(&nb, 0, sizeof(nb));
		int err = node_locate_count(loc, r->start, r->end, b, &nb);
		if (err < 0)
			return err;
		for (size_t k = 0; k < NODE_MAX; k++)
			migratable += nb.bytes[k];
		region_hot_fraction(r, pattern, migratable, &num, &den);
		for (size_t t = 0; t < n_nodes; t++)
			if (nodes[t] >= 0 && nodes[t] < NODE_MAX) {
				h.hot_bytes[t] += scale(nb.bytes[nodes[t]], num, den);
				h.region_bytes[t] += nb.bytes[nodes[t]];
			}
		h.thp_bytes += scale(MIN(nb.thp_bytes, migratable), num, den);
		/* Regions are sampled independently: their errors add in
		 * quadrature. */
		double e = (double)scale(nb.err_bytes, num, den);
		err2 += e * e;
		h.pages_read += nb.pages_read;
		h.n_regions++;
	}
	h.err_bytes = (uint64_t)ceil(sqrt(err2));
done:
	for (size_t i = 0; i < n_nodes; i++) {
		h.node[i] = nodes[i];
		h.total += h.hot_bytes[i];
	}
	metric_shares_bp(h.hot_bytes, n_nodes, h.share_bp);
	*ret = h;
	return 0;
}

/* The count given to a region whose nr_accesses lies in level J's step
 * [LEVEL_NR[J], next level): the middle of the step, at most MAX_NR. */
static double level_value(const uint32_t *level_nr, size_t n_levels, uint32_t max_nr, size_t j)
{
	uint32_t next = j + 1 < n_levels ? level_nr[j + 1] : max_nr + 1;
	return MIN(((double)level_nr[j] + (double)next - 1) / 2, (double)max_nr);
}

/* The variance of the hot bytes that BYTES in COUNT regions, all with
 * nr_accesses in [LO, HI] counted as VALUE, contribute: each region's
 * accessed fraction is sampled as Binomial(max_nr, p) / max_nr in every
 * pass (variance p (1 - p) / max_nr, the mean of PASSES of them), and where
 * the step spans several values the region's lies anywhere in it (uniform:
 * (w^2 - 1) / 12). A region of size s adds s^2 times those: the regions'
 * sizes are not read, so equal sizes stand in, bytes^2 / count, which is
 * low where sizes vary (2.1x for the bench's log-uniform sizes). */
static double level_step_var(uint64_t bytes, uint64_t count, double value, uint32_t lo, uint32_t hi,
			     const LevelCounts *lc)
{
	double p = value / lc->max_nr, w = (double)(hi - lo + 1);
	double per_region = p * (1 - p) / lc->max_nr / MAX(lc->passes, 1u) + (w * w - 1) / 12 / lc->max_nr / lc->max_nr;
	return (double)bytes * (double)bytes / (double)MAX(count, 1u) * per_region;
}

void metric_levels_hot(const LevelCounts *lc, const int *nodes, size_t n_nodes, HotShare *ret)
{
	HotShare h = { .n = n_nodes };
	const size_t n = lc->n;
	double var = 0;

	for (size_t t = 0; t < n_nodes && n && lc->max_nr; t++) {
		const uint64_t *b = &lc->bytes[t * n], *c = &lc->regions[t * n];
		double hot = 0, prev = 0;
		for (size_t j = 0; j < n; j++) {
			/* B(>= level j) counts every region at or above it:
			 * each level adds its value's step over the last. */
			double v = level_value(lc->nr, n, lc->max_nr, j);
			uint64_t in_step = b[j] - MIN(b[j], j + 1 < n ? b[j + 1] : 0);
			uint64_t regions = c[j] - MIN(c[j], j + 1 < n ? c[j + 1] : 0);
			uint32_t next = j + 1 < n ? lc->nr[j + 1] : lc->max_nr + 1;
			hot += (double)b[j] * (v - prev);
			var += level_step_var(in_step, regions, v, lc->nr[j], next - 1, lc);
			prev = v;
		}
		h.region_bytes[t] = b[0];
		h.hot_bytes[t] = MIN((uint64_t)(hot / lc->max_nr + 0.5), b[0]);
		h.total += h.hot_bytes[t];
	}
	for (size_t t = 0; t < n_nodes; t++)
		h.node[t] = nodes[t];
	h.err_bytes = (uint64_t)ceil(2 * sqrt(var));
	metric_shares_bp(h.hot_bytes, n_nodes, h.share_bp);
	*ret = h;
}

int metric_levels_per_pass(const uint64_t *prev, const uint64_t *now, size_t n, uint64_t pass_bytes,
			   uint64_t *ret)
{
	if (n == 0 || pass_bytes == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (now[i] < prev[i])
			return -ESTALE;
	uint64_t pulse = now[0] - prev[0];
	uint64_t passes = pulse / pass_bytes + (pulse % pass_bytes != 0);
	/* A pass tries every monitored byte at most once, and nearly all of
	 * them: a scheme before the pulse that splits a region (at an address
	 * filter's edge, or where its quota runs out) leaves the split-off
	 * tail out of the rest of that pass (damon_for_each_region_safe()).
	 * 6.12 (s20) tried 62-90 pages less than its 2 GiB in most passes and
	 * once 34 MiB less. A quarter of the memory short is no count of
	 * passes. */
	if ((passes * pass_bytes - pulse) * 4 > passes * pass_bytes || passes > INT32_MAX)
		return -ESTALE;
	for (size_t i = 0; passes && i < n; i++)
		ret[i] = (now[i] - prev[i] + passes / 2) / passes;
	return (int)passes;
}
