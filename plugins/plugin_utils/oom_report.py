# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet OOM report: findings rules, report assembly and rendering (controller side).

Pure Python, no Ansible import: the filter plugins in ``plugins/filter/`` are thin wrappers, and the
unit tests call these functions directly.

    report = build_report(hosts, oom_results, probe_results, active_hosts, options)
    render_json(report), render_markdown(report), render_html(report), render_prometheus(report)

``hosts`` is the play's host list (``ansible_play_hosts_all``), ``oom_results`` and ``probe_results``
the registered results of ``oomkit.linux.oom_facts`` and ``oomkit.linux.oom_host_info``, one per host in the
same order (``None`` where the host never ran the task). Every string that comes from a log or a
process name is attacker-controlled: the renderers escape it for their format.
"""

from __future__ import annotations

import datetime
import html
import json
import re

from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import EVENT_FIELDS as OOM_EVENT_FIELDS
from ansible_collections.oomkit.linux.plugins.module_utils.processes import COMM_LEN

SCHEMA = 'oomkit.linux.diagnosis.report'
SCHEMA_VERSION = 1

SEVERITIES = ('critical', 'high', 'medium', 'low', 'info')
SEVERITY_RANK = dict((s, i) for i, s in enumerate(SEVERITIES))

CAUSES = ('cgroup_limit', 'parent_cgroup_limit', 'system_memory', 'numa_node_or_policy', 'cpuset',
          'fragmentation', 'unknown')

CAUSE_TEXT = {
    'cgroup_limit': 'cgroup hit its own memory limit',
    'parent_cgroup_limit': 'a parent cgroup hit its memory limit',
    'system_memory': 'the whole system ran out of memory',
    'numa_node_or_policy': 'a NUMA node or memory policy ran out of memory',
    'cpuset': 'the memory nodes of a cpuset ran out',
    'fragmentation': 'no free block of the order asked for (fragmentation)',
    'unknown': 'not enough context in the log to tell',
}

CAUSE_COLOURS = {
    'cgroup_limit': '#1f77b4',
    'parent_cgroup_limit': '#17becf',
    'system_memory': '#d62728',
    'numa_node_or_policy': '#9467bd',
    'cpuset': '#8c564b',
    'fragmentation': '#ff7f0e',
    'unknown': '#7f7f7f',
}

MAX_TIMELINE_HOSTS = 40

DEFAULT_OPTIONS = {
    'repeat_threshold': 2,
    'leak_growth_percent': 5,
    'usage_at_limit_percent': 95,
    'critical_processes': ['sshd', 'systemd-journal', 'rsyslogd', 'syslog-ng'],
    'min_severity': 'info',
    'event_query': '',
    'max_report_events': 1000,
    'dedupe_shared_kernel': True,
    'title': 'OOM diagnosis report',
    'parameters': {},
}

# Event fields copied into the report: all of an oom_facts event but the kernel's extra tokens (the
# task table is not an event field either; both stay in the host's facts).
EVENT_FIELDS = tuple(field for field in OOM_EVENT_FIELDS if field != 'extra')


class ReportError(ValueError):
    """Bad input to the report functions (bad option, bad query)."""


# ------------------------------------------------------------------------------------------------
# small helpers
# ------------------------------------------------------------------------------------------------

def _as_int(value, default=None):
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


def _epoch(value):
    parsed = parse_time(value)
    return parsed.timestamp() if parsed else None


def _utc_iso(parsed):
    return parsed.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def merge_options(options=None):
    """Defaults plus the caller's options, validated."""
    merged = dict(DEFAULT_OPTIONS)
    for key, value in (options or {}).items():
        if key not in DEFAULT_OPTIONS:
            raise ReportError('unknown report option %r (known: %s)' % (key, ', '.join(sorted(DEFAULT_OPTIONS))))
        if value is not None:
            merged[key] = value
    for key in ('repeat_threshold', 'leak_growth_percent', 'usage_at_limit_percent', 'max_report_events'):
        number = _as_int(merged[key])
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
    return merged


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


# ------------------------------------------------------------------------------------------------
# hosts and events
# ------------------------------------------------------------------------------------------------

def _main_processes(entries):
    """The critical processes of the probe, one per service: a child with its parent's name (sshd forks one
    per login) is a session, not the service."""
    found = {}
    for selection in entries or []:
        for proc in (selection or {}).get('processes') or []:
            if isinstance(proc, dict) and proc.get('pid') is not None:
                found[proc['pid']] = proc
    result = []
    for pid in sorted(found):
        proc = found[pid]
        parent = found.get(proc.get('ppid'))
        if parent is not None and parent is not proc and parent.get('comm') == proc.get('comm'):
            continue
        result.append({'pid': pid, 'comm': proc.get('comm'), 'ppid': proc.get('ppid'),
                       'oom_score_adj': proc.get('oom_score_adj')})
    return result


def _probe_data(result):
    """The probe's data from the registered oomkit.linux.oom_host_info result."""
    if not isinstance(result, dict) or not result:
        return result
    if result.get('failed'):
        detail = [str(result.get(k)) for k in ('msg', 'module_stderr') if result.get(k)]
        return {'failed': True, 'msg': ': '.join(detail) or 'oom_host_info failed'}
    if result.get('skipped') or result.get('unreachable') or 'runtime_processes' not in result:
        return result
    cgroups = {}
    for path, entry in (result.get('cgroups') or {}).items():
        if isinstance(entry, dict) and entry.get('exists') and entry.get('usage_kb') is not None:
            cgroups[path] = {'usage_kb': entry.get('usage_kb'), 'limit_kb': entry.get('limit_kb')}
    return {
        'processes': _main_processes(result.get('processes')),
        'container_runtimes': sorted(result.get('runtime_processes') or []),
        'runs_containers': bool(result.get('runs_containers')),
        'in_container': bool((result.get('container') or {}).get('in_container')),
        'cgroups': cgroups,
    }


