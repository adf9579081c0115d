#!/bin/bash
# evosctl net on real libvirtd hosts (tests/support/virt-hosts.sh): a NAT network created on both
# hosts through their URIs (libvirt's network driver, dnsmasq and iptables inside each host's
# network namespace), listed as identical, a guest on it that gets its static DHCP address and
# pings the gateway (EVOS-NET lines of tests/support/build-guest.sh) and keeps its address across
# a live migration to the other host, cluster check (over a CIB file; networks, and a disk on one
# host's local storage) with the network on both
# hosts and with it stopped on one, a bridge network refused while a host lacks its bridge, a
# second create that is
# "already exists", a differing definition named, a delete refused while a domain uses the
# network, and the VM agent refusing (validate-all, start: 5) a domain on a network its host lacks.
# Usage: net_real.sh BUILD_DIR EVOSCTL VM_AGENT. Needs root (namespaces, libvirtd).
set -uo pipefail
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, libvirtd)"; exit 77; }
build=$(cd "$1" && pwd)
evosctl=$(readlink -f "$2")
agent=$(readlink -f "$3")
here=$(cd "$(dirname "$0")/../.." && pwd)
prefix=${EVOS_TEST_PREFIX:-n$(printf '%04d' $((RANDOM % 10000)))}
base=${EVOS_TEST_BASE:-/tmp/evos-$prefix}
guest=$build/guest-cache
shared=$base/shared
dom=evn1
mac=52:54:00:18:77:10
export EVOS_TEST_PREFIX=$prefix EVOS_TEST_BASE=$base
hosts() { "$here/tests/support/virt-hosts.sh" "$@"; }
cleanup() { hosts down >/dev/null 2>&1; rm -rf "$base"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
die() { echo "FAIL: $*"; echo "net_real: $passes passed, $((fails+1)) failed"; exit 1; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

"$here/tests/support/build-guest.sh" "$guest" || die "cannot build the test guest"
mkdir -p "$shared"
hosts up || die "the libvirt hosts did not come up"
uri1=$(hosts uri 1) uri2=$(hosts uri 2)
both=(--hypervisor "$uri1" --hypervisor "$uri2")
E() { "$evosctl" "$@"; }
# E_rc WANT WHAT ARGS...: evosctl's exit code and output ($OUT)
E_rc() {
  local want=$1 what=$2; shift 2
  OUT=$(E "$@" 2>&1); local rc=$?
  if [ "$rc" -eq "$want" ]; then pass "$what (rc $rc)"; else fail "$what: rc $rc, expected $want"; echo "$OUT" | sed 's/^/    /'; fi
}

# --- create on both hosts ---
create=(net create evnat --nat 198.18.77.1/24 --dhcp-range 198.18.77.100-198.18.77.150 --host "$mac=198.18.77.10")
E_rc 0 "net create on both hosts" "${create[@]}" "${both[@]}"
[ "$(grep -c ': created$' <<<"$OUT")" = 2 ] && pass "created on both" || fail "create said: $OUT"
for h in 1 2; do
  info=$(hosts virsh "$h" net-info evnat 2>&1)
  grep -Eq '^Active: +yes' <<<"$info" && pass "host $h: active" || fail "host $h: evnat not active: $info"
  grep -Eq '^Autostart: +yes' <<<"$info" && pass "host $h: autostart" || fail "host $h: no autostart: $info"
done
m1=$(hosts virsh 1 net-dumpxml evnat | grep -o "<mac address='[^']*'")
m2=$(hosts virsh 2 net-dumpxml evnat | grep -o "<mac address='[^']*'")
[ -n "$m1" ] && [ "$m1" = "$m2" ] && pass "the gateway has the same MAC on both hosts ($m1)" || fail "gateway MACs: '$m1' '$m2'"
list=$(E net list --json "${both[@]}") || fail "net list --json failed"
[ "$(json '[n["identical"] for n in d["networks"] if n["name"]=="evnat"][0]' <<<"$list")" = True ] &&
  pass "net list --json: identical on both" || fail "net list: $list"
[ "$(json '[n for n in d["networks"] if n["name"]=="evnat"][0]["nodes"][1]["definition"]["hosts"][0]["ip"]' <<<"$list")" = 198.18.77.10 ] &&
  pass "net list --json shows the static host" || fail "net list: $list"

# --- a guest on it: its static DHCP address, the gateway answers ---
hosts domain-xml "$dom" "$shared" "$guest" "$shared/$dom.xml" 128 || die "cannot write the domain XML"
sed -i "s|  </devices>|    <interface type='network'><mac address='$mac'/><source network='evnat'/><model type='virtio'/></interface>\n  </devices>|" \
  "$shared/$dom.xml"
hosts virsh 1 define "$shared/$dom.xml" >/dev/null || die "cannot define $dom"
mark=$(hosts serial-mark "$shared" "$dom")
hosts virsh 1 start "$dom" >/dev/null || die "cannot start $dom"
hosts wait-boot "$shared" "$dom" "$mark" 60 >/dev/null || die "the guest did not boot and tick"
net_line() { tail -c +$((mark + 1)) "$shared/$dom.serial.log" 2>/dev/null | tr -d '\r' | grep -a "^EVOS-NET $1" | tail -n 1; }
for _ in $(seq 1 600); do [ -n "$(net_line 'gw-ping\|dhcp')" ] && break; sleep 0.1; done
lease=$(net_line ip=)
[ "$lease" = "EVOS-NET ip=198.18.77.10 gw=198.18.77.1" ] && pass "the guest got its static DHCP address ($lease)" ||
  fail "lease line: '$lease' ($(net_line 'dhcp'))"
[ "$(net_line gw-ping)" = "EVOS-NET gw-ping ok" ] && pass "the guest pings the gateway" || fail "gateway ping: '$(net_line gw-ping)'"

# --- cluster check: a CIB file (Pacemaker's CIB_file) with nodes h1, h2 and the VM as an
# ocf:evos:vm primitive; each node's libvirtd reached through its socket (%n = h1, h2) ---
cib=$base/cib.xml
cibadmin --empty > "$cib" || die "cibadmin --empty"
for n in 1 2; do CIB_file=$cib cibadmin --create -o nodes -X "<node id=\"$n\" uname=\"h$n\"/>" || die "CIB node h$n"; done
CIB_file=$cib cibadmin --create -o resources -X "<primitive id=\"vm-$dom\" class=\"ocf\" provider=\"evos\" type=\"vm\">
  <instance_attributes id=\"vm-$dom-ia\"><nvpair id=\"vm-$dom-config\" name=\"config\" value=\"$shared/$dom.xml\"/></instance_attributes>
  </primitive>" || die "CIB primitive"
check() { CIB_file=$cib "$evosctl" cluster check --remote-hypervisor "qemu+unix:///system?socket=$base/%n/run/libvirt-sock" "$@"; }
OUT=$(check --json 2>&1); rc=$?
[ "$rc" = 0 ] && [ "$(json 'd["ok"], len(d["findings"]), len(d["vms"])' <<<"$OUT")" = "True 0 1" ] &&
  pass "cluster check: $dom's network is on both nodes (rc 0)" || fail "cluster check: rc $rc: $OUT"

# --- cluster check of storage: each host has its own /var/lib/libvirt ($base/hN/lib here), so a
# disk there is on host 1 only, as a disk on a node's local storage is ---
mkdir -p "$base/h1/lib/evos-local"
qemu-img create -q -f qcow2 "$base/h1/lib/evos-local/evn3.qcow2" 16M || die "cannot create evn3's disk"
sed "s|<name>$dom</name>|<name>evn3</name>|; s|<uuid>[^<]*</uuid>||; s|file='$shared/$dom.qcow2'|file='/var/lib/libvirt/evos-local/evn3.qcow2'|" \
  "$shared/$dom.xml" > "$shared/evn3.xml"
grep -q "/var/lib/libvirt/evos-local/evn3.qcow2" "$shared/evn3.xml" || die "evn3.xml names no local disk"
CIB_file=$cib cibadmin --create -o resources -X "<primitive id=\"vm-evn3\" class=\"ocf\" provider=\"evos\" type=\"vm\">
  <instance_attributes id=\"vm-evn3-ia\"><nvpair id=\"vm-evn3-config\" name=\"config\" value=\"$shared/evn3.xml\"/></instance_attributes>
  </primitive>" || die "CIB primitive vm-evn3"
OUT=$(check 2>&1); rc=$?
[ "$rc" = 1 ] && grep -q "^PROBLEM vm-evn3 on h2: vm-evn3 needs /var/lib/libvirt/evos-local on h2, which that node cannot read: .*No such file or directory" <<<"$OUT" &&
  pass "cluster check names the directory h2 lacks (rc 1)" || fail "cluster check: rc $rc: $OUT"
grep -q "vm-evn3 on h1" <<<"$OUT" && fail "cluster check found a problem on h1, which has the disk: $OUT" || pass "and none on h1"
grep -q "vm-$dom" <<<"$OUT" && fail "cluster check found a problem with $dom: $OUT" || pass "and none with $dom (definition, disk, kernel, initrd on both)"
mkdir -p "$base/h2/lib/evos-local"
OUT=$(check --json 2>&1); rc=$?
[ "$rc" = 1 ] && [ "$(json '[(f["node"], f["problem"], f["source"]) for f in d["findings"]]' <<<"$OUT")" = \
  "[('h2', 'file-missing', '/var/lib/libvirt/evos-local/evn3.qcow2')]" ] &&
  pass "cluster check --json: the disk is missing on h2 once the directory exists (rc 1)" || fail "cluster check: rc $rc: $OUT"
for h in 1 2; do
  hosts virsh "$h" pool-list --all --name 2>&1 | grep -q . && fail "host $h has storage pools left: $(hosts virsh "$h" pool-list --all --name 2>&1)" ||
    pass "host $h: no storage pool left behind by the check"
done
cp "$base/h1/lib/evos-local/evn3.qcow2" "$base/h2/lib/evos-local/evn3.qcow2"
OUT=$(check 2>&1); rc=$?
[ "$rc" = 0 ] && pass "cluster check: evn3's disk on both hosts (rc 0)" || fail "cluster check: rc $rc: $OUT"
CIB_file=$cib cibadmin --delete -o resources -X '<primitive id="vm-evn3"/>' || die "cannot remove vm-evn3 from the CIB file"
rm -f "$shared/evn3.xml"

# --- live migration: the guest keeps its address, now behind host 2's NAT ---
hosts in-net 1 ping -c 2 -W 2 198.18.77.10 >/dev/null 2>&1 && pass "host 1 reaches the guest on evnat" || fail "host 1 cannot ping the guest"
hosts virsh 2 net-destroy evnat >/dev/null || die "cannot stop evnat on host 2"
OUT=$(hosts in-net 1 virsh -c "$uri1" migrate --live --p2p --persistent --undefinesource --unsafe "$dom" qemu+tcp://198.19.0.2/system 2>&1) &&
  fail "a live migration to host 2 with evnat stopped there succeeded" ||
  { grep -q "network 'evnat' is not active" <<<"$OUT" && pass "host 2 refuses the migration while evnat is stopped there" || fail "migration said: $OUT"; }
[ "$(hosts virsh 1 domstate "$dom" 2>/dev/null)" = running ] && pass "the guest still runs on host 1" || fail "the guest left host 1"
hosts virsh 2 net-start evnat >/dev/null || die "cannot start evnat on host 2"
hosts in-net 1 virsh -c "$uri1" migrate --live --p2p --persistent --undefinesource --unsafe "$dom" qemu+tcp://198.19.0.2/system \
  >/dev/null 2>&1 || die "live migration failed"
hosts in-net 2 ping -c 3 -W 2 198.18.77.10 >/dev/null 2>&1 && pass "after a live migration host 2 reaches the guest at the same address" ||
  fail "host 2 cannot ping the guest after the migration"
hosts in-net 1 ping -c 1 -W 1 198.18.77.10 >/dev/null 2>&1 && fail "host 1 still reaches the guest" || pass "host 1 no longer does"

# --- again: already exists; a different definition is named ---
E_rc 0 "net create again" "${create[@]}" "${both[@]}"
[ "$(grep -c ': already exists$' <<<"$OUT")" = 2 ] && pass "again: 'already exists' on both" || fail "again said: $OUT"
E_rc 2 "net create with another DHCP range" net create evnat --nat 198.18.77.1/24 --dhcp-range 198.18.77.100-198.18.77.160 \
  --host "$mac=198.18.77.10" "${both[@]}"
grep -q "DHCP range: 198.18.77.100-198.18.77.160 on the request, 198.18.77.100-198.18.77.150 on $uri1" <<<"$OUT" &&
  pass "the difference is named" || fail "difference: $OUT"
# A network defined differently on each host (by hand, or before evos): net list says how.
E_rc 0 "a network on host 1 only" net create evdiff --nat 198.18.78.1/24 --hypervisor "$uri1"
E_rc 0 "the same name on host 2, another range" net create evdiff --nat 198.18.78.1/24 --dhcp-range 198.18.78.10-198.18.78.20 --hypervisor "$uri2"
list=$(E net list --json "${both[@]}")
[ "$(json '[n["identical"] for n in d["networks"] if n["name"]=="evdiff"][0]' <<<"$list")" = False ] &&
  pass "net list: evdiff is not identical" || fail "net list: $list"
json '[n["problems"] for n in d["networks"] if n["name"]=="evdiff"][0][0]' <<<"$list" |
  grep -q "^differs on $uri2: DHCP range: 198.18.78.128-198.18.78.254 on $uri1, 198.18.78.10-198.18.78.20 on $uri2" &&
  pass "net list names the difference" || fail "problems: $list"
E_rc 0 "delete evdiff" net delete evdiff --yes "${both[@]}"

# --- delete refused while a domain uses the network ---
E_rc 2 "net delete without --yes" net delete evnat "${both[@]}"
E_rc 2 "net delete while $dom runs on it" net delete evnat --yes "${both[@]}"
grep -q "in use by $dom (running) on $uri2" <<<"$OUT" && pass "the refusal names the domain and its host" || fail "refusal: $OUT"
hosts virsh 2 destroy "$dom" >/dev/null 2>&1
E_rc 2 "net delete while $dom is defined on it" net delete evnat --yes "${both[@]}"
grep -q "in use by $dom (defined) on $uri2" <<<"$OUT" && pass "a defined domain counts too" || fail "refusal: $OUT"
hosts virsh 2 undefine "$dom" >/dev/null 2>&1

# --- the VM agent on a host without the network: validate-all and start are 5 ---
ra() {
  local n=$1 action=$2; shift 2
  hosts in-net "$n" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin OCF_ROOT=/usr/lib/ocf HA_RSCTMP="$base/rsc$n" \
    OCF_RESOURCE_INSTANCE=$dom OCF_RESKEY_config="$shared/$dom.xml" OCF_RESKEY_hypervisor="$(hosts uri "$n")" \
    OCF_RESKEY_CRM_meta_timeout=60000 "$@" "$agent" "$action"
}
OUT=$(ra 2 validate-all OCF_CHECK_LEVEL=10 2>&1) && pass "validate-all on host 2 with evnat there (rc 0)" || fail "validate-all: $OUT"
hosts virsh 2 net-destroy evnat >/dev/null || fail "cannot stop evnat on host 2"
OUT=$(ra 2 validate-all OCF_CHECK_LEVEL=10 2>&1); rc=$?
[ "$rc" = 5 ] && pass "validate-all on host 2 with evnat stopped: rc 5 (OCF_ERR_INSTALLED)" || fail "validate-all: rc $rc: $OUT"
OUT=$(ra 2 start 2>&1); rc=$?
[ "$rc" = 5 ] && pass "start on host 2 with evnat stopped: rc 5" || fail "start: rc $rc: $OUT"
grep -q "lacks libvirt network here: 'evnat' (defined, not active)" <<<"$OUT" && pass "the agent names the network" || fail "agent said: $OUT"
hosts virsh 2 dominfo "$dom" >/dev/null 2>&1 && fail "the refused start defined $dom on host 2" || pass "nothing defined on host 2"
OUT=$(check 2>&1); rc=$?
[ "$rc" = 1 ] && grep -q "^PROBLEM vm-$dom on h2: network 'evnat' is defined but not active on h2" <<<"$OUT" &&
  pass "cluster check names the inactive network on h2 (rc 1)" || fail "cluster check: rc $rc: $OUT"
list=$(E net list --json "${both[@]}")
json '[n["problems"] for n in d["networks"] if n["name"]=="evnat"][0]' <<<"$list" | grep -q "inactive on $uri2" &&
  pass "net list: evnat inactive on host 2" || fail "net list: $list"
E_rc 0 "net create starts it again on host 2" "${create[@]}" "${both[@]}"
grep -q "$uri2: already exists, started" <<<"$OUT" && pass "said so" || fail "create said: $OUT"

# --- a bridge network: the host bridge must exist on every host ---
hosts in-net 1 ip link add evbr0 type bridge || die "cannot add bridge evbr0 on host 1"
E_rc 2 "net create --bridge with evbr0 on host 1 only" net create evpub --bridge evbr0 "${both[@]}"
grep -q "host bridge evbr0 does not exist on $uri2" <<<"$OUT" && pass "the missing bridge is named" || fail "said: $OUT"
hosts virsh 1 net-info evpub >/dev/null 2>&1 && fail "evpub was defined on host 1 anyway" || pass "nothing defined"
hosts in-net 2 ip link add evbr0 type bridge || die "cannot add bridge evbr0 on host 2"
E_rc 0 "net create --bridge with evbr0 on both" net create evpub --bridge evbr0 "${both[@]}"
list=$(E net list --json "${both[@]}")
[ "$(json '[n["identical"] for n in d["networks"] if n["name"]=="evpub"][0]' <<<"$list")" = True ] &&
  pass "net list: evpub identical" || fail "net list: $list"
# cluster check on a VM with a host-bridge interface: missing on h2 once its bridge is gone
sed "s|<name>$dom</name>|<name>evn2</name>|; s|<interface type='network'>.*</interface>|<interface type='bridge'><source bridge='evbr0'/><model type='virtio'/></interface>|" \
  "$shared/$dom.xml" > "$shared/evn2.xml"
CIB_file=$cib cibadmin --create -o resources -X "<primitive id=\"vm-evn2\" class=\"ocf\" provider=\"evos\" type=\"vm\">
  <instance_attributes id=\"vm-evn2-ia\"><nvpair id=\"vm-evn2-config\" name=\"config\" value=\"$shared/evn2.xml\"/></instance_attributes>
  </primitive>" || die "CIB primitive vm-evn2"
OUT=$(check --json 2>&1); rc=$?
[ "$rc" = 0 ] && pass "cluster check: evbr0 on both hosts (rc 0)" || fail "cluster check: rc $rc: $OUT"
hosts in-net 2 ip link del evbr0
OUT=$(check 2>&1); rc=$?
[ "$rc" = 1 ] && grep -q "^PROBLEM vm-evn2 on h2: host bridge evbr0 does not exist on h2" <<<"$OUT" &&
  pass "cluster check names the missing host bridge (rc 1)" || fail "cluster check: rc $rc: $OUT"
E_rc 0 "net delete evpub" net delete evpub --yes "${both[@]}"

# --- delete ---
E_rc 0 "net delete when nothing uses it" net delete evnat --yes "${both[@]}"
[ "$(grep -c ': deleted$' <<<"$OUT")" = 2 ] && pass "deleted on both" || fail "delete said: $OUT"
hosts virsh 1 net-info evnat >/dev/null 2>&1 && fail "evnat still on host 1" || pass "gone from host 1"
E_rc 3 "net delete again: not found" net delete evnat --yes "${both[@]}"

echo "net_real: $passes passed, $fails failed"
[ "$fails" = 0 ]
