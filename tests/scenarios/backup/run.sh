#!/bin/bash
# run.sh BUILD_DIR - backups of an HA VM on the lab (docs/lab.md, docs/backup.md): a real
# two-node Corosync/Pacemaker cluster with fencing, evos from its Debian packages, the counting
# guest of tests/support/build-guest.sh under Pacemaker (ocf:evos:vm), a backup store in the
# lab's shared directory (as a NAS both nodes mount):
#   live       a live backup of the HA VM on the node that runs it, while the guest writes
#   schedule   `evosctl backup schedule add` writes the timer and service on both nodes (in a unit
#              dir of the test's: the lab has no systemd); the service's ExecStart= lines, run by
#              hand as the timer would, back up on the VM's node, incrementally, prune, and skip
#              on the other node
#   restore    that backup restored on the OTHER node as a new VM, which boots with the counter
#              of the backup's moment while the original runs on
#   stop       a mode-stop backup of the HA VM: stopped and started again through Pacemaker
#              (target-role), its target-role as before, the backup holding the counter at the stop
#   failover   the VM's node loses power; the VM restarts on the survivor, where the scheduled
#              job now backs it up (a full read: the VM restarted), and the store verifies
# Prints ok:/FAIL: lines and "scenario_backup: N passed, M failed". Needs root.
# shellcheck disable=SC2015,SC2016,SC2034
set -uo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../../.." && pwd)
kind=scenario-backup
# shellcheck source-path=SCRIPTDIR source=../vm-shared/lib.sh
source "$src/tests/scenarios/vm-shared/lib.sh"
unset EVOS_LAB_TOKEN
store=$shared/backup-store

