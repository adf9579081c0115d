#!/bin/bash
# run.sh BUILD_DIR [--migrations N] [--block B] [--evos-param NAME=VALUE]... [--vd-param NAME=VALUE]...
#        [--json FILE] - live-migration downtime as the guest's peers see it, with ocf:evos:vm and
# with ocf:heartbeat:VirtualDomain managing the same guest on the same lab (docs/lab.md).
#
#   1. stage BUILD_DIR (its Debian packages), lab up (name m + 4 digits, or EVOS_LAB_NAME);
#   2. the guest's network: in each node a bridge `vmbr` with one veth into the lab's switch
#      (the corporate segment 198.18.1.0/24), and `evosctl net create NAME-lan --bridge vmbr` (a
#      libvirt bridge network, identical on both nodes). The counting guest
#      (tests/support/build-guest.sh) gets a virtio NIC on it with a fixed MAC and the static
#      address 198.18.1.60 (evos_ip=), and rewrites --dirty-mb MiB of its RAM in a loop
#      (evos_dirty_mb=) besides its disk tick: a guest that keeps writing. The same address
#      answers on either node; after the switch-over QEMU's self-announcement (RARP/GARP,
#      announce-self) teaches the switch's bridge the new port;
#   3. the evos resource vm-G (`evosctl vm ha enable`: the crm-templates/vm-shared template, the
#      agent's migration defaults) and a VirtualDomain resource vd-G for the same domain XML with
#      the same meta attributes and its own migration defaults (migration_transport=tcp,
#      --unsafe), created Stopped; only one of the two ever runs the guest;
#   4. N migrations per agent through Pacemaker (`crm_resource --move`, then --clear), back and
#      forth, in blocks of B per agent: evos B, VirtualDomain B, evos B, ... For each:
#        probe     bench/migration/probe, in the switch's namespace: an ICMP echo to the guest
#                  every 5 ms (CLOCK_MONOTONIC), the longest gap between two replies while the
#                  migration runs: the guest-observed downtime;
#        libvirt   `virsh domjobinfo --completed` on the destination: libvirt's downtime (from
#                  the source's pause to the destination's resume, Finish round trip included)
#                  and the job's elapsed time;
#        agent     exec-time of migrate_to and migrate_from as Pacemaker recorded them (CIB);
#        wall      from the move to Pacemaker having placed the resource (crm_resource --wait);
#      plus the longest probe gap in an equally long quiet window before each migration (the
#      noise floor of this machine: TCG vCPU scheduling, the probe's own scheduling), and the
#      longest gap around a pause and resume of the guest on its own host (`virsh "suspend;
#      resume"`, a round trip apart): what a stop costs a guest whose QEMU keeps running, beside
#      a migration's destination, which resumes a guest it has never run (TCG translates the
#      guest's code afresh there);
#      A migration fails (discarded, counted) if the resource is not on the destination
#      afterwards, the guest does not answer again, or libvirt has no completed job;
#   5. report: median, p95 (nearest rank) and max per agent, failures, the load average before
#      and after, RESULT lines, optionally JSON. The lab goes down on exit (also on failure or
#      interruption) and nothing of it is left.
# --trace DIR: libvirtd's debug log of both nodes' QEMU monitor traffic and migration steps
# (virt-admin daemon-log-filters, set at run time) is copied to DIR/NODE-libvirtd.log, and
# bench/migration/timeline.py DIR prints for each migration where its downtime went (QEMU's
# STOP on the source, the end of the RAM copy, the destination's load and RESUME). The logging
# costs CPU: measure without it.
# --install-stage: stage BUILD_DIR with `cmake --install` instead of its Debian packages (no
# package build: for trying parameters while developing). Defaults: --migrations 20, --block 5, --dirty-mb 32, --memory 256 (MiB). --evos-param and
# --vd-param set instance attributes of the two resources (e.g. --evos-param migration_downtime=300
# to measure QEMU's default limit). Needs root. Timings are reported, never asserted
# (bench/README.md); exit 1 only if the bench could not run or a series had no good migration.
# shellcheck disable=SC2016
set -uo pipefail
usage="usage: run.sh BUILD_DIR [--install-stage] [--trace DIR] [--migrations N] [--block B] [--dirty-mb M] [--memory MIB] [--evos-param N=V]... [--vd-param N=V]... [--json FILE]"
build=$(cd "${1:?$usage}" && pwd)
shift
migrations=20 block=5 dirty=32 mem=256 json="" evos_params=() vd_params=() install_stage=no trace=
while [[ $# -gt 0 ]]; do
    case $1 in
    --migrations) migrations=${2:?}; shift ;;
    --block) block=${2:?}; shift ;;
    --dirty-mb) dirty=${2:?}; shift ;;
    --memory) mem=${2:?}; shift ;;
    --evos-param) evos_params+=("${2:?}"); shift ;;
    --vd-param) vd_params+=("${2:?}"); shift ;;
    --json) json=${2:?}; shift ;;
    --install-stage) install_stage=yes; shift; continue ;;
    --trace) trace=${2:?}; shift ;;
    *) echo "$usage" >&2; exit 2 ;;
    esac
    shift
