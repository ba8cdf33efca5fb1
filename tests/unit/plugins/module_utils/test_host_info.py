# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_info.gather on fixture hosts: what this machine cannot show (containers, cgroup v2,
systemd as init, openEuler files, read-only mounts). The real machine is read in test_oom_host_info."""

from __future__ import annotations

import os

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils import host_info as H
from ansible_collections.oomkit.linux.tests.unit.fixtures.cgroups.trees import V1_UNLIMITED, build_host
from ansible_collections.oomkit.linux.tests.unit.plugins.module_utils.test_processes import CAPS_ALL, FakeProc


def no_systemctl(argv):
    return 127, "", "systemctl: command not found"


class Systemctl(object):
    """A runner that answers `systemctl --version` and `systemctl show` from a table of units."""

    def __init__(self, units, version="systemd 252 (252.38-1~deb12u1)\n+PAM +AUDIT"):
        self.units = units
        self.version = version
        self.calls = []

    def __call__(self, argv):
        self.calls.append(list(argv))
        if argv[1] == "--version":
            return 0, self.version, ""
        assert argv[1] == "show" and argv[3] == "--"
        blocks = []
        for name in argv[4:]:
            props = self.units.get(name, {"Id": name, "Names": name, "LoadState": "not-found", "ActiveState": "inactive",
                                          "SubState": "dead", "MainPID": "0", "OOMScoreAdjust": "0", "FragmentPath": ""})
            blocks.append("\n".join("%s=%s" % item for item in props.items()))
        return 0, "\n\n".join(blocks) + "\n", ""


def params(**kwargs):
    base = {"units": [], "processes": [], "cgroups": [], "sysctls": []}
    base.update(kwargs)
    return base


def write(fs, path, text):
    real = fs.path(path)
    if not os.path.isdir(os.path.dirname(real)):
        os.makedirs(os.path.dirname(real))
    with open(real, "w") as handle:
        handle.write(text)


@pytest.fixture
def container_host(tmp_path):
    """A v1 host that runs containers: containerd, its shim, kubelet; sshd with a login session."""
    proc = FakeProc(tmp_path)
    fs = build_host(tmp_path, "v1")
    proc.add(1, "systemd")
    proc.add(400, "systemd-journald", score=-250)
    proc.add(500, "sshd", cmdline=["/usr/sbin/sshd", "-D"])
    proc.add(900, "sshd", cmdline=["sshd: root@pts/0"], ppid=500)
    proc.add(700, "containerd")
    proc.add(701, "containerd-shim", cmdline=["/usr/bin/containerd-shim-runc-v2", "-id", "x"])
    proc.add(800, "kubelet")
    proc.write("/proc/1/environ", "HOME=/\0TERM=linux\0")
    proc.write("/proc/1/cgroup", "4:memory:/\n1:name=systemd:/init.scope\n")
    write(fs, "/usr/bin/containerd", "")
    write(fs, "/run/containerd/containerd.sock", "")
    for name, value in (("vm/panic_on_oom", "0"), ("vm/oom_kill_allocating_task", "0"), ("vm/oom_dump_tasks", "1"),
                        ("vm/overcommit_memory", "0"), ("vm/swappiness", "60"), ("kernel/osrelease", "6.18.0")):
        write(fs, "/proc/sys/" + name, value + "\n")
    fs.add_cgroup("batch", **{"memory.usage_in_bytes": 1071644672, "memory.limit_in_bytes": 1073741824,
                              "memory.failcnt": 12, "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 3"})
    fs.add_cgroup("free", **{"memory.usage_in_bytes": 4096})
    return fs


def test_container_host(container_host):
    info = H.gather(container_host, no_systemctl, params(
        processes=[{"name": "sshd"}, {"name": "systemd-journald"}, {"name": "rsyslogd"}],
        cgroups=["/batch", "/free", "/gone", "/../../etc", "/"], sysctls=["vm/swappiness", "vm.min_free_kbytes"]))
    assert info["runtime_processes"] == ["containerd", "containerd-shim", "kubelet"]
    assert info["runs_containers"] is True
    assert [r["name"] for r in info["container_runtimes"]] == ["containerd", "kubernetes"]
    assert info["container_runtimes"][0]["binaries"] == ["/usr/bin/containerd"]
    assert info["container_runtimes"][0]["sockets"] == ["/run/containerd/containerd.sock"]
    assert info["container_runtimes"][0]["processes"] == ["containerd", "containerd-shim"]
    assert info["container"] == {"in_container": False, "runtime": None, "evidence": []}
    sshd, journald, rsyslogd = info["processes"]
    assert sshd["selector"] == {"name": "sshd"}
    assert sshd["processes"] == [{"pid": 500, "ppid": 1, "comm": "sshd", "oom_score_adj": 0},
                                 {"pid": 900, "ppid": 500, "comm": "sshd", "oom_score_adj": 0}]
    # a name longer than the kernel's 15 characters matches the program's base name
    assert journald["processes"] == [{"pid": 400, "ppid": 1, "comm": "systemd-journal", "oom_score_adj": -250}]
    assert rsyslogd["processes"] == []
    cgroups = info["cgroups"]
    assert cgroups["/batch"]["exists"] and cgroups["/batch"]["path"] == "/sys/fs/cgroup/memory/batch"
    assert (cgroups["/batch"]["usage_kb"], cgroups["/batch"]["limit_kb"]) == (1046528, 1048576)
    assert (cgroups["/batch"]["failcnt"], cgroups["/batch"]["oom_kills"]) == (12, 3)
    assert cgroups["/batch"]["effective_limit"] == 1073741824 and cgroups["/batch"]["limited_by"] == "/batch"
    assert (cgroups["/free"]["usage_kb"], cgroups["/free"]["limit_kb"], cgroups["/free"]["limit"]) == (4, None, None)
    assert cgroups["/gone"]["exists"] is False and cgroups["/gone"]["error"] is None
    assert cgroups["/../../etc"]["exists"] is False and "'..'" in cgroups["/../../etc"]["error"]
    assert cgroups["/"]["exists"] and cgroups["/"]["limit"] is None
    assert info["sysctls"]["vm.swappiness"] == {"present": True, "value": "60"}
    assert info["sysctls"]["vm.min_free_kbytes"] == {"present": False, "value": None}
    assert info["sysctls"]["vm.panic_on_oom"] == {"present": True, "value": "0"}
    assert info["memcg_qos"] == {"sysctl": False, "qos_level": False}
    assert info["cgroup"]["version"] == "v1" and info["cgroup"]["memory_mount"] == "/sys/fs/cgroup/memory"
    assert info["cap_sys_resource"] is False
    assert info["systemd"] == {"running": False, "version": None, "systemctl": False}


def test_excluded_pids_are_never_selected(container_host):
    info = H.gather(container_host, no_systemctl, params(processes=[{"name": "sshd"}]), exclude_pids=[500])
    assert [p["pid"] for p in info["processes"][0]["processes"]] == [900]


def test_pattern_and_user_selectors(container_host):
    info = H.gather(container_host, no_systemctl, params(processes=[
        {"pattern": r"^(?:\S*/)?(?:sshd|containerd)(?:\s|$)"}, {"user": "0", "name": "kubelet"}]))
    assert [p["pid"] for p in info["processes"][0]["processes"]] == [500, 700]
    assert [p["pid"] for p in info["processes"][1]["processes"]] == [800]


def test_podman_container_on_cgroup_v2(tmp_path):
    proc = FakeProc(tmp_path, caps=CAPS_ALL)
    fs = build_host(tmp_path, "v2")
    proc.write("/proc/1/environ", "container=podman\0HOME=/\0")
    write(fs, "/run/.containerenv", 'engine="podman-4.3.1"\n')
    write(fs, "/.dockerenv", "")
    fs.add_cgroup("app.slice")
    fs.set_file("/sys/fs/cgroup/app.slice/memory.current", "2048")
    info = H.gather(fs, no_systemctl, params(cgroups=["/app.slice", "/sys/fs/cgroup/app.slice", "/"]))
    container = info["container"]
    assert container["in_container"] is True and container["runtime"] == "podman"
    assert [(e["source"], e["conclusive"]) for e in container["evidence"]] == [
        ("/proc/1/environ", True), ("/run/.containerenv", True), ("/.dockerenv", False)]
    assert info["cap_sys_resource"] is True
    assert info["cgroup"]["version"] == "v2" and info["cgroup"]["memory_version"] == "v2"
    app = info["cgroups"]["/app.slice"]
    assert app["exists"] and (app["usage_kb"], app["limit_kb"]) == (2, None)
    assert info["cgroups"]["/sys/fs/cgroup/app.slice"]["path"] == "/sys/fs/cgroup/app.slice"
    # the v2 root has no memory.current: reported, not guessed
    assert info["cgroups"]["/"]["exists"] is False and "memory.current" in info["cgroups"]["/"]["error"]


def test_a_stray_dockerenv_alone_is_not_a_container(tmp_path):
    FakeProc(tmp_path)
    fs = build_host(tmp_path, "hybrid")
    write(fs, "/proc/1/environ", "HOME=/\0")
    write(fs, "/.dockerenv", "")
    container = H.gather(fs, no_systemctl, params())["container"]
    assert container == {"in_container": False, "runtime": None,
                         "evidence": [{"source": "/.dockerenv", "found": "present", "conclusive": False}]}


def test_container_from_the_cgroup_of_pid_1_and_nspawn(tmp_path):
    FakeProc(tmp_path)
    fs = build_host(tmp_path, "v1")
    write(fs, "/proc/1/cgroup", "12:memory:/docker/0123abcd\n1:name=systemd:/docker/0123abcd\n")
    container = H.gather(fs, no_systemctl, params())["container"]
    assert container["in_container"] and container["runtime"] == "docker"
    assert container["evidence"][0]["found"] == "12:memory:/docker/0123abcd"
    write(fs, "/proc/1/cgroup", "0::/\n")
    write(fs, "/run/systemd/container", "systemd-nspawn\n")
    container = H.gather(fs, no_systemctl, params())["container"]
    assert (container["in_container"], container["runtime"]) == (True, "systemd-nspawn")


def test_read_only_proc_sys_and_cgroup_mounts(tmp_path):
    FakeProc(tmp_path)
    fs = build_host(tmp_path, "v2")
    write(fs, "/proc/sys/vm/panic_on_oom", "0\n")
    mountinfo = fs.read("/proc/self/mountinfo").replace(" rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2",
                                                        " ro,nosuid,nodev,noexec,relatime - cgroup2")
    mountinfo += "\n50 23 0:5 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw\n"
    write(fs, "/proc/self/mountinfo", mountinfo)
    info = H.gather(fs, no_systemctl, params())
    assert info["proc_sys"]["writable"] is False and info["proc_sys"]["mount_point"] == "/proc/sys"
    assert "read-only" in info["proc_sys"]["reason"] and "unprivileged container" in info["proc_sys"]["reason"]
    assert info["cgroup"]["memory_writable"] is False
    assert "/sys/fs/cgroup is mounted read-only" in info["cgroup"]["reason"]


def test_writable_host(container_host):
    info = H.gather(container_host, no_systemctl, params())
    assert info["proc_sys"] == {"writable": True, "reason": None, "mount_point": "/proc", "read_only_mount": False}
    assert info["cgroup"]["memory_writable"] is True and info["cgroup"]["reason"] is None


def test_no_memory_controller(tmp_path):
    FakeProc(tmp_path)
    fs = build_host(tmp_path, "v2")
    write(fs, "/sys/fs/cgroup/cgroup.controllers", "cpu io\n")
    info = H.gather(fs, no_systemctl, params(cgroups=["/x"]))
    assert info["cgroup"]["memory_version"] is None and "not available" in info["cgroup"]["reason"]
    assert info["cgroups"]["/x"]["error"] == "no memory cgroup controller here"


def test_openeuler_memcg_qos(tmp_path):
    FakeProc(tmp_path)
    fs = build_host(tmp_path, "v1", openeuler=True)
    write(fs, "/proc/sys/vm/memcg_qos_enable", "0\n")
    info = H.gather(fs, no_systemctl, params())
    assert info["memcg_qos"] == {"sysctl": True, "qos_level": True}
    assert info["sysctls"]["vm.memcg_qos_enable"] == {"present": True, "value": "0"}


def test_qos_level_found_one_level_down(tmp_path):
    FakeProc(tmp_path)
    fs = build_host(tmp_path, "v1")
    fs.add_cgroup("batch", **{"memory.qos_level": 0})
    assert H.gather(fs, no_systemctl, params())["memcg_qos"]["qos_level"] is True


def test_units_with_systemd_running(tmp_path):
    proc = FakeProc(tmp_path)
    fs = build_host(tmp_path, "v2", systemd=True)
    proc.add(612, "sshd", score=-900)
    runner = Systemctl({
        "sshd.service": {"Id": "ssh.service", "Names": "ssh.service sshd.service", "LoadState": "loaded",
                         "ActiveState": "active", "SubState": "running", "MainPID": "612", "OOMScoreAdjust": "-900",
                         "FragmentPath": "/lib/systemd/system/ssh.service"},
        "cron.service": {"Id": "cron.service", "Names": "cron.service", "LoadState": "loaded", "ActiveState": "inactive",
                         "SubState": "dead", "MainPID": "0", "OOMScoreAdjust": "0", "FragmentPath": "/lib/systemd/system/cron.service"},
    })
    info = H.gather(fs, runner, params(units=["sshd", "cron.service", "rsyslog.service", "sshd.service"]))
    assert info["systemd"] == {"running": True, "version": 252, "systemctl": True}
    assert list(info["units"]) == ["sshd.service", "cron.service", "rsyslog.service"]
    sshd = info["units"]["sshd.service"]
    assert (sshd["present"], sshd["id"], sshd["names"], sshd["source"]) == (True, "ssh.service", ["ssh.service", "sshd.service"], "systemctl")
    assert (sshd["main_pid"], sshd["oom_score_adjust"], sshd["main_pid_oom_score_adj"]) == (612, -900, -900)
    assert info["units"]["cron.service"]["active_state"] == "inactive" and info["units"]["cron.service"]["main_pid"] == 0
    assert info["units"]["rsyslog.service"]["present"] is False
    assert info["units"]["rsyslog.service"]["load_state"] == "not-found"
    # one systemctl show for every unit
    assert [c[1] for c in runner.calls] == ["--version", "show"]


def test_units_from_unit_files_without_systemd(tmp_path):
    FakeProc(tmp_path)
    fs = build_host(tmp_path, "hybrid")
    write(fs, "/lib/systemd/system/ssh.service", "[Service]\nExecStart=/usr/sbin/sshd -D\n")
    os.symlink("ssh.service", fs.path("/lib/systemd/system/sshd.service"))
    write(fs, "/usr/lib/systemd/system/getty@.service", "[Service]\n")
    runner = Systemctl({}, version="systemd 219\n")
    info = H.gather(fs, runner, params(units=["sshd.service", "ssh", "getty@tty1.service", "absent.service"]))
    assert info["systemd"] == {"running": False, "version": 219, "systemctl": True}
    units = info["units"]
    assert (units["sshd.service"]["id"], units["sshd.service"]["names"]) == ("ssh.service", ["ssh.service", "sshd.service"])
    assert units["ssh.service"]["id"] == "ssh.service" and units["ssh.service"]["source"] == "unit_file"
    assert units["getty@tty1.service"]["present"] and units["getty@tty1.service"]["id"] == "getty@tty1.service"
    assert units["absent.service"]["present"] is False
    assert [c[1] for c in runner.calls] == ["--version"]


def test_systemctl_show_failure_is_an_error(tmp_path):
    FakeProc(tmp_path)
    fs = build_host(tmp_path, "v2", systemd=True)

    def broken(argv):
        return (0, "systemd 252\n", "") if argv[1] == "--version" else (1, "", "Failed to connect to bus")

    with pytest.raises(H.HostInfoError, match="Failed to connect to bus"):
        H.gather(fs, broken, params(units=["sshd"]))


@pytest.mark.parametrize("bad, message", [
    (params(units=["backup.timer"]), "units: backup.timer: a .timer unit"),
    (params(processes=[{"name": "x", "colour": "red"}]), "processes #1: unknown key(s) colour"),
    (params(processes=[{"name": "x"}, {"pattern": "("}]), "processes #2: pattern '(' is not a valid regular expression"),
    (params(processes=[{"include_children": True}]), "processes #1: no selector given"),
    (params(processes=[{"user": "no-such-user-oomkit"}]), "processes #1: user 'no-such-user-oomkit' does not exist"),
    (params(processes=["sshd"]), "processes #1 must be a mapping"),
    (params(sysctls=["vm..x"]), "sysctls: 'vm..x' is not a valid sysctl name"),
])
def test_bad_input_is_refused_before_reading(tmp_path, bad, message):
    FakeProc(tmp_path)
    fs = build_host(tmp_path, "v1")
    with pytest.raises(H.HostInfoError) as err:
        H.gather(fs, no_systemctl, bad)
    assert message in str(err.value)


def test_writable_says_what_is_missing(tmp_path):
    FakeProc(tmp_path)
    fs = build_host(tmp_path, "v1")
    state = H.writable(fs, H._mounts(fs), "/proc/sys/vm/nothing", "/proc/sys", "")
    assert state["writable"] is False and state["reason"] == "/proc/sys/vm/nothing does not exist here"


def test_cgroup_paths_from_logs_get_errors_not_failures(container_host):
    cgroups = H.gather(container_host, no_systemctl, params(cgroups=["/a\nb", "", "/x\0y", "/batch"]))["cgroups"]
    assert "newline" in cgroups["/a\nb"]["error"] and cgroups["/a\nb"]["exists"] is False
    assert cgroups[""]["error"] == "'' is not a cgroup path"
    assert "NUL" in cgroups["/x\0y"]["error"]
    assert cgroups["/batch"]["exists"] is True


def test_cgroup_limit_and_unlimited_on_v1(container_host):
    container_host.add_cgroup("capped", **{"memory.limit_in_bytes": V1_UNLIMITED, "memory.usage_in_bytes": 0})
    entry = H.gather(container_host, no_systemctl, params(cgroups=["capped"]))["cgroups"]["capped"]
    assert entry["exists"] and entry["limit"] is None and entry["usage_kb"] == 0


def test_a_host_cgroup_path_seen_from_a_container_is_found_by_its_tail(container_host):
    """A container that reads its host's kernel log sees the host's paths; its hierarchy starts below them."""
    info = H.gather(container_host, no_systemctl, params(
        cgroups=["/machine.slice/libpod-0123abcd.scope/batch", "/machine.slice/libpod-0123abcd.scope/gone", "/batch"]))
    seen = info["cgroups"]["/machine.slice/libpod-0123abcd.scope/batch"]
    assert seen["exists"] and seen["matched"] == "/batch" and seen["path"] == "/sys/fs/cgroup/memory/batch"
    assert (seen["usage_kb"], seen["limit_kb"]) == (1046528, 1048576)
    assert info["cgroups"]["/batch"]["matched"] is None
    gone = info["cgroups"]["/machine.slice/libpod-0123abcd.scope/gone"]
    assert gone["exists"] is False and gone["matched"] is None
