#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test allocator: alloc.py PIDFILE TRIGGER MIB [HOLD_SECONDS]

Writes its pid, waits for the trigger file, then touches MIB mebibytes (charged to the cgroup it
is in by then: v1 does not move charges with a process), writes TRIGGER.done and holds the memory
for HOLD_SECONDS (default 5). The test moves it into a limited cgroup before the trigger, to
provoke a real OOM kill, or to hold memory that a lower limit cannot reclaim (EBUSY).
"""
from __future__ import annotations

import os
import sys
import time


def main():
    pidfile, trigger, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
    hold = float(sys.argv[4]) if len(sys.argv) > 4 else 5.0
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
    with open(trigger + ".done", "w") as handle:
        handle.write("%d\n" % len(blocks))
    time.sleep(hold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
