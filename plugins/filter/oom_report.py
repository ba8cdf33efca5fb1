# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: oom_report
short_description: Build the OOM fleet report (events, findings, fleet overview) from per-host results
version_added: 1.1.0
author: oomkit maintainers (@oomkit)
description:
  - Combines what every host of a play sent back into one report with a stable, versioned schema
    (C(schema=oomkit.linux.diagnosis.report), C(schema_version=2)). Each entry of O(oom_results) is either the
    registered result of M(oomkit.linux.oom_facts) or, as the C(oomkit.linux.diagnosis) role sends it, the host's
    compact summary made by P(oomkit.linux.oom_host_summary#filter) on the host's side of the play.
  - The cost is linear in hosts times events; memory is bounded by the summaries (at most C(max_host_events)
    events per host, only the fields the report uses).
  - Hosts whose result says C(unreachable), and hosts that never ran the task, are listed as unreachable; failed
    ones as failed. Neither is an error. Hosts are listed in natural name order (web2 before web10).
  - The same kernel event seen by several hosts that share a kernel (containers) is counted once; its
    C(seen_on) lists every host.
  - Findings are about the fleet, one per problem (rule and subject, for example a cgroup, a process or a
    sysctl) with the hosts that show it, their inventory groups, the worst severity, the first and last time
    and evidence. The rules - a cgroup that keeps hitting its limit (worse when its live usage still sits at the
    limit), a process killed again and again and larger each time (leak?), C(vm.panic_on_oom) above 0 (critical
    on a host that runs containers), C(vm.oom_dump_tasks=0), C(vm.oom_kill_allocating_task), NUMA-policy and
    cpuset kills, fragmentation (order above 0), system-wide OOMs, OOM panics, critical services killed or not
    protected (oom_score_adj 0 or more), kills counted by the kernel that no log shows, unreadable log sources.
  - The fleet overview has kills per cause per day, the most killed processes, units and cgroups, the hosts
    ranked by kills and a breakdown per inventory group.
  - With O(partial), the report of one AWX job slice, to be merged by P(oomkit.linux.oom_merge#filter) - every
    event kept, the event query left to the merge.
  - Runs on the controller. An event query needs the C(jmespath) Python library.
options:
  _input:
    description: The hosts of the play, in any order (C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  oom_results:
    description: For each host, in the same order, its registered M(oomkit.linux.oom_facts) result or its
      host summary; V(null) for a host that did not run it.
    type: list
    elements: raw
    required: true
  probe_results:
    description: The registered probe result of each host, in the same order (optional; not needed with summaries).
    type: list
    elements: raw
  active_hosts:
    description: The hosts still active in the play (C(ansible_play_hosts)); a host missing from it with no result
      is reported unreachable.
    type: list
    elements: str
  groups:
    description: The inventory groups of each host (host name to C(group_names)); not needed with summaries.
    type: dict
  partial:
    description:
      - Make the partial report of one slice. C(run) names the run the slices belong to, C(slice) is V(N/M) when
        known, C(part) names this part (for example the AWX job id).
    type: dict
  options:
    description:
      - Report options; unknown keys are an error.
      - C(repeat_threshold) (int, default 2) kills of the same cgroup or process that make a repeat finding.
      - C(leak_growth_percent) (int, default 5) growth of resident memory between kills that counts as growing.
      - C(usage_at_limit_percent) (int, default 95) live usage, in percent of the limit, that counts as at the limit.
      - C(critical_processes) (list, default sshd, systemd-journal, rsyslogd, syslog-ng) process names that must not
        be killed and should be protected.
      - C(min_severity) (default V(info)) drops less severe findings.
      - C(event_query) a JMESPath expression over the fleet's event list that keeps the events it returns, for
        example V([?cause=='cgroup_limit']). Findings are computed on the kept events.
      - C(max_report_events) (default 1000) newest events kept in the report (a partial report keeps all).
      - C(max_host_events) (default 200) newest events of a host used when O(oom_results) are raw results.
      - C(dedupe_shared_kernel) (default true) count an event seen by several hosts once.
      - C(title) the report title; C(parameters) a dict recorded as is in the report.
    type: dict
"""

EXAMPLES = r"""
- name: Build the fleet report once, on the controller, from the hosts' summaries
  ansible.builtin.set_fact:
    fleet_report: >-
      {{ ansible_play_hosts_all | oomkit.linux.oom_report(
           ansible_play_hosts_all | map('extract', hostvars) | map(attribute='oom_summary', default=none) | list,
           active_hosts=ansible_play_hosts,
           options={'min_severity': 'medium', 'event_query': "[?cause!='unknown']"}) }}
  run_once: true
"""

RETURN = r"""
_value:
  description: The report (roles/diagnosis/files/report.schema.json describes every field).
  type: dict
  contains:
    schema:
      description: V(oomkit.linux.diagnosis.report).
      type: str
    schema_version:
      description: V(2); raised only on incompatible changes.
      type: int
    generated_at:
      description: UTC time of the report.
      type: str
    partial:
      description: V(null) for a fleet report; for a slice's partial report its run, slice, slices, part and the
        report options the merge reuses.
      type: dict
    parameters:
      description: What the report was asked for (time window, sources, query, thresholds).
      type: dict
    summary:
      description: Counts (hosts_total, hosts_ok, hosts_unreachable, hosts_failed, hosts_with_kills, groups_total,
        events_total, events_before_query, events_shared_between_hosts, events_not_sent, events_by_cause,
        events_by_host, findings_total, findings_by_severity, worst_severity, first_kill, last_kill,
        unreachable_hosts, failed_hosts).
      type: dict
    fleet:
      description: The overview (kills_by_day, kills_undated, top_processes, top_units, top_cgroups, hosts_ranked,
        groups).
      type: dict
    hosts:
      description: One entry per host, natural name order (name, groups, status, message, kernel, sysctl, events,
        kills_by_cause, last_kill, vmstat_oom_kill, runs_containers, container_runtimes, in_container,
        critical_processes, protected_sessions, cgroup_usage, sources, cgroups_with_oom, findings - the id, rule and this host's
        severity of each finding that concerns it).
      type: list
      elements: dict
    unreachable_hosts:
      description: Hosts that could not be reached (name, message).
      type: list
      elements: dict
    failed_hosts:
      description: Hosts where the diagnosis failed (name, message).
      type: list
      elements: dict
    events:
      description: The fleet's OOM events, oldest first, each with the event fields the report uses plus
        C(id), C(inventory_host) and C(seen_on).
      type: list
      elements: dict
    events_truncated:
      description: Whether older events were left out (C(max_report_events)).
      type: bool
    findings:
      description: Findings, most severe and widest first (id, rule, severity, subject, subject_type, title, detail,
        recommendation, evidence, hosts_count, hosts, hosts_by_severity, groups, first, last, events_count,
        event_ids).
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report import (
    ReportError, build_report, partial_mark, to_plain)


def oom_report(hosts, oom_results, probe_results=None, active_hosts=None, options=None, groups=None, partial=None):
    try:
        mark = None
        if partial is not None:
            partial = to_plain(partial)
            if not isinstance(partial, dict):
                raise ReportError('partial must be a mapping (run, slice, part)')
            mark = partial_mark(partial.get('run'), partial.get('slice'), partial.get('part'))
        return build_report(to_plain(hosts), list(oom_results or []), list(probe_results or []),
                            to_plain(active_hosts) if active_hosts is not None else None, to_plain(options),
                            groups=to_plain(groups) if groups else None, partial=mark)
    except ReportError as err:
        raise AnsibleFilterError('oom_report: %s' % err)


class FilterModule(object):
    def filters(self):
        return {'oom_report': oom_report}
