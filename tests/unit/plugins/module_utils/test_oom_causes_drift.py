# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The causes table has one home, module_utils/oom_log.py CAUSE_TABLE: everything else that lists
the causes derives from it or is checked against it here."""

from __future__ import annotations

import json
import os
import re

import yaml

from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import CAUSE_TABLE, CAUSE_TEXT, CAUSES
from ansible_collections.oomkit.linux.plugins.modules import oom_facts
from ansible_collections.oomkit.linux.plugins.plugin_utils import oom_report

ROOT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..')


def test_table_is_consistent():
    assert len(set(CAUSES)) == len(CAUSES) == len(CAUSE_TABLE) and CAUSES[-1] == 'unknown'
    assert all(CAUSE_TEXT[c] for c in CAUSES)


def test_fact_module_return_docs_list_the_causes():
    ret = yaml.safe_load(oom_facts.RETURN)
    events = ret['ansible_facts']['contains']['oom']['contains']['events']['contains']
    assert events['cause']['choices'] == list(CAUSES)


def test_report_derives_the_causes_and_colours_each():
    assert tuple(oom_report.CAUSES) == CAUSES
    assert oom_report.CAUSE_TEXT == CAUSE_TEXT
    assert set(oom_report.CAUSE_COLOURS) == set(CAUSES)


def test_report_schema_enum_is_the_table():
    with open(os.path.join(ROOT, 'roles', 'diagnosis', 'files', 'report.schema.json')) as f:
        schema = json.load(f)
    assert schema['$defs']['cause']['enum'] == list(CAUSES)


def test_docs_explain_every_cause():
    with open(os.path.join(ROOT, 'docs', 'oom-events.md'), encoding='utf-8') as f:
        text = f.read()
    section = text.split('## Causes', 1)[1].split('\n## ', 1)[0]
    for cause in CAUSES:
        assert re.search(r'`%s`' % cause, section), cause