done
[[ $migrations =~ ^[1-9][0-9]*$ && $block =~ ^[1-9][0-9]*$ && $dirty =~ ^[0-9]+$ && $mem =~ ^[1-9][0-9]*$ ]] ||
    { echo "run.sh: --migrations, --block, --memory: counts > 0; --dirty-mb >= 0" >&2; exit 2; }
for p in "${evos_params[@]}" "${vd_params[@]}"; do
    [[ $p =~ ^[a-z_]+=[A-Za-z0-9._:/-]*$ ]] || { echo "run.sh: bad parameter '$p' (NAME=VALUE)" >&2; exit 2; }
done
[[ -z $json || $json == /* ]] || json=$PWD/$json
[[ -z $trace || $trace == /* ]] || trace=$PWD/$trace
[[ -z $json ]] || mkdir -p "$(dirname "$json")" || exit 2
src=$(cd "$(dirname "$0")/../.." && pwd)
probe=$build/bench/migration/probe
kind=bench-migration
[[ -n ${EVOS_LAB_NAME:-} ]] || export EVOS_LAB_NAME=m$(printf '%04d' $((RANDOM % 10000)))
# shellcheck source-path=SCRIPTDIR/../.. source=tests/scenarios/vm-shared/lib.sh
source "$src/tests/scenarios/vm-shared/lib.sh"
vd=vd-$vm
sw=${name}sw
lan=${name}lan
# shellcheck source=bench/migration/guest-lan.sh
source "$src/bench/migration/guest-lan.sh"
guest_ip=$GUEST_LAN_ADDR
say() { echo "[migration $name $(date +%T.%3N)] $*"; }
die() { say "ERROR: $*"; exit 1; }
cleanup() {
    local rc=$?
    trap '' INT TERM HUP
    [[ -z $GUEST_PROBE_PID ]] || kill "$GUEST_PROBE_PID" 2>/dev/null || true     # our own background probe
    if [[ -x $lab ]]; then
        if [[ -n $trace ]]; then
            mkdir -p "$trace" && for n in "$n1" "$n2"; do cp "$base/$n/log/libvirt/trace.log" "$trace/$n-libvirtd.log" 2>/dev/null; done
        fi
        if [[ $rc != 0 ]]; then
            local keep=$build/bench-migration-logs/$name
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
[[ -x $probe ]] || die "no $probe (cmake --build BUILD --target evos_bench_migration_probe)"
[[ -x /usr/lib/ocf/resource.d/heartbeat/VirtualDomain ]] || die "resource-agents (VirtualDomain) is not installed"
[[ ! -e $base ]] || die "$base exists already"
if [[ $install_stage == yes ]]; then
    cmake --install "$build" --prefix "$stage" >"$work/install.log" 2>&1 || die "cmake --install failed"
    lab=$stage/libexec/evos/evos-lab
else
    stage_evos || die "staging evos from its Debian packages failed"
fi
"$src/tests/support/build-guest.sh" "$build/guest-cache" >/dev/null || die "build-guest.sh failed"
export EVOS_LAB_STAGE=$stage
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average before: $load_before ($(nproc) CPUs)"
L up >"$work/up.log" 2>&1 || { cat "$work/up.log"; die "lab up failed"; }
say "lab $name up"

# The guest's segment: a bridge in each node on the lab's corporate switch (guest-lan.sh).
guest_lan_up "$name" "$n1" "$n2" "$lan" X "$n1" || die "cannot set up the guest network $lan"
"$virt_hosts" domain-xml "$vm" "$shared" "$build/guest-cache" "$shared/$vm.xml" "$mem" || die "domain-xml failed"
guest_lan_domain "$shared/$vm.xml" "$lan" "$dirty" || die "cannot add the NIC to the domain XML"
X "$n1" evosctl cluster init >/dev/null || die "evosctl cluster init failed"
X "$n1" evosctl vm ha enable "$vm" --config "$shared/$vm.xml" --migration-unsafe --shutdown-timeout 5 --timeout 180 >/dev/null ||
    die "evosctl vm ha enable failed"
# VirtualDomain as an administrator would set it up beside the template: the same config and
# meta attributes, live migration over TCP with --unsafe, its own defaults otherwise
# (migration_downtime unset: QEMU's 300 ms limit, as evos's default was before issue 16).
cat >"$shared/$vd.crm" <<CRM
primitive $vd ocf:heartbeat:VirtualDomain \\
	params config="$shared/$vm.xml" hypervisor="qemu:///system" force_stop=false migration_transport=tcp migrate_options="--unsafe" \\
	meta allow-migrate=true priority=10 resource-stickiness=100 migration-threshold=3 failure-timeout=10min target-role=Stopped \\
	op start timeout=90s interval=0s \\
	op stop timeout=10s interval=0s \\
	op monitor interval=10s timeout=30s \\
	op migrate_to timeout=120s interval=0s \\
	op migrate_from timeout=60s interval=0s
CRM
X "$n1" crm configure load update "$shared/$vd.crm" >/dev/null 2>&1 || die "cannot configure $vd"
setp() { X "$n1" crm_resource --resource "$1" --set-parameter "${2%%=*}" --parameter-value "${2#*=}" >/dev/null; }
for p in "${evos_params[@]}"; do setp "$rsc" "$p" || die "cannot set $p on $rsc"; done
for p in "${vd_params[@]}"; do setp "$vd" "$p" || die "cannot set $p on $vd"; done
wait_tick 2 120 >/dev/null || die "the guest does not tick"
if [[ -n $trace ]]; then
    for n in "$n1" "$n2"; do
        X "$n" virt-admin -c libvirtd:///system daemon-log-filters "1:qemu.qemu_monitor 1:qemu.qemu_migration 1:qemu.qemu_process" >/dev/null &&
            X "$n" virt-admin -c libvirtd:///system daemon-log-outputs "1:file:/var/log/libvirt/trace.log" >/dev/null ||
            die "cannot set libvirtd's log filters on $n"
    done
fi
CUR=$rsc

# ------------------------------------------------------------------------------------- helpers
agent_of() { if [[ $1 == "$rsc" ]]; then echo evos; else echo VirtualDomain; fi; }
running_nowhere() { [[ -z $(located "$1") && $(domstate "$n1") != running && $(domstate "$n2") != running ]]; }
answers() { ip netns exec "$sw" ping -c 1 -W 1 "$guest_ip" >/dev/null 2>&1; }
use() { # use RSC: RSC the one resource managing the guest, running, the guest answering
    local r=$1
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
    wait_for 120 answers || { say "the guest does not answer at $guest_ip"; return 1; }
    fresh_tick
}
# start_probe OUT: the probe in the switch's namespace, in the background; stop_probe
start_probe() { guest_probe_start "$name" "$guest_ip" "$probe" "$work/stop" "$1"; }
stop_probe() { guest_probe_stop "$work/stop"; }
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$2"; }
# op_ms NODE RSC OP: exec-time (ms) of RSC's last OP on NODE, as the CIB's status records it
op_ms() {
    X "$n1" cibadmin -Q --scope status 2>/dev/null | python3 -c '
import sys, xml.etree.ElementTree as ET
node, rsc, op = sys.argv[1:]
root = ET.fromstring(sys.stdin.read())
for ns in root.iter("node_state"):
    if ns.get("uname") != node: continue
    for r in ns.iter("lrm_resource"):
        if r.get("id") != rsc: continue
        ops = [o for o in r.iter("lrm_rsc_op") if o.get("operation") == op]
        ops.sort(key=lambda o: int(o.get("call-id", "0")))
        if ops: print(ops[-1].get("exec-time", ""))
' "$1" "$2" "$3"
}

# migrate_once RSC I: one measured migration; appends a line to $work/migrations.tsv
migrate_once() {
    local r=$1 i=$2 h t ok=yes why="" t0 t1 dur
    use "$r" || { say "ERROR: migration $i: could not start $r"; printf '%s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\tno\tstart\n' "$(agent_of "$r")" "$i" >>"$work/migrations.tsv"; return 1; }
    h=$(located "$r") t=$(other "$h")
    # the quiet window: as long as the last migration took (at least 3 s), no migration
    dur=${LAST_DUR:-3000}
    start_probe "$work/quiet"
    sleep "$(awk -v d="$dur" 'BEGIN {printf "%.2f", (d < 3000 ? 3000 : d) / 1000}')"
    stop_probe
    # the pause control: the guest paused and resumed on its own host (one virsh connection, two
    # calls a round trip apart): how long a warm QEMU's guest takes to answer again after a short
    # stop, beside a migration, whose destination QEMU resumes a guest it has never run
    start_probe "$work/pause"
    sleep 0.3
    X "$h" timeout 20 virsh -q -c qemu:///system "suspend $vm; resume $vm" >/dev/null 2>&1
    sleep 0.3
    stop_probe
    start_probe "$work/probe"
    sleep 0.5
    t0=$(now_ms)
    X "$n1" crm_resource --resource "$r" --move --node "$t" >/dev/null 2>&1 || { ok=no; why=move; }
    settled "$n1" || { ok=no; why=settle; }
    t1=$(now_ms)
    LAST_DUR=$((t1 - t0))
    # the guest answers again for a moment before the probe stops (a trailing silence is a failure)
    wait_for 10 answers
    sleep 0.3
    stop_probe
    X "$n1" crm_resource --resource "$r" --clear >/dev/null 2>&1
    runs_on "$t" "$r" || { ok=no; why=${why:-not-on-destination}; }
    local job down elapsed gap tail qgap pgap to_ms from_ms
    job=$(X "$t" timeout 20 virsh -q -c qemu:///system domjobinfo --completed --keep-completed "$vm" 2>/dev/null)
    down=$(awk -F: '/^Total downtime/ {gsub(/[^0-9]/, "", $2); print $2}' <<<"$job")
    elapsed=$(awk -F: '/^Time elapsed:/ {gsub(/[^0-9]/, "", $2); print $2}' <<<"$job")
    [[ -n $down ]] || { ok=no; why=${why:-no-libvirt-job}; down=-; elapsed=-; }
    gap=$(field maxgap_ms "$work/probe") tail=$(field tail_ms "$work/probe") qgap=$(field maxgap_ms "$work/quiet") pgap=$(field maxgap_ms "$work/pause")
    [[ -n $gap && -n $tail ]] && awk -v t="$tail" 'BEGIN {exit !(t >= 0 && t < 200)}' || { ok=no; why=${why:-guest-silent}; gap=${gap:--}; }
    to_ms=$(op_ms "$h" "$r" migrate_to) from_ms=$(op_ms "$t" "$r" migrate_from)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(agent_of "$r")" "$i" "$h" "$t" "$gap" "$down" "$elapsed" \
        "${to_ms:--}" "${from_ms:--}" "$LAST_DUR" "$ok" "${why:--}" >>"$work/migrations.tsv"
    say "$(printf '%-13s %2d %s -> %s: guest gap %6s ms (quiet %5s, pause %5s), libvirt downtime %4s ms, elapsed %5s ms, migrate_to %5s ms, wall %5s ms%s' \
        "$(agent_of "$r")" "$i" "$h" "$t" "$gap" "${qgap:--}" "${pgap:--}" "$down" "$elapsed" "${to_ms:--}" "$LAST_DUR" \
        "$([[ $ok == yes ]] || echo "  FAILED ($why)")")"
    printf '%s\t%s\t%s\t%s\n' "$(agent_of "$r")" "$i" "${qgap:--}" "${pgap:--}" >>"$work/quiet.tsv"
    [[ $ok == yes ]]
}

# ------------------------------------------------------------------------------------------ run
: >"$work/migrations.tsv"
: >"$work/quiet.tsv"
say "$migrations migrations per agent, blocks of $block, guest ${mem} MiB dirtying ${dirty} MiB in a loop"
done_evos=0 done_vd=0
while ((done_evos < migrations || done_vd < migrations)); do
    for r in "$rsc" "$vd"; do
        for ((k = 0; k < block; k++)); do
            if [[ $r == "$rsc" ]]; then
                ((done_evos < migrations)) || break
                done_evos=$((done_evos + 1)); migrate_once "$r" "$done_evos"
            else
                ((done_vd < migrations)) || break
                done_vd=$((done_vd + 1)); migrate_once "$r" "$done_vd"
            fi
        done
    done
done
{
    echo "## $rsc"; X "$n1" crm configure show "$rsc" 2>/dev/null
    echo "## $vd"; X "$n1" crm configure show "$vd" 2>/dev/null
    echo "## evos agent log (migrate_to)"; grep -h 'migrat' "$base/$n1/log/pacemaker/pacemaker.log" "$base/$n2/log/pacemaker/pacemaker.log" 2>/dev/null | grep -i 'evos\|vm(' | grep -i 'downtime\|policy' | tail -n 60
} >"$work/config.txt"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average after: $load_after"
python3 "$src/bench/migration/report.py" "$work/migrations.tsv" "$work/quiet.tsv" "$work/config.txt" "$(nproc)" \
    "$load_before" "$load_after" "$mem" "$dirty" ${json:+"$json"}
