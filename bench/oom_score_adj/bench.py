# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: oom_score_adj selection by name on a host with thousands of processes.

Spawns N extra processes (default 5,000; --quick: 500), then times, in the same run and
alternating, over several rounds:

* reference: a plain ``os.listdir('/proc')`` plus reading every ``/proc/PID/comm`` (the least any
  name lookup must do), comparing with the name;
* module logic: ``select_processes(fs, {"name": ...})`` + ``plan_oom_score_adj(...)`` for the
  processes found (read-only: the plan is not committed), as the module runs it;
* the same with ``pattern`` (reads every command line) and ``include_children`` (reads every
  stat), to show what the other selectors cost.

Prints the medians and the ratio to the reference. Never asserts a time. The spawned processes
are killed at the end, whatever happens. Run with the collection importable, e.g.
``PYTHONPATH=<dir containing ansible_collections> python3 bench/oom_score_adj/bench.py``.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _import_collection():
    """Import from the checkout even without an ansible_collections tree on sys.path."""
    try:
        from ansible_collections.oomkit.linux.plugins.module_utils import processes  # noqa: F401
        return
    except ImportError:
        pass
    import tempfile
    root = os.path.abspath(os.path.join(HERE, "..", ".."))
    link_root = tempfile.mkdtemp(prefix="oomkit-bench-")
    os.makedirs(os.path.join(link_root, "ansible_collections", "oomkit"))
    os.symlink(root, os.path.join(link_root, "ansible_collections", "oomkit", "linux"))
    sys.path.insert(0, link_root)


_import_collection()

from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostFS  # noqa: E402
from ansible_collections.oomkit.linux.plugins.module_utils.processes import (  # noqa: E402
    plan_oom_score_adj,
    select_processes,
)

TARGET_NAME = "oomkit-benchme"   # a copy of sleep: the processes the name selection must find
TARGETS = 20


def spawn(count, workdir):
    """Start ``count`` filler sleeps plus TARGETS sleeps named TARGET_NAME; return their Popens."""
    sleep = "/bin/sleep"
    target = os.path.join(workdir, TARGET_NAME)
    with open(sleep, "rb") as src, open(target, "wb") as dst:
        dst.write(src.read())
    os.chmod(target, 0o755)
    procs = []
    devnull = subprocess.DEVNULL
    for i in range(count):
        procs.append(subprocess.Popen([sleep, "3600.%d" % i], stdin=devnull, stdout=devnull, stderr=devnull,
                                      close_fds=True))
    for i in range(TARGETS):
        procs.append(subprocess.Popen([target, "3600.%d" % i], stdin=devnull, stdout=devnull, stderr=devnull,
                                      close_fds=True))
    return procs


def kill_all(procs):
    for proc in procs:
        try:
            proc.send_signal(signal.SIGKILL)
        except OSError:
            pass
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def reference(name):
    """os.listdir('/proc') + read each comm: the floor for any by-name lookup."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % entry, "rb") as handle:
                if handle.read().rstrip(b"\n").decode("utf-8", "replace") == name:
                    found.append(int(entry))
        except OSError:
            continue
    return found


def module_logic(fs, selector):
    procs = select_processes(fs, selector, exclude_pids=[os.getpid()])
    plan_oom_score_adj(fs, procs, 500)
    return procs


def timed(func, *args):
    start = time.perf_counter()
    result = func(*args)
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--quick", action="store_true", help="500 processes and 5 rounds")
    parser.add_argument("--processes", type=int, help="number of filler processes (default 5000)")
    parser.add_argument("--rounds", type=int, help="timed rounds per case (default 15)")
    args = parser.parse_args()
    count = args.processes or (500 if args.quick else 5000)
    rounds = args.rounds or (5 if args.quick else 15)

    soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    if soft != resource.RLIM_INFINITY and soft < count + 200:
        print("RLIMIT_NPROC is %d: lower --processes" % soft, file=sys.stderr)
        return 2

    import tempfile
    workdir = tempfile.mkdtemp(prefix="oomkit-bench-run-")
    fs = HostFS("/")
    procs = []
    try:
        start = time.perf_counter()
        procs = spawn(count, workdir)
        spawn_time = time.perf_counter() - start
        # let every child finish execve() before measuring
        time.sleep(min(2.0, 0.2 + count / 5000.0))
        total = len([e for e in os.listdir("/proc") if e.isdigit()])

        cases = [
            ("reference: listdir + every comm", lambda: reference(TARGET_NAME)),
            ("module: name", lambda: module_logic(fs, {"name": TARGET_NAME})),
            ("module: pattern", lambda: module_logic(fs, {"pattern": "/%s 3600" % TARGET_NAME})),
            ("module: name + include_children",
             lambda: module_logic(fs, {"name": TARGET_NAME, "include_children": True})),
        ]
        times = dict((label, []) for label, _func in cases)
        found = {}
        for _round in range(rounds):
            for label, func in cases:  # alternate so drift hits every case alike
                elapsed, result = timed(func)
                times[label].append(elapsed)
                found[label] = len(result)

        print("oom_score_adj selection benchmark: %d processes in /proc (%d spawned in %.1f s), %d rounds, "
              "load average %.1f on %d CPUs"
              % (total, len(procs), spawn_time, rounds, os.getloadavg()[0], os.cpu_count() or 0))
        ref = statistics.median(times[cases[0][0]])
        ref_min = min(times[cases[0][0]])
        header = ("case", "median ms", "min ms", "us/process", "ratio(med)", "ratio(min)", "found")
        print("%-36s %10s %10s %12s %12s %8s %6s" % header)
        for label, _func in cases:
            median = statistics.median(times[label])
            print("%-36s %10.2f %10.2f %12.2f %12.2f %8.2f %6d" % (
                label, median * 1000, min(times[label]) * 1000, median * 1e6 / total, median / ref,
                min(times[label]) / ref_min, found[label]))
        if found["module: name"] != TARGETS or found["reference: listdir + every comm"] != TARGETS:
            print("WARNING: expected %d matches" % TARGETS)
    finally:
        kill_all(procs)
        try:
            os.unlink(os.path.join(workdir, TARGET_NAME))
            os.rmdir(workdir)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
