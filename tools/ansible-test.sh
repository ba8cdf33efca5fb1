#!/usr/bin/env bash
# Run ansible-test on a fresh copy of the checkout under TEST_ROOT/ansible_collections/oomkit/linux.
# A lock keeps parallel runs from the same checkout (several make targets at once) from copying
# over each other's tree.
set -euo pipefail
test_root=${1:?usage: ansible-test.sh TEST_ROOT ANSIBLE_TEST_ARGS...}
shift
checkout=$(pwd)
mkdir -p "$test_root"
exec 9> "$test_root/.lock"
flock 9
"$checkout/tools/sync-collection.sh" "$test_root"
cd "$test_root/ansible_collections/oomkit/linux"
ansible-test "$@"
