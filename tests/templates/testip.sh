#!/bin/bash
# crm-templates/testip (crmsh and pcs forms) tested offline: no cluster, a CIB file, two nodes
# n1/n2 with transient attributes set by hand, a VM (ocf:pacemaker:Dummy, allow-migrate) and its
# mirror (ocf:pacemaker:Stateful, promotable). crm_verify accepts both forms; crm_simulate places:
#   both reach all test IPs        → the VM runs (on one node), the mirror is promoted
#   the VM's node reaches fewer    → the VM migrates (live) to the peer
#   a node reaches none            → no VM and no promotion there
#   a node has no score            → the same (the clone is not running there)
#   both reach none                → no VM anywhere, no promotion anywhere
#   a difference below stickiness  → nothing moves
#   evosd's attribute 0 on the VM's node (the ping agent's not yet), or the reverse
#                                  → the VM migrates to the peer, only the peer is promoted
# and the template's own settings keep a single lost reply from moving anything (attempts >= 2,
# dampen longer than the monitor interval).
# The evos agent is overlaid into /usr/lib/ocf/resource.d in a private mount namespace, so pcs
# and crmsh can read its meta-data. Usage: testip.sh BUILD_DIR. Needs root.
set -uo pipefail
# shellcheck source=staged_agents.sh
. "$(dirname "$0")/staged_agents.sh"
staged_agents_enter "$0" "$@"
tpl=$work/stage/share/evos/crm-templates
# shellcheck source=pcs_apply.sh
. "$(dirname "$0")/pcs_apply.sh"
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }

fill() { sed -e 's/@TEST_IPS@/198.18.1.254 198.18.2.254 fd00::1/g' -e 's/@VM@/web1/g' -e 's/@MIRROR_CLONE@/mirror-clone/g' "$1"; }

base() {  # base CIB_FILE: two nodes' worth of resources the templates refer to
  cibadmin --empty > "$1"
  CIB_file=$1 crm configure property stonith-enabled=false >/dev/null 2>&1
  CIB_file=$1 crm configure rsc_defaults resource-stickiness=100 >/dev/null 2>&1
  CIB_file=$1 crm configure primitive vm-web1 ocf:pacemaker:Dummy meta allow-migrate=true op monitor interval=10s >/dev/null 2>&1
  CIB_file=$1 crm configure primitive mirror ocf:pacemaker:Stateful op monitor interval=11s role=Promoted op monitor interval=12s role=Unpromoted >/dev/null 2>&1
  CIB_file=$1 crm configure clone mirror-clone mirror meta promotable=true promoted-max=1 >/dev/null 2>&1
}

# --- crmsh form ------------------------------------------------------------------------------
base crm.xml
fill "$tpl/testip.crm" > testip.crm
out=$(CIB_file=$work/crm.xml crm configure load update testip.crm 2>&1) && pass "testip.crm loads" || fail "testip.crm: $out"
crm_verify -x crm.xml && pass "crm_verify accepts the crmsh configuration" || fail "crm_verify (crmsh)"
rules=$(xmllint --xpath '//rsc_location[starts-with(@id,"vm-web1-testip")]' crm.xml 2>/dev/null)
grep -q 'score-attribute="evos-testip"' <<<"$rules" && pass "VM rule: score-attribute" || fail "no score-attribute rule: $rules"
grep -q 'operation="not_defined"' <<<"$rules" && grep -q 'operation="lte"' <<<"$rules" \
  && pass "VM rule: not_defined or lte 0 (an all-down node is banned too)" || fail "ban rule: $rules"
xmllint --xpath '//rsc_location[@rsc="mirror-clone"]/rule[@role="Promoted" and @score="-INFINITY"]' crm.xml >/dev/null 2>&1 \
  && pass "mirror rule: no promotion without test IPs" || fail "mirror rule missing"