def _host_record(name, oom_result, probe_result, active):
    """One host's entry in the report, from the registered task results."""
    record = {'name': name, 'status': 'ok', 'message': None, 'kernel': None, 'events': 0,
              'events_total': 0, 'last_kill': None, 'vmstat_oom_kill': None, 'sysctl': {},
              'cgroup_version': None, 'runs_containers': None, 'container_runtimes': [],
              'in_container': None, 'critical_processes': [], 'sources': [], 'cgroups_with_oom': []}
    if not isinstance(oom_result, dict) or not oom_result or oom_result.get('skipped'):
        record['status'] = 'unreachable' if not active else 'not_run'
        record['message'] = ('host was unreachable or failed before the diagnosis ran' if not active
                             else 'oom_facts did not run on this host')
        return record, None
    if oom_result.get('unreachable'):
        record['status'] = 'unreachable'
        record['message'] = str(oom_result.get('msg') or 'unreachable')
        return record, None
    facts = (oom_result.get('ansible_facts') or {}).get('oom')
    if oom_result.get('failed') or not isinstance(facts, dict):
        record['status'] = 'failed'
        record['message'] = str(oom_result.get('msg') or 'oom_facts returned no facts')
        return record, None
    config = facts.get('config') or {}
    summary = facts.get('summary') or {}
    record['kernel'] = config.get('kernel')
    record['sysctl'] = dict(config.get('sysctl') or {})
    record['cgroup_version'] = config.get('cgroup_version')
    record['vmstat_oom_kill'] = config.get('vmstat_oom_kill')
    record['cgroups_with_oom'] = list(config.get('cgroups_with_oom') or [])
    record['events_total'] = _as_int(summary.get('total'), 0)
    record['sources'] = [dict((k, s.get(k)) for k in ('name', 'type', 'status', 'events', 'incremental', 'messages'))
                         for s in facts.get('sources') or [] if isinstance(s, dict)]
    probe_result = _probe_data(probe_result)
    if isinstance(probe_result, dict) and not probe_result.get('failed') and not probe_result.get('skipped') \
            and not probe_result.get('unreachable'):
        record['runs_containers'] = bool(probe_result.get('runs_containers'))
        record['container_runtimes'] = list(probe_result.get('container_runtimes') or [])
        record['in_container'] = probe_result.get('in_container')
        record['critical_processes'] = list(probe_result.get('processes') or [])
        record['cgroup_usage'] = dict(probe_result.get('cgroups') or {})
    elif isinstance(probe_result, dict) and probe_result.get('failed'):
        record['message'] = 'process probe failed: %s' % probe_result.get('msg')
    return record, list(facts.get('events') or [])


def _event_key(event):
    """What identifies one kernel event across hosts that share a kernel (containers)."""
    uptime = event.get('uptime')
    if uptime is None or event.get('killed_pid') is None:
        return None
    return (round(float(uptime), 6), event.get('killed_pid'), event.get('killed_comm'))


def _sort_key(event):
    epoch = _epoch(event.get('time'))
    return (0 if epoch is not None else 1, epoch or 0.0, event.get('inventory_host') or '',
            event.get('uptime') or 0.0)


def collect_events(records_events, dedupe=True):
    """Fleet event list: inventory_host added, shared-kernel duplicates merged (seen_on lists all)."""
    events = []
    seen = {}
    duplicates = 0
    for host, host_events in records_events:
        for raw in host_events:
            if not isinstance(raw, dict):
                continue
            event = dict((k, to_plain(raw.get(k))) for k in EVENT_FIELDS)
            event['inventory_host'] = host
            event['seen_on'] = [host]
            key = _event_key(event) if dedupe else None
            if key is not None and key in seen:
                first = seen[key]
                if host not in first['seen_on']:
                    first['seen_on'].append(host)
                duplicates += 1
                continue
            if key is not None:
                seen[key] = event
            events.append(event)
    events.sort(key=_sort_key)
    for index, event in enumerate(events, 1):
        event['id'] = 'E%d' % index
    return events, duplicates


# ------------------------------------------------------------------------------------------------
# findings
# ------------------------------------------------------------------------------------------------

def _finding(rule, severity, host, title, detail, recommendation, evidence=(), events=()):
    return {'rule': rule, 'severity': severity, 'host': host, 'title': title, 'detail': detail,
            'recommendation': recommendation, 'evidence': [str(e) for e in evidence],
            'event_ids': [e['id'] for e in events]}


def _service_of(event):
    cgroup = event.get('task_memcg') or ''
    return cgroup, event.get('killed_comm') or event.get('invoker') or '?'


def _rss_kb(event):
    values = [event.get(k) for k in ('anon_rss_kb', 'file_rss_kb', 'shmem_rss_kb')]
    values = [v for v in values if isinstance(v, int)]
    return sum(values) if values else None


