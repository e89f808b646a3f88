# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires:
# Bench only (bench/hold, 7.2+ kernels): the kernel-native PUSH/PULL recipe of
# the node_eligible_mem_bp patch, without dtierd, on the s11 workload (64 MiB
# hot of 256 MiB in THP, starting on node 1): two migrate_hot schemes, one per
# direction, each restricted to its source node by an address filter, with a
# node_eligible_mem_bp goal for its destination (60 % on node 0, 40 % on node
# 1), the temporal tuner, and the same 32 MiB/s speed cap. The workload's
# reports are judged by bench/hold-report.py like dtierd's runs.
. /lib-scenario.sh

CAP=$((32 * 1024 * 1024))
TARGET0=6000
TARGET1=4000

damon_stat_off
K=$KDAMONDS/0
C=$K/contexts/0
wr $KDAMONDS/nr_kdamonds 1 && wr $K/contexts/nr_contexts 1 && wr $C/operations paddr ||
	fail "cannot stage a paddr context"
wr $C/monitoring_attrs/intervals/sample_us 5000
wr $C/monitoring_attrs/intervals/aggr_us 100000
wr $C/monitoring_attrs/nr_regions/min 10
wr $C/monitoring_attrs/nr_regions/max 1000
r0=$(node_range 0)
r1=$(node_range 1)
lo=${r0%%-*}
hi=${r1##*-}
wr $C/targets/nr_targets 1
wr $C/targets/0/regions/nr_regions 1
wr $C/targets/0/regions/0/start $((lo))
wr $C/targets/0/regions/0/end $((hi))
wr $C/schemes/nr_schemes 2
# scheme DST SRC_RANGE_TO_REJECT GOAL_BP
scheme() {
	S=$C/schemes/$1
	wr $S/action migrate_hot
	wr $S/target_nid "$2"
	wr $S/access_pattern/sz/min 4096
	wr $S/access_pattern/sz/max 18446744073709551615
	wr $S/access_pattern/nr_accesses/min 1
	wr $S/access_pattern/nr_accesses/max 4294967295
	wr $S/access_pattern/age/min 0
	wr $S/access_pattern/age/max 4294967295
	wr $S/quotas/bytes $CAP
	wr $S/quotas/reset_interval_ms 1000
	wr $S/quotas/goal_tuner temporal
	wr $S/quotas/goals/nr_goals 1
	wr $S/quotas/goals/0/target_metric node_eligible_mem_bp
	wr $S/quotas/goals/0/nid "$2"
	wr $S/quotas/goals/0/target_value "$4"
	# reject the destination's own memory: the scheme acts on the source only
	wr $S/core_filters/nr_filters 1
	wr $S/core_filters/0/type addr
	wr $S/core_filters/0/matching Y
	wr $S/core_filters/0/allow N
	wr $S/core_filters/0/addr_start $((${3%%-*}))
	wr $S/core_filters/0/addr_end $((${3##*-}))
}
scheme 0 0 "$r0" $TARGET0
scheme 1 1 "$r1" $TARGET1

workload_start --size-mib 256 --hot-mib 64 --node 1 --duration 150 --report-every 2 --thp
require "workload reports placement" workload_wait_report 60
require "the native recipe's kdamond starts" wr $K/state on
echo "native recipe started at workload t=$(workload_last_t)"
# The same shape of debug line dtierd prints, so bench/hold-report.py finds the
# target; applied bytes of both schemes each 2 s.
echo "[dtierd] dtierd: node 0: hot 0 KiB measured 0 bp estimate 0 bp target $TARGET0 bp, moved in 0 KiB"
prev=0
while alive "$WORKLOAD_PID"; do
	sleep 2
	wr $K/state update_schemes_stats 2>/dev/null
	a=$(( $(rd $C/schemes/0/stats/sz_applied) + $(rd $C/schemes/1/stats/sz_applied) ))
	echo "[dtierd] dtierd: node 0: hot 0 KiB measured 0 bp estimate 0 bp target $TARGET0 bp, moved in $(((a - prev) / 1024)) KiB"
	prev=$a
done
workload_wait 30
wr $K/state off
echo "native recipe: moved $((prev / 1048576)) MiB in all"
check "the workload ran to its end" eq "$EXIT_STATUS" 0
finish
