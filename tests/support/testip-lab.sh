#!/bin/bash
# A test-IP lab in two network namespaces under a name prefix: a "node" and a "switch" that
# holds the test IPs. Used by the net/ and agent/ping-* tests and by bench/ping.
#
#   testip-lab.sh up PREFIX     create ${PREFIX}-node and ${PREFIX}-sw (PREFIX: at most 10 chars)
#   testip-lab.sh down PREFIX   delete both (their veths and firewall rules go with them)
#
# Addresses (all inside the namespaces; 198.18.0.0/15 and fd00::/8 only):
#   node                 198.18.0.1/24, fd00:e:0:1::1/64 on ${PREFIX}n0
#   answering test IPs   198.18.0.254 198.18.0.253 198.18.0.252, fd00:e:0:1::fe fd00:e:0:1::fd
#   silently dropped     198.18.0.193 .. 198.18.0.222 (iptables -j DROP of everything to 198.18.0.192/27 in the
#                        switch: echo requests vanish, no ICMP error comes back), fd00:e:0:1::dead
#                        (ip6tables DROP of echo requests only, so neighbour discovery still works)
#   no such host         198.18.0.100 (nobody answers ARP)
#   no route             198.19.5.5 (the node has no default route)
# Only namespaces named after PREFIX are created or deleted; nothing in the host namespace.
set -euo pipefail
cmd=${1:?usage: testip-lab.sh up|down PREFIX}
p=${2:?usage: testip-lab.sh up|down PREFIX}
[ ${#p} -le 10 ] || { echo "testip-lab: prefix '$p' is longer than 10 characters" >&2; exit 2; }
[[ $p =~ ^[a-z][a-z0-9]*$ ]] || { echo "testip-lab: prefix '$p' must be [a-z][a-z0-9]*" >&2; exit 2; }
node=$p-node sw=$p-sw

down() {
  for ns in "$node" "$sw"; do
    if [ -e "/run/netns/$ns" ]; then ip netns del "$ns"; fi
  done
}

up() {
  down
  ip netns add "$node"
  ip netns add "$sw"
  ip link add "${p}n0" netns "$node" type veth peer name "${p}s0" netns "$sw"
  # Keep the IPv6 address while the link is down (the default flushes it), so a link cut and
  # restored by a test comes back as it was.
  ip netns exec "$node" sysctl -qw "net.ipv6.conf.${p}n0.keep_addr_on_down=1"
  ip -n "$node" addr add 198.18.0.1/24 dev "${p}n0"
  ip -n "$node" -6 addr add fd00:e:0:1::1/64 dev "${p}n0" nodad
  for a in 254 253 252; do ip -n "$sw" addr add "198.18.0.$a/24" dev "${p}s0"; done
  for a in $(seq 193 222); do ip -n "$sw" addr add "198.18.0.$a/24" dev "${p}s0"; done
  for a in fe fd dead; do ip -n "$sw" -6 addr add "fd00:e:0:1::$a/64" dev "${p}s0" nodad; done
  for ns in "$node" "$sw"; do ip -n "$ns" link set lo up; done
  ip -n "$node" link set "${p}n0" up
  ip -n "$sw" link set "${p}s0" up
  ip netns exec "$sw" iptables -A INPUT -d 198.18.0.192/27 -j DROP
  ip netns exec "$sw" ip6tables -A INPUT -d fd00:e:0:1::dead -p ipv6-icmp --icmpv6-type echo-request -j DROP
  # Wait until both families answer (the veth needs a moment to come up).
  for _ in $(seq 50); do
    if ip netns exec "$node" ping -c1 -W1 198.18.0.254 >/dev/null 2>&1 &&
       ip netns exec "$node" ping -6 -c1 -W1 fd00:e:0:1::fe >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  echo "testip-lab: the lab '$p' does not answer pings" >&2
  return 1
}

case $cmd in
  up) up ;;
  down) down ;;
  *) echo "usage: testip-lab.sh up|down PREFIX" >&2; exit 2 ;;
esac
