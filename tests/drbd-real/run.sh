#!/bin/bash
# tests/drbd-real/run.sh - evos on a REAL two-node DRBD 9 cluster (CTest: drbd/real-two-node).
#
# Everything else tests DRBD through the drbd simulator (docs/drbd.md). This script runs the same
# pieces against the real kernel module on two real machines: this node ("a") and a peer ("b")
# reached by root ssh. Where the DRBD 9 module, drbd-utils, root or a peer are missing it does not
# run: it prints a SKIPPED banner (stdout and stderr) saying why and what is needed, and exits 77
# (CTest's SKIP_RETURN_CODE). It never reports a pass it did not run.
#
# What it does (each check prints "ok: ..." or "FAIL: ...", then a summary line):
#   - `evosctl mirror create` renders the .res on both nodes (identical), `drbdadm dump` parses it
#   - `drbdadm create-md` and `up` on both; `primary --force` on a starts the initial sync
#     (throttled with peer-device-options so that it can be watched)
#   - `evosctl mirror status NAME --json` on both: the resync (source/target), then
#     UpToDate/UpToDate; `evosctl node shutdown-check` refuses on the sync source only
#   - the OCF agent (ocf:evos:mirror, run directly with OCF_* variables as
#     tests/integration/mirror_agent.sh does): monitor 0 on the Secondary, 8 on the Primary, 190/191
#     during the resync, demote refused on the sync source; demote/promote move the Primary to b and
#     back; `drbdadm disconnect` on the Secondary gives 190/191, `connect` gives 0/8 again
#   - a forced resync (`drbdadm invalidate` on b): shutdown-check refuses on a, allows on b
#   - `evosctl mirror verify NAME --wait` (when this evosctl has it): in sync
#   - the agent's stop on both: monitor 7, score removed
#
# Isolation: a fresh resource name (evostest<random>), a free minor and port, its own drbdadm
# configuration (`drbdadm -c WORK/drbd.conf`, which includes only the .res this script wrote under a
# private work directory on each node; /etc/drbd.conf and /etc/drbd.d are never read or changed),
# and by default a 256 MiB loop device per node. Every drbdadm/drbdsetup call names that resource;
# teardown (trap on any exit) runs `drbdadm down` for it only if this script brought it up,
# detaches the loop devices it attached and removes the work directories. Pacemaker is not used:
# the agent's promotion-score writes go to a crm_attribute shim first on its PATH (a logging
# stand-in, as in mirror_agent.sh), so no cluster attribute is ever written.
#
# Commands run by argv; a command for the peer is one string of printf-%q-quoted words given to
# ssh. --dry-run prints every command for both nodes and runs none of them.
#
# Exit: 0 all checks passed, 1 a check failed or setup broke, 2 usage or configuration error,
# 77 skipped (DRBD 9, drbd-utils, root or peer missing).
# shellcheck disable=SC2016  # the `sh -c '...' sh ARG` scripts read their arguments as "$1" on purpose
set -u -o pipefail
export LC_ALL=C
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

me=tests/drbd-real/run.sh
usage() {
  cat <<'EOF'
Usage: tests/drbd-real/run.sh [--peer HOST] [options]

Runs evos' mirror (evosctl mirror, ocf:evos:mirror) against real DRBD 9 on this node and HOST.
Skips (exit 77) unless both have the DRBD 9 kernel module and drbd-utils, and a peer is given.

  --peer HOST            the second node, reached as `ssh HOST` (root, no password: BatchMode);
                         default $EVOS_DRBD_PEER
  --address ADDR         this node's replication address (IPv4 or IPv6, no port);
                         default $EVOS_DRBD_ADDRESS, else the first of `hostname -I` here
  --peer-address ADDR    the peer's; default $EVOS_DRBD_PEER_ADDRESS, else the first of its `hostname -I`
  --port N               replication port (default: a free one in 7800..7999)
  --minor N              DRBD minor (default: a free one in 20000..39999)
  --disk DEV             a SPARE block device here, overwritten (default $EVOS_DRBD_DISK, else a
                         256 MiB loop device in a temporary directory, removed afterwards)
  --peer-disk DEV        the same on the peer (default $EVOS_DRBD_PEER_DISK, else --disk, else a loop device)
  --wipe                 allow --disk/--peer-disk devices that carry a signature (filesystem, RAID, DRBD ...)
  --stage DIR            use the evos install under prefix DIR (cmake --install BUILD --prefix DIR),
                         copied to the peer; default $EVOS_STAGE
  --build-dir DIR        stage from this build directory (cmake --install) if no --stage is given
                         (without either: evos installed on both: evosctl on PATH or /usr/sbin,
                         /usr/lib/ocf/resource.d/evos/mirror)
  --throttle RATE        resync rate while a resync is watched (default 4M: 64 s for 256 MiB)
  --dry-run              print the commands for both nodes and run none of them
  -h, --help             this text

Example: tests/drbd-real/run.sh --peer root@node2 --address 10.0.0.1 --peer-address 10.0.0.2 --stage /tmp/evos-stage
EOF
}

peer=${EVOS_DRBD_PEER:-}
addr_opt_a=${EVOS_DRBD_ADDRESS:-}
addr_opt_b=${EVOS_DRBD_PEER_ADDRESS:-}
disk_opt_a=${EVOS_DRBD_DISK:-}
disk_opt_b=${EVOS_DRBD_PEER_DISK:-}
stage=${EVOS_STAGE:-}
build=
port=
minor=
throttle=4M
dry=0
wipe=0

