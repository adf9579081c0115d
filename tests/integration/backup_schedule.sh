#!/bin/bash
# evosctl backup schedule add|list|remove on a unit directory of the test's own: the units
# systemd's own checker accepts (systemd-analyze verify), the calendar checked by systemd's parser,
# hostile values refused before anything is written, and the job line of the service runnable as
# written (on a host without the VM it skips, exit 0).
# Usage: backup_schedule.sh EVOSCTL
set -u
evosctl=$(readlink -f "${1:?usage: backup_schedule.sh EVOSCTL}")
work=$(mktemp -d /tmp/evos-backup-schedule.XXXXXX)
trap 'rm -rf "$work"' EXIT
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
units=$work/units
mkdir -p "$units" "$work/store"
E() { "$evosctl" "$@"; }

E backup schedule add web1 --store "$work/store" --calendar "Mon..Fri 22:00" --keep-daily 7 --unit-dir "$units" >/dev/null &&
  pass "schedule add" || fail "schedule add"
[ -f "$units/evos-backup-web1.timer" ] && [ -f "$units/evos-backup-web1.service" ] && pass "both units written" || fail "units missing"
[ "$(stat -c %a "$units/evos-backup-web1.timer")" = 644 ] && pass "mode 644" || fail "mode $(stat -c %a "$units/evos-backup-web1.timer")"
# systemd-analyze verify checks that ExecStart= binaries exist: point them at the built evosctl.
mkdir -p "$work/verify"
sed "s|^ExecStart=[^ ]*|ExecStart=$evosctl|" "$units/evos-backup-web1.service" > "$work/verify/evos-backup-web1.service"
cp "$units/evos-backup-web1.timer" "$work/verify/"
out=$(cd "$work/verify" && systemd-analyze verify --man=no ./evos-backup-web1.timer ./evos-backup-web1.service 2>&1)
[ -z "$out" ] && pass "systemd-analyze verify accepts both units" || fail "systemd-analyze verify: $out"
out=$(E backup schedule list --unit-dir "$units" --json)
[ "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[0]["vm"], d[0]["calendar"], d[0]["keep"]["daily"])' <<<"$out")" = "web1 Mon..Fri 22:00 7" ] &&
  pass "schedule list reads it back" || fail "list: $out"
E backup schedule add web1 --store "$work/store" --calendar hourly --unit-dir "$units" >/dev/null && grep -q '^OnCalendar=hourly$' "$units/evos-backup-web1.timer" &&
  ! grep -q prune "$units/evos-backup-web1.service" && pass "add again replaces the schedule" || fail "replace"

for bad in "bogus" "daily
ExecStart=/bin/sh" "%h"; do
  out=$(E backup schedule add web2 --store "$work/store" --calendar "$bad" --unit-dir "$units" 2>&1); rc=$?
  [ $rc = 2 ] && grep -q -- "--calendar" <<<"$out" && pass "calendar '${bad%%$'\n'*}' refused (exit 2)" || fail "calendar '$bad': rc $rc $out"
done
out=$(E backup schedule add web2 --store "/tmp/my store" --calendar daily --unit-dir "$units" 2>&1); rc=$?
[ $rc = 2 ] && grep -q -- "--store" <<<"$out" && pass "a store path systemd would split is refused" || fail "store with space: rc $rc $out"
out=$(E backup schedule add 'web$2' --store "$work/store" --calendar daily --unit-dir "$units" 2>&1); rc=$?
[ $rc = 2 ] && pass "a VM name that is not one is refused" || fail "vm name: rc $rc"
[ ! -e "$units/evos-backup-web2.timer" ] && pass "nothing written for refused schedules" || fail "a refused schedule left a unit"

# The job as the service runs it, on a hypervisor without the VM: skipped, exit 0.
E backup store init --store "$work/store" >/dev/null
job=$(sed -n 's/^ExecStart=[^ ]* //p' "$units/evos-backup-web1.service" | head -1)
# shellcheck disable=SC2086  # the unit's words, as systemd splits them
out=$(E -c test:///default $job 2>&1); rc=$?
[ $rc = 0 ] && grep -q skipped <<<"$out" && pass "the service's job runs as written and skips a VM not on this host" || fail "job: rc $rc $out"

E backup schedule remove web1 --unit-dir "$units" >/dev/null && [ ! -e "$units/evos-backup-web1.timer" ] && [ ! -e "$units/evos-backup-web1.service" ] &&
  pass "schedule remove" || fail "remove"
out=$(E backup schedule remove web1 --unit-dir "$units" 2>&1); rc=$?
[ $rc = 3 ] && pass "removing a schedule that is not there: exit 3" || fail "remove again: rc $rc $out"

echo "backup_schedule: $passes passed, $fails failed"
[ "$fails" = 0 ]