# --- evosctl cluster testip enable: the same blocks, comments left out -------------------------
base evosctl.xml
evosctl=$work/stage/sbin/evosctl
out=$(CIB_file=$work/evosctl.xml "$evosctl" cluster testip enable --hosts "198.18.1.254 198.18.2.254 fd00::1=2" \
      --vm web1 --mirror mirror-clone 2>&1) && pass "evosctl cluster testip enable: $out" || fail "evosctl cluster testip enable: $out"
[ "$(xmllint --xpath "string(//primitive[@id='testip']//nvpair[@name='host_list']/@value)" evosctl.xml)" = "198.18.1.254 198.18.2.254 fd00::1=2" ] \
  && pass "evosctl: host_list as given (canonical entries)" || fail "evosctl: host_list $(xmllint --xpath "string(//nvpair[@name='host_list']/@value)" evosctl.xml)"
for id in vm-web1-testip-none vm-web1-testip-more vm-web1-testip-evosd mirror-clone-testip-none mirror-clone-testip-evosd; do
  xmllint --xpath "//rsc_location[@id='$id']" evosctl.xml >/dev/null 2>&1 && pass "evosctl: $id" || fail "evosctl: no $id"
done
! grep -q -- '<!--' evosctl.xml && pass "evosctl: no template comment in the CIB" || fail "evosctl: comments in the CIB: $(grep -- '<!--' evosctl.xml | head -3)"
cp evosctl.xml evosctl-before.xml
out=$(CIB_file=$work/evosctl.xml "$evosctl" cluster testip enable --hosts "198.18.1.254 10.1" --vm web1 2>&1); rc=$?
[ $rc = 2 ] && grep -q "'10.1'" <<<"$out" && cmp -s evosctl.xml evosctl-before.xml \
  && pass "evosctl: a bad test IP is refused (2, names it), the CIB unchanged" || fail "evosctl: bad host: rc $rc: $out"
out=$(CIB_file=$work/evosctl.xml "$evosctl" cluster testip enable --hosts "198.18.1.254" --vm 'web1 or #uname' 2>&1); rc=$?
[ $rc = 2 ] && cmp -s evosctl.xml evosctl-before.xml && pass "evosctl: a hostile VM name is refused, the CIB unchanged" \
  || fail "evosctl: hostile VM: rc $rc: $out"

# The template's own settings: a single lost reply moves nothing.
param() { xmllint --xpath "string(//primitive[@id='testip']//nvpair[@name='$1']/@value)" crm.xml; }
interval=$(xmllint --xpath "string(//primitive[@id='testip']//op[@name='monitor']/@interval)" crm.xml)
[ "$(param attempts)" -ge 2 ] && pass "attempts=$(param attempts): one lost reply leaves the host reachable" || fail "attempts $(param attempts)"
to_ms() { case $1 in *ms) echo "${1%ms}";; *s) echo $(( ${1%s} * 1000 ));; *) echo $(( $1 * 1000 ));; esac; }
[ "$(to_ms "$(param dampen)")" -gt "$(to_ms "$interval")" ] \
  && pass "dampen $(param dampen) > monitor interval $interval: one bad round is undone before the CIB sees it" \
  || fail "dampen $(param dampen) vs interval $interval"
[ "$(param multiplier)" -gt 100 ] && pass "one test IP (multiplier $(param multiplier)) outweighs resource-stickiness 100" \
  || fail "multiplier $(param multiplier)"

