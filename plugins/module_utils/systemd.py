# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd knowledge for the OOM modules: versions, unit names, drop-ins and ``systemctl show``.

Nothing here imports Ansible and nothing runs a command by itself: the functions that need
``systemctl`` take a *runner*, a callable ``runner(argv) -> (rc, stdout, stderr)``. The module
passes a wrapper around ``AnsibleModule.run_command``; unit tests pass recorded outputs.

The table of settings (``SETTINGS``) says, for each module option, which directive carries it,
from which systemd version, in which unit types, how its value is validated and rendered, and
whether a change needs a restart of the unit to take effect.
"""

from __future__ import annotations

import re

from ansible_collections.oomkit.linux.plugins.module_utils import host, systemctl
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError
from ansible_collections.oomkit.linux.plugins.module_utils.processes import (
    OOM_SCORE_ADJ_MAX, OOM_SCORE_ADJ_MIN, ProcessSelector, SelectorError, has_cap_sys_resource, plan_oom_score_adj,
    refused_without_capability, select_processes)
from ansible_collections.oomkit.linux.plugins.module_utils.reconcile import (
    ApplyError, DirectoryFile, ManagedFile, Step, Transaction,
)
from ansible_collections.oomkit.linux.plugins.module_utils.sizes import SizeError, parse_size


class SystemdError(Exception):
    """Bad input or an unusable systemd; the message is meant for the operator."""


# ---------------------------------------------------------------------------------------------
# Unit names
# ---------------------------------------------------------------------------------------------

UNIT_TYPES_WITH_CGROUP = ("service", "socket", "mount", "swap", "slice", "scope")
# Unit types whose section takes exec settings (OOMScoreAdjust=).
UNIT_TYPES_WITH_EXEC = ("service", "socket", "mount", "swap")


def normalize_unit_name(name):
    """Return the full unit name (``sshd`` -> ``sshd.service``) or raise SystemdError."""
    if not isinstance(name, str) or not name.strip():
        raise SystemdError("name must be a unit name such as sshd.service")
    name = systemctl.mangle(name)
    if not systemctl.unit_name_is_valid(name):
        raise SystemdError("%r is not a valid systemd unit name (letters, digits and :-_.\\@ only, not starting "
                           "with - or @, at most %d characters, optionally ending in a unit type such as .service)"
                           % (name, systemctl.UNIT_NAME_MAX - 1))
    unit_type = name.rsplit(".", 1)[1]
    if unit_type not in UNIT_TYPES_WITH_CGROUP:
        raise SystemdError("%s: a .%s unit has no processes or control group of its own, so it "
                           "takes no OOM or memory settings; use a .service, .socket, .mount, "
                           ".swap, .slice or .scope unit" % (name, unit_type))
    return name


def unit_type(name):
    return name.rsplit(".", 1)[1]


def unit_section(name):
    """The section of the unit file that holds the resource-control settings."""
    return unit_type(name).capitalize()


def is_template(name):
    """``foo@.service`` is a template: it has no running instance to query."""
    prefix = name.rsplit(".", 1)[0]
    return prefix.endswith("@")


def validate_dropin_name(name):
    if not isinstance(name, str) or not name.endswith(".conf") or len(name) <= len(".conf"):
        raise SystemdError("dropin_name %r must be a file name ending in .conf" % (name,))
    if "/" in name or name.startswith(".") or "\n" in name or "\x00" in name:
        raise SystemdError("dropin_name %r must be a plain file name (no '/', not hidden)" % (name,))
    return name


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------

_PERCENT_RE = re.compile(r"^([0-9]+(?:\.[0-9]{1,2})?)\s*%$")
UINT64_MAX = 18446744073709551615


class MemoryValue(object):
    """A memory setting: ``kind`` is ``bytes``, ``percent`` or ``infinity``."""

    def __init__(self, kind, amount=None):
        self.kind = kind
        self.amount = amount

    def __eq__(self, other):
        return isinstance(other, MemoryValue) and (self.kind, self.amount) == (other.kind, other.amount)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((self.kind, self.amount))

    def __repr__(self):
        return "MemoryValue(%r, %r)" % (self.kind, self.amount)

    def render(self):
        """The value as written in a unit file, in the shortest exact form (``512M``)."""
        if self.kind == "infinity":
            return "infinity"
        if self.kind == "percent":
            text = ("%.2f" % self.amount).rstrip("0").rstrip(".")
            return text + "%"
        return format_bytes(self.amount)


# bytes in systemd notation (536870912 -> 512M): the host layer's one formatter
format_bytes = host.format_bytes


def parse_memory(value, option="value"):
    """Parse a memory setting as systemd reads it: bytes, K/M/G/T/P/E (base 1024), N%, infinity.

    Byte forms go through the collection's shared parser (sizes.parse_size: integers are bytes,
    ``1.5G`` is accepted, ambiguous ``MB`` is refused). ``max``, ``unlimited`` and ``-1`` mean
    ``infinity``, as in the cgroup files; ``N%`` is a share of the physical memory (systemd).
    """
    if isinstance(value, float) and not isinstance(value, bool) and value != int(value):
        raise SystemdError("%s: %r: give bytes as an integer or a string such as 1.5G" % (option, value))
    text = value.strip() if isinstance(value, str) else None
    if text is not None:
        match = _PERCENT_RE.match(text)
        if match:
            percent = float(match.group(1))
            if percent > 100:
                raise SystemdError("%s: %s is more than 100%% of the physical memory" % (option, text))
            return MemoryValue("percent", percent)
        if text.endswith("%"):
            raise SystemdError("%s: %r: a percentage takes at most two decimals (for example 12.5%%)" % (option, value))
    try:
        amount = parse_size(value, name=option, allow_unlimited=True)
    except SizeError as err:
        raise SystemdError("%s (systemd also accepts a percentage of the physical memory such as 20%%, "
                           "and infinity)" % err)
    if amount is None:
        return MemoryValue("infinity")
    return MemoryValue("bytes", amount)


def parse_show_memory(text):
    """A memory property as ``systemctl show`` prints it: bytes, ``infinity`` or 2^64-1 (219)."""
    if text is None:
        return None
    text = text.strip()
    if text in ("", "[not set]"):
        return None
    if text == "infinity" or text == str(UINT64_MAX):
        return MemoryValue("infinity")
    if text.isdigit():
        return MemoryValue("bytes", int(text))
    if text.endswith("%"):
        try:
            return MemoryValue("percent", float(text[:-1]))
        except ValueError:
            return None
    return None


def parse_int_range(value, option, low, high):
    if isinstance(value, bool):
        raise SystemdError("%s: %r is not an integer" % (option, value))
    try:
        number = int(str(value).strip())
    except ValueError:
        raise SystemdError("%s: %r is not an integer" % (option, value))
    if not low <= number <= high:
        raise SystemdError("%s: %d is out of range %d..%d" % (option, number, low, high))
    return number


def parse_choice(value, option, choices):
    text = str(value).strip().lower()
    if text not in choices:
        raise SystemdError("%s: %r is not one of %s" % (option, value, ", ".join(choices)))
    return text


def parse_bool(value, option):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "yes", "true", "on"):
        return True
    if text in ("0", "no", "false", "off"):
        return False
    raise SystemdError("%s: %r is not a boolean" % (option, value))


def parse_pressure_limit(value, option):
    """ManagedOOMMemoryPressureLimit=: a percentage 0..100 with up to two decimals (permyriad)."""
    text = str(value).strip()
    if isinstance(value, int) and not isinstance(value, bool):
        text = "%d%%" % value
    match = _PERCENT_RE.match(text)
    if not match:
        raise SystemdError("%s: %r must be a percentage such as 60%% (0%% means the systemd-oomd default)" % (option, value))
    percent = float(match.group(1))
    if percent > 100:
        raise SystemdError("%s: %s is more than 100%%" % (option, text))
    return ("%.2f" % percent).rstrip("0").rstrip(".") + "%"


_TIMESPAN_UNITS = {
    "us": 1e-6, "usec": 1e-6, "ms": 1e-3, "msec": 1e-3, "": 1, "s": 1, "sec": 1, "second": 1,
    "seconds": 1, "m": 60, "min": 60, "minute": 60, "minutes": 60, "h": 3600, "hr": 3600,
    "hour": 3600, "hours": 3600, "d": 86400, "day": 86400, "days": 86400,
}
_TIMESPAN_PART_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)")


def parse_timespan(value, option, minimum=1.0):
    """A systemd time span (``30s``, ``1min 30s``, plain seconds); returns its canonical text."""
    if isinstance(value, bool):
        raise SystemdError("%s: %r is not a time span" % (option, value))
    text = str(value).strip().lower()
    pos, seconds, parts = 0, 0.0, 0
    while pos < len(text):
        match = _TIMESPAN_PART_RE.match(text, pos)
        if not match or match.group(2) not in _TIMESPAN_UNITS:
            raise SystemdError("%s: %r is not a time span such as 30s or 1min" % (option, value))
        seconds += float(match.group(1)) * _TIMESPAN_UNITS[match.group(2)]
        parts += 1
        pos = match.end()
        while pos < len(text) and text[pos] == " ":
            pos += 1
    if not parts:
        raise SystemdError("%s: %r is not a time span such as 30s or 1min" % (option, value))
    if seconds < minimum:
        raise SystemdError("%s: %r is shorter than %gs" % (option, value, minimum))
    if seconds == int(seconds):
        return "%ds" % int(seconds)
    return "%dms" % int(round(seconds * 1000))


# ---------------------------------------------------------------------------------------------
# The settings table
# ---------------------------------------------------------------------------------------------

class Setting(object):
    """One module option and the unit-file directive that carries it."""

    def __init__(self, option, directive, since, kind, unit_types, restart=False, legacy=None,
                 legacy_until=None, section_since=None, choices=None, low=None, high=None,
                 description=""):
        self.option = option
        self.directive = directive
        self.since = since
        self.kind = kind
        self.unit_types = unit_types
        self.restart = restart
        # Older systemd knows the setting under another directive (MemoryMax -> MemoryLimit).
        self.legacy = legacy
        self.legacy_until = legacy_until
        # Some unit types gained the directive later (OOMPolicy= in scopes: v253).
        self.section_since = section_since or {}
        self.choices = choices
        self.low = low
        self.high = high
        self.description = description

    def parse(self, value):
        """Validate a value given by the user; return it in its canonical (comparable) form."""
        if self.kind == "memory":
            return parse_memory(value, self.option)
        if self.kind == "int":
            return parse_int_range(value, self.option, self.low, self.high)
        if self.kind == "choice":
            return parse_choice(value, self.option, self.choices)
        if self.kind == "bool":
            return parse_bool(value, self.option)
        if self.kind == "percent":
            return parse_pressure_limit(value, self.option)
        if self.kind == "timespan":
            return parse_timespan(value, self.option)
        raise SystemdError("internal: unknown kind %s" % self.kind)  # pragma: no cover

    def parse_file_value(self, text):
        """A value read back from a drop-in; None when it cannot be understood (kept as text)."""
        try:
            return self.parse(text)
        except SystemdError:
            return None

    def render(self, value):
        if self.kind == "memory":
            return value.render()
        if self.kind == "bool":
            return "yes" if value else "no"
        return str(value)

    def describe(self, value):
        """The canonical value for results (JSON-friendly)."""
        if value is None:
            return None
        if self.kind in ("memory", "bool"):
            return self.render(value)
        return value


_CGROUP_UNITS = UNIT_TYPES_WITH_CGROUP
_MEMORY_KW = dict(kind="memory", unit_types=_CGROUP_UNITS)

SETTINGS = [
    Setting("oom_score_adjust", "OOMScoreAdjust", 0, "int", UNIT_TYPES_WITH_EXEC, restart=True,
            low=OOM_SCORE_ADJ_MIN, high=OOM_SCORE_ADJ_MAX,
            description="oom_score_adj of the processes the unit starts"),
    Setting("oom_policy", "OOMPolicy", 243, "choice", ("service", "scope"), choices=("continue", "stop", "kill"),
            section_since={"scope": 253}, description="what systemd does when the kernel OOM killer kills one of the unit's processes"),
    Setting("memory_accounting", "MemoryAccounting", 0, "bool", _CGROUP_UNITS,
            description="memory accounting for the unit's cgroup"),
    Setting("memory_max", "MemoryMax", 231, legacy="MemoryLimit", legacy_until=231, description="hard memory limit", **_MEMORY_KW),
    Setting("memory_high", "MemoryHigh", 231, description="memory throttling limit (cgroup v2)", **_MEMORY_KW),
    Setting("memory_low", "MemoryLow", 231, description="best-effort memory protection (cgroup v2)", **_MEMORY_KW),
    Setting("memory_min", "MemoryMin", 240, description="hard memory protection (cgroup v2)", **_MEMORY_KW),
    Setting("memory_swap_max", "MemorySwapMax", 232, description="swap limit (cgroup v2)", **_MEMORY_KW),
    Setting("memory_zswap_max", "MemoryZSwapMax", 253, description="zswap limit (cgroup v2)", **_MEMORY_KW),
    Setting("memory_zswap_writeback", "MemoryZSwapWriteback", 256, "bool", _CGROUP_UNITS,
            description="whether zswap may write back to swap (cgroup v2)"),
    Setting("managed_oom_swap", "ManagedOOMSwap", 247, "choice", _CGROUP_UNITS, choices=("auto", "kill"),
            description="systemd-oomd action on swap exhaustion"),
    Setting("managed_oom_memory_pressure", "ManagedOOMMemoryPressure", 247, "choice", _CGROUP_UNITS, choices=("auto", "kill"),
            description="systemd-oomd action on memory pressure"),
    Setting("managed_oom_memory_pressure_limit", "ManagedOOMMemoryPressureLimit", 247, "percent", _CGROUP_UNITS,
            description="memory pressure limit for systemd-oomd"),
    Setting("managed_oom_memory_pressure_duration", "ManagedOOMMemoryPressureDurationSec", 257, "timespan", _CGROUP_UNITS,
            description="how long the pressure must last before systemd-oomd acts"),
    Setting("managed_oom_preference", "ManagedOOMPreference", 248, "choice", _CGROUP_UNITS, choices=("none", "avoid", "omit"),
            description="systemd-oomd preference when choosing a cgroup to kill"),
]

SETTINGS_BY_OPTION = dict((s.option, s) for s in SETTINGS)
# Every directive this module writes, legacy spellings included, to the setting it carries.
DIRECTIVES = {}
for _s in SETTINGS:
    DIRECTIVES[_s.directive] = _s
    if _s.legacy:
        DIRECTIVES[_s.legacy] = _s
del _s


_OPTION_ORDER = [s.option for s in SETTINGS]


class Resolved(object):
    """A requested setting resolved for one systemd version and unit: what to write, or why not."""

    def __init__(self, setting, value, directive=None, reason=None):
        self.setting = setting
        self.value = value
        self.directive = directive
        self.reason = reason

    @property
    def supported(self):
        return self.directive is not None


def resolve_setting(setting, value, version, unit):
    """Choose the directive for ``setting`` on systemd ``version`` for ``unit``, or say why none fits."""
    utype = unit_type(unit)
    if utype not in setting.unit_types:
        allowed = ", ".join(".%s" % t for t in setting.unit_types)
        return Resolved(setting, value, reason="%s= is not valid in a .%s unit (only in %s units)"
                        % (setting.directive, utype, allowed))
    needed = max(setting.since, setting.section_since.get(utype, 0))
    if version is None or version >= needed:
        return Resolved(setting, value, directive=setting.directive)
    if setting.legacy and version < setting.legacy_until:
        return Resolved(setting, value, directive=setting.legacy)
    if needed > setting.since:
        why = "%s= in .%s units needs systemd %d or later" % (setting.directive, utype, needed)
    else:
        why = "%s= needs systemd %d or later" % (setting.directive, needed)
    return Resolved(setting, value, reason="%s; this host runs systemd %d" % (why, version))


def resolve_settings(wanted, version, unit):
    """Validate and resolve ``{option: raw value}``; return (supported, unsupported) lists.

    Values are validated first: a bad value is always an error, whatever the version.
    """
    resolved = []
    for setting in SETTINGS:
        if setting.option not in wanted or wanted[setting.option] is None:
            continue
        value = setting.parse(wanted[setting.option])
        resolved.append(resolve_setting(setting, value, version, unit))
    return [r for r in resolved if r.supported], [r for r in resolved if not r.supported]


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


def show_value_matches(setting, wanted, shown):
    """Does the value ``systemctl show`` reports equal the wanted canonical value?

    Returns True, False, or None when the comparison is not meaningful (a percentage of RAM,
    which systemd shows converted to bytes, or a property this systemd does not show).
    """
    if shown is None:
        return None
    if setting.kind == "memory":
        if wanted.kind == "percent":
            return None
        got = parse_show_memory(shown)
        if got is None:
            return None
        return got == wanted
    if setting.kind == "int":
        try:
            return int(shown) == wanted
        except ValueError:
            return None
    if setting.kind == "bool":
        try:
            return parse_bool(shown, setting.option) == wanted
        except SystemdError:
            return None
    if setting.kind == "percent":
        # systemctl show prints the limit as a percentage, or as the raw D-Bus value, a fraction
        # of 2^32 (systemd 252 shows 50% as 2147483648).
        text = shown.strip()
        try:
            if text.endswith("%"):
                got = float(text[:-1])
            elif text.isdigit():
                got = int(text) * 100.0 / 2 ** 32
            else:
                return None
        except ValueError:
            return None
        return abs(got - float(wanted[:-1])) < 0.01
    if setting.kind == "timespan":
        return None
    return shown.strip().lower() == str(wanted).lower()


# ---------------------------------------------------------------------------------------------
# Drop-in files
# ---------------------------------------------------------------------------------------------

HEADER = ("# Managed by oomkit.linux.systemd_oom: OOM and memory settings for %s.\n"
          "# Local changes to the settings below are overwritten; other lines are kept.\n")
_HEADER_PREFIX = "# Managed by oomkit.linux.systemd_oom"
_HEADER_SECOND = "# Local changes to the settings below are overwritten"


def parse_unit_file(text):
    """Parse unit-file text into ``[(section or None, [entry, ...]), ...]``.

    An entry is ``(key, value, raw)`` for an assignment and ``(None, None, raw)`` for comments
    and blank lines. Continuation lines (trailing backslash) are joined into one entry.
    """
    sections = [(None, [])]
    pending = []
    for raw in (text or "").splitlines():
        if pending:
            pending.append(raw)
            if raw.endswith("\\"):
                continue
            joined = "\n".join(pending)
            pending = []
            _add_line(sections, _join_continuation(joined), joined)
            continue
        stripped = raw.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            sections.append((stripped[1:-1].strip(), []))
            continue
        if raw.endswith("\\") and not stripped.startswith(("#", ";")):
            pending = [raw]
            continue
        _add_line(sections, raw, raw)
    if pending:
        joined = "\n".join(pending)
        _add_line(sections, _join_continuation(joined), joined)
    return sections


def _join_continuation(raw):
    parts = raw.split("\n")
    return " ".join(p[:-1] if p.endswith("\\") else p for p in parts)


def _add_line(sections, logical, raw):
    stripped = logical.strip()
    if not stripped or stripped.startswith(("#", ";")) or "=" not in stripped:
        sections[-1][1].append((None, None, raw))
        return
    key, value = stripped.split("=", 1)
    sections[-1][1].append((key.strip(), value.strip(), raw))


def dropin_assignments(text):
    """``{directive: value text}`` of the settings we know in a drop-in (last assignment wins)."""
    result = {}
    for _section, entries in parse_unit_file(text):
        for key, value, _raw in entries:
            if key in DIRECTIVES:
                result[key] = value
    return result


def current_settings(text, section):
    """Settings of ours found in ``section`` of our drop-in: ``{option: (directive, canonical or None, text)}``."""
    result = {}
    for name, entries in parse_unit_file(text):
        if name != section:
            continue
        for key, value, _raw in entries:
            setting = DIRECTIVES.get(key)
            if setting is None:
                continue
            if value == "":
                result.pop(setting.option, None)
                continue
            result[setting.option] = (key, setting.parse_file_value(value), value)
    return result


def render_dropin(existing, unit, section, managed, remove_options=()):
    """The drop-in text with ``managed`` ``[(directive, value text)]`` as the settings of ``section``.

    Lines of the existing file that are not ours are kept in place: comments, other directives,
    other sections. Our settings (any spelling in DIRECTIVES) in ``section`` are replaced by
    ``managed``, in table order; those of options in ``remove_options`` are dropped. Returns
    None when nothing but our header would remain, which means: no file.
    """
    sections = parse_unit_file(existing)
    managed_options = set(DIRECTIVES[d].option for d, _v in managed)
    drop = managed_options | set(remove_options)
    out_sections = []
    found = False
    for name, entries in sections:
        kept = []
        ours = dict((DIRECTIVES[d].option, (d, v)) for d, v in managed)
        for key, value, raw in entries:
            if raw.startswith(_HEADER_PREFIX) or raw.startswith(_HEADER_SECOND):
                continue
            if name == section and key in DIRECTIVES:
                option = DIRECTIVES[key].option
                if option not in drop:
                    if value == "":
                        ours.pop(option, None)  # an empty assignment resets the setting
                    else:
                        ours[option] = (key, value)
                continue
            kept.append(raw)
        if name == section:
            found = True
            # Our settings first, always in table order, so that tasks managing different subsets
            # of one drop-in produce the same text whatever order they ran in.
            kept = ["%s=%s" % ours[o] for o in _OPTION_ORDER if o in ours] + kept
        out_sections.append((name, kept))
    if not found and managed:
        ours = dict((DIRECTIVES[d].option, (d, v)) for d, v in managed)
        out_sections.append((section, ["%s=%s" % ours[o] for o in _OPTION_ORDER if o in ours]))
    has_content = any(
        any(line.strip() and not line.strip().startswith(("#", ";")) for line in lines)
        for _name, lines in out_sections)
    if not has_content:
        return None
    text = HEADER % unit
    for name, lines in out_sections:
        # Drop blank lines at the edges so re-rendering is a fixpoint.
        while lines and not lines[-1].strip():
            lines = lines[:-1]
        if name is None:
            while lines and not lines[0].strip():
                lines = lines[1:]
            if lines:
                text += "\n".join(lines) + "\n"
            continue
        if not any(line.strip() for line in lines) and name == section and not managed:
            continue
        text += "[%s]\n" % name
        if lines:
            text += "\n".join(lines) + "\n"
    return text


# ---------------------------------------------------------------------------------------------
# Where drop-ins live and which one wins
# ---------------------------------------------------------------------------------------------

# The system manager's unit search path, highest priority first (systemd.unit(5)).
SYSTEM_UNIT_DIRS = (
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/run/systemd/generator.late",
)
OWN_DROPIN_DIR = "/etc/systemd/system"


def dropin_dir_names(unit):
    """The ``.d`` directory names whose drop-ins apply to ``unit``.

    Besides ``UNIT.d``: the template's ``foo@.service.d`` for an instance, the prefixes of a dashed
    name (``foo-.service.d`` for ``foo-bar.service``, v239+) and the type-wide ``service.d``.
    """
    prefix, utype = unit.rsplit(".", 1)
    names = []
    if "@" in prefix and not prefix.endswith("@"):
        names.append("%s@.%s.d" % (prefix.split("@", 1)[0], utype))
    names.append("%s.d" % unit)
    # Dashed prefixes: foo-bar-baz.service -> foo-.service.d, foo-bar-.service.d
    base = prefix.split("@", 1)[0]
    parts = base.split("-")
    prefixes = []
    for i in range(1, len(parts)):
        candidate = "-".join(parts[:i]) + "-"
        if candidate.strip("-"):
            prefixes.append("%s.%s.d" % (candidate, utype))
    names = ["%s.d" % utype] + prefixes + names
    return names


def effective_dropins(fs, unit, dirs=SYSTEM_UNIT_DIRS):
    """The drop-in files systemd applies to ``unit``, in the order it applies them.

    Same file name in several directories: the higher-priority directory wins and hides the
    others. Then all files are applied sorted by file name, whatever their directory; for a
    single-valued setting the last assignment wins. Returns ``[(basename, path), ...]``.
    """
    chosen = {}
    seen_real = set()
    for directory in dirs:
        real_dir = fs.realpath(directory)
        if real_dir in seen_real:  # /lib -> /usr/lib on merged-usr systems
            continue
        seen_real.add(real_dir)
        for dname in dropin_dir_names(unit):
            path = "%s/%s" % (directory, dname)
            if not fs.isdir(path):
                continue
            for entry in fs.listdir(path):
                if not entry.endswith(".conf") or entry in chosen:
                    continue
                chosen[entry] = "%s/%s" % (path, entry)
    return [(name, chosen[name]) for name in sorted(chosen)]


def find_overrides(fs, unit, own_path, directives, dirs=SYSTEM_UNIT_DIRS):
    """Drop-ins that override settings of our own drop-in at ``own_path``.

    Returns ``[{"path": ..., "directive": ..., "value": ..., "reason": ...}]`` for each of
    ``directives`` set (or reset) again by a file applied after ours, and one entry with
    directive None when a file of the same name in a higher-priority directory hides ours.
    """
    own_name = own_path.rsplit("/", 1)[1]
    order = effective_dropins(fs, unit, dirs)
    if own_name not in [name for name, _path in order]:
        # Ours is not written yet (check mode, first run): place it where it will sort.
        order = sorted(order + [(own_name, own_path)])
    result = []
    after = False
    for name, path in order:
        if name == own_name:
            if path != own_path:
                result.append({"path": path, "directive": None, "value": None,
                               "reason": "a drop-in with the same name in a higher-priority directory hides ours entirely"})
            after = True
            continue
        if not after:
            continue
        text = fs.read_optional(path)
        if text is None:
            continue
        assigned = dropin_assignments(text)
        for directive in directives:
            spellings = [directive]
            setting = DIRECTIVES.get(directive)
            if setting is not None:
                spellings = [d for d, s in DIRECTIVES.items() if s is setting]
            for spelled in spellings:
                if spelled in assigned:
                    reason = "applied after ours (file names sort later)"
                    if "/system.control/" in path:
                        reason += "; written by `systemctl set-property`"
                    result.append({"path": path, "directive": spelled, "value": assigned[spelled], "reason": reason})
    return result


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


def plan_run(fs, runner, params):
    """Validate everything and compute the drop-in; raise SystemdError on bad input.

    ``params`` are the module parameters. Returns (Plan, ManagedFile-ready text or None).
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
    plan.version = detect_version(runner)
    plan.booted = fs.isdir("/run/systemd/system")
    plan.supported, plan.unsupported = resolve_settings(wanted, plan.version, plan.unit)
    if plan.unsupported:
        reasons = "; ".join("%s (%s)" % (r.setting.option, r.reason) for r in plan.unsupported)
        if params.get("unsupported", "fail") == "fail":
            raise SystemdError("not supported here: %s. Nothing was changed; set unsupported=skip to apply the other "
                               "settings and leave these out" % reasons)
        plan.warnings.append("skipped, not supported here: %s" % reasons)

    existing = fs.read_optional(plan.path)
    current = current_settings(existing, plan.section)
    if state == "absent":
        text = None
        order = [s.option for s in SETTINGS]
        options = sorted(current, key=order.index)
        for option in options:
            directive, _value, raw = current[option]
            plan.settings[option] = {"directive": directive, "before": raw, "after": None}
    else:
        managed = [(r.directive, r.setting.render(r.value)) for r in plan.supported]
        remove = ()
        if params.get("exclusive"):
            remove = [o for o in current if o not in wanted]
        text = render_dropin(existing, plan.unit, plan.section, managed, remove_options=remove)
        for r in plan.supported:
            before = current.get(r.setting.option)
            plan.settings[r.setting.option] = {"directive": r.directive, "before": before[2] if before else None,
                                               "after": r.setting.render(r.value)}
        for option in remove:
            directive, _value, raw = current[option]
            plan.settings[option] = {"directive": directive, "before": raw, "after": None}
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


