#!/usr/bin/env bash
# Copy the checkout into DEST/ansible_collections/oomkit/linux, the layout ansible-test insists on.
# ansible-test resolves symlinks, so this must be a real copy. Its own output (tests/output) is kept
# between runs so its virtualenvs and caches are reused.
set -euo pipefail
dest_root=${1:?usage: sync-collection.sh DEST}
dest="$dest_root/ansible_collections/oomkit/linux"
mkdir -p "$dest/tests"
find "$dest" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
find "$dest/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
# Tracked files plus new files not yet committed, never ignored ones.
git ls-files -z --cached --others --exclude-standard \
  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null \
  | tar -C "$dest" -xf -
