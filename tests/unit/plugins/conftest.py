# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the module_utils and module tests."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest


@pytest.fixture
def sleeping_process():
    """A real ``sleep`` child with a unique argument; yields (process, argument). Killed afterwards."""
    marker = "4321.%d" % os.getpid()
    process = subprocess.Popen(["sleep", marker])
    # right after execve() the kernel shows an empty command line for a moment: wait for it
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with open("/proc/%d/cmdline" % process.pid, "rb") as handle:
            if handle.read().startswith(b"sleep\0"):
                break
        time.sleep(0.005)
    yield process, marker
    process.kill()
    process.wait()


class BlockedTooLong(Exception):
    """Raised by the deadline fixture: the code under test blocked (a FIFO read, say)."""


@pytest.fixture
def deadline():
    """A read that blocks (a FIFO) fails the test after 10 s instead of hanging the run."""
    def expired(_signum, _frame):
        raise BlockedTooLong("blocked for 10 s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
