# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for module_utils/systemd.py: names, values, version gating, drop-ins, show parsing,
override detection and the whole run against a fixture tree with recorded systemctl outputs."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.oomkit.linux.plugins.module_utils import systemd as sd
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostFS

# Recorded outputs (systemd 252 in the test bed's Debian 12 container, EulerOS 2.0 SP5's 219,
# openEuler 22.03's 249).
VERSION_252 = ("systemd 252 (252.39-1~deb12u2)\n+PAM +AUDIT +SELINUX +APPARMOR +IMA +SMACK +SECCOMP +GCRYPT -GNUTLS "
               "+OPENSSL +ACL +BLKID +CURL +ELFUTILS +FIDO2 +IDN2 -IDN +IPTC +KMOD default-hierarchy=unified\n")
VERSION_219 = "systemd 219\n+PAM +AUDIT +SELINUX +IMA -APPARMOR +SMACK +SYSVINIT +UTMP +LIBCRYPTSETUP +GCRYPT\n"
VERSION_249 = "systemd 249 (249-56.oe2203sp2)\n+PAM +AUDIT +SELINUX -APPARMOR +IMA default-hierarchy=legacy\n"

SHOW_252_BEFORE = """Id=probe.service
LoadState=loaded
ActiveState=active
SubState=running
MainPID=55
ControlGroup=/system.slice/probe.service
FragmentPath=/etc/systemd/system/probe.service
DropInPaths=
NeedDaemonReload=no
OOMScoreAdjust=0
MemoryMax=infinity
"""

SHOW_252_AFTER = """Id=probe.service
LoadState=loaded
ActiveState=active
SubState=running
MainPID=55
ControlGroup=/system.slice/probe.service
FragmentPath=/etc/systemd/system/probe.service
DropInPaths=/etc/systemd/system/probe.service.d/50-oomkit-oom.conf
NeedDaemonReload=no
OOMScoreAdjust=-900
MemoryMax=536870912
"""

MOUNTINFO_HYBRID = """93 82 0:51 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755
97 93 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory
102 93 0:37 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime - cgroup systemd rw,name=systemd
50 93 0:38 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw
"""
MOUNTINFO_V2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"


class Systemctl(object):
    """A runner that answers systemctl calls from recorded outputs and records every call."""

    def __init__(self, version=VERSION_252, shows=None, fail=None):
        self.version = version
        self.shows = list(shows or [])
        self.fail = fail or {}
        self.calls = []

    def __call__(self, argv):
        self.calls.append(list(argv))
        verb = argv[1]
        if verb in self.fail:
            return self.fail[verb]
        if verb == "--version":
            return 0, self.version, ""
        if verb == "show":
            if "--value" in argv:  # processes.unit_control_group
                return 0, sd.parse_show(self.shows[0]).get("ControlGroup", "") + "\n", ""
            text = self.shows.pop(0) if len(self.shows) > 1 else self.shows[0]
            return 0, text, ""
        return 0, "", ""

    def verbs(self):
        return [c[1] for c in self.calls]


def write(root, path, text):
    real = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(real), exist_ok=True)
    with open(real, "w") as handle:
        handle.write(text)
    return real


def read(root, path):
    real = os.path.join(str(root), path.lstrip("/"))
    if not os.path.exists(real):
        return None
    with open(real) as handle:
        return handle.read()


def booted_tree(tmp_path, pid=55, oom=0, mountinfo=MOUNTINFO_HYBRID, limit="9223372036854771712"):
    """A host with systemd running and probe.service's main process in a v1 memory cgroup."""
    os.makedirs(str(tmp_path / "run/systemd/system"))
    write(tmp_path, "/proc/self/mountinfo", mountinfo)
    write(tmp_path, "/proc/%d/oom_score_adj" % pid, "%d\n" % oom)
    write(tmp_path, "/proc/%d/stat" % pid, "%d (sleep) S 1 %d %d 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 4242 0 0\n" % (pid, pid, pid))
    write(tmp_path, "/proc/%d/comm" % pid, "sleep\n")
    write(tmp_path, "/proc/%d/cmdline" % pid, "/bin/sleep\0infinity\0")
    write(tmp_path, "/sys/fs/cgroup/memory/system.slice/probe.service/memory.limit_in_bytes", limit + "\n")
    write(tmp_path, "/sys/fs/cgroup/unified/system.slice/probe.service/cgroup.procs", "%d\n" % pid)
    return HostFS(str(tmp_path))


def params(**kwargs):
    base = dict(name="probe", state="present", dropin_name="50-oomkit-oom.conf", exclusive=False, live=True,
                restart="auto", unsupported="fail", backup=False)
    base.update(kwargs)
    return base


# ---- names ----------------------------------------------------------------------------------

@pytest.mark.parametrize("given_name, expected", [
    ("sshd", "sshd.service"),
    ("ssh.service", "ssh.service"),
    ("user.slice", "user.slice"),
    ("session-4.scope", "session-4.scope"),
    ("getty@tty1", "getty@tty1.service"),
    ("worker@.service", "worker@.service"),
    ("dev-sda1.swap", "dev-sda1.swap"),
    ("systemd-journald", "systemd-journald.service"),
])
def test_unit_names_are_completed(given_name, expected):
    assert sd.normalize_unit_name(given_name) == expected


@pytest.mark.parametrize("bad", ["", "../etc/passwd", "a/b.service", "x y.service", "@.service", ".service"])
def test_bad_unit_names_are_refused(bad):
    with pytest.raises(sd.SystemdError, match="not a valid systemd unit name|must be a unit name"):
        sd.normalize_unit_name(bad)


