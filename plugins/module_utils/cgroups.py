# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cgroup memory controller: detection, one vocabulary on v1 and v2, a safe plan.

* ``detect_layout()`` reads ``/proc/self/mountinfo`` and finds where the memory controller really
  is: a v1 hierarchy (possibly co-mounted with other controllers, possibly mounted elsewhere than
  ``/sys/fs/cgroup/memory``) or the cgroup2 tree; the host is ``v1``, ``v2`` or ``hybrid``.
* ``resolve_path()`` turns the user's path into a cgroup below that hierarchy, refusing ``..``,
  absolute paths elsewhere, symlinks, and (unless allowed) the parts systemd owns.
* ``plan_present()`` / ``plan_absent()`` compute the changes as ``reconcile.LiveChange`` objects in
  the order the kernel needs (create parents, enable ``+memory`` on v2, v1 limit vs memsw limit,
  then the other settings, then moving processes). Each change re-reads its file after writing
  and fails if the kernel stored something else, so the shared Transaction rolls back.

Pure standard library; nothing here imports Ansible.
"""

from __future__ import annotations

import errno
import posixpath

# the host layer: the mount table, the page size and v1's "unlimited"
from ansible_collections.oomkit.linux.plugins.module_utils.host import (
    MOUNTINFO, is_v1_unlimited, page_size, parse_mountinfo, v1_unlimited_bytes,
)
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError
from ansible_collections.oomkit.linux.plugins.module_utils.inputs import MAX_PATH_BYTES, InputError, bounded_int, check_text
from ansible_collections.oomkit.linux.plugins.module_utils.reconcile import LiveChange
from ansible_collections.oomkit.linux.plugins.module_utils.sizes import (
    SizeError, format_size, human_size, parse_size, round_to_page,
)

V1 = "v1"
V2 = "v2"
HYBRID = "hybrid"

# Unit types whose cgroups systemd creates and owns (it rewrites their files on reload/restart).
SYSTEMD_UNIT_SUFFIXES = (".slice", ".service", ".scope", ".socket", ".mount", ".swap")


class CgroupError(Exception):
    """Bad input or an unsafe request, found before anything was written."""


# ---------------------------------------------------------------------------------------------
# Mount table and layout detection
# ---------------------------------------------------------------------------------------------

class Hierarchy(object):
    """Where the memory controller's files are: version, mount point, and the mount's root."""

    def __init__(self, version, mount_point, root="/"):
        self.version = version
        self.mount_point = mount_point.rstrip("/") or "/"
        self.root = root

    def to_dict(self):
        return {"version": self.version, "mount_point": self.mount_point, "root": self.root}


class Layout(object):
    """The host's cgroup layout and the hierarchy holding the memory controller."""

    def __init__(self, version, memory, unified_mount=None, v1_mounts=None):
        self.version = version
        self.memory = memory
        self.unified_mount = unified_mount
        self.v1_mounts = v1_mounts or {}


def _prefer(mounts, usual):
    """Among bind mounts of one hierarchy prefer the one showing its whole tree at the usual place."""
    return sorted(mounts, key=lambda m: (m.root != "/", m.mount_point != usual, len(m.mount_point)))[0]


def detect_layout(fs):
    """Find the memory controller from the mount table; CgroupError when there is none."""
    mounts = parse_mountinfo(fs.read(MOUNTINFO))
    v1 = [m for m in mounts if m.fstype == "cgroup"]
    v2 = [m for m in mounts if m.fstype == "cgroup2"]
    v1_with_controllers = [m for m in v1 if m.controllers]
    if v1_with_controllers and v2:
        version = HYBRID
    elif v1_with_controllers or (v1 and not v2):
        version = V1
    elif v2:
        version = V2
    else:
        raise CgroupError("no cgroup file system is mounted (nothing of type cgroup or cgroup2 in %s)" % MOUNTINFO)

    v1_mounts = {}
    for m in v1_with_controllers:
        v1_mounts.setdefault(",".join(m.controllers), m.mount_point)
    unified = _prefer(v2, "/sys/fs/cgroup").mount_point if v2 else None

    memory_v1 = [m for m in v1 if "memory" in m.controllers]
    if memory_v1:
        chosen = _prefer(memory_v1, "/sys/fs/cgroup/memory")
        return Layout(version, Hierarchy(V1, chosen.mount_point, chosen.root), unified, v1_mounts)

    with_memory = []
    for m in v2:
        controllers = (fs.read_optional(posixpath.join(m.mount_point, "cgroup.controllers")) or "").split()
        if "memory" in controllers:
            with_memory.append(m)
    if with_memory:
        chosen = _prefer(with_memory, "/sys/fs/cgroup")
        return Layout(version, Hierarchy(V2, chosen.mount_point, chosen.root), unified, v1_mounts)

    seen = ", ".join("%s (%s)" % (m.mount_point, m.fstype) for m in v1 + v2)
    raise CgroupError(
        "the memory controller is not available: no cgroup v1 hierarchy has it and no cgroup2 mount lists it in "
        "cgroup.controllers (mounted: %s). Was the kernel booted with cgroup_disable=memory, or is it bound to a v1 "
        "hierarchy that is not mounted?" % (seen or "none"))


# ---------------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------------

