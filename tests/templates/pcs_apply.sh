# Sourced by the template tests: pcs_apply CIB_FILE < RENDERED_PCS_TEMPLATE
# Runs each `pcs ...` command of a rendered pcs template against a CIB file (pcs -f), joining
# backslash-continued lines and skipping comments. Prints each failing command with pcs's answer;
# returns 1 if any failed. The template's words are test input, never user input.
pcs_apply() {
  local cib=$1 line ok=0
  while IFS= read -r line; do
    [ -z "$line" ] && continue
    eval "set -- $line"
    [ "$1" = pcs ] || continue
    shift
    if ! pcs -f "$cib" "$@" >/dev/null 2>&1; then
      ok=1
      echo "    pcs $*"
      pcs -f "$cib" "$@" 2>&1 | sed 's/^/    /'
    fi
  done < <(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | grep -v '^#')
  return $ok
}