# --- crm_simulate ------------------------------------------------------------------------------
where() {  # where CIB RESOURCE [ROLE]: the nodes running it (in ROLE)
  local filter="//resource[@id='$2']"
  [ -n "${3:-}" ] && filter="//resource[@id='$2' and @role='$3']"
  CIB_file=$1 crm_mon -1 -r --output-as=xml 2>/dev/null | xmllint --xpath "$filter/node/@name" - 2>/dev/null \
    | sed 's/ *name="\([^"]*\)"/\1 /g; s/ $//' | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//'
}
attrs() {  # attrs IN OUT N1_VALUE N2_VALUE [N1_EVOSD N2_EVOSD]: set the nodes' evos-testip and evosd's
  # evos-testip-evosd (- = undefined, the default for evosd's), then simulate
  cp "$1" attrs.xml
  local n v a
  for n in n1 n2; do
    for a in evos-testip evos-testip-evosd; do
      if [ $a = evos-testip ]; then v=$3; [ $n = n2 ] && v=$4; else v=${5:--}; [ $n = n2 ] && v=${6:--}; fi
      if [ "$v" = - ]; then CIB_file=$work/attrs.xml crm_attribute -N $n -n $a -l reboot -D >/dev/null 2>&1
      else CIB_file=$work/attrs.xml crm_attribute -N $n -n $a -l reboot -v "$v" >/dev/null 2>&1 || fail "crm_attribute $n $a"; fi
    done
    # The promotion score ocf:pacemaker:Stateful would set from its monitor (crm_simulate runs no agent).
    CIB_file=$work/attrs.xml crm_attribute -N $n -n master-mirror -l reboot -v 5 >/dev/null 2>&1
  done
  crm_simulate -x attrs.xml -S -O "$2" > "${2%.xml}.txt" 2>&1 || fail "crm_simulate $2"
}

crm_simulate -x crm.xml -S -u n1 -u n2 -q 1 -O s0.xml >/dev/null 2>&1
[ -z "$(where s0.xml vm-web1)" ] && pass "no score yet on either node: the VM waits" || fail "VM ran without scores: $(where s0.xml vm-web1)"

attrs s0.xml s1.xml 3000 3000
vm=$(where s1.xml vm-web1)
[ "$vm" = n1 ] || [ "$vm" = n2 ] && pass "both reach all: the VM runs on one node ($vm)" || fail "both reach all: VM on '$vm'"
[ -n "$(where s1.xml mirror Promoted)" ] && pass "both reach all: the mirror is promoted ($(where s1.xml mirror Promoted))" \
  || fail "both reach all: no promotion"
other=n1; [ "$vm" = n1 ] && other=n2
v() { [ "$1" = n1 ] && echo "$2 $3" || echo "$3 $2"; }  # values in n1 n2 order for (vm's node, other)

# shellcheck disable=SC2046
attrs s1.xml s2.xml $(v "$vm" 2000 3000)
[ "$(where s2.xml vm-web1)" = "$other" ] && pass "$vm reaches fewer test IPs: the VM moves to $other" \
  || fail "fewer: VM on '$(where s2.xml vm-web1)'"
grep -q "Migrate *vm-web1" s2.txt && pass "... by live migration" || fail "not a migration: $(sed -n '/Transition Summary/,/^$/p' s2.txt)"

# shellcheck disable=SC2046
attrs s1.xml s3.xml $(v "$vm" 0 3000)
[ "$(where s3.xml vm-web1)" = "$other" ] && pass "$vm reaches none: the VM runs on $other" || fail "none: VM on '$(where s3.xml vm-web1)'"
[ "$(where s3.xml mirror Promoted)" = "$other" ] && pass "$vm reaches none: only $other is promoted" \
  || fail "none: promoted on '$(where s3.xml mirror Promoted)'"

# shellcheck disable=SC2046
attrs s1.xml s4.xml $(v "$vm" - 3000)
[ "$(where s4.xml vm-web1)" = "$other" ] && pass "no score on $vm (clone not running there): the VM runs on $other" \
  || fail "undefined: VM on '$(where s4.xml vm-web1)'"

attrs s1.xml s5.xml 0 0
[ -z "$(where s5.xml vm-web1)" ] && pass "both reach none: no VM anywhere" || fail "both none: VM on '$(where s5.xml vm-web1)'"
[ -z "$(where s5.xml mirror Promoted)" ] && pass "both reach none: no promotion anywhere" || fail "both none: promoted on '$(where s5.xml mirror Promoted)'"

