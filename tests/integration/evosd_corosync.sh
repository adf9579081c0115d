#!/bin/bash
# evosd_corosync.sh EVOSD - evosd follows Corosync's membership and quorum through libquorum
# (docs/evosd.md, "Corosync") against a real single-node corosync in a network and mount namespace
# of the test's own (unshare: libqb's IPC sockets are abstract, so per network namespace, and its
# ring buffers live in a private /dev/shm; nothing of the host's is touched). Checks:
#   1. evosd started before corosync: the status says not connected and why, logged once;
#   2. corosync started: evosd connects by itself (backoff), the status and /metrics have the one
#      member by name, quorate; promtool accepts the exposition;
#   3. a quorum change (quorum.expected_votes set to 2 in cmap, which votequorum follows, then back
#      to 1; corosync-quorumtool -e refuses more than the votes there are) is in evosd's status
#      within 2 s of the command, without a scrape (the log line comes from the notification), and
#      counted;
#   4. corosync SIGSTOPped: the socket and /metrics still answer at once (the followed view, no
#      Corosync call); SIGCONT;
#   5. corosync killed (-9): evosd logs the loss, the status says not connected, the metrics
#      fall back (evos_daemon_corosync_connected 0); corosync started again: reconnected, counted;
#   6. SIGTERM to evosd while corosync is SIGSTOPped: evosd exits within 10 s all the same.
# Needs root (unshare) and corosync. Processes are signalled by their PIDs only.
# "A && pass || fail" is intended (pass never fails)
# shellcheck disable=SC2015
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=../support/evosd-client.sh
source "$(dirname "$(readlink -f "$0")")/../support/evosd-client.sh"
evosd=$(readlink -f "${1:?usage: evosd_corosync.sh EVOSD}")
[[ -x $evosd && -f $evosd ]] || { echo "FAIL: no evosd at '$1'"; exit 1; }
[[ $(id -u) == 0 ]] || { echo "SKIPPED: needs root (unshare)"; exit 77; }
# scripts/install-deps.sh installs corosync (the lab's): missing, the test fails, it does not skip
command -v corosync >/dev/null && command -v corosync-cmapctl >/dev/null || { echo "FAIL: corosync or corosync-cmapctl missing"; exit 1; }
if [[ -z ${EVOS_COROSYNC_TEST_INSIDE:-} ]]; then
    # Again inside new namespaces; the script's own variable marks the inner run (a test seam of the
    # test, not of evosd).
    exec env EVOS_COROSYNC_TEST_INSIDE=1 unshare --net --mount --fork "$0" "$evosd"
fi
passes=0 fails=0
pass() { passes=$((passes + 1)); echo "ok: $*"; }
fail() { fails=$((fails + 1)); echo "FAIL: $*"; }
work=$(mktemp -d /tmp/evos-evosd-corosync.XXXXXX)
evosd_pid="" cs_pid=""
cleanup() {
    [[ -n $cs_pid ]] && kill -CONT "$cs_pid" 2>/dev/null
    [[ -n $evosd_pid ]] && kill -TERM "$evosd_pid" 2>/dev/null
    [[ -n $cs_pid ]] && kill -TERM "$cs_pid" 2>/dev/null
    wait 2>/dev/null
    if ((fails > 0)); then echo "evosd's log:"; tail -n 40 "$work/log" | sed 's/^/    /'; fi
    rm -rf "$work"
    echo "evosd_corosync: $passes passed, $fails failed"
    ((fails == 0))
}
trap cleanup EXIT
ip link set lo up
mount -t tmpfs tmpfs /dev/shm && mount -t tmpfs tmpfs /var/lib/corosync || { fail "private /dev/shm and /var/lib/corosync"; exit 1; }
mkdir -p "$work/rec"
mkdir -m 0700 "$work/run"
cat >"$work/corosync.conf" <<C
totem {
    version: 2
    cluster_name: evostest
    transport: knet
    crypto_cipher: none
    crypto_hash: none
    token: 1000
}
nodelist {
    node {
        ring0_addr: 127.0.0.1
        nodeid: 1
        name: solo
    }
}
quorum {
    provider: corosync_votequorum
}
logging {
    to_logfile: yes
    logfile: $work/corosync.log
    to_stderr: no
    to_syslog: no
    timestamp: hires
}
C
cat >"$work/evosd.conf" <<C
corosync_reconnect_min = 100ms
corosync_reconnect_max = 1s
C
start_corosync() {
    corosync -f -c "$work/corosync.conf" >>"$work/corosync.stdout" 2>&1 </dev/null &
    cs_pid=$!
}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$evosd" --config "$work/evosd.conf" --socket "$work/run/evosd.sock" --uri test:///default --node solo --no-report \
    --records "$work/rec" --metrics-listen "127.0.0.1:$port" --history off --no-drbd-events >"$work/log" 2>&1 &
