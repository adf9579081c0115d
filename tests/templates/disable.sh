#!/bin/bash
# Taking out what evosctl put in, against CIB files (no cluster):
#  - `vm ha disable` after `vm ha enable`, `cluster testip enable --vm` and a move leaves no trace
#    of the VM in the CIB (grep for its name), the other VM and its rules untouched; a running
#    VM is refused without --stop (and with --stop it is not removed before it has stopped);
#  - `cluster testip disable` gives back the configuration from before `testip enable`;
#  - `cluster fence-race disable` gives back the fencing topology and priority-fencing-delay
#    from before `fence-race enable` (exactly, ids included), with and without a topology;
#  - bad input is exit 2, nothing to remove is exit 3, and the CIB is untouched by either.
# Usage: disable.sh BUILD_DIR. Needs root (private mount namespace, see staged_agents.sh).
set -uo pipefail
# shellcheck source=staged_agents.sh
. "$(dirname "$0")/staged_agents.sh"
staged_agents_enter "$0" "$@"
# crmsh reads fence_evos_race's meta-data from /usr/sbin: the staged one overlaid there
mkdir -p "$work/sbin"
cp "$work/stage/sbin/fence_evos_race" "$work/sbin/" || { echo "FAIL: fence_evos_race not staged"; exit 1; }
mount -t overlay evos-sbin -o "lowerdir=$work/sbin:/usr/sbin" /usr/sbin || { echo "FAIL: cannot overlay /usr/sbin"; exit 1; }
evosctl=$work/stage/sbin/evosctl
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
# The configuration, canonical (attributes sorted: the CIB may store them in another order).
config() { CIB_file=$1 cibadmin --query --scope configuration 2>/dev/null | xmllint --c14n - 2>/dev/null; }
ctl() { local cib=$1; shift; CIB_file=$cib "$evosctl" "$@" 2>&1; }
untouched() {  # untouched WHAT CIB EXPECTED_RC ARGS...: exit EXPECTED_RC and the CIB file byte for byte the same
  local what=$1 cib=$2 want=$3 out rc; shift 3
  cp "$cib" untouched.xml
  out=$(ctl "$cib" "$@"); rc=$?
  [ $rc = "$want" ] && cmp -s "$cib" untouched.xml && pass "$what: exit $rc, the CIB untouched ($out)" \
    || fail "$what: rc $rc (want $want), $(cmp -s "$cib" untouched.xml && echo unchanged || echo CHANGED): $out"
}

# --- a cluster with two VMs, test IPs for both, web1 moved by hand ------------------------------
cibadmin --empty > vm.xml
for n in n1 n2; do
  CIB_file=$work/vm.xml crm configure node "$n" >/dev/null 2>&1 || fail "node $n"
  CIB_file=$work/vm.xml crm configure primitive "fence-$n" stonith:fence_dummy params pcmk_host_list="$n" >/dev/null 2>&1 || fail "fence-$n"
done
out=$(ctl vm.xml cluster init) || fail "cluster init: $out"
for vm in web1 web2; do
  out=$(ctl vm.xml vm ha enable $vm --config /srv/evos/$vm.xml --no-wait) && pass "vm ha enable $vm" || fail "vm ha enable $vm: $out"
done
config vm.xml > before-testip.xml
out=$(ctl vm.xml cluster testip enable --hosts "198.18.1.254 198.18.2.254" --vm web1 --vm web2) \
  && pass "testip enable --vm web1 --vm web2" || fail "testip enable: $out"
CIB_file=$work/vm.xml crm_resource --resource vm-web1 --move --node n2 >/dev/null 2>&1 || fail "crm_resource --move"
for id in vm-web1 vm-web1-testip-none vm-web1-testip-more cli-prefer-vm-web1; do
  grep -q "id=\"$id\"" vm.xml || fail "setup: no $id"
done

