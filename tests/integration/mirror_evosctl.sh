#!/bin/bash
# evosctl mirror list|status|resync|verify|resolve and evosctl node standby|shutdown-check on the drbd
# simulator (linked as drbdadm and drbdsetup first on PATH). Each evosctl call runs in a private
# UTS namespace whose host name is the simulated node ("alpha" or "beta"), because evosctl knows
# its node by `uname -n`, as DRBD does. Pacemaker's attrd_updater and crm_attribute are shims over
# a directory, so the split-brain request for the peer and the standby are visible; the mirror
# agent (as beta) carries out the request at its monitor. No timing: a resync is either far from
# done (1 KiB/s) or done by the next call.
# Usage: mirror_evosctl.sh EVOSCTL AGENT DRBD_SIM. Needs root (UTS namespaces).
set -u
evosctl=$(readlink -f "$1")
agent=$(readlink -f "$2")
sim=$(readlink -f "$3")
[ "$(id -u)" = 0 ] || { echo "FAIL: mirror_evosctl.sh needs root (unshare --uts)"; exit 1; }
work=$(mktemp -d /tmp/evos-mirror-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
passes=0 fails=0
pass() { passes=$((passes+1)); echo "ok: $*"; }
fail() { fails=$((fails+1)); echo "FAIL: $*"; }
mkdir -p "$work/bin" "$work/world" "$work/attrs"
ln -s "$sim" "$work/bin/drbdadm"
ln -s "$sim" "$work/bin/drbdsetup"
# attrd_updater: -n NAME -U VALUE -N NODE | -D -n NAME (this node) | --query --all --name NAME --output-as=xml
cat > "$work/bin/attrd_updater" <<EOF
#!/bin/bash
store=$work/attrs
name= value= node=\$(uname -n) del=0 query=0
while [ \$# -gt 0 ]; do
  case \$1 in
    -n|--name) name=\$2; shift ;;
    -U|--update) value=\$2; shift ;;
    -N|--node) node=\$2; shift ;;
    -D|--delete) del=1 ;;
    --query) query=1 ;;
  esac
  shift
done
echo "attrd_updater \$(uname -n): name=\$name value=\$value node=\$node del=\$del query=\$query" >> $work/calls.log
if [ \$query = 1 ]; then
  echo '<pacemaker-result api-version="2.0" request="attrd_updater">'
  for f in "\$store/\$name".*; do [ -e "\$f" ] && echo "  <attribute name=\"\$name\" value=\"\$(cat "\$f")\" host=\"\${f##*.}\"/>"; done
  echo '  <status code="0" message="OK"/>'
  echo '</pacemaker-result>'
elif [ \$del = 1 ]; then rm -f "\$store/\$name.\$node"
else printf %s "\$value" > "\$store/\$name.\$node"; fi
EOF
printf '#!/bin/sh\necho "crm_attribute $*" >> "%s/calls.log"\n' "$work" > "$work/bin/crm_attribute"
chmod +x "$work/bin/attrd_updater" "$work/bin/crm_attribute"
export PATH=$work/bin:/usr/sbin:/usr/bin:/sbin:/bin EVOS_DRBD_SIM_DIR=$work/world
instant=1099511627776

on() {  # on NODE CMD...: CMD as NODE (host name and simulated node); sets $rc and $out (stdout+stderr)
  local node=$1
  shift
  out=$(EVOS_DRBD_SIM_NODE=$node unshare --uts -- sh -c 'hostname "$0" && exec "$@"' "$node" "$@" 2>&1)
  rc=$?
}
expect() { if [ "$rc" = "$1" ]; then pass "$2 → $rc"; else fail "$2: rc $rc, expected $1: $out"; fi; }
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --- list and status -------------------------------------------------------------------------
"$sim" ctl init r0 alpha:0 beta:1 --rate-kib-s "$instant" >/dev/null
on alpha drbdadm up r0; on beta drbdadm up r0; on alpha drbdadm primary r0
on alpha "$evosctl" mirror list
expect 0 "mirror list"
grep -q "^r0 .*Primary .*UpToDate .*beta .*Connected .*Secondary .*UpToDate" <<<"$out" && pass "list shows r0" || fail "list: $out"
on alpha "$evosctl" mirror list --json
expect 0 "mirror list --json"
[ "$(jq_ 'd[0]["name"], d[0]["role"], d[0]["health"], d[0]["peers"][0]["name"], d[0]["promotion_score"]["published"]' <<<"$out" | tr '\n' ' ')" = "r0 Primary running beta 10000 " ] \
  && pass "list --json: name, role, health, peer, score" || fail "list --json: $out"
