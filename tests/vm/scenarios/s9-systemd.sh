# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest-requires: dtierd
# Scenario 9 (--init systemd; 7.3 kernel): dtierd as a systemd service. The
# guest is a Debian 12 rootfs with systemd 252 as PID 1; dtierd, its unit and
# catalog come from the built .deb (dpkg -i; or `meson install --destdir`
# when the harness is given --install-from only); /etc/dtierd.conf is
# s9-systemd.conf (damon_stat_takeover = true). Everything goes through
# systemctl and journalctl:
#  1 start: active/running (READY=1 reached), StatusText shows the shares
#  2 converge to 6000 bp, reload to 3000/7000: converges again, same MainPID
#    and same kdamond
#  3 reload with a broken file: systemctl reload fails, dtierd keeps running
#    the old config, same MainPID, the journal names FILE:LINE
#  4 kill -STOP: the watchdog restarts it; exactly one kdamond afterwards
#  5 kill -9: Restart=on-failure restarts it; exactly one kdamond
#  6 stop: inactive, no kdamond left, DAMON_STAT enabled as before
#  7 structured journal fields (DTIERD_NODE=, MESSAGE_ID=) and the catalog
# Also prints `systemd-analyze security` (line "SECURITY: ...").
. /lib-scenario.sh

U=dtierd.service
CONF=/etc/dtierd.conf
MSGID_STARTED=5c3a6e2f0b7d4e1d9a4f8c2b71e0d301
MSGID_CONFIG_REJECTED=5c3a6e2f0b7d4e1d9a4f8c2b71e0d304

prop() { unit_prop $U "$1"; }
main_pid() { prop MainPID; }
kd_pid() { rd_retry $KDAMONDS/0/pid; }
running() { [ "$(unit_state $U)" = active/running ]; }
# In the running dtierd's mount namespace, where the unit's
# ProtectKernelTunables= and ReadWritePaths= apply.
in_dtierd_ns() { nsenter -t "$(main_pid)" -m -- "$@"; }
fails() { ! "$@" 2> /dev/null; }
# sh -c "$WRITE_BACK" sh FILE: writes FILE's current value (the [bracketed]
# choice if it lists several) back to it: a no-op wherever writes are allowed.
WRITE_BACK='v=$(sed "s/.*\[\(.*\)\].*/\1/" "$1") && echo "$v" > "$1"'
mount_opts() { in_dtierd_ns findmnt -no OPTIONS -T "$1"; }
status_contains() { contains "$(prop StatusText)" "$1"; }
one_kdamond_on() { [ "$(rd_retry $KDAMONDS/nr_kdamonds)" = 1 ] && [ "$(kdamond_on_count)" = 1 ]; }
# restarted_from PID: a new main process, and the unit active/running again.
restarted_from() {
	_p=$(main_pid)
	[ "$_p" != 0 ] && [ "$_p" != "$1" ] && running
}
journal_has() {	# journal_has SINCE_EPOCH FIXED_STRING: in the unit's journal since then
	journalctl -u $U --since "@$1" -o cat --no-pager | grep -qF -- "$2"
}
now() { date +%s; }

require "systemd is PID 1 ($(cat /proc/1/comm))" eq "$(cat /proc/1/comm)" systemd
require "DAMON_STAT present ($DAMON_STAT_ENABLED)" damon_stat_present
STAT_BEFORE=$(rd $DAMON_STAT_ENABLED)
note "DAMON_STAT enabled=$STAT_BEFORE before the test"
damon_dump

# --- the package (VMTEST_INSTALL=deb: installed with dpkg -i before this) -------
if [ "${VMTEST_INSTALL:-}" = deb ]; then
	require "the dtierd package is installed" dpkg-query -W dtierd
	check "/etc/dtierd.conf is the package's conffile" \
		sh -c "dpkg-query -W -f='\${Conffiles}' dtierd | grep -q '/etc/dtierd.conf'"
	check "the unit is not enabled by the install (nothing runs before the operator says so)" \
		sh -c "! systemctl is-enabled --quiet $U"
	_sum=$(md5sum < $CONF)
	dpkg -i /root/vmtest/dtierd.deb > /tmp/dpkg2.log 2>&1
	check "a reinstall succeeds (dpkg -i again)" eq "$?" 0
	check "a reinstall keeps the edited /etc/dtierd.conf" eq "$(md5sum < $CONF)" "$_sum"
