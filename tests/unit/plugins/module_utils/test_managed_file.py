# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of files we rewrite (issue 13, rows 1, 11-15, 18): sysctl.d text as its real
parsers read it, foreign bytes kept, symlinks written through, the read-modify-write locked,
backups never overwritten. Real files, real links, real concurrent processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils import sysctl
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError, HostFS
from ansible_collections.oomkit.linux.plugins.module_utils.reconcile import ManagedFile
from ansible_collections.oomkit.linux.plugins.module_utils.sysctl import SysctlError, SysctlRun

OURS = "/etc/sysctl.d/90-oomkit-oom.conf"


@pytest.fixture
def host(tmp_path):
    """/proc/sys of a 5.10 kernel with the OOM keys, empty sysctl.d directories."""
    values = {"vm/panic_on_oom": "0", "vm/oom_dump_tasks": "1", "vm/oom_kill_allocating_task": "0",
              "vm/overcommit_memory": "0", "vm/overcommit_ratio": "50", "vm/swappiness": "60",
              "vm/min_free_kbytes": "67584", "vm/admin_reserve_kbytes": "8192", "kernel/panic": "0",
              "vm/vfs_cache_pressure": "100", "vm/watermark_scale_factor": "10",
              "kernel/osrelease": "5.10.0-136.12.0.86.oe2203sp1.x86_64"}
    for key, value in values.items():
        path = tmp_path / "proc/sys" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
    (tmp_path / "proc/meminfo").write_text("MemTotal:       16303552 kB\n")
    for directory in ("etc/sysctl.d", "usr/lib/sysctl.d", "run/sysctl.d"):
        (tmp_path / directory).mkdir(parents=True)
    return tmp_path


def apply(root, settings, path=OURS, **kwargs):
    run = SysctlRun(HostFS(str(root)), settings=settings, runtime=False, path=path, **kwargs).plan()
    run.commit()
    return run


def active_lines(data):
    """What procps' sysctl -p reads from a file: lines split on \\n, comments skipped."""
    result = []
    for line in data.split(b"\n"):
        stripped = line.strip(b" \t\r\v\f")
        if stripped and stripped[:1] not in (b"#", b";"):
            result.append(stripped)
    return result


# --- row 1: lines end at \n only ----------------------------------------------------------------

@pytest.mark.parametrize("separator", ["\f", "\u2028", "\x1c", "\x85", "\v", "\u2029"])
def test_a_foreign_comment_with_a_line_separator_stays_one_comment(host, separator):
    foreign = "# tuned by hand%svm.panic_on_oom = 1\n# also%skernel.panic = -1\n" % (separator, separator)
    (host / OURS.lstrip("/")).write_bytes(foreign.encode("utf-8"))
    run = apply(host, {"vm.oom_dump_tasks": 1})
    data = (host / OURS.lstrip("/")).read_bytes()
    assert data.startswith(foreign.encode("utf-8"))  # byte for byte
    assert active_lines(data) == [b"vm.oom_dump_tasks = 1"]
    assert run.results["vm.oom_dump_tasks"]["persisted_after"] == "1"
    assert "vm.panic_on_oom" not in sysctl.read_file_values(data.decode("utf-8"))


def test_only_newline_splits_lines():
    assert sysctl.split_lines("a\fb\u2028c\nd\n") == ["a\fb\u2028c", "d"]
    assert [name for _i, name, _v in sysctl.parse_assignments("# x\u2028vm.panic_on_oom = 1\nvm.swappiness=5\n")] == [
        "vm.swappiness"]


# --- row 13: foreign bytes are kept ---------------------------------------------------------------

def test_latin1_bytes_in_a_foreign_comment_are_kept_exactly(host):
    foreign = b"# r\xe9glage de la m\xe9moire (Latin-1)\nvm.swappiness = 10\n"
    (host / OURS.lstrip("/")).write_bytes(foreign)
    run = apply(host, {"vm.oom_dump_tasks": 1}, backup=False)
    data = (host / OURS.lstrip("/")).read_bytes()
    assert data == foreign + b"vm.oom_dump_tasks = 1\n"
    assert b"\xef\xbf\xbd" not in data  # no U+FFFD written
    # what Ansible is shown is valid text
    diff = run.transaction.diffs()[0]
    diff["after"].encode("utf-8")
    assert "\ufffd" in diff["after"]


# --- row 12: a symlink stays a symlink --------------------------------------------------------------

def test_a_symlinked_sysctl_file_is_written_through_like_debian_99_sysctl_conf(host):
    (host / "etc/sysctl.conf").write_text("# the admin's file\nkernel.panic = 0\n")
    link = host / "etc/sysctl.d/99-sysctl.conf"
    link.symlink_to("../sysctl.conf")
    apply(host, {"vm.oom_dump_tasks": 1}, path="/etc/sysctl.d/99-sysctl.conf")
    assert link.is_symlink() and os.readlink(str(link)) == "../sysctl.conf"
    assert (host / "etc/sysctl.conf").read_text() == "# the admin's file\nkernel.panic = 0\nvm.oom_dump_tasks = 1\n"
    # a later edit of the real file is what the link shows
    with open(str(host / "etc/sysctl.conf"), "a") as handle:
        handle.write("vm.swappiness = 10\n")
    assert "vm.swappiness = 10" in link.read_text()