on alpha "$evosctl" mirror status r0 --json
expect 0 "mirror status --json"
[ "$(jq_ 'd["split_brain"], d["sync_source"], d["may_leave"]["yes"]' <<<"$out" | tr '\n' ' ')" = "False False True " ] \
  && pass "status --json: no split brain, no resync, may leave" || fail "status --json: $out"
on alpha "$evosctl" mirror status nosuch
expect 3 "status of a mirror that is not up"
on alpha "$evosctl" mirror status -- '--force'
expect 2 "status of a hostile name"
on alpha "$evosctl" mirror list --json
on alpha "$evosctl" mirror resync r0
expect 0 "resync from the UpToDate peer"
grep -q "full resync from beta started" <<<"$out" && pass "resync says from where" || fail "$out"
"$sim" ctl link r0 down
on beta "$evosctl" mirror resync r0
expect 2 "resync without a connected UpToDate peer is refused"
grep -q "only good copy" <<<"$out" && pass "the refusal says why" || fail "$out"
"$sim" ctl link r0 up

# --- a resync blocks standby and shutdown of the sync source --------------------------------
"$sim" ctl init r1 alpha:0 beta:1 --new --rate-kib-s 1 >/dev/null
on alpha drbdadm up r1; on beta drbdadm up r1; on alpha drbdadm primary --force r1
on alpha "$evosctl" node shutdown-check
expect 1 "shutdown check on the sync source"
grep -q "refusing shutdown of alpha: r1: this node is the sync source of a running resync to beta" <<<"$out" \
  && pass "the refusal is clear" || fail "$out"
on beta "$evosctl" node shutdown-check
expect 0 "shutdown check on the sync target"
on beta "$evosctl" node standby alpha
expect 1 "standby of the sync source, asked on the sync target"
grep -q "refusing standby of alpha: r1: alpha is the sync source" <<<"$out" && pass "the refusal names the sync source" || fail "$out"
on alpha "$evosctl" node standby alpha --json
expect 1 "standby of the sync source, asked on it (--json)"
[ "$(jq_ 'd["ok"], len(d["refusals"])' <<<"$out" | tr '\n' ' ')" = "False 1 " ] && pass "the JSON says refused" || fail "$out"
grep -q "crm_attribute" "$work/calls.log" 2>/dev/null && fail "a refused standby ran crm_attribute" || pass "a refused standby changed nothing"
on alpha "$evosctl" node standby beta
expect 0 "standby of the sync target"
grep -q "crm_attribute --node beta --name standby --update on --lifetime forever" "$work/calls.log" \
  && pass "standby through crm_attribute" || fail "calls: $(cat "$work/calls.log")"
on beta "$evosctl" node standby alpha --force
expect 0 "standby --force"
on alpha "$evosctl" node standby '-x'
expect 2 "a hostile node name"
"$sim" ctl set-rate r1 "$instant"
on alpha "$evosctl" node shutdown-check
expect 0 "shutdown check after the resync"

# --- split brain: reported, then resolved by the command -------------------------------------
"$sim" ctl init r2 alpha:0 beta:1 --rate-kib-s "$instant" >/dev/null
on alpha drbdadm up r2; on beta drbdadm up r2
on alpha drbdadm primary r2
"$sim" ctl link r2 down
on alpha drbdadm status r2           # alpha writes alone
on beta drbdadm primary r2           # and so does beta
on beta drbdadm secondary r2
"$sim" ctl link r2 up
on alpha "$evosctl" mirror status r2 --json
[ "$(jq_ 'd["split_brain"], d["health"]' <<<"$out" | tr '\n' ' ')" = "True degraded " ] && pass "split brain reported" || fail "$out"
on alpha "$evosctl" mirror list
grep -q "^r2 .*SPLIT BRAIN" <<<"$out" && pass "list shows SPLIT BRAIN" || fail "$out"
on alpha "$evosctl" mirror resolve r2 --discard alpha
expect 2 "the Primary's data is never discarded"
grep -q "is Primary on alpha" <<<"$out" && pass "the refusal says why" || fail "$out"
on alpha "$evosctl" mirror resolve r2 --discard gamma
expect 2 "a node that is not part of the mirror"
on alpha "$evosctl" mirror resolve r0 --discard beta
expect 2 "a mirror that is not in split brain"
on alpha "$evosctl" mirror resolve r2 --discard beta --json
expect 0 "resolve --discard beta on alpha"
[ "$(cat "$work/attrs/evos-mirror-resolve-r2.beta" 2>/dev/null)" = discard ] && pass "beta's part is requested" \
  || fail "request: $(ls "$work/attrs")"
