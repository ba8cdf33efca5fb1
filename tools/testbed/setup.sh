#!/usr/bin/env bash
# Prepare this machine for the molecule test bed (`make testbed`). Idempotent: every step checks
# first and does nothing when the machine is already in shape, so a second run takes seconds.
#
#   1. podman, runc and debootstrap from apt (Debian 12) when missing;
#   2. the podman settings this VM needs, merged into /etc/containers/containers.conf;
#   3. the containers.podman collection, unpacked from the `ansible` wheel on PyPI (no Galaxy);
#   4. the local images, built by images.sh when missing or when their recipe changed.
#
# Usage: setup.sh [STEP...]: all steps by default, or only the ones named (packages, podman-conf,
# collections, images), e.g. `setup.sh collections` where only containers.podman is needed.
#
# Environment: PYTHON (defaults to the repo's .venv python, else python3), OOMKIT_TESTBED_COLLECTIONS
# (where collections go, default <repo>/.tmp/collections).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tools/testbed/common.sh disable=SC1091  # sourced by path at run time
. "$here/common.sh"

if [[ -x "$repo/.venv/bin/python" ]]; then
  default_python="$repo/.venv/bin/python"
else
  default_python=python3
fi
PYTHON=${PYTHON:-$default_python}

log() { printf 'testbed: %s\n' "$*"; }
die() { printf 'testbed: ERROR: %s\n' "$*" >&2; exit 1; }

need_root() {
  [[ $(id -u) -eq 0 ]] || die "$1 needs root: the test bed installs packages and runs rootful podman"
}

## 1. packages ------------------------------------------------------------------------------------

# podman with its recommends (netavark, aardvark-dns, iptables, catatonit: the set checked here);
# runc because crun fails on this hybrid cgroup host ("cgroups in hybrid mode not supported").
packages=(podman runc debootstrap)

