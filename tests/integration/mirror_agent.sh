#!/bin/bash
# ocf:evos:mirror (the built agent) under the OCF calling convention, on the drbd simulator:
# drbd-sim is linked as drbdadm and drbdsetup into a private bin directory first on PATH, the
# world lives in a temporary directory, and the agent runs as node "alpha" (EVOS_DRBD_SIM_NODE)
# while the test plays "beta" with the simulator directly. crm_attribute is a logging shim, so
# every promotion-score write is visible. Covers: probe 7, start, monitor 0/190 while the peer is
# away, promote, monitor 8/191, demote, stop; the score written only on change; a second Primary
# only with promoted-max=2 and the window closed at the demotion; a sync source whose demote and
# stop are refused while its score stays; a sync target's score; split brain reported; and hostile
# parameters refused with 6 naming the parameter, running nothing. No timing: the simulated resync
# is either far from done (1 KiB/s) or instantly done (rate raised).
# Usage: mirror_agent.sh AGENT DRBD_SIM
set -u
agent=$(readlink -f "$1")
sim=$(readlink -f "$2")
work=$(mktemp -d /tmp/evos-mirror-agent.XXXXXX)
trap 'rm -rf "$work"' EXIT
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }

mkdir -p "$work/bin" "$work/world" "$work/shim"
ln -s "$sim" "$work/bin/drbdadm"
ln -s "$sim" "$work/bin/drbdsetup"
cat > "$work/bin/crm_attribute" <<EOF
#!/bin/sh
printf '%s %s\n' "\$OCF_RESOURCE_INSTANCE" "\$*" >> "$work/attr.log"
EOF
chmod +x "$work/bin/crm_attribute"
export EVOS_DRBD_SIM_DIR=$work/world
export PATH=$work/bin:/usr/sbin:/usr/bin:/sbin:/bin
unset OCF_TRACE_RA HA_debug

# ra RESOURCE ACTION [VAR=VALUE...]: the agent as alpha; sets $rc and $out.
ra() {
  local res=$1 action=$2
  shift 2
  out=$(env EVOS_DRBD_SIM_NODE=alpha HA_RSCTMP="$work/rsc" OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE="m-$res" \
        OCF_RESKEY_drbd_resource="$res" OCF_RESKEY_CRM_meta_interval=10000 OCF_RESKEY_CRM_meta_timeout=20000 \
        "$@" "$agent" "$action" 2>&1)
  rc=$?
}
expect() {  # expect WANT WHAT
  if [ "$rc" = "$1" ]; then pass "$2 → $rc"; else fail "$2: rc $rc, expected $1: $out"; fi
}
beta() { EVOS_DRBD_SIM_NODE=beta "$@"; }
writes() { grep -c -- "--promotion" "$work/attr.log" 2>/dev/null || true; }
last_write() { tail -n1 "$work/attr.log" 2>/dev/null; }
sim_field() {  # sim_field RESOURCE KEY: a top-level field of the simulator's world
  "$sim" ctl show "$1" | sed -n "s/^  \"$2\": \(.*\),\{0,1\}$/\1/p" | tr -d ','
}

# A resync at this rate is done by the next call (each is a new process, at least 1 ms later).
instant=1099511627776

# --- the basic life cycle ----------------------------------------------------------------------
"$sim" ctl init r0 alpha:0 beta:1 --rate-kib-s "$instant" >/dev/null || { echo "FAIL: drbd-sim ctl init"; exit 1; }
ra r0 monitor OCF_RESKEY_CRM_meta_interval=0
expect 7 "probe of a resource that is not up"
[ ! -e "$work/attr.log" ] && pass "the probe wrote no score" || fail "the probe wrote: $(cat "$work/attr.log")"
ra r0 start
expect 0 "start"
grep -qx "m-r0 --promotion -v 1000" "$work/attr.log" && pass "start wrote 1000 (UpToDate, peer away)" \
  || fail "attribute log after start: $(cat "$work/attr.log")"
ra r0 monitor
expect 190 "monitor while the peer is away"
grep -q "^ocf-exit-reason:.*peer beta" <<<"$out" && pass "the exit reason names the peer" || fail "reason: $out"
ra r0 monitor OCF_RESKEY_CRM_meta_role=Promoted
expect 190 "a Promoted monitor of a Secondary still says what it is"
beta drbdadm up r0 || fail "beta up"
n=$(writes)
ra r0 monitor
expect 0 "monitor with the peer connected"
[ "$(last_write)" = "m-r0 --promotion -v 10000" ] && pass "the score rose to 10000" || fail "last write: $(last_write)"
ra r0 monitor; ra r0 monitor
[ "$(writes)" = $((n+1)) ] && pass "unchanged scores are not written again" || fail "writes: $(cat "$work/attr.log")"
ra r0 monitor OCF_RESKEY_CRM_meta_interval=0
expect 0 "probe of a running Secondary"
[ "$(writes)" = $((n+2)) ] && pass "a probe writes the score again" || fail "writes after probe: $(cat "$work/attr.log")"

