#!/bin/bash
# run.sh BUILD_DIR - failure scenarios of an HA VM on shared storage, on the lab (docs/lab.md):
# a real two-node Corosync/Pacemaker cluster with fencing, real libvirtd and QEMU, a real guest
# (tests/support/build-guest.sh) that writes a counter to its disk with fsync BEFORE it prints
# "EVOS-TICK n" on its serial log. ONE lab runs all scenarios in sequence (docs/scenarios.md):
#   setup          stage the build, lab up, `evosctl cluster init`, the fence race device
#                  (crm-templates/fencing-race.crm, delay 3s, docs/fence-race.md),
#                  `evosctl vm ha enable --migration-unsafe`; QEMU's image lock refuses a second
#                  writer of the shared disk (a second QEMU on the other node)
#   migrate        live migration there and back (`evosctl vm migrate`): no guest reboot
#   link-cut       the cluster link is cut: the other node is fenced, the VM's node keeps it
#                  (fence_evos_race delays only there), never both; heal: rejoined, the VM once
#   node-kill      the VM's node loses power: it is fenced, the VM restarts on the survivor
#   node-returns   the fenced node boots and rejoins: no second start, the VM stays (stickiness)
#   controld-kill  kill -9 of pacemaker-controld on the VM's node: recovered or fenced
#   libvirtd-kill  kill -9 of libvirtd on the VM's node: recovered or fenced
# Every scenario checks "never both" (a sampler in each node, ~100 ms: never running on both
# nodes at once) and "no acknowledged write lost" (after a restart, the guest's first tick is
# greater than every tick printed before). At the end the whole serial log is checked, the lab
# goes down (also from the EXIT trap after any failure) and nothing of it may be left.
# Prints ok:/FAIL: lines and, last, "scenario_vm_shared: N passed, M failed". No timing is
# asserted (timeouts are generous upper bounds); timings are printed for information.
# Needs root. EVOS_LAB_NAME overrides the random lab name (s + 4 digits); EVOS_LAB_CACHE
# (default BUILD_DIR/lab-cache) keeps libvirt's QEMU capability cache; EVOS_SCENARIO_LOGS=DIR
# keeps the lab's logs after a failure (default BUILD_DIR/scenario-logs).

# "A && pass || fail" is intended (pass never fails); eval strings expand late on purpose
# shellcheck disable=SC2015,SC2016,SC2034
set -uo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../../.." && pwd)
kind=scenario-vm-shared
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$src/tests/scenarios/vm-shared/lib.sh"
unset EVOS_LAB_TOKEN

scenario_tag=vm-shared scenario_summary=scenario_vm_shared
# shellcheck source-path=SCRIPTDIR source=harness.sh
source "$src/tests/scenarios/vm-shared/harness.sh"
# check "what" CMD...: ok/FAIL line for CMD
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