fi

# --- the installed unit --------------------------------------------------------
require "dtierd.service is installed (FragmentPath '$(prop FragmentPath)')" \
	test -n "$(prop FragmentPath)"
systemctl cat --no-pager $U | sed 's/^/  /'
check "ExecStart runs the installed $DTIERD" contains "$(prop ExecStart)" "path=$DTIERD "
echo "systemd-analyze verify $U:"
systemd-analyze verify $U 2>&1 | sed 's/^/  /'
echo "systemd-analyze security $U:"
systemd-analyze security --no-pager $U > /tmp/security.txt 2>&1
sed 's/^/  /' /tmp/security.txt
echo "SECURITY: $(grep -a 'Overall exposure level' /tmp/security.txt)"
check "systemd-analyze security gives an overall exposure level" \
	grep -aq 'Overall exposure level' /tmp/security.txt

journal_stream $U

# --- 1: start -------------------------------------------------------------------
workload_start --size-mib 256 --hot-mib 64 --node 1 --duration 900 --report-every 2
require "workload reports placement" workload_wait_report 60
T=$(now)
check "1: systemctl start $U returns 0" systemctl start $U
note "systemctl start returned after $(($(now) - T)) s (Type=notify: after READY=1)"
unit_dump $U
require "1: active/running after start (READY=1 reached)" running
check "1: StatusText shows both nodes' shares and targets ('$(prop StatusText)')" \
	sh -c "systemctl show -p StatusText --value $U | grep -Eq 'node0 [0-9.]+%/60\.0%.*node1 [0-9.]+%/40\.0%'"
systemctl status --no-pager $U 2>&1 | head -n 12 | sed 's/^/  /'
check "1: systemctl status shows the Status: line" \
	sh -c "systemctl status --no-pager $U | grep -q 'Status: \".*node0 '"
PID1=$(main_pid)
check "1: one kdamond, on" wait_for 10 one_kdamond_on
KD1=$(kd_pid)
note "MainPID $PID1, kdamond pid $KD1"
check "1: DAMON_STAT disabled while dtierd runs (takeover)" eq "$(rd $DAMON_STAT_ENABLED)" N
# The sandbox: each write below is a no-op that succeeds outside the unit,
# so a failure inside is the unit's doing.
for f in /proc/sys/vm/swappiness /sys/kernel/mm/transparent_hugepage/enabled; do
	require "1: sandbox: writing $f back works outside the unit" sh -c "$WRITE_BACK" sh $f
	check "1: sandbox: dtierd cannot write $f" fails in_dtierd_ns sh -c "$WRITE_BACK" sh $f
done
check "1: sandbox: the DAMON admin tree is writable for dtierd ($(mount_opts $KDAMONDS))" \
	contains "$(mount_opts $KDAMONDS)," "rw,"
check "1: sandbox: DAMON_STAT's enabled is writable for dtierd ($(mount_opts $DAMON_STAT_ENABLED))" \
	contains "$(mount_opts $DAMON_STAT_ENABLED)," "rw,"
check "1: sandbox: the rest of /sys/kernel/mm is read-only ($(mount_opts /sys/kernel/mm/transparent_hugepage))" \
	contains "$(mount_opts /sys/kernel/mm/transparent_hugepage)," "ro,"

# --- 2: converge, reload to 3000/7000, converge --------------------------------
check "2: converged to 6000 bp: last 3 reports within 5500..6500 on node 0 (within 180 s)" \
	workload_wait_band 0 5500 6500 3 180
