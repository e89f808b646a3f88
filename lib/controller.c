/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <math.h>
#include <string.h>

#include "controller.h"
#include "metric.h"
#include "util.h"

void controller_init(Controller *c, const CtlParams *p)
{
	memset(c, 0, sizeof(*c));
	c->p = *p;
	if (!c->p.gain_pct)
		c->p.gain_pct = 60;
	/* In the VM runs (6.12, 7.3; 4 KiB pages and THP) a destination's
	 * measurement caught up with what moved in within two intervals; at
	 * 20 s a phantom of 2 points outlived a move by 20 s on 6.12 and
	 * dtierd announced "reached" while the workload sat 4 points short. */
	if (!c->p.unseen_tau_ms)
		c->p.unseen_tau_ms = 5000;
	if (!c->p.min_bytes_per_tick)
		c->p.min_bytes_per_tick = 256 * 1024;
	if (!c->p.deadband_bp)
		c->p.deadband_bp = 150;
	if (!c->p.max_bytes_per_tick)
		c->p.max_bytes_per_tick = 256ULL << 20;
	if (!c->p.settle_pct)
		c->p.settle_pct = 10;
	memcpy(c->eff_bp, c->p.target_bp, sizeof(c->eff_bp));
}

void controller_set_targets(Controller *c, const uint32_t *target_bp)
{
	memcpy(c->p.target_bp, target_bp, c->p.n * sizeof(*target_bp));
	memcpy(c->eff_bp, target_bp, c->p.n * sizeof(*target_bp));
	memset(c->clamped, 0, sizeof(c->clamped));
	/* A new target is a new goal: leave the band so it is pursued now. */
	c->in_band = false;
	c->reach_pending = false;
}

/* Capacity clamp: a node cannot hold more hot bytes than fit in it. Clamp its
 * target to what fits and give the excess to the others in proportion to
 * their targets (then to their room). */
static void clamp_targets(const Controller *c, const CtlSample *s, const uint64_t *est, uint64_t total, uint32_t *eff,
			  bool *clamped)
{
	size_t n = c->p.n;
	uint32_t cap_bp[CTL_N];

	for (size_t i = 0; i < n; i++) {
		eff[i] = c->p.target_bp[i];
		clamped[i] = false;
		cap_bp[i] = 10000;
		/* Bytes in flight to the node already sit in its memory (the
		 * caller's free + measured hot misses them). */
		uint64_t cap = s->capacity_bytes[i] + (est[i] - s->hot_bytes[i]);
		if (s->capacity_bytes[i] && total)
			cap_bp[i] = (uint32_t)MIN((unsigned __int128)cap * 10000 / total, 10000u);
		/* A node DAMON could not migrate into holds what it held then. */
		if (c->full_hot[i] && total)
			cap_bp[i] = MIN(cap_bp[i], (uint32_t)MIN((unsigned __int128)c->full_hot[i] * 10000 / total, 10000u));
	}
	for (int iter = 0; iter < CTL_N; iter++) {
		uint64_t excess = 0, weight = 0;
		for (size_t i = 0; i < n; i++)
			if (eff[i] > cap_bp[i]) {
				excess += eff[i] - cap_bp[i];
				eff[i] = cap_bp[i];
				clamped[i] = true;
			}
		if (!excess)
			break;
		for (size_t i = 0; i < n; i++)
			if (!clamped[i])
				weight += eff[i] ? eff[i] : 1;
		if (!weight)
			break;
		uint64_t given = 0;
		for (size_t i = 0; i < n; i++)
			if (!clamped[i]) {
				uint64_t add = excess * (eff[i] ? eff[i] : 1) / weight;
				eff[i] += (uint32_t)add;
				given += add;
			}
		/* Rounding leftovers to the first unclamped node. */
		for (size_t i = 0; i < n && given < excess; i++)
			if (!clamped[i]) {
				eff[i] += (uint32_t)(excess - given);
				given = excess;
			}
	}
}

/* The hot part of BYTES moved out of node SRC. DAMON migrates a hot region
 * whole, its cold pages too: in s20 (64 KiB hot islands in ~512 KiB regions,
 * 6.12) crediting every moved byte as hot put the estimate 3-6 points above
 * both the measurement and the workload while node 0 climbed. The regions
 * the move came from are the previous sample's. */
static uint64_t hot_part(const Controller *c, const CtlSample *s, size_t src, uint64_t bytes)
{
	uint64_t hot = c->prev_hot[src], region = c->prev_region[src];

	if (!region) { /* first step, or nothing known about the source then */
		hot = s->hot_bytes[src];
		region = s->region_bytes[src];
	}
	if (!region || hot >= region)
		return bytes;
	return (uint64_t)((unsigned __int128)bytes * hot / region);
}

