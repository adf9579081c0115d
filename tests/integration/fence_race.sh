#!/bin/bash
# fence_evos_race as Pacemaker's fencer runs it (options as key=value lines on stdin; argv for
# people): meta-data valid against fence-agents' schema (/usr/share/cluster/relaxng/metadata.rng)
# with every parameter; validate-all refuses bad and hostile values (exit 1, a message naming the
# parameter); on/monitor/status/list; and off/reboot timing in a private network namespace
# (unshare -n: lo up, a veth 198.18.250.1/24 where 198.18.250.2 and .3 answer nobody):
#   target answers + runs more VMs        -> sleeps the delay (1 s)
#   target answers + runs fewer VMs       -> returns at once
#   target silent (198.18.250.2)          -> returns at once (dead: no delay)
#   no test IP reached (198.18.250.3)     -> sleeps the delay (isolated), even with a dead target
#   cluster status unreadable (no crm_mon)-> sleeps the delay (unknown counts)
#   bad parameters at off                 -> sleeps the delay and exits 0 (never fails a level)
# The VM counts come from a fake crm_mon first on the test's own PATH (the agent runs crm_mon
# through PATH, as Pacemaker's fencer gives it): it prints tests/data/pacemaker's XML. The agent
# obeys no test variable (EVOS_RACE_STATUS_XML, once a hook, is ignored: checked below).
# Usage: fence_race.sh AGENT. Needs root (network namespace, raw ICMP socket).
set -u
agent=$(readlink -f "$1")
here=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "FAIL: fence_race.sh needs root (network namespace, raw ICMP)"; exit 1; }
if [ "${2:-}" != --inside ]; then
  exec unshare --net -- "$0" "$1" --inside
fi
ip link set lo up || { echo "FAIL: lo up"; exit 1; }
# A veth pair whose far end has no address: ARP for 198.18.250.2 (and .3) gets no answer, so
# echo requests to them are lost, as to a dead node.
ip link add race0 type veth peer name race1 && ip addr add 198.18.250.1/24 dev race0 \
  && ip link set race1 up && ip link set race0 up || { echo "FAIL: veth pair"; exit 1; }

work=$(mktemp -d /tmp/evos-fence-race.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"   # an empty PATH directory: no crm_mon
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }

# n1 runs one VM (ocf:evos:vm), n2 none.
status=$here/tests/data/pacemaker/crm_mon-two-nodes.xml
[ -r "$status" ] || { echo "FAIL: no $status"; exit 1; }
# Fake crm_mon: the status XML for the call the agent makes (evos::cluster::read_pacemaker_status),
# a usage error for any other; and one that fails as crm_mon does without a cluster.
mkdir -p "$work/pcmk" "$work/pcmk-down"
cat > "$work/pcmk/crm_mon" <<FAKE
#!/bin/sh
case " \$* " in *" --output-as=xml "*) exec cat '$status' ;; esac
echo "crm_mon (fake): unexpected arguments: \$*" >&2; exit 64
FAKE
printf '#!/bin/sh\necho "crm_mon: Connection to cluster failed: Transport endpoint is not connected" >&2\nexit 102\n' \
  > "$work/pcmk-down/crm_mon"
chmod 755 "$work/pcmk/crm_mon" "$work/pcmk-down/crm_mon"
with_status="PATH=$work/pcmk:/usr/bin:/bin"
cluster_down="PATH=$work/pcmk-down:/usr/bin:/bin"

run() {  # run STDIN_TEXT [ENV...]: sets out, rc, elapsed (ms)
  local input=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  out=$(printf '%s\n' "$input" | env -i PATH="$work/bin:/usr/bin:/bin" "$@" "$agent" 2>&1)
  rc=$?
  t1=$(date +%s%N)
  elapsed=$(( (t1 - t0) / 1000000 ))
}

# --- meta-data -------------------------------------------------------------------------------
"$agent" -o metadata > "$work/meta.xml"; rc=$?
[ $rc = 0 ] && xmllint --noout "$work/meta.xml" 2>/dev/null && pass "metadata: exit 0, well-formed XML" \
  || fail "metadata: rc $rc, not well-formed"
if [ -r /usr/share/cluster/relaxng/metadata.rng ]; then
  xmllint --noout --relaxng /usr/share/cluster/relaxng/metadata.rng "$work/meta.xml" 2>/dev/null \
    && pass "metadata: valid against fence-agents' metadata.rng" || fail "metadata: not valid against metadata.rng"
