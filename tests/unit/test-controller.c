/* SPDX-License-Identifier: GPL-2.0-or-later */
/* controller.c: the control decision as a pure function, driven here with
 * hand-made samples and a hand-made clock. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller.h"

#define MIB (1ULL << 20)
#define TICK 1000 /* ms, the default interval */

static CtlParams params2(uint32_t t0, uint32_t t1)
{
	return (CtlParams){
		.n = 2,
		.node = { 0, 1 },
		.target_bp = { t0, t1 },
		.deadband_bp = 150,
		.max_bytes_per_tick = 64 * MIB,
		.hold_ms = 10000,
		.gain_pct = 60,
	};
}

/* A sample at time T with hot bytes (MiB) per node. */
static CtlSample sample(uint64_t t, uint64_t h0, uint64_t h1, uint64_t h2)
{
	CtlSample s = { .now_ms = t };
	s.hot_bytes[0] = h0 * MIB;
	s.hot_bytes[1] = h1 * MIB;
	s.hot_bytes[2] = h2 * MIB;
	return s;
}

static bool any_run(const CtlDecision *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (d->run[i][j])
				return true;
	return false;
}

static void test_init_defaults(void **state)
{
	Controller c;
	CtlParams p = { .n = 2, .target_bp = { 5000, 5000 }, .max_bytes_per_tick = MIB };

	controller_init(&c, &p);
	assert_true(c.p.gain_pct > 0 && c.p.gain_pct <= 100);
	assert_true(c.p.unseen_tau_ms > 0);
	assert_true(c.p.min_bytes_per_tick > 0);
	/* The same default as dtierd.conf's migration.deadband_bp. */
	assert_int_equal(c.p.deadband_bp, 150);
	assert_false(c.started);
	assert_false(c.in_band);
	/* Given values are kept. */
	p.gain_pct = 30;
	p.deadband_bp = 10;
	controller_init(&c, &p);
	assert_int_equal(c.p.gain_pct, 30);
	assert_int_equal(c.p.deadband_bp, 10);
}

static void test_at_target(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	uint64_t target, current;

	controller_init(&c, &p);
	CtlSample s = sample(0, 600, 400, 0);
	/* Already there at the first interval (which only measures anyway). */
	controller_step(&c, &s, &d);
	assert_false(any_run(&d, 2));
	assert_true(d.in_band);
	/* In band (nothing moves), but not announced: the first interval's
	 * measurement is unsettled by definition. */
	assert_false(d.events & CTL_EV_REACHED);
	assert_int_equal(d.measured_bp[0], 6000);
	assert_int_equal(d.estimate_bp[1], 4000);
	assert_int_equal(d.target_bp[0], 6000);
	assert_int_equal(d.target_bp[1], 4000);
	assert_false(d.clamped[0] || d.clamped[1]);
	assert_true(d.estimate_total == 1000 * MIB);
	/* Both goals read "met": current = 2 x target, for both tuners. */
	for (int temporal = 0; temporal < 2; temporal++) {
		controller_goal_values(&d, 0, 1, temporal, &target, &current);
		assert_true(target == 4000);
		assert_true(current == 8000);
		controller_goal_values(&d, 1, 0, temporal, &target, &current);
		assert_true(target == 6000);
		assert_true(current == 12000);
	}
	/* The next, settled interval confirms it: announced once. */
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	assert_true(d.in_band);
	assert_int_equal(d.events, CTL_EV_REACHED);
	assert_int_equal(d.display_bp[0], 6000);
	/* Staying there: no new REACHED event. */
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	assert_true(d.in_band);
	assert_int_equal(d.events, 0);
	assert_false(any_run(&d, 2));
}

/* With no measurement, a pair runs on only while another interval at its
 * rate stays within the error last measured. */
static void test_blind_step(void **state)
{
	CtlDecision last = { 0 }, d;
	uint64_t moved[CTL_N][CTL_N] = { 0 };
	const uint64_t mib = 1 << 20;

	(void)state;
	/* 1 -> 0: 57 MiB to move at 60 %, 34 MiB per interval (gain-limited);
	 * 0 -> 2: 900 MiB held back by the speed cap, 256 MiB per interval. */
	last.run[1][0] = last.run[0][2] = true;
	last.need_bytes[1][0] = 57 * mib;
	last.bytes_per_tick[1][0] = 34 * mib;
	last.need_bytes[0][2] = 900 * mib;
	last.bytes_per_tick[0][2] = 256 * mib;
	last.events = CTL_EV_REACHED;
	/* Nothing moved yet (the kdamond did not apply): both run on. */
	controller_blind_step(&last, 3, moved, &d);
	assert_true(d.run[1][0] && d.run[0][2]);
	assert_true(d.bytes_per_tick[1][0] == 34 * mib);
	assert_int_equal(d.events, 0); /* no event twice */
	/* One interval's worth moved: the gain-limited pair would pass its
	 * error and stops; the capped one has room for two more intervals. */
	moved[1][0] = 34 * mib;
	moved[0][2] = 256 * mib;
	controller_blind_step(&last, 3, moved, &d);
	assert_false(d.run[1][0]);
	assert_true(d.bytes_per_tick[1][0] == 0);
	assert_true(d.run[0][2]);
	moved[0][2] = 645 * mib;
	controller_blind_step(&last, 3, moved, &d);
	assert_false(d.run[0][2]);
	assert_false(d.run[1][2] || d.run[2][0]);
}

static void test_goal_values(void **state)
{
	CtlDecision d = { 0 };
	uint64_t target, current;

	d.target_bp[0] = 6000;
	d.target_bp[1] = 4000;
	d.estimate_bp[0] = 2500;
	d.estimate_bp[1] = 7500;
	d.run[1][0] = true;
	/* Running, temporal: the destination's share, below target. */
	controller_goal_values(&d, 1, 0, true, &target, &current);
	assert_true(target == 6000);
	assert_true(current == 2500);
	/* Running, consist: 0 so the quota ramps up at its fastest. */
	controller_goal_values(&d, 1, 0, false, &target, &current);
	assert_true(target == 6000);
	assert_true(current == 0);
	/* Running although the estimate says reached (in flight): still
	 * strictly below target, or temporal would close the quota. */
	d.estimate_bp[0] = 6500;
	controller_goal_values(&d, 1, 0, true, &target, &current);
	assert_true(current == 5999);
	/* Not running: met. */
	controller_goal_values(&d, 0, 1, true, &target, &current);
	assert_true(target == 4000 && current == 8000);
	/* A 0 bp target is written as 1: the kernel drops goals whose
	 * target is 0 (and the quota would be unbounded). */
	d.target_bp[1] = 0;
	controller_goal_values(&d, 0, 1, true, &target, &current);
	assert_true(target == 1 && current == 2);
	d.run[0][1] = true;
	controller_goal_values(&d, 0, 1, true, &target, &current);
	assert_true(target == 1 && current == 0);
}

