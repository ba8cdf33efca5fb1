# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hardening proposal (plugin_utils/oom_proposal.py), and the hardening role taking it (hardening_plan).

Events come from the real parser on the role's bundled sample where the rule allows it; the rules that need
a precise shape (kills at one limit, live limits, MemAvailable) use small hand-made events, as the report's
own tests do. Every host's entry is fed to the hardening plan, the role's own validation and merge.
"""

from __future__ import annotations

import copy
import json
import os
import sys

import pytest
import yaml

from ansible_collections.oomkit.linux.plugins.module_utils.sizes import parse_size
from ansible_collections.oomkit.linux.plugins.module_utils.sysctl import KNOBS, QOS_SYSCTL
from ansible_collections.oomkit.linux.plugins.module_utils.systemd import SETTINGS_BY_OPTION
from ansible_collections.oomkit.linux.plugins.plugin_utils import hardening_plan as P
from ansible_collections.oomkit.linux.plugins.plugin_utils import oom_proposal as X
from ansible_collections.oomkit.linux.plugins.plugin_utils import oom_report as R
from ansible_collections.oomkit.linux.plugins.plugin_utils import role_args

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_oom_report import NOW, SAMPLE, config_only, event, facts_result, probe  # noqa: E402  pylint: disable=wrong-import-position
from test_hardening_plan import config as plan_config, host_info as plan_host_info  # noqa: E402  pylint: disable=wrong-import-position

GIB_KB = 1 << 20


def with_memory(result, total_kb=8 * GIB_KB, available_kb=6 * GIB_KB, memory_version='v1'):
    config = result['ansible_facts']['oom']['config']
    config.update(mem_total_kb=total_kb, mem_available_kb=available_kb, memory_cgroup_version=memory_version)
    return result


def systemd_probe(systemd=True, **kwargs):
    result = probe(**kwargs)
    result['systemd'] = {'running': systemd}
    return result


def limit_kills(path, count=3, limit_kb=65536, rss_kb=60000, comm='worker'):
    return [event(uptime=100.0 + i, killed_pid=1000 + i, killed_comm=comm, cause='cgroup_limit', memcg=path,
                  task_memcg=path, memcg_limit_kb=limit_kb, memcg_usage_kb=limit_kb, anon_rss_kb=rss_kb,
                  time='2026-11-26T0%d:00:00+00:00' % i) for i in range(count)]


def report(hosts, results, probes, **options):
    return R.build_report(hosts, results, probes, options=options or None, now=NOW)


# --- what is proposed -----------------------------------------------------------------------------------

def test_raise_for_a_cgroup_that_keeps_hitting_its_limit_while_the_host_has_room():
    result = with_memory(config_only(events=limit_kills('/system.slice/batch.service', count=4)), memory_version='v2')
    live = systemd_probe(cgroups={'/system.slice/batch.service': {'usage_kb': 65000, 'limit_kb': 65536}})
    rep = report(['web1'], [result], [live])
    items = rep['proposal']['items']
    assert [(i['variable'], i['value']) for i in items] == [
        ('hardening_unit_limits', {'unit': 'batch.service', 'memory_max': '80M', 'memory_high': '72M'})]
    item = items[0]
    assert item['confidence'] == 'high' and item['event_ids'] == ['E1', 'E2', 'E3', 'E4']
    # both sides: the kills at the limit and the host's free memory
    assert item['evidence'][0] == '4 kills at its own limit of 64 MiB (E1, E2, E3, E4)'
    assert item['evidence'][1].startswith('the host has room: 6144 MiB available of 8192 MiB')
    assert item['finding'] == next(f['id'] for f in rep['findings'] if f['rule'] == 'cgroup_limit_repeated')
    assert rep['proposal']['hosts'] == {'web1': {'hardening_unit_limits': [
        {'unit': 'batch.service', 'memory_max': '80M', 'memory_high': '72M'}]}}
    # every size parses with the unit settings table, and memory_high stays below memory_max
    value = item['value']
    for option in ('memory_max', 'memory_high'):
        SETTINGS_BY_OPTION[option].parse(value[option])  # the module's own parser accepts it
    assert parse_size(value['memory_high']) < parse_size(value['memory_max'])


def test_no_raise_without_room_and_nothing_new_once_the_limit_is_raised():
    kills = limit_kills('/batch', count=2)
    tight = with_memory(config_only(events=kills), total_kb=1 * GIB_KB, available_kb=100 * 1024)
    live = systemd_probe(systemd=False, cgroups={'/batch': {'usage_kb': 65000, 'limit_kb': 65536}})
    rep = report(['db1'], [tight], [live])
    assert rep['proposal']['items'] == []
    assert [(n['subject'], n['reason'][:24]) for n in rep['proposal']['not_proposed']] == [('/batch', 'the host has no room: 10')]
    roomy = with_memory(config_only(events=copy.deepcopy(kills)))
    rep = report(['db1'], [roomy], [live])
    assert rep['proposal']['hosts'] == {'db1': {'hardening_cgroups': [{'path': 'batch', 'max': '80M'}]}}
    raised = systemd_probe(systemd=False, cgroups={'/batch': {'usage_kb': 65000, 'limit_kb': 81920}})
    rep = report(['db1'], [with_memory(config_only(events=copy.deepcopy(kills)))], [raised])
    assert rep['proposal']['hosts'] == {}
    assert 'nothing new' in rep['proposal']['not_proposed'][0]['reason']


def test_a_leak_is_not_given_more_memory_and_one_kill_is_not_a_pattern():
    growing = [dict(e, anon_rss_kb=rss) for e, rss in zip(limit_kills('/leaky', count=3), (30000, 45000, 60000))]
    live = systemd_probe(systemd=False, cgroups={'/leaky': {'usage_kb': 1, 'limit_kb': 65536},
                                                 '/once': {'usage_kb': 1, 'limit_kb': 65536}})
    rep = report(['a'], [with_memory(config_only(events=growing + limit_kills('/once', count=1, comm='other')))], [live])
    reasons = dict((n['subject'], n['reason']) for n in rep['proposal']['not_proposed'])
    assert rep['proposal']['items'] == []
    assert 'a leak' in reasons['/leaky'] and 'fewer than the 2' in reasons['/once']


def test_the_sample_log_limit_from_peaks_protect_and_sysctls():
    result = with_memory(facts_result([SAMPLE], sysctl={'vm.oom_dump_tasks': 0, 'vm.panic_on_oom': 1}))
    live = systemd_probe(processes=[{'pid': 10, 'comm': 'mysqld', 'ppid': 1, 'oom_score_adj': 0},
                                    {'pid': 11, 'comm': 'sshd', 'ppid': 1, 'oom_score_adj': 0}],
                         runtimes=['containerd'])
    rep = report(['db1'], [result], [live], critical_processes=['sshd', 'mysqld'])
    entry = rep['proposal']['hosts']['db1']
    assert entry['hardening_protected_services_extra'] == [{'unit': 'mysqld.service', 'process': 'mysqld'}]
    # cache-loader grew before each system-wide kill: its peak (5300100 kB rss) + 25 %
    assert entry['hardening_unit_limits'] == [{'unit': 'cache-loader.service', 'memory_max': '6472M'}]
    baseline = role_args.load_spec('hardening')['hardening_sysctl_baseline']['default']
    assert entry['hardening_sysctl_extra'] == {'vm.oom_dump_tasks': baseline['vm.oom_dump_tasks'],
                                               'vm.panic_on_oom': baseline['vm.panic_on_oom']}
    reasons = dict((n['subject'], n['reason']) for n in rep['proposal']['not_proposed'])
    assert 'ssh trap' in reasons['sshd']
    by_variable = dict((i['variable'] + ':' + i['subject'], i) for i in rep['proposal']['items'])
    panic = by_variable['hardening_sysctl_extra:vm.panic_on_oom']
    assert panic['evidence'] == ['vm.panic_on_oom = 1 now', 'container runtimes running: containerd']
    assert by_variable['hardening_unit_limits:cache-loader.service']['event_ids'] == ['E4', 'E5']


def test_panic_on_oom_without_containers_and_inside_a_container_is_not_proposed():
    plain = with_memory(config_only({'vm.panic_on_oom': 1}))
    inside = with_memory(config_only({'vm.panic_on_oom': 1, 'vm.oom_dump_tasks': 0}))
    rep = report(['plain', 'inside'], [plain, inside], [systemd_probe(), systemd_probe(in_container=True)])
    assert rep['proposal']['hosts'] == {}
    reasons = dict((n['hosts'][0], n['reason']) for n in rep['proposal']['not_proposed'])
    assert 'fail-over' in reasons['plain'] and 'container' in reasons['inside']


def test_memcg_priority_only_where_the_kernel_has_it():
    killed = [event(uptime=5.0, killed_pid=7, killed_comm='mysqld', cause='system_memory', task_memcg='/system.slice/mysqld.service',
                    anon_rss_kb=900000, time='2026-11-26T01:00:00+00:00')]
    euler = with_memory(config_only({QOS_SYSCTL: 0}, events=killed))
    debian = with_memory(config_only(events=copy.deepcopy(killed)))
    rep = report(['euler', 'debian'], [euler, debian], [systemd_probe(), systemd_probe()], critical_processes=['mysqld'])
    assert rep['proposal']['hosts']['euler']['hardening_memcg_qos_enable'] == 1
    assert KNOBS[QOS_SYSCTL].minimum <= 1 <= KNOBS[QOS_SYSCTL].maximum
    assert 'hardening_memcg_qos_enable' not in rep['proposal']['hosts'].get('debian', {})
    reasons = [n for n in rep['proposal']['not_proposed'] if n['subject'] == QOS_SYSCTL]
    assert reasons[0]['hosts'] == ['debian'] and 'no vm.memcg_qos_enable' in reasons[0]['reason']


def test_hosts_with_the_same_proposal_are_grouped():
    results, probes, names = [], [], ['web%d' % i for i in range(1, 6)] + ['db1']
    for name in names:
        kills = limit_kills('/app', count=3, limit_kb=131072 if name == 'db1' else 65536)
        for i, kill in enumerate(kills):
            kill.update(killed_pid=kill['killed_pid'] + hash(name) % 1000, uptime=kill['uptime'] + len(name) + i)
        results.append(with_memory(config_only(events=kills)))
        probes.append(systemd_probe(systemd=False, cgroups={'/app': {'usage_kb': 1, 'limit_kb': 65536}}))
    rep = report(names, results, probes, dedupe_shared_kernel=False)
    items = rep['proposal']['items']
    assert [(i['id'], i['hosts_count'], i['value']['max']) for i in items] == [('P1', 5, '80M'), ('P2', 1, '160M')]
    assert [g['hosts'] for g in rep['proposal']['groups']] == [['web1', 'web2', 'web3', 'web4', 'web5'], ['db1']]
    assert items[0]['evidence'][0].startswith('web1: 3 kills at its own limit')


def test_unverified_events_and_unreachable_hosts_propose_nothing():
    kills = [dict(e, verified=False) for e in limit_kills('/app')]
    live = systemd_probe(systemd=False, cgroups={'/app': {'usage_kb': 1, 'limit_kb': 65536}})
    rep = report(['a', 'b'], [with_memory(config_only(events=kills)), {'unreachable': True, 'msg': 'x'}], [live])
    assert rep['proposal']['hosts'] == {} and rep['proposal']['items'] == []


# --- the outputs ----------------------------------------------------------------------------------------

HOSTILE = '<script>alert(1)</script>'


def hostile_report():
    path = '/%s.service' % HOSTILE.replace('/', '_')
    result = with_memory(config_only(events=limit_kills(path, comm=HOSTILE)))
    return report([HOSTILE + 'h'], [result], [systemd_probe(systemd=False, cgroups={path: {'usage_kb': 1, 'limit_kb': 65536}})])


def test_a_name_from_a_log_that_could_be_a_template_is_never_proposed():
    """proposal.yml and the AWX artifact become extra vars, which Ansible templates."""
    for path in ("/system.slice/{{ lookup('pipe', 'id') }}.service", '/a b', '/%s' % HOSTILE):
        result = with_memory(config_only(events=limit_kills(path)))
        rep = report(['h'], [result], [systemd_probe(systemd=False, cgroups={path: {'usage_kb': 1, 'limit_kb': 65536}})])
        assert rep['proposal']['hosts'] == {} and rep['proposal']['items'] == [], path
        assert 'holds characters a proposal does not carry' in rep['proposal']['not_proposed'][0]['reason'], path
        assert '{{' not in R.render(rep, 'proposal').split('hardening_proposal:')[1]


def test_outputs_escape_what_comes_from_logs_and_proposal_yml_loads_back():
    rep = hostile_report()
    assert rep['proposal']['not_proposed'][0]['subject'].startswith('<script>'), rep['proposal']
    page = R.render(rep, 'html')
    assert '<script>' not in page and 'id="not-proposed"' in page and '&lt;script&gt;alert(1)' in page
    text = R.render(rep, 'markdown')
    assert '<script>' not in text and '## Hardening proposal' in text
    good = with_memory(config_only(events=limit_kills('/app')))
    rep = report(['h1'], [good], [systemd_probe(systemd=False, cgroups={'/app': {'usage_kb': 1, 'limit_kb': 65536}})])
    assert 'id="proposal"' in R.render(rep, 'html')
    data = yaml.safe_load(R.render(rep, 'proposal'))
    assert data == {'hardening_proposal': rep['proposal']['hosts']} and data['hardening_proposal']
    json.dumps(R.render(rep, 'json'))


def test_partial_reports_leave_the_proposal_to_the_merge():
    result = with_memory(config_only(events=limit_kills('/app')))
    live = systemd_probe(systemd=False, cgroups={'/app': {'usage_kb': 1, 'limit_kb': 65536}})
    part = R.build_report(['a'], [result], [live], partial=R.partial_mark('7', '1/1'), now=NOW)
    assert part['proposal'] is None
    merged = R.merge_reports([json.loads(R.render_json(part))], now=NOW)
    assert merged['proposal']['hosts'] == {'a': {'hardening_cgroups': [{'path': 'app', 'max': '80M'}]}}


# --- the hardening role takes it ----------------------------------------------------------------------

def test_the_role_merges_the_hosts_own_entry_with_its_variables():
    proposal = {'web1': {'hardening_unit_limits': [{'unit': 'batch.service', 'memory_max': '80M', 'memory_high': '72M'}],
                         'hardening_sysctl_extra': {'vm.oom_dump_tasks': 1},
                         'hardening_protected_services_extra': [{'unit': 'mysqld.service', 'process': 'mysqld'}]},
                'web2': {'hardening_cgroups': [{'path': 'other', 'max': '1G'}]}}
    cfg = plan_config(unit_limits=[{'unit': 'batch.service', 'oom_score_adjust': 300}],
                      sysctl_extra={'vm.swappiness': 10}, proposal=proposal)
    units = dict((u, {'present': True, 'id': u, 'main_pid': 5}) for u in
                 ('batch.service', 'mysqld.service', 'systemd-journald.service'))
    query = P.host_query(cfg, 'web1')
    assert not query['failed'] and 'mysqld.service' in query['units']
    info = plan_host_info(dict(cfg, proposal={}), systemd=True, units=units, cap=True)
    info['units'] = dict((u, dict(units.get(u, {'present': False}))) for u in query['units'])
    info['processes'] = [{'selector': s, 'processes': []} for s in query['processes']]
    info['sysctls'] = dict((n, {'present': True, 'value': '0'}) for n in query['sysctls'])
    plan = P.plan(cfg, info, 'web1')
    assert not plan['failed'], plan
    by_name = dict((u['name'], u) for u in plan['units'])
    assert by_name['batch.service'] == {'name': 'batch.service', 'live': True, 'oom_score_adjust': 300,
                                        'memory_max': '80M', 'memory_high': '72M'}
    assert by_name['mysqld.service']['oom_score_adjust'] == -900
    assert plan['sysctl']['settings']['vm.swappiness'] == '10' and plan['sysctl']['settings']['vm.oom_dump_tasks'] == '1'
    assert plan['cgroups'] == []  # web2's entry is web2's
    assert plan['proposal'] == proposal['web1']
    # a host without an entry gets nothing from it
    assert P.host_query(cfg, 'db9')['units'] == P.host_query(dict(cfg, proposal={}), 'db9')['units']


@pytest.mark.parametrize('entry, message', [
    ({'hardening_sysctl_allow_any': True}, 'hardening_proposal[web1]: hardening_sysctl_allow_any is not taken from a proposal'),
    ({'hardening_unit_limits': [{'unit': 'a.service', 'memory_max': 'lots'}]},
     'hardening_proposal[web1]: hardening_unit_limits #1 memory_max'),
    ({'hardening_cgroups': [{'max': '1G'}]}, 'hardening_proposal[web1]: hardening_cgroups #1 needs a path'),
    ({'hardening_sysctl_extra': {'kernel.core_pattern': '|/bin/sh'}},
     'hardening_proposal[web1]: hardening_sysctl_extra: kernel.core_pattern is not among'),
    ({'hardening_memcg_qos_enable': 7}, 'hardening_proposal[web1]: hardening_memcg_qos_enable must be between 0 and 2'),
    ({'hardening_protected_services_extra': [{'unit': 'x.service', 'oom_score_adjust': -5000}]},
     'hardening_proposal[web1]: hardening_protected_services_extra #1 oom_score_adjust must be between'),
    ('not a mapping', 'hardening_proposal[web1] must be a mapping'),
])
def test_a_bad_entry_fails_before_the_host_is_asked_naming_it(entry, message):
    query = P.host_query(plan_config(proposal={'web1': entry}), 'web1')
    assert query['failed'] and query['msg'].startswith(message), query['msg']


def test_a_proposal_that_is_not_a_mapping_of_hosts_is_refused():
    query = P.host_query(plan_config(proposal=['web1']), 'web1')
    assert query['failed'] and query['msg'].startswith('hardening_proposal must be a mapping'), query
    # from a survey: a JSON string is read as the mapping
    query = P.host_query(plan_config(proposal=json.dumps({'web1': {'hardening_cgroups': [{'path': 'x', 'max': '1G'}]}})),
                         'web1')
    assert not query['failed'], query


# --- one home ---------------------------------------------------------------------------------------------

def test_drift_proposal_values_come_from_their_homes():
    schema_path = os.path.join(os.path.dirname(role_args.spec_path('diagnosis')), '..', 'files', 'report.schema.json')
    with open(schema_path) as handle:
        schema = json.load(handle)
    assert tuple(schema['$defs']['confidence']['enum']) == X.CONFIDENCES
    assert tuple(schema['$defs']['proposal_variable']['enum']) == P.PROPOSAL_VARIABLES
    assert X.PROPOSAL_VARIABLES is P.PROPOSAL_VARIABLES
    spec = role_args.load_spec('hardening')
    assert set(P.PROPOSAL_VARIABLES) <= set(spec) and 'hardening_sysctl_allow_any' not in P.PROPOSAL_VARIABLES
    defaults = X.role_defaults()
    assert defaults['baseline'] == spec['hardening_sysctl_baseline']['default']
    assert {'systemd-journald', 'rsyslogd', 'syslog-ng'} <= defaults['protected']
    # sizes are whole MiB in the size grammar
    assert parse_size(X._kb_to_size(65537)) == 65 * 1024 * 1024
    assert X.HIGH_PERCENT < 100 and X.HEADROOM_PERCENT > 0
