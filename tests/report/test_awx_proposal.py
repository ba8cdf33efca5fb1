# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX workflow diagnose -> approval -> harden (check mode) -> approval -> harden, run the way AWX runs it.

AWX hands the set_stats data of a workflow node (the ``artifact_data`` of its ``playbook_on_stats``
event) to the nodes after it as extra vars. Here, with ansible-runner (what AWX runs), on this machine:

1. a real memory cgroup (v1) with a 32 MiB limit, and two real OOM kills in it;
2. job 1, ``oomkit.linux.diagnose`` reading the kernel ring buffer (the event query keeps this test's
   cgroup only): the proposal raises the cgroup's limit, with the kills and the host's free memory as
   evidence, in proposal.yml and in the ``oomkit_hardening_proposal`` artifact;
3. job 2, ``oomkit.linux.harden --check --diff`` with that artifact data as its extra vars (approval nodes
   pass them on unchanged): its changes are exactly those of the same job without the artifact (what the
   role's defaults would change on this host anyway, such as its sysctl.d file) plus the proposed
   change, with the new limit in its diff, and nothing else;
4. the cgroup's limit is still 32 MiB afterwards (check mode), then the cgroup is removed.

Needs root and the cgroup v1 memory controller (this machine); run with `make report-tools`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

from ansible_collections.oomkit.linux.tests.real_host import ansible_runner_path, collections_path, remove_cgroup
import yaml

MEMCG = '/sys/fs/cgroup/memory'
HOST = 'node1'

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.isfile(os.path.join(MEMCG, 'memory.limit_in_bytes')),
                                reason='needs root and the cgroup v1 memory controller')


