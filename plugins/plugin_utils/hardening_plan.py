# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The oomkit.linux.hardening role's planning, on the controller (pure Python, no Ansible import).

Two steps per host, around one read-only run of oomkit.linux.oom_host_info:

    query = host_query(config)        # {"failed": False, "units": [...], "processes": [...], "sysctls": [...]}
    info = <oom_host_info run with the query's units, processes and sysctls>
    result = plan(config, info)       # what the role calls, what needs no call, what is skipped and why

``config`` holds the role variables as they arrived (AWX surveys send strings: "true", "0",
"sshd,rsyslog", "vm.swappiness=10"); both steps convert and validate them and return
``{"failed": True, "msg": ...}`` for bad input, before anything is changed on the host. The
plan is ``host`` (what was found, in the shape hardening_result.host documents), ``sysctl``,
``units``, ``processes``, ``cgroups`` (the module calls), ``processes_ok`` (selections already as
wanted: no call) and ``skipped`` (what is not done here, with the reason).
"""

from __future__ import annotations

import json
import re

from ansible_collections.oomkit.linux.plugins.plugin_utils import role_args

from ansible_collections.oomkit.linux.plugins.module_utils import systemctl
from ansible_collections.oomkit.linux.plugins.module_utils.processes import (
    OOM_SCORE_ADJ_MAX as ADJ_MAX, OOM_SCORE_ADJ_MIN as ADJ_MIN, SELECTOR_KEYS, refused_without_capability,
)
from ansible_collections.oomkit.linux.plugins.module_utils.sysctl import KNOBS, QOS_SYSCTL, SysctlError, normalize_name
from ansible_collections.oomkit.linux.plugins.module_utils.systemd import (
    SETTINGS, SETTINGS_BY_OPTION, UNIT_TYPES_WITH_CGROUP, SystemdError, normalize_unit_name,
)

ROLE = "hardening"
PREFIX = "hardening_"
_TYPED = "_typed"  # marks a configuration typed_config() has converted
PROCESS_KEYS = SELECTOR_KEYS + ("value", "include_children")
# the unit settings a hardening_unit_limits entry takes: every option of systemd_oom's settings table
UNIT_OPTIONS = tuple(s.option for s in SETTINGS)
CGROUP_OPTIONS = ("path", "state", "max", "swap_max", "high", "low", "min", "oom_group", "oom_kill_disable",
                  "swappiness", "soft_limit", "qos_level", "force", "allow_systemd_managed")
# The role variables a host's entry of hardening_proposal may hold (what the diagnosis proposes,
# plugin_utils/oom_proposal.py): lists are appended to the role's own, hardening_sysctl_extra is merged over
# the role's (the proposal's value wins for a key both set), hardening_memcg_qos_enable replaces the role's.
# Nothing that widens what the role may do (hardening_sysctl_allow_any) can come from a proposal.
PROPOSAL_VARIABLES = ("hardening_protected_services_extra", "hardening_unit_limits", "hardening_cgroups",
                      "hardening_sysctl_extra", "hardening_memcg_qos_enable")


class PlanError(ValueError):
    """Bad role input: the role fails before anything is changed."""


# --- the role variables, through the role's argument spec ---------------------------------------

def typed_config(cfg, host=None):
    """The role variables (without their ``hardening_`` prefix) in the types of meta/argument_specs.yml,
    with ``host``'s entry of ``hardening_proposal`` merged in (see merge_proposal).

    The one conversion of AWX survey strings: role_args applies the role's own argument spec with
    ansible-core's validator (blank optional answers mean "not set"). Values already converted
    (a second step of the same run) pass through unchanged.
    """
    if not isinstance(cfg, dict):
        raise PlanError("the role configuration must be a mapping")
    if cfg.get(_TYPED):
        return cfg
    try:
        values = role_args.convert(ROLE, dict((PREFIX + k, v) for k, v in cfg.items()))
    except role_args.RoleArgsError as err:
        raise PlanError(str(err))
    typed = dict((k[len(PREFIX):], v) for k, v in values.items())
    typed = merge_proposal(typed, typed.pop("proposal", None), host)
    typed[_TYPED] = True
    return typed


def merge_proposal(typed, proposal, host):
    """``typed`` (the converted role variables) with ``host``'s entry of ``hardening_proposal`` merged in.

    The entry is checked on its own first, with errors that name it (``hardening_proposal[web1]:
    hardening_unit_limits #1 memory_max: ...``): only PROPOSAL_VARIABLES, each converted by its own spec,
    its units, cgroups, protected services and sysctl names checked as the role checks its own. Then lists
    are appended, hardening_sysctl_extra merged over the role's, hardening_memcg_qos_enable replaced.
    """
    typed = dict(typed, proposal_applied=None)
    if role_args.is_blank(proposal) or proposal == {}:
        return typed
    if not isinstance(proposal, dict):
        raise PlanError("hardening_proposal must be a mapping of inventory host to role variables (proposal.yml of "
                        "oomkit.linux.diagnosis), not %r" % (proposal,))
    if host is None:
        raise PlanError("hardening_proposal is set but the plan was not told the inventory host (the role passes it)")
    entry = proposal.get(str(host))
    if entry is None or entry == {}:
        return typed
    where = "hardening_proposal[%s]" % host
    if not isinstance(entry, dict):
        raise PlanError("%s must be a mapping of role variables, not %r" % (where, entry))
    unknown = sorted(set(entry) - set(PROPOSAL_VARIABLES))
    if unknown:
        raise PlanError("%s: %s %s not taken from a proposal (it may set %s)" % (
            where, ", ".join(str(u) for u in unknown), "is" if len(unknown) == 1 else "are", ", ".join(PROPOSAL_VARIABLES)))
    spec = role_args.load_spec(ROLE)
    given = {}
    for name in PROPOSAL_VARIABLES:
        if name not in entry:
            continue
        try:
            given[name[len(PREFIX):]] = role_args.convert_option("%s.%s" % (where, name), spec[name], entry[name])
        except role_args.RoleArgsError as err:
            raise PlanError(str(err))
    try:
        # the checks the role makes of its own values, on the entry alone (so that the error names it)
        default_adj = bounded(typed["protect_oom_score_adjust"], "hardening_protect_oom_score_adjust", ADJ_MIN, ADJ_MAX)
        normalize_protected(given.get("protected_services_extra") or [], default_adj, "hardening_protected_services_extra")
        _check_unit_limits(given.get("unit_limits") or [])
        _check_cgroups(given.get("cgroups") or [])
        names = [sysctl_name(k, "hardening_sysctl_extra") for k in (given.get("sysctl_extra") or {})]
        check_sysctl_allowed(names, "hardening_sysctl_extra", typed)
        for key, value in (given.get("sysctl_extra") or {}).items():
            if role_args.is_blank(value):
                raise PlanError("hardening_sysctl_extra: %s has no value (a proposal sets values, it drops none)" % key)
        if not role_args.is_blank(given.get("memcg_qos_enable")):
            nested_int(given["memcg_qos_enable"], "hardening_memcg_qos_enable", 0, 2)
    except PlanError as err:
        raise PlanError("%s: %s" % (where, err))
    for key, value in given.items():
        if key == "sysctl_extra":
            typed[key] = dict(typed[key], **value)
        elif key == "memcg_qos_enable":
            if not role_args.is_blank(value):
                typed[key] = value
        else:
            typed[key] = list(typed[key]) + list(value)
    typed["proposal_applied"] = dict((PREFIX + k, v) for k, v in given.items())
    return typed


def tristate(value, option):
    """``auto`` (also a blank answer), or a boolean as ansible-core reads it."""
    if isinstance(value, str) and value.strip().lower() in ("", "auto"):
        return "auto"
    if value is None:
        return "auto"
    try:
        return role_args.check(option, {"type": "bool"}, value)
    except role_args.RoleArgsError:
        raise PlanError("%s must be auto, true or false, not %r" % (option, value))


def nested(value, where, wanted):
    """A value inside an element of a role variable (``include_children`` of an entry...), converted by
    ansible-core's check for ``wanted`` (bool, int)."""
    try:
        return role_args.check(where, {"type": wanted}, value)
    except role_args.RoleArgsError as err:
        raise PlanError(str(err))


def bounded(value, option, low, high):
    """An integer (already converted) inside its documented bounds."""
    if not low <= value <= high:
        raise PlanError("%s must be between %s and %s, not %s" % (option, low, high, value))
    return value


def nested_int(value, where, low, high):
    return bounded(nested(value, where, "int"), where, low, high)


# --- names (the collection's own rules, from module_utils) ---------------------------------------

def sysctl_name(key, option):
    try:
        return normalize_name(key)
    except SysctlError as err:
        raise PlanError("%s: %s" % (option, err))


def unit_name(name, option):
    try:
        return normalize_unit_name(str(name))
    except SystemdError:
        text = systemctl.mangle(name)
        if systemctl.unit_name_is_valid(text):
            raise PlanError("%s: %s takes no OOM or memory settings (use a %s unit)"
                            % (option, text, "/".join(UNIT_TYPES_WITH_CGROUP)))
        raise PlanError("%s: %r is not a valid systemd unit name" % (option, text))


def name_pattern(names):
    """A regular expression over the command line that selects the programs called ``names``."""
    return "^(?:\\S*/)?(?:%s)(?:\\s|$)" % "|".join(re.escape(n) for n in names)


# --- reading the configuration (the same for both steps) -------------------------------------------

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
        value = default_value if role_args.is_blank(value) else nested_int(value, where + " oom_score_adjust", ADJ_MIN, ADJ_MAX)
        result.append({"unit": unit, "process": process or None, "oom_score_adjust": value})
    return result


def expendable_calls(cfg):
    """The expendable processes' oom_score_adj calls, validated."""
    calls = []
    score = bounded(cfg["expendable_score"], "hardening_expendable_score", 1, ADJ_MAX)
    for name in cfg["expendable_names"]:
        if str(name).strip():
            calls.append({"name": str(name).strip(), "value": score, "role": "expendable"})
    for index, item in enumerate(cfg["expendable_processes"]):
        where = "hardening_expendable_processes #%d" % (index + 1)
        unknown = sorted(set(item) - set(PROCESS_KEYS))
        if unknown:
            raise PlanError("%s: unknown key(s) %s (selectors: %s; and value, include_children)"
                            % (where, ", ".join(unknown), ", ".join(SELECTOR_KEYS)))
        call = dict((k, item[k]) for k in PROCESS_KEYS if item.get(k) not in (None, "", []))
        if not any(k in call for k in SELECTOR_KEYS):
            raise PlanError("%s selects nothing: give at least one of %s" % (where, ", ".join(SELECTOR_KEYS)))
        call["value"] = nested_int(call.get("value", score), where + " value", 1, ADJ_MAX)
        if "pattern" in call:
            try:
                re.compile(call["pattern"])
            except re.error as err:
                raise PlanError("%s: pattern %r is not a valid regular expression: %s" % (where, call["pattern"], err))
        if "include_children" in call:
            call["include_children"] = nested(call["include_children"], where + " include_children", "bool")
        call["role"] = "expendable"
        calls.append(call)
    return calls


def protected_calls(protected):
    """oom_score_adj calls for the protected processes (used where systemd does not manage them)."""
    calls, seen = [], set()
    for item in protected:
        if not item["process"] or item["process"] in seen:
            continue
        seen.add(item["process"])
        calls.append({"name": item["process"], "value": item["oom_score_adjust"], "role": "protected"})
    return calls


def selection(call):
    """The selectors of a call, or None when the host query cannot answer for it (the module selects then)."""
    if any(k in call for k in ("cgroup", "unit")) or call.get("include_children"):
        return None
    return dict((k, call[k]) for k in SELECTOR_KEYS if k in call)


def _key(selector):
    return json.dumps(selector, sort_keys=True, default=str)


def _mergeable(call):
    return set(call) == set(("name", "value", "role"))


def check_sysctl_allowed(names, option, cfg):
    """Surveys are not root: only the OOM and memory keys of the sysctl knob table, unless the play
    itself sets ``hardening_sysctl_allow_any: true`` as a YAML boolean. A survey answer is always a
    string (or a number), so it cannot lift the rule: the option is ``raw`` in the spec, so that a
    string stays a string here, and a string is refused (tasks/validate.yml checks the variable
    itself with the ``boolean`` test too, before any templating)."""
    allow = cfg.get("sysctl_allow_any", False)
    if not isinstance(allow, bool):
        raise PlanError("hardening_sysctl_allow_any must be the boolean true or false, set in the play or the "
                        "inventory; a string (as an AWX survey answer is) is refused: surveys cannot widen the "
                        "sysctls the role may set")
    if allow:
        return
    foreign = sorted(set(n for n in names if n not in KNOBS))
    if foreign:
        raise PlanError("%s: %s %s not among the OOM and memory sysctls the role sets by default (%s); other keys "
                        "need hardening_sysctl_allow_any: true set in the play (not from a survey)"
                        % (option, ", ".join(foreign), "is" if len(foreign) == 1 else "are", ", ".join(sorted(KNOBS))))


def read_config(cfg, host=None):
    """Everything the configuration says, validated; PlanError for bad input."""
    cfg = typed_config(cfg, host)
    default_adj = bounded(cfg["protect_oom_score_adjust"], "hardening_protect_oom_score_adjust", ADJ_MIN, ADJ_MAX)
    protected = []
    if cfg["protect"]:
        for source in ("protected_services", "protected_services_extra"):
            protected += normalize_protected(cfg[source], default_adj, "hardening_" + source)
    limits = cfg["unit_limits"]
    cgroups = cfg["cgroups"]
    units = []
    for name in [p["unit"] for p in protected if p["unit"]] + [unit_name(u["unit"], "hardening_unit_limits")
                                                               for u in limits if u.get("unit")]:
        if name not in units:
            units.append(name)
    names = set(["vm.panic_on_oom", QOS_SYSCTL])
    for source in ("sysctl_baseline", "sysctl_extra"):
        given = [sysctl_name(k, "hardening_" + source) for k in cfg[source]]
        check_sysctl_allowed(given, "hardening_" + source, cfg)
        names.update(given)
    calls = protected_calls(protected) + expendable_calls(cfg)
    # The query: each call's selectors once; and where several plain process names share a value, the
    # program-name pattern of each, so that the plan can tell whether one pattern run may replace them.
    selections = []
    for call in calls:
        selector = selection(call)
        if selector is not None and _key(selector) not in [_key(s) for s in selections]:
            selections.append(selector)
    groups = {}
    for call in calls:
        if _mergeable(call):
            groups.setdefault((call["role"], call["value"]), []).append(call["name"])
    for group in groups.values():
        if len(set(group)) < 2:
            continue
        for name in sorted(set(group)):
            selector = {"pattern": name_pattern([name])}
            if _key(selector) not in [_key(s) for s in selections]:
                selections.append(selector)
    return {"config": cfg, "protected": protected, "limits": limits, "cgroups": cgroups, "units": units,
            "sysctls": sorted(names), "calls": calls, "selections": selections}


def host_query(cfg, inventory_host=None):
    """The arguments of the oom_host_info run the plan needs, or {"failed": True, "msg": ...}.
    ``inventory_host`` is the host whose entry of hardening_proposal applies."""
    try:
        read = read_config(cfg, inventory_host)
        # the rest of the validation that needs no host, so that bad input fails before the host is asked
        plan_sysctl(read["config"], None, [])
        _check_unit_limits(read["limits"])
        _check_cgroups(read["cgroups"])
    except PlanError as err:
        return {"failed": True, "msg": str(err)}
    return {"failed": False, "units": read["units"], "processes": read["selections"], "sysctls": read["sysctls"],
            "options": role_options(read["config"])}


# the role variables the tasks pass to modules as they are (typed by the spec here, so that the tasks
# need no conversion of their own)
TASK_OPTIONS = ("sysctl_file", "dropin_name", "restart", "set_stats")


def role_options(cfg):
    return dict((k, cfg[k]) for k in TASK_OPTIONS)


# --- planning ------------------------------------------------------------------------------------

def host_view(info, read):
    """What was found, in the shape hardening_result.host has always had."""
    if not isinstance(info, dict) or "cgroup" not in info:
        raise PlanError("the oom_host_info result is missing or incomplete (did the probe run on this host?)")
    container = info.get("container") or {}
    cgroup = info.get("cgroup") or {}
    systemd = info.get("systemd") or {}
    units = {}
    for name in read["units"]:
        state = (info.get("units") or {}).get(name) or {}
        if state.get("present"):
            units[name] = {"id": state.get("id") or name, "active_state": state.get("active_state"),
                           "main_pid": state.get("main_pid") or 0}
    sysctls = {}
    for name in read["sysctls"]:
        state = (info.get("sysctls") or {}).get(name) or {}
        if not state.get("present"):
            sysctls[name] = None
        else:
            sysctls[name] = state.get("value") if state.get("value") is not None else "(unreadable)"
    return {
        "container": container.get("runtime") if container.get("in_container") else None,
        "container_evidence": list(container.get("evidence") or []),
        "cap_sys_resource": info.get("cap_sys_resource"),
        "proc_sys": {"writable": bool((info.get("proc_sys") or {}).get("writable")),
                     "reason": (info.get("proc_sys") or {}).get("reason")},
        "cgroup": dict((k, cgroup.get(k)) for k in ("version", "memory_version", "memory_mount", "memory_writable", "reason")),
        "systemd": {"running": bool(systemd.get("running")), "version": systemd.get("version")},
        "units": units,
        "sysctls": sysctls,
        "qos_level": bool((info.get("memcg_qos") or {}).get("qos_level")),
    }


def container_note(host):
    return " (%s container)" % host["container"] if host["container"] else ""


def plan_sysctl(cfg, host, skipped):
    """The sysctl call. With host None only validates (the query step)."""
    cfg = typed_config(cfg)
    if not cfg["sysctl_manage"]:
        return None
    settings = {}
    for source in ("sysctl_baseline", "sysctl_extra"):
        for key, value in cfg[source].items():
            name = sysctl_name(key, "hardening_" + source)
            if value is None or str(value).strip() == "":
                settings.pop(name, None)
            else:
                settings[name] = str(int(value)) if isinstance(value, bool) else str(value).strip()
    qos = cfg["memcg_qos_enable"]
    if qos is not None and str(qos).strip().lower() not in ("null", "none"):
        qos = nested_int(qos, "hardening_memcg_qos_enable", 0, 2)
        if host is not None and host["sysctls"].get(QOS_SYSCTL) is None:
            skipped.append({"item": "sysctl %s" % QOS_SYSCTL,
                            "reason": "this kernel has no vm.memcg_qos_enable (the openEuler/HCE memcg OOM priority, "
                                      "CONFIG_MEMCG_OOM_PRIORITY)"})
        else:
            settings[QOS_SYSCTL] = str(qos)
    runtime = tristate(cfg["sysctl_runtime"], "hardening_sysctl_runtime")
    persist = cfg["sysctl_persist"]
    ignore_missing = cfg["sysctl_ignore_missing"]
    if host is None or not settings:
        return None
    if runtime == "auto":
        runtime = host["proc_sys"]["writable"]
        if not runtime:
            skipped.append({"item": "live values of %s" % ", ".join(sorted(settings)),
                            "reason": (host["proc_sys"]["reason"] or "/proc/sys is not writable here")
                            + ("; persisted only" if persist else "")})
    if not runtime and not persist:
        skipped.append({"item": "sysctls", "reason": "neither runtime nor persist is enabled"})
        return None
    missing = [k for k in sorted(settings) if host["sysctls"].get(k) is None and k != QOS_SYSCTL]
    if missing and ignore_missing:
        for key in missing:
            settings.pop(key)
            skipped.append({"item": "sysctl %s" % key, "reason": "this kernel does not have it"})
    elif missing:
        raise PlanError("this kernel has no %s; remove them or set hardening_sysctl_ignore_missing: true"
                        % ", ".join(missing))
    if not settings:
        return None
    return {"settings": settings, "runtime": bool(runtime), "persist": persist}


def _check_unit_limits(limits):
    names = []
    for index, item in enumerate(limits):
        where = "hardening_unit_limits #%d" % (index + 1)
        unknown = sorted(set(item) - set(("unit",) + UNIT_OPTIONS))
        if unknown:
            raise PlanError("%s: unknown key(s) %s (known: unit, %s)" % (where, ", ".join(unknown), ", ".join(UNIT_OPTIONS)))
        if not item.get("unit"):
            raise PlanError("%s needs a unit" % where)
        if not role_args.is_blank(item.get("oom_score_adjust")):
            nested_int(item["oom_score_adjust"], where + " oom_score_adjust", ADJ_MIN, ADJ_MAX)
        if not role_args.is_blank(item.get("memory_accounting")):
            nested(item["memory_accounting"], where + " memory_accounting", "bool")
        for option in UNIT_OPTIONS:
            if item.get(option) not in (None, "") and option not in ("oom_score_adjust", "memory_accounting"):
                # the module's own validation, on the controller: a bad value fails before any host runs
                try:
                    SETTINGS_BY_OPTION[option].parse(item[option])
                except SystemdError as err:
                    raise PlanError("%s %s: %s" % (where, option, err))
        names.append((where, unit_name(item["unit"], where), item))
    return names


def _check_cgroups(cgroups):
    for index, item in enumerate(cgroups):
        where = "hardening_cgroups #%d" % (index + 1)
        unknown = sorted(set(item) - set(CGROUP_OPTIONS))
        if unknown:
            raise PlanError("%s: unknown key(s) %s (known: %s)" % (where, ", ".join(unknown), ", ".join(CGROUP_OPTIONS)))
        if not item.get("path"):
            raise PlanError("%s needs a path" % where)


def plan_units(host, systemd, skipped, protected, limits):
    """The protected services and the unit limits merged per unit: the items of the one systemd_oom run."""
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
                        "reason": "no CAP_SYS_RESOURCE here%s: the kernel refuses values below a process's floor "
                                  "(0 unless a privileged writer lowered it); the drop-in "
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
            unit_id = known["id"]
            if unit_id in seen:
                continue
            seen.add(unit_id)
            target = entry(unit_id)
            target["oom_score_adjust"] = item["oom_score_adjust"]
            # the unit's processes are not read here: the kernel's rule with an unread value (floor 0)
            if refused_without_capability(None, item["oom_score_adjust"], cap):
                no_live(target, item["oom_score_adjust"])
    for where, name, item in _check_unit_limits(limits):
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
            target["oom_score_adjust"] = nested_int(target["oom_score_adjust"], where + " oom_score_adjust", ADJ_MIN, ADJ_MAX)
            if refused_without_capability(None, target["oom_score_adjust"], cap) and target["live"]:
                no_live(target, target["oom_score_adjust"])
        if "memory_accounting" in target:
            target["memory_accounting"] = nested(target["memory_accounting"], where + " memory_accounting", "bool")
    return [units[u] for u in order]


def plan_processes(host, systemd, skipped, read, matches):
    """oom_score_adj calls: protected processes where systemd does not manage them, and expendable ones.
    A selection whose processes all have the value already, or match nothing, needs no call."""
    cap = host["cap_sys_resource"]
    calls = []
    for call in read["calls"]:
        if call["role"] != "protected":
            calls.append(call)
            continue
        if systemd:
            continue
        refused = [p["pid"] for p in matches[_key(selection(call))]
                   if refused_without_capability(p.get("oom_score_adj"), call["value"], cap)]
        if refused:
            skipped.append({"item": "live oom_score_adj %s of %s (pid %s)" % (
                call["value"], call["name"], ", ".join(str(p) for p in refused[:10])),
                "reason": "no CAP_SYS_RESOURCE here%s: the kernel refuses values below a process's floor "
                          "(0 unless a privileged writer lowered it)" % container_note(host)})
            continue
        calls.append(call)
    needed, already = [], []
    for call in calls:
        selector = selection(call)
        if selector is None:
            needed.append(call)
            continue
        procs = matches[_key(selector)]
        pids = [p["pid"] for p in procs]
        if not pids:
            already.append(dict(call, pids=[], reason="no process matches"))
        elif all(p["oom_score_adj"] == call["value"] for p in procs):
            already.append(dict(call, pids=pids, reason="every selected process has %s already" % call["value"]))
        else:
            needed.append(dict(call, pids=pids))
    return merge_name_calls(needed, matches), already


def merge_name_calls(calls, matches):
    """One oom_score_adj run for several process names with the same value and role.

    oom_score_adj selects one name per run. A regular expression over the command line that
    matches any of the names as the program (argv[0], with or without a directory) does the same
    in one run, when it selects exactly the processes the names select now: the host query
    selected each name's pattern, and an alternation selects what its alternatives select
    together, so that is checked here. The names stay separate runs when it does not hold (a
    program that rewrites its argv[0], such as sshd, or a comm that is not the program's name).
    The module still selects and checks the processes itself when it writes.
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
        wanted = set(p for c in group for p in c["pids"])
        by_pattern = set()
        known = True
        for name in names:
            found = matches.get(_key({"pattern": name_pattern([name])}))
            if found is None:
                known = False
                break
            by_pattern.update(p["pid"] for p in found)
        if known and by_pattern == wanted:
            merged.append({"pattern": name_pattern(names), "value": call["value"], "role": call["role"], "names": names})
        else:
            merged.extend(dict((k, v) for k, v in c.items() if k != "pids") for c in group)
    return merged


def plan_cgroups(host, skipped, cgroups):
    _check_cgroups(cgroups)
    calls = []
    for item in cgroups:
        if not host["cgroup"]["memory_writable"]:
            skipped.append({"item": "cgroup %s" % item["path"],
                            "reason": host["cgroup"]["reason"] or "the memory cgroup hierarchy is not writable here"})
            continue
        calls.append(dict((k, v) for k, v in item.items() if v not in (None, "")))
    if any("qos_level" in c for c in calls) and not host["qos_level"]:
        skipped.append({"item": "memory.qos_level", "reason": "this kernel has no memory.qos_level (the openEuler/HCE "
                                                              "memcg OOM priority); cgroup_memory skips it"})
    return calls


def plan(cfg, info, inventory_host=None):
    """The role's plan for one host from its configuration and its oom_host_info result (``inventory_host``:
    the host whose entry of hardening_proposal applies)."""
    try:
        read = read_config(cfg, inventory_host)
        host = host_view(info, read)
        selections = read["selections"]
        found = (info.get("processes") or []) if isinstance(info, dict) else []
        if len(found) != len(selections):
            raise PlanError("the oom_host_info result answers %d process selection(s), the plan asked %d: run it with "
                            "the arguments of the host query" % (len(found), len(selections)))
        matches = dict((_key(s), list(f.get("processes") or [])) for s, f in zip(selections, found))
        systemd = tristate(read["config"]["systemd"], "hardening_systemd")
        if systemd == "auto":
            systemd = host["systemd"]["running"]
        host["systemd"]["managed"] = systemd
        skipped = []
        if not systemd and read["protected"]:
            skipped.append({"item": "OOMScoreAdjust= drop-ins of the protected services",
                            "reason": "systemd is not the service manager here; running processes get the live value only"})
        result = {"host": host, "skipped": skipped, "failed": False, "options": role_options(read["config"]),
                  "proposal": read["config"]["proposal_applied"]}
        result["sysctl"] = plan_sysctl(read["config"], host, skipped)
        result["units"] = plan_units(host, systemd, skipped, read["protected"], read["limits"])
        result["processes"], result["processes_ok"] = plan_processes(host, systemd, skipped, read, matches)
        result["cgroups"] = plan_cgroups(host, skipped, read["cgroups"])
    except PlanError as err:
        return {"failed": True, "msg": str(err)}
    if result["sysctl"] and result["sysctl"]["settings"].get("vm.panic_on_oom", "0") != "0":
        skipped.append({"item": "nothing (warning)",
                        "reason": "vm.panic_on_oom=%s is asked for: an OOM then panics the host instead of killing "
                                  "one process%s" % (result["sysctl"]["settings"]["vm.panic_on_oom"],
                                                     "; vm.* sysctls here are the HOST's" if host["container"] else "")})
    return result


# --- the result: what the module runs did, in the shape hardening_result documents ----------------

def _registered(value):
    """A registered task result as a mapping ({} when the task did not run)."""
    return value if isinstance(value, dict) else {}


def _loop_results(value):
    return [r for r in (_registered(value).get("results") or []) if isinstance(r, dict)]


def _unit_results(value):
    """The per-unit results of the role's one systemd_oom run (its ``units`` form)."""
    value = _registered(value)
    if not _ran(value):
        return []
    return [r for r in (value.get("units") or []) if isinstance(r, dict)]


