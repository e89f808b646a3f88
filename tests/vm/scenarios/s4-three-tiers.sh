# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd promtool
# Scenario 4: three tiers (run with --nodes 3). The hot set starts on node 2;
# with tiers 5000/3000/2000 every node must hold its share +- 5 points from
# t=60 s to the end of a 130 s run.
. /lib-scenario.sh

require "three NUMA nodes (VMTEST_NODES=$VMTEST_NODES)" eq "$VMTEST_NODES" 3
converge_run 2 130
workload_check_window 0 5000 500 60 130
workload_check_window 1 3000 500 60 130
workload_check_window 2 2000 500 60 130
check_events_match 0 300
check_events_match 1 300
check_events_match 2 300
# What operators read (issue 11, 3 nodes): dtierctl agrees with the
# workload within 2 points, and with the kernel's counters.
check_dtierctl_matches 0 200
check_dtierctl_matches 1 200
check_dtierctl_matches 2 200
check_dtierctl_applied
check_dtierctl_unprivileged
# What Prometheus scrapes (issue 11): promtool accepts it, and it agrees
# with the workload as dtierctl does.
check_prom_export 3 200
finish
