# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings table of systemd_oom (``SETTINGS``): for each module option, which directive carries
it, from which systemd version, in which unit types, how its value is validated and rendered, and
whether a change needs a restart of the unit to take effect; the value parsers behind it, and how a
value shown by ``systemctl show`` or read from a cgroup file compares with it. The one home of the
unit settings: the module's argument spec and the hardening role derive from it. Pure Python.
"""

from __future__ import annotations

import re

from ansible_collections.oomkit.linux.plugins.module_utils import host
from ansible_collections.oomkit.linux.plugins.module_utils.processes import OOM_SCORE_ADJ_MAX, OOM_SCORE_ADJ_MIN
from ansible_collections.oomkit.linux.plugins.module_utils.sizes import SizeError, parse_size
from ansible_collections.oomkit.linux.plugins.module_utils.systemd_units import (
    UNIT_TYPES_WITH_CGROUP, UNIT_TYPES_WITH_EXEC, SystemdError, unit_type,
)


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
    if len(text) > 64 or re.search(r"[0-9]{13}", text):
        raise SystemdError("%s: a time span of at most 64 characters with numbers of at most 12 digits is accepted "
                           "(systemd stores microseconds in 64 bits)" % option)
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
