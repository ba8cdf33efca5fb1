#!/usr/bin/env bash
# Start, reach and stop the test bed's QEMU virtual machines (Debian 12 guests built by
# vm-image.sh). Each VM boots a copy-on-write qcow2 overlay of the cached base image (never the base
# itself), its own kernel and initrd, with:
#   - TCG (software emulation) unless a short probe shows KVM really runs a kernel here;
#   - cgroup v2 only, 2 NUMA nodes (memory-backend-ram objects), 2 sockets of 1 core;
#   - QEMU's user network with restrict=on: the guest reaches nothing; the host reaches its SSH on
#     one forwarded loopback port;
#   - the serial console in a file; panic=10 and -no-reboot, so a panic (or a reboot) ends QEMU.
#
# Usage:
#   vm.sh start NAME [--memory MiB] [--append 'KERNEL ARGS']   boot (or boot again) and wait for SSH
#   vm.sh stop NAME... | --all     stop the VM(s) and remove their overlays and state
#   vm.sh ssh NAME [COMMAND...]    run a command in the guest (as root)
#   vm.sh reboot NAME              reboot the guest: QEMU exits (-no-reboot), the same overlay boots again
#   vm.sh wait-exit NAME [SECONDS] wait until QEMU has exited (after a panic), keep the state
#   vm.sh info NAME                print address, port, key and paths as KEY=VALUE lines
#   vm.sh list                     the VMs of this checkout that are running
# State of VM NAME: <repo>/.tmp/vm/NAME/ (overlay.qcow2, console.log, qemu.pid, port, kernel cmdline).
# Environment: OOMKIT_VM_BOOT_TIMEOUT (seconds to SSH, default 420), OOMKIT_VM_ACCEL (kvm or tcg:
# skip the probe), OOMKIT_VM_DIR (state root).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tools/testbed/common.sh disable=SC1091  # sourced by path at run time
. "$here/common.sh"

STATE_ROOT=${OOMKIT_VM_DIR:-$repo/.tmp/vm}
BOOT_TIMEOUT=${OOMKIT_VM_BOOT_TIMEOUT:-420}
QEMU=${QEMU:-qemu-system-x86_64}

log() { printf 'vm.sh: %s\n' "$*" >&2; }
die() { printf 'vm.sh: ERROR: %s\n' "$*" >&2; exit 2; }

valid_name() {
  [[ $1 =~ ^[a-z0-9][a-z0-9_-]{0,30}$ ]] || die "bad VM name '$1' (lower-case letters, digits, - and _)"
}

image_dir() {
  local d
  d=$("$here/vm-image.sh" --print-dir) || die "no base image (tools/testbed/vm-image.sh failed)"
  printf '%s\n' "$d"
}

