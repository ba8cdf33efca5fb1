# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet report: findings rules, host states, de-duplication, query, and the four renderers.

Events come from the real parser (oom_sources.gather) run on the role's bundled EulerOS sample and on
the parser's fixture logs, so the report is tested on what oom_facts really returns; the rules that
need a precise shape (growth between kills, live usage) use small hand-made events.
"""

from __future__ import annotations

import copy
import datetime
import html
import json
import os
import re
import sys
from html.parser import HTMLParser

import pytest

try:
    import jmespath  # noqa: F401  pylint: disable=unused-import
    HAS_JMESPATH = True
except ImportError:
    HAS_JMESPATH = False

# jmespath is a controller requirement of the event query (requirements-dev.txt); ansible-test's unit
# venv gets it from tests/unit/requirements.txt.
needs_jmespath = pytest.mark.skipif(not HAS_JMESPATH, reason='jmespath is not installed (tests/unit/requirements.txt)')

from ansible_collections.oomkit.linux.plugins.module_utils.oom_sources import gather
from ansible_collections.oomkit.linux.plugins.plugin_utils import oom_report as R

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
SAMPLE = os.path.join(COLLECTION, 'roles', 'diagnosis', 'files', 'samples', 'euleros-messages.log')
FIXTURES = os.path.join(COLLECTION, 'tests', 'unit', 'fixtures', 'oom_logs')
NOW = datetime.datetime(2026, 11, 26, 12, 0, 0, tzinfo=datetime.timezone.utc)

HOSTILE = '<script>document.title="pwned"</script>'
XSS = '<script>alert(1)</script>'


def facts_result(paths, sysctl=None, root=None):
    """A registered oom_facts result for log files, from the real parser (no host config read)."""
    data = gather(sources=['files'], paths=paths, config=False, enrich=False, root=root or '/')
    config = {'kernel': '5.10.0-136.12.0.86.h1139.eulerosv2r12.x86_64', 'cgroup_version': 'v1',
              'memory_cgroup_version': 'v1', 'memory_cgroup_root': '/sys/fs/cgroup/memory',
              'vmstat_oom_kill': len(data['events']), 'cgroups_with_oom': [],
              'sysctl': dict({'vm.panic_on_oom': 0, 'vm.oom_dump_tasks': 1, 'vm.oom_kill_allocating_task': 0},
                             **(sysctl or {}))}
    return {'changed': False, 'ansible_facts': {'oom': {'events': data['events'], 'summary': data['summary'],
                                                        'userspace_events': data['userspace_events'],
                                                        'config': config, 'sources': data['sources']}}}


def config_only(sysctl=None, vmstat=0, events=None, in_container=None):
    result = facts_result([], sysctl)
    result['ansible_facts']['oom']['config']['vmstat_oom_kill'] = vmstat
    if events is not None:
        result['ansible_facts']['oom']['events'] = events
    return result


def event(**fields):
    base = dict((k, None) for k in R.EVENT_FIELDS)
    base.update({'source': '/var/log/messages', 'sources': ['/var/log/messages'], 'evidence': [], 'order': 0})
    base.update(fields)
    return base


def probe(processes=(), runtimes=(), cgroups=None, in_container=False):
    """A registered oomkit.linux.oom_host_info result, as the diagnosis role runs it."""
    return {'changed': False, 'runtime_processes': list(runtimes), 'runs_containers': bool(runtimes),
            'container': {'in_container': in_container, 'runtime': 'podman' if in_container else None, 'evidence': []},
            'processes': [{'selector': {'name': p['comm']}, 'processes': [p]} for p in processes],
            'cgroups': dict((path, dict(usage, exists=True)) for path, usage in (cgroups or {}).items())}


def rules(report, host=None):
    return sorted(f['rule'] for f in report['findings'] if host is None or host in f['hosts'])


def host_severity(report, rule, host):
    """This host's severity of the finding of a rule (the per-host view under the fleet finding)."""
    record = next(r for r in report['hosts'] if r['name'] == host)
    found = [f['severity'] for f in record['findings'] if f['rule'] == rule]
    assert len(found) == 1, (rule, host, record['findings'])
    return found[0]


def finding(report, rule, host=None):
    found = [f for f in report['findings'] if f['rule'] == rule and (host is None or host in f['hosts'])]
    assert len(found) == 1, (rule, report['findings'])
    return found[0]


@pytest.fixture(scope='module')
def sample_report():
    hosts = ['euler1', 'db7', 'ghost']
    results = [facts_result([SAMPLE]), facts_result([os.path.join(FIXTURES, 'kernel-5.10-openeuler-rfc3339.log')]),
               {'unreachable': True, 'msg': 'Failed to connect to the host via ssh', 'changed': False}]
    probes = [probe([{'pid': 1, 'comm': 'sshd', 'ppid': 1, 'oom_score_adj': -1000},
                     {'pid': 9, 'comm': 'systemd-journal', 'ppid': 1, 'oom_score_adj': 0}]), probe(), {}]
    return R.build_report(hosts, results, probes, active_hosts=hosts, now=NOW,
                          options={'parameters': {'sources': ['files']}})


# --- the report from the bundled EulerOS sample --------------------------------------------------------------

