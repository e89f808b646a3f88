/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim-kernel.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

enum {
	F_HOT = 1 << 0, /* hot in the workload's access pattern (truth) */
	F_VIS = 1 << 1, /* and DAMON sees it hot where it is now */
	F_NEW = 1 << 2, /* scratch: picked to become hot */
	F_LUKE = 1 << 3, /* hot, in a region DAMON scores lower (lukewarm_bp) */
};

void sim_rng_seed(SimRng *r, uint64_t seed)
{
	/* splitmix64 of the seed, never 0 (xorshift's fixed point). */
	uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	r->s = (z ^ (z >> 31)) | 1;
}

uint64_t sim_rng_next(SimRng *r)
{
	/* xorshift64* */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

uint64_t sim_rng_below(SimRng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)sim_rng_next(r) * n) >> 64);
}

double sim_rng_unit(SimRng *r)
{
	return (double)(sim_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static int push_u32(uint32_t **a, size_t *n, size_t *cap, uint32_t v)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 1024;
		uint32_t *x = realloc(*a, c * sizeof(*x));
		if (!x)
			abort(); /* a test program: out of memory is fatal */
		*a = x;
		*cap = c;
	}
	(*a)[(*n)++] = v;
	return 0;
}

static void vis_add(SimKernel *k, uint32_t id)
{
	size_t nd = k->page[id].node;
	k->page[id].pos = (uint32_t)k->n_vis[nd];
	push_u32(&k->vis[nd], &k->n_vis[nd], &k->cap_vis[nd], id);
	k->page[id].flags |= F_VIS;
	if (k->page[id].flags & F_LUKE)
		k->n_vis_luke[nd]++;
}

static void vis_del(SimKernel *k, uint32_t id)
{
	size_t nd = k->page[id].node;
	uint32_t p = k->page[id].pos, last = k->vis[nd][--k->n_vis[nd]];
	k->vis[nd][p] = last;
	k->page[last].pos = p;
	k->page[id].flags &= (uint8_t)~F_VIS;
	if (k->page[id].flags & F_LUKE)
		k->n_vis_luke[nd]--;
}

/* The page becomes visible as hot on its node after the sampling delay
 * (at least one window: this window's bucket is already done). */
static uint32_t draw_delay(SimKernel *k)
{
	uint32_t span = k->delay_max_w - k->delay_min_w + 1;
	uint32_t d = k->delay_min_w + (uint32_t)sim_rng_below(&k->rng, span);
	return d ? d : 1;
}

static void schedule_visible(SimKernel *k, uint32_t id, uint32_t delay)
{
	uint64_t at = k->window + delay;
	SimBucket *b = &k->ring[at % k->ring_n];
	k->page[id].vis_at = (uint32_t)at;
	push_u32(&b->id, &b->n, &b->cap, id);
}

int simk_init(SimKernel *k, const SimKernelParams *p)
{
	memset(k, 0, sizeof(*k));
	if (p->n_nodes < 2 || p->n_nodes > SIM_MAX_NODES || p->hot_pages > p->map_pages || p->map_pages > UINT32_MAX ||
	    p->window_ms == 0 || p->delay_max_s < p->delay_min_s)
		return -EINVAL;
	k->p = *p;
	sim_rng_seed(&k->rng, p->seed);
	k->delay_min_w = (uint32_t)lround(p->delay_min_s * 1000 / p->window_ms);
	k->delay_max_w = (uint32_t)lround(p->delay_max_s * 1000 / p->window_ms);
	k->ring_n = k->delay_max_w + 2;

	k->page = calloc(p->map_pages, sizeof(SimPage));
	k->ring = calloc(k->ring_n, sizeof(SimBucket));
	if (!k->page || !k->ring) {
		simk_free(k);
		return -ENOMEM;
	}

	/* Hot pages first, then cold ones, each split by the given shares
	 * (rounding leftovers to the last node). */
	uint64_t id = 0;
	for (int pass = 0; pass < 2; pass++) {
		uint64_t count = pass == 0 ? p->hot_pages : p->map_pages - p->hot_pages;
		const uint32_t *bp = pass == 0 ? p->hot_bp : p->cold_bp;
		uint64_t done = 0;
		for (size_t nd = 0; nd < p->n_nodes; nd++) {
			uint64_t c = nd + 1 == p->n_nodes ? count - done : count * bp[nd] / 10000;
			for (uint64_t j = 0; j < c; j++, id++) {
				k->page[id].node = (uint8_t)nd;
				k->pages_on[nd]++;
				if (pass == 0) {
					k->page[id].flags = F_HOT;
					/* No draw without lukewarm pages: the other
					 * scenarios keep their random sequences. */
					if (p->lukewarm_bp && sim_rng_below(&k->rng, 10000) < p->lukewarm_bp)
						k->page[id].flags |= F_LUKE;
					k->hot_on[nd]++;
					vis_add(k, (uint32_t)id);
				}
			}
			done += c;
		}
	}
	k->hot_total = p->hot_pages;
	for (size_t nd = 0; nd < p->n_nodes; nd++)
		k->other[nd] = p->other_bytes[nd];
	return 0;
}

