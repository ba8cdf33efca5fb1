# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
""""Lowering needs CAP_SYS_RESOURCE": one rule (processes.refused_without_capability), checked
against this kernel, and used alike by oom_score_adj, systemd_oom and the hardening plan."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils import processes as P
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostFS
from ansible_collections.oomkit.linux.plugins.module_utils import systemd as sd
from ansible_collections.oomkit.linux.plugins.modules import oom_score_adj
from ansible_collections.oomkit.linux.plugins.plugin_utils import hardening_plan as H


@pytest.mark.parametrize("before, after, cap, refused", [
    (0, 500, False, False),       # raising is never refused
    (500, 300, False, False),     # back down toward the floor 0: allowed (the old "any lowering" rule said no)
    (500, 0, False, False),
    (500, -1, False, True),       # below the floor 0
    (0, -900, False, True),
    (-900, -950, False, True),    # below a floor a privileged writer set
    (-900, -500, False, False),
    (0, -900, True, False),       # with the capability nothing is refused
    (0, -900, None, False),       # cannot be told: nothing predicted
    (None, -1, False, True),      # not read yet: floor 0
    (None, 5, False, False),
])
def test_the_rule(before, after, cap, refused):
    assert P.refused_without_capability(before, after, cap) is refused


def _write(pid, value):
    """Write as a process without CAP_SYS_RESOURCE (setpriv drops it even for root); True when the kernel took it."""
    argv = ["sh", "-c", "echo %d > /proc/%d/oom_score_adj" % (value, pid)]
    if shutil.which("setpriv"):
        argv = ["setpriv", "--bounding-set=-sys_resource", "--inh-caps=-sys_resource"] + argv
    elif P.has_cap_sys_resource(HostFS("/")) is not False:
        pytest.skip("needs setpriv, or a run without CAP_SYS_RESOURCE")
    return subprocess.run(argv, stderr=subprocess.DEVNULL, check=False).returncode == 0


def test_the_rule_is_what_this_kernel_does(sleeping_process):
    """A real process whose floor is 0 (nobody privileged lowered it): the kernel agrees with the rule."""
    process, _marker = sleeping_process
    with open("/proc/%d/oom_score_adj" % process.pid) as handle:
        current = int(handle.read())
    if current != 0:
        pytest.skip("this test runs with oom_score_adj %d, not 0" % current)
    for value in (500, 300, 0, 700, -1, -900):
        predicted = P.refused_without_capability(current, value, False)
        took = _write(process.pid, value)
        assert took is (not predicted), (current, value)
        if took:
            current = value


def test_the_callers_use_the_rule():
    assert oom_score_adj.refused_without_capability is P.refused_without_capability
    assert sd.refused_without_capability is P.refused_without_capability
    assert H.refused_without_capability is P.refused_without_capability
