#!/bin/bash
# build-guest.sh OUTDIR - build the tiny test guest used by the evos virtualization tests.
#
# Produces, in OUTDIR:
#   vmlinuz     Debian cloud kernel (the package behind linux-image-cloud-amd64)
#   initrd.gz   busybox-static initramfs with the virtio block modules and an /init that
#               keeps a counter in sector 0 of /dev/vda (see below)
#   pkg/        the downloaded kernel .deb (kept as a download cache)
#
# Cached and idempotent: if OUTDIR/vmlinuz and OUTDIR/initrd.gz exist and are both newer than
# this script, nothing is done. Concurrent runs on the same OUTDIR serialize on OUTDIR/.lock.
# Results are written atomically (temporary file + mv). Any missing piece is a hard error.
#
# What the guest's /init does (all output goes to ttyS0, one line per event):
#   EVOS-INIT-START uptime=S            init started (a second one in a log = the guest rebooted)
#   EVOS-DISK present start_counter=N   counter found in sector 0 of /dev/vda (0 on a blank disk)
#   EVOS-DISK absent                    no /dev/vda: ticks go on, nothing is persisted
#   EVOS-TICK N uptime=S                every second: N = previous N + 1. N is written to sector 0
#                                       (fsync) BEFORE the line is printed, so a printed tick is
#                                       durable. The counter therefore continues across live
#                                       migration, restart and failover onto another host.
#   EVOS-NET ip=ADDR gw=GW              only with a NIC (virtio-net, eth0): the DHCP lease (busybox
#                                       udhcpc), got in the background while the ticks go on
#   EVOS-NET dhcp fail                  no lease within about 20 s
#   EVOS-NET static ip=ADDR/PREFIX      kernel command line option evos_ip=ADDR/PREFIX: that address
#                                       on eth0 instead of DHCP, no gateway (bench/migration: the
#                                       guest answers a probe at the same address on either node)
#   EVOS-NET gw-ping ok|fail            after the lease: whether the gateway answers a ping
#   Kernel command line option evos_dirty_mb=M: rewrite M MiB of guest RAM in a loop (load for
#   migration tests); prints "EVOS-DIRTY M MiB".
#   Kernel command line option evos_acpi=1: the ACPI power button (a libvirt/virsh shutdown
#   request) powers the guest off: prints "EVOS-POWEROFF" (may be lost: the power goes at once),
#   syncs, poweroff -f. Without it the
#   guest ignores shutdown requests, as a guest without ACPI support does.
#   The counter is stored as ASCII decimal, left-aligned, padded with spaces to 20 bytes, then
#   '\n', then zeros up to 512 bytes.
#
# Needs: apt-get/apt-cache/dpkg-deb (Debian), busybox-static (/bin/busybox), gzip.
set -euo pipefail

die() { echo "build-guest: ERROR: $*" >&2; exit 1; }
log() { echo "build-guest: $*" >&2; }

if [ $# -ne 1 ] || [ -z "$1" ]; then die "usage: $0 OUTDIR"; fi
SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
mkdir -p "$1" || die "cannot create $1"
OUT=$(readlink -f "$1")
META=linux-image-cloud-amd64
# the virtio modules needed to see /dev/vda and a virtio NIC (in dependency order after sorting,
# see below; failover and net_failover are what virtio_net depends on), and the ACPI power button
# as an input device (button, evdev: evos_acpi=1)
MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk failover net_failover virtio_net
         button evdev)

fresh() { [ "$OUT/vmlinuz" -nt "$SCRIPT" ] && [ "$OUT/initrd.gz" -nt "$SCRIPT" ]; }

fresh && exit 0

for t in apt-cache apt-get dpkg-deb gzip flock; do
  command -v "$t" >/dev/null || die "'$t' not found (Debian tools required)"
done
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (apt-get install busybox-static)"
# a dynamically linked busybox would not run in the initramfs (no libc there)
if command -v ldd >/dev/null && ldd "$BUSYBOX" 2>&1 | grep -q '=>'; then
  die "$BUSYBOX is dynamically linked; install busybox-static"
fi

# serialize builds into the same OUTDIR; re-check the cache once we hold the lock
exec 9>"$OUT/.lock"
flock 9
fresh && exit 0

