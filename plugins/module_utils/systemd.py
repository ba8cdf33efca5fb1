# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run behind the systemd_oom module: plan a unit's drop-in, apply it on the shared transaction
(drop-in, daemon-reload, live oom_score_adj), restart when only a restart applies a value, and check
what is really in effect.

The parts it sits on, one file each: ``systemd_units`` (unit names, drop-in text, where drop-ins live),
``systemd_settings`` (the settings table and its value parsers), ``systemctl`` (the one runner, ``--``
before unit names). Their names are re-exported here for the callers of this module.

Nothing here imports Ansible and nothing runs a command by itself: the functions that need
``systemctl`` take a *runner*, a callable ``runner(argv) -> (rc, stdout, stderr)``. The module
passes ``systemctl.module_runner``; unit tests pass recorded outputs.
"""

from __future__ import annotations

import re

from ansible_collections.oomkit.linux.plugins.module_utils import host, systemctl
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError
from ansible_collections.oomkit.linux.plugins.module_utils.processes import (
    ProcessSelector, SelectorError, diff_line, has_cap_sys_resource, plan_oom_score_adj, refused_without_capability,
    select_processes)
from ansible_collections.oomkit.linux.plugins.module_utils.reconcile import (
    ApplyError, DirectoryFile, Step, Transaction, printable,
)
# pylint: disable=unused-import
from ansible_collections.oomkit.linux.plugins.module_utils.systemd_settings import (  # noqa: F401 (re-exported)
    DIRECTIVES, SETTINGS, SETTINGS_BY_OPTION, UINT64_MAX, MemoryValue, Resolved, Setting, format_bytes, parse_bool,
    parse_choice, parse_int_range, parse_memory, parse_pressure_limit, parse_show_memory, parse_timespan,
    resolve_setting, resolve_settings, show_value_matches,
)
from ansible_collections.oomkit.linux.plugins.module_utils.systemd_dropins import (  # noqa: F401 (re-exported)
    HEADER, OWN_DROPIN_DIR, SYSTEM_UNIT_DIRS, current_settings, dropin_assignments, dropin_dir_names,
    effective_dropins, find_overrides, parse_unit_file, render_dropin,
)
from ansible_collections.oomkit.linux.plugins.module_utils.systemd_units import (  # noqa: F401 (re-exported)
    UNIT_TYPES_WITH_CGROUP, UNIT_TYPES_WITH_EXEC, SystemdError, is_template, normalize_unit_name, unit_section,
    unit_type, validate_dropin_name,
)
# pylint: enable=unused-import


# ---------------------------------------------------------------------------------------------
# systemctl
# ---------------------------------------------------------------------------------------------

_VERSION_RE = re.compile(r"^systemd\s+([0-9]+)")


def parse_version(text):
    """The major version from ``systemctl --version`` (``systemd 252 (252.38-1~deb12u1)`` -> 252)."""
    for line in (text or "").splitlines():
        match = _VERSION_RE.match(line.strip())
        if match:
            return int(match.group(1))
    raise SystemdError("cannot read the systemd version from `systemctl --version`: %r" % ((text or "")[:200],))


module_runner = systemctl.module_runner


def detect_version(runner):
    rc, out, err = runner(["systemctl", "--version"])
    if rc != 0:
        raise SystemdError("`systemctl --version` failed (rc=%s): %s" % (rc, (err or out).strip()))
    return parse_version(out)


parse_show = systemctl.parse_show


SHOW_BASE_PROPERTIES = ("Id", "LoadState", "ActiveState", "SubState", "MainPID", "ControlGroup",
                        "FragmentPath", "DropInPaths", "NeedDaemonReload")


def show(runner, unit, properties):
    props = list(SHOW_BASE_PROPERTIES) + [p for p in properties if p not in SHOW_BASE_PROPERTIES]
    rc, out, err = runner(systemctl.show_argv([unit], props))
    if rc != 0:
        raise SystemdError("`systemctl show %s` failed (rc=%s): %s" % (unit, rc, (err or out).strip()))
    return parse_show(out)


def run_systemctl(runner, verb, *units):
    """Run a systemctl verb (``--`` before the unit names); raise SystemdError with its message when it fails."""
    try:
        argv = systemctl.command(verb, units)
    except systemctl.SystemctlError as err:
        raise SystemdError(str(err))
    rc, out, err = runner(argv)
    if rc != 0:
        raise SystemdError("`%s` failed (rc=%s): %s" % (" ".join(argv), rc, (err or out).strip()))
    return out


# ---------------------------------------------------------------------------------------------
# cgroup files behind a unit (for the effective check)
# ---------------------------------------------------------------------------------------------

_V2_FILES = {"memory_max": "memory.max", "memory_high": "memory.high", "memory_low": "memory.low",
             "memory_min": "memory.min", "memory_swap_max": "memory.swap.max", "memory_zswap_max": "memory.zswap.max"}
_V1_FILES = {"memory_max": "memory.limit_in_bytes"}


def cgroup_mounts(mountinfo):
    """``(v2 mount point or None, v1 memory mount point or None)`` from /proc/self/mountinfo text."""
    v2, v1_memory, _v1_systemd = host.cgroup_mounts(host.parse_mountinfo(mountinfo))
    return v2, v1_memory


def cgroup_memory_files(fs, control_group, mountinfo):
    """``{option: host path}`` of the cgroup files that enforce a unit's memory settings."""
    if not control_group:
        return {}
    v2, v1_memory = cgroup_mounts(mountinfo)
    if v1_memory:
        base = v1_memory.rstrip("/") + control_group
        if fs.exists(base + "/memory.limit_in_bytes"):
            return dict((opt, "%s/%s" % (base, f)) for opt, f in _V1_FILES.items())
    if v2:
        base = v2.rstrip("/") + control_group
        return dict((opt, "%s/%s" % (base, f)) for opt, f in _V2_FILES.items() if fs.exists("%s/%s" % (base, f)))
    return {}


