# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet OOM report: assembly from host summaries, partial reports and their merge (controller side).

Pure Python, no Ansible import: the filter plugins in ``plugins/filter/`` are thin wrappers, and the
unit tests call these functions directly. The parts:

- ``oom_report_hosts``: a host's compact summary (what the report keeps of a host's results);
- ``oom_findings``: the rules, and one finding per problem across the fleet;
- this module: events of the fleet (shared kernels counted once), the fleet overview, the report,
  partial reports (one per AWX job slice) and their merge;
- ``oom_render_text`` / ``oom_render_html``: JSON, Markdown, Prometheus, HTML.

    report = build_report(hosts, oom_results, probe_results, active_hosts, options, groups=...)
    report = build_from_summaries(summaries, options, partial=None)
    fleet = merge_reports([partial1, partial2, ...])
    render(report, 'json' | 'markdown' | 'html' | 'prometheus')

Cost is linear in hosts x events: every step is one pass over the events or the observations, with
dictionaries for the lookups. Every string that comes from a log or a process name is
attacker-controlled: the renderers escape it for their format.
"""

from __future__ import annotations

import contextlib
import datetime
import gc

from ansible_collections.oomkit.linux.plugins.module_utils.processes import COMM_LEN
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_findings import RULES, fleet_findings, host_observations
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_proposal import build_proposal
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report_common import (  # noqa: F401 (re-exported)
    CAUSE_COLOURS, CAUSE_TEXT, CAUSES, SEVERITIES, SEVERITY_RANK, ReportError, as_int, cause_of, epoch, epoch_day,
    epoch_iso, jmespath_search, natural_key, parse_time, to_plain, unit_of, utc_iso)
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report_hosts import (  # noqa: F401 (re-exported)
    REPORT_EVENT_FIELDS, REPORT_USERSPACE_FIELDS, HOST_STATES, full_event, host_summary, is_summary)
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_render_html import render_html  # noqa: F401
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_render_text import (  # noqa: F401
    md, prom_label, render_json, render_markdown, render_prometheus, render_proposal)

__all__ = [
    'CAUSES', 'CAUSE_COLOURS', 'CAUSE_TEXT', 'EVENT_FIELDS', 'HOST_STATES', 'REPORT_EVENT_FIELDS',
    'REPORT_USERSPACE_FIELDS', 'RULES', 'SCHEMA', 'SCHEMA_VERSION', 'SEVERITIES', 'SEVERITY_RANK', 'ReportError', 'build_from_summaries', 'build_report',
    'host_summary', 'jmespath_search', 'md', 'merge_options', 'merge_reports', 'parse_time', 'partial_mark',
    'prom_label', 'render', 'render_html', 'render_json', 'render_markdown', 'render_prometheus', 'stats',
    'summaries_of', 'to_plain',
]

SCHEMA = 'oomkit.linux.diagnosis.report'
SCHEMA_VERSION = 2

# kept for callers of version 1: the event fields of the report
EVENT_FIELDS = REPORT_EVENT_FIELDS

DEFAULT_OPTIONS = {
    'repeat_threshold': 2,
    'leak_growth_percent': 5,
    'usage_at_limit_percent': 95,
    'critical_processes': ['sshd', 'systemd-journal', 'rsyslogd', 'syslog-ng'],
    'min_severity': 'info',
    'event_query': '',
    'max_report_events': 1000,
    'max_host_events': 200,
    'dedupe_shared_kernel': True,
    'title': 'OOM diagnosis report',
    'parameters': {},
}
# options that change the report's content: a partial report records them and the merge reuses them
CONTENT_OPTIONS = ('repeat_threshold', 'leak_growth_percent', 'usage_at_limit_percent', 'critical_processes',
                   'min_severity', 'event_query', 'max_report_events', 'max_host_events', 'dedupe_shared_kernel',
                   'title')

TOP_N = 10
HOSTS_RANKED = 20
UNGROUPED = '(no group)'


def merge_options(options=None):
    """Defaults plus the caller's options, validated."""
    merged = dict(DEFAULT_OPTIONS)
    for key, value in (options or {}).items():
        if key not in DEFAULT_OPTIONS:
            raise ReportError('unknown report option %r (known: %s)' % (key, ', '.join(sorted(DEFAULT_OPTIONS))))
        if value is not None:
            merged[key] = value
    for key in ('repeat_threshold', 'leak_growth_percent', 'usage_at_limit_percent', 'max_report_events',
                'max_host_events'):
        number = as_int(merged[key])
        if number is None or number < 0:
            raise ReportError('%s must be an integer of 0 or more, got %r' % (key, merged[key]))
        merged[key] = number
    if merged['repeat_threshold'] < 2:
        raise ReportError('repeat_threshold must be 2 or more, got %d' % merged['repeat_threshold'])
    if merged['min_severity'] not in SEVERITY_RANK:
        raise ReportError('min_severity must be one of %s, got %r' % (', '.join(SEVERITIES), merged['min_severity']))
    if isinstance(merged['critical_processes'], str):
        merged['critical_processes'] = [p.strip() for p in merged['critical_processes'].split(',') if p.strip()]
    merged['critical_processes'] = [str(p)[:COMM_LEN] for p in merged['critical_processes']]
    merged['event_query'] = (merged['event_query'] or '').strip()
    merged['dedupe_shared_kernel'] = bool(merged['dedupe_shared_kernel'])
    merged['title'] = str(merged['title'])
    if not isinstance(merged['parameters'], dict):
        raise ReportError('parameters must be a mapping, got %r' % (merged['parameters'],))
    return merged


