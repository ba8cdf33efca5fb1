# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX job slicing, run the way AWX runs it: ansible-runner, one private data dir per job.

AWX slices a job template's inventory into N parts (host i goes to slice i mod N) and runs one
ansible-runner job per slice, in parallel, each with an inventory holding only its slice's hosts and
the extra vars AWX adds to every job (awx_job_id, and awx_workflow_job_id, shared by the slices of one
sliced job; AWX does not pass the slice number to the playbook). Here: nine local-connection hosts in
three groups, each reading a real log (the parser's fixtures and the role's sample; two hosts read
the same log, as two containers of one kernel would, and land in different slices), three slices
run in parallel with diagnosis_partial=true, then the merge playbook oomkit.linux.diagnose_merge;
the merged report must equal the report of one unsliced run. promtool checks both textfiles.

Run with `make report-tools` (or PYTHONPATH=<dir holding ansible_collections> pytest tests/report).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from ansible_collections.oomkit.linux.tests.real_host import ansible_runner_path, collections_path

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(COLLECTION, 'tests', 'unit', 'fixtures', 'oom_logs')
SAMPLE = os.path.join(COLLECTION, 'roles', 'diagnosis', 'files', 'samples', 'euleros-messages.log')
HOSTILE = os.path.join(COLLECTION, 'tests', 'browser', 'files', 'hostile-messages.log')
SLICES = 3
WORKFLOW_JOB = 4711

# host -> (groups, log); db1 and web1 read the same log (one kernel, two containers): slices 1 and 2
HOSTS = [
    ('db1', ['db'], SAMPLE),
    ('web1', ['web'], SAMPLE),
    ('batch1', ['batch'], os.path.join(FIXTURES, 'kernel-5.10-openeuler-rfc3339.log')),
    ('db2', ['db'], os.path.join(FIXTURES, 'kernel-3.10-centos7-memcg.log')),
    ('web2', ['web'], HOSTILE),
    ('batch2', ['batch'], os.path.join(FIXTURES, 'kernel-4.14-global-fragmentation.log')),
    ('db3', ['db'], os.path.join(FIXTURES, 'kernel-4.19-cpuset-dmesg-T.log')),
    ('web3', ['web'], os.path.join(FIXTURES, 'dmesg-6.18-memcg-v1-own-limit.log')),
    ('batch3', ['batch'], os.path.join(FIXTURES, 'kernel-6.x-cgroup2-oomgroup-journal-short.log')),
]


def _inventory(hosts):
    groups = {}
    for name, host_groups, log in hosts:
        for group in host_groups:
            groups.setdefault(group, {'hosts': {}})['hosts'][name] = {
                'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
                'diagnosis_paths': [log]}
    return {'all': {'children': groups}}


def _private_data_dir(base, ident, hosts, playbook, extravars):
    """A private data dir as AWX writes one: inventory, env/extravars, env/envvars, project."""
    pdd = os.path.join(base, ident)
    for sub in ('inventory', 'env', 'project'):
        os.makedirs(os.path.join(pdd, sub))
    with open(os.path.join(pdd, 'inventory', 'hosts.json'), 'w') as handle:
        json.dump(_inventory(hosts), handle)
    with open(os.path.join(pdd, 'env', 'extravars'), 'w') as handle:
        json.dump(extravars, handle)
    with open(os.path.join(pdd, 'env', 'envvars'), 'w') as handle:
        json.dump({'ANSIBLE_COLLECTIONS_PATH': collections_path(), 'ANSIBLE_NOCOLOR': '1',
                   'ANSIBLE_ROLES_PATH': '', 'ANSIBLE_FORKS': '5'}, handle)
    with open(os.path.join(pdd, 'project', 'play.yml'), 'w') as handle:
        handle.write('---\n- name: The collection playbook, as a project would run it\n'
                     '  ansible.builtin.import_playbook: %s\n' % playbook)
    return pdd


