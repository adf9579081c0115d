#!/bin/bash
# evosctl's global deadline (docs/evosctl.md, "Deadlines") against a hung libvirtd: a socket that
# accepts connections and never answers, as a stopped or wedged daemon's socket does. Every
# command must end with exit 7 and name the call that hung; `timeout 30` is only a safety net
# that turns a hang into a failure (124), not a timing claim.
# Usage: evosctl_timeouts.sh EVOSCTL
set -u
evosctl=$1
work=$(mktemp -d)
hung_pid=
cleanup() { [ -n "$hung_pid" ] && kill "$hung_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fails=0 passes=0
pass() { passes=$((passes+1)); }
fail() { echo "FAIL: $*"; fails=$((fails+1)); }

python3 - "$work/hung.sock" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(16)
conns = []
end = time.time() + 300
while time.time() < end:
    s.settimeout(1)
    try: conns.append(s.accept()[0])
    except socket.timeout: pass
PY
hung_pid=$!
for _ in $(seq 100); do [ -S "$work/hung.sock" ] && break; sleep 0.1; done
[ -S "$work/hung.sock" ] || { echo "FAIL: the hung socket did not appear"; exit 1; }
uri="qemu+unix:///system?socket=$work/hung.sock"

# check WANT_RC PATTERN DESCRIPTION -- ARGS...
check() {
  local want=$1 pattern=$2 what=$3; shift 4
  local out rc
  out=$(timeout 30 "$evosctl" "$@" 2>&1); rc=$?
  if [ "$rc" -eq 124 ]; then fail "$what: evosctl $* still hung after 30 s (no deadline)"; return; fi
  if [ "$rc" -ne "$want" ]; then fail "$what: evosctl $* returned $rc, expected $want: $out"; return; fi
  if grep -qF -- "$pattern" <<<"$out"; then pass; else fail "$what: no '$pattern' in: $out"; fi
}

hung="while waiting for libvirt: connect to $uri (virConnectOpenReadOnly)"
check 7 "evosctl: vm list did not finish within its 2 s timeout (--timeout) $hung" \
  "vm list, global --timeout before the command" -- -c "$uri" --timeout 2 vm list
check 7 "evosctl: vm list did not finish within its 1500 ms timeout (--timeout) $hung" \
  "vm list --json, --timeout after the command" -- -c "$uri" vm list --json --timeout 1500ms
check 7 "evosctl: vm status did not finish within its 2 s timeout (--timeout) $hung" \
  "vm status" -- -c "$uri" vm status web1 --timeout 2s
# No --timeout: the default (30 s) still bounds it; not waited for here, only shown in --help.
check 0 "--timeout" "--help shows the option" -- --help

check 2 "--timeout must be a duration such as 5s, 500ms or 2m, not '2h'" "bad duration" -- --timeout 2h vm list
check 2 "--timeout must be more than 0" "zero timeout" -- --timeout 0 vm list

echo "evosctl_timeouts: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
