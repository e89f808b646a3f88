/* SPDX-License-Identifier: GPL-2.0-or-later */
/* actuate.c: hand-made decisions -> quotas, goal values, commit kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "actuate.h"

#define MIB (1ULL << 20)
#define PAGE 4096ULL

/* Two nodes, schemes 1 (0 -> 1) and 2 (1 -> 0), then the pulse (3); 1 s
 * intervals, 100 ms windows, 256 MiB/s. */
static ActuateParams params(void)
{
	ActuateParams p = { .n = 2, .pairs_first = 1, .pairs_end = 3, .window_ms = 100, .armed_window_ms = 500,
			    .interval_ms = 1000, .window_cap_bytes = 256 * MIB / 2 };
	p.pair_scheme[0][0] = p.pair_scheme[1][1] = -1;
	p.pair_scheme[0][1] = 1;
	p.pair_scheme[1][0] = 2;
	return p;
}

static DamonPlan plan(void)
{
	DamonPlan pl = { .n_schemes = 4, .pulse = 3 };
	pl.schemes[1].quota_bytes = pl.schemes[2].quota_bytes = PAGE;
	return pl;
}

static CtlDecision decision(void)
{
	CtlDecision d = { 0 };
	d.target_bp[0] = 6000;
	d.target_bp[1] = 4000;
	d.estimate_bp[0] = 3000;
	d.estimate_bp[1] = 7000;
	return d;
}

/* After the first full commit. */
static ActuateState armed(void)
{
	DamonPlan pl = plan();
	ActuateState st;

	actuate_init(&st, &pl);
	st.armed = true;
	return st;
}

static void test_first_interval_arms(void **state)
{
	ActuateParams p = params();
	DamonPlan pl = plan();
	ActuateState st;
	CtlDecision d = decision();
	Actuation a;

	actuate_init(&st, &pl);
	assert_false(st.armed);
	assert_true(st.committed_quota[1] == PAGE);
	/* Nothing runs yet, but the schemes must be armed: a full commit,
	 * with quotas below a page (nothing moves; never 0 = unlimited). */
	actuate_decide(&p, &st, &d, true, &a);
	assert_true(a.full_commit);
	assert_true(a.quota[1] == ACTUATE_STOP_QUOTA && a.quota[2] == ACTUATE_STOP_QUOTA);
	assert_true(ACTUATE_STOP_QUOTA > 0 && ACTUATE_STOP_QUOTA < PAGE);
	/* Goals read "met" for pairs that do not run. */
	assert_true(a.goal_target[1] == 4000 && a.goal_current[1] == 8000);
	actuate_committed(&st, &p, &a);
	assert_true(st.armed);
}

static void test_quota_change_needs_full_commit(void **state)
{
	ActuateParams p = params();
	ActuateState st = armed();
	CtlDecision d = decision();
	Actuation a;

	/* 1 -> 0 runs at 64 MiB per interval: 32 MiB per half-interval
	 * window (controller_window_quota rounds down to a power of two). */
	d.run[1][0] = true;
	d.bytes_per_tick[1][0] = 64 * MIB;
	actuate_decide(&p, &st, &d, true, &a);
	assert_true(a.full_commit);
	assert_true(a.quota[2] == controller_window_quota(64 * MIB, 500, 1000, 256 * MIB / 2));
	assert_true(a.quota[2] == 32 * MIB);
	/* The other pair does not run: below a page. */
	assert_true(a.quota[1] == ACTUATE_STOP_QUOTA);
	/* Running and below target: the goal stays open. */
	assert_true(a.goal_current[2] < a.goal_target[2]);
	actuate_committed(&st, &p, &a);
	assert_true(st.committed_quota[2] == 32 * MIB);

	/* The same again: goals only, nothing re-staged. */
	actuate_decide(&p, &st, &d, true, &a);
	assert_false(a.full_commit);
	assert_true(a.quota[2] == 32 * MIB);
	Actuation goals_only = a;
	goals_only.quota[2] = 1;
	actuate_committed(&st, &p, &goals_only);
	assert_true(st.committed_quota[2] == 32 * MIB);

	/* The pair stops: its quota goes below a page (a full commit; on
	 * consist kernels there is no goal to close it), and its goal reads
	 * met where there is one. */
	d.run[1][0] = false;
	actuate_decide(&p, &st, &d, true, &a);
	assert_true(a.full_commit);
	assert_true(a.quota[2] == ACTUATE_STOP_QUOTA);
	assert_true(a.goal_current[2] == 2 * a.goal_target[2]);
}

/* Huge pages: any quota moves whole 2 MiB folios, one per charge window at
 * least. Below two folios per interval, one window of the whole interval
 * with a quota of at most one folio moves exactly one in huge-page memory,
 * and up to the quota in 4 KiB pages; back to half-interval windows for
 * larger moves and when stopped. */
