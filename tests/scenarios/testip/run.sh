#!/bin/bash
# tests/scenarios/testip/run.sh BUILD_DIR - the test-IP policy (docs/testip.md) in the lab
# (docs/lab.md), end to end, from a staged install of BUILD_DIR. CTest: scenario/testip.
#
# Setup: one lab under a random name t####; `evosctl cluster init --priority-fencing-delay 1s`;
# the ping clone (`evosctl cluster testip enable --hosts ...`: crm-templates/testip.crm) with the
# lab's three test IPs (198.18.1.254, .253, .252); an HA VM (`evosctl vm ha enable NAME --config
# ... --migration-unsafe`, the tiny guest of tests/support/build-guest.sh counting on its disk in
# the shared dir) with the template's per-VM rules (`evosctl cluster testip enable ... --vm NAME`),
# and force_stop=true (the guest ignores ACPI). `evosctl cluster status --json`, run inside
# a node, must show test_ips per node with host states and RTTs.
#
# Scenarios:
#   1  cut corp <VM node>          the VM moves to the peer by live migration (same guest boot,
#                                  counter continues); heal. Repeated (EVOS_TESTIP_REPS, default 5)
#                                  to measure "corporate link down -> VM running on the peer".
#   4  cut testip 198.18.1.253     one test IP silently drops ICMP for both nodes: both scores drop
#                                  to 2000, the detail shows it lost, the VM stays (same boot).
#   4b cut corp <VM node>, 1.5 s   one bad monitor round on the VM's node only: attrd's dampening
#                                  keeps it out of the CIB, the VM stays.
#   2  cut corp on both nodes      both scores 0: no node runs the VM; heal both: it runs again,
#                                  nothing lost (first tick of the new boot > last tick before).
#   3  cut cluster                 both still reach the test IPs: the nodes race to fence, exactly
#                                  one keeps the VM (each node's domain state polled in a loop,
#                                  ~200 ms apart: never running on both), the other is power-cycled, nothing lost;
#                                  heal: the cluster re-forms, the VM runs once.
# "Nothing lost": the guest fsyncs tick N to its disk before it prints "EVOS-TICK N", so after a
# restart the first tick of the new boot must be greater than every tick printed before it; a live
# migration keeps the boot (no new EVOS-INIT-START) and the ticks continue.
#
# Afterwards (pass or fail, from the EXIT trap): lab down, and nothing of the lab may be left (no
# netns, no process mentioning or inside the state dir, no mount under it, no state dir).
# Timings are printed, never asserted. Ends with "scenario_testip: N passed, M failed".
# Needs root and the packages of scripts/install-deps.sh. Environment: EVOS_TESTIP_LAB (lab name,
# default t + 4 random digits), EVOS_TESTIP_REPS (repetitions of scenario 1, default 5),
# EVOS_LAB_CACHE (default BUILD_DIR/lab-cache). For measurements only: EVOS_TESTIP_DAMPEN replaces
# the template's dampen (e.g. 5s), and EVOS_TESTIP_BLIP the length of scenario 4b's blip in seconds
# (default 1.5; keep it below dampen).

# "A && pass || fail" is intended (pass never fails)
# shellcheck disable=SC2015,SC2016
set -uo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")/../../.." && pwd)
name=${EVOS_TESTIP_LAB:-t$(printf '%04d' $((RANDOM % 10000)))}
reps=${EVOS_TESTIP_REPS:-5}
unset EVOS_LAB_BASE
export EVOS_LAB_NAME=$name
export EVOS_LAB_CACHE=${EVOS_LAB_CACHE:-$build/lab-cache}
base=/tmp/evos-lab-$name
shared=$base/shared
n1=${name}1 n2=${name}2
vm=${name}vm
rsc=vm-$vm
test_ips="198.18.1.254 198.18.1.253 198.18.1.252"
dampen=${EVOS_TESTIP_DAMPEN:-} blip=${EVOS_TESTIP_BLIP:-1.5}
work=$(mktemp -d "$build/scenario-testip.$name.XXXXXX")
stage=$work/root/usr      # evos from its Debian packages (tests/support/stage-debs.sh)
export EVOS_LAB_STAGE=$stage
evosctl=$stage/sbin/evosctl
vh=$here/tests/support/virt-hosts.sh

