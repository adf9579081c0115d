#!/bin/bash
# evosctl cluster status against a hung Corosync: a real corosync (one node on loopback) in a
# private network and mount namespace (its IPC sockets are abstract, so per network namespace),
# then SIGSTOPped by PID. The status must end naming the Corosync call that hung; `timeout 60` is
# only a safety net that turns a hang into a failure (124). Root; skipped (77) without corosync.
# Usage: evosctl_corosync_hung.sh EVOSCTL
set -u
evosctl=$1
if [ "${1:-}" != --inside ]; then
  [ "$(id -u)" = 0 ] || { echo "SKIPPED: needs root (namespaces)"; exit 77; }
  command -v corosync >/dev/null || { echo "SKIPPED: corosync is not installed"; exit 77; }
  exec timeout 120 unshare --net --mount --fork "$0" --inside "$evosctl"
fi
evosctl=$2
work=$(mktemp -d)
coro_pid=
cleanup() { [ -n "$coro_pid" ] && { kill -KILL "$coro_pid"; wait "$coro_pid"; } 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fails=0 passes=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }

cat > "$work/corosync.conf" <<'CONF'
totem {
  version: 2
  cluster_name: evos-hung
  crypto_cipher: none
  crypto_hash: none
  transport: knet
}
nodelist {
  node {
    ring0_addr: 127.0.0.1
    name: n1
    nodeid: 1
  }
}
quorum {
  provider: corosync_votequorum
}
logging {
  to_stderr: yes
  to_syslog: no
}
CONF
ip link set lo up
# Private state and runtime directories (this mount namespace only).
mount -t tmpfs tmpfs /var/lib/corosync
mount -t tmpfs tmpfs /run
corosync -f -c "$work/corosync.conf" >"$work/corosync.log" 2>&1 &
coro_pid=$!
for _ in $(seq 100); do corosync-quorumtool -s >/dev/null 2>&1 && break; sleep 0.2; done

out=$(timeout 60 "$evosctl" cluster status --timeout 3 2>&1)
if grep -q "^cluster evos-hung: quorate" <<<"$out"; then passes=$((passes+1)); else
  fail "a live corosync is not read: $out"; sed 's/^/    /' "$work/corosync.log"; fi

kill -STOP "$coro_pid"
out=$(timeout 60 "$evosctl" cluster status --timeout 3 2>&1); rc=$?
if [ "$rc" -eq 124 ]; then fail "cluster status still hung after 60 s"
elif [ "$rc" -ne 7 ]; then fail "cluster status returned $rc, expected 7 (timeout): $out"
elif grep -q "^corosync: corosync did not answer quorum_initialize within 3 s (is corosync hung?)" <<<"$out"; then
  passes=$((passes+1))
else fail "the error does not name the hung call: $out"; fi

# An explicit global --timeout shorter than the command's own bounds the command's own waits too.
out=$(timeout 60 "$evosctl" --timeout 2 cluster status 2>&1); rc=$?
if [ "$rc" -eq 124 ]; then fail "cluster status still hung after 60 s"
elif [ "$rc" -ne 7 ]; then fail "--timeout 2 cluster status returned $rc, expected 7 (timeout): $out"
elif grep -q "^corosync: corosync did not answer quorum_initialize within [12][0-9]* ms (is corosync hung?)" <<<"$out"; then
  passes=$((passes+1))
else fail "the error does not name the hung call: $out"; fi

echo "evosctl_corosync_hung: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
