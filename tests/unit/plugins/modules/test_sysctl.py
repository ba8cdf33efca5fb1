# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module layer: argument handling and results. The logic is covered in module_utils tests;
these run the module in check mode against this machine's real /proc/sys (read only)."""

from __future__ import annotations

import pytest

from ansible_collections.oomkit.linux.plugins.modules import sysctl as sysctl_module
from ansible_collections.oomkit.linux.tests.unit.plugins.modules.harness import run_main


@pytest.fixture(autouse=True)
def exits(module_exit):
    return module_exit


def run_module(args):
    return run_main(sysctl_module.main, args)


def read_live(name):
    with open("/proc/sys/" + name.replace(".", "/")) as handle:
        return handle.read().strip()


def test_out_of_range_fails_with_the_allowed_range(tmp_path):
    outcome = run_module({"settings": {"vm.panic_on_oom": 7}, "sysctl_file": str(tmp_path / "x.conf")})
    assert outcome.failed
    assert "allowed: 0..2" in outcome.result["msg"]
    assert not (tmp_path / "x.conf").exists()


def test_absent_needs_keys():
    outcome = run_module({"state": "absent"})
    assert outcome.failed and "settings" in outcome.result["msg"]


def test_check_mode_against_the_real_kernel_changes_nothing(tmp_path):
    current = read_live("vm.oom_dump_tasks")
    wanted = "0" if current != "0" else "1"
    outcome = run_main(sysctl_module.main, {"settings": {"vm.oom_dump_tasks": wanted}, "sysctl_file": str(tmp_path / "x.conf")},
                       check_mode=True, diff=True)
    assert not outcome.failed and outcome.result["changed"]
    assert outcome.result["settings"]["vm.oom_dump_tasks"]["live_before"] == current
    assert outcome.result["settings"]["vm.oom_dump_tasks"]["live_after"] == wanted
    assert "vm.oom_dump_tasks = %s" % wanted in outcome.result["diff"][0]["after"]
    assert read_live("vm.oom_dump_tasks") == current
    assert not (tmp_path / "x.conf").exists()


def test_report_mode_reads_the_real_kernel():
    outcome = run_module({})
    assert not outcome.result["changed"]
    assert outcome.result["settings"]["vm.panic_on_oom"]["live_before"] == read_live("vm.panic_on_oom")
