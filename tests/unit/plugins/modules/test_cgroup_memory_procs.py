# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cgroup_memory refuses what must never be moved or limited (issue 13, row 16), on this
machine's real v1 memory controller and real processes: init, kthreadd, a kernel thread, a real
zombie, a size that rounds to 0 bytes. The one cgroup created is removed afterwards."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from ansible_collections.oomkit.linux.plugins.modules import cgroup_memory
from ansible_collections.oomkit.linux.tests.unit.plugins.modules.harness import run_main

MOUNT = "/sys/fs/cgroup/memory"
pytestmark = pytest.mark.skipif(not os.path.isfile(MOUNT + "/memory.limit_in_bytes") or os.geteuid() != 0,
                                reason="needs root and a v1 memory controller")


@pytest.fixture(autouse=True)
def capture_exit(module_exit):
    return module_exit


@pytest.fixture
def scratch():
    """A cgroup name below the real hierarchy, removed afterwards (with anything moved into it)."""
    name = "oomkit-unit-procs-%d" % os.getpid()
    yield name
    path = os.path.join(MOUNT, name)
    if os.path.isdir(path):
        with open(os.path.join(path, "cgroup.procs")) as handle:
            left = handle.read().split()
        for pid in left:
            with open(os.path.join(MOUNT, "cgroup.procs"), "w") as handle:
                handle.write(pid)
        os.rmdir(path)


@pytest.fixture
def zombie():
    """A real child that has exited and is not reaped yet."""
    child = subprocess.Popen(["true"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open("/proc/%d/stat" % child.pid) as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.01)
    yield child.pid
    child.wait()


def kernel_thread():
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) > 2:
            try:
                with open("/proc/%s/stat" % name) as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[6]) & 0x00200000:
                return int(name)
    pytest.skip("no kernel thread visible")


def run(args, check=False):
    return run_main(cgroup_memory.main, args, check_mode=check)


@pytest.mark.parametrize("pid, message", [
    (1, "PID 1 (init) cannot be moved"),
    (2, "PID 2 (kthreadd"),
    (0, "process IDs are 1..4194304"),
    (2 ** 40, "process IDs are 1..4194304"),
])
def test_init_and_kthreadd_are_refused(scratch, pid, message):
    outcome = run({"path": scratch, "max": "64M", "procs": [pid]}, check=True)
    assert outcome.failed and message in outcome.result["msg"]
    assert not os.path.exists(os.path.join(MOUNT, scratch))


def test_a_kernel_thread_is_refused(scratch):
    pid = kernel_thread()
    outcome = run({"path": scratch, "procs": [pid]}, check=True)
    assert outcome.failed and "kernel thread" in outcome.result["msg"]


def test_a_zombie_is_reported_and_not_moved_on_every_run(scratch, zombie):
    first = run({"path": scratch, "max": "64M", "procs": [zombie]})
    assert not first.failed, first.result
    assert first.result["procs"] == {"moved": [], "already": [], "exited": [zombie]}
    assert any("exited" in w and str(zombie) in w for w in first.warnings)
    again = run({"path": scratch, "max": "64M", "procs": [zombie]})
    assert again.result["changed"] is False
    assert again.result["procs"]["moved"] == []


@pytest.mark.parametrize("size", ["0.0000001K", "0.5", "0.0001M"])
def test_a_size_that_rounds_to_zero_bytes_is_refused(scratch, size):
    outcome = run({"path": scratch, "max": size}, check=True)
    assert outcome.failed and "max:" in outcome.result["msg"]
    assert "0-byte limit" in outcome.result["msg"] or "fraction of a byte" in outcome.result["msg"]


@pytest.mark.parametrize("size", ["0", 0, "0K"])
def test_zero_written_as_zero_is_accepted_in_check_mode(scratch, size):
    outcome = run({"path": scratch, "max": "64M", "swap_max": size}, check=True)
    assert not outcome.failed, outcome.result
