# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's OOM posture, read-only: what the oom_host_info module returns.

``gather(fs, runner, params)`` answers, in one pass, what the hardening and diagnosis roles need to
know about a host before they decide anything: is it a container (and on what evidence), which
container runtimes it carries, whether this run has CAP_SYS_RESOURCE, whether /proc/sys and the
memory cgroup file system are writable (told from the mount table, nothing is written), the cgroup
layout, systemd and the given units, the given process selections with their live oom_score_adj,
the given cgroups' usage and OOM counters, the openEuler memcg QoS knobs, and sysctl values.

Everything is read through a HostFS (unit tests anchor it at a fixture tree) and the detection is
the collection's own: ``cgroups.detect_layout``/``read_stats``, ``processes.select_processes``,
``systemd.parse_show``/``detect_version``, ``sysctl.normalize_name``/``name_to_path``.
``runner(argv) -> (rc, out, err)`` runs systemctl; it returns rc 127 when systemctl is absent.
Pure standard library; nothing here imports Ansible.
"""

from __future__ import annotations

import os
import posixpath

from ansible_collections.oomkit.linux.plugins.module_utils.cgroups import (
    V1, CgroupError, detect_layout, page_size, read_size, read_stats, resolve_path, systemd_running,
    CgroupPath,
)
from ansible_collections.oomkit.linux.plugins.module_utils import systemctl
from ansible_collections.oomkit.linux.plugins.module_utils.host import read_mounts
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError
from ansible_collections.oomkit.linux.plugins.module_utils.processes import (
    ProcessSelector, SelectorError, has_cap_sys_resource, select_processes,
)
from ansible_collections.oomkit.linux.plugins.module_utils.sysctl import (
    OOM_POSTURE_SYSCTLS, QOS_SYSCTL, SysctlError, name_to_path, normalize_name,
)
from ansible_collections.oomkit.linux.plugins.module_utils.systemd import (
    SYSTEM_UNIT_DIRS, SystemdError, normalize_unit_name, parse_show, parse_version, read_oom_score_adj,
)


class HostInfoError(ValueError):
    """Bad module input, found before anything was read."""


# The OOM sysctls always reported (more come from the ``sysctls`` option): from sysctl's knob table.
BASE_SYSCTLS = OOM_POSTURE_SYSCTLS

# Container runtimes: the name reported, the programs, the API sockets, and the process names (comm,
# at most 15 characters) of their daemons and shims.
RUNTIMES = (
    ("podman", ("podman",), ("/run/podman/podman.sock",), ("podman", "conmon")),
    ("docker", ("docker", "dockerd"), ("/run/docker.sock", "/var/run/docker.sock"),
     ("dockerd", "cri-dockerd")),
    ("containerd", ("containerd", "ctr", "nerdctl"), ("/run/containerd/containerd.sock",),
     ("containerd", "containerd-shim", "containerd-shi")),
    ("crio", ("crio",), ("/run/crio/crio.sock", "/var/run/crio/crio.sock"), ("crio", "conmon-rs")),
    ("isulad", ("isula", "isulad"), ("/run/isulad.sock", "/var/run/isulad.sock"), ("isulad", "isulad-shim")),
    ("lxc", ("lxc-start", "lxd"), ("/var/lib/lxd/unix.socket", "/var/snap/lxd/common/lxd/unix.socket"),
     ("lxc-start", "lxd")),
    ("kubernetes", ("kubelet", "k3s"), (), ("kubelet", "k3s-server", "k3s-agent")),
)
BIN_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")

# Markers in /proc/1/cgroup of a container's init (cgroup paths the engines create).
CGROUP_MARKERS = (("/docker/", "docker"), ("/docker-", "docker"), ("/libpod-", "podman"), ("/machine.slice/libpod", "podman"),
                  ("/kubepods", "kubernetes"), ("/lxc/", "lxc"), ("/lxc.payload", "lxc"), ("/isulad/", "isulad"))

UNIT_PROPERTIES = ("Id", "Names", "LoadState", "ActiveState", "SubState", "MainPID", "OOMScoreAdjust", "FragmentPath")
SELECTOR_KEYS = ("pid", "pids", "pidfile", "name", "pattern", "user", "cgroup", "unit", "include_children")


def _mounts(fs):
    """The mount table (the host layer's parser)."""
    return read_mounts(fs)


def _mount_of(mounts, path):
    """The last-mounted entry whose mount point contains ``path`` (the one that is visible)."""
    best = None
    for entry in mounts:
        point = entry.mount_point.rstrip("/") or "/"
        if path == point or path.startswith(point.rstrip("/") + "/") or point == "/":
            if best is None or len(point) >= len(best.mount_point.rstrip("/") or "/"):
                best = entry
    return best


def writable(fs, mounts, path, what, hint):
    """Whether ``path`` can be written, told without writing: mount flags, statvfs, access(2)."""
    state = {"writable": False, "reason": None, "mount_point": None, "read_only_mount": None}
    if not fs.exists(path):
        state["reason"] = "%s does not exist here" % path
        return state
    mount = _mount_of(mounts, path)
    read_only = False
    if mount is not None:
        state["mount_point"] = mount.mount_point
        read_only = mount.read_only
    try:
        read_only = read_only or bool(os.statvfs(fs.path(path)).f_flag & os.ST_RDONLY)
    except OSError:
        pass
    state["read_only_mount"] = read_only
    if read_only:
        state["reason"] = "%s is mounted read-only here%s" % (what, hint)
    elif not os.access(fs.path(path), os.W_OK):
        state["reason"] = "%s is not writable by this user (run with become)" % what
    else:
        state["writable"] = True
    return state


# --- container ---------------------------------------------------------------------------------

def detect_container(fs):
    """{in_container, runtime, evidence}. /.dockerenv alone is not trusted: image builds leave it behind."""
    evidence = []
    runtime = None
    environ = None
    try:
        environ = fs.read_optional("/proc/1/environ")
    except HostError as err:
        evidence.append({"source": "/proc/1/environ", "found": "unreadable: %s" % err, "conclusive": False})
    for item in (environ or "").split("\0"):
        if item.startswith("container="):
            runtime = item.split("=", 1)[1] or "unknown"
            evidence.append({"source": "/proc/1/environ", "found": item, "conclusive": True})
    for path, name in (("/run/.containerenv", "podman"), ("/run/systemd/container", None)):
        if not fs.exists(path):
            continue
        text = fs.read_optional(path) if name is None else None
        found = (text or "").strip() or "present"
        evidence.append({"source": path, "found": found, "conclusive": True})
        runtime = runtime or name or (text or "").strip() or "unknown"
    try:
        cgroup = fs.read_optional("/proc/1/cgroup") or ""
    except HostError:
        cgroup = ""
    for line in cgroup.splitlines():
        for marker, name in CGROUP_MARKERS:
            if marker in line.split(":", 2)[-1]:
                evidence.append({"source": "/proc/1/cgroup", "found": line.strip(), "conclusive": True})
                runtime = runtime or name
                break
        else:
            continue
        break
    conclusive = any(e["conclusive"] for e in evidence)
    if fs.exists("/.dockerenv"):
        evidence.append({"source": "/.dockerenv", "found": "present", "conclusive": False})
        if conclusive and runtime == "unknown":
            runtime = "docker"
    return {"in_container": conclusive, "runtime": runtime if conclusive else None, "evidence": evidence}


def runtime_processes(fs):
    """Sorted comm names of running container runtime daemons and shims (one scan of /proc)."""
    wanted = set()
    for _name, _bins, _socks, comms in RUNTIMES:
        wanted.update(comms)
    found = set()
    try:
        pids = [p for p in fs.listdir("/proc") if p.isdigit()]
    except HostError:
        return []
    for pid in pids:
        try:
            comm = fs.read_optional("/proc/%s/comm" % pid)
        except HostError:
            continue  # vanished or unreadable
        if comm is not None and comm.rstrip("\n") in wanted:
            found.add(comm.rstrip("\n"))
    return sorted(found)


def container_runtimes(fs, running):
    """The runtimes present: their programs, sockets and running processes."""
    result = []
    for name, binaries, sockets, comms in RUNTIMES:
        entry = {"name": name,
                 "binaries": [posixpath.join(d, b) for b in binaries for d in BIN_DIRS if fs.exists(posixpath.join(d, b))],
                 "sockets": [s for s in sockets if fs.exists(s)],
                 "processes": [c for c in running if c in comms]}
        # /bin -> /usr/bin on merged-usr hosts: one program, one entry
        seen, unique = set(), []
        for path in entry["binaries"]:
            real = fs.realpath(path)
            if real not in seen:
                seen.add(real)
                unique.append(path)
        entry["binaries"] = unique
        if entry["binaries"] or entry["sockets"] or entry["processes"]:
            result.append(entry)
    return result


# --- cgroups -----------------------------------------------------------------------------------

def memory_layout(fs):
    """``(cgroups.Layout, None)`` or ``(None, the reason)`` when no memory controller can be found."""
    try:
        return detect_layout(fs), None
    except (CgroupError, HostError) as err:
        return None, str(err)


def cgroup_state(fs, mounts, found=None):
    state = {"version": None, "memory_version": None, "memory_mount": None, "memory_root": None,
             "unified_mount": None, "memory_writable": False, "reason": None}
    layout, error = found or memory_layout(fs)
    if layout is None:
        state["reason"] = "the memory cgroup controller is not available here: %s" % error
        return state, None
    state.update(version=layout.version, memory_version=layout.memory.version, memory_mount=layout.memory.mount_point,
                 memory_root=layout.memory.root, unified_mount=layout.unified_mount)
    access = writable(fs, mounts, layout.memory.mount_point, "the memory cgroup hierarchy %s" % layout.memory.mount_point,
                      " (an unprivileged container)")
    state["memory_writable"] = access["writable"]
    state["reason"] = access["reason"]
    return state, layout


def qos_level_present(fs, hierarchy):
    """memory.qos_level exists in non-root memcgs only: look at the root and one level down."""
    if hierarchy is None or not fs.isdir(hierarchy.mount_point):
        return False
    mount = hierarchy.mount_point
    if fs.exists(mount + "/memory.qos_level"):
        return True
    try:
        entries = fs.listdir(mount)
    except HostError:
        return False
    return any(fs.exists(posixpath.join(mount, e, "memory.qos_level")) for e in entries)


def _kb(value):
    return None if value is None else value // 1024


def cgroup_usage(fs, hierarchy, path, page):
    """Usage, own limit and OOM counters of one cgroup; the path as logs show it or a full host path."""
    entry = {"exists": False, "path": None, "matched": None, "usage": None, "limit": None, "usage_kb": None,
             "limit_kb": None, "peak": None, "failcnt": None, "oom_kills": None, "effective_limit": None, "limited_by": None, "error": None}
    if hierarchy is None:
        entry["error"] = "no memory cgroup controller here"
        return entry
    if not isinstance(path, str) or not path.strip():
        entry["error"] = "%r is not a cgroup path" % (path,)
        return entry
    text = path
    mount = hierarchy.mount_point
    if text.startswith("/") and not (text == mount or text.startswith(mount.rstrip("/") + "/")):
        text = text.lstrip("/")  # as /proc/PID/cgroup and the kernel log show it: below the hierarchy root
    try:
        if text.strip("/") in ("", ".") or text == mount:
            cg = CgroupPath(hierarchy, [])
        else:
            cg = resolve_path(fs, hierarchy, text, allow_systemd_managed=True)
    except CgroupError as err:
        entry["error"] = str(err)
        return entry
    entry["path"] = cg.host_path
    if not fs.isdir(cg.host_path):
        # A container that reads its host's kernel log sees the host's cgroup paths
        # (/machine.slice/libpod-ID.scope/system.slice/x.service) and its own hierarchy below its namespace's
        # root: the longest tail of the path that exists here is the same cgroup.
        parts = [p for p in text.strip("/").split("/") if p]
        for start in range(1, len(parts)):
            try:
                tail = resolve_path(fs, hierarchy, "/".join(parts[start:]), allow_systemd_managed=True)
            except CgroupError:
                continue
            if fs.isdir(tail.host_path):
                cg = tail
                entry["path"], entry["matched"] = cg.host_path, "/" + "/".join(parts[start:])
                break
        else:
            return entry
    usage_file, limit_file = ("memory.usage_in_bytes", "memory.limit_in_bytes") if hierarchy.version == V1 \
        else ("memory.current", "memory.max")
    try:
        if fs.read_optional(cg.file(usage_file)) is None:
            entry["error"] = "%s has no %s (the root of a cgroup v2 hierarchy has none)" % (cg.host_path, usage_file)
            return entry
        entry["exists"] = True
        stats = read_stats(fs, cg, page) if cg.components else {}
        entry["usage"] = stats.get("usage") if cg.components else int(fs.read(cg.file(usage_file)).strip())
        if fs.read_optional(cg.file(limit_file)) is not None:
            entry["limit"] = read_size(fs, cg.file(limit_file), hierarchy.version, page)
        for key in ("peak", "failcnt", "oom_kills", "limited_by"):
            entry[key] = stats.get(key)
        effective = stats.get("effective_max")
        entry["effective_limit"] = None if effective in (None, "max") else effective
    except (HostError, ValueError) as err:
        entry["error"] = str(err)
    entry["usage_kb"], entry["limit_kb"] = _kb(entry["usage"]), _kb(entry["limit"])
    return entry


# --- systemd -----------------------------------------------------------------------------------

def systemd_state(fs, runner):
    state = {"running": systemd_running(fs), "version": None, "systemctl": False}
    rc, out, _err = runner(["systemctl", "--version"])
    if rc == 127:
        state["running"] = False  # systemd as init but no systemctl: nothing can be asked of it
        return state
    state["systemctl"] = True
    if rc == 0:
        try:
            state["version"] = parse_version(out)
        except SystemdError:
            pass
    return state


def unit_file(fs, name):
    """(unit id, names) from the installed unit files, for hosts where systemd does not run; None when absent.
    An alias (a symlink to another unit file) resolves to that unit; an instance to its template."""
    candidates = [name]
    if "@" in name and not name.split("@", 1)[1].startswith("."):
        prefix, rest = name.split("@", 1)
        candidates.append(prefix + "@." + rest.rsplit(".", 1)[-1])
    for directory in SYSTEM_UNIT_DIRS:
        for candidate in candidates:
            path = posixpath.join(directory, candidate)
            if not fs.exists(path):
                continue
            real = posixpath.basename(fs.realpath(path))
            if candidate == name and real != name and real.endswith(name[name.rfind("."):]) and "@" not in real:
                return real, sorted(set([real, name]))
            return name, [name]
    return None


def unit_states(fs, runner, systemd, units):
    """{name: state} for each unit; from systemctl when systemd runs, from the unit files otherwise."""
    result = {}
    for name in units:
        result[name] = {"present": False, "id": None, "names": [], "source": None, "load_state": None,
                        "active_state": None, "sub_state": None, "oom_score_adjust": None, "main_pid": 0,
                        "main_pid_oom_score_adj": None, "fragment_path": None}
    if not units:
        return result
    if not systemd["running"]:
        for name in units:
            found = unit_file(fs, name)
            if found:
                result[name].update(present=True, id=found[0], names=found[1], source="unit_file")
        return result
    rc, out, err = runner(systemctl.show_argv(list(units), UNIT_PROPERTIES))
    if rc != 0:
        raise SystemdError("`systemctl show` of %s failed (rc=%s): %s" % (", ".join(units), rc, (err or out).strip()))
    blocks = (out or "").strip("\n").split("\n\n")
    for name, block in zip(units, blocks):
        shown = parse_show(block)
        entry = result[name]
        entry.update(source="systemctl", load_state=shown.get("LoadState"), active_state=shown.get("ActiveState"),
                     sub_state=shown.get("SubState"), fragment_path=shown.get("FragmentPath") or None)
        if shown.get("LoadState") != "loaded":
            continue
        entry["present"] = True
        entry["id"] = shown.get("Id") or name
        entry["names"] = sorted(set((shown.get("Names") or name).split()))
        adjust = (shown.get("OOMScoreAdjust") or "").strip()
        entry["oom_score_adjust"] = int(adjust) if adjust.lstrip("-").isdigit() else None
        pid = (shown.get("MainPID") or "0").strip()
        entry["main_pid"] = int(pid) if pid.isdigit() else 0
        if entry["main_pid"]:
            entry["main_pid_oom_score_adj"] = read_oom_score_adj(fs, entry["main_pid"])
    return result


# --- processes and sysctls -----------------------------------------------------------------------

def selection(index, item):
    """A ProcessSelector from one ``processes`` entry; HostInfoError names the entry."""
    where = "processes #%d" % (index + 1)
    if not isinstance(item, dict):
        raise HostInfoError("%s must be a mapping of selectors, not %r" % (where, item))
    unknown = sorted(set(k for k, v in item.items() if v is not None) - set(SELECTOR_KEYS))
    if unknown:
        raise HostInfoError("%s: unknown key(s) %s (selectors: %s)" % (where, ", ".join(unknown), ", ".join(SELECTOR_KEYS)))
    params = dict((k, item.get(k)) for k in SELECTOR_KEYS)
    selector = ProcessSelector.from_params(params)
    try:
        return selector.validate()
    except SelectorError as err:
        raise HostInfoError("%s: %s" % (where, err))


def select(fs, index, selector, runner, exclude):
    try:
        found = select_processes(fs, selector, run_command=runner, exclude_pids=exclude)
    except SelectorError as err:
        raise HostInfoError("processes #%d: %s" % (index + 1, err))
    result = []
    for proc in found:
        result.append({"pid": proc.pid, "ppid": proc.ppid, "comm": proc.comm,
                       "oom_score_adj": read_oom_score_adj(fs, proc.pid)})
    return [p for p in result if p["oom_score_adj"] is not None]  # vanished since the scan


def sysctl_names(names):
    result = list(BASE_SYSCTLS)
    for name in names or ():
        try:
            canonical = normalize_name(name)
        except SysctlError as err:
            raise HostInfoError("sysctls: %s" % err)
        if canonical not in result:
            result.append(canonical)
    return result


def sysctl_values(fs, names):
    result = {}
    for name in names:
        path = name_to_path(name)
        entry = {"present": fs.exists(path), "value": None}
        if entry["present"]:
            try:
                text = fs.read_optional(path)
            except HostError:
                text = None  # present but not readable (a write-only knob)
            entry["value"] = None if text is None else " ".join(text.split())
        result[name] = entry
    return result


# --- the OOM posture: one collector for oom_host_info and oom_facts -------------------------------

def oom_posture(fs, names):
    """What both oom_host_info (``gather``) and oom_facts (``oom_sources.host_config``) report of the host's
    OOM posture, read one way through ``fs``: the values of the sysctls ``names`` (sysctl_values), the
    memory cgroup layout (``layout``, or None and ``layout_error``) and the running kernel's release."""
    layout, error = memory_layout(fs)
    try:
        kernel = (fs.read_optional("/proc/sys/kernel/osrelease") or "").strip() or None
    except HostError:
        kernel = None
    return {"sysctls": sysctl_values(fs, names), "layout": layout, "layout_error": error, "kernel": kernel}


# --- everything ------------------------------------------------------------------------------------

def validate(params):
    """Check the input; return (units, selectors, cgroups, sysctl names). Nothing is read yet."""
    units = []
    for name in params.get("units") or ():
        try:
            unit = normalize_unit_name(name)
        except SystemdError as err:
            raise HostInfoError("units: %s" % err)
        if unit not in units:
            units.append(unit)
    selectors = [selection(i, item) for i, item in enumerate(params.get("processes") or ())]
    cgroups = []
    for path in params.get("cgroups") or ():
        # no refusal here: paths may come from logs; a bad one gets its error in the result
        if path not in cgroups:
            cgroups.append(path)
    return units, selectors, cgroups, sysctl_names(params.get("sysctls"))


def gather(fs, runner, params, exclude_pids=()):
    """The whole host posture (see the module's RETURN). HostInfoError for bad input."""
    units, selectors, cgroup_paths, names = validate(params)
    posture = oom_posture(fs, names)
    mounts = _mounts(fs)
    info = {"container": detect_container(fs), "cap_sys_resource": has_cap_sys_resource(fs)}
    running = runtime_processes(fs)
    info["runtime_processes"] = running
    info["runs_containers"] = bool(running)
    info["container_runtimes"] = container_runtimes(fs, running)
    probe = next((name_to_path(n) for n in BASE_SYSCTLS if fs.exists(name_to_path(n))), "/proc/sys")
    info["proc_sys"] = writable(fs, mounts, probe, "/proc/sys", " (an unprivileged container)")
    info["cgroup"], layout = cgroup_state(fs, mounts, (posture["layout"], posture["layout_error"]))
    hierarchy = layout.memory if layout is not None else None
    info["sysctls"] = posture["sysctls"]
    info["memcg_qos"] = {"sysctl": info["sysctls"][QOS_SYSCTL]["present"], "qos_level": qos_level_present(fs, hierarchy)}
    info["systemd"] = systemd_state(fs, runner)
    try:
        info["units"] = unit_states(fs, runner, info["systemd"], units)
    except SystemdError as err:
        raise HostInfoError(str(err))
    info["processes"] = []
    for index, selector in enumerate(selectors):
        info["processes"].append({"selector": dict((k, v) for k, v in params["processes"][index].items()
                                                   if v is not None and v != [] and not (k == "include_children" and v is False)),
                                  "processes": select(fs, index, selector, runner, exclude_pids)})
    page = page_size()
    info["cgroups"] = dict((path, cgroup_usage(fs, hierarchy, path, page)) for path in cgroup_paths)
    return info
