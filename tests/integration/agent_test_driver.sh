#!/bin/bash
# The VM agent's actions and exit codes, run as Pacemaker runs it, against libvirt's in-process
# test driver (test:///default: every process starts with one running domain, "test"), plus a
# hypervisor socket that accepts connections and never answers (a hung libvirtd).
# Usage: agent_test_driver.sh AGENT
set -u
agent=$1
work=$(mktemp -d)
hung_pid=
cleanup() { [ -n "$hung_pid" ] && kill "$hung_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fails=0 passes=0

cat > "$work/test.xml" <<'XML'
<domain type='test'>
  <name>
    test
  </name>
  <memory>65536</memory><os><type>hvm</type></os>
</domain>
XML
cat > "$work/other.xml" <<'XML'
<domain type='test'><name>evos-other</name><memory>65536</memory><os><type>hvm</type></os></domain>
XML
printf '<domain><name>broken' > "$work/broken.xml"

# expect RC DESCRIPTION ACTION [VAR=VALUE...]
expect() {
  local want=$1 what=$2 action=$3; shift 3
  local out rc
  out=$(env -i PATH=/usr/bin:/bin HA_RSCTMP="$work/rsc" OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=vm-test \
        OCF_RESKEY_hypervisor=test:///default OCF_RESKEY_config="$work/test.xml" "$@" "$agent" "$action" 2>&1)
  rc=$?
  if [ "$rc" -eq "$want" ]; then passes=$((passes+1)); else
    echo "FAIL: $what: $action returned $rc, expected $want"; echo "$out" | sed 's/^/    /'; fails=$((fails+1)); fi
  LAST_OUT=$out
}

expect 0 "running domain" monitor
# The test driver reports a fake error on every disk (virDomainGetDiskErrors), so the deep
# monitor must say degraded there and name the disk.
expect 190 "running domain, deep check sees the disk errors" monitor OCF_CHECK_LEVEL=10
grep -q "^ocf-exit-reason:running, with disk errors: vda" <<<"$LAST_OUT" || { echo "FAIL: no disk error in: $LAST_OUT"; fails=$((fails+1)); }
expect 7 "domain not defined here" monitor OCF_RESKEY_config="$work/other.xml"
expect 0 "start an undefined domain (define + start)" start OCF_RESKEY_config="$work/other.xml"
expect 0 "start is idempotent" start
expect 0 "stop a running domain" stop OCF_RESKEY_shutdown_timeout=1
expect 0 "stop an absent domain" stop OCF_RESKEY_config="$work/other.xml"
expect 0 "force_stop" stop OCF_RESKEY_force_stop=true

# The config file becomes unreadable while the domain runs: never "not running".
rm -rf "$work/rsc"
expect 1 "unreadable config, nothing known: in doubt, not 'stopped'" monitor OCF_RESKEY_config="$work/missing.xml"
grep -q "set the 'domain' parameter" <<<"$LAST_OUT" || { echo "FAIL: no advice in: $LAST_OUT"; fails=$((fails+1)); }
expect 0 "unreadable config, domain parameter set" monitor OCF_RESKEY_config="$work/missing.xml" OCF_RESKEY_domain=test
expect 0 "a monitor with a readable config remembers the domain" monitor
expect 0 "unreadable config, remembered domain" monitor OCF_RESKEY_config="$work/missing.xml"
expect 1 "unreadable config does not make stop succeed blindly" stop OCF_RESKEY_config="$work/missing.xml" OCF_RESOURCE_INSTANCE=other-instance
expect 5 "start needs the config on this host" start OCF_RESKEY_config="$work/missing.xml"
expect 6 "malformed domain XML" start OCF_RESKEY_config="$work/broken.xml"
expect 6 "domain parameter disagrees with the config" monitor OCF_RESKEY_domain=other

expect 0 "validate-all level 0 checks syntax only" validate-all OCF_RESKEY_config="$work/missing.xml"
expect 5 "validate-all level 10 reads the config" validate-all OCF_RESKEY_config="$work/missing.xml" OCF_CHECK_LEVEL=10
expect 0 "validate-all level 10" validate-all OCF_CHECK_LEVEL=10
expect 6 "required parameter missing" validate-all OCF_RESKEY_config=
expect 0 "reload-agent" reload-agent
expect 3 "unknown action" frobnicate
expect 2 "migrate_to without a target" migrate_to
expect 1 "migrate_to on a driver that cannot migrate fails, bounded" migrate_to OCF_RESKEY_CRM_meta_migrate_target=node2 OCF_RESKEY_remote_hypervisor=test:///default

# A hung libvirtd: the socket accepts and never answers. The monitor must end before its
# timeout with OCF_ERR_GENERIC and say what hung.
python3 - "$work/hung.sock" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(16)
conns = []
end = time.time() + 60
while time.time() < end:
    s.settimeout(1)
    try: conns.append(s.accept()[0])
    except socket.timeout: pass
PY
hung_pid=$!
for _ in $(seq 50); do [ -S "$work/hung.sock" ] && break; sleep 0.1; done
t0=$(date +%s%N)
expect 1 "hung hypervisor" monitor OCF_RESKEY_hypervisor="qemu+unix:///system?socket=$work/hung.sock" OCF_RESKEY_CRM_meta_timeout=2000
elapsed=$(( ($(date +%s%N) - t0) / 1000000 ))
# The agent answers before its 2000 ms timeout (the watchdog fires at the deadline minus the guard
# time); the bound measured from here adds fork/exec of env and the agent, which on a loaded CI
# machine can take a few hundred ms, so it is checked with 500 ms of slack.
if [ "$elapsed" -ge 2500 ]; then echo "FAIL: hung monitor took $elapsed ms, its timeout is 2000 ms"; fails=$((fails+1)); else passes=$((passes+1)); fi
if grep -q "^ocf-exit-reason:monitor did not finish within its 2000 ms timeout while waiting for libvirt: connect" <<<"$LAST_OUT"; then
  passes=$((passes+1)); else echo "FAIL: exit reason does not say what hung: $LAST_OUT"; fails=$((fails+1)); fi

# libvirtd not there (its socket missing, as while it starts): a probe keeps asking for half of
# its timeout, then fails with 1 - never "not running" (7) - naming how often it asked.
expect 1 "probe, libvirtd absent" monitor OCF_RESKEY_hypervisor="qemu+unix:///system?socket=$work/absent.sock" OCF_RESKEY_CRM_meta_timeout=3000
if grep -q "^ocf-exit-reason:.*connect to hypervisor .*absent.sock ([0-9]* attempts in [0-9]* ms)" <<<"$LAST_OUT"; then
  passes=$((passes+1)); else echo "FAIL: the probe did not wait for libvirtd: $LAST_OUT"; fails=$((fails+1)); fi
# validate-all does not wait: one attempt.
expect 1 "validate-all, libvirtd absent" validate-all OCF_CHECK_LEVEL=10 OCF_RESKEY_hypervisor="qemu+unix:///system?socket=$work/absent.sock"
if grep -q "attempts in" <<<"$LAST_OUT"; then echo "FAIL: validate-all retried: $LAST_OUT"; fails=$((fails+1)); else passes=$((passes+1)); fi

echo "agent_test_driver: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
