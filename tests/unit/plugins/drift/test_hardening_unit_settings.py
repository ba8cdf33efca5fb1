# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hardening role's unit settings derive from systemd.SETTINGS (the one table of unit settings):
the plan, the systemd_oom task of roles/hardening/tasks/main.yml and the role's argument spec."""

from __future__ import annotations

import os
import re

import yaml

from ansible_collections.oomkit.linux.plugins.module_utils import systemd as sd
from ansible_collections.oomkit.linux.plugins.plugin_utils import hardening_plan as P

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")
TABLE = [s.option for s in sd.SETTINGS]


def _load(*parts):
    with open(os.path.join(ROOT, *parts)) as handle:
        return yaml.safe_load(handle)


def test_the_plan_accepts_every_setting_of_the_table():
    assert list(P.UNIT_OPTIONS) == TABLE


def test_the_role_task_passes_the_plan_units_to_systemd_oom_as_they_are():
    """One systemd_oom run over every unit: the plan's items are systemd_oom's units items."""
    tasks = _load("roles", "hardening", "tasks", "main.yml")
    (task,) = [t for t in tasks if "oomkit.linux.systemd_oom" in t]
    args = task["oomkit.linux.systemd_oom"]
    assert args["units"] == "{{ __hardening_plan.units }}"
    assert "loop" not in task
    assert sorted(args) == ["dropin_name", "restart", "units", "unsupported"]
    # every key a plan item can carry is a key systemd_oom takes in a units item
    assert set(("name", "live") + tuple(P.UNIT_OPTIONS)) == set(sd.UNIT_ITEM_OPTIONS) - set(["state"])


def test_the_argument_spec_names_every_setting_of_the_table():
    spec = _load("roles", "hardening", "meta", "argument_specs.yml")
    text = " ".join(spec["argument_specs"]["main"]["options"]["hardening_unit_limits"]["description"])
    named = re.findall(r"C\(([a-z_]+)\)", text)
    assert named == ["unit"] + TABLE


def test_the_defaults_comment_names_every_setting_of_the_table():
    with open(os.path.join(ROOT, "roles", "hardening", "defaults", "main.yml")) as handle:
        text = handle.read()
    line = re.search(r"^# Keys: unit, ((?:.|\n# )*?)\.\n", text, re.M).group(1)
    assert [k.strip() for k in line.replace("\n#", "").split(",")] == TABLE
