# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module layer: arguments, results, check mode and diff, on fixture hosts (v1, v2) and, in
check mode only, on this machine's real memory controller."""

from __future__ import annotations

import os

import pytest


from ansible_collections.oomkit.linux.plugins.modules import cgroup_memory
from ansible_collections.oomkit.linux.tests.unit.fixtures.cgroups.trees import build_host
from ansible_collections.oomkit.linux.tests.unit.plugins.modules.harness import run_main

M = 1024 * 1024


@pytest.fixture(autouse=True)
def capture_exit(module_exit):
    return module_exit


def run_module(monkeypatch, fs, args, check=False, diff=False):
    if fs is not None:
        monkeypatch.setattr(cgroup_memory, "HostFS", lambda root="/": fs)
        monkeypatch.setattr(cgroup_memory, "page_size", lambda: 4096)
    return run_main(cgroup_memory.main, args, check_mode=check, diff=diff)


def snapshot(root):
    """Every file and its content below a fixture root: to prove a run changed nothing."""
    result = {}
    for top, dirs, files in os.walk(str(root)):
        for name in dirs:
            result[os.path.join(top, name)] = None
        for name in files:
            with open(os.path.join(top, name)) as handle:
                result[os.path.join(top, name)] = handle.read()
    return result


def test_create_limit_rerun_and_remove_v1(tmp_path, monkeypatch):
    fs = build_host(tmp_path, "hybrid")
    first = run_module(monkeypatch, fs, {"path": "oomkit-probe", "max": "64M"})
    assert not first.failed
    result = first.result
    assert result["changed"] is True
    assert result["version"] == "hybrid"
    assert result["hierarchy"] == {"version": "v1", "mount_point": "/sys/fs/cgroup/memory", "root": "/"}
    assert result["path"] == "oomkit-probe" and result["cgroup"] == "/oomkit-probe"
    assert result["resolved_path"] == "/sys/fs/cgroup/memory/oomkit-probe"
    assert result["created"] == ["/sys/fs/cgroup/memory/oomkit-probe"]
    assert result["settings"] == {"max": {"file": "memory.limit_in_bytes", "before": None, "after": 67108864, "changed": True}}
    assert result["usage"] == 0 and result["oom_kills"] == 0 and result["oom_control"]["oom_kill"] == 0
    assert result["events"] is None
    assert fs.read("/sys/fs/cgroup/memory/oomkit-probe/memory.limit_in_bytes").strip() == "67108864"

    second = run_module(monkeypatch, fs, {"path": "oomkit-probe", "max": 67108864})
    assert second.result["changed"] is False
    assert second.result["settings"]["max"] == {"file": "memory.limit_in_bytes", "before": 67108864, "after": 67108864,
                                                "changed": False}

    gone = run_module(monkeypatch, fs, {"path": "oomkit-probe", "state": "absent"})
    assert gone.result["changed"] is True and gone.result["removed"] is True and gone.result["exists"] is False
    assert "settings" not in gone.result
    assert not fs.exists("/sys/fs/cgroup/memory/oomkit-probe")
    assert run_module(monkeypatch, fs, {"path": "oomkit-probe", "state": "absent"}).result["changed"] is False


def test_check_mode_predicts_exactly_and_changes_nothing(tmp_path, monkeypatch):
    fs = build_host(tmp_path, "v1")
    args = {"path": "a/b", "max": "64M", "swap_max": 0, "swappiness": 10}
    before = snapshot(tmp_path)
    predicted = run_module(monkeypatch, fs, args, check=True, diff=True).result
    assert snapshot(tmp_path) == before
    real = run_module(monkeypatch, fs, args, diff=True).result
    for key in ("changed", "created", "settings", "diff", "procs", "subtree_control"):
        assert predicted[key] == real[key], key
    assert predicted["usage"] is None and real["usage"] == 0


def test_diff_shows_each_change(tmp_path, monkeypatch):
    fs = build_host(tmp_path, "v1")
    run_module(monkeypatch, fs, {"path": "job", "max": "64M"})
    result = run_module(monkeypatch, fs, {"path": "job", "max": "128M", "swap_max": 0}, diff=True).result
    (diff,) = result["diff"]
    assert diff["before_header"] == "/sys/fs/cgroup/memory/job"
    assert diff["before"] == "memsw (max + swap_max): max\nmax: 64M (67108864)\n"
    assert diff["after"] == "memsw (max + swap_max): 128M (134217728)\nmax: 128M (134217728)\n"
    unchanged = run_module(monkeypatch, fs, {"path": "job", "max": "128M", "swap_max": 0}, diff=True).result
    assert unchanged["diff"] == []


