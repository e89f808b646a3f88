# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 10: what dtierd counts as hot, page by page. The s2 shape (64 MiB hot
# of 256 MiB, starting on node 1, 60/40) with the shipped defaults; while it
# holds, dtierd-pfn-audit sorts every page of DAMON's hot regions into the
# workload's hot pages, its cold pages and everyone else's, from kpageflags
# and the workload's pagemap.
. /lib-scenario.sh

damon_stat_off
workload_start --size-mib 256 --hot-mib 64 --node 1 --duration 100 --report-every 2
require "workload reports placement" workload_wait_report 60
dtierd_start --config /etc/dtierd.conf
buf=$(sed -n 's/.* buf=\(0x[0-9a-f]*\).*/\1/p' "$WORKLOAD_LOG" | head -n 1)
for t in 40 60 80; do
	sleep 20
	echo "audit at workload t=$(workload_last_t)"
	dtierd-pfn-audit --pid "$WORKLOAD_PID" --buf "$buf" --buf-mib 256 --hot "$buf" --hot-mib 64 --regions
done
workload_wait 120
dtierd_stop 60
check "dtierd exited 0 after SIGTERM (status $EXIT_STATUS)" eq "$EXIT_STATUS" 0
finish