def partial_mark(run=None, slice_spec=None, part=None):
    """The ``partial`` entry of a slice's report: run id, slice number and count when known ("2/3"), part name."""
    run = str(run or '').strip() or 'local'
    number = count = None
    spec = str(slice_spec or '').strip()
    if spec:
        pieces = spec.split('/')
        number, count = (as_int(pieces[0]), as_int(pieces[1])) if len(pieces) == 2 else (None, None)
        if number is None or count is None or not 1 <= number <= count:
            raise ReportError('diagnosis_slice must be N/M with 1 <= N <= M (for example 2/3), got %r' % spec)
    part = str(part or '').strip() or (str(number) if number else 'part')
    return {'run': run, 'slice': number, 'slices': count, 'part': part}


# ------------------------------------------------------------------------------------------------
# events of the fleet
# ------------------------------------------------------------------------------------------------

def _event_key(event):
    """What identifies one kernel event across hosts that share a kernel (containers)."""
    uptime = event.get('uptime')
    if uptime is None or event.get('killed_pid') is None:
        return None
    try:
        return (round(float(uptime), 6), event.get('killed_pid'), event.get('killed_comm'))
    except (TypeError, ValueError):
        return None


class _Epochs(object):
    """Epoch of an event's time string, parsed once per distinct string."""

    def __init__(self):
        self.cache = {}

    def __call__(self, event):
        text = event.get('time')
        try:
            return self.cache[text]
        except KeyError:
            value = self.cache[text] = epoch(text)
            return value
        except TypeError:
            return None


def collect_events(summaries, dedupe, epoch_of):
    """The fleet's events, oldest first, numbered E1..En: each kernel event once (its seen_on lists every
    host that logged it), from hosts in natural name order so the result does not depend on the order
    the hosts came in. Returns (events, number of extra sightings on other hosts)."""
    rank = dict((s['name'], i) for i, s in enumerate(summaries))
    seen = {}
    events = []
    for record in summaries:
        if record['status'] != 'ok':
            continue
        name = record['name']
        for raw in record['events']:
            key = _event_key(raw) if dedupe else None
            if key is not None:
                first = seen.get(key)
                if first is not None:
                    if first['seen_on'][-1] != name:
                        first['seen_on'].append(name)
                    continue
            event = dict(raw)
            event['inventory_host'] = name
            event['seen_on'] = [name]
            if key is not None:
                seen[key] = event
            events.append(event)

    def order(event):
        when = epoch_of(event)
        uptime = event.get('uptime')
        return (when is None, when or 0.0, rank[event['inventory_host']],
                uptime if isinstance(uptime, (int, float)) else 0.0)

    events.sort(key=order)
    shared = 0
    for index, event in enumerate(events, 1):
        event['id'] = 'E%d' % index
        shared += len(event['seen_on']) - 1
    return events, shared


