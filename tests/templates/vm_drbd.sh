#!/bin/bash
# crm-templates/vm-drbd (with cluster-base) tested offline: no cluster, a CIB file.
#  - the crmsh form (crm configure load update) and the pcs form (pcs -f) both give a
#    configuration crm_verify accepts, with the mirror as a promotable clone of two instances;
#  - crm_simulate, with the promotion scores the agent would publish set as node attributes:
#    one node is promoted and the VM starts there, after the promotion (transition graph);
#    the node fails: it is fenced, the survivor is promoted, then the VM starts there;
#    a survivor without a score (no UpToDate data) is not promoted and the VM stays down;
#    live migration: promoted-max=2 promotes the second node (the Primary is notified first),
#    the VM migrates (migrate_to/migrate_from, not stop/start), and promoted-max=1 demotes the
#    node the VM left: single Primary again, with the VM.
# The evos agents are overlaid into /usr/lib/ocf/resource.d in a private mount namespace, so pcs
# and crmsh can read their meta-data.
# Usage: vm_drbd.sh BUILD_DIR
set -uo pipefail
# shellcheck source=staged_agents.sh
. "$(dirname "$0")/staged_agents.sh"
staged_agents_enter "$0" "$@"
tpl=$work/stage/share/evos/crm-templates
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }

fill() {
  sed -e 's/@PRIORITY_FENCING_DELAY@/5s/g' -e 's/@TRANSITION_DELAY@/100ms/g' -e 's/@VM@/web1/g' -e 's#@CONFIG@#/srv/evos/web1.xml#g' \
      -e 's/@MIRROR@/r0/g' "$1"
}

# --- crmsh form ------------------------------------------------------------------------------
cibadmin --empty > crm.xml
export CIB_file=$work/crm.xml
ok=1
for n in n1 n2; do
  crm configure primitive "fence-$n" stonith:fence_dummy params pcmk_host_list="$n" >/dev/null 2>&1 || ok=0
done
for t in cluster-base vm-drbd; do
  fill "$tpl/$t.crm" > "$t.crm"
  out=$(crm configure load update "$t.crm" 2>&1 | grep -v 'lack of quorum') || true
  grep -qi 'error' <<<"$out" && { ok=0; echo "    $t: $out"; }
done
unset CIB_file
[ $ok = 1 ] && pass "crmsh loads cluster-base.crm and vm-drbd.crm" || fail "crmsh load"
crm_verify -x crm.xml && pass "crm_verify accepts the crmsh configuration" || fail "crm_verify (crmsh)"
clone=$(xmllint --xpath '//clone[@id="mirror-r0-clone"]' crm.xml 2>/dev/null)
for nv in 'promotable" value="true' 'promoted-max" value="1' 'clone-max" value="2' 'clone-node-max" value="1' \
          'notify" value="true'; do
  grep -q "name=\"$nv\"" <<<"$clone" || { fail "clone lacks $nv: $clone"; continue; }
  pass "clone: $nv"
done
grep -q 'role="Promoted"' <<<"$clone" && grep -q 'role="Unpromoted"' <<<"$clone" \
  && pass "monitors per role" || fail "per-role monitors missing: $clone"
[ "$(grep -o 'on-fail="block"' <<<"$clone" | wc -l)" = 2 ] && pass "demote and stop on-fail=block" || fail "on-fail: $clone"
xmllint --xpath '//rsc_colocation[@id="vm-web1-with-mirror"][@rsc="vm-web1"][@with-rsc="mirror-r0-clone"][@with-rsc-role="Promoted"][@score="INFINITY"]' crm.xml >/dev/null 2>&1 \
  && pass "VM colocated with the Promoted instance" || fail "colocation: $(xmllint --xpath '//rsc_colocation' crm.xml 2>&1)"
xmllint --xpath '//rsc_order[@first="mirror-r0-clone"][@first-action="promote"][@then="vm-web1"][@then-action="start"]' crm.xml >/dev/null 2>&1 \
  && pass "VM started after the promotion" || fail "order: $(xmllint --xpath '//rsc_order' crm.xml 2>&1)"

