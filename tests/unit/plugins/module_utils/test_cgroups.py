# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import errno
import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.oomkit.linux.plugins.module_utils import cgroups
from ansible_collections.oomkit.linux.plugins.module_utils.cgroups import (
    CgroupError, Hierarchy, detect_layout, parse_flat_keyed, parse_mountinfo, plan_absent, plan_present,
    process_cgroup, read_size, read_stats, resolve_path, v1_unlimited_bytes, validate_wanted,
)
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError, HostFS
from ansible_collections.oomkit.linux.plugins.module_utils.reconcile import ApplyError, Transaction
from ansible_collections.oomkit.linux.tests.unit.fixtures.cgroups.trees import V1_UNLIMITED, build_host

M = 1024 * 1024


def apply(plan, check_mode=False):
    transaction = Transaction(check_mode=check_mode)
    for change in plan.changes:
        transaction.add_live(change)
    transaction.commit()
    return transaction


def present(fs, path, page=4096, procs=None, unsupported="fail", force=False, **settings):
    layout = detect_layout(fs)
    cg = resolve_path(fs, layout.memory, path)
    return plan_present(fs, layout, cg, validate_wanted(settings), procs=procs, page=page, unsupported=unsupported, force=force)


def keys(plan):
    return [c.key for c in plan.changes]


# -- mount table and detection --------------------------------------------------------------

def test_parse_mountinfo_fields_and_escapes():
    text = ("35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
            "33 22 0:29 /sub /mnt/bind\\040copy rw,relatime - cgroup none rw,cpu,memory\n"
            "garbage line\n")
    first, second = parse_mountinfo(text)
    assert (first.mount_point, first.fstype, first.root, first.controllers) == ("/sys/fs/cgroup/memory", "cgroup", "/", ["memory"])
    assert second.mount_point == "/mnt/bind copy"
    assert second.root == "/sub"
    assert second.controllers == ["cpu", "memory"]


def test_named_hierarchy_has_no_controllers():
    (mount,) = parse_mountinfo("40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n")
    assert mount.controllers == []


@pytest.mark.parametrize("layout, version, memory_version, mount_point", [
    ("v1", "v1", "v1", "/sys/fs/cgroup/memory"),
    ("hybrid", "hybrid", "v1", "/sys/fs/cgroup/memory"),
    ("v2", "v2", "v2", "/sys/fs/cgroup"),
    ("comounted", "v1", "v1", "/cgroup/cpu,memory"),
])
def test_detect_layout(tmp_path, layout, version, memory_version, mount_point):
    fs = build_host(tmp_path, layout)
    detected = detect_layout(fs)
    assert detected.version == version
    assert detected.memory.version == memory_version
    assert detected.memory.mount_point == mount_point
    assert detected.memory.root == "/"


def test_detect_v2_without_memory_controller_is_explained(tmp_path):
    fs = build_host(tmp_path, "v2")
    fs.set_file("/sys/fs/cgroup/cgroup.controllers", "cpu io pids")
    with pytest.raises(CgroupError, match="memory controller is not available.*cgroup_disable=memory"):
        detect_layout(fs)


def test_detect_nothing_mounted(tmp_path):
    fs = build_host(tmp_path, "v1")
    fs.set_file("/proc/self/mountinfo", "22 1 253:1 / / rw - ext4 /dev/vda1 rw")
    with pytest.raises(CgroupError, match="no cgroup file system is mounted"):
        detect_layout(fs)


@pytest.mark.skipif(not os.path.isfile("/sys/fs/cgroup/memory/memory.limit_in_bytes"), reason="needs a v1 memory controller")
def test_detect_layout_on_this_host():
    layout = detect_layout(HostFS("/"))
    assert layout.memory.version == "v1"
    assert os.path.isfile(os.path.join(layout.memory.mount_point, "memory.limit_in_bytes"))


def test_v1_unlimited_depends_on_page_size():
    assert v1_unlimited_bytes(4096) == 9223372036854771712
    assert v1_unlimited_bytes(16384) == 9223372036854759424
    assert v1_unlimited_bytes(65536) == 9223372036854710272


