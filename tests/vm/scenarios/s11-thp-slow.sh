# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 11: what real machines have. The s2 shape (64 MiB hot of 256 MiB,
# starting on node 1, 60/40) with the hot set in transparent huge pages and a
# 32 MiB/s speed cap: every report from t=40 s on within 60 % +- 5 points,
# and what dtierd reports matches the workload.
. /lib-scenario.sh

CONVERGE_WORKLOAD_ARGS=--thp
converge_run 1 100
workload_check_window 0 6000 500 40 100
check_events_match 0 300
check_events_match 1 300
finish