@pytest.mark.parametrize("unit", ["multi-user.target", "fstrim.timer", "dev-sda.device", "x.path"])
def test_units_without_cgroup_are_refused(unit):
    with pytest.raises(sd.SystemdError, match="no processes or control group"):
        sd.normalize_unit_name(unit)


def test_sections_follow_the_unit_type():
    assert sd.unit_section("a.service") == "Service"
    assert sd.unit_section("a.slice") == "Slice"
    assert sd.unit_section("a.scope") == "Scope"
    assert sd.unit_section("a.socket") == "Socket"
    assert sd.is_template("a@.service") and not sd.is_template("a@b.service")


@pytest.mark.parametrize("bad", ["x", "x.conf/..", "../x.conf", ".hidden.conf", "a/b.conf", ".conf"])
def test_dropin_name_must_be_a_plain_conf_file(bad):
    with pytest.raises(sd.SystemdError):
        sd.validate_dropin_name(bad)


# ---- values ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value, kind, amount, rendered", [
    ("512M", "bytes", 512 * 1024 ** 2, "512M"),
    ("1.5G", "bytes", 1536 * 1024 ** 2, "1536M"),
    (1073741824, "bytes", 1073741824, "1G"),
    ("1000", "bytes", 1000, "1000"),
    (0, "bytes", 0, "0"),
    ("2T", "bytes", 2 * 1024 ** 4, "2T"),
    ("512MiB", "bytes", 512 * 1024 ** 2, "512M"),
    ("infinity", "infinity", None, "infinity"),
    ("max", "infinity", None, "infinity"),
    (-1, "infinity", None, "infinity"),
    ("20%", "percent", 20.0, "20%"),
    ("12.5%", "percent", 12.5, "12.5%"),
])
def test_memory_values(value, kind, amount, rendered):
    parsed = sd.parse_memory(value, "memory_max")
    assert (parsed.kind, parsed.amount) == (kind, amount)
    assert parsed.render() == rendered
    assert sd.parse_memory(rendered) == parsed


@pytest.mark.parametrize("bad, message", [
    ("512MB", "ambiguous"),
    ("101%", "more than 100%"),
    ("1.234%", "two decimals"),
    ("lots", "cannot read"),
    (-5, "negative"),
    (True, "boolean"),
    (1.5, "integer"),
])
def test_bad_memory_values(bad, message):
    with pytest.raises(sd.SystemdError, match=message):
        sd.parse_memory(bad, "memory_max")


@given(st.integers(min_value=0, max_value=2 ** 62))
@settings(max_examples=200, deadline=None)
def test_rendered_bytes_parse_back_exactly(amount):
    value = sd.MemoryValue("bytes", amount)
    assert sd.parse_memory(value.render()) == value


@pytest.mark.parametrize("shown, expected", [
    ("infinity", sd.MemoryValue("infinity")),
    ("18446744073709551615", sd.MemoryValue("infinity")),  # systemd 219's "no limit"
    ("536870912", sd.MemoryValue("bytes", 536870912)),
    ("[not set]", None),
    ("", None),
])
def test_show_memory_values(shown, expected):
    assert sd.parse_show_memory(shown) == expected


def test_other_value_kinds():
    assert sd.SETTINGS_BY_OPTION["oom_score_adjust"].parse("-900") == -900
    with pytest.raises(sd.SystemdError, match="out of range"):
        sd.SETTINGS_BY_OPTION["oom_score_adjust"].parse(-1001)
    assert sd.SETTINGS_BY_OPTION["oom_policy"].parse("KILL") == "kill"
    with pytest.raises(sd.SystemdError, match="not one of"):
        sd.SETTINGS_BY_OPTION["managed_oom_preference"].parse("sometimes")
    assert sd.SETTINGS_BY_OPTION["managed_oom_memory_pressure_limit"].parse("60%") == "60%"
    assert sd.SETTINGS_BY_OPTION["managed_oom_memory_pressure_limit"].parse("12.50%") == "12.5%"
    with pytest.raises(sd.SystemdError, match="percentage"):
        sd.SETTINGS_BY_OPTION["managed_oom_memory_pressure_limit"].parse("60")
    assert sd.parse_timespan("1min 30s", "d") == "90s"
    assert sd.parse_timespan("1500ms", "d") == "1500ms"
    with pytest.raises(sd.SystemdError, match="shorter than"):
        sd.parse_timespan("500ms", "d")
    with pytest.raises(sd.SystemdError, match="time span"):
        sd.parse_timespan("soon", "d")
    assert sd.SETTINGS_BY_OPTION["memory_accounting"].render(True) == "yes"


# ---- version gating -------------------------------------------------------------------------

@pytest.mark.parametrize("text, version", [(VERSION_252, 252), (VERSION_219, 219), (VERSION_249, 249),
                                           ("systemd 255 (255.4-1ubuntu8)\n", 255)])
def test_version_parsing(text, version):
    assert sd.parse_version(text) == version


def test_version_garbage_is_an_error():
    with pytest.raises(sd.SystemdError, match="cannot read the systemd version"):
        sd.parse_version("command not found")


def test_version_detection_failure_is_an_error():
    runner = Systemctl(fail={"--version": (1, "", "boom")})
    with pytest.raises(sd.SystemdError, match="boom"):
        sd.detect_version(runner)


def test_memory_max_is_memory_limit_on_219():
    ok, bad = sd.resolve_settings({"memory_max": "1G", "oom_score_adjust": -500}, 219, "sshd.service")
    assert [(r.setting.option, r.directive) for r in ok] == [("oom_score_adjust", "OOMScoreAdjust"), ("memory_max", "MemoryLimit")]
    assert bad == []