untouched "vm ha disable of a hostile name" vm.xml 2 vm ha disable 'web1;reboot'
untouched "vm ha disable of a VM the cluster does not know" vm.xml 3 vm ha disable web9
untouched "vm ha disable with an unknown option" vm.xml 2 vm ha disable web1 --bogus

out=$(ctl vm.xml vm ha disable web1) && pass "vm ha disable web1: $out" || fail "vm ha disable web1: $out"
! grep -q web1 vm.xml && pass "the CIB holds nothing of web1 (no 'web1' anywhere in it)" \
  || fail "left of web1: $(grep web1 vm.xml)"
for id in vm-web2 vm-web2-testip-none vm-web2-testip-more testip-clone; do
  grep -q "id=\"$id\"" vm.xml && pass "$id is still there" || fail "$id went too"
done
crm_verify -x vm.xml >/dev/null 2>&1 || { crm_simulate -x vm.xml -u n1 -u n2 -q 1 -O up.xml >/dev/null 2>&1; crm_verify -x up.xml; } \
  && pass "crm_verify accepts what is left" || fail "crm_verify after vm ha disable"
untouched "a second vm ha disable web1" vm.xml 3 vm ha disable web1

# --- a running VM ---------------------------------------------------------------------------------
# crm_simulate carries out the transition: web2 runs, as the status section says.
crm_simulate -x vm.xml -u n1 -u n2 -q 1 -O up.xml >/dev/null 2>&1 || fail "crm_simulate (nodes up)"
for n in n1 n2; do CIB_file=$work/up.xml crm_attribute -N $n -n evos-testip -l reboot -v 2000 >/dev/null 2>&1 || fail "attribute $n"; done
crm_simulate -x up.xml -S -O running.xml >/dev/null 2>&1 || fail "crm_simulate (start)"
where=$(CIB_file=$work/running.xml crm_mon -1 --output-as=xml 2>/dev/null | xmllint --xpath 'string(//resource[@id="vm-web2"]/node/@name)' - 2>/dev/null)
[ -n "$where" ] || fail "setup: vm-web2 not running in the simulation"
out=$(ctl running.xml vm ha disable web2); rc=$?
[ $rc = 2 ] && grep -q "runs on $where" <<<"$out" && grep -q -- --stop <<<"$out" && grep -q 'id="vm-web2"' running.xml \
  && pass "a running VM is refused without --stop, named where it runs: $out" || fail "running VM: rc $rc: $out"
# --stop: the cluster is asked to stop it; nothing carries that out in a CIB file, so it is still
# running at the deadline: it must not have been removed.
out=$(ctl running.xml vm ha disable web2 --stop --timeout 2); rc=$?
[ $rc = 7 ] && grep -q "vm-web2 is Started on $where at the deadline" <<<"$out" && grep -q 'id="vm-web2"' running.xml \
  && [ "$(xmllint --xpath 'string(//primitive[@id="vm-web2"]//nvpair[@name="target-role"]/@value)' running.xml)" = Stopped ] \
  && pass "--stop sets target-role=Stopped and does not remove a VM that has not stopped (exit 7: $out)" \
  || fail "--stop while running: rc $rc: $out"
crm_simulate -x running.xml -S -O stopped.xml >/dev/null 2>&1 || fail "crm_simulate (stop)"
out=$(ctl stopped.xml vm ha disable web2 --stop) && pass "once stopped, vm ha disable --stop removes it: $out" || fail "stopped: $out"
! config stopped.xml | grep -q web2 && pass "the configuration holds nothing of web2" || fail "left of web2: $(config stopped.xml | grep web2)"

