/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The run-state file dtierd keeps under its run_dir (/run/dtierd/state):
 * which kdamond it owns and whether it turned DAMON_STAT off, so that a
 * cleanup after a crash (or a tool) knows what is ours. INI syntax, read with
 * inih:
 *   [dtierd]
 *   pid = 123
 *   kdamond = 0
 *   kdamond_pid = 456
 *   created_kdamonds = 1
 *   damon_stat_taken = 0
 *   reloads = 2          (reloads handled so far)
 *   reload_ok = 1        (whether the last one was applied)
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct RunState {
	pid_t pid;
	int kdamond;
	int64_t kdamond_pid;
	bool created_kdamonds;
	bool damon_stat_taken;
	unsigned long reloads;
	bool reload_ok;
} RunState;

/* Writes DIR/state atomically (temp file + rename), creating DIR. */
int runstate_write(const char *dir, const RunState *s);
/* Reads DIR/state. Returns 0, -ENOENT, or -EINVAL if unparsable. */
int runstate_read(const char *dir, RunState *ret);
int runstate_parse(const char *text, RunState *ret);
int runstate_remove(const char *dir);