def test_read_size_unlimited_for_each_page_size(tmp_path):
    fs = build_host(tmp_path, "v1")
    fs.set_file("/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854710272")
    assert read_size(fs, "/sys/fs/cgroup/memory/memory.limit_in_bytes", "v1", 65536) is None
    # With 4 KiB pages that number is a real (if absurd) limit just below unlimited.
    assert read_size(fs, "/sys/fs/cgroup/memory/memory.limit_in_bytes", "v1", 4096) == 9223372036854710272
    fs.set_file("/sys/fs/cgroup/memory/memory.limit_in_bytes", "garbage")
    with pytest.raises(HostError, match="expected a size"):
        read_size(fs, "/sys/fs/cgroup/memory/memory.limit_in_bytes", "v1", 4096)


# -- paths ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path, relative", [
    ("oomkit-probe", "oomkit-probe"),
    ("oomkit/batch", "oomkit/batch"),
    ("oomkit//batch/", "oomkit/batch"),
    ("./oomkit/./batch", "oomkit/batch"),
    ("/sys/fs/cgroup/memory/oomkit/batch", "oomkit/batch"),
    ("/sys/fs/cgroup/memory/", None),
])
def test_resolve_path_accepts(tmp_path, path, relative):
    fs = build_host(tmp_path, "v1")
    hierarchy = detect_layout(fs).memory
    if relative is None:
        with pytest.raises(CgroupError, match="root of the memory hierarchy"):
            resolve_path(fs, hierarchy, path)
        return
    cg = resolve_path(fs, hierarchy, path)
    assert cg.relative == relative
    assert cg.cgroup == "/" + relative
    assert cg.host_path == "/sys/fs/cgroup/memory/" + relative


@pytest.mark.parametrize("path, fragment", [
    ("../../etc", "contains '..'"),
    ("a/../../b", "contains '..'"),
    ("/etc", "absolute and outside the memory hierarchy"),
    ("/sys/fs/cgroup/cpu,cpuacct/x", "absolute and outside"),
    ("/sys/fs/cgroup/memoryx", "absolute and outside"),
    ("/sys/fs/cgroup/memory/../../etc", "contains '..'"),
    ("", "non-empty"),
    (".", "root of the memory hierarchy"),
    ("a\x00b", "NUL"),
    ("x" * 256, "longer than 255"),
])
def test_resolve_path_refuses(tmp_path, path, fragment):
    fs = build_host(tmp_path, "v1")
    with pytest.raises(CgroupError, match=fragment):
        resolve_path(fs, detect_layout(fs).memory, path)


def test_symlink_escaping_the_hierarchy_is_refused(tmp_path):
    fs = build_host(tmp_path, "v1")
    outside = tmp_path / "etc"
    outside.mkdir()
    os.symlink(str(outside), fs.path("/sys/fs/cgroup/memory/evil"))
    with pytest.raises(CgroupError, match="symlink.*outside the memory hierarchy"):
        resolve_path(fs, detect_layout(fs).memory, "evil/child")
    assert not (outside / "child").exists()


def test_symlink_inside_the_hierarchy_is_refused_too(tmp_path):
    fs = build_host(tmp_path, "v1")
    fs.add_cgroup("real")
    os.symlink(fs.path("/sys/fs/cgroup/memory/real"), fs.path("/sys/fs/cgroup/memory/alias"))
    with pytest.raises(CgroupError, match="goes through a symlink"):
        resolve_path(fs, detect_layout(fs).memory, "alias")


def test_control_file_is_not_a_cgroup(tmp_path):
    fs = build_host(tmp_path, "v1")
    with pytest.raises(CgroupError, match="is a file, not a cgroup directory"):
        resolve_path(fs, detect_layout(fs).memory, "memory.limit_in_bytes")


@pytest.mark.parametrize("path", ["system.slice/sshd.service", "user.slice", "system.slice/docker-1.scope/app"])
def test_systemd_managed_paths_refused_on_systemd_hosts(tmp_path, path):
    fs = build_host(tmp_path, "v2", systemd=True)
    hierarchy = detect_layout(fs).memory
    with pytest.raises(CgroupError, match="oomkit.linux.systemd_oom.*allow_systemd_managed"):
        resolve_path(fs, hierarchy, path)
    assert resolve_path(fs, hierarchy, path, allow_systemd_managed=True).relative == path