cleanup() {
    local rc=$? p
    trap '' INT TERM HUP
    for p in "${WATCH_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -f "$work"/watch.*.on
    scenario_cleanup "$rc" "$serial" "$work"/watch.*
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# recover: before the next scenario the cluster must be whole and idle again
recover() {
    local t0; t0=$(now_ms)
    if ! wait_for 180 cluster_formed; then
        cluster_state
        die "the cluster did not come back whole (both online, quorate) within 180 s: stopping here"
    fi
    if ! settled "$n1"; then
        cluster_state
        die "the cluster came back whole after $(secs "$t0") s but did not settle (crm_resource --wait, 120 s): stopping here"
    fi
}
# holder: the one node Pacemaker runs the VM on, where it also runs in libvirt
holder() {
    local where; where=$(located) || return 1
    [[ $where == "$n1" || $where == "$n2" ]] || return 1
    [[ $(domstate "$where") == running ]] || return 1
    echo "$where"
}
# counter_continued WHAT LAST BOOTS_BEFORE: after a restart of the guest (a new boot), its first
# tick must be greater than LAST, the last tick printed before the event
counter_continued() {
    local what=$1 last=$2 k=$(( $3 + 1 )) first
    if ! wait_for 120 tick_after_boot "$k"; then fail "$what: the guest did not tick after its restart"; return; fi
    first=$(first_tick_of_boot "$k")
    [[ $first -gt $last ]] && pass "$what: no acknowledged write lost (last tick before $last, first after the restart $first)" ||
        fail "$what: LOST WRITES: last tick before the event $last, first after the restart $first"
}
never_both() { local v; watch_stop; v=$(watch_verdict) && pass "$1: never running on both nodes ($v)" || fail "$1: $v"; }
no_double_start_logged() { # neither node's Pacemaker saw the VM active on two nodes
    ! grep -aq "$rsc.*active on 2 nodes\|active on 2 nodes.*$rsc" "$base/$n1/log/pacemaker/pacemaker.log" "$base/$n2/log/pacemaker/pacemaker.log"
}
fence_count() { # fence_count OBSERVER TARGET: successful fencings of TARGET in the history
    X "$1" timeout 20 stonith_admin --history "$2" --output-as=xml 2>/dev/null | grep -o '<fence_event [^>]*>' |
        grep 'status="success"' | grep -c "target=\"$2\""
}

# ---------------------------------------------------------------------------------------- setup
setup() {
    [[ $(id -u) == 0 ]] || die "needs root"
    local t
    for t in dpkg-buildpackage python3 ip qemu-img; do command -v "$t" >/dev/null || die "$t is not installed"; done
    [[ ! -e $base ]] || die "$base exists already (another lab named $name?)"
    stage_evos || die "staging evos from its Debian packages failed"
    [[ -x $lab && -x $stage/sbin/evosctl && -x $stage/lib/ocf/resource.d/evos/vm ]] || die "evos-lab, evosctl or ocf:evos:vm not staged"
    "$src/tests/support/build-guest.sh" "$build/guest-cache" >/dev/null || die "build-guest.sh failed"
    export EVOS_LAB_STAGE=$stage
    t=$(now_ms)
    L up >"$work/up.log" 2>&1 || { cat "$work/up.log"; die "lab up failed"; }
    pass "lab $name up in $(secs "$t") s (token $(sed -n 's/^TOKEN=//p' "$base/lab.env") ms)"
    "$virt_hosts" domain-xml "$vm" "$shared" "$build/guest-cache" "$shared/$vm.xml" 128 || die "domain-xml failed"
    X "$n1" evosctl cluster init >/dev/null || die "evosctl cluster init failed"
    # the recommended two-node fencing: the race device decides who waits (and sets
    # priority-fencing-delay back to 0)
    load_fencing_race 3s || die "cannot load crm-templates/fencing-race.crm"
    [[ $(X "$n1" crm_attribute --type crm_config --name priority-fencing-delay --query --quiet 2>/dev/null) == 0 ]] ||
        die "fencing-race.crm did not set priority-fencing-delay=0"
    t=$(now_ms)
    # the guest has no ACPI: a short graceful part of stop, set in the first configuration
    X "$n1" evosctl vm ha enable "$vm" --config "$shared/$vm.xml" --migration-unsafe --shutdown-timeout 5 --timeout 180 >/dev/null ||
        die "evosctl vm ha enable failed"
    wait_tick 2 120 >/dev/null || die "the guest does not tick"
    local h; h=$(holder) || die "the VM does not run on one node"
    pass "vm ha enable: $rsc runs on $h, the guest ticks ($(secs "$t") s)"
    # QEMU's image lock on the shared disk: a second QEMU (another domain on the other node, same
    # disk) must be refused. Pacemaker's fencing never lets it come to that in the scenarios below,
    # so this exercises the lock explicitly, once.
    local o; o=$(other "$h")
    sed -e "s|<name>$vm</name>|<name>$vm-lockprobe</name>|" -e '/<uuid>/d' \
        -e "s|$vm.serial.log|$vm-lockprobe.serial.log|" "$shared/$vm.xml" >"$shared/$vm-lockprobe.xml"
    local out
    if out=$(X "$o" timeout 60 virsh -c qemu:///system create "$shared/$vm-lockprobe.xml" 2>&1); then
        X "$o" virsh -c qemu:///system destroy "$vm-lockprobe" >/dev/null 2>&1
        fail "image lock: a second QEMU on $o opened the running guest's disk"
    elif grep -q 'Failed to get "write" lock' <<<"$out"; then
        pass "image lock: a second QEMU on $o is refused the running guest's disk (Failed to get \"write\" lock)"
    else
        fail "image lock probe failed for another reason: $out"
    fi
}

# -------------------------------------------------------------------------------------- migrate
scenario_migrate() {
    local h t boots last out dt
    for _ in there back; do
        h=$(holder) || { fail "migrate: the VM does not run on one node"; return; }
        t=$(other "$h")
        fresh_tick || fail "migrate: the guest does not tick"
        boots=$(init_count)
        last=$(wait_tick 1 30)
        watch_start "migrate-$t"
        if out=$(X "$n1" evosctl vm migrate "$vm" "$t" --timeout 180 2>&1); then
            dt=$(X "$t" virsh -c qemu:///system domjobinfo "$vm" --completed 2>/dev/null | awk -F: '/Total downtime/ {gsub(/ /, "", $2); print $2}')
            pass "migrate $h -> $t: $out (downtime ${dt:-?})"
        else
            fail "migrate $h -> $t: $out"
        fi
        check "migrate $h -> $t: Pacemaker and libvirt agree the VM runs on $t" wait_for 60 runs_on "$t"
        [[ $(domstate "$h") != running ]] && pass "migrate $h -> $t: not running on $h any more" || fail "migrate $h -> $t: still running on $h"
        local next; next=$(wait_tick $((last + 2)) 60)
        [[ -n $next && $(init_count) == "$boots" ]] && pass "migrate $h -> $t: the guest kept running (ticks $last -> $next, no reboot)" ||
            fail "migrate $h -> $t: the guest rebooted or stopped ticking (boots $boots -> $(init_count), tick $last -> ${next:-none})"
        never_both "migrate $h -> $t"
    done
}

# ------------------------------------------------------------------------------------- link cut
scenario_link_cut() {
    local h o b1 b2 boots last t loser
    h=$(holder) || { fail "link-cut: the VM does not run on one node"; return; }
    o=$(other "$h")
    b1=$(bootid "$h") b2=$(bootid "$o")
    fresh_tick || fail "link-cut: the guest does not tick"
    boots=$(init_count)
    local dc; dc=$(dc_of "$h")
    watch_start link-cut
    last=$(last_tick)
    t=$(now_ms)
    L cut cluster "$h" 2>/dev/null || fail "link-cut: cut cluster $h"
    if wait_for 90 eval '[[ $(bootid "$h") != "$b1" || $(bootid "$o") != "$b2" ]]'; then
        t=$(secs "$t")
        sleep 5     # a second fencing (of the winner) would show by now
        if [[ $(bootid "$h") != "$b1" && $(bootid "$o") != "$b2" ]]; then
            fail "link-cut: both nodes were fenced"
        else
            loser=$h; [[ $(bootid "$o") != "$b2" ]] && loser=$o
            pass "link-cut: exactly one node was fenced ($loser, power-cycled $t s after the cut, the VM on $h, the DC $dc)"
            # Both nodes see the peer answer on the corporate network: fence_evos_race lets the
            # VM's node fence at once and delays the other one 3 s (docs/fence-race.md).
            [[ $loser == "$o" ]] && pass "link-cut: the VM's node $h won the fence race" ||
                fail "link-cut: the VM's node $h lost the fence race (the DC: $dc); fence_evos_race said: $(race_verdicts)"
        fi
    else
        fail "link-cut: nobody was fenced within 90 s"
    fi
    local keeper; keeper=$(other "${loser:-$o}")
    check "link-cut: the VM runs on $keeper during the split" wait_for 120 eval '[[ $(domstate "$keeper") == running ]]'
    L heal cluster "$h" 2>/dev/null || fail "link-cut: heal cluster $h"
    check "link-cut: healed, both nodes online again" wait_for 180 cluster_formed
    settled "$n1" || true
    local w; w=$(located)
    [[ $w == "$keeper" && $(domstate "$keeper") == running ]] && pass "link-cut: after the heal the VM runs once, on $keeper" ||
        fail "link-cut: after the heal the VM runs on '$w' (domstate on $keeper: $(domstate "$keeper"))"
    if [[ $keeper == "$h" ]]; then
        [[ $(init_count) == "$boots" ]] && pass "link-cut: the guest was never restarted (its node kept it)" ||
            fail "link-cut: the guest restarted although its node kept it"
    else
        counter_continued "link-cut" "$last" "$boots"
    fi
    never_both "link-cut"
}

# ------------------------------------------------------------------------ node kill, node returns
scenario_node_kill() {
    local h s boots last t
    h=$(holder) || { fail "node-kill: the VM does not run on one node"; return; }
    s=$(other "$h")
    fresh_tick || fail "node-kill: the guest does not tick"
    boots=$(init_count)
    KILL_FENCES=$(fence_count "$s" "$h")
    watch_start node-kill     # runs on through scenario_node_returns
    last=$(last_tick)
    t=$(now_ms)
    L kill "$h" 2>/dev/null || fail "node-kill: lab kill $h"
    if wait_for 180 runs_on "$s"; then
        pass "node-kill: power off $h: the VM runs on $s after $(secs "$t") s"
    else
        fail "node-kill: the VM does not run on $s within 180 s (located: '$(located)')"
    fi
    check "node-kill: $s fenced $h (fencing history)" wait_for 60 eval '[[ $(fence_count "$s" "$h") -gt $KILL_FENCES ]]'
    counter_continued "node-kill" "$last" "$boots"
    KILLED=$h SURVIVOR=$s KILL_BOOTS=$((boots + 1))
}
scenario_node_returns() {
    local k=${KILLED:-} s=${SURVIVOR:-} t
    [[ -n $k ]] || { fail "node-returns: no node was killed"; watch_stop; return; }
    t=$(now_ms)
    # the lab's fence action is reboot: the virtual PDU powers the node on again
    if wait_for 180 cluster_formed; then pass "node-returns: $k rebooted and rejoined ($(secs "$t") s)"; else fail "node-returns: $k did not rejoin"; fi
    check "node-returns: the cluster settled" settled "$s"
    sleep 3     # a late (wrong) start on the returned node would show here
    [[ $(located) == "$s" && $(domstate "$s") == running ]] && pass "node-returns: the VM stays on $s (stickiness 100)" ||
        fail "node-returns: the VM runs on '$(located)'"
    [[ $(domstate "$k") != running ]] && pass "node-returns: the VM does not run on $k ($(domstate "$k"))" || fail "node-returns: the VM runs on $k too"
    [[ $(init_count) == "$KILL_BOOTS" ]] && pass "node-returns: no second start of the guest (one restart since the kill)" ||
        fail "node-returns: the guest was started $(( $(init_count) - KILL_BOOTS + 1 )) times since the kill"
    check "node-returns: no \"active on 2 nodes\" in either node's Pacemaker log" no_double_start_logged
    never_both "node-kill and node-returns"
}

# ----------------------------------------------------------- a daemon killed on the VM's node
# scenario_daemon_kill TAG PIDCMD...: kill -9 (inside the node) the PID printed by PIDCMD on the
# VM's node; then either the cluster recovers with the VM still on that node, or the node is
# fenced and the VM restarts on the other. Either way: the VM runs once, no write lost.
scenario_daemon_kill() {
    local tag=$1 h s b boots last pid t outcome=""
    shift
    h=$(holder) || { fail "$tag: the VM does not run on one node"; return; }
    s=$(other "$h")
    b=$(bootid "$h")
    fresh_tick || fail "$tag: the guest does not tick"
    boots=$(init_count)
    pid=$(X "$h" "$@" 2>/dev/null | awk '{print $1}')
    [[ $pid =~ ^[0-9]+$ ]] || { fail "$tag: no PID on $h from: $*"; return; }
    local comm; comm=$(X "$h" cat "/proc/$pid/comm" 2>/dev/null)
    watch_start "$tag"
    last=$(last_tick)
    t=$(now_ms)
    X "$h" kill -9 "$pid" || fail "$tag: kill -9 $pid ($comm) in $h"
    say "$tag: killed $comm (PID $pid inside $h), the VM's node"
    # outcome: fenced (new boot id, VM on the survivor) or recovered (same boot, whole cluster,
    # VM still on h). Generous bound: a failed monitor comes after up to 10 s, then stop, fencing.
    local end=$(( $(now_ms) + 240000 ))
    while (( $(now_ms) < end )); do
        if [[ $(bootid "$h") != "$b" ]]; then
            wait_for 120 runs_on "$s" && outcome="fenced"
            break
        fi
        if (( $(now_ms) - t > 15000 )) && cluster_formed && settled "$s" && [[ $(bootid "$h") == "$b" ]] && runs_on "$h"; then
            local now; now=$(X "$h" "$@" 2>/dev/null | awk '{print $1}')
            [[ $now =~ ^[0-9]+$ && $now != "$pid" ]] && X "$h" timeout 10 virsh -q -c qemu:///system version >/dev/null 2>&1 &&
                outcome="recovered"
            [[ -n $outcome ]] && break
        fi
        sleep 1
    done
    case $outcome in
    fenced)
        pass "$tag: $h was fenced, the VM runs on $s ($(secs "$t") s)"
        counter_continued "$tag" "$last" "$boots" ;;
    recovered)
        pass "$tag: recovered: $comm runs again on $h, the VM still runs there, the cluster is whole ($(secs "$t") s)"
        [[ $(init_count) == "$boots" ]] && pass "$tag: the guest was never restarted" || counter_continued "$tag" "$last" "$boots" ;;
    *)
        fail "$tag: neither recovered nor fenced within 240 s (VM on '$(located)', $h $( [[ $(bootid "$h") == "$b" ]] && echo "not fenced" || echo fenced))" ;;
    esac
    recover
    never_both "$tag"
}

# ------------------------------------------------------------------------------------------ run
t_all=$(now_ms)
setup
scenario_migrate
recover
scenario_link_cut
recover
scenario_node_kill
scenario_node_returns
recover
scenario_daemon_kill controld-kill pidof pacemaker-controld
scenario_daemon_kill libvirtd-kill cat /run/libvirt/libvirtd.pid
v=$(check_serial_log) && pass "$v" || fail "$v"
t=$(now_ms)
if L down --timeout 60 >"$work/down.log" 2>&1; then pass "lab down in $(secs "$t") s"; else cat "$work/down.log"; fail "lab down"; fi
downed=1
left=$(leftovers)
[[ -z $left ]] && pass "nothing left behind" || fail "left behind: $left"
say "all scenarios in $(secs "$t_all") s"
