#!/bin/bash
# evosd's continuous test-IP probing (docs/evosd.md, "Test IPs") in a test-IP lab of its own
# (tests/support/testip-lab.sh, prefix etd<pid>), with a shim attrd_updater first on evosd's PATH
# that logs its argv: the score is written once at the start, not again while nothing changes,
# at once (the next round) when the link goes down and comes back; evosd's status lists each test
# IP; on SIGTERM it removes the attribute. The waits are for conditions, bounded by safety nets; nothing is timed. Root.
# Usage: evosd_testip.sh EVOSD
set -u
evosd=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
lab=$here/tests/support/testip-lab.sh
p=etd$$
work=$(mktemp -d /tmp/evos-evosd-testip.XXXXXX)
evosd_pid=
cleanup() {
  [ -n "$evosd_pid" ] && kill "$evosd_pid" 2>/dev/null && wait "$evosd_pid" 2>/dev/null
  "$lab" down "$p"
  rm -rf "$work"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "FAIL: evosd_testip.sh needs root (namespaces, raw ICMP)"; exit 1; }
"$lab" up "$p" || { echo "FAIL: lab did not come up"; exit 1; }
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
mkdir -p "$work/bin"
cat > "$work/bin/attrd_updater" <<'SHIM'
#!/bin/sh
out=""
for a in "$@"; do out="$out|$a"; done
printf '%s\n' "${out#|}" >> "$SHIM_LOG"
SHIM
chmod +x "$work/bin/attrd_updater"
log=$work/attrd.log
cat > "$work/evosd.conf" <<EOF2
socket = $work/run/evosd.sock
libvirt_uri = test:///default
report_failures = no
testip_hosts = 198.18.0.254 198.18.0.253=2
testip_multiplier = 100
testip_interval = 500ms
testip_timeout = 300ms
metrics_listen = off
history = off
drbd_events = no
corosync_events = no
EOF2
ip netns exec "$p-node" env -i PATH="$work/bin:/usr/bin:/bin" SHIM_LOG="$log" \
  "$evosd" --config "$work/evosd.conf" -v >"$work/evosd.log" 2>&1 &
evosd_pid=$!
writes() { grep -c '^-n|evos-testip-evosd|-B|' "$log" 2>/dev/null || echo 0; }
last() { grep '^-n|evos-testip-evosd|-B|' "$log" 2>/dev/null | tail -n 1 | cut -d'|' -f4; }
until_last() { local i; for ((i = 0; i < 200; i++)); do [ "$(last)" = "$1" ] && return 0; sleep 0.1; done; return 1; }

until_last 300 && pass "the score (100 x 3) is written at the start" || fail "first value '$(last)'; $(tail -n 5 "$work/evosd.log")"
grep -q '^-n|evos-testip-evosd|-B|300|-d|0s$' "$log" && pass "attrd_updater -n evos-testip-evosd -B 300 -d 0s (its own attribute by default)" || fail "argv: $(cat "$log")"
# Several rounds later nothing was written again (a write only on a change).
python3 - "$work/run/evosd.sock" > "$work/status1" <<'PY'
import json, socket, sys, time
def status():
    s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1]); s.sendall(b'{"op":"status"}\n')
    buf = b""
    while b"\n" not in buf: buf += s.recv(65536)
    return json.loads(buf.split(b"\n")[0])
first = status()["counters"]["testip_rounds"]
while status()["counters"]["testip_rounds"] < first + 4: time.sleep(0.1)
d = status()
print(json.dumps(d["test_ips"]))
PY
[ "$(writes)" = 1 ] && pass "four rounds later still one write" || fail "writes: $(writes)"
grep -q '"host": "198.18.0.253", "reachable": true' "$work/status1" && pass "the status lists each test IP reachable" || fail "status: $(cat "$work/status1")"

ip -n "$p-node" link set "${p}n0" down
until_last 0 && pass "link down: 0 written" || fail "after link down: '$(last)'"
grep -q "test IPs: 0/2 reachable" "$work/evosd.log" && pass "evosd logged the change" || fail "no change line"
ip -n "$p-node" link set "${p}n0" up
until_last 300 && pass "link up again: 300 written" || fail "after link up: '$(last)'"
kill -0 "$evosd_pid" && pass "evosd runs" || fail "evosd died"
# On SIGTERM evosd takes its value back: a stale 0 would ban the node (testip.crm's testip-evosd rule).
kill "$evosd_pid" && wait "$evosd_pid"
rc=$? evosd_pid=
[ "$rc" = 0 ] && pass "evosd exits 0 on SIGTERM" || fail "evosd exit $rc"
[ "$(tail -n 1 "$log")" = "-D|-n|evos-testip-evosd" ] && pass "and removed its attribute last (attrd_updater -D -n evos-testip-evosd)" ||
  fail "last attrd_updater call: $(tail -n 1 "$log")"
echo "evosd_testip: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
