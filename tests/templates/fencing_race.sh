#!/bin/bash
# crm-templates/fencing-race (crmsh and pcs forms) tested offline against CIB files: no cluster.
# Two nodes n1/n2 with real devices fence-n1/fence-n2 (fence_dummy); both forms load, crm_verify
# accepts them, each node's level 1 is "fence-race then its real device", priority-fencing-delay
# is 0, and the race device's parameters are the filled-in placeholders; the crmsh form through
# `evosctl cluster fence-race enable`, which refuses bad input first. fence_evos_race is
# overlaid into /usr/sbin in a private mount namespace, so crmsh and pcs can read its meta-data.
# Usage: fencing_race.sh BUILD_DIR. Needs root.
set -uo pipefail
# shellcheck source=staged_agents.sh
. "$(dirname "$0")/staged_agents.sh"
staged_agents_enter "$0" "$@"
tpl=$work/stage/share/evos/crm-templates
# shellcheck source=pcs_apply.sh
. "$(dirname "$0")/pcs_apply.sh"
# fenced, crmsh and pcs find fence agents in /usr/sbin: the staged one overlaid there too
[ -x "$work/stage/sbin/fence_evos_race" ] || { echo "FAIL: fence_evos_race not installed to sbin"; exit 1; }
mkdir -p "$work/sbin"
cp "$work/stage/sbin/fence_evos_race" "$work/sbin/"
mount -t overlay evos-sbin -o "lowerdir=$work/sbin:/usr/sbin" /usr/sbin || { echo "FAIL: cannot overlay /usr/sbin"; exit 1; }
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }

fill() {
  sed -e 's/@PEER_ADDRESSES@/n1=198.18.1.1 n2=198.18.1.2/g' -e 's/@TEST_IPS@/198.18.1.254 198.18.2.254/g' \
      -e 's/@DELAY@/5s/g' -e 's/@NODE1@/n1/g' -e 's/@NODE2@/n2/g' \
      -e 's/@FENCE_DEVICE1@/fence-n1/g' -e 's/@FENCE_DEVICE2@/fence-n2/g' "$1"
}
grep -q '@' <(fill "$tpl/fencing-race.crm" | grep -v '^#') && fail "crm: a placeholder is left" || pass "crm: every placeholder filled"
grep -q '@' <(fill "$tpl/fencing-race.pcs" | grep -v '^#') && fail "pcs: a placeholder is left" || pass "pcs: every placeholder filled"

