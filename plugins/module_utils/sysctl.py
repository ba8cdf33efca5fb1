# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sysctl knowledge: names and paths, the knob table, sysctl.d files and boot precedence.

Pure logic over a HostFS; the module ``oomkit.linux.sysctl`` drives it through the shared
reconcile Transaction.
"""

from __future__ import annotations

import errno
import os
import re

from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError
from ansible_collections.oomkit.linux.plugins.module_utils.inputs import (
    MAX_VALUE_BYTES, InputError, check_digits, check_path, check_text)
from ansible_collections.oomkit.linux.plugins.module_utils.reconcile import (
    READ_BACK_REPORT, VANISHED, LiveChange, ManagedFile, Transaction, printable)

PROC_SYS = "/proc/sys"

# The directories systemd-sysctl and procps' ``sysctl --system`` read, highest priority first for
# files that share a basename. /lib/sysctl.d only matters on hosts where /lib is not /usr/lib.
SYSCTL_D_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d")
SYSCTL_CONF = "/etc/sysctl.conf"

DEFAULT_FILE = "/etc/sysctl.d/90-oomkit-oom.conf"
FILE_HEADER = (
    "# OOM and memory sysctls managed by the oomkit.linux.sysctl Ansible module.\n"
    "# Lines for keys it manages are rewritten by it; other lines and comments are kept.\n"
)


class SysctlError(Exception):
    """Invalid input: raised before anything is written."""


# What the kernel's handlers store: proc_dointvec* a C int, proc_doulongvec* an unsigned long.
KIND_BOUNDS = {"int": (-2 ** 31, 2 ** 31 - 1), "ulong": (0, 2 ** 64 - 1)}


# --- names and paths ---------------------------------------------------------------------------

def normalize_name(key):
    """Return the canonical dotted name of a sysctl given in dotted or slashed form.

    As systemd-sysctl and procps do: when the first separator is ``/`` the rest is taken
    literally (so ``net/ipv4/conf/eth0.100/forwarding`` keeps the dot in ``eth0.100``); when it is
    ``.``, dots and slashes swap roles.
    """
    try:
        key = check_text("settings: key %s" % ascii(str(key)[:60]), str(key))
    except InputError as err:
        raise SysctlError(str(err))
    key = key.strip(" \t")
    if key.startswith(PROC_SYS + "/"):
        key = key[len(PROC_SYS) + 1:]
    key = key.lstrip("/")
    if not key or re.search(r"[\s=#;]|\.\.|//|^[./]|[./]$", key):
        raise SysctlError("'%s' is not a valid sysctl name" % key)
    first_slash, first_dot = key.find("/"), key.find(".")
    if first_slash != -1 and (first_dot == -1 or first_slash < first_dot):
        # Slashed form: path components may contain dots; in the dotted name those become '/'.
        return ".".join(part.replace(".", "/") for part in key.split("/"))
    return key


def name_to_path(name):
    """``net.ipv4.conf.eth0/100.forwarding`` -> ``/proc/sys/net/ipv4/conf/eth0.100/forwarding``."""
    return PROC_SYS + "/" + "/".join(part.replace("/", ".") for part in name.split("."))


# --- the knob table ----------------------------------------------------------------------------

class Knob(object):
    """What we know about one sysctl: value kind, bounds and checks beyond the kernel's own."""

    def __init__(self, name, kind="int", minimum=None, maximum=None, description="", exclusive_with=None,
                 maximum_for_kernel=None, posture=None):
        self.name = name
        # Part of the host's OOM posture that oom_host_info and oom_facts report: "oom" (decides what an OOM
        # does: always reported) or "memory" (the memory settings around it, in oom_facts' snapshot).
        self.posture = posture
        self.kind = kind  # int | ulong | vector | string
        self.minimum = minimum
        self.maximum = maximum
        self.description = description
        self.exclusive_with = exclusive_with
        # Callable(kernel_version_tuple) -> (maximum, is_certain) for bounds that moved over time.
        self.maximum_for_kernel = maximum_for_kernel

    def bounds(self, kernel):
        maximum, certain = self.maximum, True
        if self.maximum_for_kernel is not None:
            maximum, certain = self.maximum_for_kernel(kernel)
        return self.minimum, maximum, certain