def test_unit_like_names_are_fine_without_systemd(tmp_path):
    fs = build_host(tmp_path, "v1", systemd=False)
    assert resolve_path(fs, detect_layout(fs).memory, "batch.slice").relative == "batch.slice"


# -- validation -----------------------------------------------------------------------------

def test_validate_wanted_parses_every_kind():
    wanted = validate_wanted(dict(max="64M", swap_max=0, high="max", low=None, oom_group=True, swappiness="10", qos_level=-1))
    assert wanted == {"max": 64 * M, "swap_max": 0, "high": None, "oom_group": True, "swappiness": 10, "qos_level": -1}


def test_validate_wanted_lists_every_problem():
    with pytest.raises(CgroupError) as info:
        validate_wanted(dict(max="64MB", soft_limit="lots", swappiness=201, qos_level=-2000, oom_group="yes"))
    message = str(info.value)
    for fragment in ("max: ambiguous unit", "soft_limit: cannot read 'lots'", "swappiness: 201 is out of range (allowed: 0..200)",
                     "qos_level: -2000 is out of range (allowed: -1024..1023)", "oom_group: expected true or false"):
        assert fragment in message


# -- v1 -------------------------------------------------------------------------------------

def test_v1_create_with_limit_and_swap(tmp_path):
    fs = build_host(tmp_path, "v1")
    plan = present(fs, "oomkit/batch", max="64M", swap_max=0)
    # parents first; a new cgroup starts unlimited, so the limit goes before memsw
    assert keys(plan) == ["cgroup /sys/fs/cgroup/memory/oomkit", "cgroup /sys/fs/cgroup/memory/oomkit/batch",
                          "max", "memsw (max + swap_max)"]
    assert plan.created == ["/sys/fs/cgroup/memory/oomkit", "/sys/fs/cgroup/memory/oomkit/batch"]
    apply(plan)
    base = "/sys/fs/cgroup/memory/oomkit/batch/"
    assert fs.read(base + "memory.limit_in_bytes").strip() == str(64 * M)
    assert fs.read(base + "memory.memsw.limit_in_bytes").strip() == str(64 * M)
    report = plan.report_settings()
    assert report["max"] == {"file": "memory.limit_in_bytes", "before": None, "after": 64 * M, "changed": True}
    assert report["swap_max"]["after"] == 0

    again = present(fs, "oomkit/batch", max="64M", swap_max=0)
    assert again.changes == []
    assert again.report_settings()["max"] == {"file": "memory.limit_in_bytes", "before": 64 * M, "after": 64 * M, "changed": False}
    assert again.report_settings()["swap_max"]["before"] == 0


def test_v1_raising_both_writes_memsw_first_and_lowering_writes_limit_first(tmp_path):
    fs = build_host(tmp_path, "v1")
    apply(present(fs, "job", max="64M", swap_max="32M"))
    up = present(fs, "job", max="256M", swap_max="32M")
    assert keys(up) == ["memsw (max + swap_max)", "max"]
    apply(up)
    assert fs.read("/sys/fs/cgroup/memory/job/memory.memsw.limit_in_bytes").strip() == str(288 * M)
    down = present(fs, "job", max="16M", swap_max=0)
    assert keys(down) == ["max", "memsw (max + swap_max)"]
    apply(down)
    assert fs.read("/sys/fs/cgroup/memory/job/memory.limit_in_bytes").strip() == str(16 * M)
    assert fs.read("/sys/fs/cgroup/memory/job/memory.memsw.limit_in_bytes").strip() == str(16 * M)
    lift = present(fs, "job", max="max", swap_max="max")
    assert keys(lift) == ["memsw (max + swap_max)", "max"]
    apply(lift)
    assert fs.read("/sys/fs/cgroup/memory/job/memory.limit_in_bytes").strip() == str(V1_UNLIMITED)
    assert present(fs, "job", max=-1, swap_max="unlimited").changes == []


def test_v1_max_above_memsw_without_swap_max_is_refused(tmp_path):
    fs = build_host(tmp_path, "v1")
    apply(present(fs, "job", max="64M", swap_max=0))
    with pytest.raises(CgroupError, match="memsw.limit_in_bytes=64M.*set swap_max too"):
        present(fs, "job", max="128M")
    with pytest.raises(CgroupError, match="swap_max: max"):
        present(fs, "job", max="max")
    # lowering alone is fine: memsw stays, the swap allowance grows
    lower = present(fs, "job", max="32M")
    assert keys(lower) == ["max"]


