# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The oom_host_info module: arguments, the result, failures; one read-only run on this machine."""

from __future__ import annotations

import os
import subprocess

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostFS
from ansible_collections.oomkit.linux.plugins.modules import oom_host_info as module_under_test
from ansible_collections.oomkit.linux.tests.unit.plugins.modules.harness import run_main
from ansible_collections.oomkit.linux.tests.unit.fixtures.cgroups.trees import build_host
from ansible_collections.oomkit.linux.tests.unit.plugins.module_utils.test_processes import FakeProc


@pytest.fixture(autouse=True)
def exits(module_exit):
    return module_exit


def run(args, fs=None, check_mode=False):
    def entry():
        if fs is None:
            module_under_test.main()
        else:
            module = basic.AnsibleModule(argument_spec=module_under_test.argument_spec(), supports_check_mode=True)
            module_under_test.run_module(module, fs)
    return run_main(entry, args, check_mode=check_mode)


@pytest.fixture
def host(tmp_path):
    proc = FakeProc(tmp_path)
    fs = build_host(tmp_path, "v1")
    proc.add(300, "batch-worker", score=500)
    proc.add(301, "batch-worker", score=0)
    proc.write("/proc/sys/vm/panic_on_oom", "0\n")
    fs.add_cgroup("batch", **{"memory.usage_in_bytes": 2048, "memory.limit_in_bytes": 4096})
    return fs


def test_result_on_a_fixture_host(host):
    out = run({"processes": [{"name": "batch-worker"}, {"pids": [301, 999]}], "cgroups": ["/batch"],
               "sysctls": ["vm.swappiness"]}, fs=host)
    assert not out.failed
    result = out.result
    assert result["changed"] is False
    assert [p["oom_score_adj"] for p in result["processes"][0]["processes"]] == [500, 0]
    # defaults of the suboptions are not echoed as selectors
    assert result["processes"][0]["selector"] == {"name": "batch-worker"}
    assert result["processes"][1]["selector"] == {"pids": [301, 999]}
    assert [p["pid"] for p in result["processes"][1]["processes"]] == [301]
    assert result["cgroups"]["/batch"]["limit_kb"] == 4
    assert result["sysctls"]["vm.panic_on_oom"] == {"present": True, "value": "0"}
    assert result["sysctls"]["vm.swappiness"]["present"] is False
    assert "ansible_facts" not in result
    assert set(result) >= {"container", "container_runtimes", "runtime_processes", "runs_containers", "cap_sys_resource",
                           "proc_sys", "cgroup", "memcg_qos", "systemd", "units", "processes", "cgroups", "sysctls"}


def test_check_mode_gives_the_same_answer(host):
    args = {"processes": [{"name": "batch-worker"}], "cgroups": ["/batch"]}
    assert run(args, fs=host, check_mode=True).result == run(args, fs=host).result


def test_unknown_selector_key_is_refused_by_the_argument_spec(host):
    out = run({"processes": [{"name": "x", "colour": "red"}]}, fs=host)
    assert out.failed and "colour" in out.result["msg"]


def test_bad_regex_fails_with_the_entry_named(host):
    out = run({"processes": [{"name": "x"}, {"pattern": "(["}]}, fs=host)
    assert out.failed
    assert out.result["msg"].startswith("processes #2: pattern '([' is not a valid regular expression")


def test_bad_unit_fails(host):
    out = run({"units": ["backup.timer"]}, fs=host)
    assert out.failed and "takes no OOM or memory settings" in out.result["msg"]


def test_systemctl_missing_means_no_systemd(host, monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: None)
    result = run({"units": ["sshd"]}, fs=host).result
    assert result["systemd"] == {"running": False, "version": None, "systemctl": False}
    assert result["units"]["sshd.service"]["present"] is False


def test_read_only_run_on_this_machine():
    """main() against the real host: nothing written, and the answer matches what /proc says."""
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        before = open("/proc/%d/oom_score_adj" % sleeper.pid).read().strip()
        out = run({"processes": [{"pid": sleeper.pid}], "sysctls": ["kernel.osrelease"], "cgroups": ["/"],
                   "units": ["ssh.service"]})
        assert not out.failed, out.result
        result = out.result
        assert result["processes"][0]["processes"] == [
            {"pid": sleeper.pid, "ppid": os.getpid(), "comm": "sleep", "oom_score_adj": int(before)}]
        assert open("/proc/%d/oom_score_adj" % sleeper.pid).read().strip() == before
        assert result["sysctls"]["kernel.osrelease"]["value"] == os.uname().release
        status = open("/proc/self/status").read()
        capeff = int([line.split()[1] for line in status.splitlines() if line.startswith("CapEff:")][0], 16)
        assert result["cap_sys_resource"] is bool(capeff >> 24 & 1)
        mounted = open("/proc/self/mountinfo").read()
        if " - cgroup cgroup " in mounted and ",memory" in mounted:
            assert result["cgroup"]["memory_version"] == "v1"
            assert result["cgroups"]["/"]["exists"] and result["cgroups"]["/"]["usage"] > 0
        assert result["systemd"]["running"] is os.path.isdir("/run/systemd/system")
        # the module itself (and its parent) are never selected
        assert all(p["pid"] != os.getpid() for s in result["processes"] for p in s["processes"])
    finally:
        sleeper.kill()
        sleeper.wait()


def test_hostfs_root_is_slash_in_main(monkeypatch):
    seen = []
    monkeypatch.setattr(module_under_test, "run_module", lambda module, fs: seen.append(fs.root))
    with patch_module_args({}):
        module_under_test.main()
    assert seen == [HostFS("/").root]
