# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: oom_report
short_description: Build the OOM fleet report (events, findings, summary) from per-host results
version_added: 1.0.0
author: oomkit maintainers (@oomkit)
description:
  - Combines the registered results of M(oomkit.linux.oom_facts) (and of the C(oomkit.linux.diagnosis) role's
    host probe) of every host of a play into one report with a stable, versioned schema
    (C(schema=oomkit.linux.diagnosis.report), C(schema_version=1)).
  - Hosts whose result says C(unreachable), and hosts that never ran the task, are listed as unreachable; failed
    ones as failed. Neither is an error.
  - The same kernel event seen by several hosts that share a kernel (containers) is counted once; its
    C(seen_on) lists every host.
  - Evaluates the findings rules (each with a severity, evidence and a recommendation) - a cgroup that keeps
    hitting its limit (worse when its live usage still sits at the limit), a process killed again and again
    and larger each time (leak?), C(vm.panic_on_oom) above 0 (critical on a host that runs containers),
    C(vm.oom_dump_tasks=0), C(vm.oom_kill_allocating_task), NUMA-policy and cpuset kills, fragmentation
    (order above 0), system-wide OOMs, OOM panics, critical services killed or not protected
    (oom_score_adj 0 or more), kills counted by the kernel that no log shows, unreadable log sources.
  - Runs on the controller. An event query needs the C(jmespath) Python library.
options:
  _input:
    description: The hosts of the play, in order (C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  oom_results:
    description: The registered M(oomkit.linux.oom_facts) result of each host, in the same order; V(null) for a host
      that did not run it.
    type: list
    elements: raw
    required: true
  probe_results:
    description: The registered probe result of each host, in the same order (optional).
    type: list
    elements: raw
  active_hosts:
    description: The hosts still active in the play (C(ansible_play_hosts)); a host missing from it with no result
      is reported unreachable.
    type: list
    elements: str
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
      - C(max_report_events) (default 1000) newest events kept in the report.
      - C(dedupe_shared_kernel) (default true) count an event seen by several hosts once.
      - C(title) the report title; C(parameters) a dict recorded as is in the report.
    type: dict
"""

EXAMPLES = r"""
- name: Build the fleet report once, on the controller
  ansible.builtin.set_fact:
    fleet_report: >-
      {{ ansible_play_hosts_all | oomkit.linux.oom_report(
           ansible_play_hosts_all | map('extract', hostvars) | map(attribute='oom_result', default=none) | list,
           active_hosts=ansible_play_hosts,
           options={'min_severity': 'medium', 'event_query': "[?cause!='unknown']"}) }}
  run_once: true
"""

RETURN = r"""
_value:
  description: The report.
  type: dict
  contains:
    schema:
      description: V(oomkit.linux.diagnosis.report).
      type: str
    schema_version:
      description: V(1); raised only on incompatible changes.
      type: int
    generated_at:
      description: UTC time of the report.
      type: str
    parameters:
      description: What the report was asked for (time window, sources, query, thresholds).
      type: dict
    summary:
      description: Counts (hosts_total, hosts_ok, hosts_unreachable, hosts_failed, hosts_with_kills, events_total,
        events_by_cause, events_by_host, events_shared_between_hosts, findings_total, findings_by_severity,
        worst_severity, first_kill, last_kill, unreachable_hosts, failed_hosts).
      type: dict
    hosts:
      description: One entry per host (name, status V(ok)/V(unreachable)/V(failed)/V(not_run), message, kernel, sysctl,
        events, last_kill, vmstat_oom_kill, runs_containers, container_runtimes, in_container, critical_processes,
        sources, cgroups_with_oom, findings).
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
      description: The fleet's OOM events, oldest first, each with the M(oomkit.linux.oom_facts) event fields plus
        C(id), C(inventory_host) and C(seen_on).
      type: list
      elements: dict
    events_truncated:
      description: Whether older events were left out (C(max_report_events)).
      type: bool
    findings:
      description: Findings, most severe first (id, rule, severity, host, title, detail, recommendation, evidence,
        event_ids).
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report import ReportError, build_report, to_plain


def oom_report(hosts, oom_results, probe_results=None, active_hosts=None, options=None):
    try:
        return build_report(to_plain(hosts), to_plain(oom_results), to_plain(probe_results),
                            to_plain(active_hosts) if active_hosts is not None else None, to_plain(options))
    except ReportError as err:
        raise AnsibleFilterError('oom_report: %s' % err)


class FilterModule(object):
    def filters(self):
        return {'oom_report': oom_report}