def test_sample_report_counts_every_cause_and_ignores_userspace_noise(sample_report):
    s = sample_report['summary']
    assert s['events_by_cause'] == {'cgroup_limit': 2, 'parent_cgroup_limit': 1, 'system_memory': 3,
                                    'numa_node_or_policy': 1, 'fragmentation': 1}
    assert s['events_by_host'] == {'euler1': 7, 'db7': 1}
    assert s['hosts_total'] == 3 and s['hosts_ok'] == 2 and s['hosts_unreachable'] == 1
    assert s['unreachable_hosts'] == ['ghost']
    assert sample_report['unreachable_hosts'] == [{'name': 'ghost', 'message': 'Failed to connect to the host via ssh'}]
    # kubelet / node-problem-detector / myapp lines that mention OOM did not make events
    assert 'fake' not in [e['killed_comm'] for e in sample_report['events']]
    assert s['first_kill'] == '2026-11-24T01:12:44Z'
    assert s['last_kill'] == '2026-11-25T14:10:06Z'


def test_sample_report_schema_is_stable(sample_report):
    assert sample_report['schema'] == 'oomkit.linux.diagnosis.report'
    assert sample_report['schema_version'] == 2
    assert sorted(sample_report) == ['events', 'events_truncated', 'failed_hosts', 'findings', 'fleet', 'generated_at',
                                     'hosts', 'parameters', 'partial', 'proposal', 'schema', 'schema_version', 'summary',
                                     'title', 'unreachable_hosts', 'userspace_events', 'userspace_events_truncated']
    assert sample_report['partial'] is None
    assert sample_report['generated_at'] == '2026-11-26T12:00:00Z'
    for e in sample_report['events']:
        assert set(R.EVENT_FIELDS) <= set(e)
        assert re.match(r'^E\d+$', e['id']) and e['seen_on'] == [e['inventory_host']]
    times = [R.parse_time(e['time']) for e in sample_report['events']]
    assert times == sorted(times)
    assert json.loads(R.render_json(sample_report)) == sample_report


def test_sample_report_findings(sample_report):
    assert rules(sample_report, 'euler1') == ['cgroup_limit_repeated', 'critical_unprotected', 'fragmentation',
                                              'numa_policy_kill', 'repeated_kill_growing', 'system_memory_exhausted']
    leak = finding(sample_report, 'repeated_kill_growing')
    assert leak['severity'] == 'high' and 'cache-loader' in leak['title']
    assert 'resident memory at each kill (kB): 4101400, 5301400' in leak['evidence']
    cg = finding(sample_report, 'cgroup_limit_repeated')
    assert cg['title'] == 'cgroup /batch/report-job keeps hitting its memory limit'
    assert len(cg['event_ids']) == 2
    # the two java kills are explained by the cgroup finding: no separate "java killed twice"
    assert 'repeated_kill' not in rules(sample_report)
    frag = finding(sample_report, 'fragmentation')
    assert 'order 3 blocks (8 contiguous pages)' in frag['detail']
    unprotected = finding(sample_report, 'critical_unprotected', 'euler1')
    assert unprotected['subject'] == 'systemd-journal'  # sshd has -1000: protected
    assert unprotected['hosts'] == ['euler1'] and unprotected['hosts_count'] == 1
    severities = [R.SEVERITY_RANK[f['severity']] for f in sample_report['findings']]
    assert severities == sorted(severities)
    assert [f['id'] for f in sample_report['findings']] == ['F%d' % i for i in range(1, len(severities) + 1)]


# --- host states -------------------------------------------------------------------------------------------------

def test_host_states_unreachable_failed_not_run_and_removed():
    hosts = ['ok1', 'down', 'broken', 'removed', 'skipped']
    results = [config_only(), {'unreachable': True, 'msg': 'timeout'}, {'failed': True, 'msg': 'boom'}, {},
               {'skipped': True}]
    report = R.build_report(hosts, results, active_hosts=['ok1', 'down', 'broken', 'skipped'], now=NOW)
    status = dict((h['name'], h['status']) for h in report['hosts'])
    assert status == {'ok1': 'ok', 'down': 'unreachable', 'broken': 'failed', 'removed': 'unreachable',
                      'skipped': 'not_run'}
    assert report['summary']['unreachable_hosts'] == ['down', 'removed']
    assert report['summary']['failed_hosts'] == ['broken', 'skipped']
    assert report['failed_hosts'][0] == {'name': 'broken', 'message': 'boom'}


def test_probe_failure_is_a_note_not_a_failure():
    failed = {'failed': True, 'msg': 'MODULE FAILURE', 'module_stderr': '/bin/sh: python3: not found', 'rc': 127}
    report = R.build_report(['h'], [config_only()], [failed], now=NOW)
    assert report['hosts'][0]['status'] == 'ok'
    assert 'python3: not found' in report['hosts'][0]['message']


def test_result_list_length_must_match():
    with pytest.raises(R.ReportError, match='2 entries for 1 hosts'):
        R.build_report(['a'], [{}, {}])


# --- shared kernel de-duplication ----------------------------------------------------------------------------------

def test_same_kernel_event_on_two_containers_is_counted_once():
    shared = event(uptime=215.276724, killed_pid=12874, killed_comm='python3', cause='cgroup_limit',
                   time='2026-11-26T01:00:00+00:00', memcg='/x')
    hosts = ['c1', 'c2', 'c3']
    results = [config_only(events=[shared]), config_only(events=[dict(shared)]), config_only(events=[])]
    report = R.build_report(hosts, results, now=NOW)
    assert report['summary']['events_total'] == 1
    assert report['summary']['events_shared_between_hosts'] == 1
    assert report['events'][0]['seen_on'] == ['c1', 'c2']
    assert [h['events'] for h in report['hosts']] == [1, 1, 0]
    per_host = R.build_report(hosts, results, now=NOW, options={'dedupe_shared_kernel': False})
    assert per_host['summary']['events_total'] == 2


