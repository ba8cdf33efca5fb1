# shellcheck shell=bash disable=SC2034  # the variables are used by the scripts that source this
# Settings and helpers shared by the test bed scripts (setup.sh, images.sh, vm*.sh, ../molecule.sh). Source, don't run.

# containers.podman (needed by the molecule podman driver) comes from this `ansible` release on
# PyPI: ansible 12.x bundles containers.podman 1.18.x and goes with ansible-core 2.19.
ANSIBLE_BUNDLE_VERSION=12.3.0
BUNDLED_COLLECTIONS=(containers.podman)

_testbed_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TESTBED_COLLECTIONS=${OOMKIT_TESTBED_COLLECTIONS:-$_testbed_repo/.tmp/collections}

# Every container molecule creates for us is named with this prefix (see extensions/molecule/),
# so the wrapper can remove ours, and only ours, whatever happens.
CONTAINER_PREFIX=oomkit-mol-

# Label carrying the hash of the recipe an image was built from (images.sh).
RECIPE_LABEL=io.oomkit.testbed.recipe

export ANSIBLE_BUNDLE_VERSION TESTBED_COLLECTIONS CONTAINER_PREFIX RECIPE_LABEL

# The virtual machine base images (vm-image.sh) live here, one directory per recipe hash; the
# running VMs' overlays, console logs and state under the checkout's .tmp/vm/ (vm.sh).
VM_CACHE=${OOMKIT_VM_CACHE:-/var/cache/oomkit-testbed/vm}
export VM_CACHE

# Signal forwarding of the wrappers that run molecule (../molecule.sh, vm-test.sh): the long child
# runs in its own process group (testbed_run_group), so that a SIGINT or SIGTERM to the wrapper is
# passed on to molecule and the ansible-playbook it started, and waited for, before the wrapper's
# EXIT trap cleans up (containers removed, sysctls restored, VMs stopped).
TESTBED_CHILD=
testbed_on_signal() {
  if [[ -n $TESTBED_CHILD ]]; then
    kill -TERM -- "-$TESTBED_CHILD" 2>/dev/null || true
    wait "$TESTBED_CHILD" 2>/dev/null || true
  fi
  exit "$1"
}
testbed_forward_signals() {
  trap 'testbed_on_signal 130' INT
  trap 'testbed_on_signal 143' TERM
}
# testbed_run_group CMD [ARG...]: CMD in its own process group; returns its exit status.
testbed_run_group() {
  local rc=0
  set -m
  "$@" &
  TESTBED_CHILD=$!
  set +m
  wait "$TESTBED_CHILD" || rc=$?
  TESTBED_CHILD=
  return "$rc"
}
