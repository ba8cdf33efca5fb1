#!/usr/bin/env bash
# Run `molecule test` for every scenario under extensions/molecule/, or for the ones named:
#   tools/molecule.sh [SCENARIO...]        (make molecule [SCENARIO=name])
# The test bed (podman, images, containers.podman) must be ready: `make testbed`.
#
# Whatever happens (a failed scenario, Ctrl-C), on exit this script
# - writes back every writable vm.* sysctl of the host that a run changed: vm.* is not namespaced,
#   so a privileged container writes the host's values;
# - removes the containers of the scenarios it ran (named oomkit-mol-<scenario>[-...]), and only those;
# - deletes the empty `oom` files conmon leaves in the working directory.
# Extra arguments for `molecule test` can be given in MOLECULE_ARGS (e.g. MOLECULE_ARGS=--no-command-borders).
# To keep containers for debugging, run molecule itself (see docs/testing.md).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=tools/testbed/common.sh disable=SC1091  # sourced by path at run time
. "$here/testbed/common.sh"

log() { printf 'molecule.sh: %s\n' "$*"; }
die() { printf 'molecule.sh: ERROR: %s\n' "$*" >&2; exit 2; }

cd "$repo"  # molecule finds the collection (galaxy.yml) and extensions/molecule/ from here
[[ -x $repo/.venv/bin/molecule ]] && export PATH="$repo/.venv/bin:$PATH"
command -v molecule >/dev/null || die "molecule not found: run \`make venv\`"
command -v podman >/dev/null || die "podman not found: run \`make testbed\`"
[[ -d $TESTBED_COLLECTIONS/ansible_collections/containers/podman ]] \
  || die "containers.podman not in $TESTBED_COLLECTIONS: run \`make testbed\`"

## the live tree, not an installed copy ----------------------------------------------------------

live=$repo/.tmp/live
if [[ ! -e $live/ansible_collections/oomkit/linux ]]; then
  mkdir -p "$live/ansible_collections/oomkit"
  ln -sfn "$repo" "$live/ansible_collections/oomkit/linux"
fi
export ANSIBLE_COLLECTIONS_PATH="$live:$TESTBED_COLLECTIONS${ANSIBLE_COLLECTIONS_PATH:+:$ANSIBLE_COLLECTIONS_PATH}"
[[ -t 1 ]] || export NO_COLOR=1 ANSIBLE_NOCOLOR=1

## scenarios ---------------------------------------------------------------------------------------

