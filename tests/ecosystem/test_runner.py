# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-runner launching both playbooks the way AWX does.

AWX's project update installs the collections named in the project's collections/requirements.yml
(here: the built tarball); the job then runs ansible-runner on a private data directory holding the
inventory, the survey answers in env/extravars, the job type in env/cmdline (--check for a dry
run), and reads the result from the job events: the host summary and the set_stats artifact are in
the playbook_on_stats event. The surveys are the ones of docs/awx.md, answered with their defaults
and with every optional question left blank.
"""

from __future__ import annotations

import glob
import json
import os
import shutil

import pytest
import yaml

from conftest import BIN, TARGET_PYTHON, awx_surveys, run, survey_answers, tool_env

TEST_SYSCTL_FILE = '/etc/sysctl.d/90-oomkit-runner-test.conf'


def runner_job(project, tmp_path, playbook, extravars, hosts=None, cmdline=None, image=None):
    """Run one job with ansible-runner; returns (rc, status, stats event data, events, stdout).
    With an image, the job runs in it (process isolation in podman, as AWX runs an EE) and uses
    the collection the image carries."""
    proj, colls = project
    pdd = tmp_path / 'pdd'
    (pdd / 'inventory').mkdir(parents=True)
    (pdd / 'env').mkdir()
    if image:
        shutil.copytree(proj, str(pdd / 'project'))  # the container sees only the data dir
        envvars = {}
        colls = None
    else:
        os.symlink(proj, str(pdd / 'project'))
        envvars = {'ANSIBLE_COLLECTIONS_PATH': colls, 'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false'}
    envvars['ANSIBLE_LOCALHOST_WARNING'] = 'false'
    (pdd / 'inventory' / 'hosts').write_text(hosts or (
        'localhost ansible_connection=local ansible_python_interpreter=%s\n' % TARGET_PYTHON))
    (pdd / 'env' / 'extravars').write_text(yaml.safe_dump(extravars))
    (pdd / 'env' / 'envvars').write_text(yaml.safe_dump(envvars))
    if cmdline:
        (pdd / 'env' / 'cmdline').write_text(cmdline)
    cmd = [os.path.join(BIN, 'ansible-runner'), 'run', str(pdd), '-p', playbook, '--ident', 'job']
    if image:
        # ansible-runner creates the artifact directory here, as root and private (rootful podman);
        # AWX gives the EE's user (1000, as ansible-builder sets it) a data dir it owns. Run as root.
        cmd += ['--process-isolation', '--process-isolation-executable', 'podman', '--container-image', image,
                '--container-option=--user=0']
    proc = run(cmd, env=tool_env(colls), check=False)
    art = pdd / 'artifacts' / 'job'
    rc = int((art / 'rc').read_text())
    status = (art / 'status').read_text().strip()
    events = []
    for path in glob.glob(str(art / 'job_events' / '*.json')):
        with open(path) as f:
            events.append(json.load(f))
    events.sort(key=lambda e: e['counter'])
    stats = [e for e in events if e['event'] == 'playbook_on_stats']
    assert len(stats) == 1, proc.stdout[-4000:]
    return rc, status, stats[0]['event_data'], events, proc.stdout


def host_summary(stats, host):
    return {k: stats.get(k, {}).get(host, 0) for k in ('ok', 'changed', 'failures', 'dark', 'ignored', 'skipped')}


def diagnosis_vars(blanks, report_dir):
    answers = survey_answers(awx_surveys()['OOM diagnosis'], blanks=blanks)
    answers['diagnosis_hosts'] = 'localhost' if answers['diagnosis_hosts'] == 'all' else answers['diagnosis_hosts']
    # the job template's own extra variables: where the report goes in this test
    answers['diagnosis_report_dir'] = report_dir
    return answers


@pytest.mark.parametrize('blanks', [False, True], ids=['defaults', 'blanks'])
def test_diagnose_job(project, tmp_path, blanks):
    report_dir = str(tmp_path / 'report')
    rc, status, stats, events, out = runner_job(project, tmp_path, 'diagnose.yml', diagnosis_vars(blanks, report_dir))
    assert (rc, status) == (0, 'successful'), out[-4000:]
    summary = host_summary(stats, 'localhost')
    assert summary['failures'] == 0 and summary['dark'] == 0 and summary['ok'] > 0 and summary['ignored'] == 0
    artifact = stats['artifact_data']['oomkit_diagnosis']
    assert artifact['hosts_total'] == 1 and artifact['failed_hosts'] == [] and artifact['unreachable_hosts'] == []
    assert artifact['report_files']['json'] == os.path.join(report_dir, 'report.json')
    with open(artifact['report_files']['json']) as f:
        report = json.load(f)
    assert report['summary']['events_total'] == artifact['events_total']
    # a blank "Since" answer means no lower bound
    assert report['parameters']['since'] == (None if blanks else '7d')


def hardening_vars(blanks, answered=None):
    answers = survey_answers(awx_surveys()['OOM hardening'], blanks=blanks)
    if answers['hardening_hosts'] == 'all':
        answers['hardening_hosts'] = 'localhost'
    answers.update(answered or {})
    # the workflow's review node publishes the summary (docs/awx.md)
    answers['hardening_set_stats'] = 'true'
    answers['hardening_sysctl_file'] = TEST_SYSCTL_FILE
    return answers


def _hardening_case(project, tmp_path, blanks, answered=None):
    rc, status, stats, events, out = runner_job(project, tmp_path, 'harden.yml', hardening_vars(blanks, answered),
                                                cmdline='--check --diff')
    assert (rc, status) == (0, 'successful'), out[-4000:]
    summary = host_summary(stats, 'localhost')
    assert summary['failures'] == 0 and summary['dark'] == 0 and summary['ok'] > 0
    artifact = stats['artifact_data']['oomkit_hardening']
    assert set(artifact) == {'localhost'}
    assert set(artifact['localhost']) >= {'changed', 'restart_required', 'skipped', 'module_calls'}
    assert artifact['localhost']['module_calls'] >= 1
    assert not os.path.exists(TEST_SYSCTL_FILE)
    assert 'would change:' in out
    return artifact['localhost']


def test_harden_job_defaults(project, tmp_path):
    """The survey's defaults include blank text answers (hardening_sysctl_extra: ""): unset."""
    _hardening_case(project, tmp_path, blanks=False)


