#!/bin/bash
# run.sh - benchmark the monitor action: ocf:evos:vm vs ocf:heartbeat:VirtualDomain vs the floor.
#
#   run.sh [BUILD_DIR] [--runs N] [--warmup N] [--trace-runs N] [--json FILE]
#
# Brings up one libvirt host of the test harness (tests/support/virt-hosts.sh, under its own
# prefix), starts the tiny counting guest (tests/support/build-guest.sh, cached in
# BUILD_DIR/guest-cache) on host 1, waits until it ticks, then runs the monitor of
#   evos   the installed agent (cmake --install BUILD_DIR) <stage>/lib/ocf/resource.d/evos/vm
#   vd     /usr/lib/ocf/resource.d/heartbeat/VirtualDomain (Debian's resource-agents)
#   floor  floor.c: connect, look up, get state
# against that same domain and libvirtd, alternating evos vd floor evos vd floor ..., with the
# environment pacemaker-execd gives an agent (env -i, PATH, OCF_ROOT, OCF_RESOURCE_INSTANCE,
# OCF_RESKEY_*, HA_RSCTMP). Each run goes through measure.c (wall time, CPU of the process tree,
# libvirtd's CPU). A separate untimed pass under strace counts execve and fork calls.
# Every run must exit 0 (the domain runs): a benchmark of a failing monitor is void.
#
# Defaults: BUILD_DIR /work/main/build, 40 timed runs each, 3 warm-up rounds, 5 traced runs each.
# Prints a table and "RESULT name=value" lines; --json FILE writes the same as JSON.
# Exit status: 0 if everything ran (no thresholds on the figures), 1 otherwise. Needs root.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=/work/main/build runs=40 warmup=3 trace_runs=5 json=
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --trace-runs) trace_runs=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 1 ;;
    *) build=$1; shift ;;
  esac
done
die() { echo "vm-monitor: FAIL: $*" >&2; exit 1; }
log() { echo "vm-monitor: $*" >&2; }
for n in "$runs" "$warmup" "$trace_runs"; do [[ $n =~ ^[0-9]+$ ]] || die "not a count: $n"; done
[ "$runs" -ge 1 ] && [ "$trace_runs" -ge 1 ] || die "--runs and --trace-runs must be at least 1"
[ "$(id -u)" = 0 ] || die "needs root (libvirtd and QEMU in private namespaces)"
build=$(cd "$build" 2>/dev/null && pwd) || die "no build directory $build"
if [ -n "$json" ]; then
  mkdir -p "$(dirname "$json")" && json=$(cd "$(dirname "$json")" && pwd)/$(basename "$json") || die "bad --json path"
fi

vd_agent=/usr/lib/ocf/resource.d/heartbeat/VirtualDomain
for tool in virsh strace cc pkg-config python3 qemu-system-x86_64 tini; do
  command -v "$tool" >/dev/null || die "$tool is not installed (run scripts/install-deps.sh)"
done
[ -x "$vd_agent" ] || die "$vd_agent missing (apt-get install resource-agents)"
[ -r /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs ] || die "resource-agents' ocf-shellfuncs missing"

prefix=${EVOS_TEST_PREFIX:-b$(printf '%04d' $((RANDOM % 10000)))}
base=${EVOS_TEST_BASE:-/tmp/evos-$prefix}
export EVOS_TEST_PREFIX=$prefix EVOS_TEST_BASE=$base
hosts() { "$repo/tests/support/virt-hosts.sh" "$@"; }
cleanup() { hosts down >/dev/null 2>&1; rm -rf "$base"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
[ -e "$base" ] && die "$base already exists (another instance with prefix $prefix?)"
mkdir -p "$base"/{shared,bin,out,trace,rsc-evos,rsc-vd}

# --- binaries: the agent as installed, floor and measure (CMake-built if current, else cc) ---
cmake --install "$build" --prefix "$base/stage" >/dev/null || die "cmake --install $build failed (build it first)"
agent=$base/stage/lib/ocf/resource.d/evos/vm
[ -x "$agent" ] || die "the agent was not installed at $agent"
for prog in floor measure; do
  built=$build/bench/vm-monitor/$prog
  if [ -x "$built" ] && [ "$built" -nt "$here/$prog.c" ]; then
    cp "$built" "$base/bin/$prog"
  else
    libs=(); [ "$prog" = floor ] && read -ra libs <<<"$(pkg-config --cflags --libs libvirt)"
    cc -O2 -Wall -Wextra -o "$base/bin/$prog" "$here/$prog.c" "${libs[@]}" || die "cannot compile $prog.c"
  fi
done
floor=$base/bin/floor measure=$base/bin/measure

# --- one libvirt host with the counting guest running on it ---------------------------------
dom=${prefix}vm
"$repo/tests/support/build-guest.sh" "$build/guest-cache" || die "cannot build the test guest"
hosts up || die "the libvirt hosts did not come up"
xml=$base/shared/$dom.xml
hosts domain-xml "$dom" "$base/shared" "$build/guest-cache" "$xml" 128 || die "cannot write the domain XML"
uri=$(hosts uri 1)
# defined and started, as ocf:evos:vm's start leaves it
hosts virsh 1 define "$xml" >/dev/null || die "virsh define failed"
mark=$(hosts serial-mark "$base/shared" "$dom")   # a reused EVOS_TEST_BASE keeps older boots in the log
hosts virsh 1 start "$dom" >/dev/null || die "virsh start failed"
hosts wait-boot "$base/shared" "$dom" "$mark" 120 >/dev/null || die "the guest never booted and ticked"
daemon=$(hosts libvirtd-pid 1) || die "no libvirtd pid"

# --- the three monitors, as pacemaker-execd would run them ----------------------------------
# cmd_<name>: the environment (env -i ...) and then the argv after which measure or strace goes.
ocf_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE="$dom"
         OCF_RESKEY_config="$xml" OCF_RESKEY_hypervisor="$uri"
         OCF_RESKEY_CRM_meta_interval=10000 OCF_RESKEY_CRM_meta_timeout=30000)
