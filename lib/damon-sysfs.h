/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The DAMON sysfs admin tree (sys/kernel/mm/damon/admin), as dtierd uses it:
 * one kdamond of its own with one paddr context, one target whose regions
 * cover the tier nodes, scheme 0 a `stat` query of the hot pattern, the
 * level schemes (the measurement, damon-plan.c), one `migrate_hot` per
 * ordered node pair with address filters that reject every range outside
 * the source node (the form that works on 6.12 without `allow`, and on
 * 7.x), and the pulse.
 *
 * Kernel facts this relies on (docs/kernel-interface.md): nr_* writes
 * recreate all children; nr_kdamonds cannot change while any kdamond runs;
 * state, pid and nr_* use a trylock (EBUSY = retry); new schemes default to
 * an all-zero access pattern; paddr has no default region; `pid` reads -1
 * while a kdamond is stopped. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sysfs.h"
#include "tried-regions.h"

#define DAMON_ADMIN "sys/kernel/mm/damon/admin"
/* 1 + CONFIG_MAX_TIERS x DAMON_MAX_LEVELS + the pairs + the pulse, levels fewer with many tiers */
#define DAMON_MAX_SCHEMES 128
#define DAMON_MAX_LEVELS 20
#define DAMON_MAX_FILTERS 16
#define DAMON_MAX_REGIONS 64

typedef struct DamonFeatures {
	bool paddr;
	bool migrate;          /* migrate_hot + target_nid (6.11) */
	bool goals;            /* quotas/goals (6.8) */
	bool goal_metric;      /* goals/N/target_metric (6.9); without it user_input is implicit */
	bool tried_regions;    /* 6.2 */
	bool temporal;         /* quotas/goal_tuner accepts temporal (7.1) */
	bool eligible_metric;  /* goals/N/target_metric accepts node_eligible_mem_bp, and goals/N/nid (7.2) */
	bool core_filters;     /* schemes/N/core_filters (6.15) */
	bool filter_allow;     /* filters/N/allow (6.14) */
} DamonFeatures;

typedef struct DamonRange {
	uint64_t start, end;
} DamonRange;

typedef struct DamonScheme {
	const char *action;    /* "stat" or "migrate_hot" */
	int target_nid;        /* -1 for stat */
	uint64_t sz_min;
	uint32_t nr_accesses_min;
	uint32_t age_min;
	bool armed;            /* false: an access pattern nothing matches */
	uint64_t quota_bytes;  /* 0: no quota at all */
	uint64_t reset_ms;
	/* quotas/weights (permil): the priority DAMON gives regions under a
	 * quota (damon-plan.c says why dtierd's are all 0). */
	uint32_t weight_sz, weight_nr_accesses, weight_age;
	bool goal;
	/* The goal's metric: user_input (dtierd writes goal_current), or the
	 * kernel's node_eligible_mem_bp of node goal_nid (measure.metric). */
	bool goal_eligible;
	int goal_nid;
	uint64_t goal_target, goal_current;
	size_t n_reject;
	DamonRange reject[DAMON_MAX_FILTERS];
} DamonScheme;

typedef struct DamonPlan {
	uint64_t sample_us, aggr_us;
	unsigned min_regions, max_regions;
	size_t n_regions;
	DamonRange regions[DAMON_MAX_REGIONS];
	size_t n_schemes;
	DamonScheme schemes[DAMON_MAX_SCHEMES];
	size_t pulse;          /* index of the pulse scheme (damon-plan.c), 0: none */
	/* measure.source = "levels": from scheme levels_first, n_levels stat
	 * schemes per tier node (in tier order), scheme j of a node admitting
	 * its regions with nr_accesses >= level_nr[j]. n_levels 0: none. */
	size_t levels_first, n_levels;
	uint32_t level_nr[DAMON_MAX_LEVELS];
} DamonPlan;

typedef struct Damon {
	Sysfs *fs;
	unsigned kd;             /* our kdamond's index */
	bool created_kdamonds;   /* we raised nr_kdamonds from 0 */
	bool staged;             /* we wrote nr_contexts under our kdamond */
	bool started;
	int64_t pid;             /* the kernel thread we started (or adopted), -1 */
	DamonFeatures feat;
	char dir[128];           /* DAMON_ADMIN/kdamonds/<kd> */
} Damon;

enum {
	DAMON_MOD_STAT,
	DAMON_MOD_RECLAIM,
	DAMON_MOD_LRU_SORT,
	_DAMON_MOD_MAX,
};

/* "damon_stat", "damon_reclaim", "damon_lru_sort". */
const char *damon_module_name(unsigned mod);
/* Whether the module's `enabled` parameter reads Y. Returns 1, 0, -ENOENT
 * (module not built) or -errno. */
