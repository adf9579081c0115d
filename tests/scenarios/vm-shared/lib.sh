# shellcheck shell=bash disable=SC2154,SC2016
# lib.sh - helpers shared by tests/scenarios/vm-shared/run.sh and bench/failover/run.sh.
# Source it after setting build (the build dir, absolute) and kind (a word for the scratch dir's
# name). It picks the lab: name (EVOS_LAB_NAME, else s + 4 random digits, exported for evos-lab),
# vm (the guest's name), work (a private scratch dir under build), stage and lab (the staged
# evos-lab); and defines base, shared, n1, n2, rsc (the evos resource id) and the functions below.
# EVOS_LAB_BASE and EVOS_LAB_STAGE are unset: the lab's state dir and stage are this run's own.
# Nothing
# here signals a process it did not start: the lab's own processes are only ever signalled
# through `lab exec NODE kill PID-inside-the-node` by the callers.

name=${EVOS_LAB_NAME:-s$(printf '%04d' $((RANDOM % 10000)))}
export EVOS_LAB_NAME=$name
unset EVOS_LAB_BASE EVOS_LAB_STAGE
export EVOS_LAB_CACHE=${EVOS_LAB_CACHE:-$build/lab-cache}
vm=${name}vm
work=$(mktemp -d "$build/$kind.$name.XXXXXX")
stage=$work/root/usr      # evos from its Debian packages: stage_evos
lab=$stage/lib/evos/evos-lab
base=/tmp/evos-lab-$name
shared=$base/shared
n1=${name}1 n2=${name}2
rsc=vm-$vm
here_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
virt_hosts=$here_lib/../../support/virt-hosts.sh
serial=$shared/$vm.serial.log

