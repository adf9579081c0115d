# shellcheck shell=bash
# lab_leftovers NAME BASE [GUEST] - prints anything of lab NAME (state dir BASE) that is left on
# the machine; empty output = clean. Sourced by every lab test (tests/lab, tests/scenarios,
# tests/integration/mirror_lab.sh, bench/failover) for its "nothing left behind" check:
#   network namespaces whose name starts with NAME (the nodes NAME1, NAME2 and the switch NAMEsw),
#   host links named after the lab, processes whose command line mentions BASE or whose working
#   directory is in it, mounts under BASE in any process's mount namespace, a loop device over a
#   file in BASE (the shared XFS), the state dir itself,
#   and, with GUEST, a QEMU process of that guest (-name guest=GUEST,...).
lab_leftovers() {
    local name=$1 base=$2 guest=${3:-} p ns cmd
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
        [[ $ns == "$name"* ]] && echo "netns $ns"
    done
    ip -o link show 2>/dev/null | grep -F " $name" | sed 's/^/host link /'
    for p in /proc/[0-9]*; do
        [[ ${p#/proc/} == "$$" || ${p#/proc/} == "$BASHPID" ]] && continue
        cmd=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || cmd=""
        [[ $cmd != *"$base"* ]] || echo "process ${p#/proc/}: $cmd"
        [[ -z $guest || $cmd != *"guest=$guest,"* ]] || echo "QEMU of $guest: process ${p#/proc/}"
        if [[ $(readlink "$p/cwd" 2>/dev/null) == "$base"* ]]; then echo "process ${p#/proc/} cwd in $base"; fi
        if grep -qF " $base" "$p/mountinfo" 2>/dev/null; then echo "mount under $base in the mount namespace of ${p#/proc/}"; fi
    done
    # the shared XFS's loop device (evos-lab: mount -o loop of BASE/shared.xfs)
    losetup -l -n -O NAME,BACK-FILE 2>/dev/null | grep -F " $base/" | sed 's/^/loop device /'
    [[ ! -e $base ]] || echo "state dir $base"
}
