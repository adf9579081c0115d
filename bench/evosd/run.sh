#!/bin/bash
# run.sh - evosd's own cost (RSS, idle CPU, wake-ups) with N domains, and the VM agent's monitor
# through evosd vs direct vs the floor, in one run on libvirt's test driver (bench/README.md, "evosd").
#
#   run.sh [BUILD_DIR] [--domains 50] [--idle 60] [--settle 10] [--scrape-every 15] [--runs 40]
#          [--warmup 3] [--prefix eb] [--json FILE]
#
# Needs a build with daemon/evosd, agents/vm (and its full agent agents/libexec/vm), bench/vm-monitor/{floor,measure}, bench/evosd/{noop,noop-cxx}
# and python3. No libvirtd and no root: libvirt's test driver runs inside each client (libvirt0), so
# every process opens test:///WORK/node.xml and gets its own copy of the file's running domains.
# Work dir /tmp/evos-bench-evosd.XXXXXX, removed at exit.
# Exit status: 0 if everything ran (no thresholds on the figures), 1 otherwise.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=/work/main/build
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --domains|--idle|--settle|--scrape-every|--runs|--warmup|--prefix|--json) args+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 1 ;;
    *) build=$1; shift ;;
  esac
done
die() { echo "evosd-bench: FAIL: $*" >&2; exit 1; }
build=$(cd "$build" 2>/dev/null && pwd) || die "no build directory $build"
evosd=$build/daemon/evosd agent=$build/agents/vm
floor=$build/bench/vm-monitor/floor measure=$build/bench/vm-monitor/measure noop=$build/bench/evosd/noop noop_cxx=$build/bench/evosd/noop-cxx
for f in "$evosd" "$agent" "$floor" "$measure" "$noop" "$noop_cxx"; do
  [ -x "$f" ] || die "$f missing (cmake --build $build --target evosd evos_agent_vm evos_bench_vm_monitor_floor evos_bench_measure evos_bench_evosd_noop evos_bench_evosd_noop_cxx)"
done
command -v python3 >/dev/null || die "python3 is not installed"
work=$(mktemp -d /tmp/evos-bench-evosd.XXXXXX) || die "mktemp failed"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
echo "evosd-bench: $(date -u +%FT%TZ), commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo ?), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 "$here/bench.py" --evosd "$evosd" --agent "$agent" --floor "$floor" --measure "$measure" --noop "$noop" --noop-cxx "$noop_cxx" \
  --work "$work" "${args[@]}"