# --- rules on precise shapes -------------------------------------------------------------------------------------

def test_cgroup_at_limit_now_is_high():
    kills = [event(uptime=10.0 + i, killed_pid=100 + i, killed_comm='job', cause='cgroup_limit', memcg='/batch',
                   task_memcg='/batch', memcg_usage_kb=1024, memcg_limit_kb=1024, failcnt=5 + i,
                   time='2026-11-26T0%d:00:00+00:00' % i, anon_rss_kb=1000) for i in range(2)]
    live = probe(cgroups={'/batch': {'usage_kb': 1020, 'limit_kb': 1024}})
    report = R.build_report(['h'], [config_only(events=kills)], [live], now=NOW)
    cg = finding(report, 'cgroup_limit_repeated')
    assert cg['severity'] == 'high'
    assert 'live usage now 1020kB of 1024kB (100%)' in cg['evidence']
    assert 'sits at the limit now' in cg['detail']
    calm = R.build_report(['h'], [config_only(events=kills)], [probe(cgroups={'/batch': {'usage_kb': 100, 'limit_kb': 1024}})],
                          now=NOW)
    assert finding(calm, 'cgroup_limit_repeated')['severity'] == 'medium'


def test_repeated_kill_not_growing_and_threshold():
    kills = [event(uptime=float(i), killed_pid=i, killed_comm='app', cause='system_memory', anon_rss_kb=5000,
                   time='2026-11-2%dT00:00:00+00:00' % i) for i in (1, 2, 3)]
    report = R.build_report(['h'], [config_only(events=kills)], now=NOW)
    rep = finding(report, 'repeated_kill')
    assert rep['severity'] == 'medium' and rep['title'] == 'app is OOM-killed again and again'
    assert 'chosen as the OOM victim 3 times' in rep['detail']
    assert 'repeated_kill_growing' not in rules(report)
    higher = R.build_report(['h'], [config_only(events=kills)], now=NOW, options={'repeat_threshold': 4})
    assert 'repeated_kill' not in rules(higher)


def test_panic_on_oom_on_container_host_is_critical():
    report = R.build_report(['k8s', 'plain', 'two'], [config_only({'vm.panic_on_oom': 2}), config_only({'vm.panic_on_oom': 1}),
                                                      config_only({'vm.panic_on_oom': 2})],
                            [probe(runtimes=['containerd', 'kubelet']), probe(), probe()], now=NOW)
    # one finding per value of the sysctl; its severity is the worst host's, each host keeps its own
    two = finding(report, 'panic_on_oom', 'k8s')
    assert two['subject'] == 'vm.panic_on_oom=2' and two['hosts'] == ['k8s', 'two']
    assert two['severity'] == 'critical' and two['hosts_by_severity'] == {'critical': 1, 'medium': 1}
    assert 'any container that exceeds its memory limit panics the whole host' in two['detail']
    assert 'k8s: container runtimes: containerd, kubelet' in two['evidence']
    assert host_severity(report, 'panic_on_oom', 'k8s') == 'critical'
    assert host_severity(report, 'panic_on_oom', 'two') == 'medium'
    assert finding(report, 'panic_on_oom', 'plain')['severity'] == 'low'
    assert report['summary']['worst_severity'] == 'critical'


def test_oom_dump_tasks_zero_and_allocating_task():
    report = R.build_report(['h'], [config_only({'vm.oom_dump_tasks': 0, 'vm.oom_kill_allocating_task': 1})], now=NOW)
    assert rules(report) == ['oom_dump_tasks_disabled', 'oom_kill_allocating_task']
    assert finding(report, 'oom_dump_tasks_disabled')['severity'] == 'medium'


def test_numa_cpuset_panic_no_killable_and_critical_victim():
    events = [event(uptime=1.0, killed_pid=1, killed_comm='numa-app', cause='numa_node_or_policy', nodemask='1'),
              event(uptime=2.0, killed_pid=2, killed_comm='x', cause='cpuset', cpuset='/rt', mems_allowed='1'),
              event(uptime=3.0, killed_pid=3, killed_comm='sshd', cause='system_memory', panic=True),
              event(uptime=4.0, killed_pid=None, killed_comm=None, cause='system_memory', no_killable=True)]
    report = R.build_report(['h'], [config_only(events=events, vmstat=4)], now=NOW)
    assert rules(report) == ['cpuset_kill', 'critical_process_killed', 'no_killable_process', 'numa_policy_kill',
                             'oom_panic', 'system_memory_exhausted']
    assert 'NUMA node(s) 1' in finding(report, 'numa_policy_kill')['detail']
    assert finding(report, 'critical_process_killed')['severity'] == 'high'
    assert [f['severity'] for f in report['findings']][:2] == ['critical', 'critical']


def test_kills_without_logs():
    report = R.build_report(['vm', 'ctr'], [config_only(vmstat=3), config_only(vmstat=3)],
                            [probe(), probe(in_container=True)], now=NOW)
    assert finding(report, 'kills_without_logs')['hosts'] == ['ctr', 'vm']
    assert host_severity(report, 'kills_without_logs', 'vm') == 'medium'
    assert host_severity(report, 'kills_without_logs', 'ctr') == 'info'
    windowed = R.build_report(['vm'], [config_only(vmstat=3)], now=NOW, options={'parameters': {'since': '1d'}})
    assert 'kills_without_logs' not in rules(windowed)


def test_min_severity_filters_findings(sample_report):
    del sample_report
    hosts = ['euler1']
    results = [facts_result([SAMPLE])]
    high = R.build_report(hosts, results, now=NOW, options={'min_severity': 'high'})
    assert set(f['severity'] for f in high['findings']) == {'high'}
    assert high['summary']['findings_by_severity']['medium'] == 0


