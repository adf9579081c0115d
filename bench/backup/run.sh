#!/bin/bash
# bench/backup: evos backups beside restic and borg in one run, on one ext4 image made here from a
# real directory tree (mkfs.ext4 -d: Debian system files, the rest zeros). First backup, backups
# after 1% and 10% of the used blocks changed (scattered) and after 1% and 10% of the data was
# rewritten in whole 4 MiB regions, restore (cmp with the image), verify; the same backups of a
# running TCG guest whose disk is the image, through QEMU's dirty bitmap; seconds, ratios, peak
# RSS, store sizes. bench/README.md ("backup") says what each row means.
# Usage: run.sh BUILD_DIR [--size 2G] [--data-mib 600] [--runs 3] [--json FILE]. Needs root,
# restic, borgbackup, e2fsprogs, time, python3 (scripts/install-deps.sh).
set -euo pipefail
usage="usage: run.sh BUILD_DIR [--size 2G] [--data-mib 600] [--runs 3] [--json FILE]"
build=$(cd "${1:?$usage}" && pwd); shift
here=$(cd "$(dirname "$0")/../.." && pwd)
evosctl=$build/cli/evosctl
[ "$(id -u)" = 0 ] || { echo "bench/backup: needs root (mkfs.ext4 -d keeps the files' owners)" >&2; exit 1; }
[ -x "$evosctl" ] || { echo "bench/backup: build evosctl first ($evosctl)" >&2; exit 1; }
for t in restic borg mkfs.ext4 python3 cmp du; do
  command -v "$t" >/dev/null || { echo "bench/backup: $t is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench/backup: /usr/bin/time is missing (package time; scripts/install-deps.sh)" >&2; exit 1; }
commit=$(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)
work=$(mktemp -d /tmp/evos-bench-backup.XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
echo "bench/backup: work dir $work, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# the running-VM row: the tiny test guest (cached in the build dir) on one libvirtd of virt-hosts.sh
"$here/tests/support/build-guest.sh" "$build/guest-cache" || { echo "bench/backup: cannot build the test guest" >&2; exit 1; }
python3 "$here/bench/backup/bench.py" --work "$work" --evosctl "$evosctl" --commit "$commit" \
  --virt-hosts "$here/tests/support/virt-hosts.sh" --guest-dir "$build/guest-cache" "$@"
