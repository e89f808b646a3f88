# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 5: clean shutdown. Once the s2 setup has converged (last 3 reports
# within 60 % +- 5 points on node 0), SIGTERM dtierd: it must exit 0 and leave
# no kdamond running (nr_kdamonds 0, or every kdamond off).
. /lib-scenario.sh

damon_stat_off
workload_start --size-mib 256 --hot-mib 64 --node 1 --duration 400 --report-every 2
require "workload reports placement" workload_wait_report 60
dtierd_start --config /etc/dtierd.conf
check "a kdamond is running within 60 s of dtierd's start" wait_for 60 kdamond_running
damon_dump
check "converged: last 3 reports within 6000+-500 bp on node 0 (within 240 s)" \
	workload_wait_band 0 5500 6500 3 240
echo "converged at workload t=$(workload_last_t)"
require "dtierd still running before SIGTERM" alive "$DTIERD_PID"
dtierd_stop 60
check "dtierd exited 0 after SIGTERM (status $EXIT_STATUS)" eq "$EXIT_STATUS" 0
damon_dump
check "no kdamond left running (nr_kdamonds $(rd $KDAMONDS/nr_kdamonds))" damon_none_running
check "nr_kdamonds is 0 (dtierd removed its kdamond)" eq "$(rd $KDAMONDS/nr_kdamonds)" 0
finish
