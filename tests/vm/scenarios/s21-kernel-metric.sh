# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 21: measure.metric = "kernel". Where the kernel has
# node_eligible_mem_bp (7.2+), each pair scheme chases the kernel's own
# metric: its goal is node_eligible_mem_bp of its destination node at that
# node's target, under the temporal tuner, with the quota at the speed cap;
# dtierd still measures, and what it says must be what the workload sees. The
# s11 shape: 64 MiB hot in THP, starting on node 1, 60/40, 32 MiB/s. Where the
# kernel lacks the metric (6.12), dtierd exits at start naming the key, with
# nothing of its own left in DAMON.
. /lib-scenario.sh

# The test knows which kernel it booted; dtierd must find out by probing.
case "$(uname -r)" in
6.*)
	damon_stat_off
	dtierd_run 60 --config /etc/dtierd.conf
	check "dtierd exited by itself (status $EXIT_STATUS)" test "$EXIT_STATUS" != timeout
	check "dtierd exited 4 (kernel unsuitable) (status $EXIT_STATUS)" eq "$EXIT_STATUS" 4
	check "the error names the file and the key" \
		grep -q '/etc/dtierd.conf: measure.metric = "kernel" needs .*node_eligible_mem_bp' "$DTIERD_LOG"
	check "nothing of dtierd's left in DAMON: no kdamond running" damon_none_running
	check "nothing of dtierd's left in DAMON: nr_kdamonds 0" eq "$(rd $KDAMONDS/nr_kdamonds)" 0
	finish
	;;
esac

# At workload t = 50 s: the goals dtierd gave the kernel, as the kernel has them.
goals_at() {
	(
		while [ "$(workload_last_t | cut -d. -f1)" -lt "$1" ]; do sleep 1; done
		for _s in $KDAMONDS/0/contexts/0/schemes/[0-9]*; do
			[ "$(rd $_s/action)" = migrate_hot ] || continue
			echo "${_s##*/} nid=$(rd $_s/target_nid) metric=$(rd $_s/quotas/goals/0/target_metric)" \
				"goal_nid=$(rd $_s/quotas/goals/0/nid) target=$(rd $_s/quotas/goals/0/target_value)" \
				"tuner=$(rd $_s/quotas/goal_tuner) bytes=$(rd $_s/quotas/bytes)" \
				"reset_ms=$(rd $_s/quotas/reset_interval_ms)"
		done > /tmp/goals.txt
	) &
}
goals_at 50
CONVERGE_WORKLOAD_ARGS=--thp
converge_run 1 100
sed 's/^/  goal: /' /tmp/goals.txt
check "dtierd's kdamond had two migrate_hot schemes" eq "$(grep -c . /tmp/goals.txt)" 2
# Each goal is the kernel's metric of the scheme's own destination, a band
# (at most 5 points) below its target; each window's quota at most the
# speed cap over the half-interval window.
for n in 0 1; do
	tg=$((n == 0 ? 6000 : 4000))
	set -- $(sed -n "s/.* nid=$n metric=\([a-z_]*\) goal_nid=\([0-9]*\) target=\([0-9]*\) tuner=\([a-z]*\) bytes=\([0-9]*\) .*/\1 \2 \3 \4 \5/p" /tmp/goals.txt) - - 0 - 0
	check "the scheme into node $n chases node_eligible_mem_bp of node $n ($1, nid $2)" \
		test "$1" = node_eligible_mem_bp -a "$2" = "$n"
	check "its goal ($3 bp) is within 500 bp below node $n's target $tg" between "$3" $((tg - 500)) "$tg"
	check "its tuner is temporal ($4)" eq "$4" temporal
	check "its quota ($5 bytes per window) is at most 16 MiB" between "$5" 4096 16777216
done
workload_check_band 0 6000 500 40
check_events_match 0 300
check_events_match 1 300
finish