WORK=$(mktemp -d "$OUT/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---- 1. resolve and download the kernel package
resolve_pkg() {
  apt-cache depends "$META" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}
PKG=$(resolve_pkg || true)
if [ -z "$PKG" ]; then
  log "apt-cache cannot resolve $META; running apt-get update"
  apt-get update -qq || die "apt-get update failed"
  PKG=$(resolve_pkg || true)
fi
[ -n "$PKG" ] || die "cannot resolve the kernel package behind $META"

mkdir -p "$OUT/pkg"
DEB=$(find "$OUT/pkg" -maxdepth 1 -name "${PKG}_*_amd64.deb" -size +1M | sort | tail -n 1)
if [ -z "$DEB" ]; then
  log "downloading $PKG"
  # download into the work dir first: a partial download never lands in pkg/
  (cd "$WORK" && apt-get download -q -o APT::Sandbox::User=root "$PKG") ||
    die "apt-get download $PKG failed"
  DEB=$(find "$WORK" -maxdepth 1 -name "${PKG}_*.deb" | head -n 1)
  [ -n "$DEB" ] || die "apt-get download produced no .deb for $PKG"
  mv "$DEB" "$OUT/pkg/"
  DEB=$OUT/pkg/$(basename "$DEB")
else
  log "using cached $(basename "$DEB")"
fi

# ---- 2. extract the kernel and the virtio modules
dpkg-deb -x "$DEB" "$WORK/x" || die "dpkg-deb -x $DEB failed"
mapfile -t kernels < <(find "$WORK/x/boot" -maxdepth 1 -name 'vmlinuz-*')
[ "${#kernels[@]}" -eq 1 ] || die "expected exactly one vmlinuz-* in $DEB, found ${#kernels[@]}"
mapfile -t moddirs < <(find "$WORK/x/lib/modules" -mindepth 1 -maxdepth 1 -type d)
[ "${#moddirs[@]}" -eq 1 ] || die "expected one lib/modules/<version> in $DEB, found ${#moddirs[@]}"
MD=${moddirs[0]}

R=$WORK/root
mkdir -p "$R"/{bin,dev,proc,sys,tmp,lib/modules}
cp "$BUSYBOX" "$R/bin/busybox"

declare -A DEPS=()
present=()
for m in "${MODULES[@]}"; do
  f=$(find "$MD/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n 1)
  if [ -z "$f" ]; then
    # built into the kernel: nothing to load
    if grep -q "/$m.ko\$" "$MD/modules.builtin" 2>/dev/null; then
      log "$m is built in"; continue
    fi
    die "module $m not found in $PKG (neither .ko nor built-in)"
  fi
  case $f in
    *.ko)     cp "$f" "$R/lib/modules/$m.ko" ;;
    *.ko.xz)  xz -dc "$f" > "$R/lib/modules/$m.ko" || die "cannot decompress $f" ;;
    *.ko.zst) zstd -qdc "$f" > "$R/lib/modules/$m.ko" || die "cannot decompress $f (zstd)" ;;
  esac
  # .modinfo is a list of NUL-separated key=value strings; depends= lists module names
  DEPS[$m]=$(tr '\0' '\n' < "$R/lib/modules/$m.ko" | sed -n 's/^depends=//p' | head -n 1 | tr ',-' ' _')
  present+=("$m")
done

# topological order (load order changes between kernel ABIs, so compute it instead of hard-coding)
ORDER=()
declare -A placed=()
for _ in "${present[@]}"; do
  for m in "${present[@]}"; do
    [ -n "${placed[$m]:-}" ] && continue
    ok=1
    for d in ${DEPS[$m]}; do
      [ -n "${DEPS[$d]+x}" ] || die "module $m depends on '$d', which is not in the initramfs set"
      [ -n "${placed[$d]:-}" ] || ok=0
    done
    if [ "$ok" = 1 ]; then ORDER+=("$m"); placed[$m]=1; fi
  done
done
[ "${#ORDER[@]}" -eq "${#present[@]}" ] || die "cannot order modules (cycle?): ${present[*]}"
log "kernel $(basename "${kernels[0]}"), module load order: ${ORDER[*]}"