def _rules_events(events, records, opts):
    findings = []
    threshold = opts['repeat_threshold']
    by_host = {}
    for event in events:
        by_host.setdefault(event['inventory_host'], []).append(event)

    for host, host_events in by_host.items():
        record = records.get(host) or {}
        usage = record.get('cgroup_usage') or {}

        # 1. one cgroup keeps hitting its limit
        by_cgroup = {}
        for event in host_events:
            if event.get('cause') in ('cgroup_limit', 'parent_cgroup_limit'):
                name = event.get('memcg') or event.get('task_memcg')
                if not name and event.get('memcg_limit_kb'):
                    name = '(cgroup with limit %skB)' % event['memcg_limit_kb']
                by_cgroup.setdefault(name or '(unknown cgroup)', []).append(event)
        for cgroup, cg_events in sorted(by_cgroup.items()):
            if len(cg_events) < threshold:
                continue
            last = cg_events[-1]
            evidence = ['%d kills at the limit of %s' % (len(cg_events), cgroup)]
            at_limit_log = [e for e in cg_events if e.get('memcg_usage_kb') and e.get('memcg_limit_kb')
                            and e['memcg_usage_kb'] * 100 >= e['memcg_limit_kb'] * opts['usage_at_limit_percent']]
            if at_limit_log:
                evidence.append('usage reached the limit at %d of them (last: usage %skB, limit %skB, failcnt %s)'
                                % (len(at_limit_log), last.get('memcg_usage_kb'), last.get('memcg_limit_kb'),
                                   last.get('failcnt')))
            live = usage.get(cgroup) if isinstance(usage, dict) else None
            sits = False
            if isinstance(live, dict) and live.get('usage_kb') is not None and live.get('limit_kb'):
                percent = live['usage_kb'] * 100.0 / live['limit_kb']
                evidence.append('live usage now %skB of %skB (%.0f%%)' % (live['usage_kb'], live['limit_kb'], percent))
                sits = percent >= opts['usage_at_limit_percent']
            severity = 'high' if sits or len(cg_events) >= 2 * threshold else 'medium'
            detail = ('%s OOM-killed in %s %d times; the victims were %s.'
                      % ('A process was' if len(cg_events) == 1 else 'Processes were', cgroup, len(cg_events),
                         ', '.join(sorted(set(str(e.get('killed_comm')) for e in cg_events)))))
            if sits:
                detail += ' Its usage still sits at the limit now, so the next kill is near.'
            findings.append(_finding(
                'cgroup_limit_repeated', severity, host, 'cgroup %s keeps hitting its memory limit' % cgroup, detail,
                'Size the limit to the workload (oomkit.linux.cgroup_memory, or MemoryMax= through '
                'oomkit.linux.systemd_oom for a systemd unit), or find out why the workload needs more; '
                'with cgroup v2 set memory.high below memory.max so the workload is throttled before it is killed.',
                evidence, cg_events))

        # 2. the same service killed again and again, larger each time (leak?); plain repeats already
        # explained by a cgroup finding above are not repeated
        covered = set(i for f in findings if f['host'] == host and f['rule'] == 'cgroup_limit_repeated'
                      for i in f['event_ids'])
        by_service = {}
        for event in host_events:
            by_service.setdefault(_service_of(event), []).append(event)
        for (cgroup, comm), sv_events in sorted(by_service.items()):
            if len(sv_events) < threshold:
                continue
            sizes = [_rss_kb(e) for e in sv_events]
            known = [s for s in sizes if s is not None]
            growing = len(known) == len(sizes) and all(
                b * 100 > a * (100 + opts['leak_growth_percent']) for a, b in zip(known, known[1:]))
            where = ' in %s' % cgroup if cgroup else ''
            evidence = ['%d kills of %s%s' % (len(sv_events), comm, where)]
            if known:
                evidence.append('resident memory at each kill (kB): %s' % ', '.join(str(s) for s in known))
            if growing:
                findings.append(_finding(
                    'repeated_kill_growing', 'high', host, '%s is killed again and again, larger each time' % comm,
                    '%s%s was OOM-killed %d times and its resident memory grew from %skB to %skB between kills: '
                    'a memory leak is likely.' % (comm, where, len(sv_events), known[0], known[-1]),
                    'Look for a leak in %s (heap dumps, memory profiling), restart it on a schedule as a stop-gap, '
                    'and give it a memory limit of its own so a leak kills only it.' % comm,
                    evidence, sv_events))
            elif not all(e['id'] in covered for e in sv_events):
                findings.append(_finding(
                    'repeated_kill', 'medium', host, '%s was OOM-killed %d times' % (comm, len(sv_events)),
                    '%s%s was chosen as the OOM victim %d times.' % (comm, where, len(sv_events)),
                    'Check whether %s needs more memory than it is given, and whether it is the right victim '
                    '(oomkit.linux.oom_score_adj / OOMScoreAdjust=).' % comm,
                    evidence, sv_events))

        # 3. per-cause rules
        numa = [e for e in host_events if e.get('cause') == 'numa_node_or_policy']
        if numa:
            nodes = sorted(set(str(e.get('nodemask')) for e in numa if e.get('nodemask')))
            findings.append(_finding(
                'numa_policy_kill', 'medium', host, '%d OOM kill(s) constrained by a NUMA memory policy' % len(numa),
                'The allocations were bound to NUMA node(s) %s by a memory policy (numactl --membind, '
                'set_mempolicy, mbind); a kill happened while other nodes may still have had free memory.'
                % (', '.join(nodes) or '?'),
                'Review the memory binding of the workload (numactl, the service\'s NUMAPolicy=/NUMAMask=), prefer '
                '--preferred or interleave over --membind, or give the bound node(s) more memory.',
                ['constraint=CONSTRAINT_MEMORY_POLICY, nodemask=%s' % (e.get('nodemask')) for e in numa][:5], numa))
        cpuset = [e for e in host_events if e.get('cause') == 'cpuset']
        if cpuset:
            findings.append(_finding(
                'cpuset_kill', 'medium', host, '%d OOM kill(s) constrained by a cpuset' % len(cpuset),
                'The cpuset of the allocating task allows only some memory nodes and those ran out.',
                'Check cpuset.mems of the workload\'s cgroup, or widen it.',
                ['cpuset=%s mems_allowed=%s' % (e.get('cpuset'), e.get('mems_allowed')) for e in cpuset][:5], cpuset))
        frag = [e for e in host_events if e.get('cause') == 'fragmentation']
        if frag:
            orders = sorted(set(e.get('order') for e in frag if isinstance(e.get('order'), int)))
            findings.append(_finding(
                'fragmentation', 'medium', host, '%d OOM kill(s) on high-order allocations (fragmentation)' % len(frag),
                'The failed allocations asked for order %s blocks (%s contiguous pages): memory was fragmented, '
                'not necessarily exhausted.' % ('/'.join(str(o) for o in orders), '/'.join(str(2 ** o) for o in orders)),
                'Raise vm.min_free_kbytes moderately, enable proactive compaction (vm.compaction_proactiveness) or '
                'run echo 1 > /proc/sys/vm/compact_memory, and find the driver or service making high-order '
                'allocations (invokers: %s).' % ', '.join(sorted(set(str(e.get('invoker')) for e in frag))),
                ['order=%s gfp=%s invoker=%s' % (e.get('order'), e.get('gfp_flags') or e.get('gfp_mask'), e.get('invoker'))
                 for e in frag][:5], frag))
        system = [e for e in host_events if e.get('cause') == 'system_memory']
        if system:
            findings.append(_finding(
                'system_memory_exhausted', 'high', host, '%d system-wide OOM kill(s)' % len(system),
                'The host as a whole ran out of memory (no cgroup limit was involved); victims: %s.'
                % ', '.join(sorted(set(str(e.get('killed_comm')) for e in system))),
                'Add memory or swap, lower the workload, or put memory limits on the big consumers so one of '
                'them is killed instead of a random process; see vm.overcommit_memory.',
                ['%s killed with %skB anon-rss' % (e.get('killed_comm'), e.get('anon_rss_kb')) for e in system][:5],
                system))
        panics = [e for e in host_events if e.get('panic')]
        if panics:
            findings.append(_finding(
                'oom_panic', 'critical', host, 'the kernel panicked on OOM', 'The host went down on an OOM '
                '(vm.panic_on_oom or no killable process).',
                'Set vm.panic_on_oom=0 unless a fail-over cluster depends on it (oomkit.linux.sysctl).',
                ['panic in the report of %s' % e['id'] for e in panics], panics))
        stuck = [e for e in host_events if e.get('no_killable')]
        if stuck:
            findings.append(_finding(
                'no_killable_process', 'critical', host, 'OOM with no killable process',
                'The OOM killer found no process it was allowed to kill (everything at oom_score_adj -1000 '
                'or unkillable).', 'Do not give oom_score_adj -1000 to everything; leave expendable workloads killable.',
                ['no killable processes in %s' % e['id'] for e in stuck], stuck))

        # 4. a protected/critical process was the victim
        critical = set(opts['critical_processes'])
        killed_critical = [e for e in host_events if e.get('killed_comm') in critical]
        if killed_critical:
            names = sorted(set(e['killed_comm'] for e in killed_critical))
            findings.append(_finding(
                'critical_process_killed', 'high', host, 'critical process(es) OOM-killed: %s' % ', '.join(names),
                'The OOM killer chose %s, which the host needs to stay manageable.' % ', '.join(names),
                'Protect them with OOMScoreAdjust= (oomkit.linux.systemd_oom, or the oomkit.linux.hardening role).',
                ['%s killed (%s)' % (e['killed_comm'], e['id']) for e in killed_critical], killed_critical))
    return findings