def test_an_absolute_symlink_is_resolved_below_the_root(host):
    (host / "etc/oom").mkdir()
    (host / "etc/oom/real.conf").write_text("vm.swappiness = 10\n")
    (host / "etc/sysctl.d/50-oom.conf").symlink_to("/etc/oom/real.conf")
    apply(host, {"vm.oom_dump_tasks": 1}, path="/etc/sysctl.d/50-oom.conf")
    assert (host / "etc/oom/real.conf").read_text() == "vm.swappiness = 10\nvm.oom_dump_tasks = 1\n"
    assert (host / "etc/sysctl.d/50-oom.conf").is_symlink()


def test_a_managed_file_that_is_a_fifo_is_refused_without_blocking(host, deadline):
    os.mkfifo(str(host / OURS.lstrip("/")))
    with pytest.raises(HostError, match="not a regular file .a FIFO."):
        apply(host, {"vm.oom_dump_tasks": 1})


def test_a_managed_file_linked_to_dev_zero_is_refused(host, deadline):
    (host / OURS.lstrip("/")).symlink_to("/dev/zero")
    fs = HostFS("/")
    with pytest.raises(HostError, match="not a regular file .a character device."):
        ManagedFile(fs, str(host / OURS.lstrip("/")))


def test_a_huge_managed_file_is_refused(host, deadline):
    with open(str(host / OURS.lstrip("/")), "wb") as handle:
        handle.truncate(2 * 1024 * 1024)
    with pytest.raises(HostError, match="larger than 1048576 bytes"):
        apply(host, {"vm.oom_dump_tasks": 1})


# --- row 15: backups are unique ---------------------------------------------------------------------

def test_two_backups_in_the_same_second_are_both_kept(host):
    path = host / OURS.lstrip("/")
    path.write_text("# original\nvm.swappiness = 10\n")
    first = apply(host, {"vm.oom_dump_tasks": 1}, backup=True)
    second = apply(host, {"vm.oom_dump_tasks": 0}, backup=True)
    assert first.our_file.backup_file != second.our_file.backup_file
    assert (host / first.our_file.backup_file.lstrip("/")).read_text() == "# original\nvm.swappiness = 10\n"
    assert (host / second.our_file.backup_file.lstrip("/")).read_text() == (
        "# original\nvm.swappiness = 10\nvm.oom_dump_tasks = 1\n")


def test_backups_with_one_stamp_get_a_counter(tmp_path):
    fs = HostFS(str(tmp_path))
    (tmp_path / "f.conf").write_text("one\n")
    first = fs.backup("/f.conf", "stamp")
    (tmp_path / "f.conf").write_text("two\n")
    second = fs.backup("/f.conf", "stamp")
    assert (first, second) == ("/f.conf.stamp~", "/f.conf.stamp.1~")
    assert (tmp_path / "f.conf.stamp~").read_text() == "one\n"
    assert (tmp_path / "f.conf.stamp.1~").read_text() == "two\n"


# --- row 14: concurrent runs each keep their key ----------------------------------------------------

_CHILD = r"""
import os, sys, time
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostFS
from ansible_collections.oomkit.linux.plugins.module_utils.sysctl import SysctlRun
root, key, value, gate = sys.argv[1:5]
run = SysctlRun(HostFS(root), settings={key: value}, runtime=False,
                path="/etc/sysctl.d/90-oomkit-oom.conf").plan()
open(gate + "." + str(os.getpid()), "w").close()
# every run has read the file before any of them writes: the worst interleaving
while len([n for n in os.listdir(os.path.dirname(gate)) if n.startswith(os.path.basename(gate) + ".")]) < 10:
    time.sleep(0.005)
run.commit()
print(run.changed)
"""

CONCURRENT_KEYS = [("vm.panic_on_oom", "0"), ("vm.oom_dump_tasks", "1"), ("vm.oom_kill_allocating_task", "0"),
                   ("vm.overcommit_memory", "1"), ("vm.overcommit_ratio", "60"), ("vm.swappiness", "10"),
                   ("vm.min_free_kbytes", "70000"), ("vm.admin_reserve_kbytes", "9000"), ("kernel.panic", "10"),
                   ("vm.vfs_cache_pressure", "90")]