@pytest.mark.parametrize("args, fragment", [
    ({"path": "../../etc", "max": "64M"}, "contains '..'"),
    ({"path": "/etc", "max": "64M"}, "absolute and outside the memory hierarchy"),
    ({"path": "job", "max": "64MB"}, "ambiguous unit"),
    ({"path": "job", "max": "lots"}, "cannot read 'lots'"),
    ({"path": "job", "swap_max": -5}, "negative size"),
    ({"path": "job", "swappiness": 500}, "500 is out of range (allowed: 0..200)"),
    ({"path": "job", "oom_group": True}, "exists only on cgroup v2"),
    ({"path": "job", "state": "absent", "max": "64M"}, "state=absent removes the cgroup; max make no sense"),
    ({"path": "job", "procs": [99999]}, "no such process: 99999"),
])
def test_bad_input_fails_and_changes_nothing(tmp_path, monkeypatch, args, fragment):
    fs = build_host(tmp_path, "v1")
    before = snapshot(tmp_path)
    outcome = run_module(monkeypatch, fs, args)
    assert outcome.failed
    assert fragment in outcome.result["msg"]
    assert snapshot(tmp_path) == before


def test_unsupported_skip_warns_and_reports(tmp_path, monkeypatch):
    fs = build_host(tmp_path, "v1")
    outcome = run_module(monkeypatch, fs, {"path": "job", "max": "64M", "oom_group": True, "unsupported": "skip"})
    assert not outcome.failed
    assert list(outcome.result["skipped"]) == ["oom_group"]
    assert any(w.startswith("skipped oom_group") for w in outcome.warnings)


def test_v2_flow_with_force_and_procs(tmp_path, monkeypatch):
    fs = build_host(tmp_path, "v2")
    fs.add_process(4321, "/")
    result = run_module(monkeypatch, fs, {"path": "oomkit/batch", "max": "1G", "high": "768M", "oom_group": True,
                                          "procs": [4321]}).result
    assert result["version"] == "v2"
    assert result["subtree_control"] == ["/sys/fs/cgroup", "/sys/fs/cgroup/oomkit"]
    assert result["procs"] == {"moved": [4321], "already": [], "exited": []}
    assert result["events"]["oom_kill"] == 0 and result["oom_control"] is None
    assert fs.read("/sys/fs/cgroup/oomkit/batch/cgroup.procs").split() == ["4321"]

    fs.set_file("/sys/fs/cgroup/oomkit/batch/memory.current", str(900 * M))
    refused = run_module(monkeypatch, fs, {"path": "oomkit/batch", "max": "512M"})
    assert refused.failed and "force=true" in refused.result["msg"]
    assert fs.read("/sys/fs/cgroup/oomkit/batch/memory.max").strip() == str(1024 * M)
    forced = run_module(monkeypatch, fs, {"path": "oomkit/batch", "max": "512M", "force": True})
    assert forced.result["changed"] and any("OOM-kill" in w for w in forced.warnings)

    again = run_module(monkeypatch, fs, {"path": "oomkit/batch", "procs": [4321]}).result
    assert again["changed"] is False and again["procs"] == {"moved": [], "already": [4321], "exited": []}

    held = run_module(monkeypatch, fs, {"path": "oomkit/batch", "state": "absent"})
    assert held.failed and "1 process(es) (pids 4321)" in held.result["msg"]


def test_systemd_managed_path_points_to_systemd_oom(tmp_path, monkeypatch):
    fs = build_host(tmp_path, "v2", systemd=True)
    outcome = run_module(monkeypatch, fs, {"path": "system.slice/sshd.service", "max": "1G"})
    assert outcome.failed and "oomkit.linux.systemd_oom" in outcome.result["msg"]


def test_write_failure_reports_rollback(tmp_path, monkeypatch):
    import errno
    fs = build_host(tmp_path, "v1")
    fs.fail("/sys/fs/cgroup/memory/new/memory.swappiness", errno.EINVAL)
    outcome = run_module(monkeypatch, fs, {"path": "new", "max": "64M", "swappiness": 10})
    assert outcome.failed
    assert "rolled back the changes already made to: cgroup /sys/fs/cgroup/memory/new" in outcome.result["msg"]
    assert not fs.exists("/sys/fs/cgroup/memory/new")


@pytest.mark.skipif(not os.path.isfile("/sys/fs/cgroup/memory/memory.limit_in_bytes"), reason="needs a v1 memory controller")
def test_check_mode_on_this_hosts_real_controller(monkeypatch):
    path = "oomkit-unit-check-%d" % os.getpid()
    outcome = run_module(monkeypatch, None, {"path": path, "max": "64M", "swap_max": 0}, check=True)
    assert not outcome.failed
    assert outcome.result["changed"] is True
    assert outcome.result["hierarchy"]["version"] == "v1"
    assert outcome.result["settings"]["max"]["after"] == 64 * M
    assert not os.path.exists(os.path.join(outcome.result["hierarchy"]["mount_point"], path))
