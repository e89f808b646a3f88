# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 17: two processes, each with its own hot set: 32 MiB hot of a
# 128 MiB mapping each, in 4 KiB pages, both starting on node 1; 60/40 and a
# 32 MiB/s speed cap. dtierd's target is a share of the machine's hot memory,
# not of any one process's: what is true is the combined share, both
# processes' node-0 hot pages over both hot sets (their move_pages reports
# paired on CLOCK_MONOTONIC, within 1 s), and every combined report from
# t=40 s to the end must be within 60 % +- 5 points. Each process's own share
# is reported, not judged: the target does not say how node 0 is split.
. /lib-scenario.sh

W2_LOG=/tmp/workload2.log
# started first, ends after the main one: it covers the main one's whole run
proc_start $W2_LOG "[w2] " --size-mib 128 --hot-mib 32 --node 1 --duration 130 --report-every 2
W2_PID=$BG_PID
require "the second workload reports placement" wait_for 60 grep -q '^WORKLOAD t=.* hot_pages=' $W2_LOG

# dtierd's last event is judged as it stood when the main workload ended
# (converge_run keeps that log): after that the main hot set is gone and
# dtierd rightly sees the second one's share alone.
CONVERGE_WORKLOAD_ARGS="--size-mib 128 --hot-mib 32"
converge_run 1 120

wait_exit "$W2_PID" 60
check "the second workload exited 0 (status $EXIT_STATUS)" eq "$EXIT_STATUS" 0
check "the second workload: no unplaced hot pages in its last 30 s (max bad $(log_bad_max $W2_LOG 30))" \
	eq "$(log_bad_max $W2_LOG 30)" 0

combined_series "$WORKLOAD_LOG" $W2_LOG 0 > /tmp/combined0.txt
check_series_window "combined node 0 hot share" /tmp/combined0.txt 6000 500 40 120
for _w in 1 2; do
	[ $_w = 1 ] && _log=$WORKLOAD_LOG || _log=$W2_LOG
	echo "process $_w alone: node 0 share series (t bp, its own clock):"
	log_series "$_log" WORKLOAD 0 | awk '{ printf "  t=%s %s\n", $1, $2 }'
	set -- $(log_series "$_log" WORKLOAD 0 | series_window 40 120)
	note "process $_w alone: node 0 share in t=[40, 120] s: min $1, max $2 ($3 reports)"
done
check_said_matches 0 "$(tail -n 1 /tmp/combined0.txt | cut -d' ' -f2)" 300
finish
