#!/bin/bash
# run.sh BUILD_DIR - VM operations on the lab (docs/lab.md, docs/vm-ops.md): a real two-node
# Corosync/Pacemaker cluster with fencing, evos from its Debian packages, the counting guest of
# tests/support/build-guest.sh:
#   network    `evosctl net create` of a NAT network on both nodes from node A
#   create     `evosctl vm create --ha --network --start` on node A: the VM's directory on the
#              shared storage, under Pacemaker; the guest gets its address from the NAT network's
#              DHCP and pings the gateway; `cluster check` finds its network, definition and disk
#              on both nodes
#   snapshot   a live snapshot (crash-consistent: the guest has no agent), booted as a new VM on
#              the OTHER node while the original runs on
#   revert     the original reverted: Pacemaker restarts it from the snapshot's counter
#   migrate    a live migration through Pacemaker with snapshots present
#   failover   the VM's node loses power; the VM restarts on the survivor, which lists the same
#              snapshots and reverts to one
#   delete     refused while the VM runs, while a booted copy stands on its snapshot, without --yes
#   clone      a full clone on the lab's XFS storage is a reflink (every extent shared) and boots
#              on the other node
# Prints ok:/FAIL: lines and "scenario_vm_ops: N passed, M failed". Needs root.
# shellcheck disable=SC2015,SC2016,SC2034
set -uo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../../.." && pwd)
kind=scenario-vm-ops
# shellcheck source-path=SCRIPTDIR source=../vm-shared/lib.sh
source "$src/tests/scenarios/vm-shared/lib.sh"
unset EVOS_LAB_TOKEN
# the VM's own directory on the storage (vm::layout)
vmdir=$shared/$vm
serial=$vmdir/$vm.serial.log
copy=${vm}c
net=${name}nat
wait_tick() { "$virt_hosts" wait-tick "$vmdir" "$vm" "$1" "$2" 2>/dev/null; }
stopped_everywhere() { [[ -z $(located) && $(domstate "$n1") != running && $(domstate "$n2") != running ]]; }
# the counter in sector 0 of an image (the guest's, read while it runs: force-share)
counter_of() { qemu-img dd -U -f qcow2 -O raw bs=512 count=1 if="$1" of="$work/sector0" >/dev/null 2>&1 && head -c 20 "$work/sector0" | tr -dc 0-9; }

scenario_tag=vm-ops scenario_summary=scenario_vm_ops
# shellcheck source-path=SCRIPTDIR source=../vm-shared/harness.sh
source "$src/tests/scenarios/vm-shared/harness.sh"
E() { local n=$1; shift; X "$n" timeout 300 evosctl "$@"; }   # E NODE ARGS...: evosctl in a node
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
# the counter of the image the VM's definition points at now
current_counter() {
    local img; img=$(sed -n "s|.*<source file='\([^']*\)'.*|\1|p;s|.*<source file=\"\([^\"]*\)\".*|\1|p" "$vmdir/$vm.xml" | head -n 1)
    counter_of "$img"
}

# ---------------------------------------------------------------------------------------- setup
[[ $(id -u) == 0 ]] || die "needs root"
[[ ! -e $base ]] || die "$base exists already (another lab named $name?)"
stage_evos || die "staging evos from its Debian packages failed"
"$src/tests/support/build-guest.sh" "$build/guest-cache" >/dev/null || die "build-guest.sh failed"
export EVOS_LAB_STAGE=$stage
L up >"$work/up.log" 2>&1 || { cat "$work/up.log"; die "lab up failed"; }
pass "lab $name up"
X "$n1" evosctl cluster init >/dev/null || die "evosctl cluster init failed"
load_fencing_race 3s || die "cannot load the fence race device"

# -------------------------------------------------------------------------------------- network
out=$(E "$n1" net create "$net" --nat 198.18.50.1/24 2>&1) && pass "net create $net on both nodes from $n1: $out" ||
    die "net create: $out"
