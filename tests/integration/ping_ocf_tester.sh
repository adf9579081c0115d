#!/bin/bash
# ocf-tester (resource-agents' conformance script) on the INSTALLED ocf:evos:ping
# (<prefix>/lib/ocf/resource.d/evos/ping), and crm_resource --validate through Pacemaker's
# executor library with the agent overlaid into /usr/lib/ocf/resource.d. Test IPs: 127.0.0.1 and
# ::1 in a private network namespace; attrd_updater is a logging shim first on PATH.
# Usage: ping_ocf_tester.sh BUILD_DIR. Needs root (namespaces, overlay).
set -uo pipefail
if [ "${1:-}" != --inside ]; then
  build=$(cd "$1" && pwd)
  work=$(mktemp -d /tmp/evos-pingtester.XXXXXX)
  chmod 755 "$work"   # ocf-tester runs meta-data as nobody
  trap 'rm -rf "$work"' EXIT
  [ "$(id -u)" = 0 ] || { echo "FAIL: ping_ocf_tester.sh needs root"; exit 1; }
  for tool in ocf-tester crm_resource; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "FAIL: $tool is not installed (run scripts/install-deps.sh)"; exit 1; }
  done
  cmake --install "$build" --prefix "$work/stage" >/dev/null || { echo "FAIL: cmake --install"; exit 1; }
  unshare --mount --net --propagation private -- "$0" --inside "$work"
  exit $?
fi
work=$2
export PATH=$work/bin:/usr/sbin:/usr/bin:/sbin:/bin
ip link set lo up
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
agent=$work/stage/lib/ocf/resource.d/evos/ping
[ -x "$agent" ] && pass "installed as lib/ocf/resource.d/evos/ping" || { fail "not installed at $agent"; exit 1; }
mkdir -p "$work/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$*" >> "%s/attrd.log"\n' "$work" > "$work/bin/attrd_updater"
chmod +x "$work/bin/attrd_updater"

out=$(HA_RSCTMP="$work/rsc" timeout 300 ocf-tester -v -n evos-ping-test -o host_list="127.0.0.1 ::1=2" -o timeout=500ms \
      "$agent" 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q 'passed all tests' <<<"$out"; then pass "ocf-tester"; else fail "ocf-tester rc $rc"; echo "$out" | head -60; fi
grep -q -- '-n evos-testip -B 3000 -d 5s' "$work/attrd.log" && pass "ocf-tester's start and monitor wrote the score" \
  || fail "attrd log: $(cat "$work/attrd.log" 2>/dev/null)"

mount -t overlay evos-ocf -o "lowerdir=$work/stage/lib/ocf/resource.d:/usr/lib/ocf/resource.d" /usr/lib/ocf/resource.d \
  || { fail "cannot overlay the agent"; exit 1; }
out=$(crm_resource --validate --class ocf --provider evos --agent ping --option host_list=127.0.0.1 --output-as=xml 2>&1); rc=$?
[ $rc -eq 0 ] && pass "crm_resource --validate" || { fail "crm_resource --validate rc $rc"; echo "$out" | tail -10; }
out=$(crm_resource --validate --class ocf --provider evos --agent ping --option 'host_list=gw:2' --output-as=xml 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "host_list" <<<"$out" && pass "crm_resource --validate reports a bad host_list" \
  || { fail "crm_resource --validate with a bad host_list: rc $rc"; echo "$out" | tail -10; }

echo "ping_ocf_tester: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
