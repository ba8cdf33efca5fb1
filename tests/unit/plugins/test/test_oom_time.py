# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One time grammar: the diagnosis role's check of since/until is the parser oom_facts runs."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import parse_time_bound
from ansible_collections.oomkit.linux.plugins.test import oom_time as plugin

oom_time = plugin.oom_time

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")


@pytest.mark.parametrize("value", ["7d", "30min", "12h", "90s", "2w", "3 days ago", "today", "yesterday", "now",
                                   "2026-11-26", "2026-11-26T08:00", "2026-11-26T00:00:00+08:00", "2026-11-26 08:00Z",
                                   "1795651200", "@1795651200", 1795651200])
def test_what_oom_facts_reads_is_a_time(value):
    assert parse_time_bound(value) is not None
    assert oom_time(value) is True


@pytest.mark.parametrize("value", ["2026-11-26T01", "last tuesday", "7 parsecs", "", "  ", None, True])
def test_what_oom_facts_refuses_is_not(value):
    assert oom_time(value) is False
    if value not in ("", "  ", None, True):
        with pytest.raises(ValueError):
            parse_time_bound(value)


def test_the_plugin_is_registered():
    assert plugin.TestModule().tests()["oom_time"] is oom_time


def test_the_diagnosis_role_checks_since_and_until_with_the_parser():
    with open(os.path.join(ROOT, "roles", "diagnosis", "tasks", "validate.yml")) as handle:
        tasks = yaml.safe_load(handle)
    checks = dict((item["name"], item) for task in tasks for item in task.get("loop", []) if isinstance(item, dict))
    for name in ("since", "until"):
        assert "is oomkit.linux.oom_time" in checks[name]["ok"]
        assert checks[name]["msg"].startswith("diagnosis_%s: " % name)
    with open(os.path.join(ROOT, "roles", "diagnosis", "vars", "main.yml")) as handle:
        assert "time_pattern" not in handle.read()
