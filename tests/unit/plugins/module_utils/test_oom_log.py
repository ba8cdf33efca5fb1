# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import gzip
import io
import os
import pickle
import random
import time

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils import oom_log
from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import (
    EVENT_FIELDS,
    EventCollector,
    OomParser,
    is_strict_ancestor,
    parse_lines,
    parse_text,
    parse_time_bound,
    scan_file,
    scan_stream,
    unwrap_line,
)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'oom_logs')


def fixture(name):
    with open(os.path.join(FIXTURES, name), 'rb') as f:
        return f.read()


def events_of(name, **kw):
    evs, summary = parse_text(fixture(name), source=name, **kw)
    return evs, summary


def brief(ev):
    return (ev['killed_pid'], ev['killed_comm'], ev['cause'])


# The kernel lines of the real 6.18 capture, used to build every wrapper format.
REPORT = [
    (205.060898, 'python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0'),
    (205.060938, 'CPU: 1 UID: 0 PID: 12039 Comm: python3 Not tainted 6.18.44-fc-v669 #1 PREEMPT(none)'),
    (205.064176, 'memory: usage 81920kB, limit 81920kB, failcnt 193'),
    (205.064186, 'memory+swap: usage 81920kB, limit 9007199254740988kB, failcnt 0'),
    (205.064187, 'Memory cgroup stats for /ceo_oomtest:'),
    (205.064227, 'cache 4096'),
    (205.064299, 'Tasks state (memory values in pages):'),
    (205.064300, '[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name'),
    (205.064350, '[  12039]     0 12039    22902    22038    20384     1654         0   225280        0             0 python3'),
    (205.064352, 'oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/ceo_oomtest,'
                 'task_memcg=/ceo_oomtest,task=python3,pid=12039,uid=0'),
    (205.064371, 'Memory cgroup out of memory: Killed process 12039 (python3) total-vm:91608kB, anon-rss:81536kB, '
                 'file-rss:6616kB, shmem-rss:0kB, UID:0 pgtables:220kB oom_score_adj:0'),
]

WRAPPERS = {
    'bare': lambda up, m: m,
    'dmesg': lambda up, m: '[%12.6f] %s' % (up, m),
    'dmesg-T': lambda up, m: '[Thu Nov 26 00:30:01 2026] %s' % m,
    'dmesg-T-de': lambda up, m: '[Do Nov 26 00:30:01 2026] %s' % m,
    'dmesg-T-fr': lambda up, m: '[jeu. nov. 26 00:30:01 2026] %s' % m,
    'dmesg-T-zh': lambda up, m: '[四 11月 26 00:30:01 2026] %s' % m,
    'dmesg-x': lambda up, m: 'kern  :err   : [%12.6f] %s' % (up, m),
    'dmesg-r': lambda up, m: '<3>[%12.6f] %s' % (up, m),
    'dmesg-iso': lambda up, m: '2026-11-26T00:30:01,123456+00:00 %s' % m,
    'syslog': lambda up, m: 'Nov 26 00:30:01 node1 kernel: [%12.6f] %s' % (up, m),
    'syslog-no-uptime': lambda up, m: 'Nov  6 00:30:01 node1 kernel: %s' % m,
    'syslog-precise': lambda up, m: 'Nov 26 00:30:01.123456 node1 kernel: %s' % m,
    'rfc3339': lambda up, m: '2026-11-26T00:30:01.123456+08:00 node1 kernel: [%12.6f] %s' % (up, m),
    'rfc3339-noup': lambda up, m: '2026-11-26T00:30:01+0800 node1 kernel: %s' % m,
    'rfc5424': lambda up, m: '<3>1 2026-11-26T00:30:01.1Z node1 kernel - - - %s' % m,
    'pipe': lambda up, m: 'warning|kernel[-]|[%12.6f] %s' % (up, m),
    'pipe-ts': lambda up, m: '2019-05-17T15:43:36.565426+08:00|warning|kernel[-]|[%12.6f] %s' % (up, m),
    'journal-short-monotonic': lambda up, m: '[%12.6f] node1 kernel: %s' % (up, m),
    'kmsg': lambda up, m: '3,%d,%d,-;%s' % (int(up * 1000) % 100000, int(up * 1e6), m),
    'journal-json': lambda up, m: ('{"_TRANSPORT":"kernel","MESSAGE":%s,"__REALTIME_TIMESTAMP":"1795000000000000",'
                                   '"_SOURCE_MONOTONIC_TIMESTAMP":"%d","_HOSTNAME":"node1","__CURSOR":"s=1"}'
                                   % (__import__('json').dumps(m), int(up * 1e6))),
    'kernel-prefix': lambda up, m: 'kernel: [%12.6f] %s' % (up, m),
}


@pytest.mark.parametrize('fmt', sorted(WRAPPERS))
def test_every_wrapper_yields_the_same_event(fmt):
    wrap = WRAPPERS[fmt]
    noise = {
        'syslog': 'Nov 26 00:30:01 node1 sshd[22]: Accepted publickey for root',
        'rfc3339': '2026-11-26T00:30:01.2+08:00 node1 systemd[1]: Started foo.',
        'pipe': 'info|systemd[1]|Started foo.',
        'journal-json': '{"_TRANSPORT":"syslog","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"Out of memory: Killed process 9 (x)"}',
    }.get(fmt)
    lines = []
    for i, (up, msg) in enumerate(REPORT):
        lines.append(wrap(up, msg))
        if noise and i == 3:
            lines.append(noise)
    evs, summary = parse_text('\n'.join(lines) + '\n', source=fmt)
    assert summary['total'] == 1, fmt
    ev = evs[0]
    assert brief(ev) == (12039, 'python3', 'cgroup_limit')
    assert ev['memcg'] == '/ceo_oomtest' and ev['task_memcg'] == '/ceo_oomtest'
    assert ev['memcg_limit_kb'] == 81920 and ev['memcg_usage_kb'] == 81920 and ev['failcnt'] == 193
    assert ev['memsw_limit_kb'] == 9007199254740988
    assert ev['invoker'] == 'python3' and ev['invoker_pid'] == 12039
    assert ev['gfp_mask'] == '0xcc0' and ev['gfp_flags'] == 'GFP_KERNEL' and ev['order'] == 0
    assert ev['total_vm_kb'] == 91608 and ev['anon_rss_kb'] == 81536 and ev['pgtables_kb'] == 220
    assert ev['killed_uid'] == 0 and ev['killed_oom_score_adj'] == 0
    assert ev['line'] == 1
    if fmt in ('dmesg', 'dmesg-x', 'dmesg-r', 'syslog', 'rfc3339', 'pipe', 'pipe-ts', 'journal-short-monotonic',
               'kmsg', 'journal-json', 'kernel-prefix'):
        assert ev['uptime'] == pytest.approx(205.060898, abs=1e-6)
    if fmt.startswith('dmesg-T') or fmt.startswith('syslog') or fmt.startswith('rfc') or fmt in ('pipe-ts', 'journal-json', 'dmesg-iso'):
        assert ev['time'] is not None, fmt
    if fmt in ('syslog', 'rfc3339', 'rfc5424', 'journal-json', 'journal-short-monotonic'):
        assert ev['host'] == 'node1'
    assert set(EVENT_FIELDS) <= set(ev)