static void test_start_from_extremes(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	uint64_t target, current;

	/* Everything on node 1 (0 % on node 0): node 1 -> node 0 runs,
	 * capped at max_bytes_per_tick (60 % of 60 % of 1000 MiB > 64 MiB). */
	controller_init(&c, &p);
	CtlSample s = sample(0, 0, 1000, 0);
	controller_step(&c, &s, &d); /* warm-up: the first interval only measures */
	controller_step(&c, &s, &d);
	assert_false(d.in_band);
	assert_true(d.run[1][0]);
	assert_false(d.run[0][1]);
	assert_true(d.bytes_per_tick[1][0] == 64 * MIB);
	assert_true(d.bytes_per_tick[0][1] == 0);
	assert_int_equal(d.measured_bp[0], 0);
	controller_goal_values(&d, 1, 0, true, &target, &current);
	assert_true(target == 6000 && current < target);
	controller_goal_values(&d, 0, 1, true, &target, &current);
	assert_true(current == 2 * target);

	/* Everything on node 0 (100 %): node 0 -> node 1. */
	controller_init(&c, &p);
	s = sample(0, 1000, 0, 0);
	controller_step(&c, &s, &d); /* warm-up: the first interval only measures */
	controller_step(&c, &s, &d);
	assert_true(d.run[0][1]);
	assert_false(d.run[1][0]);
	assert_true(d.bytes_per_tick[0][1] == 64 * MIB);

	/* Below the cap: gain (60 %) of the error. 100 MiB hot, 40 % short:
	 * 0.6 x 40 MiB = 24 MiB. */
	controller_init(&c, &p);
	s = sample(0, 100, 0, 0);
	controller_step(&c, &s, &d); /* warm-up: the first interval only measures */
	controller_step(&c, &s, &d);
	assert_true(d.run[0][1]);
	assert_true(d.bytes_per_tick[0][1] == 24 * MIB);
	assert_true(d.bytes_per_tick[0][1] <= p.max_bytes_per_tick);

	/* Tiny hot sets still move at least min_bytes_per_tick. */
	controller_init(&c, &p);
	s = sample(0, 0, 0, 0);
	s.hot_bytes[0] = 1 * MIB;
	controller_step(&c, &s, &d); /* warm-up: the first interval only measures */
	controller_step(&c, &s, &d);
	assert_true(d.run[0][1]);
	assert_true(d.bytes_per_tick[0][1] == 256 * 1024);

	/* Nothing hot: nothing to place, nothing runs. */
	controller_init(&c, &p);
	s = sample(0, 0, 0, 0);
	controller_step(&c, &s, &d); /* warm-up: the first interval only measures */
	controller_step(&c, &s, &d);
	assert_false(any_run(&d, 2));
	assert_true(d.estimate_total == 0);
}

/* Feeds one sample with node 0 at P0 per mille of 1000 MiB hot. */
static void step_at(Controller *c, uint64_t *t, unsigned p0, CtlDecision *d)
{
	CtlSample s = sample(*t += TICK, p0, 1000 - p0, 0);
	controller_step(c, &s, d);
}

static void test_deadband_hysteresis(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	uint64_t t = 0;

	controller_init(&c, &p);
	CtlSample s = sample(t, 0, 1000, 0);
	controller_step(&c, &s, &d); /* warm-up: the first interval only measures */
	controller_step(&c, &s, &d);
	assert_true(d.run[1][0]);
	assert_int_equal(d.events, 0);

	/* Outside the band (error 200 > 150): keeps running. The hot set
	 * moved without our counters seeing it (applied stays 0). */
	step_at(&c, &t, 580, &d);
	assert_false(d.in_band);
	assert_true(d.run[1][0]);

	/* Inside half the band (error 50 <= 75), where an approach stops:
	 * stops. REACHED once, when the interval after the stop shows
	 * nothing running or moving: the charge window already running can
	 * still migrate. */
	step_at(&c, &t, 595, &d);
	assert_true(d.in_band);
	assert_false(d.events & CTL_EV_REACHED);
	assert_false(any_run(&d, 2));
	step_at(&c, &t, 590, &d);
	assert_int_equal(d.events, CTL_EV_REACHED);
	step_at(&c, &t, 590, &d);
	assert_int_equal(d.events, 0);

	/* Between 1x and 2x the deadband (250): stays stopped. */
	for (int i = 0; i < 4; i++) {
		step_at(&c, &t, 575, &d);
		assert_true(d.in_band);
		assert_false(any_run(&d, 2));
		assert_int_equal(d.events, 0);
	}
	/* Exactly 2x (300) is not past it, however long. Operators were
	 * told 59.0 %: once the median reads 57.0 %, more than the band
	 * away, they are told again, once. */
	unsigned drifts = 0;
	for (int i = 0; i < 4; i++) {
		step_at(&c, &t, 570, &d);
		assert_true(d.in_band);
		assert_false(d.events & ~CTL_EV_DRIFTED);
		if (d.events & CTL_EV_DRIFTED) {
			assert_int_equal(d.display_bp[0], 5700);
			drifts++;
		}
	}
	assert_int_equal(drifts, 1);
	/* Single outliers past 2x (400), each followed by two good
	 * intervals, never restart migration (one noisy interval). */
	for (int i = 0; i < 3; i++) {
		step_at(&c, &t, 560, &d);
		assert_true(d.in_band);
		assert_false(any_run(&d, 2));
		step_at(&c, &t, 590, &d);
		assert_true(d.in_band);
		step_at(&c, &t, 590, &d);
		assert_true(d.in_band);
		assert_false(d.events & (CTL_EV_REACHED | CTL_EV_LOST));
	}
	/* Past 2x three times in a row is not enough (a run of spikes); in
	 * four of the last five it is: LOST at the fourth, and it runs
	 * again, this time the other way (node 0 is now over its target). */
	for (int i = 0; i < 3; i++) {
		step_at(&c, &t, 640, &d);
		assert_true(d.in_band);
		assert_false(any_run(&d, 2));
	}
	step_at(&c, &t, 640, &d);
	assert_false(d.in_band);
	assert_true(d.events & CTL_EV_LOST);
	assert_false(d.events & CTL_EV_REACHED);
	assert_true(d.run[0][1]);
	assert_false(d.run[1][0]);
}

/* A settled 60/40 controller past its first interval with S on the
 * nodes (all on node 1): pushing 1 -> 0. */
static void start_push(Controller *c, const CtlParams *p, const CtlSample *s, CtlDecision *d)
{
	controller_init(c, p);
	controller_step(c, s, d); /* warm-up: the first interval only measures */
	controller_step(c, s, d);
	assert_true(d->run[1][0]);
}

/* 6.12, s16: the push stopped inside the band, and the charge window
 * already running moved one more folio in the interval after. "reached"
 * waits for an interval that moved nothing, and shows what it measured. */
static void test_reached_waits_for_the_last_move(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	uint64_t t = 0;

	p.settle_pct = 100;
	CtlSample s = sample(t, 0, 1000, 0);
	start_push(&c, &p, &s, &d);
	/* 595 MiB moved and seen: in the band, stopped. */
	s = sample(t += TICK, 595, 405, 0);
	s.applied[1][0] = 595 * MIB;
	controller_step(&c, &s, &d);
	assert_true(d.in_band);
	assert_false(any_run(&d, 2));
	assert_false(d.events & CTL_EV_REACHED);
	/* 2 MiB more moved after the stop, seen: still no word. */
	s = sample(t += TICK, 597, 403, 0);
	s.applied[1][0] = 597 * MIB;
	controller_step(&c, &s, &d);
	assert_true(d.in_band);
	assert_int_equal(d.events, 0);
	/* Nothing moved: reached, at what is measured now. */
	s.now_ms = t += TICK;
	controller_step(&c, &s, &d);
	assert_int_equal(d.events, CTL_EV_REACHED);
	assert_int_equal(d.display_bp[0], 5970);
}

/* Entered the band on an unsettled interval; the first settled one is an
 * outlier past the deadband (kept in band by the hysteresis): "reached" waits
 * for a settled estimate inside the deadband and shows that one. */
/* A 60/40 controller whose first interval (unsettled by definition) reads
 * 60 %: in the band, "reached" pending. */
static void enter_band_unsettled(Controller *c, const CtlParams *p, uint64_t *t, CtlDecision *d)
{
	controller_init(c, p);
	step_at(c, t, 600, d);
	assert_true(d->in_band);
	assert_false(d->events & CTL_EV_REACHED);
}

/* A settled 59 %: "reached", showing that estimate. */
static void assert_reached_at_590(Controller *c, uint64_t *t, CtlDecision *d)
{
	step_at(c, t, 590, d);
	assert_true(d->in_band);
	assert_int_equal(d->events, CTL_EV_REACHED);
	assert_int_equal(d->display_bp[0], 5900);
}

