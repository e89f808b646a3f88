/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Simulation tier: the daemon's own plan, controller and actuation
 * (lib/damon-plan.c, lib/controller.c, lib/actuate.c) closed around a model
 * of DAMON and the pages (sim-kernel.c): the same calls daemon/manager.c's
 * tick makes, with the kernel side simulated. Each scenario prints a time series and
 * checks the ground truth (where the hot pages really are):
 *   - it converges to the target within +-3 points by a time bound,
 *   - then stays within +-5 points (and migration reverses direction at most
 *     a few times: no ping-pong),
 *   - it moves at most a small multiple of the bytes that had to move.
 * The `recipe-*` scenarios run the kernel-native PUSH/PULL recipe (PULL
 * migrate_hot to node 0 with a node_eligible_mem_bp goal, PUSH to node 1,
 * 32 MiB per 1 s quotas; on Debian's 7.3 kernel it moved ~100x the hot set in
 * 180 s, node 0 swinging 19-100 %) on the same model instead and check that it does ping-pong,
 * which shows the model reproduces what was measured on a real kernel.
 *
 * Usage: sim --scenario NAME [--seed N] [--seeds COUNT] [--quiet] [--every S]
 *            [--duration S] [model: --noise X --delay-min S --delay-max S
 *            --delay-per-page --tuner temporal|consist --latency-windows N]
 *            [controller: --gain-pct P --tau-ms MS --hold-s S --deadband-bp BP]
 *        sim --list
 * --latency-windows: how many 100 ms windows after a commit the kernel takes
 * the new values (default 1). Under TCG the VMs took a new quota up to an
 * interval late (s13-move-shmem-7.3: an 8 MiB-per-window quota ran a whole
 * interval after 4 MiB was committed); 5 reproduces thp-slow's one folio
 * past the target. A later commit restages the values and restarts the
 * wait, so N of an interval (10) or more never applies anything. 
 * With --seeds, seeds N..N+COUNT-1 run; the first is printed in full, the
 * others only if they fail (the first failing one in full), then one line
 * sums them all up.
 * Exit status: 0 pass, 1 a check failed, 2 usage. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actuate.h"
#include "controller.h"
#include "damon-plan.h"
#include "metric.h"
#include "sim-kernel.h"
#include "util.h"

#define N SIM_MAX_NODES
#define MAX_EVENTS 4
#define MAX_PHASES (MAX_EVENTS + 1)
#define PAGE SIM_PAGE
#define MIB SIM_MIB
#define GIB SIM_GIB
/* daemon/manager.c */

typedef enum Mode {
	MODE_DTIERD, /* the real controller, as manager.c runs it */
	MODE_BLIND,  /* the same, but never told what moved: no unseen bytes, no hold */
	MODE_RECIPE, /* no daemon: PULL/PUSH schemes with node_eligible_mem_bp goals */
} Mode;

typedef enum EvType {
	EV_MOVE,    /* the hot set moves: frac of it is replaced by cold pages */
	EV_GROW,    /* pages more become hot */
	EV_SHRINK,  /* pages fewer are hot */
	EV_TARGETS, /* controller_set_targets(bp) (a reload) */
} EvType;

typedef struct Event {
	EvType type;
	double at_s;
	double frac;
	uint64_t pages;
	uint32_t bp[N];
} Event;

typedef struct Scenario {
	const char *name;
	const char *what;
	Mode mode;
	SimKernelParams k;
	SimTuner tuner;
	uint32_t target_bp[N];
	uint32_t expect_bp[N]; /* ground-truth target if not target_bp (capacity clamp) */
	bool has_expect;
	unsigned interval_ms, max_mib_per_s, deadband_bp, hold_s;
	unsigned gain_pct, unseen_tau_ms; /* 0: the controller's defaults, as the daemon leaves them */
	unsigned unmeasured_run, unmeasured_period; /* the last RUN of every PERIOD intervals measure nothing */
	bool folio_unknown;               /* the daemon is not told the hot folios' size */
	bool set_weights;                 /* pair schemes' quota weights other than the plan's */
	uint32_t weights[3];              /* sz, nr_accesses, age (permil) */
	double duration_s, print_every_s;
	Event ev[MAX_EVENTS];
	size_t n_ev;

	/* MODE_RECIPE */
	uint64_t recipe_bytes;
	unsigned recipe_reset_ms;

	/* Checks (MODE_DTIERD). */
	bool expect_stuck;     /* inverted: it must never converge (the model shows the failure) */
	double converge_s;     /* per phase */
	uint32_t in_bp, keep_bp;
	uint32_t mean_bp;      /* |mean error| of node 0 once converged */
	double bytes_factor;   /* moved <= factor x needed */
	unsigned max_reversals; /* per phase */
	bool check_tick_cap;   /* moved per interval <= max_mib_per_s x interval */
	bool check_no_fail;    /* no failed migration once converged */
	double no_fail_after_s; /* > 0: no failed migration after this time */
	/* Checks (MODE_RECIPE): it must ping-pong. */
	unsigned min_reversals;
	uint32_t min_range_bp; /* of node 0's true share after 60 s */
} Scenario;

/* One row per interval (recipe: per second). */
typedef struct Row {
	uint32_t true_bp[N], est_bp[N], meas_bp[N], target_bp[N];
	uint64_t hot[N];        /* true hot pages per node */
	uint64_t moved[N][N];   /* bytes moved s->d in the interval ending here */
	uint64_t failed;        /* bytes tried and failed in that interval */
	bool in_band, settling;
} Row;

typedef struct Series {
	Row *row;
	size_t n;
	double dt_s;
	size_t phase_start[MAX_PHASES];
	uint32_t phase_target[MAX_PHASES][N];
	size_t n_phases;
} Series;

static size_t n_nodes(const Scenario *sc)
{
	return sc->k.n_nodes;
}

/* ---- scenarios ---------------------------------------------------------- */

/* The anchor's VM: two 1 GiB nodes, a 64 MiB hot set in a 256 MiB mapping,
 * all of it on node 1; dtierd's defaults (interval 1 s, 256 MiB/s, deadband
 * 150 bp, hold 10 s); DAMON aggregation 100 ms; pages visible hot on their
 * new node 0.5-3 s after a migration (the VM runs: within two intervals);
 * +-2 % measurement noise. */
static void base(Scenario *sc)
{
	*sc = (Scenario){
		.mode = MODE_DTIERD,
		.k = {
			.n_nodes = 2,
			.node_bytes = { GIB, GIB },
			.other_bytes = { 100 * MIB, 100 * MIB },
			.wmark_bp = 100,
			.map_pages = 256 * MIB / PAGE,
			.hot_pages = 64 * MIB / PAGE,
			.hot_bp = { 0, 10000 },
			.cold_bp = { 0, 10000 },
			/* VM runs (6.12, 7.3; 4 KiB and THP): a destination's
			 * measurement caught up within two intervals. */
			.delay_min_s = 0.5,
			.delay_max_s = 3,
			.noise = 0.02,
			.window_ms = 100,
			.latency_windows = 1,
			.seed = 1,
		},
		.tuner = SIM_TUNER_TEMPORAL,
		.target_bp = { 6000, 4000 },
		.interval_ms = 1000,
		.max_mib_per_s = 256,
		.deadband_bp = 150,
		.hold_s = 10,
		.duration_s = 180,
		.print_every_s = 5,
		.converge_s = 30,
		.in_bp = 300,
		.keep_bp = 500,
		.mean_bp = 200,
		.bytes_factor = 2.0,
		.max_reversals = 1,
		.recipe_bytes = 32 * MIB,
		.recipe_reset_ms = 1000,
	};
}

