# shellcheck shell=bash
# guest-lan.sh - sourced by bench/migration/run.sh and scripts/demo: a guest network that answers
# at the same address on both nodes of a lab (docs/lab.md), and the downtime probe on it.
#
# guest_lan_up LAB NODE1 NODE2 NET EVOSCTL_IN_NODE...: in each node a bridge `vmbr` (STP off, so
#   a migrated guest's new tap forwards at once) with one veth into the lab's switch namespace
#   LABsw, on its bridge LAB-br: the corporate segment 198.18.1.0/24. Then
#   `evosctl net create NET --bridge vmbr`, run in NODE1 through the given command, defines the
#   libvirt bridge network on both nodes. Everything is inside the lab's namespaces: `lab down`
#   removes it with them.
# guest_lan_domain XML NET [DIRTY_MIB]: adds to the domain XML of tests/support/virt-hosts.sh a
#   virtio NIC on NET with the fixed MAC, and to its kernel command line evos_ip= (the address)
#   and, if DIRTY_MIB > 0, evos_dirty_mb= (the guest rewrites that much RAM in a loop).
# guest_probe_start LAB ADDR PROBE STOPFILE OUT: PROBE (bench/migration/probe) in the switch
#   namespace, in the background (its PID in GUEST_PROBE_PID); guest_probe_stop STOPFILE ends it
#   and waits; guest_probe_gap OUT prints its longest gap in ms.
# The guest gets the address from its kernel command line: evos_ip=ADDR/24
# (tests/support/build-guest.sh); 198.18.1.60 is free in every lab.
GUEST_LAN_ADDR=198.18.1.60
GUEST_LAN_MAC=52:54:00:62:12:3c
guest_lan_up() {
    local ln=$1 a=$2 b=$3 net=$4 n   # not "lab": the callers' lab commands use that name
    shift 4
    for n in "$a" "$b"; do
        ip -n "${ln}sw" link add "$n-vm" type veth peer name vmup netns "$n" &&
            ip -n "${ln}sw" link set "$n-vm" master "${ln}-br" up &&
            ip -n "$n" link add vmbr type bridge stp_state 0 &&
            ip -n "$n" link set vmup master vmbr up &&
            ip -n "$n" link set vmbr up || { echo "guest-lan: cannot link $n's vmbr to the switch" >&2; return 1; }
    done
    "$@" evosctl net create "$net" --bridge vmbr >/dev/null
}
guest_lan_domain() {
    python3 - "$1" "$2" "$GUEST_LAN_MAC" "$GUEST_LAN_ADDR" "${3:-0}" <<'PY'
import sys
path, net, mac, ip, dirty = sys.argv[1:]
x = open(path).read()
extra = f" evos_ip={ip}/24" + (f" evos_dirty_mb={dirty}" if dirty != "0" else "")
nic = (f"    <interface type='network'>\n      <source network='{net}'/>\n      <mac address='{mac}'/>\n"
       "      <model type='virtio'/>\n    </interface>\n")
if "</cmdline>" not in x or "    <memballoon" not in x:
    sys.exit("guest-lan: unexpected domain XML in " + path)
x = x.replace("</cmdline>", extra + "</cmdline>", 1).replace("    <memballoon", nic + "    <memballoon", 1)
open(path, "w").write(x)
PY
}
GUEST_PROBE_PID=""
guest_probe_start() {
    rm -f "$4"
    ip netns exec "${1}sw" "$3" "$2" "$4" 300 >"$5" 2>&1 &
    GUEST_PROBE_PID=$!
}
guest_probe_stop() {
    : >"$1"
    [[ -z $GUEST_PROBE_PID ]] || wait "$GUEST_PROBE_PID" 2>/dev/null || true
    GUEST_PROBE_PID=""
}
guest_probe_gap() { sed -n 's/.*\bmaxgap_ms=\([^ ]*\).*/\1/p' "$1"; }
