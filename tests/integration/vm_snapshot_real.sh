#!/bin/bash
# evosctl vm snapshot on real libvirtd + QEMU (TCG) hosts (tests/support/virt-hosts.sh), the tiny
# guest counting in sector 0 of its disk: a live snapshot of the VM running on host 1
# (crash-consistent: the guest has no agent) whose image no longer changes while the VM goes on;
# that snapshot booted as a new VM on host 2 while the original runs on host 1 (the copy starts
# from the snapshot's count, the original keeps counting); live migration to host 2 and back with
# snapshots present (libvirt holds no snapshot metadata, so it does not refuse); a second live
# snapshot taken on host 2; the same listing whichever host is asked; a revert of the running
# original to the first snapshot (it boots again from the snapshot's count); a full clone of a
# snapshot's state while the original runs; vm delete refused
# while the copy reads one of the VM's images; delete refusals
# (no --yes, children, a booted copy) and deletes that free exactly the images nothing needs; an
# offline snapshot of the shut-off VM; a held lock; a snapshot and a revert asked of the host that
# does not run the VM, refused because QEMU's image lock shows the image is written.
# Usage: vm_snapshot_real.sh BUILD_DIR EVOSCTL. Needs root (namespaces, libvirtd).
set -uo pipefail
build=$(cd "$1" && pwd)
evosctl=$(readlink -f "$2")
here=$(cd "$(dirname "$0")/../.." && pwd)
prefix=${EVOS_TEST_PREFIX:-hs$(printf '%03d' $((RANDOM % 1000)))}
base=${EVOS_TEST_BASE:-/tmp/evos-$prefix}
guest=$build/guest-cache
storage=$base/storage
dom=hs1 copy=hs1b
dir=$storage/$dom
export EVOS_TEST_PREFIX=$prefix EVOS_TEST_BASE=$base
hosts() { "$here/tests/support/virt-hosts.sh" "$@"; }
cleanup() { hosts down >/dev/null 2>&1; rm -rf "$base"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
die() { echo "FAIL: $*"; echo "vm_snapshot_real: $passes passed, $((fails+1)) failed"; exit 1; }
# Never `cmd | grep -q` here: with pipefail, grep's early exit can fail the pipeline (SIGPIPE).
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (namespaces, libvirtd)"; exit 77; }

"$here/tests/support/build-guest.sh" "$guest" || die "cannot build the test guest"
mkdir -p "$dir" "$base/view"
hosts up || die "the libvirt hosts did not come up"
hosts domain-xml "$dom" "$dir" "$guest" "$dir/$dom.xml" 128 || die "cannot write the domain XML"
uri1=$(hosts uri 1) uri2=$(hosts uri 2)
E() { "$evosctl" "$@"; }
S() { local uri=$1; shift; E -c "$uri" vm snapshot "$@" --storage "$storage"; }
# counter FILE: the guest's counter in an image (through its backing chain), read while it runs
counter() { ln -sfn "$1" "$base/view/c.qcow2"; hosts counter "$base/view" c; }
# start_counter LOG MARK: the count the guest found on its disk at its first boot after MARK
start_counter() {
  local n=""
  for _ in $(seq 1 120); do
    n=$(tail -c +$(($2 + 1)) "$1" 2>/dev/null | grep -ao 'EVOS-DISK present start_counter=[0-9]*' | head -1 | sed 's/.*=//')
    [ -n "$n" ] && break
    sleep 0.5
  done
  echo "$n"
}
current_file() { S "$uri1" list "$dom" --json | json 'd["current"]["disks"]["vda"]'; }

hosts virsh 1 define "$dir/$dom.xml" >/dev/null || die "cannot define $dom"
mark=$(hosts serial-mark "$dir" "$dom")
hosts virsh 1 start "$dom" >/dev/null || die "cannot start $dom"
first=$(hosts wait-boot "$dir" "$dom" "$mark" 60) || die "the guest did not boot and tick"
hosts wait-tick "$dir" "$dom" $((first + 2)) 30 "$mark" >/dev/null || die "the guest stopped counting"

# --- a live snapshot on host 1 ---
out=$(S "$uri1" create "$dom" s1 --json 2>"$base/err") || die "live snapshot failed: $(cat "$base/err")"
[ "$(json 'd["consistency"]' <<<"$out")" = crash-consistent ] && pass "a live snapshot without a guest agent is crash-consistent" \
  || fail "consistency: $out"
[ "$(json 'd["place"]["running"]' <<<"$out")" = True ] && pass "it was taken live" || fail "place: $out"
overlay1=$(json 'd["overlays"][0]' <<<"$out")
[ "$overlay1" = "$dir/snapshots/$dom-vda.1.qcow2" ] && [ -s "$overlay1" ] && pass "the VM now writes the new overlay $overlay1" || fail "overlay: $out"
grep -q "$overlay1" "$dir/$dom.xml" && pass "the definition file points at it" || fail "definition: $(grep source "$dir/$dom.xml")"
grep -q "$overlay1" <<<"$(hosts virsh 1 domblklist "$dom")" && pass "so does the running domain" || fail "domblklist: $(hosts virsh 1 domblklist "$dom")"
[ -z "$(hosts virsh 1 snapshot-list "$dom" --name 2>&1 | tr -d '[:space:]')" ] && pass "libvirt holds no snapshot metadata" \
  || fail "libvirt lists snapshots: $(hosts virsh 1 snapshot-list "$dom" --name 2>&1)"
snapval=$(counter "$dir/$dom.qcow2")
now=$(counter "$overlay1")
hosts wait-tick "$dir" "$dom" $((now + 3)) 30 "$mark" >/dev/null || die "the guest stopped counting after the snapshot"
[ "$(counter "$dir/$dom.qcow2")" = "$snapval" ] && [ "$(counter "$overlay1")" -gt "$snapval" ] &&
  pass "the snapshot's image stays at $snapval while the VM counts on ($(counter "$overlay1"))" || fail "snapshot image changed or VM stalled"
out=$(S "$uri1" create "$dom" s1 2>&1) && grep -q "already exists" <<<"$out" && pass "creating it again: already exists" || fail "again: $out"

# --- boot the snapshot as a new VM on host 2 while the original runs on host 1 ---
out=$(S "$uri1" boot "$dom" s1 --as "$copy" --hypervisor "$uri2" --json 2>"$base/err") || die "snapshot boot failed: $(cat "$base/err")"
pass "snapshot s1 booted as $copy on host 2"
clog=$storage/$copy/$copy.serial-0.log
n=$(start_counter "$clog" 0)
[ "$n" = "$snapval" ] && pass "the copy starts from the snapshot's count ($n)" || fail "the copy's start counter '$n', the snapshot's $snapval"
ticked=0
for _ in $(seq 1 120); do grep -aq 'EVOS-TICK' "$clog" 2>/dev/null && { ticked=1; break; }; sleep 0.5; done
[ $ticked = 1 ] && pass "the copy counts" || fail "the copy does not tick within 60 s"
orig=$(counter "$(current_file)")
[ "$orig" -gt "$snapval" ] && [ "$(hosts virsh 1 domstate "$dom" | head -1)" = running ] &&
  pass "the original still runs on host 1 and counts on ($orig)" || fail "original: $orig, $(hosts virsh 1 domstate "$dom")"
[ "$(hosts virsh 2 domuuid "$copy")" != "$(hosts virsh 1 domuuid "$dom")" ] && pass "the copy has its own UUID" || fail "same UUID"
out=$(S "$uri1" boot "$dom" s1 --as "$copy" --hypervisor "$uri2" 2>&1) && grep -q "already booted" <<<"$out" &&
  pass "booting it again: already booted" || fail "boot again: $out"

# --- a full clone of the snapshot's state while the original runs ---
fclone=${dom}f
out=$(E -c "$uri1" vm clone "$dom" "$fclone" --from-snapshot s1 --storage "$storage" --json 2>&1) &&
  [ "$(json 'd["snapshot"]' <<<"$out")" = s1 ] && pass "vm clone --from-snapshot s1 while $dom runs" || fail "clone --from-snapshot: $out"
fdisk=$(json 'd["disks"][0]["file"]' <<<"$out" 2>/dev/null)
[ -n "$fdisk" ] && [ "$(counter "$fdisk")" = "$snapval" ] && ! grep -q "backing file" <<<"$(qemu-img info -U "$fdisk" 2>&1)" &&
  pass "the clone's disk stands alone and holds the snapshot's count ($snapval)" || fail "clone disk $fdisk: counter $(counter "$fdisk"), snapshot $snapval"
out=$(E -c "$uri1" vm clone "$dom" "${dom}g" --from-snapshot s1 --linked --storage "$storage" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "vm snapshot boot" <<<"$out" && [ ! -e "$storage/${dom}g" ] && pass "a linked clone of a snapshot is refused" ||
  fail "linked --from-snapshot: rc $rc $out"
out=$(E -c "$uri1" vm clone "$dom" "${dom}g" --from-snapshot nosuch --storage "$storage" 2>&1); rc=$?
[ $rc = 3 ] && [ ! -e "$storage/${dom}g" ] && pass "an unknown snapshot: exit 3" || fail "--from-snapshot nosuch: rc $rc $out"
rm -rf "${storage:?}/$fclone"

# --- asked on the wrong host: host 2 does not run the VM, but the image lock shows QEMU writes it ---
cur=$(current_file)
out=$(S "$uri2" create "$dom" wrong 2>&1); rc=$?
[ $rc != 0 ] && grep -q "in use by a running QEMU" <<<"$out" && [ "$(current_file)" = "$cur" ] &&
  pass "a snapshot asked of host 2, where the VM does not run, is refused: the image is in use" || fail "wrong host create: rc $rc $out"
out=$(S "$uri2" revert "$dom" s1 --yes 2>&1); rc=$?
[ $rc != 0 ] && grep -q "in use by a running QEMU" <<<"$out" && [ -e "$cur" ] && [ "$(hosts virsh 1 domstate "$dom" | head -1)" = running ] &&
  pass "so is a revert there; the VM runs on, on its image" || fail "wrong host revert: rc $rc $out"

# --- live migration with snapshots: to host 2, a snapshot there, and back ---
hosts in-net 1 virsh -c "$uri1" migrate --live --p2p --persistent --undefinesource --unsafe "$dom" qemu+tcp://198.19.0.2/system \
  >"$base/err" 2>&1 && pass "live migration to host 2 with a snapshot" || die "migration refused: $(cat "$base/err")"
before=$(counter "$(current_file)")
hosts wait-tick "$dir" "$dom" $((before + 2)) 30 "$mark" >/dev/null && pass "the VM counts on, on host 2" || fail "no ticks on host 2"
out=$(S "$uri2" create "$dom" s2 --json 2>"$base/err") || die "snapshot on host 2 failed: $(cat "$base/err")"
[ "$(json 'd["consistency"]' <<<"$out")" = crash-consistent ] && pass "a live snapshot on host 2" || fail "s2: $out"
overlay2=$(json 'd["overlays"][0]' <<<"$out")
hosts in-net 2 virsh -c "$uri2" migrate --live --p2p --persistent --undefinesource --unsafe "$dom" qemu+tcp://198.19.0.1/system \
  >"$base/err" 2>&1 && pass "and back to host 1 with two snapshots" || die "migration back refused: $(cat "$base/err")"
l1=$(S "$uri1" list "$dom" --json) l2=$(S "$uri2" list "$dom" --json)
[ "$l1" = "$l2" ] && [ "$(json '[s["name"] for s in d["snapshots"]]' <<<"$l1")" = "['s1', 's2']" ] &&
  [ "$(json 'd["snapshots"][1]["parent"]' <<<"$l1")" = s1 ] && pass "both hosts list s1 and its child s2" || fail "lists: $l1 / $l2"
grep -q "s2 .*<- current state" <<<"$(S "$uri1" list "$dom")" && pass "the text list marks what the current state descends from" || fail "list text"

# --- revert the running original to s1 ---
out=$(S "$uri1" revert "$dom" s1 2>&1) && fail "a revert without --yes went ahead" || { [ $? = 2 ] && pass "revert needs --yes (exit 2)" || fail "revert without --yes: $out"; }
mark=$(hosts serial-mark "$dir" "$dom")
out=$(S "$uri1" revert "$dom" s1 --yes --json 2>"$base/err") || die "revert failed: $(cat "$base/err")"
[ "$(json 'd["restarted"]' <<<"$out")" = True ] && pass "the running VM was reverted and restarted" || fail "revert: $out"
n=$(start_counter "$dir/$dom.serial.log" "$mark")
[ "$n" = "$snapval" ] && pass "it boots again from the snapshot's count ($n)" || fail "after the revert the guest found '$n', the snapshot has $snapval"
[ ! -e "$overlay2" ] && pass "the discarded state's overlay was removed" || fail "$overlay2 is still there"
[ -e "$overlay1" ] && pass "s2's image stays" || fail "$overlay1 (s2's image) was removed"
grep -q "$(current_file)" <<<"$(hosts virsh 1 domblklist "$dom")" && pass "the domain runs on the new overlay" || fail "domblklist after revert"

# --- delete: refusals, then what may go ---
out=$(S "$uri1" delete "$dom" s2 2>&1); rc=$?
[ $rc = 2 ] && grep -q -- "--yes" <<<"$out" && pass "delete needs --yes" || fail "delete without --yes: rc $rc $out"
out=$(S "$uri1" delete "$dom" s1 --yes 2>&1); rc=$?
[ $rc = 2 ] && grep -q "child snapshots (s2)" <<<"$out" && pass "a snapshot with children is refused: ${out##*evosctl: }" || fail "delete s1: rc $rc $out"
out=$(S "$uri1" delete "$dom" s9 --yes 2>&1); rc=$?
[ $rc = 3 ] && pass "an unknown snapshot: exit 3" || fail "delete s9: rc $rc $out"
out=$(S "$uri1" delete "$dom" s2 --yes --json 2>&1) && [ "$(json 'd["removed"]' <<<"$out")" = "['$overlay1']" ] && [ ! -e "$overlay1" ] &&
  pass "deleting the leaf s2 frees its image" || fail "delete s2: $out"
out=$(S "$uri1" delete "$dom" s1 --yes 2>&1); rc=$?
[ $rc = 2 ] && grep -q "VM '$copy' was booted from snapshot 's1'" <<<"$out" && pass "a snapshot a booted copy stands on is refused" \
  || fail "delete s1 with copy: rc $rc $out"
# Deleting the VM would remove the snapshot image the copy's disk reads as its backing file.
hosts virsh 1 destroy "$dom" >/dev/null 2>&1
out=$(E -c "$uri1" vm delete "$dom" --yes --no-cluster --storage "$storage" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "backing files of other images" <<<"$out" && [ -f "$dir/$dom.xml" ] &&
  pass "vm delete is refused while a booted copy reads one of its images: ${out##*evosctl: }" || fail "vm delete under the copy: rc $rc $out"
hosts virsh 1 start "$dom" >/dev/null || fail "cannot start $dom again"
hosts virsh 2 destroy "$copy" >/dev/null 2>&1; hosts virsh 2 undefine "$copy" >/dev/null 2>&1; rm -rf "${storage:?}/$copy"
out=$(S "$uri1" delete "$dom" s1 --yes --json 2>&1) && [ "$(json 'd["forgotten_copies"]' <<<"$out")" = "['$copy']" ] &&
  [ "$(json 'd["kept"]' <<<"$out")" = "['$dir/$dom.qcow2']" ] && [ -e "$dir/$dom.qcow2" ] &&
  pass "with the copy gone s1 goes; its image stays under the current disk" || fail "delete s1: $out"
[ "$(S "$uri1" list "$dom" --json | json 'len(d["snapshots"])')" = 0 ] && pass "no snapshots are left" || fail "list after deletes"

# --- offline: a snapshot of the shut-off VM, which then boots from it ---
hosts virsh 1 destroy "$dom" >/dev/null
out=$(S "$uri1" create "$dom" s3 --json 2>"$base/err") || die "offline snapshot failed: $(cat "$base/err")"
[ "$(json 'd["consistency"]' <<<"$out")" = offline ] && pass "a shut-off VM's snapshot is offline" || fail "s3: $out"
cur=$(json 'd["overlays"][0]' <<<"$out")
grep -q "backing file: " <<<"$(qemu-img info "$cur" 2>/dev/null)" && pass "made by qemu-img on the image" || fail "qemu-img info $cur"
grep -q "$cur" <<<"$(hosts virsh 1 dumpxml --inactive "$dom")" && pass "the defined domain was redefined on the new overlay" || fail "dumpxml after offline snapshot"
off=$(counter "$cur")
mark=$(hosts serial-mark "$dir" "$dom")
hosts virsh 1 start "$dom" >/dev/null || fail "cannot start $dom after the offline snapshot"
n=$(start_counter "$dir/$dom.serial.log" "$mark")
[ "$n" = "$off" ] && pass "it boots on the new overlay with its count ($n)" || fail "start counter '$n', image $off"

# --- a held lock ---
echo "evosctl pid 1 on elsewhere since then" > "$dir/snapshots/lock"
out=$(S "$uri1" create "$dom" s4 2>&1) && fail "a snapshot despite a held lock" ||
  { grep -q "being changed by another command" <<<"$out" && pass "a held lock is refused and named: ${out##*evosctl: }" || fail "lock: $out"; }
rm -f "$dir/snapshots/lock"
hosts virsh 1 destroy "$dom" >/dev/null 2>&1

echo "vm_snapshot_real: $passes passed, $fails failed"
[ "$fails" = 0 ]