static void test_reached_waits_for_estimate_in_deadband(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	uint64_t t = 0;

	enter_band_unsettled(&c, &p, &t, &d);
	step_at(&c, &t, 620, &d); /* settled, but 200 bp off: in band, not shown */
	assert_true(d.in_band);
	assert_false(d.events & CTL_EV_REACHED);
	assert_false(any_run(&d, 2));
	assert_reached_at_590(&c, &t, &d);
}

/* Entered the band on an unsettled interval, then every settled estimate
 * sits past the deadband but inside twice it (6.12, s12: 62.42 % with bytes
 * unseen, then 62.51-62.90 % against a 2.50-point band): no "reached" ever,
 * and once the median of a full history says so, it leaves the band without
 * a word and moves again. */
static void test_unconfirmed_reach_given_up(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	uint64_t t = 0;

	enter_band_unsettled(&c, &p, &t, &d);
	for (int i = 0; i < CTL_BAND_HIST - 2; i++) {
		step_at(&c, &t, 620, &d);
		assert_true(d.in_band);
		assert_int_equal(d.events, 0);
		assert_false(any_run(&d, 2));
	}
	step_at(&c, &t, 620, &d);
	assert_false(d.in_band);
	assert_int_equal(d.events, 0);
	assert_true(d.run[0][1]);
	assert_false(d.run[1][0]);
	/* Back inside (where an approach stops): stopped; the interval
	 * after, settled: reached, and shown. */
	step_at(&c, &t, 595, &d);
	assert_true(d.in_band);
	assert_int_equal(d.events, 0);
	assert_reached_at_590(&c, &t, &d);
}

/* An approach does not stop at the band's edge: one point off (inside the
 * 1.5-point deadband) it moves on, and stops at half a point (the sim's
 * shrink stopped at 58.3 % on one estimate of 58.6 % and held it). */
static void test_approach_stops_at_half_the_band(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	uint64_t t = 0;

	controller_init(&c, &p);
	step_at(&c, &t, 500, &d); /* warm-up: the first interval only measures */
	step_at(&c, &t, 500, &d);
	assert_true(d.run[1][0]);
	step_at(&c, &t, 590, &d);
	assert_false(d.in_band);
	assert_true(d.run[1][0]);
	assert_false(d.run[0][1]);
	step_at(&c, &t, 595, &d);
	assert_true(d.in_band);
	assert_false(any_run(&d, 2));
}

/* Entered the band on one unsettled estimate, then settled ones 2.1-2.2
 * points short and one at 1.4: no "reached" on that one, since the median
 * of the estimates since entering lies outside the band; with five of
 * them it leaves without a word and moves (the sim's large-dips: entered
 * at 59.6 % with bytes in flight, then 57.4-58.5 %, and "reached" on 58.5 %
 * held 57.8 % for the whole run). */
static void test_reach_needs_the_median(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	uint64_t t = 0;

	enter_band_unsettled(&c, &p, &t, &d);
	const unsigned node0[] = { 578, 579, 578 };
	for (size_t k = 0; k < 3; k++) {
		step_at(&c, &t, node0[k], &d);
		assert_true(d.in_band);
		assert_int_equal(d.events, 0);
		assert_false(any_run(&d, 2));
	}
	step_at(&c, &t, 586, &d);
	assert_false(d.in_band);
	assert_int_equal(d.events, 0);
	assert_true(d.run[1][0]);
}

static void test_band_exit_median(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	uint64_t t = 0;

	controller_init(&c, &p);
	CtlSample s = sample(t, 600, 400, 0);
	controller_step(&c, &s, &d); /* warm-up: the first interval only measures */
	controller_step(&c, &s, &d);
	assert_true(d.in_band);

	/* Right after reaching the band, one outlier is not enough... */
	step_at(&c, &t, 500, &d);
	assert_true(d.in_band);
	/* ...and leaving is judged on the last five estimates: two bad of
	 * four is not enough (two spikes on one node within three intervals
	 * got past a median of three in the sim), nor three of five (three
	 * spikes in a row in the sim's spikes), four bad of five (not
	 * necessarily adjacent) is. */
	step_at(&c, &t, 600, &d);
	assert_true(d.in_band);
	step_at(&c, &t, 500, &d);
	assert_true(d.in_band);
	step_at(&c, &t, 500, &d);
	assert_true(d.in_band);
	step_at(&c, &t, 500, &d);
	assert_false(d.in_band);
	assert_true(d.events & CTL_EV_LOST);
	assert_true(d.run[1][0]);

	/* Back in band (reached once the interval after the stop moved
	 * nothing); then an outlier in the other direction and one far off
	 * in the first direction: the median (good) holds. */
	step_at(&c, &t, 600, &d);
	assert_true(d.in_band);
	assert_false(d.events & CTL_EV_REACHED);
	step_at(&c, &t, 600, &d);
	assert_true(d.events & CTL_EV_REACHED);
	step_at(&c, &t, 600, &d);
	step_at(&c, &t, 700, &d);
	assert_true(d.in_band);
	step_at(&c, &t, 600, &d);
	assert_true(d.in_band);
	step_at(&c, &t, 100, &d);
	assert_true(d.in_band);
	assert_false(any_run(&d, 2));
}

static void test_unseen_compensation(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	uint64_t t = 0;

	/* A generous cap, so one step moves the whole way. These measured
	 * totals drop on purpose; test the unseen logic on its own. */
	p.max_bytes_per_tick = 1024 * MIB;
	p.gain_pct = 100;
	p.settle_pct = 100;
	controller_init(&c, &p);
	CtlSample s = sample(t, 0, 1000, 0);
	controller_step(&c, &s, &d); /* warm-up: the first interval only measures */
	controller_step(&c, &s, &d);
	assert_true(d.run[1][0]);
	assert_true(d.bytes_per_tick[1][0] == 600 * MIB);

	/* 600 MiB moved 1 -> 0 (sz_applied). In paddr mode they left node 1
	 * at once, but node 0 does not show them hot yet: measured 0 / 400.
	 * Taken at face value node 0 would be at 0 % and 600 MiB more would
	 * follow; the estimate must count the moved bytes on node 0. */
	s = sample(t += TICK, 0, 400, 0);
	s.applied[1][0] = 600 * MIB;
	controller_step(&c, &s, &d);
	assert_true(d.moved[1][0] == 600 * MIB);
	assert_int_equal(d.measured_bp[0], 0);
	assert_true(d.estimate_bp[0] >= 5800);
	/* What still moves 1 -> 0 (if anything) stays within the deadband
	 * of the target: 600 + x <= 61.5 % of 1000 MiB. */
	uint64_t more = d.run[1][0] ? d.bytes_per_tick[1][0] : 0;
	assert_true(600 * MIB + more <= 615 * MIB);
	assert_false(d.run[0][1]);

	/* DAMON has now seen them on node 0: no double counting. */
	s = sample(t += TICK, 600, 400, 0);
	s.applied[1][0] = 600 * MIB + more;
	controller_step(&c, &s, &d);
	assert_int_equal(d.estimate_bp[0], 6000);
	assert_true(d.estimate_total == 1000 * MIB);
	assert_true(d.in_band);
	assert_false(any_run(&d, 2));
}