echo "converged at workload t=$(workload_last_t); $(workload_series 0 | tail -n 1)"
unit_dump $U
sed -i 's/hot_share_bp = 6000;/hot_share_bp = 3000;/; s/hot_share_bp = 4000;/hot_share_bp = 7000;/' $CONF
grep hot_share_bp $CONF
T=$(now)
check "2: systemctl reload (3000/7000) returns 0" systemctl reload $U
# ExecReload=dtierd --reload waits until dtierd has applied the file (systemd
# 252 has no Type=notify-reload; with `kill -HUP` the job ended before dtierd
# had even read the file, SubState reload came after).
ST=$(unit_state $U)
note "systemctl reload returned after $(($(now) - T)) s; state right then: $ST"
check "2: active/running right when systemctl reload returned ($ST)" eq "$ST" active/running
check "2: the journal logs the new target" wait_for 5 journal_has "$T" "target 6000 bp -> 3000 bp"
check "2: StatusText shows the new targets within 5 s" wait_for 5 status_contains '%/30.0%'
check "2: converged to 3000 bp: last 3 reports within 2500..3500 on node 0 (within 180 s)" \
	workload_wait_band 0 2500 3500 3 180
echo "converged at workload t=$(workload_last_t); $(workload_series 0 | tail -n 1)"
unit_dump $U
check "2: same MainPID after the reload ($PID1 -> $(main_pid))" eq "$(main_pid)" "$PID1"
check "2: same kdamond after the reload (pid $KD1 -> $(kd_pid))" eq "$(kd_pid)" "$KD1"
check "2: still one kdamond, on" one_kdamond_on

# --- 3: reload with a broken file ---------------------------------------------
cp $CONF /tmp/good.conf
echo 'interval_msec = 500;' >> $CONF
BAD_LINE=$(wc -l < $CONF)
sleep 1
T=$(now)
systemctl reload $U
RC=$?
ST=$(unit_state $U)
note "systemctl reload with a broken $CONF (line $BAD_LINE) returned $RC after $(($(now) - T)) s; state right then: $ST"
check "3: systemctl reload fails for the rejected file (status $RC)" test "$RC" != 0
check "3: active/running right when systemctl reload returned ($ST)" eq "$ST" active/running
sleep 2
unit_dump $U
check "3: still active/running 2 s later" running
check "3: same MainPID ($PID1 -> $(main_pid))" eq "$(main_pid)" "$PID1"
check "3: same kdamond, still on (pid $KD1 -> $(kd_pid))" eq "$(kd_pid)/$(kdamond_on_count)" "$KD1/1"
check "3: journal shows '$CONF:$BAD_LINE:'" wait_for 5 journal_has "$T" "$CONF:$BAD_LINE:"
journalctl -u $U --since "@$T" MESSAGE_ID=$MSGID_CONFIG_REJECTED -o verbose --no-pager 2>&1 |
	grep -E 'MESSAGE=|DTIERD_CONFIG_ERROR=|MESSAGE_ID=' | sed 's/^/  /'
check "3: the rejection carries DTIERD_CONFIG_ERROR= and MESSAGE_ID=...d304" \
	sh -c "journalctl -u $U --since @$T MESSAGE_ID=$MSGID_CONFIG_REJECTED -o verbose --no-pager | grep -qF 'DTIERD_CONFIG_ERROR=$CONF:$BAD_LINE:'"
check "3: the previous targets stay (StatusText '$(prop StatusText)')" status_contains '%/30.0%'
cp /tmp/good.conf $CONF
sleep 6
note "node 0 hot share (workload) after the rejected reload: $(workload_series 0 | tail -n 3 | awk '{ printf "%s ", $2 }')bp"

# --- 4: kill -STOP: the watchdog ------------------------------------------------
P=$(main_pid); KD=$(kd_pid); NR=$(prop NRestarts)
T=$(now)
echo "kill -STOP $P (WatchdogSec=$(prop WatchdogUSec))"
kill -STOP "$P"
check "4: watchdog restart: new MainPID, active/running (within 40 s)" wait_for 40 restarted_from "$P"
EL=$(($(now) - T))
unit_dump $U
note "restarted $EL s after kill -STOP: MainPID $P -> $(main_pid)"
check "4: restarted within ~20 s ($EL s)" le "$EL" 22
check "4: NRestarts $NR -> $(prop NRestarts)" eq "$(prop NRestarts)" $((NR + 1))
check "4: systemd logged the watchdog timeout" journal_has "$T" "Watchdog timeout"
check "4: the stopped process is gone" test ! -e "/proc/$P"
damon_dump
check "4: exactly one kdamond afterwards (nr_kdamonds $(rd $KDAMONDS/nr_kdamonds), $(kdamond_on_count) on)" \
	wait_for 10 one_kdamond_on
