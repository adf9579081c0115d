#!/bin/bash
# run.sh BUILD_DIR [--minutes N] [--token MS] [--consensus MS] [--json FILE] - does a Corosync
# token survive a saturated machine? The evidence a shorter token needs (issue 16, docs/lab.md).
#
#   1. stage evos from its Debian packages (tests/support/stage-debs.sh), lab up with the token
#      (default: the lab's default) and consensus (default: the lab's, half the token), the tiny
#      counting guest as an HA VM (evosctl cluster init, the fence race device as the scenarios
#      and bench/failover set it up, evosctl vm ha enable), and wait until it ticks;
#   2. stress-ng on the host for N minutes (default 10): one CPU hog per core (both cores of the
#      lab's nodes, which share the host's CPUs), plus an I/O hog (sync(2) in a loop), a hard-disk
#      writer and a memory hog (--vm), at the default nice level, like any other busy process;
#   3. meanwhile, every 10 s: both nodes online and quorate in each node's view, the VM's node;
#   4. afterwards, from the nodes' own logs, what happened during the soak: fencing (the virtual
#      power switch's requests and each node's stonith history), membership changes (Corosync's
#      "A new membership" and "A processor failed", Pacemaker's "state is now lost"), the node
#      boot ids, Corosync's token warnings ("Token has not been received in N ms", printed at 75%
#      of the token: a near miss) and retransmits, knet link changes; and the guest: it ticked
#      through the whole soak without a restart or a lost write.
#   RESULT lines: token, consensus, minutes, the counts, the load average. Exit 1 if anything
#   failed to run, a node was fenced, the membership changed or the guest restarted or lost a
#   write: the token is then too short for this machine. The lab goes down on exit (also on
#   failure or interruption; logs kept in BUILD_DIR/bench-soak-logs/NAME when it failed) and
#   nothing of it is left. Lab name: s + 4 digits, or EVOS_LAB_NAME. Needs root and stress-ng.
# eval and in-node sh -c strings expand late on purpose; lib.sh defines base, shared, n1, ...
# shellcheck disable=SC2016,SC2317
set -uo pipefail
usage="usage: run.sh BUILD_DIR [--minutes N] [--token MS] [--consensus MS] [--json FILE]"
build=$(cd "${1:?$usage}" && pwd)
shift
minutes=10 token="" consensus="" json=""
while [[ $# -gt 0 ]]; do
    case $1 in
    --minutes) minutes=${2:?}; shift ;;
    --token) token=${2:?}; shift ;;
    --consensus) consensus=${2:?}; shift ;;
    --json) json=${2:?}; shift ;;
    *) echo "$usage" >&2; exit 2 ;;
    esac
    shift
