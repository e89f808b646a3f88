/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "controller.h"
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

typedef struct Manager {
	Config *cfg;
	char *root;
	bool real_root;
	Sysfs fs;
	NodeMap map;
	Kpf kpf;
	bool have_kpf;
	Damon damon;
	DamonPlan plan;
	int pair_scheme[CTL_N][CTL_N]; /* scheme index of s->d, -1 on the diagonal */
	Controller ctl;
	uint64_t window_ms;
	uint64_t committed_quota[DAMON_MAX_SCHEMES];
	bool armed;
	bool ready;
	bool damon_stat_taken;
	unsigned failures;
	uint64_t watchdog_usec;
	unsigned long long ticks;
	unsigned long reloads;
	bool reload_ok;
	sd_event *event;
	sd_event_source *timer;
	int exit_code;
} Manager;

/* Sets up DAMON from CFG (taking ownership of CFG). Returns an EXIT_* code;
 * on failure everything set up so far is undone and the reason logged. */
int manager_start(Manager *m, Config *cfg, const char *root, sd_event *event);
/* Undo everything (off, remove our kdamond, restore DAMON_STAT). Returns 0
 * or the first -errno (already logged). */
int manager_stop(Manager *m);
/* Removes DAMON state left by a dead dtierd per RUN_DIR/state (see
 * manager.c). Returns 0, -EALREADY if that dtierd still runs, or -errno. */
int manager_recover(Sysfs *fs, const char *run_dir);
/* `dtierd --reload`: SIGHUPs the dtierd recorded in RUN_DIR/state and waits
 * until it has handled it. Returns 0 if the new configuration was applied,
 * -EINVAL if it was rejected, -ESRCH if no dtierd runs, -ETIMEDOUT. */
int manager_request_reload(const char *run_dir, unsigned timeout_ms);
/* Re-reads the config file (SIGHUP). */
void manager_reload(Manager *m);
