# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 22: s20's fragmented hot set (96 MiB in 2048 islands of 48 KiB,
# 4 KiB pages, starting on node 1; 60/40; DAMON at >= 1 000 hot regions)
# with measure.source = "regions" on 7.3, where the default measures by
# level schemes: the operator's opt-out, every hot region's files and
# /proc/kpageflags, still correct at scale.
#
# What is checked: that dtierd says it measures by tried regions, that
# DAMON really kept >= 1000 hot regions, that dtierd's own reported CPU
# per interval (median over its last minute) stays under
# CPU_BOUND_US_PER_REGION times the median number of hot regions (s20 says
# why), that its share of node 0 matches the workload's move_pages within
# 5 points, and that node 0 never overshoots the target by more than 5
# points.
. /lib-scenario.sh

CPU_BOUND_US_PER_REGION=1000

many_regions_run
check_measured_by "tried regions"
set -- $MANY_REGIONS_CPU
_bound=$((MANY_REGIONS_MEDIAN * CPU_BOUND_US_PER_REGION))
check "dtierd's CPU per interval, median over its last minute ${2:-none} us <= $CPU_BOUND_US_PER_REGION us x $MANY_REGIONS_MEDIAN hot regions" le "${2:-999999999}" "$_bound"
finish
