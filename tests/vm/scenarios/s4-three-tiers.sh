# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 4: three tiers (run with --nodes 3). The hot set starts on node 2;
# with tiers 5000/3000/2000 every node must hold its share +- 5 points for the
# last 30 s of a 180 s run.
. /lib-scenario.sh

require "three NUMA nodes (VMTEST_NODES=$VMTEST_NODES)" eq "$VMTEST_NODES" 3
converge_run 2 180
workload_check_band 0 5000 500 30
workload_check_band 1 3000 500 30
workload_check_band 2 2000 500 30
check_events_match 0 300
check_events_match 1 300
check_events_match 2 300
finish
