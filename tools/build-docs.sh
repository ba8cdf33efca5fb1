#!/usr/bin/env bash
# Render every plugin's documentation the way users see it: ansible-doc for each module, and the
# antsibull-docs RST pages into DEST (not committed; CI only proves they build).
set -euo pipefail
dest=${1:?usage: build-docs.sh DEST}
modules=$(find plugins/modules -name '*.py' ! -name '__init__.py' -printf '%f\n' | sed 's/\.py$//' | sort)
for module in $modules; do
  ansible-doc "oomkit.linux.$module" > /dev/null
done
echo "ansible-doc renders: $(echo "$modules" | tr '\n' ' ')"
rm -rf "$dest" && mkdir -p "$dest"
antsibull-docs collection --use-current --squash-hierarchy --fail-on-error --dest-dir "$dest" oomkit.linux > /dev/null
echo "docsite pages: $(find "$dest" -name '*.rst' | wc -l) in $dest"
