# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings of the fleet report (controller side, no Ansible import).

The rules look at one host at a time and make observations (rule, subject, severity, evidence,
events). ``fleet_findings()`` then makes ONE finding per problem, that is per rule and subject (the
cgroup, unit, process, sysctl or log source), whatever the number of hosts that show it: the hosts
(count, list, inventory groups), the worst severity, the first and last time, evidence from a few
hosts. Every rule is linear in the host's events, and the grouping is linear in the observations.
"""

from __future__ import annotations

import heapq

from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report_common import (
    SEVERITY_RANK, SSH_TRAP, as_int, epoch_iso, natural_key)

# Every rule a finding can come from, with the kind of its subject (one home: the Prometheus textfile
# and the docs derive from it).
RULES = {
    'cgroup_limit_repeated': 'cgroup',
    'repeated_kill_growing': 'process',
    'repeated_kill': 'process',
    'numa_policy_kill': 'host',
    'cpuset_kill': 'cgroup',
    'fragmentation': 'host',
    'system_memory_exhausted': 'host',
    'oom_panic': 'host',
    'no_killable_process': 'host',
    'critical_process_killed': 'process',
    'panic_on_oom': 'sysctl',
    'oom_dump_tasks_disabled': 'sysctl',
    'oom_kill_allocating_task': 'sysctl',
    'critical_unprotected': 'process',
    'session_inherits_protection': 'process',
    'kills_without_logs': 'host',
    'log_source_problem': 'source',
}

MAX_FINDING_EVENT_IDS = 20
MAX_EVIDENCE_HOSTS = 5
MAX_EVIDENCE_PER_HOST = 3


def _observation(rule, severity, host, subject, title, detail, recommendation, evidence=(), events=()):
    return {'rule': rule, 'severity': severity, 'host': host, 'subject': subject, 'title': title,
            'detail': detail, 'recommendation': recommendation, 'evidence': [str(e) for e in evidence],
            'events': list(events)}


# sshd is the one critical service whose protection is not advised (the ssh trap, SSH_TRAP): what it says instead
_SSHD_UNPROTECTED = (' An OpenSSH built with its Linux OOM adjustment sets its listener to -1000 when it starts: '
                     'this one was built without it, could not set it, or was set back afterwards.')
_SSHD_ADVICE = ('Do not give sshd a negative OOMScoreAdjust= or oom_score_adj: whatever its listener runs with, '
                'an OpenSSH without the Linux OOM adjustment gives to every SSH session and all it starts (the ssh '
                'trap, which is why the oomkit.linux.hardening role leaves sshd out). Run an sshd built with the '
                'adjustment (Debian, RHEL and EulerOS build it so): it sets its own listener to -1000 and gives '
                'sessions back the value it was started with.')
_PROTECT_ADVICE = ('Give it a negative OOMScoreAdjust= (oomkit.linux.systemd_oom, or the oomkit.linux.hardening role); '
                   'inside containers the process needs CAP_SYS_RESOURCE to go below 0.')


def _protection_advice(name):
    """What to do for a critical service the OOM killer may pick (or picked)."""
    return _SSHD_ADVICE if name == SSH_TRAP else _PROTECT_ADVICE


def _service_of(event):
    return event.get('task_memcg') or '', event.get('killed_comm') or event.get('invoker') or '?'


def _rss_kb(event):
    values = [event.get(k) for k in ('anon_rss_kb', 'file_rss_kb', 'shmem_rss_kb')]
    values = [v for v in values if isinstance(v, int)]
    return sum(values) if values else None


def _names(events, key='killed_comm'):
    return ', '.join(sorted(set(str(e.get(key)) for e in events)))


def _cgroup_rules(host, host_events, usage, opts):
    out = []
    threshold = opts['repeat_threshold']
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
                     _names(cg_events)))
        if sits:
            detail += ' Its usage still sits at the limit now, so the next kill is near.'
        out.append(_observation(
            'cgroup_limit_repeated', severity, host, cgroup, 'cgroup %s keeps hitting its memory limit' % cgroup, detail,
            'Size the limit to the workload (oomkit.linux.cgroup_memory, or MemoryMax= through '
            'oomkit.linux.systemd_oom for a systemd unit), or find out why the workload needs more; '
            'with cgroup v2 set memory.high below memory.max so the workload is throttled before it is killed.',
            evidence, cg_events))
    return out


def _service_rules(host, host_events, covered, opts):
    """The same service killed again and again, larger each time (leak?); plain repeats already explained
    by a cgroup finding are not repeated."""
    out = []
    by_service = {}
    for event in host_events:
        by_service.setdefault(_service_of(event), []).append(event)
    for (cgroup, comm), sv_events in sorted(by_service.items()):
        if len(sv_events) < opts['repeat_threshold']:
            continue
        sizes = [_rss_kb(e) for e in sv_events]
        known = [s for s in sizes if s is not None]
        growing = len(known) == len(sizes) and all(
            b * 100 > a * (100 + opts['leak_growth_percent']) for a, b in zip(known, known[1:]))
        where = ' in %s' % cgroup if cgroup else ''
        subject = comm + where
        evidence = ['%d kills of %s%s' % (len(sv_events), comm, where)]
        if known:
            evidence.append('resident memory at each kill (kB): %s' % ', '.join(str(s) for s in known[-12:]))
        if growing:
            out.append(_observation(
                'repeated_kill_growing', 'high', host, subject, '%s is killed again and again, larger each time' % subject,
                '%s%s was OOM-killed %d times and its resident memory grew from %skB to %skB between kills: '
                'a memory leak is likely.' % (comm, where, len(sv_events), known[0], known[-1]),
                'Look for a leak in %s (heap dumps, memory profiling), restart it on a schedule as a stop-gap, '
                'and give it a memory limit of its own so a leak kills only it.' % comm,
                evidence, sv_events))
        elif not all(id(e) in covered for e in sv_events):
            out.append(_observation(
                'repeated_kill', 'medium', host, subject, '%s is OOM-killed again and again' % subject,
                '%s%s was chosen as the OOM victim %d times.' % (comm, where, len(sv_events)),
                'Check whether %s needs more memory than it is given, and whether it is the right victim '
                '(oomkit.linux.oom_score_adj / OOMScoreAdjust=).' % comm,
                evidence, sv_events))
    return out


def _cause_rules(host, host_events, opts):
    out = []
    by_cause = {}
    for event in host_events:
        by_cause.setdefault(event.get('cause'), []).append(event)
    numa = by_cause.get('numa_node_or_policy')
    if numa:
        nodes = sorted(set(str(e.get('nodemask')) for e in numa if e.get('nodemask')))
        out.append(_observation(
            'numa_policy_kill', 'medium', host, 'NUMA memory policy', 'OOM kills constrained by a NUMA memory policy',
            '%d kill(s): the allocations were bound to NUMA node(s) %s by a memory policy (numactl --membind, '
            'set_mempolicy, mbind); a kill happened while other nodes may still have had free memory.'
            % (len(numa), ', '.join(nodes) or '?'),
            'Review the memory binding of the workload (numactl, the service\'s NUMAPolicy=/NUMAMask=), prefer '
            '--preferred or interleave over --membind, or give the bound node(s) more memory.',
            ['constraint=CONSTRAINT_MEMORY_POLICY, nodemask=%s' % (e.get('nodemask')) for e in numa][:5], numa))
    by_cpuset = {}
    for event in by_cause.get('cpuset') or []:
        by_cpuset.setdefault(str(event.get('cpuset') or '(unknown cpuset)'), []).append(event)
    for cpuset, events in sorted(by_cpuset.items()):
        out.append(_observation(
            'cpuset_kill', 'medium', host, cpuset, 'OOM kills constrained by cpuset %s' % cpuset,
            '%d kill(s): the cpuset of the allocating task allows only some memory nodes and those ran out.' % len(events),
            'Check cpuset.mems of the workload\'s cgroup, or widen it.',
            ['cpuset=%s mems_allowed=%s' % (e.get('cpuset'), e.get('mems_allowed')) for e in events][:5], events))
    frag = by_cause.get('fragmentation')
    if frag:
        orders = sorted(set(e.get('order') for e in frag if isinstance(e.get('order'), int)))
        out.append(_observation(
            'fragmentation', 'medium', host, 'high-order allocations', 'OOM kills on high-order allocations (fragmentation)',
            '%d kill(s): the failed allocations asked for order %s blocks (%s contiguous pages): memory was fragmented, '
            'not necessarily exhausted.' % (len(frag), '/'.join(str(o) for o in orders),
                                            '/'.join(str(2 ** o) for o in orders)),
            'Raise vm.min_free_kbytes moderately, enable proactive compaction (vm.compaction_proactiveness) or '
            'run echo 1 > /proc/sys/vm/compact_memory, and find the driver or service making high-order '
            'allocations (invokers: %s).' % _names(frag, 'invoker'),
            ['order=%s gfp=%s invoker=%s' % (e.get('order'), e.get('gfp_flags') or e.get('gfp_mask'), e.get('invoker'))
             for e in frag][:5], frag))
    system = by_cause.get('system_memory')
    if system:
        out.append(_observation(
            'system_memory_exhausted', 'high', host, 'system memory', 'system-wide OOM kills',
            '%d kill(s): the host as a whole ran out of memory (no cgroup limit was involved); victims: %s.'
            % (len(system), _names(system)),
            'Add memory or swap, lower the workload, or put memory limits on the big consumers so one of '
            'them is killed instead of a random process; see vm.overcommit_memory.',
            ['%s killed with %skB anon-rss' % (e.get('killed_comm'), e.get('anon_rss_kb')) for e in system][:5],
            system))
    panics = [e for e in host_events if e.get('panic')]
    if panics:
        out.append(_observation(
            'oom_panic', 'critical', host, 'kernel panic', 'the kernel panicked on OOM',
            'The host went down on an OOM (vm.panic_on_oom or no killable process).',
            'Set vm.panic_on_oom=0 unless a fail-over cluster depends on it (oomkit.linux.sysctl).',
            ['panic in the report of %s' % e['id'] for e in panics][:5], panics))
    stuck = [e for e in host_events if e.get('no_killable')]
    if stuck:
        out.append(_observation(
            'no_killable_process', 'critical', host, 'no killable process', 'OOM with no killable process',
            'The OOM killer found no process it was allowed to kill (everything at oom_score_adj -1000 '
            'or unkillable).', 'Do not give oom_score_adj -1000 to everything; leave expendable workloads killable.',
            ['no killable processes in %s' % e['id'] for e in stuck][:5], stuck))
    critical = set(opts['critical_processes'])
    by_name = {}
    for event in host_events:
        if event.get('killed_comm') in critical:
            by_name.setdefault(event['killed_comm'], []).append(event)
    for name, events in sorted(by_name.items()):
        out.append(_observation(
            'critical_process_killed', 'high', host, name, 'critical process %s was OOM-killed' % name,
            'The OOM killer chose %s, which the host needs to stay manageable (%d kill(s)).' % (name, len(events)),
            _protection_advice(name),
            ['%s killed (%s)' % (name, e['id']) for e in events][:5], events))
    return out


def _config_rules(record, kills_seen, opts):
    out = []
    host = record['name']
    sysctl = record.get('sysctl') or {}
    panic = as_int(sysctl.get('vm.panic_on_oom'))
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
        out.append(_observation(
            'panic_on_oom', severity, host, 'vm.panic_on_oom=%d' % panic, 'vm.panic_on_oom=%d' % panic, detail,
            'Set vm.panic_on_oom=0 (the EulerOS/HCE guidance; HCE before 2.0.2503 shipped 1) with '
            'oomkit.linux.sysctl or the oomkit.linux.hardening role, unless a fail-over cluster relies on the '
            'panic; then also set kernel.panic and kdump.',
            ['vm.panic_on_oom = %d' % panic] + (['container runtimes: %s' % ', '.join(record['container_runtimes'])]
                                                if record.get('container_runtimes') else [])))
    if as_int(sysctl.get('vm.oom_dump_tasks')) == 0:
        out.append(_observation(
            'oom_dump_tasks_disabled', 'medium', host, 'vm.oom_dump_tasks=0', 'vm.oom_dump_tasks=0 hides evidence',
            'OOM reports on this host carry no task table, so the memory of every process at the time of '
            'the kill is lost.', 'Set vm.oom_dump_tasks=1 (oomkit.linux.sysctl).', ['vm.oom_dump_tasks = 0']))
    allocating = as_int(sysctl.get('vm.oom_kill_allocating_task'))
    if allocating:
        out.append(_observation(
            'oom_kill_allocating_task', 'low', host, 'vm.oom_kill_allocating_task=%d' % allocating,
            'vm.oom_kill_allocating_task=%d' % allocating,
            'A system-wide OOM kills whichever task asked for memory last, not the biggest one, so the '
            'real consumer survives and OOMs repeat.', 'Set vm.oom_kill_allocating_task=0 (oomkit.linux.sysctl).',
            ['vm.oom_kill_allocating_task = %d' % allocating]))
    unprotected = {}
    for proc in record.get('critical_processes') or []:
        if isinstance(proc, dict) and as_int(proc.get('oom_score_adj'), 0) >= 0:
            unprotected.setdefault(str(proc.get('comm')), []).append(proc)
    for name, procs in sorted(unprotected.items()):
        out.append(_observation(
            'critical_unprotected', 'medium', host, name, 'critical service %s runs without OOM protection' % name,
            '%s runs with oom_score_adj 0 or more, so the OOM killer may pick it.%s' % (
                name, _SSHD_UNPROTECTED if name == SSH_TRAP else ''),
            _protection_advice(name),
            ['%s (pid %s) oom_score_adj=%s' % (p.get('comm'), p.get('pid'), p.get('oom_score_adj')) for p in procs][:10]))
    inherited = {}
    for proc in record.get('protected_sessions') or []:
        if isinstance(proc, dict) and as_int(proc.get('oom_score_adj'), 0) < 0:
            inherited.setdefault(str(proc.get('comm')), []).append(proc)
    for name, procs in sorted(inherited.items()):
        scores = sorted(set(as_int(p.get('oom_score_adj'), 0) for p in procs))
        out.append(_observation(
            'session_inherits_protection', 'high', host, name,
            'login sessions of %s inherit a negative oom_score_adj' % name,
            '%d session process(es) %s run with oom_score_adj %s: the service gives every connection the value it '
            'was started with, so everything started over it (users\' jobs, Ansible\'s own module runs) is '
            'shielded from the OOM killer, and a runaway job there makes the kernel kill other services first.'
            % (len(procs), name, ', '.join(str(v) for v in scores)),
            'Remove the negative OOMScoreAdjust= from the ssh unit (oomkit.linux.systemd_oom state=absent) and '
            'restart it: OpenSSH already sets its listener to -1000 by itself. The oomkit.linux.hardening role '
            'leaves sshd out of its protected services for this reason.',
            ['%s (pid %s, parent %s) oom_score_adj=%s' % (p.get('comm'), p.get('pid'), p.get('ppid'), p.get('oom_score_adj'))
             for p in procs][:10]))
    kills = as_int(record.get('vmstat_oom_kill'))
    incremental = any(s.get('incremental') for s in record.get('sources') or [])
    if kills and not kills_seen and not incremental and not (opts.get('parameters') or {}).get('since'):
        in_container = bool(record.get('in_container'))
        out.append(_observation(
            'kills_without_logs', 'info' if in_container else 'medium', host, '/proc/vmstat oom_kill',
            'the kernel counted OOM kills the logs do not show',
            '/proc/vmstat says the kernel OOM-killed %d process(es) since boot, but no kernel log source read '
            'had a report (rotated away, log filters, or a source that could not be read).%s' % (
                kills, ' This host is a container: the counter is the whole kernel\'s, kills in other '
                'containers included.' if in_container else ''),
            'Keep kernel messages longer (journald SystemMaxUse=, logrotate), and check the sources below.',
            ['/proc/vmstat oom_kill %d' % kills]
            + ['%s: %s' % (s.get('name'), s.get('status')) for s in record.get('sources') or []][:5]))
    for source in record.get('sources') or []:
        if source.get('status') in ('unreadable', 'failed', 'partial'):
            out.append(_observation(
                'log_source_problem', 'low', host, str(source.get('name')),
                'log source %s could not be read fully' % source.get('name'),
                'Events may be missing: %s (%s).' % (source.get('name'), source.get('status')),
                'Run the diagnosis with become=true, or point diagnosis_paths at readable copies.',
                ['; '.join(str(m) for m in source.get('messages') or []) or str(source.get('name'))]))
    return out


def host_observations(record, host_events, opts):
    """Every rule on one host: its record (a host summary) and its events (oldest first)."""
    # a finding never rests on unverified events (oom_facts' verified: false, a text-log line tagged
    # kernel that the kernel's own record lacks); they stay in the event list and the counts
    verified = [e for e in host_events if e.get('verified') is not False]
    found = _cgroup_rules(record['name'], verified, record.get('cgroup_usage') or {}, opts)
    covered = set(id(e) for f in found for e in f['events'])
    found += _service_rules(record['name'], verified, covered, opts)
    found += _cause_rules(record['name'], verified, opts)
    found += _config_rules(record, len(host_events), opts)
    return found


def _event_number(event):
    return int(event['id'][1:])


def fleet_findings(observations, groups_of, epoch_of, min_severity):
    """One finding per (rule, subject): hosts, groups, worst severity, first/last time, evidence.

    ``groups_of`` maps a host to its inventory groups, ``epoch_of`` an event to its epoch (or None)."""
    limit = SEVERITY_RANK[min_severity]
    problems = {}
    for obs in observations:
        if SEVERITY_RANK[obs['severity']] > limit:
            continue
        problems.setdefault((obs['rule'], obs['subject']), []).append(obs)
    findings = []
    for (rule, subject), seen in problems.items():
        # the observations come in natural host order (the report sorts the hosts once); a stable sort by
        # severity keeps that order within each severity
        hosts = list(dict.fromkeys(o['host'] for o in seen))
        seen.sort(key=lambda o: SEVERITY_RANK[o['severity']])
        worst = seen[0]
        groups = {}
        for host in hosts:
            for group in groups_of.get(host) or []:
                groups[group] = groups.get(group, 0) + 1
        events = {}
        for obs in seen:
            for event in obs['events']:
                events[event['id']] = event
        times = [t for t in (epoch_of(e) for e in events.values()) if t is not None]
        if len(hosts) == 1:
            evidence = list(worst['evidence'])
            title = worst['title']
            detail = worst['detail']
        else:
            evidence = []
            for obs in seen[:MAX_EVIDENCE_HOSTS]:
                evidence += ['%s: %s' % (obs['host'], line) for line in obs['evidence'][:MAX_EVIDENCE_PER_HOST]]
            if len(seen) > MAX_EVIDENCE_HOSTS:
                evidence.append('... and %d more host(s)' % (len(seen) - MAX_EVIDENCE_HOSTS))
            title = '%s, on %d hosts' % (worst['title'], len(hosts))
            detail = 'On %s (the worst of %d hosts): %s' % (worst['host'], len(hosts), worst['detail'])
        ids = ['E%d' % n for n in heapq.nsmallest(MAX_FINDING_EVENT_IDS, (int(i[1:]) for i in events))]
        findings.append({
            'rule': rule, 'severity': worst['severity'], 'subject': subject, 'subject_type': RULES[rule],
            'title': title, 'detail': detail, 'recommendation': worst['recommendation'], 'evidence': evidence,
            'hosts_count': len(hosts), 'hosts': hosts,
            'hosts_by_severity': dict((s, len([o for o in seen if o['severity'] == s]))
                                      for s in sorted(set(o['severity'] for o in seen), key=SEVERITY_RANK.get)),
            'groups': dict(sorted(groups.items())),
            'first': epoch_iso(min(times)) if times else None, 'last': epoch_iso(max(times)) if times else None,
            'events_count': len(events), 'event_ids': ids,
            '_host_severity': dict((o['host'], o['severity']) for o in seen),
        })
    findings.sort(key=lambda f: (SEVERITY_RANK[f['severity']], -f['hosts_count'], f['rule'], natural_key(f['subject'])))
    for index, finding in enumerate(findings, 1):
        finding['id'] = 'F%d' % index
    return findings