[ "$(jq_ 'd["here"]["action"], d["peer"]["action"]' <<<"$out" | tr '\n' ' ')" = "connect discard " ] && pass "resolve --json" || fail "$out"
# beta's mirror agent carries it out at its next monitor.
out=$(EVOS_DRBD_SIM_NODE=beta HA_RSCTMP=$work/rsc OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=m-r2 OCF_RESKEY_drbd_resource=r2 \
      OCF_RESKEY_CRM_meta_interval=20000 OCF_RESKEY_CRM_meta_on_node=beta "$agent" monitor 2>&1); rc=$?
grep -q "split-brain recovery requested by evosctl: discard here" <<<"$out" && pass "beta's agent discarded its changes" || fail "agent: $out"
[ ! -e "$work/attrs/evos-mirror-resolve-r2.beta" ] && pass "the request was removed" || fail "request still there"
on alpha "$evosctl" mirror status r2 --json
[ "$(jq_ 'd["split_brain"], d["health"], d["peers"][0]["connection"]' <<<"$out" | tr '\n' ' ')" = "False running Connected " ] \
  && pass "connected and in sync again, alpha's data kept" || fail "$out"

# The other way round, each node doing its own part (no cluster: --local-only on both).
on alpha drbdadm secondary r2
"$sim" ctl link r2 down
on alpha drbdadm primary r2; on alpha drbdadm secondary r2
on beta drbdadm primary r2
"$sim" ctl link r2 up
on beta "$evosctl" mirror resolve r2 --discard alpha --local-only
expect 0 "resolve on beta (keeps its data)"
on alpha "$evosctl" mirror resolve r2 --discard alpha --local-only
expect 0 "resolve on alpha (discards)"
on beta "$evosctl" mirror status r2 --json
[ "$(jq_ 'd["split_brain"], d["health"], d["role"]' <<<"$out" | tr '\n' ' ')" = "False running Primary " ] \
  && pass "resolved the other way, beta Primary" || fail "$out"

# --- online verify: refusals, in sync, silent corruption found, repaired ----------------------
"$sim" ctl init r3 alpha:0 beta:1 --rate-kib-s "$instant" --verify-alg sha256 >/dev/null
on alpha drbdadm up r3; on beta drbdadm up r3; on alpha drbdadm primary r3
on alpha "$evosctl" mirror verify r3 --wait
expect 0 "verify --wait of an in-sync mirror"
grep -q "^r3: online verify with beta finished: in sync (0 KiB out of sync)$" <<<"$out" && pass "verify says in sync" || fail "$out"
on alpha "$evosctl" mirror verify r3 --wait --json
expect 0 "verify --wait --json of an in-sync mirror"
[ "$(jq_ 'd["finished"], d["in_sync"], d["out_of_sync_kib"], d["out_of_sync_bytes"]' <<<"$out" | tr '\n' ' ')" = "True True 0 0 " ] \
  && pass "verify --json: finished, in sync, 0 bytes" || fail "verify --json: $out"
"$sim" ctl corrupt r3 beta 4096     # bit rot on beta: DRBD does not know
on alpha "$evosctl" mirror status r3 --json
[ "$(jq_ 'd["out_of_sync_kib"], d["health"]' <<<"$out" | tr '\n' ' ')" = "0 running " ] && pass "silent corruption is not seen before a verify" || fail "$out"
on alpha "$evosctl" mirror verify r3 --wait --json
expect 6 "verify finds the corrupted blocks (exit 6)"
[ "$(jq_ 'd["finished"], d["in_sync"], d["out_of_sync_kib"], d["out_of_sync_bytes"]' <<<"$out" | tr '\n' ' ')" = "True False 4096 4194304 " ] \
  && pass "verify --json has the out-of-sync numbers" || fail "verify --json: $out"
