#!/bin/bash
# run.sh BUILD_DIR [--reps N] [--healthy S] [--interval D] [--timeout D] [--attempts N] [--json FILE]
# - corporate link down on an HA VM's node -> the VM runs on the peer, with the ping agent alone
# and with evosd probing the test IPs as well, N times each, alternating, in one lab, in one run
# (bench/README.md, "testip-failover"; the rules: docs/testip.md, "evosd").
# Setup as scenario/testip: `evosctl cluster init --priority-fencing-delay 1s`, the ping clone
# and the per-VM rules of crm-templates/testip.crm for the lab's three test IPs, the tiny counting
# guest as an HA VM (`vm ha enable --migration-unsafe --force-stop`). The lab's own evosd is
# stopped; the bench runs evosd itself on both nodes: in mode "ping" without test IPs, in mode
# "evosd" with testip_hosts (the same hosts, weights and multiplier as the clone) writing
# testip_attribute=evos-testip-evosd, and its attribute deleted when it goes.
# One measurement: `cut corp` on the VM's node -> a loop inside the peer (virsh every 50 ms, the
# peer's clock = the host's) sees the domain running; it counts once Pacemaker locates the VM
# there, libvirt on the old node has it stopped, and the guest's ticks continue (same boot: a live
# migration). Then heal and wait until the cluster is settled. A measurement that fails any of
# these within 60 s is discarded and counted. The timeline of each comes from the nodes'
# pacemaker.log and evosd's timestamped log: attrd has the new value, the DC initiates
# migrate_to, the peer runs it. Before the cuts, --healthy S seconds (default 60) with evosd
# probing and all links healthy: every value evosd or the ping agent wrote is counted (a flap).
# Prints the medians and their ratio; --json writes the samples too. Root; the lab takes the name
# EVOS_LAB_NAME (default b + 4 digits).
# shellcheck disable=SC2016  # the sh -c scripts run inside the nodes
set -uo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR [--reps N] [--healthy S] [--json FILE]}" && pwd)
shift
reps=5 healthy=60 json="" interval="" timeout="" attempts=""   # "": evosd's defaults
while [[ $# -gt 0 ]]; do
  case $1 in
    --reps) reps=${2:?}; shift ;;
    --healthy) healthy=${2:?}; shift ;;
    --interval) interval=${2:?}; shift ;;
    --timeout) timeout=${2:?}; shift ;;
    --attempts) attempts=${2:?}; shift ;;
    --json) json=${2:?}; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[[ $reps =~ ^[1-9][0-9]*$ && $healthy =~ ^[0-9]+$ ]] || { echo "bad --reps or --healthy" >&2; exit 2; }
