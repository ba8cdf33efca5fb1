#!/usr/bin/env bash
# Build the test bed's virtual machine base image: a Debian 12 guest with its own kernel, systemd,
# OpenSSH, rsyslog and numactl, as a raw ext4 file system image (booted by tools/testbed/vm.sh
# through copy-on-write overlays only, never itself).
#
# The image is cached by the hash of its recipe (the package list, the suite and the functions
# below), like the container images of images.sh: it is rebuilt when missing or when the recipe
# changed. Each build makes a fresh SSH key for root; machine-id and SSH host keys are left empty
# in the image and made by each clone at its first boot.
#
# Usage: vm-image.sh [--force] [--print-dir]
#   prints "vm-image: ..." progress on stderr; with --print-dir, the image directory on stdout.
# The result is $VM_CACHE/<hash>/ holding base.img, vmlinuz, initrd.img, id_ed25519(.pub), recipe.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/testbed/common.sh disable=SC1091  # sourced by path at run time
. "$here/common.sh"

## The recipe --------------------------------------------------------------------------------------
SUITE=bookworm
VARIANT=minbase
# dbus + libpam-systemd: logind gives SSH sessions their own session scopes, as on a real host.
PACKAGES=linux-image-amd64,systemd-sysv,systemd-oomd,dbus,libpam-systemd,openssh-server,python3,rsyslog,numactl,procps,udev,iproute2,kmod
IMAGE_SIZE=2G
MIRROR=${OOMKIT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE_DIR=${OOMKIT_TESTBED_CACHE:-/var/cache/oomkit-testbed/debootstrap}

log() { printf 'vm-image: %s\n' "$*" >&2; }
die() { printf 'vm-image: ERROR: %s\n' "$*" >&2; exit 1; }

# Everything written into the root tree after debootstrap. Part of the recipe hash.
configure_guest() {
  local root=$1 pubkey=$2
  # No network but QEMU's user network (restrict=on): a static address, no DHCP wait.
  cat >"$root/etc/fstab" <<'EOF'
/dev/vda / ext4 rw,errors=remount-ro 0 1
EOF
  mkdir -p "$root/etc/systemd/network"
  cat >"$root/etc/systemd/network/10-qemu.network" <<'EOF'
[Match]
Name=eth0
[Network]
Address=10.0.2.15/24
Gateway=10.0.2.2
EOF
  echo oomkit-vm >"$root/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 oomkit-vm\n' >"$root/etc/hosts"
  # A clone makes its own identity at first boot: empty machine-id, no host keys.
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id" "$root"/etc/ssh/ssh_host_*
  cat >"$root/etc/systemd/system/oomkit-ssh-hostkey.service" <<'EOF'
[Unit]
Description=SSH host key of this clone (oomkit test bed)
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key
[Install]
RequiredBy=ssh.service
EOF
  mkdir -p "$root/etc/ssh/sshd_config.d"
  cat >"$root/etc/ssh/sshd_config.d/oomkit.conf" <<'EOF'
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
EOF
  install -d -m 700 "$root/root/.ssh"
  install -m 600 "$pubkey" "$root/root/.ssh/authorized_keys"
  # The journal on disk, so that oom_facts reads it after a reboot too.
  mkdir -p "$root/var/log/journal"
  # Nothing runs by itself during a test: no apt, man-db, fstrim or e2scrub timers.
  local unit
  for unit in apt-daily.timer apt-daily-upgrade.timer man-db.timer fstrim.timer e2scrub_all.timer \
              systemd-networkd-wait-online.service; do
    ln -sfn /dev/null "$root/etc/systemd/system/$unit"
  done
  chroot "$root" systemctl enable --quiet systemd-networkd.service oomkit-ssh-hostkey.service systemd-oomd.service
  # No package lists or downloaded packages in the image.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
}

recipe() {
  printf '%s\n' "$SUITE" "$VARIANT" "$PACKAGES" "$IMAGE_SIZE"
  declare -f configure_guest build
}

recipe_hash() { recipe | sha256sum | cut -c1-16; }

build() {
  local dir=$1 root=$2 kver
  mkdir -p "$CACHE_DIR"
  log "debootstrap $SUITE ($VARIANT, +$PACKAGES): a few minutes"
  debootstrap --variant="$VARIANT" --include="$PACKAGES" --cache-dir="$CACHE_DIR" \
    "$SUITE" "$root" "$MIRROR" >"$dir/debootstrap.log" 2>&1 \
    || { tail -n 30 "$dir/debootstrap.log" >&2; die "debootstrap failed"; }
  ssh-keygen -q -t ed25519 -N '' -C "oomkit-testbed-vm" -f "$dir/id_ed25519"
  configure_guest "$root" "$dir/id_ed25519.pub"
  kver=$(basename "$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)")
  kver=${kver#vmlinuz-}
  [[ -n $kver && -f $root/boot/initrd.img-$kver ]] || die "no kernel or initrd in $root/boot"
  cp "$root/boot/vmlinuz-$kver" "$dir/vmlinuz"
  cp "$root/boot/initrd.img-$kver" "$dir/initrd.img"
  log "mkfs.ext4 -d ($IMAGE_SIZE, kernel $kver)"
  mkfs.ext4 -q -F -L oomkit-root -d "$root" "$dir/base.img" "$IMAGE_SIZE"
  chmod 0444 "$dir/base.img"  # never booted, never written: overlays only
  echo "$kver" >"$dir/kernel-version"
  rm -f "$dir/debootstrap.log"
}

# debootstrap mounts /proc (and more) inside the tree; a build killed half-way may leave them:
# unmount whatever is below the tree first and never cross into another file system.
remove_root() {
  local root=$1 m
  [[ -d $root ]] || return 0
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(findmnt -rn -o TARGET | grep -F "$root/" | sort -r)
  rm -rf --one-file-system "$root"
}

force=false
print_dir=false
for arg; do
  case $arg in
    --force) force=true ;;
    --print-dir) print_dir=true ;;
    *) die "unknown argument $arg (--force, --print-dir)" ;;
  esac