def _swappiness_max(kernel):
    # 5.8 widened vm.swappiness from 0..100 to 0..200.
    return (200 if kernel >= (5, 8) else 100), True


def _watermark_scale_factor_max(kernel):
    # Raised from 1000 to 3000 upstream in 5.19 and backported to some stable trees, so below
    # 5.19 a value over 1000 is not certain to fail: the kernel decides.
    if kernel >= (5, 19):
        return 3000, True
    return 3000, False


OOM_KNOBS = [
    Knob("vm.panic_on_oom", minimum=0, maximum=2,
         posture="oom", description="0 kill a process; 1 panic on a global OOM; 2 panic on every OOM, memory cgroups included"),
    Knob("vm.oom_kill_allocating_task", minimum=0, maximum=1,
         posture="oom", description="1 kills the task that triggered the OOM instead of scanning for the largest"),
    Knob("vm.oom_dump_tasks", minimum=0, maximum=1,
         posture="oom", description="1 prints the task table with every OOM report (the evidence diagnosis needs)"),
    Knob("vm.overcommit_memory", minimum=0, maximum=2,
         posture="oom", description="0 heuristic overcommit, 1 always overcommit, 2 strict accounting"),
    Knob("vm.overcommit_ratio", minimum=0, exclusive_with="vm.overcommit_kbytes",
         posture="memory", description="percent of RAM counted in the commit limit when overcommit_memory=2"),
    Knob("vm.overcommit_kbytes", kind="ulong", minimum=0, exclusive_with="vm.overcommit_ratio",
         posture="memory", description="absolute commit limit in KiB when overcommit_memory=2 (zeroes overcommit_ratio)"),
    Knob("vm.min_free_kbytes", minimum=1024,
         posture="memory", description="memory the kernel keeps free for atomic allocations; too high causes instant OOMs"),
    Knob("vm.watermark_scale_factor", minimum=1, maximum_for_kernel=_watermark_scale_factor_max,
         posture="memory", description="distance between zone watermarks in units of 1/10000 of memory"),
    Knob("vm.watermark_boost_factor", minimum=0, description="watermark boosting after fragmentation events"),
    Knob("vm.swappiness", minimum=0, maximum_for_kernel=_swappiness_max,
         posture="memory", description="preference for swapping anonymous memory over dropping page cache"),
    Knob("vm.admin_reserve_kbytes", kind="ulong", minimum=0, description="memory reserved for CAP_SYS_ADMIN users"),
    Knob("vm.user_reserve_kbytes", kind="ulong", minimum=0, description="memory reserved for a user's last process (mode 2)"),
    Knob("vm.memory_failure_early_kill", minimum=0, maximum=1, description="kill processes early on hardware memory errors"),
    Knob("vm.memory_failure_recovery", minimum=0, maximum=1, description="0 panics on every hardware memory error"),
    Knob("vm.vfs_cache_pressure", minimum=0, description="reclaim pressure on dentry and inode caches"),
    Knob("vm.lowmem_reserve_ratio", kind="vector", description="per-zone protection against lower-zone exhaustion"),
    Knob("vm.memcg_qos_enable", minimum=0, maximum=2,
         posture="oom", description="openEuler/HCE memory cgroup OOM priority (memory.qos_level); 2 is HCE-only"),
    Knob("kernel.panic", description="seconds before rebooting after a panic (0 hangs, negative reboots at once)"),
    Knob("kernel.panic_on_oops", minimum=0, maximum=1, description="panic instead of killing the task on an oops"),
]
KNOBS = dict((knob.name, knob) for knob in OOM_KNOBS)
# openEuler/HCE memory cgroup OOM priority: a knob only some kernels have
QOS_SYSCTL = "vm.memcg_qos_enable"
# The host's OOM posture, from the table: always reported by oom_host_info; with the memory settings,
# the sysctl snapshot of oom_facts.
OOM_POSTURE_SYSCTLS = tuple(k.name for k in OOM_KNOBS if k.posture == "oom")
POSTURE_SYSCTLS = tuple(k.name for k in OOM_KNOBS if k.posture in ("oom", "memory"))