def _rules_config(records, events, opts):
    findings = []
    counts = {}
    for event in events:
        for host in event.get('seen_on') or [event['inventory_host']]:
            counts[host] = counts.get(host, 0) + 1
    for host, record in records.items():
        if record['status'] != 'ok':
            continue
        sysctl = record.get('sysctl') or {}
        panic = _as_int(sysctl.get('vm.panic_on_oom'))
        if panic:
            if record.get('runs_containers'):
                severity = 'critical' if panic == 2 else 'high'
                detail = ('vm.panic_on_oom=%d on a host that runs containers (%s): %s' % (
                    panic, ', '.join(record.get('container_runtimes') or []) or 'container runtime',
                    'any container that exceeds its memory limit panics the whole host' if panic == 2 else
                    'a system-wide OOM panics the host and takes every container down instead of killing one process'))
            else:
                severity = 'medium' if panic == 2 else 'low'
                effect = 'even a cgroup limit hit panics the host' if panic == 2 else 'a system-wide OOM panics the host'
                detail = 'vm.panic_on_oom=%d: %s' % (panic, effect)
            findings.append(_finding(
                'panic_on_oom', severity, host, 'vm.panic_on_oom=%d' % panic, detail,
                'Set vm.panic_on_oom=0 (the EulerOS/HCE guidance; HCE before 2.0.2503 shipped 1) with '
                'oomkit.linux.sysctl or the oomkit.linux.hardening role, unless a fail-over cluster relies on the '
                'panic; then also set kernel.panic and kdump.',
                ['vm.panic_on_oom = %d' % panic] + (['container runtimes: %s' % ', '.join(record['container_runtimes'])]
                                                    if record.get('container_runtimes') else [])))
        dump = _as_int(sysctl.get('vm.oom_dump_tasks'))
        if dump == 0:
            findings.append(_finding(
                'oom_dump_tasks_disabled', 'medium', host, 'vm.oom_dump_tasks=0 hides evidence',
                'OOM reports on this host carry no task table, so the memory of every process at the time of '
                'the kill is lost.', 'Set vm.oom_dump_tasks=1 (oomkit.linux.sysctl).', ['vm.oom_dump_tasks = 0']))
        allocating = _as_int(sysctl.get('vm.oom_kill_allocating_task'))
        if allocating:
            findings.append(_finding(
                'oom_kill_allocating_task', 'low', host, 'vm.oom_kill_allocating_task=%d' % allocating,
                'A system-wide OOM kills whichever task asked for memory last, not the biggest one, so the '
                'real consumer survives and OOMs repeat.', 'Set vm.oom_kill_allocating_task=0 (oomkit.linux.sysctl).',
                ['vm.oom_kill_allocating_task = %d' % allocating]))
        unprotected = [p for p in record.get('critical_processes') or []
                       if isinstance(p, dict) and _as_int(p.get('oom_score_adj'), 0) >= 0]
        if unprotected:
            names = sorted(set(str(p.get('comm')) for p in unprotected))
            findings.append(_finding(
                'critical_unprotected', 'medium', host, 'critical services without OOM protection: %s' % ', '.join(names),
                '%s run%s with oom_score_adj 0 or more, so the OOM killer may pick them.' % (
                    ', '.join(names), 's' if len(names) == 1 else ''),
                'Give them a negative OOMScoreAdjust= (oomkit.linux.systemd_oom, or the oomkit.linux.hardening role); '
                'inside containers the process needs CAP_SYS_RESOURCE to go below 0.',
                ['%s (pid %s) oom_score_adj=%s' % (p.get('comm'), p.get('pid'), p.get('oom_score_adj'))
                 for p in unprotected][:10]))
        kills = _as_int(record.get('vmstat_oom_kill'))
        incremental = any(s.get('incremental') for s in record.get('sources') or [])
        if kills and not counts.get(host) and not incremental and not opts['parameters'].get('since'):
            in_container = bool(record.get('in_container'))
            findings.append(_finding(
                'kills_without_logs', 'info' if in_container else 'medium', host,
                'the kernel counted %d OOM kill(s) the logs do not show' % kills,
                '/proc/vmstat says the kernel OOM-killed %d process(es) since boot, but no kernel log source read '
                'had a report (rotated away, log filters, or a source that could not be read).%s' % (
                    kills, ' This host is a container: the counter is the whole kernel\'s, kills in other '
                    'containers included.' if in_container else ''),
                'Keep kernel messages longer (journald SystemMaxUse=, logrotate), and check the sources below.',
                ['/proc/vmstat oom_kill %d' % kills]
                + ['%s: %s' % (s.get('name'), s.get('status')) for s in record.get('sources') or []][:5]))
        bad = [s for s in record.get('sources') or [] if s.get('status') in ('unreadable', 'failed', 'partial')]
        if bad:
            findings.append(_finding(
                'log_source_problem', 'low', host, 'some log sources could not be read fully',
                'Events may be missing: %s.' % ', '.join('%s (%s)' % (s.get('name'), s.get('status')) for s in bad),
                'Run the diagnosis with become=true, or point diagnosis_paths at readable copies.',
                ['; '.join(str(m) for m in s.get('messages') or []) or str(s.get('name')) for s in bad][:5]))
    return findings


