#!/bin/bash
# run.sh BUILD_DIR [--kills N] [--pfd0-kills M] [--race-kills K] [--token MS] [--json FILE] - failover time of
# an HA VM when the node running it loses power, with ocf:evos:vm and with ocf:heartbeat:VirtualDomain
# managing the same guest, in one lab (docs/lab.md), alternating agents between kills.
#
#   1. stage BUILD_DIR, lab up (the lab's default token, or --token MS; consensus half the token;
#      name s + 4 digits, or EVOS_LAB_NAME), the tiny
#      counting guest (tests/support/build-guest.sh) on the lab's shared storage;
#   2. `evosctl cluster init --priority-fencing-delay 1s`, `evosctl vm ha enable` (the
#      crm-templates/vm-shared template: resource vm-G) and, with equivalent settings, a
#      VirtualDomain resource vd-G for the same domain XML, created Stopped. Only one of the two is
#      ever started (target-role), so they never manage the guest at the same time;
#   3. series 1 (priority-fencing-delay 1s): N kills per agent, A B A B ...: start the agent's
#      resource (stopping the other), wait until the guest ticks and the cluster is idle, then
#      `lab kill` the node running the VM, and measure from just before the kill to
#        running  libvirt's lifecycle event "Started" for the guest on the survivor (one
#                 `virsh event` inside the survivor), and
#        tick     the guest's first tick after its new EVOS-INIT-START (host, 50 ms polls),
#      check that no acknowledged guest write was lost (first tick after > last tick before),
#      then wait until the fenced node has rebooted (the lab's fence action) and rejoined;
#   4. series 2: priority-fencing-delay=0, M kills (A B ...), to show what the split protection
#      costs (Pacemaker delays fencing of the node holding the highest-priority resources, which
#      is exactly the dead node here);
#   4b. series 3 (--race-kills K), evos' recommended two-node fencing: the fence race device
#      (`evosctl cluster fence-race enable`: fence_evos_race before lab-fence, delay 2s, the
#      nodes' corporate addresses and the lab's test IPs; priority-fencing-delay=0), K kills per
#      agent (A B A B ...): the split protection without a delay on a real death
#      (docs/fence-race.md);
#   5. report: median and max per agent and series, the ratio VirtualDomain/evos, the cluster
#      properties used, RESULT lines, optionally JSON. The lab goes down on exit (also on failure
#      or interruption) and nothing of it is left.
# Defaults: --kills 4, --pfd0-kills 4, --race-kills 10. Needs root. Fails only if something failed to run or a
# guest write was lost (then the lab's logs are kept in BUILD_DIR/bench-failover-logs/NAME);
# timings are reported, never asserted (bench/README.md).
# eval and in-node sh -c strings expand late on purpose; lib.sh defines base, shared, n1, ...
# shellcheck disable=SC2016
set -uo pipefail
usage="usage: run.sh BUILD_DIR [--kills N] [--pfd0-kills M] [--race-kills K] [--token MS] [--json FILE]"
build=$(cd "${1:?$usage}" && pwd)
shift
kills=4 pfd0_kills=4 race_kills=10 json="" token=""
while [[ $# -gt 0 ]]; do
    case $1 in
    --kills) kills=${2:?}; shift ;;
    --pfd0-kills) pfd0_kills=${2:?}; shift ;;
    --race-kills) race_kills=${2:?}; shift ;;
    --token) token=${2:?}; shift ;;
    --json) json=${2:?}; shift ;;
    *) echo "$usage" >&2; exit 2 ;;
    esac
    shift
done
[[ $kills =~ ^[0-9]+$ && $pfd0_kills =~ ^[0-9]+$ && $race_kills =~ ^[0-9]+$ ]] && ((kills + pfd0_kills + race_kills > 0)) ||
    { echo "run.sh: --kills, --pfd0-kills, --race-kills: counts >= 0, not all 0" >&2; exit 2; }
