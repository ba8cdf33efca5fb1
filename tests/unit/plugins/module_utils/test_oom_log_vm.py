# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parser on real logs of a QEMU guest (Debian 12, kernel 6.1, cgroup v2, 2 NUMA nodes).

The fixtures were captured by the vm_oom molecule scenario (see fixtures/oom_logs/vm/README.md):
one real kill of each cause, written by the journal, the kernel ring buffer, rsyslog's kern.log
and syslog, rsyslog with the EulerOS/HCE pipe template, and the serial console of a panic.
"""
from __future__ import annotations

import os

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import parse_text

VM = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'oom_logs', 'vm')

# (victim pid, comm, cause, constraint, memcg, task_memcg) of each kill, in log order. The parent
# limit kills both children: the first is the parent-limit kill, the second hit its own 80M.
KILLS = [
    (422, 'python3', 'cgroup_limit', 'CONSTRAINT_MEMCG', '/system.slice/oom-own.service', '/system.slice/oom-own.service'),
    (440, 'python3', 'parent_cgroup_limit', 'CONSTRAINT_MEMCG', '/oomtest.slice', '/oomtest.slice/oom-parent1.service'),
    (443, 'python3', 'cgroup_limit', 'CONSTRAINT_MEMCG', '/oomtest.slice/oom-parent2.service',
     '/oomtest.slice/oom-parent2.service'),
    (447, 'python3', 'numa_node_or_policy', 'CONSTRAINT_MEMORY_POLICY', None, '/system.slice/oom-numa.service'),
    (450, 'python3', 'cpuset', 'CONSTRAINT_CPUSET', None, '/system.slice/oom-cpuset.service'),
    (455, 'python3', 'cgroup_limit', 'CONSTRAINT_MEMCG', '/oomkit-group', '/oomkit-group'),
    (458, 'python3', 'system_memory', 'CONSTRAINT_NONE', None, '/system.slice/oom-global.service'),
]

SOURCES = ['dmesg.txt', 'journalctl-k.json', 'kern.log', 'syslog', 'messages-euleros-pipe.log',
           'console-panic_on_oom.txt']


def events(name):
    with open(os.path.join(VM, name), 'rb') as f:
        evs, summary = parse_text(f.read(), source=name)
    return evs, summary


def kills(evs):
    """The events that carry an oom-kill: line (the group kill's further kill lines carry none)."""
    return [(e['killed_pid'], e['killed_comm'], e['cause'], e['constraint'], e['memcg'], e['task_memcg'])
            for e in evs if e['constraint']]


@pytest.mark.parametrize('name', SOURCES)
def test_every_cause_from_every_source(name):
    evs, dummy = events(name)
    assert kills(evs) == KILLS


@pytest.mark.parametrize('name', SOURCES)
def test_numa_and_cpuset_details(name):
    evs, dummy = events(name)
    numa = [e for e in evs if e['constraint'] == 'CONSTRAINT_MEMORY_POLICY'][0]
    assert numa['nodemask'] == '1' and numa['mems_allowed'] == '0-1'
    cpuset = [e for e in evs if e['constraint'] == 'CONSTRAINT_CPUSET'][0]
    assert cpuset['cpuset'] == 'oom-cpuset.service' and cpuset['mems_allowed'] == '1'


def test_panic_on_oom_from_the_serial_console():
    evs, dummy = events('console-panic_on_oom.txt')
    last = evs[-1]
    # "Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled": no victim
    assert last['panic'] and last['cause'] == 'system_memory' and last['killed_pid'] is None
    assert [e for e in evs if e['panic']] == [last]


@pytest.mark.parametrize('name', SOURCES)
def test_group_kill(name):
    evs, dummy = events(name)
    group = [e for e in evs if e['memcg'] == '/oomkit-group']
    assert len(group) == 1 and group[0]['oom_group']
    assert [k['comm'] for k in group[0]['group_killed']] == ['sleep']
    assert len([e for e in evs if e['cause'] == 'cgroup_limit']) == 3


def test_journal_short_precise_without_hostname():
    # journalctl -k -b -o short-precise --no-hostname: "Dec 02 09:55:41.965232 kernel: msg"
    evs, dummy = events('journalctl-k-short-precise.txt')
    assert kills(evs) == KILLS
    assert all(e['host'] is None and e['time'] and e['time'].startswith('20') for e in evs)
    assert all(e['uptime'] is None for e in evs)
