/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A discrete-time model of the kernel side of dtierd, one step per DAMON
 * aggregation window (100 ms): the pages of a workload on NUMA nodes, what
 * DAMON in physical-address mode sees of them, and migrate_hot schemes with a
 * size quota and a goal, tuned by `temporal` or `consist`
 * (docs/kernel-interface.md, "Quota goals and tuners").
 *
 * What makes the kernel-native PUSH/PULL recipe ping-pong (measured on 7.3,
 * docs/kernel-interface.md) is modelled page by page: a page that migrates stops
 * counting on its source node at once (its old frame is free), but shows up
 * as hot on its destination only after a random delay, the time DAMON needs
 * to sample the new frame and let the region age into the hot pattern. Until
 * then it is also not eligible for any migrate_hot scheme. The measurement
 * dtierd takes is the visible hot bytes per node, times a per-node bias (cold
 * pages sharing a hot region are counted, and migrated, with it), times
 * multiplicative noise. By default the pages one scheme moves in one window
 * share one delay: they land next to each other in the destination's free
 * memory, i.e. in one DAMON region, and turn hot together when that region
 * does (which is also what makes the recipe swing rather than churn). The true location of every page is known: the checks
 * use it, never what the controller estimates. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_MAX_NODES 4
#define SIM_MAX_SCHEMES (SIM_MAX_NODES * SIM_MAX_NODES)
#define SIM_PAGE 4096ULL
#define SIM_MIB (1024ULL * 1024)
#define SIM_GIB (1024ULL * SIM_MIB)

typedef enum SimTuner {
	SIM_TUNER_TEMPORAL, /* 7.1+: full `bytes` while the goal is unmet, 0 once met */
	SIM_TUNER_CONSIST,  /* feed loop: x2 per window at score 0, back to 1 byte at score >= 2x */
	SIM_TUNER_NONE,     /* no goal: the effective quota is `bytes` */
} SimTuner;

typedef enum SimGoalMetric {
	SIM_GOAL_USER,          /* user_input: current value written from user space */
	SIM_GOAL_NODE_ELIGIBLE, /* node_eligible_mem_bp of goal_nid, computed in the kernel */
} SimGoalMetric;

typedef struct SimRng {
	uint64_t s;
} SimRng;

void sim_rng_seed(SimRng *r, uint64_t seed);
uint64_t sim_rng_next(SimRng *r);
/* Uniform in [0, n); n > 0. */
uint64_t sim_rng_below(SimRng *r, uint64_t n);
/* Uniform in [0, 1). */
double sim_rng_unit(SimRng *r);

typedef struct SimKernelParams {
	size_t n_nodes;
	uint64_t node_bytes[SIM_MAX_NODES];  /* node size */
	uint64_t other_bytes[SIM_MAX_NODES]; /* used by everything but the workload's pages */
	double bias[SIM_MAX_NODES];          /* cold bytes counted hot per visible hot byte */
	uint32_t wmark_bp;                   /* migration to a node fails below this much free */
	uint64_t map_pages;                  /* the workload's pages (hot and cold) */
	uint64_t hot_pages;                  /* of which hot at the start */
	uint32_t hot_bp[SIM_MAX_NODES];      /* where the hot pages start */
	uint32_t cold_bp[SIM_MAX_NODES];     /* where the cold pages start */
	double delay_min_s, delay_max_s;     /* migrated/new hot page: visible after U(min, max) */
	bool delay_per_page;                 /* else one delay per batch (see below) */
	double noise;                        /* measurement: x (1 + U(-noise, +noise)) per node */
	double spike_prob, spike_gain;       /* per measurement: one node reads x (1 + gain) */
	/* Per measurement after pages migrated, with probability dip_prob
	 * (a tenth of it when none did), every node reads x (1 - U(0, dip_max))
	 * (6.12, a 256 MiB THP hot set: totals of 160-260 MiB while it moved,
	 * 236-260 but for 1 in 15 once it held; the shares unmoved). */
	double dip_prob, dip_max;
	uint32_t window_ms;
	uint32_t latency_windows;            /* staged goal/quota values take effect this much later */
	uint64_t first_window_bytes;         /* 6.12: the first window after arming ignores the quota */
	uint32_t folio_pages;                /* pages per hot folio (512: 2 MiB THP); 0 = 1 */
	/* Mixed memory: of the hot bytes, this share is in FOLIO_PAGES folios
	 * and the rest in 4 KiB pages (0: all in folios). */
	uint32_t folio_share_bp;
	/* Of the hot pages at the start, this share sits in regions DAMON
	 * scores lower than the fully hot ones (hot and cold 4 KiB pages
	 * interleaved: fewer samples accessed, age 0; seen on 6.12). A page
	 * loses it when it migrates: it lands among other arrivals. */
	uint32_t lukewarm_bp;
	uint64_t seed;
} SimKernelParams;

