#!/bin/bash
# virt-hosts-selftest.sh [GUEST_CACHE_DIR] - quick end-to-end check of the virtualization lab.
#
#   1. build the test guest into GUEST_CACHE_DIR (default /tmp/evos-guest-cache; cached)
#   2. virt-hosts.sh up, with a unique prefix (EVOS_TEST_PREFIX overrides it) and a fresh state dir
#   3. host 2 reaches host 1's libvirtd over TCP from inside its netns; hostnames are distinct
#   4. define + start a domain on host 1, wait for guest ticks, read the counter from the disk
#   5. live p2p migration to host 2; the guest keeps ticking there without reboot, the on-disk
#      counter keeps growing, and every tick in the serial log is the previous one + 1
#   6. virt-hosts.sh down (from the EXIT trap, so also after a failure), then verify that nothing
#      is left: no netns with the prefix, no process with the state dir in its command line, no
#      mount under the state dir, no veth of the prefix
# Exit status 0 only if every check passed. The state dir is removed after a fully passing run.
# Running two copies at once (different prefixes, same cache dir) is supported.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VH=$HERE/virt-hosts.sh
CACHE=${1:-/tmp/evos-guest-cache}
export EVOS_TEST_PREFIX=${EVOS_TEST_PREFIX:-s$(printf '%05d' $(( $$ % 100000 )))}
P=$EVOS_TEST_PREFIX
EVOS_TEST_BASE=$(mktemp -d "/tmp/$P.XXXXXX")
export EVOS_TEST_BASE
BASE=$EVOS_TEST_BASE
DISK=$BASE/shared
DOM=${P}vm
FAILS=0
UP_TRIED=0

say() { echo "[selftest $P $(date +%T.%3N)] $*" >&2; }
pass() { say "PASS: $*"; }
fail() { say "FAIL: $*"; FAILS=$((FAILS + 1)); }
now_ms() { date +%s%3N; }
vsh() { local h=$1; shift; virsh -q -c "$("$VH" uri "$h")" "$@"; }

check_ticks_consecutive() {  # every EVOS-TICK in the log is the previous one + 1
  grep -ao 'EVOS-TICK [0-9][0-9]* ' "$DISK/$DOM.serial.log" |
    awk 'NR > 1 && $2 != prev + 1 { print "tick " $2 " after " prev; bad = 1 } { prev = $2 } END { exit bad }'
}

leftovers() {  # prints what is left of this instance; empty output = clean
  local f pid cmd
  ip netns list 2>/dev/null | awk -v p="$P" '$1 ~ "^" p "h[12]$" { print "netns " $1 }'
  ip -o link show 2>/dev/null | awk -v p="$P" 'index($2, p "h") == 1 { print "link " $2 }'
  awk -v b="$BASE" -v n="/run/netns/${P}h" 'index($5, b) == 1 || index($5, n) == 1 { print "mount " $5 }' \
    /proc/self/mountinfo
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    if [ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ]; then continue; fi
    cmd=$(tr '\0' ' ' 2>/dev/null < "$f") || continue   # the process may be gone
    case $cmd in *"$BASE"*) echo "process $pid: $cmd" ;; esac
  done
}