/* The bytes DAMON must migrate out of node SRC to move HOT bytes of its
 * hot memory: hot_part() the other way round. A pair's quota and what it
 * applied count whole regions; asked for the hot bytes alone, a push out
 * of s20's fragmented hot set (48 KiB islands in ~512 KiB regions, the
 * regions 6.5 times the hot memory) moved a sixth of each step and node 0
 * took 120 s to climb from 0 to 55 % of a 60 % target (6.12). */
static uint64_t region_part(const CtlSample *s, size_t src, uint64_t hot)
{
	uint64_t h = s->hot_bytes[src], region = s->region_bytes[src];

	if (!h || region <= h)
		return hot;
	return (uint64_t)((unsigned __int128)hot * region / h);
}

/* What moved since the last step, per pair, and its hot part per node
 * (counters only grow; a smaller value means the scheme was recreated).
 * Only a move of a pair one of the last two decisions ran starts the hold
 * against undoing it: one no decision asked for is not ours to protect
 * (6.12, s12: DAMON's first window moved 4 KiB to node 1 before any
 * decision, and the pull to node 0 waited hold_ms, 12 s at 0 %). */
static void account_moves(Controller *c, const CtlSample *s, CtlDecision *d, uint64_t *moved_in,
			  uint64_t *moved_out)
{
	size_t n = c->p.n;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			uint64_t a = s->applied[i][j], prev = c->prev_applied[i][j];
			uint64_t delta = c->started ? (a >= prev ? a - prev : a) : 0;
			d->moved[i][j] = delta;
			c->moved_total[i][j] += delta;
			c->prev_applied[i][j] = a;
			uint64_t hot = hot_part(c, s, i, delta);
			moved_in[j] += hot;
			moved_out[i] += hot;
			if (delta && (c->ran[i][j] || c->ran_before[i][j])) {
				c->last_move_ms[i][j] = s->now_ms;
				c->ever_moved[i][j] = true;
			}
		}
}

/* What DAMON tried for pair I -> J since the last step (sz_tried's growth;
 * 0 where unknown or restarted). */
static uint64_t tried_since(const Controller *c, const CtlSample *s, size_t i, size_t j)
{
	return s->tried[i][j] - MIN(s->tried[i][j], c->prev_tried[i][j]);
}

/* Whether the hot memory moves in huge folios, from what the pairs moved.
 * DAMON counts a region as tried at the size the quota cut it to, and
 * migrates every folio under it whole: a 4 KiB page never reaches past its
 * region, a 2 MiB folio does (6.12, THP: a 256 KiB window quota moved 2
 * MiB). So a move larger than what was tried for it was folios larger than
 * the quota, whatever else it carried: in mixed memory (7.3, s19: half the
 * hot set in THP) a move is folios and pages together, and one such move
 * is enough to know that the next window may carry a folio (a 512 KiB
 * window quota there moved 4.4 MiB, 62.35 -> 54.05 %). Only a run of
 * CTL_PAGE_MOVES moves of pages alone (not whole folios, no larger than
 * what was tried) unlearns it: one page move among folio moves is mixed
 * memory, not pages. The kernel's stats are one snapshot
 * (update_schemes_stats), so the two agree on every kernel, however late
 * it takes a new quota. (Bounding a move by the controller's last asks
 * instead read 4 KiB pages as folios on 6.12 under TCG, which ran one
 * window more at an older, larger quota: asked 1 MiB after 2 and 4 MiB,
 * moved 3 MiB.) The caller's guess from the tier nodes' memory can be
 * wrong: 7.3, s16, a 64 MiB THP hot set beside a neighbour's 384 MiB
 * stream buffer in 4 KiB pages read as pages; with two charge windows an
 * interval every move carried two folios or more (8 MiB for a 2.2 MiB
 * need), and the share alternated 56.25 <-> 62.5 % to the end, never
 * "reached". */
static void learn_folio(Controller *c, const CtlSample *s, const CtlDecision *d)
{
	for (size_t i = 0; i < c->p.n; i++)
		for (size_t j = 0; j < c->p.n; j++) {
			uint64_t delta = d->moved[i][j], tried = tried_since(c, s, i, j);
			if (!delta || !c->started || !tried)
				continue;
			if (delta > tried) {
				c->huge_moves = true;
				c->page_moves = 0;
			} else if (delta % CTL_MAX_FOLIO && ++c->page_moves >= CTL_PAGE_MOVES) {
				c->huge_moves = false;
			}
		}
}

/* A node that cannot take more. Free memory says how much room a node has,
 * but not what the kernel will allocate for a migration: in s15 (a node
 * filled with hugetlb pages) 6.12 and 7.3 stopped migrating into node 0
 * with 34-37 MiB still free, 11 points short of the target dtierd clamped
 * to; the pull stayed open, every window's quota spent on migrations that
 * failed, and the clamp shown to operators was not what the node held.
 * When a pair that ran was tried (its sz_tried grew) and moved nothing for
 * CTL_FULL_STALLS intervals in a row while the node was within
 * CTL_FULL_SLACK of the room free memory shows, its destination is full at
 * what it holds now, until its room grows by CTL_FULL_SLACK (memory
 * freed). */
