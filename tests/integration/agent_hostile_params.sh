#!/bin/bash
# The VM agent refuses hostile parameter values with OCF_ERR_CONFIGURED (6) and an exit reason
# naming the parameter, and does nothing else: no file is created, no hypervisor is contacted.
# Usage: agent_hostile_params.sh AGENT
set -u
agent=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
canary=$work/canary
fails=0 passes=0

check() {  # check PARAM VALUE
  local param=$1 value=$2 out rc
  out=$(env -i PATH=/usr/bin:/bin HA_RSCTMP="$work/rsc" OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=h1 \
        OCF_RESKEY_config=/etc/evos/none.xml OCF_RESKEY_hypervisor="qemu+unix:///system?socket=$work/no-sock" \
        "OCF_RESKEY_$param=$value" "$agent" "$action" 2>&1)
  rc=$?
  if [ "$rc" -ne 6 ] && [ "$rc" -ne 2 ]; then
    echo "FAIL: $action with $param=$(printf %q "${value:0:60}") returned $rc, expected 6 or 2"; fails=$((fails+1)); return
  fi
  if ! grep -q "^ocf-exit-reason:.*parameter '$param'" <<<"$out"; then
    echo "FAIL: $action with $param=$(printf %q "${value:0:60}"): exit reason does not name the parameter: $out"; fails=$((fails+1)); return
  fi
  if [ -e "$canary" ] || [ -e "$work/rsc" ]; then
    echo "FAIL: $action with $param=$(printf %q "${value:0:60}") left files behind"; fails=$((fails+1)); return
  fi
  passes=$((passes+1))
}

long=$(head -c 5000 /dev/zero | tr '\0' a)
for action in start stop monitor migrate_to migrate_from validate-all reload-agent; do
  check config "/tmp/with space.xml"
  check config "/tmp/quote'.xml"
  check config '/tmp/dq".xml'
  check config "/tmp/\$(touch $canary).xml"
  check config "/tmp/\`touch $canary\`.xml"
  check config $'/tmp/new\nline.xml'
  check config "/$long"
  check config $'/tmp/\xff\xfe.xml'
  check hypervisor "qemu:///system; touch $canary"
  check hypervisor "qemu:///system\$(touch $canary)"
  check remote_hypervisor "qemu+ssh://\$(touch $canary)/system"
  check migration_uri "tcp://a b"
  check migration_network "-m;touch $canary"
  check domain "vm 1"
  check domain $'vm\n1'
  check migration_downtime "100; touch $canary"
  check force_stop "\$(touch $canary)"
  check shutdown_mode "acpi agent"
done
# The migration target comes from Pacemaker's environment: it is checked too.
out=$(env -i PATH=/usr/bin:/bin OCF_RESKEY_config=/etc/evos/none.xml OCF_RESKEY_CRM_meta_migrate_target="n2;touch $canary" \
      "$agent" migrate_to 2>&1); rc=$?
if [ "$rc" -eq 2 ] && grep -q "migrate_target" <<<"$out" && [ ! -e "$canary" ]; then passes=$((passes+1)); else
  echo "FAIL: hostile migrate_target: rc=$rc $out"; fails=$((fails+1)); fi

echo "agent_hostile_params: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
