# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hardening proposal of the diagnosis (controller side): the one place that turns what the diagnosis
saw into variables of the oomkit.linux.hardening role.

From each host's events (verified ones only, as the findings), its findings and the live state the
diagnosis already read (sysctls, memory cgroup version, MemTotal/MemAvailable, the live usage and limit
of the cgroups that hit OOM, the critical processes' oom_score_adj, container runtimes, systemd), every
item says what it proposes (a role variable and its value), why (evidence: event ids, figures, the
finding), and how sure it is (high, medium, low). Where the evidence is too weak, the proposal says why
nothing was proposed instead. Hosts with the same proposal are grouped, as findings are.

    proposal = build_proposal(records, events_by_host, findings, opts)
    proposal['hosts']   # {inventory host: {hardening_unit_limits: [...], ...}}: the role's own variables
    proposal['items']   # one per proposal across the fleet, with its hosts, evidence and confidence
    proposal['groups']  # hosts that share one whole proposal
    proposal['not_proposed']

What the values come from, each from its one home: the sysctl values are the hardening role's own
baseline (``hardening_sysctl_baseline`` default in roles/hardening/meta/argument_specs.yml), the openEuler
priority switch and its bounds the sysctl knob table (``sysctl.KNOBS``), the services the role protects
by default its ``hardening_protected_services`` default, sizes the size grammar (``sizes``); every host's
entry is then checked by the hardening role's own validation (``hardening_plan.host_query``), so a
proposal that the role would refuse is never written, and no proposed string can hold a template
(SAFE_TEXT), since proposal.yml and the AWX artifact become extra vars. The sizing rules (headroom, memory.high, the
room a raise needs) are this module's own facts.
"""

from __future__ import annotations

import functools
import json
import re

from ansible_collections.oomkit.linux.plugins.module_utils.sizes import format_size
from ansible_collections.oomkit.linux.plugins.module_utils.sysctl import KNOBS, QOS_SYSCTL
from ansible_collections.oomkit.linux.plugins.plugin_utils import hardening_plan, role_args
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report_common import SSH_TRAP, as_int, natural_key, unit_of

# --- the sizing rules (their home) -----------------------------------------------------------------
HEADROOM_PERCENT = 25        # a limit from observed peaks: the largest peak plus this much
HIGH_PERCENT = 90            # memory_high (cgroup v2) at this share of the proposed memory_max
ROOM_RESERVE_PERCENT = 10    # a raise must leave this share of MemTotal available on the host
MAX_SHARE_PERCENT = 90       # a limit at or above this share of MemTotal protects nothing: not proposed
ROUND_KB = 1024              # proposed sizes are whole MiB
MAX_ITEM_EVENT_IDS = 10

CONFIDENCES = ('high', 'medium', 'low')

# Every string of a proposed value (a unit, a cgroup path, a process name) comes from a log or the host, and
# proposal.yml and the AWX artifact become extra vars, which Ansible templates: a value that could hold a
# template ('{{', '{%'), a quote or a space is not proposed. Unit names and cgroup paths of real services fit.
SAFE_TEXT = re.compile(r'^[A-Za-z0-9_.:@/+-]+$')

# The variables a proposal entry may hold: the hardening role's list of what it accepts in hardening_proposal.
PROPOSAL_VARIABLES = hardening_plan.PROPOSAL_VARIABLES


def role_defaults():
    """The hardening role's defaults the proposal builds on, from its argument spec (their home)."""
    spec = role_args.load_spec('hardening')
    baseline = dict(spec['hardening_sysctl_baseline']['default'])
    protected = set()
    for item in spec['hardening_protected_services']['default']:
        if isinstance(item, dict):
            protected.update(str(v) for k, v in item.items() if k in ('unit', 'process') and v)
            if item.get('unit'):
                protected.add(str(item['unit']).rsplit('.', 1)[0])
        else:
            protected.add(str(item))
    return {'baseline': baseline, 'protected': protected}


def _kb_to_size(kb):
    kb = -(-int(kb) // ROUND_KB) * ROUND_KB
    return format_size(kb * 1024)


def _with_headroom(kb):
    return int(kb) * (100 + HEADROOM_PERCENT) // 100


def _rss_kb(event):
    values = [event.get(k) for k in ('anon_rss_kb', 'file_rss_kb', 'shmem_rss_kb')]
    values = [v for v in values if isinstance(v, int)]
    return sum(values) if values else None


def _ids(events):
    ids = [e['id'] for e in events if e.get('id')]
    return ids[:MAX_ITEM_EVENT_IDS] + (['... %d more' % (len(ids) - MAX_ITEM_EVENT_IDS)]
                                       if len(ids) > MAX_ITEM_EVENT_IDS else [])


def _mib(kb):
    return '%.0f MiB' % (kb / 1024.0) if kb is not None else '?'


def _unit_cgroup(path):
    """The systemd unit whose own cgroup ``path`` is (its last component), or None."""
    if not path or not isinstance(path, str):
        return None
    last = path.rstrip('/').rsplit('/', 1)[-1]
    return last if unit_of(last) == last else None


class _Host(object):
    """The proposal of one host while it is built."""

    def __init__(self, record, finding_ids):
        self.name = record['name']
        self.record = record
        self.finding_ids = finding_ids
        self.items = []
        self.not_proposed = []

    def finding(self, rule, subject):
        """The id of the report's finding (rule, subject) on this host; ``rule`` may be a (rule, subject) pair."""
        if isinstance(rule, tuple):
            rule, subject = rule
        return self.finding_ids.get((rule, subject)) if rule else None

    def propose(self, variable, value, subject, title, evidence, events, confidence, rule=None):
        finding = self.finding(rule, subject)
        self.items.append({'variable': variable, 'value': value, 'subject': subject, 'title': title,
                           'evidence': list(evidence), 'event_ids': _ids(events), 'confidence': confidence,
                           'finding': finding})

    def decline(self, subject, reason, events=(), rule=None):
        self.not_proposed.append({'subject': subject, 'reason': reason, 'event_ids': _ids(events),
                                  'finding': self.finding(rule, subject)})


# --- the rules -------------------------------------------------------------------------------------

def _protect(host, events, opts, defaults):
    record = host.record
    critical = set(opts['critical_processes'])
    live = {}
    for proc in record.get('critical_processes') or []:
        if isinstance(proc, dict) and proc.get('comm'):
            live.setdefault(str(proc['comm']), []).append(proc)
    killed = {}
    for event in events:
        if event.get('killed_comm') in critical:
            killed.setdefault(event['killed_comm'], []).append(event)
    unprotected = dict((name, procs) for name, procs in live.items()
                       if any(as_int(p.get('oom_score_adj'), 0) >= 0 for p in procs))
    systemd = record.get('systemd_running')
    for name in sorted(set(killed) | set(unprotected), key=natural_key):
        kills = killed.get(name) or []
        procs = live.get(name) or []
        rule = 'critical_process_killed' if kills else 'critical_unprotected'
        if name == SSH_TRAP:
            host.decline(name, 'sshd is left out on purpose: OpenSSH gives every SSH session the score its listener '
                               'started with, so protecting it protects every session and all they start (the ssh '
                               'trap, roles/hardening/README.md)', kills, rule)
            continue
        if name in defaults['protected']:
            host.decline(name, 'the hardening role protects %s by default (hardening_protected_services)' % name,
                         kills, rule)
            continue
        if procs and all(as_int(p.get('oom_score_adj'), 0) < 0 for p in procs):
            host.decline(name, '%s is protected now (oom_score_adj %s)' % (
                name, ', '.join(sorted(set(str(p.get('oom_score_adj')) for p in procs)))), kills, rule)
            continue
        if systemd is False and not procs:
            host.decline(name, '%s does not run here now, and without systemd the role sets only the live oom_score_adj '
                               'of running processes' % name, kills, rule)
            continue
        units = sorted(set(u for u in (unit_of(e.get('task_memcg')) for e in kills) if u and u.endswith('.service')))
        evidence = ['%s OOM-killed %d time(s) (%s)' % (name, len(kills), ', '.join(_ids(kills)))] if kills else []
        evidence += ['%s (pid %s) runs with oom_score_adj %s now' % (name, p.get('pid'), p.get('oom_score_adj'))
                     for p in procs[:3]]
        if len(units) == 1:
            evidence.append('its unit, from the cgroup of the killed task: %s' % units[0])
            host.propose('hardening_protected_services_extra', {'unit': units[0], 'process': name}, name,
                         'protect %s (%s) from the OOM killer' % (name, units[0]), evidence, kills,
                         'high' if kills else 'medium', rule)
        elif systemd is False and procs:
            host.propose('hardening_protected_services_extra', {'process': name}, name,
                         'protect %s from the OOM killer (live oom_score_adj: no systemd here)' % name, evidence,
                         kills, 'high' if kills else 'medium', rule)
        else:
            host.decline(name, 'the unit of %s is not known (%s): name it in hardening_protected_services_extra '
                               'yourself' % (name, 'several units: %s' % ', '.join(units) if units else
                                             'no event gave its cgroup, and the process scan does not say'),
                         kills, rule)


def _limit_entry(host, subject_path, unit, max_kb, v2):
    """The role variable and value that put a limit of ``max_kb`` on a unit or a cgroup."""
    high = _kb_to_size(max_kb * HIGH_PERCENT // 100) if v2 else None
    if unit and host.record.get('systemd_running') is not False:
        value = {'unit': unit, 'memory_max': _kb_to_size(max_kb)}
        if high:
            value['memory_high'] = high
        return 'hardening_unit_limits', value
    value = {'path': subject_path.strip('/'), 'max': _kb_to_size(max_kb)}
    if high:
        value['high'] = high
    return 'hardening_cgroups', value


def _live(record, path):
    entry = (record.get('cgroup_usage') or {}).get(path)
    return entry if isinstance(entry, dict) else None


def _limit_for_killers(host, events, opts, growing):
    """A limit for a unit or cgroup whose processes killed the host (system-wide OOM), or that grows
    before each kill: memory_max from the observed peaks with headroom."""
    record = host.record
    v2 = record.get('memory_cgroup_version') == 'v2'
    total = as_int(record.get('mem_total_kb'))
    by_cgroup = {}
    for event in events:
        path = event.get('task_memcg')
        if event.get('cause') == 'system_memory' and path and path != '/':
            by_cgroup.setdefault(path, {'system': [], 'growing': []})['system'].append(event)
    for path, grow_events in growing.items():
        by_cgroup.setdefault(path, {'system': [], 'growing': []})['growing'] = grow_events
    for path in sorted(by_cgroup, key=natural_key):
        system, grow = by_cgroup[path]['system'], by_cgroup[path]['growing']
        seen = list(dict((id(e), e) for e in system + grow).values())
        seen.sort(key=lambda e: int(e['id'][1:]) if e.get('id') else 0)
        unit = _unit_cgroup(path)
        subject = unit or path
        if grow and any(e.get('cause') in ('cgroup_limit', 'parent_cgroup_limit') for e in grow) and not system:
            continue  # killed at a limit it already has: the limit rule speaks for it
        peaks = [p for p in (_rss_kb(e) for e in seen) if p]
        if not peaks:
            host.decline(subject, 'no event gave the resident memory of the killed task: no peak to size a limit from',
                         seen)
            continue
        peak = max(peaks)
        max_kb = _with_headroom(peak)
        if total and max_kb * 100 >= total * MAX_SHARE_PERCENT:
            host.decline(subject, 'its peak (%s) plus %d%% headroom is %s, at least %d%% of the host\'s memory (%s): '
                                  'such a limit protects nothing; the host needs memory or the workload less'
                         % (_mib(peak), HEADROOM_PERCENT, _mib(max_kb), MAX_SHARE_PERCENT, _mib(total)), seen)
            continue
        live = _live(record, path)
        if live is None and (not unit or record.get('systemd_running') is False):
            host.decline(subject, 'the cgroup is not on the host now (nothing to limit)', seen)
            continue
        if live and live.get('limit_kb') and live['limit_kb'] <= max_kb:
            host.decline(subject, 'it has a limit of %s now, at or below the %s the peaks would give: nothing new'
                         % (_mib(live['limit_kb']), _mib(max_kb)), seen)
            continue
        variable, value = _limit_entry(host, path, unit, max_kb, v2)
        evidence = []
        if system:
            evidence.append('%d system-wide OOM kill(s) of its processes (%s)' % (len(system), ', '.join(_ids(system))))
        if grow:
            evidence.append('its resident memory grew before each kill: %s'
                            % ', '.join(_mib(p) for p in (_rss_kb(e) for e in grow) if p))
        evidence.append('largest resident memory at a kill: %s; limit = that + %d%% = %s%s'
                        % (_mib(peak), HEADROOM_PERCENT, value.get('memory_max') or value.get('max'),
                           ', memory.high at %d%% (cgroup v2)' % HIGH_PERCENT if v2 else ''))
        if total:
            evidence.append('host memory: %s' % _mib(total))
        confidence = 'high' if len(seen) >= opts['repeat_threshold'] else 'medium'
        if grow:
            comm = grow[-1].get('killed_comm') or grow[-1].get('invoker') or '?'
            finding = ('repeated_kill_growing', '%s in %s' % (comm, path))
        else:
            finding = ('system_memory_exhausted', 'system memory')
        host.propose(variable, value, subject, 'limit %s to %s so that it, not the host, runs out of memory'
                     % (subject, value.get('memory_max') or value.get('max')), evidence, seen, confidence, finding)


def _raise_limit(host, events, opts, growing):
    """A raised limit for a cgroup that keeps hitting its own limit while the host has room."""
    record = host.record
    v2 = record.get('memory_cgroup_version') == 'v2'
    total = as_int(record.get('mem_total_kb'))
    available = as_int(record.get('mem_available_kb'))
    by_cgroup = {}
    for event in events:
        if event.get('cause') in ('cgroup_limit', 'parent_cgroup_limit') and event.get('memcg'):
            by_cgroup.setdefault(event['memcg'], []).append(event)
    for path in sorted(by_cgroup, key=natural_key):
        kills = by_cgroup[path]
        unit = _unit_cgroup(path)
        subject = unit or path
        rule = ('cgroup_limit_repeated', path)
        if len(kills) < opts['repeat_threshold']:
            host.decline(subject, '%d kill at its limit: fewer than the %d that make a pattern (diagnosis_repeat_threshold)'
                         % (len(kills), opts['repeat_threshold']), kills)
            continue
        leak = [e for e in kills if id(e) in growing]
        if leak:
            host.decline(subject, 'its processes grew before each kill (a leak, finding repeated_kill_growing): a higher '
                                  'limit would only delay the next kill', kills, rule)
            continue
        limits = [e.get('memcg_limit_kb') for e in kills if isinstance(e.get('memcg_limit_kb'), int)]
        live = _live(record, path)
        if not limits:
            host.decline(subject, 'the reports do not give the limit it hit', kills, rule)
            continue
        limit = max(limits)
        new_kb = _with_headroom(limit)
        if live is None and (not unit or record.get('systemd_running') is False):
            host.decline(subject, 'the cgroup is not on the host now (nothing to raise)', kills, rule)
            continue
        if live and live.get('limit_kb') and live['limit_kb'] >= new_kb:
            host.decline(subject, 'its limit is %s now, at or above the %s proposed from the kills: nothing new'
                         % (_mib(live['limit_kb']), _mib(new_kb)), kills, rule)
            continue
        if available is None or total is None:
            host.decline(subject, 'the host\'s free memory is not known (MemAvailable): no raise without it', kills, rule)
            continue
        needed = new_kb - limit
        if available - needed < total * ROOM_RESERVE_PERCENT // 100:
            host.decline(subject, 'the host has no room: %s available of %s, and the raise by %s would leave less than '
                                  '%d%% of its memory' % (_mib(available), _mib(total), _mib(needed),
                                                          ROOM_RESERVE_PERCENT), kills, rule)
            continue
        variable, value = _limit_entry(host, path, unit, new_kb, v2)
        evidence = ['%d kills at its own limit of %s (%s)' % (len(kills), _mib(limit), ', '.join(_ids(kills))),
                    'the host has room: %s available of %s now; the raise takes %s' % (
                        _mib(available), _mib(total), _mib(needed))]
        if live:
            evidence.append('live: usage %s of a limit of %s' % (_mib(live.get('usage_kb')), _mib(live.get('limit_kb'))))
        else:
            evidence.append('live limit not known (the cgroup was not there when the host was read)')
        evidence.append('new limit = %s + %d%% = %s%s' % (_mib(limit), HEADROOM_PERCENT,
                                                          value.get('memory_max') or value.get('max'),
                                                          ', memory.high at %d%%' % HIGH_PERCENT if v2 else ''))
        confidence = 'high' if live and len(kills) >= 2 * opts['repeat_threshold'] else 'medium' if live else 'low'
        host.propose(variable, value, subject, 'raise the limit of %s from %s to %s' % (
            subject, _mib(limit), value.get('memory_max') or value.get('max')), evidence, kills, confidence, rule)


def _sysctls(host, events, defaults):
    record = host.record
    sysctl = record.get('sysctl') or {}
    baseline = defaults['baseline']
    in_container = bool(record.get('in_container'))
    dump = as_int(sysctl.get('vm.oom_dump_tasks'))
    wanted_dump = as_int(baseline.get('vm.oom_dump_tasks'))
    panic = as_int(sysctl.get('vm.panic_on_oom'))
    wanted_panic = as_int(baseline.get('vm.panic_on_oom'))
    if dump is not None and wanted_dump is not None and dump != wanted_dump:
        if in_container:
            host.decline('vm.oom_dump_tasks', 'this host is a container: vm.* sysctls are its kernel\'s; set '
                                              'vm.oom_dump_tasks=%d on the host that runs it' % wanted_dump, events)
        else:
            evidence = ['vm.oom_dump_tasks = %d now' % dump]
            if events:
                evidence.append('%d OOM report(s) here without the task table (%s)' % (len(events), ', '.join(_ids(events))))
            host.propose('hardening_sysctl_extra', {'vm.oom_dump_tasks': wanted_dump}, 'vm.oom_dump_tasks',
                         'print the task table with every OOM report (vm.oom_dump_tasks=%d)' % wanted_dump, evidence,
                         events, 'high' if events else 'medium', ('oom_dump_tasks_disabled', 'vm.oom_dump_tasks=%d' % dump))
    if panic is not None and wanted_panic is not None and panic != wanted_panic:
        subject = 'vm.panic_on_oom=%d' % panic
        if in_container:
            host.decline(subject, 'this host is a container: vm.panic_on_oom is its kernel\'s; set it on the host')
        elif record.get('runs_containers'):
            host.propose('hardening_sysctl_extra', {'vm.panic_on_oom': wanted_panic}, 'vm.panic_on_oom',
                         'kill one process, not the host with all its containers (vm.panic_on_oom=%d)' % wanted_panic,
                         ['vm.panic_on_oom = %d now' % panic,
                          'container runtimes running: %s' % (', '.join(record.get('container_runtimes') or []) or '?')],
                         [e for e in events if e.get('panic')], 'high', ('panic_on_oom', subject))
        else:
            host.decline(subject, 'no container runtime runs here: a panic on OOM may be a fail-over choice '
                                  '(cluster, kdump); set hardening_sysctl_extra vm.panic_on_oom yourself if not',
                         [e for e in events if e.get('panic')], ('panic_on_oom', subject))


def _memcg_priority(host, events, opts):
    """openEuler's memcg OOM priority, where the kernel has it and a system-wide OOM took a critical process."""
    record = host.record
    critical = set(opts['critical_processes'])
    victims = [e for e in events if e.get('cause') == 'system_memory' and e.get('killed_comm') in critical]
    if not victims:
        return
    sysctl = record.get('sysctl') or {}
    if QOS_SYSCTL not in sysctl:
        host.decline(QOS_SYSCTL, 'a system-wide OOM killed %s, but this kernel has no %s (the openEuler/HCE memcg '
                                 'OOM priority)' % (', '.join(sorted(set(e['killed_comm'] for e in victims))), QOS_SYSCTL),
                     victims)
        return
    knob = KNOBS[QOS_SYSCTL]
    enable = 1
    if not knob.minimum <= enable <= knob.maximum:  # the knob table's bounds
        return
    if as_int(sysctl.get(QOS_SYSCTL)) == enable:
        host.decline(QOS_SYSCTL, '%s is %d already; which workloads are low priority (memory.qos_level -1 in '
                                 'hardening_cgroups) is for the operator to say' % (QOS_SYSCTL, enable), victims)
        return
    host.propose('hardening_memcg_qos_enable', enable, QOS_SYSCTL,
                 'turn on the memcg OOM priority (%s=%d) so that low-priority cgroups are killed first' % (
                     QOS_SYSCTL, enable),
                 ['a system-wide OOM killed critical process(es) %s (%s)' % (
                     ', '.join(sorted(set(e['killed_comm'] for e in victims))), ', '.join(_ids(victims))),
                  '%s = %s now; the kernel has the knob' % (QOS_SYSCTL, sysctl.get(QOS_SYSCTL)),
                  'no memory.qos_level proposed: mark the low-priority workloads yourself (hardening_cgroups qos_level -1)'],
                 victims, 'low')


def _growing(events, opts):
    """Events of services that grew before each kill (the repeated_kill_growing rule's test), by cgroup."""
    by_service = {}
    for event in events:
        by_service.setdefault((event.get('task_memcg') or '', event.get('killed_comm') or ''), []).append(event)
    out = {}
    for (cgroup, dummy), sv_events in by_service.items():
        if len(sv_events) < opts['repeat_threshold'] or not cgroup or cgroup == '/':
            continue
        sizes = [_rss_kb(e) for e in sv_events]
        if any(s is None for s in sizes):
            continue
        if all(b * 100 > a * (100 + opts['leak_growth_percent']) for a, b in zip(sizes, sizes[1:])):
            out.setdefault(cgroup, []).extend(sv_events)
    return out


# --- one host, the fleet ---------------------------------------------------------------------------

def _entry(items):
    """A host's role variables from its items (lists in item order; mappings merged)."""
    entry = {}
    for item in items:
        variable, value = item['variable'], item['value']
        if variable in ('hardening_sysctl_extra',):
            entry.setdefault(variable, {}).update(value)
        elif variable == 'hardening_memcg_qos_enable':
            entry[variable] = value
        else:
            entry.setdefault(variable, []).append(value)
    return entry


def _unsafe(value):
    """The first string in a proposed value that a proposal may not carry, or None."""
    texts = [value] if isinstance(value, str) else list(value.values()) if isinstance(value, dict) else []
    for text in texts:
        if isinstance(text, str) and not SAFE_TEXT.match(text):
            return text
    return None


def _role_refuses(entry):
    """The hardening role's own validation of an entry (no host needed): its message, or None."""
    return _role_refuses_text(_key(entry))


# Many hosts of a fleet get the same items (one service, one sysctl): the role's full validation runs
# once per distinct entry, not once per host.
@functools.lru_cache(maxsize=4096)
def _role_refuses_text(text):
    config = dict((k[len('hardening_'):], v) for k, v in json.loads(text).items())
    query = hardening_plan.host_query(config)  # the entry as the role's own values
    return query['msg'] if query.get('failed') else None


def host_proposal(record, events, opts, finding_ids=None, defaults=None):
    """One host's items and declined proposals; ``events`` are the host's report events (with ids)."""
    defaults = defaults or role_defaults()
    host = _Host(record, finding_ids or {})
    verified = [e for e in events if e.get('verified') is not False]
    growing = _growing(verified, opts)
    growing_ids = set(id(e) for evs in growing.values() for e in evs)
    _protect(host, verified, opts, defaults)
    _limit_for_killers(host, verified, opts, growing)
    _raise_limit(host, verified, opts, growing_ids)
    _sysctls(host, verified, defaults)
    _memcg_priority(host, verified, opts)
    # one proposal per role variable entry: a cgroup both limit rules name keeps the first (the larger)
    seen, items = set(), []
    for item in host.items:
        unsafe = _unsafe(item['value'])
        refused = None if unsafe else _role_refuses(_entry([item]))
        if unsafe or refused:
            if unsafe:
                reason = ('%r holds characters a proposal does not carry (a log is not trusted: only letters, digits '
                          'and _ . : @ / + -)' % unsafe)
            else:
                reason = 'the hardening role would refuse it: %s' % refused
            host.not_proposed.append({'subject': item['subject'], 'event_ids': item['event_ids'],
                                      'finding': item['finding'], 'reason': reason})
            continue
        key = (item['variable'], json.dumps(item['value'].get('unit') or item['value'].get('path') or item['value'],
                                            sort_keys=True) if isinstance(item['value'], dict) else item['value'])
        if item['variable'] == 'hardening_sysctl_extra':
            key = (item['variable'], tuple(sorted(item['value'])))
        if key in seen:
            continue
        seen.add(key)
        items.append(item)
    entry = _entry(items)
    refused = _role_refuses(entry) if entry else None
    if refused:  # items that pass alone but not together: nothing for this host, and why
        host.not_proposed += [{'subject': i['subject'], 'event_ids': i['event_ids'], 'finding': i['finding'],
                               'reason': 'the hardening role would refuse the host\'s proposal: %s' % refused}
                              for i in items]
        items, entry = [], {}
    return items, host.not_proposed, entry


def _key(value):
    return json.dumps(value, sort_keys=True, default=str)


def build_proposal(records, events_by_host, findings, opts):
    """The fleet's proposal (see the module docstring). ``records`` are the host summaries (status ok ones
    are looked at), ``events_by_host`` each host's report events, ``findings`` the report's findings."""
    finding_ids = {}
    for finding in findings:
        for host in finding['hosts']:
            finding_ids.setdefault(host, {})[(finding['rule'], finding['subject'])] = finding['id']
    defaults = role_defaults()
    grouped_items, grouped_declined, entries = {}, {}, {}
    for record in records:
        if record.get('status') != 'ok':
            continue
        name = record['name']
        items, declined, entry = host_proposal(record, events_by_host.get(name) or [], opts,
                                               finding_ids.get(name), defaults)
        if entry:
            entries[name] = entry
        for item in items:
            key = _key((item['variable'], item['value'], item['subject']))
            slot = grouped_items.setdefault(key, dict(item, hosts=[], evidence_by_host={}))
            slot['hosts'].append(name)
            slot['evidence_by_host'][name] = item['evidence']
            slot['event_ids'] = slot['event_ids'] if len(slot['hosts']) > 1 else item['event_ids']
            if CONFIDENCES.index(item['confidence']) > CONFIDENCES.index(slot['confidence']):
                slot['confidence'] = item['confidence']   # the weakest host's confidence
        for entry_declined in declined:
            key = _key((entry_declined['subject'], entry_declined['reason']))
            slot = grouped_declined.setdefault(key, dict(entry_declined, hosts=[]))
            slot['hosts'].append(name)
    items = []
    for slot in sorted(grouped_items.values(), key=lambda s: (-len(s['hosts']), s['variable'], natural_key(s['subject']))):
        by_host = slot.pop('evidence_by_host')
        if len(slot['hosts']) > 1:
            slot['evidence'] = ['%s: %s' % (h, line) for h in slot['hosts'][:5] for line in by_host[h][:3]]
            if len(slot['hosts']) > 5:
                slot['evidence'].append('... and %d more host(s)' % (len(slot['hosts']) - 5))
            slot['event_ids'] = []
        slot['hosts_count'] = len(slot['hosts'])
        items.append(slot)
    for index, item in enumerate(items, 1):
        item['id'] = 'P%d' % index
    groups = {}
    for name in sorted(entries, key=natural_key):
        groups.setdefault(_key(entries[name]), {'hosts': [], 'proposal': entries[name]})['hosts'].append(name)
    declined = sorted(grouped_declined.values(), key=lambda s: (-len(s['hosts']), natural_key(s['subject'])))
    for entry_declined in declined:
        entry_declined['hosts_count'] = len(entry_declined['hosts'])
    return {
        'hosts': dict((name, entries[name]) for name in sorted(entries, key=natural_key)),
        'items': items,
        'groups': sorted(groups.values(), key=lambda g: (-len(g['hosts']), natural_key(g['hosts'][0]))),
        'not_proposed': declined,
        'summary': {'hosts_with_proposal': len(entries), 'items': len(items), 'not_proposed': len(declined),
                    'items_by_confidence': dict((c, len([i for i in items if i['confidence'] == c])) for c in CONFIDENCES)},
    }


def proposal_file(proposal):
    """The content of proposal.yml's one variable (keyed by inventory host)."""
    return {'hardening_proposal': proposal['hosts']}
