#!/bin/bash
# evosctl backup of a running VM on real libvirtd + QEMU (TCG) hosts (tests/support/virt-hosts.sh),
# the guest counting on its disk: a live full backup, an incremental that reads only the chunk the
# guest wrote (QEMU's dirty bitmap over NBD), an incremental on the other host after a live
# migration (the checkpoint redefined there), a full read after a restart, an offline backup of the
# shut-off VM through qemu-nbd that restores byte for byte (cmp against qemu-img convert), a
# mode-stop backup (the guest shut down by ACPI, read offline with its last tick, started again;
# a guest that ignores the request left running without a backup), a
# restore as a new VM on the other host that boots with the counter of the backup's moment, and a
# store that verifies after gc.
# A Pacemaker migration (the VM agent's migrate_to) during a backup waits for it, then ends it: the
# backup fails cleanly, the VM migrates, and the next backup is incremental again.
# Usage: backup_vm_real.sh BUILD_DIR EVOSCTL VM_AGENT. Needs root (namespaces, libvirtd).
set -uo pipefail
build=$(cd "$1" && pwd)
evosctl=$(readlink -f "$2")
agent=$(readlink -f "$3")
here=$(cd "$(dirname "$0")/../.." && pwd)
prefix=${EVOS_TEST_PREFIX:-k$(printf '%04d' $((RANDOM % 10000)))}
base=${EVOS_TEST_BASE:-/tmp/evos-$prefix}
guest=$build/guest-cache
shared=$base/shared
dom=evb1
export EVOS_TEST_PREFIX=$prefix EVOS_TEST_BASE=$base
hosts() { "$here/tests/support/virt-hosts.sh" "$@"; }
cleanup() { hosts down >/dev/null 2>&1; rm -rf "$base"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
die() { echo "FAIL: $*"; echo "backup_vm_real: $passes passed, $((fails+1)) failed"; exit 1; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

"$here/tests/support/build-guest.sh" "$guest" || die "cannot build the test guest"
mkdir -p "$shared" "$base/scratch" "$base/restored"
store=$base/store
hosts up || die "the libvirt hosts did not come up"
hosts domain-xml "$dom" "$shared" "$guest" "$shared/$dom.xml" 128 || die "cannot write the domain XML"
uri1=$(hosts uri 1) uri2=$(hosts uri 2)
E() { "$evosctl" "$@"; }
# backup N: a backup on host N, its --json in $out (a failure ends the test: nothing after it means anything)
backup() {
  local n=$1; shift
  local uri; uri=$(hosts uri "$n")
  out=$(E -c "$uri" backup create "$dom" --store "$store" --scratch-dir "$base/scratch" --json "$@" 2>"$base/err") ||
    die "backup on host $n failed: $(cat "$base/err")"
}
field() { json "$1" <<<"$out"; }

hosts virsh 1 define "$shared/$dom.xml" >/dev/null || die "cannot define $dom"
mark=$(hosts serial-mark "$shared" "$dom")
hosts virsh 1 start "$dom" >/dev/null || die "cannot start $dom"
hosts wait-boot "$shared" "$dom" "$mark" 60 >/dev/null || die "the guest did not boot and tick"
E backup store init --store "$store" >/dev/null || die "store init"

# --- a live full backup, then an incremental ---
backup 1
first=$(field 'd["id"]')
[ "$(field 'd["mode"]')" = snapshot ] && pass "live backup (mode snapshot)" || fail "mode: $out"
[ "$(field 'd["consistency"]')" = crash-consistent ] && pass "no guest agent: said to be crash-consistent" || fail "consistency: $out"
[ "$(field 'd["disks"][0]["method"]')" = full ] && pass "the first backup reads every block" || fail "first method: $out"
c=$(hosts counter "$shared" "$dom")
hosts wait-tick "$shared" "$dom" $((c + 2)) 30 "$mark" >/dev/null || die "the guest stopped counting"
backup 1
[ "$(field 'd["disks"][0]["method"]')" = dirty-bitmap ] && pass "the second backup reads through the dirty bitmap" || fail "second: $out"
read_bytes=$(field 'd["disks"][0]["bytes_read"]')
[ "$read_bytes" -le $((4 << 20)) ] && pass "it read only the chunk the guest wrote ($read_bytes bytes of 64 MiB)" || fail "read $read_bytes bytes"
grep -q "dirty bitmap since evos-" <<<"$(field 'd["plan"]')" && pass "and says so" || fail "plan: $out"

# --- live migration 1 -> 2, then an incremental on host 2 ---
hosts in-net 1 virsh -c "$uri1" migrate --live --p2p --persistent --undefinesource --unsafe "$dom" qemu+tcp://198.19.0.2/system \
  >/dev/null 2>&1 || die "live migration failed"
c_before=$(hosts counter "$shared" "$dom")
backup 2
c_after=$(hosts counter "$shared" "$dom")
migrated=$(field 'd["id"]')
[ "$(field 'd["disks"][0]["method"]')" = dirty-bitmap ] && pass "after a live migration the backup on host 2 is still incremental" \
  || fail "after migration: $out"
[ "$(field 'len(d["warnings"])')" = 0 ] && pass "the checkpoint was redefined on host 2 without complaint" || fail "warnings: $out"
cps=$(hosts virsh 2 checkpoint-list "$dom" --name 2>&1 | grep -c '^evos-')
[ "$cps" = 1 ] && pass "the VM carries one checkpoint" || fail "$cps checkpoints on host 2"

# --- restore as a new VM on host 1 while the original runs on host 2 ---
out=$(E -c "$uri1" backup restore --store "$store" "$migrated" --as evb1copy --disk-dir "$base/restored" --start --json 2>"$base/err") \
  || die "restore as a new VM failed: $(cat "$base/err")"
pass "restored $migrated as evb1copy on host 1 and started it"
log=$base/restored/evb1copy.serial-0.log
n=""
for _ in $(seq 1 120); do
  n=$(grep -ao 'EVOS-DISK present start_counter=[0-9]*' "$log" 2>/dev/null | head -1 | sed 's/.*=//')
  [ -n "$n" ] && break
  sleep 0.5
done
if [ -n "$n" ] && [ "$n" -ge "$c_before" ] && [ "$n" -le "$c_after" ]; then
  pass "the copy boots from the backup's moment (counter $n, the original's was $c_before..$c_after around the backup)"
else
  fail "the copy's start counter '$n' is not within $c_before..$c_after"; tail -5 "$log" 2>/dev/null | sed 's/^/    /'
fi
# Its first tick comes after EVOS-DISK (a disk write with fsync first, on TCG): wait for it.
ticked=0
for _ in $(seq 1 120); do grep -aq 'EVOS-TICK' "$log" 2>/dev/null && { ticked=1; break; }; sleep 0.5; done
[ $ticked = 1 ] && pass "the copy counts in its own log" || { fail "the copy does not tick within 60 s"; tail -5 "$log" 2>/dev/null | sed 's/^/    /'; }
uuid_copy=$(hosts virsh 1 domuuid evb1copy 2>/dev/null) uuid_orig=$(hosts virsh 2 domuuid "$dom" 2>/dev/null)
[ -n "$uuid_copy" ] && [ "$uuid_copy" != "$uuid_orig" ] && pass "the copy has a UUID of its own" || fail "uuids: $uuid_copy $uuid_orig"
out=$(E -c "$uri1" backup restore --store "$store" "$migrated" --as evb1copy --disk-dir "$base/restored" 2>&1) \
  && fail "a second restore over an existing VM was allowed" || pass "a restore over an existing VM is refused"
hosts virsh 1 destroy evb1copy >/dev/null 2>&1

# --- a Pacemaker migration while a backup runs: it waits, then ends the backup ---
ra() {  # ra N ACTION [VAR=VALUE...]: the VM agent as pacemaker-execd runs it, on host N
  local n=$1 action=$2; shift 2
  hosts in-net "$n" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin OCF_ROOT=/usr/lib/ocf HA_RSCTMP="$base/rsc$n" \
    OCF_RESOURCE_INSTANCE=$dom OCF_RESKEY_config="$shared/$dom.xml" OCF_RESKEY_hypervisor="$(hosts uri "$n")" \
    OCF_RESKEY_migration_unsafe=true "$@" "$agent" "$action"
}
mkdir -p "$base/rsc1" "$base/rsc2" "$base/held"
before=$(E backup list --store "$store" --vm "$dom" --json 2>/dev/null | json 'len(d)')
# A backup job that stays open until ended (pull mode): what a long evosctl backup holds.
cat > "$base/held.xml" <<XML
<domainbackup mode='pull'><server transport='unix' socket='$base/held/nbd.sock'/>
  <disks><disk name='vda' backup='yes' type='file'><scratch file='$base/held/vda.qcow2'/></disk></disks></domainbackup>
XML
begun=$(hosts virsh 2 backup-begin "$dom" --backupxml "$base/held.xml" 2>&1) || fail "cannot begin a held backup job: $begun"
jobinfo=$(hosts virsh 2 domjobinfo "$dom" 2>&1)
if grep -q 'Operation: *Backup' <<<"$jobinfo"; then
  pass "a backup job is running on host 2"
  if out=$(E -c "$uri2" backup create "$dom" --store "$store" --scratch-dir "$base/scratch" 2>&1); then
    fail "a second backup job was allowed"
  elif grep -q "already runs" <<<"$out"; then
    pass "evosctl refuses a backup beside a running backup job: ${out##*evosctl: }"
  else
    fail "refusal: $out"
  fi
  t0=$(date +%s%N)
  mig=$(ra 2 migrate_to OCF_RESKEY_CRM_meta_migrate_target=198.19.0.1 OCF_RESKEY_CRM_meta_timeout=20000 2>&1); rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ $rc = 0 ] && pass "migrate_to during the backup succeeds ($ms ms with a 20 s timeout; libvirt alone would wait 30 s and fail)" ||
    { fail "migrate_to: rc $rc"; echo "$mig" | tail -5 | sed 's/^/    /'; }
  grep -q "waiting up to" <<<"$mig" && grep -q "ending it so the migration can go ahead" <<<"$mig" &&
    pass "it waited for the backup, then ended it, and said so" || fail "no word of the backup: $mig"
  [ "$ms" -ge 9000 ] && pass "the backup had its half of the time first" || fail "migrate_to took only $ms ms"
  [ "$(hosts virsh 1 domstate "$dom" 2>/dev/null | head -1)" = running ] && pass "the VM runs on host 1" || fail "the VM does not run on host 1"
else
  # what virsh said, to find out why (seen once, on a machine with load 9; not reproduced)
  fail "no backup job to migrate through: backup-begin said '$begun'; domjobinfo: $(tr '\n' ' ' <<<"$jobinfo")"
fi
after=$(E backup list --store "$store" --vm "$dom" --json 2>/dev/null | json 'len(d)')
[ "$after" = "$before" ] && pass "no backup was added meanwhile" || fail "backups: $before -> $after"
backup 1
[ "$(field 'd["disks"][0]["method"]')" = dirty-bitmap ] && pass "the next backup, on host 1, is incremental again" || fail "after the ended backup: $out"

# --- a restart: the next backup reads everything ---
hosts virsh 1 destroy "$dom" >/dev/null; hosts virsh 1 start "$dom" >/dev/null
backup 1
[ "$(field 'd["disks"][0]["method"]')" = full ] && pass "after a restart the backup reads every block" || fail "after restart: $out"
grep -q "started since" <<<"$(field 'd["plan"]')" && pass "and says why" || fail "plan: $out"

# --- shut off: an offline backup that restores byte for byte ---
hosts virsh 1 destroy "$dom" >/dev/null
backup 1
offline=$(field 'd["id"]')
[ "$(field 'd["mode"]')" = stop ] && [ "$(field 'd["consistency"]')" = offline ] && pass "mode stop: an offline backup of a running VM" \
  || fail "mode stop: $out"
E backup restore --store "$store" "$offline" --to "$base/offline.raw" >/dev/null 2>&1 || fail "restore of the offline backup"
qemu-img convert -f qcow2 -O raw "$shared/$dom.qcow2" "$base/expected.raw" || die "qemu-img convert"
cmp -s "$base/expected.raw" "$base/offline.raw" && pass "the offline backup restores byte-identical to the image's content" \
  || fail "the restored disk differs from qemu-img convert's"
out=$(E -c "$uri1" backup create "$dom" --store "$store" --scratch-dir "$base/scratch" --only-if-running 2>&1) \
  && grep -q "skipped" <<<"$out" && pass "--only-if-running skips a VM that is not running here" || fail "only-if-running: $out"

# --- mode stop: shut down (a guest that answers ACPI), read offline, started again ---
# (the harness's domains have no ACPI: it is switched on here, with the guest's power-button watcher)
sed -e 's|<cmdline>|<cmdline>evos_acpi=1 |' -e 's|</os>|</os><features><acpi/></features>|' "$shared/$dom.xml" >"$base/acpi.xml"
hosts virsh 1 define "$base/acpi.xml" >/dev/null || die "cannot redefine $dom with evos_acpi=1"
mark=$(hosts serial-mark "$shared" "$dom")
hosts virsh 1 start "$dom" >/dev/null || die "cannot start $dom"
hosts wait-boot "$shared" "$dom" "$mark" 60 >/dev/null || die "the guest did not boot and tick"
backup 1 --mode stop --stop-timeout 60s
stopped_id=$(field 'd["id"]')
[ "$(field 'd["mode"]')" = stop ] && [ "$(field 'd["consistency"]')" = offline ] && pass "mode stop: an offline backup of a running VM"   || fail "mode stop: $out"
grep -q "through libvirt" <<<"$(field 'd["plan"]')" && pass "outside a cluster it was stopped through libvirt" || fail "plan: $out"
[ "$(hosts virsh 1 domstate "$dom" 2>/dev/null | head -1)" = running ] && pass "and runs again after the backup" || fail "not running after mode stop"
for _ in $(seq 60); do [ "$(hosts boots "$shared" "$dom" "$mark")" -ge 2 ] && break; sleep 1; done
[ "$(hosts boots "$shared" "$dom" "$mark")" = 2 ] && pass "it shut down and booted again" || fail "boots after mark: $(hosts boots "$shared" "$dom" "$mark")"
# The backup holds the counter at the shutdown: the boot's last printed tick (written to disk
# before it is printed), or the next one if the power went between its write and its line.
last=$(tail -c +"$((mark + 1))" "$shared/$dom.serial.log" |
  awk '/^EVOS-INIT-START/ { if (++boot == 2) exit } /^EVOS-TICK [0-9]+ / { n = $2 } END { print n }')
E backup restore --store "$store" "$stopped_id" --to "$base/stopped.raw" >/dev/null 2>&1 || fail "restore of the stop-mode backup"
got=$(head -c 20 "$base/stopped.raw" | tr -dc 0-9)
if [ -n "$last" ] && [ -n "$got" ] && { [ "$got" = "$last" ] || [ "$got" = $((last + 1)) ]; }; then
  pass "the stop-mode backup has the counter at the shutdown ($got; last tick printed $last)"
else
  fail "counter in the backup '$got', last tick of that boot '$last'"
fi
# a guest that ignores the request: given back running, no backup
hosts virsh 1 destroy "$dom" >/dev/null
hosts virsh 1 define "$shared/$dom.xml" >/dev/null || die "cannot redefine $dom"
hosts virsh 1 start "$dom" >/dev/null
before=$(E backup list --store "$store" --vm "$dom" --json 2>/dev/null | json 'len(d)')
if out=$(E -c "$uri1" backup create "$dom" --store "$store" --scratch-dir "$base/scratch" --mode stop --stop-timeout 3s 2>&1); then
  fail "mode stop succeeded on a guest that ignores shutdown requests: $out"
else
  grep -q "left running" <<<"$out" && pass "a guest that does not shut down in time: ${out##*evosctl: }" || fail "message: $out"
fi
[ "$(hosts virsh 1 domstate "$dom" 2>/dev/null | head -1)" = running ] && pass "it is left running" || fail "not running"
after=$(E backup list --store "$store" --vm "$dom" --json 2>/dev/null | json 'len(d)')
[ "$after" = "$before" ] && pass "and no backup was added" || fail "backups: $before -> $after"
hosts virsh 1 destroy "$dom" >/dev/null

# --- the store ---
out=$(E backup verify --store "$store" --json 2>/dev/null) && pass "the store verifies" || fail "verify: $out"
[ "$(json 'len(d["checked"])' <<<"$out")" = 7 ] && pass "seven backups checked" || fail "verify: $out"
E backup gc --store "$store" --safety-margin 0s >/dev/null 2>&1 || fail "gc"
E backup verify --store "$store" >/dev/null 2>&1 && pass "and still after gc" || fail "verify after gc"
E backup restore --store "$store" "$first" --to "$base/first.raw" >/dev/null 2>&1 && pass "the first backup still restores" || fail "restore first"

echo "backup_vm_real: $passes passed, $fails failed"
[ "$fails" = 0 ]
