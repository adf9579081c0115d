#!/bin/bash
# ocf:evos:ping run as pacemaker-execd runs it (environment only, argv[1] = action) inside a
# test-IP lab of its own (tests/support/testip-lab.sh, prefix eta<pid>), with a shim
# attrd_updater first on PATH that logs its argv, so the values written can be checked:
# start/monitor/stop/reload-agent/validate-all exit codes and attribute values; OCF_DEGRADED
# while some or all test IPs are unreachable; names from the node's hosts file; a name that does
# not exist is OCF_ERR_CONFIGURED naming it, with nothing published; the monitor's bound with
# 1..20 silent hosts and with a short operation timeout; a cut link; attrd_updater failing or
# missing never gives a fatal monitor code.
# Usage: ping_agent.sh AGENT. Needs root. The lab is deleted on exit, even on failure.
set -uo pipefail
agent=$(readlink -f "$1")
here=$(cd "$(dirname "$0")/../.." && pwd)
lab=$here/tests/support/testip-lab.sh
p=eta$$
work=$(mktemp -d /tmp/evos-pingagent.XXXXXX)
cleanup() { "$lab" down "$p"; rm -rf "$work"; }
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "FAIL: ping_agent.sh needs root (namespaces, raw ICMP)"; exit 1; }
"$lab" up "$p" || { echo "FAIL: lab did not come up"; exit 1; }
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }

mkdir -p "$work/bin" "$work/nobin"
cat > "$work/bin/attrd_updater" <<'SHIM'
#!/bin/sh
# Logs its argv (one line, arguments separated by |) and exits with $SHIM_RC (default 0).
out=""
for a in "$@"; do out="$out|$a"; done
printf '%s\n' "${out#|}" >> "$SHIM_LOG"
exit "${SHIM_RC:-0}"
SHIM
chmod +x "$work/bin/attrd_updater"
printf '127.0.0.1 localhost\n::1 localhost\n198.18.0.254 gw4.evos-test\nfd00:e:0:1::fe gw6.evos-test\n' > "$work/hosts"
printf 'hosts: files\n' > "$work/nsswitch.conf"
log=$work/attrd.log
state=$work/rsc/evos-ping-testip.state

