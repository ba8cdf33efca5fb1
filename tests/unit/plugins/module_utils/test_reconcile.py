# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared transaction: live changes, files (one owning its directory), steps, refusals, rollback."""

from __future__ import annotations

import errno
import os

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils import processes
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError, HostFS
from ansible_collections.oomkit.linux.plugins.module_utils.reconcile import (
    READ_BACK_REPORT, VANISHED, ApplyError, DirectoryFile, LiveChange, ManagedFile, Step, Transaction, key_colon_value,
    live_diff,
)


class Knob(object):
    def __init__(self, value):
        self.value = value

    def change(self, after, fail=None):
        before = self.value

        def apply():
            if fail is not None:
                raise HostError("write refused", errno_value=fail)
            self.value = after

        def undo():
            self.value = before

        return LiveChange("knob", before, after, apply, undo)


def test_a_file_that_owns_its_directory(tmp_path):
    fs = HostFS(str(tmp_path))
    unit_dir = "/etc/systemd/system/app.service.d"
    dropin = DirectoryFile(fs, unit_dir + "/50-x.conf")
    dropin.plan("[Service]\nOOMScoreAdjust=-900\n")
    txn = Transaction()
    txn.add_file(dropin)
    txn.commit()
    assert fs.read(unit_dir + "/50-x.conf").endswith("-900\n") and dropin.created_directory
    gone = DirectoryFile(fs, unit_dir + "/50-x.conf")
    gone.plan(None)
    txn = Transaction()
    txn.add_file(gone)
    txn.commit()
    assert not os.path.exists(fs.path(unit_dir))


def test_a_directory_with_foreign_files_stays(tmp_path):
    fs = HostFS(str(tmp_path))
    fs.makedirs("/d")
    fs.replace_file("/d/other.conf", "x\n")
    fs.replace_file("/d/ours.conf", "y\n")
    ours = DirectoryFile(fs, "/d/ours.conf")
    ours.plan(None)
    txn = Transaction()
    txn.add_file(ours)
    txn.commit()
    assert fs.listdir("/d") == ["other.conf"]


def test_a_failed_step_restores_the_file_and_the_live_values(tmp_path):
    fs = HostFS(str(tmp_path))
    knob = Knob(0)
    dropin = DirectoryFile(fs, "/etc/u.d/x.conf")
    dropin.plan("new\n")
    calls = []

    def reload():
        calls.append("reload")
        raise HostError("`systemctl daemon-reload` failed: Access denied")

    txn = Transaction()
    txn.add_live(knob.change(5))
    txn.add_file(dropin)
    txn.add_step(Step("daemon-reload", reload, rerun_after_rollback=True))
    with pytest.raises(ApplyError) as info:
        txn.commit()
    assert info.value.key == "daemon-reload"
    assert "Access denied" in str(info.value) and "rolled back the changes already made to: /etc/u.d/x.conf, knob" in str(info.value)
    assert knob.value == 0 and not os.path.exists(fs.path("/etc/u.d"))
    assert calls == ["reload"]  # the failed step is not rerun: it did not happen


def test_a_failure_after_a_step_reruns_it_on_the_restored_files(tmp_path):
    fs = HostFS(str(tmp_path))
    fs.makedirs("/etc/u.d")
    fs.replace_file("/etc/u.d/x.conf", "old\n")
    dropin = DirectoryFile(fs, "/etc/u.d/x.conf")
    dropin.plan("new\n")
    seen = []
    txn = Transaction()
    txn.add_file(dropin)
    txn.add_step(Step("daemon-reload", lambda: seen.append(fs.read("/etc/u.d/x.conf")), rerun_after_rollback=True))
    txn.commit()
    knob = Knob(0)
    txn.add_live(knob.change(7))
    txn.add_live(knob.change(9, fail=errno.EIO), may_be_refused=True)  # EIO is no refusal: the run fails
    with pytest.raises(ApplyError, match="rolled back the changes already made to: knob, /etc/u.d/x.conf, "
                                         "daemon-reload again"):
        txn.commit()
    assert fs.read("/etc/u.d/x.conf") == "old\n" and knob.value == 0
    assert seen == ["new\n", "old\n"]  # reloaded again once the file was restored


def test_refused_live_writes_are_results_not_failures():
    knob = Knob(0)
    txn = Transaction()
    txn.add_live(knob.change(-900, fail=errno.EACCES), may_be_refused=True)
    txn.add_live(Knob(1).change(2))
    txn.commit()
    ((change, reason),) = txn.refused
    assert change.after == -900 and "refused" in reason
    assert [d["after"] for d in txn.diffs()] == ["knob = 2\n"]
    with pytest.raises(ApplyError):  # not marked as one that may be refused: a failure
        bad = Transaction()
        bad.add_live(knob.change(-900, fail=errno.EACCES))
        bad.commit()