# ---- 3. the guest's /init
cat > "$R/init" <<EOF
#!/bin/busybox sh
# evos test guest init (generated by tests/support/build-guest.sh)
MODULES="${ORDER[*]}"
EOF
cat >> "$R/init" <<'EOF'
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox --install -s /bin
C=/dev/ttyS0
up() { cut -d' ' -f1 /proc/uptime; }
echo "EVOS-INIT-START uptime=$(up)" > $C
for m in $MODULES; do
  insmod /lib/modules/$m.ko || echo "EVOS-ERROR insmod $m failed" > $C
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
n=0
if [ -b /dev/vda ]; then
  n=$(dd if=/dev/vda bs=512 count=1 2>/dev/null | head -c 20 | tr -dc 0-9)
  n=${n:-0}
  echo "EVOS-DISK present start_counter=$n" > $C
else
  echo "EVOS-DISK absent" > $C
fi
if grep -q 'evos_acpi=1' /proc/cmdline; then
  # a minimal acpid: the first input event of a "Power Button" device powers off
  for e in /sys/class/input/event*; do
    [ "$(cat "$e/device/name" 2>/dev/null)" = "Power Button" ] || continue
    ( dd if="/dev/input/${e##*/}" of=/dev/null bs=24 count=1 2>/dev/null
      echo "EVOS-POWEROFF" > $C; sync; poweroff -f ) &
  done
fi
if [ -e /sys/class/net/eth0 ]; then
  # udhcpc runs this script with the lease in its environment ($ip, $mask, $router).
  cat > /tmp/dhcp.sh <<'DHCP'
#!/bin/busybox sh
case $1 in
  deconfig) ip addr flush dev $interface; ip link set $interface up ;;
  bound|renew)
    ip addr flush dev $interface
    ip addr add $ip/$mask dev $interface
    gw=${router%% *}
    [ -z "$gw" ] || ip route replace default via $gw dev $interface
    echo "ip=$ip gw=$gw" > /tmp/lease ;;
esac
DHCP
  chmod 0755 /tmp/dhcp.sh
  sip=$(sed -n 's/.*evos_ip=\([0-9.]*\/[0-9]*\).*/\1/p' /proc/cmdline)
  if [ -n "$sip" ]; then
    ip link set lo up
    ip addr add "$sip" dev eth0
    ip link set eth0 up
    echo "EVOS-NET static ip=$sip" > $C
  else
  (
    ip link set lo up
    if udhcpc -i eth0 -s /tmp/dhcp.sh -n -q -t 10 -T 2 >/dev/null 2>&1 && [ -s /tmp/lease ]; then
      read -r lease < /tmp/lease
      echo "EVOS-NET $lease" > $C
      gw=${lease##*gw=}
      if [ -n "$gw" ] && ping -c 3 -W 2 "$gw" >/dev/null 2>&1; then r=ok; else r=fail; fi
      echo "EVOS-NET gw-ping $r" > $C
    else
      echo "EVOS-NET dhcp fail" > $C
    fi
  ) &
  fi
fi
dm=$(sed -n 's/.*evos_dirty_mb=\([0-9][0-9]*\).*/\1/p' /proc/cmdline)
if [ -n "$dm" ]; then
  echo "EVOS-DIRTY $dm MiB" > $C
  ( while true; do yes "$RANDOM" | head -c $((dm * 1048576)) > /tmp/dirty; done ) &
fi
while true; do
  n=$((n + 1))
  if [ -b /dev/vda ]; then
    printf '%-20s\n' $n | dd of=/dev/vda bs=512 count=1 conv=sync,notrunc,fsync 2>/dev/null ||
      echo "EVOS-ERROR disk write failed" > $C
  fi
  echo "EVOS-TICK $n uptime=$(up)" > $C
  sleep 1
done
EOF
chmod 0755 "$R/init"

# ---- 4. pack and install atomically
(cd "$R" && find . | "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null | gzip -9) > "$WORK/initrd.gz" ||
  die "packing the initramfs failed"
[ -s "$WORK/initrd.gz" ] || die "empty initramfs"
cp "${kernels[0]}" "$WORK/vmlinuz"
# $WORK is inside $OUT (same file system), so each mv is an atomic rename
mv -f "$WORK/vmlinuz" "$OUT/vmlinuz"
mv -f "$WORK/initrd.gz" "$OUT/initrd.gz"
fresh || die "output is not newer than $SCRIPT (clock skew?)"
log "guest ready in $OUT ($(stat -c %s "$OUT/vmlinuz") + $(stat -c %s "$OUT/initrd.gz") bytes)"