die() {  # die CODE MESSAGE (counted as a failure once the tests have started)
  echo "$me: error: $2" >&2
  [ "${started:-0}" = 1 ] && fail "$2"
  exit "$1"
}
while [ $# -gt 0 ]; do
  case $1 in
    --peer|--address|--peer-address|--port|--minor|--disk|--peer-disk|--stage|--build-dir|--throttle)
      [ $# -ge 2 ] || { echo "$me: $1 needs a value" >&2; usage >&2; exit 2; }
      case $1 in
        --peer) peer=$2 ;;
        --address) addr_opt_a=$2 ;;
        --peer-address) addr_opt_b=$2 ;;
        --port) port=$2 ;;
        --minor) minor=$2 ;;
        --disk) disk_opt_a=$2 ;;
        --peer-disk) disk_opt_b=$2 ;;
        --stage) stage=$2 ;;
        --build-dir) build=$2 ;;
        --throttle) throttle=$2 ;;
      esac
      shift ;;
    --wipe) wipe=1 ;;
    --dry-run) dry=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "$me: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[ -n "$disk_opt_b" ] || disk_opt_b=$disk_opt_a

# --- argument checks (nothing here may reach a shell or ssh as an option) ----------------------
bad() { echo "$me: $1" >&2; exit 2; }
[ -z "$peer" ] || [[ $peer =~ ^[A-Za-z0-9_][A-Za-z0-9_.@:%-]*$ ]] || bad "--peer '$peer' is not a host name (user@host)"
for a in "$addr_opt_a" "$addr_opt_b"; do
  [ -z "$a" ] || [[ $a =~ ^[0-9A-Fa-f.:]+$ ]] || bad "address '$a' is not an IPv4 or IPv6 address (no port, no brackets)"
