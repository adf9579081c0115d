#!/bin/bash
# ocf:evos:ping refuses hostile parameter values with OCF_ERR_CONFIGURED (6) and an exit reason
# naming the parameter, and does nothing else: no file is created, attrd_updater (a logging
# shim first on PATH) is never run, no probe is sent (the agent runs in an empty network
# namespace, so any probe would fail visibly rather than leave the machine).
# Usage: ping_hostile_params.sh AGENT
set -u
agent=$(readlink -f "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
canary=$work/canary
fails=0 passes=0
mkdir -p "$work/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$*" >> "%s/attrd.log"\n' "$work" > "$work/bin/attrd_updater"
chmod +x "$work/bin/attrd_updater"
isolate=()
if [ "$(id -u)" = 0 ]; then isolate=(unshare --net --); fi

check() {  # check PARAM VALUE
  local param=$1 value=$2 out rc
  out=$("${isolate[@]}" env -i PATH="$work/bin:/usr/bin:/bin" HA_RSCTMP="$work/rsc" OCF_ROOT=/usr/lib/ocf \
        OCF_RESOURCE_INSTANCE=p1 OCF_RESKEY_host_list=127.0.0.1 "OCF_RESKEY_$param=$value" "$agent" "$action" 2>&1)
  rc=$?
  local shown
  shown=$(printf %q "${value:0:60}")
  if [ "$rc" -ne 6 ]; then
    echo "FAIL: $action with $param=$shown returned $rc, expected 6: $out"; fails=$((fails+1)); return
  fi
  if ! grep -q "^ocf-exit-reason:.*parameter '$param'" <<<"$out"; then
    echo "FAIL: $action with $param=$shown: exit reason does not name the parameter: $out"; fails=$((fails+1)); return
  fi
  if [ -e "$canary" ] || [ -e "$work/rsc" ] || [ -e "$work/attrd.log" ]; then
    echo "FAIL: $action with $param=$shown left files behind or ran attrd_updater"; fails=$((fails+1)); return
  fi
  passes=$((passes+1))
}

long=$(head -c 5000 /dev/zero | tr '\0' a)
for action in start stop monitor validate-all reload-agent; do
  check host_list "127.0.0.1; touch $canary"
  check host_list "\$(touch $canary)"
  check host_list "\`touch $canary\`"
  check host_list $'127.0.0.1\n127.0.0.2'
  check host_list $'127.0.0.1\t127.0.0.2'
  check host_list "$long"
  check host_list $'gw\xff\xfe'
  check host_list "gw:2"
  check host_list "127.1"
  check host_list "-oProxyCommand=x"
  check host_list "127.0.0.1=0"
  check name "a b"
  check name "-D"
  check name "\$(touch $canary)"
  check timeout "1s; touch $canary"
  check timeout "99999999999999999999"
  check timeout "10ms"
  check dampen "5s\$(touch $canary)"
  check multiplier "1;touch $canary"
  check multiplier "2000000"
  check attempts "0"
  check interface "eth0;touch $canary"
  check interface "../../etc"
  check failure_score "-5"
  check publish_detail "\$(touch $canary)"
done
echo "ping_hostile_params: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
