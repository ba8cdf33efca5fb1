# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: oom_time
short_description: Whether a value is a time that oomkit.linux.oom_facts reads in since and until
version_added: 1.1.0
author: oomkit maintainers (@oomkit)
description:
  - True when the value is a time bound that M(oomkit.linux.oom_facts) accepts for O(oomkit.linux.oom_facts#module:since)
    and O(oomkit.linux.oom_facts#module:until). The test runs the module's own parser, on the controller, so a
    play can refuse a bad time before any host runs.
  - The accepted forms are a relative span (V(7d), V(12h), V(30min), V(90s), V(2w), optionally followed by V(ago)),
    V(now), V(today), V(yesterday), an ISO 8601 date or date and time with at least hours and minutes
    (V(2026-11-26), V(2026-11-26T08:00), V(2026-11-26T08:00:00+08:00)), or epoch seconds (V(1795651200),
    V(@1795651200)).
  - An empty value or V(null) is not a time; test for it separately when it means "no bound".
options:
  _input:
    description: The value to test.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse a bad time before any host runs
  ansible.builtin.assert:
    that: since is oomkit.linux.oom_time
    fail_msg: "since: {{ since }} is not a time (use 7d, 30min, today, 2026-11-26 or 2026-11-26T08:00:00Z)"
  run_once: true
"""

RETURN = r"""
_value:
  description: Whether the value is a time the parser of M(oomkit.linux.oom_facts) reads.
  type: bool
"""

from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import parse_time_bound


def oom_time(value):
    if value is None or (isinstance(value, str) and not value.strip()) or isinstance(value, bool):
        return False
    try:
        return parse_time_bound(value) is not None
    except (TypeError, ValueError, OverflowError):
        return False


class TestModule(object):
    def tests(self):
        return {"oom_time": oom_time}
