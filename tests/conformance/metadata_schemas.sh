#!/bin/bash
# The agent's meta-data against every schema that judges it:
#  - resource-agents' ra-api-1.dtd (the OCF 1.0 DTD ocf-tester uses), read as ocf-tester reads it,
#    with the meta-data's internal subset (OCF 1.1's reloadable and reload-agent; nothing looser);
#  - the OCF 1.1 RELAX NG schema (pcs ships ClusterLabs/OCF-spec's ra-api.rng as ocf-1.1.rng);
#  - resource-agents' metadata.rng. It predates OCF 1.1 and knows no `reloadable` attribute,
#    so that one attribute is removed first; everything else in the document is checked as is.
# It also runs meta-data as an unprivileged user, as ocf-tester does. Usage: metadata_schemas.sh AGENT
set -u
agent=$1
fails=0 passes=0
md=$(mktemp); trap 'rm -f "$md"' EXIT
run() { if "$@"; then passes=$((passes+1)); else echo "FAIL: $*"; fails=$((fails+1)); fi; }

for f in /usr/share/resource-agents/ra-api-1.dtd /usr/share/pcs/data/ocf-1.1.rng /usr/share/resource-agents/metadata.rng; do
  [ -r "$f" ] || { echo "FAIL: $f is missing (run scripts/install-deps.sh)"; exit 1; }
done
"$agent" meta-data > "$md" || { echo "FAIL: meta-data returned $?"; exit 1; }
run bash -c "cd /usr/share/resource-agents && xmllint --noout --valid - < '$md'"
run xmllint --noout --relaxng /usr/share/pcs/data/ocf-1.1.rng "$md"
run bash -c "sed 's/ reloadable=\"1\"//' '$md' | xmllint --noout --relaxng /usr/share/resource-agents/metadata.rng -"
# Negative controls: the checks above must be able to fail.
run bash -c "! (sed 's/<version>1.1<\/version>//' '$md' | xmllint --noout --relaxng /usr/share/pcs/data/ocf-1.1.rng - 2>/dev/null)"
run bash -c "! (sed 's/<!DOCTYPE[^]]*]>/<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">/' '$md' | tr -d '\n' | sed 's/<!DOCTYPE[^>]*\[[^]]*\]>/<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">/' | (cd /usr/share/resource-agents && xmllint --noout --valid - 2>/dev/null))"
# The DTD judges action names: the meta-data's internal subset adds OCF 1.1's reload-agent to the
# DTD's list (libevos/src/ocf/metadata.cpp) but keeps it a list, so a misspelt action is refused.
run bash -c "! (sed 's/<action name=\"monitor\"/<action name=\"monitr\"/' '$md' | (cd /usr/share/resource-agents && xmllint --noout --valid - 2>/dev/null))"
run bash -c "! (sed 's/<action name=\"reload-agent\"/<action name=\"reload_agent\"/' '$md' | (cd /usr/share/resource-agents && xmllint --noout --valid - 2>/dev/null))"
if [ "$(id -u)" = 0 ]; then
  run su nobody -s /bin/sh -c "'$agent' meta-data >/dev/null"
fi
echo "metadata_schemas: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
