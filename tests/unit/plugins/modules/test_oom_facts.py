# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.oomkit.linux.plugins.module_utils import oom_log, oom_sources
from ansible_collections.oomkit.linux.plugins.modules import oom_facts

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'oom_logs')


def run_module(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            oom_facts.main()
    out = json.loads(capsys.readouterr().out)
    return exc.value.code, out


def test_files_source_returns_facts(capsys):
    rc, out = run_module({'sources': ['files'], 'paths': [os.path.join(FIXTURES, 'dmesg-6.18-*.log')],
                          'enrich': False}, capsys)
    assert rc == 0 and out['changed'] is False
    oom = out['ansible_facts']['oom']
    assert set(oom) == {'events', 'userspace_events', 'summary', 'config', 'sources'}
    assert [(e['killed_pid'], e['cause']) for e in oom['events']] == [
        (12039, 'cgroup_limit'), (12672, 'parent_cgroup_limit'), (12874, 'cgroup_limit')] or \
        sorted((e['killed_pid'], e['cause']) for e in oom['events']) == [
            (12039, 'cgroup_limit'), (12672, 'parent_cgroup_limit'), (12874, 'cgroup_limit')]
    assert oom['summary']['total'] == 3
    assert oom['config']['sysctl'].get('vm.panic_on_oom') is not None
    assert len(oom['sources']) == 2 and all(s['status'] == 'ok' for s in oom['sources'])
    assert out['sources_used'] == ['files'] and out['state_written'] is False
    # no private keys leak
    assert not any(k.startswith('_') for e in oom['events'] for k in e)


def test_paths_with_auto_means_files_and_max_events(capsys):
    rc, out = run_module({'paths': [os.path.join(FIXTURES, 'dmesg-6.18-memcg-v1-parent-limit.log')],
                          'max_events': 1, 'gather_config': False}, capsys)
    oom = out['ansible_facts']['oom']
    assert out['sources_used'] == ['files']
    assert [e['killed_pid'] for e in oom['events']] == [12874]
    assert oom['summary']['total'] == 2 and oom['config'] is None


def test_check_mode_does_not_write_state(tmp_path, capsys):
    state = tmp_path / 's.json'
    args = {'sources': ['files'], 'paths': [os.path.join(FIXTURES, 'kmsg-raw.log')], 'state_file': str(state),
            '_ansible_check_mode': True}
    rc, out = run_module(args, capsys)
    assert rc == 0 and not state.exists() and out['state_written'] is False
    assert out['ansible_facts']['oom']['summary']['total'] == 1
    args['_ansible_check_mode'] = False
    rc, out = run_module(args, capsys)
    assert state.exists() and out['state_written'] is True
    rc, out = run_module(args, capsys)
    assert out['ansible_facts']['oom']['summary']['total'] == 0


def test_bad_since_fails_cleanly(capsys):
    rc, out = run_module({'sources': ['files'], 'paths': ['/nonexistent'], 'since': 'whenever'}, capsys)
    assert rc == 1 and out['failed'] is True and 'cannot read time' in out['msg']


def test_garbage_file_never_fails(tmp_path, capsys):
    p = tmp_path / 'garbage.log'
    p.write_bytes(os.urandom(200000) + b'\n[1.0] Killed process 5 (x\n\xff\xfe invoked oom-killer: \n')
    rc, out = run_module({'sources': ['files'], 'paths': [str(p)]}, capsys)
    assert rc == 0
    assert out['ansible_facts']['oom']['sources'][0]['status'] == 'ok'


def test_negative_max_events_rejected(capsys):
    rc, out = run_module({'sources': ['files'], 'paths': ['/x'], 'max_events': -1}, capsys)
    assert rc == 1 and 'max_events' in out['msg']


@pytest.mark.parametrize('thorough', [False, True])
def test_thorough_is_a_no_op_and_workers_reach_the_scan(tmp_path, monkeypatch, capsys, thorough):
    # a file split in two
    monkeypatch.setattr(oom_log, 'PARALLEL_MIN_BYTES', 1)
    monkeypatch.setattr(oom_sources, 'PARALLEL_MIN_BYTES', 1)
    with open(os.path.join(FIXTURES, 'dmesg-6.18-memcg-v1-own-limit.log'), 'rb') as f:
        report = f.read()
    cut = report[:report.index(b'Tasks state')]          # the kill line never got logged
    noise = b''.join(b'[  300.%06d] eth0: link up\n' % i for i in range(3000))
    log = tmp_path / 'kern.log'
    log.write_bytes(cut + noise + report + noise)
    rc, out = run_module({'sources': ['files'], 'paths': [str(log)], 'thorough': thorough, 'workers': 2,
                          'gather_config': False, 'enrich': False}, capsys)
    assert rc == 0
    oom = out['ansible_facts']['oom']
    assert oom['sources'][0]['workers'] == 2
    # thorough is a no-op: the report cut before its kill line is found either way
    assert [e['killed_pid'] for e in oom['events']] == [None, 12039]


def test_defaults_one_worker_low_priority(tmp_path, monkeypatch, capsys):
    # a file large enough to split: still one process unless workers asks for more
    monkeypatch.setattr(oom_log, 'PARALLEL_MIN_BYTES', 1)
    monkeypatch.setattr(oom_sources, 'PARALLEL_MIN_BYTES', 1)
    log = tmp_path / 'kern.log'
    with open(os.path.join(FIXTURES, 'dmesg-6.18-memcg-v1-own-limit.log'), 'rb') as f:
        log.write_bytes(f.read())
    rc, out = run_module({'sources': ['files'], 'paths': [str(log)], 'gather_config': False, 'enrich': False}, capsys)
    assert rc == 0
    assert out['ansible_facts']['oom']['sources'][0]['workers'] == 1
    assert out['priority']['requested'] == 'low' and 'nice' in out['priority']['applied']
    rc, out = run_module({'sources': ['files'], 'paths': [str(log)], 'gather_config': False, 'enrich': False,
                          'priority': 'normal'}, capsys)
    assert rc == 0 and out['priority'] == {'requested': 'normal', 'applied': [], 'messages': []}


def test_bad_thorough_is_rejected(capsys):
    rc, out = run_module({'sources': ['files'], 'paths': ['/x'], 'thorough': 'sometimes'}, capsys)
    assert rc == 1 and 'thorough' in out['msg']


def test_state_file_write_is_a_change(tmp_path, capsys):
    """Writing state_file is the module's one change: changed follows it, check mode predicts it."""
    state = tmp_path / 'state.json'
    args = {'sources': ['files'], 'paths': [os.path.join(FIXTURES, 'kmsg-raw.log')], 'state_file': str(state),
            '_ansible_check_mode': True}
    rc, out = run_module(args, capsys)
    assert rc == 0 and out['changed'] is True and out['state_written'] is False and not state.exists()
    args['_ansible_check_mode'] = False
    rc, out = run_module(args, capsys)
    assert rc == 0 and out['changed'] is True and out['state_written'] is True and state.exists()
    # without a state file nothing is written, in either mode
    del args['state_file']
    for check in (True, False):
        args['_ansible_check_mode'] = check
        rc, out = run_module(args, capsys)
        assert rc == 0 and out['changed'] is False and out['state_written'] is False
