# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: hardening_result
short_description: Shape the oomkit.linux.hardening role's result from its plan and module results
version_added: 1.1.0
author: oomkit maintainers (@oomkit)
description:
  - The last step of the R(oomkit.linux.hardening role,ansible_collections.oomkit.linux.hardening_role), run on the
    controller. It turns the plan of the P(oomkit.linux.hardening_plan#filter) filter and the registered results of
    the role's M(oomkit.linux.sysctl), M(oomkit.linux.systemd_oom), M(oomkit.linux.oom_score_adj) and
    M(oomkit.linux.cgroup_memory) calls into C(hardening_result).
  - A task that did not run (skipped, or a loop over nothing) counts as no change and no module run.
  - With O(stats=true) it returns the short summary the role publishes with C(ansible.builtin.set_stats) instead.
options:
  _input:
    description: The plan, the result of P(oomkit.linux.hardening_plan#filter) with the host information.
    type: dict
    required: true
  sysctl:
    description: The registered result of the M(oomkit.linux.sysctl) task.
    type: dict
    default: {}
  units:
    description: The registered result of the M(oomkit.linux.systemd_oom) loop (with C(results)).
    type: dict
    default: {}
  processes:
    description: The registered result of the M(oomkit.linux.oom_score_adj) loop (with C(results)).
    type: dict
    default: {}
  cgroups:
    description: The registered result of the M(oomkit.linux.cgroup_memory) loop (with C(results)).
    type: dict
    default: {}
  check_mode:
    description: Whether the play runs in check mode (C(ansible_check_mode)); copied into the result.
    type: bool
    default: false
  stats:
    description: Return the summary for C(set_stats) (C(changed), C(restart_required), C(skipped) as a count,
      C(module_calls)) of the result given as input, instead of the result.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Export the result
  ansible.builtin.set_fact:
    hardening_result: >-
      {{ plan | oomkit.linux.hardening_result(sysctl=sysctl_run, units=unit_runs, processes=process_runs,
                                              cgroups=cgroup_runs, check_mode=ansible_check_mode) }}

- name: Publish the summary
  ansible.builtin.set_stats:
    data:
      oomkit_hardening: "{{ {inventory_hostname: hardening_result | oomkit.linux.hardening_result(stats=true)} }}"
"""

RETURN = r"""
_value:
  description:
    - The role's result, documented in the role as C(hardening_result) - C(changed), C(check_mode), C(changes)
      (C(sysctl) per key with C(live_before), C(live_after), C(persisted_before), C(persisted_after); C(units) per
      unit with C(dropin), C(settings), C(live), C(restarted); C(processes) as a list of C(pid), C(comm), C(before),
      C(after), C(role); C(cgroups) per path with C(created), C(removed), C(settings), C(moved)), C(restart_required)
      (unit names), C(skipped) (C(item) and C(reason)), C(already_ok), C(module_calls), C(host) and C(proposal) (the host's entry of
      C(hardening_proposal) as merged, or null).
    - With O(stats=true), the summary - C(changed), C(restart_required), C(skipped) (a count), C(module_calls).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.oomkit.linux.plugins.plugin_utils.hardening_plan import result, stats as summary
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report import to_plain


def hardening_result(plan, sysctl=None, units=None, processes=None, cgroups=None, check_mode=False, stats=False):
    if not isinstance(plan, dict):
        raise AnsibleFilterError("hardening_result needs the plan (or, with stats=true, the result) as a mapping")
    if stats:
        try:
            return summary(to_plain(plan))
        except KeyError as err:
            raise AnsibleFilterError("hardening_result(stats=true) needs a hardening_result, which has no %s" % err)
    return result(to_plain(plan), sysctl=to_plain(sysctl or {}), units=to_plain(units or {}),
                  processes=to_plain(processes or {}), cgroups=to_plain(cgroups or {}), check_mode=bool(check_mode))


class FilterModule(object):
    def filters(self):
        return {"hardening_result": hardening_result}
