# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One report per kernel version, built from that version's printk formats (fixtures/oom_kernels,
each file names its kernel files and version; docs/oom-events.md has the table).

fixtures/oom_kernels/MANIFEST.json has, per fixture, the kernel version whose sources were read, where
(repository and commit), the files, and every printk format the fixture uses (pr_cont pieces joined
into the line they print).  Every line of a fixture must be one of its version's formats."""

from __future__ import annotations

import json
import os
import re

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import CAUSES, parse_lines, parse_text

KERNELS = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'oom_kernels')
with open(os.path.join(KERNELS, 'MANIFEST.json'), encoding='utf-8') as _f:
    MANIFEST = json.load(_f)

# file: (killed_pid, killed_comm, cause, confidence, other fields that must hold)
EXPECTED = {
    'linux-2.6.32.log': (4242, 'java', 'system_memory', 'medium',
                         {'invoker': 'java', 'gfp_mask': '0x201da', 'nodes_below_min': [0], 'cpuset': '/'}),
    'linux-2.6.32-rhel6.log': (7001, 'httpd', 'cgroup_limit', 'high',
                               {'killed_uid': 48, 'memcg': '/web', 'task_memcg': '/web', 'memcg_limit_kb': 524288,
                                'total_vm_kb': 393216}),
    'linux-3.10.log': (9001, 'python', 'parent_cgroup_limit', 'high',
                       {'memcg': '/batch', 'task_memcg': '/batch/job7', 'invoker_pid': 9001,
                        'killed_oom_score_adj': 0, 'failcnt': 3921}),
    'linux-4.4.log': (1500, 'mysqld', 'system_memory', 'medium', {'gfp_flags': None, 'anon_rss_kb': 1920048}),
    'linux-4.9.log': (2200, 'node', 'cgroup_limit', 'high',
                      {'gfp_flags': 'GFP_KERNEL', 'reaped': True, 'shmem_rss_kb': 0, 'memsw_limit_kb': 524288,
                       'killed_oom_score_adj': 998, 'cpuset': 'c3a1', 'nodemask': '0'}),
    'linux-4.14.log': (4410, 'mysqld', 'fragmentation', 'medium',
                       {'order': 2, 'nodemask': '(null)', 'reaped': True, 'killed_oom_score_adj': 300}),
    'linux-4.19.log': (3100, 'stress', 'parent_cgroup_limit', 'high',
                       {'oom_group': True, 'group_killed': [{'pid': 3101, 'comm': 'stress'}], 'reaped': True,
                        'nodemask': '(null)'}),
    # openEuler's 4.19: the 5.0 oom-kill: summary without the memcg part, the 4.19 kill lines
    'linux-4.19-openeuler.log': (4190, 'java', 'system_memory', 'high',
                                 {'constraint': 'CONSTRAINT_NONE', 'mems_allowed': '0-1', 'killed_uid': 1001,
                                  'memcg': None, 'task_memcg': None, 'reaped': True}),
    'linux-5.4.log': (5400, 'ruby', 'cgroup_limit', 'high',
                      {'constraint': 'CONSTRAINT_MEMCG', 'killed_uid': 999, 'memcg': '/app.slice/web.service',
                       'pgtables_kb': 440, 'killed_oom_score_adj': 0}),
    'linux-5.10.log': (88123, 'postgres', 'system_memory', 'high',
                       {'constraint': 'CONSTRAINT_NONE', 'pgtables_kb': 15528, 'nodes_below_min': [0],
                        'task_memcg': '/system.slice/postgresql.service'}),
    'linux-5.15.log': (5121, 'stress-ng', 'parent_cgroup_limit', 'high',
                       {'oom_group': True, 'memsw_limit_kb': 0,
                        'group_killed': [{'pid': 5120, 'comm': 'stress-ng'}, {'pid': 5119, 'comm': 'bash'}]}),
    'linux-6.1.log': (6101, 'firefox', 'manual', 'high', {'sysrq': True, 'order': -1}),
    'linux-6.6.log': (None, None, 'cgroup_limit', 'medium', {'no_killable': True, 'panic': False,
                                                             'memcg_limit_kb': 10240}),
    'linux-6.12.log': (None, None, 'system_memory', 'medium', {'no_killable': True, 'panic': True,
                                                               'invoker_pid': 1212}),
}


def test_every_kernel_fixture_is_listed():
    assert sorted(EXPECTED) == sorted(n for n in os.listdir(KERNELS) if n.endswith('.log')) == sorted(MANIFEST)


