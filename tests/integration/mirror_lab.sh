#!/bin/bash
# mirror_lab.sh BUILD_DIR - ocf:evos:mirror in the lab (docs/lab.md): a real two-node
# Corosync/Pacemaker cluster with fencing, DRBD played by the drbd simulator. A test-only stage
# adds <stage>/sbin/drbdadm and drbdsetup (first on PATH in the nodes): wrappers that run drbd-sim
# with its world in the lab's shared directory and the node from `uname -n`. The mirror runs as a
# promotable clone (as in crm-templates/vm-drbd) with an ocf:pacemaker:Dummy standing in for the
# VM (colocated with Promoted, ordered after promote, allow-migrate=true). Scenarios:
#   start       one node is promoted, the "VM" starts there
#   migrate     promoted-max=2: both Primary (allow-two-primaries open); the "VM" migrates live;
#               promoted-max=1: the node it left is demoted, the window is closed again
#   resync      a resync in progress (1 KiB/s): `evosctl node shutdown-check` on the sync source
#               and `evosctl node standby SOURCE` refuse with a clear message, the source keeps
#               its role and its score
#   node-death  the Primary's node dies (power off + its DRBD gone): it is fenced, the UpToDate
#               survivor is promoted and the "VM" starts there; the dead node returns and resyncs
#   target-only the sync source dies during a resync: the Inconsistent survivor is never
#               promoted (no score) and the "VM" stays down; the source returns and is promoted
#   split-brain both nodes wrote while apart: detected and reported (evosctl mirror status, the
#               agent's 191/190), `evosctl mirror resolve r0 --discard NODE` on the other node
#               recovers it (the peer's part through its agent)
# No timing is asserted (waits are generous upper bounds). The lab goes down at the end (also from
# the EXIT trap) and nothing of it may be left. Lab names start with "m". Needs root.
# shellcheck disable=SC2015
set -uo pipefail
build=$(cd "${1:?usage: mirror_lab.sh BUILD_DIR}" && pwd)
name=${EVOS_LAB_NAME:-m$(printf '%04d' $((RANDOM % 10000)))}
[[ $name == m* ]] || { echo "FAIL: mirror lab names start with m"; exit 1; }
export EVOS_LAB_NAME=$name
unset EVOS_LAB_BASE EVOS_LAB_STAGE EVOS_LAB_TOKEN
export EVOS_LAB_CACHE=${EVOS_LAB_CACHE:-$build/lab-cache}
base=/tmp/evos-lab-$name
shared=$base/shared
world=$shared/drbd-sim
n1=${name}1 n2=${name}2
work=$(mktemp -d "$build/mirror-lab.$name.XXXXXX")
stage=$work/stage
lab=$stage/libexec/evos/evos-lab
sim=$stage/libexec/evos/drbd-sim
instant=1099511627776