static void learn_full(Controller *c, const CtlSample *s, const CtlDecision *d)
{
	size_t n = c->p.n;
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += s->hot_bytes[i];

	for (size_t i = 0; i < n; i++)
		if (c->full_hot[i] && s->capacity_bytes[i] &&
		    s->capacity_bytes[i] - MIN(s->capacity_bytes[i], s->hot_bytes[i]) > c->full_room[i] + CTL_FULL_SLACK)
			c->full_hot[i] = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			uint64_t tried = tried_since(c, s, i, j);
			bool stalled = c->started && c->ran[i][j] && tried && !d->moved[i][j];
			c->prev_tried[i][j] = s->tried[i][j];
			c->stalls[i][j] = stalled ? c->stalls[i][j] + 1 : 0;
			if (c->stalls[i][j] < CTL_FULL_STALLS || c->full_hot[j] || !s->capacity_bytes[j])
				continue;
			/* Only near the room free memory shows: with plenty of
			 * room left a stall is something else. */
			uint64_t room = s->capacity_bytes[j] - MIN(s->capacity_bytes[j], s->hot_bytes[j]);
			uint64_t want = (uint64_t)((unsigned __int128)total * c->eff_bp[j] / 10000);
			if (room >= want - MIN(want, s->hot_bytes[j]) + CTL_FULL_SLACK)
				continue;
			c->full_hot[j] = MAX(s->hot_bytes[j], 1u);
			c->full_room[j] = room;
		}
}

/* Bytes that moved into node I and DAMON has not seen there yet: what it
 * held before this episode plus what moved in, minus what moved out, minus
 * what is measured there now. Never more than what moved in; fading after
 * the last arrival so a hot set that really shrank leaves no phantom. */
static double unseen_on(Controller *c, const CtlSample *s, size_t i, uint64_t moved_in, uint64_t moved_out)
{
	if (moved_in && !c->acc_in[i]) {
		c->base[i] = c->prev_hot[i];
		c->acc_out[i] = 0;
	}
	if (moved_in)
		c->last_in_ms[i] = s->now_ms;
	c->acc_in[i] += moved_in;
	if (c->acc_in[i])
		c->acc_out[i] += moved_out;
	if (!c->acc_in[i])
		return 0;

	double expect = (double)c->base[i] + (double)c->acc_in[i] - (double)c->acc_out[i];
	double unseen = MIN(MAX(expect - (double)s->hot_bytes[i], 0.0), (double)c->acc_in[i]);
	unseen *= exp(-(double)(s->now_ms - c->last_in_ms[i]) / (double)c->p.unseen_tau_ms);
	/* Only what arrived in the last three intervals can be unseen: in the
	 * VM runs every destination's measurement caught up within two. Older
	 * "unseen" bytes are phantoms of a hot set that changed under the move
	 * (seen on 7.3: the old hot pages on node 0 fading after the hot set
	 * moved read as 2 points of unseen arrivals, and dtierd stopped 2
	 * points short). */
	unseen = MIN(unseen, (double)(moved_in + c->prev_in[0][i] + c->prev_in[1][i]));
	/* Caught up (or faded): the episode is over. */
	if (unseen < 0.005 * (double)c->acc_in[i] + (double)system_page_size()) {
		unseen = 0;
		c->acc_in[i] = c->acc_out[i] = 0;
	}
	return unseen;
}

/* Each node's estimate, the measurement plus its unseen arrivals; returns
 * their total and sets *RET_UNSEEN if any node has some. */
static uint64_t estimate_unseen(Controller *c, const CtlSample *s, const uint64_t *moved_in,
				const uint64_t *moved_out, uint64_t *est, bool *ret_unseen)
{
	uint64_t total = 0;

	*ret_unseen = false;
	for (size_t i = 0; i < c->p.n; i++) {
		double unseen = unseen_on(c, s, i, moved_in[i], moved_out[i]);
		c->prev_in[1][i] = c->prev_in[0][i];
		c->prev_in[0][i] = moved_in[i];
		est[i] = s->hot_bytes[i] + (uint64_t)unseen;
		*ret_unseen = *ret_unseen || est[i] != s->hot_bytes[i];
		total += est[i];
		c->prev_hot[i] = s->hot_bytes[i];
		c->prev_region[i] = s->region_bytes[i];
	}
	return total;
}

/* More vanished than bytes in flight can explain (the hot set changed under
 * a move: the moved pages went cold and will never show up): end every
 * episode rather than carry phantoms. Judged against the median of the last
 * three estimated totals. Returns the (new) estimated total. */