done
[ -z "$port" ] || { [[ $port =~ ^[0-9]{1,5}$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ]; } || bad "--port '$port' is not 1..65535"
[ -z "$minor" ] || { [[ $minor =~ ^[0-9]{1,7}$ ]] && [ "$minor" -le 1048575 ]; } || bad "--minor '$minor' is not 0..1048575"
for d in "$disk_opt_a" "$disk_opt_b"; do
  [ -z "$d" ] || [[ $d =~ ^/[A-Za-z0-9/._+-]+$ ]] || bad "disk '$d' is not an absolute device path"
done
[[ $throttle =~ ^[0-9]+[kMG]?$ ]] || bad "--throttle '$throttle' is not a rate like 4M"

# --- tests and output ---------------------------------------------------------------------------
passes=0 fails=0 notes=0 started=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
note() { notes=$((notes+1)); echo "note: $*"; }
step() { echo; echo "=== $*"; }

ssh_opts=(-o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=10 -o ServerAliveCountMax=3)
quote_cmd() { local s; s=$(printf '%q ' "$@"); printf '%s' "${s% }"; }

# run_on NODE CMD...: CMD on node a (here) or b (the peer, through ssh); sets $out (stdout and
# stderr) and $rc. quiet=1 suppresses the command echo (polling loops).
quiet=0
run_on() {
  local node=$1
  shift
  if [ "$dry" = 1 ]; then
    [ "$quiet" = 1 ] || printf '  [%s] %s\n' "$node" "$(quote_cmd "$@")"
    out='' rc=0
    return 0
  fi
  [ "$quiet" = 1 ] || printf '  + [%s] %s\n' "$node" "$(quote_cmd "$@")"
  if [ "$node" = a ]; then
    out=$("$@" 2>&1 </dev/null)
    rc=$?
  else
    out=$(ssh "${ssh_opts[@]}" -n -- "$peer" "$(quote_cmd "$@")" 2>&1)
    rc=$?
    [ "$rc" != 255 ] || out="(ssh to $peer failed, exit 255) $out"
  fi
  return 0
}
# write_on NODE PATH: writes stdin to PATH on the node.
write_on() {
  local node=$1 path=$2 content
  content=$(cat)
  if [ "$dry" = 1 ]; then
    printf '  [%s] write %s:\n' "$node" "$path"
    printf '%s\n' "$content" | sed 's/^/        | /'
    rc=0
    return 0
  fi
  printf '  + [%s] write %s\n' "$node" "$path"
  if [ "$node" = a ]; then
    printf '%s\n' "$content" > "$path"
    rc=$?
  else
    printf '%s\n' "$content" | ssh "${ssh_opts[@]}" -- "$peer" "$(quote_cmd sh -c 'cat > "$1"' sh "$path")"
    rc=$?
  fi
}
expect_rc() {  # expect_rc WANT WHAT
  if [ "$dry" = 1 ]; then echo "  check: $2 → exit $1"; return 0; fi
  if [ "$rc" = "$1" ]; then pass "$2 → $rc"; return 0; fi
  fail "$2: exit $rc, expected $1: $out"
  return 1
}
expect_out() {  # expect_out REGEX WHAT: $out matches (grep -E)
  if [ "$dry" = 1 ]; then echo "  check: $2 (output matches /$1/)"; return 0; fi
  if grep -Eq -- "$1" <<<"$out"; then pass "$2"; return 0; fi
  fail "$2: output does not match /$1/: $out"
  return 1
}
# JSON of evosctl (read here, with python3).
jtrue() { python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if eval(sys.argv[1]) else 1)' "$1" 2>/dev/null; }
jsum() {  # one line out of `evosctl mirror status --json`
  python3 -c '
import json,sys
try:
    d=json.load(sys.stdin)
except Exception:
    print("(not JSON)"); sys.exit(0)
p=(d.get("peers") or [{}])[0]; pv=(p.get("volumes") or [{}])[0]; v=(d.get("volumes") or [{}])[0]
print("role=%s disk=%s connection=%s peer_role=%s peer_disk=%s replication=%s sync_done=%s health=%s (%s)" % (
    d.get("role"), v.get("disk"), p.get("connection"), p.get("role"), pv.get("peer_disk"), pv.get("replication"),
    d.get("sync_done_percent"), d.get("health"), d.get("reason")))' 2>/dev/null
}

# Probe DRBD on a node (also sent to the peer as `bash -c`): prints "skip: WHY" lines, and
# "info: ..." lines. Reads only; loads nothing.
probe_drbd() {
  local v='' why='' u=''
  if [ -r /proc/drbd ]; then
    v=$(sed -n 's/^version: \([0-9][0-9.]*\).*/\1/p' /proc/drbd | head -n1)
    [ -n "$v" ] || why="/proc/drbd shows no version line"
  else
    local modinfo
    modinfo=$(command -v modinfo || echo /sbin/modinfo)
    if [ ! -x "$modinfo" ]; then
      why="no DRBD kernel module: /proc/drbd is absent (module not loaded) and modinfo (kmod) is not installed, so 'modinfo drbd' fails"
    elif v=$("$modinfo" -F version drbd 2>/dev/null) && [ -n "$v" ]; then
      :
    else
      v=''
      why="no DRBD kernel module: 'modinfo drbd' fails for kernel $(uname -r) and /proc/drbd is absent"
    fi
  fi
  if [ -n "$v" ] && [ "${v%%.*}" != 9 ]; then
    why="the drbd kernel module is version $v, DRBD 9 is needed (the kernel's in-tree module is 8.4; use LINBIT's drbd-dkms)"
  fi
  [ -z "$why" ] && echo "info: drbd kernel module $v"
  [ -z "$why" ] || echo "skip: $why"
  if command -v drbdadm >/dev/null && command -v drbdsetup >/dev/null; then
    u=$(drbdadm --version 2>/dev/null | sed -n 's/^DRBDADM_VERSION=//p')
    if [ "${u%%.*}" = 9 ]; then echo "info: drbd-utils $u"
    else echo "skip: drbd-utils is ${u:-of unknown version}, version 9 is needed"; fi
  else
    echo "skip: drbd-utils is not installed (drbdadm, drbdsetup)"
  fi
  [ "$(id -u)" = 0 ] || echo "skip: not root (uid $(id -u)): DRBD and loop devices need root"
}

skip_banner() {  # skip_banner REASON...: the same banner on stdout and on stderr
  local r banner
  banner=$(
    echo "################################################################################"
    echo "###  SKIPPED: drbd/real-two-node ($me) did NOT run."
    echo "###  Nothing was tested on real DRBD. This is not a pass."
    echo "###"
    echo "###  Why:"
    for r in "$@"; do echo "###    - $r"; done
    echo "###"
    echo "###  What it needs:"
    echo "###    - two machines with the DRBD 9 kernel module (LINBIT's drbd-dkms; the kernel's"
    echo "###      in-tree drbd is 8.4) and drbd-utils 9, as root on both"
    echo "###    - root ssh from this node to the peer without a password (ssh -o BatchMode=yes)"
    echo "###    - evos on both: installed, or --stage DIR / EVOS_STAGE (copied to the peer),"
    echo "###      or --build-dir BUILD (what CTest passes)"
    echo "###    - the peer: --peer HOST or EVOS_DRBD_PEER; replication addresses: --address and"
    echo "###      --peer-address (default: the first of 'hostname -I' on each node)"
    echo "###    - optional: --disk DEV / --peer-disk DEV (spare devices; default: 256 MiB loop files)"
    echo "###  Run:    EVOS_DRBD_PEER=root@node2 ctest -R drbd/real-two-node --output-on-failure"
    echo "###    or: $me --peer root@node2 --address 10.0.0.1 --peer-address 10.0.0.2"
    echo "###  Review: $me --dry-run --peer root@node2   (prints the commands, runs none)"
    echo "################################################################################"
  )
  printf '%s\n' "$banner" >&2
  printf '%s\n' "$banner"
}

# --- per-node state --------------------------------------------------------------------------
declare -A work=() conf=() resfile=() shim=() evosctl=() agent=() disk=() loop=() uname_=() addr=() created=()
res='' teardown_done=0

cleanup() {
  local st=$? n
  [ "$teardown_done" = 1 ] && return
  teardown_done=1
  trap - EXIT INT TERM HUP
  if [ "$dry" = 1 ] || [ -n "${work[a]:-}${work[b]:-}" ]; then step "teardown (always runs: trap on exit)"; fi
  quiet=0
  for n in b a; do
    if [ "${created[$n]:-0}" = 1 ]; then
      rc=0
      [ "$dry" = 1 ] || quiet=1 run_on "$n" drbdsetup status "$res"   # still up? (the agent's stop took it down)
      if [ "$rc" = 0 ]; then
        run_on "$n" drbdadm -c "${conf[$n]}" down "$res"
        [ "$rc" = 0 ] || fail "teardown: [$n] drbdadm down $res (exit $rc): $out -- by hand: drbdadm -c ${conf[$n]} down $res"
      fi
    fi
    if [ -n "${loop[$n]:-}" ]; then
      run_on "$n" losetup -d "${loop[$n]}"
      [ "$rc" = 0 ] || fail "teardown: [$n] losetup -d ${loop[$n]} (exit $rc): $out"
    fi
    if [[ ${work[$n]:-} == /var/tmp/evos-drbd-real.* ]]; then
      run_on "$n" rm -rf -- "${work[$n]}"
    fi
  done
  if [ "$started" = 1 ] && [ "$dry" = 1 ]; then
    echo
    echo "drbd/real-two-node: DRY RUN: the commands above were printed; nothing was run, nothing was checked"
  elif [ "$started" = 1 ]; then
    [ "$st" = 0 ] && [ "$fails" -gt 0 ] && st=1
    echo
    echo "drbd/real-two-node: $passes passed, $fails failed$([ "$notes" = 0 ] || echo ", $notes notes")$([ "$st" = 0 ] || echo " (exit $st)")" \
      "(resource ${res:-none}, ${uname_[a]:-?} + ${uname_[b]:-?})"
  fi
  exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# --- may it run here? ---------------------------------------------------------------------------
reasons=()
while IFS= read -r line; do
  case $line in
    skip:*) reasons+=("this node ($(uname -n)): ${line#skip: }") ;;
  esac
done < <(probe_drbd)
[ -n "$peer" ] || reasons+=("no peer configured: neither --peer HOST nor EVOS_DRBD_PEER is set")
command -v python3 >/dev/null || reasons+=("python3 is not installed here (it reads evosctl's JSON)")
command -v losetup >/dev/null || reasons+=("losetup (util-linux) is not installed here")

if [ "$dry" = 1 ]; then
  echo "DRY RUN: the commands below are printed, none is run, nothing is checked."
  echo "[a] is this node, [b] the peer; a [b] command is passed to: ssh ${ssh_opts[*]} -n -- ${peer:-PEER} '<the quoted command>'"
  echo "Values only known at run time are placeholders (PEER-UNAME, /var/tmp/evos-drbd-real.PEER, /dev/loopN-...)."
  if [ ${#reasons[@]} -gt 0 ]; then
    echo "A real run here would be SKIPPED (exit 77):"
    printf '  - %s\n' "${reasons[@]}"
  fi
  [ -n "$peer" ] || peer=PEER
else
  if [ ${#reasons[@]} -eq 0 ]; then
    # Only now is the peer contacted: reachable as root, then the same probe there.
    run_on b id -u
    [ "$rc" = 0 ] || die 1 "cannot run commands on the peer: ssh ${ssh_opts[*]} -n -- $peer id -u: exit $rc: $out"
    [ "$out" = 0 ] || die 1 "ssh to $peer does not log in as root (uid $out): use --peer root@HOST"
    # The probe goes on stdin (bash -s): a function's newlines would need bash's $'...' quoting.
    out=$({ declare -f probe_drbd; echo probe_drbd; } | ssh "${ssh_opts[@]}" -- "$peer" "bash -s" 2>&1)
    rc=$?
    while IFS= read -r line; do
      case $line in skip:*) reasons+=("the peer ($peer): ${line#skip: }") ;; esac
    done <<<"$out"
    [ "$rc" = 0 ] || die 1 "probing DRBD on $peer failed (exit $rc): $out"
    run_on b sh -c 'command -v losetup >/dev/null'
    [ "$rc" = 0 ] || reasons+=("the peer ($peer): losetup (util-linux) is not installed")
  fi
  if [ ${#reasons[@]} -gt 0 ]; then
    skip_banner "${reasons[@]}"
    exit 77
  fi
fi

# --- setup -----------------------------------------------------------------------------------
started=1
step "setup: work directories, evos binaries, names"
if [ "$dry" = 1 ]; then
  work[a]=/var/tmp/evos-drbd-real.LOCAL work[b]=/var/tmp/evos-drbd-real.PEER
  printf '  [a] mktemp -d /var/tmp/evos-drbd-real.XXXXXX\n  [b] mktemp -d /var/tmp/evos-drbd-real.XXXXXX\n'
else
  work[a]=$(mktemp -d /var/tmp/evos-drbd-real.XXXXXX) || die 1 "mktemp here failed"
  run_on b mktemp -d /var/tmp/evos-drbd-real.XXXXXX
  if [ "$rc" != 0 ] || ! [[ $out =~ ^/var/tmp/evos-drbd-real\.[A-Za-z0-9]+$ ]]; then die 1 "mktemp on $peer failed: $out"; fi
  work[b]=$out
fi
for n in a b; do
  conf[$n]=${work[$n]}/drbd.conf
  shim[$n]=${work[$n]}/bin
  run_on "$n" mkdir -p -- "${shim[$n]}" "${work[$n]}/rsc"
  [ "$rc" = 0 ] || die 1 "[$n] mkdir in ${work[$n]}: $out"
done

# evos: a staged prefix (copied to the peer), a build directory staged here, or the installed one.
src_stage=''
if [ -n "$stage" ]; then
  src_stage=$(cd -- "$stage" 2>/dev/null && pwd) || die 2 "--stage $stage: no such directory"
elif [ -n "$build" ]; then
  src_stage=${work[a]}/stage
  run_on a cmake --install "$build" --prefix "$src_stage"
  [ "$rc" = 0 ] || die 1 "cmake --install $build failed (build it first: cmake --build $build): $out"
fi
if [ -n "$src_stage" ]; then
  evosctl[a]=$src_stage/sbin/evosctl agent[a]=$src_stage/lib/ocf/resource.d/evos/mirror
  evosctl[b]=${work[b]}/stage/sbin/evosctl agent[b]=${work[b]}/stage/lib/ocf/resource.d/evos/mirror
  if [ "$dry" = 1 ]; then
    echo "  [a→b] tar -C $(printf %q "$src_stage") -cf - . | ssh ... $(quote_cmd sh -c 'mkdir -p "$1" && tar -C "$1" -xf -' sh "${work[b]}/stage")"
  else
    echo "  + [a→b] copy $src_stage to ${work[b]}/stage"
    tar -C "$src_stage" -cf - . | ssh "${ssh_opts[@]}" -- "$peer" "$(quote_cmd sh -c 'mkdir -p "$1" && tar -C "$1" -xf -' sh "${work[b]}/stage")" \
      || die 1 "copying the stage to $peer failed"
  fi
else
  for n in a b; do
    run_on "$n" sh -c 'command -v evosctl || echo /usr/sbin/evosctl'
    evosctl[$n]=${out:-/usr/sbin/evosctl}
    agent[$n]=/usr/lib/ocf/resource.d/evos/mirror
  done
fi
for n in a b; do
  run_on "$n" "${evosctl[$n]}" mirror --help
  [ "$rc" = 0 ] || die 2 "[$n] evos is not usable: ${evosctl[$n]} mirror --help: exit $rc: $out (install evos, or give --stage/--build-dir)"
  [ "$n" = a ] && help_a=$out
  run_on "$n" "${agent[$n]}" meta-data
  [ "$rc" = 0 ] || die 2 "[$n] the mirror agent is not usable: ${agent[$n]} meta-data: exit $rc"
  [ "$dry" = 1 ] || grep -q 'name="drbdconf"' <<<"$out" || die 2 "[$n] ${agent[$n]} has no drbdconf parameter (too old)"
done
has_verify=1
[ "$dry" = 1 ] || grep -Eq '^ +verify ' <<<"$help_a" || has_verify=0

# The crm_attribute shim: no Pacemaker runs for this test, so the agent's promotion-score writes
# (crm_attribute --promotion -v N / -D) are stubbed and logged, as in tests/integration/mirror_agent.sh.
for n in a b; do
  write_on "$n" "${shim[$n]}/crm_attribute" <<EOF
#!/bin/sh
# drbd/real-two-node: stands in for Pacemaker's crm_attribute (no Pacemaker here); logs the call.
printf '%s %s\n' "\$OCF_RESOURCE_INSTANCE" "\$*" >> "${work[$n]}/attr.log"
EOF
  [ "$rc" = 0 ] || die 1 "[$n] cannot write the crm_attribute shim"
  run_on "$n" chmod 755 -- "${shim[$n]}/crm_attribute"
done

# Host names (DRBD picks its `on` section by uname -n) and replication addresses.
uname_[a]=$(uname -n)
if [ "$dry" = 1 ]; then uname_[b]=PEER-UNAME; echo "  [b] uname -n"; else run_on b uname -n; uname_[b]=$out; fi
[ "$dry" = 1 ] || [ "${uname_[a]}" != "${uname_[b]}" ] || die 2 "both nodes are named '${uname_[a]}' (uname -n): DRBD needs two names"
addr[a]=$addr_opt_a addr[b]=$addr_opt_b
for n in a b; do
  [ -z "${addr[$n]}" ] || continue
  if [ "$dry" = 1 ]; then
    addr[$n]=ADDRESS-$n
    [ "$n" = a ] || addr[$n]=PEER-ADDRESS
    echo "  [$n] hostname -I   (its first address, as no address was given)"
    continue
  fi
  quiet=1 run_on "$n" hostname -I
  addr[$n]=${out%% *}
  [[ ${addr[$n]} =~ ^[0-9A-Fa-f.:]+$ ]] \
    || die 2 "[$n] no replication address: 'hostname -I' gave '${out}'; give --address/--peer-address"
done
hostport() {  # hostport ADDR PORT: DRBD's address notation
  case $1 in *:*) printf '[%s]:%s' "$1" "$2" ;; *) printf '%s:%s' "$1" "$2" ;; esac
}
family() { case $1 in *:*) echo 6 ;; *) echo 4 ;; esac; }
[ "$dry" = 1 ] || [ "$(family "${addr[a]}")" = "$(family "${addr[b]}")" ] \
  || die 2 "the addresses ${addr[a]} and ${addr[b]} are of different families (IPv4 and IPv6)"

# A resource name, minor and port that nothing on either node uses.
pick_free() {
  local n busy=''
  for _ in 1 2 3 4 5 6 7 8; do
    res=evostest$RANDOM
    [ "$minor_given" = 1 ] || minor=$((20000 + RANDOM % 20000))
    [ "$port_given" = 1 ] || port=$((7800 + RANDOM % 200))
    [ "$dry" = 1 ] && return 0
    busy=''
    for n in a b; do
      quiet=1 run_on "$n" drbdsetup status "$res"
      [ "$rc" = 0 ] && busy="resource $res exists on $n"
      quiet=1 run_on "$n" test -e "/dev/drbd$minor"
      [ "$rc" = 0 ] && busy="/dev/drbd$minor exists on $n"
      quiet=1 run_on "$n" sh -c 'command -v ss >/dev/null || exit 0; [ -z "$(ss -Htan "( sport = :$1 )")" ]' sh "$port"
      [ "$rc" = 0 ] || busy="port $port is in use on $n"
    done
    [ -z "$busy" ] && return 0
    case $busy in   # a minor or port given on the command line stays busy
      /dev/drbd*) [ "$minor_given" = 0 ] || die 2 "$busy (--minor)" ;;
      port*) [ "$port_given" = 0 ] || die 2 "$busy (--port)" ;;
    esac
    echo "  ($busy; trying others)"
  done
  die 2 "no free resource name, minor and port found ($busy)"
}
minor_given=0 port_given=0
[ -z "$minor" ] || minor_given=1
[ -z "$port" ] || port_given=1
pick_free
echo "  resource $res, minor $minor, port $port; a = ${uname_[a]} ${addr[a]}, b = ${uname_[b]} ${addr[b]} ($peer)"
for n in a b; do resfile[$n]=${work[$n]}/$res.res; done

