#!/bin/bash
# evosctl vm clone / vm template on a real XFS with reflink=1 (an image file on a loop device made
# here) and real libvirtd + QEMU (TCG) hosts (tests/support/virt-hosts.sh), with the tiny counting
# guest (tests/support/build-guest.sh): a running source is refused; the shut-off VM becomes a
# template (read-only disks, marked); two linked clones (qcow2 overlays) and one reflink clone
# are made from it, take (almost) no space and share blocks (statvfs, FIEMAP), and all three boot
# from the template's data (its counter) and tick in logs of their own; bad requests are refused
# with nothing left behind.
# Usage: vm_clone_real.sh BUILD_DIR EVOSCTL. Needs root (loop device, mount, namespaces).
set -uo pipefail
build=$(cd "$1" && pwd)
evosctl=$(readlink -f "$2")
here=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: vm_clone_real needs root (loop device, mount, libvirtd in namespaces)"; exit 77; }
for t in mkfs.xfs losetup qemu-img qemu-io filefrag python3; do
  command -v "$t" >/dev/null || { echo "FAIL: $t is missing (scripts/install-deps.sh)"; exit 1; }
done
prefix=${EVOS_TEST_PREFIX:-hc$(printf '%04d' $((RANDOM % 10000)))}
base=${EVOS_TEST_BASE:-/tmp/evos-$prefix}
guest=$build/guest-cache
export EVOS_TEST_PREFIX=$prefix EVOS_TEST_BASE=$base
hosts() { "$here/tests/support/virt-hosts.sh" "$@"; }
dev=""
cleanup() {
  hosts down >/dev/null 2>&1
  # Only what this test made: its mount, the loop device losetup gave it, its directory.
  mountpoint -q "$base/small" 2>/dev/null && umount "$base/small"
  mountpoint -q "$base/xfs" 2>/dev/null && umount "$base/xfs"
  [ -n "$dev" ] && losetup -d "$dev"
  rm -rf "$base"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
die() { echo "FAIL: $*"; echo "vm_clone_real: $passes passed, $((fails+1)) failed"; exit 1; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
used() { sync; stat -f -c '%b %f' "$storage" | awk '{print $1 - $2}'; }  # used blocks of the file system

"$here/tests/support/build-guest.sh" "$guest" || die "cannot build the test guest"
mkdir -p "$base/xfs"
truncate -s 2G "$base/xfs.img"
mkfs.xfs -q -m reflink=1 "$base/xfs.img" || die "mkfs.xfs -m reflink=1"
dev=$(losetup --find --show "$base/xfs.img") || die "losetup"
mount "$dev" "$base/xfs" || die "mount $dev"
storage=$base/xfs/vms
mkdir -p "$storage/tpl"
E() { "$evosctl" "$@"; }
hosts up || die "the libvirt hosts did not come up"

# The source VM in its vm::layout directory: tpl/tpl.xml, tpl/tpl-vda.qcow2 with 24 MiB of data.
hosts domain-xml tpl "$base/gen" "$guest" "$base/gen.xml" 96 || die "cannot write the domain XML"
mv "$base/gen/tpl.qcow2" "$storage/tpl/tpl-vda.qcow2"
sed -e "s|$base/gen/tpl.qcow2|$storage/tpl/tpl-vda.qcow2|" -e "s|$base/gen/tpl.serial.log|$storage/tpl/tpl.serial.log|" \
  "$base/gen.xml" > "$storage/tpl/tpl.xml"
qemu-io -f qcow2 -c 'write -P 0x5a 8M 24M' "$storage/tpl/tpl-vda.qcow2" >/dev/null || die "qemu-io write"

# --- a running source is refused, and nothing is made ---
hosts virsh 1 define "$storage/tpl/tpl.xml" >/dev/null || die "cannot define tpl"
hosts virsh 1 start tpl >/dev/null || die "cannot start tpl"
for _ in $(seq 1 240); do grep -aq 'EVOS-TICK [3-9]' "$storage/tpl/tpl.serial.log" 2>/dev/null && break; sleep 0.5; done
grep -aq 'EVOS-TICK' "$storage/tpl/tpl.serial.log" && pass "the source VM boots and counts" || die "tpl did not tick"
out=$(E vm clone tpl busy --storage "$storage" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "is in use" <<<"$out" && pass "a clone of a running VM is refused (exit 2): ${out##*evosctl: }" \
  || fail "clone of a running VM: rc $rc: $out"
[ ! -e "$storage/busy" ] && pass "and nothing of it is left" || fail "$storage/busy exists"
out=$(E vm template tpl --storage "$storage" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "is in use" <<<"$out" && pass "a running VM is not made a template" || fail "template of a running VM: rc $rc: $out"
grep -q "evos.dev/xmlns/template" "$storage/tpl/tpl.xml" && fail "the running VM got the mark" || pass "its definition is unchanged"
hosts virsh 1 destroy tpl >/dev/null; hosts virsh 1 undefine tpl >/dev/null
counter=$(qemu-io -r -U -f qcow2 -c 'read -v 0 20' "$storage/tpl/tpl-vda.qcow2" | awk '/^00000000:/ {for (i = 2; i <= 17; i++) if ($i ~ /^3[0-9]$/) printf "%s", substr($i, 2); else break}')
[ -n "$counter" ] && [ "$counter" -gt 0 ] && pass "the source's disk holds counter $counter" || die "no counter on the source's disk"

# --- the template ---
out=$(E vm template tpl --storage "$storage" 2>&1) && pass "tpl is a template: $(head -1 <<<"$out")" || die "vm template: $out"
[ "$(stat -c %a "$storage/tpl/tpl-vda.qcow2")" = 444 ] && pass "its disk is read-only (0444)" || fail "mode $(stat -c %a "$storage/tpl/tpl-vda.qcow2")"
grep -q "https://evos.dev/xmlns/template/1" "$storage/tpl/tpl.xml" && pass "its definition carries the template mark" || fail "no mark"
out=$(E vm template tpl --storage "$storage" --json 2>&1) && [ "$(json 'd["already"]' <<<"$out")" = True ] \
  && pass "vm template again: already a template, exit 0" || fail "second vm template: $out"

# --- two linked clones and a reflink clone ---
tpl_du=$(du -sk "$storage/tpl" | cut -f1)
for c in lc1 lc2; do
  before=$(used)
  out=$(E vm clone tpl $c --linked --storage "$storage" --json 2>&1) || die "linked clone $c: $out"
  after=$(used)
  [ "$(json 'd["disks"][0]["method"]' <<<"$out")" = overlay ] && pass "$c is a linked clone (qcow2 overlay)" || fail "$c: $out"
  backing=$(qemu-img info -U --output=json "$storage/$c/$c-vda.qcow2" | json 'd.get("full-backing-filename", "")')
  [ "$backing" = "$storage/tpl/tpl-vda.qcow2" ] && pass "$c's disk has the template's disk as backing file" || fail "$c backing: '$backing'"
  c_du=$(du -sk "$storage/$c" | cut -f1)
  [ "$c_du" -lt 1024 ] && [ "$tpl_du" -gt 16384 ] && pass "du: $c takes $c_du KiB beside the template's $tpl_du KiB" || fail "du $c $c_du KiB, template $tpl_du KiB"
  [ $((after - before)) -lt 256 ] && pass "$c took $((after - before)) blocks of the file system" || fail "$c took $((after - before)) blocks"
done
before=$(used)
out=$(E vm clone tpl rc1 --storage "$storage" --json 2>&1) || die "reflink clone: $out"
after=$(used)
[ "$(json 'd["disks"][0]["method"]' <<<"$out")" = reflink ] && pass "rc1 is a full clone by reflink: $(json 'd["disks"][0]["why"]' <<<"$out")" || fail "rc1: $out"
rc1=$storage/rc1/rc1-vda.qcow2
# A reflink takes no data blocks; XFS adds a few metadata blocks (its refcount btree).
[ $((after - before)) -lt 32 ] && pass "the reflink clone took $((after - before)) blocks of the file system for $tpl_du KiB of data" \
  || fail "the reflink clone took $((after - before)) blocks"
unshared=$(filefrag -v "$rc1" | awk -F: '$1 ~ /^ *[0-9]+$/ && $0 !~ /shared/ {n++} END {print n + 0}')
shared=$(filefrag -v "$rc1" | awk -F: '$1 ~ /^ *[0-9]+$/ && /shared/ {n++} END {print n + 0}')
[ "$shared" -gt 0 ] && [ "$unshared" = 0 ] && pass "FIEMAP: all $shared extents of rc1's disk are shared with the template" \
  || fail "FIEMAP: $shared shared, $unshared not"
[ "$(qemu-img info -U --output=json "$rc1" | json '"full-backing-filename" in d')" = False ] && pass "rc1's disk stands alone (no backing file)" || fail "rc1 has a backing file"
cmp -s "$storage/tpl/tpl-vda.qcow2" "$rc1" && pass "rc1's disk is the template's, byte for byte" || fail "rc1 differs"
[ "$(stat -c %a "$rc1")" = 644 ] && pass "rc1's disk is writable again (0644)" || fail "rc1 mode $(stat -c %a "$rc1")"

# --- refusals leave nothing ---
out=$(E vm clone rc1 bad --linked --storage "$storage" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "not a template" <<<"$out" && [ ! -e "$storage/bad" ] && pass "a linked clone of a VM that is not a template is refused" || fail "linked from rc1: rc $rc: $out"
out=$(E vm clone tpl lc1 --linked --storage "$storage" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "already exists" <<<"$out" && pass "a clone onto an existing VM: already exists (exit 2)" || fail "existing target: rc $rc: $out"
out=$(E vm clone nosuch x --storage "$storage" 2>&1); rc=$?
[ $rc = 3 ] && [ ! -e "$storage/x" ] && pass "a missing source: exit 3" || fail "missing source: rc $rc: $out"

# --- a clone that fails half-way (the file system fills up on its second disk) leaves nothing ---
small=$base/small
mkdir -p "$small/two" && mount -t tmpfs -o size=40m "hc-small" "$small" && mkdir -p "$small/two" || die "tmpfs"
qemu-img create -q -f qcow2 "$small/two/two-vda.qcow2" 16M && qemu-img create -q -f qcow2 "$small/two/two-vdb.qcow2" 32M || die "qemu-img create"
qemu-io -f qcow2 -c 'write -P 0x11 0 4M' "$small/two/two-vda.qcow2" >/dev/null && qemu-io -f qcow2 -c 'write -P 0x22 0 20M' "$small/two/two-vdb.qcow2" >/dev/null || die "qemu-io"
cat > "$small/two/two.xml" <<XML
<domain type='qemu'><name>two</name><memory unit='MiB'>64</memory><os><type>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$small/two/two-vda.qcow2'/><target dev='vda'/></disk>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$small/two/two-vdb.qcow2'/><target dev='vdb'/></disk>
</devices></domain>
XML
out=$(E vm clone two two-copy --storage "$small" 2>&1); rc=$?
[ $rc != 0 ] && [ ! -e "$small/two-copy" ] && pass "a clone that fails on its second disk (tmpfs full) leaves no directory, disk or definition: ${out##*evosctl: }" \
  || { fail "half-done clone: rc $rc, left: $(ls -R "$small/two-copy" 2>&1)"; }
umount "$small"

# --- all three boot, from the template's data, each in its own log ---
for c in lc1 lc2 rc1; do
  n=1; [ $c = rc1 ] && n=2
  hosts virsh $n define "$storage/$c/$c.xml" >/dev/null && hosts virsh $n start $c >/dev/null || fail "cannot start $c on host $n"
done
for c in lc1 lc2 rc1; do
  log=$storage/$c/$c.serial-0.log
  for _ in $(seq 1 240); do grep -aq 'EVOS-TICK' "$log" 2>/dev/null && break; sleep 0.5; done
  if grep -aq 'EVOS-TICK' "$log" 2>/dev/null; then
    pass "$c boots and ticks in its own log ($log)"
  else
    fail "$c shows no EVOS-TICK within 120 s"; tail -5 "$log" 2>/dev/null | sed 's/^/    /'
  fi
  start=$(grep -ao 'EVOS-DISK present start_counter=[0-9]*' "$log" 2>/dev/null | head -1 | sed 's/.*=//')
  [ "$start" = "$counter" ] && pass "$c started from the template's counter $counter" || fail "$c start counter '$start', template's $counter"
done
u1=$(hosts virsh 1 domuuid lc1 2>/dev/null) u2=$(hosts virsh 1 domuuid lc2 2>/dev/null) u3=$(hosts virsh 2 domuuid rc1 2>/dev/null)
[ -n "$u1" ] && [ -n "$u2" ] && [ -n "$u3" ] && [ "$u1" != "$u2" ] && [ "$u2" != "$u3" ] && [ "$u1" != "$u3" ] \
  && pass "three UUIDs of their own" || fail "uuids: $u1 $u2 $u3"
grep -q "$storage/rc1/" "$storage/rc1/rc1.xml" && ! grep -q "$storage/tpl/" "$storage/rc1/rc1.xml" \
  && pass "rc1's definition names no file of the template" || fail "rc1.xml names template files"
# A full clone of the template while its linked clones run (they only read its disk).
out=$(E vm clone tpl rc2 --storage "$storage" --json 2>&1) && [ "$(json 'd["disks"][0]["method"]' <<<"$out")" = reflink ] \
  && pass "a template is cloned while its linked clones run" || fail "clone of the template with running users: $out"
# The running reflink clone writes its counter: its disk is unshared there, the template unchanged.
c3=$(grep -ao 'EVOS-TICK [0-9]*' "$storage/rc1/rc1.serial-0.log" | tail -1)
cmp -s "$storage/tpl/tpl-vda.qcow2" "$rc1" && fail "rc1 still equals the template after ticking ($c3)" || pass "rc1's writes ($c3) went to its own blocks"
counter_after=$(qemu-io -r -U -f qcow2 -c 'read -v 0 20' "$storage/tpl/tpl-vda.qcow2" | awk '/^00000000:/ {for (i = 2; i <= 17; i++) if ($i ~ /^3[0-9]$/) printf "%s", substr($i, 2); else break}')
[ "$counter_after" = "$counter" ] && pass "the template's disk is unchanged (counter $counter)" || fail "the template's counter is now $counter_after"

# A template started behind evosctl's back (virsh) holds its lock: it is not cloned while it runs.
for c in lc1 lc2; do hosts virsh 1 destroy $c >/dev/null 2>&1; done
hosts virsh 2 destroy rc1 >/dev/null 2>&1
if hosts virsh 1 define "$storage/tpl/tpl.xml" >/dev/null && hosts virsh 1 start tpl >/dev/null; then
  out=$(E vm clone tpl rc3 --storage "$storage" 2>&1); rc=$?
  [ $rc = 2 ] && grep -q "is in use" <<<"$out" && [ ! -e "$storage/rc3" ] && pass "a template that runs is not cloned" \
    || fail "clone of a running template: rc $rc: $out"
  hosts virsh 1 destroy tpl >/dev/null 2>&1
else
  fail "cannot start the template with virsh"
fi

echo "vm_clone_real: $passes passed, $fails failed"
[ "$fails" = 0 ]
