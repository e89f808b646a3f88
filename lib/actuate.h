/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A CtlDecision + what is committed now -> what to write this interval:
 * every pair scheme's quota (`bytes` per charge window, of half an interval
 * once armed, or of a whole one for a single folio) and goal values, and whether that needs a full `commit` (to arm the
 * schemes the first time, or because a quota changed) or only
 * `commit_schemes_quota_goals` (schemes with goals). Pure; the daemon and the
 * simulator call the same function. */

#include <stdbool.h>
#include <stdint.h>

#include "controller.h"
#include "damon-plan.h"

/* The quota of a pair that must not move: less than a page, so DAMON splits
 * nothing off to migrate (0 would mean no quota at all). */
#define ACTUATE_STOP_QUOTA 1

/* What the kernel runs now. */
typedef struct ActuateState {
	bool armed;                                 /* pair schemes armed by a full commit */
	uint64_t committed_quota[DAMON_MAX_SCHEMES];
	uint64_t committed_reset_ms[DAMON_MAX_SCHEMES];
} ActuateState;

typedef struct Actuation {
	bool full_commit;
	/* Per scheme index (pair schemes only; scheme 0 untouched). On a
	 * goals-only commit, quota[] equals what is committed. */
	uint64_t quota[DAMON_MAX_SCHEMES];
	uint64_t reset_ms[DAMON_MAX_SCHEMES]; /* the quota's charge window */
	uint64_t goal_target[DAMON_MAX_SCHEMES];
	uint64_t goal_current[DAMON_MAX_SCHEMES];
} Actuation;

/* What a freshly staged PLAN runs: disarmed pair schemes with the plan's
 * quotas (one page: never 0, which would mean no quota at all). */
void actuate_init(ActuateState *st, const DamonPlan *plan);
/* TEMPORAL: the kernel's goal tuner is `temporal` (else `consist`). */
void actuate_decide(const ActuateParams *p, const ActuateState *st, const CtlDecision *d, bool temporal,
		    Actuation *ret);
/* After A was committed: what the kernel runs now. */
void actuate_committed(ActuateState *st, const ActuateParams *p, const Actuation *a);
