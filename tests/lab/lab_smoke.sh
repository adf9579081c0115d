#!/bin/bash
# lab_smoke.sh BUILD_DIR - the lab (evos-lab, docs/lab.md) end to end, from evos's packages:
#   1. the Debian packages unpacked into a stage (tests/support/stage-debs.sh); the staged
#      <stage>/lib/evos/evos-lab brings a lab with a unique name up (it finds the stage itself)
#   2. both nodes online + quorate with a DC; exec (uname -n, exit status, stdin); libvirtd
#      answers in both nodes; the staged evosctl and ocf:evos:vm are visible inside the nodes
#   3. ICMP from node 1 to the three test IPs and to node 2 over both links; cut/heal corp
#      (gateway lost, cluster link kept); cut/heal testip (one test IP drops ICMP)
#   4. an ocf:pacemaker:Dummy starts; kill the node running it: the survivor fences it (fencing
#      history), the Dummy runs on the survivor (failover time printed); the virtual PDU's
#      reboot powers the node on again and it rejoins
#   5. with stonith-action=off: kill the Dummy's node again, it stays off; boot it, it rejoins
#   6. cut the cluster link (split): exactly one node is fenced, the lab heals and rejoins, the
#      Dummy runs once
#   7. down (also from the EXIT trap after a failure); then nothing may be left: no netns with
#      the name prefix, no process whose command line or cwd mentions the state dir, no mount
#      under it in any mount namespace, no state dir
# Needs root. Fails (never skips) if anything is missing. Prints timings (up, failover, down).
# EVOS_LAB_NAME overrides the random lab name; EVOS_LAB_CACHE (default BUILD_DIR/lab-cache)
# keeps libvirt's QEMU capability cache between runs.