passes=0 fails=0
say() { echo "[scenario-testip $name $(date +%T.%3N)] $*"; }
pass() { passes=$((passes + 1)); say "ok: $*"; }
fail() { fails=$((fails + 1)); say "FAIL: $*"; }
die() { fail "$*"; exit 1; }
now_ms() { date +%s%3N; }
secs() { awk -v d="$1" 'BEGIN { printf "%.2f", d / 1000 }'; }
L() { "$evosctl" lab "$@"; }
X() { "$evosctl" lab exec "$@"; }   # X NODE CMD...
# wait_for SECONDS CMD...: until CMD succeeds (polls every 0.2 s)
wait_for() {
    local end=$(( $(now_ms) + $1 * 1000 ))
    shift
    until "$@" >/dev/null 2>&1; do
        (( $(now_ms) < end )) || return 1
        sleep 0.2
    done
}
other() { if [[ $1 == "$n1" ]]; then echo "$n2"; else echo "$n1"; fi; }
bootid() { cat "$base/$1/bootid" 2>/dev/null; }

# --- cluster views ---------------------------------------------------------------------------
both_online() { # NODE sees both nodes online, quorate, a DC
    local x
    x=$(X "$1" crm_mon -1 --output-as=xml 2>/dev/null) || return 1
    grep -q '<current_dc present="true"[^>]* with_quorum="true"' <<<"$x" &&
        grep -q "<node name=\"$n1\" id=\"[0-9]*\" online=\"true\"" <<<"$x" &&
        grep -q "<node name=\"$n2\" id=\"[0-9]*\" online=\"true\"" <<<"$x"
}
cluster_formed() { both_online "$n1" && both_online "$n2"; }
located() { X "$n1" crm_resource --locate --resource "$rsc" --quiet 2>/dev/null | xargs; }  # as node 1 sees it
# score NODE: NODE's evos-testip as the scheduler sees it (the CIB, after attrd's dampening)
score() { X "$n1" crm_attribute --node "$1" --name evos-testip --lifetime reboot --query --quiet 2>/dev/null; }
scores_are() { [[ $(score "$n1") == "$1" && $(score "$n2") == "$1" ]]; }
# vstate NODE: running | stopped | unknown (node off, libvirtd not answering)
vstate() {
    local out
    if out=$(X "$1" timeout 10 virsh -q -c qemu:///system list --state-running --name 2>/dev/null); then
        if grep -qx "$vm" <<<"$out"; then echo running; else echo stopped; fi
    else
        echo unknown
    fi
}
# states: s1 s2 = vstate of both nodes, queried concurrently
states() {
    vstate "$n1" >"$work/s1" & local p1=$!
    vstate "$n2" >"$work/s2" & local p2=$!
    wait "$p1" "$p2"
    s1=$(<"$work/s1") s2=$(<"$work/s2")
}
# watch_node NODE (in the background): "MS STATE" lines in $work/watch.NODE, NODE's domain state
# about every 100 ms, until $work/watch.stop exists
watch_node() {
    local st
    while [[ ! -e $work/watch.stop ]]; do
        st=$(vstate "$1")
        echo "$(now_ms) $st" >>"$work/watch.$1"
        sleep 0.03
    done
}
runs_only_on() { # runs_only_on NODE: libvirt runs the VM there and not on the peer, Pacemaker agrees
    states
    local me=$s1 peer=$s2
    [[ $1 == "$n2" ]] && { me=$s2; peer=$s1; }
    [[ $me == running && $peer == stopped && $(located) == "$1" ]]
}
# moved_from NODE: positive evidence that the VM is not (only) on NODE any more
moved_from() {
    states
    local me=$s1 peer=$s2 loc
    [[ $1 == "$n2" ]] && { me=$s2; peer=$s1; }
    loc=$(located)
    [[ $me == stopped || $peer == running || ( -n $loc && $loc != "$1" ) ]]
}
# runs_somewhere: positive evidence that the VM runs on a node
runs_somewhere() { states; [[ $s1 == running || $s2 == running || -n $(located) ]]; }
runs_nowhere() { states; [[ $s1 == stopped && $s2 == stopped && -z $(located) ]]; }
runs_once() { states; [[ $(located) == "$n1" || $(located) == "$n2" ]] && { [[ $s1 == running && $s2 == stopped ]] || [[ $s1 == stopped && $s2 == running ]]; }; }
settled() { # both online, both reach all test IPs (CIB), the VM runs on exactly one node and its
    # guest ticks, the cluster is idle
    cluster_formed && scores_are 3000 && runs_once && [[ -n $(first_of_last_boot) ]] &&
        X "$n1" crm_resource --wait --timeout=30s >/dev/null 2>&1
}

# --- the guest's counter ---------------------------------------------------------------------
slog=$shared/$vm.serial.log
boots() { grep -ac 'EVOS-INIT-START' "$slog" 2>/dev/null; }
last_tick() { awk '$1 == "EVOS-TICK" && $2 ~ /^[0-9]+$/ { n = $2 } END { print n + 0 }' "$slog" 2>/dev/null; }
# the last tick printed before the latest boot / the first tick of the latest boot
before_last_boot() { awk -v n="$(boots)" '/EVOS-INIT-START/ { i++ } i < n && $1 == "EVOS-TICK" { t = $2 } END { print t + 0 }' "$slog"; }
first_of_last_boot() { awk -v n="$(boots)" '/EVOS-INIT-START/ { i++ } i == n && $1 == "EVOS-TICK" { print $2; exit }' "$slog"; }
tick_at_least() { "$vh" wait-tick "$shared" "$vm" "$1" "$2" >/dev/null 2>&1; }
# kept_running WHAT BOOTS0 LAST: the ticks continue past LAST, and (counted after them, since a
# new boot also ticks past LAST: it reads the counter from the disk) still the same boot
kept_running() {
    if tick_at_least $(($3 + 2)) 60 && [[ $(boots) == "$2" ]]; then
        pass "$1: the guest kept running (no reboot, ticks $3 -> $(last_tick))"
    else
        fail "$1: the guest did not keep running (boots $2 -> $(boots), last tick before $3, now $(last_tick))"
    fi
}
# nothing_lost WHAT LAST BOOTS0: the guest was restarted (a boot after the BOOTS0 ones) and its
# first tick is greater than LAST and than every tick printed before that boot
new_boot_ticks() { [[ $(boots) -gt $1 && -n $(first_of_last_boot) ]]; }
nothing_lost() {
    local first
    if ! wait_for 90 new_boot_ticks "$3"; then
        fail "$1: no new boot of the guest that ticks (boots $3 -> $(boots), last tick $(last_tick))"
        return
    fi
    first=$(first_of_last_boot)
    if [[ $first -gt $2 && $first -gt $(before_last_boot) ]]; then
        pass "$1: restarted, nothing lost (last tick before $2, last before the new boot $(before_last_boot), first of the new boot $first)"
    else
        fail "$1: ticks lost (last tick before $2, last before the new boot $(before_last_boot), first of the new boot $first)"
    fi
}
# never SECONDS CMD...: CMD (evidence of what must not happen) does not succeed for SECONDS
never() {
    local end=$(( $(now_ms) + $1 * 1000 ))
    shift
    while (( $(now_ms) < end )); do
        "$@" >/dev/null 2>&1 && return 1
        sleep 0.2
    done
}

# --- leftovers and cleanup -------------------------------------------------------------------
# shellcheck source-path=SCRIPTDIR source=../../support/lab-leftovers.sh
source "$here/tests/support/lab-leftovers.sh"
leftovers() { lab_leftovers "$name" "$base"; }
downed=0
cleanup() {
    local rc=$? p left
    trap - EXIT INT TERM HUP
    for p in $(jobs -p); do kill "$p" 2>/dev/null; done   # only our own, still running background jobs
    if [[ $downed == 0 && -x $evosctl ]]; then
        say "taking the lab down"
        if [[ $fails -gt 0 || $rc -ne 0 ]]; then
            mkdir -p "$build/scenario-testip-logs" && L down --timeout 20 --save-logs "$build/scenario-testip-logs/$name" ||
                L down --kill || true
            say "logs saved in $build/scenario-testip-logs/$name"
        else
            L down --timeout 20 || L down --kill || true
        fi
    fi
    left=$(leftovers)
    [[ -z $left ]] && pass "nothing left behind" || fail "left behind: $left"
    rm -rf "$work"
    [[ -z ${timings:-} ]] || say "timings: $timings"
    echo "scenario_testip: $passes passed, $fails failed"
    [[ $fails == 0 && $rc == 0 ]] && exit 0
    exit 1
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

[[ $(id -u) == 0 ]] || die "needs root"
for t in cmake python3 ip qemu-img; do command -v "$t" >/dev/null || die "$t is not installed"; done
[[ $name =~ ^t[a-z0-9]{0,5}$ ]] || die "lab name '$name': t followed by at most 5 of [a-z0-9]"
[[ $reps =~ ^[1-9][0-9]*$ ]] || die "EVOS_TESTIP_REPS='$reps'"
[[ ! -e $base ]] || die "$base exists already (another lab named $name?)"
timings=""
t_all=$(now_ms)

# === setup ====================================================================================
[[ $("$here/tests/support/stage-debs.sh" "$here" "$build" "$work/root") == "$stage" ]] || die "staging evos from its Debian packages failed"
"$here/tests/support/build-guest.sh" "$build/guest-cache" >/dev/null || die "build-guest.sh failed"
L up >/dev/null || die "lab up failed"
pass "lab $name up"
cluster_formed || wait_for 60 cluster_formed || die "cluster not formed"
"$vh" domain-xml "$vm" "$shared" "$build/guest-cache" "$shared/$vm.xml" 128 || die "domain-xml"
X "$n1" evosctl cluster init --priority-fencing-delay 1s >/dev/null && pass "evosctl cluster init --priority-fencing-delay 1s" ||
    die "evosctl cluster init"
# crm-templates/testip.crm through evosctl: the clone first, the VM's rules once the VM exists.
out=$(X "$n1" evosctl cluster testip enable --hosts "$test_ips" 2>&1) && pass "evosctl cluster testip enable: $out" ||
    die "evosctl cluster testip enable: $out"
if [[ -n $dampen ]]; then
    X "$n1" crm_resource --resource testip --set-parameter dampen --parameter-value "$dampen" >/dev/null || die "dampen=$dampen"
fi
wait_for 60 scores_are 3000 && pass "both nodes reach the 3 test IPs (evos-testip=3000 in the CIB)" ||
    die "scores not 3000: $n1=$(score "$n1") $n2=$(score "$n2")"
# The test guest has no ACPI handling: destroy on stop (docs/lab.md, Gotchas), in the first
# configuration (Pacemaker 2.1 stops with the parameters of a node's last start or probe).
X "$n1" evosctl vm ha enable "$vm" --config "$shared/$vm.xml" --migration-unsafe --force-stop --timeout 120 ||
    die "evosctl vm ha enable"
out=$(X "$n1" evosctl cluster testip enable --hosts "$test_ips" --vm "$vm" 2>&1) && pass "evosctl cluster testip enable --vm $vm: $out" ||
    die "evosctl cluster testip enable --vm: $out"
[[ -z $dampen ]] || X "$n1" crm_resource --resource testip --set-parameter dampen --parameter-value "$dampen" >/dev/null || die "dampen"
wait_for 120 settled && pass "the VM runs on $(located) and the cluster is settled" || die "not settled after setup"
tick_at_least 2 90 && pass "the guest counts on its disk (tick $(last_tick))" || die "the guest does not tick"
[[ $(boots) == 1 ]] && pass "the guest booted once during setup" || fail "the guest was restarted during setup ($(boots) boots)"

# evosctl cluster status --json inside a node: test_ips per node, host states and RTTs
raw=$(X "$n1" attrd_updater --query --all --name evos-testip-detail --output-as=xml 2>&1)
say "attrd_updater --query --all --name evos-testip-detail --output-as=xml:"
sed 's/^/    /' <<<"$raw"
check_status_json() { # check_status_json NODE LOST_HOST|-: exit 0 when the JSON shows it
    X "$1" evosctl cluster status --json 2>/dev/null | python3 -c '
import json, sys
n1, n2, ips, lost = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4]
t = json.load(sys.stdin)["test_ips"]
assert sorted(t) == sorted([n1, n2]), t
for node, d in t.items():
    assert [h["host"] for h in d["hosts"]] == ips, d
    for h in d["hosts"]:
        if h["host"] == lost:
            assert h["state"] == "lost" and h["received"] == 0 and h["loss_percent"] == 100, h
            assert h["avg_rtt_us"] is None and h["min_rtt_us"] is None, h
        else:
            assert h["state"] == "ok" and h["received"] >= 1 and h["address"] == h["host"], h
            assert isinstance(h["avg_rtt_us"], int) and 0 <= h["min_rtt_us"] <= h["avg_rtt_us"] < 1000000, h
    assert d["score"] == 1000 * sum(1 for h in d["hosts"] if h["state"] == "ok"), d
    assert d["time"] > 1500000000, d
' "$n1" "$n2" "$test_ips" "$2"
}
if check_status_json "$n2" -; then
    pass "evosctl cluster status --json (in $n2): test_ips for both nodes, 3 hosts ok with RTTs, score 3000"
else
    fail "evosctl cluster status --json: test_ips: $(X "$n2" evosctl cluster status --json 2>&1 | python3 -c 'import json,sys; print(json.load(sys.stdin).get("test_ips"))' 2>&1)"
fi
out=$(X "$n1" evosctl cluster status 2>&1)
grep -q '^TEST IPS' <<<"$out" && grep -qE "^$n1 +3000 +198\.18\.1\.254 ok 0% [0-9.]+ ms" <<<"$out" &&
    pass "evosctl cluster status (text) shows the test IPs" || fail "evosctl cluster status text: $out"
timings="setup $(secs $(( $(now_ms) - t_all ))) s"

# === 1: the corporate link of the VM's node goes down -> live migration to the peer ============
# The arrival is timed inside the peer (same clock): a loop there polls virsh every 50 ms and
# prints the time the domain is running; bounded by timeout(1), so it ends on its own.
declare -a s1_ms=() s1_detect=()
attrd_seen() { # attrd_seen NODE SINCE_MS: ms of the first "Setting evos-testip[NODE]: 3000 -> " in NODE's log after SINCE
    local line t
    while IFS= read -r line; do
        t=$(date -d "$(awk '{print $1, $2, $3}' <<<"$line")" +%s%3N 2>/dev/null) || continue
        if (( t >= $2 )); then echo "$t"; return 0; fi
    done < <(grep -a "Setting evos-testip\[$1\]: 3000 -> " "$base/$1/log/pacemaker/pacemaker.log" 2>/dev/null)
    return 1
}
for rep in $(seq 1 "$reps"); do
    wait_for 120 settled || { fail "1.$rep: not settled before the cut"; break; }
    a=$(located) b=$(other "$(located)")
    b0=$(boots) last=$(last_tick)
    X "$b" timeout 120 sh -c 'while [ "$(virsh -q -c qemu:///system domstate "$1" 2>/dev/null | head -n 1)" != running ]; do sleep 0.05; done; date +%s%3N' \
        sh "$vm" >"$work/arrival" 2>/dev/null &
    poller=$!
    sleep 0.5   # the poller is running
    L cut corp "$a" >/dev/null || fail "cut corp $a"
    t0=$(now_ms)
    wait "$poller"
    arrival=$(<"$work/arrival")
    if [[ -n $arrival ]] && wait_for 60 runs_only_on "$b"; then
        s1_ms+=($((arrival - t0)))
        det=$(attrd_seen "$a" "$t0") && s1_detect+=($((det - t0)))
        pass "1.$rep: cut corp $a: the VM runs on $b after $(secs $((arrival - t0))) s (attrd saw the loss after $(secs $((${det:-t0} - t0))) s)"
        kept_running "1.$rep: live migration $a -> $b" "$b0" "$last"
    else
        fail "1.$rep: cut corp $a: the VM is not on $b ($n1: $s1, $n2: $s2, Pacemaker: $(located))"
    fi
    L heal corp "$a" >/dev/null || fail "heal corp $a"
    wait_for 120 scores_are 3000 || fail "1.$rep: $a's score did not return to 3000 after heal"
done
med_max() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit }
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "median %.2f s, max %.2f s (n=%d)", m / 1000, v[NR] / 1000, NR }'; }
s1_summary="corp link down -> VM running on the peer: $(med_max "${s1_ms[@]}"); of which until attrd has the new value: $(med_max "${s1_detect[@]}")"
say "$s1_summary (all: ${s1_ms[*]} ms)"
timings="$timings; $s1_summary"