def test_v1_swap_max_needs_a_finite_max(tmp_path):
    fs = build_host(tmp_path, "v1")
    with pytest.raises(CgroupError, match="needs a finite max"):
        present(fs, "job", swap_max="1G")


def test_v1_page_rounding_is_predicted_and_idempotent(tmp_path):
    fs = build_host(tmp_path, "v1")
    plan = present(fs, "job", max=100000)
    assert plan.settings["max"].after == 98304
    apply(plan)
    assert present(fs, "job", max=100000).changes == []


def test_v1_only_settings(tmp_path):
    fs = build_host(tmp_path, "v1")
    fs.add_cgroup("job")
    plan = present(fs, "job", oom_kill_disable=True, swappiness=10, soft_limit="32M")
    assert keys(plan) == ["oom_kill_disable", "swappiness", "soft_limit"]
    apply(plan)
    assert "oom_kill_disable 1" in fs.read("/sys/fs/cgroup/memory/job/memory.oom_control")
    assert fs.read("/sys/fs/cgroup/memory/job/memory.swappiness").strip() == "10"
    assert fs.read("/sys/fs/cgroup/memory/job/memory.soft_limit_in_bytes").strip() == str(32 * M)
    again = present(fs, "job", oom_kill_disable=True, swappiness=10, soft_limit="32M")
    assert again.changes == []
    assert again.report_settings()["oom_kill_disable"]["before"] is True


def test_v1_refuses_v2_only_settings_with_reasons(tmp_path):
    fs = build_host(tmp_path, "v1")
    with pytest.raises(CgroupError) as info:
        present(fs, "job", max="64M", oom_group=True, high="1G", qos_level=-1)
    message = str(info.value)
    assert "oom_group: memory.oom.group exists only on cgroup v2" in message
    assert "high: memory.high does not exist: cgroup v1 has no memory.high" in message
    assert "qos_level: memory.qos_level does not exist" in message and "CONFIG_MEMCG_OOM_PRIORITY" in message
    assert "unsupported=skip" in message
    assert not fs.exists("/sys/fs/cgroup/memory/job")


def test_v1_skip_unsupported_applies_the_rest(tmp_path):
    fs = build_host(tmp_path, "v1")
    plan = present(fs, "job", unsupported="skip", max="64M", oom_group=True)
    assert sorted(plan.skipped) == ["oom_group"]
    assert any("skipped oom_group" in w for w in plan.warnings)
    assert "oom_group" not in plan.settings
    apply(plan)
    assert fs.read("/sys/fs/cgroup/memory/job/memory.limit_in_bytes").strip() == str(64 * M)


def test_v1_without_swap_accounting(tmp_path):
    fs = build_host(tmp_path, "v1", memsw=False)
    with pytest.raises(CgroupError, match="swap accounting is off.*swapaccount=1"):
        present(fs, "job", max="64M", swap_max=0)


def test_openeuler_v1_extras(tmp_path):
    fs = build_host(tmp_path, "v1", openeuler=True)
    # The root memcg lacks memory.high/low/min; a new cgroup's files are predicted from a non-root one.
    fs.add_cgroup("system.slice")
    plan = present(fs, "offline/batch", max="1G", qos_level=-1, high="768M", low="128M", min="64M")
    assert sorted(plan.settings) == ["high", "low", "max", "min", "qos_level"]
    apply(plan)
    base = "/sys/fs/cgroup/memory/offline/batch/"
    assert fs.read(base + "memory.qos_level").strip() == "-1"
    assert fs.read(base + "memory.high").strip() == str(768 * M)
    assert present(fs, "offline/batch", max="1G", qos_level=-1, high="768M", low="128M", min="64M").changes == []


def test_v1_ebusy_is_explained_and_rolled_back(tmp_path):
    fs = build_host(tmp_path, "v1")
    fs.add_cgroup("job", **{"memory.usage_in_bytes": 200 * M})
    fs.fail("/sys/fs/cgroup/memory/job/memory.limit_in_bytes", errno.EBUSY)
    plan = present(fs, "job", max="64M", swappiness=5)
    assert any("below the current usage 200M" in w for w in plan.warnings)
    with pytest.raises(ApplyError) as info:
        apply(plan)
    message = str(info.value)
    assert "EBUSY" in message and "usage (200M)" in message and "new limit (64M)" in message
    assert fs.read("/sys/fs/cgroup/memory/job/memory.swappiness").strip() == "60"