class CgroupPath(object):
    """A cgroup below the memory hierarchy."""

    def __init__(self, hierarchy, components):
        self.hierarchy = hierarchy
        self.components = list(components)

    @property
    def relative(self):
        return "/".join(self.components)

    @property
    def cgroup(self):
        """The path as /proc/PID/cgroup shows it (relative to the hierarchy's root)."""
        return "/" + self.relative

    @property
    def host_path(self):
        return posixpath.join(self.hierarchy.mount_point, *self.components)

    def file(self, name):
        return posixpath.join(self.host_path, name)

    def ancestors(self):
        """Host paths of the parents, from the hierarchy root down to the direct parent."""
        result = [self.hierarchy.mount_point]
        for i in range(1, len(self.components)):
            result.append(posixpath.join(self.hierarchy.mount_point, *self.components[:i]))
        return result


def _components(path, hierarchy):
    if not isinstance(path, str) or not path.strip():
        raise CgroupError("path must be a non-empty cgroup path relative to the memory hierarchy, for example 'oomkit/batch'")
    if "\x00" in path or "\n" in path:
        raise CgroupError("path %r contains a NUL or newline character" % path)
    rel = path.strip()
    if rel.startswith("/"):
        mount = hierarchy.mount_point
        if rel == mount or rel.startswith(mount.rstrip("/") + "/"):
            rel = rel[len(mount):]
        else:
            raise CgroupError(
                "path %r is absolute and outside the memory hierarchy mounted at %s (cgroup %s); give a path relative "
                "to it (for example 'oomkit/batch') or one that starts with %s/" % (path, mount, hierarchy.version, mount))
    components = [c for c in rel.split("/") if c not in ("", ".")]
    if ".." in components:
        raise CgroupError("path %r contains '..': paths must stay inside the memory hierarchy at %s" % (path, hierarchy.mount_point))
    if not components:
        raise CgroupError("path %r is the root of the memory hierarchy, which takes no limits and cannot be created or removed; "
                          "name a cgroup below it" % path)
    for component in components:
        if len(component.encode("utf-8")) > 255:
            raise CgroupError("path component %r is longer than 255 bytes" % component)
    return components


def systemd_running(fs):
    """sd_booted(): systemd is the init system when /run/systemd/system is a directory."""
    return fs.isdir("/run/systemd/system")


def resolve_path(fs, hierarchy, path, allow_systemd_managed=False):
    """Validate ``path`` and return a CgroupPath; CgroupError says why a path is refused."""
    try:
        check_text("path", path, max_bytes=MAX_PATH_BYTES)
    except InputError as err:
        raise CgroupError(str(err))
    components = _components(path, hierarchy)
    cg = CgroupPath(hierarchy, components)

    real_mount = fs.realpath(hierarchy.mount_point)
    expected = posixpath.join(real_mount, *components)
    real = fs.realpath(cg.host_path)
    if real != expected:
        inside = real == real_mount or real.startswith(real_mount.rstrip("/") + "/")
        raise CgroupError(
            "path %r goes through a symlink and resolves to %s%s; cgroup file systems have no symlinks, so this one was "
            "planted: refusing to follow it" % (path, real, "" if inside else ", outside the memory hierarchy"))
    for i in range(1, len(components) + 1):
        partial = posixpath.join(hierarchy.mount_point, *components[:i])
        if fs.exists(partial) and not fs.isdir(partial):
            raise CgroupError("path %r: %s is a file, not a cgroup directory" % (path, partial))

    managed = [c for c in components if c.endswith(SYSTEMD_UNIT_SUFFIXES)]
    if managed and not allow_systemd_managed and systemd_running(fs):
        raise CgroupError(
            "path %r is inside the systemd unit %s: systemd owns that part of the cgroup tree and rewrites its memory "
            "files whenever it re-applies the unit (daemon-reload, set-property, restart), so a direct write would not "
            "last. Use oomkit.linux.systemd_oom to set MemoryMax=/MemoryHigh=/... on the unit instead, or set "
            "allow_systemd_managed=true for a unit with Delegate=yes or a deliberate one-off change" % (path, managed[-1]))
    return cg


# ---------------------------------------------------------------------------------------------
# The vocabulary
# ---------------------------------------------------------------------------------------------

SIZE = "size"
BOOL = "bool"
INT = "int"


class Knob(object):
    """One setting of the vocabulary and its file on each version (None: not on that version)."""

    def __init__(self, name, kind, v1_file, v2_file, unsupported_v1, unsupported_v2, missing, bounds=None):
        self.name = name
        self.kind = kind
        self.v1_file = v1_file
        self.v2_file = v2_file
        self.unsupported_v1 = unsupported_v1
        self.unsupported_v2 = unsupported_v2
        self.missing = missing
        self.bounds = bounds

    def file_for(self, version):
        return self.v1_file if version == V1 else self.v2_file


