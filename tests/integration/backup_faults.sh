#!/bin/bash
# evosctl backup on a real store directory, and everything that can go wrong with one (issue 13's
# fault list): a flipped byte in a chunk and in a manifest, a truncated and a missing chunk, a
# backup killed with SIGKILL mid-run, gc running while a backup reuses chunks only a forgotten
# backup had, a wrong or missing key, a store from a newer format, a full disk, two backups of one
# name at once. Each must be named (backup and chunk), exit non-zero, and never yield a restore that
# differs from what was backed up: every restore that succeeds is compared byte for byte (cmp).
# Usage: backup_faults.sh EVOSCTL. Needs root (a small tmpfs for the full disk).
set -u
evosctl=$(readlink -f "${1:?usage: backup_faults.sh EVOSCTL}")
[ "$(id -u)" = 0 ] || { echo "FAIL: backup_faults.sh needs root (mount -t tmpfs)"; exit 1; }
work=$(mktemp -d /tmp/evos-backup-faults.XXXXXX)
cleanup() {
  [ -n "${bg:-}" ] && kill -CONT "$bg" 2>/dev/null && wait "$bg" 2>/dev/null
  mountpoint -q "$work/full" && umount "$work/full"
  rm -rf "$work"
}
trap cleanup EXIT
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
# expect CODE WHAT CMD...: runs CMD, checks its exit code, keeps its stdout in $out, its stderr in $err.
expect() {
  local want=$1 what=$2; shift 2
  out=$("$@" 2>"$work/stderr"); local rc=$?
  err=$(cat "$work/stderr")
  if [ "$rc" = "$want" ]; then pass "$what (exit $rc)"; else fail "$what: exit $rc, expected $want: $out $err"; fi
}
contains() { if grep -qF -- "$2" <<<"$out$err"; then pass "$1"; else fail "$1: no '$2' in: $out $err"; fi; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# An image with real data, zeros between and a repeated block (dedup inside one image).
img=$work/disk.img
python3 - "$img" <<'PY'
import os, sys, random
r = random.Random(13)
mib = 1 << 20
with open(sys.argv[1], "wb") as f:
    f.truncate(96 * mib)
    block = bytes(r.getrandbits(8) for _ in range(mib)) * 4   # one 4 MiB chunk, twice below
    for at in (0, 40):
        f.seek(at * mib); f.write(block)
    for at in (8, 20, 60, 88):
        f.seek(at * mib); f.write(os.urandom(3 * mib + 12345))
PY
store=$work/store
# (Background jobs run "$evosctl" itself, so $! is its PID, not a subshell's.)
E() { "$evosctl" "$@"; }

expect 0 "store init" E backup store init --store "$store"
expect 2 "init refuses a store that is not empty" E backup store init --store "$store"
contains "the refusal names the reason" "not empty"
expect 0 "first backup" E backup create --store "$store" --image "$img" --name disk --json
first=$(json 'd["id"]' <<<"$out")
chunks=$(json 'd["disks"][0]["chunks"]' <<<"$out")
zero=$(json 'd["disks"][0]["chunks_zero"]' <<<"$out")
new=$(json 'd["disks"][0]["chunks_new"]' <<<"$out")
[ "$chunks" = 24 ] && pass "24 chunks of 4 MiB" || fail "chunks: $chunks"
read_bytes=$(json 'd["disks"][0]["bytes_read"]' <<<"$out")
[ "$read_bytes" -lt $((40 << 20)) ] && pass "the image's holes are not read ($read_bytes of $((96 << 20)) bytes read)" || fail "read $read_bytes bytes of a sparse image"
# 4 data areas of 3 MiB + the repeated block: zeros skipped, the repeat stored once.
[ "$new" -lt $((chunks - zero)) ] && pass "the repeated chunk is stored once ($new new of $((chunks - zero)) data chunks)" || fail "no dedup: $new new, $zero zero"
expect 0 "second backup of the same image" E backup create --store "$store" --image "$img" --name disk --json
second=$(json 'd["id"]' <<<"$out")
[ "$(json 'd["disks"][0]["bytes_stored"]' <<<"$out")" = 0 ] && pass "the second backup stores nothing new" || fail "second stored bytes: $out"
expect 0 "restore" E backup restore --store "$store" "$first" --to "$work/r1.img"
cmp -s "$img" "$work/r1.img" && pass "restore is byte-identical" || fail "restore differs"
expect 2 "restore refuses to overwrite a file" E backup restore --store "$store" "$first" --to "$work/r1.img"
contains "and says why" "exists"
expect 0 "restore --replace" E backup restore --store "$store" "$second" --to "$work/r1.img" --replace
cmp -s "$img" "$work/r1.img" && pass "replaced restore is byte-identical" || fail "replaced restore differs"
expect 0 "verify a healthy store" E backup verify --store "$store"
verify_record() {  # verify_record WHAT OK DAMAGED: the verify's record for the VM "disk" in the store
  local got
  got=$(json '"%s %s %s" % (d["ok"], d["checked"], ",".join(d["damaged"]))' <"$store/verify/disk.json" 2>&1)
  [ "$got" = "$2 2 $3" ] && pass "$1: the store records it ($got)" || fail "$1: verify record: $got, expected '$2 2 $3'"
}
verify_record "a healthy store" True ""
[ "$(stat -c %a "$store/verify/disk.json")" = 600 ] && pass "the record is root's only" || fail "record mode $(stat -c %a "$store/verify/disk.json")"
expect 0 "list --json" E backup list --store "$store" --json
[ "$(json 'len(d)' <<<"$out")" = 2 ] && pass "two backups listed" || fail "list: $out"

# --- a flipped byte in a chunk ---
data_chunk=$(E backup show --store "$store" "$first" --json 2>/dev/null | json '[c for c in d["disks"][0]["chunk_list"] if c][1]')
cfile=$store/chunks/${data_chunk:0:2}/$data_chunk
cp "$cfile" "$work/chunk.saved"
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=0x01; open(p,'wb').write(b)" "$cfile"
expect 8 "verify finds a flipped byte in a chunk" E backup verify --store "$store"
contains "it names the chunk" "$data_chunk"
contains "and the backups it breaks" "$first"
contains "both of them" "$second"
verify_record "a damaged chunk" False "$(printf '%s\n' "$first" "$second" | sort | paste -sd,)"
expect 1 "restore of a backup with a damaged chunk fails" E backup restore --store "$store" "$first" --to "$work/r2.img"
contains "naming the chunk" "$data_chunk"
[ ! -e "$work/r2.img" ] && ! ls "$work"/.r2.img.* >/dev/null 2>&1 && pass "and leaves no file behind" || fail "a failed restore left a file"
# --- truncated, then missing ---
head -c 100 "$work/chunk.saved" > "$cfile"
expect 8 "verify finds a truncated chunk" E backup verify --store "$store" --json
[ "$(json 'd["damaged_chunks"][0]["chunk"]' <<<"$out")" = "$data_chunk" ] && pass "--json names it" || fail "json: $out"
rm "$cfile"
expect 8 "verify finds a missing chunk" E backup verify --store "$store"
contains "as missing" "missing"
cp "$work/chunk.saved" "$cfile"
expect 0 "verify is clean once the chunk is back" E backup verify --store "$store"
verify_record "the chunk back" True ""

# --- a flipped byte in a manifest ---
mfile=$store/backups/disk/${second#disk/}.manifest
cp "$mfile" "$work/manifest.saved"
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[60]^=0x04; open(p,'wb').write(b)" "$mfile"
expect 8 "verify finds a damaged manifest" E backup verify --store "$store"
contains "naming the backup" "$second"
expect 8 "list shows it as unreadable" E backup list --store "$store"
contains "list names it" "unreadable"
expect 1 "gc refuses to sweep while a manifest is unreadable" E backup gc --store "$store" --safety-margin 0s
contains "gc says why" "removes nothing while a manifest is unreadable"
expect 1 "restore from the damaged manifest fails" E backup restore --store "$store" "$second" --to "$work/r3.img"
cp "$work/manifest.saved" "$mfile"

# --- a backup killed mid-run, then gc concurrent with a backup ---
big=$work/big.img
head -c $((320 << 20)) /dev/urandom > "$big"
"$evosctl" backup create --store "$store" --image "$big" --name big --threads 1 >/dev/null 2>&1 &
bg=$!
for _ in $(seq 1 500); do
  [ "$(find "$store/chunks" -type f | wc -l)" -gt $((new + 3)) ] && break
  sleep 0.02
done
# The image is large enough that the backup is still running here; if it is not, say so (a
# finished backup proves nothing about a killed one).
if kill -KILL "$bg" 2>/dev/null; then pass "SIGKILL of a running backup"; else fail "the backup finished before it could be killed"; fi
wait "$bg" 2>/dev/null; bg=
[ -e "$store/locks/vm-big.lock" ] && pass "the killed backup left its lock" || fail "no lock after SIGKILL"
expect 0 "the store still verifies after a killed backup" E backup verify --store "$store"
expect 0 "no backup of 'big' exists" E backup list --store "$store" --vm big --json
[ "$(json 'len(d)' <<<"$out")" = 0 ] && pass "nothing half-written is listed" || fail "list: $out"
expect 0 "the next backup takes over the dead backup's lock and succeeds" E backup create --store "$store" --image "$big" --name big --json
bigid=$(json 'd["id"]' <<<"$out")
expect 0 "restore of that backup" E backup restore --store "$store" "$bigid" --to "$work/big.restored"
cmp -s "$big" "$work/big.restored" && pass "byte-identical after the killed run" || fail "differs after the killed run"
rm -f "$work/big.restored"
# Forget it: its chunks are now unused and made old; a new backup of the same data reuses them
# while gc (margin 1 s) runs in a loop. Without the backup's touch, gc would take them.
expect 0 "forget" E backup forget --store "$store" "$bigid"
find "$store/chunks" -type f -exec touch -d '1 hour ago' {} +
"$evosctl" backup create --store "$store" --image "$big" --name big --threads 1 --json > "$work/concurrent.json" 2>/dev/null &
bg=$!
gcs=0
while kill -0 "$bg" 2>/dev/null; do
  E backup gc --store "$store" --safety-margin 1s >/dev/null 2>&1 && gcs=$((gcs + 1))
done
wait "$bg"; rc=$?; bg=
[ "$rc" = 0 ] && pass "backup beside $gcs gc runs" || fail "backup during gc: exit $rc"
[ "$gcs" -ge 1 ] && pass "gc ran during the backup" || fail "gc never ran while the backup did"
bigid=$(json 'd["id"]' < "$work/concurrent.json")
expect 0 "gc after the backup" E backup gc --store "$store" --safety-margin 0s --json
expect 0 "verify after gc concurrent with a backup" E backup verify --store "$store" "$bigid"
expect 0 "restore after gc concurrent with a backup" E backup restore --store "$store" "$bigid" --to "$work/big.restored"
cmp -s "$big" "$work/big.restored" && pass "byte-identical after concurrent gc" || fail "differs after concurrent gc"
leftover=$(find "$store" -name '*.tmp.*' | wc -l)
[ "$leftover" = 0 ] && pass "gc removed the killed backup's temporary files" || fail "$leftover temporary files left"

# --- two backups of one name at once ---
# The lock of a backup in progress, as its evosctl writes it (docs/backup-format.md): one held by a
# live process of this host (this shell), then one of another host. No race with a real backup.
starttime=$(awk '{sub(/.*\) /, ""); print $20}' /proc/$$/stat)
printf '{"host":"%s","pid":%d,"proc_start":%s,"since_ms":%d,"what":"a backup of big"}\n' "$(uname -n)" $$ "$starttime" \
  "$(date +%s%3N)" > "$store/locks/vm-big.lock"
expect 1 "a second backup of the same name is refused" E backup create --store "$store" --image "$big" --name big
contains "naming who holds it" "pid $$"
printf '{"host":"othernode","pid":1,"proc_start":1,"since_ms":%d,"what":"a backup of big"}\n' "$(date +%s%3N)" > "$store/locks/vm-big.lock"
expect 1 "a backup held by another host is refused too" E backup create --store "$store" --image "$big" --name big
contains "naming the host, and never breaking its lock" "host othernode"
[ -e "$store/locks/vm-big.lock" ] && pass "the other host's lock is still there" || fail "the other host's lock was removed"
rm -f "$store/locks/vm-big.lock"
expect 0 "once it is released, the backup runs" E backup create --store "$store" --image "$big" --name big

# --- prune ---
expect 0 "prune --dry-run" E backup prune --store "$store" --vm disk --keep-last 1 --dry-run --json
[ "$(json 'sum(1 for b in d["backups"] if not b["keep"])' <<<"$out")" = 1 ] && pass "dry run would remove one" || fail "prune: $out"
expect 0 "nothing removed by the dry run" E backup list --store "$store" --vm disk --json
[ "$(json 'len(d)' <<<"$out")" = 2 ] && pass "still two" || fail "list: $out"
expect 2 "prune without a --keep option is refused" E backup prune --store "$store"
expect 0 "prune --keep-last 1" E backup prune --store "$store" --vm disk --keep-last 1
expect 0 "one backup of disk left" E backup list --store "$store" --vm disk --json
[ "$(json 'd[0]["id"]' <<<"$out")" = "$second" ] && pass "the newest is kept" || fail "kept: $out"

# --- bad arguments ---
expect 2 "a backup id that is not one" E backup show --store "$store" "../../etc/passwd"
expect 3 "a backup that does not exist" E backup show --store "$store" disk/20000101T000000.000Z
expect 3 "a store that is not one" E backup list --store "$work"
contains "says so" "is not a backup store"
expect 2 "a relative store path" E backup list --store relative/dir
expect 2 "a name that is not one" E backup create --store "$store" --image "$img" --name "../x"
expect 3 "an image that does not exist" E backup create --store "$store" --image "$work/none" --name x

# --- keys ---
enc=$work/enc
expect 0 "key create" E backup key create "$work/key"
[ "$(stat -c %a "$work/key")" = 600 ] && pass "the key file is mode 600" || fail "key mode $(stat -c %a "$work/key")"
expect 2 "key create never overwrites" E backup key create "$work/key"
expect 0 "init an encrypted store" E backup store init --store "$enc" --key-file "$work/key"
expect 0 "back up into it" E backup create --store "$enc" --key-file "$work/key" --image "$img" --name disk --json
encid=$(json 'd["id"]' <<<"$out")
expect 0 "restore from it" E backup restore --store "$enc" --key-file "$work/key" "$encid" --to "$work/r4.img"
cmp -s "$img" "$work/r4.img" && pass "encrypted restore is byte-identical" || fail "encrypted restore differs"
plain=$(E backup show --store "$store" "$second" --json | json '[c for c in d["disks"][0]["chunk_list"] if c][0]')
[ ! -e "$enc/chunks/${plain:0:2}/$plain" ] && pass "the encrypted store does not name chunks by their SHA-256" || fail "a plain digest in the encrypted store"
! grep -rqa "domain\|disk.img" "$enc/backups" && pass "manifests are encrypted too" || fail "plain text in an encrypted manifest"
expect 0 "another key" E backup key create "$work/key2"
expect 2 "a wrong key is named as such" E backup list --store "$enc" --key-file "$work/key2"
contains "before any data is read" "wrong key"
expect 2 "no key for an encrypted store" E backup list --store "$enc"
contains "asks for the key" "give its key"
chmod 644 "$work/key"
expect 2 "a key file others can read is refused" E backup list --store "$enc" --key-file "$work/key"
chmod 600 "$work/key"

# --- a newer store format ---
cp -a "$store/evos-store.json" "$work/config.saved"
sed -i 's/"version": 1/"version": 2/' "$store/evos-store.json"
expect 5 "a store of a newer format is refused" E backup list --store "$store"
contains "naming its version" "format version 2"
cp -a "$work/config.saved" "$store/evos-store.json"

# --- a full disk ---
mkdir -p "$work/full"
mount -t tmpfs -o size=24m tmpfs "$work/full"
expect 0 "a store on a small file system" E backup store init --store "$work/full/s"
expect 0 "a backup that fits" E backup create --store "$work/full/s" --image "$img" --name small
smallid=$(E backup list --store "$work/full/s" --json | json 'd[0]["id"]')
expect 1 "a backup that does not fit fails" E backup create --store "$work/full/s" --image "$big" --name big
contains "naming the problem" "No space left on device"
expect 0 "nothing of it is listed" E backup list --store "$work/full/s" --json
[ "$(json 'len(d)' <<<"$out")" = 1 ] && pass "only the first backup" || fail "list: $out"
[ "$(find "$work/full/s" -name '*.tmp.*' | wc -l)" = 0 ] && pass "no temporary file left by the failure" || fail "temporaries left on the full disk"
expect 0 "the earlier backup still verifies" E backup verify --store "$work/full/s"
expect 0 "and restores" E backup restore --store "$work/full/s" "$smallid" --to "$work/r5.img"
cmp -s "$img" "$work/r5.img" && pass "byte-identical from the full store" || fail "differs from the full store"

echo "backup_faults: $passes passed, $fails failed"
[ "$fails" = 0 ]
