# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Measurement option of issue 10, measured (bench/stat-bytes runs it): per-node
# `stat` schemes restricted by address filters, one per nr_accesses level,
# read through update_schemes_tried_bytes (one total_bytes per scheme, no
# region directories). dtierd first moves 60 % of a 64 MiB hot set to node 0
# and is stopped; then this script's own kdamond gives per-node weighted hot
# bytes, sum over levels of B(nr >= k) / max_nr_accesses, which equals
# sum(size * nr_accesses / max) over the hot regions, next to the same from
# scheme 0's tried_regions and to the workload's move_pages report. Prints
# the request's wall time and the kdamond's CPU (schedstat), with 200 and
# with 2000 regions, with 41 schemes and with 1.
. /lib-scenario.sh

LMAX=20   # aggr_us / sample_us
LMIN=1    # ceil(5 % of 20)
APPLY_US=${APPLY_US:-1000000}

damon_stat_off
workload_start --size-mib 256 --hot-mib 64 --node 1 --duration 200 --report-every 2 ${XWL:-}
require "workload reports placement" workload_wait_report 60
dtierd_start --config /etc/dtierd.conf
sleep 50
dtierd_stop 60
sleep 2
echo "after dtierd: workload says node0=$(workload_series 0 | tail -n 1 | cut -d' ' -f2)"