@pytest.mark.parametrize("option, value, version, supported", [
    ("memory_max", "1G", 231, True),
    ("memory_high", "1G", 230, False),
    ("memory_high", "1G", 231, True),
    ("memory_min", "1G", 239, False),
    ("memory_min", "1G", 240, True),
    ("memory_swap_max", "0", 231, False),
    ("memory_swap_max", "0", 232, True),
    ("oom_policy", "kill", 242, False),
    ("oom_policy", "kill", 243, True),
    ("managed_oom_swap", "kill", 246, False),
    ("managed_oom_swap", "kill", 247, True),
    ("managed_oom_memory_pressure_limit", "50%", 247, True),
    ("managed_oom_preference", "avoid", 247, False),
    ("managed_oom_preference", "avoid", 248, True),
    ("memory_zswap_max", "1G", 252, False),
    ("memory_zswap_max", "1G", 253, True),
    ("memory_zswap_writeback", False, 255, False),
    ("managed_oom_memory_pressure_duration", "30s", 256, False),
    ("managed_oom_memory_pressure_duration", "30s", 257, True),
    ("oom_score_adjust", -900, 219, True),
])
def test_version_table(option, value, version, supported):
    ok, bad = sd.resolve_settings({option: value}, version, "x.service")
    assert bool(ok) is supported and bool(bad) is not supported
    if not supported:
        assert "needs systemd" in bad[0].reason and ("systemd %d" % version) in bad[0].reason


def test_unit_type_gating():
    ok, bad = sd.resolve_settings({"oom_score_adjust": -100, "memory_max": "1G"}, 252, "user.slice")
    assert [r.setting.option for r in ok] == ["memory_max"]
    assert "not valid in a .slice unit" in bad[0].reason
    # OOMPolicy= in scopes came with 253
    ok, bad = sd.resolve_settings({"oom_policy": "kill"}, 252, "run-1.scope")
    assert "in .scope units needs systemd 253" in bad[0].reason
    ok, bad = sd.resolve_settings({"oom_policy": "kill"}, 253, "run-1.scope")
    assert ok and not bad


def test_every_option_has_a_known_directive_and_show_name():
    for setting in sd.SETTINGS:
        assert sd.DIRECTIVES[setting.directive] is setting
        assert sd.show_property(setting.directive)


# ---- systemctl show -------------------------------------------------------------------------

def test_show_parsing_keeps_equal_signs_and_empty_values():
    parsed = sd.parse_show("ExecStart={ path=/bin/sleep ; argv[]=/bin/sleep infinity }\nDropInPaths=\nMainPID=55\n")
    assert parsed["ExecStart"].startswith("{ path=/bin/sleep")
    assert parsed["DropInPaths"] == ""
    assert parsed["MainPID"] == "55"


def test_show_asks_for_base_and_wanted_properties():
    runner = Systemctl(shows=[SHOW_252_BEFORE])
    values = sd.show(runner, "probe.service", ["MemoryMax", "MainPID"])
    argv = runner.calls[0]
    # the unit name comes after "--" (issue 13 row 10: a name is never read as an option)
    assert argv[:2] == ["systemctl", "show"] and argv[3:] == ["--", "probe.service"]
    props = argv[2].split("=", 1)[1].split(",")
    assert "MemoryMax" in props and props.count("MainPID") == 1
    assert values["MemoryMax"] == "infinity"


def test_show_failure_is_reported():
    runner = Systemctl(fail={"show": (1, "", "System has not been booted with systemd as init system (PID 1).")})
    with pytest.raises(sd.SystemdError, match="not been booted"):
        sd.show(runner, "probe.service", [])


@pytest.mark.parametrize("option, wanted, shown, expected", [
    ("memory_max", "512M", "536870912", True),
    ("memory_max", "512M", "268435456", False),
    ("memory_max", "infinity", "18446744073709551615", True),
    ("memory_max", "20%", "3435973836", None),
    ("oom_score_adjust", -900, "-900", True),
    ("oom_score_adjust", -900, "0", False),
    ("oom_policy", "kill", "kill", True),
    ("memory_accounting", True, "yes", True),
    ("managed_oom_memory_pressure_limit", "50%", "2147483648", True),  # systemd 252, seen in the test bed
    ("managed_oom_memory_pressure_limit", "60%", "2147483648", False),
    ("managed_oom_memory_pressure_limit", "0%", "0", True),
    ("managed_oom_memory_pressure_limit", "50%", "50%", True),
    ("managed_oom_preference", "avoid", None, None),
])
def test_show_value_comparison(option, wanted, shown, expected):
    setting = sd.SETTINGS_BY_OPTION[option]
    assert sd.show_value_matches(setting, setting.parse(wanted), shown) is expected


# ---- drop-in rendering and parsing ----------------------------------------------------------

def test_render_new_dropin():
    text = sd.render_dropin(None, "probe.service", "Service", [("OOMScoreAdjust", "-900"), ("MemoryMax", "512M")])
    assert text == (sd.HEADER % "probe.service") + "[Service]\nOOMScoreAdjust=-900\nMemoryMax=512M\n"
    assert sd.current_settings(text, "Service") == {
        "oom_score_adjust": ("OOMScoreAdjust", -900, "-900"),
        "memory_max": ("MemoryMax", sd.MemoryValue("bytes", 512 * 1024 ** 2), "512M"),
    }


def test_render_is_a_fixpoint_and_keeps_foreign_lines():
    existing = ("# my note\n[Unit]\nDescription=kept\n\n[Service]\n# why: leak\nMemoryMax=1G\nEnvironment=A=1\n"
                "OOMScoreAdjust=100\n")
    first = sd.render_dropin(existing, "probe.service", "Service", [("MemoryMax", "512M")])
    assert "Description=kept" in first and "# why: leak" in first and "Environment=A=1" in first
    assert "MemoryMax=1G" not in first and "MemoryMax=512M" in first
    # Not given and not exclusive: our other setting stays
    assert "OOMScoreAdjust=100" in first
    second = sd.render_dropin(first, "probe.service", "Service", [("MemoryMax", "512M")])
    assert second == first
    # exclusive removes our settings that were not given, keeps the foreign ones
    third = sd.render_dropin(first, "probe.service", "Service", [("MemoryMax", "512M")], remove_options=["oom_score_adjust"])
    assert "OOMScoreAdjust" not in third and "Environment=A=1" in third