def evaluate_findings(records, events, opts):
    """All findings, most severe first, filtered by min_severity, numbered F1..Fn."""
    findings = _rules_events(events, records, opts) + _rules_config(records, events, opts)
    limit = SEVERITY_RANK[opts['min_severity']]
    findings = [f for f in findings if SEVERITY_RANK[f['severity']] <= limit]
    findings.sort(key=lambda f: (SEVERITY_RANK[f['severity']], f['host'], f['rule'], f['title']))
    for index, finding in enumerate(findings, 1):
        finding['id'] = 'F%d' % index
    return findings


# ------------------------------------------------------------------------------------------------
# the report
# ------------------------------------------------------------------------------------------------

def build_report(hosts, oom_results, probe_results=None, active_hosts=None, options=None, now=None):
    """The fleet report dict (schema SCHEMA, version SCHEMA_VERSION)."""
    opts = merge_options(options)
    hosts = [str(h) for h in (hosts or [])]
    oom_results = list(oom_results or [])
    probe_results = list(probe_results or [])
    if len(oom_results) != len(hosts):
        raise ReportError('oom_results has %d entries for %d hosts' % (len(oom_results), len(hosts)))
    probe_results += [None] * (len(hosts) - len(probe_results))
    active = set(str(h) for h in active_hosts) if active_hosts is not None else set(hosts)
    records = {}
    order = []
    per_host_events = []
    for name, oom_result, probe_result in zip(hosts, oom_results, probe_results):
        if name in records:
            continue
        record, host_events = _host_record(name, to_plain(oom_result), to_plain(probe_result), name in active)
        records[name] = record
        order.append(name)
        if host_events is not None:
            per_host_events.append((name, host_events))

    events, duplicates = collect_events(per_host_events, dedupe=bool(opts['dedupe_shared_kernel']))
    unfiltered = len(events)
    if opts['event_query']:
        selected = jmespath_search(events, opts['event_query'])
        if selected is None:
            selected = []
        if not isinstance(selected, list) or not all(isinstance(e, dict) and 'id' in e for e in selected):
            raise ReportError('diagnosis event query %r must return a list of events (for example '
                              "[?cause=='cgroup_limit']), it returned %s"
                              % (opts['event_query'], json.dumps(selected)[:200]))
        ids = set(e['id'] for e in selected)
        events = [e for e in events if e['id'] in ids]

    findings = evaluate_findings(records, events, opts)

    for record in records.values():
        mine = [e for e in events if record['name'] in e['seen_on']]
        record['events'] = len(mine)
        times = [e['time'] for e in mine if parse_time(e.get('time'))]
        record['last_kill'] = max(times, key=_epoch) if times else None
        record['findings'] = len([f for f in findings if f['host'] == record['name']])
        record.pop('cgroup_usage', None)

    by_cause = {}
    by_host = {}
    for event in events:
        by_cause[event['cause'] or 'unknown'] = by_cause.get(event['cause'] or 'unknown', 0) + 1
        by_host[event['inventory_host']] = by_host.get(event['inventory_host'], 0) + 1
    by_severity = dict((s, 0) for s in SEVERITIES)
    for finding in findings:
        by_severity[finding['severity']] += 1
    times = sorted((parse_time(e.get('time')) for e in events if parse_time(e.get('time'))))
    worst = next((s for s in SEVERITIES if by_severity[s]), None)
    host_list = [records[n] for n in order]
    now = now or datetime.datetime.now(datetime.timezone.utc)
    truncated = len(events) > opts['max_report_events']
    summary = {
        'hosts_total': len(host_list),
        'hosts_ok': len([h for h in host_list if h['status'] == 'ok']),
        'hosts_unreachable': len([h for h in host_list if h['status'] == 'unreachable']),
        'hosts_failed': len([h for h in host_list if h['status'] in ('failed', 'not_run')]),
        'hosts_with_kills': len([h for h in host_list if h['events']]),
        'events_total': len(events),
        'events_before_query': unfiltered,
        'events_shared_between_hosts': duplicates,
        'events_by_cause': dict(sorted(by_cause.items())),
        'events_by_host': dict(sorted(by_host.items())),
        'findings_total': len(findings),
        'findings_by_severity': by_severity,
        'worst_severity': worst,
        'first_kill': _utc_iso(times[0]) if times else None,
        'last_kill': _utc_iso(times[-1]) if times else None,
        'unreachable_hosts': [h['name'] for h in host_list if h['status'] == 'unreachable'],
        'failed_hosts': [h['name'] for h in host_list if h['status'] in ('failed', 'not_run')],
    }
    return {
        'schema': SCHEMA,
        'schema_version': SCHEMA_VERSION,
        'title': str(opts['title']),
        'generated_at': _utc_iso(now),
        'parameters': to_plain(dict(opts['parameters'] or {}, event_query=opts['event_query'] or None,
                                    min_severity=opts['min_severity'], repeat_threshold=opts['repeat_threshold'])),
        'summary': summary,
        'hosts': host_list,
        'unreachable_hosts': [{'name': h['name'], 'message': h['message']} for h in host_list
                              if h['status'] == 'unreachable'],
        'failed_hosts': [{'name': h['name'], 'message': h['message']} for h in host_list
                         if h['status'] in ('failed', 'not_run')],
        'events': events[-opts['max_report_events']:] if opts['max_report_events'] else [],
        'events_truncated': truncated,
        'findings': findings,
    }