# Backing disks: spare devices (checked: a block device, not mounted, no signature unless --wipe)
# or a 256 MiB loop file in the work directory.
for n in a b; do
  want=$disk_opt_a
  [ "$n" = b ] && want=$disk_opt_b
  if [ -n "$want" ]; then
    run_on "$n" test -b "$want"
    [ "$rc" = 0 ] || die 2 "[$n] $want is not a block device"
    run_on "$n" sh -c '! lsblk -nro MOUNTPOINT "$1" 2>/dev/null | grep -q .' sh "$want"
    [ "$rc" = 0 ] || die 2 "[$n] $want (or a partition of it) is mounted"
    run_on "$n" sh -c 'blkid -p -o value -s TYPE "$1" 2>/dev/null' sh "$want"
    if [ -n "$out" ] && [ "$wipe" = 0 ]; then die 2 "[$n] $want carries a '$out' signature: give --wipe to overwrite it"; fi
    disk[$n]=$want
  else
    run_on "$n" truncate -s 256M "${work[$n]}/disk.img"
    [ "$rc" = 0 ] || die 1 "[$n] truncate: $out"
    run_on "$n" losetup --find --show -- "${work[$n]}/disk.img"
    if [ "$dry" = 1 ]; then out=/dev/loopN-$n; fi
    if [ "$rc" != 0 ] || ! [[ $out =~ ^/dev/loop[0-9]+$ || $dry = 1 ]]; then die 1 "[$n] losetup failed: $out"; fi
    loop[$n]=$out disk[$n]=$out
  fi