scenario_root=extensions/molecule
if (($#)); then
  scenarios=("$@")
  for s in "${scenarios[@]}"; do
    [[ -f $scenario_root/$s/molecule.yml ]] || die "no scenario $scenario_root/$s/molecule.yml"
  done
else
  # vm_* scenarios boot QEMU virtual machines: `make integration-vm` (tools/testbed/vm-test.sh) runs them.
  mapfile -t scenarios < <(find "$scenario_root" -mindepth 2 -name molecule.yml -not -path '*/vm_*' -printf '%h\n' \
    | sed "s#^$scenario_root/##" | sort)
  ((${#scenarios[@]})) || die "no scenarios under $scenario_root"
fi

## host state saved now, restored on exit -----------------------------------------------------------

state=$(mktemp -d)
touch "$state/started"

# Every vm.* sysctl we may read and write (write-only triggers like drop_caches are left alone).
save_sysctls() {
  local f value
  for f in /proc/sys/vm/*; do
    [[ -f $f && -r $f && -w $f ]] || continue
    value=$(cat "$f" 2>/dev/null) || continue
    printf '%s\t%s\n' "$f" "$value"
  done >"$state/sysctls"
}

restore_sysctls() {
  local f value now key
  [[ -f $state/sysctls ]] || return 0
  while IFS=$'\t' read -r f value; do
    now=$(cat "$f" 2>/dev/null) || continue
    [[ $now == "$value" ]] && continue
    key=${f#/proc/sys/}
    key=${key//\//.}
    if printf '%s\n' "$value" >"$f" 2>/dev/null; then
      log "restored host sysctl $key: $now -> $value"
    else
      log "WARNING: could not restore host sysctl $key to $value (now $now)"
    fi
  done <"$state/sysctls"
}

# Containers are named oomkit-mol-<scenario> or oomkit-mol-<scenario>-<suffix> (see docs/testing.md).
container_pattern() {
  local s=$1
  printf '^%s%s(-.*)?$' "$CONTAINER_PREFIX" "${s//\//-}"
}

scenario_containers() {
  podman ps --all --format '{{.Names}}' | grep -E "$(container_pattern "$1")" || true
}

# A scenario that left containers behind (failed, interrupted, --destroy=never) gets a proper
# `molecule destroy` (its cleanup playbook runs, its state is reset, or the next `molecule test`
# would skip create), then whatever is still there is removed by name.
remove_containers() {
  local s name
  for s in "${scenarios[@]}"; do
    [[ -n $(scenario_containers "$s") ]] || continue
    log "scenario $s left containers: molecule destroy"
    timeout 300 molecule destroy --scenario-name "$s" >"$state/destroy.log" 2>&1 9>&- \
      || { log "molecule destroy failed:"; tail -n 20 "$state/destroy.log"; }
    while read -r name; do
      [[ -n $name ]] || continue
      log "removing leftover container $name"
      podman rm --force --time 0 "$name" >/dev/null 2>&1 || podman rm --force "$name" >/dev/null || true
    done < <(scenario_containers "$s")
  done
}

# conmon writes them in the working directory of the podman process: ours (the checkout) and
# ansible-playbook's (the scenario directory). Only empty ones made during this run go.
remove_oom_files() {
  local f
  while read -r f; do
    [[ -n $f ]] || continue
    log "removing conmon's empty ${f#"$repo"/}"
    rm -f -- "$f"
  done < <({ find "$repo" -maxdepth 1 -type f -name oom -empty -newer "$state/started" -print
             find "$repo/extensions/molecule" -type f -name oom -empty -newer "$state/started" -print
           } 2>/dev/null)
}

finish() {
  local rc=$?
  trap - EXIT INT TERM
  restore_sysctls
  remove_containers
  remove_oom_files
  rm -rf "$state"
  exit "$rc"
}
# molecule runs in its own process group (testbed_run_group, common.sh): a signal to this script is
# passed on to it and waited for before cleaning up.
trap finish EXIT
testbed_forward_signals

# The kernel is shared: two runs at once would see each other's sysctl writes and restore each
# other's values. Runs of this script on one machine take turns.
lockdir=/run/lock; [[ -d $lockdir ]] || lockdir=/tmp
lock=${OOMKIT_MOLECULE_LOCK:-$lockdir/oomkit-molecule.lock}
exec 9>>"$lock"
if ! flock --nonblock 9; then
  log "another molecule run holds $lock: waiting for it"
  waited=$SECONDS
  flock 9
  log "got the lock after $((SECONDS - waited)) s"
fi

save_sysctls
remove_containers  # a run killed earlier may have left ours behind

## run ---------------------------------------------------------------------------------------------

read -r -a extra <<<"${MOLECULE_ARGS:-}"
passed=() failed=()
for s in "${scenarios[@]}"; do
  log "scenario $s"
  start=$SECONDS
  if testbed_run_group molecule test --scenario-name "$s" "${extra[@]}" 9>&-; then
    passed+=("$s")
    log "scenario $s passed in $((SECONDS - start)) s"
  else
    failed+=("$s")
    log "scenario $s FAILED after $((SECONDS - start)) s"
  fi
  restore_sysctls  # the next scenario starts from the host's own values
done

((${#failed[@]} == 0)) || log "failed: ${failed[*]}"
echo "molecule: ${#passed[@]} passed, ${#failed[@]} failed"
((${#failed[@]} == 0))
