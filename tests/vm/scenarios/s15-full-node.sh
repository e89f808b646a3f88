# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 15: a fast node that really is nearly full. Huge pages reserved on
# node 0 (hugetlb: neither free nor migratable) leave it about 48 MiB free;
# the s2 workload (64 MiB hot of 256 MiB, starting on node 1) asks 60/40, which
# node 0 cannot hold. dtierd must clamp node 0's target once and say so, fill
# node 0 as far as its reserve allows, and then stop: the share stays put and
# little more moves.
. /lib-scenario.sh

HP=$NODE_SYS/node0/hugepages/hugepages-2048kB/nr_hugepages
free_kib() { sed -n 's/.*MemFree: *\([0-9]*\) kB.*/\1/p' $NODE_SYS/node0/meminfo; }
require "node 0 has 2 MiB huge pages ($HP)" test -w $HP
want=$(( ($(free_kib) - 48 * 1024) / 2048 ))
wr $HP $want
note "reserved $(rd $HP) huge pages on node 0; MemFree now $(( $(free_kib) / 1024 )) MiB"
require "node 0 is nearly full (MemFree $(( $(free_kib) / 1024 )) MiB <= 64)" le "$(free_kib)" $((64 * 1024))

converge_run 1 100
n_clamp=$(grep -c "node 0: target 6000 bp clamped" "$DTIERD_LOG")
check "node 0's target was clamped, and said so once ($n_clamp lines)" eq "$n_clamp" 1
check "no 'raised' churn: the other node's target changed at most once" \
	le "$(grep -c 'node 1: target 4000 bp raised' "$DTIERD_LOG")" 1
set -- $(workload_share 0 40)
check "node 0's share is steady for the last 40 s (min $1, max $2)" le $(($2 - $1)) 320
moved=$(awk '/moved in/ { for (i = 1; i <= NF; i++) if ($i == "in") s += $(i + 1) } END { print int(s / 1024) }' "$DTIERD_LOG")
check "at most twice the hot set migrated in all ($moved MiB)" le "$moved" 128
finish
