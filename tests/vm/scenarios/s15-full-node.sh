# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 15: a fast node that really is nearly full. Huge pages reserved on
# node 0 (hugetlb: neither free nor migratable) leave it about 48 MiB free;
# the s2 workload (64 MiB hot of 256 MiB, starting on node 1) asks 60/40, which
# node 0 cannot hold. dtierd must clamp node 0's target and say so, fill
# node 0 as far as the kernel lets it, say what it then holds, and stop: no
# failed migrations burning quota, nothing pulled back, little more moved.
. /lib-scenario.sh

HP=$NODE_SYS/node0/hugepages/hugepages-2048kB/nr_hugepages
free_kib() { sed -n 's/.*MemFree: *\([0-9]*\) kB.*/\1/p' $NODE_SYS/node0/meminfo; }
require "node 0 has 2 MiB huge pages ($HP)" test -w $HP
want=$(( ($(free_kib) - 48 * 1024) / 2048 ))
wr $HP $want
note "reserved $(rd $HP) huge pages on node 0; MemFree now $(( $(free_kib) / 1024 )) MiB"
require "node 0 is nearly full (MemFree $(( $(free_kib) / 1024 )) MiB <= 64)" le "$(free_kib)" $((64 * 1024))

converge_run 1 100
sed 's/^/  event at t=/' "$EVENTS_LOG"
# Free memory says node 0 has room for part of its target: clamped to that.
# The kernel may refuse migrations before (6.12 and 7.3 did, with ~37 MiB
# free): then DAMON tries and moves nothing, and dtierd clamps to what the
# node holds. When node 0's room grows again (the kernel freed memory there:
# it happened at t = 88 s in one 6.12 run) the clamp lifts, more moves and
# the node fills again. Each clamp is said once; nothing churns.
n_clamp=$(grep -c "node 0: target 6000 bp clamped to .*(the node cannot hold more" "$DTIERD_LOG")
n_full=$(grep -c "node 0: target 6000 bp clamped to .*(DAMON could not migrate more" "$DTIERD_LOG")
check "node 0's target was clamped, and said so ($n_clamp lines)" ge "$n_clamp" 1
check "node 0's clamps were said at most twice each (room $n_clamp, full $n_full)" \
	le $((n_clamp > n_full ? n_clamp : n_full)) 2
check "no 'raised' churn: the other node's target changed at most once per clamp" \
	le "$(grep -c 'node 1: target 4000 bp raised' "$EVENTS_LOG")" $((n_clamp + n_full))
# What an operator is told is what the node holds: each "full" clamp is
# node 0's share in the workload's next report, within 500 bp.
grep "node 0: target 6000 bp clamped to .*(DAMON could not migrate more" "$EVENTS_LOG" |
	sed 's/^\([0-9.]*\) .* clamped to \([0-9]*\) bp.*/\1 \2/' > /tmp/full.txt
while read -r t said; do
	true_bp=$(workload_after 0 "$t")
	check "the clamp said at t=$t s ($said bp) is node 0's share next (${true_bp:-none} bp) within 500 bp" \
		between "$said" $((${true_bp:-99999} - 500)) $((${true_bp:-99999} + 500))
done < /tmp/full.txt
# The target is out of reach, so nothing should ever go back: node 0's
# share never falls more than 320 bp below the most it held.
drop=$(workload_series 0 | awk '{ if ($2 > m) m = $2; if (m - $2 > d) d = m - $2 } END { print d + 0 }')
check "node 0's share never fell back more than 320 bp (largest fall $drop bp)" le "$drop" 320
# Once found full, failed migrations do not keep burning quota: what DAMON
# tried to move into node 0 and could not (the kernel's own counters,
# read 4 s before the end) is at most the hot set.
pull=$(sed -n 's/.*scheme \([0-9]*\) (to node 0).*/\1/p' "$DTIERD_LOG" | head -n 1)
set -- $(sed -n "s/^${pull:-x} //p" /tmp/sz_tried.txt 2>/dev/null) 0 0
cat /tmp/sz_tried.txt 2>/dev/null | sed 's/^/  scheme sz_tried sz_applied: /'
check "scheme ${pull:-none} (to node 0) tried and failed at most 64 MiB ($((($1 - $2) / 1048576)) MiB: tried $1, applied $2)" \
	test -n "$pull" -a $(($1 - $2)) -le $((64 * 1048576))
moved=$(awk '/moved in/ { for (i = 1; i <= NF; i++) if ($i == "in") s += $(i + 1) } END { print int(s / 1024) }' "$DTIERD_LOG")
check "at most twice the hot set migrated in all ($moved MiB)" le "$moved" 128
finish