ra r0 promote
expect 0 "promote"
[ "$(EVOS_DRBD_SIM_NODE=alpha drbdadm role r0)" = Primary ] && pass "alpha is Primary" || fail "alpha role"
ra r0 monitor
expect 8 "monitor of the Primary"
ra r0 promote
expect 0 "promote of the Primary (idempotent)"
"$sim" ctl link r0 down
ra r0 monitor
expect 191 "monitor of the Primary while the replication link is down"
[ "$(last_write)" = "m-r0 --promotion -v 1000" ] && pass "the Primary alone keeps 1000" || fail "last write: $(last_write)"
"$sim" ctl link r0 up
ra r0 monitor
expect 8 "monitor of the Primary with the link back"
ra r0 demote
expect 0 "demote"
ra r0 monitor
expect 0 "monitor after demote"
ra r0 demote
expect 0 "demote of a Secondary (idempotent)"

# --- dual primary only while a live migration runs -------------------------------------------
beta drbdadm primary r0 || fail "beta primary"
ra r0 promote
expect 1 "promote while the peer is Primary and promoted-max is 1"
grep -q "two primaries are not allowed" <<<"$out" && pass "the refusal says why" || fail "refusal: $out"
ra r0 promote OCF_RESKEY_CRM_meta_promoted_max=2
expect 0 "promote with promoted-max=2 (live migration window)"
[ "$(sim_field r0 two_primaries)" = true ] && pass "allow-two-primaries opened" || fail "two_primaries: $(sim_field r0 two_primaries)"
ra r0 monitor OCF_RESKEY_CRM_meta_promoted_max=2
expect 8 "monitor with both Primary"
[ "$(sim_field r0 two_primaries)" = true ] && pass "the window stays open while both are Primary" || fail "window closed too early"
beta drbdadm secondary r0
ra r0 monitor OCF_RESKEY_CRM_meta_promoted_max=1
expect 8 "monitor after the migration"
[ "$(sim_field r0 two_primaries)" = false ] && pass "the window closed: single Primary again" || fail "two_primaries still open"
ra r0 stop
expect 0 "stop of the Primary"
[ "$(last_write)" = "m-r0 --promotion -D" ] && pass "stop removed the score" || fail "last write: $(last_write)"
ra r0 monitor
expect 7 "monitor after stop"
ra r0 stop
expect 0 "stop of a stopped resource"
[ -z "$(ls -A "$work/rsc" 2>/dev/null)" ] && pass "stop removed the state file" || fail "left: $(ls "$work/rsc")"

# --- a resync: the sync source is protected ----------------------------------------------------
"$sim" ctl init r1 alpha:0 beta:1 --new --rate-kib-s 1 >/dev/null
beta drbdadm up r1
ra r1 start
expect 0 "start of a new mirror"
ra r1 promote
expect 1 "promote of an Inconsistent mirror"
grep -q "refusing to promote" <<<"$out" && pass "refused at once with a reason" || fail "$out"
EVOS_DRBD_SIM_NODE=alpha drbdadm primary --force r1 || fail "primary --force"
ra r1 monitor
expect 191 "monitor of the sync source (Primary)"
grep -q "resync" <<<"$out" && pass "the reason shows the resync" || fail "$out"
[ "$(last_write)" = "m-r1 --promotion -v 10000" ] && pass "the sync source has 10000" || fail "last write: $(last_write)"
n=$(writes)
ra r1 demote
expect 1 "demote of the sync source"
grep -q "^ocf-exit-reason:refusing to demote: r1: this node is the sync source of a running resync to beta" <<<"$out" \
  && pass "the refusal is clear" || fail "$out"
ra r1 stop
expect 1 "stop of the sync source"
grep -q "refusing to stop" <<<"$out" && pass "stop refused with a reason" || fail "$out"
[ "$(writes)" = "$n" ] && [ "$(EVOS_DRBD_SIM_NODE=alpha drbdadm role r1)" = Primary ] \
  && pass "the sync source stays Primary and keeps its score" || fail "writes $(writes) vs $n, role $(EVOS_DRBD_SIM_NODE=alpha drbdadm role r1)"
ra r1 demote OCF_RESKEY_protect_sync_source=false
expect 0 "demote of the sync source with protect_sync_source=false"
EVOS_DRBD_SIM_NODE=alpha drbdadm primary r1
"$sim" ctl set-rate r1 "$instant"
ra r1 monitor
expect 8 "monitor after the resync"
ra r1 demote
expect 0 "demote after the resync"
ra r1 stop
expect 0 "stop after the resync"