# ------------------------------------------------------------------------------------------------
# renderers
# ------------------------------------------------------------------------------------------------

def render_json(report):
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=True) + '\n'


_MD_SPECIAL = re.compile(r'([\\`*_\[\]|~])')


def md(value):
    """Escape a value for a Markdown table cell / line: no HTML, no markup, no line breaks.

    < > & become entities (shown as the characters by every Markdown renderer, and harmless where the
    text is shown raw or passed through as HTML); Markdown punctuation gets a backslash.
    """
    if value is None:
        return '-'
    text = str(value).replace('\r', ' ').replace('\n', ' ')
    text = ''.join(c if c >= ' ' else ' ' for c in text)
    text = html.escape(text, quote=False)
    return _MD_SPECIAL.sub(r'\\\1', text)


def _where(event):
    """The hosts that saw an event, plus the host named in the log line when it is another one
    (a central syslog server holds many hosts' kernel messages)."""
    text = ', '.join(event['seen_on'])
    log_host = event.get('host')
    if log_host and log_host not in event['seen_on'] and log_host.split('.')[0] not in event['seen_on']:
        text += ' (log: %s)' % log_host
    return text


def _kill_line(event):
    return '%s %s (pid %s) on %s: %s' % (
        event.get('time') or ('uptime %ss' % event.get('uptime') if event.get('uptime') is not None else 'time unknown'),
        event.get('killed_comm'), event.get('killed_pid'), event.get('inventory_host'), event.get('cause'))


def render_markdown(report, max_events=20):
    s = report['summary']
    out = ['# %s' % md(report['title']), '',
           'Generated %s by oomkit.linux.diagnosis (schema %s v%s).' % (
               report['generated_at'], report['schema'], report['schema_version']), '',
           '**%d OOM kill(s)** on %d of %d host(s); **%d finding(s)**%s. Hosts: %d ok, %d unreachable, %d failed.'
           % (s['events_total'], s['hosts_with_kills'], s['hosts_total'], s['findings_total'],
              ' (worst: %s)' % s['worst_severity'] if s['worst_severity'] else '',
              s['hosts_ok'], s['hosts_unreachable'], s['hosts_failed']), '']
    if s['events_by_cause']:
        out.append('Kills by cause: ' + ', '.join('%s %d' % (md(k), v) for k, v in s['events_by_cause'].items()) + '.')
        out.append('')
    if report['findings']:
        out += ['## Findings', '', '| id | severity | host | finding | recommendation |', '|---|---|---|---|---|']
        for f in report['findings']:
            out.append('| %s | %s | %s | %s | %s |' % (
                f['id'], f['severity'], md(f['host']), md(f['title']), md(f['recommendation'])))
        out.append('')
    if report['events']:
        shown = report['events'][-max_events:]
        out += ['## Kills%s' % (' (newest %d of %d)' % (len(shown), len(report['events']))
                                if len(shown) < len(report['events']) else ''), '',
                '| id | time | host | killed | pid | cause | cgroup | anon-rss kB |', '|---|---|---|---|---|---|---|---|']
        for e in shown:
            when = e.get('time') or ('uptime %s' % e.get('uptime') if e.get('uptime') is not None else None)
            out.append('| %s | %s | %s | %s | %s | %s | %s | %s |' % (
                e['id'], md(when), md(_where(e)), md(e.get('killed_comm')), md(e.get('killed_pid')),
                md(e.get('cause')), md(e.get('memcg') or e.get('task_memcg')), md(e.get('anon_rss_kb'))))
        out.append('')
    if report['unreachable_hosts'] or report['failed_hosts']:
        out += ['## Hosts not diagnosed', '']
        for h in report['unreachable_hosts']:
            out.append('- %s: unreachable (%s)' % (md(h['name']), md(h['message'])))
        for h in report['failed_hosts']:
            out.append('- %s: failed (%s)' % (md(h['name']), md(h['message'])))
        out.append('')
    return '\n'.join(out)


def h(value):
    """HTML-escape anything (None -> '-')."""
    return html.escape('-' if value is None else str(value), quote=True)


