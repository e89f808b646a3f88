/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Config + NodeMap -> everything dtierd sets up from them: the DAMON plan
 * (regions, filters, schemes), which scheme serves which node pair, the
 * controller's parameters and the actuation's. Pure: no files, no clock;
 * start and reload build one, the simulator builds the same. */

#include "config.h"
#include "controller.h"
#include "damon-sysfs.h"
#include "node-map.h"

/* What actuate.c needs to turn a decision into scheme values. */
typedef struct ActuateParams {
	size_t n;                       /* tier nodes */
	int pair_scheme[CTL_N][CTL_N];  /* scheme index of s->d, -1 on the diagonal */
	size_t pairs_first, pairs_end;  /* the pairs' schemes: pairs_first .. pairs_end - 1 */
	uint64_t window_ms;             /* first (disarmed) charge window: one aggregation */
	uint64_t armed_window_ms;       /* charge window once armed: half an interval */
	uint64_t interval_ms;
	uint64_t window_cap_bytes;      /* max_mib_per_s over one armed window */
	/* measure.metric = "kernel": the pairs' goals are the kernel's
	 * node_eligible_mem_bp and its tuner decides which pair runs; dtierd
	 * sets each goal a band below its target and each quota to about that
	 * band of the hot memory (actuate.c kernel_pair). */
	bool kernel_goals;
} ActuateParams;

typedef struct DamonSetup {
	DamonPlan plan;
	ActuateParams act;
	CtlParams ctl;
} DamonSetup;

/* The controller's parameters from C (targets, deadband, hold, speed cap). */
void damon_plan_ctl_params(const Config *c, CtlParams *ret);

/* Builds the whole setup. Returns 0; -ENOENT if a tier node has no online
 * memory in MAP (its tier index in *ret_bad_tier); -E2BIG if the tier nodes'
 * memory needs more than DAMON_MAX_REGIONS regions; -EMLINK if a node's
 * memory needs more than DAMON_MAX_FILTERS address filters (*ret_bad_tier).
 * RET is written only on success. */
int damon_plan_build(const Config *c, const NodeMap *map, DamonSetup *ret, size_t *ret_bad_tier);

/* Fits the plan to the kernel's features F; call once they are known,
 * before staging.
 * - Pair schemes carry a user_input goal only where the kernel's tuner acts
 *   within a window (temporal, 7.1+): it closes the quota as soon as the
 *   goal reads met. 6.12's consist tuner ramps x2 per window from 1 byte
 *   after every stop (12 s to one page at one-interval windows), so there
 *   the size quota alone is the actuator (no goal: esz = bytes). */
void damon_plan_fit_kernel(DamonPlan *p, const DamonFeatures *f);