# === 4: one test IP silently drops ICMP for both nodes -> nothing moves =========================
wait_for 120 settled || fail "4: not settled before"
a=$(located) b0=$(boots) last=$(last_tick)
L cut testip 198.18.1.253 >/dev/null || fail "cut testip 198.18.1.253"
if wait_for 60 scores_are 2000; then
    pass "4: cut testip 198.18.1.253: both scores 2000 in the CIB"
else
    fail "4: scores not 2000: $n1=$(score "$n1") $n2=$(score "$n2")"
fi
if wait_for 30 check_status_json "$n1" 198.18.1.253; then
    pass "4: evosctl cluster status --json: 198.18.1.253 lost (100% loss, no RTT) on both nodes, the others ok"
else
    fail "4: cluster status --json does not show 198.18.1.253 lost: $(X "$n1" attrd_updater -Q -A -n evos-testip-detail 2>&1)"
fi
# the scheduler has seen the equal scores (the CIB); let it act, then watch a few seconds more
X "$n1" crm_resource --wait --timeout=30s >/dev/null 2>&1
never 5 moved_from "$a" && wait_for 30 runs_only_on "$a" && pass "4: the VM stays on $a" || fail "4: the VM moved ($n1: $s1, $n2: $s2, Pacemaker: $(located))"
kept_running "4: one test IP lost for both" "$b0" "$last"
L heal testip 198.18.1.253 >/dev/null || fail "heal testip"
wait_for 120 scores_are 3000 && pass "4: heal testip: both scores 3000 again" || fail "4: scores after heal: $(score "$n1") $(score "$n2")"