names=(evos vd floor)
declare -A label=([evos]="ocf:evos:vm" [vd]="ocf:heartbeat:VirtualDomain" [floor]="floor (floor.c)")
env_of() {  # env_of NAME -> ENV array
  case $1 in
    evos) ENV=("${ocf_env[@]}" HA_RSCTMP="$base/rsc-evos") ;;
    vd) ENV=("${ocf_env[@]}" HA_RSCTMP="$base/rsc-vd") ;;
    floor) ENV=("${ocf_env[@]}" HA_RSCTMP="$base/rsc-evos") ;;
  esac
}
cmd_of() {  # cmd_of NAME -> CMD array
  case $1 in
    evos) CMD=("$agent" monitor) ;;
    vd) CMD=("$vd_agent" monitor) ;;
    floor) CMD=("$floor" "$uri" "$dom") ;;
  esac
}
cd "$base" || die "cd $base"

# run NAME TAG: one measured run; appends "NAME TAG <measure line>" to $base/runs.txt
run() {
  local name=$1 tag=$2 out=$base/out/$1.$2 line
  env_of "$name"; cmd_of "$name"
  line=$("${ENV[@]}" "$measure" -o "$out" -p "$daemon" -- "${CMD[@]}") || die "measure failed on $name ($tag)"
  if [[ $line != *" exit=0 "* ]]; then
    log "$name ($tag) did not exit 0: $line"; sed 's/^/    /' "$out" >&2
    die "a monitor failed: the benchmark is void"
  fi
  echo "$name $tag $line" >>"$base/runs.txt"
}

log "prefix $prefix, domain $dom on $uri"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "load before: $load_before"
for ((i = 1; i <= warmup; i++)); do for n in "${names[@]}"; do run "$n" "warmup$i"; done; done
: >"$base/runs.txt"
log "timing $runs runs each, alternating ${names[*]}"
for ((i = 1; i <= runs; i++)); do for n in "${names[@]}"; do run "$n" "$i"; done; done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
log "load after: $load_after"

# --- untimed: processes per monitor under strace --------------------------------------------
# execve: successful execs (the monitored program's own exec included); forks: fork/vfork/clone/
# clone3 calls that make a process (CLONE_THREAD absent), i.e. processes below the program.
: >"$base/trace.txt"
for ((i = 1; i <= trace_runs; i++)); do
  for n in "${names[@]}"; do
    env_of "$n"; cmd_of "$n"
    t=$base/trace/$n.$i
    "${ENV[@]}" strace -f -qq -e trace=execve,fork,vfork,clone,clone3 -e signal=none -o "$t" "${CMD[@]}" \
      </dev/null >"$t.out" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || { sed 's/^/    /' "$t.out" >&2; die "$n under strace exited $rc"; }
    execs=$(grep -cE '(execve\(.*|<\.\.\. execve resumed>.*)\) *= 0$' "$t")
    forks=$(grep -E '^[0-9]+ +(fork|vfork|clone|clone3)\(' "$t" | grep -vc CLONE_THREAD)
    echo "$n $i execs=$execs forks=$forks" >>"$base/trace.txt"
  done
done

python3 "$here/report.py" --runs "$base/runs.txt" --trace "$base/trace.txt" --clk-tck "$(getconf CLK_TCK)" \
  --load-before "$load_before" --load-after "$load_after" \
  --nproc "$(nproc)" ${json:+--json "$json"} || die "report failed"
