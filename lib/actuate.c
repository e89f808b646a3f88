/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "actuate.h"

void actuate_init(ActuateState *st, const DamonPlan *plan)
{
	*st = (ActuateState){ .armed = false };
	for (size_t i = 0; i < plan->n_schemes; i++)
		st->committed_quota[i] = plan->schemes[i].quota_bytes;
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
			uint64_t q = d->run[s][t] ? controller_window_quota(d->bytes_per_tick[s][t], p->armed_window_ms,
									    p->interval_ms, p->window_cap_bytes)
						  : ACTUATE_STOP_QUOTA;
			a.quota[i] = q;
			if (q != st->committed_quota[i])
				a.full_commit = true;
			controller_goal_values(d, s, t, temporal, &a.goal_target[i], &a.goal_current[i]);
		}
	/* A goals-only commit changes no quota. */
	if (!a.full_commit)
		for (size_t i = 1; i < p->n_schemes; i++)
			a.quota[i] = st->committed_quota[i];
	*ret = a;
}

void actuate_committed(ActuateState *st, const ActuateParams *p, const Actuation *a)
{
	if (!a->full_commit)
		return;
	for (size_t i = 1; i < p->n_schemes; i++)
		st->committed_quota[i] = a->quota[i];
	st->armed = true;
}