qemu_pid() {  # the PID of the VM's QEMU if it runs, else nothing
  local dir=$STATE_ROOT/$1 pid
  [[ -f $dir/qemu.pid ]] || return 0
  pid=$(<"$dir/qemu.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  # Only our QEMU: the process must have this VM's overlay open on its command line.
  if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$dir/overlay.qcow2"; then
    echo "$pid"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

ssh_opts() {  # NAME: the options to reach the VM
  local dir=$STATE_ROOT/$1
  printf '%s\n' -i "$(<"$dir/key")" -p "$(<"$dir/port")" \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
    -o ConnectTimeout=15 -o ServerAliveInterval=15 -o ServerAliveCountMax=8 -o BatchMode=yes \
    -o IdentitiesOnly=yes
}

# KVM: /dev/kvm may exist and still not work (nested, without the processor's virtualisation):
# boot the guest kernel with no root file system and expect its panic within a few seconds.
probe_accel() {
  local img=$1 out rc
  if [[ -n ${OOMKIT_VM_ACCEL:-} ]]; then echo "$OOMKIT_VM_ACCEL"; return; fi
  if [[ -f $STATE_ROOT/.accel ]]; then cat "$STATE_ROOT/.accel"; return; fi
  mkdir -p "$STATE_ROOT"
  if [[ -r /dev/kvm && -w /dev/kvm ]]; then
    out=$(mktemp)
    rc=0
    timeout 20 "$QEMU" -accel kvm -cpu host -m 256 -nodefaults -no-user-config -display none \
      -serial "file:$out" -kernel "$img/vmlinuz" -append 'console=ttyS0 panic=-1' -no-reboot \
      >/dev/null 2>&1 || rc=$?
    if grep -q 'Kernel panic' "$out"; then
      log "KVM probe: a kernel booted in under 20 s: using KVM"
      echo kvm >"$STATE_ROOT/.accel"
    else
      log "KVM probe: /dev/kvm does not run a kernel here (exit $rc): using TCG (software emulation)"
      echo tcg >"$STATE_ROOT/.accel"
    fi
    rm -f "$out"
  else
    log "no usable /dev/kvm: using TCG (software emulation)"
    echo tcg >"$STATE_ROOT/.accel"
  fi
  cat "$STATE_ROOT/.accel"
}

boot() {  # NAME: start QEMU on the VM's existing state
  local name=$1 dir=$STATE_ROOT/$1 img accel memory append half
  img=$(<"$dir/image")
  memory=$(<"$dir/memory")
  append=$(<"$dir/append")
  accel=$(probe_accel "$img")
  half=$((memory / 2))
  local -a accel_args
  if [[ $accel == kvm ]]; then
    accel_args=(-accel kvm -cpu host)
  else
    # tb-size caps QEMU's translated code cache (about 1 GiB of host memory per VM by default).
    accel_args=(-accel 'tcg,thread=multi,tb-size=256' -cpu max)
  fi
  : >"$dir/console.log.new"
  [[ -s $dir/console.log ]] && cat "$dir/console.log" >>"$dir/console-previous.log"
  mv "$dir/console.log.new" "$dir/console.log"
  rm -f "$dir/qemu.pid"
  "$QEMU" -name "oomkit-$name" -nodefaults -no-user-config -display none -vga none \
    "${accel_args[@]}" -m "$memory" -smp 2,sockets=2,cores=1,threads=1 \
    -object "memory-backend-ram,id=m0,size=${half}M" -numa node,nodeid=0,cpus=0,memdev=m0 \
    -object "memory-backend-ram,id=m1,size=$((memory - half))M" -numa node,nodeid=1,cpus=1,memdev=m1 \
    -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 systemd.unified_cgroup_hierarchy=1 panic=10 net.ifnames=0 psi=1 log_buf_len=4M systemd.hostname=$name $append" \
    -drive "file=$dir/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe" \
    -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$(<"$dir/port")-:22" -device virtio-net-pci,netdev=n0 \
    -serial "file:$dir/console.log" -monitor none -no-reboot \
    -daemonize -pidfile "$dir/qemu.pid" 2>"$dir/qemu.err" \
    || { cat "$dir/qemu.err" >&2; die "$name: QEMU did not start"; }
  log "$name: QEMU $(<"$dir/qemu.pid") started ($accel, ${memory} MiB, 2 NUMA nodes), SSH on 127.0.0.1:$(<"$dir/port")"
}

wait_ssh() {
  local name=$1 dir=$STATE_ROOT/$1 start=$SECONDS
  local -a opts
  mapfile -t opts < <(ssh_opts "$name")
  while :; do
    if timeout 40 ssh "${opts[@]}" root@127.0.0.1 true 2>/dev/null; then
      log "$name: SSH up after $((SECONDS - start)) s"
      return 0
    fi
    [[ -n $(qemu_pid "$name") ]] || { tail -n 30 "$dir/console.log" >&2; die "$name: QEMU exited before SSH came up (console: $dir/console.log)"; }
    ((SECONDS - start < BOOT_TIMEOUT)) || { tail -n 30 "$dir/console.log" >&2; die "$name: no SSH after $BOOT_TIMEOUT s (console: $dir/console.log)"; }
    sleep 3
  done
}

cmd_start() {
  local name=$1 memory=1024 append='' dir img
  shift
  valid_name "$name"
  while (($#)); do
    case $1 in
      --memory) memory=$2; shift 2 ;;
      --append) append=$2; shift 2 ;;
      *) die "start: unknown option $1" ;;
    esac
  done
  if ! [[ $memory =~ ^[0-9]+$ ]] || ((memory < 256)); then
    die "start: --memory must be a number of MiB, at least 256"
  fi
  dir=$STATE_ROOT/$name
  if [[ -n $(qemu_pid "$name") ]]; then
    log "$name: already running"
    wait_ssh "$name"
    return
  fi
  command -v "$QEMU" >/dev/null || die "$QEMU not found: run tools/apt-ensure.sh qemu-system-x86 qemu-utils"
  img=$(image_dir)
  mkdir -p "$dir"
  if [[ ! -f $dir/overlay.qcow2 ]]; then
    qemu-img create -q -f qcow2 -b "$img/base.img" -F raw "$dir/overlay.qcow2"
  fi
  echo "$img" >"$dir/image"
  echo "$img/id_ed25519" >"$dir/key"
  echo "$memory" >"$dir/memory"
  printf '%s\n' "$append" >"$dir/append"
  [[ -f $dir/port ]] || free_port >"$dir/port"
  boot "$name"
  wait_ssh "$name"
}

stop_qemu() {
  local name=$1 pid i
  pid=$(qemu_pid "$name")
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    [[ -d /proc/$pid ]] || return 0
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 25; i++)); do
    [[ -d /proc/$pid ]] || return 0
    sleep 0.2
  done
  log "WARNING: $name: QEMU $pid still there after SIGKILL"
}