def test_ten_concurrent_runs_into_one_file_all_keep_their_key(host, tmp_path_factory):
    gates = tmp_path_factory.mktemp("gates")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    children = [subprocess.Popen([sys.executable, "-c", _CHILD, str(host), key, value, str(gates / "planned")],
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for key, value in CONCURRENT_KEYS]
    outputs = [child.communicate(timeout=120) for child in children]
    assert [child.returncode for child in children] == [0] * 10, [err for _out, err in outputs]
    assert [out.strip() for out, _err in outputs] == [b"True"] * 10
    values = sysctl.read_file_values((host / OURS.lstrip("/")).read_text())
    assert values == dict(CONCURRENT_KEYS)
    assert not [n for n in os.listdir(str(host / "etc/sysctl.d")) if n.endswith(".lock")]


def test_the_lock_excludes_a_second_holder(tmp_path):
    fs = HostFS(str(tmp_path))
    (tmp_path / "f.conf").write_text("")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    child_code = ("import sys, time\nfrom ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostFS\n"
                  "with HostFS(sys.argv[1]).lock('/f.conf'):\n    print(time.time(), flush=True)\n")
    with fs.lock("/f.conf"):
        child = subprocess.Popen([sys.executable, "-c", child_code, str(tmp_path)], env=env, stdout=subprocess.PIPE)
        time.sleep(0.5)
        released = time.time()
    out, _err = child.communicate(timeout=60)
    assert float(out.strip()) >= released


# --- rows 11 and 18: bounds and write-only keys ------------------------------------------------------

@pytest.mark.parametrize("settings, expected", [
    ({"vm.swappiness": "9" * 4000}, r"vm.swappiness: a number of 4000 digits is out of range"),
    ({"vm.swappiness": "9" * 5000}, r"settings: vm.swappiness: 5000 bytes long; at most 4095"),
    ({"vm.overcommit_kbytes": "1" + "0" * 20}, r"a number of 21 digits is out of range"),
    ({"vm.overcommit_kbytes": str(2 ** 64)}, r"out of range; allowed: 0..18446744073709551615"),
    ({"kernel.panic": str(2 ** 31)}, r"kernel.panic: 2147483648 is out of range; allowed: -2147483648..2147483647"),
    ({"vm.swap\0piness": 1}, r"settings: key .* contains a NUL byte"),
    ({"vm.swappiness\nkernel.panic": 1}, r"contains a newline \('\\n'\)"),
    ({"vm.swappiness": "1\0"}, r"settings: vm.swappiness: contains a NUL byte"),
    ({"net.core.somaxconn": "x" * 5000}, r"at most 4095 are accepted"),
    ({"vm.swappiness": "1\u20282"}, r"Unicode line separator"),
])
def test_numbers_and_text_beyond_their_bounds_name_the_option(host, settings, expected):
    with pytest.raises(SysctlError, match=expected):
        apply(host, settings)
    assert not (host / OURS.lstrip("/")).exists()


@pytest.mark.parametrize("path, expected", [
    ("", r"sysctl_file: an empty path"),
    ("/etc/sysctl.d/a\0b.conf", r"sysctl_file: contains a NUL byte"),
    ("etc/x.conf", r"sysctl_file: 'etc/x.conf' is not an absolute path"),
    ("/etc/" + "a" * 5000, r"sysctl_file: 5005 bytes long; at most 4095"),
])
def test_bad_sysctl_file_is_refused_naming_the_option(host, path, expected):
    with pytest.raises(SysctlError, match=expected):
        apply(host, {"vm.oom_dump_tasks": 1}, path=path)


def test_a_write_only_key_is_refused_as_an_action_not_a_missing_key(tmp_path):
    # the real kernel's vm.drop_caches (mode 0200: even root cannot read it); check mode writes nothing
    run = SysctlRun(HostFS("/"), settings={"vm.drop_caches": 3}, path=str(tmp_path / "x.conf"), check_mode=True)
    with pytest.raises(SysctlError) as err:
        run.plan()
    assert "write-only" in str(err.value) and "does not exist" not in str(err.value)
    assert not (tmp_path / "x.conf").exists()


def test_a_file_changed_between_plan_and_write_is_edited_again_not_overwritten(host):
    path = host / OURS.lstrip("/")
    path.write_text("vm.swappiness = 10\n")
    run = SysctlRun(HostFS(str(host)), settings={"vm.oom_dump_tasks": 1}, runtime=False, path=OURS).plan()
    with open(str(path), "a") as handle:
        handle.write("kernel.panic = 10\n")  # another run, or an admin, between our read and our write
    run.commit()
    assert sysctl.read_file_values(path.read_text()) == {"vm.swappiness": "10", "kernel.panic": "10",
                                                         "vm.oom_dump_tasks": "1"}


def test_a_fixed_text_plan_refuses_to_overwrite_a_concurrent_change(tmp_path):
    fs = HostFS(str(tmp_path))
    (tmp_path / "f.conf").write_text("one\n")
    managed = ManagedFile(fs, "/f.conf")
    managed.plan("two\n")
    (tmp_path / "f.conf").write_text("someone else\n")
    with pytest.raises(HostError, match="changed by someone else"):
        managed.write()
    assert (tmp_path / "f.conf").read_text() == "someone else\n"