static void test_unseen_partial_and_fading(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	uint64_t t = 0;

	p.max_bytes_per_tick = 200 * MIB;
	p.settle_pct = 100;
	controller_init(&c, &p);
	CtlSample s = sample(t, 0, 1000, 0);
	controller_step(&c, &s, &d); /* warm-up: the first interval only measures */
	controller_step(&c, &s, &d);
	assert_true(d.bytes_per_tick[1][0] == 200 * MIB);

	/* 200 MiB moved, not seen yet: estimate 20 %, keeps going (still
	 * short of 60 %), but by the remaining error, not the full one. */
	s = sample(t += TICK, 0, 800, 0);
	s.applied[1][0] = 200 * MIB;
	controller_step(&c, &s, &d);
	assert_true(d.estimate_bp[0] >= 1900 && d.estimate_bp[0] <= 2000);
	assert_true(d.run[1][0]);

	/* Half of them seen: the unseen part shrinks accordingly, the
	 * estimate does not jump (it may fade a little). */
	uint32_t before = d.estimate_bp[0];
	s = sample(t += TICK, 100, 800, 0);
	s.applied[1][0] = 200 * MIB;
	controller_step(&c, &s, &d);
	assert_true(d.estimate_bp[0] <= before && d.estimate_bp[0] + 150 >= before);

	/* The hot set really shrank (the moved pages went cold and never
	 * show up): the phantom fades with unseen_tau_ms instead of holding
	 * node 0's estimate up forever. */
	for (int i = 0; i < 120; i++) {
		s = sample(t += TICK, 100, 800, 0);
		s.applied[1][0] = 200 * MIB;
		controller_step(&c, &s, &d);
	}
	assert_true(d.estimate_bp[0] < 1200);
	assert_true(d.estimate_bp[0] >= 1111); /* 100 / 900 */
}

/* A move carries whole regions, cold pages too (s20: 64 KiB hot islands in
 * ~512 KiB regions): only the source's hot fraction of it counts as unseen
 * hot bytes on the destination (crediting all of it kept the estimate 3-6
 * points above the truth on 6.12 while node 0 climbed), and the ask is the
 * region bytes that hold the hot bytes to move. */
static void test_moves_count_hot_part(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	uint64_t t = 0;

	p.settle_pct = 100;
	/* 96 MiB hot on node 1, in 768 MiB of hot regions. */
	CtlSample s = sample(t, 0, 96, 0);
	s.region_bytes[1] = 768 * MIB;
	start_push(&c, &p, &s, &d);
	/* The ask is in DAMON's bytes: 60 % of 96 MiB hot is 460.8 MiB of
	 * the regions that hold it (8 times the hot bytes), the gain's part
	 * of it capped at the speed cap (64 MiB per interval). */
	assert_true(d.need_bytes[1][0] >= 460 * MIB && d.need_bytes[1][0] <= 461 * MIB);
	assert_true(d.bytes_per_tick[1][0] == 64 * MIB);

	/* 8 MiB of regions moved 1 -> 0: 1 MiB of it hot, not seen on node
	 * 0 yet. The estimate is ~1 MiB of ~96 (104 bp), not 8 (777 bp). */
	s = sample(t += TICK, 0, 95, 0);
	s.region_bytes[1] = 760 * MIB;
	s.applied[1][0] = 8 * MIB;
	controller_step(&c, &s, &d);
	assert_true(d.moved[1][0] == 8 * MIB);
	assert_int_equal(d.measured_bp[0], 0);
	assert_in_range(d.estimate_bp[0], 90, 120);

	/* Unknown region bytes (0): a move is all hot, as before. */
	controller_init(&c, &p);
	t = 0;
	s = sample(t, 0, 96, 0);
	controller_step(&c, &s, &d);
	controller_step(&c, &s, &d);
	assert_true(d.need_bytes[1][0] >= 57 * MIB && d.need_bytes[1][0] <= 58 * MIB);
	s = sample(t += TICK, 0, 88, 0);
	s.applied[1][0] = 8 * MIB;
	controller_step(&c, &s, &d);
	assert_in_range(d.estimate_bp[0], 800, 850);
}

static void test_first_interval_measures_only(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);

	/* A fresh DAMON's first measurement is not trusted to act on: the
	 * first interval only measures, the second (same total) acts. */
	controller_init(&c, &p);
	CtlSample s = sample(0, 0, 1000, 0);
	controller_step(&c, &s, &d);
	assert_true(d.settling);
	assert_false(any_run(&d, 2));
	s = sample(TICK, 0, 1000, 0);
	controller_step(&c, &s, &d);
	assert_false(d.settling);
	assert_true(d.run[1][0]);
}

/* 6.12, s12: DAMON's first window moved a page to node 1 before any
 * decision ran that pair. Not a move of ours: the pull to node 0 must not
 * wait hold_ms for it. A push dtierd ran does hold the pull. */
static void test_unasked_move_does_not_hold(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);

	controller_init(&c, &p);
	CtlSample s = sample(0, 0, 64, 0);
	controller_step(&c, &s, &d);
	s = sample(TICK, 0, 64, 0);
	s.applied[0][1] = 4096;
	controller_step(&c, &s, &d);
	assert_false(d.settling);
	assert_true(d.run[1][0]);

	/* Node 0 overfull: the push to node 1 runs and moves; the pull
	 * then waits hold_ms however far short node 0 reads. */
	controller_init(&c, &p);
	s = sample(0, 64, 0, 0);
	controller_step(&c, &s, &d);
	s = sample(TICK, 64, 0, 0);
	controller_step(&c, &s, &d);
	assert_true(d.run[0][1]);
	s = sample(2 * TICK, 20, 44, 0);
	s.applied[0][1] = 44 * MIB;
	controller_step(&c, &s, &d);
	s = sample(3 * TICK, 20, 44, 0);
	s.applied[0][1] = 44 * MIB;
	controller_step(&c, &s, &d);
	assert_false(d.run[1][0]);
}

static void test_settle_holds_on_moving_total(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	uint64_t t = 0;

	controller_init(&c, &p);
	CtlSample s = sample(t, 0, 64, 0);
	controller_step(&c, &s, &d);
	s = sample(t += TICK, 0, 64, 0);
	controller_step(&c, &s, &d);
	assert_true(d.run[1][0]);

	/* Seen on 7.3 right after a move: the total reads 93 MiB for a
	 * 64 MiB hot set (cold neighbours of the departed pages still look
	 * hot). Node 0 reads 24 %, far short, but nothing may move on it. */
	s = sample(t += TICK, 22, 71, 0);
	s.applied[1][0] = 24 * MIB;
	controller_step(&c, &s, &d);
	assert_true(d.settling);
	assert_false(any_run(&d, 2));
	/* Still moving (93 -> 121 MiB): hold. */
	s = sample(t += TICK, 92, 29, 0);
	s.applied[1][0] = 24 * MIB;
	controller_step(&c, &s, &d);
	assert_true(d.settling);
	assert_false(any_run(&d, 2));
	/* Two similar totals again: act on what is measured. */
	s = sample(t += TICK, 36, 25, 0);
	s.applied[1][0] = 24 * MIB;
	controller_step(&c, &s, &d);
	s = sample(t += TICK, 38, 25, 0);
	s.applied[1][0] = 24 * MIB;
	controller_step(&c, &s, &d);
	assert_false(d.settling);
	assert_true(d.in_band);
	assert_false(any_run(&d, 2));
}

/* A 60/40 controller capped at CAP MiB per tick with a 256 MiB hot set at
 * N0 MiB on node 0, past two settled intervals; then one interval whose
 * total reads 20 % low on both nodes alike (6.12 under a large move). */
static void dip_after_settled(Controller *c, CtlParams *p, uint64_t cap, uint64_t n0, CtlDecision *d)
{
	uint64_t t = 0;

	p->max_bytes_per_tick = cap * MIB;
	controller_init(c, p);
	for (int i = 0; i < 2; i++) {
		CtlSample s = sample(t, n0, 256 - n0, 0);
		controller_step(c, &s, d);
		t += TICK;
	}
	CtlSample s = sample(t, n0 * 8 / 10, (256 - n0) * 8 / 10, 0);
	controller_step(c, &s, d);
}