installed() {
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

apt_lists_present() {
  compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null
}

ensure_packages() {
  local missing=() p
  for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
  done
  ((${#missing[@]})) || { log "packages present: ${packages[*]}"; return 0; }
  log "installing from apt: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  local wait=(-o DPkg::Lock::Timeout=900)  # a parallel apt run holds the dpkg lock: wait
  apt_lists_present || apt-get "${wait[@]}" update -qq
  if ! apt-get "${wait[@]}" install -y -qq "${missing[@]}" >/dev/null; then
    # Stale lists (a package moved on the mirror): refresh once and retry.
    apt-get "${wait[@]}" update -qq
    apt-get "${wait[@]}" install -y -qq "${missing[@]}" >/dev/null
  fi
}

## 2. podman settings ------------------------------------------------------------------------------

# Merge our keys into containers.conf, keeping every other setting (and comments) as it is.
# - runtime runc: crun fails with "cgroups in hybrid mode not supported";
# - cgroupfs + file events: PID 1 is not systemd, there is no journald;
# - ulimits: podman's defaults exceed what this VM may set ("error setting rlimit type 7").
ensure_containers_conf() {
  local conf=/etc/containers/containers.conf
  mkdir -p "$(dirname "$conf")"
  "$PYTHON" - "$conf" <<'PY'
import os
import re
import sys
import tomllib

path = sys.argv[1]
wanted = {
    "containers": {"default_ulimits": '["nofile=4096:4096", "nproc=4096:4096"]'},
    "engine": {"runtime": '"runc"', "cgroup_manager": '"cgroupfs"', "events_logger": '"file"'},
}

try:
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
except FileNotFoundError:
    lines = []

header = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?$")


def value_span(i):
    """Index after the last line of the value starting on line i (multi-line arrays included)."""
    text = lines[i].split("=", 1)[1]
    j = i + 1
    while j < len(lines):
        try:
            tomllib.loads("x = " + text)
            break
        except tomllib.TOMLDecodeError:
            text += "\n" + lines[j]
            j += 1
    return j


for table, keys in wanted.items():
    for key, value in keys.items():
        want = f"{key} = {value}"
        start = None
        for i, line in enumerate(lines):
            m = header.match(line)
            if m and m.group(1) == table:
                start = i
                break
        if start is None:
            if lines and lines[-1].strip():
                lines.append("")
            lines += [f"[{table}]", want]
            continue
        end = next((i for i in range(start + 1, len(lines)) if header.match(lines[i])
                    or lines[i].lstrip().startswith("[[")), len(lines))
        keyre = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for i in range(start + 1, end):
            if keyre.match(lines[i]):
                lines[i:value_span(i)] = [want]
                break
        else:
            last = max([start] + [i for i in range(start + 1, end) if lines[i].strip()])
            lines.insert(last + 1, want)

new = "\n".join(lines) + "\n"
tomllib.loads(new)  # never write a file podman cannot parse
try:
    with open(path, encoding="utf-8") as f:
        old = f.read()
except FileNotFoundError:
    old = None
if new != old:
    tmp = path + ".oomkit-tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(new)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    print(f"testbed: updated {path}")
else:
    print(f"testbed: {path} already has the test bed settings")
PY
}

## 3. containers.podman without Galaxy ---------------------------------------------------------------

# The `ansible` package on PyPI bundles the collections; its wheel is a zip. Download it (pip caches
# it), unpack only the collections we need, and record where they came from.
ensure_collections() {
  local dest=$TESTBED_COLLECTIONS stamp want
  stamp="$dest/.oomkit-source"
  want="ansible==$ANSIBLE_BUNDLE_VERSION: ${BUNDLED_COLLECTIONS[*]}"
  if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
    log "collections present: ${BUNDLED_COLLECTIONS[*]} (from ansible==$ANSIBLE_BUNDLE_VERSION)"
    return 0
  fi
  log "unpacking ${BUNDLED_COLLECTIONS[*]} from the ansible==$ANSIBLE_BUNDLE_VERSION wheel"
  tmp=$(mktemp -d)
  "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$tmp" "ansible==$ANSIBLE_BUNDLE_VERSION"
  mkdir -p "$dest/ansible_collections"
  "$PYTHON" - "$tmp"/ansible-*.whl "$dest" "${BUNDLED_COLLECTIONS[@]}" <<'PY'
import os
import shutil
import sys
import zipfile

wheel, dest, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for name in names:
        prefix = "ansible_collections/" + name.replace(".", "/") + "/"
        members = [m for m in z.namelist() if m.startswith(prefix)]
        if not members:
            sys.exit(f"{name} is not in {os.path.basename(wheel)}")
        target = os.path.join(dest, prefix)
        shutil.rmtree(target, ignore_errors=True)
        z.extractall(dest, members)
PY
  rm -rf "$tmp"
  printf '%s\n' "$want" >"$stamp"
}

tmp=
trap '[[ -z $tmp ]] || rm -rf "$tmp"' EXIT

## main --------------------------------------------------------------------------------------------

# Two set-ups at once (two checkouts, two make runs) would build the same images: take turns.
{ exec 9>>/run/lock/oomkit-testbed.lock; } 2>/dev/null \
  || exec 9>>"${TMPDIR:-/tmp}/oomkit-testbed.$(id -u).lock"
if ! flock --nonblock 9; then
  log "another test bed set-up is running: waiting for it"
  flock 9
fi

steps=("$@")
((${#steps[@]})) || steps=(packages podman-conf collections images)
start=$SECONDS
for step in "${steps[@]}"; do
  case $step in
    packages) need_root "$step"; ensure_packages ;;
    podman-conf) need_root "$step"; ensure_containers_conf ;;
    collections) ensure_collections ;;
    images) need_root "$step"; "$here/images.sh" ;;
    *) die "unknown step $step (packages, podman-conf, collections, images)" ;;
  esac
done
log "ready in $((SECONDS - start)) s"
