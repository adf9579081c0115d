#!/bin/bash
# The VM agent on real libvirtd + QEMU (TCG): two libvirt hosts in private namespaces
# (tests/support/virt-hosts.sh), a tiny guest that counts on its own disk
# (tests/support/build-guest.sh). Checks:
#   - ocf-tester passes on the installed agent; crm_resource --validate runs it through
#     Pacemaker's executor library (the agent overlaid into /usr/lib/ocf in a private mount ns);
#   - live migration through the agent both ways (migrate_to, migrate_from, stop on the source),
#     with snapshot metadata carried along; the guest's on-disk counter keeps counting and the
#     guest never reboots; the agent reports the downtime;
#   - boots and ticks are read from the guest's own serial log, from a mark taken just before
#     this test's start: ocf-tester's boots before it appended to the same log and left their
#     counter on the disk, so an earlier boot's tick or start line must never count for this one.
#     On failure the log's boots and ticks since the mark are printed; the whole serial log is
#     kept as BUILD_DIR/Testing/real-vm-agent/evr1.serial.log (copied at exit, pass or fail).
#   - a hung (SIGSTOPped) libvirtd ends a monitor before its timeout with an exit reason;
#   - a paused domain is degraded; an unreadable config still finds the running domain.
# Usage: vm_agent_real.sh BUILD_DIR. Needs root. Fails (never skips) if anything is missing.
set -uo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")/../.." && pwd)
prefix=${EVOS_TEST_PREFIX:-r$(printf '%04d' $((RANDOM % 10000)))}
base=${EVOS_TEST_BASE:-/tmp/evos-$prefix}
guest=$build/guest-cache
shared=$base/shared
dom=evr1
export EVOS_TEST_PREFIX=$prefix EVOS_TEST_BASE=$base