typedef struct SimScheme {
	size_t src, dst;
	SimTuner tuner;
	SimGoalMetric metric;
	size_t goal_nid;
	uint32_t reset_windows; /* quota charge window, in aggregation windows */

	/* What the kernel currently uses. */
	bool armed;
	uint64_t bytes; /* quotas/bytes; 0 = unlimited */
	uint64_t goal_target, goal_current;

	/* Written by user space, taken over at window staged_at. */
	bool staged;
	uint64_t staged_at;
	bool st_armed;
	uint64_t st_bytes, st_target, st_current;
	uint32_t st_reset_windows;              /* 0: unchanged */

	/* Tuner and charge state. */
	bool fresh;
	uint64_t esz_bp, esz, charged;
	uint32_t win_in_reset;
	double cold_credit;
	uint64_t batch_window; /* the window of the current batch, and its delay */
	uint32_t batch_delay;

	/* quotas/weights not all 0: under a quota only the regions scored at
	 * or above a threshold apply, the threshold chosen so that the
	 * top-scored regions fill the quota, over every region the pattern
	 * admits, on every node (the address filters act only afterwards). */
	bool prioritised;

	/* Stats as the kernel reports them: sz_tried counts each region at the
	 * size the quota cut it to, sz_applied the folios moved (whole: past
	 * the region with THP); failed = tried, not moved. */
	uint64_t sz_tried, sz_applied, sz_failed;
} SimScheme;

/* One per page of the workload, packed: the large case has 16 M of them. */
typedef struct SimPage {
	uint32_t pos;    /* index in vis[node] while visible */
	uint32_t vis_at; /* window at which it becomes visible (low 32 bits) */
	uint8_t node;
	uint8_t flags;
} SimPage;

typedef struct SimBucket {
	uint32_t *id;
	size_t n, cap;
} SimBucket;

typedef struct SimKernel {
	SimKernelParams p;
	SimRng rng;
	uint64_t window; /* the next window to run */
	uint32_t delay_min_w, delay_max_w;

	SimPage *page;

	/* Hot pages DAMON sees, per node (the only ones schemes can migrate). */
	uint32_t *vis[SIM_MAX_NODES];
	size_t n_vis[SIM_MAX_NODES], cap_vis[SIM_MAX_NODES];
	size_t n_vis_luke[SIM_MAX_NODES]; /* of which lukewarm */
	SimBucket *ring;
	size_t ring_n;

	/* Ground truth. */
	uint64_t hot_on[SIM_MAX_NODES];   /* hot pages per node, seen or not */
	uint64_t pages_on[SIM_MAX_NODES]; /* workload pages per node */
	uint64_t other[SIM_MAX_NODES];    /* bytes */
	uint64_t hot_total;

	SimScheme schemes[SIM_MAX_SCHEMES];
	size_t n_schemes;
	uint64_t applied_measured; /* all schemes' sz_applied at the last measurement */
} SimKernel;

/* Returns 0 or -errno (-ENOMEM, -EINVAL). All pages start visible. */
int simk_init(SimKernel *k, const SimKernelParams *p);
void simk_free(SimKernel *k);

/* Adds a disarmed scheme; returns its index. */
size_t simk_add_scheme(SimKernel *k, size_t src, size_t dst, SimTuner tuner, SimGoalMetric metric, size_t goal_nid,
		       uint32_t reset_windows);
/* User space writes the scheme's values (and commits); the kernel takes them
 * over latency_windows later. */
void simk_scheme_stage(SimKernel *k, size_t i, bool armed, uint64_t bytes, uint64_t goal_target,
		       uint64_t goal_current);
/* The same for the charge window (reset_interval_ms), in aggregation windows. */
void simk_scheme_stage_window(SimKernel *k, size_t i, uint32_t reset_windows);

/* Runs one aggregation window. */
void simk_window(SimKernel *k);

/* dtierd's measurement: visible hot bytes per node with bias and noise. */
void simk_measure(SimKernel *k, uint64_t *ret_hot_bytes);
/* Free bytes of node I (ground truth). */
uint64_t simk_free_bytes(const SimKernel *k, size_t i);

/* Workload changes. NEW hot pages are drawn from the cold ones and become
 * visible after the usual delay. */
void simk_hot_move(SimKernel *k, double frac);
void simk_hot_grow(SimKernel *k, uint64_t pages);
void simk_hot_shrink(SimKernel *k, uint64_t pages);
