#!/bin/bash
# Installs every build, test and lab dependency of evos on Debian 12, from Debian packages by name.
# Idempotent: re-running it only installs what is missing. Needs root.
#
# No service is started by the install: a temporary policy-rc.d refuses init-script starts, because
# evos runs its own libvirtd/corosync/pacemaker instances inside namespaces (docs/lab.md), never the
# system-wide ones.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config
  libvirt-dev libfmt-dev nlohmann-json3-dev libcli11-dev libpugixml-dev catch2
  libcorosync-common-dev libcpg-dev libquorum-dev libcmap-dev
  libssl-dev libzstd-dev libnbd-dev  # backups: OpenSSL (SHA-256/HMAC/AES-GCM), zstd, libnbd (reading libvirt backups)
  libmicrohttpd-dev libsqlite3-dev   # metrics: /metrics over libmicrohttpd, the history in SQLite (docs/metrics.md)
  # virtualization (real libvirtd + QEMU TCG) and the tiny test guest
  libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils busybox-static tini
  # VM operations: NAT networks (libvirt runs dnsmasq for their DHCP), reflink file systems for
  # copy-on-write clones (XFS with reflink=1, btrfs), tested on loop devices
  dnsmasq-base xfsprogs btrfs-progs
  # cluster stack and conformance tools
  corosync pacemaker pacemaker-cli-utils resource-agents crmsh pcs fence-agents
  libxml2-utils
  # lab and measurement
  iproute2 iptables iputils-ping util-linux procps strace time psmisc python3
  fping  # bench/ping: ocf:pacemaker:ping uses it when present, as on a production node
  restic borgbackup  # bench/backup: the peers evos backups are measured against
  stress-ng  # bench/soak: both cores saturated while the lab's short Corosync token must hold
  # metrics: promtool (in Debian's prometheus package) checks the exposition; bench/monitor
  # measures the scrape against prometheus-libvirt-exporter
  prometheus prometheus-libvirt-exporter
  # drbd: the real drbdadm checks generated .res files; clang with libFuzzer fuzzes the parsers
  drbd-utils clang libclang-rt-14-dev
  # packaging: the .debs are built, judged by lintian and installed by tests/packaging/debs.sh;
  # man-db and bash-completion for the man pages and completion it checks, tmux to type into bash
  dpkg-dev debhelper fakeroot lintian man-db bash-completion tmux
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; made_policy=1
fi
cleanup() { if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
