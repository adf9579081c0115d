#!/bin/bash
# evosd.sh BUILD_DIR - evosd in the lab (docs/evosd.md): the wiring of instant detection.
#   1. this build staged (it has sbin/evosd, so the lab starts it on each node), lab up, cluster
#      init, an HA VM created with its recurring monitors at 300 s, started through the cluster;
#   2. a stop and a start Pacemaker ordered, and a live migration: evosd reports nothing (the VM
#      agent's operation records say so) and Pacemaker has no failure;
#   3. kill -9 of the VM's QEMU: evosd logs the report, crm_mon's failures show the one evosd's
#      `crm_resource --fail` injects (op asyncmon, not a monitor: the monitor runs every 300 s) and
#      Pacemaker has the VM running again (a new boot in its serial log) - well before the monitor
#      would even have looked (no time bound is asserted: recovery starting from evosd is);
#   4. Corosync followed (docs/evosd.md, "Corosync"; checked on both nodes after the lab is up:
#      both members by name, quorate, on the socket and /metrics): the node without the VM powered
#      off (lab kill): the survivor's evosd has the membership drop to 1 from libquorum's
#      notification (its log line and the status; the socket asks no Corosync, and nothing scrapes)
#      within 2 s of the survivor's corosync logging Members[1], still quorate (two_node), counted
#      once; after the fencing (stonith-action off meanwhile, so the node stays off while checked)
#      a boot: the node rejoins and evosd has it again, on both nodes. (A restart of
#      corosync under Pacemaker would get the node fenced: evosd's reconnect is tested against a
#      corosync of its own in corosync/evosd-follow);
#   5. kill -9 of evosd on the node running the VM: the resource stays where it runs, no failure
#      is added;
#   6. lab down (also from the EXIT trap); nothing of the lab may be left.
# A monitor that happened to run within evosd's reaction time (a few hundred ms of 300 s) would
# find the kill first; the test says so if it sees that.
# Needs root. EVOS_LAB_NAME overrides the random lab name (e + 4 digits).
# "A && pass || fail" is intended (pass never fails)
# shellcheck disable=SC2015
set -uo pipefail
build=$(cd "${1:?usage: evosd.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
[[ $(id -u) == 0 ]] || { echo "SKIPPED: needs root (the lab)"; exit 77; }
name=${EVOS_LAB_NAME:-e$(printf '%04d' $((RANDOM % 10000)))}
export EVOS_LAB_NAME=$name
unset EVOS_LAB_BASE EVOS_LAB_STAGE
export EVOS_LAB_CACHE=${EVOS_LAB_CACHE:-$build/lab-cache}
base=/tmp/evos-lab-$name
shared=$base/shared
n1=${name}1 n2=${name}2
vm=${name}vm rsc=vm-${name}vm
work=$(mktemp -d "$build/lab-evosd.$name.XXXXXX")
stage=$work/stage
lab=$stage/libexec/evos/evos-lab
guest=$build/guest-cache
# shellcheck source-path=SCRIPTDIR source=../support/lab-leftovers.sh
source "$src/tests/support/lab-leftovers.sh"

passes=0 fails=0
say() { echo "[lab-evosd $name $(date +%T.%3N)] $*"; }
pass() { passes=$((passes + 1)); say "ok: $*"; }
fail() { fails=$((fails + 1)); say "FAIL: $*"; }
die() { fail "$*"; exit 1; }
now_ms() { date +%s%3N; }
L() { "$lab" "$@"; }
X() { "$lab" exec "$@"; }
wait_for() {
  local end=$(( $(now_ms) + $1 * 1000 ))
  shift
  until "$@" >/dev/null 2>&1; do
    (( $(now_ms) < end )) || return 1
    sleep 0.2
  done
}
E() { local n=$1; shift; OUT=$(X "$n" evosctl "$@" 2>&1); RC=$?; }
expect() {  # expect RC WHAT NODE ARGS...
  local want=$1 what=$2; shift 2
  E "$@"
  if [[ $RC == "$want" ]]; then pass "$what (exit $RC)"; else fail "$what: exit $RC, expected $want"; sed 's/^/    /' <<<"$OUT"; fi
}
located() { X "$n1" timeout 20 crm_resource --locate --resource "$rsc" --quiet 2>/dev/null | xargs; }
runs_on() { [[ $(located) == "$1" ]]; }
runs_once() { [[ $(located) == "$n1" || $(located) == "$n2" ]]; }
failures() { X "$n1" timeout 20 crm_mon --one-shot --output-as=xml 2>/dev/null | grep -o "<failure [^>]*op_key=\"${rsc}_[^\"]*\"[^>]*>" ; }
evosd_log() { cat "$base/$1/log/evosd.log" 2>/dev/null; }
evosd_pid() { X "$1" cat /run/evos-lab/evosd.pid 2>/dev/null; }
evosd_alive() { local p; p=$(evosd_pid "$1") && [[ -n $p ]] && X "$1" kill -0 "$p" 2>/dev/null; }
# evosd's status answer on NODE (its socket in the node), and a field of it
evosd_status() {
  X "$1" python3 -c 'import socket; s=socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect("/run/evos/evosd.sock"); s.sendall(b"{\"op\":\"status\"}\n"); print(s.makefile().readline().strip())' 2>/dev/null
}
jfield() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read() or "{}"); v=eval(sys.argv[1]); print(json.dumps(v) if not isinstance(v, str) else v)' "$1" 2>/dev/null; }
cs_members() { evosd_status "$1" | jfield "sorted(n['name'] for n in d['corosync'].get('nodes', []) if n['member'])"; }
cs_quorate() { evosd_status "$1" | jfield "d['corosync'].get('synced') and d['corosync'].get('quorate')"; }
both_members() { [[ $(cs_members "$1") == "[\"$n1\", \"$n2\"]" ]]; }
only_member() { [[ $(cs_members "$1") == "[\"$1\"]" ]]; }
node_metrics() { X "$1" python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9764/metrics", timeout=10).read().decode(), end="")' 2>/dev/null; }
fenced() { # fenced OBSERVER TARGET: OBSERVER's fencing history holds a successful fencing of TARGET
  local x
  x=$(X "$1" stonith_admin --history "$2" --output-as=xml 2>/dev/null) || return 1
  grep -q "<fence_event [^>]*target=\"$2\"[^>]*status=\"success\"\|<fence_event [^>]*status=\"success\"[^>]*target=\"$2\"" <<<"$x"
}
# the wall time (ms) of corosync's last "[QUORUM] Members[N]:" line on NODE (timestamp: hires)
corosync_members_ms() {
  local line
  line=$(grep "\[QUORUM\] Members\[$2\]:" "$base/$1/log/corosync/corosync.log" 2>/dev/null | tail -n 1) || return 1
  [[ -n $line ]] || return 1
  date -d "$(cut -c1-19 <<<"$line")" +%s%3N
}

downed=0
cleanup() {
  local rc=$?
  trap '' INT TERM HUP
  if [[ $downed == 0 && -x $lab ]]; then
    if (( fails > 0 )); then
      for n in "$n1" "$n2"; do say "evosd.log of $n:"; evosd_log "$n" | tail -n 30 | sed 's/^/    /'; done
    fi
    L down --timeout 30 >/dev/null 2>&1 || L down --kill >/dev/null 2>&1 || true
    local left; left=$(lab_leftovers "$name" "$base" "$vm")
    if [[ -n $left ]]; then fails=$((fails + 1)); say "FAIL: left behind: $left"; else passes=$((passes + 1)); say "ok: nothing left behind"; fi
  fi
  rm -rf "$work"
  echo "lab_evosd: $passes passed, $fails failed"
  [[ $rc == 0 && $fails == 0 ]] || exit 1
  exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- 1. stage, lab, an HA VM with slow monitors ------------------------------------------------
[[ ! -e $base ]] || die "$base exists already (another lab named $name?)"
cmake --install "$build" --prefix "$stage" >/dev/null || die "cmake --install failed"
[[ -x $lab && -x $stage/sbin/evosd && -x $stage/lib/ocf/resource.d/evos/vm ]] || die "evos-lab, evosd or ocf:evos:vm not staged"
"$src/tests/support/build-guest.sh" "$guest" >/dev/null || die "build-guest.sh failed"
L up --stage "$stage" >"$work/up.log" 2>&1 || { cat "$work/up.log"; die "lab up failed"; }
pass "lab $name up"
for n in "$n1" "$n2"; do
  wait_for 30 evosd_alive "$n" && pass "evosd runs on $n (pid $(evosd_pid "$n"))" || fail "no evosd on $n"
  wait_for 30 grep -q "listed" "$base/$n/log/evosd.log" && pass "evosd on $n listed libvirt's domains" || fail "evosd on $n never listed the domains"
  wait_for 30 both_members "$n" && [[ $(cs_quorate "$n") == true ]] && pass "evosd on $n follows Corosync: members $(cs_members "$n"), quorate" ||
    fail "evosd on $n: corosync $(evosd_status "$n" | jfield "d.get('corosync')")"
  m=$(node_metrics "$n")
  grep -qx 'evos_daemon_corosync_connected 1' <<<"$m" && grep -qx 'evos_corosync_quorate 1' <<<"$m" &&
    grep -q "^evos_corosync_member_online{node=\"$n1\",nodeid=\"[0-9]*\"} 1" <<<"$m" && grep -q "^evos_corosync_member_online{node=\"$n2\",nodeid=\"[0-9]*\"} 1" <<<"$m" &&
    pass "/metrics on $n: the followed membership, quorate" || fail "/metrics on $n: $(grep corosync <<<"$m")"
done
E "$n1" cluster init; [[ $RC == 0 ]] || die "evosctl cluster init: $OUT"
create=(vm create "$vm" --memory 128M --disk 64M --kernel "$guest/vmlinuz" --initrd "$guest/initrd.gz"
        --cmdline "console=ttyS0 quiet panic=-1" --virt-type qemu --storage "$shared" --ha --migration-unsafe --shutdown-timeout 2)
expect 0 "create --ha" "$n1" "${create[@]}"
# Both recurring monitors every 300 s: a recovery within this test can only come from evosd.
ops=$(X "$n1" cibadmin --query --xpath "//primitive[@id='$rsc']/operations/op[@name='monitor']" 2>/dev/null |
      grep -o '<op [^>]*>' | sed 's/.* id="\([^"]*\)".*/\1/')
[[ -n $ops ]] || die "no monitor operations on $rsc"
for op in $ops; do
  X "$n1" cibadmin --modify --scope resources --xml-text "<op id=\"$op\" interval=\"300s\"/>" >/dev/null 2>&1 || fail "cannot set $op to 300 s"
done
pass "the monitors of $rsc run every 300 s"
serial=$shared/$vm/$vm.serial.log
expect 0 "vm start" "$n1" vm start "$vm" --storage "$shared" --timeout 120
runs_once && pass "it runs on $(located)" || die "located: '$(located)'"
wait_for 90 grep -qa 'EVOS-TICK [0-9]' "$serial" && pass "the guest ticks" || fail "no tick in $serial"

# --- 2. what Pacemaker orders is never a failure -----------------------------------------------
first=$(located)
expect 0 "vm stop (Pacemaker stops it)" "$n1" vm stop "$vm" --storage "$shared" --timeout 120
expect 0 "vm start again" "$n1" vm start "$vm" --storage "$shared" --timeout 120
where=$(located)
other=$n1; [[ $where == "$n1" ]] && other=$n2
expect 0 "live migration to $other" "$n1" vm migrate "$vm" "$other" --timeout 120
runs_on "$other" && pass "it runs on $other" || fail "located after the migration: '$(located)'"
sleep 2   # evosd acts within milliseconds of an event; give a wrong report time to show
[[ -z $(failures) ]] && pass "Pacemaker has no failure of $rsc after a stop, a start and a migration" || fail "failures: $(failures)"
for n in "$n1" "$n2"; do
  ! evosd_log "$n" | grep -q "reporting resource" && pass "evosd on $n reported nothing" || fail "evosd on $n reported: $(evosd_log "$n" | grep 'reporting resource')"
done
evosd_log "$first" | grep -q "not reported: .*resource '$rsc' is \(stopping\|stopped\|migrating\)" \
  && pass "evosd on $first saw the ordered stops and said why they are not failures" \
  || fail "no 'not reported' line for $rsc on $first"

# --- 3. kill -9 of QEMU ------------------------------------------------------------------------
where=$(located)
boots=$(grep -ac EVOS-INIT-START "$serial")
qpid=$(X "$where" cat "/run/libvirt/qemu/$vm.pid" 2>/dev/null)
[[ -n $qpid ]] || die "no QEMU pid file for $vm on $where"
X "$where" kill -9 "$qpid" || die "kill -9 $qpid on $where failed"
say "killed QEMU $qpid of $vm on $where"
wait_for 60 grep -q "reported resource '$rsc' failed on '$where'" "$base/$where/log/evosd.log" \
  && pass "evosd on $where reported $rsc failed (crm_resource --fail)" \
  || { evosd_log "$where" | grep -q "already has it failed" && say "a monitor found the kill first"; fail "evosd did not report"; }
booted_again() { (( $(grep -ac EVOS-INIT-START "$serial") > boots )) && runs_once; }
wait_for 120 booted_again && pass "Pacemaker recovered it: a new boot, running on $(located)" || fail "not running again (located: '$(located)')"
f=$(failures)
grep -q "op_key=\"${rsc}_asyncmon_0\"" <<<"$f" && pass "the failure Pacemaker recovered from is evosd's (asyncmon): $(grep -o 'node="[^"]*"' <<<"$f" | head -n 1)" \
  || fail "no asyncmon failure of $rsc in crm_mon: '$f'"
! grep -q "op_key=\"${rsc}_monitor_" <<<"$f" && pass "no monitor had found it" || fail "a monitor failure too: $f"

# --- 4. the peer powered off and back: evosd follows Corosync ---------------------------------
survivor=$(located)
peer=$n1; [[ $survivor == "$n1" ]] && peer=$n2
changes_before=$(node_metrics "$survivor" | awk '/^evos_daemon_corosync_changes_total/ {print $2}')
# The fencing's reboot would power the peer on again within a second or two: with stonith-action
# off it stays off until the boot below, so the one-member view holds while it is checked.
X "$survivor" crm_attribute --type crm_config --name stonith-action --update off >/dev/null 2>&1 || fail "set stonith-action=off"
L kill "$peer" >/dev/null 2>&1 || fail "lab kill $peer"
say "powered $peer off"
wait_for 30 only_member "$survivor" && pass "evosd on $survivor: members $(cs_members "$survivor")" || fail "evosd on $survivor: $(evosd_status "$survivor" | jfield "d.get('corosync')")"
[[ $(cs_quorate "$survivor") == true ]] && pass "still quorate (two_node)" || fail "quorate: $(cs_quorate "$survivor")"
evosd_log "$survivor" | grep -q "corosync: node $peer ([0-9]*) left; quorate" && pass "evosd on $survivor logged: $(evosd_log "$survivor" | grep -o "corosync: node $peer .*left.*" | tail -n 1)" ||
  fail "no 'node $peer left' line from evosd on $survivor"
seen=$(evosd_status "$survivor" | jfield "d['corosync']['changed_unix_ms']")
cs_ms=$(corosync_members_ms "$survivor" 1)
if [[ -n $seen && -n $cs_ms ]]; then
  lag=$((seen - cs_ms))
  ((lag > -100 && lag < 2000)) && pass "evosd had the change $lag ms after corosync logged Members[1]" || fail "evosd's change at $seen, corosync's Members[1] at $cs_ms ($lag ms)"
else
  fail "no time to compare (evosd: '$seen', corosync: '$cs_ms')"
fi
changes=$(node_metrics "$survivor" | awk '/^evos_daemon_corosync_changes_total/ {print $2}')
[[ -n $changes_before && -n $changes ]] && ((changes == changes_before + 1)) && pass "counted: evos_daemon_corosync_changes_total $changes_before -> $changes" || fail "changes_total '$changes_before' -> '$changes'"
m=$(node_metrics "$survivor")
grep -q "^evos_corosync_member_online{node=\"$peer\",nodeid=\"[0-9]*\"} 0" <<<"$m" && pass "/metrics on $survivor: $peer offline" || fail "/metrics: $(grep member_online <<<"$m")"
wait_for 60 fenced "$survivor" "$peer" && pass "$survivor fenced $peer" || fail "no fencing of $peer in $survivor's history"
X "$survivor" crm_attribute --type crm_config --name stonith-action --delete >/dev/null 2>&1 || fail "delete stonith-action"
L boot "$peer" >/dev/null 2>&1 || fail "lab boot $peer"
wait_for 120 both_members "$survivor" && pass "$peer booted and rejoined: evosd on $survivor has members $(cs_members "$survivor")" || fail "evosd on $survivor: $(evosd_status "$survivor" | jfield "d.get('corosync')")"
evosd_log "$survivor" | grep -q "corosync: node $peer ([0-9]*) joined; quorate" && pass "evosd on $survivor logged the join" || fail "no 'node $peer joined' line"
wait_for 60 both_members "$peer" && pass "the new evosd on $peer has members $(cs_members "$peer")" || fail "evosd on $peer: $(evosd_status "$peer" | jfield "d.get('corosync')")"
# (located asks $n1's Pacemaker, which may be the one starting again)
wait_for 60 runs_on "$survivor" && pass "$rsc still runs on $survivor" || fail "located after the peer's power cycle: '$(located)'"

# --- 5. kill -9 of evosd changes nothing -------------------------------------------------------
where=$(located)
X "$n1" crm_resource --cleanup --resource "$rsc" >/dev/null 2>&1
no_failures() { [[ -z $(failures) ]]; }
wait_for 30 no_failures || true
before=$(failures | wc -l)
epid=$(evosd_pid "$where")
X "$where" kill -9 "$epid" && pass "killed evosd $epid on $where" || fail "kill -9 evosd on $where"
sleep 3
runs_on "$where" && pass "$rsc still runs on $where" || fail "located after killing evosd: '$(located)'"
[[ $(failures | wc -l) == "$before" ]] && pass "no failure added" || fail "failures now: $(failures)"
ls "$base/$where/log/evosd.log" >/dev/null && ! evosd_alive "$where" && pass "evosd is gone on $where" || fail "evosd still alive on $where"

# --- 6. down ---------------------------------------------------------------------------------
downed=1
L down --timeout 60 >"$work/down.log" 2>&1 && pass "lab down" || { cat "$work/down.log"; fail "lab down failed"; }
left=$(lab_leftovers "$name" "$base" "$vm")
[[ -z $left ]] && pass "nothing left behind" || fail "left behind: $left"