def _apply_query(events, query):
    selected = jmespath_search(events, query)
    if selected is None:
        selected = []
    if not isinstance(selected, list) or not all(isinstance(e, dict) and 'id' in e for e in selected):
        raise ReportError('diagnosis event query %r must return a list of events (for example '
                          "[?cause=='cgroup_limit']), it returned %s" % (query, str(to_plain(selected))[:200]))
    ids = set(e['id'] for e in selected)
    return [e for e in events if e['id'] in ids]


# ------------------------------------------------------------------------------------------------
# the fleet overview
# ------------------------------------------------------------------------------------------------

def _top(counter, hosts_of, limit=TOP_N):
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], natural_key(kv[0])))[:limit]
    return [{'name': name, 'kills': kills, 'hosts': len(hosts_of[name])} for name, kills in ranked]


def fleet_overview(events, records, epoch_of):
    """Kills per cause per day, top processes/units/cgroups, hosts ranked, per-group breakdown."""
    days = {}
    day_names = {}
    undated = 0
    counters = {'process': ({}, {}), 'unit': ({}, {}), 'cgroup': ({}, {})}
    for event in events:
        when = epoch_of(event)
        cause = cause_of(event)
        if when is None:
            undated += 1
        else:
            number = int(when // 86400)
            name = day_names.get(number)
            if name is None:
                name = day_names[number] = epoch_day(when)
            day = days.setdefault(name, {})
            day[cause] = day.get(cause, 0) + 1
        cgroup = event.get('memcg') or event.get('task_memcg')
        for kind, name in (('process', event.get('killed_comm')), ('cgroup', cgroup),
                           ('unit', unit_of(event.get('task_memcg')) or unit_of(event.get('memcg')))):
            if not name:
                continue
            kills, hosts = counters[kind]
            kills[name] = kills.get(name, 0) + 1
            hosts.setdefault(name, set()).update(event['seen_on'])
    groups = {}
    total_kills = 0
    for record in records:
        total_kills += record['events']
        for group in record['groups'] or [UNGROUPED]:
            entry = groups.get(group)
            if entry is None:
                entry = groups[group] = {'name': group, 'hosts': 0, 'hosts_ok': 0, 'hosts_with_kills': 0, 'kills': 0,
                                         'kills_by_cause': {}, 'findings': set()}
            entry['hosts'] += 1
            entry['hosts_ok'] += record['status'] == 'ok'
            entry['hosts_with_kills'] += bool(record['events'])
            entry['kills'] += record['events']
            for cause, count in record['kills_by_cause'].items():
                entry['kills_by_cause'][cause] = entry['kills_by_cause'].get(cause, 0) + count
            entry['findings'].update(f['id'] for f in record['findings'])
    group_list = []
    for entry in sorted(groups.values(), key=lambda g: (-g['kills'], natural_key(g['name']))):
        entry['findings'] = len(entry['findings'])
        entry['kills_share_percent'] = round(100.0 * entry['kills'] / total_kills, 1) if total_kills else 0.0
        entry['kills_by_cause'] = dict(sorted(entry['kills_by_cause'].items()))
        group_list.append(entry)
    # groups that hold every kill of the fleet ("all kills are in group db")
    holding_all = [g['name'] for g in group_list if total_kills and g['kills'] == total_kills and g['name'] != UNGROUPED]
    ranked = sorted((r for r in records if r['events'] or r['findings']),
                    key=lambda r: (-r['events'], -len(r['findings']), natural_key(r['name'])))[:HOSTS_RANKED]
    return {
        'kills_by_day': [{'day': day, 'kills': sum(by.values()), 'by_cause': dict(sorted(by.items()))}
                         for day, by in sorted(days.items())],
        'kills_undated': undated,
        'top_processes': _top(*counters['process']),
        'top_units': _top(*counters['unit']),
        'top_cgroups': _top(*counters['cgroup']),
        'hosts_ranked': [{'name': r['name'], 'kills': r['events'], 'findings': len(r['findings']),
                          'worst': min((f['severity'] for f in r['findings']), key=SEVERITY_RANK.get, default=None),
                          'groups': r['groups'], 'status': r['status']} for r in ranked],
        'groups': group_list,
        'all_kills_in_groups': holding_all,
    }


def userspace_events(summaries):
    """The kills by userspace OOM killers (systemd-oomd, earlyoom, nohang) the hosts sent, oldest first, each
    with its inventory host. They are not kernel OOM kills: no finding, cause or kernel count uses them."""
    rank = dict((s['name'], i) for i, s in enumerate(summaries))
    found = []
    for record in summaries:
        if record['status'] == 'ok':
            for raw in record.get('userspace_events') or []:
                found.append(dict(raw, inventory_host=record['name']))

    def order(uev):
        when = epoch(uev.get('time'))
        return (when is None, when or 0.0, rank[uev['inventory_host']])

    found.sort(key=order)
    return found


def userspace_overview(found, records):
    """Kills by userspace OOM killers across the fleet: per killer and reason, the most killed units or
    processes, the hosts with most of them (counts per host from every kill the host found)."""
    by_killer = {}
    by_reason = {}
    victims, victim_hosts = {}, {}
    for uev in found:
        reason = uev.get('reason') or 'unknown'
        by_reason[reason] = by_reason.get(reason, 0) + 1
        name = uev.get('unit') or uev.get('victim_comm') or uev.get('cgroup')
        if name:
            victims[name] = victims.get(name, 0) + 1
            victim_hosts.setdefault(name, set()).add(uev['inventory_host'])
    for record in records:
        if record['status'] == 'ok':
            for killer, count in (record.get('userspace_by_killer') or {}).items():
                by_killer[killer] = by_killer.get(killer, 0) + count
    ranked = sorted((r for r in records if r['status'] == 'ok' and r['userspace_total']),
                    key=lambda r: (-r['userspace_total'], natural_key(r['name'])))[:HOSTS_RANKED]
    return {
        'kills_by_killer': dict(sorted(by_killer.items())),
        'kills_by_reason': dict(sorted(by_reason.items())),
        'top_victims': _top(victims, victim_hosts),
        'hosts_ranked': [{'name': r['name'], 'kills': r['userspace_total'], 'groups': r['groups']} for r in ranked],
    }


# ------------------------------------------------------------------------------------------------
# the report
# ------------------------------------------------------------------------------------------------

def build_from_summaries(summaries, options=None, partial=None, now=None):
    """The fleet report from host summaries (oom_report_hosts.host_summary); with ``partial`` (see
    partial_mark), a slice's partial report: all events kept, no event query (the merge applies it)."""
    # The report makes hundreds of thousands of small containers and no reference cycle: the cyclic
    # garbage collector would walk them over and over (half the time at 1,000 hosts, growing faster
    # than the fleet). Reference counting frees everything anyway.
    with _no_cyclic_gc():
        return _build(summaries, options, partial, now)


@contextlib.contextmanager
def _no_cyclic_gc():
    """Pause the cyclic garbage collector (nests: restores what it found)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(summaries, options, partial, now):
    opts = merge_options(options)
    unique = {}
    for record in summaries:
        if not is_summary(record):
            raise ReportError('not a host summary: %s' % str(record)[:120])
        unique.setdefault(record['name'], record)
    summaries = sorted(unique.values(), key=lambda r: natural_key(r['name']))
    epoch_of = _Epochs()
    events, shared = collect_events(summaries, opts['dedupe_shared_kernel'], epoch_of)
    unfiltered = len(events)
    if opts['event_query'] and partial is None:
        events = _apply_query(events, opts['event_query'])
        shared = sum(len(e['seen_on']) - 1 for e in events)

    by_host = dict((r['name'], []) for r in summaries)
    for event in events:
        for host in event['seen_on']:
            by_host[host].append(event)
    observations = []
    for record in summaries:
        if record['status'] == 'ok':
            observations += host_observations(record, by_host[record['name']], opts)
    groups_of = dict((r['name'], r['groups']) for r in summaries)
    findings = fleet_findings(observations, groups_of, epoch_of, opts['min_severity'])
    host_findings = dict((r['name'], []) for r in summaries)
    for finding in findings:
        for host, severity in finding.pop('_host_severity').items():
            host_findings[host].append({'id': finding['id'], 'rule': finding['rule'], 'severity': severity})

    # the hardening proposal: from each host's events, the findings and the live state (its one home:
    # oom_proposal); a partial report leaves it to the merge, which sees the whole fleet
    proposal = build_proposal(summaries, by_host, findings, opts) if partial is None else None

    records = []
    by_cause = {}
    for record in summaries:
        mine = by_host[record['name']]
        entry = dict((k, v) for k, v in record.items() if k not in ('events', 'userspace_events', 'oomkit_host_summary'))
        # summaries made before the report knew userspace killers have none of their keys
        entry.setdefault('userspace_total', 0)
        entry.setdefault('userspace_by_killer', {})
        entry['events'] = len(mine)
        kills_by_cause = {}
        for event in mine:
            cause = cause_of(event)
            kills_by_cause[cause] = kills_by_cause.get(cause, 0) + 1
        entry['kills_by_cause'] = dict(sorted(kills_by_cause.items()))
        dated = [e for e in mine if epoch_of(e) is not None]
        entry['last_kill'] = max(dated, key=epoch_of)['time'] if dated else None
        entry['findings'] = sorted(host_findings[record['name']], key=lambda f: int(f['id'][1:]))
        records.append(entry)
    by_host_count = {}
    for event in events:
        cause = cause_of(event)
        by_cause[cause] = by_cause.get(cause, 0) + 1
        by_host_count[event['inventory_host']] = by_host_count.get(event['inventory_host'], 0) + 1
    by_severity = dict((s, 0) for s in SEVERITIES)
    for finding in findings:
        by_severity[finding['severity']] += 1
    times = [t for t in (epoch_of(e) for e in events) if t is not None]
    worst = next((s for s in SEVERITIES if by_severity[s]), None)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    keep = opts['max_report_events'] if partial is None else len(events)
    unreachable = [r['name'] for r in records if r['status'] == 'unreachable']
    failed = [r['name'] for r in records if r['status'] in ('failed', 'not_run')]
    summary = {
        'hosts_total': len(records),
        'hosts_ok': len([r for r in records if r['status'] == 'ok']),
        'hosts_unreachable': len(unreachable),
        'hosts_failed': len(failed),
        'hosts_with_kills': len([r for r in records if r['events']]),
        'groups_total': len(set(g for r in records for g in r['groups'])),
        'events_total': len(events),
        'events_before_query': unfiltered,
        'events_shared_between_hosts': shared,
        'events_not_sent': sum(r['events_not_sent'] for r in records),
        'events_by_cause': dict(sorted(by_cause.items())),
        'events_by_host': dict(sorted(by_host_count.items(), key=lambda kv: natural_key(kv[0]))),
        'findings_total': len(findings),
        'findings_by_severity': by_severity,
        'worst_severity': worst,
        'first_kill': epoch_iso(min(times)) if times else None,
        'last_kill': epoch_iso(max(times)) if times else None,
        'unreachable_hosts': unreachable,
        'failed_hosts': failed,
        'userspace_kills_total': sum(r['userspace_total'] for r in records if r['status'] == 'ok'),
        'hosts_with_userspace_kills': len([r for r in records if r['status'] == 'ok' and r['userspace_total']]),
    }
    userspace = userspace_events(summaries)
    options_record = dict((k, opts[k]) for k in CONTENT_OPTIONS)
    return {
        'schema': SCHEMA,
        'schema_version': SCHEMA_VERSION,
        'title': opts['title'],
        'generated_at': utc_iso(now),
        'partial': dict(partial, options=options_record) if partial is not None else None,
        'parameters': to_plain(dict(opts['parameters'] or {}, event_query=opts['event_query'] or None,
                                    min_severity=opts['min_severity'], repeat_threshold=opts['repeat_threshold'])),
        'summary': summary,
        'fleet': dict(fleet_overview(events, records, epoch_of), userspace=userspace_overview(userspace, records)),
        'hosts': records,
        'unreachable_hosts': [{'name': r['name'], 'message': r['message']} for r in records
                              if r['status'] == 'unreachable'],
        'failed_hosts': [{'name': r['name'], 'message': r['message']} for r in records
                         if r['status'] in ('failed', 'not_run')],
        'events': [full_event(e) for e in events[-keep:]] if keep else [],
        'events_truncated': len(events) > keep,
        'userspace_events': userspace[-keep:] if keep else [],
        'userspace_events_truncated': len(userspace) > keep,
        'findings': findings,
        'proposal': proposal,
    }


def build_report(hosts, oom_results, probe_results=None, active_hosts=None, options=None, now=None, groups=None,
                 partial=None):
    """The fleet report from the play's hosts and their registered results (or host summaries).

    ``oom_results[i]`` is host i's registered oom_facts result, or its host summary (the diagnosis role
    sends summaries); ``groups`` maps a host to its inventory groups (group_names)."""
    opts = merge_options(options)
    hosts = [str(h) for h in (hosts or [])]
    oom_results = list(oom_results or [])
    probe_results = list(probe_results or [])
    if len(oom_results) != len(hosts):
        raise ReportError('oom_results has %d entries for %d hosts' % (len(oom_results), len(hosts)))
    probe_results += [None] * (len(hosts) - len(probe_results))
    active = set(str(h) for h in active_hosts) if active_hosts is not None else set(hosts)
    groups = groups or {}
    summaries = []
    with _no_cyclic_gc():
        for name, result, probe in zip(hosts, oom_results, probe_results):
            if is_summary(result):
                summaries.append(result)
            else:
                summaries.append(host_summary(name, result, probe, name in active, groups.get(name) or (),
                                              opts['max_host_events']))
        return build_from_summaries(summaries, opts, partial=partial, now=now)


# ------------------------------------------------------------------------------------------------
# partial reports (AWX job slices) and their merge
# ------------------------------------------------------------------------------------------------

def summaries_of(report):
    """The host summaries a partial report was built from (its events back on every host that saw them)."""
    events = dict((r['name'], []) for r in report['hosts'])
    for event in report['events']:
        copy = dict((k, v) for k, v in event.items() if k not in ('id', 'inventory_host', 'seen_on'))
        for host in event['seen_on']:
            if host in events:
                events[host].append(copy)
    userspace = dict((r['name'], []) for r in report['hosts'])
    for uev in report.get('userspace_events') or []:
        if uev.get('inventory_host') in userspace:
            userspace[uev['inventory_host']].append(dict((k, v) for k, v in uev.items() if k != 'inventory_host'))
    summaries = []
    for record in report['hosts']:
        summary = dict((k, v) for k, v in record.items() if k not in ('events', 'findings', 'last_kill', 'kills_by_cause'))
        summary['oomkit_host_summary'] = 1
        summary['events'] = events[record['name']]
        summary['userspace_events'] = userspace[record['name']]
        summaries.append(summary)
    return summaries


def merge_reports(reports, options=None, now=None):
    """The fleet report of N partial reports of one run: hosts joined, events de-duplicated across slices,
    findings and overview recomputed on the whole fleet. The options recorded in the partials are used,
    ``options`` override them."""
    reports = [to_plain(r) for r in reports or []]
    if not reports:
        raise ReportError('no partial report to merge')
    runs = {}
    for index, report in enumerate(reports, 1):
        if not isinstance(report, dict) or report.get('schema') != SCHEMA:
            raise ReportError('input %d is not an oomkit.linux diagnosis report' % index)
        if report.get('schema_version') != SCHEMA_VERSION:
            raise ReportError('input %d has schema_version %r, this merge reads %d'
                              % (index, report.get('schema_version'), SCHEMA_VERSION))
        if not isinstance(report.get('partial'), dict):
            raise ReportError('input %d is a full report, not a partial one (diagnosis_partial)' % index)
        runs.setdefault(report['partial']['run'], []).append(report)
    if len(runs) > 1:
        raise ReportError('the partial reports belong to different runs (%s): merge one run at a time'
                          % ', '.join(sorted(runs)))
    # the order the partial reports come in (a directory listing, a list of files) must not matter
    reports.sort(key=lambda r: (r['partial'].get('slice') is None, r['partial'].get('slice') or 0,
                                natural_key(str(r['partial'].get('part')))))
    counts = set(r['partial'].get('slices') for r in reports) - {None}
    if len(counts) > 1:
        raise ReportError('the partial reports disagree on the number of slices: %s' % sorted(counts))
    if counts:
        count = counts.pop()
        numbers = [r['partial'].get('slice') for r in reports]
        doubles = sorted(set(n for n in numbers if numbers.count(n) > 1 and n is not None))
        missing = sorted(set(range(1, count + 1)) - set(numbers))
        if doubles:
            raise ReportError('slice(s) %s given more than once' % ', '.join(str(n) for n in doubles))
        if missing:
            raise ReportError('slice(s) %s of %d missing' % (', '.join(str(n) for n in missing), count))
    recorded = [r['partial'].get('options') or {} for r in reports]
    if any(o != recorded[0] for o in recorded[1:]):
        raise ReportError('the partial reports were made with different report options')
    opts = dict(recorded[0])
    opts['parameters'] = dict((k, v) for k, v in (reports[0].get('parameters') or {}).items()
                              if k not in ('event_query', 'min_severity', 'repeat_threshold'))
    opts.update(options or {})
    summaries = []
    owner = {}
    for report in reports:
        for summary in summaries_of(report):
            if summary['name'] in owner:
                raise ReportError('host %s is in two partial reports (%s and %s)'
                                  % (summary['name'], owner[summary['name']], report['partial']['part']))
            owner[summary['name']] = report['partial']['part']
            summaries.append(summary)
    return build_from_summaries(summaries, opts, now=now)


# ------------------------------------------------------------------------------------------------
# outputs
# ------------------------------------------------------------------------------------------------

RENDERERS = {'json': render_json, 'markdown': render_markdown, 'html': render_html, 'prometheus': render_prometheus,
             'proposal': render_proposal}


def render(report, fmt):
    if fmt not in RENDERERS:
        raise ReportError('unknown report format %r (known: %s)' % (fmt, ', '.join(sorted(RENDERERS))))
    return RENDERERS[fmt](report)


MAX_STATS_HOSTS = 20


def stats(report, files=None):
    """The small summary published with set_stats for AWX workflows: counts and where the files are,
    never events; host lists capped."""
    s = report['summary']
    out = {
        'hosts_total': s['hosts_total'], 'hosts_ok': s['hosts_ok'], 'hosts_with_kills': s['hosts_with_kills'],
        'hosts_unreachable': s['hosts_unreachable'], 'hosts_failed': s['hosts_failed'],
        'unreachable_hosts': s['unreachable_hosts'][:MAX_STATS_HOSTS],
        'failed_hosts': s['failed_hosts'][:MAX_STATS_HOSTS],
        'events_total': s['events_total'], 'events_by_cause': s['events_by_cause'],
        'findings_total': s['findings_total'], 'findings_by_severity': s['findings_by_severity'],
        'worst_severity': s['worst_severity'], 'first_kill': s['first_kill'], 'last_kill': s['last_kill'],
        'userspace_kills_total': s.get('userspace_kills_total', 0),
        'top_findings': [{'id': f['id'], 'severity': f['severity'], 'title': f['title'][:200], 'hosts': f['hosts_count']}
                         for f in report['findings'][:5]],
        'partial': dict((k, v) for k, v in report['partial'].items() if k != 'options') if report.get('partial') else None,
    }
    if files is not None:
        out['report_files'] = dict(files)
    return out
