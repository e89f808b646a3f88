# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 22: s20's fragmented hot set (96 MiB in 1536 islands of 64 KiB,
# 4 KiB pages, starting on node 1; 60/40; DAMON at >= 1 000 hot regions)
# measured with measure.source = "levels" (issue 10): per-node stat schemes
# read through update_schemes_tried_bytes, a few dozen files per interval
# whatever the number of regions, instead of every region's files and
# /proc/kpageflags.
#
# What is checked: that DAMON really kept >= 1000 hot regions (dtierd
# derives the count from scheme 0's nr_tried and sz_tried), that dtierd's
# own reported CPU per interval (median over its last minute) stays under
# CPU_BOUND_US, a bound that does not grow with the regions, that its share
# of node 0 matches the workload's move_pages within 5 points, and that
# node 0 never overshoots the target by more than 5 points.
. /lib-scenario.sh

# TCG runs the guest many times slower than the host. Measured here
# (2026-12-05, 7.3): a median of 6.5 ms per interval at 1 714 hot regions
# (max 15.7 ms), where s20 (measure.source = "regions") costs 314-453 ms
# at ~1 700. The bound does not scale with the regions: that is the point.
# 6.12 is not run: under TCG 5 in 6 of its update_schemes_tried_bytes
# answers came back empty, rereads included (stop 14: 7 of 10 back to
# back at 2 000 regions), so the median region count, taken from the few
# measured intervals, said 294; the share still matched the workload
# within 0.1 points, at 14.5 ms. The suspect, not verified, is the way
# kernels before 6.14 end such a request on a timeout rather than after
# a pass, which a kdamond this slow misses.
CPU_BOUND_US=20000

many_regions_run
set -- $MANY_REGIONS_CPU
check "dtierd's CPU per interval, median over its last minute ${2:-none} us <= $CPU_BOUND_US us at $MANY_REGIONS_MEDIAN hot regions" le "${2:-999999999}" "$CPU_BOUND_US"
finish
