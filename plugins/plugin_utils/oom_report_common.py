# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the fleet report's parts (controller side, no Ansible import): errors, times,
plain data, severities, causes and their colours, natural host order."""

from __future__ import annotations

import datetime
import re

from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import CAUSE_TEXT as OOM_CAUSE_TEXT
from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import CAUSES

SEVERITIES = ('critical', 'high', 'medium', 'low', 'info')
SEVERITY_RANK = dict((s, i) for i, s in enumerate(SEVERITIES))

# The ssh trap (roles/hardening/README.md): OpenSSH, built with its Linux OOM adjustment, sets its own
# listener to -1000 and gives every session the value it was started with, so a negative value given to
# sshd (OOMScoreAdjust= on its unit, or a live write) reaches every SSH session and all it starts. The
# hardening role leaves sshd out of its list, the proposal declines it, and the findings never advise it.
SSH_TRAP = 'sshd'

# The causes and what each means live in oom_log.CAUSE_TABLE; their colours are the report's.
CAUSE_TEXT = dict(OOM_CAUSE_TEXT)
CAUSE_COLOURS = {
    'cgroup_limit': '#1f77b4',
    'parent_cgroup_limit': '#17becf',
    'system_memory': '#d62728',
    'numa_node_or_policy': '#9467bd',
    'cpuset': '#8c564b',
    'fragmentation': '#ff7f0e',
    'manual': '#bcbd22',
    'unknown': '#7f7f7f',
}
OTHER_COLOUR = '#e377c2'


def cause_of(event):
    """The event's cause, one of CAUSES ('unknown' for anything else)."""
    cause = event.get('cause')
    return cause if cause in CAUSES else 'unknown'


class ReportError(ValueError):
    """Bad input to the report functions (bad option, bad query, bad partial report)."""


def as_int(value, default=None):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def parse_time(value):
    """ISO 8601 string -> aware datetime (UTC when no zone), or None."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith('Z'):
        text = text[:-1] + '+00:00'
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def epoch(value):
    parsed = parse_time(value)
    return parsed.timestamp() if parsed else None


def utc_iso(parsed):
    return parsed.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def epoch_iso(seconds):
    return None if seconds is None else utc_iso(datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc))


def epoch_day(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime('%Y-%m-%d')


_DIGITS = re.compile(r'(\d+)')


def natural_key(name):
    """Sort key that puts web2 before web10."""
    return [(0, int(part), '') if part.isdigit() else (1, 0, part) for part in _DIGITS.split(str(name)) if part]


def to_plain(value):
    """Deep copy into plain dict/list/str/int/float/bool/None (drops Ansible wrapper types)."""
    if isinstance(value, dict):
        return dict((str(k), to_plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def jmespath_search(data, expression):
    """Evaluate a jmespath expression; clear errors when jmespath is missing or the expression is bad."""
    try:
        import jmespath  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise ReportError('the jmespath Python library is needed on the controller for event queries '
                          '(pip install jmespath)')
    try:
        return jmespath.search(expression, data)
    except jmespath.exceptions.JMESPathError as err:
        raise ReportError('bad jmespath expression %r: %s' % (expression, err))


_UNIT = re.compile(r'^[^/]+\.(service|scope|slice|socket|mount|swap)$')


def unit_of(cgroup):
    """The systemd unit a cgroup path belongs to (the innermost .service or .scope), or None."""
    if not cgroup or not isinstance(cgroup, str):
        return None
    for part in reversed(cgroup.split('/')):
        if _UNIT.match(part) and not part.endswith('.slice'):
            return part
    return None
