#!/bin/bash
# Runs the net/ adapter tests (icmp_prober_test.cpp) inside a test-IP lab of their own
# (tests/support/testip-lab.sh, prefix etn<pid>), with a private /etc/hosts and nsswitch.conf in
# the node's mount namespace:
#   pass 1 [lab]:          hosts: files (names in the lab's hosts file; anything else NONAME)
#   pass 2 [hanging-dns]:  hosts: files dns, with a name server that drops every query
# Usage: net_lab.sh TEST_BINARY. Needs root. The lab is deleted on exit, even on failure.
set -uo pipefail
bin=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
lab=$here/tests/support/testip-lab.sh
p=etn$$
work=$(mktemp -d /tmp/evos-netlab.XXXXXX)
cleanup() { "$lab" down "$p"; rm -rf "$work"; }
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "FAIL: net_lab.sh needs root (namespaces, raw ICMP)"; exit 1; }
"$lab" up "$p" || { echo "FAIL: lab did not come up"; exit 1; }

printf '127.0.0.1 localhost\n::1 localhost\n198.18.0.254 gw4.evos-test\nfd00:e:0:1::fe gw6.evos-test\n' > "$work/hosts"
printf 'hosts: files\n' > "$work/nsswitch-files"
printf 'hosts: files dns\n' > "$work/nsswitch-dns"
printf 'nameserver 198.18.0.194\noptions timeout:10 attempts:3\n' > "$work/resolv.conf"

in_node() {  # in_node NSSWITCH CMD...
  local nss=$1; shift
  ip netns exec "$p-node" unshare --mount --propagation private -- sh -c '
    mount --bind "$1/hosts" /etc/hosts && mount --bind "$2" /etc/nsswitch.conf &&
    mount --bind "$1/resolv.conf" /etc/resolv.conf || exit 99
    shift 2; exec "$@"' sh "$work" "$nss" "$@"
}

rc=0
in_node "$work/nsswitch-files" "$bin" "[lab]" || rc=1
in_node "$work/nsswitch-dns" "$bin" "[hanging-dns]" || rc=1
exit $rc