def _start(pdd, ident):
    return subprocess.Popen([ansible_runner_path(), 'run', pdd, '-p', 'play.yml', '--ident', ident],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _finish(proc, pdd, ident):
    out = proc.communicate(timeout=900)[0]
    with open(os.path.join(pdd, 'artifacts', ident, 'rc')) as handle:
        rc = int(handle.read().strip())
    assert proc.returncode == 0 and rc == 0, out.decode('utf-8', 'replace')[-4000:]
    stats = None
    events_dir = os.path.join(pdd, 'artifacts', ident, 'job_events')
    for name in os.listdir(events_dir):
        with open(os.path.join(events_dir, name)) as handle:
            event = json.load(handle)
        if event.get('event') == 'playbook_on_stats':
            stats = event['event_data']
    assert stats is not None, 'no playbook_on_stats event'
    return stats


@pytest.fixture(scope='module')
def runs():
    base = tempfile.mkdtemp(prefix='oomkit-slices-')
    shared = os.path.join(base, 'shared')   # the volume the slices and the merge job share
    whole = os.path.join(base, 'whole')
    common = {'diagnosis_sources': 'files', 'diagnosis_report_title': 'OOM fleet <slices>',
              'diagnosis_critical_processes': 'sshd,mysqld'}
    try:
        jobs = []
        for number in range(1, SLICES + 1):
            ident = 'slice%d' % number
            extravars = dict(common, diagnosis_partial=True, diagnosis_report_dir=shared,
                             awx_job_id=100 + number, awx_workflow_job_id=WORKFLOW_JOB)
            pdd = _private_data_dir(base, ident, HOSTS[number - 1::SLICES], 'oomkit.linux.diagnose', extravars)
            jobs.append((_start(pdd, ident), pdd, ident))
        unsliced_pdd = _private_data_dir(base, 'unsliced', HOSTS, 'oomkit.linux.diagnose',
                                         dict(common, diagnosis_report_dir=whole, awx_job_id=99))
        unsliced = _start(unsliced_pdd, 'unsliced')
        slice_stats = [_finish(*job) for job in jobs]
        unsliced_stats = _finish(unsliced, unsliced_pdd, 'unsliced')
        merge_pdd = _private_data_dir(base, 'merge', [], 'oomkit.linux.diagnose_merge',
                                      {'diagnosis_report_dir': shared, 'awx_job_id': 200})
        merge_stats = _finish(_start(merge_pdd, 'merge'), merge_pdd, 'merge')
        # the same merge from a list of files (diagnosis_merge_files), given as an AWX survey gives a
        # text field: one comma-separated string, here in reverse order
        by_files = os.path.join(base, 'by-files')
        run_dir = os.path.join(shared, 'partial', str(WORKFLOW_JOB))
        files = ','.join(os.path.join(run_dir, 'job-%d.json' % (100 + n)) for n in range(SLICES, 0, -1))
        files_pdd = _private_data_dir(base, 'merge-files', [], 'oomkit.linux.diagnose_merge',
                                      {'diagnosis_report_dir': by_files, 'diagnosis_merge_files': files,
                                       'awx_job_id': 201})
        files_stats = _finish(_start(files_pdd, 'merge-files'), files_pdd, 'merge-files')
        yield {'base': base, 'shared': shared, 'whole': whole, 'slice_stats': slice_stats,
               'unsliced_stats': unsliced_stats, 'merge_stats': merge_stats, 'by_files': by_files,
               'files_stats': files_stats}
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _report(directory):
    with open(os.path.join(directory, 'report.json')) as handle:
        return json.load(handle)


def test_each_slice_wrote_a_partial_report(runs):
    run_dir = os.path.join(runs['shared'], 'partial', str(WORKFLOW_JOB))
    parts = sorted(os.listdir(run_dir))
    assert parts == ['job-101.json', 'job-102.json', 'job-103.json']
    for number, name in enumerate(parts, 1):
        with open(os.path.join(run_dir, name)) as handle:
            partial = json.load(handle)
        assert partial['schema_version'] == 2
        assert partial['partial']['run'] == str(WORKFLOW_JOB) and partial['partial']['part'] == 'job-%d' % (100 + number)
        assert [h['name'] for h in partial['hosts']] == sorted((h[0] for h in HOSTS[number - 1::SLICES]),
                                                               key=lambda n: (n.rstrip('0123456789'), int(n[-1])))
    # a slice writes its partial report only: the fleet report is the merge's
    for number, stats in enumerate(runs['slice_stats'], 1):
        files = stats['artifact_data']['oomkit_diagnosis']['report_files']
        assert files == {'json': os.path.join(run_dir, 'job-%d.json' % (100 + number))}


def test_merged_report_equals_the_unsliced_report(runs):
    merged = _report(runs['shared'])
    whole = _report(runs['whole'])
    assert merged['partial'] is None and whole['partial'] is None
    for report in (merged, whole):
        report.pop('generated_at')
        # the live usage of this machine's cgroups with an OOM history, read by each run at its own moment
        for host in report['hosts']:
            host['cgroup_usage'] = dict((path, dict(usage, usage_kb='live')) for path, usage in host['cgroup_usage'].items())
            host['mem_available_kb'] = 'live'   # MemAvailable too
    assert merged == whole
    assert merged['summary']['hosts_total'] == len(HOSTS)
    # the event both db1 and web1 logged (slices 1 and 2) is one event seen on both
    shared = [e for e in merged['events'] if e['seen_on'] == ['db1', 'web1']]
    assert shared and merged['summary']['events_shared_between_hosts'] == len(shared)
    # findings about the fleet: the sample's problems are one finding each, on both hosts
    growing = [f for f in merged['findings'] if f['rule'] == 'repeated_kill_growing']
    assert len(growing) == 1 and growing[0]['hosts'] == ['db1', 'web1'] and growing[0]['groups'] == {'db': 1, 'web': 1}
    assert [g['name'] for g in merged['fleet']['groups']] and set(g['name'] for g in merged['fleet']['groups']) == {
        'batch', 'db', 'web'}
    for name in ('report.md', 'report.html', 'oomkit_oom.prom'):
        assert os.path.getsize(os.path.join(runs['shared'], name)) > 0


def test_merge_of_listed_files_equals_the_merge_of_the_run_directory(runs):
    by_files = _report(runs['by_files'])
    by_dir = _report(runs['shared'])
    for report in (by_files, by_dir):
        report.pop('generated_at')
    assert by_files == by_dir
    published = runs['files_stats']['artifact_data']['oomkit_diagnosis']
    assert published['report_files']['json'] == os.path.join(runs['by_files'], 'report.json')
    assert published['events_total'] == by_dir['summary']['events_total']


def test_set_stats_stays_small_and_names_the_files(runs):
    for stats in runs['slice_stats'] + [runs['unsliced_stats'], runs['merge_stats']]:
        published = stats['artifact_data']['oomkit_diagnosis']
        assert 'events' not in published and 'hosts' not in published
        assert len(json.dumps(published)) < 4000
    merged = runs['merge_stats']['artifact_data']['oomkit_diagnosis']
    assert merged['partial'] is None
    assert merged['report_files']['json'] == os.path.join(runs['shared'], 'report.json')
    assert merged['events_total'] == runs['unsliced_stats']['artifact_data']['oomkit_diagnosis']['events_total']
    first = runs['slice_stats'][0]['artifact_data']['oomkit_diagnosis']
    assert first['partial'] == {'run': str(WORKFLOW_JOB), 'slice': None, 'slices': None, 'part': 'job-101'}


def test_promtool_accepts_the_textfiles_the_role_wrote(runs):
    promtool = os.environ.get('PROMTOOL') or shutil.which('promtool')
    if not promtool:
        pytest.fail('promtool not found: run `make report-tools` (tools/promtool.sh unpacks it)')
    for directory in (runs['shared'], runs['whole']):
        path = os.path.join(directory, 'oomkit_oom.prom')
        with open(path, 'rb') as handle:
            proc = subprocess.run([promtool, 'check', 'metrics'], stdin=handle, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, check=False)
        assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout.decode()