out=$(E "$n1" net list --json 2>"$work/err") || fail "net list: $(cat "$work/err")"
[[ $(json "[n for n in d['networks'] if n['name'] == '$net'][0]['identical']" <<<"$out" 2>/dev/null) == True ]] &&
    pass "net list: $net identical on both nodes" || fail "net list: $out"

# --------------------------------------------------------------------------------------- create
out=$(E "$n1" vm create "$vm" --memory 128M --disk 64M --kernel "$build/guest-cache/vmlinuz" \
    --initrd "$build/guest-cache/initrd.gz" --cmdline "console=ttyS0 quiet panic=-1" --virt-type qemu \
    --network "$net" --storage "$shared" --ha --migration-unsafe --shutdown-timeout 5 --start 2>&1) &&
    pass "vm create --ha --network $net --start on $n1" || die "vm create: $out"
[[ -f $vmdir/$vm.xml ]] && pass "its definition is on the shared storage ($vmdir/$vm.xml)" || fail "no $vmdir/$vm.xml"
wait_for 120 holder >/dev/null || die "the VM does not run"
a=$(holder) b=$(other "$a")
pass "the HA VM runs on $a"
# Both nodes' libvirtd (this node's, and the other's over qemu+tcp) list the VM's directory on the
# shared XFS and the guest's kernel and initrd: nothing blocks a failover.
out=$(E "$a" cluster check 2>&1) && grep -q "every network, definition and disk is available on every node" <<<"$out" &&
    pass "cluster check: the VM's network, definition and disk are on both nodes" || fail "cluster check: $out"
wait_tick 2 120 >/dev/null && pass "the guest ticks" || die "the guest does not tick"
wait_for 90 grep -aq 'EVOS-NET gw-ping' "$serial" || fail "no EVOS-NET lines from the guest"
lease=$(grep -ao 'EVOS-NET ip=[0-9.]* gw=[0-9.]*' "$serial" | tail -n 1)
[[ $lease == *"ip=198.18.50."*" gw=198.18.50.1" ]] && pass "the guest's address comes from $net's DHCP ($lease)" || fail "lease: '$lease'"
grep -aq 'EVOS-NET gw-ping ok' "$serial" && pass "and it reaches the gateway" || fail "gateway ping: $(grep -a 'EVOS-NET' "$serial" | tail -n 2)"
out=$(E "$n1" vm create "$vm" --memory 128M --disk 64M --kernel "$build/guest-cache/vmlinuz" \
    --initrd "$build/guest-cache/initrd.gz" --cmdline "console=ttyS0 quiet panic=-1" --virt-type qemu \
    --network "$net" --storage "$shared" --ha --migration-unsafe --shutdown-timeout 5 --start 2>&1); rc=$?
[[ $rc == 9 ]] && pass "create again: already exists (exit 9)" || fail "create again: exit $rc: $out"

# ------------------------------------------------------------------------------------- snapshot
fresh_tick || fail "the guest does not tick"
out=$(E "$a" vm snapshot create "$vm" s1 --storage "$shared" --json 2>"$work/err") || fail "snapshot create on $a: $(cat "$work/err")"
grep -q crash-consistent <<<"$out" && pass "live snapshot s1 on $a (crash-consistent: no guest agent)" || fail "snapshot: $out"
# the snapshot's image (immutable from now on) holds the counter of the snapshot's moment
img=$(E "$a" vm snapshot list "$vm" --storage "$shared" --json 2>/dev/null |
    json "[v for s in d['snapshots'] if s['name'] == 's1' for v in s['disks'].values()][0]" 2>/dev/null)