def test_time_values_from_wrappers():
    w = unwrap_line('2026-11-26T00:30:01.5+08:00 h kernel: [ 1.000000] x')
    assert w.epoch == pytest.approx(1795624201.5 - 8 * 3600 - (1795624201 - 1795624201), abs=1) or w.epoch
    ref = parse_time_bound('2026-11-25T16:30:01.5Z')
    assert w.epoch == pytest.approx(ref)
    assert (w.program, w.host, w.uptime, w.msg) == ('kernel', 'h', 1.0, 'x')
    w = unwrap_line('[Thu Nov 26 00:30:01 2026] hello')
    assert time.localtime(w.epoch)[:6] == (2026, 11, 26, 0, 30, 1)
    w = unwrap_line('[jeu. déc. 3 08:15:00 2026] hello')
    assert time.localtime(w.epoch)[:6] == (2026, 12, 3, 8, 15, 0)
    w = unwrap_line('[四 11月 26 09:00:00 2026] hello')
    assert time.localtime(w.epoch)[:3] == (2026, 11, 26) and w.msg == 'hello'
    w = unwrap_line('[Пт мар 13 09:00:00 2026] hello')
    assert time.localtime(w.epoch)[:2] == (2026, 3)
    # classic syslog: year from the reference time, previous year for dates ahead of it
    ref_epoch = time.mktime((2026, 1, 2, 12, 0, 0, 0, 0, -1))
    w = unwrap_line('Dec 31 23:59:59 h kernel: x', ref_epoch)
    assert time.localtime(w.epoch)[:3] == (2025, 12, 31)
    w = unwrap_line('Jan  2 10:00:00 h kernel: x', ref_epoch)
    assert time.localtime(w.epoch)[:3] == (2026, 1, 2)


@pytest.mark.parametrize('line,program', [
    ('Nov 26 00:30:01 h earlyoom[812]: sending SIGTERM to process 4410: invoked oom-killer', 'earlyoom'),
    ('2026-11-26T00:30:01+00:00 h kubelet[9]: Out of memory: Killed process 1 (x)', 'kubelet'),
    ('info|systemd[1]|Killed process 1 (x)', 'systemd'),
    ('12,99,1000,-;Killed process 1 (x)', 'user'),
    ('<14>[ 1.000000] Killed process 1 (x)', 'user'),
    ('user  :warn  : [    1.000000] Killed process 1 (x)', 'user'),
    ('{"_TRANSPORT":"stdout","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"Killed process 1 (x)"}', 'kernel(stdout)'),
    ('<30>1 2026-11-26T00:30:01Z h containerd 700 - - Killed process 1 (x)', 'containerd'),
])
def test_userspace_programs_are_not_kernel(line, program):
    assert unwrap_line(line).program == program
    evs, summary = parse_text(line + '\n')
    assert summary['total'] == 0 and evs == []


def test_userspace_only_fixture_gives_no_events():
    evs, summary = events_of('userspace-only.log')
    assert summary['total'] == 0
    assert evs == []


def test_garbage_never_raises():
    data = b'\x00\xff\xfe garbage [ 1.2 invoked oom-killer \n' * 10 + bytes(range(256)) + b'\nKilled process x (\n'
    evs, summary = parse_text(data)
    assert isinstance(evs, list)
    w = unwrap_line('{"MESSAGE": [1, 2, 999]}')
    assert w.msg == '' or isinstance(w.msg, str)


# ---- kernel generations and the cause rules ----------------------------------------------------

def test_seed_memcg_and_parent_excerpts_pipe_format():
    evs, dummy = events_of('euleros-guide-pipe.log')
    assert [brief(e) for e in evs] == [(2021820, 'memhog', 'cgroup_limit'), (3238866, 'main', 'cgroup_limit')]
    for e in evs:
        assert e['memcg_limit_kb'] == 81920
        assert e['confidence'] == 'medium'
        assert any('cannot be told apart' in x for x in e['evidence'])
    assert evs[1]['time'] is not None and evs[0]['time'] is None
    assert evs[0]['uptime'] == pytest.approx(2919920.414131)


def test_seed_system_and_numa_excerpts():
    evs, dummy = events_of('euleros-guide-syslog.log')
    sysmem, numa = evs
    assert brief(sysmem) == (1822, 'main', 'system_memory')
    assert sysmem['nodes_below_min'] == [0]
    assert sysmem['invoker'] == 'main' and sysmem['gfp_flags'] == 'GFP_HIGHUSER_MOVABLE|__GFP_ZERO'
    assert sysmem['killed_oom_score_adj'] == 1000 and sysmem['extra']['global_oom'] is True
    # the guide's quirks: out-of-order timestamps and a different pid on the oom-kill: line
    assert brief(numa) == (1734, 'main', 'numa_node_or_policy')
    assert numa['nodemask'] == '1' and numa['mems_allowed'] == '0-1'
    assert numa['extra']['oom_kill_pid'] == 1733