static void test_settle_moves_on_beyond_the_dip(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);

	/* 20 % of 256 MiB on node 0, 40 points short; the dip (52 MiB, 25 %
	 * of the smaller total) explains 25 of them. The 15 beyond it are
	 * 38 MiB, 23 MiB at the gain: the 16 MiB cap limits the move, so it
	 * goes on at the cap. */
	dip_after_settled(&c, &p, 16, 51, &d);
	assert_true(d.settling);
	assert_in_range(d.unsettled_bp, 2500, 2560); /* 52 MiB of 204 */
	assert_true(d.run[1][0]);
	assert_int_equal(d.bytes_per_tick[1][0], 16 * MIB);
	/* 30 points short (77 MiB): the cap limits that move, but only the
	 * 4.6 points beyond the dip's 25.4 are sure: 60 % of those, 5.8 MiB. */
	dip_after_settled(&c, &p, 16, 77, &d);
	assert_true(d.settling);
	assert_true(d.run[1][0]);
	assert_in_range(d.bytes_per_tick[1][0], 5 * MIB, 7 * MIB);
	/* 10 points short: the dip could explain all of it; wait. */
	dip_after_settled(&c, &p, 16, 128, &d);
	assert_true(d.settling);
	assert_false(any_run(&d, 2));
	/* 40 points short but the cap far away (64 MiB a tick): a wait costs
	 * little, the next settled measurement says more. */
	dip_after_settled(&c, &p, 64, 51, &d);
	assert_true(d.settling);
	assert_false(any_run(&d, 2));
}

/* On the way to the band the status shows the latest estimate, not the
 * median of five that trails the moves (6.12, s20: 35.55 % shown while the
 * workload held 47.53 %). */
static void test_display_latest_on_the_way(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	uint64_t t = 0;
	static const uint64_t h0[] = { 0, 0, 8, 16, 24, 32, 40 };

	controller_init(&c, &p);
	for (size_t k = 0; k < sizeof(h0) / sizeof(h0[0]); k++) {
		CtlSample s = sample(t += TICK, h0[k], 100 - h0[k], 0);
		s.applied[1][0] = h0[k] * MIB;
		controller_step(&c, &s, &d);
		assert_false(d.in_band);
		assert_int_equal(d.display_bp[0], d.estimate_bp[0]);
	}
	assert_int_equal(d.display_bp[0], 4000);
	(void)state;
}

/* measure.metric = "kernel": the kernel's goals stop anywhere within one
 * folio of the targets, so the band is a folio, and a THP hot set the
 * kernel left one folio past is reached (7.3, s21: 62.5 % for 60 % the
 * whole run, and no event at all with the userspace pairs' 0.55 folio). */
static void test_kernel_goals_band_is_a_folio(void **state)
{
	Controller c;
	CtlDecision d;

	for (int kernel = 1; kernel >= 0; kernel--) {
		CtlParams p = params2(6000, 4000);
		p.kernel_goals = kernel;
		controller_init(&c, &p);
		bool reached = false;
		/* 40 of 64 MiB on node 0 = 62.5 %, quiet. */
		CtlSample s = sample(0, 40, 24, 0);
		s.folio_bytes = 2 * MIB;
		for (int k = 0; k < 8; k++) {
			controller_step(&c, &s, &d);
			reached = reached || (d.events & CTL_EV_REACHED);
			s.now_ms += TICK;
		}
		assert_int_equal(d.band_bp, kernel ? 313 : CTL_BAND_FOLIO * 2 / 64);
		assert_true(d.in_band == kernel);
		assert_true(reached == kernel);
	}
	(void)state;
}

static void test_reversal_hold(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	uint64_t t = 0;

	controller_init(&c, &p);
	CtlSample s = sample(t, 1000, 0, 0);
	controller_step(&c, &s, &d); /* warm-up: the first interval only measures */
	controller_step(&c, &s, &d);
	assert_true(d.run[0][1]);

	/* The kernel overshot (6.12's first quota window is not limited):
	 * 800 MiB went 0 -> 1, all of it already seen. Node 0 is now 40
	 * points short, but 1 -> 0 would undo a move made this instant. */
	t += TICK;
	s = sample(t, 200, 800, 0);
	s.applied[0][1] = 800 * MIB;
	controller_step(&c, &s, &d);
	assert_false(d.in_band);
	assert_false(d.run[1][0]);
	assert_false(d.run[0][1]);
	uint64_t moved_at = t;

	/* Still held just before hold_ms... */
	s.now_ms = moved_at + p.hold_ms - 1;
	controller_step(&c, &s, &d);
	assert_false(d.run[1][0]);
	/* ...released at hold_ms. */
	s.now_ms = moved_at + p.hold_ms;
	controller_step(&c, &s, &d);
	assert_true(d.run[1][0]);
	assert_false(d.run[0][1]);

	/* The same direction is never held: after moving 1 -> 0, more
	 * 1 -> 0 is fine. */
	s.now_ms += TICK;
	s.applied[1][0] = 10 * MIB;
	s.hot_bytes[0] += 10 * MIB;
	s.hot_bytes[1] -= 10 * MIB;
	controller_step(&c, &s, &d);
	assert_true(d.run[1][0]);

	/* A counter going backwards (scheme recreated) counts as moved from
	 * zero, not as a huge wrap-around. */
	s.now_ms += TICK;
	s.applied[1][0] = 4 * MIB;
	controller_step(&c, &s, &d);
	assert_true(d.moved[1][0] == 4 * MIB);
}

/* s15 on 6.12 and 7.3: DAMON stopped migrating into node 0 with free
 * memory left, and the pull stayed open. A pair that is tried and moves
 * nothing for CTL_FULL_STALLS intervals near the room free memory shows
 * makes its destination full at what it holds: clamped, said once, and the
 * pull stops; freed memory lifts it. */
static void test_full_node_learned(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);

	(void)state;
	controller_init(&c, &p);
	/* 1000 MiB hot, 200 on node 0, which shows room for 150 more: clamped
	 * to 35 %, the pull runs. */
	CtlSample s = sample(0, 200, 800, 0);
	s.capacity_bytes[0] = 350 * MIB;
	controller_step(&c, &s, &d);
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	assert_int_equal(d.target_bp[0], 3500);
	assert_true(d.run[1][0]);
	/* DAMON tries and moves nothing: full after CTL_FULL_STALLS. */
	unsigned k;
	for (k = 0; k < CTL_FULL_STALLS; k++) {
		assert_false(d.full[0]);
		s.now_ms += TICK;
		s.tried[1][0] += 8 * MIB;
		controller_step(&c, &s, &d);
	}
	assert_true(d.events & CTL_EV_CLAMPED);
	assert_true(d.full[0] && d.clamped[0]);
	assert_int_equal(d.target_bp[0], 2000);
	assert_true(d.in_band);
	assert_false(any_run(&d, 2));
	/* It stays so, without another event. */
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	assert_false(d.events & CTL_EV_CLAMPED);
	assert_int_equal(d.target_bp[0], 2000);
	/* 100 MiB freed: tried again (back to the free-memory clamp). */
	s.now_ms += TICK;
	s.capacity_bytes[0] = 450 * MIB;
	controller_step(&c, &s, &d);
	assert_true(d.events & CTL_EV_CLAMPED);
	assert_false(d.full[0]);
	assert_int_equal(d.target_bp[0], 4500);

	/* Plenty of room (a 2 GiB free node): a stall is not fullness. */
	controller_init(&c, &p);
	s = sample(0, 200, 800, 0);
	s.capacity_bytes[0] = 2200 * MIB;
	controller_step(&c, &s, &d);
	for (k = 0; k < 2 * CTL_FULL_STALLS; k++) {
		s.now_ms += TICK;
		s.tried[1][0] += 8 * MIB;
		controller_step(&c, &s, &d);
	}
	assert_false(d.clamped[0]);
	assert_int_equal(d.target_bp[0], 6000);
}