static uint64_t drop_phantoms(Controller *c, const CtlSample *s, uint64_t *est, uint64_t est_total)
{
	if (c->n_est_hist == 3) {
		uint64_t a = c->est_total_hist[0], b = c->est_total_hist[1], m3 = c->est_total_hist[2];
		uint64_t med = MAX(MIN(a, b), MIN(MAX(a, b), m3));
		if (est_total * 4 < med * 3) {
			est_total = 0;
			for (size_t i = 0; i < c->p.n; i++) {
				c->acc_in[i] = c->acc_out[i] = 0;
				est[i] = s->hot_bytes[i];
				est_total += est[i];
			}
		}
	}
	memmove(&c->est_total_hist[1], &c->est_total_hist[0], 2 * sizeof(c->est_total_hist[0]));
	c->est_total_hist[0] = est_total;
	c->n_est_hist = MIN(c->n_est_hist + 1, 3u);
	return est_total;
}

/* Unsettled: the measured total moved by more than settle_pct since the
 * previous interval (migration conserves hot bytes). Sets d->unsettled_bp,
 * how far it moved in bp of the smaller total (all of it before the first
 * measurement). */
static void judge_settled(Controller *c, const CtlSample *s, CtlDecision *d)
{
	uint64_t total = 0;

	for (size_t i = 0; i < c->p.n; i++)
		total += s->hot_bytes[i];
	uint64_t diff = total > c->prev_total ? total - c->prev_total : c->prev_total - total;
	uint64_t base = MIN(total, c->prev_total);
	d->settling = !c->started || diff * 100 > (uint64_t)c->p.settle_pct * MAX(c->prev_total, 1u);
	d->unsettled_bp = !c->started || !base ? 10000 : (uint32_t)MIN(diff * 10000 / base, 10000u);
	c->prev_total = total;
}

/* While settling, cuts each error down to what lies beyond what the
 * unsettled total can explain; false (ERR untouched) when none does by more
 * than the band, or when the speed cap would not limit the move (gain_pct
 * of the whole error is less than max_bytes_per_tick): only there does
 * waiting cost an interval at the cap; nearer the target a wait costs
 * little and the next settled measurement says more. */
static bool cut_to_beyond_unsettled(const Controller *c, const CtlDecision *d, uint64_t est_total, uint32_t worst,
			     int32_t *err)
{
	int32_t u = (int32_t)d->unsettled_bp;
	unsigned __int128 bytes = (unsigned __int128)est_total * worst / 10000 * c->p.gain_pct / 100;

	if (worst <= (uint32_t)u + d->band_bp || bytes < c->p.max_bytes_per_tick)
		return false;
	for (size_t i = 0; i < c->p.n; i++) {
		int32_t e = abs(err[i]);
		err[i] = e > u ? (err[i] > 0 ? e - u : u - e) : 0;
	}
	return true;
}

/* The targets after the capacity clamp. The clamp acts only on a settled
 * measurement: at start DAMON's first coarse regions read far more hot bytes
 * than there are (seen on 7.3: a 64 MiB hot set clamped node 0 to 23.87 % on
 * a 963 MiB node that then held 60 % of it). */
static void effective_targets(Controller *c, const CtlSample *s, const uint64_t *est, uint64_t est_total,
			      CtlDecision *d)
{
	bool clamped[CTL_N];

	/* Nothing measured hot says nothing about room: keep the clamp (6.12
	 * read three empty tried-regions in a row in s15, and the clamp was
	 * lifted and announced again). */
	bool settled = !d->settling && est_total != 0;

	if (!settled) {
		memcpy(d->target_bp, c->eff_bp, sizeof(d->target_bp));
		memcpy(clamped, c->clamped, sizeof(clamped));
	} else {
		clamp_targets(c, s, est, est_total, d->target_bp, clamped);
		memcpy(c->eff_bp, d->target_bp, sizeof(c->eff_bp));
	}
	for (size_t i = 0; i < c->p.n; i++) {
		bool full = settled ? c->full_hot[i] && clamped[i] : c->full_said[i];
		d->clamped[i] = clamped[i];
		d->full[i] = full;
		if (clamped[i] != c->clamped[i] || full != c->full_said[i])
			d->events |= CTL_EV_CLAMPED;
		c->clamped[i] = clamped[i];
		c->full_said[i] = full;
	}
}

/* The folio every move is made of this interval (0: pages), at most the
 * largest DAMON migrates. */
static uint64_t folio_size(const CtlDecision *d)
{
	return MIN(d->folio_bytes, CTL_MAX_FOLIO);
}