def test_real_captures_from_this_kernel():
    evs, dummy = events_of('dmesg-6.18-memcg-v1-own-limit.log', include_tasks=True)
    assert [brief(e) for e in evs] == [(12039, 'python3', 'cgroup_limit')]
    assert evs[0]['tasks'][0]['pid'] == 12039 and evs[0]['tasks'][0]['name'] == 'python3'
    assert evs[0]['tasks'][0]['rss_anon'] == 20384
    evs, summary = events_of('dmesg-6.18-memcg-v1-parent-limit.log')
    assert [brief(e) for e in evs] == [(12672, 'python3', 'parent_cgroup_limit'), (12874, 'python3', 'cgroup_limit')]
    assert evs[0]['memcg'] == '/ceo_parent' and evs[0]['task_memcg'] == '/ceo_parent/c1'
    assert evs[0]['invoker_pid'] == 12874  # the invoker lives in c2, the victim in c1
    assert evs[1]['memcg'] == '/ceo_parent/c2' and evs[1]['line'] == 76
    assert 'tasks' not in evs[0]
    assert summary['by_cause'] == {'parent_cgroup_limit': 1, 'cgroup_limit': 1}


def test_kernel_2_6_wording():
    evs, dummy = events_of('kernel-2.6-rhel5-syslog.log')
    assert [brief(e) for e in evs] == [(4453, 'httpd', 'system_memory'), (5120, 'java', 'system_memory')]
    assert evs[0]['host'] == 'oldbox' and evs[0]['confidence'] == 'medium'
    assert evs[0]['nodes_below_min'] == [0]
    assert evs[1]['total_vm_kb'] == 8253440 and evs[1]['extra']['score'] == 913
    assert evs[1]['extra']['oom_adj'] == 0
    assert any('cannot be excluded' in x for x in evs[1]['evidence'])


def test_kernel_3_10_memcg_task_in_limit_of():
    evs, dummy = events_of('kernel-3.10-centos7-memcg.log')
    (ev,) = evs
    assert brief(ev) == (21875, 'java', 'parent_cgroup_limit')
    assert ev['memcg'] == '/kubepods/burstable/pod8d6c'
    assert ev['task_memcg'] == '/kubepods/burstable/pod8d6c/c2a5f1d3e4b5'
    assert ev['cpuset'] == 'c2a5f1d3e4b5' and ev['mems_allowed'] == '0'
    assert ev['gfp_mask'] == '0xd0' and ev['gfp_flags'] is None
    assert ev['killed_oom_score_adj'] == 999  # from the task table (no field on the kill line)
    assert ev['oom_score_adj'] == 999 and ev['memcg_limit_kb'] == 1048576


def test_kernel_4_14_fragmentation_and_reaper():
    evs, dummy = events_of('kernel-4.14-global-fragmentation.log')
    (ev,) = evs
    assert brief(ev) == (4410, 'mysqld', 'fragmentation')
    assert ev['order'] == 3 and ev['nodemask'] == '(null)' and ev['reaped'] is True
    assert ev['invoker'] == 'kworker/u16:2'
    assert any('free-area' in x for x in ev['evidence'])
    assert ev['killed_oom_score_adj'] == 300


def test_fragmentation_confirmed_by_free_areas():
    text = ('[1.0] a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=2, oom_score_adj=0\n'
            '[1.1] Node 0 Normal: 9*4kB (U) 7*8kB (U) 0*16kB 0*32kB 0*64kB = 92kB\n'
            '[1.2] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=b,pid=3,uid=0\n'
            '[1.3] Out of memory: Killed process 3 (b) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB\n')
    (ev,), dummy = parse_text(text)
    assert ev['cause'] == 'fragmentation' and ev['confidence'] == 'high'
    assert 'free-area lists show no free block of 16kB or larger' in ev['evidence']


def test_kernel_4_19_cpuset_dmesg_T():
    (ev,), dummy = events_of('kernel-4.19-cpuset-dmesg-T.log')
    assert brief(ev) == (7001, 'nginx', 'cpuset')
    assert ev['cpuset'] == 'webpool' and ev['killed_uid'] == 33 and ev['killed_oom_score_adj'] == 100
    assert ev['time'].startswith('2026-11-26') or ev['time']


def test_kernel_5_10_openeuler_rfc3339():
    (ev,), dummy = events_of('kernel-5.10-openeuler-rfc3339.log')
    assert brief(ev) == (88123, 'postgres', 'system_memory')
    assert ev['line'] == 2 and ev['host'] == 'euler-db-7' and ev['reaped'] is True
    assert ev['shmem_rss_kb'] == 65536 and ev['killed_uid'] == 26
    assert ev['time'] == oom_log._iso(parse_time_bound('2026-11-25T22:10:06.000001+08:00'))


def test_kernel_6_oom_group_and_cgroup2_swap_line():
    (ev,), dummy = events_of('kernel-6.x-cgroup2-oomgroup-journal-short.log')
    assert brief(ev) == (5121, 'stress-ng', 'parent_cgroup_limit')
    assert ev['oom_group'] is True
    assert ev['group_killed'] == [{'pid': 5120, 'comm': 'stress-ng'}, {'pid': 5119, 'comm': 'bash'}]
    assert ev['memsw_limit_kb'] == 0 and ev['memcg_limit_kb'] == 65536


def test_memcg_evidence_wins_over_constraint_none():
    text = ('[5.0] x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n'
            '[5.1] memory: usage 1024kB, limit 1024kB, failcnt 3\n'
            '[5.2] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/a,task_memcg=/a/b/c,task=x,pid=5,uid=0\n'
            '[5.3] Memory cgroup out of memory: Killed process 5 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB\n')
    (ev,), dummy = parse_text(text)
    assert ev['cause'] == 'parent_cgroup_limit'
    assert any('CONSTRAINT_NONE ignored' in x for x in ev['evidence'])


def test_lone_kill_lines_global_memcg_and_unknown():
    # the "Out of memory:" prefix alone is evidence of a global OOM (mm/oom_kill.c prints
    # "Memory cgroup out of memory" for a memcg); nothing else is known: low confidence
    (ev,), dummy = parse_text('[9.0] Out of memory: Killed process 42 (a) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n')
    assert brief(ev) == (42, 'a', 'system_memory') and ev['confidence'] == 'low'
    assert any('Out of memory' in x for x in ev['evidence']) and ev['evidence_lines'] == [1]
    (ev,), dummy = parse_text('[9.0] Killed process 44 (c) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n')
    assert brief(ev) == (44, 'c', 'unknown') and ev['confidence'] == 'low'
    (ev,), dummy = parse_text('[9.0] Memory cgroup out of memory: Killed process 43 (b) total-vm:1kB\n')
    assert brief(ev) == (43, 'b', 'cgroup_limit')