# === 4b: one bad monitor round on the VM's node only -> dampening keeps it from the CIB =========
wait_for 120 settled || fail "4b: not settled before"
a=$(located) b0=$(boots) last=$(last_tick)
t0=$(now_ms)
L cut corp "$a" >/dev/null || fail "4b: cut corp $a"
sleep "$blip"   # a monitor round (1 s interval, 1 s probe timeout) that starts after the cut sees no test IP; the next one, after the heal, undoes it within dampen (2 s)
L heal corp "$a" >/dev/null || fail "4b: heal corp $a"
dropped=0 moved=0
blip_effect() { # the score in the CIB changed or the VM moved (records which)
    local v
    v=$(score "$a")
    [[ -z $v || $v == 3000 ]] || dropped=1
    moved_from "$a" && moved=1
    [[ $dropped == 1 || $moved == 1 ]]
}
never 8 blip_effect   # dampen (2 s) + a monitor + the scheduler, counted from the heal, with room
if attrd_seen "$a" "$t0" >/dev/null; then seen="seen by attrd"; else seen="no monitor ran during the blip"; fi
[[ $dropped == 0 ]] && pass "4b: a $blip s corp blip on $a ($seen) never reached the CIB (score stayed 3000)" ||
    fail "4b: the blip reached the CIB ($a's score changed)"
