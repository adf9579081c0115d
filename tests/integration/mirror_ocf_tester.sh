#!/bin/bash
# ocf-tester (resource-agents' conformance script) on the INSTALLED ocf:evos:mirror
# (<prefix>/lib/ocf/resource.d/evos/mirror), on the drbd simulator (linked as drbdadm and
# drbdsetup first on PATH; the peer "beta" is brought up by the test so that a started mirror is
# healthy), with crm_attribute as a logging shim. Then crm_resource --validate through Pacemaker's
# executor with the agent overlaid into /usr/lib/ocf/resource.d in a private mount namespace.
# Usage: mirror_ocf_tester.sh BUILD_DIR DRBD_SIM. Needs root (mount namespace, overlay).
set -uo pipefail
if [ "${1:-}" != --inside ]; then
  build=$(cd "$1" && pwd)
  sim=$(readlink -f "$2")
  [ "$(id -u)" = 0 ] || { echo "FAIL: mirror_ocf_tester.sh needs root"; exit 1; }
  for tool in ocf-tester crm_resource; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "FAIL: $tool is not installed (run scripts/install-deps.sh)"; exit 1; }
  done
  work=$(mktemp -d /tmp/evos-mirrortester.XXXXXX)
  chmod 755 "$work"   # ocf-tester runs meta-data as nobody
  trap 'rm -rf "$work"' EXIT
  cmake --install "$build" --prefix "$work/stage" >/dev/null || { echo "FAIL: cmake --install"; exit 1; }
  unshare --mount --propagation private -- "$0" --inside "$work" "$sim"
  exit $?
fi
work=$2 sim=$3
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
agent=$work/stage/lib/ocf/resource.d/evos/mirror
[ -x "$agent" ] && pass "installed as lib/ocf/resource.d/evos/mirror" || { fail "not installed at $agent"; exit 1; }
mkdir -p "$work/bin" "$work/world"
ln -s "$sim" "$work/bin/drbdadm"
ln -s "$sim" "$work/bin/drbdsetup"
printf '#!/bin/sh\nprintf "%%s\\n" "$*" >> "%s/attr.log"\n' "$work" > "$work/bin/crm_attribute"
chmod +x "$work/bin/crm_attribute"
export PATH=$work/bin:/usr/sbin:/usr/bin:/sbin:/bin
export EVOS_DRBD_SIM_DIR=$work/world EVOS_DRBD_SIM_NODE=alpha HA_RSCTMP=$work/rsc
"$sim" ctl init r0 alpha:0 beta:1 >/dev/null && EVOS_DRBD_SIM_NODE=beta drbdadm up r0 \
  || { fail "simulator setup"; exit 1; }

out=$(timeout 300 ocf-tester -v -n evos-mirror-test -o drbd_resource=r0 "$agent" 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q 'passed all tests' <<<"$out"; then pass "ocf-tester"; else fail "ocf-tester rc $rc"; echo "$out" | tail -60; fi
grep -q -- '--promotion -v 10000' "$work/attr.log" && grep -q -- '--promotion -D' "$work/attr.log" \
  && pass "ocf-tester's actions wrote and removed the promotion score" || fail "attribute log: $(cat "$work/attr.log" 2>/dev/null)"
[ "$(drbdadm role r0 2>&1)" != Primary ] && pass "ocf-tester left alpha not Primary" || fail "alpha still Primary"

mount -t overlay evos-ocf -o "lowerdir=$work/stage/lib/ocf/resource.d:/usr/lib/ocf/resource.d" /usr/lib/ocf/resource.d \
  || { fail "cannot overlay the agent"; exit 1; }
out=$(crm_resource --validate --class ocf --provider evos --agent mirror --option drbd_resource=r0 --output-as=xml 2>&1); rc=$?
[ $rc -eq 0 ] && pass "crm_resource --validate" || { fail "crm_resource --validate rc $rc"; echo "$out" | tail -10; }
out=$(crm_resource --validate --class ocf --provider evos --agent mirror --option 'drbd_resource=--force' --output-as=xml 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "drbd_resource" <<<"$out" && pass "crm_resource --validate reports a bad drbd_resource" \
  || { fail "crm_resource --validate with a bad drbd_resource: rc $rc"; echo "$out" | tail -10; }
EVOS_DRBD_SIM_NODE=beta drbdadm down r0
echo "mirror_ocf_tester: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