def _timeline_svg(report, width=900):
    """Inline SVG: one row per host, one mark per kill on a shared time axis, coloured by cause."""
    hosts = [x['name'] for x in report['hosts']]
    events = report['events']
    hidden = 0
    if len(hosts) > MAX_TIMELINE_HOSTS:
        # a big fleet: one row per host with a kill (the hosts table lists the others)
        with_kills = set(host for e in events for host in e['seen_on'])
        shown = [x for x in hosts if x in with_kills][:MAX_TIMELINE_HOSTS]
        hidden = len(hosts) - len(shown)
        hosts = shown
    dated = [(e, _epoch(e.get('time'))) for e in events]
    times = [t for _e, t in dated if t is not None]
    row, left, right, top = 28, 170, 70, 30
    height = top + row * max(len(hosts), 1) + 56
    plot = width - left - right
    parts = ['<svg id="timeline" xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="%d" '
             'viewBox="0 0 %d %d" aria-labelledby="timeline-title">' % (width, height, width, height),
             '<title id="timeline-title">OOM kills per host over time</title>',
             '<text x="%d" y="16" class="axis">kills</text>' % (width - right + 8)]
    start, end = (min(times), max(times)) if times else (0.0, 1.0)
    if end - start < 60:
        start, end = start - 30, end + 30

    def x_of(t):
        return left + (t - start) / (end - start) * plot

    for index, host in enumerate(hosts):
        y = top + index * row + row / 2.0
        parts.append('<text x="%d" y="%.1f" class="host" text-anchor="end">%s</text>' % (left - 8, y + 4, h(host)))
        parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="lane"/>' % (left, y, left + plot, y))
        mine = [(e, t) for e, t in dated if host in e['seen_on']]
        undated = 0
        for event, t in mine:
            if t is None:
                undated += 1
                continue
            parts.append('<circle class="kill" cx="%.1f" cy="%.1f" r="6" fill="%s"><title>%s</title></circle>' % (
                x_of(t), y, CAUSE_COLOURS.get(event.get('cause'), '#7f7f7f'), h(_kill_line(event))))
        label = str(len(mine)) + (' (%d undated)' % undated if undated else '')
        parts.append('<text x="%d" y="%.1f" class="count">%s</text>' % (left + plot + 8, y + 4, h(label)))
    axis_y = top + row * max(len(hosts), 1) + 14
    if hidden:
        parts.append('<text x="%d" y="%d" class="axis">%d host(s) without kills (or beyond %d rows) not drawn</text>'
                     % (left, axis_y + 24, hidden, MAX_TIMELINE_HOSTS))
    parts.append('<line x1="%d" y1="%d" x2="%d" y2="%d" class="axisline"/>' % (left, axis_y - 8, left + plot, axis_y - 8))
    if times:
        for fraction in (0.0, 0.5, 1.0):
            t = start + fraction * (end - start)
            stamp = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%d %H:%M')
            anchor = 'start' if fraction == 0 else ('end' if fraction == 1 else 'middle')
            parts.append('<text x="%.1f" y="%d" class="axis" text-anchor="%s">%s UTC</text>' % (
                x_of(t), axis_y + 8, anchor, h(stamp)))
    else:
        parts.append('<text x="%d" y="%d" class="axis">no kill with a wall-clock time</text>' % (left, axis_y + 8))
    parts.append('</svg>')
    return '\n'.join(parts)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;