[[ $moved == 0 ]] && wait_for 30 runs_only_on "$a" && pass "4b: the VM stays on $a" || fail "4b: the VM moved ($n1: $s1, $n2: $s2, Pacemaker: $(located))"
kept_running "4b: corp blip" "$b0" "$last"

# === 2: both nodes lose every test IP -> no VM anywhere; back when the network is ==============
wait_for 120 settled || fail "2: not settled before"
b0=$(boots) last=$(last_tick)
L cut corp "$n1" >/dev/null && L cut corp "$n2" >/dev/null || fail "2: cut corp on both"
t0=$(now_ms)
wait_for 60 scores_are 0 && pass "2: both nodes' scores 0 in the CIB" || fail "2: scores $(score "$n1") $(score "$n2")"
if wait_for 120 runs_nowhere; then
    pass "2: cut corp on both: the VM runs nowhere after $(secs $(( $(now_ms) - t0 ))) s"
else
    fail "2: the VM still runs ($n1: $s1, $n2: $s2, Pacemaker: $(located))"
fi
X "$n1" crm_resource --wait --timeout=30s >/dev/null 2>&1
never 5 runs_somewhere && pass "2: and stays stopped while both are cut off" || fail "2: the VM started again while both were cut off ($n1: $s1, $n2: $s2)"
last=$(last_tick)
L heal corp "$n1" >/dev/null && L heal corp "$n2" >/dev/null || fail "2: heal corp on both"
t0=$(now_ms)
if wait_for 120 runs_once; then
    pass "2: heal both: the VM runs again on $(located) after $(secs $(( $(now_ms) - t0 ))) s"