static void sc_60_40(Scenario *sc)
{
	sc->what = "60/40 from all on node 1";
}

static void sc_30_70(Scenario *sc)
{
	sc->what = "30/70 from all on node 0 (pushing)";
	sc->k.hot_bp[0] = sc->k.cold_bp[0] = 10000;
	sc->k.hot_bp[1] = sc->k.cold_bp[1] = 0;
	sc->target_bp[0] = 3000;
	sc->target_bp[1] = 7000;
}

/* A configuration without tiers: everything hot on the node with CPUs
 * (topology_default_tiers()). */
static void sc_all_fast(Scenario *sc)
{
	sc->what = "100/0 (no tiers set) from all on node 1";
	sc->target_bp[0] = 10000;
	sc->target_bp[1] = 0;
}

/* 6.12, s18-auto-tiers, one CI run: node 0 stayed at 93-96 % of a 100 %
 * target for 60 s; the page audit found 2.9 MiB of the workload's hot pages
 * on node 1 in regions DAMON scored low (the one listed: 12/20 accesses, age 0), which
 * a quota with priority weights never reached: its score threshold was set
 * over node 0's fully hot regions too. dtierd's plan has no weights. */
static void sc_lukewarm_tail(Scenario *sc)
{
	sc->what = "100/0 from all on node 1, 5 % of the hot pages lukewarm";
	sc->target_bp[0] = 10000;
	sc->target_bp[1] = 0;
	sc->k.lukewarm_bp = 500;
}

/* The same with the weights dtierd used to write (nr_accesses 1000, age
 * 500): the lukewarm tail must stay on node 1, or the model would not show
 * what the VM run did. */
static void sc_lukewarm_weighted(Scenario *sc)
{
	sc_lukewarm_tail(sc);
	sc->what = "lukewarm-tail with quota priority weights: must stay short";
	sc->set_weights = true;
	sc->weights[1] = 1000;
	sc->weights[2] = 500;
	sc->expect_stuck = true;
}

static void sc_3nodes(Scenario *sc)
{
	sc->what = "3 nodes 50/30/20 from all on node 2";
	sc->k.n_nodes = 3;
	sc->k.node_bytes[2] = GIB;
	sc->k.other_bytes[2] = 100 * MIB;
	sc->k.hot_bp[1] = sc->k.cold_bp[1] = 0;
	sc->k.hot_bp[2] = sc->k.cold_bp[2] = 10000;
	sc->target_bp[0] = 5000;
	sc->target_bp[1] = 3000;
	sc->target_bp[2] = 2000;
	sc->converge_s = 40;
}

static void sc_consist(Scenario *sc)
{
	sc->what = "60/40 from all on node 1, consist tuner (x2 per window from 1 byte)";
	sc->tuner = SIM_TUNER_CONSIST;
}

/* Seen on 6.12: the first charge window applied 203 MiB with a
 * 16 MiB quota. Which first window (kdamond start, when dtierd's schemes match
 * nothing yet, or first arming) is not known: this takes the worse one. */
static void sc_consist_612(Scenario *sc)
{
	sc->what = "consist, plus 6.12's first window after arming ignoring the quota (203 MiB seen)";
	sc->tuner = SIM_TUNER_CONSIST;
	sc->k.first_window_bytes = 203 * MIB;
	sc->bytes_factor = 3.0; /* the kernel moves the whole hot set before dtierd can act */
	sc->converge_s = 40;
}

static void sc_bias(Scenario *sc)
{
	sc->what = "60/40, node 1's hot regions carry 5 % cold pages (counted and migrated)";
	sc->k.bias[1] = 0.05;
}

/* The 7.3 observation behind the controller's median band exit. */
static void sc_spikes(Scenario *sc)
{
	sc->what = "60/40, and 1 measurement in 30 reads one node 40 % high";
	sc->k.spike_prob = 0.033;
	sc->k.spike_gain = 0.4;
}

static void sc_large(Scenario *sc)
{
	sc->what = "64 GiB hot of a 512 GiB workload, 60/40 from all on node 1";
	sc->k.node_bytes[0] = 256 * GIB;
	sc->k.node_bytes[1] = 1024 * GIB;
	sc->k.other_bytes[0] = 8 * GIB;
	sc->k.other_bytes[1] = 8 * GIB + 448 * GIB; /* the workload's cold pages */
	sc->k.map_pages = 64 * GIB / PAGE;
	sc->k.hot_pages = 64 * GIB / PAGE;
	sc->duration_s = 300;
	sc->print_every_s = 20;
	/* 38.4 GiB to move at 256 MiB/s: 154 s at least. */
	sc->converge_s = 190;
	sc->check_tick_cap = true;
}

static void sc_hotset_move(Scenario *sc)
{
	sc->what = "60/40, then at 90 s the hot set moves to pages all on node 1";
	sc->duration_s = 210;
	sc->ev[sc->n_ev++] = (Event){ .type = EV_MOVE, .at_s = 90, .frac = 1.0 };
	sc->converge_s = 40;
}

static void sc_early_move(Scenario *sc)
{
	sc->what = "60/40, but the hot set moves at 4 s, while the first pages are still unseen";
	sc->duration_s = 120;
	sc->ev[sc->n_ev++] = (Event){ .type = EV_MOVE, .at_s = 4, .frac = 1.0 };
	sc->converge_s = 40;
	sc->bytes_factor = 2.5; /* what moved before 4 s was wasted */
}

static void sc_grow(Scenario *sc)
{
	sc->what = "60/40, then at 90 s the hot set grows by half, on node 1";
	sc->duration_s = 210;
	sc->ev[sc->n_ev++] = (Event){ .type = EV_GROW, .at_s = 90, .pages = 32 * MIB / PAGE };
	sc->converge_s = 40;
}

static void sc_shrink(Scenario *sc)
{
	sc->what = "60/40, then at 90 s half of the hot set turns cold (the share stays)";
	sc->duration_s = 210;
	sc->ev[sc->n_ev++] = (Event){ .type = EV_SHRINK, .at_s = 90, .pages = 32 * MIB / PAGE };
}

/* Node 0 has 26 MiB free: dtierd sees room for 26 - 3 % of 256 = 18.3 MiB
 * of hot memory = 28.6 % of the hot set; the kernel would fail allocations
 * only below 1 % free (36.6 %). */
static void sc_capacity(Scenario *sc)
{
	sc->what = "60/40 but node 0 can hold only ~29 % of the hot set";
	sc->k.node_bytes[0] = 256 * MIB;
	sc->k.other_bytes[0] = 230 * MIB;
	sc->has_expect = true;
	sc->expect_bp[0] = 2862;
	sc->expect_bp[1] = 7138;
	sc->check_no_fail = true;
}

/* s15 on 6.12 and 7.3: the kernel stopped migrating into node 0 with more
 * free memory left than dtierd's reserve (3 % of the node) allows for, and
 * the pull stayed open, failing, under a clamp the node never reached.
 * Here migrations fail below 6 % free: node 0 takes 10.6 MiB (16.6 % of the
 * hot set), not the 28.6 % free memory suggests. dtierd must clamp to what
 * the node holds once DAMON tries and moves nothing, and stop. */