done

# --- helpers over the two nodes -------------------------------------------------------------------
drbdadm_on() { local n=$1; shift; run_on "$n" drbdadm -c "${conf[$n]}" "$@"; }
evosctl_on() { local n=$1; shift; run_on "$n" "${evosctl[$n]}" "$@"; }
status_on() { evosctl_on "$1" mirror status "$res" --json --drbdconf "${conf[$1]}"; }
# agent_on NODE ACTION [VAR=VALUE...]: the OCF agent as Pacemaker would call it (as mirror_agent.sh).
agent_on() {
  local n=$1 action=$2
  shift 2
  run_on "$n" env -u OCF_TRACE_RA -u HA_debug "PATH=${shim[$n]}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "HA_RSCTMP=${work[$n]}/rsc" OCF_ROOT=/usr/lib/ocf "OCF_RESOURCE_INSTANCE=m-$res" \
    "OCF_RESKEY_drbd_resource=$res" "OCF_RESKEY_drbdconf=${conf[$n]}" \
    OCF_RESKEY_CRM_meta_interval=10000 OCF_RESKEY_CRM_meta_timeout=60000 "$@" "${agent[$n]}" "$action"
}
# wait_status NODE SECONDS WHAT PYEXPR: evosctl mirror status --json until PYEXPR (over d) holds.
wait_status() {
  local n=$1 limit=$2 what=$3 expr=$4 t0=$SECONDS
  if [ "$dry" = 1 ]; then
    printf '  [%s] repeat (at most %ss): %s mirror status %s --json --drbdconf %s\n' "$n" "$limit" "${evosctl[$n]}" "$res" "${conf[$n]}"
    echo "  check: $what  [until $expr]"
    return 0
  fi
  printf '  + [%s] %s mirror status %s --json (until %s, at most %ss)\n' "$n" "${evosctl[$n]}" "$res" "$what" "$limit"
  while :; do
    quiet=1 status_on "$n"
    if [ "$rc" = 0 ] && jtrue "$expr" <<<"$out"; then
      pass "[$n] $what ($((SECONDS - t0)) s): $(jsum <<<"$out")"
      return 0
    fi
    if [ $((SECONDS - t0)) -ge "$limit" ]; then
      fail "[$n] $what: not within ${limit} s; last (exit $rc): $(jsum <<<"$out") $([ "$rc" = 0 ] || echo "$out")"
      return 1
    fi
    sleep 1
  done
}
# monitor_until NODE WANT SECONDS WHAT: the agent's monitor until it returns WANT.
monitor_until() {
  local n=$1 want=$2 limit=$3 what=$4 t0=$SECONDS
  if [ "$dry" = 1 ]; then agent_on "$n" monitor; echo "  check: [$n] $what → exit $want (repeated for at most ${limit}s)"; return 0; fi
  agent_on "$n" monitor
  while [ "$rc" != "$want" ] && [ $((SECONDS - t0)) -lt "$limit" ]; do
    sleep 1
    quiet=1 agent_on "$n" monitor
  done
  expect_rc "$want" "[$n] $what"
}
last_score() {  # last_score NODE WANT WHAT: the last crm_attribute call the shim logged
  if [ "$dry" = 1 ]; then echo "  check: $3: the last logged crm_attribute call is '$2'"; return 0; fi
  quiet=1 run_on "$1" tail -n 1 "${work[$1]}/attr.log"
  if [ "$out" = "$2" ]; then pass "$3: $2"; else fail "$3: last crm_attribute call '$out', expected '$2'"; fi
}
role_is() {  # role_is NODE ROLE
  if [ "$dry" = 1 ]; then status_on "$1"; echo "  check: [$1] role is $2"; return 0; fi
  quiet=1 status_on "$1"
  if jtrue "d['role'] == '$2'" <<<"$out"; then pass "[$1] is $2"; else fail "[$1] role: $(jsum <<<"$out"), expected $2"; fi
}
throttle_on_both() {  # fixed, low resync rate (the dynamic controller off), so a resync can be watched
  local n
  for n in a b; do
    drbdadm_on "$n" peer-device-options --c-plan-ahead=0 "--resync-rate=$throttle" "$res"
    expect_rc 0 "[$n] resync throttled to $throttle/s"
  done
}
unthrottle_on_both() {  # DRBD 9's defaults again (dynamic controller, c-max-rate 100M)
  local n
  for n in a b; do
    drbdadm_on "$n" peer-device-options --c-plan-ahead=20 --c-max-rate=100M --resync-rate=250k "$res"
    expect_rc 0 "[$n] resync rate back to DRBD's defaults"
  done
}
in_sync='d["volumes"][0]["disk"] == "UpToDate" and d["peers"][0]["connection"] == "Connected" and d["peers"][0]["volumes"][0]["peer_disk"] == "UpToDate" and d["sync_done_percent"] is None and d["health"] == "running"'

