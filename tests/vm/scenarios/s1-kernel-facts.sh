# SPDX-License-Identifier: GPL-2.0-or-later
# Scenario 1: the kernel facts dtierd relies on, checked directly (no dtierd).
# DAMON sysfs files are only staged (no kdamond is started: on 7.3 DAMON_STAT
# runs its own kdamond from boot) and removed again at the end. The workload
# proves the ground-truth tool works and that nothing else moves its pages.
. /lib-scenario.sh

echo "kernel: $(uname -r) ($VMTEST_KERNEL_PACKAGE); nodes expected: $VMTEST_NODES"

# --- NUMA topology ------------------------------------------------------------
nodes=$(ls -d $NODE_SYS/node[0-9]* 2>/dev/null | wc -l)
check "NUMA node count is $VMTEST_NODES (found $nodes)" eq "$nodes" "$VMTEST_NODES"
echo "node has_memory=$(rd $NODE_SYS/has_memory) has_cpu=$(rd $NODE_SYS/has_cpu) online=$(rd $NODE_SYS/online)"
check "node0 has CPUs ($(rd $NODE_SYS/node0/cpulist))" test -n "$(rd $NODE_SYS/node0/cpulist)"
n=1
while [ $n -lt "$VMTEST_NODES" ]; do
	check "node$n has no CPUs (cpulist '$(rd $NODE_SYS/node$n/cpulist)')" \
		test -z "$(rd $NODE_SYS/node$n/cpulist)"
	n=$((n + 1))
done

# --- memory-block sysfs (node ranges) -----------------------------------------
bs=$(rd $MEM_SYS/block_size_bytes)
check "memory block_size_bytes readable ($bs)" test -n "$bs"
n=0
while [ $n -lt "$VMTEST_NODES" ]; do
	b=$(node_blocks $n)
	echo "node$n: $b memory blocks, range $(node_range $n), MemTotal $(awk '/MemTotal/ { print $4, $5 }' $NODE_SYS/node$n/meminfo)"
	check "node$n has >= 1 memory block link" ge "$b" 1
	n=$((n + 1))
done
check "memory_failure is not counted as a memory block" \
	eq "$(ls -d $NODE_SYS/node0/memory[0-9]* | grep -c failure)" 0

# --- /proc/kpageflags ------------------------------------------------------------
kpf=$(dd if=/proc/kpageflags bs=8 count=1 2>/dev/null | wc -c)
check "/proc/kpageflags readable (read $kpf bytes)" eq "$kpf" 8

# --- DAMON sysfs ---------------------------------------------------------------
require "DAMON sysfs present ($KDAMONDS)" test -d $KDAMONDS
if damon_stat_present; then
	echo "damon_stat enabled=$(rd $DAMON_STAT_ENABLED) (not touched by this scenario)"
fi
damon_dump
check "no sysfs kdamond before the scenario" eq "$(rd $KDAMONDS/nr_kdamonds)" 0

require "stage nr_kdamonds=1" wr $KDAMONDS/nr_kdamonds 1
K=$KDAMONDS/0
require "stage nr_contexts=1" wr $K/contexts/nr_contexts 1
C=$K/contexts/0
ops=$(rd $C/avail_operations | tr '\n' ' ')
echo "avail_operations: $ops"
check "paddr in avail_operations" contains " $ops" " paddr "
check "operations accepts paddr" wr $C/operations paddr
require "stage nr_schemes=1" wr $C/schemes/nr_schemes 1
S=$C/schemes/0
check "scheme action accepts migrate_hot" wr $S/action migrate_hot
check "action reads back migrate_hot" eq "$(rd $S/action)" migrate_hot
check "scheme action accepts migrate_cold" wr $S/action migrate_cold
check "target_nid exists" test -f $S/target_nid
check "target_nid default is -1 ($(rd $S/target_nid))" eq "$(rd $S/target_nid)" -1
check "target_nid accepts 0" wr $S/target_nid 0
check "tried_regions dir exists" test -d $S/tried_regions
check "quotas/goals exists" test -d $S/quotas/goals
check "stage nr_goals=1" wr $S/quotas/goals/nr_goals 1
G=$S/quotas/goals/0
check "goal target_metric exists (reads '$(rd $G/target_metric)')" test -f $G/target_metric
check "goal target_metric accepts user_input" wr $G/target_metric user_input
check "goal target_metric reads user_input" eq "$(rd $G/target_metric)" user_input
check "goal current_value accepts a value" wr $G/current_value 1234
check "goal target_value accepts a value" wr $G/target_value 10000

# Record (not check) what differs between kernels, for the log.
for f in $C/pause $C/addr_unit $K/refresh_ms $S/quotas/goal_tuner $G/nid $S/filters \
	$S/core_filters $S/ops_filters $S/dests $S/quotas/effective_bytes $S/apply_interval_us \
	$C/monitoring_attrs/intervals/intervals_goal; do
	if [ -e "$f" ]; then
		v=
		[ -f "$f" ] && v=" = $(rd $f)"
		echo "present: ${f#$DAMON/}$v"
	else
		echo "absent:  ${f#$DAMON/}"
	fi
done
for m in user_input some_mem_psi_us node_mem_used_bp node_mem_free_bp node_memcg_used_bp \
	active_mem_bp node_eligible_mem_bp; do
	if echo $m > $G/target_metric 2>/dev/null; then
		echo "goal metric accepted: $m"
	else
		echo "goal metric rejected: $m"
	fi
done
echo user_input > $G/target_metric
if [ -d $S/ops_filters ]; then
	wr $S/ops_filters/nr_filters 1 && echo "ops filter 'allow' file: $(ls $S/ops_filters/0 | tr '\n' ' ')"
	wr $S/ops_filters/nr_filters 0
fi
damon_dump

# Clean up what was staged.
check "unstage: nr_kdamonds=0" wr $KDAMONDS/nr_kdamonds 0
check "nr_kdamonds reads 0 at the end" eq "$(rd $KDAMONDS/nr_kdamonds)" 0

# --- workload ground truth ------------------------------------------------------
check "numa_balancing is off" eq "$(rd /proc/sys/kernel/numa_balancing)" 0
wl_node=$((VMTEST_NODES - 1))
workload_start --size-mib 256 --hot-mib 64 --node $wl_node --duration 20 --report-every 2
workload_wait 120
check "workload exited 0 (status $EXIT_STATUS)" eq "$EXIT_STATUS" 0
set -- $(workload_share $wl_node 1000)
echo "node$wl_node hot share over the run: min=$1 max=$2 mean=$3 reports=$4"
check "workload printed >= 5 reports ($4)" ge "$4" 5
check "hot pages stayed on node$wl_node (min share $1 bp >= 9500)" ge "$1" 9500
check "no unplaced hot pages (max bad $(workload_bad_max))" eq "$(workload_bad_max)" 0
grep -q '^WORKLOAD done' $WORKLOAD_LOG
check "workload reported done" eq $? 0

finish
