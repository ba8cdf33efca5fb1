#!/usr/bin/env bash
# Build an execution environment (EE) that carries the collection, with ansible-builder, here.
#
# ansible-builder's own bases (registry.access.redhat.com UBI images, quay.io ansible bases) are
# not reachable from this machine, and pip inside a build container cannot reach PyPI either (the
# machine's TLS goes through a proxy whose CA only the host trusts). So:
#   - the base is the test bed's Debian 12 image with python3 and Debian's pip
#     (localhost/oomkit-debian-ee-base:12, built by tools/testbed/images.sh with debootstrap);
#   - the definition is the repository's execution-environment.yml with only what a Debian base
#     needs changed: base image, apt-get as the package manager (only ever asked to clean: there are
#     no system requirements), the system python3, pip already present (Debian disables ensurepip);
#   - every Python package ansible-builder installs comes from a wheelhouse downloaded on the host
#     with pip (PIP_NO_INDEX + PIP_FIND_LINKS inside the build), so the build is offline.
# Everything else is ansible-builder's own work: its Containerfile, its introspection of the
# collection's requirements (jmespath from meta/execution-environment.yml), its galaxy stage
# installing the tarball, its final stage and entrypoint.
#
# Usage: tools/ee-build.sh TARBALL [IMAGE]   (IMAGE defaults to localhost/oomkit-ee:<version>)
# The image is rebuilt only when its recipe hash (definition, collection files, wheels, base image,
# this script) changed; the hash is the image label io.oomkit.ee.recipe, as for the test bed images.
set -euo pipefail

tarball=$(realpath "${1:?usage: ee-build.sh TARBALL [IMAGE]}")
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$repo/.venv/bin"
[[ -x $bin/ansible-builder ]] || bin=$(dirname "$(command -v ansible-builder)")
version=$(basename "$tarball" .tar.gz)
version=${version##*-}
image=${2:-localhost/oomkit-ee:$version}
base=localhost/oomkit-debian-ee-base:12
label=io.oomkit.ee.recipe
work=${OOMKIT_EE_WORK:-$repo/.tmp/ee}
log() { printf 'ee: %s\n' "$*"; }

"$repo/tools/testbed/images.sh" "$base"

# The wheelhouse: what ansible-builder installs (ansible-core, ansible-runner and the collection's
# requirements.txt in the final image; bindep, pyyaml, packaging in its builder stage; dumb-init as
# the container init), at the versions requirements-dev.txt pins where it pins them.
pin() { grep -E "^$1==" "$repo/requirements-dev.txt" || echo "$1"; }
mkdir -p "$work/wheels"
"$bin/python" -m pip download --quiet --disable-pip-version-check --only-binary=:all: -d "$work/wheels" \
  "$(pin ansible-core)" "$(pin ansible-runner)" bindep pyyaml packaging dumb-init==1.2.5.post1 \
  -r "$repo/requirements.txt" 2>&1 | { grep -v "^WARNING: Location" || true; } >&2

rm -rf "$work/build" "$work/context"
mkdir -p "$work/build"
cp "$tarball" "$work/build/"
cp -r "$work/wheels" "$work/build/wheels"
"$bin/python" - "$repo/execution-environment.yml" "$work/build/execution-environment.yml" "$base" <<'PY'
import sys
import yaml

src, dest, base = sys.argv[1:]
with open(src) as f:
    ee = yaml.safe_load(f)
ee['images']['base_image']['name'] = base
ee['dependencies']['python_interpreter'] = {'python_path': '/usr/bin/python3'}
ee.setdefault('options', {}).update(package_manager_path='/usr/bin/apt-get', skip_pip_install=True)
# ansible-builder's default init, dumb-init==1.2.5, is a source release only; 1.2.5.post1 has the wheel
ee['options']['container_init'] = {'package_pip': 'dumb-init==1.2.5.post1',
                                   'entrypoint': '["/opt/builder/bin/entrypoint", "dumb-init"]',
                                   'cmd': '["bash"]'}
ee.setdefault('additional_build_files', []).append({'src': 'wheels', 'dest': 'wheels'})
steps = ee.setdefault('additional_build_steps', {})
offline = ['COPY _build/wheels/ /build/wheels/', 'ENV PIP_NO_INDEX=1 PIP_FIND_LINKS=/build/wheels']
steps['prepend_base'] = offline + list(steps.get('prepend_base', []))
# the image itself is not tied to the wheelhouse once built
steps['append_final'] = list(steps.get('append_final', [])) + [
    'ENV PIP_NO_INDEX=0 PIP_FIND_LINKS=', 'RUN rm -rf /build/wheels']
with open(dest, 'w') as f:
    yaml.safe_dump(ee, f, sort_keys=False)
PY

want=$({
  cat "$work/build/execution-environment.yml" "${BASH_SOURCE[0]}"
  tar -xzOf "$tarball" FILES.json
  (cd "$work/wheels" && ls -1)
  podman image inspect --format '{{.Id}}' "$base"
  "$bin/ansible-builder" --version
} | sha256sum | cut -c1-16)
have=$(podman image inspect --format "{{ index .Labels \"$label\" }}" "$image" 2>/dev/null || true)
if [[ $have == "$want" && ${OOMKIT_REBUILD_IMAGES:-} != 1 ]]; then
  log "image up to date: $image ($want)"
  exit 0
fi
log "building $image with ansible-builder (recipe $want)"
old_id=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
start=$SECONDS
"$bin/ansible-builder" build --file "$work/build/execution-environment.yml" --context "$work/context" \
  --tag "$image" --container-runtime podman --extra-build-cli-args "--label $label=$want" -v 3 \
  >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; exit 1; }
log "built $image in $((SECONDS - start)) s"
if [[ -n $old_id && $old_id != "$(podman image inspect --format '{{.Id}}' "$image")" ]]; then
  podman rmi "$old_id" >/dev/null 2>&1 || true
fi
