#!/bin/bash
# stage-debs.sh SRC BUILD_DIR DIR: evos as its Debian packages install it, for a lab: the packages
# built from SRC (tests/packaging/build-debs.sh, cached per source content in BUILD_DIR/debs) are
# unpacked into DIR with dpkg-deb -x, so a lab test also runs what the packages ship. Prints the
# stage prefix (DIR/usr: sbin/evosctl, lib/ocf/resource.d/evos, lib/evos/evos-lab, share/evos).
set -euo pipefail
src=${1:?usage: stage-debs.sh SRC BUILD_DIR DIR}
build=${2:?usage: stage-debs.sh SRC BUILD_DIR DIR}
dir=${3:?usage: stage-debs.sh SRC BUILD_DIR DIR}
debs=$("$src/tests/packaging/build-debs.sh" "$src" "$build/debs" | tail -n 1)
rm -rf "$dir"
mkdir -p "$dir"
for p in evos-agents evosctl evos-crm-templates evos-lab; do
    deb=$(compgen -G "$debs/${p}_*.deb" | head -n 1) || { echo "stage-debs: no $p package in $debs" >&2; exit 1; }
    dpkg-deb -x "$deb" "$dir"
done
echo "$dir/usr"