static void test_one_folio_per_interval(void **state)
{
	ActuateParams p = params();
	ActuateState st = armed();
	CtlDecision d = decision();
	Actuation a;

	st.committed_reset_ms[1] = st.committed_reset_ms[2] = 500;
	d.folio_bytes = 2 * MIB;
	d.run[1][0] = true;
	d.bytes_per_tick[1][0] = 3 * MIB;
	actuate_decide(&p, &st, &d, true, &a);
	assert_true(a.full_commit);
	assert_true(a.quota[2] == 2 * MIB && a.reset_ms[2] == 1000);
	assert_true(a.quota[1] == ACTUATE_STOP_QUOTA && a.reset_ms[1] == 500);
	actuate_committed(&st, &p, &a);
	assert_true(st.committed_reset_ms[2] == 1000);

	/* The same again: nothing to re-stage. */
	actuate_decide(&p, &st, &d, true, &a);
	assert_false(a.full_commit);
	assert_true(a.reset_ms[2] == 1000);

	/* Less than a folio: that much (in mixed memory a piece of pages
	 * moves that much, a piece of a folio the folio); never below a page. */
	d.bytes_per_tick[1][0] = 768 * 1024;
	actuate_decide(&p, &st, &d, true, &a);
	assert_true(a.quota[2] == 768 * 1024 && a.reset_ms[2] == 1000);
	d.bytes_per_tick[1][0] = 100;
	actuate_decide(&p, &st, &d, true, &a);
	assert_true(a.quota[2] == PAGE && a.reset_ms[2] == 1000);
	d.bytes_per_tick[1][0] = 3 * MIB;
	actuate_decide(&p, &st, &d, true, &a);

	/* Two folios or more per interval: the usual windows and quota. */
	d.bytes_per_tick[1][0] = 4 * MIB;
	actuate_decide(&p, &st, &d, true, &a);
	assert_true(a.full_commit);
	assert_true(a.quota[2] == 2 * MIB && a.reset_ms[2] == 500);

	/* 4 KiB pages (no folio known): no pulse, whatever the amount. */
	d.folio_bytes = 0;
	d.bytes_per_tick[1][0] = 1 * MIB;
	actuate_decide(&p, &st, &d, true, &a);
	assert_true(a.quota[2] == 512 * 1024 && a.reset_ms[2] == 500);

	/* Stopped: the stop quota, with the short window (a stop takes
	 * effect within half an interval). */
	d.folio_bytes = 2 * MIB;
	d.run[1][0] = false;
	actuate_decide(&p, &st, &d, true, &a);
	assert_true(a.quota[2] == ACTUATE_STOP_QUOTA && a.reset_ms[2] == 500);
}

/* measure.metric = "kernel": the kernel's goal of each pair's destination
 * decides when it runs; dtierd sets each goal a band below its target (a
 * dead zone where both goals of a node pair are met) and sizes the quota
 * so that no window moves more than the band: the deadband, or one folio
 * of the hot memory when larger. Only a quota change is a full commit. */
static void test_kernel_goals(void **state)
{
	ActuateParams p = params();
	DamonPlan pl = plan();
	ActuateState st;
	CtlDecision d = decision();
	Actuation a;

	p.kernel_goals = true;
	d.estimate_total = 64 * MIB;
	d.band_bp = 150;
	actuate_init(&st, &pl);
	actuate_decide(&p, &st, &d, true, &a);
	assert_true(a.full_commit);
	/* 1.5 % of 64 MiB is 0.96 MiB: 512 KiB windows, either way. */
	assert_true(a.quota[1] == 512 * 1024 && a.quota[2] == 512 * 1024);
	assert_true(a.reset_ms[1] == 500 && a.reset_ms[2] == 500);
	assert_true(a.goal_target[1] == 3850 && a.goal_target[2] == 5850);
	actuate_committed(&st, &p, &a);

	/* Whatever the controller would run: the same values, no commit. */
	d.run[1][0] = true;
	d.bytes_per_tick[1][0] = 32 * MIB;
	actuate_decide(&p, &st, &d, true, &a);
	assert_false(a.full_commit);
	assert_true(a.quota[2] == 512 * 1024);

	/* Huge pages: a 2 MiB folio is 3.13 % of 64 MiB, and the band. */
	d.folio_bytes = 2 * MIB;
	actuate_decide(&p, &st, &d, true, &a);
	assert_true(a.full_commit);
	assert_true(a.quota[2] == 2 * MIB);
	assert_true(a.goal_target[2] == 6000 - 313 && a.goal_target[1] == 4000 - 313);
	actuate_committed(&st, &p, &a);

	/* A clamp lowers node 0's target: the goals follow. */
	d.target_bp[0] = 4500;
	d.target_bp[1] = 5500;
	actuate_decide(&p, &st, &d, true, &a);
	assert_false(a.full_commit);
	assert_true(a.goal_target[2] == 4500 - 313 && a.goal_target[1] == 5500 - 313);

	/* A large hot set: the speed cap per window, at most. */
	d.estimate_total = 64ULL << 30;
	actuate_decide(&p, &st, &d, true, &a);
	assert_true(a.quota[2] <= 128 * MIB && a.quota[2] * 2 > 128 * MIB);
}

static void test_cap_and_consist(void **state)
{
	ActuateParams p = params();
	ActuateState st = armed();
	CtlDecision d = decision();
	Actuation a;

	/* Far more than the speed cap: capped per window. */
	d.run[1][0] = true;
	d.bytes_per_tick[1][0] = 10ULL << 30;
	actuate_decide(&p, &st, &d, false, &a);
	assert_true(a.quota[2] <= p.window_cap_bytes);
	/* consist: a running pair is fed 0 (the tuner ramps fastest). */
	assert_true(a.goal_current[2] == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_interval_arms),
		cmocka_unit_test(test_quota_change_needs_full_commit),
		cmocka_unit_test(test_one_folio_per_interval),
		cmocka_unit_test(test_kernel_goals),
		cmocka_unit_test(test_cap_and_consist),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