KNOBS = [
    Knob("max", SIZE, "memory.limit_in_bytes", "memory.max", None, None,
         "the hard limit file is missing from this cgroup"),
    Knob("swap_max", SIZE, "memory.memsw.limit_in_bytes", "memory.swap.max", None, None,
         "swap accounting is off on this kernel (no %s): boot with swapaccount=1 on kernels built with "
         "CONFIG_MEMCG_SWAP, or leave swap_max out"),
    Knob("high", SIZE, "memory.high", "memory.high", None, None,
         "%s does not exist: cgroup v1 has no memory.high, only openEuler/HCE kernels add it to v1 memcgs"),
    Knob("low", SIZE, "memory.low", "memory.low", None, None,
         "%s does not exist: cgroup v1 has no memory.low, only openEuler/HCE kernels add it to v1 memcgs"),
    Knob("min", SIZE, "memory.min", "memory.min", None, None,
         "%s does not exist: cgroup v1 has no memory.min (openEuler/HCE kernels add it to v1 memcgs; on v2 it "
         "needs kernel 4.18+)"),
    Knob("oom_group", BOOL, None, "memory.oom.group",
         "memory.oom.group exists only on cgroup v2 (kernel 4.19+); on v1 the OOM killer always picks one process", None,
         "%s does not exist: the kernel is older than 4.19"),
    Knob("oom_kill_disable", BOOL, "memory.oom_control", None, None,
         "cgroup v2 has no oom_kill_disable (memory.oom_control is v1 only); use memory.high to throttle instead of killing",
         "%s does not exist"),
    Knob("swappiness", INT, "memory.swappiness", None, None,
         "cgroup v2 has no per-cgroup swappiness (memory.swappiness is v1 only); the global vm.swappiness applies",
         "%s does not exist", bounds=(0, 200)),
    Knob("soft_limit", SIZE, "memory.soft_limit_in_bytes", None, None,
         "cgroup v2 has no soft limit (memory.soft_limit_in_bytes is v1 only); memory.low or memory.high are the v2 tools",
         "%s does not exist"),
    Knob("qos_level", INT, "memory.qos_level", "memory.qos_level", None, None,
         "%s does not exist: this kernel has no openEuler/HCE memcg OOM priority (CONFIG_MEMCG_OOM_PRIORITY); it needs "
         "an openEuler 22.03+ or HCE 2.0 kernel", bounds=(-1024, 1023)),
]
KNOB_NAMES = [k.name for k in KNOBS]
_KNOBS_BY_NAME = dict((k.name, k) for k in KNOBS)

# Files a freshly created cgroup has, when nothing on the host shows a non-root example to copy.
_V2_DEFAULT_FILES = set(["memory.max", "memory.high", "memory.low", "memory.min", "memory.swap.max",
                         "memory.oom.group", "memory.current", "memory.events"])


def validate_wanted(params):
    """Parse and range-check the requested settings: {name: value}; CgroupError lists what is wrong."""
    wanted, errors = {}, []
    for knob in KNOBS:
        value = params.get(knob.name)
        if value is None:
            continue
        try:
            if knob.kind == SIZE:
                wanted[knob.name] = ("size", parse_size(value, name=knob.name))
                continue
            if knob.kind == BOOL:
                if not isinstance(value, bool):
                    raise CgroupError("%s: expected true or false, got %r" % (knob.name, value))
                wanted[knob.name] = ("bool", value)
                continue
            low, high = knob.bounds
            try:
                value = bounded_int(knob.name, value, low, high)
            except InputError as err:
                raise CgroupError(str(err))
            wanted[knob.name] = ("int", value)
        except (SizeError, CgroupError) as err:
            errors.append(str(err))
    if errors:
        raise CgroupError("invalid settings: %s" % "; ".join(errors))
    return dict((name, pair[1]) for name, pair in wanted.items())


# ---------------------------------------------------------------------------------------------
# Reading values
# ---------------------------------------------------------------------------------------------

def parse_flat_keyed(text):
    """``key value`` lines (memory.oom_control, memory.events, memory.stat) -> {key: int}."""
    result = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                result[parts[0]] = int(parts[1])
            except ValueError:
                result[parts[0]] = parts[1]
    return result


def _read_int(fs, host_path):
    text = fs.read_optional(host_path)
    if text is None:
        return None
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        raise HostError("%s: expected a number, read %r" % (host_path, text), path=host_path)


def read_size(fs, host_path, version, page):
    """A size file's value: bytes, or None for unlimited. v1 shows unlimited as a huge page-aligned number."""
    text = fs.read(host_path).strip()
    if text == "max":
        return None
    try:
        value = int(text)
    except ValueError:
        raise HostError("%s: expected a size, read %r" % (host_path, text), path=host_path)
    if value < 0 or is_v1_unlimited(value, page):
        return None
    return value


class Setting(object):
    """The current and wanted value of one knob on one cgroup, and how to write it."""

    def __init__(self, knob, file_name, before, after):
        self.knob = knob
        self.file = file_name
        self.before = before
        self.after = after

    @property
    def changed(self):
        return self.before != self.after


def _render(kind, value):
    """A value as the result shows it: sizes as bytes or 'max'."""
    if value is None and kind == SIZE:
        return "max"
    return value


def _render_text(kind, value):
    """A value as the diff shows it."""
    if kind == SIZE:
        if value is None:
            return "max"
        return "%s (%d)" % (format_size(value), value)
    if kind == BOOL:
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------------------------

class Plan(object):
    """What a run will do: changes in order, per-setting report, warnings, skipped settings."""

    def __init__(self, layout, cg, state):
        self.layout = layout
        self.cg = cg
        self.state = state
        self.exists = False
        # False for a new cgroup, and on v2 for one whose memory files appear only once the parent
        # enables +memory: its settings are then all written, with no "before".
        self.has_values = False
        self.changes = []
        self.settings = {}
        self.skipped = {}
        self.warnings = []
        self.created = []
        self.subtree = []
        self.moved = []
        self.already_in = []
        self.exited = []
        self.removed = False

    def add(self, key, before, after, apply, undo=None, **read_back):
        self.changes.append(LiveChange(key, before, after, apply, undo, **read_back))

    def report_settings(self):
        result = {}
        for name, s in self.settings.items():
            result[name] = {"file": s.file, "before": _render(s.knob.kind, s.before) if self.has_values else None,
                            "after": _render(s.knob.kind, s.after), "changed": s.changed or not self.has_values}
        return result