src=$(cd "$(dirname "$0")/../.." && pwd)
[[ $(id -u) == 0 ]] || { echo "needs root (the lab)" >&2; exit 1; }
name=${EVOS_LAB_NAME:-b$(printf '%04d' $((RANDOM % 10000)))}
export EVOS_LAB_NAME=$name
unset EVOS_LAB_BASE EVOS_LAB_STAGE
export EVOS_LAB_CACHE=${EVOS_LAB_CACHE:-$build/lab-cache}
base=/tmp/evos-lab-$name shared=/tmp/evos-lab-$name/shared
n1=${name}1 n2=${name}2 vm=${name}vm rsc=vm-${name}vm
test_ips="198.18.1.254 198.18.1.253 198.18.1.252"
attr=evos-testip eattr=evos-testip-evosd
work=$(mktemp -d "$build/bench-testip-failover.$name.XXXXXX")
stage=$work/stage lab=$stage/libexec/evos/evos-lab guest=$build/guest-cache vh=$src/tests/support/virt-hosts.sh
say() { echo "[bench-testip-failover $name $(date +%T.%3N)] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
now_ms() { date +%s%3N; }
L() { "$lab" "$@"; }
X() { "$lab" exec "$@"; }
cleanup() {
  trap '' INT TERM HUP
  local p
  for p in $(jobs -p); do kill "$p" 2>/dev/null; done   # only our own background jobs
  [[ -x $lab ]] && { L down --timeout 30 >/dev/null 2>&1 || L down --kill >/dev/null 2>&1; }
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
wait_for() { local end=$(( $(now_ms) + $1 * 1000 )); shift; until "$@" >/dev/null 2>&1; do (( $(now_ms) < end )) || return 1; sleep 0.2; done; }
other() { if [[ $1 == "$n1" ]]; then echo "$n2"; else echo "$n1"; fi; }
located() { X "$n1" timeout 20 crm_resource --locate --resource "$rsc" --quiet 2>/dev/null | xargs; }
cib_attr() { X "$n1" timeout 20 crm_attribute --node "$1" --name "$2" --lifetime reboot --query --quiet 2>/dev/null; }
both_online() {
  local x
  x=$(X "$1" timeout 20 crm_mon -1 --output-as=xml 2>/dev/null) || return 1
  grep -q '<current_dc present="true"[^>]* with_quorum="true"' <<<"$x" &&
    grep -q "<node name=\"$n1\" id=\"[0-9]*\" online=\"true\"" <<<"$x" && grep -q "<node name=\"$n2\" id=\"[0-9]*\" online=\"true\"" <<<"$x"
}
vstate() {
  local out
  out=$(X "$1" timeout 10 virsh -q -c qemu:///system list --state-running --name 2>/dev/null) || { echo unknown; return; }
  if grep -qx "$vm" <<<"$out"; then echo running; else echo stopped; fi
}
runs_only_on() {
  local me peer
  me=$(vstate "$1") peer=$(vstate "$(other "$1")")
  [[ $me == running && $peer == stopped && $(located) == "$1" ]]
}
slog=$shared/$vm.serial.log
boots() { grep -ac 'EVOS-INIT-START' "$slog" 2>/dev/null; }
last_tick() { awk '$1 == "EVOS-TICK" && $2 ~ /^[0-9]+$/ { n = $2 } END { print n + 0 }' "$slog" 2>/dev/null; }
mode=ping
settled() {
  both_online "$n1" && both_online "$n2" || return 1
  [[ $(cib_attr "$n1" $attr) == 3000 && $(cib_attr "$n2" $attr) == 3000 ]] || return 1
  if [[ $mode == evosd ]]; then [[ $(cib_attr "$n1" $eattr) == 3000 && $(cib_attr "$n2" $eattr) == 3000 ]] || return 1; fi
  local l; l=$(located)
  [[ $l == "$n1" || $l == "$n2" ]] && runs_only_on "$l" && X "$n1" timeout 40 crm_resource --wait --timeout=30s >/dev/null 2>&1
}

# --- evosd, run by the bench: started in each node with `lab exec`, its stderr timestamped ----
evosd_conf() { # evosd_conf MODE: the configuration file for MODE
  local f=$shared/evosd-$1.conf
  {
    echo "history = off"
    echo "metrics_listen = off"
    echo "drbd_events = no"
    if [[ $1 == evosd ]]; then
      echo "testip_hosts = $test_ips"
      echo "testip_attribute = $eattr"
      echo "testip_multiplier = 1000"
      [[ -z $interval ]] || echo "testip_interval = $interval"
      [[ -z $timeout ]] || echo "testip_timeout = $timeout"
      [[ -z $attempts ]] || echo "testip_attempts = $attempts"
    fi
  } >"$f"
  echo "$f"
}
evosd_start() { # evosd_start NODE MODE
  local conf; conf=$(evosd_conf "$2")
  X "$1" sh -c '{ sh -c "echo \$\$ >/run/evosd-bench.pid; exec evosd --config $1" 2>&1 </dev/null |
      while IFS= read -r l; do echo "$(date +%s%3N) $l"; done >>/var/log/evosd-bench.log; } >/dev/null 2>&1 &' sh "$conf"
}
evosd_stop() { # evosd_stop NODE: SIGTERM by PID, wait until gone, delete its attribute
  local p i
  p=$(X "$1" cat /run/evosd-bench.pid 2>/dev/null) || return 0
  X "$1" kill "$p" 2>/dev/null
  for ((i = 0; i < 100; i++)); do X "$1" kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  X "$1" rm -f /run/evosd-bench.pid
  X "$1" attrd_updater --node "$1" -n "$eattr" -D >/dev/null 2>&1
}
set_mode() { # set_mode ping|evosd
  local n
  for n in "$n1" "$n2"; do evosd_stop "$n"; done
  mode=$1
  for n in "$n1" "$n2"; do evosd_start "$n" "$mode"; done
}
# pm_time NODE SINCE_MS PATTERN: ms of the first line of NODE's pacemaker.log matching PATTERN
# (grep -E) after SINCE_MS
pm_time() {
  local line t
  while IFS= read -r line; do
    t=$(date -d "$(awk '{print $1, $2, $3}' <<<"$line")" +%s%3N 2>/dev/null) || continue
    if (( t >= $2 )); then echo "$t"; return 0; fi
  done < <(grep -aE "$3" "$base/$1/log/pacemaker/pacemaker.log" 2>/dev/null)
  return 1
}
pm_count() { # pm_count NODE SINCE_MS PATTERN: how many lines of NODE's pacemaker.log after SINCE_MS match
  local line t c=0
  while IFS= read -r line; do
    t=$(date -d "$(awk '{print $1, $2, $3}' <<<"$line")" +%s%3N 2>/dev/null) || continue
    (( t >= $2 )) && c=$((c + 1))
  done < <(grep -aE "$3" "$base/$1/log/pacemaker/pacemaker.log" 2>/dev/null)
  echo "$c"
}
first_of() { printf '%s\n' "$@" | grep -E '^[0-9]+$' | sort -n | head -n 1; }

# === setup ====================================================================================
t_setup=$(now_ms)
cmake --install "$build" --prefix "$stage" >/dev/null || die "cmake --install failed"
[[ -x $stage/sbin/evosd ]] || die "evosd not staged"
"$src/tests/support/build-guest.sh" "$guest" >/dev/null || die "build-guest.sh failed"
L up --stage "$stage" >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; die "lab up failed"; }
wait_for 60 both_online "$n1" || die "cluster not formed"
for n in "$n1" "$n2"; do  # the lab's evosd (no test IPs): the bench runs its own
  p=$(X "$n" cat /run/evos-lab/evosd.pid 2>/dev/null) && X "$n" kill "$p" 2>/dev/null
done
"$vh" domain-xml "$vm" "$shared" "$guest" "$shared/$vm.xml" 128 || die "domain-xml"
X "$n1" evosctl cluster init --priority-fencing-delay 1s >/dev/null || die "cluster init"
X "$n1" evosctl cluster testip enable --hosts "$test_ips" >/dev/null || die "testip enable"
X "$n1" evosctl vm ha enable "$vm" --config "$shared/$vm.xml" --migration-unsafe --force-stop --timeout 120 >/dev/null ||
  die "vm ha enable"
X "$n1" evosctl cluster testip enable --hosts "$test_ips" --vm "$vm" >/dev/null || die "testip enable --vm"
# evosd's rule from the template (docs/testip.md, "evosd"): where evosd says no test IP, no VM
X "$n1" crm configure show "$rsc-testip-evosd" >/dev/null 2>&1 || die "no $rsc-testip-evosd rule (crm-templates/testip.crm)"
set_mode evosd
wait_for 120 settled || die "not settled after setup"
say "setup $(( ($(now_ms) - t_setup) / 1000 )) s; the VM runs on $(located); evosd: interval ${interval:-default}, timeout ${timeout:-default}, attempts ${attempts:-default}"

# === healthy links, evosd probing: no value may change ==========================================
flaps=0
if (( healthy > 0 )); then
  t0=$(now_ms)
  w0=(); for n in "$n1" "$n2"; do w0+=("$(X "$n" grep -c 'node attribute' /var/log/evosd-bench.log 2>/dev/null)"); done
  sleep "$healthy"
  i=0
  for n in "$n1" "$n2"; do  # evosd's writes (it writes only a change) and attrd's changes of either attribute
    w=$(X "$n" grep -c 'node attribute' /var/log/evosd-bench.log 2>/dev/null)
    c=$(pm_count "$n" "$t0" "Setting ($attr|$eattr)\[")
    flaps=$((flaps + ${w:-0} - ${w0[i]:-0} + c)); i=$((i + 1))
  done
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  say "healthy links for $healthy s, evosd probing (interval ${interval:-default}): $flaps attribute changes (load $load)"
fi

# === the cuts ================================================================================
declare -A samples=([ping]="" [evosd]="") seen=([ping]="" [evosd]="") mig=([ping]="" [evosd]="") mtime=([ping]="" [evosd]="")
discarded=0
load0=$(cut -d' ' -f1-3 /proc/loadavg)
measure() {  # measure MODE
  local a b b0 last arrival t0 poller det tm mt why
  [[ $mode == "$1" ]] || set_mode "$1"
  wait_for 120 settled || { discarded=$((discarded + 1)); say "$1: not settled before the cut; discarded"; return; }
  a=$(located) b=$(other "$a") b0=$(boots) last=$(last_tick)
  X "$b" timeout 60 sh -c 'while [ "$(virsh -q -c qemu:///system domstate "$1" 2>/dev/null | head -n 1)" != running ]; do sleep 0.05; done; date +%s%3N' \
    sh "$vm" >"$work/arrival" 2>/dev/null &
  poller=$!
  sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.5 + r / 32767 }')"   # a random phase of the 1 s rounds
  L cut corp "$a" >/dev/null || say "cut corp $a failed"
  t0=$(now_ms)
  wait "$poller"
  arrival=$(<"$work/arrival")
  why=""
  if [[ -z $arrival ]]; then why="the peer's loop saw no running domain"
  elif ! wait_for 60 runs_only_on "$b"; then why="not running only on $b as Pacemaker and libvirt see it"
  elif ! "$vh" wait-tick "$shared" "$vm" $((last + 2)) 30 >/dev/null 2>&1; then why="the guest's ticks did not go on"
  elif [[ $(boots) != "$b0" ]]; then why="the guest was restarted (boots $b0 -> $(boots)), not migrated"
  fi
  if [[ -z $why ]]; then
    samples[$1]+="$((arrival - t0)) "
    det=$(first_of "$(pm_time "$a" "$t0" "Setting ($attr|$eattr)\[$a\]: 3000 -> ")")
    tm=$(first_of "$(pm_time "$n1" "$t0" "Initiating migrate_to operation ${rsc}_migrate_to_0")" \
                  "$(pm_time "$n2" "$t0" "Initiating migrate_to operation ${rsc}_migrate_to_0")")
    mt=$(grep -a "migrated domain '$vm' to $b in " "$base/$a/log/pacemaker/pacemaker.log" 2>/dev/null | tail -n 1 |
      sed -n 's/.* in \([0-9]*\) ms; downtime.*/\1/p')
    [[ -n $mt ]] && mtime[$1]+="$mt "
    [[ -n $det ]] && seen[$1]+="$((det - t0)) "
    [[ -n $tm ]] && mig[$1]+="$((tm - t0)) "
    say "$1: cut corp $a -> running on $b after $((arrival - t0)) ms (attrd has the loss +$(( ${det:-t0} - t0 )) ms, migrate_to +$(( ${tm:-t0} - t0 )) ms, the agent's migration ${mt:-?} ms; live, ticks go on)"
  else
    discarded=$((discarded + 1))
    say "$1: cut corp $a: $why; discarded"
  fi
  L heal corp "$a" >/dev/null || say "heal corp $a failed"
}
for ((i = 0; i < reps; i++)); do
  if (( i % 2 )); then measure ping; measure evosd; else measure evosd; measure ping; fi
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)