check() {  # check FORM CIB
  local form=$1 cib=$2 n levels
  # Both nodes up and quorate first: an empty CIB's nodes are "unclean", which crm_verify warns about.
  crm_simulate -x "$cib" -u n1 -u n2 -q 1 -O "$form-up.xml" >/dev/null 2>&1 || fail "$form: crm_simulate (nodes up)"
  crm_verify -x "$form-up.xml" && pass "$form: crm_verify accepts it" || fail "$form: crm_verify"
  for n in n1 n2; do
    levels=$(xmllint --xpath "string(//fencing-level[@target='$n' and @index='1']/@devices)" "$cib" 2>/dev/null)
    [ "$levels" = "fence-race,fence-$n" ] && pass "$form: $n level 1 is fence-race,fence-$n" || fail "$form: $n level 1 '$levels'"
  done
  [ "$(xmllint --xpath "string(//cluster_property_set/nvpair[@name='priority-fencing-delay']/@value)" "$cib")" = 0 ] \
    && pass "$form: priority-fencing-delay=0" || fail "$form: priority-fencing-delay not 0"
  [ "$(xmllint --xpath "string(//primitive[@id='fence-race']//nvpair[@name='peer_addresses']/@value)" "$cib")" = "n1=198.18.1.1 n2=198.18.1.2" ] \
    && pass "$form: peer_addresses" || fail "$form: peer_addresses"
  [ "$(xmllint --xpath "string(//primitive[@id='fence-race']/@type)" "$cib")" = fence_evos_race ] \
    && pass "$form: stonith:fence_evos_race" || fail "$form: agent"
}

# --- crmsh form ------------------------------------------------------------------------------
cibadmin --empty > crm.xml
for n in n1 n2; do
  CIB_file=$work/crm.xml crm configure node "$n" >/dev/null 2>&1 || fail "crm: node $n"
  CIB_file=$work/crm.xml crm configure primitive "fence-$n" stonith:fence_dummy params pcmk_host_list="$n" >/dev/null 2>&1 \
    || fail "crm: fence device $n"
done
evosctl=$work/stage/sbin/evosctl
race_enable() { CIB_file=$work/crm.xml "$evosctl" cluster fence-race enable "$@" 2>&1; }
# refusals first (exit 2, the problem named, the CIB untouched)
refused() {  # refused WHAT PATTERN ARGS...
  local what=$1 pattern=$2 out rc; shift 2
  out=$(race_enable "$@"); rc=$?
  [ $rc -eq 2 ] && grep -q -- "$pattern" <<<"$out" && pass "refused: $what" || fail "$what: rc $rc: $out"
}
good=(--peers "n1=198.18.1.1 n2=198.18.1.2" --test-ips "198.18.1.254 198.18.2.254")
refused "one node in --peers" "two nodes\|two-node" --peers "n1=198.18.1.1" --test-ips 198.18.1.254 --device n1=fence-n1
refused "a name instead of an address" "peer_addresses" --peers "n1=host1 n2=198.18.1.2" --test-ips 198.18.1.254 --device n1=fence-n1 --device n2=fence-n2
refused "no device for n2" "no fence device for node 'n2'" "${good[@]}" --device n1=fence-n1
refused "a device for an unknown node" "not in --peers" "${good[@]}" --device n1=fence-n1 --device n3=fence-n2
refused "a hostile device name" "device" "${good[@]}" --device n1=fence-n1 --device 'n2=x;reboot'
refused "a malformed delay" "delay" "${good[@]}" --device n1=fence-n1 --device n2=fence-n2 --delay 5parsecs
refused "a hostile test IP" "test_ips" --peers "n1=198.18.1.1 n2=198.18.1.2" --test-ips '198.18.1.254;id' --device n1=fence-n1 --device n2=fence-n2
xmllint --xpath '//primitive[@id="fence-race"]' crm.xml >/dev/null 2>&1 && fail "a refused call changed the CIB" || pass "the refused calls left the CIB alone"
out=$(race_enable "${good[@]}" --device n1=fence-n1 --device n2=fence-n2 --delay 5s) \
  && pass "evosctl cluster fence-race enable applies fencing-race.crm: $out" || fail "fence-race enable: $out"
! grep -q -- '<!--' crm.xml && pass "no template comment in the CIB" || fail "comments in the CIB"
check crm crm.xml
[ "$(xmllint --xpath "string(//primitive[@id='fence-race']//nvpair[@name='timeout']/@value)" crm.xml)" = 250ms ] \
  && pass "crm: the ICMP timeout is 250ms" || fail "crm: timeout"
fill "$tpl/fencing-race.crm" > race.crm
out=$(CIB_file=$work/crm.xml crm configure load update race.crm 2>&1) && pass "fencing-race.crm filled by hand loads too" || fail "fencing-race.crm: $out"

# --- pcs form --------------------------------------------------------------------------------
cibadmin --empty > pcs.xml
ok=1
for n in n1 n2; do
  CIB_file=$work/pcs.xml crm configure node "$n" >/dev/null 2>&1 || ok=0
  pcs -f pcs.xml stonith create "fence-$n" fence_dummy pcmk_host_list="$n" >/dev/null 2>&1 || ok=0
done
fill "$tpl/fencing-race.pcs" | pcs_apply pcs.xml || ok=0
[ $ok = 1 ] && pass "pcs accepts fencing-race.pcs (and the agent's meta-data)" || fail "pcs fencing-race.pcs"
check pcs pcs.xml

echo "$passes passed, $fails failed"
[ $fails = 0 ]