def _listdirs(fs, host_path):
    return [n for n in fs.listdir(host_path) if fs.isdir(posixpath.join(host_path, n))]


def _probe_files(fs, cg, plan):
    """The memory.* files the target has, or will have once created (and on v2, once enabled).

    A cgroup gets the same files as its non-root siblings and parents; the root lacks several
    (v2 memory.max, ...), so look for the nearest non-root example that has the memory files: the
    cgroup itself, an existing ancestor, then any non-root cgroup of the hierarchy.
    """
    marker = "memory.limit_in_bytes" if cg.hierarchy.version == V1 else "memory.max"
    root = cg.hierarchy.mount_point

    def candidates():
        yield from [cg.host_path] + list(reversed(cg.ancestors()[1:]))
        # only listed when neither the cgroup nor a parent shows the files
        for name in _listdirs(fs, root):
            yield posixpath.join(root, name)

    for candidate in candidates():
        if fs.exists(posixpath.join(candidate, marker)):
            return set(n for n in fs.listdir(candidate) if n.startswith("memory."))
    root_files = set(n for n in fs.listdir(root) if n.startswith("memory."))
    if cg.hierarchy.version == V1:
        return root_files
    return root_files | _V2_DEFAULT_FILES


def _read_current(fs, cg, knob, file_name, page, version):
    path = cg.file(file_name)
    if knob.kind == SIZE:
        return read_size(fs, path, version, page)
    if knob.name == "oom_kill_disable":
        return bool(parse_flat_keyed(fs.read(path)).get("oom_kill_disable", 0))
    if knob.kind == BOOL:
        return _read_int(fs, path) == 1
    return _read_int(fs, path)


def _write_text(knob, version, value):
    if knob.kind == SIZE:
        if value is None:
            return "-1" if version == V1 and knob.v1_file.endswith("_in_bytes") else "max"
        return str(value)
    if knob.kind == BOOL:
        return "1" if value else "0"
    return str(value)


def _explain(err, knob, cg, fs, version, value):
    """Add the cgroup-specific reason to an errno the generic layer explained."""
    if err.errno == errno.EBUSY and knob.name in ("max", "swap_max") and version == V1:
        usage = _read_int(fs, cg.file("memory.usage_in_bytes"))
        return HostError(
            "%s; the kernel tried to reclaim memory to bring the cgroup's usage (%s) under the new limit (%s) and could not: "
            "its processes hold that memory. Stop or shrink them, or choose a higher limit"
            % (err, human_size(usage) if usage is not None else "unknown", human_size(value)), path=err.path, errno_value=err.errno)
    if err.errno == errno.EINVAL and knob.name in ("max", "swap_max") and version == V1:
        return HostError("%s; on cgroup v1 memory.limit_in_bytes must stay <= memory.memsw.limit_in_bytes at every step"
                         % err, path=err.path, errno_value=err.errno)
    return err


def _writer(fs, cg, knob, file_name, version, value):
    """apply(): write one value (the transaction reads it back: _reader)."""
    text = _write_text(knob, version, value)

    def apply():
        try:
            fs.write_value(cg.file(file_name), text)
        except HostError as err:
            raise _explain(err, knob, cg, fs, version, value)
    return apply


def _read_back(fs, cg, knob, file_name, version, page, expected):
    """The LiveChange read-back of one cgroup file: what the kernel stores now, in the plan's terms
    (sizes in bytes, rounded to pages; None for max), must be ``expected``, or the run fails."""
    def read_back():
        return _read_current(fs, cg, knob, file_name, page, version)
    return {"read_back": read_back, "expected": expected, "where": cg.file(file_name),
            "render": lambda value: str(_render(knob.kind, value))}


def _undoer(fs, cg, knob, file_name, version, value):
    text = _write_text(knob, version, value)

    def undo():
        fs.write_value(cg.file(file_name), text)
    return undo


def _plan_settings(fs, cg, plan, wanted, page, unsupported, force):
    version = cg.hierarchy.version
    marker = "memory.limit_in_bytes" if version == V1 else "memory.max"
    plan.has_values = plan.exists and fs.exists(cg.file(marker))
    files = _probe_files(fs, cg, plan)
    problems = []
    usable = {}
    for name in KNOB_NAMES:
        if name not in wanted:
            continue
        knob = _KNOBS_BY_NAME[name]
        file_name = knob.file_for(version)
        reason = None
        if file_name is None:
            reason = knob.unsupported_v1 if version == V1 else knob.unsupported_v2
        elif file_name not in files:
            reason = knob.missing % file_name if "%s" in knob.missing else knob.missing
        if reason:
            problems.append((name, reason))
        else:
            usable[name] = file_name
    if problems:
        if unsupported == "fail":
            raise CgroupError("this host cannot honour %s (cgroup %s, memory controller at %s): %s. Set unsupported=skip to "
                              "apply the rest and skip these" % (
                                  ", ".join(n for n, dummy in problems), version, cg.hierarchy.mount_point,
                                  "; ".join("%s: %s" % (n, r) for n, r in problems)))
        for name, reason in problems:
            plan.skipped[name] = reason
            plan.warnings.append("skipped %s: %s" % (name, reason))

    current = {}
    if plan.has_values:
        for name, file_name in usable.items():
            current[name] = _read_current(fs, cg, _KNOBS_BY_NAME[name], file_name, page, version)

    if version == V1:
        _plan_v1_sizes(fs, cg, plan, wanted, usable, current, page, "memory.memsw.limit_in_bytes" in files)
    else:
        _plan_v2_max(fs, cg, plan, wanted, usable, current, page, force)

    for name in KNOB_NAMES:
        if name not in usable or name in ("max", "swap_max"):
            continue
        knob = _KNOBS_BY_NAME[name]
        value = wanted[name]
        expected = round_to_page(value, page) if knob.kind == SIZE else value
        _add_setting(fs, cg, plan, knob, usable[name], current.get(name), value, expected, page)