# --- jmespath query ----------------------------------------------------------------------------------------------

@needs_jmespath
def test_event_query_keeps_matching_events_and_findings_follow():
    report = R.build_report(['euler1'], [facts_result([SAMPLE])], now=NOW,
                            options={'event_query': "[?cause=='cgroup_limit' || cause=='parent_cgroup_limit']"})
    assert report['summary']['events_total'] == 3
    assert report['summary']['events_before_query'] == 7
    assert rules(report) == ['cgroup_limit_repeated']
    assert report['parameters']['event_query'] == "[?cause=='cgroup_limit' || cause=='parent_cgroup_limit']"
    by_size = R.build_report(['euler1'], [facts_result([SAMPLE])], now=NOW,
                             options={'event_query': '[?anon_rss_kb > `5000000`]'})
    assert sorted(e['killed_comm'] for e in by_size['events']) == ['cache-loader', 'mysqld']


@needs_jmespath
@pytest.mark.parametrize('query, message', [
    ('[?cause==', 'bad jmespath expression'),
    ('[].killed_comm', 'must return a list of events'),
])
def test_bad_event_query_is_a_clear_error(query, message):
    with pytest.raises(R.ReportError, match=re.escape(message)):
        R.build_report(['euler1'], [facts_result([SAMPLE])], now=NOW, options={'event_query': query})


def test_event_query_without_jmespath_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, 'jmespath', None)  # import jmespath now raises ImportError
    with pytest.raises(R.ReportError, match=re.escape('the jmespath Python library is needed on the controller')):
        R.build_report(['euler1'], [facts_result([SAMPLE])], now=NOW, options={'event_query': '[]'})
    # without a query, jmespath is not needed
    assert R.build_report(['euler1'], [facts_result([SAMPLE])], now=NOW)['summary']['events_total'] == 7


@pytest.mark.parametrize('options, message', [
    ({'nope': 1}, "unknown report option 'nope'"),
    ({'repeat_threshold': 1}, 'repeat_threshold must be 2 or more'),
    ({'min_severity': 'urgent'}, 'min_severity must be one of'),
    ({'max_report_events': 'many'}, 'max_report_events must be an integer'),
])
def test_bad_options(options, message):
    with pytest.raises(R.ReportError, match=re.escape(message)):
        R.merge_options(options)


def test_options_accept_survey_strings():
    opts = R.merge_options({'repeat_threshold': '3', 'critical_processes': 'sshd, mysqld,', 'max_report_events': '7'})
    assert opts['repeat_threshold'] == 3 and opts['max_report_events'] == 7
    assert opts['critical_processes'] == ['sshd', 'mysqld']


def test_max_report_events_keeps_the_newest():
    report = R.build_report(['euler1'], [facts_result([SAMPLE])], now=NOW, options={'max_report_events': 2})
    assert report['events_truncated'] is True
    assert [e['killed_comm'] for e in report['events']] == ['numa-app', 'mysqld']
    assert report['summary']['events_total'] == 7


# --- rendering and escaping -----------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def hostile_report():
    evil = [event(uptime=100.0 + i, killed_pid=666 + i, killed_comm=name, invoker=name, cause='cgroup_limit',
                  memcg='/evil/"quoted"\n{{ lookup(\'pipe\', \'id\') }}', time='2026-11-26T0%d:00:00+00:00' % i,
                  evidence=['kill line says "%s"' % name])
            for i, name in enumerate([XSS, HOSTILE, 'a|b`c*d_e[f](g)', 'back\\slash"quote'])]
    return R.build_report(['evil-host', 'ghost'], [config_only(events=evil), {'unreachable': True, 'msg': '<b>down</b>'}],
                          now=NOW)


class _Collector(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.tags = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_escapes_every_log_string(hostile_report):
    page = R.render_html(hostile_report)
    parser = _Collector()
    parser.feed(page)
    assert 'script' not in parser.tags
    text = ''.join(parser.text)
    assert XSS in text and HOSTILE in text
    assert '<b>down</b>' in text
    assert html.escape(XSS) in page
    assert '<script' not in page.lower()
    # self-contained: no external asset and a policy that forbids scripts anyway
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page)
    assert "default-src 'none'" in page


def test_html_has_the_kills_per_day_chart(sample_report):
    page = R.render_html(sample_report)
    svg = page[page.index('<svg id="kills-by-day"'):page.index('</svg>')]
    days = sample_report['fleet']['kills_by_day']
    assert [d['day'] for d in days] == ['2026-11-24', '2026-11-25']
    assert sum(d['kills'] for d in days) == 8
    # one bar (a group) per day, one segment per cause of that day
    assert svg.count('<g class="day">') == 2
    assert svg.count('<rect class="bar"') == sum(len(d['by_cause']) for d in days)
    assert 'fill="%s"' % R.CAUSE_COLOURS['numa_node_or_policy'] in svg
    assert '>2026-11-24</text>' in svg and '>2026-11-25</text>' in svg
    # fleet overview before findings before hosts; every host in its own collapsed section
    assert page.index('id="overview"') < page.index('id="findings"') < page.index('id="hosts"')
    assert page.count('<details class="host">') == 3