def parse_cgroup_memory(text):
    """A cgroup memory file value as a MemoryValue (``max`` and v1's page-rounded 2^63 -> infinity)."""
    if text is None:
        return None
    text = text.strip()
    if text == "max":
        return MemoryValue("infinity")
    try:
        number = int(text)
    except ValueError:
        return None
    if host.is_v1_unlimited(number):
        return MemoryValue("infinity")
    return MemoryValue("bytes", number)


def cgroup_matches(wanted, got, page_size=4096):
    """The kernel rounds limits down to a page; compare at page granularity. None: not comparable."""
    if wanted is None or got is None or wanted.kind == "percent":
        return None
    if wanted.kind == "infinity" or got.kind == "infinity":
        return wanted.kind == got.kind
    return (wanted.amount // page_size) == (got.amount // page_size)


# ---------------------------------------------------------------------------------------------
# The reconcile run behind the systemd_oom module
# ---------------------------------------------------------------------------------------------

# `systemctl show` property names that differ from the directive.
SHOW_PROPERTY = {"ManagedOOMMemoryPressureDurationSec": "ManagedOOMMemoryPressureDurationUSec"}
# Settings cgroup v1 cannot carry: systemd keeps them but nothing enforces them on a v1 memory controller.
V2_ONLY = ("memory_high", "memory_low", "memory_min", "memory_swap_max", "memory_zswap_max",
           "memory_zswap_writeback")
MANAGED_OOM = ("managed_oom_swap", "managed_oom_memory_pressure", "managed_oom_memory_pressure_limit",
               "managed_oom_memory_pressure_duration", "managed_oom_preference")


def show_property(directive):
    return SHOW_PROPERTY.get(directive, directive)


def dropin_path(unit, dropin_name):
    return "%s/%s.d/%s" % (OWN_DROPIN_DIR, unit, dropin_name)


class Plan(object):
    """What one run of systemd_oom wants, computed before anything is written."""

    def __init__(self):
        self.unit = None
        self.section = None
        self.version = None
        self.booted = False
        self.path = None
        self.supported = []
        self.unsupported = []
        self.settings = {}
        self.show_before = {}
        self.warnings = []
        self.restart_settings_changed = False
        self.foreign = []      # the lines of the drop-in that are not ours, kept
        self.render = None     # the drop-in as a function of its current text (re-run under the lock)


def plan_run(fs, runner, params, version=None):
    """Validate everything and compute the drop-in; raise SystemdError on bad input.

    ``params`` are the module parameters; ``version`` the systemd version when the caller has read it
    already (several units in one run). Returns (Plan, ManagedFile-ready text or None).
    """
    plan = Plan()
    plan.unit = normalize_unit_name(params["name"])
    plan.section = unit_section(plan.unit)
    dropin_name = validate_dropin_name(params.get("dropin_name") or "50-oomkit-oom.conf")
    plan.path = dropin_path(plan.unit, dropin_name)
    state = params.get("state") or "present"
    wanted = dict((o, params.get(o)) for o in SETTINGS_BY_OPTION if params.get(o) is not None)
    if state == "absent" and wanted:
        raise SystemdError("state=absent removes the whole drop-in: give no settings with it (given: %s)"
                           % ", ".join(sorted(wanted)))
    if state == "present" and not wanted and not params.get("exclusive"):
        raise SystemdError("state=present needs at least one setting (for example memory_max or oom_score_adjust); "
                           "use state=absent to remove the drop-in")
    # Values first: a bad value is an error whatever the systemd version.
    for option, value in wanted.items():
        SETTINGS_BY_OPTION[option].parse(value)
    plan.version = version if version is not None else detect_version(runner)
    plan.booted = fs.isdir("/run/systemd/system")
    plan.supported, plan.unsupported = resolve_settings(wanted, plan.version, plan.unit)
    if plan.unsupported:
        reasons = "; ".join("%s (%s)" % (r.setting.option, r.reason) for r in plan.unsupported)
        if params.get("unsupported", "fail") == "fail":
            raise SystemdError("not supported here: %s. Nothing was changed; set unsupported=skip to apply the other "
                               "settings and leave these out" % reasons)
        plan.warnings.append("skipped, not supported here: %s" % reasons)

    existing = fs.read_config(plan.path)
    current = current_settings(existing, plan.section)
    if state == "absent":
        order = [s.option for s in SETTINGS]
        options = sorted(current, key=order.index)
        for option in options:
            directive, _value, raw = current[option]
            plan.settings[option] = {"directive": directive, "before": raw, "after": None}
        managed, remove = [], [s.option for s in SETTINGS]  # every setting of ours goes
    else:
        managed = [(r.directive, r.setting.render(r.value)) for r in plan.supported]
        remove = ()
        if params.get("exclusive"):
            remove = [o for o in current if o not in wanted]
        for r in plan.supported:
            before = current.get(r.setting.option)
            plan.settings[r.setting.option] = {"directive": r.directive, "before": before[2] if before else None,
                                               "after": r.setting.render(r.value)}
        for option in remove:
            directive, _value, raw = current[option]
            plan.settings[option] = {"directive": directive, "before": raw, "after": None}

    def render(text_now):
        # None (no file) when nothing but our header would be left: with state=absent, the file goes
        # only when nothing foreign is left in it
        return render_dropin(text_now, plan.unit, plan.section, managed, remove_options=remove)
    plan.render = render
    text = render_dropin(existing, plan.unit, plan.section, managed, remove_options=remove, foreign=plan.foreign)
    for option, entry in plan.settings.items():
        if SETTINGS_BY_OPTION[option].restart and entry["before"] != entry["after"]:
            plan.restart_settings_changed = True
    return plan, text


def _host_step(function, *args):
    """Run a systemctl step inside a Transaction, which rolls back on HostError."""
    try:
        return function(*args)
    except SystemdError as err:
        raise HostError(str(err))


def read_oom_score_adj(fs, pid):
    text = fs.read_optional("/proc/%d/oom_score_adj" % pid)
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def unit_pids(fs, control_group, mountinfo):
    """PIDs in a unit's cgroup and below (systemctl.unit_pids), from the hierarchy systemd tracks processes in.

    Read from the files rather than with ``systemctl show --value`` (systemd 230+), so that it works
    on systemd 219 too: cgroup v2 (pure or the hybrid ``unified`` mount), else v1 ``name=systemd``.
    """
    return systemctl.unit_pids(fs, control_group, host.parse_mountinfo(mountinfo))


def _unit_processes(fs, control_group, main_pid=None):
    pids = unit_pids(fs, control_group, fs.read_optional("/proc/self/mountinfo"))
    if not pids and main_pid:
        # The cgroup tree is not readable here (an unprivileged container shows the host's): the main
        # process is known all the same.
        pids = [main_pid]
    if not pids:
        return []
    try:
        return select_processes(fs, ProcessSelector(pids=pids))
    except SelectorError as err:
        raise SystemdError(str(err))


def _is_active(show_values):
    return show_values.get("ActiveState") in ("active", "reloading", "activating")


class _UnitRun(object):
    """One unit's part of a run: its plan and what was read and decided for it."""

    def __init__(self, plan, text, params):
        self.plan = plan
        self.text = text
        self.params = params
        self.state = params.get("state") or "present"
        self.warnings = plan.warnings
        self.can_query = False
        self.show_before = {}
        self.active = False
        self.overrides = []
        self.overridden = set()
        self.stale = []
        self.dropin = None
        self.daemon_reloaded = False


def _prepare(fs, runner, job):
    """Read what systemd runs now for one planned unit (nothing is written)."""
    plan = job.plan
    warnings = job.warnings
    unit = plan.unit
    template = is_template(unit)
    job.can_query = plan.booted and not template
    if not plan.booted:
        warnings.append("systemd is not running as the service manager here (no /run/systemd/system): the drop-in "
                        "is written but nothing is reloaded, restarted, applied live or verified")
    elif template:
        warnings.append("%s is a template: the drop-in applies to every instance when it (re)starts; running "
                        "instances are not queried" % unit)

    show_props = [show_property(r.directive) for r in plan.supported]
    show_props += [show_property(plan.settings[o]["directive"]) for o in plan.settings]
    job.show_before = show(runner, unit, show_props) if job.can_query else {}
    show_before = job.show_before
    if job.can_query and show_before.get("LoadState") == "not-found":
        warnings.append("systemd does not know %s (LoadState=not-found): check the name; the drop-in takes effect "
                        "only once such a unit exists" % unit)
    job.active = job.can_query and _is_active(show_before)

    if job.state == "present":
        directives = [r.directive for r in plan.supported]
        job.overrides = find_overrides(fs, unit, plan.path, directives)
        for item in job.overrides:
            if item["directive"] is None:
                warnings.append("%s: %s" % (item["path"], item["reason"]))
            else:
                warnings.append("%s sets %s=%s, which overrides ours (%s)"
                                % (item["path"], item["directive"], item["value"], item["reason"]))
    job.overridden = set(o["directive"] for o in job.overrides)
    hidden = any(o["directive"] is None for o in job.overrides)

    # systemd's loaded configuration can differ from the files (`systemctl set-property` changes the
    # running unit at once, and its file sorts before ours): a daemon-reload brings ours back.
    if job.state == "present" and job.can_query and show_before.get("LoadState") == "loaded" and not hidden:
        for r in plan.supported:
            spellings = [d for d, s in DIRECTIVES.items() if s is r.setting]
            if job.overridden.intersection(spellings):
                continue
            if show_value_matches(r.setting, r.value, show_before.get(show_property(r.directive))) is False:
                job.stale.append(r.setting.option)


def _live(fs, runner, job, txn, check_mode):
    """The live layer of one unit: its running processes' oom_score_adj, without waiting for a restart.
    Returns (live result entries, whether the live write was attempted)."""
    plan, show_before, warnings = job.plan, job.show_before, job.warnings
    live_result = []
    live_refusals = []
    live_target = None
    oom = [r for r in plan.supported if r.setting.option == "oom_score_adjust"]
    if oom and "OOMScoreAdjust" not in job.overridden:
        live_target = oom[0].value
    elif job.state == "absent" and "oom_score_adjust" in plan.settings and job.active:
        # Our value is gone: the processes should get what systemd now uses for the unit. Check mode
        # predicts it from the unit's other files.
        if check_mode:
            live_target = predict_oom_score_adjust(fs, plan.unit, show_before.get("FragmentPath"), plan.path)
        else:
            try:
                live_target = int(show(runner, plan.unit, ["OOMScoreAdjust"]).get("OOMScoreAdjust", ""))
            except ValueError:
                live_target = None
    live_attempted = bool(job.params.get("live", True) and live_target is not None and job.active)
    if not live_attempted:
        return live_result, False
    processes = _unit_processes(fs, show_before.get("ControlGroup"), _int_or_none(show_before.get("MainPID")))
    live_changes = plan_oom_score_adj(fs, processes, live_target)
    if check_mode:
        # Predict what the kernel will say (the one rule: processes.refused_without_capability)
        cap = has_cap_sys_resource(fs)
        lowered = set(p.label() for p in processes
                      if p.status == "changed" and refused_without_capability(p.before, p.after, cap))
        for proc in processes:
            if proc.label() in lowered:
                proc.status = "failed"
                live_refusals.append("%s: lowering oom_score_adj from %s to %s would be refused: this run lacks "
                                     "CAP_SYS_RESOURCE" % (proc.label(), proc.before, proc.after))
        live_changes = [c for c in live_changes if c.key not in lowered]
    for change in live_changes:
        txn.add_live(change, may_be_refused=True)
    refused_before = len(txn.refused)
    # a write that fails otherwise fails the run: the live writes, the drop-ins and the reload are undone
    txn.commit()
    for change, _reason in txn.refused[refused_before:]:
        live_refusals.append("%s: lowering oom_score_adj from %s to %s needs CAP_SYS_RESOURCE, which this run "
                             "lacks (as usual in containers); the drop-in is in place, and systemd applies the "
                             "value when it starts the unit's processes if systemd itself has the capability"
                             % (change.key, change.before, change.after))
    for proc in processes:
        live_result.append({
            "pid": proc.pid, "comm": proc.comm, "before": proc.before,
            "after": proc.after if proc.status in ("changed", "unchanged") else proc.before,
            "status": "refused" if proc.status == "failed" else proc.status})
    for refusal in live_refusals:
        warnings.append("live oom_score_adj write refused, %s" % refusal)
    return live_result, True


def run_units(fs, runner, unit_params, check_mode=False, backup=False):
    """Reconcile several units in one shared transaction: every unit is planned (bad input fails before
    anything is written), every drop-in written, then ONE daemon-reload, then the live writes; a failure
    up to there undoes the whole run. Restarts follow, unit by unit. Returns (per-unit results, the
    transaction, whether daemon-reload ran).

    ``unit_params`` are per-unit module parameters (``name``, the settings, ``state``, ``live``...).
    Raises SystemdError for bad input or a failed systemctl call, HostError (reconcile.ApplyError)
    when writing a drop-in fails.
    """
    # every unit planned (values checked) before systemd is asked about any of them
    version = None
    jobs = []
    seen = {}
    for index, params in enumerate(unit_params):
        plan, text = plan_run(fs, runner, params, version=version)
        version = plan.version
        if plan.unit in seen:
            raise SystemdError("unit %s is given twice (#%d and #%d): give each unit once, with all its settings"
                               % (plan.unit, seen[plan.unit] + 1, index + 1))
        seen[plan.unit] = index
        jobs.append(_UnitRun(plan, text, params))
    for job in jobs:
        _prepare(fs, runner, job)

    # One transaction: the drop-ins (each owns its directory), then one daemon-reload (a failed reload
    # restores the drop-ins; a later failure restores them and reloads again), then the live writes,
    # which the kernel may refuse (collected as results).
    txn = Transaction(check_mode=check_mode, backup=backup)
    for job in jobs:
        job.dropin = DirectoryFile(fs, job.plan.path)
        # re-rendered under the file lock if another run changed the drop-in since it was read
        job.dropin.plan(job.plan.render if job.plan.render is not None else job.text)
        txn.add_file(job.dropin)
        job.daemon_reloaded = bool(job.plan.booted and (job.dropin.changed or job.stale))
        if job.stale and not job.dropin.changed and job.plan.booted:
            job.warnings.append("%s: systemd ran with other values than the drop-in for %s (a runtime change such as "
                                "`systemctl set-property`); daemon-reload %s ours again"
                                % (job.plan.unit, ", ".join(job.stale), "would apply" if check_mode else "applies"))
    daemon_reloaded = any(job.daemon_reloaded for job in jobs)
    if daemon_reloaded:
        txn.add_step(Step("daemon-reload", lambda: _host_step(run_systemctl, runner, "daemon-reload"),
                          rerun_after_rollback=True))
    try:
        txn.commit()
    except ApplyError as err:
        if err.key != "daemon-reload":
            raise
        notes = []
        for job in jobs:
            path = job.plan.path
            if not job.dropin.changed:
                continue
            if path in err.rolled_back or (job.dropin.before is None and not fs.exists(path)):
                notes.append("the previous drop-in %s was restored" % path)
            else:
                notes.append("COULD NOT restore the previous drop-in %s: %s" % (path, "; ".join(err.rollback_errors)))
        cause = str(err).split("; rolled back", maxsplit=1)[0].split("; COULD NOT", maxsplit=1)[0]
        raise SystemdError("%s; %s" % (cause, "; ".join(notes) or "no drop-in had changed"))

    lives = [_live(fs, runner, job, txn, check_mode) for job in jobs]

    results = []
    for job, (live_result, live_attempted) in zip(jobs, lives):
        plan, unit = job.plan, job.plan.unit
        live_changed = any(e["status"] == "changed" for e in live_result)
        # Restart: only what a restart alone can bring (OOMScoreAdjust= is applied when processes start).
        # A running unit without processes (a oneshot that remained active) has nothing to restart for.
        live_done = live_attempted and all(e["status"] in ("changed", "unchanged", "vanished") for e in live_result)
        restart_required = bool(job.active and plan.restart_settings_changed and not live_done)
        mode = job.params.get("restart") or "auto"
        restart = job.active and ((mode == "always" and job.dropin.changed) or (mode == "auto" and restart_required))
        restarted = False
        if restart:
            if not check_mode:
                try:
                    run_systemctl(runner, "restart", unit)
                except SystemdError as err:
                    raise SystemdError("%s (the drop-in %s is in place and systemd has loaded it; the unit did not "
                                       "restart: check `systemctl status %s`)" % (err, plan.path, unit))
            restarted = True
            restart_required = False
        result = {
            "changed": bool(job.dropin.changed or job.daemon_reloaded or live_changed or restarted),
            "unit": unit,
            "state": job.state,
            "dropin": plan.path,
            "systemd_version": plan.version,
            "settings": plan.settings,
            "skipped": [{"option": r.setting.option, "directive": r.setting.directive, "reason": r.reason}
                        for r in plan.unsupported],
            "overrides": job.overrides,
            "foreign_lines": [printable(line) for line in plan.foreign],
            "live": live_result,
            "daemon_reloaded": job.daemon_reloaded,
            "restart_required": restart_required,
            "restarted": restarted,
            "effective": {},
            "warnings": job.warnings,
        }
        if job.dropin.backup_file:
            result["backup_file"] = job.dropin.backup_file
        if job.can_query:
            result["effective"] = verify(fs, runner, plan, job.state, check_mode, job.warnings,
                                         restart_pending=restart_required)
        results.append(result)
    return results, txn, daemon_reloaded


def run(fs, runner, params, check_mode=False):
    """Reconcile one unit's OOM and memory settings; return the module result (without ``diff``
    rendering decisions: ``diff`` is always included, the module drops it when not asked).

    ``runner(argv) -> (rc, out, err)`` runs systemctl. Raises SystemdError for bad input or a
    failed systemctl call, HostError (reconcile.ApplyError) when writing the drop-in fails.
    """
    results, txn, _reloaded = run_units(fs, runner, [params], check_mode=check_mode, backup=bool(params.get("backup")))
    result = results[0]
    result["diff"] = txn.diffs(live_header="live oom_score_adj of %s" % result["unit"], render=diff_line, files_first=True)
    return result


UNIT_ITEM_OPTIONS = ("name", "state", "live") + tuple(s.option for s in SETTINGS)


def run_many(fs, runner, params, check_mode=False):
    """The ``units`` form of the module: ``params["units"]`` is a list of per-unit options (UNIT_ITEM_OPTIONS);
    the other module parameters (dropin_name, exclusive, restart, unsupported, backup, and state and live
    as defaults) apply to each.
    Returns the module result: ``units`` (one result per unit, in the order given), ``changed``,
    ``daemon_reloaded``, ``warnings`` and ``diff``."""
    items = params.get("units")
    if not isinstance(items, list) or not items:
        raise SystemdError("units must be a non-empty list of units, each a dict with at least a name")
    given = sorted(o for o in SETTINGS_BY_OPTION if params.get(o) is not None)
    if given or params.get("name"):
        raise SystemdError("units gives each unit its name and settings: give no %s beside it"
                           % ", ".join(["name"] if params.get("name") else given))
    # state and live, when given beside units, are the default of each unit
    shared = dict((k, v) for k, v in params.items() if k not in SETTINGS_BY_OPTION and k not in ("units", "name"))
    unit_params = []
    for index, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise SystemdError("units #%d must be a dict with a name and settings, not %r" % (index, item))
        unknown = sorted(set(item) - set(UNIT_ITEM_OPTIONS))
        if unknown:
            raise SystemdError("units #%d: unknown key(s) %s (known: %s)"
                               % (index, ", ".join(unknown), ", ".join(UNIT_ITEM_OPTIONS)))
        if not isinstance(item.get("name"), str) or not item["name"].strip():
            raise SystemdError("units #%d needs a name" % index)
        if item.get("state", "present") not in ("present", "absent"):
            raise SystemdError("units #%d: state must be present or absent, not %r" % (index, item.get("state")))
        merged = dict(shared)
        merged.update((k, v) for k, v in item.items() if v is not None)
        if "live" in merged:
            merged["live"] = parse_bool(merged["live"], "units #%d live" % index)
        unit_params.append(merged)
    results, txn, daemon_reloaded = run_units(fs, runner, unit_params, check_mode=check_mode,
                                              backup=bool(params.get("backup")))
    warnings = []
    for result in results:
        warnings.extend(result.pop("warnings"))
    return {
        "changed": any(r["changed"] for r in results),
        "units": results,
        "daemon_reloaded": daemon_reloaded,
        "warnings": warnings,
        "diff": txn.diffs(live_header="live oom_score_adj of %s" % ", ".join(r["unit"] for r in results),
                          render=diff_line, files_first=True),
    }


def predict_oom_score_adjust(fs, unit, fragment_path, own_path):
    """OOMScoreAdjust= systemd will use for ``unit`` once our drop-in is gone (check mode of state=absent).

    The last assignment in the unit file and the other drop-ins (in systemd's order) wins; without
    one, the processes inherit the manager's DefaultOOMScoreAdjust= (system.conf, v250+) or, without
    that, PID 1's own value. None when it cannot be told.
    """
    value = None
    texts = [fs.read_optional(fragment_path)] if fragment_path else []
    texts += [fs.read_optional(path) for _name, path in effective_dropins(fs, unit) if path != own_path]
    for text in texts:
        assigned = dropin_assignments(text or "")
        if "OOMScoreAdjust" in assigned:
            value = assigned["OOMScoreAdjust"] or None  # an empty assignment resets
    if value is None:
        conf = [fs.read_optional("/etc/systemd/system.conf")]
        if fs.isdir("/etc/systemd/system.conf.d"):
            conf += [fs.read_optional("/etc/systemd/system.conf.d/" + n) for n in fs.listdir("/etc/systemd/system.conf.d")
                     if n.endswith(".conf")]
        for text in conf:
            for section, entries in parse_unit_file(text or ""):
                for key, entry_value, _raw in entries:
                    if section == "Manager" and key == "DefaultOOMScoreAdjust":
                        value = entry_value or None
    if value is None:
        value = (fs.read_optional("/proc/1/oom_score_adj") or "").strip()
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def verify(fs, runner, plan, state, check_mode, warnings, restart_pending=False):
    """What is really in effect now, per setting; warn where it differs from what was asked.

    In check mode nothing was applied: the values are the current ones, no warnings are given.
    """
    props = [show_property(r.directive) for r in plan.supported]
    shown = show(runner, plan.unit, props)
    effective = {
        "active_state": shown.get("ActiveState"),
        "main_pid": _int_or_none(shown.get("MainPID")),
        "control_group": shown.get("ControlGroup") or None,
    }
    if state != "present":
        return effective
    mountinfo = fs.read_optional("/proc/self/mountinfo")
    cgroup_files = cgroup_memory_files(fs, shown.get("ControlGroup"), mountinfo)
    _v2, v1_memory = cgroup_mounts(mountinfo)
    v1_unit = bool(cgroup_files) and any(path.endswith("memory.limit_in_bytes") for path in cgroup_files.values())
    page_size = host.page_size()
    for r in plan.supported:
        setting = r.setting
        prop = show_property(r.directive)
        value = shown.get(prop)
        entry = {"wanted": setting.describe(r.value), "systemd": value}
        ok = show_value_matches(setting, r.value, value)
        if ok is False and not check_mode:
            warnings.append("%s: systemd reports %s=%s, not the %s we set: another drop-in or a runtime "
                            "`systemctl set-property` wins" % (plan.unit, prop, value, setting.render(r.value)))
        if setting.option in cgroup_files and _is_active(shown):
            path = cgroup_files[setting.option]
            got = parse_cgroup_memory(fs.read_optional(path))
            entry["cgroup_file"] = path
            entry["cgroup"] = got.render() if got is not None else None
            cg_ok = cgroup_matches(r.value, got, page_size)
            # When systemd itself holds another value, the cgroup follows systemd: that warning says it all.
            if cg_ok is False and ok is not False and not check_mode:
                warnings.append("%s: the kernel enforces %s=%s for %s, not %s: systemd does not control this "
                                "cgroup (a container without its own cgroup namespace, or a read-only cgroup mount)"
                                % (plan.unit, path.rsplit("/", 1)[1], entry["cgroup"], plan.unit, setting.render(r.value)))
            ok = ok if cg_ok is None else (cg_ok if ok is None else ok and cg_ok)
        if setting.option == "oom_score_adjust" and _is_active(shown):
            pids = {}
            main_pid = effective["main_pid"]
            if main_pid:
                pids[main_pid] = read_oom_score_adj(fs, main_pid)
                entry["main_pid"] = main_pid
                entry["process"] = pids[main_pid]
                if pids[main_pid] is not None and pids[main_pid] != r.value:
                    ok = False
                    if not check_mode:
                        if restart_pending:
                            why = "it keeps its old value until the unit restarts (restart_required)"
                        elif r.value < pids[main_pid]:
                            why = ("lowering needs CAP_SYS_RESOURCE, which this host or container gives neither to "
                                   "systemd nor to us")
                        else:
                            why = "the process or another tool changed it"
                        warnings.append("%s: the main process (PID %d) runs with oom_score_adj %d although the unit "
                                        "says OOMScoreAdjust=%s: %s" % (plan.unit, main_pid, pids[main_pid], value, why))
        if (setting.option in V2_ONLY and v1_unit) and not check_mode:
            warnings.append("%s: %s= has no effect here: the unit's memory controller is cgroup v1" % (plan.unit, r.directive))
        if setting.option in MANAGED_OOM and v1_memory and not check_mode:
            warnings.append("%s: %s= needs systemd-oomd on the unified cgroup hierarchy (cgroup v2); this host uses "
                            "cgroup v1 for memory" % (plan.unit, r.directive))
        entry["ok"] = ok
        effective[setting.option] = entry
    return effective


def _int_or_none(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None
