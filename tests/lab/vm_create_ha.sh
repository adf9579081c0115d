#!/bin/bash
# vm_create_ha.sh BUILD_DIR - `evosctl vm create --ha` and the lifecycle of a cluster-managed VM on
# the lab (docs/lab.md: a real two-node Corosync/Pacemaker cluster, libvirtd and QEMU per node):
#   1. this build staged (cmake --install), lab up, `evosctl cluster init`;
#   2. create --ha on node 1 (the tiny guest by --kernel/--initrd, TCG, a disk on the lab's shared
#      directory): the resource is in the CIB with target-role=Stopped and runs nowhere; nothing
#      was defined in libvirt; create again = already exists (exit 9);
#   3. `vm start` on node 2 goes through the cluster: target-role=Started, the VM runs on exactly
#      one node and ticks in its serial log on the shared directory; `vm start` again changes
#      nothing;
#   4. delete is refused while the cluster runs it (from either node);
#   5. `vm stop` on the other node stops it through the cluster (target-role=Stopped), it runs
#      nowhere; `vm restart` starts it again through the cluster (a new boot); stop;
#   6. delete --yes removes the resource from the CIB and the VM's directory; a second VM made
#      with create --ha --start runs at once (through the cluster), then stop and delete;
#   7. lab down (also from the EXIT trap); nothing of the lab may be left.
# Needs root. EVOS_LAB_NAME overrides the random lab name (v + 4 digits).
# "A && pass || fail" is intended (pass never fails)
# shellcheck disable=SC2015,SC2001
set -uo pipefail
build=$(cd "${1:?usage: vm_create_ha.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
[[ $(id -u) == 0 ]] || { echo "SKIPPED: needs root (the lab)"; exit 77; }
name=${EVOS_LAB_NAME:-v$(printf '%04d' $((RANDOM % 10000)))}
export EVOS_LAB_NAME=$name
unset EVOS_LAB_BASE EVOS_LAB_STAGE
export EVOS_LAB_CACHE=${EVOS_LAB_CACHE:-$build/lab-cache}
base=/tmp/evos-lab-$name
shared=$base/shared
n1=${name}1 n2=${name}2
vm=${name}vm rsc=vm-${name}vm
work=$(mktemp -d "$build/vm-create-ha.$name.XXXXXX")
stage=$work/stage
lab=$stage/libexec/evos/evos-lab
guest=$build/guest-cache
# shellcheck source-path=SCRIPTDIR source=../support/lab-leftovers.sh
source "$src/tests/support/lab-leftovers.sh"

passes=0 fails=0
say() { echo "[vm-create-ha $name $(date +%T.%3N)] $*"; }
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
# E NODE ARGS...: evosctl in NODE; output in $OUT, exit code in $RC
E() { local n=$1; shift; OUT=$(X "$n" evosctl "$@" 2>&1); RC=$?; }
expect() {  # expect RC WHAT NODE ARGS...
  local want=$1 what=$2; shift 2
  E "$@"
  if [[ $RC == "$want" ]]; then pass "$what (exit $RC)"; else fail "$what: exit $RC, expected $want"; sed 's/^/    /' <<<"$OUT"; fi
}
says() { grep -q -- "$1" <<<"$OUT" && pass "$2" || fail "$2: no '$1' in: $OUT"; }
located() { X "$n1" timeout 20 crm_resource --locate --resource "$rsc" --quiet 2>/dev/null | xargs; }
runs_once() { [[ $(located) == "$n1" || $(located) == "$n2" ]]; }
runs_nowhere() { [[ -z $(located) ]]; }
target_role() { X "$n1" timeout 20 crm_resource --resource "$rsc" --meta --get-parameter target-role --quiet 2>/dev/null; }
domstate() { X "$1" timeout 20 virsh -q -c qemu:///system domstate "$vm" 2>/dev/null | head -n 1; }

downed=0
cleanup() {
  local rc=$?
  trap '' INT TERM HUP
  if [[ $downed == 0 && -x $lab ]]; then
    L down --timeout 30 >/dev/null 2>&1 || L down --kill >/dev/null 2>&1 || true
    local left; left=$(lab_leftovers "$name" "$base" "$vm")
    if [[ -n $left ]]; then fails=$((fails + 1)); say "FAIL: left behind: $left"; else passes=$((passes + 1)); say "ok: nothing left behind"; fi
  fi
  rm -rf "$work"
  echo "vm_create_ha: $passes passed, $fails failed"
  [[ $rc == 0 && $fails == 0 ]] || exit 1
  exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- 1. stage, lab, cluster defaults ---------------------------------------------------------
[[ ! -e $base ]] || die "$base exists already (another lab named $name?)"
cmake --install "$build" --prefix "$stage" >/dev/null || die "cmake --install failed"
[[ -x $lab && -x $stage/sbin/evosctl && -x $stage/lib/ocf/resource.d/evos/vm ]] || die "evos-lab, evosctl or ocf:evos:vm not staged"
"$src/tests/support/build-guest.sh" "$guest" >/dev/null || die "build-guest.sh failed"
L up --stage "$stage" >"$work/up.log" 2>&1 || { cat "$work/up.log"; die "lab up failed"; }
pass "lab $name up"
E "$n1" cluster init; [[ $RC == 0 ]] || die "evosctl cluster init: $OUT"

# --- 2. create --ha ----------------------------------------------------------------------------
create=(vm create "$vm" --memory 128M --disk 64M --kernel "$guest/vmlinuz" --initrd "$guest/initrd.gz"
        --cmdline "console=ttyS0 quiet panic=-1" --virt-type qemu --storage "$shared" --ha --migration-unsafe --shutdown-timeout 2)
expect 0 "create --ha on $n1" "$n1" "${create[@]}"
says "cluster resource $rsc" "create names the cluster resource"
[[ -s $shared/$vm/$vm.xml && -s $shared/$vm/$vm-vda.qcow2 ]] && pass "the VM's directory is on the shared storage" || fail "no definition or disk in $shared/$vm"
[[ $(target_role) == Stopped ]] && pass "the resource was created with target-role=Stopped" || fail "target-role: '$(target_role)'"
runs_nowhere && pass "it runs nowhere" || fail "it runs on $(located)"
[[ -z $(domstate "$n1") ]] && pass "create --ha defined nothing in libvirt" || fail "defined in libvirt on $n1: $(domstate "$n1")"
expect 9 "create --ha again: already exists" "$n1" "${create[@]}"

# --- 3. start through the cluster -------------------------------------------------------------
serial=$shared/$vm/$vm.serial.log
expect 0 "start on $n2" "$n2" vm start "$vm" --storage "$shared" --timeout 120
says "through the cluster ($rsc)" "start went through the cluster"
[[ $(target_role) == Started ]] && pass "target-role=Started" || fail "target-role: '$(target_role)'"
runs_once && pass "it runs on one node ($(located))" || fail "located: '$(located)'"
where=$(located)
wait_for 90 grep -qa 'EVOS-TICK [0-9]' "$serial" && pass "the guest ticks in its serial log on the shared storage" || fail "no tick in $serial"
expect 0 "start again" "$n1" vm start "$vm" --storage "$shared"
says "already started" "start again changes nothing"
[[ $(located) == "$where" ]] && pass "it still runs on $where only" || fail "located: '$(located)'"

# --- 4. delete refused while the cluster runs it -----------------------------------------------
for n in "$n1" "$n2"; do
  expect 2 "delete on $n while it runs is refused" "$n" vm delete "$vm" --storage "$shared" --yes
  says "runs on $where" "the refusal names where it runs"
done

# --- 5. stop and restart through the cluster ---------------------------------------------------
other=$n1; [[ $where == "$n1" ]] && other=$n2
expect 0 "stop on $other, the node that does not run it" "$other" vm stop "$vm" --storage "$shared" --timeout 120
says "through the cluster" "stop went through the cluster"
runs_nowhere && pass "it runs nowhere" || fail "located: '$(located)'"
[[ $(domstate "$where") != running ]] && pass "libvirt on $where no longer runs it" || fail "still running in libvirt on $where"
boots=$(grep -ac EVOS-INIT-START "$serial")
expect 0 "restart" "$n1" vm restart "$vm" --storage "$shared" --timeout 180
runs_once && pass "it runs again after the restart ($(located))" || fail "located after restart: '$(located)'"
booted_again() { (( $(grep -ac EVOS-INIT-START "$serial") > boots )); }
wait_for 90 booted_again && pass "the guest booted again (a new EVOS-INIT-START in its serial log)" || fail "no new boot after the restart"
expect 0 "stop" "$n1" vm stop "$vm" --storage "$shared" --timeout 120

# --- 6. delete --------------------------------------------------------------------------------
expect 0 "delete --yes" "$n2" vm delete "$vm" --storage "$shared" --yes
says "cluster resource $rsc" "delete removed the cluster resource"
X "$n1" cibadmin --query --scope resources 2>/dev/null | grep -q "id=\"$rsc\"" && fail "$rsc is still in the CIB" || pass "$rsc is gone from the CIB"
[[ ! -e $shared/$vm ]] && pass "the VM's directory is gone" || fail "$shared/$vm is still there"

# --- create --ha --start: created and started through the cluster in one step -------------------
vm2=${name}v2 rsc2=vm-${name}v2
expect 0 "create --ha --start" "$n2" vm create "$vm2" --memory 128M --disk 64M --kernel "$guest/vmlinuz" --initrd "$guest/initrd.gz" \
  --cmdline "console=ttyS0 quiet panic=-1" --virt-type qemu --storage "$shared" --ha --migration-unsafe --shutdown-timeout 2 --start
says "started" "create --ha --start says it started"
where2=$(X "$n1" timeout 20 crm_resource --locate --resource "$rsc2" --quiet 2>/dev/null | xargs)
[[ $where2 == "$n1" || $where2 == "$n2" ]] && pass "it runs on one node ($where2)" || fail "$rsc2 located: '$where2'"
expect 0 "stop it" "$n1" vm stop "$vm2" --storage "$shared" --timeout 120
expect 0 "delete it" "$n1" vm delete "$vm2" --storage "$shared" --yes
[[ ! -e $shared/$vm2 ]] && pass "its directory is gone" || fail "$shared/$vm2 is still there"

# --- 7. down ----------------------------------------------------------------------------------
L down --timeout 30 >/dev/null 2>&1 && pass "lab down" || fail "lab down failed"
downed=1
left=$(lab_leftovers "$name" "$base" "$vm")
[[ -z $left ]] && pass "nothing left behind" || fail "left behind: $left"
