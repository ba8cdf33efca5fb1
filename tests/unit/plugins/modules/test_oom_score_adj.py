# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The oom_score_adj module: arguments, results, check mode, diff, warnings and failures.

Most cases run the module on fixture /proc trees (negative values, floors, legacy kernels, units);
the last ones run main() against real child processes of this machine.
"""

from __future__ import annotations

import errno

import pytest

from ansible.module_utils import basic

from ansible_collections.oomkit.linux.plugins.module_utils import processes as P
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostFS
from ansible_collections.oomkit.linux.plugins.modules import oom_score_adj as module_under_test
from ansible_collections.oomkit.linux.tests.unit.plugins.modules.harness import run_main
from ansible_collections.oomkit.linux.tests.unit.plugins.module_utils.test_processes import (
    CAPS_ALL,
    FakeProc,
    FloorKernel,
)


@pytest.fixture
def warnings(module_exit):
    return module_exit


@pytest.fixture
def proc(tmp_path):
    return FakeProc(tmp_path)


def run(args, root=None, check_mode=False, diff=False):
    def entry():
        if root is None:
            module_under_test.main()
        else:
            module_under_test.run_module(module_under_test.build_module(), HostFS(str(root)))
    return run_main(entry, args, check_mode=check_mode, diff=diff)


def statuses(outcome):
    return [(p["pid"], p["before"], p["after"], p["status"]) for p in outcome.result["processes"]]


def test_by_name_changes_then_rerun_is_unchanged(proc, tmp_path, warnings):
    proc.add(10, "sleep", ["sleep", "3600"], score=0)
    proc.add(11, "sleep", ["sleep", "60"], score=500)
    proc.add(12, "bash", score=0)
    first = run({"name": "sleep", "value": 500}, tmp_path, diff=True)
    assert not first.failed and first.result["changed"] is True
    assert statuses(first) == [(10, 0, 500, "changed"), (11, 500, 500, "unchanged")]
    entry = first.result["processes"][0]
    assert entry["comm"] == "sleep" and entry["cmdline"] == "sleep 3600" and entry["interface"] == "oom_score_adj"
    assert entry["oom_score"] == 666
    assert first.result["diff"] == {"before_header": "oom_score_adj", "after_header": "oom_score_adj",
                                    "before": "pid 10 (sleep): 0\n", "after": "pid 10 (sleep): 500\n"}
    assert proc.value(10) == 500 and proc.value(12) == 0
    second = run({"name": "sleep", "value": 500}, tmp_path, diff=True)
    assert second.result["changed"] is False and "diff" not in second.result
    assert [s[3] for s in statuses(second)] == ["unchanged", "unchanged"]
    assert warnings == []


def test_check_mode_predicts_and_writes_nothing(proc, tmp_path, warnings):
    proc.add(20, "worker", score=100)
    outcome = run({"pid": 20, "value": 900}, tmp_path, check_mode=True, diff=True)
    assert outcome.result["changed"] is True
    assert statuses(outcome) == [(20, 100, 900, "changed")]
    assert outcome.result["diff"]["after"] == "pid 20 (worker): 900\n"
    assert proc.value(20) == 100
    real = run({"pid": 20, "value": 900}, tmp_path)
    assert statuses(real) == statuses(outcome)
    assert proc.value(20) == 900


def test_check_mode_warns_when_lowering_without_cap_sys_resource(proc, tmp_path, warnings):
    proc.add(21, "worker", score=100)
    outcome = run({"pid": 21, "value": -500}, tmp_path, check_mode=True)
    assert outcome.result["changed"] is True
    assert any("CAP_SYS_RESOURCE" in w for w in warnings)
    assert proc.value(21) == 100


def test_negative_values_with_cap_sys_resource(tmp_path, warnings):
    proc = FakeProc(tmp_path, caps=CAPS_ALL)
    proc.add(30, "sshd", score=0)
    proc.add(31, "sshd", ["sshd: root@pts/0"], ppid=30, score=0)
    outcome = run({"name": "sshd", "value": -1000}, tmp_path, check_mode=True)
    assert warnings == []
    outcome = run({"name": "sshd", "value": -1000}, tmp_path)
    assert statuses(outcome) == [(30, 0, -1000, "changed"), (31, 0, -1000, "changed")]
    assert proc.value(30) == -1000 and proc.value(31) == -1000


def test_refused_lowering_fails_clearly_and_changes_nothing(proc, tmp_path, warnings, monkeypatch):
    proc.add(40, "app", score=500)    # floor -500 (a privileged writer set it): may go to -200
    proc.add(41, "app", score=100)    # floor 0: refused
    proc.add(42, "app", score=-900)   # raised to -200: allowed, planned last
    FloorKernel(monkeypatch, {40: -500, 41: 0, 42: -1000})
    outcome = run({"name": "app", "value": -200}, tmp_path)
    assert outcome.failed
    msg = outcome.result["msg"]
    assert "pid 41 (app)" in msg and "CAP_SYS_RESOURCE" in msg and "containers" in msg
    assert "rolled back" in msg and "no process was left changed" in msg
    assert outcome.result["changed"] is False
    assert statuses(outcome) == [(40, 500, 500, "rolled_back"), (41, 100, 100, "failed"), (42, -900, -900, "not_applied")]
    assert [proc.value(p) for p in (40, 41, 42)] == [500, 100, -900]


def test_rollback_that_fails_is_reported_as_still_changed(proc, tmp_path, warnings, monkeypatch):
    proc.add(45, "app", score=500)
    proc.add(46, "app", score=100)
    kernel = FloorKernel(monkeypatch, {45: -500, 46: 0})
    floor_write = P._ProcessHandle.write

    def write(handle, name, value):
        # the rollback of pid 45 (back to 500) fails with EINVAL
        if handle.pid == 45 and value == 500:
            raise OSError(errno.EINVAL, "Invalid argument")
        return floor_write(handle, name, value)

    monkeypatch.setattr(P._ProcessHandle, "write", write)
    outcome = run({"name": "app", "value": -200}, tmp_path)
    assert outcome.failed and outcome.result["changed"] is True
    assert "COULD NOT roll back" in outcome.result["msg"]
    assert "keep the new value: 45" in outcome.result["msg"]
    assert statuses(outcome)[0] == (45, 500, -200, "changed")
    assert proc.value(45) == -200 and proc.value(46) == 100
    assert kernel.writes == [(45, -200)]


def test_nothing_matches_fails_by_default_and_ok_when_asked(proc, tmp_path, warnings):
    proc.add(50, "bash")
    outcome = run({"name": "nginx", "value": 100}, tmp_path)
    assert outcome.failed and "no running process matched name=nginx" in outcome.result["msg"]
    assert "missing=ok" in outcome.result["msg"]
    outcome = run({"name": "nginx", "value": 100, "missing": "ok"}, tmp_path)
    assert not outcome.failed and outcome.result["changed"] is False and outcome.result["processes"] == []


def test_missing_pidfile_says_so(proc, tmp_path, warnings):
    outcome = run({"pidfile": "/run/nope.pid", "value": 100}, tmp_path)
    assert outcome.failed and "pidfile /run/nope.pid does not exist" in outcome.result["msg"]
    proc.write("/run/garbage.pid", "not a pid\n")
    outcome = run({"pidfile": "/run/garbage.pid", "value": 100, "missing": "ok"}, tmp_path)
    assert outcome.failed and "does not start with a process ID" in outcome.result["msg"]


def test_missing_cgroup_says_so(proc, tmp_path, warnings):
    proc.add(52, "x")
    outcome = run({"cgroup": "/sys/fs/cgroup/memory/nope", "value": 100}, tmp_path)
    assert outcome.failed and "cgroup /sys/fs/cgroup/memory/nope does not exist" in outcome.result["msg"]


def test_pidfile_selects_its_process(proc, tmp_path, warnings):
    proc.add(55, "daemon")
    proc.write("/run/daemon.pid", "55\n")
    outcome = run({"pidfile": "/run/daemon.pid", "value": 250}, tmp_path)
    assert statuses(outcome) == [(55, 0, 250, "changed")]


@pytest.mark.parametrize("args, message", [
    ({"value": 5}, "one of the following is required"),
    ({"value": 5, "pid": 1, "pids": [1]}, "mutually exclusive"),
    ({"value": 1001, "name": "x"}, "-1000..1000"),
    ({"value": -1001, "name": "x"}, "-1000..1000"),
    ({"value": 5, "pattern": "(("}, "not a valid regular expression"),
    ({"value": 5, "user": "no-such-user-oomkit"}, "does not exist"),
    ({"value": 5, "name": "x", "missing": "maybe"}, "missing"),
    ({"value": 5, "cgroup": "batch"}, "absolute path"),
])
def test_bad_input_fails_and_changes_nothing(proc, tmp_path, warnings, args, message):
    proc.add(60, "x", score=0)
    outcome = run(args, tmp_path)
    assert outcome.failed and message in outcome.result["msg"]
    assert proc.value(60) == 0


def test_selectors_and_together(proc, tmp_path, warnings):
    proc.add(65, "worker", uid=1000, cgroup="12:memory:/batch\n0::/\n")
    proc.add(66, "worker", uid=1000, cgroup="12:memory:/\n0::/\n")
    proc.add(67, "worker", uid=0, cgroup="12:memory:/batch/x\n0::/\n")
    outcome = run({"name": "worker", "user": "1000", "cgroup": "/sys/fs/cgroup/memory/batch", "value": 10}, tmp_path)
    assert [p["pid"] for p in outcome.result["processes"]] == [65]
    outcome = run({"pids": [65, 66, 67], "cgroup": "/batch", "pattern": "^worker$", "value": 10}, tmp_path)
    assert [p["pid"] for p in outcome.result["processes"]] == [65, 67]


def test_include_children(proc, tmp_path, warnings):
    proc.add(70, "supervisord")
    proc.add(71, "php-fpm", ppid=70)
    proc.add(72, "php-fpm", ppid=71)
    proc.add(73, "php-fpm", ppid=1)
    outcome = run({"name": "supervisord", "include_children": True, "value": 300}, tmp_path)
    assert [p["pid"] for p in outcome.result["processes"]] == [70, 71, 72]
    assert proc.value(73) == 0


def test_unit_warns_that_the_value_is_not_persisted(proc, tmp_path, warnings, monkeypatch):
    proc.add(80, "fluent-bit")
    proc.write("/sys/fs/cgroup/unified/system.slice/fluent-bit.service/cgroup.procs", "80\n")
    calls = []

    def run_command(self, argv, **kwargs):
        calls.append((argv, kwargs.get("environ_update")))
        return 0, "ControlGroup=/system.slice/fluent-bit.service\n", ""

    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name)
    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    outcome = run({"unit": "fluent-bit.service", "value": 300}, tmp_path)
    assert statuses(outcome) == [(80, 0, 300, "changed")]
    assert calls[0][0] == ["/usr/bin/systemctl", "show", "-p", "ControlGroup", "--", "fluent-bit.service"]
    assert calls[0][1]["LC_ALL"] == "C"
    assert len(warnings) == 1
    assert "lost when the service restarts" in warnings[0] and "oomkit.linux.systemd_oom" in warnings[0]


def test_unit_without_systemctl_is_a_clear_error(proc, tmp_path, warnings, monkeypatch):
    proc.add(81, "x")
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: None)
    outcome = run({"unit": "x.service", "value": 300}, tmp_path)
    assert outcome.failed and "systemctl is not available" in outcome.result["msg"]
    assert proc.value(81) == 0


def test_legacy_kernel_warns_the_mapping_is_lossy(proc, tmp_path, warnings):
    proc.add(90, "old", score=0, legacy=True)
    outcome = run({"name": "old", "value": 500}, tmp_path)
    assert statuses(outcome) == [(90, 0, 470, "changed")]
    assert outcome.result["processes"][0]["interface"] == "oom_adj"
    assert proc.value(90, "oom_adj") == 8
    assert len(warnings) == 1 and "lossy" in warnings[0]
    again = run({"name": "old", "value": 500}, tmp_path)
    assert again.result["changed"] is False


def test_only_vanished_processes_is_not_a_change(proc, tmp_path, warnings, monkeypatch):
    proc.add(95, "sleep")
    real_plan = P.plan_oom_score_adj

    def plan_after_exit(fs, processes, value):
        proc.remove(95)  # exits between the scan and the plan
        return real_plan(fs, processes, value)

    monkeypatch.setattr(module_under_test, "plan_oom_score_adj", plan_after_exit)
    outcome = run({"name": "sleep", "value": 500}, tmp_path)
    assert not outcome.failed and outcome.result["changed"] is False
    assert statuses(outcome) == [(95, None, None, "vanished")]
    assert outcome.result["processes"][0]["oom_score"] is None


# ---- real processes on this machine ---------------------------------------------------------------

@pytest.fixture
def sleeper(sleeping_process):
    process, marker = sleeping_process
    return process, "^sleep %s$" % marker.replace(".", r"\.")


def live_value(pid):
    with open("/proc/%d/oom_score_adj" % pid) as handle:
        return int(handle.read())


def test_real_main_raises_and_refuses_lowering(sleeper, warnings):
    process, pattern = sleeper
    outcome = run({"pattern": pattern, "value": 500})
    assert outcome.result["changed"] is True
    assert statuses(outcome) == [(process.pid, 0, 500, "changed")]
    assert outcome.result["processes"][0]["oom_score"] > 0
    assert live_value(process.pid) == 500
    assert run({"pattern": pattern, "value": 500}).result["changed"] is False
    if P.has_cap_sys_resource(HostFS("/")):
        pytest.skip("this runner has CAP_SYS_RESOURCE: the kernel would accept -1000")
    outcome = run({"pid": process.pid, "value": -1000})
    assert outcome.failed and "CAP_SYS_RESOURCE" in outcome.result["msg"]
    assert statuses(outcome) == [(process.pid, 500, 500, "failed")]
    assert live_value(process.pid) == 500
