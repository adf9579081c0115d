#!/bin/bash
# evos-drbd-fence (DRBD's fence-peer / unfence-peer handler) against a CIB file (CIB_file: cibadmin
# and crm_mon work on it as on a live cluster), with the environment DRBD gives a handler:
#  - the peer online (only the replication link broke): the constraint is placed and the handler
#    exits 1, so DRBD keeps I/O frozen (replication and the VM halt, nothing diverges);
#  - the peer unclean: the handler waits for its fencing, bounded by --timeout, then exits 1;
#  - the peer fenced (offline and clean): exit 7, I/O resumes;
#  - the constraint keeps the stale peer from being promoted (crm_simulate), unfence removes it
#    (idempotent), and then the peer may be promoted again;
#  - --verbose (not an environment variable) adds a debug line per status round;
#  - malformed handler environments change nothing.
# Usage: mirror_fence.sh HANDLER
set -u
handler=$(readlink -f "$1")
work=$(mktemp -d /tmp/evos-mirror-fence.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

# A two-node CIB with the mirror clone and a fence device; n1 is the DC.
cibadmin --empty > c.xml
CIB_file=$work/c.xml cibadmin --create --scope resources --xml-text \
  '<clone id="mirror-r0-clone"><meta_attributes id="m-meta"><nvpair id="m-p" name="promotable" value="true"/></meta_attributes><primitive id="mirror-r0" class="ocf" provider="evos" type="mirror"><instance_attributes id="m-ia"><nvpair id="m-r" name="drbd_resource" value="r0"/></instance_attributes></primitive></clone>' \
  && CIB_file=$work/c.xml cibadmin --create --scope resources --xml-text '<primitive id="fence" class="stonith" type="fence_dummy"/>' \
  || { echo "FAIL: CIB setup"; exit 1; }
crm_simulate -x c.xml -S -u n1 -u n2 -q 1 -O s0.xml >/dev/null 2>&1
sed -i '0,/<cib /s//<cib dc-uuid="n1" /' s0.xml   # a CIB file has no DC; this one says n1 is
for n in n1 n2; do CIB_file=$work/s0.xml crm_attribute -N $n -n master-mirror-r0 -l reboot -v 10000 >/dev/null 2>&1; done

drbd_env=(DRBD_RESOURCE=r0 DRBD_MY_NODE_ID=0 DRBD_PEER_NODE_ID=1 DRBD_NODE_ID_0=n1 DRBD_NODE_ID_1=n2 UP_TO_DATE_NODES=0x1)
run() {  # run CIB ACTION [VAR=VALUE...] -- [ARGS]: sets $rc and $out
  local cib=$1 action=$2
  shift 2
  local vars=() args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do vars+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  args=("$@")
  out=$(env -i PATH="$PATH" CIB_file="$work/$cib" "${vars[@]}" "$handler" "$action" "${args[@]}" 2>&1)
  rc=$?
}
constraint() { xmllint --xpath "//rsc_location[@id='evos-fence-r0']" "$1" 2>/dev/null; }
promoted_on() {
  CIB_file=$1 crm_mon -1 --output-as=xml 2>/dev/null \
    | xmllint --xpath '//clone[@id="mirror-r0-clone"]/resource[@role="Promoted"]/node/@name' - 2>/dev/null \
    | sed 's/ *name="\([^"]*\)"/\1 /g; s/ $//'
}

# The peer is online: constraint placed, exit 1 (I/O stays frozen).
cp s0.xml a.xml
run a.xml fence "${drbd_env[@]}"
[ $rc = 1 ] && pass "peer online: exit 1 (I/O stays frozen)" || fail "peer online: rc $rc: $out"
grep -q "n2 is online in the cluster: I/O stays frozen" <<<"$out" && pass "it says why" || fail "$out"
c=$(constraint a.xml)
grep -q 'rsc="mirror-r0-clone"' <<<"$c" && grep -q 'role="Promoted"' <<<"$c" && grep -q 'score="-INFINITY"' <<<"$c" \
  && grep -q 'attribute="#uname" operation="ne" value="n1"' <<<"$c" && pass "constraint: Promoted only on n1" || fail "constraint: $c"
run a.xml fence "${drbd_env[@]}"
[ "$(xmllint --xpath "count(//rsc_location[@id='evos-fence-r0'])" a.xml)" = 1 ] && pass "a second fence replaces, not duplicates" \
  || fail "constraints: $(xmllint --xpath '//constraints' a.xml)"

# The constraint keeps the stale peer from being promoted when n1 dies.
crm_simulate -x a.xml -S -O a1.xml >/dev/null 2>&1
[ "$(promoted_on a1.xml)" = n1 ] && pass "n1 is promoted" || fail "promoted on '$(promoted_on a1.xml)'"
crm_simulate -x a1.xml -S --node-fail n1 -O a2.xml >/dev/null 2>&1
[ -z "$(promoted_on a2.xml)" ] && pass "n1 dies: the fenced-off n2 is not promoted" || fail "promoted on '$(promoted_on a2.xml)'"
run a2.xml unfence "${drbd_env[@]}"
[ $rc = 0 ] && [ -z "$(constraint a2.xml)" ] && pass "unfence removes the constraint" || fail "unfence: rc $rc $out"
run a2.xml unfence "${drbd_env[@]}"
[ $rc = 0 ] && pass "unfence is idempotent" || fail "second unfence: rc $rc $out"
crm_simulate -x a2.xml -S -O a3.xml >/dev/null 2>&1
[ "$(promoted_on a3.xml)" = n2 ] && pass "after the unfence n2 may be promoted" || fail "promoted on '$(promoted_on a3.xml)'"

# The peer is unclean: wait for its fencing, bounded.
crm_simulate -x s0.xml --node-fail n2 -O b.xml >/dev/null 2>&1
run b.xml fence "${drbd_env[@]}" -- --timeout 2
[ $rc = 1 ] && grep -q "no decision about n2 within 2 s" <<<"$out" && pass "peer unclean: bounded wait, then frozen" || fail "unclean: rc $rc: $out"
grep -q "DEBUG" <<<"$out" && fail "debug lines without --verbose: $out" || pass "no debug lines without --verbose"
# --verbose (an option on the handler line: DRBD gives handlers a fixed environment) logs each round.
run b.xml fence "${drbd_env[@]}" -- --timeout 2 --verbose
[ $rc = 1 ] && grep -q "DEBUG: round 2: n2 is unclean" <<<"$out" && pass "--verbose logs each status round" || fail "--verbose: rc $rc: $out"
# The peer was fenced: exit 7.
crm_simulate -x b.xml -S -O b2.xml >/dev/null 2>&1
run b2.xml fence "${drbd_env[@]}"
[ $rc = 7 ] && pass "peer fenced: exit 7 (I/O resumes)" || fail "fenced: rc $rc: $out"
run b2.xml fence-peer "${drbd_env[@]}"
[ $rc = 7 ] && pass "called as fence-peer" || fail "fence-peer: rc $rc"
run b2.xml fence "${drbd_env[@]}" -- r0
[ $rc = 7 ] && pass "a resource name after the action is accepted" || fail "fence r0: rc $rc: $out"
run b2.xml fence "${drbd_env[@]}" -- r1
[ $rc = 1 ] && pass "a resource name that differs from DRBD_RESOURCE is refused" || fail "fence r1: rc $rc: $out"
# No quorum: frozen.
sed 's/have-quorum="1"/have-quorum="0"/' b2.xml > q.xml
run q.xml fence "${drbd_env[@]}"
[ $rc = 1 ] && grep -q "no quorum" <<<"$out" && pass "no quorum: frozen" || fail "no quorum: rc $rc: $out"
# UP_TO_DATE_NODES with both nodes.
cp s0.xml d.xml
run d.xml fence DRBD_RESOURCE=r0 DRBD_MY_NODE_ID=0 DRBD_PEER_NODE_ID=1 DRBD_NODE_ID_0=n1 DRBD_NODE_ID_1=n2 UP_TO_DATE_NODES=0x3
grep -q 'value="n2"' <<<"$(constraint d.xml)" && pass "both UpToDate: both allowed" || fail "constraint: $(constraint d.xml)"

# Hostile or broken environments change nothing.
cp s0.xml h.xml
before=$(md5sum < h.xml)
for bad in 'DRBD_RESOURCE=r0"/><x' 'DRBD_RESOURCE=--force' 'DRBD_NODE_ID_1=n2" or "' 'DRBD_MY_NODE_ID=x' 'UP_TO_DATE_NODES=zz' \
           'DRBD_NODE_ID_0=$(touch canary)'; do
  env_bad=("${drbd_env[@]}" "$bad")
  run h.xml fence "${env_bad[@]}"
  if [ $rc = 1 ] && [ "$(md5sum < h.xml)" = "$before" ] && [ ! -e canary ]; then pass "refused: $bad"; else fail "$bad: rc $rc $out"; fi
done
run h.xml fence DRBD_RESOURCE=r9 DRBD_MY_NODE_ID=0 DRBD_PEER_NODE_ID=1 DRBD_NODE_ID_0=n1 DRBD_NODE_ID_1=n2
[ $rc = 1 ] && grep -q "no promotable clone runs DRBD resource 'r9'" <<<"$out" && [ "$(md5sum < h.xml)" = "$before" ] \
  && pass "an unknown resource: frozen, nothing placed" || fail "unknown resource: rc $rc $out"
run h.xml bogus "${drbd_env[@]}"
[ $rc = 1 ] && pass "an unknown action" || fail "bogus: rc $rc"

echo "mirror_fence: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