done
[[ ${OOMKIT_REBUILD_IMAGES:-} == 1 || ${OOMKIT_REBUILD_IMAGES:-} == true ]] && force=true
[[ $(id -u) -eq 0 ]] || die "the image build needs root (debootstrap, chroot)"
for tool in debootstrap mkfs.ext4 ssh-keygen; do
  command -v "$tool" >/dev/null || die "$tool not found: run tools/apt-ensure.sh (make integration-vm does)"
done

hash=$(recipe_hash)
dir=$VM_CACHE/$hash
mkdir -p "$VM_CACHE"
# Two builds at once (two checkouts) would fight over the same directory: take turns.
exec 8>>"$VM_CACHE/.lock"
flock 8

if ! $force && [[ -f $dir/complete ]]; then
  log "image up to date: $dir"
else
  rm -rf "$dir"
  mkdir -p "$dir"
  root=$(mktemp -d /var/tmp/oomkit-vm-root.XXXXXX)
  # shellcheck disable=SC2064  # expand now: the trap must remove this root tree
  trap "remove_root '$root'; [[ -f '$dir/complete' ]] || rm -rf '$dir'" EXIT
  start=$SECONDS
  build "$dir" "$root"
  recipe >"$dir/recipe"
  touch "$dir/complete"
  remove_root "$root"
  log "built $dir in $((SECONDS - start)) s"
  # Builds of older recipes go (an overlay still using one keeps its open file until it stops).
  for old in "$VM_CACHE"/*/; do
    old=${old%/}
    [[ $old == "$dir" ]] || { log "removing old build $old"; rm -rf "$old"; }
  done
fi
if $print_dir; then echo "$dir"; fi