def test_render_replaces_the_legacy_spelling():
    existing = "[Service]\nMemoryLimit=1G\n"
    text = sd.render_dropin(existing, "a.service", "Service", [("MemoryMax", "2G")])
    assert "MemoryLimit" not in text and "MemoryMax=2G" in text


def test_render_with_nothing_left_means_no_file():
    text = sd.render_dropin(sd.HEADER % "a.service" + "[Service]\nMemoryMax=1G\n", "a.service", "Service", [],
                            remove_options=["memory_max"])
    assert text is None


def test_parse_handles_continuations_comments_and_resets():
    text = "[Service]\n; old style comment\nMemoryMax=1G\nExecStart=/bin/echo \\\n  two lines\nMemoryMax=\n"
    sections = sd.parse_unit_file(text)
    keys = [e[0] for e in sections[1][1]]
    assert keys == [None, "MemoryMax", "ExecStart", "MemoryMax"]
    assert sections[1][1][2][1] == "/bin/echo    two lines"
    # "MemoryMax=" resets: the setting is not ours any more
    assert "memory_max" not in sd.current_settings(text, "Service")


# ---- which drop-in wins ---------------------------------------------------------------------

def test_dropin_directory_names():
    assert sd.dropin_dir_names("foo-bar@x.service") == [
        "service.d", "foo-.service.d", "foo-bar@.service.d", "foo-bar@x.service.d"]


def test_overrides_by_name_order_across_directories(tmp_path):
    fs = HostFS(str(tmp_path))
    own = "/etc/systemd/system/probe.service.d/50-oomkit-oom.conf"
    write(tmp_path, own, "[Service]\nMemoryMax=512M\nOOMScoreAdjust=-900\n")
    # set-property's file sorts BEFORE ours ('M' < 'o'): no override after a daemon-reload
    write(tmp_path, "/etc/systemd/system.control/probe.service.d/50-MemoryMax.conf", "[Service]\nMemoryMax=300M\n")
    # a later name in system.control wins
    write(tmp_path, "/run/systemd/system.control/probe.service.d/70-MemoryMax.conf", "[Service]\nMemoryLimit=100M\n")
    # a vendor file with a later name in /usr/lib wins as well (name order, whatever the directory)
    write(tmp_path, "/usr/lib/systemd/system/probe.service.d/99-vendor.conf", "[Service]\nOOMScoreAdjust=0\nMemoryHigh=1G\n")
    # the type-wide service.d applies too
    write(tmp_path, "/etc/systemd/system/service.d/60-all.conf", "[Service]\nMemoryHigh=2G\n")
    found = sd.find_overrides(fs, "probe.service", own, ["MemoryMax", "OOMScoreAdjust"])
    assert [(f["path"], f["directive"]) for f in found] == [
        ("/run/systemd/system.control/probe.service.d/70-MemoryMax.conf", "MemoryLimit"),
        ("/usr/lib/systemd/system/probe.service.d/99-vendor.conf", "OOMScoreAdjust"),
    ]
    assert "set-property" in found[0]["reason"]


def test_same_name_in_higher_priority_directory_hides_ours(tmp_path):
    fs = HostFS(str(tmp_path))
    own = "/etc/systemd/system/probe.service.d/50-oomkit-oom.conf"
    write(tmp_path, own, "[Service]\nMemoryMax=512M\n")
    write(tmp_path, "/etc/systemd/system.control/probe.service.d/50-oomkit-oom.conf", "[Service]\n")
    found = sd.find_overrides(fs, "probe.service", own, ["MemoryMax"])
    assert found[0]["directive"] is None and "hides ours" in found[0]["reason"]


# ---- cgroup files ---------------------------------------------------------------------------

def test_cgroup_mounts():
    assert sd.cgroup_mounts(MOUNTINFO_HYBRID) == ("/sys/fs/cgroup/unified", "/sys/fs/cgroup/memory")
    assert sd.cgroup_mounts(MOUNTINFO_V2) == ("/sys/fs/cgroup", None)


def test_cgroup_files_v2(tmp_path):
    fs = HostFS(str(tmp_path))
    write(tmp_path, "/sys/fs/cgroup/system.slice/a.service/memory.max", "max\n")
    write(tmp_path, "/sys/fs/cgroup/system.slice/a.service/memory.high", "max\n")
    files = sd.cgroup_memory_files(fs, "/system.slice/a.service", MOUNTINFO_V2)
    assert files == {"memory_max": "/sys/fs/cgroup/system.slice/a.service/memory.max",
                     "memory_high": "/sys/fs/cgroup/system.slice/a.service/memory.high"}


@pytest.mark.parametrize("text, wanted, expected", [
    ("536870912", "512M", True),
    ("536866816", "536868000", True),  # the kernel rounds down to a page
    ("9223372036854771712", "infinity", True),
    ("max", "infinity", True),
    ("9223372036854771712", "512M", False),
])
def test_cgroup_comparison(text, wanted, expected):
    assert sd.cgroup_matches(sd.parse_memory(wanted), sd.parse_cgroup_memory(text)) is expected


# ---- the whole run --------------------------------------------------------------------------

