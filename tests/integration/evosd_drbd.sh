#!/bin/bash
# evosd_drbd.sh EVOSD DRBD_SIM - evosd follows drbdsetup events2 (docs/evosd.md, "DRBD events") on
# the drbd simulator, a test program standing in for drbdadm/drbdsetup: evosd runs one events2
# child through a test wrapper (drbdsetup = the wrapper; the wrapper logs its calls and can print
# garbage first on an events2 call, then execs the simulator). Checks: a role change and a disconnect made with the
# simulator show on evosd's socket ({"op":"mirror"}) and on /metrics; scrapes do not run drbdsetup
# while the stream is followed; the events2 child killed by its PID (found under evosd's PID in
# /proc) is started again and the state is right again; garbage on the stream is logged and
# counted while the socket answers; a stream that prints only garbage is stopped and restarted; one
# that hangs before its initial state likewise.
# Waits have generous deadlines; nothing is timed. Processes are signalled by their PIDs only.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=../support/evosd-client.sh
source "$(dirname "$(readlink -f "$0")")/../support/evosd-client.sh"
evosd=$(readlink -f "${1:?usage: evosd_drbd.sh EVOSD DRBD_SIM}")
sim=$(readlink -f "${2:?usage: evosd_drbd.sh EVOSD DRBD_SIM}")
passes=0 fails=0
pass() { passes=$((passes + 1)); echo "ok: $*"; }
fail() { fails=$((fails + 1)); echo "FAIL: $*"; }
work=$(mktemp -d /tmp/evos-evosd-drbd.XXXXXX)
evosd_pid=""
cleanup() { [[ -n $evosd_pid ]] && kill -TERM "$evosd_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/bin" "$work/world" "$work/rec"
mkdir -m 0700 "$work/run"
ln -s "$sim" "$work/bin/drbdadm"
ln -s "$sim" "$work/bin/drbd-sim"
# The wrapper evosd runs as its drbdsetup: every call logged; with $work/garbage present, that many
# unreadable lines first (the file removed); with $work/only-garbage, garbage and never a real line;
# with $work/hang, silence (a drbdsetup hung before its initial state).
cat >"$work/bin/drbdsetup" <<W
#!/bin/bash
echo "\$*" >> "$work/calls.log"
if [[ \$1 == events2 && -e "$work/hang" ]]; then exec sleep 3600; fi
if [[ \$1 == events2 && -e "$work/only-garbage" ]]; then while :; do echo '%%% garbage %%%' || exit 0; sleep 0.01; done; fi
if [[ \$1 == events2 && -e "$work/garbage" ]]; then n=\$(cat "$work/garbage"); rm -f "$work/garbage"; for ((i = 0; i < n; i++)); do echo "#### not events2 \$i"; done; fi
exec -a drbdsetup "$sim" "\$@"
W
chmod +x "$work/bin/drbdsetup"
export EVOS_DRBD_SIM_DIR=$work/world EVOS_DRBD_SIM_EVENTS_SECONDS=3600
as() { local node=$1; shift; EVOS_DRBD_SIM_NODE=$node "$@"; }
instant=1099511627776
"$work/bin/drbd-sim" ctl init r0 alpha:0 beta:1 --rate-kib-s "$instant" >/dev/null || { echo "FAIL: drbd-sim ctl init"; exit 1; }
as alpha "$work/bin/drbdadm" up r0 && as beta "$work/bin/drbdadm" up r0 || { echo "FAIL: drbdadm up"; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
EVOS_DRBD_SIM_NODE=alpha "$evosd" --socket "$work/run/evosd.sock" --uri test:///default --node alpha --no-report --no-corosync-events \
    --records "$work/rec" --metrics-listen "127.0.0.1:$port" --history off --drbdsetup "$work/bin/drbdsetup" \
    >"$work/log" 2>&1 &
evosd_pid=$!

ask() { evosd_ask "$work/run/evosd.sock" "$1"; }
field() { json_field "$1"; }
mirror() { ask '{"op":"mirror","name":"r0"}'; }
scrape() { http_get "http://127.0.0.1:$port/metrics"; }
# wait_for SECONDS DESCRIPTION CMD...: until CMD succeeds (a generous deadline, not a timing check)
wait_for() { local s=$1; shift 2; local end=$((SECONDS + s)); while ((SECONDS < end)); do "$@" && return 0; sleep 0.1; done; return 1; }
role_is() { [[ $(mirror | field 'd.get("fresh") and d.get("role")') == "$1" ]]; }
conn_is() { [[ $(mirror | field 'd.get("fresh") and d["connections"][0]["state"]') == "$1" ]]; }
metric_has() { scrape | grep -qF -- "$1"; }
events2_child() {  # the PID of evosd's drbdsetup events2 child (the wrapper exec'd the simulator)
    local p
    for p in $(cat /proc/"$evosd_pid"/task/*/children 2>/dev/null); do
        if tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | grep -q 'events2'; then
            echo "$p" >>"$work/children"    # a file: this runs in $(...) subshells
            echo "$p"
            return 0
        fi
    done
    return 1
}

if wait_for 20 "fresh" role_is Secondary; then pass "the followed mirror is on the socket: $(mirror)"; else fail "no fresh mirror answer: $(mirror); log: $(tail -5 "$work/log")"; fi

as alpha "$work/bin/drbdadm" primary r0 || fail "drbdadm primary"
if wait_for 20 "Primary" role_is Primary; then pass "drbdadm primary shows on the socket"; else fail "socket still says $(mirror)"; fi
if wait_for 20 "metrics" metric_has 'evos_mirror_role{mirror="r0",role="Primary"} 1'; then pass "and on /metrics"; else fail "metrics: $(scrape | grep evos_mirror_role)"; fi
as alpha "$work/bin/drbdadm" disconnect r0 || fail "drbdadm disconnect"
if wait_for 20 "StandAlone" conn_is StandAlone; then pass "a disconnect shows on the socket (StandAlone)"; else fail "socket: $(mirror)"; fi
if wait_for 20 "metrics" metric_has 'evos_mirror_connection_state{mirror="r0",peer="beta",state="StandAlone"} 1'; then
    pass "and on /metrics"; else fail "metrics: $(scrape | grep evos_mirror_connection_state)"; fi
scrape >/dev/null; scrape >/dev/null
if grep -q '^status' "$work/calls.log"; then fail "a scrape polled drbdsetup while following: $(grep '^status' "$work/calls.log" | head -3)"
else pass "scrapes read the followed state (no drbdsetup status calls: $(sort -u "$work/calls.log" | tr '\n' ';'))"; fi
metric_has 'evos_daemon_drbd_events2_synced 1' && pass "evos_daemon_drbd_events2_synced 1" || fail "$(scrape | grep drbd_events2)"

# Kill the events2 child by its PID: evosd starts it again, and the state is right again.
child=$(events2_child) || fail "no events2 child under evosd $evosd_pid"
if [[ -n ${child:-} ]]; then
    kill -KILL "$child"
    as alpha "$work/bin/drbdadm" connect r0 || fail "drbdadm connect"
    as alpha "$work/bin/drbdadm" secondary r0 || fail "drbdadm secondary"
    new_child() { local c; c=$(events2_child) && [[ $c != "$child" ]]; }
    if wait_for 30 "restart" new_child; then pass "the killed events2 child ($child) was started again ($(events2_child))"; else fail "no new events2 child; log: $(tail -5 "$work/log")"; fi
    if wait_for 30 "state" role_is Secondary && wait_for 30 "state" conn_is Connected; then pass "the state is right again after the restart (Secondary, Connected)"; else fail "after restart: $(mirror)"; fi
    grep -q "DRBD events: drbdsetup events2 killed by signal 9" "$work/log" && pass "the child's death is logged" || fail "log: $(grep 'DRBD events' "$work/log" | tail -3)"
    if wait_for 20 "restarts" metric_has 'evos_daemon_drbd_events2_restarts_total 1'; then pass "evos_daemon_drbd_events2_restarts_total 1"; else fail "$(scrape | grep restarts)"; fi
fi

# Garbage on the stream: logged and counted, the rest runs on.
echo 3 >"$work/garbage"
child=$(events2_child) && kill -KILL "$child"
garbage_counted() { metric_has 'evos_daemon_drbd_events2_garbage_lines_total 3'; }
if wait_for 40 "garbage" garbage_counted; then pass "3 garbage lines counted"; else fail "$(scrape | grep garbage)"; fi
grep -q "printed a line evos cannot read" "$work/log" && pass "garbage logged: $(grep -m1 -o 'printed a line evos cannot read.*' "$work/log" | head -c 160)" || fail "no garbage in the log"
if wait_for 30 "state" role_is Secondary; then pass "after garbage the stream is followed again"; else fail "$(mirror)"; fi
[[ $(ask '{"op":"ping"}' | field 'd["ok"]') == true ]] && kill -0 "$evosd_pid" && pass "evosd runs on and answers" || fail "evosd after garbage"

# A stream of nothing but garbage: not fresh meanwhile, stopped and started again.
touch "$work/only-garbage"
restarts_before=$(scrape | awk '/^evos_daemon_drbd_events2_restarts_total/ {print $2}')
child=$(events2_child) && kill -KILL "$child"
stale() { [[ $(mirror | field 'd["fresh"]') == false ]]; }
if wait_for 30 "stale" stale; then pass "while the stream prints garbage the mirror is not fresh: $(mirror | field 'd["drbd"]["problem"]')"; else fail "$(mirror)"; fi
stopped_for_garbage() { grep -q "lines that cannot be read; stopped it" "$work/log"; }
if wait_for 60 "garbage limit" stopped_for_garbage; then pass "a stream of garbage is stopped: $(grep -m1 -o 'drbdsetup events2 printed [0-9]* lines.*' "$work/log")"; else fail "no garbage stop; log: $(tail -5 "$work/log")"; fi
metric_has 'evos_mirror_role{mirror="r0",role="Secondary"} 1' && pass "/metrics falls back to polling drbdsetup while not fresh" || fail "$(scrape | grep evos_mirror_role)"
grep -q '^status --json all' "$work/calls.log" && pass "(it ran drbdsetup status --json all)" || fail "no poll: $(sort -u "$work/calls.log")"
rm -f "$work/only-garbage"
more_restarts() { local n; n=$(scrape | awk '/^evos_daemon_drbd_events2_restarts_total/ {print $2}'); [[ -n $n ]] && ((n >= restarts_before + 2)); }
if wait_for 90 "recovery" more_restarts && wait_for 60 "state" role_is Secondary; then pass "after the garbage stops evosd follows again"; else fail "$(mirror)"; fi

# A drbdsetup that hangs before its initial state: not fresh, stopped after 30 s, started again.
touch "$work/hang"
child=$(events2_child) && kill -KILL "$child"
hang_stopped() { grep -q "printed no initial state within 30 s; stopped it" "$work/log"; }
if wait_for 150 "hang" hang_stopped; then pass "a hung events2 is stopped: $(grep -m1 -o 'drbdsetup events2 printed no initial state.*' "$work/log" | head -c 120)"; else fail "no hang stop; log: $(tail -3 "$work/log")"; fi
rm -f "$work/hang"
if wait_for 120 "state" role_is Secondary; then pass "and evosd follows again after it"; else fail "$(mirror)"; fi

running=$(events2_child) && pass "an events2 child runs at the stop ($running)" || fail "no events2 child before SIGTERM"
kill -TERM "$evosd_pid"
wait "$evosd_pid"; rc=$?
evosd_pid=""
[[ $rc == 0 ]] && pass "SIGTERM: exit 0" || fail "exit $rc"
left="" seen=0
for p in $(sort -u "$work/children" 2>/dev/null); do seen=$((seen + 1)); [[ -d /proc/$p ]] && grep -qs events2 /proc/"$p"/cmdline && left+=" $p"; done
((seen >= 5)) && [[ -z $left ]] && pass "none of the $seen events2 children seen outlived evosd" || fail "children seen: $seen, left:$left"
echo "evosd_drbd: $passes passed, $fails failed"
((fails == 0 && passes > 0))
