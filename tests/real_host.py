# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the tests that drive real tools on this machine share: where ansible-runner and the
collection are, and how a test's memory cgroup goes away (the kernel keeps a cgroup busy for a
moment after its last task was OOM-killed)."""

from __future__ import annotations

import os
import shutil
import sys
import time

import pytest


def ansible_runner_path():
    """The ansible-runner of this virtualenv (what AWX runs a job with)."""
    path = shutil.which('ansible-runner') or os.path.join(os.path.dirname(sys.executable), 'ansible-runner')
    if not os.path.exists(path):
        pytest.fail('ansible-runner is not installed (requirements-dev.txt)')
    return path


def collections_path():
    """The directory that holds ansible_collections/oomkit/linux (from PYTHONPATH)."""
    for entry in (os.environ.get('PYTHONPATH') or '').split(os.pathsep) + sys.path:
        if entry and os.path.isdir(os.path.join(entry, 'ansible_collections', 'oomkit', 'linux')):
            return os.path.abspath(entry)
    pytest.fail('the collection is not importable as ansible_collections.oomkit.linux (PYTHONPATH)')
    return None


def remove_cgroup(path, seconds=5.0):
    """rmdir a test's cgroup, retrying while the kernel still counts a task in it."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)
