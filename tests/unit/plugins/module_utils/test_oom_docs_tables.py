# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/oom-events.md's version table and wrapper table against the fixture manifests: every row
is backed by a fixture, every fixture has its row, and a row says what its fixture's manifest says.

The fixtures themselves are tested by test_oom_log_kernels.py (one event per version, every line a
printk format of that version) and test_oom_pipelines.py (every real kill, every pipeline file)."""

from __future__ import annotations

import json
import os
import re

import pytest

ROOT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..')
FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures')

# the versions issue 14 asks for, each with a row read in its sources and a fixture
VERSIONS = ('2.6.32', '3.10', '4.4', '4.9', '4.14', '4.19', '5.4', '5.10', '5.15', '6.1', '6.6', '6.12')


def _manifest(sub):
    with open(os.path.join(FIXTURES, sub, 'MANIFEST.json'), encoding='utf-8') as f:
        return json.load(f)


def _table(heading):
    """The rows (lists of cells) of the first Markdown table after ``heading``."""
    with open(os.path.join(ROOT, 'docs', 'oom-events.md'), encoding='utf-8') as f:
        text = f.read()
    assert heading in text, heading
    section = text.split(heading, 1)[1].split('\n## ', 1)[0]
    lines = [ln for ln in section.splitlines() if ln.startswith('|')]
    assert len(lines) > 2 and set(lines[1].replace('|', '')) <= set('-: ')
    rows = []
    for ln in lines[2:]:
        # split on the table's pipes, not on "\|" or pipes inside `code`
        cells, cur, code = [], '', False
        for i, ch in enumerate(ln.strip()[1:-1]):
            if ch == '`':
                code = not code
            if ch == '|' and not code and ln.strip()[i] != '\\':
                cells.append(cur.strip())
                cur = ''
            else:
                cur += ch
        cells.append(cur.strip())
        rows.append(cells)
    return rows


def _files(cell, suffixes=('.log', '.json', '.gz')):
    return [n for n in re.findall(r'`([^`]+)`', cell) if n.endswith(suffixes) and '/' not in n and ' ' not in n]


KERNEL_ROWS = _table('## Which kernel prints which line')
KERNELS = _manifest('oom_kernels')


def test_version_table_and_kernel_fixtures_match():
    in_table = [f for row in KERNEL_ROWS for f in _files(row[-1])]
    assert sorted(in_table) == sorted(KERNELS), 'rows without fixture, or fixtures without row'
    assert len(set(in_table)) == len(in_table)


@pytest.mark.parametrize('row', [r for r in KERNEL_ROWS if _files(r[-1])], ids=lambda r: r[0])
def test_each_version_row_says_what_its_fixture_was_read_in(row):
    (name,) = _files(row[-1])
    entry = KERNELS[name]
    assert row[0] == entry['kernel']
    repo, commit = entry['source'].split()[:2]
    assert repo.replace('github:', '') in row[1] and commit in row[1], (row[1], entry['source'])
    if not entry['read'].startswith('openEuler'):
        assert entry['read'] in row[1]
    with open(os.path.join(FIXTURES, 'oom_kernels', name), encoding='utf-8') as f:
        header = f.readline()
    assert entry['read'] in header and entry['source'] in header


def test_every_version_of_the_issue_has_a_row_with_a_fixture():
    backed = set(r[0] for r in KERNEL_ROWS if _files(r[-1]))
    assert set(VERSIONS) <= backed, set(VERSIONS) - backed


def test_rows_without_fixture_say_why():
    for row in KERNEL_ROWS:
        if not _files(row[-1]):
            # the machine's own kernel (real captures elsewhere) or a kernel that was not read
            assert 'real captures' in ' '.join(row) or row[1].startswith('not read'), row


WRAPPER_ROWS = _table('## Which log pipeline prints which wrapper')
PIPELINES = _manifest('oom_pipelines')
# the tool a row names -> what the command in the manifest must mention
TOOLS = (('journalctl', 'journalctl'), ('dmesg', 'dmesg'), ('/dev/kmsg', '/dev/kmsg'), ('syslog-ng', 'syslog-ng'),
         ('rsyslog', 'rsyslog'), ('json lines', 'json'), ('prefix', 'prefix'))


def test_wrapper_table_and_pipeline_fixtures_match():
    in_table = [f for row in WRAPPER_ROWS for f in _files(row[-1])]
    assert sorted(in_table) == sorted(PIPELINES['files']), 'rows without fixture, or fixtures without row'
    assert len(set(in_table)) == len(in_table)
    assert all(_files(row[-1]) for row in WRAPPER_ROWS)


@pytest.mark.parametrize('row', WRAPPER_ROWS, ids=lambda r: r[0][:40])
def test_each_wrapper_row_names_the_tool_and_mode_of_its_fixtures(row):
    first = row[0].lower()
    tool = next(want for key, want in TOOLS if key in first)
    modes = re.findall(r'-o ([a-z-]+)', row[0]) + re.findall(r'`(short[a-z-]*|with-unit)`', row[0])
    for name in _files(row[-1]):
        command = PIPELINES['files'][name]['command'].lower()
        assert tool in command, (name, command)
        if tool == 'journalctl' and modes and not name.startswith('journalctl-all-'):
            assert any(re.search(r'-o %s(?: |$)' % re.escape(m), command) for m in modes), (name, modes, command)
        if 'no-hostname' in name:
            assert '--no-hostname' in command and '--no-hostname' in row[0]