def test_no_killable_and_panic():
    text = ('[1.0] a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n'
            '[1.1] Out of memory and no killable processes...\n'
            '[1.2] Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled\n')
    (ev,), dummy = parse_text(text)
    assert ev['no_killable'] is True and ev['panic'] is True and ev['killed_pid'] is None
    assert ev['cause'] == 'system_memory'


def test_unknown_tokens_are_kept():
    text = ('[1.0] a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0, new_field=7\n'
            '[1.1] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,'
            'task_memcg=/,task=a,pid=3,uid=0,futurekey=abc\n'
            '[1.2] Out of memory: Killed process 3 (a) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, '
            'UID:0 pgtables:8kB oom_score_adj:0 swapents:12kB\n')
    (ev,), dummy = parse_text(text)
    assert ev['extra']['new_field'] == 7 and ev['extra']['futurekey'] == 'abc' and ev['extra']['swapents'] == 12


def test_comm_with_spaces_and_parentheses():
    text = ('[1.0] Web Content invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n'
            '[1.1] Out of memory: Killed process 77 (Web (Content)) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n')
    (ev,), dummy = parse_text(text)
    assert ev['invoker'] == 'Web Content' and ev['killed_comm'] == 'Web (Content)'


# ---- assembling: interleaving, truncation ---------------------------------------------------

def test_back_to_back_reports_are_not_swallowed():
    text = ('[1.0] a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n'
            '[1.1] memory: usage 10kB, limit 10kB, failcnt 1\n'
            # truncated: no kill line; the next report starts
            '[2.0] b invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=1, oom_score_adj=0\n'
            '[2.1] Out of memory: Killed process 9 (b) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n'
            '[3.0] Out of memory: Killed process 10 (c) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n')
    evs, summary = parse_text(text)
    assert summary['total'] == 3
    first, second, third = sorted(evs, key=lambda e: e['line'])
    assert first['invoker'] == 'a' and first['killed_pid'] is None and first['cause'] == 'cgroup_limit'
    assert any('truncated' in x for x in first['evidence'])
    assert second['invoker'] == 'b' and second['killed_pid'] == 9 and second['cause'] == 'fragmentation'
    assert third['invoker'] is None and third['killed_pid'] == 10 and third['cause'] == 'system_memory'
    assert third['confidence'] == 'low'


def test_two_hosts_interleaved_in_one_file():
    a = [l for l in fixture('kernel-5.10-openeuler-rfc3339.log').decode().splitlines() if 'kernel' in l]
    pre = '2026-11-25T22:10:06.00000%d+08:00 other-host kernel: [  99.00000%d] '
    b = [pre % (1, 1) + 'java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
         pre % (2, 2) + 'memory: usage 100kB, limit 100kB, failcnt 1',
         pre % (3, 3) + 'Memory cgroup out of memory: Killed process 5 (java) total-vm:1kB, anon-rss:1kB, file-rss:0kB']
    mixed = []
    for i in range(max(len(a), len(b))):
        if i < len(a):
            mixed.append(a[i])
        if i < len(b):
            mixed.append(b[i])
    evs, summary = parse_text('\n'.join(mixed) + '\n')
    got = sorted((e['host'], brief(e)) for e in evs)
    assert got == [('euler-db-7', (88123, 'postgres', 'system_memory')), ('other-host', (5, 'java', 'cgroup_limit'))]


def test_other_kernel_lines_interleave_inside_a_report():
    lines = []
    for up, msg in REPORT:
        lines.append('[%12.6f] %s' % (up, msg))
        lines.append('[%12.6f] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex' % up)
    (ev,), dummy = parse_text('\n'.join(lines) + '\n')
    assert brief(ev) == (12039, 'python3', 'cgroup_limit') and ev['memcg_limit_kb'] == 81920


def test_rsyslog_012_record():
    (ev,), dummy = events_of('rsyslog-012.log')
    assert brief(ev) == (12039, 'python3', 'cgroup_limit') and ev['host'] == 'esc-host'


def test_journal_export_kernel_transport_only():
    evs, dummy = events_of('journal-export.json')
    # the logger -t kernel forgery (_TRANSPORT=syslog) is not an event
    assert [brief(e) for e in evs] == [(12039, 'python3', 'cgroup_limit')]
    assert evs[0]['host'] == 'jhost' and evs[0]['invoker_pid'] == 12039  # byte-array MESSAGE decoded


@pytest.mark.parametrize('name', ['kmsg-raw.log', 'dmesg-x.log', 'dmesg-r.log', 'rfc5424.log'])
def test_other_wrapper_fixtures(name):
    evs, dummy = events_of(name)
    assert [brief(e) for e in evs] == [(12039, 'python3', 'cgroup_limit')]


def test_dmesg_T_localised_fixture():
    evs, dummy = events_of('dmesg-T-localised.log')
    assert sorted(brief(e) for e in evs) == [(77, 'main', 'system_memory'), (4242, 'java', 'cgroup_limit'),
                                             (12039, 'python3', 'cgroup_limit')]
    assert all(e['time'] for e in evs)


# ---- scanning: block boundaries, reference equivalence, gzip, parallel ----------------------

def _all_fixture_bytes():
    out = b''
    # the files at the top level; vm/ holds a test bed's own captures with their README
    for name in sorted(n for n in os.listdir(FIXTURES) if os.path.isfile(os.path.join(FIXTURES, n))):
        out += fixture(name)
        if not out.endswith(b'\n'):
            out += b'\n'
    return out


def _keyset(evs):
    return sorted((e['line'], e['killed_pid'], e['invoker'], e['cause'], e['memcg']) for e in evs)


