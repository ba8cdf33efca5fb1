#!/usr/bin/env bash
# Install Debian packages that are missing, and only those; run apt-get update at most once.
set -euo pipefail
missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing from apt: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Another apt run (a parallel make target, unattended-upgrades) holds the dpkg lock: wait for it.
APT_WAIT=(-o DPkg::Lock::Timeout=900)
apt-get "${APT_WAIT[@]}" update -qq
apt-get "${APT_WAIT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