def test_run_writes_reloads_verifies(tmp_path):
    fs = booted_tree(tmp_path, oom=-900, limit="536870912")
    runner = Systemctl(shows=[SHOW_252_BEFORE, SHOW_252_AFTER])
    result = sd.run(fs, runner, params(memory_max="512M", oom_score_adjust=-900))
    assert result["changed"] is True
    assert read(tmp_path, result["dropin"]) == (sd.HEADER % "probe.service") + "[Service]\nOOMScoreAdjust=-900\nMemoryMax=512M\n"
    assert "daemon-reload" in runner.verbs() and "restart" not in runner.verbs()
    assert result["settings"]["memory_max"] == {"directive": "MemoryMax", "before": None, "after": "512M"}
    assert result["effective"]["memory_max"]["ok"] is True
    assert result["effective"]["memory_max"]["cgroup"] == "512M"
    assert result["effective"]["oom_score_adjust"] == {"wanted": -900, "systemd": "-900", "main_pid": 55, "process": -900, "ok": True}
    assert result["live"] == [{"pid": 55, "comm": "sleep", "before": -900, "after": -900, "status": "unchanged"}]
    assert result["restart_required"] is False and result["warnings"] == []


def test_run_writes_live_value_without_restart(tmp_path):
    fs = booted_tree(tmp_path, oom=0, limit="536870912")
    runner = Systemctl(shows=[SHOW_252_BEFORE, SHOW_252_AFTER.replace("OOMScoreAdjust=-900", "OOMScoreAdjust=500")])
    result = sd.run(fs, runner, params(oom_score_adjust=500))
    assert read(tmp_path, "/proc/55/oom_score_adj").strip() == "500"
    assert result["live"][0]["status"] == "changed"
    assert result["restart_required"] is False and result["restarted"] is False
    assert "restart" not in runner.verbs()


def test_run_check_mode_changes_nothing(tmp_path):
    fs = booted_tree(tmp_path, oom=0)
    runner = Systemctl(shows=[SHOW_252_BEFORE])
    result = sd.run(fs, runner, params(memory_max="512M", oom_score_adjust=300), check_mode=True)
    assert result["changed"] is True
    assert read(tmp_path, result["dropin"]) is None
    assert read(tmp_path, "/proc/55/oom_score_adj").strip() == "0"
    assert result["live"][0] == {"pid": 55, "comm": "sleep", "before": 0, "after": 300, "status": "changed"}
    assert set(runner.verbs()) == {"--version", "show"}
    assert result["diff"][0]["after"].endswith("[Service]\nOOMScoreAdjust=300\nMemoryMax=512M\n")


def test_run_is_idempotent(tmp_path):
    fs = booted_tree(tmp_path, oom=-900, limit="536870912")
    sd.run(fs, Systemctl(shows=[SHOW_252_BEFORE, SHOW_252_AFTER]), params(memory_max="512M", oom_score_adjust=-900))
    runner = Systemctl(shows=[SHOW_252_AFTER])
    again = sd.run(fs, runner, params(memory_max=536870912, oom_score_adjust=-900))
    assert again["changed"] is False
    assert "daemon-reload" not in runner.verbs()
    assert again["diff"] == []


def test_run_unsupported_fails_before_writing(tmp_path):
    fs = booted_tree(tmp_path)
    runner = Systemctl(version=VERSION_219, shows=[SHOW_252_BEFORE])
    with pytest.raises(sd.SystemdError, match=r"memory_min \(MemoryMin= needs systemd 240 or later; this host runs systemd 219\)"):
        sd.run(fs, runner, params(memory_max="1G", memory_min="100M"))
    assert read(tmp_path, "/etc/systemd/system/probe.service.d/50-oomkit-oom.conf") is None


def test_run_unsupported_skip_writes_the_rest_with_legacy_names(tmp_path):
    fs = booted_tree(tmp_path)
    show_219 = SHOW_252_BEFORE.replace("MemoryMax=infinity", "MemoryLimit=18446744073709551615")
    after_219 = show_219.replace("MemoryLimit=18446744073709551615", "MemoryLimit=1073741824")
    runner = Systemctl(version=VERSION_219, shows=[show_219, after_219])
    result = sd.run(fs, runner, params(memory_max="1G", memory_min="100M", unsupported="skip"))
    text = read(tmp_path, result["dropin"])
    assert "MemoryLimit=1G" in text and "MemoryMin" not in text and "MemoryMax" not in text
    assert result["skipped"][0]["option"] == "memory_min"
    assert any("skipped" in w for w in result["warnings"])
    assert result["effective"]["memory_max"]["systemd"] == "1073741824" and result["effective"]["memory_max"]["ok"] is False
    # the v1 cgroup file still says unlimited here: the kernel does not enforce it, and we say so
    assert any("the kernel enforces" in w for w in result["warnings"])


def test_run_bad_value_fails_before_anything(tmp_path):
    fs = booted_tree(tmp_path)
    runner = Systemctl(shows=[SHOW_252_BEFORE])
    with pytest.raises(sd.SystemdError, match="ambiguous"):
        sd.run(fs, runner, params(memory_max="512MB"))
    assert runner.calls == []


def test_run_refused_live_write_is_a_warning_and_verified(tmp_path, monkeypatch):
    fs = booted_tree(tmp_path, oom=0)
    import errno
    from ansible_collections.oomkit.linux.plugins.module_utils import processes

    def refuse(fs_, proc, interface, raw_value):
        raise sd.HostError("lowering oom_score_adj from 0 to -900 was refused (EACCES): CAP_SYS_RESOURCE",
                           errno_value=errno.EACCES)

    monkeypatch.setattr(processes, "_write_checked", refuse)
    runner = Systemctl(shows=[SHOW_252_BEFORE, SHOW_252_AFTER])
    result = sd.run(fs, runner, params(oom_score_adjust=-900, restart="never"))
    assert result["live"][0]["status"] == "refused"
    assert result["restart_required"] is True and result["restarted"] is False
    assert result["effective"]["oom_score_adjust"]["ok"] is False
    assert any("write refused, pid 55 (sleep)" in w and "CAP_SYS_RESOURCE" in w and "the drop-in is in place" in w for w in result["warnings"])
    assert any("PID 55" in w and "until the unit restarts" in w for w in result["warnings"])
    assert read(tmp_path, result["dropin"]) is not None