else
    fail "2: heal both: the VM does not run ($n1: $s1, $n2: $s2, Pacemaker: $(located))"
fi
nothing_lost "2: both cut off and back" "$last" "$b0"

# === 3: the cluster link is cut while both reach the test IPs -> fencing decides ================
wait_for 120 settled || fail "3: not settled before"
a=$(located) b0=$(boots) last=$(last_tick)
bid1=$(bootid "$n1") bid2=$(bootid "$n2")
loser="" winner="" t_fence="" t_kept="" t_back="" t_heal="" t_formed="" phase=split
rm -f "$work/watch.stop" "$work/watch.$n1" "$work/watch.$n2"
watch_node "$n1" &
watcher1=$!
watch_node "$n2" &
watcher2=$!
sleep 0.5
L cut cluster "$a" >/dev/null || fail "3: cut cluster $a"
t0=$(now_ms)
t_end=$((t0 + 240000))
# The watcher samples both nodes' domain state; this loop follows the phases on its latest sample:
# split (until a node was power-cycled and the survivor runs the VM), hold (the loser boots again,
# inquorate: it must not start the VM), healed (the cluster re-forms, the VM runs once).
while (( $(now_ms) < t_end )); do
    sleep 0.1
    read -r _ s1 < <(tail -n 1 "$work/watch.$n1" 2>/dev/null) || continue
    read -r _ s2 < <(tail -n 1 "$work/watch.$n2" 2>/dev/null) || continue
    if [[ -z $loser ]]; then
        c1=0 c2=0
        [[ $(bootid "$n1") != "$bid1" ]] && c1=1
        [[ $(bootid "$n2") != "$bid2" ]] && c2=1
        if ((c1 + c2 == 2)); then
            fail "3: both nodes were power-cycled"; loser=both; break
        elif ((c1 + c2 == 1)); then
            loser=$n1; ((c2)) && loser=$n2
            winner=$(other "$loser") t_fence=$(now_ms)
        fi
    fi
    w=$s1; [[ $winner == "$n2" ]] && w=$s2
    l=$s2; [[ $winner == "$n2" ]] && l=$s1
    case $phase in
    split)
        if [[ -n $winner && $w == running ]]; then
            t_kept=$(now_ms); phase=hold
        fi ;;
    hold)  # until the loser's Pacemaker runs again (inquorate) and a few more seconds
        if [[ -z $t_back ]] && grep -q '<current_dc present="true"' <<<"$(X "$loser" crm_mon -1 --output-as=xml 2>/dev/null)"; then
            t_back=$(now_ms)
        fi
        if [[ -n $t_back ]] && (( $(now_ms) - t_back > 8000 )); then
            if [[ $l == stopped ]] && ! both_online "$loser"; then
                pass "3: $loser was power-cycled and came back inquorate without the VM"
            else
                fail "3: $loser after its reboot: VM $l, $(X "$loser" crm_mon -1 2>&1 | grep -i quorum)"
            fi
            L heal cluster "$a" >/dev/null || fail "3: heal cluster"
            t_heal=$(now_ms); phase=healed
        fi ;;
    healed)
        if cluster_formed && [[ $(located) == "$winner" && $w == running && $l == stopped ]]; then
            t_formed=$(now_ms); break
        fi ;;
    esac