/* The error bound of the median of the recent estimates (up to
 * CTL_BAND_HIST, with this interval's), which is what leaves the band and
 * so starts a move, from ERR_BP, one estimate's: each interval samples
 * afresh, and the median of n independent estimates errs about 1.25 /
 * sqrt(n) as much as one. The levels' bound in s2-converge-6.12 was 1-5
 * points (median 2) for one interval, and as the band it let the share
 * rest 3 points low (mean -3.13 against -1.44 without it). */
static uint64_t median_err_bp(const Controller *c, uint64_t err_bp)
{
	unsigned n = MIN(c->n_hist + 1, (unsigned)CTL_BAND_HIST);
	return MIN(err_bp, (uint64_t)((double)err_bp * 1.2533 / sqrt((double)n)));
}

/* The deadband for this interval. A difference within the measurement's own
 * error bound is no reason to move: the band is at least the bound of the
 * median the controller judges (median_err_bp). Nor is
 * a difference smaller than what one move can change: pages move in whole
 * folios, so with THP the share takes values a folio apart (2 MiB of a 48
 * MiB hot set: 4.2 points, none of them within 1.5 of 60 %), and a
 * 1.5-point band ping-ponged one folio every hold_s (7.3, s12). The band
 * covers 0.55 of a folio (CTL_BAND_FOLIO) where the hot memory is in PMD
 * folios (the largest DAMON migrates): as the sample says (page flags, or
 * the nodes' meminfo), or as moves larger than what DAMON tried for them
 * showed (learn_folio).
 * Not the gcd of what moved: 4 KiB pages at power-of-two quotas of whole
 * MiBs move in multiples of 2 MiB too, and a band that wide let 6.12 say
 * "reached" for a 4 KiB hot set at 61.98 % when the truth was 58.83 % (s17,
 * two processes).
 * One move of 992 KiB in a THP phase (s12-resize-7.3) leaves the band as
 * wide: the folio size is not a gcd. */
static uint32_t band_width(const Controller *c, const CtlDecision *d, const CtlSample *s, uint64_t est_total)
{
	uint32_t band = c->p.deadband_bp;

	if (s->err_bytes) {
		uint64_t err_bp = (uint64_t)((unsigned __int128)s->err_bytes * 10000 / est_total);
		band = (uint32_t)MIN(MAX((uint64_t)band, median_err_bp(c, err_bp)), 2500u);
	}
	uint64_t folio = folio_size(d);
	if (folio && c->p.kernel_goals)
		/* The kernel stops anywhere within its goals' zone, and dtierd
		 * cannot move it there: judged by 0.55 of a folio, 7.3 held a
		 * 64 MiB THP hot set at 62.5 % for 60 % (s21) for the whole
		 * run and dtierd never said "reached" nor anything else. */
		band = (uint32_t)MIN(MAX((uint64_t)band, controller_folio_bp(folio, est_total)), 2500u);
	else if (folio)
		band = (uint32_t)MIN(MAX((unsigned __int128)band, (unsigned __int128)folio * CTL_BAND_FOLIO / est_total), 2500u);
	return band;
}

/* Records this interval's estimates and returns the worst distance from
 * target of the median of the recent ones (up to CTL_BAND_HIST), putting
 * each node's median in D->display_bp. *RET_WORST_ALL is the worst distance
 * that all of the recent estimates but one (of five; all of them, of fewer)
 * lie past, on the median's side of the target: what leaving the band
 * needs. A median of five leaves on three estimates in a row; the sim's
 * spikes (one measurement in 30 reading a node 40 % high) put three in a
 * row on a share held at 58.9 % for 60 %, and the move it made on them
 * took the share to 65.5 %. */
static uint32_t worst_median_error(Controller *c, CtlDecision *d, uint32_t *ret_worst_all)
{
	uint32_t worst = 0, worst_all = 0;

	memmove(c->hist_bp[1], c->hist_bp[0], sizeof(c->hist_bp[0]) * (CTL_BAND_HIST - 1));
	memcpy(c->hist_bp[0], d->estimate_bp, sizeof(c->hist_bp[0]));
	c->n_hist = MIN(c->n_hist + 1, (unsigned)CTL_BAND_HIST);
	for (size_t i = 0; i < c->p.n; i++) {
		/* Median of the estimates so far (insertion sort of <= 5). */
		uint32_t v[CTL_BAND_HIST];
		for (unsigned k = 0; k < c->n_hist; k++) {
			uint32_t x = c->hist_bp[k][i];
			unsigned j = k;
			for (; j > 0 && v[j - 1] > x; j--)
				v[j] = v[j - 1];
			v[j] = x;
		}
		uint32_t med = v[c->n_hist / 2];
		d->display_bp[i] = med;
		worst = MAX(worst, (uint32_t)abs((int32_t)d->target_bp[i] - (int32_t)med));
		unsigned k = c->n_hist >= CTL_BAND_HIST ? 1 : 0;
		int32_t near = (int32_t)(med > d->target_bp[i] ? v[k] : v[c->n_hist - 1 - k]);
		int32_t dist = near - (int32_t)d->target_bp[i];
		if ((med > d->target_bp[i]) == (dist > 0))
			worst_all = MAX(worst_all, (uint32_t)abs(dist));
	}
	*ret_worst_all = worst_all;
	return worst;
}

