# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 14: a target change by reload, mid-run. The s2 shape (64 MiB hot,
# THP, starting on node 1) at 60/40; at t=50 s /etc/dtierd.conf says 30/70
# and dtierd gets SIGHUP. Node 0 must hold 60 % +- 5 before and 30 % +- 5
# from 30 s after the reload on, and dtierd must say it accepted it.
. /lib-scenario.sh

reload_at() {
	while [ "$(workload_last_t | cut -d. -f1)" -lt "$1" ]; do sleep 1; done
	sed -i 's/hot_share_bp = 6000/hot_share_bp = 3000/; s/hot_share_bp = 4000/hot_share_bp = 7000/' /etc/dtierd.conf
	echo "reload at workload t=$(workload_last_t): $(grep hot_share_bp /etc/dtierd.conf | tr -d '\n')"
	# (a background subshell: converge_run sets DTIERD_PID after the fork)
	kill -HUP "$(pidof dtierd)"
}

CONVERGE_WORKLOAD_ARGS=--thp
( sleep 5; reload_at 50 ) &
converge_run 1 100
workload_check_window 0 6000 500 30 48
workload_check_window 0 3000 500 80 100
check "dtierd logged the reload" file_contains "$DTIERD_LOG" "reload"
check_events_match 0 300
finish