finish() {
  local rc=$? t0 left
  trap '' INT TERM
  if [ "$UP_TRIED" = 1 ]; then
    t0=$(now_ms)
    if "$VH" down; then pass "down in $(( $(now_ms) - t0 )) ms"; else fail "down returned non-zero"; fi
  fi
  left=$(leftovers)
  if [ -z "$left" ]; then pass "nothing left behind (netns, links, mounts, processes)"
  else fail "left behind:"; echo "$left" >&2; fi
  [ "$rc" = 0 ] || fail "aborted with status $rc"
  if [ "$FAILS" = 0 ]; then
    rm -rf "$BASE"
    say "ALL PASSED"
    exit 0
  fi
  say "$FAILS FAILURE(S); state kept in $BASE (logs: hN/log/libvirtd.log, shared/$DOM.serial.log)"
  exit 1
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. guest
t0=$(now_ms)
"$HERE/build-guest.sh" "$CACHE"
pass "guest ready in $CACHE ($(( $(now_ms) - t0 )) ms)"

# 2. hosts
UP_TRIED=1
t0=$(now_ms)
"$VH" up
pass "up in $(( $(now_ms) - t0 )) ms (prefix $P, base $BASE)"

# 3. naming and TCP reachability
h1=$(vsh 1 hostname); h2=$(vsh 2 hostname)
if [ "$h1" = "$P-h1" ] && [ "$h2" = "$P-h2" ]; then pass "hostnames $h1 / $h2"; else fail "hostnames '$h1' / '$h2'"; fi
u1=$(vsh 1 capabilities | sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' | head -n 1)
u2=$(vsh 2 capabilities | sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' | head -n 1)
if [ -n "$u1" ] && [ "$u1" != "$u2" ]; then pass "distinct host UUIDs"; else fail "host UUIDs '$u1' / '$u2'"; fi
r=$("$VH" in-net 2 virsh -q -c "$("$VH" tcp-uri 1)" hostname 2>&1 || true)
if [ "$r" = "$P-h1" ]; then pass "host 2 reaches host 1 over TCP"; else fail "tcp from host 2 to host 1: $r"; fi

# 4. a guest on host 1
mkdir -p "$DISK"
"$VH" domain-xml "$DOM" "$DISK" "$CACHE" "$DISK/$DOM.xml"
vsh 1 define "$DISK/$DOM.xml" >/dev/null
l1=$(vsh 1 list --all --name | xargs); l2=$(vsh 2 list --all --name | xargs)
if [ "$l1" = "$DOM" ] && [ -z "$l2" ]; then pass "domain defined on host 1 only"
else fail "domain lists: host 1 '$l1', host 2 '$l2'"; fi
t0=$(now_ms)
vsh 1 start "$DOM" >/dev/null
tick=$("$VH" wait-tick "$DISK" "$DOM" 3 90)
pass "guest ticking on host 1 (tick $tick, $(( $(now_ms) - t0 )) ms after start)"
c1=$("$VH" counter "$DISK" "$DOM")
if [ "$c1" -ge 3 ]; then pass "disk counter $c1"; else fail "disk counter '$c1' < 3"; fi

# 5. live migration 1 -> 2
before=$("$VH" wait-tick "$DISK" "$DOM" 0 1)
t0=$(now_ms)
vsh 1 migrate --live --p2p --persistent --unsafe "$DOM" "$("$VH" tcp-uri 2)" "tcp://198.19.0.2"
pass "live migration in $(( $(now_ms) - t0 )) ms ($(vsh 2 domjobinfo --completed "$DOM" | awk -F: '/Total downtime/ { gsub(/ +/, " "); print "downtime" $2 }'))"
s2=$(vsh 2 domstate "$DOM"); s1=$(vsh 1 domstate "$DOM" 2>&1 || true)
if [ "$s2" = running ] && [ "$s1" != running ]; then pass "running on host 2 only (host 1: $s1)"
else fail "states after migration: host 1 '$s1', host 2 '$s2'"; fi
after=$("$VH" wait-tick "$DISK" "$DOM" $((before + 3)) 30)
pass "still ticking after migration ($before -> $after)"
c2=$("$VH" counter "$DISK" "$DOM")
if [ "$c2" -gt "$c1" ] && [ "$c2" -ge $((before + 2)) ]; then pass "disk counter continues ($c1 -> $c2)"
else fail "disk counter $c1 -> $c2 (ticks $before -> $after)"; fi
n=$(grep -ac EVOS-INIT-START "$DISK/$DOM.serial.log" || true)
if [ "$n" = 1 ]; then pass "no guest reboot"; else fail "guest booted $n times"; fi
if bad=$(check_ticks_consecutive); then pass "ticks consecutive 1..$after"; else fail "ticks not consecutive: $bad"; fi
