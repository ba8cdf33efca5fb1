# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One way to run systemctl: "--" before unit names, names checked by systemd's rule (issue 13 row 10)."""

from __future__ import annotations

import os
import re

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils import host_info, processes, systemctl, systemd
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostFS

PLUGINS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins")


@pytest.mark.parametrize("name", ["sshd.service", "getty@tty1.service", "worker@.service", "user-1000.slice",
                                  "-.slice", "-.mount", "dev-sda1.swap", "a:b_c\\x2d.service", "x" * 247 + ".service",
                                  "multi-user.target"])
def test_names_systemd_accepts(name):
    assert systemctl.unit_name_is_valid(name)


@pytest.mark.parametrize("name", ["-Hevil.example.com.service", "--host=x.service", "-H", "", ".service", "@x.service",
                                  "a b.service", "a/b.service", "x.unknown", "sshd", "x" * 248 + ".service",
                                  "a\nb.service", "a\x00.service", "ünï.service", None, 5])
def test_names_refused(name):
    assert not systemctl.unit_name_is_valid(name)
    with pytest.raises(systemctl.SystemctlError):
        systemctl.check_unit_name(name)


def test_the_command_line_always_has_the_separator():
    assert systemctl.command("restart", ["sshd.service"]) == ["systemctl", "restart", "--", "sshd.service"]
    assert systemctl.command("show", ["a.service", "b.slice"], ["-p", "Id"]) == \
        ["systemctl", "show", "-p", "Id", "--", "a.service", "b.slice"]
    assert systemctl.command("daemon-reload") == ["systemctl", "daemon-reload"]
    with pytest.raises(systemctl.SystemctlError, match="not a valid systemd unit name"):
        systemctl.command("show", ["-Hroot@elsewhere.service"])


def test_a_name_that_reads_as_an_option_never_reaches_systemctl(tmp_path):
    calls = []

    def runner(argv):
        calls.append(argv)
        return 0, "", ""

    evil = "-Hroot@elsewhere.service"
    with pytest.raises(systemd.SystemdError, match="not a valid systemd unit name"):
        systemd.normalize_unit_name(evil)
    with pytest.raises(systemd.SystemdError, match="not a valid systemd unit name"):
        systemd.run_systemctl(runner, "restart", evil)
    with pytest.raises(processes.SelectorError, match="not a valid systemd unit name"):
        processes.select_processes(HostFS(str(tmp_path)), {"unit": evil}, run_command=runner)
    with pytest.raises(host_info.HostInfoError, match="not a valid systemd unit name"):
        host_info.validate({"units": [evil]})
    assert calls == []


def test_the_runner_environment_and_a_real_systemctl():
    """systemctl of this machine, through the one runner: C locale, no pager, "--" accepted."""
    if not os.path.exists("/usr/bin/systemctl") and not os.path.exists("/bin/systemctl"):
        pytest.skip("no systemctl here")
    rc, out, err = systemctl.subprocess_runner(systemctl.command("show", ["-.slice"], ["-p", "Id"]))
    # with systemd as PID 1 it answers; without it (this test bed), it says so, in English
    assert (rc == 0 and out.strip() == "Id=-.slice") or "systemd" in (err + out)
    rc, out, _err = systemctl.subprocess_runner(["systemctl", "--version"])
    assert rc == 0 and re.match(r"systemd \d+", out)


def test_no_other_module_builds_a_systemctl_command_or_its_environment():
    offenders = []
    for directory, _dirs, files in os.walk(PLUGINS):
        for name in files:
            if not name.endswith(".py") or name == "systemctl.py":
                continue
            with open(os.path.join(directory, name)) as handle:
                code = handle.read()
            for match in re.finditer(r'\["systemctl", "([^"]+)"', code):
                if match.group(1) != "--version":
                    offenders.append((name, match.group(0)))
            if "SYSTEMD_PAGER" in code:
                offenders.append((name, "SYSTEMD_PAGER"))
    assert offenders == []
    assert processes.default_run_command is systemctl.subprocess_runner
    assert systemd.module_runner is systemctl.module_runner
