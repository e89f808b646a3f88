# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 3: the reverse direction. The hot set starts on node 0; with tiers
# 3000/7000 dtierd must move hot pages *down* to node 1 until node 0 holds
# 30 % +- 5 points from t=40 s to the end of a 100 s run.
. /lib-scenario.sh

converge_run 0 100
workload_check_window 0 3000 500 40 100
check_events_match 0 300
check_events_match 1 300
finish
