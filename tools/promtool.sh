#!/usr/bin/env bash
# Print the path of a promtool binary, unpacking it first when needed: Debian's prometheus package
# carries it; the package is downloaded (apt-get download, no install, no server started) and only
# usr/bin/promtool is kept, under .tmp/promtool of the checkout.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="$here/.tmp/promtool"
bin="$dest/usr/bin/promtool"
if [ ! -x "$bin" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && { apt-get download -qq prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download -qq prometheus >/dev/null; }; })
  debs=("$work"/prometheus_*.deb)
  dpkg -x "${debs[0]}" "$work/root"
  mkdir -p "$dest/usr/bin"
  cp "$work/root/usr/bin/promtool" "$bin.tmp"
  mv "$bin.tmp" "$bin"
fi
"$bin" --version >/dev/null
echo "$bin"
