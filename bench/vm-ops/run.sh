#!/bin/bash
# bench/vm-ops: one VM disk cloned three ways in one run, on an XFS with reflink=1 made here on a
# loop device: a reflink clone (evosctl vm clone --full), a linked clone (evosctl vm clone
# --linked: a qcow2 overlay on a template) and a full copy by qemu-img convert (how Proxmox VE
# makes a full clone, and what evos does where the file system has no reflinks). Seconds (median
# of the runs) and the file system's extra blocks, as ratios. bench/README.md ("vm-ops") says
# what each row means.
# Usage: run.sh BUILD_DIR [--size 2G] [--data-mib 580] [--runs 3] [--json FILE]. Needs root,
# xfsprogs, e2fsprogs, qemu-utils, util-linux (losetup), python3.
set -euo pipefail
usage="usage: run.sh BUILD_DIR [--size 2G] [--data-mib 580] [--runs 3] [--json FILE]"
build=$(cd "${1:?$usage}" && pwd); shift
here=$(cd "$(dirname "$0")/../.." && pwd)
evosctl=$build/cli/evosctl
[ "$(id -u)" = 0 ] || { echo "bench/vm-ops: needs root (loop device, mount, mkfs.ext4 -d)" >&2; exit 1; }
[ -x "$evosctl" ] || { echo "bench/vm-ops: build evosctl first ($evosctl)" >&2; exit 1; }
for t in mkfs.xfs mkfs.ext4 losetup qemu-img python3 cp; do
  command -v "$t" >/dev/null || { echo "bench/vm-ops: $t is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
commit=$(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)
work=$(mktemp -d /tmp/evos-bench-vm-ops.XXXXXX)
dev=""
cleanup() {
  # Only what this run made: its mount, the loop device losetup gave it, its work dir.
  mountpoint -q "$work/mnt" 2>/dev/null && umount "$work/mnt"
  [ -n "$dev" ] && losetup -d "$dev"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
echo "bench/vm-ops: work dir $work, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# 8 GiB sparse: the source (2 GiB, data only), its template copy (reflinked) and one full copy.
truncate -s 8G "$work/xfs.img"
mkfs.xfs -q -m reflink=1 "$work/xfs.img"
dev=$(losetup --find --show "$work/xfs.img")
mkdir "$work/mnt"
mount "$dev" "$work/mnt"
python3 "$here/bench/vm-ops/bench.py" --work "$work" --storage "$work/mnt" --evosctl "$evosctl" --commit "$commit" "$@"
