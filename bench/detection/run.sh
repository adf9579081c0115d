#!/bin/bash
# run.sh BUILD_DIR [--kills N] [--json FILE] - how long an HA VM whose QEMU is killed (kill -9)
# takes to run again, with evosd (its crm_resource --fail) and without it (the recurring monitor,
# the templates' 10 s interval), N kills each, in one lab, in one run (bench/README.md).
# One measurement: kill -9 of the VM's QEMU -> a new QEMU process of that VM exists (Pacemaker
# started it again, on either node). Each kill comes a uniformly random 2..12 s after the VM last
# started, so the kill falls anywhere in the monitor's interval (a fixed delay would always hit the
# same phase of it). Between kills the failure is cleaned up (crm_resource --cleanup), so the
# templates' migration-threshold never bans the VM. A kill whose recovery is not seen within 90 s
# is discarded and counted. Prints the medians and their ratio; --json writes the samples too.
# Root; the lab takes the name EVOS_LAB_NAME (default b + 4 digits).
set -uo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR [--kills N] [--json FILE]}" && pwd)
shift
kills=10 json=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --kills) kills=${2:?}; shift ;;
    --json) json=${2:?}; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
src=$(cd "$(dirname "$0")/../.." && pwd)
[[ $(id -u) == 0 ]] || { echo "needs root (the lab)" >&2; exit 1; }
name=${EVOS_LAB_NAME:-b$(printf '%04d' $((RANDOM % 10000)))}
export EVOS_LAB_NAME=$name
unset EVOS_LAB_BASE EVOS_LAB_STAGE
export EVOS_LAB_CACHE=${EVOS_LAB_CACHE:-$build/lab-cache}
base=/tmp/evos-lab-$name shared=/tmp/evos-lab-$name/shared
n1=${name}1 n2=${name}2 vm=${name}vm rsc=vm-${name}vm
work=$(mktemp -d "$build/bench-detection.$name.XXXXXX")
stage=$work/stage lab=$stage/libexec/evos/evos-lab guest=$build/guest-cache
say() { echo "[bench-detection $name $(date +%T.%3N)] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
now_ms() { date +%s%3N; }
L() { "$lab" "$@"; }
X() { "$lab" exec "$@"; }
cleanup() {
  trap '' INT TERM HUP
  [[ -x $lab ]] && { L down --timeout 30 >/dev/null 2>&1 || L down --kill >/dev/null 2>&1; }
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
located() { X "$n1" timeout 20 crm_resource --locate --resource "$rsc" --quiet 2>/dev/null | xargs; }
runs() { [[ $(located) == "$n1" || $(located) == "$n2" ]]; }
started() { runs && ! X "$n1" timeout 20 crm_mon --one-shot --output-as=xml 2>/dev/null | grep -q "<failure "; }
qemu() { pgrep -f -- "-name guest=$vm," | head -n 1; }   # read-only look-up; signals go by PID
wait_for() { local end=$(( $(now_ms) + $1 * 1000 )); shift; until "$@" >/dev/null 2>&1; do (( $(now_ms) < end )) || return 1; sleep 0.1; done; }

cmake --install "$build" --prefix "$stage" >/dev/null || die "cmake --install failed"
[[ -x $stage/sbin/evosd ]] || die "evosd not staged"
"$src/tests/support/build-guest.sh" "$guest" >/dev/null || die "build-guest.sh failed"
L up --stage "$stage" >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; die "lab up failed"; }
X "$n1" evosctl cluster init >/dev/null 2>&1 || die "cluster init failed"
X "$n1" evosctl vm create "$vm" --memory 128M --disk 64M --kernel "$guest/vmlinuz" --initrd "$guest/initrd.gz" \
  --cmdline "console=ttyS0 quiet panic=-1" --virt-type qemu --storage "$shared" --ha --start \
  --migration-unsafe --shutdown-timeout 2 >"$work/create.log" 2>&1 || { cat "$work/create.log" >&2; die "vm create failed"; }
wait_for 120 started || die "the VM did not start"

declare -A samples=([evosd]="" [monitor]="")
discarded=0
measure() {  # measure MODE
  local mode=$1 old t0 t1 p
  # A failure left from before (a deep monitor that timed out on a loaded machine) is cleaned up
  # first: the kill must start from a clean resource.
  wait_for 120 runs || { discarded=$((discarded + 1)); say "$mode: not running before the kill; discarded"; return; }
  started || { X "$n1" crm_resource --cleanup --resource "$rsc" >/dev/null 2>&1; say "$mode: cleaned up an earlier failure"; }
  wait_for 60 started || { discarded=$((discarded + 1)); say "$mode: not running without failures before the kill; discarded"; return; }
  sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 2 + 10 * r / 32767 }')"
  old=$(qemu)
  [[ -n $old ]] || { discarded=$((discarded + 1)); say "$mode: no QEMU found; discarded"; return; }
  t0=$(now_ms)
  kill -9 "$old"
  while :; do
    p=$(qemu)
    [[ -n $p && $p != "$old" ]] && { t1=$(now_ms); break; }
    (( $(now_ms) - t0 < 90000 )) || { discarded=$((discarded + 1)); say "$mode: not restarted within 90 s; discarded"; return; }
    sleep 0.02
  done
  samples[$mode]+="$((t1 - t0)) "
  say "$mode: kill -9 $old -> QEMU $p after $((t1 - t0)) ms"
  wait_for 120 runs || true
  X "$n1" crm_resource --cleanup --resource "$rsc" >/dev/null 2>&1
}

for ((i = 0; i < kills; i++)); do measure evosd; done
for n in "$n1" "$n2"; do
  p=$(X "$n" cat /run/evos-lab/evosd.pid 2>/dev/null) && X "$n" kill "$p" 2>/dev/null
done
sleep 1
for ((i = 0; i < kills; i++)); do measure monitor; done

python3 - "${samples[evosd]}" "${samples[monitor]}" "$discarded" "$json" <<'PY'
import json, statistics, sys
w = [int(x) for x in sys.argv[1].split()]
wo = [int(x) for x in sys.argv[2].split()]
if not w or not wo:
    sys.exit("no samples")
r = {"with_evosd_ms": w, "without_evosd_ms": wo, "discarded": int(sys.argv[3]),
     "median_with_ms": statistics.median(w), "median_without_ms": statistics.median(wo)}
r["ratio_with_over_without"] = round(r["median_with_ms"] / r["median_without_ms"], 3)
print(f"kill -9 of an HA VM's QEMU -> a new QEMU: median {r['median_with_ms']:.0f} ms with evosd ({len(w)} kills), "
      f"{r['median_without_ms']:.0f} ms without (monitor every 10 s, {len(wo)} kills): ratio {r['ratio_with_over_without']} "
      f"({r['discarded']} discarded)")
if sys.argv[4]:
    with open(sys.argv[4], "w") as f:
        json.dump(r, f, indent=1)
PY
