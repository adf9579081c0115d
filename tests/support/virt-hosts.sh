#!/bin/bash
# virt-hosts.sh - two simulated libvirt "hosts" on this one machine, for evos integration tests.
#
# Each host is a libvirtd in its own network, mount, UTS and PID namespace:
#   * netns ${P}h1 / ${P}h2, joined by a veth pair ${P}h1v <-> ${P}h2v, 198.19.0.1/24 and
#     198.19.0.2/24 (only reachable inside these namespaces);
#   * a PID namespace whose PID 1 is tini. tini reaps orphans at once (this machine's real PID 1
#     reaps only every ~1.5 s, which slows every QEMU exit), and SIGKILL on tini is a power loss:
#     the kernel then kills libvirtd and every QEMU of that host;
#   * a private mount namespace in which $BASE/hN/{run,lib,etc,log,cache} and $BASE/hN/hosts are
#     bind-mounted over /run/libvirt, /var/lib/libvirt, /etc/libvirt, /var/log/libvirt,
#     /var/cache/libvirt and /etc/hosts. Everything else (e.g. the disk directory, which plays the
#     role of shared storage) is the same path as in the root namespace;
#   * hostname ${P}-hN (both names resolve in each host's /etc/hosts), distinct host_uuid;
#   * libvirtd --listen: TCP without auth on 198.19.0.N:16509, plus its unix socket
#     $BASE/hN/run/libvirt-sock, which is usable from the root namespace (pathname unix sockets
#     cross network namespaces). QEMU runs as root without security driver or cgroups,
#     stdio_handler=file (no virtlogd), migration_address/migration_host = 198.19.0.N.
#   * libvirtd runs through the symlink $BASE/bin/${P}-libvirtd, so its process name is unique to
#     this instance (a stray "pkill libvirtd" elsewhere does not hit it).
#
# Configuration (environment):
#   EVOS_TEST_PREFIX   required; [a-z][a-z0-9]{0,5}. Every netns, veth, hostname, dir derives from it,
#                      so several instances run side by side.
#   EVOS_TEST_BASE     state directory, default /tmp/$EVOS_TEST_PREFIX
#   EVOS_TEST_TIMEOUT  seconds to wait for a libvirtd to answer (default 120)
#   EVOS_TEST_REAP_WAIT  seconds "down" waits until this machine's PID 1 has reaped the exited
#                      namespace launchers (default 5; it reaps only every ~1.5 s; 0 = don't wait,
#                      which makes down ~1.5 s faster but may leave zombies for a moment)
#
# Subcommands:
#   up                          create both hosts, wait until both libvirtds answer. On failure
#                               (or interruption) everything created so far is removed again.
#   down                        destroy+undefine all domains, stop libvirtd and tini (by recorded
#                               PID), kill what is left in the two namespaces, delete the netns.
#                               Idempotent; safe after a partial or failed up. Files stay in $BASE.
#   uri N                       qemu+unix:///system?socket=$BASE/hN/run/libvirt-sock (root ns)
#   tcp-uri N                   qemu+tcp://198.19.0.N/system (from the other host's netns)
#   virsh N ARGS...             virsh -c "$(uri N)" ARGS...
#   host-pid N | libvirtd-pid N root-namespace PID of host N's tini / libvirtd
#   netns N                     name of host N's network namespace
#   in-net N CMD...             run CMD in host N's netns only (ip netns exec): it can reach the
#                               other host over TCP and still use the unix sockets in $BASE
#   crash N                     SIGKILL host N's tini: power loss (netns and veth stay)
#   start N                     boot host N again after a crash (fresh /run/libvirt, same
#                               /var/lib/libvirt, so persistent definitions survive)
#   stop-libvirtd N | start-libvirtd N          daemon stop/start; running VMs survive
#   freeze-libvirtd N | thaw-libvirtd N         SIGSTOP / SIGCONT the daemon (hung daemon)
#   status                      one line per host
#   domain-xml NAME DISKDIR GUESTDIR OUT [MEM_MIB]
#                               TCG (type='qemu') direct-kernel-boot domain: GUESTDIR/vmlinuz and
#                               initrd.gz (tests/support/build-guest.sh), fixed UUID derived from
#                               NAME, disk DISKDIR/NAME.qcow2 (created, 64M, if missing), serial
#                               appended to DISKDIR/NAME.serial.log, no balloon, on_crash destroy.
#                               MEM_MIB default 128 (72 is the minimum for this guest).
#   counter DISKDIR NAME        counter in sector 0 of DISKDIR/NAME.qcow2 (read-only, force-share;
#                               works while the VM runs); prints the integer (0 on a blank disk)
#   wait-tick DISKDIR NAME MIN TIMEOUT_S [MARK]
#                               wait until the latest "EVOS-TICK n" in DISKDIR/NAME.serial.log has
#                               n >= MIN; print n. Exit 1 on timeout. With MARK (see serial-mark)
#                               only what the log got after MARK counts.
#   The serial log is appended to by every boot of the domain (earlier tests' boots included) and
#   the disk keeps the counter, so a tick in the log may come from an earlier boot. To follow one
#   boot, take a MARK before starting it and look only after it:
#   serial-mark DISKDIR NAME    print the log's current size in bytes (0 if absent): a MARK
#   wait-boot DISKDIR NAME MARK TIMEOUT_S
#                               wait until, after MARK, an EVOS-INIT-START is followed by a
#                               complete tick; print that first tick of the new boot. On timeout
#                               print the serial-report since MARK to stderr, exit 1.
#   boots DISKDIR NAME [MARK]   number of EVOS-INIT-START lines (boots) after MARK (default 0)
#   last-tick DISKDIR NAME [MARK]  latest complete tick after MARK (empty if none)
#   serial-report DISKDIR NAME [MARK]
#                               what the log shows after MARK, one line per boot: its start and
#                               disk lines (guest uptime), first/last tick, tick count, errors
#
# Needs root and: iproute2, util-linux (unshare, nsenter, setsid, flock, mountpoint), tini,
# libvirt-daemon-system, libvirt-clients, qemu-system-x86, qemu-utils.
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
readonly SELF
readonly NET=198.19.0
readonly LIBVIRTD=/usr/sbin/libvirtd
readonly TINI=/usr/bin/tini
readonly SAFE_ENV=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C HOME=/root)
readonly GLOBAL_LOCK=/run/lock/evos-virt-hosts.lock   # serializes ip netns add/del machine-wide

