# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: oom_merge
short_description: Merge the partial OOM reports of AWX job slices into the fleet report
version_added: 1.1.0
author: oomkit maintainers (@oomkit)
description:
  - Takes the partial reports that the slices of one run wrote (C(oomkit.linux.diagnosis) with
    C(diagnosis_partial=true)) and makes the fleet report, the same as one unsliced run would have made - the
    hosts joined, each kernel event counted once across slices (hosts that share a kernel can land in different
    slices), findings, overview and summary recomputed on the whole fleet.
  - The report options recorded in the partial reports are used; O(options) overrides them (for example the title).
  - Refuses, naming the problem, reports of different runs or options, full reports, other schema versions, a host
    in two slices, and missing or repeated slices when the slice numbers are known.
options:
  _input:
    description: The partial reports (parsed report JSON documents).
    type: list
    elements: dict
    required: true
  options:
    description: Report options that override the recorded ones (see P(oomkit.linux.oom_report#filter)).
    type: dict
"""

EXAMPLES = r"""
- name: Merge the partial reports of one run
  ansible.builtin.set_fact:
    fleet_report: "{{ partial_reports | oomkit.linux.oom_merge }}"
"""

RETURN = r"""
_value:
  description: The fleet report (schema_version 2, C(partial) null).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report import ReportError, merge_reports, to_plain


def oom_merge(reports, options=None):
    if not isinstance(reports, (list, tuple)):
        raise AnsibleFilterError('oom_merge needs a list of partial reports')
    try:
        return merge_reports(list(reports), to_plain(options) if options else None)
    except ReportError as err:
        raise AnsibleFilterError('oom_merge: %s' % err)
    except (KeyError, TypeError, AttributeError) as err:
        raise AnsibleFilterError('oom_merge: malformed partial report (%s)' % err)


class FilterModule(object):
    def filters(self):
        return {'oom_merge': oom_merge}
