# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 7 (7.3 kernel: DAMON_STAT runs from boot). With the default config
# dtierd must refuse (non-zero, message names damon_stat and how to turn it
# off). With `damon_stat_takeover = true;` it must run, and after SIGTERM
# DAMON_STAT's `enabled` must be Y again.
. /lib-scenario.sh

require "DAMON_STAT present ($DAMON_STAT_ENABLED)" damon_stat_present
require "DAMON_STAT enabled at boot" eq "$(rd $DAMON_STAT_ENABLED)" Y

dtierd_run 60 --config /etc/dtierd.conf
check "default config: dtierd exited by itself (status $EXIT_STATUS)" test "$EXIT_STATUS" != timeout
check "default config: dtierd exited non-zero (status $EXIT_STATUS)" test "$EXIT_STATUS" != 0
check "message names damon_stat" grep -q 'damon_stat' $DTIERD_LOG
check "message says how to turn it off (the enabled parameter or damon_stat_takeover)" \
	grep -Eq 'parameters/enabled|damon_stat_takeover' $DTIERD_LOG
check "DAMON_STAT still enabled after the refusal" eq "$(rd $DAMON_STAT_ENABLED)" Y
check "no sysfs kdamond left behind" eq "$(rd $KDAMONDS/nr_kdamonds)" 0

cp /etc/dtierd.conf /tmp/takeover.conf
echo 'damon_stat_takeover = true;' >> /tmp/takeover.conf
workload_start --size-mib 256 --hot-mib 64 --node 1 --duration 90 --report-every 5
dtierd_start --config /tmp/takeover.conf
check "takeover: a sysfs kdamond runs within 60 s" wait_for 60 kdamond_running
check "takeover: DAMON_STAT disabled while dtierd runs" eq "$(rd $DAMON_STAT_ENABLED)" N
sleep 20
check "takeover: dtierd still running after 20 s" alive "$DTIERD_PID"
damon_dump
dtierd_stop 60
check "takeover: dtierd exited 0 after SIGTERM (status $EXIT_STATUS)" eq "$EXIT_STATUS" 0
check "takeover: DAMON_STAT enabled again (Y) after dtierd's exit" \
	wait_for 10 eq_file "$DAMON_STAT_ENABLED" Y
check "takeover: no sysfs kdamond left running" damon_none_running
damon_dump
finish
