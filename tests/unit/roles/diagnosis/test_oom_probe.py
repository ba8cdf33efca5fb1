# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diagnosis role's host probe (roles/diagnosis/files/oom_probe.py).

Fixture trees stand in for hosts this machine is not (container hosts, cgroup v2, protected
services); one test runs the script for real on this machine, the way ansible.builtin.script does.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..', 'roles', 'diagnosis', 'files', 'oom_probe.py'))

_spec = importlib.util.spec_from_file_location('oomkit_diagnosis_oom_probe', SCRIPT)
probe_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe_mod)


def write(root, path, text):
    full = os.path.join(str(root), path.lstrip('/'))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'w') as handle:
        handle.write(text)


def add_process(root, pid, comm, ppid=1, score=0):
    write(root, '/proc/%d/comm' % pid, comm + '\n')
    write(root, '/proc/%d/stat' % pid, '%d (%s) S %d %d 0 0' % (pid, comm, ppid, pid))
    if score is not None:
        write(root, '/proc/%d/oom_score_adj' % pid, '%d\n' % score)


@pytest.fixture
def container_host(tmp_path):
    add_process(tmp_path, 1, 'systemd')
    add_process(tmp_path, 400, 'systemd-journal', score=-250)
    add_process(tmp_path, 500, 'sshd', score=0)
    add_process(tmp_path, 900, 'sshd', ppid=500, score=0)        # a login session: not the service
    add_process(tmp_path, 700, 'containerd')
    add_process(tmp_path, 701, 'containerd-shim', ppid=1)
    add_process(tmp_path, 800, 'kubelet')
    add_process(tmp_path, 1000, 'rsyslogd', score=None)           # vanished before its value was read
    write(tmp_path, '/proc/1/environ', 'HOME=/\0TERM=linux\0')
    write(tmp_path, '/sys/fs/cgroup/memory/batch/memory.usage_in_bytes', '1071644672\n')
    write(tmp_path, '/sys/fs/cgroup/memory/batch/memory.limit_in_bytes', '1073741824\n')
    write(tmp_path, '/sys/fs/cgroup/memory/free/memory.usage_in_bytes', '4096\n')
    write(tmp_path, '/sys/fs/cgroup/memory/free/memory.limit_in_bytes', '9223372036854771712\n')
    return tmp_path


def test_container_host(container_host):
    result = probe_mod.probe(critical=['sshd', 'systemd-journald', 'rsyslogd'], root=str(container_host),
                             cgroups=['/batch', '/free', '/gone', '../../etc', 'relative'],
                             memory_cgroup_root='/sys/fs/cgroup/memory', memory_cgroup_version='v1')
    assert result['container_runtimes'] == ['containerd', 'containerd-shim', 'kubelet']
    assert result['runs_containers'] is True
    assert result['in_container'] is False
    # systemd-journald is matched as the kernel shows it (15 characters); the sshd session child is left out
    assert result['processes'] == [{'pid': 400, 'comm': 'systemd-journal', 'ppid': 1, 'oom_score_adj': -250},
                                   {'pid': 500, 'comm': 'sshd', 'ppid': 1, 'oom_score_adj': 0}]
    assert result['cgroups'] == {'/batch': {'usage_kb': 1046528, 'limit_kb': 1048576},
                                 '/free': {'usage_kb': 4, 'limit_kb': None}}


def test_cgroup_v2_and_container_detection(tmp_path):
    write(tmp_path, '/sys/fs/cgroup/app.slice/memory.current', '2048\n')
    write(tmp_path, '/sys/fs/cgroup/app.slice/memory.max', 'max\n')
    write(tmp_path, '/proc/1/environ', 'container=podman\0')
    os.makedirs(str(tmp_path / 'proc'), exist_ok=True)
    result = probe_mod.probe(critical=['sshd'], cgroups=['/app.slice'], memory_cgroup_root='/sys/fs/cgroup',
                             memory_cgroup_version='v2', root=str(tmp_path))
    assert result['cgroups'] == {'/app.slice': {'usage_kb': 2, 'limit_kb': None}}
    assert result['in_container'] is True
    assert result['processes'] == [] and result['runs_containers'] is False
    write(tmp_path, '/proc/1/environ', '')
    write(tmp_path, '/run/.containerenv', '')
    assert probe_mod.in_container(str(tmp_path)) is True


def test_stat_with_hostile_comm():
    assert probe_mod._stat_ppid('42 (a) b) S 7 42 0') == 7
    assert probe_mod._stat_ppid('garbage') is None


def test_script_runs_on_this_machine():
    """What ansible.builtin.script runs: base64 JSON in, one JSON document out."""
    with open('/proc/self/comm') as handle:
        own = handle.read().strip()
    args = base64.b64encode(json.dumps({'critical': [own], 'cgroups': ['/'],
                                        'memory_cgroup_root': '/sys/fs/cgroup/memory',
                                        'memory_cgroup_version': 'v1'}).encode()).decode()
    proc = subprocess.run([sys.executable, SCRIPT, args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    result = json.loads(proc.stdout)
    assert set(result) == {'processes', 'container_runtimes', 'runs_containers', 'in_container', 'cgroups'}
    # this test's own process family is there (its main process; the script itself is a same-name child)
    assert result['processes'] and all(p['comm'] == own for p in result['processes'])
    for process in result['processes']:
        with open('/proc/%d/oom_score_adj' % process['pid']) as handle:
            assert int(handle.read()) == process['oom_score_adj']


def test_script_bad_arguments():
    proc = subprocess.run([sys.executable, SCRIPT, '!!not-base64'], stdout=subprocess.PIPE, check=False)
    assert proc.returncode == 2
    assert json.loads(proc.stdout)['failed'] is True
