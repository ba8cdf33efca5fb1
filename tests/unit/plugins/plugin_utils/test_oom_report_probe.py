# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the fleet report reads the diagnosis role's oom_host_info result (the probe field mapping)."""

from __future__ import annotations

import os
import subprocess

from ansible_collections.oomkit.linux.plugins.module_utils.host_info import gather
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostFS
from ansible_collections.oomkit.linux.plugins.module_utils.processes import default_run_command
from ansible_collections.oomkit.linux.plugins.plugin_utils import oom_report as R
from ansible_collections.oomkit.linux.plugins.plugin_utils import oom_report_hosts as H


def facts():
    return {'changed': False, 'ansible_facts': {'oom': {
        'config': {'kernel': '6.18.0', 'sysctl': {'vm.panic_on_oom': 2}, 'cgroup_version': 'hybrid', 'vmstat_oom_kill': 0,
                   'cgroups_with_oom': []},
        'summary': {'total': 0}, 'events': [], 'sources': []}}}


def host_info(**overrides):
    result = {'changed': False, 'runtime_processes': [], 'runs_containers': False,
              'container': {'in_container': False, 'runtime': None, 'evidence': []}, 'processes': [], 'cgroups': {}}
    result.update(overrides)
    return result


def test_services_sessions_runtimes_and_cgroups():
    info = host_info(
        runtime_processes=['kubelet', 'containerd'], runs_containers=True,
        container={'in_container': True, 'runtime': 'podman', 'evidence': []},
        processes=[{'selector': {'name': 'sshd'}, 'processes': [
            {'pid': 500, 'ppid': 1, 'comm': 'sshd', 'oom_score_adj': 0},
            {'pid': 900, 'ppid': 500, 'comm': 'sshd', 'oom_score_adj': 0}]},       # a login session
            {'selector': {'name': 'systemd-journal'}, 'processes': [
                {'pid': 400, 'ppid': 1, 'comm': 'systemd-journal', 'oom_score_adj': -250}]},
            {'selector': {'name': 'rsyslogd'}, 'processes': []}],
        cgroups={'/batch': {'exists': True, 'usage_kb': 1046528, 'limit_kb': 1048576},
                 '/gone': {'exists': False, 'usage_kb': None, 'limit_kb': None},
                 '/../etc': {'exists': False, 'error': "contains '..'", 'usage_kb': None}})
    data = H.probe_data(info)
    assert data == {'processes': [{'pid': 400, 'comm': 'systemd-journal', 'ppid': 1, 'oom_score_adj': -250},
                                  {'pid': 500, 'comm': 'sshd', 'ppid': 1, 'oom_score_adj': 0}],
                    'protected_sessions': [],   # the session runs at 0: nothing inherited
                    'container_runtimes': ['containerd', 'kubelet'], 'runs_containers': True, 'in_container': True,
                    'cgroups': {'/batch': {'usage_kb': 1046528, 'limit_kb': 1048576}}, 'systemd_running': None}
    report = R.build_report(['h'], [facts()], [info])
    host = report['hosts'][0]
    assert host['container_runtimes'] == ['containerd', 'kubelet'] and host['in_container'] is True
    assert [f['rule'] for f in report['findings'] if f['rule'] == 'critical_unprotected'] == ['critical_unprotected']


def test_failed_skipped_and_missing_probe():
    failed = H.probe_data({'failed': True, 'msg': 'processes #1: bad'})
    assert failed == {'failed': True, 'msg': 'processes #1: bad'}
    assert H.probe_data({'skipped': True, 'changed': False}) == {'skipped': True, 'changed': False}
    assert H.probe_data(None) is None
    report = R.build_report(['h'], [facts()], [{'skipped': True}])
    assert report['hosts'][0]['status'] == 'ok' and report['hosts'][0]['container_runtimes'] == []


def test_a_process_that_is_its_own_parent_is_kept():
    info = host_info(processes=[{'selector': {'name': 'init'}, 'processes': [
        {'pid': 1, 'ppid': 1, 'comm': 'init', 'oom_score_adj': 0}]}])
    assert [p['pid'] for p in H.probe_data(info)['processes']] == [1]


def test_mapping_of_a_real_run_on_this_machine():
    """host_info.gather on this machine (as the module runs it), then the report's mapping."""
    sleeper = subprocess.Popen(['sleep', '60'])
    try:
        info = gather(HostFS('/'), default_run_command,
                      {'processes': [{'pid': sleeper.pid}], 'cgroups': ['/'], 'units': [], 'sysctls': []})
        data = H.probe_data(info)
        assert data['processes'] == [{'pid': sleeper.pid, 'comm': 'sleep', 'ppid': os.getpid(),
                                      'oom_score_adj': int(open('/proc/%d/oom_score_adj' % sleeper.pid).read())}]
        assert data['runs_containers'] is bool(info['runtime_processes'])
        if info['cgroup']['memory_version'] == 'v1':
            assert data['cgroups']['/']['usage_kb'] > 0
    finally:
        sleeper.kill()
        sleeper.wait()
