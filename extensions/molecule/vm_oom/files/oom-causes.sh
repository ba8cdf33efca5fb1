#!/bin/sh
# Runs in the guest: one real OOM kill of each kind, each announced on /dev/kmsg by a marker line
# (`oomkit-vm-test: CAUSE`), the allocators started as transient services with OOMScoreAdjust=0 so
# that nothing inherits the SSH session's score. Usage: oom-causes.sh CAUSE...
# Causes: own parent numa cpuset group global (global last: it may take other processes along).
set -u
hog='import sys, time
chunks = []
for _ in range(int(sys.argv[1])):
    chunks.append(b"x" * (16 << 20))
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 0)'

mark() { echo "oomkit-vm-test: $1" > /dev/kmsg; }

# Start a hog as a service and wait for it to end; its exit status is of no interest (it is killed).
run() {  # UNIT MiB [systemd-run options...]
  unit=$1 mib=$2
  shift 2
  systemd-run --quiet --wait --collect --unit "$unit" -p OOMScoreAdjust=0 -p MemorySwapMax=0 "$@" \
    python3 -c "$hog" $((mib / 16)) >/dev/null 2>&1 || true
}

for cause; do
  case $cause in
    own)
      mark own
      run oom-own 200 -p MemoryMax=64M ;;
    parent)
      # the slice allows 96M, each child 80M: together they pass the slice's limit
      printf '[Slice]\nMemoryMax=96M\nMemorySwapMax=0\n' > /run/systemd/system/oomtest.slice
      systemctl daemon-reload
      mark parent
      systemd-run --quiet --collect --unit oom-parent1 --slice oomtest.slice -p OOMScoreAdjust=0 \
        -p MemoryMax=80M python3 -c "$hog" 4 30 >/dev/null 2>&1
      sleep 3
      run oom-parent2 160 --slice oomtest.slice -p MemoryMax=80M
      systemctl stop oom-parent1.service 2>/dev/null || true ;;
    numa)
      # node 1 has half of the guest's memory; the policy allows only it
      mark numa
      run oom-numa 2000 numactl --membind=1 ;;
    cpuset)
      mark cpuset
      run oom-cpuset 2000 -p AllowedMemoryNodes=1 ;;
    group)
      # a cgroup with memory.oom.group: the sleeper dies with the hog
      mkdir -p /sys/fs/cgroup/oomkit-group
      echo 64M > /sys/fs/cgroup/oomkit-group/memory.max
      echo 0 > /sys/fs/cgroup/oomkit-group/memory.swap.max
      echo 1 > /sys/fs/cgroup/oomkit-group/memory.oom.group
      mark group
      sh -c 'echo $$ > /sys/fs/cgroup/oomkit-group/cgroup.procs; echo 0 > /proc/self/oom_score_adj; exec sleep 600' &
      sleep 1
      sh -c 'echo $$ > /sys/fs/cgroup/oomkit-group/cgroup.procs; echo 0 > /proc/self/oom_score_adj
             exec python3 -c "$1" 12' sh "$hog" >/dev/null 2>&1
      wait ;;
    global)
      mark global
      run oom-global 4000 ;;
    panic)
      # vm.panic_on_oom=1 must be set: the kernel panics instead of killing, and the VM ends
      mark panic
      run oom-panic 4000 ;;
    *) echo "unknown cause $cause" >&2; exit 2 ;;
  esac
  sleep 2
done