[[ -z $token || $token =~ ^[0-9]+$ ]] || { echo "run.sh: --token: milliseconds" >&2; exit 2; }
[[ -z $json || $json == /* ]] || json=$PWD/$json
[[ -z $json ]] || mkdir -p "$(dirname "$json")" || exit 2
src=$(cd "$(dirname "$0")/../.." && pwd)
kind=bench-failover
# shellcheck source-path=SCRIPTDIR/../.. source=tests/scenarios/vm-shared/lib.sh
source "$src/tests/scenarios/vm-shared/lib.sh"
# the lab's default token (docs/lab.md) unless --token; consensus half of it (the lab's rule)
unset EVOS_LAB_CONSENSUS
if [[ -n $token ]]; then export EVOS_LAB_TOKEN=$token; else unset EVOS_LAB_TOKEN; fi
vd=vd-$vm
say() { echo "[failover $name $(date +%T.%3N)] $*"; }
die() { say "ERROR: $*"; exit 1; }
errors=0

WATCHER=""
cleanup() {
    local rc=$?
    trap '' INT TERM HUP
    [[ -z $WATCHER ]] || kill "$WATCHER" 2>/dev/null || true     # our own background lab exec
    if [[ -x $lab ]]; then
        if [[ $rc != 0 || $errors != 0 ]]; then
            local keep=$build/bench-failover-logs/$name
            say "lab down (logs kept in $keep)"
            L down --timeout 60 --save-logs "$keep" >/dev/null 2>&1 || L down --kill >/dev/null 2>&1 || true
        else
            say "lab down"
            L down --timeout 60 >/dev/null 2>&1 || L down --kill >/dev/null 2>&1 || true
        fi
        local left; left=$(leftovers)
        [[ -z $left ]] || { say "ERROR: left behind: $left"; rc=1; }
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---------------------------------------------------------------------------------------- setup
[[ $(id -u) == 0 ]] || die "needs root"
[[ -x /usr/lib/ocf/resource.d/heartbeat/VirtualDomain ]] || die "resource-agents (VirtualDomain) is not installed"
[[ ! -e $base ]] || die "$base exists already"
stage_evos || die "staging evos from its Debian packages failed"
"$src/tests/support/build-guest.sh" "$build/guest-cache" >/dev/null || die "build-guest.sh failed"
export EVOS_LAB_STAGE=$stage
say "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
L up >"$work/up.log" 2>&1 || { cat "$work/up.log"; die "lab up failed"; }
say "lab $name up (token $(sed -n "s/^TOKEN=//p" "$base/lab.env" 2>/dev/null) ms, consensus $(sed -n "s/^CONSENSUS=//p" "$base/lab.env" 2>/dev/null) ms)"
"$virt_hosts" domain-xml "$vm" "$shared" "$build/guest-cache" "$shared/$vm.xml" 128 || die "domain-xml failed"
X "$n1" evosctl cluster init --priority-fencing-delay 1s >/dev/null || die "evosctl cluster init failed"
X "$n1" evosctl vm ha enable "$vm" --config "$shared/$vm.xml" --migration-unsafe --shutdown-timeout 5 --timeout 180 >/dev/null ||
    die "evosctl vm ha enable failed"
# The guest has no ACPI: both agents keep force_stop=false (graceful first, as configured in
# production) and get the same short graceful part, 5 s, the way an admin sets it: ocf:evos:vm
# with shutdown_timeout=5 (stop timeout 90 s as in the template); VirtualDomain waits for the
# shutdown until its stop timeout minus 5 s, so stop timeout=10s. Stops happen only when the
# bench switches agents; they are not measured.
# VirtualDomain with the template's settings: same config, the hypervisor, force_stop=false,
# live migration over TCP with --unsafe (the evos resource has migration_unsafe=true), the same
# meta attributes, the same 10 s monitor. (The template's 60 s OCF_CHECK_LEVEL=10 monitor has no
# VirtualDomain counterpart and is left out; it does not run during a failover anyway.)
cat >"$shared/$vd.crm" <<EOF
primitive $vd ocf:heartbeat:VirtualDomain \\
	params config="$shared/$vm.xml" hypervisor="qemu:///system" force_stop=false migration_transport=tcp migrate_options="--unsafe" \\
	meta allow-migrate=true priority=10 resource-stickiness=100 migration-threshold=3 failure-timeout=10min target-role=Stopped \\
	op start timeout=90s interval=0s \\
	op stop timeout=10s interval=0s \\
	op monitor interval=10s timeout=30s \\
	op migrate_to timeout=120s interval=0s \\
	op migrate_from timeout=60s interval=0s
EOF
X "$n1" crm configure load update "$shared/$vd.crm" >/dev/null 2>&1 || die "cannot configure $vd"
wait_tick 2 120 >/dev/null || die "the guest does not tick"
CUR=$rsc

# ------------------------------------------------------------------------------------- helpers
agent_of() { if [[ $1 == "$rsc" ]]; then echo evos; else echo VirtualDomain; fi; }
running_nowhere() { [[ -z $(located "$1") && $(domstate "$n1") != running && $(domstate "$n2") != running ]]; }
# use RSC: make RSC the one resource managing the guest; wait until it runs and the guest ticks
use() {
    local r=$1 boots
    if [[ $CUR != "$r" ]]; then
        X "$n1" crm_resource --resource "$CUR" --meta --set-parameter target-role --parameter-value Stopped >/dev/null || return 1
        wait_for 180 running_nowhere "$CUR" || { say "$CUR did not stop"; return 1; }
        X "$n1" crm_resource --resource "$r" --meta --set-parameter target-role --parameter-value Started >/dev/null || return 1
        CUR=$r
    fi
    local h
    wait_for 180 eval 'h=$(located "$r") && [[ $h == "$n1" || $h == "$n2" ]] && [[ $(domstate "$h") == running ]]' ||
        { say "$r does not run on one node"; return 1; }
    settled "$n1" || { say "the cluster did not settle"; return 1; }
    boots=$(init_count)
    wait_for 120 tick_after_boot "$boots" || { say "the guest does not tick"; return 1; }
    wait_tick $(( $(last_tick) + 1 )) 30 >/dev/null
}
median() { python3 -c 'import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print(f"{statistics.median(v):.2f}" if v else "-")' "$@"; }

# place RSC WANT_DC: live-migrate RSC (through Pacemaker) so that it runs on the DC (WANT_DC=yes)
# or on the other node (no)
place() {
    local r=$1 want=$2 h dc t
    h=$(located "$r") dc=$(dc_of "$h")
    if [[ $want == yes && $h == "$dc" ]] || [[ $want == no && $h != "$dc" ]]; then return 0; fi
    t=$(other "$h")
    X "$n1" crm_resource --resource "$r" --move --node "$t" >/dev/null 2>&1 || return 1
    wait_for 180 runs_on "$t" "$r"
    local rc=$?
    X "$n1" crm_resource --resource "$r" --clear >/dev/null 2>&1
    settled "$n1"
    return $rc
}

# kill_once SERIES RSC I VICTIM_IS_DC: one measured kill; appends a line to $work/kills.tsv
kill_once() {
    local series=$1 r=$2 i=$3 want_dc=$4 h s dc boots last t0 t1 trun ttick first ok=yes
    use "$r" || { errors=$((errors + 1)); say "ERROR: kill $i: could not start $r"; return 1; }
    place "$r" "$want_dc" || { errors=$((errors + 1)); say "ERROR: kill $i: could not place $r"; return 1; }
    wait_tick $(( $(last_tick) + 1 )) 30 >/dev/null
    h=$(located "$r") s=$(other "$h")
    dc=$(dc_of "$s")
    boots=$(init_count)
    # The survivor's watcher: one `virsh event` subscribed to libvirt's lifecycle events prints
    # the time of the guest's "Started" event (emitted once the domain runs). Event-driven, so
    # it costs no CPU while the failover runs (a virsh poll loop took about half a core of this
    # 2-vCPU machine, slowing what it measured).
    : >"$work/running"
    X "$s" sh -c 'f=/run/evos-bench-watch.$$; mkfifo "$f" || exit 1
        virsh -q -c qemu:///system event --event lifecycle --loop --timeout 200 >"$f" 2>/dev/null & p=$!
        while read -r l; do case $l in *"$1"*Started*) date +%s%3N; break ;; esac; done <"$f"
        kill "$p" 2>/dev/null; rm -f "$f"' sh "$vm" >"$work/running" 2>/dev/null &
    WATCHER=$!
    sleep 1
    last=$(last_tick)
    t0=$(now_ms)
    L kill "$h" 2>"$work/kill.err" || { say "ERROR: lab kill $h: $(tail -n 3 "$work/kill.err")"; errors=$((errors + 1)); }
    t1=$(now_ms)
    # the guest's next tick (its first after the new EVOS-INIT-START), polled on the host
    local end=$(( t0 + 180000 ))
    while ! tick_after_boot $((boots + 1)); do
        (( $(now_ms) < end )) || break
        sleep 0.05
    done
    ttick=$(now_ms)
    tick_after_boot $((boots + 1)) || { ttick=""; ok=no; }
    end=$(( $(now_ms) + 30000 ))
    while kill -0 "$WATCHER" 2>/dev/null && (( $(now_ms) < end )); do sleep 0.05; done
    kill "$WATCHER" 2>/dev/null || true
    wait "$WATCHER" 2>/dev/null
    WATCHER=""
    trun=$(head -n 1 "$work/running")
    [[ $trun =~ ^[0-9]+$ ]] || { trun=""; ok=no; }
    first=$(first_tick_of_boot $((boots + 1)))
    local lost=no
    [[ -n $first && $first -gt ${last:-0} ]] || { lost=yes; ok=no; }
    local run_s="-" tick_s="-"
    [[ -z $trun ]] || run_s=$(awk -v a="$t0" -v b="$trun" 'BEGIN {printf "%.2f", (b - a) / 1000}')
    [[ -z $ttick ]] || tick_s=$(awk -v a="$t0" -v b="$ttick" 'BEGIN {printf "%.2f", (b - a) / 1000}')
    # where the time went, from the survivor's Pacemaker log
    local tl; tl=$(python3 "$src/bench/failover/timeline.py" "$base/$s/log/pacemaker/pacemaker.log" "$t0" "$h" "$s" "$r" 2>/dev/null)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$series" "$(agent_of "$r")" "$i" "$h" "$s" \
        "$([[ $dc == "$h" ]] && echo yes || echo no)" "$((t1 - t0))" "$run_s" "$tick_s" "${last:-}" "${first:-}" "$ok" "$tl" >>"$work/kills.tsv"
    say "$(printf '%-6s kill %2d %-13s %s -> %s (DC %-5s): running %5s s, tick %5s s; ticks %s -> %s%s' \
        "$series" "$i" "$(agent_of "$r")" "$h" "$s" "$([[ $dc == "$h" ]] && echo died || echo lived)" "$run_s" "$tick_s" \
        "${last:-?}" "${first:-?}" "$(if [[ $lost == yes ]]; then echo '  LOST WRITE'; fi)")"
    say "       ms after the power-off: $tl"
    [[ $ok == yes ]] || errors=$((errors + 1))
    [[ $(located "$r") == "$s" ]] || { say "ERROR: $r is not on $s after the kill"; errors=$((errors + 1)); }
    # the lab's fence action is reboot: wait until the node is back and the cluster idle
    wait_for 240 cluster_formed || die "$h did not rejoin after the kill"
    settled "$s" || true
}

# ------------------------------------------------------------------------------------------ run
: >"$work/kills.tsv"
X "$n1" crm_attribute --type crm_config --name priority-fencing-delay --query --quiet >"$work/pfd1" 2>/dev/null
say "series 1: priority-fencing-delay $(cat "$work/pfd1"), $kills kills per agent, alternating"
# A B A B ...; each pair of kills (one per agent) alternates between killing the DC and the
# other node: a surviving DC runs the scheduler up to 1 s later than a node that becomes the DC
# (docs/scenarios.md), so both cases are measured equally.
role() { if (( (($1 - 1) / 2) % 2 == 0 )); then echo yes; else echo no; fi; }
series() { # series NAME KILLS: KILLS measured kills, the agents alternating (evos first)
    local i r
    for ((i = 1; i <= $2; i++)); do
        if ((i % 2)); then r=$rsc; else r=$vd; fi
        kill_once "$1" "$r" "$i" "$(role "$i")" || true
    done
}
series "pfd=1s" $((2 * kills))
X "$n1" crm_attribute --type crm_config --name priority-fencing-delay --update 0 >/dev/null || die "cannot set priority-fencing-delay=0"
if ((pfd0_kills > 0)); then
    say "series 2: priority-fencing-delay 0, $pfd0_kills kills, alternating"
    series "pfd=0" "$pfd0_kills"
fi
if ((race_kills > 0)); then
    load_fencing_race 2s || die "cannot load fencing-race.crm"
    say "series 3: fence race device (delay 2s), priority-fencing-delay 0, $race_kills kills per agent, alternating"
    series "race" $((2 * race_kills))
fi

# the cluster properties and resources used, the corosync timing as it runs
{
    echo "## corosync (runtime, $n1)"
    X "$n1" corosync-cmapctl -g runtime.config.totem.token 2>/dev/null
    X "$n1" corosync-cmapctl -g runtime.config.totem.consensus 2>/dev/null
    echo "## crm configure show (the priority-fencing-delay of series 1 was $(cat "$work/pfd1"))"
    X "$n1" crm configure show 2>/dev/null
} >"$work/config.txt"
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$src/bench/failover/report.py" "$work/kills.tsv" "$work/config.txt" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" ${json:+"$json"} ||
    errors=$((errors + 1))
[[ $errors == 0 ]] || { say "ERROR: $errors kills failed or lost writes"; exit 1; }
