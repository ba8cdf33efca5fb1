# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the systemd_oom module: arguments, results, check mode, diff and errors, with a
fixture host tree and recorded systemctl outputs."""

from __future__ import annotations

import json
import os
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.oomkit.linux.plugins.modules import systemd_oom
from ansible_collections.oomkit.linux.plugins.module_utils import systemd as sd
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostFS

VERSION_252 = "systemd 252 (252.39-1~deb12u2)\n+PAM +AUDIT default-hierarchy=unified\n"
VERSION_219 = "systemd 219\n+PAM +AUDIT +SELINUX +IMA -APPARMOR +SMACK +SYSVINIT\n"
SHOW = """Id=app.service
LoadState=loaded
ActiveState=active
SubState=running
MainPID=77
ControlGroup=/system.slice/app.service
FragmentPath=/etc/systemd/system/app.service
DropInPaths=
NeedDaemonReload=no
OOMScoreAdjust={oom}
MemoryMax={max}
"""
MOUNTINFO_V2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
DROPIN = "/etc/systemd/system/app.service.d/50-oomkit-oom.conf"


class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


def _exit_json(self, **kwargs):
    kwargs.setdefault("changed", False)
    raise ExitJson(kwargs)


def _fail_json(self, **kwargs):
    raise FailJson(kwargs)


class Host(object):
    """A fixture host: systemd 252 (or another) with app.service running on cgroup v2."""

    def __init__(self, root, version=VERSION_252, oom=0, memory_max="max"):
        self.root = str(root)
        self.version = version
        self.state = {"oom": "0", "max": "infinity"}
        self.calls = []
        os.makedirs(os.path.join(self.root, "run/systemd/system"))
        self.write("/proc/self/mountinfo", MOUNTINFO_V2)
        self.write("/proc/77/oom_score_adj", "%d\n" % oom)
        self.write("/proc/77/stat", "77 (app) S 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 999 0 0\n")
        self.write("/proc/77/comm", "app\n")
        self.write("/proc/77/cmdline", "/usr/bin/app\0")
        self.write("/sys/fs/cgroup/cgroup.controllers", "memory pids\n")
        self.write("/sys/fs/cgroup/system.slice/app.service/cgroup.procs", "77\n")
        self.write("/sys/fs/cgroup/system.slice/app.service/memory.max", memory_max + "\n")

    def path(self, host_path):
        return os.path.join(self.root, host_path.lstrip("/"))

    def write(self, host_path, text):
        os.makedirs(os.path.dirname(self.path(host_path)), exist_ok=True)
        with open(self.path(host_path), "w") as handle:
            handle.write(text)

    def read(self, host_path):
        try:
            with open(self.path(host_path)) as handle:
                return handle.read()
        except IOError:
            return None

    def run_command(self, module, args, **kwargs):
        """Behaves like systemd: daemon-reload loads our drop-in and applies MemoryMax to the cgroup."""
        self.calls.append(list(args))
        verb = args[1]
        if verb == "--version":
            return 0, self.version, ""
        if verb == "show":
            if "--value" in args:
                return 0, "/system.slice/app.service\n", ""
            return 0, SHOW.format(**self.state), ""
        if verb == "daemon-reload":
            settings = sd.dropin_assignments(self.read(DROPIN) or "")
            self.state["oom"] = settings.get("OOMScoreAdjust", "0")
            memory = sd.parse_memory(settings.get("MemoryMax", "infinity"))
            self.state["max"] = "infinity" if memory.kind == "infinity" else str(memory.amount)
            self.write("/sys/fs/cgroup/system.slice/app.service/memory.max",
                       "max\n" if memory.kind == "infinity" else "%d\n" % memory.amount)
            return 0, "", ""
        if verb == "restart":
            self.write("/proc/77/oom_score_adj", self.state["oom"] + "\n")
            return 0, "", ""
        return 1, "", "unexpected call %r" % (args,)


@pytest.fixture
def host(tmp_path, monkeypatch):
    fixture = Host(tmp_path)
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail_json)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name)

    def run_command(self, args, **kwargs):
        return fixture.run_command(self, args, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(systemd_oom, "HostFS", lambda root="/": HostFS(fixture.root))
    return fixture


def run_module(args):
    # warn() is captured here: once the controller side of Ansible is imported (the filter tests
    # do), module warnings go to its display instead of the module_utils list
    warnings = []
    with patch_module_args(args), mock.patch.object(basic.AnsibleModule, "warn", lambda self, text: warnings.append(text)):
        with pytest.raises((ExitJson, FailJson)) as info:
            systemd_oom.main()
    result = info.value.args[0]
    result["warnings"] = warnings
    # Everything the module returns must survive JSON (what Ansible does with it).
    json.dumps(result)
    return info.type is FailJson, result


def test_sets_memory_and_score_live(host):
    failed, result = run_module({"name": "app", "memory_max": "512M", "oom_score_adjust": 250, "_ansible_diff": True})
    assert not failed, result
    assert result["changed"] is True
    assert host.read(DROPIN).endswith("[Service]\nOOMScoreAdjust=250\nMemoryMax=512M\n")
    assert host.read("/proc/77/oom_score_adj") == "250\n"
    assert host.read("/sys/fs/cgroup/system.slice/app.service/memory.max") == "536870912\n"
    assert result["effective"]["memory_max"] == {
        "wanted": "512M", "systemd": "536870912", "cgroup": "512M",
        "cgroup_file": "/sys/fs/cgroup/system.slice/app.service/memory.max", "ok": True}
    assert result["effective"]["oom_score_adjust"]["ok"] is True
    assert result["daemon_reloaded"] is True and result["restarted"] is False
    assert result["diff"][0]["before"] == "" and "MemoryMax=512M" in result["diff"][0]["after"]
    assert result["warnings"] == []
    # Every call went through the systemctl found on the PATH.
    assert all(call[0] == "/usr/bin/systemctl" for call in host.calls)


def test_second_run_is_unchanged(host):
    run_module({"name": "app.service", "memory_max": "512M", "oom_score_adjust": 250})
    host.calls[:] = []
    failed, result = run_module({"name": "app.service", "memory_max": 536870912, "oom_score_adjust": 250})
    assert not failed and result["changed"] is False
    assert "diff" not in result
    assert [c[1] for c in host.calls] == ["--version", "show", "show"]


def test_unit_alias_and_type_suffix(host):
    failed, result = run_module({"unit": "app", "memory_max": "64M"})
    assert not failed and result["unit"] == "app.service" and result["dropin"] == DROPIN


def test_check_mode_predicts_and_changes_nothing(host):
    failed, result = run_module({"name": "app", "memory_max": "1G", "_ansible_check_mode": True, "_ansible_diff": True})
    assert not failed and result["changed"] is True
    assert host.read(DROPIN) is None
    assert "daemon-reload" not in [c[1] for c in host.calls]
    assert result["settings"]["memory_max"] == {"directive": "MemoryMax", "before": None, "after": "1G"}
    assert "MemoryMax=1G" in result["diff"][0]["after"]


def test_restart_never_reports_restart_required(host):
    failed, result = run_module({"name": "app", "oom_score_adjust": 600, "live": False, "restart": "never"})
    assert not failed
    assert result["restart_required"] is True and result["restarted"] is False
    assert host.read("/proc/77/oom_score_adj") == "0\n"
    # the main process does not have the value yet: the module says so
    assert result["effective"]["oom_score_adjust"]["ok"] is False
    assert any("runs with oom_score_adj 0" in w and "until the unit restarts" in w for w in result["warnings"])


def test_restart_auto_restarts_when_live_is_off(host):
    failed, result = run_module({"name": "app", "oom_score_adjust": 600, "live": False})
    assert not failed and result["restarted"] is True
    assert ["/usr/bin/systemctl", "restart", "--", "app.service"] in host.calls
    assert host.read("/proc/77/oom_score_adj") == "600\n"


def test_unsupported_fails_with_the_version(host):
    host.version = VERSION_219
    failed, result = run_module({"name": "app", "memory_max": "1G", "oom_policy": "kill"})
    assert failed
    assert "oom_policy (OOMPolicy= needs systemd 243 or later; this host runs systemd 219)" in result["msg"]
    assert "unsupported=skip" in result["msg"]
    assert host.read(DROPIN) is None


def test_unsupported_skip_uses_memory_limit_on_219(host):
    host.version = VERSION_219
    failed, result = run_module({"name": "app", "memory_max": "1G", "oom_policy": "kill", "unsupported": "skip"})
    assert not failed
    assert "MemoryLimit=1G" in host.read(DROPIN) and "OOMPolicy" not in host.read(DROPIN)
    assert result["skipped"] == [{"option": "oom_policy", "directive": "OOMPolicy",
                                  "reason": "OOMPolicy= needs systemd 243 or later; this host runs systemd 219"}]
    assert result["settings"]["memory_max"]["directive"] == "MemoryLimit"


@pytest.mark.parametrize("args, message", [
    ({"name": "app", "memory_max": "lots"}, "cannot read 'lots' as a size"),
    ({"name": "app", "oom_score_adjust": 5000}, "out of range -1000..1000"),
    ({"name": "multi-user.target", "memory_max": "1G"}, "no processes or control group"),
    ({"name": "app", "dropin_name": "../x.conf", "memory_max": "1G"}, "plain file name"),
    ({"name": "app", "state": "absent", "memory_max": "1G"}, "give no settings"),
    ({"name": "app"}, "at least one setting"),
    ({"name": "user.slice", "oom_score_adjust": -100}, "not valid in a .slice unit"),
    ({"name": "app", "managed_oom_memory_pressure_limit": "90"}, "percentage"),
    ({"name": "app", "oom_policy": "sometimes"}, "value of oom_policy must be one of"),
])
def test_bad_input_is_a_clear_error_and_changes_nothing(host, args, message):
    failed, result = run_module(args)
    assert failed and message in result["msg"]
    assert host.read(DROPIN) is None
    assert "daemon-reload" not in [c[1] for c in host.calls]


def test_absent_restores_the_unit(host):
    run_module({"name": "app", "memory_max": "512M", "oom_score_adjust": 250})
    failed, result = run_module({"name": "app", "state": "absent"})
    assert not failed and result["changed"] is True
    assert host.read(DROPIN) is None
    assert host.read("/sys/fs/cgroup/system.slice/app.service/memory.max") == "max\n"
    assert host.read("/proc/77/oom_score_adj") == "0\n"
    failed, result = run_module({"name": "app", "state": "absent"})
    assert not failed and result["changed"] is False


def test_no_systemctl_is_a_clear_error(host, monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: None)
    failed, result = run_module({"name": "app", "memory_max": "1G"})
    assert failed and "not managed by systemd" in result["msg"]


def fail_systemctl(host, monkeypatch, verb, stderr):
    """Make ``systemctl VERB`` fail with ``stderr``; every other command runs on the fake host."""
    original = host.run_command

    def run_command(self, args, **kwargs):
        if args[1] == verb:
            return 1, "", stderr
        return original(self, args, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)


def test_failed_reload_is_reported(host, monkeypatch):
    fail_systemctl(host, monkeypatch, "daemon-reload", "Failed to reload daemon: Access denied")
    failed, result = run_module({"name": "app", "memory_max": "1G"})
    assert failed and "Access denied" in result["msg"]
    # a failed run leaves the host as it was
    assert "the previous drop-in %s was restored" % DROPIN in result["msg"]
    assert host.read(DROPIN) is None
    assert not os.path.isdir(host.path(os.path.dirname(DROPIN)))


def test_failed_reload_restores_the_previous_dropin(host, monkeypatch):
    run_module({"name": "app", "memory_max": "512M"})
    before = host.read(DROPIN)
    fail_systemctl(host, monkeypatch, "daemon-reload", "Failed to reload daemon: Access denied")
    failed, result = run_module({"name": "app", "memory_max": "1G"})
    assert failed and host.read(DROPIN) == before


def test_failed_restart_says_the_dropin_is_in_place(host, monkeypatch):
    fail_systemctl(host, monkeypatch, "restart",
                   "Job for app.service failed because the control process exited with error code.")
    failed, result = run_module({"name": "app", "oom_score_adjust": 300, "live": False})
    assert failed and "control process exited" in result["msg"] and "is in place" in result["msg"]
    assert "OOMScoreAdjust=300" in host.read(DROPIN)


def test_argument_spec_matches_the_settings_table():
    spec = systemd_oom.argument_spec()
    for setting in sd.SETTINGS:
        assert setting.option in spec, setting.option


def test_a_failed_live_write_restores_the_dropin_and_reloads_again(host, monkeypatch):
    """One transaction: drop-in, daemon-reload, live writes. A live write that fails (not a refusal)
    undoes the run: the drop-in is restored and systemd reloads it again."""
    import errno
    from ansible_collections.oomkit.linux.plugins.module_utils import processes

    def broken(fs_, proc, interface, raw_value):
        raise sd.HostError("writing %d to /proc/%d/oom_score_adj failed: Input/output error" % (raw_value, proc.pid),
                           errno_value=errno.EIO)

    monkeypatch.setattr(processes, "_write_checked", broken)
    failed, result = run_module({"name": "app", "memory_max": "512M", "oom_score_adjust": 250})
    assert failed and "Input/output error" in result["msg"]
    assert "rolled back the changes already made to: %s, daemon-reload again" % DROPIN in result["msg"]
    assert host.read(DROPIN) is None and not os.path.isdir(host.path(os.path.dirname(DROPIN)))
    assert [c[1] for c in host.calls].count("daemon-reload") == 2
    assert host.read("/sys/fs/cgroup/system.slice/app.service/memory.max") == "max\n"


def test_the_diff_shows_the_dropin_and_the_labelled_live_change(host):
    failed, result = run_module({"name": "app", "oom_score_adjust": 250, "_ansible_diff": True})
    assert not failed
    dropin, live = result["diff"]
    assert dropin["after_header"] == DROPIN
    assert live == {"before_header": "live oom_score_adj of app.service", "after_header": "live oom_score_adj of app.service",
                    "before": "pid 77 (app): 0\n", "after": "pid 77 (app): 250\n"}


# ---- the units form: several units in one module run ---------------------------------------------------------

def test_units_form_runs_the_module_once_for_the_unit_list(host):
    failed, result = run_module({"units": [{"name": "app", "oom_score_adjust": "250", "memory_max": "512M"}],
                                 "restart": "never", "_ansible_diff": True})
    assert not failed, result
    assert result["changed"] is True and result["daemon_reloaded"] is True
    (unit,) = result["units"]
    assert unit["unit"] == "app.service" and unit["live"][0]["status"] == "changed"
    assert "warnings" not in unit and result["warnings"] == []
    assert host.read(DROPIN).endswith("[Service]\nOOMScoreAdjust=250\nMemoryMax=512M\n")
    assert host.read("/proc/77/oom_score_adj") == "250\n"
    assert [c[1] for c in host.calls] == ["--version", "show", "daemon-reload", "show"]
    assert "MemoryMax=512M" in result["diff"][0]["after"]
    # the second run: nothing to change, no reload, no diff
    host.calls[:] = []
    failed, again = run_module({"units": [{"name": "app", "oom_score_adjust": 250, "memory_max": "512M"}]})
    assert not failed and again["changed"] is False and "diff" not in again
    assert [c[1] for c in host.calls] == ["--version", "show", "show"]


@pytest.mark.parametrize("args, message", [
    ({"name": "app", "units": [{"name": "app", "memory_max": "1G"}]}, "mutually exclusive: name|units"),
    ({"memory_max": "1G"}, "one of the following is required: name, units"),
    ({"units": [{"name": "app"}], "memory_max": "1G"}, "give no memory_max beside it"),
    ({"units": [{"name": "app", "memory_max": "1 GB"}]}, "memory_max"),
    ({"units": [{"name": "app", "oom_score_adjust": -2000}]}, "oom_score_adjust"),
])
def test_units_form_bad_input_is_a_clear_error_and_changes_nothing(host, args, message):
    failed, result = run_module(args)
    assert failed and message in result["msg"], result
    assert host.read(DROPIN) is None
    assert "daemon-reload" not in [c[1] for c in host.calls]
