# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import errno
import os

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils import sysctl
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError, HostFS
from ansible_collections.oomkit.linux.plugins.module_utils.reconcile import ApplyError
from ansible_collections.oomkit.linux.plugins.module_utils.sysctl import SysctlError, SysctlRun

LIVE_VALUES = {
    "vm/panic_on_oom": "0",
    "vm/oom_kill_allocating_task": "0",
    "vm/oom_dump_tasks": "1",
    "vm/overcommit_memory": "0",
    "vm/overcommit_ratio": "50",
    "vm/overcommit_kbytes": "0",
    "vm/min_free_kbytes": "67584",
    "vm/swappiness": "60",
    "vm/watermark_scale_factor": "10",
    "vm/lowmem_reserve_ratio": "256\t256\t32\t0\t0",
    "kernel/osrelease": "4.19.90-vhulk2211.3.0.h1543.eulerosv2r10.aarch64",
    "kernel/panic": "0",
}


@pytest.fixture
def host(tmp_path):
    """A fixture host: /proc/sys of an EulerOS 4.19 kernel, empty sysctl.d directories."""
    for key, value in LIVE_VALUES.items():
        path = tmp_path / "proc/sys" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
    (tmp_path / "proc/meminfo").write_text("MemTotal:       16303552 kB\nMemFree:         1000000 kB\n")
    for directory in ("etc/sysctl.d", "usr/lib/sysctl.d", "run/sysctl.d"):
        (tmp_path / directory).mkdir(parents=True)
    return tmp_path


def live(root, name):
    return (root / "proc/sys" / name.replace(".", "/")).read_text().strip()


def run(root, **kwargs):
    kwargs.setdefault("path", "/etc/sysctl.d/90-oomkit-oom.conf")
    return SysctlRun(HostFS(str(root)), **kwargs).plan()


# --- names ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("given, name", [
    ("vm.panic_on_oom", "vm.panic_on_oom"),
    ("vm/panic_on_oom", "vm.panic_on_oom"),
    ("/proc/sys/vm/oom_dump_tasks", "vm.oom_dump_tasks"),
    ("net/ipv4/conf/eth0.100/forwarding", "net.ipv4.conf.eth0/100.forwarding"),
    ("net.ipv4.conf.eth0/100.forwarding", "net.ipv4.conf.eth0/100.forwarding"),
])
def test_names_in_both_forms(given, name):
    assert sysctl.normalize_name(given) == name


def test_vlan_name_maps_back_to_dotted_path():
    assert sysctl.name_to_path("net.ipv4.conf.eth0/100.forwarding") == "/proc/sys/net/ipv4/conf/eth0.100/forwarding"


@pytest.mark.parametrize("bad", ["", "vm..x", "vm.x y", ".vm", "vm.", "vm.x=1", "vm.x#"])
def test_bad_names_are_refused(bad):
    with pytest.raises(SysctlError):
        sysctl.normalize_name(bad)


# --- validation ----------------------------------------------------------------------------------

def test_panic_on_oom_out_of_range_names_the_range():
    with pytest.raises(SysctlError, match=r"vm.panic_on_oom: 7 is out of range; allowed: 0\.\.2"):
        sysctl.validate_value("vm.panic_on_oom", 7, (6, 18))


@pytest.mark.parametrize("name, value", [
    ("vm.oom_dump_tasks", 5),            # the kernel itself accepts any int here
    ("vm.oom_kill_allocating_task", -1),  # likewise
    ("vm.overcommit_ratio", -10),        # no range check in the kernel at all
    ("vm.overcommit_kbytes", -1),
    ("vm.min_free_kbytes", 100),         # below 1024 breaks PF_MEMALLOC allocations
    ("vm.watermark_scale_factor", 0),
    ("vm.watermark_scale_factor", 3001),
])
def test_checks_the_kernel_does_not_make(name, value):
    with pytest.raises(SysctlError):
        sysctl.validate_value(name, value, (6, 18))


