#!/bin/bash
# crm-templates/vm-shared (with cluster-base) tested offline: no cluster, a CIB file.
#  - the crmsh form, applied the way `evosctl vm ha enable` applies it (evosctl itself, CIB_file),
#    and the pcs form (pcs -f) both give a configuration crm_verify accepts; `evosctl vm create
#    --ha` loads it stopped with the VM's definition as config (and refuses an id the CIB has),
#    `vm delete` takes it out again;
#  - crm_simulate: the VM starts on one node; when its node fails, the node is fenced and the VM
#    starts on the survivor only after the fencing (transition graph); a VM found active on
#    both nodes is stopped on both and started once; a returning node does not pull the VM back.
# The evos agent is overlaid into /usr/lib/ocf/resource.d in a private mount namespace, so pcs
# and crmsh can read its meta-data (pcs validates it against its OCF schema).
# Usage: vm_shared.sh BUILD_DIR
set -uo pipefail
# shellcheck source=staged_agents.sh
. "$(dirname "$0")/staged_agents.sh"
staged_agents_enter "$0" "$@"
tpl=$work/stage/share/evos/crm-templates
# shellcheck source=pcs_apply.sh
. "$(dirname "$0")/pcs_apply.sh"
evosctl=$work/stage/sbin/evosctl
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }

fill() { sed -e 's/@PRIORITY_FENCING_DELAY@/5s/g' -e 's/@TRANSITION_DELAY@/100ms/g' -e 's/@VM@/web1/g' -e 's#@CONFIG@#/srv/evos/web1.xml#g' -e 's/@MIGRATION_UNSAFE@/false/g' -e 's/@FORCE_STOP@/false/g' -e 's/@SHUTDOWN_TIMEOUT@/0/g' "$1"; }

# --- crmsh form, through evosctl ------------------------------------------------------------
cibadmin --empty > crm.xml
export CIB_file=$work/crm.xml
for n in n1 n2; do
  crm configure primitive "fence-$n" stonith:fence_dummy params pcmk_host_list="$n" >/dev/null 2>&1 || fail "fence device $n"
done
out=$("$evosctl" cluster init --priority-fencing-delay 5s 2>&1) \
  && pass "evosctl cluster init applies cluster-base.crm" || fail "evosctl cluster init: $out"
# Templates come from next to the executable or from --template-dir, never from the environment
# (a root tool must not load what its environment names into the cluster).
mkdir -p other
sed 's/resource-stickiness=100/resource-stickiness=77/' "$tpl/cluster-base.crm" > other/cluster-base.crm
stickiness() { xmllint --xpath 'string(//rsc_defaults//nvpair[@name="resource-stickiness"]/@value)' "$CIB_file"; }
out=$(EVOS_TEMPLATE_DIR=$work/other "$evosctl" cluster init 2>&1) && [ "$(stickiness)" = 100 ] \
  && pass "EVOS_TEMPLATE_DIR in the environment is ignored" || fail "EVOS_TEMPLATE_DIR: stickiness $(stickiness): $out"
out=$("$evosctl" cluster init --template-dir "$work/other" 2>&1) && [ "$(stickiness)" = 77 ] \
  && pass "--template-dir loads the templates given" || fail "--template-dir: stickiness $(stickiness): $out"
out=$("$evosctl" cluster init --template-dir "$work/nowhere" 2>&1); rc=$?
[ $rc = 5 ] && grep -q "$work/nowhere/cluster-base.crm" <<<"$out" && pass "a --template-dir without the template: exit 5, named" \
  || fail "--template-dir nowhere: rc $rc: $out"