on beta "$evosctl" mirror verify r3 --wait
expect 6 "verify from the other node finds them too"
grep -q "^r3: online verify with alpha finished: 4096 KiB (4194304 bytes) out of sync$" <<<"$out" && pass "verify reports the amount" || fail "$out"
grep -q "drbdadm disconnect r3 && drbdadm connect r3" <<<"$out" && grep -q "evosctl mirror resync r3" <<<"$out" \
  && pass "the message says how to resync them" || fail "$out"
on beta "$evosctl" mirror status r3
grep -q "^out of sync: 4096 KiB$" <<<"$out" && pass "status shows what verify found" || fail "$out"
on alpha "$evosctl" mirror list
grep -q "^r3 .*4096 KiB out of sync" <<<"$out" && pass "list shows what verify found" || fail "$out"
on alpha drbdadm disconnect r3; on alpha drbdadm connect r3     # what the message says: resync them
on alpha "$evosctl" mirror status r3 --json
[ "$(jq_ 'd["out_of_sync_kib"], d["peers"][0]["connection"]' <<<"$out" | tr '\n' ' ')" = "0 Connected " ] \
  && pass "disconnect and connect resynced the blocks" || fail "$out"
on beta "$evosctl" mirror verify r3 --wait
expect 0 "verify after the resync finds nothing"
"$sim" ctl link r3 down
on alpha "$evosctl" mirror verify r3
expect 2 "verify refused while the peer is away"
grep -q "r3: cannot start an online verify: the peer beta is Connecting" <<<"$out" && pass "the refusal names the problem" || fail "$out"
"$sim" ctl show r3 | grep -A1 '"verify"' | grep -q '"active": true' && fail "a refused verify started one" || pass "a refused verify started nothing"
"$sim" ctl link r3 up
on alpha "$evosctl" mirror verify nosuch
expect 3 "verify of a mirror that is not up"
for bad in --force all 'r3;id' '../r3' '$(id)' "" "-r3" "r 3"; do
  on alpha "$evosctl" mirror verify -- "$bad"
  [ "$rc" = 2 ] && pass "verify refuses the name '$bad'" || fail "verify '$bad': rc $rc $out"
done
"$sim" ctl show r3 | grep -A1 '"verify"' | grep -q '"active": true' && fail "a hostile name started a verify" || pass "hostile names started nothing"

"$sim" ctl init r4 alpha:0 beta:1 --new --rate-kib-s 1 --verify-alg sha256 >/dev/null
on alpha drbdadm up r4; on beta drbdadm up r4; on alpha drbdadm primary --force r4     # a slow resync
on alpha "$evosctl" mirror verify r4
expect 2 "verify refused on the sync source"
grep -q "r4: cannot start an online verify: a resync is running (sending here" <<<"$out" && pass "the refusal says a resync runs" || fail "$out"
on beta "$evosctl" mirror verify r4 --wait
expect 2 "verify refused on the sync target"
grep -q "a resync is running (receiving here" <<<"$out" && pass "the refusal says so on the target" || fail "$out"
"$sim" ctl set-rate r4 "$instant"; "$sim" ctl set-rate r4 1024     # resync done; verify a 1 GiB disk at 1 MiB/s
on alpha "$evosctl" mirror verify r4 --json
expect 0 "verify started without --wait"
[ "$(jq_ 'd["started"], d["finished"], d["running"]' <<<"$out" | tr '\n' ' ')" = "True False True " ] && pass "verify --json: started, running" || fail "$out"
on beta "$evosctl" mirror status r4 --json
[ "$(jq_ 'd["verify"]["running"], d["verify"]["started_here"], d["peers"][0]["volumes"][0]["replication"], d["verify"]["done_percent"] is not None, d["sync_done_percent"]' <<<"$out" | tr '\n' ' ')" = "True False VerifyT True None " ] \
  && pass "status --json on the peer: VerifyT with progress, not a resync" || fail "$out"