def test_swappiness_range_depends_on_kernel():
    assert sysctl.validate_value("vm.swappiness", 150, (5, 10))[0] == "150"
    with pytest.raises(SysctlError, match="0..100"):
        sysctl.validate_value("vm.swappiness", 150, (4, 19))


def test_watermark_scale_factor_above_1000_warns_on_older_kernels():
    value, warnings = sysctl.validate_value("vm.watermark_scale_factor", 2000, (5, 10))
    assert value == "2000" and "5.19" in warnings[0]
    assert sysctl.validate_value("vm.watermark_scale_factor", 2000, (6, 6)) == ("2000", [])


def test_min_free_kbytes_against_memory_size():
    with pytest.raises(SysctlError, match="half of this host's memory"):
        sysctl.validate_value("vm.min_free_kbytes", 9000000, (6, 18), mem_total_kb=16000000)
    value, warnings = sysctl.validate_value("vm.min_free_kbytes", 1000000, (6, 18), mem_total_kb=16000000)
    assert value == "1000000" and "5%" in warnings[0]


def test_non_integer_is_refused_and_unknown_keys_pass_through():
    with pytest.raises(SysctlError, match="not an integer"):
        sysctl.validate_value("vm.panic_on_oom", "1abc", (6, 18))
    assert sysctl.validate_value("net.core.somaxconn", " 4096 ", (6, 18))[0] == "4096"
    assert sysctl.validate_value("vm.lowmem_reserve_ratio", "256  256\t32", (6, 18))[0] == "256 256 32"


def test_booleans_become_zero_and_one():
    assert sysctl.validate_value("vm.oom_dump_tasks", True, (6, 18))[0] == "1"


def test_overcommit_ratio_and_kbytes_never_both(host):
    with pytest.raises(SysctlError, match="cannot both be set"):
        run(host, settings={"vm.overcommit_ratio": 80, "vm.overcommit_kbytes": 1000})


def test_same_key_in_two_spellings_is_refused(host):
    with pytest.raises(SysctlError, match="given twice"):
        run(host, settings={"vm.panic_on_oom": 0, "vm/panic_on_oom": 0})


# --- planning and applying -------------------------------------------------------------------------

def test_only_differing_keys_are_written(host):
    plan = run(host, settings={"vm.oom_dump_tasks": 1, "vm.oom_kill_allocating_task": 1}, persist=False)
    assert [c.key for c in plan.transaction.live_changes] == ["vm.oom_kill_allocating_task"]
    plan.commit()
    assert live(host, "vm.oom_kill_allocating_task") == "1"
    assert plan.results["vm.oom_dump_tasks"]["status"] == "ok"
    assert plan.results["vm.oom_kill_allocating_task"]["status"] == "changed"
    again = run(host, settings={"vm.oom_dump_tasks": 1, "vm.oom_kill_allocating_task": 1}, persist=False)
    assert not again.changed


def test_vector_values_compare_normalised(host):
    plan = run(host, settings={"vm.lowmem_reserve_ratio": "256 256 32 0 0"}, persist=False)
    assert not plan.changed


def test_check_mode_predicts_and_writes_nothing(host):
    plan = run(host, settings={"vm.oom_dump_tasks": 0}, check_mode=True)
    plan.commit()
    assert plan.changed
    assert plan.results["vm.oom_dump_tasks"]["live_after"] == "0"
    assert plan.results["vm.oom_dump_tasks"]["persisted_after"] == "0"
    assert live(host, "vm.oom_dump_tasks") == "1"
    assert not (host / "etc/sysctl.d/90-oomkit-oom.conf").exists()


def test_failed_live_write_rolls_back_earlier_writes(host, monkeypatch):
    real_write = HostFS.write_value

    def kernel_refuses_swappiness(self, path, value):
        if path.endswith("/swappiness"):
            raise HostError("writing to %s failed" % path, path=path, errno_value=errno.EINVAL)
        real_write(self, path, value)

    monkeypatch.setattr(HostFS, "write_value", kernel_refuses_swappiness)
    plan = run(host, settings={"vm.oom_dump_tasks": 0, "vm.panic_on_oom": 1, "vm.swappiness": 10})
    with pytest.raises(ApplyError) as failure:
        plan.commit()
    message = str(failure.value)
    assert "vm.swappiness = 10" in message and "EINVAL" in message
    assert set(failure.value.rolled_back) == {"vm.oom_dump_tasks", "vm.panic_on_oom"}
    assert live(host, "vm.oom_dump_tasks") == "1"
    assert live(host, "vm.panic_on_oom") == "0"
    assert not (host / "etc/sysctl.d/90-oomkit-oom.conf").exists()