out=$("$evosctl" cluster init 2>&1) && [ "$(stickiness)" = 100 ] || fail "cluster init again: $out"
out=$("$evosctl" cluster init --priority-fencing-delay '5s; rm' 2>&1); rc=$?
[ $rc -eq 2 ] && pass "a malformed delay is refused" || fail "malformed delay: rc $rc $out"
out=$("$evosctl" cluster init --transition-delay '1s$(id)' 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q -- "--transition-delay" <<<"$out" && pass "a malformed transition delay is refused, named" \
  || fail "malformed transition delay: rc $rc $out"
out=$("$evosctl" vm ha enable web1 --config /srv/evos/web1.xml --no-wait 2>&1) \
  && pass "evosctl vm ha enable applies vm-shared.crm" || fail "evosctl vm ha enable: $out"
out=$("$evosctl" vm ha enable web3 --config /srv/evos/web3.xml --force-stop --shutdown-timeout 7 --no-wait 2>&1) \
  && pass "evosctl vm ha enable --force-stop --shutdown-timeout 7" || fail "evosctl vm ha enable web3: $out"
[ "$(xmllint --xpath 'string(//primitive[@id="vm-web3"]//nvpair[@name="force_stop"]/@value)' "$CIB_file")" = true ] \
  && [ "$(xmllint --xpath 'string(//primitive[@id="vm-web3"]//nvpair[@name="shutdown_timeout"]/@value)' "$CIB_file")" = 7 ] \
  && [ "$(xmllint --xpath 'string(//primitive[@id="vm-web1"]//nvpair[@name="force_stop"]/@value)' "$CIB_file")" = false ] \
  && pass "stop parameters in the first configuration (web3 force_stop=true shutdown_timeout=7; web1 the defaults)" \
  || fail "stop parameters: $(xmllint --xpath '//primitive[@id="vm-web3"]' "$CIB_file" 2>&1)"
! grep -q -- '<!--' "$CIB_file" && pass "no template comment in the CIB" || fail "comments in the CIB: $(grep -- '<!--' "$CIB_file" | head -3)"
out=$("$evosctl" vm ha enable web4 --config /srv/x.xml --shutdown-timeout -1 --no-wait 2>&1); rc=$?
[ $rc -eq 2 ] && pass "a negative shutdown timeout is refused" || fail "shutdown-timeout -1: rc $rc $out"
out=$("$evosctl" vm ha enable 'web1;reboot' --config /srv/x.xml --no-wait 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "VM name" <<<"$out" && pass "a hostile VM name is refused" || fail "hostile name: rc $rc $out"
out=$("$evosctl" vm ha enable web2 --config '/srv/$(id).xml' --no-wait 2>&1); rc=$?
[ $rc -eq 2 ] && pass "a hostile config path is refused" || fail "hostile path: rc $rc $out"
# vm create --ha loads the same template (libvirt's in-process test driver stands in for libvirtd:
# a --ha create defines nothing there), created stopped; vm delete takes it out again.
vms=$work/vms
mkdir -p "$vms" && printf k > "$work/kernel" && printf i > "$work/initrd"
vmcreate() { "$evosctl" -c test:///default vm create "$1" --memory 128M --disk 1M --kernel "$work/kernel" --initrd "$work/initrd" \
               --virt-type qemu --storage "$vms" --ha "${@:2}" 2>&1; }
out=$(vmcreate web1); rc=$?
[ $rc -eq 2 ] && grep -q "vm-web1 already" <<<"$out" && [ ! -e "$vms/web1" ] \
  && pass "vm create --ha refuses a resource id the CIB has, before making anything" || fail "create over vm-web1: rc $rc $out"
out=$(vmcreate web4 --migration-unsafe --shutdown-timeout 3) && pass "vm create --ha web4" || fail "vm create --ha web4: $out"
p4='//primitive[@id="vm-web4"]'
[ "$(xmllint --xpath "string($p4//nvpair[@name=\"config\"]/@value)" "$CIB_file")" = "$vms/web4/web4.xml" ] \
  && [ "$(xmllint --xpath "string($p4/meta_attributes/nvpair[@name=\"target-role\"]/@value)" "$CIB_file")" = Stopped ] \
  && [ "$(xmllint --xpath "string($p4//nvpair[@name=\"shutdown_timeout\"]/@value)" "$CIB_file")" = 3 ] \
  && [ "$(xmllint --xpath "string($p4//nvpair[@name=\"migration_unsafe\"]/@value)" "$CIB_file")" = true ] \
  && pass "vm create --ha: config is the definition in the VM's directory, target-role=Stopped, the stop settings given" \
  || fail "vm create --ha resource: $(xmllint --xpath "$p4" "$CIB_file" 2>&1)"
out=$("$evosctl" -c test:///default vm delete web4 --storage "$vms" --yes 2>&1) && [ ! -e "$vms/web4" ] \
  && ! xmllint --xpath "$p4" "$CIB_file" >/dev/null 2>&1 && pass "vm delete removes the resource and the VM's directory" \
  || fail "vm delete web4: $out"
unset CIB_file
crm_verify -x crm.xml && pass "crm_verify accepts the crmsh configuration" || fail "crm_verify (crmsh)"
primitive=$(xmllint --xpath '//primitive[@id="vm-web1"]' crm.xml 2>/dev/null)
grep -q 'name="allow-migrate" value="true"' <<<"$primitive" && grep -q 'name="priority" value="10"' <<<"$primitive" \
  && pass "VM primitive: allow-migrate and priority" || fail "VM primitive lacks allow-migrate/priority: $primitive"
[ "$(grep -o 'name="monitor"' <<<"$primitive" | wc -l)" = 2 ] && grep -q 'OCF_CHECK_LEVEL' <<<"$primitive" \
  && pass "VM primitive: shallow and deep monitors" || fail "monitors: $primitive"
xmllint --xpath 'string(//nvpair[@name="priority-fencing-delay"]/@value)' crm.xml | grep -qx 5s \
  && pass "priority-fencing-delay set" || fail "priority-fencing-delay missing"
xmllint --xpath 'string(//nvpair[@name="transition-delay"]/@value)' crm.xml | grep -qx 100ms \
  && pass "transition-delay set (the default, 100ms)" || fail "transition-delay missing"

# --- pcs form --------------------------------------------------------------------------------
cibadmin --empty > pcs.xml
ok=1
for n in n1 n2; do pcs -f pcs.xml stonith create "fence-$n" fence_dummy pcmk_host_list="$n" >/dev/null 2>&1 || ok=0; done
for t in cluster-base vm-shared; do
  fill "$tpl/$t.pcs" | pcs_apply pcs.xml || ok=0
done
[ $ok = 1 ] && pass "pcs accepts the pcs templates (and the agent's meta-data)" || fail "pcs templates"
crm_verify -x pcs.xml && pass "crm_verify accepts the pcs configuration" || fail "crm_verify (pcs)"
xmllint --xpath 'string(//nvpair[@name="transition-delay"]/@value)' pcs.xml | grep -qx 100ms \
  && pass "pcs: transition-delay set" || fail "pcs: transition-delay missing"
pcs_prim=$(xmllint --xpath '//primitive[@id="vm-web1"]' pcs.xml 2>/dev/null)
grep -q 'name="allow-migrate" value="true"' <<<"$pcs_prim" && pass "pcs VM primitive: allow-migrate" || fail "pcs primitive: $pcs_prim"

# --- crm_simulate on the crmsh configuration --------------------------------------------------
where() {  # the nodes vm-web1 is active on, per crm_mon's XML status of CIB file $1
  CIB_file=$1 crm_mon -1 --output-as=xml 2>/dev/null | xmllint --xpath '//resource[@id="vm-web1"]/node/@name' - 2>/dev/null \
    | sed 's/ *name="\([^"]*\)"/\1 /g; s/ $//'
}
crm_simulate -x crm.xml -S -u n1 -u n2 -q 1 -O s1.xml >/dev/null 2>&1
first=$(where s1.xml)
[ "$first" = n1 ] || [ "$first" = n2 ] && pass "the VM starts on exactly one node ($first)" || fail "after start the VM is on '$first'"
other=n1; [ "$first" = n1 ] && other=n2

crm_simulate -x s1.xml -S --node-fail "$first" -G g2.xml -O s2.xml >/dev/null 2>&1
[ "$(where s2.xml)" = "$other" ] && pass "node $first fails: the VM runs on $other" || fail "after the failure the VM is on '$(where s2.xml)'"
start_inputs=$(xmllint --xpath "//synapse[action_set/rsc_op[@operation='start' and @operation_key='vm-web1_start_0']]/inputs" g2.xml 2>/dev/null)
grep -q "operation_key=\"stonith-$first-reboot\"" <<<"$start_inputs" \
  && pass "the VM's start on $other waits for the fencing of $first" || fail "start not ordered after fencing: $start_inputs"

# Found running on both (e.g. started by hand): Pacemaker stops both, starts one.
crm_simulate -x s1.xml -S -i "vm-web1_monitor_0@$other=0" -O s3.xml > s3.txt 2>&1
[ "$(where s3.xml)" = "$first" ] || [ "$(where s3.xml)" = "$other" ] && pass "a VM active on both nodes ends on one ($(where s3.xml))" \
  || fail "double-active VM ends on '$(where s3.xml)'"
grep -q "Stop.*vm-web1\|Restart\|Move.*vm-web1\|vm-web1.*stop" s3.txt && pass "the double-active VM is stopped first" || fail "no stop in: $(sed -n '/Transition Summary/,/Executing/p' s3.txt)"

# The failed node returns: stickiness keeps the VM where it is.
crm_simulate -x s2.xml -S -u "$first" -O s4.xml >/dev/null 2>&1
[ "$(where s4.xml)" = "$other" ] && pass "the returning node does not pull the VM back" || fail "VM moved back to '$(where s4.xml)'"

echo "templates_vm_shared: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