log() { echo "virt-hosts${P:+[$P]} $*" >&2; }
die() { echo "virt-hosts${P:+[$P]}: ERROR: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }

# ------------------------------------------------------------------ configuration
need_prefix() {
  P=${EVOS_TEST_PREFIX:-}
  [ -n "$P" ] || die "EVOS_TEST_PREFIX is not set (e.g. EVOS_TEST_PREFIX=et12)"
  [[ $P =~ ^[a-z][a-z0-9]{0,5}$ ]] || die "EVOS_TEST_PREFIX='$P': need [a-z][a-z0-9]{0,5}"
  BASE=${EVOS_TEST_BASE:-/tmp/$P}
  [[ $BASE == /* ]] || BASE=$PWD/$BASE
  BASE=${BASE%/}
  # sun_path is 108 bytes; the longest socket libvirtd creates is libvirt-admin-sock
  [ ${#BASE} -le 80 ] || die "EVOS_TEST_BASE too long for unix socket paths (max 80 chars): $BASE"
  TIMEOUT=${EVOS_TEST_TIMEOUT:-120}
  REAP_WAIT=${EVOS_TEST_REAP_WAIT:-5}
  [[ $TIMEOUT =~ ^[0-9]+$ && $REAP_WAIT =~ ^[0-9]+$ ]] || die "EVOS_TEST_TIMEOUT/EVOS_TEST_REAP_WAIT must be integers"
}
host_arg() { [[ ${1:-} =~ ^[12]$ ]] || die "host must be 1 or 2, got '${1:-}'"; }
hdir() { echo "$BASE/h$1"; }
ns() { echo "${P}h$1"; }
veth() { echo "${P}h${1}v"; }
hname() { echo "${P}-h$1"; }
uri() { echo "qemu+unix:///system?socket=$(hdir "$1")/run/libvirt-sock"; }
tcp_uri() { echo "qemu+tcp://$NET.$1/system"; }
# timeout --foreground: stay in our process group (see run_guarded)
v() { local h=$1; shift; timeout --foreground 30 virsh -q -c "$(uri "$h")" "$@"; }
name_uuid() {  # deterministic UUID from a string
  local x; x=$(printf 'evos-%s' "$1" | md5sum | cut -c1-32)
  echo "${x:0:8}-${x:8:4}-${x:12:4}-${x:16:4}-${x:20:12}"
}
ns_exists() { [ -e "/run/netns/$1" ]; }

# ------------------------------------------------------------------ recorded PIDs
# A PID file holds "PID STARTTIME" (field 22 of /proc/PID/stat), so a recycled PID is never
# mistaken for ours.
starttime() {
  local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }                       # drop "pid (comm) ", comm may contain spaces
  # shellcheck disable=SC2086
  set -- $s
  [ "$1" != Z ] || return 1         # a zombie is gone for our purposes
  echo "${20}"
}
# 0 while PID $1 with start time $2 still exists in any state, zombie included
exists_any() {
  local want=$2 s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  # shellcheck disable=SC2086
  set -- $s
  [ "${20}" = "$want" ]
}
record_pid() { echo "$2 $(starttime "$2")" > "$1"; }
recorded_pid() {  # print the PID from file $1 if that very process is still alive
  local pid st
  [ -s "$1" ] || return 0
  read -r pid st < "$1" || return 0
  [ -n "$pid" ] && [ "$(starttime "$pid" || true)" = "$st" ] && echo "$pid"
  return 0
}
wait_gone() {  # wait_gone PID STARTTIME SECONDS -> 0 when gone (or zombie)
  local pid=$1 st=$2 end=$(( $(now_ms) + $3 * 1000 ))
  while [ "$(starttime "$pid" || true)" = "$st" ]; do
    [ "$(now_ms)" -lt "$end" ] || return 1
    sleep 0.05
  done
}
children() { cat "/proc/$1/task/$1/children" 2>/dev/null || true; }
tini_pid() { recorded_pid "$(hdir "$1")/tini.pid"; }
host_alive() { [ -n "$(tini_pid "$1")" ]; }
libvirtd_pid() {
  # libvirtd daemonizes, so it is a child of the host's tini. Several children may run the
  # libvirtd binary for an instant (QEMU launch forks); prefer the one named in its pid file,
  # which holds the PID inside the namespace (last field of NSpid).
  local t c want first=""
  t=$(tini_pid "$1"); [ -n "$t" ] || return 0
  want=$(cat "$(hdir "$1")/run/libvirtd.pid" 2>/dev/null || true)
  for c in $(children "$t"); do
    [ "$(readlink "/proc/$c/exe" 2>/dev/null || true)" = "$LIBVIRTD" ] || continue
    [ -n "$first" ] || first=$c
    if [ -n "$want" ] && [ "$(awk '/^NSpid:/ {print $NF}' "/proc/$c/status" 2>/dev/null)" = "$want" ]; then
      echo "$c"; return 0
    fi
  done
  [ -z "$first" ] || echo "$first"
}
# signal a PID only if it is still the process recorded (PID + start time)
signal_if() { local sig=$1 pid=$2 st=$3; [ "$(starttime "$pid" || true)" = "$st" ] && kill "-$sig" "$pid" 2>/dev/null; return 0; }
# Close every fd above 2 before starting a long-lived process, so that it does not hold on to a
# pipe of the caller (a test runner waiting for EOF on fd 3 would hang until "down").
close_fds() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

# ------------------------------------------------------------------ network
with_global_lock() { ( flock 8; "$@" ) 8>"$GLOBAL_LOCK"; }
net_create() {
  local h
  ip netns add "$(ns 1)"
  ip netns add "$(ns 2)"
  ip link add "$(veth 1)" netns "$(ns 1)" type veth peer name "$(veth 2)" netns "$(ns 2)"
  for h in 1 2; do
    ip -n "$(ns "$h")" addr add "$NET.$h/24" dev "$(veth "$h")"
    ip -n "$(ns "$h")" link set lo up
    ip -n "$(ns "$h")" link set "$(veth "$h")" up
  done
}
net_delete() {
  local h
  for h in 1 2; do
    if ns_exists "$(ns "$h")"; then ip netns del "$(ns "$h")"; fi
  done
}

# ------------------------------------------------------------------ host configuration
write_host_config() {  # fresh private /etc/libvirt + /var/lib/libvirt + /var/log/libvirt
  local h=$1 d; d=$(hdir "$1")
  rm -rf "${d:?}/etc" "${d:?}/lib" "${d:?}/log" "${d:?}/run"
  mkdir -p "$d"/{etc,lib,log,run,cache}
  cp -a /etc/libvirt/. "$d/etc/"
  # never autostart anything of the system's configuration (default network -> dnsmasq)
  rm -f "$d"/etc/qemu/*.xml "$d"/etc/qemu/autostart/*.xml "$d"/etc/qemu/networks/autostart/*.xml
  cat > "$d/etc/libvirtd.conf" <<EOF
# generated by virt-hosts.sh for host $(hname "$h")
listen_tls = 0
listen_tcp = 1
listen_addr = "$NET.$h"
auth_tcp = "none"
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
host_uuid = "$(name_uuid "$P-host-$h")"
log_level = 3
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
keepalive_interval = 5
keepalive_count = 5
EOF
  cat > "$d/etc/qemu.conf" <<EOF
# generated by virt-hosts.sh: no systemd, AppArmor or cgroup delegation here
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
stdio_handler = "file"
migration_address = "$NET.$h"
migration_host = "$NET.$h"
EOF
  printf '127.0.0.1 localhost\n%s.1 %s\n%s.2 %s\n' "$NET" "$(hname 1)" "$NET" "$(hname 2)" > "$d/hosts"
}

# ------------------------------------------------------------------ host lifecycle
# Runs as PID 1 of a new host's namespaces: sets up the mounts and hostname, then execs tini.
# $1 = host dir, $2 = hostname
# shellcheck disable=SC2016
readonly HOST_INIT='
set -e
d=$1
hostname "$2"
# The new mount namespace holds copies of every /run/netns/* mount, which would keep other
# instances'"'"' network namespaces alive after they delete them: drop them here.
if mountpoint -q /run/netns; then umount -l /run/netns; fi
# /sys of this network namespace (as ip netns exec does)
umount -l /sys 2>/dev/null || true
mount -t sysfs sysfs /sys
mount --bind "$d/run"   /run/libvirt
mount --bind "$d/lib"   /var/lib/libvirt
mount --bind "$d/etc"   /etc/libvirt
mount --bind "$d/log"   /var/log/libvirt
mount --bind "$d/cache" /var/cache/libvirt
mount --bind "$d/hosts" /etc/hosts
exec '"$TINI"' -- sleep infinity
'

boot_host() {  # start host N's namespaces with tini as PID 1 (fresh /run/libvirt)
  local h=$1 d u c end; d=$(hdir "$1")
  host_alive "$h" && die "host $h is already running"
  ns_exists "$(ns "$h")" || die "netns $(ns "$h") does not exist (run up)"
  rm -rf "${d:?}/run"; mkdir -p "$d/run"
  rm -f "$d/tini.pid" "$d/unshare.pid"
  mkdir -p /run/libvirt /var/lib/libvirt /etc/libvirt /var/log/libvirt /var/cache/libvirt
  # nsenter --net: join the netns without the extra mount namespace of "ip netns exec";
  # unshare: new mount/UTS/PID namespace, fresh /proc, PID 1 = the init script -> tini.
  # setsid: no controlling terminal, so a ^C in the caller's terminal does not reach it.
  # Without job control the background child is no process group leader, so setsid does not
  # fork and $! is the unshare process itself.
  (
    close_fds
    record_pid "$d/unshare.pid" "$BASHPID"   # before exec: the PID stays, so does its start time
    exec setsid "${SAFE_ENV[@]}" nsenter --net="/run/netns/$(ns "$h")" -- \
      unshare --mount --uts --pid --fork --mount-proc --propagation private -- \
      /bin/sh -c "$HOST_INIT" host-init "$d" "$(hname "$h")"
  ) </dev/null >"$d/host-init.log" 2>&1 &
  u=$!
  end=$(( $(now_ms) + 10000 ))
  while :; do
    for c in $(children "$u"); do
      if [ "$(readlink "/proc/$c/exe" 2>/dev/null || true)" = "$TINI" ]; then
        record_pid "$d/tini.pid" "$c"
        return 0
      fi
    done
    [ "$(starttime "$u" || true)" != "" ] || die "host $h failed to boot: $(cat "$d/host-init.log")"
    [ "$(now_ms)" -lt "$end" ] || die "host $h: tini did not start within 10 s: $(cat "$d/host-init.log")"
    sleep 0.02
  done
}

launch_libvirtd() {  # start host N's libvirtd (returns once it has daemonized)
  local h=$1 d t; d=$(hdir "$1")
  t=$(tini_pid "$h"); [ -n "$t" ] || die "host $h is not running"
  if [ -n "$(libvirtd_pid "$h")" ]; then log "host $h: libvirtd already running"; return 0; fi
  rm -f "$d"/run/libvirtd.pid "$d"/run/libvirt-sock "$d"/run/libvirt-sock-ro "$d"/run/libvirt-admin-sock
  mkdir -p "$BASE/bin"
  ln -sfn "$LIBVIRTD" "$BASE/bin/${P}-libvirtd"
  ( close_fds; exec "${SAFE_ENV[@]}" nsenter -t "$t" -m -u -n -p -- "$BASE/bin/${P}-libvirtd" \
      --daemon --listen --pid-file /run/libvirt/libvirtd.pid ) </dev/null >>"$d/libvirtd.out" 2>&1 ||
    die "host $h: libvirtd failed to start: $(tail -n 5 "$d/libvirtd.out"; tail -n 5 "$d/log/libvirtd.log" 2>/dev/null)"
}

wait_libvirtd() {  # wait until host N's libvirtd answers on its unix socket
  local h=$1 d end left; d=$(hdir "$1")
  end=$(( $(now_ms) + TIMEOUT * 1000 ))
  # the socket appears early; a connection then blocks until the drivers are initialized
  # (first start: QEMU capability probing, 2-8 s; later starts use /var/cache/libvirt)
  while left=$(( (end - $(now_ms)) / 1000 + 1 )); ! { [ -S "$d/run/libvirt-sock" ] &&
        timeout --foreground "$left" virsh -q -c "$(uri "$h")" version >/dev/null 2>&1; }; do
    [ -n "$(libvirtd_pid "$h")" ] || die "host $h: libvirtd exited: $(tail -n 5 "$d/log/libvirtd.log" 2>/dev/null)"
    [ "$(now_ms)" -lt "$end" ] || die "host $h: libvirtd did not answer within $TIMEOUT s"
    sleep 0.1
  done
}

stop_libvirtd() {  # SIGTERM (SIGKILL after 10 s); running VMs survive
  local h=$1 p st
  p=$(libvirtd_pid "$h"); [ -n "$p" ] || return 0
  st=$(starttime "$p") || return 0
  signal_if CONT "$p" "$st"       # a frozen daemon cannot act on SIGTERM
  signal_if TERM "$p" "$st"
  if ! wait_gone "$p" "$st" 10; then
    log "host $h: libvirtd $p ignored SIGTERM, sending SIGKILL"
    signal_if KILL "$p" "$st"; wait_gone "$p" "$st" 5 || true
  fi
}

clear_domains() {  # destroy + undefine every domain of host N (best effort)
  local h=$1 dom
  [ -S "$(hdir "$h")/run/libvirt-sock" ] || return 0
  for dom in $(v "$h" list --name 2>/dev/null || true); do
    v "$h" destroy "$dom" >/dev/null 2>&1 || true
  done
  for dom in $(v "$h" list --all --name 2>/dev/null || true); do
    v "$h" undefine --managed-save --snapshots-metadata --checkpoints-metadata "$dom" >/dev/null 2>&1 ||
      v "$h" undefine "$dom" >/dev/null 2>&1 || true
  done
}

stop_host() {  # graceful power-off of host N; everything in its PID namespace ends with tini
  local h=$1 d t st u ust p; d=$(hdir "$1")
  t=$(tini_pid "$h")
  if [ -n "$t" ]; then
    st=$(starttime "$t" || true)
    p=$(libvirtd_pid "$h")
    if [ -n "$p" ]; then
      signal_if CONT "$p" "$(starttime "$p" || true)"
      clear_domains "$h"
      stop_libvirtd "$h"
    fi
    # SIGTERM makes tini forward it to "sleep infinity" and exit; when the PID namespace's init
    # exits the kernel SIGKILLs everything left in it (QEMU processes included).
    signal_if TERM "$t" "$st"
    if ! wait_gone "$t" "$st" 5; then signal_if KILL "$t" "$st"; wait_gone "$t" "$st" 5 || true; fi
  fi
  # The unshare parent exits as soon as its child (the namespace's PID 1) has gone. If up was
  # interrupted before tini.pid was written, that child is still running: end it first (killing
  # only unshare would orphan it).
  if [ -s "$d/unshare.pid" ]; then
    read -r u ust < "$d/unshare.pid" || true
    if [ -n "${u:-}" ] && [ "$(starttime "$u" || true)" = "$ust" ]; then
      for p in $(children "$u"); do
        signal_if KILL "$p" "$(starttime "$p" || true)"
      done
      if ! wait_gone "$u" "$ust" 5; then signal_if KILL "$u" "$ust"; wait_gone "$u" "$ust" 2 || true; fi
    fi
  fi
  rm -f "$d/tini.pid"
}

wait_reaped() {  # wait until host N's unshare process is reaped (not even a zombie is left)
  # Its parent is gone, so this machine's PID 1 reaps it, which takes up to ~1.5 s here.
  local d u ust end; d=$(hdir "$1")
  [ -s "$d/unshare.pid" ] || return 0
  read -r u ust < "$d/unshare.pid" || true
  end=$(( $(now_ms) + REAP_WAIT * 1000 ))
  while [ -n "${u:-}" ] && exists_any "$u" "${ust:-}"; do
    if [ "$(now_ms)" -ge "$end" ]; then
      [ "$REAP_WAIT" = 0 ] || log "host $1: process $u not reaped yet (zombie)"
      break
    fi
    sleep 0.05
  done
  rm -f "$d/unshare.pid"
}

# Last resort: processes still inside our two network namespaces (children that in-net commands
# left behind, or hosts whose PID files were lost). Only processes started through this script
# can be in these namespaces, which exist only while this instance is up.
kill_leftovers() {
  local h pid pids pass
  for pass in TERM KILL; do
    pids=""
    for h in 1 2; do
      ns_exists "$(ns "$h")" && pids="$pids $(ip netns pids "$(ns "$h")" 2>/dev/null | xargs)"
    done
    [ -n "${pids// /}" ] || return 0
    log "signalling $pass to processes left in our netns:$pids"
    for pid in $pids; do kill "-$pass" "$pid" 2>/dev/null || true; done
    sleep 0.5
  done
}

# ------------------------------------------------------------------ subcommands
cmd_down() {
  local t0 h; t0=$(now_ms)
  for h in 1 2; do stop_host "$h"; done
  # in-net commands we started (PIDs recorded by cmd_in_net)
  if [ -d "$BASE/in-net" ]; then
    local f pid st
    for f in "$BASE"/in-net/*.pid; do
      [ -e "$f" ] || continue
      read -r pid st < "$f" || true
      [ -n "${pid:-}" ] && signal_if KILL "$pid" "${st:-}"
      rm -f "$f"
    done
  fi
  kill_leftovers
  with_global_lock net_delete
  for h in 1 2; do wait_reaped "$h"; done
  log "down in $(( $(now_ms) - t0 )) ms"
}

# run_guarded CLEANUP INTERNAL-SUBCOMMAND ARGS...
# Runs the work in a child process of this script, in a process group of its own; if it fails or
# is interrupted (SIGINT/SIGTERM to this process), the whole group is killed and CLEANUP runs
# here. Why not simply an EXIT trap in one shell:
#  * bash 5.2 can corrupt its parser state when a trap fires during a command substitution
#    ("trap: unexpected EOF while looking for matching `)'"), and then exits without running the
#    EXIT trap. The parent here only sits in "wait" while the child works.
#  * killing only the working shell would orphan its subshells, which could go on booting a host
#    after the cleanup. The one process that leaves the group on purpose (setsid before a host's
#    unshare) records its PID before it does so.
run_guarded() {
  local cleanup=$1 rc=0 end; shift
  GUARD_CHILD=""
  GUARD_SIG=0
  trap 'GUARD_SIG=130; [ -z "$GUARD_CHILD" ] || kill -TERM -- "-$GUARD_CHILD" 2>/dev/null || true' INT
  trap 'GUARD_SIG=143; [ -z "$GUARD_CHILD" ] || kill -TERM -- "-$GUARD_CHILD" 2>/dev/null || true' TERM
  # setsid does not fork here (a background job is no group leader): $! is the new group's id
  EVOS_TEST_BASE=$BASE setsid "$SELF" "$@" &
  GUARD_CHILD=$!
  while kill -0 "$GUARD_CHILD" 2>/dev/null; do wait "$GUARD_CHILD" || true; done
  wait "$GUARD_CHILD" || rc=$?
  trap '' INT TERM                 # let the cleanup finish
  [ "$GUARD_SIG" = 0 ] || rc=$GUARD_SIG
  if [ "$rc" != 0 ]; then
    log "$1 failed or was interrupted (status $rc), cleaning up"
    kill -KILL -- "-$GUARD_CHILD" 2>/dev/null || true
    end=$(( $(now_ms) + 3000 ))
    while kill -0 -- "-$GUARD_CHILD" 2>/dev/null && [ "$(now_ms)" -lt "$end" ]; do sleep 0.05; done
    "$cleanup" || true
  fi
  return "$rc"
}

cmd_up() {
  local h
  for h in 1 2; do
    if ns_exists "$(ns "$h")" || host_alive "$h"; then
      die "instance '$P' is (partly) up: run '$0 down' first"
    fi
  done
  for t in ip nsenter unshare setsid flock mountpoint hostname virsh qemu-system-x86_64 "$TINI" "$LIBVIRTD"; do
    command -v "$t" >/dev/null || die "'$t' not found"
  done
  run_guarded cmd_down __up
}

cmd__up() {  # the work of "up"; run_guarded cleans up when it fails
  local t0 h; t0=$(now_ms)
  mkdir -p "$BASE"
  with_global_lock net_create
  for h in 1 2; do write_host_config "$h"; boot_host "$h"; done
  for h in 1 2; do launch_libvirtd "$h"; done
  for h in 1 2; do wait_libvirtd "$h"; done
  for h in 1 2; do
    log "host $h: $(hname "$h") netns $(ns "$h") tini $(tini_pid "$h") libvirtd $(libvirtd_pid "$h") $(uri "$h")"
  done
  log "up in $(( $(now_ms) - t0 )) ms"
}

cmd_start() {
  host_alive "$1" && die "host $1 is already running"
  START_HOST=$1
  run_guarded stop_start_host __start "$1"
}
stop_start_host() { stop_host "$START_HOST"; wait_reaped "$START_HOST"; }

cmd__start() {
  local h=$1 t0; t0=$(now_ms)
  boot_host "$h"; launch_libvirtd "$h"; wait_libvirtd "$h"
  log "host $h started in $(( $(now_ms) - t0 )) ms"
}

cmd_crash() {
  local h=$1 t st
  t=$(tini_pid "$h"); [ -n "$t" ] || { log "host $h is not running"; return 0; }
  st=$(starttime "$t")
  signal_if KILL "$t" "$st"
  wait_gone "$t" "$st" 10 || die "host $h: tini $t survived SIGKILL"
  log "host $h crashed (tini $t killed)"
}

cmd_in_net() {
  local h=$1; shift
  [ $# -gt 0 ] || die "usage: in-net N CMD..."
  ns_exists "$(ns "$h")" || die "netns $(ns "$h") does not exist"
  mkdir -p "$BASE/in-net"
  local f
  for f in "$BASE"/in-net/*.pid; do   # forget finished ones
    if [ -e "$f" ] && [ -z "$(recorded_pid "$f")" ]; then rm -f "$f"; fi
  done
  record_pid "$BASE/in-net/$$.pid" "$$"   # exec keeps the PID: down can stop it
  exec ip netns exec "$(ns "$h")" "$@"
}

cmd_status() {
  local h
  for h in 1 2; do
    if host_alive "$h"; then
      echo "host $h: $(hname "$h") netns $(ns "$h") tini $(tini_pid "$h") libvirtd $(libvirtd_pid "$h")"
    elif ns_exists "$(ns "$h")"; then echo "host $h: down (netns $(ns "$h") exists)"
    else echo "host $h: down"; fi
  done
}

cmd_domain_xml() {
  if [ $# -lt 4 ] || [ $# -gt 5 ]; then die "usage: domain-xml NAME DISKDIR GUESTDIR OUT [MEM_MIB]"; fi
  local name=$1 disk guest out=$4 mem=${5:-128} cache=none
  [[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad domain name '$name'"
  [[ $mem =~ ^[0-9]+$ ]] || die "bad MEM_MIB '$mem'"
  mkdir -p "$2"
  disk=$(readlink -f "$2"); guest=$(readlink -f "$3")
  if [ ! -s "$guest/vmlinuz" ] || [ ! -s "$guest/initrd.gz" ]; then die "no vmlinuz/initrd.gz in $guest (run build-guest.sh)"; fi
  [ -e "$disk/$name.qcow2" ] || qemu-img create -q -f qcow2 "$disk/$name.qcow2" 64M
  # O_DIRECT (cache='none') is not supported on tmpfs
  [ "$(stat -f -c %T "$disk")" != tmpfs ] || cache=writethrough
  cat > "$out.tmp.$$" <<EOF
<domain type='qemu'>
  <name>$name</name>
  <uuid>$(name_uuid "dom-$name")</uuid>
  <memory unit='MiB'>$mem</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$guest/vmlinuz</kernel>
    <initrd>$guest/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='$cache'/>
      <source file='$disk/$name.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='file'>
      <source path='$disk/$name.serial.log' append='on'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
  mv -f "$out.tmp.$$" "$out"
}

cmd_counter() {
  [ $# -eq 2 ] || die "usage: counter DISKDIR NAME"
  local img=$1/$2.qcow2 out="" hex n b
  [ -e "$img" ] || die "no disk $img"
  for _ in 1 2 3; do
    # -r -U: read-only without taking the image lock, so it works while QEMU runs. Output:
    # "00000000:  31 32 20 ...  12 ..." -> take the hex bytes of the first 20 bytes.
    if out=$(qemu-io -r -U -f qcow2 -c 'read -v 0 20' "$img" 2>&1); then
      hex=$(printf '%s\n' "$out" | awk '/^0000000[01]:/ { for (i = 2; i <= 17 && i <= NF; i++) if ($i ~ /^[0-9a-f][0-9a-f]$/) printf "%s ", $i }')
      n=""
      for b in $hex; do
        case $b in 3[0-9]) n=$n${b#3} ;; *) break ;; esac
      done
      echo "$((10#${n:-0}))"
      return 0
    fi
    sleep 0.2
  done
  die "cannot read $img: $out"
}

mark_arg() { [[ ${1:-0} =~ ^[0-9]+$ ]] || die "MARK must be a byte offset (serial-mark), got '$1'"; }
serial_mark() { [ $# -eq 2 ] || die "usage: serial-mark DISKDIR NAME"; stat -c %s "$1/$2.serial.log" 2>/dev/null || echo 0; }
since() { tail -c +"$(( ${2:-0} + 1 ))" "$1" 2>/dev/null || true; }   # since LOG MARK: the log after MARK
last_tick() {  # last_tick LOG [MARK]: latest complete "EVOS-TICK n " (the trailing space proves n is complete)
  since "$1" "${2:-0}" | { grep -ao 'EVOS-TICK [0-9][0-9]* ' || true; } | tail -n 1 | awk '{print $2}'
}
boots() { since "$1" "${2:-0}" | grep -ac 'EVOS-INIT-START' || true; }
# first tick of the first boot after MARK (empty while that boot has not ticked)
first_tick_of_new_boot() {
  since "$1" "${2:-0}" | { grep -aoE 'EVOS-INIT-START|EVOS-TICK [0-9]+ ' || true; } | awk '/EVOS-INIT-START/ {b = 1; next} b {print $2; exit}'
}
serial_report() {  # serial_report LOG [MARK]
  local log=$1 mark=${2:-0}
  if [ ! -e "$log" ]; then echo "no serial log $log"; return 0; fi
  echo "serial log $log: $(stat -c %s "$log") bytes, the mark at byte $mark, $(boots "$log" "$mark") boot(s) after it"
  since "$log" "$mark" |
    { grep -aoE 'EVOS-INIT-START uptime=[0-9.]+|EVOS-DISK (present start_counter=[0-9]+|absent)|EVOS-TICK [0-9]+ uptime=[0-9.]+|EVOS-ERROR[^[:cntrl:]]*' || true; } |
    awk 'function flush() { if (n) printf "  %s: ticks %s (uptime %s) .. %s (uptime %s), %d ticks\n", who, first, fu, last, lu, n; n = 0 }
         BEGIN { who = "before the first boot after the mark" }
         /^EVOS-INIT-START/ { flush(); b++; who = "boot " b; printf "  boot %d: %s\n", b, $0; next }
         /^EVOS-DISK/ { printf "  %s: %s\n", who, $0; next }
         /^EVOS-TICK/ { u = $3; sub(/uptime=/, "", u); if (!n) { first = $2; fu = u }; last = $2; lu = u; n++; next }
         { printf "  %s: %s\n", who, $0 }
         END { flush() }'
}

cmd_wait_tick() {
  if [ $# -lt 4 ] || [ $# -gt 5 ]; then die "usage: wait-tick DISKDIR NAME MIN TIMEOUT_S [MARK]"; fi
  local log=$1/$2.serial.log min=$3 mark=${5:-0} end n
  if ! [[ $min =~ ^[0-9]+$ && $4 =~ ^[0-9]+$ ]]; then die "MIN and TIMEOUT_S must be integers"; fi
  mark_arg "$mark"
  end=$(( $(now_ms) + $4 * 1000 ))
  while :; do
    n=$(last_tick "$log" "$mark" || true)
    if [ -n "$n" ] && [ "$n" -ge "$min" ]; then echo "$n"; return 0; fi
    if [ "$(now_ms)" -ge "$end" ]; then
      log "wait-tick $2: no tick >= $min after byte $mark within $4 s (last: ${n:-none})"; return 1
    fi
    sleep 0.1
  done
}

cmd_wait_boot() {
  [ $# -eq 4 ] || die "usage: wait-boot DISKDIR NAME MARK TIMEOUT_S"
  local log=$1/$2.serial.log mark=$3 end n
  mark_arg "$mark"
  [[ $4 =~ ^[0-9]+$ ]] || die "TIMEOUT_S must be an integer"
  end=$(( $(now_ms) + $4 * 1000 ))
  while :; do
    n=$(first_tick_of_new_boot "$log" "$mark" || true)
    if [ -n "$n" ]; then echo "$n"; return 0; fi
    if [ "$(now_ms)" -ge "$end" ]; then
      log "wait-boot $2: no boot that ticks after byte $mark within $4 s"
      serial_report "$log" "$mark" >&2
      return 1
    fi
    sleep 0.1
  done
}

usage() { sed -n '2,/^set -euo/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 2; }

main() {
  local cmd=${1:-}; [ $# -eq 0 ] || shift
  case $cmd in
    domain-xml) cmd_domain_xml "$@"; return ;;
    counter)    cmd_counter "$@"; return ;;
    wait-tick)  cmd_wait_tick "$@"; return ;;
    wait-boot)  cmd_wait_boot "$@"; return ;;
    serial-mark) serial_mark "$@"; return ;;
    boots|last-tick|serial-report)
      if [ $# -lt 2 ] || [ $# -gt 3 ]; then die "usage: $cmd DISKDIR NAME [MARK]"; fi
      mark_arg "${3:-0}"
      case $cmd in
        boots)     boots "$1/$2.serial.log" "${3:-0}" ;;
        last-tick) last_tick "$1/$2.serial.log" "${3:-0}" ;;
        *)         serial_report "$1/$2.serial.log" "${3:-0}" ;;
      esac
      return ;;
    ""|-h|--help|help) usage ;;
  esac
  need_prefix
  case $cmd in
    up)      [ $# -eq 0 ] || usage; cmd_up ;;
    __up)    cmd__up ;;
    __start) host_arg "${1:-}"; cmd__start "$1" ;;
    down)    [ $# -eq 0 ] || usage; cmd_down ;;
    status)  cmd_status ;;
    uri|tcp-uri|host-pid|libvirtd-pid|netns|crash|start|stop-libvirtd|start-libvirtd|freeze-libvirtd|thaw-libvirtd|in-net|virsh)
      host_arg "${1:-}"; local h=$1; shift
      case $cmd in
        uri)      uri "$h" ;;
        tcp-uri)  tcp_uri "$h" ;;
        netns)    ns "$h" ;;
        host-pid) local p; p=$(tini_pid "$h"); [ -n "$p" ] || die "host $h is not running"; echo "$p" ;;
        libvirtd-pid) local p; p=$(libvirtd_pid "$h"); [ -n "$p" ] || die "host $h: no libvirtd"; echo "$p" ;;
        crash)    cmd_crash "$h" ;;
        start)    cmd_start "$h" ;;
        stop-libvirtd)   stop_libvirtd "$h" ;;
        start-libvirtd)  launch_libvirtd "$h"; wait_libvirtd "$h" ;;
        freeze-libvirtd) local p; p=$(libvirtd_pid "$h"); [ -n "$p" ] || die "host $h: no libvirtd"; kill -STOP "$p" ;;
        thaw-libvirtd)   local p; p=$(libvirtd_pid "$h"); [ -n "$p" ] || die "host $h: no libvirtd"; kill -CONT "$p" ;;
        in-net)   cmd_in_net "$h" "$@" ;;
        virsh)    exec virsh -c "$(uri "$h")" "$@" ;;
      esac ;;
    *) usage ;;
  esac
}

main "$@"
