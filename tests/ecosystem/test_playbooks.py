# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-playbook with nothing but the installed tarball on the collections path: both
playbooks by their FQCN, the action group in module_defaults, the role tags, the state file."""

from __future__ import annotations

import json
import os
import re

from conftest import BIN, SAMPLE_LOG_REL, TARGET_PYTHON, installed_collection, run, tool_env

LOCAL = ['-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=' + TARGET_PYTHON]
# The bundled sample log has seven OOM kills.
SAMPLE_KILLS = 7


def playbook(installed, *args, check=True, extra_env=None):
    return run([os.path.join(BIN, 'ansible-playbook')] + LOCAL + list(args), check=check,
               env=tool_env(installed, **(extra_env or {})))


def recap(out, host='localhost'):
    m = re.search(r'^%s\s+: (.*)$' % re.escape(host), out, re.M)
    assert m, out[-3000:]
    return {k: int(v) for k, v in re.findall(r'(\w+)=(\d+)', m.group(1))}


def write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def test_diagnose_playbook_from_the_installed_collection(installed, tmp_path):
    sample = os.path.join(installed_collection(installed), SAMPLE_LOG_REL)
    out = playbook(installed, 'oomkit.linux.diagnose', '-e', 'diagnosis_hosts=localhost',
                   '-e', json.dumps({'diagnosis_sources': ['files'], 'diagnosis_paths': [sample],
                                     'diagnosis_report_dir': str(tmp_path / 'report')})).stdout
    r = recap(out)
    assert r['failed'] == 0 and r['unreachable'] == 0
    with open(str(tmp_path / 'report' / 'report.json')) as f:
        report = json.load(f)
    assert report['summary']['events_total'] == SAMPLE_KILLS
    assert [h['status'] for h in report['hosts']] == ['ok']
    # the only oomkit.linux in sight is the installed copy
    listed = run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'list', 'oomkit.linux'],
                 env=tool_env(installed)).stdout
    assert re.findall(r'^# (.*)$', listed, re.M) == [os.path.join(installed, 'ansible_collections')], listed


def test_harden_playbook_in_check_mode_from_the_installed_collection(installed):
    out = playbook(installed, 'oomkit.linux.harden', '--check', '--diff', '-e', 'hardening_hosts=localhost',
                   '-e', 'hardening_sysctl_file=/etc/sysctl.d/90-oomkit-ecosystem-test.conf').stdout
    r = recap(out)
    assert r['failed'] == 0 and r['unreachable'] == 0
    assert 'would change:' in out and 'module runs:' in out
    assert not os.path.exists('/etc/sysctl.d/90-oomkit-ecosystem-test.conf')


def test_module_defaults_group(installed, tmp_path):
    """Options given once for group/oomkit.linux.oomkit reach the collection's modules."""
    sample = os.path.join(installed_collection(installed), SAMPLE_LOG_REL)
    play = write(tmp_path / 'group.yml', '''---
- name: Module defaults for the whole collection
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/oomkit.linux.oomkit:
      sources: [files]
      paths: [%s]
      gather_config: false
  tasks:
    - name: No options here, all of them come from the group defaults
      oomkit.linux.oom_facts:
      register: grouped
    - name: The sample log was read
      ansible.builtin.assert:
        that:
          - grouped.sources_used == ['files']
          - grouped.ansible_facts.oom.events | length == %d
          - grouped.ansible_facts.oom.config is none
''' % (json.dumps(sample), SAMPLE_KILLS))
    r = recap(playbook(installed, play).stdout)
    assert r['failed'] == 0 and r['ok'] == 2


def test_skip_tags_skips_the_cgroup_part(installed):
    listed = playbook(installed, 'oomkit.linux.harden', '--list-tasks', '--skip-tags', 'cgroups').stdout
    assert 'Set the OOM sysctls, live and persisted, in one call' in listed
    assert 'Set the memory limits of the cgroups' not in listed
    full = playbook(installed, 'oomkit.linux.harden', '--list-tags').stdout
    for tag in ('always', 'sysctl', 'services', 'units', 'processes', 'cgroups'):
        assert re.search(r'TASK TAGS: \[.*\b%s\b' % tag, full), (tag, full)
    diag = playbook(installed, 'oomkit.linux.diagnose', '--list-tags').stdout
    for tag in ('always', 'oom_facts', 'host_info', 'report'):
        assert re.search(r'TASK TAGS: \[.*\b%s\b' % tag, diag), (tag, diag)


def test_skip_tags_in_a_real_run(installed, tmp_path):
    """A check-mode run with a cgroup to create and --skip-tags cgroups: the cgroup task never runs,
    the rest of the plan does; --tags cgroups runs it (in check mode: nothing is created)."""
    cgroup = 'oomkit-ecosystem-%d' % os.getpid()
    extra = json.dumps({'hardening_hosts': 'localhost', 'hardening_cgroups': [{'path': cgroup, 'max': '64M'}],
                        'hardening_sysctl_file': '/etc/sysctl.d/90-oomkit-ecosystem-test.conf'})
    skipped = playbook(installed, 'oomkit.linux.harden', '--check', '-e', extra, '--skip-tags', 'cgroups').stdout
    assert recap(skipped)['failed'] == 0
    assert 'TASK [oomkit.linux.hardening : Set the memory limits of the cgroups]' not in skipped
    assert 'TASK [oomkit.linux.hardening : Set the OOM sysctls, live and persisted, in one call]' in skipped
    assert '0 cgroup(s)' in skipped
    only = playbook(installed, 'oomkit.linux.harden', '--check', '-e', extra, '--tags', 'cgroups').stdout
    assert recap(only)['failed'] == 0
    assert 'TASK [oomkit.linux.hardening : Set the memory limits of the cgroups]' in only
    assert 'TASK [oomkit.linux.hardening : Set the OOM sysctls, live and persisted, in one call]' not in only
    assert '0 sysctl(s)' in only and '1 cgroup(s)' in only
    assert not any(os.path.exists(os.path.join(base, cgroup))
                   for base in ('/sys/fs/cgroup', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/unified'))


def test_state_file_write_shows_as_changed(installed, tmp_path):
    """oom_facts with a state file: check mode predicts the write (changed) and writes nothing; the
    real run writes it and says changed."""
    sample = os.path.join(installed_collection(installed), SAMPLE_LOG_REL)
    state = tmp_path / 'state' / 'oom.state'
    play = write(tmp_path / 'state.yml', '''---
- name: Incremental read
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Read the sample log with a state file
      oomkit.linux.oom_facts:
        sources: [files]
        paths: [%s]
        state_file: %s
        gather_config: false
''' % (json.dumps(sample), json.dumps(str(state))))
    r = recap(playbook(installed, play, '--check').stdout)
    assert r['changed'] == 1 and not state.exists()
    r = recap(playbook(installed, play).stdout)
    assert r['changed'] == 1 and state.exists()
