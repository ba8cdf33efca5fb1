# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: oom_query
short_description: Select data (OOM events, findings, reports) with a JMESPath expression
version_added: 1.1.0
author: oomkit maintainers (@oomkit)
description:
  - Evaluates a JMESPath expression against the input, like C(community.general.json_query), without needing
    that collection.
  - Meant for OOM events (C(ansible_facts.oom.events)), the fleet report of the C(oomkit.linux.diagnosis) role
    and its findings, but works on any data.
  - Runs on the controller and needs the C(jmespath) Python library there.
options:
  _input:
    description: The data to query.
    type: raw
    required: true
  expression:
    description:
      - The JMESPath expression, for example V([?cause=='cgroup_limit']) or V([?anon_rss_kb > `1048576`].killed_comm).
      - Numbers in comparisons are JSON literals in backticks.
    type: str
    required: true
requirements:
  - jmespath (Python library, on the controller)
seealso:
  - name: JMESPath
    description: The query language.
    link: https://jmespath.org/
"""

EXAMPLES = r"""
- name: Kills caused by a cgroup limit, on this host
  ansible.builtin.debug:
    msg: "{{ ansible_facts.oom.events | oomkit.linux.oom_query(\"[?cause=='cgroup_limit'].[killed_comm, memcg]\") }}"

- name: Names of the processes killed with more than 1 GiB anonymous memory
  ansible.builtin.set_fact:
    big_victims: "{{ ansible_facts.oom.events | oomkit.linux.oom_query('[?anon_rss_kb > `1048576`].killed_comm') | unique }}"

- name: High and critical findings of a diagnosis report
  ansible.builtin.debug:
    msg: "{{ diagnosis_report | oomkit.linux.oom_query(\"findings[?severity=='critical' || severity=='high'].title\") }}"
"""

RETURN = r"""
_value:
  description: What the expression selects; V(null) when it selects nothing.
  type: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report import ReportError, jmespath_search, to_plain


def oom_query(data, expression):
    if not isinstance(expression, str) or not expression.strip():
        raise AnsibleFilterError('oom_query needs a JMESPath expression (a non-empty string)')
    try:
        return jmespath_search(to_plain(data), expression)
    except ReportError as err:
        raise AnsibleFilterError(str(err))


class FilterModule(object):
    def filters(self):
        return {'oom_query': oom_query}