# --- pcs form --------------------------------------------------------------------------------
cibadmin --empty > pcs.xml
ok=1
for n in n1 n2; do pcs -f pcs.xml stonith create "fence-$n" fence_dummy pcmk_host_list="$n" >/dev/null 2>&1 || ok=0; done
for t in cluster-base vm-drbd; do
  while IFS= read -r line; do
    [ -z "$line" ] && continue
    # shellcheck disable=SC2086
    eval "set -- $line"          # the template's own words (test input, not user input)
    [ "$1" = pcs ] || continue
    shift
    pcs -f pcs.xml "$@" >/dev/null 2>&1 || { ok=0; echo "    pcs $*"; pcs -f pcs.xml "$@" 2>&1 | sed 's/^/    /'; }
  done < <(fill "$tpl/$t.pcs" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | grep -v '^#')
done
[ $ok = 1 ] && pass "pcs accepts the pcs templates (and the agents' meta-data)" || fail "pcs templates"
crm_verify -x pcs.xml && pass "crm_verify accepts the pcs configuration" || fail "crm_verify (pcs)"
xmllint --xpath '//clone[@id="mirror-r0-clone"]//nvpair[@name="promotable"][@value="true"]' pcs.xml >/dev/null 2>&1 \
  && xmllint --xpath '//rsc_colocation[@with-rsc-role="Promoted"]' pcs.xml >/dev/null 2>&1 \
  && xmllint --xpath '//rsc_order[@first-action="promote"]' pcs.xml >/dev/null 2>&1 \
  && pass "pcs: promotable clone, colocation with Promoted, order after promote" || fail "pcs constraints"

# --- crm_simulate on the crmsh configuration --------------------------------------------------
vm_on() {  # the nodes vm-web1 is active on, per crm_mon's XML status of CIB file $1
  CIB_file=$1 crm_mon -1 --output-as=xml 2>/dev/null | xmllint --xpath '//resource[@id="vm-web1"]/node/@name' - 2>/dev/null \
    | sed 's/ *name="\([^"]*\)"/\1 /g; s/ $//'
}
promoted_on() {  # the nodes with the Promoted mirror instance, sorted, space-separated
  CIB_file=$1 crm_mon -1 --output-as=xml 2>/dev/null \
    | xmllint --xpath '//clone[@id="mirror-r0-clone"]/resource[@role="Promoted"]/node/@name' - 2>/dev/null \
    | sed 's/ *name="\([^"]*\)"/\1\n/g' | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'
}
score() {  # score CIB NODE VALUE|-: the promotion score the agent would publish ("-" removes it)
  if [ "$3" = - ]; then CIB_file=$1 crm_attribute -N "$2" -n master-mirror-r0 -l reboot -D >/dev/null 2>&1
  else CIB_file=$1 crm_attribute -N "$2" -n master-mirror-r0 -l reboot -v "$3" >/dev/null 2>&1; fi
}
inputs() {  # inputs GRAPH OPERATION_KEY: the trigger operation keys of that action
  xmllint --xpath "//synapse[action_set/rsc_op[@operation_key='$2']]/inputs//@operation_key" "$1" 2>/dev/null
}

crm_simulate -x crm.xml -S -u n1 -u n2 -q 1 -O s0.xml >/dev/null 2>&1
[ -z "$(promoted_on s0.xml)" ] && [ -z "$(vm_on s0.xml)" ] \
  && pass "without promotion scores nothing is promoted and the VM waits" || fail "s0: promoted '$(promoted_on s0.xml)' vm '$(vm_on s0.xml)'"
score s0.xml n1 10000; score s0.xml n2 10000
crm_simulate -x s0.xml -S -G g1.xml -O s1.xml >/dev/null 2>&1
first=$(promoted_on s1.xml)
if [ "$first" = n1 ] || [ "$first" = n2 ]; then pass "one node is promoted ($first)"; else fail "promoted on '$first'"; fi
[ "$(vm_on s1.xml)" = "$first" ] && pass "the VM starts with the Promoted instance" || fail "VM on '$(vm_on s1.xml)'"
inputs g1.xml vm-web1_start_0 | grep -q 'mirror-r0-clone_confirmed-post_notify_promoted_0' \
  && pass "the VM's start waits for the promotion" || fail "VM start inputs: $(inputs g1.xml vm-web1_start_0)"
other=n1; [ "$first" = n1 ] && other=n2