@pytest.mark.parametrize('block', [64, 257, 1000, 4096, 1 << 20])
def test_block_size_does_not_change_the_result(block):
    data = _all_fixture_bytes()
    ref = [oom_log.public_event(e) for e in parse_lines(data.splitlines(True))]
    got = []
    parser = OomParser('text', got.append)
    nbytes, nlines, dummy = scan_stream(io.BytesIO(data), parser, block_size=block)
    parser.close()
    assert nbytes == len(data) and nlines == data.count(b'\n')
    assert _keyset(got) == _keyset(ref)
    assert len(got) > 20


def test_last_line_without_newline():
    data = b'[1.0] Out of memory: Killed process 1 (a) total-vm:1kB'
    evs, summary = parse_text(data)
    assert summary['total'] == 1 and evs[0]['killed_pid'] == 1


def test_gzip_and_plain_give_the_same_events(tmp_path):
    data = _all_fixture_bytes()
    plain = tmp_path / 'messages'
    plain.write_bytes(data)
    gz = tmp_path / 'messages.1.gz'
    with gzip.open(str(gz), 'wb') as f:
        f.write(data)
    res = []
    for p in (plain, gz):
        got = []
        parser = OomParser(str(p), got.append)
        nbytes, nlines, end = scan_file(str(p), parser)
        parser.close()
        assert nbytes == len(data) and end == len(data) and nlines == data.count(b'\n')
        res.append(_keyset(got))
    assert res[0] == res[1]


def test_parallel_scan_matches_sequential(tmp_path, monkeypatch):
    report = fixture('dmesg-6.18-memcg-v1-parent-limit.log')
    noise = b''.join(b'Nov 26 00:00:%02d h sshd[1]: noise line %d\n' % (i % 60, i) for i in range(3000))
    data = (noise + report) * 9 + noise
    path = tmp_path / 'big.log'
    path.write_bytes(data)
    monkeypatch.setattr(oom_log, 'PARALLEL_MIN_BYTES', 1)

    def run(workers):
        got = []
        parser = OomParser(str(path), got.append)
        nbytes, nlines, dummy = scan_file(str(path), parser, workers=workers, block_size=4096,
                                          parser_factory=lambda emit, st: OomParser(str(path), emit, stats=st))
        parser.close()
        return _keyset(got), nbytes, nlines

    seq = run(1)
    for w in (2, 3):
        assert run(w) == seq
    assert len(seq[0]) == 18 and seq[2] == data.count(b'\n')


def test_parallel_split_inside_a_report(tmp_path, monkeypatch):
    # one huge report (long task table) so that any split lands inside it
    rows = b''.join(b'[  205.1] [%7d]     0 %5d    22902    22038    20384     1654         0   225280        0             0 w\n'
                    % (i, i) for i in range(20000))
    head = b'[  205.0] python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n' \
           b'[  205.0] Tasks state (memory values in pages):\n' \
           b'[  205.0] [  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name\n'
    tail = b'[  205.2] Out of memory: Killed process 12039 (python3) total-vm:91608kB, anon-rss:81536kB\n'
    data = head + rows + tail
    path = tmp_path / 'one.log'
    path.write_bytes(data)
    monkeypatch.setattr(oom_log, 'PARALLEL_MIN_BYTES', 1)
    got = []
    parser = OomParser(str(path), got.append)
    scan_file(str(path), parser, workers=2, block_size=1 << 16,
              parser_factory=lambda emit, st: OomParser(str(path), emit, stats=st))
    parser.close()
    assert [(e['line'], e['killed_pid'], e['invoker']) for e in got] == [(1, 12039, 'python3')]


