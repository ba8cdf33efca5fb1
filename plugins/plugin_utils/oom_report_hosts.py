# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One host's compact summary for the fleet report (controller side, no Ansible import).

``host_summary()`` turns what a host sent back (the registered results of oomkit.linux.oom_facts and
oomkit.linux.oom_host_info) into the few fields the report uses: the host's state and configuration,
and at most ``max_events`` events (the newest), each cut down to REPORT_EVENT_FIELDS with bounded
strings and evidence. The diagnosis role makes this summary per host (a filter in a set_fact) before
the report task gathers the fleet on the controller, so the report's memory is bounded by these
summaries, not by the hosts' raw results.
"""

from __future__ import annotations

from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report_common import as_int

SUMMARY_MARK = 'oomkit_host_summary'
SUMMARY_VERSION = 1

# The event fields the report reads (rules, renderers, de-duplication). Each is an oom_facts event
# field (tests/unit check it against oom_log.EVENT_FIELDS); fields the parser may add later
# (OPTIONAL_EVENT_FIELDS) are copied when present.
REPORT_EVENT_FIELDS = (
    'source', 'time', 'uptime', 'host', 'invoker', 'gfp_mask', 'gfp_flags', 'order', 'constraint',
    'nodemask', 'cpuset', 'mems_allowed', 'killed_pid', 'killed_comm', 'anon_rss_kb', 'file_rss_kb',
    'shmem_rss_kb', 'memcg', 'task_memcg', 'memcg_usage_kb', 'memcg_limit_kb', 'failcnt', 'cause',
    'confidence', 'evidence', 'panic', 'no_killable',
)
OPTIONAL_EVENT_FIELDS = ('verified',)
# The fields of a userspace killer's kill (oom_facts userspace_events) the report reads; each is one of
# oom_log.USERSPACE_FIELDS (a unit test checks it).
REPORT_USERSPACE_FIELDS = ('source', 'time', 'host', 'killer', 'victim_pid', 'victim_comm', 'unit', 'cgroup',
                           'reason', 'signal')

MAX_TEXT = 1024         # characters of any string from a host (paths, names, messages)
MAX_EVIDENCE = 8        # evidence lines per event
MAX_EVIDENCE_TEXT = 300
MAX_LIST = 50           # sources, cgroups, processes per host
MAX_MESSAGES = 5

HOST_STATES = ('ok', 'unreachable', 'failed', 'not_run')


def _text(value, limit=MAX_TEXT):
    if value is None:
        return None
    text = value if type(value) is str else str(value)  # pylint: disable=unidiomatic-typecheck
    return text if len(text) <= limit else text[:limit - 1] + '\u2026'


def _scalar(value):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return _text(value)


def compact_event(raw):
    """The report's copy of one oom_facts event: REPORT_EVENT_FIELDS only, strings bounded, fields
    without a value left out (full_event puts them back for the events a report lists)."""
    event = {}
    for key in REPORT_EVENT_FIELDS:
        value = raw.get(key)
        if value is None or value is False:
            continue
        if key == 'evidence':
            if isinstance(value, list) and value:
                event[key] = [_text(v, MAX_EVIDENCE_TEXT) for v in value[:MAX_EVIDENCE]]
            continue
        event[key] = _scalar(value)
    for key in OPTIONAL_EVENT_FIELDS:
        if key in raw:
            event[key] = _scalar(raw.get(key))
    return event


def compact_userspace_event(raw):
    """The report's copy of one kill by a userspace OOM killer (systemd-oomd, earlyoom, nohang): every
    REPORT_USERSPACE_FIELDS key, strings bounded."""
    return dict((key, _scalar(raw.get(key))) for key in REPORT_USERSPACE_FIELDS)


_FULL_EVENT = dict.fromkeys(REPORT_EVENT_FIELDS)
_FULL_EVENT.update(panic=False, no_killable=False)


def full_event(event):
    """An event with every REPORT_EVENT_FIELDS key (null, false or [] where the host sent none)."""
    full = dict(_FULL_EVENT, evidence=[])
    full.update(event)
    return full


def _is_session(proc, parent):
    """A per-connection process of a service: a child with its parent's name (sshd forks one per login) or
    named after it with ``-session`` (OpenSSH 9.8 and later run ``sshd-session`` under the listener)."""
    if parent is None or parent is proc:
        return False
    comm, parent_comm = proc.get('comm'), parent.get('comm')
    return comm == parent_comm or (bool(parent_comm) and comm == '%s-session' % parent_comm)


def _split_processes(entries):
    """The critical processes of the probe split into the services (one main process per service) and
    their session processes, each as the report keeps them (pid, comm, ppid, oom_score_adj)."""
    found = {}
    for selection in entries or []:
        for proc in (selection or {}).get('processes') or []:
            if isinstance(proc, dict) and proc.get('pid') is not None:
                found[proc['pid']] = proc
    services, sessions = [], []
    for pid in sorted(found):
        proc = found[pid]
        kept = {'pid': as_int(pid), 'comm': _text(proc.get('comm')), 'ppid': as_int(proc.get('ppid')),
                'oom_score_adj': as_int(proc.get('oom_score_adj'))}
        (sessions if _is_session(proc, found.get(proc.get('ppid'))) else services).append(kept)
    return services[:MAX_LIST], sessions


def _protected_sessions(sessions):
    """The session processes that run with a negative oom_score_adj: OpenSSH gives each connection the
    value sshd was started with, so a negative OOMScoreAdjust= on the ssh unit shields every login and
    everything started from it (the ssh trap)."""
    return [p for p in sessions if as_int(p.get('oom_score_adj'), 0) < 0][:MAX_LIST]


def probe_data(result):
    """The probe's data from the registered oomkit.linux.oom_host_info result."""
    if not isinstance(result, dict) or not result:
        return result
    if result.get('failed'):
        detail = [str(result.get(k)) for k in ('msg', 'module_stderr') if result.get(k)]
        return {'failed': True, 'msg': _text(': '.join(detail) or 'oom_host_info failed')}
    if result.get('skipped') or result.get('unreachable') or 'runtime_processes' not in result:
        return result
    cgroups = {}
    for path, entry in sorted((result.get('cgroups') or {}).items())[:MAX_LIST]:
        if isinstance(entry, dict) and entry.get('exists') and entry.get('usage_kb') is not None:
            cgroups[_text(path)] = {'usage_kb': as_int(entry.get('usage_kb')), 'limit_kb': as_int(entry.get('limit_kb'))}
    services, sessions = _split_processes(result.get('processes'))
    return {
        'processes': services,
        'protected_sessions': _protected_sessions(sessions),
        'container_runtimes': sorted(_text(r) for r in result.get('runtime_processes') or [])[:MAX_LIST],
        'runs_containers': bool(result.get('runs_containers')),
        'in_container': bool((result.get('container') or {}).get('in_container')),
        'cgroups': cgroups,
        'systemd_running': (bool((result.get('systemd') or {}).get('running'))
                            if isinstance(result.get('systemd'), dict) else None),
    }