static void sc_capacity_wmark(Scenario *sc)
{
	sc_capacity(sc);
	sc->what = "node 0 takes ~17 % of the hot set (the kernel's watermark above dtierd's reserve)";
	sc->k.wmark_bp = 600;
	sc->expect_bp[0] = 1656;
	sc->expect_bp[1] = 8344;
	/* Learning it costs CTL_FULL_STALLS intervals of failed tries. */
	sc->check_no_fail = false;
	sc->no_fail_after_s = 15;
}

/* The same when DAMON takes up to 15 s to see moved pages: the bytes in
 * flight to node 0 fill its free memory before they count as its hot bytes,
 * so free + hot (the capacity dtierd reports) dips meanwhile. */
static void sc_capacity_slow(Scenario *sc)
{
	sc_capacity(sc);
	sc->what = "capacity-limited node 0 (~29 %), moved pages seen after 2-15 s";
	sc->k.delay_max_s = 15;
}

/* Debian's kernels map THP `always`: pages move 2 MiB at a time, and a
 * window's quota below that still moves a whole folio. 48 MiB hot: one
 * folio is 4.2 points, so no placement is within 1.5 points of 60 %. */
static void sc_thp_slow(Scenario *sc)
{
	sc->what = "60/40 of a 48 MiB hot set in 2 MiB folios from node 1, 32 MiB/s";
	sc->k.folio_pages = 512;
	sc->k.hot_pages = 48 * MIB / PAGE;
	sc->max_mib_per_s = 32;
}

/* The VM's s16 on 7.3: a 64 MiB THP hot set beside a noisy neighbour's
 * 384 MiB stream buffer in 4 KiB pages. The tier nodes' anonymous memory
 * is then mostly small pages, so the daemon's page-flag-free guess (the
 * levels read none) says "pages", yet every move is whole 2 MiB folios:
 * two windows an interval and a stop a window late moved 4-8 MiB for a
 * 2.2 MiB need, and the share alternated 56.25 <-> 62.5 % to the end. */
static void sc_thp_noise(Scenario *sc)
{
	sc->what = "60/40 of a 64 MiB THP hot set from node 1, 32 MiB/s, the folio size not told";
	sc->k.folio_pages = 512;
	sc->folio_unknown = true;
	sc->max_mib_per_s = 32;
}

/* The VM's s19: half the hot set in THP, half in 4 KiB pages, under a
 * 16 MiB/s cap. The tier nodes' memory is under half huge pages, so the
 * daemon is not told the folio size; moves are folios and pages mixed
 * (7.3: a 512 KiB window quota moved 4.4 MiB after the stop, 62.35 ->
 * 54.05 %). */
static void sc_mixed_slow(Scenario *sc)
{
	sc->what = "60/40 of a 64 MiB hot set, half in 2 MiB folios, from node 1, 16 MiB/s, the folio size not told";
	sc->k.folio_pages = 512;
	sc->k.folio_share_bp = 5000;
	sc->folio_unknown = true;
	sc->max_mib_per_s = 16;
}

/* bench/scenarios/large-move.sh on 6.12: 256 MiB of THP hot in 512 MiB,
 * all on node 1, 60/40 at 16 MiB/s (154 MiB to move, 9.6 s at the cap).
 * While pages moved, the total read 5-37 % low about every other interval,
 * on both nodes alike, while the shares held (once it held, 1 in 15): each
 * dip stopped the push for an interval, and the move took 24-26 s. Moving
 * on through the dips while the cap limits the move (controller.c
 * cut_to_beyond_unsettled) takes this model from a median of 18 s and a
 * maximum of 25 s over 20 seeds to 16 and 21 s (over 100: 15 and 24). The issue's
 * bound, 1.25 x 9.6 s plus about 2 s to see the hot set, would be 14 s: a
 * dip of a third still stops a move whose error it could explain. */
static void sc_large_dips(Scenario *sc)
{
	sc->what = "60/40 of a 256 MiB THP hot set from node 1, 16 MiB/s, half the totals after a move read up to 35 % low";
	sc->k.folio_pages = 512;
	sc->k.map_pages = 512 * MIB / PAGE;
	sc->k.hot_pages = 256 * MIB / PAGE;
	sc->k.dip_prob = 0.5;
	sc->k.dip_max = 0.35;
	sc->max_mib_per_s = 16;
	sc->converge_s = 21;
	sc->in_bp = 500; /* the time to converge: within +-5 from then on */
}

/* A target midway between two folio steps (64 MiB in 2 MiB folios: 59.375
 * and 62.5 % lie 1.56 points either side of 60.94 %): the band holds
 * whichever is reached first, and one folio never goes back and forth. */
static void sc_thp_midway(Scenario *sc)
{
	sc->what = "60.94/39.06 of a 64 MiB THP hot set from node 1, 32 MiB/s: the target midway between folio steps";
	sc->k.folio_pages = 512;
	sc->max_mib_per_s = 32;
	sc->target_bp[0] = 6094;
	sc->target_bp[1] = 3906;
}

/* The VM's s12: 64 -> 128 -> 48 MiB of THP under a 32 MiB/s cap. */
static void sc_thp_resize(Scenario *sc)
{
	sc->what = "THP, 32 MiB/s: the hot set grows 64 -> 128 MiB at 60 s (on node 1), shrinks to 48 at 120 s";
	sc->k.folio_pages = 512;
	sc->max_mib_per_s = 32;
	sc->duration_s = 200;
	sc->ev[sc->n_ev++] = (Event){ .type = EV_GROW, .at_s = 60, .pages = 64 * MIB / PAGE };
	sc->ev[sc->n_ev++] = (Event){ .type = EV_SHRINK, .at_s = 120, .pages = 80 * MIB / PAGE };
	sc->converge_s = 35;
}

/* s20-many-regions-7.3 (~1 700 hot regions): tried regions that overlapped
 * for up to ten intervals in a row, no measurement in them, right after a
 * decision to move. A quota left open through them moved 275 MiB for a
 * 57 MiB error (node 0: 1 -> 95 -> 1 %). Here two measured intervals of
 * every twelve. */
static void sc_unmeasured_runs(Scenario *sc)
{
	sc->what = "60/40 from node 1, ten intervals of every twelve measure nothing";
	sc->unmeasured_run = 10;
	sc->unmeasured_period = 12;
	sc->converge_s = 90;
}

static void sc_target_change(Scenario *sc)
{
	sc->what = "60/40, then at 90 s the targets become 30/70 (reload)";
	sc->duration_s = 210;
	sc->ev[sc->n_ev++] = (Event){ .type = EV_TARGETS, .at_s = 90, .bp = { 3000, 7000 } };
}

/* The kernel-native recipe as measured on 7.3 (docs/kernel-interface.md): PULL to node 0 with
 * node_eligible_mem_bp nid 0 = 6000, PUSH to node 1 with nid 1 = 4000, 32 MiB
 * per 1 s quota. */
static void sc_recipe_temporal(Scenario *sc)
{
	sc->what = "kernel-native PUSH/PULL recipe, temporal, 32 MiB/s (as measured on 7.3)";
	sc->mode = MODE_RECIPE;
	sc->print_every_s = 10;
	sc->min_reversals = 6;
	sc->min_range_bp = 4000;
}

static void sc_recipe_consist(Scenario *sc)
{
	sc->what = "kernel-native PUSH/PULL recipe, consist, 32 MiB/s (as measured on 7.3)";
	sc->mode = MODE_RECIPE;
	sc->tuner = SIM_TUNER_CONSIST;
	sc->print_every_s = 10;
	sc->min_reversals = 3;
	sc->min_range_bp = 3000;
}

