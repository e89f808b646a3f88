# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Bench only (bench/hold): a large move under a slow cap, for the hold
# issue's bound on the time to converge (1.25 x bytes to move / speed cap +
# the detection delay). 256 MiB hot of 512 MiB in THP, starting on node 1,
# 60/40 at 16 MiB/s: 154 MiB to move, 9.6 s at the cap, against 1.2-2.4 s in
# the vm tier's scenarios, where the approach's last steps are most of the
# time. Judged by bench/hold-report.py from the workload's own reports.
. /lib-scenario.sh

CONVERGE_WORKLOAD_ARGS="--size-mib 512 --hot-mib 256 --thp"
converge_run 1 100
finish