done
secs_since() { secs $(( $1 - t0 )); }
if [[ -z $loser ]]; then
    fail "3: cut cluster: nobody was fenced"
elif [[ $loser != both ]]; then
    pass "3: cut cluster $a: exactly one node was power-cycled: $winner fenced $loser after $(secs_since "$t_fence") s (the VM was on $a)"
    [[ -n $t_formed ]] && pass "3: heal: the cluster re-formed with the VM on $winner $(secs $((t_formed - t_heal))) s after heal" ||
        fail "3: did not reach a re-formed cluster with the VM on $winner (phase $phase; $n1: $s1, $n2: $s2, Pacemaker: $(located))"
    [[ -n $t_kept ]] && say "3: the VM ran on $winner $(secs_since "$t_kept") s after the cut"
fi
wait_for 120 settled || fail "3: not settled after heal"
[[ $(located) == "$winner" ]] && runs_once && pass "3: the VM runs once, on $winner" || fail "3: VM on '$(located)'"
touch "$work/watch.stop"
wait "$watcher1" "$watcher2"
# Merge both nodes' samples in time order; after each sample, the latest state of each node: the
# VM must never be running on both. Per node: samples and the interval between them.
both=$({ sed "s/^/1 /" "$work/watch.$n1"; sed "s/^/2 /" "$work/watch.$n2"; } | sort -s -n -k 2,2 |
    awk '{ st[$1] = $3 } st[1] == "running" && st[2] == "running" { b++; print "    both running at +" $2 - t0 " ms" > "/dev/stderr" }
         END { print b + 0 }' t0="$t0")
sampling() { awk 'NR > 1 { g[NR - 1] = $1 - p } { p = $1 }
    END { n = asort(g); printf "%d samples, interval median %d ms, max %d ms", NR, g[int((n + 1) / 2)], g[n] }' "$1"; }
[[ $both == 0 ]] && pass "3: never running on both nodes ($n1: $(sampling "$work/watch.$n1"); $n2: $(sampling "$work/watch.$n2"))" ||
    fail "3: running on both nodes after $both samples"
if [[ $winner == "$a" ]]; then
    kept_running "3: split, $a kept the VM" "$b0" "$last"
else
    nothing_lost "3: split, the VM restarted on $winner" "$last" "$b0"
fi
# (grep reads a captured copy: `cmd | grep -q` under pipefail fails when grep exits at the
# match and the writer then dies of SIGPIPE)
grep -q "target=\"$loser\"[^>]*status=\"success\"\|status=\"success\"[^>]*target=\"$loser\"" \
    <<<"$(X "$n1" stonith_admin --history "$loser" --output-as=xml 2>/dev/null)" &&
    pass "3: the fencing history holds $loser's fencing" || fail "3: no successful fencing of $loser in the history"

# === down =====================================================================================
t0=$(now_ms)
logs=(); [[ $fails == 0 ]] || { mkdir -p "$build/scenario-testip-logs"; logs=(--save-logs "$build/scenario-testip-logs/$name"); }
if L down --timeout 60 "${logs[@]}" >/dev/null; then pass "down in $(secs $(( $(now_ms) - t0 ))) s"; else fail "down failed"; fi
downed=1
timings="$timings; total $(secs $(( $(now_ms) - t_all ))) s"