_SPEC = re.compile(r'%(%|pGg|\*pbl|[-#0 +]*\d*(?:\.(?:\d+|\*))?(?:hh|h|ll|l|z)?[diuxXsc])')


def printk_regex(fmt):
    """A regular expression for the lines a printk format prints."""
    out = []
    pos = 0
    for m in _SPEC.finditer(fmt):
        out.append(re.escape(fmt[pos:m.start()]))
        pos = m.end()
        spec = m.group(1)
        conv = spec[-1]
        if spec == '%':
            out.append('%')
        elif spec == 'pGg':
            out.append(r'[A-Za-z0-9_|]*')      # gfp flag names
        elif spec == '*pbl':
            out.append(r'(?:\(null\)|[0-9,-]*)')  # a node list
        elif conv in 'di':
            out.append(r' *-?\d+')
        elif conv == 'u':
            out.append(r' *\d+')
        elif conv in 'xX':
            out.append(r'(?:0x)?[0-9a-fA-F]+' if '#' not in spec else r'0x[0-9a-fA-F]+')
        elif conv == 'c':
            out.append('.')
        else:
            out.append('.*?')
    out.append(re.escape(fmt[pos:]))
    return re.compile(''.join(out), re.S)


_STAMP = re.compile(r'^\[ *\d+\.\d{6}\] ')


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_every_line_is_a_printk_format_of_its_version(name):
    entry = MANIFEST[name]
    with open(os.path.join(KERNELS, name), encoding='utf-8') as f:
        header, body = f.readline(), f.read().splitlines()
    # the header names the version read, where, and every file
    assert entry['read'] in header and entry['source'] in header
    assert all(path in header for path in entry['files'])
    regexes = [(fmt, printk_regex(fmt)) for fmt in entry['formats']]
    used = set()
    for line in body:
        m = _STAMP.match(line)
        assert m, line
        msg = line[m.end():]
        hits = [fmt for fmt, rx in regexes if rx.fullmatch(msg)]
        assert hits, (name, msg)
        used.update(hits)
    # and every format listed is printed by the fixture
    assert used == set(entry['formats']), set(entry['formats']) - used


def test_printk_regex_is_strict():
    rx = printk_regex('%s: Killed process %d (%s) total-vm:%lukB, UID:%u pgtables:%lukB oom_score_adj:%hd')
    assert rx.fullmatch('Out of memory: Killed process 5 (a b) total-vm:1kB, UID:0 pgtables:4kB oom_score_adj:-1000')
    assert not rx.fullmatch('Out of memory: Killed process 5 (a b) total-vm:1kB, UID:0')
    assert not rx.fullmatch('Out of memory: Killed process x (a) total-vm:1kB, UID:0 pgtables:4kB oom_score_adj:0')
    assert printk_regex('[%5d] %s').fullmatch('[  512] udevd')
    assert printk_regex('gfp_mask=%#x(%pGg), nodemask=%*pbl').fullmatch('gfp_mask=0xcc0(GFP_KERNEL), nodemask=0-1')


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_one_event_per_kernel_version(name):
    with open(os.path.join(KERNELS, name), 'rb') as f:
        data = f.read()
    header = data.split(b'\n', 1)[0].decode()
    assert header.startswith('# synthesized from the printk formats of ') and 'mm/' in header
    evs, summary = parse_text(data, source=name)
    pid, comm, cause, confidence, fields = EXPECTED[name]
    assert len(evs) == 1 and summary['total'] == 1, evs
    ev = evs[0]
    assert (ev['killed_pid'], ev['killed_comm'], ev['cause'], ev['confidence']) == (pid, comm, cause, confidence), \
        ev['evidence']
    for key, value in fields.items():
        assert ev[key] == value, (key, ev[key])
    assert ev['cause'] in CAUSES and ev['evidence'] and ev['evidence_lines']
    # the event starts at the invoked line (the line after the header; after the sysrq line on 6.1)
    start = 3 if name == 'linux-6.1.log' else 2
    assert ev['line'] == start and all(start <= n <= data.count(b'\n') for n in ev['evidence_lines'])
    # the line-by-line reference reads the same event
    (ref,) = parse_lines(data.splitlines())
    assert (ref['killed_pid'], ref['cause']) == (pid, cause)