static void test_capacity_clamp(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);

	controller_init(&c, &p);
	/* Node 0 can hold only 300 of the 1000 MiB hot: its target is
	 * clamped to 30 %, node 1 takes the rest. */
	CtlSample s = sample(0, 300, 700, 0);
	s.capacity_bytes[0] = 300 * MIB;
	s.capacity_bytes[1] = 0; /* unknown: unlimited */
	/* The first interval only measures: no clamp on an unsettled
	 * measurement. */
	controller_step(&c, &s, &d);
	assert_false(d.clamped[0]);
	assert_int_equal(d.target_bp[0], 6000);
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	assert_true(d.clamped[0]);
	assert_false(d.clamped[1]);
	assert_int_equal(d.target_bp[0], 3000);
	assert_int_equal(d.target_bp[1], 7000);
	assert_true(d.events & CTL_EV_CLAMPED);
	/* Already where the clamped targets are: nothing to do. */
	assert_true(d.in_band);
	assert_false(any_run(&d, 2));
	/* Same clamp next time: no new event. */
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	assert_false(d.events & CTL_EV_CLAMPED);
	assert_true(d.clamped[0]);
	/* Room again: unclamped, an event, and node 0 pursued to 60 %. */
	s.now_ms += TICK;
	s.capacity_bytes[0] = 2000 * MIB;
	controller_step(&c, &s, &d);
	assert_false(d.clamped[0]);
	assert_true(d.events & CTL_EV_CLAMPED);
	assert_int_equal(d.target_bp[0], 6000);
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	assert_true(d.run[1][0]);

	/* Three nodes, 5000/3000/2000, node 0 fits 20 %: its 3000 bp of
	 * excess go to the others by their targets (3:2). */
	CtlParams p3 = { .n = 3, .node = { 0, 1, 2 }, .target_bp = { 5000, 3000, 2000 }, .deadband_bp = 150,
			 .max_bytes_per_tick = 64 * MIB, .hold_ms = 10000, .gain_pct = 60 };
	controller_init(&c, &p3);
	s = sample(0, 200, 480, 320);
	s.capacity_bytes[0] = 200 * MIB;
	controller_step(&c, &s, &d); /* warm-up */
	controller_step(&c, &s, &d);
	assert_true(d.clamped[0]);
	assert_int_equal(d.target_bp[0], 2000);
	assert_int_equal(d.target_bp[1], 4800);
	assert_int_equal(d.target_bp[2], 3200);
	assert_int_equal(d.target_bp[0] + d.target_bp[1] + d.target_bp[2], 10000);
	assert_true(d.in_band);

	/* Two nodes clamped: all the excess to the third; sums stay exact
	 * with awkward numbers. */
	controller_init(&c, &p3);
	s = sample(0, 333, 333, 334);
	s.capacity_bytes[0] = 111 * MIB;
	s.capacity_bytes[1] = 77 * MIB;
	controller_step(&c, &s, &d); /* warm-up: the first interval only measures */
	controller_step(&c, &s, &d);
	assert_true(d.clamped[0] && d.clamped[1] && !d.clamped[2]);
	assert_int_equal(d.target_bp[0], 1110);
	assert_int_equal(d.target_bp[1], 770);
	assert_int_equal(d.target_bp[0] + d.target_bp[1] + d.target_bp[2], 10000);
	/* Hot moves off the clamped nodes. */
	assert_true(d.run[0][2] && d.run[1][2]);
	assert_false(d.run[2][0] || d.run[2][1]);
}

/* A measured total that jumps (DAMON re-learning regions, or its first
 * coarse regions at start) must not clamp a target: the clamp waits for a
 * settled interval, and keeps the last settled verdict meanwhile. */
static void test_no_clamp_while_unsettled(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);

	controller_init(&c, &p);
	CtlSample s = sample(0, 40, 24, 0);
	s.capacity_bytes[0] = 900 * MIB;
	controller_step(&c, &s, &d);
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	assert_false(d.clamped[0]);
	/* One interval reads ten times the hot bytes: node 0 could not hold
	 * 60 % of that, but nothing is clamped and nothing is announced. */
	s.now_ms += TICK;
	s.hot_bytes[0] = 400 * MIB;
	s.hot_bytes[1] = 1200 * MIB;
	controller_step(&c, &s, &d);
	assert_true(d.settling);
	assert_false(d.clamped[0]);
	assert_int_equal(d.target_bp[0], 6000);
	assert_false(d.events & CTL_EV_CLAMPED);
	/* Settled at that size: now the clamp is real. */
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	assert_false(d.settling);
	assert_true(d.clamped[0]);
	assert_true(d.events & CTL_EV_CLAMPED);
}

/* A difference inside the measurement's own error bound is no reason to
 * move: the band widens to the bound of the median it judges, one
 * estimate's times 1.25 / sqrt(estimates). */
static void test_band_covers_error_bound(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);

	/* 56 % on node 0 with a bound of 5 % of the total (one estimate),
	 * 4.43 % for the median of two: in band. */
	controller_init(&c, &p);
	CtlSample s = sample(0, 56, 44, 0);
	s.err_bytes = 5 * MIB;
	controller_step(&c, &s, &d);
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	assert_int_equal(d.band_bp, 443);
	assert_true(d.in_band);
	assert_false(any_run(&d, 2));
	/* Five estimates: 2.80 %, and 4 points is inside twice that. */
	for (int i = 0; i < 4; i++) {
		s.now_ms += TICK;
		controller_step(&c, &s, &d);
		assert_true(d.in_band);
		assert_false(any_run(&d, 2));
	}
	assert_int_equal(d.band_bp, 280);
	/* The same difference measured exactly: migrate. */
	controller_init(&c, &p);
	s = sample(0, 56, 44, 0);
	controller_step(&c, &s, &d);
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	assert_int_equal(d.band_bp, 150);
	assert_false(d.in_band);
	assert_true(d.run[1][0]);
}

/* Pages move in whole folios: with THP a 48 MiB hot set can only be 4.2
 * points apart, and 58.3 % is as near 60 % as it gets. Where the hot memory
 * is known to be in 2 MiB folios the band covers 0.55 of one, so it stops
 * there instead of ping-ponging a folio, but not at 62.5 %, 0.6 of a folio
 * past (s12-resize-6.12 held that: +2.5 points). Moves of whole MiBs alone do not
 * say so (4 KiB pages at power-of-two quotas move like that too): the
 * deadband stays. */
static void test_band_covers_folio_step(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);

	for (int thp = 1; thp >= 0; thp--) {
		controller_init(&c, &p);
		/* 28 of 48 MiB on node 0 = 58.33 %, after moves of 8 and 2 MiB. */
		CtlSample s = sample(0, 18, 30, 0);
		s.folio_bytes = thp ? 2 * MIB : 0;
		controller_step(&c, &s, &d);
		s.now_ms += TICK;
		s.applied[1][0] = 8 * MIB;
		s.hot_bytes[0] += 8 * MIB;
		s.hot_bytes[1] -= 8 * MIB;
		controller_step(&c, &s, &d);
		s.now_ms += TICK;
		s.applied[1][0] += 2 * MIB;
		s.hot_bytes[0] += 2 * MIB;
		s.hot_bytes[1] -= 2 * MIB;
		for (int k = 0; k < 4; k++) {
			controller_step(&c, &s, &d);
			s.now_ms += TICK;
		}
		if (thp) {
			assert_int_equal(d.band_bp, CTL_BAND_FOLIO * 2 / 48);
			assert_true(d.in_band);
		} else {
			assert_int_equal(d.band_bp, 150);
			assert_false(d.in_band);
		}
	}
	/* THP, but one move of 992 KiB (s12-resize-7.3): the gcd is 32 KiB;
	 * the sample's folio size keeps the band. */
	controller_init(&c, &p);
	CtlSample s = sample(0, 18, 30, 0);
	s.folio_bytes = 2 * MIB;
	controller_step(&c, &s, &d);
	s.now_ms += TICK;
	s.applied[1][0] = 992 * 1024;
	controller_step(&c, &s, &d);
	s.now_ms += TICK;
	s.applied[1][0] += 8 * MIB + 2 * MIB - 992 * 1024;
	s.hot_bytes[0] += 10 * MIB;
	s.hot_bytes[1] -= 10 * MIB;
	for (int k = 0; k < 4; k++) {
		controller_step(&c, &s, &d);
		s.now_ms += TICK;
	}
	assert_int_equal(d.band_bp, CTL_BAND_FOLIO * 2 / 48);
	assert_true(d.in_band);
	/* One folio further, 30 of 48 MiB (62.5 %): out of the band, and
	 * node 0 gives back one folio's worth. */
	controller_init(&c, &p);
	s = sample(0, 30, 18, 0);
	s.folio_bytes = 2 * MIB;
	for (int k = 0; k < 5; k++) {
		controller_step(&c, &s, &d);
		s.now_ms += TICK;
	}
	assert_false(d.in_band);
	assert_true(d.run[0][1]);
	assert_true(d.bytes_per_tick[0][1] <= 2 * MIB);
}