@pytest.mark.parametrize('size', [0, 1, 4095, 4096, 70000])
def test_count_newlines_agrees_with_count(size):
    rng = random.Random(size)
    data = bytearray(rng.choice(b'ab \n\r\x00\xff') for dummy in range(size))
    for start, end in ((0, size), (size // 3, size), (1, max(1, size - 7)), (size, size)):
        assert oom_log.count_newlines(data, start, end) == data.count(b'\n', start, end)
        assert oom_log.count_newlines(bytes(data), start, end) == data.count(b'\n', start, end)


def _hourly_reports(count):
    """``count`` copies of a real report, one per hour, each wrapped as an RFC 3339 syslog line."""
    report = fixture('dmesg-6.18-memcg-v1-parent-limit.log').splitlines(True)
    noise = b''.join(b'2026-11-26T00:00:00+00:00 h sshd[1]: noise line %d\n' % i for i in range(2000))
    out = []
    for hour in range(count):
        out.append(noise)
        out.extend(b'2026-11-26T%02d:00:00+00:00 h kernel: %s' % (hour, line) for line in report)
    return b''.join(out) + noise


@pytest.mark.parametrize('max_events,until', [(4, None), (4, '2026-11-26T08:30:00Z'), (30, None), (0, None)])
def test_parallel_fast_scan_returns_complete_events(tmp_path, monkeypatch, max_events, until):
    # the block scan defers the full parse of a report to the events returned; a worker must hand
    # back the raw report of every event that can be returned (newest N inside the window)
    path = tmp_path / 'messages'
    path.write_bytes(_hourly_reports(12))
    monkeypatch.setattr(oom_log, 'PARALLEL_MIN_BYTES', 1)

    def run(workers):
        coll = EventCollector(max_events=max_events, until=parse_time_bound(until) if until else None)
        parser = OomParser(str(path), coll.add)
        scan_file(str(path), parser, workers=workers, block_size=1 << 16,
                  keep_regions=coll.region_keeper,
                  parser_factory=lambda emit, st: OomParser(str(path), emit, stats=st))
        parser.close()
        return coll.events(), coll.total

    one, total = run(1)
    two, total_two = run(2)
    # two kills per copy of the report: the parent's limit, then the child's own
    assert total == total_two == (18 if until else 24)
    assert len(one) == min(max_events, total)
    assert two == one
    for ev in two:
        assert ev['cause'] in ('parent_cgroup_limit', 'cgroup_limit')
        # invoker_pid and memsw_* come from lines only the deferred full parse reads
        assert ev['invoker_pid'] and ev['memsw_limit_kb'] and ev['task_memcg']


def _many_reports(count):
    """``count`` real reports, one a minute, with a little noise: the parent-limit report (two kills)
    and the own-limit one in turn, each copy with its own process and cgroup names, so that events
    differ in their strings and in the fields they have."""
    reports = [fixture('dmesg-6.18-memcg-v1-parent-limit.log').splitlines(True)[20:],
               fixture('dmesg-6.18-memcg-v1-own-limit.log').splitlines(True)]
    out = []
    for n in range(count):
        stamp = b'2026-11-26T%02d:%02d:00+00:00 h ' % divmod(n, 60)
        out.extend(stamp + b'sshd[1]: noise %d\n' % i for i in range(20))
        out.extend(stamp + b'kernel: ' + line.replace(b'python3', b'app%d' % n).replace(b'ceo_', b'team%d_' % n)
                   for line in reports[n % 2])
    return b''.join(out)


@pytest.mark.parametrize('max_events', [None, 7])
def test_parallel_scan_of_many_reports_equals_sequential(tmp_path, monkeypatch, max_events):
    # the workers spool their events one by one: every one of them comes back, complete
    path = tmp_path / 'messages'
    path.write_bytes(_many_reports(150))
    monkeypatch.setattr(oom_log, 'PARALLEL_MIN_BYTES', 1)

    def run(workers):
        coll = EventCollector(max_events=max_events)
        parser = OomParser(str(path), coll.add)
        nbytes, nlines, dummy = scan_file(str(path), parser, workers=workers, block_size=1 << 16,
                                          keep_regions=coll.region_keeper,
                                          parser_factory=lambda emit, st: OomParser(str(path), emit, stats=st))
        parser.close()
        return coll.events(), coll.summary(), nbytes, nlines

    one = run(1)
    assert one[1]['total'] == 225 and len(one[0]) == (max_events or 225)
    for workers in (2, 3):
        assert run(workers) == one


def test_spool_gives_back_each_event_as_written(tmp_path):
    # records pickled one by one, of different shapes and with objects shared inside a record
    path = tmp_path / 'a'
    shared = 'shared-%d'
    records = []
    for n in range(50):
        name = shared % n
        ev = {'first': [n] * (n % 3), 'source': name, 'sources': [name]} if n % 2 else \
            {'other': {'k%d' % n: (n,)}, 'extra': {}, 'source': name, 'sources': [name], 'evidence': [name, name]}
        records.append(ev)
    with open(str(path), 'w+b') as spool:
        for ev in records:
            pickle.dump(ev, spool, protocol=pickle.HIGHEST_PROTOCOL)
        spool.seek(0)
        back = list(oom_log._spooled(spool, [{'open': True}]))
    assert back == [(ev, True) for ev in records] + [({'open': True}, False)]


def test_parallel_scan_survives_a_failing_child_and_a_missing_tmpdir(tmp_path, monkeypatch):
    path = tmp_path / 'messages'
    path.write_bytes(_many_reports(30))
    monkeypatch.setattr(oom_log, 'PARALLEL_MIN_BYTES', 1)
    parent = os.getpid()
    real = oom_log._scan_range

    def child_fails(*args, **kwargs):
        if os.getpid() != parent:
            raise MemoryError('child killed')
        return real(*args, **kwargs)

    def run(workers):
        got = []
        parser = OomParser(str(path), got.append)
        scan_file(str(path), parser, workers=workers, block_size=1 << 16,
                  parser_factory=lambda emit, st: OomParser(str(path), emit, stats=st))
        parser.close()
        return _keyset(got)

    sequential = run(1)
    monkeypatch.setattr(oom_log, '_scan_range', child_fails)
    assert run(2) == sequential and len(sequential) == 45
    monkeypatch.setattr(oom_log, '_scan_range', real)

    def no_tmpdir():
        raise OSError(30, 'Read-only file system')
    # without a temporary file for a worker, one process reads the whole file
    monkeypatch.setattr(oom_log.tempfile, 'TemporaryFile', no_tmpdir)
    assert run(2) == sequential


def test_region_keeper_keeps_the_newest_inside_the_window():
    keep = EventCollector(max_events=2, since=100.0, until=300.0).region_keeper()
    events = [{'_epoch': ep, '_region': b'r%d' % i} for i, ep in enumerate([50.0, 250.0, None, 150.0, 400.0, 200.0])]
    for ev in events:
        keep(ev)
    assert [i for i, ev in enumerate(events) if '_region' in ev] == [1, 5]
    for settings, kept in (({}, [0, 1, 2]), ({'max_events': 0}, [])):
        keep = EventCollector(**settings).region_keeper()
        events = [{'_epoch': None, '_region': b'x'} for dummy in range(3)]
        for ev in events:
            keep(ev)
        assert [i for i, ev in enumerate(events) if '_region' in ev] == kept


# ---- collecting: de-dup, time filters, max_events, summary ----------------------------------

def _collect(*named, **kw):
    coll = EventCollector(**kw)
    for name, data in named:
        parser = OomParser(name, coll.add)
        scan_stream(io.BytesIO(data), parser)
        parser.close()
    return coll


def test_same_kernel_event_in_journal_and_messages_is_one():
    coll = _collect(('journal', fixture('journal-export.json')),
                    ('/var/log/messages', fixture('journal-same-event-messages.log')))
    evs = coll.events()
    assert coll.total == 1 and coll.duplicates == 1
    assert evs[0]['sources'] == ['journal', '/var/log/messages']


def test_identical_lines_at_different_times_are_two_events():
    line = 'Memory cgroup out of memory: Killed process 5 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB'
    a = ('Nov 26 00:30:01 h kernel: %s\n' % line).encode()
    b = ('Nov 26 01:30:01 h kernel: %s\n' % line).encode()
    coll = _collect(('f1', a + b), ('f2', b))
    assert coll.total == 2 and coll.duplicates == 1


def test_since_until_and_max_events_newest_kept():
    lines = []
    for h in range(10):
        lines.append('2026-11-26T%02d:00:00+00:00 h kernel: Out of memory: Killed process %d (p%d) total-vm:1kB' % (h, h + 100, h % 3))
    data = ('\n'.join(lines) + '\n').encode()
    since = parse_time_bound('2026-11-26T02:00:00Z')
    until = parse_time_bound('2026-11-26T08:30:00Z')
    coll = _collect(('f', data), since=since, until=until, max_events=3)
    summary = coll.summary()
    evs = coll.events()
    assert summary['total'] == 7 and summary['filtered_by_time'] == 3 and summary['returned'] == 3
    assert [e['killed_pid'] for e in evs] == [106, 107, 108]
    assert summary['first'].startswith('2026-11-26T02:00:00') or parse_time_bound(summary['first']) == since
    assert summary['by_killed_process'] == {'p0': 2, 'p1': 2, 'p2': 3}
    assert {'type': 'process', 'name': 'p2', 'count': 3} in summary['repeat_offenders']
    assert summary['by_cause'] == {'system_memory': 7}


def test_max_events_zero_still_counts():
    coll = _collect(('f', fixture('dmesg-6.18-memcg-v1-parent-limit.log')), max_events=0)
    assert coll.events() == [] and coll.summary()['total'] == 2
    assert coll.summary()['by_cgroup'] == {'/ceo_parent': 1, '/ceo_parent/c2': 1}


@pytest.mark.parametrize('value,delta', [('7d', 7 * 86400), ('12h', 12 * 3600), ('30m', 1800), ('90s', 90),
                                         ('2w', 14 * 86400), ('1.5h', 5400)])
def test_relative_time_bounds(value, delta):
    assert parse_time_bound(value, now=1000000.0) == pytest.approx(1000000.0 - delta)


def test_absolute_time_bounds():
    assert parse_time_bound('2026-11-26T00:00:00Z') == 1795651200.0
    assert parse_time_bound('2026-11-26T08:00:00+08:00') == 1795651200.0
    assert parse_time_bound('1795651200') == 1795651200.0
    assert parse_time_bound('@1795651200') == 1795651200.0
    assert parse_time_bound(None) is None
    with pytest.raises(ValueError):
        parse_time_bound('last tuesday-ish')


@pytest.mark.parametrize('parent,child,expected', [
    ('/a', '/a/b', True), ('/a', '/a', False), ('/a', '/ab', False), ('/', '/a', True),
    ('/a/', '/a/b/c', True), (None, '/a', False), ('/a/b', '/a', False),
])
def test_is_strict_ancestor(parent, child, expected):
    assert is_strict_ancestor(parent, child) is expected


# ---- the block scan: report starts and kill lines found by search, the report read by keyword ----

def _scan(data, block=1 << 20):
    got = []
    parser = OomParser('x', got.append)
    nbytes, nlines, dummy = scan_stream(io.BytesIO(data), parser, block_size=block)
    parser.close()
    assert nbytes == len(data) and nlines == data.count(b'\n')
    return got


def test_block_scan_report_start_in_the_previous_block():
    # the report starts in one block and its kill line is in the next: found through the look-back
    noise = b''.join(b'Nov 26 00:00:00 h sshd[1]: noise %05d\n' % i for i in range(400))
    report = fixture('dmesg-6.18-memcg-v1-own-limit.log')
    data = noise + report + noise
    for block in (4096, 5000, 7777):
        evs = _scan(data, block)
        assert [(e['line'], e['killed_pid'], e['invoker'], e['memcg']) for e in evs] == [(401, 12039, 'python3', '/ceo_oomtest')]


def test_block_scan_report_cut_at_the_end_and_panic_without_kill_line():
    cut = (b'[ 10.0] a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n'
           b'[ 10.1] memory: usage 10kB, limit 10kB, failcnt 1\n')
    panic = (b'[ 5.0] b invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n'
             b'[ 5.1] Out of memory and no killable processes...\n'
             b'[ 5.2] Kernel panic - not syncing: System is deadlocked on memory\n')
    noise = b'[ 6.0] eth0: link up\n' * 50
    evs = _scan(panic + noise + cut, 4096)
    got = sorted((e['line'], e['invoker'], e['panic'], e['no_killable'], e['cause']) for e in evs)
    assert got == [(1, 'b', True, True, 'system_memory'), (54, 'a', False, False, 'cgroup_limit')]


def test_block_scan_ignores_userspace_report_starts():
    data = (b'Nov 26 00:30:01 h kernel: [1.0] x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n'
            b'Nov 26 00:30:01 h logger[9]: y invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n'
            b'Nov 26 00:30:01 h2 kernel: [1.0] z invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n'
            b'Nov 26 00:30:01 h kernel: [1.1] Out of memory: Killed process 5 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n')
    evs = [e for e in _scan(data, 4096) if e['host'] == 'h']
    assert [(e['line'], e['invoker'], e['killed_pid']) for e in evs] == [(1, 'x', 5)]


@pytest.mark.parametrize('block', [4096, 1 << 20])
def test_block_scan_events_are_completed_to_the_content_of_the_line_by_line_parse(block):
    """A report read by keyword keeps its raw text and is parsed in full when returned: every field
    as the line-by-line reference (every line fed) gives it."""
    data = _all_fixture_bytes()
    coll = EventCollector()
    parser = OomParser('x', coll.add, include_tasks=True)
    scan_stream(io.BytesIO(data), parser, block_size=block)
    parser.close()
    scanned = coll.events()
    assert not any('_region' in e for e in scanned)
    reference = EventCollector()
    for ev in parse_lines(data.splitlines(True), source='x', include_tasks=True):
        reference.add(ev)
    full = dict((e['line'], e) for e in reference.events())
    fast = dict((e['line'], e) for e in scanned)
    assert sorted(full) == sorted(fast) and len(full) > 20
    for line, ev in full.items():
        other = fast[line]
        diff = {k for k in ev if ev[k] != other.get(k)}
        assert not diff, (line, {k: (ev[k], other.get(k)) for k in diff})


def _count_unwraps(monkeypatch):
    seen = []
    real = oom_log._unwrap

    def spy(line, ref_epoch):
        seen.append(line)
        return real(line, ref_epoch)
    monkeypatch.setattr(oom_log, '_unwrap', spy)
    return seen


REPORT_H = (b'Nov 26 00:30:01 h kernel: [1.0] x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n'
            b'Nov 26 00:30:01 h kernel: [1.0] CPU: 1 PID: 5 Comm: x Not tainted 6.6.0 #1\n'
            b'Nov 26 00:30:01 h kernel: [1.1] Out of memory: Killed process 5 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n'
            b'Nov 26 00:30:01 h kernel: [1.1] oom_reaper: reaped process 5 (x), now anon-rss:0kB, file-rss:0kB\n')


@pytest.mark.parametrize('block', [4096, 1 << 20])
def test_block_scan_reads_the_report_start_once_and_not_the_noise_after_the_kill_line(monkeypatch, block):
    noise = b''.join(b'Nov 26 00:30:02 h sshd[%d]: Disconnected from user deploy 10.0.0.%d\n' % (i, i) for i in range(8))
    data = noise + REPORT_H + noise
    ref = parse_lines(data.splitlines(True))
    seen = _count_unwraps(monkeypatch)
    evs = _scan(data, block)
    assert _keyset(evs) == _keyset(ref)
    assert [(e['line'], e['invoker'], e['killed_pid'], e['reaped']) for e in evs] == [(9, 'x', 5, True)]
    # the look-back's unwrap of the "invoked" line is reused by the region feed (it is not even
    # unwrapped in full when the line before it has the same head)
    assert sum(1 for line in seen if 'invoked oom' in line) <= 1
    # the tail after the kill line passes the window filter: the userspace noise is not unwrapped
    assert not any('sshd' in line for line in seen)


def test_window_filter_knows_journal_byte_array_messages():
    assert oom_log._interesting(b'{"_TRANSPORT": "kernel", "MESSAGE": [67, 80, 85]}')
    assert oom_log._interesting(b'{"_TRANSPORT":"kernel","MESSAGE":[67,80,85]}')
    assert not oom_log._interesting(b'{"_TRANSPORT": "kernel", "MESSAGE": "eth0: link up"}')


def test_every_line_a_short_report_is_read_for_passes_the_window_filter():
    """A short report is read by its light keywords; the line-by-line reference reads what the window
    filter lets through. A light keyword the filter lacks made the two differ ("Mem-Info:", evidence of a
    global OOM, was read by the one and not the other)."""
    for keyword in oom_log._LIGHT_KEYWORDS:
        if keyword == b'not syncing':
            # acted on only as a panic on OOM (_is_terminal), whose lines carry a memory word
            for line in (b'Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled',
                         b'Kernel panic - not syncing: System is deadlocked on memory',
                         b'Kernel panic - not syncing: out of memory. panic_on_oom is selected'):
                assert oom_log._interesting(line), line
            continue
        assert oom_log._interesting(b'[ 5.000000] ' + keyword), keyword


def test_another_record_of_the_same_microsecond_is_not_part_of_the_invoked_line():
    # /proc/kmsg readers (rsyslog imklog) print the parts of a record that a newline in the
    # invoker's comm split with the record's stamp on each; the first part is at most a comm
    # (15 bytes, TASK_COMM_LEN).  A whole other record with the same stamp stays apart.
    stamp = b'Nov 18 11:08:44 h kernel: [ 1124.070000] '
    rest = (b' invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n' +
            stamp + b'Memory cgroup out of memory: Killed process 7 (java) total-vm:10kB, anon-rss:5kB, '
            b'file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n')
    other = stamp + b'cni0: port 1(veth1) entered forwarding state\n' + stamp + b'java' + rest
    split = stamp + b'ab\n' + stamp + b'cd' + rest
    for data, invoker in ((other, 'java'), (split, 'ab\ncd')):
        evs, summary = parse_text(data)
        ref = parse_lines(data.splitlines())
        assert summary['total'] == 1 and len(ref) == 1
        assert evs[0]['invoker'] == ref[0]['invoker'] == invoker
        assert evs[0]['killed_pid'] == 7


@pytest.mark.parametrize('with_libc', [True, False])
def test_needle_search_finds_what_find_finds_and_leaves_the_buffer_as_it_was(with_libc, monkeypatch):
    if not with_libc:
        monkeypatch.setattr(oom_log, '_STRSTR', [None])
    elif oom_log._strstr_call() is None:  # pylint: disable=protected-access
        pytest.skip('no libc strstr here')
    rng = random.Random(5)
    needles = [n for n, _kind in oom_log.OPEN_NEEDLES] + [oom_log.U_NEEDLE]
    alphabet = [b'a', b' ', b'\n', b'oom', b'-kill:', b'voked oom', b'SIG', b'\x00', b'oom.group', b'oom_reaper',
                b'as a result of limit', b'Out of memory and', b'\xff']
    for _round in range(300):
        data = b''.join(rng.choice(alphabet) for _i in range(rng.randint(0, 60)))
        buf = bytearray(data + b'Z')  # the spare byte the scan keeps after its data
        lo = rng.randint(0, len(data))
        stop = rng.randint(lo, len(data))
        got = oom_log._needle_offsets(buf, needles, lo, stop)  # pylint: disable=protected-access
        want = []
        for needle in needles:
            want.append([i for i in range(lo, stop) if data.startswith(needle, i) and i + len(needle) <= stop])
        assert got == want, (data, lo, stop)
        assert bytes(buf) == data + b'Z'


def test_a_line_unwrapped_after_the_head_of_the_line_before_is_unwrapped_in_full():
    # every consecutive pair of lines of every fixture (and of the pipelines' real outputs):
    # unwrap_after_head(b, head_of(a)) is unwrap_line(b) or None
    slots = ('msg', 'program', 'host', 'uptime', 'epoch', 'cursor', 'fmt')
    compared = 0
    for root, _dirs, files in os.walk(os.path.join(FIXTURES, '..')):
        for name in files:
            if not name.endswith(('.log', '.txt', '.out')):
                continue
            with open(os.path.join(root, name), 'rb') as f:
                lines = f.read().decode('utf-8', 'replace').splitlines()
            for a, b in zip(lines, lines[1:]):
                head = oom_log.head_of(a, unwrap_line(a))
                if head is None:
                    continue
                got = oom_log.unwrap_after_head(b, head)
                if got is None:
                    continue
                want = unwrap_line(b)
                assert [getattr(got, k) for k in slots] == [getattr(want, k) for k in slots], (name, a, b)
                compared += 1
    assert compared > 500
