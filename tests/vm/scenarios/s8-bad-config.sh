# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 8: a bad config (hot_share_bp = 12000) must make dtierd exit
# non-zero with `/etc/dtierd.conf:N:` (N = that line) on stderr, having written
# nothing to DAMON.
. /lib-scenario.sh

line=$(grep -n 'hot_share_bp = 12000' /etc/dtierd.conf | cut -d: -f1)
require "the shipped config has the bad line (line '$line')" test -n "$line"
before_stat=$(rd $DAMON_STAT_ENABLED)
dtierd_run 60 --config /etc/dtierd.conf
check "dtierd exited by itself (status $EXIT_STATUS)" test "$EXIT_STATUS" != timeout
check "dtierd exited non-zero (status $EXIT_STATUS)" test "$EXIT_STATUS" != 0
check "stderr names /etc/dtierd.conf:$line:" grep -qF "/etc/dtierd.conf:$line:" $DTIERD_LOG
check "nothing written to DAMON: nr_kdamonds still 0" eq "$(rd $KDAMONDS/nr_kdamonds)" 0
if damon_stat_present; then
	check "DAMON_STAT untouched (enabled=$before_stat)" eq "$(rd $DAMON_STAT_ENABLED)" "$before_stat"
fi
finish
