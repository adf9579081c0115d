#!/bin/bash
# packaging/debs: evos's Debian packages build, pass lintian, install, work, upgrade, and leave
# nothing behind. On this machine, as root:
#   1. build-debs.sh (dpkg-buildpackage -us -uc -b; cached per source content)
#   2. lintian: no error and no warning
#   3. apt-get install ./*.deb, then: crm_resource --show-metadata ocf:evos:vm,
#      pcs resource describe ocf:evos:vm, man -w evosctl / ocf_evos_vm / fence_evos_race,
#      apropos evos, evosctl version, bash completion of `evosctl vm <TAB><TAB>` under tmux
#   4. upgrade: the same packages repacked as a newer version, installed over them
#   5. remove, then purge: every file dpkg -L listed is gone, and no file appeared anywhere under
#      /usr, /etc, /opt or /var/lib that was not there before the install.
# Usage: debs.sh SRC BUILD_DIR. Refuses (exit 1) if an evos package is installed already: it
# never removes an installation it did not make.
set -uo pipefail
src=$(cd "${1:?usage: debs.sh SRC BUILD_DIR}" && pwd) || exit 2
build=$(cd "${2:?usage: debs.sh SRC BUILD_DIR}" && pwd) || exit 2
here=$(cd "$(dirname "$0")" && pwd)
packages=(evos-agents evosctl evos-crm-templates evos-lab)
passes=0 fails=0
pass() { echo "ok: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
die() { echo "FAIL: $*"; echo "debs: $passes passed, $((fails + 1)) failed"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (apt-get install)"

installed() { dpkg-query -W -f='${db:Status-Status}\n' "$1" 2>/dev/null | grep -qx installed; }
known() { dpkg-query -W -f='${db:Status-Status}\n' "$1" 2>/dev/null | grep -qvx not-installed; }
for p in "${packages[@]}"; do known "$p" && die "$p is already on this machine (dpkg -l $p); purge it first"; done

work=$(mktemp -d "$build/packaging-debs.XXXXXX")
tmux_sock=evos-debs-$$
we_installed=0
cleanup() {
    tmux -L "$tmux_sock" kill-server 2>/dev/null
    if [ $we_installed = 1 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${packages[@]}" >/dev/null 2>&1
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# What exists outside the package database, to find what an install leaves behind.
snapshot() {
    find /usr /etc /opt /var/lib -xdev \( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/lib/man-db \
        -o -path /var/lib/ucf -o -path /var/lib/systemd/deb-systemd-helper-enabled \) -prune -o -print 2>/dev/null | sort
}

# 1. build
debs=$("$here/build-debs.sh" "$src" "$build/debs") || die "the packages did not build"
debs=$(tail -n 1 <<<"$debs")
for p in "${packages[@]}"; do
    compgen -G "$debs/${p}_*.deb" >/dev/null && pass "built $p" || fail "no $p package in $debs"
done

# 2. lintian (its own exit code: --fail-on error,warning)
if lintian --fail-on error,warning --tag-display-limit 0 "$debs"/*.changes >"$work/lintian.log" 2>&1; then
    pass "lintian: no errors, no warnings"
else
    cat "$work/lintian.log"
    fail "lintian found errors or warnings"
fi

# 3. install
snapshot >"$work/before.txt"
we_installed=1
if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "$debs"/evos-agents_*.deb "$debs"/evosctl_*.deb "$debs"/evos-crm-templates_*.deb "$debs"/evos-lab_*.deb \
    >"$work/install.log" 2>&1; then
    pass "apt-get install ./*.deb"
else
    cat "$work/install.log"
    die "apt-get install failed"
fi
for p in "${packages[@]}"; do installed "$p" && pass "$p installed" || fail "$p is not installed"; done
for p in "${packages[@]}"; do dpkg -L "$p"; done | sort -u >"$work/files.txt"

out=$(crm_resource --show-metadata ocf:evos:vm 2>&1)
grep -q '<resource-agent name="vm"' <<<"$out" && pass "crm_resource --show-metadata ocf:evos:vm" ||
    fail "crm_resource --show-metadata ocf:evos:vm: $(head -c 300 <<<"$out")"
out=$(timeout 60 pcs resource describe ocf:evos:vm 2>&1)
grep -q 'config' <<<"$out" && grep -qi 'libvirt' <<<"$out" && pass "pcs resource describe ocf:evos:vm" ||
    fail "pcs resource describe ocf:evos:vm: $(head -c 300 <<<"$out")"
for page in evosctl ocf_evos_vm ocf_evos_ping ocf_evos_mirror fence_evos_race; do
    where=$(man -w "$page" 2>&1)
    [[ $where == /usr/share/man/* ]] && pass "man -w $page: $where" || fail "man -w $page: $where"
done
# The page is the agent's meta-data: a parameter the agent documents is in it.
man -P cat ocf_evos_vm 2>/dev/null | grep -q 'migration_downtime' && pass "ocf_evos_vm(7) lists the agent's parameters" ||
    fail "ocf_evos_vm(7) does not list migration_downtime"
man -P cat evosctl 2>/dev/null | grep -q 'EXIT CODES' && pass "evosctl(8) has its exit codes" || fail "evosctl(8) has no EXIT CODES"
mandb -q 2>/dev/null
out=$(apropos evos 2>&1)
for page in 'evosctl (8)' 'ocf_evos_vm (7)' 'fence_evos_race (8)'; do
    grep -qF "$page" <<<"$out" && pass "apropos evos finds $page" || fail "apropos evos does not find $page: $out"
done
[[ $(evosctl version 2>&1) == "evosctl $(dpkg-query -W -f='${Version}' evosctl)" ]] && pass "evosctl version matches the package" ||
    fail "evosctl version: $(evosctl version 2>&1)"
[ -x /usr/lib/ocf/resource.d/evos/vm ] && [ -x /usr/sbin/fence_evos_race ] && [ -x /usr/lib/evos/evos-drbd-fence ] &&
    pass "agents where Pacemaker, the fencer and drbdadm look" || fail "an agent is missing"
[ -r /usr/share/evos/crm-templates/vm-shared.crm ] && [ -r /usr/share/evos/crm-templates/vm-shared.pcs ] &&
    pass "crm templates under /usr/share/evos" || fail "no crm templates under /usr/share/evos/crm-templates"

# bash completion, as a person types it: a login-like interactive bash under tmux.
cat >"$work/rc" <<'EOF'
PS1='$ '
source /usr/share/bash-completion/bash_completion
EOF
tmux -L "$tmux_sock" -f /dev/null new-session -d -s t -x 200 -y 50 "bash --rcfile $work/rc -i"
sleep 0.5
tmux -L "$tmux_sock" send-keys -t t 'evosctl vm ' Tab Tab
screen=""
for _ in $(seq 1 50); do
    screen=$(tmux -L "$tmux_sock" capture-pane -p -t t)
    grep -q 'migrate' <<<"$screen" && break
    sleep 0.1
done
if grep -qw list <<<"$screen" && grep -qw status <<<"$screen" && grep -qw ha <<<"$screen" && grep -qw migrate <<<"$screen"; then
    pass "bash completion: evosctl vm <TAB><TAB> offers list, status, ha, migrate"
else
    fail "bash completion of 'evosctl vm ': screen was: $screen"
fi
tmux -L "$tmux_sock" send-keys -t t C-u 'evosctl mirror verify --w' Tab
screen=""
for _ in $(seq 1 50); do
    screen=$(tmux -L "$tmux_sock" capture-pane -p -t t)
    grep -q -- '--wait' <<<"$screen" && break
    sleep 0.1
done
grep -q -- 'evosctl mirror verify --wait' <<<"$screen" && pass "bash completion completes an option (--wait)" ||
    fail "bash completion of 'evosctl mirror verify --w': $screen"
tmux -L "$tmux_sock" kill-server 2>/dev/null

# 4. upgrade: the same contents as a newer version (dpkg-deb -R / -b), installed over it.
new_version="$(dpkg-query -W -f='${Version}' evosctl)+upgradetest1"
mkdir -p "$work/new"
for deb in "$debs"/evos-agents_*.deb "$debs"/evosctl_*.deb "$debs"/evos-crm-templates_*.deb "$debs"/evos-lab_*.deb; do
    d=$work/new/$(basename "$deb" .deb)
    dpkg-deb -R "$deb" "$d"
    old=$(sed -n 's/^Version: //p' "$d/DEBIAN/control")
    sed -i -e "s/^Version: .*/Version: $new_version/" -e "s/(= $old)/(= $new_version)/g" "$d/DEBIAN/control"
    dpkg-deb -b "$d" "$work/new/" >/dev/null || die "cannot repack $deb"
    rm -rf "$d"
done
if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$work"/new/*.deb >"$work/upgrade.log" 2>&1; then
    pass "upgrade to $new_version"
else
    cat "$work/upgrade.log"
    fail "upgrade to $new_version failed"
fi
for p in "${packages[@]}"; do
    [[ $(dpkg-query -W -f='${Version}' "$p" 2>/dev/null) == "$new_version" ]] && pass "$p upgraded" || fail "$p not at $new_version"
done
for p in "${packages[@]}"; do dpkg -L "$p"; done | sort -u >"$work/files-new.txt"
missing=$(while read -r f; do [ -e "$f" ] || echo "$f"; done <"$work/files-new.txt")
[ -z "$missing" ] && pass "every file of the upgraded packages is there" || fail "missing after upgrade: $missing"

# 5. remove, then purge: nothing left.
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "${packages[@]}" >"$work/remove.log" 2>&1 && pass "apt-get remove" ||
    { cat "$work/remove.log"; fail "apt-get remove"; }
# A package without conffiles is gone with the remove; purge what dpkg still knows (conffiles).
left_known=()
for p in "${packages[@]}"; do known "$p" && left_known+=("$p"); done
if [ ${#left_known[@]} -eq 0 ] ||
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${left_known[@]}" >"$work/purge.log" 2>&1; then
    pass "apt-get purge (${left_known[*]:-nothing left to purge after the remove})"
else
    cat "$work/purge.log"
    fail "apt-get purge"
fi
we_installed=0
for p in "${packages[@]}"; do known "$p" && fail "$p is still known to dpkg after the purge" || pass "$p purged"; done
left=$(cat "$work/files.txt" "$work/files-new.txt" | sort -u | while read -r f; do [ -f "$f" ] || [ -L "$f" ] && echo "$f"; done)
[ -z "$left" ] && pass "no file that dpkg -L listed is left" || fail "left after purge: $left"
snapshot >"$work/after.txt"
new=$(comm -13 "$work/before.txt" "$work/after.txt" | grep -v '^/var/lib/\(man-db\|mandb\)' || true)
[ -z "$new" ] && pass "nothing new under /usr, /etc, /opt, /var/lib" || fail "left behind by install + purge: $new"

echo "debs: $passes passed, $fails failed"
[ $fails = 0 ]