def _add_setting(fs, cg, plan, knob, file_name, before, value, expected, page, key=None):
    version = cg.hierarchy.version
    setting = Setting(knob, file_name, before, expected)
    plan.settings[knob.name] = setting
    if plan.has_values and before == expected:
        return
    undo = _undoer(fs, cg, knob, file_name, version, before) if plan.has_values else None
    plan.add(key or knob.name, _render_text(knob.kind, before) if plan.has_values else "(no value yet)",
             _render_text(knob.kind, expected), _writer(fs, cg, knob, file_name, version, value), undo,
             **_read_back(fs, cg, knob, file_name, version, page, expected))


def _plan_v2_max(fs, cg, plan, wanted, usable, current, page, force):
    for name in ("max", "swap_max"):
        if name not in usable:
            continue
        knob = _KNOBS_BY_NAME[name]
        expected = round_to_page(wanted[name], page)
        if name == "max" and expected is not None and plan.has_values and current.get(name) != expected:
            usage = _read_int(fs, cg.file("memory.current"))
            if usage is not None and expected < usage:
                if not force:
                    raise CgroupError(
                        "refusing to set max=%s on %s: the cgroup uses %s now, and on cgroup v2 lowering memory.max below the "
                        "usage makes the kernel reclaim and then OOM-kill processes inside the cgroup until it fits. Set "
                        "force=true to accept that" % (human_size(expected), cg.cgroup, human_size(usage)))
                plan.warnings.append("max=%s is below the current usage %s of %s: the kernel will reclaim and OOM-kill inside "
                                     "the cgroup (force=true)" % (human_size(expected), human_size(usage), cg.cgroup))
        _add_setting(fs, cg, plan, knob, usable[name], current.get(name), wanted[name], expected, page)


def _plan_v1_sizes(fs, cg, plan, wanted, usable, current, page, has_memsw):
    """v1: memory.limit_in_bytes and memory.memsw.limit_in_bytes (= max + swap_max), in a safe order.

    The kernel checks limit <= memsw on every write (EINVAL otherwise): write memsw first when the
    new memsw is at least the current limit, else the limit first.
    """
    max_knob = _KNOBS_BY_NAME["max"]
    swap_knob = _KNOBS_BY_NAME["swap_max"]

    # A cgroup that does not exist yet starts unlimited (None) on both files.
    cur_limit = None
    if plan.has_values:
        cur_limit = current["max"] if "max" in current else read_size(fs, cg.file("memory.limit_in_bytes"), V1, page)
    cur_memsw = None
    if plan.has_values and has_memsw:
        cur_memsw = read_size(fs, cg.file("memory.memsw.limit_in_bytes"), V1, page)

    new_limit = round_to_page(wanted["max"], page) if "max" in usable else cur_limit

    changes = []
    if "max" in usable:
        if plan.has_values and new_limit is not None and new_limit != cur_limit:
            usage = _read_int(fs, cg.file("memory.usage_in_bytes"))
            if usage is not None and new_limit < usage:
                plan.warnings.append(
                    "max=%s is below the current usage %s of %s: the kernel will reclaim (evict cache, swap) while writing, "
                    "and refuses with EBUSY if it cannot" % (human_size(new_limit), human_size(usage), cg.cgroup))
        before_len = len(plan.changes)
        _add_setting(fs, cg, plan, max_knob, "memory.limit_in_bytes", cur_limit, wanted["max"], new_limit, page)
        changes.append(("limit", plan.changes[before_len:]))
        del plan.changes[before_len:]

    new_memsw = cur_memsw
    if "swap_max" in usable:
        swap = wanted["swap_max"]
        if swap is None:
            new_memsw = None
        elif new_limit is None:
            raise CgroupError(
                "swap_max=%s needs a finite max on cgroup v1: the kernel limits memory+swap together "
                "(memory.memsw.limit_in_bytes = max + swap_max)" % format_size(swap))
        else:
            new_memsw = round_to_page(new_limit + swap, page)
            if new_memsw >= v1_unlimited_bytes(page):
                new_memsw = None
        before_swap = None
        if plan.has_values:
            before_swap = None if cur_memsw is None or cur_limit is None else cur_memsw - cur_limit
        setting = Setting(swap_knob, "memory.memsw.limit_in_bytes", before_swap,
                          None if new_memsw is None else new_memsw - new_limit)
        plan.settings["swap_max"] = setting
        if not plan.has_values or new_memsw != cur_memsw:
            memsw_knob = Knob("swap_max", SIZE, "memory.memsw.limit_in_bytes", None, None, None, "")
            undo = _undoer(fs, cg, memsw_knob, "memory.memsw.limit_in_bytes", V1, cur_memsw) if plan.has_values else None
            change = LiveChange(
                "memsw (max + swap_max)",
                _render_text(SIZE, cur_memsw) if plan.has_values else "(no value yet)", _render_text(SIZE, new_memsw),
                _writer(fs, cg, memsw_knob, "memory.memsw.limit_in_bytes", V1, new_memsw), undo,
                **_read_back(fs, cg, memsw_knob, "memory.memsw.limit_in_bytes", V1, page, new_memsw))
            changes.append(("memsw", [change]))
    elif "max" in usable and has_memsw and plan.has_values and cur_memsw is not None and new_limit is not None and new_limit > cur_memsw:
        raise CgroupError(
            "max=%s is above %s's memory+swap limit memory.memsw.limit_in_bytes=%s, which the kernel refuses (EINVAL) on "
            "cgroup v1; set swap_max too (for example swap_max: 0) so both move together"
            % (format_size(new_limit), cg.cgroup, format_size(cur_memsw)))
    elif "max" in usable and has_memsw and plan.has_values and cur_memsw is not None and new_limit is None:
        raise CgroupError(
            "max=max (unlimited) on %s needs its memory+swap limit lifted too (memory.memsw.limit_in_bytes=%s): set swap_max: max"
            % (cg.cgroup, format_size(cur_memsw)))

    # None is "unlimited": a new cgroup starts unlimited, so there the limit always goes first.
    if [name for name, dummy in changes] == ["limit", "memsw"] and _at_least(new_memsw, cur_limit):
        changes.reverse()
    for dummy, items in changes:
        plan.changes.extend(items)


