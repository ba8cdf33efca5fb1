# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: oom_stats
short_description: The small summary of an OOM fleet report, for set_stats
version_added: 1.1.0
author: oomkit maintainers (@oomkit)
description:
  - What the C(oomkit.linux.diagnosis) role publishes with C(set_stats) (AWX job artifacts, extra vars of the next
    workflow nodes) - host counts, kills by cause, findings by severity, the worst severity, first and last kill,
    the five most severe findings (id, severity, title, number of hosts), at most 20 unreachable and failed hosts,
    the partial report's run and part, and where the report files are.
  - Never events, never the host list, so it stays small at any fleet size.
options:
  _input:
    description: A report from P(oomkit.linux.oom_report#filter) or P(oomkit.linux.oom_merge#filter).
    type: dict
    required: true
  files:
    description: The report files written (format to path).
    type: dict
"""

EXAMPLES = r"""
- name: Publish the summary
  ansible.builtin.set_stats:
    data:
      oomkit_diagnosis: "{{ fleet_report | oomkit.linux.oom_stats({'json': '/var/tmp/oom/report.json'}) }}"
"""

RETURN = r"""
_value:
  description: The summary (hosts_total, hosts_ok, hosts_with_kills, hosts_unreachable, hosts_failed,
    unreachable_hosts, failed_hosts, events_total, events_by_cause, findings_total, findings_by_severity,
    worst_severity, first_kill, last_kill, top_findings, partial, report_files).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report import stats, to_plain


def oom_stats(report, files=None):
    if not isinstance(report, dict) or 'summary' not in report:
        raise AnsibleFilterError('oom_stats needs a report built by oomkit.linux.oom_report')
    try:
        return stats(to_plain(report), to_plain(files) if files is not None else None)
    except (KeyError, TypeError) as err:
        raise AnsibleFilterError('oom_stats: malformed report (%s)' % err)


class FilterModule(object):
    def filters(self):
        return {'oom_stats': oom_stats}