def test_failure_rolls_back_earlier_writes_and_created_cgroups(tmp_path):
    fs = build_host(tmp_path, "v1")
    fs.add_cgroup("job")
    apply(present(fs, "job", max="64M"))
    fs.fail("/sys/fs/cgroup/memory/job/memory.soft_limit_in_bytes", errno.EINVAL)
    with pytest.raises(ApplyError) as info:
        apply(present(fs, "job", max="128M", soft_limit="1M"))
    assert info.value.rolled_back == ["max"]
    assert fs.read("/sys/fs/cgroup/memory/job/memory.limit_in_bytes").strip() == str(64 * M)

    fs.fail("/sys/fs/cgroup/memory/new/child/memory.limit_in_bytes", errno.EINVAL)
    with pytest.raises(ApplyError):
        apply(present(fs, "new/child", max="64M"))
    assert not fs.exists("/sys/fs/cgroup/memory/new")


def test_read_back_mismatch_fails(tmp_path, monkeypatch):
    fs = build_host(tmp_path, "v1")
    fs.add_cgroup("job")

    def stubborn(directory, name, text):
        fs.set_file(os.path.join(directory, name), "30")
    monkeypatch.setattr(fs, "_write_memory_swappiness", stubborn, raising=False)
    with pytest.raises(ApplyError, match="wrote 10 but the kernel reports 30"):
        apply(present(fs, "job", swappiness=10))


def test_check_mode_changes_nothing(tmp_path):
    fs = build_host(tmp_path, "v1")
    plan = present(fs, "a/b", max="64M", swap_max=0)
    transaction = apply(plan, check_mode=True)
    assert transaction.changed
    assert not fs.exists("/sys/fs/cgroup/memory/a")
    assert fs.writes == []


def test_comounted_hierarchy_is_used(tmp_path):
    fs = build_host(tmp_path, "comounted")
    plan = present(fs, "job", max="64M")
    apply(plan)
    assert fs.read("/cgroup/cpu,memory/job/memory.limit_in_bytes").strip() == str(64 * M)


# -- v2 -------------------------------------------------------------------------------------

def test_v2_create_nested_enables_memory_in_parents(tmp_path):
    fs = build_host(tmp_path, "v2")
    plan = present(fs, "oomkit/batch", max="2G", high="1536M", swap_max=0, oom_group=True, low="64M", min="32M")
    assert keys(plan) == [
        "/sys/fs/cgroup/cgroup.subtree_control",
        "cgroup /sys/fs/cgroup/oomkit",
        "/sys/fs/cgroup/oomkit/cgroup.subtree_control",
        "cgroup /sys/fs/cgroup/oomkit/batch",
        "max", "swap_max", "high", "low", "min", "oom_group",
    ]
    assert plan.subtree == ["/sys/fs/cgroup", "/sys/fs/cgroup/oomkit"]
    apply(plan)
    base = "/sys/fs/cgroup/oomkit/batch/"
    assert fs.read(base + "memory.max").strip() == str(2048 * M)
    assert fs.read(base + "memory.high").strip() == str(1536 * M)
    assert fs.read(base + "memory.swap.max").strip() == "0"
    assert fs.read(base + "memory.oom.group").strip() == "1"
    assert "memory" in fs.read("/sys/fs/cgroup/oomkit/cgroup.subtree_control").split()
    assert present(fs, "oomkit/batch", max="2G", high="1536M", swap_max=0, oom_group=True, low="64M", min="32M").changes == []


def test_v2_existing_cgroup_without_memory_files_gets_parent_enabled(tmp_path):
    fs = build_host(tmp_path, "v2")
    fs.add_cgroup("plain")
    assert not fs.exists("/sys/fs/cgroup/plain/memory.max")
    plan = present(fs, "plain/job", max="64M")
    assert keys(plan)[:3] == ["/sys/fs/cgroup/cgroup.subtree_control", "/sys/fs/cgroup/plain/cgroup.subtree_control",
                              "cgroup /sys/fs/cgroup/plain/job"]