python3 - "${samples[evosd]}" "${samples[ping]}" "${seen[evosd]}" "${seen[ping]}" "${mig[evosd]}" "${mig[ping]}" "${mtime[evosd]}${mtime[ping]}" \
  "$discarded" "$flaps" "$healthy" "interval ${interval:-default} timeout ${timeout:-default} attempts ${attempts:-default}" "$load0" "$load1" "$commit" "$json" <<'PY'
import json, statistics, sys
a = sys.argv
ints = lambda s: [int(x) for x in s.split()]
w, wo, sw, swo, mw, mwo, mt = (ints(x) for x in a[1:8])
a = a[:7] + a[8:]  # the rest as before
if not w or not wo:
    sys.exit("no samples in one mode")
def st(v):
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)} if v else None
r = {"evosd_ms": w, "ping_ms": wo, "evosd": st(w), "ping": st(wo),
     "attrd_has_loss_ms": {"evosd": st(sw), "ping": st(swo)}, "migrate_to_initiated_ms": {"evosd": st(mw), "ping": st(mwo)},
     "agent_migration_ms": st(mt), "discarded": int(a[7]), "healthy_flaps": int(a[8]), "healthy_seconds": int(a[9]),
     "evosd_interval_timeout_attempts": a[10], "load_before": a[11], "load_after": a[12], "commit": a[13]}
r["ratio_evosd_over_ping"] = round(r["evosd"]["median"] / r["ping"]["median"], 3)
f = lambda s: "n/a" if not s else f"{s['median'] / 1000:.2f} s (min {s['min'] / 1000:.2f}, max {s['max'] / 1000:.2f}, n={s['n']})"
print(f"corp link down -> VM running on the peer: evosd probing {f(r['evosd'])}; ping agent only {f(r['ping'])}; "
      f"ratio {r['ratio_evosd_over_ping']} ({r['discarded']} discarded)")
for k in ("evosd", "ping"):
    print(f"  {k}: attrd has the loss {f(r['attrd_has_loss_ms'][k])}; DC initiates migrate_to {f(r['migrate_to_initiated_ms'][k])}")
print(f"  the agent's migration (virDomainMigrateToURI3, both modes): {f(r['agent_migration_ms'])}")
print(f"  healthy links {r['healthy_seconds']} s with evosd probing ({a[10]}): {r['healthy_flaps']} attribute changes; "
      f"load {a[11]} -> {a[12]}; commit {a[13]}")
if a[14]:
    with open(a[14], "w") as fh:
        json.dump(r, fh, indent=1)
PY
