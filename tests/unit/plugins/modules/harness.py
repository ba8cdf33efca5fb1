# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a module's main() inside a unit test and catching what it returns."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    """What exit_json/fail_json received, and the warnings given before it."""

    def __init__(self, result, failed, warnings):
        super(ModuleExit, self).__init__(json.dumps(result, default=str))
        self.result = result
        self.failed = failed
        self.warnings = warnings


def patch_exits(monkeypatch):
    """Make exit_json/fail_json raise ModuleExit and collect warn(); return the warnings list."""
    warnings = []

    def exit_json(self, **result):
        raise ModuleExit(result, False, list(warnings))

    def fail_json(self, **result):
        raise ModuleExit(result, True, list(warnings))

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: warnings.append(text))
    return warnings


def run_main(entry, args, check_mode=False, diff=False):
    """Call ``entry()`` (a module's main, or a closure around its run function) with ``args``."""
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(ModuleExit) as outcome:
            entry()
    return outcome.value