def _at_least(a, b):
    """a >= b where None means unlimited."""
    if a is None:
        return True
    if b is None:
        return False
    return a >= b


def _plan_v2_subtree(fs, cg, plan, missing):
    """v2: each ancestor must have +memory in cgroup.subtree_control for the child to get memory files."""
    ancestors = cg.ancestors()
    for index, ancestor in enumerate(ancestors):
        control = posixpath.join(ancestor, "cgroup.subtree_control")
        if ancestor in missing:
            enabled = []
        else:
            enabled = (fs.read_optional(control) or "").split()
        if "memory" in enabled:
            continue
        if index > 0 and ancestor not in missing:
            procs = (fs.read_optional(posixpath.join(ancestor, "cgroup.procs")) or "").split()
            if procs:
                raise CgroupError(
                    "cannot enable the memory controller for the children of %s: it holds processes (%s), and cgroup v2 "
                    "forbids controllers below a cgroup with processes of its own (no internal processes). Move them into "
                    "a leaf cgroup first" % (ancestor, ", ".join(procs[:10])))
        plan.subtree.append(ancestor)
        plan.add("%s/cgroup.subtree_control" % ancestor, " ".join(enabled) or "(empty)", " ".join(enabled + ["memory"]),
                 _subtree_writer(fs, control, "+memory"), _subtree_writer(fs, control, "-memory", check=False))


def _subtree_writer(fs, control, text, check=True):
    def apply():
        try:
            fs.write_value(control, text)
        except HostError as err:
            if err.errno == errno.EBUSY:
                raise HostError("%s; a cgroup with processes cannot enable controllers for its children (no internal "
                                "processes rule)" % err, path=err.path, errno_value=err.errno)
            raise
        if check and "memory" not in (fs.read_optional(control) or "").split():
            raise HostError("%s: wrote %s but memory is not enabled" % (control, text), path=control)
    return apply


def _mkdir(fs, host_path):
    def apply():
        fs.makedirs(host_path)
    return apply


def _rmdir(fs, host_path):
    def apply():
        fs.rmdir(host_path)
    return apply


def _cgroup_lines(fs, pid):
    """(hierarchy id, controllers, path) for each line of /proc/PID/cgroup (PID may be "self")."""
    text = fs.read_optional("/proc/%s/cgroup" % pid) or ""
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            yield parts[0], parts[1].split(","), parts[2]


def _below_root(path, root):
    """A /proc/PID/cgroup path made relative to a mount that shows the hierarchy from ``root``."""
    root = root.rstrip("/")
    if root and path.startswith(root + "/"):
        return path[len(root):]
    if root and path == root:
        return "/"
    return path


def process_cgroup(fs, pid, hierarchy):
    """The cgroup (hierarchy-relative, '/a/b') a process is in for the memory controller, or None."""
    for hierarchy_id, controllers, path in _cgroup_lines(fs, pid):
        if hierarchy.version == V1 and "memory" in controllers or \
                hierarchy.version == V2 and hierarchy_id == "0" and controllers == [""]:
            return _below_root(path, hierarchy.root)
    return None


