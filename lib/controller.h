/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The control decision: a pure function of (parameters, previous state,
 * this interval's measurement) -> which node pairs migrate how much. No files,
 * no clock: the daemon passes the time in.
 *
 * Why it does not ping-pong (what the kernel-native PUSH/PULL recipe with
 * node_eligible_mem_bp goals does: in the hold benchmark, bench/hold, it
 * swung 19-94 % on 7.3 and never converged): in physical mode a page that just migrated
 * disappears from its source node at once (the old frame is free, and
 * kpageflags says so) but looks cold on its new node until DAMON re-samples
 * it. Counting only what DAMON sees would make the destination look short
 * and keep migration going past the target, after which the opposite scheme
 * undoes it. The controller therefore carries the bytes it moved as "unseen"
 * on their destination until the destination's measurement has caught up
 * with what it held before plus what moved in (fading with unseen_tau_ms in
 * case it never does), moves only a fraction (gain) of the remaining error
 * per interval, stops inside a deadband, restarts only when the median of
 * the last five estimates is past twice the deadband (one noisy measurement
 * must not restart migration: seen on 7.3, a single interval read 80 MiB hot
 * for a 64 MiB hot set), and never reverses a pair's direction within
 * hold_ms of its last move (but for one folio of a push that went one
 * folio past, once the measurement is quiet: CTL_FOLIO_HOLD_MS).
 *
 * It also waits while the measurement is unsettled: migration conserves hot
 * bytes, so a measured total that moved by more than settle_pct since the
 * previous interval means DAMON is still re-learning the regions the last
 * move touched (seen on 7.3: the total read 93 then 121 MiB for a 64 MiB hot
 * set right after a move, as cold pages beside the departed hot ones still
 * looked hot); acting on it moved pages past the target. A total that moved
 * by u points of itself moved no share by more than u, so while an error is
 * larger than that and the speed cap limits the move anyway, the part of it
 * beyond u moves on (6.12, a 154 MiB move at 16 MiB/s: half the totals read
 * 5-37 % low, the shares unmoved, and waiting on each took the move from
 * 9.6 s at the cap to 24-26 s). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define CTL_N CONFIG_MAX_TIERS
/* Leaving the band is judged on the median of this many estimates: two
 * spikes on one node within three intervals got past a median of 3 in the
 * sim. */
#define CTL_BAND_HIST 5
/* Intervals in a row in which DAMON tried a running pair and moved nothing
 * before its destination counts as full (see learn_full). */
#define CTL_FULL_STALLS 3
/* Room a full node must gain (freed memory) before it is tried again. */
#define CTL_FULL_SLACK (8ULL << 20)
/* The largest folio DAMON's paddr migration moves at once: a PMD THP. */
#define CTL_MAX_FOLIO (2ULL << 20)
/* The band covers this much of a folio's share (in 1/10000): more than
 * half, so one folio step is always inside it, and less than 0.6, so a
 * step 0.6 of a folio away (62.5 % of a 48 MiB THP hot set for 60 %) is
 * not when the nearer one (58.33 %) is there. */
#define CTL_BAND_FOLIO 5500
/* The hold before one folio goes back after a push that ended one folio
 * past the target (THP: the quota's stop reached the kernel a window or
 * more late, as on 6.12 and 7.3 under TCG). hold_ms (10 s) is for a
 * measurement that lags the truth; once nothing is unseen or in flight,
 * the total has settled and the median of the recent estimates agrees,
 * one folio back lands within half a folio of the target, inside the band,
 * so it cannot start a move the other way. Long enough for the moved
 * pages to show on their new node (the VM runs: within two intervals). */
#define CTL_FOLIO_HOLD_MS 3000
/* Moves in a row of pages only (no larger than what was tried, not whole
 * folios) before huge folios learned from a move are unlearned. */
#define CTL_PAGE_MOVES 8

typedef struct CtlParams {
	size_t n;
	int node[CTL_N];
	uint32_t target_bp[CTL_N];
	uint32_t deadband_bp;
	uint64_t max_bytes_per_tick;
	uint64_t min_bytes_per_tick;
	uint32_t hold_ms;
	uint32_t gain_pct;        /* share of the remaining error moved per interval */
	uint32_t unseen_tau_ms;   /* unseen bytes fade with this time constant */
	uint32_t settle_pct;      /* hold while the measured total moves more than this */
	/* measure.metric = "kernel": the kernel's own goals decide when the
	 * pairs move, and leave a zone of at least one folio each side of
	 * the targets (actuate.c kernel_pair), which the band covers. */
	bool kernel_goals;
} CtlParams;

typedef struct CtlSample {
	uint64_t now_ms;
	uint64_t hot_bytes[CTL_N];
	uint64_t capacity_bytes[CTL_N]; /* hot bytes the node could hold (free + its hot); 0 = unknown */
	uint64_t applied[CTL_N][CTL_N]; /* cumulative bytes migrated by pair s->d */
	uint64_t tried[CTL_N][CTL_N];   /* cumulative bytes DAMON tried to migrate (sz_tried); 0 = unknown */
	/* Migratable bytes of the hot regions, cold pages in them too: what a
	 * move carries along (0 = unknown: a move is all hot). */
	uint64_t region_bytes[CTL_N];
	uint64_t err_bytes;             /* ~95 % bound of the measurement's error (0 = exact) */
	uint64_t folio_bytes;           /* the hot memory's folio size when mostly huge pages, else 0 */
} CtlSample;

enum {
	CTL_EV_REACHED = 1 << 0, /* all nodes inside the deadband */
	CTL_EV_LOST = 1 << 1,    /* left the band: migration resumes */
	CTL_EV_CLAMPED = 1 << 2, /* the set of capacity-clamped (or full) targets changed */
	CTL_EV_DRIFTED = 1 << 3, /* in band, a share moved more than the band from what was said */
};

typedef struct CtlDecision {
	uint32_t target_bp[CTL_N];    /* effective, after the capacity clamp */
	uint32_t band_bp;             /* deadband used: at least the error bound */
	uint32_t measured_bp[CTL_N];
	uint32_t estimate_bp[CTL_N];  /* measured + unseen */
	uint32_t display_bp[CTL_N];   /* median of the recent estimates: what an
				       * operator is shown (one interval's
				       * estimate can be off by tens of points) */
	bool clamped[CTL_N];
	bool full[CTL_N];             /* clamped to what it holds: DAMON could not migrate more into it */
	bool run[CTL_N][CTL_N];
	/* What each pair should migrate, in DAMON's bytes: whole regions, the
	 * cold pages in them too (controller.c region_part). */
	uint64_t bytes_per_tick[CTL_N][CTL_N];
	uint64_t need_bytes[CTL_N][CTL_N];  /* the error a running pair works off, before the gain */
	uint64_t moved[CTL_N][CTL_N]; /* bytes moved since the previous step */
	uint64_t estimate_total;
	uint64_t folio_bytes;         /* the sample's: a move is at least one such folio (0: pages) */
	bool in_band;
	bool settling;                /* held: the measurement is still moving */
	/* Settling: how far the measured total moved, in bp of the smaller of
	 * the two totals; no node's share can have moved further with it. */
	uint32_t unsettled_bp;
	unsigned events;
} CtlDecision;

typedef struct Controller {
	CtlParams p;
	bool started;
	bool in_band;
	uint64_t last_ms;
	uint64_t prev_applied[CTL_N][CTL_N];
	uint64_t last_move_ms[CTL_N][CTL_N];
	bool ever_moved[CTL_N][CTL_N];
	/* Per destination: measured hot bytes before the current migration
	 * episode, bytes moved in and out since, and when bytes last came in. */
	uint64_t base[CTL_N];
	uint64_t acc_in[CTL_N], acc_out[CTL_N];
	uint64_t last_in_ms[CTL_N];
	uint64_t prev_in[2][CTL_N];   /* bytes moved in during the previous two steps */
	bool huge_moves;              /* a move was larger than what was tried (learn_folio) */
	unsigned page_moves;          /* moves of pages only since (learn_folio) */
	bool reach_pending;           /* in band, "reached" not yet shown by the measurement */
	uint32_t said_bp[CTL_N];      /* the shares the last reached/left/drifted event gave */
	uint64_t prev_hot[CTL_N];
	uint64_t prev_region[CTL_N];  /* the previous sample's region_bytes */
	uint32_t hist_bp[CTL_BAND_HIST][CTL_N]; /* last estimates, for the median */
	uint64_t prev_total;
	uint64_t est_total_hist[3];   /* last estimated totals */
	unsigned n_est_hist;
	unsigned n_hist;
	bool clamped[CTL_N];
	uint32_t eff_bp[CTL_N];       /* effective targets of the last settled interval */
	bool ran[CTL_N][CTL_N];       /* pairs the last decision ran */
	bool ran_before[CTL_N][CTL_N]; /* and the one before it */
	uint64_t prev_tried[CTL_N][CTL_N];
	unsigned stalls[CTL_N][CTL_N];
	/* Per destination that DAMON could not migrate into: the hot bytes it
	 * held then (0: not full) and its room then (capacity - hot). */
	uint64_t full_hot[CTL_N];
	uint64_t full_room[CTL_N];
	bool full_said[CTL_N];        /* full as of the last settled interval */
	uint64_t moved_total[CTL_N][CTL_N];
} Controller;

/* Fills P's defaults for fields left 0 and sets up C. */
void controller_init(Controller *c, const CtlParams *p);
/* Replaces the targets (reload) keeping the learned state. */
void controller_set_targets(Controller *c, const uint32_t *target_bp);
void controller_step(Controller *c, const CtlSample *s, CtlDecision *ret);

/* An interval with no measurement: which of LAST's pairs may go on for one
 * more interval, blind. A pair that moved MOVED bytes since LAST runs on
 * only while another interval at its rate stays within the error LAST saw
 * (moved + bytes_per_tick <= need_bytes): a move held back by the speed
 * cap goes on, one that would pass the target stops. Pure. */
void controller_blind_step(const CtlDecision *last, size_t n, const uint64_t moved[][CTL_N], CtlDecision *ret);

/* The per-window quota (`bytes`) that lets a pair move about BYTES_PER_TICK
 * in an interval of INTERVAL_MS with charge windows of WINDOW_MS: rounded
 * DOWN to a power of two, so it changes (and needs a full commit) rarely yet
 * never exceeds what was asked (rounding up turned the 60 % gain into up to
 * 120 % and overshot in the sim), at least one page, at most CAP. Pure. */
uint64_t controller_window_quota(uint64_t bytes_per_tick, uint64_t window_ms, uint64_t interval_ms, uint64_t cap);
/* One FOLIO of TOTAL hot bytes in basis points, rounded up: the zone the
 * kernel's goals leave each side of a target (measure.metric = "kernel"). */
uint64_t controller_folio_bp(uint64_t folio, uint64_t total);

/* Hot bytes a node can hold: its free memory plus the hot bytes already on
 * it, minus a reserve of 3 % of its size (DAMON migrates without reclaim and
 * fails on a full node; the kernel needs its watermarks). At least 1. */
uint64_t controller_node_capacity(uint64_t node_total, uint64_t node_free, uint64_t hot_on_node);

/* What to write into the user_input goal of pair S->D: the goal's target is
 * D's target share; the current value is D's estimated share while the pair
 * should migrate (below target, so the tuner keeps the quota open), and
 * twice the target when it should not, which both tuners read as "goal met":
 * `temporal` closes the quota, `consist` resets it to its minimum (1 byte,
 * less than a page: nothing moves). With `consist`, a running pair is fed 0
 * so the quota ramps at its fastest (x2 per window); the `bytes` cap dtierd
 * sets bounds the speed. */
void controller_goal_values(const CtlDecision *d, size_t s, size_t dst, bool temporal, uint64_t *ret_target,
			    uint64_t *ret_current);