# "A && pass || fail" is intended (pass never fails); eval strings expand late on purpose
# shellcheck disable=SC2015,SC2016
set -uo pipefail
build=$(cd "${1:?usage: lab_smoke.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
name=${EVOS_LAB_NAME:-l$(printf '%04d' $((RANDOM % 10000)))}
export EVOS_LAB_NAME=$name
unset EVOS_LAB_BASE EVOS_LAB_STAGE
export EVOS_LAB_CACHE=${EVOS_LAB_CACHE:-$build/lab-cache}
base=/tmp/evos-lab-$name
n1=${name}1 n2=${name}2
work=$(mktemp -d "$build/lab-smoke.$name.XXXXXX")
stage=$work/root/usr      # evos from its Debian packages (tests/support/stage-debs.sh)
lab=$stage/lib/evos/evos-lab

passes=0 fails=0
say() { echo "[lab-smoke $name $(date +%T.%3N)] $*"; }
pass() { passes=$((passes + 1)); say "ok: $*"; }
fail() { fails=$((fails + 1)); say "FAIL: $*"; }
die() { fail "$*"; exit 1; }
now_ms() { date +%s%3N; }
secs() { local d=$(( $(now_ms) - $1 )); printf '%d.%01d' $((d / 1000)) $(((d % 1000) / 100)); }
L() { "$lab" "$@"; }
X() { "$lab" exec "$@"; }     # X NODE CMD...
# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
    local end=$(( $(now_ms) + $1 * 1000 ))
    shift
    until "$@" >/dev/null 2>&1; do
        (( $(now_ms) < end )) || return 1
        sleep 0.2
    done
}
other() { if [[ $1 == "$n1" ]]; then echo "$n2"; else echo "$n1"; fi; }
power() { L status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print([n["power"] for n in d["nodes"] if n["name"]==sys.argv[1]][0])' "$1"; }
# both_online NODE: NODE sees both nodes online, quorate, a DC
both_online() {
    local x
    x=$(X "$1" crm_mon -1 --output-as=xml 2>/dev/null) || return 1
    grep -q '<current_dc present="true"[^>]* with_quorum="true"' <<<"$x" &&
        grep -q "<node name=\"$n1\" id=\"[0-9]*\" online=\"true\"" <<<"$x" &&
        grep -q "<node name=\"$n2\" id=\"[0-9]*\" online=\"true\"" <<<"$x"
}
cluster_formed() { both_online "$n1" && both_online "$n2"; }
located() { X "$1" crm_resource --locate --resource smoke-dummy --quiet 2>/dev/null | xargs; }
runs_on() { [[ $(located "$1") == "$2" ]]; }   # runs_on ASKED_NODE EXPECTED_NODE
pings() { local _; for _ in 1 2 3; do X "$1" ping -n -q -c 1 -W 2 "$2" >/dev/null 2>&1 && return 0; done; return 1; }
no_ping() { ! X "$1" ping -n -q -c 1 -W 1 "$2" >/dev/null 2>&1; }
fenced() { # fenced OBSERVER TARGET: OBSERVER's fencing history holds a successful fencing of TARGET
    local x
    x=$(X "$1" stonith_admin --history "$2" --output-as=xml 2>/dev/null) || return 1
    grep -q "<fence_event [^>]*target=\"$2\"[^>]*status=\"success\"\|<fence_event [^>]*status=\"success\"[^>]*target=\"$2\"" <<<"$x"
}
bootid() { cat "$base/$1/bootid" 2>/dev/null; }

# shellcheck source-path=SCRIPTDIR source=../support/lab-leftovers.sh
source "$(dirname "$0")/../support/lab-leftovers.sh"
leftovers() { lab_leftovers "$name" "$base"; }

downed=0
cleanup() {
    local rc=$?
    if [[ $downed == 0 && -x $lab ]]; then
        say "cleanup: $lab down"
        L down --timeout 20 || true
    fi
    rm -rf "$work"
    if [[ $fails -gt 0 || $rc -ne 0 ]]; then
        say "lab-smoke: $passes passed, $fails failed"
        [[ $rc -ne 0 ]] || rc=1
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

[[ $(id -u) == 0 ]] || die "needs root"
for t in cmake python3 ip; do command -v "$t" >/dev/null || die "$t is not installed"; done
[[ ! -e $base ]] || die "$base exists already (another lab named $name?)"

# --- 1. staged install, up --------------------------------------------------------------------
[[ $("$src/tests/support/stage-debs.sh" "$src" "$build" "$work/root") == "$stage" ]] || die "staging evos from its Debian packages failed"
[[ -x $lab && -x $stage/lib/evos/fence_evoslab ]] || die "evos-lab/fence_evoslab not in the evos-lab package ($stage/lib/evos)"
[[ -x $stage/lib/ocf/resource.d/evos/vm && -x $stage/sbin/evosctl ]] || die "agents or evosctl not staged"
t0=$(now_ms)
if L up; then up_s=$(secs "$t0"); pass "up in $up_s s"; else die "up failed"; fi
L up >/dev/null 2>&1 && fail "a second up of the same lab succeeded" || pass "a second up of the same lab is refused"

# --- 2. cluster, exec, libvirtd, staged evos --------------------------------------------------
cluster_formed && pass "both nodes online, quorate, DC elected" || fail "cluster not formed after up"
js=$(L status --json) || fail "status --json"
python3 - "$js" "$stage" "$base/shared" <<'EOF' && pass "status --json: both on, daemons answer, stage and shared dir" || fail "status --json: $js"
import json, sys
d = json.loads(sys.argv[1])
assert d["exists"] and d["pdu"]["running"], d
assert d["stage"] == sys.argv[2] and d["shared"] == sys.argv[3], d
for n in d["nodes"]:
    assert n["power"] == "on" and n["corosync"] and n["pacemaker"] and n["libvirtd"] and n["quorate"], n
    assert sorted(n["online"]) == sorted(x["name"] for x in d["nodes"]), n
EOF
L status || fail "status"
[[ $(X "$n1" uname -n) == "$n1" && $(X 2 uname -n) == "$n2" ]] && pass "exec: uname -n is the node name" || fail "exec uname -n"
X "$n1" sh -c 'exit 7'; [[ $? == 7 ]] && pass "exec propagates the exit status" || fail "exec exit status"
[[ $(echo hello | X "$n2" cat) == hello ]] && pass "exec passes stdin" || fail "exec stdin"
for n in "$n1" "$n2"; do
    X "$n" virsh -q -c qemu:///system version >/dev/null && pass "$n: libvirtd answers" || fail "$n: virsh version"
done
X "$n1" virsh -q -c "qemu+tcp://$n2/system" version >/dev/null && pass "$n1 reaches $n2's libvirtd as qemu+tcp://$n2/system" || fail "qemu+tcp://$n2/system from $n1"
X "$n1" evosctl version >/dev/null && pass "the staged evosctl runs inside a node" || fail "evosctl inside a node"
out=$(X "$n2" crm_resource --show-metadata ocf:evos:vm 2>&1)
grep -q '<resource-agent name="vm"' <<<"$out" && pass "ocf:evos:vm is visible to Pacemaker inside a node" || fail "ocf:evos:vm meta-data inside a node"
out=$(X "$n1" stonith_admin --list-installed 2>&1)
grep -qx ' *fence_evoslab' <<<"$out" && pass "fence_evoslab is installed in the nodes" || fail "fence_evoslab not listed"
touch "$base/shared/from-host"; X "$n2" test -e "$base/shared/from-host" && pass "the shared dir is the same inside the nodes" || fail "shared dir not visible inside a node"

# --- 3. networks ------------------------------------------------------------------------------
for ip in 198.18.1.254 198.18.1.253 198.18.1.252 198.18.0.2 198.18.1.2; do
    pings "$n1" "$ip" && pass "$n1 pings $ip" || fail "$n1 does not reach $ip"
done
L cut corp "$n1" || fail "cut corp"
no_ping "$n1" 198.18.1.254 && pass "cut corp $n1: gateway lost" || fail "cut corp $n1: gateway still answers"
pings "$n1" 198.18.0.2 && pass "cut corp $n1: cluster link kept" || fail "cut corp $n1: cluster link lost"
pings "$n2" 198.18.1.254 && pass "cut corp $n1: $n2 keeps the gateway" || fail "cut corp $n1: $n2 lost the gateway"
L heal corp "$n1" || fail "heal corp"
pings "$n1" 198.18.1.254 && pass "heal corp $n1: gateway back" || fail "heal corp $n1: no gateway"
L cut testip 198.18.1.253 || fail "cut testip"
no_ping "$n1" 198.18.1.253 && pings "$n1" 198.18.1.252 && pass "cut testip: 198.18.1.253 drops ICMP, 198.18.1.252 answers" || fail "cut testip"
L heal testip 198.18.1.253 || fail "heal testip"
pings "$n1" 198.18.1.253 && pass "heal testip: 198.18.1.253 answers again" || fail "heal testip"

# --- 4. resource, kill, fencing (reboot), failover --------------------------------------------
X "$n1" cibadmin --create --scope resources --xml-text '<primitive id="smoke-dummy" class="ocf" provider="pacemaker" type="Dummy">
  <meta_attributes id="smoke-dummy-meta"><nvpair id="smoke-dummy-stick" name="resource-stickiness" value="100"/></meta_attributes>
  <operations><op id="smoke-dummy-monitor" name="monitor" interval="5s" timeout="20s"/></operations></primitive>' ||
    die "cannot create the Dummy resource"
wait_for 30 eval '[[ -n $(located "$n1") ]]' && pass "ocf:pacemaker:Dummy started on $(located "$n1")" || die "Dummy did not start"
victim=$(located "$n1") survivor=$(other "$(located "$n1")")
vboot=$(bootid "$victim")
t0=$(now_ms)
L kill "$victim" || fail "kill $victim"
if wait_for 60 runs_on "$survivor" "$survivor"; then
    failover1=$(secs "$t0"); pass "kill $victim: Dummy runs on $survivor after $failover1 s"
else
    fail "kill $victim: Dummy not on $survivor within 60 s"
fi
wait_for 30 fenced "$survivor" "$victim" && pass "$survivor fenced $victim (fencing history)" || fail "no successful fencing of $victim in $survivor's history"
X "$survivor" stonith_admin --history "$victim" || true
t0=$(now_ms)
if wait_for 60 cluster_formed; then
    pass "the PDU's reboot powered $victim on, it rejoined $(secs "$t0") s after the failover"
else
    fail "$victim did not rejoin after the fencing reboot"
fi
[[ $(bootid "$victim") != "$vboot" ]] && pass "$victim has a new boot id" || fail "$victim kept its boot id"

# --- 5. fencing with stonith-action=off: the node stays off until boot -------------------------
X "$n1" crm_attribute --type crm_config --name stonith-action --update off || fail "set stonith-action=off"
victim=$(located "$n1") survivor=$(other "$(located "$n1")")
t0=$(now_ms)
L kill "$victim" || fail "kill $victim"
if wait_for 60 runs_on "$survivor" "$survivor"; then
    failover2=$(secs "$t0"); pass "kill $victim: Dummy runs on $survivor after $failover2 s"
else
    fail "kill $victim: Dummy not on $survivor"
fi
wait_for 30 fenced "$survivor" "$victim" && pass "$survivor fenced $victim again" || fail "second fencing of $victim not in history"
sleep 2
[[ $(power "$victim") == off ]] && pass "stonith-action=off: $victim stays off" || fail "$victim is not off"
X "$victim" true 2>/dev/null && fail "exec into a powered-off node succeeded" || pass "exec into a powered-off node fails"
# a machine without power answers nothing (fence_evos_race tells a death from a split by that)
vi=${victim: -1}
no_ping "$survivor" "198.18.1.$vi" && no_ping "$survivor" "198.18.0.$vi" && pass "a powered-off node answers no ICMP on either link" ||
    fail "the powered-off $victim still answers ICMP"
t0=$(now_ms)
L boot "$victim" || fail "boot $victim"
if wait_for 60 cluster_formed; then pass "boot $victim: rejoined after $(secs "$t0") s"; else fail "boot $victim: did not rejoin"; fi
pings "$survivor" "198.18.1.$vi" && pings "$survivor" "198.18.0.$vi" && pass "booted again, $victim answers on both links" ||
    fail "$victim does not answer ICMP after its boot"
L boot "$victim" >/dev/null 2>&1 && pass "boot of a running node is a no-op" || fail "boot of a running node failed"
X "$n1" crm_attribute --type crm_config --name stonith-action --delete || fail "delete stonith-action"

# --- 6. split: cut the cluster link -----------------------------------------------------------
b1=$(bootid "$n1") b2=$(bootid "$n2")
L cut cluster "$n1" || fail "cut cluster"
# the fence race: exactly one node is power-cycled by the winner
if wait_for 40 eval '[[ $(bootid "$n1") != "$b1" || $(bootid "$n2") != "$b2" ]]'; then
    sleep 3
    if [[ $(bootid "$n1") != "$b1" && $(bootid "$n2") != "$b2" ]]; then
        fail "split: both nodes were fenced"
    else
        loser=$n1; [[ $(bootid "$n2") != "$b2" ]] && loser=$n2
        pass "split: $(other "$loser") fenced $loser (and only it)"
    fi
else
    fail "split: nobody was fenced"
fi
L heal cluster "$n1" || fail "heal cluster"
if wait_for 60 cluster_formed; then pass "heal cluster: both nodes online again"; else fail "heal cluster: not rejoined"; fi
wait_for 30 eval '[[ $(located "$n1" | wc -w) == 1 ]]' && pass "Dummy runs exactly once ($(located "$n1"))" || fail "Dummy runs on: '$(located "$n1")'"

# --- 7. down, nothing left --------------------------------------------------------------------
L status || true
t0=$(now_ms)
if L down; then down_s=$(secs "$t0"); pass "down in $down_s s"; else fail "down failed"; fi
downed=1
left=$(leftovers)
[[ -z $left ]] && pass "nothing left behind" || fail "left behind: $left"
L down >/dev/null 2>&1 && pass "down is idempotent" || fail "second down failed"
L status >/dev/null 2>&1; [[ $? == 3 ]] && pass "status of an absent lab: exit 3" || fail "status of an absent lab"

say "timings: up ${up_s:-?} s, Dummy failover ${failover1:-?} s (fencing reboot) / ${failover2:-?} s (fencing off), down ${down_s:-?} s"
say "lab-smoke: $passes passed, $fails failed"
[[ $fails == 0 ]]
