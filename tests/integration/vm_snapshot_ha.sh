#!/bin/bash
# evosctl vm snapshot on an HA-managed VM, with Pacemaker's tools working on a CIB file
# (CIB_file, Pacemaker's own switch for offline use): the VM is recognised by its ocf:evos:vm
# primitive whose config is its definition; while the CIB says it is stopped, snapshots and
# reverts work offline and leave Pacemaker's configuration alone; while the CIB says it runs on
# hs-n1, a revert sets target-role=Stopped and waits for Pacemaker, which (a file) never stops
# it: at the deadline nothing is reverted and the previous target-role is back. Bad names, an
# unknown VM, a relative storage path and a damaged or newer catalogue are refused by name.
# Usage: vm_snapshot_ha.sh EVOSCTL
set -uo pipefail
evosctl=$(readlink -f "$1")
for t in qemu-img cibadmin crm_mon crm_resource; do
  command -v "$t" >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
tmp=$(mktemp -d /tmp/evos-hs-ha.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
storage=$tmp/st dir=$tmp/st/hs1
mkdir -p "$dir"
qemu-img create -q -f qcow2 "$dir/hs1-vda.qcow2" 16M || { echo "FAIL: qemu-img create"; exit 1; }
cat > "$dir/hs1.xml" <<XML
<domain type='qemu'><name>hs1</name><memory unit='MiB'>64</memory><os><type>hvm</type></os><devices>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$dir/hs1-vda.qcow2'/><target dev='vda'/></disk>
</devices></domain>
XML
# This Pacemaker's own CIB version attributes (it refuses a file of a newer feature set).
empty=$(cibadmin --empty)
fs=$(grep -o 'crm_feature_set="[^"]*"' <<<"$empty" | head -1)
vw=$(grep -o 'validate-with="[^"]*"' <<<"$empty" | head -1)
[ -n "$fs" ] && [ -n "$vw" ] || { echo "FAIL: cibadmin --empty: $empty"; exit 1; }
# cib FILE RUNNING: a two-node CIB with the VM's primitive; RUNNING=1 adds a successful start on hs-n1.
cib() {
  local lrm=""
  [ "$2" = 1 ] && lrm='<lrm id="1"><lrm_resources><lrm_resource id="vm-hs1" class="ocf" provider="evos" type="vm">
      <lrm_rsc_op id="vm-hs1_last_0" operation_key="vm-hs1_start_0" operation="start" crm-debug-origin="test" '"$fs"'
        transition-key="1:1:0:00000000-0000-0000-0000-000000000000" transition-magic="0:0;1:1:0:00000000-0000-0000-0000-000000000000"
        call-id="1" rc-code="0" op-status="0" interval="0" last-rc-change="1700000000" exec-time="1" queue-time="0"
        op-digest="00000000000000000000000000000000"/></lrm_resource></lrm_resources></lrm>'
  cat > "$1" <<XML
<cib $fs $vw epoch="1" num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="1" uname="hs-n1"/><node id="2" uname="hs-n2"/></nodes>
    <resources><primitive id="vm-hs1" class="ocf" provider="evos" type="vm">
      <instance_attributes id="vm-hs1-ia"><nvpair id="vm-hs1-config" name="config" value="$dir/hs1.xml"/></instance_attributes>
    </primitive></resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="hs-n1" in_ccm="true" crmd="online" join="member" expected="member">$lrm</node_state>
    <node_state id="2" uname="hs-n2" in_ccm="true" crmd="online" join="member" expected="member"/>
  </status>
</cib>
XML
}
cib "$tmp/stopped.xml" 0
cib "$tmp/running.xml" 1
# S CIB ARGS...: evosctl vm snapshot against the CIB file; -c names a hypervisor that has no such
# domain, so only Pacemaker can have said where the VM is.
S() { local c=$1; shift; CIB_file=$c "$evosctl" -c test:///default vm snapshot "$@" --storage "$storage"; }
role() { CIB_file=$1 crm_resource --resource vm-hs1 --meta --get-parameter target-role 2>/dev/null; }

out=$(S "$tmp/stopped.xml" create hs1 s1 --json 2>"$tmp/err") || fail "create on a stopped HA VM: $(cat "$tmp/err")"
[ "$(json 'd["place"]["ha_resource"]' <<<"$out")" = vm-hs1 ] && pass "the VM is known as HA resource vm-hs1" || fail "place: $out"
[ "$(json 'd["consistency"]' <<<"$out")" = offline ] && pass "stopped in the cluster: an offline snapshot" || fail "consistency: $out"
overlay=$(json 'd["overlays"][0]' <<<"$out")
grep -q "$overlay" "$dir/hs1.xml" && pass "the definition (the resource's config) points at the new overlay" || fail "definition"
[ -z "$(role "$tmp/stopped.xml")" ] && pass "Pacemaker's configuration was left alone" || fail "target-role set: $(role "$tmp/stopped.xml")"

cp "$dir/hs1.xml" "$tmp/def.before"; cp "$dir/snapshots/catalogue.json" "$tmp/cat.before"
out=$(S "$tmp/running.xml" revert hs1 s1 --yes --timeout 10s 2>&1); rc=$?
[ $rc = 7 ] && pass "a running HA VM that Pacemaker does not stop in time: exit 7" || fail "revert: rc $rc: $out"
grep -q "nothing was reverted" <<<"$out" && grep -q "vm-hs1" <<<"$out" && pass "and says so: ${out##*evosctl: }" || fail "message: $out"
[ -z "$(role "$tmp/running.xml")" ] && pass "its previous target-role (none) is back" || fail "target-role left: $(role "$tmp/running.xml")"
cmp -s "$dir/hs1.xml" "$tmp/def.before" && cmp -s "$dir/snapshots/catalogue.json" "$tmp/cat.before" &&
  pass "definition and catalogue are unchanged" || fail "something changed"
[ ! -e "$dir/snapshots/lock" ] && pass "the lock is released" || fail "lock left behind"

out=$(S "$tmp/stopped.xml" revert hs1 s1 --yes --json 2>"$tmp/err") || fail "revert of the stopped HA VM: $(cat "$tmp/err")"
[ "$(json 'd["restarted"]' <<<"$out")" = False ] && [ "$(json 'len(d["removed"])' <<<"$out")" = 1 ] &&
  pass "the stopped HA VM is reverted offline, not started, its old overlay removed" || fail "revert: $out"
[ -z "$(role "$tmp/stopped.xml")" ] && pass "and Pacemaker was not asked to start it" || fail "target-role: $(role "$tmp/stopped.xml")"

# --- bad input: named, with its exit code, nothing changed ---
expect() {  # expect RC TEXT WHAT CMD...: the command exits RC and says TEXT
  local rc=$1 text=$2 what=$3; shift 3
  out=$("$@" 2>&1); got=$?
  [ "$got" = "$rc" ] && grep -q -- "$text" <<<"$out" && pass "$what: exit $rc, ${out##*evosctl: }" || fail "$what: rc $got: $out"
}
expect 2 "snapshot name 'a/b'" "a bad snapshot name" S "$tmp/stopped.xml" create hs1 a/b
expect 2 "VM name '../x'" "a bad VM name" S "$tmp/stopped.xml" list ../x
expect 3 "has no definition" "an unknown VM" S "$tmp/stopped.xml" list nosuchvm
expect 2 "VM name 'x y'" "a bad new VM name for boot" S "$tmp/stopped.xml" boot hs1 s1 --as "x y"
expect 2 "not both" "--hypervisor with --node" S "$tmp/stopped.xml" boot hs1 s1 --as hs2 --node n2 --hypervisor test:///default
expect 2 "is not an absolute path" "a relative storage directory" \
  env CIB_file="$tmp/stopped.xml" "$evosctl" vm snapshot list hs1 --storage relative/dir
cp "$dir/snapshots/catalogue.json" "$tmp/cat.good"
printf '{"format": "evos-vm-snapshots", "version": 7}' > "$dir/snapshots/catalogue.json"
expect 2 "version 7 (this evos reads version 1; written by a newer evos)" "a catalogue of a newer version" S "$tmp/stopped.xml" list hs1
head -c 100 "$tmp/cat.good" > "$dir/snapshots/catalogue.json"
expect 2 "snapshot catalogue: not JSON" "a truncated catalogue" S "$tmp/stopped.xml" create hs1 s9
[ ! -e "$dir/snapshots/lock" ] && pass "the refused create left no lock" || fail "lock left"

echo "vm_snapshot_ha: $passes passed, $fails failed"
[ "$fails" = 0 ]