def test_a_real_refusal_by_this_kernel(sleeping_process):
    """This test bed has no CAP_SYS_RESOURCE: the kernel refuses -900 and the transaction says so."""
    fs = HostFS("/")
    if processes.has_cap_sys_resource(fs) is not False:
        pytest.skip("this run has CAP_SYS_RESOURCE: nothing is refused")
    process, _marker = sleeping_process
    selected = processes.select_processes(fs, processes.ProcessSelector(pids=[process.pid]))
    txn = Transaction()
    for change in processes.plan_oom_score_adj(fs, selected, -900):
        txn.add_live(change, may_be_refused=True)
    txn.commit()
    assert len(txn.refused) == 1 and "CAP_SYS_RESOURCE" in txn.refused[0][1]
    with open("/proc/%d/oom_score_adj" % process.pid) as handle:
        assert handle.read().strip() == "0"


def test_the_files_before_a_failed_file_are_restored(tmp_path):
    fs = HostFS(str(tmp_path))
    first = ManagedFile(fs, "/a.conf")
    first.plan("a\n")
    second = ManagedFile(fs, "/a.conf/b.conf")  # below the first file: ENOTDIR
    second.plan("b\n")
    txn = Transaction()
    txn.add_file(first)
    txn.add_file(second)
    with pytest.raises(ApplyError, match="rolled back the changes already made to: /a.conf"):
        txn.commit()
    assert not os.path.exists(fs.path("/a.conf"))


def test_one_diff_shape_for_every_setter():
    """Every setter's live entry comes from reconcile.live_diff (the renderers only choose the separator)."""
    import re
    root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins")
    for name in ("modules/sysctl.py", "modules/cgroup_memory.py", "modules/oom_score_adj.py", "modules/systemd_oom.py",
                 "module_utils/systemd.py", "module_utils/sysctl.py", "module_utils/cgroups.py"):
        with open(os.path.join(root, name)) as handle:
            code = handle.read()
        assert not re.search(r'"before_header":', code), name
    entry = live_diff("oom_score_adj", [("pid 1 (x)", 0, 5)], key_colon_value)
    assert entry == {"before_header": "oom_score_adj", "after_header": "oom_score_adj",
                     "before": "pid 1 (x): 0\n", "after": "pid 1 (x): 5\n"}
    assert live_diff("live", [("vm.a", "0", "1")])["after"] == "vm.a = 1\n"


# --- the one read-back of every setter ------------------------------------------------------------------

class Clamping(object):
    """A kernel file that keeps at most ``ceiling`` of what is written (as the kernel clamps or rounds)."""

    def __init__(self, value, ceiling):
        self.value = value
        self.ceiling = ceiling

    def change(self, after, **read_back):
        before = self.value

        def apply():
            self.value = min(after, self.ceiling)

        def undo():
            self.value = before

        return LiveChange("clamped", before, after, apply, undo, read_back=lambda: self.value, **read_back)


def test_a_read_back_mismatch_fails_and_undoes_that_write_too():
    first, clamped = Knob(1), Clamping(10, ceiling=50)
    txn = Transaction()
    txn.add_live(first.change(2))
    txn.add_live(clamped.change(80, where="/sys/fs/cgroup/x/memory.max"))
    with pytest.raises(ApplyError, match="/sys/fs/cgroup/x/memory.max: wrote 80 but the kernel reports 50") as info:
        txn.commit()
    # the write the kernel kept otherwise is undone with the others: the host is as it was
    assert info.value.rolled_back == ["clamped", "knob"]
    assert (first.value, clamped.value) == (1, 10)


def test_a_read_back_may_report_instead_of_failing():
    clamped = Clamping(10, ceiling=50)
    txn = Transaction()
    change = clamped.change(80, on_mismatch=READ_BACK_REPORT)
    txn.add_live(change)
    txn.add_live(Clamping(1, ceiling=9).change(5))
    txn.commit()
    assert txn.adjusted == [(change, 50)] and change.read_value == 50 and clamped.value == 50


def test_a_read_back_compares_with_what_the_kernel_should_store():
    # a cgroup rounds a size to pages: the plan expects the rounded value, not the one written
    rounded = Clamping(0, ceiling=4096)
    txn = Transaction()
    txn.add_live(rounded.change(5000, expected=4096))
    txn.commit()
    assert txn.adjusted == [] and rounded.value == 4096


def test_real_oom_score_adj_writes_are_read_back(sleeping_process):
    fs = HostFS("/")
    process, _marker = sleeping_process
    selected = processes.select_processes(fs, processes.ProcessSelector(pids=[process.pid]))
    txn = Transaction()
    changes = processes.plan_oom_score_adj(fs, selected, 321)
    for change in changes:
        txn.add_live(change, may_be_refused=True)
    txn.commit()
    assert [c.read_value for c in changes] == [321]
    txn.rollback()


def test_a_process_that_exits_before_its_write_has_nothing_to_read_back(sleeping_process):
    fs = HostFS("/")
    process, _marker = sleeping_process
    selected = processes.select_processes(fs, processes.ProcessSelector(pids=[process.pid]))
    changes = processes.plan_oom_score_adj(fs, selected, 400)
    process.kill()
    process.wait()
    txn = Transaction()
    for change in changes:
        txn.add_live(change)
    txn.commit()
    assert [c.read_value for c in changes] == [VANISHED] and selected[0].status == "vanished"
