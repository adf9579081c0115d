#!/bin/bash
# evosctl vm create/start/stop/restart/delete on real libvirtd + QEMU (TCG) hosts
# (tests/support/virt-hosts.sh), with the tiny guest of tests/support/build-guest.sh booted by
# --kernel/--initrd. Checks:
#   - bad input is refused before anything exists (no directory, no domain);
#   - create makes the VM directory (definition, disk, kernel and initrd copies) on a directory
#     both hosts see and defines it on host 1 only; create again = "already exists" (exit 9), a
#     different one is refused naming the existing definition;
#   - without a reachable cluster (Pacemaker installed, not running here) start refuses (exit 5)
#     unless --no-cluster;
#   - start on host 1: the guest boots and ticks (EVOS-TICK in the serial log on the storage,
#     written through the pty's <log>); stop; start the same file on host 2, where it was never
#     defined: it boots and its disk counter goes on (the definition is host-independent); restart;
#   - half-way failures (initrd missing after the kernel was copied, an --import that is not
#     there or broken, a network or bridge this host lacks, a read-only storage directory) leave
#     nothing: no directory, no libvirt domain;
#   - vm console (virsh console exec'd on a pty) shows the guest's serial output; refused on the
#     host that does not run it;
#   - delete refuses without --yes, while running, and while another VM's image has one of its
#     disks as backing file; delete --yes then removes the directory and the definition.
# The HA path (--ha, start/stop through target-role) needs a cluster: lab/vm-create-ha.
# Usage: vm_create_real.sh BUILD_DIR EVOSCTL. Needs root (namespaces, libvirtd); skips (77) without.
# "A && pass || fail" is intended (pass never fails)
# shellcheck disable=SC2015,SC2001
set -uo pipefail
[ "$(id -u)" = 0 ] || { echo "SKIPPED: needs root (namespaces, libvirtd)"; exit 77; }
build=$(cd "$1" && pwd)
evosctl=$(readlink -f "$2")
here=$(cd "$(dirname "$0")/../.." && pwd)
prefix=${EVOS_TEST_PREFIX:-c$(printf '%04d' $((RANDOM % 10000)))}
base=${EVOS_TEST_BASE:-/tmp/evos-$prefix}
guest=$build/guest-cache
storage=$base/vms
dom=evc1
export EVOS_TEST_PREFIX=$prefix EVOS_TEST_BASE=$base
hosts() { "$here/tests/support/virt-hosts.sh" "$@"; }
cleanup() {
  if mountpoint -q "$base/ro" 2>/dev/null; then umount "$base/ro"; fi
  hosts down >/dev/null 2>&1; rm -rf "$base"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
die() { echo "FAIL: $*"; echo "vm_create_real: $passes passed, $((fails+1)) failed"; exit 1; }

for tool in virsh qemu-system-x86_64 qemu-img libvirtd tini; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || die "$tool is not installed (run scripts/install-deps.sh)"
done
"$here/tests/support/build-guest.sh" "$guest" || die "cannot build the test guest"
mkdir -p "$storage"
hosts up || die "the libvirt hosts did not come up"
uri1=$(hosts uri 1)

# on N ARGS...: evosctl against host N; output in $OUT, exit code in $RC
on() { local n=$1; shift; OUT=$("$evosctl" -c "$(hosts uri "$n")" "$@" 2>&1); RC=$?; }
expect() {  # expect RC WHAT N ARGS...
  local want=$1 what=$2; shift 2
  on "$@"
  if [ "$RC" -eq "$want" ]; then pass "$what (exit $RC)"; else fail "$what: exit $RC, expected $want"; echo "$OUT" | sed 's/^/    /'; fi
}
says() { if grep -q -- "$1" <<<"$OUT"; then pass "$2"; else fail "$2: no '$1' in: $OUT"; fi; }
defined() { hosts virsh "$1" dominfo "$2" >/dev/null 2>&1; }
nothing_left() {  # nothing_left NAME WHAT
  if [ ! -e "$storage/$1" ] && ! defined 1 "$1"; then pass "$2 leaves nothing (no $storage/$1, no domain)"
  else fail "$2 left something behind:"; find "$storage/$1" 2>&1 | sed 's/^/    /'; fi
}
create() {  # create N NAME [ARGS...]: the tiny guest by direct kernel boot
  local n=$1 name=$2; shift 2
  on "$n" vm create "$name" --memory 128M --disk 64M --kernel "$guest/vmlinuz" --initrd "$guest/initrd.gz" \
    --cmdline "console=ttyS0 quiet panic=-1" --virt-type qemu --storage "$storage" "$@"
}
vmdir=$storage/$dom

# --- bad input, refused before anything is made ---------------------------------------------
for bad in "--memory 0M" "--memory 512" "--memory -1G" "--disk 1.5G" "--disk 99999999999999999999T" "--vcpus 0" \
           "--network a;b" "--bridge br0 --network n1" "--cdrom /srv/x.iso"; do
  # shellcheck disable=SC2086  # word lists by construction
  create 1 "$dom" $bad
  if [ "$RC" = 2 ] && [ ! -e "$vmdir" ]; then pass "create refuses $bad (exit 2, nothing made)"
  else fail "create with $bad: exit $RC, dir $( [ -e "$vmdir" ] && echo exists || echo absent)"; echo "$OUT" | sed 's/^/    /'; fi
done
on 1 vm create "bad/name" --memory 128M --disk 64M --kernel "$guest/vmlinuz" --initrd "$guest/initrd.gz" --storage "$storage"
[ "$RC" = 2 ] && pass "create refuses a bad name (exit 2)" || fail "bad name: exit $RC: $OUT"

# --- create ---------------------------------------------------------------------------------
create 1 "$dom"
[ "$RC" = 0 ] && pass "create (exit 0): $OUT" || die "create failed (exit $RC): $OUT"
for f in "$dom.xml" "$dom-vda.qcow2" "$dom.kernel" "$dom.initrd"; do
  [ -s "$vmdir/$f" ] && pass "the VM's directory holds $f" || fail "no $vmdir/$f"
done
uuid=$(sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' "$vmdir/$dom.xml")
[ -n "$uuid" ] && pass "the definition keeps its own UUID ($uuid)" || fail "no <uuid> in the definition"
if grep -q "$base/h[12]\|/var/lib/libvirt\|<emulator>" "$vmdir/$dom.xml"; then fail "host-specific path in the definition"; else pass "no host-specific path in the definition"; fi
defined 1 "$dom" && pass "defined on host 1" || fail "not defined on host 1"
defined 2 "$dom" && fail "defined on host 2 too" || pass "not defined on host 2"
[ "$(hosts virsh 1 domuuid "$dom" 2>/dev/null)" = "$uuid" ] && pass "libvirt on host 1 has the file's UUID" || fail "UUID differs on host 1"
[ "$(qemu-img info --output=json -U "$vmdir/$dom-vda.qcow2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')" = $((64 << 20)) ] \
  && pass "the disk is 64 MiB" || fail "the disk has the wrong size"

create 1 "$dom"
[ "$RC" = 9 ] && pass "create again: already exists (exit 9)" || fail "create again: exit $RC: $OUT"
says "already exists" "create again says so"
before=$(md5sum < "$vmdir/$dom.xml")
on 1 vm create "$dom" --memory 256M --disk 64M --kernel "$guest/vmlinuz" --initrd "$guest/initrd.gz" \
  --cmdline "console=ttyS0 quiet panic=-1" --virt-type qemu --storage "$storage"
[ "$RC" = 2 ] && pass "a different VM of the same name is refused (exit 2)" || fail "different create: exit $RC: $OUT"
says "$vmdir/$dom.xml" "the refusal names the existing definition"
[ "$(md5sum < "$vmdir/$dom.xml")" = "$before" ] && pass "the existing definition is unchanged" || fail "the definition changed"

# --- start without a cluster to ask, then through libvirt -----------------------------------
if command -v cibadmin >/dev/null; then
  expect 5 "start refuses when the cluster cannot be asked" 1 vm start "$dom" --storage "$storage"
  says "no-cluster" "the refusal names --no-cluster"
fi
mark=$(hosts serial-mark "$vmdir" "$dom")
expect 0 "start on host 1" 1 vm start "$dom" --storage "$storage" --no-cluster
if t1=$(hosts wait-boot "$vmdir" "$dom" "$mark" 90); then pass "the guest boots on host 1 and ticks in its serial log on the storage (tick $t1)"
else fail "no boot and tick on host 1"; hosts serial-report "$vmdir" "$dom" "$mark" | sed 's/^/    /'; fi
expect 0 "start again" 1 vm start "$dom" --storage "$storage" --no-cluster
says "already started" "start again says it already runs"

# --- console: virsh console exec'd in evosctl's place, on a pty (script(1)); it shows the guest's
# serial output until timeout(1) ends it (Ctrl+] would, at a terminal) ---------------------
con=$(timeout -s KILL 8 script -qec "$evosctl -c '$uri1' vm console $dom --storage '$storage' --no-cluster" /dev/null 2>&1)
grep -q "Ctrl+]" <<<"$con" && pass "console names its escape key" || fail "console output: $con"
grep -qa "EVOS-TICK [0-9]" <<<"$con" && pass "console shows the guest's serial output" || fail "no tick on the console: $con"
expect 2 "console of a VM that does not run here is refused" 2 vm console "$dom" --storage "$storage" --no-cluster
says "does not run on this node" "the console refusal says why"

# --- delete refusals ------------------------------------------------------------------------
expect 2 "delete without --yes is refused" 1 vm delete "$dom" --storage "$storage" --no-cluster
says "--yes" "the refusal asks for --yes"
expect 2 "delete of a running VM is refused" 1 vm delete "$dom" --storage "$storage" --no-cluster --yes
says "stop it first" "the refusal says to stop it"
[ -s "$vmdir/$dom-vda.qcow2" ] && defined 1 "$dom" && pass "refused deletes left the VM alone" || fail "a refused delete removed something"

# --- stop on 1, start the same definition on host 2 -----------------------------------------
expect 0 "stop on host 1" 1 vm stop "$dom" --storage "$storage" --no-cluster --shutdown-timeout 3
[ "$(hosts virsh 1 domstate "$dom" 2>/dev/null)" = "shut off" ] && pass "shut off on host 1" || fail "host 1 state: $(hosts virsh 1 domstate "$dom" 2>&1)"
c1=$(hosts last-tick "$vmdir" "$dom" "$mark")
mark=$(hosts serial-mark "$vmdir" "$dom")
expect 0 "start on host 2, where it was never defined" 2 vm start "$dom" --storage "$storage" --no-cluster
if t2=$(hosts wait-boot "$vmdir" "$dom" "$mark" 90); then
  pass "the same definition boots on host 2 (first tick $t2)"
  [ "${t2:-0}" -gt "${c1:-0}" ] && pass "its disk counter went on from host 1's $c1 to $t2" || fail "counter $t2 after host 1's $c1"
else fail "no boot on host 2"; hosts serial-report "$vmdir" "$dom" "$mark" | sed 's/^/    /'; fi
[ "$(hosts virsh 2 domuuid "$dom" 2>/dev/null)" = "$uuid" ] && pass "host 2 runs it with the same UUID" || fail "UUID differs on host 2"
mark=$(hosts serial-mark "$vmdir" "$dom")
expect 0 "restart on host 2" 2 vm restart "$dom" --storage "$storage" --no-cluster --shutdown-timeout 2
if hosts wait-boot "$vmdir" "$dom" "$mark" 90 >/dev/null; then pass "it booted again after the restart"
else fail "no boot after the restart"; hosts serial-report "$vmdir" "$dom" "$mark" | sed 's/^/    /'; fi
expect 0 "stop on host 2" 2 vm stop "$dom" --storage "$storage" --no-cluster --shutdown-timeout 2
expect 0 "stop again" 2 vm stop "$dom" --storage "$storage" --no-cluster
says "already stopped" "stop again says it was stopped"
hosts virsh 2 undefine "$dom" >/dev/null 2>&1   # host 2's definition came from the start there

# --- half-way failures leave nothing ---------------------------------------------------------
on 1 vm create evc2 --memory 128M --disk 64M --kernel "$guest/vmlinuz" --initrd "$base/no-such-initrd" --virt-type qemu --storage "$storage"
[ "$RC" = 3 ] && pass "create with a missing initrd fails (exit 3)" || fail "missing initrd: exit $RC: $OUT"
nothing_left evc2 "a create that failed after copying the kernel"
on 1 vm create evc3 --memory 128M --disk 64M --import "$base/no-such.qcow2" --virt-type qemu --storage "$storage"
[ "$RC" = 3 ] && pass "create with a missing --import fails (exit 3)" || fail "missing import: exit $RC: $OUT"
nothing_left evc3 "a create with a bad --import"
printf 'QFI\373garbage that is no qcow2 header at all' > "$base/broken.qcow2"
on 1 vm create evc3 --memory 128M --import "$base/broken.qcow2" --disk 64M --virt-type qemu --storage "$storage"
[ "$RC" = 1 ] && pass "create importing a broken image fails (exit 1)" || fail "broken import: exit $RC: $OUT"
nothing_left evc3 "a create whose qemu-img convert failed"
for net in "--network hrnonet" "--bridge hrnobr0"; do
  # shellcheck disable=SC2086  # a word list by construction
  create 1 evc7 $net
  [ "$RC" = 3 ] && pass "create with $net that this host lacks fails (exit 3)" || fail "$net: exit $RC: $OUT"
  nothing_left evc7 "a create with $net"
done
mkdir -p "$base/ro"
mount --bind "$base/ro" "$base/ro" && mount -o remount,bind,ro "$base/ro" || die "cannot make a read-only directory"
on 1 vm create evc4 --memory 128M --disk 64M --kernel "$guest/vmlinuz" --initrd "$guest/initrd.gz" --virt-type qemu --storage "$base/ro"
[ "$RC" = 4 ] && pass "create on a read-only storage directory fails (exit 4)" || fail "read-only storage: exit $RC: $OUT"
if [ ! -e "$base/ro/evc4" ] && ! defined 1 evc4; then pass "the read-only create leaves nothing"; else fail "the read-only create left something"; fi
umount "$base/ro"

# --- a disk another VM reads as its backing file ---------------------------------------------
mkdir -p "$storage/evc5"
qemu-img create -q -f qcow2 -b "$vmdir/$dom-vda.qcow2" -F qcow2 "$storage/evc5/evc5-vda.qcow2" || die "cannot make an overlay"
expect 2 "delete of a VM whose disk is another image's backing file is refused" 1 vm delete "$dom" --storage "$storage" --no-cluster --yes
says "$storage/evc5/evc5-vda.qcow2" "the refusal names the image that reads it"
[ -s "$vmdir/$dom-vda.qcow2" ] && pass "the backing disk is still there" || fail "the backing disk was removed"
rm -rf "$storage/evc5"

# --- delete ----------------------------------------------------------------------------------
expect 0 "delete --yes" 1 vm delete "$dom" --storage "$storage" --no-cluster --yes
[ ! -e "$vmdir" ] && pass "the VM's directory is gone" || fail "$vmdir is still there"
defined 1 "$dom" && fail "still defined on host 1" || pass "no longer defined on host 1"
expect 3 "delete again: not found" 1 vm delete "$dom" --storage "$storage" --no-cluster --yes
# --- create --start, then stop and delete ---------------------------------------------------
mark=0
create 1 evc6 --start
[ "$RC" = 0 ] && pass "create --start (exit 0)" || fail "create --start: exit $RC: $OUT"
if hosts wait-boot "$storage/evc6" evc6 "$mark" 90 >/dev/null; then pass "a VM created with --start boots"
else fail "no boot after create --start"; hosts serial-report "$storage/evc6" evc6 0 | sed 's/^/    /'; fi
expect 0 "stop it" 1 vm stop evc6 --storage "$storage" --no-cluster --shutdown-timeout 1
expect 0 "delete it" 1 vm delete evc6 --storage "$storage" --no-cluster --yes
nothing_left evc6 "delete --yes"

echo "vm_create_real: $passes passed, $fails failed"
[ "$fails" = 0 ]