def test_run_restart_auto_when_live_is_off(tmp_path):
    fs = booted_tree(tmp_path, oom=0)
    runner = Systemctl(shows=[SHOW_252_BEFORE, SHOW_252_AFTER])
    result = sd.run(fs, runner, params(oom_score_adjust=-900, live=False))
    assert ["systemctl", "restart", "--", "probe.service"] in runner.calls
    assert result["restarted"] is True and result["restart_required"] is False


def test_run_restart_always_and_never(tmp_path):
    fs = booted_tree(tmp_path, oom=0)
    runner = Systemctl(shows=[SHOW_252_BEFORE, SHOW_252_AFTER])
    result = sd.run(fs, runner, params(memory_max="512M", restart="always"))
    assert result["restarted"] is True and "restart" in runner.verbs()
    runner = Systemctl(shows=[SHOW_252_AFTER])
    result = sd.run(fs, runner, params(oom_score_adjust=700, live=False, restart="never"))
    assert result["restart_required"] is True and "restart" not in runner.verbs()


def test_run_absent_removes_file_and_directory(tmp_path):
    fs = booted_tree(tmp_path, oom=-900)
    own = "/etc/systemd/system/probe.service.d/50-oomkit-oom.conf"
    write(tmp_path, own, sd.HEADER % "probe.service" + "[Service]\nOOMScoreAdjust=-900\n")
    runner = Systemctl(shows=[SHOW_252_AFTER, SHOW_252_BEFORE])
    result = sd.run(fs, runner, params(state="absent"))
    assert result["changed"] is True and read(tmp_path, own) is None
    assert not os.path.exists(str(tmp_path / "etc/systemd/system/probe.service.d"))
    assert result["settings"] == {"oom_score_adjust": {"directive": "OOMScoreAdjust", "before": "-900", "after": None}}
    # the processes get systemd's value back (0 after the reload), live
    assert read(tmp_path, "/proc/55/oom_score_adj").strip() == "0"
    assert "daemon-reload" in runner.verbs()
    again = sd.run(fs, Systemctl(shows=[SHOW_252_BEFORE]), params(state="absent"))
    assert again["changed"] is False


def test_run_absent_refuses_settings(tmp_path):
    with pytest.raises(sd.SystemdError, match="give no settings"):
        sd.run(booted_tree(tmp_path), Systemctl(shows=[SHOW_252_BEFORE]), params(state="absent", memory_max="1G"))


def test_run_present_needs_a_setting(tmp_path):
    with pytest.raises(sd.SystemdError, match="at least one setting"):
        sd.run(booted_tree(tmp_path), Systemctl(shows=[SHOW_252_BEFORE]), params())


def test_run_without_running_systemd_only_writes_the_file(tmp_path):
    fs = HostFS(str(tmp_path))
    runner = Systemctl()
    result = sd.run(fs, runner, params(memory_max="1G"))
    assert read(tmp_path, result["dropin"]).endswith("MemoryMax=1G\n")
    assert runner.verbs() == ["--version"]
    assert result["effective"] == {} and any("not running" in w for w in result["warnings"])


def test_run_warns_about_overrides_and_unknown_units(tmp_path):
    fs = booted_tree(tmp_path, limit="536870912")
    write(tmp_path, "/etc/systemd/system/probe.service.d/90-local.conf", "[Service]\nMemoryMax=1G\n")
    not_found = SHOW_252_BEFORE.replace("LoadState=loaded", "LoadState=not-found")
    runner = Systemctl(shows=[not_found, SHOW_252_AFTER.replace("MemoryMax=536870912", "MemoryMax=1073741824")])
    result = sd.run(fs, runner, params(memory_max="512M"))
    assert result["overrides"][0]["path"].endswith("90-local.conf")
    assert any("overrides ours" in w for w in result["warnings"])
    assert any("LoadState=not-found" in w for w in result["warnings"])
    assert any("systemd reports MemoryMax=1073741824" in w for w in result["warnings"])


def test_run_exclusive_drops_settings_not_given(tmp_path):
    fs = booted_tree(tmp_path, limit="536870912")
    own = "/etc/systemd/system/probe.service.d/50-oomkit-oom.conf"
    write(tmp_path, own, "[Service]\nOOMScoreAdjust=100\nMemoryMax=1G\n")
    runner = Systemctl(shows=[SHOW_252_BEFORE, SHOW_252_AFTER])
    result = sd.run(fs, runner, params(memory_max="512M", exclusive=True, live=False, restart="never"))
    assert "OOMScoreAdjust" not in read(tmp_path, own)
    assert result["settings"]["oom_score_adjust"] == {"directive": "OOMScoreAdjust", "before": "100", "after": None}


def test_run_template_is_not_queried(tmp_path):
    fs = booted_tree(tmp_path)
    runner = Systemctl()
    result = sd.run(fs, runner, params(name="worker@.service", memory_max="1G"))
    assert runner.verbs() == ["--version", "daemon-reload"]
    assert any("template" in w for w in result["warnings"])


def test_run_v1_warns_about_v2_only_settings(tmp_path):
    fs = booted_tree(tmp_path, limit="536870912")
    after = SHOW_252_AFTER + "MemoryHigh=268435456\n"
    result = sd.run(fs, Systemctl(shows=[SHOW_252_BEFORE, after]), params(memory_high="256M", memory_max="512M"))
    assert any("MemoryHigh= has no effect here" in w for w in result["warnings"])