# --- the .res file ------------------------------------------------------------------------------
step "evosctl mirror create: the .res file on both nodes"
hosts=(--host "${uname_[a]},0,$(hostport "${addr[a]}" "$port"),${disk[a]}"
       --host "${uname_[b]},1,$(hostport "${addr[b]}" "$port"),${disk[b]}")
for n in a b; do
  evosctl_on "$n" mirror create "$res" --minor "$minor" "${hosts[@]}" --output "${resfile[$n]}"
  expect_rc 0 "[$n] evosctl mirror create $res --output ${resfile[$n]}"
  printf 'global { usage-count no; }\ninclude "%s";\n' "${resfile[$n]}" | write_on "$n" "${conf[$n]}"
done
if [ "$dry" = 1 ]; then
  echo "  [a] sha256sum ${resfile[a]}; [b] sha256sum ${resfile[b]}"; echo "  check: both nodes rendered the same file"
else
  quiet=1 run_on a sha256sum "${resfile[a]}"; sum_a=${out%% *}
  quiet=1 run_on b sha256sum "${resfile[b]}"; sum_b=${out%% *}
  if [ -n "$sum_a" ] && [ "$sum_a" = "$sum_b" ]; then pass "both nodes rendered the same .res"; else fail "the .res files differ ($sum_a, $sum_b)"; fi
