/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The Manager: dtierd's one kdamond, its plan and controller, driven by
 * sd-event. manager.c starts, ticks and stops it; preflight.c checks the
 * kernel and removes what a dead instance left; reload.c swaps in a new
 * configuration; report.c says what happened. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "actuate.h"
#include "config.h"
#include "cost.h"
#include "status.h"
#include "controller.h"
#include "damon-plan.h"
#include "damon-sysfs.h"
#include "kpageflags.h"
#include "node-map.h"
#include "sysfs.h"

/* Exit codes (documented in dtierd(8)). */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
	EXIT_CONFIG = 3,
	EXIT_KERNEL = 4,  /* DAMON missing or too old, or no such nodes */
	EXIT_REFUSED = 5, /* someone else's DAMON state */
};

/* Consecutive failed intervals before giving up. */
#define MANAGER_MAX_FAILURES 10
/* Empty (6.12) or overlapping (7.3) tried-regions answers asked for again
 * in one interval. */
#define MANAGER_TRIED_REREADS 2
/* How often the node map is compared with the memory blocks. */
#define MANAGER_MAP_CHECK_USEC (30ULL * 1000 * 1000)

/* measure.source = "levels": the counters read_level_counters() reads, in
 * this order: the pulse's sz_tried, scheme 0's sz_tried and nr_tried, then
 * every level scheme's sz_tried, then every level scheme's nr_tried (the
 * regions, for the error bound). */
enum { LEVELS_PULSE, LEVELS_SZ0, LEVELS_NR0, LEVELS_FIRST };
#define LEVELS_COUNTERS_MAX (LEVELS_FIRST + 2 * CONFIG_MAX_TIERS * DAMON_MAX_LEVELS)

typedef struct Manager {
	Config *cfg;
	char *root;
	bool real_root;
	char *run_dir;          /* cfg->run_dir under root */
	Sysfs fs;
	NodeMap map;
	Kpf kpf;
	bool have_kpf;
	Damon damon;
	DamonSetup setup;       /* plan, pair -> scheme map, parameters */
	ActuateState act;       /* what the kernel runs now */
	bool stage_dirty;       /* the staged tree may differ from setup.plan */
	size_t last_n_regions;  /* hot regions the last measurement read */
	uint64_t measure_tried; /* scheme 0's sz_tried at the last interval */
	bool have_measure_tried;
	uint64_t measure_pulse; /* the pulse scheme's sz_tried at the last interval */
	bool have_measure_pulse;
	/* Why this interval's answer is no measurement, every time asked
	 * (overlapping tried regions, no apply pass), or NULL. */
	const char *measure_bad;
	char measure_bad_text[160]; /* what measure_bad points at when it has numbers */
	/* measure.source = "levels": the counters read_level_counters() read
	 * at the last interval (none after staging). */
	uint64_t levels_last[LEVELS_COUNTERS_MAX];
	bool have_levels_last;
	bool stats_fresh;       /* update_schemes_stats done this interval */
	Controller ctl;
	uint64_t digest;        /* damon_digest() of what we staged */
	bool damon_stat_taken;
	bool recorded;          /* a run-state record of ours exists */
	bool ready_pending;     /* READY=1 once the next interval completed */
	unsigned failures;
	uint64_t map_checked_usec;
	unsigned long reloads;
	bool reload_ok;
	/* What publish.c needs from the tick, and keeps across ticks. */
	uint64_t last_applied[CTL_N][CTL_N];
	CtlDecision decision;   /* the last interval's with a measurement */
	uint64_t decision_applied[CTL_N][CTL_N]; /* sz_applied when it was made */
	uint64_t last_capacity[CTL_N];
	MigrationWindow mig_win[CTL_N][CTL_N];
	uint64_t mig_base[CTL_N][CTL_N]; /* totals published by previous instances */
	CostRing cost;
	CostStats cost_stats;
	uint64_t errors_total;
	char last_error[STATUS_TEXT_MAX];
	char *prom_path;        /* cfg->prometheus_textfile under root, as last written */
	bool status_failing;    /* the last write of status.json failed (said once) */
	bool prom_failing;      /* the last write of prom_path failed (said once) */
	sd_event *event;
	sd_event_source *timer;
} Manager;