[[ -n $img && $img != /* ]] && img=$vmdir/$img
c_snap=$(counter_of "$img")
[[ -n $c_snap ]] && pass "the snapshot's image holds counter $c_snap ($img)" || fail "cannot read the snapshot's image '$img'"
fresh_tick; fresh_tick
out=$(E "$b" vm snapshot boot "$vm" s1 --as "$copy" --storage "$shared" --hypervisor qemu:///system 2>&1) &&
    pass "snapshot s1 booted as $copy on $b" || fail "snapshot boot on $b: $out"
copylog=$(ls "$shared/$copy"/*.log 2>/dev/null | head -n 1)
wait_for 120 grep -aq 'EVOS-TICK' "$copylog" && pass "$copy ticks on $b" || fail "$copy does not tick on $b ($copylog)"
start=$(grep -ao 'EVOS-DISK present start_counter=[0-9]*' "$copylog" 2>/dev/null | head -n 1 | sed 's/.*=//')
[[ -n $start && -n $c_snap && $start == "$c_snap" ]] && pass "$copy starts from the snapshot's counter ($start)" ||
    fail "$copy starts from '$start', the snapshot's image holds '$c_snap'"
[[ $(domstate "$a") == running ]] && pass "the original runs on $a meanwhile" || fail "the original does not run on $a"
out=$(E "$b" vm delete "$vm" --yes --storage "$shared" 2>&1) && fail "delete of a running HA VM was allowed: $out" ||
    pass "delete refused while the VM runs: ${out##*evosctl: }"

# --------------------------------------------------------------------------------------- migrate
out=$(E "$a" vm migrate "$vm" "$b" 2>&1) || fail "vm migrate: $out"
wait_for 120 runs_on "$b" && pass "live migration to $b with a snapshot present" || fail "the VM is not on $b after the migration"
a=$(holder) b=$(other "$a")
out=$(E "$b" vm snapshot list "$vm" --storage "$shared" --json 2>&1)
grep -q '"s1"' <<<"$out" && pass "$b lists s1 too" || fail "snapshot list on $b: $out"

# -------------------------------------------------------------------------------------- failover
fresh_tick || fail "the guest does not tick"
boots=$(init_count)
X "$b" virsh -c qemu:///system destroy "$copy" >/dev/null 2>&1
L kill "$a" 2>/dev/null || fail "lab kill $a"
wait_for 180 runs_on "$b" && pass "power off $a: the VM runs on $b" || die "the VM does not run on $b after $a's power-off"
wait_for 120 tick_after_boot $((boots + 1)) || fail "the guest does not tick on $b"
out=$(E "$b" vm snapshot list "$vm" --storage "$shared" --json 2>&1)
grep -q '"s1"' <<<"$out" && pass "after the failover $b lists s1" || fail "snapshot list after the failover: $out"

# ---------------------------------------------------------------------------------------- revert
boots=$(init_count)
out=$(E "$b" vm snapshot revert "$vm" s1 --yes --storage "$shared" 2>&1) && pass "revert to s1 on $b (the survivor)" ||
    fail "revert: $out"
wait_for 180 tick_after_boot $((boots + 1)) || fail "the reverted VM does not tick"
first=$(first_tick_of_boot $((boots + 1)))
[[ -n $first && -n $c_snap && $first -le $((c_snap + 2)) ]] && pass "the reverted VM counts on from the snapshot's value ($c_snap → $first)" ||
    fail "after the revert the first tick is '$first', the snapshot held '$c_snap'"

# ---------------------------------------------------------------------------------------- delete
out=$(E "$b" vm delete "$vm" --storage "$shared" 2>&1); rc=$?
[[ $rc != 0 ]] && pass "delete without --yes refused (exit $rc)" || fail "delete without --yes: $out"
[[ -f $vmdir/$vm.xml ]] && pass "and the VM is intact" || fail "the VM's definition is gone"
out=$(E "$b" vm snapshot delete "$vm" s1 --yes --storage "$shared" 2>&1) &&
    fail "snapshot delete under the booted copy $copy was allowed: $out" ||
    pass "snapshot s1 refused while $copy stands on it: ${out##*evosctl: }"
out=$(E "$b" vm stop "$vm" --storage "$shared" --timeout 120 2>&1) || fail "vm stop: $out"
wait_for 120 stopped_everywhere && pass "vm stop: stopped through Pacemaker" || fail "the VM still runs after vm stop"
out=$(E "$b" vm delete "$vm" --yes --storage "$shared" 2>&1) &&
    fail "delete under the booted copy $copy was allowed: $out" ||
    pass "delete refused while $copy reads its disk as a backing file: ${out##*evosctl: }"
[[ -f $vmdir/$vm.xml ]] && pass "and the VM is still intact" || fail "the VM's definition is gone"
out=$(E "$b" vm delete "$copy" --yes --storage "$shared" 2>&1) && [[ ! -e $shared/$copy ]] &&
    pass "delete of $copy" || fail "delete of $copy: $out"
out=$(E "$b" vm delete "$vm" --yes --storage "$shared" 2>&1) && [[ ! -e $vmdir ]] &&
    pass "then the VM's delete removes it" || fail "delete of $vm: $out"
# cibadmin --xpath exits 105 (no such object) when nothing matches, 0 when something does
X "$b" cibadmin --query --xpath "//primitive[@id='vm-$vm']" >/dev/null 2>&1; rc=$?
[[ $rc == 105 ]] && pass "and its cluster resource" || fail "vm-$vm is still in the CIB (cibadmin exit $rc)"

# ------------------------------------------------------------------ clone on the lab's XFS storage
# The lab's shared storage is an XFS with reflinks (docs/lab.md): a full clone is a reflink there,
# and it boots on the other node (the one powered off above, booted again).
L boot "$a" >/dev/null 2>&1 || fail "lab boot $a"
wait_for 180 cluster_formed && pass "$a is back in the cluster" || fail "$a does not rejoin"
src_vm=${vm}s rc=${vm}r
out=$(E "$b" vm create "$src_vm" --memory 128M --disk 64M --kernel "$build/guest-cache/vmlinuz" \
    --initrd "$build/guest-cache/initrd.gz" --cmdline "console=ttyS0 quiet panic=-1" --virt-type qemu \
    --network "$net" --storage "$shared" 2>&1) && pass "vm create $src_vm (not HA, not started) on $b" || fail "vm create $src_vm: $out"
out=$(E "$b" vm clone "$src_vm" "$rc" --full --storage "$shared" --json 2>&1)
[[ $(json 'd["disks"][0]["method"]' <<<"$out" 2>/dev/null) == reflink ]] && pass "vm clone --full on the lab's storage: a reflink" ||
    fail "vm clone --full: $out"
rcdisk=$(json 'd["disks"][0]["file"]' <<<"$out" 2>/dev/null)
unshared=$(filefrag -v "$rcdisk" 2>/dev/null | awk -F: '$1 ~ /^ *[0-9]+$/ && $0 !~ /shared/ {n++} END {print n + 0}')
shared_ext=$(filefrag -v "$rcdisk" 2>/dev/null | awk -F: '$1 ~ /^ *[0-9]+$/ && /shared/ {n++} END {print n + 0}')
[[ $shared_ext -gt 0 && $unshared == 0 ]] && pass "FIEMAP: all $shared_ext extents of $rc's disk are shared with $src_vm's" ||
    fail "FIEMAP of $rcdisk: $shared_ext shared, $unshared not"
out=$(E "$a" vm start "$rc" --storage "$shared" --timeout 120 2>&1) && pass "$rc starts on $a" || fail "vm start $rc on $a: $out"
rclog=$(ls "$shared/$rc"/*.log 2>/dev/null | head -n 1)
wait_for 120 grep -aq 'EVOS-TICK' "$rclog" && pass "$rc ticks on $a" || fail "$rc does not tick on $a ($rclog)"
out=$(E "$a" vm stop "$rc" --storage "$shared" --timeout 60 --shutdown-timeout 2 2>&1) || fail "vm stop $rc: $out"
out=$(E "$a" vm delete "$rc" --yes --storage "$shared" 2>&1) && out=$(E "$b" vm delete "$src_vm" --yes --storage "$shared" 2>&1) &&
    [[ ! -e $shared/$rc && ! -e $shared/$src_vm ]] && pass "both deleted" || fail "delete of $rc or $src_vm: $out"

if L down --timeout 60 >"$work/down.log" 2>&1; then pass "lab down"; else cat "$work/down.log"; fail "lab down"; fi
downed=1
left=$(leftovers)
[[ -z $left ]] && pass "nothing left behind" || fail "left behind: $left"
