/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "actuate.h"
#include "util.h"

void actuate_init(ActuateState *st, const DamonPlan *plan)
{
	*st = (ActuateState){ .armed = false };
	for (size_t i = 0; i < plan->n_schemes; i++) {
		st->committed_quota[i] = plan->schemes[i].quota_bytes;
		st->committed_reset_ms[i] = plan->schemes[i].reset_ms;
	}
}

/* Pair S->T's quota and charge window. DAMON charges the piece it split a
 * region to (the quota left, at least a page) but migrates the whole folio
 * under it, and a new quota takes effect at the next window start: with
 * half-interval windows a pair that runs for one interval moves at least
 * two folios. When the controller wants less than that (THP, close to the
 * target), one window of the whole interval with a quota of at most one
 * folio moves exactly one folio; two-folio moves around a target between
 * two folio steps ping-ponged in the sim (thp-resize: 56.2 <-> 62.5 % every
 * hold_s). The quota is what is wanted, not one page: in mixed memory the
 * piece may be 4 KiB pages, and a one-page quota then moved 4 KiB an
 * interval (6.12, s19: 8 s at 53 % for a 60 % target, until the folio size
 * was unlearned). */
static void pair_quota(const ActuateParams *p, const CtlDecision *d, size_t s, size_t t, uint64_t *ret_quota,
		       uint64_t *ret_reset_ms)
{
	const uint64_t page = system_page_size();
	uint64_t want = d->bytes_per_tick[s][t];

	*ret_reset_ms = p->armed_window_ms;
	if (!d->run[s][t]) {
		*ret_quota = ACTUATE_STOP_QUOTA;
		return;
	}
	uint64_t windows = p->armed_window_ms ? MAX(p->interval_ms / p->armed_window_ms, 1u) : 1;
	if (d->folio_bytes > page && windows > 1 && want < windows * d->folio_bytes) {
		*ret_quota = CLAMP(want, page, d->folio_bytes);
		*ret_reset_ms = p->interval_ms;
		return;
	}
	*ret_quota = controller_window_quota(want, p->armed_window_ms, p->interval_ms, p->window_cap_bytes);
}

/* measure.metric = "kernel": the kernel's node_eligible_mem_bp goal of
 * each pair's destination decides, every charge window, whether the pair
 * runs; dtierd sizes the step and leaves a dead zone. With the goals at
 * the targets themselves and the quota at the speed cap (the patch's
 * recipe) 7.3 swung node 0 between 40 and 81 % for a 60 % target (s21:
 * 16 MiB windows are a quarter of the 64 MiB hot set, and at the target
 * one pair's goal is always unmet). Each goal is its destination's
 * target less the band B (the deadband, at least one folio of the hot
 * memory): both goals are met within B of the targets. A window moves B
 * of the hot memory at most, so no step jumps the 2 B zone. */
static void kernel_pair(const ActuateParams *p, const CtlDecision *d, size_t t, uint64_t *ret_quota,
			uint64_t *ret_target)
{
	uint64_t total = d->estimate_total;
	uint64_t band = d->band_bp;

	if (d->folio_bytes)
		band = MAX(band, controller_folio_bp(d->folio_bytes, total));
	uint64_t step = (uint64_t)((unsigned __int128)total * band / 10000);

	/* One window's worth of STEP, as the userspace pairs round it. */
	*ret_quota = controller_window_quota(step, 1, 1, p->window_cap_bytes);
	*ret_target = d->target_bp[t] > band ? d->target_bp[t] - band : 1;
}

void actuate_decide(const ActuateParams *p, const ActuateState *st, const CtlDecision *d, bool temporal,
		    Actuation *ret)
{
	Actuation a = { .full_commit = !st->armed };

	for (size_t s = 0; s < p->n; s++)
		for (size_t t = 0; t < p->n; t++) {
			int i = p->pair_scheme[s][t];
			if (i < 0)
				continue;
			/* The size quota is the actuator: what the controller
			 * asked for this interval, or less than a page (nothing
			 * moves) while the pair must not run. */
			if (p->kernel_goals) {
				a.reset_ms[i] = p->armed_window_ms;
				kernel_pair(p, d, t, &a.quota[i], &a.goal_target[i]);
			} else {
				pair_quota(p, d, s, t, &a.quota[i], &a.reset_ms[i]);
				controller_goal_values(d, s, t, temporal, &a.goal_target[i], &a.goal_current[i]);
			}
			if (a.quota[i] != st->committed_quota[i] || a.reset_ms[i] != st->committed_reset_ms[i])
				a.full_commit = true;
		}
	/* A goals-only commit changes no quota. */
	if (!a.full_commit)
		for (size_t i = p->pairs_first; i < p->pairs_end; i++) {
			a.quota[i] = st->committed_quota[i];
			a.reset_ms[i] = st->committed_reset_ms[i];
		}
	*ret = a;
}

void actuate_committed(ActuateState *st, const ActuateParams *p, const Actuation *a)
{
	if (!a->full_commit)
		return;
	for (size_t i = p->pairs_first; i < p->pairs_end; i++) {
		st->committed_quota[i] = a->quota[i];
		st->committed_reset_ms[i] = a->reset_ms[i];
	}
	st->armed = true;
}
