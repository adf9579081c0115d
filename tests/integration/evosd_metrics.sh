#!/bin/bash
# evosd_metrics.sh EVOSD EVOSCTL - evosd serves the metrics and records the history (docs/evosd.md,
# "Metrics and history") on libvirt's test:///default driver: /metrics answers with the node's and
# evosd's own families and passes promtool; within two sampling rounds the history file holds the
# same value evosctl stats --json prints; a second evosd whose metrics port is taken logs it and
# runs on (its socket answers); a third with metrics_max_age reports the block counters' age. Processes are signalled by their PIDs only.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=../support/evosd-client.sh
source "$(dirname "$(readlink -f "$0")")/../support/evosd-client.sh"
evosd=${1:?usage: evosd_metrics.sh EVOSD EVOSCTL}
evosctl=${2:?usage: evosd_metrics.sh EVOSD EVOSCTL}
passes=0 fails=0
pass() { passes=$((passes + 1)); echo "ok: $*"; }
fail() { fails=$((fails + 1)); echo "FAIL: $*"; }
work=$(mktemp -d /tmp/evos-evosd-metrics.XXXXXX)
pids=()
cleanup() { local p; for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -m 0700 "$work/run1" "$work/run2"
start() {  # start N EXTRA...: an evosd on test:///default
    local n=$1; shift
    "$evosd" --socket "$work/run$n/evosd.sock" --uri test:///default --node n1 --no-report --records "$work/rec$n" --no-drbd-events --no-corosync-events "$@" \
        >"$work/log$n" 2>&1 &
    pids+=($!)
}
start 1 --metrics-listen "127.0.0.1:$port" --history "$work/h/history.db"
got=""
scrape() { http_get "$1"; }
for _ in $(seq 1 100); do got=$(scrape "http://127.0.0.1:$port/metrics") && break; sleep 0.1; done
grep -q '^evos_daemon_libvirt_connected 1$' <<<"$got" && pass "evosd's own families on /metrics" || fail "no evos_daemon_libvirt_connected 1: $(head -c 300 <<<"$got")"
grep -q '^evos_vms{node="n1"} 1$' <<<"$got" && pass "the node's families too (the test driver's one VM)" || fail "no evos_vms: $(grep evos_vms <<<"$got")"
if command -v promtool >/dev/null; then
    out=$(promtool check metrics <<<"$got" 2>&1) && pass "promtool check metrics: clean" || fail "promtool: $out"
else
    fail "promtool missing (scripts/install-deps.sh installs prometheus)"
fi
stats=""
for _ in $(seq 1 250); do
    stats=$("$evosctl" stats --db "$work/h/history.db" --json 2>/dev/null) && grep -q '"evos_vms"' <<<"$stats" && break
    sleep 0.1
done
[[ $(python3 -c 'import json,sys; d=json.load(sys.stdin); print([s["current"] for s in d["series"] if s["name"]=="evos_vms"][0])' <<<"$stats" 2>/dev/null) == 1.0 ]] &&
    pass "the history holds what /metrics said (evosctl stats --json: evos_vms 1)" || fail "evosctl stats: $stats"
start 2 --metrics-listen "127.0.0.1:$port" --history off
for _ in $(seq 1 100); do grep -q "metrics off" "$work/log2" && break; sleep 0.1; done
grep -q "metrics off: .*in use" "$work/log2" && pass "a taken port is logged: $(grep -o 'metrics off: .*' "$work/log2")" || fail "second evosd: $(cat "$work/log2")"
ans=$(evosd_ask "$work/run2/evosd.sock" '{"op":"vm","name":"test"}')
grep -q '"running"' <<<"$ans" && kill -0 "${pids[1]}" 2>/dev/null && pass "and runs on: its socket answers ($ans)" || fail "second evosd's socket: $ans"
# metrics_max_age (docs/metrics.md, "VMs"): the sample's age is a family, the state stays live,
# and promtool still passes.
mkdir -m 0700 "$work/run3"
printf 'metrics_max_age = 1s\n' >"$work/max-age.conf"
port3=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start 3 --config "$work/max-age.conf" --metrics-listen "127.0.0.1:$port3" --history off
got3=""
for _ in $(seq 1 100); do got3=$(scrape "http://127.0.0.1:$port3/metrics") && break; sleep 0.1; done
grep -q '^evos_vm_block_sample_age_seconds{node="n1"} ' <<<"$got3" && grep -q '^evos_vm_state{vm="test",node="n1",state="running"} 1$' <<<"$got3" &&
    pass "metrics_max_age: the block counters' age is reported, the state is live" || fail "metrics_max_age: $(grep -E 'sample_age|evos_vm_state' <<<"$got3")"
if command -v promtool >/dev/null; then
    out=$(promtool check metrics <<<"$got3" 2>&1) && pass "promtool check metrics with metrics_max_age: clean" || fail "promtool: $out"
fi
grep -q '^evos_vm_block_sample_age_seconds' <<<"$got" && fail "live evosd reports a sample age" || pass "live (the default): no sample age"
echo "evosd_metrics: $passes passed, $fails failed"
[[ $fails == 0 ]]
