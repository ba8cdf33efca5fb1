# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Select running processes and set their live ``oom_score_adj``.

Public API (other modules, e.g. ``systemd_oom``, reuse it)::

    from ansible_collections.oomkit.linux.plugins.module_utils.processes import (
        ProcessSelector, SelectorError, select_processes, plan_oom_score_adj, process_results)

    selector = ProcessSelector(unit="sshd.service")          # or ProcessSelector.from_params(params)
    procs = select_processes(fs, selector, run_command=module.run_command)
    changes = plan_oom_score_adj(fs, procs, -900)            # list of reconcile.LiveChange
    txn = Transaction(check_mode=module.check_mode)
    for change in changes:
        txn.add_live(change)
    try:
        txn.commit()                                         # ApplyError on failure, rolled back
    except ApplyError as err:
        mark_unapplied(procs)                                # planned but never written
        module.fail_json(msg=str(err), processes=process_results(fs, procs))
    changed = any(p.status == "changed" for p in procs)      # vanished ones do not count
    module.exit_json(changed=changed, processes=process_results(fs, procs))

* ``select_processes(fs, selector, run_command=None, exclude_pids=())`` scans ``/proc`` once and
  returns a list of :class:`Process` sorted by pid. Kernel threads and zombies are never returned.
  A selector with no criterion at all is refused (it would select every process).
  ``run_command(argv) -> (rc, stdout, stderr)`` is only needed for ``unit`` (``systemctl``);
  without it a small subprocess runner is used. Raises :class:`SelectorError` for bad input
  (bad regex, unknown user, unreadable pidfile contents, no systemctl) and HostError for host
  failures.
* ``plan_oom_score_adj(fs, processes, value)`` reads each process's current value, sets
  ``before``/``after``/``status`` on it (``changed`` = planned, ``unchanged``, ``vanished``) and
  returns a LiveChange for each process that differs,
  lowering writes first (they are the only ones the kernel may refuse, so a refusal happens before
  anything was raised). Each change, when applied, re-opens ``/proc/PID`` and checks the start
  time so a reused PID is never written to; a process that exited is marked ``vanished`` and is
  not an error. A refused write raises HostError whose message explains CAP_SYS_RESOURCE (status
  ``failed``); the Transaction then rolls back the processes already written (``rolled_back``)
  and ``mark_unapplied(procs)`` marks the rest ``not_applied``.
* ``legacy_warning(procs, value)``: a warning text when the kernel only has the lossy oom_adj.
* ``process_results(fs, processes)`` returns the documented result list (pid, comm, cmdline,
  before, after, oom_score, status, interface) after commit; ``oom_score`` is read then.