def empty_summary(name, groups=()):
    return {SUMMARY_MARK: SUMMARY_VERSION, 'name': str(name),
            'groups': sorted(set(str(g) for g in groups or [] if g not in ('all', 'ungrouped'))),
            'status': 'ok', 'message': None, 'kernel': None, 'sysctl': {}, 'cgroup_version': None,
            'memory_cgroup_version': None, 'mem_total_kb': None, 'mem_available_kb': None, 'systemd_running': None,
            'vmstat_oom_kill': None, 'cgroups_with_oom': [], 'events_total': 0, 'events_not_sent': 0,
            'sources': [], 'runs_containers': None, 'container_runtimes': [], 'in_container': None,
            'critical_processes': [], 'protected_sessions': [], 'cgroup_usage': {}, 'events': [],
            'userspace_total': 0, 'userspace_by_killer': {}, 'userspace_events': []}


def is_summary(value):
    return isinstance(value, dict) and value.get(SUMMARY_MARK) == SUMMARY_VERSION


def host_summary(name, oom_result, probe_result=None, active=True, groups=(), max_events=200):
    """A host's compact summary from its registered results (see the module docstring)."""
    record = empty_summary(name, groups)
    if not isinstance(oom_result, dict) or not oom_result or oom_result.get('skipped'):
        record['status'] = 'unreachable' if not active else 'not_run'
        record['message'] = ('host was unreachable or failed before the diagnosis ran' if not active
                             else 'oom_facts did not run on this host')
        return record
    if oom_result.get('unreachable'):
        record['status'] = 'unreachable'
        record['message'] = _text(oom_result.get('msg') or 'unreachable')
        return record
    facts = (oom_result.get('ansible_facts') or {}).get('oom')
    if oom_result.get('failed') or not isinstance(facts, dict):
        record['status'] = 'failed'
        record['message'] = _text(oom_result.get('msg') or 'oom_facts returned no facts')
        return record
    config = facts.get('config') or {}
    summary = facts.get('summary') or {}
    record['kernel'] = _text(config.get('kernel'))
    record['sysctl'] = dict((_text(k), _scalar(v)) for k, v in sorted((config.get('sysctl') or {}).items())[:MAX_LIST])
    record['cgroup_version'] = _text(config.get('cgroup_version'))
    record['memory_cgroup_version'] = _text(config.get('memory_cgroup_version'))
    record['mem_total_kb'] = as_int(config.get('mem_total_kb'))
    record['mem_available_kb'] = as_int(config.get('mem_available_kb'))
    record['vmstat_oom_kill'] = as_int(config.get('vmstat_oom_kill'))
    record['cgroups_with_oom'] = [dict((_text(k), _scalar(v)) for k, v in c.items()) if isinstance(c, dict) else _text(c)
                                  for c in (config.get('cgroups_with_oom') or [])[:MAX_LIST]]
    record['sources'] = [{'name': _text(s.get('name')), 'type': _text(s.get('type')), 'status': _text(s.get('status')),
                          'events': as_int(s.get('events')), 'incremental': bool(s.get('incremental')),
                          'messages': [_text(m, MAX_EVIDENCE_TEXT) for m in (s.get('messages') or [])[:MAX_MESSAGES]]}
                         for s in (facts.get('sources') or [])[:MAX_LIST] if isinstance(s, dict)]
    events = [e for e in facts.get('events') or [] if isinstance(e, dict)]
    limit = max(as_int(max_events, 200), 0)
    kept = events[-limit:] if limit else []
    record['events'] = [compact_event(e) for e in kept]
    record['events_total'] = max(as_int(summary.get('total'), 0), len(events))
    record['events_not_sent'] = len(events) - len(kept)
    # kills by userspace OOM killers: their own counts and list, never among the kernel's events
    userspace = [e for e in facts.get('userspace_events') or [] if isinstance(e, dict)]
    by_killer = {}
    for uev in userspace:
        killer = _text(uev.get('killer')) or 'unknown'
        by_killer[killer] = by_killer.get(killer, 0) + 1
    record['userspace_by_killer'] = dict(sorted(by_killer.items())[:MAX_LIST])
    record['userspace_events'] = [compact_userspace_event(e) for e in (userspace[-limit:] if limit else [])]
    record['userspace_total'] = max(as_int(summary.get('userspace_total'), 0), len(userspace))
    probe = probe_data(probe_result)
    if isinstance(probe, dict) and not probe.get('failed') and not probe.get('skipped') and not probe.get('unreachable') \
            and 'processes' in probe:
        record['runs_containers'] = bool(probe.get('runs_containers'))
        record['container_runtimes'] = list(probe.get('container_runtimes') or [])
        record['in_container'] = probe.get('in_container')
        record['critical_processes'] = list(probe.get('processes') or [])
        record['protected_sessions'] = list(probe.get('protected_sessions') or [])
        record['cgroup_usage'] = dict(probe.get('cgroups') or {})
        record['systemd_running'] = probe.get('systemd_running')
    elif isinstance(probe, dict) and probe.get('failed'):
        record['message'] = 'process probe failed: %s' % probe.get('msg')
    return record
