# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The three filters, as Ansible loads them: through FilterModule, with Ansible errors."""

from __future__ import annotations

import json

import pytest

try:
    import jmespath  # noqa: F401  pylint: disable=unused-import
    HAS_JMESPATH = True
except ImportError:
    HAS_JMESPATH = False

needs_jmespath = pytest.mark.skipif(not HAS_JMESPATH, reason='jmespath is not installed (tests/unit/requirements.txt)')

from ansible.errors import AnsibleFilterError

from ansible_collections.oomkit.linux.plugins.filter.oom_host_summary import FilterModule as SummaryFilters
from ansible_collections.oomkit.linux.plugins.filter.oom_merge import FilterModule as MergeFilters
from ansible_collections.oomkit.linux.plugins.filter.oom_query import FilterModule as QueryFilters
from ansible_collections.oomkit.linux.plugins.filter.oom_render import FilterModule as RenderFilters
from ansible_collections.oomkit.linux.plugins.filter.oom_report import FilterModule as ReportFilters
from ansible_collections.oomkit.linux.plugins.filter.oom_stats import FilterModule as StatsFilters

oom_query = QueryFilters().filters()['oom_query']
oom_render = RenderFilters().filters()['oom_render']
oom_report = ReportFilters().filters()['oom_report']
oom_host_summary = SummaryFilters().filters()['oom_host_summary']
oom_merge = MergeFilters().filters()['oom_merge']
oom_stats = StatsFilters().filters()['oom_stats']

EVENTS = [
    {'killed_comm': 'java', 'cause': 'cgroup_limit', 'anon_rss_kb': 2079412, 'memcg': '/batch', 'uptime': 1.0,
     'killed_pid': 1, 'time': '2026-11-24T01:12:44+00:00'},
    {'killed_comm': 'cache-loader', 'cause': 'system_memory', 'anon_rss_kb': 5300100, 'memcg': None, 'uptime': 2.0,
     'killed_pid': 2, 'time': '2026-11-25T01:47:12+00:00'},
]


def facts(events, sysctl=None):
    return {'ansible_facts': {'oom': {'events': events, 'summary': {'total': len(events)},
                                      'config': {'sysctl': sysctl or {'vm.panic_on_oom': 0}}, 'sources': []}}}


@needs_jmespath
def test_query_selects_and_projects():
    assert oom_query(EVENTS, "[?cause=='cgroup_limit'].killed_comm") == ['java']
    assert oom_query(EVENTS, '[?anon_rss_kb > `3000000`].killed_comm') == ['cache-loader']
    assert oom_query({'findings': [{'severity': 'high', 'title': 't'}]}, "findings[?severity=='high'].title") == ['t']
    assert oom_query(EVENTS, "[?cause=='nope']") == []


@pytest.mark.parametrize('expression, message', [
    ('', 'needs a JMESPath expression'),
    (None, 'needs a JMESPath expression'),
    pytest.param('[?cause==', 'bad jmespath expression', marks=needs_jmespath),
])
def test_query_errors(expression, message):
    with pytest.raises(AnsibleFilterError, match=message):
        oom_query(EVENTS, expression)


def test_report_then_render_every_format():
    report = oom_report(['a', 'b'], [facts(EVENTS), {'unreachable': True, 'msg': 'no route'}],
                        probe_results=[{}, {}], active_hosts=['a', 'b'], options={'min_severity': 'info'})
    assert report['summary']['events_total'] == 2
    assert report['summary']['unreachable_hosts'] == ['b']
    assert json.loads(oom_render(report, 'json')) == report
    assert oom_render(report, 'markdown').startswith('# OOM diagnosis report')
    assert '<svg id="kills-by-day"' in oom_render(report, 'html')
    assert 'oomkit_oom_kills_total{host="a",cause="cgroup_limit"} 1' in oom_render(report, 'prometheus')


def test_report_errors_are_filter_errors():
    with pytest.raises(AnsibleFilterError, match="oom_report: unknown report option 'colour'"):
        oom_report(['a'], [facts([])], options={'colour': 'red'})
    if HAS_JMESPATH:
        with pytest.raises(AnsibleFilterError, match='must return a list of events'):
            oom_report(['a'], [facts(EVENTS)], options={'event_query': '[].killed_comm'})
    else:
        with pytest.raises(AnsibleFilterError, match='the jmespath Python library is needed'):
            oom_report(['a'], [facts(EVENTS)], options={'event_query': '[].killed_comm'})


def test_render_errors():
    with pytest.raises(AnsibleFilterError, match='needs a report built by oomkit.linux.oom_report'):
        oom_render({'events': []}, 'html')
    report = oom_report(['a'], [facts([])])
    with pytest.raises(AnsibleFilterError, match="unknown report format 'pdf'"):
        oom_render(report, 'pdf')
    broken = dict(report)
    del broken['summary']
    with pytest.raises(AnsibleFilterError, match='malformed report'):
        oom_render(broken, 'markdown')


def test_summaries_partials_merge_and_stats_through_the_filters():
    summaries = [oom_host_summary(facts(EVENTS), 'a', groups=['db'], max_events=1),
                 oom_host_summary({'unreachable': True, 'msg': 'no route'}, 'b')]
    assert len(summaries[0]['events']) == 1 and summaries[0]['events_not_sent'] == 1
    assert summaries[1]['status'] == 'unreachable'
    parts = [oom_report([s['name']], [s], partial={'run': '9', 'slice': '%d/2' % (i + 1)}) for i, s in enumerate(summaries)]
    merged = oom_merge(parts)
    assert merged['partial'] is None and merged['summary']['hosts_total'] == 2
    assert merged['hosts'][0]['groups'] == ['db']
    stats = oom_stats(merged, {'json': '/r/report.json'})
    assert stats['report_files'] == {'json': '/r/report.json'} and stats['events_total'] == 1


def test_summary_merge_and_stats_errors():
    with pytest.raises(AnsibleFilterError, match='needs the host name'):
        oom_host_summary({}, '')
    with pytest.raises(AnsibleFilterError, match='max_events must be an integer of 0 or more'):
        oom_host_summary({}, 'a', max_events='many')
    with pytest.raises(AnsibleFilterError, match='groups must be a list'):
        oom_host_summary({}, 'a', groups='db')
    with pytest.raises(AnsibleFilterError, match='oom_merge needs a list of partial reports'):
        oom_merge('report.json')
    with pytest.raises(AnsibleFilterError, match='oom_merge: input 1 is a full report'):
        oom_merge([oom_report(['a'], [facts([])])])
    with pytest.raises(AnsibleFilterError, match='oom_report: diagnosis_slice must be N/M'):
        oom_report(['a'], [facts([])], partial={'run': 'r', 'slice': '3/2'})
    with pytest.raises(AnsibleFilterError, match='oom_stats needs a report'):
        oom_stats({'events': []})