def _ran(value):
    value = _registered(value)
    return bool(value) and not (value.get("skipped") is True)


def result(plan_value, sysctl=None, units=None, processes=None, cgroups=None, check_mode=False):
    """``hardening_result`` from the plan and the registered results of the role's module calls:
    what changed (per sysctl, unit, process, cgroup), what needs a restart, what was not done and why,
    the selections that needed no call, the module runs on the host and what was found there."""
    plan_value = _registered(plan_value)
    sysctl = _registered(sysctl)
    sysctl_changes = {}
    if _ran(sysctl):
        for key, value in (sysctl.get("settings") or {}).items():
            if isinstance(value, dict) and value.get("status") == "changed":
                sysctl_changes[key] = dict((k, value.get(k)) for k in ("live_before", "live_after", "persisted_before",
                                                                       "persisted_after"))
    unit_changes, skipped, restart_required = {}, list(plan_value.get("skipped") or []), []
    planned_live = dict((u.get("name"), u.get("live", True)) for u in plan_value.get("units") or [] if isinstance(u, dict))
    for res in _unit_results(units):
        if res.get("changed"):
            unit_changes[res.get("unit")] = {
                "dropin": res.get("dropin"),
                "settings": dict((v.get("directive"), {"before": v.get("before"), "after": v.get("after")})
                                 for v in (res.get("settings") or {}).values() if v.get("before") != v.get("after")),
                "live": [entry for entry in (res.get("live") or []) if entry.get("status") == "changed"],
                "restarted": res.get("restarted"),
            }
        for skip in res.get("skipped") or []:
            skipped.append({"item": "%s %s=" % (res.get("unit"), skip.get("directive")), "reason": skip.get("reason")})
        for entry in res.get("live") or []:
            if entry.get("status") == "refused":
                skipped.append({"item": "live oom_score_adj of %s pid %s" % (res.get("unit"), entry.get("pid")),
                                "reason": "the kernel refused the write (no CAP_SYS_RESOURCE?)"})
        # units whose live write was skipped for want of CAP_SYS_RESOURCE are not listed: a restart would
        # not help there either (systemd lacks the capability too); skipped says why
        if res.get("restart_required") and planned_live.get(res.get("unit"), True):
            restart_required.append(res.get("unit"))
    process_changes = []
    for res in _loop_results(processes):
        for proc in res.get("processes") or []:
            if proc.get("status") == "changed":
                process_changes.append({"pid": proc.get("pid"), "comm": proc.get("comm"), "before": proc.get("before"),
                                        "after": proc.get("after"), "role": (res.get("item") or {}).get("role")})
    cgroup_changes = {}
    for res in _loop_results(cgroups):
        item = res.get("item") or {}
        if res.get("changed"):
            cgroup_changes[res.get("resolved_path") or item.get("path")] = {
                "created": res.get("created") or [],
                "removed": res.get("removed") or False,
                "settings": dict((k, v) for k, v in (res.get("settings") or {}).items()
                                 if isinstance(v, dict) and v.get("changed")),
                "moved": (res.get("procs") or {}).get("moved") or [],
            }
        for option, reason in (res.get("skipped") or {}).items():
            skipped.append({"item": "cgroup %s %s" % (item.get("path"), option), "reason": reason})
    module_calls = (1 + int(_ran(sysctl)) + int(bool(_unit_results(units))) + len(_loop_results(processes))
                    + len(_loop_results(cgroups)))
    changes = {"sysctl": sysctl_changes, "units": unit_changes, "processes": process_changes, "cgroups": cgroup_changes}
    return {
        "changed": bool(sysctl_changes or unit_changes or process_changes or cgroup_changes
                        or (_ran(sysctl) and sysctl.get("changed"))),
        "check_mode": bool(check_mode),
        "changes": changes,
        "restart_required": restart_required,
        "skipped": skipped,
        "already_ok": list(plan_value.get("processes_ok") or []),
        "module_calls": module_calls,
        "host": plan_value.get("host"),
        "proposal": plan_value.get("proposal"),
    }


def stats(hardening_result):
    """The summary published with set_stats for AWX workflows."""
    return {"changed": hardening_result["changed"], "restart_required": hardening_result["restart_required"],
            "skipped": len(hardening_result["skipped"]), "module_calls": hardening_result["module_calls"]}