def test_harden_job_blanks(project, tmp_path):
    _hardening_case(project, tmp_path, blanks=True)


def test_harden_job_every_optional_question_answered(project, tmp_path):
    """The same job with the optional text questions answered (strings, as AWX sends them)."""
    with open('/proc/sys/vm/swappiness') as f:
        swappiness = f.read().strip()
    result = _hardening_case(project, tmp_path, blanks=False, answered={
        'hardening_sysctl_extra': 'vm.swappiness=%s' % swappiness,
        'hardening_protected_services_extra': 'oomkit-no-such-unit.service',
        'hardening_expendable_names': 'oomkit-no-such-process',
        'hardening_memcg_qos_enable': '1',
    })
    assert result['module_calls'] >= 2


def test_failed_host_is_failed_and_ignored_and_reported(project, tmp_path):
    """A host whose oom_facts fails (its Python is /bin/false) is failed-and-ignored in the host
    summary, not ok; the job still succeeds and the report lists the host as failed."""
    report_dir = str(tmp_path / 'report')
    hosts = ('localhost ansible_connection=local ansible_python_interpreter=%s\n'
             'broken ansible_connection=local ansible_python_interpreter=/bin/false\n' % TARGET_PYTHON)
    answers = diagnosis_vars(False, report_dir)
    answers['diagnosis_hosts'] = 'all'
    rc, status, stats, events, out = runner_job(project, tmp_path, 'diagnose.yml', answers, hosts=hosts)
    assert (rc, status) == (0, 'successful'), out[-4000:]
    assert host_summary(stats, 'broken')['ignored'] == 1
    assert host_summary(stats, 'broken')['failures'] == 0
    assert host_summary(stats, 'localhost')['ignored'] == 0
    failed = [e for e in events if e['event'] == 'runner_on_failed' and e['event_data'].get('host') == 'broken']
    assert len(failed) == 1 and failed[0]['event_data']['ignore_errors'] is True
    assert 'oom_facts' in failed[0]['event_data']['task_action']
    artifact = stats['artifact_data']['oomkit_diagnosis']
    assert artifact['hosts_total'] == 2 and artifact['failed_hosts'] == ['broken']
    with open(artifact['report_files']['json']) as f:
        report = json.load(f)
    assert {h['name']: h['status'] for h in report['hosts']} == {'localhost': 'ok', 'broken': 'failed'}
