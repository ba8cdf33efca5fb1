# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: oom_host_summary
short_description: One host's compact summary for the OOM fleet report
version_added: 1.1.0
author: oomkit maintainers (@oomkit)
description:
  - Cuts what one host sent back (the registered results of M(oomkit.linux.oom_facts) and
    M(oomkit.linux.oom_host_info)) down to what P(oomkit.linux.oom_report#filter) uses - the host's state, its OOM
    configuration, the newest O(max_events) events with only the fields the report reads, strings and evidence
    bounded in length.
  - Run it per host (a C(set_fact) without C(run_once)), so the task that builds the fleet report gathers small
    summaries instead of every host's full results.
  - An unreachable, failed or skipped result gives a summary that says so.
options:
  _input:
    description: The registered M(oomkit.linux.oom_facts) result of the host (V(null) or V({}) when it did not run).
    type: raw
    required: true
  name:
    description: The host's inventory name (C(inventory_hostname)).
    type: str
    required: true
  probe:
    description: The registered M(oomkit.linux.oom_host_info) result of the host (critical processes, container
      runtimes, live cgroup usage).
    type: raw
  groups:
    description: The host's inventory groups (C(group_names)).
    type: list
    elements: str
  max_events:
    description: The newest events kept; older ones are counted, not sent.
    type: int
    default: 200
  active:
    description: Whether the host is still active in the play; a host with no result that is not active is reported
      unreachable, one that is active as not run.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Summarise this host's OOM results for the fleet report
  ansible.builtin.set_fact:
    oom_summary: >-
      {{ oom_result | oomkit.linux.oom_host_summary(inventory_hostname, probe=probe_result,
                                                    groups=group_names, max_events=200) }}
"""

RETURN = r"""
_value:
  description: The host summary (name, groups, status, message, kernel, sysctl, events, events_total,
    events_not_sent, sources, critical_processes, protected_sessions, cgroup_usage and the other fields of a report host entry).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report_common import as_int
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report_hosts import host_summary


def oom_host_summary(result, name, probe=None, groups=None, max_events=200, active=True):
    if not isinstance(name, str) or not name:
        raise AnsibleFilterError('oom_host_summary needs the host name (inventory_hostname)')
    limit = as_int(max_events)
    if limit is None or limit < 0:
        raise AnsibleFilterError('oom_host_summary: max_events must be an integer of 0 or more, got %r' % (max_events,))
    if groups is not None and not isinstance(groups, (list, tuple)):
        raise AnsibleFilterError('oom_host_summary: groups must be a list (group_names)')
    return host_summary(str(name), result if isinstance(result, dict) else None, probe if isinstance(probe, dict) else None,
                        bool(active), [str(g) for g in groups or []], limit)


class FilterModule(object):
    def filters(self):
        return {'oom_host_summary': oom_host_summary}