def live_diff_line(key, value):
    """A live oom_score_adj change in a diff, as oom_score_adj shows it: ``pid 4242 (sleep): -900``."""
    return "%s: %s\n" % (key, value)


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


def run(fs, runner, params, check_mode=False):
    """Reconcile one unit's OOM and memory settings; return the module result (without ``diff``
    rendering decisions: ``diff`` is always included, the module drops it when not asked).

    ``runner(argv) -> (rc, out, err)`` runs systemctl. Raises SystemdError for bad input or a
    failed systemctl call, HostError (reconcile.ApplyError) when writing the drop-in fails.
    """
    plan, text = plan_run(fs, runner, params)
    warnings = plan.warnings
    state = params.get("state") or "present"
    unit = plan.unit
    template = is_template(unit)
    can_query = plan.booted and not template
    if not plan.booted:
        warnings.append("systemd is not running as the service manager here (no /run/systemd/system): the drop-in "
                        "is written but nothing is reloaded, restarted, applied live or verified")
    elif template:
        warnings.append("%s is a template: the drop-in applies to every instance when it (re)starts; running "
                        "instances are not queried" % unit)

    show_props = [show_property(r.directive) for r in plan.supported]
    show_props += [show_property(plan.settings[o]["directive"]) for o in plan.settings]
    show_before = show(runner, unit, show_props) if can_query else {}
    if can_query and show_before.get("LoadState") == "not-found":
        warnings.append("systemd does not know %s (LoadState=not-found): check the name; the drop-in takes effect "
                        "only once such a unit exists" % unit)
    active = can_query and _is_active(show_before)

    overrides = []
    if state == "present":
        directives = [r.directive for r in plan.supported]
        overrides = find_overrides(fs, unit, plan.path, directives)
        for item in overrides:
            if item["directive"] is None:
                warnings.append("%s: %s" % (item["path"], item["reason"]))
            else:
                warnings.append("%s sets %s=%s, which overrides ours (%s)"
                                % (item["path"], item["directive"], item["value"], item["reason"]))
    overridden = set(o["directive"] for o in overrides)
    hidden = any(o["directive"] is None for o in overrides)

    # systemd's loaded configuration can differ from the files (`systemctl set-property` changes the
    # running unit at once, and its file sorts before ours): a daemon-reload brings ours back.
    stale = []
    if state == "present" and can_query and show_before.get("LoadState") == "loaded" and not hidden:
        for r in plan.supported:
            spellings = [d for d, s in DIRECTIVES.items() if s is r.setting]
            if overridden.intersection(spellings):
                continue
            if show_value_matches(r.setting, r.value, show_before.get(show_property(r.directive))) is False:
                stale.append(r.setting.option)

    # One transaction: our drop-in (it owns its directory), then daemon-reload (a failed reload restores
    # the drop-in; a later failure restores it and reloads again), then the live writes, which the
    # kernel may refuse (collected as results).
    dropin = DirectoryFile(fs, plan.path)
    dropin.plan(text)
    txn = Transaction(check_mode=check_mode, backup=bool(params.get("backup")))
    txn.add_file(dropin)
    daemon_reloaded = bool(plan.booted and (dropin.changed or stale))
    if daemon_reloaded:
        if stale and not dropin.changed:
            warnings.append("%s: systemd ran with other values than the drop-in for %s (a runtime change such as "
                            "`systemctl set-property`); daemon-reload %s ours again"
                            % (unit, ", ".join(stale), "would apply" if check_mode else "applies"))
        txn.add_step(Step("daemon-reload", lambda: _host_step(run_systemctl, runner, "daemon-reload"),
                          rerun_after_rollback=True))
    try:
        txn.commit()
    except ApplyError as err:
        if err.key != "daemon-reload":
            raise
        if plan.path in err.rolled_back or (dropin.before is None and not fs.exists(plan.path)):
            restored = "the previous drop-in %s was restored" % plan.path
        else:
            restored = "COULD NOT restore the previous drop-in %s: %s" % (plan.path, "; ".join(err.rollback_errors))
        raise SystemdError("%s; %s" % (str(err).split("; rolled back")[0].split("; COULD NOT")[0], restored))

    # The live layer: the running processes' oom_score_adj, without waiting for a restart.
    live_result = []
    live_refusals = []
    live_target = None
    oom = [r for r in plan.supported if r.setting.option == "oom_score_adjust"]
    if oom and "OOMScoreAdjust" not in overridden:
        live_target = oom[0].value
    elif state == "absent" and "oom_score_adjust" in plan.settings and active:
        # Our value is gone: the processes should get what systemd now uses for the unit. Check mode
        # predicts it from the unit's other files.
        if check_mode:
            live_target = predict_oom_score_adjust(fs, unit, show_before.get("FragmentPath"), plan.path)
        else:
            try:
                live_target = int(show(runner, unit, ["OOMScoreAdjust"]).get("OOMScoreAdjust", ""))
            except ValueError:
                live_target = None
    live_attempted = bool(params.get("live", True) and live_target is not None and active)
    if live_attempted:
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
        # a write that fails otherwise fails the run: the live writes, the drop-in and the reload are undone
        txn.commit()
        for change, _reason in txn.refused:
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
    live_changed = any(e["status"] == "changed" for e in live_result)

    # Restart: only what a restart alone can bring (OOMScoreAdjust= is applied when processes start).
    # A running unit without processes (a oneshot that remained active) has nothing to restart for.
    live_done = live_attempted and all(e["status"] in ("changed", "unchanged", "vanished") for e in live_result)
    restart_required = bool(active and plan.restart_settings_changed and not live_done)
    mode = params.get("restart") or "auto"
    restart = active and ((mode == "always" and dropin.changed) or (mode == "auto" and restart_required))
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
        "changed": bool(dropin.changed or daemon_reloaded or live_changed or restarted),
        "unit": unit,
        "state": state,
        "dropin": plan.path,
        "systemd_version": plan.version,
        "settings": plan.settings,
        "skipped": [{"option": r.setting.option, "directive": r.setting.directive, "reason": r.reason}
                    for r in plan.unsupported],
        "overrides": overrides,
        "live": live_result,
        "daemon_reloaded": daemon_reloaded,
        "restart_required": restart_required,
        "restarted": restarted,
        "effective": {},
        "warnings": warnings,
        "diff": txn.diffs(live_header="live oom_score_adj of %s" % unit, render=live_diff_line, files_first=True),
    }
    if dropin.backup_file:
        result["backup_file"] = dropin.backup_file
    if can_query:
        result["effective"] = verify(fs, runner, plan, state, check_mode, warnings, restart_pending=restart_required)
    return result


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