# The Promoted node dies: fenced, the survivor promoted, then the VM started.
crm_simulate -x s1.xml -S --node-fail "$first" -G g2.xml -O s2.xml >/dev/null 2>&1
[ "$(promoted_on s2.xml)" = "$other" ] && pass "node $first fails: $other is promoted" || fail "after the failure promoted on '$(promoted_on s2.xml)'"
[ "$(vm_on s2.xml)" = "$other" ] && pass "the VM runs on $other" || fail "after the failure the VM is on '$(vm_on s2.xml)'"
in2=$(inputs g2.xml vm-web1_start_0)
grep -q "stonith-$first-reboot" <<<"$in2" && grep -q 'confirmed-post_notify_promoted' <<<"$in2" \
  && pass "the VM's start on $other waits for the fencing and the promotion" || fail "VM start inputs: $in2"
promote_in=$(inputs g2.xml mirror-r0_promote_0)
grep -q "stonith-$first-reboot\|mirror-r0-clone_promote_0" <<<"$promote_in" \
  && pass "the promotion of $other is in the transition" || fail "promote inputs: $promote_in"

# A survivor without UpToDate data publishes no score: it is not promoted, the VM stays down.
cp s1.xml s3.xml
score s3.xml "$other" -
crm_simulate -x s3.xml -S --node-fail "$first" -O s3b.xml >/dev/null 2>&1
[ -z "$(promoted_on s3b.xml)" ] && [ -z "$(vm_on s3b.xml)" ] \
  && pass "a survivor without a promotion score is not promoted and the VM waits" \
  || fail "scoreless survivor: promoted '$(promoted_on s3b.xml)' vm '$(vm_on s3b.xml)'"

# Live migration through dual-primary, and back to a single Primary.
cp s1.xml l1.xml
CIB_file=l1.xml crm_resource --resource mirror-r0-clone --meta --set-parameter promoted-max --parameter-value 2 >/dev/null 2>&1
crm_simulate -x l1.xml -S -G lg2.xml -O l2.xml >/dev/null 2>&1
[ "$(promoted_on l2.xml)" = "n1 n2" ] && pass "promoted-max=2: both nodes Promoted" || fail "dual: promoted on '$(promoted_on l2.xml)'"
xmllint --xpath "//rsc_op[@operation_key='mirror-r0_pre_notify_promote_0'][@on_node='$first']" lg2.xml >/dev/null 2>&1 \
  && pass "the Primary ($first) is notified before the second promotion (it opens the window)" || fail "no pre-promote notification on $first"
[ "$(vm_on l2.xml)" = "$first" ] && pass "the VM stays on $first meanwhile" || fail "VM moved to '$(vm_on l2.xml)'"
CIB_file=l2.xml crm_resource --resource vm-web1 --move --node "$other" >/dev/null 2>&1
crm_simulate -x l2.xml -S -G lg3.xml -O l3.xml >/dev/null 2>&1
xmllint --xpath "//rsc_op[@operation_key='vm-web1_migrate_to_0'][@on_node='$first']" lg3.xml >/dev/null 2>&1 \
  && xmllint --xpath "//rsc_op[@operation_key='vm-web1_migrate_from_0'][@on_node='$other']" lg3.xml >/dev/null 2>&1 \
  && pass "the VM migrates live (migrate_to on $first, migrate_from on $other)" || fail "no live migration in the graph"
[ "$(vm_on l3.xml)" = "$other" ] && pass "the VM runs on $other" || fail "VM on '$(vm_on l3.xml)'"
CIB_file=l3.xml crm_resource --resource mirror-r0-clone --meta --set-parameter promoted-max --parameter-value 1 >/dev/null 2>&1
CIB_file=l3.xml crm_resource --resource vm-web1 --clear >/dev/null 2>&1
crm_simulate -x l3.xml -S -G lg4.xml -O l4.xml >/dev/null 2>&1
[ "$(promoted_on l4.xml)" = "$other" ] && pass "promoted-max=1: single Primary again, on $other with the VM" \
  || fail "after the migration promoted on '$(promoted_on l4.xml)'"
[ "$(vm_on l4.xml)" = "$other" ] && pass "the VM stays on $other" || fail "VM on '$(vm_on l4.xml)'"
xmllint --xpath "//rsc_op[@operation_key='mirror-r0_demote_0'][@on_node='$first']" lg4.xml >/dev/null 2>&1 \
  && pass "$first is demoted" || fail "no demote of $first"

echo "templates_vm_drbd: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