done
if ! [[ $minutes =~ ^[0-9]+$ ]] || ((minutes == 0)); then echo "run.sh: --minutes: a whole number > 0" >&2; exit 2; fi
[[ -z $token || $token =~ ^[0-9]+$ ]] || { echo "run.sh: --token: milliseconds" >&2; exit 2; }
[[ -z $consensus || $consensus =~ ^[0-9]+$ ]] || { echo "run.sh: --consensus: milliseconds" >&2; exit 2; }
[[ -z $json || $json == /* ]] || json=$PWD/$json
src=$(cd "$(dirname "$0")/../.." && pwd)
kind=bench-soak
# shellcheck source-path=SCRIPTDIR/../.. source=tests/scenarios/vm-shared/lib.sh
source "$src/tests/scenarios/vm-shared/lib.sh"
if [[ -n $token ]]; then export EVOS_LAB_TOKEN=$token; else unset EVOS_LAB_TOKEN; fi
if [[ -n $consensus ]]; then export EVOS_LAB_CONSENSUS=$consensus; else unset EVOS_LAB_CONSENSUS; fi
say() { echo "[soak $name $(date +%T.%3N)] $*"; }
die() { say "ERROR: $*"; exit 1; }
failed=0

STRESS="" SAMPLER=""
cleanup() {
    local rc=$?
    trap '' INT TERM HUP
    # our own background processes, by PID
    [[ -z $STRESS ]] || { kill "$STRESS" 2>/dev/null; wait "$STRESS" 2>/dev/null; }
    [[ -z $SAMPLER ]] || { kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; }
    [[ $failed == 0 ]] || rc=1
    if [[ -x $lab ]]; then
        if [[ $rc != 0 ]]; then
            local keep=$build/bench-soak-logs/$name
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
command -v stress-ng >/dev/null || die "stress-ng is not installed (scripts/install-deps.sh)"
[[ ! -e $base ]] || die "$base exists already"
stage_evos || die "staging evos from its Debian packages failed"
"$src/tests/support/build-guest.sh" "$build/guest-cache" >/dev/null || die "build-guest.sh failed"
export EVOS_LAB_STAGE=$stage
say "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
L up >"$work/up.log" 2>&1 || { cat "$work/up.log"; die "lab up failed"; }
token=$(X "$n1" corosync-cmapctl -g runtime.config.totem.token 2>/dev/null | awk '{print $NF}')
consensus=$(X "$n1" corosync-cmapctl -g runtime.config.totem.consensus 2>/dev/null | awk '{print $NF}')
[[ $token =~ ^[0-9]+$ && $consensus =~ ^[0-9]+$ ]] || die "cannot read the runtime token and consensus"
say "lab $name up: corosync runtime token $token ms, consensus $consensus ms"
# Corosync asks for SCHED_RR (corosync(8) -r, the default); where the kernel refuses it, it logs
# so and the token competes with every other process: say which one this soak measured.
rt=yes
grep -qi 'could not set SCHED_RR\|sched_setscheduler' "$base/$n1/log/corosync/corosync.log" 2>/dev/null && rt=no
say "corosync with realtime scheduling (SCHED_RR): $rt"
"$virt_hosts" domain-xml "$vm" "$shared" "$build/guest-cache" "$shared/$vm.xml" 128 || die "domain-xml failed"
X "$n1" evosctl cluster init >/dev/null || die "evosctl cluster init failed"
load_fencing_race 3s || die "cannot load crm-templates/fencing-race.crm"
X "$n1" evosctl vm ha enable "$vm" --config "$shared/$vm.xml" --migration-unsafe --shutdown-timeout 5 --timeout 180 >/dev/null ||
    die "evosctl vm ha enable failed"
wait_tick 2 120 >/dev/null || die "the guest does not tick"
settled "$n1" || die "the cluster did not settle"
h=$(located) || die "cannot locate $rsc"
say "HA VM $vm runs on $h and ticks"

# the logs' state before the soak: everything counted is what was added during it
corolog() { echo "$base/$1/log/corosync/corosync.log"; }
pcmklog() { echo "$base/$1/log/pacemaker/pacemaker.log"; }
lines() { wc -l <"$1" 2>/dev/null || echo 0; }
fence_events() { X "$1" timeout 20 stonith_admin --history '*' --output-as=xml 2>/dev/null | grep -c '<fence_event '; }
declare -A c0 p0 boot0 f0
for n in "$n1" "$n2"; do
    c0[$n]=$(lines "$(corolog "$n")") p0[$n]=$(lines "$(pcmklog "$n")") boot0[$n]=$(bootid "$n") f0[$n]=$(fence_events "$n")
done
pdu0=$(lines "$base/pdu/pdu.log")
inits0=$(init_count)
tick0=$(last_tick)

# ---------------------------------------------------------------------------------------- soak
cores=$(nproc)
say "stress-ng for $minutes min: --cpu $cores --io 1 --hdd 1 --vm 1 (load average $(cut -d' ' -f1-3 /proc/loadavg))"
mkdir -p "$work/stress"
stress-ng --cpu "$cores" --io 1 --hdd 1 --hdd-bytes 256M --vm 1 --vm-bytes 256M --temp-path "$work/stress" \
    --timeout "${minutes}m" --metrics-brief >"$work/stress.log" 2>&1 &
STRESS=$!
# every 10 s: both nodes see both online in a quorate partition; the load average
: >"$work/samples"
(
    while :; do
        if cluster_formed; then s=ok; else s=NOT-FORMED; fi
        echo "$(date +%T) $s $(cut -d' ' -f1-3 /proc/loadavg)" >>"$work/samples"
        sleep 10
    done
) &
SAMPLER=$!
wait "$STRESS"
src_rc=$?
STRESS=""
kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null
SAMPLER=""
[[ $src_rc == 0 ]] || { say "ERROR: stress-ng exited $src_rc: $(tail -n 3 "$work/stress.log")"; failed=1; }
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
say "soak over (load average $load_end); stress-ng: $(grep -o 'successful run completed.*' "$work/stress.log" | head -n 1)"
loads=$(awk '{print $3}' "$work/samples" | sort -n | awk '{a[NR]=$1} END {if (NR) printf "%s-%s", a[1], a[NR]}')
not_formed=$(grep -c NOT-FORMED "$work/samples")
samples=$(wc -l <"$work/samples")
wait_tick $(( $(last_tick) + 2 )) 60 >/dev/null || { say "ERROR: the guest stopped ticking"; failed=1; }

# ---------------------------------------------------------------------------------------- count
# new_lines FILE FROM: the lines added since line FROM
new_lines() { tail -n +"$(( $2 + 1 ))" "$1" 2>/dev/null; }
membership=0 failed_proc=0 token_warn=0 retrans=0 knet=0 lost=0 fenced_hist=0 reboots=0
for n in "$n1" "$n2"; do
    cl=$(new_lines "$(corolog "$n")" "${c0[$n]}")
    membership=$(( membership + $(grep -c 'A new membership' <<<"$cl") ))
    failed_proc=$(( failed_proc + $(grep -c 'A processor failed' <<<"$cl") ))
    token_warn=$(( token_warn + $(grep -c 'Token has not been received' <<<"$cl") ))
    retrans=$(( retrans + $(grep -ci 'retransmit' <<<"$cl") ))
    knet=$(( knet + $(grep -c 'link: .* is down\|host: [0-9]* has no active links' <<<"$cl") ))
    lost=$(( lost + $(new_lines "$(pcmklog "$n")" "${p0[$n]}" | grep -c 'pacemaker-controld.*state is now lost') ))
    [[ $(bootid "$n") == "${boot0[$n]}" ]] || reboots=$((reboots + 1))
    f=$(fence_events "$n")
    fenced_hist=$(( fenced_hist + ${f:-0} - ${f0[$n]:-0} ))
done
pdu_requests=$(new_lines "$base/pdu/pdu.log" "$pdu0" | grep -c ' request ')
inits=$(( $(init_count) - inits0 ))
tick1=$(last_tick)
check_serial_log >"$work/serial" 2>&1 || { say "ERROR: $(cat "$work/serial")"; failed=1; }
fencing=$(( pdu_requests + fenced_hist ))
say "token $token ms, consensus $consensus ms, $minutes min with both cores saturated (load $loads, $samples samples):"
say "  fencing: $pdu_requests power-switch requests, $fenced_hist fencing events in the stonith histories, $reboots nodes rebooted"
say "  membership: $membership new memberships, $failed_proc 'A processor failed', $lost 'state is now lost', $not_formed samples without both nodes online"
say "  near misses: $token_warn token warnings (75% of the token), $retrans retransmit lines, $knet knet link-down lines"
say "  guest: ticks $tick0 -> $tick1, $inits restarts; $(cat "$work/serial")"
spurious=$(( fencing + reboots + membership + failed_proc + lost + not_formed + inits ))
[[ $spurious == 0 ]] || { say "ERROR: the cluster did not ride out the soak with token $token ms"; failed=1; }
{
    echo "RESULT soak_token_ms=$token"
    echo "RESULT soak_consensus_ms=$consensus"
    echo "RESULT soak_minutes=$minutes"
    echo "RESULT soak_corosync_sched_rr=$rt"
    echo "RESULT soak_fencing=$fencing"
    echo "RESULT soak_reboots=$reboots"
    echo "RESULT soak_membership_changes=$(( membership + failed_proc + lost ))"
    echo "RESULT soak_samples_not_formed=$not_formed"
    echo "RESULT soak_token_warnings=$token_warn"
    echo "RESULT soak_retransmit_lines=$retrans"
    echo "RESULT soak_guest_restarts=$inits"
    echo "RESULT soak_load=$loads"
} | tee "$work/results"
if [[ -n $json ]]; then
    python3 - "$work/results" "$json" <<'EOF'
import json, sys
r = {}
for line in open(sys.argv[1]):
    k, v = line.split(" ", 1)[1].strip().split("=", 1)
    r[k] = int(v) if v.isdigit() else v
json.dump(r, open(sys.argv[2], "w"), indent=2)
EOF
fi
exit "$failed"
