# shellcheck shell=bash
# Sourced first by the template tests: staged_agents_enter "$0" "$@"
# Outer call (ARGS = BUILD_DIR): stages BUILD_DIR (`cmake --install` into a temporary work
# directory), runs the calling script again as `SCRIPT --inside WORK` in a private mount
# namespace, removes the work directory and exits with the script's status. Not exec: this shell
# must stay to remove the work directory.
# Inner call (ARGS = --inside WORK): overlays the staged agents on /usr/lib/ocf/resource.d, so
# pcs and crmsh can read their meta-data without touching the host, sets `work` and changes into
# it. The staged templates are $work/stage/share/evos/crm-templates.
staged_agents_enter() {
  local script=$1 build rc
  shift
  if [ "${1:-}" != --inside ]; then
    build=$(cd "${1:?usage: $script BUILD_DIR}" && pwd) || exit 1
    work=$(mktemp -d "/tmp/evos-tpl-$(basename "$script" .sh).XXXXXX") || exit 1
    if ! cmake --install "$build" --prefix "$work/stage" >/dev/null; then
      echo "FAIL: cmake --install"; rm -rf "$work"; exit 1
    fi
    unshare --mount --propagation private -- "$script" --inside "$work"
    rc=$?
    rm -rf "$work"
    exit $rc
  fi
  work=$2
  mount -t overlay evos-ocf -o "lowerdir=$work/stage/lib/ocf/resource.d:/usr/lib/ocf/resource.d" /usr/lib/ocf/resource.d \
    || { echo "FAIL: cannot overlay the agents"; exit 1; }
  cd "$work" || exit 1
}
