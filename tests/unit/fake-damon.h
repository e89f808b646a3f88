/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A temp-root emulation of the DAMON sysfs admin tree, for testing the
 * writer (lib/damon-sysfs.c) without a kernel.
 *
 * lib/sysfs.c calls Sysfs.write_hook before every write; the fake's hook does
 * what the kernel's store handlers do (docs/kernel-interface.md, "Files and their rules"):
 *   - nr_* files remove all numbered children, then create 0..N-1 with their
 *     default files (even when N is unchanged);
 *   - nr_kdamonds is EBUSY while any kdamond runs; nr_contexts only 0 or 1;
 *   - keyword files (action, operations, type, target_metric, goal_tuner,
 *     state) reject unknown words with EINVAL, booleans take kstrtobool
 *     words, numbers must parse like kstrtoul(base 0);
 *   - a file that does not exist in the emulated kernel version is ENOENT
 *     (the write then never reaches the disk);
 *   - `state`: on/off and the commands the writer uses, with the kernel's
 *     errors (on while on: EBUSY, commands while off: EINVAL, on while
 *     DAMON_STAT runs: EBUSY).
 * Only what dtierd touches is modelled. Every accepted write is logged in
 * order, so tests can check ordering as well as final values.
 *
 * Limitation: the hook runs before the write, and the write then stores the
 * keyword itself in `state`. on/off leave the right value; after any other
 * command the fake restores "on" at its next hook call or at
 * fake_damon_settle(). `pid` is always right, which is what damon-sysfs.c
 * reads to tell whether (and whose) a kdamond runs.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sysfs.h"

typedef struct FakeDamonShape {
	const char *name;
	bool target_nid;        /* schemes/N/target_nid + migrate_* (6.11) */
	bool filter_allow;      /* filters/N/allow (6.14) */
	bool layered_filters;   /* core_filters/ + ops_filters/ (6.15) */
	bool legacy_filters;    /* filters/ (6.3; kept on 7.3) */
	bool goal_nid;          /* goals/N/nid (6.16) */
	bool goal_tuner;        /* quotas/goal_tuner (7.1) */
	bool node_metrics;      /* node_*_bp goal metrics (6.16+) */
} FakeDamonShape;

extern const FakeDamonShape FAKE_DAMON_6_10; /* 6.12 without target_nid/migrate_hot */
extern const FakeDamonShape FAKE_DAMON_6_12;
extern const FakeDamonShape FAKE_DAMON_7_3;
extern const FakeDamonShape FAKE_DAMON_7_X_NO_LEGACY; /* 7.3 without filters/ */

typedef struct FakeWrite {
	char *path; /* relative to the admin dir, e.g. "kdamonds/0/state" */
	char *value;
} FakeWrite;

#define FAKE_MAX_TRIED 16
#define FAKE_MAX_SCHEMES 128

typedef struct FakeDamon {
	char *root;
	Sysfs fs;
	const FakeDamonShape *shape;

	size_t n_log, cap_log;
	FakeWrite *log;

	/* Injection: writes to paths ending in busy_suffix fail with EBUSY
	 * while busy_left > 0; busy_hits counts those attempts. */
	char busy_suffix[256];
	unsigned busy_left;
	unsigned busy_hits;
	/* Writes to paths ending in fail_suffix fail with fail_errno; with
	 * fail_stops_kdamond, a failed `state` write finds the kdamond
	 * stopped (as when it exits by itself just before an `off`). */
	char fail_suffix[256];
	int fail_errno;
	bool fail_stops_kdamond;

	/* What the emulated kdamond reports on the update_* commands. */
	uint64_t sz_applied[FAKE_MAX_SCHEMES];
	uint64_t sz_tried[FAKE_MAX_SCHEMES];
	uint64_t nr_tried[FAKE_MAX_SCHEMES];
	/* Apply passes per update_schemes_stats, each adding to every
	 * scheme's sz_tried and nr_tried what it tries of the tried list
	 * (the whole monitored memory for a stat scheme with neither
	 * threshold nor quota); 1 from fake_damon_init(). 0: the counters change
	 * only as the test sets them (and the pulse's, below). */
	unsigned passes_per_update;
	/* The update writes no regions (total_bytes 0), as 6.12 did for about
	 * half the requests while its kdamond went on trying them. */
	bool tried_unanswered;
	/* The kdamond applies no scheme between two updates (6.12 under TCG
	 * at ~1 500 hot regions): a stat scheme every region matches (the
	 * pulse) tries nothing either; otherwise its sz_tried grows by a page
	 * per update_schemes_stats, as it does by a page per window. */
	bool apply_stalled;
	unsigned pulse_mask;    /* such schemes, as last turned on or committed */
	size_t n_tried;
	struct {
		uint64_t start, end;
		unsigned nr_accesses, age;
	} tried[FAKE_MAX_TRIED];

	unsigned n_commits, n_goal_commits;
	char pending_state[256]; /* state file to restore to "on" */
} FakeDamon;

/* Creates the tree (admin/kdamonds/nr_kdamonds = 0, and
 * sys/module/damon_stat/parameters/enabled = N) in a new temp root and opens
 * f->fs on it with the hook installed. */
void fake_damon_init(FakeDamon *f, const FakeDamonShape *shape);
void fake_damon_free(FakeDamon *f);

/* Acts like the kernel on a write of N to the nr_* file at REL (relative to
 * the admin dir), bypassing the hook's checks and the log: for setting up
 * trees that someone else configured. */
void fake_damon_set_nr(FakeDamon *f, const char *rel, unsigned n);
/* Writes an admin-relative (or "sys/..." root-relative) file directly (no
 * hook, no log). */
void fake_damon_put(FakeDamon *f, const char *rel, const char *value);
/* Reads an admin-relative (or "sys/..." root-relative) file (static
 * buffer), NULL if missing. */
const char *fake_damon_get(FakeDamon *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool fake_damon_has(FakeDamon *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Restores a running kdamond's `state` after a command keyword. */
void fake_damon_settle(FakeDamon *f);

/* Index of the first log entry at or after FROM whose path ends with SUFFIX
 * (and whose value equals VALUE, if non-NULL), or -1. */
int fake_damon_log_find(const FakeDamon *f, size_t from, const char *suffix, const char *value);
size_t fake_damon_log_count(const FakeDamon *f, size_t from, const char *suffix);
void fake_damon_log_clear(FakeDamon *f);
/* Fails the test if, among log entries [from, n_log), a write to an nr_*
 * file comes after a write below one of the children it recreates (which
 * would have wiped that write). */
void fake_damon_assert_no_wipe(const FakeDamon *f, size_t from);
