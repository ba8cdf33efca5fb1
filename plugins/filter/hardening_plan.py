# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: hardening_plan
short_description: Plan the oomkit.linux.hardening role's module calls for one host
version_added: 1.1.0
author: oomkit maintainers (@oomkit)
description:
  - The planning step of the R(oomkit.linux.hardening role,ansible_collections.oomkit.linux.hardening_role), run on
    the controller. It converts and validates the role variables, including strings sent by AWX surveys such as
    V(true), V(-900), V(sshd,rsyslog) or V(vm.swappiness=10).
  - Without O(host_info) it returns the query. These are the arguments for one read-only
    M(oomkit.linux.oom_host_info) run, which are the units, the process selections and the sysctls the plan needs
    to know about.
  - With O(host_info), which is the registered result of that run, it returns the plan. The plan lists the
    M(oomkit.linux.sysctl), M(oomkit.linux.systemd_oom), M(oomkit.linux.oom_score_adj) and
    M(oomkit.linux.cgroup_memory) calls to make, the process selections that are already as wanted and need no
    call, and what is skipped on this host with the reason.
  - Bad input gives C(failed=true) and a C(msg) that names the variable. Nothing has run on the host at that point.
options:
  _input:
    description:
      - The role variables without their C(hardening_) prefix (C(sysctl_baseline), C(protected_services),
        C(expendable_names), ...), as the role passes them.
    type: dict
    required: true
  host_info:
    description: The registered result of M(oomkit.linux.oom_host_info) run with the query's arguments.
    type: dict
  host:
    description:
      - The inventory host planned for. Its entry of C(proposal) (the role variable C(hardening_proposal), as
        C(oomkit.linux.diagnosis) writes it to C(proposal.yml)) is checked and merged with the other variables.
    type: str
"""

EXAMPLES = r"""
- name: Ask what the plan needs to know
  ansible.builtin.set_fact:
    query: "{{ config | oomkit.linux.hardening_plan }}"

- name: Read the host
  oomkit.linux.oom_host_info:
    units: "{{ query.units }}"
    processes: "{{ query.processes }}"
    sysctls: "{{ query.sysctls }}"
  register: posture
  when: not query.failed

- name: Plan the calls
  ansible.builtin.set_fact:
    plan: "{{ config | oomkit.linux.hardening_plan(posture) }}"
"""

RETURN = r"""
_value:
  description:
    - Without O(host_info), the query. It has C(failed), C(msg) (when failed), C(units), C(processes) and
      C(sysctls).
    - With O(host_info), the plan. It has C(failed), C(msg) (when failed), C(host) (what was found), C(sysctl)
      (the settings, or null), C(units), C(processes) and C(cgroups) (the calls), C(processes_ok) (the selections
      that need no call), C(skipped) (C(item) and C(reason) of each thing not done) and C(proposal) (the host's
      entry of the proposal as merged, or null).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.oomkit.linux.plugins.plugin_utils.hardening_plan import host_query, plan
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report import to_plain


def hardening_plan(config, host_info=None, host=None):
    if not isinstance(config, dict):
        raise AnsibleFilterError("hardening_plan needs the role configuration as a mapping")
    config = to_plain(config)
    host = None if host is None else str(host)
    if host_info is None:
        return host_query(config, host)
    return plan(config, to_plain(host_info), host)


class FilterModule(object):
    def filters(self):
        return {"hardening_plan": hardening_plan}
