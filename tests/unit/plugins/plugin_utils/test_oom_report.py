# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet report: findings rules, host states, de-duplication, query, and the four renderers.

Events come from the real parser (oom_sources.gather) run on the role's bundled EulerOS sample and on
the parser's fixture logs, so the report is tested on what oom_facts really returns; the rules that
need a precise shape (growth between kills, live usage) use small hand-made events.
"""

from __future__ import annotations

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
    return sorted(f['rule'] for f in report['findings'] if host is None or f['host'] == host)


def finding(report, rule, host=None):
    found = [f for f in report['findings'] if f['rule'] == rule and (host is None or f['host'] == host)]
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
    assert sample_report['schema_version'] == 1
    assert sorted(sample_report) == ['events', 'events_truncated', 'failed_hosts', 'findings', 'generated_at', 'hosts',
                                     'parameters', 'schema', 'schema_version', 'summary', 'title', 'unreachable_hosts']
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
    assert unprotected['title'].endswith('systemd-journal')  # sshd has -1000: protected
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
    assert rep['severity'] == 'medium' and rep['title'] == 'app was OOM-killed 3 times'
    assert 'repeated_kill_growing' not in rules(report)
    higher = R.build_report(['h'], [config_only(events=kills)], now=NOW, options={'repeat_threshold': 4})
    assert 'repeated_kill' not in rules(higher)


def test_panic_on_oom_on_container_host_is_critical():
    report = R.build_report(['k8s', 'plain', 'two'], [config_only({'vm.panic_on_oom': 2}), config_only({'vm.panic_on_oom': 1}),
                                                      config_only({'vm.panic_on_oom': 2})],
                            [probe(runtimes=['containerd', 'kubelet']), probe(), probe()], now=NOW)
    k8s = finding(report, 'panic_on_oom', 'k8s')
    assert k8s['severity'] == 'critical'
    assert 'any container that exceeds its memory limit panics the whole host' in k8s['detail']
    assert 'container runtimes: containerd, kubelet' in k8s['evidence']
    assert finding(report, 'panic_on_oom', 'plain')['severity'] == 'low'
    assert finding(report, 'panic_on_oom', 'two')['severity'] == 'medium'
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
    assert finding(report, 'kills_without_logs', 'vm')['severity'] == 'medium'
    assert finding(report, 'kills_without_logs', 'ctr')['severity'] == 'info'
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


def test_html_has_the_timeline_chart(sample_report):
    page = R.render_html(sample_report)
    svg = page[page.index('<svg id="timeline"'):page.index('</svg>')]
    assert svg.count('<circle class="kill"') == 8
    for host in ('euler1', 'db7', 'ghost'):
        assert '>%s</text>' % host in svg
    assert 'fill="%s"' % R.CAUSE_COLOURS['numa_node_or_policy'] in svg
    assert '2026-11-24 01:12 UTC' in svg


def test_markdown_escapes_and_fits_a_ticket(hostile_report, sample_report):
    text = R.render_markdown(hostile_report)
    assert '<script' not in text and '<b>' not in text
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in text
    assert 'a\\|b\\`c\\*d\\_e\\[f\\](g)' in text
    for line in text.splitlines():
        if line.startswith('| E'):
            assert line.count(' | ') == 7  # no cell was split by a pipe or a newline
    assert '- ghost: unreachable (&lt;b&gt;down&lt;/b&gt;)' in text
    sample = R.render_markdown(sample_report)
    assert len(sample.splitlines()) < 60
    assert '| F1 | high |' in sample


def test_prometheus_textfile(sample_report, hostile_report):
    text = R.render_prometheus(sample_report)
    assert 'oomkit_oom_kills_total{host="euler1",cause="system_memory"} 2' in text
    assert 'oomkit_oom_kills_total{host="db7",cause="system_memory"} 1' in text
    assert 'oomkit_diagnosis_host_up{host="ghost",status="unreachable"} 0' in text
    last = R.parse_time('2026-11-25T12:22:51.004000+00:00').timestamp()
    assert 'oomkit_oom_last_kill_timestamp_seconds{host="euler1"} %.3f' % last in text
    assert 'oomkit_diagnosis_findings{host="euler1",severity="high",rule="repeated_kill_growing"} 1' in text
    for line in text.splitlines():
        assert line.startswith('#') or re.match(r'^[a-z_]+(\{[^\n]*\})? [0-9.e+-]+$', line), line
    assert R.prom_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert len(R.render_prometheus(hostile_report).splitlines()) > 5


def test_render_unknown_format():
    with pytest.raises(R.ReportError, match='unknown report format'):
        R.render({}, 'pdf')


def test_stats_summary(sample_report):
    stats = R.stats(sample_report)
    assert stats['oom_kills'] == 8 and stats['oom_hosts_unreachable'] == ['ghost']
    assert stats['oom_worst_severity'] == 'high'


def test_timeline_of_a_big_fleet_draws_hosts_with_kills():
    hosts = ['h%03d' % i for i in range(200)]
    results = [config_only(events=[event(uptime=1.0, killed_pid=i, killed_comm='x', cause='system_memory',
                                         time='2026-11-26T01:00:00+00:00')] if i in (7, 150) else [])
               for i in range(200)]
    page = R.render_html(R.build_report(hosts, results, now=NOW))
    svg = page[page.index('<svg id="timeline"'):page.index('</svg>')]
    assert '>h007</text>' in svg and '>h150</text>' in svg and '>h008</text>' not in svg
    assert '198 host(s) without kills (or beyond 40 rows) not drawn' in svg
    assert svg.count('<circle class="kill"') == 2


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
    text = R.render_markdown(report)
    assert '| loghost (log: db7.example.com) | x |' in text
    assert '| loghost | y |' in text
    assert 'loghost (log: db7.example.com)' in R.render_html(report)