def cpu_quota(fs, pid="self"):
    """The smallest CFS bandwidth limit, in CPUs, on the way from a process's cgroup up to the root
    of its hierarchy (v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` where the cpu controller is
    mounted, else v2 ``cpu.max``); None when there is none."""
    mounts = parse_mountinfo(fs.read_optional(MOUNTINFO) or "")
    cpu_v1 = [m for m in mounts if m.fstype == "cgroup" and "cpu" in m.controllers]
    unified = [m for m in mounts if m.fstype == "cgroup2"]
    if cpu_v1:
        mount, files = _prefer(cpu_v1, "/sys/fs/cgroup/cpu"), ("cpu.cfs_quota_us", "cpu.cfs_period_us")
        wanted = [path for dummy, controllers, path in _cgroup_lines(fs, pid) if "cpu" in controllers]
    elif unified:
        mount, files = _prefer(unified, "/sys/fs/cgroup"), ("cpu.max",)
        wanted = [path for hierarchy_id, controllers, path in _cgroup_lines(fs, pid)
                  if hierarchy_id == "0" and controllers == [""]]
    else:
        return None
    components = [c for c in _below_root(wanted[0] if wanted else "/", mount.root).split("/") if c]
    limits = []
    for depth in range(len(components), -1, -1):
        directory = posixpath.join(mount.mount_point, *components[:depth])
        # "quota period": cpu.max holds both, v1 one file each; "max" or -1 is no limit
        fields = " ".join(fs.read_optional(posixpath.join(directory, name)) or "" for name in files).split()
        if len(fields) == 2 and all(field.isdigit() and int(field) > 0 for field in fields):
            limits.append(int(fields[0]) / int(fields[1]))
    return min(limits) if limits else None


# PIDs that are never moved: init (its cgroup is the root of every hierarchy it manages) and
# kthreadd (the parent of every kernel thread). Kernel threads themselves are refused too: the
# kernel keeps them in the root cgroup (v2 answers EINVAL), and they are never OOM victims.
_UNMOVABLE_PIDS = {1: "PID 1 (init)", 2: "PID 2 (kthreadd, the parent of all kernel threads)"}
_PF_KTHREAD = 0x00200000
_PID_MAX = 4194304


def _process_state(fs, pid):
    """(state letter, flags) from /proc/PID/stat, or (None, None) when it cannot be read."""
    text = fs.read_optional("/proc/%d/stat" % pid) or ""
    right = text.rfind(")")
    fields = text[right + 2:].split() if right >= 0 else []
    try:
        return fields[0], int(fields[6])
    except (IndexError, ValueError):
        return None, None


def _plan_procs(fs, cg, plan, procs):
    procs = list(dict.fromkeys(procs))
    out_of_range = [pid for pid in procs if not 0 < pid <= _PID_MAX]
    if out_of_range:
        raise CgroupError("procs: process IDs are 1..%d, got %s" % (_PID_MAX, ", ".join(str(p)[:30] for p in out_of_range)))
    refused = [_UNMOVABLE_PIDS[pid] for pid in procs if pid in _UNMOVABLE_PIDS]
    if refused:
        raise CgroupError("procs: %s cannot be moved into a memory cgroup: a limit there would apply to the whole "
                          "system's %s" % (", ".join(refused), "init" if 1 in procs else "kernel threads"))
    missing = [pid for pid in procs if not fs.isdir("/proc/%d" % pid)]
    if missing:
        raise CgroupError("procs: no such process: %s" % ", ".join(str(p) for p in missing))
    kernel_threads, zombies, live = [], [], []
    for pid in procs:
        state, flags = _process_state(fs, pid)
        if flags is not None and flags & _PF_KTHREAD:
            kernel_threads.append(pid)
        elif state in ("Z", "X", "x"):
            zombies.append(pid)  # exited, not reaped: the kernel would accept the write and ignore it
        else:
            live.append(pid)
    if kernel_threads:
        raise CgroupError("procs: %s %s kernel thread(s): the kernel keeps them out of memory cgroups"
                          % (", ".join(str(p) for p in kernel_threads), "is a" if len(kernel_threads) == 1 else "are"))
    if zombies:
        plan.exited.extend(zombies)
        plan.warnings.append("procs: %s exited (zombie or gone) and cannot be moved; ignored"
                             % ", ".join(str(p) for p in zombies))
    procs = live
    for pid in procs:
        old = process_cgroup(fs, pid, cg.hierarchy)
        if old == cg.cgroup:
            plan.already_in.append(pid)
            continue
        plan.moved.append(pid)
        target = cg.file("cgroup.procs")
        undo = None
        if old is not None:
            back = posixpath.join(cg.hierarchy.mount_point, old.lstrip("/"), "cgroup.procs")
            undo = _pid_writer(fs, back, pid)
        plan.add("pid %d" % pid, old or "(unknown)", cg.cgroup, _pid_writer(fs, target, pid), undo)


def _pid_writer(fs, target, pid):
    def apply():
        fs.write_value(target, str(pid))
    return apply