def _job(base, ident, playbook, extravars, cmdline=None):
    """One AWX job: a private data dir (inventory, env/extravars, env/cmdline, project), ansible-runner run;
    returns (its playbook_on_stats event data, every job event)."""
    pdd = os.path.join(base, ident)
    for sub in ('inventory', 'env', 'project'):
        os.makedirs(os.path.join(pdd, sub))
    with open(os.path.join(pdd, 'inventory', 'hosts.json'), 'w') as handle:
        json.dump({'all': {'hosts': {HOST: {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}},
                  handle)
    with open(os.path.join(pdd, 'env', 'extravars'), 'w') as handle:
        json.dump(extravars, handle)
    with open(os.path.join(pdd, 'env', 'envvars'), 'w') as handle:
        json.dump({'ANSIBLE_COLLECTIONS_PATH': collections_path(), 'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_ROLES_PATH': ''},
                  handle)
    if cmdline:
        with open(os.path.join(pdd, 'env', 'cmdline'), 'w') as handle:
            handle.write(cmdline)
    with open(os.path.join(pdd, 'project', 'play.yml'), 'w') as handle:
        handle.write('---\n- name: The collection playbook, as a project would run it\n'
                     '  ansible.builtin.import_playbook: %s\n' % playbook)
    proc = subprocess.run([ansible_runner_path(), 'run', pdd, '-p', 'play.yml', '--ident', ident], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=900, check=False)
    with open(os.path.join(pdd, 'artifacts', ident, 'rc')) as handle:
        assert int(handle.read().strip()) == 0 and proc.returncode == 0, proc.stdout.decode('utf-8', 'replace')[-4000:]
    events = []
    events_dir = os.path.join(pdd, 'artifacts', ident, 'job_events')
    for name in os.listdir(events_dir):
        with open(os.path.join(events_dir, name)) as handle:
            events.append(json.load(handle))
    events.sort(key=lambda e: e.get('counter', 0))
    stats = [e['event_data'] for e in events if e.get('event') == 'playbook_on_stats']
    assert len(stats) == 1
    return stats[0], events


def _changed(events):
    """What a job reports as changed (what --check --diff shows): {(module, what): result}, one entry per
    changed loop item (the unit, the cgroup path, the process selection) or per changed task."""
    out = {}
    for event in events:
        if event.get('event') not in ('runner_on_ok', 'runner_item_on_ok'):
            continue
        data = event['event_data']
        res = data.get('res') or {}
        if not res.get('changed') or 'results' in res:
            continue
        item = res.get('item')
        if isinstance(item, dict):
            what = item.get('path') or item.get('name') or json.dumps(item, sort_keys=True)
        else:
            settings = res.get('settings') or {}
            what = 'settings %s' % ','.join(sorted(k for k, v in settings.items()
                                                   if isinstance(v, dict) and v.get('status') == 'changed'))
        out[(data.get('task_action'), what)] = res
    return out


def _oom_kill(path):
    code = ("import os; open(%r, 'w').write(str(os.getpid())); b = bytearray(256 << 20)"
            % os.path.join(path, 'cgroup.procs'))
    proc = subprocess.run([sys.executable, '-c', code], check=False)
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture(scope='module')
def workflow():
    with open('/proc/sys/vm/panic_on_oom') as handle:
        assert handle.read().strip() == '0', 'never make an OOM on a machine that would panic'
    name = 'oomkit-proposal-%d' % os.getpid()
    path = os.path.join(MEMCG, name)
    base = tempfile.mkdtemp(prefix='oomkit-proposal-')
    os.mkdir(path)
    try:
        with open(os.path.join(path, 'memory.limit_in_bytes'), 'w') as handle:
            handle.write('%d\n' % (32 << 20))
        for dummy in range(2):
            _oom_kill(path)
        report_dir = os.path.join(base, 'report')
        diagnose_stats, dummy = _job(base, 'diagnose', 'oomkit.linux.diagnose', {
            'diagnosis_sources': 'dmesg', 'diagnosis_report_dir': report_dir,
            'diagnosis_event_query': "[?memcg=='/%s']" % name, 'diagnosis_critical_processes': 'oomkit-none',
            'awx_job_id': 1})
        artifacts = diagnose_stats['artifact_data']
        # approval node, then the harden job template in check mode: AWX passes the artifacts as extra vars
        check_stats, check_events = _job(base, 'harden-check', 'oomkit.linux.harden', dict(artifacts, awx_job_id=2),
                                         cmdline='--check --diff')
        control_stats, control_events = _job(base, 'harden-control', 'oomkit.linux.harden', {'awx_job_id': 3},
                                             cmdline='--check --diff')
        with open(os.path.join(path, 'memory.limit_in_bytes')) as handle:
            limit_after = int(handle.read())
        yield {'name': name, 'report_dir': report_dir, 'artifacts': artifacts, 'check': (check_stats, check_events),
               'control': (control_stats, control_events), 'limit_after': limit_after}
    finally:
        remove_cgroup(path)
        shutil.rmtree(base, ignore_errors=True)


def test_diagnosis_proposes_a_raised_limit_with_both_sides_of_the_evidence(workflow):
    name = workflow['name']
    with open(os.path.join(workflow['report_dir'], 'report.json')) as handle:
        report = json.load(handle)
    items = report['proposal']['items']
    assert [(i['variable'], i['value'], i['hosts']) for i in items] == [
        ('hardening_cgroups', {'path': name, 'max': '40M'}, [HOST])]
    evidence = ' | '.join(items[0]['evidence'])
    assert '2 kills at its own limit of 32 MiB' in evidence and 'available of' in evidence
    assert items[0]['confidence'] in ('medium', 'high') and len(items[0]['event_ids']) == 2
    with open(os.path.join(workflow['report_dir'], 'proposal.yml')) as handle:
        text = handle.read()
    assert yaml.safe_load(text) == {'hardening_proposal': {HOST: {'hardening_cgroups': [{'path': name, 'max': '40M'}]}}}
    assert '# P1 (' in text
    # the same mapping is the workflow artifact the next job gets
    assert workflow['artifacts']['oomkit_hardening_proposal'] == {HOST: {'hardening_cgroups': [{'path': name, 'max': '40M'}]}}
    assert workflow['artifacts']['oomkit_diagnosis']['report_files']['proposal'].endswith('/proposal.yml')


def test_harden_check_mode_shows_exactly_the_proposed_change(workflow):
    stats, events = workflow['check']
    dummy, control_events = workflow['control']
    changed, control = _changed(events), _changed(control_events)
    proposed = ('oomkit.linux.cgroup_memory', workflow['name'])
    # the proposal adds its one change to what the role's defaults would change here anyway
    assert proposed not in control
    assert sorted(changed) == sorted(list(control) + [proposed]), (sorted(changed), sorted(control))
    for key, res in control.items():
        assert changed[key].get('diff') == res.get('diff'), key
    res = changed[proposed]
    assert res['item'] == {'path': workflow['name'], 'max': '40M'}
    max_setting = res['settings']['max']
    assert max_setting['changed'] and max_setting['after'] == 40 << 20 and max_setting['before'] == 32 << 20, max_setting
    assert '41943040' in json.dumps(res.get('diff')), res.get('diff')
    summary = [e['event_data']['res']['msg'] for e in events if e.get('event') == 'runner_on_ok'
               and e['event_data'].get('task') == 'Summarise the host']
    assert summary and 'proposal applied: hardening_cgroups' in summary[0]
    assert stats['changed'] == {HOST: len(set(k[0] for k in changed))}


def test_check_mode_changed_nothing(workflow):
    assert workflow['limit_after'] == 32 << 20
