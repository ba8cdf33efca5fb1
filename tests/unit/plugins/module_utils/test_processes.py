# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for module_utils/processes.py.

Fixture /proc trees cover what this machine cannot show (negative values and floors with
CAP_SYS_RESOURCE, legacy oom_adj-only kernels, cgroup v2, systemd units); the last tests use real
child processes and the real kernel of this machine (EACCES below the floor, PID handles).
"""

from __future__ import annotations

import errno
import os
import subprocess
import time

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils import processes as P
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError, HostFS
from ansible_collections.oomkit.linux.plugins.module_utils.reconcile import ApplyError, Transaction

try:
    from hypothesis import given, strategies as st
except ImportError:  # pragma: no cover - hypothesis is in tests/unit/requirements.txt
    given = None

CAPS_NONE = "0000000000000000"
CAPS_ALL = "000001ffffffffff"


def stat_line(pid, comm, state="S", ppid=1, flags=0x400100, starttime=1000):
    # fields 1..22; fields we do not parse are zeros
    fields = [str(pid), "(%s)" % comm, state, str(ppid)] + ["0"] * 4 + [str(flags)] + ["0"] * 12 + [str(starttime)]
    return " ".join(fields) + " 0 0 0\n"


class FakeProc(object):
    """Builds a /proc tree below tmp_path."""

    def __init__(self, root, caps=CAPS_NONE):
        self.root = str(root)
        os.makedirs(os.path.join(self.root, "proc", "self"))
        self.write("/proc/self/status", "Name:\tpython\nCapEff:\t%s\n" % caps)

    def write(self, path, text, mode="w"):
        real = os.path.join(self.root, path.lstrip("/"))
        if not os.path.isdir(os.path.dirname(real)):
            os.makedirs(os.path.dirname(real))
        with open(real, mode) as handle:
            handle.write(text)

    def read(self, path):
        with open(os.path.join(self.root, path.lstrip("/"))) as handle:
            return handle.read()

    def add(self, pid, comm, cmdline=None, ppid=1, state="S", flags=0x400100, starttime=1000, uid=0,
            cgroup="0::/user.slice\n", score=0, legacy=False):
        base = "/proc/%d" % pid
        if cmdline is None:
            cmdline = [comm]
        self.write(base + "/comm", comm[:15] + "\n")
        self.write(base + "/stat", stat_line(pid, comm[:15], state, ppid, flags, starttime))
        self.write(base + "/cmdline", "".join(a + "\0" for a in cmdline))
        self.write(base + "/status", "Name:\t%s\nUid:\t%d\t%d\t%d\t%d\n" % (comm[:15], uid, uid, uid, uid))
        self.write(base + "/cgroup", cgroup)
        if legacy:
            self.write(base + "/oom_adj", "%d\n" % score)
        else:
            self.write(base + "/oom_score_adj", "%d\n" % score)
        self.write(base + "/oom_score", "%d\n" % (666 + score // 2))
        return pid

    def remove(self, pid):
        base = os.path.join(self.root, "proc", str(pid))
        for name in os.listdir(base):
            os.unlink(os.path.join(base, name))
        os.rmdir(base)

    def value(self, pid, name="oom_score_adj"):
        return int(self.read("/proc/%d/%s" % (pid, name)))


@pytest.fixture
def proc(tmp_path):
    return FakeProc(tmp_path)


@pytest.fixture
def fs(tmp_path, proc):
    return HostFS(str(tmp_path))


def pids(processes):
    return [p.pid for p in processes]


def apply(fs, processes, value, check_mode=False):
    changes = P.plan_oom_score_adj(fs, processes, value)
    txn = Transaction(check_mode=check_mode)
    for change in changes:
        txn.add_live(change)
    txn.commit()
    return changes


# ---- selection ----------------------------------------------------------------------------------

def test_name_selects_exact_comm_only(proc, fs):
    proc.add(10, "nginx")
    proc.add(11, "nginx-worker")
    proc.add(12, "xnginx")
    assert pids(P.select_processes(fs, {"name": "nginx"})) == [10]


def test_long_name_matches_truncated_comm_and_argv0(proc, fs):
    proc.add(20, "prometheus-node-exporter", ["/usr/bin/prometheus-node-exporter", "--web"])
    # same 15-char comm, different program: must not match
    proc.add(21, "prometheus-node-other", ["/usr/bin/prometheus-node-other"])
    assert pids(P.select_processes(fs, {"name": "prometheus-node-exporter"})) == [20]
    # a 15-character name is an exact comm: both truncated comms match
    assert pids(P.select_processes(fs, {"name": "prometheus-node"})) == [20, 21]
    # a longer name needs argv[0] (or exe) to confirm it
    assert pids(P.select_processes(fs, {"name": "prometheus-node-"})) == []


def test_name_is_cut_at_15_bytes_like_the_kernel(proc, fs):
    name = u"обработчик-x"  # 21 bytes in UTF-8: the kernel keeps 15, cutting a character in two
    proc.add(25, "placeholder", ["/opt/bin/" + name, "--serve"])
    with open(os.path.join(proc.root, "proc", "25", "comm"), "wb") as handle:
        handle.write(name.encode("utf-8")[:15] + b"\n")
    assert pids(P.select_processes(fs, {"name": name})) == [25]
    assert pids(P.select_processes(fs, {"name": u"обработчик-y"})) == []


def test_user_known_from_proc_dir_owner_without_reading_status(proc, fs, monkeypatch):
    proc.add(26, "app", uid=1234)
    proc.add(27, "app", uid=0)
    os.chown(os.path.join(proc.root, "proc", "26"), 1234, 1234)
    read = []
    real_uid = P._Scanner.uid

    def uid(self, process):
        read.append(process.pid)
        return real_uid(self, process)

    monkeypatch.setattr(P._Scanner, "uid", uid)
    assert pids(P.select_processes(fs, {"user": "1234"})) == [26]
    # the root-owned directory (non-dumpable or root) needed status; the other did not
    assert read == [27]
    assert pids(P.select_processes(fs, {"user": "0"})) == [27]


def test_kernel_threads_and_zombies_are_never_selected(proc, fs):
    proc.add(2, "kthreadd", cmdline=[], ppid=0, flags=0x00208040)
    proc.add(30, "kworker/0:1", cmdline=[], ppid=2, flags=0x04208060)
    proc.add(31, "sleep", state="Z", cmdline=[])
    proc.add(32, "sleep")
    # a kernel thread with a command line (flag set) is still a kernel thread
    proc.add(33, "sleep", ppid=2, flags=0x00200040)
    assert pids(P.select_processes(fs, {"pattern": ".*"})) == [32]
    assert pids(P.select_processes(fs, {"name": "sleep"})) == [32]
    assert pids(P.select_processes(fs, {"pids": [2, 30, 31, 32, 33]})) == [32]


def test_pattern_searches_the_joined_command_line(proc, fs):
    proc.add(40, "java", ["/usr/bin/java", "-Xmx1g", "-jar", "/opt/app/batch.jar"])
    proc.add(41, "java", ["/usr/bin/java", "-jar", "/opt/app/api.jar"])
    assert pids(P.select_processes(fs, {"pattern": r"-jar /opt/app/batch\.jar$"})) == [40]
    assert pids(P.select_processes(fs, {"pattern": "^/usr/bin/java "})) == [40, 41]


def test_selectors_combine_with_and(proc, fs):
    proc.add(50, "worker", uid=1000, cgroup="0::/batch\n")
    proc.add(51, "worker", uid=0, cgroup="0::/batch\n")
    proc.add(52, "worker", uid=1000, cgroup="0::/other\n")
    proc.add(53, "other", uid=1000, cgroup="0::/batch/sub\n")
    assert pids(P.select_processes(fs, {"name": "worker", "user": "1000"})) == [50, 52]
    assert pids(P.select_processes(fs, {"name": "worker", "user": "1000", "cgroup": "/batch"})) == [50]
    assert pids(P.select_processes(fs, {"user": "root"})) == [51]
    assert pids(P.select_processes(fs, {"pids": [50, 51, 52], "name": "worker", "cgroup": "/batch"})) == [50, 51]


def test_cgroup_v1_memory_and_v2_paths(proc, fs, tmp_path):
    proc.add(60, "a", cgroup="12:memory:/jobs/a\n11:cpu,cpuacct:/\n1:name=systemd:/user.slice\n0::/user.slice\n")
    proc.add(61, "b", cgroup="12:memory:/\n0::/jobs/b\n")
    proc.add(62, "c", cgroup="12:memory:/jobsx\n0::/\n")
    assert pids(P.select_processes(fs, {"cgroup": "/sys/fs/cgroup/memory/jobs"})) == [60]
    assert pids(P.select_processes(fs, {"cgroup": "/sys/fs/cgroup/unified/jobs"})) == [61]
    assert pids(P.select_processes(fs, {"cgroup": "/jobs"})) == [60, 61]
    assert pids(P.select_processes(fs, {"cgroup": "/jobs/a"})) == [60]
    with pytest.raises(P.SelectorError, match="memory controller"):
        P.select_processes(fs, {"cgroup": "/sys/fs/cgroup/cpu/jobs"})
    # a pure cgroup v2 host: /sys/fs/cgroup/<path>
    proc.write("/sys/fs/cgroup/cgroup.controllers", "memory pids\n")
    assert pids(P.select_processes(fs, {"cgroup": "/sys/fs/cgroup/jobs/b"})) == [61]


def test_pidfile(proc, fs):
    proc.add(70, "daemon")
    proc.write("/run/daemon.pid", "70\n")
    proc.write("/run/stale.pid", "99999\n")
    proc.write("/run/bad.pid", "hello\n")
    assert pids(P.select_processes(fs, {"pidfile": "/run/daemon.pid"})) == [70]
    assert pids(P.select_processes(fs, {"pidfile": "/run/stale.pid"})) == []
    assert pids(P.select_processes(fs, {"pidfile": "/run/missing.pid"})) == []
    with pytest.raises(P.SelectorError, match="does not start with a process ID"):
        P.select_processes(fs, {"pidfile": "/run/bad.pid"})


def test_include_children_follows_ppid_transitively(proc, fs):
    proc.add(80, "supervisor")
    proc.add(81, "child", ppid=80)
    proc.add(82, "grandchild", ppid=81)
    proc.add(83, "zombiechild", ppid=80, state="Z", cmdline=[])
    proc.add(84, "unrelated", ppid=1)
    selected = P.select_processes(fs, {"name": "supervisor", "include_children": True})
    assert pids(selected) == [80, 81, 82]


def test_include_children_from_children_files(proc, fs, monkeypatch):
    # kernels with CONFIG_PROC_CHILDREN: /proc/PID/task/TID/children, one file per thread
    proc.add(85, "master")
    proc.write("/proc/85/task/85/children", "86 ")
    proc.write("/proc/85/task/87/children", "88 89 ")   # a second thread forked 88 and 89
    proc.add(86, "child", ppid=85)
    proc.write("/proc/86/task/86/children", "90 ")
    proc.add(88, "child", ppid=85)
    proc.write("/proc/88/task/88/children", "")
    proc.add(89, "zombie", ppid=85, state="Z", cmdline=[])
    proc.write("/proc/89/task/89/children", "")
    proc.add(90, "grandchild", ppid=86)
    proc.write("/proc/90/task/90/children", "")
    proc.add(91, "orphan-looking", ppid=85)  # its parent says nothing of it: the files win
    # the full stat scan must not be needed
    monkeypatch.setattr(P, "_parents_map", lambda scanner, exclude: pytest.fail("stat scan used"))
    selected = P.select_processes(fs, {"name": "master", "include_children": True})
    assert pids(selected) == [85, 86, 88, 90]


def test_thread_id_stands_for_its_process(proc, fs):
    proc.add(95, "java")
    # /proc/96 is a thread of 95 (hidden from the listing but reachable by its TID)
    proc.write("/proc/96/status", "Name:\tGC Thread#0\nTgid:\t95\nPid:\t96\n")
    assert pids(P.select_processes(fs, {"pids": [96]})) == [95]
    assert pids(P.select_processes(fs, {"pids": [95, 96]})) == [95]


def test_exclude_pids(proc, fs):
    proc.add(90, "python3")
    proc.add(91, "python3")
    assert pids(P.select_processes(fs, {"name": "python3"}, exclude_pids=[91])) == [90]


def test_unit_uses_control_group_procs(proc, fs):
    proc.add(100, "sshd", cgroup="0::/system.slice/ssh.service\n")
    proc.add(101, "sshd", cgroup="0::/system.slice/ssh.service/sub\n")
    proc.add(102, "sshd", cgroup="0::/user.slice\n")
    proc.write("/sys/fs/cgroup/cgroup.controllers", "memory\n")
    proc.write("/sys/fs/cgroup/system.slice/ssh.service/cgroup.procs", "100\n")
    proc.write("/sys/fs/cgroup/system.slice/ssh.service/sub/cgroup.procs", "101\n")
    calls = []

    def run(argv):
        calls.append(argv)
        # systemd 219 and newer alike print "Property=value" without --value
        return 0, "ControlGroup=/system.slice/ssh.service\n", ""

    assert pids(P.select_processes(fs, {"unit": "ssh.service"}, run_command=run)) == [100, 101]
    assert calls == [["systemctl", "show", "-p", "ControlGroup", "--", "ssh.service"]]
    assert pids(P.select_processes(fs, {"unit": "ssh.service", "pid": 101}, run_command=run)) == [101]
    # a stopped unit has no control group: nothing selected
    assert P.select_processes(fs, {"unit": "ssh.service"}, run_command=lambda argv: (0, "ControlGroup=\n", "")) == []


def test_unit_hybrid_hierarchy(proc, fs):
    proc.add(110, "cron")
    proc.write("/sys/fs/cgroup/unified/system.slice/cron.service/cgroup.procs", "110\n")
    selected = P.select_processes(fs, {"unit": "cron.service"}, run_command=lambda argv: (0, "ControlGroup=/system.slice/cron.service\n", ""))
    assert pids(selected) == [110]


def test_unit_without_systemctl_is_a_clear_error(proc, fs):
    def run(argv):
        raise OSError(errno.ENOENT, "No such file or directory: 'systemctl'")

    with pytest.raises(P.SelectorError, match="systemctl is not available"):
        P.select_processes(fs, {"unit": "x.service"}, run_command=run)
    with pytest.raises(P.SelectorError, match="systemctl is not available"):
        P.select_processes(fs, {"unit": "x.service"}, run_command=lambda argv: (127, "", "systemctl: command not found"))
    with pytest.raises(P.SelectorError, match="systemd is not running"):
        P.select_processes(fs, {"unit": "x.service"}, run_command=lambda argv: (1, "", "Failed to connect to bus: Host is down"))
    with pytest.raises(P.SelectorError, match=r"'systemctl show' failed \(rc=1\): Access denied"):
        P.select_processes(fs, {"unit": "x.service"}, run_command=lambda argv: (1, "", "Access denied"))


@pytest.mark.parametrize("selector, message", [
    ({}, "no selector given"),
    ({"pids": [0]}, r"integers in 1\.\.4194304"),
    ({"pattern": "(unclosed"}, "not a valid regular expression"),
    ({"user": "no-such-user-oomkit"}, "does not exist"),
    ({"cgroup": "relative/path"}, "absolute path"),
    ({"name": "/usr/bin/sleep"}, "not a path"),
])
def test_bad_selectors_are_refused(fs, selector, message):
    with pytest.raises(P.SelectorError, match=message):
        P.select_processes(fs, selector)


def test_process_vanishing_during_scan_is_skipped(proc, fs, monkeypatch):
    proc.add(120, "sleep")
    proc.add(121, "sleep")
    real_stat = P._Scanner.stat

    def stat(self, process):
        if process.pid == 121:
            proc.remove(121)
        return real_stat(self, process)

    monkeypatch.setattr(P._Scanner, "stat", stat)
    assert pids(P.select_processes(fs, {"name": "sleep"})) == [120]


def test_parse_stat_handles_parentheses_and_spaces_in_comm():
    line = "4242 (evil) S (x) 1) R 77 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987654 0 0\n"
    assert P.parse_stat(line) == ("evil) S (x) 1", "R", 77, 4194560, 987654)


def test_comm_spoofing_closing_paren_does_not_confuse_the_scan(proc, fs):
    proc.add(130, "a) Z 2 0 0 0", flags=0x400100)
    selected = P.select_processes(fs, {"pids": [130]})
    assert pids(selected) == [130]
    assert selected[0].ppid == 1 and selected[0].state == "S"


# ---- planning and applying -----------------------------------------------------------------------

def test_raise_then_rerun_unchanged(proc, fs):
    proc.add(200, "sleep", score=0)
    proc.add(201, "sleep", score=500)
    selected = P.select_processes(fs, {"name": "sleep"})
    changes = apply(fs, selected, 500)
    assert [c.key for c in changes] == ["pid 200 (sleep)"]
    assert proc.value(200) == 500 and proc.value(201) == 500
    results = P.process_results(fs, selected)
    assert [(r["pid"], r["before"], r["after"], r["status"]) for r in results] == [
        (200, 0, 500, "changed"), (201, 500, 500, "unchanged")]
    assert results[0]["oom_score"] == 666  # read back from the (fixture) oom_score file
    again = P.select_processes(fs, {"name": "sleep"})
    assert apply(fs, again, 500) == []
    assert [p.status for p in again] == ["unchanged", "unchanged"]


def test_check_mode_predicts_and_writes_nothing(proc, fs):
    proc.add(210, "sleep", score=-300)
    selected = P.select_processes(fs, {"name": "sleep"})
    changes = apply(fs, selected, 900, check_mode=True)
    assert [(c.before, c.after) for c in changes] == [(-300, 900)]
    assert selected[0].status == "changed"
    assert proc.value(210) == -300


def test_negative_values_written_with_privilege(tmp_path):
    proc = FakeProc(tmp_path, caps=CAPS_ALL)
    fs = HostFS(str(tmp_path))
    proc.add(220, "sshd", score=0)
    assert P.has_cap_sys_resource(fs) is True
    selected = P.select_processes(fs, {"name": "sshd"})
    apply(fs, selected, -1000)
    assert proc.value(220) == -1000
    assert selected[0].status == "changed"


def test_has_cap_sys_resource(proc, fs):
    assert P.has_cap_sys_resource(fs) is False
    proc.write("/proc/self/status", "Name:\tx\n")
    assert P.has_cap_sys_resource(fs) is None


@pytest.mark.parametrize("value", [-1001, 1001, "5", True, None])
def test_bad_values_are_refused_before_anything(proc, fs, value):
    proc.add(230, "sleep")
    selected = P.select_processes(fs, {"name": "sleep"})
    with pytest.raises(P.SelectorError):
        P.plan_oom_score_adj(fs, selected, value)
    assert proc.value(230) == 0


def test_vanished_before_planning_and_before_writing(proc, fs):
    proc.add(240, "sleep")
    proc.add(241, "sleep")
    proc.add(242, "sleep")
    selected = P.select_processes(fs, {"name": "sleep"})
    proc.remove(240)  # gone between scan and plan
    changes = P.plan_oom_score_adj(fs, selected, 100)
    assert [c.key for c in changes] == ["pid 241 (sleep)", "pid 242 (sleep)"]
    proc.remove(241)  # gone between plan and write
    txn = Transaction()
    for change in changes:
        txn.add_live(change)
    txn.commit()
    assert [p.status for p in selected] == ["vanished", "vanished", "changed"]
    results = P.process_results(fs, selected)
    assert results[0]["oom_score"] is None and results[2]["oom_score"] == 666
    assert proc.value(242) == 100


def test_pid_reuse_is_detected_by_start_time(proc, fs):
    proc.add(250, "sleep", starttime=5000)
    selected = P.select_processes(fs, {"name": "sleep"})
    changes = P.plan_oom_score_adj(fs, selected, 700)
    # the process exits and a new one gets the same PID
    proc.remove(250)
    proc.add(250, "sleep", starttime=9000, score=0)
    txn = Transaction()
    for change in changes:
        txn.add_live(change)
    txn.commit()
    assert selected[0].status == "vanished"
    assert proc.value(250) == 0  # the newcomer is untouched


class FloorKernel(object):
    """Imitates the kernel's rule: going below a process's floor needs CAP_SYS_RESOURCE."""

    def __init__(self, monkeypatch, floors, privileged=False):
        self.floors = floors
        self.privileged = privileged
        self.writes = []
        real_write = P._ProcessHandle.write
        kernel = self

        def write(handle, name, value):
            floor = kernel.floors.get(handle.pid, 0)
            if value < floor and not kernel.privileged:
                raise OSError(errno.EACCES, "Permission denied")
            kernel.writes.append((handle.pid, value))
            return real_write(handle, name, value)

        monkeypatch.setattr(P._ProcessHandle, "write", write)


def test_lowering_below_floor_fails_clearly_and_rolls_back(proc, fs, monkeypatch):
    proc.add(260, "worker", score=200)   # floor 0: lowering to -100 refused
    proc.add(261, "worker", score=300)   # floor -500: lowering to -100 allowed
    proc.add(262, "worker", score=-800)  # raising to -100: always allowed
    kernel = FloorKernel(monkeypatch, {260: 0, 261: -500, 262: -1000})
    selected = P.select_processes(fs, {"name": "worker"})
    changes = P.plan_oom_score_adj(fs, selected, -100)
    # lowering first, raising last: the refusal comes before any raise
    assert [c.key for c in changes] == ["pid 260 (worker)", "pid 261 (worker)", "pid 262 (worker)"]
    txn = Transaction()
    for change in changes:
        txn.add_live(change)
    with pytest.raises(ApplyError) as excinfo:
        txn.commit()
    message = str(excinfo.value)
    assert "pid 260 (worker)" in message and "CAP_SYS_RESOURCE" in message and "containers" in message
    assert excinfo.value.errno == errno.EACCES
    P.mark_unapplied(selected)
    assert [p.status for p in selected] == ["failed", "not_applied", "not_applied"]
    assert [proc.value(p) for p in (260, 261, 262)] == [200, 300, -800]
    assert kernel.writes == []


def test_rollback_restores_earlier_writes(proc, fs, monkeypatch):
    proc.add(270, "worker", score=500)   # floor -500: lowering to -200 allowed
    proc.add(271, "worker", score=100)   # floor 0: refused
    FloorKernel(monkeypatch, {270: -500, 271: 0})
    selected = P.select_processes(fs, {"name": "worker"})
    txn = Transaction()
    for change in P.plan_oom_score_adj(fs, selected, -200):
        txn.add_live(change)
    with pytest.raises(ApplyError) as excinfo:
        txn.commit()
    assert excinfo.value.rolled_back == ["pid 270 (worker)"]
    assert "rolled back" in str(excinfo.value)
    P.mark_unapplied(selected)
    assert [p.status for p in selected] == ["rolled_back", "failed"]
    assert proc.value(270) == 500 and proc.value(271) == 100
    results = P.process_results(fs, selected)
    assert [(r["before"], r["after"]) for r in results] == [(500, 500), (100, 100)]


def test_legacy_oom_adj_only_kernel(proc, fs):
    proc.add(280, "old", score=0, legacy=True)
    proc.add(281, "old", score=15, legacy=True)
    selected = P.select_processes(fs, {"name": "old"})
    changes = apply(fs, selected, 500)
    assert [p.interface for p in selected] == ["oom_adj", "oom_adj"]
    # 500 -> oom_adj 8 -> applied as 470 (lossy)
    assert proc.value(280, "oom_adj") == 8 and proc.value(281, "oom_adj") == 8
    # lowering (15 -> 8) is planned before raising (0 -> 8)
    assert [(c.key, c.before, c.after) for c in changes] == [("pid 281 (old)", 1000, 470), ("pid 280 (old)", 0, 470)]
    warning = P.legacy_warning(selected, 500)
    assert "lossy" in warning and "oom_adj 8" in warning and "470" in warning
    # rerun: unchanged (compared in oom_adj units)
    again = P.select_processes(fs, {"name": "old"})
    assert apply(fs, again, 500) == []
    assert P.legacy_warning(P.select_processes(fs, {"name": "nothing"}), 500) is None


@pytest.mark.parametrize("score, adj", [(1000, 15), (999, 16), (-1000, -17), (500, 8), (-941, -15), (0, 0), (58, 0), (59, 1)])
def test_score_adj_to_oom_adj_mapping(score, adj):
    # 999*17/1000 = 16.98 -> 16, capped at 15
    assert P.score_adj_to_oom_adj(score) == min(adj, 15)


@pytest.mark.parametrize("adj, score", [(15, 1000), (-17, -1000), (-16, -941), (8, 470), (0, 0), (1, 58)])
def test_oom_adj_to_score_adj_mapping(adj, score):
    assert P.oom_adj_to_score_adj(adj) == score


if given is not None:
    @given(st.integers(min_value=-1000, max_value=1000))
    def test_legacy_mapping_is_in_range_and_monotonic(value):
        adj = P.score_adj_to_oom_adj(value)
        assert P.OOM_ADJ_MIN <= adj <= P.OOM_ADJ_MAX
        assert adj <= P.score_adj_to_oom_adj(min(value + 1, 1000))
        # the sign survives the mapping (0 stays 0: "no adjustment" is never turned into one)
        assert (adj > 0) <= (value > 0) and (adj < 0) <= (value < 0)

    @given(st.text(min_size=1, max_size=15).filter(lambda s: "\n" not in s))
    def test_parse_stat_any_comm(comm):
        line = stat_line(7, comm, "S", 3, 0x400100, 4242)
        assert P.parse_stat(line) == (comm, "S", 3, 0x400100, 4242)


def test_cmdline_excerpt_is_bounded(proc, fs):
    proc.add(290, "java", ["/usr/bin/java"] + ["-Dx=%d" % i for i in range(200)])
    selected = P.select_processes(fs, {"name": "java"})
    P.plan_oom_score_adj(fs, selected, 0)
    result = P.process_results(fs, selected)[0]
    assert len(result["cmdline"]) == P.CMDLINE_EXCERPT and result["cmdline"].endswith("...")
    assert result["status"] == "unchanged"


# ---- the real kernel of this machine ------------------------------------------------------------

@pytest.fixture
def child(sleeping_process):
    return sleeping_process


def test_real_process_raise_and_refused_lowering(child):
    process, marker = child
    fs = HostFS("/")
    selected = P.select_processes(fs, {"pattern": "^sleep %s$" % marker.replace(".", r"\.")})
    assert pids(selected) == [process.pid]
    assert selected[0].comm == "sleep" and selected[0].starttime > 0
    apply(fs, selected, 500)
    with open("/proc/%d/oom_score_adj" % process.pid) as handle:
        assert handle.read().strip() == "500"
    if P.has_cap_sys_resource(fs):
        pytest.skip("this runner has CAP_SYS_RESOURCE: the kernel would accept -1000")
    again = P.select_processes(fs, {"pids": [process.pid]})
    txn = Transaction()
    for change in P.plan_oom_score_adj(fs, again, -1000):
        txn.add_live(change)
    with pytest.raises(ApplyError, match="CAP_SYS_RESOURCE") as excinfo:
        txn.commit()
    assert excinfo.value.errno == errno.EACCES
    with open("/proc/%d/oom_score_adj" % process.pid) as handle:
        assert handle.read().strip() == "500"


def test_real_include_children():
    marker = "1235.%d" % os.getpid()
    parent = subprocess.Popen(["sh", "-c", "sleep %s & sleep %s & wait" % (marker, marker)])
    try:
        fs = HostFS("/")
        expected = [["sleep", marker], ["sleep", marker]]
        deadline = time.monotonic() + 5
        selected = []
        # the shell forks, then each child execs sleep: wait until both have
        while time.monotonic() < deadline and [p.cmdline for p in selected[1:]] != expected:
            time.sleep(0.01)
            selected = P.select_processes(fs, {"pids": [parent.pid], "include_children": True})
        assert selected[0].pid == parent.pid and selected[0].comm == "sh"
        assert [p.cmdline for p in selected[1:]] == expected
        assert all(p.ppid == parent.pid for p in selected[1:])
    finally:
        subprocess.call(["pkill", "-KILL", "-P", str(parent.pid)])
        parent.kill()
        parent.wait()


def test_real_scan_finds_own_interpreter_and_skips_kernel_threads():
    fs = HostFS("/")
    everything = P.select_processes(fs, {"pattern": "."})
    assert os.getpid() in pids(everything)
    assert all(not p.is_kernel_thread for p in everything)
    assert 2 not in pids(everything)
    mine = P.select_processes(fs, {"pids": [os.getpid()]}, exclude_pids=[os.getpid()])
    assert mine == []


def test_host_errors_other_than_gone_are_reported(proc, fs, monkeypatch):
    proc.add(300, "sleep")
    selected = P.select_processes(fs, {"name": "sleep"})
    changes = P.plan_oom_score_adj(fs, selected, 10)

    def write(handle, name, value):
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(P._ProcessHandle, "write", write)
    with pytest.raises(HostError, match="rejected the value"):
        changes[0].apply()
    assert selected[0].status == "failed"