def test_run_backup(tmp_path):
    fs = booted_tree(tmp_path, limit="536870912")
    own = "/etc/systemd/system/probe.service.d/50-oomkit-oom.conf"
    write(tmp_path, own, "[Service]\nMemoryMax=1G\n")
    result = sd.run(fs, Systemctl(shows=[SHOW_252_BEFORE, SHOW_252_AFTER]), params(memory_max="512M", backup=True))
    assert read(tmp_path, result["backup_file"]) == "[Service]\nMemoryMax=1G\n"


def test_render_order_does_not_depend_on_which_subset_a_task_manages():
    both = sd.render_dropin(None, "a.service", "Service", [("OOMScoreAdjust", "500"), ("MemoryMax", "256M")])
    only_max = sd.render_dropin(both, "a.service", "Service", [("MemoryMax", "256M")])
    only_oom = sd.render_dropin(both, "a.service", "Service", [("OOMScoreAdjust", "500")])
    assert both == only_max == only_oom
    # a hand-written order is normalised once, then stays
    hand = "[Service]\nMemoryMax=256M\nCPUQuota=50%\nOOMScoreAdjust=500\n"
    first = sd.render_dropin(hand, "a.service", "Service", [("MemoryMax", "256M")])
    assert first.endswith("[Service]\nOOMScoreAdjust=500\nMemoryMax=256M\nCPUQuota=50%\n")
    assert sd.render_dropin(first, "a.service", "Service", [("OOMScoreAdjust", "500")]) == first


def test_check_mode_predicts_a_refused_lowering_without_cap_sys_resource(tmp_path):
    fs = booted_tree(tmp_path, oom=0)
    # CapEff without bit 24 (CAP_SYS_RESOURCE), as in the test bed's containers
    write(tmp_path, "/proc/self/status", "Name:\tpython3\nCapEff:\t000001fffeffffff\n")
    own = "/etc/systemd/system/probe.service.d/50-oomkit-oom.conf"
    write(tmp_path, own, sd.HEADER % "probe.service" + "[Service]\nOOMScoreAdjust=-900\n")
    result = sd.run(fs, Systemctl(shows=[SHOW_252_AFTER]), params(oom_score_adjust=-900), check_mode=True)
    # the drop-in is in place and the kernel would refuse the live write: nothing would change
    assert result["changed"] is False
    assert result["live"][0]["status"] == "refused"
    assert any("would be refused" in w for w in result["warnings"])
    # with the capability, the same run predicts the live write
    write(tmp_path, "/proc/self/status", "Name:\tpython3\nCapEff:\t000001ffffffffff\n")
    result = sd.run(fs, Systemctl(shows=[SHOW_252_AFTER]), params(oom_score_adjust=-900), check_mode=True)
    assert result["changed"] is True and result["live"][0]["status"] == "changed"


def test_runtime_change_is_reloaded_away(tmp_path):
    fs = booted_tree(tmp_path, oom=-900, limit="314572800")
    own = "/etc/systemd/system/probe.service.d/50-oomkit-oom.conf"
    write(tmp_path, own, sd.render_dropin(None, "probe.service", "Service", [("MemoryMax", "512M")]))
    # `systemctl set-property probe MemoryMax=300M`: its file sorts before ours, its value is live now
    write(tmp_path, "/etc/systemd/system.control/probe.service.d/50-MemoryMax.conf", "[Service]\nMemoryMax=300M\n")
    set_property = SHOW_252_AFTER.replace("MemoryMax=536870912", "MemoryMax=314572800")
    runner = Systemctl(shows=[set_property])
    predicted = sd.run(fs, runner, params(memory_max="512M"), check_mode=True)
    assert predicted["changed"] is True and predicted["daemon_reloaded"] is True
    assert "daemon-reload" not in runner.verbs()
    assert any("daemon-reload would apply ours again" in w for w in predicted["warnings"])
    runner = Systemctl(shows=[set_property, SHOW_252_AFTER])
    result = sd.run(fs, runner, params(memory_max="512M"))
    assert result["changed"] is True and "daemon-reload" in runner.verbs()
    assert result["overrides"] == [] and result["effective"]["memory_max"]["systemd"] == "536870912"
    # once systemd runs with our value again, nothing to do
    runner = Systemctl(shows=[SHOW_252_AFTER])
    assert sd.run(fs, runner, params(memory_max="512M"))["changed"] is False


def test_overrides_are_found_before_our_file_exists(tmp_path):
    fs = booted_tree(tmp_path)
    write(tmp_path, "/run/systemd/system.control/probe.service.d/60-x.conf", "[Service]\nMemoryMax=1G\n")
    result = sd.run(fs, Systemctl(shows=[SHOW_252_BEFORE]), params(memory_max="512M"), check_mode=True)
    assert [o["path"] for o in result["overrides"]] == ["/run/systemd/system.control/probe.service.d/60-x.conf"]


def test_active_unit_without_processes_needs_no_restart(tmp_path):
    fs = booted_tree(tmp_path)
    os.remove(str(tmp_path / "sys/fs/cgroup/unified/system.slice/probe.service/cgroup.procs"))
    oneshot = SHOW_252_BEFORE.replace("SubState=running", "SubState=exited").replace("MainPID=55", "MainPID=0")
    runner = Systemctl(shows=[oneshot, oneshot])
    result = sd.run(fs, runner, params(oom_score_adjust=-100))
    assert result["live"] == [] and result["restart_required"] is False and result["restarted"] is False
    assert "restart" not in runner.verbs()


MOUNTINFO_V1_219 = """25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:6 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:7 - cgroup cgroup \
rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
29 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,memory
"""


