#!/bin/bash
# bench/ping: ocf:evos:ping against ocf:pacemaker:ping in the same run, in a test-IP lab of its
# own (tests/support/testip-lab.sh, prefix ebp<pid>): node + 3 test IPs, one of which silently
# drops every packet (iptables DROP in the switch namespace). Prints monitor durations (median,
# max) and their ratio, the same with 1..30 silent hosts, and detection times after a link cut.
# Exits non-zero if an evos monitor took longer than the probe timeout + 100 ms.
# Usage: run.sh BUILD_DIR [--runs N] [--trials N] [--json FILE]. Needs root, fping, python3.
set -euo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR [--runs N] [--trials N] [--json FILE]}" && pwd); shift
here=$(cd "$(dirname "$0")/../.." && pwd)
lab=$here/tests/support/testip-lab.sh
agent=$build/agents/ping
pcmk=/usr/lib/ocf/resource.d/pacemaker/ping
[ "$(id -u)" = 0 ] || { echo "bench/ping: needs root (namespaces, raw ICMP)" >&2; exit 1; }
[ -x "$agent" ] || { echo "bench/ping: build the agent first ($agent)" >&2; exit 1; }
[ -x "$pcmk" ] || { echo "bench/ping: $pcmk is missing (pacemaker; scripts/install-deps.sh)" >&2; exit 1; }
command -v fping >/dev/null || { echo "bench/ping: fping is missing (scripts/install-deps.sh)" >&2; exit 1; }
p=ebp$$
work=$(mktemp -d /tmp/evos-bench-ping.XXXXXX)
cleanup() { "$lab" down "$p" || true; rm -rf "$work"; }
trap cleanup EXIT
"$lab" up "$p"
silent=$(for i in $(seq 193 222); do printf '198.18.0.%s ' "$i"; done)
ip netns exec "$p-node" python3 "$here/bench/ping/bench.py" --work "$work" --evos "$agent" --pacemaker "$pcmk" \
  --interface "${p}n0" --sw-netns "$p-sw" --sw-interface "${p}s0" --hosts "198.18.0.254 198.18.0.253 198.18.0.193" --silent "$silent" "$@"