r0=$(node_range 0); r1=$(node_range 1)
lo0=${r0%%-*}; hi0=${r0##*-}; lo1=${r1%%-*}; hi1=${r1##*-}
echo "node0 $r0 node1 $r1"

K=$KDAMONDS/0
wr $KDAMONDS/nr_kdamonds 1
wr $K/contexts/nr_contexts 1
C=$K/contexts/0
wr $C/operations paddr
wr $C/monitoring_attrs/intervals/sample_us 5000
wr $C/monitoring_attrs/intervals/aggr_us 100000
wr $C/monitoring_attrs/intervals/update_us 1000000
wr $C/monitoring_attrs/nr_regions/min 200
wr $C/monitoring_attrs/nr_regions/max 1000
wr $C/targets/nr_targets 1
wr $C/targets/0/regions/nr_regions 1
wr $C/targets/0/regions/0/start $((lo0))
wr $C/targets/0/regions/0/end $((hi1))
NS=$((1 + 2 * (LMAX - LMIN + 1)))
wr $C/schemes/nr_schemes $NS
# scheme S: stat, nr_accesses in [MIN, LMAX], rejecting range LO-HI (none if LO=0 and HI=0)
mk() {
	_s=$C/schemes/$1
	wr $_s/action stat
	wr $_s/access_pattern/sz/min 4096
	wr $_s/access_pattern/sz/max 18446744073709551615
	wr $_s/access_pattern/nr_accesses/min $2
	wr $_s/access_pattern/nr_accesses/max $LMAX
	wr $_s/access_pattern/age/min 0
	wr $_s/access_pattern/age/max 4294967295
	[ -e $_s/apply_interval_us ] && wr $_s/apply_interval_us $APPLY_US
	if [ "$3" != 0 ]; then
		wr $_s/filters/nr_filters 1
		wr $_s/filters/0/type addr
		wr $_s/filters/0/matching Y
		[ -e $_s/filters/0/allow ] && wr $_s/filters/0/allow N
		wr $_s/filters/0/addr_start $(($3))
		wr $_s/filters/0/addr_end $(($4))
	fi
}
mk 0 $LMIN 0 0
i=1
for node in 0 1; do
	k=$LMIN
	while [ $k -le $LMAX ]; do
		if [ $node = 0 ]; then mk $i $k $lo1 $hi1; else mk $i $k $lo0 $hi0; fi
		i=$((i + 1)); k=$((k + 1))
	done
done
wr $K/state on
kpid=$(rd $K/pid)
echo "kdamond pid $kpid, $NS schemes, apply_interval_us $APPLY_US"
sleep 10

# CPU time in ms from schedstat (sum_exec_runtime, ns): /proc/PID/stat's
# tick-based times read 0 for the kdamond
cpu() { read -r _ns _x < /proc/$1/schedstat; echo $((_ns / 1000000)); }
# weighted bytes of node N from the level schemes: ((LMIN-1) B(LMIN) + sum B(k)) / LMAX
wbytes() {
	_first=$((1 + $1 * (LMAX - LMIN + 1)))
	_sum=0; _k=$LMIN; _i=$_first
	while [ $_k -le $LMAX ]; do
		read -r _b < $C/schemes/$_i/tried_regions/total_bytes
		[ $_k = $LMIN ] && _sum=$((_b * (LMIN - 1)))
		_sum=$((_sum + _b)); _k=$((_k + 1)); _i=$((_i + 1))
	done
	echo $((_sum / LMAX))
}
n=0
c0=$(cpu $$); k0=$(cpu $kpid); ts0=$(date +%s)
while [ $n -lt 20 ]; do
	read -r w0 _x < /proc/uptime; w0=$(echo $w0 | tr -d .)
	echo update_schemes_tried_bytes > $K/state
	read -r w1 _x < /proc/uptime; w1=$(echo $w1 | tr -d .)
	a=$(wbytes 0); b=$(wbytes 1)
	read -r t0b < $C/schemes/0/tried_regions/total_bytes
	[ $n -lt 3 ] && echo "levels: $(for i in $(seq 1 $((NS - 1))); do cat $C/schemes/$i/tried_regions/total_bytes; done | tr '\n' ' ')"
	sh0=0; [ "$((a + b))" -gt 0 ] && sh0=$((a * 10000 / (a + b)))
	echo "bytes[$n]: wall $(( (w1 - w0) * 10 )) ms node0 $a node1 $b (scheme0 $t0b) share0 $sh0 bp; workload $(workload_series 0 | tail -n 1 | cut -d' ' -f2)"
	n=$((n + 1))
	sleep 1
done
c1=$(cpu $$); k1=$(cpu $kpid); ts1=$(date +%s)
echo "RESULT bytes: 20 reads, script CPU $((c1 - c0)) ms, kdamond CPU $((k1 - k0)) ms over $((ts1 - ts0)) s"

# the same from scheme 0's regions (weighted, no kpageflags)
n=0
while [ $n -lt 5 ]; do
	echo update_schemes_tried_regions > $K/state
	a=0; b=0; nr=0
	for d in $C/schemes/0/tried_regions/[0-9]*; do
		read -r s < $d/start; read -r e < $d/end; read -r na < $d/nr_accesses
		nr=$((nr + 1))
		# split at the node boundary lo1
		if [ $e -le $((lo1)) ]; then a=$((a + (e - s) * na / LMAX))
		elif [ $s -ge $((lo1)) ]; then b=$((b + (e - s) * na / LMAX))
		else a=$((a + (lo1 - s) * na / LMAX)); b=$((b + (e - lo1) * na / LMAX)); fi
	done
	sh0=0; [ "$((a + b))" -gt 0 ] && sh0=$((a * 10000 / (a + b)))
	echo "regions[$n]: $nr regions node0 $a node1 $b share0 $sh0 bp; workload $(workload_series 0 | tail -n 1 | cut -d' ' -f2)"
	n=$((n + 1))
	sleep 1
done
k2=$(cpu $kpid); sleep 20; k3=$(cpu $kpid)
echo "RESULT kdamond 20 s with $NS schemes: $((k3 - k2)) ms"
# many regions: DAMON keeps at least nr_regions/min
wr $C/monitoring_attrs/nr_regions/min 2000
wr $C/monitoring_attrs/nr_regions/max 4000
echo commit > $K/state
sleep 15
echo update_schemes_tried_regions > $K/state
nr=0; for d in $C/schemes/0/tried_regions/[0-9]*; do nr=$((nr + 1)); done
echo "hot regions now: $nr"
n=0; c0=$(cpu $$); k2=$(cpu $kpid); ts0=$(date +%s)
while [ $n -lt 10 ]; do
	echo update_schemes_tried_bytes > $K/state
	a=$(wbytes 0); b=$(wbytes 1)
	sh0=0; [ "$((a + b))" -gt 0 ] && sh0=$((a * 10000 / (a + b)))
	echo "bytes-many[$n]: node0 $a node1 $b share0 $sh0 bp; workload $(workload_series 0 | tail -n 1 | cut -d' ' -f2)"
	n=$((n + 1))
done
c1=$(cpu $$); k3=$(cpu $kpid); ts1=$(date +%s)
echo "RESULT many regions, $NS schemes: 10 reads, script CPU $((c1 - c0)) ms, kdamond CPU $((k3 - k2)) ms over $((ts1 - ts0)) s"
wr $C/schemes/nr_schemes 1
mk 0 $LMIN 0 0
echo commit > $K/state
sleep 3
k2=$(cpu $kpid); sleep 20; k3=$(cpu $kpid)
echo "RESULT kdamond 20 s with 1 scheme: $((k3 - k2)) ms (nr_schemes $(rd $C/schemes/nr_schemes))"
wr $K/state off
wr $KDAMONDS/nr_kdamonds 0
finish