def kernel_version(fs):
    """The running kernel's (major, minor) from /proc/sys/kernel/osrelease; (0, 0) if unknown."""
    release = fs.read_optional(PROC_SYS + "/kernel/osrelease") or ""
    match = re.match(r"(\d+)\.(\d+)", release.strip())
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def normalize_value(value):
    """Whitespace-normalised text of a value, as written and as read back (vectors use tabs)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return " ".join(str(value).split())


def validate_value(name, value, kernel, mem_total_kb=None):
    """Return (normalised value, warnings) or raise SysctlError with the allowed range."""
    warnings = []
    if value is None or (isinstance(value, (list, dict))):
        raise SysctlError("%s: a value must be a number or a string, got %r" % (name, value))
    try:
        check_text("settings: %s" % name, str(value), max_bytes=MAX_VALUE_BYTES)
    except InputError as err:
        raise SysctlError(str(err))
    text = normalize_value(value)
    if text == "":
        raise SysctlError("%s: the value is empty" % name)
    knob = KNOBS.get(name)
    if knob is None or knob.kind in ("vector", "string"):
        return text, warnings
    if not re.match(r"^-?\d+$", text):
        raise SysctlError("%s: '%s' is not an integer" % (name, text[:60]))
    low, high = KIND_BOUNDS[knob.kind]
    try:
        check_digits(name, text, low, high)
    except InputError as err:
        raise SysctlError("%s (%s)" % (err, knob.description))
    number = int(text)
    if not low <= number <= high and knob.kind == "int":
        raise SysctlError("%s: %s is out of range; allowed: %s (the kernel stores a C int)" % (name, number, _range_text(low, high)))
    if number > high:
        raise SysctlError("%s: %s is out of range; allowed: %s (the kernel stores an unsigned long)" % (name, number, _range_text(0, high)))
    minimum, maximum, certain = knob.bounds(kernel)
    if knob.kind == "ulong" and number < 0:
        raise SysctlError("%s: %s is negative; the kernel takes 0 or more" % (name, number))
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise SysctlError("%s: %s is out of range; allowed: %s (%s)" % (name, number, _range_text(minimum, maximum), knob.description))
    if not certain and number > 1000:
        warnings.append("%s: %s is above 1000, which kernels older than 5.19 without the backport reject" % (name, number))
    if name == "vm.min_free_kbytes" and mem_total_kb:
        if number > mem_total_kb // 2:
            raise SysctlError("%s: %s KiB is more than half of this host's memory (%s KiB); the kernel would "
                              "start OOM-killing at once" % (name, number, mem_total_kb))
        if number > mem_total_kb // 20:
            warnings.append("%s: %s KiB is more than 5%% of this host's memory; expect early OOM kills" % (name, number))
    return str(number), warnings


def _range_text(minimum, maximum):
    if minimum is not None and maximum is not None:
        return "%s..%s" % (minimum, maximum)
    if minimum is not None:
        return "%s or more" % minimum
    return "%s or less" % maximum


def check_exclusive(names):
    """Refuse settings that the kernel treats as one choice (writing one zeroes the other)."""
    for name in names:
        knob = KNOBS.get(name)
        if knob is not None and knob.exclusive_with in names:
            raise SysctlError("%s and %s cannot both be set: writing one makes the kernel zero the other, so "
                              "the pair would flip on every run; choose one" % tuple(sorted([name, knob.exclusive_with])))


def mem_total_kb(fs):
    meminfo = fs.read_optional("/proc/meminfo") or ""
    match = re.search(r"^MemTotal:\s+(\d+)", meminfo, re.M)
    return int(match.group(1)) if match else None


# --- sysctl.d files ----------------------------------------------------------------------------

# How systemd-sysctl and procps read a sysctl.d file: lines end at "\n" only (a form feed, a
# U+2028 or any other character Python's splitlines() breaks on is part of the line), and
# the whitespace around keys, values and "=" is ASCII whitespace. A line is a comment when
# its first non-blank character is "#" or ";".
LINE_END = "\n"
_BLANK = " \t\r"
_ASSIGNMENT = re.compile(r"^(?P<indent>[ \t\r]*)(?P<dash>-?)(?P<key>[^=\s#;][^=]*?)[ \t\r]*=[ \t\r]*(?P<value>.*?)[ \t\r]*$")


def split_lines(text):
    """The lines of a sysctl.d file as its appliers see them: split on "\n" and nothing else."""
    if not text:
        return []
    lines = text.split(LINE_END)
    if lines[-1] == "":
        lines.pop()
    return lines


def parse_assignments(text):
    """Yield (line_index, dotted name, value) for each ``key = value`` line of a sysctl.d file."""
    for index, line in enumerate(split_lines(text)):
        stripped = line.strip(_BLANK)
        if not stripped or stripped[0] in "#;":
            continue
        match = _ASSIGNMENT.match(line)
        if not match:
            continue
        try:
            name = normalize_name(match.group("key"))
        except SysctlError:
            continue
        yield index, name, match.group("value")


def read_file_values(text):
    """Last value per key in a sysctl.d file (later lines win, as in both appliers)."""
    values = {}
    for _index, name, value in parse_assignments(text):
        values[name] = normalize_value(value)
    return values


def rewrite_file(text, wanted, remove):
    """Return the new text of our file: ``wanted`` keys set, ``remove`` keys dropped.

    Lines of other keys, comments and blank lines stay where they are. Every line of a wanted key
    gets the new value in place (duplicates are kept, not collapsed, and all agree afterwards);
    keys not in the file yet are appended as ``key = value``.
    """
    lines = split_lines(text)
    if text is None:
        lines = split_lines(FILE_HEADER)
    seen = set()
    output = []
    assignment_at = dict((index, name) for index, name, _value in parse_assignments(text))
    for index, line in enumerate(lines):
        name = assignment_at.get(index)
        if name is None:
            output.append(line)
        elif name in remove:
            continue
        elif name in wanted:
            seen.add(name)
            match = _ASSIGNMENT.match(line)
            output.append("%s%s%s = %s" % (match.group("indent"), match.group("dash"), match.group("key").strip(), wanted[name]))
        else:
            output.append(line)
    for name in wanted:
        if name not in seen:
            output.append("%s = %s" % (name, wanted[name]))
    return LINE_END.join(output) + LINE_END if output else ""


# --- boot precedence ---------------------------------------------------------------------------

def _config_files(fs, include_sysctl_conf):
    """Files in the order they are applied, as (host path) list, after basename de-duplication."""
    chosen = {}
    for directory in SYSCTL_D_DIRS:
        if not fs.isdir(directory):
            continue
        if directory == "/lib/sysctl.d" and fs.realpath(directory) == fs.realpath("/usr/lib/sysctl.d"):
            continue
        for basename in fs.listdir(directory):
            if basename.endswith(".conf") and basename not in chosen:
                chosen[basename] = directory + "/" + basename
    ordered = [chosen[basename] for basename in sorted(chosen)]
    if include_sysctl_conf and fs.exists(SYSCTL_CONF):
        ordered.append(SYSCTL_CONF)
    return ordered


def boot_precedence(fs, names, our_file=None, our_text=None):
    """Which file sets each key at boot, under systemd-sysctl and under ``sysctl --system``.

    ``our_text`` stands in for the content of ``our_file`` (the planned text in check mode).
    Returns {name: {"systemd": (value, file) or None, "procps": (value, file) or None}}.
    """
    names = set(names)
    result = dict((name, {"systemd": None, "procps": None}) for name in names)
    for flavour, include_conf in (("systemd", False), ("procps", True)):
        for path in _config_files(fs, include_conf):
            real = fs.realpath(path)
            if real == "/dev/null":
                continue  # a symlink to /dev/null masks a vendor file of the same name
            if our_file is not None and (path == our_file or real == fs.realpath(our_file)):
                text = our_text
            else:
                try:
                    text = fs.read_optional(path)
                except Exception:  # pylint: disable=broad-except
                    text = None  # an unreadable vendor file must not break the report
            for _index, name, value in parse_assignments(text):
                if name in names:
                    result[name][flavour] = (normalize_value(value), path)
    return result


def is_read_at_boot(path):
    directory, basename = os.path.split(path)
    return (directory in SYSCTL_D_DIRS and basename.endswith(".conf")) or path == SYSCTL_CONF


# --- the reconcile step ------------------------------------------------------------------------

class SysctlRun(object):
    """Plan (and in a real run apply) one task's sysctl settings.

    ``plan()`` validates everything and reads the current state without writing; ``results``
    then holds the per-key report that check mode returns. ``commit()`` applies the transaction
    and reads the live values back.
    """

    def __init__(self, fs, settings=None, runtime=True, persist=True, path=DEFAULT_FILE, state="present",
                 exclusive=False, ignore_missing=False, check_mode=False, backup=False):
        self.fs = fs
        self.settings = settings
        self.runtime = runtime
        self.persist = persist
        self.path = path
        self.state = state
        self.exclusive = exclusive
        self.ignore_missing = ignore_missing
        self.transaction = Transaction(check_mode=check_mode, backup=backup)
        self.results = {}
        self.warnings = []
        self.our_file = None

    # planning ------------------------------------------------------------------------------

    def plan(self):
        try:
            check_path("sysctl_file", self.path)
        except InputError as err:
            raise SysctlError(str(err))
        if not self.path.startswith("/"):
            raise SysctlError("sysctl_file: %s is not an absolute path" % ascii(self.path))
        wanted = self._validated_settings()
        report_only = self.settings is None
        self.our_file = ManagedFile(self.fs, self.path, label=self.path)
        persisted = read_file_values(self.our_file.before)

        if report_only:
            names = sorted(set(KNOBS) | set(persisted))
        else:
            names = list(wanted)

        live = {}
        for name in names:
            live[name] = self._read_live(name)
            if live[name] is None and name in wanted and self._write_only(name):
                raise SysctlError("%s is write-only (%s has no read permission): it is an action, not a setting; "
                                  "it cannot be read back, compared or persisted, so this module does not manage it. "
                                  "Write it from a command task when you mean to trigger it"
                                  % (name, name_to_path(name)))
            if live[name] is None and name in wanted:
                if not self.ignore_missing:
                    raise SysctlError("%s does not exist on this kernel (%s is missing); set ignore_missing: true to "
                                      "skip keys a host does not have" % (name, name_to_path(name)))
                self.warnings.append("%s does not exist on this kernel: skipped" % name)

        present = dict((n, v) for n, v in wanted.items() if live.get(n) is not None)
        if self.state == "present" and not report_only:
            for name, value in present.items():
                if self.runtime and live[name] != value:
                    self._plan_live(name, live[name], value)
            file_keys = dict(present) if self.persist else {}
            removals = set()
            if self.persist:
                if self.exclusive:
                    removals = set(persisted) - set(wanted)
                for name in present:
                    other = KNOBS[name].exclusive_with if name in KNOBS else None
                    if other and other in persisted:
                        removals.add(other)
                        self.warnings.append("%s removed from %s: it excludes %s" % (other, self.path, name))
            if file_keys or removals:
                # a function of the text: re-applied under the file lock if another run wrote
                # the file meanwhile, so its keys are kept (see ManagedFile)
                exclusive = self.exclusive

                def planner(text):
                    drop = set(removals)
                    if exclusive:
                        drop |= set(read_file_values(text)) - set(wanted)
                    return rewrite_file(text, file_keys, drop)
                self.our_file.plan(planner)
        elif self.state == "absent" and self.persist:
            removals = set(wanted) & set(persisted)
            if removals:
                self.our_file.plan(lambda text: rewrite_file(text, {}, removals))
        self.transaction.add_file(self.our_file)

        planned_file_values = read_file_values(self.our_file.after)
        boot = boot_precedence(self.fs, names, our_file=self.path, our_text=self.our_file.after)
        for name in names:
            self.results[name] = self._result(name, live.get(name), wanted.get(name), persisted.get(name),
                                              planned_file_values.get(name), boot[name])
        if not is_read_at_boot(self.path) and (self.persist and not report_only):
            self.warnings.append("%s is not read at boot by systemd-sysctl or sysctl --system: the settings in it "
                                 "will not survive a reboot" % self.path)
        return self

    def _validated_settings(self):
        if self.settings is None:
            return {}
        if not isinstance(self.settings, dict):
            raise SysctlError("settings must be a mapping of sysctl names to values")
        kernel = kernel_version(self.fs)
        total_kb = mem_total_kb(self.fs)
        wanted = {}
        for key, value in self.settings.items():
            name = normalize_name(key)
            if name in wanted:
                raise SysctlError("%s is given twice in settings (as '%s' and another spelling)" % (name, key))
            if self.state == "absent":
                wanted[name] = None
                continue
            text, warnings = validate_value(name, value, kernel, total_kb)
            wanted[name] = text
            self.warnings.extend(warnings)
        if self.state == "present":
            check_exclusive(set(wanted))
        return wanted

    def _read_live(self, name):
        try:
            text = self.fs.read_optional(name_to_path(name))
        except HostError as err:
            if err.errno in (errno.EACCES, errno.EPERM, errno.EIO):
                return None  # write-only or restricted keys (e.g. vm.drop_caches)
            raise
        return None if text is None else normalize_value(text)

    def _write_only(self, name):
        """A key whose /proc/sys file exists but grants no reading (vm.drop_caches, vm.compact_memory)."""
        try:
            mode = os.stat(self.fs.path(name_to_path(name))).st_mode
        except OSError:
            return False
        return not mode & 0o444 and bool(mode & 0o222)

    def _plan_live(self, name, before, after):
        path = name_to_path(name)

        def apply():
            try:
                self.fs.write_value(path, after)
            except HostError as err:
                raise HostError(self._explain_write(name, after, err), path=path, errno_value=err.errno)

        def undo():
            self.fs.write_value(path, before)

        def read_back():
            value = self._read_live(name)
            return VANISHED if value is None else value

        # the kernel may keep another value than the one written (khugepaged raises min_free_kbytes):
        # reported, not a failure
        self.transaction.add_live(LiveChange(name, before, after, apply, undo, read_back=read_back,
                                             on_mismatch=READ_BACK_REPORT))

    @staticmethod
    def _explain_write(name, value, err):
        if err.errno == errno.EROFS:
            return ("cannot set %s to %s: /proc/sys is read-only here (typical inside an unprivileged "
                    "container); use runtime: false to persist the setting only" % (name, value))
        if err.errno == errno.EINVAL:
            return "the kernel rejected %s = %s (EINVAL: out of range or malformed for this kernel)" % (name, value)
        return "cannot set %s to %s: %s" % (name, value, err)

    def _result(self, name, live, wanted, persisted_before, persisted_after, boot):
        systemd, procps = boot["systemd"], boot["procps"]
        result = {
            "live_before": live,
            "live_after": wanted if (self.runtime and self.state == "present" and wanted is not None and live is not None) else live,
            "persisted_before": None if persisted_before is None else printable(persisted_before),
            "persisted_after": None if persisted_after is None else printable(persisted_after),
            "boot_value": systemd[0] if systemd else None,
            "boot_file": systemd[1] if systemd else None,
            "system_value": procps[0] if procps else None,
            "system_file": procps[1] if procps else None,
            "shadowed_by": None,
            "status": "missing" if live is None else "ok",
        }
        if self.settings is not None and live is not None:
            changed = (result["live_after"] != live) or (persisted_after != persisted_before)
            result["status"] = "changed" if changed else "ok"
        if self.settings is None:
            result.pop("persisted_after")
            result.pop("live_after")
        if persisted_after is not None:
            for flavour, applier in (("boot_file", "systemd-sysctl at boot"), ("system_file", "sysctl --system")):
                winner = result[flavour]
                if winner is not None and winner != self.path and result[flavour.replace("file", "value")] != persisted_after:
                    result["shadowed_by"] = winner
                    self.warnings.append("%s: %s = %s from %s overrides %s = %s in %s under %s"
                                         % (name, name, result[flavour.replace("file", "value")], winner, name,
                                            persisted_after, self.path, applier))
        return result

    # applying ------------------------------------------------------------------------------

    @property
    def changed(self):
        return self.transaction.changed

    def commit(self):
        self.transaction.commit()
        if self.transaction.check_mode:
            return
        for change in self.transaction.live_changes:
            self.results[change.key]["live_after"] = None if change.read_value is VANISHED else change.read_value
        for change, actual in self.transaction.adjusted:
            self.warnings.append("%s reads back as %s after writing %s: the kernel adjusted it (for example "
                                 "khugepaged raises min_free_kbytes)" % (change.key, actual, change.after))