* ``has_cap_sys_resource(fs)`` tells whether this process may lower values below the floor.
* ``score_adj_to_oom_adj`` / ``oom_adj_to_score_adj``: the kernel's legacy mappings.
"""

from __future__ import annotations

import errno
import os
import pwd
import re

from ansible_collections.oomkit.linux.plugins.module_utils import systemctl
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError, TrustError, explain_oserror, read_trusted
from ansible_collections.oomkit.linux.plugins.module_utils.inputs import MAX_VALUE_BYTES, InputError, check_path, check_text
from ansible_collections.oomkit.linux.plugins.module_utils.reconcile import VANISHED, LiveChange, key_colon_value

OOM_SCORE_ADJ_MIN = -1000
OOM_SCORE_ADJ_MAX = 1000
OOM_ADJ_MIN = -17
OOM_ADJ_MAX = 15
PF_KTHREAD = 0x00200000
CAP_SYS_RESOURCE = 24
COMM_LEN = 15  # TASK_COMM_LEN - 1: /proc/PID/comm holds at most 15 BYTES
CMDLINE_EXCERPT = 200

# errnos that mean "the process is gone" when touching /proc/PID/*
_GONE = (errno.ENOENT, errno.ESRCH)

CAP_SYS_RESOURCE_HINT = (
    "the kernel refuses to set oom_score_adj below a process's floor (the lowest value a "
    "privileged writer gave it, usually 0) unless the writer has CAP_SYS_RESOURCE, and this run "
    "does not have it: containers and user namespaces usually lack it even as root. Raising "
    "values works without it; to protect a service, set OOMScoreAdjust= with "
    "oomkit.linux.systemd_oom so the service manager applies it when the service starts")


# A live oom_score_adj change in a diff: ``pid 4242 (sleep): -900`` (oom_score_adj, systemd_oom).
diff_line = key_colon_value


def out_of_range(value):
    return "value %d is out of range: oom_score_adj takes %d..%d" % (value, OOM_SCORE_ADJ_MIN, OOM_SCORE_ADJ_MAX)


def refused_without_capability(before, after, cap_sys_resource):
    """Whether the kernel will refuse to set a process's oom_score_adj from ``before`` to ``after``.

    The one home of the rule "lowering needs CAP_SYS_RESOURCE", used by oom_score_adj, systemd_oom
    and the hardening plan. The kernel (fs/proc/base.c, __set_oom_adj) refuses a write below the
    task's ``oom_score_adj_min`` with EACCES unless the writer has CAP_SYS_RESOURCE; a privileged
    write moves that floor to the new value, so the floor never exceeds the current value. /proc does
    not show the floor: it is estimated as ``min(before, 0)``, the floor of a process that no
    privileged writer lowered (fork copies 0 from init) or whose value a privileged writer set below
    0 (systemd's OOMScoreAdjust=). ``before`` None (not read, for example a unit not running yet)
    estimates it as 0. Raising is never refused; with the capability, or when it cannot be told
    (``cap_sys_resource`` None), nothing is predicted as refused.

    The estimate errs only for a floor a privileged writer put above 0 (a lowering toward 0 is then
    refused although predicted to pass) or for a value raised by an unprivileged writer above a
    negative floor (a lowering between the two passes although predicted to be refused).
    """
    if cap_sys_resource is not False:
        return False
    floor = 0 if before is None else min(before, 0)
    return after < floor


class SelectorError(ValueError):
    """Bad selection input (the module reports it and changes nothing)."""


class Process(object):
    """What the scan learnt about one process, plus the planned and applied oom_score_adj."""

    __slots__ = ("pid", "comm", "cmdline", "ppid", "starttime", "flags", "state", "uid",
                 "interface", "before", "after", "status", "raw_before", "raw_after", "applied")

    def __init__(self, pid):
        self.pid = pid
        self.comm = None
        self.cmdline = None      # list of arguments, None when not read yet
        self.ppid = None
        self.starttime = None
        self.flags = None
        self.state = None
        self.uid = None
        self.interface = None    # "oom_score_adj" or "oom_adj" (legacy kernels)
        self.before = None       # oom_score_adj scale
        self.after = None
        self.raw_before = None   # value of the file written (differs from before for oom_adj)
        self.raw_after = None
        self.status = None       # changed | unchanged | vanished | failed | rolled_back | not_applied
        self.applied = False     # the planned write was made (and not rolled back)

    @property
    def is_kernel_thread(self):
        return bool(self.flags is not None and self.flags & PF_KTHREAD) or self.pid == 2 or self.ppid == 2

    @property
    def is_zombie(self):
        return self.state in ("Z", "X", "x")

    def cmdline_text(self):
        return " ".join(self.cmdline or [])

    def label(self):
        return "pid %d (%s)" % (self.pid, self.comm or "?")

    def __repr__(self):
        return "Process(%d, %r)" % (self.pid, self.comm)


class ProcessSelector(object):
    """The selection criteria; all given criteria must match (AND)."""

    KEYS = ("pids", "pidfile", "name", "pattern", "user", "cgroup", "unit")

    def __init__(self, pids=None, pidfile=None, name=None, pattern=None, user=None, cgroup=None,
                 unit=None, include_children=False):
        self.pids = None if pids is None else [int(p) for p in pids]
        self.pidfile = pidfile or None
        self.name = name if name not in (None, "") else None
        self.pattern = pattern if pattern not in (None, "") else None
        self.user = None if user in (None, "") else str(user)
        self.cgroup = cgroup or None
        self.unit = unit or None
        self.include_children = bool(include_children)
        self.regex = None
        self.uid = None

    @classmethod
    def from_params(cls, params):
        """Build from module parameters (``pid`` and ``pids`` both feed the PID list)."""
        pids = None
        if params.get("pid") is not None or params.get("pids") is not None:
            pids = []
            if params.get("pid") is not None:
                pids.append(params["pid"])
            pids.extend(params.get("pids") or [])
        return cls(pids=pids, pidfile=params.get("pidfile"), name=params.get("name"),
                   pattern=params.get("pattern"), user=params.get("user"),
                   cgroup=params.get("cgroup"), unit=params.get("unit"),
                   include_children=params.get("include_children"))

    def is_empty(self):
        return all(getattr(self, key) is None for key in self.KEYS)

    def validate(self):
        """Check and compile everything that can be checked without touching processes."""
        if self.is_empty():
            raise SelectorError("no selector given: use at least one of pid, pids, pidfile, name, "
                                "pattern, user, cgroup or unit (selecting every process is refused)")
        if self.pids is not None:
            bad = [p for p in self.pids if not 0 < p <= PID_MAX]
            if bad:
                raise SelectorError("process IDs must be integers in 1..%d (the kernel's PID_MAX_LIMIT), got %s"
                                    % (PID_MAX, ", ".join(str(p)[:30] for p in bad)))
        try:
            for option in ("pidfile", "cgroup"):
                check_path(option, getattr(self, option))
            for option in ("name", "pattern", "user", "unit"):
                if getattr(self, option) is not None:
                    check_text(option, getattr(self, option), max_bytes=MAX_VALUE_BYTES)
        except InputError as err:
            raise SelectorError(str(err))
        if self.pidfile is not None and not self.pidfile.startswith("/"):
            raise SelectorError("pidfile %s must be an absolute path" % ascii(self.pidfile))
        if self.name is not None and ("/" in self.name or "\n" in self.name):
            raise SelectorError("name %r is a process name (comm), not a path: it cannot contain '/'; "
                                "use pattern to match a path in the command line" % self.name)
        if self.pattern is not None:
            try:
                self.regex = re.compile(self.pattern)
            except re.error as err:
                raise SelectorError("pattern %r is not a valid regular expression: %s" % (self.pattern, err))
        if self.user is not None:
            self.uid = resolve_user(self.user)
        if self.unit is not None:
            try:
                self.unit = systemctl.check_unit_name(systemctl.mangle(self.unit))
            except systemctl.SystemctlError as err:
                raise SelectorError("unit: %s" % err)
        if self.cgroup is not None and not self.cgroup.startswith("/"):
            raise SelectorError("cgroup %r must be an absolute path: a cgroup path such as "
                                "/system.slice/foo.service or a directory under /sys/fs/cgroup" % self.cgroup)
        return self

    def describe(self):
        parts = []
        for key in self.KEYS:
            value = getattr(self, key)
            if value is not None:
                parts.append("%s=%s" % (key, value))
        if self.include_children:
            parts.append("include_children")
        return ", ".join(parts)


def resolve_user(user):
    """A user name or numeric UID to a UID (names win, as in ps and pgrep)."""
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        pass
    if user.isdigit():
        return int(user)
    raise SelectorError("user %r does not exist on this host (give a user name or a numeric UID)" % user)


# ---- low level /proc reading ------------------------------------------------------------------
# Plain os.open/os.read: several times faster than open() for the many tiny /proc files of a scan.

def _read(path, size=8192):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)


def _read_all(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _decode(data):
    return data.decode("utf-8", "replace")


def parse_stat(data):
    """Parse /proc/PID/stat text: (comm, state, ppid, flags, starttime).

    comm is in parentheses and may itself contain spaces and ')': split after the LAST ')'.
    """
    left = data.find("(")
    right = data.rfind(")")
    if left < 0 or right < left:
        raise ValueError("malformed stat line")
    comm = data[left + 1:right]
    rest = data[right + 2:].split()
    # rest[0] is field 3 (state): field N is rest[N - 3]
    return comm, rest[0], int(rest[1]), int(rest[6]), int(rest[19])


def _parse_cmdline(data):
    if not data:
        return []
    args = data.split(b"\0")
    if args and args[-1] == b"":
        args.pop()
    return [_decode(a) for a in args]


class _Scanner(object):
    """Reads per-process files lazily, each at most once, skipping processes that vanish."""

    def __init__(self, fs):
        self.fs = fs
        self.proc = fs.path("/proc")
        self._pids = None

    def _file(self, pid, name):
        return "%s/%d/%s" % (self.proc, pid, name)

    def list_pids(self):
        """Every PID in /proc, listed once per scan."""
        if self._pids is None:
            try:
                names = os.listdir(self.proc)
            except OSError as err:
                raise explain_oserror(err, "listing", "/proc")
            self._pids = [int(n) for n in names if n.isdigit()]
        return self._pids

    def pids_with_comm(self, pids, comm_bytes):
        """The hot loop of a by-name selection: only comm is read, through a /proc dir fd, and
        nothing is allocated for processes that do not match."""
        wanted = comm_bytes + b"\n"
        matches = []
        openat, read, close = os.open, os.read, os.close
        try:
            proc_fd = os.open(self.proc, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as err:
            raise explain_oserror(err, "opening", "/proc")
        try:
            for pid in pids:
                try:
                    fd = openat("%d/comm" % pid, os.O_RDONLY, dir_fd=proc_fd)
                except OSError as err:
                    if err.errno in _GONE:
                        continue
                    raise explain_oserror(err, "reading", "/proc/%d/comm" % pid)
                try:
                    data = read(fd, 64)
                finally:
                    close(fd)
                if data == wanted or data == comm_bytes:
                    matches.append(pid)
        finally:
            close(proc_fd)
        return matches

    def children(self, pid):
        """Child PIDs from /proc/PID/task/*/children (each thread lists the children it forked);
        None when the kernel lacks these files (CONFIG_PROC_CHILDREN): scan every stat instead."""
        base = "%s/%d/task" % (self.proc, pid)
        try:
            tids = os.listdir(base)
        except OSError as err:
            if err.errno in _GONE and not os.path.isdir("%s/%d" % (self.proc, pid)):
                return []
            if err.errno in _GONE:
                return None
            raise explain_oserror(err, "listing", "/proc/%d/task" % pid)
        result = []
        for tid in tids:
            try:
                data = _read_all("%s/%s/children" % (base, tid))
            except OSError as err:
                if err.errno == errno.ENOENT and os.path.isdir("%s/%s" % (base, tid)):
                    return None
                if err.errno in _GONE:
                    continue  # the thread exited
                raise explain_oserror(err, "reading", "/proc/%d/task/%s/children" % (pid, tid))
            result.extend(int(x) for x in data.split())
        return result

    def comm(self, proc):
        if proc.comm is None:
            proc.comm = _decode(_read(self._file(proc.pid, "comm"))).rstrip("\n")
        return proc.comm

    def stat(self, proc):
        if proc.starttime is None:
            comm, proc.state, proc.ppid, proc.flags, proc.starttime = parse_stat(
                _decode(_read(self._file(proc.pid, "stat"))))
            if proc.comm is None:
                proc.comm = comm
        return proc

    def cmdline(self, proc):
        if proc.cmdline is None:
            proc.cmdline = _parse_cmdline(_read_all(self._file(proc.pid, "cmdline")))
        return proc.cmdline

    def uid(self, proc):
        """The effective UID (as ps USER and pgrep -u use)."""
        if proc.uid is None:
            for line in _decode(_read(self._file(proc.pid, "status"), 65536)).splitlines():
                if line.startswith("Uid:"):
                    proc.uid = int(line.split()[2])  # real, EFFECTIVE, saved, fs
                    break
        return proc.uid

    def thread_group(self, pid):
        """The process (thread group) ID of a PID that may be a thread ID; the PID itself when
        it is a process, is gone, or cannot be told."""
        try:
            text = _decode(_read("%s/%d/status" % (self.proc, pid), 65536))
        except OSError:
            return pid
        for line in text.splitlines():
            if line.startswith("Tgid:"):
                try:
                    return int(line.split()[1])
                except (IndexError, ValueError):
                    return pid
        return pid

    def has_uid(self, proc, uid):
        """Whether the effective UID is ``uid``, reading /proc/PID/status only when needed.

        /proc/PID is owned by the effective UID of a dumpable process and by root for a
        non-dumpable one (setuid programs, prctl): a non-root owner is the answer, a root owner
        has to be confirmed from status. status costs ten times a stat() here.
        """
        try:
            owner = os.stat("%s/%d" % (self.proc, proc.pid)).st_uid
        except OSError:
            owner = 0
        if owner != 0:
            return owner == uid
        return self.uid(proc) == uid

    def cgroups(self, proc):
        """{hierarchy key: path}: 'memory' for the v1 memory controller, '' for cgroup v2,
        'name=systemd' for the v1 systemd hierarchy."""
        result = {}
        for line in _decode(_read_all(self._file(proc.pid, "cgroup"))).splitlines():
            parts = line.split(":", 2)
            if len(parts) != 3:
                continue
            controllers = parts[1]
            if controllers == "":
                result[""] = parts[2]
            else:
                for controller in controllers.split(","):
                    result[controller] = parts[2]
        return result

    def exe_basename(self, proc):
        try:
            target = os.readlink(self._file(proc.pid, "exe"))
        except OSError:
            return None
        if target.endswith(" (deleted)"):
            target = target[:-len(" (deleted)")]
        return os.path.basename(target)


# ---- selection --------------------------------------------------------------------------------

def _cgroup_within(path, top):
    if top == "/":
        return True
    top = top.rstrip("/")
    return path == top or path.startswith(top + "/")


def normalize_cgroup(fs, cgroup):
    """Turn the ``cgroup`` option into (hierarchy keys to compare, path inside the hierarchy).

    ``/sys/fs/cgroup/memory/x`` -> v1 memory ``/x``; ``/sys/fs/cgroup/unified/x`` -> v2 ``/x``;
    ``/sys/fs/cgroup/x`` on a pure v2 host -> v2 ``/x``; any other absolute path is a path inside
    a hierarchy, compared with the v1 memory, the v2 and the v1 name=systemd paths of a process.
    """
    mount = "/sys/fs/cgroup"
    path = "/" + cgroup.strip("/")
    if path == mount or path.startswith(mount + "/"):
        rest = path[len(mount):].strip("/")
        first, _sep, tail = rest.partition("/")
        inner = "/" + tail
        if first in ("unified",):
            return ("",), inner
        if first == "systemd":
            return ("name=systemd",), inner
        if first and "memory" in first.split(","):
            return ("memory",), inner
        if fs.exists(mount + "/cgroup.controllers"):
            return ("",), "/" + rest
        raise SelectorError("cgroup %r is not in the memory controller's hierarchy nor in a cgroup v2 "
                            "hierarchy: use /sys/fs/cgroup/memory/..., /sys/fs/cgroup/unified/... or a "
                            "path inside the hierarchy such as /system.slice/foo.service" % cgroup)
    return ("memory", "", "name=systemd"), path


# the runner used when no AnsibleModule.run_command is given: systemctl's, with its environment
default_run_command = systemctl.subprocess_runner


def unit_control_group(unit, run_command=None):
    """The cgroup path of a systemd unit ('' when it has none: stopped or not loaded)."""
    try:
        rc, control_group, text = systemctl.control_group(run_command or default_run_command, unit)
    except systemctl.SystemctlError as err:
        raise SelectorError("unit: %s" % err)
    if rc != 0:
        if rc == 127 or "No such file" in text or ("not found" in text.lower() and "systemctl" in text):
            raise SelectorError("unit %r: systemctl is not available on this host, so units cannot be "
                                "resolved (select by cgroup, name or pidfile instead)" % unit)
        if "not been booted with systemd" in text or "Failed to connect to bus" in text:
            raise SelectorError("unit %r: systemd is not running on this host (PID 1 is not systemd), so units "
                                "cannot be resolved (select by cgroup, name or pidfile instead): %s" % (unit, text))
        raise SelectorError("unit %r: 'systemctl show' failed (rc=%s): %s" % (unit, rc, text or "no output"))
    return control_group


# The selector options as an AnsibleModule argument spec, shared by every module that selects
# processes (oom_score_adj, oom_host_info) so they accept exactly the same selectors.
SELECTOR_ARGUMENT_SPEC = dict(
    pid=dict(type="int"),
    pids=dict(type="list", elements="int"),
    pidfile=dict(type="path"),
    name=dict(type="str"),
    pattern=dict(type="str"),
    user=dict(type="str"),
    cgroup=dict(type="str"),
    unit=dict(type="str"),
    include_children=dict(type="bool", default=False),
)
# The keys that select processes (include_children widens a selection, it selects nothing itself).
SELECTOR_KEYS = tuple(k for k in SELECTOR_ARGUMENT_SPEC if k != "include_children")


def select_processes(fs, selector, run_command=None, exclude_pids=()):
    """Scan /proc once and return the matching processes (see the module docstring)."""
    if isinstance(selector, dict):
        selector = ProcessSelector.from_params(selector)
    selector.validate()
    scanner = _Scanner(fs)
    exclude = set(exclude_pids or ())

    candidates = None  # None = every process
    if selector.pids is not None:
        candidates = set(scanner.thread_group(pid) for pid in selector.pids)
    if selector.pidfile is not None:
        pid = read_pidfile(fs, selector.pidfile)
        pidset = set() if pid is None else {pid}
        candidates = pidset if candidates is None else candidates & pidset
    if selector.unit is not None:
        control_group = unit_control_group(selector.unit, run_command)
        members = set(systemctl.unit_pids(fs, control_group)) if control_group else set()
        candidates = members if candidates is None else candidates & members
    cgroup_keys = cgroup_path = None
    if selector.cgroup is not None:
        cgroup_keys, cgroup_path = normalize_cgroup(fs, selector.cgroup)

    pids = scanner.list_pids() if candidates is None else sorted(candidates)

    name = selector.name
    long_name = False
    if name is not None:
        name_bytes = name.encode("utf-8")
        long_name = len(name_bytes) > COMM_LEN
        # the kernel cuts comm at 15 bytes, possibly inside a multi-byte character
        pids = scanner.pids_with_comm(pids, name_bytes[:COMM_LEN])

    selected = []
    for pid in pids:
        if pid in exclude:
            continue
        proc = Process(pid)
        try:
            if name is not None:
                scanner.comm(proc)
            if selector.uid is not None and not scanner.has_uid(proc, selector.uid):
                continue
            if cgroup_keys is not None:
                groups = scanner.cgroups(proc)
                if not any(key in groups and _cgroup_within(groups[key], cgroup_path) for key in cgroup_keys):
                    continue
            if selector.regex is not None and not selector.regex.search(" ".join(scanner.cmdline(proc))):
                continue
            if long_name:
                argv0 = (scanner.cmdline(proc) or [""])[0]
                if os.path.basename(argv0) != name and os.path.basename(argv0.split(" ", 1)[0]) != name \
                        and scanner.exe_basename(proc) != name:
                    continue
            # PF_KTHREAD and the state are authoritative; an empty command line is not (a process
            # in the middle of execve() shows one for a moment).
            scanner.stat(proc)
            if proc.is_kernel_thread or proc.is_zombie:
                continue
            scanner.cmdline(proc)
        except OSError as err:
            if err.errno in _GONE:
                continue  # exited during the scan: not selected
            raise explain_oserror(err, "reading", "/proc/%d" % pid)
        except (ValueError, IndexError):
            continue  # a stat line we cannot parse belongs to a process in teardown
        selected.append(proc)

    if selector.include_children and selected:
        selected = _add_descendants(scanner, selected, exclude)
    selected.sort(key=lambda p: p.pid)
    return selected


def _add_descendants(scanner, selected, exclude):
    """The selected processes plus all their descendants (not kernel threads, not zombies)."""
    known = dict((p.pid, p) for p in selected)
    result = list(selected)
    queue = [p.pid for p in selected]
    by_parent = None  # filled by a full stat scan if the kernel has no children files
    while queue:
        parent = queue.pop()
        child_pids = scanner.children(parent) if by_parent is None else None
        if child_pids is None:
            if by_parent is None:
                by_parent = _parents_map(scanner, exclude)
            child_pids = by_parent.get(parent, ())
        for pid in child_pids:
            if pid in known or pid in exclude:
                continue
            child = Process(pid)
            try:
                scanner.stat(child)
                if child.is_kernel_thread or child.is_zombie:
                    continue
                scanner.cmdline(child)
            except OSError as err:
                if err.errno in _GONE:
                    continue
                raise explain_oserror(err, "reading", "/proc/%d" % pid)
            except (ValueError, IndexError):
                continue
            known[pid] = child
            result.append(child)
            queue.append(pid)
    return result


def _parents_map(scanner, exclude):
    """{ppid: [pid, ...]} from the stat of every process."""
    by_parent = {}
    for pid in scanner.list_pids():
        if pid in exclude:
            continue
        proc = Process(pid)
        try:
            scanner.stat(proc)
        except OSError as err:
            if err.errno in _GONE:
                continue
            raise explain_oserror(err, "reading", "/proc/%d/stat" % pid)
        except (ValueError, IndexError):
            continue
        by_parent.setdefault(proc.ppid, []).append(pid)
    return by_parent


# The kernel's PID_MAX_LIMIT (4M on 64-bit): no PID is larger.
PID_MAX = 4194304
# A pidfile holds a PID and a newline; anything larger is not a pidfile.
PIDFILE_MAX_BYTES = 4096


def read_pidfile(fs, path):
    """The PID in a pidfile; None when the file does not exist.

    The pidfile is read as root but may be written by the service's user, so it is not trusted
    (hostfs.read_trusted): a regular file, no symlink, at most PIDFILE_MAX_BYTES, in a directory
    others cannot write, and owned by root or by the user the PID's process runs as (a service
    user's pidfile cannot name PID 1). Errors name the rule, never the content.
    """
    data, info = read_trusted(fs.path(path), "pidfile", PIDFILE_MAX_BYTES, shown=path)
    if data is None:
        return None
    words = data.split()
    if not words or not words[0].isdigit() or len(words[0]) > 10 or int(words[0]) <= 0 or int(words[0]) > PID_MAX:
        raise SelectorError("pidfile %s does not start with a process ID (1..%d)" % (path, PID_MAX))
    pid = int(words[0])
    if info.st_uid != 0:
        try:
            owner = os.stat(fs.path("/proc/%d" % pid)).st_uid
        except OSError:
            owner = None  # no such process: it selects nothing either way
        if owner is not None and owner != info.st_uid:
            raise TrustError("pidfile %s belongs to uid %d but names PID %d, a process of uid %d: a pidfile must "
                             "belong to root or to the user of the process it names" % (path, info.st_uid, pid, owner),
                             path=path)
    return pid


# ---- oom_score_adj ----------------------------------------------------------------------------

def score_adj_to_oom_adj(value):
    """The kernel's read mapping of oom_score_adj to the legacy oom_adj (lossy)."""
    if value == OOM_SCORE_ADJ_MAX:
        return OOM_ADJ_MAX
    adj = int(value * 17 / 1000.0)  # C division truncates toward zero
    return min(adj, OOM_ADJ_MAX)


def oom_adj_to_score_adj(adj):
    """The kernel's write mapping of oom_adj to oom_score_adj."""
    if adj == OOM_ADJ_MAX:
        return OOM_SCORE_ADJ_MAX
    return int(adj * 1000 / 17.0)


def has_cap_sys_resource(fs):
    """True/False from /proc/self/status CapEff; None when it cannot be told."""
    text = fs.read_optional("/proc/self/status")
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith("CapEff:"):
            try:
                return bool(int(line.split()[1], 16) >> CAP_SYS_RESOURCE & 1)
            except (IndexError, ValueError):
                return None
    return None


class _ProcessHandle(object):
    """``/proc/PID`` opened as a directory: files opened through it belong to that very process,
    so a PID reused by a new process after ours exited gives ESRCH/ENOENT instead of its files."""

    def __init__(self, fs, pid):
        self.pid = pid
        self.host_path = "/proc/%d" % pid
        self.fd = os.open(fs.path(self.host_path), os.O_RDONLY | os.O_DIRECTORY)

    def read(self, name):
        fd = os.open(name, os.O_RDONLY, dir_fd=self.fd)
        try:
            return _decode(os.read(fd, 8192))
        finally:
            os.close(fd)

    def write(self, name, value):
        # O_TRUNC as in ``echo N > /proc/PID/oom_score_adj``: ignored by procfs, and keeps fixture
        # files (regular files in unit tests) holding exactly the value written.
        fd = os.open(name, os.O_WRONLY | os.O_TRUNC, dir_fd=self.fd)
        try:
            os.write(fd, ("%d\n" % value).encode("ascii"))
        finally:
            os.close(fd)

    def close(self):
        os.close(self.fd)


def _read_current(fs, proc):
    """(interface, raw value) of a process; None when the process is gone."""
    for interface in ("oom_score_adj", "oom_adj"):
        try:
            text = _read("%s/%d/%s" % (fs.path("/proc"), proc.pid, interface))
        except OSError as err:
            if err.errno == errno.ENOENT and interface == "oom_score_adj":
                if os.path.isdir(fs.path("/proc/%d" % proc.pid)):
                    continue  # legacy kernel: only oom_adj
                return None
            if err.errno in _GONE:
                return None
            raise explain_oserror(err, "reading", "/proc/%d/%s" % (proc.pid, interface))
        try:
            return interface, int(_decode(text).strip())
        except ValueError:
            raise HostError("/proc/%d/%s holds %r, not an integer" % (proc.pid, interface, _decode(text)))
    return None


def _write_checked(fs, proc, interface, raw_value):
    """Write one process's value; False when the process is gone (or its PID was reused)."""
    try:
        handle = _ProcessHandle(fs, proc.pid)
    except OSError as err:
        if err.errno in _GONE:
            return False
        raise explain_oserror(err, "opening", "/proc/%d" % proc.pid)
    try:
        try:
            starttime = parse_stat(handle.read("stat"))[4]
        except OSError as err:
            if err.errno in _GONE:
                return False
            raise explain_oserror(err, "reading", "/proc/%d/stat" % proc.pid)
        except (ValueError, IndexError):
            return False
        if proc.starttime is not None and starttime != proc.starttime:
            return False  # the PID now belongs to another process
        try:
            handle.write(interface, raw_value)
        except OSError as err:
            if err.errno in _GONE:
                return False
            if err.errno == errno.EACCES and raw_value < (proc.raw_before if proc.raw_before is not None else 0):
                # a refused lowering: the kernel's CAP_SYS_RESOURCE rule (see refused_without_capability)
                raise HostError("lowering oom_score_adj from %s to %s was refused (EACCES): %s"
                                % (proc.before, proc.after, CAP_SYS_RESOURCE_HINT),
                                path="/proc/%d/%s" % (proc.pid, interface), errno_value=err.errno)
            raise explain_oserror(err, "writing %d to" % raw_value, "/proc/%d/%s" % (proc.pid, interface))
        return True
    finally:
        handle.close()


def _make_change(fs, proc):
    interface = proc.interface
    key = proc.label()

    def apply():
        try:
            written = _write_checked(fs, proc, interface, proc.raw_after)
        except HostError:
            proc.status = "failed"
            raise
        if written:
            proc.applied = True
        else:
            proc.status = "vanished"

    def undo():
        if not proc.applied:
            return
        if _write_checked(fs, proc, interface, proc.raw_before):
            proc.status = "rolled_back"
        else:
            proc.status = "vanished"
        proc.applied = False

    def read_back():
        if not proc.applied:
            return VANISHED  # exited before the write: nothing of ours to compare
        current = _read_current(fs, proc)
        return VANISHED if current is None else current[1]

    return LiveChange(key, proc.before, proc.after, apply, undo, read_back=read_back, expected=proc.raw_after,
                      where="/proc/%d/%s" % (proc.pid, interface))


def plan_oom_score_adj(fs, processes, value):
    """Plan ``value`` (oom_score_adj scale) for each process; return the LiveChanges needed.

    Sets interface/before/after/status on every process: ``unchanged``, ``vanished`` (exited since
    the scan) or ``changed`` (a change is planned: the prediction in check mode). Applying a change
    may turn ``changed`` into ``vanished`` (the process exited), ``failed`` (the write was refused)
    or, on rollback, ``rolled_back``; after a failed commit call mark_unapplied().
    Lowering changes come first so a CAP_SYS_RESOURCE refusal happens before any raise.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise SelectorError("value must be an integer, got %r" % (value,))
    if not OOM_SCORE_ADJ_MIN <= value <= OOM_SCORE_ADJ_MAX:
        raise SelectorError(out_of_range(value))
    lowering, raising = [], []
    for proc in processes:
        current = _read_current(fs, proc)
        if current is None:
            proc.status = "vanished"
            continue
        proc.interface, proc.raw_before = current
        if proc.interface == "oom_adj":
            proc.before = oom_adj_to_score_adj(proc.raw_before)
            proc.raw_after = score_adj_to_oom_adj(value)
            proc.after = oom_adj_to_score_adj(proc.raw_after)
        else:
            proc.before = proc.raw_before
            proc.raw_after = proc.after = value
        if proc.raw_after == proc.raw_before:
            proc.status = "unchanged"
            continue
        proc.status = "changed"
        (lowering if proc.raw_after < proc.raw_before else raising).append(_make_change(fs, proc))
    return lowering + raising


def mark_unapplied(processes):
    """After a failed commit: planned changes never made become ``not_applied``."""
    for proc in processes:
        if proc.status == "changed" and not proc.applied:
            proc.status = "not_applied"


def legacy_warning(processes, value):
    """A warning text when some processes only have the lossy legacy oom_adj interface."""
    legacy = [p for p in processes if p.interface == "oom_adj"]
    if not legacy:
        return None
    adj = score_adj_to_oom_adj(value)
    return ("this kernel has no oom_score_adj, only the legacy oom_adj (-17..15): %d is written as "
            "oom_adj %d, which the kernel applies as oom_score_adj %d; the mapping is lossy "
            "(%d process(es) concerned)" % (value, adj, oom_adj_to_score_adj(adj), len(legacy)))


def read_oom_score(fs, pid):
    try:
        return int(_decode(_read("%s/%d/oom_score" % (fs.path("/proc"), pid))).strip())
    except (OSError, ValueError):
        return None


def process_results(fs, processes, read_score=True):
    """The result list the modules return, one dict per process."""
    results = []
    for proc in processes:
        cmdline = proc.cmdline_text()
        if len(cmdline) > CMDLINE_EXCERPT:
            cmdline = cmdline[:CMDLINE_EXCERPT - 3] + "..."
        entry = {
            "pid": proc.pid,
            "comm": proc.comm,
            "cmdline": cmdline,
            "before": proc.before,
            "after": proc.after if proc.status in ("changed", "unchanged") else proc.before,
            "status": proc.status,
            "interface": proc.interface,
            "oom_score": None,
        }
        if read_score and proc.status != "vanished":
            entry["oom_score"] = read_oom_score(fs, proc.pid)
        results.append(entry)
    return results