def test_v2_refuses_max_below_usage_unless_forced(tmp_path):
    fs = build_host(tmp_path, "v2")
    fs.set_file("/sys/fs/cgroup/cgroup.subtree_control", "memory")
    fs.add_cgroup("leaky", **{"memory.current": 300 * M})
    with pytest.raises(CgroupError, match="uses 300M now.*OOM-kill.*force=true"):
        present(fs, "leaky", max="256M")
    plan = present(fs, "leaky", max="256M", force=True)
    assert keys(plan) == ["max"]
    assert any("OOM-kill" in w for w in plan.warnings)
    # raising, or a limit above usage, needs no force
    assert keys(present(fs, "leaky", max="512M")) == ["max"]


def test_v2_refuses_v1_only_settings(tmp_path):
    fs = build_host(tmp_path, "v2")
    with pytest.raises(CgroupError) as info:
        present(fs, "job", oom_kill_disable=True, swappiness=10, soft_limit="1G")
    message = str(info.value)
    assert "cgroup v2 has no oom_kill_disable" in message
    assert "no per-cgroup swappiness" in message
    assert "no soft limit" in message


def test_v2_no_internal_processes(tmp_path):
    fs = build_host(tmp_path, "v2")
    fs.add_cgroup("busy")
    fs.add_process(4242, "/busy")
    with pytest.raises(CgroupError, match="holds processes \\(4242\\).*no internal processes"):
        present(fs, "busy/job", max="64M")


def test_v2_prediction_without_any_non_root_example(tmp_path):
    fs = build_host(tmp_path, "v2", memsw=False)
    # nothing non-root exists: assume the standard v2 files
    plan = present(fs, "job", max="64M", swap_max=0)
    assert "swap_max" in plan.settings


# -- removal --------------------------------------------------------------------------------

def test_absent_removes_only_empty_cgroups(tmp_path):
    fs = build_host(tmp_path, "v1")
    layout = detect_layout(fs)
    fs.add_cgroup("parent/child")
    fs.add_process(101, "/parent")
    fs.add_process(102, "/parent")
    cg = resolve_path(fs, layout.memory, "parent")
    with pytest.raises(CgroupError) as info:
        plan_absent(fs, layout, cg)
    assert "2 process(es) (pids 101, 102)" in str(info.value)
    assert "1 child cgroup(s) (child)" in str(info.value)

    child = resolve_path(fs, layout.memory, "parent/child")
    plan = plan_absent(fs, layout, child)
    assert plan.removed and keys(plan) == ["cgroup /sys/fs/cgroup/memory/parent/child"]
    apply(plan)
    assert not fs.exists("/sys/fs/cgroup/memory/parent/child")
    assert plan_absent(fs, layout, child).changes == []


# -- processes ------------------------------------------------------------------------------

def test_procs_are_moved_once(tmp_path):
    fs = build_host(tmp_path, "v1")
    fs.add_process(500, "/")
    fs.add_process(501, "/")
    plan = present(fs, "job", max="64M", procs=[500, 501])
    assert keys(plan)[-2:] == ["pid 500", "pid 501"]
    apply(plan)
    assert fs.read("/sys/fs/cgroup/memory/job/cgroup.procs").split() == ["500", "501"]
    again = present(fs, "job", max="64M", procs=[500, 501])
    assert again.changes == [] and again.already_in == [500, 501]


def test_procs_missing_pid_is_an_error_before_any_write(tmp_path):
    fs = build_host(tmp_path, "v1")
    with pytest.raises(CgroupError, match="no such process: 999999"):
        present(fs, "job", procs=[999999])
    assert not fs.exists("/sys/fs/cgroup/memory/job")


def test_failed_move_puts_processes_back(tmp_path):
    fs = build_host(tmp_path, "v1")
    fs.add_cgroup("old")
    fs.add_process(700, "/old")
    fs.add_process(701, "/old")
    fs.add_cgroup("job")
    original = fs._write_cgroup_procs

    def refuse_701(directory, name, text):
        if text == "701":
            raise HostError("writing '701' failed", errno_value=errno.EINVAL)
        return original(directory, name, text)
    fs._write_cgroup_procs = refuse_701
    with pytest.raises(ApplyError):
        apply(present(fs, "job", procs=[700, 701]))
    assert process_cgroup(fs, 700, detect_layout(fs).memory) == "/old"