static void sc_blind(Scenario *sc)
{
	sc->what = "dtierd's controller never told what moved (no unseen bytes, no hold): informational";
	sc->mode = MODE_BLIND;
}

static const struct {
	const char *name;
	void (*setup)(Scenario *sc);
} scenarios[] = {
	{ "60-40", sc_60_40 },
	{ "30-70", sc_30_70 },
	{ "all-fast", sc_all_fast },
	{ "3nodes", sc_3nodes },
	{ "lukewarm-tail", sc_lukewarm_tail },
	{ "lukewarm-weighted", sc_lukewarm_weighted },
	{ "consist", sc_consist },
	{ "consist-6.12", sc_consist_612 },
	{ "bias", sc_bias },
	{ "spikes", sc_spikes },
	{ "large-dips", sc_large_dips },
	{ "large", sc_large },
	{ "hotset-move", sc_hotset_move },
	{ "early-move", sc_early_move },
	{ "grow", sc_grow },
	{ "shrink", sc_shrink },
	{ "capacity", sc_capacity },
	{ "capacity-slow", sc_capacity_slow },
	{ "capacity-wmark", sc_capacity_wmark },
	{ "target-change", sc_target_change },
	{ "unmeasured-runs", sc_unmeasured_runs },
	{ "thp-slow", sc_thp_slow },
	{ "thp-resize", sc_thp_resize },
	{ "thp-noise", sc_thp_noise },
	{ "thp-midway", sc_thp_midway },
	{ "mixed-slow", sc_mixed_slow },
	{ "recipe-temporal", sc_recipe_temporal },
	{ "recipe-consist", sc_recipe_consist },
	{ "blind", sc_blind },
};

/* ---- drivers ------------------------------------------------------------ */

static void shares_of(const uint64_t *v, size_t n, uint32_t *ret_bp)
{
	metric_shares_bp(v, n, ret_bp);
}

/* Fills the ground-truth part of ROW and what moved since PREV_APPLIED. */
static void record_truth(const Scenario *sc, const SimKernel *k, uint64_t prev_applied[N][N],
			 uint64_t *prev_failed, const int pair_scheme[N][N], Row *row)
{
	size_t n = n_nodes(sc);
	uint64_t failed = 0;

	for (size_t i = 0; i < n; i++)
		row->hot[i] = k->hot_on[i];
	shares_of(row->hot, n, row->true_bp);
	for (size_t s = 0; s < n; s++)
		for (size_t d = 0; d < n; d++) {
			if (pair_scheme[s][d] < 0)
				continue;
			const SimScheme *x = &k->schemes[pair_scheme[s][d]];
			row->moved[s][d] = x->sz_applied - prev_applied[s][d];
			prev_applied[s][d] = x->sz_applied;
			failed += x->sz_failed;
		}
	row->failed = failed - *prev_failed;
	*prev_failed = failed;
}

static void apply_event(const Event *e, SimKernel *k, Controller *ctl)
{
	switch (e->type) {
	case EV_MOVE:
		simk_hot_move(k, e->frac);
		break;
	case EV_GROW:
		simk_hot_grow(k, e->pages);
		break;
	case EV_SHRINK:
		simk_hot_shrink(k, e->pages);
		break;
	case EV_TARGETS:
		if (ctl)
			controller_set_targets(ctl, e->bp);
		break;
	}
}

/* The daemon's configuration for SC, on nodes 0..n-1. */
static void sc_config(const Scenario *sc, Config *ret)
{
	*ret = (Config){
		.interval_ms = sc->interval_ms,
		.monitor = { .sample_us = 5000, .aggr_us = (uint64_t)sc->k.window_ms * 1000,
			     .min_regions = CONFIG_DEFAULT_MIN_REGIONS, .max_regions = 1000 },
		.hot = { .min_access_percent = 5 },
		.migration = { .max_mib_per_s = sc->max_mib_per_s, .deadband_bp = sc->deadband_bp,
			       .hold_s = sc->hold_s },
		.n_tiers = n_nodes(sc),
	};
	for (size_t i = 0; i < n_nodes(sc); i++)
		ret->tiers[i] = (TierConfig){ .node = (int)i, .hot_share_bp = sc->target_bp[i] };
}

/* The daemon's start (damon_plan_build, controller_init, actuate_init) and
 * tick (controller_step, actuate_decide, actuate_committed), with the kernel
 * model in place of sysfs and what it measures. */
static void run_daemon(const Scenario *sc, SimKernel *k, Series *ser)
{
	size_t n = n_nodes(sc);
	unsigned wpt = sc->interval_ms / sc->k.window_ms;
	NodeRange ranges[N];
	NodeMap map = { .block_size = sc->k.node_bytes[0], .n = n, .ranges = ranges };
	uint64_t prev_applied[N][N] = { 0 }, prev_failed = 0;
	int sim_scheme[N][N]; /* the kernel model's index of each pair's scheme */
	Config cfg;
	DamonSetup x;
	size_t bad;
	ActuateState st;
	Controller ctl;

	uint64_t at = 0;
	for (size_t i = 0; i < n; i++) {
		ranges[i] = (NodeRange){ at, at + sc->k.node_bytes[i], (int)i };
		at += sc->k.node_bytes[i];
	}
	sc_config(sc, &cfg);
	if (damon_plan_build(&cfg, &map, &x, &bad) < 0)
		abort();
	/* Exploration knobs the daemon leaves at the controller's defaults. */
	x.ctl.gain_pct = sc->gain_pct;
	x.ctl.unseen_tau_ms = sc->unseen_tau_ms;
	for (size_t i = x.act.pairs_first; sc->set_weights && i < x.act.pairs_end; i++) {
		x.plan.schemes[i].weight_sz = sc->weights[0];
		x.plan.schemes[i].weight_nr_accesses = sc->weights[1];
		x.plan.schemes[i].weight_age = sc->weights[2];
	}
	controller_init(&ctl, &x.ctl);
	actuate_init(&st, &x.plan);
	/* The kernel model measures the hot share itself: the level and pulse
	 * schemes in the plan go unread. */
	damon_plan_fit_kernel(&x.plan, &(DamonFeatures){ .temporal = sc->tuner == SIM_TUNER_TEMPORAL });
	for (size_t s = 0; s < n; s++)
		for (size_t d = 0; d < n; d++) {
			int i = x.act.pair_scheme[s][d];
			sim_scheme[s][d] = i < 0 ? -1
						 : (int)simk_add_scheme(k, s, d, x.plan.schemes[i].goal ? sc->tuner : SIM_TUNER_NONE,
									SIM_GOAL_USER, 0, 1);
			if (i >= 0) {
				const DamonScheme *ds = &x.plan.schemes[i];
				k->schemes[sim_scheme[s][d]].prioritised =
					ds->weight_sz || ds->weight_nr_accesses || ds->weight_age;
			}
		}

	CtlDecision last = { 0 };
	uint64_t decided_applied[CTL_N][CTL_N] = { 0 };
	size_t ev = 0;
	for (size_t t = 0; t < ser->n; t++) {
		uint64_t now_ms = (uint64_t)t * sc->interval_ms;
		Row *row = &ser->row[t];

		for (; ev < sc->n_ev && sc->ev[ev].at_s * 1000 <= (double)now_ms; ev++)
			apply_event(&sc->ev[ev], k, &ctl);

		/* Measure, read sz_applied and the nodes' free memory. */
		CtlSample smp = { .now_ms = now_ms };
		CtlDecision d;
		Actuation a;
		simk_measure(k, smp.hot_bytes);
		for (size_t s = 0; s < n; s++)
			for (size_t dd = 0; dd < n; dd++)
				if (sim_scheme[s][dd] >= 0 && sc->mode == MODE_DTIERD)
					smp.applied[s][dd] = k->schemes[sim_scheme[s][dd]].sz_applied;
		for (size_t s = 0; s < n; s++)
			for (size_t dd = 0; dd < n; dd++)
				if (sim_scheme[s][dd] >= 0 && sc->mode == MODE_DTIERD)
					smp.tried[s][dd] = k->schemes[sim_scheme[s][dd]].sz_tried;
		for (size_t i = 0; i < n; i++)
			smp.capacity_bytes[i] =
				controller_node_capacity(sc->k.node_bytes[i], simk_free_bytes(k, i), smp.hot_bytes[i]);
		/* What the daemon reads off kpageflags: the hot folios' size. */
		smp.folio_bytes = sc->k.folio_pages > 1 && !sc->folio_unknown ? sc->k.folio_pages * PAGE : 0;
		/* As manager_tick: a measured interval decides; one with no
		 * measurement runs the last decision on within its error. */
		bool measured = !sc->unmeasured_period ||
				t % sc->unmeasured_period < sc->unmeasured_period - sc->unmeasured_run;
		if (measured) {
			controller_step(&ctl, &smp, &d);
			last = d;
			memcpy(decided_applied, smp.applied, sizeof(decided_applied));
		} else {
			uint64_t moved[CTL_N][CTL_N] = { 0 };
			for (size_t s = 0; s < n; s++)
				for (size_t dd = 0; dd < n; dd++)
					moved[s][dd] = smp.applied[s][dd] - decided_applied[s][dd];
			controller_blind_step(&last, n, moved, &d);
		}
		actuate_decide(&x.act, &st, &d, sc->tuner == SIM_TUNER_TEMPORAL, &a);
		for (size_t s = 0; s < n; s++)
			for (size_t dd = 0; dd < n; dd++) {
				int i = x.act.pair_scheme[s][dd];
				if (i < 0)
					continue;
				simk_scheme_stage(k, (size_t)sim_scheme[s][dd], true, a.quota[i], a.goal_target[i],
						  a.goal_current[i]);
				/* The charge window the daemon commits with it. */
				if (a.full_commit)
					simk_scheme_stage_window(k, (size_t)sim_scheme[s][dd],
								 (uint32_t)(a.reset_ms[i] / sc->k.window_ms));
			}
		actuate_committed(&st, &x.act, &a);

		record_truth(sc, k, prev_applied, &prev_failed, sim_scheme, row);
		memcpy(row->est_bp, d.estimate_bp, sizeof(row->est_bp));
		memcpy(row->meas_bp, d.measured_bp, sizeof(row->meas_bp));
		memcpy(row->target_bp, d.target_bp, sizeof(row->target_bp));
		row->in_band = d.in_band;
		row->settling = d.settling;

		for (unsigned w = 0; w < wpt; w++)
			simk_window(k);
	}
}