/* A 64 MiB hot set at 30/34 MiB pushed 1 -> 0 (FOLIO_BYTES the sample's
 * folio size) lands at NODE0 MiB on node 0, all of it seen at once; then
 * steady measurements. Returns how long after the move 0 -> 1 first runs
 * (0: not within 12 s) and what it asked for in *RET_NEED. */
static uint64_t overshoot_back_after(uint64_t folio_bytes, uint64_t node0, uint64_t *ret_need)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	CtlSample s = sample(0, 30, 34, 0);

	s.folio_bytes = folio_bytes;
	controller_init(&c, &p);
	controller_step(&c, &s, &d); /* warm-up */
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	assert_true(d.run[1][0]);
	s.now_ms += TICK;
	s.applied[1][0] = (node0 - 30) * MIB;
	s.hot_bytes[0] = node0 * MIB;
	s.hot_bytes[1] = (64 - node0) * MIB;
	uint64_t moved_at = s.now_ms;
	for (; s.now_ms <= moved_at + 12000; s.now_ms += TICK) {
		controller_step(&c, &s, &d);
		assert_false(d.run[1][0] && s.now_ms > moved_at);
		if (d.run[0][1]) {
			*ret_need = d.need_bytes[0][1];
			return s.now_ms - moved_at;
		}
	}
	return 0;
}

/* THP with a kernel that takes the stop late (thp-noise at a 5-window
 * latency): the last push ends one folio past the target, 62.5 % for 60 %
 * of 64 MiB, outside the band. Once the measurement is quiet the folio goes
 * back after CTL_FOLIO_HOLD_MS, not hold_ms, and never more than one folio
 * (41 MiB reads 1.3 folios past). Two folios past, or pages, wait hold_ms:
 * that is not one folio a late stop let through. */
static void test_folio_overshoot_goes_back_early(void **state)
{
	const uint64_t hold_ms = params2(6000, 4000).hold_ms;
	uint64_t need = 0;

	assert_int_equal(overshoot_back_after(2 * MIB, 40, &need), CTL_FOLIO_HOLD_MS);
	assert_true(need <= 2 * MIB);
	assert_int_equal(overshoot_back_after(2 * MIB, 41, &need), CTL_FOLIO_HOLD_MS);
	assert_int_equal(need, 2 * MIB);
	assert_int_equal(overshoot_back_after(2 * MIB, 44, &need), hold_ms);
	assert_int_equal(overshoot_back_after(0, 40, &need), hold_ms);
}

/* Steps a 64 MiB hot set at 30/34 MiB (node 0 short of 60 %), then reports
 * MOVED bytes to node 0 after one interval, TRIED bytes tried for them;
 * returns the next decision. */
static CtlDecision step_moved(Controller *c, uint64_t moved, uint64_t tried)
{
	CtlDecision d;
	CtlSample s = sample(0, 30, 34, 0);

	controller_step(c, &s, &d); /* warm-up */
	s.now_ms += TICK;
	controller_step(c, &s, &d); /* asks for 60 % of 8.4 MiB: ~5 MiB */
	assert_true(d.run[1][0]);
	s.now_ms += TICK;
	s.applied[1][0] = moved;
	s.tried[1][0] = tried;
	controller_step(c, &s, &d);
	return d;
}

/* The folio size the sample does not tell (levels read no page flags;
 * s16 on 7.3: a neighbour's 4 KiB pages outweighed a THP hot set) is
 * learned from a move larger than the regions DAMON tried for it, whole
 * folios or not (mixed memory, s19), and unlearned only by CTL_PAGE_MOVES
 * moves of pages in a row. */
static void test_folio_learned_from_moves(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);

	/* 4 MiB moved of 4 MiB tried: what pages do too. */
	controller_init(&c, &p);
	d = step_moved(&c, 4 * MIB, 4 * MIB);
	assert_int_equal(d.folio_bytes, 0);
	/* 8 MiB moved for regions of 2 MiB: folios reaching past them. */
	controller_init(&c, &p);
	d = step_moved(&c, 8 * MIB, 2 * MIB);
	assert_int_equal(d.folio_bytes, 2 * MIB);
	/* Mixed memory: a folio and some pages, more than was tried. */
	controller_init(&c, &p);
	d = step_moved(&c, 2 * MIB + 12288, 512 * 1024);
	assert_int_equal(d.folio_bytes, 2 * MIB);
	/* It stays while nothing moves, and through moves of pages among
	 * moves of folios; a run of CTL_PAGE_MOVES moves of pages ends it. */
	CtlSample s = sample(3 * TICK, 38, 26, 0);
	s.applied[1][0] = 2 * MIB + 12288;
	s.tried[1][0] = 512 * 1024;
	controller_step(&c, &s, &d);
	assert_int_equal(d.folio_bytes, 2 * MIB);
	for (unsigned k = 0; k < 2 * CTL_PAGE_MOVES; k++) {
		bool folio = k == CTL_PAGE_MOVES - 2;
		s.now_ms += TICK;
		s.applied[1][0] += folio ? 2 * MIB : 4096;
		s.tried[1][0] += 4096;
		controller_step(&c, &s, &d);
		/* The folio move restarts the count of page moves. */
		assert_int_equal(d.folio_bytes, k < CTL_PAGE_MOVES - 2 + CTL_PAGE_MOVES ? 2 * MIB : 0);
	}
	/* What was tried unknown (0): nothing learned. */
	controller_init(&c, &p);
	d = step_moved(&c, 16 * MIB, 0);
	assert_int_equal(d.folio_bytes, 0);
}

/* A kernel that takes each new quota late moves 4 KiB pages in whole MiBs
 * at an older, larger quota (6.12 under TCG, s17: asked 1 MiB after 2 and 4
 * MiB, moved 3 MiB); that is not huge folios whatever the asks were, and
 * the band stays the deadband (a 2 MiB folio's share of this 64 MiB hot
 * set would be 1.9 points, and dtierd said "reached" 3 points above the
 * truth). */
static void test_lagging_quota_is_not_folios(void **state)
{
	enum { LAG = 2 };
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	uint64_t asks[LAG + 1] = { 0 };
	CtlSample s = sample(0, 20, 44, 0);

	controller_init(&c, &p);
	for (int k = 0; k < 12; k++) {
		controller_step(&c, &s, &d);
		assert_int_equal(d.folio_bytes, 0);
		assert_int_equal(d.band_bp, 150);
		memmove(asks + 1, asks, sizeof(asks) - sizeof(*asks));
		asks[0] = d.run[1][0] ? d.bytes_per_tick[1][0] : 0;
		/* Both windows of the next interval full, at the oldest quota;
		 * every page moved was tried. */
		uint64_t q = asks[LAG];
		uint64_t moved = q ? 2 * controller_window_quota(q, TICK / 2, TICK, p.max_bytes_per_tick) : 0;
		s.now_ms += TICK;
		s.applied[1][0] += moved;
		s.tried[1][0] += moved;
		s.hot_bytes[0] += moved;
		s.hot_bytes[1] -= moved;
	}
	assert_true(s.applied[1][0] > 0);
}

