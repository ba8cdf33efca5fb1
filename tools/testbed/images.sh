#!/usr/bin/env bash
# Build the test bed's local podman images (no registry is reachable: everything is built here).
# An image is (re)built when it is missing or when its recipe changed: the recipe's hash is stored
# as an image label and compared. Usage: images.sh [--force] [IMAGE...]
# (OOMKIT_REBUILD_IMAGES=1 in the environment forces too, e.g. `OOMKIT_REBUILD_IMAGES=1 make molecule`).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/testbed/common.sh disable=SC1091  # sourced by path at run time
. "$here/common.sh"

## The recipes -------------------------------------------------------------------------------------
# One line per image: NAME|DEBOOTSTRAP --include LIST|podman import --change directives (';'-separated)
# Everything is Debian 12 (bookworm), variant minbase; python3 is what ansible needs in the target.
# The plain image stops on SIGKILL: its PID 1 (a shell) ignores SIGTERM, and `podman rm -f` would
# wait 10 s for each container. The systemd image shuts down on SIGRTMIN+3 as systemd expects.
RECIPES=(
  'localhost/oomkit-debian:12|python3|CMD ["/bin/bash"];STOPSIGNAL SIGKILL'
  'localhost/oomkit-debian-systemd:12|python3,systemd,systemd-sysv,dbus,procps|CMD ["/sbin/init"];STOPSIGNAL SIGRTMIN+3'
  # The base of the execution environment ansible-builder builds in `make ecosystem` (tools/ee-build.sh):
  # no registry serves ansible-builder's UBI bases here. pip is Debian's (ensurepip is disabled there).
  'localhost/oomkit-debian-ee-base:12|python3,python3-pip|CMD ["/bin/bash"];STOPSIGNAL SIGKILL'
)
SUITE=bookworm
VARIANT=minbase
MIRROR=${OOMKIT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Downloaded .debs are kept here so a rebuild does not fetch them again.
CACHE_DIR=${OOMKIT_TESTBED_CACHE:-/var/cache/oomkit-testbed/debootstrap}

log() { printf 'testbed: %s\n' "$*"; }

# The hash covers the recipe line and the build function itself: changing either rebuilds.
recipe_hash() {
  { printf '%s\n' "$1" "$SUITE" "$VARIANT"; declare -f build_image; } | sha256sum | cut -c1-16
}

current_hash() {
  podman image inspect --format "{{ index .Labels \"$RECIPE_LABEL\" }}" "$1" 2>/dev/null || true
}

build_image() {
  local name=$1 include=$2 changes=$3 hash=$4 rootfs old_id change
  local -a change_args=(--change "LABEL $RECIPE_LABEL=$hash")
  IFS=';' read -r -a directives <<<"$changes"
  for change in "${directives[@]}"; do
    [[ -n $change ]] && change_args+=(--change "$change")
  done
  rootfs=$(mktemp -d /var/tmp/oomkit-rootfs.XXXXXX)
  rootfs_dirs+=("$rootfs")
  mkdir -p "$CACHE_DIR"
  log "debootstrap $SUITE ($VARIANT, +$include) for $name"
  debootstrap --variant="$VARIANT" --include="$include" --cache-dir="$CACHE_DIR" \
    "$SUITE" "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 \
    || { tail -n 30 "$rootfs.log" >&2; rm -f "$rootfs.log"; return 1; }
  rm -f "$rootfs.log"
  # Slim it: package lists and downloaded .debs are not needed to run tests.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
  # systemd fills in the machine id at boot; an empty file marks a fresh image.
  [[ -e $rootfs/etc/machine-id ]] && : >"$rootfs/etc/machine-id"
  # vm.* sysctls are not namespaced: in a privileged container, systemd-sysctl at boot would write
  # the image's defaults into the HOST's kernel. Tests set sysctls themselves, so mask it.
  if [[ -e $rootfs/lib/systemd/system/systemd-sysctl.service ]]; then
    ln -sfn /dev/null "$rootfs/etc/systemd/system/systemd-sysctl.service"
  fi
  old_id=$(podman image inspect --format '{{.Id}}' "$name" 2>/dev/null || true)
  log "importing $name"
  tar --numeric-owner -C "$rootfs" -cf - . | podman import --quiet "${change_args[@]}" - "$name" >/dev/null
  rm -rf "$rootfs"
  # The previous build of ours is now dangling: drop it (kept if a container still uses it).
  if [[ -n $old_id ]]; then
    podman rmi "$old_id" >/dev/null 2>&1 || true
  fi
}

rootfs_dirs=()
cleanup() {
  local d
  for d in "${rootfs_dirs[@]}"; do
    rm -rf "$d" "$d.log"
  done
}
trap cleanup EXIT

# Earlier builds of ours that lost their tag (a rebuild while a container used them) go away now.
prune_dangling() {
  local id
  podman images --quiet --filter dangling=true --filter "label=$RECIPE_LABEL" | sort -u | while read -r id; do
    if podman rmi "$id" >/dev/null 2>&1; then log "removed old build $id"; fi
  done
}

force=${OOMKIT_REBUILD_IMAGES:-false}
[[ $force == 1 || $force == true ]] && force=true || force=false
if [[ ${1:-} == --force ]]; then force=true; shift; fi
only=("$@")

for recipe in "${RECIPES[@]}"; do
  IFS='|' read -r name include changes <<<"$recipe"
  if ((${#only[@]})) && [[ " ${only[*]} " != *" $name "* ]]; then
    continue
  fi
  want=$(recipe_hash "$recipe")
  have=$(current_hash "$name")
  if ! $force && [[ $have == "$want" ]]; then
    log "image up to date: $name ($want)"
    continue
  fi
  [[ -z $have ]] && why=missing || why="recipe changed ($have -> $want)"
  $force && why=forced
  log "building $name: $why"
  start=$SECONDS
  build_image "$name" "$include" "$changes" "$want"
  log "built $name in $((SECONDS - start)) s"
done
prune_dangling