# --- the sync target's side, as beta -----------------------------------------------------------
"$sim" ctl init r2 alpha:0 beta:1 --new --rate-kib-s 1 >/dev/null
beta drbdadm up r2
EVOS_DRBD_SIM_NODE=alpha drbdadm up r2
beta drbdadm primary --force r2   # beta is the sync source now
ra r2 monitor OCF_RESKEY_CRM_meta_interval=0
expect 190 "probe of the sync target"
[ "$(last_write)" = "m-r2 --promotion -v 10" ] && pass "the sync target has 10" || fail "last write: $(last_write)"
ra r2 stop
expect 0 "a sync target may stop"
[ "$(last_write)" = "m-r2 --promotion -D" ] && pass "its score is removed" || fail "last write: $(last_write)"
ra r2 start
expect 0 "the sync target starts again"
beta drbdadm down r2   # the sync source dies
ra r2 monitor
expect 190 "monitor of an Inconsistent node alone"
[ "$(last_write)" = "m-r2 --promotion -D" ] && pass "an Inconsistent survivor has no score" || fail "last write: $(last_write)"
ra r2 promote
expect 1 "an Inconsistent survivor is not promoted"
ra r2 stop

# --- split brain -------------------------------------------------------------------------------
"$sim" ctl init r3 alpha:0 beta:1 --rate-kib-s "$instant" >/dev/null
beta drbdadm up r3
ra r3 start
ra r3 promote
"$sim" ctl link r3 down
ra r3 monitor
beta drbdadm primary r3   # beta alone has UpToDate data too and is promoted by someone
"$sim" ctl link r3 up
ra r3 monitor
expect 191 "monitor of a Primary in split brain"
grep -q "split brain with beta.*evosctl mirror resolve r3 --discard NODE" <<<"$out" && pass "split brain reported with the command" \
  || fail "$out"
beta drbdadm secondary r3; beta drbdadm disconnect r3; beta drbdadm connect --discard-my-data r3
EVOS_DRBD_SIM_NODE=alpha drbdadm connect r3
ra r3 monitor
expect 8 "monitor after the split brain was resolved"
ra r3 demote; ra r3 stop
beta drbdadm down r0; beta drbdadm down r1; beta drbdadm down r3

# --- clone meta attributes and hostile parameters ----------------------------------------------
hostile=$work/hostile
mkdir -p "$hostile"
for t in drbdadm drbdsetup crm_attribute; do
  printf '#!/bin/sh\necho "%s $*" >> "%s/ran.log"\nexit 1\n' "$t" "$work" > "$hostile/$t"
  chmod +x "$hostile/$t"
done
canary=$work/canary
check() {  # check PARAM VALUE [NAME_IN_REASON]
  local param=$1 value=$2 name=${3:-$1} shown
  shown=$(printf %q "${value:0:60}")
  out=$(env -i PATH="$hostile:/usr/bin:/bin" HA_RSCTMP="$work/rsc-h" OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=m-h \
        OCF_RESKEY_drbd_resource=r0 "OCF_RESKEY_$param=$value" "$agent" "$action" 2>&1)
  rc=$?
  if [ $rc -ne 6 ]; then fail "$action with $param=$shown returned $rc, expected 6: $out"; return; fi
  if ! grep -q "^ocf-exit-reason:.*'$name'" <<<"$out"; then fail "$action with $param=$shown: reason does not name it: $out"; return; fi
  if [ -e "$canary" ] || [ -e "$work/rsc-h" ] || [ -e "$work/ran.log" ]; then
    fail "$action with $param=$shown left files or ran a program"; return
  fi
  passes=$((passes+1))
}
long=$(head -c 5000 /dev/zero | tr '\0' a)
for action in start stop monitor promote demote notify validate-all reload-agent; do
  check drbd_resource "--force"
  check drbd_resource "all"
  check drbd_resource "r0;touch $canary"
  check drbd_resource "\$(touch $canary)"
  check drbd_resource "\`touch $canary\`"
  check drbd_resource $'r0\nr1'
  check drbd_resource "$long"
  check drbd_resource "$(head -c 64 /dev/zero | tr '\0' r)"
  check drbd_resource ""
  check drbd_resource $'r\xff'
  check drbdconf "etc/drbd.conf"
  check drbdconf "/etc/drbd.conf;touch $canary"
  check drbdconf "/etc/\$(touch $canary)"
  check protect_sync_source "maybe"
  check CRM_meta_clone_max "3" clone-max
  check CRM_meta_clone_node_max "2" clone-node-max
  check CRM_meta_promoted_max "3" promoted-max
  check CRM_meta_master_max "x" promoted-max
done
echo "mirror_agent: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