# shellcheck disable=SC2046
attrs s1.xml s6.xml $(v "$vm" 3000 3050)
[ -n "$vm" ] && [ "$(where s6.xml vm-web1)" = "$vm" ] && pass "a difference below resource-stickiness moves nothing" || fail "small difference moved the VM"

# evosd's attribute (testip-evosd rules): either writer's 0 bans the node, the first one wins
# shellcheck disable=SC2046
attrs s1.xml s8.xml 3000 3000 $(v "$vm" 0 3000)
[ "$(where s8.xml vm-web1)" = "$other" ] && grep -q "Migrate *vm-web1" s8.txt && pass "evosd says $vm reaches none (the ping agent not yet): the VM migrates to $other" \
  || fail "evosd 0: VM on '$(where s8.xml vm-web1)'"
[ "$(where s8.xml mirror Promoted)" = "$other" ] && pass "evosd says $vm reaches none: only $other is promoted" \
  || fail "evosd 0: promoted on '$(where s8.xml mirror Promoted)'"
# shellcheck disable=SC2046
attrs s1.xml s9.xml $(v "$vm" 0 3000) 3000 3000
[ "$(where s9.xml vm-web1)" = "$other" ] && pass "the ping agent says $vm reaches none, evosd not yet: the VM runs on $other" \
  || fail "ping 0, evosd 3000: VM on '$(where s9.xml vm-web1)'"
attrs s1.xml s10.xml 3000 3000 3000 3000
[ "$(where s10.xml vm-web1)" = "$vm" ] && pass "both writers say all reached: the VM stays on $vm" || fail "all 3000: VM on '$(where s10.xml vm-web1)'"

attrs s5.xml s7.xml 3000 3000
[ -n "$(where s7.xml vm-web1)" ] && pass "connectivity back on both: the VM runs again" || fail "VM not back"

# --- pcs form --------------------------------------------------------------------------------
base pcs.xml
ok=1
fill "$tpl/testip.pcs" | pcs_apply pcs.xml || ok=0
[ $ok = 1 ] && pass "pcs accepts testip.pcs (and the agent's meta-data)" || fail "pcs template"
crm_verify -x pcs.xml && pass "crm_verify accepts the pcs configuration" || fail "crm_verify (pcs)"
crm_simulate -x pcs.xml -S -u n1 -u n2 -q 1 -O p0.xml >/dev/null 2>&1
attrs p0.xml p1.xml 3000 3000
pvm=$(where p1.xml vm-web1)
pother=n1; [ "$pvm" = n1 ] && pother=n2
# shellcheck disable=SC2046
attrs p1.xml p2.xml $(v "$pvm" 1000 3000)
[ -n "$pvm" ] && [ "$(where p2.xml vm-web1)" = "$pother" ] && pass "pcs form: fewer test IPs moves the VM" || fail "pcs form: VM '$pvm' → '$(where p2.xml vm-web1)'"
attrs p1.xml p3.xml 0 0
[ -z "$(where p3.xml vm-web1)" ] && [ -z "$(where p3.xml mirror Promoted)" ] && pass "pcs form: both reach none, nothing runs or is promoted" \
  || fail "pcs form: both none: VM '$(where p3.xml vm-web1)' promoted '$(where p3.xml mirror Promoted)'"
# shellcheck disable=SC2046
attrs p1.xml p4.xml 3000 3000 $(v "$pvm" 0 3000)
[ -n "$pvm" ] && [ "$(where p4.xml vm-web1)" = "$pother" ] && [ "$(where p4.xml mirror Promoted)" = "$pother" ] \
  && pass "pcs form: evosd's 0 moves the VM and the promotion" || fail "pcs form: evosd 0: VM '$(where p4.xml vm-web1)' promoted '$(where p4.xml mirror Promoted)'"

echo "templates_testip: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
