#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test allocator: write our pid, wait for a trigger file, then touch MIB mebibytes.

Used to provoke a real memory-cgroup OOM kill: the test moves this process into a limited cgroup
before creating the trigger. Exits 0 only if it survived the allocation (the test expects a kill).
"""
from __future__ import annotations

import os
import sys
import time


def main():
    pidfile, trigger, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(pidfile + ".tmp", "w") as handle:
        handle.write(str(os.getpid()))
    os.rename(pidfile + ".tmp", pidfile)
    deadline = time.time() + 120
    while not os.path.exists(trigger):
        if time.time() > deadline:
            return 3
        time.sleep(0.05)
    blocks = []
    for dummy in range(mib):
        blocks.append(b"\x01" * (1024 * 1024))
    time.sleep(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
