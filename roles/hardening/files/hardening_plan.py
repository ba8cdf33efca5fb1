# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probe a host and plan the oomkit.linux.hardening role's module calls (role-internal).

Run by the role through ansible.builtin.script, once per host, as
``hardening_plan.py BASE64_JSON`` where the JSON holds the role variables as they arrived (AWX
surveys send strings: "true", "0", "sshd,rsyslog", "vm.swappiness=10"). Reads only; prints one
JSON object: ``host`` (what was found), ``sysctl``/``units``/``processes``/``cgroups`` (the calls
the role makes), ``processes_ok`` (selections already as wanted: no call) and ``skipped`` (what is
not done here, with the reason), or ``{"failed": true, "msg": ...}`` for bad input.

Python 3.8+ standard library only: the collection's module_utils do not travel with a script.
"""

from __future__ import annotations

import base64
import json
import os
import pwd
import re
import shutil
import subprocess
import sys

TRUE_WORDS = ("1", "true", "yes", "on", "y")
FALSE_WORDS = ("0", "false", "no", "off", "n")
CAP_SYS_RESOURCE = 24
QOS_SYSCTL = "vm.memcg_qos_enable"
SELECTOR_KEYS = ("pid", "pids", "pidfile", "name", "pattern", "user", "cgroup", "unit")
PROCESS_KEYS = SELECTOR_KEYS + ("value", "include_children")
UNIT_OPTIONS = ("oom_score_adjust", "oom_policy", "memory_accounting", "memory_max", "memory_high", "memory_low",
                "memory_min", "memory_swap_max", "memory_zswap_max", "managed_oom_swap", "managed_oom_memory_pressure",
                "managed_oom_memory_pressure_limit", "managed_oom_preference")
CGROUP_OPTIONS = ("path", "state", "max", "swap_max", "high", "low", "min", "oom_group", "oom_kill_disable",
                  "swappiness", "soft_limit", "qos_level", "force", "allow_systemd_managed")
UNIT_TYPES = ("service", "socket", "mount", "swap", "slice", "scope")
UNIT_RE = re.compile(r"^[A-Za-z0-9:_.\\@-]+$")


class PlanError(ValueError):
    """Bad role input: the role fails before anything is changed."""


# --- coercion (AWX survey answers are strings) ---------------------------------------------------

def tristate(value, option):
    if isinstance(value, bool):
        return value
    text = "auto" if value is None else str(value).strip().lower()
    if text in ("", "auto"):
        return "auto"
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise PlanError("%s must be auto, true or false, not %r" % (option, value))


def to_bool(value, option):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise PlanError("%s must be true or false, not %r" % (option, value))


def to_int(value, option, low=None, high=None):
    if isinstance(value, bool):
        raise PlanError("%s must be an integer, not %r" % (option, value))
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise PlanError("%s must be an integer, not %r" % (option, value))
    if (low is not None and number < low) or (high is not None and number > high):
        raise PlanError("%s must be between %s and %s, not %s" % (option, low, high, number))
    return number


def to_list(value, option):
    """A list; a string is a comma-separated list (or JSON)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                raise PlanError("%s: %r is not a JSON list" % (option, value))
            return parsed
        return [part.strip() for part in text.split(",") if part.strip()]
    raise PlanError("%s must be a list, not %r" % (option, value))