/* Sets up DAMON from CFG (taking ownership of CFG) under ROOT ("/" in
 * production). Returns an EXIT_* code; on failure everything set up so far is
 * undone and the reason logged. */
int manager_start(Manager *m, Config *cfg, const char *root, sd_event *event);
/* The same, with PROTO's write hook and EBUSY backoff (tests: the emulated
 * DAMON tree's). */
int manager_start_with(Manager *m, Config *cfg, const char *root, const Sysfs *proto, sd_event *event);
/* Undo everything (off, remove our kdamond, restore DAMON_STAT) and free M.
 * The run-state record goes only if all of it succeeded. Returns 0 or the
 * first -errno (already logged). */
int manager_stop(Manager *m);
/* One control interval. Returns 0, -EPERM if our kdamond is not ours any
 * more (nothing was written), -ESRCH if it stopped, or -errno. */
int manager_tick(Manager *m);
/* What the timer does with manager_tick()'s result: counts failures and
 * returns 0 to go on, or the EXIT_* code the loop must end with. */
int manager_on_tick_result(Manager *m, int r);
/* Writes the run-state record. Returns 0 or -errno (logged). */
int manager_record(Manager *m);

/* Stages the whole plan and records its digest. Returns 0 or -errno (logged). */
int manager_stage(Manager *m);
/* measure.source = "levels": reads the level schemes' counters that the
 * next interval measures from, once the kdamond started or took a new plan;
 * without them that interval only reads them. */
void manager_levels_baseline(Manager *m);
/* C's measure.metric against the kernel's DAMON: 0, or -EOPNOTSUPP (logged:
 * "kernel" where the kernel has no node_eligible_mem_bp). */
int manager_check_metric(const Manager *m, const Config *c);
/* Logs why damon_plan_build() failed with R; returns R. */
int manager_plan_error(const Config *c, int r, size_t bad_tier);

/* RUN_DIR resolved under ROOT: the host's run_dir only for ROOT "/", so a
 * test run never reads or removes the host's record. Returns a new string. */
char *manager_run_dir(const char *root, const char *run_dir);

/* preflight.c: removes DAMON state left by a dead dtierd per RUN_DIR/state,
 * and only what is provably its own. Returns 0 (nothing left, or cleaned),
 * -EALREADY if that dtierd still runs, -EPERM if the recorded kdamond is not
 * provably dtierd's (left alone), or -errno. The record goes only when all
 * of it was undone. */
int manager_recover(Sysfs *fs, const char *run_dir);
/* Whether PID is a running dtierd (its /proc/PID/exe or comm says so). */
bool manager_pid_is_dtierd(int pid);
/* A configuration without `tiers` gets the topology's default layout
 * (topology_default_tiers(): everything hot on the nodes with CPUs, as
 * far as they hold it), said in the log with every cross-check warning.
 * Returns 0, or -errno (logged) with CFG->n_tiers left 0. */
int manager_default_tiers(const Sysfs *fs, Config *cfg);
int preflight_check_kernel(Manager *m);
int preflight_check_foreign(Manager *m);
/* Decides about DAMON_RECLAIM/LRU_SORT/STAT before anything changes.
 * Returns EXIT_OK (*ret_take: DAMON_STAT must be turned off) or EXIT_*. */
int preflight_check_modules(Manager *m, bool *ret_take);
int preflight_take_damon_stat(Manager *m);

/* reload.c: re-reads the config file (SIGHUP). */
void manager_reload(Manager *m);
/* Reloads the node map; if it changed (memory hotplug), rebuilds and
 * commits the plan for the running configuration. Returns 0 (unchanged), 1
 * (changed) or -errno. */
int manager_check_node_map(Manager *m);
/* `dtierd --reload`: SIGHUPs the running dtierd (MAINPID if > 0, else the
 * pid in RUN_DIR/state, if that is a dtierd) and waits until it has handled
 * it. Returns 0 if the new configuration was applied, -EINVAL if it was
 * rejected, -ESRCH if no dtierd runs, -ETIMEDOUT. */
int manager_request_reload(const char *run_dir, int mainpid, unsigned timeout_ms);