on alpha "$evosctl" mirror status r4
grep -q "^online verify: running (started here), [0-9.]*% done, 0 KiB out of sync so far$" <<<"$out" && pass "status shows the running verify" || fail "$out"
on alpha "$evosctl" mirror list
grep -q "^r4 .*verify [0-9.]*%" <<<"$out" && pass "list shows the running verify" || fail "$out"
on beta "$evosctl" mirror verify r4
expect 2 "a second verify is refused"
grep -q "a verify is already running (VerifyT here" <<<"$out" && pass "the refusal says a verify runs" || fail "$out"
on alpha "$evosctl" mirror verify r4 --wait --timeout 1
expect 2 "verify --wait while one runs is refused, not waited for"
"$sim" ctl link r4 down; "$sim" ctl link r4 up     # the verify is aborted (and the Primary's writes resynced)
"$sim" ctl set-rate r4 "$instant"; "$sim" ctl set-rate r4 1024
on alpha "$evosctl" mirror verify r4 --wait --timeout 1
expect 7 "verify --wait past --timeout"
grep -q "still running (VerifyS, [0-9.]*% done" <<<"$out" && pass "the timeout says the verify goes on" || fail "$out"

"$sim" ctl init r5 alpha:0 beta:1 --rate-kib-s "$instant" >/dev/null     # no verify-alg configured
on alpha drbdadm up r5; on beta drbdadm up r5
on alpha "$evosctl" mirror verify r5
expect 2 "verify without a verify-alg"
grep -q "no verify-alg in the resource's net section" <<<"$out" && pass "the error names the missing verify-alg" || fail "$out"

# --- create: the .res file, validated by evos and by the real drbdadm -------------------------
me=$(uname -n)
on alpha "$evosctl" mirror create web1 --minor 1000 --host "$me,0,127.0.0.1:7789,/dev/vg0/web1" \
  --host "other,1,127.0.0.2:7789,/dev/vg0/web1" --output "$work/web1.res"
expect 0 "mirror create"
grep -q 'fence-peer ".*/evos/evos-drbd-fence fence";' "$work/web1.res" && grep -q 'device minor 1000;' "$work/web1.res" \
  && pass "the .res file uses evos' fence handler" || fail "res: $(cat "$work/web1.res")"
grep -q '^    verify-alg sha256;$' "$work/web1.res" && pass "the .res file has a verify-alg" || fail "res: $(cat "$work/web1.res")"
if [ -x /usr/sbin/drbdadm ]; then
  printf 'include "%s";\n' "$work/web1.res" > "$work/drbd.conf"
  out=$(/usr/sbin/drbdadm -c "$work/drbd.conf" dump 2>&1 | grep -v modinfo); rc=$?
  grep -q 'resource "\{0,1\}web1' <<<"$out" && pass "the real drbdadm parses it" || fail "drbdadm dump: $out"
  grep -q 'verify-alg *sha256;' <<<"$out" && pass "the real drbdadm reads the verify-alg" || fail "drbdadm dump: $out"
else
  fail "drbdadm (drbd-utils) is not installed"
fi
on alpha "$evosctl" mirror create web1 --minor 1000 --host "$me,0,127.0.0.1:7789,/dev/vg0/web1" \
  --host "other,1,127.0.0.2:7789,/dev/vg0/web1" --output "$work/web1.res"
expect 2 "create refuses to replace a file without --force"
for bad in "a;b,0,127.0.0.1:7789,/dev/x" "a,99,127.0.0.1:7789,/dev/x" "a,0,127.0.0.1:7789,dev/x" "a,0,127.0.0.1:7789,/dev/\$(id)" "a,0,127.0.0.1"; do
  on alpha "$evosctl" mirror create web2 --minor 1 --host "$bad" --host "b,1,127.0.0.2:7789,/dev/y" --output "$work/web2.res"
  [ "$rc" = 2 ] && [ ! -e "$work/web2.res" ] && pass "create refuses --host $bad" || fail "create --host $bad: rc $rc $out"
done

for r in r0 r1 r2 r3 r4 r5; do on alpha drbdadm down $r; on beta drbdadm down $r; done
echo "mirror_evosctl: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
