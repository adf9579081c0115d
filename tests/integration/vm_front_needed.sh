#!/bin/bash
# The VM agent's front end loads no libvirt (docs/vm-agent.md, "Two binaries"): its ELF NEEDED
# list (readelf -d) names only the C++ runtime, libc, fmt and pugixml, while the full agent's
# names libvirt (so that this check can tell them apart). And the build tree has the full agent
# where the front end looks for it (evos::vm::full_agent_subpath).
# Usage: vm_front_needed.sh FRONT_END FULL_AGENT
set -u
front=$1 full=$2
fails=0
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*Shared library: \[\(.*\)\]/\1/p'; }

f=$(needed "$front") || bad "readelf -d $front failed"
[ -n "$f" ] || bad "no NEEDED entries read from $front"
echo "front end NEEDED: $(echo $f)"
for lib in $f; do
  case $lib in
    libstdc++.so.* | libgcc_s.so.* | libc.so.* | libm.so.* | libfmt.so.* | libpugixml.so.*) ;;
    *) bad "the front end needs $lib" ;;
  esac
done
grep -q libvirt <<<"$f" && bad "the front end links libvirt"
# ldd: nothing libvirt comes in indirectly either
ldd "$front" | grep -q libvirt && bad "the front end loads libvirt through a dependency: $(ldd "$front" | grep libvirt)"
needed "$full" | grep -q '^libvirt\.so' || bad "the full agent $full does not name libvirt (is this the right file?)"
[ "$(readlink -f "$(dirname "$front")/libexec/vm")" = "$(readlink -f "$full")" ] ||
  bad "the full agent is not at $(dirname "$front")/libexec/vm"
[ $fails = 0 ] && echo "vm_front_needed: passed" || echo "vm_front_needed: $fails failed"
[ $fails = 0 ]