void simk_free(SimKernel *k)
{
	free(k->page);
	for (size_t i = 0; i < SIM_MAX_NODES; i++)
		free(k->vis[i]);
	if (k->ring)
		for (size_t i = 0; i < k->ring_n; i++)
			free(k->ring[i].id);
	free(k->ring);
	memset(k, 0, sizeof(*k));
}

size_t simk_add_scheme(SimKernel *k, size_t src, size_t dst, SimTuner tuner, SimGoalMetric metric, size_t goal_nid,
		       uint32_t reset_windows)
{
	size_t i = k->n_schemes++;
	k->schemes[i] = (SimScheme){
		.src = src,
		.dst = dst,
		.tuner = tuner,
		.metric = metric,
		.goal_nid = goal_nid,
		.reset_windows = reset_windows ? reset_windows : 1,
		.goal_target = 1,
	};
	return i;
}

void simk_scheme_stage(SimKernel *k, size_t i, bool armed, uint64_t bytes, uint64_t goal_target,
		       uint64_t goal_current)
{
	SimScheme *s = &k->schemes[i];
	s->staged = true;
	s->staged_at = k->window + k->p.latency_windows;
	s->st_armed = armed;
	s->st_bytes = bytes;
	s->st_target = goal_target;
	s->st_current = goal_current;
}

void simk_scheme_stage_window(SimKernel *k, size_t i, uint32_t reset_windows)
{
	k->schemes[i].st_reset_windows = reset_windows ? reset_windows : 1;
}

uint64_t simk_free_bytes(const SimKernel *k, size_t i)
{
	uint64_t used = k->pages_on[i] * SIM_PAGE + k->other[i];
	return k->p.node_bytes[i] > used ? k->p.node_bytes[i] - used : 0;
}

static bool has_room(const SimKernel *k, size_t i)
{
	uint64_t wmark = k->p.node_bytes[i] * k->p.wmark_bp / 10000;
	return simk_free_bytes(k, i) >= SIM_PAGE + wmark;
}

/* node_eligible_mem_bp as the kernel computes it: a walk of the eligible
 * (visible hot, plus the cold pages in those regions) folios, no sampling. */
static uint64_t eligible_bp(const SimKernel *k, size_t nid)
{
	double tot = 0, mine = 0;
	for (size_t i = 0; i < k->p.n_nodes; i++) {
		double b = (double)k->n_vis[i] * (1.0 + k->p.bias[i]);
		tot += b;
		if (i == nid)
			mine = b;
	}
	return tot > 0 ? (uint64_t)(mine * 10000 / tot) : 0;
}

/* damon_feed_loop_next_input() of mm/damon/core.c. */
static uint64_t feed_loop_next(uint64_t last, uint64_t score)
{
	const uint64_t goal = 10000, min_input = 10000;

	if (score == goal)
		return last;
	if (score >= goal * 2)
		return min_input;
	bool over = score > goal;
	uint64_t diff = over ? score - goal : goal - score;
	uint64_t comp = last < UINT64_MAX / diff ? last * diff / goal : last / goal * diff;
	if (over)
		return last - comp > min_input ? last - comp : min_input; /* comp < last: diff < goal */
	return last < UINT64_MAX - comp ? last + comp : UINT64_MAX;
}

/* damos_set_effective_quota() with a single goal, at a charge-window reset. */
static void set_effective_quota(SimKernel *k, SimScheme *s)
{
	uint64_t current = s->metric == SIM_GOAL_USER ? s->goal_current : eligible_bp(k, s->goal_nid);
	uint64_t target = s->goal_target ? s->goal_target : 1;
	uint64_t score = current * 10000 / target;
	uint64_t esz;

	if (s->tuner == SIM_TUNER_NONE) {
		s->esz = s->bytes;
		return;
	}
	if (s->tuner == SIM_TUNER_TEMPORAL) {
		if (score >= 10000)
			s->esz_bp = 0;
		else
			s->esz_bp = s->bytes ? s->bytes * 10000 : UINT64_MAX;
	} else {
		s->esz_bp = feed_loop_next(s->esz_bp > 10000 ? s->esz_bp : 10000, score);
	}
	esz = s->esz_bp / 10000;
	if (s->bytes && s->bytes < esz)
		esz = s->bytes;
	s->esz = esz;
}

/* Visible hot pages of SRC a scheme may take (not the lukewarm ones if
 * SKIP_LUKE). */