/* Where an approach stops: half the band, where the band is the deadband
 * alone (pages, a quiet measurement), but never nearer than a little more
 * than half of what the smallest move changes. Stopping at the band's own
 * edge on one noisy estimate left the share there for the whole phase,
 * held by the hysteresis: the sim's shrink landed at 58.3 % for 60 % on
 * estimates of 58.4-58.8 % (mean error -2.14 after the shrink), and the VM
 * tables' mean errors leaned to the side each approach came from. A band
 * widened by the measurement's error bound or by the folio size is where
 * moves stop as it is: nearer than that, a move chases noise or a folio
 * step. */
static uint32_t entry_band(const Controller *c, const CtlDecision *d)
{
	uint64_t step_bp = controller_folio_bp(c->p.min_bytes_per_tick, d->estimate_total) * CTL_BAND_FOLIO / 10000;

	if (d->folio_bytes || d->band_bp != c->p.deadband_bp)
		return d->band_bp;
	return (uint32_t)MIN(MAX((uint64_t)d->band_bp / 2, step_bp), (uint64_t)d->band_bp);
}

/* The band with hysteresis: stop where an approach stops (entry_band());
 * resume only when all but one of the last five estimates (all of the last
 * three or four) are past twice the band, on one side (worst_median_error).
 * An operator is told "reached" only once the measurement itself shows it:
 * no pair running or moving (still_moving), no bytes still counted as
 * unseen, nothing settling (seen on 7.3: announced at 62.2 % on an estimate
 * with bytes in flight, while the workload sat at 58.3 %), on an estimate
 * itself inside the deadband, and with the median of those since entering
 * inside it too (the sim's large-dips: "reached" on one estimate of 58.5 %
 * among 57.4-57.9 % held 57.8 % for a 60 % target for the whole run): the
 * hysteresis keeps an outlier in band, but shown it would be a false
 * "reached" (7.3, s2: one interval's node-1 count fell 3.4 MiB short and
 * "reached 62.01 %" went out while the workload held 58.97 % throughout).
 * Migration stops at once all the same. A reach the measurement never
 * confirms is no reach: once the median of a full history since entering
 * lies outside the band, the controller leaves it without a word and acts
 * (6.12, s12: a 48 MiB THP hot set entered the band at 62.42 % with bytes
 * unseen, then read 62.51-62.90 % for 28 s against a 2.50-point band; it
 * neither moved the one folio to 58.3 % nor said "reached", and the last
 * thing operators had been told was "left the band at 91.46 %"). With
 * nothing in flight, one estimate inside the band does not enter it when
 * the median of the recent ones lies outside: the sim's thp-noise held a
 * 64 MiB THP hot set at 62.5 % for a 60 % target (band 1.875 points) for
 * the whole run, said "reached" on one estimate of 61.8 % among 62.3-63.3
 * %, and the hysteresis kept it there instead of moving the one folio to
 * 59.375 %. */
/* Inside the band, the median of the recent estimates of some node lies
 * more than the band from the share operators were last told: tell them
 * again. The hysteresis lets a share drift up to twice the band without
 * a move, and the last word must stay what is true within the band. */
static bool drifted(const Controller *c, const CtlDecision *d, uint32_t band)
{
	for (size_t i = 0; i < c->p.n; i++)
		if ((uint32_t)abs((int32_t)d->display_bp[i] - (int32_t)c->said_bp[i]) > band)
			return true;
	return false;
}

static void judge_band(Controller *c, CtlDecision *d, uint32_t worst, uint32_t worst_median, uint32_t worst_all,
		       bool confirmed)
{
	uint32_t band = d->band_bp;

	if (c->in_band) {
		if (c->n_hist >= 3 && worst_all > 2 * band) {
			c->in_band = false;
			if (!c->reach_pending)
				d->events |= CTL_EV_LOST;
			c->reach_pending = false;
		} else if (c->reach_pending && confirmed && worst <= band && worst_median <= band) {
			c->reach_pending = false;
			d->events |= CTL_EV_REACHED;
			memcpy(d->display_bp, d->estimate_bp, sizeof(d->display_bp));
		} else if (c->reach_pending && c->n_hist == CTL_BAND_HIST && worst_median > band) {
			c->in_band = false;
			c->reach_pending = false;
		} else if (!c->reach_pending && c->n_hist >= 3 && drifted(c, d, band)) {
			d->events |= CTL_EV_DRIFTED;
		}
	} else if (worst <= entry_band(c, d) && (!confirmed || worst_median <= band)) {
		c->in_band = true;
		/* Judge leaving the band on estimates from inside it only,
		 * and show the one that entered it. */
		c->n_hist = 1;
		memcpy(d->display_bp, d->estimate_bp, sizeof(d->display_bp));
		if (confirmed)
			d->events |= CTL_EV_REACHED;
		else
			c->reach_pending = true;
	}
	/* On the way to the band the median trails the moves: operators are
	 * shown the latest estimate (6.12, s20 at ~1 200 hot regions: status
	 * said 35.55 %, the median of five estimates over 20 s of moves, while
	 * the workload held 47.53 % and DAMON applied no scheme for the last
	 * 36 s of the run). */
	if (!c->in_band && !(d->events & CTL_EV_LOST))
		memcpy(d->display_bp, d->estimate_bp, sizeof(d->display_bp));
	if (d->events & (CTL_EV_REACHED | CTL_EV_LOST | CTL_EV_DRIFTED))
		memcpy(c->said_bp, d->display_bp, sizeof(c->said_bp));
	d->in_band = c->in_band;
}

