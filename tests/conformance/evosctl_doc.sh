#!/bin/bash
# docs/evosctl.md stays true to the binary: every evosctl command that `--help` lists has a
# "### evosctl PATH" section, every long option of that command appears in its section, and the
# doc names no command the binary does not have.
# Usage: evosctl_doc.sh EVOSCTL DOC
set -uo pipefail
evosctl=${1:?usage: evosctl_doc.sh EVOSCTL DOC}
doc=${2:?usage: evosctl_doc.sh EVOSCTL DOC}
[ -x "$evosctl" ] || { echo "FAIL: $evosctl is not executable"; exit 1; }
[ -r "$doc" ] || { echo "FAIL: cannot read $doc"; exit 1; }
passes=0 fails=0
pass() { passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The subcommands CLI11 lists under "Subcommands:" (two-space indent, a name, then its text).
subcommands() { "$evosctl" "$@" --help 2>/dev/null | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}'; }
# The long options of one command, without --help.
options() { "$evosctl" "$@" --help 2>/dev/null | grep -oE '^ +(-[a-zA-Z],)?--[a-z][a-z0-9-]*' | sed -E 's/.*(--[a-z0-9-]+)$/\1/' | grep -vx -- '--help' | sort -u; }
# The text of one "### evosctl PATH" section, after its chapter's introduction (the text between
# the "## " heading and its first "###", where options that all its commands share are described).
section() {
  awk -v h="### evosctl $*" '
    /^## / {intro = ""; in_intro = 1; next}
    /^### / && in_intro {in_intro = 0}
    in_intro {intro = intro $0 "\n"}
    $0 == h || index($0, h " ") == 1 {on = 1; printf "%s", intro; next}
    on && /^#/ {exit}
    on {print}' "$doc"
}

leaves=()
walk() {
  local subs
  subs=$(subcommands "$@")
  # `lab` takes its own arguments (docs/lab.md); it is documented as one section.
  if [ -z "$subs" ] || [ "${1:-}" = lab ]; then leaves+=("$*"); return; fi
  local s
  for s in $subs; do walk "$@" "$s"; done
}
walk
[ ${#leaves[@]} -ge 10 ] && pass || fail "found only ${#leaves[@]} commands in evosctl --help"

for leaf in "${leaves[@]}"; do
  # shellcheck disable=SC2086  # leaf is a word list by construction
  text=$(section $leaf)
  if [ -z "$text" ]; then fail "docs/evosctl.md has no section '### evosctl $leaf'"; continue; fi
  pass
  # shellcheck disable=SC2086
  for o in $(options $leaf); do
    if grep -q -- "$o\b" <<<"$text"; then pass; else fail "'evosctl $leaf' option $o is not described in its section"; fi
  done
done

# The other way round: every documented command exists.
while read -r path; do
  found=0
  for leaf in "${leaves[@]}"; do [ "$leaf" = "$path" ] && found=1; done
  [ $found = 1 ] && pass || fail "docs/evosctl.md documents 'evosctl $path', which evosctl does not have"
done < <(sed -n 's/^### evosctl \([a-z -]*[a-z]\).*/\1/p' "$doc")

# Global options of the top-level command.
for o in $(options); do grep -q -- "$o\b" "$doc" && pass || fail "global option $o is not in docs/evosctl.md"; done

echo "evosctl_doc: $passes passed, $fails failed"
[ $fails = 0 ]
