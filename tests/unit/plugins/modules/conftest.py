# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.oomkit.linux.tests.unit.plugins.modules.harness import patch_exits


@pytest.fixture
def module_exit(monkeypatch):
    """exit_json/fail_json raise ModuleExit; the fixture value is the list of warnings given."""
    return patch_exits(monkeypatch)
