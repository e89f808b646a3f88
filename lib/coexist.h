/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Kernel mechanisms that move pages between NUMA nodes on their own and so
 * compete with dtierd for the same pages:
 *   proc/sys/kernel/numa_balancing    0 off, bit 0 (1) NUMA_BALANCING_NORMAL,
 *                                     bit 1 (2) NUMA_BALANCING_MEMORY_TIERING
 *                                     (values 0..3; kernel/sched/fair.c)
 *   sys/kernel/mm/numa/demotion_enabled  "true"/"false" (mm/memory-tiers.c)
 * A missing file means the kernel lacks the feature (CONFIG_NUMA_BALANCING,
 * CONFIG_MIGRATION off, or older than 5.15): no conflict. */

#include <stdbool.h>
#include <stddef.h>

#include "sysfs.h"

#define COEXIST_MSG_MAX 320

typedef enum CoexistFlags {
	/* Tiering mode promotes hot pages from slow (CPU-less) nodes to the top
	 * tier by its own hint-fault rate limit: the very decision dtierd makes. */
	COEXIST_NUMA_BALANCING_TIERING = 1 << 0,
	/* Normal mode migrates pages to the node of the CPU that touches them,
	 * which also pulls pages off CPU-less nodes. */
	COEXIST_NUMA_BALANCING_NORMAL = 1 << 1,
	/* Reclaim demotes cold pages from the top tier to a slower one under
	 * memory pressure instead of evicting them. */
	COEXIST_DEMOTION = 1 << 2,
} CoexistFlags;

typedef struct Coexist {
	int numa_balancing;   /* the value read, -1 if the file is absent */
	int demotion_enabled; /* 1/0, -1 if the file is absent */
	unsigned flags;       /* CoexistFlags */
	size_t n_msgs;
	char msgs[3][COEXIST_MSG_MAX]; /* one per flag set, in flag order */
} Coexist;

/* Parses numa_balancing content: an integer 0..3 (newline allowed).
 * Returns 0 or -EINVAL. */
int coexist_parse_numa_balancing(const char *s, int *ret);
/* Parses demotion_enabled content: "true"/"false" as the kernel shows it;
 * also the kstrtobool forms 1/0, y/n, on/off. Returns 0 or -EINVAL. */
int coexist_parse_bool(const char *s, int *ret);

/* Pure: the flags and messages for the values read (-1: absent). */
void coexist_evaluate(int numa_balancing, int demotion_enabled, Coexist *ret);

/* Reads both files under FS's root and evaluates them. Returns 0 (also when
 * files are absent), -EINVAL on unparsable content, or another -errno. */
int coexist_check(const Sysfs *fs, Coexist *ret);