def test_process_cgroup_parsing(tmp_path):
    fs = build_host(tmp_path, "v1")
    fs.set_file("/proc/1/cgroup", "12:cpu,cpuacct:/\n4:memory,cpu:/a/b\n0::/")
    assert process_cgroup(fs, 1, Hierarchy("v1", "/sys/fs/cgroup/memory")) == "/a/b"
    assert process_cgroup(fs, 1, Hierarchy("v1", "/sys/fs/cgroup/memory", root="/a")) == "/b"
    assert process_cgroup(fs, 1, Hierarchy("v2", "/sys/fs/cgroup")) == "/"
    assert process_cgroup(fs, 2, Hierarchy("v2", "/sys/fs/cgroup")) is None


# -- counters -------------------------------------------------------------------------------

def test_read_stats_v1(tmp_path):
    fs = build_host(tmp_path, "v1")
    fs.add_cgroup("job", **{"memory.usage_in_bytes": 4096, "memory.max_usage_in_bytes": 8192, "memory.failcnt": 3,
                            "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2"})
    cg = resolve_path(fs, detect_layout(fs).memory, "job")
    stats = read_stats(fs, cg)
    assert stats["usage"] == 4096 and stats["peak"] == 8192 and stats["failcnt"] == 3
    assert stats["oom_control"] == {"oom_kill_disable": 0, "under_oom": 0, "oom_kill": 2}
    assert stats["oom_kills"] == 2 and stats["events"] is None


def test_read_stats_v2_and_missing(tmp_path):
    fs = build_host(tmp_path, "v2")
    fs.set_file("/sys/fs/cgroup/cgroup.subtree_control", "memory")
    fs.add_cgroup("job", **{"memory.current": 4096, "memory.events": "low 0\nhigh 1\nmax 5\noom 1\noom_kill 1\noom_group_kill 0"})
    hierarchy = detect_layout(fs).memory
    stats = read_stats(fs, resolve_path(fs, hierarchy, "job"))
    assert stats["usage"] == 4096 and stats["peak"] == 0
    assert stats["events"]["max"] == 5 and stats["oom_kills"] == 1
    assert stats["events_local"]["oom_kill"] == 0
    assert read_stats(fs, resolve_path(fs, hierarchy, "nothing"))["usage"] is None


def test_parse_flat_keyed():
    assert parse_flat_keyed("a 1\nb x\nbroken\n") == {"a": 1, "b": "x"}
    assert parse_flat_keyed(None) == {}


def test_page_size_is_the_hosts():
    assert cgroups.page_size() == os.sysconf("SC_PAGE_SIZE")


def test_v2_existing_cgroup_gets_its_memory_files_enabled_then_set(tmp_path):
    fs = build_host(tmp_path, "v2")
    fs.add_cgroup("plain")
    # without +memory in the root's subtree_control the cgroup has no memory files yet
    assert not fs.exists("/sys/fs/cgroup/plain/memory.max")
    plan = present(fs, "plain", max="64M")
    assert keys(plan) == ["/sys/fs/cgroup/cgroup.subtree_control", "max"]
    assert plan.report_settings()["max"]["before"] is None
    # the fixture kernel, like cgroupfs, only populates files at mkdir: emulate the enable
    fs.set_file("/sys/fs/cgroup/cgroup.subtree_control", "memory")
    fs.set_file("/sys/fs/cgroup/plain/memory.max", "max")
    fs.set_file("/sys/fs/cgroup/plain/memory.current", "0")
    apply(present(fs, "plain", max="64M"))
    assert fs.read("/sys/fs/cgroup/plain/memory.max").strip() == str(64 * M)