static void run_recipe(const Scenario *sc, SimKernel *k, Series *ser)
{
	size_t n = n_nodes(sc);
	unsigned wps = 1000 / sc->k.window_ms;
	int pair_scheme[N][N];
	uint64_t prev_applied[N][N] = { 0 }, prev_failed = 0;

	for (size_t s = 0; s < n; s++)
		for (size_t d = 0; d < n; d++)
			pair_scheme[s][d] = -1;
	/* PULL: node 1 -> node 0, goal nid 0; PUSH: node 0 -> node 1, goal nid 1. */
	uint32_t reset_w = sc->recipe_reset_ms / sc->k.window_ms;
	pair_scheme[1][0] = (int)simk_add_scheme(k, 1, 0, sc->tuner, SIM_GOAL_NODE_ELIGIBLE, 0, reset_w);
	pair_scheme[0][1] = (int)simk_add_scheme(k, 0, 1, sc->tuner, SIM_GOAL_NODE_ELIGIBLE, 1, reset_w);
	simk_scheme_stage(k, (size_t)pair_scheme[1][0], true, sc->recipe_bytes, sc->target_bp[0], 0);
	simk_scheme_stage(k, (size_t)pair_scheme[0][1], true, sc->recipe_bytes, sc->target_bp[1], 0);

	for (size_t t = 0; t < ser->n; t++) {
		Row *row = &ser->row[t];
		uint64_t vis[N];
		for (size_t i = 0; i < n; i++)
			vis[i] = (uint64_t)((double)k->n_vis[i] * (1.0 + sc->k.bias[i]) * PAGE);
		shares_of(vis, n, row->meas_bp);
		memcpy(row->est_bp, row->meas_bp, sizeof(row->est_bp));
		memcpy(row->target_bp, sc->target_bp, sizeof(row->target_bp));
		record_truth(sc, k, prev_applied, &prev_failed, pair_scheme, row);
		for (unsigned w = 0; w < wps; w++)
			simk_window(k);
	}
}

/* ---- analysis ----------------------------------------------------------- */

typedef struct PhaseResult {
	double start_s, end_s;
	uint64_t needed, moved;
	double conv_s;      /* after the phase start; < 0: never */
	uint32_t dev_after; /* worst |true - target| once converged */
	double mean_err_bp; /* node 0's mean true - target once converged */
	uint32_t lo_bp, hi_bp; /* node 0's true share once converged */
	unsigned reversals, reversals_after;
	uint64_t failed_after;
} PhaseResult;

static uint32_t worst_dev(const Row *r, const uint32_t *target, size_t n)
{
	uint32_t w = 0;
	for (size_t i = 0; i < n; i++)
		w = MAX(w, (uint32_t)abs((int)r->true_bp[i] - (int)target[i]));
	return w;
}

/* Net flow direction of each node pair per row; a reversal is a sign change
 * from the last non-zero direction. */
static unsigned count_reversals(const Series *ser, size_t n, size_t from, size_t to)
{
	unsigned rev = 0;
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++) {
			int last = 0;
			for (size_t t = from; t < to; t++) {
				int64_t net = (int64_t)ser->row[t].moved[a][b] - (int64_t)ser->row[t].moved[b][a];
				int sign = net > 0 ? 1 : net < 0 ? -1 : 0;
				if (sign && last && sign != last)
					rev++;
				if (sign)
					last = sign;
			}
		}
	return rev;
}