static size_t eligible_vis(const SimKernel *k, size_t src, bool skip_luke)
{
	return k->n_vis[src] - (skip_luke ? k->n_vis_luke[src] : 0);
}

/* One visible hot page of SRC migrates to DST (not a lukewarm one if
 * SKIP_LUKE; there must be one). Which one changes no share; taking the
 * last listed one keeps the 16 M-page case cache-friendly. */
static void move_hot_page(SimKernel *k, SimScheme *s, size_t src, size_t dst, bool skip_luke)
{
	size_t at = k->n_vis[src] - 1;

	while (skip_luke && (k->page[k->vis[src][at]].flags & F_LUKE))
		at--;
	uint32_t id = k->vis[src][at];
	vis_del(k, id);
	k->page[id].flags &= (uint8_t)~F_LUKE;
	k->page[id].node = (uint8_t)dst;
	k->pages_on[src]--;
	k->pages_on[dst]++;
	k->hot_on[src]--;
	k->hot_on[dst]++;
	s->sz_applied += SIM_PAGE;
	if (k->p.delay_per_page || s->batch_window != k->window + 1) {
		s->batch_window = k->window + 1;
		s->batch_delay = draw_delay(k);
	}
	schedule_visible(k, id, s->batch_delay);
	s->cold_credit += k->p.bias[src];
}

static void scheme_apply(SimKernel *k, SimScheme *s)
{
	if (!s->armed)
		return;
	if (s->win_in_reset == 0) {
		set_effective_quota(k, s);
		s->charged = 0;
	}
	s->win_in_reset = (s->win_in_reset + 1) % s->reset_windows;

	uint64_t limit = s->esz;
	if (s->fresh && k->p.first_window_bytes)
		limit = k->p.first_window_bytes;
	s->fresh = false;

	size_t src = s->src, dst = s->dst;
	uint32_t fpages = k->p.folio_pages ? k->p.folio_pages : 1;
	/* A prioritising scheme's threshold: the fully hot regions of every
	 * node fill the quota before the lukewarm ones get a turn. */
	bool skip_luke = false;
	if (s->prioritised) {
		uint64_t full = 0;
		for (size_t i = 0; i < k->p.n_nodes; i++)
			full += (k->n_vis[i] - k->n_vis_luke[i]) * SIM_PAGE;
		skip_luke = full >= limit;
	}
	/* The quota is charged by the page (the region is split at the
	 * remaining quota, aligned down to PAGE_SIZE). */
	while (s->charged < limit && limit - s->charged >= SIM_PAGE) {
		bool cold = s->cold_credit >= 1.0 && k->other[src] >= SIM_PAGE;
		if (!cold && eligible_vis(k, src, skip_luke) == 0)
			break;
		if (!has_room(k, dst)) {
			/* Allocation without reclaim fails for every folio
			 * tried in this window; each is charged. */
			uint64_t eligible = (uint64_t)((double)k->n_vis[src] * (1.0 + k->p.bias[src])) * SIM_PAGE;
			uint64_t tried = limit - s->charged < eligible ? limit - s->charged : eligible;
			tried -= tried % SIM_PAGE;
			s->charged += tried;
			s->sz_tried += tried;
			s->sz_failed += tried;
			break;
		}
		if (cold) {
			s->charged += SIM_PAGE;
			s->sz_tried += SIM_PAGE;
			s->sz_applied += SIM_PAGE;
			s->cold_credit -= 1.0;
			k->other[src] -= SIM_PAGE;
			k->other[dst] += SIM_PAGE;
			continue;
		}
		/* The piece the region was split to is charged, but the whole
		 * folio under it migrates (measured on 6.12 with THP: a 256 KiB
		 * window quota moved 2 MiB). In mixed memory the piece meets a
		 * folio or a page in proportion to their bytes. */
		uint32_t piece = fpages;
		if (k->p.folio_share_bp && sim_rng_below(&k->rng, 10000) >= k->p.folio_share_bp)
			piece = 1;
		uint64_t charge = MIN(limit - s->charged, (uint64_t)piece * SIM_PAGE);
		s->charged += charge - charge % SIM_PAGE;
		s->sz_tried += charge - charge % SIM_PAGE;
		for (uint32_t f = 0; f < piece && eligible_vis(k, src, skip_luke) > 0; f++)
			move_hot_page(k, s, src, dst, skip_luke);
	}
}

