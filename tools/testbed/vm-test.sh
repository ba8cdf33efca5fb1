#!/usr/bin/env bash
# `make integration-vm`: the molecule scenarios that run in QEMU virtual machines
# (extensions/molecule/vm_*), one after the other, or the ones named:
#   tools/testbed/vm-test.sh [SCENARIO...]
# Installs what it needs (qemu-system-x86, qemu-utils, debootstrap from apt), builds the guest image
# when missing or when its recipe changed (vm-image.sh), then runs `molecule test` per scenario.
# Whatever happens (a failed scenario, Ctrl-C, SIGTERM), every VM of this checkout is stopped on exit
# and its overlay removed: the base image is the only thing left, in the cache.
# Prints one line per scenario and a summary `integration-vm: N passed, M failed`.
# Without names: every vm_* scenario but vm_fleet (three VMs at once); OOMKIT_VM_ALL=1 includes it.
# MOLECULE_ARGS: extra arguments for `molecule test`. OOMKIT_VM_KEEP=1: do not stop the VMs on exit
# (for debugging a scenario: then run `tools/testbed/vm.sh stop --all` yourself).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tools/testbed/common.sh disable=SC1091  # sourced by path at run time
. "$here/common.sh"

log() { printf 'integration-vm: %s\n' "$*"; }
die() { printf 'integration-vm: ERROR: %s\n' "$*" >&2; exit 2; }

cd "$repo"
[[ -x $repo/.venv/bin/molecule ]] && export PATH="$repo/.venv/bin:$PATH"
command -v molecule >/dev/null || die "molecule not found: run \`make venv\`"
[[ $(id -u) -eq 0 ]] || die "needs root (apt, debootstrap)"

scenario_root=extensions/molecule
SLOW_SCENARIOS=(vm_fleet)
if (($#)); then
  scenarios=("$@")
  for s in "${scenarios[@]}"; do
    [[ $s == vm_* && -f $scenario_root/$s/molecule.yml ]] || die "no VM scenario $scenario_root/$s/molecule.yml"
  done
else
  mapfile -t scenarios < <(find "$scenario_root" -mindepth 2 -maxdepth 2 -name molecule.yml -path '*/vm_*' -printf '%h\n' \
    | sed "s#^$scenario_root/##" | sort)
  ((${#scenarios[@]})) || die "no scenarios $scenario_root/vm_*"
  # The default set (make test) boots one VM at a time; these boot several: by name or OOMKIT_VM_ALL=1.
  if [[ ${OOMKIT_VM_ALL:-} != 1 ]]; then
    mapfile -t scenarios < <(printf '%s\n' "${scenarios[@]}" | grep -vxF -e "${SLOW_SCENARIOS[@]}")
  fi
fi

live=$repo/.tmp/live
if [[ ! -e $live/ansible_collections/oomkit/linux ]]; then
  mkdir -p "$live/ansible_collections/oomkit"
  ln -sfn "$repo" "$live/ansible_collections/oomkit/linux"
fi
export ANSIBLE_COLLECTIONS_PATH="$live${ANSIBLE_COLLECTIONS_PATH:+:$ANSIBLE_COLLECTIONS_PATH}"
[[ -t 1 ]] || export NO_COLOR=1 ANSIBLE_NOCOLOR=1

finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ ${OOMKIT_VM_KEEP:-} == 1 ]]; then
    log "OOMKIT_VM_KEEP=1: VMs left running: $("$here/vm.sh" list | tr '\n' ' ')"
  else
    "$here/vm.sh" stop --all
  fi
  exit "$rc"
}
# molecule runs in its own process group (testbed_run_group, common.sh): a signal to this script is
# passed on to it and waited for before the VMs are stopped.
trap finish EXIT
testbed_forward_signals

total=$SECONDS
"$repo/tools/apt-ensure.sh" qemu-system-x86 qemu-utils debootstrap
start=$SECONDS
"$here/vm-image.sh"
log "guest image ready in $((SECONDS - start)) s"
"$here/vm.sh" stop --all  # VMs an earlier, killed run left behind

read -r -a extra <<<"${MOLECULE_ARGS:-}"
passed=() failed=()
for s in "${scenarios[@]}"; do
  log "scenario $s"
  start=$SECONDS
  if testbed_run_group molecule test --scenario-name "$s" "${extra[@]}"; then
    passed+=("$s")
    log "scenario $s passed in $((SECONDS - start)) s"
  else
    failed+=("$s")
    log "scenario $s FAILED after $((SECONDS - start)) s"
  fi
done

((${#failed[@]} == 0)) || log "failed: ${failed[*]}"
echo "integration-vm: ${#passed[@]} passed, ${#failed[@]} failed in $((SECONDS - total)) s"
((${#failed[@]} == 0))