artifacts=$build/Testing/real-vm-agent
hosts() { "$here/tests/support/virt-hosts.sh" "$@"; }
keep_serial_log() {
  mkdir -p "$artifacts" && rm -f "$artifacts/$dom.serial.log" &&
    { [ ! -e "$shared/$dom.serial.log" ] || cp "$shared/$dom.serial.log" "$artifacts/"; }
}
cleanup() { hosts down >/dev/null 2>&1; keep_serial_log; rm -rf "$base"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
die() { echo "FAIL: $*"; echo "vm_agent_real: $passes passed, $((fails+1)) failed (serial log: $artifacts/$dom.serial.log)"; exit 1; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

for tool in ocf-tester crm_resource virsh qemu-system-x86_64 libvirtd tini; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || die "$tool is not installed (run scripts/install-deps.sh)"
done

"$here/tests/support/build-guest.sh" "$guest" || die "cannot build the test guest"
mkdir -p "$shared"
cmake --install "$build" --prefix "$base/stage" >/dev/null || die "cmake --install failed"
agent=$base/stage/lib/ocf/resource.d/evos/vm
evosctl=$base/stage/sbin/evosctl
[ -x "$agent" ] || die "the agent was not installed at $agent"
hosts up || die "the libvirt hosts did not come up"
hosts domain-xml "$dom" "$shared" "$guest" "$shared/$dom.xml" 128 || die "cannot write the domain XML"
uri1=$(hosts uri 1) uri2=$(hosts uri 2)

# ra N ACTION [VAR=VALUE...]: the agent against host N, as pacemaker-execd runs it (env only),
# from host N's network namespace so it reaches the other host like a cluster node would.
ra() {
  local n=$1 action=$2; shift 2
  local uri; uri=$(hosts uri "$n")
  hosts in-net "$n" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin OCF_ROOT=/usr/lib/ocf HA_RSCTMP="$base/rsc$n" \
    OCF_RESOURCE_INSTANCE=$dom OCF_RESKEY_config="$shared/$dom.xml" OCF_RESKEY_hypervisor="$uri" \
    OCF_RESKEY_migration_unsafe=true OCF_RESKEY_shutdown_timeout=2 OCF_RESKEY_CRM_meta_timeout=60000 \
    "$@" "$agent" "$action"
}
expect_rc() {  # expect_rc RC WHAT N ACTION [VAR=VALUE...]
  local want=$1 what=$2; shift 2
  OUT=$(ra "$@" 2>&1); local rc=$?
  if [ "$rc" -eq "$want" ]; then pass "$what (rc $rc)"; else fail "$what: rc $rc, expected $want"; echo "$OUT" | sed 's/^/    /'; fi
}
counter() { hosts counter "$shared" "$dom"; }
# The guest's serial log after $mark (set just before this test's own start, below).
mark=0
boots() { hosts boots "$shared" "$dom" "$mark"; }
tick() { hosts last-tick "$shared" "$dom" "$mark"; }
wait_tick() { hosts wait-tick "$shared" "$dom" "$1" "$2" "$mark"; }   # wait_tick MIN TIMEOUT_S
serial_report() {  # what happened, for a failure: host time, disk counter, the log since the mark
  echo "    at $(date +%T.%3N) (start at $start_at); counter on the disk: $(counter)"
  hosts serial-report "$shared" "$dom" "$mark" | sed 's/^/    /'
}
# one_boot WHAT: the guest booted exactly once since this test's start
one_boot() {
  local b; b=$(boots)
  if [ "$b" = 1 ]; then pass "guest did not reboot $1 (1 boot in its serial log since the start)"
  else fail "guest booted $b times since the start (expected 1) $1"; serial_report; fi
}

# --- ocf-tester (resource-agents' conformance script) on the installed agent ---------------
out=$(HA_RSCTMP="$base/rsc1" timeout 600 ocf-tester -n "$dom" -o config="$shared/$dom.xml" -o hypervisor="$uri1" \
      -o shutdown_timeout=2 -o migration_unsafe=true "$agent" 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q 'passed all tests' <<<"$out"; then pass "ocf-tester"; else fail "ocf-tester rc $rc"; echo "$out" | tail -20; fi

# --- crm_resource --validate through Pacemaker's executor library --------------------------
validate() {  # validate LEVEL OPTION...
  local level=$1; shift
  local args=() o
  for o in "$@"; do args+=(--option "$o"); done
  unshare --mount --propagation private -- sh -c '
    mount -t overlay evos-ocf -o "lowerdir=$1/stage/lib/ocf/resource.d:/usr/lib/ocf/resource.d" /usr/lib/ocf/resource.d || exit 99
    shift; exec "$@"' sh "$base" crm_resource --validate="$level" --class ocf --provider evos --agent vm --output-as=xml "${args[@]}"
}
out=$(validate 10 config="$shared/$dom.xml" hypervisor="$uri1" 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q 'agent-status code="0"' <<<"$out"; then pass "crm_resource --validate=10"; else fail "crm_resource --validate rc $rc"; echo "$out" | tail; fi
out=$(validate 0 config='/tmp/$(reboot).xml' 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -q "parameter 'config'" <<<"$out"; then pass "crm_resource --validate refuses a hostile value, naming it"; else fail "crm_resource on a hostile value: rc $rc"; echo "$out" | tail; fi
out=$(validate 10 config="$shared/missing.xml" hypervisor="$uri1" 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -q "cannot read config file" <<<"$out"; then pass "crm_resource --validate=10 reads the config"; else fail "crm_resource missing config: rc $rc"; echo "$out" | tail; fi

# --- start, monitor, probe on the other host ----------------------------------------------
mark=$(hosts serial-mark "$shared" "$dom") start_at=$(date +%T.%3N)
expect_rc 0 "start on host 1" 1 start
# this boot's own EVOS-INIT-START and a tick after it (not a tick of ocf-tester's boots)
if t=$(hosts wait-boot "$shared" "$dom" "$mark" 60 2>/dev/null); then pass "guest boots and counts (first tick $t of this boot)"
else fail "guest did not boot and tick within 60 s of its start"; serial_report; fi
expect_rc 0 "monitor on host 1" 1 monitor
expect_rc 0 "deep monitor on host 1" 1 monitor OCF_CHECK_LEVEL=10
expect_rc 7 "probe on host 2" 2 monitor OCF_RESKEY_CRM_meta_interval=0
expect_rc 1 "start on host 2 while host 1 runs it: refused by QEMU's image lock" 2 start

# --- live migration 1 -> 2 through the agent, carrying a snapshot's metadata ----------------
hosts virsh 1 snapshot-create-as "$dom" evos-s1 --description "made before migration" >/dev/null \
  && pass "internal snapshot taken" || fail "cannot take a snapshot"
c0=$(tick)
expect_rc 0 "migrate_to host 2 (the agent's migration defaults)" 1 migrate_to OCF_RESKEY_CRM_meta_migrate_target=198.19.0.2
migrate_out=$OUT
grep -q 'downtime limit 30 ms, bandwidth unlimited, auto-converge on, post-copy off' <<<"$OUT" &&
  pass "migrate_to starts with the default plan (30 ms limit, auto-converge)" || fail "no default plan in: $OUT"
downtime=$(grep -o 'downtime [0-9]* ms' <<<"$OUT" | head -1)
[ -n "$downtime" ] && pass "migrate_to reports the $downtime" || fail "no downtime in: $OUT"
echo "$OUT" | grep -a 'migrated domain' | sed 's/^/    /'
expect_rc 0 "migrate_from on host 2" 2 migrate_from
expect_rc 0 "stop on the source after the migration" 1 stop
expect_rc 0 "monitor on host 2" 2 monitor
expect_rc 7 "monitor on host 1" 1 monitor
# Captured first: `virsh ... | grep -q` under pipefail failed now and then - grep exits at the
# match, virsh then dies of SIGPIPE writing the list's trailing blank line (status 141).
snaps2=$(hosts virsh 2 snapshot-list "$dom" --name 2>&1)
grep -qx evos-s1 <<<"$snaps2" && pass "snapshot metadata arrived on host 2" \
  || { fail "snapshot metadata missing on host 2"; echo "$migrate_out" | sed 's/^/    migrate_to: /'
         sed 's/^/    host 2 snapshots: /' <<<"$snaps2"
         hosts virsh 1 snapshot-list "$dom" --name 2>&1 | sed 's/^/    host 1 snapshots: /'
         ls -la "$base/h2/lib/qemu/snapshot/$dom" "$base/h1/lib/qemu/snapshot/$dom" 2>&1 | sed 's/^/    /'
         tail -n 20 "$base/h2/log/libvirtd.log" 2>&1 | sed 's/^/    host 2 libvirtd.log: /'; }
if t=$(wait_tick $((c0 + 3)) 30 2>/dev/null); then pass "guest kept counting across the migration ($c0 -> $t)"
else fail "guest stopped counting across the migration: last tick $(tick) (was $c0)"; serial_report; fi
one_boot "across the migration"

# --- and back 2 -> 1, with bandwidth limit and auto-converge --------------------------------
hosts virsh 2 snapshot-delete "$dom" evos-s1 >/dev/null 2>&1
c1=$(tick)
expect_rc 0 "migrate_to host 1 (bandwidth, auto-converge)" 2 migrate_to OCF_RESKEY_CRM_meta_migrate_target=198.19.0.1 \
  OCF_RESKEY_migration_speed=200 OCF_RESKEY_migration_auto_converge=true
expect_rc 0 "migrate_from on host 1" 1 migrate_from
expect_rc 0 "stop on host 2" 2 stop
if t=$(wait_tick $((c1 + 3)) 30 2>/dev/null); then pass "guest kept counting across the way back ($c1 -> $t)"
else fail "guest stopped counting across the way back: last tick $(tick) (was $c1)"; serial_report; fi
one_boot "on the way back"

# --- a hung libvirtd: monitor ends before its timeout and says what hung --------------------
hosts freeze-libvirtd 1
t0=$(date +%s%N)
expect_rc 1 "monitor against a frozen libvirtd" 1 monitor OCF_RESKEY_CRM_meta_timeout=3000
el=$(ms_since "$t0")
hosts thaw-libvirtd 1
# The watchdog ends the agent before its 3000 ms timeout (the exit reason below proves it was the
# watchdog); measured from here it adds fork/exec, which a loaded CI machine stretches: 1 s slack.
[ "$el" -lt 4000 ] && pass "frozen libvirtd: monitor returned in $el ms (3000 ms timeout)" || fail "monitor took $el ms"
grep -q '^ocf-exit-reason:monitor did not finish within its 3000 ms timeout while waiting for libvirt' <<<"$OUT" \
  && pass "exit reason names the hung call" || fail "exit reason: $OUT"
expect_rc 0 "monitor once libvirtd answers again" 1 monitor

# --- paused, unreadable config -------------------------------------------------------------
hosts virsh 1 suspend "$dom" >/dev/null
expect_rc 190 "paused by the administrator is degraded" 1 monitor
expect_rc 0 "start resumes a paused domain" 1 start
mv "$shared/$dom.xml" "$shared/$dom.xml.away"
expect_rc 0 "unreadable config: the running domain is still found" 1 monitor
expect_rc 0 "unreadable config: probe still finds it" 1 monitor OCF_RESKEY_CRM_meta_interval=0
mv "$shared/$dom.xml.away" "$shared/$dom.xml"

# --- evosctl sees the same -----------------------------------------------------------------
out=$("$evosctl" -c "$uri1" vm list --json 2>&1)
grep -q "\"name\": \"$dom\"" <<<"$out" && grep -q '"health": "running"' <<<"$out" && pass "evosctl vm list --json" || fail "evosctl: $out"
out=$("$evosctl" -c "$uri2" vm status "$dom" --json 2>&1)
grep -q '"state": "shut off"' <<<"$out" && pass "evosctl vm status on the old source" || fail "evosctl status: $out"

expect_rc 0 "final stop" 1 stop
expect_rc 7 "monitor after stop" 1 monitor

echo "guest's serial log since the start:"; hosts serial-report "$shared" "$dom" "$mark" | sed 's/^/    /'
echo "vm_agent_real: $passes passed, $fails failed (serial log kept as $artifacts/$dom.serial.log)"
[ "$fails" -eq 0 ]