/* Nothing in flight, one estimate inside the band among several outside:
 * neither in the band nor "reached", and no move on it either; the next
 * estimate outside moves (the sim's thp-noise: "reached" on 61.8 % among
 * 62.3-63.3 % held 62.5 % for a 60 % target). */
static void test_no_entry_on_one_estimate(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);
	p.hold_ms = 3000;

	controller_init(&c, &p);
	CtlSample s = sample(0, 300, 700, 0);
	controller_step(&c, &s, &d); /* warm-up */
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	assert_true(d.run[1][0]);
	/* It went 2.4 points past; the way back is held for 3 s. */
	const uint64_t node0[] = { 624, 623, 622 };
	for (size_t k = 0; k < 3; k++) {
		s.now_ms += TICK;
		s = (CtlSample){ .now_ms = s.now_ms, .applied = { [1] = { 324 * MIB } } };
		s.hot_bytes[0] = node0[k] * MIB;
		s.hot_bytes[1] = (1000 - node0[k]) * MIB;
		controller_step(&c, &s, &d);
		assert_false(d.in_band || any_run(&d, 2));
	}
	/* 60.5 %: where an approach stops, the recent ones are not. */
	s.now_ms += TICK;
	s.hot_bytes[0] = 605 * MIB;
	s.hot_bytes[1] = 395 * MIB;
	controller_step(&c, &s, &d);
	assert_false(d.in_band);
	assert_false(d.events & CTL_EV_REACHED);
	assert_false(any_run(&d, 2));
	s.now_ms += TICK;
	s.hot_bytes[0] = 623 * MIB;
	s.hot_bytes[1] = 377 * MIB;
	controller_step(&c, &s, &d);
	assert_true(d.run[0][1]);
}

static void test_three_nodes(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = { .n = 3, .node = { 0, 1, 4 }, .target_bp = { 5000, 3000, 2000 }, .deadband_bp = 150,
			.max_bytes_per_tick = 1024 * MIB, .hold_ms = 10000, .gain_pct = 60 };

	/* All on the last node: it feeds both deficits, the larger one
	 * more (gain 60 %: 300 and 180 MiB). */
	controller_init(&c, &p);
	CtlSample s = sample(0, 0, 0, 1000);
	controller_step(&c, &s, &d); /* warm-up: the first interval only measures */
	controller_step(&c, &s, &d);
	assert_true(d.run[2][0] && d.run[2][1]);
	assert_false(d.run[0][1] || d.run[0][2] || d.run[1][0] || d.run[1][2]);
	assert_true(d.bytes_per_tick[2][0] == 300 * MIB);
	assert_true(d.bytes_per_tick[2][1] == 180 * MIB);

	/* 70/10/20: only node 0 -> node 1; node 2 is on target and neither
	 * gives nor takes. */
	controller_init(&c, &p);
	s = sample(0, 700, 100, 200);
	controller_step(&c, &s, &d); /* warm-up: the first interval only measures */
	controller_step(&c, &s, &d);
	assert_true(d.run[0][1]);
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < 3; j++)
			if (!(i == 0 && j == 1))
				assert_false(d.run[i][j]);
	assert_true(d.bytes_per_tick[0][1] == 120 * MIB);

	/* Two surpluses, one deficit: 30/50/20 -> node 1 sends 2000 bp to
	 * node 0... 10/50/40 -> nodes 1 and 2 both send to node 0. */
	controller_init(&c, &p);
	s = sample(0, 100, 500, 400);
	controller_step(&c, &s, &d); /* warm-up: the first interval only measures */
	controller_step(&c, &s, &d);
	assert_true(d.run[1][0] && d.run[2][0]);
	assert_false(d.run[0][1] || d.run[0][2] || d.run[1][2] || d.run[2][1]);
	/* The goal of a running pair is below target; of the others met. */
	uint64_t target, current;
	controller_goal_values(&d, 2, 0, true, &target, &current);
	assert_true(target == 5000 && current == 1000);
	controller_goal_values(&d, 2, 1, true, &target, &current);
	assert_true(target == 3000 && current == 6000);
}

static void test_set_targets(void **state)
{
	Controller c;
	CtlDecision d;
	CtlParams p = params2(6000, 4000);

	controller_init(&c, &p);
	CtlSample s = sample(0, 600, 400, 0);
	controller_step(&c, &s, &d); /* warm-up: the first interval only measures */
	controller_step(&c, &s, &d);
	assert_true(d.in_band);

	/* Reload to 50/50: pursued at the next step, without waiting for two
	 * out-of-band samples. */
	controller_set_targets(&c, (const uint32_t[]){ 5000, 5000 });
	assert_false(c.in_band);
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	assert_int_equal(d.target_bp[0], 5000);
	assert_false(d.in_band);
	assert_true(d.run[0][1]);
	assert_true(d.bytes_per_tick[0][1] == 60 * MIB);

	/* A new target already met: in the band at once; REACHED when the
	 * interval after shows the pair that ran for 50/50 moved nothing. */
	controller_set_targets(&c, (const uint32_t[]){ 6000, 4000 });
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	assert_true(d.in_band);
	assert_false(any_run(&d, 2));
	assert_false(d.events & CTL_EV_REACHED);
	s.now_ms += TICK;
	controller_step(&c, &s, &d);
	assert_true(d.events & CTL_EV_REACHED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_defaults),
		cmocka_unit_test(test_at_target),
		cmocka_unit_test(test_goal_values),
		cmocka_unit_test(test_blind_step),
		cmocka_unit_test(test_start_from_extremes),
		cmocka_unit_test(test_deadband_hysteresis),
		cmocka_unit_test(test_reached_waits_for_the_last_move),
		cmocka_unit_test(test_reached_waits_for_estimate_in_deadband),
		cmocka_unit_test(test_unconfirmed_reach_given_up),
		cmocka_unit_test(test_approach_stops_at_half_the_band),
		cmocka_unit_test(test_reach_needs_the_median),
		cmocka_unit_test(test_band_exit_median),
		cmocka_unit_test(test_unseen_compensation),
		cmocka_unit_test(test_unseen_partial_and_fading),
		cmocka_unit_test(test_moves_count_hot_part),
		cmocka_unit_test(test_first_interval_measures_only),
		cmocka_unit_test(test_settle_holds_on_moving_total),
		cmocka_unit_test(test_unasked_move_does_not_hold),
		cmocka_unit_test(test_settle_moves_on_beyond_the_dip),
		cmocka_unit_test(test_display_latest_on_the_way),
		cmocka_unit_test(test_kernel_goals_band_is_a_folio),
		cmocka_unit_test(test_reversal_hold),
		cmocka_unit_test(test_capacity_clamp),
		cmocka_unit_test(test_full_node_learned),
		cmocka_unit_test(test_no_clamp_while_unsettled),
		cmocka_unit_test(test_band_covers_error_bound),
		cmocka_unit_test(test_band_covers_folio_step),
		cmocka_unit_test(test_folio_overshoot_goes_back_early),
		cmocka_unit_test(test_folio_learned_from_moves),
		cmocka_unit_test(test_lagging_quota_is_not_folios),
		cmocka_unit_test(test_no_entry_on_one_estimate),
		cmocka_unit_test(test_three_nodes),
		cmocka_unit_test(test_set_targets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
