# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 13: hot data in shared memory (a memfd, i.e. page cache) that
# moves, under a 16 MiB/s speed cap: 64 MiB of a 256 MiB memfd mapping,
# starting on node 1; at t=40 s the hot set moves to other (cold, node-1)
# pages of the mapping, at t=80 s back to the first ones. With 60/40, node 0
# must hold 60 % +- 5 points of whatever is hot 25 s after each move.
. /lib-scenario.sh

CONVERGE_WORKLOAD_ARGS="--shmem --move-at 40:128,80:0"
converge_run 1 120
workload_check_window 0 6000 500 25 38
workload_check_window 0 6000 500 65 78
workload_check_window 0 6000 500 105 120
check_events_match 0 300
finish
