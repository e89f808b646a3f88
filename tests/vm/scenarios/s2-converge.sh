# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd promtool
# Scenario 2: convergence. A 64 MiB hot set (of a 256 MiB mapping) starts on
# node 1; with tiers 6000/4000 dtierd must bring 60 % of it to node 0 and keep
# it there: every workload report from t=40 s to the end of a 100 s run
# within 60 % +- 5 points. Ground truth is the workload's move_pages(2) report.
. /lib-scenario.sh

converge_run 1 100
workload_check_window 0 6000 500 40 100
check_events_match 0 300
check_events_match 1 300
check_dtierctl_matches 0 200
check_dtierctl_applied
check_dtierctl_unprivileged
check_prom_export 2 200
finish