def test_markdown_escapes_and_fits_a_ticket(hostile_report, sample_report):
    text = R.render_markdown(hostile_report)
    assert '<script' not in text and '<b>' not in text
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in text
    assert 'a\\|b\\`c\\*d\\_e\\[f\\](g)' in text
    rows = [line for line in text.splitlines() if line.startswith('| F')]
    assert rows
    for line in rows:
        assert line.count(' | ') == 3  # no cell was split by a pipe or a newline
    assert 'Not diagnosed: 1 unreachable (ghost).' in text
    assert 'http' not in text.replace('http\u200b', '')
    sample = R.render_markdown(sample_report)
    assert len(sample.splitlines()) < 40
    assert '| F1 | high | 2: db7, euler1 | system-wide OOM kills, on 2 hosts |' in sample
    assert '- Most killed processes: ' in sample and '- Kills by group: ' in sample


def test_prometheus_textfile(sample_report, hostile_report):
    text = R.render_prometheus(sample_report)
    assert 'oomkit_oom_kills_total{host="euler1",cause="system_memory"} 2' in text
    assert 'oomkit_oom_kills_total{host="db7",cause="system_memory"} 1' in text
    # every cause for every diagnosed host, zero included (absent() and rate() need the series)
    assert 'oomkit_oom_kills_total{host="db7",cause="cgroup_limit"} 0' in text
    assert 'oomkit_oom_kills_total{host="ghost"' not in text
    assert text.count('oomkit_oom_kills_total{') == 2 * len(R.CAUSES)
    # the host's state is a state set: the label set stays when the state changes
    assert 'oomkit_diagnosis_host_up{host="ghost"} 0' in text
    assert 'oomkit_diagnosis_host_state{host="ghost",state="unreachable"} 1' in text
    assert 'oomkit_diagnosis_host_state{host="ghost",state="ok"} 0' in text
    assert 'oomkit_diagnosis_host_state{host="euler1",state="ok"} 1' in text
    assert '# TYPE oomkit_oom_kills_total counter' in text and '# TYPE oomkit_vmstat_oom_kill_total counter' in text
    last = R.parse_time('2026-11-25T12:22:51.004000+00:00').timestamp()
    assert 'oomkit_oom_last_kill_timestamp_seconds{host="euler1"} %.3f' % last in text
    assert 'oomkit_diagnosis_findings{host="euler1",severity="high"} 2' in text
    assert 'oomkit_diagnosis_findings{host="db7",severity="critical"} 0' in text
    assert 'oomkit_diagnosis_rule_hosts{rule="repeated_kill_growing"} 1' in text
    assert 'oomkit_diagnosis_rule_hosts{rule="oom_panic"} 0' in text
    for line in text.splitlines():
        assert line.startswith('#') or re.match(r'^[a-z_]+(\{[^\n]*\})? [0-9.e+-]+$', line), line
    assert R.prom_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert len(R.render_prometheus(hostile_report).splitlines()) > 5


def test_render_unknown_format():
    with pytest.raises(R.ReportError, match='unknown report format'):
        R.render({}, 'pdf')


def test_stats_summary(sample_report):
    stats = R.stats(sample_report, {'json': '/x/report.json'})
    assert stats['events_total'] == 8 and stats['unreachable_hosts'] == ['ghost']
    assert stats['worst_severity'] == 'high' and stats['report_files'] == {'json': '/x/report.json'}
    assert 'events' not in stats and 'hosts' not in stats
    assert len(json.dumps(stats)) < 3000


def test_identical_hosts_give_one_finding_per_problem():
    """1,000 hosts with the same problems: one finding per problem, with the hosts and their groups."""
    hosts = ['web%d' % i for i in range(1, 1001)]
    results = [config_only({'vm.panic_on_oom': 1}, events=[
        event(uptime=float(10 + k), killed_pid=1000 * i + k, killed_comm='java', cause='cgroup_limit',
              memcg='/system.slice/app.service', task_memcg='/system.slice/app.service',
              time='2026-11-2%dT0%d:00:00+00:00' % (4 + k, i % 10), anon_rss_kb=5000) for k in range(2)])
        for i in range(1000)]
    groups = dict((name, ['db' if i < 100 else 'web']) for i, name in enumerate(hosts))
    report = R.build_report(list(reversed(hosts)), list(reversed(results)), groups=groups, now=NOW)
    assert sorted(f['rule'] for f in report['findings']) == ['cgroup_limit_repeated', 'panic_on_oom']
    cg = finding(report, 'cgroup_limit_repeated')
    assert cg['hosts_count'] == 1000 and cg['hosts'][:3] == ['web1', 'web2', 'web3']
    assert cg['groups'] == {'db': 100, 'web': 900}
    assert cg['title'] == 'cgroup /system.slice/app.service keeps hitting its memory limit, on 1000 hosts'
    assert cg['first'] == '2026-11-24T00:00:00Z' and cg['last'] == '2026-11-25T09:00:00Z'
    assert cg['events_count'] == 2000 and len(cg['event_ids']) == 20
    assert len(cg['evidence']) <= 16 and cg['evidence'][-1] == '... and 995 more host(s)'
    # natural host order, whatever order the hosts came in; per-host view under the fleet view
    assert [x['name'] for x in report['hosts']][:3] == ['web1', 'web2', 'web3']
    assert report['hosts'][0]['findings'] == [{'id': 'F2', 'rule': 'cgroup_limit_repeated', 'severity': 'medium'},
                                              {'id': 'F3', 'rule': 'panic_on_oom', 'severity': 'low'}] or \
        [f['rule'] for f in report['hosts'][0]['findings']] == ['cgroup_limit_repeated', 'panic_on_oom']
    fleet = report['fleet']
    assert fleet['top_units'][0] == {'name': 'app.service', 'kills': 2000, 'hosts': 1000}
    assert fleet['top_processes'][0] == {'name': 'java', 'kills': 2000, 'hosts': 1000}
    shares = [(g['name'], g['kills'], g['kills_share_percent']) for g in fleet['groups']]
    assert shares == [('web', 1800, 90.0), ('db', 200, 10.0)]
    assert [d['kills'] for d in fleet['kills_by_day']] == [1000, 1000]
    assert len(fleet['hosts_ranked']) == 20
    # everything in one group: the breakdown says so
    only_db = R.build_report(hosts[:3], results[:3], groups={'web1': ['db'], 'web2': ['db'], 'web3': ['db']}, now=NOW)
    assert [(g['name'], g['kills_share_percent']) for g in only_db['fleet']['groups']] == [('db', 100.0)]
    assert 'Kills by group: db 100.0% (6 kill(s) on 3 of 3 host(s))' in R.render_markdown(only_db)
    assert only_db['fleet']['all_kills_in_groups'] == ['db'] and fleet['all_kills_in_groups'] == []
    assert '- All kills are in group db.' in R.render_markdown(only_db)
    assert '<b>All kills are in group db.</b>' in R.render_html(only_db)