/* Whether the last push went about one folio past the target and the way
 * back may take one folio before hold_ms: the folio size is known, the
 * measurement is quiet (nothing unseen, in flight or settling:
 * CONFIRMED), the median of the recent estimates is outside the band too,
 * the reverse move is CTL_FOLIO_HOLD_MS old, and HOT, the error, is
 * nearer one folio than none or two (thp-noise at a 5-window latency:
 * 62.5 % for a 60 % target for the whole 10 s of hold_ms, then 59.4 %).
 * Not when SRC -> DST itself moved within hold_ms: an early way back is
 * never undone early, so a folio goes back and forth no more often than
 * hold_ms allows. */
static bool folio_overshoot(const Controller *c, const CtlSample *s, const CtlDecision *d, size_t src,
			    size_t dst, uint64_t hot, bool confirmed, uint32_t worst_median)
{
	uint64_t folio = folio_size(d);

	if (!folio || !confirmed || c->n_hist < 3 || worst_median <= d->band_bp)
		return false;
	if (s->now_ms - c->last_move_ms[dst][src] < CTL_FOLIO_HOLD_MS)
		return false;
	if (c->ever_moved[src][dst] && s->now_ms - c->last_move_ms[src][dst] < c->p.hold_ms)
		return false;
	return 2 * hot > folio && 2 * hot < 3 * folio;
}

/* Flows: match the largest deficit with the largest surplus, greedily,
 * moving gain_pct of the smaller of the two; never undo a recent move of
 * the opposite direction (hold_ms), but one folio of an overshoot
 * (folio_overshoot). */
static void plan_flows(const Controller *c, const CtlSample *s, const int32_t *err, uint64_t est_total,
		       bool confirmed, uint32_t worst_median, CtlDecision *d)
{
	size_t n = c->p.n;
	int32_t need[CTL_N];

	memcpy(need, err, n * sizeof(*need));
	for (size_t round = 0; round < n * n; round++) {
		size_t dst = 0, src = 0;
		for (size_t i = 1; i < n; i++) {
			if (need[i] > need[dst])
				dst = i;
			if (need[i] < need[src])
				src = i;
		}
		if (need[dst] <= 0 || need[src] >= 0)
			break;
		int32_t amount_bp = MIN(need[dst], -need[src]);
		need[dst] -= amount_bp;
		need[src] += amount_bp;
		uint64_t hot = (uint64_t)((unsigned __int128)est_total * (uint64_t)amount_bp / 10000);
		if (c->ever_moved[dst][src] && s->now_ms - c->last_move_ms[dst][src] < c->p.hold_ms) {
			if (!folio_overshoot(c, s, d, src, dst, hot, confirmed, worst_median))
				continue;
			hot = MIN(hot, folio_size(d));
		}
		uint64_t bytes = region_part(s, src, hot);
		d->need_bytes[src][dst] += bytes;
		bytes = bytes * c->p.gain_pct / 100;
		bytes = CLAMP(bytes, c->p.min_bytes_per_tick, c->p.max_bytes_per_tick);
		d->run[src][dst] = true;
		d->bytes_per_tick[src][dst] += bytes;
	}
}

/* Whether a pair ran in the last decision or moved since: a stop takes
 * effect at the next charge window, and the window already running can
 * still migrate. 6.12, s16: "reached 58.50 %" went out in the interval the
 * push stopped; one more 2 MiB folio moved after it, and the workload held
 * 62.50 % from then on, inside the THP band, so nothing corrected it. */
static bool still_moving(const Controller *c, const CtlDecision *d)
{
	for (size_t i = 0; i < c->p.n; i++)
		for (size_t j = 0; j < c->p.n; j++)
			if (c->ran[i][j] || d->moved[i][j])
				return true;
	return false;
}