vertical-align:top}th{background:#f4f4f4}code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.sev{font-weight:bold;padding:1px 6px;border-radius:3px;color:#fff}.sev-critical{background:#8b0000}
.sev-high{background:#d62728}.sev-medium{background:#e08a00}.sev-low{background:#4a7ab0}.sev-info{background:#777}
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:9em}
.card b{display:block;font-size:1.5em}svg text{font-size:12px;fill:#333}svg .lane{stroke:#e3e3e3}
svg .axisline{stroke:#999}svg .kill{stroke:#fff;stroke-width:1}.legend span{display:inline-block;margin-right:1em}
.legend i{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px}
.unreachable{color:#8b0000}ul.evidence{margin:0;padding-left:1.2em}
"""


def render_html(report):
    """Self-contained HTML page: no external asset, no script, every value escaped."""
    s = report['summary']
    out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
           # No script may run in this page, whatever a log line contains.
           '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
           'img-src data:">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<meta name="generator" content="oomkit.linux.diagnosis %s v%s">' % (
               h(report['schema']), h(report['schema_version'])),
           '<title>%s</title>' % h(report['title']), '<style>%s</style>' % _CSS, '</head>', '<body>',
           '<h1>%s</h1>' % h(report['title']),
           '<p>Generated %s. Schema <code>%s</code> version %s.</p>' % (
               h(report['generated_at']), h(report['schema']), h(report['schema_version'])),
           '<div class="cards" id="summary">']
    for label, value in (('hosts', s['hosts_total']), ('unreachable', s['hosts_unreachable']),
                         ('failed', s['hosts_failed']), ('OOM kills', s['events_total']),
                         ('findings', s['findings_total']), ('worst', s['worst_severity'] or 'none')):
        out.append('<div class="card"><b>%s</b>%s</div>' % (h(value), h(label)))
    out.append('</div>')

    out.append('<h2>Timeline of kills per host</h2>')
    out.append('<div class="legend">%s</div>' % ''.join(
        '<span><i style="background:%s"></i>%s</span>' % (CAUSE_COLOURS[c], h(c)) for c in CAUSES))
    out.append(_timeline_svg(report))

    out.append('<h2>Findings</h2>')
    if report['findings']:
        out.append('<table id="findings"><thead><tr><th>id</th><th>severity</th><th>host</th><th>finding</th>'
                   '<th>evidence</th><th>recommendation</th></tr></thead><tbody>')
        for f in report['findings']:
            out.append('<tr><td>%s</td><td><span class="sev sev-%s">%s</span></td><td>%s</td><td><b>%s</b><br>%s</td>'
                       '<td><ul class="evidence">%s</ul></td><td>%s</td></tr>' % (
                           h(f['id']), h(f['severity']), h(f['severity']), h(f['host']), h(f['title']), h(f['detail']),
                           ''.join('<li>%s</li>' % h(e) for e in f['evidence']), h(f['recommendation'])))
        out.append('</tbody></table>')
    else:
        out.append('<p>No finding.</p>')

    out.append('<h2>Hosts</h2>')
    out.append('<table id="hosts"><thead><tr><th>host</th><th>status</th><th>kernel</th><th>kills</th>'
               '<th>last kill</th><th>panic_on_oom</th><th>oom_dump_tasks</th><th>containers</th><th>note</th>'
               '</tr></thead><tbody>')
    for x in report['hosts']:
        sysctl = x.get('sysctl') or {}
        out.append('<tr class="%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
                   '<td>%s</td><td>%s</td></tr>' % (
                       'unreachable' if x['status'] != 'ok' else 'ok', h(x['name']), h(x['status']), h(x['kernel']),
                       h(x['events']), h(x['last_kill']), h(sysctl.get('vm.panic_on_oom')),
                       h(sysctl.get('vm.oom_dump_tasks')),
                       h(', '.join(x.get('container_runtimes') or []) or ('no' if x.get('runs_containers') is False else None)),
                       h(x.get('message'))))
    out.append('</tbody></table>')

    out.append('<h2>Kills</h2>')
    if report['events']:
        out.append('<table id="events"><thead><tr><th>id</th><th>time</th><th>host</th><th>killed</th><th>pid</th>'
                   '<th>cause</th><th>cgroup</th><th>anon-rss kB</th><th>invoker</th><th>evidence</th></tr></thead><tbody>')
        for e in report['events']:
            when = e.get('time') or ('uptime %s' % e.get('uptime') if e.get('uptime') is not None else None)
            out.append('<tr><td>%s</td><td>%s</td><td>%s</td><td class="mono">%s</td><td>%s</td><td>%s</td>'
                       '<td class="mono">%s</td><td>%s</td><td class="mono">%s</td><td><ul class="evidence">%s</ul></td></tr>'
                       % (h(e['id']), h(when), h(_where(e)), h(e.get('killed_comm')), h(e.get('killed_pid')),
                          h(e.get('cause')), h(e.get('memcg') or e.get('task_memcg')), h(e.get('anon_rss_kb')),
                          h(e.get('invoker')), ''.join('<li>%s</li>' % h(v) for v in e.get('evidence') or [])))
        out.append('</tbody></table>')
        if report.get('events_truncated'):
            out.append('<p>Only the newest %d kills are listed; report.json has the same limit.</p>' % len(report['events']))
    else:
        out.append('<p>No OOM kill found.</p>')

    if report['unreachable_hosts'] or report['failed_hosts']:
        out.append('<h2>Hosts not diagnosed</h2><ul id="not-diagnosed">')
        for x in report['unreachable_hosts']:
            out.append('<li class="unreachable">%s: unreachable (%s)</li>' % (h(x['name']), h(x['message'])))
        for x in report['failed_hosts']:
            out.append('<li class="unreachable">%s: failed (%s)</li>' % (h(x['name']), h(x['message'])))
        out.append('</ul>')
    out += ['</body>', '</html>', '']
    return '\n'.join(out)


def prom_label(value):
    """Escape a Prometheus label value (backslash, double quote, newline)."""
    return str('' if value is None else value).replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def render_prometheus(report):
    """Prometheus text exposition format, for node_exporter's textfile collector."""
    out = []

    def metric(name, kind, text, samples):
        out.append('# HELP %s %s' % (name, text))
        out.append('# TYPE %s %s' % (name, kind))
        for labels, value in samples:
            label_text = ','.join('%s="%s"' % (k, prom_label(v)) for k, v in labels)
            out.append('%s{%s} %s' % (name, label_text, value) if label_text else '%s %s' % (name, value))

    kills = {}
    last = {}
    for e in report['events']:
        for host in e['seen_on']:
            key = (host, e.get('cause') or 'unknown')
            kills[key] = kills.get(key, 0) + 1
            t = _epoch(e.get('time'))
            if t is not None and t > last.get(host, 0):
                last[host] = t
    metric('oomkit_oom_kills_total', 'gauge',
           'OOM kills found in the kernel logs read by the last diagnosis run, per host and cause.',
           [((('host', host), ('cause', cause)), n) for (host, cause), n in sorted(kills.items())])
    metric('oomkit_oom_last_kill_timestamp_seconds', 'gauge', 'Time of the newest OOM kill found, per host.',
           [((('host', host),), '%.3f' % t) for host, t in sorted(last.items())])
    findings = {}
    for f in report['findings']:
        key = (f['host'], f['severity'], f['rule'])
        findings[key] = findings.get(key, 0) + 1
    metric('oomkit_diagnosis_findings', 'gauge', 'Findings of the last diagnosis run, per host, severity and rule.',
           [((('host', host), ('severity', sev), ('rule', rule)), n) for (host, sev, rule), n in sorted(findings.items())])
    metric('oomkit_diagnosis_host_up', 'gauge', '1 when the host was diagnosed, 0 when unreachable or failed.',
           [((('host', x['name']), ('status', x['status'])), 1 if x['status'] == 'ok' else 0) for x in report['hosts']])
    metric('oomkit_vmstat_oom_kill', 'gauge', 'oom_kill from /proc/vmstat (kills since boot) per host.',
           [((('host', x['name']),), x['vmstat_oom_kill']) for x in report['hosts']
            if isinstance(x.get('vmstat_oom_kill'), int)])
    metric('oomkit_diagnosis_last_run_timestamp_seconds', 'gauge', 'When the report was generated.',
           [((), '%.3f' % _epoch(report['generated_at']))])
    return '\n'.join(out) + '\n'


RENDERERS = {'json': render_json, 'markdown': render_markdown, 'html': render_html, 'prometheus': render_prometheus}


def render(report, fmt):
    if fmt not in RENDERERS:
        raise ReportError('unknown report format %r (known: %s)' % (fmt, ', '.join(sorted(RENDERERS))))
    return RENDERERS[fmt](report)


def stats(report):
    """The small summary published with set_stats for AWX workflows."""
    s = report['summary']
    return {
        'oom_kills': s['events_total'],
        'oom_kills_by_cause': s['events_by_cause'],
        'oom_hosts_with_kills': s['hosts_with_kills'],
        'oom_hosts_unreachable': s['unreachable_hosts'],
        'oom_hosts_failed': s['failed_hosts'],
        'oom_findings': s['findings_total'],
        'oom_findings_by_severity': s['findings_by_severity'],
        'oom_worst_severity': s['worst_severity'],
        'oom_last_kill': s['last_kill'],
    }