fi
for n in a b; do
  drbdadm_on "$n" dump "$res"
  expect_rc 0 "[$n] drbdadm -c ${conf[$n]} dump $res (the real drbdadm parses it)"
done

# --- create-md, up, the initial sync --------------------------------------------------------------
step "drbdadm create-md and up on both nodes"
for n in a b; do
  drbdadm_on "$n" create-md --force "$res"
  expect_rc 0 "[$n] drbdadm create-md $res" || exit 1
done
for n in a b; do
  created[$n]=1   # from here on teardown runs `drbdadm down` for this resource on this node
  drbdadm_on "$n" up "$res"
  expect_rc 0 "[$n] drbdadm up $res" || exit 1
done
for n in a b; do
  wait_status "$n" 120 "connected, both Inconsistent" \
    'd["peers"][0]["connection"] == "Connected" and d["volumes"][0]["disk"] == "Inconsistent"' || exit 1
done

step "the initial sync (primary --force on a, throttled to $throttle/s)"
throttle_on_both
drbdadm_on a primary --force "$res"
expect_rc 0 "[a] drbdadm primary --force $res" || exit 1
wait_status a 60 "evosctl mirror status reports a as the sync source" 'd["sync_source"] and d["sync_done_percent"] is not None'
wait_status b 60 "evosctl mirror status reports b as the sync target" 'd["sync_target"] and d["volumes"][0]["disk"] == "Inconsistent"'
evosctl_on a node shutdown-check --drbdconf "${conf[a]}"
expect_rc 1 "[a] evosctl node shutdown-check on the sync source refuses"
expect_out "sync source" "[a] the refusal says it is the sync source"
evosctl_on b node shutdown-check --drbdconf "${conf[b]}"
expect_rc 0 "[b] evosctl node shutdown-check on the sync target allows"
agent_on a monitor
expect_rc 191 "[a] agent monitor of the Primary during the resync (degraded)"
agent_on b monitor
expect_rc 190 "[b] agent monitor of the sync target (degraded)"
agent_on a demote
expect_rc 1 "[a] agent demote of the sync source is refused (protect_sync_source)"
expect_out "sync source" "[a] the demote refusal says why"
unthrottle_on_both
for n in a b; do wait_status "$n" 600 "UpToDate/UpToDate after the initial sync" "$in_sync"; done
role_is a Primary
role_is b Secondary

