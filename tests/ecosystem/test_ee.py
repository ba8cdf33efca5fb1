# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-runner with process isolation in podman, from an execution environment built here by
ansible-builder (tools/ee-build.sh: the repository's execution-environment.yml on the test bed's
Debian base, offline) that carries the collection: the jobs use the collection and jmespath of the
image, not anything of this host."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import REPO, galaxy, run
from test_runner import host_summary, runner_job

IMAGE = 'localhost/oomkit-ee:%s' % galaxy()['version']
IMAGE_COLLECTION = '/usr/share/ansible/collections/ansible_collections/oomkit/linux'


@pytest.fixture(scope='session')
def ee_image(tarball):
    run([os.path.join(REPO, 'tools', 'ee-build.sh'), tarball, IMAGE], timeout=1800)
    return IMAGE


def podman(*args):
    return subprocess.run(['podman'] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=True, timeout=300).stdout


def test_ee_carries_the_collection_and_its_requirements(ee_image, tarball):
    out = podman('run', '--rm', ee_image, 'sh', '-c',
                 'ansible-galaxy collection list oomkit.linux; python3 -c "import jmespath"; ansible-runner --version')
    assert 'oomkit.linux %s' % galaxy()['version'] in out
    assert IMAGE_COLLECTION.rsplit('/ansible_collections', 1)[0] in out
    inside = json.loads(podman('run', '--rm', ee_image, 'cat', IMAGE_COLLECTION + '/FILES.json'))
    assert inside == json.loads(run(['tar', '-xzOf', tarball, 'FILES.json']).stdout)  # exactly this build


CONTAINER_HOST = 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n'


def test_diagnose_job_in_the_ee(project, tmp_path, ee_image):
    answers = {'diagnosis_hosts': 'localhost', 'diagnosis_since': '', 'diagnosis_incremental': 'false',
               'diagnosis_event_query': "[?cause=='cgroup_limit']", 'diagnosis_min_severity': 'info',
               'diagnosis_fail_on_severity': 'none',
               # the job template's extra variables: the sample log the image carries, the report
               # in the data dir (/runner), which outlives the container
               'diagnosis_sources': 'files', 'diagnosis_paths': IMAGE_COLLECTION + '/roles/diagnosis/files/samples/euleros-messages.log',
               'diagnosis_report_dir': '/runner/report'}
    rc, status, stats, events, out = runner_job(project, tmp_path, 'diagnose.yml', answers,
                                                hosts=CONTAINER_HOST, image=ee_image)
    assert (rc, status) == (0, 'successful'), out[-4000:]
    assert host_summary(stats, 'localhost')['failures'] == 0
    artifact = stats['artifact_data']['oomkit_diagnosis']
    # the JMESPath query ran in the image (jmespath from the collection's requirements)
    # (the sample log's seven kills have several causes: the query kept the cgroup_limit ones only)
    assert 0 < artifact['events_total'] < 7 and set(artifact['events_by_cause']) == {'cgroup_limit'}
    assert artifact['report_files']['json'] == '/runner/report/report.json'
    with open(str(tmp_path / 'pdd' / 'report' / 'report.json')) as f:
        assert json.load(f)['summary']['events_total'] == artifact['events_total']
    # the job ran in a container: the module saw the image's interpreter, not this host's venv
    starts = [e for e in events if e['event'] == 'playbook_on_start']
    assert starts and starts[0]['event_data']['playbook'] == 'diagnose.yml'


def test_harden_job_in_the_ee_check_mode(project, tmp_path, ee_image):
    answers = {'hardening_hosts': 'localhost', 'hardening_become': 'false', 'hardening_sysctl_runtime': 'auto',
               'hardening_sysctl_extra': 'vm.swappiness=60', 'hardening_protected_services_extra': 'cron.service',
               'hardening_protect_oom_score_adjust': -900, 'hardening_expendable_names': 'sleep',
               'hardening_expendable_score': 500, 'hardening_memcg_qos_enable': '1', 'hardening_restart': 'never',
               'hardening_set_stats': 'true'}
    rc, status, stats, events, out = runner_job(project, tmp_path, 'harden.yml', answers, hosts=CONTAINER_HOST,
                                                cmdline='--check --diff', image=ee_image)
    assert (rc, status) == (0, 'successful'), out[-4000:]
    assert host_summary(stats, 'localhost')['failures'] == 0
    assert stats['artifact_data']['oomkit_hardening']['localhost']['module_calls'] >= 2
    assert 'would change:' in out