def test_unit_pids_on_systemd_219_without_unified_hierarchy(tmp_path):
    # EulerOS 2.0 SP5 / RHEL 7: v1 only; systemd tracks processes in the name=systemd hierarchy,
    # and `systemctl show --value` does not exist yet (230+), so the files are read.
    fs = HostFS(str(tmp_path))
    write(tmp_path, "/sys/fs/cgroup/systemd/system.slice/sshd.service/cgroup.procs", "812\n")
    write(tmp_path, "/sys/fs/cgroup/systemd/system.slice/sshd.service/child/cgroup.procs", "900\n901\n")
    assert sd.unit_pids(fs, "/system.slice/sshd.service", MOUNTINFO_V1_219) == [812, 900, 901]
    assert sd.unit_pids(fs, "/system.slice/gone.service", MOUNTINFO_V1_219) == []
    assert sd.unit_pids(fs, "", MOUNTINFO_V1_219) == []


def test_unit_pids_prefers_the_unified_hierarchy(tmp_path):
    fs = HostFS(str(tmp_path))
    write(tmp_path, "/sys/fs/cgroup/unified/system.slice/probe.service/cgroup.procs", "55\n")
    write(tmp_path, "/sys/fs/cgroup/systemd/system.slice/probe.service/cgroup.procs", "55\n")
    mountinfo = MOUNTINFO_HYBRID + MOUNTINFO_V1_219.splitlines()[1] + "\n"
    assert sd.unit_pids(fs, "/system.slice/probe.service", mountinfo) == [55]


def test_cgroup_comparison_at_64k_pages():
    # aarch64 EulerOS kernels may use 64 KiB pages: 1000000 bytes is stored as 983040
    assert sd.cgroup_matches(sd.parse_memory(1000000), sd.parse_cgroup_memory("983040"), page_size=65536) is True
    assert sd.cgroup_matches(sd.parse_memory(1000000), sd.parse_cgroup_memory("983040"), page_size=4096) is False


def test_check_mode_of_absent_predicts_the_live_value_and_no_restart(tmp_path):
    fs = booted_tree(tmp_path, oom=-900)
    own = "/etc/systemd/system/probe.service.d/50-oomkit-oom.conf"
    write(tmp_path, own, sd.HEADER % "probe.service" + "[Service]\nOOMScoreAdjust=-900\n")
    write(tmp_path, "/proc/1/oom_score_adj", "0\n")
    runner = Systemctl(shows=[SHOW_252_AFTER])
    predicted = sd.run(fs, runner, params(state="absent"), check_mode=True)
    assert predicted["live"] == [{"pid": 55, "comm": "sleep", "before": -900, "after": 0, "status": "changed"}]
    assert predicted["restarted"] is False and predicted["restart_required"] is False
    real = sd.run(fs, Systemctl(shows=[SHOW_252_AFTER, SHOW_252_BEFORE]), params(state="absent"))
    assert real["live"] == predicted["live"]
    assert (real["restarted"], real["restart_required"], real["changed"]) == (False, False, True)


@pytest.mark.parametrize("files, expected", [
    ({}, 7),  # PID 1's value
    ({"/etc/systemd/system.conf": "[Manager]\nDefaultOOMScoreAdjust=100\n"}, 100),
    ({"/etc/systemd/system/probe.service": "[Service]\nOOMScoreAdjust=-300\n"}, -300),
    ({"/etc/systemd/system/probe.service": "[Service]\nOOMScoreAdjust=-300\n",
      "/usr/lib/systemd/system/probe.service.d/10-vendor.conf": "[Service]\nOOMScoreAdjust=200\n"}, 200),
    ({"/etc/systemd/system/probe.service": "[Service]\nOOMScoreAdjust=-300\n",
      "/etc/systemd/system/probe.service.d/90-reset.conf": "[Service]\nOOMScoreAdjust=\n"}, 7),
])
def test_predict_oom_score_adjust(tmp_path, files, expected):
    fs = HostFS(str(tmp_path))
    write(tmp_path, "/proc/1/oom_score_adj", "7\n")
    own = "/etc/systemd/system/probe.service.d/50-oomkit-oom.conf"
    write(tmp_path, own, "[Service]\nOOMScoreAdjust=-900\n")
    for path, text in files.items():
        write(tmp_path, path, text)
    assert sd.predict_oom_score_adjust(fs, "probe.service", "/etc/systemd/system/probe.service", own) == expected


def test_check_mode_without_cap_predicts_lowering_to_zero_as_allowed(tmp_path):
    # a process raised to 500 without privilege keeps its floor at 0: going back to 0 is allowed
    fs = booted_tree(tmp_path, oom=500)
    write(tmp_path, "/proc/self/status", "Name:\tpython3\nCapEff:\t000001fffeffffff\n")
    result = sd.run(fs, Systemctl(shows=[SHOW_252_AFTER]), params(oom_score_adjust=0), check_mode=True)
    assert result["live"][0]["status"] == "changed" and result["changed"] is True


def test_live_write_falls_back_to_the_main_pid_without_cgroup_files(tmp_path):
    # an unprivileged container: the unit's cgroup directory is not visible, its main process is
    fs = booted_tree(tmp_path, oom=0)
    os.remove(str(tmp_path / "sys/fs/cgroup/unified/system.slice/probe.service/cgroup.procs"))
    runner = Systemctl(shows=[SHOW_252_BEFORE, SHOW_252_AFTER.replace("OOMScoreAdjust=-900", "OOMScoreAdjust=300")])
    result = sd.run(fs, runner, params(oom_score_adjust=300))
    assert result["live"][0]["pid"] == 55 and result["live"][0]["status"] == "changed"
    assert read(tmp_path, "/proc/55/oom_score_adj").strip() == "300"
    assert result["restart_required"] is False