int damon_module_enabled(const Sysfs *fs, unsigned mod);
int damon_module_set_enabled(Sysfs *fs, unsigned mod, bool on);

/* Returns 0 if the DAMON sysfs interface exists, -ENOENT if not. */
int damon_available(const Sysfs *fs);

/* Checks that no kdamond exists at all: any, even an empty stopped one, is
 * someone else's (dtierd's own leftovers are removed by recovery first).
 * Returns 0 if free, -EEXIST with a description of what was found in DESC,
 * or another -errno. */
int damon_check_foreign(const Sysfs *fs, char *desc, size_t size);

/* Creates our kdamond (nr_kdamonds 0 -> 1), stages one paddr context and
 * probes the kernel's features on it. Returns 0, -EEXIST if any kdamond
 * exists, or -errno. */
int damon_create(Damon *d, Sysfs *fs);

/* Checks the features dtierd needs. Returns 0, or -EOPNOTSUPP with what is
 * missing in WHAT ("migrate_hot and schemes/N/target_nid (Linux 6.11)"). */
int damon_require_features(const DamonFeatures *f, char *what, size_t size);

/* Writes PLAN into our staged context (not running). Returns 0 or -errno;
 * on error *ret_path (if non-NULL) names the file that failed. */
int damon_stage(Damon *d, const DamonPlan *plan, char *ret_path, size_t path_size);
/* `on`, then records the kdamond's pid. Returns 0 or -errno. */
int damon_start(Damon *d);
/* Whether what runs at our index is still the kdamond we started: 0 if so,
 * -ESRCH if nothing runs there, -EPERM if another kernel thread does (someone
 * stopped ours and started theirs: write nothing more), or -errno. */
int damon_check_owned(Damon *d);
/* Rewrites the value files of scheme I that a commit may change: access
 * pattern (armed or not), quota bytes and charge window. Then
 * damon_commit(). */
int damon_stage_scheme_values(Damon *d, size_t i, const DamonScheme *s);
/* `commit`, then damon_check_owned() (a rejected commit stops the kdamond
 * on kernels before 6.18 without returning an error). */
int damon_commit(Damon *d);
/* Scheme SCHEME's goal: target_value, and current_value unless CURRENT is
 * NULL (a kernel metric: the kernel reads its own). */
int damon_set_goal(Damon *d, size_t scheme, uint64_t target, const uint64_t *current);
int damon_commit_goals(Damon *d);

/* Refreshes and reads scheme SCHEME's tried regions (the files FIELDS
 * says). */
int damon_update_tried_regions(Damon *d);
int damon_read_tried_regions(Damon *d, size_t scheme, TriedFields fields, RegionList *ret);
/* Refreshes stats; reads sz_applied of scheme I. */
int damon_update_stats(Damon *d);
int damon_read_sz_applied(Damon *d, size_t i, uint64_t *ret);
/* Scheme I's stats/sz_tried (after damon_update_stats()). 0 or -errno. */
int damon_read_sz_tried(Damon *d, size_t i, uint64_t *ret);
/* Scheme I's stats/nr_tried, the regions it tried (likewise). */
int damon_read_nr_tried(Damon *d, size_t i, uint64_t *ret);

/* A digest of the kdamond's shape: operations, regions, each scheme's
 * action, target node and address filters (what a plan fixes and ticks
 * never change). DAMON_DIGEST_EMPTY: no context. Recorded in the run state
 * after staging, so that recovery adopts only a tree dtierd staged. */
#define DAMON_DIGEST_NONE 0   /* recorded before a plan was staged */
#define DAMON_DIGEST_EMPTY 1
int damon_digest(Damon *d, uint64_t *ret);

/* Turns our kdamond off (if running) and removes what we created: our
 * context and, if we created it, the kdamond directory (nr_kdamonds back to
 * 0). First checks that what runs at our index is ours: -EPERM, and nothing
 * written, if not. Safe on a half-built Damon. Returns 0 or the first
 * -errno. */
int damon_teardown(Damon *d);

/* Re-attaches to kdamond KD that an earlier dtierd instance recorded in its
 * run state, so that it can be torn down: only if it is provably that
 * instance's. Its digest must equal DIGEST (or, for DAMON_DIGEST_NONE, the
 * kdamond must be stopped with no context or a half-probed paddr one), and
 * if it runs, it must run as KDAMOND_PID (when recorded, >= 0). Writes
 * nothing. Returns 0, -ENOENT if there is no such kdamond, -EPERM if it is
 * not provably ours, or -errno. */
int damon_adopt(Damon *d, Sysfs *fs, unsigned kd, int64_t kdamond_pid, bool created_kdamonds, uint64_t digest);