void simk_window(SimKernel *k)
{
	uint64_t w = k->window;
	SimBucket *b = &k->ring[w % k->ring_n];

	for (size_t j = 0; j < b->n; j++) {
		uint32_t id = b->id[j];
		if ((k->page[id].flags & (F_HOT | F_VIS)) == F_HOT && k->page[id].vis_at == (uint32_t)w)
			vis_add(k, id);
	}
	b->n = 0;

	for (size_t i = 0; i < k->n_schemes; i++) {
		SimScheme *s = &k->schemes[i];
		if (!s->staged || s->staged_at > w)
			continue;
		if (s->st_armed && !s->armed) {
			s->fresh = true;
			s->win_in_reset = 0;
		}
		s->armed = s->st_armed;
		s->bytes = s->st_bytes;
		s->goal_target = s->st_target;
		s->goal_current = s->st_current;
		if (s->st_reset_windows && s->st_reset_windows != s->reset_windows) {
			s->reset_windows = s->st_reset_windows;
			s->win_in_reset %= s->reset_windows;
		}
		s->st_reset_windows = 0;
		s->staged = false;
	}
	for (size_t i = 0; i < k->n_schemes; i++)
		scheme_apply(k, &k->schemes[i]);
	k->window++;
}

void simk_measure(SimKernel *k, uint64_t *ret_hot_bytes)
{
	for (size_t i = 0; i < k->p.n_nodes; i++) {
		double v = (double)k->n_vis[i] * SIM_PAGE * (1.0 + k->p.bias[i]);
		v *= 1.0 + k->p.noise * (2.0 * sim_rng_unit(&k->rng) - 1.0);
		ret_hot_bytes[i] = (uint64_t)llround(v);
	}
	/* Seen on 7.3: one interval read 80-91 MiB hot for a 64 MiB set. */
	if (k->p.spike_prob > 0 && sim_rng_unit(&k->rng) < k->p.spike_prob) {
		size_t i = sim_rng_below(&k->rng, k->p.n_nodes);
		ret_hot_bytes[i] = (uint64_t)((double)ret_hot_bytes[i] * (1.0 + k->p.spike_gain));
	}
	uint64_t applied = 0;
	for (size_t i = 0; i < k->n_schemes; i++)
		applied += k->schemes[i].sz_applied;
	double dip_prob = applied != k->applied_measured ? k->p.dip_prob : k->p.dip_prob / 10;
	k->applied_measured = applied;
	if (dip_prob > 0 && sim_rng_unit(&k->rng) < dip_prob) {
		double f = 1.0 - k->p.dip_max * sim_rng_unit(&k->rng);
		for (size_t i = 0; i < k->p.n_nodes; i++)
			ret_hot_bytes[i] = (uint64_t)((double)ret_hot_bytes[i] * f);
	}
}

static void cool(SimKernel *k, uint32_t id)
{
	if (k->page[id].flags & F_VIS)
		vis_del(k, id);
	k->page[id].flags = 0;
	k->hot_on[k->page[id].node]--;
	k->hot_total--;
}

static void heat(SimKernel *k, uint32_t id)
{
	k->page[id].flags = F_HOT;
	k->hot_on[k->page[id].node]++;
	k->hot_total++;
	schedule_visible(k, id, draw_delay(k));
}

/* Marks COUNT random cold pages F_NEW; returns how many it found. */
static uint64_t pick_cold(SimKernel *k, uint64_t count)
{
	uint64_t cold = k->p.map_pages - k->hot_total, got = 0;
	if (count > cold)
		count = cold;
	while (got < count) {
		uint32_t id = (uint32_t)sim_rng_below(&k->rng, k->p.map_pages);
		if (k->page[id].flags)
			continue;
		k->page[id].flags = F_NEW;
		got++;
	}
	return got;
}

/* Cools COUNT random hot pages (not F_NEW ones). */
static void cool_random(SimKernel *k, uint64_t count)
{
	uint32_t *ids = NULL;
	size_t n = 0, cap = 0;
	for (uint64_t id = 0; id < k->p.map_pages; id++)
		if (k->page[id].flags & F_HOT)
			push_u32(&ids, &n, &cap, (uint32_t)id);
	if (count > n)
		count = n;
	for (uint64_t j = 0; j < count; j++) {
		size_t r = j + sim_rng_below(&k->rng, n - j);
		uint32_t t = ids[j];
		ids[j] = ids[r];
		ids[r] = t;
		cool(k, ids[j]);
	}
	free(ids);
}

static void heat_new(SimKernel *k)
{
	for (uint64_t id = 0; id < k->p.map_pages; id++)
		if (k->page[id].flags == F_NEW)
			heat(k, (uint32_t)id);
}

void simk_hot_move(SimKernel *k, double frac)
{
	uint64_t count = (uint64_t)llround(frac * (double)k->hot_total);
	count = pick_cold(k, count);
	cool_random(k, count);
	heat_new(k);
}

void simk_hot_grow(SimKernel *k, uint64_t pages)
{
	pick_cold(k, pages);
	heat_new(k);
}

void simk_hot_shrink(SimKernel *k, uint64_t pages)
{
	cool_random(k, pages);
}
