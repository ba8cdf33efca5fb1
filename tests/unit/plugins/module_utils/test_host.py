# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host layer: one mount table parser, one page size, one v1 "unlimited", one byte formatter."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils import cgroups, host, host_info, oom_host, oom_sources, systemd
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostFS
from ansible_collections.oomkit.linux.plugins.module_utils.sizes import parse_size

PLUGINS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins")


def test_the_kernels_octal_escapes_are_undone_in_every_path_field():
    # show_mountinfo() escapes space, tab, newline and backslash in root, mount point and source
    line = ("36 25 0:31 /a\\040b\\011c /mnt/x\\012y\\134z rw,nosuid shared:9 - tmpfs sp\\040ace ro,size=4k\n")
    (mount,) = host.parse_mountinfo(line + "not a mount line\n")
    assert mount.root == "/a b\tc"
    assert mount.mount_point == "/mnt/x\ny\\z"
    assert mount.source == "sp ace"
    assert (mount.fstype, mount.options, mount.super_options) == ("tmpfs", ["rw", "nosuid"], ["ro", "size=4k"])
    assert mount.read_only


def test_optional_fields_vary_in_number():
    text = ("1 0 0:1 / / rw - ext4 /dev/sda1 rw\n"
            "2 1 0:2 / /sys/fs/cgroup/memory rw shared:1 master:2 propagate_from:3 - cgroup cgroup rw,memory\n")
    first, second = host.parse_mountinfo(text)
    assert first.mount_point == "/" and second.controllers == ["memory"]
    assert host.cgroup_mounts([first, second]) == (None, "/sys/fs/cgroup/memory", None)


def test_this_machines_mount_table():
    """The real table: every mount point the parser returns exists, including escaped ones."""
    mounts = host.read_mounts(HostFS("/"))
    assert mounts and all(os.path.exists(m.mount_point) for m in mounts)
    with open("/proc/self/mountinfo") as handle:
        assert len(mounts) == len([line for line in handle if " - " in line])


def test_a_mount_point_with_a_space_is_found(tmp_path):
    """A real mount whose path holds a space, a tab and a backslash (tmpfs, needs root)."""
    target = tmp_path / "with space\tand\\slash"
    target.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "oomkit-test", str(target)],
                      stderr=subprocess.DEVNULL, check=False).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        mounts = host.read_mounts(HostFS("/"))
        assert [m.source for m in mounts if m.mount_point == str(target)] == ["oomkit-test"]
    finally:
        subprocess.run(["umount", str(target)], check=True)


def test_v1_unlimited_is_what_this_kernel_shows():
    path = "/sys/fs/cgroup/memory/memory.limit_in_bytes"
    if not os.path.exists(path):
        pytest.skip("no cgroup v1 memory controller here")
    with open(path) as handle:
        root_limit = int(handle.read())
    assert host.is_v1_unlimited(root_limit)
    assert root_limit == host.v1_unlimited_bytes(os.sysconf("SC_PAGE_SIZE"))
    assert not host.is_v1_unlimited(root_limit - host.page_size())
    assert host.is_v1_unlimited(-1)
    # every reader of cgroup limits uses it
    assert systemd.parse_cgroup_memory(str(root_limit)).kind == "infinity"
    assert cgroups.read_size(HostFS("/"), path, "v1", host.page_size()) is None


@pytest.mark.parametrize("amount, text", [(0, "0"), (1000, "1000"), (1024, "1K"), (536870912, "512M"),
                                          (1610612736, "1536M"), (2 ** 60, "1E"), (3 * 2 ** 40, "3T")])
def test_one_byte_formatter(amount, text):
    assert host.format_bytes(amount) == text == systemd.format_bytes(amount)
    assert parse_size(text) == amount


def test_no_other_mountinfo_parser_page_size_or_unlimited_threshold():
    """The host layer is the only home of these (no ' - ' split of mountinfo, no sysconf, no 2**63)."""
    offenders = []
    for directory, _dirs, files in os.walk(PLUGINS):
        for name in files:
            path = os.path.join(directory, name)
            if not name.endswith(".py") or name == "host.py":
                continue
            with open(path) as handle:
                code = handle.read()
            for pattern in (r'split\(" - "', r'partition\(" - "', r"SC_PAGE_SIZE", r"2 \*\* 63", r"LONG_MAX // "):
                if re.search(pattern, code):
                    offenders.append((name, pattern))
    # sizes.py holds the largest size the kernel stores (a bound, not the unlimited threshold)
    assert [o for o in offenders if o[0] != "sizes.py"] == []
    assert host_info._mounts(HostFS("/"))[0].__class__ is host.Mount
    assert oom_host.is_v1_unlimited is host.is_v1_unlimited


def test_oom_facts_reads_the_live_host_through_hostfs_only():
    """The live host's side of oom_facts (configuration, the live cgroup tree) has no file access of its
    own, and the log reader maps every path with HostFS."""
    with open(oom_host.__file__) as handle:
        code = handle.read()
    for pattern in (r"\bopen\(", r"os\.walk", r"os\.listdir", r"os\.scandir", r"os\.path\.(isdir|exists|join)", r"^import os$"):
        assert not re.search(pattern, code, re.MULTILINE), pattern
    with open(oom_sources.__file__) as handle:
        code = handle.read()
    assert not re.search(r"os\.path\.join\(root", code) and "walk_cgroups" not in code
    assert oom_sources._path("/srv/fixture", "/proc/vmstat") == HostFS("/srv/fixture").path("/proc/vmstat")


def test_one_posture_collector_for_oom_facts_and_oom_host_info():
    """On this machine: oom_facts' snapshot and oom_host_info's posture read the same values one way."""
    from ansible_collections.oomkit.linux.plugins.module_utils import sysctl
    from ansible_collections.oomkit.linux.plugins.module_utils.systemctl import subprocess_runner

    config = oom_host.host_config("/")
    info = host_info.gather(HostFS("/"), subprocess_runner, {"sysctls": list(sysctl.POSTURE_SYSCTLS)})
    for name, entry in info["sysctls"].items():
        if entry["value"] is not None and name in sysctl.POSTURE_SYSCTLS:
            assert str(config["sysctl"][name]) == entry["value"], name
    assert set(config["sysctl"]) <= set(sysctl.POSTURE_SYSCTLS)
    assert config["memory_cgroup_version"] == info["cgroup"]["memory_version"]
    assert config["memory_cgroup_root"] == info["cgroup"]["memory_mount"]
    with open("/proc/sys/kernel/osrelease") as handle:
        assert config["kernel"] == handle.read().strip()