@pytest.mark.parametrize("layout", ["v1", "v2"])
def test_parent_limit_caps_and_is_reported(tmp_path, layout):
    fs = build_host(tmp_path, layout)
    if layout == "v2":
        fs.set_file("/sys/fs/cgroup/cgroup.subtree_control", "memory")
    apply(present(fs, "team", max="1G"))
    plan = present(fs, "team/job", max="2G")
    assert any("above the limit of its parent" in w and "(1G)" in w for w in plan.warnings)
    apply(plan)
    job = resolve_path(fs, detect_layout(fs).memory, "team/job")
    stats = read_stats(fs, job, 4096)
    assert stats["effective_max"] == 1024 * M and stats["limited_by"] == "/team"
    apply(present(fs, "team/job", max="256M"))
    assert present(fs, "team/job", max="256M").warnings == []
    stats = read_stats(fs, job, 4096)
    assert stats["effective_max"] == 256 * M and stats["limited_by"] == "/team/job"


def test_unlimited_everywhere_reports_max(tmp_path):
    fs = build_host(tmp_path, "v1")
    fs.add_cgroup("free")
    stats = read_stats(fs, resolve_path(fs, detect_layout(fs).memory, "free"), 4096)
    assert stats["effective_max"] == "max" and stats["limited_by"] is None


def test_duplicate_pids_are_moved_once(tmp_path):
    fs = build_host(tmp_path, "v1")
    fs.add_process(800, "/")
    plan = present(fs, "job", procs=[800, 800])
    assert keys(plan) == ["cgroup /sys/fs/cgroup/memory/job", "pid 800"]


_MIB = st.integers(min_value=1, max_value=4096)
_SWAP = st.one_of(st.none(), st.integers(min_value=0, max_value=4096))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start_max=_MIB, start_swap=_SWAP, new_max=st.one_of(st.none(), _MIB), new_swap=_SWAP)
def test_v1_order_never_breaks_limit_below_memsw(tmp_path_factory, start_max, start_swap, new_max, new_swap):
    """Whatever the current and the wanted limits, the planned writes pass the kernel's limit <= memsw check."""
    fs = build_host(tmp_path_factory.mktemp("v1"), "v1")
    start = {"max": start_max * M, "swap_max": None if start_swap is None else start_swap * M}
    apply(present(fs, "job", **start))
    wanted = {"max": "max" if new_max is None else new_max * M, "swap_max": "max" if new_swap is None else new_swap * M}
    if new_max is None and new_swap is not None:
        with pytest.raises(CgroupError, match="needs a finite max"):
            present(fs, "job", **wanted)
        return
    apply(present(fs, "job", **wanted))
    limit = int(fs.read("/sys/fs/cgroup/memory/job/memory.limit_in_bytes"))
    memsw = int(fs.read("/sys/fs/cgroup/memory/job/memory.memsw.limit_in_bytes"))
    assert limit == (V1_UNLIMITED if new_max is None else new_max * M)
    assert memsw == (V1_UNLIMITED if new_swap is None else new_max * M + new_swap * M)
    assert present(fs, "job", **wanted).changes == []


def test_hybrid_with_memory_on_the_unified_mount(tmp_path):
    """Some v1 controllers mounted, memory bound to cgroup2: the layout is hybrid, memory is v2."""
    fs = build_host(tmp_path, "hybrid")
    fs.set_file("/proc/self/mountinfo", (
        "31 22 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw"))
    fs.set_file("/sys/fs/cgroup/unified/cgroup.controllers", "io memory pids")
    layout = detect_layout(fs)
    assert layout.version == "hybrid"
    assert layout.memory.to_dict() == {"version": "v2", "mount_point": "/sys/fs/cgroup/unified", "root": "/"}
    assert layout.unified_mount == "/sys/fs/cgroup/unified"
    assert layout.v1_mounts == {"cpu": "/sys/fs/cgroup/cpu"}
    with pytest.raises(CgroupError, match="outside the memory hierarchy mounted at /sys/fs/cgroup/unified"):
        resolve_path(fs, layout.memory, "/sys/fs/cgroup/memory/job")


def test_bind_mount_of_a_subtree_is_not_preferred(tmp_path):
    fs = build_host(tmp_path, "comounted")
    layout = detect_layout(fs)
    assert layout.memory.mount_point == "/cgroup/cpu,memory" and layout.memory.root == "/"
    fs.set_file("/proc/self/mountinfo", "33 22 0:29 /sub /mnt/bind\\040copy rw - cgroup cgroup rw,cpu,memory")
    only_bind = detect_layout(fs)
    assert only_bind.memory.mount_point == "/mnt/bind copy" and only_bind.memory.root == "/sub"
