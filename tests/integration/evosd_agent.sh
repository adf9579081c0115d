#!/bin/bash
# The VM agent's monitor with evosd (docs/evosd.md, "Cheap monitors"), both on libvirt's test
# driver (test:///default: each process has its own running domain "test"):
#   a recurring monitor asks evosd and takes its "running", and records what the full agent
#   records; the front end alone answers only that and hands on everything else; a probe never asks it; evosd killed
#   with -9 (its socket file left behind) and the monitor falls back to libvirt, still right;
#   a socket that accepts and never answers costs the monitor its short budget, not its timeout;
#   evosd's own command line and configuration errors.
# Usage: evosd_agent.sh AGENT EVOSD
set -u
agent=$1 evosd=$2
work=$(mktemp -d)
evosd_pid= hung_pid=
cleanup() {
  [ -n "$evosd_pid" ] && kill "$evosd_pid" 2>/dev/null
  [ -n "$hung_pid" ] && kill "$hung_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fails=0 passes=0
ok() { passes=$((passes+1)); }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
sock=$work/run/evosd.sock
printf "<domain type='test'><name>test</name><memory>65536</memory><os><type>hvm</type></os></domain>" > "$work/test.xml"

# monitor RC WHAT [VAR=VALUE...]: a recurring monitor (interval 10 s) with debug lines, of $RUN_AGENT
# when set
monitor() {
  local want=$1 what=$2; shift 2
  local rc
  OUT=$(env -i PATH=/usr/bin:/bin HA_RSCTMP="$work/rsc" OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=vm-test \
        OCF_TRACE_RA=1 OCF_RESKEY_CRM_meta_interval=10000 OCF_RESKEY_hypervisor=test:///default \
        OCF_RESKEY_config="$work/test.xml" OCF_RESKEY_evosd_socket="$sock" "$@" "${RUN_AGENT:-$agent}" monitor 2>&1)
  rc=$?
  [ "$rc" -eq "$want" ] && ok || { bad "$what: monitor returned $rc, expected $want"; echo "$OUT" | sed 's/^/    /'; }
}
requests() { grep -c 'socket request: .*"op":"vm"' "$work/evosd.log"; }

# Metrics, history and DRBD events off: the host's port 9764, /var/lib/evos and drbdsetup are no
# test's, and the socket is what this test is about.
"$evosd" --uri test:///default --socket "$sock" --no-report --records "$work/rsc/evos-vm-ops" --metrics-listen off --history off --no-drbd-events --no-corosync-events -v >"$work/evosd.log" 2>&1 &
evosd_pid=$!
for _ in $(seq 100); do grep -q "started socket" "$work/evosd.log" && grep -q "listed" "$work/evosd.log" && break; sleep 0.1; done
grep -q "started socket" "$work/evosd.log" && ok || { bad "evosd did not start"; cat "$work/evosd.log"; exit 1; }
[ "$(stat -c %a "$work/run")" = 700 ] && [ "$(stat -c %a "$sock")" = 600 ] && ok || bad "socket modes: $(stat -c %a "$work/run") $(stat -c %a "$sock")"

monitor 0 "with evosd"
grep -q "asks libvirt itself" <<<"$OUT" && bad "the monitor asked libvirt although evosd vouched: $OUT" || ok
[ "$(requests)" = 1 ] && ok || bad "evosd saw $(requests) vm requests, expected 1"
grep -q "phase=active" "$work/rsc/evos-vm-ops/vm-test" && ok || bad "no active operation record: $(cat "$work/rsc/evos-vm-ops/vm-test" 2>&1)"

# The same record as a monitor that asked libvirt writes (the full agent, evosd_socket off): both
# binaries record through OperationRecords::note_monitor.
monitor 0 "without evosd (the full agent)" HA_RSCTMP="$work/rsc-direct" OCF_RESKEY_evosd_socket=
[ "$(grep -v '^since=' "$work/rsc/evos-vm-ops/vm-test")" = "$(grep -v '^since=' "$work/rsc-direct/evos-vm-ops/vm-test" 2>&1)" ] && ok ||
  bad "the records differ: $(cat "$work/rsc/evos-vm-ops/vm-test") / $(cat "$work/rsc-direct/evos-vm-ops/vm-test" 2>&1)"
[ "$(requests)" = 1 ] && ok || bad "a monitor without evosd_socket asked evosd"

# The front end alone, without the full agent below it (docs/vm-agent.md, "Two binaries"): the
# vouched monitor is its own answer; everything else is handed on, so here fails as incomplete.
mkdir "$work/alone" && cp "$agent" "$work/alone/vm"
alone=$work/alone/vm
RUN_AGENT=$alone monitor 0 "the front end alone, evosd vouching" HA_RSCTMP="$work/rsc-alone"
[ "$(requests)" = 2 ] && ok || bad "evosd saw $(requests) vm requests, expected 2"
grep -q "phase=active" "$work/rsc-alone/evos-vm-ops/vm-test" && ok || bad "the front end alone wrote no active record"
RUN_AGENT=$alone monitor 5 "the front end alone, a probe" HA_RSCTMP="$work/rsc-alone" OCF_RESKEY_CRM_meta_interval=0
grep -q "ocf-exit-reason:the VM agent is incomplete: cannot run $work/alone/libexec/vm" <<<"$OUT" && ok || bad "probe without the full agent: $OUT"
RUN_AGENT=$alone monitor 5 "the front end alone, a deep monitor" HA_RSCTMP="$work/rsc-alone" OCF_CHECK_LEVEL=10
RUN_AGENT=$alone monitor 5 "the front end alone, a config it cannot read" HA_RSCTMP="$work/rsc-alone" OCF_RESKEY_config="$work/none.xml"
RUN_AGENT=$alone monitor 5 "the front end alone, a domain parameter the config contradicts" HA_RSCTMP="$work/rsc-alone" OCF_RESKEY_domain=other
[ "$(requests)" = 2 ] && ok || bad "evosd saw $(requests) vm requests, expected still 2"
printf "<domain type='test'><name>nosuch</name><memory>65536</memory><os><type>hvm</type></os></domain>" > "$work/nosuch.xml"
RUN_AGENT=$alone monitor 5 "the front end alone, a domain evosd does not know" HA_RSCTMP="$work/rsc-alone" OCF_RESKEY_config="$work/nosuch.xml"
RUN_AGENT=$alone monitor 5 "the front end alone, a hypervisor evosd does not follow" HA_RSCTMP="$work/rsc-alone" OCF_RESKEY_hypervisor=test:///other
[ "$(requests)" = 4 ] && ok || bad "evosd saw $(requests) vm requests, expected 4"
for a in meta-data start stop validate-all; do
  env -i PATH=/usr/bin:/bin "$alone" "$a" >/dev/null 2>&1; rc=$?
  [ $rc = 5 ] && ok || bad "the front end alone answered $a itself (exit $rc)"
done
env -i PATH=/usr/bin:/bin "$alone" >/dev/null 2>&1; rc=$?
[ $rc = 5 ] && ok || bad "the front end alone answered a call without an action itself (exit $rc)"

monitor 0 "a probe" OCF_RESKEY_CRM_meta_interval=0
[ "$(requests)" = 4 ] && ok || bad "a probe asked evosd"
monitor 190 "a deep monitor (the test driver's fake disk errors)" OCF_CHECK_LEVEL=10
[ "$(requests)" = 4 ] && ok || bad "a deep monitor asked evosd"

kill -9 "$evosd_pid"; wait "$evosd_pid" 2>/dev/null; evosd_pid=
[ -S "$sock" ] && ok || bad "the killed evosd's socket file is gone (the test needs it left behind)"
monitor 0 "evosd killed with -9: the monitor asks libvirt and is right"
grep -q "asks libvirt itself: nothing listens" <<<"$OUT" && ok || bad "no fallback line: $OUT"

# A socket that accepts and never answers (a hung evosd): the monitor falls back within its budget.
python3 - "$work/hung.sock" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(16)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
PY
hung_pid=$!
for _ in $(seq 50); do [ -S "$work/hung.sock" ] && break; sleep 0.1; done
monitor 0 "a hung evosd" OCF_RESKEY_evosd_socket="$work/hung.sock" CRM_meta_timeout=20000
grep -q "asks libvirt itself: no answer from" <<<"$OUT" && ok || bad "no timeout fallback line: $OUT"

# evosd's own bad input.
"$evosd" --config "$work/none.conf" >/dev/null 2>"$work/err"; rc=$?
[ $rc = 2 ] && grep -q "cannot read $work/none.conf" "$work/err" && ok || bad "missing --config: exit $rc, $(cat "$work/err")"
printf 'socket = /x/y.sock\nheartbeat = soon\n' > "$work/bad.conf"
"$evosd" --config "$work/bad.conf" --check-config >/dev/null 2>"$work/err"; rc=$?
[ $rc = 2 ] && grep -q "bad.conf line 2" "$work/err" && ok || bad "bad config: exit $rc, $(cat "$work/err")"
printf 'socket = %s\n' "$work/c/evosd.sock" > "$work/good.conf"
"$evosd" --config "$work/good.conf" --check-config >/dev/null 2>"$work/err" && ok || bad "good config refused: $(cat "$work/err")"
"$evosd" --socket relative.sock --check-config >/dev/null 2>"$work/err"; rc=$?
[ $rc = 2 ] && grep -q "command line" "$work/err" && ok || bad "bad --socket: exit $rc, $(cat "$work/err")"
"$evosd" --frobnicate >/dev/null 2>&1; [ $? = 2 ] && ok || bad "unknown option not exit 2"
# A second evosd on a live socket refuses to start (exit 1) and leaves the first's socket.
"$evosd" --uri test:///default --socket "$work/s2/evosd.sock" --no-report --metrics-listen off --history off --no-drbd-events --no-corosync-events >"$work/e1.log" 2>&1 &
evosd_pid=$!
for _ in $(seq 100); do grep -q "started socket" "$work/e1.log" && break; sleep 0.1; done
"$evosd" --uri test:///default --socket "$work/s2/evosd.sock" --no-report --metrics-listen off --history off --no-drbd-events --no-corosync-events >"$work/e2.log" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "another server answers" "$work/e2.log" && [ -S "$work/s2/evosd.sock" ] && ok || bad "second evosd: exit $rc, $(cat "$work/e2.log")"
kill "$evosd_pid"; wait "$evosd_pid"; rc=$?; evosd_pid=
[ $rc = 0 ] && [ ! -e "$work/s2/evosd.sock" ] && ok || bad "SIGTERM: exit $rc, socket left: $(ls "$work/s2")"

echo "evosd_agent: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
