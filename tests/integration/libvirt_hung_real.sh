#!/bin/bash
# A real libvirtd (tests/support/virt-hosts.sh, a private namespace, prefix of its own) SIGSTOPped
# by PID: evosctl vm list and vm status end at their --timeout naming the call that hung, and a
# call on a connection opened before the freeze ends through libvirt's keepalive. `timeout` is
# only a safety net that turns a hang into a failure (124), not a timing claim. Root.
# Usage: libvirt_hung_real.sh EVOSCTL KEEPALIVE_PROBE
set -u
evosctl=$1 probe=$2
here=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "FAIL: libvirt_hung_real.sh needs root (namespaces)"; exit 1; }
prefix=${EVOS_TEST_PREFIX:-k$(printf '%04d' $((RANDOM % 10000)))}
export EVOS_TEST_PREFIX=$prefix EVOS_TEST_BASE=${EVOS_TEST_BASE:-/tmp/evos-$prefix}
hosts() { "$here/tests/support/virt-hosts.sh" "$@"; }
probe_pid=
cleanup() {
  hosts thaw-libvirtd 1 >/dev/null 2>&1
  [ -n "$probe_pid" ] && kill "$probe_pid" 2>/dev/null
  hosts down >/dev/null 2>&1
  rm -rf "$EVOS_TEST_BASE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fails=0 passes=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }

hosts up >/dev/null || { echo "FAIL: virt-hosts up"; exit 1; }
uri=$(hosts uri 1)
work=$EVOS_TEST_BASE/hung-test
mkdir -p "$work"

# The probe connects while libvirtd answers, and lists only after the freeze.
mkfifo "$work/go"
timeout 120 "$probe" "$uri" <"$work/go" >"$work/probe.out" 2>&1 &
probe_pid=$!
exec 3>"$work/go"
for _ in $(seq 300); do grep -q connected "$work/probe.out" && break; sleep 0.1; done
grep -q connected "$work/probe.out" || fail "the probe did not connect: $(cat "$work/probe.out")"

hosts freeze-libvirtd 1
echo go >&3
exec 3>&-

hung="while waiting for libvirt: connect to $uri (virConnectOpenReadOnly)"
for cmd in "vm list" "vm status web1"; do
  # shellcheck disable=SC2086
  out=$(timeout 60 "$evosctl" -c "$uri" --timeout 2 $cmd 2>&1); rc=$?
  if [ "$rc" -eq 124 ]; then fail "evosctl $cmd still hung after 60 s"
  elif [ "$rc" -ne 7 ]; then fail "evosctl $cmd returned $rc, expected 7: $out"
  elif grep -qF "evosctl: ${cmd% *} did not finish within its 2 s timeout (--timeout) $hung" <<<"$out" ||
       grep -qF "evosctl: $cmd did not finish within its 2 s timeout (--timeout) $hung" <<<"$out"; then passes=$((passes+1))
  else fail "evosctl $cmd does not name the hung call: $out"; fi
done

# Keepalive: a ping after 5 s of silence, closed after 3 unanswered (about 20 s); the safety net
# of the probe is 120 s.
wait "$probe_pid"; probe_pid=
if grep -q "^list failed: .*keepalive" "$work/probe.out"; then passes=$((passes+1))
else fail "the list on a frozen libvirtd did not end through keepalive: $(cat "$work/probe.out")"; fi

hosts thaw-libvirtd 1
out=$(timeout 60 "$evosctl" -c "$uri" vm list 2>&1) && passes=$((passes+1)) || fail "vm list once libvirtd answers again: $out"

echo "libvirt_hung_real: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
