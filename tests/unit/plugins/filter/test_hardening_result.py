# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hardening role's result shaping (the oomkit.linux.hardening_result filter), formerly Jinja in
roles/hardening/vars/main.yml. Module results come from a real oom_score_adj run in check mode on a
process of this machine, and from the modules' documented return values for the others."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.oomkit.linux.plugins.filter.hardening_result import FilterModule, hardening_result
from ansible_collections.oomkit.linux.plugins.modules import oom_score_adj
from ansible_collections.oomkit.linux.tests.unit.plugins.modules.harness import patch_exits, run_main

PLAN = {"failed": False, "host": {"container": None, "systemd": {"running": True}},
        "skipped": [{"item": "live oom_score_adj -900 of ssh.service", "reason": "no CAP_SYS_RESOURCE here"}],
        "processes_ok": [{"name": "none", "value": 600, "role": "expendable", "pids": [], "reason": "no process matches"}],
        "units": [{"name": "ssh.service", "live": False, "oom_score_adjust": -900}, {"name": "batch.service", "live": True}]}
SYSCTL = {"changed": True, "settings": {
    "vm.oom_dump_tasks": {"status": "changed", "live_before": "0", "live_after": "1", "persisted_before": None,
                          "persisted_after": "1", "boot": "1"},
    "vm.panic_on_oom": {"status": "unchanged", "live_before": "0", "live_after": "0"}}}
# the role's one systemd_oom run over every unit (its units form)
UNITS = {"changed": True, "daemon_reloaded": True, "units": [
    {"changed": True, "unit": "ssh.service", "dropin": "/etc/systemd/system/ssh.service.d/50-oomkit-oom.conf",
     "settings": {"oom_score_adjust": {"directive": "OOMScoreAdjust", "before": None, "after": "-900"},
                  "memory_max": {"directive": "MemoryMax", "before": "1G", "after": "1G"}},
     "live": [{"pid": 612, "comm": "sshd", "before": 0, "after": 0, "status": "refused"}],
     "skipped": [{"option": "memory_zswap_writeback", "directive": "MemoryZSwapWriteback",
                  "reason": "MemoryZSwapWriteback= needs systemd 256 or later"}],
     "restart_required": True, "restarted": False},
    {"changed": False, "unit": "batch.service", "settings": {}, "live": [], "skipped": [], "restart_required": True,
     "restarted": False},
]}
CGROUPS = {"changed": True, "results": [
    {"changed": True, "resolved_path": "/sys/fs/cgroup/memory/oomkit/batch", "created": ["/sys/fs/cgroup/memory/oomkit"],
     "settings": {"max": {"changed": True, "before": None, "after": 67108864}, "swappiness": {"changed": False}},
     "skipped": {"qos_level": "this kernel has no memory.qos_level"}, "procs": {"moved": []},
     "item": {"path": "oomkit/batch", "max": "64M"}}]}


def real_expendable_run(sleeping_process):
    """oom_score_adj in check mode on a real process, registered as the role's loop registers it."""
    process, _marker = sleeping_process
    outcome = run_main(oom_score_adj.main, {"pid": process.pid, "value": 600}, check_mode=True)
    assert not outcome.failed
    item = {"pid": process.pid, "value": 600, "role": "expendable"}
    return {"changed": True, "results": [dict(outcome.result, item=item)]}


def test_the_whole_result(sleeping_process, monkeypatch):
    patch_exits(monkeypatch)
    processes = real_expendable_run(sleeping_process)
    result = hardening_result(PLAN, sysctl=SYSCTL, units=UNITS, processes=processes, cgroups=CGROUPS, check_mode=True)
    assert result["changed"] is True and result["check_mode"] is True
    assert result["changes"]["sysctl"] == {"vm.oom_dump_tasks": {"live_before": "0", "live_after": "1",
                                                                 "persisted_before": None, "persisted_after": "1"}}
    assert result["changes"]["units"] == {"ssh.service": {
        "dropin": "/etc/systemd/system/ssh.service.d/50-oomkit-oom.conf",
        "settings": {"OOMScoreAdjust": {"before": None, "after": "-900"}}, "live": [], "restarted": False}}
    (proc,) = result["changes"]["processes"]
    assert (proc["pid"], proc["before"], proc["after"], proc["role"]) == (sleeping_process[0].pid, 0, 600, "expendable")
    assert result["changes"]["cgroups"] == {"/sys/fs/cgroup/memory/oomkit/batch": {
        "created": ["/sys/fs/cgroup/memory/oomkit"], "removed": False,
        "settings": {"max": {"changed": True, "before": None, "after": 67108864}}, "moved": []}}
    # the ssh.service restart would not help (no live write there: no capability); batch.service needs one
    assert result["restart_required"] == ["batch.service"]
    assert [s["item"] for s in result["skipped"]] == [
        "live oom_score_adj -900 of ssh.service", "ssh.service MemoryZSwapWriteback=",
        "live oom_score_adj of ssh.service pid 612", "cgroup oomkit/batch qos_level"]
    assert result["already_ok"] == PLAN["processes_ok"] and result["host"] == PLAN["host"]
    assert result["module_calls"] == 1 + 1 + 1 + 1 + 1   # host read, sysctls, all units, processes, cgroups
    assert hardening_result(result, stats=True) == {"changed": True, "restart_required": ["batch.service"],
                                                    "skipped": 4, "module_calls": 5}


def test_tasks_that_did_not_run():
    skipped_task = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}
    empty_loop = {"changed": False, "skipped": True, "results": [], "msg": "No items in the list"}
    result = hardening_result(PLAN, sysctl=skipped_task, units=skipped_task, processes=empty_loop, cgroups=None)
    assert result["changed"] is False and result["module_calls"] == 1
    assert result["changes"] == {"sysctl": {}, "units": {}, "processes": [], "cgroups": {}}
    assert result["restart_required"] == [] and result["skipped"] == PLAN["skipped"]


def test_a_sysctl_run_that_changed_only_the_file_counts():
    result = hardening_result(PLAN, sysctl={"changed": True, "settings": {}})
    assert result["changed"] is True and result["module_calls"] == 2


def test_bad_input_and_registration():
    with pytest.raises(AnsibleFilterError, match="as a mapping"):
        hardening_result(["not", "a", "plan"])
    with pytest.raises(AnsibleFilterError, match="needs a hardening_result"):
        hardening_result({}, stats=True)
    assert FilterModule().filters()["hardening_result"] is hardening_result
