/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The daemon's own cost: CPU time per control interval, kept for the last
 * minute, reported as median and max (issue 10: "the daemon reports its own
 * cost ... in the debug line and the run state"). The ring is pure: times are
 * passed in, so tests need no clock. */

#include <stddef.h>
#include <stdint.h>

/* A minute of 100 ms intervals (interval_ms >= 100). */
#define COST_MAX_SAMPLES 600

typedef struct CostRing {
	uint64_t window_ms; /* samples older than this are left out of the stats */
	size_t n, head;     /* samples held; next slot to write */
	struct {
		uint64_t at_ms;
		uint64_t cpu_us;
	} v[COST_MAX_SAMPLES];
} CostRing;

typedef struct CostStats {
	size_t n;          /* samples in the window */
	uint64_t median_us; /* the middle one; the mean of the two middle ones for even n */
	uint64_t max_us;
	uint64_t last_us;   /* the newest sample */
} CostStats;

/* An empty ring over the last WINDOW_MS (0: 60 000). */
void cost_ring_init(CostRing *r, uint64_t window_ms);
/* Records one interval's CPU_US at NOW_MS; the oldest sample goes when full. */
void cost_ring_add(CostRing *r, uint64_t now_ms, uint64_t cpu_us);
/* Median and max of the samples taken within window_ms before NOW_MS (and
 * any stamped after it). Returns 0, or -ENODATA when there are none (ret
 * untouched). */
int cost_ring_stats(const CostRing *r, uint64_t now_ms, CostStats *ret);

/* CPU time this process has used, user + system, in microseconds
 * (CLOCK_PROCESS_CPUTIME_ID: the kernel's time in our sysfs and kpageflags
 * reads counts). Returns 0 or -errno. */
int cost_cpu_us(uint64_t *ret);