# --- testip disable: back to the configuration before testip enable -------------------------------
cibadmin --empty > tip.xml
CIB_file=$work/tip.xml crm configure node n1 >/dev/null 2>&1
CIB_file=$work/tip.xml crm configure primitive fence-n1 stonith:fence_dummy params pcmk_host_list=n1 >/dev/null 2>&1
CIB_file=$work/tip.xml crm configure primitive mirror ocf:pacemaker:Stateful >/dev/null 2>&1 || fail "mirror"
CIB_file=$work/tip.xml crm configure clone mirror-clone mirror meta promotable=true >/dev/null 2>&1 || fail "mirror clone"
out=$(ctl tip.xml vm ha enable web1 --config /srv/evos/web1.xml --no-wait) || fail "vm ha enable: $out"
config tip.xml > tip-before.xml
untouched "testip disable without test IPs" tip.xml 3 cluster testip disable
out=$(ctl tip.xml cluster testip enable --hosts "198.18.1.254" --vm web1 --mirror mirror-clone) || fail "testip enable: $out"
untouched "testip disable with an argument" tip.xml 2 cluster testip disable web1
out=$(ctl tip.xml cluster testip disable) && pass "testip disable: $out" || fail "testip disable: $out"
diff <(config tip.xml) tip-before.xml >tip.diff && pass "the configuration is the one before testip enable" \
  || fail "testip disable left: $(cat tip.diff)"
! grep -q testip tip.xml && pass "no 'testip' anywhere in the CIB" || fail "testip left: $(grep testip tip.xml)"

# --- fence-race disable: topology and priority-fencing-delay as before ------------------------------
race() {  # race CIB TOPOLOGY(yes|no)
  local cib=$1 n
  cibadmin --empty > "$cib"
  for n in n1 n2; do
    CIB_file=$work/$cib crm configure node "$n" >/dev/null 2>&1
    CIB_file=$work/$cib crm configure primitive "fence-$n" stonith:fence_dummy params pcmk_host_list="$n" >/dev/null 2>&1
  done
  if [ "$2" = yes ]; then
    out=$(ctl "$cib" cluster init --priority-fencing-delay 7s) || fail "cluster init: $out"
    CIB_file=$work/$cib crm configure fencing_topology n1: fence-n1 n2: fence-n2 >/dev/null 2>&1 || fail "topology"
  else  # no topology, priority-fencing-delay unset (cib-bootstrap-options exists in any running cluster)
    CIB_file=$work/$cib crm configure property stonith-enabled=true >/dev/null 2>&1 || fail "property"
  fi
}
enable_race() {
  ctl "$1" cluster fence-race enable --peers "n1=198.18.1.1 n2=198.18.1.2" --test-ips "198.18.1.254" \
    --device n1=fence-n1 --device n2=fence-n2 --delay 3s
}
for topology in yes no; do
  race fr-$topology.xml $topology
  config fr-$topology.xml > fr-$topology-before.xml
  untouched "fence-race disable before enable ($topology topology)" fr-$topology.xml 3 cluster fence-race disable
  out=$(enable_race fr-$topology.xml) || fail "fence-race enable: $out"
  [ "$(xmllint --xpath 'string(//fencing-level[@target="n1"]/@devices)' fr-$topology.xml)" = fence-race,fence-n1 ] || fail "enable: topology"
  # enabling twice keeps what the first one saved
  out=$(enable_race fr-$topology.xml) || fail "second fence-race enable: $out"
  untouched "fence-race disable with an argument" fr-$topology.xml 2 cluster fence-race disable now
  out=$(ctl fr-$topology.xml cluster fence-race disable) && pass "fence-race disable ($topology topology before): $out" \
    || fail "fence-race disable: $out"
  diff <(config fr-$topology.xml) fr-$topology-before.xml > fr.diff \
    && pass "$topology topology before: the configuration is the one before fence-race enable (topology, priority-fencing-delay)" \
    || fail "fence-race disable ($topology topology) left: $(cat fr.diff)"
  ! grep -q -e fence-race -e evos-fence-race-before fr-$topology.xml && pass "nothing of the race device left" \
    || fail "race left: $(grep -e fence-race fr-$topology.xml)"
done

echo "templates_disable: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
