# shellcheck shell=bash disable=SC2154
# harness.sh - the ok:/FAIL: lines and the closing clean-up of the lab scenarios built on lib.sh
# (vm-shared, vm-ops, backup). Source it after lib.sh, with scenario_tag (the tag of each line)
# and scenario_summary (the name on the closing "NAME: N passed, M failed" line) set. A script
# that takes the lab down itself sets downed=1.

passes=0 fails=0 downed=0
say() { echo "[$scenario_tag $name $(date +%T.%3N)] $*"; }
pass() { passes=$((passes + 1)); say "ok: $*"; }
fail() { fails=$((fails + 1)); say "FAIL: $*"; }
die() { fail "$*"; exit 1; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }   # json EXPR: EXPR over stdin's JSON as d

# scenario_cleanup RC [FILE...]: from the EXIT trap. Unless downed, takes the lab down - after a
# failure keeping its logs and the FILEs in EVOS_SCENARIO_LOGS (default BUILD/scenario-logs)/NAME -
# and checks that nothing of it is left; removes work; prints the summary; exits RC, or 1 when RC
# is 0 but a check failed.
scenario_cleanup() {
    local rc=$1 left
    shift
    if [[ $downed == 0 && -x $lab ]]; then
        if [[ $fails -gt 0 || $rc -ne 0 ]]; then
            local keep=${EVOS_SCENARIO_LOGS:-$build/scenario-logs}/$name
            say "cleanup: $lab down (logs kept in $keep)"
            mkdir -p "$keep" && cp -a "$@" "$keep/" 2>/dev/null
            L down --timeout 30 --save-logs "$keep" || L down --kill || true
        else
            L down --timeout 30 || L down --kill || true
        fi
        left=$(leftovers)
        if [[ -n $left ]]; then fail "left behind: $left"; else pass "nothing left behind"; fi
    fi
    rm -rf "$work"
    [[ $rc == 0 && $fails == 0 ]] || { [[ $rc != 0 ]] || rc=1; }
    echo "$scenario_summary: $passes passed, $fails failed"
    exit "$rc"
}
