# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files read as root that someone else may have written (issue 13, rows 2 and 9): pidfiles
and oom_facts state files. Real FIFOs, real links to /etc/shadow and /dev/zero, real
directories owned by nobody; each case must fail naming the rule, quickly, without quoting
the file."""

from __future__ import annotations

import json
import os
import pwd
import subprocess

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils import processes as P
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostFS, TrustError
from ansible_collections.oomkit.linux.plugins.module_utils.oom_sources import load_state, save_state

NOBODY = pwd.getpwnam("nobody").pw_uid if os.geteuid() == 0 else None
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")


@pytest.fixture
def service_dir(tmp_path):
    """A directory a service user (nobody) owns, as /run/postgresql is postgres's."""
    directory = tmp_path / "run-service"
    directory.mkdir()
    os.chmod(str(directory), 0o755)
    if NOBODY is not None:
        os.chown(str(directory), NOBODY, NOBODY)
    return directory


def select(pidfile):
    return [p.pid for p in P.select_processes(HostFS("/"), {"pidfile": str(pidfile)})]


def nobody_wrote(path, content):
    path.write_text(content)
    os.chown(str(path), NOBODY, NOBODY)


# --- pidfiles --------------------------------------------------------------------------------------

@needs_root
def test_a_service_users_pidfile_cannot_name_pid_1(service_dir, deadline):
    nobody_wrote(service_dir / "x.pid", "1\n")
    with pytest.raises(TrustError, match=r"belongs to uid %d but names PID 1, a process of uid 0" % NOBODY):
        select(service_dir / "x.pid")


@needs_root
def test_a_service_users_pidfile_selects_that_users_process(service_dir, deadline):
    child = subprocess.Popen(["sleep", "300"], preexec_fn=lambda: os.setuid(NOBODY))  # pylint: disable=subprocess-popen-preexec-fn
    try:
        nobody_wrote(service_dir / "x.pid", "%d\n" % child.pid)
        assert select(service_dir / "x.pid") == [child.pid]
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize("target", ["/etc/shadow", "/dev/zero"])
def test_a_pidfile_that_is_a_symlink_is_refused_without_reading_it(tmp_path, target, deadline):
    (tmp_path / "x.pid").symlink_to(target)
    with pytest.raises(TrustError) as err:
        select(tmp_path / "x.pid")
    assert "is a symbolic link; pidfiles are read without following links" in str(err.value)
    if target == "/etc/shadow":
        with open("/etc/shadow") as handle:
            first = handle.read(8)
        assert first not in str(err.value)


def test_a_pidfile_that_is_a_fifo_fails_at_once(tmp_path, deadline):
    os.mkfifo(str(tmp_path / "x.pid"))
    with pytest.raises(TrustError, match=r"not a regular file \(a FIFO\); a pidfile must be a regular file"):
        select(tmp_path / "x.pid")


def test_a_huge_pidfile_is_not_read(tmp_path, deadline):
    with open(str(tmp_path / "x.pid"), "wb") as handle:
        handle.truncate(10 * 1024 * 1024)
    with pytest.raises(TrustError, match=r"larger than 4096 bytes"):
        select(tmp_path / "x.pid")


def test_garbage_in_a_pidfile_is_not_quoted(tmp_path, deadline):
    (tmp_path / "x.pid").write_text("root:$6$secret-hash:19000:0:99999:7:::\n")
    with pytest.raises(P.SelectorError) as err:
        select(tmp_path / "x.pid")
    assert "secret" not in str(err.value) and "does not start with a process ID" in str(err.value)


def test_a_pidfile_in_a_world_writable_directory_is_refused(tmp_path, deadline):
    directory = tmp_path / "open"
    directory.mkdir()
    os.chmod(str(directory), 0o777)
    (directory / "x.pid").write_text("%d\n" % os.getpid())
    with pytest.raises(TrustError, match=r"which everyone can write \(and not sticky\)"):
        select(directory / "x.pid")


def test_a_root_pidfile_in_a_sticky_directory_is_accepted(tmp_path, sleeping_process, deadline):
    directory = tmp_path / "sticky"
    directory.mkdir()
    os.chmod(str(directory), 0o1777)
    process, _marker = sleeping_process
    (directory / "x.pid").write_text("%d\n" % process.pid)
    assert select(directory / "x.pid") == [process.pid]


@needs_root
def test_a_root_pidfile_in_a_directory_another_user_owns_is_refused(service_dir, sleeping_process, deadline):
    process, _marker = sleeping_process
    (service_dir / "x.pid").write_text("%d\n" % process.pid)  # root's file, but nobody can replace it
    with pytest.raises(TrustError, match=r"a directory owned by uid %d" % NOBODY):
        select(service_dir / "x.pid")


# --- state files -----------------------------------------------------------------------------------

def state(seq):
    return {"version": 1, "files": {}, "kmsg": {"seq": seq}}


@needs_root
def test_a_state_file_written_by_another_user_is_refused(tmp_path, deadline):
    directory = tmp_path / "shared"
    directory.mkdir()
    os.chmod(str(directory), 0o1777)  # /tmp-like: sticky, everyone may create files
    path = directory / "oom.state"
    nobody_wrote(path, json.dumps(state(10 ** 18)))
    with pytest.raises(TrustError, match=r"belongs to uid %d; a state file must belong to uid 0" % NOBODY):
        load_state(str(path))


def test_a_state_file_in_a_world_writable_directory_is_refused(tmp_path, deadline):
    directory = tmp_path / "open"
    directory.mkdir()
    os.chmod(str(directory), 0o777)
    path = directory / "oom.state"
    path.write_text(json.dumps(state(10 ** 18)))
    with pytest.raises(TrustError, match=r"everyone can write"):
        load_state(str(path))
    with pytest.raises(TrustError, match=r"everyone can write"):
        save_state(str(path), state(5))


@pytest.mark.parametrize("target", ["/dev/zero", "/etc/shadow"])
def test_a_state_file_linked_elsewhere_is_refused(tmp_path, target, deadline):
    (tmp_path / "oom.state").symlink_to(target)
    with pytest.raises(TrustError, match=r"is a symbolic link"):
        load_state(str(tmp_path / "oom.state"))


def test_a_state_file_that_is_a_fifo_fails_at_once(tmp_path, deadline):
    os.mkfifo(str(tmp_path / "oom.state"))
    with pytest.raises(TrustError, match=r"a FIFO"):
        load_state(str(tmp_path / "oom.state"))


def test_a_state_file_round_trips_in_a_private_directory(tmp_path):
    save_state(str(tmp_path / "d" / "oom.state"), state(7))
    assert load_state(str(tmp_path / "d" / "oom.state"))["kmsg"] == {"seq": 7}
    assert os.stat(str(tmp_path / "d" / "oom.state")).st_mode & 0o777 == 0o600