scenario_tag=backup scenario_summary=scenario_backup
# shellcheck source-path=SCRIPTDIR source=../vm-shared/harness.sh
source "$src/tests/scenarios/vm-shared/harness.sh"
cleanup() {
    local rc=$?
    trap '' INT TERM HUP
    scenario_cleanup "$rc" "$serial"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
holder() {
    local where; where=$(located) || return 1
    [[ $where == "$n1" || $where == "$n2" ]] || return 1
    [[ $(domstate "$where") == running ]] || return 1
    echo "$where"
}
counter() { "$virt_hosts" counter "$shared" "$vm"; }
# scheduled NODE: what NODE's backup timer would run: the ExecStart= lines of the service that
# `backup schedule add` wrote there, the unit's evosctl path replaced by the staged one (on PATH
# in the node). The backup's --json in $out.
scheduled() {
    local n=$1 first=1 line
    local -a words
    out=""
    while read -r line; do
        read -r -a words <<<"$line"
        if [[ $first == 1 ]]; then
            out=$(X "$n" timeout 300 evosctl "${words[@]}" --json 2>"$work/err") || return 1
            first=0
        else
            X "$n" timeout 300 evosctl "${words[@]}" >/dev/null 2>>"$work/err" || return 1
        fi
    done < <(sed -n 's/^ExecStart=[^ ]* //p' "$work/units-$n/evos-backup-$vm.service")
    [[ $first == 0 ]]
}

# ---------------------------------------------------------------------------------------- setup
[[ $(id -u) == 0 ]] || die "needs root"
[[ ! -e $base ]] || die "$base exists already (another lab named $name?)"
stage_evos || die "staging evos from its Debian packages failed"
"$src/tests/support/build-guest.sh" "$build/guest-cache" >/dev/null || die "build-guest.sh failed"
export EVOS_LAB_STAGE=$stage
L up >"$work/up.log" 2>&1 || { cat "$work/up.log"; die "lab up failed"; }
pass "lab $name up"
"$virt_hosts" domain-xml "$vm" "$shared" "$build/guest-cache" "$shared/$vm.xml" 128 || die "domain-xml failed"
X "$n1" evosctl cluster init >/dev/null || die "evosctl cluster init failed"
load_fencing_race 3s || die "cannot load the fence race device"
X "$n1" evosctl vm ha enable "$vm" --config "$shared/$vm.xml" --migration-unsafe --shutdown-timeout 5 --timeout 180 >/dev/null ||
    die "evosctl vm ha enable failed"
wait_tick 2 120 >/dev/null || die "the guest does not tick"
a=$(holder) || die "the VM does not run on one node"
b=$(other "$a")
pass "the HA VM runs on $a"
X "$a" evosctl backup store init --store "$store" >/dev/null || die "backup store init"

# ----------------------------------------------------------------------------------------- live
out=$(X "$a" timeout 300 evosctl backup create "$vm" --store "$store" --json 2>"$work/err") || die "live backup on $a: $(cat "$work/err")"
[[ $(json 'd["mode"]' <<<"$out") == snapshot && $(json 'd["node"]' <<<"$out") == "$a" ]] &&
    pass "live backup of the HA VM on $a ($(json 'd["consistency"]' <<<"$out"))" || fail "live backup: $out"
[[ $(domstate "$a") == running ]] && pass "the VM ran on through the backup" || fail "the VM is not running after the backup"

# ------------------------------------------------------------------------------------- schedule
for n in "$n1" "$n2"; do
    mkdir -p "$work/units-$n"
    X "$n" evosctl backup schedule add "$vm" --store "$store" --calendar hourly --keep-last 10 --unit-dir "$work/units-$n" >/dev/null ||
        die "backup schedule add on $n"
done
pass "backup schedule add on both nodes: $(sed -n 's/^OnCalendar=//p' "$work/units-$n1/evos-backup-$vm.timer"), keep-last 10"
fresh_tick || fail "the guest does not tick"
c_before=$(counter)
scheduled "$a" || die "the scheduled job on $a failed: $(cat "$work/err")"
c_after=$(counter)
sched_id=$(json 'd.get("id", "")' <<<"$out")
[[ -n $sched_id && $(json 'd["disks"][0]["method"]' <<<"$out") == dirty-bitmap ]] &&
    pass "the scheduled job backs up on $a, through the dirty bitmap ($(json 'd["disks"][0]["bytes_read"]' <<<"$out") bytes read)" ||
    fail "scheduled job on $a: $out"
scheduled "$b" || fail "the scheduled job on $b failed: $(cat "$work/err")"
grep -q skipped <<<"$out" && pass "the scheduled job on $b skips the VM it does not run" || fail "scheduled job on $b: $out"

# -------------------------------------------------------------------------------------- restore
out=$(X "$b" timeout 300 evosctl backup restore --store "$store" "$sched_id" --as "${vm}copy" --disk-dir "$shared" --start --json 2>"$work/err") ||
    fail "restore on $b: $(cat "$work/err")"
copylog=$shared/${vm}copy.serial-0.log
wait_for 120 grep -aq 'EVOS-TICK' "$copylog" || fail "the restored VM does not tick on $b"
n=$(grep -ao 'EVOS-DISK present start_counter=[0-9]*' "$copylog" 2>/dev/null | head -n 1 | sed 's/.*=//')
[[ -n $n && $n -ge $c_before && $n -le $c_after ]] &&
    pass "the backup restored on $b boots as ${vm}copy with the counter of its moment ($n; the original's was $c_before..$c_after)" ||
    fail "the restored VM's start counter '$n' is not within $c_before..$c_after"
[[ $(domstate "$a") == running ]] && pass "the original runs on $a meanwhile" || fail "the original does not run on $a"
X "$b" virsh -c qemu:///system destroy "${vm}copy" >/dev/null 2>&1
X "$b" virsh -c qemu:///system undefine "${vm}copy" >/dev/null 2>&1

# ----------------------------------------------------------------------------------------- stop
# mode stop of an HA VM: through Pacemaker (target-role Stopped, then as it was), never behind its back
fresh_tick || fail "the guest does not tick"
c_before=$(counter)
boots=$(init_count)
out=$(X "$a" timeout 600 evosctl backup create "$vm" --store "$store" --mode stop --stop-timeout 120s --json 2>"$work/err") ||
    fail "mode stop on $a: $(cat "$work/err")"
[[ $(json 'd.get("mode", "")' <<<"$out") == stop && $(json 'd.get("consistency", "")' <<<"$out") == offline ]] &&
    pass "mode stop: an offline backup of the HA VM" || fail "mode stop: $out"
grep -q "through Pacemaker (resource vm-$vm)" <<<"$(json 'd.get("plan", "")' <<<"$out")" &&
    pass "stopped and started through Pacemaker: $(json 'd["plan"]' <<<"$out")" || fail "plan: $out"
wait_for 120 holder >/dev/null && pass "the VM runs again (on $(holder))" || fail "the VM does not run after mode stop"
wait_for 120 tick_after_boot $((boots + 1)) || fail "the guest does not tick after mode stop"
if X "$a" cibadmin --query --xpath "//primitive[@id='vm-$vm']//nvpair[@name='target-role']" >/dev/null 2>&1; then
    fail "vm-$vm keeps a target-role: $(X "$a" cibadmin --query --xpath "//primitive[@id='vm-$vm']//nvpair[@name='target-role']" 2>&1)"
else
    pass "vm-$vm has no target-role again, as before the backup"
fi
E_restore=$shared/stopped.raw
X "$a" timeout 300 evosctl backup restore --store "$store" "$(json 'd["id"]' <<<"$out")" --to "$E_restore" >/dev/null 2>"$work/err" ||
    fail "restore of the mode-stop backup: $(cat "$work/err")"
n=$(head -c 20 "$E_restore" 2>/dev/null | tr -dc 0-9)
[[ -n $n && $n -ge $c_before ]] && pass "the mode-stop backup holds the counter at the stop ($n >= $c_before)" ||
    fail "counter in the mode-stop backup '$n', before the stop $c_before"
rm -f "$E_restore"
a=$(holder) || die "the VM does not run on one node"
b=$(other "$a")

# ------------------------------------------------------------------------------------- failover
fresh_tick || fail "the guest does not tick"
boots=$(init_count)
L kill "$a" 2>/dev/null || fail "lab kill $a"
wait_for 180 runs_on "$b" && pass "power off $a: the VM runs on $b" || die "the VM does not run on $b after $a's power-off"
wait_for 120 tick_after_boot $((boots + 1)) || fail "the guest does not tick on $b"
scheduled "$b" || die "the scheduled job on $b after the failover failed: $(cat "$work/err")"
[[ $(json 'd.get("node", "")' <<<"$out") == "$b" && $(json 'd["disks"][0]["method"]' <<<"$out") == full ]] &&
    pass "after the failover the scheduled job backs up on $b, reading every block ($(json 'd["plan"]' <<<"$out"))" ||
    fail "scheduled job on $b after the failover: $out"
out=$(X "$b" timeout 300 evosctl backup verify --store "$store" --json 2>"$work/err") &&
    pass "the store verifies: $(json 'len(d["checked"])' <<<"$out") backups" || fail "verify: $out $(cat "$work/err")"

if L down --timeout 60 >"$work/down.log" 2>&1; then pass "lab down"; else cat "$work/down.log"; fail "lab down"; fi
downed=1
left=$(leftovers)
[[ -z $left ]] && pass "nothing left behind" || fail "left behind: $left"
