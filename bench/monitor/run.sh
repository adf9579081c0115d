#!/bin/bash
# run.sh - benchmark a /metrics scrape of N VMs: evos's exporter (libevos metrics::HttpExporter
# with the libvirt source, bench/monitor/exporter.cpp), live and sampled, vs
# prometheus-libvirt-exporter (Debian's package), all on the same libvirtd, in one run.
#
#   run.sh [BUILD_DIR] [--vms N] [--runs N] [--warmup N] [--json FILE]
#
# Brings up host 1 of the test harness (tests/support/virt-hosts.sh, its own prefix), defines N
# QEMU domains (32 MiB, a 1 MiB raw virtio disk, a virtio NIC on a tap) and starts them paused:
# each is a real QEMU process with block, network and balloon statistics, and none uses CPU.
# Three exporters listen on 127.0.0.1 (free ports) and read libvirtd's unix socket: evos live
# (every figure read by the scrape), evos-sampled (block counters read in the background every
# 5 s and served up to 10 s old, evosd's metrics_max_age = 10s; everything else live) and the
# peer. scrape.py scrapes them in turn (evos, evos-sampled, peer, evos, ...): wall time per
# scrape, and per exporter the samples and metric names one scrape holds; each evos row's ratio
# is against the peer. A failed scrape is discarded and counted. Then
# groups.c times libvirt's calls alone on the same domains: the bulk stats per stats group, in 1
# and 4 calls, and the per-domain calls (where a scrape's time goes).
# Defaults: BUILD_DIR /work/main/build, 20 VMs, 30 timed scrapes each, 3 warm-up rounds.
# Exit status: 0 if every exporter ran (no thresholds on the figures), 1 otherwise. Needs root.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=/work/main/build vms=20 runs=30 warmup=3 json= max_age_ms=10000
while [ $# -gt 0 ]; do
  case $1 in
    --vms) vms=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 1 ;;
    *) build=$1; shift ;;
  esac
done
die() { echo "monitor: FAIL: $*" >&2; exit 1; }
log() { echo "monitor: $*" >&2; }
for n in "$vms" "$runs" "$warmup"; do [[ $n =~ ^[0-9]+$ ]] || die "not a count: $n"; done
[ "$vms" -ge 1 ] && [ "$vms" -le 99 ] && [ "$runs" -ge 1 ] || die "--vms 1..99, --runs at least 1"
[ "$(id -u)" = 0 ] || die "needs root (libvirtd and QEMU in private namespaces)"
build=$(cd "$build" 2>/dev/null && pwd) || die "no build directory $build"
exporter=$build/bench/monitor/exporter
[ -x "$exporter" ] || die "$exporter missing (cmake --build $build --target evos_bench_monitor_exporter)"
[ -x "$build/bench/monitor/groups" ] || die "$build/bench/monitor/groups missing (cmake --build $build --target evos_bench_monitor_groups)"
peer=$(command -v prometheus-libvirt-exporter) || die "prometheus-libvirt-exporter is not installed (scripts/install-deps.sh)"
for tool in virsh python3 qemu-system-x86_64 tini; do
  command -v "$tool" >/dev/null || die "$tool is not installed (run scripts/install-deps.sh)"
done
if [ -n "$json" ]; then
  mkdir -p "$(dirname "$json")" && json=$(cd "$(dirname "$json")" && pwd)/$(basename "$json") || die "bad --json path"
fi

prefix=${EVOS_TEST_PREFIX:-m$(printf '%04d' $((RANDOM % 10000)))}
base=${EVOS_TEST_BASE:-/tmp/evos-$prefix}
export EVOS_TEST_PREFIX=$prefix EVOS_TEST_BASE=$base
hosts() { "$repo/tests/support/virt-hosts.sh" "$@"; }
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  hosts down >/dev/null 2>&1
  rm -rf "$base"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ -e "$base" ] && die "$base already exists (another instance with prefix $prefix?)"
mkdir -p "$base/shared"

hosts up || die "the libvirt host did not come up"
uri=$(hosts uri 1)
log "prefix $prefix, $vms paused QEMU domains on $uri"
for ((i = 1; i <= vms; i++)); do
  name=$(printf '%sv%02d' "$prefix" "$i")
  truncate -s 1M "$base/shared/$name.img"
  cat >"$base/shared/$name.xml" <<XML
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$base/shared/$name.img'/><target dev='vda' bus='virtio'/></disk>
    <interface type='ethernet'><target dev='${name}t' managed='yes'/><model type='virtio'/></interface>
    <memballoon model='virtio'/>
  </devices>
</domain>
XML
  hosts virsh 1 define "$base/shared/$name.xml" >/dev/null || die "virsh define $name failed"
  hosts virsh 1 start --paused "$name" >/dev/null || die "virsh start $name failed"
done

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
evos_port=$(port) sampled_port=$(port) peer_port=$(port)
# evos reads each QEMU's RSS from /proc (docs/metrics.md, "VMs"): the host's pid files are in its
# own /run/libvirt, its PIDs in its own PID namespace, whose /proc is under its PID 1's root.
procdir=/proc/$(hosts host-pid 1)/root/proc
"$exporter" "$uri" "$evos_port" "$base/h1/run/qemu" "$procdir" 2>"$base/evos.log" &
pids+=($!)
# The same with the block counters read in the background, as evosd with metrics_max_age = 10s.
"$exporter" "$uri" "$sampled_port" "$base/h1/run/qemu" "$procdir" "$max_age_ms" 2>"$base/sampled.log" &
pids+=($!)
"$peer" --libvirt.uri="$uri" --web.listen-address="127.0.0.1:$peer_port" 2>"$base/peer.log" &
pids+=($!)

python3 "$here/scrape.py" --runs "$runs" --warmup "$warmup" --vms "$vms" ${json:+--json "$json"} \
  "evos=http://127.0.0.1:$evos_port/metrics" "evos-sampled=http://127.0.0.1:$sampled_port/metrics" \
  "prometheus-libvirt-exporter=http://127.0.0.1:$peer_port/metrics" \
  || { for f in evos sampled peer; do sed "s/^/    $f: /" "$base/$f.log" >&2; done; die "the scrapes failed"; }
# Where the time goes: libvirt's calls alone, per stats group, on the same domains (groups.c).
"$build/bench/monitor/groups" "$uri" 15 || log "groups: the per-group timing failed (the scrapes above stand)"
