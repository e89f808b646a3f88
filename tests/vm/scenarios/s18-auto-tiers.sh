# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 18: no tiers in the configuration (run with 2 and 3 nodes). dtierd
# must take the fast tier to be the memory nodes with CPUs and the slow tier
# the CPU-less ones, as the emulated topology (read here from sysfs, not from
# dtierd) has them, and want all the hot memory on the fast tier: the hot set
# starts on the last node and every workload report from t=40 s to the end of
# a 100 s run has node 0 within 100 % - 5 points.
. /lib-scenario.sh

# The layout the topology implies: node 0 is the only node with CPUs here.
expected=""
for d in $NODE_SYS/node[0-9]*; do
	n=${d##*/node}
	if [ -n "$(tr -d ' \n' < "$d/cpulist")" ]; then kind=CPUs; share=100.00; else kind=CPU-less; share=0.00; fi
	expected="$expected${expected:+,} node $n ($kind) $share %"
done
note "the topology implies:$expected"
require "node 0 has CPUs and is the only one" test "$(echo "$expected" | grep -o '(CPUs)' | wc -l)" -eq 1

converge_run $((VMTEST_NODES - 1)) 100
said=$(sed -n "s/.*no tiers set; from the topology, the hot memory's targets are://p" "$DTIERD_LOG" | head -n 1)
check "dtierd's tiers ($said) match the topology ($expected)" test "$said" = "$expected"
workload_check_window 0 10000 500 40 100
check_events_match 0 300
finish