cmd_stop() {
  local names=("$@") name
  if [[ ${names[0]:-} == --all ]]; then
    names=()
    [[ -d $STATE_ROOT ]] && for name in "$STATE_ROOT"/*/; do [[ -d $name ]] && names+=("$(basename "$name")"); done
  fi
  for name in "${names[@]}"; do
    valid_name "$name"
    [[ -d $STATE_ROOT/$name ]] || continue
    stop_qemu "$name"
    rm -rf "${STATE_ROOT:?}/$name"
    log "$name: stopped, overlay removed"
  done
}

cmd_ssh() {
  local name=$1
  shift
  [[ -f $STATE_ROOT/$name/port ]] || die "$name: no such VM"
  local -a opts
  mapfile -t opts < <(ssh_opts "$name")
  exec ssh "${opts[@]}" root@127.0.0.1 "$@"
}

cmd_wait_exit() {
  local name=$1 limit=${2:-300} start=$SECONDS
  while [[ -n $(qemu_pid "$name") ]]; do
    ((SECONDS - start < limit)) || die "$name: QEMU still running after $limit s"
    sleep 1
  done
  log "$name: QEMU exited after $((SECONDS - start)) s"
}

cmd_reboot() {
  local name=$1
  [[ -n $(qemu_pid "$name") ]] || die "$name: not running"
  "$0" ssh "$name" 'systemctl reboot' || true
  cmd_wait_exit "$name" 180  # -no-reboot: QEMU ends when the guest reboots
  boot "$name"
  wait_ssh "$name"
}

cmd_info() {
  local name=$1 dir=$STATE_ROOT/$1
  [[ -f $dir/port ]] || die "$name: no such VM"
  printf 'address=127.0.0.1\nport=%s\nuser=root\nidentity_file=%s\nconsole=%s\nstate=%s\npid=%s\n' \
    "$(<"$dir/port")" "$(<"$dir/key")" "$dir/console.log" "$dir" "$(qemu_pid "$name")"
}

cmd_list() {
  local d
  [[ -d $STATE_ROOT ]] || return 0
  for d in "$STATE_ROOT"/*/; do
    [[ -d $d ]] || continue
    d=$(basename "$d")
    [[ -n $(qemu_pid "$d") ]] && echo "$d"
  done
  return 0
}

(($#)) || die "usage: vm.sh start|stop|ssh|reboot|wait-exit|info|list ..."
action=$1
shift
case $action in
  start) (($#)) || die "start NAME"; cmd_start "$@" ;;
  stop) (($#)) || die "stop NAME... | --all"; cmd_stop "$@" ;;
  ssh) (($#)) || die "ssh NAME [COMMAND]"; cmd_ssh "$@" ;;
  reboot) (($# == 1)) || die "reboot NAME"; cmd_reboot "$1" ;;
  wait-exit) (($#)) || die "wait-exit NAME [SECONDS]"; cmd_wait_exit "$@" ;;
  info) (($# == 1)) || die "info NAME"; cmd_info "$1" ;;
  list) cmd_list ;;
  *) die "unknown action $action" ;;
esac