check "4: it is a new kdamond (pid $KD -> $(kd_pid))" test "$(kd_pid)" != "$KD"
check "4: DAMON_STAT taken over again" eq "$(rd $DAMON_STAT_ENABLED)" N

# --- 5: kill -9 -------------------------------------------------------------------
sleep 3
P=$(main_pid); KD=$(kd_pid); NR=$(prop NRestarts)
T=$(now)
echo "kill -9 $P"
kill -9 "$P"
check "5: Restart=on-failure: new MainPID, active/running (within 30 s)" wait_for 30 restarted_from "$P"
EL=$(($(now) - T))
unit_dump $U
note "restarted $EL s after kill -9: MainPID $P -> $(main_pid)"
check "5: NRestarts $NR -> $(prop NRestarts)" eq "$(prop NRestarts)" $((NR + 1))
damon_dump
check "5: exactly one kdamond afterwards (nr_kdamonds $(rd $KDAMONDS/nr_kdamonds), $(kdamond_on_count) on)" \
	wait_for 10 one_kdamond_on
check "5: it is a new kdamond (pid $KD -> $(kd_pid))" test "$(kd_pid)" != "$KD"
journalctl -u $U --since "@$T" -o cat --no-pager | grep -iE 'left behind|removed|cleanup|recover' | sed 's/^/  start log: /'
sleep 5
check "5: the new instance is running (still active/running 5 s later)" running
check "5: the new instance controls: StatusText '$(prop StatusText)'" status_contains '%/30.0%'

# --- 6: stop -----------------------------------------------------------------------
T=$(now)
check "6: systemctl stop returns 0" systemctl stop $U
note "systemctl stop returned after $(($(now) - T)) s"
unit_dump $U
check "6: inactive after stop ($(prop ActiveState))" eq "$(prop ActiveState)" inactive
check "6: the main process exited 0 (ExecMainStatus $(prop ExecMainStatus))" eq "$(prop ExecMainStatus)" 0
damon_dump
check "6: no dtierd kdamond left (nr_kdamonds $(rd $KDAMONDS/nr_kdamonds))" damon_none_running
check "6: DAMON_STAT enabled as before the test ($STAT_BEFORE)" \
	wait_for 5 eq_file $DAMON_STAT_ENABLED "$STAT_BEFORE"

# --- 7: structured journal fields ---------------------------------------------
N=$(journalctl -u $U DTIERD_NODE=1 -o cat --no-pager | wc -l)
echo "journalctl -u $U DTIERD_NODE=1: $N entries; the last 3:"
journalctl -u $U DTIERD_NODE=1 -n 3 -o cat --no-pager | sed 's/^/  /'
journalctl -u $U DTIERD_NODE=1 -n 1 -o verbose --no-pager | grep -E '^ +(DTIERD_|MESSAGE|PRIORITY|_SYSTEMD_UNIT)' | sed 's/^/  /'
check "7: journalctl -u $U DTIERD_NODE=1 returns entries ($N)" ge "$N" 1
N=$(journalctl -u $U MESSAGE_ID=$MSGID_STARTED -o cat --no-pager | wc -l)
journalctl -u $U MESSAGE_ID=$MSGID_STARTED -o cat --no-pager | sed 's/^/  /'
check "7: journalctl -u $U MESSAGE_ID=$MSGID_STARTED finds the start event ($N)" ge "$N" 1
check "7: one start event per start (3: start, watchdog restart, kill -9 restart; found $N)" eq "$N" 3
journalctl --update-catalog 2>&1 | sed 's/^/  /'
journalctl -x -u $U MESSAGE_ID=$MSGID_STARTED -n 1 --no-pager 2>&1 | sed 's/^/  /'
check "7: the catalog explains the start event (journalctl -x)" \
	sh -c "journalctl -x -u $U MESSAGE_ID=$MSGID_STARTED -n 1 --no-pager | grep -q 'dtierd started its kdamond'"

finish
