#!/bin/bash
# evosd against a real libvirtd (tests/support/virt-hosts.sh, namespaces of its own) and a real
# TCG guest (docs/evosd.md, "libvirt events" and "Faults"):
#   1. evosd follows host 1 (qemu+unix, read-only): the listing finds the running guest;
#   2. virsh destroy and start: lifecycle events change evosd's answer at once;
#   3. libvirtd stopped: evosd's answers stop being fresh; QEMU killed while no libvirtd runs;
#      libvirtd started again: evosd reconnects by itself and its listing finds the guest shut off
#      (a stop it could not see as an event);
#   4. libvirtd SIGSTOPped (hung): within evosd's freshness bound its answers are no longer fresh
#      (the heartbeat stops answering); SIGCONT: fresh again.
# Waits are for conditions (bounded by generous safety nets), never timing claims. Root.
# Usage: evosd_real.sh BUILD_DIR EVOSD
set -u
build=$(cd "$1" && pwd) evosd=$2
here=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIPPED: evosd_real.sh needs root (namespaces)"; exit 77; }
prefix=${EVOS_TEST_PREFIX:-d$(printf '%04d' $((RANDOM % 10000)))}
base=${EVOS_TEST_BASE:-/tmp/evos-$prefix}
export EVOS_TEST_PREFIX=$prefix EVOS_TEST_BASE=$base
guest=$build/guest-cache shared=$base/shared dom=${prefix}g
hosts() { "$here/tests/support/virt-hosts.sh" "$@"; }
evosd_pid=
cleanup() {
  hosts thaw-libvirtd 1 >/dev/null 2>&1
  [ -n "$evosd_pid" ] && kill "$evosd_pid" 2>/dev/null && wait "$evosd_pid" 2>/dev/null
  hosts down >/dev/null 2>&1
  rm -rf "$base"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
die() { fail "$*"; [ -f "$base/evosd.log" ] && tail -n 20 "$base/evosd.log"; echo "evosd_real: $passes passed, $fails failed"; exit 1; }
sock=$base/run/evosd.sock
# ask EXPR: one request to evosd; prints EXPR of the answer (a Python expression over d)
ask() {
  python3 - "$sock" "$1" "${2:-}" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
s.sendall((json.dumps({"op": "vm", "name": sys.argv[3]} if sys.argv[3] else {"op": "status"}) + "\n").encode())
buf = b""
while b"\n" not in buf:
    chunk = s.recv(65536)
    if not chunk: break
    buf += chunk
d = json.loads(buf.split(b"\n")[0])
print(eval(sys.argv[2]))
PY
}
state() { ask 'd["state"]+"/"+str(d["fresh"]).lower()' "$dom" 2>/dev/null; }
until_state() {  # until_state WANT SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do [ "$(state)" = "$1" ] && return 0; sleep 0.1; done
  return 1
}
qemu_pid() { local p; for p in /proc/[0-9]*; do tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q "guest=$dom," && { echo "${p#/proc/}"; return; }; done; }

"$here/tests/support/build-guest.sh" "$guest" >/dev/null || die "cannot build the test guest"
mkdir -p "$shared"
hosts up >/dev/null || die "the libvirt hosts did not come up"
hosts domain-xml "$dom" "$shared" "$guest" "$shared/$dom.xml" 128 || die "cannot write the domain XML"
hosts virsh 1 define "$shared/$dom.xml" >/dev/null || die "cannot define $dom"
hosts virsh 1 start "$dom" >/dev/null || die "cannot start $dom"
uri=$(hosts uri 1)

# --- 1. the listing ---------------------------------------------------------------------------
"$evosd" --uri "$uri" --socket "$sock" --no-report --records "$base/records" --metrics-listen off --history off --no-drbd-events --no-corosync-events -v >"$base/evosd.log" 2>&1 &
evosd_pid=$!
until_state "running/true" 30 && pass "evosd lists the running guest, fresh" || die "state after the start of evosd: '$(state)'"

# --- 2. events --------------------------------------------------------------------------------
hosts virsh 1 destroy "$dom" >/dev/null
until_state "shut off/true" 30 && pass "destroy: the event says shut off" || fail "after destroy: '$(state)'"
grep -q "event: domain '$dom' stopped (destroyed)" "$base/evosd.log" && pass "evosd logged the stopped (destroyed) event" || fail "no event line"
hosts virsh 1 start "$dom" >/dev/null
until_state "running/true" 30 && pass "start: the event says running" || fail "after start: '$(state)'"

# --- 3. libvirtd restarts ---------------------------------------------------------------------
hosts stop-libvirtd 1 >/dev/null
until_state "running/false" 30 && pass "libvirtd stopped: evosd's answer is no longer fresh" || fail "with libvirtd stopped: '$(state)'"
q=$(qemu_pid)
[ -n "$q" ] && kill -9 "$q" && pass "killed QEMU $q while no libvirtd runs" || fail "no QEMU of $dom found"
hosts start-libvirtd 1 >/dev/null || die "libvirtd did not start again"
until_state "shut off/true" 60 && pass "after libvirtd's restart evosd reconnected and its listing found the guest shut off" \
  || fail "after the restart: '$(state)'"
[ "$(ask 'd["counters"]["libvirt_reconnects"] >= 1 and d["counters"]["libvirt_resyncs"] >= 2')" = True ] \
  && pass "counters: a reconnect and a second listing" || fail "counters: $(ask 'd["counters"]')"
grep -q "reconnected to" "$base/evosd.log" && pass "evosd logged the reconnect" || fail "no reconnect line"

# --- 4. a hung libvirtd -----------------------------------------------------------------------
hosts virsh 1 start "$dom" >/dev/null
until_state "running/true" 30 || fail "not running again: '$(state)'"
hosts freeze-libvirtd 1
until_state "running/false" 30 && pass "libvirtd hung: within the freshness bound evosd's answer is no longer fresh" || fail "hung: '$(state)'"
hosts thaw-libvirtd 1
until_state "running/true" 60 && pass "libvirtd answers again: fresh again" || fail "after SIGCONT: '$(state)'"
kill -0 "$evosd_pid" && pass "evosd still runs" || fail "evosd died"
hosts virsh 1 destroy "$dom" >/dev/null 2>&1

echo "evosd_real: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