fi
for p in action plug peer_addresses test_ips delay timeout power_timeout; do
  [ "$(xmllint --xpath "count(//parameter[@name='$p'])" "$work/meta.xml")" = 1 ] \
    && pass "metadata: parameter $p" || fail "metadata: no parameter $p"
done
for a in on off reboot monitor status list metadata validate-all; do
  [ "$(xmllint --xpath "count(//actions/action[@name='$a'])" "$work/meta.xml")" = 1 ] \
    && pass "metadata: action $a" || fail "metadata: no action $a"
done
run "action=metadata"
[ $rc = 0 ] && cmp -s <(printf '%s\n' "$out") "$work/meta.xml" && pass "metadata on stdin: the same document" \
  || fail "metadata on stdin: rc $rc"

# --- validate-all ----------------------------------------------------------------------------
good="peer_addresses=n1=127.0.0.1 n2=198.18.250.2
test_ips=198.18.250.1"
run "action=validate-all
$good
pcmk_host_check=none
some_unknown_key=\$(touch $work/canary)"
[ $rc = 0 ] && pass "validate-all: good parameters (unknown keys ignored)" || fail "validate-all good: rc $rc: $out"
bad() {  # bad PARAM VALUE
  local shown
  shown=$(printf %q "${2:0:50}")
  run "action=validate-all
peer_addresses=n1=127.0.0.1 n2=198.18.250.2
test_ips=198.18.250.1
$1=$2"
  if [ $rc = 1 ] && grep -q "parameter '$1'" <<<"$out"; then pass "validate-all refuses $1=$shown"
  else fail "validate-all $1=$shown: rc $rc: $out"; fi
}
bad peer_addresses "n1=127.0.0.1; touch $work/canary"
bad peer_addresses "n1=\$(touch $work/canary)"
bad peer_addresses "n\`touch $work/canary\`=127.0.0.1"
bad peer_addresses "n1=gw.example"
bad peer_addresses "n1=10.1"
bad peer_addresses "n1"
bad peer_addresses $'n1=127.0.0.1\tn2=127.0.0.2'
bad peer_addresses $'n1=\xff\xfe'
bad test_ips "127.0.0.1;reboot"
bad test_ips "10.1"
bad test_ips "-oProxyCommand=x"
bad delay "1 s"
bad delay "-1"
bad delay "30s"
bad timeout "5ms"
bad power_timeout "x"
run "action=validate-all
test_ips=198.18.250.1"
[ $rc = 1 ] && grep -q "'peer_addresses' is required" <<<"$out" && pass "validate-all: peer_addresses required" \
  || fail "validate-all without peer_addresses: rc $rc: $out"
[ ! -e "$work/canary" ] && pass "no hostile value was ever executed" || fail "a hostile value ran"
out=$("$agent" -o validate-all --peer-addresses "n1=127.0.0.1" --test-ips "198.18.250.1" 2>&1); rc=$?
[ $rc = 0 ] && pass "validate-all on the command line" || fail "validate-all argv: rc $rc: $out"
out=$("$agent" -o validate-all --bogus 2>&1); rc=$?
[ $rc = 1 ] && grep -q "usage" <<<"$out" && pass "argv: a mistake gets the usage (exit 1)" || fail "argv mistake: rc $rc: $out"

# --- on, monitor, status, list ---------------------------------------------------------------
run "action=on
nodename=n2
$good"
[ $rc = 0 ] && pass "on: exit 0" || fail "on: rc $rc"
run "action=monitor
$good"
[ $rc = 0 ] && pass "monitor: exit 0" || fail "monitor: rc $rc"
run "action=monitor
peer_addresses=n1=;x"
[ $rc = 0 ] && grep -q "WARNING.*peer_addresses" <<<"$out" && pass "monitor: bad parameters warn, never fail the device" \
  || fail "monitor bad params: rc $rc: $out"
run "action=list
$good"
[ $rc = 0 ] && [ "$(printf '%s\n' "$out" | sort | tr '\n' ' ')" = "n1 n2 " ] && pass "list: the nodes of peer_addresses" \
  || fail "list: rc $rc: $out"
run "action=frobnicate
$good"
[ $rc = 1 ] && grep -qi "unsupported action" <<<"$out" && pass "an unknown action fails (1)" || fail "unknown action: rc $rc: $out"

# --- off / reboot: when it delays ------------------------------------------------------------
race() {  # race NAME TARGET PEERS TESTIPS EXPECT(delay|none) [ENV...]
  local name=$1 target=$2 peers=$3 tests=$4 expect=$5; shift 5
  run "action=off
nodename=$target
plug=$target
peer_addresses=$peers
test_ips=$tests
delay=3s
timeout=300ms" "$@"
  if [ $rc != 0 ]; then fail "$name: rc $rc: $out"; return; fi
  # Only bounds that load can not break: a delay of 3 s takes at least 3 s; no delay takes the
  # ICMP round (0.3 s) and process start-up, far below 3 s even on a busy machine.
  if [ "$expect" = delay ]; then
    [ "$elapsed" -ge 2950 ] && [ "$elapsed" -lt 15000 ] && pass "$name: waited ${elapsed} ms" \
      || fail "$name: expected the 3 s delay, took ${elapsed} ms: $out"
  else
    [ "$elapsed" -lt 2950 ] && pass "$name: returned after ${elapsed} ms" \
      || fail "$name: expected no delay, took ${elapsed} ms: $out"
  fi
  grep -q "INFO: .*$target" <<<"$out" || fail "$name: the decision is not logged: $out"
}
peers="n1=127.0.0.1 n2=127.0.0.1"
race "split, target n1 runs more VMs" n1 "$peers" "198.18.250.1" delay "$with_status"
grep -q "target-busier" <<<"$out" && pass "logged: target-busier" || fail "not logged as target-busier: $out"
race "split, target n2 runs fewer VMs" n2 "$peers" "198.18.250.1" none "$with_status"
grep -q "local-busier" <<<"$out" && pass "logged: local-busier" || fail "not logged as local-busier: $out"
race "target n1 silent (dead) though it ran the VM" n1 "n1=198.18.250.2 n2=127.0.0.1" "198.18.250.1" none "$with_status"
grep -q "target-dead" <<<"$out" && pass "logged: target-dead" || fail "not logged as target-dead: $out"
race "target with two addresses, one answers" n1 "n1=198.18.250.2,127.0.0.1 n2=127.0.0.1" "198.18.250.1" delay "$with_status"
race "isolated: no test IP reached, target dead" n2 "n1=127.0.0.1 n2=198.18.250.2" "198.18.250.3" delay "$with_status"
grep -q "isolated" <<<"$out" && pass "logged: isolated" || fail "not logged as isolated: $out"
race "split, status unreadable (no crm_mon)" n2 "$peers" "198.18.250.1" delay
grep -q "counts-unknown" <<<"$out" && pass "logged: counts-unknown" || fail "not logged as counts-unknown: $out"
race "split, crm_mon fails (no cluster)" n2 "$peers" "198.18.250.1" delay "$cluster_down"
grep -q "counts-unknown" <<<"$out" && grep -q "exited with 102\|Connection to cluster failed" <<<"$out" \
  && pass "logged: counts-unknown, with crm_mon's failure" || fail "crm_mon failing: $out"
# The former test hook is not obeyed: without crm_mon the counts stay unknown (with it n2 would be
# local-busier and return at once).
race "split, EVOS_RACE_STATUS_XML set but ignored" n2 "$peers" "198.18.250.1" delay EVOS_RACE_STATUS_XML="$status"
grep -q "counts-unknown" <<<"$out" && pass "EVOS_RACE_STATUS_XML is ignored" || fail "EVOS_RACE_STATUS_XML obeyed: $out"

# reboot is the same; the target by argv too.
t0=$(date +%s%N)
out=$(env -i "$with_status" "$agent" -o reboot -n n1 \
      --peer-addresses "$peers" --test-ips 198.18.250.1 --delay 1s 2>&1); rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc = 0 ] && [ $ms -ge 900 ] && pass "reboot on the command line: delays (${ms} ms)" || fail "reboot argv: rc $rc ${ms} ms: $out"

# Failures never fail the action: a fixed delay instead.
run "action=off
nodename=n2
peer_addresses=n1=;reboot
test_ips=198.18.250.1
delay=1s"
[ $rc = 0 ] && [ "$elapsed" -ge 900 ] && grep -q "fixed delay" <<<"$out" \
  && pass "bad parameters at off: fixed delay, exit 0 (${elapsed} ms)" || fail "bad params at off: rc $rc ${elapsed} ms: $out"
run "action=off
$good
delay=1s"
[ $rc = 0 ] && [ "$elapsed" -ge 900 ] && grep -q "no target" <<<"$out" \
  && pass "off without a target: fixed delay, exit 0" || fail "off without target: rc $rc ${elapsed} ms: $out"
run "action=off
nodename=n2;reboot
$good
delay=1s"
[ $rc = 0 ] && [ "$elapsed" -ge 900 ] && grep -q "fixed delay" <<<"$out" \
  && pass "hostile target name: fixed delay, exit 0" || fail "hostile target: rc $rc ${elapsed} ms: $out"
run "action=off
nodename=n2
$good
delay=3s
power_timeout=1"
[ $rc = 0 ] && [ "$elapsed" -ge 400 ] && [ "$elapsed" -lt 2950 ] && grep -q "cut to" <<<"$out" \
  && pass "power_timeout bounds the fallback delay (3s cut to 0.5s: ${elapsed} ms)" || fail "power_timeout bound: rc $rc ${elapsed} ms: $out"

echo "$passes passed, $fails failed"
[ $fails = 0 ]
