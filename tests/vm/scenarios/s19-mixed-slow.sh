# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 19: a hot set half in transparent huge pages, half in 4 KiB pages
# (the s2 shape: 64 MiB hot of 256 MiB, starting on node 1, 60/40; the first
# 32 MiB of the mapping may be huge pages), under a 16 MiB/s speed cap: every
# report from t=40 s on within 60 % +- 5 points, and what dtierd reports
# matches the workload.
. /lib-scenario.sh

CONVERGE_WORKLOAD_ARGS="--thp-mib 32"
converge_run 1 100
thp_kib=$(sed -n 's/.* thp_kib=\([0-9-]*\).*/\1/p' "$WORKLOAD_LOG" | head -n 1)
note "the workload's mapping has ${thp_kib:-?} KiB in huge pages"
check "the hot set is mixed: some, not all, of it in huge pages (${thp_kib:-?} KiB of 65536)" \
	test "${thp_kib:-0}" -gt 0 -a "${thp_kib:-0}" -lt 65536
workload_check_window 0 6000 500 40 100
check_events_match 0 300
check_events_match 1 300
finish