void controller_step(Controller *c, const CtlSample *s, CtlDecision *d)
{
	uint64_t moved_in[CTL_N] = { 0 }, moved_out[CTL_N] = { 0 }, est[CTL_N];
	bool unseen_any;

	memset(d, 0, sizeof(*d));
	account_moves(c, s, d, moved_in, moved_out);
	learn_folio(c, s, d);
	learn_full(c, s, d);
	bool moving = still_moving(c, d);
	memcpy(c->ran_before, c->ran, sizeof(c->ran));
	memset(c->ran, 0, sizeof(c->ran));
	uint64_t est_total = estimate_unseen(c, s, moved_in, moved_out, est, &unseen_any);
	est_total = drop_phantoms(c, s, est, est_total);
	judge_settled(c, s, d);
	d->estimate_total = est_total;
	metric_shares_bp(s->hot_bytes, c->p.n, d->measured_bp);
	metric_shares_bp(est, c->p.n, d->estimate_bp);
	effective_targets(c, s, est, est_total, d);
	c->started = true;
	c->last_ms = s->now_ms;

	memcpy(d->display_bp, d->estimate_bp, sizeof(d->display_bp));
	if (est_total == 0) { /* nothing hot measured: nothing to place */
		d->in_band = c->in_band;
		return;
	}
	d->folio_bytes = s->folio_bytes ? s->folio_bytes : c->huge_moves ? CTL_MAX_FOLIO : 0;
	d->band_bp = band_width(c, d, s, est_total);
	int32_t err[CTL_N];
	uint32_t worst = 0;
	for (size_t i = 0; i < c->p.n; i++) {
		err[i] = (int32_t)d->target_bp[i] - (int32_t)d->estimate_bp[i];
		worst = MAX(worst, (uint32_t)abs(err[i]));
	}
	uint32_t worst_all;
	uint32_t worst_median = worst_median_error(c, d, &worst_all);
	bool confirmed = !unseen_any && !d->settling && !moving;
	judge_band(c, d, worst, worst_median, worst_all, confirmed);
	/* Inside the band but kept out of it by the recent estimates: wait
	 * for them rather than move on one. */
	bool act = !c->in_band && worst > entry_band(c, d);
	if (act && d->settling)
		act = cut_to_beyond_unsettled(c, d, est_total, worst, err);
	if (act)
		plan_flows(c, s, err, est_total, confirmed, worst_median, d);
	memcpy(c->ran, d->run, sizeof(c->ran));
}

void controller_blind_step(const CtlDecision *last, size_t n, const uint64_t moved[][CTL_N], CtlDecision *ret)
{
	CtlDecision d = *last;

	d.events = 0;
	for (size_t s = 0; s < n; s++)
		for (size_t t = 0; t < n; t++)
			if (d.run[s][t] && moved[s][t] + d.bytes_per_tick[s][t] > d.need_bytes[s][t]) {
				d.run[s][t] = false;
				d.bytes_per_tick[s][t] = 0;
			}
	*ret = d;
}

void controller_goal_values(const CtlDecision *d, size_t s, size_t dst, bool temporal, uint64_t *ret_target,
			    uint64_t *ret_current)
{
	/* A goal with target_value 0 is dropped by the kernel (and the quota
	 * would then be unbounded): keep it at least 1. */
	uint64_t target = MAX(d->target_bp[dst], 1u);

	*ret_target = target;
	if (!d->run[s][dst])
		*ret_current = 2 * target;
	else if (temporal)
		*ret_current = MIN((uint64_t)d->estimate_bp[dst], target - 1);
	else
		*ret_current = 0;
}

uint64_t controller_folio_bp(uint64_t folio, uint64_t total)
{
	return total ? (folio * 10000 + total - 1) / total : 0;
}

uint64_t controller_window_quota(uint64_t bytes_per_tick, uint64_t window_ms, uint64_t interval_ms, uint64_t cap)
{
	const uint64_t page = system_page_size();
	uint64_t want = interval_ms ? bytes_per_tick * window_ms / interval_ms : bytes_per_tick;
	uint64_t p = page;

	/* At the speed cap, the cap itself: rounding it down would slow
	 * large moves by up to half. Below it, a power of two: asked to the
	 * page, 6.12 overshot a 256 MiB/s approach to 69.5 % for 60 % (s2):
	 * its scheme stats lagged the migrations by an interval, and the
	 * second step was sized on 15 of the 40 MiB already moved. */
	if (want >= cap)
		return MAX(cap, page);
	while (p * 2 <= want)
		p *= 2;
	return p;
}

uint64_t controller_node_capacity(uint64_t node_total, uint64_t node_free, uint64_t hot_on_node)
{
	uint64_t reserve = node_total * 3 / 100;
	uint64_t cap = node_free + hot_on_node;

	return cap > reserve ? cap - reserve : 1;
}