# --- the agent on a healthy mirror; roles moved ---------------------------------------------------
step "ocf:evos:mirror: monitor, demote and promote between the nodes"
monitor_until b 0 20 "agent monitor of the Secondary"
last_score b "m-$res --promotion -v 100" "[b] the Secondary beside a Primary publishes 100"
monitor_until a 8 20 "agent monitor of the Primary"
last_score a "m-$res --promotion -v 10000" "[a] the Primary publishes 10000"
agent_on a demote
expect_rc 0 "[a] agent demote"
agent_on b promote
expect_rc 0 "[b] agent promote"
role_is a Secondary
role_is b Primary
monitor_until a 0 20 "agent monitor of a (Secondary now)"
monitor_until b 8 20 "agent monitor of b (Primary now)"
agent_on b demote
expect_rc 0 "[b] agent demote"
agent_on a promote
expect_rc 0 "[a] agent promote (back)"
role_is a Primary
role_is b Secondary
monitor_until a 8 20 "agent monitor of a (Primary again)"
monitor_until b 0 20 "agent monitor of b (Secondary again)"

# --- disconnect, reconnect --------------------------------------------------------------------------
# On the Secondary: a Secondary that disconnects outdates itself, so the Primary has nothing to
# fence (with `fencing resource-and-stonith` a Primary that loses its peer calls the fence-peer
# handler, which needs Pacemaker).
step "drbdadm disconnect on the Secondary (b), then connect"
drbdadm_on b disconnect "$res"
expect_rc 0 "[b] drbdadm disconnect $res"
monitor_until b 190 30 "agent monitor of the disconnected Secondary (degraded)"
monitor_until a 191 30 "agent monitor of the Primary without its peer (degraded)"
wait_status a 30 "evosctl mirror status on a says degraded" 'd["health"] == "degraded" and d["peers"][0]["connection"] != "Connected"'
drbdadm_on b connect "$res"
expect_rc 0 "[b] drbdadm connect $res"
for n in a b; do wait_status "$n" 300 "UpToDate/UpToDate after the reconnect" "$in_sync"; done
monitor_until a 8 30 "agent monitor of the Primary after the reconnect"
monitor_until b 0 30 "agent monitor of the Secondary after the reconnect"

# --- a forced resync: shutdown-check -------------------------------------------------------------
step "a forced full resync (drbdadm invalidate on b, throttled): shutdown-check"
throttle_on_both
drbdadm_on b invalidate "$res"
expect_rc 0 "[b] drbdadm invalidate $res (full resync from a)"
wait_status a 60 "a is the sync source of the forced resync" 'd["sync_source"] and not d["may_leave"]["yes"]'
wait_status b 60 "b is its sync target" 'd["sync_target"]'
evosctl_on a node shutdown-check --drbdconf "${conf[a]}"
expect_rc 1 "[a] evosctl node shutdown-check refuses on the sync source"
expect_out "refusing shutdown of ${uname_[a]}: $res: this node is the sync source" "[a] the refusal names the node and the mirror"
evosctl_on b node shutdown-check --drbdconf "${conf[b]}"
expect_rc 0 "[b] evosctl node shutdown-check allows the sync target"
unthrottle_on_both
for n in a b; do wait_status "$n" 600 "UpToDate/UpToDate after the forced resync" "$in_sync"; done
evosctl_on a node shutdown-check --drbdconf "${conf[a]}"
expect_rc 0 "[a] evosctl node shutdown-check allows once the resync has finished"

# --- online verify --------------------------------------------------------------------------------
step "evosctl mirror verify"
if [ "$has_verify" = 1 ]; then
  evosctl_on a mirror verify "$res" --wait --timeout 900 --drbdconf "${conf[a]}"
  expect_rc 0 "[a] evosctl mirror verify $res --wait (both copies compared)"
  expect_out "finished: in sync" "[a] the verify found the copies in sync"
else
  note "this evosctl has no 'mirror verify' (not in 'evosctl mirror --help'): verify not checked"
fi

# --- the agent stops both ---------------------------------------------------------------------------
step "ocf:evos:mirror stop on both nodes"
agent_on b stop
expect_rc 0 "[b] agent stop of the Secondary"
agent_on a stop
expect_rc 0 "[a] agent stop of the Primary"
for n in a b; do
  agent_on "$n" monitor
  expect_rc 7 "[$n] agent monitor after stop (not running)"
  last_score "$n" "m-$res --promotion -D" "[$n] stop removed the promotion score"
done

# The summary line follows the teardown (cleanup, on exit).
[ "$fails" -eq 0 ]
