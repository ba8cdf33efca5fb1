# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""promtool (Debian's prometheus package, unpacked by tools/promtool.sh) on the Prometheus textfiles the
report writes, for the shapes a fleet can have: kills of every cause, hostile names, no kill at all,
hosts in every state, a partial report's merge, a thousand hosts. And the label sets stay the same
when a host's state or findings change, so absent() and rate() keep working."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils.oom_sources import gather
from ansible_collections.oomkit.linux.plugins.plugin_utils import oom_report as R

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(COLLECTION, 'tests', 'unit', 'fixtures', 'oom_logs')
SAMPLE = os.path.join(COLLECTION, 'roles', 'diagnosis', 'files', 'samples', 'euleros-messages.log')
HOSTILE = os.path.join(COLLECTION, 'tests', 'browser', 'files', 'hostile-messages.log')
NOW = datetime.datetime(2026, 11, 26, 12, 0, tzinfo=datetime.timezone.utc)


def promtool():
    path = os.environ.get('PROMTOOL') or shutil.which('promtool')
    if not path:
        pytest.fail('promtool not found: run `make report-tools` (tools/promtool.sh unpacks it)')
    return path


def check(text):
    proc = subprocess.run([promtool(), 'check', 'metrics'], input=text.encode('utf-8'), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, check=False)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout.decode('utf-8', 'replace')


def result(paths, sysctl=None, vmstat=None):
    data = gather(sources=['files'], paths=paths, config=False, enrich=False)
    return {'ansible_facts': {'oom': {'events': data['events'], 'summary': data['summary'], 'sources': data['sources'],
                                      'userspace_events': data['userspace_events'],
                                      'config': {'sysctl': sysctl or {'vm.panic_on_oom': 0, 'vm.oom_dump_tasks': 1},
                                                 'vmstat_oom_kill': len(data['events']) if vmstat is None else vmstat}}}}


def series(text):
    """metric{labels} without values: the label sets."""
    return set(line.rsplit(' ', 1)[0] for line in text.splitlines() if line and not line.startswith('#'))


@pytest.fixture(scope='module')
def fleet():
    logs = sorted(os.path.join(FIXTURES, n) for n in os.listdir(FIXTURES) if n.endswith('.log'))
    hosts = ['h%d' % i for i in range(len(logs))] + ['evil', 'euler', 'down', 'broken', 'skipped']
    results = [result([log]) for log in logs] + [result([HOSTILE]), result([SAMPLE], {'vm.panic_on_oom': 2}),
                                                 {'unreachable': True, 'msg': 'timeout'}, {'failed': True, 'msg': 'x'},
                                                 {'skipped': True}]
    return hosts, results


def test_every_textfile_shape_passes_promtool(fleet):
    hosts, results = fleet
    report = R.build_report(hosts, results, now=NOW, groups={'evil': ['db"quoted\\group']})
    text = R.render_prometheus(report)
    check(text)
    # every cause of the parser appears, and each hostile name stays inside its quotes
    assert set(re.findall(r'cause="([a-z_]+)"', text)) == set(R.CAUSES)
    check(R.render_prometheus(R.build_report(['quiet'], [result([])], now=NOW)))
    check(R.render_prometheus(R.build_report([], [], now=NOW)))


def test_a_thousand_hosts_pass_promtool():
    base = result([SAMPLE])
    hosts = ['node%04d' % i for i in range(1000)]
    report = R.build_report(hosts, [base] * 1000, now=NOW, options={'dedupe_shared_kernel': False})
    text = R.render_prometheus(report)
    check(text)
    assert text.count('oomkit_oom_kills_total{') == 1000 * len(R.CAUSES)


def test_merged_partial_reports_pass_promtool(fleet):
    hosts, results = fleet
    parts = [R.build_report(hosts[i::2], results[i::2], now=NOW, partial=R.partial_mark('r1', '%d/2' % (i + 1)))
             for i in range(2)]
    merged = R.merge_reports(parts, now=NOW)
    check(R.render_prometheus(merged))
    assert R.render_prometheus(merged) == R.render_prometheus(R.build_report(hosts, results, now=NOW))


def test_label_sets_do_not_change_when_a_host_changes_state():
    quiet = R.build_report(['a', 'b'], [result([]), result([])], now=NOW)
    killed = R.build_report(['a', 'b'], [result([SAMPLE], {'vm.panic_on_oom': 1}), result([])], now=NOW)
    assert series(R.render_prometheus(quiet)) == series(R.render_prometheus(killed))
    # a host that goes down keeps its state series; its kill counters pause (no fake zero reset)
    down = R.build_report(['a', 'b'], [result([]), {'unreachable': True, 'msg': 'x'}], now=NOW)
    up, gone = series(R.render_prometheus(quiet)), series(R.render_prometheus(down))
    state = set(s for s in up if s.startswith(('oomkit_diagnosis_host_state', 'oomkit_diagnosis_host_up')))
    assert state <= gone
    assert not gone - up