static void analyse_phase(const Scenario *sc, const Series *ser, size_t ph, PhaseResult *ret)
{
	size_t n = n_nodes(sc);
	size_t from = ser->phase_start[ph];
	size_t to = ph + 1 < ser->n_phases ? ser->phase_start[ph + 1] : ser->n;
	const uint32_t *tgt = ser->phase_target[ph];
	const Row *r0 = &ser->row[from];
	PhaseResult res = { .start_s = (double)from * ser->dt_s, .end_s = (double)to * ser->dt_s, .conv_s = -1,
			    .lo_bp = 10000 };

	uint64_t hot = 0;
	for (size_t i = 0; i < n; i++)
		hot += r0->hot[i];
	for (size_t i = 0; i < n; i++) {
		double want = (double)hot * tgt[i] / 10000;
		if ((double)r0->hot[i] > want)
			res.needed += (uint64_t)(((double)r0->hot[i] - want) * PAGE);
	}
	/* Bytes moved: the rows after the phase start until the next start. */
	for (size_t t = from + 1; t <= to && t < ser->n; t++)
		for (size_t s = 0; s < n; s++)
			for (size_t d = 0; d < n; d++)
				res.moved += ser->row[t].moved[s][d];

	size_t conv = to;
	for (size_t t = from; t < to; t++)
		if (worst_dev(&ser->row[t], tgt, n) <= sc->in_bp) {
			conv = t;
			break;
		}
	if (conv < to) {
		res.conv_s = (double)(conv - from) * ser->dt_s;
		for (size_t t = conv; t < to; t++) {
			res.dev_after = MAX(res.dev_after, worst_dev(&ser->row[t], tgt, n));
			res.lo_bp = MIN(res.lo_bp, ser->row[t].true_bp[0]);
			res.hi_bp = MAX(res.hi_bp, ser->row[t].true_bp[0]);
			if (t > conv)
				res.failed_after += ser->row[t].failed;
		}
		double sum = 0;
		for (size_t t = conv; t < to; t++)
			sum += (double)ser->row[t].true_bp[0] - (double)tgt[0];
		res.mean_err_bp = sum / (double)(to - conv);
		res.reversals_after = count_reversals(ser, n, conv + 1, MIN(to + 1, ser->n));
	}
	res.reversals = count_reversals(ser, n, from + 1, MIN(to + 1, ser->n));
	*ret = res;
}

/* ---- output ------------------------------------------------------------- */

static void fmt_shares(char *buf, size_t sz, const uint32_t *bp, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o < sz; i++)
		o += (size_t)snprintf(buf + o, sz - o, "%s%5.1f", i ? " " : "", bp[i] / 100.0);
}

static void print_series(const Scenario *sc, const Series *ser)
{
	size_t n = n_nodes(sc);
	size_t every = MAX((size_t)lround(sc->print_every_s / ser->dt_s), (size_t)1);
	uint64_t acc[N][N] = { 0 }, cum = 0, fail = 0;
	const char *est = sc->mode == MODE_RECIPE ? "kernel metric" : "estimate";

	printf("%6s | %-*s | %-*s | %-*s | %-*s | %-22s | %9s | %s\n", "t (s)", (int)(6 * n - 1), "true %",
	       (int)(6 * n - 1), "target", (int)(6 * n - 1), est, (int)(6 * n - 1), "measured", "moved MiB (interval)",
	       "cum MiB", "state");
	for (size_t t = 0; t < ser->n; t++) {
		const Row *r = &ser->row[t];
		for (size_t s = 0; s < n; s++)
			for (size_t d = 0; d < n; d++) {
				acc[s][d] += r->moved[s][d];
				cum += r->moved[s][d];
			}
		fail += r->failed;
		if (t % every && t + 1 != ser->n)
			continue;
		char a[64], g[64], b[64], c[64], m[96] = "";
		size_t o = 0;
		fmt_shares(a, sizeof(a), r->true_bp, n);
		fmt_shares(g, sizeof(g), r->target_bp, n);
		fmt_shares(b, sizeof(b), r->est_bp, n);
		fmt_shares(c, sizeof(c), r->meas_bp, n);
		for (size_t s = 0; s < n; s++)
			for (size_t d = 0; d < n; d++)
				if (acc[s][d] && o < sizeof(m))
					o += (size_t)snprintf(m + o, sizeof(m) - o, "%s%zu>%zu %.1f", o ? " " : "", s, d,
							      (double)acc[s][d] / MIB);
		if (!o)
			snprintf(m, sizeof(m), "-");
		char st[48];
		if (sc->mode == MODE_RECIPE)
			snprintf(st, sizeof(st), "%s", "");
		else
			snprintf(st, sizeof(st), "%s", r->in_band ? "in band" : r->settling ? "settling" : "moving");
		if (fail)
			snprintf(st + strlen(st), sizeof(st) - strlen(st), " failed %.1f MiB", (double)fail / MIB);
		printf("%6.0f | %s | %s | %s | %s | %-22s | %9.1f | %s\n", (double)t * ser->dt_s, a, g, b, c, m,
		       (double)cum / MIB, st);
		memset(acc, 0, sizeof(acc));
		fail = 0;
	}
}

/* ---- checks ------------------------------------------------------------- */

/* What one run (one seed) showed, worst over its phases. */
typedef struct RunResult {
	bool pass;
	double conv_s;        /* slowest judged convergence; < 0: one never converged */
	uint32_t dev_bp;      /* worst deviation once converged */
	unsigned reversals;   /* most reversals in a phase (recipe: in the run) */
	double factor;        /* moved / needed */
	uint64_t max_tick;    /* bytes moved in one interval */
	uint64_t failed;      /* bytes of failed migrations */
	uint32_t swing_bp;    /* recipe: node 0's range after 60 s */
} RunResult;