def test_read_only_proc_sys_says_to_persist_only(host, monkeypatch):
    def read_only(self, path, value):
        raise HostError("read-only", path=path, errno_value=errno.EROFS)

    monkeypatch.setattr(HostFS, "write_value", read_only)
    with pytest.raises(ApplyError, match="read-only.*runtime: false"):
        run(host, settings={"vm.oom_dump_tasks": 0}).commit()
    persisted = run(host, settings={"vm.oom_dump_tasks": 0}, runtime=False)
    persisted.commit()
    assert "vm.oom_dump_tasks = 0" in (host / "etc/sysctl.d/90-oomkit-oom.conf").read_text()


def test_failed_file_write_rolls_back_live_values(host, monkeypatch):
    def disk_full(self, path, content, default_mode=0o644):
        raise HostError("replacing %s failed: no space left" % path, path=path, errno_value=errno.ENOSPC)

    monkeypatch.setattr(HostFS, "replace_file", disk_full)
    with pytest.raises(ApplyError, match="rolled back"):
        run(host, settings={"vm.oom_dump_tasks": 0}).commit()
    assert live(host, "vm.oom_dump_tasks") == "1"


def test_missing_key_is_an_error_unless_ignored(host):
    with pytest.raises(SysctlError, match="does not exist on this kernel.*ignore_missing"):
        run(host, settings={"vm.memcg_qos_enable": 1})
    plan = run(host, settings={"vm.memcg_qos_enable": 1, "vm.oom_dump_tasks": 0}, ignore_missing=True)
    plan.commit()
    assert plan.results["vm.memcg_qos_enable"]["status"] == "missing"
    assert any("memcg_qos_enable" in w for w in plan.warnings)
    assert "memcg_qos_enable" not in (host / "etc/sysctl.d/90-oomkit-oom.conf").read_text()


# --- the persisted file ----------------------------------------------------------------------------

FOREIGN = """# site tuning, do not remove
vm.swappiness=30
; an old comment
vm.oom_dump_tasks = 0
-vm.panic_on_oom = 0

vm.oom_dump_tasks=0
"""


def test_file_rewrite_keeps_foreign_lines_and_updates_duplicates_in_place(host):
    path = host / "etc/sysctl.d/90-oomkit-oom.conf"
    path.write_text(FOREIGN)
    os.chmod(str(path), 0o600)
    plan = run(host, settings={"vm.oom_dump_tasks": 1, "vm.overcommit_memory": 0}, runtime=False)
    plan.commit()
    assert path.read_text() == """# site tuning, do not remove
vm.swappiness=30
; an old comment
vm.oom_dump_tasks = 1
-vm.panic_on_oom = 0

vm.oom_dump_tasks = 1
vm.overcommit_memory = 0
"""
    assert oct(os.stat(str(path)).st_mode & 0o777) == "0o600"


def test_exclusive_and_absent(host):
    path = host / "etc/sysctl.d/90-oomkit-oom.conf"
    path.write_text(FOREIGN)
    run(host, settings={"vm.oom_dump_tasks": 0}, runtime=False, exclusive=True).commit()
    text = path.read_text()
    assert "swappiness" not in text and "panic_on_oom" not in text and "# site tuning" in text
    run(host, settings={"vm.oom_dump_tasks": None}, state="absent").commit()
    assert "oom_dump_tasks" not in path.read_text()
    assert live(host, "vm.oom_dump_tasks") == "1"