def test_host_summary_keeps_only_what_the_report_uses_and_caps_events():
    from ansible_collections.oomkit.linux.plugins.plugin_utils import oom_report_hosts as H
    from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import EVENT_FIELDS
    # every field the report reads is an oom_facts event field (one home: oom_log.EVENT_FIELDS)
    assert set(H.REPORT_EVENT_FIELDS) <= set(EVENT_FIELDS)
    raw = facts_result([SAMPLE])
    raw['ansible_facts']['oom']['events'][0]['killed_comm'] = 'x' * 5000
    summary = H.host_summary('euler1', raw, groups=['db', 'all'], max_events=3)
    assert H.is_summary(summary) and summary['groups'] == ['db']
    assert len(summary['events']) == 3 and summary['events_total'] == 7 and summary['events_not_sent'] == 4
    # (oom_facts now sets verified on every event: an optional field of the summary)
    assert all(set(e) <= set(H.REPORT_EVENT_FIELDS) | set(H.OPTIONAL_EVENT_FIELDS) and "killed_comm" in e
               for e in summary["events"])
    assert len(json.dumps(summary)) < 8000
    everything = H.host_summary('euler1', raw)
    assert len(everything['events'][0]['killed_comm']) == H.MAX_TEXT
    # a report from summaries is the report from the raw results
    direct = R.build_report(['euler1'], [raw], now=NOW)
    via = R.build_report(['euler1'], [everything], now=NOW)
    assert via == direct


SCHEMA_FILE = os.path.join(COLLECTION, 'roles', 'diagnosis', 'files', 'report.schema.json')


def test_reports_validate_against_the_published_json_schema(sample_report, hostile_report):
    jsonschema = pytest.importorskip('jsonschema')
    with open(SCHEMA_FILE) as handle:
        schema = json.load(handle)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    big = R.build_report(['a', 'b', 'c'], [config_only({'vm.panic_on_oom': 2}, vmstat=2), {'failed': True, 'msg': 'x'}, {}],
                         [probe(runtimes=['dockerd'], processes=[{'pid': 5, 'comm': 'sshd', 'ppid': 1, 'oom_score_adj': 0}])],
                         active_hosts=['a', 'b'], now=NOW)
    for report in (sample_report, hostile_report, big):
        errors = sorted(validator.iter_errors(json.loads(R.render_json(report))), key=str)
        assert not errors, [e.message for e in errors][:5]
    broken = json.loads(R.render_json(sample_report))
    broken['summary']['events_by_cause']['cosmic_rays'] = 1
    assert list(validator.iter_errors(broken))


def test_log_host_shown_when_the_log_names_another_host():
    relayed = [event(uptime=1.0, killed_pid=1, killed_comm='x', cause='system_memory', host='db7.example.com',
                     time='2026-11-26T01:00:00+00:00'),
               event(uptime=2.0, killed_pid=2, killed_comm='y', cause='system_memory', host='loghost',
                     time='2026-11-26T02:00:00+00:00')]
    report = R.build_report(['loghost'], [config_only(events=relayed)], now=NOW)
    page = R.render_html(report)
    assert '<td>loghost (log: db7.example.com)</td>' in page
    assert '<td>loghost</td>' in page


# --- partial reports (AWX job slices) and their merge ------------------------------------------------------------

def _fleet():
    """Six hosts: two share a kernel event (containers), one is unreachable; groups from the inventory."""
    shared = event(uptime=215.276724, killed_pid=12874, killed_comm='python3', cause='cgroup_limit',
                   time='2026-11-26T01:00:00+00:00', memcg='/x', task_memcg='/x')
    hosts = ['euler1', 'db7', 'c1', 'c2', 'ghost', 'plain']
    results = [facts_result([SAMPLE]), facts_result([os.path.join(FIXTURES, 'kernel-5.10-openeuler-rfc3339.log')]),
               config_only(events=[shared]), config_only(events=[dict(shared)]),
               {'unreachable': True, 'msg': 'timeout'}, config_only({'vm.panic_on_oom': 1})]
    groups = {'euler1': ['db'], 'db7': ['db'], 'c1': ['k8s'], 'c2': ['k8s']}
    return hosts, results, groups


def _slices(hosts, results, groups, count, **mark):
    return [R.build_report(hosts[i::count], results[i::count], groups=groups, now=NOW,
                           partial=R.partial_mark('wf-7', '%d/%d' % (i + 1, count), **mark))
            for i in range(count)]