def plan_present(fs, layout, cg, wanted, procs=None, page=None, unsupported="fail", force=False):
    """Plan creating ``cg`` (and parents), setting ``wanted`` ({name: parsed value}) and moving ``procs``."""
    page = page or page_size()
    for name, value in sorted(wanted.items()):
        if _KNOBS_BY_NAME[name].kind == SIZE and value and round_to_page(value, page) == 0:
            raise CgroupError("%s: %d bytes is less than one page (%d bytes): the kernel would store a 0-byte limit; "
                              "write 0 if that is what you mean" % (name, value, page))
    plan = Plan(layout, cg, "present")
    plan.exists = fs.isdir(cg.host_path)
    missing = [p for p in cg.ancestors()[1:] + [cg.host_path] if not fs.isdir(p)]
    if cg.hierarchy.version == V2:
        _plan_v2_subtree(fs, cg, plan, missing)
    subtree = dict((c.key[:-len("/cgroup.subtree_control")], c) for c in plan.changes)
    # Parents first; on v2 a new parent must exist before +memory goes into its subtree_control,
    # and that must happen before its child is created, or the child has no memory files.
    ordered = []
    for host_path in cg.ancestors() + [cg.host_path]:
        if host_path in missing:
            plan.created.append(host_path)
            ordered.append(LiveChange("cgroup %s" % host_path, "absent", "present", _mkdir(fs, host_path), _rmdir(fs, host_path)))
        if host_path in subtree:
            ordered.append(subtree[host_path])
    plan.changes = ordered
    _plan_settings(fs, cg, plan, wanted, page, unsupported, force)
    _warn_parent_cap(fs, cg, plan, wanted, page)
    if procs:
        _plan_procs(fs, cg, plan, procs)
    return plan


def holders(fs, cg):
    """What keeps a cgroup from being removed: its processes and its child cgroups."""
    procs = [int(p) for p in (fs.read_optional(cg.file("cgroup.procs")) or "").split() if p.isdigit()]
    children = _listdirs(fs, cg.host_path)
    return procs, children


def plan_absent(fs, layout, cg):
    """Plan removing ``cg``: only when it is empty; CgroupError says what still holds it."""
    plan = Plan(layout, cg, "absent")
    plan.exists = fs.isdir(cg.host_path)
    if not plan.exists:
        return plan
    procs, children = holders(fs, cg)
    if procs or children:
        held = []
        if procs:
            shown = ", ".join(str(p) for p in procs[:10]) + (", ..." if len(procs) > 10 else "")
            held.append("%d process(es) (pids %s)" % (len(procs), shown))
        if children:
            held.append("%d child cgroup(s) (%s)" % (len(children), ", ".join(children[:10])))
        raise CgroupError("cannot remove %s: it still holds %s. Move the processes out (or stop them) and remove the "
                          "children first; this module only removes empty cgroups" % (cg.cgroup, " and ".join(held)))
    plan.removed = True
    plan.add("cgroup %s" % cg.host_path, "present", "absent", _rmdir(fs, cg.host_path))
    return plan


# ---------------------------------------------------------------------------------------------
# Counters
# ---------------------------------------------------------------------------------------------

def ancestor_limit(fs, cg, page, include_self=True):
    """The tightest hard limit on the path from the hierarchy root down to ``cg``.

    Returns (bytes, host path of the cgroup that sets it), or (None, None) when nothing limits it.
    A child can never use more than any ancestor allows (v1 with use_hierarchy=1, the default and
    the only mode of current kernels; always on v2).
    """
    name = "memory.limit_in_bytes" if cg.hierarchy.version == V1 else "memory.max"
    paths = cg.ancestors()[1:] + ([cg.host_path] if include_self else [])
    best, where = None, None
    for host_path in paths:
        if fs.read_optional(posixpath.join(host_path, name)) is None:
            continue
        value = read_size(fs, posixpath.join(host_path, name), cg.hierarchy.version, page)
        if value is not None and (best is None or value < best):
            best, where = value, host_path
    return best, where


def _warn_parent_cap(fs, cg, plan, wanted, page):
    if wanted.get("max") is None:
        return
    cap, where = ancestor_limit(fs, cg, page, include_self=False)
    if cap is not None and round_to_page(wanted["max"], page) > cap:
        plan.warnings.append(
            "max=%s on %s is above the limit of its parent %s (%s): the parent's limit is reached first, and an OOM "
            "there kills in the whole subtree" % (format_size(wanted["max"]), cg.cgroup, where, format_size(cap)))


def read_stats(fs, cg, page=None):
    """Usage, peak, OOM counters and effective limit of an existing cgroup (None for what this kernel lacks)."""
    stats = {"usage": None, "peak": None, "failcnt": None, "oom_kills": None, "oom_control": None, "events": None,
             "events_local": None, "effective_max": None, "limited_by": None}
    if not fs.isdir(cg.host_path):
        return stats
    cap, where = ancestor_limit(fs, cg, page or page_size())
    stats["effective_max"] = "max" if cap is None else cap
    if where is not None:
        stats["limited_by"] = "/" + posixpath.relpath(where, cg.hierarchy.mount_point) if where != cg.hierarchy.mount_point else "/"
    if cg.hierarchy.version == V1:
        stats["usage"] = _read_int(fs, cg.file("memory.usage_in_bytes"))
        stats["peak"] = _read_int(fs, cg.file("memory.max_usage_in_bytes"))
        stats["failcnt"] = _read_int(fs, cg.file("memory.failcnt"))
        control = fs.read_optional(cg.file("memory.oom_control"))
        if control is not None:
            stats["oom_control"] = parse_flat_keyed(control)
            stats["oom_kills"] = stats["oom_control"].get("oom_kill")
    else:
        stats["usage"] = _read_int(fs, cg.file("memory.current"))
        stats["peak"] = _read_int(fs, cg.file("memory.peak"))
        events = fs.read_optional(cg.file("memory.events"))
        if events is not None:
            stats["events"] = parse_flat_keyed(events)
            stats["oom_kills"] = stats["events"].get("oom_kill")
        local = fs.read_optional(cg.file("memory.events.local"))
        if local is not None:
            stats["events_local"] = parse_flat_keyed(local)
    return stats
