# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd units on the host: unit names, the one way to run ``systemctl``, a unit's processes.

* ``unit_name_is_valid(name)``: systemd's own rule (src/basic/unit-name.c, ``unit_name_is_valid``): at
  most 255 characters, a known unit type after the last ``.``, only ``[A-Za-z0-9:_.\\-@]`` before it, no
  ``@`` first, and for an instance something after the ``@``; on top of it, no leading ``-`` except the
  root units ``-.mount`` and ``-.slice``, so that no name can ever read as an option.
* A *runner* is a callable ``runner(argv) -> (rc, stdout, stderr)``: ``module_runner(module)`` on top of
  ``AnsibleModule.run_command``, ``subprocess_runner`` without a module. Both run every command in the C
  locale, without pager or colours, so its output parses the same everywhere.
* ``command(verb, units, options)`` builds every systemctl command line of the collection:
  ``systemctl VERB OPTIONS... -- UNIT...``; ``--`` always comes before unit names, and each name is
  checked first (SystemctlError otherwise).
* ``show(runner, units, properties)``, ``control_group(runner, unit)``, ``unit_pids(fs, control_group)``:
  what systemd knows of a unit, for ``processes`` (unit selectors), ``systemd`` and ``host_info`` alike.

Nothing here imports Ansible or another module_utils but the host layer; pure standard library.
"""

from __future__ import annotations

import os
import subprocess

from ansible_collections.oomkit.linux.plugins.module_utils import host
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError

# The environment of every command: parseable output whatever the host's locale and settings.
ENVIRONMENT = {"LC_ALL": "C", "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"}

UNIT_NAME_MAX = 256  # src/basic/unit-name.h: a name is shorter than this
UNIT_TYPES = ("service", "socket", "target", "device", "mount", "automount", "swap", "timer", "path", "slice",
              "scope")
ROOT_UNITS = ("-.mount", "-.slice")
_VALID_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:-_.\\@")


class SystemctlError(Exception):
    """A bad unit name or a failed systemctl run; the message is meant for the operator."""


def unit_name_is_valid(name):
    """Whether ``name`` is a full unit name systemd accepts (plain, template or instance), and not
    one that could read as an option."""
    if not isinstance(name, str) or not name or len(name) >= UNIT_NAME_MAX:
        return False
    if name.startswith("-") and name not in ROOT_UNITS:
        return False
    prefix, dot, suffix = name.rpartition(".")
    if not dot or not prefix or suffix not in UNIT_TYPES:
        return False
    if any(c not in _VALID_CHARS for c in prefix) or prefix.startswith("@"):
        return False
    return True


def mangle(name):
    """``sshd`` -> ``sshd.service``: a name without a unit type gets ``.service``, as systemctl does."""
    name = str(name).strip()
    if name.rpartition(".")[2] not in UNIT_TYPES:
        name += ".service"
    return name


def check_unit_name(name):
    if not unit_name_is_valid(name):
        raise SystemctlError("%r is not a valid systemd unit name (at most %d characters of letters, digits and "
                             ":-_.\\@, not starting with - or @, ending in a unit type such as .service)"
                             % (name, UNIT_NAME_MAX - 1))
    return name


def command(verb, units=(), options=()):
    """``["systemctl", verb, *options, "--", *units]``; every unit name checked first."""
    for unit in units:
        check_unit_name(unit)
    argv = ["systemctl", verb] + list(options)
    if units:
        argv += ["--"] + list(units)
    return argv


# --- runners -----------------------------------------------------------------------------------------

def _decode(data):
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")


def subprocess_runner(argv):
    """A runner without AnsibleModule (unit tests, bench, the controller side)."""
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,  # pylint: disable=consider-using-with
                                env=dict(os.environ, **ENVIRONMENT))
    except OSError as err:
        return 127, "", str(err)
    out, err = proc.communicate()
    return proc.returncode, _decode(out), _decode(err)


def module_runner(module):
    """A runner built on an AnsibleModule; a program that is not installed gives rc 127, as a shell would."""
    def run(argv):
        binary = module.get_bin_path(argv[0])
        if binary is None:
            return 127, "", "%s: command not found" % argv[0]
        return module.run_command([binary] + list(argv[1:]), environ_update=dict(ENVIRONMENT))
    return run


# --- what systemd knows of a unit -------------------------------------------------------------------

def parse_show(text):
    """``systemctl show`` output (``Key=Value`` lines) as a dict; values may contain ``=``."""
    result = {}
    for line in (text or "").splitlines():
        if "=" not in line:
            continue
        key, value = line.split("=", 1)
        result[key.strip()] = value
    return result


def show_argv(units, properties):
    return command("show", units, ["--property=" + ",".join(properties)])


def control_group(runner, unit):
    """``(rc, control group or "", error text)`` of a unit from ``systemctl show -p ControlGroup``.

    "ControlGroup=/x" is parsed rather than asked with ``--value``, which systemd 219 (EulerOS 2.0 SP5,
    RHEL 7) lacks; a stopped unit has none ("")."""
    argv = command("show", [unit], ["-p", "ControlGroup"])
    try:
        rc, out, err = runner(argv)
    except OSError as exc:
        rc, out, err = 127, "", str(exc)
    if rc != 0:
        return rc, "", (err or out or "").strip()
    return 0, parse_show(out).get("ControlGroup", "").strip(), ""


def tracking_mounts(fs, mounts=None):
    """The mount points of the hierarchies systemd tracks processes in: cgroup v2 (pure, or the hybrid
    ``unified`` mount), else v1 ``name=systemd``. From the mount table; the usual paths when it shows
    no cgroup mount (a fixture tree)."""
    mounts = host.read_mounts(fs) if mounts is None else mounts
    v2, _v1_memory, v1_systemd = host.cgroup_mounts(mounts)
    found = [m for m in (v2, v1_systemd) if m]
    if found:
        return found
    usual = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd"]
    if fs.exists("/sys/fs/cgroup/cgroup.controllers"):
        usual.insert(0, "/sys/fs/cgroup")
    return [m for m in usual if fs.isdir(m)]


def unit_pids(fs, control_group_path, mounts=None):
    """PIDs in a unit's cgroup and below (sorted), from ``cgroup.procs`` in the first tracking hierarchy
    that has the cgroup; sub-cgroups removed during the walk are skipped."""
    if not control_group_path:
        return []
    for mount in tracking_mounts(fs, mounts):
        top = mount.rstrip("/") + control_group_path
        if not fs.isdir(top):
            continue
        pids = set()
        pending = [top]
        while pending:
            directory = pending.pop()
            try:
                text = fs.read_optional(directory + "/cgroup.procs")
            except HostError:
                text = None
            if text is not None:
                pids.update(int(word) for word in text.split() if word.isdigit())
            try:
                entries = fs.listdir(directory)
            except HostError:
                continue  # removed while we walked
            pending.extend(directory + "/" + e for e in entries if fs.isdir(directory + "/" + e))
        return sorted(pids)
    return []
