# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ssh trap in the fleet report: session processes of a critical service carrying a negative oom_score_adj.

The values are those read in a VM (extensions/molecule/vm_modules/tasks/ssh_trap.yml): with OOMScoreAdjust=-900
on ssh.service and sshd restarted, the listener is at -1000 (OpenSSH sets it itself) and each connection's
sshd at -900. The same rule runs in that VM on the real probe while the trap is set.
"""

from __future__ import annotations

import datetime
import json
import os

import pytest

from ansible_collections.oomkit.linux.plugins.plugin_utils import oom_findings as F
from ansible_collections.oomkit.linux.plugins.plugin_utils import oom_report as R
from ansible_collections.oomkit.linux.plugins.plugin_utils import oom_report_hosts as H

NOW = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=datetime.timezone.utc)
COLLECTION = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
SCHEMA_FILE = os.path.join(COLLECTION, 'roles', 'diagnosis', 'files', 'report.schema.json')


def facts():
    return {'changed': False, 'ansible_facts': {'oom': {
        'config': {'kernel': '6.1.0', 'sysctl': {'vm.panic_on_oom': 0, 'vm.oom_dump_tasks': 1}, 'cgroup_version': 'v2',
                   'vmstat_oom_kill': 0, 'cgroups_with_oom': []},
        'summary': {'total': 0}, 'events': [], 'sources': []}}}


def host_info(session_score, session_comm='sshd', listener=-1000):
    return {'changed': False, 'runtime_processes': [], 'runs_containers': False,
            'container': {'in_container': False, 'runtime': None, 'evidence': []}, 'cgroups': {},
            'processes': [
                {'selector': {'name': 'sshd'}, 'processes': [
                    {'pid': 326, 'ppid': 1, 'comm': 'sshd', 'oom_score_adj': listener},                # the listener
                    {'pid': 345, 'ppid': 326, 'comm': session_comm, 'oom_score_adj': session_score},  # root@notty
                    {'pid': 351, 'ppid': 326, 'comm': session_comm, 'oom_score_adj': session_score}]},
                {'selector': {'name': 'systemd-journal'}, 'processes': [
                    {'pid': 210, 'ppid': 1, 'comm': 'systemd-journal', 'oom_score_adj': -900}]}]}


def sessions_findings(report):
    return [f for f in report['findings'] if f['rule'] == 'session_inherits_protection']


def test_sessions_with_an_inherited_negative_score_are_flagged():
    report = R.build_report(['vm'], [facts()], [host_info(-900)], now=NOW)
    (finding,) = sessions_findings(report)
    assert finding['severity'] == 'high' and finding['hosts'] == ['vm']
    assert finding['subject'] == 'sshd' and finding['subject_type'] == 'process'
    assert finding['title'] == 'login sessions of sshd inherit a negative oom_score_adj'
    assert finding['detail'].startswith('2 session process(es) sshd run with oom_score_adj -900:')
    assert finding['evidence'] == ['sshd (pid 345, parent 326) oom_score_adj=-900',
                                   'sshd (pid 351, parent 326) oom_score_adj=-900']
    assert 'systemd_oom state=absent' in finding['recommendation']
    host = report['hosts'][0]
    assert host['protected_sessions'] == [{'pid': 345, 'comm': 'sshd', 'ppid': 326, 'oom_score_adj': -900},
                                          {'pid': 351, 'comm': 'sshd', 'ppid': 326, 'oom_score_adj': -900}]
    # the services are the listener and journald; the sessions are not services
    assert [p['pid'] for p in host['critical_processes']] == [210, 326]
    assert not [f for f in report['findings'] if f['rule'] == 'critical_unprotected']
    assert {'id': finding['id'], 'rule': 'session_inherits_protection', 'severity': 'high'} in host['findings']


def test_sessions_at_zero_are_not_flagged_and_not_kept():
    report = R.build_report(['vm'], [facts()], [host_info(0)], now=NOW)
    assert sessions_findings(report) == []
    assert report['hosts'][0]['protected_sessions'] == []
    assert H.probe_data(host_info(0))['protected_sessions'] == []


def test_openssh_9_8_sessions_are_named_sshd_session():
    """OpenSSH 9.8 and later run each connection as sshd-session under the listener."""
    report = R.build_report(['vm'], [facts()], [host_info(-900, session_comm='sshd-session')], now=NOW)
    (finding,) = sessions_findings(report)
    assert finding['subject'] == 'sshd-session'
    assert [p['comm'] for p in report['hosts'][0]['critical_processes']] == ['systemd-journal', 'sshd']


def test_an_unprotected_listener_with_protected_sessions_gives_both_findings():
    """A live write to every process named sshd (a host without systemd) reaches the sessions too."""
    report = R.build_report(['vm'], [facts()], [host_info(-500, listener=0)], now=NOW)
    assert [f['rule'] for f in report['findings']] == ['session_inherits_protection', 'critical_unprotected']
    # the advice for sshd never leads into the trap the other finding reports
    (unprotected,) = [f for f in report['findings'] if f['rule'] == 'critical_unprotected']
    assert unprotected['subject'] == 'sshd'
    assert 'sets its listener to -1000 when it starts' in unprotected['detail']
    assert unprotected['recommendation'].startswith('Do not give sshd a negative OOMScoreAdjust=')
    assert 'systemd_oom' not in unprotected['recommendation']


def test_other_critical_services_are_advised_a_negative_score():
    info = host_info(0)
    info['processes'][1]['processes'][0]['oom_score_adj'] = 0
    report = R.build_report(['vm'], [facts()], [info], now=NOW)
    (unprotected,) = [f for f in report['findings'] if f['rule'] == 'critical_unprotected']
    assert unprotected['subject'] == 'systemd-journal'
    assert unprotected['recommendation'].startswith('Give it a negative OOMScoreAdjust= (oomkit.linux.systemd_oom')


def test_a_killed_sshd_is_not_advised_the_trap():
    killed = facts()
    killed['ansible_facts']['oom']['events'] = [{
        'id': 'e1', 'source': '/var/log/messages', 'line': 7, 'time': '2026-12-02T11:00:00+00:00', 'cause': 'system_memory',
        'killed_comm': 'sshd', 'killed_pid': 326}]
    killed['ansible_facts']['oom']['summary'] = {'total': 1}
    report = R.build_report(['vm'], [killed], [host_info(0)], now=NOW)
    (finding,) = [f for f in report['findings'] if f['rule'] == 'critical_process_killed']
    assert finding['subject'] == 'sshd'
    assert finding['recommendation'].startswith('Do not give sshd a negative OOMScoreAdjust=')


def test_the_trap_has_one_home_and_the_hardening_defaults_leave_it_out():
    from ansible_collections.oomkit.linux.plugins.plugin_utils import oom_proposal as P
    from ansible_collections.oomkit.linux.plugins.plugin_utils import oom_report_common as C
    assert P.SSH_TRAP is C.SSH_TRAP and F.SSH_TRAP is C.SSH_TRAP
    assert C.SSH_TRAP in R.DEFAULT_OPTIONS['critical_processes']  # the report checks it ...
    assert C.SSH_TRAP not in P.role_defaults()['protected']  # ... the role does not protect it


def test_one_finding_for_the_fleet():
    report = R.build_report(['vm1', 'vm2', 'vm3'], [facts(), facts(), facts()],
                            [host_info(-900), host_info(0), host_info(-1000)], now=NOW)
    (finding,) = sessions_findings(report)
    assert finding['hosts'] == ['vm1', 'vm3'] and finding['hosts_count'] == 2
    assert finding['title'] == 'login sessions of sshd inherit a negative oom_score_adj, on 2 hosts'
    assert 'vm3: sshd (pid 345, parent 326) oom_score_adj=-1000' in finding['evidence']


def test_the_rule_has_its_one_home_and_the_renderers_show_it():
    assert F.RULES['session_inherits_protection'] == 'process'
    report = R.build_report(['vm'], [facts()], [host_info(-900)], now=NOW)
    assert 'login sessions of sshd inherit a negative oom\\_score\\_adj' in R.render(report, 'markdown')
    assert 'oomkit_diagnosis_rule_hosts{rule="session_inherits_protection"} 1' in R.render(report, 'prometheus')
    assert 'session_inherits_protection' in R.render(report, 'html')


def test_the_sessions_survive_a_sliced_run_and_its_merge():
    parts = [R.build_report([name], [facts()], [info], now=NOW, partial=R.partial_mark('run-1', '%d/2' % (i + 1)))
             for i, (name, info) in enumerate((('vm1', host_info(-900)), ('vm2', host_info(0))))]
    merged = R.merge_reports(parts, now=NOW)
    whole = R.build_report(['vm1', 'vm2'], [facts(), facts()], [host_info(-900), host_info(0)], now=NOW)
    assert sessions_findings(merged) == sessions_findings(whole)
    assert merged['hosts'] == whole['hosts']


def test_the_report_validates_against_the_published_schema():
    jsonschema = pytest.importorskip('jsonschema')
    with open(SCHEMA_FILE) as handle:
        validator = jsonschema.Draft202012Validator(json.load(handle))
    report = json.loads(R.render_json(R.build_report(['vm'], [facts()], [host_info(-900)], now=NOW)))
    assert not [e.message for e in validator.iter_errors(report)]
    report['hosts'][0]['protected_sessions'][0]['oom_score_adj'] = 0     # a session at 0 is never listed
    assert list(validator.iter_errors(report))
    del report['hosts'][0]['protected_sessions']
    assert list(validator.iter_errors(report))
