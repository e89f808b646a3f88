# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 20: the measurement at scale (issue 10). A fragmented hot set,
# 96 MiB in 1536 islands of 64 KiB, one every 512 KiB of a 768 MiB mapping
# in 4 KiB pages, starting on node 1; 60/40. With monitor.min_regions = 4000
# over the guest's ~2 GiB DAMON's regions are at most ~512 KiB, and most of
# the mapping's hold part of an island: hot (measured: a median of
# 1 310-1 313 hot regions per interval on 6.12, 1 665-1 708 on 7.3).
#
# What is checked: that DAMON really kept >= 1000 hot regions (else this is
# not the scale it claims), that dtierd's own reported CPU per interval
# (median over its last minute, from its debug line) stays under
# CPU_BOUND_US_PER_REGION times the median number of hot regions, and
# that its share of node 0 matches the workload's move_pages within 5
# points, and that node 0 never overshoots the target by more than 5
# points. Whether the share is *held* on a fragmented hot set is
# reported, not judged: 7.3 held 58-59 % from t = 58-68 s in two runs;
# under TCG the 6.12 kdamond at ~1 300 hot regions migrates ~0.4 MiB/s
# whatever the quota (49-50 % at 120 s).
. /lib-scenario.sh

# TCG runs the guest many times slower than the host. Measured here
# (2026-12-04, three runs each): 0.18-0.26 ms per hot region on 6.12
# (242-342 ms at ~1 310), 0.18-0.27 on 7.3 (314-453 ms at ~1 700); the
# bound leaves room for the spread between runs, so that a regression
# shows. It is not the 10 ms target (README).
CPU_BOUND_US_PER_REGION=1000

CONVERGE_WORKLOAD_ARGS="--size-mib 768 --hot-mib 96 --islands 1536"
converge_run 1 120

# dtierd's --verbose line per node per interval:
# "... %zu regions, N pages read; cpu X us (last minute: median M, max X)"
_regions=$(sed -n 's/.*node 0: hot .*, \([0-9]*\) regions, .*/\1/p' "$DTIERD_LOG")
echo "hot regions per interval (node 0 lines): $(echo $_regions | tr ' ' '\n' | sort -n | awk '{ a[NR] = $1 } END { if (NR) printf "min %d median %d max %d of %d", a[1], a[int((NR + 1) / 2)], a[NR], NR }')"
_med_regions=$(echo $_regions | tr ' ' '\n' | sort -n | awk '{ a[NR] = $1 } END { print (NR ? a[int((NR + 1) / 2)] : 0) }')
check "DAMON kept >= 1000 hot regions (median $_med_regions per interval)" ge "$_med_regions" 1000

_cpu=$(sed -n 's/.*node 0: .*; cpu \([0-9]*\) us (last minute: median \([0-9]*\), max \([0-9]*\)).*/\1 \2 \3/p' "$DTIERD_LOG" | tail -n 1)
echo "dtierd's cost at the end (last, median, max over the last minute, us): $_cpu"
set -- $_cpu
_bound=$((_med_regions * CPU_BOUND_US_PER_REGION))
check "dtierd's CPU per interval, median over its last minute ${2:-none} us <= $CPU_BOUND_US_PER_REGION us x $_med_regions hot regions" le "${2:-999999999}" "$_bound"

echo "node 0 hot share series (t bp):"
workload_series 0 | awk '{ printf "  t=%s %s\n", $1, $2 }'
# The hot set starts on node 1: node 0 climbs to 60 %. Past 65 % is
# overshoot: with quotas left open through the intervals that measured
# nothing (7.3: up to ten in a row), node 0 went 1 -> 95 -> 1 %.
_max=$(workload_series 0 | awk '{ if ($2 > m) m = $2 } END { print m + 0 }')
check "node 0 never past 60 % + 5 (max $_max bp)" le "$_max" 6500
echo "node 0 last 60 s (min max mean reports): $(workload_share 0 60); within 60 % +- 5 from t=$(workload_convergence 0 5500 6500)"
check_dtierctl_matches 0 500
finish
