/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The run-state file dtierd keeps under its run_dir (/run/dtierd/state):
 * which kdamond it owns and whether it turned DAMON_STAT off, so that a
 * cleanup after a crash (or a tool) knows what is ours. It is written before
 * every change to the kernel's state (the intent), and again after. INI
 * syntax, read with inih:
 *   [dtierd]
 *   pid = 123
 *   kdamond = 0          (-1: none yet)
 *   kdamond_pid = 456    (-1: not started yet)
 *   created_kdamonds = 1
 *   damon_stat_taken = 0
 *   digest = 0x...       (damon_digest() of the staged tree; 0: not staged)
 *   reloads = 2          (reloads handled so far)
 *   reload_ok = 1        (whether the last one was applied)
 *
 * The directory must be a real directory (not a symlink) owned by root or
 * by us and writable by nobody else; the file is created with
 * O_EXCL|O_NOFOLLOW under a temporary name and renamed over. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct RunState {
	pid_t pid;
	int kdamond;
	int64_t kdamond_pid;
	bool created_kdamonds;
	bool damon_stat_taken;
	uint64_t digest;
	unsigned long reloads;
	bool reload_ok;
} RunState;

/* Writes DIR/state atomically, creating DIR (mode 0755 whatever the umask). Returns 0, -ENOTDIR
 * or -EPERM if DIR is not a safe directory (a symlink, someone else's, or
 * group/world-writable), or -errno. */
int runstate_write(const char *dir, const RunState *s);
/* Reads DIR/state. Returns 0, -ENOENT, -EPERM (unsafe DIR or file), or
 * -EINVAL if unparsable or a value is out of range. */
int runstate_read(const char *dir, RunState *ret);
int runstate_parse(const char *text, RunState *ret);
int runstate_remove(const char *dir);
