# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 6: coexistence. The scenario starts its own kdamond first (a paddr
# `stat` scheme over node 0, as an administrator would); dtierd must refuse to
# run (non-zero exit, a message naming the foreign kdamond) and must leave that
# kdamond alone: still `on`, same pid, same parameters.
. /lib-scenario.sh

damon_stat_off
range=$(node_range 0 | cut -d' ' -f1)
start=${range%-*}
end=${range#*-}
echo "foreign kdamond: paddr stat over node 0 [$start, $end)"
require "stage foreign kdamond: nr_kdamonds=1" wr $KDAMONDS/nr_kdamonds 1
K=$KDAMONDS/0
C=$K/contexts/0
require "nr_contexts=1" wr $K/contexts/nr_contexts 1
require "operations=paddr" wr $C/operations paddr
wr $C/monitoring_attrs/intervals/sample_us 10000
wr $C/monitoring_attrs/intervals/aggr_us 200000
require "nr_targets=1" wr $C/targets/nr_targets 1
require "nr_regions=1" wr $C/targets/0/regions/nr_regions 1
require "region start" wr $C/targets/0/regions/0/start $((start))
require "region end" wr $C/targets/0/regions/0/end $((end))
require "nr_schemes=1" wr $C/schemes/nr_schemes 1
S=$C/schemes/0
wr $S/action stat
wr $S/access_pattern/sz/max 18446744073709551615
wr $S/access_pattern/nr_accesses/max 4294967295
wr $S/access_pattern/age/max 4294967295
require "foreign kdamond starts (state on)" wr $K/state on
sleep 2
fpid=$(rd $K/pid)
fparams=$(damon_params 0)
echo "foreign kdamond: pid $fpid, $fparams"
require "foreign kdamond is on" eq "$(rd $K/state)" on

dtierd_run 60 --config /etc/dtierd.conf
check "dtierd exited by itself (status $EXIT_STATUS)" test "$EXIT_STATUS" != timeout
check "dtierd exited non-zero (status $EXIT_STATUS)" test "$EXIT_STATUS" != 0
check "dtierd's message mentions the foreign kdamond" grep -qi 'kdamond' $DTIERD_LOG

damon_dump
check "foreign kdamond still on" eq "$(rd $K/state)" on
check "foreign kdamond has the same pid ($fpid)" eq "$(rd $K/pid)" "$fpid"
check "foreign kdamond has the same parameters" eq "$(damon_params 0)" "$fparams"
check "still exactly one sysfs kdamond" eq "$(rd $KDAMONDS/nr_kdamonds)" 1

wr $K/state off
wr $KDAMONDS/nr_kdamonds 0
finish