/* Prints the check if VERBOSE or failed; returns 1 if failed. */
static int check(bool verbose, uint64_t seed, bool ok, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int check(bool verbose, uint64_t seed, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (!verbose && ok)
		return 0;
	printf("  %s ", ok ? "ok  " : "FAIL");
	if (!verbose)
		printf("seed %" PRIu64 ": ", seed);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return ok ? 0 : 1;
}

static void evaluate(const Scenario *sc, const Series *ser, bool verbose, RunResult *ret)
{
	size_t n = n_nodes(sc);
	uint64_t seed = sc->k.seed;
	int fails = 0;
	uint64_t needed = 0, moved = 0;
	RunResult res = { .conv_s = 0 };

	for (size_t t = 0; t < ser->n; t++) {
		uint64_t m = 0;
		for (size_t s = 0; s < n; s++)
			for (size_t d = 0; d < n; d++)
				m += ser->row[t].moved[s][d];
		res.max_tick = MAX(res.max_tick, m);
		moved += m;
		res.failed += ser->row[t].failed;
	}

	if (sc->mode == MODE_RECIPE) {
		uint32_t lo = 10000, hi = 0;
		res.reversals = count_reversals(ser, n, 1, ser->n);
		for (size_t t = (size_t)lround(60 / ser->dt_s); t < ser->n; t++) {
			lo = MIN(lo, ser->row[t].true_bp[0]);
			hi = MAX(hi, ser->row[t].true_bp[0]);
		}
		res.swing_bp = hi - lo;
		res.factor = (double)moved / (double)(sc->k.hot_pages * PAGE);
		if (verbose) {
			printf("node 0 every 10 s (%%):");
			for (size_t t = 0; t < ser->n; t += (size_t)lround(10 / ser->dt_s))
				printf(" %.0f", ser->row[t].true_bp[0] / 100.0);
			printf("\nsummary: %u reversals, node 0 %.1f-%.1f %% after 60 s, %.1f MiB moved (%.0fx the hot "
			       "set)\n",
			       res.reversals, lo / 100.0, hi / 100.0, (double)moved / MIB, res.factor);
		}
		fails += check(verbose, seed, res.reversals >= sc->min_reversals,
			       "the recipe ping-pongs: %u direction reversals >= %u", res.reversals, sc->min_reversals);
		fails += check(verbose, seed, res.swing_bp >= sc->min_range_bp,
			       "node 0 swings over %.1f points after 60 s >= %.1f", res.swing_bp / 100.0,
			       sc->min_range_bp / 100.0);
		res.pass = !fails;
		*ret = res;
		return;
	}

	if (verbose)
		printf("phases:\n");
	for (size_t ph = 0; ph < ser->n_phases; ph++) {
		PhaseResult r;
		char tg[64];
		analyse_phase(sc, ser, ph, &r);
		fmt_shares(tg, sizeof(tg), ser->phase_target[ph], n);
		if (verbose)
			printf("  [%3.0f-%3.0f s] target %s: converged %s%.0f s, then within %.1f points (node 0 "
			       "%.1f-%.1f %%, mean error %+.2f), %u reversals (%u after), moved %.1f MiB for %.1f MiB "
			       "needed (%.2fx)\n",
			       r.start_s, r.end_s, tg, r.conv_s < 0 ? "never " : "after ", r.conv_s < 0 ? 0 : r.conv_s,
			       r.dev_after / 100.0, r.lo_bp / 100.0, r.hi_bp / 100.0, r.mean_err_bp / 100.0, r.reversals,
			       r.reversals_after,
			       (double)r.moved / MIB, (double)r.needed / MIB,
			       r.needed ? (double)r.moved / (double)r.needed : 0);
		needed += r.needed;
		/* A phase an event ends before the bound is not judged on convergence. */
		if (r.conv_s < 0 && ph + 1 < ser->n_phases && r.end_s - r.start_s < sc->converge_s) {
			if (verbose)
				printf("  --   phase %zu: cut short by the next event\n", ph);
			continue;
		}
		if (r.conv_s < 0 || res.conv_s < 0)
			res.conv_s = -1;
		else
			res.conv_s = MAX(res.conv_s, r.conv_s);
		res.dev_bp = MAX(res.dev_bp, r.dev_after);
		res.reversals = MAX(res.reversals, r.reversals);
		if (sc->mode != MODE_DTIERD)
			continue;
		if (sc->expect_stuck) {
			fails += check(verbose, seed, r.conv_s < 0, "phase %zu: never within %.0f points", ph,
				       sc->in_bp / 100.0);
			continue;
		}
		fails += check(verbose, seed, r.conv_s >= 0 && r.conv_s <= sc->converge_s,
			       "phase %zu: within %.0f points after %.0f s <= %.0f s", ph, sc->in_bp / 100.0, r.conv_s,
			       sc->converge_s);
		fails += check(verbose, seed, r.conv_s >= 0 && r.dev_after <= sc->keep_bp,
			       "phase %zu: then within %.1f <= %.0f points", ph, r.dev_after / 100.0, sc->keep_bp / 100.0);
		fails += check(verbose, seed, r.conv_s >= 0 && fabs(r.mean_err_bp) <= sc->mean_bp,
			       "phase %zu: mean error %+.2f within %.0f points", ph, r.mean_err_bp / 100.0,
			       sc->mean_bp / 100.0);
		fails += check(verbose, seed, r.reversals <= sc->max_reversals, "phase %zu: %u direction reversals <= %u",
			       ph, r.reversals, sc->max_reversals);
		if (sc->check_no_fail)
			fails += check(verbose, seed, r.failed_after == 0,
				       "phase %zu: %.1f MiB failed migrations once converged", ph,
				       (double)r.failed_after / MIB);
	}
	if (sc->has_expect && ser->n) {
		/* The clamp an operator is shown is what the node holds. */
		const Row *last = &ser->row[ser->n - 1];
		int gap = abs((int)last->target_bp[0] - (int)last->true_bp[0]);
		fails += check(verbose, seed, gap <= (int)sc->in_bp, "node 0's clamped target %.1f %% within %.0f points of what it holds (%.1f %%)",
			       last->target_bp[0] / 100.0, sc->in_bp / 100.0, last->true_bp[0] / 100.0);
	}
	if (sc->no_fail_after_s > 0) {
		uint64_t late = 0;
		for (size_t t = 0; t < ser->n; t++)
			if ((double)t * ser->dt_s >= sc->no_fail_after_s)
				late += ser->row[t].failed;
		fails += check(verbose, seed, late == 0, "%.1f MiB failed migrations after %.0f s (none: the pull stopped)",
			       (double)late / MIB, sc->no_fail_after_s);
	}
	uint64_t tick_cap = (uint64_t)sc->max_mib_per_s * MIB * sc->interval_ms / 1000;
	res.factor = needed ? (double)moved / (double)needed : 0;
	if (verbose)
		printf("summary: moved %.1f MiB for %.1f MiB needed (%.2fx), at most %.1f MiB per interval (cap %.1f), "
		       "%.1f MiB failed\n",
		       (double)moved / MIB, (double)needed / MIB, res.factor, (double)res.max_tick / MIB,
		       (double)tick_cap / MIB, (double)res.failed / MIB);
	if (sc->mode == MODE_DTIERD && !sc->expect_stuck) {
		fails += check(verbose, seed, (double)moved <= sc->bytes_factor * (double)needed,
			       "moved %.2fx <= %.1fx the bytes needed", res.factor, sc->bytes_factor);
		if (sc->check_tick_cap)
			fails += check(verbose, seed, res.max_tick <= tick_cap,
				       "at most %.1f MiB per interval <= max_mib_per_s x interval = %.1f",
				       (double)res.max_tick / MIB, (double)tick_cap / MIB);
	}
	res.pass = !fails;
	*ret = res;
}

/* ---- main --------------------------------------------------------------- */

/* Runs SC once (its seed); prints the series if SERIES, the checks if VERBOSE.
 * Returns 0 or -errno. */
static int run_one(const Scenario *sc, bool verbose, bool series, RunResult *ret)
{
	SimKernel k;
	int r = simk_init(&k, &sc->k);
	if (r < 0)
		return r;

	Series ser = { 0 };
	ser.dt_s = sc->mode == MODE_RECIPE ? 1.0 : sc->interval_ms / 1000.0;
	ser.n = (size_t)lround(sc->duration_s / ser.dt_s) + 1;
	ser.row = calloc(ser.n, sizeof(Row));
	if (!ser.row) {
		simk_free(&k);
		return -ENOMEM;
	}
	/* Phases: the start and every event. */
	const uint32_t *tgt = sc->has_expect ? sc->expect_bp : sc->target_bp;
	memcpy(ser.phase_target[0], tgt, sizeof(ser.phase_target[0]));
	ser.n_phases = 1;
	for (size_t i = 0; i < sc->n_ev; i++) {
		ser.phase_start[ser.n_phases] = (size_t)lround(sc->ev[i].at_s / ser.dt_s);
		if (sc->ev[i].type == EV_TARGETS)
			tgt = sc->ev[i].bp;
		memcpy(ser.phase_target[ser.n_phases], tgt, sizeof(ser.phase_target[0]));
		ser.n_phases++;
	}

	if (sc->mode == MODE_RECIPE)
		run_recipe(sc, &k, &ser);
	else
		run_daemon(sc, &k, &ser);
	if (verbose)
		printf("seed %" PRIu64 ":\n", sc->k.seed);
	if (series)
		print_series(sc, &ser);
	evaluate(sc, &ser, verbose, ret);

	free(ser.row);
	simk_free(&k);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Runs seeds SEED..SEED+N-1: the first one in full, the others as one line
 * each unless they fail, then the first failing one in full. Returns the
 * number of failing seeds or -errno. */
static int run_seeds(const Scenario *base_sc, unsigned n, bool quiet)
{
	RunResult *res = calloc(n, sizeof(*res));
	double *conv = calloc(n, sizeof(*conv));
	unsigned failing = 0;
	int first_fail = -1, r = 0;

	if (!res || !conv) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		Scenario sc = *base_sc;
		sc.k.seed = base_sc->k.seed + i;
		r = run_one(&sc, i == 0, i == 0 && !quiet, &res[i]);
		if (r < 0)
			goto out;
		if (!res[i].pass) {
			failing++;
			if (first_fail < 0 && i > 0)
				first_fail = (int)i;
		}
	}
	if (first_fail > 0) {
		Scenario sc = *base_sc;
		RunResult again;
		sc.k.seed = base_sc->k.seed + (unsigned)first_fail;
		printf("first failing seed in full:\n");
		r = run_one(&sc, true, !quiet, &again);
		if (r < 0)
			goto out;
	}

	if (n > 1) {
		RunResult w = res[0];
		unsigned nconv = 0;
		for (unsigned i = 0; i < n; i++) {
			if (res[i].conv_s >= 0)
				conv[nconv++] = res[i].conv_s;
			w.dev_bp = MAX(w.dev_bp, res[i].dev_bp);
			w.reversals = base_sc->mode == MODE_RECIPE ? MIN(w.reversals, res[i].reversals)
								   : MAX(w.reversals, res[i].reversals);
			w.factor = base_sc->mode == MODE_RECIPE ? MIN(w.factor, res[i].factor) : MAX(w.factor, res[i].factor);
			w.max_tick = MAX(w.max_tick, res[i].max_tick);
			w.failed = MAX(w.failed, res[i].failed);
			w.swing_bp = MIN(w.swing_bp, res[i].swing_bp);
		}
		qsort(conv, nconv, sizeof(*conv), cmp_double);
		printf("seeds %" PRIu64 "-%" PRIu64 ": %u of %u pass; ", base_sc->k.seed, base_sc->k.seed + n - 1, n - failing,
		       n);
		if (base_sc->mode == MODE_RECIPE)
			printf("at least %u reversals, a swing of %.1f points, %.0fx the hot set moved\n", w.reversals,
			       w.swing_bp / 100.0, w.factor);
		else
			printf("converged after median %.0f s, max %.0f s%s; then within %.1f points; at most %u reversals "
			       "per phase; moved at most %.2fx the bytes needed, %.1f MiB per interval\n",
			       nconv ? conv[nconv / 2] : -1.0, nconv ? conv[nconv - 1] : -1.0,
			       nconv < n ? " (some never)" : "", w.dev_bp / 100.0, w.reversals, w.factor,
			       (double)w.max_tick / MIB);
	}
	r = (int)failing;
out:
	free(res);
	free(conv);
	return r;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sim --scenario NAME [--seed N] [--seeds COUNT] [--quiet] [--every S] [--duration S]\n"
		   "           [--noise X] [--delay-min S] [--delay-max S] [--delay-per-page]\n"
		   "           [--tuner temporal|consist] [--gain-pct P] [--tau-ms MS] [--hold-s S]\n"
		   "           [--deadband-bp BP] [--latency-windows N]\n"
		   "       sim --list\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scenario", required_argument, NULL, 's' }, { "seed", required_argument, NULL, 'S' },
		{ "noise", required_argument, NULL, 'n' },    { "delay-min", required_argument, NULL, 'a' },
		{ "delay-max", required_argument, NULL, 'b' }, { "tuner", required_argument, NULL, 't' },
		{ "every", required_argument, NULL, 'e' },    { "duration", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },          { "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },           { "delay-per-page", no_argument, NULL, 'p' },
		{ "gain-pct", required_argument, NULL, 'G' }, { "tau-ms", required_argument, NULL, 'T' },
		{ "hold-s", required_argument, NULL, 'H' },   { "deadband-bp", required_argument, NULL, 'D' },
		{ "seeds", required_argument, NULL, 'N' },   { "latency-windows", required_argument, NULL, 'L' },
		{},
	};
	const char *name = NULL, *tuner = NULL;
	long gain = -1, tau = -1, hold = -1, deadband = -1, latency = -1;
	double noise = -1, dmin = -1, dmax = -1, every = -1, duration = -1;
	long long seed = -1;
	unsigned seeds = 1;
	bool quiet = false, per_page = false;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
		switch (c) {
		case 's': name = optarg; break;
		case 'S': seed = atoll(optarg); break;
		case 'n': noise = atof(optarg); break;
		case 'a': dmin = atof(optarg); break;
		case 'b': dmax = atof(optarg); break;
		case 't': tuner = optarg; break;
		case 'e': every = atof(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'q': quiet = true; break;
		case 'p': per_page = true; break;
		case 'G': gain = atol(optarg); break;
		case 'T': tau = atol(optarg); break;
		case 'H': hold = atol(optarg); break;
		case 'D': deadband = atol(optarg); break;
		case 'N': seeds = (unsigned)MAX(atoi(optarg), 1); break;
		case 'L': latency = atol(optarg); break;
		case 'l':
			for (size_t i = 0; i < ELEMENTSOF(scenarios); i++) {
				Scenario sc;
				base(&sc);
				scenarios[i].setup(&sc);
				printf("%-16s %s\n", scenarios[i].name, sc.what);
			}
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	if (!name || optind < argc) {
		usage(stderr);
		return 2;
	}

	Scenario sc;
	size_t si = 0;
	for (; si < ELEMENTSOF(scenarios); si++)
		if (strcmp(scenarios[si].name, name) == 0)
			break;
	if (si == ELEMENTSOF(scenarios)) {
		fprintf(stderr, "sim: unknown scenario '%s' (--list shows them)\n", name);
		return 2;
	}
	base(&sc);
	sc.name = scenarios[si].name;
	scenarios[si].setup(&sc);
	if (seed >= 0)
		sc.k.seed = (uint64_t)seed;
	if (noise >= 0)
		sc.k.noise = noise;
	if (dmin >= 0)
		sc.k.delay_min_s = dmin;
	if (dmax >= 0)
		sc.k.delay_max_s = dmax;
	if (per_page)
		sc.k.delay_per_page = true;
	if (gain >= 0)
		sc.gain_pct = (unsigned)gain;
	if (tau >= 0)
		sc.unseen_tau_ms = (unsigned)tau;
	if (hold >= 0)
		sc.hold_s = (unsigned)hold;
	if (deadband >= 0)
		sc.deadband_bp = (unsigned)deadband;
	if (latency >= 0)
		sc.k.latency_windows = (uint32_t)latency;
	if (every > 0)
		sc.print_every_s = every;
	if (duration > 0)
		sc.duration_s = duration;
	if (tuner) {
		if (strcmp(tuner, "temporal") == 0)
			sc.tuner = SIM_TUNER_TEMPORAL;
		else if (strcmp(tuner, "consist") == 0)
			sc.tuner = SIM_TUNER_CONSIST;
		else {
			usage(stderr);
			return 2;
		}
	}

	printf("scenario %s: %s\n", sc.name, sc.what);
	printf("model: %zu nodes, hot %.1f MiB of %.1f MiB, delay %.0f-%.0f s per %s, noise %.1f %%, %s tuner\n",
	       sc.k.n_nodes, (double)sc.k.hot_pages * PAGE / MIB, (double)sc.k.map_pages * PAGE / MIB,
	       sc.k.delay_min_s, sc.k.delay_max_s, sc.k.delay_per_page ? "page" : "batch", sc.k.noise * 100,
	       sc.tuner == SIM_TUNER_TEMPORAL ? "temporal" : "consist");

	int r = run_seeds(&sc, seeds, quiet);
	if (r < 0) {
		fprintf(stderr, "sim: %s\n", strerror(-r));
		return 2;
	}
	printf("%s: %s\n", sc.name, r ? "FAIL" : "pass");
	return r ? 1 : 0;
}
