# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: oom_render
short_description: Render an OOM fleet report as JSON, Markdown, HTML, a Prometheus textfile or proposal.yml
version_added: 1.1.0
author: oomkit maintainers (@oomkit)
description:
  - Turns the report built by P(oomkit.linux.oom_report#filter) into one of five documents.
  - V(json) - the report itself, indented, keys sorted (stable, versioned schema).
  - V(markdown) - the fleet in one screen for a ticket - counts, kills by cause, the most killed processes,
    units and cgroups, groups, hosts, the ten most severe findings; no link.
  - V(html) - a self-contained page (no external asset, no script; a Content-Security-Policy forbids any) - the
    fleet overview (kills per cause per day as stacked bars in inline SVG, top processes, units and cgroups,
    hosts ranked, inventory groups), the findings, the newest kills, then every host in a collapsed section.
  - V(prometheus) - text exposition format for node_exporter's textfile collector that C(promtool check metrics)
    accepts. Counters C(oomkit_oom_kills_total{host,cause}) (every cause, zero included, for every diagnosed host)
    and C(oomkit_vmstat_oom_kill_total{host}); gauges C(oomkit_oom_last_kill_timestamp_seconds{host}),
    C(oomkit_diagnosis_findings{host,severity}) (every severity), C(oomkit_diagnosis_rule_hosts{rule}) (every rule),
    C(oomkit_diagnosis_host_up{host}), C(oomkit_diagnosis_host_state{host,state}) (a state set - every state, 1 for
    the current one) and C(oomkit_diagnosis_last_run_timestamp_seconds). No label set changes when a host's
    state or findings change.
  - V(proposal) - C(proposal.yml), the hardening proposal - one variable C(hardening_proposal) keyed by inventory
    host, each entry the R(oomkit.linux.hardening role,ansible_collections.oomkit.linux.hardening_role)'s own
    variables, every item's evidence and confidence in comments; for
    C(ansible-playbook oomkit.linux.harden -e @proposal.yml --check --diff).
  - Process names, cgroup paths and every other string that comes from a log are attacker-controlled; each
    format escapes them (HTML entities, Markdown escapes, Prometheus label escapes).
options:
  _input:
    description: A report from P(oomkit.linux.oom_report#filter).
    type: dict
    required: true
  format:
    description: The document to produce.
    type: str
    required: true
    choices: [json, markdown, html, prometheus, proposal]
"""

EXAMPLES = r"""
- name: Write the HTML report on the controller
  ansible.builtin.copy:
    content: "{{ report | oomkit.linux.oom_render('html') }}"
    dest: /var/tmp/oom/report.html
    mode: "0644"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
_value:
  description: The document, as text.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report import ReportError, render, to_plain


def oom_render(report, format):  # pylint: disable=redefined-builtin
    if not isinstance(report, dict) or 'schema_version' not in report:
        raise AnsibleFilterError('oom_render needs a report built by oomkit.linux.oom_report')
    try:
        return render(to_plain(report), format)
    except ReportError as err:
        raise AnsibleFilterError(str(err))
    except (KeyError, TypeError, ValueError) as err:
        raise AnsibleFilterError('oom_render: malformed report (%s)' % err)


class FilterModule(object):
    def filters(self):
        return {'oom_render': oom_render}