passes=0 fails=0
say() { echo "[mirror-lab $name $(date +%T.%3N)] $*"; }
pass() { passes=$((passes + 1)); say "ok: $*"; }
fail() { fails=$((fails + 1)); say "FAIL: $*"; }
die() { fail "$*"; exit 1; }
now_ms() { date +%s%3N; }
L() { "$lab" "$@"; }
X() { "$lab" exec "$@"; }     # X NODE CMD...
other() { if [[ $1 == "$n1" ]]; then echo "$n2"; else echo "$n1"; fi; }
wait_for() {  # wait_for SECONDS CMD...: until CMD succeeds
  local end=$(( $(now_ms) + $1 * 1000 ))
  shift
  until "$@" >/dev/null 2>&1; do
    (( $(now_ms) < end )) || return 1
    sleep 0.5
  done
}
ctl() { EVOS_DRBD_SIM_DIR=$world "$sim" ctl "$@"; }
simq() {  # simq NODE CMD...: the simulator as NODE, from the host
  local node=$1
  shift
  EVOS_DRBD_SIM_DIR=$world EVOS_DRBD_SIM_NODE=$node "$stage/libexec/evos/drbd-sim-bin/$1" "${@:2}"
}
world_field() { ctl show r0 | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
mon() {  # crm_mon XML, asked of any node that answers
  local n
  for n in "$n1" "$n2"; do X "$n" timeout 20 crm_mon -1 --output-as=xml 2>/dev/null && return 0; done
  return 1
}
promoted_on() {
  mon | xmllint --xpath '//clone[@id="mirror-r0-clone"]/resource[@role="Promoted"]/node/@name' - 2>/dev/null \
    | sed 's/ *name="\([^"]*\)"/\1\n/g' | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'
}
vm_on() {
  mon | xmllint --xpath '//resource[@id="vm"]/node/@name' - 2>/dev/null | sed 's/ *name="\([^"]*\)"/\1 /g; s/ $//'
}
is_promoted() { [[ $(promoted_on) == "$1" ]]; }
one_promoted() { [[ $(promoted_on) == "$n1" || $(promoted_on) == "$n2" ]]; }
window_closed() { [[ $(world_field 'd["two_primaries"]') == False ]]; }
receiving() { [[ $(simq "$1" drbdadm dstate r0 2>/dev/null) == Inconsistent/UpToDate ]]; }
vm_is_on() { [[ $(vm_on) == "$1" ]]; }
both_online() {
  local x
  x=$(X "$1" timeout 20 crm_mon -1 --output-as=xml 2>/dev/null) || return 1
  grep -q '<current_dc present="true"[^>]* with_quorum="true"' <<<"$x" &&
    grep -q "<node name=\"$n1\" id=\"[0-9]*\" online=\"true\"" <<<"$x" &&
    grep -q "<node name=\"$n2\" id=\"[0-9]*\" online=\"true\"" <<<"$x"
}
cluster_formed() { both_online "$n1" && both_online "$n2"; }
settled() { X "$1" timeout 150 crm_resource --wait --timeout 120s >/dev/null 2>&1; }
score_of() {  # the promotion score attribute of NODE ("" if none), as the scheduler reads it
  local a
  for a in master-mirror-r0 master-mirror-r0:0 master-mirror-r0:1; do
    X "$1" timeout 20 attrd_updater --query --name "$a" --node "$1" --output-as=xml 2>/dev/null \
      | sed -n 's/.*<attribute [^>]*value="\([^"]*\)".*/\1/p' | head -n 1 | grep . && return 0
  done
  return 0
}
role_of() { simq "$1" drbdadm role r0 2>/dev/null; }
connected() { [[ $(simq "$1" drbdadm cstate r0 2>/dev/null) == Connected ]]; }
in_sync() { [[ $(simq "$1" drbdadm dstate r0 2>/dev/null) == UpToDate/UpToDate ]]; }
# shellcheck source-path=SCRIPTDIR source=../support/lab-leftovers.sh
source "$(dirname "$0")/../support/lab-leftovers.sh"
leftovers() { lab_leftovers "$name" "$base"; }

downed=0
cleanup() {
  local rc=$?
  trap '' INT TERM HUP
  if [[ $downed == 0 && -x $lab ]]; then
    if [[ $fails -gt 0 || $rc -ne 0 ]]; then
      local keep=$build/scenario-logs/$name
      say "cleanup: lab down (logs kept in $keep)"
      mkdir -p "$keep" && cp -a "$world" "$keep/" 2>/dev/null
      L down --timeout 30 --save-logs "$keep" >/dev/null 2>&1 || L down --kill >/dev/null 2>&1 || true
    else
      L down --timeout 30 >/dev/null 2>&1 || L down --kill >/dev/null 2>&1 || true
    fi
    local left; left=$(leftovers)
    if [[ -n $left ]]; then fails=$((fails + 1)); say "FAIL: left behind: $left"; else passes=$((passes + 1)); say "ok: nothing left behind"; fi
  fi
  rm -rf "$work"
  [[ $rc == 0 && $fails == 0 ]] || { [[ $rc != 0 ]] || rc=1; }
  echo "scenario_mirror: $passes passed, $fails failed"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# recover: before the next scenario the cluster must be whole and idle, and the mirror in sync
recover() {
  wait_for 240 cluster_formed || die "the cluster did not come back whole within 240 s"
  settled "$n1" || true
  wait_for 120 in_sync "$n1" || die "the mirror did not get back in sync within 120 s ($(simq "$n1" drbdadm dstate r0 2>&1))"
  wait_for 120 is_promoted "$(promoted_on)" || true
}
# a node's death: power off, and its (simulated) DRBD goes with it
node_dies() { L kill "$1" >/dev/null; simq "$1" drbdsetup down r0 >/dev/null 2>&1 || true; }

# ---------------------------------------------------------------------------------------- setup
[[ $(id -u) == 0 ]] || die "needs root"
[[ ! -e $base ]] || die "$base exists already (another lab named $name?)"
cmake --install "$build" --prefix "$stage" >/dev/null || die "cmake --install failed"
[[ -x $stage/lib/ocf/resource.d/evos/mirror && -x $stage/sbin/evosctl ]] || die "the mirror agent or evosctl is not staged"
install -m 0755 "$build/tests/drbd-sim" "$sim" || die "no drbd-sim in $build/tests"
mkdir -p "$stage/libexec/evos/drbd-sim-bin"
for t in drbdadm drbdsetup; do
  ln -s ../drbd-sim "$stage/libexec/evos/drbd-sim-bin/$t"
  printf '#!/bin/sh\n# test stage only: DRBD played by the drbd simulator, its world shared by the lab nodes\nEVOS_DRBD_SIM_DIR=%s EVOS_DRBD_SIM_NODE=$(uname -n) exec %s "$@"\n' \
    "$world" "$stage/libexec/evos/drbd-sim-bin/$t" > "$stage/sbin/$t"
  chmod 0755 "$stage/sbin/$t"
done
export EVOS_LAB_STAGE=$stage
t0=$(now_ms)
L up >"$work/up.log" 2>&1 || { cat "$work/up.log"; die "lab up failed"; }
pass "lab $name up ($(( $(now_ms) - t0 )) ms)"
mkdir -p "$world"
ctl init r0 "$n1:0" "$n2:1" --rate-kib-s "$instant" >/dev/null || die "drbd-sim ctl init"
[[ $(X "$n1" sh -c 'command -v drbdadm') == "$stage/sbin/drbdadm" ]] && pass "drbdadm in the nodes is the simulator's wrapper" \
  || fail "drbdadm in the nodes: $(X "$n1" sh -c 'command -v drbdadm')"
X "$n1" evosctl cluster init --priority-fencing-delay 1s >/dev/null || die "evosctl cluster init failed"
cat > "$work/mirror.crm" <<'EOF'
primitive mirror-r0 ocf:evos:mirror \
	params drbd_resource=r0 \
	op start timeout=60s interval=0s \
	op stop timeout=60s interval=0s on-fail=block \
	op promote timeout=60s interval=0s \
	op demote timeout=60s interval=0s on-fail=block \
	op notify timeout=30s interval=0s \
	op monitor interval=5s timeout=20s role=Promoted \
	op monitor interval=6s timeout=20s role=Unpromoted
clone mirror-r0-clone mirror-r0 \
	meta promotable=true promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true interleave=true
primitive vm ocf:pacemaker:Dummy \
	meta allow-migrate=true priority=10 resource-stickiness=100 \
	op monitor interval=10s timeout=20s
colocation vm-with-mirror inf: vm mirror-r0-clone:Promoted
order vm-after-mirror Mandatory: mirror-r0-clone:promote vm:start
EOF
X "$n1" crm configure load update "$work/mirror.crm" >/dev/null 2>&1 || die "crm configure load failed"

# ---------------------------------------------------------------------------------------- start
wait_for 130 one_promoted || die "nothing promoted within 130 s (promoted on '$(promoted_on)')"
P=$(promoted_on)
O=$(other "$P")
pass "start: $P is promoted"
wait_for 60 vm_is_on "$P" && pass "start: the VM runs on $P, with the Promoted instance" || fail "start: VM on '$(vm_on)'"
[[ $(role_of "$P") == Primary && $(role_of "$O") == Secondary ]] && pass "start: DRBD Primary on $P, Secondary on $O" \
  || fail "start: roles $(role_of "$P")/$(role_of "$O")"
score_is() { [[ $(score_of "$1") == "$2" ]]; }
wait_for 30 score_is "$P" 10000 && wait_for 30 score_is "$O" 100 \
  && pass "start: the Primary publishes 10000, the Secondary beside it 100" || fail "start: scores '$(score_of "$P")' '$(score_of "$O")'"

# ---------------------------------------------------------------------------------------- migrate
X "$P" crm_resource --resource mirror-r0-clone --meta --set-parameter promoted-max --parameter-value 2 >/dev/null
wait_for 90 is_promoted "$(printf '%s\n' "$n1" "$n2" | sort | tr '\n' ' ' | sed 's/ $//')" \
  && pass "migrate: promoted-max=2, both Promoted" || fail "migrate: promoted on '$(promoted_on)'"
[[ $(role_of "$O") == Primary && $(world_field 'd["two_primaries"]') == True ]] \
  && pass "migrate: both Primary, allow-two-primaries open" || fail "migrate: $O is $(role_of "$O"), two_primaries $(world_field 'd["two_primaries"]')"
X "$P" crm_resource --resource vm --move --node "$O" >/dev/null 2>&1
wait_for 90 vm_is_on "$O" && pass "migrate: the VM moved to $O" || fail "migrate: VM on '$(vm_on)'"
X "$O" grep -qE "migrate_from.*vm|vm.*migrate_from" /var/log/pacemaker/pacemaker.log 2>/dev/null \
  && pass "migrate: live (migrate_from ran on $O)" || fail "migrate: no migrate_from in $O's log"
X "$P" crm_resource --resource vm --clear >/dev/null 2>&1
X "$P" crm_resource --resource mirror-r0-clone --meta --set-parameter promoted-max --parameter-value 1 >/dev/null
wait_for 90 is_promoted "$O" && pass "migrate: promoted-max=1, single Primary on $O with the VM" || fail "migrate: promoted on '$(promoted_on)'"
wait_for 60 window_closed && [[ $(role_of "$P") == Secondary ]] \
  && pass "migrate: $P demoted, allow-two-primaries closed" || fail "migrate: $P $(role_of "$P"), two_primaries $(world_field 'd["two_primaries"]')"
vm_is_on "$O" && pass "migrate: the VM stays on $O" || fail "migrate: VM on '$(vm_on)'"
recover
P=$O O=$(other "$P")

# ---------------------------------------------------------------------------------------- resync
ctl set-rate r0 1
ctl link r0 down                      # the Primary writes alone...
simq "$P" drbdadm role r0 >/dev/null  # (the simulator advances: a new data generation on $P)
ctl link r0 up                        # ...and resyncs to $O at 1 KiB/s
wait_for 30 connected "$P"
out=$(X "$P" evosctl node shutdown-check 2>&1); rc=$?
[[ $rc == 1 ]] && grep -q "refusing shutdown of $P: r0: this node is the sync source of a running resync to $O" <<<"$out" \
  && pass "resync: shutdown-check on the sync source refuses: ${out%%;*}" || fail "resync: shutdown-check rc $rc: $out"
out=$(X "$O" evosctl node shutdown-check 2>&1); rc=$?
[[ $rc == 0 ]] && pass "resync: the sync target may shut down" || fail "resync: target shutdown-check rc $rc: $out"
out=$(X "$O" evosctl node standby "$P" 2>&1); rc=$?
[[ $rc == 1 ]] && grep -q "$P is the sync source" <<<"$out" && pass "resync: standby of the sync source refused (asked on $O)" \
  || fail "resync: standby rc $rc: $out"
out=$(X "$P" evosctl node standby "$P" 2>&1); rc=$?
[[ $rc == 1 ]] && pass "resync: standby of the sync source refused (asked on $P)" || fail "resync: standby on $P rc $rc: $out"
[[ -z $(X "$P" crm_attribute --node "$P" --name standby --query --quiet 2>/dev/null | grep -x on) ]] \
  && pass "resync: $P is not in standby" || fail "resync: $P went into standby"
sleep 7   # more than a monitor interval: the source must keep its role and score
[[ $(promoted_on) == "$P" && $(score_of "$P") == 10000 && $(score_of "$O") == 10 ]] \
  && pass "resync: the source stays Promoted with 10000, the target has 10" \
  || fail "resync: promoted '$(promoted_on)', scores $(score_of "$P")/$(score_of "$O")"
ctl set-rate r0 "$instant"
wait_for 60 in_sync "$P" && out=$(X "$P" evosctl node shutdown-check 2>&1) && pass "resync: done, shutdown-check passes" \
  || fail "resync: after the resync: $out"
recover

# ---------------------------------------------------------------------------------------- node-death
P=$(promoted_on) O=$(other "$P")
node_dies "$P"
wait_for 180 is_promoted "$O" && pass "node-death: $P died, the UpToDate survivor $O is promoted" || fail "node-death: promoted '$(promoted_on)'"
wait_for 60 vm_is_on "$O" && pass "node-death: the VM runs on $O" || fail "node-death: VM on '$(vm_on)'"
grep -q 'status="success"' <<<"$(X "$O" timeout 20 stonith_admin --history "$P" --output-as=xml 2>/dev/null)" \
  && pass "node-death: $P was fenced first" || fail "node-death: no fencing of $P in the history"
recover
pass "node-death: $P rejoined and resynced"

# ---------------------------------------------------------------------------------------- target-only
P=$(promoted_on) O=$(other "$P")
ctl set-rate r0 1
ctl link r0 down; simq "$P" drbdadm role r0 >/dev/null; ctl link r0 up
wait_for 30 receiving "$O" || fail "target-only: no resync to $O"
X "$O" crm_attribute --type crm_config --name stonith-action --update off >/dev/null   # keep the dead source off
fenced() { X "$O" timeout 20 stonith_admin --history "$P" --output-as=xml 2>/dev/null | grep -c 'status="success"'; }
before=$(fenced)
node_dies "$P"
fenced_again() { [[ $(fenced) -gt $before ]]; }
wait_for 180 fenced_again && pass "target-only: $P was fenced" || fail "target-only: no fencing of $P"
settled "$O"
sleep 8   # more than a monitor interval after the transition
[[ -z $(promoted_on) && -z $(vm_on) ]] && pass "target-only: the Inconsistent survivor $O is not promoted, the VM waits" \
  || fail "target-only: promoted '$(promoted_on)', VM on '$(vm_on)'"
[[ -z $(score_of "$O") ]] && pass "target-only: $O publishes no score" || fail "target-only: $O score '$(score_of "$O")'"
L boot "$P" >/dev/null
X "$O" crm_attribute --type crm_config --name stonith-action --delete >/dev/null
wait_for 240 is_promoted "$P" && pass "target-only: $P returns and is promoted again (resync resumes from it)" \
  || fail "target-only: promoted '$(promoted_on)'"
ctl set-rate r0 "$instant"
recover
wait_for 60 vm_is_on "$(promoted_on)" && pass "target-only: the VM runs with the Promoted instance" || fail "target-only: VM on '$(vm_on)'"

# ---------------------------------------------------------------------------------------- split-brain
P=$(promoted_on) O=$(other "$P")
ctl link r0 down
simq "$P" drbdadm role r0 >/dev/null                    # the Primary writes alone
simq "$O" drbdadm primary r0 >/dev/null 2>&1            # so does the other node (by hand, a mistake)
simq "$O" drbdadm secondary r0 >/dev/null 2>&1
ctl link r0 up
out=$(X "$P" evosctl mirror status r0 --json 2>&1)
python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["split_brain"] else 1)' <<<"$out" \
  && pass "split-brain: reported by evosctl mirror status on $P" || fail "split-brain: $out"
sleep 7
X "$P" grep -q "split brain detected" /var/log/pacemaker/pacemaker.log 2>/dev/null \
  || X "$P" sh -c 'grep -rqs "split brain" /var/log/pacemaker' && pass "split-brain: the agent reported it" \
  || fail "split-brain: nothing in $P's Pacemaker log"
vm_stops() { X "$P" grep -ac "Result of stop operation for vm on $P" /var/log/pacemaker/pacemaker.log 2>/dev/null; }
stops_before=$(vm_stops)
out=$(X "$P" evosctl mirror resolve r0 --discard "$O" 2>&1); rc=$?
[[ $rc == 0 ]] && pass "split-brain: evosctl mirror resolve r0 --discard $O: $out" || fail "split-brain: resolve rc $rc: $out"
if wait_for 120 in_sync "$P"; then
  pass "split-brain: $O's agent discarded its changes, connected and in sync"
else
  fail "split-brain: $(simq "$P" drbdadm dstate r0) $(simq "$P" drbdadm cstate r0); $O's agent said:"
  X "$O" grep -a "mirror" /var/log/pacemaker/pacemaker.log | tail -n 40
fi
wait_for 60 is_promoted "$P" && pass "split-brain: $P kept its role and data" || fail "split-brain: promoted '$(promoted_on)'"
sleep 7   # a monitor interval: the recovered peer's score must not move the Promoted role
[[ $(vm_stops) == "$stops_before" ]] && vm_is_on "$P" && pass "split-brain: the VM kept running on $P throughout" \
  || fail "split-brain: the VM was stopped on $P ($stops_before -> $(vm_stops) stops) or moved ('$(vm_on)')"

# ---------------------------------------------------------------------------------------- down
t0=$(now_ms)
if [[ $fails -gt 0 ]]; then
  mkdir -p "$build/scenario-logs/$name" && cp -a "$world" "$build/scenario-logs/$name/" 2>/dev/null
  L down --timeout 30 --save-logs "$build/scenario-logs/$name" >/dev/null 2>&1 || fail "lab down"
  say "logs kept in $build/scenario-logs/$name"
else
  L down --timeout 30 >/dev/null 2>&1 || fail "lab down"
fi
downed=1
left=$(leftovers)
[[ -z $left ]] && pass "lab down ($(( $(now_ms) - t0 )) ms), nothing left behind" || fail "left behind: $left"