# agent ACTION [VAR=VALUE...]: sets RC, OUT (stdout+stderr) and MS (wall time, ms)
agent() {
  local action=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  OUT=$(ip netns exec "$p-node" unshare --mount --propagation private -- sh -c '
      mount --bind "$1/hosts" /etc/hosts && mount --bind "$1/nsswitch.conf" /etc/nsswitch.conf || exit 99
      shift; exec "$@"' sh "$work" \
    env -i PATH="${AGENT_PATH:-$work/bin:/usr/bin:/bin}" SHIM_LOG="$log" SHIM_RC="${SHIM_RC:-0}" HA_RSCTMP="$work/rsc" \
      OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=testip OCF_RESKEY_CRM_meta_timeout="${OP_TIMEOUT:-10000}" \
      OCF_RESKEY_host_list="$HL" OCF_RESKEY_timeout="${PROBE_TIMEOUT:-500ms}" "$@" "$agent" "$action" 2>&1)
  RC=$?
  t1=$(date +%s%N)
  MS=$(( (t1 - t0) / 1000000 ))
}
expect() {  # expect RC DESCRIPTION ACTION [VAR=VALUE...]
  local want=$1 what=$2; shift 2
  agent "$@"
  if [ "$RC" -eq "$want" ]; then pass "$what (rc $RC, ${MS} ms)"; else
    fail "$what: $1 returned $RC, expected $want"; echo "$OUT" | sed 's/^/    /'; fi
}
last_value() { grep "^-n|${1:-evos-testip}|-B|" "$log" | tail -1 | cut -d'|' -f4; }
last_detail() { grep "^-p|-n|${1:-evos-testip}-detail|-U|" "$log" | tail -1 | cut -d'|' -f5; }
reason_has() { grep -q "^ocf-exit-reason:.*$1" <<<"$OUT" && pass "exit reason names $1" || { fail "exit reason lacks '$1': $OUT"; }; }

HL="198.18.0.254 fd00:e:0:1::fe=2 gw4.evos-test"
expect 7 "monitor before start" monitor
[ ! -e "$log" ] && pass "monitor before start publishes nothing" || fail "monitor before start called attrd_updater"
expect 0 "start: IPv4, IPv6 and a name" start
[ "$(last_value)" = 4000 ] && pass "start writes 4000" || fail "start wrote '$(last_value)': $(cat "$log")"
grep -q '^-n|evos-testip|-B|4000|-d|5s$' "$log" && pass "attrd_updater -n NAME -B VALUE -d DAMPEN" || fail "argv: $(cat "$log")"
detail=$(last_detail)
grep -q "^1 [0-9]* 4000 198.18.0.254,198.18.0.254,ok,1,1,1,[0-9]*,[0-9]* fd00:e:0:1::fe,fd00:e:0:1::fe,ok,2,1,1,[0-9]*,[0-9]* gw4.evos-test,198.18.0.254,ok,1,1,1," <<<"$detail" \
  && pass "the detail attribute carries each host's reachability and RTT" || fail "detail: '$detail'"
grep -q "^address gw4.evos-test 198.18.0.254$" "$state" && pass "the state file keeps the resolved name" || fail "state: $(cat "$state")"
# With a 3 s probe timeout, so that "did not wait for it" stays clear on a loaded machine.
PROBE_TIMEOUT=3s expect 0 "monitor, all reachable" monitor
[ "$MS" -lt 1500 ] && pass "an all-reachable monitor does not wait for the 3 s probe timeout (${MS} ms)" || fail "all-reachable monitor took ${MS} ms"

HL="198.18.0.254 fd00:e:0:1::fe=2 198.18.0.193"
expect 190 "monitor, one silent test IP: OCF_DEGRADED" monitor
reason_has "198.18.0.193 (lost 3/3)"
[ "$(last_value)" = 3000 ] && pass "one silent test IP: 3000" || fail "value '$(last_value)'"
HL="198.18.0.193 fd00:e:0:1::dead 198.18.0.100"
expect 190 "monitor, no test IP reachable: OCF_DEGRADED, never success" monitor
reason_has "no test IP reachable"
[ "$(last_value)" = 0 ] && pass "none reachable: 0" || fail "value '$(last_value)'"
HL="198.18.0.254 198.18.0.193"
expect 1 "failure_score above the score: OCF_ERR_GENERIC" monitor OCF_RESKEY_failure_score=2000
reason_has "below failure_score 2000"

# The bound: a monitor takes the probe timeout whatever the number of silent hosts, never one
# timeout per host (20 silent hosts one after another would take 10 s). Generous margins here,
# because a loaded CI machine delays process start-up by hundreds of ms; bench/ping measures the
# bound (probe timeout + 100 ms) to the millisecond.
for n in 1 5 20; do
  HL="198.18.0.254 fd00:e:0:1::fe"
  for i in $(seq "$n"); do HL="$HL 198.18.0.$((192 + i))"; done
  agent monitor
  if [ "$RC" = 190 ] && [ "$MS" -ge 500 ] && [ "$MS" -lt 2500 ]; then pass "$n silent hosts: ${MS} ms (probe timeout 500 ms)"
  else fail "$n silent hosts: rc $RC in ${MS} ms"; echo "$OUT" | sed 's/^/    /'; fi
done
# An operation timeout shorter than the probe timeout: the round shrinks, the monitor still
# reports in time (not the watchdog's OCF_ERR_GENERIC).
HL="198.18.0.193"
expect 190 "a 2 s operation timeout with a 5 s probe timeout" monitor OP_TIMEOUT=2000 OCF_RESKEY_CRM_meta_timeout=2000 OCF_RESKEY_timeout=5s
# rc 190 (not the watchdog's 1) shows the round ended inside the operation's deadline; the time
# measured from here adds process start-up, so it is only checked against the 5 s probe timeout.
[ "$MS" -lt 4000 ] && pass "... returns well before the 5 s probe timeout (${MS} ms)" || fail "took ${MS} ms"

# A cut link: the kernel refuses to send; the score drops to 0 at once.
HL="198.18.0.254 fd00:e:0:1::fe=2"
ip -n "$p-node" link set "${p}n0" down
expect 190 "link down" monitor
reason_has "noroute"
[ "$(last_value)" = 0 ] && pass "link down: 0" || fail "value '$(last_value)'"
ip -n "$p-node" link set "${p}n0" up
sleep 0.3
for _ in 1 2 3 4 5 6 7 8 9 10; do agent monitor; [ "$RC" = 0 ] && break; sleep 0.3; done
[ "$RC" = 0 ] && [ "$(last_value)" = 3000 ] && pass "link up again: 3000" || fail "after link up: rc $RC value '$(last_value)'"

# attrd trouble is never a fatal monitor code.
expect 1 "attrd_updater fails: OCF_ERR_GENERIC" monitor SHIM_RC=1
reason_has "evos-testip"
AGENT_PATH=$work/nobin:/usr/bin:/bin
# the agent looks attrd_updater up on its PATH: that PATH must really have none
PATH=$AGENT_PATH command -v attrd_updater >/dev/null && fail "attrd_updater is on $AGENT_PATH: 'missing' is not tested"
expect 1 "attrd_updater missing: monitor OCF_ERR_GENERIC (not a fatal code)" monitor
expect 5 "attrd_updater missing: start OCF_ERR_INSTALLED" start
unset AGENT_PATH

# reload-agent applies a new dampening at once.
HL="198.18.0.254 fd00:e:0:1::fe=2 gw4.evos-test"
expect 0 "start again" start
expect 0 "reload-agent" reload-agent OCF_RESKEY_dampen=12s OCF_RESKEY_multiplier=10
grep -q '^-n|evos-testip|-B|40|-d|12s$' "$log" && pass "reload-agent writes with the new dampening and multiplier" || fail "reload: $(tail -2 "$log")"
expect 0 "validate-all" validate-all
expect 0 "validate-all level 10" validate-all OCF_CHECK_LEVEL=10

# stop removes both attributes and the state file; idempotent.
: > "$log"
expect 0 "stop" stop
grep -q '^-D|-n|evos-testip$' "$log" && grep -q '^-D|-n|evos-testip-detail$' "$log" && pass "stop deletes both attributes" \
  || fail "stop: $(cat "$log")"
[ ! -e "$state" ] && pass "stop removes the state file" || fail "state file left"
expect 0 "stop again" stop
expect 7 "monitor after stop" monitor

# A name that does not exist: a configuration error naming it, never a silent "down".
: > "$log"
HL="198.18.0.254 nosuch.evos-test"
expect 6 "start with a name that does not resolve: OCF_ERR_CONFIGURED" start
reason_has "nosuch.evos-test"
[ ! -s "$log" ] && pass "nothing published for the bad name" || fail "published: $(cat "$log")"
[ ! -e "$state" ] && pass "no state file after the failed start" || fail "state file after failed start"
expect 0 "validate-all level 0 does not resolve" validate-all
expect 6 "validate-all level 10 resolves" validate-all OCF_CHECK_LEVEL=10
reason_has "nosuch.evos-test"
expect 6 "a colon weight" start OCF_RESKEY_host_list="gw4.evos-test:2"
reason_has "parameter 'host_list'"

echo "ping_agent: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