def to_dict(value, option):
    """A mapping; a string is JSON or key=value pairs separated by commas or spaces."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return {}
        if text.startswith("{"):
            try:
                return json.loads(text)
            except ValueError:
                raise PlanError("%s: %r is not a JSON mapping" % (option, value))
        result = {}
        for part in re.split(r"[,\s]+", text):
            if not part:
                continue
            if "=" not in part:
                raise PlanError("%s: %r is not key=value" % (option, part))
            key, val = part.split("=", 1)
            result[key.strip()] = val.strip()
        return result
    raise PlanError("%s must be a mapping, not %r" % (option, value))


def dict_list(value, option):
    items = to_list(value, option)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise PlanError("%s #%d must be a mapping, not %r" % (option, index + 1, item))
    return items


# --- names ----------------------------------------------------------------------------------------

def sysctl_name(key, option):
    """Canonical dotted name (as systemd-sysctl maps a slashed name)."""
    key = str(key).strip()
    if key.startswith("/proc/sys/"):
        key = key[len("/proc/sys/"):]
    if not key or re.search(r"[\s=#;]|\.\.|//|^[./]|[./]$", key):
        raise PlanError("%s: %r is not a valid sysctl name" % (option, key))
    slash, dot = key.find("/"), key.find(".")
    if slash != -1 and (dot == -1 or slash < dot):
        return ".".join(part.replace(".", "/") for part in key.split("/"))
    return key


def sysctl_path(name):
    return "/proc/sys/" + "/".join(part.replace("/", ".") for part in name.split("."))


def unit_name(name, option):
    name = str(name).strip()
    if "." not in name.rsplit("@", 1)[-1] or not name.rsplit(".", 1)[-1].isalpha():
        name += ".service"
    if not UNIT_RE.match(name) or name.startswith(("@", ".")) or len(name) > 255:
        raise PlanError("%s: %r is not a valid systemd unit name" % (option, name))
    if name.rsplit(".", 1)[-1] not in UNIT_TYPES:
        raise PlanError("%s: %s takes no OOM or memory settings (use a %s unit)" % (option, name, "/".join(UNIT_TYPES)))
    return name


# --- probing -------------------------------------------------------------------------------------

def read(path, default=None):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except (IOError, OSError):
        return default


def proc_sys_state():
    path = "/proc/sys/vm/oom_dump_tasks"
    try:
        flags = os.statvfs(path).f_flag
    except OSError as err:
        return {"writable": False, "reason": "cannot inspect /proc/sys: %s" % err.strerror}
    if flags & os.ST_RDONLY:
        return {"writable": False, "reason": "/proc/sys is mounted read-only here (an unprivileged container)"}
    if not os.access(path, os.W_OK):
        return {"writable": False, "reason": "/proc/sys is not writable by this user (run the role with become)"}
    return {"writable": True, "reason": None}


def cap_sys_resource():
    for line in (read("/proc/self/status") or "").splitlines():
        if line.startswith("CapEff:"):
            try:
                return bool(int(line.split()[1], 16) >> CAP_SYS_RESOURCE & 1)
            except (IndexError, ValueError):
                return None
    return None


def detect_container():
    for item in (read("/proc/1/environ") or "").split("\0"):
        if item.startswith("container="):
            return item.split("=", 1)[1] or "unknown"
    if os.path.exists("/run/.containerenv"):
        return "podman"
    if os.path.exists("/.dockerenv"):
        return "docker"
    return None


def cgroup_state():
    """cgroup layout from /proc/self/mountinfo; where the memory controller is and if it is writable."""
    result = {"version": None, "memory_version": None, "memory_mount": None, "memory_writable": False, "reason": None}
    v1, v2, memory_v1 = [], [], []
    for line in (read("/proc/self/mountinfo") or "").splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        mount = fields[4].replace("\\040", " ")
        if tail[0] == "cgroup2":
            v2.append(mount)
        elif tail[0] == "cgroup":
            opts = tail[2].split(",")
            v1.append(mount)
            if "memory" in opts:
                memory_v1.append(mount)
    if v1 and v2:
        result["version"] = "hybrid"
    elif v1:
        result["version"] = "v1"
    elif v2:
        result["version"] = "v2"
    if memory_v1:
        mount = sorted(memory_v1, key=lambda m: (m != "/sys/fs/cgroup/memory", len(m)))[0]
        result.update(memory_version="v1", memory_mount=mount)
    else:
        with_memory = [m for m in v2 if "memory" in (read(m + "/cgroup.controllers") or "").split()]
        if with_memory:
            result.update(memory_version="v2", memory_mount=sorted(with_memory, key=len)[0])
    if not result["memory_mount"]:
        result["reason"] = "the memory cgroup controller is not available here"
        return result
    try:
        writable = not (os.statvfs(result["memory_mount"]).f_flag & os.ST_RDONLY) \
            and os.access(result["memory_mount"], os.W_OK)
    except OSError:
        writable = False
    result["memory_writable"] = writable
    if not writable:
        result["reason"] = "the memory cgroup hierarchy %s is read-only here (an unprivileged container)" % result["memory_mount"]
    return result


def qos_level_present(mount):
    """memory.qos_level exists in non-root memcgs only: look at the root and one level down."""
    if not mount or not os.path.isdir(mount):
        return False
    if os.path.exists(mount + "/memory.qos_level"):
        return True
    try:
        entries = sorted(os.listdir(mount))
    except OSError:
        return False
    return any(os.path.exists(os.path.join(mount, e, "memory.qos_level")) for e in entries)


def systemctl(*args):
    env = dict(os.environ, LANG="C", LC_ALL="C", SYSTEMD_PAGER="", SYSTEMD_COLORS="0")
    proc = subprocess.Popen(["systemctl"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = proc.communicate()
    if proc.returncode != 0:
        message = (err or out).decode("utf-8", "replace").strip()
        raise PlanError("`systemctl %s` failed (rc=%s): %s" % (" ".join(args), proc.returncode, message))
    return out.decode("utf-8", "replace")


UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system",
             "/lib/systemd/system")


def unit_file(name):
    """The unit's real name when its file (or its template's) is installed, else None: for hosts where
    systemd does not run. An alias (a symlink to another unit file) resolves to that unit."""
    names = [name]
    if "@" in name:
        prefix, rest = name.split("@", 1)
        names.append(prefix + "@." + rest.rsplit(".", 1)[-1])
    for directory in UNIT_DIRS:
        for candidate in names:
            path = os.path.join(directory, candidate)
            if os.path.exists(path):
                real = os.path.basename(os.path.realpath(path))
                if candidate == name and real != name and real.endswith(name[name.rfind("."):]) and "@" not in real:
                    return real
                return name
    return None


def systemd_state(candidates):
    running = os.path.isdir("/run/systemd/system") and shutil.which("systemctl") is not None
    state = {"running": running, "version": None}
    units = {}
    if not running:
        # Image builds and chroots: the unit files tell which units exist.
        for unit in candidates:
            real = unit_file(unit)
            if real:
                units[unit] = {"id": real, "active_state": None, "main_pid": 0}
        return state, units
    match = re.search(r"^systemd\s+([0-9]+)", systemctl("--version"), re.M)
    state["version"] = int(match.group(1)) if match else None
    if candidates:
        out = systemctl("show", "--property=Id,LoadState,ActiveState,MainPID", *candidates)
        for unit, block in zip(candidates, out.strip("\n").split("\n\n")):
            show = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
            if show.get("LoadState") != "loaded":
                continue
            units[unit] = {"id": show.get("Id") or unit, "active_state": show.get("ActiveState"),
                           "main_pid": int(show.get("MainPID") or 0) if (show.get("MainPID") or "0").isdigit() else 0}
    return state, units


# --- processes (enough of oom_score_adj's selection to know whether a call is needed) --------------

class Proc(object):
    def __init__(self, pid):
        self.pid = pid
        self._cache = {}

    def get(self, name):
        if name not in self._cache:
            self._cache[name] = read("/proc/%d/%s" % (self.pid, name))
        return self._cache[name]

    def alive_user_process(self):
        stat = self.get("stat")
        if not stat:
            return False
        rest = stat[stat.rfind(")") + 2:].split()
        try:
            return rest[0] != "Z" and not int(rest[6]) & 0x00200000
        except (IndexError, ValueError):
            return False

    def cmdline(self):
        return [a for a in (self.get("cmdline") or "").split("\0") if a]


def select(call, own):
    """PIDs the oom_score_adj module would select, or None when this script cannot tell (cgroup, unit)."""
    if any(k in call for k in ("cgroup", "unit")) or call.get("include_children"):
        return None
    pids = None
    if "pid" in call or "pids" in call:
        pids = set(int(p) for p in ([call["pid"]] if "pid" in call else []) + list(call.get("pids") or []))
    if "pidfile" in call:
        words = (read(call["pidfile"]) or "").split()
        if not words or not words[0].isdigit():
            return []
        pids = set([int(words[0])]) if pids is None else pids & set([int(words[0])])
    candidates = sorted(pids) if pids is not None else sorted(int(n) for n in os.listdir("/proc") if n.isdigit())
    regex = re.compile(call["pattern"]) if "pattern" in call else None
    uid = None
    if "user" in call:
        user = str(call["user"])
        try:
            uid = int(user) if user.isdigit() else pwd.getpwnam(user).pw_uid
        except KeyError:
            raise PlanError("no such user: %s" % user)
    selected = []
    for pid in candidates:
        if pid in own:
            continue
        proc = Proc(pid)
        if "name" in call:
            comm = (proc.get("comm") or "").rstrip("\n")
            name = str(call["name"])
            if comm != name[:15]:
                continue
            if len(name) > 15:
                args = proc.cmdline()
                bases = [os.path.basename(args[0])] if args else []
                try:
                    bases.append(os.path.basename(os.readlink("/proc/%d/exe" % pid)).replace(" (deleted)", ""))
                except OSError:
                    pass
                if name not in bases:
                    continue
        if regex is not None and not regex.search(" ".join(proc.cmdline())):
            continue
        if uid is not None:
            uids = [line.split()[2] for line in (proc.get("status") or "").splitlines() if line.startswith("Uid:")]
            if not uids or int(uids[0]) != uid:
                continue
        if proc.alive_user_process():
            selected.append(pid)
    return selected


def scores(pids):
    values = []
    for pid in pids:
        text = read("/proc/%d/oom_score_adj" % pid)
        if text is not None and text.strip().lstrip("-").isdigit():
            values.append(int(text))
    return values


# --- planning ------------------------------------------------------------------------------------

def container_note(host):
    return " (%s container)" % host["container"] if host["container"] else ""


def normalize_protected(items, default_value, option):
    result = []
    for index, item in enumerate(items):
        where = "%s #%d" % (option, index + 1)
        if isinstance(item, dict):
            unknown = sorted(set(item) - set(("unit", "process", "oom_score_adjust")))
            if unknown:
                raise PlanError("%s: unknown key(s) %s (use unit, process, oom_score_adjust)" % (where, ", ".join(unknown)))
            unit, process, value = item.get("unit"), item.get("process"), item.get("oom_score_adjust")
        else:
            unit, process, value = str(item).strip(), None, None
            if not unit:
                continue
        if not unit and not process:
            raise PlanError("%s needs a unit or a process" % where)
        unit = unit_name(unit, where) if unit else None
        if not process and unit:
            process = unit.rsplit(".", 1)[0]
        value = default_value if value in (None, "") else to_int(value, where + " oom_score_adjust", -1000, 1000)
        result.append({"unit": unit, "process": process or None, "oom_score_adjust": value})
    return result


def plan_sysctl(cfg, host, skipped):
    if not to_bool(cfg.get("sysctl_manage", True), "hardening_sysctl_manage"):
        return None
    settings = {}
    for source in ("sysctl_baseline", "sysctl_extra"):
        for key, value in to_dict(cfg.get(source), "hardening_" + source).items():
            name = sysctl_name(key, "hardening_" + source)
            if value is None or str(value).strip() == "":
                settings.pop(name, None)
            else:
                settings[name] = str(int(value)) if isinstance(value, bool) else str(value).strip()
    qos = cfg.get("memcg_qos_enable")
    if qos is not None and str(qos).strip().lower() not in ("", "null", "none"):
        qos = to_int(qos, "hardening_memcg_qos_enable", 0, 2)
        if host["sysctls"].get(QOS_SYSCTL) is None:
            skipped.append({"item": "sysctl %s" % QOS_SYSCTL,
                            "reason": "this kernel has no vm.memcg_qos_enable (the openEuler/HCE memcg OOM priority, "
                                      "CONFIG_MEMCG_OOM_PRIORITY)"})
        else:
            settings[QOS_SYSCTL] = str(qos)
    if not settings:
        return None
    runtime = tristate(cfg.get("sysctl_runtime"), "hardening_sysctl_runtime")
    persist = to_bool(cfg.get("sysctl_persist", True), "hardening_sysctl_persist")
    if runtime == "auto":
        runtime = host["proc_sys"]["writable"]
        if not runtime:
            skipped.append({"item": "live values of %s" % ", ".join(sorted(settings)),
                            "reason": host["proc_sys"]["reason"] + ("; persisted only" if persist else "")})
    if not runtime and not persist:
        skipped.append({"item": "sysctls", "reason": "neither runtime nor persist is enabled"})
        return None
    missing = [k for k in sorted(settings) if host["sysctls"].get(k) is None and k != QOS_SYSCTL]
    if missing and to_bool(cfg.get("sysctl_ignore_missing", False), "hardening_sysctl_ignore_missing"):
        for key in missing:
            settings.pop(key)
            skipped.append({"item": "sysctl %s" % key, "reason": "this kernel does not have it"})
    elif missing:
        raise PlanError("this kernel has no %s; remove them or set hardening_sysctl_ignore_missing: true"
                        % ", ".join(missing))
    if not settings:
        return None
    return {"settings": settings, "runtime": bool(runtime), "persist": persist}


def plan_units(cfg, host, systemd, skipped, protected, limits):
    """The protected services and the unit limits merged: one systemd_oom call per unit."""
    units, order = {}, []
    cap = host["cap_sys_resource"]

    def entry(unit_id):
        if unit_id not in units:
            units[unit_id] = {"name": unit_id, "live": True}
            order.append(unit_id)
        return units[unit_id]

    def no_live(target, value):
        target["live"] = False
        skipped.append({"item": "live oom_score_adj %s of %s" % (value, target["name"]),
                        "reason": "no CAP_SYS_RESOURCE here%s: the kernel refuses values below 0; the drop-in "
                                  "(OOMScoreAdjust=) is written and applies where the service starts with the "
                                  "capability" % container_note(host)})

    if systemd:
        seen = set()
        for item in protected:
            if not item["unit"]:
                continue
            known = host["units"].get(item["unit"])
            if known is None:
                continue  # not installed: the default list names candidates for several distributions
            unit_id = known["id"] if known else item["unit"]
            if unit_id in seen:
                continue
            seen.add(unit_id)
            target = entry(unit_id)
            target["oom_score_adjust"] = item["oom_score_adjust"]
            if item["oom_score_adjust"] < 0 and cap is False:
                no_live(target, item["oom_score_adjust"])
    for index, item in enumerate(limits):
        where = "hardening_unit_limits #%d" % (index + 1)
        unknown = sorted(set(item) - set(("unit",) + UNIT_OPTIONS))
        if unknown:
            raise PlanError("%s: unknown key(s) %s (known: unit, %s)" % (where, ", ".join(unknown), ", ".join(UNIT_OPTIONS)))
        if not item.get("unit"):
            raise PlanError("%s needs a unit" % where)
        name = unit_name(item["unit"], where)
        if not systemd:
            skipped.append({"item": "settings of %s" % name, "reason": "systemd is not the service manager here"})
            continue
        known = host["units"].get(name)
        if known is None and "@." not in name:
            skipped.append({"item": "settings of %s" % name, "reason": "systemd does not know this unit here"})
            continue
        target = entry(known["id"] if known else name)
        for option in UNIT_OPTIONS:
            if item.get(option) not in (None, ""):
                target[option] = item[option]
        if "oom_score_adjust" in target:
            target["oom_score_adjust"] = to_int(target["oom_score_adjust"], where + " oom_score_adjust", -1000, 1000)
            if target["oom_score_adjust"] < 0 and cap is False and target["live"]:
                no_live(target, target["oom_score_adjust"])
        if "memory_accounting" in target:
            target["memory_accounting"] = to_bool(target["memory_accounting"], where + " memory_accounting")
    return [units[u] for u in order]


def plan_processes(cfg, host, systemd, skipped, protected):
    """oom_score_adj calls: protected processes where systemd does not manage them, and expendable ones.
    A selection whose processes all have the value already, or match nothing, needs no call."""
    cap = host["cap_sys_resource"]
    own = set([os.getpid(), os.getppid()])
    calls = []
    if not systemd:
        seen = set()
        for item in protected:
            if not item["process"] or item["process"] in seen:
                continue
            seen.add(item["process"])
            call = {"name": item["process"], "value": item["oom_score_adjust"], "role": "protected"}
            if item["oom_score_adjust"] < 0 and cap is False:
                running = select(call, own)
                if running:
                    skipped.append({"item": "live oom_score_adj %s of %s (pid %s)" % (
                        item["oom_score_adjust"], item["process"], ", ".join(str(p) for p in running[:10])),
                        "reason": "no CAP_SYS_RESOURCE here%s: the kernel refuses values below 0" % container_note(host)})
                continue
            calls.append(call)
    score = to_int(cfg.get("expendable_score", 500), "hardening_expendable_score", 1, 1000)
    for name in to_list(cfg.get("expendable_names"), "hardening_expendable_names"):
        if str(name).strip():
            calls.append({"name": str(name).strip(), "value": score, "role": "expendable"})
    for index, item in enumerate(dict_list(cfg.get("expendable_processes"), "hardening_expendable_processes")):
        where = "hardening_expendable_processes #%d" % (index + 1)
        unknown = sorted(set(item) - set(PROCESS_KEYS))
        if unknown:
            raise PlanError("%s: unknown key(s) %s (selectors: %s; and value, include_children)"
                            % (where, ", ".join(unknown), ", ".join(SELECTOR_KEYS)))
        call = dict((k, item[k]) for k in PROCESS_KEYS if item.get(k) not in (None, "", []))
        if not any(k in call for k in SELECTOR_KEYS):
            raise PlanError("%s selects nothing: give at least one of %s" % (where, ", ".join(SELECTOR_KEYS)))
        call["value"] = to_int(call.get("value", score), where + " value", 1, 1000)
        if "pattern" in call:
            try:
                re.compile(call["pattern"])
            except re.error as err:
                raise PlanError("%s: pattern %r is not a valid regular expression: %s" % (where, call["pattern"], err))
        if "include_children" in call:
            call["include_children"] = to_bool(call["include_children"], where + " include_children")
        call["role"] = "expendable"
        calls.append(call)
    needed, already = [], []
    for call in calls:
        pids = select(call, own)
        if pids is None:
            needed.append(call)
            continue
        values = scores(pids)
        if not pids:
            already.append(dict(call, pids=[], reason="no process matches"))
        elif values and len(values) == len(pids) and all(v == call["value"] for v in values):
            already.append(dict(call, pids=pids, reason="every selected process has %s already" % call["value"]))
        else:
            needed.append(dict(call, pids=pids))
    return merge_name_calls(needed, own), already


def merge_name_calls(calls, own):
    """One oom_score_adj run for several process names with the same value and role.

    oom_score_adj selects one name per run. A regular expression over the command line that
    matches any of the names as the program (argv[0], with or without a directory) does the same
    in one run, when it selects exactly the processes the names select now: that is checked here,
    and the names are kept as separate runs when it does not (a program that rewrites its argv[0],
    such as sshd, or a comm that is not the program's name). The module still selects and checks
    the processes itself when it writes.
    """
    groups = {}
    for call in calls:
        if set(call) == set(("name", "value", "role", "pids")):
            groups.setdefault((call["role"], call["value"]), []).append(call)
    merged, done = [], set()
    for call in calls:
        key = (call["role"], call["value"])
        group = groups.get(key, [])
        if call not in group or len(group) < 2:
            merged.append(dict((k, v) for k, v in call.items() if k != "pids"))
            continue
        if key in done:
            continue
        done.add(key)
        names = sorted(set(c["name"] for c in group))
        pattern = "^(?:\\S*/)?(?:%s)(?:\\s|$)" % "|".join(re.escape(n) for n in names)
        wanted = set(p for c in group for p in c["pids"])
        if set(select({"pattern": pattern}, own) or []) == wanted:
            merged.append({"pattern": pattern, "value": call["value"], "role": call["role"], "names": names})
        else:
            merged.extend(dict((k, v) for k, v in c.items() if k != "pids") for c in group)
    return merged


def plan_cgroups(host, skipped, cgroups):
    calls = []
    for index, item in enumerate(cgroups):
        where = "hardening_cgroups #%d" % (index + 1)
        unknown = sorted(set(item) - set(CGROUP_OPTIONS))
        if unknown:
            raise PlanError("%s: unknown key(s) %s (known: %s)" % (where, ", ".join(unknown), ", ".join(CGROUP_OPTIONS)))
        if not item.get("path"):
            raise PlanError("%s needs a path" % where)
        if not host["cgroup"]["memory_writable"]:
            skipped.append({"item": "cgroup %s" % item["path"], "reason": host["cgroup"]["reason"]})
            continue
        calls.append(dict((k, v) for k, v in item.items() if v not in (None, "")))
    if any("qos_level" in c for c in calls) and not host["qos_level"]:
        skipped.append({"item": "memory.qos_level", "reason": "this kernel has no memory.qos_level (the openEuler/HCE "
                                                              "memcg OOM priority); cgroup_memory skips it"})
    return calls


def plan(cfg):
    default_adj = to_int(cfg.get("protect_oom_score_adjust", -900), "hardening_protect_oom_score_adjust", -1000, 1000)
    protected = []
    if to_bool(cfg.get("protect", True), "hardening_protect"):
        for source in ("protected_services", "protected_services_extra"):
            protected += normalize_protected(to_list(cfg.get(source), "hardening_" + source), default_adj,
                                             "hardening_" + source)
    limits = dict_list(cfg.get("unit_limits"), "hardening_unit_limits")
    cgroups = dict_list(cfg.get("cgroups"), "hardening_cgroups")
    candidates = []
    for name in [p["unit"] for p in protected if p["unit"]] + [unit_name(u["unit"], "hardening_unit_limits")
                                                               for u in limits if u.get("unit")]:
        if name not in candidates:
            candidates.append(name)
    host = {"container": detect_container(), "cap_sys_resource": cap_sys_resource(), "proc_sys": proc_sys_state(),
            "cgroup": cgroup_state()}
    host["systemd"], host["units"] = systemd_state(candidates)
    names = set(["vm.panic_on_oom", QOS_SYSCTL])
    for source in ("sysctl_baseline", "sysctl_extra"):
        names.update(sysctl_name(k, "hardening_" + source) for k in to_dict(cfg.get(source), "hardening_" + source))
    host["sysctls"] = {}
    for name in sorted(names):
        text = read(sysctl_path(name))
        if text is None and os.path.exists(sysctl_path(name)):
            text = "(unreadable)"
        host["sysctls"][name] = None if text is None else " ".join(text.split())
    host["qos_level"] = qos_level_present(host["cgroup"]["memory_mount"])

    systemd = tristate(cfg.get("systemd"), "hardening_systemd")
    if systemd == "auto":
        systemd = host["systemd"]["running"]
    host["systemd"]["managed"] = systemd
    skipped = []
    if not systemd and protected:
        skipped.append({"item": "OOMScoreAdjust= drop-ins of the protected services",
                        "reason": "systemd is not the service manager here; running processes get the live value only"})
    result = {"host": host, "skipped": skipped}
    result["sysctl"] = plan_sysctl(cfg, host, skipped)
    result["units"] = plan_units(cfg, host, systemd, skipped, protected, limits)
    result["processes"], result["processes_ok"] = plan_processes(cfg, host, systemd, skipped, protected)
    result["cgroups"] = plan_cgroups(host, skipped, cgroups)
    if result["sysctl"] and result["sysctl"]["settings"].get("vm.panic_on_oom", "0") != "0":
        skipped.append({"item": "nothing (warning)",
                        "reason": "vm.panic_on_oom=%s is asked for: an OOM then panics the host instead of killing "
                                  "one process%s" % (result["sysctl"]["settings"]["vm.panic_on_oom"],
                                                     "; vm.* sysctls here are the HOST's" if host["container"] else "")})
    return result


def main(argv):
    try:
        if len(argv) != 2:
            raise PlanError("usage: hardening_plan.py BASE64_JSON_CONFIG")
        try:
            cfg = json.loads(base64.b64decode(argv[1]).decode("utf-8"))
        except (ValueError, TypeError) as err:
            raise PlanError("the configuration is not base64-encoded JSON: %s" % err)
        result = plan(cfg)
        result["failed"] = False
    except PlanError as err:
        result = {"failed": True, "msg": str(err)}
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