# every line that opens an event when none is open, alone (the rest of its report lost)
ORPHANS = [
    ('[1.0] python invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
     {'invoker': 'python', 'killed_pid': None, 'cause': 'unknown'}),
    ('[1.0] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/a,'
     'task_memcg=/a/b,task=x,pid=5,uid=0', {'killed_pid': 5, 'cause': 'parent_cgroup_limit'}),
    ('[1.0] Task in /a/b killed as a result of limit of /a', {'killed_pid': None, 'cause': 'parent_cgroup_limit'}),
    ('[1.0] Memory cgroup out of memory: Kill process 7 (x) score 900 or sacrifice child',
     {'killed_pid': 7, 'cause': 'cgroup_limit'}),
    ('[1.0] Out of memory: Kill process 7 (x) score 900 or sacrifice child', {'killed_pid': 7, 'cause': 'system_memory'}),
    ('[1.0] Killed process 8 (y) total-vm:1kB, anon-rss:1kB, file-rss:0kB', {'killed_pid': 8, 'cause': 'unknown'}),
    ('[1.0] Killed process 9, UID 48, (httpd) total-vm:1kB, anon-rss:1kB, file-rss:0kB',
     {'killed_pid': 9, 'killed_uid': 48, 'killed_comm': 'httpd'}),
    ('[1.0] Killed process 10 (java)', {'killed_pid': 10, 'killed_comm': 'java'}),
    ('[1.0] Out of memory and no killable processes...', {'no_killable': True, 'killed_pid': None}),
    ('[1.0] Kernel panic - not syncing: Out of memory and no killable processes...',
     {'panic': True, 'no_killable': True, 'cause': 'system_memory'}),
    ('[1.0] Kernel panic - not syncing: System is deadlocked on memory', {'panic': True, 'cause': 'system_memory'}),
    ('[1.0] Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled',
     {'panic': True, 'cause': 'system_memory'}),
    # 2.6.32 mm/oom_kill.c out_of_memory(): panic_on_oom, lower case
    ('[1.0] Kernel panic - not syncing: out of memory. panic_on_oom is selected',
     {'panic': True, 'cause': 'system_memory'}),
    # openEuler 4.19 mm/oom_kill.c (CONFIG_ASCEND_OOM, vm.enable_oom_killer=2)
    ('[1.0] Kernel panic - not syncing: Out of memory, panic by sysctl_enable_oom_killer',
     {'panic': True, 'cause': 'system_memory'}),
    ('[1.0] Tasks in /k8s/pod are going to be killed due to memory.oom.group set', {'oom_group': True}),
    ('[1.0] oom_reaper: reaped process 11 (z), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB',
     {'killed_pid': 11, 'reaped': True, 'cause': 'unknown'}),
]


@pytest.mark.parametrize('line,fields', ORPHANS, ids=[o[0][6:40] for o in ORPHANS])
def test_each_orphan_line_opens_one_event(line, fields):
    evs, dummy = parse_text(line + '\n' + '[2.0] eth0: link up\n')
    assert len(evs) == 1
    for key, value in fields.items():
        assert evs[0][key] == value, (key, evs[0][key], evs[0]['evidence'])
    (ref,) = parse_lines([line.encode()])
    assert ref['killed_pid'] == evs[0]['killed_pid']


def test_group_line_then_kills_is_one_event_and_a_late_reaper_opens_none():
    text = ('[1.0] Tasks in /k8s/pod are going to be killed due to memory.oom.group set\n'
            '[1.0] Memory cgroup out of memory: Killed process 20 (a) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n'
            '[1.0] Memory cgroup out of memory: Killed process 21 (b) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n'
            '[1.1] oom_reaper: reaped process 21 (b), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB\n'
            '[5.0] x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n'
            '[5.0] Out of memory: Killed process 30 (c) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n'
            # the reaper of the earlier victim 20, late: part of the finished event, not a new one
            '[5.2] oom_reaper: reaped process 20 (a), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB\n')
    evs, summary = parse_text(text)
    assert [(e['killed_pid'], e['oom_group']) for e in evs] == [(20, True), (30, False)]
    assert evs[0]['group_killed'] == [{'pid': 21, 'comm': 'b'}] and evs[0]['cause'] == 'cgroup_limit'
    assert summary['total'] == 2


def test_identical_kill_lines_seconds_apart_are_not_a_group():
    text = ('[1.0] Tasks in /k8s/pod are going to be killed due to memory.oom.group set\n'
            '[1.0] Memory cgroup out of memory: Killed process 20 (a) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n'
            '[60.0] Memory cgroup out of memory: Killed process 21 (a) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n')
    evs, dummy = parse_text(text)
    assert [(e['killed_pid'], e['group_killed']) for e in evs] == [(20, None), (21, None)]