@pytest.mark.parametrize('count', [1, 2, 3, 6])
def test_merged_slices_equal_the_unsliced_report(count):
    hosts, results, groups = _fleet()
    parts = _slices(hosts, results, groups, count)
    for part in parts:
        assert part['partial']['run'] == 'wf-7' and part['partial']['slices'] == count
    merged = R.merge_reports(parts, now=NOW)
    whole = R.build_report(hosts, results, groups=groups, now=NOW)
    assert merged == whole
    assert R.merge_reports(parts[::-1], now=NOW) == merged   # the order of the inputs does not matter
    # c1 and c2 landed in different slices (count 2 and 3), and their shared kernel event is still one
    assert [e['seen_on'] for e in merged['events'] if e['killed_comm'] == 'python3'] == [['c1', 'c2']]


@needs_jmespath
def test_event_query_is_applied_by_the_merge():
    hosts, results, groups = _fleet()
    options = {'event_query': "[?cause=='cgroup_limit']"}
    parts = [R.build_report(hosts[i::2], results[i::2], groups=groups, now=NOW, options=options,
                            partial=R.partial_mark('r', None, 'p%d' % i)) for i in range(2)]
    assert sum(p['summary']['events_total'] for p in parts) > 3   # partial reports keep every event
    merged = R.merge_reports(parts, now=NOW)
    assert merged == R.build_report(hosts, results, groups=groups, now=NOW, options=options)
    assert set(e['cause'] for e in merged['events']) == {'cgroup_limit'}


def test_merge_refuses_what_does_not_belong_together():
    hosts, results, groups = _fleet()
    parts = _slices(hosts, results, groups, 3)
    other_options = dict(parts[2]['partial']['options'], repeat_threshold=5)
    cases = [
        ([], 'no partial report to merge'),
        (parts[:2], 'slice(s) 3 of 3 missing'),
        (parts + [parts[0]], 'slice(s) 1 given more than once'),
        ([parts[0], R.build_report(hosts, results, now=NOW)], 'input 2 is a full report'),
        ([parts[0], dict(parts[1], schema_version=1)], 'input 2 has schema_version 1'),
        ([parts[0], {'schema': 'other'}], 'input 2 is not an oomkit.linux diagnosis report'),
        ([parts[0], dict(parts[1], partial=dict(parts[1]['partial'], run='wf-8'))], 'different runs (wf-7, wf-8)'),
        (parts[:2] + [dict(parts[2], partial=dict(parts[2]['partial'], options=other_options))],
         'different report options'),
    ]
    for reports, message in cases:
        with pytest.raises(R.ReportError, match=re.escape(message)):
            R.merge_reports(reports)
    twice = [R.build_report(hosts[:2], results[:2], now=NOW, partial=R.partial_mark('r', None, p)) for p in ('a', 'b')]
    with pytest.raises(R.ReportError, match=re.escape('host db7 is in two partial reports (a and b)')):
        R.merge_reports(twice)
    for spec in ('0/3', '4/3', 'two', '1/x'):
        with pytest.raises(R.ReportError, match='diagnosis_slice must be N/M'):
            R.partial_mark('r', spec)


def test_partial_report_renders_and_validates():
    jsonschema = pytest.importorskip('jsonschema')
    hosts, results, groups = _fleet()
    part = _slices(hosts, results, groups, 2)[0]
    with open(SCHEMA_FILE) as handle:
        validator = jsonschema.Draft202012Validator(json.load(handle))
    assert not list(validator.iter_errors(json.loads(R.render_json(part))))
    assert 'Partial report' in R.render_html(part)
    assert 'partial report of slice 1 of run wf-7' in R.render_markdown(part)


def test_no_finding_rests_on_unverified_events_alone():
    kills = [event(uptime=float(i), killed_pid=i, killed_comm='app', cause='system_memory', anon_rss_kb=5000,
                   time='2026-11-2%dT00:00:00+00:00' % i, verified=False) for i in (1, 2, 3)]
    report = R.build_report(['h'], [config_only(events=kills)], now=NOW)
    assert report['findings'] == [] and report['summary']['events_total'] == 3
    kills[0]['verified'] = kills[1]['verified'] = True
    report = R.build_report(['h'], [config_only(events=kills)], now=NOW)
    assert rules(report) == ['repeated_kill', 'system_memory_exhausted']
    assert finding(report, 'repeated_kill')['events_count'] == 2  # the unverified kill is not evidence


def test_markdown_is_one_screen_at_a_thousand_hosts_and_links_nothing():
    hosts = ['web%d' % i for i in range(1000)]
    results = [config_only(events=[event(uptime=float(k), killed_pid=100 * i + k, killed_comm='proc%d' % (k % 30),
                                         cause=R.CAUSES[k % len(R.CAUSES)], memcg='/http://evil.example/www.x%d' % k,
                                         time='2026-11-%02dT01:00:00+00:00' % (1 + k % 28)) for k in range(25)])
               for i in range(1000)]
    groups = dict((h, ['g%d' % (i % 40), '[link](http://evil.example)']) for i, h in enumerate(hosts))
    text = R.render_markdown(R.build_report(hosts, results, groups=groups, now=NOW))
    assert len(text.splitlines()) <= 40
    assert 'http://' not in text and 'www.' not in text and not re.search(r'(?<!\\)\]\(', text)
    assert '\\[link\\]' in text  # the group name is shown, escaped
    page = R.render_html(R.build_report(hosts[:3], results[:3], groups=groups, now=NOW))
    assert 'href=' not in page and '<span class="chip">[link](http://evil.example)</span>' in page
    assert page.count('<details class="host">') == 3


