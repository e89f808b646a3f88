# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 20: the measurement at scale (issue 10). A fragmented hot set,
# 96 MiB in 2048 islands of 48 KiB, one every 384 KiB of a 768 MiB mapping
# in 4 KiB pages, starting on node 1; 60/40. With monitor.min_regions = 4000
# over the guest's ~2 GiB DAMON's regions are at most ~512 KiB, and most of
# the mapping's hold part of an island: hot (measured with 1536 islands of
# 64 KiB: a median of 1 012-1 313 hot regions per interval on 6.12,
# 1 665-1 834 on 7.3; with 2048: 1 264 on 6.12).
#
# What is checked: that the default measure.source ("auto") measures by
# level schemes on both kernels, as dtierd's started notice says; that
# DAMON really kept >= 1000 hot regions (else this is not the scale it
# claims); that dtierd's own reported CPU per interval (median over its
# last minute, from its debug line) stays under a flat bound; that its
# share of node 0 matches the workload's
# move_pages within 5 points, and that node 0 never overshoots the target
# by more than 5 points. Whether the share is *held* on a fragmented hot
# set is reported, not judged: under TCG the 6.12 kdamond at ~1 300 hot
# regions migrates ~0.4 MiB/s whatever the quota (49-50 % at 120 s).
. /lib-scenario.sh

# TCG runs the guest many times slower than the host. Measured here
# (2026-12-04, three runs each, tried regions): 0.18-0.26 ms per hot region
# on 6.12 (242-342 ms at ~1 310), 0.18-0.27 on 7.3 (314-453 ms at ~1 700);
# with level schemes on 7.3 (2026-12-05): a median of 6.5-10.2 ms at
# 1 714 hot regions (max 15.7-20.1 ms), a cost that does not grow with the
# regions. The bound leaves room for the spread between runs, so that a
# regression shows (s22-regions keeps the per-region bound of the tried
# regions). It is not the issue's real-kernel target (README).
CPU_BOUND_US_LEVELS=20000

many_regions_run
check_measured_by "level schemes"
set -- $MANY_REGIONS_CPU
check "dtierd's CPU per interval, median over its last minute ${2:-none} us <= $CPU_BOUND_US_LEVELS us at $MANY_REGIONS_MEDIAN hot regions" le "${2:-999999999}" "$CPU_BOUND_US_LEVELS"
finish
