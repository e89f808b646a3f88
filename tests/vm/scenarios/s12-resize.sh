# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 12: a hot set that grows and shrinks, in transparent huge pages,
# under a 32 MiB/s speed cap: 64 MiB of a 256 MiB mapping (starting on node
# 1) grows to 128 MiB at t=40 s and shrinks to 48 MiB at t=80 s. With
# 60/40, node 0 must be back within 60 % +- 5 points 25 s after each change
# and stay there until the next one; nothing ping-pongs.
. /lib-scenario.sh

CONVERGE_WORKLOAD_ARGS="--thp --resize 40:128,80:48"
converge_run 1 120
workload_check_window 0 6000 500 25 38
workload_check_window 0 6000 500 65 78
workload_check_window 0 6000 500 105 120
check_events_match 0 300
check "no capacity clamp on nodes with room (1 GiB nodes, <= 128 MiB hot)" \
	not_file_contains "$DTIERD_LOG" "clamped to"
finish