evosd_pid=$!
sleep 0.5
kill -0 "$evosd_pid" 2>/dev/null || { fail "evosd did not start"; exit 1; }

ask() { evosd_ask "$work/run/evosd.sock" "$1"; }
status() { ask '{"op":"status"}'; }
field() { json_field "$1"; }
cs() { status | field "d['corosync'].get('$1')"; }
scrape() { http_get "http://127.0.0.1:$port/metrics"; }
metric_has() { scrape | grep -qF -- "$1"; }
# wait_for SECONDS CMD...: until CMD succeeds (a generous deadline, not a timing check)
wait_for() { local s=$1; shift; local end=$((SECONDS + s)); while ((SECONDS < end)); do "$@" && return 0; sleep 0.1; done; return 1; }
now_ms() { date +%s%3N; }
is() { [[ $(cs "$1") == "$2" ]]; }

# --- 1. no corosync yet ------------------------------------------------------------------------
wait_for 10 is followed true && pass "the status has the Corosync follower" || fail "status: $(status)"
wait_for 10 grep -q "corosync: quorum_initialize: cannot connect" "$work/log" && pass "evosd says corosync is not running" || fail "no such log line"
is connected false && [[ $(cs problem) == *"is it running"* ]] && pass "not connected, and why: $(cs problem)" || fail "status: $(status)"
sleep 1.5   # several retries at 100 ms..1 s
n=$(grep -c "cannot connect to corosync" "$work/log")
[[ $n == 1 ]] && pass "the problem is logged once over several retries" || fail "logged $n times"

# --- 2. corosync starts: evosd connects by itself ----------------------------------------------
start_corosync
members_solo() { [[ $(status | field "[n['name'] for n in d['corosync'].get('nodes', []) if n['member']]") == '["solo"]' ]]; }
wait_for 20 members_solo && pass "evosd connected by itself: member solo" || fail "status: $(status)"
is synced true && is quorate true && is cluster_name evostest && pass "synced, quorate, cluster evostest" || fail "status: $(status)"
[[ $(status | field "d['corosync']['nodes'][0]['local']") == true ]] && pass "solo is the local node" || fail "status: $(status)"
s=$(scrape)
grep -qx 'evos_corosync_quorate 1' <<<"$s" && grep -q '^evos_corosync_member_online{node="solo",nodeid="1"} 1' <<<"$s" &&
    grep -qx 'evos_daemon_corosync_connected 1' <<<"$s" && pass "/metrics: quorate, solo online, follower connected" ||
    fail "$(grep corosync <<<"$s")"
if command -v promtool >/dev/null; then
    out=$(promtool check metrics <<<"$s" 2>&1) && pass "promtool check metrics: clean (with the followed Corosync families)" || fail "promtool: $out"
else
    fail "promtool missing (scripts/install-deps.sh installs prometheus)"
fi
grep -q "corosync: following membership and quorum of cluster 'evostest': members solo (1); quorate" "$work/log" &&
    pass "the first view is logged" || fail "no first-view line"