# --- kills by userspace OOM killers: their own section ------------------------------------------------------

PIPELINES = os.path.join(COLLECTION, 'tests', 'unit', 'fixtures', 'oom_pipelines')


@pytest.fixture(scope='module')
def userspace_fleet():
    """Two hosts whose journals (rendered by the real journalctl and rsyslog) hold kernel kills and kills by
    systemd-oomd, earlyoom and nohang, one host with the kernel's kills only, one unreachable."""
    hosts = ['app1', 'app2', 'euler1', 'ghost']
    results = [facts_result([os.path.join(PIPELINES, 'journalctl-all-short.log')]),
               facts_result([os.path.join(PIPELINES, 'rsyslog-traditional.log')]), facts_result([SAMPLE]),
               {'unreachable': True, 'msg': 'timeout'}]
    return hosts, results, {'app1': ['web'], 'app2': ['web'], 'euler1': ['db']}


def test_userspace_kills_are_counted_apart_from_kernel_kills(userspace_fleet):
    hosts, results, groups = userspace_fleet
    report = R.build_report(hosts, results, groups=groups, now=NOW)
    s = report['summary']
    without = copy.deepcopy(results)
    for result in without[:3]:
        result['ansible_facts']['oom']['userspace_events'] = []
        result['ansible_facts']['oom']['summary']['userspace_total'] = 0
    kernel_only = R.build_report(hosts, without, groups=groups, now=NOW)
    # the kernel's counts, causes and findings do not change with the userspace kills
    assert s['events_total'] == kernel_only['summary']['events_total']
    assert s['events_by_cause'] == kernel_only['summary']['events_by_cause']
    assert report['findings'] == kernel_only['findings']
    assert s['userspace_kills_total'] == 8 and s['hosts_with_userspace_kills'] == 2
    assert kernel_only['summary']['userspace_kills_total'] == 0
    userspace = report['fleet']['userspace']
    assert userspace['kills_by_killer'] == {'earlyoom': 2, 'nohang': 2, 'systemd-oomd': 4}
    assert userspace['kills_by_reason'] == {'low_memory_and_swap': 4, 'memory_pressure': 2, 'swap': 2}
    assert {'name': 'leaky.service', 'kills': 2, 'hosts': 2} in userspace['top_victims']
    assert [h['name'] for h in userspace['hosts_ranked']] == ['app1', 'app2']
    by_host = dict((h['name'], h) for h in report['hosts'])
    assert by_host['app1']['userspace_total'] == 4 and by_host['euler1']['userspace_total'] == 0
    assert by_host['app1']['userspace_by_killer'] == {'earlyoom': 1, 'nohang': 1, 'systemd-oomd': 2}
    assert 'userspace_events' not in by_host['app1']
    assert [u['inventory_host'] for u in report['userspace_events']].count('app2') == 4
    assert set(report['userspace_events'][0]) == set(R.REPORT_USERSPACE_FIELDS) | {'inventory_host'}
    assert R.stats(report)['userspace_kills_total'] == 8


def test_userspace_report_fields_are_fields_of_the_parser():
    from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import USERSPACE_FIELDS
    assert set(R.REPORT_USERSPACE_FIELDS) <= set(USERSPACE_FIELDS)


def test_userspace_kills_in_every_rendering(userspace_fleet):
    hosts, results, groups = userspace_fleet
    report = R.build_report(hosts, results, groups=groups, now=NOW)
    page = R.render(report, 'html')
    section = page.split('<h2 id="userspace-title">', 1)[1].split('<h2', 1)[0]
    assert '8 kill(s) on 2 host(s) by earlyoom (2), nohang (2), systemd-oomd (4)' in section
    assert 'leaky (x)' in section and 'leaky.service' in section and 'session-3.scope' in section
    assert '<b>8</b>userspace kills' in page
    ticket = R.render(report, 'markdown')
    assert ('- Userspace OOM killers (not kernel OOM kills): 8 kill(s) on 2 host(s): earlyoom 2, nohang 2, '
            'systemd-oomd 4; most killed:') in ticket
    prom = R.render(report, 'prometheus')
    assert 'oomkit_userspace_oom_kills_total{host="app1",killer="systemd-oomd"} 2' in prom
    assert 'oomkit_userspace_oom_kills_total{host="euler1",killer="nohang"} 0' in prom
    assert 'host="ghost",killer=' not in prom
    quiet = R.build_report(['euler1'], [results[2]], now=NOW)
    assert 'No kill by systemd-oomd, earlyoom or nohang found.' in R.render(quiet, 'html')
    assert 'Userspace OOM killers' not in R.render(quiet, 'markdown')


def test_userspace_kill_strings_are_escaped(userspace_fleet):
    hosts, results, groups = userspace_fleet
    hostile = copy.deepcopy(results[0])
    for uev in hostile['ansible_facts']['oom']['userspace_events']:
        uev.update(victim_comm=XSS, unit=HOSTILE, reason='<i>x</i>')
    report = R.build_report(['evil'], [hostile], now=NOW)
    page = R.render(report, 'html')
    assert XSS not in page and HOSTILE not in page and '<i>x</i>' not in page
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in page
    assert '<script' not in R.render(report, 'markdown')


@pytest.mark.parametrize('count', [2, 3])
def test_userspace_kills_survive_the_merge_of_slices(userspace_fleet, count):
    hosts, results, groups = userspace_fleet
    parts = _slices(hosts, results, groups, count)
    merged = R.merge_reports(parts, now=NOW)
    assert merged == R.build_report(hosts, results, groups=groups, now=NOW)
    assert merged['summary']['userspace_kills_total'] == 8