# stage_evos: unpack evos's Debian packages (built once per source content) into the stage.
stage_evos() { [[ $("$here_lib/../../support/stage-debs.sh" "$here_lib/../../.." "$build" "$work/root") == "$stage" ]]; }
now_ms() { date +%s%3N; }
secs() { local d=$(( $(now_ms) - $1 )); printf '%d.%02d' $((d / 1000)) $(((d % 1000) / 10)); }
L() { "$lab" "$@"; }
X() { "$lab" exec "$@"; }     # X NODE CMD...
other() { if [[ $1 == "$n1" ]]; then echo "$n2"; else echo "$n1"; fi; }
# wait_for SECONDS CMD...: poll CMD (every 0.2 s) until it succeeds
wait_for() {
    local end=$(( $(now_ms) + $1 * 1000 ))
    shift
    until "$@" >/dev/null 2>&1; do
        (( $(now_ms) < end )) || return 1
        sleep 0.2
    done
}
bootid() { cat "$base/$1/bootid" 2>/dev/null; }
# race_verdicts: what fence_evos_race said on both nodes (the fencer logs its stderr)
race_verdicts() {
    grep -h 'fence_evos_race.*\(isolated\|target-\|local-busier\|counts-unknown\|falling back\)' \
        "$base/$n1/log/pacemaker/pacemaker.log" "$base/$n2/log/pacemaker/pacemaker.log" 2>/dev/null | tail -n 4
}
# load_fencing_race DELAY: the fence race device as an administrator sets it up: before the lab's
# one power switch device, which fences both nodes; the nodes' corporate addresses (docs/lab.md)
# and the lab's test IPs.
load_fencing_race() {
    X "$n1" evosctl cluster fence-race enable --peers "$n1=198.18.1.1 $n2=198.18.1.2" \
        --test-ips "198.18.1.254 198.18.1.253 198.18.1.252" --device "$n1=lab-fence" --device "$n2=lab-fence" --delay "$1" >/dev/null
}
node_on() { X "$1" true >/dev/null 2>&1; }
# both_online NODE: NODE sees both nodes online, a quorate partition, a DC
both_online() {
    local x
    x=$(X "$1" timeout 20 crm_mon -1 --output-as=xml 2>/dev/null) || return 1
    grep -q '<current_dc present="true"[^>]* with_quorum="true"' <<<"$x" &&
        grep -q "<node name=\"$n1\" id=\"[0-9]*\" online=\"true\"" <<<"$x" &&
        grep -q "<node name=\"$n2\" id=\"[0-9]*\" online=\"true\"" <<<"$x"
}
cluster_formed() { both_online "$n1" && both_online "$n2"; }
# cluster_state: what each node says of the cluster, for a failure message (CI keeps only the
# test's output): power, Pacemaker's one-line view, the last PDU actions and boot log lines
cluster_state() {
    local n
    for n in "$n1" "$n2"; do
        if node_on "$n"; then
            echo "  $n on, boot $(bootid "$n"): $(X "$n" timeout 20 crm_mon -1 -n 2>&1 | grep -v '^ *$' | head -n 25 | tr '\n' '|')"
        else
            echo "  $n off"
        fi
        echo "  $n init.log: $(tail -n 4 "$base/$n/init.log" 2>/dev/null | tr '\n' '|')"
    done
    echo "  pdu.log: $(tail -n 8 "$base/pdu/pdu.log" 2>/dev/null | tr '\n' '|')"
}
dc_of() { X "$1" timeout 20 crm_mon -1 --output-as=xml 2>/dev/null | sed -n 's/.*<current_dc present="true"[^>]* name="\([^"]*\)".*/\1/p'; }
# settled NODE: no transition pending (crm_resource --wait)
settled() { X "$1" timeout 150 crm_resource --wait --timeout 120s >/dev/null 2>&1; }
# located [RSC]: the nodes Pacemaker says run RSC (asked of any node that answers), sorted
located() {
    local r=${1:-$rsc} n out answered=no
    for n in "$n1" "$n2"; do
        out=$(X "$n" timeout 20 crm_resource --locate --resource "$r" --quiet 2>/dev/null) || continue
        answered=yes
        # A node whose Pacemaker has just started (a fenced node rebooting) answers before the DC
        # gave it the status section: "nowhere". Only if no node knows better is that the answer.
        [[ -n ${out//[[:space:]]/} ]] || continue
        echo "$out" | xargs -n1 | sort | xargs
        return 0
    done
    [[ $answered == yes ]]
}
domstate() { X "$1" timeout 20 virsh -q -c qemu:///system domstate "$vm" 2>/dev/null | head -n 1; }
runs_on() { [[ $(located "${2:-$rsc}") == "$1" && $(domstate "$1") == running ]]; }   # runs_on NODE [RSC]

# --- the guest's serial log (tests/support/build-guest.sh: a tick is on disk before it is printed)
last_tick() { grep -ao 'EVOS-TICK [0-9][0-9]* uptime=' "$serial" 2>/dev/null | tail -n 1 | awk '{print $2}'; }
init_count() { grep -ao 'EVOS-INIT-START' "$serial" 2>/dev/null | wc -l; }
# first_tick_of_boot K: the first complete tick after the K-th EVOS-INIT-START (1-based)
first_tick_of_boot() {
    grep -aoE 'EVOS-INIT-START|EVOS-TICK [0-9]+ uptime=' "$serial" 2>/dev/null |
        awk -v k="$1" '/EVOS-INIT-START/ {i++; next} i == k {print $2; exit}'
}
wait_tick() { "$virt_hosts" wait-tick "$shared" "$vm" "$1" "$2" 2>/dev/null; }   # wait_tick MIN TIMEOUT_S
# fresh_tick: wait for a tick above the latest in the log. A domain runs before its guest prints
# EVOS-INIT-START, so a boot count read right after a (re)start may miss that boot; once a new
# tick is printed, the start line of the boot that printed it is in the log.
fresh_tick() { wait_tick $(( $(last_tick) + 1 )) 30 >/dev/null; }
# tick_after_boot K: a tick printed after the K-th EVOS-INIT-START exists
tick_after_boot() { [[ -n $(first_tick_of_boot "$1") ]]; }
# check_serial_log: the whole log's invariant, printed as one line; fails on any violation:
#  - within a boot, each tick is the previous + 1 (live migrations keep the boot);
#  - a new boot's start_counter (read from the disk) is >= every tick printed before it, and its
#    first tick is > every tick printed before it: no acknowledged (printed) write was lost;
#  - no EVOS-ERROR line.
check_serial_log() {
    python3 - "$serial" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read().decode("ascii", "replace")
tok = re.compile(r"EVOS-INIT-START|EVOS-DISK present start_counter=(\d+)|EVOS-TICK (\d+) uptime=|EVOS-ERROR[^\n]*")
boots, ticks, problems, maxtick, prev = 0, 0, [], 0, None
for m in tok.finditer(data):
    t = m.group(0)
    if t == "EVOS-INIT-START":
        boots += 1
        prev = None
        first = True
    elif t.startswith("EVOS-DISK"):
        c = int(m.group(1))
        if c < maxtick:
            problems.append(f"boot {boots}: start_counter {c} < last printed tick {maxtick} (lost write)")
    elif t.startswith("EVOS-TICK"):
        n = int(m.group(2))
        ticks += 1
        if prev is None:
            if n <= maxtick:
                problems.append(f"boot {boots}: first tick {n} <= last printed tick {maxtick} (lost write)")
        elif n != prev + 1:
            problems.append(f"boot {boots}: tick {n} after {prev}")
        prev = n
        maxtick = max(maxtick, n)
    else:
        problems.append(f"boot {boots}: {t}")
print(f"serial log: {boots} boots, {ticks} ticks, last tick {maxtick}" + ("" if not problems else "; " + "; ".join(problems[:5])))
sys.exit(1 if problems or ticks == 0 else 0)
EOF
}

# --- "never both": a sampler in each node, every ~100 ms --------------------------------------
# Each sample is "START_MS END_MS DOMSTATE QEMU" (domstate from `virsh domstate`, "none" if virsh
# fails; QEMU q if a QEMU process of the guest exists in the node, else -). The sampler runs in
# the node through `lab exec` and is restarted by a host loop when the node boots again. It stops
# when the flag file goes away (the work dir is visible inside the nodes).
WATCH_PIDS=()
watch_node() { # (background) watch_node NODE FLAG OUT
    local n=$1 flag=$2 out=$3
    while [[ -e $flag ]]; do
        X "$n" sh -c '
            while [ -e "$1" ]; do
                s=$(date +%s%3N)
                d=$(timeout 5 virsh -q -c qemu:///system domstate "$2" 2>/dev/null | head -n 1 | tr " " _)
                if pgrep -f -- "guest=$2," >/dev/null 2>&1; then q=q; else q=-; fi
                echo "$s $(date +%s%3N) ${d:-none} $q"
                sleep 0.1
            done' sh "$flag" "$vm" >>"$out" 2>/dev/null
        sleep 0.2
    done
}
watch_start() { # watch_start TAG: sample both nodes until watch_stop
    WATCH_TAG=$1
    : >"$work/watch.$WATCH_TAG.on"
    : >"$work/watch.$WATCH_TAG.$n1"
    : >"$work/watch.$WATCH_TAG.$n2"
    watch_node "$n1" "$work/watch.$WATCH_TAG.on" "$work/watch.$WATCH_TAG.$n1" &
    WATCH_PIDS+=($!)
    watch_node "$n2" "$work/watch.$WATCH_TAG.on" "$work/watch.$WATCH_TAG.$n2" &
    WATCH_PIDS+=($!)
    sleep 0.5
}
# watch_stop: stop the samplers (in the calling shell: they are its children). watch_verdict: print
# the verdict; fails if both nodes ran the guest at the same time. A node counts as running the guest while `domstate` says running, or, when virsh
# cannot ask its libvirtd, while a QEMU of the guest exists there. Two consecutive "running"
# samples of a node prove it ran in between (END of the first .. START of the last); the verdict
# is "both" only if such proven intervals of the two nodes overlap, so sampling skew between the
# nodes can not produce a false alarm. Also fails if a node was not sampled at all.
watch_stop() {
    local p
    rm -f "$work/watch.$WATCH_TAG.on"
    for p in "${WATCH_PIDS[@]}"; do
        local end=$(( $(now_ms) + 10000 ))
        while kill -0 "$p" 2>/dev/null && (( $(now_ms) < end )); do sleep 0.1; done
        kill "$p" 2>/dev/null || true      # our own background loop
        wait "$p" 2>/dev/null || true
    done
    WATCH_PIDS=()
}
watch_verdict() {
    python3 - "$work/watch.$WATCH_TAG.$n1" "$work/watch.$WATCH_TAG.$n2" <<'EOF'
import sys
def spans(path):
    samples = []
    for line in open(path):
        f = line.split()
        if len(f) != 4 or not f[0].isdigit() or not f[1].isdigit():
            continue
        s, e, d, q = int(f[0]), int(f[1]), f[2], f[3]
        samples.append((s, e, d == "running" or (d == "none" and q == "q")))
    out, run = [], []
    for s, e, a in samples:
        if a and run and s - run[-1][1] > 2000:   # a gap in sampling ends a run (no claim over it)
            out.append(run); run = []
        if a:
            run.append((s, e))
        else:
            if run: out.append(run)
            run = []
    if run: out.append(run)
    proven = [(r[0][1], r[-1][0]) for r in out if len(r) >= 2 and r[-1][0] > r[0][1]]
    return len(samples), sum(1 for x in samples if x[2]), proven
a, b = spans(sys.argv[1]), spans(sys.argv[2])
both = [(max(x[0], y[0]), min(x[1], y[1])) for x in a[2] for y in b[2] if max(x[0], y[0]) < min(x[1], y[1])]
print(f"samples node1 {a[0]} ({a[1]} running), node2 {b[0]} ({b[1]} running); both running: "
      + ("never" if not both else ", ".join(f"{(e - s)} ms from {s}" for s, e in both)))
sys.exit(1 if both or a[0] < 3 or b[0] < 3 else 0)
EOF
}

# --- leftovers: anything of lab $name on the machine, the guest's QEMU included -------------------
# shellcheck source-path=SCRIPTDIR source=../../support/lab-leftovers.sh
source "$here_lib/../../support/lab-leftovers.sh"
leftovers() { lab_leftovers "$name" "$base" "$vm"; }