# --- 3. quorum changes, seen by the notification -----------------------------------------------
t=$(now_ms)
corosync-cmapctl -s quorum.expected_votes u32 2 >/dev/null 2>&1 || fail "corosync-cmapctl -s quorum.expected_votes u32 2"
wait_for 10 is quorate false && pass "expected votes 2: evosd says not quorate" || fail "status: $(status)"
lag=$(( $(cs changed_unix_ms) - t ))
((lag >= 0 && lag < 2000)) && pass "evosd saw it $lag ms after the command" || fail "changed_unix_ms is $lag ms after the command"
grep -q "corosync: quorum lost" "$work/log" && pass "logged: quorum lost" || fail "no 'quorum lost' line"
corosync-cmapctl -s quorum.expected_votes u32 1 >/dev/null 2>&1 || fail "corosync-cmapctl -s quorum.expected_votes u32 1"
wait_for 10 is quorate true && pass "expected votes 1: quorate again" || fail "status: $(status)"
wait_for 5 metric_has 'evos_daemon_corosync_changes_total 2' && pass "two changes counted" || fail "$(scrape | grep corosync_changes_total)"
metric_has 'evos_corosync_quorate 1' && pass "/metrics follows: quorate 1" || fail "$(scrape | grep quorate)"

# --- 4. corosync stopped: nothing of evosd waits for it -----------------------------------------
kill -STOP "$cs_pid"
t=$(now_ms); st=$(status); dt=$(( $(now_ms) - t ))
[[ $(field "d['corosync']['quorate']" <<<"$st") == true ]] && ((dt < 2000)) && pass "the socket answers while corosync is stopped ($dt ms)" || fail "status after $dt ms: $st"
t=$(now_ms); s=$(scrape); dt=$(( $(now_ms) - t ))
grep -qx 'evos_corosync_quorate 1' <<<"$s" && grep -q 'evos_scrape_source_up{source="corosync"} 1' <<<"$s" &&
    pass "a scrape while corosync is stopped takes the followed view ($dt ms)" || fail "after $dt ms: $(grep corosync <<<"$s")"
kill -CONT "$cs_pid"

# --- 5. corosync killed and started again: evosd reconnects -------------------------------------
kill -KILL "$cs_pid"; wait "$cs_pid" 2>/dev/null; cs_pid=""
wait_for 10 is connected false && pass "corosync killed: evosd is not connected ($(cs problem))" || fail "status: $(status)"
grep -q "corosync: .*membership and quorum unknown until connected again" "$work/log" && pass "the loss is logged" || fail "no loss line"
wait_for 10 metric_has 'evos_daemon_corosync_connected 0' && pass "/metrics: follower not connected" || fail "$(scrape | grep corosync)"
start_corosync
wait_for 20 is synced true && pass "corosync started again: evosd reconnected" || fail "status: $(status)"
wait_for 5 metric_has 'evos_daemon_corosync_reconnects_total 1' && pass "one reconnect counted" || fail "$(scrape | grep reconnects)"
grep -q "corosync: reconnected" "$work/log" && pass "the reconnect is logged" || fail "no reconnect line"

# --- 6. evosd stops even while corosync is stopped ----------------------------------------------
kill -STOP "$cs_pid"
kill -TERM "$evosd_pid"
t=$(now_ms)
for ((i = 0; i < 100; i++)); do kill -0 "$evosd_pid" 2>/dev/null || break; sleep 0.1; done
dt=$(( $(now_ms) - t ))
if ! kill -0 "$evosd_pid" 2>/dev/null; then
    wait "$evosd_pid"; rc=$?; evosd_pid=""
    [[ $rc == 0 ]] && pass "SIGTERM with corosync stopped: evosd exited 0 after $dt ms" || fail "evosd exited $rc"
else
    fail "evosd still runs $dt ms after SIGTERM"
fi
kill -CONT "$cs_pid"