def test_setting_ratio_drops_kbytes_from_our_file(host):
    path = host / "etc/sysctl.d/90-oomkit-oom.conf"
    path.write_text("vm.overcommit_kbytes = 1000\n")
    plan = run(host, settings={"vm.overcommit_ratio": 80}, runtime=False)
    plan.commit()
    assert path.read_text() == "vm.overcommit_ratio = 80\n"
    assert any("overcommit_kbytes removed" in w for w in plan.warnings)


def test_missing_sysctl_d_directory_is_created(host):
    (host / "etc/sysctl.d").rmdir()
    run(host, settings={"vm.oom_dump_tasks": 1}, runtime=False).commit()
    assert (host / "etc/sysctl.d/90-oomkit-oom.conf").read_text().endswith("vm.oom_dump_tasks = 1\n")


def test_backup_keeps_the_old_file(host):
    path = host / "etc/sysctl.d/90-oomkit-oom.conf"
    path.write_text("vm.oom_dump_tasks = 0\n")
    plan = SysctlRun(HostFS(str(host)), settings={"vm.oom_dump_tasks": 1}, runtime=False, backup=True,
                     path="/etc/sysctl.d/90-oomkit-oom.conf").plan()
    plan.commit()
    backup = host / plan.our_file.backup_file.lstrip("/")
    assert backup.read_text() == "vm.oom_dump_tasks = 0\n"


def test_diff_shows_live_values_and_file(host):
    plan = run(host, settings={"vm.oom_dump_tasks": 0})
    live_diff, file_diff = plan.transaction.diffs()
    assert live_diff["before"] == "vm.oom_dump_tasks = 1\n" and live_diff["after"] == "vm.oom_dump_tasks = 0\n"
    assert file_diff["before"] == "" and "vm.oom_dump_tasks = 0" in file_diff["after"]


# --- boot precedence -------------------------------------------------------------------------------

def test_later_file_shadows_ours_at_boot(host):
    (host / "usr/lib/sysctl.d/99-vendor.conf").write_text("vm.oom_dump_tasks = 0\n")
    plan = run(host, settings={"vm.oom_dump_tasks": 1}, runtime=False)
    result = plan.results["vm.oom_dump_tasks"]
    assert result["boot_value"] == "0" and result["boot_file"] == "/usr/lib/sysctl.d/99-vendor.conf"
    assert result["shadowed_by"] == "/usr/lib/sysctl.d/99-vendor.conf"
    assert any("overrides" in w for w in plan.warnings)


def test_etc_masks_vendor_file_of_same_name(host):
    (host / "usr/lib/sysctl.d/99-vendor.conf").write_text("vm.oom_dump_tasks = 0\n")
    os.symlink("/dev/null", str(host / "etc/sysctl.d/99-vendor.conf"))
    fs = HostFS(str(host))
    # The symlink points at the host's /dev/null, outside the fixture root: realpath keeps it.
    precedence = sysctl.boot_precedence(fs, ["vm.oom_dump_tasks"])
    assert precedence["vm.oom_dump_tasks"]["systemd"] is None


def test_sysctl_conf_wins_only_under_sysctl_system(host):
    (host / "etc/sysctl.conf").write_text("vm.swappiness = 10\n")
    (host / "etc/sysctl.d/99-zz.conf").write_text("vm.swappiness = 20\n")
    precedence = sysctl.boot_precedence(HostFS(str(host)), ["vm.swappiness"])["vm.swappiness"]
    assert precedence["systemd"] == ("20", "/etc/sysctl.d/99-zz.conf")
    assert precedence["procps"] == ("10", "/etc/sysctl.conf")


def test_file_outside_sysctl_d_is_not_read_at_boot(host):
    plan = run(host, settings={"vm.oom_dump_tasks": 1}, path="/tmp/t.conf")
    assert any("not read at boot" in w for w in plan.warnings)


def test_report_only_lists_known_knobs_and_changes_nothing(host):
    plan = run(host, settings=None)
    assert not plan.changed
    assert plan.results["vm.panic_on_oom"]["live_before"] == "0"
    assert plan.results["vm.memcg_qos_enable"]["status"] == "missing"
    assert "live_after" not in plan.results["vm.panic_on_oom"]
